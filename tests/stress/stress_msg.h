/* SPDX-License-Identifier: MIT */
/*
 * stress_msg.h -- the message stream of the stress program, and the
 * producer and consumer loops shared by its process and thread modes.
 *
 * Message seq of a session has a length fixed by (session seed, seq), from
 * 0 to the ring's max_msg (so records span one slot or many, and wrap with
 * padding), and the bytes: seq (8, little-endian) | FNV-1a of bytes
 * [12, len) (4) | pseudo-random filler, truncated to the length. The
 * consumer knows the seq it expects next, so a lost, duplicated, reordered
 * or torn message is seen at once, and counted by kind.
 *
 * Sequence numbers are not ring indices (a message covers
 * ceil((8 + len) / stride) slots, plus padding at the end of the ring), so
 * the producer journals where each message goes: before every call it
 * computes, from the head it last saw and the record format of
 * docs/format.md, the start index of each message of the call
 * (st_journal.start[seq % ST_MAP]), and after the call it checks the head
 * the library published against that plan. The driver uses the map to
 * find, after a kill, exactly which message a new producer or consumer
 * must start at.
 */
#ifndef SHMRING_STRESS_MSG_H
#define SHMRING_STRESS_MSG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shmring.h"

enum { ST_P = 0, ST_C = 1 };

/* consumer phases: what a dead consumer may have consumed unrecorded */
enum {
	ST_IDLE,      /* nothing (any peeked messages stay in the ring) */
	ST_IN_RECV,   /* inside recv: 0 or 1 message */
	ST_IN_RECVV,  /* inside recvv of n: 0..n messages */
	ST_IN_PEEK,   /* inside peek/peekv: none (padding only) */
	ST_RELEASING, /* inside release/releasev of n: 0 or exactly n */
};

/* where a victim paused before it was killed (st_journal.paused_at) */
enum {
	ST_AT_NONE,
	ST_AT_CLAIM,  /* between claim and commit */
	ST_AT_CLAIMV, /* between claimv and commitv */
	ST_AT_PEEK,   /* between peek and release */
	ST_AT_PEEKV,  /* between peekv (2 or more) and releasev */
	ST_AT_COUNT
};

#define ST_BATCH     8    /* usual largest batch of sendv/recvv/claimv/peekv */
#define ST_BIG_BATCH 1100 /* rare batch above SHMRING_BATCH_MAX */
#define ST_MAP       (1u << 16) /* seq -> start index entries (a power of 2) */

/* The producer's plan of its current call, double-buffered (p_plan[p_cur]
 * is complete whenever the producer dies): every message below @base is
 * published; head was @head0 when the call began; messages [base, end)
 * have their start index in st_journal.start. */
struct st_plan {
	uint64_t base, head0, end;
};

/* The consumer's progress, double-buffered the same way: every message
 * below @done is consumed (released); @phase/@n say what the call in
 * flight may consume (see the enum above); @peeked messages from @done on
 * are peeked and not released. */
struct st_cstate {
	uint64_t done;
	uint32_t phase, n, peeked;
};

/* Shared between the driver and its children (MAP_SHARED) or threads. */
struct st_journal {
	/* set up by the driver */
	char name[64];
	uint64_t seed;      /* lengths and filler of this session */
	uint32_t slot_size; /* geometry of this session's ring */
	uint32_t slot_count;
	uint32_t stride;  /* roundup(8 + slot_size, 16) */
	uint32_t cfg_max; /* shmring_config.max_msg (0 = the default) */
	uint32_t max_len; /* the ring's max_msg: the largest message */
	uint32_t spin_ns; /* spin budget of both handles */
	uint64_t
	        limit; /* producer: messages to send, UINT64_MAX = until stop */
	uint64_t deadline_ns;    /* producer: stop sending after this time */
	_Atomic int stop;        /* producer: finish, close, exit */
	_Atomic int ready;       /* the producer created the ring */
	_Atomic int attached[2]; /* that side's current process attached */
	/* the producer's journal */
	struct st_plan p_plan[2];
	_Atomic int p_cur;
	_Atomic uint64_t p_end; /* start[] is valid below this seq */
	/* the consumer's journal */
	struct st_cstate c_state[2];
	_Atomic int c_cur;
	_Atomic uint64_t c_seen; /* next seq the consumer has not checked */
	/* pause points: driver asks, child answers and waits to be killed */
	_Atomic int pause_req[2];
	_Atomic int paused[2];
	_Atomic int paused_at[2];      /* ST_AT_* */
	_Atomic uint32_t paused_slots; /* largest claimed record, in slots */
	/* peer death seen by the survivor, armed by the driver before a kill */
	_Atomic int pd_armed[2];
	_Atomic uint64_t pd_call_ns[2]; /* start of the call that saw it */
	_Atomic uint64_t pd_seen_ns[2]; /* when it returned EPEERDEAD */
	/* results */
	_Atomic uint64_t sent, received, lost, duplicated, torn, gaps;
	_Atomic uint64_t redelivered, errors;
	/* calls made, by kind, for the summary */
	_Atomic uint64_t calls[12];
	char error[256];
	/* message seq starts at ring index start[seq % ST_MAP] */
	_Atomic uint64_t start[ST_MAP];
};

/* indices of st_journal.calls */
enum {
	ST_K_SEND,
	ST_K_SENDV,
	ST_K_CLAIM,
	ST_K_CLAIMV,
	ST_K_COMMITV_PART, /* commitv of fewer than claimed */
	ST_K_RECV,
	ST_K_RECV_SMALL, /* recv into a too-small buffer: EMSGSIZE */
	ST_K_RECVV,
	ST_K_PEEK,
	ST_K_PEEKV,
	ST_K_RELEASEV_PART, /* releasev of fewer than peeked */
	ST_K_COUNT
};

uint64_t st_now_ns(void);
void st_fail(struct st_journal *j, const char *fmt, ...);
uint64_t st_mix(uint64_t x); /* splitmix64 finaliser */
size_t st_len(const struct st_journal *j, uint64_t seq);
/* Slots a record of @len bytes covers: ceil((8 + len) / stride). */
uint64_t st_slots(const struct st_journal *j, uint64_t len);
/* The ring's default max_msg for a geometry (as sr_geom_make). */
uint32_t st_default_max(uint32_t stride, uint32_t count);

/* A read-only view of the session's segment, for head, tail and record
 * words (the driver's, and each child's own). */
struct st_view {
	const uint8_t *base;
	size_t size;
};
int st_view_map(const char *name, struct st_view *v);
void st_view_unmap(struct st_view *v);
uint64_t st_view_head(const struct st_view *v);
uint64_t st_view_tail(const struct st_view *v);
/* The record word at ring index @i. */
uint64_t st_view_word(const struct st_journal *j, const struct st_view *v,
                      uint64_t i);

/* The producer's plan and the consumer's state, as last completed. */
struct st_plan st_plan_get(struct st_journal *j);
void st_plan_put(struct st_journal *j, uint64_t base, uint64_t head0,
                 uint64_t end);
struct st_cstate st_cstate_get(struct st_journal *j);

/* Producer: attach (create or take over), send from @first until limit or
 * stop, close. 0 on success. */
int st_producer(struct st_journal *j, uint64_t first, int create);
/* Consumer: attach (take over), receive until end of stream. The first
 * message must be exactly @first. 0 on success. */
int st_consumer(struct st_journal *j, uint64_t first);

#endif /* SHMRING_STRESS_MSG_H */
