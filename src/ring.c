/* SPDX-License-Identifier: MIT */
/*
 * ring.c -- the single-producer single-consumer ring. Knows nothing of the
 * operating system: everything it needs from it is in os.h.
 *
 * Index and wake protocol (labels used in comments below; docs/protocol.md
 * argues each one and tests/model/ checks them).
 *
 *   P1 producer  store-release head     publishes the slot bytes written
 *                                       before it
 *   C1 consumer  load-acquire  head     pairs with P1: slot bytes visible
 *   C2 consumer  store-release tail     the slot may be reused after this
 *   P0 producer  load-acquire  tail     pairs with C2: reuse only after the
 *                                       consumer's reads of the slot
 *
 *   Sleeping is a store-buffer pattern: each side stores, then loads what
 *   the other side stores, and release/acquire cannot order that.
 *   W1 waker     store index (P1/C2) or state; FENCE_W; load the peer's
 *                sleeping flag; if set, signal the peer's wake object
 *   S1 sleeper   store own sleeping=1; FENCE_S; load the peer's state and
 *                index; sleep only if there is still nothing to do
 *   With FENCE_W and FENCE_S both seq_cst fences, C11 forbids both loads
 *   missing the other side's store: the sleeper sees the work, or the
 *   waker sees the flag and signals. The wake object is an auto-reset
 *   event, so a signal sent before the sleeper waits is not lost.
 *
 *   Asymmetric fences: a full fence per message would halve small-message
 *   throughput (it stalls on the slot line's cache miss), so where the OS
 *   has a heavy barrier (os_barrier_init) FENCE_W is a compiler barrier
 *   only, and FENCE_S adds os_barrier_heavy(), a full barrier on every CPU
 *   running a registered process, the waker included: either the waker's
 *   flag load came before that barrier, and its index store, earlier in
 *   program order, is visible to the sleeper's re-check; or the load came
 *   after it and sees the flag. A waker does this only when it is
 *   registered and the sleeper announced SR_CAP_HEAVY_BARRIER; otherwise
 *   both fences are full. The cost moves to the sleep path, which makes a
 *   system call anyway. A sleeper announces it only while many messages
 *   pass between its sleeps (sr_fence_policy): in a ping-pong the barrier
 *   would cost more than the peer's fences.
 *
 *   Each side caches the peer's index (r->peer) and re-reads it only when
 *   the cache says full (producer) or empty (consumer), so in a stream the
 *   peer's line is read once per batch, not once per message.
 *
 * The peer is untrusted: every index, length and state read from the
 * segment is read once into a local and checked against the handle's
 * private geometry; an inconsistency is SHMRING_EBADFMT on that call and
 * leaves the ring as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "layout.h"
#include "os.h"
#include "shmring.h"

#define SR_SIDE_PROD      0u
#define SR_SIDE_CONS      1u
#define SR_NOTREADY       SHMRING_EAGAIN /* sr_poll: peer fine, nothing to do yet */
#define SR_SLEEP_SLICE_MS 50             /* re-check peer liveness this often */
#define SR_LIVE_CHECK_NS  20000000u /* at most one liveness probe per 20 ms */
#define SR_MAX_SEG_SIZE   (UINT64_C(1) << 36)
#define SR_ATTACH_TRIES   16
#define SR_SPIN_BATCH     64 /* polls between two clock reads when spinning */
#define SR_CREATE_TRIES   8
#define SR_HEAVY_MIN_MSGS 64   /* msgs per sleep worth a heavy barrier */
#define SR_PREFETCH_MAX   4096 /* bytes of the next slot taken ahead */

/* Keeps the waiting path out of the callers' inline fast path. */
#if defined(__GNUC__)
#define SR_NOINLINE __attribute__((noinline))
#else
#define SR_NOINLINE
#endif

/* Geometry: computed from a config or a header, then private to a handle. */
struct sr_geom {
	uint32_t slot_size;
	uint32_t slot_count;
	uint32_t stride;
	uint32_t flags;
	uint64_t seg_size;
};

struct shmring {
	/* hot: private copies, never re-read from the segment */
	uint8_t *slots;
	uint64_t pos;  /* producer: next index to write; consumer: to read */
	uint64_t peer; /* cached peer index: tail (producer), head (consumer) */
	uint32_t mask;
	uint32_t stride;
	uint32_t slot_size;
	uint32_t count;
	_Atomic uint64_t *my_index;
	_Atomic uint64_t *peer_index;
	_Atomic uint32_t *peer_sleeping;
	_Atomic uint32_t *peer_state;
	_Atomic uint32_t *peer_caps;
	int asym;  /* registered for asymmetric fences (os_barrier_init) */
	int heavy; /* our caps announce the heavy barrier (sr_fence_policy) */
	uint64_t msgs_at_sleep; /* stats.messages at our last sleep */
	int pending; /* a claim (producer) or peek (consumer) is open */
	uint32_t pending_len; /* claimed capacity / peeked length */
	shmring_stats stats;
	/* cold */
	struct sr_seg *seg;
	struct os_seg *os;
	unsigned side;
	uint32_t spin_ns;
	uint64_t token;
	uint64_t next_live_ns; /* no liveness probe before this time */
	uint64_t dead_owner;   /* peer token found dead by a probe; 0 = none */
};

static int sr_role_side(enum shmring_role role, unsigned *side)
{
	if (role == SHMRING_PRODUCER)
		*side = SR_SIDE_PROD;
	else if (role == SHMRING_CONSUMER)
		*side = SR_SIDE_CONS;
	else
		return SHMRING_EINVAL;
	return SHMRING_OK;
}

