/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mpsc.c -- the bytes are a script for one SHMRING_F_MPSC ring with up
 * to FZ_NPROD producer handles (each its own entry of the producer table,
 * all in this process) and one consumer: send, sendv, claim + commit and
 * claimv + commitv (shorter, commitv of fewer than claimed) on a chosen
 * producer; recv, recvv, peek + release, peekv + releasev on the consumer;
 * close and reopen of either side (a producer closed with claims open:
 * they become padding, never counted abandoned); the death of a producer
 * (its handle vanishes without a close, its claims stay open, and its
 * entry's owner token is then made one that os_proc_alive() answers dead
 * for, at once or later); and hostile writes into the segment (slot
 * words, head, tail, the producer table, the many-producer lines, any
 * byte). Every call is SHMRING_NOWAIT: nothing may block.
 *
 * Property, always: every call returns a code the contract allows, never
 * crashes (ASan, UBSan) or hangs; every pointer handed out lies inside the
 * calling handle's own mapping, every length within max_msg. Until a
 * hostile write the model cannot follow, the model below predicts every
 * return code and count exactly (EAGAIN on a full or empty ring,
 * EMSGSIZE, EINVAL, ECLOSED, EPEERDEAD), every producer entry a handle
 * takes, every pointer, shmring_get_stats().abandoned, and the words of
 * the segment after each call (each record's word, FREE(lap) in every
 * free slot, head, tail, the table); messages arrive once, intact, in
 * ring order (so in each producer's order); at the end, every producer
 * closed or dead, the ring drains completely: every committed message
 * was received exactly once.
 *
 * The model follows docs/protocol.md "Many producers" at the level of
 * records: the ring from tail to the claim frontier is a list of
 * messages, padding and open claims (RESV: one per claim call, covering
 * every record it claimed). Two things of the library's private state it
 * must follow too, since they decide when a call sees what: each
 * producer's cached tail (a claimv's later records fit only by it), and
 * the consumer's walk (the end of the committed run it has walked, and
 * its liveness probes: at most one per 20 ms for holes and one for the
 * end of stream, so the clock is virtual here, fuzz_clock_virtual(), and
 * moves only by the script's ticks).
 *
 * Script: 3 setup bytes (4 with a start index; fz_setup), then ops of one byte
 * and operands: op % 16: 0,1 send | 2 claim | 3 commit | 4 recv | 5 peek | 6
 * release | 7 sendv | 8 recvv | 9 claimv | 10 commitv | 11 peekv | 12 releasev
 * | 13 producer life | 14 consumer life, bury, tick | 15 hostile write Producer
 * ops take one byte first: the producer handle (b % FZ_NPROD). A size operand
 * is fuzz_ops' (fz_in_size, fuzz_script.h).
 */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_script.h"
#include "fuzz_seg.h"
#include "ring_int.h"

#define FZ_NPROD    4u
#define FZ_RECS     160u
#define FZ_PROBE_NS 20000000u /* mpsc.c SR_LIVE_CHECK_NS */
#define FZ_LAP_MASK ((UINT64_C(1) << 30) - 1u)

enum { FZ_MSG = 1, FZ_PAD = 2, FZ_RESV = 3 };

/* A record between tail and the claim frontier. */
struct fz_rec {
	uint64_t at, seq;
	uint32_t len; /* message bytes; the word's len field for padding */
	uint32_t ext; /* slots */
	uint8_t type;
	uint8_t k;        /* RESV: the claiming entry */
	const void *addr; /* message: where the consumer peeked it */
};

struct fz_claim {
	uint64_t at, seq;
	uint32_t len, ext;
	void *addr;
};

struct fz_prod {
	shmring *h; /* NULL: no handle in this place */
	uint8_t *map;
	uint32_t k;    /* its entry */
	uint64_t peer; /* the tail it has cached */
	struct fz_claim cl[FZ_BATCH];
	unsigned ncl;
	uint64_t span_at; /* its open RESV (ncl > 0) */
};

/* A producer table entry as the model knows it. */
struct fz_ent {
	uint64_t owner, since;
	uint32_t state;
	uint8_t stalled; /* its handle vanished, its token still lives */
};

struct fz {
	struct fz_in in; /* the script */
	char name[64];
	uint8_t *seg;
	size_t seg_size;
	uint32_t slot_size, count, stride, max_msg, shift, span_max;
	uint64_t key; /* the ring's FREE-word key */
	uint64_t self, deaths;
	struct fz_prod p[FZ_NPROD];
	struct fz_ent ent[SR_MP_MAX];
	uint32_t attached, ever;
	/* the ring */
	struct fz_rec q[FZ_RECS]; /* q[0] at tail */
	unsigned qn;
	uint64_t head, tail, next_seq;
	uint64_t committed, delivered;
	/* the consumer */
	shmring *cons;
	uint8_t *cons_map;
	int cons_open;
	uint64_t c_end; /* end of the committed run it walked */
	unsigned peeked;
	uint64_t mp_dead[SR_MP_MAX];
	uint64_t next_resv, next_live;
	int dead_owner;
	uint64_t abandoned;
	int auto_tick;
	int corrupt;
	int opens_left;
};

static uint8_t fz_bufs[FZ_BATCH][FZ_MAX_MSG + 2];

/* ---- input -------------------------------------------------------------- */

/* A size in 0 .. @limit + 1 (fz_in_size), as fuzz_ops.c's. */
static size_t fz_size(struct fz *z, size_t limit)
{
	return fz_in_size(&z->in, limit, z->slot_size, z->count, z->stride);
}

/* ---- records and words --------------------------------------------------- */

static uint32_t fz_slots(const struct fz *z, uint64_t len)
{
	return (uint32_t)((8u + len + z->stride - 1u) / z->stride);
}

static uint32_t fz_pad_len(const struct fz *z, uint64_t slots)
{
	return (uint32_t)(slots * z->stride - 8u);
}

static uint64_t fz_word(const struct fz *z, uint32_t type, uint32_t len,
                        uint64_t at)
{
	return (uint64_t)len | (uint64_t)type << 32 |
	       ((at >> z->shift) & FZ_LAP_MASK) << 34;
}

/* FREE for index @at: the library's keyed word (record.h). */
static uint64_t fz_free(const struct fz *z, uint64_t at)
{
	return sr_free_word(z->key, at, z->shift);
}

static uint64_t fz_rec_word(const struct fz *z, const struct fz_rec *r)
{
	uint32_t len =
	        r->type == FZ_RESV ? (uint32_t)r->k << 25 | r->ext : r->len;

	return fz_word(z, r->type, len, r->at);
}

static size_t fz_slot_off(const struct fz *z, uint64_t at)
{
	return SR_HDR_SIZE + (size_t)(at & (z->count - 1)) * z->stride;
}

