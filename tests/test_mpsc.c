/* Description: one consumer, many producer handles: the MPSC API. */
/* SPDX-License-Identifier: MIT */
/*
 * The many-producer mode's contract, mostly in one process (each producer
 * handle takes its own entry, so one process may hold several), with
 * forked children where a real death is the point: attach limits and
 * reuse, every producer call, order of reservation, discarded claims,
 * holes of dead producers, end of stream, and hostile words. The streams
 * of many processes and the kill suite are in test_mpsc_ipc.c and
 * tests/stress/. Ring: 16 slots of 64 bytes (max_msg 504) unless said.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "layout.h"
#include "record.h"

#define COUNT 16u
#define MAX   504u
#define NP    3

static char name[TEST_NAME_LEN];
static shmring *cons, *prod[SHMRING_MAX_PRODUCERS + 1];

static void make(uint32_t count)
{
	shmring_config cfg = {
	        .slot_size = 56, .slot_count = count, .flags = SHMRING_F_MPSC};

	ring_name(name);
	cr_assert_eq(shmring_create(name, &cfg, SHMRING_CONSUMER, &cons),
	             SHMRING_OK);
	for (int i = 0; i < NP; i++)
		cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &prod[i]),
		             SHMRING_OK, "producer %d", i);
}

static void setup(void)
{
	make(COUNT);
}

static void teardown(void)
{
	for (unsigned i = 0; i <= SHMRING_MAX_PRODUCERS; i++) {
		shmring_close(prod[i]);
		prod[i] = NULL;
	}
	shmring_close(cons);
	cons = NULL;
	shmring_unlink(name);
}

#define RING .init = setup, .fini = teardown, .timeout = 20

/* Message @seq of producer @p: msg_fill's bytes, the producer first. */
static size_t put(uint8_t *buf, unsigned p, uint64_t seq, size_t len)
{
	msg_fill(buf, len, seq * 64 + p);
	return len;
}

static void send_ok(unsigned p, uint64_t seq, size_t len)
{
	uint8_t buf[MAX];

	put(buf, p, seq, len);
	cr_assert_eq(shmring_send(prod[p], buf, len, 0), SHMRING_OK,
	             "producer %u seq %llu", p, (unsigned long long)seq);
}

static void recv_is(unsigned p, uint64_t seq, size_t len)
{
	uint8_t buf[MAX];
	size_t got = 0;
	int rc = shmring_recv(cons, buf, sizeof buf, &got, 1000);

	cr_assert_eq(rc, SHMRING_OK, "want %u/%llu: %s", p,
	             (unsigned long long)seq, shmring_strerror(rc));
	cr_assert_eq(got, len, "want %u/%llu", p, (unsigned long long)seq);
	cr_assert(msg_is(buf, got, seq * 64 + p), "want %u/%llu", p,
	          (unsigned long long)seq);
}

static void expect_empty(void)
{
	uint8_t buf[MAX];
	size_t got;

	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &got, 0),
	             SHMRING_EAGAIN);
}

static struct rawseg seg_map(void)
{
	struct rawseg s;

	cr_assert_eq(rawseg_map(&s, name, 1), 0);
	return s;
}

static struct sr_seg *S(struct rawseg *s)
{
	return (struct sr_seg *)(void *)s->base;
}

static _Atomic uint64_t *word_at(struct rawseg *s, uint64_t i, uint32_t count)
{
	return (_Atomic uint64_t *)(void *)(s->base + SR_HDR_SIZE +
	                                    (i & (count - 1)) * 64);
}

/* ---- attaching ----------------------------------------------------------- */

