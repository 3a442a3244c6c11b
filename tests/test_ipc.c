/* Description: real processes: close, death, takeover, races. */
/* SPDX-License-Identifier: MIT */
/*
 * Children are fork()ed from the Criterion worker running the test. They
 * never call cr_assert: they report through their exit code (0 = fine, any
 * other value names the step that failed) and through the shared control
 * block, and they die with the test process (PR_SET_PDEATHSIG). Every child
 * is reaped, in the test or in the fixture's fini.
 *
 * Timing: the contract's bound for noticing a dead peer is 200 ms; the
 * tests measure it, print it, and only assert < 1 s so that a loaded CI
 * machine or a sanitizer build does not make them flaky.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define DEADLINE_MS  10000 /* for any wait on the other process */
#define DEATH_MAX_NS 1000000000u
#define ROUNDS       150 /* of each race test */

struct ctl {
	_Atomic int ready; /* child -> parent: attached / at the rendezvous */
	_Atomic int go;    /* parent -> child */
	_Atomic int done;  /* child -> parent: last round finished */
	_Atomic int round; /* parent -> child: current round */
	_Atomic int arrive;
	_Atomic int bad;    /* unexpected codes seen by the child */
	_Atomic int bad_rc; /* the last of them */
	_Atomic int res[2];
	_Atomic uint64_t t_ns;
	_Atomic uint64_t waits;
	char name[TEST_NAME_LEN];
	uint64_t n;
	uint64_t seed[2];
	int fence_full; /* child attaches with SHMRING_FENCE=full */
	size_t max;     /* verified streams: the largest message */
};

static struct ctl *c;
static pid_t kids[4];

static void setup(void)
{
	c = shared_alloc_or_fail(sizeof *c);
	ring_name(c->name);
	atomic_store(&c->done, -1);
	atomic_store(&c->round, -1);
	c->seed[0] = 0x853c49e6748fea9bu;
	c->seed[1] = 0xda3e39cb94b95bdbu;
	memset(kids, 0, sizeof kids);
}

static void teardown(void)
{
	char nm[TEST_NAME_LEN + 16];

	for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++)
		child_kill(kids[i]);
	shmring_unlink(c->name);
	for (int r = 0; r < ROUNDS; r++) { /* names of the race tests */
		snprintf(nm, sizeof nm, "%s-r%d", c->name, r);
		shmring_unlink(nm);
	}
	shared_free(c, sizeof *c);
}

TestSuite(ipc, .init = setup, .fini = teardown, .timeout = 60);

static pid_t spawn(int (*fn)(void *))
{
	pid_t pid = child_run(fn, c);

	cr_assert_gt(pid, 0, "fork");
	for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++)
		if (kids[i] == 0) {
			kids[i] = pid;
			return pid;
		}
	cr_assert_fail("too many children");
	return -1;
}

static void forget(pid_t pid)
{
	for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

/* Reap and check the child's exit code. */
static void reap_ok(pid_t pid)
{
	int st = child_reap(pid);

	forget(pid);
	cr_assert_eq(st, 0, "child exit %d (bad=%d, last rc %s)", st,
	             atomic_load(&c->bad), shmring_strerror(c->bad_rc));
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	child_reap(pid);
	forget(pid);
}

static void wait_ready(int v)
{
	cr_assert(flag_wait(&c->ready, v, DEADLINE_MS), "child not ready");
}

static void wait_zombie(pid_t pid)
{
	uint64_t end = now_ns() + 5000000000u;

	while (proc_state(pid) != 'Z' && now_ns() < end)
		sleep_us(500);
	cr_assert_eq(proc_state(pid), 'Z', "child is not a zombie");
}

/* Child side: open @role, retrying while the ring does not exist yet. */
static int open_retry(const char *name, enum shmring_role role, shmring **r)
{
	uint64_t end = now_ns() + (uint64_t)DEADLINE_MS * 1000000u;
	int rc;

	while ((rc = shmring_open(name, role, r)) == SHMRING_ENOENT &&
	       now_ns() < end)
		sleep_us(200);
	return rc;
}

/* max_msg = @slot, as the format-1 tests assumed; parent_create_cfg() for
 * any other geometry. */
static void parent_create_cfg(enum shmring_role role, const shmring_config *cfg,
                              shmring **r)
{
	int rc = shmring_create(c->name, cfg, role, r);

	cr_assert_eq(rc, SHMRING_OK, "create: %s", shmring_strerror(rc));
}

static void parent_create(enum shmring_role role, uint32_t slot, uint32_t count,
                          shmring **r)
{
	shmring_config cfg = {
	        .slot_size = slot, .slot_count = count, .max_msg = slot};
	parent_create_cfg(role, &cfg, r);
}

static void hang(void)
{
	for (;;)
		pause();
}

/* ---- attach in either order ---------------------------------------------- */

static int child_consume_three(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;
	char buf[16];
	size_t len;

	if (open_retry(x->name, SHMRING_CONSUMER, &r) != SHMRING_OK)
		return 1;
	for (int i = 0; i < 3; i++) {
		if (shmring_recv(r, buf, sizeof buf, &len, DEADLINE_MS) !=
		    SHMRING_OK)
			return 2;
		if (len != 1 || buf[0] != 'a' + i)
			return 3;
	}
	if (shmring_recv(r, buf, sizeof buf, &len, DEADLINE_MS) !=
	    SHMRING_ECLOSED)
		return 4;
	shmring_close(r);
	return 0;
}

Test(ipc, consumer_process_opens_the_ring_the_parent_created)
{
	shmring *p = NULL;
	pid_t pid;

	parent_create(SHMRING_PRODUCER, 16, 4, &p);
	pid = spawn(child_consume_three);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(shmring_send(p, &(char){(char)('a' + i)}, 1,
		                          DEADLINE_MS),
		             SHMRING_OK);
	shmring_close(p);
	reap_ok(pid);
}

static int child_open_then_produce_three(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;

	atomic_store(&x->ready, 1); /* starts before the ring exists */
	if (open_retry(x->name, SHMRING_PRODUCER, &r) != SHMRING_OK)
		return 1;
	for (int i = 0; i < 3; i++)
		if (shmring_send(r, &(char){(char)('a' + i)}, 1, DEADLINE_MS) !=
		    SHMRING_OK)
			return 2;
	shmring_close(r);
	return 0;
}

Test(ipc, producer_process_opens_before_the_parent_creates)
{
	shmring *cons = NULL;
	char buf[4];
	size_t len;
	pid_t pid;

	pid = spawn(child_open_then_produce_three);
	wait_ready(1);
	sleep_us(20000); /* its first opens find nothing */
	parent_create(SHMRING_CONSUMER, 16, 4, &cons);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(
		        shmring_recv(cons, buf, sizeof buf, &len, DEADLINE_MS),
		        SHMRING_OK);
		cr_assert_eq(buf[0], 'a' + i);
	}
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, DEADLINE_MS),
	             SHMRING_ECLOSED);
	shmring_close(cons);
	reap_ok(pid);
}

