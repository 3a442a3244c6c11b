/* SPDX-License-Identifier: MIT */
/*
 * test_mpsc.c -- many producers, one consumer (SHMRING_F_MPSC) on Windows:
 * verified streams from producer handles in this process (threads) and in
 * child processes (this program, started with CreateProcessW) into one
 * consumer; the 32-entry producer table (the 33rd is EBUSY, in this
 * process and in another; a closed or dead holder's entry is taken); a
 * producer killed (TerminateProcess) between claim and commit, whose hole
 * the consumer passes once the death is confirmed; producers asleep on a
 * full ring woken by the consumer through their own wake objects (ids
 * 2 + k, src/os_win32.c); the end of stream (ECLOSED when every producer
 * closed, EPEERDEAD when the last ones died). Children report through
 * their exit code, and print "# ..." diagnostics.
 *
 * Every message names its stream (0..31) and its sequence number in that
 * stream; its length follows from (seed, stream, seq) and every byte is
 * derived from them, so the consumer checks each one on arrival: per
 * stream in order, exactly once, whole.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmring.h"
#include "tap.h"
#include "winutil.h"

#define NSTREAMS      SHMRING_MAX_PRODUCERS
#define MM_HDR        16u /* u32 stream | u32 len | u64 seq */
#define MM_BATCH      8u
#define WAIT_MS       20000 /* any single wait on another process */
#define CHILD_WAIT_MS 60000u
#define HOLE_MAX_MS   200.0 /* docs/protocol.md: past a hole in 200 ms */
#define DEATH_MAX_MS  1000.0
#define WAKE_MAX_MS   20.0 /* median wake latency; a missed wake is ~40 */
#define HOLE_MSG_MAX  100u /* the hole test: 23 messages of <= 4 slots */
#define SMALL_MAX     200u /* rings of 64 slots: messages of <= 7 slots */

/* The stream rings: 32-byte strides (slot_size 24) and 256 slots, so the
 * default max_msg is 256 * 32 / 2 - 8 = 4088 bytes over 1 .. 128 slots. */
#define ST_ONE   24u
#define ST_SLOTS 256u

enum child_rc {
	C_OK = 0,
	C_USAGE = 2,
	C_OPEN = 3,
	C_IO = 4,
	C_VERIFY = 5,
	C_END = 6,
	C_NOT_BUSY = 7,
	C_NOSLEEP = 8,
};

/* ---- messages ----------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	return *s = wu_mix(*s);
}

/* Message @seq of stream @id: the smallest, the largest, the one-slot /
 * two-slot boundary (@one: the payload of one slot), a few slots, or any
 * length up to @max. */
static size_t mm_len(uint64_t seed, uint32_t id, uint64_t seq, size_t max,
                     size_t one)
{
	uint64_t h = wu_mix(seed ^ ((uint64_t)id << 48) ^
	                    (seq * UINT64_C(0x2545f4914f6cdd1d)));
	size_t n;

	switch (h & 7) {
	case 0:
		n = MM_HDR;
		break;
	case 1:
		n = max;
		break;
	case 2:
		n = one;
		break;
	case 3:
		n = one + 1;
		break;
	case 4:
	case 5:
		n = MM_HDR + (size_t)((h >> 3) % 200);
		break;
	default:
		n = MM_HDR + (size_t)((h >> 3) % (max - MM_HDR + 1));
		break;
	}
	return n < MM_HDR ? MM_HDR : n > max ? max : n;
}

static void mm_fill(void *buf, size_t len, uint64_t seed, uint32_t id,
                    uint64_t seq)
{
	uint8_t *b = buf;
	uint64_t x = wu_mix(seed ^ ((uint64_t)id << 40) ^ seq);
	uint32_t l = (uint32_t)len;

	for (size_t i = MM_HDR; i < len; i += 8) {
		x = wu_mix(x);
		memcpy(b + i, &x, len - i < 8 ? len - i : 8);
	}
	memcpy(b, &id, 4);
	memcpy(b + 4, &l, 4);
	memcpy(b + 8, &seq, 8);
}

/* What the consumer knows of the streams. */
struct expect {
	uint64_t seed;
	size_t max, one;
	uint64_t next[NSTREAMS];
	uint64_t total;
	char err[200];
};

static int mm_check(struct expect *e, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint32_t id, l;
	uint64_t seq, x;

	if (len < MM_HDR) {
		snprintf(e->err, sizeof e->err, "a message of %zu bytes", len);
		return 0;
	}
	memcpy(&id, b, 4);
	memcpy(&l, b + 4, 4);
	memcpy(&seq, b + 8, 8);
	if (id >= NSTREAMS || l != len || seq != e->next[id] ||
	    len != mm_len(e->seed, id, seq, e->max, e->one)) {
		snprintf(e->err, sizeof e->err,
		         "message #%llu: stream %u seq %llu len %zu (header "
		         "%u), expected seq %llu",
		         (unsigned long long)e->total, id,
		         (unsigned long long)seq, len, l,
		         id < NSTREAMS ? (unsigned long long)e->next[id] : 0);
		return 0;
	}
	x = wu_mix(e->seed ^ ((uint64_t)id << 40) ^ seq);
	for (size_t i = MM_HDR; i < len; i += 8) {
		x = wu_mix(x);
		if (memcmp(b + i, &x, len - i < 8 ? len - i : 8) != 0) {
			snprintf(e->err, sizeof e->err,
			         "stream %u seq %llu: byte %zu differs", id,
			         (unsigned long long)seq, i);
			return 0;
		}
	}
	e->next[id]++;
	e->total++;
	return 1;
}