Test(mpsc, thirty_two_producers_attach_and_the_next_is_busy, RING)
{
	shmring_info in;

	for (unsigned i = NP; i < SHMRING_MAX_PRODUCERS; i++)
		cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &prod[i]),
		             SHMRING_OK, "producer %u", i);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER,
	                          &prod[SHMRING_MAX_PRODUCERS]),
	             SHMRING_EBUSY);
	cr_assert_null(prod[SHMRING_MAX_PRODUCERS]);
	cr_assert_eq(shmring_inspect(name, &in), SHMRING_OK);
	cr_assert_eq(in.flags, SHMRING_F_MPSC);
	cr_assert_eq(in.producers, SHMRING_MAX_PRODUCERS);
	cr_assert_eq(in.producer.state, SHMRING_ROLE_ATTACHED);
	/* A closed entry is reused. */
	cr_assert_eq(shmring_close(prod[7]), SHMRING_OK);
	prod[7] = NULL;
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &prod[7]),
	             SHMRING_OK);
	/* Each of them sends (16 at a time: the ring's slots). */
	for (unsigned i = 0; i < SHMRING_MAX_PRODUCERS; i += COUNT) {
		for (unsigned j = i; j < i + COUNT; j++)
			send_ok(j, 0, 12);
		for (unsigned j = i; j < i + COUNT; j++)
			recv_is(j, 0, 12);
	}
}

Test(mpsc, a_second_consumer_is_busy, RING)
{
	shmring *c2 = NULL;

	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &c2), SHMRING_EBUSY);
	cr_assert_null(c2);
}

Test(mpsc, a_producer_may_create_the_ring, .timeout = 10)
{
	shmring_config cfg = {.flags = SHMRING_F_MPSC};
	shmring *p0, *p1, *c;
	uint8_t buf[16];
	size_t got;

	ring_name(name);
	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &p0),
	             SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &p1), SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
	cr_assert_eq(shmring_send(p1, "one", 3, 0), SHMRING_OK);
	cr_assert_eq(shmring_send(p0, "zero", 4, 0), SHMRING_OK);
	cr_assert_eq(shmring_recv(c, buf, sizeof buf, &got, 0), SHMRING_OK);
	cr_assert(got == 3 && memcmp(buf, "one", 3) == 0);
	cr_assert_eq(shmring_recv(c, buf, sizeof buf, &got, 0), SHMRING_OK);
	cr_assert(got == 4 && memcmp(buf, "zero", 4) == 0);
	shmring_close(p0);
	shmring_close(p1);
	cr_assert_eq(shmring_recv(c, buf, sizeof buf, &got, 0),
	             SHMRING_ECLOSED);
	shmring_close(c);
	shmring_unlink(name);
}

/* ---- every producer call, in reservation order ----------------------------
 */

Test(mpsc, messages_arrive_in_the_order_their_space_was_claimed, RING)
{
	void *a, *b;

	/* Claims of two producers, committed in the other order: delivered
	 * in claim order, each once the commit at its turn is made. */
	cr_assert_eq(shmring_claim(prod[0], 20, &a, 0), SHMRING_OK);
	cr_assert_eq(shmring_claim(prod[1], 100, &b, 0), SHMRING_OK);
	send_ok(2, 0, 30);
	put(b, 1, 0, 100);
	cr_assert_eq(shmring_commit(prod[1], 100), SHMRING_OK);
	expect_empty(); /* producer 0's claim comes first */
	put(a, 0, 0, 20);
	cr_assert_eq(shmring_commit(prod[0], 20), SHMRING_OK);
	recv_is(0, 0, 20);
	recv_is(1, 0, 100);
	recv_is(2, 0, 30);
	expect_empty();
}