/* ---- verified streams ---------------------------------------------------- */

#define S_SLOT  256
#define S_COUNT 64
/* The format-2 streams: 32-byte strides, 256 slots, the default max_msg
 * (256 * 32 / 2 - 8 = 4088 bytes): records of 1 to 128 slots. */
#define S2_SLOT  24
#define S2_COUNT 256
#define S2_MAX   4088
#define S_BUF    S2_MAX /* the largest message of any stream here */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Every few thousand messages, pause up to 1.5 ms (the peer must sleep)
 * and switch between spinning and sleeping at once. */
static void maybe_pause(shmring *r, uint64_t *s)
{
	uint64_t x = rnd(s);

	if (x % 2048 != 0)
		return;
	sleep_us((unsigned)((x >> 16) % 1500));
	shmring_set_spin(r, (x >> 40) & 1 ? 0 : SHMRING_DEFAULT_SPIN_NS);
}

#define S_BATCH 16 /* largest shmring_sendv / shmring_recvv batch */

/* 1..S_BATCH, not past message n */
static size_t batch_len(uint64_t seq, uint64_t n, uint64_t x)
{
	size_t k = 1 + (size_t)((x >> 8) % S_BATCH);

	return k > n - seq ? (size_t)(n - seq) : k;
}

/* Send, claim+commit, sendv or claimv+commitv at random, one or a batch
 * at a time, messages of up to @max bytes. */
static int produce_stream(shmring *r, uint64_t n, size_t max, uint64_t seed)
{
	uint8_t msg[S_BUF];
	void *w;

	for (uint64_t seq = 0; seq < n;) {
		size_t len = msg_size(seq, max);
		uint64_t x = rnd(&seed), done = 1;
		int rc;

		if (x % 4 == 0) {
			msg_fill(msg, len, seq);
			rc = shmring_send(r, msg, len, SHMRING_FOREVER);
		} else if (x % 4 == 1) {
			size_t want = x & 8 ? max : len; /* commit shorter */
			rc = shmring_claim(r, want, &w, SHMRING_FOREVER);
			if (rc == SHMRING_OK) {
				msg_fill(w, len, seq);
				rc = shmring_commit(r, len);
			}
		} else if (x % 4 == 2) {
			size_t k = batch_len(seq, n, x), sent;

			rc = msgs_sendv(r, seq, k, max, &sent);
			done = sent;
			if (rc == SHMRING_OK && sent != k)
				rc = SHMRING_EINVAL;
		} else {
			size_t k = batch_len(seq, n, x), got;

			rc = msgs_claimv(r, seq, k, max, x >> 20, &got);
			done = got;
		}
		if (rc != SHMRING_OK)
			return 10;
		seq += done;
		maybe_pause(r, &seed);
	}
	return 0;
}

/* 0, or the 1-based index of the first bad message */
static uint64_t consume_stream(shmring *r, uint64_t n, size_t max,
                               uint64_t seed)
{
	uint8_t buf[S_BUF];
	const void *d;
	size_t len;

	for (uint64_t seq = 0; seq < n;) {
		uint64_t x = rnd(&seed), done = 1, bad;
		int rc, ok;

		if (x % 4 == 0) {
			rc = shmring_recv(r, buf, sizeof buf, &len,
			                  SHMRING_FOREVER);
			ok = rc == SHMRING_OK && msg_check(buf, len, seq, max);
		} else if (x % 4 == 1) {
			rc = shmring_peek(r, &d, &len, SHMRING_FOREVER);
			ok = rc == SHMRING_OK && msg_check(d, len, seq, max);
			if (rc == SHMRING_OK)
				rc = shmring_release(r);
		} else if (x % 4 == 2) {
			size_t got;

			rc = msgs_peekv(r, seq, batch_len(seq, n, x), max,
			                x >> 20, &got, &bad);
			if (bad)
				return seq + bad;
			ok = got >= 1;
			done = got;
		} else {
			size_t got;

			rc = msgs_recvv(r, seq, batch_len(seq, n, x), max, &got,
			                &bad);
			if (bad)
				return seq + bad;
			ok = got >= 1;
			done = got;
		}
		if (!ok || rc != SHMRING_OK)
			return seq + 1;
		seq += done;
		maybe_pause(r, &seed);
	}
	return shmring_recv(r, buf, sizeof buf, &len, DEADLINE_MS) ==
	                       SHMRING_ECLOSED
	               ? 0
	               : n + 1;
}

static int child_stream_producer(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;
	shmring_stats st;
	int rc;

	if (x->fence_full && setenv("SHMRING_FENCE", "full", 1) != 0)
		return 2;
	if (open_retry(x->name, SHMRING_PRODUCER, &r) != SHMRING_OK)
		return 1;
	rc = produce_stream(r, x->n, x->max, 0x9e3779b97f4a7c15u);
	shmring_get_stats(r, &st);
	atomic_store(&x->waits, st.waits);
	shmring_close(r);
	return rc;
}

