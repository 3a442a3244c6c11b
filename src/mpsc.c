/* SPDX-License-Identifier: MIT */
/*
 * mpsc.c -- many producers, one consumer (SHMRING_F_MPSC). The claim is a
 * compare-and-swap of the slot word at the claim frontier from FREE(lap)
 * to RESV(lap, producer, slots); head is only a hint that any producer
 * moves past a claimed word; the commit is one release store of the
 * claim's first word. The consumer reads words, not head, frees each slot
 * it releases (FREE(lap + 1)), and turns the claim of a dead producer into
 * padding. docs/protocol.md "Many producers" is the reference, step by
 * step; tests/model/mpsc.pml models it. No OS header: os.h only.
 *
 * Data calls arrive here from data.c when the role check finds an MPSC
 * handle (SR_ROUTE_MP); the consumer's calls stay in data.c but for the
 * release (sr_mp_release) and the refresh (sr_mp_refresh).
 */
#include <string.h>

#include "record.h"
#include "ring_int.h"

#define SR_MP_WALK       256       /* records one consumer refresh walks */
#define SR_LIVE_CHECK_NS 20000000u /* as wait.c: one probe per 20 ms */

#define SR_BAD_WORD UINT64_MAX /* sr_mp_extent(): a corrupt claimed word */

static inline _Atomic uint64_t *sr_head(const shmring *r)
{
	return &r->seg->head.value;
}

/* FREE for the lap of index @i: the only word a claim at @i replaces. */
static inline uint64_t sr_mp_free(const shmring *r, uint64_t i)
{
	return sr_free_word(r->mp_key, i, r->lap_shift);
}

/* The slots a claimed word @w at index @i covers (a message, padding or a
 * claim of this lap); 0 if it is not one; SR_BAD_WORD if it claims to be
 * one but cannot be (too long, past the end of the ring). */
static uint64_t sr_mp_extent(const shmring *r, uint64_t w, uint64_t i)
{
	uint32_t type = sr_rec_type(w), len = sr_rec_len(w);
	uint64_t e;

	if (type == SR_REC_EMPTY || !sr_rec_lap_is(w, i, r->lap_shift))
		return 0;
	if (type == SR_REC_RESV)
		e = sr_resv_slots(len);
	else if (type == SR_REC_MSG && len > r->max_msg)
		return SR_BAD_WORD;
	else
		e = sr_ext(r, len);
	if (e == 0 || e > r->count - (i & r->mask) || e > r->mp_span_max)
		return SR_BAD_WORD;
	return e;
}

/* Step 2: move the hint from @h past the claimed word there. Relaxed
 * failure: someone else moved it. Release on success, with step 1's
 * acquire load of head: a producer that reads the new hint also sees the
 * claim word the helper read to move it. Nothing relies on more: the
 * word found at the new hint is judged against a tail read afresh when
 * it is neither FREE nor claimed (step 4). */
static inline void sr_mp_help(const shmring *r, uint64_t h, uint64_t e)
{
	atomic_compare_exchange_strong_explicit(sr_head(r), &h, h + e,
	                                        memory_order_release,
	                                        memory_order_relaxed);
}

uint64_t sr_mp_frontier(shmring *r)
{
	for (uint32_t i = 0; i <= r->count; i++) {
		uint64_t h =
		        atomic_load_explicit(sr_head(r), memory_order_acquire);
		uint64_t t = atomic_load_explicit(&r->seg->tail.value,
		                                  memory_order_acquire);
		uint64_t e =
		        sr_mp_extent(r,
		                     atomic_load_explicit(sr_rec_at(r, h),
		                                          memory_order_acquire),
		                     h);

		if ((int64_t)(t - h) > 0) /* behind the tail: to it, as in a
		                             claim (sr_mp_claim) */
			e = t - h;
		else if (e == 0 || e == SR_BAD_WORD)
			return h;
		sr_mp_help(r, h, e);
	}
	return atomic_load_explicit(sr_head(r), memory_order_acquire);
}

