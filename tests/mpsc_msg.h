/* SPDX-License-Identifier: MIT */
/*
 * mpsc_msg.h -- the messages of the verified many-producer streams
 * (SHMRING_F_MPSC): tests/test_mpsc_ipc.c, tests/test_mpsc_stress.c and
 * tests/stress/stress_mpsc.c send and check these.
 *
 * Every message names its stream (the logical producer, 0..31) and its
 * sequence number in that stream. Little-endian:
 *
 *   seq 8 | stream 4 | len 4 | stamp 8 | sum 4 | filler, to len bytes
 *
 * Its length follows from (seed, stream, seq) (mm_len: from the header
 * alone to max_msg, often at the one-slot/two-slot boundary), its filler
 * from (seed, stream, seq), and sum is FNV-1a over the first 24 bytes and
 * the filler, so the consumer checks each one on arrival (mm_check):
 * whole, and per stream in order, exactly once. The stamp is either a
 * function of seq (seq ^ stamp_key, checked) or, with stamp_key 0, the
 * sender's clock (given to mm_fill, not checked).
 *
 * Also here: the choices the producers of these streams make for their
 * calls (batches, claim sizes, timeouts). No dependency beyond the C
 * library and shmring.h: tests/stress/ links no helpers.c.
 */
#ifndef SHMRING_TEST_MPSC_MSG_H
#define SHMRING_TEST_MPSC_MSG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shmring.h"

#define MM_HDR 28u /* seq 8 | stream 4 | len 4 | stamp 8 | sum 4 */

/* splitmix64's finaliser, and the next value of a sequence of it. */
uint64_t mm_mix(uint64_t x);
uint64_t mm_rnd(uint64_t *s);

/* What the messages of a session follow from. */
struct mm_stream {
	uint64_t seed; /* lengths and filler */
	uint32_t max;  /* the largest message: the ring's max_msg */
	uint32_t one;  /* the largest one-slot message: stride - 8 */
	/* the stamp of message seq is seq ^ stamp_key; 0: the sender's
	 * clock, not checked */
	uint64_t stamp_key;
};

/* The length of message @seq of stream @id: the header alone, max, the
 * one-slot/two-slot boundary, a few slots, or anything up to max; never
 * above max (a small ring's max_msg may be below one + 1 or
 * MM_HDR + 199). */
size_t mm_len(const struct mm_stream *s, uint32_t id, uint64_t seq);

/* Write message @seq of stream @id, @len bytes (MM_HDR or more), into
 * @buf; its stamp is seq ^ stamp_key, or @now with stamp_key 0. */
void mm_fill(const struct mm_stream *s, void *buf, size_t len, uint32_t id,
             uint64_t seq, uint64_t now);

/* ---- the producers' calls ------------------------------------------------ */

/* A sendv batch: messages @seq .. @seq + @k - 1 of stream @id written to
 * @buf (max bytes apart), and @v pointing at them. */
void mm_fillv(const struct mm_stream *s, shmring_msg *v, uint8_t *buf, size_t k,
              uint32_t id, uint64_t seq, uint64_t now);

/* A claimv batch for messages @seq .. @seq + @k - 1 of stream @id: their
 * lengths into @lens, and each claim in @b that length or, as bits of
 * @big say, max (committed shorter). 1 if every claim is its message's
 * length (commitv may then pass NULL lengths). */
int mm_claim_sizes(const struct mm_stream *s, shmring_buf *b, size_t *lens,
                   size_t k, uint32_t id, uint64_t seq, uint64_t big);

/* A call's timeout from random bits @x: one in eight SHMRING_NOWAIT, one
 * in eight @ms, else SHMRING_FOREVER. */
int mm_timeout(uint64_t x, int ms);

/* 1 for a code after which the stream just goes on (EAGAIN, ETIMEDOUT). */
int mm_retry(int rc);

/* ---- the consumer's check ------------------------------------------------ */

/* A message's header as read, and the seq that was due in its stream. */
struct mm_hdr {
	uint64_t seq, stamp, due;
	uint32_t id;
};

/* What mm_check found, in the order it looks. */
enum mm_verdict {
	MM_OK,        /* the next message of its stream, whole */
	MM_SHORT,     /* shorter than the header */
	MM_NO_STREAM, /* its stream is not below nstreams */
	MM_TORN,      /* length, len field, stamp or checksum wrong */
	MM_OLD,       /* below the seq due: duplicated or reordered */
	MM_GAP,       /* above the seq due: messages before it are missing */
};

/* Check message @buf/@len (as received) against @next, the seq due in
 * each of @nstreams streams. *h gets what was read: nothing (zeros) for
 * MM_SHORT, no due for MM_NO_STREAM. On MM_OK and MM_GAP, next[id] moves
 * past the message (whether a gap is an error is the caller's to say). */
enum mm_verdict mm_check(const struct mm_stream *s, _Atomic uint64_t *next,
                         uint32_t nstreams, const void *buf, size_t len,
                         struct mm_hdr *h);

/* A few words for a verdict: "torn", "lost", ... */
const char *mm_what(enum mm_verdict v);

#endif /* SHMRING_TEST_MPSC_MSG_H */
