/* SPDX-License-Identifier: MIT */
/* bench.c -- the shared benchmark harness (see bench.h). */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_CC
#define BENCH_CC "unknown"
#endif
#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif

/* ---- malloc counter ------------------------------------------------------
 * The benchmark executables define the allocator entry points and forward
 * them to glibc's, counting each call. Symbols of the executable take
 * precedence over libc's for every library in the process (the static
 * shmring build, libzmq, libc itself), so a hidden allocation on a send or
 * receive path shows up as allocs_per_msg > 0. Relaxed atomic: libzmq
 * allocates from its I/O thread too. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static _Atomic uint64_t bench_nallocs;

static inline void bench_count_alloc(void)
{
	atomic_fetch_add_explicit(&bench_nallocs, 1, memory_order_relaxed);
}

void *malloc(size_t n)
{
	bench_count_alloc();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	bench_count_alloc();
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	bench_count_alloc();
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

void *memalign(size_t align, size_t n)
{
	bench_count_alloc();
	return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	bench_count_alloc();
	return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	bench_count_alloc();
	p = __libc_memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

uint64_t bench_allocs(void)
{
	return atomic_load_explicit(&bench_nallocs, memory_order_relaxed);
}

/* ---- clock, CPUs, processes -------------------------------------------- */

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0) {
		fprintf(stderr, "bench: cannot pin to CPU %d: %s\n", cpu,
		        strerror(errno));
		return -1;
	}
	return 0;
}

void *bench_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("bench: mmap");
		exit(1);
	}
	return p;
}

void bench_unshare(void *p, size_t size)
{
	munmap(p, size);
}

pid_t bench_spawn(int (*fn)(void *), void *arg, int cpu)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("bench: fork");
		exit(1);
	}
	if (pid == 0) {
		if (bench_pin(cpu) != 0)
			_exit(BENCH_EXIT_ERR);
		_exit(fn(arg));
	}
	return pid;
}

static int bench_status_rank(int st)
{
	/* FAILED beats n/a beats OK. */
	switch (st) {
	case BENCH_EXIT_OK:
		return 0;
	case BENCH_EXIT_UNSUP:
		return 1;
	case BENCH_EXIT_SEQ:
		return 3;
	default:
		return 2;
	}
}

static volatile sig_atomic_t bench_alarm_fired;

static void bench_on_alarm(int sig)
{
	(void)sig;
	bench_alarm_fired = 1;
}

/* Blocking waitpid with SIGALRM as the watchdog, so that the parent makes
 * no system call while a run goes on (strace -f counts stay the run's). */
int bench_reap(const pid_t *pids, int n, double timeout_s)
{
	struct sigaction sa = {.sa_handler = bench_on_alarm}; /* no SA_RESTART */
	int left = n, worst = BENCH_EXIT_OK, killed = 0;
	int done[8] = {0};

	bench_alarm_fired = 0;
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)timeout_s + 1);
	while (left > 0) {
		int ws, st, i;
		pid_t w = waitpid(-1, &ws, 0);

		if (w < 0) {
			if (errno != EINTR)
				break;
			if (bench_alarm_fired && !killed) {
				fprintf(stderr, "bench: run timed out; killing it\n");
				worst = BENCH_EXIT_ERR;
				goto kill_rest;
			}
			continue;
		}
		for (i = 0; i < n && pids[i] != w; i++)
			;
		if (i == n || done[i])
			continue;
		done[i] = 1;
		left--;
		st = WIFEXITED(ws) ? WEXITSTATUS(ws) : BENCH_EXIT_ERR;
		if (WIFSIGNALED(ws) && !killed)
			fprintf(stderr, "bench: child %d died: %s\n", (int)w,
			        strsignal(WTERMSIG(ws)));
		if (bench_status_rank(st) > bench_status_rank(worst))
			worst = st;
		if (st == BENCH_EXIT_OK || killed)
			continue;
kill_rest:	/* one side failed or hung: the other may wait for ever */
		for (int j = 0; j < n; j++)
			if (!done[j])
				kill(pids[j], SIGKILL);
		killed = 1;
	}
	alarm(0);
	return worst;
}

void bench_nap(void)
{
	struct timespec ts = {0, 200000}; /* 0.2 ms */

	nanosleep(&ts, NULL);
}

/* ---- statistics -------------------------------------------------------- */

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_spread_of(double *v, int n, struct bench_spread *s)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void bench_sort_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, bench_cmp_u64);
}

