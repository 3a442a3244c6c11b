/* Description: shmring_inspect, shmring_list, shmring_unlink_stale and the
 * segment counters. */
/* SPDX-License-Identifier: MIT */
/*
 * The counters each side keeps in the segment, checked against a known
 * stream; the attach records as a monitor judges them (a dead holder with
 * real processes); the fill level; hostile segments that must give
 * EBADFMT, never a crash; the listing and the stale-name removal that the
 * shmring command's ls and gc are built on.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "layout.h"

#define OFF(f) offsetof(struct sr_seg, f)

static struct pair p;

static void setup(void)
{
	pair_open_or_fail(&p, 64, 16);
}

static void teardown(void)
{
	pair_close(&p);
}

#define PAIR .init = setup, .fini = teardown, .timeout = 20

static shmring_info inspect_or_fail(const char *name)
{
	shmring_info in;
	int rc = shmring_inspect(name, &in);

	cr_assert_eq(rc, SHMRING_OK, "inspect: %s", shmring_strerror(rc));
	return in;
}

Test(inspect, reports_the_geometry_and_the_fill_level, PAIR)
{
	shmring_info in;

	for (int i = 0; i < 5; i++)
		cr_assert_eq(shmring_send(p.prod, "12345678", 8, 0),
		             SHMRING_OK);
	in = inspect_or_fail(p.name);
	cr_assert_eq(in.version, 2);
	cr_assert_eq(in.slot_size, 64);
	cr_assert_eq(in.slot_stride, 80);
	cr_assert_eq(in.slot_count, 16);
	cr_assert_eq(in.max_msg, 64);
	cr_assert_eq(in.flags, 0);
	cr_assert_eq(in.seg_size, 4096 + 80 * 16);
	cr_assert_gt(in.created_ns, 0);
	cr_assert_eq(in.head, 5);
	cr_assert_eq(in.tail, 0);
	cr_assert_eq(in.used_slots, 5);
	cr_assert_eq(in.producer.state, SHMRING_ROLE_ATTACHED);
	cr_assert_eq(in.consumer.state, SHMRING_ROLE_ATTACHED);
	cr_assert_eq(in.producer.pid, (uint32_t)getpid());
	cr_assert_eq(in.consumer.pid, (uint32_t)getpid());
}

Test(inspect, counters_match_a_known_stream_after_close, PAIR)
{
	uint8_t buf[64];
	shmring_msg m[3] = {{buf, 10}, {buf, 20}, {buf, 30}};
	shmring_stats ps, cs;
	shmring_info in;
	size_t len, n;
	void *w;

	memset(buf, 7, sizeof buf);
	cr_assert_eq(shmring_send(p.prod, buf, 64, 0), SHMRING_OK);
	cr_assert_eq(shmring_sendv(p.prod, m, 3, &n, 0), SHMRING_OK);
	cr_assert_eq(shmring_claim(p.prod, 40, &w, 0), SHMRING_OK);
	cr_assert_eq(shmring_commit(p.prod, 5), SHMRING_OK);
	/* 5 messages, 64 + 60 + 5 = 129 bytes */
	for (int i = 0; i < 5; i++)
		cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
		             SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_EAGAIN);
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 5),
	             SHMRING_ETIMEDOUT);
	shmring_get_stats(p.prod, &ps);
	shmring_get_stats(p.cons, &cs);
	shmring_close(p.prod);
	p.prod = NULL;
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_ECLOSED);
	shmring_close(p.cons);
	p.cons = NULL;
	in = inspect_or_fail(p.name);
	cr_assert_eq(in.producer.counters.messages, 5);
	cr_assert_eq(in.producer.counters.bytes, 129);
	cr_assert_eq(in.consumer.counters.messages, 5);
	cr_assert_eq(in.consumer.counters.bytes, 129);
	cr_assert_eq(in.consumer.counters.blocked, 2,
	             "EAGAIN and ETIMEDOUT found it empty (ECLOSED: closed)");
	cr_assert_eq(in.consumer.counters.timeouts, 1);
	cr_assert_eq(in.consumer.counters.sleeps, cs.waits);
	cr_assert_eq(in.producer.counters.wakes, ps.wakes);
	cr_assert_eq(in.producer.counters.blocked, 0);
	cr_assert_eq(in.producer.counters.badfmt, 0);
	cr_assert_eq(in.producer.counters.abandoned, 0);
	cr_assert_gt(in.producer.counters.last_ns, in.created_ns - 1);
	cr_assert_gt(in.consumer.counters.last_ns, 0);
	cr_assert_eq(in.producer.state, SHMRING_ROLE_CLOSED);
	cr_assert_eq(in.consumer.state, SHMRING_ROLE_CLOSED);
}

