/* Description: many producer processes into one consumer (SHMRING_F_MPSC). */
/* SPDX-License-Identifier: MIT */
/*
 * Real processes (fork) on rings created with SHMRING_F_MPSC: verified
 * streams from four producer processes, producers that come and go, the
 * 32-entry producer table (the 33rd is EBUSY, a dead one's entry is
 * reused), the end of stream (ECLOSED when every producer closed,
 * EPEERDEAD when the last ones died) and a producer killed between claim
 * and commit (a hole the consumer skips once the death is confirmed,
 * counted as abandoned).
 *
 * Every message names its stream (the logical producer, 0..31) and its
 * sequence number in that stream; its length follows from (stream, seq)
 * and its bytes carry an FNV-1a checksum, so the consumer checks each one
 * on arrival: per stream in order, exactly once, whole.
 *
 * Children never call cr_assert: they report through their exit code and
 * the shared control block, and die with the test process
 * (PR_SET_PDEATHSIG, helpers.c).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "mpsc_msg.h"

#define DEADLINE_MS  10000 /* for any wait on another process */
#define NPROD        4     /* producers of the verified streams */
#define MAXP         SHMRING_MAX_PRODUCERS
#define MM_BATCH     8  /* largest sendv/recvv/claimv/peekv batch here */
#define MM_SMALL_CAP 40 /* the too-small recv buffer */
#define NKIDS        40
#define DEATH_MAX_NS 1000000000u
#define HOLE_MAX_NS  200000000u /* the bound: past a hole in 200 ms */

enum { K_SEND, K_SENDV, K_CLAIM, K_CLAIMV, K_COMMITV_PART, K_PK };
enum { K_RECV, K_RECV_SMALL, K_RECVV, K_PEEK, K_PEEKV, K_RELV_PART, K_CK };

struct ctl {
	char name[TEST_NAME_LEN];
	shmring_config cfg;
	struct mm_stream mm;    /* its max and one set by geometry() */
	_Atomic int ready;      /* producers attached */
	_Atomic int go;         /* parent -> producers: start sending */
	_Atomic int stop;       /* parent -> producers: finish and close */
	_Atomic int cons_ready; /* the consumer child created the ring */
	_Atomic int release[MAXP + 8]; /* parent -> holder i: close now */
	/* producers, per stream */
	_Atomic uint64_t p_next[MAXP]; /* every seq below is committed */
	_Atomic int p_rc[MAXP];
	_Atomic uint64_t p_calls[K_PK];
	_Atomic int paused;          /* the victim holds its claim(s) */
	_Atomic uint64_t paused_got; /* how many records it holds */
	/* consumer */
	_Atomic uint64_t c_next[MAXP]; /* next seq expected per stream */
	_Atomic uint64_t c_total;
	_Atomic uint64_t c_calls[K_CK];
	_Atomic uint64_t c_abandoned; /* shmring_stats.abandoned, as seen */
	_Atomic uint64_t c_hole_ns;   /* when it first went above 0 */
	_Atomic int c_hole_id;        /* stream of the message passed to then */
	_Atomic int c_rc;             /* how the stream ended */
	_Atomic uint64_t c_end_ns;
	_Atomic int c_done;
	_Atomic int c_bad;
	char c_err[256];
};

static struct ctl *c;
static pid_t kids[NKIDS];

static void setup(void)
{
	c = shared_alloc_or_fail(sizeof *c);
	ring_name(c->name);
	c->mm.seed = 0x853c49e6748fea9bu ^ (uint64_t)getpid();
	c->mm.stamp_key = UINT64_C(0xa5a5a5a5a5a5a5a5);
	memset(kids, 0, sizeof kids);
}

static void teardown(void)
{
	for (size_t i = 0; i < NKIDS; i++)
		child_kill(kids[i]);
	shmring_unlink(c->name);
	shared_free(c, sizeof *c);
}

TestSuite(mpsc_ipc, .init = setup, .fini = teardown, .timeout = 30);

/* ---- producers ---------------------------------------------------------- */

struct pargs {
	uint32_t id;     /* stream */
	uint64_t first;  /* its first seq */
	uint64_t count;  /* messages to send; UINT64_MAX = until stop */
	int create;      /* create the ring (as producer) instead of opening */
	int wait_go;     /* wait for ctl.go before sending */
	int hold;        /* after sending, keep the handle until release[id] */
	int victim;      /* after sending, claim (1) or claimv (2) and pause */
	uint64_t stream; /* for the random choices */
};

struct prod {
	shmring *r;
	uint32_t id;
	uint64_t seq, end, rng;
	uint8_t *buf; /* MM_BATCH messages of max bytes */
};

/* One call of a random kind for the messages from p->seq on; p->seq moves
 * past those that went. 0, or the error that is not a retry. */
