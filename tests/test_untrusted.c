/* Description: corrupt segments: EBADFMT or ENOENT, never a crash. */
/* SPDX-License-Identifier: MIT */
/*
 * The peer may write anything into the segment. Each test corrupts one
 * thing through a private mapping, checks the code, then restores it and
 * checks that the ring works again, which shows that exactly that
 * corruption was detected and that nothing was lost.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "layout.h"

#define SLOT  64
#define COUNT 8
#define SEG   (4096 + 80 * COUNT) /* stride roundup(8 + 64, 16) = 80 */

#define OFF(f)       offsetof(struct sr_seg, f)
#define OFF_HEAD     OFF(head.value)
#define OFF_TAIL     OFF(tail.value)
#define OFF_SLOT(i)  (4096 + 80 * ((i) & (COUNT - 1)))
#define OFF_STATE(r) (OFF(role) + 128 * (r) + 8)
#define OFF_OWNER(r) (OFF(role) + 128 * (r))

static char name[TEST_NAME_LEN];
static struct rawseg seg;
static uint8_t saved[4096];
static struct pair p; /* only for the attached-handle tests */

static void setup(void)
{
	ring_name(name);
	ring_make_idle_or_fail(name, SLOT, COUNT);
	cr_assert_eq(rawseg_map(&seg, name, 1), 0);
	cr_assert_eq(seg.size, SEG);
	memcpy(saved, seg.base, sizeof saved);
}

static void teardown(void)
{
	rawseg_unmap(&seg);
	pair_close(&p);
	shmring_unlink(name);
}

#define IDLE .init = setup, .fini = teardown, .timeout = 10

/* open as @role and close again; the code of the open */
static int try_open(enum shmring_role role)
{
	shmring *r = NULL;
	int rc = shmring_open(name, role, &r);

	if (rc == SHMRING_OK)
		shmring_close(r);
	else
		cr_assert_null(r, "out written on failure");
	return rc;
}

static void expect_open(int want, const char *what)
{
	int rp = try_open(SHMRING_PRODUCER), rc = try_open(SHMRING_CONSUMER);

	cr_assert_eq(rp, want, "%s: producer open %s", what,
	             shmring_strerror(rp));
	cr_assert_eq(rc, want, "%s: consumer open %s", what,
	             shmring_strerror(rc));
}

static void restore_and_expect_ok(const char *what)
{
	memcpy(seg.base, saved, sizeof saved);
	expect_open(SHMRING_OK, what);
	memcpy(saved, seg.base, sizeof saved); /* role states moved to closed */
}

static void expect_badfmt_then_ok(const char *what)
{
	expect_open(SHMRING_EBADFMT, what);
	restore_and_expect_ok(what);
}

/* ---- header -------------------------------------------------------------- */

Test(open, rejects_a_garbage_header, IDLE)
{
	uint64_t x = 0x1234567;

	for (size_t i = 0; i < 4096; i += 8) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		wr64(seg.base, i, x | 1);
	}
	expect_badfmt_then_ok("garbage");
}

Test(open, rejects_a_wrong_magic, IDLE)
{
	seg.base[7] = '2';
	expect_badfmt_then_ok("SHMRING2");
	memcpy(seg.base, "1GNIRMHS", 8);
	expect_badfmt_then_ok("byte-swapped magic");
	wr64(seg.base, 0, 1);
	expect_badfmt_then_ok("magic 1");
}

Test(open, rejects_a_wrong_version, IDLE)
{
	const uint32_t v[] = {0, 1, 3, 0x02000000, UINT32_MAX};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		wr32(seg.base, OFF(hdr.version), v[i]);
		expect_badfmt_then_ok("version");
	}
}

Test(open, rejects_a_version_1_segment, IDLE)
{
	/* What format 1 wrote for this geometry: 64-byte strides, no
	 * max_msg. Consistent in itself, but not a version-2 ring. */
	wr32(seg.base, OFF(hdr.version), 1);
	wr32(seg.base, OFF(hdr.slot_stride), 128);
	wr64(seg.base, OFF(hdr.seg_size), 4096 + 128 * COUNT);
	wr32(seg.base, OFF(hdr.max_msg), 0);
	expect_badfmt_then_ok("format 1");
}

