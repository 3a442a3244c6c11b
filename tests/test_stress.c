/* Description: two threads stream ~1M checked messages. */
/* SPDX-License-Identifier: MIT */
/*
 * One process, two threads, one handle each: no fork, so the test runs
 * under ThreadSanitizer. Every data call is used on both sides (single,
 * batch, zero-copy and zero-copy batch), message sizes vary from 0 to
 * max_msg (one slot, or up to 64 slots with padding at the wrap), and each side
 * pauses now and then and switches its spin budget, so that both the spinning
 * and the sleeping paths run many times. SHMRING_STRESS_MSGS overrides the
 * message count.
 *
 * Under TSan (built with -DTEST_STANDALONE, see tests/meson.build) note that
 * each handle maps the segment at its own address, so TSan checks the
 * handles' private state and this test, not the slots across the mappings:
 * the checksums are what catch a torn or lost message.
 */
#ifndef TEST_STANDALONE
#include <criterion/criterion.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define ST_SLOT  200
#define ST_COUNT 16
/* multi-slot: 32-byte strides, 64 slots, default max_msg 64 * 32 / 2 - 8 */
#define ST2_SLOT  24
#define ST2_COUNT 64
#define ST2_MAX   1016
#define ST_BUF    ST2_MAX

struct side {
	shmring *r;
	uint64_t n;
	uint64_t seed;
	uint64_t first_bad; /* 1-based; 0 = none */
	uint32_t spin;      /* budget when spinning is on */
	size_t max;         /* largest message */
	int rc;
	shmring_stats st;
};

static struct pair p;

static void setup(void)
{
	pair_open_or_fail(&p, ST_SLOT, ST_COUNT);
}

static void setup_multi_slot(void)
{
	shmring_config cfg = {.slot_size = ST2_SLOT, .slot_count = ST2_COUNT};

	pair_open_cfg_or_fail(&p, &cfg);
	cr_assert_eq(shmring_max_msg(p.cons), ST2_MAX);
}

static void teardown(void)
{
	pair_close(&p);
}

