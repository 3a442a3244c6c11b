/* SPDX-License-Identifier: MIT */
/* stress_msg.c -- see stress_msg.h. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress_msg.h"

#define ST_HDR 12u /* seq (8) + checksum (4) */

uint64_t st_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t st_mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

void st_fail(struct st_journal *j, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (atomic_fetch_add(&j->errors, 1) == 0)
		memcpy(j->error, msg, sizeof j->error);
	fprintf(stderr, "stress: %s\n", msg);
}

/* Zero-length and full-slot messages are frequent on purpose. */
size_t st_len(const struct st_journal *j, uint64_t seq)
{
	uint64_t h = st_mix(j->seed ^ (seq * UINT64_C(0x2545f4914f6cdd1d)));

	switch (h & 7) {
	case 0:
		return 0;
	case 1:
		return j->max_len;
	default:
		return (size_t)((h >> 3) % ((uint64_t)j->max_len + 1));
	}
}

static uint32_t st_fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The message @seq, truncated to @len bytes. */
static void st_fill(const struct st_journal *j, uint64_t seq, void *out,
                    size_t len)
{
	uint8_t *b = out, hdr[ST_HDR];
	uint64_t x = j->seed ^ seq;
	uint32_t sum;

	for (size_t i = ST_HDR; i < len; i += 8) {
		x = st_mix(x);
		memcpy(b + i, &x, len - i < 8 ? len - i : 8);
	}
	sum = len > ST_HDR ? st_fnv(b + ST_HDR, len - ST_HDR) : st_fnv(b, 0);
	for (unsigned k = 0; k < 8; k++)
		hdr[k] = (uint8_t)(seq >> (8 * k));
	for (unsigned k = 0; k < 4; k++)
		hdr[8 + k] = (uint8_t)(sum >> (8 * k));
	memcpy(b, hdr, len < ST_HDR ? len : ST_HDR);
}

static int st_pick_timeout(uint64_t rnd)
{
	switch (rnd % 8) {
	case 0:
		return SHMRING_NOWAIT;
	case 1:
		return 1 + (int)((rnd >> 8) % 3);
	default:
		return SHMRING_FOREVER;
	}
}

static void st_peer_dead(struct st_journal *j, int side, uint64_t call_ns)
{
	int armed = 1;

	if (atomic_compare_exchange_strong(&j->pd_armed[side], &armed, 0)) {
		atomic_store(&j->pd_call_ns[side], call_ns);
		atomic_store(&j->pd_seen_ns[side], st_now_ns());
	}
	usleep(1000); /* then try again: a new peer takes over */
}

static void st_pause_forever(struct st_journal *j, int side)
{
	atomic_store(&j->paused[side], 1);
	for (;;)
		pause(); /* the driver kills us here */
}

static int st_attach(struct st_journal *j, int side, int create, shmring **r)
{
	shmring_config cfg = {.slot_size = j->slot_size,
	                      .slot_count = j->slot_count};
	enum shmring_role role =
	        side == ST_P ? SHMRING_PRODUCER : SHMRING_CONSUMER;
	uint64_t end = st_now_ns() + UINT64_C(5000000000);
	int rc;

	if (create)
		rc = shmring_create(j->name, &cfg, role, r);
	else
		do {
			rc = shmring_open(j->name, role, r);
			if (rc == SHMRING_ENOENT || rc == SHMRING_EBUSY)
				usleep(200);
		} while ((rc == SHMRING_ENOENT || rc == SHMRING_EBUSY) &&
		         st_now_ns() < end);
	if (rc != SHMRING_OK) {
		st_fail(j, "%s of %s as %s: %s", create ? "create" : "open",
		        j->name, side == ST_P ? "producer" : "consumer",
		        shmring_strerror(rc));
		return rc;
	}
	shmring_set_spin(*r, j->spin_ns);
	atomic_store(&j->attached[side], 1);
	return SHMRING_OK;
}

/* One message: send, or claim + commit (which may pause in between). */
static int st_send_one(struct st_journal *j, shmring *r, uint64_t seq,
                       uint8_t *buf, uint64_t rnd)
{
	size_t len = st_len(j, seq), extra = (rnd >> 20) % 16;
	int tmo = st_pick_timeout(rnd >> 4), rc;
	void *p;

	if (!((rnd >> 12) & 1) && !atomic_load(&j->pause_req[ST_P])) {
		st_fill(j, seq, buf, len);
		return shmring_send(r, buf, len, tmo);
	}
	if (len + extra > j->max_len)
		extra = j->max_len - len;
	rc = shmring_claim(r, len + extra, &p, tmo);
	if (rc != SHMRING_OK)
		return rc;
	st_fill(j, seq, p, len);
	if (atomic_load(&j->pause_req[ST_P]))
		st_pause_forever(j, ST_P); /* between claim and commit */
	rc = shmring_commit(r, len);
	if (rc != SHMRING_OK)
		st_fail(j, "commit of %zu after claim of %zu: %s", len,
		        len + extra, shmring_strerror(rc));
	return rc;
}

