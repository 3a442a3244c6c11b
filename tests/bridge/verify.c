/* SPDX-License-Identifier: MIT */
/*
 * verify.c -- srb-verify, the test and benchmark helper of shmring-bridge
 * (tests/bridge/, scripts/bench-bridge.sh): a producer of numbered,
 * checkable messages of random sizes and the consumer that checks them.
 *
 *   srb-verify produce RING --count N [--seed S] [--min A] [--max B]
 *                      [--rate MSGS/S] [--die-after K] [--batch N]
 *                      [--slots N] [--slot-size N] [--max-msg N]
 *                      [--tolerate-dead]
 *   srb-verify consume RING --count N [--seed S] [--min A] [--max B]
 *                      [--tolerate-dead] [--idle SEC] [--slow USEC]
 *
 * A message: u64 number, u64 send time (CLOCK_MONOTONIC ns), u32 length,
 * u32 zero, then bytes drawn from (seed, number); its length is drawn
 * from (seed, number) in [min, max]. The consumer reads to end of stream
 * (ECLOSED; EPEERDEAD too unless --tolerate-dead: then it waits for the
 * next producer, as a producer with it waits for the next reader) and
 * prints one line:
 *   verify: received=R unique=U lost=L dup=D reordered=O corrupt=C
 *           end=closed|dead|idle seconds=S msgs_per_s=M mb_per_s=B
 *           p50_us=X p99_us=Y max_us=Z
 * exiting 0 only if every message 0..N-1 came once, in order, intact.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <shmring.h>

#define HDR 24u

struct opts {
	const char *ring;
	uint64_t count, seed, min, max, rate, die_after, batch, slow_us;
	double idle;
	int tolerate_dead;
	shmring_config geom;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static size_t msg_len(const struct opts *o, uint64_t n)
{
	return (size_t)(o->min + mix(o->seed ^ (n * 0x2545f4914f6cdd1dull)) %
	                                 (o->max - o->min + 1));
}

static void fill(const struct opts *o, uint64_t n, unsigned char *p, size_t len)
{
	uint64_t s = mix(o->seed + n);

	for (size_t i = HDR; i < len; i += 8) {
		uint64_t w = mix(s + i);
		size_t k = len - i < 8 ? len - i : 8;
		memcpy(p + i, &w, k);
	}
}

static int ok_body(const struct opts *o, uint64_t n, const unsigned char *p,
                   size_t len)
{
	uint64_t s = mix(o->seed + n);

	for (size_t i = HDR; i < len; i += 8) {
		uint64_t w = mix(s + i);
		size_t k = len - i < 8 ? len - i : 8;
		if (memcmp(p + i, &w, k))
			return 0;
	}
	return 1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){
	        .seed = 1, .min = HDR, .max = 512, .batch = 64, .idle = 60};
	if (argc < 3)
		return -1;
	o->ring = argv[2];
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		uint64_t *u = NULL;
		if (!strcmp(a, "--tolerate-dead")) {
			o->tolerate_dead = 1;
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		const char *v = argv[++i];
		if (!strcmp(a, "--idle")) {
			o->idle = atof(v);
			continue;
		}
		if (!strcmp(a, "--count"))
			u = &o->count;
		else if (!strcmp(a, "--seed"))
			u = &o->seed;
		else if (!strcmp(a, "--min"))
			u = &o->min;
		else if (!strcmp(a, "--max"))
			u = &o->max;
		else if (!strcmp(a, "--rate"))
			u = &o->rate;
		else if (!strcmp(a, "--die-after"))
			u = &o->die_after;
		else if (!strcmp(a, "--batch"))
			u = &o->batch;
		else if (!strcmp(a, "--slow"))
			u = &o->slow_us;
		else if (!strcmp(a, "--slots"))
			o->geom.slot_count = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--slot-size"))
			o->geom.slot_size = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--max-msg"))
			o->geom.max_msg = (uint32_t)strtoul(v, NULL, 10);
		else
			return -1;
		if (u)
			*u = strtoull(v, NULL, 10);
	}
	if (o->min < HDR || o->max < o->min || o->batch < 1 || o->batch > 1024)
		return -1;
	return 0;
}

static int attach(const struct opts *o, enum shmring_role role, shmring **r)
{
	int rc = shmring_open(o->ring, role, r);

	if (rc == SHMRING_ENOENT) {
		rc = shmring_create(o->ring, &o->geom, role, r);
		if (rc == SHMRING_EEXIST)
			rc = shmring_open(o->ring, role, r);
	}
	if (rc != SHMRING_OK)
		fprintf(stderr, "srb-verify: %s: %s\n", o->ring,
		        shmring_strerror(rc));
	return rc;
}

static int produce(const struct opts *o)
{
	shmring *r;
	shmring_buf b[1024];
	uint64_t n = 0, t0 = now_ns();

	if (attach(o, SHMRING_PRODUCER, &r))
		return 1;
	while (n < o->count) {
		size_t want = o->count - n < o->batch ? o->count - n : o->batch;
		size_t got = 0;
		if (o->rate) {
			uint64_t due = t0 + n * 1000000000u / o->rate;
			while (now_ns() < due)
				;
			want = 1;
		}
		if (o->die_after && n + want > o->die_after)
			want = o->die_after - n;
		if (want == 0)
			_exit(0); /* die without a close: the peer sees dead */
		for (size_t i = 0; i < want; i++)
			b[i].len = msg_len(o, n + i);
		int rc = shmring_claimv(r, b, want, &got, 1000);
		if (rc == SHMRING_ETIMEDOUT)
			continue;
		if ((rc == SHMRING_EPEERDEAD || rc == SHMRING_ECLOSED) &&
		    o->tolerate_dead) {
			usleep(20000); /* the reader died: wait for the next */
			continue;
		}
		if (rc != SHMRING_OK) {
			fprintf(stderr, "srb-verify: produce: %s\n",
			        shmring_strerror(rc));
			return 1;
		}
		uint64_t t = now_ns();
		for (size_t i = 0; i < got; i++) {
			unsigned char *p = b[i].data;
			uint64_t num = n + i;
			uint32_t len = (uint32_t)b[i].len, z = 0;
			memcpy(p, &num, 8);
			memcpy(p + 8, &t, 8);
			memcpy(p + 16, &len, 4);
			memcpy(p + 20, &z, 4);
			fill(o, num, p, b[i].len);
		}
		shmring_commitv(r, NULL, got);
		n += got;
	}
	shmring_close(r);
	return 0;
}

