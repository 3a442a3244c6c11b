/* SPDX-License-Identifier: MIT */
/*
 * bench_throughput.c -- streaming throughput: a producer process sends a
 * numbered stream as fast as it can, a consumer process on another CPU
 * receives it and checks every sequence number. Also the memcpy limit
 * ("memcpy": one process copying messages into a ring-sized buffer).
 * A zero-copy consumer reads every byte of each message in place.
 *
 * A transport name may carry a ring geometry, NAME@SLOTSIZExCOUNT (shmring
 * only: e.g. shmring-copy@4088x1024, 1024 slots of a 4 KiB stride), and
 * the prefix alt: (run by the build given with --alt, e.g. the format-1
 * library, interleaved with this build's runs). A size is a number of
 * bytes or mixLO-HI: a stream whose lengths are drawn log-uniform from
 * [LO, HI] (the same sequence for every transport and build).
 *
 * Many producers: NAME/P runs P producer processes into one consumer (a
 * transport of transport.c's tp_many table, P <= 32; NAME alone is one
 * producer). Producer k sends its share of the messages, each numbered
 * k << 56 | its own sequence, and the consumer checks every producer's
 * sequence separately (their interleaving is free). Producer k runs on the
 * k-th CPU of --producer-cpus (in turn; default all on the first CPU of
 * --cpus), the consumer on the second CPU of --cpus. Throughput is all
 * messages over the time from the first producer's start to the last
 * receive; futex_per_msg sums the waits and wakes of every handle.
 *
 * One line per configuration:
 *   bench=throughput transport=T size=N slots=S runs=R msgs=M status=ok
 *   msgs_per_s=med msgs_per_s_min=.. msgs_per_s_max=.. mb_per_s=.. (1 MB =
 *   1e6 bytes) futex_per_msg=.. (shmring: waits + wakes of both handles,
 *   from shmring_get_stats) allocs_per_msg=.. (heap allocations in both
 *   processes during the timed loop, worst run) ring_bytes=.. (shmring:
 *   the shared memory the ring maps)
 * and with --probe one "bench=run ... round=K probe_ns=P" line per run.
 * With --occupancy (a diagnosis, not a figure: it adds a read of the
 * producer's line), a shmring consumer maps the segment's header read-only
 * and, after every 16th message, reads head and tail (docs/format.md: the
 * same offsets in both formats): occ_slots is the mean of head - tail,
 * occ_empty the share of samples with nothing more published. A stream in
 * lock-step (each message read as soon as it is written: one line
 * transfer per message) shows occ_empty near 1; a consumer that streams
 * through a full ring shows occ_slots near the depth.
 * A run with a lost or reordered message makes the line status=FAILED and
 * prints no figure; a size a transport cannot carry is status=n/a. An
 * SHMRING_F_MPSC consumer must then see SHMRING_ECLOSED once every
 * producer has closed: a run where it did not carries eos_bad=1 (the
 * summary line: the number of such runs) and says why on stderr.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "transport.h"

#define DEFAULT_SIZES "8,64,256,1024,4096,65536"

struct ctl {
	_Atomic int tx_open; /* producers whose end is open */
	_Atomic int rx_open; /* the consumer's end is open (rx_first) */
	_Atomic int ready;
	_Atomic int consumed; /* the consumer has every message */
	uint64_t sink;        /* bench_touch results: keeps the reads */
	uint64_t t0, t1;
	uint64_t allocs[2]; /* [0]: the producers' sum */
	uint64_t allocs_tx[TP_MAX_PRODUCERS];
	shmring_stats st[2]; /* [0]: the producers' sum, [1] the consumer */
	shmring_stats st_tx[TP_MAX_PRODUCERS];
	int eos_bad; /* the end of the stream was not reported right */
	uint64_t occ_sum, occ_n, occ_empty; /* --occupancy samples */
	char err[160];
};

struct job {
	struct tp_ctx c;
	struct ctl *ctl;
	uint64_t msgs;         /* all producers together */
	int k;                 /* in a producer process: which one */
	size_t mix_lo, mix_hi; /* mixed stream; else 0 */
	int occupancy;         /* sample head - tail (shmring consumer) */
};

struct result {
	int status;
	double secs, futex, allocs, bytes;
	double occ_slots, occ_empty; /* --occupancy; -1 = not sampled */
	double ring_bytes;           /* alt: as the other build reports it */
	int eos_bad;                 /* wrong end of stream (MPSC) */
};