/* ---- producer ------------------------------------------------------------ */

/*
 * The producer's refresh: tail (P0, acquire: pairs with the consumer's C2,
 * so the FREE words it wrote before are visible) and the claim hint. OK
 * when the wait is over: room for r->need slots at r->pos, or head moved
 * (claim again from the new frontier). tail never moves back, and head is
 * never more than a ring past it (it may lag behind it).
 */
static int sr_mp_refresh_prod(shmring *r)
{
	/* head first: it is then at most a ring past the tail read after it
	 * (the claims it passed were within a ring of the tail of that
	 * moment). A tail read later may be any distance past it. */
	uint64_t h = atomic_load_explicit(sr_head(r), memory_order_acquire);
	uint64_t t =
	        atomic_load_explicit(&r->seg->tail.value, memory_order_acquire);

	if ((int64_t)(t - r->peer) < 0 || (int64_t)(h - t) > (int64_t)r->count)
		return sr_badfmt(r);
	r->peer = t;
	if (h != r->pos) {
		r->pos = h;
		return SHMRING_OK;
	}
	return sr_ready_cached(r) ? SHMRING_OK : SR_NOTREADY;
}

/* Room for @slots at @h by the cached tail (head may lag tail: then the
 * difference is negative and there is room). */
static inline int sr_mp_room(const shmring *r, uint64_t h, uint64_t slots)
{
	return (int64_t)(h + slots - r->peer) <= (int64_t)r->count;
}

/*
 * Claim one span at the frontier for the records pend[0..n) (ext and len
 * set): the first always, waiting for room as the call allows, then as
 * many as fit behind it before the end of the ring, within the room the
 * cached tail shows and within mp_span_max. Where the first does not fit
 * before the end of the ring, padding to the end is claimed (and so
 * committed) first. Fills pend[i].at; *@got (>= 1 on success).
 */