Test(open, rejects_a_max_msg_the_ring_cannot_hold, IDLE)
{
	const uint32_t bad[] = {0, 80 * COUNT - 7, UINT32_MAX,
	                        SHMRING_MAX_MSG_LIMIT + 1};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		wr32(seg.base, OFF(hdr.max_msg), bad[i]);
		expect_badfmt_then_ok("max_msg");
	}
	/* any value up to one record over every slot is a valid ring */
	wr32(seg.base, OFF(hdr.max_msg), 80 * COUNT - 8);
	expect_open(SHMRING_OK, "largest max_msg");
	memcpy(saved, seg.base, sizeof saved);
}

Test(open, rejects_a_wrong_hdr_size, IDLE)
{
	const uint32_t v[] = {0, 64, 2048, 8192};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		wr32(seg.base, OFF(hdr.hdr_size), v[i]);
		expect_badfmt_then_ok("hdr_size");
	}
}

Test(open, rejects_a_slot_count_out_of_range, IDLE)
{
	const uint32_t v[] = {0, 1, 3, 7, 9, 1u << 25, UINT32_MAX};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		wr32(seg.base, OFF(hdr.slot_count), v[i]);
		expect_badfmt_then_ok("slot_count");
	}
}

Test(open, rejects_a_slot_size_above_the_limit, IDLE)
{
	wr32(seg.base, OFF(hdr.slot_size), SHMRING_MAX_SLOT_SIZE + 1);
	expect_badfmt_then_ok("slot_size");
	wr32(seg.base, OFF(hdr.slot_size), UINT32_MAX);
	expect_badfmt_then_ok("slot_size");
}

Test(open, rejects_geometry_fields_that_disagree, IDLE)
{
	wr32(seg.base, OFF(hdr.slot_size), SLOT + 64); /* stride 80 -> 144 */
	expect_badfmt_then_ok("slot_size vs stride");
	wr32(seg.base, OFF(hdr.slot_stride), 64);
	expect_badfmt_then_ok("stride too small");
	wr32(seg.base, OFF(hdr.slot_stride), 0);
	expect_badfmt_then_ok("stride 0");
	wr64(seg.base, OFF(hdr.seg_size), SEG + 128);
	expect_badfmt_then_ok("seg_size");
	wr64(seg.base, OFF(hdr.seg_size), 0);
	expect_badfmt_then_ok("seg_size 0");
}

Test(open, rejects_a_consistent_header_that_the_file_size_contradicts, IDLE)
{
	/* a self-consistent header for 16 slots, in an 8-slot file */
	wr32(seg.base, OFF(hdr.slot_count), 2 * COUNT);
	wr64(seg.base, OFF(hdr.seg_size), 4096 + 80 * 2 * COUNT);
	expect_badfmt_then_ok("header says 16 slots");
	/* smaller than the file */
	wr32(seg.base, OFF(hdr.slot_count), COUNT / 2);
	wr64(seg.base, OFF(hdr.seg_size), 4096 + 80 * COUNT / 2);
	expect_badfmt_then_ok("header says 4 slots");
}

Test(open, rejects_a_file_whose_size_differs_from_the_header, IDLE)
{
	const off_t sizes[] = {
	        SEG - 128, SEG + 4096, SEG + 1,       4096,
	        4095,      1,          (off_t)1 << 40}; /* a sparse 1 TiB */

	/* The mapping is not touched while the file is short (SIGBUS). */
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		cr_assert_eq(ftruncate(seg.fd, sizes[i]), 0);
		expect_open(SHMRING_EBADFMT, "file size");
		cr_assert_eq(ftruncate(seg.fd, SEG), 0);
		restore_and_expect_ok("file size restored");
	}
}

Test(open, rejects_unknown_flags, IDLE)
{
	wr32(seg.base, OFF(hdr.flags), 2);
	expect_badfmt_then_ok("flags 2 (not a flag)");
	wr32(seg.base, OFF(hdr.flags), 0x80000000u);
	expect_badfmt_then_ok("flags top bit");
}

