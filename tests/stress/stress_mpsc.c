/* SPDX-License-Identifier: MIT */
/*
 * stress_mpsc.c -- SIGKILL rounds on SHMRING_F_MPSC rings.
 *
 *   stress_mpsc [--rounds N] [--producers P] [--seconds S] [--seed X]
 *
 * P producer processes (default 4) stream verified messages into one
 * consumer process: each message carries its stream (the logical
 * producer), its sequence number in that stream, the time taken before
 * the call that sent it, and an FNV-1a checksum; lengths run from the
 * 28-byte header to max_msg, so records cover one slot or hundreds; every
 * producer call is used (send, sendv, claim/commit committed shorter,
 * claimv/commitv of all or fewer), and claims now and then sleep before
 * their commit. Each round the driver SIGKILLs one producer, at a random
 * point or paused between claim (or claimv) and commit, and starts a new
 * process for its stream at once.
 *
 * Each producer keeps a journal in shared memory: `next` (every message
 * below it was committed: its commit returned OK), and the call in flight:
 * the messages [lo, hi) it covers and its state (in a call, claimed and not
 * committed, in the commit). The new process of a killed stream starts at
 * hi, so a message of the dead one's call in flight that was committed is
 * not sent twice; those of them that never arrive are the kill's in-flight
 * messages. After each kill the consumer must get past the dead producer's
 * claims: the driver waits until it delivers a message sent by a call that
 * began after the death was confirmed (waitpid), so every record the dead
 * one claimed is behind it; the time from the kill is the detection time,
 * and the growth of shmring_stats.abandoned until then is the kill's holes.
 *
 * Checked: nothing duplicated or reordered (per stream, the sequence only
 * grows), nothing torn (length and checksum), nothing lost (every gap in a
 * stream lies within a killed call's [lo, hi), and at the end every stream
 * is delivered up to its journal's `next`); a kill between claim and commit
 * leaves its claimed records missing and at least one hole (one per claim:
 * the records of one claimv share a claim), any other kill at most one hole
 * per message of its call, never more than are missing; the sum of
 * holes is the consumer's abandoned counter, in its handle and in the
 * segment (shmring_inspect); p99 of the detection time over kills that left
 * a hole is at most 200 ms. Rings are replaced every 40 rounds (random
 * geometry), so the 32-entry producer table fills with dead entries and they
 * are taken over. One summary line; exit 0 on success, 1 on failure, 77 if
 * shared memory is unavailable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mpsc_msg.h"
#include "shmring.h"

#define NP_MAX        8
#define ROUNDS_PER    40 /* per ring: 4 + 40 producer processes > 32 */
#define GAP_MAX       8192
#define MM_BATCH      8
#define MM_SMALL      40
#define DETECT_MAX_NS UINT64_C(200000000)
#define SEC           UINT64_C(1000000000)

/* journal states */
enum { J_IDLE, J_CALL, J_CLAIMED, J_COMMIT };
/* call kinds */
enum { K_SEND, K_SENDV, K_CLAIM, K_CLAIMV, K_COMMITV_PART, K_PK };
enum { K_RECV, K_RECV_SMALL, K_RECVV, K_PEEK, K_PEEKV, K_RELV_PART, K_CK };

struct pj { /* one stream's journal, written by its current process */
	_Atomic uint64_t next;   /* every seq below it is committed */
	_Atomic uint64_t lo, hi; /* the call in flight covers [lo, hi) */
	_Atomic uint32_t state;  /* J_* */
	_Atomic uint32_t slots;  /* largest record claimed (J_CLAIMED) */
	_Atomic int pause_req, paused, attached, rc;
	_Atomic uint64_t calls[K_PK];
};

struct gap {
	uint32_t id;
	uint64_t lo, hi;
};

struct sess {
	char name[64];
	shmring_config cfg;
	struct mm_stream mm;
	uint32_t stride, nprod;
	_Atomic int stop, cons_ready;
	struct pj p[NP_MAX];
	/* the round the consumer must get past */
	_Atomic uint64_t r_dead_ns, r_id, r_passed, r_pass_ns, r_pass_ab;
	/* consumer */
	_Atomic uint64_t c_next[NP_MAX]; /* last delivered + 1 */
	_Atomic uint64_t c_total, c_abandoned, c_calls[K_CK];
	_Atomic int c_rc, c_done, c_bad;
	char c_err[256];
	_Atomic uint32_t ngaps;
	struct gap gaps[GAP_MAX];
};

struct win { /* one kill */
	uint32_t id, state;
	uint64_t lo, hi, holes;
};