static int sr_name_ok(const char *name)
{
	size_t n = 0;

	if (!name || name[0] == '.')
		return 0;
	for (; name[n]; n++) {
		char c = name[n];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		         (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		         c == '-';
		if (!ok || n >= SHMRING_MAX_NAME)
			return 0;
	}
	return n > 0;
}

/* The one place geometry is judged, for a config and for a header alike. */
static int sr_geom_make(uint32_t slot_size, uint32_t slot_count, uint32_t flags,
                        struct sr_geom *g)
{
	if (flags != 0 || slot_size > SHMRING_MAX_SLOT_SIZE || slot_count < 2 ||
	    slot_count > SHMRING_MAX_SLOT_COUNT ||
	    (slot_count & (slot_count - 1)) != 0)
		return SHMRING_EINVAL;
	g->slot_size = slot_size;
	g->slot_count = slot_count;
	g->flags = flags;
	g->stride = (SR_SLOT_HDR + slot_size + 63u) & ~63u;
	g->seg_size = SR_HDR_SIZE + (uint64_t)g->stride * slot_count;
	if (g->seg_size > SR_MAX_SEG_SIZE || g->seg_size > SIZE_MAX)
		return SHMRING_EINVAL;
	return SHMRING_OK;
}

static int sr_all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

/* Reserved bytes must be zero so that later versions can use them. */
static int sr_reserved_zero(const struct sr_seg *s, const struct sr_hdr *h)
{
	int ok = sr_all_zero(h->reserved, sizeof h->reserved) &&
	         sr_all_zero(s->head.reserved, sizeof s->head.reserved) &&
	         sr_all_zero(s->tail.reserved, sizeof s->tail.reserved) &&
	         sr_all_zero(s->reserved, sizeof s->reserved);

	for (unsigned i = 0; i < 2; i++) {
		ok = ok && sr_all_zero(s->role[i].reserved,
		                       sizeof s->role[i].reserved);
		ok = ok && sr_all_zero(s->wake[i].reserved0,
		                       sizeof s->wake[i].reserved0);
		ok = ok && sr_all_zero(s->wake[i].reserved1,
		                       sizeof s->wake[i].reserved1);
	}
	return ok;
}

/*
 * Validate a mapped segment of @size bytes (the OS's figure) and fill @g.
 * SHMRING_ENOENT for a segment not yet initialised (size 0 or magic 0: its
 * creator has not published it), SHMRING_EBADFMT for anything inconsistent.
 */
static int sr_seg_check(struct sr_seg *s, size_t size, struct sr_geom *g)
{
	struct sr_hdr h;
	uint64_t magic;

	if (size == 0)
		return SHMRING_ENOENT;
	if (size < SR_HDR_SIZE)
		return SHMRING_EBADFMT;
	/* Pairs with the creator's release store of magic in sr_seg_init(): the
	 * header written before it is visible once magic is. */
	magic = atomic_load_explicit(&s->hdr.magic, memory_order_acquire);
	if (magic == 0)
		return SHMRING_ENOENT;
	if (magic != SR_MAGIC)
		return SHMRING_EBADFMT;
	/* One fetch of the header into private memory; validate the copy. */
	memcpy(&h, (const void *)&s->hdr, sizeof h);
	if (h.version != SR_FORMAT_VERSION || h.hdr_size != SR_HDR_SIZE ||
	    sr_geom_make(h.slot_size, h.slot_count, h.flags, g) != SHMRING_OK ||
	    h.slot_stride != g->stride || h.seg_size != g->seg_size ||
	    g->seg_size > size || size - g->seg_size >= os_seg_granule() ||
	    !sr_reserved_zero(s, &h))
		return SHMRING_EBADFMT;
	return SHMRING_OK;
}

/* Fill a fresh, zeroed segment and publish it (magic last). */
static void sr_seg_init(struct sr_seg *s, const struct sr_geom *g)
{
	s->hdr.version = SR_FORMAT_VERSION;
	s->hdr.hdr_size = SR_HDR_SIZE;
	s->hdr.slot_size = g->slot_size;
	s->hdr.slot_stride = g->stride;
	s->hdr.slot_count = g->slot_count;
	s->hdr.flags = g->flags;
	s->hdr.seg_size = g->seg_size;
	s->hdr.created_ns = os_realtime_ns();
	/* Publishes every header field above to sr_seg_check()'s acquire. */
	atomic_store_explicit(&s->hdr.magic, SR_MAGIC, memory_order_release);
}

/* ---- attach / detach ---------------------------------------------------- */

/* What a role record held before we took it, to put back on failure. */
struct sr_role_prev {
	uint64_t owner;
	uint32_t state;
	uint32_t caps;
};

/* Take role @side: free, closed, or held by a dead process. */
static int sr_role_take(struct sr_seg *s, unsigned side, uint64_t self,
                        uint32_t caps, struct sr_role_prev *prev)
{
	struct sr_role *role = &s->role[side];

	for (int i = 0; i < SR_ATTACH_TRIES; i++) {
		/* Relaxed: the CAS below decides; this only picks its
		 * expectation. */
		uint64_t owner = atomic_load_explicit(&role->owner,
		                                      memory_order_relaxed);
		if (owner != 0 && (owner == self || os_proc_alive(owner)))
			return SHMRING_EBUSY;
		/* seq_cst CAS: two attachers (or a takeover racing a close)
		 * agree on one winner. */
		if (atomic_compare_exchange_strong(&role->owner, &owner,
		                                   self)) {
			/* Relaxed: only the role's holder (now us) writes
			 * these. */
			prev->owner = owner;
			prev->state = atomic_load_explicit(
			        &role->state, memory_order_relaxed);
			prev->caps = atomic_load_explicit(&role->caps,
			                                  memory_order_relaxed);
			/* A leftover flag of a dead holder would only cost the
			 * peer a useless signal; clear it. */
			atomic_store_explicit(&s->wake[side].sleeping, 0,
			                      memory_order_relaxed);
			/* Relaxed: published by the state store below. */
			atomic_store_explicit(&role->caps, caps,
			                      memory_order_relaxed);
			/* seq_cst: the peer's poll sees ATTACHED (not CLOSED)
			 * from here on; a sleeping peer re-checks within one
			 * slice. */
			atomic_store_explicit(&role->state, SR_ROLE_ATTACHED,
			                      memory_order_seq_cst);
			return SHMRING_OK;
		}
	}
	return SHMRING_EBUSY;
}

/* Give a role back as it was, after an attach that failed. */
static void sr_role_undo(struct sr_seg *s, unsigned side, uint64_t self,
                         const struct sr_role_prev *prev)
{
	struct sr_role *role = &s->role[side];

	/* Relaxed: published by the state store. Release: a peer that sees
	 * the old state again sees the old caps with it. */
	atomic_store_explicit(&role->caps, prev->caps, memory_order_relaxed);
	atomic_store_explicit(&role->state, prev->state, memory_order_release);
	atomic_compare_exchange_strong(&role->owner, &self, prev->owner);
}

static void sr_handle_bind(shmring *r, const struct sr_geom *g, unsigned side)
{
	struct sr_seg *s = r->seg;
	unsigned peer = side ^ 1u;

	r->slots = (uint8_t *)s + SR_HDR_SIZE;
	r->mask = g->slot_count - 1;
	r->count = g->slot_count;
	r->stride = g->stride;
	r->slot_size = g->slot_size;
	r->side = side;
	r->my_index = side == SR_SIDE_PROD ? &s->head.value : &s->tail.value;
	r->peer_index = side == SR_SIDE_PROD ? &s->tail.value : &s->head.value;
	r->peer_sleeping = &s->wake[peer].sleeping;
	r->peer_state = &s->role[peer].state;
	r->peer_caps = &s->role[peer].caps;
	r->spin_ns = SHMRING_DEFAULT_SPIN_NS;
}

/*
 * Read both indices once and check them: at most count messages in flight.
 * A new producer continues at head, a new consumer resumes at tail (the
 * oldest unreleased message).
 */
static int sr_handle_start(shmring *r)
{
	/* Acquire, as C1 and P0: pair with the previous holders' stores. */
	uint64_t head =
	        atomic_load_explicit(&r->seg->head.value, memory_order_acquire);
	uint64_t tail =
	        atomic_load_explicit(&r->seg->tail.value, memory_order_acquire);

	if (head - tail > r->count) /* wrap-safe; tail > head is caught too */
		return SHMRING_EBADFMT;
	r->pos = r->side == SR_SIDE_PROD ? head : tail;
	r->peer = r->side == SR_SIDE_PROD ? tail : head;
	return SHMRING_OK;
}

/* Attach to a mapped, validated segment. Takes ownership of @os on success. */
static int sr_attach(struct os_seg *os, const struct sr_geom *g, unsigned side,
                     shmring **out)
{
	shmring *r = calloc(1, sizeof *r);
	struct sr_role_prev prev;
	int rc;

	if (!r)
		return SHMRING_ENOMEM;
	r->os = os;
	r->seg = os_seg_base(os);
	r->token = os_proc_self();
	sr_handle_bind(r, g, side);
	r->asym = os_barrier_init();
	r->heavy = r->asym;
	/* Check the indices first, so that a corrupt ring is rejected without
	 * touching the role record (a closed consumer stays closed). */
	rc = sr_handle_start(r);
	if (rc == SHMRING_OK)
		rc = sr_role_take(r->seg, side, r->token,
		                  r->asym ? SR_CAP_HEAVY_BARRIER : 0, &prev);
	if (rc == SHMRING_OK) {
		/* Indices as of the moment we own the role; a hostile peer may
		 * have changed them since the check. */
		rc = sr_handle_start(r);
		if (rc != SHMRING_OK)
			sr_role_undo(r->seg, side, r->token, &prev);
	}
	if (rc != SHMRING_OK) {
		free(r);
		return rc;
	}
	*out = r;
	return SHMRING_OK;
}

/* A segment no live process is attached to, or one whose creator died
 * before publishing it. Called under the exclusive lock. */
static int sr_seg_stale(struct os_seg *os)
{
	struct sr_seg *s = os_seg_base(os);
	struct sr_geom g;
	int rc = sr_seg_check(s, os_seg_size(os), &g);

	if (rc == SHMRING_ENOENT)
		return !os_seg_young(os);
	if (rc != SHMRING_OK)
		return 1; /* not a ring at all: nobody can be using it */
	for (unsigned i = 0; i < 2; i++) {
		uint64_t owner = atomic_load_explicit(&s->role[i].owner,
		                                      memory_order_relaxed);
		if (owner != 0 && os_proc_alive(owner))
			return 0;
	}
	return 1;
}

/* After os_seg_create() said EEXIST: remove the name if its ring is stale.
 * SHMRING_OK means "try to create again". */
static int sr_reclaim(const char *name)
{
	struct os_seg *os;
	int rc = os_seg_open(name, &os);

	if (rc == SHMRING_ENOENT)
		return SHMRING_OK; /* gone meanwhile */
	if (rc != SHMRING_OK)
		return rc;
	rc = os_seg_lock(os, OS_LOCK_EXCL_TRY);
	if (rc == SHMRING_EBUSY)
		rc = SHMRING_EEXIST; /* being created or attached right now */
	else if (rc == SHMRING_OK) {
		if (os_seg_linked(os))
			rc = sr_seg_stale(os) ? os_seg_remove(os)
			                      : SHMRING_EEXIST;
		os_seg_unlock(os);
	}
	os_seg_close(os);
	return rc;
}

int shmring_create(const char *name, const shmring_config *cfg,
                   enum shmring_role role, shmring **out)
{
	shmring_config c = cfg ? *cfg : (shmring_config){0};
	struct sr_geom g;
	struct os_seg *os = NULL;
	unsigned side;
	int rc;

	if (!sr_name_ok(name) || !out || sr_role_side(role, &side) ||
	    c.perm > 0777)
		return SHMRING_EINVAL;
	rc = sr_geom_make(c.slot_size ? c.slot_size : SHMRING_DEFAULT_SLOT_SIZE,
	                  c.slot_count ? c.slot_count
	                               : SHMRING_DEFAULT_SLOT_COUNT,
	                  c.flags, &g);
	if (rc != SHMRING_OK)
		return rc;
	for (int i = 1;; i++) {
		rc = os_seg_create(name, (size_t)g.seg_size,
		                   c.perm ? c.perm : 0600, &os);
		if (rc != SHMRING_EEXIST || i == SR_CREATE_TRIES)
			break;
		rc = sr_reclaim(name); /* OK: the name is free again, retry */
		if (rc != SHMRING_OK)
			return rc;
	}
	if (rc != SHMRING_OK)
		return rc;
	sr_seg_init(os_seg_base(os), &g);
	rc = sr_attach(os, &g, side, out);
	os_seg_unlock(os); /* published and attached: no longer reclaimable */
	if (rc != SHMRING_OK) {
		os_seg_remove(os);
		os_seg_close(os);
	}
	return rc;
}

/* Map @name, validate it and attach, holding the shared lock so that a
 * reclaimer cannot remove the name between our check and our attach. */
static int sr_open_once(const char *name, unsigned side, shmring **out)
{
	struct os_seg *os;
	struct sr_geom g;
	int rc = os_seg_open(name, &os);

	if (rc != SHMRING_OK)
		return rc;
	rc = os_seg_lock(os, OS_LOCK_SHARED);
	if (rc == SHMRING_OK) {
		rc = os_seg_linked(os) ? SHMRING_OK : SHMRING_EAGAIN;
		if (rc == SHMRING_OK)
			rc = sr_seg_check(os_seg_base(os), os_seg_size(os), &g);
		if (rc == SHMRING_OK)
			rc = sr_attach(os, &g, side, out);
		os_seg_unlock(os);
	}
	if (rc != SHMRING_OK)
		os_seg_close(os);
	return rc;
}

int shmring_open(const char *name, enum shmring_role role, shmring **out)
{
	unsigned side;
	int rc = SHMRING_EAGAIN;

	if (!sr_name_ok(name) || !out || sr_role_side(role, &side))
		return SHMRING_EINVAL;
	/* EAGAIN: the name was reclaimed under us; look it up again. */
	for (int i = 0; i < SR_CREATE_TRIES && rc == SHMRING_EAGAIN; i++)
		rc = sr_open_once(name, side, out);
	return rc == SHMRING_EAGAIN ? SHMRING_ENOENT : rc;
}

int shmring_unlink(const char *name)
{
	if (!sr_name_ok(name))
		return SHMRING_EINVAL;
	return os_seg_unlink(name);
}

/* ---- waking ------------------------------------------------------------- */

static void sr_signal_peer(shmring *r)
{
	r->stats.wakes += os_signal(r->os, r->side ^ 1u,
	                            &r->seg->wake[r->side ^ 1u].word);
}

/* W1: after publishing an index or a state, wake the peer if it announced
 * that it sleeps. */
static inline void sr_wake_peer(shmring *r)
{
	/* FENCE_W: orders the caller's store before the flag load below. A
	 * compiler barrier suffices when the sleeper runs the heavy barrier
	 * in its FENCE_S (see the protocol table); the peer's caps are read
	 * on every call because a takeover may change them. */
	if (r->asym &&
	    (atomic_load_explicit(r->peer_caps, memory_order_relaxed) &
	     SR_CAP_HEAVY_BARRIER))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	/* Relaxed load: ordered by FENCE_W; pairs with the sleeper's FENCE_S.
	 * Taking the flag (exchange to 0) makes one signal per sleep, not one
	 * per message while the sleeper wakes up. Acquire: pairs with the
	 * sleeper's release store of the flag, so the sleeper's reset of its
	 * wake word for an earlier sleep comes before our signal. */
	if (atomic_load_explicit(r->peer_sleeping, memory_order_relaxed) &&
	    atomic_exchange_explicit(r->peer_sleeping, 0, memory_order_acquire))
		sr_signal_peer(r);
}

int shmring_close(shmring *r)
{
	struct sr_role *me;
	uint64_t self;

	if (!r)
		return SHMRING_OK;
	me = &r->seg->role[r->side];
	self = r->token;
	/* Release: follows our last index store, so a consumer that sees
	 * CLOSED (acquire, in sr_peer_state) also sees the final head. It is
	 * W1's store: the peer's S1 re-check sees CLOSED, or we see its flag.
	 */
	atomic_store_explicit(&me->state, SR_ROLE_CLOSED, memory_order_release);
	sr_wake_peer(r);
	/* Give the role up only if it is still ours (a hostile peer may have
	 * written anything there). */
	atomic_compare_exchange_strong(&me->owner, &self, 0);
	os_seg_close(r->os);
	free(r);
	return SHMRING_OK;
}

/* ---- readiness ---------------------------------------------------------- */

/* Re-read the peer's index once, check it, and cache it. SR_NOTREADY if
 * there is still no room (producer) or no message (consumer). The peer's
 * index never moves back: one behind the value we cached is EBADFMT too,
 * so a refresh can only widen what the cache allowed (the batch calls
 * rely on that after using the cached part). All differences are taken
 * from pos, unsigned, so they are right across the 2^64 wrap. */
static int sr_refresh(shmring *r)
{
	/* P0/C1: acquire, pairs with the peer's release store of its index
	 * (P1/C2); in the S1 re-check it comes after FENCE_S. */
	uint64_t v = atomic_load_explicit(r->peer_index, memory_order_acquire);

	if (r->side == SR_SIDE_PROD) {
		/* tail ahead of head, too far back, or behind the cache */
		if (r->pos - v > r->pos - r->peer)
			return SHMRING_EBADFMT;
		r->peer = v;
		return r->pos - v < r->count ? SHMRING_OK : SR_NOTREADY;
	}
	/* head behind the cache (so maybe behind tail), or too far ahead */
	if (v - r->pos > r->count || v - r->pos < r->peer - r->pos)
		return SHMRING_EBADFMT;
	r->peer = v;
	return v != r->pos ? SHMRING_OK : SR_NOTREADY;
}

static inline int sr_ready_cached(const shmring *r)
{
	return r->side == SR_SIDE_PROD ? r->pos - r->peer < r->count
	                               : r->peer != r->pos;
}

/* The peer's state as far as a waiting call cares: SR_NOTREADY (keep
 * waiting), SHMRING_ECLOSED or SHMRING_EPEERDEAD. @probe allows a liveness
 * probe (a system call), rate-limited to one per SR_LIVE_CHECK_NS. */
static int sr_peer_state(shmring *r, int probe)
{
	/* Acquire: pairs with the release store of CLOSED in shmring_close(),
	 * which follows the peer's last index store; and it is read before
	 * the index re-check in sr_poll(): seeing CLOSED implies seeing the
	 * final index. */
	uint32_t st = atomic_load_explicit(r->peer_state, memory_order_acquire);
	/* Relaxed: a token to probe, not a publication; any value is safe. */
	uint64_t owner = atomic_load_explicit(&r->seg->role[r->side ^ 1u].owner,
	                                      memory_order_relaxed);
	uint64_t now;

	if (st == SR_ROLE_CLOSED)
		return SHMRING_ECLOSED;
	if (st != SR_ROLE_ATTACHED || owner == 0)
		return SR_NOTREADY; /* not attached (yet), or mid-close: wait */
	if (probe && owner != r->dead_owner) {
		now = os_now_ns();
		if (now >= r->next_live_ns) {
			r->next_live_ns = now + SR_LIVE_CHECK_NS;
			if (!os_proc_alive(owner))
				r->dead_owner =
				        owner; /* a token is never reused */
		}
	}
	/* A takeover changes the owner, which ends the verdict at once. */
	return owner == r->dead_owner ? SHMRING_EPEERDEAD : SR_NOTREADY;
}

/*
 * Can the call proceed? SHMRING_OK, SR_NOTREADY, or why it never will:
 * ECLOSED, EPEERDEAD, EBADFMT. The peer's state is read before its index,
 * so a final message published just before a close or a death is seen.
 */
static int sr_poll(shmring *r, int probe)
{
	int st, rc;

	if (sr_ready_cached(r))
		return SHMRING_OK;
	st = sr_peer_state(r, probe);
	rc = sr_refresh(r);
	return rc != SR_NOTREADY ? rc : st;
}

/* The absolute deadline of a call's waits, read from the clock only when the
 * call first has to wait and only for a finite timeout: a call that never
 * waits, or waits forever, reads no clock for it. */
static uint64_t sr_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX
	                      : os_now_ns() + (uint64_t)timeout_ms * 1000000u;
}