Test(open, rejects_a_nonzero_byte_in_every_reserved_region, IDLE)
{
#define RSV(f)                                                                 \
	{                                                                      \
		OFF(f), sizeof(((struct sr_seg *)0)->f), #f                    \
	}
	static const struct {
		size_t off, len;
		const char *what;
	} rsv[] = {
	        RSV(hdr.reserved),
	        RSV(role[0].reserved),
	        RSV(role[1].reserved),
	        RSV(head.reserved),
	        RSV(tail.reserved),
	        RSV(wake[0].reserved0),
	        RSV(wake[0].reserved1),
	        RSV(wake[1].reserved0),
	        RSV(wake[1].reserved1),
	        RSV(ctr[0].reserved),
	        RSV(ctr[1].reserved),
	        RSV(reserved),
	        /* a single-producer ring keeps the MPSC lines all zero */
	        RSV(mp.sleepers),
	        RSV(mp.reserved0),
	        RSV(mp.attached),
	        RSV(mp.reserved1),
	        RSV(mp.prod[0]),
	        RSV(mp.prod[31].reserved),
	};
#undef RSV

	for (size_t i = 0; i < sizeof rsv / sizeof rsv[0]; i++) {
		const size_t at[] = {0, rsv[i].len / 2, rsv[i].len - 1};

		for (size_t j = 0; j < 3; j++) {
			seg.base[rsv[i].off + at[j]] = 0x80;
			expect_badfmt_then_ok(rsv[i].what);
		}
	}
}

Test(open, segment_of_size_0_is_still_initialising, .timeout = 10)
{
	char path[TEST_NAME_LEN + 32];
	int fd;

	ring_name(name);
	seg_path(path, sizeof path, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	expect_open(SHMRING_ENOENT, "size 0");
	shmring_unlink(name);
}

Test(open, segment_with_magic_0_is_still_initialising, IDLE)
{
	wr64(seg.base, 0, 0);
	expect_open(SHMRING_ENOENT, "magic 0");
	restore_and_expect_ok("magic restored");
}

/* ---- indices on open ----------------------------------------------------- */

Test(open, rejects_indices_with_more_than_count_in_flight, IDLE)
{
	wr64(seg.base, OFF_HEAD, COUNT + 1);
	expect_badfmt_then_ok("head - tail = count + 1");
	wr64(seg.base, OFF_HEAD, UINT64_MAX);
	expect_badfmt_then_ok("head = 2^64 - 1");
}

Test(open, rejects_a_tail_ahead_of_the_head, IDLE)
{
	wr64(seg.base, OFF_HEAD, 3);
	wr64(seg.base, OFF_TAIL, 5);
	expect_badfmt_then_ok("tail > head");
	wr64(seg.base, OFF_TAIL, 1);
	expect_badfmt_then_ok("tail > head = 0");
}

Test(open, accepts_exactly_count_messages_in_flight, IDLE)
{
	wr64(seg.base, OFF_HEAD, 100 + COUNT);
	wr64(seg.base, OFF_TAIL, 100);
	expect_open(SHMRING_OK, "full ring");
}

Test(open, rejecting_corrupt_indices_leaves_the_role_records_unchanged, IDLE)
{
	uint8_t before[256];

	expect_open(SHMRING_OK, "both roles attached once, then closed");
	wr64(seg.base, OFF_HEAD, COUNT + 1);
	memcpy(before, seg.base + OFF(role), sizeof before);
	expect_open(SHMRING_EBADFMT, "head - tail = count + 1");
	cr_assert_eq(rd32(seg.base, OFF_STATE(0)), SR_ROLE_CLOSED,
	             "producer state: %u", rd32(seg.base, OFF_STATE(0)));
	cr_assert_eq(rd32(seg.base, OFF_STATE(1)), SR_ROLE_CLOSED,
	             "consumer state: %u", rd32(seg.base, OFF_STATE(1)));
	cr_assert_arr_eq(seg.base + OFF(role), before, 256,
	                 "role records changed by a failed open");
}

/* ---- attached handles ---------------------------------------------------- */

static void pair_on_name(void)
{
	/* a fresh pair, mapped raw as well */
	pair_open_or_fail(&p, SLOT, COUNT);
	memcpy(name, p.name, sizeof name);
	cr_assert_eq(rawseg_map(&seg, name, 1), 0);
}

static void pair_teardown(void)
{
	rawseg_unmap(&seg);
	pair_close(&p);
}

#define ATTACHED .init = pair_on_name, .fini = pair_teardown, .timeout = 10

static void send_n(uint64_t from, uint64_t n)
{
	uint8_t msg[SLOT];

	for (uint64_t s = from; s < from + n; s++) {
		size_t len = msg_size(s, SLOT);

		msg_fill(msg, len, s);
		cr_assert_eq(shmring_send(p.prod, msg, len, 0), SHMRING_OK);
	}
}

static void recv_n(uint64_t from, uint64_t n)
{
	uint8_t buf[SLOT];
	size_t len;

	for (uint64_t s = from; s < from + n; s++) {
		cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
		             SHMRING_OK, "seq %llu", (unsigned long long)s);
		cr_assert(msg_check(buf, len, s, SLOT));
	}
}