/* ---- producers ---------------------------------------------------------- */

struct prod {
	shmring *r;
	uint32_t id;
	uint64_t seq, count, rng, seed;
	size_t max, one;
	uint8_t *buf; /* MM_BATCH messages of max bytes */
};

static int prod_init(struct prod *p, shmring *r, uint32_t id, uint64_t count,
                     uint64_t seed, size_t one)
{
	memset(p, 0, sizeof *p);
	p->r = r;
	p->id = id;
	p->count = count;
	p->seed = seed;
	p->rng = seed ^ (0x1234567ull * (id + 1));
	p->max = shmring_max_msg(r);
	p->one = one;
	p->buf = malloc(MM_BATCH * p->max);
	return p->buf ? 0 : -1;
}

static void prod_fail(const struct prod *p, const char *what, int rc)
{
	printf("# producer %u: %s at seq %llu: %d (%s)\n", p->id, what,
	       (unsigned long long)p->seq, rc, shmring_strerror(rc));
}

#define P_TRY(p, call, what)                                                   \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ != SHMRING_OK) {                                       \
			prod_fail(p, what, rc_);                               \
			return C_IO;                                           \
		}                                                              \
	} while (0)

/* One call of a random kind (send, sendv, claim + a shorter commit,
 * claimv + commitv) for the next messages of @p. */
static int prod_step(struct prod *p)
{
	uint64_t pick = rnd(&p->rng);
	size_t k = 1 + (size_t)(pick >> 8) % MM_BATCH, lens[MM_BATCH], got;
	shmring_msg mv[MM_BATCH];
	shmring_buf bv[MM_BATCH];
	void *w;

	if (k > p->count - p->seq)
		k = (size_t)(p->count - p->seq);
	for (size_t j = 0; j < k; j++)
		lens[j] = mm_len(p->seed, p->id, p->seq + j, p->max, p->one);
	switch (pick & 3) {
	case 0:
		mm_fill(p->buf, lens[0], p->seed, p->id, p->seq);
		P_TRY(p, shmring_send(p->r, p->buf, lens[0], WAIT_MS), "send");
		k = 1;
		break;
	case 1:
		for (size_t j = 0; j < k; j++) {
			uint8_t *b = p->buf + j * p->max;
			mm_fill(b, lens[j], p->seed, p->id, p->seq + j);
			mv[j] = (shmring_msg){b, lens[j]};
		}
		P_TRY(p, shmring_sendv(p->r, mv, k, &got, WAIT_MS), "sendv");
		if (got != k)
			return C_IO;
		break;
	case 2: /* claim the most, commit less */
		P_TRY(p, shmring_claim(p->r, p->max, &w, WAIT_MS), "claim");
		mm_fill(w, lens[0], p->seed, p->id, p->seq);
		P_TRY(p, shmring_commit(p->r, lens[0]), "commit");
		k = 1;
		break;
	default: /* claimv, every other one at max_msg; what fits now */
		for (size_t j = 0; j < k; j++)
			bv[j] = (shmring_buf){NULL, j & 1 ? p->max : lens[j]};
		P_TRY(p, shmring_claimv(p->r, bv, k, &got, WAIT_MS), "claimv");
		k = got;
		for (size_t j = 0; j < k; j++)
			mm_fill(bv[j].data, lens[j], p->seed, p->id,
			        p->seq + j);
		P_TRY(p, shmring_commitv(p->r, lens, k), "commitv");
		break;
	}
	p->seq += k;
	return C_OK;
}

/* Run @n producers to the end of their streams, one random step of a
 * random unfinished one at a time. */
static int prod_run(struct prod *ps, size_t n)
{
	uint64_t rng = ps[0].seed ^ 0xabcdefull;
	size_t left = n;
	int rc;

	while (left) {
		size_t i = (size_t)(rnd(&rng) % n);
		while (ps[i].seq == ps[i].count)
			i = (i + 1) % n;
		rc = prod_step(&ps[i]);
		if (rc != C_OK)
			return rc;
		if (ps[i].seq == ps[i].count)
			left--;
	}
	return C_OK;
}

/* A producer thread of this process: runs its stream, keeps the handle's
 * stats, and closes the handle (the consumer's ECLOSED needs that). */
struct prod_thread {
	struct prod *p;
	int rc;
	shmring_stats st;
	HANDLE t;
};

static DWORD WINAPI prod_thread_main(LPVOID arg)
{
	struct prod_thread *pt = arg;

	pt->rc = prod_run(pt->p, 1);
	shmring_get_stats(pt->p->r, &pt->st);
	shmring_close(pt->p->r);
	pt->p->r = NULL;
	return 0;
}

