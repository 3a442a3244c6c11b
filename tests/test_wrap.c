/* Description: indices started just below 2^64 wrap in every run. */
/* SPDX-License-Identifier: MIT */
/*
 * White-box: the ring is created, closed, and its head and tail set through
 * a private mapping of the segment before any handle attaches; the handles
 * then start from there (a producer at head, a consumer at tail).
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "helpers.h"
#include "layout.h"

#define SLOT  48
#define COUNT 8

#define OFF_HEAD offsetof(struct sr_seg, head.value)
#define OFF_TAIL offsetof(struct sr_seg, tail.value)

static char name[TEST_NAME_LEN];
static struct rawseg seg;
static shmring *prod, *cons;

static void setup(void)
{
	ring_name(name);
	ring_make_idle_or_fail(name, SLOT, COUNT);
	cr_assert_eq(rawseg_map(&seg, name, 1), 0);
}

static void teardown(void)
{
	shmring_close(prod);
	shmring_close(cons);
	prod = cons = NULL;
	rawseg_unmap(&seg);
	shmring_unlink(name);
}

TestSuite(wrap, .init = setup, .fini = teardown, .timeout = 10);

static void start_at(uint64_t head, uint64_t tail)
{
	wr64(seg.base, OFF_HEAD, head);
	wr64(seg.base, OFF_TAIL, tail);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &prod), SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
}

static void send_seq(uint64_t seq, int zero_copy)
{
	uint8_t msg[SLOT];
	size_t n = msg_size(seq, SLOT);
	void *w;

	if (!zero_copy) {
		msg_fill(msg, n, seq);
		cr_assert_eq(shmring_send(prod, msg, n, 0), SHMRING_OK,
		             "seq %llu", (unsigned long long)seq);
		return;
	}
	cr_assert_eq(shmring_claim(prod, SLOT, &w, 0), SHMRING_OK);
	msg_fill(w, n, seq);
	cr_assert_eq(shmring_commit(prod, n), SHMRING_OK);
}

static void recv_seq(uint64_t seq, int zero_copy)
{
	uint8_t buf[SLOT];
	const void *d;
	size_t len;

	if (!zero_copy) {
		cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0),
		             SHMRING_OK, "seq %llu", (unsigned long long)seq);
		cr_assert(msg_check(buf, len, seq, SLOT), "seq %llu",
		          (unsigned long long)seq);
		return;
	}
	cr_assert_eq(shmring_peek(cons, &d, &len, 0), SHMRING_OK);
	cr_assert(msg_check(d, len, seq, SLOT), "seq %llu",
	          (unsigned long long)seq);
	cr_assert_eq(shmring_release(cons), SHMRING_OK);
}

/* Stream @n messages in batches of 1..COUNT, checking every one. */
static void stream(uint64_t n, int zero_copy)
{
	uint64_t sent = 0, got = 0;

	while (got < n) {
		uint64_t batch = 1 + (sent * 7 + 3) % COUNT;

		for (uint64_t i = 0; i < batch && sent < n; i++)
			send_seq(sent++, zero_copy);
		while (got < sent)
			recv_seq(got++, zero_copy);
	}
}

Test(wrap, copy_stream_of_100_messages_crosses_2_to_the_64)
{
	const uint64_t start = UINT64_MAX - 5;

	start_at(start, start);
	stream(100, 0);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), start + 100); /* i.e. 94 */
	cr_assert_eq(rd64(seg.base, OFF_TAIL), start + 100);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 94);
}

Test(wrap, zero_copy_stream_of_100_messages_crosses_2_to_the_64)
{
	const uint64_t start = UINT64_MAX - 2;

	start_at(start, start);
	stream(100, 1);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), start + 100);
}

Test(wrap, full_ring_is_detected_across_the_wrap)
{
	const uint64_t start = UINT64_MAX - 3;

	start_at(start, start);
	for (uint64_t i = 0; i < COUNT; i++)
		send_seq(i, 0);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 4, "head wrapped");
	cr_assert_eq(shmring_send(prod, "", 0, 0), SHMRING_EAGAIN);
	cr_assert_eq(shmring_send(prod, "", 0, 5), SHMRING_ETIMEDOUT);
	recv_seq(0, 0);
	send_seq(COUNT, 1);
	for (uint64_t i = 1; i <= COUNT; i++)
		recv_seq(i, i % 2);
	cr_assert_eq(shmring_recv(cons, NULL, 0, &(size_t){0}, 0),
	             SHMRING_EAGAIN);
}

Test(wrap, handles_attach_to_messages_straddling_the_wrap)
{
	/* 6 messages in flight: indices 2^64-3 .. 2 */
	const uint64_t tail = UINT64_MAX - 2, head = 3;
	uint64_t idx = tail;

	for (uint64_t i = 0; i < 6; i++, idx++) {
		size_t slot = 4096 + (size_t)(idx & (COUNT - 1)) * 64;
		uint64_t lap = (idx >> 3) & 0x3fffffffu; /* 8 slots */

		/* a one-byte message: len 1, type 1, the lap of its index */
		wr64(seg.base, slot, 1 | UINT64_C(1) << 32 | lap << 34);
		seg.base[slot + 8] = (uint8_t)('a' + i);
	}
	start_at(head, tail);
	for (uint64_t i = 0; i < 6; i++) {
		char c;
		size_t len;

		cr_assert_eq(shmring_recv(cons, &c, 1, &len, 0), SHMRING_OK);
		cr_assert_eq(len, 1);
		cr_assert_eq(c, (char)('a' + i));
	}
	cr_assert_eq(shmring_recv(cons, NULL, 0, &(size_t){0}, 0),
	             SHMRING_EAGAIN);
	stream(20, 0);
}

Test(wrap, producer_reopened_at_the_wrap_continues_after_the_last_commit)
{
	const uint64_t start = UINT64_MAX - 1;

	start_at(start, start);
	send_seq(0, 0);
	send_seq(1, 0);
	send_seq(2, 1);
	shmring_close(prod);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &prod), SHMRING_OK);
	send_seq(3, 0);
	for (uint64_t i = 0; i < 4; i++)
		recv_seq(i, 0);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 2);
}

Test(wrap, records_of_many_slots_and_padding_cross_2_to_the_64)
{
	/* default max_msg: 8 * 64 / 2 - 8 = 248 bytes, up to 4 slots */
	shmring_config cfg = {.slot_size = SLOT, .slot_count = COUNT};
	const uint64_t start = UINT64_MAX - 6;
	uint8_t msg[248], buf[248];
	size_t len;

	rawseg_unmap(&seg);
	shmring_unlink(name);
	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	shmring_close(prod);
	prod = NULL;
	cr_assert_eq(rawseg_map(&seg, name, 1), 0);
	start_at(start, start);
	cr_assert_eq(shmring_max_msg(prod), 248);
	for (uint64_t s = 0; s < 200; s++) {
		size_t n = msg_size(s, 248);

		msg_fill(msg, n, s);
		cr_assert_eq(shmring_send(prod, msg, n, 0), SHMRING_OK);
		cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0),
		             SHMRING_OK, "seq %llu", (unsigned long long)s);
		cr_assert(msg_check(buf, len, s, 248));
	}
	cr_assert_lt(rd64(seg.base, OFF_HEAD), 1000, "head wrapped");
	cr_assert_eq(rd64(seg.base, OFF_HEAD), rd64(seg.base, OFF_TAIL));
}
