/* SPDX-License-Identifier: MIT */
/* bench.c -- the shared benchmark harness (see bench.h). */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmring.h"

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

/* The mask the program started with: bench_parse() saves it before any
 * pinning, and bench_pin(-1) puts it back. */
static cpu_set_t bench_start_mask;
static int bench_start_mask_saved;

static void bench_save_mask(void)
{
	if (!bench_start_mask_saved &&
	    sched_getaffinity(0, sizeof bench_start_mask, &bench_start_mask) ==
	            0)
		bench_start_mask_saved = 1;
}

int bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0) {
		if (bench_start_mask_saved)
			sched_setaffinity(0, sizeof bench_start_mask,
			                  &bench_start_mask);
		return 0;
	}
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
	int done[BENCH_MAX_CHILDREN] = {0};

	if (n > BENCH_MAX_CHILDREN)
		return BENCH_EXIT_ERR;

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
		/* the ones we killed say nothing about the run (a child
		 * that found the size n/a leaves its peers waiting) */
		if (killed && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL)
			continue;
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

/* ---- the machine's state ------------------------------------------------ */

#define PROBE_BLOCK  64   /* round trips timed together */
#define PROBE_BLOCKS 4096 /* at most: 64 x 4096 x 80 ns is 20 ms */

struct probe_page {
	_Alignas(128) _Atomic uint64_t word;
	char pad[120];
	_Alignas(128) _Atomic int ready;
	double block_ns[PROBE_BLOCKS];
};

static int bench_cmp_double(const void *a, const void *b);

static int probe_ponger(void *arg)
{
	struct probe_page *pg = arg;

	atomic_store(&pg->ready, 1);
	for (uint64_t v = 1;; v += 2) {
		uint64_t cur;
		while ((cur = atomic_load_explicit(
		                &pg->word, memory_order_acquire)) != v) {
			if (cur == UINT64_MAX)
				return BENCH_EXIT_OK;
			bench_relax();
		}
		atomic_store_explicit(&pg->word, v + 1, memory_order_release);
	}
}

double bench_probe_ns(int a, int b, double secs)
{
	static struct probe_page *pg;
	uint64_t v = 0, end;
	int nb = 0, st;
	double med;
	pid_t pid;

	if (!pg)
		pg = bench_shared(sizeof *pg);
	atomic_store(&pg->word, 0);
	atomic_store(&pg->ready, 0);
	pid = bench_spawn(probe_ponger, pg, b);
	if (bench_pin(a) != 0) {
		kill(pid, SIGKILL);
		bench_reap(&pid, 1, 5);
		return 0;
	}
	while (!atomic_load(&pg->ready))
		bench_relax();
	/* Blocks of PROBE_BLOCK round trips, each timed as a whole; a CPU
	 * shared with another busy process makes a round trip cost a time
	 * slice, so a block also ends at the deadline (checked every 8). */
	end = bench_now_ns() + (uint64_t)(secs * 1e9);
	for (uint64_t t0 = bench_now_ns(), t1 = t0;
	     nb < PROBE_BLOCKS && t1 < end;) {
		int i = 0;
		while (i < PROBE_BLOCK) {
			atomic_store_explicit(&pg->word, v + 1,
			                      memory_order_release);
			while (atomic_load_explicit(&pg->word,
			                            memory_order_acquire) !=
			       v + 2)
				bench_relax();
			v += 2;
			if (++i % 8 == 0 && (t1 = bench_now_ns()) >= end)
				break;
		}
		t1 = bench_now_ns();
		pg->block_ns[nb++] = (double)(t1 - t0) / i;
		t0 = t1;
	}
	atomic_store(&pg->word, UINT64_MAX);
	st = bench_reap(&pid, 1, 5);
	bench_pin(-1);
	if (st != BENCH_EXIT_OK || nb == 0)
		return 0;
	qsort(pg->block_ns, (size_t)nb, sizeof(double), bench_cmp_double);
	med = pg->block_ns[nb / 2];
	return med;
}

/* ---- what else ran during a run ------------------------------------------ */

static void bench_proc_stat(double *busy, double *steal)
{
	unsigned long long v[10] = {0};
	FILE *f = fopen("/proc/stat", "r");
	double hz = (double)sysconf(_SC_CLK_TCK);

	*busy = *steal = 0;
	if (!f)
		return;
	/* cpu user nice system idle iowait irq softirq steal guest gnice */
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	           &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		*busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
		*steal = (double)v[7] / hz;
	}
	fclose(f);
}

static double bench_own_cpu(void)
{
	struct rusage a, b;

	getrusage(RUSAGE_SELF, &a);
	getrusage(RUSAGE_CHILDREN, &b);
	return (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec +
	                b.ru_utime.tv_sec + b.ru_stime.tv_sec) +
	       (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec +
	                b.ru_utime.tv_usec + b.ru_stime.tv_usec) /
	               1e6;
}

