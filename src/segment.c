/* SPDX-License-Identifier: MIT */
/*
 * segment.c -- the segment header over bytes in memory: names, geometry,
 * validation and initialisation. It calls no OS function: what it needs
 * from the OS (the mapping's size and the OS's rounding of it, the time)
 * is passed in, so that the fuzzers, shmring_inspect-style readers and
 * tests can run it on any buffer. The layout is src/layout.h and
 * docs/format.md.
 */
#include <string.h>

#include "ring_int.h"

#define SR_MAX_SEG_SIZE (UINT64_C(1) << 36)

int sr_name_ok(const char *name)
{
	size_t n = 0;

	if (!name || name[0] == '.')
		return 0;
	for (; name[n]; n++) {
		char c = name[n];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		         (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		         c == '-';
		if (!ok || n >= SHMRING_MAX_NAME)
			return 0;
	}
	return n > 0;
}

/*
 * The one place geometry is judged, for a config and for a header alike.
 * @max_msg 0 asks for the default: half the slot bytes minus the record
 * header, so that the default ring takes messages of many slots while two
 * of the largest still fit in flight. An explicit max_msg may be as large
 * as one record over every slot.
 */
int sr_geom_make(uint32_t slot_size, uint32_t slot_count, uint32_t flags,
                 uint32_t max_msg, struct sr_geom *g)
{
	uint64_t bytes, limit;

	if ((flags & ~SHMRING_F_MPSC) != 0 ||
	    slot_size > SHMRING_MAX_SLOT_SIZE || slot_count < 2 ||
	    slot_count > SHMRING_MAX_SLOT_COUNT ||
	    (slot_count & (slot_count - 1)) != 0)
		return SHMRING_EINVAL;
	g->slot_size = slot_size;
	g->slot_count = slot_count;
	g->flags = flags;
	g->stride = (SR_REC_HDR + slot_size + SR_STRIDE_ALIGN - 1u) &
	            ~(SR_STRIDE_ALIGN - 1u);
	bytes = (uint64_t)g->stride * slot_count;
	g->seg_size = SR_HDR_SIZE + bytes;
	if (g->seg_size > SR_MAX_SEG_SIZE || g->seg_size > SIZE_MAX)
		return SHMRING_EINVAL;
	limit = bytes - SR_REC_HDR;
	if (limit > SHMRING_MAX_MSG_LIMIT)
		limit = SHMRING_MAX_MSG_LIMIT;
	if (max_msg == 0)
		max_msg = (uint32_t)(bytes / 2 - SR_REC_HDR < limit
		                             ? bytes / 2 - SR_REC_HDR
		                             : limit);
	if (max_msg > limit)
		return SHMRING_EINVAL;
	g->max_msg = max_msg;
	return SHMRING_OK;
}

static int sr_all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

/* Reserved bytes must be zero so that later versions can use them. */
static int sr_reserved_zero(const struct sr_seg *s, const struct sr_hdr *h)
{
	int ok = sr_all_zero(h->reserved, sizeof h->reserved) &&
	         h->reserved0 == 0 &&
	         (h->flags & SHMRING_F_MPSC ? (h->mp_key & 1u) : !h->mp_key) &&
	         sr_all_zero(s->head.reserved, sizeof s->head.reserved) &&
	         sr_all_zero(s->tail.reserved, sizeof s->tail.reserved) &&
	         sr_all_zero(s->reserved, sizeof s->reserved);

	if (!(h->flags & SHMRING_F_MPSC))
		ok = ok && sr_all_zero(&s->mp, sizeof s->mp);
	ok = ok && sr_all_zero(s->mp.reserved0, sizeof s->mp.reserved0) &&
	     sr_all_zero(s->mp.reserved1, sizeof s->mp.reserved1);
	for (unsigned i = 0; i < SR_MP_MAX; i++)
		ok = ok && sr_all_zero(s->mp.prod[i].reserved,
		                       sizeof s->mp.prod[i].reserved);
	for (unsigned i = 0; i < 2; i++) {
		ok = ok && sr_all_zero(s->role[i].reserved,
		                       sizeof s->role[i].reserved);
		ok = ok &&
		     sr_all_zero(s->ctr[i].reserved, sizeof s->ctr[i].reserved);
		ok = ok && sr_all_zero(s->wake[i].reserved0,
		                       sizeof s->wake[i].reserved0);
		ok = ok && sr_all_zero(s->wake[i].reserved1,
		                       sizeof s->wake[i].reserved1);
	}
	return ok;
}

/*
 * Validate a mapped segment of @size bytes (the OS's figure, a multiple of
 * @granule) and fill @g. SHMRING_ENOENT for a segment not yet initialised
 * (size 0 or magic 0: its creator has not published it), SHMRING_EBADFMT
 * for anything inconsistent, including a version-1 segment.
 */
int sr_seg_check(const struct sr_seg *s, size_t size, size_t granule,
                 struct sr_geom *g)
{
	struct sr_hdr h;
	uint64_t magic;

	if (size == 0)
		return SHMRING_ENOENT;
	if (size < SR_HDR_SIZE)
		return SHMRING_EBADFMT;
	/* Pairs with the creator's release store of magic in sr_seg_init(): the
	 * header written before it is visible once magic is. */
	magic = atomic_load_explicit(&s->hdr.magic, memory_order_acquire);
	if (magic == 0)
		return SHMRING_ENOENT;
	if (magic != SR_MAGIC)
		return SHMRING_EBADFMT;
	/* One fetch of the header into private memory; validate the copy. */
	memcpy(&h, (const void *)&s->hdr, sizeof h);
	if (h.version != SR_FORMAT_VERSION || h.hdr_size != SR_HDR_SIZE ||
	    sr_geom_make(h.slot_size, h.slot_count, h.flags, h.max_msg, g) !=
	            SHMRING_OK ||
	    h.max_msg != g->max_msg || h.slot_stride != g->stride ||
	    h.seg_size != g->seg_size || g->seg_size > size ||
	    size - g->seg_size >= granule || !sr_reserved_zero(s, &h))
		return SHMRING_EBADFMT;
	g->mp_key = h.mp_key;
	return SHMRING_OK;
}

void sr_seg_init(struct sr_seg *s, const struct sr_geom *g, uint64_t created_ns)
{
	s->hdr.version = SR_FORMAT_VERSION;
	s->hdr.hdr_size = SR_HDR_SIZE;
	s->hdr.slot_size = g->slot_size;
	s->hdr.slot_stride = g->stride;
	s->hdr.slot_count = g->slot_count;
	s->hdr.flags = g->flags;
	s->hdr.seg_size = g->seg_size;
	s->hdr.created_ns = created_ns;
	s->hdr.max_msg = g->max_msg;
	if (g->flags & SHMRING_F_MPSC) {
		/* A key no payload repeats by chance: the creation time and
		 * the mapping's address, mixed (splitmix64), odd. Then every
		 * slot FREE for lap 0 (claims replace nothing else). */
		uint64_t k = created_ns ^ (uint64_t)(uintptr_t)s;
		uint8_t *slot = (uint8_t *)s + SR_HDR_SIZE;
		uint32_t shift = 0;

		k = (k ^ (k >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
		k = (k ^ (k >> 27)) * UINT64_C(0x94d049bb133111eb);
		s->hdr.mp_key = (k ^ (k >> 31)) | 1u;
		while ((UINT32_C(1) << shift) < g->slot_count)
			shift++;
		for (uint32_t i = 0; i < g->slot_count; i++)
			atomic_store_explicit(
			        (_Atomic uint64_t *)(void *)(slot +
			                                     (size_t)i *
			                                             g->stride),
			        sr_free_word(s->hdr.mp_key, i, shift),
			        memory_order_relaxed);
	}
	/* Publishes every header field above to sr_seg_check()'s acquire. */
	atomic_store_explicit(&s->hdr.magic, SR_MAGIC, memory_order_release);
}