static int prod_thread_start(struct prod_thread *pt, struct prod *p)
{
	pt->p = p;
	pt->rc = -1;
	pt->t = CreateThread(NULL, 0, prod_thread_main, pt, 0, NULL);
	return pt->t ? 0 : -1;
}

static int prod_thread_join(struct prod_thread *pt)
{
	WaitForSingleObject(pt->t, INFINITE);
	CloseHandle(pt->t);
	return pt->rc;
}

/* ---- the consumer ------------------------------------------------------- */

/*
 * Receive and check until the stream ends (@want: ECLOSED or EPEERDEAD),
 * each step one of recv, recvv, peek + release, peekv + a partial
 * releasev. @slow: Sleep(1) every @slow messages (0: never). Returns 0 or
 * prints why not.
 */
static int consume(shmring *c, struct expect *e, int want, unsigned slow)
{
	static uint8_t bufs[MM_BATCH][4096];
	uint64_t rng = e->seed ^ 0x5151ull, since = 0;
	shmring_msg mv[MM_BATCH];
	shmring_buf bv[MM_BATCH];
	const void *data;
	size_t len, got, k;
	int rc;

	if (e->max > sizeof bufs[0])
		return 1;
	for (;;) {
		uint64_t pick = rnd(&rng);
		k = 1 + (size_t)(pick >> 8) % MM_BATCH;
		switch (pick & 3) {
		case 0:
			rc = shmring_recv(c, bufs[0], sizeof bufs[0], &len,
			                  WAIT_MS);
			if (rc == SHMRING_OK && !mm_check(e, bufs[0], len))
				goto bad;
			got = 1;
			break;
		case 1:
			for (size_t j = 0; j < k; j++)
				bv[j] = (shmring_buf){bufs[j], sizeof bufs[j]};
			rc = shmring_recvv(c, bv, k, &got, WAIT_MS);
			for (size_t j = 0; rc == SHMRING_OK && j < got; j++)
				if (!mm_check(e, bufs[j], bv[j].len))
					goto bad;
			break;
		case 2:
			rc = shmring_peek(c, &data, &len, WAIT_MS);
			if (rc == SHMRING_OK) {
				if (!mm_check(e, data, len))
					goto bad;
				rc = shmring_release(c);
			}
			got = 1;
			break;
		default:
			rc = shmring_peekv(c, mv, k, &got, WAIT_MS);
			if (rc != SHMRING_OK)
				break;
			for (size_t j = 0; j < got; j++)
				if (!mm_check(e, mv[j].data, mv[j].len))
					goto bad;
			/* release some, then the rest */
			k = 1 + (size_t)(pick >> 20) % got;
			rc = shmring_releasev(c, k);
			if (rc == SHMRING_OK && k < got)
				rc = shmring_releasev(c, got - k);
			break;
		}
		if (rc == want)
			return 0;
		if (rc != SHMRING_OK) {
			TAP_NOTE("consumer: %d (%s) after %llu messages", rc,
			         shmring_strerror(rc),
			         (unsigned long long)e->total);
			return 1;
		}
		since += got;
		if (slow && since >= slow) {
			since = 0;
			Sleep(1);
		}
	}
bad:
	TAP_NOTE("consumer: %s", e->err);
	return 1;
}

/* ---- children ----------------------------------------------------------- */

static HANDLE ev_open_or_null(const char *name)
{
	return wu_event_open(name);
}

static int set_event(const char *name)
{
	HANDLE ev = ev_open_or_null(name);

	if (!ev)
		return 0;
	SetEvent(ev);
	CloseHandle(ev);
	return 1;
}

static int wait_event(const char *name, DWORD ms)
{
	HANDLE ev = ev_open_or_null(name);
	int ok = ev && wu_event_wait(ev, ms);

	if (ev)
		CloseHandle(ev);
	return ok;
}

/* Open @n producer handles of ring @ring; close them all on failure. */
static int open_producers(const char *ring, shmring **r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = shmring_open(ring, SHMRING_PRODUCER, &r[i]);
		if (rc != SHMRING_OK) {
			printf("# child: producer %zu: open: %s\n", i,
			       shmring_strerror(rc));
			while (i--)
				shmring_close(r[i]);
			return C_OPEN;
		}
	}
	return C_OK;
}

static void close_all(shmring **r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		shmring_close(r[i]);
}

static unsigned long argn(char **argv, int i)
{
	return strtoul(argv[i], NULL, 0);
}

/* stream RING ID0 NH COUNT SEED ONE SPIN EVREADY EVGO: NH producer handles
 * (streams ID0 ..), COUNT messages each; SPIN 0 sets a spin of 0 and then
 * requires every handle to have slept at least once. */