Test(recv, rejects_a_head_too_far_ahead_and_recovers_when_restored, ATTACHED)
{
	const void *d;
	size_t len;

	send_n(0, 3); /* the consumer has not looked yet: cache says empty */
	wr64(seg.base, OFF_HEAD, COUNT + 1);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EBADFMT);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_EBADFMT);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 10), SHMRING_EBADFMT,
	             "a waiting call fails at once too");
	cr_assert_eq(shmring_release(p.cons), SHMRING_EINVAL);
	wr64(seg.base, OFF_HEAD, 3);
	recv_n(0, 3);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EAGAIN);
}

Test(recv, rejects_a_head_behind_the_tail_and_recovers_when_restored, ATTACHED)
{
	size_t len;

	send_n(0, 2);
	recv_n(0, 2); /* tail = 2, cache says empty */
	send_n(2, 2);
	wr64(seg.base, OFF_HEAD, 1);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EBADFMT);
	wr64(seg.base, OFF_HEAD, 4);
	recv_n(2, 2);
}

Test(send, rejects_a_tail_ahead_of_the_head_and_recovers_when_restored,
     ATTACHED)
{
	void *w;

	send_n(0, COUNT); /* full: the producer must look at the tail */
	wr64(seg.base, OFF_TAIL, COUNT + 1);
	cr_assert_eq(shmring_send(p.prod, "", 0, 0), SHMRING_EBADFMT);
	cr_assert_eq(shmring_claim(p.prod, 0, &w, 0), SHMRING_EBADFMT);
	cr_assert_eq(shmring_send(p.prod, "", 0, 10), SHMRING_EBADFMT);
	wr64(seg.base, OFF_TAIL, 0);
	cr_assert_eq(shmring_send(p.prod, "", 0, 0), SHMRING_EAGAIN);
	recv_n(0, 1);
	send_n(COUNT, 1);
	recv_n(1, COUNT);
}

Test(send, rejects_a_tail_too_far_behind_and_recovers_when_restored, ATTACHED)
{
	send_n(0, COUNT);
	recv_n(0, 2);
	send_n(COUNT, 2);            /* head 10, tail 2: full again */
	wr64(seg.base, OFF_TAIL, 1); /* head - tail = 9 > count */
	cr_assert_eq(shmring_send(p.prod, "", 0, 0), SHMRING_EBADFMT);
	wr64(seg.base, OFF_TAIL, 2);
	cr_assert_eq(shmring_send(p.prod, "", 0, 0), SHMRING_EAGAIN);
	recv_n(2, COUNT);
}

Test(recv, rejects_a_record_length_above_max_msg_and_keeps_the_message,
     ATTACHED)
{
	const uint32_t bad[] = {SLOT + 1, 0x80000000u, UINT32_MAX};
	const void *d;
	size_t len = 0;
	uint32_t good;

	send_n(0, 2);
	good = rd32(seg.base, OFF_SLOT(0));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		wr32(seg.base, OFF_SLOT(0), bad[i]);
		cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0),
		             SHMRING_EBADFMT);
		cr_assert_eq(shmring_peek(p.cons, &d, &len, 0),
		             SHMRING_EBADFMT);
		cr_assert_eq(shmring_release(p.cons), SHMRING_EINVAL,
		             "a rejected peek leaves nothing to release");
		cr_assert_eq(rd64(seg.base, OFF_TAIL), 0, "tail unchanged");
	}
	wr32(seg.base, OFF_SLOT(0), good);
	recv_n(0, 2);
}

