/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ops_model.c -- setup, the reference model and the hostile writes of
 * fuzz_ops.c. The model follows docs/format.md (version 2) and the
 * contract in include/shmring.h, not the code: what each call must answer
 * given the records in flight, the pending claims or peeks, and the state
 * of each role. It reads nothing the library keeps privately; the one
 * thing it tracks about the consumer's view is the head it last read,
 * since format.md checks a record against that.
 *
 * Record header words: the model knows the word the format gives every
 * record it expects. When it predicts that the consumer reads a record,
 * it reads the word from the segment: equal to the expected word, the
 * record is what the model thinks; different and never touched by a
 * hostile write, the library wrote a word the format does not give (a
 * failure); different after a hostile write, the model judges the word
 * by format.md's rules: invalid means SHMRING_EBADFMT (the call stops
 * there, the record stays), valid but different means the model can no
 * longer follow.
 */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_ops.h"
#include "fuzz_seg.h"
#include "os.h"

#define FZ_LAP_MASK ((UINT64_C(1) << 30) - 1u)

/* ---- records --------------------------------------------------------------
 */

uint32_t fz_slots(const struct fz *z, uint64_t len)
{
	return (uint32_t)((8u + len + z->stride - 1u) / z->stride);
}

static uint32_t fz_pad_len(const struct fz *z, uint64_t slots)
{
	return (uint32_t)(slots * z->stride - 8u);
}

struct fz_rec *fz_rec(struct fz *z, unsigned j)
{
	return &z->q[(z->qh + j) % FZ_RECS];
}

uint8_t *fz_payload(const struct fz *z, const uint8_t *map, uint64_t at)
{
	return (uint8_t *)map + SR_HDR_SIZE +
	       (size_t)(at & (z->count - 1)) * z->stride + 8u;
}

/* The word format.md gives a record of @type and @len at index @at. */
static uint64_t fz_word(const struct fz *z, uint32_t type, uint32_t len,
                        uint64_t at)
{
	return (uint64_t)len | (uint64_t)type << 32 |
	       ((at >> z->shift) & FZ_LAP_MASK) << 34;
}

static uint64_t fz_mem_word(const struct fz *z, uint64_t at)
{
	uint64_t w;

	memcpy(&w,
	       z->seg + SR_HDR_SIZE + (size_t)(at & (z->count - 1)) * z->stride,
	       8);
	return w;
}

/* format.md "Slots and records": what a consumer requires of the word it
 * reads at @at, with the head it last read. */
static int fz_word_ok(const struct fz *z, uint64_t w, uint64_t at)
{
	uint32_t len = (uint32_t)w, type = (uint32_t)(w >> 32) & 3u;
	uint64_t ext = (8u + (uint64_t)len + z->stride - 1u) / z->stride;

	if ((w >> 34) != ((at >> z->shift) & FZ_LAP_MASK))
		return 0;
	if (type == FZ_MSG ? len > z->max_msg : type != FZ_PAD)
		return 0;
	return ext <= z->c_head - at && ext <= z->count - (at & (z->count - 1));
}

enum { FZ_RD_OK, FZ_RD_BAD, FZ_RD_LOST };

/* The consumer reads record @r's word: see the top of this file. */
static int fz_read(struct fz *z, const struct fz_rec *r)
{
	uint64_t w = fz_mem_word(z, r->at);
	uint64_t want = fz_word(z, r->type, r->len, r->at);

	if (w == want)
		return FZ_RD_OK;
	if (!r->touched) {
		fprintf(stderr,
		        "record at %llu: word %#llx, the format gives %#llx\n",
		        (unsigned long long)r->at, (unsigned long long)w,
		        (unsigned long long)want);
		FUZZ_ASSERT(!"a record word the library wrote is wrong");
	}
	if (fz_word_ok(z, w, r->at)) {
		z->corrupt = 1;
		return FZ_RD_LOST;
	}
	return FZ_RD_BAD;
}

