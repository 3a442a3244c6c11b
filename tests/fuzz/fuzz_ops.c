/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ops.c -- a hostile peer: the bytes are a script that interleaves
 * producer and consumer calls on one ring (send, recv, claim, commit, peek,
 * release, sendv, recvv with timeout 0 or 1 ms, close and reopen, a second
 * open of a held role) with arbitrary writes into the shared header, role
 * records, index lines, wake words and slot headers and payloads, made through
 * our own mapping of the segment.
 *
 * Property: every call returns a code the contract allows, never crashes
 * or hangs; every pointer handed out lies inside the library's mapping.
 * While no write the model cannot follow has happened, a reference queue
 * predicts every return code exactly, and messages arrive whole, in order,
 * exactly once. Writes to wake words, sleeping flags and created_ns are
 * followed (they may only cause spurious wake-ups); writes to header fields
 * only change what a reopen answers; writes to free slots are harmless.
 */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_ops.h"
#include "fuzz_seg.h"

static uint8_t in8(struct fz *z)
{
	return z->i < z->n ? z->d[z->i++] : 0;
}

static uint64_t in_le(struct fz *z, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned b = 0; b < bytes; b++)
		v |= (uint64_t)in8(z) << (8 * b);
	return v;
}

static void fz_check(struct fz *z, int rc, int want)
{
	static int trace = -1;

	if (trace < 0)
		trace = getenv("FUZZ_OPS_TRACE") != NULL;
	if (trace)
		fprintf(stderr, "op@%zu rc %d want %d%s\n", z->i, rc, want,
		        z->corrupt ? " (corrupt)" : "");
	FUZZ_ASSERT(fuzz_data_code(rc));
	if (!z->corrupt && rc != want) {
		fprintf(stderr, "op %zu: got %d, model wants %d\n", z->i, rc,
		        want);
		FUZZ_ASSERT(rc == want);
	}
}

static int fz_timeout(struct fz *z)
{
	if ((in8(z) & 7) != 7 || z->timed_left == 0)
		return 0;
	z->timed_left--;
	return 1;
}

static void op_send(struct fz *z, int zero_copy)
{
	size_t len = in8(z) % (z->slot_size + 2u);
	int timed = fz_timeout(z);
	int want = fz_model_reserve(z, len, timed), rc;
	void *p = NULL;
	uint8_t buf[FZ_MAX_SLOT + 1];

	if (zero_copy) {
		rc = shmring_claim(z->prod, len, &p, timed);
	} else {
		fz_fill(buf, fz_next_seq(z), len);
		rc = shmring_send(z->prod, buf, len, timed);
	}
	fz_check(z, rc, want);
	if (rc != SHMRING_OK)
		return;
	if (zero_copy) {
		FUZZ_ASSERT(fuzz_in_mapping(p, len));
		fz_fill(p, fz_next_seq(z), len);
		fz_model_claimed(z, len);
	} else {
		fz_model_push(z, len);
	}
}

static void op_commit(struct fz *z)
{
	size_t len = in8(z) % (z->claim_len + 2u);
	int want = z->prod && z->claim && len <= z->claim_len ? SHMRING_OK
	                                                      : SHMRING_EINVAL;
	int rc = shmring_commit(z->prod, len);

	fz_check(z, rc, want);
	if (rc == SHMRING_OK && z->claim) {
		z->claim = 0;
		fz_model_push(z, len);
	}
}

static void op_recv(struct fz *z)
{
	uint8_t buf[FZ_MAX_SLOT + 1];
	size_t cap = in8(z) % (z->slot_size + 2u), len = 0;
	int timed = fz_timeout(z);
	int want = fz_model_take(z, cap, timed, 0);
	int rc = shmring_recv(z->cons, buf, cap, &len, timed);

	fz_check(z, rc, want);
	/* The handle's own limit: a reopen may have validated a header
	 * rewritten to another slot_size of the same stride. */
	if (rc == SHMRING_EMSGSIZE)
		FUZZ_ASSERT(len > cap && len <= shmring_max_msg(z->cons));
	if (rc != SHMRING_OK)
		return;
	FUZZ_ASSERT(len <= cap);
	if (!z->corrupt)
		fz_model_verify_pop(z, buf, len);
}

static void op_peek(struct fz *z)
{
	const void *p = NULL;
	size_t len = 0;
	int timed = fz_timeout(z);
	int want = fz_model_take(z, 0, timed, 1);
	int rc = shmring_peek(z->cons, &p, &len, timed);

	fz_check(z, rc, want);
	if (rc != SHMRING_OK)
		return;
	FUZZ_ASSERT(len <= shmring_max_msg(z->cons) && fuzz_in_mapping(p, len));
	z->peek = 1;
	if (!z->corrupt)
		fz_model_verify(z, p, len);
}

