/* SPDX-License-Identifier: MIT */
/*
 * bench_path.c -- the cost of the data path alone, with no second core:
 * one process holds both ends of one ring and alternates a burst of
 * sends with a burst of receives, so that no call ever waits and no cache
 * line moves between cores. What is left is the instructions (and the
 * L1-resident memory traffic) of each call: run it under
 * `valgrind --tool=callgrind` for instructions per message, or natively
 * for the single-core rate. The same loop over ck_ring (the side buffer of
 * bench/transport.c, an 8-byte message as the entry itself) is the
 * comparison.
 *
 *   bench_path [-s SIZE] [-n MSGS] [-b BURST] [-t LIST]
 *   LIST: copy, zc, batch, zcbatch (format 2 only), ck_ring, and
 *   mpsc-copy, mpsc-zc, mpsc-batch, mpsc-zcbatch: the same calls on an
 *   SHMRING_F_MPSC ring (created by the consumer, one producer handle)
 * prints "bench=path api=A size=N msgs=M ns_per_msg=.." per API.
 * Every message carries its sequence number and is checked.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "shmring.h"

#ifdef BENCH_HAVE_CK
#include <ck_ring.h>
#endif

#define BURST_MAX 256

static uint64_t sink;

static int die(const char *what, int rc)
{
	fprintf(stderr, "bench_path: %s: %s\n", what, shmring_strerror(rc));
	return 2;
}

static int check(uint64_t got, uint64_t want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "bench_path: got #%llu, want #%llu\n",
	        (unsigned long long)got, (unsigned long long)want);
	return 3;
}

/* One API over one ring: @n messages in bursts of @b. */
static int run_sr(const char *api, size_t size, uint64_t n, size_t b)
{
	char name[64];
	shmring_config cfg = {.slot_size = (uint32_t)size, .slot_count = 4096};
	const char *label = api;
	shmring *p, *c;
	uint8_t *buf = calloc(BURST_MAX, size), *in = calloc(BURST_MAX, size);
	shmring_msg out[BURST_MAX];
	shmring_buf bin[BURST_MAX];
	uint64_t seq = 0, rseq = 0, t0;
	int rc;

	if (!buf || !in)
		return 2;
	snprintf(name, sizeof name, "shmring-path-%d", (int)getpid());
	shmring_unlink(name);
	if (strncmp(api, "mpsc-", 5) == 0) {
#ifdef SHMRING_F_MPSC
		/* many-producer ring: the consumer creates it */
		api += 5;
		cfg.flags = SHMRING_F_MPSC;
		if ((rc = shmring_create(name, &cfg, SHMRING_CONSUMER, &c)) !=
		    0)
			return die("create (SHMRING_F_MPSC)", rc);
		if ((rc = shmring_open(name, SHMRING_PRODUCER, &p)) != 0)
			return die("open", rc);
#else
		fprintf(stderr, "bench_path: no SHMRING_F_MPSC here\n");
		return 2;
#endif
	} else {
		if ((rc = shmring_create(name, &cfg, SHMRING_PRODUCER, &p)) !=
		    0)
			return die("create", rc);
		if ((rc = shmring_open(name, SHMRING_CONSUMER, &c)) != 0)
			return die("open", rc);
	}
	t0 = bench_now_ns();
	while (rseq < n) {
		size_t k = n - seq < b ? (size_t)(n - seq) : b, got = 0;

		if (strcmp(api, "copy") == 0) {
			for (size_t i = 0; i < k; i++, seq++) {
				memcpy(buf, &seq, 8);
				if ((rc = shmring_send(p, buf, size, 0)) != 0)
					return die("send", rc);
			}
			for (size_t i = 0; i < k; i++, rseq++) {
				size_t len;
				uint64_t v;
				if ((rc = shmring_recv(c, in, size, &len, 0)) !=
				    0)
					return die("recv", rc);
				memcpy(&v, in, 8);
				if ((rc = check(v, rseq)) != 0)
					return rc;
			}
		} else if (strcmp(api, "zc") == 0) {
			for (size_t i = 0; i < k; i++, seq++) {
				void *w;
				if ((rc = shmring_claim(p, size, &w, 0)) != 0)
					return die("claim", rc);
				memcpy(w, buf, size);
				memcpy(w, &seq, 8);
				shmring_commit(p, size);
			}
			for (size_t i = 0; i < k; i++, rseq++) {
				const void *m;
				size_t len;
				uint64_t v;
				if ((rc = shmring_peek(c, &m, &len, 0)) != 0)
					return die("peek", rc);
				memcpy(&v, m, 8);
				sink ^= bench_touch(m, len);
				shmring_release(c);
				if ((rc = check(v, rseq)) != 0)
					return rc;
			}
		} else if (strcmp(api, "batch") == 0) {
			size_t sent;
			for (size_t i = 0; i < k; i++, seq++) {
				memcpy(buf + i * size, &seq, 8);
				out[i].data = buf + i * size;
				out[i].len = size;
			}
			if ((rc = shmring_sendv(p, out, k, &sent, 0)) != 0)
				return die("sendv", rc);
			while (got < k) {
				size_t r;
				for (size_t i = 0; i < k - got; i++) {
					bin[i].data = in + i * size;
					bin[i].len = size;
				}
				if ((rc = shmring_recvv(c, bin, k - got, &r,
				                        0)) != 0)
					return die("recvv", rc);
				for (size_t i = 0; i < r; i++, rseq++) {
					uint64_t v;
					memcpy(&v, bin[i].data, 8);
					if ((rc = check(v, rseq)) != 0)
						return rc;
				}
				got += r;
			}
#ifdef SHMRING_RECORD_HEADER
		} else if (strcmp(api, "zcbatch") == 0) {
			size_t cl, r;
			for (size_t i = 0; i < k; i++)
				bin[i].len = size;
			if ((rc = shmring_claimv(p, bin, k, &cl, 0)) != 0)
				return die("claimv", rc);
			for (size_t i = 0; i < cl; i++, seq++) {
				memcpy(bin[i].data, buf, size);
				memcpy(bin[i].data, &seq, 8);
			}
			shmring_commitv(p, NULL, cl);
			k = cl;
			while (got < k) {
				if ((rc = shmring_peekv(c, out, k - got, &r,
				                        0)) != 0)
					return die("peekv", rc);
				for (size_t i = 0; i < r; i++, rseq++) {
					uint64_t v;
					memcpy(&v, out[i].data, 8);
					sink ^= bench_touch(out[i].data,
					                    out[i].len);
					if ((rc = check(v, rseq)) != 0)
						return rc;
				}
				shmring_releasev(c, r);
				got += r;
			}
#endif
		} else {
			fprintf(stderr, "bench_path: unknown api %s\n", api);
			return 2;
		}
	}
	printf("bench=path api=%s size=%zu burst=%zu msgs=%llu "
	       "ns_per_msg=%.2f\n",
	       label, size, b, (unsigned long long)n,
	       (double)(bench_now_ns() - t0) / (double)n);
	shmring_close(p);
	shmring_close(c);
	shmring_unlink(name);
	free(buf);
	free(in);
	return 0;
}

