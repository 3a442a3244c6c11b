/* SPDX-License-Identifier: MIT */
/*
 * data.c -- the data calls of the single-producer ring: copy, zero-copy,
 * single and batch. They share one core per side: the producer's
 * sr_prod_room() (wait for room for one record, padding at the end of the
 * ring) and sr_fit() (room without waiting, for the rest of a batch); the
 * consumer's sr_cons_next() (wait for one message, skipping padding) and
 * sr_rec_take() (the one read and check of a record header). Every call
 * ends with one sr_publish() (ring_int.h): one index store and one wake
 * check, whatever the number of records.
 *
 * Records (record.h, docs/format.md): a header word, then the payload,
 * contiguous over one or more slots. Single producer: the header word is
 * stored relaxed and published, with the payload, by P1's release store
 * of head; the consumer reads it once after C1's acquire load of head and
 * checks it against its private geometry before anything else.
 */
#include <string.h>

#include "arch.h"
#include "record.h"
#include "ring_int.h"

#define SR_PREFETCH_MAX 4096 /* bytes of the next record taken ahead */

static int sr_check_call(const shmring *r, unsigned side, int timeout_ms)
{
	if (!r || timeout_ms < SHMRING_FOREVER || !sr_handle_is_ours(r))
		return SHMRING_EINVAL;
	if (r->call_side == side)
		return SHMRING_OK;
	return r->call_side == (side | SR_MP) ? SR_ROUTE_MP : SHMRING_EINVAL;
}

/* As sr_check_call(), for a call that may not run while a claim or a peek
 * is open. */
static int sr_check_idle(const shmring *r, unsigned side, int timeout_ms)
{
	int rc = sr_check_call(r, side, timeout_ms);

	return rc != SHMRING_EINVAL && r->pending ? SHMRING_EINVAL : rc;
}

/* The consumer's C2: one release store of tail and the wake check (SPSC),
 * or mpsc.c's release, which frees the slots first. @mp is a constant in
 * every caller but one slow path, so each call site compiles to one. */
static inline void sr_cons_publish(shmring *r, uint64_t to, uint64_t msgs,
                                   uint64_t bytes, int mp)
{
	if (mp)
		sr_mp_release(r, to, msgs, bytes);
	else
		sr_publish(r, to, msgs, bytes);
}

/* ---- producer ------------------------------------------------------------ */

/* Slots a record of @ext slots needs at @w: itself, plus padding to the end
 * of the ring first (*pad slots) if it would run past it. */
static inline uint64_t sr_room_need(const shmring *r, uint64_t w, uint64_t ext,
                                    uint64_t *pad)
{
	uint64_t left = r->count - (w & r->mask);

	*pad = ext > left ? left : 0;
	return *pad + ext;
}

/* Free slots from @w (at or after pos) by the cached tail. */
static inline uint64_t sr_free_at(const shmring *r, uint64_t w)
{
	return r->count - (w - r->peer);
}

/* Copy a message into the record at @at, not yet published. */
static inline void sr_put(const shmring *r, uint64_t at, const void *data,
                          size_t len)
{
	if (len)
		memcpy(sr_payload_at(r, at), data, len);
	sr_put_word(r, at, SR_REC_MSG, (uint32_t)len);
}

/*
 * Wait until a record of @ext slots fits at pos, padding to the end of the
 * ring first where it would run past it: *at gets where the record goes,
 * the padding before it written but not published. Where padding and
 * record cannot fit at once (together more than the ring), the padding is
 * published alone as soon as its slots are free, and the wait goes on for
 * the record at slot 0. The consumer's CLOSED state is checked each time
 * (a read of a line the consumer rarely writes).
 */
static SR_NOINLINE int sr_prod_room_slow(shmring *r, uint64_t ext, uint64_t *at,
                                         int timeout_ms, uint64_t *deadline)
{
	uint64_t pad, need;
	int rc;

	for (;;) {
		/* Relaxed: a hint for an early ECLOSED; sr_poll()'s acquire
		 * read is the one that orders. */
		if (atomic_load_explicit(r->peer_side.state,
		                         memory_order_relaxed) ==
		    SR_ROLE_CLOSED)
			return SHMRING_ECLOSED;
		need = sr_room_need(r, r->pos, ext, &pad);
		r->need = need <= r->count ? need : pad;
		rc = sr_wait(r, timeout_ms, deadline);
		if (rc != SHMRING_OK)
			return rc;
		if (pad)
			sr_put_pad(r, r->pos, pad);
		if (need <= r->count)
			break;
		sr_publish(r, r->pos + pad, 0, 0);
	}
	*at = r->pos + pad;
	return SHMRING_OK;
}