static void fz_push(struct fz *z, uint8_t type, uint64_t at, uint32_t len,
                    uint32_t ext, uint64_t seq, uint8_t touched)
{
	struct fz_rec *r;

	FUZZ_ASSERT(z->qn < FZ_RECS);
	r = fz_rec(z, z->qn++);
	*r = (struct fz_rec){.at = at,
	                     .seq = seq,
	                     .len = len,
	                     .ext = ext,
	                     .type = type,
	                     .touched = touched};
	z->head = at + ext;
}

static void fz_push_pad(struct fz *z, uint64_t at, uint32_t slots,
                        uint8_t touched)
{
	fz_push(z, FZ_PAD, at, fz_pad_len(z, slots), slots, 0, touched);
}

/* Release the oldest @k records: tail moves past them. */
static void fz_pop(struct fz *z, unsigned k)
{
	FUZZ_ASSERT(k <= z->qn);
	if (k == 0)
		return;
	z->tail = fz_rec(z, k - 1)->at + fz_rec(z, k - 1)->ext;
	z->qh = (z->qh + k) % FZ_RECS;
	z->qn -= k;
}

/* Index in q of the @k-th message (0-based) from the tail. */
static unsigned fz_msg_index(struct fz *z, unsigned k)
{
	for (unsigned j = 0; j < z->qn; j++) {
		if (fz_rec(z, j)->type == FZ_MSG && k-- == 0)
			return j;
	}
	FUZZ_ASSERT(!"peeked message not in the model");
	return 0;
}

void fz_m_verify(const struct fz *z, const struct fz_rec *r, const void *p,
                 size_t len)
{
	(void)z;
	fz_verify(r->seq, r->len, p, len);
}

/* ---- producer ---------------------------------------------------------- */

static uint64_t fz_free_at(const struct fz *z, uint64_t w)
{
	return z->count - (w - z->tail);
}

/* Slots a record of @ext slots needs at @w: itself, and the padding to the
 * end of the ring first (*pad) when it would run past the end. */
static uint64_t fz_need(const struct fz *z, uint64_t w, uint32_t ext,
                        uint32_t *pad)
{
	uint32_t left = z->count - (uint32_t)(w & (z->count - 1));

	*pad = ext > left ? left : 0;
	return (uint64_t)*pad + ext;
}

/* Room for a record of @ext slots at head, as a call that may wait: *at
 * gets where it goes, *pad the padding before it (written, published with
 * the record). When padding and record together exceed the ring, the
 * padding is published alone as soon as its slots are free, and the
 * record goes to slot 0. */
static int fz_m_room(struct fz *z, uint32_t ext, int timed, uint64_t *at,
                     uint32_t *pad)
{
	for (;;) {
		uint64_t need;

		if (z->cons_state == FZ_CLOSED)
			return SHMRING_ECLOSED;
		need = fz_need(z, z->head, ext, pad);
		if ((need <= z->count ? need : *pad) > fz_free_at(z, z->head))
			return timed ? SHMRING_ETIMEDOUT : SHMRING_EAGAIN;
		if (need <= z->count) {
			*at = z->head + *pad;
			return SHMRING_OK;
		}
		fz_push_pad(z, z->head, *pad, 0);
	}
}

/* One message once the arguments are checked: send, and each of sendv. */
static int fz_m_send1(struct fz *z, size_t len, int timed)
{
	uint32_t ext = fz_slots(z, len), pad;
	uint64_t at;
	int rc = fz_m_room(z, ext, timed, &at, &pad);

	if (rc != SHMRING_OK)
		return rc;
	if (pad)
		fz_push_pad(z, at - pad, pad, 0);
	fz_push(z, FZ_MSG, at, (uint32_t)len, ext, z->next_seq++, 0);
	return SHMRING_OK;
}

int fz_m_send(struct fz *z, size_t len, int timed)
{
	if (!z->prod || z->ncl)
		return SHMRING_EINVAL;
	if (len > z->max_msg)
		return SHMRING_EMSGSIZE;
	return fz_m_send1(z, len, timed);
}