Test(inspect, counters_go_on_across_holders, PAIR)
{
	shmring_info in;
	shmring *again = NULL;

	cr_assert_eq(shmring_send(p.prod, "abc", 3, 0), SHMRING_OK);
	shmring_close(p.prod);
	cr_assert_eq(shmring_open(p.name, SHMRING_PRODUCER, &again),
	             SHMRING_OK);
	p.prod = again;
	cr_assert_eq(shmring_send(p.prod, "de", 2, 0), SHMRING_OK);
	shmring_close(p.prod);
	p.prod = NULL;
	in = inspect_or_fail(p.name);
	cr_assert_eq(in.producer.counters.messages, 2);
	cr_assert_eq(in.producer.counters.bytes, 5);
}

Test(inspect, a_busy_side_flushes_without_closing, PAIR)
{
	uint8_t buf[64];
	size_t len;
	shmring_info in;

	/* 3000 messages through a 16-slot ring: both sides wait often */
	for (int i = 0; i < 3000; i++) {
		cr_assert_eq(shmring_send(p.prod, buf, 8, 0), SHMRING_OK);
		cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
		             SHMRING_OK);
	}
	in = inspect_or_fail(p.name);
	cr_assert_geq(in.producer.counters.messages, 3000 - 1024);
	cr_assert_geq(in.consumer.counters.messages, 3000 - 1024);
	cr_assert_leq(in.consumer.counters.messages, 3000);
}

Test(inspect, counts_the_corrupt_values_it_detects, PAIR)
{
	struct rawseg seg;
	uint8_t buf[64];
	size_t len;
	shmring_info in;

	cr_assert_eq(shmring_send(p.prod, "x", 1, 0), SHMRING_OK);
	cr_assert_eq(rawseg_map(&seg, p.name, 1), 0);
	wr64(seg.base, 4096, 0); /* the record word */
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_EBADFMT);
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_EBADFMT);
	shmring_close(p.cons);
	p.cons = NULL;
	in = inspect_or_fail(p.name);
	cr_assert_eq(in.consumer.counters.badfmt, 2);
	rawseg_unmap(&seg);
}

/* A child that attaches to ring @name as @role and waits to be killed. */
struct hang {
	const char *name;
	enum shmring_role role;
};

static int child_attach_hang(void *arg)
{
	const struct hang *h = arg;
	shmring *r = NULL;

	if (shmring_open(h->name, h->role, &r) != SHMRING_OK)
		return 1;
	pause();
	return 0;
}

Test(inspect, a_holder_killed_is_dead_and_a_garbage_state_corrupt)
{
	char name[TEST_NAME_LEN];
	shmring *prod = NULL;
	struct rawseg seg;
	shmring_info in;
	pid_t pid;
	int i;

	ring_name(name);
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	pid = child_run(child_attach_hang,
	                &(struct hang){name, SHMRING_CONSUMER});
	for (i = 0; i < 500; i++) {
		in = inspect_or_fail(name);
		if (in.consumer.state == SHMRING_ROLE_ATTACHED)
			break;
		sleep_us(2000);
	}
	cr_assert_eq(in.consumer.state, SHMRING_ROLE_ATTACHED);
	cr_assert_eq(in.consumer.pid, (uint32_t)pid);
	cr_assert_eq(in.producer.state, SHMRING_ROLE_ATTACHED);
	kill(pid, SIGKILL);
	cr_assert_eq(child_reap(pid), 128 + SIGKILL);
	in = inspect_or_fail(name);
	cr_assert_eq(in.consumer.state, SHMRING_ROLE_DEAD);
	cr_assert_eq(in.consumer.pid, (uint32_t)pid, "the last holder");
	cr_assert_eq(rawseg_map(&seg, name, 1), 0);
	wr32(seg.base, OFF(role[1].state), 77);
	in = inspect_or_fail(name);
	cr_assert_eq(in.consumer.state, SHMRING_ROLE_CORRUPT);
	wr64(seg.base, OFF(head.value), SHMRING_DEFAULT_SLOT_COUNT + 1);
	in = inspect_or_fail(name);
	cr_assert_eq(in.used_slots, UINT64_MAX, "indices no handle accepts");
	rawseg_unmap(&seg);
	shmring_close(prod);
	shmring_unlink(name);
}

Test(inspect, a_hostile_segment_is_ebadfmt_never_a_crash)
{
	char name[TEST_NAME_LEN];
	struct rawseg seg;
	shmring_info in;
	uint64_t x = 99;

	ring_name(name);
	ring_make_idle_or_fail(name, 64, 16);
	cr_assert_eq(rawseg_map(&seg, name, 1), 0);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < 4096; i += 8) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			wr64(seg.base, i, x);
		}
		if (round % 2) /* keep the magic: the checks behind it decide */
			memcpy(seg.base, "SHMRING1", 8);
		cr_assert_eq(shmring_inspect(name, &in), SHMRING_EBADFMT,
		             "round %d", round);
	}
	memset(seg.base, 0, 8); /* magic 0: being created */
	cr_assert_eq(shmring_inspect(name, &in), SHMRING_ENOENT);
	rawseg_unmap(&seg);
	shmring_unlink(name);
}

