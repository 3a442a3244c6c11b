/* Description: N producer threads, one consumer thread (SHMRING_F_MPSC). */
/* SPDX-License-Identifier: MIT */
/*
 * One process, N producer threads with a handle each and one consumer
 * thread on a ring created with SHMRING_F_MPSC: no fork, so the test runs
 * under ThreadSanitizer (built with -DTEST_STANDALONE, see
 * tests/meson.build). Every producer call is used (send, sendv,
 * claim/commit committed shorter, claimv/commitv of all or fewer than
 * claimed) and every consumer call (recv, recv into a too-small buffer,
 * recvv, peek/release, peekv/releasev in parts); message sizes run from
 * the header to max_msg, so records span one slot or hundreds and wrap
 * with padding; both sides pause now and then. Each message carries its
 * stream (producer) and sequence number and a checksum, so the consumer
 * checks per stream: in order, exactly once, whole; the stream ends with
 * SHMRING_ECLOSED once every producer closed. SHMRING_STRESS_MSGS
 * overrides the message count of the first run (the others are scaled
 * from it).
 *
 * As in test_stress.c, each handle maps the segment at its own address,
 * so TSan checks the handles' private state and this test, not the slots
 * across mappings: the checksums catch a torn or lost message.
 */
#ifndef TEST_STANDALONE
#include <criterion/criterion.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "mpsc_msg.h"

#define MAXP     SHMRING_MAX_PRODUCERS
#define MM_BATCH 8
#define MM_SMALL 40 /* the too-small recv buffer */

struct run {
	char name[TEST_NAME_LEN];
	struct mm_stream mm; /* stamps ~seq */
	uint32_t nprod, spin;
	uint64_t per; /* messages per producer */
	_Atomic int attached;
	/* results */
	uint64_t p_sent[MAXP];
	int p_rc[MAXP];
	uint64_t p_waits, p_calls[5];
	_Atomic uint64_t c_next[MAXP];
	uint64_t c_total, c_calls[6], c_waits;
	int c_rc;
	char err[256];
};

struct prod {
	struct run *r;
	shmring *h;
	uint32_t id;
	uint64_t seq, rng;
	uint8_t *buf;
	shmring_stats st;
	uint64_t calls[5];
};

static uint64_t count_from_env(uint64_t dflt)
{
	const char *s = getenv("SHMRING_STRESS_MSGS");
	unsigned long long v = s ? strtoull(s, NULL, 10) : 0;

	return v ? v : dflt;
}

/* ---- producers ---------------------------------------------------------- */

static int prod_step(struct prod *p)
{
	const struct run *r = p->r;
	uint64_t x = mm_rnd(&p->rng), big = mm_rnd(&p->rng);
	int to = mm_timeout(x >> 8, 1), rc;
	size_t k = 1 + (size_t)((x >> 16) % MM_BATCH), n = 0, len, m;
	size_t lens[MM_BATCH];

	if (k > r->per - p->seq)
		k = (size_t)(r->per - p->seq);
	switch (x % 4) {
	case 0:
		len = mm_len(&r->mm, p->id, p->seq);
		mm_fill(&r->mm, p->buf, len, p->id, p->seq, 0);
		rc = shmring_send(p->h, p->buf, len, to);
		p->seq += rc == SHMRING_OK;
		p->calls[0]++;
		break;
	case 1: {
		shmring_msg v[MM_BATCH];
		mm_fillv(&r->mm, v, p->buf, k, p->id, p->seq, 0);
		rc = shmring_sendv(p->h, v, k, &n, to);
		p->seq += n;
		p->calls[1]++;
		break;
	}
	case 2: {
		void *w;
		len = mm_len(&r->mm, p->id, p->seq);
		rc = shmring_claim(p->h, big & 1 ? r->mm.max : len, &w, to);
		if (rc != SHMRING_OK)
			break;
		mm_fill(&r->mm, w, len, p->id, p->seq, 0);
		rc = shmring_commit(p->h, len);
		p->seq += rc == SHMRING_OK;
		p->calls[2]++;
		break;
	}
	default: {
		shmring_buf b[MM_BATCH];
		int exact =
		        mm_claim_sizes(&r->mm, b, lens, k, p->id, p->seq, big);
		rc = shmring_claimv(p->h, b, k, &n, to);
		if (rc != SHMRING_OK)
			break;
		for (size_t i = 0; i < n; i++)
			mm_fill(&r->mm, b[i].data, lens[i], p->id, p->seq + i,
			        0);
		m = (big >> 30) % 4 == 0 ? (size_t)((big >> 32) % n) : n;
		rc = shmring_commitv(p->h, exact ? NULL : lens, m);
		if (rc == SHMRING_OK)
			p->seq += m;
		p->calls[3]++;
		p->calls[4] += m < n;
		break;
	}
	}
	if ((big >> 40) % 4096 == 0) { /* pause; sleep at once or spin */
		sleep_us((unsigned)((big >> 48) % 400));
		shmring_set_spin(p->h, (big >> 47) & 1 ? 0 : r->spin);
	}
	return mm_retry(rc) ? SHMRING_OK : rc;
}

