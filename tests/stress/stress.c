/* SPDX-License-Identifier: MIT */
/*
 * stress.c -- long randomized producer/consumer runs with verification.
 *
 *   stress [--messages N] [--seconds S] [--threads] [--seed X]
 *       N messages (default 2000000) over 8 sessions, each on a new ring of
 *       random geometry, max_msg and spin budget, producer and consumer in
 *       two processes (or two threads with --threads, for TSan); random
 *       sizes from 0 to max_msg (0, max_msg and the one/two-slot boundary
 *       often), so records span one slot or many and wrap with padding;
 *       a random mix of send / sendv / claim+commit / claimv+commitv
 *       (claims larger than the message, commits of fewer than claimed)
 *       and recv / recv into a too-small buffer / recvv / peek / peekv,
 *       peeking again and releasing in parts; random timeouts (0, 1-3 ms,
 *       forever). Every message is checked: zero lost, duplicated,
 *       reordered or torn; after every producer call the head the library
 *       published is checked against the record layout of docs/format.md.
 *       --seconds bounds the run (the producer stops early and closes; the
 *       check still covers all sent).
 *   stress --kill-rounds N [--seconds S] [--seed X]
 *       N rounds of SIGKILL to the producer or the consumer, at a random
 *       point or paused between claim and commit (a multi-slot record),
 *       claimv and commitv, peek and release, or peekv and releasev; the
 *       survivor must see SHMRING_EPEERDEAD (the time from the kill, or
 *       from the start of its call, is measured, p99 <= 200 ms), the victim
 *       is restarted and takes its role over, and the stream must go on
 *       with no gap: the driver finds from the journal and the ring exactly
 *       which message the new process must start at, and checks that the
 *       dead one can have consumed only what its call in flight allowed (a
 *       peeked, unreleased message is delivered again; nothing else is).
 *
 * Every session ends with shmring_unlink() and a check that no
 * /dev/shm/shmring.* segment of this run is left. One summary line; exit 0
 * on success, 1 on any failure, 77 if shared memory is unavailable.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress_msg.h"

#define ST_KILL_SESSION  25 /* rounds per ring */
#define ST_DETECT_MAX_NS UINT64_C(200000000)
#define ST_MAP_MASK      (ST_MAP - 1u)

struct st_opts {
	uint64_t messages;
	double seconds;
	unsigned kill_rounds;
	int threads;
	uint64_t seed;
};

struct st_totals {
	uint64_t sent, received, lost, duplicated, torn, gaps, leaked, errors;
	uint64_t redelivered, unrecorded, victims[2], at[ST_AT_COUNT], multi;
	uint64_t calls[ST_K_COUNT], sessions, max_slots, rounds;
	uint32_t *lat_us;
	unsigned nlat, maxlat;
};

static uint64_t st_rng;

static uint64_t st_rand(void)
{
	return st_rng = st_mix(st_rng);
}

/* A fresh journal, with a random geometry: slot sizes tiny to a few KiB,
 * 2 (4 for kills: a two-slot record then fits) to 1024 slots, at most
 * @cap bytes of slots; max_msg the default, the whole ring, one slot, or
 * anything in between. */
