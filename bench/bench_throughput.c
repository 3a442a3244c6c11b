/* SPDX-License-Identifier: MIT */
/*
 * bench_throughput.c -- streaming throughput: a producer process sends a
 * numbered stream as fast as it can, a consumer process on another CPU
 * receives it and checks every sequence number. Also the memcpy limit
 * ("memcpy": one process copying messages into a ring-sized buffer).
 * A zero-copy consumer reads every byte of each message in place.
 *
 * One line per configuration:
 *   bench=throughput transport=T size=N slots=S runs=R msgs=M status=ok
 *   msgs_per_s=med msgs_per_s_min=.. msgs_per_s_max=.. mb_per_s=.. (1 MB =
 *   1e6 bytes) futex_per_msg=.. (shmring: waits + wakes of both handles,
 *   from shmring_get_stats) allocs_per_msg=.. (heap allocations in both
 *   processes during the timed loop, worst run)
 * A run with a lost or reordered message makes the line status=FAILED and
 * prints no figure; a size a transport cannot carry is status=n/a.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "transport.h"

#define DEFAULT_SIZES "8,64,256,1024,4096,65536"

struct ctl {
	_Atomic int tx_open;
	_Atomic int ready;
	_Atomic int consumed; /* the consumer has every message */
	uint64_t sink;        /* bench_touch results: keeps the reads */
	uint64_t t0, t1;
	uint64_t allocs[2];
	shmring_stats st[2];
	char err[160];
};

struct job {
	struct tp_ctx c;
	struct ctl *ctl;
	uint64_t msgs;
};

struct result {
	int status;
	double secs, futex, allocs;
};

static void fill_pattern(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131u + 7u);
}

static void start_together(struct ctl *ctl)
{
	atomic_fetch_add(&ctl->ready, 1);
	while (atomic_load(&ctl->ready) < 2)
		bench_relax();
}

static int producer(void *arg)
{
	struct job *j = arg;
	const struct transport *t = j->c.t;
	size_t size = j->c.size;
	uint8_t *tmpl = malloc(size);
	struct tp_end e;
	uint64_t a0;
	int rc = tp_open(&e, &j->c, 0, TP_TX);

	if (rc != BENCH_EXIT_OK || !tmpl)
		return rc ? rc : BENCH_EXIT_ERR;
	fill_pattern(tmpl, size);
	memcpy(e.buf, tmpl, size);
	atomic_store(&j->ctl->tx_open, 1);
	start_together(j->ctl);
	a0 = bench_allocs();
	j->ctl->t0 = bench_now_ns();
	for (uint64_t seq = 0; seq < j->msgs; seq++) {
		uint8_t *p = t->claim(&e);
		if (!p)
			goto fail;
		if (t->zero_copy) /* build the message in place */
			memcpy(p, tmpl, size);
		memcpy(p, &seq, sizeof seq);
		if (t->commit(&e) != 0)
			goto fail;
	}
	if (t->flush && t->flush(&e) != 0)
		goto fail;
	j->ctl->allocs[0] = bench_allocs() - a0;
	/* Close only once everything arrived: a ZeroMQ PUSH socket that
	 * closes and exits may leave the tail of the stream undelivered. */
	while (!atomic_load(&j->ctl->consumed))
		bench_nap();
	tp_close(&e);
	j->ctl->st[0] = e.stats;
	return BENCH_EXIT_OK;
fail:
	snprintf(j->ctl->err, sizeof j->ctl->err, "producer: %s",
	         e.err ? e.err : "error");
	return BENCH_EXIT_ERR;
}

