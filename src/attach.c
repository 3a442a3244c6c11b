/* SPDX-License-Identifier: MIT */
/*
 * attach.c -- the lifetime of a handle: create, open, close and unlink;
 * the role records (take, give back, take over from a dead holder); and
 * the judgement of a stale segment that shmring_create reclaims. The
 * segment's bytes are judged by segment.c; the OS is reached through os.h.
 */
#include <stdlib.h>

#include "os.h"
#include "ring_int.h"

#define SR_ATTACH_TRIES 16
#define SR_CREATE_TRIES 8

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

/* The shared words of side @side, for this handle's view of it. */
static void sr_side_bind(struct sr_side *v, struct sr_seg *s, unsigned side)
{
	v->side = side;
	v->wake = side;
	v->index = side == SR_SIDE_PROD ? &s->head.value : &s->tail.value;
	v->owner = &s->role[side].owner;
	v->state = &s->role[side].state;
	v->caps = &s->role[side].caps;
	v->sleeping = &s->wake[side].sleeping;
	v->word = &s->wake[side].word;
	v->cpu = &s->wake[side].cpu;
	v->ctr = &s->ctr[side];
}

/* The shared words of producer entry @k of an MPSC ring. */
static void sr_mp_side_bind(struct sr_side *v, struct sr_seg *s, uint32_t k)
{
	struct sr_mp_prod *p = &s->mp.prod[k];

	v->side = SR_SIDE_PROD;
	v->wake = SR_WAKE_MP + k;
	v->index = &s->head.value;
	v->owner = &p->owner;
	v->state = &p->state;
	v->caps = &p->caps;
	v->sleeping = &p->sleeping;
	v->word = &p->word;
	v->cpu = &p->cpu;
	v->ctr = &s->ctr[SR_SIDE_PROD]; /* shared by the producers */
}

/* What a role record held before we took it, to put back on failure. */
struct sr_role_prev {
	uint64_t owner;
	uint32_t state;
	uint32_t caps;
};

/* Take our role: free, closed, or held by a dead process. */
static int sr_role_take(const struct sr_side *me, uint64_t self, uint32_t caps,
                        struct sr_role_prev *prev)
{
	for (int i = 0; i < SR_ATTACH_TRIES; i++) {
		/* Relaxed: the CAS below decides; this only picks its
		 * expectation. */
		uint64_t owner =
		        atomic_load_explicit(me->owner, memory_order_relaxed);
		if (owner != 0 && (owner == self || os_proc_alive(owner)))
			return SHMRING_EBUSY;
		/* seq_cst CAS: two attachers (or a takeover racing a close)
		 * agree on one winner. */
		if (atomic_compare_exchange_strong(me->owner, &owner, self)) {
			/* Relaxed: only the role's holder (now us) writes
			 * these. */
			prev->owner = owner;
			prev->state = atomic_load_explicit(
			        me->state, memory_order_relaxed);
			prev->caps = atomic_load_explicit(me->caps,
			                                  memory_order_relaxed);
			/* A leftover flag of a dead holder would only cost the
			 * peer a useless signal; clear it, and its CPU hint. */
			atomic_store_explicit(me->sleeping, 0,
			                      memory_order_relaxed);
			atomic_store_explicit(me->cpu, 0, memory_order_relaxed);
			/* Relaxed: published by the state store below. */
			atomic_store_explicit(me->caps, caps,
			                      memory_order_relaxed);
			/* seq_cst: the peer's poll sees ATTACHED (not CLOSED)
			 * from here on; a sleeping peer re-checks within one
			 * slice. */
			atomic_store_explicit(me->state, SR_ROLE_ATTACHED,
			                      memory_order_seq_cst);
			return SHMRING_OK;
		}
	}
	return SHMRING_EBUSY;
}

/* Give a role back as it was, after an attach that failed. */
static void sr_role_undo(const struct sr_side *me, uint64_t self,
                         const struct sr_role_prev *prev)
{
	/* Relaxed: published by the state store. Release: a peer that sees
	 * the old state again sees the old caps with it. */
	atomic_store_explicit(me->caps, prev->caps, memory_order_relaxed);
	atomic_store_explicit(me->state, prev->state, memory_order_release);
	atomic_compare_exchange_strong(me->owner, &self, prev->owner);
}

/* Take a producer entry of an MPSC ring: the first that is free, closed,
 * or held by a dead process. Producers announce no heavy barrier (see
 * sr_fence_policy). */
static int sr_mp_take(shmring *r, struct sr_role_prev *prev)
{
	for (uint32_t k = 0; k < SR_MP_MAX; k++) {
		sr_mp_side_bind(&r->me, r->seg, k);
		if (sr_role_take(&r->me, r->token, 0, prev) == SHMRING_OK) {
			r->mp_k = k;
			r->heavy = 0;
			return SHMRING_OK;
		}
	}
	return SHMRING_EBUSY;
}