static uint64_t fz_mem64(const struct fz *z, size_t off)
{
	uint64_t w;

	memcpy(&w, z->seg + off, 8);
	return w;
}

static uint32_t fz_mem32(const struct fz *z, size_t off)
{
	uint32_t w;

	memcpy(&w, z->seg + off, 4);
	return w;
}

/* Offset of the field at @field of producer entry @k. */
static size_t fz_ent_off(unsigned k, size_t field)
{
	return offsetof(struct sr_seg, mp) + offsetof(struct sr_mp, prod) +
	       k * sizeof(struct sr_mp_prod) + field;
}

static uint8_t *fz_payload(const struct fz *z, const uint8_t *map, uint64_t at)
{
	return (uint8_t *)map + fz_slot_off(z, at) + 8u;
}

/* Index in q of the record at @at (qn when @at is the frontier). */
static unsigned fz_find(const struct fz *z, uint64_t at)
{
	unsigned j;

	for (j = 0; j < z->qn && z->q[j].at != at; j++)
		;
	FUZZ_ASSERT(j < z->qn || at == z->head);
	return j;
}

/* Replace q[@j] by the @m records @with (m may be 0 only at the end). */
static void fz_splice(struct fz *z, unsigned j, const struct fz_rec *with,
                      unsigned m)
{
	FUZZ_ASSERT(j < z->qn && z->qn - 1 + m <= FZ_RECS);
	memmove(&z->q[j + m], &z->q[j + 1], (z->qn - j - 1) * sizeof z->q[0]);
	memcpy(&z->q[j], with, m * sizeof z->q[0]);
	z->qn = z->qn - 1 + m;
}

static void fz_push(struct fz *z, uint8_t type, uint32_t len, uint32_t ext,
                    uint64_t seq, uint8_t k)
{
	FUZZ_ASSERT(z->qn < FZ_RECS);
	z->q[z->qn++] = (struct fz_rec){.at = z->head,
	                                .seq = seq,
	                                .len = len,
	                                .ext = ext,
	                                .type = type,
	                                .k = k};
	z->head += ext;
}

/* Release the first @k records. */
static void fz_pop(struct fz *z, unsigned k)
{
	FUZZ_ASSERT(k <= z->qn);
	if (k == 0)
		return;
	z->tail = z->q[k - 1].at + z->q[k - 1].ext;
	memmove(&z->q[0], &z->q[k], (z->qn - k) * sizeof z->q[0]);
	z->qn -= k;
}

/* The segment holds what the model says: each record's word, FREE(lap)
 * in every slot the claim frontier has yet to reach, head, tail, the
 * many-producer lines. */
static void fz_check_seg(const struct fz *z)
{
	uint64_t at = z->tail;

	if (z->corrupt)
		return;
	for (unsigned j = 0; j < z->qn; j++) {
		const struct fz_rec *r = &z->q[j];
		uint64_t w = fz_mem64(z, fz_slot_off(z, r->at));
		FUZZ_ASSERT(r->at == at);
		if (w != fz_rec_word(z, r)) {
			fprintf(stderr,
			        "record %u at %llu: word %#llx, model %#llx\n",
			        j, (unsigned long long)r->at,
			        (unsigned long long)w,
			        (unsigned long long)fz_rec_word(z, r));
			FUZZ_ASSERT(!"a slot word is not what the model says");
		}
		at += r->ext;
	}
	FUZZ_ASSERT(at == z->head && z->head - z->tail <= z->count);
	for (at = z->head; at != z->tail + z->count; at++)
		if (fz_mem64(z, fz_slot_off(z, at)) != fz_free(z, at)) {
			fprintf(stderr, "slot at %llu: %#llx, not FREE\n",
			        (unsigned long long)at,
			        (unsigned long long)fz_mem64(
			                z, fz_slot_off(z, at)));
			FUZZ_ASSERT(!"a free slot's word is not FREE(lap)");
		}
	FUZZ_ASSERT(fz_mem64(z, offsetof(struct sr_seg, head)) == z->head);
	FUZZ_ASSERT(fz_mem64(z, offsetof(struct sr_seg, tail)) == z->tail);
	FUZZ_ASSERT(fz_mem32(z, offsetof(struct sr_seg, mp.attached)) ==
	            z->attached);
	for (unsigned k = 0; k < SR_MP_MAX; k++) {
		const struct fz_ent *e = &z->ent[k];
		FUZZ_ASSERT(
		        fz_mem64(z, fz_ent_off(k, offsetof(struct sr_mp_prod,
		                                           owner))) ==
		        e->owner);
		FUZZ_ASSERT(
		        fz_mem32(z, fz_ent_off(k, offsetof(struct sr_mp_prod,
		                                           state))) ==
		        e->state);
		if (e->state != SR_ROLE_NONE)
			FUZZ_ASSERT(
			        fz_mem64(z,
			                 fz_ent_off(k,
			                            offsetof(struct sr_mp_prod,
			                                     since))) ==
			        e->since);
	}
}

/* ---- the model: producers ------------------------------------------------ */

static int fz_alive(const struct fz *z, uint64_t owner)
{
	return owner == z->self; /* every other token here is dead */
}

/* sr_mp_claim(): the first record (@ext[0] slots) at the frontier, padding
 * to the end of the ring first where it does not fit before it, then as
 * many of the others as fit behind it before the end of the ring by the
 * tail the producer has cached. One RESV covers them all. */
static int fz_m_claim(struct fz *z, struct fz_prod *p, const uint32_t *ext,
                      unsigned n, unsigned *got)
{
	for (;;) {
		uint64_t h = z->head, left, span;
		int is_free = h - z->tail < z->count, room;
		unsigned k;

		if (!z->cons_open)
			return SHMRING_ECLOSED;
		left = z->count - (h & (z->count - 1));
		span = ext[0] <= left ? ext[0] : left;
		room = (int64_t)(h + span - p->peer) <= (int64_t)z->count;
		if (!is_free || !room) {
			FUZZ_ASSERT(!room); /* not freed, yet room: corrupt */
			p->peer = z->tail;  /* the refresh: P0 */
			if (z->count - (h - z->tail) >= span)
				continue;
			return SHMRING_EAGAIN;
		}
		if (ext[0] > left) { /* padding to the end: committed */
			fz_push(z, FZ_PAD, fz_pad_len(z, left), (uint32_t)left,
			        0, 0);
			continue;
		}
		for (k = 1; k < n; k++) {
			if (ext[k] > left - span ||
			    span + ext[k] > z->span_max ||
			    (int64_t)(h + span + ext[k] - p->peer) >
			            (int64_t)z->count)
				break;
			span += ext[k];
		}
		p->span_at = h;
		fz_push(z, FZ_RESV, 0, (uint32_t)span, 0, (uint8_t)p->k);
		*got = k;
		return SHMRING_OK;
	}
}

