/* SPDX-License-Identifier: MIT */
/*
 * demo.c -- the main job: a producer process streams to a consumer process
 * through a shmring for a few seconds, printing live figures, then the same
 * stream runs over a pipe for comparison.
 *
 *   shmring-demo [--seconds N] [--size BYTES] [--slots N] [--slot-size B]
 *
 * The ring has the library's default geometry (16384 slots of 56 bytes,
 * 1 MiB, messages up to 512 KiB - 8) unless --slots / --slot-size change it: a
 * message larger than a slot spans several, so any --size up to the
 * ring's max_msg works.
 *
 * Every message carries a sequence number that the consumer checks; the
 * demo fails (exit 1) on any loss, duplicate or reorder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shmring.h>

struct opts {
	double seconds;
	size_t size;
	uint32_t slots;     /* 0 = the library default */
	uint32_t slot_size; /* 0 = the library default */
};

struct result {
	uint64_t msgs;
	double secs;
	int ok;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.seconds = 3.0, .size = 64};
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--seconds") && v)
			o->seconds = atof(v);
		else if (!strcmp(argv[i], "--size") && v)
			o->size = (size_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "--slots") && v)
			o->slots = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "--slot-size") && v)
			o->slot_size = (uint32_t)strtoul(v, NULL, 0);
		else {
			fprintf(stderr,
			        "usage: %s [--seconds N] [--size BYTES] "
			        "[--slots N] [--slot-size BYTES]\n",
			        argv[0]);
			return -1;
		}
		i++;
	}
	if (o->size < sizeof(uint64_t) || o->seconds <= 0) {
		fprintf(stderr, "--size must be >= 8 and --seconds > 0\n");
		return -1;
	}
	return 0;
}

/* Consumer side of the shmring stream, in the child. Exit 0 if every
 * message arrived once and in order; writes its count to @fd. */
static int shm_consume(const char *name, size_t size, int fd)
{
	shmring *r = NULL;
	uint64_t expect = 0, seq;
	const void *p;
	size_t len;
	int rc;

	while ((rc = shmring_open(name, SHMRING_CONSUMER, &r)) ==
	       SHMRING_ENOENT)
		usleep(1000);
	if (rc != SHMRING_OK) {
		fprintf(stderr, "consumer: open: %s\n", shmring_strerror(rc));
		return 1;
	}
	while ((rc = shmring_peek(r, &p, &len, SHMRING_FOREVER)) ==
	       SHMRING_OK) {
		memcpy(&seq, p, sizeof seq);
		if (seq != expect || len != size) {
			fprintf(stderr,
			        "consumer: got #%" PRIu64 " (%zu B), "
			        "expected #%" PRIu64 "\n",
			        seq, len, expect);
			return 1;
		}
		expect++;
		shmring_release(r);
	}
	shmring_close(r);
	if (write(fd, &expect, sizeof expect) != (ssize_t)sizeof expect)
		return 1;
	return rc == SHMRING_ECLOSED ? 0 : 1;
}

static void progress(const char *what, uint64_t n, double t0, double *last,
                     uint64_t *last_n, size_t size)
{
	double t = now_s();
	double rate = (double)(n - *last_n) / (t - *last);

	printf("  %-8s %5.1f s  %12" PRIu64
	       " msgs  %8.2f M msgs/s  %9.1f MB/s\n",
	       what, t - t0, n, rate / 1e6, rate * (double)size / 1e6);
	fflush(stdout);
	*last = t;
	*last_n = n;
}

/* Reap the consumer and read how many messages it verified. */
static int reap(pid_t pid, int fd, struct result *res)
{
	uint64_t got = 0;
	int st = 0;

	if (read(fd, &got, sizeof got) != (ssize_t)sizeof got)
		got = UINT64_MAX;
	close(fd);
	waitpid(pid, &st, 0);
	res->ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && got == res->msgs;
	return res->ok ? 0 : -1;
}

