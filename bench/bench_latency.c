/* SPDX-License-Identifier: MIT */
/*
 * bench_latency.c -- ping-pong round trips. A pinger process sends a
 * numbered message, a ponger process on another CPU checks the number and
 * sends the message back; the pinger times each round trip with the
 * monotonic clock (its cost is in every figure alike, limits included).
 *
 * The limits, in the same run and through the same timing loop:
 *   cacheline  two processes bouncing one atomic word (spinning)
 *   futex      the same word, each side FUTEX_WAKE then FUTEX_WAIT
 *              (the least a sleeping round trip can cost)
 *   futex-timeout  the same, each FUTEX_WAIT with a 50 ms timeout, as
 *              shmring's sleeps in slices (src/os_linux.c): what arming
 *              and cancelling the timer adds (not in the default list)
 *
 * One line per configuration:
 *   bench=latency transport=T size=N runs=R iters=K status=ok
 *   p50_ns=med p50_ns_min=.. p50_ns_max=.. p99_ns=.. p999_ns=..
 * (each percentile is the median over runs of that run's percentile),
 * and with --probe one "bench=run ... round=K probe_ns=P" line per run.
 * The limits run in every size group, interleaved with the transports.
 * --cpus -1,-1 leaves both processes unpinned (on the CPUs the program was
 * started with: under `taskset -c 0`, both share CPU 0); --cpus 0,0 pins
 * both to CPU 0. The cache-line limit spins, so it is n/a on one CPU.
 * Names with alt: in front run in the build given with --alt.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "transport.h"

#define DEFAULT_SIZES "8,1024"
#define STOP_SEQ      UINT64_MAX

struct ctl {
	_Atomic int tx_open[2];
	_Atomic int ready;
	uint64_t iters;
	uint64_t pct[3]; /* p50, p99, p99.9 of the run */
	char err[160];
	/* the limits' shared word, alone on its lines */
	_Alignas(128) _Atomic uint64_t word;
	char pad[120];
	_Alignas(128) _Atomic uint32_t fword;
};

struct job {
	struct tp_ctx c;
	struct ctl *ctl;
	double target_s;
	const char *limit; /* "cacheline", "futex", "futex-timeout" or NULL */
};

static void start_together(struct ctl *ctl)
{
	atomic_fetch_add(&ctl->ready, 1);
	while (atomic_load(&ctl->ready) < 2)
		bench_relax();
}

/* Count of timed iterations that lasts about target_s, from a warm-up
 * mean; at least 2000 so that p99.9 has two samples beyond it. */
static uint64_t iters_for(double mean_ns, double target_s)
{
	double k = target_s * 1e9 / (mean_ns > 1 ? mean_ns : 1);

	return k < 2000 ? 2000 : k > 2000000 ? 2000000 : (uint64_t)k;
}

/* A run ends after 5 x target_s (at least 1 s) even if the count from the
 * warm-up is not reached: on a machine that got busy after the warm-up,
 * round trips of a time slice each would otherwise outlast the watchdog.
 * At least 1000 round trips are kept; the line's iters says how many. */
static uint64_t time_cap_ns(double target_s)
{
	double s = 5 * target_s > 1 ? 5 * target_s : 1;

	return (uint64_t)(s * 1e9);
}

static void report(struct job *j, uint64_t *rtt, uint64_t n)
{
	bench_sort_u64(rtt, n);
	j->ctl->pct[0] = bench_pct(rtt, n, 50);
	j->ctl->pct[1] = bench_pct(rtt, n, 99);
	j->ctl->pct[2] = bench_pct(rtt, n, 99.9);
	j->ctl->iters = n;
}

/* ---- transports --------------------------------------------------------- */

struct ends {
	struct tp_end tx, rx;
};

/* Open TX of @out_dir, publish it, then RX of the other direction. */
static int open_ends(struct job *j, struct ends *e, int out_dir)
{
	int rc = tp_open(&e->tx, &j->c, out_dir, TP_TX);

	if (rc != BENCH_EXIT_OK)
		return rc;
	atomic_store(&j->ctl->tx_open[out_dir], 1);
	while (!atomic_load(&j->ctl->tx_open[out_dir ^ 1]))
		bench_nap();
	return tp_open(&e->rx, &j->c, out_dir ^ 1, TP_RX);
}