/* Note the claims of @lens[0..got) at the RESV just pushed. */
static void fz_m_note(struct fz *z, struct fz_prod *p, const size_t *lens,
                      unsigned got)
{
	uint64_t at = p->span_at;

	for (unsigned i = 0; i < got; i++) {
		p->cl[i] = (struct fz_claim){.at = at,
		                             .seq = z->next_seq++,
		                             .len = (uint32_t)lens[i],
		                             .ext = fz_slots(z, lens[i])};
		at += p->cl[i].ext;
	}
	p->ncl = got;
}

/* sr_mp_commit(): the first @n claims as messages of @lens (NULL: as
 * claimed), each shortened one padded to its extent, the rest padding. */
static void fz_m_commit(struct fz *z, struct fz_prod *p, const size_t *lens,
                        unsigned n)
{
	struct fz_rec with[2 * FZ_BATCH];
	unsigned m = 0, j = fz_find(z, p->span_at);

	FUZZ_ASSERT(j < z->qn && z->q[j].type == FZ_RESV);
	for (unsigned i = 0; i < p->ncl; i++) {
		const struct fz_claim *c = &p->cl[i];
		uint32_t len = i < n ? (uint32_t)(lens ? lens[i] : c->len) : 0;
		uint32_t ext = i < n ? fz_slots(z, len) : 0;

		if (i < n) {
			with[m++] = (struct fz_rec){.at = c->at,
			                            .seq = c->seq,
			                            .len = len,
			                            .ext = ext,
			                            .type = FZ_MSG};
			z->committed++;
		}
		if (ext < c->ext)
			with[m++] = (struct fz_rec){
			        .at = c->at + ext,
			        .len = fz_pad_len(z, c->ext - ext),
			        .ext = c->ext - ext,
			        .type = FZ_PAD};
	}
	fz_splice(z, j, with, m);
	p->ncl = 0;
}

static int fz_m_send(struct fz *z, struct fz_prod *p, size_t len)
{
	uint32_t ext = fz_slots(z, len);
	unsigned got;
	int rc;

	if (!p->h || p->ncl)
		return SHMRING_EINVAL;
	if (len > z->max_msg)
		return SHMRING_EMSGSIZE;
	rc = fz_m_claim(z, p, &ext, 1, &got);
	if (rc == SHMRING_OK) {
		fz_m_note(z, p, &len, 1);
		fz_m_commit(z, p, NULL, 1);
	}
	return rc;
}

static int fz_m_sendv(struct fz *z, struct fz_prod *p, const size_t *lens,
                      unsigned n, size_t *sent)
{
	uint32_t ext[FZ_BATCH];
	unsigned done = 0, got;
	int rc;

	*sent = 0;
	if (!p->h || p->ncl)
		return SHMRING_EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (lens[i] > z->max_msg)
			return SHMRING_EMSGSIZE;
		ext[i] = fz_slots(z, lens[i]);
	}
	if (n && !z->cons_open)
		return SHMRING_ECLOSED;
	while (done < n) {
		rc = fz_m_claim(z, p, ext + done, n - done, &got);
		if (rc != SHMRING_OK)
			return rc;
		fz_m_note(z, p, lens + done, got);
		fz_m_commit(z, p, NULL, got);
		done += got;
		*sent = done;
	}
	return SHMRING_OK;
}

static int fz_m_claimv(struct fz *z, struct fz_prod *p, const size_t *lens,
                       unsigned n, size_t *claimed)
{
	uint32_t ext[FZ_BATCH];
	unsigned got;
	int rc;

	*claimed = 0;
	if (!p->h || p->ncl)
		return SHMRING_EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (lens[i] > z->max_msg)
			return SHMRING_EMSGSIZE;
		ext[i] = fz_slots(z, lens[i]);
	}
	if (n == 0)
		return SHMRING_OK;
	rc = fz_m_claim(z, p, ext, n, &got);
	if (rc == SHMRING_OK) {
		fz_m_note(z, p, lens, got);
		*claimed = got;
	}
	return rc;
}

static int fz_m_commitv(struct fz *z, struct fz_prod *p, const size_t *lens,
                        unsigned n)
{
	if (!p->h || !p->ncl || n > p->ncl)
		return SHMRING_EINVAL;
	for (unsigned i = 0; lens && i < n; i++)
		if (lens[i] > p->cl[i].len)
			return SHMRING_EINVAL;
	fz_m_commit(z, p, lens, n);
	return SHMRING_OK;
}

/* ---- the model: the consumer --------------------------------------------- */

static uint64_t fz_now(void)
{
	return fuzz_clock_now();
}

/* sr_mp_abandoned(): is the claim @r abandoned? */
static int fz_m_abandoned(struct fz *z, const struct fz_rec *r, int probe)
{
	const struct fz_ent *e = &z->ent[r->k];
	uint64_t now;

	if (e->owner == 0 || e->state != SR_ROLE_ATTACHED ||
	    (int64_t)(r->at - e->since) < 0)
		return 1;
	if (e->owner == z->mp_dead[r->k])
		return 1;
	if (probe) {
		now = fz_now();
		if (now >= z->next_resv) {
			z->next_resv = now + FZ_PROBE_NS;
			if (!fz_alive(z, e->owner)) {
				z->mp_dead[r->k] = e->owner;
				return 1;
			}
		}
	}
	return 0;
}

/* sr_mp_refresh_cons(): walk from c_end over committed records, turning
 * abandoned claims into padding; SHMRING_OK when the run grew past tail,
 * else EAGAIN (not ready). */
static int fz_m_walk(struct fz *z, int probe)
{
	uint64_t at = z->c_end;
	unsigned j = fz_find(z, at);

	while (at - z->tail < z->count && j < z->qn) {
		struct fz_rec *r = &z->q[j];
		if (r->type == FZ_RESV) {
			if (!fz_m_abandoned(z, r, probe))
				break;
			r->type = FZ_PAD;
			r->len = fz_pad_len(z, r->ext);
			z->abandoned++;
			continue;
		}
		at += r->ext;
		j++;
	}
	if (at != z->tail) {
		z->c_end = at;
		return SHMRING_OK;
	}
	return SHMRING_EAGAIN;
}