Test(recvv, keeps_the_messages_before_a_bad_length_and_stops_there, ATTACHED)
{
	uint8_t bytes[4][SLOT];
	shmring_buf v[4];
	size_t n = 99;
	uint32_t good;

	for (int i = 0; i < 4; i++)
		v[i] = (shmring_buf){bytes[i], SLOT};
	send_n(0, 3);
	good = rd32(seg.base, OFF_SLOT(1));
	wr32(seg.base, OFF_SLOT(1), SLOT + 1);
	cr_assert_eq(shmring_recvv(p.cons, v, 4, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 1, "the message before the bad one");
	cr_assert(msg_check(bytes[0], v[0].len, 0, SLOT));
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 1, "released only that one");
	cr_assert_eq(shmring_recvv(p.cons, v, 4, &n, 0), SHMRING_EBADFMT);
	cr_assert_eq(n, 0);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 1, "tail unchanged");
	wr32(seg.base, OFF_SLOT(1), good);
	recv_n(1, 2);
}

Test(recvv, rejects_a_head_too_far_ahead, ATTACHED)
{
	uint8_t bytes[SLOT];
	shmring_buf v = {bytes, SLOT};
	size_t n = 99;

	send_n(0, 2);
	wr64(seg.base, OFF_HEAD, COUNT + 1);
	cr_assert_eq(shmring_recvv(p.cons, &v, 1, &n, 0), SHMRING_EBADFMT);
	cr_assert_eq(n, 0);
	wr64(seg.base, OFF_HEAD, 2);
	recv_n(0, 2);
}

/* The peer's index never moves back: a head or tail behind what this
 * handle already saw is EBADFMT, even where it would still be a valid
 * position (found by fuzz_ops: recvv returned OK with nothing taken). */
Test(recvv, a_head_moved_back_still_delivers_what_was_seen_then_is_ebadfmt,
     ATTACHED)
{
	uint8_t bytes[4][SLOT];
	shmring_buf v[4];
	size_t n = 99, len;

	for (int i = 0; i < 4; i++)
		v[i] = (shmring_buf){bytes[i], SLOT};
	send_n(0, 3);
	recv_n(0, 1); /* the consumer's cache: head 3, pos 1 */
	wr64(seg.base, OFF_HEAD, 1);
	cr_assert_eq(shmring_recvv(p.cons, v, 4, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 2, "the two it had seen");
	cr_assert(msg_check(bytes[0], v[0].len, 1, SLOT));
	cr_assert(msg_check(bytes[1], v[1].len, 2, SLOT));
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EBADFMT,
	             "head 1, behind the 3 already seen");
	wr64(seg.base, OFF_HEAD, 3);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EAGAIN);
	send_n(3, 1);
	recv_n(3, 1);
}

Test(sendv, a_tail_moved_back_is_ebadfmt_after_what_the_cache_allowed, ATTACHED)
{
	uint8_t bytes[4][SLOT];
	shmring_msg v[4];
	size_t sent = 99;

	for (int i = 0; i < 4; i++) {
		v[i].len = msg_size(COUNT + (uint64_t)i, SLOT);
		v[i].data = bytes[i];
		msg_fill(bytes[i], v[i].len, COUNT + (uint64_t)i);
	}
	send_n(0, COUNT);
	recv_n(0, 3);
	send_n(COUNT, 1);            /* the producer re-reads tail: 3; head 9 */
	wr64(seg.base, OFF_TAIL, 1); /* behind the 3 it saw, 8 in flight */
	cr_assert_eq(shmring_sendv(p.prod, v + 1, 3, &sent, 0),
	             SHMRING_EBADFMT);
	cr_assert_eq(sent, 2, "the two slots the cached tail showed free");
	wr64(seg.base, OFF_TAIL, 3);
	recv_n(3, COUNT);
}