uint64_t bench_pct(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

/* ---- options ----------------------------------------------------------- */

static void bench_usage(const char *prog, const char *extra, int code)
{
	fprintf(code ? stderr : stdout,
	        "usage: %s [options]\n"
	        "  -t, --transports LIST  comma-separated (default: all built)\n"
	        "  -s, --sizes LIST       message sizes in bytes\n"
	        "  -r, --runs N           measured runs per configuration (5)\n"
	        "  -T, --time SECONDS     target duration of one run\n"
	        "  -n, --msgs N           fixed message count (no adaptation)\n"
	        "  -S, --slots N          ring depth (default: ~256 KiB)\n"
	        "  -c, --cpus A,B         CPUs of the two processes (0,1)\n"
	        "  -W, --no-warmup        no discarded warm-up run\n"
	        "  -q, --quick            3 runs, short runs\n%s",
	        prog, extra ? extra : "");
	exit(code);
}

void bench_parse(int argc, char **argv, struct bench_opts *o,
                 const char *usage_extra)
{
	static const struct option lo[] = {
	        {"transports", required_argument, NULL, 't'},
	        {"sizes", required_argument, NULL, 's'},
	        {"runs", required_argument, NULL, 'r'},
	        {"time", required_argument, NULL, 'T'},
	        {"msgs", required_argument, NULL, 'n'},
	        {"slots", required_argument, NULL, 'S'},
	        {"cpus", required_argument, NULL, 'c'},
	        {"no-warmup", no_argument, NULL, 'W'},
	        {"quick", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0}};
	int c, runs = 0;
	double t = 0;

	*o = (struct bench_opts){.warmup = 1, .cpu = {0, 1}};
	while ((c = getopt_long(argc, argv, "t:s:r:T:n:S:c:Wqh", lo, NULL)) !=
	       -1) {
		switch (c) {
		case 't':
			o->transports = optarg;
			break;
		case 's':
			o->sizes = optarg;
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'T':
			t = atof(optarg);
			break;
		case 'n':
			o->msgs = strtoull(optarg, NULL, 10);
			break;
		case 'S':
			o->slots = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &o->cpu[0], &o->cpu[1]) !=
			    2)
				bench_usage(argv[0], usage_extra, 2);
			break;
		case 'W':
			o->warmup = 0;
			break;
		case 'q':
			o->quick = 1;
			break;
		case 'h':
			bench_usage(argv[0], usage_extra, 0);
			break;
		default:
			bench_usage(argv[0], usage_extra, 2);
		}
	}
	if (optind != argc)
		bench_usage(argv[0], usage_extra, 2);
	o->runs = runs > 0 ? runs : o->quick ? 3 : 5;
	if (o->runs > BENCH_MAX_RUNS)
		o->runs = BENCH_MAX_RUNS;
	o->target_s = t > 0 ? t : o->quick ? 0.08 : 0.3;
}

int bench_next_item(const char **list, char *item, size_t cap)
{
	const char *p = *list, *e;
	size_t n;

	if (!p || !*p)
		return 0;
	e = strchr(p, ',');
	n = e ? (size_t)(e - p) : strlen(p);
	if (n >= cap)
		n = cap - 1;
	memcpy(item, p, n);
	item[n] = '\0';
	*list = e ? e + 1 : p + strlen(p);
	return 1;
}

#define BENCH_MAX_TRANSPORTS 32

int bench_matrix(const struct bench_driver *d, const struct bench_opts *o,
                 const char *default_sizes)
{
	const char *sl = o->sizes ? o->sizes : default_sizes, *tl;
	char sz[32], tname[64];
	uint8_t *cfg = calloc(BENCH_MAX_TRANSPORTS, d->cfg_size);
	int nt;

	if (!cfg)
		return 2;
	while (bench_next_item(&sl, sz, sizeof sz)) {
		size_t size = strtoul(sz, NULL, 10);

		if (size < 8) {
			fprintf(stderr, "size %zu < 8 (the sequence number)\n",
			        size);
			free(cfg);
			return 2;
		}
		memset(cfg, 0, BENCH_MAX_TRANSPORTS * d->cfg_size);
		tl = o->transports;
		nt = 0;
		while (nt < BENCH_MAX_TRANSPORTS &&
		       bench_next_item(&tl, tname, sizeof tname))
			d->init(cfg + (size_t)nt++ * d->cfg_size, tname, size,
			        o);
		for (int r = 0; r < o->runs; r++)
			for (int i = 0; i < nt; i++)
				d->run(cfg + (size_t)i * d->cfg_size, o);
		for (int i = 0; i < nt; i++)
			d->print(cfg + (size_t)i * d->cfg_size, o);
	}
	free(cfg);
	return 0;
}

static void bench_cpu_model(char *out, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *v = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && v) {
			v += 2;
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, cap, "%s", v);
			break;
		}
	}
	fclose(f);
}

void bench_print_env(FILE *f, const char *prog, const struct bench_opts *o)
{
	struct utsname u;
	char model[128];

	uname(&u);
	bench_cpu_model(model, sizeof model);
	fprintf(f,
	        "# env prog=%s cpu=\"%s\" ncpu=%ld kernel=%s cc=\"%s\" "
	        "buildtype=%s runs=%d target_s=%g cpus=%d,%d\n",
	        prog, model, sysconf(_SC_NPROCESSORS_ONLN), u.release, BENCH_CC,
	        BENCH_BUILDTYPE, o->runs, o->target_s, o->cpu[0], o->cpu[1]);
	fflush(f);
}

uint32_t bench_default_slots(size_t size)
{
	size_t stride = (8 + size + 63) & ~(size_t)63;
	uint32_t n = 16;

	while (n < 4096 && (size_t)n * 2 * stride <= 256 * 1024)
		n *= 2;
	return n;
}