static int child_stream_consumer(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;
	shmring_stats st;
	uint64_t bad;

	if (open_retry(x->name, SHMRING_CONSUMER, &r) != SHMRING_OK)
		return 1;
	bad = consume_stream(r, x->n, x->max, 0xdeadbeefcafef00du);
	shmring_get_stats(r, &st);
	atomic_store(&x->waits, st.waits);
	atomic_store(&x->t_ns, bad);
	shmring_close(r);
	return bad ? 10 : 0;
}

/* The format-1 geometry (one-slot messages of up to 256 bytes) or the
 * format-2 one (records of 1 to 128 slots, wrapping with padding). */
static void stream_ring(enum shmring_role role, int multi_slot, shmring **r)
{
	shmring_config cfg = {.slot_size = S2_SLOT, .slot_count = S2_COUNT};

	c->max = multi_slot ? S2_MAX : S_SLOT;
	if (!multi_slot)
		cfg = (shmring_config){.slot_size = S_SLOT,
		                       .slot_count = S_COUNT,
		                       .max_msg = S_SLOT};
	parent_create_cfg(role, &cfg, r);
	cr_assert_eq(shmring_max_msg(*r), c->max);
}

static void stream_from_child(uint64_t n, int fence_full, int multi_slot)
{
	shmring *cons = NULL;
	shmring_stats st;
	uint64_t bad, t0 = now_ns();
	pid_t pid;

	c->n = n;
	c->fence_full = fence_full;
	stream_ring(SHMRING_CONSUMER, multi_slot, &cons);
	pid = spawn(child_stream_producer);
	bad = consume_stream(cons, c->n, c->max, 0x243f6a8885a308d3u);
	cr_assert_eq(bad, 0, "message %llu is wrong or missing",
	             (unsigned long long)bad - 1);
	reap_ok(pid);
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_eq(st.messages, c->n);
	fprintf(stderr,
	        "stream%s: %llu msgs in %.0f ms; consumer slept %llu, producer "
	        "slept %llu times\n",
	        fence_full ? " (producer: full fences)" : "",
	        (unsigned long long)c->n, (double)(now_ns() - t0) / 1e6,
	        (unsigned long long)st.waits,
	        (unsigned long long)atomic_load(&c->waits));
	cr_assert_gt(st.waits, 0, "the consumer never slept");
	cr_assert_gt(atomic_load(&c->waits), 0, "the producer never slept");
	shmring_close(cons);
}

Test(ipc, verified_stream_from_a_producer_process, .timeout = 60)
{
	stream_from_child(200000, 0, 0);
}

/* Random sizes from 0 to max_msg: records of up to 128 slots, padding at
 * every wrap, every call of both sides, single, batch and zero-copy. */
Test(ipc, verified_stream_of_multi_slot_records_from_a_producer_process,
     .timeout = 60)
{
	stream_from_child(100000, 0, 1);
}

/* One side with the heavy-barrier protocol, the other with full fences
 * (SHMRING_FENCE=full): wakers must fall back to full fences. */
Test(ipc, verified_stream_between_fence_modes, .timeout = 60)
{
	stream_from_child(100000, 1, 0);
}

static void stream_to_child(uint64_t n, int multi_slot)
{
	shmring *prod = NULL;
	shmring_stats st;
	pid_t pid;

	c->n = n;
	stream_ring(SHMRING_PRODUCER, multi_slot, &prod);
	pid = spawn(child_stream_consumer);
	cr_assert_eq(produce_stream(prod, c->n, c->max, 0x13198a2e03707344u),
	             0);
	cr_assert_eq(shmring_get_stats(prod, &st), SHMRING_OK);
	shmring_close(prod);
	reap_ok(pid);
	cr_assert_eq(st.messages, c->n);
	cr_assert_gt(st.waits, 0, "the producer never slept");
	cr_assert_gt(atomic_load(&c->waits), 0, "the consumer never slept");
}

Test(ipc, verified_stream_to_a_consumer_process, .timeout = 60)
{
	stream_to_child(100000, 0);
}

Test(ipc, verified_stream_of_multi_slot_records_to_a_consumer_process,
     .timeout = 60)
{
	stream_to_child(100000, 1);
}

/* ---- orderly close ---------------------------------------------------------
 */

static int child_send_five_and_close(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;

	if (open_retry(x->name, SHMRING_PRODUCER, &r) != SHMRING_OK)
		return 1;
	for (int i = 0; i < 5; i++)
		if (shmring_send(r, &i, sizeof i, 0) != SHMRING_OK)
			return 2;
	shmring_close(r);
	return 0;
}

static void drain_five_then(shmring *cons, int want)
{
	int v;
	size_t len;

	for (int i = 0; i < 5; i++) {
		cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0),
		             SHMRING_OK);
		cr_assert_eq(v, i);
	}
	cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0), want);
	cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 50), want);
}

Test(ipc, producer_that_closed_then_exited_is_eclosed_not_dead)
{
	shmring *cons = NULL;
	pid_t pid;

	parent_create(SHMRING_CONSUMER, 16, 8, &cons);
	pid = spawn(child_send_five_and_close);
	reap_ok(pid);
	drain_five_then(cons, SHMRING_ECLOSED);
	shmring_close(cons);
}

Test(ipc, producer_that_closed_then_became_a_zombie_is_eclosed)
{
	shmring *cons = NULL;
	pid_t pid;

	parent_create(SHMRING_CONSUMER, 16, 8, &cons);
	pid = spawn(child_send_five_and_close);
	wait_zombie(pid);
	drain_five_then(cons, SHMRING_ECLOSED);
	shmring_close(cons);
	reap_ok(pid);
}

static int child_attach_wait_close(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;
	enum shmring_role role = (enum shmring_role)x->n;

	if (open_retry(x->name, role, &r) != SHMRING_OK)
		return 1;
	atomic_store(&x->ready, 1);
	if (!flag_wait(&x->go, 1, DEADLINE_MS))
		return 2;
	sleep_us(100000);
	atomic_store(&x->t_ns, now_ns());
	shmring_close(r);
	return 0;
}

