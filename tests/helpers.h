/* Description: names, pairs, raw segments, child processes. */
/* SPDX-License-Identifier: MIT */
/*
 * Every test runs in its own process (Criterion forks one per test), so a
 * name made of the pid and a per-process counter never collides with a test
 * running in parallel, in this executable or another one.
 *
 * Helpers whose name ends in _or_fail assert with Criterion and must only be
 * called from the test process itself; everything else is safe in a forked
 * child too (children report through exit codes and shared memory, never
 * through cr_assert).
 */
#ifndef SHMRING_TEST_HELPERS_H
#define SHMRING_TEST_HELPERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmring.h"

#ifdef TEST_STANDALONE
/*
 * Criterion cannot start under ThreadSanitizer (its inheritable arena
 * cannot be mapped: Snaipe/Criterion#274), so the thread stress test is
 * also built as a plain program with -DTEST_STANDALONE. These stand-ins
 * cover the assertions it and this file use: print, then abort().
 */
void sa_assert_(const char *file, int line, int ok, const char *fmt, ...);
#define cr_assert(...) sa_assert_(__FILE__, __LINE__, __VA_ARGS__, "")
#define SA_CMP_(a, op, b, ...)                                                 \
	sa_assert_(__FILE__, __LINE__, (a)op(b), __VA_ARGS__)
#define cr_assert_eq(a, ...)  SA_CMP_(a, ==, __VA_ARGS__, "")
#define cr_assert_neq(a, ...) SA_CMP_(a, !=, __VA_ARGS__, "")
#define cr_assert_gt(a, ...)  SA_CMP_(a, >, __VA_ARGS__, "")
#endif

#define TEST_NAME_LEN 64

/* max_msg of a ring created with every default: half its 1 MiB of slots,
 * minus the record header (docs/format.md). */
#define TEST_DEFAULT_MAX_MSG (SHMRING_DEFAULT_SLOT_COUNT * 64u / 2u - 8u)

/* ---- names and rings ---------------------------------------------------- */

/* A fresh ring name: "srt-<pid>-<counter>". */
void ring_name(char *buf);

/* The segment's file under /dev/shm. */
void seg_path(char *buf, size_t cap, const char *name);

/* Producer and consumer attached to a fresh ring. */
struct pair {
	char name[TEST_NAME_LEN];
	shmring *prod;
	shmring *cons;
};

/* Create the ring (producer creates, consumer opens); 0 = library default.
 * max_msg is @slot_size (one-slot messages, as the tests of the format-1
 * ring assumed); 0 keeps the default. */
void pair_open_or_fail(struct pair *p, uint32_t slot_size, uint32_t count);
/* The same with any config (max_msg 0 = the default). */
void pair_open_cfg_or_fail(struct pair *p, const shmring_config *cfg);
/* Close what is still open and remove the name; safe to call twice. */
void pair_close(struct pair *p);

/* Create @name with the geometry, then close it: a ring nobody holds. */
void ring_make_idle_or_fail(const char *name, uint32_t slot_size,
                            uint32_t count);

/* ---- raw view of a segment (white-box) ---------------------------------- */

struct rawseg {
	int fd;
	uint8_t *base;
	size_t size;
};

/* Map /dev/shm/shmring.<name> with open(2)+mmap(2); 0 or -errno. */
int rawseg_map(struct rawseg *s, const char *name, int writable);
void rawseg_unmap(struct rawseg *s);

/* Little-endian field access by byte offset, independent of layout.h. */
uint32_t rd32(const uint8_t *base, size_t off);
uint64_t rd64(const uint8_t *base, size_t off);
void wr32(uint8_t *base, size_t off, uint32_t v);
void wr64(uint8_t *base, size_t off, uint64_t v);

/* ---- time --------------------------------------------------------------- */

uint64_t now_ns(void); /* CLOCK_MONOTONIC */
void sleep_us(unsigned us);

/* ---- messages derived from a sequence number ----------------------------- */

/*
 * Message @seq of a stream whose largest message is @max bytes: its size
 * (0 and @max come up regularly) and bytes follow from @seq alone. A message
 * of 12 bytes or more starts with seq (8 bytes LE) and an FNV-1a checksum of
 * the rest (4 bytes LE).
 */
size_t msg_size(uint64_t seq, size_t max);
void msg_fill(void *buf, size_t len, uint64_t seq);
/* 1 if @buf/@len is exactly message @seq of a stream bounded by @max. */
int msg_check(const void *buf, size_t len, uint64_t seq, size_t max);
/* 1 if @buf/@len is what msg_fill(@buf, @len, @seq) wrote, whatever @len. */
int msg_is(const void *buf, size_t len, uint64_t seq);

/* Messages @seq .. @seq + @k - 1 of a stream bounded by @max, sent with
 * one shmring_sendv(FOREVER); *sent = how many went. Its code, or
 * SHMRING_ENOMEM. Safe in a forked child (no assertion). */
int msgs_sendv(shmring *r, uint64_t seq, size_t k, size_t max, size_t *sent);
/* Up to @k messages from @seq with one shmring_recvv(FOREVER) into buffers
 * of @max bytes, each checked: *got = how many were taken, *bad = 1-based
 * index (from @seq) of the first wrong one, 0 if all are right. Its code,
 * or SHMRING_ENOMEM. Safe in a forked child. */
int msgs_recvv(shmring *r, uint64_t seq, size_t k, size_t max, size_t *got,
               uint64_t *bad);
/* The zero-copy pair, in the same style, for batches of at most
 * MSGS_BATCH_MAX. msgs_claimv: one shmring_claimv(FOREVER) of up to @k
 * messages from @seq, message i claimed at @max bytes when bit i of @x is
 * set (then committed shorter), filled in place, and one shmring_commitv;
 * *sent = how many went. msgs_peekv: one shmring_peekv(FOREVER) of up to
 * @k, each checked in place, released in two steps with a second peekv
 * between that must return the rest at the same addresses; *got and *bad
 * as for msgs_recvv. Their code. Safe in a forked child. */
#define MSGS_BATCH_MAX 32
int msgs_claimv(shmring *r, uint64_t seq, size_t k, size_t max, uint64_t x,
                size_t *sent);
int msgs_peekv(shmring *r, uint64_t seq, size_t k, size_t max, uint64_t x,
               size_t *got, uint64_t *bad);

/* ---- processes ---------------------------------------------------------- */

/* Zeroed memory shared with children forked later (MAP_SHARED|ANON). */
void *shared_alloc_or_fail(size_t n);
void shared_free(void *p, size_t n);

/* Fork a child that runs fn(arg) and _exit()s with its return value. The
 * child is SIGKILLed if the test process dies first. -1 if fork fails. */
pid_t child_run(int (*fn)(void *), void *arg);
/* waitpid(): the exit code, 128 + signal if killed, or -1. */
int child_reap(pid_t pid);
/* SIGKILL and reap; for fini paths. No-op for pid <= 0. */
void child_kill(pid_t pid);

/* Wait until *f == want; 1 if it happened within timeout_ms. */
int flag_wait(_Atomic int *f, int want, int timeout_ms);

/* State letter of /proc/<pid>/stat ('R', 'S', 'Z', ...); 0 if none. */
char proc_state(pid_t pid);

#endif /* SHMRING_TEST_HELPERS_H */