static uint64_t count_from_env(uint64_t dflt)
{
	const char *s = getenv("SHMRING_STRESS_MSGS");
	unsigned long long v = s ? strtoull(s, NULL, 10) : 0;

	return v ? v : dflt;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Now and then pause (the peer must wait) and toggle spinning. */
static void maybe_pause(struct side *s)
{
	uint64_t x = rnd(&s->seed);

	if (x % 8192 != 0)
		return;
	sleep_us((unsigned)((x >> 16) % 500));
	shmring_set_spin(s->r, (x >> 40) & 1 ? 0 : s->spin);
}

#define ST_BATCH 8 /* largest shmring_sendv / shmring_recvv batch */

/* 1..ST_BATCH, not past the side's last message */
static size_t batch_len(const struct side *s, uint64_t seq, uint64_t x)
{
	size_t k = 1 + (size_t)((x >> 8) % ST_BATCH);

	return k > s->n - seq ? (size_t)(s->n - seq) : k;
}

/* Send, claim+commit, sendv or claimv+commitv at random. */
static void *producer_main(void *arg)
{
	struct side *s = arg;
	uint8_t msg[ST_BUF];
	void *w;

	for (uint64_t seq = 0; seq < s->n && s->rc == SHMRING_OK; seq++) {
		size_t len = msg_size(seq, s->max);
		uint64_t x = rnd(&s->seed);

		if (x % 4 == 0) {
			msg_fill(msg, len, seq);
			s->rc = shmring_send(s->r, msg, len, SHMRING_FOREVER);
		} else if (x % 4 >= 2) {
			size_t sent;

			s->rc = x % 4 == 2
			                ? msgs_sendv(s->r, seq,
			                             batch_len(s, seq, x),
			                             s->max, &sent)
			                : msgs_claimv(s->r, seq,
			                              batch_len(s, seq, x),
			                              s->max, x >> 20, &sent);
			if (s->rc != SHMRING_OK)
				break;
			seq += sent - 1;
		} else {
			s->rc = shmring_claim(s->r, x & 2 ? s->max : len, &w,
			                      SHMRING_FOREVER);
			if (s->rc == SHMRING_OK) {
				msg_fill(w, len, seq);
				s->rc = shmring_commit(s->r, len);
			}
		}
		maybe_pause(s);
	}
	shmring_get_stats(s->r, &s->st);
	return NULL;
}

/* Recv, peek+release, recvv or peekv+releasev at random. */
static void consume(struct side *s)
{
	uint8_t buf[ST_BUF];
	const void *d;
	size_t len;

	for (uint64_t seq = 0; seq < s->n; seq++) {
		uint64_t x = rnd(&s->seed), bad;
		int ok;

		if (x % 4 >= 2) {
			size_t got;

			s->rc = x % 4 == 2 ? msgs_recvv(s->r, seq,
			                                batch_len(s, seq, x),
			                                s->max, &got, &bad)
			                   : msgs_peekv(s->r, seq,
			                                batch_len(s, seq, x),
			                                s->max, x >> 20, &got,
			                                &bad);
			if (bad || s->rc != SHMRING_OK || got == 0) {
				s->first_bad = seq + (bad ? bad : 1);
				break;
			}
			seq += got - 1;
			maybe_pause(s);
			continue;
		}
		if (x & 1) {
			s->rc = shmring_recv(s->r, buf, sizeof buf, &len,
			                     SHMRING_FOREVER);
			ok = s->rc == SHMRING_OK &&
			     msg_check(buf, len, seq, s->max);
		} else {
			s->rc = shmring_peek(s->r, &d, &len, SHMRING_FOREVER);
			ok = s->rc == SHMRING_OK &&
			     msg_check(d, len, seq, s->max);
			if (s->rc == SHMRING_OK)
				s->rc = shmring_release(s->r);
		}
		if (!ok || s->rc != SHMRING_OK) {
			s->first_bad = seq + 1;
			break;
		}
		maybe_pause(s);
	}
	shmring_get_stats(s->r, &s->st);
}

static void run_stream(uint64_t n, uint32_t spin)
{
	size_t max = shmring_max_msg(p.prod);
	struct side prod = {.r = p.prod,
	                    .n = n,
	                    .seed = 0x9e3779b97f4a7c15u,
	                    .spin = spin,
	                    .max = max};
	struct side cons = {.r = p.cons,
	                    .n = n,
	                    .seed = 0xbf58476d1ce4e5b9u,
	                    .spin = spin,
	                    .max = max};
	uint64_t t0 = now_ns();
	pthread_t th;
	size_t len;

	shmring_set_spin(p.prod, spin);
	shmring_set_spin(p.cons, spin);
	cr_assert_eq(pthread_create(&th, NULL, producer_main, &prod), 0);
	consume(&cons);
	if (cons.first_bad) { /* unblock a producer waiting for room */
		shmring_close(p.cons);
		p.cons = NULL;
	}
	pthread_join(th, NULL);
	cr_assert_eq(cons.first_bad, 0, "message %llu: %s",
	             (unsigned long long)cons.first_bad - 1,
	             shmring_strerror(cons.rc));
	cr_assert_eq(prod.rc, SHMRING_OK, "producer: %s",
	             shmring_strerror(prod.rc));
	shmring_close(p.prod);
	p.prod = NULL;
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 1000), SHMRING_ECLOSED,
	             "nothing more than was sent");
	fprintf(stderr,
	        "stress: %llu msgs in %.0f ms; producer slept %llu woke %llu, "
	        "consumer slept %llu woke %llu\n",
	        (unsigned long long)n, (double)(now_ns() - t0) / 1e6,
	        (unsigned long long)prod.st.waits,
	        (unsigned long long)prod.st.wakes,
	        (unsigned long long)cons.st.waits,
	        (unsigned long long)cons.st.wakes);
	cr_assert_eq(prod.st.messages, n);
	cr_assert_eq(cons.st.messages, n);
	cr_assert_gt(prod.st.waits, 0, "the producer never slept");
	cr_assert_gt(cons.st.waits, 0, "the consumer never slept");
}

#ifndef TEST_STANDALONE
Test(stress, two_threads_stream_a_million_checked_messages, .init = setup,
     .fini = teardown, .timeout = 600)
{
	run_stream(count_from_env(1000000), SHMRING_DEFAULT_SPIN_NS);
}

Test(stress, two_threads_that_sleep_at_once_deliver_everything, .init = setup,
     .fini = teardown, .timeout = 600)
{
	run_stream(count_from_env(1000000) / 5, 0);
}

Test(stress, two_threads_stream_records_of_many_slots, .init = setup_multi_slot,
     .fini = teardown, .timeout = 600)
{
	run_stream(count_from_env(1000000) / 4, SHMRING_DEFAULT_SPIN_NS);
}

static void setup_full_fences(void)
{
	setenv("SHMRING_FENCE", "full", 1); /* read when a handle attaches */
	setup();
}

Test(stress, two_threads_with_full_fences_deliver_everything,
     .init = setup_full_fences, .fini = teardown, .timeout = 600)
{
	run_stream(count_from_env(1000000) / 5, SHMRING_DEFAULT_SPIN_NS);
}
#else
/* The same tests as a plain program, for ThreadSanitizer builds. */
int main(void)
{
	setup();
	run_stream(count_from_env(1000000), SHMRING_DEFAULT_SPIN_NS);
	teardown();
	setup();
	run_stream(count_from_env(1000000) / 5, 0);
	teardown();
	setup_multi_slot();
	run_stream(count_from_env(1000000) / 4, SHMRING_DEFAULT_SPIN_NS);
	teardown();
	setenv("SHMRING_FENCE", "full", 1);
	setup();
	run_stream(count_from_env(1000000) / 5, SHMRING_DEFAULT_SPIN_NS);
	teardown();
	printf("stress: 4 passed, 0 failed\n");
	return 0;
}
#endif