/* sr_mp_peer_state(): the entries decide; attached is the idle hint. */
static int fz_m_peer_state(struct fz *z, int probe)
{
	int dead = 0, closed = 0, may_probe = 0;
	uint64_t now;

	if (z->attached != 0 && !probe)
		return SHMRING_EAGAIN;
	if (probe) {
		now = fz_now();
		may_probe = now >= z->next_live;
		if (may_probe)
			z->next_live = now + FZ_PROBE_NS;
	}
	for (unsigned k = 0; k < SR_MP_MAX; k++) {
		const struct fz_ent *e = &z->ent[k];

		if (e->state == SR_ROLE_CLOSED) {
			closed = 1;
		} else if (e->state == SR_ROLE_ATTACHED && e->owner != 0) {
			if (e->owner == z->mp_dead[k])
				dead = 1;
			else if (!may_probe || fz_alive(z, e->owner))
				return SHMRING_EAGAIN;
			else {
				z->mp_dead[k] = e->owner;
				dead = 1;
			}
		}
	}
	return dead     ? SHMRING_EPEERDEAD
	       : closed ? SHMRING_ECLOSED
	                : SHMRING_EAGAIN;
}

/* sr_poll() of a NOWAIT call with nothing cached. */
static int fz_m_poll(struct fz *z)
{
	int st = fz_m_peer_state(z, 1);
	int rc = fz_m_walk(z, 1);

	return rc != SHMRING_EAGAIN ? rc : st;
}

/* sr_cons_next(): a message at tail, padding before it released. */
static int fz_m_next(struct fz *z)
{
	for (;;) {
		int rc;

		if (z->c_end == z->tail && (rc = fz_m_poll(z)) != SHMRING_OK)
			return rc;
		FUZZ_ASSERT(z->qn > 0 && z->q[0].type != FZ_RESV);
		if (z->q[0].type == FZ_MSG)
			return SHMRING_OK;
		fz_pop(z, 1);
	}
}

/* sr_cons_more(): the next message at or after q[*j] (at *w) without
 * waiting; the walk is extended once (no probe) when the run ends. */
static int fz_m_more(struct fz *z, unsigned *j, uint64_t *w, int *refreshed)
{
	for (;;) {
		if (*w == z->c_end) {
			if (*refreshed)
				return 0;
			*refreshed = 1;
			(void)fz_m_walk(z, 0);
			continue;
		}
		FUZZ_ASSERT(*j < z->qn && z->q[*j].at == *w &&
		            z->q[*j].type != FZ_RESV);
		if (z->q[*j].type == FZ_MSG)
			return 1;
		*w += z->q[*j].ext;
		++*j;
	}
}

static int fz_m_recvv(struct fz *z, const size_t *caps, unsigned n,
                      struct fz_rec *out, size_t *nout, uint32_t *need)
{
	unsigned j = 1, k = 1;
	uint64_t w;
	int rc, refreshed = 0;

	*nout = 0;
	if (!z->cons || z->peeked)
		return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	rc = fz_m_next(z);
	if (rc != SHMRING_OK)
		return rc;
	if (z->q[0].len > caps[0]) {
		*need = z->q[0].len;
		return SHMRING_EMSGSIZE;
	}
	out[0] = z->q[0];
	w = z->q[0].at + z->q[0].ext;
	while (k < n) {
		if (!fz_m_more(z, &j, &w, &refreshed) || z->q[j].len > caps[k])
			break;
		out[k++] = z->q[j];
		w = z->q[j].at + z->q[j].ext;
		j++;
	}
	fz_pop(z, j);
	FUZZ_ASSERT(z->tail == w);
	z->delivered += k;
	*nout = k;
	return SHMRING_OK;
}

/* Index in q of the @k-th message from tail. */
static unsigned fz_msg_index(const struct fz *z, unsigned k)
{
	for (unsigned j = 0; j < z->qn; j++)
		if (z->q[j].type == FZ_MSG && k-- == 0)
			return j;
	FUZZ_ASSERT(!"peeked message not in the model");
	return 0;
}

static int fz_m_peekv(struct fz *z, unsigned n, struct fz_rec **out,
                      size_t *nout)
{
	unsigned j;
	uint64_t w;
	int rc, refreshed = 0;

	*nout = 0;
	if (!z->cons)
		return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	if (!z->peeked) {
		rc = fz_m_next(z);
		if (rc != SHMRING_OK)
			return rc;
		z->peeked = 1;
	}
	j = fz_msg_index(z, z->peeked - 1);
	w = z->q[j].at + z->q[j].ext;
	j++;
	while (z->peeked < n && fz_m_more(z, &j, &w, &refreshed)) {
		z->peeked++;
		w = z->q[j].at + z->q[j].ext;
		j++;
	}
	for (unsigned k = 0; k < n && k < z->peeked; k++)
		out[k] = &z->q[fz_msg_index(z, k)];
	*nout = n < z->peeked ? n : z->peeked;
	return SHMRING_OK;
}

static int fz_m_releasev(struct fz *z, unsigned n)
{
	if (!z->cons || n > z->peeked)
		return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	fz_pop(z, fz_msg_index(z, n - 1) + 1);
	z->peeked -= n;
	z->delivered += n;
	return SHMRING_OK;
}

/* ---- checks -------------------------------------------------------------- */

static void fz_check(struct fz *z, int rc, int want)
{
	fz_check_code("FUZZ_MPSC_TRACE", z->in.i, z->corrupt, 1, rc, want);
}

/* After every call: the consumer's count of abandoned claims, and the
 * segment. */
static void fz_after(struct fz *z)
{
	shmring_stats st;

	if (z->corrupt)
		return;
	if (z->cons) {
		FUZZ_ASSERT(shmring_get_stats(z->cons, &st) == SHMRING_OK);
		if (st.abandoned != z->abandoned) {
			fprintf(stderr, "abandoned %llu, model %llu\n",
			        (unsigned long long)st.abandoned,
			        (unsigned long long)z->abandoned);
			FUZZ_ASSERT(st.abandoned == z->abandoned);
		}
	}
	fz_check_seg(z);
}

/* A consumer call: the clock moves first if the script says so. */
static void fz_cons_tick(struct fz *z)
{
	if (z->auto_tick)
		fuzz_clock_advance(FZ_PROBE_NS);
}

static struct fz_prod *fz_pick(struct fz *z)
{
	return &z->p[in8(&z->in) % FZ_NPROD];
}

/* ---- producer ops ------------------------------------------------------- */

static void fz_claimed(struct fz *z, struct fz_prod *p, unsigned k, void *ptr,
                       size_t len)
{
	FUZZ_ASSERT(fuzz_in_map_at(p->map, ptr, len));
	if (!z->corrupt) {
		FUZZ_ASSERT(ptr == fz_payload(z, p->map, p->cl[k].at));
		p->cl[k].addr = ptr;
		fz_fill(ptr, p->cl[k].seq, len);
	} else {
		fz_fill(ptr, 0, len);
	}
}

