/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ops_model.c -- setup, the reference queue and the hostile writes of
 * fuzz_ops.c. The model mirrors the contract in include/shmring.h, not the
 * code: what each call must answer given the messages in flight, the
 * pending claim or peek, and the state of each role.
 */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_ops.h"
#include "fuzz_seg.h"
#include "os.h"

/* ---- reference queue ---------------------------------------------------- */

uint64_t fz_next_seq(const struct fz *z)
{
	return z->next_seq;
}

void fz_fill(void *buf, uint64_t seq, size_t len)
{
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seq * 131u + i * 7u + 1u + (seq >> 8));
}

int fz_model_reserve(const struct fz *z, size_t len, int timed)
{
	if (!z->prod || z->claim)
		return SHMRING_EINVAL;
	if (len > z->slot_size)
		return SHMRING_EMSGSIZE;
	if (z->cons_state == FZ_CLOSED)
		return SHMRING_ECLOSED;
	if (z->qn == z->count)
		return timed ? SHMRING_ETIMEDOUT : SHMRING_EAGAIN;
	return SHMRING_OK;
}

int fz_model_take(const struct fz *z, size_t cap, int timed, int peek)
{
	if (!z->cons || (z->peek && !peek))
		return SHMRING_EINVAL;
	if (z->peek)
		return SHMRING_OK; /* the same message again */
	if (z->qn == 0) {
		if (z->prod_state == FZ_CLOSED)
			return SHMRING_ECLOSED;
		return timed ? SHMRING_ETIMEDOUT : SHMRING_EAGAIN;
	}
	if (!peek && z->q[z->qh].len > cap)
		return SHMRING_EMSGSIZE;
	return SHMRING_OK;
}

void fz_model_claimed(struct fz *z, size_t len)
{
	z->claim = 1;
	z->claim_len = (uint32_t)len;
}

void fz_model_push(struct fz *z, size_t len)
{
	unsigned t = (z->qh + z->qn) % FZ_MAX_COUNT;

	if (z->qn == FZ_MAX_COUNT) {
		z->corrupt = 1; /* only reachable after a corrupting write */
		return;
	}
	z->q[t].seq = z->next_seq++;
	z->q[t].len = (uint32_t)len;
	z->qn++;
}

void fz_model_pop(struct fz *z)
{
	if (z->qn == 0)
		return;
	z->qh = (z->qh + 1) % FZ_MAX_COUNT;
	z->qn--;
}

void fz_model_verify(const struct fz *z, const void *p, size_t len)
{
	uint8_t want[FZ_MAX_SLOT];

	FUZZ_ASSERT(z->qn > 0 && len == z->q[z->qh].len);
	fz_fill(want, z->q[z->qh].seq, len);
	FUZZ_ASSERT(memcmp(p, want, len) == 0);
}

void fz_model_verify_pop(struct fz *z, const void *p, size_t len)
{
	fz_model_verify(z, p, len);
	fz_model_pop(z);
}

/* ---- setup and teardown ------------------------------------------------- */

static int fz_open(struct fz *z, int side, shmring **h)
{
	int rc = shmring_open(z->name,
	                      side ? SHMRING_CONSUMER : SHMRING_PRODUCER, h);
	if (rc == SHMRING_OK)
		shmring_set_spin(*h, 0); /* timed calls go straight to sleep */
	return rc;
}

/* Header bytes: slot size, slot count, flags: bit 0 starts the indices
 * just below 2^64 (set while both roles are closed, as a previous pair
 * would have left them), so that wrap-around is exercised; bit 1 allows
 * one timed (1 ms, sleeping) call in the script. */
int fz_setup(struct fz *z, const uint8_t *d, size_t n)
{
	shmring_config cfg = {0};
	uint64_t start;

	if (n < 3)
		return -1;
	memset(z, 0, sizeof *z);
	z->d = d;
	z->n = n;
	z->i = 3;
	cfg.slot_size = 1 + d[0] % FZ_MAX_SLOT; /* 0 would mean default */
	cfg.slot_count = 2u << (d[1] % 4);
	fuzz_name(z->name, sizeof z->name, "ops");
	FUZZ_ASSERT(shmring_create(z->name, &cfg, SHMRING_PRODUCER, &z->prod) ==
	            SHMRING_OK);
	z->seg = fuzz_seg_map(z->name, &z->seg_size);
	FUZZ_ASSERT(z->seg != NULL);
	z->slot_size = cfg.slot_size;
	z->count = cfg.slot_count;
	z->stride = (SR_SLOT_HDR + z->slot_size + 63u) & ~63u;
	if (d[2] & 1) {
		start = UINT64_MAX - (d[2] >> 1) % 40;
		shmring_close(z->prod);
		memcpy(z->seg + offsetof(struct sr_seg, head), &start, 8);
		memcpy(z->seg + offsetof(struct sr_seg, tail), &start, 8);
		z->next_seq = start;
		FUZZ_ASSERT(fz_open(z, 0, &z->prod) == SHMRING_OK);
	}
	shmring_set_spin(z->prod, 0);
	FUZZ_ASSERT(fz_open(z, 1, &z->cons) == SHMRING_OK);
	z->prod_state = z->cons_state = FZ_ATTACHED;
	z->timed_left = (d[2] & 2) ? 1 : 0; /* 1 ms each: keep them rare */
	z->opens_left = 8;
	memcpy(z->orig, z->seg, SR_HDR_SIZE);
	return 0;
}

