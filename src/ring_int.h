/* SPDX-License-Identifier: MIT */
/*
 * ring_int.h -- the handle, its private geometry, the view of each side's
 * shared words, and the inline halves of the fast path that every data
 * call shares: the slot address, the run the cached index allows, the
 * publish (P1/C2) and the fast half of waking (W1). Everything slow lives
 * behind a call: waiting in wait.c, attaching in attach.c. No OS header,
 * no #ifdef for an OS: the OS is reached through os.h alone.
 *
 * Labels (P0, P1, C1, C2, W1, S1) are those of docs/protocol.md and of
 * the SPIN model in tests/model/.
 */
#ifndef SHMRING_RING_INT_H
#define SHMRING_RING_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "layout.h"
#include "os.h"
#include "record.h"
#include "shmring.h"

#define SR_SIDE_PROD 0u
#define SR_SIDE_CONS 1u
#define SR_NOTREADY  SHMRING_EAGAIN /* peer fine, nothing to do yet */
/* A handle of an SHMRING_F_MPSC ring calls as side | SR_MP, which the
 * single-producer role check rejects: that rejection routes the call to
 * mpsc.c (SR_ROUTE_MP), so the SPSC path tests nothing more per message. */
#define SR_MP       4u
#define SR_ROUTE_MP 1 /* not an error code: take the many-producer path */
/* Wake object ids (os_wait/os_signal): 0 the producer of an SPSC ring, 1
 * the consumer, SR_WAKE_MP + k producer entry k of an MPSC ring. */
#define SR_WAKE_MP 2u

_Static_assert(SR_MP_MAX == SHMRING_MAX_PRODUCERS, "producer table size");
_Static_assert(SR_MP_MAX <= 64, "one sleepers bit per producer");

/* Keeps the waiting path out of the callers' inline fast path. */
#if defined(__GNUC__)
#define SR_NOINLINE __attribute__((noinline))
#else
#define SR_NOINLINE
#endif

/* Geometry: computed from a config or a header (segment.c), then private
 * to a handle; never re-read from the segment. */
struct sr_geom {
	uint32_t slot_size;
	uint32_t slot_count;
	uint32_t stride;
	uint32_t flags;
	uint32_t max_msg;
	uint64_t seg_size;
	uint64_t mp_key; /* SHMRING_F_MPSC: the FREE words' key; else 0 */
};

/* The shared words of one side of the ring, bound once at attach: this
 * handle's own side (writes) and its peer's (reads). Many producers will
 * add peers here, not branches on a side number. */
struct sr_side {
	unsigned side;              /* SR_SIDE_PROD or SR_SIDE_CONS */
	unsigned wake;              /* its wake object id (SR_WAKE_*) */
	_Atomic uint64_t *index;    /* head (producer) / tail (consumer) */
	_Atomic uint64_t *owner;    /* role record: process token */
	_Atomic uint32_t *state;    /* role record: SR_ROLE_* */
	_Atomic uint32_t *caps;     /* role record: SR_CAP_* */
	_Atomic uint32_t *sleeping; /* wake: 1 while it may sleep */
	_Atomic uint32_t *word;     /* wake: futex word / event hint */
	_Atomic uint32_t *cpu;      /* wake: CPU it last waited on, + 1 */
	struct sr_counters *ctr;    /* its counters, for monitors */
};

/* One open claim (producer) or peek (consumer): a record at @at of @ext
 * slots whose payload is @len bytes. */
struct sr_pend {
	uint64_t at;
	uint32_t len;
	uint32_t ext;
};

#define SR_PEND_MASK (SHMRING_BATCH_MAX - 1u)
_Static_assert((SHMRING_BATCH_MAX & SR_PEND_MASK) == 0,
               "SHMRING_BATCH_MAX is a power of two");

struct shmring {
	/* hot: private copies, never re-read from the segment */
	uint8_t *slots;
	uint64_t pos;  /* own index as last published: head / tail */
	uint64_t peer; /* cached peer index: tail (producer), head (consumer) */
	uint64_t need; /* producer: free slots the waiting call needs */
	uint32_t mask;
	uint32_t stride;
	uint32_t count;
	uint32_t max_msg;
	uint32_t lap_shift;    /* log2(count) */
	uint32_t stride_shift; /* log2(stride) if a power of two, else 0 */
	uint32_t call_side;    /* what the data calls check: side [| SR_MP] */
	uint32_t mp;           /* 1: a handle of an SHMRING_F_MPSC ring */
	int asym;       /* registered for asymmetric fences (os_barrier_init) */
	int heavy;      /* our caps announce the heavy barrier (wait.c) */
	uint64_t bytes; /* payload bytes moved (for the counters) */
	uint32_t pending;     /* claims (producer) or peeks (consumer) open */
	uint32_t pend_first;  /* consumer: pend[] entry of the oldest peek */
	struct sr_pend *pend; /* SHMRING_BATCH_MAX entries */
	shmring_stats stats;
	struct sr_side me;
	struct sr_side peer_side;
	/* cold */
	uint64_t msgs_at_sleep; /* stats.messages at our last sleep */
	/* segment counters (wait.c): private counts, flushed as base + count
	 * into me.ctr; base is what the segment held when we attached */
	uint64_t blocked, timeouts, badfmt;
	uint64_t msgs_at_flush;
	uint64_t ctr_done[8]; /* what we have added to them so far */
	struct sr_seg *seg;
	struct os_seg *os;
	uint32_t slot_size;
	uint32_t spin_ns;
	uint32_t cpu_published; /* the value we last stored in me.cpu */
	uint32_t fork_gen;      /* os_fork_gen when opened: another value
	                           means a forked child holds this copy */
	uint64_t token;
	uint64_t next_live_ns; /* no liveness probe before this time */
	uint64_t dead_owner;   /* peer token found dead by a probe; 0 = none */
	/* many producers (mpsc.c) */
	uint32_t mp_k;         /* producer: our entry in the table */
	uint32_t mp_span_max;  /* producer: most slots one claim covers */
	uint64_t mp_key;       /* the FREE words' key, from the header */
	uint64_t next_resv_ns; /* consumer: no hole probe before this time */
	uint64_t mp_dead[SR_MP_MAX]; /* consumer: entry k's token found dead */
};