static int sr_mp_claim(shmring *r, uint32_t n, uint32_t *got, int timeout_ms,
                       uint64_t *deadline)
{
	for (;;) {
		uint64_t h, w, e, left, span, claim;
		uint32_t k;
		int rc;

		/* Relaxed: a hint for an early ECLOSED, as in SPSC; sr_poll's
		 * acquire read is the one that orders. */
		if (atomic_load_explicit(r->peer_side.state,
		                         memory_order_relaxed) ==
		    SR_ROLE_CLOSED)
			return SHMRING_ECLOSED;
		/* Step 1. Acquire: a word read after it is at least as new as
		 * the claim that moved head here. */
		h = atomic_load_explicit(sr_head(r), memory_order_acquire);
		/* The hint behind the tail we know: every index below tail
		 * was claimed and consumed (its claimer died or is slow
		 * between its two CASes, and the consumer passed the record,
		 * so no claimed word is left there to help past): move the
		 * hint to tail. */
		if ((int64_t)(r->peer - h) > 0) {
			sr_mp_help(r, h, r->peer - h);
			continue;
		}
		w = atomic_load_explicit(sr_rec_at(r, h), memory_order_acquire);
		e = sr_mp_extent(r, w, h);
		if (e == SR_BAD_WORD)
			return sr_badfmt(r);
		if (e) { /* step 2: claimed; help the hint past it */
			sr_mp_help(r, h, e);
			continue;
		}
		/* Step 3: the first record, or padding to the end. */
		left = r->count - (h & r->mask);
		span = r->pend[0].ext <= left ? r->pend[0].ext : left;
		if (w != sr_mp_free(r, h) || !sr_mp_room(r, h, span)) {
			/* Step 4: not FREE, or no room by the cached
			 * tail. P0 afresh first (head, then tail): other
			 * producers may have moved head more than a ring past
			 * the tail we cached, which sr_ready_cached() cannot
			 * tell; then wait if there is still no room. */
			r->pos = h;
			r->need = span;
			rc = sr_mp_refresh_prod(r);
			if (rc == SR_NOTREADY)
				rc = sr_wait_slow(r, timeout_ms, deadline);
			if (rc != SHMRING_OK)
				return rc;
			if (w != sr_mp_free(r, h) && r->pos == h &&
			    (int64_t)(r->peer - h) <= 0 &&
			    sr_mp_room(r, h, span)) {
				/* Released by a tail read after w, head still
				 * h: the consumer frees a slot before its tail
				 * store, so a word read now is FREE or claimed.
				 * Anything else was written by no producer or
				 * consumer. */
				w = atomic_load_explicit(sr_rec_at(r, h),
				                         memory_order_acquire);
				if (w != sr_mp_free(r, h) &&
				    sr_mp_extent(r, w, h) == 0 &&
				    atomic_load_explicit(
				            sr_head(r), memory_order_relaxed) ==
				            h)
					return sr_badfmt(r);
			}
			continue;
		}
		if (r->pend[0].ext > left) {
			/* Padding: its CAS is its commit; wake the consumer
			 * (step 7), which may wait at it to free what we
			 * need. */
			if (atomic_compare_exchange_strong_explicit(
			            sr_rec_at(r, h), &w,
			            sr_rec_word(SR_REC_PAD,
			                        sr_pad_len(left, r->stride), h,
			                        r->lap_shift),
			            memory_order_acquire,
			            memory_order_relaxed)) {
				sr_mp_help(r, h, left);
				sr_wake_peer(r);
			}
			continue;
		}
		r->pend[0].at = h;
		for (k = 1; k < n; k++) {
			e = r->pend[k].ext;
			if (e > left - span || span + e > r->mp_span_max ||
			    !sr_mp_room(r, h, span + e))
				break;
			r->pend[k].at = h + span;
			span += e;
		}
		/* Step 5, the claim. Acquire: our payload stores stay after
		 * it (and after the tail load that showed the slots free). */
		claim = sr_rec_word(SR_REC_RESV, sr_resv_len(r->mp_k, span), h,
		                    r->lap_shift);
		if (!atomic_compare_exchange_strong_explicit(
		            sr_rec_at(r, h), &w, claim, memory_order_acquire,
		            memory_order_relaxed))
			continue;
		sr_mp_help(r, h, span); /* step 6 */
		*got = k;
		return SHMRING_OK;
	}
}

/*
 * Commit the first @n of the @claimed records of one span (pend[0..)),
 * with lengths @lens (NULL: as claimed), and turn the rest into padding.
 * Every word but the first is stored relaxed, then the first word with
 * release: the commit, which the consumer's acquire load of it pairs
 * with, so it sees the payloads and the other words. Then W1.
 */
static void sr_mp_commit(shmring *r, uint32_t claimed, const size_t *lens,
                         uint32_t n)
{
	uint64_t bytes = 0, ext, first;
	uint32_t len0 = 0;

	for (uint32_t i = 0; i < claimed; i++) {
		const struct sr_pend *c = &r->pend[i];
		uint32_t len = i < n ? (uint32_t)(lens ? lens[i] : c->len) : 0;

		ext = i < n ? sr_ext(r, len) : 0;
		/* A shorter message, or discarded: padding over what it no
		 * longer needs. Never the span's first word here (i == 0 with
		 * ext == 0): that is the commit, stored last below; storing
		 * it first would hand the consumer the span before the other
		 * words, and this late store would then land in slots it had
		 * already freed (the kill suite's stale PAD words). */
		if (ext < c->ext && (i != 0 || ext != 0))
			sr_put_pad(r, c->at + ext, c->ext - ext);
		if (i < n) {
			bytes += len;
			if (i == 0)
				len0 = len;
			else
				sr_put_word(r, c->at, SR_REC_MSG, len);
		}
	}
	first = n ? sr_rec_word(SR_REC_MSG, len0, r->pend[0].at, r->lap_shift)
	          : sr_rec_word(SR_REC_PAD,
	                        sr_pad_len(r->pend[0].ext, r->stride),
	                        r->pend[0].at, r->lap_shift);
	atomic_store_explicit(sr_rec_at(r, r->pend[0].at), first,
	                      memory_order_release);
	r->stats.messages += n;
	r->bytes += bytes;
	sr_wake_peer(r);
}