static int c_stream(int argc, char **argv)
{
	shmring *r[NSTREAMS];
	struct prod ps[NSTREAMS];
	size_t nh;
	uint32_t id0;
	int rc;

	if (argc < 12)
		return C_USAGE;
	id0 = (uint32_t)argn(argv, 4);
	nh = argn(argv, 5);
	if (nh == 0 || nh > NSTREAMS || open_producers(argv[3], r, nh) != C_OK)
		return C_OPEN;
	for (size_t i = 0; i < nh; i++) {
		if (prod_init(&ps[i], r[i], id0 + (uint32_t)i, argn(argv, 6),
		              strtoull(argv[7], NULL, 0), argn(argv, 8)))
			return C_IO;
		if (argn(argv, 9) == 0)
			shmring_set_spin(r[i], 0);
	}
	if (!set_event(argv[10]) || !wait_event(argv[11], CHILD_WAIT_MS))
		return C_USAGE;
	rc = prod_run(ps, nh);
	for (size_t i = 0; rc == C_OK && argn(argv, 9) == 0 && i < nh; i++) {
		shmring_stats st;
		shmring_get_stats(r[i], &st);
		if (st.waits == 0)
			rc = C_NOSLEEP;
	}
	close_all(r, nh);
	return rc;
}

/* hold RING ID0 NH SEED ONE EVREADY EVRELEASE: NH producer handles, each
 * sending message 0 of its stream; then wait for EVRELEASE and close. */
static int c_hold(int argc, char **argv)
{
	shmring *r[NSTREAMS];
	struct prod p;
	size_t nh;
	int rc = C_OK;

	if (argc < 10)
		return C_USAGE;
	nh = argn(argv, 5);
	if (nh == 0 || nh > NSTREAMS || open_producers(argv[3], r, nh) != C_OK)
		return C_OPEN;
	for (size_t i = 0; i < nh && rc == C_OK; i++) {
		if (prod_init(&p, r[i], (uint32_t)(argn(argv, 4) + i), 1,
		              strtoull(argv[6], NULL, 0), argn(argv, 7)))
			return C_IO;
		rc = prod_step(&p);
		free(p.buf);
	}
	if (rc != C_OK || !set_event(argv[8]) ||
	    !wait_event(argv[9], CHILD_WAIT_MS))
		rc = rc != C_OK ? rc : C_USAGE;
	close_all(r, nh);
	return rc;
}

/* busy RING: a producer open must be EBUSY. */
static int c_busy(int argc, char **argv)
{
	shmring *r = NULL;
	int rc;

	if (argc < 4)
		return C_USAGE;
	rc = shmring_open(argv[3], SHMRING_PRODUCER, &r);
	if (rc == SHMRING_EBUSY && r == NULL)
		return C_OK;
	printf("# child: a 33rd producer: %s\n", shmring_strerror(rc));
	if (rc == SHMRING_OK)
		shmring_close(r);
	return C_NOT_BUSY;
}

/* claim RING ID N SEED ONE EVREADY: send N messages of stream ID, claim
 * 100 bytes (4 slots of 32), scribble, set EVREADY, wait to be killed. */
static int c_claim(int argc, char **argv)
{
	shmring *r;
	struct prod p;
	void *w;

	if (argc < 9)
		return C_USAGE;
	if (shmring_open(argv[3], SHMRING_PRODUCER, &r) != SHMRING_OK)
		return C_OPEN;
	if (prod_init(&p, r, (uint32_t)argn(argv, 4), argn(argv, 5),
	              strtoull(argv[6], NULL, 0), argn(argv, 7)))
		return C_IO;
	p.max = HOLE_MSG_MAX; /* all of it fits before anyone consumes */
	while (p.seq < p.count)
		if (prod_step(&p) != C_OK)
			return C_IO;
	if (shmring_claim(r, 100, &w, 0) != SHMRING_OK)
		return C_IO;
	memset(w, 0xee, 100);
	set_event(argv[8]);
	Sleep(INFINITE);
	return C_OK;
}

/* blocked RING CYCLES EVREADY: spin 0, send 4-byte sequence numbers
 * until the consumer closes (ECLOSED); every send may block and sleep.
 * Then it must have slept at least CYCLES times. */
static int c_blocked(int argc, char **argv)
{
	shmring *r;
	shmring_stats st;
	uint32_t seq = 0;
	int rc;

	if (argc < 6)
		return C_USAGE;
	if (shmring_open(argv[3], SHMRING_PRODUCER, &r) != SHMRING_OK)
		return C_OPEN;
	shmring_set_spin(r, 0);
	set_event(argv[5]);
	while ((rc = shmring_send(r, &seq, sizeof seq, WAIT_MS)) == SHMRING_OK)
		seq++;
	shmring_get_stats(r, &st);
	shmring_close(r);
	if (rc != SHMRING_ECLOSED) {
		printf("# child: send %u: %s\n", seq, shmring_strerror(rc));
		return C_END;
	}
	if (st.waits < argn(argv, 4)) {
		printf("# child: slept %llu times, fewer than %lu cycles\n",
		       (unsigned long long)st.waits, argn(argv, 4));
		return C_NOSLEEP;
	}
	return C_OK;
}

static int child_main(int argc, char **argv)
{
	static const struct {
		const char *mode;
		int (*fn)(int argc, char **argv);
	} modes[] = {
	        {"stream", c_stream}, {"hold", c_hold},       {"busy", c_busy},
	        {"claim", c_claim},   {"blocked", c_blocked},
	};

	tap_init();
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (!strcmp(argv[2], modes[i].mode))
			return modes[i].fn(argc, argv);
	return C_USAGE;
}

