/* SPDX-License-Identifier: MIT */
/*
 * stress.c -- long randomized producer/consumer runs with verification.
 *
 *   stress [--messages N] [--seconds S] [--threads] [--seed X]
 *       N messages (default 2000000) over 8 sessions, each on a new ring of
 *       random geometry and spin budget, producer and consumer in two
 *       processes (or two threads with --threads, for TSan); random sizes
 *       (0 and full-slot often), random mix of send / claim+commit and
 *       recv / peek+release / recv into a too-small buffer, random timeouts
 *       (0, 1-3 ms, forever). Every message is checked: zero lost,
 *       duplicated, reordered or torn. --seconds bounds the run (the
 *       producer stops early and closes; the check still covers all sent).
 *   stress --kill-rounds N [--seconds S] [--seed X]
 *       N rounds of SIGKILL to the producer or the consumer, at a random
 *       point or paused between claim and commit / between peek and
 *       release; the survivor must see SHMRING_EPEERDEAD (the time from the
 *       kill, or from the start of its call, is measured), the victim is
 *       restarted and takes its role over, and the stream must go on with
 *       no gap (a peeked, unreleased message is delivered again).
 *
 * Every session ends with shmring_unlink() and a check that no
 * /dev/shm/shmring.* segment of this run is left. One summary line; exit 0
 * on success, 1 on any failure, 77 if shared memory is unavailable.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layout.h"
#include "stress_msg.h"

#define ST_KILL_SESSION  25 /* rounds per ring */
#define ST_DETECT_MAX_NS UINT64_C(200000000)

struct st_opts {
	uint64_t messages;
	double seconds;
	unsigned kill_rounds;
	int threads;
	uint64_t seed;
};

struct st_totals {
	uint64_t sent, received, lost, duplicated, torn, gaps, leaked, errors;
	uint64_t redelivered, paused_claim, paused_peek, victims[2];
	uint32_t lat_us[ST_MAX_ROUNDS];
	unsigned nlat;
};

static uint64_t st_rng;

static uint64_t st_rand(void)
{
	return st_rng = st_mix(st_rng);
}

