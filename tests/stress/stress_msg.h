/* SPDX-License-Identifier: MIT */
/*
 * stress_msg.h -- the message stream of the stress program, and the
 * producer and consumer loops shared by its process and thread modes.
 *
 * Message seq of a session has a length fixed by (session seed, seq) and
 * the bytes: seq (8, little-endian) | FNV-1a of bytes [12, len) (4) |
 * pseudo-random filler, truncated to the length. The consumer knows the
 * seq it expects next, so a lost, duplicated, reordered or torn message is
 * seen at once, and counted by kind.
 */
#ifndef SHMRING_STRESS_MSG_H
#define SHMRING_STRESS_MSG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shmring.h"

#define ST_MAX_ROUNDS 4096

enum { ST_P = 0, ST_C = 1 };
/* consumer phases, for what a restarted consumer may legally see first */
enum { ST_IDLE, ST_IN_RECV, ST_PEEKED, ST_RELEASING, ST_IN_RECVV };
#define ST_BATCH 8 /* largest shmring_sendv / shmring_recvv batch */

/* Shared between the driver and its children (MAP_SHARED) or threads. */
struct st_journal {
	/* set up by the driver */
	char name[64];
	uint64_t seed;      /* lengths and filler of this session */
	uint32_t slot_size; /* geometry of this session's ring */
	uint32_t slot_count;
	uint32_t max_len; /* largest message of this session */
	uint32_t spin_ns; /* spin budget of both handles */
	uint64_t
	        limit; /* producer: messages to send, UINT64_MAX = until stop */
	uint64_t deadline_ns;    /* producer: stop sending after this time */
	_Atomic int stop;        /* producer: finish, close, exit */
	_Atomic int ready;       /* the producer created the ring */
	_Atomic int attached[2]; /* that side's current process attached */
	/* consumer progress (what a restarted consumer checks against) */
	_Atomic uint64_t c_next; /* next seq the consumer expects */
	_Atomic int c_phase;
	_Atomic uint32_t c_batch; /* n of the recvv in flight (ST_IN_RECVV) */
	/* pause points: driver asks, child answers and waits to be killed */
	_Atomic int pause_req[2];
	_Atomic int paused[2];
	/* peer death seen by the survivor, armed by the driver before a kill */
	_Atomic int pd_armed[2];
	_Atomic uint64_t pd_call_ns[2]; /* start of the call that saw it */
	_Atomic uint64_t pd_seen_ns[2]; /* when it returned EPEERDEAD */
	/* results */
	_Atomic uint64_t sent, received, lost, duplicated, torn, gaps;
	_Atomic uint64_t redelivered, errors;
	char error[256];
};

uint64_t st_now_ns(void);
void st_fail(struct st_journal *j, const char *fmt, ...);
uint64_t st_mix(uint64_t x); /* splitmix64 finaliser */
size_t st_len(const struct st_journal *j, uint64_t seq);

/* Producer: attach (create or take over), send from @first until limit or
 * stop, close. 0 on success. */
int st_producer(struct st_journal *j, uint64_t first, int create);
/* Consumer: attach (take over), receive until end of stream. The first
 * message must be @first, or @first + 1 when @may_skip_one (a predecessor
 * died after its release but before recording it). 0 on success. */
int st_consumer(struct st_journal *j, uint64_t first, int may_skip_one);

#endif /* SHMRING_STRESS_MSG_H */
