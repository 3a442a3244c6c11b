/* SPDX-License-Identifier: MIT */
/*
 * test_ipc.c -- the contract between two processes on Windows: a verified
 * stream both ways (the child is this program, started with CreateProcessW),
 * end of stream, peer death (TerminateProcess), takeover, and waits woken
 * by another process. Children report through their exit code. The
 * streams of one-slot messages (STREAM_*) are followed by one of random
 * sizes up to max_msg, over many slots (V2_*: format version 2).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmring.h"
#include "tap.h"
#include "winutil.h"

#define STREAM_MSGS   100000u
#define STREAM_SLOT   200u
#define STREAM_SLOTS  64u
#define DEATH_MAX_MS  1000.0 /* the contract says 200 ms; Wine is slow */
#define CHILD_WAIT_MS 60000u

/* ---- children ----------------------------------------------------------- */

enum child_rc {
	C_OK = 0,
	C_USAGE = 2,
	C_OPEN = 3,
	C_IO = 4,
	C_VERIFY = 5,
	C_END = 6,
};

/* Send @n verified messages, alternating the copy and zero-copy APIs. */
static int stream_send(shmring *r, uint64_t n, uint64_t seed, size_t max)
{
	uint8_t buf[STREAM_SLOT];
	void *w;

	for (uint64_t i = 0; i < n; i++) {
		size_t len = wu_msg_len(seed, i, max);
		if (wu_mix(seed ^ i) & 1) {
			wu_msg_fill(buf, len, seed, i);
			if (shmring_send(r, buf, len, SHMRING_FOREVER))
				return C_IO;
		} else {
			if (shmring_claim(r, max, &w, SHMRING_FOREVER))
				return C_IO;
			wu_msg_fill(w, len, seed, i);
			if (shmring_commit(r, len))
				return C_IO;
		}
	}
	return C_OK;
}

/* Receive and check @n messages, then expect the end of stream. */
static int stream_recv(shmring *r, uint64_t n, uint64_t seed, size_t max)
{
	uint8_t buf[STREAM_SLOT];
	const void *p;
	size_t len;

	for (uint64_t i = 0; i < n; i++) {
		if (wu_mix(seed ^ ~i) & 1) {
			if (shmring_recv(r, buf, sizeof buf, &len,
			                 SHMRING_FOREVER))
				return C_IO;
			p = buf;
		} else if (shmring_peek(r, &p, &len, SHMRING_FOREVER)) {
			return C_IO;
		}
		if (!wu_msg_check(p, len, seed, i, max))
			return C_VERIFY;
		if (p != buf && shmring_release(r))
			return C_IO;
	}
	return shmring_recv(r, buf, sizeof buf, &len, 5000) == SHMRING_ECLOSED
	               ? C_OK
	               : C_END;
}

/* ---- the format-2 stream: random sizes up to max_msg -------------------- */

/*
 * A ring of 32-byte strides (slot_size 24) and 256 slots: the default
 * max_msg is 256 * 32 / 2 - 8 = 4088 bytes, so messages span 1 .. 128
 * slots, about four are in flight and the ring wraps with padding of every
 * size. Each side picks, per message or batch, one of its four calls:
 * send, sendv, claim + a shorter commit, claimv + commitv (shorter too);
 * recv, recvv, peek + release, peekv + a partial releasev.
 */
#define V2_SLOT    24u
#define V2_SLOTS   256u
#define V2_MAX     4088u
#define V2_BATCH   8u
#define V2_MSGS    30000u
#define V2_WAIT_MS 20000

static void v2_fail(const char *what, uint64_t seq, int rc)
{
	printf("# child: %s at message %llu: %d (%s)\n", what,
	       (unsigned long long)seq, rc, shmring_strerror(rc));
}

#define V2_TRY(call, what, seq)                                                \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ != SHMRING_OK) {                                       \
			v2_fail(what, seq, rc_);                               \
			return C_IO;                                           \
		}                                                              \
	} while (0)