static int prod_step(struct prod *p)
{
	uint64_t x = mm_rnd(&p->rng), big = mm_rnd(&p->rng);
	int to = mm_timeout(x >> 8, 2), rc;
	size_t k = 1 + (size_t)((x >> 16) % MM_BATCH), n = 0, len, m;
	size_t lens[MM_BATCH];

	if (k > p->end - p->seq)
		k = (size_t)(p->end - p->seq);
	switch (x % 4) {
	case 0: { /* copy */
		len = mm_len(&c->mm, p->id, p->seq);
		mm_fill(&c->mm, p->buf, len, p->id, p->seq, 0);
		rc = shmring_send(p->r, p->buf, len, to);
		p->seq += rc == SHMRING_OK;
		atomic_fetch_add(&c->p_calls[K_SEND], 1);
		break;
	}
	case 1: { /* copy batch: those sent are in, also on a timeout */
		shmring_msg v[MM_BATCH];
		mm_fillv(&c->mm, v, p->buf, k, p->id, p->seq, 0);
		rc = shmring_sendv(p->r, v, k, &n, to);
		p->seq += n;
		atomic_fetch_add(&c->p_calls[K_SENDV], 1);
		break;
	}
	case 2: { /* zero-copy, claimed at max_msg and committed shorter */
		void *w;
		len = mm_len(&c->mm, p->id, p->seq);
		rc = shmring_claim(p->r, big & 1 ? c->mm.max : len, &w, to);
		if (rc != SHMRING_OK)
			break;
		mm_fill(&c->mm, w, len, p->id, p->seq, 0);
		rc = shmring_commit(p->r, len);
		p->seq += rc == SHMRING_OK;
		atomic_fetch_add(&c->p_calls[K_CLAIM], 1);
		break;
	}
	default: { /* zero-copy batch, all committed or fewer */
		shmring_buf b[MM_BATCH];
		int exact =
		        mm_claim_sizes(&c->mm, b, lens, k, p->id, p->seq, big);
		rc = shmring_claimv(p->r, b, k, &n, to);
		if (rc != SHMRING_OK)
			break;
		for (size_t i = 0; i < n; i++)
			mm_fill(&c->mm, b[i].data, lens[i], p->id, p->seq + i,
			        0);
		/* one in four commits fewer than claimed (0 included): the
		 * rest is discarded and sent again by the next call */
		m = (big >> 30) % 4 == 0 ? (size_t)((big >> 32) % n) : n;
		rc = shmring_commitv(p->r, exact ? NULL : lens, m);
		if (rc == SHMRING_OK)
			p->seq += m;
		atomic_fetch_add(&c->p_calls[K_CLAIMV], 1);
		if (m < n)
			atomic_fetch_add(&c->p_calls[K_COMMITV_PART], 1);
		break;
	}
	}
	if ((big >> 40) % 128 == 0)
		sleep_us((unsigned)((big >> 48) % 1500)); /* a random pause */
	return mm_retry(rc) ? SHMRING_OK : rc;
}

/* Child side: open (or create) as producer, retrying while the ring does
 * not exist yet. */
static int attach_producer(int create, shmring **r)
{
	uint64_t end = now_ns() + (uint64_t)DEADLINE_MS * 1000000u;
	int rc;

	if (create)
		return shmring_create(c->name, &c->cfg, SHMRING_PRODUCER, r);
	while ((rc = shmring_open(c->name, SHMRING_PRODUCER, r)) ==
	               SHMRING_ENOENT &&
	       now_ns() < end)
		sleep_us(200);
	return rc;
}

/* The victim's last act: claim one multi-slot record (1) or several
 * (2), write half of each, say so, and wait to be killed. */
static int victim_pause(struct prod *p, int how)
{
	size_t len = 3 * (size_t)c->mm.one + 9, n = 1;
	shmring_buf b[3];
	void *w;
	int rc;

	len = len < c->mm.max ? len : c->mm.max;
	if (how == 1) {
		rc = shmring_claim(p->r, len, &w, SHMRING_FOREVER);
		if (rc == SHMRING_OK)
			memset(w, 0xee, len / 2);
	} else {
		for (size_t i = 0; i < 3; i++)
			b[i] = (shmring_buf){NULL, len};
		rc = shmring_claimv(p->r, b, 3, &n, SHMRING_FOREVER);
		for (size_t i = 0; rc == SHMRING_OK && i < n; i++)
			memset(b[i].data, 0xee, len / 2);
	}
	if (rc != SHMRING_OK)
		return 30;
	atomic_store(&c->paused_got, n);
	atomic_store(&c->paused, 1);
	for (;;)
		pause();
}

static int producer_main(void *arg)
{
	struct pargs *a = arg;
	struct prod p = {
	        .id = a->id,
	        .seq = a->first,
	        .end = a->count == UINT64_MAX ? UINT64_MAX
	                                      : a->first + a->count,
	        .rng = mm_mix(a->stream ^ ((uint64_t)a->id << 32) ^ a->first)};
	int rc = attach_producer(a->create, &p.r);

	if (rc != SHMRING_OK) {
		atomic_store(&c->p_rc[a->id], rc);
		return 10;
	}
	p.buf = malloc((size_t)MM_BATCH * c->mm.max);
	if (!p.buf)
		return 11;
	atomic_fetch_add(&c->ready, 1);
	if (a->wait_go && !flag_wait(&c->go, 1, DEADLINE_MS))
		return 12;
	while (rc == SHMRING_OK && p.seq < p.end && !atomic_load(&c->stop))
		rc = prod_step(&p);
	atomic_store(&c->p_next[a->id], p.seq);
	atomic_store(&c->p_rc[a->id], rc);
	if (rc != SHMRING_OK)
		return 13;
	if (a->victim)
		return victim_pause(&p, a->victim);
	if (a->hold && !flag_wait(&c->release[a->id], 1, 3 * DEADLINE_MS))
		return 14;
	free(p.buf);
	shmring_close(p.r);
	return 0;
}