/* Spin on the indices for the handle's spin budget, with no system call but
 * the clock's (a vDSO read on Linux). Poll after every pause, so a spinning
 * side reacts within one cache-line transfer plus one pause; read the clock
 * only every SR_SPIN_BATCH polls, the first time after the first batch (a
 * peer that answers within one batch costs no clock read at all). */
static int sr_spin(shmring *r, uint64_t deadline)
{
	uint64_t now, end = 0;
	int rc = SR_NOTREADY;

	if (r->spin_ns == 0)
		return rc;
	for (;;) {
		for (int i = 0; i < SR_SPIN_BATCH && rc == SR_NOTREADY; i++) {
			sr_cpu_relax();
			rc = sr_poll(r, 0);
		}
		if (rc != SR_NOTREADY)
			return rc;
		now = os_now_ns();
		if (!end)
			end = now + r->spin_ns;
		if (now >= end || now >= deadline)
			return rc;
	}
}

/*
 * Should our caps announce the heavy barrier? Announced, the peer
 * publishes with no fence and each of our sleeps runs the heavy barrier
 * (an IPI to every CPU running a registered process: tens of microseconds
 * on some virtual machines); withdrawn, our sleeps run a thread fence only
 * and the peer a full fence per index store. The first is cheaper when
 * many messages pass between two sleeps (a stream), the second when few do
 * (a ping-pong, whose round trip the barrier doubled). Decided by the
 * messages this handle moved since its last sleep, for registered handles
 * only (r->asym), and only by consumers. A producer sleeps only on a full
 * ring, whose consumer has a ring of work: withdrawing there put a full
 * fence on every release of the busy side, and the sleep, no longer
 * slowed by the barrier, came so early that a sleep-only 64 KiB stream
 * made 0.4-0.6 futex calls per message instead of 0.004 (0.02 when only
 * consumers withdraw).
 *
 * Announcing is free and may happen at any time: from then on every sleep
 * runs the heavy barrier. sr_fence_announce() does it on the waiting path
 * once SR_HEAVY_MIN_MSGS messages have moved, so a stream that starts
 * after an idle spell (which withdrew it) soon stops costing the peer a
 * fence per message, without waiting for our next sleep.
 */