static void *producer_main(void *arg)
{
	struct prod *p = arg;
	struct run *r = p->r;
	int rc = shmring_open(r->name, SHMRING_PRODUCER, &p->h);

	if (rc == SHMRING_OK) {
		shmring_set_spin(p->h, r->spin);
		p->buf = malloc((size_t)MM_BATCH * r->mm.max);
		rc = p->buf ? SHMRING_OK : SHMRING_ENOMEM;
	}
	atomic_fetch_add(&r->attached, 1);
	while (rc == SHMRING_OK && p->seq < r->per)
		rc = prod_step(p);
	r->p_rc[p->id] = rc;
	r->p_sent[p->id] = p->seq;
	if (p->h) {
		shmring_get_stats(p->h, &p->st);
		shmring_close(p->h); /* end of this producer's stream */
	}
	free(p->buf);
	return NULL;
}

/* ---- the consumer ------------------------------------------------------- */

static int cons_fail(struct run *r, const char *what, uint32_t id, uint64_t seq,
                     uint64_t want)
{
	if (!r->err[0])
		snprintf(r->err, sizeof r->err,
		         "stream %u: message %llu (%llu due): %s", id,
		         (unsigned long long)seq, (unsigned long long)want,
		         what);
	return 1000;
}

/* One message: the next of its stream, whole. 0 or cons_fail. */
static int cons_check(struct run *r, const void *data, size_t len)
{
	struct mm_hdr h;
	enum mm_verdict v =
	        mm_check(&r->mm, r->c_next, r->nprod, data, len, &h);

	if (v != MM_OK) /* a short one: its length as its number */
		return cons_fail(r, mm_what(v), h.id,
		                 v == MM_SHORT ? len : h.seq, h.due);
	r->c_total++;
	return 0;
}