/* ---- parent helpers ----------------------------------------------------- */

static HANDLE spawnf(const char *fmt, ...)
{
	char args[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	return wu_spawn(args);
}

/* A fresh MPSC ring @name, held by us as its consumer (@max_msg 0: the
 * default, half the ring). */
static int create_mpsc(char *name, uint32_t slot_size, uint32_t slots,
                       uint32_t max_msg, shmring **c)
{
	shmring_config cfg = {.slot_size = slot_size,
	                      .slot_count = slots,
	                      .flags = SHMRING_F_MPSC,
	                      .max_msg = max_msg};

	wu_name(name, "mp");
	return shmring_create(name, &cfg, SHMRING_CONSUMER, c);
}

static void expect_init(struct expect *e, uint64_t seed, shmring *c, size_t one)
{
	memset(e, 0, sizeof *e);
	e->seed = seed;
	e->max = shmring_max_msg(c);
	e->one = one;
}

static uint64_t fresh_seed(void)
{
	return wu_mix(GetCurrentProcessId() ^ (uint64_t)GetTickCount64() ^
	              (uint64_t)(uintptr_t)&fresh_seed);
}

/* An event name made unique, and the event. */
static HANDLE make_event(char *name)
{
	wu_name(name, "ev");
	return wu_event_create(name);
}

static int median_ms(double *v, size_t n, double *med)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*med = v[n / 2];
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

/*
 * Six producers, two as threads of this process and four in two child
 * processes (two handles each), stream verified messages of random sizes
 * (1 .. 128 slots, every data call) into one consumer here, which checks
 * each one and sees ECLOSED once they all closed. @spin_zero: producers
 * sleep at once when the ring is full, and @slow: the consumer drains
 * slowly (Sleep(1) every @slow messages), so they all sleep and must be
 * woken.
 */
static int streams(uint32_t slot_size, uint32_t slots, uint64_t per,
                   int spin_zero, unsigned slow)
{
	char name[WU_NAME_MAX], ready[2][WU_NAME_MAX], go[WU_NAME_MAX];
	HANDLE ev_ready[2], ev_go, kids[2];
	struct prod ps[2];
	struct prod_thread pt[2];
	struct expect e;
	shmring *c = NULL, *p[2];
	shmring_stats st;
	uint64_t seed = fresh_seed();
	double t0, ms;
	int fail;

	CHECK_RC(create_mpsc(name, slot_size, slots, 0, &c), SHMRING_OK);
	expect_init(&e, seed, c, slot_size);
	TAP_NOTE("seed %llu, max_msg %zu", (unsigned long long)seed, e.max);
	for (uint32_t i = 0; i < 2; i++) {
		CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p[i]),
		         SHMRING_OK);
		CHECK(prod_init(&ps[i], p[i], i, per, seed, slot_size) == 0);
		if (spin_zero)
			shmring_set_spin(p[i], 0);
	}
	ev_go = make_event(go);
	CHECK(ev_go != NULL);
	for (uint32_t k = 0; k < 2; k++) {
		ev_ready[k] = make_event(ready[k]);
		CHECK(ev_ready[k] != NULL);
		kids[k] = spawnf("stream %s %u 2 %llu %llu %u %d %s %s", name,
		                 2 + 2 * k, (unsigned long long)per,
		                 (unsigned long long)seed, slot_size,
		                 spin_zero ? 0 : 1, ready[k], go);
		CHECK(kids[k] != NULL);
	}
	for (uint32_t k = 0; k < 2; k++) {
		CHECK(wu_event_wait(ev_ready[k], CHILD_WAIT_MS));
		CloseHandle(ev_ready[k]);
	}
	t0 = wu_now_ms();
	SetEvent(ev_go);
	CHECK(prod_thread_start(&pt[0], &ps[0]) == 0);
	CHECK(prod_thread_start(&pt[1], &ps[1]) == 0);
	fail = consume(c, &e, SHMRING_ECLOSED, slow);
	ms = wu_now_ms() - t0;
	CHECK_EQ(prod_thread_join(&pt[0]), C_OK);
	CHECK_EQ(prod_thread_join(&pt[1]), C_OK);
	for (uint32_t k = 0; k < 2; k++)
		CHECK_EQ(wu_reap(kids[k], CHILD_WAIT_MS), C_OK);
	CloseHandle(ev_go);
	shmring_get_stats(c, &st);
	TAP_NOTE("%llu messages from 6 producers in %.0f ms; consumer: %llu "
	         "sleeps, %llu wakes sent",
	         (unsigned long long)e.total, ms, (unsigned long long)st.waits,
	         (unsigned long long)st.wakes);
	for (uint32_t i = 0; i < 2; i++) {
		TAP_NOTE("producer %u (a thread here): %llu sleeps, %llu wakes",
		         i, (unsigned long long)pt[i].st.waits,
		         (unsigned long long)pt[i].st.wakes);
		if (spin_zero)
			CHECK(pt[i].st.waits > 0);
		free(ps[i].buf);
	}
	CHECK_EQ(fail, 0);
	for (uint32_t i = 0; i < 6; i++)
		CHECK_EQ(e.next[i], per);
	CHECK_EQ(e.total, 6 * per);
	if (spin_zero)
		CHECK(st.wakes > 0); /* the consumer woke sleeping producers */
	shmring_close(c);
	return 0;
}