void bench_state_begin(struct bench_state *s)
{
	s->t0 = (double)bench_now_ns() / 1e9;
	bench_proc_stat(&s->busy0, &s->steal0);
	s->own0 = bench_own_cpu();
	s->other_cpu = s->steal_cpu = 0;
}

void bench_state_end(struct bench_state *s)
{
	double busy, steal, own = bench_own_cpu();
	double wall = (double)bench_now_ns() / 1e9 - s->t0;

	bench_proc_stat(&busy, &steal);
	if (wall <= 0)
		return;
	s->other_cpu = (busy - s->busy0 - (own - s->own0)) / wall;
	s->other_cpu = s->other_cpu < 0 ? 0 : s->other_cpu;
	s->steal_cpu = (steal - s->steal0) / wall;
}

void bench_state_print(FILE *f, const struct bench_state *s)
{
	fprintf(f, " round=%d probe_ns=%.1f other_cpu=%.2f steal_cpu=%.2f",
	        s->round, s->probe_ns, s->other_cpu, s->steal_cpu);
}

/* ---- another build of the same program ---------------------------------- */

int bench_alt_run(const struct bench_opts *o, const char *const *argv,
                  char *line, size_t cap)
{
	static char out[1 << 16];
	size_t have = 0;
	int fd[2], ws;
	pid_t pid;
	char *l;

	line[0] = '\0';
	if (!o->alt || pipe(fd) != 0)
		return BENCH_EXIT_ERR;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return BENCH_EXIT_ERR;
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execv(o->alt, (char *const *)argv);
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		ssize_t n = read(fd[0], out + have, sizeof out - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		if (have == sizeof out - 1)
			break;
	}
	out[have] = '\0';
	close(fd[0]);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	for (l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, "bench=", 6) == 0) {
			size_t n = strcspn(l, "\n");
			n = n < cap - 1 ? n : cap - 1;
			memcpy(line, l, n);
			line[n] = '\0';
			break;
		}
	if (!WIFEXITED(ws))
		return BENCH_EXIT_ERR;
	if (WEXITSTATUS(ws) != 0 || !line[0])
		return WEXITSTATUS(ws) ? WEXITSTATUS(ws) : BENCH_EXIT_ERR;
	if (strstr(line, "status=n/a"))
		return BENCH_EXIT_UNSUP;
	return strstr(line, "status=ok") ? BENCH_EXIT_OK : BENCH_EXIT_ERR;
}

