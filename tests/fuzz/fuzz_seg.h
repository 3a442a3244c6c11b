/* SPDX-License-Identifier: MIT */
/*
 * fuzz_seg.h -- a real named segment whose bytes the harness controls, and
 * a record of every shared mapping the library makes (mmap64/munmap are
 * wrapped at link time with -Wl,--wrap), so that a pointer the library
 * hands out can be checked to lie inside one of its own mappings.
 */
#ifndef SHMRING_FUZZ_SEG_H
#define SHMRING_FUZZ_SEG_H

#include <stddef.h>
#include <stdint.h>

/* Create /dev/shm/shmring.<name> holding exactly @n bytes of @d (n may be
 * 0). 0 on success, -1 on failure (the input is then skipped). */
int fuzz_seg_write(const char *name, const uint8_t *d, size_t n);

/* Map the segment @name read-write for the harness itself (the hostile
 * peer's view; not recorded as a library mapping); *size gets its size.
 * NULL on failure. Unmap with fuzz_seg_unmap(). */
uint8_t *fuzz_seg_map(const char *name, size_t *size);
void fuzz_seg_unmap(uint8_t *p, size_t size);

/* 1 if [p, p + len) lies inside one live shared mapping the library made. */
int fuzz_in_mapping(const void *p, size_t len);

#endif /* SHMRING_FUZZ_SEG_H */