/* The common case inline: no padding needed and room by the cached tail. */
static inline int sr_prod_room(shmring *r, uint64_t ext, uint64_t *at,
                               int timeout_ms, uint64_t *deadline)
{
	/* Relaxed: as in sr_prod_room_slow(). */
	if (ext <= r->count - (r->pos & r->mask) &&
	    ext <= r->count - (r->pos - r->peer) &&
	    atomic_load_explicit(r->peer_side.state, memory_order_relaxed) !=
	            SR_ROLE_CLOSED) {
		*at = r->pos;
		return SHMRING_OK;
	}
	return sr_prod_room_slow(r, ext, at, timeout_ms, deadline);
}

/* Without waiting: does a record of @ext slots fit at @w by the cached
 * tail (re-read once, *refreshed, when it does not)? If so, write any
 * padding before it and return where it goes in *at. */
static int sr_fit(shmring *r, uint64_t w, uint64_t ext, int *refreshed,
                  uint64_t *at)
{
	uint64_t pad, need = sr_room_need(r, w, ext, &pad);

	if (need > sr_free_at(r, w)) {
		if (*refreshed)
			return 0;
		*refreshed = 1;
		/* P0 once more: the verdict only widens the cache (or is
		 * EBADFMT, which leaves it as it was for the next wait). */
		(void)sr_refresh(r);
		if (need > sr_free_at(r, w))
			return 0;
	}
	if (pad)
		sr_put_pad(r, w, pad);
	*at = w + pad;
	return 1;
}

/*
 * After publishing: take the cache lines of the next record for writing
 * now, while the consumer reads what we published, instead of when the
 * next message is copied in (measured in docs/performance.md: a cross-core
 * transfer less on the critical path of a ping-pong). Only whole lines
 * that start inside the next slot, so that a line the consumer is still
 * reading (the end of the record just published) is left alone, and only
 * a slot the cached tail shows free. A hint: it changes no memory and no
 * ordering.
 */
static inline void sr_prefetch_next(const shmring *r)
{
	uintptr_t p, end;

	/* A slot smaller than a line has no whole line of its own. */
	if (r->stride < 64 || r->pos - r->peer >= r->count)
		return;
	p = (uintptr_t)sr_slot_at(r, r->pos);
	end = p + (r->stride < SR_PREFETCH_MAX ? r->stride : SR_PREFETCH_MAX);
	for (p = (p + 63u) & ~(uintptr_t)63u; p < end; p += 64)
		sr_prefetch_write((const void *)p);
}

int shmring_send(shmring *r, const void *data, size_t len, int timeout_ms)
{
	uint64_t deadline = 0, ext, at;
	int rc = sr_check_idle(r, SR_SIDE_PROD, timeout_ms);

	if (rc != SHMRING_OK || (!data && len))
		return rc == SR_ROUTE_MP ? sr_mp_send(r, data, len, timeout_ms)
		                         : SHMRING_EINVAL;
	if (len > r->max_msg)
		return SHMRING_EMSGSIZE;
	ext = sr_ext(r, len);
	rc = sr_prod_room(r, ext, &at, timeout_ms, &deadline);
	if (rc != SHMRING_OK)
		return rc;
	sr_put(r, at, data, len);
	sr_publish(r, at + ext, 1, len);
	sr_prefetch_next(r);
	return SHMRING_OK;
}