Test(ipc, blocked_recv_returns_eclosed_promptly_when_the_producer_closes)
{
	shmring *cons = NULL;
	size_t len;
	uint64_t t;
	pid_t pid;

	parent_create(SHMRING_CONSUMER, 16, 8, &cons);
	c->n = SHMRING_PRODUCER;
	pid = spawn(child_attach_wait_close);
	wait_ready(1);
	atomic_store(&c->go, 1);
	cr_assert_eq(shmring_recv(cons, NULL, 0, &len, SHMRING_FOREVER),
	             SHMRING_ECLOSED);
	t = now_ns() - atomic_load(&c->t_ns);
	fprintf(stderr, "close noticed by a blocked recv in %.2f ms\n",
	        (double)t / 1e6);
	cr_assert_lt(t, DEATH_MAX_NS);
	reap_ok(pid);
	shmring_close(cons);
}

Test(ipc, blocked_send_returns_eclosed_promptly_when_the_consumer_closes)
{
	shmring *prod = NULL;
	uint64_t t;
	pid_t pid;

	parent_create(SHMRING_PRODUCER, 16, 2, &prod);
	c->n = SHMRING_CONSUMER;
	pid = spawn(child_attach_wait_close);
	wait_ready(1);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(shmring_send(prod, "", 0, 0), SHMRING_OK);
	atomic_store(&c->go, 1);
	cr_assert_eq(shmring_send(prod, "", 0, SHMRING_FOREVER),
	             SHMRING_ECLOSED);
	t = now_ns() - atomic_load(&c->t_ns);
	fprintf(stderr, "close noticed by a blocked send in %.2f ms\n",
	        (double)t / 1e6);
	cr_assert_lt(t, DEATH_MAX_NS);
	reap_ok(pid);
	shmring_close(prod);
}

/* ---- peer death
 * -------------------------------------------------------------- */

struct killer {
	pthread_t th;
	pid_t pid;
	int reap;
	uint64_t t_kill;
};

static void *killer_main(void *arg)
{
	struct killer *k = arg;

	sleep_us(100000); /* let the parent block first */
	k->t_kill = now_ns();
	kill(k->pid, SIGKILL);
	if (k->reap)
		child_reap(k->pid);
	return NULL;
}

static void killer_start(struct killer *k, pid_t pid, int reap)
{
	k->pid = pid;
	k->reap = reap;
	cr_assert_eq(pthread_create(&k->th, NULL, killer_main, k), 0);
}

/* Join the killer; check and print how long the death took to notice. */
static void killer_join(struct killer *k, uint64_t t_ret, const char *what)
{
	uint64_t t;

	pthread_join(k->th, NULL);
	if (k->reap)
		forget(k->pid);
	t = t_ret - k->t_kill;
	fprintf(stderr, "%s: peer death noticed in %.2f ms\n", what,
	        (double)t / 1e6);
	cr_assert_lt(t, DEATH_MAX_NS, "%s: %.1f ms (contract: 200 ms)", what,
	             (double)t / 1e6);
}

static int child_attach_send_and_hang(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;
	enum shmring_role role = (enum shmring_role)x->n;

	if (open_retry(x->name, role, &r) != SHMRING_OK)
		return 1;
	if (role == SHMRING_PRODUCER)
		for (int i = 0; i < 2; i++)
			if (shmring_send(r, &i, sizeof i, 0) != SHMRING_OK)
				return 2;
	atomic_store(&x->ready, 1);
	hang();
	return 0;
}

static void blocked_recv_sees_death(int reap, const char *what)
{
	shmring *cons = NULL;
	struct killer k;
	size_t len;
	int v;
	pid_t pid;

	parent_create(SHMRING_CONSUMER, 16, 8, &cons);
	c->n = SHMRING_PRODUCER;
	pid = spawn(child_attach_send_and_hang);
	wait_ready(1);
	killer_start(&k, pid, reap);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(
		        shmring_recv(cons, &v, sizeof v, &len, SHMRING_FOREVER),
		        SHMRING_OK, "messages before the death are kept");
		cr_assert_eq(v, i);
	}
	cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, SHMRING_FOREVER),
	             SHMRING_EPEERDEAD);
	killer_join(&k, now_ns(), what);
	cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0),
	             SHMRING_EPEERDEAD, "and it stays dead");
	shmring_close(cons);
}

Test(ipc, blocked_recv_returns_epeerdead_when_the_producer_is_killed)
{
	blocked_recv_sees_death(0, "recv, killed producer (zombie)");
}

Test(ipc, blocked_recv_returns_epeerdead_when_the_producer_is_reaped)
{
	blocked_recv_sees_death(1, "recv, killed and reaped producer");
}

static void blocked_send_sees_death(int reap, const char *what)
{
	shmring *prod = NULL;
	struct killer k;
	pid_t pid;

	parent_create(SHMRING_PRODUCER, 16, 4, &prod);
	c->n = SHMRING_CONSUMER;
	pid = spawn(child_attach_send_and_hang);
	wait_ready(1);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(shmring_send(prod, &i, sizeof i, 0), SHMRING_OK);
	killer_start(&k, pid, reap);
	cr_assert_eq(shmring_send(prod, "", 0, SHMRING_FOREVER),
	             SHMRING_EPEERDEAD);
	killer_join(&k, now_ns(), what);
	shmring_close(prod);
}

Test(ipc, blocked_send_returns_epeerdead_when_the_consumer_is_killed)
{
	blocked_send_sees_death(0, "send, killed consumer (zombie)");
}

Test(ipc, blocked_send_returns_epeerdead_when_the_consumer_is_reaped)
{
	blocked_send_sees_death(1, "send, killed and reaped consumer");
}