static int cons_step(struct run *r, shmring *h, uint8_t *buf, uint64_t *rng)
{
	uint64_t x = mm_rnd(rng);
	size_t k = 1 + (size_t)((x >> 16) % MM_BATCH), len, n;
	int to = (x >> 8) % 16 == 0 ? SHMRING_NOWAIT : 1000, rc, bad = 0;
	const void *d;

	switch (x % 5) {
	case 0:
		rc = shmring_recv(h, buf, r->mm.max, &len, to);
		if (rc == SHMRING_OK)
			bad = cons_check(r, buf, len);
		r->c_calls[0]++;
		break;
	case 1:
		rc = shmring_recv(h, buf, MM_SMALL, &len, to);
		if (rc == SHMRING_EMSGSIZE) {
			size_t need = len;
			r->c_calls[1]++;
			rc = shmring_recv(h, buf, r->mm.max, &len,
			                  SHMRING_NOWAIT);
			if (rc == SHMRING_OK && len != need)
				return cons_fail(r, "EMSGSIZE len", 0, need,
				                 len);
		}
		if (rc == SHMRING_OK)
			bad = cons_check(r, buf, len);
		break;
	case 2: {
		shmring_buf v[MM_BATCH];
		for (size_t i = 0; i < k; i++)
			v[i] = (shmring_buf){buf + i * r->mm.max, r->mm.max};
		rc = shmring_recvv(h, v, k, &n, to);
		for (size_t i = 0; rc == SHMRING_OK && i < n && !bad; i++)
			bad = cons_check(r, v[i].data, v[i].len);
		r->c_calls[2]++;
		break;
	}
	case 3:
		rc = shmring_peek(h, &d, &len, to);
		if (rc == SHMRING_OK) {
			bad = cons_check(r, d, len);
			if (!bad)
				rc = shmring_release(h);
		}
		r->c_calls[3]++;
		break;
	default: {
		shmring_msg a[MM_BATCH], b[MM_BATCH];
		size_t first, again;
		rc = shmring_peekv(h, a, k, &n, to);
		r->c_calls[4]++;
		if (rc != SHMRING_OK)
			break;
		for (size_t i = 0; i < n && !bad; i++)
			bad = cons_check(r, a[i].data, a[i].len);
		if (bad)
			break;
		first = 1 + (size_t)((x >> 40) % n);
		rc = shmring_releasev(h, first);
		if (rc == SHMRING_OK && first < n) {
			r->c_calls[5]++;
			rc = shmring_peekv(h, b, n - first, &again, 0);
			if (rc == SHMRING_OK && again != n - first)
				return cons_fail(r, "peekv again", 0, again,
				                 n - first);
			for (size_t i = 0; rc == SHMRING_OK && i < again; i++)
				if (b[i].data != a[first + i].data)
					return cons_fail(r, "peekv moved", 0, i,
					                 first);
			if (rc == SHMRING_OK)
				rc = shmring_releasev(h, n - first);
		}
		break;
	}
	}
	if (bad)
		return bad;
	if ((x >> 48) % 4096 == 0) {
		sleep_us((unsigned)((x >> 24) % 400));
		shmring_set_spin(h, (x >> 47) & 1 ? 0 : r->spin);
	}
	return mm_retry(rc) ? SHMRING_OK : rc;
}

/* ---- a run -------------------------------------------------------------- */

static void run_mpsc(uint32_t nprod, uint32_t slot_size, uint32_t count,
                     uint32_t max, uint64_t total, uint32_t spin)
{
	static struct run r; /* big enough not to live on the stack */
	shmring_config cfg = {.slot_size = slot_size,
	                      .slot_count = count,
	                      .flags = SHMRING_F_MPSC,
	                      .max_msg = max};
	struct prod p[MAXP];
	pthread_t th[MAXP];
	shmring *h = NULL;
	shmring_stats st;
	uint64_t t0 = now_ns(), rng, deadline;
	uint8_t *buf;
	int rc;

	memset(&r, 0, sizeof r);
	memset(p, 0, sizeof p);
	ring_name(r.name);
	r.mm = (struct mm_stream){.seed = 0x243f6a8885a308d3u ^ t0,
	                          .max = max,
	                          .one = ((8u + slot_size + 15u) & ~15u) - 8u,
	                          .stamp_key = UINT64_MAX};
	r.nprod = nprod;
	r.per = total / nprod;
	r.spin = spin;
	rng = r.mm.seed ^ 0xc0ffee;
	rc = shmring_create(r.name, &cfg, SHMRING_CONSUMER, &h);
	cr_assert_eq(rc, SHMRING_OK, "create MPSC: %s", shmring_strerror(rc));
	shmring_set_spin(h, spin);
	buf = malloc((size_t)MM_BATCH * max);
	cr_assert(buf != NULL, "malloc");
	for (uint32_t i = 0; i < nprod; i++) {
		p[i] = (struct prod){
		        .r = &r, .id = i, .rng = mm_mix(r.mm.seed + i + 1)};
		cr_assert_eq(pthread_create(&th[i], NULL, producer_main, &p[i]),
		             0, "thread");
	}
	/* no end of stream before every producer attached once */
	while (atomic_load(&r.attached) < (int)nprod)
		sleep_us(100);
	shmring_unlink(r.name); /* attached handles work on; none is left */
	deadline = now_ns() + UINT64_C(500) * 1000000000u;
	do
		rc = cons_step(&r, h, buf, &rng);
	while (rc == SHMRING_OK && now_ns() < deadline);
	r.c_rc = rc;
	shmring_get_stats(h, &st);
	if (rc != SHMRING_ECLOSED) { /* unblock producers waiting for room */
		shmring_close(h);
		h = NULL;
	}
	for (uint32_t i = 0; i < nprod; i++) {
		pthread_join(th[i], NULL);
		r.p_waits += p[i].st.waits;
		for (int k = 0; k < 5; k++)
			r.p_calls[k] += p[i].calls[k];
	}
	fprintf(stderr,
	        "mpsc-stress: %u producers, %ux%u max %u, spin %u: %llu msgs "
	        "in %.0f ms; producers slept %llu, consumer slept %llu; "
	        "send %llu sendv %llu claim %llu claimv %llu (fewer %llu); "
	        "recv %llu small %llu recvv %llu peek %llu peekv %llu "
	        "(parts %llu); end %s\n",
	        nprod, slot_size, count, max, spin,
	        (unsigned long long)r.c_total, (double)(now_ns() - t0) / 1e6,
	        (unsigned long long)r.p_waits, (unsigned long long)st.waits,
	        (unsigned long long)r.p_calls[0],
	        (unsigned long long)r.p_calls[1],
	        (unsigned long long)r.p_calls[2],
	        (unsigned long long)r.p_calls[3],
	        (unsigned long long)r.p_calls[4],
	        (unsigned long long)r.c_calls[0],
	        (unsigned long long)r.c_calls[1],
	        (unsigned long long)r.c_calls[2],
	        (unsigned long long)r.c_calls[3],
	        (unsigned long long)r.c_calls[4],
	        (unsigned long long)r.c_calls[5], shmring_strerror(rc));
	cr_assert(r.err[0] == 0, "consumer: %s", r.err);
	cr_assert_eq(rc, SHMRING_ECLOSED, "end of stream: %s",
	             shmring_strerror(rc));
	for (uint32_t i = 0; i < nprod; i++) {
		cr_assert_eq(r.p_rc[i], SHMRING_OK, "producer %u: %s", i,
		             shmring_strerror(r.p_rc[i]));
		cr_assert_eq(r.p_sent[i], r.per, "producer %u sent %llu", i,
		             (unsigned long long)r.p_sent[i]);
		cr_assert_eq(r.c_next[i], r.per, "stream %u: %llu delivered", i,
		             (unsigned long long)r.c_next[i]);
		cr_assert_eq(p[i].st.messages, r.per);
	}
	cr_assert_eq(st.messages, r.per * nprod);
	cr_assert_eq(st.abandoned, 0);
	shmring_close(h);
	free(buf);
}

