/* SPDX-License-Identifier: MIT */
/*
 * bench.h -- what every benchmark program shares: the clock, CPU pinning,
 * child processes with a watchdog, a shared control page, summary
 * statistics, the malloc counter, and the option parser.
 *
 * Benchmarks never assert on time. They print one machine-readable line per
 * configuration ("bench=... key=value ..."), which scripts/bench.sh and
 * bench/report.py turn into the Markdown table, the CSV and the plots.
 */
#ifndef SHMRING_BENCH_H
#define SHMRING_BENCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Child exit codes, and the status they give the run. */
#define BENCH_EXIT_OK    0
#define BENCH_EXIT_ERR   2 /* transport error: FAILED */
#define BENCH_EXIT_SEQ   3 /* lost, duplicated or reordered message: FAILED */
#define BENCH_EXIT_UNSUP 4 /* transport cannot do this size: n/a */

#define BENCH_MAX_RUNS     64
#define BENCH_MAX_PCPUS    32 /* --producer-cpus entries */
#define BENCH_MAX_CHILDREN 64 /* bench_reap() */

/* Monotonic clock in nanoseconds (vDSO clock_gettime, no system call). */
uint64_t bench_now_ns(void);

/* Pin the calling process to @cpu (sched_setaffinity); -1 gives it back
 * the CPU mask the program started with (all CPUs, or taskset's). */
int bench_pin(int cpu);

/* Anonymous MAP_SHARED memory, inherited by children forked afterwards. */
void *bench_shared(size_t size);
void bench_unshare(void *p, size_t size);

/* Fork a child pinned to @cpu that runs fn(arg) and exits with its value. */
pid_t bench_spawn(int (*fn)(void *), void *arg, int cpu);

/* Wait for @n (at most BENCH_MAX_CHILDREN) children; kill them all if
 * they take longer than @timeout_s. Returns the worst BENCH_EXIT_* among
 * them. */
int bench_reap(const pid_t *pids, int n, double timeout_s);

/* Short sleep for setup-phase waits (never inside a timed loop). */
void bench_nap(void);

/* Spin-wait hint for the benchmark's own busy loops. */
static inline void bench_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Read all @n bytes (XOR of their 64-bit words): what a consumer of a
 * zero-copy message does at the least, so that its figures include moving
 * the bytes to its CPU as a copying receive does. */
static inline uint64_t bench_touch(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t x = 0, w;

	for (size_t i = 0; i + sizeof w <= n; i += sizeof w) {
		__builtin_memcpy(&w, b + i, sizeof w);
		x ^= w;
	}
	return x;
}

/* Median, minimum and maximum of @n values (reorders @v). */
struct bench_spread {
	double med, min, max;
};
void bench_spread_of(double *v, int n, struct bench_spread *s);

/* Nearest-rank percentile @p (0..100) of @n sorted values. */
uint64_t bench_pct(const uint64_t *sorted, size_t n, double p);
void bench_sort_u64(uint64_t *v, size_t n);

/* Heap allocations made by this process so far (malloc, calloc, realloc,
 * memalign family), counted by the interposer in bench.c. */
uint64_t bench_allocs(void);

/* Options shared by the programs. Lists are comma-separated. */
struct bench_opts {
	const char *transports; /* NULL = every transport compiled in */
	const char *sizes;      /* NULL = the program's default list */
	int runs;               /* measured runs per configuration (>= 1) */
	int warmup;             /* one discarded run first */
	double target_s;        /* wanted duration of one run */
	uint64_t msgs;          /* fixed count (0 = adapt to target_s) */
	uint32_t slots;         /* ring depth (0 = derived from the size) */
	int cpu[2];             /* producer / consumer (pinger / ponger);
	                           -1 = not pinned (the starting mask) */
	int quick;
	int probe;       /* probe the machine before every run (--probe) */
	int occupancy;   /* sample the ring's fill from the consumer (-O) */
	const char *alt; /* another build of this program, for "alt:" names */
	int pcpu[BENCH_MAX_PCPUS]; /* --producer-cpus: producer k on */
	int npcpu;                 /* pcpu[k % npcpu]; 0 = on cpu[0] */
};
/* Parse argv; prints usage and exits on error or --help. */
void bench_parse(int argc, char **argv, struct bench_opts *o,
                 const char *usage_extra);

/* The machine's state: the cache-line round trip between CPUs @a and @b
 * (two processes bouncing one word, as the "cacheline" limit does), the
 * median over blocks of 64 round trips during @secs, in nanoseconds; 0 if
 * it could not run. On the shared 2-vCPU VMs this is bimodal (about 110 or
 * 440 ns from one minute to the next) and the streams' throughput follows
 * it, so every run is printed with the probe taken just before it. */
