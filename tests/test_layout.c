/* Description: golden bytes of a fresh segment, against docs/format.md. */
/* SPDX-License-Identifier: MIT */
/*
 * These tests read /dev/shm/shmring.<name> with open(2) + mmap(2) and check
 * bytes at the offsets docs/format.md gives, with explicit little-endian
 * decoding: they do not use layout.h, so a change of the struct that moves a
 * field fails here even if the _Static_asserts were edited along with it.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define OFF_MAGIC       0
#define OFF_VERSION     8
#define OFF_HDR_SIZE    12
#define OFF_SLOT_SIZE   16
#define OFF_STRIDE      20
#define OFF_COUNT       24
#define OFF_FLAGS       28
#define OFF_SEG_SIZE    32
#define OFF_CREATED     40
#define OFF_MAX_MSG     48
#define OFF_ROLE(i)     (128 + 128 * (i))
#define OFF_HEAD        384
#define OFF_TAIL        512
#define OFF_WORD(i)     (640 + 256 * (i))
#define OFF_SLEEPING(i) (768 + 256 * (i))
#define OFF_CPU(i)      (772 + 256 * (i))
#define HDR             4096

static char name[TEST_NAME_LEN];
static shmring *prod, *cons;
static struct rawseg seg;

static void setup(void)
{
	ring_name(name);
}

static void teardown(void)
{
	rawseg_unmap(&seg);
	shmring_close(prod);
	shmring_close(cons);
	prod = cons = NULL;
	shmring_unlink(name);
}

TestSuite(layout, .init = setup, .fini = teardown, .timeout = 10);

static void create_mapped(uint32_t slot_size, uint32_t count, uint32_t perm)
{
	shmring_config cfg = {
	        .slot_size = slot_size, .slot_count = count, .perm = perm};

	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	cr_assert_eq(rawseg_map(&seg, name, 0), 0);
}

static uint64_t self_token(void)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	unsigned long long start = 0;
	const char *p;
	int field;

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof buf, f));
	fclose(f);
	p = strrchr(buf, ')');
	cr_assert_not_null(p);
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	cr_assert_not_null(p);
	cr_assert_eq(sscanf(p + 1, "%llu", &start), 1);
	return (uint64_t)(uint32_t)start << 32 | (uint32_t)getpid();
}

static int all_zero(const uint8_t *b, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (b[i])
			return 0;
	return 1;
}

Test(layout, fresh_header_line_matches_format_v2)
{
	static const uint8_t golden[40] = {
	        'S',  'H',  'M', 'R', 'I', 'N', 'G', '1', /* magic */
	        2,    0,    0,   0,                       /* version */
	        0x00, 0x10, 0,   0,                       /* hdr_size 4096 */
	        100,  0,    0,   0,                       /* slot_size */
	        112,  0,    0,   0, /* stride = roundup(8 + 100, 16) */
	        8,    0,    0,   0, /* slot_count */
	        0,    0,    0,   0, /* flags */
	        0x80, 0x13, 0,   0,   0,   0,   0,   0, /* seg_size 4992 */
	};

	create_mapped(100, 8, 0);
	cr_assert_eq(seg.size, 4992);
	cr_assert_arr_eq(seg.base, golden, sizeof golden);
	/* max_msg: the default, half of 8 * 112 slot bytes, minus 8 */
	cr_assert_eq(rd32(seg.base, OFF_MAX_MSG), 440);
	cr_assert_eq(shmring_max_msg(prod), 440);
	cr_assert(all_zero(seg.base, 52, 128), "header reserved bytes");
}

Test(layout, an_explicit_max_msg_is_stored_in_the_header)
{
	shmring_config cfg = {.slot_size = 8, .slot_count = 8, .max_msg = 120};

	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	cr_assert_eq(rawseg_map(&seg, name, 0), 0);
	cr_assert_eq(rd32(seg.base, OFF_MAX_MSG), 120);
	cr_assert_eq(shmring_max_msg(prod), 120);
}

