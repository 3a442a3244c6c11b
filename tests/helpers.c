/* Description: names, pairs, raw segments, child processes. */
/* SPDX-License-Identifier: MIT */
#ifndef TEST_STANDALONE
#include <criterion/criterion.h>
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#ifdef TEST_STANDALONE
void sa_assert_(const char *file, int line, int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	fprintf(stderr, "%s:%d: assertion failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
#endif

/* ---- names and rings ---------------------------------------------------- */

void ring_name(char *buf)
{
	static unsigned counter;

	snprintf(buf, TEST_NAME_LEN, "srt-%ld-%u", (long)getpid(), counter++);
}

void seg_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "/dev/shm/shmring.%s", name);
}

void pair_open_or_fail(struct pair *p, uint32_t slot_size, uint32_t count)
{
	shmring_config cfg = {.slot_size = slot_size,
	                      .slot_count = count,
	                      .max_msg = slot_size};

	pair_open_cfg_or_fail(p, &cfg);
}

void pair_open_cfg_or_fail(struct pair *p, const shmring_config *cfg)
{
	int rc;

	memset(p, 0, sizeof *p);
	ring_name(p->name);
	rc = shmring_create(p->name, cfg, SHMRING_PRODUCER, &p->prod);
	cr_assert_eq(rc, SHMRING_OK, "create %s: %s", p->name,
	             shmring_strerror(rc));
	rc = shmring_open(p->name, SHMRING_CONSUMER, &p->cons);
	cr_assert_eq(rc, SHMRING_OK, "open %s: %s", p->name,
	             shmring_strerror(rc));
}

void pair_close(struct pair *p)
{
	shmring_close(p->prod);
	shmring_close(p->cons);
	p->prod = NULL;
	p->cons = NULL;
	if (p->name[0])
		shmring_unlink(p->name);
}

void ring_make_idle_or_fail(const char *name, uint32_t slot_size,
                            uint32_t count)
{
	shmring_config cfg = {.slot_size = slot_size,
	                      .slot_count = count,
	                      .max_msg = slot_size};
	shmring *r = NULL;
	int rc = shmring_create(name, &cfg, SHMRING_PRODUCER, &r);

	cr_assert_eq(rc, SHMRING_OK, "create %s: %s", name,
	             shmring_strerror(rc));
	shmring_close(r);
}

/* ---- raw view of a segment ---------------------------------------------- */

int rawseg_map(struct rawseg *s, const char *name, int writable)
{
	char path[TEST_NAME_LEN + 32];
	struct stat st;
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);

	memset(s, 0, sizeof *s);
	seg_path(path, sizeof path, name);
	s->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	if (fstat(s->fd, &st) != 0) {
		int e = errno;
		close(s->fd);
		return -e;
	}
	s->size = (size_t)st.st_size;
	if (s->size) {
		void *p = mmap(NULL, s->size, prot, MAP_SHARED, s->fd, 0);
		if (p == MAP_FAILED) {
			int e = errno;
			close(s->fd);
			return -e;
		}
		s->base = p;
	}
	return 0;
}

void rawseg_unmap(struct rawseg *s)
{
	if (s->base)
		munmap(s->base, s->size);
	if (s->fd > 0)
		close(s->fd);
	memset(s, 0, sizeof *s);
}