void sr_mp_discard(shmring *r)
{
	if (r->pending)
		sr_mp_commit(r, r->pending, NULL, 0);
	r->pending = 0;
}

int sr_mp_send(shmring *r, const void *data, size_t len, int timeout_ms)
{
	uint64_t deadline = 0;
	uint32_t got;
	int rc;

	if (!data && len)
		return SHMRING_EINVAL;
	if (len > r->max_msg)
		return SHMRING_EMSGSIZE;
	r->pend[0].len = (uint32_t)len;
	r->pend[0].ext = (uint32_t)sr_ext(r, len);
	rc = sr_mp_claim(r, 1, &got, timeout_ms, &deadline);
	if (rc != SHMRING_OK)
		return rc;
	if (len)
		memcpy(sr_payload_at(r, r->pend[0].at), data, len);
	sr_mp_commit(r, 1, NULL, 1);
	return SHMRING_OK;
}

int sr_mp_sendv(shmring *r, const shmring_msg *msgs, size_t n, size_t *sent,
                int timeout_ms)
{
	uint64_t deadline = 0;
	size_t done = 0;
	uint32_t got, k, m;
	int rc;

	if (sent)
		*sent = 0;
	rc = sr_check_msgs(r, msgs, n, sent);
	if (rc != SHMRING_OK)
		return rc;
	while (done < n) {
		m = n - done < SHMRING_BATCH_MAX ? (uint32_t)(n - done)
		                                 : SHMRING_BATCH_MAX;
		for (k = 0; k < m; k++) {
			r->pend[k].len = (uint32_t)msgs[done + k].len;
			r->pend[k].ext =
			        (uint32_t)sr_ext(r, msgs[done + k].len);
		}
		rc = sr_mp_claim(r, m, &got, timeout_ms, &deadline);
		if (rc != SHMRING_OK)
			return rc;
		for (k = 0; k < got; k++)
			if (msgs[done + k].len)
				memcpy(sr_payload_at(r, r->pend[k].at),
				       msgs[done + k].data, msgs[done + k].len);
		sr_mp_commit(r, got, NULL, got);
		done += got;
		*sent = done;
	}
	return SHMRING_OK;
}

int sr_mp_claimv(shmring *r, shmring_buf *bufs, size_t n, size_t *claimed,
                 int timeout_ms)
{
	uint64_t deadline = 0;
	uint32_t got, k;
	int rc;

	if (claimed)
		*claimed = 0;
	rc = sr_check_bufs(r, bufs, n, claimed);
	if (rc != SHMRING_OK || n == 0)
		return rc;
	if (n > SHMRING_BATCH_MAX)
		n = SHMRING_BATCH_MAX;
	for (k = 0; k < n; k++) {
		r->pend[k].len = (uint32_t)bufs[k].len;
		r->pend[k].ext = (uint32_t)sr_ext(r, bufs[k].len);
	}
	rc = sr_mp_claim(r, (uint32_t)n, &got, timeout_ms, &deadline);
	if (rc != SHMRING_OK)
		return rc;
	for (k = 0; k < got; k++)
		bufs[k].data = sr_payload_at(r, r->pend[k].at);
	r->pending = got;
	*claimed = got;
	return SHMRING_OK;
}

int sr_mp_commitv(shmring *r, const size_t *lens, size_t n)
{
	if (!r->pending || n > r->pending)
		return SHMRING_EINVAL;
	for (size_t i = 0; lens && i < n; i++)
		if (lens[i] > r->pend[i].len)
			return SHMRING_EINVAL;
	sr_mp_commit(r, r->pending, lens, (uint32_t)n);
	r->pending = 0;
	return SHMRING_OK;
}