Test(mpsc, sendv_claimv_and_shorter_commits_interleave, RING)
{
	shmring_msg m[3];
	shmring_buf bufs[4] = {{0, 40}, {0, 120}, {0, 8}, {0, 60}};
	uint8_t data[3][MAX];
	size_t n = 0, lens[4] = {40, 70, 8, 0};

	for (unsigned i = 0; i < 3; i++) {
		m[i].len = put(data[i], 0, i, 10 + 50 * i);
		m[i].data = data[i];
	}
	cr_assert_eq(shmring_sendv(prod[0], m, 3, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(shmring_claimv(prod[1], bufs, 4, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 4);
	for (unsigned i = 0; i < 3; i++)
		put(bufs[i].data, 1, i, lens[i]);
	/* Commit three (the second shorter than claimed), discard one. */
	cr_assert_eq(shmring_commitv(prod[1], lens, 3), SHMRING_OK);
	for (unsigned i = 0; i < 3; i++)
		recv_is(0, i, 10 + 50 * i);
	for (unsigned i = 0; i < 3; i++)
		recv_is(1, i, lens[i]);
	expect_empty();
	/* commitv of none discards every claim. */
	cr_assert_eq(shmring_claimv(prod[2], bufs, 2, &n, 0), SHMRING_OK);
	cr_assert_eq(shmring_commitv(prod[2], NULL, 0), SHMRING_OK);
	expect_empty();
	send_ok(2, 9, 9);
	recv_is(2, 9, 9);
}

Test(mpsc, zero_copy_batches_on_the_consumer, RING)
{
	shmring_msg m[8];
	size_t got = 0;

	for (unsigned i = 0; i < 6; i++)
		send_ok(i % NP, i, 8 + i * 30);
	cr_assert_eq(shmring_peekv(cons, m, 8, &got, 0), SHMRING_OK);
	cr_assert_eq(got, 6);
	for (unsigned i = 0; i < 6; i++)
		cr_assert(
		        msg_is(m[i].data, m[i].len, (uint64_t)i * 64 + i % NP));
	cr_assert_eq(shmring_releasev(cons, 2), SHMRING_OK);
	cr_assert_eq(shmring_peekv(cons, m, 8, &got, 0), SHMRING_OK);
	cr_assert_eq(got, 4);
	cr_assert(msg_is(m[0].data, m[0].len, 2 * 64 + 2));
	cr_assert_eq(shmring_releasev(cons, 4), SHMRING_OK);
	expect_empty();
}

Test(mpsc, a_full_ring_is_eagain_and_padding_wraps_it, RING)
{
	uint64_t seq = 0;
	uint8_t buf[MAX];
	size_t got;

	/* 200-byte messages cover 4 slots: 4 fill the ring. */
	for (; seq < 4; seq++)
		send_ok(seq % NP, seq, 200);
	put(buf, 0, 99, 8);
	cr_assert_eq(shmring_send(prod[0], buf, 8, 0), SHMRING_EAGAIN);
	cr_assert_eq(shmring_send(prod[1], buf, 8, 30), SHMRING_ETIMEDOUT);
	recv_is(0, 0, 200);
	/* 3 slots of 4 free again: a 2-slot message fits, then one of 4
	 * must pad the last 2 slots and wait for slot 0's record. */
	send_ok(1, 50, 100);
	cr_assert_eq(shmring_send(prod[2], buf, 200, 0), SHMRING_EAGAIN);
	for (unsigned i = 1; i < 4; i++)
		recv_is(i % NP, i, 200);
	recv_is(1, 50, 100);
	put(buf, 2, 51, 300);
	cr_assert_eq(shmring_send(prod[2], buf, 300, 0), SHMRING_OK);
	recv_is(2, 51, 300);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &got, 0),
	             SHMRING_EAGAIN);
}

Test(mpsc, a_long_stream_of_every_call_wraps_many_laps, RING)
{
	uint64_t sent[NP] = {0}, got[NP] = {0};
	uint8_t buf[MAX];
	size_t n;

	for (unsigned it = 0; it < 20000; it++) {
		unsigned p = (it * 7) % NP;
		size_t len = 12 + msg_size(it, 248); /* >= 12: seq inside */
		void *c;
		int rc;

		if (it % 3 == 0) {
			put(buf, p, sent[p], len);
			rc = shmring_send(prod[p], buf, len, 0);
		} else {
			rc = shmring_claim(prod[p], len, &c, 0);
			if (rc == SHMRING_OK) {
				put(c, p, sent[p], len);
				rc = shmring_commit(prod[p], len);
			}
		}
		if (rc == SHMRING_OK)
			sent[p]++;
		else
			cr_assert_eq(rc, SHMRING_EAGAIN);
		if (it % 2)
			continue;
		while (shmring_recv(cons, buf, sizeof buf, &n, 0) ==
		       SHMRING_OK) {
			unsigned q = 0;

			while (q < NP && !msg_is(buf, n, got[q] * 64 + q))
				q++;
			cr_assert_lt(q, NP, "message from no producer's order");
			got[q]++;
		}
	}
	for (unsigned p = 0; p < NP; p++)
		while (got[p] < sent[p]) {
			cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &n, 0),
			             SHMRING_OK);
			for (unsigned q = 0; q < NP; q++)
				if (msg_is(buf, n, got[q] * 64 + q)) {
					got[q]++;
					break;
				}
		}
	for (unsigned p = 0; p < NP; p++)
		cr_assert_eq(got[p], sent[p]);
}