static int v2_send(shmring *r, uint64_t n, uint64_t seed)
{
	static uint8_t bufs[V2_BATCH][V2_MAX];
	shmring_msg mv[V2_BATCH];
	shmring_buf bv[V2_BATCH];
	size_t lens[V2_BATCH], k, got;
	size_t max = shmring_max_msg(r);
	void *w;

	if (max != V2_MAX)
		return C_USAGE;
	for (uint64_t i = 0; i < n; i += k) {
		uint64_t pick = wu_mix(seed ^ (i << 1));
		k = 1 + (size_t)(pick >> 8) % V2_BATCH;
		if (k > n - i)
			k = (size_t)(n - i);
		for (size_t j = 0; j < k; j++)
			lens[j] = wu_msg_len(seed, i + j, max);
		switch (pick & 3) {
		case 0: /* send, one */
			k = 1;
			wu_msg_fill(bufs[0], lens[0], seed, i);
			V2_TRY(shmring_send(r, bufs[0], lens[0], V2_WAIT_MS),
			       "send", i);
			break;
		case 1: /* sendv, a batch */
			for (size_t j = 0; j < k; j++) {
				wu_msg_fill(bufs[j], lens[j], seed, i + j);
				mv[j] = (shmring_msg){bufs[j], lens[j]};
			}
			V2_TRY(shmring_sendv(r, mv, k, &got, V2_WAIT_MS),
			       "sendv", i);
			break;
		case 2: /* claim the most, commit less */
			k = 1;
			V2_TRY(shmring_claim(r, max, &w, V2_WAIT_MS), "claim",
			       i);
			wu_msg_fill(w, lens[0], seed, i);
			V2_TRY(shmring_commit(r, lens[0]), "commit", i);
			break;
		default: /* claimv: every other one claimed at max_msg */
			for (size_t j = 0; j < k; j++)
				bv[j] = (shmring_buf){NULL,
				                      j & 1 ? max : lens[j]};
			V2_TRY(shmring_claimv(r, bv, k, &got, V2_WAIT_MS),
			       "claimv", i);
			k = got; /* what fitted now */
			for (size_t j = 0; j < k; j++)
				wu_msg_fill(bv[j].data, lens[j], seed, i + j);
			V2_TRY(shmring_commitv(r, lens, k), "commitv", i);
			break;
		}
	}
	return C_OK;
}

static int v2_check(const void *p, size_t len, uint64_t seed, uint64_t seq)
{
	if (wu_msg_check(p, len, seed, seq, V2_MAX))
		return 1;
	printf("# child: message %llu: %zu bytes, not the ones sent "
	       "(%zu bytes)\n",
	       (unsigned long long)seq, len, wu_msg_len(seed, seq, V2_MAX));
	return 0;
}

static int v2_recv(shmring *r, uint64_t n, uint64_t seed)
{
	static uint8_t bufs[V2_BATCH][V2_MAX];
	shmring_msg mv[V2_BATCH], again[V2_BATCH];
	shmring_buf bv[V2_BATCH];
	size_t k, got, rel, len;
	const void *p;

	if (shmring_max_msg(r) != V2_MAX)
		return C_USAGE;
	for (uint64_t i = 0; i < n; i += k) {
		uint64_t pick = wu_mix(seed ^ ~(i << 1));
		k = 1 + (size_t)(pick >> 8) % V2_BATCH;
		if (k > n - i)
			k = (size_t)(n - i);
		switch (pick & 3) {
		case 0: /* recv */
			k = 1;
			V2_TRY(shmring_recv(r, bufs[0], V2_MAX, &len,
			                    V2_WAIT_MS),
			       "recv", i);
			if (!v2_check(bufs[0], len, seed, i))
				return C_VERIFY;
			break;
		case 1: /* recvv: what is there, up to k */
			for (size_t j = 0; j < k; j++)
				bv[j] = (shmring_buf){bufs[j], V2_MAX};
			V2_TRY(shmring_recvv(r, bv, k, &got, V2_WAIT_MS),
			       "recvv", i);
			k = got;
			for (size_t j = 0; j < k; j++)
				if (!v2_check(bufs[j], bv[j].len, seed, i + j))
					return C_VERIFY;
			break;
		case 2: /* peek + release */
			k = 1;
			V2_TRY(shmring_peek(r, &p, &len, V2_WAIT_MS), "peek",
			       i);
			if (!v2_check(p, len, seed, i))
				return C_VERIFY;
			V2_TRY(shmring_release(r), "release", i);
			break;
		default: /* peekv, release some, peek the rest again */
			V2_TRY(shmring_peekv(r, mv, k, &got, V2_WAIT_MS),
			       "peekv", i);
			for (size_t j = 0; j < got; j++)
				if (!v2_check(mv[j].data, mv[j].len, seed,
				              i + j))
					return C_VERIFY;
			rel = 1 + (size_t)(pick >> 20) % got;
			V2_TRY(shmring_releasev(r, rel), "releasev", i);
			if (rel < got) {
				size_t got2;
				V2_TRY(shmring_peekv(r, again, got - rel, &got2,
				                     0),
				       "peekv again", i);
				if (got2 != got - rel)
					return C_IO;
				for (size_t j = 0; j < got2; j++)
					if (again[j].data != mv[rel + j].data ||
					    again[j].len != mv[rel + j].len)
						return C_VERIFY;
				V2_TRY(shmring_releasev(r, got2), "releasev",
				       i);
			}
			k = got;
			break;
		}
	}
	return shmring_recv(r, bufs[0], V2_MAX, &len, 5000) == SHMRING_ECLOSED
	               ? C_OK
	               : C_END;
}