struct tally {
	uint64_t received, unique, dup, reordered, corrupt, bytes, max_seen;
	uint64_t first_send, last_recv;
	unsigned char *seen;
	float *lat_us;
};

static void check_one(const struct opts *o, struct tally *t, const void *d,
                      size_t len, uint64_t now)
{
	const unsigned char *p = d;
	uint64_t num, sent;

	t->received++;
	t->bytes += len;
	if (len < HDR) {
		t->corrupt++;
		return;
	}
	memcpy(&num, p, 8);
	memcpy(&sent, p + 8, 8);
	if (num >= o->count || len != msg_len(o, num) ||
	    !ok_body(o, num, p, len)) {
		t->corrupt++;
		return;
	}
	if (t->seen[num]) {
		t->dup++;
		return;
	}
	t->seen[num] = 1;
	if (num < t->max_seen)
		t->reordered++;
	if (num + 1 > t->max_seen)
		t->max_seen = num + 1;
	if (!t->first_send || sent < t->first_send)
		t->first_send = sent;
	t->last_recv = now;
	t->lat_us[t->unique++] = (float)((double)(now - sent) / 1e3);
}

static int cmp_f(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static void report(const struct opts *o, struct tally *t, const char *end)
{
	double secs = t->last_recv > t->first_send
	                      ? (double)(t->last_recv - t->first_send) / 1e9
	                      : 0;
	float p50 = 0, p99 = 0, mx = 0;

	if (t->unique) {
		qsort(t->lat_us, t->unique, sizeof *t->lat_us, cmp_f);
		p50 = t->lat_us[t->unique / 2];
		p99 = t->lat_us[t->unique * 99 / 100];
		mx = t->lat_us[t->unique - 1];
	}
	printf("verify: received=%" PRIu64 " unique=%" PRIu64 " lost=%" PRIu64
	       " dup=%" PRIu64 " reordered=%" PRIu64 " corrupt=%" PRIu64
	       " end=%s seconds=%.3f msgs_per_s=%.0f "
	       "mb_per_s=%.2f p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       t->received, t->unique, o->count - t->unique, t->dup,
	       t->reordered, t->corrupt, end, secs,
	       secs > 0 ? (double)t->unique / secs : 0,
	       secs > 0 ? (double)t->bytes / secs / 1e6 : 0, p50, p99, mx);
	fflush(stdout);
}

static int consume(const struct opts *o)
{
	struct tally t = {0};
	shmring *r;
	shmring_msg v[1024];
	const char *end = "idle";
	uint64_t last_progress = now_ns();
	int ok;

	t.seen = calloc(o->count ? o->count : 1, 1);
	t.lat_us = calloc(o->count ? o->count : 1, sizeof *t.lat_us);
	if (!t.seen || !t.lat_us || attach(o, SHMRING_CONSUMER, &r))
		return 1;
	for (;;) {
		size_t got = 0;
		int rc = shmring_peekv(r, v, 1024, &got, 100);
		uint64_t now = now_ns();
		if (rc == SHMRING_OK) {
			for (size_t i = 0; i < got; i++)
				check_one(o, &t, v[i].data, v[i].len, now);
			shmring_releasev(r, got);
			last_progress = now;
			if (o->slow_us)
				usleep((useconds_t)o->slow_us);
			continue;
		}
		if (rc == SHMRING_ECLOSED) {
			end = "closed";
			break;
		}
		if (rc == SHMRING_EPEERDEAD && !o->tolerate_dead) {
			end = "dead";
			break;
		}
		if (rc == SHMRING_EPEERDEAD)
			usleep(20000);
		else if (rc != SHMRING_ETIMEDOUT && rc != SHMRING_EINTR) {
			fprintf(stderr, "srb-verify: consume: %s\n",
			        shmring_strerror(rc));
			break;
		}
		if ((double)(now - last_progress) / 1e9 > o->idle)
			break;
	}
	report(o, &t, end);
	ok = t.unique == o->count && !t.dup && !t.reordered && !t.corrupt &&
	     t.received == o->count;
	shmring_close(r);
	free(t.seen);
	free(t.lat_us);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct opts o;

	if (parse(argc, argv, &o)) {
		fputs("usage: srb-verify produce|consume RING --count N "
		      "[options] (see tests/bridge/verify.c)\n",
		      stderr);
		return 2;
	}
	if (!strcmp(argv[1], "produce"))
		return produce(&o);
	if (!strcmp(argv[1], "consume"))
		return consume(&o);
	return 2;
}