/* sendv: as many sends; @sent gets how many went. */
int fz_m_sendv(struct fz *z, const size_t *lens, size_t n, int timed,
               size_t *sent)
{
	int rc = SHMRING_OK;

	*sent = 0;
	if (!z->prod || z->ncl)
		return SHMRING_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (lens[i] > z->max_msg)
			return SHMRING_EMSGSIZE;
	if (n && z->cons_state == FZ_CLOSED)
		return SHMRING_ECLOSED;
	for (size_t i = 0; i < n && rc == SHMRING_OK; i++) {
		rc = fz_m_send1(z, lens[i], timed);
		if (rc == SHMRING_OK)
			*sent = i + 1;
	}
	return rc;
}

int fz_m_claimv(struct fz *z, const size_t *lens, size_t n, int timed,
                size_t *claimed)
{
	uint32_t ext, pad;
	uint64_t at, w;
	size_t k;
	int rc;

	*claimed = 0;
	if (!z->prod || z->ncl)
		return SHMRING_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (lens[i] > z->max_msg)
			return SHMRING_EMSGSIZE;
	if (n == 0)
		return SHMRING_OK;
	ext = fz_slots(z, lens[0]);
	rc = fz_m_room(z, ext, timed, &at, &pad);
	if (rc != SHMRING_OK)
		return rc;
	z->cl[0] = (struct fz_claim){
	        .at = at, .len = (uint32_t)lens[0], .ext = ext, .pad = pad};
	for (k = 1, w = at + ext; k < n && k < FZ_BATCH; k++) {
		ext = fz_slots(z, lens[k]);
		if (fz_need(z, w, ext, &pad) > fz_free_at(z, w))
			break;
		z->cl[k] = (struct fz_claim){.at = w + pad,
		                             .len = (uint32_t)lens[k],
		                             .ext = ext,
		                             .pad = pad};
		w += pad + ext;
	}
	z->ncl = (unsigned)k;
	*claimed = k;
	return SHMRING_OK;
}

int fz_m_commitv(struct fz *z, const size_t *lens, size_t n)
{
	if (!z->prod || !z->ncl || n > z->ncl)
		return SHMRING_EINVAL;
	for (size_t i = 0; lens && i < n; i++)
		if (lens[i] > z->cl[i].len)
			return SHMRING_EINVAL;
	z->ncl = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fz_claim *c = &z->cl[i];
		uint32_t len = lens ? (uint32_t)lens[i] : c->len;
		uint32_t ext = fz_slots(z, len);

		if (c->pad)
			fz_push_pad(z, c->at - c->pad, c->pad, c->pad_touched);
		fz_push(z, FZ_MSG, c->at, len, ext, z->next_seq++, 0);
		/* a shorter message followed by another: its gap padded */
		if (i + 1 < n && ext < c->ext)
			fz_push_pad(z, c->at + ext, c->ext - ext, 0);
	}
	return SHMRING_OK;
}

/* ---- consumer ---------------------------------------------------------- */

/* Wait for a message at tail, skipping (and releasing) padding: OK with
 * the message first in q, or why not. FZ_ANY when the model lost track. */
static int fz_m_next(struct fz *z, int timed)
{
	for (;;) {
		struct fz_rec *r;
		int rd;

		if (z->c_head == z->tail)
			z->c_head = z->head; /* it re-reads head */
		if (z->c_head == z->tail)
			return z->prod_state == FZ_CLOSED ? SHMRING_ECLOSED
			       : timed                    ? SHMRING_ETIMEDOUT
			                                  : SHMRING_EAGAIN;
		FUZZ_ASSERT(z->qn > 0);
		r = fz_rec(z, 0);
		rd = fz_read(z, r);
		if (rd == FZ_RD_LOST)
			return FZ_ANY;
		if (rd == FZ_RD_BAD)
			return SHMRING_EBADFMT;
		if (r->type == FZ_MSG)
			return SHMRING_OK;
		fz_pop(z, 1);
	}
}

/* Without waiting: the next message at or after q[*j] (index *w), below
 * the head last read (read again once per call, *refreshed), skipping
 * padding. 1 with *j on it and *w at it; 0 at the end or at a bad
 * record; -1 when the model lost track. */
