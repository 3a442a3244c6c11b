/* Description: one process: data paths, full/empty, close, lifetime. */
/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "helpers.h"
#include "layout.h"

#define SLOT  64
#define COUNT 8

static struct pair p;

static void setup(void)
{
	pair_open_or_fail(&p, SLOT, COUNT);
}

static void teardown(void)
{
	pair_close(&p);
}

#define PAIR .init = setup, .fini = teardown, .timeout = 10

static void send_ok(shmring *r, const void *d, size_t n)
{
	int rc = shmring_send(r, d, n, SHMRING_NOWAIT);

	cr_assert_eq(rc, SHMRING_OK, "send: %s", shmring_strerror(rc));
}

static void recv_expect(shmring *r, const void *d, size_t n)
{
	char buf[SLOT + 1];
	size_t len = 12345;
	int rc = shmring_recv(r, buf, sizeof buf, &len, SHMRING_NOWAIT);

	cr_assert_eq(rc, SHMRING_OK, "recv: %s", shmring_strerror(rc));
	cr_assert_eq(len, n);
	if (n)
		cr_assert_arr_eq(buf, d, n);
}

static void fill(shmring *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		send_ok(r, &i, sizeof i);
}

static uint64_t elapsed_ms(uint64_t t0)
{
	return (now_ns() - t0) / 1000000u;
}

/* ---- copy API ------------------------------------------------------------ */

Test(send, then_recv_returns_the_same_bytes, PAIR)
{
	send_ok(p.prod, "hello", 5);
	recv_expect(p.cons, "hello", 5);
}

Test(send, messages_arrive_in_order_over_many_laps, PAIR)
{
	uint8_t msg[SLOT];

	for (uint64_t seq = 0; seq < 10 * COUNT; seq++) {
		size_t n = msg_size(seq, SLOT);
		char buf[SLOT];
		size_t len;

		msg_fill(msg, n, seq);
		send_ok(p.prod, msg, n);
		if (seq % 3 != 2)
			continue; /* batches of three */
		for (uint64_t s = seq - 2; s <= seq; s++) {
			cr_assert_eq(
			        shmring_recv(p.cons, buf, sizeof buf, &len, 0),
			        SHMRING_OK);
			cr_assert(msg_check(buf, len, s, SLOT), "seq %llu",
			          (unsigned long long)s);
		}
	}
}

Test(send, accepts_exactly_max_msg_and_rejects_one_more, PAIR)
{
	uint8_t big[SLOT + 1];

	msg_fill(big, sizeof big, 7);
	cr_assert_eq(shmring_max_msg(p.prod), SLOT);
	cr_assert_eq(shmring_max_msg(p.cons), SLOT);
	cr_assert_eq(shmring_send(p.prod, big, SLOT + 1, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(shmring_send(p.prod, big, SIZE_MAX, 0), SHMRING_EMSGSIZE);
	send_ok(p.prod, big, SLOT);
	recv_expect(p.cons, big, SLOT);
}

Test(send, zero_length_messages_are_delivered, PAIR)
{
	send_ok(p.prod, NULL, 0);
	send_ok(p.prod, "x", 0);
	send_ok(p.prod, "y", 1);
	recv_expect(p.cons, NULL, 0);
	recv_expect(p.cons, NULL, 0);
	recv_expect(p.cons, "y", 1);
}

Test(send, full_ring_returns_eagain_without_waiting, PAIR)
{
	fill(p.prod, COUNT);
	cr_assert_eq(shmring_send(p.prod, "z", 1, SHMRING_NOWAIT),
	             SHMRING_EAGAIN);
	recv_expect(p.cons, &(unsigned){0}, sizeof(unsigned));
	send_ok(p.prod, "z", 1);
}

Test(send, full_ring_times_out_after_at_least_the_timeout, PAIR)
{
	uint64_t t0;

	fill(p.prod, COUNT);
	t0 = now_ns();
	cr_assert_eq(shmring_send(p.prod, "z", 1, 50), SHMRING_ETIMEDOUT);
	cr_assert_geq(elapsed_ms(t0), 50);
}

Test(recv, empty_ring_returns_eagain_without_waiting, PAIR)
{
	char buf[8];
	size_t len;

	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_EAGAIN);
}

Test(recv, empty_ring_times_out_after_at_least_the_timeout, PAIR)
{
	char buf[8];
	size_t len;
	uint64_t t0 = now_ns();

	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 30),
	             SHMRING_ETIMEDOUT);
	cr_assert_geq(elapsed_ms(t0), 30);
	t0 = now_ns();
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 1),
	             SHMRING_ETIMEDOUT);
	cr_assert_geq(now_ns() - t0, 1000000u);
}