static int send_seq(struct tp_end *e, const uint8_t *tmpl, uint64_t seq)
{
	const struct transport *t = e->c->t;
	uint8_t *p = t->claim(e);

	if (!p)
		return -1;
	if (t->zero_copy)
		memcpy(p, tmpl, e->c->size);
	memcpy(p, &seq, sizeof seq);
	return t->commit(e);
}

static uint64_t sink;

static int recv_seq(struct tp_end *e, uint64_t *seq)
{
	const uint8_t *p = e->c->t->recv(e);

	if (!p)
		return -1;
	memcpy(seq, p, sizeof *seq);
	if (e->c->t->rx_in_place)
		sink ^= bench_touch(p, e->c->size);
	e->c->t->done(e);
	return 0;
}

/* One round trip; BENCH_EXIT_*. */
static int round_trip(struct job *j, struct ends *e, const uint8_t *tmpl,
                      uint64_t seq)
{
	uint64_t got;

	if (send_seq(&e->tx, tmpl, seq) != 0 || recv_seq(&e->rx, &got) != 0) {
		snprintf(j->ctl->err, sizeof j->ctl->err, "pinger: %s",
		         e->tx.err ? e->tx.err
		         : e->rx.err ? e->rx.err
		                     : "error");
		return BENCH_EXIT_ERR;
	}
	if (got != seq) {
		snprintf(j->ctl->err, sizeof j->ctl->err,
		         "pinger: sent #%llu, got #%llu back",
		         (unsigned long long)seq, (unsigned long long)got);
		return BENCH_EXIT_SEQ;
	}
	return BENCH_EXIT_OK;
}

static int tp_pinger(struct job *j)
{
	size_t size = j->c.size;
	uint8_t *tmpl = malloc(size);
	uint64_t *rtt, n, seq = 0, t0, end;
	struct ends e;
	int rc = open_ends(j, &e, 0);

	if (rc != BENCH_EXIT_OK || !tmpl)
		return rc ? rc : BENCH_EXIT_ERR;
	memset(tmpl, 0x5a, size);
	memcpy(e.tx.buf, tmpl, size);
	start_together(j->ctl);
	t0 = bench_now_ns();
	for (; seq < 1000; seq++) /* warm-up, and the calibration */
		if ((rc = round_trip(j, &e, tmpl, seq)) != BENCH_EXIT_OK)
			return rc;
	n = iters_for((double)(bench_now_ns() - t0) / 1000, j->target_s);
	rtt = malloc(n * sizeof *rtt);
	if (!rtt)
		return BENCH_EXIT_ERR;
	end = bench_now_ns() + time_cap_ns(j->target_s);
	for (uint64_t i = 0; i < n; i++, seq++) {
		t0 = bench_now_ns();
		if ((rc = round_trip(j, &e, tmpl, seq)) != BENCH_EXIT_OK)
			return rc;
		rtt[i] = bench_now_ns() - t0;
		if (t0 > end && i + 1 >= 1000) {
			n = i + 1;
			break;
		}
	}
	if (send_seq(&e.tx, tmpl, STOP_SEQ) != 0)
		return BENCH_EXIT_ERR;
	report(j, rtt, n);
	j->ctl->pct[2] += sink & 0; /* keeps the reads */
	tp_close(&e.tx);
	tp_close(&e.rx);
	return BENCH_EXIT_OK;
}