static int run_shmring(const struct opts *o, struct result *res)
{
	char name[64], *msg = calloc(1, o->size);
	shmring_config cfg = {.slot_size = o->slot_size,
	                      .slot_count = o->slots};
	/* the clock is read every mask + 1 messages: about every 4 MB */
	uint64_t mask = o->size >= 65536 ? 0 : o->size >= 1024 ? 0xfff : 0xffff;
	double t0, last, end;
	uint64_t n = 0, last_n = 0;
	shmring *r;
	int pfd[2], rc;
	pid_t pid;

	snprintf(name, sizeof name, "demo-%ld", (long)getpid());
	rc = shmring_create(name, &cfg, SHMRING_PRODUCER, &r);
	if (rc != SHMRING_OK || !msg || pipe(pfd) != 0) {
		fprintf(stderr, "create: %s\n", shmring_strerror(rc));
		return -1;
	}
	if (o->size > shmring_max_msg(r)) {
		fprintf(stderr,
		        "--size %zu is above this ring's max_msg (%zu): give "
		        "more --slots or a larger --slot-size\n",
		        o->size, shmring_max_msg(r));
		shmring_close(r);
		shmring_unlink(name);
		return -1;
	}
	printf("ring: %u slots of %u bytes, max_msg %zu; each %zu-byte "
	       "message is one record\n",
	       o->slots ? o->slots : SHMRING_DEFAULT_SLOT_COUNT,
	       o->slot_size ? o->slot_size : SHMRING_DEFAULT_SLOT_SIZE,
	       shmring_max_msg(r), o->size);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		_exit(shm_consume(name, o->size, pfd[1]));
	}
	close(pfd[1]);
	t0 = last = now_s();
	end = t0 + o->seconds;
	for (;;) {
		memcpy(msg, &n, sizeof n);
		rc = shmring_send(r, msg, o->size, SHMRING_FOREVER);
		if (rc != SHMRING_OK)
			break;
		if ((++n & mask) == 0 && now_s() - last >= 1.0) {
			progress("shmring", n, t0, &last, &last_n, o->size);
			if (last >= end)
				break;
		}
	}
	shmring_close(r); /* end of stream: the consumer drains, then exits */
	res->msgs = n;
	res->secs = now_s() - t0;
	shmring_unlink(name);
	free(msg);
	if (rc != SHMRING_OK)
		fprintf(stderr, "send: %s\n", shmring_strerror(rc));
	return reap(pid, pfd[0], res) == 0 && rc == SHMRING_OK ? 0 : -1;
}

/* The same stream over a pipe: one write and one read per message, as a
 * user of a pipe would frame fixed-size messages. */
static int pipe_consume(int in, size_t size, int fd)
{
	char *buf = malloc(size);
	uint64_t expect = 0, seq;
	size_t have = 0;
	ssize_t k;

	while (buf && (k = read(in, buf + have, size - have)) > 0) {
		have += (size_t)k;
		if (have < size)
			continue;
		memcpy(&seq, buf, sizeof seq);
		if (seq != expect++)
			return 1;
		have = 0;
	}
	free(buf);
	return write(fd, &expect, sizeof expect) == (ssize_t)sizeof expect ? 0
	                                                                   : 1;
}

static int run_pipe(const struct opts *o, struct result *res)
{
	char *msg = calloc(1, o->size);
	int data[2], back[2];
	uint64_t n = 0, last_n = 0;
	double t0, last, end;
	pid_t pid;

	if (!msg || pipe(data) != 0 || pipe(back) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(data[1]);
		close(back[0]);
		_exit(pipe_consume(data[0], o->size, back[1]));
	}
	close(data[0]);
	close(back[1]);
	t0 = last = now_s();
	end = t0 + o->seconds;
	for (;;) {
		memcpy(msg, &n, sizeof n);
		if (write(data[1], msg, o->size) != (ssize_t)o->size)
			break;
		if ((++n & 0xfff) == 0 && now_s() - last >= 1.0) {
			progress("pipe", n, t0, &last, &last_n, o->size);
			if (last >= end)
				break;
		}
	}
	close(data[1]);
	res->msgs = n;
	res->secs = now_s() - t0;
	free(msg);
	return reap(pid, back[0], res);
}

static void summary(const char *what, const struct result *r, size_t size)
{
	double rate = (double)r->msgs / r->secs;

	printf("%-8s %12" PRIu64
	       " msgs in %.2f s: %8.2f M msgs/s %9.1f MB/s  %s\n",
	       what, r->msgs, r->secs, rate / 1e6, rate * (double)size / 1e6,
	       r->ok ? "verified" : "FAILED");
}

int main(int argc, char **argv)
{
	struct result shm = {0}, pip = {0};
	struct opts o;
	int bad;

	if (parse(argc, argv, &o) != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	printf("shmring demo: %zu-byte messages, %u slots, %.0f s per "
	       "transport, producer and consumer in separate processes\n",
	       o.size, o.slots, o.seconds);
	bad = run_shmring(&o, &shm) != 0;
	bad |= run_pipe(&o, &pip) != 0;
	summary("shmring", &shm, o.size);
	summary("pipe", &pip, o.size);
	if (pip.msgs && pip.secs > 0)
		printf("result: shmring %.2f M msgs/s, %.1f MB/s = %.1fx the "
		       "pipe (%.2f M msgs/s)\n",
		       (double)shm.msgs / shm.secs / 1e6,
		       (double)shm.msgs * (double)o.size / shm.secs / 1e6,
		       ((double)shm.msgs / shm.secs) /
		               ((double)pip.msgs / pip.secs),
		       (double)pip.msgs / pip.secs / 1e6);
	return bad ? 1 : 0;
}