/* ---- consumer ------------------------------------------------------------ */

/*
 * Is the claim RESV @w at @at abandoned? Yes when its entry is not held
 * by an attached process, when the claim is below the entry's `since`
 * (its present holder took over from the dead one that made it), or when
 * the holder is dead: probed (a system call) at most every 20 ms and only
 * when @probe allows; a token found dead stays dead.
 */
static int sr_mp_abandoned(shmring *r, uint64_t at, uint64_t w, int probe)
{
	uint32_t k = sr_resv_producer(sr_rec_len(w));
	const struct sr_mp_prod *p;
	uint64_t owner, since, now;
	uint32_t st;

	if (k >= SR_MP_MAX)
		return 1; /* no producer could have made it */
	p = &r->seg->mp.prod[k];
	/* Relaxed: values to judge by, re-read at every poll; a hostile one
	 * can only make us skip or keep waiting. Acquire on since: pairs
	 * with the taker's release, after the helping that found it. */
	owner = atomic_load_explicit(&p->owner, memory_order_relaxed);
	st = atomic_load_explicit(&p->state, memory_order_relaxed);
	since = atomic_load_explicit(&p->since, memory_order_acquire);
	if (owner == 0 || st != SR_ROLE_ATTACHED || (int64_t)(at - since) < 0)
		return 1;
	if (owner == r->mp_dead[k])
		return 1;
	if (probe) {
		now = os_now_ns();
		if (now >= r->next_resv_ns) {
			r->next_resv_ns = now + SR_LIVE_CHECK_NS;
			if (!os_proc_alive(owner)) {
				r->mp_dead[k] = owner;
				return 1;
			}
		}
	}
	return 0;
}

/*
 * The consumer's refresh: from the end of the committed run it knows
 * (r->peer), walk the words (acquire: pairs with each commit's release)
 * over messages and padding of this lap, turning a dead producer's claim
 * into padding (CAS: it cannot change under us, a live one's commit
 * would make the CAS fail) and a slot a dead consumer released into one
 * slot of padding; stop at the frontier (FREE), at a live claim, or after
 * SR_MP_WALK records. r->peer is then the end of the run, for the SPSC
 * consumer code; a bad word at pos is EBADFMT. That code reads each word
 * again (sr_rec_take) and checks it again against the run's end and the
 * geometry: a word a hostile peer changed between the two reads is judged
 * by that check alone, so nothing rests on the first read.
 */
static int sr_mp_refresh_cons(shmring *r, int probe)
{
	uint64_t at = r->peer, w, e;
	unsigned n = 0;
	int bad = 0;

	while (at - r->pos < r->count && n < SR_MP_WALK) {
		w = atomic_load_explicit(sr_rec_at(r, at),
		                         memory_order_acquire);
		e = sr_mp_extent(r, w, at);
		if (e == SR_BAD_WORD || e > r->count - (at - r->pos)) {
			bad = 1;
			break;
		}
		if (e == 0) {
			/* FREE(lap + 1): freed by a consumer that died before
			 * its tail store; ours until tail passes it. */
			if (w == sr_mp_free(r, at + r->count)) {
				sr_put_pad(r, at, 1);
				continue;
			}
			/* FREE(lap): the frontier; anything else is no word
			 * a producer or a consumer writes there. */
			bad = w != sr_mp_free(r, at);
			break;
		}
		if (sr_rec_type(w) == SR_REC_RESV) {
			if (!sr_mp_abandoned(r, at, w, probe))
				break; /* a live claim: wait for its commit */
			if (e * r->stride - SR_REC_HDR > UINT32_MAX) {
				bad = 1; /* not a claim a producer makes */
				break;
			}
			if (atomic_compare_exchange_strong_explicit(
			            sr_rec_at(r, at), &w,
			            sr_rec_word(SR_REC_PAD,
			                        sr_pad_len(e, r->stride), at,
			                        r->lap_shift),
			            memory_order_relaxed, memory_order_relaxed))
				r->stats.abandoned++;
			continue; /* re-read: padding now, or committed */
		}
		at += e;
		n++;
	}
	if (at != r->pos) {
		r->peer = at;
		return SHMRING_OK;
	}
	/* A bad word further on is reported when pos reaches it. */
	return bad ? sr_badfmt(r) : SR_NOTREADY;
}