uint32_t rd32(const uint8_t *base, size_t off)
{
	const uint8_t *b = base + off;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

uint64_t rd64(const uint8_t *base, size_t off)
{
	return (uint64_t)rd32(base, off) | (uint64_t)rd32(base, off + 4) << 32;
}

void wr32(uint8_t *base, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		base[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

void wr64(uint8_t *base, size_t off, uint64_t v)
{
	wr32(base, off, (uint32_t)v);
	wr32(base, off + 4, (uint32_t)(v >> 32));
}

/* ---- time --------------------------------------------------------------- */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- messages ----------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

size_t msg_size(uint64_t seq, size_t max)
{
	if (seq % 61 == 0)
		return 0;
	if (seq % 53 == 0)
		return max;
	return (size_t)(mix64(seq) % (max + 1));
}

void msg_fill(void *buf, size_t len, uint64_t seq)
{
	uint8_t *b = buf;
	uint64_t x = mix64(seq ^ UINT64_C(0x5eed));

	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			x = mix64(x + i);
		b[i] = (uint8_t)(x >> (8 * (i % 8)));
	}
	if (len >= 12) {
		wr64(b, 0, seq);
		wr32(b, 8, fnv1a(b + 12, len - 12));
	}
}

int msg_check(const void *buf, size_t len, uint64_t seq, size_t max)
{
	return len == msg_size(seq, max) && msg_is(buf, len, seq);
}

int msg_is(const void *buf, size_t len, uint64_t seq)
{
	uint8_t expect[256];
	const uint8_t *b = buf;

	if (len >= 12)
		return rd64(b, 0) == seq &&
		       rd32(b, 8) == fnv1a(b + 12, len - 12);
	msg_fill(expect, len, seq);
	return memcmp(expect, b, len) == 0;
}

int msgs_sendv(shmring *r, uint64_t seq, size_t k, size_t max, size_t *sent)
{
	uint8_t *buf = malloc(k * max + 1);
	shmring_msg *v = malloc(k * sizeof *v + 1);
	int rc = SHMRING_ENOMEM;

	*sent = 0;
	if (buf && v) {
		for (size_t i = 0; i < k; i++) {
			v[i].len = msg_size(seq + i, max);
			v[i].data = buf + i * max;
			msg_fill(buf + i * max, v[i].len, seq + i);
		}
		rc = shmring_sendv(r, v, k, sent, SHMRING_FOREVER);
	}
	free(buf);
	free(v);
	return rc;
}

int msgs_recvv(shmring *r, uint64_t seq, size_t k, size_t max, size_t *got,
               uint64_t *bad)
{
	uint8_t *buf = malloc(k * max + 1);
	shmring_buf *v = malloc(k * sizeof *v + 1);
	int rc = SHMRING_ENOMEM;

	*got = 0;
	*bad = 0;
	if (buf && v) {
		for (size_t i = 0; i < k; i++)
			v[i] = (shmring_buf){buf + i * max, max};
		rc = shmring_recvv(r, v, k, got, SHMRING_FOREVER);
		for (size_t i = 0; i < *got && !*bad; i++)
			if (!msg_check(buf + i * max, v[i].len, seq + i, max))
				*bad = i + 1;
	}
	free(buf);
	free(v);
	return rc;
}

int msgs_claimv(shmring *r, uint64_t seq, size_t k, size_t max, uint64_t x,
                size_t *sent)
{
	shmring_buf b[MSGS_BATCH_MAX];
	size_t lens[MSGS_BATCH_MAX], got;
	int rc;

	*sent = 0;
	if (k > MSGS_BATCH_MAX)
		k = MSGS_BATCH_MAX;
	for (size_t i = 0; i < k; i++) {
		lens[i] = msg_size(seq + i, max);
		b[i] = (shmring_buf){NULL, (x >> i) & 1 ? max : lens[i]};
	}
	rc = shmring_claimv(r, b, k, &got, SHMRING_FOREVER);
	if (rc != SHMRING_OK)
		return rc;
	for (size_t i = 0; i < got; i++)
		msg_fill(b[i].data, lens[i], seq + i);
	rc = shmring_commitv(r, lens, got);
	if (rc == SHMRING_OK)
		*sent = got;
	return rc;
}

int msgs_peekv(shmring *r, uint64_t seq, size_t k, size_t max, uint64_t x,
               size_t *got, uint64_t *bad)
{
	shmring_msg a[MSGS_BATCH_MAX], b[MSGS_BATCH_MAX];
	size_t n, again, first;
	int rc;

	*got = 0;
	*bad = 0;
	if (k > MSGS_BATCH_MAX)
		k = MSGS_BATCH_MAX;
	rc = shmring_peekv(r, a, k, &n, SHMRING_FOREVER);
	if (rc != SHMRING_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!msg_check(a[i].data, a[i].len, seq + i, max)) {
			*bad = i + 1;
			return SHMRING_OK;
		}
	first = 1 + (size_t)(x % n);
	rc = shmring_releasev(r, first);
	if (rc == SHMRING_OK && first < n) {
		rc = shmring_peekv(r, b, n - first, &again, SHMRING_FOREVER);
		for (size_t i = 0; rc == SHMRING_OK && i < again; i++)
			if (b[i].data != a[first + i].data) {
				*bad = first + i + 1;
				return SHMRING_OK;
			}
		if (rc == SHMRING_OK)
			rc = shmring_releasev(r, n - first);
	}
	if (rc == SHMRING_OK)
		*got = n;
	return rc;
}

/* ---- processes ---------------------------------------------------------- */

void *shared_alloc_or_fail(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED, "mmap shared: %s", strerror(errno));
	return p;
}

void shared_free(void *p, size_t n)
{
	if (p)
		munmap(p, n);
}

pid_t child_run(int (*fn)(void *), void *arg)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* Die with the test process, e.g. when Criterion's timeout kills it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	_exit(fn(arg));
}

int child_reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

void child_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	child_reap(pid);
}

int flag_wait(_Atomic int *f, int want, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000u;

	while (atomic_load(f) != want) {
		if (now_ns() > end)
			return 0;
		sleep_us(100);
	}
	return 1;
}

char proc_state(pid_t pid)
{
	char path[64], buf[512];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}
