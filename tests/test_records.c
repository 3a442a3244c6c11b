/* Description: one process: messages of many slots, max_msg, padding. */
/* SPDX-License-Identifier: MIT */
/*
 * Format 2: a message of len bytes takes ceil((8 + len) / stride) slots,
 * contiguous, up to max_msg. These tests use a ring of 16-byte strides
 * (slot_size 8) and 16 slots: 256 slot bytes, default max_msg 120.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

#define COUNT  16
#define STRIDE 16
#define MAX    (COUNT * STRIDE / 2 - 8) /* the default max_msg: 120 */

static struct pair p;

static void open_pair(uint32_t max_msg)
{
	shmring_config cfg = {
	        .slot_size = 8, .slot_count = COUNT, .max_msg = max_msg};

	pair_open_cfg_or_fail(&p, &cfg);
}

static void setup(void)
{
	open_pair(0);
}

static void teardown(void)
{
	pair_close(&p);
}

#define PAIR .init = setup, .fini = teardown, .timeout = 20

static void send_seq(uint64_t seq, size_t len)
{
	uint8_t msg[COUNT * STRIDE];

	msg_fill(msg, len, seq);
	cr_assert_eq(shmring_send(p.prod, msg, len, 0), SHMRING_OK,
	             "send %zu bytes", len);
}

static void recv_seq(uint64_t seq, size_t len)
{
	uint8_t buf[COUNT * STRIDE], want[COUNT * STRIDE];
	size_t got;

	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &got, 0), SHMRING_OK,
	             "recv seq %llu", (unsigned long long)seq);
	cr_assert_eq(got, len);
	msg_fill(want, len, seq);
	cr_assert_arr_eq(buf, want, len);
}

Test(max_msg, defaults_to_half_the_slot_bytes_minus_the_header, PAIR)
{
	cr_assert_eq(shmring_max_msg(p.prod), MAX);
	cr_assert_eq(shmring_max_msg(p.cons), MAX);
}

Test(max_msg, the_default_ring_takes_messages_far_larger_than_a_slot)
{
	static uint8_t big[200000], buf[200000];
	shmring *prod, *cons;
	char name[TEST_NAME_LEN];
	size_t len;

	ring_name(name);
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	cr_assert_eq(shmring_max_msg(prod), TEST_DEFAULT_MAX_MSG);
	cr_assert_gt(shmring_max_msg(prod), 500 * SHMRING_DEFAULT_SLOT_SIZE);
	msg_fill(big, sizeof big, 3);
	cr_assert_eq(shmring_send(prod, big, sizeof big, 0), SHMRING_OK);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0), SHMRING_OK);
	cr_assert_eq(len, sizeof big);
	cr_assert_arr_eq(buf, big, len);
	shmring_close(prod);
	shmring_close(cons);
	shmring_unlink(name);
}

Test(max_msg, an_explicit_value_is_kept_and_enforced)
{
	const uint32_t ok[] = {1, 7, 8, MAX, MAX + 1, COUNT * STRIDE - 8};

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint8_t msg[COUNT * STRIDE] = {0};
		void *w;

		open_pair(ok[i]);
		cr_assert_eq(shmring_max_msg(p.prod), ok[i]);
		cr_assert_eq(shmring_send(p.prod, msg, ok[i] + 1, 0),
		             SHMRING_EMSGSIZE);
		cr_assert_eq(shmring_claim(p.prod, ok[i] + 1, &w, 0),
		             SHMRING_EMSGSIZE);
		send_seq(i, ok[i]);
		recv_seq(i, ok[i]);
		teardown();
	}
}

Test(max_msg, create_rejects_a_value_the_ring_cannot_hold)
{
	const shmring_config bad[] = {
	        {.slot_size = 8,
	         .slot_count = COUNT,
	         .max_msg = COUNT * STRIDE - 7}, /* one byte over every slot */
	        {.slot_size = 8, .slot_count = 2, .max_msg = 25},
	        {.slot_size = 8, .slot_count = COUNT, .max_msg = UINT32_MAX},
	        {.slot_count = 1u << 20,
	         .slot_size = 4096,
	         .max_msg = SHMRING_MAX_MSG_LIMIT + 1u},
	};
	char name[TEST_NAME_LEN];
	shmring *r = NULL;

	ring_name(name);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(
		        shmring_create(name, &bad[i], SHMRING_PRODUCER, &r),
		        SHMRING_EINVAL, "case %zu", i);
	cr_assert_null(r);
	cr_assert_eq(shmring_unlink(name), SHMRING_ENOENT, "nothing created");
}

Test(records, every_size_from_0_to_max_msg_round_trips_whole, PAIR)
{
	for (size_t len = 0; len <= MAX; len++) {
		send_seq(len, len);
		recv_seq(len, len);
	}
}