/* ---- segment.c: the header over bytes in memory, no OS ---------------- */

/* 1 if @name is a valid ring name. */
int sr_name_ok(const char *name);
/* Judge a geometry (from a config: max_msg 0 = the default). */
int sr_geom_make(uint32_t slot_size, uint32_t slot_count, uint32_t flags,
                 uint32_t max_msg, struct sr_geom *g);
/* Validate @size bytes at @base (the OS's size, its rounding @granule). */
int sr_seg_check(const struct sr_seg *s, size_t size, size_t granule,
                 struct sr_geom *g);
/* Fill a fresh, zeroed segment and publish it (magic last). */
void sr_seg_init(struct sr_seg *s, const struct sr_geom *g,
                 uint64_t created_ns);

/* ---- wait.c: the wake protocol ------------------------------------------ */

int sr_wait_slow(shmring *r, int timeout_ms, uint64_t *deadline);
int sr_refresh(shmring *r);
void sr_signal_peer(shmring *r);
/* Take the segment counters' values as the base (attach), and write the
 * running totals into them (wait.c flushes; close calls it last). */
void sr_ctr_start(shmring *r);
void sr_ctr_flush(shmring *r);

/* ---- mpsc.c: many producers --------------------------------------------- */

/* Re-read what a waiting handle of an MPSC ring waits on (sr_refresh()
 * for the mode): the producer's tail and claim hint; the consumer's walk
 * over committed words, passing holes of dead producers (@probe allows
 * liveness probes). */
int sr_mp_refresh(shmring *r, int probe);
/* The consumer's view of the producers: SR_NOTREADY, SHMRING_ECLOSED (none
 * attached, all closed), SHMRING_EPEERDEAD (those attached all dead). */
int sr_mp_peer_state(shmring *r, int probe);
/* C2 of an MPSC consumer: free the slots before @to, store tail, wake the
 * sleeping producers. */
void sr_mp_release(shmring *r, uint64_t to, uint64_t msgs, uint64_t bytes);
/* W1 of an MPSC consumer: wake each producer whose sleepers bit is set
 * and whose wake threshold the tail has reached (@all: every one). */
void sr_mp_wake_producers(shmring *r, int all);
/* An MPSC producer about to sleep at r->pos for r->need slots: the tail
 * at which it wants to be woken. */
uint64_t sr_mp_wake_at(const shmring *r);
/* Help the claim hint to the claim frontier and return it. */
uint64_t sr_mp_frontier(shmring *r);
/* Store PAD over every open claim (close, commitv of none). */
void sr_mp_discard(shmring *r);
/* sendv's arguments (EINVAL, EMSGSIZE), each message checked before any
 * is sent, then a closed consumer's early ECLOSED; else SHMRING_OK. Inline
 * for both modes' sendv (and so that the analysers see it). */
static inline int sr_check_msgs(const shmring *r, const shmring_msg *msgs,
                                size_t n, const size_t *sent)
{
	size_t i;

	if (!sent || (!msgs && n))
		return SHMRING_EINVAL;
	for (i = 0; i < n; i++)
		if (!msgs[i].data && msgs[i].len)
			return SHMRING_EINVAL;
	for (i = 0; i < n; i++)
		if (msgs[i].len > r->max_msg)
			return SHMRING_EMSGSIZE;
	/* Relaxed: a hint, as in sr_prod_room(): a closed consumer gets
	 * nothing, even when the cached tail shows room. */
	if (n && atomic_load_explicit(r->peer_side.state,
	                              memory_order_relaxed) == SR_ROLE_CLOSED)
		return SHMRING_ECLOSED;
	return SHMRING_OK;
}

/* claimv's arguments (EINVAL, EMSGSIZE, each length before any claim). */
static inline int sr_check_bufs(const shmring *r, const shmring_buf *bufs,
                                size_t n, const size_t *claimed)
{
	if (!claimed || (!bufs && n))
		return SHMRING_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (bufs[i].len > r->max_msg)
			return SHMRING_EMSGSIZE;
	return SHMRING_OK;
}