static void op_send(struct fz *z, int zero_copy)
{
	struct fz_prod *p = fz_pick(z);
	size_t len = fz_size(z, z->max_msg), claimed = 0;
	int want = FZ_ANY, rc;
	void *ptr = NULL;

	if (zero_copy) {
		if (!z->corrupt)
			want = fz_m_claimv(z, p, &len, 1, &claimed);
		rc = shmring_claim(p->h, len, &ptr, SHMRING_NOWAIT);
	} else {
		fz_fill(fz_bufs[0], z->next_seq, len);
		if (!z->corrupt)
			want = fz_m_send(z, p, len);
		rc = shmring_send(p->h, fz_bufs[0], len, SHMRING_NOWAIT);
	}
	fz_check(z, rc, want);
	if (rc == SHMRING_OK && zero_copy)
		fz_claimed(z, p, 0, ptr, len);
}

static void op_commit(struct fz *z)
{
	struct fz_prod *p = fz_pick(z);
	size_t len = fz_size(z, p->ncl ? p->cl[0].len : 0);
	int want = z->corrupt ? FZ_ANY : fz_m_commitv(z, p, &len, 1);

	fz_check(z, fz_fin(shmring_commit(p->h, len)), want);
}

static void op_sendv(struct fz *z)
{
	struct fz_prod *p = fz_pick(z);
	shmring_msg v[FZ_BATCH];
	size_t lens[FZ_BATCH], n = 1 + in8(&z->in) % FZ_BATCH, sent = 99;
	size_t want_sent = 0;
	int want = FZ_ANY, rc;

	for (size_t i = 0; i < n; i++) {
		lens[i] = v[i].len = fz_size(z, z->max_msg);
		v[i].data = fz_bufs[i];
		fz_fill(fz_bufs[i], z->next_seq + i, v[i].len);
	}
	if (!z->corrupt)
		want = fz_m_sendv(z, p, lens, (unsigned)n, &want_sent);
	rc = shmring_sendv(p->h, v, n, &sent, SHMRING_NOWAIT);
	fz_check(z, rc, want);
	FUZZ_ASSERT(sent <= n && (rc == SHMRING_OK) == (sent == n));
	if (!z->corrupt)
		FUZZ_ASSERT(sent == want_sent);
}

static void op_claimv(struct fz *z)
{
	struct fz_prod *p = fz_pick(z);
	shmring_buf v[FZ_BATCH];
	size_t lens[FZ_BATCH], n = in8(&z->in) % (FZ_BATCH + 1), claimed = 99;
	size_t want_claimed = 0;
	int want = FZ_ANY, rc;

	for (size_t i = 0; i < n; i++) {
		lens[i] = fz_size(z, z->max_msg);
		v[i] = (shmring_buf){NULL, lens[i]};
	}
	if (!z->corrupt)
		want = fz_m_claimv(z, p, lens, (unsigned)n, &want_claimed);
	rc = shmring_claimv(p->h, v, n, &claimed, SHMRING_NOWAIT);
	fz_check(z, rc, want);
	FUZZ_ASSERT(claimed <= n && (rc == SHMRING_OK || claimed == 0));
	FUZZ_ASSERT(rc != SHMRING_OK || claimed >= 1 || n == 0);
	if (!z->corrupt)
		FUZZ_ASSERT(claimed == want_claimed);
	for (size_t i = 0; i < claimed; i++) {
		FUZZ_ASSERT(v[i].len == lens[i]);
		fz_claimed(z, p, (unsigned)i, v[i].data, v[i].len);
	}
	for (size_t i = claimed; i < n; i++)
		FUZZ_ASSERT(v[i].data == NULL);
}

static void op_commitv(struct fz *z)
{
	struct fz_prod *p = fz_pick(z);
	size_t lens[FZ_BATCH + 1], n = in8(&z->in) % (p->ncl + 2u);
	int null_lens = in8(&z->in) & 1, want;

	if (n > FZ_BATCH)
		n = FZ_BATCH;
	for (size_t i = 0; i < n && !null_lens; i++)
		lens[i] = fz_size(z, i < p->ncl ? p->cl[i].len : 0);
	want = z->corrupt ? FZ_ANY
	                  : fz_m_commitv(z, p, null_lens ? NULL : lens,
	                                 (unsigned)n);
	fz_check(z, fz_fin(shmring_commitv(p->h, null_lens ? NULL : lens, n)),
	         want);
}

/* ---- consumer ops ------------------------------------------------------- */

static void fz_peeked(struct fz *z, struct fz_rec *r, const void *ptr,
                      size_t len)
{
	FUZZ_ASSERT(len <= shmring_max_msg(z->cons) &&
	            fuzz_in_map_at(z->cons_map, ptr, len));
	if (z->corrupt || !r)
		return;
	FUZZ_ASSERT(ptr == fz_payload(z, z->cons_map, r->at));
	FUZZ_ASSERT(!r->addr || r->addr == ptr);
	r->addr = ptr;
	fz_verify(r->seq, r->len, ptr, len);
}

static void op_recv(struct fz *z)
{
	struct fz_rec out[1];
	size_t cap = fz_size(z, z->max_msg), len = 0, nout = 0;
	uint32_t need = 0;
	int want = FZ_ANY, rc;

	fz_cons_tick(z);
	if (!z->corrupt)
		want = fz_m_recvv(z, &cap, 1, out, &nout, &need);
	rc = shmring_recv(z->cons, fz_bufs[0], cap, &len, SHMRING_NOWAIT);
	fz_check(z, rc, want);
	if (rc == SHMRING_EMSGSIZE) {
		FUZZ_ASSERT(len > cap && len <= shmring_max_msg(z->cons));
		FUZZ_ASSERT(z->corrupt || len == need);
	}
	if (rc != SHMRING_OK)
		return;
	FUZZ_ASSERT(len <= cap);
	if (!z->corrupt)
		fz_verify(out[0].seq, out[0].len, fz_bufs[0], len);
}

static void op_recvv(struct fz *z)
{
	struct fz_rec out[FZ_BATCH];
	shmring_buf v[FZ_BATCH];
	size_t caps[FZ_BATCH], n = 1 + in8(&z->in) % FZ_BATCH;
	size_t got = 99, nout = 0;
	uint32_t need = 0;
	int want = FZ_ANY, rc;

	for (size_t i = 0; i < n; i++) {
		caps[i] = fz_size(z, z->max_msg);
		v[i] = (shmring_buf){fz_bufs[i], caps[i]};
	}
	fz_cons_tick(z);
	if (!z->corrupt)
		want = fz_m_recvv(z, caps, (unsigned)n, out, &nout, &need);
	rc = shmring_recvv(z->cons, v, n, &got, SHMRING_NOWAIT);
	fz_check(z, rc, want);
	if (!fz_recvv_ok(z->cons, v, caps, n, got, rc, !z->corrupt, need) ||
	    z->corrupt)
		return;
	FUZZ_ASSERT(got == nout);
	for (size_t i = 0; i < got; i++)
		fz_verify(out[i].seq, out[i].len, fz_bufs[i], v[i].len);
}

