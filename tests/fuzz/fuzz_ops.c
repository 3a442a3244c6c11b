/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ops.c -- a hostile peer: the bytes are a script that interleaves
 * producer and consumer calls on one ring (send, recv, claim, commit, peek,
 * release, sendv, recvv, claimv, commitv, peekv, releasev, with timeout 0
 * or 1 ms; messages from 0 bytes to past max_msg, so over many slots and
 * across the end of the ring; close and reopen, a second open of a held
 * role) with arbitrary writes into the shared header, role records, index
 * lines, wake words, record header words and payloads, made through our
 * own mapping of the segment.
 *
 * Property: every call returns a code the contract allows, never crashes
 * or hangs; every pointer handed out lies inside the calling handle's own
 * mapping. While no write the model cannot follow has happened, the model
 * (fuzz_ops_model.c) predicts every return code and count exactly, every
 * pointer is the payload of the record the format puts there, and
 * messages arrive whole, in order, exactly once. Writes to wake words,
 * sleeping flags, CPU hints and created_ns are followed (they may only
 * cause spurious wake-ups); writes to header fields only change what a
 * reopen answers; writes to free slots and padding are harmless; a write
 * to a record header word is judged when the consumer reads it: an
 * invalid word must give SHMRING_EBADFMT and leave the record in place.
 *
 * Script: 3 header bytes (fz_setup), then ops, each one byte and its
 * operands (tests/fuzz/gen_corpus.c spells the encoding out):
 *   op % 12 (op < 240): 0,1 send | 2 claim | 3 commit | 4,5 recv | 6 peek |
 *        7 release | 8 close/reopen | 9 second open | 10,11 write
 *   240 claimv | 241 commitv | 242 peekv | 243 releasev | 244 word
 *   245..247 as op % 12 | 248..251 sendv | 252..255 recvv
 * A size operand is one byte b < 0xf0 (b % (limit + 2)) or an escape
 * (fz_size): exactly the limit, one past it, 16 bits, one or two slots,
 * k slots exactly or one byte over.
 */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_ops.h"
#include "fuzz_seg.h"

static uint8_t fz_bufs[FZ_BATCH][FZ_MAX_MSG + 2];

/* A size in 0 .. @limit + 1 (fz_in_size). */
static size_t fz_size(struct fz *z, size_t limit)
{
	return fz_in_size(&z->in, limit, z->slot_size, z->count, z->stride);
}

static void fz_check(struct fz *z, int rc, int want)
{
	fz_check_code("FUZZ_OPS_TRACE", z->in.i, z->corrupt, 0, rc, want);
}

static int fz_live(const struct fz *z)
{
	return !z->corrupt;
}

static int fz_timeout(struct fz *z)
{
	if ((in8(&z->in) & 7) != 7 || z->timed_left == 0)
		return 0;
	z->timed_left--;
	return 1;
}

/* A pointer the producer got: inside its mapping; while the model
 * follows, exactly where the format puts claim @k's payload. */
static void fz_claimed(struct fz *z, unsigned k, void *p, size_t len)
{
	FUZZ_ASSERT(fuzz_in_map_at(z->prod_map, p, len));
	if (fz_live(z)) {
		FUZZ_ASSERT(p == fz_payload(z, z->prod_map, z->cl[k].at));
		z->cl[k].addr = p;
	}
	fz_fill(p, z->next_seq + k, len);
}

/* A message the consumer got in place: inside its mapping; while the
 * model follows, at the record's payload, at the same address as when it
 * was first peeked, with the bytes sent. */
static void fz_peeked(struct fz *z, struct fz_rec *r, const void *p, size_t len)
{
	FUZZ_ASSERT(len <= shmring_max_msg(z->cons) &&
	            fuzz_in_map_at(z->cons_map, p, len));
	if (!fz_live(z) || !r)
		return;
	FUZZ_ASSERT(p == fz_payload(z, z->cons_map, r->at));
	FUZZ_ASSERT(!r->addr || r->addr == p);
	r->addr = p;
	fz_m_verify(z, r, p, len);
}

static void op_send(struct fz *z, int zero_copy)
{
	size_t len = fz_size(z, z->max_msg), claimed = 0;
	int timed = fz_timeout(z), want = FZ_ANY, rc;
	uint64_t seq = z->next_seq;
	void *p = NULL;

	if (zero_copy) {
		if (fz_live(z))
			want = fz_m_claimv(z, &len, 1, timed, &claimed);
		rc = shmring_claim(z->prod, len, &p, timed);
	} else {
		fz_fill(fz_bufs[0], seq, len);
		if (fz_live(z))
			want = fz_m_send(z, len, timed);
		rc = shmring_send(z->prod, fz_bufs[0], len, timed);
	}
	fz_check(z, rc, want);
	if (rc == SHMRING_OK && zero_copy)
		fz_claimed(z, 0, p, len);
}

static void op_commit(struct fz *z)
{
	size_t len = fz_size(z, z->ncl ? z->cl[0].len : 0);
	int want = fz_live(z) ? fz_m_commitv(z, &len, 1) : FZ_ANY;

	fz_check(z, fz_fin(shmring_commit(z->prod, len)), want);
}