static int fz_m_more(struct fz *z, unsigned *j, uint64_t *w, int *refreshed)
{
	for (;;) {
		struct fz_rec *r;
		int rd;

		if (*w == z->c_head) {
			if (*refreshed)
				return 0;
			*refreshed = 1;
			z->c_head = z->head;
			continue;
		}
		FUZZ_ASSERT(*j < z->qn);
		r = fz_rec(z, *j);
		FUZZ_ASSERT(r->at == *w);
		rd = fz_read(z, r);
		if (rd == FZ_RD_LOST)
			return -1;
		if (rd == FZ_RD_BAD)
			return 0;
		if (r->type == FZ_MSG)
			return 1;
		*w += r->ext;
		++*j;
	}
}

int fz_m_recvv(struct fz *z, const size_t *caps, size_t n, int timed,
               struct fz_rec *out, size_t *nout, uint32_t *need)
{
	struct fz_rec *r;
	unsigned j = 1;
	uint64_t w;
	size_t k = 1;
	int rc, refreshed = 0, more;

	*nout = 0;
	if (!z->cons || z->peeked)
		return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	rc = fz_m_next(z, timed);
	if (rc != SHMRING_OK)
		return rc;
	r = fz_rec(z, 0);
	if (r->len > caps[0]) {
		*need = r->len;
		return SHMRING_EMSGSIZE; /* it stays */
	}
	out[0] = *r;
	w = r->at + r->ext;
	while (k < n) {
		more = fz_m_more(z, &j, &w, &refreshed);
		if (more < 0)
			return FZ_ANY;
		if (!more || fz_rec(z, j)->len > caps[k])
			break;
		r = fz_rec(z, j++);
		out[k++] = *r;
		w = r->at + r->ext;
	}
	fz_pop(z, j);
	FUZZ_ASSERT(z->tail == w);
	*nout = k;
	return SHMRING_OK;
}

int fz_m_peekv(struct fz *z, size_t n, int timed, struct fz_rec **out,
               size_t *nout)
{
	unsigned j;
	uint64_t w;
	int rc, refreshed = 0, more;

	*nout = 0;
	if (!z->cons)
		return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	if (!z->peeked) {
		rc = fz_m_next(z, timed);
		if (rc != SHMRING_OK)
			return rc;
		z->peeked = 1;
	}
	j = fz_msg_index(z, z->peeked - 1);
	w = fz_rec(z, j)->at + fz_rec(z, j)->ext;
	j++;
	while (z->peeked < n) {
		more = fz_m_more(z, &j, &w, &refreshed);
		if (more < 0)
			return FZ_ANY;
		if (!more)
			break;
		z->peeked++;
		w = fz_rec(z, j)->at + fz_rec(z, j)->ext;
		j++;
	}
	for (unsigned k = 0; k < n && k < z->peeked; k++)
		out[k] = fz_rec(z, fz_msg_index(z, k));
	*nout = n < z->peeked ? n : z->peeked;
	return SHMRING_OK;
}

int fz_m_releasev(struct fz *z, size_t n)
{
	if (!z->cons || n > z->peeked)
		return SHMRING_EINVAL;
	if (n == 0)
		return SHMRING_OK;
	fz_pop(z, fz_msg_index(z, (unsigned)n - 1) + 1);
	z->peeked -= (unsigned)n;
	return SHMRING_OK;
}

/* ---- setup and teardown ------------------------------------------------- */

static int fz_open(struct fz *z, int side, shmring **h)
{
	int rc = shmring_open(z->name,
	                      side ? SHMRING_CONSUMER : SHMRING_PRODUCER, h);
	if (rc == SHMRING_OK) {
		shmring_set_spin(*h, 0); /* timed calls go straight to sleep */
		*(side ? &z->cons_map : &z->prod_map) = fuzz_last_mapping();
	}
	return rc;
}

/* Header bytes:
 *   d[0], d[1]  the slot size, slot count and max_msg (fz_geometry,
 *         fuzz_script.h)
 *   d[2]  bit 0: the indices start just below 2^64 (by (d[2] >> 1) % 40),
 *         set while both roles are closed, as a previous pair would have
 *         left them, so that the wrap of the indices and of the lap is
 *         exercised; bit 1: up to 8 timed (1 ms, sleeping) calls. */