Test(sendv, keeps_what_it_sent_when_the_tail_goes_bad, ATTACHED)
{
	uint8_t bytes[4][SLOT];
	shmring_msg v[4];
	size_t sent = 99;

	for (int i = 0; i < 4; i++) {
		v[i].len = msg_size(COUNT - 2 + (uint64_t)i, SLOT);
		v[i].data = bytes[i];
		msg_fill(bytes[i], v[i].len, COUNT - 2 + (uint64_t)i);
	}
	send_n(0, COUNT - 2); /* the cached tail leaves room for 2 */
	recv_n(0, COUNT - 2);
	wr64(seg.base, OFF_TAIL, COUNT + 5); /* ahead of the head */
	cr_assert_eq(shmring_sendv(p.prod, v, 4, &sent, 0), SHMRING_EBADFMT);
	cr_assert_eq(sent, 2, "the two the cache allowed were sent");
	cr_assert_eq(rd64(seg.base, OFF_HEAD), COUNT, "and published");
	wr64(seg.base, OFF_TAIL, COUNT - 2);
	cr_assert_eq(shmring_sendv(p.prod, v + 2, 2, &sent, 0), SHMRING_OK);
	cr_assert_eq(sent, 2);
	recv_n(COUNT - 2, 4);
}

Test(peek, keeps_the_length_it_checked, ATTACHED)
{
	const void *d;
	size_t len;

	send_n(1, 1); /* msg_size(1) bytes */
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	wr32(seg.base, OFF_SLOT(0), UINT32_MAX);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_eq(len, msg_size(1, SLOT), "length read once, not again");
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
}

Test(ring, handles_never_reread_the_geometry_after_open, ATTACHED)
{
	memset(seg.base, 0xff, 128); /* the whole header line */
	send_n(0, COUNT);
	recv_n(0, COUNT);
	cr_assert_eq(shmring_max_msg(p.prod), SLOT);
	cr_assert_eq(shmring_max_msg(p.cons), SLOT);
}

Test(recv, garbage_in_the_peer_record_is_not_a_crash, ATTACHED)
{
	size_t len;

	wr32(seg.base, OFF_STATE(0), 77); /* not a defined state */
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 10),
	             SHMRING_ETIMEDOUT);
	wr64(seg.base, OFF_OWNER(0), UINT64_MAX);
	wr32(seg.base, OFF_STATE(0), SR_ROLE_ATTACHED);
	len = 5;
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 10), SHMRING_EPEERDEAD,
	             "an owner token naming no process is a dead producer");
}

Test(recv, garbage_in_the_own_wake_word_costs_only_a_wake_up, ATTACHED)
{
	size_t len;

	shmring_set_spin(p.cons, 0);
	wr32(seg.base, OFF(wake[1].word), UINT32_MAX);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 20),
	             SHMRING_ETIMEDOUT);
}

Test(open, takes_over_a_role_whose_owner_token_is_garbage, IDLE)
{
	shmring *r = NULL;

	wr64(seg.base, OFF_OWNER(1), UINT64_MAX);
	wr32(seg.base, OFF_STATE(1), SR_ROLE_ATTACHED);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_OK);
	shmring_close(r);
	wr64(seg.base, OFF_OWNER(0), UINT64_C(0x7fffffff00000000) | 0x7ffffffe);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &r), SHMRING_OK);
	shmring_close(r);
}

Test(send, a_failed_open_does_not_undo_the_consumers_close, ATTACHED)
{
	shmring *r = NULL;

	shmring_close(p.cons);
	p.cons = NULL;
	cr_assert_eq(shmring_send(p.prod, "x", 1, 0), SHMRING_ECLOSED);
	/* a would-be consumer finds corrupt indices and is turned away */
	wr64(seg.base, OFF_HEAD, COUNT + 1);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_EBADFMT);
	wr64(seg.base, OFF_HEAD, 0);
	/* no consumer ever attached since the close */
	cr_assert_eq(shmring_send(p.prod, "x", 1, 0), SHMRING_ECLOSED,
	             "the consumer closed and none attached since, but the "
	             "consumer record now says attached: %u",
	             rd32(seg.base, OFF_STATE(1)));
}