Test(inspect, validates_its_arguments)
{
	shmring_info in;
	char name[TEST_NAME_LEN];

	ring_name(name);
	cr_assert_eq(shmring_inspect(NULL, &in), SHMRING_EINVAL);
	cr_assert_eq(shmring_inspect(".x", &in), SHMRING_EINVAL);
	cr_assert_eq(shmring_inspect(name, NULL), SHMRING_EINVAL);
	cr_assert_eq(shmring_inspect(name, &in), SHMRING_ENOENT);
	cr_assert_eq(shmring_list(NULL, NULL), SHMRING_EINVAL);
	cr_assert_eq(shmring_unlink_stale(".x"), SHMRING_EINVAL);
	cr_assert_eq(shmring_unlink_stale(name), SHMRING_ENOENT);
}

/* ---- list and unlink_stale -------------------------------------------------
 */

struct seen {
	const char *want[3];
	int found[3];
	int bad;
};

static int on_name(const char *name, void *arg)
{
	struct seen *s = arg;

	if (name[0] == '.' || strchr(name, '/'))
		s->bad++;
	for (int i = 0; i < 3; i++)
		if (strcmp(name, s->want[i]) == 0)
			s->found[i]++;
	return 0;
}

Test(list, names_every_ring_once_and_no_invalid_name)
{
	char a[TEST_NAME_LEN], b[TEST_NAME_LEN], c[TEST_NAME_LEN];
	struct seen s = {{a, b, c}, {0}, 0};
	int fd;

	ring_name(a);
	ring_name(b);
	ring_name(c);
	ring_make_idle_or_fail(a, 64, 4);
	ring_make_idle_or_fail(b, 64, 4);
	/* c: a file with the prefix but an invalid ring name after it */
	fd = shm_open("/shmring..hidden", O_CREAT | O_RDWR, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(shmring_list(on_name, &s), SHMRING_OK);
	cr_assert_eq(s.found[0], 1);
	cr_assert_eq(s.found[1], 1);
	cr_assert_eq(s.found[2], 0, "never created");
	cr_assert_eq(s.bad, 0, "an invalid name was passed on");
	shm_unlink("/shmring..hidden");
	shmring_unlink(a);
	shmring_unlink(b);
}

static int stop_at_first(const char *name, void *arg)
{
	(void)name;
	(*(int *)arg)++;
	return 1;
}

Test(list, stops_when_the_callback_says_so)
{
	char a[TEST_NAME_LEN], b[TEST_NAME_LEN];
	int calls = 0;

	ring_name(a);
	ring_name(b);
	ring_make_idle_or_fail(a, 64, 4);
	ring_make_idle_or_fail(b, 64, 4);
	cr_assert_eq(shmring_list(stop_at_first, &calls), SHMRING_OK);
	cr_assert_eq(calls, 1);
	shmring_unlink(a);
	shmring_unlink(b);
}

Test(unlink_stale, keeps_a_live_ring_and_removes_a_closed_one, PAIR)
{
	shmring_info in;

	cr_assert_eq(shmring_unlink_stale(p.name), SHMRING_EBUSY);
	cr_assert_eq(shmring_inspect(p.name, &in), SHMRING_OK, "kept");
	shmring_close(p.prod);
	p.prod = NULL;
	cr_assert_eq(shmring_unlink_stale(p.name), SHMRING_EBUSY,
	             "the consumer alone keeps it live");
	shmring_close(p.cons);
	p.cons = NULL;
	cr_assert_eq(shmring_unlink_stale(p.name), SHMRING_OK);
	cr_assert_eq(shmring_inspect(p.name, &in), SHMRING_ENOENT, "removed");
}

Test(unlink_stale, removes_a_segment_that_is_not_a_ring)
{
	char name[TEST_NAME_LEN];
	struct rawseg seg;

	ring_name(name);
	ring_make_idle_or_fail(name, 64, 4);
	cr_assert_eq(rawseg_map(&seg, name, 1), 0);
	memset(seg.base, 0xa5, 4096);
	rawseg_unmap(&seg);
	cr_assert_eq(shmring_unlink_stale(name), SHMRING_OK);
	cr_assert_eq(shmring_unlink(name), SHMRING_ENOENT);
}

Test(inspect, a_fifo_or_directory_at_the_name_is_ebadfmt_not_a_hang,
     .timeout = 10)
{
	char name[TEST_NAME_LEN], path[TEST_NAME_LEN + 32];
	shmring_info in;
	shmring *r = NULL;

	ring_name(name);
	seg_path(path, sizeof path, name);
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(shmring_inspect(name, &in), SHMRING_EBADFMT);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_EBADFMT);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(shmring_inspect(name, &in), SHMRING_EBADFMT);
	cr_assert_eq(rmdir(path), 0);
}

