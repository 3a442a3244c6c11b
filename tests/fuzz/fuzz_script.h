/* SPDX-License-Identifier: MIT */
/*
 * fuzz_script.h -- what the two script harnesses, fuzz_ops (fuzz_ops.c,
 * fuzz_ops_model.c) and fuzz_mpsc, share: reading the script (bytes,
 * sizes, the ring's geometry from its first two bytes), the check of every
 * call's code against the contract and the model, the messages' bytes,
 * the recvv contract, and the hostile values written into the segment.
 *
 * All static, so each harness keeps its own copy of each function under
 * the same name (coverage-ignore.txt names in8, in_le, fz_fill and
 * fz_verify); inline, but for the two byte loops, fz_fill and fz_verify
 * (FZ_OUTLINE): inlined into a caller, a loop would be instrumented there
 * after all, a coverage callback per byte.
 */
#ifndef SHMRING_FUZZ_SCRIPT_H
#define SHMRING_FUZZ_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "shmring.h"

#define FZ_MAX_SLOT  120u /* payload bytes: stride <= 128 */
#define FZ_MAX_COUNT 64u
#define FZ_MAX_MSG   (128u * FZ_MAX_COUNT) /* > stride * count - 8 */
#define FZ_BATCH     8u
#define FZ_ANY       1000 /* "any code": the model lost track */

#define FZ_OUTLINE __attribute__((noinline, unused)) /* and static */

/* ---- the script ---------------------------------------------------------- */

/* The bytes of an input, read in order; 0 past the end. */
struct fz_in {
	const uint8_t *d;
	size_t n, i; /* its length, the next byte to read */
};

static inline uint8_t in8(struct fz_in *in)
{
	return in->i < in->n ? in->d[in->i++] : 0;
}

static inline uint64_t in_le(struct fz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned b = 0; b < bytes; b++)
		v |= (uint64_t)in8(in) << (8 * b);
	return v;
}

static inline size_t fz_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* A size operand in 0 .. @limit + 1, on a ring of @count slots of
 * @slot_size bytes (@stride apart): one byte b < 0xf0 (b % (limit + 2))
 * or an escape: exactly the limit, one past it, 16 bits, one or two
 * slots, k slots exactly or one byte over, the limit minus 1..9. */
static inline size_t fz_in_size(struct fz_in *in, size_t limit,
                                uint32_t slot_size, uint32_t count,
                                uint32_t stride)
{
	uint8_t b = in8(in);
	size_t k;

	if (b < 0xf0)
		return b % (limit + 2);
	switch (b) {
	case 0xf0:
		return limit;
	case 0xf1:
		return limit + 1;
	case 0xf2:
		return (size_t)in_le(in, 2) % (limit + 2);
	case 0xf3:
		return fz_min(slot_size, limit + 1);
	case 0xf4:
		return fz_min(slot_size + 1u, limit + 1);
	case 0xf5: /* exactly k slots */
		k = 1 + in8(in) % count;
		return fz_min(k * stride - 8u, limit + 1);
	case 0xf6: /* one byte into slot k + 1 */
		k = 1 + in8(in) % count;
		return fz_min(k * stride - 7u, limit + 1);
	default: /* limit - 1 .. limit - 9 */
		return limit - fz_min((size_t)(b - 0xf6), limit);
	}
}

static inline uint32_t fz_log2(uint32_t pow2)
{
	uint32_t n = 0;

	while ((UINT32_C(1) << n) < pow2)
		n++;
	return n;
}

/*
 * The ring the script's first two bytes ask for:
 *   d[0]  slot size 1 + d[0] % 120 (stride 16..128)
 *   d[1]  bits 0-1 and 2: slot count 2 << ((d[1] & 3) + 2 * bit 2), 2..64;
 *         bits 3-4: max_msg 0 default, 1 all the slots (stride * count -
 *         8), 2 the slot size, 3 (stride * count - 8) * (1 + d[1] >> 5) / 9
 * Sets @cfg's slot_size, slot_count and max_msg (its other fields are the
 * caller's), and what the model works with: *@stride, *@shift (log2 of
 * the count) and *@max_msg, the ring's (the default if cfg's is 0).
 * Returns the bytes of the slots, stride * count.
 */