static void set_event(const char *name)
{
	HANDLE ev = wu_event_open(name);

	if (ev)
		SetEvent(ev);
}

/* What a child was asked: <mode> <ring> [<n> [<event or seed>]] */
struct cargs {
	const char *ring;
	unsigned long n;
	const char *extra;
};

static int c_stream_recv(shmring *r, const struct cargs *a)
{
	return stream_recv(r, a->n, strtoull(a->extra, NULL, 0), STREAM_SLOT);
}

static int c_stream_send(shmring *r, const struct cargs *a)
{
	return stream_send(r, a->n, strtoull(a->extra, NULL, 0), STREAM_SLOT);
}

static int c_v2_recv(shmring *r, const struct cargs *a)
{
	return v2_recv(r, a->n, strtoull(a->extra, NULL, 0));
}

static int c_v2_send(shmring *r, const struct cargs *a)
{
	return v2_send(r, a->n, strtoull(a->extra, NULL, 0));
}

/* Send "late" after n ms, then close. */
static int c_send_late(shmring *r, const struct cargs *a)
{
	Sleep((DWORD)a->n);
	return shmring_send(r, "late", 4, 0) ? C_IO : C_OK;
}

/* Send 0..n-1, then close (an orderly end of stream). */
static int c_prod_close(shmring *r, const struct cargs *a)
{
	for (uint32_t i = 0; i < a->n; i++)
		if (shmring_send(r, &i, sizeof i, 0))
			return C_IO;
	return C_OK;
}

/* Send 0..n-1, optionally leave a claim open, signal, and wait to die. */
static int c_prod_hang(shmring *r, const struct cargs *a, int claim)
{
	void *w;

	if (c_prod_close(r, a) != C_OK)
		return C_IO;
	if (claim && shmring_claim(r, 4, &w, 0) == SHMRING_OK)
		memcpy(w, "junk", 4);
	set_event(a->extra);
	Sleep(INFINITE);
	return C_OK;
}

static int c_prod_hang0(shmring *r, const struct cargs *a)
{
	return c_prod_hang(r, a, 0);
}

static int c_prod_claim(shmring *r, const struct cargs *a)
{
	return c_prod_hang(r, a, 1);
}

/* Receive 0..n-1, optionally peek the next one, signal, wait to die. */
static int c_cons_hang(shmring *r, const struct cargs *a, int peek)
{
	const void *p;
	size_t len;
	uint32_t v;

	for (unsigned long i = 0; i < a->n; i++)
		if (shmring_recv(r, &v, sizeof v, &len, 0) || v != i)
			return C_IO;
	if (peek && shmring_peek(r, &p, &len, 0))
		return C_IO;
	set_event(a->extra);
	Sleep(INFINITE);
	return C_OK;
}

static int c_cons_hang0(shmring *r, const struct cargs *a)
{
	return c_cons_hang(r, a, 0);
}

static int c_cons_peek(shmring *r, const struct cargs *a)
{
	return c_cons_hang(r, a, 1);
}