static int tp_ponger(struct job *j)
{
	const struct transport *t = j->c.t;
	size_t size = j->c.size;
	struct ends e;
	uint64_t want = 0, got;
	int rc = open_ends(j, &e, 1);

	if (rc != BENCH_EXIT_OK)
		return rc;
	start_together(j->ctl);
	for (;; want++) {
		const uint8_t *in = t->recv(&e.rx);
		uint8_t *out;

		if (!in)
			return BENCH_EXIT_ERR;
		memcpy(&got, in, sizeof got);
		if (got == STOP_SEQ)
			break;
		if (got != want) {
			snprintf(j->ctl->err, sizeof j->ctl->err,
			         "ponger: expected #%llu, got #%llu",
			         (unsigned long long)want,
			         (unsigned long long)got);
			return BENCH_EXIT_SEQ;
		}
		out = t->claim(&e.tx);
		if (!out)
			return BENCH_EXIT_ERR;
		memcpy(out, in, size);
		t->done(&e.rx);
		if (t->commit(&e.tx) != 0)
			return BENCH_EXIT_ERR;
	}
	tp_close(&e.tx);
	tp_close(&e.rx);
	return BENCH_EXIT_OK;
}

/* ---- limits ------------------------------------------------------------- */

static long futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)w, op, val, NULL, NULL, 0);
}

/* FUTEX_WAIT for the futex limits: with a 50 ms timeout for
 * futex-timeout. */
static long futex_wait(const struct job *j, uint32_t val)
{
	struct timespec ts = {0, 50000000};

	return syscall(SYS_futex, (uint32_t *)&j->ctl->fword, FUTEX_WAIT, val,
	               j->limit[5] == '-' ? &ts : NULL, NULL, 0);
}

/* Wait until *w == want: spin for the cache-line limit, sleep for the
 * futex limit. */
static void await(struct job *j, uint64_t want)
{
	if (j->limit[0] == 'c') {
		while (atomic_load_explicit(&j->ctl->word,
		                            memory_order_acquire) != want)
			bench_relax();
		return;
	}
	for (;;) {
		uint32_t v = atomic_load_explicit(&j->ctl->fword,
		                                  memory_order_acquire);
		if (v == (uint32_t)want)
			return;
		futex_wait(j, v);
	}
}

static void post(struct job *j, uint64_t v)
{
	if (j->limit[0] == 'c') {
		atomic_store_explicit(&j->ctl->word, v, memory_order_release);
		return;
	}
	atomic_store_explicit(&j->ctl->fword, (uint32_t)v,
	                      memory_order_release);
	futex(&j->ctl->fword, FUTEX_WAKE, 1);
}

static int limit_pinger(struct job *j)
{
	uint64_t *rtt, n, v = 0, t0, end;

	start_together(j->ctl);
	t0 = bench_now_ns();
	for (int i = 0; i < 1000; i++, v += 2) {
		post(j, v + 1);
		await(j, v + 2);
	}
	n = iters_for((double)(bench_now_ns() - t0) / 1000, j->target_s);
	rtt = malloc(n * sizeof *rtt);
	if (!rtt)
		return BENCH_EXIT_ERR;
	end = bench_now_ns() + time_cap_ns(j->target_s);
	for (uint64_t i = 0; i < n; i++, v += 2) {
		t0 = bench_now_ns();
		post(j, v + 1);
		await(j, v + 2);
		rtt[i] = bench_now_ns() - t0;
		if (t0 > end && i + 1 >= 1000) {
			n = i + 1;
			break;
		}
	}
	post(j, 0); /* stop */
	report(j, rtt, n);
	return BENCH_EXIT_OK;
}

static int limit_ponger(struct job *j)
{
	start_together(j->ctl);
	for (uint64_t v = 1;; v += 2) {
		/* await() cannot see the stop value 0; poll for it here. */
		for (;;) {
			uint64_t cur = j->limit[0] == 'c'
			                       ? atomic_load(&j->ctl->word)
			                       : atomic_load(&j->ctl->fword);
			if (cur == 0 && v > 1)
				return BENCH_EXIT_OK;
			if (cur == (j->limit[0] == 'c' ? v : (uint32_t)v))
				break;
			if (j->limit[0] == 'c')
				bench_relax();
			else
				futex_wait(j, (uint32_t)cur);
		}
		post(j, v + 1);
	}
}

static int pinger(void *arg)
{
	struct job *j = arg;

	return j->limit ? limit_pinger(j) : tp_pinger(j);
}