Test(layout, created_ns_is_the_wall_clock_at_creation)
{
	struct timespec a, b;
	uint64_t lo, hi, created;

	clock_gettime(CLOCK_REALTIME, &a);
	create_mapped(64, 4, 0);
	clock_gettime(CLOCK_REALTIME, &b);
	lo = (uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec;
	hi = (uint64_t)b.tv_sec * 1000000000u + (uint64_t)b.tv_nsec;
	created = rd64(seg.base, OFF_CREATED);
	cr_assert(created >= lo && created <= hi,
	          "created_ns %llu not in [%llu, %llu]",
	          (unsigned long long)created, (unsigned long long)lo,
	          (unsigned long long)hi);
}

Test(layout, role_records_hold_token_and_state_of_each_holder)
{
	uint64_t token = self_token();

	create_mapped(64, 4, 0);
	cr_assert_eq(rd64(seg.base, OFF_ROLE(0)), token, "producer owner");
	cr_assert_eq(rd32(seg.base, OFF_ROLE(0) + 8), 1, "producer attached");
	cr_assert(all_zero(seg.base, OFF_ROLE(1), OFF_ROLE(1) + 128),
	          "consumer record: never attached");
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	cr_assert_eq(rd64(seg.base, OFF_ROLE(1)), token, "consumer owner");
	cr_assert_eq(rd32(seg.base, OFF_ROLE(1) + 8), 1, "consumer attached");
	for (int i = 0; i < 2; i++) {
		/* caps: bit 0 only (heavy barrier before sleeping) */
		cr_assert_eq(rd32(seg.base, OFF_ROLE(i) + 12) & ~1u, 0,
		             "role %d caps", i);
		cr_assert(
		        all_zero(seg.base, OFF_ROLE(i) + 16, OFF_ROLE(i) + 128),
		        "role %d reserved", i);
	}
}

Test(layout, caps_are_0_when_shmring_fence_is_full)
{
	cr_assert_eq(setenv("SHMRING_FENCE", "full", 1), 0);
	create_mapped(64, 4, 0);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	cr_assert_eq(rd32(seg.base, OFF_ROLE(0) + 12), 0);
	cr_assert_eq(rd32(seg.base, OFF_ROLE(1) + 12), 0);
}

/* Send @msgs, receive them, then wait 5 ms on the empty ring (spin 0):
 * exactly one sleep of the consumer after @msgs messages. A futex wait
 * that returns early (a signal) makes the call sleep again, after no
 * message, so the step is retried until it slept once. Returns the
 * consumer's caps after it. */
static uint32_t consumer_caps_after_one_sleep(size_t msgs)
{
	shmring_stats a, b;
	size_t len;

	for (int attempt = 0; attempt < 5; attempt++) {
		for (size_t i = 0; i < msgs; i++)
			cr_assert_eq(shmring_send(prod, "", 0, 0), SHMRING_OK);
		for (size_t i = 0; i < msgs; i++)
			cr_assert_eq(shmring_recv(cons, NULL, 0, &len, 0),
			             SHMRING_OK);
		cr_assert_eq(shmring_get_stats(cons, &a), SHMRING_OK);
		cr_assert_eq(shmring_recv(cons, NULL, 0, &len, 5),
		             SHMRING_ETIMEDOUT);
		cr_assert_eq(shmring_get_stats(cons, &b), SHMRING_OK);
		if (b.waits == a.waits + 1)
			return rd32(seg.base, OFF_ROLE(1) + 12);
	}
	cr_assert_fail("the consumer never slept exactly once in 5 tries");
	return 0;
}

/* sr_fence_policy: a consumer announces the heavy barrier only while at
 * least 64 messages pass between two sleeps; a producer always does. */
Test(layout, caps_follow_the_messages_moved_between_sleeps)
{
	shmring_stats st;

	create_mapped(8, 128, 0);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	if (rd32(seg.base, OFF_ROLE(1) + 12) == 0)
		cr_skip_test("no heavy barrier here (membarrier unavailable)");
	cr_assert_eq(shmring_set_spin(cons, 0), SHMRING_OK);
	cr_assert_eq(consumer_caps_after_one_sleep(0), 0,
	             "no message since the last sleep: withdrawn");
	cr_assert_eq(consumer_caps_after_one_sleep(64), 1,
	             "64 messages between sleeps: announced");
	cr_assert_eq(consumer_caps_after_one_sleep(63), 0, "63: withdrawn");
	cr_assert_eq(rd32(seg.base, OFF_ROLE(0) + 12), 1,
	             "the producer never slept: still announced");
	/* a producer keeps it, however few messages pass between sleeps */
	cr_assert_eq(shmring_set_spin(prod, 0), SHMRING_OK);
	for (int round = 0; round < 2; round++) {
		while (shmring_send(prod, "", 0, 0) == SHMRING_OK)
			;
		cr_assert_eq(shmring_send(prod, "", 0, 5), SHMRING_ETIMEDOUT);
		cr_assert_eq(rd32(seg.base, OFF_ROLE(0) + 12), 1, "round %d",
		             round);
		for (int i = 0; i < 10; i++)
			cr_assert_eq(
			        shmring_recv(cons, NULL, 0, &(size_t){0}, 0),
			        SHMRING_OK);
	}
	cr_assert_eq(shmring_get_stats(prod, &st), SHMRING_OK);
	cr_assert_geq(st.waits, 2, "it slept in both rounds");
}

Test(layout, closed_role_record_has_no_owner_and_state_closed)
{
	create_mapped(64, 4, 0);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	shmring_close(cons);
	cons = NULL;
	cr_assert_eq(rd64(seg.base, OFF_ROLE(1)), 0);
	cr_assert_eq(rd32(seg.base, OFF_ROLE(1) + 8), 2);
	shmring_close(prod);
	prod = NULL;
	cr_assert_eq(rd64(seg.base, OFF_ROLE(0)), 0);
	cr_assert_eq(rd32(seg.base, OFF_ROLE(0) + 8), 2);
}

Test(layout, indices_wake_lines_reserved_and_slots_start_zeroed)
{
	create_mapped(100, 8, 0);
	cr_assert(all_zero(seg.base, OFF_HEAD, 1152),
	          "head, tail, wake words, sleeping flags, CPU hints");
	cr_assert(all_zero(seg.base, 1152, HDR), "page reserved");
	cr_assert(all_zero(seg.base, HDR, seg.size), "slots");
}

Test(layout, segment_size_is_header_page_plus_stride_times_count)
{
	static const struct {
		uint32_t size, count, stride;
	} g[] = {
	        {1, 2, 16},  {8, 4, 16},     {9, 4, 32},    {56, 4, 64},
	        {57, 4, 80}, {120, 16, 128}, {121, 2, 144}, {4096, 2, 4112},
	        {0, 0, 64}, /* defaults: 56 bytes, 16384 slots */
	};

	for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
		uint32_t count = g[i].count ? g[i].count : 16384;
		uint64_t want = HDR + (uint64_t)g[i].stride * count;

		create_mapped(g[i].size, g[i].count, 0);
		cr_assert_eq(rd32(seg.base, OFF_STRIDE), g[i].stride,
		             "case %zu", i);
		cr_assert_eq(rd32(seg.base, OFF_COUNT), count);
		cr_assert_eq(rd64(seg.base, OFF_SEG_SIZE), want);
		cr_assert_eq(seg.size, want, "file size, case %zu", i);
		/* the default max_msg: half the slot bytes, minus 8 */
		cr_assert_eq(shmring_max_msg(prod),
		             (uint64_t)g[i].stride * count / 2 - 8);
		teardown();
	}
}