static void op_recv(struct fz *z)
{
	struct fz_rec out[1];
	size_t cap = fz_size(z, z->max_msg), len = 0, nout = 0;
	uint32_t need = 0;
	int timed = fz_timeout(z), want = FZ_ANY, rc;

	if (fz_live(z))
		want = fz_m_recvv(z, &cap, 1, timed, out, &nout, &need);
	rc = shmring_recv(z->cons, fz_bufs[0], cap, &len, timed);
	fz_check(z, rc, want);
	/* The handle's own limit: a reopen may have validated a header
	 * rewritten to another geometry. */
	if (rc == SHMRING_EMSGSIZE) {
		FUZZ_ASSERT(len > cap && len <= shmring_max_msg(z->cons));
		FUZZ_ASSERT(!fz_live(z) || len == need);
	}
	if (rc != SHMRING_OK)
		return;
	FUZZ_ASSERT(len <= cap);
	if (fz_live(z))
		fz_m_verify(z, &out[0], fz_bufs[0], len);
}

static void op_peek(struct fz *z)
{
	struct fz_rec *out[1] = {NULL};
	const void *p = NULL;
	size_t len = 0, nout = 0;
	int timed = fz_timeout(z), want = FZ_ANY, rc;

	if (fz_live(z))
		want = fz_m_peekv(z, 1, timed, out, &nout);
	rc = shmring_peek(z->cons, &p, &len, timed);
	fz_check(z, rc, want);
	if (rc == SHMRING_OK)
		fz_peeked(z, out[0], p, len);
}

static void op_release(struct fz *z)
{
	int want = fz_live(z) ? fz_m_releasev(z, 1) : FZ_ANY;

	fz_check(z, fz_fin(shmring_release(z->cons)), want);
}

/* sendv of 1..FZ_BATCH messages: the model sends those that fit. */
static void op_sendv(struct fz *z)
{
	shmring_msg v[FZ_BATCH];
	size_t lens[FZ_BATCH], n = 1 + in8(&z->in) % FZ_BATCH, sent = 99;
	size_t want_sent = 0;
	int timed = fz_timeout(z), want = FZ_ANY, rc;

	for (size_t i = 0; i < n; i++) {
		lens[i] = v[i].len = fz_size(z, z->max_msg);
		v[i].data = fz_bufs[i];
		fz_fill(fz_bufs[i], z->next_seq + i, v[i].len);
	}
	if (fz_live(z))
		want = fz_m_sendv(z, lens, n, timed, &want_sent);
	rc = shmring_sendv(z->prod, v, n, &sent, timed);
	fz_check(z, rc, want);
	FUZZ_ASSERT(sent <= n && (rc == SHMRING_OK) == (sent == n));
	if (fz_live(z) && want != FZ_ANY)
		FUZZ_ASSERT(sent == want_sent);
}

/* recvv into 1..FZ_BATCH buffers of script-chosen capacities. */
static void op_recvv(struct fz *z)
{
	struct fz_rec out[FZ_BATCH];
	shmring_buf v[FZ_BATCH];
	size_t caps[FZ_BATCH], n = 1 + in8(&z->in) % FZ_BATCH;
	size_t got = 99, nout = 0;
	uint32_t need = 0;
	int timed = fz_timeout(z), want = FZ_ANY, rc;

	for (size_t i = 0; i < n; i++) {
		caps[i] = fz_size(z, z->max_msg);
		v[i] = (shmring_buf){fz_bufs[i], caps[i]};
	}
	if (fz_live(z))
		want = fz_m_recvv(z, caps, n, timed, out, &nout, &need);
	rc = shmring_recvv(z->cons, v, n, &got, timed);
	fz_check(z, rc, want);
	if (!fz_recvv_ok(z->cons, v, caps, n, got, rc, fz_live(z), need) ||
	    !fz_live(z) || want == FZ_ANY)
		return;
	FUZZ_ASSERT(got == nout);
	for (size_t i = 0; i < got; i++)
		fz_m_verify(z, &out[i], fz_bufs[i], v[i].len);
}

/* claimv of 0..FZ_BATCH sizes: the model claims those that fit now. */
static void op_claimv(struct fz *z)
{
	shmring_buf v[FZ_BATCH];
	size_t lens[FZ_BATCH], n = in8(&z->in) % (FZ_BATCH + 1), claimed = 99;
	size_t want_claimed = 0;
	int timed = fz_timeout(z), want = FZ_ANY, rc;

	for (size_t i = 0; i < n; i++) {
		lens[i] = fz_size(z, z->max_msg);
		v[i] = (shmring_buf){NULL, lens[i]};
	}
	if (fz_live(z))
		want = fz_m_claimv(z, lens, n, timed, &want_claimed);
	rc = shmring_claimv(z->prod, v, n, &claimed, timed);
	fz_check(z, rc, want);
	FUZZ_ASSERT(claimed <= n && (rc == SHMRING_OK || claimed == 0));
	FUZZ_ASSERT(rc != SHMRING_OK || claimed >= 1 || n == 0);
	if (fz_live(z) && want != FZ_ANY)
		FUZZ_ASSERT(claimed == want_claimed);
	for (size_t i = 0; i < claimed; i++) {
		FUZZ_ASSERT(v[i].len == lens[i]);
		fz_claimed(z, (unsigned)i, v[i].data, v[i].len);
	}
	for (size_t i = claimed; i < n; i++)
		FUZZ_ASSERT(v[i].data == NULL); /* left as they were */
}