static void sr_fence_announce(shmring *r)
{
	if (r->heavy ||
	    r->stats.messages - r->msgs_at_sleep < SR_HEAVY_MIN_MSGS)
		return;
	r->heavy = 1;
	/* Relaxed: a waker's relaxed load of it only picks its fence; our
	 * next sleep runs the heavy barrier whatever it read. */
	atomic_store_explicit(&r->seg->role[r->side].caps, SR_CAP_HEAVY_BARRIER,
	                      memory_order_relaxed);
}

/*
 * At each sleep: keep, take or withdraw the announcement. Returns 1 if
 * this sleep must run the heavy barrier: while announced, and once more in
 * the sleep that withdraws it, so that a waker that read the old caps has
 * its index store drained by that barrier before later sleeps rely on the
 * re-check alone (docs/protocol.md; tests/model/ checks both directions
 * and rejects a withdrawal without the barrier). A withdrawal therefore
 * costs no more than the sleep would have while announced.
 */
static int sr_fence_policy(shmring *r)
{
	int was = r->heavy;

	r->heavy = r->side == SR_SIDE_PROD ||
	           r->stats.messages - r->msgs_at_sleep >= SR_HEAVY_MIN_MSGS;
	r->msgs_at_sleep = r->stats.messages;
	if (r->heavy != was)
		/* Relaxed: FENCE_S below orders it before our re-check; a
		 * waker's relaxed load of it only picks its fence. */
		atomic_store_explicit(&r->seg->role[r->side].caps,
		                      r->heavy ? SR_CAP_HEAVY_BARRIER : 0u,
		                      memory_order_relaxed);
	return was || r->heavy;
}