Test(recv, short_buffer_reports_needed_len_and_keeps_message, PAIR)
{
	char big[40], small[8];
	size_t len = 0;

	memset(big, 'b', sizeof big);
	send_ok(p.prod, big, sizeof big);
	cr_assert_eq(shmring_recv(p.cons, small, sizeof small, &len, 0),
	             SHMRING_EMSGSIZE);
	cr_assert_eq(len, sizeof big);
	len = 0;
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(len, sizeof big);
	recv_expect(p.cons, big, sizeof big);
}

Test(recv, null_buffer_with_zero_cap_receives_an_empty_message, PAIR)
{
	size_t len = 99;

	send_ok(p.prod, NULL, 0);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_OK);
	cr_assert_eq(len, 0);
}

/* ---- zero-copy API --------------------------------------------------------
 */

Test(claim, commit_publishes_the_bytes_written_in_place, PAIR)
{
	void *w = NULL;
	size_t len;

	cr_assert_eq(shmring_claim(p.prod, 5, &w, 0), SHMRING_OK);
	cr_assert_not_null(w);
	memcpy(w, "abcde", 5);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EAGAIN,
	             "nothing is visible before commit");
	cr_assert_eq(shmring_commit(p.prod, 5), SHMRING_OK);
	recv_expect(p.cons, "abcde", 5);
}

Test(claim, of_max_msg_gives_max_msg_writable_bytes, PAIR)
{
	void *w;
	uint8_t msg[SLOT];

	msg_fill(msg, SLOT, 3);
	cr_assert_eq(shmring_claim(p.prod, SLOT + 1, &w, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(shmring_claim(p.prod, SLOT, &w, 0), SHMRING_OK);
	memcpy(w, msg, SLOT);
	cr_assert_eq(shmring_commit(p.prod, SLOT), SHMRING_OK);
	recv_expect(p.cons, msg, SLOT);
}

Test(commit, shorter_than_claimed_delivers_the_committed_length, PAIR)
{
	void *w;

	cr_assert_eq(shmring_claim(p.prod, SLOT, &w, 0), SHMRING_OK);
	memcpy(w, "0123456789", 10);
	cr_assert_eq(shmring_commit(p.prod, 4), SHMRING_OK);
	cr_assert_eq(shmring_claim(p.prod, 8, &w, 0), SHMRING_OK);
	cr_assert_eq(shmring_commit(p.prod, 0), SHMRING_OK);
	recv_expect(p.cons, "0123", 4);
	recv_expect(p.cons, NULL, 0);
}

Test(claim, full_ring_returns_eagain_then_times_out, PAIR)
{
	void *w;
	uint64_t t0;

	fill(p.prod, COUNT);
	cr_assert_eq(shmring_claim(p.prod, 1, &w, 0), SHMRING_EAGAIN);
	t0 = now_ns();
	cr_assert_eq(shmring_claim(p.prod, 1, &w, 20), SHMRING_ETIMEDOUT);
	cr_assert_geq(elapsed_ms(t0), 20);
	cr_assert_eq(shmring_send(p.prod, "", 0, 0), SHMRING_EAGAIN,
	             "a failed claim leaves no claim pending");
}

Test(peek, returns_the_message_in_place_and_release_removes_it, PAIR)
{
	const void *d = NULL;
	size_t len = 0;

	send_ok(p.prod, "first", 5);
	send_ok(p.prod, "second", 6);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_eq(len, 5);
	cr_assert_arr_eq(d, "first", 5);
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
	cr_assert_eq(shmring_release(p.cons), SHMRING_EINVAL, "release twice");
	recv_expect(p.cons, "second", 6);
}

Test(peek, twice_returns_the_same_message, PAIR)
{
	const void *d1, *d2;
	size_t l1, l2;

	send_ok(p.prod, "one", 3);
	send_ok(p.prod, "two", 3);
	cr_assert_eq(shmring_peek(p.cons, &d1, &l1, 0), SHMRING_OK);
	cr_assert_eq(shmring_peek(p.cons, &d2, &l2, 0), SHMRING_OK);
	cr_assert_eq(d1, d2);
	cr_assert_eq(l1, l2);
	cr_assert_arr_eq(d2, "one", 3);
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
	cr_assert_eq(shmring_peek(p.cons, &d1, &l1, 0), SHMRING_OK);
	cr_assert_arr_eq(d1, "two", 3);
}

Test(peek, of_large_message_never_reports_emsgsize, PAIR)
{
	uint8_t msg[SLOT];
	const void *d;
	size_t len;

	msg_fill(msg, SLOT, 11);
	send_ok(p.prod, msg, SLOT);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_eq(len, SLOT);
	cr_assert_arr_eq(d, msg, SLOT);
}

Test(peek, zero_length_message_has_len_0, PAIR)
{
	const void *d;
	size_t len = 1;

	send_ok(p.prod, NULL, 0);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_eq(len, 0);
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
}

Test(peek, empty_ring_returns_eagain_then_times_out, PAIR)
{
	const void *d;
	size_t len;
	uint64_t t0;

	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_EAGAIN);
	t0 = now_ns();
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 20), SHMRING_ETIMEDOUT);
	cr_assert_geq(elapsed_ms(t0), 20);
	cr_assert_eq(shmring_release(p.cons), SHMRING_EINVAL);
}