Test(records, a_message_takes_ceil_8_plus_len_over_stride_slots, PAIR)
{
	/* fill the ring with records of one size: it holds COUNT / ext */
	const size_t lens[] = {0, 8, 9, 24, 25, 56, 120};

	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		size_t ext = (8 + lens[i] + STRIDE - 1) / STRIDE, n = 0;
		uint8_t msg[MAX] = {0};

		while (shmring_send(p.prod, msg, lens[i], 0) == SHMRING_OK)
			n++;
		/* the wrap may waste up to ext - 1 slots in padding */
		cr_assert(n <= COUNT / ext && n + 1 >= COUNT / ext,
		          "len %zu: %zu messages of %zu slots", lens[i], n,
		          ext);
		for (size_t k = 0; k < n; k++)
			cr_assert_eq(shmring_recv(p.cons, msg, sizeof msg,
			                          &(size_t){0}, 0),
			             SHMRING_OK);
	}
}

Test(records, a_stream_of_random_sizes_wraps_with_padding_many_times, PAIR)
{
	uint64_t sent = 0, got = 0;

	/* sizes from msg_size(): 0, the max and everything between */
	while (got < 5000) {
		while (sent - got < 4) {
			size_t n = msg_size(sent, MAX);
			uint8_t msg[MAX];

			msg_fill(msg, n, sent);
			if (shmring_send(p.prod, msg, n, 0) != SHMRING_OK)
				break;
			sent++;
		}
		recv_seq(got, msg_size(got, MAX));
		got++;
	}
}

Test(records, a_too_small_buffer_gets_the_size_and_the_message_stays, PAIR)
{
	uint8_t buf[MAX];
	size_t len = 0;

	send_seq(1, 100); /* 7 slots */
	cr_assert_eq(shmring_recv(p.cons, buf, 99, &len, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(len, 100);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(len, 100);
	recv_seq(1, 100);
}

Test(records, claim_hands_out_one_contiguous_region_over_many_slots, PAIR)
{
	uint8_t *w;
	const void *d;
	size_t len;

	cr_assert_eq(shmring_claim(p.prod, MAX, (void **)&w, 0), SHMRING_OK);
	msg_fill(w, MAX, 42);
	cr_assert_eq(shmring_commit(p.prod, MAX), SHMRING_OK);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_eq(len, MAX);
	cr_assert(msg_is(d, len, 42));
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
}

Test(records, a_shorter_commit_gives_the_unneeded_slots_back, PAIR)
{
	uint8_t msg[MAX] = {0};
	void *w;
	int n = 0;

	/* claim 120 bytes (8 slots), commit 8 (1 slot): 15 slots left */
	cr_assert_eq(shmring_claim(p.prod, MAX, &w, 0), SHMRING_OK);
	msg_fill(w, 8, 5);
	cr_assert_eq(shmring_commit(p.prod, 8), SHMRING_OK);
	while (shmring_send(p.prod, msg, 0, 0) == SHMRING_OK)
		n++;
	cr_assert_eq(n, COUNT - 1);
	recv_seq(5, 8);
}

Test(records, padding_never_reaches_the_user_of_any_call, PAIR)
{
	uint8_t bytes[4][MAX];
	shmring_buf v[4];
	shmring_msg m[4];
	size_t n;

	/* records of 7 slots from 0: 0, 7, then 14 needs padding 14..15 */
	for (uint64_t s = 0; s < 40; s++) {
		for (int i = 0; i < 4; i++)
			v[i] = (shmring_buf){bytes[i], MAX};
		send_seq(2 * s, 100);
		send_seq(2 * s + 1, 100);
		switch (s % 3) {
		case 0:
			recv_seq(2 * s, 100);
			recv_seq(2 * s + 1, 100);
			break;
		case 1:
			cr_assert_eq(shmring_recvv(p.cons, v, 4, &n, 0),
			             SHMRING_OK);
			cr_assert_eq(n, 2);
			cr_assert_eq(v[1].len, 100);
			cr_assert(msg_is(bytes[1], 100, 2 * s + 1));
			break;
		default:
			cr_assert_eq(shmring_peekv(p.cons, m, 4, &n, 0),
			             SHMRING_OK);
			cr_assert_eq(n, 2);
			cr_assert(m[0].len == 100 && m[1].len == 100);
			cr_assert(msg_is(m[0].data, 100, 2 * s));
			cr_assert(msg_is(m[1].data, 100, 2 * s + 1));
			cr_assert_eq(shmring_releasev(p.cons, 2), SHMRING_OK);
		}
	}
}

Test(records, sendv_of_multi_slot_messages_waits_and_publishes_in_runs, PAIR)
{
	shmring_msg v[10];
	uint8_t bytes[10][MAX];
	size_t sent = 0;

	for (int i = 0; i < 10; i++) {
		msg_fill(bytes[i], 56, (uint64_t)i); /* 4 slots each */
		v[i] = (shmring_msg){bytes[i], 56};
	}
	/* 4 fit; NOWAIT then stops with EAGAIN and says how many went */
	cr_assert_eq(shmring_sendv(p.prod, v, 10, &sent, 0), SHMRING_EAGAIN);
	cr_assert_eq(sent, 4);
	for (uint64_t s = 0; s < 4; s++)
		recv_seq(s, 56);
	cr_assert_eq(shmring_sendv(p.prod, v + 4, 4, &sent, 0), SHMRING_OK);
	cr_assert_eq(sent, 4);
	for (uint64_t s = 4; s < 8; s++)
		recv_seq(s, 56);
}