int sr_mp_refresh(shmring *r, int probe)
{
	return r->me.side == SR_SIDE_PROD ? sr_mp_refresh_prod(r)
	                                  : sr_mp_refresh_cons(r, probe);
}

/*
 * The producers as the consumer's peer. `attached` is only the fast path:
 * while it is not zero, and no probe is allowed, a producer is there. The
 * verdict itself comes from the entries, so that a count left wrong by a
 * death inside open or close cannot end a stream: any entry ATTACHED to a
 * live process (or to one not probed yet) means wait; else one held by a
 * dead process means EPEERDEAD; else one CLOSED means ECLOSED (every
 * producer that came has left); else none came yet: wait. Acquire on each
 * state: pairs with the closer's release store of CLOSED, which follows
 * its last commit; the states are read before the words (sr_poll), so a
 * drained ring with every entry closed has seen every commit.
 */
int sr_mp_peer_state(shmring *r, int probe)
{
	int dead = 0, closed = 0, may_probe = 0;
	uint64_t now;

	/* Relaxed: a hint; the entries below decide. */
	if (atomic_load_explicit(&r->seg->mp.attached, memory_order_relaxed) &&
	    !probe)
		return SR_NOTREADY;
	if (probe) {
		now = os_now_ns();
		may_probe = now >= r->next_live_ns;
		if (may_probe)
			r->next_live_ns = now + SR_LIVE_CHECK_NS;
	}
	for (uint32_t k = 0; k < SR_MP_MAX; k++) {
		const struct sr_mp_prod *p = &r->seg->mp.prod[k];
		uint32_t st =
		        atomic_load_explicit(&p->state, memory_order_acquire);
		/* Relaxed: a token to probe; any value is safe. */
		uint64_t owner =
		        atomic_load_explicit(&p->owner, memory_order_relaxed);

		if (st == SR_ROLE_CLOSED) {
			closed = 1;
		} else if (st == SR_ROLE_ATTACHED && owner != 0) {
			if (owner == r->mp_dead[k]) {
				dead = 1;
			} else if (!may_probe || os_proc_alive(owner)) {
				return SR_NOTREADY;
			} else if (atomic_load_explicit(&p->state,
			                                memory_order_acquire) ==
			           SR_ROLE_CLOSED) {
				/* It closed and exited since st was read (a
				 * close stores CLOSED before the process
				 * ends): closed, not dead. */
				closed = 1;
			} else {
				r->mp_dead[k] =
				        owner; /* a token is never reused */
				dead = 1;
			}
		}
	}
	return dead     ? SHMRING_EPEERDEAD
	       : closed ? SHMRING_ECLOSED
	                : SR_NOTREADY;
}