static const struct {
	const char *mode;
	enum shmring_role role;
	int (*fn)(shmring *r, const struct cargs *a);
} child_modes[] = {
        {"stream-cons", SHMRING_CONSUMER, c_stream_recv},
        {"stream-prod", SHMRING_PRODUCER, c_stream_send},
        {"v2-cons", SHMRING_CONSUMER, c_v2_recv},
        {"v2-prod", SHMRING_PRODUCER, c_v2_send},
        {"send-late", SHMRING_PRODUCER, c_send_late},
        {"prod-close", SHMRING_PRODUCER, c_prod_close},
        {"prod-hang", SHMRING_PRODUCER, c_prod_hang0},
        {"prod-claim", SHMRING_PRODUCER, c_prod_claim},
        {"cons-hang", SHMRING_CONSUMER, c_cons_hang0},
        {"cons-peek", SHMRING_CONSUMER, c_cons_peek},
};

/* --child MODE RING [N [EXTRA]]; "hold RING EVENT" creates a consumer and
 * waits to die, every other mode opens its role and runs. */
static int child_main(int argc, char **argv)
{
	struct cargs a = {argv[3], argc > 4 ? strtoul(argv[4], NULL, 0) : 0,
	                  argc > 5 ? argv[5] : ""};
	shmring *r = NULL;
	int rc;

	tap_init();
	if (!strcmp(argv[2], "hold")) {
		if (argc < 5 ||
		    shmring_create(a.ring, NULL, SHMRING_CONSUMER, &r))
			return C_OPEN;
		set_event(argv[4]);
		Sleep(INFINITE);
	}
	for (size_t i = 0; i < sizeof child_modes / sizeof child_modes[0];
	     i++) {
		if (strcmp(argv[2], child_modes[i].mode))
			continue;
		if (shmring_open(a.ring, child_modes[i].role, &r))
			return C_OPEN;
		rc = child_modes[i].fn(r, &a);
		shmring_close(r);
		return rc;
	}
	return C_USAGE;
}

/* ---- parent helpers ----------------------------------------------------- */

