/* Description: real signals and fork(): SHMRING_EINTR, handles bound to their
 * process. */
/* SPDX-License-Identifier: MIT */
/*
 * A blocked call returns SHMRING_EINTR when a signal handler interrupts its
 * sleep, SA_RESTART or not (its sleeps are timed, and the kernel does not
 * restart a timed futex wait after a handler), and not for an ignored
 * signal; a handle inherited by fork() refuses
 * every call in the child, and the child's close leaves the parent's role
 * as it was.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static struct pair p;
static volatile sig_atomic_t handled;

static void setup(void)
{
	pair_open_or_fail(&p, 64, 8);
	handled = 0;
}

static void teardown(void)
{
	pair_close(&p);
}

#define PAIR .init = setup, .fini = teardown, .timeout = 20

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
}

/* SIGALRM in @ms, handled by on_alarm, with or without SA_RESTART. */
static void alarm_in(int ms, int restart)
{
	struct sigaction sa;
	struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

Test(eintr, a_signal_ends_a_recv_that_waits_forever, PAIR)
{
	uint64_t t0 = now_ns();
	size_t len;

	/* 30 ms: inside the first 50 ms sleep slice, not at its end (a
	 * handler that runs between two slices is not seen: docs/api.md) */
	shmring_set_spin(p.cons, 0);
	alarm_in(30, 0);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, SHMRING_FOREVER),
	             SHMRING_EINTR);
	cr_assert_eq(handled, 1);
	cr_assert_lt(now_ns() - t0, 1000000000u, "returned at the signal");
	/* nothing was taken: the ring works on */
	cr_assert_eq(shmring_send(p.prod, "x", 1, 0), SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(len, 1);
}

Test(eintr, every_blocking_call_returns_it, PAIR)
{
	uint8_t buf[64];
	shmring_buf b[2] = {{buf, 64}, {buf, 64}};
	shmring_msg m[2] = {{buf, 8}, {buf, 8}};
	const void *d;
	void *w;
	size_t len, n = 9;
	int k = 0;

	shmring_set_spin(p.cons, 0);
	shmring_set_spin(p.prod, 0);
	alarm_in(20, 0);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, -1), SHMRING_EINTR);
	alarm_in(20, 0);
	cr_assert_eq(shmring_peekv(p.cons, m, 2, &n, -1), SHMRING_EINTR);
	cr_assert_eq(n, 0);
	alarm_in(20, 0);
	cr_assert_eq(shmring_recvv(p.cons, b, 2, &n, -1), SHMRING_EINTR);
	cr_assert_eq(n, 0);
	while (shmring_send(p.prod, buf, 8, 0) == SHMRING_OK)
		k++;
	cr_assert_eq(k, 8, "full");
	alarm_in(20, 0);
	cr_assert_eq(shmring_send(p.prod, buf, 8, -1), SHMRING_EINTR);
	alarm_in(20, 0);
	cr_assert_eq(shmring_sendv(p.prod, m, 2, &n, -1), SHMRING_EINTR);
	cr_assert_eq(n, 0);
	alarm_in(20, 0);
	cr_assert_eq(shmring_claim(p.prod, 8, &w, -1), SHMRING_EINTR);
	alarm_in(20, 0);
	cr_assert_eq(shmring_claimv(p.prod, b, 2, &n, -1), SHMRING_EINTR);
	cr_assert_eq(handled, 7);
}

Test(eintr, a_handler_with_sa_restart_interrupts_too, PAIR)
{
	size_t len;

	shmring_set_spin(p.cons, 0);
	alarm_in(20, 1);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 2000), SHMRING_EINTR);
	cr_assert_eq(handled, 1);
}

Test(eintr, an_ignored_signal_does_not_interrupt, PAIR)
{
	struct itimerval it = {{0, 0}, {0, 20000}};
	size_t len;

	shmring_set_spin(p.cons, 0);
	cr_assert_neq(signal(SIGALRM, SIG_IGN), SIG_ERR);
	cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 150),
	             SHMRING_ETIMEDOUT, "no handler ran: the wait went on");
}

/* ---- fork -----------------------------------------------------------------
 */

/* In a child: every call on the inherited handles is EINVAL, then close. */
static int child_uses_inherited(void *arg)
{
	uint8_t buf[8] = {0};
	shmring_buf b = {buf, 8};
	shmring_msg m = {buf, 8};
	shmring_stats st;
	const void *d;
	void *w;
	size_t len, n;
	int bad = 0;

	(void)arg;
	bad += shmring_send(p.prod, buf, 8, 0) != SHMRING_EINVAL;
	bad += shmring_sendv(p.prod, &m, 1, &n, 0) != SHMRING_EINVAL;
	bad += shmring_claim(p.prod, 8, &w, 0) != SHMRING_EINVAL;
	bad += shmring_claimv(p.prod, &b, 1, &n, 0) != SHMRING_EINVAL;
	bad += shmring_commit(p.prod, 0) != SHMRING_EINVAL;
	bad += shmring_recv(p.cons, buf, 8, &len, 0) != SHMRING_EINVAL;
	bad += shmring_recvv(p.cons, &b, 1, &n, 0) != SHMRING_EINVAL;
	bad += shmring_peek(p.cons, &d, &len, 0) != SHMRING_EINVAL;
	bad += shmring_peekv(p.cons, &m, 1, &n, 0) != SHMRING_EINVAL;
	bad += shmring_release(p.cons) != SHMRING_EINVAL;
	bad += shmring_releasev(p.cons, 0) != SHMRING_EINVAL;
	bad += shmring_get_stats(p.prod, &st) != SHMRING_EINVAL;
	bad += shmring_set_spin(p.cons, 0) != SHMRING_EINVAL;
	bad += shmring_max_msg(p.prod) != 64;
	bad += shmring_close(p.prod) != SHMRING_OK;
	bad += shmring_close(p.cons) != SHMRING_OK;
	return bad;
}

Test(fork, an_inherited_handle_refuses_every_call_in_the_child, PAIR)
{
	uint8_t buf[8];
	size_t len;
	pid_t pid;

	cr_assert_eq(shmring_send(p.prod, "before", 6, 0), SHMRING_OK);
	pid = child_run(child_uses_inherited, NULL);
	cr_assert_eq(child_reap(pid), 0, "calls in the child not refused");
	/* the child's closes touched nothing: the parent's roles are live */
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_OK);
	cr_assert_eq(len, 6, "the message sent before the fork, once");
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 50),
	             SHMRING_ETIMEDOUT,
	             "the child's close is no end of stream");
	cr_assert_eq(shmring_send(p.prod, "after", 5, 0), SHMRING_OK,
	             "the child's close of the consumer is no close either");
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_OK);
	shmring_close(p.prod);
	p.prod = NULL;
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 1000),
	             SHMRING_ECLOSED, "the parent's close still is");
}

static int child_opens_its_own(void *arg)
{
	shmring *r = NULL;
	int rc;

	(void)arg;
	shmring_close(p.prod); /* the inherited copy: freed, nothing else */
	rc = shmring_open(p.name, SHMRING_PRODUCER, &r);
	return rc == SHMRING_EBUSY ? 0 : 1; /* the parent still holds it */
}

Test(fork, a_child_cannot_take_the_parents_role_after_closing_its_copy, PAIR)
{
	pid_t pid = child_run(child_opens_its_own, NULL);

	cr_assert_eq(child_reap(pid), 0);
	cr_assert_eq(shmring_send(p.prod, "x", 1, 0), SHMRING_OK);
}