Test(ipc, blocked_peek_and_claim_see_the_death_too)
{
	shmring *cons = NULL, *prod = NULL;
	struct killer k;
	const void *d;
	void *w;
	size_t len;
	pid_t pid;

	parent_create(SHMRING_CONSUMER, 16, 8, &cons);
	c->n = SHMRING_PRODUCER;
	pid = spawn(child_attach_send_and_hang);
	wait_ready(1);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(shmring_peek(cons, &d, &len, 0), SHMRING_OK);
		cr_assert_eq(shmring_release(cons), SHMRING_OK);
	}
	killer_start(&k, pid, 0);
	cr_assert_eq(shmring_peek(cons, &d, &len, SHMRING_FOREVER),
	             SHMRING_EPEERDEAD);
	killer_join(&k, now_ns(), "peek");
	/* the parent takes over the dead producer's role and fills the ring */
	cr_assert_eq(shmring_open(c->name, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	shmring_close(cons);
	cons = NULL;
	atomic_store(&c->ready, 0);
	c->n = SHMRING_CONSUMER;
	pid = spawn(child_attach_send_and_hang);
	wait_ready(1);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(shmring_send(prod, "", 0, 0), SHMRING_OK);
	killer_start(&k, pid, 0);
	cr_assert_eq(shmring_claim(prod, 1, &w, SHMRING_FOREVER),
	             SHMRING_EPEERDEAD);
	killer_join(&k, now_ns(), "claim");
	shmring_close(prod);
}

Test(ipc, a_zombie_peer_counts_as_dead)
{
	shmring *cons = NULL;
	size_t len;
	int v;
	pid_t pid;

	parent_create(SHMRING_CONSUMER, 16, 8, &cons);
	c->n = SHMRING_PRODUCER;
	pid = spawn(child_attach_send_and_hang);
	wait_ready(1);
	kill(pid, SIGKILL);
	wait_zombie(pid); /* killed, not yet waited for */
	for (int i = 0; i < 2; i++)
		cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0),
		             SHMRING_OK);
	cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0),
	             SHMRING_EPEERDEAD);
	cr_assert_eq(proc_state(pid), 'Z', "still not reaped");
	shmring_close(cons);
}

Test(ipc, send_with_room_succeeds_after_the_consumer_died)
{
	shmring *prod = NULL, *cons = NULL;
	size_t len;
	int v;
	pid_t pid;

	parent_create(SHMRING_PRODUCER, 16, 4, &prod);
	c->n = SHMRING_CONSUMER;
	pid = spawn(child_attach_send_and_hang);
	wait_ready(1);
	kill_and_reap(pid);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(shmring_send(prod, &i, sizeof i, 0), SHMRING_OK,
		             "message %d waits for the next consumer", i);
	cr_assert_eq(shmring_send(prod, &v, sizeof v, 0), SHMRING_EPEERDEAD,
	             "full, and the consumer is dead");
	cr_assert_eq(shmring_open(c->name, SHMRING_CONSUMER, &cons),
	             SHMRING_OK);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0),
		             SHMRING_OK);
		cr_assert_eq(v, i);
	}
	cr_assert_eq(shmring_send(prod, &v, sizeof v, 0), SHMRING_OK,
	             "the new consumer is alive");
	shmring_close(cons);
	shmring_close(prod);
}

/* ---- EBUSY and takeover ----------------------------------------------------
 */

static int child_hold_until_go(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;

	if (open_retry(x->name, (enum shmring_role)x->n, &r) != SHMRING_OK)
		return 1;
	atomic_store(&x->ready, 1);
	if (!flag_wait(&x->go, 1, DEADLINE_MS))
		return 2;
	shmring_close(r);
	return 0;
}

Test(ipc, role_held_by_another_live_process_is_ebusy)
{
	shmring *prod = NULL, *r = NULL;
	pid_t pid;

	parent_create(SHMRING_PRODUCER, 16, 4, &prod);
	c->n = SHMRING_CONSUMER;
	pid = spawn(child_hold_until_go);
	wait_ready(1);
	cr_assert_eq(shmring_open(c->name, SHMRING_CONSUMER, &r),
	             SHMRING_EBUSY);
	shmring_close(prod);
	prod = NULL;
	cr_assert_eq(shmring_create(c->name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_EEXIST, "the child alone keeps the ring live");
	cr_assert_eq(shmring_open(c->name, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	atomic_store(&c->go, 1);
	reap_ok(pid);
	cr_assert_eq(shmring_open(c->name, SHMRING_CONSUMER, &r), SHMRING_OK);
	shmring_close(r);
	shmring_close(prod);
}

static int child_recv_two_peek_third(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;
	const void *d;
	size_t len;
	int v;

	if (open_retry(x->name, SHMRING_CONSUMER, &r) != SHMRING_OK)
		return 1;
	for (int i = 0; i < 2; i++)
		if (shmring_recv(r, &v, sizeof v, &len, DEADLINE_MS) !=
		            SHMRING_OK ||
		    v != i)
			return 2;
	if (shmring_peek(r, &d, &len, DEADLINE_MS) != SHMRING_OK)
		return 3;
	atomic_store(&x->ready, 1);
	hang(); /* dies holding the peek */
	return 0;
}

Test(ipc, consumer_takeover_resumes_at_the_oldest_unreleased_message)
{
	shmring *prod = NULL, *cons = NULL;
	size_t len;
	int v;
	pid_t pid;

	parent_create(SHMRING_PRODUCER, 16, 8, &prod);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(shmring_send(prod, &i, sizeof i, 0), SHMRING_OK);
	pid = spawn(child_recv_two_peek_third);
	wait_ready(1);
	cr_assert_eq(shmring_open(c->name, SHMRING_CONSUMER, &cons),
	             SHMRING_EBUSY);
	kill(pid, SIGKILL);
	wait_zombie(pid);
	cr_assert_eq(shmring_open(c->name, SHMRING_CONSUMER, &cons),
	             SHMRING_OK);
	for (int i = 2; i < 5; i++) {
		cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0),
		             SHMRING_OK);
		cr_assert_eq(v, i, "expected message %d, got %d", i, v);
	}
	cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0), SHMRING_EAGAIN);
	shmring_close(cons);
	shmring_close(prod);
}