static HANDLE spawnf(const char *fmt, ...)
{
	char args[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	return wu_spawn(args);
}

/* Create ring @name (fresh unique name) as @role with @slots slots. */
static int ring_create(char *name, enum shmring_role role, uint32_t slot_size,
                       uint32_t slots, shmring **r)
{
	shmring_config cfg = {.slot_size = slot_size, .slot_count = slots};

	wu_name(name, "ipc");
	return shmring_create(name, &cfg, role, r);
}

static void note_stats(const char *who, shmring *r, double ms)
{
	shmring_stats st;

	shmring_get_stats(r, &st);
	TAP_NOTE("%s: %llu msgs in %.0f ms (%.0f msgs/s under Wine), "
	         "%llu waits, %llu wakes",
	         who, (unsigned long long)st.messages, ms,
	         (double)st.messages * 1000.0 / (ms > 0 ? ms : 1),
	         (unsigned long long)st.waits, (unsigned long long)st.wakes);
}

/* ---- tests -------------------------------------------------------------- */

static int stream_parent_to_child_verified(void)
{
	char name[WU_NAME_MAX];
	shmring *p = NULL;
	uint64_t seed =
	        wu_mix(GetCurrentProcessId() ^ (uint64_t)GetTickCount());
	HANDLE child;
	double t0;

	CHECK_RC(ring_create(name, SHMRING_PRODUCER, STREAM_SLOT, STREAM_SLOTS,
	                     &p),
	         SHMRING_OK);
	child = spawnf("stream-cons %s %u %llu", name, STREAM_MSGS,
	               (unsigned long long)seed);
	CHECK(child != NULL);
	t0 = wu_now_ms();
	CHECK_EQ(stream_send(p, STREAM_MSGS, seed, STREAM_SLOT), C_OK);
	note_stats("producer", p, wu_now_ms() - t0);
	shmring_close(p); /* end of stream: the child expects ECLOSED */
	CHECK_EQ(wu_reap(child, CHILD_WAIT_MS), C_OK);
	return 0;
}

static int stream_child_to_parent_verified(void)
{
	char name[WU_NAME_MAX];
	shmring *c = NULL;
	uint64_t seed = wu_mix(~(uint64_t)GetCurrentProcessId());
	HANDLE child;
	double t0;

	CHECK_RC(ring_create(name, SHMRING_CONSUMER, STREAM_SLOT, 16, &c),
	         SHMRING_OK);
	child = spawnf("stream-prod %s %u %llu", name, STREAM_MSGS / 2,
	               (unsigned long long)seed);
	CHECK(child != NULL);
	t0 = wu_now_ms();
	CHECK_EQ(stream_recv(c, STREAM_MSGS / 2, seed, STREAM_SLOT), C_OK);
	note_stats("consumer", c, wu_now_ms() - t0);
	CHECK_EQ(wu_reap(child, CHILD_WAIT_MS), C_OK);
	shmring_close(c);
	return 0;
}

/* Format 2 across processes: random sizes up to max_msg over 1 .. 128
 * slots, every data call on both sides, verified by sequence numbers and
 * checksums; then the same the other way. */
static int stream_of_random_sizes_up_to_max_msg_verified(void)
{
	char name[WU_NAME_MAX];
	shmring *p = NULL, *c = NULL;
	uint64_t seed = wu_mix(GetCurrentProcessId() ^ UINT64_C(0x5632));
	HANDLE child;
	double t0;

	CHECK_RC(ring_create(name, SHMRING_PRODUCER, V2_SLOT, V2_SLOTS, &p),
	         SHMRING_OK);
	CHECK_EQ(shmring_max_msg(p), V2_MAX);
	TAP_NOTE("seed %llu", (unsigned long long)seed);
	child = spawnf("v2-cons %s %u %llu", name, V2_MSGS,
	               (unsigned long long)seed);
	CHECK(child != NULL);
	t0 = wu_now_ms();
	CHECK_EQ(v2_send(p, V2_MSGS, seed), C_OK);
	note_stats("producer", p, wu_now_ms() - t0);
	shmring_close(p);
	CHECK_EQ(wu_reap(child, CHILD_WAIT_MS), C_OK);

	seed = wu_mix(seed);
	CHECK_RC(ring_create(name, SHMRING_CONSUMER, V2_SLOT, V2_SLOTS, &c),
	         SHMRING_OK);
	child = spawnf("v2-prod %s %u %llu", name, V2_MSGS / 2,
	               (unsigned long long)seed);
	CHECK(child != NULL);
	t0 = wu_now_ms();
	CHECK_EQ(v2_recv(c, V2_MSGS / 2, seed), C_OK);
	note_stats("consumer", c, wu_now_ms() - t0);
	CHECK_EQ(wu_reap(child, CHILD_WAIT_MS), C_OK);
	shmring_close(c);
	return 0;
}

/* A peer that closed and then exited is closed, not dead. */
static int closed_then_exited_producer_is_eclosed(void)
{
	char name[WU_NAME_MAX];
	shmring *c = NULL;
	uint32_t v;
	size_t len;

	CHECK_RC(ring_create(name, SHMRING_CONSUMER, 8, 16, &c), SHMRING_OK);
	CHECK_EQ(wu_reap(spawnf("prod-close %s 5", name), CHILD_WAIT_MS), C_OK);
	for (uint32_t i = 0; i < 5; i++) {
		CHECK_RC(shmring_recv(c, &v, sizeof v, &len, 0), SHMRING_OK);
		CHECK_EQ(v, i);
	}
	CHECK_RC(shmring_recv(c, &v, sizeof v, &len, 0), SHMRING_ECLOSED);
	CHECK_RC(shmring_recv(c, &v, sizeof v, &len, -1), SHMRING_ECLOSED);
	shmring_close(c);
	return 0;
}

/* Spawn @mode on a fresh ring held by us as @role; wait for its signal. */
static HANDLE spawn_ready(const char *mode, const char *name, unsigned n)
{
	char ev_name[WU_NAME_MAX];
	HANDLE ev, child;

	wu_name(ev_name, "ev");
	ev = wu_event_create(ev_name);
	if (!ev)
		return NULL;
	child = spawnf("%s %s %u %s", mode, name, n, ev_name);
	if (child && !wu_event_wait(ev, CHILD_WAIT_MS)) {
		wu_kill(child);
		CloseHandle(child);
		child = NULL;
	}
	CloseHandle(ev);
	return child;
}

static int recv_blocked_on_dead_producer_is_epeerdead(void)
{
	char name[WU_NAME_MAX];
	shmring *c = NULL;
	HANDLE child, killer;
	volatile double t_kill = 0;
	uint32_t v;
	size_t len;
	double t_done;

	CHECK_RC(ring_create(name, SHMRING_CONSUMER, 8, 16, &c), SHMRING_OK);
	child = spawn_ready("prod-hang", name, 3);
	CHECK(child != NULL);
	for (uint32_t i = 0; i < 3; i++)
		CHECK_RC(shmring_recv(c, &v, sizeof v, &len, 0), SHMRING_OK);
	killer = wu_kill_later(child, 150, &t_kill);
	CHECK(killer != NULL);
	CHECK_RC(shmring_recv(c, &v, sizeof v, &len, SHMRING_FOREVER),
	         SHMRING_EPEERDEAD);
	t_done = wu_now_ms();
	wu_join(killer);
	TAP_NOTE("producer death seen %.1f ms after TerminateProcess",
	         t_done - t_kill);
	CHECK(t_kill > 0 && t_done - t_kill < DEATH_MAX_MS);
	CHECK_RC(shmring_recv(c, &v, sizeof v, &len, 0), SHMRING_EPEERDEAD);
	wu_reap(child, CHILD_WAIT_MS);
	shmring_close(c);
	return 0;
}

static int send_blocked_on_dead_consumer_is_epeerdead(void)
{
	char name[WU_NAME_MAX];
	shmring *p = NULL;
	HANDLE child, killer;
	volatile double t_kill = 0;
	double t_done;
	int n = 0;

	CHECK_RC(ring_create(name, SHMRING_PRODUCER, 8, 4, &p), SHMRING_OK);
	child = spawn_ready("cons-hang", name, 0);
	CHECK(child != NULL);
	while (shmring_send(p, "f", 1, 0) == SHMRING_OK)
		n++;
	CHECK_EQ(n, 4);
	killer = wu_kill_later(child, 150, &t_kill);
	CHECK(killer != NULL);
	CHECK_RC(shmring_send(p, "f", 1, 10000), SHMRING_EPEERDEAD);
	t_done = wu_now_ms();
	wu_join(killer);
	TAP_NOTE("consumer death seen %.1f ms after TerminateProcess",
	         t_done - t_kill);
	CHECK(t_kill > 0 && t_done - t_kill < DEATH_MAX_MS);
	wu_reap(child, CHILD_WAIT_MS);
	shmring_close(p);
	return 0;
}

static int messages_of_a_dead_producer_come_first(void)
{
	char name[WU_NAME_MAX];
	shmring *c = NULL;
	HANDLE child;
	uint32_t v;
	size_t len;

	CHECK_RC(ring_create(name, SHMRING_CONSUMER, 8, 16, &c), SHMRING_OK);
	child = spawn_ready("prod-hang", name, 5);
	CHECK(child != NULL);
	wu_kill(child);
	for (uint32_t i = 0; i < 5; i++) {
		CHECK_RC(shmring_recv(c, &v, sizeof v, &len, 1000), SHMRING_OK);
		CHECK_EQ(v, i);
	}
	CHECK_RC(shmring_recv(c, &v, sizeof v, &len, 1000), SHMRING_EPEERDEAD);
	CloseHandle(child);
	shmring_close(c);
	return 0;
}

/* Takeover: a new consumer resumes at the oldest unreleased message. */
static int consumer_takeover_resumes_at_oldest_unreleased(void)
{
	char name[WU_NAME_MAX];
	shmring *p = NULL, *c = NULL;
	HANDLE child;
	uint32_t v;
	size_t len;

	CHECK_RC(ring_create(name, SHMRING_PRODUCER, 8, 16, &p), SHMRING_OK);
	for (uint32_t i = 0; i < 10; i++)
		CHECK_RC(shmring_send(p, &i, sizeof i, 0), SHMRING_OK);
	child = spawn_ready("cons-peek", name, 4); /* 0-3 read, 4 peeked */
	CHECK(child != NULL);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_EBUSY);
	wu_kill(child);
	CloseHandle(child);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
	for (uint32_t i = 4; i < 10; i++) {
		CHECK_RC(shmring_recv(c, &v, sizeof v, &len, 0), SHMRING_OK);
		CHECK_EQ(v, i);
	}
	CHECK_RC(shmring_send(p, "x", 1, 0), SHMRING_OK); /* live again */
	shmring_close(c);
	shmring_close(p);
	return 0;
}