/* One stream to measure: transport, size and ring geometry. */
struct spec {
	const struct transport *t; /* NULL: the memcpy limit */
	size_t size;               /* the largest message of a mixed stream */
	size_t mix_lo, mix_hi;     /* mixed stream; else 0 */
	uint32_t slots, slot_size;
	int producers; /* NAME/P: producer processes (1) */
};

static size_t msg_len(const struct job *j, uint64_t seq)
{
	return j->mix_hi ? bench_mix_len(j->mix_lo, j->mix_hi, seq) : j->c.size;
}

static void fill_pattern(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131u + 7u);
}

static void start_together(const struct job *j)
{
	atomic_fetch_add(&j->ctl->ready, 1);
	while (atomic_load(&j->ctl->ready) < 1 + j->c.producers)
		bench_relax();
}

/* Message numbers: producer k's seq-th message is k << 56 | seq. */
#define SEQ_SHIFT 56
#define SEQ_MASK  ((UINT64_C(1) << SEQ_SHIFT) - 1)

/* Producer k's share of the messages. */
static uint64_t share(const struct job *j, int k)
{
	uint64_t p = (uint64_t)j->c.producers;

	return j->msgs / p + ((uint64_t)k < j->msgs % p);
}

static int producer(void *arg)
{
	struct job *j = arg;
	const struct transport *t = j->c.t;
	size_t size = j->c.size;
	uint8_t *tmpl = malloc(size);
	uint64_t a0, n = share(j, j->k), tag = (uint64_t)j->k << SEQ_SHIFT;
	struct tp_end e;
	int rc;

	if (t->rx_first)
		while (!atomic_load(&j->ctl->rx_open))
			bench_nap();
	rc = tp_open_producer(&e, &j->c, j->k);
	if (rc != BENCH_EXIT_OK || !tmpl)
		return rc ? rc : BENCH_EXIT_ERR;
	fill_pattern(tmpl, size);
	memcpy(e.buf, tmpl, size);
	atomic_fetch_add(&j->ctl->tx_open, 1);
	start_together(j);
	a0 = bench_allocs();
	if (j->k == 0)
		j->ctl->t0 = bench_now_ns();
	for (uint64_t seq = 0; seq < n; seq++) {
		uint64_t num = tag | seq;
		uint8_t *p;
		e.len = msg_len(j, seq);
		p = t->claim(&e);
		if (!p)
			goto fail;
		if (t->zero_copy) /* build the message in place */
			memcpy(p, tmpl, e.len);
		memcpy(p, &num, sizeof num);
		if (t->commit(&e) != 0)
			goto fail;
	}
	if (t->flush && t->flush(&e) != 0)
		goto fail;
	j->ctl->allocs_tx[j->k] = bench_allocs() - a0;
	/* Close only once everything arrived: a ZeroMQ PUSH socket that
	 * closes and exits may leave the tail of the stream undelivered. */
	while (!atomic_load(&j->ctl->consumed))
		bench_nap();
	tp_close(&e);
	j->ctl->st_tx[j->k] = e.stats;
	return BENCH_EXIT_OK;
fail:
	snprintf(j->ctl->err, sizeof j->ctl->err, "producer %d: %s", j->k,
	         e.err ? e.err : "error");
	return BENCH_EXIT_ERR;
}

/* --occupancy: the ring's header page, read-only (the backend's name,
 * src/os_linux.c). NULL if it cannot be mapped. */