/* commitv of 0..claimed+1 messages, at their claimed lengths (NULL) or
 * at script-chosen ones (possibly one past the claim: EINVAL). */
static void op_commitv(struct fz *z)
{
	size_t lens[FZ_BATCH + 1], n = in8(&z->in) % (z->ncl + 2u);
	int null_lens = in8(&z->in) & 1, want;

	if (n > FZ_BATCH)
		n = FZ_BATCH;
	for (size_t i = 0; i < n && !null_lens; i++)
		lens[i] = fz_size(z, i < z->ncl ? z->cl[i].len : 0);
	want = fz_live(z) ? fz_m_commitv(z, null_lens ? NULL : lens, n)
	                  : FZ_ANY;
	fz_check(z,
	         fz_fin(shmring_commitv(z->prod, null_lens ? NULL : lens, n)),
	         want);
}

/* peekv of 0..FZ_BATCH: the ones peeked before come first, at the same
 * addresses, then newer ones. */
static void op_peekv(struct fz *z)
{
	struct fz_rec *out[FZ_BATCH] = {NULL};
	shmring_msg v[FZ_BATCH];
	size_t n = in8(&z->in) % (FZ_BATCH + 1), got = 99, nout = 0;
	int timed = fz_timeout(z), want = FZ_ANY, rc;

	if (fz_live(z))
		want = fz_m_peekv(z, n, timed, out, &nout);
	rc = shmring_peekv(z->cons, v, n, &got, timed);
	fz_check(z, rc, want);
	FUZZ_ASSERT(got <= n && (rc == SHMRING_OK || got == 0));
	FUZZ_ASSERT(rc != SHMRING_OK || got >= 1 || n == 0);
	if (fz_live(z) && want != FZ_ANY)
		FUZZ_ASSERT(got == nout);
	for (size_t i = 0; i < got; i++)
		fz_peeked(z, fz_live(z) && want != FZ_ANY ? out[i] : NULL,
		          v[i].data, v[i].len);
}

static void op_releasev(struct fz *z)
{
	size_t n = in8(&z->in) % (z->peeked + 2u);
	int want = fz_live(z) ? fz_m_releasev(z, n) : FZ_ANY;

	fz_check(z, fz_fin(shmring_releasev(z->cons, n)), want);
}

static void op_dup_open(struct fz *z)
{
	int side = in8(&z->in) & 1;
	shmring *h = NULL;
	uint8_t *map;

	if (!(side ? z->cons : z->prod) || z->opens_left == 0)
		return; /* not held (that is a reopen), or no opens left */
	z->opens_left--;
	map = side ? z->cons_map : z->prod_map;
	fz_open_check(z, side, &h, SHMRING_EBUSY);
	*(side ? &z->cons_map : &z->prod_map) = map; /* the held handle's */
	if (h) {
		z->corrupt = 1; /* a second holder: the model stops here */
		shmring_close(h);
	}
}

static void op_write(struct fz *z)
{
	uint8_t target = in8(&z->in); /* one per statement: a defined order */
	uint64_t raw = in_le(&z->in, 8);

	fz_write(z, target, raw, in8(&z->in));
}

static void op_word(struct fz *z)
{
	uint8_t which = in8(&z->in);
	uint8_t mode = in8(&z->in);

	fz_write_word(z, which, mode, in_le(&z->in, 8));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z;

	if (fz_setup(&z, data, size) != 0)
		return 0;
	while (z.in.i < z.in.n) {
		uint8_t op = in8(&z.in);

		/* The top op bytes are the batch calls and the record words
		 * (added later: the rest keep their meaning, so old corpus
		 * scripts still replay the paths they were saved for). */
		if (op >= 248) {
			if (op < 252)
				op_sendv(&z);
			else
				op_recvv(&z);
			continue;
		}
		switch (op) {
		case 240:
			op_claimv(&z);
			continue;
		case 241:
			op_commitv(&z);
			continue;
		case 242:
			op_peekv(&z);
			continue;
		case 243:
			op_releasev(&z);
			continue;
		case 244:
			op_word(&z);
			continue;
		default:
			break;
		}
		switch (op % 12) {
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
		case 5:
			op_recv(&z);
			break;
		case 6:
			op_peek(&z);
			break;
		case 7:
			op_release(&z);
			break;
		case 8:
			fz_toggle(&z, in8(&z.in) & 1);
			break;
		case 9:
			op_dup_open(&z);
			break;
		default:
			op_write(&z);
			break;
		}
	}
	fz_teardown(&z);
	return 0;
}