static int six_producers_in_three_processes_stream_verified_messages(void)
{
	return streams(ST_ONE, ST_SLOTS, 3000, 0, 0);
}

/* A ring of 16 slots (max_msg 248: 1 .. 8 slots), producers with spin 0,
 * a consumer that naps: every producer sleeps on the full ring, and is
 * woken by the consumer's releases through its own event. */
static int producers_asleep_on_a_full_ring_are_woken(void)
{
	return streams(ST_ONE, 16, 300, 1, 4);
}

/*
 * One producer in a child process, entry @k (the entries below it held by
 * handles of ours), spin 0, blocks on a full 2-slot ring; the consumer
 * frees a slot and measures how long until the producer's next message
 * arrives. Woken through wake object 2 + k that is a few wineserver round
 * trips; a missed wake would end only with the producer's 50 ms sleep
 * slice, 40 ms later.
 */
static int wake_latency(uint32_t k, double *med)
{
	enum { CYCLES = 15 };
	char name[WU_NAME_MAX], ready[WU_NAME_MAX];
	shmring *c = NULL, *below[NSTREAMS];
	HANDLE ev, kid;
	double lat[CYCLES];
	uint32_t v, want = 0;
	size_t len;

	CHECK_RC(create_mpsc(name, 8, 2, 0, &c), SHMRING_OK);
	CHECK_EQ(shmring_max_msg(c), 8);
	shmring_set_spin(c, 0);
	for (uint32_t i = 0; i < k; i++)
		CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &below[i]),
		         SHMRING_OK);
	ev = make_event(ready);
	CHECK(ev != NULL);
	kid = spawnf("blocked %s %u %s", name, CYCLES, ready);
	CHECK(kid != NULL);
	CHECK(wu_event_wait(ev, CHILD_WAIT_MS));
	CloseHandle(ev);
	for (int i = 0; i < CYCLES; i++) {
		double t0;
		Sleep(10); /* the ring is full, the producer asleep */
		t0 = wu_now_ms();
		for (int j = 0; j < 3; j++) {
			CHECK_RC(shmring_recv(c, &v, sizeof v, &len, WAIT_MS),
			         SHMRING_OK);
			CHECK_EQ(v, want);
			want++;
		}
		lat[i] = wu_now_ms() - t0;
	}
	shmring_close(c); /* the producer's send: ECLOSED */
	CHECK_EQ(wu_reap(kid, CHILD_WAIT_MS), C_OK);
	close_all(below, k);
	median_ms(lat, CYCLES, med);
	TAP_NOTE("entry %u (wake id %u): woken in %.2f ms (median of %d), "
	         "%.2f .. %.2f",
	         k, 2 + k, *med, CYCLES, lat[0], lat[CYCLES - 1]);
	return 0;
}

static int a_producer_asleep_is_woken_by_its_own_event_at_once(void)
{
	static const uint32_t entries[] = {0, 1, 31};
	double med[3];

	for (size_t i = 0; i < 3; i++)
		CHECK_EQ(wake_latency(entries[i], &med[i]), 0);
	for (size_t i = 0; i < 3; i++)
		CHECK(med[i] < WAKE_MAX_MS);
	return 0;
}

/*
 * The table: 32 producer entries, held by two child processes (two each)
 * and by us (28); a 33rd is EBUSY here and in another process. A closed
 * entry is free again at once; a dead holder's entries are taken over.
 */