int fz_setup(struct fz *z, const uint8_t *d, size_t n)
{
	shmring_config cfg = {0};
	uint64_t start, bytes;

	if (n < 3)
		return -1;
	memset(z, 0, sizeof *z);
	z->in = (struct fz_in){d, n, 3};
	bytes = fz_geometry(d, &cfg, &z->stride, &z->shift, &z->max_msg);
	z->slot_size = cfg.slot_size;
	z->count = cfg.slot_count;
	fuzz_name(z->name, sizeof z->name, "ops");
	FUZZ_ASSERT(shmring_create(z->name, &cfg, SHMRING_PRODUCER, &z->prod) ==
	            SHMRING_OK);
	z->prod_map = fuzz_last_mapping();
	FUZZ_ASSERT(shmring_max_msg(z->prod) == z->max_msg);
	z->seg = fuzz_seg_map(z->name, &z->seg_size);
	FUZZ_ASSERT(z->seg != NULL && z->seg_size == SR_HDR_SIZE + bytes);
	if (d[2] & 1) {
		start = UINT64_MAX - (d[2] >> 1) % 40;
		shmring_close(z->prod);
		memcpy(z->seg + offsetof(struct sr_seg, head), &start, 8);
		memcpy(z->seg + offsetof(struct sr_seg, tail), &start, 8);
		z->head = z->tail = start;
		FUZZ_ASSERT(fz_open(z, 0, &z->prod) == SHMRING_OK);
	}
	shmring_set_spin(z->prod, 0);
	FUZZ_ASSERT(fz_open(z, 1, &z->cons) == SHMRING_OK);
	z->c_head = z->head;
	z->prod_state = z->cons_state = FZ_ATTACHED;
	/* timed calls sleep on the virtual clock of fuzz_seg.c: free */
	z->timed_left = (d[2] & 2) ? 8 : 0;
	z->opens_left = 16;
	memcpy(z->orig, z->seg, SR_HDR_SIZE);
	return 0;
}

/* Whatever is left in the ring must come out as the model says. */
static void fz_drain(struct fz *z)
{
	static uint8_t buf[FZ_MAX_MSG];
	struct fz_rec out[1];
	size_t len = 0, cap = sizeof buf, nout;
	uint32_t need;
	int rc, want;

	if (z->peeked) {
		size_t held = z->peeked;
		want = fz_m_releasev(z, held);
		FUZZ_ASSERT(shmring_releasev(z->cons, held) == want);
	}
	for (uint32_t i = 0; i <= z->count && !z->corrupt; i++) {
		want = fz_m_recvv(z, &cap, 1, 0, out, &nout, &need);
		rc = shmring_recv(z->cons, buf, cap, &len, 0);
		if (z->corrupt)
			return;
		if (rc != want) {
			fprintf(stderr, "drain: got %d, model wants %d\n", rc,
			        want);
			FUZZ_ASSERT(rc == want);
		}
		if (rc != SHMRING_OK)
			return;
		fz_m_verify(z, &out[0], buf, len);
	}
	FUZZ_ASSERT(!"drain: more messages than slots");
}

void fz_teardown(struct fz *z)
{
	if (!z->corrupt && z->cons)
		fz_drain(z);
	shmring_close(z->prod);
	shmring_close(z->cons);
	fuzz_seg_unmap(z->seg, z->seg_size);
	shmring_unlink(z->name);
}

/* ---- close and reopen --------------------------------------------------- */

/* Byte ranges of the header page that sr_seg_check() does not validate:
 * created_ns, role owner, state and caps, head, tail, wake words,
 * sleeping flags, CPU hints and each side's counters (not their
 * reserved tail). */
static const struct {
	uint16_t off, len;
} fz_mutable[] = {
        {40, 8},  {128, 16}, {256, 16}, {384, 8},   {512, 8},   {640, 4},
        {768, 8}, {896, 4},  {1024, 8}, {1152, 72}, {1280, 72},
};