int shmring_sendv(shmring *r, const shmring_msg *msgs, size_t n, size_t *sent,
                  int timeout_ms)
{
	uint64_t deadline = 0, w, ext, at, bytes = 0;
	size_t done = 0, i;
	int rc = sr_check_idle(r, SR_SIDE_PROD, timeout_ms), refreshed = 0;

	if (rc == SR_ROUTE_MP)
		return sr_mp_sendv(r, msgs, n, sent, timeout_ms);
	if (sent)
		*sent = 0;
	if (rc != SHMRING_OK)
		return SHMRING_EINVAL;
	rc = sr_check_msgs(r, msgs, n, sent);
	if (rc != SHMRING_OK)
		return rc;
	for (i = 0, w = r->pos; i < n; i++) {
		ext = sr_ext(r, msgs[i].len);
		if (!sr_fit(r, w, ext, &refreshed, &at)) {
			/* Full: hand over what is written, then wait. */
			if (w != r->pos)
				sr_publish(r, w, i - done, bytes);
			bytes = 0;
			done = i;
			*sent = done;
			refreshed = 0;
			rc = sr_prod_room(r, ext, &at, timeout_ms, &deadline);
			if (rc != SHMRING_OK)
				return rc;
		}
		sr_put(r, at, msgs[i].data, msgs[i].len);
		bytes += msgs[i].len;
		w = at + ext;
	}
	if (w != r->pos)
		sr_publish(r, w, n - done, bytes);
	*sent = n;
	sr_prefetch_next(r);
	return SHMRING_OK;
}

/* Record one claim in pend[@k]. */
static inline void sr_claim_note(shmring *r, uint32_t k, uint64_t at,
                                 size_t len, uint64_t ext)
{
	r->pend[k].at = at;
	r->pend[k].len = (uint32_t)len;
	r->pend[k].ext = (uint32_t)ext;
}

int shmring_claim(shmring *r, size_t len, void **payload, int timeout_ms)
{
	uint64_t deadline = 0, ext, at;
	int rc = sr_check_idle(r, SR_SIDE_PROD, timeout_ms);

	if (rc == SR_ROUTE_MP && payload) {
		shmring_buf b = {NULL, len};
		size_t got;

		rc = sr_mp_claimv(r, &b, 1, &got, timeout_ms);
		if (rc == SHMRING_OK)
			*payload = b.data;
		return rc;
	}
	if (rc != SHMRING_OK || !payload)
		return SHMRING_EINVAL;
	if (len > r->max_msg)
		return SHMRING_EMSGSIZE;
	ext = sr_ext(r, len);
	rc = sr_prod_room(r, ext, &at, timeout_ms, &deadline);
	if (rc != SHMRING_OK)
		return rc;
	sr_claim_note(r, 0, at, len, ext);
	r->pending = 1;
	*payload = sr_payload_at(r, at);
	return SHMRING_OK;
}

int shmring_claimv(shmring *r, shmring_buf *bufs, size_t n, size_t *claimed,
                   int timeout_ms)
{
	uint64_t deadline = 0, ext, at, w;
	uint32_t k;
	int rc = sr_check_idle(r, SR_SIDE_PROD, timeout_ms), refreshed = 0;

	if (rc == SR_ROUTE_MP)
		return sr_mp_claimv(r, bufs, n, claimed, timeout_ms);
	if (claimed)
		*claimed = 0;
	if (rc != SHMRING_OK)
		return SHMRING_EINVAL;
	rc = sr_check_bufs(r, bufs, n, claimed);
	if (rc != SHMRING_OK || n == 0)
		return rc;
	if (n > SHMRING_BATCH_MAX)
		n = SHMRING_BATCH_MAX;
	ext = sr_ext(r, bufs[0].len);
	rc = sr_prod_room(r, ext, &at, timeout_ms, &deadline);
	if (rc != SHMRING_OK)
		return rc;
	sr_claim_note(r, 0, at, bufs[0].len, ext);
	for (k = 1, w = at + ext; k < n; k++, w = at + ext) {
		ext = sr_ext(r, bufs[k].len);
		if (!sr_fit(r, w, ext, &refreshed, &at))
			break;
		sr_claim_note(r, k, at, bufs[k].len, ext);
	}
	for (uint32_t i = 0; i < k; i++)
		bufs[i].data = sr_payload_at(r, r->pend[i].at);
	r->pending = k;
	*claimed = k;
	return SHMRING_OK;
}