#ifndef TEST_STANDALONE
Test(mpsc_stress, four_producer_threads_stream_checked_multi_slot_messages,
     .timeout = 600)
{
	run_mpsc(4, 56, 1024, 4096, count_from_env(400000),
	         SHMRING_DEFAULT_SPIN_NS);
}

Test(mpsc_stress, four_producer_threads_that_sleep_at_once_deliver_everything,
     .timeout = 600)
{
	run_mpsc(4, 8, 512, 2000, count_from_env(400000) / 4, 0);
}

Test(mpsc_stress, eight_producer_threads_on_a_small_ring_of_big_slots,
     .timeout = 600)
{
	run_mpsc(8, 248, 64, 3000, count_from_env(400000) / 2,
	         SHMRING_DEFAULT_SPIN_NS);
}

Test(mpsc_stress, thirty_two_producer_threads_deliver_everything,
     .timeout = 600)
{
	run_mpsc(MAXP, 56, 256, 1000, count_from_env(400000) / 4,
	         SHMRING_DEFAULT_SPIN_NS);
}
#else
/* The same runs as a plain program, for ThreadSanitizer builds: a
 * quarter of the messages by default (TSan runs them ~10x slower; the
 * interleavings it checks come from the threads, not the count). */
int main(void)
{
	uint64_t n = count_from_env(100000);

	run_mpsc(4, 56, 1024, 4096, n, SHMRING_DEFAULT_SPIN_NS);
	run_mpsc(4, 8, 512, 2000, n / 4, 0);
	run_mpsc(8, 248, 64, 3000, n / 2, SHMRING_DEFAULT_SPIN_NS);
	run_mpsc(MAXP, 56, 256, 1000, n / 4, SHMRING_DEFAULT_SPIN_NS);
	printf("mpsc-stress: 4 passed, 0 failed\n");
	return 0;
}
#endif