static void op_release(struct fz *z)
{
	int want = z->cons && z->peek ? SHMRING_OK : SHMRING_EINVAL;
	int rc = shmring_release(z->cons);

	fz_check(z, rc, want);
	if (rc == SHMRING_OK) {
		z->peek = 0;
		if (!z->corrupt)
			fz_model_pop(z);
	}
}

#define FZ_BATCH 4

/* sendv of 1..FZ_BATCH messages: the model sends those that fit. */
static void op_sendv(struct fz *z)
{
	uint8_t buf[FZ_BATCH][FZ_MAX_SLOT + 1];
	shmring_msg v[FZ_BATCH];
	size_t n = 1 + in8(z) % FZ_BATCH, sent = 99, want_sent = 0;
	int timed = fz_timeout(z), want = SHMRING_OK, rc;

	for (size_t i = 0; i < n; i++) {
		v[i].len = in8(z) % (z->slot_size + 2u);
		v[i].data = buf[i];
		fz_fill(buf[i], fz_next_seq(z) + i, v[i].len);
		if (v[i].len > z->slot_size)
			want = SHMRING_EMSGSIZE;
	}
	if (!z->prod || z->claim)
		want = SHMRING_EINVAL;
	else if (want == SHMRING_OK && z->cons_state == FZ_CLOSED)
		want = SHMRING_ECLOSED;
	else if (want == SHMRING_OK) {
		want_sent = z->count - z->qn < n ? z->count - z->qn : n;
		if (want_sent < n)
			want = timed ? SHMRING_ETIMEDOUT : SHMRING_EAGAIN;
	}
	rc = shmring_sendv(z->prod, v, n, &sent, timed);
	fz_check(z, rc, want);
	FUZZ_ASSERT(sent <= n);
	if (!z->corrupt)
		FUZZ_ASSERT(sent == want_sent);
	for (size_t i = 0; i < sent; i++)
		fz_model_push(z, v[i].len);
}

/* recvv into 1..FZ_BATCH buffers of script-chosen capacities. */
static void op_recvv(struct fz *z)
{
	uint8_t buf[FZ_BATCH][FZ_MAX_SLOT + 1];
	shmring_buf v[FZ_BATCH];
	size_t n = 1 + in8(z) % FZ_BATCH, got = 99, want_got = 0, cap0;
	int timed = fz_timeout(z), want, rc;

	for (size_t i = 0; i < n; i++)
		v[i] = (shmring_buf){buf[i], in8(z) % (z->slot_size + 2u)};
	cap0 = v[0].len;
	want = fz_model_take(z, cap0, timed, 0); /* EINVAL if peeking */
	if (want == SHMRING_OK)
		while (want_got < n && want_got < z->qn &&
		       z->q[(z->qh + want_got) % FZ_MAX_COUNT].len <=
		               v[want_got].len)
			want_got++;
	rc = shmring_recvv(z->cons, v, n, &got, timed);
	fz_check(z, rc, want);
	FUZZ_ASSERT(got <= n && (rc == SHMRING_OK || got == 0));
	if (rc == SHMRING_EMSGSIZE)
		FUZZ_ASSERT(v[0].len > cap0 &&
		            v[0].len <= shmring_max_msg(z->cons));
	if (rc != SHMRING_OK)
		return;
	FUZZ_ASSERT(got >= 1);
	if (z->corrupt)
		return;
	FUZZ_ASSERT(got == want_got);
	for (size_t i = 0; i < got; i++)
		fz_model_verify_pop(z, buf[i], v[i].len);
}

static void op_dup_open(struct fz *z)
{
	int side = in8(z) & 1;
	shmring *h = NULL;

	if (!(side ? z->cons : z->prod) || z->opens_left == 0)
		return; /* not held (that is a reopen), or no opens left */
	z->opens_left--;
	fz_open_check(z, side, &h, SHMRING_EBUSY);
	if (h) {
		z->corrupt = 1; /* a second holder: the model stops here */
		shmring_close(h);
	}
}

static void op_write(struct fz *z)
{
	uint8_t target = in8(z); /* one per statement: a defined order */
	uint64_t raw = in_le(z, 8);

	fz_write(z, target, raw, in8(z));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z;

	if (fz_setup(&z, data, size) != 0)
		return 0;
	while (z.i < z.n) {
		uint8_t op = in8(&z);

		/* The top 8 op bytes are the batch calls (added later: the
		 * rest keep their meaning, so old corpus scripts still
		 * replay the paths they were saved for). */
		if (op >= 248) {
			if (op < 252)
				op_sendv(&z);
			else
				op_recvv(&z);
			continue;
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
			fz_toggle(&z, in8(&z) & 1);
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