/* A new producer continues after the last committed message; a dead
 * producer's open claim is discarded. */
static int producer_takeover_continues_after_last_commit(void)
{
	char name[WU_NAME_MAX];
	shmring *p = NULL, *c = NULL;
	HANDLE child;
	uint32_t v, next = 3;
	size_t len;

	CHECK_RC(ring_create(name, SHMRING_CONSUMER, 8, 16, &c), SHMRING_OK);
	child = spawn_ready("prod-claim", name, 3);
	CHECK(child != NULL);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p), SHMRING_EBUSY);
	wu_kill(child);
	CloseHandle(child);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p), SHMRING_OK);
	CHECK_RC(shmring_send(p, &next, sizeof next, 0), SHMRING_OK);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_RC(shmring_recv(c, &v, sizeof v, &len, 0), SHMRING_OK);
		CHECK_EQ(len, 4);
		CHECK_EQ(v, i);
	}
	CHECK_RC(shmring_recv(c, &v, sizeof v, &len, 0), SHMRING_EAGAIN);
	shmring_close(p);
	shmring_close(c);
	return 0;
}

static int eexist_while_another_process_holds_the_name(void)
{
	char name[WU_NAME_MAX], ev_name[WU_NAME_MAX];
	shmring *r = NULL;
	HANDLE ev, child;

	wu_name(name, "ipc");
	wu_name(ev_name, "ev");
	ev = wu_event_create(ev_name);
	CHECK(ev != NULL);
	child = spawnf("hold %s %s", name, ev_name);
	CHECK(child != NULL);
	CHECK(wu_event_wait(ev, CHILD_WAIT_MS));
	CloseHandle(ev);
	CHECK_RC(shmring_create(name, NULL, SHMRING_PRODUCER, &r),
	         SHMRING_EEXIST);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_EBUSY);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &r), SHMRING_OK);
	shmring_close(r);
	r = NULL;
	wu_kill(child);
	CloseHandle(child);
	/* the holder is gone, and with its handles the name */
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &r), SHMRING_ENOENT);
	CHECK_RC(shmring_create(name, NULL, SHMRING_PRODUCER, &r), SHMRING_OK);
	shmring_close(r);
	return 0;
}