Test(create, reclaims_a_segment_that_is_not_a_ring, IDLE)
{
	shmring *r = NULL;

	memset(seg.base, 0xa5, 4096); /* nobody can be attached to this */
	expect_open(SHMRING_EBADFMT, "garbage");
	cr_assert_eq(shmring_create(name, NULL, SHMRING_CONSUMER, &r),
	             SHMRING_OK);
	cr_assert_eq(shmring_max_msg(r), TEST_DEFAULT_MAX_MSG);
	shmring_close(r);
}

/* ---- record words ---------------------------------------------------------
 * A ring of 16-byte strides (slot_size 8), 8 slots, the default max_msg
 * (8 * 16 / 2 - 8 = 56): records span slots. Each test corrupts one record
 * word below head, checks that every consumer call says EBADFMT and moves
 * nothing, then restores the word and receives everything. */

#define R_COUNT   8
#define R_STRIDE  16
#define R_MAX     56
#define R_SLOT(i) (4096 + R_STRIDE * ((i) & (R_COUNT - 1)))
#define R_WORD(type, len, lap)                                                 \
	((uint64_t)(len) | (uint64_t)(type) << 32 | (uint64_t)(lap) << 34)

static void records_setup(void)
{
	shmring_config cfg = {.slot_size = 8, .slot_count = R_COUNT};

	pair_open_cfg_or_fail(&p, &cfg);
	cr_assert_eq(shmring_max_msg(p.cons), R_MAX);
	memcpy(name, p.name, sizeof name);
	cr_assert_eq(rawseg_map(&seg, name, 1), 0);
}

#define RECORDS .init = records_setup, .fini = pair_teardown, .timeout = 10

/* Messages @from.. of the lengths in @lens (bytes from msg_fill). */
static void r_send(uint64_t from, const size_t *lens, size_t n)
{
	uint8_t msg[R_MAX];

	for (size_t i = 0; i < n; i++) {
		msg_fill(msg, lens[i], from + i);
		cr_assert_eq(shmring_send(p.prod, msg, lens[i], 0), SHMRING_OK);
	}
}

static void r_recv(uint64_t from, const size_t *lens, size_t n)
{
	uint8_t buf[R_MAX], want[R_MAX];
	size_t len;

	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
		             SHMRING_OK, "message %zu", i);
		cr_assert_eq(len, lens[i]);
		msg_fill(want, lens[i], from + i);
		cr_assert_arr_eq(buf, want, len);
	}
}

/* Every consumer call rejects the record at tail and moves nothing. */
static void r_expect_badfmt(const char *what)
{
	uint64_t tail = rd64(seg.base, OFF_TAIL);
	uint8_t buf[R_MAX];
	shmring_buf v[2] = {{buf, sizeof buf}, {buf, sizeof buf}};
	shmring_msg m[2];
	const void *d;
	size_t len, n = 9;

	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_EBADFMT, "recv: %s", what);
	cr_assert_eq(shmring_recvv(p.cons, v, 2, &n, 0), SHMRING_EBADFMT,
	             "recvv: %s", what);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_EBADFMT,
	             "peek: %s", what);
	cr_assert_eq(shmring_peekv(p.cons, m, 2, &n, 0), SHMRING_EBADFMT,
	             "peekv: %s", what);
	cr_assert_eq(n, 0);
	cr_assert_eq(shmring_release(p.cons), SHMRING_EINVAL);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), tail, "tail moved: %s", what);
}

Test(records, a_word_from_another_lap_is_ebadfmt, RECORDS)
{
	const size_t lens[] = {5, 40};
	uint64_t good;

	r_send(0, lens, 2);
	good = rd64(seg.base, R_SLOT(0));
	cr_assert_eq(good, R_WORD(1, 5, 0));
	wr64(seg.base, R_SLOT(0), R_WORD(1, 5, 1));
	r_expect_badfmt("lap 1 at index 0");
	wr64(seg.base, R_SLOT(0), good | (UINT64_C(0x3fffffff) << 34));
	r_expect_badfmt("lap 2^30 - 1");
	wr64(seg.base, R_SLOT(0), good);
	r_recv(0, lens, 2);
}