struct totals {
	uint64_t rounds, sessions, kills[4], multi, holes, holes_definite,
	        claimed_records, holes_call, missing, lost, dup_torn, errors,
	        sent, received, abandoned, end_closed, end_dead, calls[K_PK],
	        ccalls[K_CK];
	uint32_t *lat_hole, *lat_all;
	unsigned nhole, nall, cap;
};

static uint64_t rng_state;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static uint64_t drand(void)
{
	return mm_rnd(&rng_state);
}

static int wait_flag(_Atomic int *f, int want, uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (atomic_load(f) != want && now_ns() < end)
		sleep_us(100);
	return atomic_load(f) == want;
}

/* ---- messages ----------------------------------------------------------- */

static uint32_t mm_slots(const struct sess *s, size_t len)
{
	return (uint32_t)((len + 8 + s->stride - 1) / s->stride);
}

/* ---- producers ---------------------------------------------------------- */

struct prod {
	struct sess *s;
	struct pj *j;
	shmring *r;
	uint32_t id;
	uint64_t seq, rng;
	uint8_t *buf;
};

/* The journal around a call: it covers [seq, seq + k). */
static void j_begin(struct prod *p, size_t k)
{
	atomic_store(&p->j->lo, p->seq);
	atomic_store(&p->j->hi, p->seq + k);
	atomic_store(&p->j->state, J_CALL);
}

static void j_end(struct prod *p, size_t sent)
{
	p->seq += sent;
	atomic_store(&p->j->next, p->seq);
	atomic_store(&p->j->state, J_IDLE);
}

/* Claimed @n records, the largest of @len bytes: between claim and commit.
 * Paused there if asked (never returns), or sometimes asleep. */
static void j_claimed(struct prod *p, size_t n, size_t len, uint64_t x)
{
	atomic_store(&p->j->hi, p->seq + n);
	atomic_store(&p->j->slots, mm_slots(p->s, len));
	atomic_store(&p->j->state, J_CLAIMED);
	if (atomic_load(&p->j->pause_req)) {
		atomic_store(&p->j->paused, 1);
		for (;;)
			pause();
	}
	if (x % 8 == 0)
		sleep_us(20 + (unsigned)((x >> 8) % 500));
}

static int prod_step(struct prod *p)
{
	const struct sess *s = p->s;
	uint64_t x = mm_rnd(&p->rng), big = mm_rnd(&p->rng), stamp;
	int to = mm_timeout(x >> 8, 2), rc;
	size_t k = 1 + (size_t)((x >> 16) % MM_BATCH), n = 0, len, m, most;
	size_t lens[MM_BATCH];
	unsigned kind = (unsigned)(x % 4);

	if (atomic_load(&p->j->pause_req))
		kind = 2 + (unsigned)(x & 1); /* a claim, to pause in */
	stamp = now_ns();
	switch (kind) {
	case 0:
		len = mm_len(&s->mm, p->id, p->seq);
		mm_fill(&s->mm, p->buf, len, p->id, p->seq, stamp);
		j_begin(p, 1);
		rc = shmring_send(p->r, p->buf, len, to);
		j_end(p, rc == SHMRING_OK);
		atomic_fetch_add(&p->j->calls[K_SEND], 1);
		break;
	case 1: {
		shmring_msg v[MM_BATCH];
		mm_fillv(&s->mm, v, p->buf, k, p->id, p->seq, stamp);
		j_begin(p, k);
		rc = shmring_sendv(p->r, v, k, &n, to);
		j_end(p, n);
		atomic_fetch_add(&p->j->calls[K_SENDV], 1);
		break;
	}
	case 2: {
		void *w;
		size_t want;
		len = mm_len(&s->mm, p->id, p->seq);
		want = big & 1 ? s->mm.max : len;
		j_begin(p, 1);
		rc = shmring_claim(p->r, want, &w, to);
		if (rc != SHMRING_OK) {
			j_end(p, 0);
			break;
		}
		memset(w, 0xee, len / 2); /* half written when paused */
		j_claimed(p, 1, want, big >> 8);
		mm_fill(&s->mm, w, len, p->id, p->seq, stamp);
		atomic_store(&p->j->state, J_COMMIT);
		rc = shmring_commit(p->r, len);
		j_end(p, rc == SHMRING_OK);
		atomic_fetch_add(&p->j->calls[K_CLAIM], 1);
		break;
	}
	default: {
		shmring_buf b[MM_BATCH];
		int exact =
		        mm_claim_sizes(&s->mm, b, lens, k, p->id, p->seq, big);
		most = 0;
		j_begin(p, k);
		rc = shmring_claimv(p->r, b, k, &n, to);
		if (rc != SHMRING_OK) {
			j_end(p, 0);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			mm_fill(&s->mm, b[i].data, lens[i], p->id, p->seq + i,
			        stamp);
			most = b[i].len > most ? b[i].len : most;
		}
		j_claimed(p, n, most, big >> 8);
		m = (big >> 30) % 4 == 0 ? (size_t)((big >> 32) % n) : n;
		atomic_store(&p->j->state, J_COMMIT);
		rc = shmring_commitv(p->r, exact ? NULL : lens, m);
		j_end(p, rc == SHMRING_OK ? m : 0);
		atomic_fetch_add(&p->j->calls[K_CLAIMV], 1);
		if (m < n)
			atomic_fetch_add(&p->j->calls[K_COMMITV_PART], 1);
		break;
	}
	}
	if ((big >> 40) % 256 == 0)
		sleep_us((unsigned)((big >> 48) % 500));
	return mm_retry(rc) ? SHMRING_OK : rc;
}