/* 1 if every byte a reopen validates is as it was set up. */
static int fz_pristine(const struct fz *z)
{
	uint8_t cur[SR_HDR_SIZE];

	memcpy(cur, z->seg, SR_HDR_SIZE);
	for (size_t k = 0; k < sizeof fz_mutable / sizeof fz_mutable[0]; k++)
		memcpy(cur + fz_mutable[k].off, z->orig + fz_mutable[k].off,
		       fz_mutable[k].len);
	return memcmp(cur, z->orig, SR_HDR_SIZE) == 0;
}

/* Open @side into *h and check the answer: @want (OK, or EBUSY for a
 * role we hold) while the header page is as set up; EBADFMT, or ENOENT
 * exactly when magic is 0, once a validated byte differs. *h is NULL
 * unless the open succeeded. */
void fz_open_check(struct fz *z, int side, shmring **h, int want)
{
	uint64_t magic;
	int pristine = fz_pristine(z);
	int rc = fz_open(z, side, h);

	memcpy(&magic, z->seg, 8);
	FUZZ_ASSERT(fuzz_open_code(rc));
	if (!z->corrupt && pristine && rc != want) {
		fprintf(stderr, "open of side %d: got %d, want %d\n", side, rc,
		        want);
		FUZZ_ASSERT(rc == want);
	}
	if (!z->corrupt && !pristine) {
		/* EBUSY too: the bytes may still be a valid geometry */
		FUZZ_ASSERT(rc == SHMRING_OK || rc == SHMRING_EBADFMT ||
		            rc == SHMRING_ENOENT || rc == want);
		FUZZ_ASSERT((rc == SHMRING_ENOENT) == (magic == 0));
		if (rc == SHMRING_OK)
			z->corrupt = 1; /* another consistent geometry */
	}
	if (rc != SHMRING_OK)
		*h = NULL;
}

static void fz_reopen(struct fz *z, int side)
{
	shmring **h = side ? &z->cons : &z->prod;

	fz_open_check(z, side, h, SHMRING_OK);
	if (!*h)
		return;
	if (side) {
		z->cons_state = FZ_ATTACHED;
		z->c_head = z->head; /* it resumes at tail, head read anew */
	} else {
		z->prod_state = FZ_ATTACHED;
	}
}

void fz_toggle(struct fz *z, int side)
{
	shmring **h = side ? &z->cons : &z->prod;

	if (!*h) {
		if (z->opens_left > 0) {
			z->opens_left--;
			fz_reopen(z, side);
		}
		return;
	}
	FUZZ_ASSERT(shmring_close(*h) == SHMRING_OK);
	*h = NULL;
	if (side) {
		/* not released: delivered again after a reopen */
		z->peeked = 0;
		for (unsigned j = 0; j < z->qn; j++)
			fz_rec(z, j)->addr = NULL;
		z->cons_state = FZ_CLOSED;
		z->cons_map = NULL;
	} else {
		z->ncl = 0; /* discarded */
		z->prod_state = FZ_CLOSED;
		z->prod_map = NULL;
	}
}

/* ---- hostile writes ----------------------------------------------------- */

enum { FZ_BENIGN, FZ_DIRTY, FZ_CORRUPT };

/* What a write of the slot byte @off (from slot 0) means to the model:
 * a record's header word is followed (the record is marked, fz_read()
 * judges it when it is read); a byte of a published or claimed message
 * is not; anything else (free slots, padding, the tail of a record after
 * its message, a claim's header word, which commit rewrites) is
 * harmless. */