int shmring_commitv(shmring *r, const size_t *lens, size_t n)
{
	uint64_t ext = 0, bytes = 0;
	size_t i, len = 0;
	int rc = sr_check_call(r, SR_SIDE_PROD, 0);

	if (rc == SR_ROUTE_MP)
		return sr_mp_commitv(r, lens, n);
	if (rc != SHMRING_OK || !r->pending || n > r->pending)
		return SHMRING_EINVAL;
	for (i = 0; lens && i < n; i++)
		if (lens[i] > r->pend[i].len)
			return SHMRING_EINVAL;
	r->pending = 0;
	if (n == 0)
		return SHMRING_OK;
	for (i = 0; i < n; i++) {
		const struct sr_pend *c = &r->pend[i];

		len = lens ? lens[i] : c->len;
		ext = sr_ext(r, len);
		/* A shorter message than claimed, followed by another claim:
		 * pad the slots it no longer needs (never past its own
		 * extent, so never past the end of the ring). */
		if (i + 1 < n && ext < c->ext)
			sr_put_pad(r, c->at + ext, c->ext - ext);
		sr_put_word(r, c->at, SR_REC_MSG, (uint32_t)len);
		bytes += len;
	}
	sr_publish(r, r->pend[n - 1].at + ext, n, bytes);
	sr_prefetch_next(r);
	return SHMRING_OK;
}

int shmring_commit(shmring *r, size_t len)
{
	return shmring_commitv(r, &len, 1);
}

/* ---- consumer ------------------------------------------------------------ */

/*
 * The record at @at, below the cached head: its word read once (relaxed,
 * ordered after C1's acquire load of head) and checked against the
 * handle's private geometry: written for this lap, a message no larger
 * than max_msg or padding, reaching neither past the published head nor
 * past the end of the ring. Anything else is EBADFMT and moves nothing.
 */
static inline int sr_rec_take(shmring *r, uint64_t at, uint32_t *type,
                              uint32_t *len, uint64_t *ext)
{
	uint64_t w =
	        atomic_load_explicit(sr_rec_at(r, at), memory_order_relaxed);
	uint64_t e;

	*type = sr_rec_type(w);
	*len = sr_rec_len(w);
	*ext = 0;
	if (!sr_rec_lap_is(w, at, r->lap_shift) ||
	    (*type == SR_REC_MSG ? *len > r->max_msg : *type != SR_REC_PAD))
		return sr_badfmt(r);
	e = sr_ext(r, *len);
	if (e > r->peer - at || e > r->count - (at & r->mask))
		return sr_badfmt(r);
	*ext = e;
	return SHMRING_OK;
}

/* Wait for a message at pos, skipping padding: C2 for the padding alone,
 * since a producer may be waiting for exactly those slots to place the
 * record it wrapped to slot 0. */
static SR_NOINLINE int sr_cons_next_slow(shmring *r, struct sr_pend *m,
                                         int timeout_ms)
{
	uint64_t deadline = 0, ext;
	uint32_t type, len;
	int rc;

	for (;;) {
		rc = sr_wait(r, timeout_ms, &deadline);
		if (rc == SHMRING_OK)
			rc = sr_rec_take(r, r->pos, &type, &len, &ext);
		if (rc != SHMRING_OK)
			return rc;
		if (type == SR_REC_MSG)
			break;
		sr_cons_publish(r, r->pos + ext, 0, 0, (int)r->mp);
	}
	m->at = r->pos;
	m->len = len;
	m->ext = (uint32_t)ext;
	return SHMRING_OK;
}

/* The common case inline: a message at pos below the cached head. A bad
 * record is reported at once (the slow path would find it again). */
static inline int sr_cons_next(shmring *r, struct sr_pend *m, int timeout_ms)
{
	uint64_t ext;
	uint32_t type, len;
	int rc;

	if (r->peer != r->pos) {
		rc = sr_rec_take(r, r->pos, &type, &len, &ext);
		if (rc != SHMRING_OK)
			return rc;
		if (type == SR_REC_MSG) {
			m->at = r->pos;
			m->len = len;
			m->ext = (uint32_t)ext;
			return SHMRING_OK;
		}
	}
	return sr_cons_next_slow(r, m, timeout_ms);
}

/* Without waiting: the next message at or after *@w, below the cached head
 * (re-read once, *refreshed, when it runs out), skipping padding. 1 with
 * @m filled and *@w past any padding before it; 0 when there is none (or
 * a bad record, which the next call reports). */
static int sr_cons_more(shmring *r, uint64_t *w, int *refreshed,
                        struct sr_pend *m)
{
	uint64_t ext;
	uint32_t type, len;