#ifdef BENCH_HAVE_CK
/* The same loop over ck_ring, as bench/transport.c uses it. */
static int run_ck(size_t size, uint64_t n, size_t b)
{
	const unsigned slots = 4096;
	struct ck_ring ring;
	struct ck_ring_buffer *rb = calloc(slots, sizeof *rb);
	uint8_t *side = calloc(2u * slots, size), *buf = calloc(1, size),
	        *in = calloc(1, size);
	uint64_t seq = 0, rseq = 0, slot = 0, t0;

	if (!rb || !side || !buf || !in)
		return 2;
	ck_ring_init(&ring, slots);
	t0 = bench_now_ns();
	while (rseq < n) {
		size_t k = n - seq < b ? (size_t)(n - seq) : b;
		for (size_t i = 0; i < k; i++, seq++) {
			void *v;
			memcpy(buf, &seq, 8);
			if (size <= sizeof v) {
				memcpy(&v, buf, sizeof v);
			} else {
				uint64_t s = slot++ & (2u * slots - 1);
				memcpy(side + s * size, buf, size);
				v = (void *)(uintptr_t)s;
			}
			if (!ck_ring_enqueue_spsc(&ring, rb, v))
				return 2;
		}
		for (size_t i = 0; i < k; i++, rseq++) {
			void *v;
			uint64_t got;
			if (!ck_ring_dequeue_spsc(&ring, rb, &v))
				return 2;
			if (size <= sizeof v)
				memcpy(in, &v, sizeof v);
			else
				memcpy(in, side + (uintptr_t)v * size, size);
			memcpy(&got, in, 8);
			if (check(got, rseq) != 0)
				return 3;
		}
	}
	printf("bench=path api=ck_ring size=%zu burst=%zu msgs=%llu "
	       "ns_per_msg=%.2f\n",
	       size, b, (unsigned long long)n,
	       (double)(bench_now_ns() - t0) / (double)n);
	free(rb);
	free(side);
	free(buf);
	free(in);
	return 0;
}
#endif

int main(int argc, char **argv)
{
	const char *list = "copy,zc,batch,zcbatch,ck_ring";
	size_t size = 8, b = 64;
	uint64_t n = 1000000;
	char api[32];
	int c, rc = 0;

	while ((c = getopt(argc, argv, "s:n:b:t:h")) != -1) {
		switch (c) {
		case 's':
			size = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			b = strtoul(optarg, NULL, 10);
			break;
		case 't':
			list = optarg;
			break;
		default:
			fprintf(stderr,
			        "usage: %s [-s SIZE] [-n MSGS] [-b BURST] "
			        "[-t copy,zc,batch,zcbatch,ck_ring,mpsc-copy,"
			        "mpsc-zc,mpsc-batch,mpsc-zcbatch]\n",
			        argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (size < 8 || b < 1 || b > BURST_MAX) {
		fprintf(stderr, "bench_path: size >= 8, 1 <= burst <= %d\n",
		        BURST_MAX);
		return 2;
	}
	while (rc == 0 && bench_next_item(&list, api, sizeof api)) {
		if (strcmp(api, "ck_ring") == 0) {
#ifdef BENCH_HAVE_CK
			rc = run_ck(size, n, b);
#endif
			continue;
		}
#ifndef SHMRING_RECORD_HEADER
		if (strstr(api, "zcbatch"))
			continue; /* format 1 has no claimv/peekv */
#endif
#ifndef SHMRING_F_MPSC
		if (strncmp(api, "mpsc-", 5) == 0)
			continue; /* a library without many producers */
#endif
		rc = run_sr(api, size, n, b);
	}
	return rc;
}