double bench_probe_ns(int a, int b, double secs);

/* What else the machine did during one run: bench_state_begin() just
 * before it, bench_state_end() just after. other_cpu is the CPU time used
 * by processes other than this program and its children (the other
 * engineers' compiles on a shared machine), steal_cpu the time the
 * hypervisor ran something else on our vCPUs, both in CPUs (0..ncpu) over
 * the run's wall time, from /proc/stat (10 ms ticks: about +-0.1 CPU on a
 * 0.15 s run) and getrusage. */
struct bench_state {
	int round;
	double probe_ns; /* the probe just before the run (0: none) */
	double other_cpu, steal_cpu;
	double t0, busy0, steal0, own0; /* the marks, seconds */
};
void bench_state_begin(struct bench_state *s);
void bench_state_end(struct bench_state *s);
/* " round=R probe_ns=P other_cpu=X steal_cpu=Y" for a bench=run line. */
void bench_state_print(FILE *f, const struct bench_state *s);

/* Run another build of this benchmark program (@o->alt) with @argv (NULL
 * terminated, argv[0] ignored) and copy the first "bench=" line it prints
 * into @line. Returns its BENCH_EXIT_* status. */
int bench_alt_run(const struct bench_opts *o, const char *const *argv,
                  char *line, size_t cap);

/* The value of "key=" in a "bench=" line, or @dflt. */
double bench_line_value(const char *line, const char *key, double dflt);

/* Iterate a comma-separated list: copies the next item into @item. */
int bench_next_item(const char **list, char *item, size_t cap);

/* A program's measurement of one (transport, size): its state of
 * @cfg_size bytes (zeroed before @init) and the steps bench_matrix()
 * drives. @init may run a discarded warm-up; @run adds one measured run;
 * @print writes the result line. */
struct bench_driver {
	size_t cfg_size;
	void (*init)(void *cfg, const char *transport, const char *size,
	             const struct bench_opts *o);
	/* One measured run, bracketed by bench_state_begin() (already
	 * called) and bench_state_end() right after the measurement; with
	 * o->probe, also print its "bench=run" line with
	 * bench_state_print(). */
	void (*run)(void *cfg, const struct bench_opts *o,
	            struct bench_state *st);
	void (*print)(void *cfg, const struct bench_opts *o);
};

/* For each size of o->sizes (or @default_sizes), every transport of
 * o->transports (at most 32), their runs interleaved: run 1 of each, then
 * run 2 of each in the reverse order, then forward again, ... On a shared
 * machine a slow spell then hits every transport alike instead of all runs
 * of one, which keeps the ratios between them honest; the limits run among
 * the transports, so a vCPU moved to another core shifts them alike too.
 * With o->probe, every run is preceded by a 20 ms bench_probe_ns() and the
 * matrix ends with one more ("bench=probe" line), so that each run has the
 * machine's state on both sides of it. A size is a number of bytes or
 * "mixLO-HI" (the driver's business). Returns 0, or 2 for a size below 8
 * (the sequence number) or no memory. */
int bench_matrix(const struct bench_driver *d, const struct bench_opts *o,
                 const char *default_sizes);

/* One "# env ..." comment line: CPU, kernel, compiler, build type. */
void bench_print_env(FILE *f, const char *prog, const struct bench_opts *o);

/* Ring depth used for a message size when --slots is not given: about
 * 256 KiB of version-1 slots (a stride of roundup(8 + size, 64)), at least
 * 16 and at most 4096; the same depth for every transport and format. */
uint32_t bench_default_slots(size_t size);

/* Bytes of shared memory a shmring of this geometry maps: the 4096-byte
 * header page and the slots, at the stride of the library's format
 * (version 2: roundup(8 + slot_size, 16); version 1: a multiple of 64). */
uint64_t bench_ring_bytes(uint32_t slot_size, uint32_t slot_count);

/* A mixed stream: "mixLO-HI" parses into @lo and @hi (returns 1), anything
 * else returns 0. bench_mix_len() is the length of message @seq of the
 * stream: drawn log-uniform from [lo, hi] by a fixed generator, so that
 * every transport and every build sends the same sequence. */
int bench_mix_parse(const char *size, size_t *lo, size_t *hi);
size_t bench_mix_len(size_t lo, size_t hi, uint64_t seq);

#endif /* SHMRING_BENCH_H */
