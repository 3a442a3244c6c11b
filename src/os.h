/* SPDX-License-Identifier: MIT */
/*
 * os.h -- everything ring.c needs from the operating system. Each backend
 * (os_linux.c, os_win32.c) implements all of it; meson picks exactly one.
 * Every int-returning function returns SHMRING_OK or a negative SHMRING_*
 * code, never -1 plus errno.
 */
#ifndef SHMRING_OS_H
#define SHMRING_OS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct os_seg; /* one mapping of a named segment plus its OS handles */

/*
 * Create the segment @name (already validated) exclusively: @size bytes,
 * zero-filled, with its memory reserved (SHMRING_ENOMEM when the system
 * cannot back it), access limited by @perm (0600-style bits, applied
 * exactly, not through the umask), mapped read-write. SHMRING_EEXIST if the
 * name exists. The segment is returned holding its exclusive lock, so that
 * a reclaimer cannot take it while it is initialised: os_seg_unlock() it
 * when done.
 */
int os_seg_create(const char *name, size_t size, uint32_t perm,
                  struct os_seg **out);

/*
 * Map the existing segment @name read-write. Its size is what the OS says,
 * never what the header says; it may be 0 (a creator that has not sized it
 * yet), in which case os_seg_base() is NULL. SHMRING_ENOENT, SHMRING_EACCES.
 */
int os_seg_open(const char *name, struct os_seg **out);

/* The same, mapped read-only, with no lock and no wake objects: for
 * monitors (shmring_inspect), which may lack write permission. Only
 * os_seg_base/size/close may be used on it. */
int os_seg_open_ro(const char *name, struct os_seg **out);

/* Call @fn with the name of every segment that may be a ring (by its OS
 * name; not validated), until it returns non-zero. SHMRING_OK, or the
 * OS's error. */
int os_seg_list(int (*fn)(const char *name, void *arg), void *arg);

void *os_seg_base(const struct os_seg *s);
size_t os_seg_size(const struct os_seg *s);

/* The OS reports segment sizes rounded up to a multiple of this: 1 where it
 * knows them to the byte (Linux), the page size where it rounds (Windows).
 * ring.c accepts a header size in [os size - granule + 1, os size]. */
size_t os_seg_granule(void);

/*
 * The segment's advisory lock, shared between processes and released by the
 * OS when its holder dies. OS_LOCK_SHARED waits; OS_LOCK_EXCL_TRY does not
 * and returns SHMRING_EBUSY when another holder has it. Openers hold it
 * shared while they attach; a reclaimer holds it exclusively while it judges
 * a segment stale and removes its name, so the two cannot interleave.
 */
enum os_lock { OS_LOCK_SHARED = 1, OS_LOCK_EXCL_TRY = 2 };
int os_seg_lock(struct os_seg *s, enum os_lock how);
void os_seg_unlock(struct os_seg *s);

/* 1 if the name this segment was opened by still names this segment. */
int os_seg_linked(const struct os_seg *s);

/* 1 if the segment was created (or last resized) less than a second ago:
 * a creator may be about to take its lock, so it cannot be judged dead. */
int os_seg_young(const struct os_seg *s);

/* Remove the segment's name (under the exclusive lock, after checking
 * os_seg_linked). Mappings stay valid. */
int os_seg_remove(struct os_seg *s);

/* Remove the name @name. SHMRING_ENOENT if there is none. */
int os_seg_unlink(const char *name);

/* Unmap and release everything; NULL is a no-op. */
void os_seg_close(struct os_seg *s);

/*
 * Fork generation: incremented in the child by a handler the backend
 * registers (pthread_atfork) the first time os_proc_self() runs, never in
 * the parent. A handle remembers the value it was opened under, so that a
 * child that inherited it is told apart with one load. Always 0 where
 * there is no fork (Windows).
 */
extern _Atomic uint32_t os_fork_gen;

/*
 * Process identity: a non-zero 64-bit token naming this process and its
 * start time, so that a reused process id is never taken for the process
 * that held it before.
 */
uint64_t os_proc_self(void);

/* 1 if the process named by @token is alive; 0 if it exited, is a zombie,
 * or its id now names another process. Any token value is safe to pass. */
int os_proc_alive(uint64_t token);

/*
 * Wake object @id, an auto-reset event: 0 the producer of a
 * single-producer ring, 1 the consumer, 2 + k producer entry k (k below
 * SHMRING_MAX_PRODUCERS) of an SHMRING_F_MPSC ring (ring_int.h,
 * SR_WAKE_MP). @word is that object's wake word in the segment. A backend
 * may ignore @id (Linux: the futex is the word) or keep one object per id
 * (Windows: a named event each; ids >= 2 made on a handle's first use).
 *
 * os_wait: sleep until the event is signalled or @timeout_ms (>= 0) passes,
 * and consume the signal. @peer is the peer's process token (0 if none): a
 * backend that can wait on a process may also return when it ends. May
 * return early for any reason: callers always re-check. Returns SHMRING_OK,
 * SHMRING_ETIMEDOUT, or SHMRING_EINTR when a signal handler ran during the
 * sleep (Linux; SA_RESTART or not: a timed futex wait is never restarted
 * after a handler).
 * os_signal: signal the event; wakes the sleeper, or makes its next
 * os_wait return at once. Returns the number of system calls it made to
 * signal (0 when a signal was still pending), for shmring_get_stats().
 * If the backend cannot get the object of @id (Windows: it cannot be
 * created or opened), os_wait sleeps @timeout_ms (or until the peer ends)
 * and returns SHMRING_ETIMEDOUT, and os_signal returns 0: a sleeper then
 * wakes at the end of its slice and re-checks, which only costs latency.
 */
int os_wait(struct os_seg *s, unsigned id, _Atomic uint32_t *word,
            uint64_t peer, int timeout_ms);
int os_signal(struct os_seg *s, unsigned id, _Atomic uint32_t *word);

/*
 * Asymmetric fence, for the store-buffer pattern of waking (ring.c, W1/S1).
 * os_barrier_init() registers this process and returns 1 if it may then
 * order a store before a later load with a compiler barrier alone, while
 * the peer that sleeps calls os_barrier_heavy() between its own store and
 * load: the heavy barrier runs a full memory barrier on every CPU that is
 * running a registered process. Returns 0 where there is no such facility;
 * then both sides use full fences. os_barrier_heavy() returns SHMRING_OK,
 * or SHMRING_ESYS if the barrier could not be run.
 */
int os_barrier_init(void);
int os_barrier_heavy(void);

/* The CPU this thread runs on now (a hint: it may move at any time), or
 * -1 where the OS cannot tell. Cheap: no system call on Linux (vDSO/rseq)
 * nor on Windows. */
int os_cpu_self(void);

/* Monotonic and wall clocks, in nanoseconds. */
uint64_t os_now_ns(void);
uint64_t os_realtime_ns(void);

#endif /* SHMRING_OS_H */
