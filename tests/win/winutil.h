/* SPDX-License-Identifier: MIT */
/*
 * winutil.h -- helpers shared by the Windows tests and the Windows demo:
 * unique names, child processes of the same executable, rendezvous events,
 * a raw view of a ring's segment, and the verified stream's message pattern.
 */
#ifndef SHMRING_WINUTIL_H
#define SHMRING_WINUTIL_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>

#include "shmring.h"

#define WU_NAME_MAX 96

/* A ring or event name unique to this process and call: "w.<tag>.<pid>.<n>".
 * Tests run in parallel in one Wine prefix, which shares Local\ names. */
void wu_name(char *out, const char *tag);

/* Milliseconds on the monotonic clock (QueryPerformanceCounter). */
double wu_now_ms(void);

/*
 * Start this executable again as "<exe> --child <args>". Children are put
 * in a job that kills them when this process exits, so a failing test never
 * leaves one behind. Returns the process handle, or NULL.
 */
HANDLE wu_spawn(const char *args);

/* The child's exit code, or -1 if it did not exit within @ms (it is then
 * killed). Closes @proc. */
int wu_reap(HANDLE proc, DWORD ms);

/* TerminateProcess, then wait until it is really gone. */
void wu_kill(HANDLE proc);

/* Kill @proc after @delay_ms from a helper thread; *t_kill receives the
 * time of the TerminateProcess call (wu_now_ms). Join with wu_join(). */
HANDLE wu_kill_later(HANDLE proc, DWORD delay_ms, volatile double *t_kill);
void wu_join(HANDLE thread);

/* Named manual-reset events for rendezvous between parent and child. */
HANDLE wu_event_create(const char *name);
HANDLE wu_event_open(const char *name);
int wu_event_wait(HANDLE ev, DWORD ms); /* 1 if set within @ms */

/* A raw read-write view of ring @name's segment, as a hostile peer has it.
 * *size receives the view's size (page-rounded). NULL if absent. */
void *wu_seg_map(const char *name, size_t *size);
void wu_seg_unmap(void *base);

/*
 * The verified stream. Message @seq has a length and bytes derived from
 * (@seed, @seq) alone: when long enough it starts with the sequence number
 * and an FNV-1a checksum of the rest, and every byte is checked.
 */
size_t wu_msg_len(uint64_t seed, uint64_t seq, size_t max);
void wu_msg_fill(void *buf, size_t len, uint64_t seed, uint64_t seq);
int wu_msg_check(const void *buf, size_t len, uint64_t seed, uint64_t seq,
                 size_t max);
uint64_t wu_mix(uint64_t x);

#endif /* SHMRING_WINUTIL_H */