static void op_peek(struct fz *z)
{
	struct fz_rec *out[1] = {NULL};
	const void *ptr = NULL;
	size_t len = 0, nout = 0;
	int want = FZ_ANY, rc;

	fz_cons_tick(z);
	if (!z->corrupt)
		want = fz_m_peekv(z, 1, out, &nout);
	rc = shmring_peek(z->cons, &ptr, &len, SHMRING_NOWAIT);
	fz_check(z, rc, want);
	if (rc == SHMRING_OK)
		fz_peeked(z, out[0], ptr, len);
}

static void op_peekv(struct fz *z)
{
	struct fz_rec *out[FZ_BATCH] = {NULL};
	shmring_msg v[FZ_BATCH];
	size_t n = in8(&z->in) % (FZ_BATCH + 1), got = 99, nout = 0;
	int want = FZ_ANY, rc;

	fz_cons_tick(z);
	if (!z->corrupt)
		want = fz_m_peekv(z, (unsigned)n, out, &nout);
	rc = shmring_peekv(z->cons, v, n, &got, SHMRING_NOWAIT);
	fz_check(z, rc, want);
	FUZZ_ASSERT(got <= n && (rc == SHMRING_OK || got == 0));
	FUZZ_ASSERT(rc != SHMRING_OK || got >= 1 || n == 0);
	if (!z->corrupt)
		FUZZ_ASSERT(got == nout);
	for (size_t i = 0; i < got; i++)
		fz_peeked(z, z->corrupt ? NULL : out[i], v[i].data, v[i].len);
}

static void op_release(struct fz *z)
{
	int want = z->corrupt ? FZ_ANY : fz_m_releasev(z, 1);
	int rc = shmring_release(z->cons);

	/* shmring_release() with nothing peeked is EINVAL like releasev(1) */
	fz_check(z, fz_fin(rc), want);
}

static void op_releasev(struct fz *z)
{
	size_t n = in8(&z->in) % (z->peeked + 2u);
	int want = z->corrupt ? FZ_ANY : fz_m_releasev(z, (unsigned)n);

	fz_check(z, fz_fin(shmring_releasev(z->cons, n)), want);
}

/* ---- lives -------------------------------------------------------------- */

/* Open a producer into the empty place @p: the entry the table gives
 * (the first never held, closed, or held by a dead token). */
static void fz_prod_open(struct fz *z, struct fz_prod *p)
{
	unsigned k;
	int want = SHMRING_EBUSY, rc;

	for (k = 0; k < SR_MP_MAX; k++) {
		const struct fz_ent *e = &z->ent[k];
		if (e->owner == 0 || !fz_alive(z, e->owner)) {
			want = SHMRING_OK;
			break;
		}
	}
	rc = shmring_open(z->name, SHMRING_PRODUCER, &p->h);
	FUZZ_ASSERT(fuzz_open_code(rc));
	if (!z->corrupt && rc != want) {
		fprintf(stderr, "producer open: got %d, model wants %d\n", rc,
		        want);
		FUZZ_ASSERT(rc == want);
	}
	if (rc != SHMRING_OK) {
		p->h = NULL;
		return;
	}
	shmring_set_spin(p->h, 0);
	p->map = fuzz_last_mapping();
	p->ncl = 0;
	if (z->corrupt) {
		p->k = p->h->mp_k;
		return;
	}
	FUZZ_ASSERT(p->h->mp_k == k);
	p->k = k;
	p->peer = z->tail;
	if (z->ent[k].owner == 0 || z->ent[k].state != SR_ROLE_ATTACHED)
		z->attached++;
	z->ever = 1;
	z->ent[k] = (struct fz_ent){
	        .owner = z->self, .state = SR_ROLE_ATTACHED, .since = z->head};
}

static void fz_prod_close(struct fz *z, struct fz_prod *p)
{
	FUZZ_ASSERT(shmring_close(p->h) == SHMRING_OK);
	p->h = NULL;
	if (z->corrupt)
		return;
	if (p->ncl)
		fz_m_commit(z, p, NULL, 0); /* padding, not abandoned */
	z->ent[p->k].state = SR_ROLE_CLOSED;
	z->ent[p->k].owner = 0;
	z->attached--;
}

/* A token os_proc_alive() answers dead for: a pid no process can have
 * (no system call), or our own pid with another start time (/proc). */
static uint64_t fz_dead_token(struct fz *z, int real)
{
	z->deaths++;
	if (real)
		return z->self ^ (z->deaths << 32);
	return z->deaths << 32 | UINT64_C(0x80000000);
}

/* The entry's holder is now known dead: its owner is a dead token. */
static void fz_bury(struct fz *z, unsigned k, int real)
{
	uint64_t tok = fz_dead_token(z, real);

	memcpy(z->seg + fz_ent_off(k, offsetof(struct sr_mp_prod, owner)), &tok,
	       8);
	z->ent[k].owner = tok;
	z->ent[k].stalled = 0;
}

/* The producer's process dies: its handle vanishes, touching nothing
 * shared; its claims stay open. */
static void fz_prod_kill(struct fz *z, struct fz_prod *p, int bury, int real)
{
	shmring *h = p->h;

	os_seg_close(h->os);
	free(h->pend);
	free(h);
	p->h = NULL;
	p->ncl = 0;
	if (z->corrupt)
		return;
	if (bury)
		fz_bury(z, p->k, real);
	else
		z->ent[p->k].stalled = 1;
}

static void op_prod_life(struct fz *z)
{
	struct fz_prod *p = fz_pick(z);
	uint8_t how = in8(&z->in);

	if (!p->h) {
		if (z->opens_left > 0) {
			z->opens_left--;
			fz_prod_open(z, p);
		}
		return;
	}
	if ((how & 3) < 2)
		fz_prod_close(z, p);
	else
		fz_prod_kill(z, p, (how & 3) == 2, (how >> 2) & 1);
}

static void fz_cons_open(struct fz *z)
{
	int rc = shmring_open(z->name, SHMRING_CONSUMER, &z->cons);

	FUZZ_ASSERT(fuzz_open_code(rc));
	if (!z->corrupt && rc != SHMRING_OK) {
		fprintf(stderr, "consumer open: got %d\n", rc);
		FUZZ_ASSERT(rc == SHMRING_OK);
	}
	if (rc != SHMRING_OK) {
		z->cons = NULL;
		return;
	}
	shmring_set_spin(z->cons, 0);
	z->cons_map = fuzz_last_mapping();
	z->cons_open = 1;
	z->c_end = z->tail;
	z->peeked = 0;
	memset(z->mp_dead, 0, sizeof z->mp_dead);
	z->next_resv = z->next_live = 0;
	z->dead_owner = 0;
	z->abandoned = 0;
}