/* MPSC: one row per entry ever held, in entry order, each judged now. */
Test(inspect_producers, one_row_per_entry_live_closed_dead)
{
	shmring_config cfg = {.slot_count = 64, .flags = SHMRING_F_MPSC};
	char name[TEST_NAME_LEN];
	shmring *cons = NULL, *a = NULL, *b = NULL;
	shmring_producer_info row[SHMRING_MAX_PRODUCERS];
	struct rawseg seg;
	size_t n = 99;
	pid_t pid;
	int i;

	ring_name(name);
	cr_assert_eq(shmring_create(name, &cfg, SHMRING_CONSUMER, &cons),
	             SHMRING_OK);
	cr_assert_eq(shmring_inspect_producers(name, row, 32, &n), SHMRING_OK);
	cr_assert_eq(n, 0, "no producer came yet");
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &a), SHMRING_OK);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &b), SHMRING_OK);
	pid = child_run(child_attach_hang,
	                &(struct hang){name, SHMRING_PRODUCER});
	for (i = 0; i < 500; i++) {
		cr_assert_eq(shmring_inspect_producers(name, row, 32, &n),
		             SHMRING_OK);
		if (n == 3)
			break;
		sleep_us(2000);
	}
	cr_assert_eq(n, 3);
	for (unsigned k = 0; k < 3; k++) {
		cr_assert_eq(row[k].entry, k);
		cr_assert_eq(row[k].state, SHMRING_ROLE_ATTACHED);
		cr_assert_eq(row[k].sleeping, 0);
	}
	cr_assert_eq(row[0].pid, (uint32_t)getpid());
	cr_assert_eq(row[2].pid, (uint32_t)pid);
	shmring_close(b);
	kill(pid, SIGKILL);
	cr_assert_eq(child_reap(pid), 128 + SIGKILL);
	/* the sleepers bit of entry 0, by hand */
	cr_assert_eq(rawseg_map(&seg, name, 1), 0);
	atomic_fetch_or(&((struct sr_seg *)(void *)seg.base)->mp.sleepers, 1u);
	cr_assert_eq(shmring_inspect_producers(name, row, 32, &n), SHMRING_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(row[0].state, SHMRING_ROLE_ATTACHED);
	cr_assert_eq(row[0].sleeping, 1);
	cr_assert_eq(row[1].state, SHMRING_ROLE_CLOSED);
	cr_assert_eq(row[2].state, SHMRING_ROLE_DEAD);
	cr_assert_eq(row[2].pid, (uint32_t)pid, "the last holder");
	/* a short array: the first cap rows, the whole count */
	memset(row, 0xa5, sizeof row);
	cr_assert_eq(shmring_inspect_producers(name, row, 1, &n), SHMRING_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(row[0].entry, 0);
	cr_assert_eq(row[1].entry, 0xa5a5a5a5u, "nothing past cap");
	cr_assert_eq(shmring_inspect_producers(name, NULL, 0, &n), SHMRING_OK);
	cr_assert_eq(n, 3);
	atomic_store(&((struct sr_seg *)(void *)seg.base)->mp.sleepers, 0);
	rawseg_unmap(&seg);
	shmring_close(a);
	shmring_close(cons);
	shmring_unlink(name);
}

Test(inspect_producers, a_single_producer_ring_has_one_row, PAIR)
{
	shmring_producer_info row[2];
	size_t n = 0;

	cr_assert_eq(shmring_inspect_producers(p.name, row, 2, &n), SHMRING_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(row[0].entry, 0);
	cr_assert_eq(row[0].state, SHMRING_ROLE_ATTACHED);
	cr_assert_eq(row[0].pid, (uint32_t)getpid());
	cr_assert_eq(row[0].sleeping, 0);
}

Test(inspect_producers, validates_its_arguments)
{
	shmring_producer_info row[1];
	char name[TEST_NAME_LEN];
	size_t n = 7;

	ring_name(name);
	cr_assert_eq(shmring_inspect_producers(NULL, row, 1, &n),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_inspect_producers("a/b", row, 1, &n),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_inspect_producers(name, row, 1, NULL),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_inspect_producers(name, NULL, 1, &n),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_inspect_producers(name, row, 1, &n),
	             SHMRING_ENOENT);
	cr_assert_eq(n, 0);
}