static int consumer(void *arg)
{
	struct job *j = arg;
	const struct transport *t = j->c.t;
	struct tp_end e;
	uint64_t a0, got = 0, sink = 0;
	int rc;

	while (!atomic_load(&j->ctl->tx_open))
		bench_nap();
	rc = tp_open(&e, &j->c, 0, TP_RX);
	if (rc != BENCH_EXIT_OK)
		return rc;
	start_together(j->ctl);
	a0 = bench_allocs();
	for (uint64_t seq = 0; seq < j->msgs; seq++) {
		const uint8_t *p = t->recv(&e);
		if (!p) {
			snprintf(j->ctl->err, sizeof j->ctl->err,
			         "consumer: %s at #%llu", e.err ? e.err : "error",
			         (unsigned long long)seq);
			return BENCH_EXIT_ERR;
		}
		memcpy(&got, p, sizeof got);
		if (t->rx_in_place)
			sink ^= bench_touch(p, j->c.size);
		if (got != seq) {
			snprintf(j->ctl->err, sizeof j->ctl->err,
			         "consumer: expected #%llu, got #%llu",
			         (unsigned long long)seq,
			         (unsigned long long)got);
			return BENCH_EXIT_SEQ;
		}
		t->done(&e);
	}
	j->ctl->t1 = bench_now_ns();
	j->ctl->allocs[1] = bench_allocs() - a0;
	j->ctl->sink = sink;
	atomic_store(&j->ctl->consumed, 1);
	tp_close(&e);
	j->ctl->st[1] = e.stats;
	return BENCH_EXIT_OK;
}

static struct result run_stream(const struct transport *t, size_t size,
                                uint32_t slots, uint64_t msgs,
                                const struct bench_opts *o)
{
	struct ctl *ctl = bench_shared(sizeof *ctl);
	struct job j = {.ctl = ctl, .msgs = msgs};
	struct result r = {0};
	pid_t pid[2];

	r.status = tp_setup(&j.c, t, size, slots, 1);
	if (r.status == BENCH_EXIT_OK) {
		pid[0] = bench_spawn(producer, &j, o->cpu[0]);
		pid[1] = bench_spawn(consumer, &j, o->cpu[1]);
		r.status = bench_reap(pid, 2, 60 + 20 * o->target_s);
	}
	tp_teardown(&j.c);
	if (r.status == BENCH_EXIT_OK) {
		const shmring_stats *s = ctl->st;
		r.secs = (double)(ctl->t1 - ctl->t0) / 1e9;
		r.futex = (double)(s[0].waits + s[0].wakes + s[1].waits +
		                   s[1].wakes) /
		          (double)msgs;
		r.allocs = (double)(ctl->allocs[0] + ctl->allocs[1]) /
		           (double)msgs;
	} else if (ctl->err[0]) {
		fprintf(stderr, "%s size=%zu: %s\n", t->name, size, ctl->err);
	}
	bench_unshare(ctl, sizeof *ctl);
	return r;
}

/* The memcpy limit: one process, same bytes per message, destination as
 * large as the ring's slots, so that it sees the same cache footprint. */
static struct result run_memcpy(size_t size, uint32_t slots, uint64_t msgs,
                                const struct bench_opts *o)
{
	void *(*volatile cpy)(void *, const void *, size_t) = memcpy;
	size_t stride = (8 + size + 63) & ~(size_t)63;
	uint8_t *src = malloc(size), *dst = calloc(slots, stride);
	struct result r = {0};
	uint64_t t0;

	if (!src || !dst) {
		r.status = BENCH_EXIT_ERR;
		return r;
	}
	bench_pin(o->cpu[0]);
	fill_pattern(src, size);
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < msgs; i++)
		cpy(dst + (i & (slots - 1)) * stride + 8, src, size);
	r.secs = (double)(bench_now_ns() - t0) / 1e9;
	__asm__ __volatile__("" ::"r"(dst) : "memory");
	free(src);
	free(dst);
	bench_pin(-1);
	return r;
}

static struct result run_one(const struct transport *t, size_t size,
                             uint32_t slots, uint64_t msgs,
                             const struct bench_opts *o)
{
	return t ? run_stream(t, size, slots, msgs, o)
	         : run_memcpy(size, slots, msgs, o);
}

/* Warm-up doubling as calibration: a run long enough to time, then the
 * count that lasts about target_s. */