static int forever_wait_woken_by_another_process(void)
{
	char name[WU_NAME_MAX], buf[8];
	shmring *c = NULL;
	HANDLE child;
	size_t len;
	double t0, dt;

	CHECK_RC(ring_create(name, SHMRING_CONSUMER, 8, 4, &c), SHMRING_OK);
	shmring_set_spin(c, 0); /* sleep at once: the wake must do it */
	child = spawnf("send-late %s 300", name);
	CHECK(child != NULL);
	t0 = wu_now_ms();
	CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, SHMRING_FOREVER),
	         SHMRING_OK);
	dt = wu_now_ms() - t0;
	CHECK(len == 4 && memcmp(buf, "late", 4) == 0);
	TAP_NOTE("woken after %.0f ms (child sends after 300 ms + start-up)",
	         dt);
	CHECK(dt >= 300);
	CHECK_EQ(wu_reap(child, CHILD_WAIT_MS), C_OK);
	CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 2000), SHMRING_ECLOSED);
	shmring_close(c);
	return 0;
}

static const struct tap_test tests[] = {
        TAP(stream_parent_to_child_verified),
        TAP(stream_child_to_parent_verified),
        TAP(stream_of_random_sizes_up_to_max_msg_verified),
        TAP(closed_then_exited_producer_is_eclosed),
        TAP(recv_blocked_on_dead_producer_is_epeerdead),
        TAP(send_blocked_on_dead_consumer_is_epeerdead),
        TAP(messages_of_a_dead_producer_come_first),
        TAP(consumer_takeover_resumes_at_oldest_unreleased),
        TAP(producer_takeover_continues_after_last_commit),
        TAP(eexist_while_another_process_holds_the_name),
        TAP(forever_wait_woken_by_another_process),
};

int main(int argc, char **argv)
{
	if (argc > 3 && !strcmp(argv[1], "--child"))
		return child_main(argc, argv);
	return TAP_MAIN(argc, argv, tests);
}