/* S1: announce, re-check, sleep for at most one slice. */
static int sr_sleep(shmring *r, uint64_t deadline)
{
	struct sr_wake *w = &r->seg->wake[r->side];
	uint64_t now, left_ns;
	int heavy, slice;
	int rc;

	/* The last slice ran out: one look, no S1 (nor heavy barrier) just
	 * to return ETIMEDOUT. A wait with no deadline reads no clock here. */
	if (deadline != UINT64_MAX && os_now_ns() >= deadline) {
		rc = sr_poll(r, 1);
		return rc == SR_NOTREADY ? SHMRING_ETIMEDOUT : rc;
	}
	heavy = r->asym && sr_fence_policy(r);

	/* S1: announce, FENCE_S, re-check. Our own flag: only we write it (a
	 * hostile peer may, which costs us at worst a wake-up). The fence
	 * orders it before the re-check's loads; release orders our reset of
	 * the wake word (after the previous sleep) before it, for the waker's
	 * acquire exchange. */
	atomic_store_explicit(&w->sleeping, 1, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (heavy && os_barrier_heavy() != SHMRING_OK) {
		/* Cannot happen after a successful os_barrier_init(); if it
		 * does, have wakers use full fences from now on. A waker that
		 * read our old caps can miss this one sleep, which then lasts
		 * one slice. */
		r->asym = r->heavy = 0;
		atomic_store_explicit(&r->seg->role[r->side].caps, 0,
		                      memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
	}
	rc = sr_poll(r, 1);
	now = os_now_ns();
	if (rc == SR_NOTREADY && now >= deadline)
		rc = SHMRING_ETIMEDOUT;
	if (rc == SR_NOTREADY) {
		left_ns = deadline - now;
		slice = left_ns >= SR_SLEEP_SLICE_MS * UINT64_C(1000000)
		                ? SR_SLEEP_SLICE_MS
		                : (int)((left_ns + 999999u) / 1000000u);
		r->stats.waits++;
		/* Relaxed: a token the backend may watch; any value is safe. */
		os_wait(r->os, r->side, &w->word,
		        atomic_load_explicit(&r->seg->role[r->side ^ 1u].owner,
		                             memory_order_relaxed),
		        slice);
	}
	/* Relaxed: only stops the peer's signals (it may have taken the flag
	 * already); the next S1 re-publishes it. */
	atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
	return rc;
}

/*
 * Wait until the call can proceed: one poll, then spin, then sleep in
 * slices. *deadline is 0 until the call first waits; a call that waits
 * more than once (shmring_sendv) passes the same one, so @timeout_ms bounds
 * the whole call from its first wait. Only a call that will not wait
 * (NOWAIT) probes the peer's liveness on its first poll: a waiting call
 * probes in sr_sleep(), and a stream that merely caught up with its peer
 * reads no clock.
 */
static SR_NOINLINE int sr_wait_slow(shmring *r, int timeout_ms,
                                    uint64_t *deadline)
{
	int rc = sr_poll(r, timeout_ms == 0);

	if (rc != SR_NOTREADY || timeout_ms == 0)
		return rc;
	if (r->asym)
		sr_fence_announce(r);
	if (!*deadline)
		*deadline = sr_deadline(timeout_ms);
	rc = sr_spin(r, *deadline);
	while (rc == SR_NOTREADY)
		rc = sr_sleep(r, *deadline);
	return rc;
}

/* The fast path stays inline: the cached index says the call can go on. */
static inline int sr_wait(shmring *r, int timeout_ms, uint64_t *deadline)
{
	return sr_ready_cached(r) ? SHMRING_OK
	                          : sr_wait_slow(r, timeout_ms, deadline);
}

/* ---- data path ---------------------------------------------------------- */

static inline struct sr_slot *sr_slot_at(const shmring *r, uint64_t index)
{
	return (struct sr_slot *)(r->slots +
	                          (size_t)(index & r->mask) * r->stride);
}

/* Slots the cached index says this side may use now without re-reading the
 * peer's: free slots (producer) or published messages (consumer). */
static inline uint64_t sr_cached_run(const shmring *r)
{
	return r->side == SR_SIDE_PROD ? r->count - (r->pos - r->peer)
	                               : r->peer - r->pos;
}

/* P1/C2 then W1: hand the @n slots from pos over to the peer with one index
 * store and one wake check. */
static inline void sr_publish(shmring *r, uint64_t n)
{
	r->pos += n;
	r->stats.messages += n;
	/* P1 (producer): release publishes the slots' bytes and lengths to
	 * C1. C2 (consumer): release hands the slots back after our reads of
	 * them. It is also W1's store. */
	atomic_store_explicit(r->my_index, r->pos, memory_order_release);
	sr_wake_peer(r);
}

static int sr_check_call(const shmring *r, unsigned side, int timeout_ms)
{
	if (!r || r->side != side || timeout_ms < SHMRING_FOREVER)
		return SHMRING_EINVAL;
	return SHMRING_OK;
}

/* Producer: wait for a free slot. The consumer's CLOSED state is checked on
 * every call (a read of a line the consumer rarely writes). */
static int sr_prod_wait(shmring *r, int timeout_ms, uint64_t *deadline)
{
	/* Relaxed: a hint for an early ECLOSED; sr_poll()'s acquire read is
	 * the one that orders. */
	if (atomic_load_explicit(r->peer_state, memory_order_relaxed) ==
	    SR_ROLE_CLOSED)
		return SHMRING_ECLOSED;
	return sr_wait(r, timeout_ms, deadline);
}

/*
 * Producer, after publishing: take the cache lines of the next slot for
 * writing now, while the consumer reads what we published, instead of when
 * the next message is copied in. The consumer read them one lap ago, so
 * each store to them would otherwise wait for the line to come back, and
 * the head store behind them too (stores become visible in order on x86):
 * in a ping-pong that is one cross-core transfer per message on the
 * critical path (measured, interleaved A/B, 1024-byte round trip p50:
 * 271-281 -> 231-241 ns against a 110 ns cache-line round trip; 1122 ->
 * 912 ns in some runs at 440 ns, no change in others). Only a slot the
 * cached tail shows free: a slot the consumer may still be reading is left
 * alone. A hint: it changes no memory and no ordering.
 */
static inline void sr_prefetch_next(const shmring *r)
{
	const uint8_t *p;
	uint32_t n;

	if (r->pos - r->peer >= r->count)
		return;
	p = (const uint8_t *)sr_slot_at(r, r->pos);
	n = r->stride < SR_PREFETCH_MAX ? r->stride : SR_PREFETCH_MAX;
	for (uint32_t off = 0; off < n; off += 64)
		sr_prefetch_write(p + off);
}

/* Producer: copy a message into the slot at @index, not yet published. */
static inline void sr_put(const shmring *r, uint64_t index, const void *data,
                          size_t len)
{
	struct sr_slot *slot = sr_slot_at(r, index);

	if (len)
		memcpy(slot + 1, data, len);
	/* Relaxed: published by P1 in sr_publish(). */
	atomic_store_explicit(&slot->len, (uint32_t)len, memory_order_relaxed);
}

int shmring_send(shmring *r, const void *data, size_t len, int timeout_ms)
{
	uint64_t deadline = 0;
	int rc = sr_check_call(r, SR_SIDE_PROD, timeout_ms);

	if (rc != SHMRING_OK || (!data && len) || r->pending)
		return SHMRING_EINVAL;
	if (len > r->slot_size)
		return SHMRING_EMSGSIZE;
	rc = sr_prod_wait(r, timeout_ms, &deadline);
	if (rc != SHMRING_OK)
		return rc;
	sr_put(r, r->pos, data, len);
	sr_publish(r, 1);
	sr_prefetch_next(r);
	return SHMRING_OK;
}

int shmring_sendv(shmring *r, const shmring_msg *msgs, size_t n, size_t *sent,
                  int timeout_ms)
{
	uint64_t deadline = 0, run;
	size_t done = 0;
	int rc = sr_check_call(r, SR_SIDE_PROD, timeout_ms);

	if (sent)
		*sent = 0;
	if (rc != SHMRING_OK || !sent || (!msgs && n) || r->pending)
		return SHMRING_EINVAL;
	/* Every message is checked before any is sent: a bad one sends
	 * none. */
	for (size_t i = 0; i < n; i++)
		if (!msgs[i].data && msgs[i].len)
			return SHMRING_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (msgs[i].len > r->slot_size)
			return SHMRING_EMSGSIZE;
	while (done < n) {
		rc = sr_prod_wait(r, timeout_ms, &deadline);
		if (rc != SHMRING_OK)
			break;
		/* Room for fewer than the rest: one more look at tail (P0)
		 * may find more; its verdict only widens the run. */
		if (sr_cached_run(r) < n - done)
			(void)sr_refresh(r);
		run = sr_cached_run(r);
		if (run > n - done)
			run = n - done;
		for (uint64_t i = 0; i < run; i++)
			sr_put(r, r->pos + i, msgs[done + i].data,
			       msgs[done + i].len);
		sr_publish(r, run);
		done += (size_t)run;
		*sent = done;
	}
	sr_prefetch_next(r);
	return rc;
}

int shmring_claim(shmring *r, size_t len, void **payload, int timeout_ms)
{
	uint64_t deadline = 0;
	int rc = sr_check_call(r, SR_SIDE_PROD, timeout_ms);

	if (rc != SHMRING_OK || !payload || r->pending)
		return SHMRING_EINVAL;
	if (len > r->slot_size)
		return SHMRING_EMSGSIZE;
	rc = sr_prod_wait(r, timeout_ms, &deadline);
	if (rc != SHMRING_OK)
		return rc;
	r->pending = 1;
	r->pending_len = (uint32_t)len;
	*payload = sr_slot_at(r, r->pos) + 1;
	return SHMRING_OK;
}

int shmring_commit(shmring *r, size_t len)
{
	if (!r || r->side != SR_SIDE_PROD || !r->pending ||
	    len > r->pending_len)
		return SHMRING_EINVAL;
	/* Relaxed: published by P1 in sr_publish(). */
	atomic_store_explicit(&sr_slot_at(r, r->pos)->len, (uint32_t)len,
	                      memory_order_relaxed);
	r->pending = 0;
	sr_publish(r, 1);
	sr_prefetch_next(r);
	return SHMRING_OK;
}

/* Consumer: the length of the published message at @index, read once and
 * checked. */
static inline int sr_len_at(const shmring *r, uint64_t index, uint32_t *len)
{
	/* Relaxed, read once: ordered after C1's acquire load of head. */
	*len = atomic_load_explicit(&sr_slot_at(r, index)->len,
	                            memory_order_relaxed);
	return *len <= r->slot_size ? SHMRING_OK : SHMRING_EBADFMT;
}

/* Consumer: wait for a message and read its length. */
static int sr_cons_next(shmring *r, uint32_t *len, int timeout_ms)
{
	uint64_t deadline = 0;
	int rc = sr_wait(r, timeout_ms, &deadline);

	return rc != SHMRING_OK ? rc : sr_len_at(r, r->pos, len);
}

int shmring_recv(shmring *r, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	uint32_t n;
	int rc = sr_check_call(r, SR_SIDE_CONS, timeout_ms);

	if (rc != SHMRING_OK || !len || (!buf && cap) || r->pending)
		return SHMRING_EINVAL;
	rc = sr_cons_next(r, &n, timeout_ms);
	if (rc != SHMRING_OK)
		return rc;
	*len = n;
	if (n > cap)
		return SHMRING_EMSGSIZE; /* the message stays in the ring */
	if (n)
		memcpy(buf, sr_slot_at(r, r->pos) + 1, n);
	sr_publish(r, 1);
	return SHMRING_OK;
}

int shmring_recvv(shmring *r, shmring_buf *msgs, size_t n, size_t *received,
                  int timeout_ms)
{
	uint64_t run, i;
	uint32_t len;
	int rc = sr_check_call(r, SR_SIDE_CONS, timeout_ms);

	if (received)
		*received = 0;
	if (rc != SHMRING_OK || !received || (!msgs && n) || r->pending)
		return SHMRING_EINVAL;
	for (size_t k = 0; k < n; k++)
		if (!msgs[k].data && msgs[k].len)
			return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	rc = sr_cons_next(r, &len, timeout_ms);
	if (rc != SHMRING_OK)
		return rc;
	if (len > msgs[0].len) {
		msgs[0].len = len;
		return SHMRING_EMSGSIZE; /* the message stays in the ring */
	}
	/* Fewer published than wanted: one more look at head (C1). */
	if (sr_cached_run(r) < n)
		(void)sr_refresh(r);
	run = sr_cached_run(r);
	if (run > n)
		run = n;
	/* Stop before a message that does not fit its buffer or whose length
	 * is bad: the next call reports it, and the ones before are kept. */
	for (i = 0; i < run; i++) {
		if (i > 0 && (sr_len_at(r, r->pos + i, &len) != SHMRING_OK ||
		              len > msgs[i].len))
			break;
		if (len)
			memcpy(msgs[i].data, sr_slot_at(r, r->pos + i) + 1,
			       len);
		msgs[i].len = len;
	}
	sr_publish(r, i);
	*received = (size_t)i;
	return SHMRING_OK;
}

int shmring_peek(shmring *r, const void **data, size_t *len, int timeout_ms)
{
	uint32_t n;
	int rc = sr_check_call(r, SR_SIDE_CONS, timeout_ms);

	if (rc != SHMRING_OK || !data || !len)
		return SHMRING_EINVAL;
	if (!r->pending) {
		rc = sr_cons_next(r, &n, timeout_ms);
		if (rc != SHMRING_OK)
			return rc;
		r->pending = 1;
		r->pending_len = n; /* the length we checked, never re-read */
	}
	*data = sr_slot_at(r, r->pos) + 1;
	*len = r->pending_len;
	return SHMRING_OK;
}

int shmring_release(shmring *r)
{
	if (!r || r->side != SR_SIDE_CONS || !r->pending)
		return SHMRING_EINVAL;
	r->pending = 0;
	sr_publish(r, 1);
	return SHMRING_OK;
}

/* ---- utilities ---------------------------------------------------------- */

size_t shmring_max_msg(const shmring *r)
{
	return r ? r->slot_size : 0;
}

int shmring_set_spin(shmring *r, uint32_t spin_ns)
{
	if (!r)
		return SHMRING_EINVAL;
	r->spin_ns = spin_ns;
	return SHMRING_OK;
}

int shmring_get_stats(const shmring *r, shmring_stats *out)
{
	if (!r || !out)
		return SHMRING_EINVAL;
	*out = r->stats;
	return SHMRING_OK;
}