static int fz_classify_slot(struct fz *z, size_t off)
{
	uint64_t k = off / z->stride, o = off % z->stride, mask = z->count - 1;
	uint64_t d = (k - (z->tail & mask)) & mask; /* slots from tail */
	uint64_t ro;

	if (d < z->head - z->tail) {
		for (unsigned j = 0; j < z->qn; j++) {
			struct fz_rec *r = fz_rec(z, j);
			uint64_t rd = r->at - z->tail;
			if (d < rd || d >= rd + r->ext)
				continue;
			ro = (d - rd) * z->stride + o;
			if (ro < 8) {
				r->touched = 1;
				return FZ_BENIGN;
			}
			return r->type == FZ_MSG && ro < 8u + r->len
			               ? FZ_CORRUPT
			               : FZ_BENIGN;
		}
		FUZZ_ASSERT(!"published slot in no record");
	}
	d -= z->head - z->tail; /* slots from head */
	for (unsigned i = 0; i < z->ncl; i++) {
		struct fz_claim *c = &z->cl[i];
		uint64_t cd = c->at - z->head;
		if (d >= cd - c->pad && d < cd) {
			if (d == cd - c->pad && o < 8)
				c->pad_touched = 1;
			return FZ_BENIGN;
		}
		if (d >= cd && d < cd + c->ext) {
			ro = (d - cd) * z->stride + o;
			return ro >= 8 && ro < 8u + c->len ? FZ_CORRUPT
			                                   : FZ_BENIGN;
		}
	}
	return FZ_BENIGN;
}

/* What a write of the byte @off of the segment means to the model. */
static int fz_classify(struct fz *z, size_t off)
{
	if (off >= SR_HDR_SIZE)
		return fz_classify_slot(z, off - SR_HDR_SIZE);
	if ((off >= 128 && off < 140) || (off >= 256 && off < 268) ||
	    (off >= 384 && off < 392) || (off >= 512 && off < 520))
		return FZ_CORRUPT; /* roles, head, tail */
	/* caps only choose a fence: at worst a sleep lasts a slice; the
	 * CPU hints only decide whether to spin (spin is 0 here) */
	if ((off >= 40 && off < 48) || (off >= 140 && off < 144) ||
	    (off >= 268 && off < 272) || (off >= 640 && off < 644) ||
	    (off >= 768 && off < 776) || (off >= 896 && off < 900) ||
	    (off >= 1024 && off < 1032) || (off >= 1152 && off < 1224) ||
	    (off >= 1280 && off < 1352))
		return FZ_BENIGN; /* created_ns, caps, wake, flags, hints,
		                     counters (never read by the ring) */
	return FZ_DIRTY;          /* validated on reopen only */
}

/* Write @width bytes of @val at @off, as the hostile peer. */
static void fz_poke(struct fz *z, size_t off, uint64_t val, size_t width)
{
	uint64_t old = 0;

	if (off + width > z->seg_size)
		return;
	memcpy(&old, z->seg + off, width);
	if (memcmp(&val, &old, width) == 0)
		return;
	for (size_t b = 0; b < width && !z->corrupt; b++)
		if (((val ^ old) >> (8 * b)) & 0xffu &&
		    fz_classify(z, off + b) == FZ_CORRUPT)
			z->corrupt = 1;
	memcpy(z->seg + off, &val, width);
}

/* Header fields; new ones only ever appended, so that old scripts keep
 * their targets. */
static const struct {
	uint16_t off;
	uint8_t width;
} fz_fields[] = {
        {0, 8},    {8, 4},    {12, 4},   {16, 4},   {20, 4},   {24, 4},
        {28, 4},   {32, 8},   {40, 8},   {128, 8},  {136, 4},  {256, 8},
        {264, 4},  {384, 8},  {512, 8},  {640, 4},  {768, 4},  {896, 4},
        {1024, 4}, {140, 4},  {268, 4},  {48, 4},   {772, 4},  {1028, 4},
        {1152, 8}, {1200, 8}, {1280, 8}, {1328, 8}, {1224, 8},
};

static uint64_t fz_value(const struct fz *z, uint64_t old, uint64_t raw,
                         uint8_t mode)
{
	const uint64_t special[] = {
	        0,
	        1,
	        2,
	        z->count - 1,
	        z->count,
	        z->count + 1,
	        z->slot_size,
	        z->slot_size + 1,
	        UINT32_MAX,
	        UINT64_MAX,
	        z->head,
	        z->head + 1,
	        z->head - 1,
	        z->head + z->count,
	        z->head - z->count,
	        z->head + z->count + 1,
	        os_proc_self(),
	        UINT64_C(1) << 63,
	        z->max_msg,
	        z->max_msg + 1,
	        z->stride,
	        z->tail,
	};

	return fz_hostile(old, raw, mode, special,
	                  sizeof special / sizeof special[0]);
}