/* The record word at slot @slot: len | type << 32 | lap << 34. */
static uint64_t rec_word(uint32_t stride, uint32_t slot)
{
	return rd64(seg.base, HDR + (size_t)stride * slot);
}

#define MSG_WORD(len, lap)                                                     \
	((uint64_t)(len) | UINT64_C(1) << 32 | (uint64_t)(lap) << 34)
#define PAD_WORD(len, lap)                                                     \
	((uint64_t)(len) | UINT64_C(2) << 32 | (uint64_t)(lap) << 34)

Test(layout, message_sits_in_its_slot_behind_an_8_byte_record_word)
{
	char buf[16];
	size_t len;

	create_mapped(100, 8, 0); /* stride 112 */
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	cr_assert_eq(shmring_send(prod, "hello", 5, 0), SHMRING_OK);
	cr_assert_eq(shmring_send(prod, "", 0, 0), SHMRING_OK);
	cr_assert_eq(shmring_send(prod, "world!", 6, 0), SHMRING_OK);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 3);
	cr_assert_eq(rec_word(112, 0), MSG_WORD(5, 0));
	cr_assert_arr_eq(seg.base + HDR + 8, "hello", 5);
	cr_assert_eq(rec_word(112, 1), MSG_WORD(0, 0));
	cr_assert_eq(rec_word(112, 2), MSG_WORD(6, 0));
	cr_assert_arr_eq(seg.base + HDR + 224 + 8, "world!", 6);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 0);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0), SHMRING_OK);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 1);
}