/*
 * Count ourselves in and mark where our claims begin. A predecessor that
 * closed (or none) took its count with it; one that died still holds it,
 * and we take it over. Then help the claim hint to the frontier: the dead
 * predecessor's claims are all below it, and `since` says so to the
 * consumer (release: after the helping that found it).
 */
static void sr_mp_joined(shmring *r, const struct sr_role_prev *prev)
{
	struct sr_mp *mp = &r->seg->mp;
	struct sr_mp_prod *p = &mp->prod[r->mp_k];

	if (prev->owner == 0 || prev->state != SR_ROLE_ATTACHED)
		/* Relaxed: a hint for the consumer's idle polls
		 * (sr_mp_peer_state() decides by the entries). */
		atomic_fetch_add_explicit(&mp->attached, 1,
		                          memory_order_relaxed);
	atomic_store_explicit(&p->since, sr_mp_frontier(r),
	                      memory_order_release);
	r->pos =
	        atomic_load_explicit(&r->seg->head.value, memory_order_acquire);
}

static uint32_t sr_log2(uint32_t pow2)
{
	uint32_t n = 0;

	while ((UINT32_C(1) << n) < pow2)
		n++;
	return n;
}

static void sr_handle_bind(shmring *r, const struct sr_geom *g, unsigned side)
{
	struct sr_seg *s = r->seg;
	uint64_t span = (UINT32_MAX + (uint64_t)SR_REC_HDR) / g->stride;

	r->slots = (uint8_t *)s + SR_HDR_SIZE;
	r->mask = g->slot_count - 1;
	r->count = g->slot_count;
	r->stride = g->stride;
	r->slot_size = g->slot_size;
	r->max_msg = g->max_msg;
	r->lap_shift = sr_log2(g->slot_count);
	r->stride_shift =
	        (g->stride & (g->stride - 1)) ? 0 : sr_log2(g->stride);
	r->need = 1;
	sr_side_bind(&r->me, s, side);
	/* An MPSC consumer's peers are the producer entries (mpsc.c); its
	 * peer_side is the unused SPSC producer's lines, all zero. */
	sr_side_bind(&r->peer_side, s, side ^ 1u);
	r->spin_ns = SHMRING_DEFAULT_SPIN_NS;
	r->mp = (g->flags & SHMRING_F_MPSC) != 0;
	r->mp_key = g->mp_key;
	r->call_side = side | (r->mp ? SR_MP : 0u);
	/* A claim's padding must fit a PAD word's length field. */
	r->mp_span_max = span < g->slot_count ? (uint32_t)span : g->slot_count;
}

/*
 * Read both indices once and check them: at most count slots in flight.
 * A new producer continues at head, a new consumer resumes at tail (the
 * oldest unreleased record).
 */
static int sr_handle_start(shmring *r)
{
	/* Acquire, as C1 and P0: pair with the previous holders' stores. */
	uint64_t head =
	        atomic_load_explicit(&r->seg->head.value, memory_order_acquire);
	uint64_t tail =
	        atomic_load_explicit(&r->seg->tail.value, memory_order_acquire);

	if (r->mp) {
		/* head is a hint that may lag behind the claims the consumer
		 * has passed, never more than a ring ahead of tail (read
		 * after it). The consumer walks the words from tail (its
		 * cache starts empty). */
		if ((int64_t)(head - tail) > (int64_t)r->count)
			return SHMRING_EBADFMT;
		r->pos = r->me.side == SR_SIDE_PROD ? head : tail;
		r->peer = tail;
		return SHMRING_OK;
	}
	if (head - tail > r->count) /* wrap-safe; tail > head is caught too */
		return SHMRING_EBADFMT;
	r->pos = r->me.side == SR_SIDE_PROD ? head : tail;
	r->peer = r->me.side == SR_SIDE_PROD ? tail : head;
	return SHMRING_OK;
}

