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

/* Producer creates (@slot_size x @count), consumer opens, peer maps. */
static inline int sec_ring_open(struct sec_ring *s, uint32_t slot_size,
                                uint32_t count)
{
	shmring_config cfg = {.slot_size = slot_size, .slot_count = count};

	memset(s, 0, sizeof *s);
	sec_name(s->name, sizeof s->name);
	if (shmring_create(s->name, &cfg, SHMRING_PRODUCER, &s->prod) != 0 ||
	    shmring_open(s->name, SHMRING_CONSUMER, &s->cons) != 0)
		return -1;
	s->seg = sec_map(s->name, &s->size);
	return s->seg ? 0 : -1;
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

/* The slot header of ring index @i (slot_stride from the header as set up
 * by the library: the tests only use it before corrupting it). */
static inline struct sr_slot *sec_slot(struct sec_ring *s, uint64_t i)
{
	uint8_t *base = (uint8_t *)s->seg + SR_HDR_SIZE;

	return (struct sr_slot *)(base +
	                          (size_t)(i & (s->seg->hdr.slot_count - 1)) *
	                                  s->seg->hdr.slot_stride);
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