static uint64_t calibrate(const struct transport *t, size_t size,
                          uint32_t slots, const struct bench_opts *o,
                          int *status)
{
	uint64_t m = (4u << 20) / size;
	struct result r;

	m = m < 500 ? 500 : m > 50000 ? 50000 : m;
	for (;;) {
		r = run_one(t, size, slots, m, o);
		*status = r.status;
		if (r.status != BENCH_EXIT_OK)
			return 0;
		if (r.secs >= 0.02 || m >= (UINT64_C(1) << 32))
			break;
		m *= 10;
	}
	m = (uint64_t)((double)m / r.secs * o->target_s);
	return m < 1000 ? 1000 : m;
}

static void print_spread(const char *key, double *v, int n, const char *fmt)
{
	struct bench_spread s;

	bench_spread_of(v, n, &s);
	printf(" %s=", key);
	printf(fmt, s.med);
	printf(" %s_min=", key);
	printf(fmt, s.min);
	printf(" %s_max=", key);
	printf(fmt, s.max);
}

/* One configuration (transport x size) and its runs so far. */
struct config {
	char name[64];
	const struct transport *t; /* NULL: the memcpy limit */
	size_t size;
	uint32_t slots;
	uint64_t msgs;
	int status, n;
	double rate[BENCH_MAX_RUNS], mbs[BENCH_MAX_RUNS], fx[BENCH_MAX_RUNS];
	double allocs;
};

static void config_init(void *cfg, const char *tname, size_t size,
                        const struct bench_opts *o)
{
	struct config *c = cfg;
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", tname);
	if (strcmp(tname, "memcpy") != 0 && !(c->t = tp_find(tname))) {
		fprintf(stderr, "unknown transport %s\n", tname);
		exit(2);
	}
	c->size = size;
	c->slots = o->slots ? o->slots : bench_default_slots(size);
	c->msgs = o->msgs;
	if (!c->msgs)
		c->msgs = calibrate(c->t, size, c->slots, o, &c->status);
	else if (o->warmup)
		c->status = run_one(c->t, size, c->slots, c->msgs, o).status;
}

static void config_run(void *cfg, const struct bench_opts *o)
{
	struct config *c = cfg;
	struct result r;

	if (c->status != BENCH_EXIT_OK)
		return;
	r = run_one(c->t, c->size, c->slots, c->msgs, o);
	c->status = r.status;
	c->rate[c->n] = (double)c->msgs / r.secs;
	c->mbs[c->n] = c->rate[c->n] * (double)c->size / 1e6;
	c->fx[c->n] = r.futex;
	c->allocs = r.allocs > c->allocs ? r.allocs : c->allocs;
	c->n++;
}

static void config_print(void *cfg, const struct bench_opts *o)
{
	struct config *c = cfg;
	int st = c->status;

	printf("bench=throughput transport=%s size=%zu slots=%u runs=%d "
	       "msgs=%llu status=%s",
	       c->name, c->size, c->slots, o->runs,
	       (unsigned long long)c->msgs,
	       st == BENCH_EXIT_OK      ? "ok"
	       : st == BENCH_EXIT_UNSUP ? "n/a"
	                                : "FAILED");
	if (st == BENCH_EXIT_OK) {
		print_spread("msgs_per_s", c->rate, c->n, "%.0f");
		print_spread("mb_per_s", c->mbs, c->n, "%.1f");
		if (c->t && strncmp(c->name, "shmring", 7) == 0)
			print_spread("futex_per_msg", c->fx, c->n, "%.6f");
		if (c->t)
			printf(" allocs_per_msg=%.6f", c->allocs);
	}
	printf("\n");
	fflush(stdout);
}

static const struct bench_driver driver = {
        .cfg_size = sizeof(struct config),
        .init = config_init,
        .run = config_run,
        .print = config_print,
};

int main(int argc, char **argv)
{
	struct bench_opts o;
	static char all[1024];

	bench_parse(argc, argv, &o,
	            "transports: the tp_all table, plus memcpy (the limit)\n");
	if (!o.transports) {
		for (int i = 0; tp_all[i]; i++)
			snprintf(all + strlen(all), sizeof all - strlen(all),
			         "%s,", tp_all[i]->name);
		strcat(all, "memcpy");
		o.transports = all;
	}
	bench_print_env(stdout, "bench_throughput", &o);
	return bench_matrix(&driver, &o, DEFAULT_SIZES);
}