void sr_mp_release(shmring *r, uint64_t to, uint64_t msgs, uint64_t bytes)
{
	uint64_t at, e, w;
	int marked = 0;

	/* First mark each record of more than one slot as padding: a
	 * consumer killed below sees it whole, as padding, or freed slot by
	 * slot, never a torn message (docs/protocol.md). Our own records,
	 * read once already: a word changed since is clamped to the range. */
	for (at = r->pos; at != to; at += e) { /* !=: indices wrap at 2^64 */
		w = atomic_load_explicit(sr_rec_at(r, at),
		                         memory_order_relaxed);
		e = sr_ext(r, sr_rec_len(w));
		if (e > to - at)
			e = to - at;
		if (e > 1) {
			sr_put_pad(r, at, e);
			marked = 1;
		}
	}
	if (marked) /* the marks before any slot of theirs is freed */
		atomic_thread_fence(memory_order_release);
	/* Free from the last slot back, so a record's first word is freed
	 * after the rest of it. Relaxed: published by C2 below. */
	for (at = to; at != r->pos;) {
		at--;
		atomic_store_explicit(sr_rec_at(r, at),
		                      sr_mp_free(r, at + r->count),
		                      memory_order_relaxed);
	}
	r->pos = to; /* r->peer, the end of the walked run, is at or past it */
	r->stats.messages += msgs;
	r->bytes += bytes;
	/* C2: release, after our reads of the slots and the FREE words; a
	 * producer's acquire load of tail (P0) sees them. */
	atomic_store_explicit(&r->seg->tail.value, to, memory_order_release);
	sr_mp_wake_producers(r, 0);
}

/*
 * The wake threshold of a producer about to sleep at r->pos for r->need
 * slots: the tail at which there is room at r->pos for its need or half
 * the ring, whichever is more (never past r->pos: need <= count). Woken
 * at the first slot freed, a producer of small messages would send one,
 * find the ring full and sleep again: a pair of system calls per message
 * whenever the consumer is preempted (up to 0.04 futex calls per message
 * with two producers and the consumer on two CPUs, docs/performance.md).
 * Its own re-checks (spin, S1, each slice) still look for the room it
 * needs, not for the threshold.
 *
 * The consumer reaches it: every index below r->pos was claimed (the hint
 * is only ever moved past claims, or to tail), so the consumer releases
 * past it unless a claim there stays open; then it waits, and before it
 * sleeps it wakes every producer whatever its threshold (sr_sleep). The
 * cost: a producer sleeps on with its room free when the consumer stops
 * taking messages between the two, for at most one slice (50 ms).
 */
uint64_t sr_mp_wake_at(const shmring *r)
{
	uint64_t room = r->need > r->count / 2 ? r->need : r->count / 2;

	return r->pos + room - r->count; /* room <= count: a span's extent */
}

void sr_mp_wake_producers(shmring *r, int all)
{
	uint64_t bits, take = 0;
	uint32_t k;

	/* W1 towards the producers: FENCE_W is a full fence (producers do not
	 * announce the heavy barrier: one word stands for all of them), then
	 * their bits. Acquire: pairs with the bits' seq_cst RMWs, so that a
	 * threshold read below is at least the one stored before the bit. */
	atomic_thread_fence(memory_order_seq_cst);
	bits = atomic_load_explicit(&r->seg->mp.sleepers, memory_order_acquire);
	for (k = 0; bits && k < SR_MP_MAX; k++, bits >>= 1)
		/* Relaxed: ordered by the acquire load above. A hostile
		 * value only makes its producer sleep longer (a slice). The
		 * new tail is r->pos (sr_mp_release). */
		if ((bits & 1u) &&
		    (all ||
		     (int64_t)(r->pos - atomic_load_explicit(
		                                &r->seg->mp.prod[k].wake_at,
		                                memory_order_relaxed)) >= 0))
			take |= UINT64_C(1) << k;
	if (!take)
		return;
	/* Take the bits of those we wake, the others stay set. Acquire, as
	 * sr_wake_peer()'s exchange: a producer's reset of its wake word
	 * after an earlier sleep comes before our signal. */
	bits = atomic_fetch_and_explicit(&r->seg->mp.sleepers, ~take,
	                                 memory_order_acquire) &
	       take;
	for (k = 0; bits && k < SR_MP_MAX; k++, bits >>= 1)
		if (bits & 1u)
			r->stats.wakes += os_signal(r->os, SR_WAKE_MP + k,
			                            &r->seg->mp.prod[k].word);
	sr_ctr_flush(r);
}