static int producer_main(struct sess *s, uint32_t id, uint64_t first,
                         uint64_t gen)
{
	struct prod p = {.s = s,
	                 .j = &s->p[id],
	                 .id = id,
	                 .seq = first,
	                 .rng = mm_mix(s->mm.seed ^ (gen << 8) ^ id)};
	int rc = shmring_open(s->name, SHMRING_PRODUCER, &p.r);

	atomic_store(&p.j->rc, rc);
	if (rc != SHMRING_OK)
		return 10;
	p.buf = malloc((size_t)MM_BATCH * s->mm.max);
	if (!p.buf)
		return 11;
	atomic_store(&p.j->attached, 1);
	while (rc == SHMRING_OK && !atomic_load(&s->stop))
		rc = prod_step(&p);
	atomic_store(&p.j->rc, rc);
	shmring_close(p.r);
	free(p.buf);
	return rc == SHMRING_OK ? 0 : 12;
}

/* ---- the consumer ------------------------------------------------------- */

static int cons_fail(struct sess *s, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int cons_fail(struct sess *s, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&s->c_bad, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(s->c_err, sizeof s->c_err, fmt, ap);
		va_end(ap);
	}
	return 1000;
}

/* One message: its stream's sequence only grows (gaps are logged for the
 * driver), and it is whole. Its stamp into *@stamp. */
static int cons_check(struct sess *s, const void *data, size_t len,
                      uint64_t *stamp)
{
	struct mm_hdr h;
	enum mm_verdict v =
	        mm_check(&s->mm, s->c_next, s->nprod, data, len, &h);
	uint32_t g;

	if (v == MM_GAP) {
		g = atomic_load(&s->ngaps);
		if (g >= GAP_MAX)
			return cons_fail(s, "too many gaps");
		s->gaps[g] = (struct gap){h.id, h.due, h.seq};
		atomic_store(&s->ngaps, g + 1);
	} else if (v != MM_OK) {
		return cons_fail(s,
		                 "stream %u: message %llu (%zu bytes), %llu "
		                 "due: %s",
		                 h.id, (unsigned long long)h.seq, len,
		                 (unsigned long long)h.due, mm_what(v));
	}
	atomic_fetch_add(&s->c_total, 1);
	*stamp = h.stamp;
	return 0;
}

/* After a call that returned messages, the newest stamp among them: past
 * the armed round's death? */
static void cons_round(struct sess *s, shmring *r, uint64_t stamp)
{
	uint64_t id = atomic_load(&s->r_id), t = now_ns();
	shmring_stats st;

	if (id == atomic_load(&s->r_passed) ||
	    stamp <= atomic_load(&s->r_dead_ns))
		return;
	shmring_get_stats(r, &st);
	atomic_store(&s->r_pass_ns, t);
	atomic_store(&s->r_pass_ab, st.abandoned);
	atomic_store(&s->r_passed, id);
}