/* Whatever is left in the ring must come out as the model says. */
static void fz_drain(struct fz *z)
{
	uint8_t buf[FZ_MAX_SLOT];
	size_t len;
	int rc;

	if (z->peek) {
		FUZZ_ASSERT(shmring_release(z->cons) == SHMRING_OK);
		z->peek = 0;
		fz_model_pop(z);
	}
	while (z->qn > 0) {
		rc = shmring_recv(z->cons, buf, sizeof buf, &len, 0);
		FUZZ_ASSERT(rc == SHMRING_OK);
		fz_model_verify_pop(z, buf, len);
	}
	rc = shmring_recv(z->cons, buf, sizeof buf, &len, 0);
	FUZZ_ASSERT(rc == fz_model_take(z, sizeof buf, 0, 0));
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
 * sleeping flags. */
static const struct {
	uint16_t off, len;
} fz_mutable[] = {
        {40, 8},  {128, 16}, {256, 16}, {384, 8},  {512, 8},
        {640, 4}, {768, 4},  {896, 4},  {1024, 4},
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
	if (side)
		z->cons_state = FZ_ATTACHED;
	else
		z->prod_state = FZ_ATTACHED;
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
		z->peek = 0; /* not released: delivered again after reopen */
		z->cons_state = FZ_CLOSED;
	} else {
		z->claim = 0; /* discarded */
		z->prod_state = FZ_CLOSED;
	}
}

/* ---- hostile writes ----------------------------------------------------- */

enum { FZ_BENIGN, FZ_DIRTY, FZ_CORRUPT };

/* Is slot @k holding a message in flight (or the pending claim)? */
static int fz_slot_busy(const struct fz *z, uint32_t k, int claim_too)
{
	for (unsigned j = 0; j < z->qn; j++) {
		if ((z->q[(z->qh + j) % FZ_MAX_COUNT].seq & (z->count - 1)) ==
		    k)
			return 1;
	}
	return claim_too && z->claim && (z->next_seq & (z->count - 1)) == k;
}

/* What a write at @off means to the model. */
static int fz_classify(const struct fz *z, size_t off)
{
	size_t k, o;

	if (off < SR_HDR_SIZE) {
		if ((off >= 128 && off < 140) || (off >= 256 && off < 268) ||
		    (off >= 384 && off < 392) || (off >= 512 && off < 520))
			return FZ_CORRUPT; /* roles, head, tail */
		/* caps only choose a fence: at worst a sleep lasts a slice */
		if ((off >= 40 && off < 48) || (off >= 140 && off < 144) ||
		    (off >= 268 && off < 272) || (off >= 640 && off < 644) ||
		    (off >= 768 && off < 772) || (off >= 896 && off < 900) ||
		    (off >= 1024 && off < 1028))
			return FZ_BENIGN; /* created_ns, caps, wake, flags */
		return FZ_DIRTY;          /* validated on reopen only */
	}
	k = (off - SR_HDR_SIZE) / z->stride;
	o = (off - SR_HDR_SIZE) % z->stride;
	if (o < 4)
		return fz_slot_busy(z, (uint32_t)k, 0) ? FZ_CORRUPT : FZ_BENIGN;
	if (o < SR_SLOT_HDR || o >= SR_SLOT_HDR + z->slot_size)
		return FZ_BENIGN; /* slot reserved word, padding */
	return fz_slot_busy(z, (uint32_t)k, 1) ? FZ_CORRUPT : FZ_BENIGN;
}

static const struct {
	uint16_t off;
	uint8_t width;
} fz_fields[] = {
        {0, 8},   {8, 4},   {12, 4},  {16, 4},  {20, 4},   {24, 4},  {28, 4},
        {32, 8},  {40, 8},  {128, 8}, {136, 4}, {256, 8},  {264, 4}, {384, 8},
        {512, 8}, {640, 4}, {768, 4}, {896, 4}, {1024, 4}, {140, 4}, {268, 4},
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
	        z->next_seq,
	        z->next_seq + 1,
	        z->next_seq - 1,
	        z->next_seq + z->count,
	        z->next_seq - z->count,
	        z->next_seq + z->count + 1,
	        os_proc_self(),
	        UINT64_C(1) << 63,
	};

	switch (mode % 4) {
	case 0:
		return raw;
	case 1:
		return old + (uint64_t)(int64_t)(int8_t)raw;
	case 2:
		return special[raw % (sizeof special / sizeof special[0])];
	default:
		return old ^ (UINT64_C(1) << (raw % 64));
	}
}

void fz_write(struct fz *z, uint8_t target, uint64_t raw, uint8_t mode)
{
	size_t off, width = 1, nf = sizeof fz_fields / sizeof fz_fields[0];
	uint64_t old = 0, val;

	if (target < 0x80) {
		off = fz_fields[target % nf].off;
		width = fz_fields[target % nf].width;
	} else if (target < 0xc0) {
		off = SR_HDR_SIZE +
		      (size_t)((target >> 2) & (z->count - 1)) * z->stride;
		if (target & 2) /* a payload byte */
			off += SR_SLOT_HDR +
			       (z->slot_size ? (raw >> 32) % z->slot_size : 0);
		else
			off += (target & 1) * 4u, width = 4;
	} else {
		off = raw % z->seg_size;
		raw >>= 32;
	}
	if (off + width > z->seg_size)
		return;
	memcpy(&old, z->seg + off, width);
	val = fz_value(z, old, raw, mode);
	if (memcmp(&val, &old, width) == 0)
		return;
	if (fz_classify(z, off) == FZ_CORRUPT)
		z->corrupt = 1;
	memcpy(z->seg + off, &val, width);
}