Test(ring, holds_exactly_slot_count_messages, PAIR)
{
	fill(p.prod, COUNT);
	cr_assert_eq(shmring_send(p.prod, NULL, 0, 0), SHMRING_EAGAIN);
	for (unsigned i = 0; i < COUNT; i++)
		recv_expect(p.cons, &i, sizeof i);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &(size_t){0}, 0),
	             SHMRING_EAGAIN);
	fill(p.prod, COUNT); /* room again for a full lap */
}

Test(ring, apis_mix_freely_on_both_sides, PAIR)
{
	void *w;
	const void *d;
	size_t len;

	send_ok(p.prod, "a", 1);
	cr_assert_eq(shmring_claim(p.prod, 1, &w, 0), SHMRING_OK);
	*(char *)w = 'b';
	cr_assert_eq(shmring_commit(p.prod, 1), SHMRING_OK);
	send_ok(p.prod, "c", 1);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_arr_eq(d, "a", 1);
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
	recv_expect(p.cons, "b", 1);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_arr_eq(d, "c", 1);
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
}

/* ---- stats and spinning ------------------------------------------------- */

Test(stats, count_messages_on_each_side, PAIR)
{
	shmring_stats ps, cs;
	const void *d;
	void *w;
	size_t len;

	fill(p.prod, 3);
	cr_assert_eq(shmring_claim(p.prod, 1, &w, 0), SHMRING_OK);
	cr_assert_eq(shmring_commit(p.prod, 1), SHMRING_OK);
	cr_assert_eq(shmring_send(p.prod, "x", SLOT + 1, 0), SHMRING_EMSGSIZE);
	recv_expect(p.cons, &(unsigned){0}, sizeof(unsigned));
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_eq(shmring_get_stats(p.cons, &cs), SHMRING_OK);
	cr_assert_eq(cs.messages, 1, "a peek is not a message yet");
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
	cr_assert_eq(shmring_get_stats(p.prod, &ps), SHMRING_OK);
	cr_assert_eq(shmring_get_stats(p.cons, &cs), SHMRING_OK);
	cr_assert_eq(ps.messages, 4);
	cr_assert_eq(cs.messages, 2);
	cr_assert_eq(ps.waits + ps.wakes + cs.waits + cs.wakes, 0,
	             "nobody slept, nobody was woken");
}