static int cons_step(struct sess *s, shmring *h, uint8_t *buf, uint64_t *rng)
{
	uint64_t x = mm_rnd(rng), stamp = 0, st1;
	size_t k = 1 + (size_t)((x >> 16) % MM_BATCH), len, n = 0;
	int to = (x >> 8) % 16 == 0 ? SHMRING_NOWAIT : 200, rc, bad = 0;
	const void *d;

	switch (x % 5) {
	case 0:
		rc = shmring_recv(h, buf, s->mm.max, &len, to);
		if (rc == SHMRING_OK)
			bad = cons_check(s, buf, len, &stamp);
		atomic_fetch_add(&s->c_calls[K_RECV], 1);
		break;
	case 1:
		rc = shmring_recv(h, buf, MM_SMALL, &len, to);
		if (rc == SHMRING_EMSGSIZE) {
			size_t need = len;
			atomic_fetch_add(&s->c_calls[K_RECV_SMALL], 1);
			rc = shmring_recv(h, buf, s->mm.max, &len,
			                  SHMRING_NOWAIT);
			if (rc == SHMRING_OK && len != need)
				return cons_fail(s,
				                 "EMSGSIZE said %zu, got %zu",
				                 need, len);
		}
		if (rc == SHMRING_OK)
			bad = cons_check(s, buf, len, &stamp);
		atomic_fetch_add(&s->c_calls[K_RECV], 1);
		break;
	case 2: {
		shmring_buf v[MM_BATCH];
		for (size_t i = 0; i < k; i++)
			v[i] = (shmring_buf){buf + i * s->mm.max, s->mm.max};
		rc = shmring_recvv(h, v, k, &n, to);
		for (size_t i = 0; rc == SHMRING_OK && i < n && !bad; i++) {
			bad = cons_check(s, v[i].data, v[i].len, &st1);
			stamp = st1 > stamp ? st1 : stamp;
		}
		atomic_fetch_add(&s->c_calls[K_RECVV], 1);
		break;
	}
	case 3:
		rc = shmring_peek(h, &d, &len, to);
		if (rc == SHMRING_OK) {
			bad = cons_check(s, d, len, &stamp);
			if (!bad)
				rc = shmring_release(h);
		}
		atomic_fetch_add(&s->c_calls[K_PEEK], 1);
		break;
	default: {
		shmring_msg a[MM_BATCH], b[MM_BATCH];
		size_t first, again;
		rc = shmring_peekv(h, a, k, &n, to);
		atomic_fetch_add(&s->c_calls[K_PEEKV], 1);
		if (rc != SHMRING_OK)
			break;
		for (size_t i = 0; i < n && !bad; i++) {
			bad = cons_check(s, a[i].data, a[i].len, &st1);
			stamp = st1 > stamp ? st1 : stamp;
		}
		if (bad)
			break;
		first = 1 + (size_t)((x >> 40) % n);
		rc = shmring_releasev(h, first);
		if (rc == SHMRING_OK && first < n) {
			atomic_fetch_add(&s->c_calls[K_RELV_PART], 1);
			rc = shmring_peekv(h, b, n - first, &again, 0);
			if (rc == SHMRING_OK && again != n - first)
				return cons_fail(s, "peekv again: %zu of %zu",
				                 again, n - first);
			for (size_t i = 0; rc == SHMRING_OK && i < again; i++)
				if (b[i].data != a[first + i].data)
					return cons_fail(s, "peekv again moved "
					                    "a message");
			if (rc == SHMRING_OK)
				rc = shmring_releasev(h, n - first);
		}
		break;
	}
	}
	if (bad)
		return bad;
	if (stamp)
		cons_round(s, h, stamp);
	return mm_retry(rc) ? SHMRING_OK : rc;
}

static int consumer_main(struct sess *s)
{
	uint64_t rng = s->mm.seed ^ 0xc0ffee;
	shmring_stats st;
	uint8_t *buf = malloc((size_t)MM_BATCH * s->mm.max);
	shmring *h;
	int rc = buf ? shmring_create(s->name, &s->cfg, SHMRING_CONSUMER, &h)
	             : SHMRING_ENOMEM;

	if (rc != SHMRING_OK) {
		atomic_store(&s->c_rc, rc);
		atomic_store(&s->c_done, 1);
		return 10;
	}
	atomic_store(&s->cons_ready, 1);
	do
		rc = cons_step(s, h, buf, &rng);
	while (rc == SHMRING_OK);
	shmring_get_stats(h, &st);
	atomic_store(&s->c_abandoned, st.abandoned);
	atomic_store(&s->c_rc, rc);
	atomic_store(&s->c_done, 1);
	shmring_close(h);
	free(buf);
	return 0;
}

/* ---- the driver --------------------------------------------------------- */

static pid_t fork_run(struct sess *s, int consumer, uint32_t id, uint64_t first,
                      uint64_t gen)
{
	pid_t parent = getpid(), pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	_exit(consumer ? consumer_main(s) : producer_main(s, id, first, gen));
}