static struct st_journal *st_journal_new(unsigned session)
{
	struct st_journal *j = mmap(NULL, sizeof *j, PROT_READ | PROT_WRITE,
	                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (j == MAP_FAILED)
		return NULL;
	memset(j, 0, sizeof *j);
	snprintf(j->name, sizeof j->name, "stress-%ld-%u", (long)getpid(),
	         session);
	j->seed = st_rand();
	/* geometry: tiny to a few KiB, 2 to 1024 slots */
	j->slot_size = (st_rand() & 1) ? 1 + (uint32_t)(st_rand() % 64)
	                               : 1u << (6 + st_rand() % 7);
	j->slot_count = 2u << (st_rand() % 10);
	j->max_len = j->slot_size;
	j->spin_ns =
	        (uint32_t[]){0, 1000, SHMRING_DEFAULT_SPIN_NS}[st_rand() % 3];
	j->deadline_ns = UINT64_MAX;
	return j;
}

/* Unlink the session's ring (it must exist), then no segment of this run
 * may be left in /dev/shm. The number of problems found. */
static uint64_t st_leaks(const char *name)
{
	char prefix[64], path[300];
	struct dirent *e;
	uint64_t n = 0;
	int rc = shmring_unlink(name);
	DIR *d;

	if (rc != SHMRING_OK) {
		fprintf(stderr, "stress: unlink %s: %s\n", name,
		        shmring_strerror(rc));
		n++;
	}
	snprintf(path, sizeof path, "/dev/shm/shmring.%s", name);
	if (access(path, F_OK) == 0 || errno != ENOENT)
		n++;
	snprintf(prefix, sizeof prefix, "shmring.stress-%ld-", (long)getpid());
	d = opendir("/dev/shm");
	while (d && (e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

static void st_add(struct st_totals *t, struct st_journal *j)
{
	t->sent += j->sent;
	t->received += j->received;
	t->lost += j->lost;
	t->duplicated += j->duplicated;
	t->torn += j->torn;
	t->gaps += j->gaps;
	t->errors += j->errors;
}

/* ---- processes and threads -------------------------------------------- */

static pid_t st_fork_producer(struct st_journal *j, uint64_t first, int create)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(st_producer(j, first, create));
	return pid;
}

static pid_t st_fork_consumer(struct st_journal *j, uint64_t first, int skip)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(st_consumer(j, first, skip));
	return pid;
}

static int st_wait_flag(_Atomic int *flag, uint64_t ns)
{
	uint64_t end = st_now_ns() + ns;

	while (!atomic_load(flag) && st_now_ns() < end)
		usleep(100);
	return atomic_load(flag);
}

/* Wait for @pid at most @ns, then kill it. Its exit status, or -1. */
static int st_reap(pid_t pid, uint64_t ns)
{
	uint64_t end = st_now_ns() + ns;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (st_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(1000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void *st_producer_thread(void *arg)
{
	return (void *)(intptr_t)st_producer(arg, 0, 1);
}

static void *st_consumer_thread(void *arg)
{
	return (void *)(intptr_t)st_consumer(arg, 0, 0);
}

/* One session of the messages mode; 0 on success. */
static int st_session(struct st_journal *j, int threads)
{
	pthread_t tp, tc;
	void *rp = NULL, *rc = NULL;
	pid_t pp, pc;

	if (threads) {
		if (pthread_create(&tp, NULL, st_producer_thread, j) != 0)
			return 1;
		st_wait_flag(&j->ready, UINT64_C(5000000000));
		if (pthread_create(&tc, NULL, st_consumer_thread, j) != 0) {
			atomic_store(&j->stop, 1);
			pthread_join(tp, NULL);
			return 1;
		}
		pthread_join(tp, &rp);
		pthread_join(tc, &rc);
		return rp != NULL || rc != NULL;
	}
	pp = st_fork_producer(j, 0, 1);
	st_wait_flag(&j->ready, UINT64_C(5000000000));
	pc = st_fork_consumer(j, 0, 0);
	/* generous: the run itself is bounded by deadline_ns */
	return (st_reap(pp, UINT64_C(600000000000)) != 0) |
	       (st_reap(pc, UINT64_C(30000000000)) != 0);
}

static int st_run_messages(const struct st_opts *o, struct st_totals *t)
{
	unsigned sessions = o->messages >= 8000 ? 8 : 1;
	uint64_t start = st_now_ns(), left = o->messages;
	uint64_t end = start + (uint64_t)(o->seconds * 1e9);
	int bad = 0;

	for (unsigned s = 0; s < sessions && !bad; s++) {
		struct st_journal *j = st_journal_new(s);
		uint64_t now = st_now_ns();
		if (!j)
			return 1;
		/* an even share of what is left: messages a session could not
		 * send in its time go to the next ones */
		j->limit = left / (sessions - s);
		/* each remaining session gets its share of the time left */
		j->deadline_ns =
		        now + (end > now ? end - now : 0) / (sessions - s);
		bad = st_session(j, o->threads);
		left -= j->sent < left ? j->sent : left;
		st_add(t, j);
		if (j->received != j->sent) {
			st_fail(j, "session %u: sent %llu, received %llu", s,
			        (unsigned long long)j->sent,
			        (unsigned long long)j->received);
			t->errors++;
		}
		t->leaked += st_leaks(j->name);
		bad |= j->errors != 0;
		munmap(j, sizeof *j);
	}
	return bad;
}

/* ---- kill mode ------------------------------------------------------------
 */

struct st_ring_view {
	const uint8_t *base;
	size_t size;
};

/* The driver's read-only view of the segment, to read head after the
 * producer died (only the producer writes it). */
static int st_view(const char *name, struct st_ring_view *v)
{
	char path[128];
	struct stat st;
	int fd;

	snprintf(path, sizeof path, "/shmring.%s", name);
	fd = shm_open(path, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	v->base = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size >= SR_HDR_SIZE)
		v->base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED,
		               fd, 0);
	close(fd);
	v->size = (size_t)st.st_size;
	return v->base == MAP_FAILED ? -1 : 0;
}

static uint64_t st_head(const struct st_ring_view *v)
{
	const struct sr_seg *s = (const void *)v->base;

	return atomic_load((_Atomic uint64_t *)&s->head.value);
}

static uint64_t st_tail(const struct st_ring_view *v)
{
	const struct sr_seg *s = (const void *)v->base;

	return atomic_load((_Atomic uint64_t *)&s->tail.value);
}

/* Kill @victim at a random point or at its pause point, measure how long
 * the survivor takes to see EPEERDEAD, restart the victim. */
static int st_round(struct st_journal *j, pid_t pid[2],
                    const struct st_ring_view *v, struct st_totals *t)
{
	int victim = (int)(st_rand() & 1), surv = !victim, phase;
	int paused = st_rand() % 3 == 0;
	uint64_t t_kill, from, seen, next, tail;

	usleep(1000 + st_rand() % 20000); /* let the stream run */
	if (paused) {
		atomic_store(&j->pause_req[victim], 1);
		paused = st_wait_flag(&j->paused[victim], UINT64_C(2000000000));
	}
	atomic_store(&j->pd_seen_ns[surv], 0);
	atomic_store(&j->pd_armed[surv], 1);
	t_kill = st_now_ns();
	kill(pid[victim], SIGKILL);
	waitpid(pid[victim], NULL, 0);
	atomic_store(&j->pause_req[victim], 0);
	atomic_store(&j->paused[victim], 0);
	t->victims[victim]++;
	if (!st_wait_flag((_Atomic int *)&j->pd_seen_ns[surv],
	                  UINT64_C(3000000000))) {
		st_fail(j, "%s did not see its peer's death within 3 s",
		        surv == ST_P ? "producer" : "consumer");
		return 1;
	}
	seen = atomic_load(&j->pd_seen_ns[surv]);
	from = atomic_load(&j->pd_call_ns[surv]);
	from = from > t_kill ? from : t_kill;
	if (t->nlat < ST_MAX_ROUNDS)
		t->lat_us[t->nlat++] = (uint32_t)((seen - from) / 1000);
	atomic_store(&j->attached[victim], 0);
	if (victim == ST_P) {
		t->paused_claim += paused;
		pid[ST_P] = st_fork_producer(j, st_head(v), 0);
	} else {
		phase = atomic_load(&j->c_phase);
		t->paused_peek += paused;
		t->redelivered += phase == ST_PEEKED;
		/* Sequence numbers are ring indices, so the new consumer must
		 * start exactly at tail, which must be the next message the
		 * dead one had not recorded, or the one after it if it died
		 * inside recv or release (consumed, not yet recorded), or up
		 * to a batch past it if it died inside recvv.
		 * Judging that from the first message's bytes was ambiguous
		 * for two zero-length messages in a row. */
		next = atomic_load(&j->c_next);
		tail = st_tail(v);
		if (tail != next &&
		    !(tail == next + 1 &&
		      (phase == ST_IN_RECV || phase == ST_RELEASING)) &&
		    !(phase == ST_IN_RECVV &&
		      tail - next <= atomic_load(&j->c_batch))) {
			st_fail(j,
			        "consumer died at phase %d having recorded "
			        "%llu; tail is %llu",
			        phase, (unsigned long long)next,
			        (unsigned long long)tail);
			return 1;
		}
		atomic_store(&j->c_phase, ST_IDLE);
		atomic_store(&j->c_next, tail);
		pid[ST_C] = st_fork_consumer(j, tail, 0);
	}
	/* A peer that never attached cannot be seen dying: wait for it. */
	if (!st_wait_flag(&j->attached[victim], UINT64_C(5000000000))) {
		st_fail(j, "restarted %s did not attach",
		        victim == ST_P ? "producer" : "consumer");
		return 1;
	}
	return 0;
}

static int st_kill_session(unsigned s, unsigned rounds, uint64_t end,
                           struct st_totals *t)
{
	struct st_journal *j = st_journal_new(1000 + s);
	struct st_ring_view v;
	pid_t pid[2];
	int bad = 0;

	if (!j)
		return 1;
	j->limit = UINT64_MAX;
	j->slot_count = 2u << (st_rand() % 8); /* <= 512: fills quickly */
	pid[ST_P] = st_fork_producer(j, 0, 1);
	if (!st_wait_flag(&j->ready, UINT64_C(5000000000)) ||
	    st_view(j->name, &v) != 0) {
		st_fail(j, "session %u: ring %s not created", s, j->name);
		kill(pid[ST_P], SIGKILL);
		waitpid(pid[ST_P], NULL, 0);
		t->errors++;
		return 1;
	}
	pid[ST_C] = st_fork_consumer(j, 0, 0);
	if (!st_wait_flag(&j->attached[ST_C], UINT64_C(5000000000)))
		bad = 1;
	for (unsigned r = 0; r < rounds && !bad && st_now_ns() < end; r++)
		bad = st_round(j, pid, &v, t) || j->errors != 0;
	atomic_store(&j->stop, 1);
	bad |= st_reap(pid[ST_P], UINT64_C(10000000000)) != 0;
	bad |= st_reap(pid[ST_C], UINT64_C(10000000000)) != 0;
	if (!bad && atomic_load(&j->c_next) != st_head(&v)) {
		st_fail(j, "session %u: consumer ended at %llu, head is %llu",
		        s, (unsigned long long)j->c_next,
		        (unsigned long long)st_head(&v));
		bad = 1;
	}
	munmap((void *)v.base, v.size);
	st_add(t, j);
	t->errors += bad && !j->errors;
	t->leaked += st_leaks(j->name);
	munmap(j, sizeof *j);
	return bad;
}

static int st_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int st_run_kill(const struct st_opts *o, struct st_totals *t)
{
	uint64_t end = st_now_ns() + (uint64_t)(o->seconds * 1e9);
	unsigned done = 0;
	int bad = 0;

	for (unsigned s = 0; done < o->kill_rounds && !bad; s++) {
		unsigned n = o->kill_rounds - done;
		n = n < ST_KILL_SESSION ? n : ST_KILL_SESSION;
		bad = st_kill_session(s, n, end, t);
		done += n;
		if (st_now_ns() >= end)
			break;
	}
	return bad;
}

/* ---- main -----------------------------------------------------------------
 */

static int st_parse(int argc, char **argv, struct st_opts *o)
{
	*o = (struct st_opts){.messages = 2000000,
	                      .seconds = 30,
	                      .seed = (uint64_t)getpid() ^ st_now_ns()};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--threads")) {
			o->threads = 1;
			continue;
		}
		if (!v)
			return -1;
		if (!strcmp(a, "--messages"))
			o->messages = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--seconds"))
			o->seconds = strtod(v, NULL);
		else if (!strcmp(a, "--kill-rounds"))
			o->kill_rounds = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--seed"))
			o->seed = strtoull(v, NULL, 0);
		else
			return -1;
		i++;
	}
	return o->kill_rounds > 0 && o->threads ? -1 : 0;
}

static void st_report(const struct st_opts *o, struct st_totals *t, double secs,
                      int bad)
{
	printf("stress: %s seed=%llu seconds=%.1f sent=%llu received=%llu "
	       "lost=%llu duplicated=%llu torn=%llu gaps=%llu leaked=%llu "
	       "errors=%llu",
	       o->kill_rounds ? "kill"
	       : o->threads   ? "threads"
	                      : "processes",
	       (unsigned long long)o->seed, secs, (unsigned long long)t->sent,
	       (unsigned long long)t->received, (unsigned long long)t->lost,
	       (unsigned long long)t->duplicated, (unsigned long long)t->torn,
	       (unsigned long long)t->gaps, (unsigned long long)t->leaked,
	       (unsigned long long)t->errors);
	if (o->kill_rounds && t->nlat) {
		qsort(t->lat_us, t->nlat, sizeof t->lat_us[0], st_cmp_u32);
		printf(" rounds=%u killed_producer=%llu killed_consumer=%llu "
		       "paused_claim_commit=%llu paused_peek_release=%llu "
		       "redelivered=%llu detect_ms_p50=%.1f detect_ms_p99=%.1f "
		       "detect_ms_max=%.1f",
		       t->nlat, (unsigned long long)t->victims[ST_P],
		       (unsigned long long)t->victims[ST_C],
		       (unsigned long long)t->paused_claim,
		       (unsigned long long)t->paused_peek,
		       (unsigned long long)t->redelivered,
		       t->lat_us[t->nlat / 2] / 1e3,
		       t->lat_us[(t->nlat * 99) / 100] / 1e3,
		       t->lat_us[t->nlat - 1] / 1e3);
	} else if (!o->kill_rounds) {
		printf(" msgs_per_s=%.0f", secs > 0 ? t->received / secs : 0);
	}
	printf(" result=%s\n", bad ? "FAIL" : "ok");
}

int main(int argc, char **argv)
{
	struct st_opts o;
	static struct st_totals t;
	uint64_t t0 = st_now_ns();
	int bad;

	if (st_parse(argc, argv, &o) != 0) {
		fprintf(stderr,
		        "usage: %s [--messages N] [--seconds S] "
		        "[--threads] [--kill-rounds N] [--seed X]\n",
		        argv[0]);
		return 2;
	}
	if (access("/dev/shm", W_OK) != 0)
		return 77;
	st_rng = o.seed;
	signal(SIGPIPE, SIG_IGN);
	bad = o.kill_rounds ? st_run_kill(&o, &t) : st_run_messages(&o, &t);
	if (o.kill_rounds && t.nlat &&
	    (qsort(t.lat_us, t.nlat, sizeof t.lat_us[0], st_cmp_u32),
	     t.lat_us[(t.nlat * 99) / 100] * UINT64_C(1000) >
	             ST_DETECT_MAX_NS)) {
		fprintf(stderr, "stress: p99 time to detect peer death is over "
		                "200 ms\n");
		bad = 1;
	}
	bad |= t.lost || t.duplicated || t.torn || t.gaps || t.leaked ||
	       t.errors;
	st_report(&o, &t, (st_now_ns() - t0) / 1e9, bad);
	return bad ? 1 : 0;
}