/* Messages seq.. in one shmring_sendv() of 1..ST_BATCH, at most @left
 * (@buf holds ST_BATCH messages); *sent = how many went, also on an
 * error. */
static int st_send_batch(struct st_journal *j, shmring *r, uint64_t seq,
                         uint64_t left, uint8_t *buf, uint64_t rnd,
                         size_t *sent)
{
	shmring_msg v[ST_BATCH];
	size_t k = 1 + (size_t)((rnd >> 40) % ST_BATCH);

	if (k > left)
		k = (size_t)left;

	for (size_t i = 0; i < k; i++) {
		uint8_t *m = buf + i * ((size_t)j->max_len + 1);

		v[i].len = st_len(j, seq + i);
		v[i].data = m;
		st_fill(j, seq + i, m, v[i].len);
	}
	return shmring_sendv(r, v, k, sent, st_pick_timeout(rnd >> 4));
}

int st_producer(struct st_journal *j, uint64_t first, int create)
{
	uint8_t *buf = malloc(((size_t)j->max_len + 1) * ST_BATCH);
	uint64_t seq = first, rnd = st_mix(j->seed ^ first ^ st_now_ns());
	shmring *r = NULL;
	int rc;

	if (!buf || st_attach(j, ST_P, create, &r) != SHMRING_OK) {
		free(buf);
		return 1;
	}
	atomic_store(&j->ready, 1);
	while (seq - first < j->limit && !atomic_load(&j->stop)) {
		uint64_t t0 = st_now_ns();
		if (t0 > j->deadline_ns)
			break;
		rnd = st_mix(rnd);
		if (((rnd >> 12) & 7) == 7 &&
		    !atomic_load(&j->pause_req[ST_P])) {
			size_t sent = 0;

			rc = st_send_batch(j, r, seq, j->limit - (seq - first),
			                   buf, rnd, &sent);
			seq += sent;
			atomic_fetch_add(&j->sent, sent);
		} else {
			rc = st_send_one(j, r, seq, buf, rnd);
			if (rc == SHMRING_OK) {
				seq++;
				atomic_fetch_add(&j->sent, 1);
			}
		}
		if (rc == SHMRING_OK) {
			continue;
		} else if (rc == SHMRING_EPEERDEAD) {
			st_peer_dead(j, ST_P, t0);
		} else if (rc != SHMRING_EAGAIN && rc != SHMRING_ETIMEDOUT) {
			st_fail(j, "producer at seq %llu: %s",
			        (unsigned long long)seq, shmring_strerror(rc));
			break;
		}
	}
	shmring_close(r);
	free(buf);
	return atomic_load(&j->errors) != 0;
}

/* ---- consumer ------------------------------------------------------------ */

struct st_cons {
	struct st_journal *j;
	shmring *r;
	uint64_t next; /* seq expected */
	int first, may_skip_one;
	uint8_t *want, *buf; /* buf: ST_BATCH messages of max_len + 1 */
};

/* Is @m (of @len bytes) message @seq? */
static int st_is(struct st_cons *c, uint64_t seq, const uint8_t *m, size_t len)
{
	st_fill(c->j, seq, c->want, len);
	return len == st_len(c->j, seq) && memcmp(m, c->want, len) == 0;
}

/* Check one message against the stream; advance the expectation. */
static void st_check(struct st_cons *c, const uint8_t *m, size_t len)
{
	struct st_journal *j = c->j;
	uint64_t s = c->next;

	if (len >= 8)
		memcpy(&s, m, 8); /* little-endian hosts only (x86, arm64) */
	else if (c->first && c->may_skip_one && !st_is(c, c->next, m, len) &&
	         st_is(c, c->next + 1, m, len))
		s = c->next + 1; /* a short message: known by its bytes */
	if (c->first && c->may_skip_one && s == c->next + 1)
		c->next = s;
	c->first = 0;
	if (s > c->next) {
		atomic_fetch_add(&j->lost, s - c->next);
		atomic_fetch_add(&j->gaps, 1);
		st_fail(j, "gap: got seq %llu, expected %llu",
		        (unsigned long long)s, (unsigned long long)c->next);
	} else if (s < c->next) {
		atomic_fetch_add(&j->duplicated, 1);
		st_fail(j,
		        "duplicate or reordered: got seq %llu, expected %llu",
		        (unsigned long long)s, (unsigned long long)c->next);
		return;
	}
	if (!st_is(c, s, m, len)) {
		atomic_fetch_add(&j->torn, 1);
		st_fail(j, "torn: seq %llu len %zu (expected %zu)",
		        (unsigned long long)s, len, st_len(j, s));
	}
	c->next = s + 1;
	atomic_fetch_add(&j->received, 1);
}