static int reap(pid_t pid, uint64_t ns)
{
	uint64_t end = now_ns() + ns;
	int st;

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		sleep_us(1000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "stress-mpsc: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* A random geometry: 16- to 320-byte strides, 64 to 4096 slots, at most
 * 256 KiB; max_msg from three slots to 8 KiB, at most a quarter of the
 * ring. */
static void sess_geometry(struct sess *s, unsigned n)
{
	static const uint32_t sizes[] = {8, 24, 40, 56, 120, 248, 312};
	uint32_t size = sizes[drand() % 7], count = 64u << (drand() % 7);
	uint64_t bytes, cap, max;

	s->stride = (8u + size + 15u) & ~15u;
	while ((uint64_t)s->stride * count > (256u << 10))
		count >>= 1;
	bytes = (uint64_t)s->stride * count;
	cap = bytes / 4 < 8192 ? bytes / 4 : 8192;
	max = 3 * (uint64_t)s->stride + drand() % 8192;
	max = max < cap ? max : cap;
	max = max > MM_HDR + 64 ? max : MM_HDR + 64;
	snprintf(s->name, sizeof s->name, "stress-mpsc-%ld-%u", (long)getpid(),
	         n);
	s->cfg = (shmring_config){.slot_size = size,
	                          .slot_count = count,
	                          .flags = SHMRING_F_MPSC,
	                          .max_msg = (uint32_t)max};
	s->mm = (struct mm_stream){.seed = drand(),
	                           .max = (uint32_t)max,
	                           .one = s->stride - 8}; /* stamps: times */
}

/* Is [a, b) of stream @id covered by the kill windows? The first seq not
 * covered, or b. */
static uint64_t covered(const struct win *w, unsigned nw, uint32_t id,
                        uint64_t a, uint64_t b)
{
	for (unsigned i = 0; i < nw && a < b; i++)
		if (w[i].id == id && w[i].lo <= a && a < w[i].hi)
			a = w[i].hi;
	return a < b ? a : b;
}

/* Seqs of [lo, hi) of stream @id that never arrived. */
static uint64_t missing_in(const struct sess *s, uint32_t id, uint64_t lo,
                           uint64_t hi)
{
	uint64_t n = 0;

	for (uint32_t g = 0; g < s->ngaps; g++) {
		const struct gap *p = &s->gaps[g];
		uint64_t a = p->lo > lo ? p->lo : lo;
		uint64_t b = p->hi < hi ? p->hi : hi;
		if (p->id == id && a < b)
			n += b - a;
	}
	return n;
}

static int kill_round(struct sess *s, pid_t *pid, uint64_t *gen, struct win *w,
                      uint64_t round, uint64_t *ab, struct totals *t)
{
	uint32_t v = (uint32_t)(drand() % s->nprod), state, slots;
	struct pj *j = &s->p[v];
	uint64_t t_kill, t_dead, restart, holes, lat;
	int paused = 0;

	sleep_us(2000 + (unsigned)(drand() % 28000)); /* let it stream */
	if (drand() % 2 == 0) {
		atomic_store(&j->pause_req, 1);
		paused = wait_flag(&j->paused, 1, 2 * SEC);
		if (paused) /* the consumer reaches the claim and waits */
			sleep_us((unsigned)(drand() % 20000));
	}
	t_kill = now_ns();
	kill(pid[v], SIGKILL);
	waitpid(pid[v], NULL, 0);
	t_dead = now_ns();
	state = atomic_load(&j->state);
	slots = atomic_load(&j->slots);
	*w = (struct win){.id = v, .state = state};
	if (state == J_IDLE) {
		w->lo = w->hi = atomic_load(&j->next);
	} else {
		w->lo = atomic_load(&j->lo);
		w->hi = atomic_load(&j->hi);
	}
	if (paused && state != J_CLAIMED)
		return fail("paused stream %u in state %u", v, state);
	restart = w->hi;
	t->kills[state]++;
	t->multi += state == J_CLAIMED && slots > 1;
	/* the consumer must get past every claim of the dead one */
	atomic_store(&s->r_dead_ns, t_dead);
	atomic_store(&s->r_id, round);
	/* the stream goes on in a new process, from the call's end */
	atomic_store(&j->next, restart);
	atomic_store(&j->state, J_IDLE);
	atomic_store(&j->pause_req, 0);
	atomic_store(&j->paused, 0);
	atomic_store(&j->attached, 0);
	pid[v] = fork_run(s, 0, v, restart, ++gen[v]);
	if (!wait_flag(&j->attached, 1, 5 * SEC))
		return fail("%s: the new producer %u did not attach: %s",
		            s->name, v, shmring_strerror(atomic_load(&j->rc)));
	for (uint64_t end = now_ns() + 5 * SEC;
	     atomic_load(&s->r_passed) != round && now_ns() < end;)
		sleep_us(100);
	if (atomic_load(&s->r_passed) != round)
		return fail("%s: round %llu: the consumer is stuck behind the "
		            "dead producer %u (state %u, [%llu, %llu)), %s%s",
		            s->name, (unsigned long long)round, v, state,
		            (unsigned long long)w->lo,
		            (unsigned long long)w->hi,
		            atomic_load(&s->c_done) ? "ended: " : "running",
		            atomic_load(&s->c_done)
		                    ? shmring_strerror(atomic_load(&s->c_rc))
		                    : "");
	lat = atomic_load(&s->r_pass_ns) - t_kill;
	holes = atomic_load(&s->r_pass_ab) - *ab;
	*ab += holes;
	w->holes = holes;
	if (t->nall < t->cap)
		t->lat_all[t->nall++] = (uint32_t)(lat / 1000);
	if (holes && t->nhole < t->cap)
		t->lat_hole[t->nhole++] = (uint32_t)(lat / 1000);
	t->holes += holes;
	if (getenv("STRESS_MPSC_TRACE"))
		fprintf(stderr,
		        "stress-mpsc: round %llu stream %u state %u [%llu, "
		        "%llu) holes %llu paused %d: past it %.1f ms after the "
		        "kill (death confirmed %.1f ms after)\n",
		        (unsigned long long)round, v, state,
		        (unsigned long long)w->lo, (unsigned long long)w->hi,
		        (unsigned long long)holes, paused, lat / 1e6,
		        (t_dead - t_kill) / 1e6);
	if (state == J_CLAIMED) {
		/* Its records are holes; the library counts a claim, and a
		 * claimv's records share one claim (one span): 1..records. */
		t->holes_definite += holes;
		t->claimed_records += w->hi - w->lo;
		if (holes == 0 || holes > w->hi - w->lo)
			return fail("%s: round %llu: stream %u killed holding "
			            "%llu claimed records: %llu abandoned",
			            s->name, (unsigned long long)round, v,
			            (unsigned long long)(w->hi - w->lo),
			            (unsigned long long)holes);
	} else {
		t->holes_call += holes;
		if (holes > w->hi - w->lo)
			return fail("%s: round %llu: stream %u killed in state "
			            "%u over %llu messages: %llu abandoned",
			            s->name, (unsigned long long)round, v,
			            state, (unsigned long long)(w->hi - w->lo),
			            (unsigned long long)holes);
	}
	t->rounds++;
	return 0;
}

static int session(unsigned n, unsigned rounds, unsigned nprod, uint64_t end,
                   struct totals *t)
{
	struct sess *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
	                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct win w[ROUNDS_PER];
	uint64_t gen[NP_MAX] = {0}, ab = 0, sent = 0;
	pid_t pid[NP_MAX], cons;
	shmring_info info;
	unsigned nw = 0;
	int bad = 0, rc;

	if (s == MAP_FAILED)
		return fail("mmap");
	memset(s, 0, sizeof *s);
	sess_geometry(s, n);
	s->nprod = nprod;
	cons = fork_run(s, 1, 0, 0, 0);
	if (!wait_flag(&s->cons_ready, 1, 5 * SEC)) {
		bad = fail("%s: consumer: %s", s->name,
		           shmring_strerror(atomic_load(&s->c_rc)));
		kill(cons, SIGKILL);
		waitpid(cons, NULL, 0);
		munmap(s, sizeof *s);
		return bad;
	}
	for (uint32_t i = 0; i < nprod; i++) {
		pid[i] = fork_run(s, 0, i, 0, 0);
		if (!wait_flag(&s->p[i].attached, 1, 5 * SEC))
			bad = fail("%s: producer %u: %s", s->name, i,
			           shmring_strerror(atomic_load(&s->p[i].rc)));
	}
	for (unsigned r = 0; r < rounds && !bad && now_ns() < end; r++) {
		bad = kill_round(s, pid, gen, &w[nw], r + 1, &ab, t);
		nw++; /* its window, also when the round failed */
		if (atomic_load(&s->c_done))
			bad = fail("%s: the stream ended: %s (%s)", s->name,
			           shmring_strerror(atomic_load(&s->c_rc)),
			           s->c_err);
	}
	atomic_store(&s->stop, 1);
	for (uint32_t i = 0; i < nprod; i++)
		if (reap(pid[i], 10 * SEC) != 0)
			bad |= fail("%s: producer %u: exit not 0: %s", s->name,
			            i,
			            shmring_strerror(atomic_load(&s->p[i].rc)));
	if (reap(cons, 10 * SEC) != 0 || !atomic_load(&s->c_done))
		bad |= fail("%s: the consumer did not end", s->name);
	rc = atomic_load(&s->c_rc);
	if (s->c_bad) {
		t->dup_torn++;
		bad |= fail("%s: %s", s->name, s->c_err);
	}
	if (rc == SHMRING_ECLOSED)
		t->end_closed++;
	else if (rc == SHMRING_EPEERDEAD)
		t->end_dead++;
	else
		bad |= fail("%s: the stream ended with %s", s->name,
		            shmring_strerror(rc));
	/* every gap, and what is missing at the end, lies in kill windows */
	for (uint32_t g = 0; g < s->ngaps; g++) {
		const struct gap *p = &s->gaps[g];
		uint64_t u = covered(w, nw, p->id, p->lo, p->hi);
		t->missing += p->hi - p->lo;
		if (u < p->hi) {
			t->lost += p->hi - u;
			bad |= fail("%s: stream %u: %llu lost (gap %llu..%llu)",
			            s->name, p->id, (unsigned long long)u,
			            (unsigned long long)p->lo,
			            (unsigned long long)p->hi);
		}
	}
	for (uint32_t i = 0; i < nprod; i++) {
		uint64_t next = atomic_load(&s->p[i].next);
		uint64_t got = atomic_load(&s->c_next[i]);
		sent += next;
		if (got > next) {
			bad |= fail("%s: stream %u: %llu delivered, %llu sent",
			            s->name, i, (unsigned long long)got,
			            (unsigned long long)next);
		} else if (got < next) {
			uint64_t u = covered(w, nw, i, got, next);
			t->missing += next - got;
			if (u < next) {
				t->lost += next - u;
				bad |= fail("%s: stream %u: %llu..%llu never "
				            "delivered",
				            s->name, i, (unsigned long long)u,
				            (unsigned long long)next);
			}
		}
		for (int k = 0; k < K_PK; k++)
			t->calls[k] += s->p[i].calls[k];
	}
	/* a kill between claim and commit: its claims all missing */
	for (unsigned i = 0; i < nw; i++) {
		uint64_t miss = missing_in(s, w[i].id, w[i].lo, w[i].hi);
		uint64_t tail = atomic_load(&s->c_next[w[i].id]);
		if (tail < w[i].hi) /* the stream's end is missing too */
			miss += w[i].hi - (tail > w[i].lo ? tail : w[i].lo);
		if (w[i].state == J_CLAIMED && miss != w[i].hi - w[i].lo)
			bad |= fail(
			        "%s: stream %u: %llu of the %llu claimed, "
			        "never committed messages delivered",
			        s->name, w[i].id,
			        (unsigned long long)(w[i].hi - w[i].lo - miss),
			        (unsigned long long)(w[i].hi - w[i].lo));
		if (w[i].holes > miss)
			bad |= fail("%s: stream %u: %llu holes, %llu missing",
			            s->name, w[i].id,
			            (unsigned long long)w[i].holes,
			            (unsigned long long)miss);
	}
	if (s->c_abandoned != ab)
		bad |= fail("%s: consumer abandoned %llu, rounds counted %llu",
		            s->name, (unsigned long long)s->c_abandoned,
		            (unsigned long long)ab);
	if (shmring_inspect(s->name, &info) != SHMRING_OK ||
	    info.consumer.counters.abandoned != s->c_abandoned)
		bad |= fail(
		        "%s: segment counter abandoned %llu, handle %llu",
		        s->name,
		        (unsigned long long)info.consumer.counters.abandoned,
		        (unsigned long long)s->c_abandoned);
	if (shmring_unlink(s->name) != SHMRING_OK)
		bad |= fail("%s: unlink", s->name);
	for (int k = 0; k < K_CK; k++)
		t->ccalls[k] += s->c_calls[k];
	t->sent += sent;
	t->received += s->c_total;
	t->abandoned += s->c_abandoned;
	t->sessions++;
	t->errors += bad != 0;
	munmap(s, sizeof *s);
	return bad;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static double pct(uint32_t *v, unsigned n, unsigned p)
{
	if (!n)
		return 0;
	return v[(n * p) / 100 < n ? (n * p) / 100 : n - 1] / 1e3;
}

int main(int argc, char **argv)
{
	unsigned rounds = 50, nprod = 4, done = 0;
	uint64_t seed = (uint64_t)getpid() ^ now_ns(), t0 = now_ns(), end;
	double seconds = 60;
	static struct totals t;
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			goto usage;
		if (!strcmp(a, "--rounds"))
			rounds = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--producers"))
			nprod = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--seconds"))
			seconds = strtod(v, NULL);
		else if (!strcmp(a, "--seed"))
			seed = strtoull(v, NULL, 0);
		else
			goto usage;
		i++;
	}
	if (nprod < 2 || nprod > NP_MAX || rounds == 0)
		goto usage;
	if (access("/dev/shm", W_OK) != 0)
		return 77;
	signal(SIGPIPE, SIG_IGN);
	rng_state = seed;
	end = t0 + (uint64_t)(seconds * 1e9);
	t.cap = rounds;
	t.lat_hole = calloc(rounds, sizeof *t.lat_hole);
	t.lat_all = calloc(rounds, sizeof *t.lat_all);
	if (!t.lat_hole || !t.lat_all)
		return 1;
	for (unsigned n = 0; done < rounds && !bad && now_ns() < end; n++) {
		unsigned k =
		        rounds - done < ROUNDS_PER ? rounds - done : ROUNDS_PER;
		bad = session(n, k, nprod, end, &t);
		done += k;
	}
	qsort(t.lat_hole, t.nhole, sizeof *t.lat_hole, cmp_u32);
	qsort(t.lat_all, t.nall, sizeof *t.lat_all, cmp_u32);
	if (t.nhole && pct(t.lat_hole, t.nhole, 99) * 1e6 > DETECT_MAX_NS) {
		fprintf(stderr, "stress-mpsc: p99 time past a hole is over "
		                "200 ms\n");
		bad = 1;
	}
	if (t.rounds < rounds && !bad) {
		fprintf(stderr,
		        "stress-mpsc: only %llu of %u rounds in %.0f s\n",
		        (unsigned long long)t.rounds, rounds, seconds);
		bad = 1;
	}
	bad |= t.lost || t.dup_torn || t.errors;
	printf("stress-mpsc: seed=%llu seconds=%.1f sessions=%llu "
	       "producers=%u rounds=%llu kills_idle=%llu kills_in_call=%llu "
	       "kills_claimed=%llu (multi_slot=%llu) kills_in_commit=%llu "
	       "sent=%llu received=%llu lost=%llu duplicated_or_torn=%llu "
	       "inflight_missing=%llu holes=%llu (at_claimed=%llu of "
	       "claimed_records=%llu, in_call=%llu) "
	       "abandoned=%llu end_eclosed=%llu end_epeerdead=%llu",
	       (unsigned long long)seed, (now_ns() - t0) / 1e9,
	       (unsigned long long)t.sessions, nprod,
	       (unsigned long long)t.rounds,
	       (unsigned long long)t.kills[J_IDLE],
	       (unsigned long long)t.kills[J_CALL],
	       (unsigned long long)t.kills[J_CLAIMED],
	       (unsigned long long)t.multi,
	       (unsigned long long)t.kills[J_COMMIT],
	       (unsigned long long)t.sent, (unsigned long long)t.received,
	       (unsigned long long)t.lost, (unsigned long long)t.dup_torn,
	       (unsigned long long)t.missing, (unsigned long long)t.holes,
	       (unsigned long long)t.holes_definite,
	       (unsigned long long)t.claimed_records,
	       (unsigned long long)t.holes_call,
	       (unsigned long long)t.abandoned,
	       (unsigned long long)t.end_closed,
	       (unsigned long long)t.end_dead);
	printf(" calls:send=%llu,sendv=%llu,claim=%llu,claimv=%llu,"
	       "commitv_part=%llu,recv=%llu,recv_small=%llu,recvv=%llu,"
	       "peek=%llu,peekv=%llu,releasev_part=%llu",
	       (unsigned long long)t.calls[K_SEND],
	       (unsigned long long)t.calls[K_SENDV],
	       (unsigned long long)t.calls[K_CLAIM],
	       (unsigned long long)t.calls[K_CLAIMV],
	       (unsigned long long)t.calls[K_COMMITV_PART],
	       (unsigned long long)t.ccalls[K_RECV],
	       (unsigned long long)t.ccalls[K_RECV_SMALL],
	       (unsigned long long)t.ccalls[K_RECVV],
	       (unsigned long long)t.ccalls[K_PEEK],
	       (unsigned long long)t.ccalls[K_PEEKV],
	       (unsigned long long)t.ccalls[K_RELV_PART]);
	printf(" hole_rounds=%u detect_ms_p50=%.1f detect_ms_p99=%.1f "
	       "detect_ms_max=%.1f all_rounds_ms_p50=%.1f "
	       "all_rounds_ms_p99=%.1f all_rounds_ms_max=%.1f result=%s\n",
	       t.nhole, pct(t.lat_hole, t.nhole, 50),
	       pct(t.lat_hole, t.nhole, 99),
	       t.nhole ? t.lat_hole[t.nhole - 1] / 1e3 : 0.0,
	       pct(t.lat_all, t.nall, 50), pct(t.lat_all, t.nall, 99),
	       t.nall ? t.lat_all[t.nall - 1] / 1e3 : 0.0, bad ? "FAIL" : "ok");
	free(t.lat_hole);
	free(t.lat_all);
	return bad ? 1 : 0;
usage:
	fprintf(stderr,
	        "usage: %s [--rounds N] [--producers 2..8] [--seconds S] "
	        "[--seed X]\n",
	        argv[0]);
	return 2;
}
