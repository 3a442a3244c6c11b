/* SPDX-License-Identifier: MIT */
/*
 * fuzz_seg.h -- the segment the harnesses hand to the library, without the
 * named-segment OS path. The library's os_seg_* calls (src/os.h) are
 * wrapped at link time (-Wl,--wrap, tests/fuzz/meson.build) and served
 * from one memfd that lives as long as the process: a create zero-fills
 * it and sets its size (ftruncate only when the size changes), an open
 * of the current name succeeds, each handle gets a mapping of its own
 * (one of a pool of windows onto the memfd, each mapped once, so that an
 * attach costs no mmap, munmap or page fault), and a close gives it back.
 * Skipped per attach: shm_open, flock, fchmod, posix_fallocate, mmap and
 * munmap, the name checks (os_path_names), /proc reads -- about twenty
 * system calls. Also wrapped: os_proc_self() and os_barrier_init() are
 * cached after their first real call (their answers cannot change in one
 * process), os_proc_alive() answers 1 for our own token without reading
 * /proc, os_barrier_heavy() is a fence (one thread: no other CPU runs our
 * code), and os_wait() does not sleep: in a one-threaded harness nobody
 * can signal a sleeper, so a sleep lasts its whole timeout unless a
 * signal is pending (wake word not 0), as with the futex, and the
 * timeout is added to a virtual clock that os_now_ns() reports. The rest
 * of os_linux.c (futex wake, CPU, clocks) runs as is.
 *
 * The OS path itself is covered by the Criterion suites (tests/) and the
 * crash suite; docs/reliability.md ("Fuzzing") names the hook in src/
 * that would make this wrapping unnecessary.
 */
#ifndef SHMRING_FUZZ_SEG_H
#define SHMRING_FUZZ_SEG_H

#include <stddef.h>
#include <stdint.h>

/* Make the segment @name hold exactly @n bytes of @d (n may be 0), as a
 * hostile creator would. 0 on success, -1 on failure (the input is then
 * skipped). */
int fuzz_seg_write(const char *name, const uint8_t *d, size_t n);

/* The harness's own read-write view of the segment @name (the hostile
 * peer's; not a library mapping); *size gets its size. NULL if @name is
 * not the current segment. Valid until the next create; unmap is a no-op
 * kept for symmetry. */
uint8_t *fuzz_seg_map(const char *name, size_t *size);
void fuzz_seg_unmap(uint8_t *p, size_t size);

/* 1 if [p, p + len) lies inside one live mapping the library made. */
int fuzz_in_mapping(const void *p, size_t len);

/* The base of the live library mapping made last (by the create or open
 * that just succeeded); NULL if none. */
uint8_t *fuzz_last_mapping(void);

/* 1 if [p, p + len) lies inside the live library mapping at @base. */
int fuzz_in_map_at(const uint8_t *base, const void *p, size_t len);

/* The clock os_now_ns() reports. By default the real monotonic clock plus
 * the sleeps os_wait() skipped; after fuzz_clock_virtual(1), only the
 * virtual part, which moves by those skipped sleeps and by
 * fuzz_clock_advance() alone: the library's rate limits (one liveness
 * probe per 20 ms) then depend on the script only, never on how fast the
 * machine runs it. fuzz_clock_now() is what the library reads now. */
void fuzz_clock_virtual(int on);
void fuzz_clock_advance(uint64_t ns);
uint64_t fuzz_clock_now(void);

#endif /* SHMRING_FUZZ_SEG_H */