/* target < 0x80: a header field; 0x80..0xbf: slot (target >> 2) % count,
 * its word's low or high half (bit 1 clear, bit 0 picks) or a byte after
 * the word (bit 1 set); 0xc0 and above: any byte of the segment. */
void fz_write(struct fz *z, uint8_t target, uint64_t raw, uint8_t mode)
{
	size_t off, width = 1, nf = sizeof fz_fields / sizeof fz_fields[0];
	uint64_t old = 0;

	if (target < 0x80) {
		off = fz_fields[target % nf].off;
		width = fz_fields[target % nf].width;
	} else if (target < 0xc0) {
		off = SR_HDR_SIZE +
		      (size_t)((target >> 2) & (z->count - 1)) * z->stride;
		if (target & 2) /* a byte after the word */
			off += 8u + (size_t)((raw >> 32) % (z->stride - 8u));
		else
			off += (target & 1) * 4u, width = 4;
	} else {
		off = raw % z->seg_size;
		raw >>= 32;
	}
	if (off + width > z->seg_size)
		return;
	memcpy(&old, z->seg + off, width);
	fz_poke(z, off, fz_value(z, old, raw, mode), width);
}

/* A hostile header word for a record in flight (@which picks it; the slot
 * at head when none is), each mode one of format.md's reasons to reject
 * it, or (mode 10) raw. */
void fz_write_word(struct fz *z, uint8_t which, uint8_t mode, uint64_t raw)
{
	uint64_t at = z->head, lap, end, w;
	uint32_t type = FZ_MSG, len = 0, slot;

	if (z->qn && !z->corrupt) {
		const struct fz_rec *r = fz_rec(z, which % z->qn);
		at = r->at;
		type = r->type;
		len = r->len;
	} else if (z->corrupt) {
		at = z->tail + which % z->count;
	}
	slot = (uint32_t)(at & (z->count - 1));
	lap = (at >> z->shift) & FZ_LAP_MASK;
	end = z->count - slot; /* slots to the end of the ring */
	w = fz_word(z, type, len, at);
	switch (mode % 12) {
	case 0: /* a later lap */
		w = (w & ((UINT64_C(1) << 34) - 1)) | ((lap + 1) & FZ_LAP_MASK)
		                                              << 34;
		break;
	case 1: /* an earlier lap */
		w = (w & ((UINT64_C(1) << 34) - 1)) | ((lap - 1) & FZ_LAP_MASK)
		                                              << 34;
		break;
	case 2: /* empty */
		w = fz_word(z, 0, len, at);
		break;
	case 3: /* reserved (multi-producer only) */
		w = fz_word(z, 3, len, at);
		break;
	case 4: /* message <-> padding */
		w = fz_word(z, type == FZ_MSG ? FZ_PAD : FZ_MSG, len, at);
		break;
	case 5: /* one slot past the published head */
		w = fz_word(z, raw & 1 ? FZ_PAD : FZ_MSG,
		            fz_pad_len(z, z->head - at + 1), at);
		break;
	case 6: /* one slot past the head the consumer last read */
		w = fz_word(z, raw & 1 ? FZ_PAD : FZ_MSG,
		            fz_pad_len(z, z->c_head - at + 1), at);
		break;
	case 7: /* longer than max_msg */
		w = fz_word(z, FZ_MSG, z->max_msg + 1, at);
		break;
	case 8: /* past the end of the ring */
		w = fz_word(z, FZ_MSG, fz_pad_len(z, end + 1), at);
		break;
	case 9: /* padding past the end of the ring */
		w = fz_word(z, FZ_PAD, fz_pad_len(z, end + 1), at);
		break;
	case 10:
		w = raw;
		break;
	default: /* the largest len */
		w = fz_word(z, raw & 1 ? FZ_PAD : FZ_MSG, UINT32_MAX, at);
		break;
	}
	fz_poke(z, SR_HDR_SIZE + (size_t)slot * z->stride, w, 8);
}