static int child_send_three_claim_and_hang(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;
	void *w;

	if (open_retry(x->name, SHMRING_PRODUCER, &r) != SHMRING_OK)
		return 1;
	for (int i = 0; i < 3; i++)
		if (shmring_send(r, &i, sizeof i, 0) != SHMRING_OK)
			return 2;
	if (shmring_claim(r, sizeof(int), &w, 0) != SHMRING_OK)
		return 3;
	memset(w, 0xee, sizeof(int)); /* never committed */
	atomic_store(&x->ready, 1);
	hang();
	return 0;
}

Test(ipc, producer_takeover_continues_after_the_last_commit)
{
	shmring *prod = NULL, *cons = NULL;
	size_t len;
	int v;
	pid_t pid;

	parent_create(SHMRING_CONSUMER, 16, 8, &cons);
	pid = spawn(child_send_three_claim_and_hang);
	wait_ready(1);
	cr_assert_eq(shmring_open(c->name, SHMRING_PRODUCER, &prod),
	             SHMRING_EBUSY);
	kill_and_reap(pid);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0),
		             SHMRING_OK);
		cr_assert_eq(v, i);
	}
	cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0),
	             SHMRING_EPEERDEAD,
	             "the uncommitted claim is not a message");
	cr_assert_eq(shmring_open(c->name, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0), SHMRING_EAGAIN,
	             "a live producer again: no longer dead");
	v = 3;
	cr_assert_eq(shmring_send(prod, &v, sizeof v, 0), SHMRING_OK);
	cr_assert_eq(shmring_recv(cons, &v, sizeof v, &len, 0), SHMRING_OK);
	cr_assert_eq(v, 3);
	shmring_close(prod);
	shmring_close(cons);
}

/* ---- permissions -----------------------------------------------------------
 */

#define NOBODY 65534

/* As root, become another user; otherwise stay (the ring is then 0400). */
static int drop_privileges(void)
{
	if (geteuid() != 0)
		return 0;
	return setgid(NOBODY) == 0 && setuid(NOBODY) == 0 ? 0 : -1;
}

static int child_without_permission(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;

	if (drop_privileges() != 0)
		return 1;
	if (shmring_open(x->name, SHMRING_CONSUMER, &r) != SHMRING_EACCES)
		return 2;
	if (shmring_open(x->name, SHMRING_PRODUCER, &r) != SHMRING_EACCES)
		return 3;
	if (shmring_create(x->name, NULL, SHMRING_CONSUMER, &r) !=
	    SHMRING_EACCES)
		return 4;
	if (x->n && shmring_unlink(x->name) != SHMRING_EACCES)
		return 5; /* another user's name in sticky /dev/shm */
	return r == NULL ? 0 : 6;
}