static struct st_journal *st_journal_new(unsigned session, int kill)
{
	struct st_journal *j = mmap(NULL, sizeof *j, PROT_READ | PROT_WRITE,
	                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t cap = kill ? 128u << 10 : 512u << 10, bytes;
	uint32_t least = kill ? 4 : 2;

	if (j == MAP_FAILED)
		return NULL;
	memset(j, 0, sizeof *j);
	snprintf(j->name, sizeof j->name, "stress-%ld-%u", (long)getpid(),
	         session);
	j->seed = st_rand();
	j->slot_size = (st_rand() & 1) ? 1 + (uint32_t)(st_rand() % 64)
	                               : 1u << (6 + st_rand() % 7);
	j->slot_count = least << (st_rand() % (kill ? 8 : 10));
	j->stride = (8u + j->slot_size + 15u) & ~15u;
	while ((uint64_t)j->stride * j->slot_count > cap &&
	       j->slot_count > least)
		j->slot_count >>= 1;
	bytes = (uint64_t)j->stride * j->slot_count;
	switch (st_rand() % 8) {
	case 0:
	case 1:
	case 2:
		j->cfg_max = 0;
		break;
	case 3:
	case 4:
		j->cfg_max = (uint32_t)(bytes - 8);
		break;
	case 5:
		j->cfg_max = j->slot_size;
		break;
	default:
		j->cfg_max = 1 + (uint32_t)(st_rand() % (bytes - 8));
		break;
	}
	j->max_len = j->cfg_max ? j->cfg_max
	                        : st_default_max(j->stride, j->slot_count);
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

/* Add the session's figures; @sent is what it really published. */
static void st_add(struct st_totals *t, struct st_journal *j, uint64_t sent)
{
	uint64_t slots = st_slots(j, j->max_len);

	t->sessions++;
	t->sent += sent;
	t->received += j->received;
	t->lost += j->lost;
	t->duplicated += j->duplicated;
	t->torn += j->torn;
	t->gaps += j->gaps;
	t->errors += j->errors;
	for (unsigned k = 0; k < ST_K_COUNT; k++)
		t->calls[k] += j->calls[k];
	t->max_slots = slots > t->max_slots ? slots : t->max_slots;
}

/* ---- processes and threads -------------------------------------------- */

static pid_t st_fork_producer(struct st_journal *j, uint64_t first, int create)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(st_producer(j, first, create));
	return pid;
}

static pid_t st_fork_consumer(struct st_journal *j, uint64_t first)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(st_consumer(j, first));
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
	return (void *)(intptr_t)st_consumer(arg, 0);
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
	pc = st_fork_consumer(j, 0);
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
		struct st_journal *j = st_journal_new(s, 0);
		struct st_cstate cs;
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
		st_add(t, j, j->sent);
		cs = st_cstate_get(j);
		if (j->received != j->sent || cs.done != j->sent ||
		    st_plan_get(j).base != j->sent) {
			st_fail(j,
			        "session %u: sent %llu, received %llu, "
			        "consumed up to %llu",
			        s, (unsigned long long)j->sent,
			        (unsigned long long)j->received,
			        (unsigned long long)cs.done);
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

static uint64_t st_start_of(struct st_journal *j, uint64_t seq)
{
	return atomic_load_explicit(&j->start[seq & ST_MAP_MASK],
	                            memory_order_relaxed);
}

static uint64_t st_end_of(struct st_journal *j, uint64_t seq)
{
	return st_start_of(j, seq) + st_slots(j, st_len(j, seq));
}

static unsigned st_log2(uint32_t pow2)
{
	unsigned n = 0;

	while ((UINT32_C(1) << n) < pow2)
		n++;
	return n;
}

/* The record word at @i must be @type (1 message, 2 padding) of @len
 * bytes, written for the lap of @i (docs/format.md). */
static int st_word_is(struct st_journal *j, const struct st_view *v, uint64_t i,
                      uint32_t type, uint64_t len)
{
	uint64_t w = st_view_word(j, v, i);
	uint64_t lap =
	        (i >> st_log2(j->slot_count)) & ((UINT64_C(1) << 30) - 1);

	if ((uint32_t)w == len && ((w >> 32) & 3) == type && (w >> 34) == lap)
		return 1;
	st_fail(j,
	        "record word at %llu is %#llx: expected type %u len %llu "
	        "lap %llu",
	        (unsigned long long)i, (unsigned long long)w, type,
	        (unsigned long long)len, (unsigned long long)lap);
	return 0;
}

/*
 * The producer died: find where its successor starts. Every message below
 * the plan's base is published; of the call in flight, those that start
 * below the head the dead producer left are published too (a record is
 * published whole or not at all). The head must lie after the last of
 * them, or at the next one's start (padding published alone); the records
 * the consumer has not passed yet (at or after tail: not reused since) are
 * checked word by word. 0 and *@next, or -1.
 */
static int st_producer_dead(struct st_journal *j, const struct st_view *v,
                            uint64_t *next)
{
	struct st_plan pl = st_plan_get(j);
	uint64_t h = st_view_head(v), tail = st_view_tail(v), s, e;

	for (s = pl.base; s < pl.end && st_start_of(j, s) < h; s++)
		if (st_start_of(j, s) >= tail &&
		    !st_word_is(j, v, st_start_of(j, s), 1, st_len(j, s)))
			return -1;
	e = s > pl.base ? st_end_of(j, s - 1) : pl.head0;
	if (h < pl.head0 || h < e ||
	    (h != e && !(s < pl.end && h == st_start_of(j, s)))) {
		st_fail(j,
		        "producer died with head %llu: the call from %llu "
		        "(head %llu) planned %llu..%llu, published %llu "
		        "ending at %llu",
		        (unsigned long long)h, (unsigned long long)pl.base,
		        (unsigned long long)pl.head0,
		        (unsigned long long)pl.base, (unsigned long long)pl.end,
		        (unsigned long long)s, (unsigned long long)e);
		return -1;
	}
	if (h != e && e >= tail &&
	    !st_word_is(j, v, e, 2, (h - e) * j->stride - 8))
		return -1;
	*next = s;
	atomic_store(&j->p_end, s);
	st_plan_put(j, s, h, s);
	return 0;
}

/*
 * The consumer died: find where its successor starts, exactly. Messages
 * below its recorded `done` are consumed; of the next ones, those that
 * start below the tail it left were consumed by the call in flight, which
 * may have taken: none (idle, peeking), one (recv), 0..n (recvv of n), or
 * none or all n (releasev of n: one index store). Every message it had
 * checked from there on is delivered again (at-least-once), and only
 * those. 0 and *@first, or -1.
 */
static int st_consumer_dead(struct st_journal *j, const struct st_view *v,
                            struct st_totals *t, uint64_t *first)
{
	struct st_cstate cs = st_cstate_get(j);
	uint64_t tail = st_view_tail(v), s, seen;
	/* Acquire: the producer journals a message's start before the
	 * library publishes it, and we read tail (which the consumer moved
	 * past it) before this. */
	uint64_t end = atomic_load_explicit(&j->p_end, memory_order_acquire);
	uint64_t most = cs.phase == ST_IN_RECV ? 1
	                : cs.phase == ST_IN_RECVV || cs.phase == ST_RELEASING
	                        ? cs.n
	                        : 0;
	int ok = 1;

	for (s = cs.done; ok && s < end && st_start_of(j, s) < tail; s++)
		ok = s - cs.done < most;
	if (ok && cs.phase == ST_RELEASING && s != cs.done &&
	    s != cs.done + cs.n)
		ok = 0;
	if (ok && s > 0 && tail < st_end_of(j, s - 1))
		ok = 0; /* tail inside a record */
	if (!ok) {
		st_fail(j,
		        "consumer died in phase %u (n %u, %u peeked) having "
		        "consumed up to %llu; tail %llu, message %llu at %llu",
		        cs.phase, cs.n, cs.peeked, (unsigned long long)cs.done,
		        (unsigned long long)tail, (unsigned long long)s,
		        (unsigned long long)st_start_of(j, s));
		return -1;
	}
	seen = atomic_load(&j->c_seen);
	t->redelivered += seen > s ? seen - s : 0;
	t->unrecorded += s - cs.done;
	*first = s;
	return 0;
}

/* Kill @victim at a random point or at its pause point, measure how long
 * the survivor takes to see EPEERDEAD, restart the victim. */
static int st_round(struct st_journal *j, pid_t pid[2], const struct st_view *v,
                    struct st_totals *t)
{
	int victim = (int)(st_rand() & 1), surv = !victim, paused, at;
	int pausing = st_rand() % 2 == 0;
	uint64_t t_kill, from, seen, next;

	usleep(1000 + st_rand() % 20000); /* let the stream run */
	paused = 0;
	if (pausing) {
		atomic_store(&j->pause_req[victim], 1);
		paused = st_wait_flag(&j->paused[victim], UINT64_C(2000000000));
	}
	atomic_store(&j->pd_seen_ns[surv], 0);
	atomic_store(&j->pd_armed[surv], 1);
	t_kill = st_now_ns();
	kill(pid[victim], SIGKILL);
	waitpid(pid[victim], NULL, 0);
	at = paused ? atomic_load(&j->paused_at[victim]) : ST_AT_NONE;
	t->at[at < ST_AT_COUNT ? at : ST_AT_NONE]++;
	if ((at == ST_AT_CLAIM || at == ST_AT_CLAIMV) &&
	    atomic_load(&j->paused_slots) > 1)
		t->multi++;
	atomic_store(&j->pause_req[victim], 0);
	atomic_store(&j->paused[victim], 0);
	atomic_store(&j->paused_at[victim], ST_AT_NONE);
	t->victims[victim]++;
	t->rounds++;
	if (!st_wait_flag((_Atomic int *)&j->pd_seen_ns[surv],
	                  UINT64_C(3000000000))) {
		st_fail(j, "%s did not see its peer's death within 3 s",
		        surv == ST_P ? "producer" : "consumer");
		return 1;
	}
	seen = atomic_load(&j->pd_seen_ns[surv]);
	from = atomic_load(&j->pd_call_ns[surv]);
	from = from > t_kill ? from : t_kill;
	if (t->nlat < t->maxlat)
		t->lat_us[t->nlat++] = (uint32_t)((seen - from) / 1000);
	atomic_store(&j->attached[victim], 0);
	if (victim == ST_P) {
		if (st_producer_dead(j, v, &next) != 0)
			return 1;
		pid[ST_P] = st_fork_producer(j, next, 0);
	} else {
		if (st_consumer_dead(j, v, t, &next) != 0)
			return 1;
		pid[ST_C] = st_fork_consumer(j, next);
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
	struct st_journal *j = st_journal_new(1000 + s, 1);
	struct st_view v = {0};
	struct st_cstate cs;
	uint64_t sent = 0;
	pid_t pid[2];
	int bad = 0;

	if (!j)
		return 1;
	j->limit = UINT64_MAX;
	pid[ST_P] = st_fork_producer(j, 0, 1);
	if (!st_wait_flag(&j->ready, UINT64_C(5000000000)) ||
	    st_view_map(j->name, &v) != 0) {
		st_fail(j, "session %u: ring %s not created", s, j->name);
		kill(pid[ST_P], SIGKILL);
		waitpid(pid[ST_P], NULL, 0);
		t->errors++;
		return 1;
	}
	pid[ST_C] = st_fork_consumer(j, 0);
	if (!st_wait_flag(&j->attached[ST_C], UINT64_C(5000000000)))
		bad = 1;
	for (unsigned r = 0; r < rounds && !bad && st_now_ns() < end; r++)
		bad = st_round(j, pid, &v, t) || j->errors != 0;
	atomic_store(&j->stop, 1);
	bad |= st_reap(pid[ST_P], UINT64_C(10000000000)) != 0;
	bad |= st_reap(pid[ST_C], UINT64_C(10000000000)) != 0;
	cs = st_cstate_get(j);
	sent = st_plan_get(j).base;
	if (!bad && (cs.done != sent || st_view_tail(&v) != st_view_head(&v))) {
		st_fail(j,
		        "session %u: consumer ended at %llu (tail %llu), "
		        "producer at %llu (head %llu)",
		        s, (unsigned long long)cs.done,
		        (unsigned long long)st_view_tail(&v),
		        (unsigned long long)sent,
		        (unsigned long long)st_view_head(&v));
		bad = 1;
	}
	st_view_unmap(&v);
	st_add(t, j, sent);
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

	t->maxlat = o->kill_rounds;
	t->lat_us = calloc(o->kill_rounds, sizeof *t->lat_us);
	if (!t->lat_us)
		return 1;
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
	static const char *const kn[ST_K_COUNT] = {
	        "send",         "sendv", "claim",        "claimv",
	        "commitv_part", "recv",  "recv_small",   "recvv",
	        "peek",         "peekv", "releasev_part"};

	printf("stress: %s seed=%llu seconds=%.1f sessions=%llu "
	       "max_record_slots=%llu sent=%llu received=%llu "
	       "lost=%llu duplicated=%llu torn=%llu gaps=%llu leaked=%llu "
	       "errors=%llu",
	       o->kill_rounds ? "kill"
	       : o->threads   ? "threads"
	                      : "processes",
	       (unsigned long long)o->seed, secs,
	       (unsigned long long)t->sessions,
	       (unsigned long long)t->max_slots, (unsigned long long)t->sent,
	       (unsigned long long)t->received, (unsigned long long)t->lost,
	       (unsigned long long)t->duplicated, (unsigned long long)t->torn,
	       (unsigned long long)t->gaps, (unsigned long long)t->leaked,
	       (unsigned long long)t->errors);
	printf(" calls:");
	for (unsigned k = 0; k < ST_K_COUNT; k++)
		printf("%s%s=%llu", k ? "," : "", kn[k],
		       (unsigned long long)t->calls[k]);
	if (o->kill_rounds && t->nlat) {
		qsort(t->lat_us, t->nlat, sizeof t->lat_us[0], st_cmp_u32);
		printf(" rounds=%llu killed_producer=%llu killed_consumer=%llu "
		       "at_random=%llu at_claim_commit=%llu "
		       "at_claimv_commitv=%llu multi_slot_claims=%llu "
		       "at_peek_release=%llu at_peekv_releasev=%llu "
		       "consumed_unrecorded=%llu redelivered=%llu "
		       "detect_ms_p50=%.1f detect_ms_p99=%.1f "
		       "detect_ms_max=%.1f",
		       (unsigned long long)t->rounds,
		       (unsigned long long)t->victims[ST_P],
		       (unsigned long long)t->victims[ST_C],
		       (unsigned long long)t->at[ST_AT_NONE],
		       (unsigned long long)t->at[ST_AT_CLAIM],
		       (unsigned long long)t->at[ST_AT_CLAIMV],
		       (unsigned long long)t->multi,
		       (unsigned long long)t->at[ST_AT_PEEK],
		       (unsigned long long)t->at[ST_AT_PEEKV],
		       (unsigned long long)t->unrecorded,
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
	free(t.lat_us);
	return bad ? 1 : 0;
}