static int ponger(void *arg)
{
	struct job *j = arg;

	return j->limit ? limit_ponger(j) : tp_ponger(j);
}

/* ---- driver ------------------------------------------------------------- */

static int run_once(struct job *tmpl, const struct bench_opts *o,
                    uint64_t pct[3], uint64_t *iters)
{
	struct ctl *ctl = bench_shared(sizeof *ctl);
	struct job j = *tmpl;
	pid_t pid[2];
	int st = BENCH_EXIT_OK;

	j.ctl = ctl;
	if (!j.limit)
		st = tp_setup(&j.c, tmpl->c.t, tmpl->c.size, tmpl->c.slots, 0,
		              0, 2);
	if (st == BENCH_EXIT_OK) {
		pid[0] = bench_spawn(pinger, &j, o->cpu[0]);
		pid[1] = bench_spawn(ponger, &j, o->cpu[1]);
		st = bench_reap(pid, 2, 60 + 20 * o->target_s);
	}
	if (!j.limit)
		tp_teardown(&j.c);
	if (st == BENCH_EXIT_OK) {
		memcpy(pct, ctl->pct, sizeof ctl->pct);
		*iters = ctl->iters;
	} else if (ctl->err[0]) {
		fprintf(stderr, "%s: %s\n", j.limit ? j.limit : j.c.t->name,
		        ctl->err);
	}
	bench_unshare(ctl, sizeof *ctl);
	return st;
}

/* One configuration and its runs so far. */
struct config {
	struct job j;
	char name[64];
	const char *alt; /* run by the --alt build: the name after "alt:" */
	int st, n;
	uint64_t iters;
	double v[3][BENCH_MAX_RUNS];
};

static const char *const key[3] = {"p50_ns", "p99_ns", "p999_ns"};

/* One run of the --alt build, no warm-up. */
static int run_alt(const struct config *c, const struct bench_opts *o,
                   uint64_t pct[3], uint64_t *iters)
{
	char sz[32], cpus[32], t[32], slots[32], line[1024];
	const char *argv[] = {o->alt, "-t", c->alt,        "-s",  sz,
	                      "-r",   "1",  "--no-warmup", "-c",  cpus,
	                      "-T",   t,    "-S",          slots, NULL};
	int st;

	snprintf(sz, sizeof sz, "%zu", c->j.c.size);
	snprintf(cpus, sizeof cpus, "%d,%d", o->cpu[0], o->cpu[1]);
	snprintf(t, sizeof t, "%g", o->target_s);
	snprintf(slots, sizeof slots, "%u", c->j.c.slots);
	st = bench_alt_run(o, argv, line, sizeof line);
	if (st != BENCH_EXIT_OK) {
		fprintf(stderr, "alt:%s size=%zu: %s\n", c->alt, c->j.c.size,
		        line[0] ? line : "failed");
		return st;
	}
	for (int k = 0; k < 3; k++)
		pct[k] = (uint64_t)bench_line_value(line, key[k], 0);
	*iters = (uint64_t)bench_line_value(line, "iters", 0);
	return BENCH_EXIT_OK;
}

static int run_cfg(struct config *c, const struct bench_opts *o,
                   uint64_t pct[3], uint64_t *iters)
{
	return c->alt ? run_alt(c, o, pct, iters)
	              : run_once(&c->j, o, pct, iters);
}