static const uint8_t *occ_map(const char *name)
{
	char path[160];
	void *p;
	int fd;

	snprintf(path, sizeof path, "/shmring.%s", name);
	fd = shm_open(path, O_RDONLY, 0);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static void occ_sample(struct ctl *ctl, const uint8_t *seg)
{
	/* head at 384, tail at 512 (docs/format.md) */
	uint64_t h = atomic_load_explicit((const _Atomic uint64_t *)(seg + 384),
	                                  memory_order_relaxed);
	uint64_t t = atomic_load_explicit((const _Atomic uint64_t *)(seg + 512),
	                                  memory_order_relaxed);

	ctl->occ_sum += h - t;
	ctl->occ_n++;
	ctl->occ_empty += h == t;
}

static int consumer(void *arg)
{
	struct job *j = arg;
	const struct transport *t = j->c.t;
	const uint8_t *seg = NULL;
	struct tp_end e;
	uint64_t a0, got = 0, sink = 0, next[TP_MAX_PRODUCERS] = {0};
	int rc;

	/* the SPSC shmring producer creates the ring the consumer opens */
	while (!t->rx_first && atomic_load(&j->ctl->tx_open) < j->c.producers)
		bench_nap();
	rc = tp_open(&e, &j->c, 0, TP_RX);
	if (rc != BENCH_EXIT_OK)
		return rc;
	atomic_store(&j->ctl->rx_open, 1);
	if (j->occupancy && t->shmring)
		seg = occ_map(j->c.name[0]);
	start_together(j);
	a0 = bench_allocs();
	for (uint64_t i = 0; i < j->msgs; i++) {
		const uint8_t *p = t->recv(&e);
		uint64_t k, seq;
		if (!p) {
			snprintf(j->ctl->err, sizeof j->ctl->err,
			         "consumer: %s at #%llu",
			         e.err ? e.err : "error",
			         (unsigned long long)i);
			return BENCH_EXIT_ERR;
		}
		memcpy(&got, p, sizeof got);
		k = got >> SEQ_SHIFT;
		if (k >= (uint64_t)j->c.producers) {
			snprintf(j->ctl->err, sizeof j->ctl->err,
			         "consumer: message %llu (#%llu) from producer "
			         "%llu of %d",
			         (unsigned long long)i,
			         (unsigned long long)(got & SEQ_MASK),
			         (unsigned long long)k, j->c.producers);
			return BENCH_EXIT_SEQ;
		}
		seq = next[k]++;
		if (e.len != msg_len(j, seq)) {
			snprintf(j->ctl->err, sizeof j->ctl->err,
			         "consumer: #%llu of producer %llu has %zu "
			         "bytes, not %zu",
			         (unsigned long long)seq, (unsigned long long)k,
			         e.len, msg_len(j, seq));
			return BENCH_EXIT_SEQ;
		}
		if (t->rx_in_place)
			sink ^= bench_touch(p, e.len);
		if ((got & SEQ_MASK) != seq) {
			snprintf(j->ctl->err, sizeof j->ctl->err,
			         "consumer: expected #%llu of producer %llu, "
			         "got #%llu",
			         (unsigned long long)seq, (unsigned long long)k,
			         (unsigned long long)(got & SEQ_MASK));
			return BENCH_EXIT_SEQ;
		}
		t->done(&e);
		if (seg && (i & 15) == 0)
			occ_sample(j->ctl, seg);
	}
	j->ctl->t1 = bench_now_ns();
	j->ctl->allocs[1] = bench_allocs() - a0;
	j->ctl->sink = sink;
	atomic_store(&j->ctl->consumed, 1);
	/* Every producer closes now: the end of the stream must follow. A
	 * wrong answer is counted (eos_bad) and said, but the messages all
	 * arrived in order, so the run's figures stand. */
	if (t->end && t->end(&e) != 0) {
		j->ctl->eos_bad = 1;
		fprintf(stderr,
		        "%s size=%zu: consumer: no end of stream after all %d "
		        "producers closed: %s\n",
		        t->name, j->c.size, j->c.producers,
		        e.err ? e.err : "error");
	}
	tp_close(&e);
	j->ctl->st[1] = e.stats;
	return BENCH_EXIT_OK;
}

static double stream_bytes(const struct spec *sp, uint64_t msgs)
{
	double b = 0;

	if (!sp->mix_hi)
		return (double)sp->size * (double)msgs;
	for (uint64_t i = 0; i < msgs; i++)
		b += (double)bench_mix_len(sp->mix_lo, sp->mix_hi, i);
	return b;
}

/* Producer k's CPU: --producer-cpus in turn, else the first of --cpus. */
static int producer_cpu(const struct bench_opts *o, int k)
{
	return o->npcpu > 0 ? o->pcpu[k % o->npcpu] : o->cpu[0];
}

static struct result run_stream(const struct spec *sp, uint64_t msgs,
                                const struct bench_opts *o)
{
	struct ctl *ctl = bench_shared(sizeof *ctl);
	struct job j = {.ctl = ctl,
	                .msgs = msgs,
	                .mix_lo = sp->mix_lo,
	                .mix_hi = sp->mix_hi,
	                .occupancy = o->occupancy};
	const struct transport *t = sp->t;
	size_t size = sp->size;
	struct result r = {.occ_slots = -1, .occ_empty = -1};
	int np = sp->producers > 0 ? sp->producers : 1;
	pid_t pid[1 + TP_MAX_PRODUCERS];

	r.status = tp_setup_mp(&j.c, t, size, sp->slots, sp->slot_size,
	                       sp->mix_hi != 0, np);
	if (r.status == BENCH_EXIT_OK) {
		for (int k = 0; k < np; k++) {
			j.k = k; /* the child's copy of the job says which */
			pid[k] = bench_spawn(producer, &j, producer_cpu(o, k));
		}
		pid[np] = bench_spawn(consumer, &j, o->cpu[1]);
		r.status = bench_reap(pid, np + 1, 60 + 20 * o->target_s);
	}
	tp_teardown(&j.c);
	for (int k = 0; k < np; k++) {
		ctl->allocs[0] += ctl->allocs_tx[k];
		ctl->st[0].waits += ctl->st_tx[k].waits;
		ctl->st[0].wakes += ctl->st_tx[k].wakes;
	}
	if (r.status == BENCH_EXIT_OK) {
		const shmring_stats *s = ctl->st;
		r.secs = (double)(ctl->t1 - ctl->t0) / 1e9;
		r.futex = (double)(s[0].waits + s[0].wakes + s[1].waits +
		                   s[1].wakes) /
		          (double)msgs;
		r.allocs = (double)(ctl->allocs[0] + ctl->allocs[1]) /
		           (double)msgs;
		r.bytes = stream_bytes(sp, msgs);
		r.eos_bad = ctl->eos_bad;
		if (ctl->occ_n) {
			r.occ_slots = (double)ctl->occ_sum / (double)ctl->occ_n;
			r.occ_empty =
			        (double)ctl->occ_empty / (double)ctl->occ_n;
		}
	} else if (ctl->err[0]) {
		fprintf(stderr, "%s size=%zu: %s\n", t->name, size, ctl->err);
	}
	bench_unshare(ctl, sizeof *ctl);
	return r;
}

/* The memcpy limit: one process, same bytes per message, destination as
 * large as the ring's slots, so that it sees the same cache footprint. */
static struct result run_memcpy(const struct spec *sp, uint64_t msgs,
                                const struct bench_opts *o)
{
	void *(*volatile cpy)(void *, const void *, size_t) = memcpy;
	size_t size = sp->size, slots = sp->slots;
	size_t stride = (8 + size + 63) & ~(size_t)63;
	uint8_t *src = malloc(size), *dst = calloc(slots, stride);
	struct result r = {.occ_slots = -1, .occ_empty = -1};
	uint64_t t0;

	if (sp->mix_hi) {
		free(src);
		free(dst);
		r.status = BENCH_EXIT_UNSUP;
		return r;
	}
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
	r.bytes = (double)size * (double)msgs;
	__asm__ __volatile__("" ::"r"(dst) : "memory");
	free(src);
	free(dst);
	bench_pin(-1);
	return r;
}

static struct result run_one(const struct spec *sp, uint64_t msgs,
                             const struct bench_opts *o)
{
	return sp->t ? run_stream(sp, msgs, o) : run_memcpy(sp, msgs, o);
}

/* One configuration (transport x size) and its runs so far. */
struct config {
	char name[64];
	const char *alt; /* run by the --alt build: the name after "alt:" */
	char size_arg[32];
	struct spec sp;
	uint64_t msgs;
	int status, n;
	double rate[BENCH_MAX_RUNS], mbs[BENCH_MAX_RUNS], fx[BENCH_MAX_RUNS];
	double occ[BENCH_MAX_RUNS], occ_empty[BENCH_MAX_RUNS];
	double allocs;
	uint64_t ring_bytes;
	int eos_bad; /* runs whose end of stream came wrong */
};

/* A run of the --alt build: one run of @msgs messages, no warm-up. */
static struct result run_alt(const struct config *c, uint64_t msgs,
                             const struct bench_opts *o)
{
	char n[32], cpus[32], slots[32], pcpus[BENCH_MAX_PCPUS * 8] = "",
	                                                         line[1024];
	const char *argv[] = {o->alt, "-t", c->alt, "-s",  c->size_arg,
	                      "-n",   n,    "-r",   "1",   "--no-warmup",
	                      "-c",   cpus, "-S",   slots, NULL,
	                      NULL,   NULL, NULL};
	struct result r = {.occ_slots = -1, .occ_empty = -1};
	int a = 14;

	snprintf(n, sizeof n, "%llu", (unsigned long long)msgs);
	snprintf(cpus, sizeof cpus, "%d,%d", o->cpu[0], o->cpu[1]);
	snprintf(slots, sizeof slots, "%u", c->sp.slots);
	if (o->occupancy)
		argv[a++] = "-O";
	if (o->npcpu > 0) {
		for (int k = 0; k < o->npcpu; k++)
			snprintf(pcpus + strlen(pcpus),
			         sizeof pcpus - strlen(pcpus), "%s%d",
			         k ? "," : "", o->pcpu[k]);
		argv[a++] = "-p";
		argv[a++] = pcpus;
	}
	r.status = bench_alt_run(o, argv, line, sizeof line);
	if (r.status != BENCH_EXIT_OK) {
		fprintf(stderr, "alt:%s size=%s: %s\n", c->alt, c->size_arg,
		        line[0] ? line : "failed");
		return r;
	}
	r.secs = (double)msgs / bench_line_value(line, "msgs_per_s", 1);
	r.bytes = bench_line_value(line, "mb_per_s", 0) * 1e6 * r.secs;
	r.futex = bench_line_value(line, "futex_per_msg", 0);
	r.allocs = bench_line_value(line, "allocs_per_msg", 0);
	r.ring_bytes = bench_line_value(line, "ring_bytes", 0);
	r.occ_slots = bench_line_value(line, "occ_slots", -1);
	r.occ_empty = bench_line_value(line, "occ_empty", -1);
	return r;
}

static struct result run_cfg(const struct config *c, uint64_t msgs,
                             const struct bench_opts *o)
{
	return c->alt ? run_alt(c, msgs, o) : run_one(&c->sp, msgs, o);
}

/* Warm-up doubling as calibration: a run long enough to time, then the
 * count that lasts about target_s. */
static uint64_t calibrate(const struct config *c, const struct bench_opts *o,
                          int *status)
{
	uint64_t m = (4u << 20) / c->sp.size;
	struct result r;

	m = m < 500 ? 500 : m > 50000 ? 50000 : m;
	for (;;) {
		r = run_cfg(c, m, o);
		*status = r.status;
		if (r.status != BENCH_EXIT_OK)
			return 0;
		if (r.secs >= 0.02 || m >= (UINT64_C(1) << 32))
			break;
		m *= 10;
	}
	m = (uint64_t)((double)m / r.secs * o->target_s);
	/* Several producers sharing CPUs run at rates that depend on how the
	 * scheduler interleaves them (10-100x apart from one run to the
	 * next): time the count twice more and keep the smallest estimate,
	 * so that a run in the slow regime still ends near target_s. */
	for (int i = 0; c->sp.producers > 1 && i < 2 && m >= 1000; i++) {
		uint64_t m2;
		r = run_cfg(c, m, o);
		*status = r.status;
		if (r.status != BENCH_EXIT_OK)
			return 0;
		m2 = (uint64_t)((double)m / r.secs * o->target_s);
		m = m2 < m ? m2 : m;
	}
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

/* NAME[@SLOTSIZExCOUNT], with alt: in front for the --alt build. */
static void config_init(void *cfg, const char *tname, const char *size,
                        const struct bench_opts *o)
{
	struct config *c = cfg;
	char base[64], *at;
	unsigned ss = 0, sc = 0;

	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", tname);
	snprintf(c->size_arg, sizeof c->size_arg, "%s", size);
	if (strncmp(tname, "alt:", 4) == 0) {
		if (!o->alt) {
			fprintf(stderr, "%s: no --alt build given\n", tname);
			exit(2);
		}
		c->alt = c->name + 4;
		tname += 4;
	}
	snprintf(base, sizeof base, "%s", tname);
	c->sp.producers = 1;
	if ((at = strchr(base, '/')) != NULL) { /* NAME/P: P producers */
		char *end;
		long p = strtol(at + 1, &end, 10);
		if (*end || p < 1 || p > TP_MAX_PRODUCERS) {
			fprintf(stderr, "%s: want NAME/P, P in 1..%d\n", tname,
			        TP_MAX_PRODUCERS);
			exit(2);
		}
		c->sp.producers = (int)p;
		*at = '\0';
	}
	if ((at = strchr(base, '@')) != NULL) {
		*at = '\0';
		if (sscanf(at + 1, "%ux%u", &ss, &sc) != 2 || !ss || !sc) {
			fprintf(stderr, "%s: want NAME@SLOTSIZExCOUNT\n",
			        tname);
			exit(2);
		}
	}
	if (strcmp(base, "memcpy") != 0 && !(c->sp.t = tp_find(base)) &&
	    !c->alt) {
		fprintf(stderr, "unknown transport %s\n", base);
		exit(2);
	}
	if (bench_mix_parse(size, &c->sp.mix_lo, &c->sp.mix_hi)) {
		c->sp.size = c->sp.mix_hi;
		bench_mix_len(c->sp.mix_lo, c->sp.mix_hi, 0); /* the table */
	} else {
		c->sp.size = strtoul(size, NULL, 10);
	}
	c->sp.slot_size = ss;
	c->sp.slots = sc         ? sc
	              : o->slots ? o->slots
	                         : bench_default_slots(c->sp.size);
	if (c->sp.t && c->sp.t->shmring && !c->alt)
		c->ring_bytes = bench_ring_bytes(ss ? ss : (uint32_t)c->sp.size,
		                                 c->sp.slots);
	c->msgs = o->msgs;
	if (!c->msgs)
		c->msgs = calibrate(c, o, &c->status);
	else if (o->warmup)
		c->status = run_cfg(c, c->msgs, o).status;
}

static const char *status_name(int st)
{
	return st == BENCH_EXIT_OK      ? "ok"
	       : st == BENCH_EXIT_UNSUP ? "n/a"
	                                : "FAILED";
}

static int is_shmring(const struct config *c)
{
	const char *n = c->alt ? c->alt : c->name;

	return strncmp(n, "shmring", 7) == 0;
}

static void config_run(void *cfg, const struct bench_opts *o,
                       struct bench_state *st)
{
	struct config *c = cfg;
	struct result r;

	if (c->status != BENCH_EXIT_OK)
		return;
	r = run_cfg(c, c->msgs, o);
	bench_state_end(st);
	c->status = r.status;
	if (r.status == BENCH_EXIT_OK) {
		c->rate[c->n] = (double)c->msgs / r.secs;
		c->mbs[c->n] = r.bytes / r.secs / 1e6;
		c->fx[c->n] = r.futex;
		c->allocs = r.allocs > c->allocs ? r.allocs : c->allocs;
		if (r.ring_bytes > 0)
			c->ring_bytes = (uint64_t)r.ring_bytes;
		c->occ[c->n] = r.occ_slots;
		c->occ_empty[c->n] = r.occ_empty;
		c->eos_bad += r.eos_bad;
		c->n++;
	}
	if (!o->probe)
		return;
	printf("bench=run prog=throughput transport=%s size=%s", c->name,
	       c->size_arg);
	bench_state_print(stdout, st);
	printf(" msgs=%llu status=%s", (unsigned long long)c->msgs,
	       status_name(r.status));
	if (r.status == BENCH_EXIT_OK) {
		printf(" msgs_per_s=%.0f mb_per_s=%.1f", c->rate[c->n - 1],
		       c->mbs[c->n - 1]);
		if (c->sp.t || c->alt)
			printf(" allocs_per_msg=%.6f", r.allocs);
		if (is_shmring(c))
			printf(" futex_per_msg=%.6f", r.futex);
		if (c->ring_bytes)
			printf(" ring_bytes=%llu",
			       (unsigned long long)c->ring_bytes);
		if (r.occ_slots >= 0)
			printf(" occ_slots=%.2f occ_empty=%.3f", r.occ_slots,
			       r.occ_empty);
		if (r.eos_bad)
			printf(" eos_bad=1");
	}
	printf("\n");
	fflush(stdout);
}

static void config_print(void *cfg, const struct bench_opts *o)
{
	struct config *c = cfg;
	int st = c->status;

	if (c->n == 0 && st == BENCH_EXIT_OK)
		st = BENCH_EXIT_ERR;
	printf("bench=throughput transport=%s size=%s slots=%u runs=%d "
	       "msgs=%llu status=%s",
	       c->name, c->size_arg, c->sp.slots, o->runs,
	       (unsigned long long)c->msgs, status_name(st));
	if (st == BENCH_EXIT_OK) {
		print_spread("msgs_per_s", c->rate, c->n, "%.0f");
		print_spread("mb_per_s", c->mbs, c->n, "%.1f");
		if (is_shmring(c))
			print_spread("futex_per_msg", c->fx, c->n, "%.6f");
		if (c->sp.t || c->alt)
			printf(" allocs_per_msg=%.6f", c->allocs);
		if (c->ring_bytes)
			printf(" ring_bytes=%llu",
			       (unsigned long long)c->ring_bytes);
		if (c->occ[0] >= 0) {
			print_spread("occ_slots", c->occ, c->n, "%.2f");
			print_spread("occ_empty", c->occ_empty, c->n, "%.3f");
		}
		if (c->eos_bad)
			printf(" eos_bad=%d", c->eos_bad);
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