static int the_33rd_producer_is_ebusy_here_and_in_another_process(void)
{
	char name[WU_NAME_MAX], ready[2][WU_NAME_MAX], rel[2][WU_NAME_MAX];
	HANDLE ev_ready[2], ev_rel[2], kids[2];
	shmring *c = NULL, *p[NSTREAMS], *x = NULL;
	struct expect e;
	struct prod pr;
	uint64_t seed = fresh_seed();
	uint8_t buf[4096];
	size_t len;

	CHECK_RC(create_mpsc(name, ST_ONE, 64, SMALL_MAX, &c), SHMRING_OK);
	expect_init(&e, seed, c, ST_ONE);
	for (uint32_t k = 0; k < 2; k++) {
		ev_ready[k] = make_event(ready[k]);
		ev_rel[k] = make_event(rel[k]);
		CHECK(ev_ready[k] && ev_rel[k]);
		kids[k] = spawnf("hold %s %u 2 %llu %u %s %s", name, 28 + 2 * k,
		                 (unsigned long long)seed, ST_ONE, ready[k],
		                 rel[k]);
		CHECK(kids[k] != NULL);
		CHECK(wu_event_wait(ev_ready[k], CHILD_WAIT_MS));
		CloseHandle(ev_ready[k]);
	}
	for (uint32_t i = 0; i < 28; i++)
		CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p[i]),
		         SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &x), SHMRING_EBUSY);
	CHECK(x == NULL);
	CHECK_EQ(wu_reap(spawnf("busy %s", name), CHILD_WAIT_MS), C_OK);
	/* a closed entry is free again at once */
	shmring_close(p[27]);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p[27]), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &x), SHMRING_EBUSY);
	/* a dead holder's two entries are taken over */
	wu_kill(kids[0]);
	CloseHandle(kids[0]);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p[28]), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p[29]), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &x), SHMRING_EBUSY);
	CHECK_EQ(wu_reap(spawnf("busy %s", name), CHILD_WAIT_MS), C_OK);
	/* every handle works: message 0 of stream i from p[i] (28 and 29
	 * continue the dead child's streams at message 1), and the children's
	 * message 0 of streams 28 .. 31 */
	for (uint32_t i = 0; i < 30; i++) {
		CHECK(prod_init(&pr, p[i], i, i >= 28 ? 2 : 1, seed, ST_ONE) ==
		      0);
		pr.seq = i >= 28 ? 1 : 0;
		CHECK_EQ(prod_step(&pr), C_OK);
		while (pr.seq < pr.count)
			CHECK_EQ(prod_step(&pr), C_OK);
		free(pr.buf);
		while (shmring_recv(c, buf, sizeof buf, &len, 0) == SHMRING_OK)
			CHECK(mm_check(&e, buf, len));
	}
	while (shmring_recv(c, buf, sizeof buf, &len, 0) == SHMRING_OK)
		CHECK(mm_check(&e, buf, len));
	for (uint32_t i = 0; i < NSTREAMS; i++)
		CHECK_EQ(e.next[i], i == 28 || i == 29 ? 2 : 1);
	/* everyone closes: the end of the stream */
	SetEvent(ev_rel[1]);
	CHECK_EQ(wu_reap(kids[1], CHILD_WAIT_MS), C_OK);
	CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 0), SHMRING_EAGAIN);
	close_all(p, 30);
	CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 1000), SHMRING_ECLOSED);
	for (uint32_t k = 0; k < 2; k++)
		CloseHandle(ev_rel[k]);
	shmring_close(c);
	return 0;
}

/*
 * A producer in a child process sends 20 messages, claims 100 bytes (four
 * slots) and is killed before it commits; a producer here sends three
 * messages behind its claim. The consumer waits at the claim while its
 * holder lives, and once the holder is dead passes the hole within
 * HOLE_MAX_MS, counting it as abandoned, and delivers the messages behind.
 */
static int a_producer_killed_holding_a_claim_leaves_a_hole(void)
{
	char name[WU_NAME_MAX], ready[WU_NAME_MAX];
	shmring *c = NULL, *p = NULL;
	shmring_stats st;
	struct expect e;
	struct prod pr;
	uint64_t seed = fresh_seed();
	uint8_t buf[4096];
	HANDLE ev, kid, killer;
	volatile double t_kill = 0;
	double t_done;
	size_t len;
	int rc;

	CHECK_RC(create_mpsc(name, ST_ONE, ST_SLOTS, 0, &c), SHMRING_OK);
	expect_init(&e, seed, c, ST_ONE);
	e.max = HOLE_MSG_MAX;
	shmring_set_spin(c, 0);
	ev = make_event(ready);
	CHECK(ev != NULL);
	kid = spawnf("claim %s 1 20 %llu %u %s", name, (unsigned long long)seed,
	             ST_ONE, ready);
	CHECK(kid != NULL);
	CHECK(wu_event_wait(ev, CHILD_WAIT_MS));
	CloseHandle(ev);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p), SHMRING_OK);
	CHECK(prod_init(&pr, p, 0, 3, seed, ST_ONE) == 0);
	pr.max = HOLE_MSG_MAX;
	while (pr.seq < pr.count)
		CHECK_EQ(prod_step(&pr), C_OK);
	free(pr.buf);
	for (int i = 0; i < 20; i++) {
		CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, WAIT_MS),
		         SHMRING_OK);
		CHECK(mm_check(&e, buf, len));
	}
	CHECK_EQ(e.next[1], 20);
	/* a live holder's claim: the consumer waits */
	CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 0), SHMRING_EAGAIN);
	CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 120),
	         SHMRING_ETIMEDOUT);
	shmring_get_stats(c, &st);
	CHECK_EQ(st.abandoned, 0);
	killer = wu_kill_later(kid, 150, &t_kill);
	CHECK(killer != NULL);
	rc = shmring_recv(c, buf, sizeof buf, &len, WAIT_MS);
	t_done = wu_now_ms();
	wu_join(killer);
	CHECK_RC(rc, SHMRING_OK);
	/* the next message is the first behind the hole: stream 0's */
	{
		uint32_t id;
		memcpy(&id, buf, 4);
		CHECK_EQ(id, 0);
	}
	CHECK(mm_check(&e, buf, len));
	TAP_NOTE("the hole was passed %.1f ms after TerminateProcess",
	         t_done - t_kill);
	CHECK(t_kill > 0 && t_done >= t_kill);
	CHECK(t_done - t_kill < HOLE_MAX_MS);
	shmring_get_stats(c, &st);
	CHECK_EQ(st.abandoned, 1);
	for (int i = 0; i < 2; i++) {
		CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, WAIT_MS),
		         SHMRING_OK);
		CHECK(mm_check(&e, buf, len));
	}
	CHECK_EQ(e.next[0], 3);
	CHECK_EQ(e.next[1], 20); /* the hole is not a message */
	shmring_close(p);
	/* the dead child's entry is still held by a dead process */
	rc = shmring_recv(c, buf, sizeof buf, &len, 2000);
	CHECK(rc == SHMRING_EPEERDEAD || rc == SHMRING_ECLOSED);
	TAP_NOTE("then: %s", shmring_strerror(rc));
	shmring_get_stats(c, &st);
	CHECK_EQ(st.abandoned, 1);
	wu_reap(kid, CHILD_WAIT_MS);
	shmring_close(c);
	return 0;
}