Test(stats, timed_wait_counts_sleeps, PAIR)
{
	shmring_stats st;
	char buf[8];
	size_t len;

	cr_assert_eq(shmring_set_spin(p.cons, 0), SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 20),
	             SHMRING_ETIMEDOUT);
	cr_assert_eq(shmring_get_stats(p.cons, &st), SHMRING_OK);
	cr_assert_geq(st.waits, 1);
	cr_assert_eq(st.wakes, 0);
	cr_assert_eq(st.messages, 0);
}

static void *blocked_recv(void *arg)
{
	char buf[SLOT];
	size_t len;

	(void)arg;
	return (void *)(intptr_t)shmring_recv(p.cons, buf, sizeof buf, &len,
	                                      SHMRING_FOREVER);
}

Test(stats, a_send_to_a_sleeping_consumer_counts_one_wake, PAIR)
{
	struct rawseg seg;
	pthread_t t;
	void *rc;
	shmring_stats ps, cs;
	uint64_t end = now_ns() + 5000000000u;

	cr_assert_eq(rawseg_map(&seg, p.name, 0), 0);
	cr_assert_eq(shmring_set_spin(p.cons, 0), SHMRING_OK);
	cr_assert_eq(pthread_create(&t, NULL, blocked_recv, NULL), 0);
	/* wait until the consumer announced that it sleeps */
	while (rd32(seg.base, offsetof(struct sr_seg, wake[1].sleeping)) == 0 &&
	       now_ns() < end)
		sleep_us(200);
	sleep_us(2000); /* let it reach the futex */
	send_ok(p.prod, "w", 1);
	cr_assert_eq(pthread_join(t, &rc), 0);
	cr_assert_eq((intptr_t)rc, SHMRING_OK);
	cr_assert_eq(shmring_get_stats(p.prod, &ps), SHMRING_OK);
	cr_assert_eq(shmring_get_stats(p.cons, &cs), SHMRING_OK);
	cr_assert_eq(ps.wakes, 1);
	cr_assert_geq(cs.waits, 1);
	cr_assert_eq(cs.messages, 1);
	rawseg_unmap(&seg);
}

/*
 * shmring.h: wakes = "times it signalled the sleeping peer: one system call
 * each". While the peer has a signal pending (its wake word is still 1),
 * another signal needs no system call (os_signal() skips FUTEX_WAKE), so it
 * must not be counted. White-box: the consumer's "sleeping" flag is raised
 * by hand, and nobody consumes the signal.
 */
Test(stats, wakes_count_only_signals_that_made_a_system_call, PAIR)
{
	struct rawseg seg;
	shmring_stats st;

	cr_assert_eq(rawseg_map(&seg, p.name, 1), 0);
	wr32(seg.base, offsetof(struct sr_seg, wake[1].sleeping), 1);
	send_ok(p.prod, "1", 1); /* word 0 -> 1: FUTEX_WAKE */
	cr_assert_eq(rd32(seg.base, offsetof(struct sr_seg, wake[1].word)), 1);
	send_ok(p.prod, "2", 1); /* word already 1: no system call */
	send_ok(p.prod, "3", 1);
	cr_assert_eq(shmring_get_stats(p.prod, &st), SHMRING_OK);
	cr_assert_eq(st.wakes, 1, "3 signals, 1 system call, but wakes = %llu",
	             (unsigned long long)st.wakes);
	rawseg_unmap(&seg);
}

Test(set_spin, zero_sleeps_at_once, PAIR)
{
	shmring_stats st;
	const void *d;
	size_t len;

	cr_assert_eq(shmring_set_spin(p.cons, 0), SHMRING_OK);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 5), SHMRING_ETIMEDOUT);
	cr_assert_eq(shmring_get_stats(p.cons, &st), SHMRING_OK);
	cr_assert_geq(st.waits, 1);
}

Test(set_spin, budget_longer_than_the_timeout_never_sleeps, PAIR)
{
	shmring_stats st;
	void *w;

	fill(p.prod, COUNT);
	cr_assert_eq(shmring_set_spin(p.prod, 2000000000u), SHMRING_OK);
	cr_assert_eq(shmring_claim(p.prod, 1, &w, 20), SHMRING_ETIMEDOUT);
	cr_assert_eq(shmring_get_stats(p.prod, &st), SHMRING_OK);
	cr_assert_eq(st.waits, 0, "spun through the whole timeout");
}