/* The header checksum makes st_check's byte compare a checksum check; the
 * full compare also catches a torn filler. */
static int st_recv_one(struct st_cons *c, uint64_t rnd)
{
	struct st_journal *j = c->j;
	int tmo = st_pick_timeout(rnd >> 4), rc;
	size_t len = 0, cap = j->max_len;
	const void *p;

	if (((rnd >> 12) & 7) == 2 && !atomic_load(&j->pause_req[ST_C])) {
		shmring_buf v[ST_BATCH];
		size_t k = 1 + (size_t)((rnd >> 40) % ST_BATCH), got = 0;

		for (size_t i = 0; i < k; i++)
			v[i] = (shmring_buf){c->buf + i * (cap + 1), cap};
		/* A kill from here until c_next is stored may leave tail up
		 * to k past what was recorded (stress.c checks that). */
		atomic_store(&j->c_batch, (uint32_t)k);
		atomic_store(&j->c_phase, ST_IN_RECVV);
		rc = shmring_recvv(c->r, v, k, &got, tmo);
		for (size_t i = 0; i < got; i++)
			st_check(c, v[i].data, v[i].len);
	} else if (((rnd >> 12) & 3) == 0 || atomic_load(&j->pause_req[ST_C])) {
		rc = shmring_peek(c->r, &p, &len, tmo);
		if (rc != SHMRING_OK)
			return rc;
		atomic_store(&j->c_phase, ST_PEEKED);
		st_check(c, p, len);
		if (atomic_load(&j->pause_req[ST_C]))
			st_pause_forever(j,
			                 ST_C); /* between peek and release */
		atomic_store(&j->c_phase, ST_RELEASING);
		rc = shmring_release(c->r);
	} else {
		if (((rnd >> 12) & 7) == 1 && cap > 0)
			cap = (rnd >> 32) % cap; /* maybe too small */
		atomic_store(&j->c_phase, ST_IN_RECV);
		rc = shmring_recv(c->r, c->buf, cap, &len, tmo);
		if (rc == SHMRING_EMSGSIZE && len > cap)
			return SHMRING_EAGAIN; /* it stays: read it again */
		if (rc == SHMRING_OK)
			st_check(c, c->buf, len);
	}
	if (rc == SHMRING_OK) {
		atomic_store(&j->c_next, c->next);
		atomic_store(&j->c_phase, ST_IDLE);
	}
	return rc;
}

int st_consumer(struct st_journal *j, uint64_t first, int may_skip_one)
{
	struct st_cons c = {.j = j,
	                    .next = first,
	                    .first = 1,
	                    .may_skip_one = may_skip_one};
	uint64_t rnd = st_mix(j->seed ^ ~first ^ st_now_ns());
	int rc = SHMRING_OK;

	c.want = malloc((size_t)j->max_len + 1);
	c.buf = malloc(((size_t)j->max_len + 1) * ST_BATCH);
	if (!c.want || !c.buf || st_attach(j, ST_C, 0, &c.r) != SHMRING_OK)
		goto out;
	while (rc != SHMRING_ECLOSED) {
		uint64_t t0 = st_now_ns();
		rnd = st_mix(rnd);
		rc = st_recv_one(&c, rnd);
		if (rc == SHMRING_EPEERDEAD) {
			st_peer_dead(j, ST_C, t0);
		} else if (rc != SHMRING_OK && rc != SHMRING_EAGAIN &&
		           rc != SHMRING_ETIMEDOUT && rc != SHMRING_ECLOSED) {
			st_fail(j, "consumer at seq %llu: %s",
			        (unsigned long long)c.next,
			        shmring_strerror(rc));
			break;
		}
	}
	shmring_close(c.r);
out:
	free(c.want);
	free(c.buf);
	return atomic_load(&j->errors) != 0;
}