Test(layout, a_record_spans_consecutive_slots_with_its_payload_contiguous)
{
	uint8_t msg[40], buf[64];
	size_t len;

	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	create_mapped(8, 8, 0); /* stride 16: ceil((8 + 40) / 16) = 3 slots */
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	cr_assert_eq(shmring_send(prod, msg, sizeof msg, 0), SHMRING_OK);
	cr_assert_eq(shmring_send(prod, "x", 1, 0), SHMRING_OK);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 4);
	cr_assert_eq(rec_word(16, 0), MSG_WORD(40, 0));
	cr_assert_arr_eq(seg.base + HDR + 8, msg, sizeof msg);
	cr_assert_eq(rec_word(16, 3), MSG_WORD(1, 0));
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0), SHMRING_OK);
	cr_assert_eq(len, sizeof msg);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 3, "tail past all 3 slots");
}

Test(layout, a_record_that_would_cross_the_end_follows_a_padding_record)
{
	uint8_t msg[40] = {1, 2, 3}, buf[64];
	size_t len;

	/* docs/format.md's example: stride 16, 8 slots, 40 bytes at 6 */
	create_mapped(8, 8, 0);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	for (uint32_t i = 0; i < 6; i++) {
		cr_assert_eq(shmring_send(prod, &i, sizeof i, 0), SHMRING_OK);
		cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0),
		             SHMRING_OK);
	}
	cr_assert_eq(shmring_send(prod, msg, sizeof msg, 0), SHMRING_OK);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 11);
	cr_assert_eq(rec_word(16, 6), PAD_WORD(24, 0), "slots 6 and 7");
	cr_assert_eq(rec_word(16, 0), MSG_WORD(40, 1), "index 8: lap 1");
	cr_assert_arr_eq(seg.base + HDR + 8, msg, sizeof msg);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0), SHMRING_OK);
	cr_assert_eq(len, sizeof msg, "the padding is never delivered");
	cr_assert_arr_eq(buf, msg, sizeof msg);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 11);
}

Test(layout, padding_is_published_alone_when_it_and_the_record_exceed_the_ring)
{
	shmring_config cfg = {.slot_size = 8, .slot_count = 8, .max_msg = 120};
	uint8_t msg[120] = {9, 8, 7}, buf[128];
	size_t len;

	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &prod),
	             SHMRING_OK);
	cr_assert_eq(rawseg_map(&seg, name, 0), 0);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	for (uint32_t i = 0; i < 6; i++) {
		cr_assert_eq(shmring_send(prod, &i, sizeof i, 0), SHMRING_OK);
		cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0),
		             SHMRING_OK);
	}
	/* 2 slots of padding + 8 of record > 8: the padding goes first */
	cr_assert_eq(shmring_send(prod, msg, sizeof msg, 0), SHMRING_EAGAIN);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 8);
	cr_assert_eq(rec_word(16, 6), PAD_WORD(24, 0));
	/* the consumer skips it and hands the slots back at once */
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0),
	             SHMRING_EAGAIN);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 8);
	cr_assert_eq(shmring_send(prod, msg, sizeof msg, 0), SHMRING_OK);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 16);
	cr_assert_eq(rec_word(16, 0), MSG_WORD(120, 1));
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0), SHMRING_OK);
	cr_assert_eq(len, sizeof msg);
	cr_assert_arr_eq(buf, msg, sizeof msg);
}

Test(layout, slot_of_index_i_is_i_modulo_count)
{
	char buf[8];
	size_t len;

	create_mapped(8, 4, 0); /* stride 16 */
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	for (uint32_t i = 0; i < 6; i++) {
		cr_assert_eq(shmring_send(prod, &i, sizeof i, 0), SHMRING_OK);
		cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0),
		             SHMRING_OK);
	}
	/* messages 4 and 5 overwrote slots 0 and 1, in lap 1 */
	cr_assert_eq(rd32(seg.base, HDR + 0 * 16 + 8), 4);
	cr_assert_eq(rd32(seg.base, HDR + 1 * 16 + 8), 5);
	cr_assert_eq(rd32(seg.base, HDR + 2 * 16 + 8), 2);
	cr_assert_eq(rd32(seg.base, HDR + 3 * 16 + 8), 3);
	cr_assert_eq(rec_word(16, 0), MSG_WORD(4, 1));
	cr_assert_eq(rec_word(16, 2), MSG_WORD(4, 0));
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 6);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 6);
}