static void fz_cons_close(struct fz *z)
{
	FUZZ_ASSERT(shmring_close(z->cons) == SHMRING_OK);
	z->cons = NULL;
	z->cons_open = 0;
	z->peeked = 0; /* not released: delivered again after a reopen */
	for (unsigned j = 0; j < z->qn; j++)
		z->q[j].addr = NULL;
}

static void op_cons_life(struct fz *z)
{
	uint8_t b = in8(&z->in);

	switch (b & 3) {
	case 0:
	case 1:
		if (z->cons)
			fz_cons_close(z);
		else if (z->opens_left > 0) {
			z->opens_left--;
			fz_cons_open(z);
		}
		break;
	case 2: /* a stalled producer is now known dead */
		for (unsigned k = (b >> 2) % SR_MP_MAX, i = 0; i < SR_MP_MAX;
		     i++, k = (k + 1) % SR_MP_MAX)
			if (z->ent[k].stalled) {
				fz_bury(z, k, (b >> 7) & 1);
				break;
			}
		break;
	default: /* the clock moves */
		fuzz_clock_advance((uint64_t)(b >> 2) * 1000000u);
		break;
	}
}

/* ---- hostile writes ------------------------------------------------------ */

/* 1 if a write of the byte at @off leaves every return code as it was,
 * a reopen's included: created_ns, the roles' caps, the wake words,
 * sleeping flags and CPU hints, the counters (not their reserved tails,
 * which an open checks), the sleepers word, and each producer entry's
 * wake word, CPU hint and sleeping flag. */
static int fz_benign(size_t off)
{
	static const struct {
		uint16_t off, len;
	} ok[] = {
	        {40, 8},  {140, 4},  {268, 4},   {640, 4},   {768, 8},
	        {896, 4}, {1024, 8}, {1152, 72}, {1280, 72}, {1408, 8},
	};
	size_t e, prod = offsetof(struct sr_seg, mp) +
	                 offsetof(struct sr_mp, prod);

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (off >= ok[i].off && off < (size_t)ok[i].off + ok[i].len)
			return 1;
	if (off >= prod && off < prod + SR_MP_MAX * sizeof(struct sr_mp_prod)) {
		e = (off - prod) % sizeof(struct sr_mp_prod);
		return e >= 24 && e < 36;
	}
	return 0;
}

static void fz_poke(struct fz *z, size_t off, uint64_t val, size_t width)
{
	uint64_t old = 0;

	if (off + width > z->seg_size)
		return;
	memcpy(&old, z->seg + off, width);
	for (size_t b = 0; b < width && !z->corrupt; b++)
		if (((val ^ old) >> (8 * b)) & 0xffu && !fz_benign(off + b))
			z->corrupt = 1;
	memcpy(z->seg + off, &val, width);
}

static uint64_t fz_value(struct fz *z, uint64_t old, uint64_t raw, uint8_t mode,
                         uint64_t at)
{
	uint32_t k = (uint32_t)(raw >> 8) % 40u,
	         n = 1 + (uint32_t)(raw >> 16) % (z->count + 1);
	const uint64_t special[] = {
	        0,
	        1,
	        2,
	        fz_free(z, at),
	        fz_free(z, at + z->count),
	        fz_free(z, at - z->count),
	        fz_word(z, SR_REC_RESV, k << 25 | n, at),
	        fz_word(z, SR_REC_RESV, k << 25, at),
	        fz_word(z, SR_REC_RESV, UINT32_MAX, at),
	        fz_word(z, SR_REC_MSG, (uint32_t)(raw >> 16) % (z->max_msg + 2),
	                at),
	        fz_word(z, SR_REC_PAD, fz_pad_len(z, n), at),
	        fz_word(z, SR_REC_MSG, 0, at + z->count),
	        z->head,
	        z->head + 1,
	        z->head - 1,
	        z->head + z->count,
	        z->head - z->count,
	        z->tail,
	        z->tail + 1,
	        z->tail - 1,
	        z->self,
	        z->deaths << 32 | UINT64_C(0x80000000),
	        UINT32_MAX,
	        UINT64_MAX,
	        UINT64_C(1) << 63,
	        z->count,
	        z->count + 1,
	};

	return fz_hostile(old, raw, mode, special,
	                  sizeof special / sizeof special[0]);
}

/* target & 7: 0 a slot word (target >> 3: which slot from tail), 1 head,
 * 2 tail, 3 a producer entry's field, 4 the many-producer words, 5 the
 * role records, 6 a byte after a slot word, 7 any byte. */
static void op_write(struct fz *z)
{
	static const uint8_t ent_off[] = {0, 8, 12, 16, 24, 28, 32};
	uint8_t target = in8(&z->in), mode = in8(&z->in);
	uint64_t raw = in_le(&z->in, 8), old = 0, at = z->tail + (target >> 3);
	size_t off, width = 8, field;

	switch (target & 7) {
	case 0:
		off = fz_slot_off(z, at);
		break;
	case 1:
		off = offsetof(struct sr_seg, head);
		at = z->head;
		break;
	case 2:
		off = offsetof(struct sr_seg, tail);
		break;
	case 3:
		field = ent_off[(raw >> 40) % sizeof ent_off];
		off = fz_ent_off((target >> 3) % SR_MP_MAX, field);
		width = field == 0 || field == 16 ? 8 : 4;
		break;
	case 4:
		off = offsetof(struct sr_seg, mp) + ((target >> 3) & 1) * 128u +
		      ((target >> 4) & 1) * 4u;
		width = (target >> 3) & 1 ? 4 : 8;
		break;
	case 5:
		off = offsetof(struct sr_seg, role) +
		      ((target >> 3) & 1) * 128u + ((target >> 4) & 1) * 8u;
		width = (target >> 4) & 1 ? 4 : 8;
		break;
	case 6:
		off = fz_slot_off(z, at) + 8u +
		      (size_t)((raw >> 32) % (z->stride - 8u));
		width = 1;
		break;
	default:
		off = (size_t)(raw % z->seg_size);
		raw >>= 32;
		width = 1;
		break;
	}
	if (off + width > z->seg_size)
		return;
	memcpy(&old, z->seg + off, width);
	fz_poke(z, off, fz_value(z, old, raw, mode, at), width);
}

/* ---- setup and teardown -------------------------------------------------- */