/* ---- claims left behind ----------------------------------------------------
 */

Test(mpsc, close_with_a_claim_open_discards_it_uncounted, RING)
{
	shmring_stats st;
	void *c;

	cr_assert_eq(shmring_claim(prod[0], 100, &c, 0), SHMRING_OK);
	send_ok(1, 0, 8);
	cr_assert_eq(shmring_close(prod[0]), SHMRING_OK);
	prod[0] = NULL;
	recv_is(1, 0, 8);
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_eq(st.abandoned, 0);
}

/* A child that opens a producer, claims @len bytes (or nothing, for 0),
 * tells its parent and waits to be killed. */
static pid_t claimer(size_t len, _Atomic int *ready)
{
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		shmring *p;
		void *c;

		if (shmring_open(name, SHMRING_PRODUCER, &p) != SHMRING_OK)
			_exit(1);
		if (len && shmring_claim(p, len, &c, 0) != SHMRING_OK)
			_exit(2);
		atomic_store(ready, 1);
		for (;;)
			pause();
	}
	cr_assert(flag_wait(ready, 1, 5000), "child attached");
	return pid;
}

Test(mpsc, the_hole_of_a_dead_producer_is_skipped_and_counted, RING)
{
	_Atomic int *ready = shared_alloc_or_fail(sizeof *ready);
	shmring_stats st;
	shmring_info in;
	uint64_t t0;
	pid_t pid;

	send_ok(0, 0, 8);
	pid = claimer(150, ready);
	send_ok(1, 0, 8);
	recv_is(0, 0, 8);
	expect_empty(); /* the live child's claim blocks the ring */
	kill(pid, SIGKILL);
	cr_assert_eq(child_reap(pid), 128 + SIGKILL);
	t0 = now_ns();
	recv_is(1, 0, 8);
	cr_assert_lt(now_ns() - t0, 200000000u, "passed the hole in %llu ns",
	             (unsigned long long)(now_ns() - t0));
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_eq(st.abandoned, 1);
	shmring_close(cons);
	cons = NULL;
	cr_assert_eq(shmring_inspect(name, &in), SHMRING_OK);
	cr_assert_eq(in.consumer.counters.abandoned, 1);
	shared_free(ready, sizeof *ready);
}

Test(mpsc, a_producer_taking_a_dead_ones_entry_frees_its_hole, RING)
{
	_Atomic int *ready = shared_alloc_or_fail(sizeof *ready);
	shmring_stats st;
	pid_t pid;

	/* Every entry but one held: the next open must take the dead one's,
	 * after which the claim below `since` is its predecessor's. */
	for (unsigned i = NP; i < SHMRING_MAX_PRODUCERS - 1; i++)
		cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &prod[i]),
		             SHMRING_OK);
	pid = claimer(40, ready);
	kill(pid, SIGKILL);
	cr_assert_eq(child_reap(pid), 128 + SIGKILL);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER,
	                          &prod[SHMRING_MAX_PRODUCERS - 1]),
	             SHMRING_OK);
	send_ok(SHMRING_MAX_PRODUCERS - 1, 0, 8);
	recv_is(SHMRING_MAX_PRODUCERS - 1, 0, 8);
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_eq(st.abandoned, 1);
	shared_free(ready, sizeof *ready);
}

/* ---- end of stream ----------------------------------------------------------
 */

Test(mpsc, eclosed_only_once_every_producer_closed, RING)
{
	uint8_t buf[MAX];
	size_t got;

	send_ok(0, 0, 8);
	shmring_close(prod[0]);
	shmring_close(prod[1]);
	prod[0] = prod[1] = NULL;
	recv_is(0, 0, 8);
	expect_empty(); /* producer 2 is still attached */
	shmring_close(prod[2]);
	prod[2] = NULL;
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &got, 1000),
	             SHMRING_ECLOSED);
	/* A producer that comes later makes the stream go on. */
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &prod[0]),
	             SHMRING_OK);
	expect_empty();
	send_ok(0, 1, 8);
	recv_is(0, 1, 8);
}