static void sr_handle_free(shmring *r)
{
	free(r->pend);
	free(r);
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
	r->pend = calloc(SHMRING_BATCH_MAX, sizeof *r->pend);
	if (!r->pend) {
		free(r);
		return SHMRING_ENOMEM;
	}
	r->os = os;
	r->seg = os_seg_base(os);
	r->token = os_proc_self(); /* also arms the fork generation */
	r->fork_gen = atomic_load_explicit(&os_fork_gen, memory_order_relaxed);
	sr_handle_bind(r, g, side);
	r->asym = os_barrier_init();
	r->heavy = r->asym;
	/* Check the indices first, so that a corrupt ring is rejected without
	 * touching the role record (a closed consumer stays closed). */
	rc = sr_handle_start(r);
	if (rc == SHMRING_OK && r->mp && side == SR_SIDE_PROD)
		rc = sr_mp_take(r, &prev);
	else if (rc == SHMRING_OK)
		rc = sr_role_take(&r->me, r->token,
		                  r->asym ? SR_CAP_HEAVY_BARRIER : 0, &prev);
	if (rc == SHMRING_OK) {
		/* Indices as of the moment we own the role; a hostile peer may
		 * have changed them since the check. */
		rc = sr_handle_start(r);
		if (rc != SHMRING_OK)
			sr_role_undo(&r->me, r->token, &prev);
	}
	if (rc != SHMRING_OK) {
		sr_handle_free(r);
		return rc;
	}
	if (r->mp && side == SR_SIDE_PROD)
		sr_mp_joined(r, &prev);
	sr_ctr_start(r);
	*out = r;
	return SHMRING_OK;
}

/* A segment no live process is attached to, or one whose creator died
 * before publishing it. Called under the exclusive lock. */
static int sr_seg_stale(struct os_seg *os)
{
	struct sr_seg *s = os_seg_base(os);
	struct sr_geom g;
	int rc = sr_seg_check(s, os_seg_size(os), os_seg_granule(), &g);

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
	for (unsigned k = 0; (g.flags & SHMRING_F_MPSC) && k < SR_MP_MAX; k++) {
		uint64_t owner = atomic_load_explicit(&s->mp.prod[k].owner,
		                                      memory_order_relaxed);
		if (owner != 0 && os_proc_alive(owner))
			return 0;
	}
	return 1;
}

/* Remove the name if its ring is stale: SHMRING_OK (removed), ENOENT (no
 * such name), EEXIST (live, or being created or attached right now). */
static int sr_reclaim(const char *name)
{
	struct os_seg *os;
	int rc = os_seg_open(name, &os);

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
	                  c.flags, c.max_msg, &g);
	if (rc != SHMRING_OK)
		return rc;
	for (int i = 1;; i++) {
		rc = os_seg_create(name, (size_t)g.seg_size,
		                   c.perm ? c.perm : 0600, &os);
		if (rc != SHMRING_EEXIST || i == SR_CREATE_TRIES)
			break;
		/* removed, or gone meanwhile: the name is free, retry */
		rc = sr_reclaim(name);
		if (rc != SHMRING_OK && rc != SHMRING_ENOENT)
			return rc;
	}
	if (rc != SHMRING_OK)
		return rc;
	sr_seg_init(os_seg_base(os), &g, os_realtime_ns());
	/* The key it chose, from the header we wrote and nobody else yet. */
	g.mp_key = ((const struct sr_seg *)os_seg_base(os))->hdr.mp_key;
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
			rc = sr_seg_check(os_seg_base(os), os_seg_size(os),
			                  os_seg_granule(), &g);
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

int shmring_unlink_stale(const char *name)
{
	int rc;

	if (!sr_name_ok(name))
		return SHMRING_EINVAL;
	rc = sr_reclaim(name);
	return rc == SHMRING_EEXIST ? SHMRING_EBUSY : rc;
}

int shmring_close(shmring *r)
{
	uint64_t self;

	if (!r)
		return SHMRING_OK;
	if (!sr_handle_is_ours(r)) {
		/* A forked child's copy: the role is its parent's. Unmap,
		 * and touch nothing shared. */
		os_seg_close(r->os);
		sr_handle_free(r);
		return SHMRING_OK;
	}
	self = r->token;
	if (r->mp && r->me.side == SR_SIDE_PROD && r->pending)
		sr_mp_discard(r); /* open claims become padding */
	sr_ctr_flush(r);
	/* Release: follows our last index store, so a consumer that sees
	 * CLOSED (acquire, in wait.c's sr_peer_state) also sees the final
	 * head. It is W1's store: the peer's S1 re-check sees CLOSED, or we
	 * see its flag. */
	atomic_store_explicit(r->me.state, SR_ROLE_CLOSED,
	                      memory_order_release);
	/* MPSC: count ourselves out of the consumer's hint (a death before
	 * this leaves it one too high, which only costs it a scan of the
	 * entries per poll). */
	if (r->mp && r->me.side == SR_SIDE_PROD)
		atomic_fetch_sub_explicit(&r->seg->mp.attached, 1,
		                          memory_order_relaxed);
	if (r->mp && r->me.side == SR_SIDE_CONS)
		sr_mp_wake_producers(
		        r, 1); /* its peers: every sleeping producer */
	else
		sr_wake_peer(r);
	/* Give the role up only if it is still ours (a hostile peer may have
	 * written anything there). */
	atomic_compare_exchange_strong(r->me.owner, &self, 0);
	os_seg_close(r->os);
	sr_handle_free(r);
	return SHMRING_OK;
}