int sr_mp_send(shmring *r, const void *data, size_t len, int timeout_ms);
int sr_mp_sendv(shmring *r, const shmring_msg *msgs, size_t n, size_t *sent,
                int timeout_ms);
int sr_mp_claimv(shmring *r, shmring_buf *bufs, size_t n, size_t *claimed,
                 int timeout_ms);
int sr_mp_commitv(shmring *r, const size_t *lens, size_t n);

/* ---- inline fast path ---------------------------------------------------- */

/* 1 if this process opened @r (not a child that inherited it by fork).
 * Relaxed: the counter changes only in a new child, before it runs on. */
static inline int sr_handle_is_ours(const shmring *r)
{
	return r->fork_gen ==
	       atomic_load_explicit(&os_fork_gen, memory_order_relaxed);
}

/* Can the call proceed on what the cached peer index says? Producer: at
 * least r->need free slots; consumer: at least one published slot. */
static inline int sr_ready_cached(const shmring *r)
{
	return r->me.side == SR_SIDE_PROD
	               ? r->count - (r->pos - r->peer) >= r->need
	               : r->peer != r->pos;
}

/* The fast path stays inline: the cached index says the call can go on. */
static inline int sr_wait(shmring *r, int timeout_ms, uint64_t *deadline)
{
	return sr_ready_cached(r) ? SHMRING_OK
	                          : sr_wait_slow(r, timeout_ms, deadline);
}

static inline uint8_t *sr_slot_at(const shmring *r, uint64_t index)
{
	return r->slots + (size_t)(index & r->mask) * r->stride;
}

static inline _Atomic uint64_t *sr_rec_at(const shmring *r, uint64_t index)
{
	return (_Atomic uint64_t *)(void *)sr_slot_at(r, index);
}

static inline uint8_t *sr_payload_at(const shmring *r, uint64_t index)
{
	return sr_slot_at(r, index) + SR_REC_HDR;
}

/* Slots a record of @len bytes covers in this ring. */
static inline uint64_t sr_ext(const shmring *r, uint64_t len)
{
	return sr_rec_slots(len, r->stride, r->stride_shift);
}

/* SHMRING_OK, SHMRING_EINVAL, or SR_ROUTE_MP for a valid call on a
 * handle of an MPSC ring (its call_side has SR_MP set). */
static inline void sr_put_word(const shmring *r, uint64_t at, uint32_t type,
                               uint32_t len)
{
	/* Relaxed: published with the payload by P1 in sr_publish() (SPSC),
	 * or, in an MPSC ring, by the release store of the claim's first
	 * word that commits it (mpsc.c). The payload is written first. */
	atomic_store_explicit(sr_rec_at(r, at),
	                      sr_rec_word(type, len, at, r->lap_shift),
	                      memory_order_relaxed);
}

static inline void sr_put_pad(const shmring *r, uint64_t at, uint64_t slots)
{
	sr_put_word(r, at, SR_REC_PAD, sr_pad_len(slots, r->stride));
}

/* Count a corrupt value seen (for the segment's counters); returns
 * SHMRING_EBADFMT. */
static inline int sr_badfmt(shmring *r)
{
	r->badfmt++;
	return SHMRING_EBADFMT;
}

/* W1: after publishing an index or a state, wake the peer if it announced
 * that it sleeps. */
static inline void sr_wake_peer(shmring *r)
{
	/* FENCE_W: orders the caller's store before the flag load below. A
	 * compiler barrier suffices when the sleeper runs the heavy barrier
	 * in its FENCE_S (docs/protocol.md); the peer's caps are read on
	 * every call because a takeover may change them. */
	if (r->asym &&
	    (atomic_load_explicit(r->peer_side.caps, memory_order_relaxed) &
	     SR_CAP_HEAVY_BARRIER))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	/* Relaxed load: ordered by FENCE_W; pairs with the sleeper's FENCE_S.
	 * Taking the flag (exchange to 0) makes one signal per sleep, not one
	 * per message while the sleeper wakes up. Acquire: pairs with the
	 * sleeper's release store of the flag, so the sleeper's reset of its
	 * wake word for an earlier sleep comes before our signal. */
	if (atomic_load_explicit(r->peer_side.sleeping, memory_order_relaxed) &&
	    atomic_exchange_explicit(r->peer_side.sleeping, 0,
	                             memory_order_acquire))
		sr_signal_peer(r);
}

/* P1/C2 then W1: move our index to @to, handing every slot before it to
 * the peer with one index store and one wake check; @msgs messages of
 * @bytes payload bytes in all are counted as moved. */
static inline void sr_publish(shmring *r, uint64_t to, uint64_t msgs,
                              uint64_t bytes)
{
	r->pos = to;
	r->stats.messages += msgs;
	r->bytes += bytes;
	/* P1 (producer): release publishes the records' bytes and header
	 * words written before it to C1. C2 (consumer): release hands the
	 * slots back after our reads of them. It is also W1's store. */
	atomic_store_explicit(r->me.index, to, memory_order_release);
	sr_wake_peer(r);
}

#endif /* SHMRING_RING_INT_H */