	for (;;) {
		if (*w == r->peer) {
			if (*refreshed)
				return 0;
			*refreshed = 1;
			/* C1 once more; EBADFMT leaves the cache as it was. */
			(void)sr_refresh(r);
			continue;
		}
		if (sr_rec_take(r, *w, &type, &len, &ext) != SHMRING_OK)
			return 0;
		if (type == SR_REC_MSG)
			break;
		*w += ext;
	}
	m->at = *w;
	m->len = len;
	m->ext = (uint32_t)ext;
	return 1;
}

static inline int sr_recv_in(shmring *r, void *buf, size_t cap, size_t *len,
                             int timeout_ms, int mp)
{
	struct sr_pend m;
	int rc;

	if (!len || (!buf && cap))
		return SHMRING_EINVAL;
	rc = sr_cons_next(r, &m, timeout_ms);
	if (rc != SHMRING_OK)
		return rc;
	*len = m.len;
	if (m.len > cap)
		return SHMRING_EMSGSIZE; /* the message stays in the ring */
	if (m.len)
		memcpy(buf, sr_payload_at(r, m.at), m.len);
	sr_cons_publish(r, m.at + m.ext, 1, m.len, mp);
	return SHMRING_OK;
}

static SR_NOINLINE int sr_recv_mp(shmring *r, void *buf, size_t cap,
                                  size_t *len, int timeout_ms)
{
	return sr_recv_in(r, buf, cap, len, timeout_ms, 1);
}

int shmring_recv(shmring *r, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	int rc = sr_check_idle(r, SR_SIDE_CONS, timeout_ms);

	if (rc == SHMRING_OK)
		return sr_recv_in(r, buf, cap, len, timeout_ms, 0);
	return rc == SR_ROUTE_MP ? sr_recv_mp(r, buf, cap, len, timeout_ms)
	                         : SHMRING_EINVAL;
}

static inline int sr_recvv_in(shmring *r, shmring_buf *msgs, size_t n,
                              size_t *received, int timeout_ms, int mp)
{
	struct sr_pend m;
	uint64_t w, bytes = 0;
	size_t k;
	int rc, refreshed = 0;

	if (!received || (!msgs && n))
		return SHMRING_EINVAL;
	for (k = 0; k < n; k++)
		if (!msgs[k].data && msgs[k].len)
			return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	rc = sr_cons_next(r, &m, timeout_ms);
	if (rc != SHMRING_OK)
		return rc;
	if (m.len > msgs[0].len) {
		msgs[0].len = m.len;
		return SHMRING_EMSGSIZE; /* the message stays in the ring */
	}
	/* Stop before a message that does not fit its buffer or whose record
	 * is bad: the next call reports it, and the ones before are kept. */
	for (k = 0;;) {
		if (m.len)
			memcpy(msgs[k].data, sr_payload_at(r, m.at), m.len);
		msgs[k].len = m.len;
		bytes += m.len;
		w = m.at + m.ext;
		if (++k == n || !sr_cons_more(r, &w, &refreshed, &m) ||
		    m.len > msgs[k].len)
			break;
	}
	sr_cons_publish(r, w, k, bytes, mp);
	*received = k;
	return SHMRING_OK;
}

static SR_NOINLINE int sr_recvv_mp(shmring *r, shmring_buf *msgs, size_t n,
                                   size_t *received, int timeout_ms)
{
	return sr_recvv_in(r, msgs, n, received, timeout_ms, 1);
}

int shmring_recvv(shmring *r, shmring_buf *msgs, size_t n, size_t *received,
                  int timeout_ms)
{
	int rc = sr_check_idle(r, SR_SIDE_CONS, timeout_ms);

	if (received)
		*received = 0;
	if (rc == SHMRING_OK)
		return sr_recvv_in(r, msgs, n, received, timeout_ms, 0);
	return rc == SR_ROUTE_MP ? sr_recvv_mp(r, msgs, n, received, timeout_ms)
	                         : SHMRING_EINVAL;
}

static inline struct sr_pend *sr_peeked(const shmring *r, uint32_t i)
{
	return &r->pend[(r->pend_first + i) & SR_PEND_MASK];
}