Test(mpsc, no_producer_yet_is_a_wait_not_an_end, .timeout = 10)
{
	shmring_config cfg = {.flags = SHMRING_F_MPSC};
	uint8_t buf[8];
	size_t got;

	ring_name(name);
	cr_assert_eq(shmring_create(name, &cfg, SHMRING_CONSUMER, &cons),
	             SHMRING_OK);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &got, 0),
	             SHMRING_EAGAIN);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &got, 60),
	             SHMRING_ETIMEDOUT);
	shmring_close(cons);
	cons = NULL;
	shmring_unlink(name);
}

Test(mpsc, epeerdead_when_the_producers_left_are_dead, RING)
{
	_Atomic int *ready = shared_alloc_or_fail(sizeof *ready);
	uint8_t buf[MAX];
	size_t got;
	pid_t pid;

	pid = claimer(0, ready);
	send_ok(0, 0, 8);
	for (int i = 0; i < NP; i++) {
		shmring_close(prod[i]);
		prod[i] = NULL;
	}
	recv_is(0, 0, 8);
	expect_empty(); /* the child lives */
	kill(pid, SIGKILL);
	cr_assert_eq(child_reap(pid), 128 + SIGKILL);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &got, 1000),
	             SHMRING_EPEERDEAD);
	shared_free(ready, sizeof *ready);
}

Test(mpsc, producers_see_the_consumer_close, RING)
{
	uint8_t buf[8] = {0};

	shmring_close(cons);
	cons = NULL;
	for (int i = 0; i < NP; i++)
		cr_assert_eq(shmring_send(prod[i], buf, 8, 0), SHMRING_ECLOSED);
}

/* A producer thread blocked on a full ring, no spin: woken by a release. */
static void *fill_one_more(void *arg)
{
	uint8_t buf[MAX];

	(void)arg;
	put(buf, 2, 9, 200);
	return (void *)(intptr_t)shmring_send(prod[2], buf, 200, 5000);
}

/* The ring is full of four 4-slot records; producer 2 sleeps for 4 slots
 * at 16 with threshold 16 + max(4, 16 / 2) - 16 = 8 (sr_mp_wake_at): the
 * first release (tail 4) gives it room but does not wake it; it gets
 * there by the release that reaches 8 or by its own slice's re-check. */
Test(mpsc, a_sleeping_producer_stores_its_threshold_and_gets_its_room, RING)
{
	struct rawseg s = seg_map();
	shmring_stats st;
	pthread_t t;
	void *rc;
	int i;

	for (unsigned m = 0; m < 4; m++)
		send_ok(0, m, 200);
	shmring_set_spin(prod[2], 0);
	cr_assert_eq(pthread_create(&t, NULL, fill_one_more, NULL), 0);
	for (i = 0; i < 4000 && !(atomic_load(&S(&s)->mp.sleepers) & 4u); i++)
		sleep_us(500);
	cr_assert_lt(i, 4000, "producer 2 sleeps (its sleepers bit)");
	cr_assert_eq(atomic_load(&S(&s)->mp.prod[2].wake_at), 8);
	recv_is(0, 0, 200);
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_eq(st.wakes, 0, "tail 4 is below the threshold 8");
	for (unsigned m = 1; m < 4; m++)
		recv_is(0, m, 200);
	cr_assert_eq(pthread_join(t, &rc), 0);
	cr_assert_eq((intptr_t)rc, SHMRING_OK);
	cr_assert_eq(shmring_get_stats(prod[2], &st), SHMRING_OK);
	cr_assert_geq(st.waits, 1);
	recv_is(2, 9, 200);
	rawseg_unmap(&s);
}

/* The consumer's side of the threshold, with a sleeper made by hand in
 * entry 7 (no holder: the decision reads only the bit and wake_at). */