/* ---- the consumer ------------------------------------------------------- */

struct cons {
	shmring *r;
	uint64_t rng;
	uint8_t *buf; /* MM_BATCH messages of max bytes */
};

static int cons_fail(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

static int cons_fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&c->c_bad, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(c->c_err, sizeof c->c_err, fmt, ap);
		va_end(ap);
	}
	return 1000; /* not a library code */
}

/* One message: the next of its stream, whole. 0 or cons_fail. */
static int cons_check(const void *data, size_t len)
{
	struct mm_hdr h;
	enum mm_verdict v = mm_check(&c->mm, c->c_next, MAXP, data, len, &h);

	if (v != MM_OK)
		return cons_fail("stream %u: message %llu where %llu was due, "
		                 "%zu bytes (%zu due): %s",
		                 h.id, (unsigned long long)h.seq,
		                 (unsigned long long)h.due, len,
		                 mm_len(&c->mm, h.id, h.seq), mm_what(v));
	atomic_fetch_add(&c->c_total, 1);
	return 0;
}

/* After each call: note when the consumer first passed a hole, and the
 * stream of the first message it returned then. */
static void cons_note(struct cons *s, const void *first)
{
	shmring_stats st;

	if (shmring_get_stats(s->r, &st) != SHMRING_OK ||
	    st.abandoned == atomic_load(&c->c_abandoned))
		return;
	if (atomic_load(&c->c_hole_ns) == 0) {
		atomic_store(&c->c_hole_id, first ? (int)rd32(first, 8) : -1);
		atomic_store(&c->c_hole_ns, now_ns());
	}
	atomic_store(&c->c_abandoned, st.abandoned);
}

/* One call of a random kind. 0 (also for a timeout), an end-of-stream
 * code, or an error. */
static int cons_step(struct cons *s, int to)
{
	uint64_t x = mm_rnd(&s->rng);
	size_t k = 1 + (size_t)((x >> 16) % MM_BATCH), len, n;
	const void *d;
	int rc, bad = 0;

	switch (x % 5) {
	case 0:
		rc = shmring_recv(s->r, s->buf, c->mm.max, &len, to);
		cons_note(s, rc == SHMRING_OK ? s->buf : NULL);
		if (rc == SHMRING_OK)
			bad = cons_check(s->buf, len);
		atomic_fetch_add(&c->c_calls[K_RECV], 1);
		break;
	case 1: /* too small a buffer first: EMSGSIZE, the message stays */
		rc = shmring_recv(s->r, s->buf, MM_SMALL_CAP, &len, to);
		if (rc == SHMRING_EMSGSIZE) {
			size_t need = len;
			atomic_fetch_add(&c->c_calls[K_RECV_SMALL], 1);
			if (need <= MM_SMALL_CAP || need > c->mm.max)
				return cons_fail("EMSGSIZE with len %zu", need);
			rc = shmring_recv(s->r, s->buf, c->mm.max, &len,
			                  SHMRING_NOWAIT);
			if (rc == SHMRING_OK && len != need)
				return cons_fail("EMSGSIZE said %zu, got %zu",
				                 need, len);
		}
		cons_note(s, rc == SHMRING_OK ? s->buf : NULL);
		if (rc == SHMRING_OK)
			bad = cons_check(s->buf, len);
		atomic_fetch_add(&c->c_calls[K_RECV], 1);
		break;
	case 2: {
		shmring_buf v[MM_BATCH];
		for (size_t i = 0; i < k; i++)
			v[i] = (shmring_buf){s->buf + i * c->mm.max, c->mm.max};
		rc = shmring_recvv(s->r, v, k, &n, to);
		cons_note(s, rc == SHMRING_OK ? s->buf : NULL);
		for (size_t i = 0; rc == SHMRING_OK && i < n && !bad; i++)
			bad = cons_check(v[i].data, v[i].len);
		atomic_fetch_add(&c->c_calls[K_RECVV], 1);
		break;
	}
	case 3:
		rc = shmring_peek(s->r, &d, &len, to);
		cons_note(s, rc == SHMRING_OK ? d : NULL);
		if (rc == SHMRING_OK) {
			const void *again;
			size_t len2;
			bad = cons_check(d, len);
			/* peeking again before release: the same message */
			if (!bad && (shmring_peek(s->r, &again, &len2, 0) !=
			                     SHMRING_OK ||
			             again != d || len2 != len))
				bad = cons_fail("a second peek moved");
			if (!bad)
				rc = shmring_release(s->r);
		}
		atomic_fetch_add(&c->c_calls[K_PEEK], 1);
		break;
	default: {
		shmring_msg a[MM_BATCH], b[MM_BATCH];
		size_t first, again;
		rc = shmring_peekv(s->r, a, k, &n, to);
		cons_note(s, rc == SHMRING_OK ? a[0].data : NULL);
		atomic_fetch_add(&c->c_calls[K_PEEKV], 1);
		if (rc != SHMRING_OK)
			break;
		for (size_t i = 0; i < n && !bad; i++)
			bad = cons_check(a[i].data, a[i].len);
		if (bad)
			break;
		/* release a prefix; the rest must come back in place */
		first = 1 + (size_t)((x >> 40) % n);
		rc = shmring_releasev(s->r, first);
		if (rc == SHMRING_OK && first < n) {
			atomic_fetch_add(&c->c_calls[K_RELV_PART], 1);
			rc = shmring_peekv(s->r, b, n - first, &again, 0);
			for (size_t i = 0; rc == SHMRING_OK && i < again; i++)
				if (b[i].data != a[first + i].data ||
				    b[i].len != a[first + i].len)
					return cons_fail("peekv again moved "
					                 "message %zu",
					                 first + i);
			if (rc == SHMRING_OK && again != n - first)
				return cons_fail("peekv again: %zu of %zu",
				                 again, n - first);
			if (rc == SHMRING_OK)
				rc = shmring_releasev(s->r, n - first);
		}
		break;
	}
	}
	if (bad)
		return bad;
	if ((x >> 48) % 256 == 0)
		sleep_us((unsigned)((x >> 24) % 1000)); /* a random pause */
	return mm_retry(rc) ? SHMRING_OK : rc;
}