Test(records, an_empty_or_reserved_word_below_head_is_ebadfmt, RECORDS)
{
	const size_t lens[] = {8};

	r_send(0, lens, 1);
	wr64(seg.base, R_SLOT(0), 0);
	r_expect_badfmt("all zero");
	wr64(seg.base, R_SLOT(0), R_WORD(0, 8, 0));
	r_expect_badfmt("type empty");
	wr64(seg.base, R_SLOT(0), R_WORD(3, 8, 0));
	r_expect_badfmt("type reserved (multi-producer only)");
	wr64(seg.base, R_SLOT(0), R_WORD(1, 8, 0));
	r_recv(0, lens, 1);
}

Test(records, a_length_past_max_msg_or_past_head_is_ebadfmt, RECORDS)
{
	const size_t lens[] = {40, 8, 8, 8}; /* 3 + 1 + 1 + 1 slots */

	r_send(0, lens, 4);
	cr_assert_eq(rd64(seg.base, OFF_HEAD), 6);
	wr64(seg.base, R_SLOT(0), R_WORD(1, R_MAX + 1, 0));
	r_expect_badfmt("len max_msg + 1, extent within head");
	wr64(seg.base, R_SLOT(0), R_WORD(1, UINT32_MAX, 0));
	r_expect_badfmt("len 2^32 - 1");
	wr64(seg.base, R_SLOT(0), R_WORD(1, 40, 0));
	/* the last record: one slot below head, its word says two */
	wr64(seg.base, R_SLOT(5), R_WORD(1, 9, 0));
	r_recv(0, lens, 3);
	r_expect_badfmt("extent past head");
	wr64(seg.base, R_SLOT(5), R_WORD(2, 24, 0));
	r_expect_badfmt("padding past head");
	wr64(seg.base, R_SLOT(5), R_WORD(1, 8, 0));
	r_recv(3, lens + 3, 1);
}

Test(records, a_record_or_padding_past_the_end_of_the_ring_is_ebadfmt, RECORDS)
{
	const size_t one[] = {8}, lens[] = {8, 8, 8};
	uint64_t good;

	for (uint64_t i = 0; i < 6; i++) {
		r_send(i, one, 1);
		r_recv(i, one, 1);
	}
	r_send(6, lens, 3); /* slots 6, 7, 0: head 9 - tail 6 = 3 slots */
	good = rd64(seg.base, R_SLOT(6));
	wr64(seg.base, R_SLOT(6), R_WORD(1, 40, 0)); /* 3 slots from 6 */
	r_expect_badfmt("message running past the last slot");
	wr64(seg.base, R_SLOT(6), R_WORD(2, 40, 0));
	r_expect_badfmt("padding running past the last slot");
	wr64(seg.base, R_SLOT(6), good);
	r_recv(6, lens, 3);
}

Test(records, padding_is_skipped_wherever_it_is_valid, RECORDS)
{
	const size_t lens[] = {8, 8, 8, 8};
	uint8_t buf[R_MAX];
	size_t len;

	r_send(0, lens, 4);
	/* a peer turns slots 1..2 into padding: never delivered */
	wr64(seg.base, R_SLOT(1), R_WORD(2, 24, 0));
	r_recv(0, lens, 1);
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_OK);
	cr_assert_eq(len, 8);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 4);
}

Test(records, peekv_keeps_the_messages_before_a_bad_record, RECORDS)
{
	const size_t lens[] = {8, 24, 8}; /* 1 + 2 + 1 slots */
	shmring_msg m[4];
	size_t n = 0;
	uint64_t good;

	r_send(0, lens, 3);
	good = rd64(seg.base, R_SLOT(3));
	wr64(seg.base, R_SLOT(3), R_WORD(1, 8, 5));
	cr_assert_eq(shmring_peekv(p.cons, m, 4, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 2, "the two before the bad record");
	cr_assert_eq(m[1].len, 24);
	cr_assert_eq(shmring_releasev(p.cons, 2), SHMRING_OK);
	cr_assert_eq(rd64(seg.base, OFF_TAIL), 3);
	r_expect_badfmt("wrong lap after a peekv");
	wr64(seg.base, R_SLOT(3), good);
	r_recv(2, lens + 2, 1);
}