Test(mpsc, a_release_wakes_a_sleeper_once_tail_reaches_its_threshold, RING)
{
	struct rawseg s = seg_map();
	struct sr_mp_prod *e = &S(&s)->mp.prod[7];
	shmring_stats st;

	for (unsigned m = 0; m < 4; m++)
		send_ok(0, m, 200);
	atomic_store(&e->wake_at, 8);
	atomic_fetch_or(&S(&s)->mp.sleepers, UINT64_C(1) << 7);
	recv_is(0, 0, 200); /* tail 4 */
	cr_assert(atomic_load(&S(&s)->mp.sleepers) & (UINT64_C(1) << 7));
	cr_assert_eq(atomic_load(&e->word), 0, "not signalled below it");
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_eq(st.wakes, 0);
	recv_is(0, 1, 200); /* tail 8 */
	cr_assert_eq(atomic_load(&S(&s)->mp.sleepers) & (UINT64_C(1) << 7), 0,
	             "its bit taken");
	cr_assert_eq(atomic_load(&e->word), 1, "signalled");
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_eq(st.wakes, 1);
	recv_is(0, 2, 200);
	recv_is(0, 3, 200);
	rawseg_unmap(&s);
}

/* A consumer about to sleep wakes every sleeper, its threshold reached or
 * not: the tail may wait behind a claim held open (sr_mp_wake_at). */
Test(mpsc, a_consumer_about_to_sleep_wakes_every_sleeper, RING)
{
	struct rawseg s = seg_map();
	struct sr_mp_prod *e = &S(&s)->mp.prod[7];
	uint8_t buf[MAX];
	shmring_stats st;
	size_t got;

	atomic_store(&e->wake_at, 1000);
	atomic_fetch_or(&S(&s)->mp.sleepers, UINT64_C(1) << 7);
	shmring_set_spin(cons, 0);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &got, 100),
	             SHMRING_ETIMEDOUT);
	cr_assert_eq(atomic_load(&S(&s)->mp.sleepers) & (UINT64_C(1) << 7), 0);
	cr_assert_eq(atomic_load(&e->word), 1, "signalled");
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_geq(st.wakes, 1);
	rawseg_unmap(&s);
}

/* ---- hostile words ----------------------------------------------------------
 */

Test(mpsc, a_word_no_producer_writes_is_ebadfmt, RING)
{
	struct rawseg s = seg_map();
	uint8_t buf[MAX];
	size_t got;

	send_ok(0, 0, 8);
	atomic_store(word_at(&s, 0, COUNT), UINT64_C(0x123456789abcdef));
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &got, 0),
	             SHMRING_EBADFMT);
	/* A claim reaching past the end of the ring. */
	atomic_store(word_at(&s, 0, COUNT),
	             sr_rec_word(SR_REC_RESV, sr_resv_len(0, COUNT + 1), 0, 4));
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &got, 0),
	             SHMRING_EBADFMT);
	rawseg_unmap(&s);
}

Test(mpsc, a_head_far_past_the_tail_is_ebadfmt_for_producers, RING)
{
	struct rawseg s = seg_map();
	uint8_t buf[8] = {0};

	atomic_store(&S(&s)->head.value, 5 * COUNT);
	/* Its word is FREE of lap 0, not of lap 5: nothing a consumer
	 * freed, and the head read twice says it is not stale. */
	cr_assert_eq(shmring_send(prod[0], buf, 8, 0), SHMRING_EBADFMT);
	rawseg_unmap(&s);
}

Test(mpsc, a_slot_a_dead_consumer_freed_is_skipped, RING)
{
	struct rawseg s = seg_map();

	send_ok(0, 0, 8);
	send_ok(1, 0, 8);
	/* As a consumer killed after freeing slot 0, before its tail store. */
	atomic_store(word_at(&s, 0, COUNT),
	             sr_free_word(S(&s)->hdr.mp_key, COUNT, 4));
	recv_is(1, 0, 8);
	expect_empty();
	rawseg_unmap(&s);
}

Test(mpsc, a_spsc_handle_rejects_nothing_new, .timeout = 10)
{
	struct pair p;
	shmring *p2 = NULL;

	/* Without the flag a second producer is still busy. */
	pair_open_or_fail(&p, 0, 0);
	cr_assert_eq(shmring_open(p.name, SHMRING_PRODUCER, &p2),
	             SHMRING_EBUSY);
	pair_close(&p);
}