/* Consume until the end of stream (or an error, or @deadline_ms): the
 * end code into c_rc, its time into c_end_ns. */
static int consume(shmring *r, int deadline_ms)
{
	struct cons s = {.r = r, .rng = c->mm.seed ^ 0xc0ffee};
	uint64_t end = now_ns() + (uint64_t)deadline_ms * 1000000u;
	int rc = SHMRING_OK;

	s.buf = malloc((size_t)MM_BATCH * c->mm.max);
	if (!s.buf)
		rc = SHMRING_ENOMEM;
	while (rc == SHMRING_OK) {
		uint64_t x = mm_rnd(&s.rng);
		rc = cons_step(&s, x % 4 == 0 ? 20 : 200);
		if (rc == SHMRING_OK && now_ns() > end)
			rc = cons_fail("consumer deadline: the stream did not "
			               "end");
	}
	atomic_store(&c->c_end_ns, now_ns());
	atomic_store(&c->c_rc, rc);
	cons_note(&s, NULL);
	free(s.buf);
	atomic_store(&c->c_done, 1);
	return rc;
}

/* The consumer in a child: create the ring, say so, consume, close. */
static int consumer_main(void *arg)
{
	shmring *r;
	int rc = shmring_create(c->name, &c->cfg, SHMRING_CONSUMER, &r);

	(void)arg;
	if (rc != SHMRING_OK) {
		atomic_store(&c->c_rc, rc);
		atomic_store(&c->c_done, 1);
		return 10;
	}
	atomic_store(&c->cons_ready, 1);
	consume(r, 3 * DEADLINE_MS);
	shmring_close(r);
	return 0;
}

/* ---- the test process's side -------------------------------------------- */

static void geometry(uint32_t slot_size, uint32_t count, uint32_t max)
{
	c->cfg = (shmring_config){.slot_size = slot_size,
	                          .slot_count = count,
	                          .flags = SHMRING_F_MPSC,
	                          .max_msg = max};
	c->mm.max = max;
	c->mm.one = ((8u + slot_size + 15u) & ~15u) - 8u;
}

static pid_t spawn(int (*fn)(void *), void *arg)
{
	pid_t pid = child_run(fn, arg);

	cr_assert_gt(pid, 0, "fork");
	for (size_t i = 0; i < NKIDS; i++)
		if (kids[i] == 0) {
			kids[i] = pid;
			return pid;
		}
	cr_assert_fail("too many children");
	return -1;
}