double bench_line_value(const char *line, const char *key, double dflt)
{
	size_t k = strlen(key);

	for (const char *p = line; (p = strstr(p, key)) != NULL; p += k)
		if ((p == line || p[-1] == ' ') && p[k] == '=')
			return strtod(p + k + 1, NULL);
	return dflt;
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
	        "  -t, --transports LIST  comma-separated (default: all "
	        "built)\n"
	        "  -s, --sizes LIST       message sizes in bytes\n"
	        "  -r, --runs N           measured runs per configuration (5)\n"
	        "  -T, --time SECONDS     target duration of one run\n"
	        "  -n, --msgs N           fixed message count (no adaptation)\n"
	        "  -S, --slots N          ring depth (default: ~256 KiB)\n"
	        "  -c, --cpus A,B         CPUs of the two processes (0,1)\n"
	        "  -p, --producer-cpus L  (throughput, NAME/P) CPUs of the\n"
	        "                         producers in turn (default: all on\n"
	        "                         A); -1 = not pinned\n"
	        "  -W, --no-warmup        no discarded warm-up run\n"
	        "  -P, --probe            probe the machine (20 ms cache-line\n"
	        "                         round trip) before every run and\n"
	        "                         print a bench=run line per run\n"
	        "  -A, --alt PATH         another build of this program: runs\n"
	        "                         transports named alt:NAME\n"
	        "  -O, --occupancy        (throughput, diagnosis) the "
	        "consumer\n"
	        "                         samples the ring's head - tail\n"
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
	        {"producer-cpus", required_argument, NULL, 'p'},
	        {"no-warmup", no_argument, NULL, 'W'},
	        {"probe", no_argument, NULL, 'P'},
	        {"alt", required_argument, NULL, 'A'},
	        {"occupancy", no_argument, NULL, 'O'},
	        {"quick", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0}};
	int c, runs = 0;
	double t = 0;

	bench_save_mask();
	*o = (struct bench_opts){.warmup = 1, .cpu = {0, 1}};
	while ((c = getopt_long(argc, argv, "t:s:r:T:n:S:c:p:WPA:Oqh", lo,
	                        NULL)) != -1) {
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
		case 'p': {
			const char *l = optarg;
			char item[16];
			o->npcpu = 0;
			while (o->npcpu < BENCH_MAX_PCPUS &&
			       bench_next_item(&l, item, sizeof item))
				o->pcpu[o->npcpu++] = atoi(item);
			break;
		}
		case 'W':
			o->warmup = 0;
			break;
		case 'P':
			o->probe = 1;
			break;
		case 'A':
			o->alt = optarg;
			break;
		case 'O':
			o->occupancy = 1;
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

/* The probe's two CPUs: the run's pair when they differ, else 0 and 1. */
static void bench_probe_cpus(const struct bench_opts *o, int *a, int *b)
{
	*a = o->cpu[0] >= 0 ? o->cpu[0] : 0;
	*b = o->cpu[1] >= 0 && o->cpu[1] != *a ? o->cpu[1] : *a == 0 ? 1 : 0;
}

int bench_matrix(const struct bench_driver *d, const struct bench_opts *o,
                 const char *default_sizes)
{
	const char *sl = o->sizes ? o->sizes : default_sizes, *tl;
	char sz[32], tname[64];
	uint8_t *cfg = calloc(BENCH_MAX_TRANSPORTS, d->cfg_size);
	int nt, pa, pb;

	if (!cfg)
		return 2;
	bench_probe_cpus(o, &pa, &pb);
	while (bench_next_item(&sl, sz, sizeof sz)) {
		size_t lo, hi;

		if (!bench_mix_parse(sz, &lo, &hi))
			lo = strtoul(sz, NULL, 10);
		if (lo < 8) {
			fprintf(stderr, "size %s < 8 (the sequence number)\n",
			        sz);
			free(cfg);
			return 2;
		}
		memset(cfg, 0, BENCH_MAX_TRANSPORTS * d->cfg_size);
		tl = o->transports;
		nt = 0;
		while (nt < BENCH_MAX_TRANSPORTS &&
		       bench_next_item(&tl, tname, sizeof tname))
			d->init(cfg + (size_t)nt++ * d->cfg_size, tname, sz, o);
		for (int r = 0; r < o->runs; r++)
			for (int k = 0; k < nt; k++) {
				/* odd rounds backwards: no transport always
				 * follows the same one */
				int i = r % 2 ? nt - 1 - k : k;
				struct bench_state st = {.round = r};
				if (o->probe)
					st.probe_ns =
					        bench_probe_ns(pa, pb, 0.02);
				bench_state_begin(&st);
				d->run(cfg + (size_t)i * d->cfg_size, o, &st);
			}
		if (o->probe) {
			printf("bench=probe size=%s probe_ns=%.1f\n", sz,
			       bench_probe_ns(pa, pb, 0.02));
			fflush(stdout);
		}
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
	        "buildtype=%s runs=%d target_s=%g cpus=%d,%d shmring=%d.%d.%d "
	        "alt=%s\n",
	        prog, model, sysconf(_SC_NPROCESSORS_ONLN), u.release, BENCH_CC,
	        BENCH_BUILDTYPE, o->runs, o->target_s, o->cpu[0], o->cpu[1],
	        SHMRING_VERSION_MAJOR, SHMRING_VERSION_MINOR,
	        SHMRING_VERSION_PATCH, o->alt ? o->alt : "-");
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

uint64_t bench_ring_bytes(uint32_t slot_size, uint32_t slot_count)
{
#ifdef SHMRING_RECORD_HEADER /* format version 2 */
	uint64_t stride = (8u + (uint64_t)slot_size + 15) & ~(uint64_t)15;
#else
	uint64_t stride = (8u + (uint64_t)slot_size + 63) & ~(uint64_t)63;
#endif
	return 4096 + stride * slot_count;
}

int bench_mix_parse(const char *size, size_t *lo, size_t *hi)
{
	unsigned long a, b;

	if (sscanf(size, "mix%lu-%lu", &a, &b) != 2 || a < 1 || b < a)
		return 0;
	*lo = a;
	*hi = b;
	return 1;
}

/* The stream repeats every BENCH_MIX_N messages: a table drawn once per
 * (lo, hi) from splitmix64, so both sides of a run and every build see the
 * same lengths without computing a logarithm per message. */
#define BENCH_MIX_N 4096

size_t bench_mix_len(size_t lo, size_t hi, uint64_t seq)
{
	static uint32_t tab[BENCH_MIX_N];
	static size_t tlo, thi;

	if (tlo != lo || thi != hi) {
		uint64_t x = 0x5eed;
		for (int i = 0; i < BENCH_MIX_N; i++) {
			uint64_t z = (x += UINT64_C(0x9e3779b97f4a7c15));
			double u, v;
			z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
			z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
			z ^= z >> 31;
			u = (double)(z >> 11) / 9007199254740992.0; /* [0, 1) */
			v = (double)lo * exp(u * log((double)hi / (double)lo));
			tab[i] = (uint32_t)(v + 0.5);
			tab[i] = tab[i] < lo   ? (uint32_t)lo
			         : tab[i] > hi ? (uint32_t)hi
			                       : tab[i];
		}
		tlo = lo;
		thi = hi;
	}
	return tab[seq % BENCH_MIX_N];
}
