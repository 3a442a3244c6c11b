/* SPDX-License-Identifier: MIT */
/* mpsc_msg.c -- see mpsc_msg.h. */
#include <string.h>

#include "mpsc_msg.h"

uint64_t mm_mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

uint64_t mm_rnd(uint64_t *s)
{
	return *s = mm_mix(*s);
}

/* @n bytes little-endian at @b. */
static uint64_t mm_get(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void mm_put(uint8_t *b, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t mm_fnv(uint32_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The checksum: the header before it, and the filler. */
static uint32_t mm_sum(const uint8_t *b, size_t len)
{
	return mm_fnv(mm_fnv(2166136261u, b, 24), b + MM_HDR, len - MM_HDR);
}

/* The length for hash @h: at most max, or MM_HDR + 199, or one + 1. */
static size_t mm_len_any(const struct mm_stream *s, uint64_t h)
{
	size_t max = s->max, one = s->one;

	switch (h & 7) {
	case 0:
		return MM_HDR;
	case 1:
		return max;
	case 2:
		return one > MM_HDR ? one : MM_HDR;
	case 3:
		return one + 1 > MM_HDR ? one + 1 : MM_HDR + 1;
	case 4:
		return MM_HDR + (size_t)((h >> 3) % 200);
	default:
		return MM_HDR + (size_t)((h >> 3) % (max - MM_HDR + 1));
	}
}

size_t mm_len(const struct mm_stream *s, uint32_t id, uint64_t seq)
{
	uint64_t h = mm_mix(s->seed ^ ((uint64_t)id << 56) ^
	                    (seq * UINT64_C(0x2545f4914f6cdd1d)));
	size_t len = mm_len_any(s, h);

	return len < s->max ? len : s->max;
}

void mm_fill(const struct mm_stream *s, void *buf, size_t len, uint32_t id,
             uint64_t seq, uint64_t now)
{
	uint8_t *b = buf;
	uint64_t x = mm_mix(s->seed ^ ((uint64_t)id << 40) ^ seq);

	for (size_t i = MM_HDR; i < len; i += 8) {
		x = mm_mix(x);
		memcpy(b + i, &x, len - i < 8 ? len - i : 8);
	}
	mm_put(b, 8, seq);
	mm_put(b + 8, 4, id);
	mm_put(b + 12, 4, len);
	mm_put(b + 16, 8, s->stamp_key ? seq ^ s->stamp_key : now);
	mm_put(b + 24, 4, mm_sum(b, len));
}

void mm_fillv(const struct mm_stream *s, shmring_msg *v, uint8_t *buf, size_t k,
              uint32_t id, uint64_t seq, uint64_t now)
{
	for (size_t i = 0; i < k; i++) {
		v[i].data = buf + i * s->max;
		v[i].len = mm_len(s, id, seq + i);
		mm_fill(s, buf + i * s->max, v[i].len, id, seq + i, now);
	}
}

int mm_claim_sizes(const struct mm_stream *s, shmring_buf *b, size_t *lens,
                   size_t k, uint32_t id, uint64_t seq, uint64_t big)
{
	int exact = 1;

	for (size_t i = 0; i < k; i++) {
		lens[i] = mm_len(s, id, seq + i);
		b[i].data = NULL;
		b[i].len =
		        (big >> (i + 1)) & (big >> 20) & 1 ? s->max : lens[i];
		exact &= b[i].len == lens[i];
	}
	return exact;
}

int mm_timeout(uint64_t x, int ms)
{
	switch (x % 8) {
	case 0:
		return SHMRING_NOWAIT;
	case 1:
		return ms;
	default:
		return SHMRING_FOREVER;
	}
}

int mm_retry(int rc)
{
	return rc == SHMRING_EAGAIN || rc == SHMRING_ETIMEDOUT;
}

enum mm_verdict mm_check(const struct mm_stream *s, _Atomic uint64_t *next,
                         uint32_t nstreams, const void *buf, size_t len,
                         struct mm_hdr *h)
{
	const uint8_t *b = buf;

	memset(h, 0, sizeof *h);
	if (len < MM_HDR)
		return MM_SHORT;
	h->seq = mm_get(b, 8);
	h->id = (uint32_t)mm_get(b + 8, 4);
	h->stamp = mm_get(b + 16, 8);
	if (h->id >= nstreams)
		return MM_NO_STREAM;
	h->due = atomic_load(&next[h->id]);
	if (mm_get(b + 12, 4) != len || len != mm_len(s, h->id, h->seq) ||
	    (s->stamp_key && h->stamp != (h->seq ^ s->stamp_key)) ||
	    mm_get(b + 24, 4) != mm_sum(b, len))
		return MM_TORN;
	if (h->seq < h->due)
		return MM_OLD;
	atomic_store(&next[h->id], h->seq + 1);
	return h->seq > h->due ? MM_GAP : MM_OK;
}

const char *mm_what(enum mm_verdict v)
{
	switch (v) {
	case MM_OK:
		return "ok";
	case MM_SHORT:
		return "shorter than the header";
	case MM_NO_STREAM:
		return "no such stream";
	case MM_TORN:
		return "torn";
	case MM_OLD:
		return "duplicated or reordered";
	default:
		return "lost (a gap before it)";
	}
}