static void forget(pid_t pid)
{
	for (size_t i = 0; i < NKIDS; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

static void reap_ok(pid_t pid, const char *what)
{
	int st = child_reap(pid);

	forget(pid);
	cr_assert_eq(st, 0,
	             "%s exited %d; producers' last codes: %s, %s, %s, %s; "
	             "consumer %s: %s (%s)",
	             what, st, shmring_strerror(c->p_rc[0]),
	             shmring_strerror(c->p_rc[1]), shmring_strerror(c->p_rc[2]),
	             shmring_strerror(c->p_rc[3]),
	             c->c_done ? "ended" : "running", shmring_strerror(c->c_rc),
	             c->c_err);
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	child_reap(pid);
	forget(pid);
}

static shmring *create_consumer_or_fail(void)
{
	shmring *r = NULL;
	int rc = shmring_create(c->name, &c->cfg, SHMRING_CONSUMER, &r);

	cr_assert_eq(rc, SHMRING_OK, "create MPSC %s: %s", c->name,
	             shmring_strerror(rc));
	return r;
}

static void assert_consumer_clean(void)
{
	cr_assert_eq(atomic_load(&c->c_bad), 0, "consumer: %s", c->c_err);
}

static void print_calls(const char *what, double ms)
{
	fprintf(stderr,
	        "mpsc_ipc: %s: %llu msgs in %.0f ms; send %llu sendv %llu "
	        "claim %llu claimv %llu (fewer committed %llu); recv %llu "
	        "(too small %llu) recvv %llu peek %llu peekv %llu (released "
	        "in parts %llu)\n",
	        what, (unsigned long long)c->c_total, ms,
	        (unsigned long long)c->p_calls[K_SEND],
	        (unsigned long long)c->p_calls[K_SENDV],
	        (unsigned long long)c->p_calls[K_CLAIM],
	        (unsigned long long)c->p_calls[K_CLAIMV],
	        (unsigned long long)c->p_calls[K_COMMITV_PART],
	        (unsigned long long)c->c_calls[K_RECV],
	        (unsigned long long)c->c_calls[K_RECV_SMALL],
	        (unsigned long long)c->c_calls[K_RECVV],
	        (unsigned long long)c->c_calls[K_PEEK],
	        (unsigned long long)c->c_calls[K_PEEKV],
	        (unsigned long long)c->c_calls[K_RELV_PART]);
}

/* Four producer processes send @per messages each; this process consumes
 * them all, checks each, and then sees ECLOSED. */
static void four_streams(uint64_t per, const char *what)
{
	struct pargs a[NPROD];
	shmring *r = create_consumer_or_fail();
	shmring_stats st;
	pid_t pid[NPROD];
	uint64_t t0;

	for (uint32_t i = 0; i < NPROD; i++) {
		a[i] = (struct pargs){.id = i,
		                      .count = per,
		                      .wait_go = 1,
		                      .stream = c->mm.seed + i};
		pid[i] = spawn(producer_main, &a[i]);
	}
	cr_assert(flag_wait(&c->ready, NPROD, DEADLINE_MS),
	          "producers attached: %d", atomic_load(&c->ready));
	t0 = now_ns();
	atomic_store(&c->go, 1);
	consume(r, 3 * DEADLINE_MS);
	cr_assert_eq(shmring_get_stats(r, &st), SHMRING_OK);
	shmring_close(r); /* a producer still waiting for room: ECLOSED */
	print_calls(what, (double)(now_ns() - t0) / 1e6);
	assert_consumer_clean();
	for (uint32_t i = 0; i < NPROD; i++)
		reap_ok(pid[i], "producer");
	cr_assert_eq(c->c_rc, SHMRING_ECLOSED, "end of stream: %s",
	             shmring_strerror(c->c_rc));
	for (uint32_t i = 0; i < NPROD; i++) {
		cr_assert_eq(c->p_next[i], per, "producer %u sent %llu", i,
		             (unsigned long long)c->p_next[i]);
		cr_assert_eq(c->c_next[i], per, "stream %u: %llu delivered", i,
		             (unsigned long long)c->c_next[i]);
	}
	cr_assert_eq(st.messages, NPROD * per);
	cr_assert_eq(st.abandoned, 0);
	for (uint32_t k = 0; k < K_PK; k++)
		cr_assert_gt(c->p_calls[k], 0, "producer call kind %u unused",
		             k);
	for (uint32_t k = 0; k < K_CK; k++)
		cr_assert_gt(c->c_calls[k], 0, "consumer call kind %u unused",
		             k);
}

Test(mpsc_ipc, four_producer_processes_stream_verified_messages_of_many_slots)
{
	/* 64-byte slots, 64 KiB: a 4 KiB message covers 65 slots */
	geometry(56, 1024, 4096);
	four_streams(40000, "56x1024, max 4096");
}

Test(mpsc_ipc, four_producer_processes_stream_into_a_small_ring_of_big_slots)
{
	/* 256-byte slots, 16 KiB: often full, padding at every few wraps */
	geometry(248, 64, 3000);
	four_streams(25000, "248x64, max 3000");
}

Test(mpsc_ipc, four_producer_processes_stream_into_a_ring_of_tiny_slots)
{
	/* 16-byte slots: every message is a record of 2..384 slots */
	geometry(8, 2048, 6000);
	four_streams(15000, "8x2048, max 6000");
}

/* Stream 0 is sent by six producer processes one after the other, each
 * continuing the sequence of the last (it closed); streams 1 and 2 stay
 * attached throughout, so the stream never ends in between. */
Test(mpsc_ipc, producers_that_come_and_go_continue_one_stream)
{
	struct pargs hold[2], gen;
	pid_t cons, ph[2], pg;
	uint64_t next = 0;

	geometry(56, 1024, 2048);
	cons = spawn(consumer_main, NULL);
	cr_assert(flag_wait(&c->cons_ready, 1, DEADLINE_MS), "consumer");
	for (uint32_t i = 0; i < 2; i++) {
		hold[i] = (struct pargs){.id = 1 + i,
		                         .count = 3000,
		                         .hold = 1,
		                         .stream = c->mm.seed + i};
		ph[i] = spawn(producer_main, &hold[i]);
	}
	cr_assert(flag_wait(&c->ready, 2, DEADLINE_MS), "holders attached");
	for (int g = 0; g < 6; g++) {
		gen = (struct pargs){.id = 0,
		                     .first = next,
		                     .count = 700,
		                     .stream = c->mm.seed ^ (uint64_t)g};
		pg = spawn(producer_main, &gen);
		reap_ok(pg, "generation");
		cr_assert_eq(c->p_next[0], next + 700);
		next += 700;
		cr_assert_eq(c->c_done, 0,
		             "the stream ended after generation "
		             "%d: %s",
		             g, shmring_strerror(c->c_rc));
	}
	for (uint32_t i = 0; i < 2; i++)
		atomic_store(&c->release[1 + i], 1);
	for (uint32_t i = 0; i < 2; i++)
		reap_ok(ph[i], "holder");
	reap_ok(cons, "consumer");
	assert_consumer_clean();
	cr_assert_eq(c->c_rc, SHMRING_ECLOSED, "end: %s",
	             shmring_strerror(c->c_rc));
	cr_assert_eq(c->c_next[0], next, "stream 0: %llu delivered",
	             (unsigned long long)c->c_next[0]);
	cr_assert_eq(c->c_next[1], 3000);
	cr_assert_eq(c->c_next[2], 3000);
}

/* The producer creates the MPSC ring; the consumer opens it later and
 * finds what was sent before it came. */
Test(mpsc_ipc, a_producer_creates_the_ring_and_others_join)
{
	struct pargs a[3];
	shmring *r = NULL;
	pid_t pid[3];
	shmring_info info;
	int rc;

	geometry(56, 1024, 1024);
	for (uint32_t i = 0; i < 3; i++) {
		a[i] = (struct pargs){.id = i,
		                      .count = 200,
		                      .create = i == 0,
		                      .hold = 1,
		                      .stream = c->mm.seed + i};
		pid[i] = spawn(producer_main, &a[i]);
		cr_assert(flag_wait(&c->ready, (int)i + 1, DEADLINE_MS),
		          "producer %u attached: rc %s", i,
		          shmring_strerror(c->p_rc[i]));
	}
	cr_assert_eq(shmring_inspect(c->name, &info), SHMRING_OK);
	cr_assert_eq(info.flags & SHMRING_F_MPSC, SHMRING_F_MPSC);
	rc = shmring_open(c->name, SHMRING_CONSUMER, &r);
	cr_assert_eq(rc, SHMRING_OK, "open consumer: %s", shmring_strerror(rc));
	for (uint32_t i = 0; i < 3; i++)
		atomic_store(&c->release[i], 1);
	consume(r, 3 * DEADLINE_MS);
	for (uint32_t i = 0; i < 3; i++)
		reap_ok(pid[i], "producer");
	assert_consumer_clean();
	cr_assert_eq(c->c_rc, SHMRING_ECLOSED, "end: %s",
	             shmring_strerror(c->c_rc));
	for (uint32_t i = 0; i < 3; i++)
		cr_assert_eq(c->c_next[i], 200);
	shmring_close(r);
}

/* Holders: attach, say so, keep the handle until released. */
static int holder_main(void *arg)
{
	uint32_t i = (uint32_t)(uintptr_t)arg;
	shmring *r;
	int rc = attach_producer(0, &r);

	atomic_store(&c->p_rc[i % MAXP], rc);
	if (rc != SHMRING_OK)
		return 10;
	atomic_fetch_add(&c->ready, 1);
	if (!flag_wait(&c->release[i], 1, 3 * DEADLINE_MS))
		return 11;
	shmring_close(r);
	return 0;
}

static void wait_zombie(pid_t pid)
{
	uint64_t end = now_ns() + 5000000000u;

	while (proc_state(pid) != 'Z' && now_ns() < end)
		sleep_us(500);
	cr_assert_eq(proc_state(pid), 'Z', "child is not a zombie");
}

static void send_one_or_fail(shmring *p, uint32_t id, uint64_t seq)
{
	uint8_t buf[256];
	size_t len = mm_len(&c->mm, id, seq);
	int rc;

	cr_assert_leq(len, sizeof buf);
	mm_fill(&c->mm, buf, len, id, seq, 0);
	rc = shmring_send(p, buf, len, 1000);
	cr_assert_eq(rc, SHMRING_OK, "send: %s", shmring_strerror(rc));
}

static void recv_one_or_fail(shmring *r)
{
	uint8_t buf[256];
	size_t len;
	int rc = shmring_recv(r, buf, sizeof buf, &len, 1000);

	cr_assert_eq(rc, SHMRING_OK, "recv: %s", shmring_strerror(rc));
	cr_assert_eq(cons_check(buf, len), 0, "%s", c->c_err);
}

Test(mpsc_ipc, the_33rd_producer_is_ebusy_and_a_dead_ones_entry_is_reused)
{
	shmring *r, *x = NULL, *n1 = NULL, *n2 = NULL;
	pid_t pid[MAXP];
	size_t len;
	int rc;

	geometry(56, 64, 200);
	r = create_consumer_or_fail();
	for (uint32_t i = 0; i < MAXP; i++)
		pid[i] = spawn(holder_main, (void *)(uintptr_t)i);
	cr_assert(flag_wait(&c->ready, MAXP, DEADLINE_MS),
	          "%d of 32 producers attached", atomic_load(&c->ready));
	rc = shmring_open(c->name, SHMRING_PRODUCER, &x);
	cr_assert_eq(rc, SHMRING_EBUSY, "a 33rd producer: %s",
	             shmring_strerror(rc));
	cr_assert_null(x);

	/* a dead and reaped holder's entry is taken over */
	kill_and_reap(pid[0]);
	rc = shmring_open(c->name, SHMRING_PRODUCER, &n1);
	cr_assert_eq(rc, SHMRING_OK, "open after a death: %s",
	             shmring_strerror(rc));
	rc = shmring_open(c->name, SHMRING_PRODUCER, &x);
	cr_assert_eq(rc, SHMRING_EBUSY, "32 attached again: %s",
	             shmring_strerror(rc));

	/* so is a zombie's (dead, not reaped) */
	kill(pid[1], SIGKILL);
	wait_zombie(pid[1]);
	rc = shmring_open(c->name, SHMRING_PRODUCER, &n2);
	cr_assert_eq(rc, SHMRING_OK, "open after a zombie: %s",
	             shmring_strerror(rc));
	child_reap(pid[1]);
	forget(pid[1]);
	rc = shmring_open(c->name, SHMRING_PRODUCER, &x);
	cr_assert_eq(rc, SHMRING_EBUSY, "%s", shmring_strerror(rc));

	/* the new handles work; the stream goes on with all 32 */
	send_one_or_fail(n1, 0, 0);
	send_one_or_fail(n2, 1, 0);
	send_one_or_fail(n1, 0, 1);
	recv_one_or_fail(r);
	recv_one_or_fail(r);
	recv_one_or_fail(r);
	cr_assert_eq(c->c_next[0], 2);
	cr_assert_eq(c->c_next[1], 1);

	/* a closed entry is free again at once */
	shmring_close(n2);
	rc = shmring_open(c->name, SHMRING_PRODUCER, &n2);
	cr_assert_eq(rc, SHMRING_OK, "open after a close: %s",
	             shmring_strerror(rc));

	/* everyone closes: end of stream */
	for (uint32_t i = 2; i < MAXP; i++)
		atomic_store(&c->release[i], 1);
	for (uint32_t i = 2; i < MAXP; i++)
		reap_ok(pid[i], "holder");
	rc = shmring_recv(r, NULL, 0, &len, 100);
	cr_assert_eq(rc, SHMRING_ETIMEDOUT, "two producers are attached: %s",
	             shmring_strerror(rc));
	shmring_close(n1);
	shmring_close(n2);
	rc = shmring_recv(r, NULL, 0, &len, 1000);
	cr_assert_eq(rc, SHMRING_ECLOSED, "all closed: %s",
	             shmring_strerror(rc));
	shmring_close(r);
}

/* Four producers send 300 each and hold; the parent closes (released) or
 * kills them one by one while the consumer child waits in its calls. */
static void end_of_stream(const int killed[NPROD], int want)
{
	struct pargs a[NPROD];
	pid_t pid[NPROD], cons;
	uint64_t t_last = 0;

	geometry(56, 1024, 1024);
	cons = spawn(consumer_main, NULL);
	cr_assert(flag_wait(&c->cons_ready, 1, DEADLINE_MS), "consumer");
	for (uint32_t i = 0; i < NPROD; i++) {
		a[i] = (struct pargs){.id = i,
		                      .count = 300,
		                      .hold = 1,
		                      .stream = c->mm.seed + i};
		pid[i] = spawn(producer_main, &a[i]);
	}
	cr_assert(flag_wait(&c->ready, NPROD, DEADLINE_MS), "producers");
	for (uint64_t end = now_ns() + 5000000000u;
	     c->c_total < NPROD * 300 && now_ns() < end;)
		sleep_us(1000);
	cr_assert_eq(c->c_total, NPROD * 300, "delivered %llu",
	             (unsigned long long)c->c_total);
	for (uint32_t i = 0; i < NPROD; i++) {
		sleep_us(30000);
		cr_assert_eq(c->c_done, 0,
		             "the stream ended with %u producer(s) left: %s",
		             NPROD - i, shmring_strerror(c->c_rc));
		t_last = now_ns();
		if (killed[i]) {
			kill_and_reap(pid[i]);
		} else {
			atomic_store(&c->release[i], 1);
			reap_ok(pid[i], "producer");
		}
	}
	reap_ok(cons, "consumer");
	assert_consumer_clean();
	fprintf(stderr, "mpsc_ipc: %s %.1f ms after the last producer %s\n",
	        shmring_strerror(c->c_rc), (double)(c->c_end_ns - t_last) / 1e6,
	        killed[NPROD - 1] ? "died" : "closed");
	cr_assert_eq(c->c_rc, want, "end of stream: %s, not %s",
	             shmring_strerror(c->c_rc), shmring_strerror(want));
	cr_assert_lt(c->c_end_ns - t_last, DEATH_MAX_NS);
	cr_assert_eq(c->c_total, NPROD * 300);
}

Test(mpsc_ipc, the_consumer_sees_eclosed_when_every_producer_closed)
{
	end_of_stream((const int[NPROD]){0, 0, 0, 0}, SHMRING_ECLOSED);
}

Test(mpsc_ipc, the_consumer_sees_epeerdead_when_every_producer_died)
{
	end_of_stream((const int[NPROD]){1, 1, 1, 1}, SHMRING_EPEERDEAD);
}

Test(mpsc_ipc, the_consumer_sees_epeerdead_when_the_last_producers_died)
{
	end_of_stream((const int[NPROD]){0, 1, 0, 1}, SHMRING_EPEERDEAD);
}

/* Three producers stream until stopped; the victim sends 150 messages,
 * then claims (how = 1: one record of 4 slots; 2: claimv of up to three)
 * and pauses. Behind its claim the ring fills and the consumer waits;
 * the victim is killed, and the consumer must get past its hole(s) in
 * 200 ms, counting each as abandoned. */
static void hole(int how)
{
	struct pargs a[NPROD];
	shmring_info info;
	pid_t pid[NPROD], cons;
	uint64_t t_kill, stuck, got, lat;

	geometry(56, 1024, 2048);
	cons = spawn(consumer_main, NULL);
	cr_assert(flag_wait(&c->cons_ready, 1, DEADLINE_MS), "consumer");
	for (uint32_t i = 0; i < NPROD; i++) {
		a[i] = (struct pargs){.id = i,
		                      .count = i == 3 ? 150 : UINT64_MAX,
		                      .victim = i == 3 ? how : 0,
		                      .stream = c->mm.seed + i};
		pid[i] = spawn(producer_main, &a[i]);
	}
	cr_assert(flag_wait(&c->paused, 1, DEADLINE_MS), "victim paused: %s",
	          shmring_strerror(c->p_rc[3]));
	got = c->paused_got;
	sleep_us(100000); /* the ring fills behind the claim */
	stuck = c->c_total;
	sleep_us(50000);
	cr_assert_eq(c->c_total, stuck, "the consumer passed a live claim");
	cr_assert_eq(c->c_abandoned, 0);
	cr_assert_eq(c->c_next[3], 150, "the victim's messages: %llu",
	             (unsigned long long)c->c_next[3]);
	t_kill = now_ns();
	kill_and_reap(pid[3]);
	for (uint64_t end = now_ns() + 3000000000u;
	     c->c_hole_ns == 0 && now_ns() < end;)
		sleep_us(200);
	cr_assert_neq(c->c_hole_ns, 0,
	              "the consumer is stuck at the hole "
	              "(abandoned %llu, done %d: %s; %s)",
	              (unsigned long long)c->c_abandoned, c->c_done,
	              shmring_strerror(c->c_rc), c->c_err);
	lat = c->c_hole_ns - t_kill;
	sleep_us(20000);
	atomic_store(&c->stop, 1);
	for (uint32_t i = 0; i < 3; i++)
		reap_ok(pid[i], "producer");
	reap_ok(cons, "consumer");
	fprintf(stderr,
	        "mpsc_ipc: %zu-record claim%s of a killed producer skipped "
	        "%.1f ms after the kill; %llu messages, end %s\n",
	        (size_t)got, how == 2 ? "v" : "", (double)lat / 1e6,
	        (unsigned long long)c->c_total, shmring_strerror(c->c_rc));
	assert_consumer_clean();
	cr_assert_neq(c->c_hole_id, 3, "passed to the dead one's message?");
	cr_assert_geq(c->c_hole_id, 0, "the call that passed returned none");
	cr_assert_lt(lat, HOLE_MAX_NS, "past the hole after %.1f ms",
	             (double)lat / 1e6);
	/* One hole per claim: a claimv's records are one claim. */
	cr_assert_eq(c->c_abandoned, 1, "abandoned %llu, %llu claimed",
	             (unsigned long long)c->c_abandoned,
	             (unsigned long long)got);
	cr_assert_eq(c->c_next[3], 150, "the hole is not a message");
	for (uint32_t i = 0; i < 3; i++)
		cr_assert_eq(c->c_next[i], c->p_next[i],
		             "stream %u: %llu of %llu delivered", i,
		             (unsigned long long)c->c_next[i],
		             (unsigned long long)c->p_next[i]);
	/* the dead producer's entry is still held: EPEERDEAD */
	cr_assert_eq(c->c_rc, SHMRING_EPEERDEAD, "end: %s",
	             shmring_strerror(c->c_rc));
	cr_assert_eq(shmring_inspect(c->name, &info), SHMRING_OK);
	cr_assert_eq(info.consumer.counters.abandoned, 1,
	             "segment counter: %llu",
	             (unsigned long long)info.consumer.counters.abandoned);
}

Test(mpsc_ipc, a_producer_killed_between_claim_and_commit_leaves_a_hole)
{
	hole(1);
}

Test(mpsc_ipc, a_producer_killed_between_claimv_and_commitv_leaves_holes)
{
	hole(2);
}