static void config_init(void *cfg, const char *tname, const char *size_arg,
                        const struct bench_opts *o)
{
	struct config *c = cfg;
	size_t size = strtoul(size_arg, NULL, 10);
	uint64_t pct[3];

	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", tname);
	c->j.target_s = o->target_s;
	if (strncmp(tname, "alt:", 4) == 0) {
		if (!o->alt) {
			fprintf(stderr, "%s: no --alt build given\n", tname);
			exit(2);
		}
		c->alt = c->name + 4;
	} else if (strcmp(tname, "cacheline") == 0 ||
	           strcmp(tname, "futex") == 0 ||
	           strcmp(tname, "futex-timeout") == 0) {
		c->j.limit = strcmp(tname, "cacheline") == 0 ? "cacheline"
		             : strcmp(tname, "futex") == 0   ? "futex"
		                                             : "futex-timeout";
		if (c->j.limit[0] == 'c' && o->cpu[0] == o->cpu[1] &&
		    o->cpu[0] >= 0)
			c->st = BENCH_EXIT_UNSUP; /* spins: one CPU stalls */
	} else if (!(c->j.c.t = tp_find(tname))) {
		fprintf(stderr, "unknown transport %s\n", tname);
		exit(2);
	} else if (c->j.c.t->stream_only) {
		c->st = BENCH_EXIT_UNSUP; /* batches sends: no round trip */
	}
	if (bench_mix_parse(size_arg, &(size_t){0}, &(size_t){0}))
		c->st = BENCH_EXIT_UNSUP;
	c->j.c.size = size;
	c->j.c.slots = o->slots ? o->slots : bench_default_slots(size);
	if (o->warmup && c->st == BENCH_EXIT_OK)
		c->st = run_cfg(c, o, pct, &c->iters);
}

static const char *status_name(int st)
{
	return st == BENCH_EXIT_OK      ? "ok"
	       : st == BENCH_EXIT_UNSUP ? "n/a"
	                                : "FAILED";
}

static void config_run(void *cfg, const struct bench_opts *o,
                       struct bench_state *st)
{
	struct config *c = cfg;
	uint64_t pct[3];

	if (c->st != BENCH_EXIT_OK)
		return;
	c->st = run_cfg(c, o, pct, &c->iters);
	bench_state_end(st);
	if (c->st == BENCH_EXIT_OK) {
		for (int k = 0; k < 3; k++)
			c->v[k][c->n] = (double)pct[k];
		c->n++;
	}
	if (!o->probe)
		return;
	printf("bench=run prog=latency transport=%s size=%zu cpus=%d,%d",
	       c->name, c->j.c.size, o->cpu[0], o->cpu[1]);
	bench_state_print(stdout, st);
	printf(" iters=%llu status=%s", (unsigned long long)c->iters,
	       status_name(c->st));
	for (int k = 0; c->st == BENCH_EXIT_OK && k < 3; k++)
		printf(" %s=%.0f", key[k], c->v[k][c->n - 1]);
	printf("\n");
	fflush(stdout);
}

static void config_print(void *cfg, const struct bench_opts *o)
{
	struct config *c = cfg;
	int st = c->st == BENCH_EXIT_OK && c->n == 0 ? BENCH_EXIT_ERR : c->st;

	printf("bench=latency transport=%s size=%zu cpus=%d,%d runs=%d "
	       "iters=%llu status=%s",
	       c->name, c->j.c.size, o->cpu[0], o->cpu[1], o->runs,
	       (unsigned long long)c->iters, status_name(st));
	for (int k = 0; st == BENCH_EXIT_OK && k < 3; k++) {
		struct bench_spread s;
		bench_spread_of(c->v[k], c->n, &s);
		printf(" %s=%.0f %s_min=%.0f %s_max=%.0f", key[k], s.med,
		       key[k], s.min, key[k], s.max);
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

static double clock_cost_ns(void)
{
	uint64_t t0 = bench_now_ns(), x = 0;

	for (int i = 0; i < 100000; i++)
		x += bench_now_ns();
	__asm__ __volatile__("" ::"r"(x));
	return (double)(bench_now_ns() - t0) / 100001;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	static char all[1024];

	bench_parse(argc, argv, &o,
	            "transports: the tp_all table, plus cacheline and futex "
	            "(the limits)\n");
	if (!o.transports) {
		strcat(all, "cacheline,futex");
		for (int i = 0; tp_all[i]; i++)
			if (!tp_all[i]->stream_only)
				snprintf(all + strlen(all),
				         sizeof all - strlen(all), ",%s",
				         tp_all[i]->name);
		o.transports = all;
	}
	bench_print_env(stdout, "bench_latency", &o);
	printf("# clock_gettime cost: %.1f ns (in every round trip)\n",
	       clock_cost_ns());
	return bench_matrix(&driver, &o, DEFAULT_SIZES);
}
