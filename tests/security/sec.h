/* SPDX-License-Identifier: MIT */
/*
 * sec.h -- fixtures of the security tests: unique names, a producer and a
 * consumer on a fresh ring, and the hostile peer's own read-write mapping
 * of the segment. Criterion runs each test in its own process, so pid plus
 * a counter never collides with a test running in parallel.
 */
#ifndef SHMRING_SEC_H
#define SHMRING_SEC_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "shmring.h"

struct sec_ring {
	char name[64];
	shmring *prod, *cons;
	struct sr_seg *seg; /* the hostile peer's mapping */
	size_t size;
};

static inline void sec_name(char *buf, size_t cap)
{
	static unsigned n;

	snprintf(buf, cap, "sec-%ld-%u", (long)getpid(), n++);
}

static inline void sec_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "/dev/shm/shmring.%s", name);
}

/* Map @name read-write as a peer that ignores the library would. */
static inline struct sr_seg *sec_map(const char *name, size_t *size)
{
	char path[128];
	struct stat st;
	void *p = MAP_FAILED;
	int fd;

	snprintf(path, sizeof path, "/shmring.%s", name);
	fd = shm_open(path, O_RDWR, 0);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0)
		p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		         MAP_SHARED, fd, 0);
	close(fd);
	*size = (size_t)st.st_size;
	return p == MAP_FAILED ? NULL : p;
}

/* Producer creates @cfg and the peer maps; if @start is not 0 the
 * producer closes, the peer sets head = tail = @start and the producer
 * reopens (a new producer continues at head), so that the ring starts at
 * any index. No consumer yet. */
static inline int sec_ring_open_prod(struct sec_ring *s,
                                     const shmring_config *cfg, uint64_t start)
{
	memset(s, 0, sizeof *s);
	sec_name(s->name, sizeof s->name);
	if (shmring_create(s->name, cfg, SHMRING_PRODUCER, &s->prod) != 0)
		return -1;
	s->seg = sec_map(s->name, &s->size);
	if (!s->seg)
		return -1;
	if (start) {
		shmring_close(s->prod);
		s->prod = NULL;
		atomic_store(&s->seg->head.value, start);
		atomic_store(&s->seg->tail.value, start);
		if (shmring_open(s->name, SHMRING_PRODUCER, &s->prod) != 0)
			return -1;
	}
	return 0;
}

/* As sec_ring_open_prod(), then the consumer opens. */
static inline int sec_ring_open_cfg(struct sec_ring *s,
                                    const shmring_config *cfg, uint64_t start)
{
	if (sec_ring_open_prod(s, cfg, start) != 0)
		return -1;
	return shmring_open(s->name, SHMRING_CONSUMER, &s->cons) != 0 ? -1 : 0;
}

/* Producer creates (@slot_size x @count), consumer opens, peer maps. The
 * largest message is @slot_size, one slot, as format 1 had it (the tests
 * written for it keep their limits). */
static inline int sec_ring_open(struct sec_ring *s, uint32_t slot_size,
                                uint32_t count)
{
	shmring_config cfg = {.slot_size = slot_size,
	                      .slot_count = count,
	                      .max_msg = slot_size};

	return sec_ring_open_cfg(s, &cfg, 0);
}

static inline void sec_ring_close(struct sec_ring *s)
{
	shmring_close(s->prod);
	shmring_close(s->cons);
	if (s->seg)
		munmap(s->seg, s->size);
	shmring_unlink(s->name);
	memset(s, 0, sizeof *s);
}

/* ---- records (docs/format.md "Slots and records"), written out here
 * rather than taken from src/record.h, so that the tests check the
 * library against the document. Geometry from the header as the library
 * set it up: the tests only read it before corrupting it. */

#define SEC_MSG  1u /* record types */
#define SEC_PAD  2u
#define SEC_RESV 3u

static inline uint32_t sec_count(const struct sec_ring *s)
{
	return s->seg->hdr.slot_count;
}

static inline uint32_t sec_stride(const struct sec_ring *s)
{
	return s->seg->hdr.slot_stride;
}

/* The record word of ring index @i. */
static inline _Atomic uint64_t *sec_rec(struct sec_ring *s, uint64_t i)
{
	uint8_t *base = (uint8_t *)s->seg + SR_HDR_SIZE;

	return (_Atomic uint64_t *)(void *)(base +
	                                    (size_t)(i & (sec_count(s) - 1)) *
	                                            sec_stride(s));
}

/* lap of ring index @i: (i >> log2(count)) mod 2^30 */
static inline uint64_t sec_lap(const struct sec_ring *s, uint64_t i)
{
	unsigned shift = 0;

	while ((UINT32_C(1) << shift) < sec_count(s))
		shift++;
	return (i >> shift) & ((UINT64_C(1) << 30) - 1);
}

static inline uint64_t sec_word(uint32_t type, uint32_t len, uint64_t lap)
{
	return (uint64_t)len | (uint64_t)type << 32 | lap << 34;
}

static inline uint32_t sec_word_len(uint64_t w)
{
	return (uint32_t)w;
}

static inline uint32_t sec_word_type(uint64_t w)
{
	return (uint32_t)(w >> 32) & 3u;
}

static inline uint64_t sec_word_lap(uint64_t w)
{
	return w >> 34;
}

/* Rewrite the len field of the word at @i, keeping its type and lap. */
static inline void sec_set_len(struct sec_ring *s, uint64_t i, uint32_t len)
{
	uint64_t w = atomic_load(sec_rec(s, i));

	atomic_store(sec_rec(s, i), (w & ~UINT64_C(0xffffffff)) | len);
}

static inline uint64_t sec_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(((int64_t)t.tv_sec - t0->tv_sec) * 1000000000 +
	                  (t.tv_nsec - t0->tv_nsec)) /
	       1000000u;
}

#endif /* SHMRING_SEC_H */