static inline uint64_t fz_geometry(const uint8_t *d, shmring_config *cfg,
                                   uint32_t *stride, uint32_t *shift,
                                   uint32_t *max_msg)
{
	uint32_t size = 1 + d[0] % FZ_MAX_SLOT; /* 0 would mean default */
	uint32_t count = 2u << ((d[1] & 3) + ((d[1] >> 2) & 1) * 2), max = 0;
	uint64_t bytes;

	*shift = fz_log2(count);
	*stride = (8u + size + 15u) & ~15u;
	bytes = (uint64_t)*stride * count;
	switch ((d[1] >> 3) & 3) {
	case 0:
		break;
	case 1:
		max = (uint32_t)(bytes - 8);
		break;
	case 2:
		max = size;
		break;
	default:
		max = (uint32_t)((bytes - 8) * (1u + (d[1] >> 5)) / 9u);
		break;
	}
	if (max == 0 && ((d[1] >> 3) & 3) != 0)
		max = 1;
	cfg->slot_size = size;
	cfg->slot_count = count;
	cfg->max_msg = max;
	*max_msg = max ? max : (uint32_t)(bytes / 2 - 8);
	return bytes;
}

/* ---- checks -------------------------------------------------------------- */

/* A call's code: one the contract allows (never ETIMEDOUT if @nowait:
 * every call was SHMRING_NOWAIT) and, while the model follows
 * (!@corrupt), the one it wants (FZ_ANY: any). With the environment
 * variable @trace set, every call is logged with its script offset @at. */
static inline void fz_check_code(const char *trace, size_t at, int corrupt,
                                 int nowait, int rc, int want)
{
	static int on = -1;

	if (on < 0)
		on = getenv(trace) != NULL;
	if (on)
		fprintf(stderr, "op@%zu rc %d want %d%s\n", at, rc, want,
		        corrupt ? " (corrupt)" : "");
	FUZZ_ASSERT(fuzz_data_code(rc) && !(nowait && rc == SHMRING_ETIMEDOUT));
	if (!corrupt && want != FZ_ANY && rc != want) {
		fprintf(stderr, "op %zu: got %d, model wants %d\n", at, rc,
		        want);
		FUZZ_ASSERT(rc == want);
	}
}

/* The code of commit, commitv, release or releasev: never anything but
 * OK or EINVAL. Returns @rc. */
static inline int fz_fin(int rc)
{
	FUZZ_ASSERT(rc == SHMRING_OK || rc == SHMRING_EINVAL);
	return rc;
}

/* A recvv into @n buffers of @caps bytes returned @rc, @got taken, @v as
 * it left them: what the contract says of that, whatever the model says;
 * an EMSGSIZE names the length the model wants (@need) while it follows
 * (@live). 1 if messages were taken (rc is OK). */
static inline int fz_recvv_ok(shmring *cons, const shmring_buf *v,
                              const size_t *caps, size_t n, size_t got, int rc,
                              int live, uint32_t need)
{
	FUZZ_ASSERT(got <= n && (rc == SHMRING_OK || got == 0));
	if (rc == SHMRING_EMSGSIZE) {
		FUZZ_ASSERT(v[0].len > caps[0] &&
		            v[0].len <= shmring_max_msg(cons));
		FUZZ_ASSERT(!live || v[0].len == need);
	}
	if (rc != SHMRING_OK)
		return 0;
	FUZZ_ASSERT(got >= 1);
	for (size_t i = 0; i < got; i++)
		FUZZ_ASSERT(v[i].len <= caps[i]);
	for (size_t i = got; i < n; i++)
		FUZZ_ASSERT(v[i].len == caps[i]); /* left as they were */
	return 1;
}

/* ---- messages ------------------------------------------------------------ */

/* The bytes of message @seq, @len of them. */
static FZ_OUTLINE void fz_fill(void *buf, uint64_t seq, size_t len)
{
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seq * 131u + i * 7u + 1u + (seq >> 8) +
		                 (i >> 8));
}

/* Message @seq, sent with @sent bytes, arrived as @p, @len: whole. */
static FZ_OUTLINE void fz_verify(uint64_t seq, uint32_t sent, const void *p,
                                 size_t len)
{
	static uint8_t want[FZ_MAX_MSG];

	if (len != sent || len > sizeof want) {
		fprintf(stderr, "message %llu: %zu bytes, sent %u\n",
		        (unsigned long long)seq, len, sent);
		FUZZ_ASSERT(len == sent);
	}
	fz_fill(want, seq, len);
	FUZZ_ASSERT(memcmp(p, want, len) == 0);
}

/* ---- hostile writes ------------------------------------------------------ */

/* The value a hostile write puts over @old, by @mode % 4: @raw itself,
 * old moved by @raw's low byte (signed), one of the @n @special values
 * (by @raw), or old with one bit flipped. */
static inline uint64_t fz_hostile(uint64_t old, uint64_t raw, uint8_t mode,
                                  const uint64_t *special, size_t n)
{
	switch (mode % 4) {
	case 0:
		return raw;
	case 1:
		return old + (uint64_t)(int64_t)(int8_t)raw;
	case 2:
		return special[raw % n];
	default:
		return old ^ (UINT64_C(1) << (raw % 64));
	}
}

#endif /* SHMRING_FUZZ_SCRIPT_H */