int shmring_peekv(shmring *r, shmring_msg *msgs, size_t n, size_t *got,
                  int timeout_ms)
{
	uint64_t w;
	int rc = sr_check_call(r, SR_SIDE_CONS, timeout_ms), refreshed = 0;

	if (got)
		*got = 0;
	/* Peeking is the same in both modes (the walk is in sr_refresh). */
	if ((rc != SHMRING_OK && rc != SR_ROUTE_MP) || !got || (!msgs && n))
		return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	if (n > SHMRING_BATCH_MAX)
		n = SHMRING_BATCH_MAX;
	if (!r->pending) {
		r->pend_first = 0;
		rc = sr_cons_next(r, &r->pend[0], timeout_ms);
		if (rc != SHMRING_OK)
			return rc;
		r->pending = 1;
	}
	w = sr_peeked(r, r->pending - 1)->at +
	    sr_peeked(r, r->pending - 1)->ext;
	while (r->pending < n &&
	       sr_cons_more(r, &w, &refreshed, sr_peeked(r, r->pending))) {
		w = sr_peeked(r, r->pending)->at +
		    sr_peeked(r, r->pending)->ext;
		r->pending++;
	}
	for (uint32_t i = 0; i < n && i < r->pending; i++) {
		msgs[i].data = sr_payload_at(r, sr_peeked(r, i)->at);
		msgs[i].len = sr_peeked(r, i)->len;
	}
	*got = n < r->pending ? n : r->pending;
	return SHMRING_OK;
}

int shmring_peek(shmring *r, const void **data, size_t *len, int timeout_ms)
{
	const struct sr_pend *m;
	int rc = sr_check_call(r, SR_SIDE_CONS, timeout_ms);

	if ((rc != SHMRING_OK && rc != SR_ROUTE_MP) || !data || !len)
		return SHMRING_EINVAL;
	/* shmring_peekv(r, .., 1, ..) without its batch walk: the oldest
	 * peeked message, or the next one. */
	if (!r->pending) {
		r->pend_first = 0;
		rc = sr_cons_next(r, &r->pend[0], timeout_ms);
		if (rc != SHMRING_OK)
			return rc;
		r->pending = 1;
	}
	m = sr_peeked(r, 0);
	*data = sr_payload_at(r, m->at);
	*len = m->len;
	return SHMRING_OK;
}

static inline int sr_releasev_in(shmring *r, size_t n, int mp)
{
	const struct sr_pend *last;
	uint64_t bytes = 0;

	if (n > r->pending)
		return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	last = sr_peeked(r, (uint32_t)n - 1);
	bytes = last->len; /* the common release of one needs no loop */
	for (uint32_t i = 0; i + 1 < n; i++)
		bytes += sr_peeked(r, i)->len;
	r->pend_first = (r->pend_first + (uint32_t)n) & SR_PEND_MASK;
	r->pending -= (uint32_t)n;
	/* C2: the released records' slots, and any padding among them. */
	sr_cons_publish(r, last->at + last->ext, n, bytes, mp);
	return SHMRING_OK;
}

static SR_NOINLINE int sr_releasev_mp(shmring *r, size_t n)
{
	return sr_releasev_in(r, n, 1);
}

int shmring_releasev(shmring *r, size_t n)
{
	int rc = sr_check_call(r, SR_SIDE_CONS, 0);

	if (rc == SHMRING_OK)
		return sr_releasev_in(r, n, 0);
	return rc == SR_ROUTE_MP ? sr_releasev_mp(r, n) : SHMRING_EINVAL;
}

int shmring_release(shmring *r)
{
	if (!r || !r->pending)
		return SHMRING_EINVAL;
	return shmring_releasev(r, 1);
}

/* ---- utilities ------------------------------------------------------------
 */

int shmring_pending_index(const shmring *r, size_t i, uint64_t *index)
{
	if (!r || !index || !sr_handle_is_ours(r) || i >= r->pending)
		return SHMRING_EINVAL;
	/* Claims sit at pend[0..pending), peeks at pend_first onwards. */
	*index = r->me.side == SR_SIDE_PROD ? r->pend[i].at
	                                    : sr_peeked(r, (uint32_t)i)->at;
	return SHMRING_OK;
}

size_t shmring_max_msg(const shmring *r)
{
	return r ? r->max_msg : 0;
}

int shmring_set_spin(shmring *r, uint32_t spin_ns)
{
	if (!r || !sr_handle_is_ours(r))
		return SHMRING_EINVAL;
	r->spin_ns = spin_ns;
	return SHMRING_OK;
}

int shmring_get_stats(const shmring *r, shmring_stats *out)
{
	if (!r || !out || !sr_handle_is_ours(r))
		return SHMRING_EINVAL;
	*out = r->stats;
	return SHMRING_OK;
}