Test(layout, counters_sit_at_1152_and_1280_written_by_their_side)
{
	char buf[8];
	size_t len;

	create_mapped(8, 4, 0);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	cr_assert_eq(shmring_send(prod, "abc", 3, 0), SHMRING_OK);
	cr_assert_eq(shmring_send(prod, "de", 2, 0), SHMRING_OK);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 0), SHMRING_OK);
	shmring_close(prod);
	prod = NULL;
	cr_assert_eq(rd64(seg.base, 1152 + 0), 2, "producer: messages");
	cr_assert_eq(rd64(seg.base, 1152 + 8), 5, "producer: bytes");
	cr_assert_gt(rd64(seg.base, 1152 + 64), 0, "producer: last_ns");
	cr_assert(all_zero(seg.base, 1152 + 72, 1280), "producer: reserved");
	cr_assert(all_zero(seg.base, 1280, 1408), "consumer: not flushed yet");
	shmring_close(cons);
	cons = NULL;
	cr_assert_eq(rd64(seg.base, 1280 + 0), 1, "consumer: messages");
	cr_assert_eq(rd64(seg.base, 1280 + 8), 3, "consumer: bytes");
	cr_assert(all_zero(seg.base, 1408, HDR), "page reserved");
}

/* Pin this test process (Criterion forks one per test) to its CPU. */
static int pin_here(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	cr_assert_geq(cpu, 0);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof set, &set), 0);
	return cpu;
}

Test(layout, a_waiting_side_publishes_the_cpu_it_waits_on)
{
	char buf[8];
	size_t len;
	int cpu = pin_here();

	create_mapped(8, 4, 0);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	cr_assert_eq(rd32(seg.base, OFF_CPU(1)), 0, "unknown before a wait");
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 1),
	             SHMRING_ETIMEDOUT);
	cr_assert_eq(rd32(seg.base, OFF_CPU(1)), (uint32_t)cpu + 1);
}

Test(layout, a_waiter_whose_peer_is_on_its_own_cpu_sleeps_without_spinning)
{
	struct rawseg w = {0};
	shmring_stats st;
	char buf[8];
	size_t len;
	int cpu = pin_here();

	create_mapped(8, 4, 0);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &cons), SHMRING_OK);
	cr_assert_eq(rawseg_map(&w, name, 1), 0);
	/* A spin budget longer than the timeout: a spinning wait would
	 * spin to the deadline and never sleep. */
	cr_assert_eq(shmring_set_spin(cons, 1000000000u), SHMRING_OK);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 20),
	             SHMRING_ETIMEDOUT);
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_eq(st.waits, 0, "peer's CPU unknown: it spun");
	/* the producer last ran on our CPU: spinning cannot help */
	wr32(w.base, OFF_CPU(0), (uint32_t)cpu + 1);
	cr_assert_eq(shmring_recv(cons, buf, sizeof buf, &len, 20),
	             SHMRING_ETIMEDOUT);
	cr_assert_eq(shmring_get_stats(cons, &st), SHMRING_OK);
	cr_assert_geq(st.waits, 1, "it slept at once");
	rawseg_unmap(&w);
}

static mode_t file_mode(void)
{
	char path[TEST_NAME_LEN + 32];
	struct stat st;

	seg_path(path, sizeof path, name);
	cr_assert_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

Test(layout, file_mode_is_exactly_perm_whatever_the_umask)
{
	static const mode_t masks[] = {0, 022, 077, 0777};
	static const uint32_t perms[] = {0600, 0640, 0644, 0660,
	                                 0666, 0777, 0400, 0604};

	for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++) {
		mode_t old = umask(masks[m]);

		for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++) {
			shmring_config cfg = {.perm = perms[i]};

			cr_assert_eq(shmring_create(name, &cfg,
			                            SHMRING_PRODUCER, &prod),
			             SHMRING_OK);
			cr_assert_eq(file_mode(), perms[i],
			             "perm %o under umask %o: got %o", perms[i],
			             masks[m], file_mode());
			teardown();
		}
		umask(old);
	}
}

Test(layout, perm_0_means_0600)
{
	mode_t old = umask(0);

	create_mapped(64, 4, 0);
	umask(old);
	cr_assert_eq(file_mode(), 0600);
}