/*
 * The end of stream: none came yet is a wait, not an end; ECLOSED only
 * once the last of the producers (one here, one in a child process)
 * closed, and a producer that attaches later makes the consumer wait
 * again. EPEERDEAD when the last producer died instead.
 */
static int eclosed_once_every_producer_closed_epeerdead_if_died(void)
{
	char name[WU_NAME_MAX], ready[WU_NAME_MAX], rel[WU_NAME_MAX];
	shmring *c = NULL, *p = NULL;
	struct expect e;
	struct prod pr;
	uint64_t seed = fresh_seed();
	uint8_t buf[4096];
	HANDLE ev_ready, ev_rel, kid, killer;
	volatile double t_kill = 0;
	double t0;
	size_t len;

	for (int died = 0; died < 2; died++) {
		CHECK_RC(create_mpsc(name, ST_ONE, 64, SMALL_MAX, &c),
		         SHMRING_OK);
		expect_init(&e, seed, c, ST_ONE);
		CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 0),
		         SHMRING_EAGAIN);
		CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 60),
		         SHMRING_ETIMEDOUT);
		CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p), SHMRING_OK);
		CHECK(prod_init(&pr, p, 0, 1, seed, ST_ONE) == 0);
		CHECK_EQ(prod_step(&pr), C_OK);
		free(pr.buf);
		ev_ready = make_event(ready);
		ev_rel = make_event(rel);
		CHECK(ev_ready && ev_rel);
		kid = spawnf("hold %s 1 1 %llu %u %s %s", name,
		             (unsigned long long)seed, ST_ONE, ready, rel);
		CHECK(kid != NULL);
		CHECK(wu_event_wait(ev_ready, CHILD_WAIT_MS));
		shmring_close(p);
		for (int i = 0; i < 2; i++) {
			CHECK_RC(
			        shmring_recv(c, buf, sizeof buf, &len, WAIT_MS),
			        SHMRING_OK);
			CHECK(mm_check(&e, buf, len));
		}
		/* one producer left */
		CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 60),
		         SHMRING_ETIMEDOUT);
		if (!died) {
			t0 = wu_now_ms();
			SetEvent(ev_rel);
			CHECK_RC(shmring_recv(c, buf, sizeof buf, &len,
			                      SHMRING_FOREVER),
			         SHMRING_ECLOSED);
			TAP_NOTE("ECLOSED %.1f ms after the release",
			         wu_now_ms() - t0);
			CHECK_EQ(wu_reap(kid, CHILD_WAIT_MS), C_OK);
			/* a late producer: wait again, then closed again */
			CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p),
			         SHMRING_OK);
			CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 60),
			         SHMRING_ETIMEDOUT);
			shmring_close(p);
			CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 1000),
			         SHMRING_ECLOSED);
		} else {
			killer = wu_kill_later(kid, 50, &t_kill);
			CHECK(killer != NULL);
			CHECK_RC(shmring_recv(c, buf, sizeof buf, &len,
			                      SHMRING_FOREVER),
			         SHMRING_EPEERDEAD);
			t0 = wu_now_ms();
			wu_join(killer);
			TAP_NOTE("EPEERDEAD %.1f ms after TerminateProcess",
			         t0 - t_kill);
			CHECK(t0 - t_kill < DEATH_MAX_MS);
			wu_reap(kid, CHILD_WAIT_MS);
		}
		CloseHandle(ev_ready);
		CloseHandle(ev_rel);
		shmring_close(c);
	}
	return 0;
}

static const struct tap_test tests[] = {
        TAP(six_producers_in_three_processes_stream_verified_messages),
        TAP(producers_asleep_on_a_full_ring_are_woken),
        TAP(a_producer_asleep_is_woken_by_its_own_event_at_once),
        TAP(the_33rd_producer_is_ebusy_here_and_in_another_process),
        TAP(a_producer_killed_holding_a_claim_leaves_a_hole),
        TAP(eclosed_once_every_producer_closed_epeerdead_if_died),
};

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--child"))
		return child_main(argc, argv);
	return TAP_MAIN(argc, argv, tests);
}