Test(ipc, a_process_without_permission_gets_eacces)
{
	int root = geteuid() == 0;
	shmring_config cfg = {.perm = root ? 0600 : 0400};
	shmring *prod = NULL;
	pid_t pid;

	cr_assert_eq(shmring_create(c->name, &cfg, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	c->n = (uint64_t)root;
	pid = spawn(child_without_permission);
	reap_ok(pid);
	shmring_close(prod);
}

static int child_attach_as_nobody(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;
	char buf[8];
	size_t len;

	if (drop_privileges() != 0)
		return 1;
	if (shmring_open(x->name, SHMRING_CONSUMER, &r) != SHMRING_OK)
		return 2;
	if (shmring_recv(r, buf, sizeof buf, &len, DEADLINE_MS) != SHMRING_OK ||
	    len != 2 || memcmp(buf, "hi", 2) != 0)
		return 3;
	shmring_close(r);
	return 0;
}

Test(ipc, perm_0666_lets_another_user_attach)
{
	shmring_config cfg = {.perm = 0666};
	shmring *prod = NULL;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root to act as another user");
	cr_assert_eq(shmring_create(c->name, &cfg, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	cr_assert_eq(shmring_send(prod, "hi", 2, 0), SHMRING_OK);
	pid = spawn(child_attach_as_nobody);
	reap_ok(pid);
	shmring_close(prod);
}

/* ---- create reclaims what killed processes left -------------------------- */

static int child_create_send_hang(void *arg)
{
	struct ctl *x = arg;
	shmring_config cfg = {.slot_size = 16, .slot_count = 4};
	shmring *r = NULL;

	if (shmring_create(x->name, &cfg, SHMRING_PRODUCER, &r) != SHMRING_OK)
		return 1;
	if (shmring_send(r, "old", 3, 0) != SHMRING_OK)
		return 2;
	atomic_store(&x->ready, 1);
	hang();
	return 0;
}

static int child_open_consumer_hang(void *arg)
{
	struct ctl *x = arg;
	shmring *r = NULL;

	if (!flag_wait(&x->ready, 1, DEADLINE_MS))
		return 1;
	if (shmring_open(x->name, SHMRING_CONSUMER, &r) != SHMRING_OK)
		return 2;
	atomic_store(&x->ready, 2);
	hang();
	return 0;
}

static void reclaim_after_kill(int reap)
{
	shmring *r = NULL, *cons = NULL;
	pid_t a, b;
	size_t len;

	a = spawn(child_create_send_hang);
	b = spawn(child_open_consumer_hang);
	wait_ready(2);
	cr_assert_eq(shmring_create(c->name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_EEXIST);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	if (reap) {
		kill_and_reap(a);
		kill_and_reap(b);
	} else {
		wait_zombie(a);
		wait_zombie(b);
	}
	cr_assert_eq(shmring_create(c->name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_OK);
	cr_assert_eq(shmring_max_msg(r), TEST_DEFAULT_MAX_MSG, "a new ring");
	cr_assert_eq(shmring_open(c->name, SHMRING_CONSUMER, &cons),
	             SHMRING_OK);
	cr_assert_eq(shmring_recv(cons, NULL, 0, &len, 0), SHMRING_EAGAIN,
	             "the old message is gone with the old ring");
	shmring_close(cons);
	shmring_close(r);
}

Test(ipc, create_reclaims_a_ring_whose_holders_were_killed)
{
	reclaim_after_kill(1);
}

Test(ipc, create_reclaims_a_ring_whose_holders_are_zombies)
{
	reclaim_after_kill(0);
}

/* ---- races
 * ------------------------------------------------------------------- */

static const shmring_config race_cfg = {.slot_size = 16, .slot_count = 4};

static void round_name(char *buf, const char *base, int r)
{
	snprintf(buf, TEST_NAME_LEN + 16, "%s-r%d", base, r);
}

static void note_bad(struct ctl *x, int rc)
{
	atomic_fetch_add(&x->bad, 1);
	atomic_store(&x->bad_rc, rc);
}

/* Open until OK; anything but OK or ENOENT on the way is noted. */
static int open_counting(struct ctl *x, const char *nm, enum shmring_role role,
                         shmring **r)
{
	uint64_t end = now_ns() + 5000000000u;
	int rc;

	while ((rc = shmring_open(nm, role, r)) != SHMRING_OK) {
		if (rc != SHMRING_ENOENT)
			note_bad(x, rc);
		if (now_ns() > end)
			return rc;
	}
	return rc;
}

/* Create; on odd rounds over a stale ring, which may lose to an opener that
 * attached to the stale ring first: then join that ring instead. */
static int create_counting(struct ctl *x, const char *nm,
                           enum shmring_role role, int r, shmring **h)
{
	int rc = shmring_create(nm, &race_cfg, role, h);

	if (rc == SHMRING_EEXIST && r % 2)
		rc = shmring_open(nm, role, h);
	if (rc != SHMRING_OK)
		note_bad(x, rc);
	return rc;
}

static void make_stale(const char *nm)
{
	shmring *h = NULL;

	if (shmring_create(nm, &race_cfg, SHMRING_PRODUCER, &h) == SHMRING_OK)
		shmring_close(h);
}

/*
 * Receive the round number the producer sends once it is attached. A
 * consumer that joined a stale ring sees ECLOSED until the producer of this
 * round attaches to it: retry that.
 */
static void recv_round(struct ctl *x, shmring *h, int r)
{
	uint64_t end = now_ns() + 5000000000u;
	size_t len;
	int rc, v = -1;

	/* ECLOSED: a stale ring's closed producer, until ours attaches;
	 * ETIMEDOUT: ours is slow (sanitizers, a loaded machine). */
	while (((rc = shmring_recv(h, &v, sizeof v, &len, 100)) ==
	                SHMRING_ECLOSED ||
	        rc == SHMRING_ETIMEDOUT) &&
	       now_ns() < end)
		sleep_us(100);
	if (rc != SHMRING_OK)
		note_bad(x, rc);
	else if (v != r)
		note_bad(x, 1000 + v);
}

/* Child opens (consumer) while the parent creates (producer). */
static int child_race_opener(void *arg)
{
	struct ctl *x = arg;
	char nm[TEST_NAME_LEN + 16];

	for (int r = 0; r < ROUNDS; r++) {
		shmring *h = NULL;

		if (!flag_wait(&x->round, r, DEADLINE_MS))
			return 2;
		round_name(nm, x->name, r);
		if (open_counting(x, nm, SHMRING_CONSUMER, &h) != SHMRING_OK)
			return 3;
		/* the creator's message proves we joined its ring */
		recv_round(x, h, r);
		shmring_close(h);
		atomic_store(&x->done, r);
	}
	return 0;
}

Test(ipc, open_racing_create_sees_only_ok_or_enoent, .timeout = 60)
{
	char nm[TEST_NAME_LEN + 16];
	uint64_t seed = 88172645463325252u;
	pid_t pid = spawn(child_race_opener);

	for (int r = 0; r < ROUNDS; r++) {
		shmring *h = NULL;

		round_name(nm, c->name, r);
		if (r % 2)
			make_stale(nm);
		atomic_store(&c->round, r);
		sleep_us((unsigned)(rnd(&seed) % 400));
		cr_assert_eq(create_counting(c, nm, SHMRING_PRODUCER, r, &h),
		             SHMRING_OK, "round %d", r);
		cr_assert_eq(shmring_send(h, &r, sizeof r, 0), SHMRING_OK);
		cr_assert(flag_wait(&c->done, r, DEADLINE_MS), "round %d", r);
		shmring_close(h);
		shmring_unlink(nm);
	}
	reap_ok(pid);
	cr_assert_eq(atomic_load(&c->bad), 0, "unexpected code: %s (%d)",
	             shmring_strerror(c->bad_rc), c->bad_rc);
}

/* Child creates (consumer) while the parent opens (producer). */
static int child_race_creator(void *arg)
{
	struct ctl *x = arg;
	char nm[TEST_NAME_LEN + 16];
	uint64_t seed = 0x2545f4914f6cdd1du;

	for (int r = 0; r < ROUNDS; r++) {
		shmring *h = NULL;

		if (!flag_wait(&x->round, r, DEADLINE_MS))
			return 2;
		round_name(nm, x->name, r);
		sleep_us((unsigned)(rnd(&seed) % 400));
		if (create_counting(x, nm, SHMRING_CONSUMER, r, &h) !=
		    SHMRING_OK)
			return 3;
		recv_round(x, h, r);
		shmring_close(h);
		atomic_store(&x->done, r);
	}
	return 0;
}

Test(ipc, create_racing_open_never_shows_a_half_made_ring, .timeout = 60)
{
	char nm[TEST_NAME_LEN + 16];
	pid_t pid = spawn(child_race_creator);

	for (int r = 0; r < ROUNDS; r++) {
		shmring *h = NULL;
		int rc;

		round_name(nm, c->name, r);
		if (r % 2)
			make_stale(nm);
		atomic_store(&c->round, r);
		rc = open_counting(c, nm, SHMRING_PRODUCER, &h);
		cr_assert_eq(rc, SHMRING_OK, "round %d: %s", r,
		             shmring_strerror(rc));
		cr_assert_eq(atomic_load(&c->bad), 0, "round %d: open gave %s",
		             r, shmring_strerror(c->bad_rc));
		cr_assert_eq(shmring_send(h, &r, sizeof r, 0), SHMRING_OK);
		cr_assert(flag_wait(&c->done, r, DEADLINE_MS), "round %d", r);
		shmring_close(h);
		shmring_unlink(nm);
	}
	reap_ok(pid);
	cr_assert_eq(atomic_load(&c->bad), 0, "unexpected code: %s (%d)",
	             shmring_strerror(c->bad_rc), c->bad_rc);
}

/* Both processes arrive, then both create at once. */
static void rendezvous(struct ctl *x, int r)
{
	uint64_t end = now_ns() + 5000000000u;

	atomic_fetch_add(&x->arrive, 1);
	while (atomic_load(&x->arrive) < 2 * (r + 1) && now_ns() < end)
		sched_yield(); /* on a shared core, let the other side run */
}

/* Up to 100 us of jitter after a rendezvous, so either side may be first. */
static void jitter(struct ctl *x, int side)
{
	uint64_t end = now_ns() + rnd(&x->seed[side]) % 100000;

	while (now_ns() < end)
		sched_yield();
}

static int race_create_once(struct ctl *x, int side, int r)
{
	char nm[TEST_NAME_LEN + 16];
	shmring *h = NULL;
	int rc;

	round_name(nm, x->name, r);
	rendezvous(x, r);
	jitter(x, side);
	rc = shmring_create(nm, &race_cfg,
	                    side ? SHMRING_CONSUMER : SHMRING_PRODUCER, &h);
	atomic_store(&x->res[side], rc);
	/* hold the ring until both have answered */
	while (atomic_load(&x->res[side ^ 1]) == 1)
		sleep_us(50);
	shmring_close(h);
	return rc;
}

static int child_race_create(void *arg)
{
	struct ctl *x = arg;

	for (int r = 0; r < ROUNDS; r++) {
		if (!flag_wait(&x->round, r, DEADLINE_MS))
			return 2;
		race_create_once(x, 1, r);
		atomic_store(&x->done, r);
	}
	return 0;
}

Test(ipc, two_processes_creating_one_name_exactly_one_wins, .timeout = 60)
{
	char nm[TEST_NAME_LEN + 16];
	int wins[2] = {0, 0};
	pid_t pid = spawn(child_race_create);

	for (int r = 0; r < ROUNDS; r++) {
		int a, b;

		atomic_store(&c->res[0], 1);
		atomic_store(&c->res[1], 1);
		atomic_store(&c->round, r);
		race_create_once(c, 0, r);
		cr_assert(flag_wait(&c->done, r, DEADLINE_MS), "round %d", r);
		a = atomic_load(&c->res[0]);
		b = atomic_load(&c->res[1]);
		cr_assert((a == SHMRING_OK && b == SHMRING_EEXIST) ||
		                  (a == SHMRING_EEXIST && b == SHMRING_OK),
		          "round %d: parent %s, child %s", r,
		          shmring_strerror(a), shmring_strerror(b));
		wins[a != SHMRING_OK]++;
		round_name(nm, c->name, r);
		cr_assert_eq(shmring_unlink(nm), SHMRING_OK);
	}
	reap_ok(pid);
	fprintf(stderr, "create race: parent won %d, child won %d\n", wins[0],
	        wins[1]);
}

/* Both processes take over a dead consumer's role at once. */
static int race_takeover_once(struct ctl *x, int side, int r)
{
	shmring *h = NULL;
	int rc;

	rendezvous(x, r);
	jitter(x, side);
	rc = shmring_open(x->name, SHMRING_CONSUMER, &h);
	atomic_store(&x->res[side], rc);
	while (atomic_load(&x->res[side ^ 1]) == 1)
		sleep_us(50);
	shmring_close(h);
	return rc;
}

static int child_race_takeover(void *arg)
{
	struct ctl *x = arg;

	for (int r = 0; r < ROUNDS; r++) {
		if (!flag_wait(&x->round, r, DEADLINE_MS))
			return 2;
		race_takeover_once(x, 1, r);
		atomic_store(&x->done, r);
	}
	return 0;
}

Test(ipc, two_processes_taking_over_a_dead_role_exactly_one_wins, .timeout = 60)
{
	shmring *prod = NULL;
	struct rawseg seg;
	size_t owner = 128 + 128; /* role[1].owner, docs/format.md */
	pid_t pid;

	parent_create(SHMRING_PRODUCER, 16, 4, &prod);
	cr_assert_eq(rawseg_map(&seg, c->name, 1), 0);
	pid = spawn(child_race_takeover);
	for (int r = 0; r < ROUNDS; r++) {
		int a, b;

		/* a holder that died: a token naming no live process */
		wr64(seg.base, owner, UINT64_C(0x00000001) << 32 | 0x7ffffffe);
		wr32(seg.base, owner + 8, 1);
		atomic_store(&c->res[0], 1);
		atomic_store(&c->res[1], 1);
		atomic_store(&c->round, r);
		race_takeover_once(c, 0, r);
		cr_assert(flag_wait(&c->done, r, DEADLINE_MS), "round %d", r);
		a = atomic_load(&c->res[0]);
		b = atomic_load(&c->res[1]);
		cr_assert((a == SHMRING_OK && b == SHMRING_EBUSY) ||
		                  (a == SHMRING_EBUSY && b == SHMRING_OK),
		          "round %d: parent %s, child %s", r,
		          shmring_strerror(a), shmring_strerror(b));
	}
	reap_ok(pid);
	rawseg_unmap(&seg);
	shmring_close(prod);
}