/* ---- close and end of stream --------------------------------------------- */

Test(close, of_producer_is_end_of_stream_after_the_drain, PAIR)
{
	const void *d;
	size_t len;

	send_ok(p.prod, "1", 1);
	send_ok(p.prod, "2", 1);
	shmring_close(p.prod);
	p.prod = NULL;
	recv_expect(p.cons, "1", 1);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_arr_eq(d, "2", 1);
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_ECLOSED);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, SHMRING_FOREVER),
	             SHMRING_ECLOSED,
	             "FOREVER does not block at end of stream");
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 100), SHMRING_ECLOSED);
}

Test(close, of_producer_discards_a_pending_claim, PAIR)
{
	void *w;
	size_t len;

	send_ok(p.prod, "kept", 4);
	cr_assert_eq(shmring_claim(p.prod, 4, &w, 0), SHMRING_OK);
	memcpy(w, "lost", 4);
	shmring_close(p.prod);
	p.prod = NULL;
	recv_expect(p.cons, "kept", 4);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_ECLOSED);
}

Test(close, new_producer_after_end_of_stream_continues_the_ring, PAIR)
{
	size_t len;

	send_ok(p.prod, "a", 1);
	shmring_close(p.prod);
	p.prod = NULL;
	recv_expect(p.cons, "a", 1);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_ECLOSED);
	cr_assert_eq(shmring_open(p.name, SHMRING_PRODUCER, &p.prod),
	             SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EAGAIN);
	send_ok(p.prod, "b", 1);
	recv_expect(p.cons, "b", 1);
}

Test(close, of_consumer_makes_send_eclosed_until_a_consumer_attaches, PAIR)
{
	void *w;

	send_ok(p.prod, "x", 1);
	shmring_close(p.cons);
	p.cons = NULL;
	cr_assert_eq(shmring_send(p.prod, "y", 1, 0), SHMRING_ECLOSED);
	cr_assert_eq(shmring_send(p.prod, "y", 1, SHMRING_FOREVER),
	             SHMRING_ECLOSED);
	cr_assert_eq(shmring_claim(p.prod, 1, &w, 50), SHMRING_ECLOSED);
	cr_assert_eq(shmring_open(p.name, SHMRING_CONSUMER, &p.cons),
	             SHMRING_OK);
	send_ok(p.prod, "z", 1);
	recv_expect(p.cons, "x", 1);
	recv_expect(p.cons, "z", 1);
}

Test(close, of_consumer_keeps_a_peeked_message_for_the_next_one, PAIR)
{
	const void *d;
	size_t len;

	send_ok(p.prod, "m1", 2);
	send_ok(p.prod, "m2", 2);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	shmring_close(p.cons);
	cr_assert_eq(shmring_open(p.name, SHMRING_CONSUMER, &p.cons),
	             SHMRING_OK);
	recv_expect(p.cons, "m1", 2);
	recv_expect(p.cons, "m2", 2);
}

Test(close, of_null_is_a_noop)
{
	cr_assert_eq(shmring_close(NULL), SHMRING_OK);
}

/* ---- lifetime ------------------------------------------------------------ */

static char name[TEST_NAME_LEN];
static shmring *a, *b;

static void name_setup(void)
{
	ring_name(name);
}

static void name_teardown(void)
{
	shmring_close(a);
	shmring_close(b);
	a = b = NULL;
	shmring_unlink(name);
}

#define NAMED .init = name_setup, .fini = name_teardown, .timeout = 10

Test(create, null_config_uses_the_defaults, NAMED)
{
	struct rawseg seg;

	cr_assert_eq(shmring_create(name, NULL, SHMRING_CONSUMER, &a),
	             SHMRING_OK);
	cr_assert_eq(shmring_max_msg(a), TEST_DEFAULT_MAX_MSG);
	cr_assert_eq(rawseg_map(&seg, name, 0), 0);
	cr_assert_eq(seg.size, 4096 + 64 * SHMRING_DEFAULT_SLOT_COUNT);
	cr_assert_eq(seg.size, 4096 + 1024 * 1024, "1 MiB of slots");
	rawseg_unmap(&seg);
}