/* Header bytes:
 *   d[0], d[1]  the slot size, slot count and max_msg (fz_geometry,
 *         fuzz_script.h)
 *   d[2]  bit 0: the indices start just below 2^64, by 1 + the next
 *         byte % 40 (every free slot's word FREE of its lap, as a
 *         previous pair leaves them), and the consumer creates the ring
 *         (closed and reopened around the rewrite); bit 1: the
 *         consumer creates it (else producer 0); bit 2: the clock moves
 *         by one probe interval before each consumer call (every probe
 *         is due at a call's start); bits 4-5: producers opened at start,
 *         besides a creating one; bit 6: the first producer opens before
 *         the consumer. */
static int fz_setup(struct fz *z, const uint8_t *d, size_t n)
{
	shmring_config cfg = {.flags = SHMRING_F_MPSC};
	uint64_t bytes, start = 0;
	unsigned nprod = (d[2] >> 4) & 3;
	int cons_creates = (d[2] & 3) != 0;
	shmring *first;

	memset(z, 0, sizeof *z);
	z->in = (struct fz_in){d, n, 3};
	bytes = fz_geometry(d, &cfg, &z->stride, &z->shift, &z->max_msg);
	z->slot_size = cfg.slot_size;
	z->count = cfg.slot_count;
	z->span_max = z->count;
	z->self = os_proc_self();
	z->auto_tick = (d[2] >> 2) & 1;
	z->opens_left = 16;
	fuzz_clock_virtual(1);
	fuzz_name(z->name, sizeof z->name, "mpsc");
	FUZZ_ASSERT(shmring_create(z->name, &cfg,
	                           cons_creates ? SHMRING_CONSUMER
	                                        : SHMRING_PRODUCER,
	                           &first) == SHMRING_OK);
	FUZZ_ASSERT(shmring_max_msg(first) == z->max_msg);
	z->seg = fuzz_seg_map(z->name, &z->seg_size);
	FUZZ_ASSERT(z->seg != NULL && z->seg_size == SR_HDR_SIZE + bytes);
	memcpy(&z->key, z->seg + offsetof(struct sr_seg, hdr.mp_key), 8);
	if (d[2] & 1) {
		/* a previous pair left the indices here, every slot freed */
		start = UINT64_MAX - in8(&z->in) % 40;
		shmring_close(first);
		memcpy(z->seg + offsetof(struct sr_seg, head), &start, 8);
		memcpy(z->seg + offsetof(struct sr_seg, tail), &start, 8);
		for (uint64_t at = start; at != start + z->count; at++) {
			uint64_t w = fz_free(z, at);
			memcpy(z->seg + fz_slot_off(z, at), &w, 8);
		}
		first = NULL;
	}
	z->head = z->tail = z->next_seq = start;
	if (cons_creates && first) {
		z->cons = first;
		shmring_set_spin(first, 0);
		z->cons_map = fuzz_last_mapping();
		z->cons_open = 1;
		z->c_end = z->tail;
	} else if (first) {
		z->p[0].h = first;
		z->p[0].map = fuzz_last_mapping();
		shmring_set_spin(first, 0);
		z->p[0].peer = z->tail;
		z->ent[0] = (struct fz_ent){.owner = z->self,
		                            .state = SR_ROLE_ATTACHED,
		                            .since = z->head};
		z->attached = z->ever = 1;
	}
	if (!z->cons && !z->p[0].h && (d[2] & 0x40)) {
		fz_prod_open(z, &z->p[0]);
		nprod = nprod ? nprod - 1 : 0;
	}
	if (!z->cons)
		fz_cons_open(z);
	for (unsigned i = 0; i < FZ_NPROD && nprod; i++)
		if (!z->p[i].h) {
			fz_prod_open(z, &z->p[i]);
			nprod--;
		}
	fz_check_seg(z);
	return 0;
}

/* Every producer closed (or its stalled entry buried), then the ring must
 * drain to the end of the stream: every message committed comes out. */
static void fz_drain(struct fz *z)
{
	static uint8_t buf[FZ_MAX_MSG];
	struct fz_rec out[1];
	size_t len = 0, cap = sizeof buf, nout;
	uint32_t need;
	int rc, want;

	if (!z->cons)
		fz_cons_open(z);
	if (!z->cons || z->corrupt)
		return;
	if (z->peeked) {
		unsigned held = z->peeked;
		want = fz_m_releasev(z, held);
		FUZZ_ASSERT(shmring_releasev(z->cons, held) == want);
	}
	for (uint32_t i = 0; i <= 2 * z->count + 2; i++) {
		fuzz_clock_advance(FZ_PROBE_NS); /* each probe due */
		want = fz_m_recvv(z, &cap, 1, out, &nout, &need);
		rc = shmring_recv(z->cons, buf, cap, &len, SHMRING_NOWAIT);
		fz_check(z, rc, want);
		fz_after(z);
		if (rc != SHMRING_OK) {
			/* drained: none live is left to send */
			FUZZ_ASSERT(rc == SHMRING_ECLOSED ||
			            rc == SHMRING_EPEERDEAD ||
			            (rc == SHMRING_EAGAIN && !z->ever));
			FUZZ_ASSERT(z->qn == 0 && z->delivered == z->committed);
			return;
		}
		fz_verify(out[0].seq, out[0].len, buf, len);
	}
	FUZZ_ASSERT(!"drain: more messages than slots");
}

static void fz_teardown(struct fz *z)
{
	for (unsigned i = 0; i < FZ_NPROD; i++)
		if (z->p[i].h) {
			fz_prod_close(z, &z->p[i]);
			fz_after(z);
		}
	for (unsigned k = 0; k < SR_MP_MAX && !z->corrupt; k++)
		if (z->ent[k].stalled)
			fz_bury(z, k, 0);
	if (!z->corrupt)
		fz_drain(z);
	shmring_close(z->cons);
	shmring_unlink(z->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z;

	if (size < 3 || fz_setup(&z, data, size) != 0)
		return 0;
	while (z.in.i < z.in.n) {
		switch (in8(&z.in) % 16) {
		case 0:
		case 1:
			op_send(&z, 0);
			break;
		case 2:
			op_send(&z, 1);
			break;
		case 3:
			op_commit(&z);
			break;
		case 4:
			op_recv(&z);
			break;
		case 5:
			op_peek(&z);
			break;
		case 6:
			op_release(&z);
			break;
		case 7:
			op_sendv(&z);
			break;
		case 8:
			op_recvv(&z);
			break;
		case 9:
			op_claimv(&z);
			break;
		case 10:
			op_commitv(&z);
			break;
		case 11:
			op_peekv(&z);
			break;
		case 12:
			op_releasev(&z);
			break;
		case 13:
			op_prod_life(&z);
			break;
		case 14:
			op_cons_life(&z);
			break;
		default:
			op_write(&z);
			break;
		}
		fz_after(&z);
	}
	fz_teardown(&z);
	return 0;
}