Test(create, producer_may_send_before_the_consumer_attaches, NAMED)
{
	shmring_config cfg = {.slot_size = 16, .slot_count = 4};

	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &a),
	             SHMRING_OK);
	send_ok(a, "early1", 6);
	send_ok(a, "early2", 6);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &b), SHMRING_OK);
	recv_expect(b, "early1", 6);
	recv_expect(b, "early2", 6);
}

Test(create, by_the_consumer_then_open_by_the_producer, NAMED)
{
	size_t len;

	cr_assert_eq(shmring_create(name, NULL, SHMRING_CONSUMER, &a),
	             SHMRING_OK);
	cr_assert_eq(shmring_recv(a, NULL, 0, &len, 0), SHMRING_EAGAIN,
	             "no producer yet is not end of stream");
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &b), SHMRING_OK);
	send_ok(b, "hi", 2);
	recv_expect(a, "hi", 2);
}

Test(create, full_ring_without_consumer_waits_rather_than_failing, NAMED)
{
	shmring_config cfg = {.slot_size = 8, .slot_count = 2};

	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &a),
	             SHMRING_OK);
	fill(a, 2);
	cr_assert_eq(shmring_send(a, "", 0, 0), SHMRING_EAGAIN);
	cr_assert_eq(shmring_send(a, "", 0, 10), SHMRING_ETIMEDOUT);
}

Test(create, returns_eexist_while_a_handle_of_this_process_is_attached, NAMED)
{
	shmring *c = (shmring *)&c;

	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &a),
	             SHMRING_OK);
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &c),
	             SHMRING_EEXIST);
	cr_assert_eq(shmring_create(name, NULL, SHMRING_CONSUMER, &c),
	             SHMRING_EEXIST);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &b), SHMRING_OK);
	shmring_close(a);
	a = NULL;
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &c),
	             SHMRING_EEXIST, "the consumer alone keeps it live");
	cr_assert_eq(c, (shmring *)&c);
}

Test(create, reclaims_a_ring_whose_handles_all_closed, NAMED)
{
	shmring_config cfg = {.slot_size = 16, .slot_count = 4};
	size_t len;

	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &a),
	             SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &b), SHMRING_OK);
	send_ok(a, "old", 3);
	shmring_close(a);
	shmring_close(b);
	a = b = NULL;
	cfg.slot_size = 32;
	cfg.max_msg = 32;
	cr_assert_eq(shmring_create(name, &cfg, SHMRING_CONSUMER, &b),
	             SHMRING_OK);
	cr_assert_eq(shmring_max_msg(b), 32, "a new ring, new geometry");
	cr_assert_eq(shmring_recv(b, NULL, 0, &len, 0), SHMRING_EAGAIN,
	             "the old message went with the old ring");
}

Test(open, returns_ebusy_for_a_role_this_process_holds, NAMED)
{
	shmring *c = (shmring *)&c;

	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &a),
	             SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &c), SHMRING_EBUSY);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &b), SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_EBUSY);
	cr_assert_eq(c, (shmring *)&c);
	send_ok(a, "ok", 2);
	recv_expect(b, "ok", 2);
}

Test(open, role_can_be_reopened_after_close, NAMED)
{
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &a),
	             SHMRING_OK);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &b),
		             SHMRING_OK);
		shmring_close(b);
		b = NULL;
	}
	shmring_close(a);
	a = NULL;
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &a), SHMRING_OK);
}

Test(unlink, removes_the_name_but_attached_handles_keep_working, NAMED)
{
	shmring *c = NULL;

	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &a),
	             SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &b), SHMRING_OK);
	cr_assert_eq(shmring_unlink(name), SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_ENOENT);
	cr_assert_eq(shmring_unlink(name), SHMRING_ENOENT);
	send_ok(a, "still", 5);
	recv_expect(b, "still", 5);
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &c),
	             SHMRING_OK, "a new ring under the old name");
	shmring_close(c);
}
