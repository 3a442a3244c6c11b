/* SPDX-License-Identifier: MIT */
/*
 * test_badfmt.c -- a hostile or buggy peer on Windows: it maps the segment
 * itself (OpenFileMappingW/MapViewOfFile) and scribbles on the header, the
 * indices or a record word, or it made the named objects itself
 * (CreateFileMappingW). Every case must be SHMRING_EBADFMT (or the code
 * named), never a crash, and must leave the ring usable once repaired.
 * The segment is format version 2 (docs/format.md): strides that are
 * multiples of 16, records of one 64-bit word (len | type << 32 | lap << 34)
 * and a payload over one or more slots. The scenarios are those of
 * tests/test_untrusted.c.
 */
#include <string.h>

#include "layout.h"
#include "shmring.h"
#include "tap.h"
#include "winutil.h"

#define SLOT   40u /* stride roundup(8 + 40, 16) = 48: no 64-byte stride */
#define STRIDE 48u
#define SLOTS  8u
#define SEG    (SR_HDR_SIZE + STRIDE * SLOTS) /* 4480: not a page multiple */
#define MAXMSG (STRIDE * SLOTS / 2 - 8)       /* the default: 184 */

/* ---- scribbling on a real ring's header --------------------------------- */

typedef void (*mutate_fn)(struct sr_seg *s);

/*
 * Create a ring (producer), let @mutate scribble on it, and check that
 * opening the consumer is @want; then repair it and check that it opens
 * and that the producer still holds its role. The ring's own header is
 * checked first, so that every mutation starts from the bytes
 * docs/format.md describes.
 */
static int open_after(mutate_fn mutate, int want)
{
	char name[WU_NAME_MAX];
	shmring_config cfg = {.slot_size = SLOT, .slot_count = SLOTS};
	static uint8_t saved[SR_HDR_SIZE];
	shmring *p = NULL, *c = NULL, *q = NULL;
	struct sr_seg *s;
	size_t size = 0;

	wu_name(name, "bad");
	CHECK_RC(shmring_create(name, &cfg, SHMRING_PRODUCER, &p), SHMRING_OK);
	s = wu_seg_map(name, &size);
	CHECK(s != NULL);
	CHECK_EQ(size, 8192); /* the OS rounds to the page */
	CHECK_EQ(s->hdr.version, 2);
	CHECK_EQ(s->hdr.slot_stride, STRIDE);
	CHECK_EQ(s->hdr.seg_size, SEG);
	CHECK_EQ(s->hdr.max_msg, MAXMSG);
	memcpy(saved, s, sizeof saved);
	mutate(s);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), want);
	CHECK(want == SHMRING_OK || c == NULL);
	shmring_close(c);
	c = NULL;
	memcpy(s, saved, sizeof saved);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &q), SHMRING_EBUSY);
	wu_seg_unmap(s);
	shmring_close(c);
	shmring_close(p);
	return 0;
}

#define OPEN_AFTER(fn, want, stmt)                                             \
	static void fn##_m(struct sr_seg *s)                                   \
	{                                                                      \
		stmt;                                                          \
	}                                                                      \
	static int fn(void)                                                    \
	{                                                                      \
		return open_after(fn##_m, want);                               \
	}
#define BAD_OPEN(fn, stmt) OPEN_AFTER(fn, SHMRING_EBADFMT, stmt)

BAD_OPEN(wrong_magic, atomic_store(&s->hdr.magic, SR_MAGIC ^ 1))
BAD_OPEN(wrong_version, s->hdr.version = SR_FORMAT_VERSION + 1)
BAD_OPEN(version_0, s->hdr.version = 0)
/* What format 1 wrote for this geometry: a 64-byte stride (4-byte length
 * before a 40-byte slot, rounded to the line) and no max_msg. Its size
 * lies within the mapping's last page, so only the fields tell. */
BAD_OPEN(version_1_segment,
         (s->hdr.version = 1, s->hdr.slot_stride = 64,
          s->hdr.seg_size = SR_HDR_SIZE + 64 * SLOTS, s->hdr.max_msg = 0))
BAD_OPEN(version_1_with_a_v2_geometry, s->hdr.version = 1)
BAD_OPEN(wrong_hdr_size, s->hdr.hdr_size = 2 * SR_HDR_SIZE)
BAD_OPEN(slot_size_disagrees_with_stride, s->hdr.slot_size = SLOT + 8)
BAD_OPEN(slot_size_beyond_limit, s->hdr.slot_size = SHMRING_MAX_SLOT_SIZE + 1)
BAD_OPEN(stride_not_derived, s->hdr.slot_stride = STRIDE + 16)
BAD_OPEN(stride_of_version_1, s->hdr.slot_stride = 64)
BAD_OPEN(stride_not_a_multiple_of_16, s->hdr.slot_stride = STRIDE + 8)
BAD_OPEN(stride_zero, s->hdr.slot_stride = 0)
BAD_OPEN(slot_count_not_power_of_two, s->hdr.slot_count = 6)
BAD_OPEN(slot_count_zero, s->hdr.slot_count = 0)
BAD_OPEN(slot_count_one, s->hdr.slot_count = 1)
BAD_OPEN(unknown_flags, s->hdr.flags = 2) /* 1 is SHMRING_F_MPSC */
BAD_OPEN(seg_size_disagrees_with_geometry, s->hdr.seg_size += STRIDE)
BAD_OPEN(seg_size_short_of_geometry, s->hdr.seg_size -= 16)
/* consistent, but larger than what the OS maps (8192 bytes) */
BAD_OPEN(geometry_larger_than_mapping,
         (s->hdr.slot_count = 128,
          s->hdr.seg_size = SR_HDR_SIZE + 128 * STRIDE))
/* max_msg: 0 (the config's "default" is never stored), one byte more than
 * one record over every slot, and beyond the limit */
BAD_OPEN(max_msg_zero, s->hdr.max_msg = 0)
BAD_OPEN(max_msg_beyond_the_ring, s->hdr.max_msg = STRIDE * SLOTS - 7)
BAD_OPEN(max_msg_beyond_the_limit, s->hdr.max_msg = SHMRING_MAX_MSG_LIMIT + 1)
BAD_OPEN(max_msg_all_ones, s->hdr.max_msg = UINT32_MAX)
/* any max_msg up to one record over every slot is a valid ring */
OPEN_AFTER(max_msg_of_the_whole_ring_opens, SHMRING_OK,
           s->hdr.max_msg = STRIDE * SLOTS - 8)
OPEN_AFTER(max_msg_one_opens, SHMRING_OK, s->hdr.max_msg = 1)
BAD_OPEN(header_reserved_not_zero, s->hdr.reserved[63] = 1)
BAD_OPEN(header_reserved_first_byte_not_zero, s->hdr.reserved[0] = 0x80)
BAD_OPEN(role_reserved_not_zero, s->role[1].reserved[0] = 0x80)
BAD_OPEN(index_reserved_not_zero, s->tail.reserved[119] = 1)
BAD_OPEN(wake_reserved_not_zero, s->wake[0].reserved1[3] = 1)
BAD_OPEN(wake_reserved0_not_zero, s->wake[1].reserved0[123] = 1)
BAD_OPEN(page_reserved_not_zero, s->reserved[300] = 1)
BAD_OPEN(head_too_far_ahead, atomic_store(&s->head.value, SLOTS + 1))
BAD_OPEN(tail_ahead_of_head, atomic_store(&s->tail.value, 1))
/* the CPU hints are not reserved: any value opens (and is only a hint) */
OPEN_AFTER(garbage_cpu_hints_open, SHMRING_OK,
           (atomic_store(&s->wake[0].cpu, UINT32_MAX),
            atomic_store(&s->wake[1].cpu, 12345)))

/* A ring still being initialised (magic 0) is invisible, not bad. */
OPEN_AFTER(unpublished_ring_is_enoent, SHMRING_ENOENT,
           atomic_store(&s->hdr.magic, 0))

/* ---- scribbling while both sides are attached --------------------------- */

struct att {
	char name[WU_NAME_MAX];
	shmring *p, *c;
	struct sr_seg *s;
	uint32_t stride, count;
};

static int att_open_geom(struct att *a, uint32_t slot_size, uint32_t count)
{
	shmring_config cfg = {.slot_size = slot_size, .slot_count = count};

	wu_name(a->name, "bad");
	a->p = a->c = NULL;
	a->stride = (8 + slot_size + 15) & ~15u;
	a->count = count;
	if (shmring_create(a->name, &cfg, SHMRING_PRODUCER, &a->p) ||
	    shmring_open(a->name, SHMRING_CONSUMER, &a->c))
		return -1;
	a->s = wu_seg_map(a->name, NULL);
	return a->s && a->s->hdr.slot_stride == a->stride ? 0 : -1;
}

static int att_open(struct att *a)
{
	return att_open_geom(a, SLOT, SLOTS);
}

static void att_close(struct att *a)
{
	wu_seg_unmap(a->s);
	shmring_close(a->p);
	shmring_close(a->c);
}

/* The record word of the record that starts at index @i. */
static _Atomic uint64_t *rec_at(const struct att *a, uint64_t i)
{
	return (_Atomic uint64_t *)(void *)((uint8_t *)a->s + SR_HDR_SIZE +
	                                    (i & (a->count - 1)) * a->stride);
}

#define REC_WORD(type, len, lap)                                               \
	((uint64_t)(len) | (uint64_t)(type) << 32 | (uint64_t)(lap) << 34)

static uint64_t tail_of(const struct att *a)
{
	return atomic_load(&a->s->tail.value);
}

static int head_jump_is_ebadfmt_on_recv(void)
{
	struct att a;
	const void *r;
	size_t len;

	CHECK(att_open(&a) == 0);
	atomic_store(&a.s->head.value, SLOTS + 5);
	CHECK_RC(shmring_recv(a.c, NULL, 0, &len, 0), SHMRING_EBADFMT);
	CHECK_RC(shmring_peek(a.c, &r, &len, 100), SHMRING_EBADFMT);
	atomic_store(&a.s->head.value, 0);
	CHECK_RC(shmring_send(a.p, "ok", 2, 0), SHMRING_OK);
	CHECK_RC(shmring_recv(a.c, NULL, 0, &len, 0), SHMRING_EMSGSIZE);
	att_close(&a);
	return 0;
}

static int head_moving_back_is_ebadfmt_on_recv(void)
{
	struct att a;
	char b[8];
	size_t len;

	CHECK(att_open(&a) == 0);
	CHECK_RC(shmring_send(a.p, "1", 1, 0), SHMRING_OK);
	CHECK_RC(shmring_send(a.p, "2", 1, 0), SHMRING_OK);
	CHECK_RC(shmring_recv(a.c, b, 8, &len, 0), SHMRING_OK);
	CHECK_RC(shmring_recv(a.c, b, 8, &len, 0), SHMRING_OK);
	atomic_store(&a.s->head.value, 1); /* behind our position */
	CHECK_RC(shmring_recv(a.c, b, 8, &len, 0), SHMRING_EBADFMT);
	att_close(&a);
	return 0;
}

static int tail_ahead_is_ebadfmt_on_send(void)
{
	struct att a;
	void *w;

	CHECK(att_open(&a) == 0);
	for (unsigned i = 0; i < SLOTS; i++)
		CHECK_RC(shmring_send(a.p, "f", 1, 0), SHMRING_OK);
	atomic_store(&a.s->tail.value, SLOTS + 3);
	CHECK_RC(shmring_send(a.p, "f", 1, 0), SHMRING_EBADFMT);
	CHECK_RC(shmring_claim(a.p, 1, &w, 50), SHMRING_EBADFMT);
	atomic_store(&a.s->tail.value, 0);
	CHECK_RC(shmring_send(a.p, "f", 1, 0), SHMRING_EAGAIN); /* repaired */
	att_close(&a);
	return 0;
}

/* Every consumer call rejects the record at tail and moves nothing; the
 * message itself is never lost. */
static int expect_badfmt(struct att *a, const char *what)
{
	uint64_t tail = tail_of(a);
	uint8_t buf[512];
	shmring_buf v[2] = {{buf, sizeof buf}, {buf, sizeof buf}};
	shmring_msg m[2];
	const void *d;
	size_t len, n = 9;

	TAP_NOTE("corrupt record: %s", what);
	CHECK_RC(shmring_recv(a->c, buf, sizeof buf, &len, 0), SHMRING_EBADFMT);
	CHECK_RC(shmring_recv(a->c, NULL, 0, &len, 0), SHMRING_EBADFMT);
	CHECK_RC(shmring_recvv(a->c, v, 2, &n, 0), SHMRING_EBADFMT);
	CHECK_EQ(n, 0);
	CHECK_RC(shmring_peek(a->c, &d, &len, 0), SHMRING_EBADFMT);
	n = 9;
	CHECK_RC(shmring_peekv(a->c, m, 2, &n, 0), SHMRING_EBADFMT);
	CHECK_EQ(n, 0);
	CHECK_RC(shmring_release(a->c), SHMRING_EINVAL); /* nothing peeked */
	CHECK_RC(shmring_peek(a->c, &d, &len, 30), SHMRING_EBADFMT); /* waits */
	CHECK_EQ(tail_of(a), tail);
	return 0;
}

#define EXPECT_BADFMT(a, what) CHECK(expect_badfmt(a, what) == 0)

/* Messages @from.. of lengths @lens (wu_msg_fill bytes, seed 3). */
static int r_send(struct att *a, uint64_t from, const size_t *lens, size_t n)
{
	uint8_t msg[512];

	for (size_t i = 0; i < n; i++) {
		wu_msg_fill(msg, lens[i], 3, from + i);
		CHECK_RC(shmring_send(a->p, msg, lens[i], 0), SHMRING_OK);
	}
	return 0;
}

static int r_recv(struct att *a, uint64_t from, const size_t *lens, size_t n)
{
	uint8_t buf[512], want[512];
	size_t len;

	for (size_t i = 0; i < n; i++) {
		CHECK_RC(shmring_recv(a->c, buf, sizeof buf, &len, 0),
		         SHMRING_OK);
		CHECK_EQ(len, lens[i]);
		wu_msg_fill(want, len, 3, from + i);
		CHECK(memcmp(buf, want, len) == 0);
	}
	return 0;
}

/* 1 if @len bytes at @p are message @seq of r_send(). */
static int is_msg(const void *p, size_t len, uint64_t seq)
{
	uint8_t want[512];

	wu_msg_fill(want, len, 3, seq);
	return len <= sizeof want && memcmp(p, want, len) == 0;
}

#define R_SEND(a, from, lens, n) CHECK(r_send(a, from, lens, n) == 0)
#define R_RECV(a, from, lens, n) CHECK(r_recv(a, from, lens, n) == 0)

/* v1's case ported: a length beyond what its slots (and head) allow, or
 * beyond max_msg, is EBADFMT and the message is kept. */
static int record_length_beyond_its_slots_is_ebadfmt_and_kept(void)
{
	static const uint32_t lens[] = {STRIDE - 8 + 1, MAXMSG, MAXMSG + 1,
	                                0x80000000u, 0xffffffffu};
	struct att a;
	char b[SLOT];
	size_t len;

	CHECK(att_open(&a) == 0);
	CHECK_RC(shmring_send(a.p, "keep", 4, 0), SHMRING_OK);
	CHECK_EQ(atomic_load(rec_at(&a, 0)), REC_WORD(SR_REC_MSG, 4, 0));
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		atomic_store(rec_at(&a, 0), REC_WORD(SR_REC_MSG, lens[i], 0));
		EXPECT_BADFMT(&a, "length beyond the one slot below head");
	}
	atomic_store(rec_at(&a, 0), REC_WORD(SR_REC_MSG, 4, 0)); /* repaired */
	CHECK_RC(shmring_recv(a.c, b, sizeof b, &len, 0), SHMRING_OK);
	CHECK(len == 4 && memcmp(b, "keep", 4) == 0);
	att_close(&a);
	return 0;
}

/* The record tests of tests/test_untrusted.c: 16-byte strides, 8 slots,
 * max_msg 56, so that records span slots. */
#define R_SLOT  8u
#define R_COUNT 8u
#define R_MAX   56u

static int word_from_another_lap_is_ebadfmt(void)
{
	static const size_t lens[] = {5, 40};
	struct att a;
	uint64_t good;

	CHECK(att_open_geom(&a, R_SLOT, R_COUNT) == 0);
	CHECK_EQ(shmring_max_msg(a.c), R_MAX);
	R_SEND(&a, 0, lens, 2);
	good = atomic_load(rec_at(&a, 0));
	CHECK_EQ(good, REC_WORD(SR_REC_MSG, 5, 0));
	CHECK_EQ(atomic_load(rec_at(&a, 1)), REC_WORD(SR_REC_MSG, 40, 0));
	atomic_store(rec_at(&a, 0), REC_WORD(SR_REC_MSG, 5, 1));
	EXPECT_BADFMT(&a, "lap 1 at index 0");
	atomic_store(rec_at(&a, 0), good | UINT64_C(0x3fffffff) << 34);
	EXPECT_BADFMT(&a, "lap 2^30 - 1");
	atomic_store(rec_at(&a, 0), good);
	R_RECV(&a, 0, lens, 2);
	att_close(&a);
	return 0;
}

/* After a whole lap, a word left from the lap before never passes. */
static int stale_word_of_the_previous_lap_is_ebadfmt(void)
{
	static const size_t one[] = {8};
	struct att a;
	uint64_t good;

	CHECK(att_open_geom(&a, R_SLOT, R_COUNT) == 0);
	for (uint64_t i = 0; i < R_COUNT; i++) {
		R_SEND(&a, i, one, 1);
		R_RECV(&a, i, one, 1);
	}
	R_SEND(&a, R_COUNT, one, 1); /* index 8: slot 0, lap 1 */
	good = atomic_load(rec_at(&a, R_COUNT));
	CHECK_EQ(good, REC_WORD(SR_REC_MSG, 8, 1));
	atomic_store(rec_at(&a, R_COUNT), REC_WORD(SR_REC_MSG, 8, 0));
	EXPECT_BADFMT(&a, "the word lap 0 left in slot 0");
	atomic_store(rec_at(&a, R_COUNT), REC_WORD(SR_REC_MSG, 8, 2));
	EXPECT_BADFMT(&a, "a word from the next lap");
	atomic_store(rec_at(&a, R_COUNT), good);
	R_RECV(&a, R_COUNT, one, 1);
	att_close(&a);
	return 0;
}

static int empty_or_reserved_word_below_head_is_ebadfmt(void)
{
	static const size_t lens[] = {8};
	struct att a;

	CHECK(att_open_geom(&a, R_SLOT, R_COUNT) == 0);
	R_SEND(&a, 0, lens, 1);
	atomic_store(rec_at(&a, 0), 0);
	EXPECT_BADFMT(&a, "all zero");
	atomic_store(rec_at(&a, 0), REC_WORD(SR_REC_EMPTY, 8, 0));
	EXPECT_BADFMT(&a, "type empty");
	atomic_store(rec_at(&a, 0), REC_WORD(SR_REC_RESV, 8, 0));
	EXPECT_BADFMT(&a, "type reserved (multi-producer only)");
	atomic_store(rec_at(&a, 0), REC_WORD(SR_REC_MSG, 8, 0));
	R_RECV(&a, 0, lens, 1);
	att_close(&a);
	return 0;
}

static int length_past_max_msg_or_past_head_is_ebadfmt(void)
{
	static const size_t lens[] = {40, 8, 8, 8}; /* 3 + 1 + 1 + 1 slots */
	struct att a;

	CHECK(att_open_geom(&a, R_SLOT, R_COUNT) == 0);
	R_SEND(&a, 0, lens, 4);
	CHECK_EQ(atomic_load(&a.s->head.value), 6);
	atomic_store(rec_at(&a, 0), REC_WORD(SR_REC_MSG, R_MAX + 1, 0));
	EXPECT_BADFMT(&a, "len max_msg + 1, extent within head");
	atomic_store(rec_at(&a, 0), REC_WORD(SR_REC_MSG, UINT32_MAX, 0));
	EXPECT_BADFMT(&a, "len 2^32 - 1");
	atomic_store(rec_at(&a, 0), REC_WORD(SR_REC_MSG, 40, 0));
	/* the last record: one slot below head, its word says two */
	atomic_store(rec_at(&a, 5), REC_WORD(SR_REC_MSG, 9, 0));
	R_RECV(&a, 0, lens, 3);
	EXPECT_BADFMT(&a, "extent past head");
	atomic_store(rec_at(&a, 5), REC_WORD(SR_REC_PAD, 24, 0));
	EXPECT_BADFMT(&a, "padding past head");
	atomic_store(rec_at(&a, 5), REC_WORD(SR_REC_MSG, 8, 0));
	R_RECV(&a, 3, lens + 3, 1);
	att_close(&a);
	return 0;
}

static int record_or_padding_past_the_ring_end_is_ebadfmt(void)
{
	static const size_t one[] = {8}, lens[] = {8, 8, 8};
	struct att a;
	uint64_t good;

	CHECK(att_open_geom(&a, R_SLOT, R_COUNT) == 0);
	for (uint64_t i = 0; i < 6; i++) {
		R_SEND(&a, i, one, 1);
		R_RECV(&a, i, one, 1);
	}
	R_SEND(&a, 6, lens, 3); /* slots 6, 7, 0: head 9 - tail 6 = 3 */
	good = atomic_load(rec_at(&a, 6));
	atomic_store(rec_at(&a, 6), REC_WORD(SR_REC_MSG, 40, 0)); /* 3 slots */
	EXPECT_BADFMT(&a, "message running past the last slot");
	atomic_store(rec_at(&a, 6), REC_WORD(SR_REC_PAD, 40, 0));
	EXPECT_BADFMT(&a, "padding running past the last slot");
	atomic_store(rec_at(&a, 6), REC_WORD(SR_REC_PAD, UINT32_MAX, 0));
	EXPECT_BADFMT(&a, "padding of 2^32 - 1 bytes");
	atomic_store(rec_at(&a, 6), good);
	R_RECV(&a, 6, lens, 3);
	att_close(&a);
	return 0;
}

static int padding_is_skipped_wherever_it_is_valid(void)
{
	static const size_t lens[] = {8, 8, 8, 8};
	struct att a;
	uint8_t buf[R_MAX];
	size_t len;

	CHECK(att_open_geom(&a, R_SLOT, R_COUNT) == 0);
	R_SEND(&a, 0, lens, 4);
	/* a peer turns slots 1..2 into padding: never delivered */
	atomic_store(rec_at(&a, 1), REC_WORD(SR_REC_PAD, 24, 0));
	R_RECV(&a, 0, lens, 1);
	CHECK_RC(shmring_recv(a.c, buf, sizeof buf, &len, 0), SHMRING_OK);
	CHECK_EQ(len, 8);
	CHECK(is_msg(buf, len, 3)); /* 1 and 2 were under the padding */
	CHECK_EQ(tail_of(&a), 4);
	CHECK_RC(shmring_recv(a.c, buf, sizeof buf, &len, 0), SHMRING_EAGAIN);
	att_close(&a);
	return 0;
}

static int recvv_and_peekv_keep_the_messages_before_a_bad_record(void)
{
	static const size_t lens[] = {8, 24, 8}; /* 1 + 2 + 1 slots */
	struct att a;
	uint8_t b[3][R_MAX];
	shmring_buf v[3] = {{b[0], R_MAX}, {b[1], R_MAX}, {b[2], R_MAX}};
	shmring_msg m[4];
	size_t n = 0;
	uint64_t good;

	CHECK(att_open_geom(&a, R_SLOT, R_COUNT) == 0);
	R_SEND(&a, 0, lens, 3);
	good = atomic_load(rec_at(&a, 3));
	atomic_store(rec_at(&a, 3), REC_WORD(SR_REC_MSG, 8, 5));
	CHECK_RC(shmring_peekv(a.c, m, 4, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 2); /* the two before the bad record */
	CHECK_EQ(m[1].len, 24);
	CHECK(is_msg(m[0].data, 8, 0) && is_msg(m[1].data, 24, 1));
	CHECK_RC(shmring_releasev(a.c, 2), SHMRING_OK);
	CHECK_EQ(tail_of(&a), 3);
	EXPECT_BADFMT(&a, "wrong lap after a peekv");
	atomic_store(rec_at(&a, 3), good);
	R_RECV(&a, 2, lens + 2, 1);
	/* the same with recvv: the batch stops before the bad record */
	R_SEND(&a, 3, lens, 3); /* at 4, 5..6, 7 */
	good = atomic_load(rec_at(&a, 5));
	atomic_store(rec_at(&a, 5), REC_WORD(SR_REC_MSG, R_MAX + 1, 0));
	CHECK_RC(shmring_recvv(a.c, v, 3, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 1);
	CHECK(v[0].len == 8 && is_msg(b[0], 8, 3));
	CHECK_EQ(tail_of(&a), 5);
	EXPECT_BADFMT(&a, "len past max_msg after a recvv");
	atomic_store(rec_at(&a, 5), good);
	v[0].len = v[1].len = R_MAX;
	CHECK_RC(shmring_recvv(a.c, v, 3, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 2);
	CHECK(v[0].len == 24 && is_msg(b[0], 24, 4));
	CHECK(v[1].len == 8 && is_msg(b[1], 8, 5));
	att_close(&a);
	return 0;
}

/* A hint a hostile peer may scribble on: it decides only whether a waiter
 * spins, never what the call returns. */
static int garbage_cpu_hint_only_changes_spinning(void)
{
	static const uint32_t hint[] = {UINT32_MAX, 1, 2, 0};
	struct att a;
	char b[8];
	size_t len;

	CHECK(att_open(&a) == 0);
	for (size_t i = 0; i < sizeof hint / sizeof hint[0]; i++) {
		atomic_store(&a.s->wake[0].cpu, hint[i]);
		CHECK_RC(shmring_recv(a.c, b, 8, &len, 20), SHMRING_ETIMEDOUT);
		CHECK_RC(shmring_send(a.p, "c", 1, 0), SHMRING_OK);
		CHECK_RC(shmring_recv(a.c, b, 8, &len, 20), SHMRING_OK);
		CHECK(len == 1 && b[0] == 'c');
	}
	/* a waiting consumer published its own hint: 1 + a CPU number */
	CHECK(atomic_load(&a.s->wake[1].cpu) >= 1);
	att_close(&a);
	return 0;
}

static int garbage_peer_state_only_times_out(void)
{
	struct att a;
	size_t len;

	CHECK(att_open(&a) == 0);
	atomic_store(&a.s->role[0].state, 77);
	CHECK_RC(shmring_recv(a.c, NULL, 0, &len, 60), SHMRING_ETIMEDOUT);
	atomic_store(&a.s->role[0].state, SR_ROLE_ATTACHED);
	att_close(&a);
	return 0;
}

/* A token naming no live process: the peer is dead as far as we can tell. */
static int garbage_peer_token_is_epeerdead(void)
{
	struct att a;
	size_t len;

	CHECK(att_open(&a) == 0);
	atomic_store(&a.s->role[0].owner, UINT64_C(0x12345678fffffff0));
	CHECK_RC(shmring_recv(a.c, NULL, 0, &len, 2000), SHMRING_EPEERDEAD);
	att_close(&a);
	return 0;
}

/* ---- named objects made by someone else --------------------------------- */

struct raw {
	HANDLE obj[4];
	void *view;
};

static void raw_wname(wchar_t *w, const char *name, const char *suffix)
{
	size_t n = 0;

	for (const char *p = "Local\\shmring."; *p; p++)
		w[n++] = (wchar_t)*p;
	for (const char *p = name; *p; p++)
		w[n++] = (wchar_t)*p;
	for (const char *p = suffix; *p; p++)
		w[n++] = (wchar_t)*p;
	w[n] = 0;
}

/* A section of @size bytes named as ring @name (SEC_COMMIT unless @flags),
 * filled with @fill, plus its lock and wake objects if @sync. */
static int raw_make(struct raw *r, const char *name, DWORD size, DWORD flags,
                    int fill, int sync)
{
	static const char *const sfx[3] = {":lock", ":wake0", ":wake1"};
	wchar_t w[WU_NAME_MAX + 32];

	memset(r, 0, sizeof *r);
	raw_wname(w, name, "");
	r->obj[0] = CreateFileMappingW(
	        INVALID_HANDLE_VALUE, NULL,
	        PAGE_READWRITE | (flags ? flags : SEC_COMMIT), 0, size, w);
	if (!r->obj[0])
		return -1;
	r->view = MapViewOfFile(r->obj[0], FILE_MAP_WRITE, 0, 0, 0);
	if (!r->view)
		return -1;
	if (fill >= 0)
		memset(r->view, fill, size);
	for (int i = 0; sync && i < 3; i++) {
		raw_wname(w, name, sfx[i]);
		r->obj[i + 1] = i ? CreateEventW(NULL, FALSE, FALSE, w)
		                  : CreateMutexW(NULL, FALSE, w);
		if (!r->obj[i + 1])
			return -1;
	}
	return 0;
}

static void raw_free(struct raw *r)
{
	if (r->view)
		UnmapViewOfFile(r->view);
	for (int i = 0; i < 4; i++)
		if (r->obj[i])
			CloseHandle(r->obj[i]);
}

/* A copy of a valid header of geometry SLOT x SLOTS, from a real ring. */
static int valid_header(uint8_t *hdr)
{
	char name[WU_NAME_MAX];
	shmring_config cfg = {.slot_size = SLOT, .slot_count = SLOTS};
	shmring *p = NULL;
	void *s;

	wu_name(name, "bad");
	if (shmring_create(name, &cfg, SHMRING_CONSUMER, &p))
		return -1;
	s = wu_seg_map(name, NULL);
	if (s)
		memcpy(hdr, s, SR_HDR_SIZE);
	wu_seg_unmap(s);
	shmring_close(p);
	/* the ring held no owner but its consumer: clear that record */
	atomic_store(&((struct sr_seg *)hdr)->role[1].owner, 0);
	return s ? 0 : -1;
}

static int foreign_garbage_section_is_ebadfmt(void)
{
	char name[WU_NAME_MAX];
	struct raw r;
	shmring *x = NULL;

	wu_name(name, "raw");
	CHECK(raw_make(&r, name, 8192, 0, 0xa5, 1) == 0);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &x), SHMRING_EBADFMT);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &x), SHMRING_EBADFMT);
	raw_free(&r);
	return 0;
}

static int foreign_zero_section_is_enoent(void)
{
	char name[WU_NAME_MAX];
	struct raw r;
	shmring *x = NULL;

	wu_name(name, "raw");
	CHECK(raw_make(&r, name, 100, 0, 0, 1) == 0);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &x), SHMRING_ENOENT);
	raw_free(&r);
	return 0;
}

/* Header sizes vs section sizes: exact, within the last page (the OS
 * cannot tell them apart), a page or more off, or too small. */
static int foreign_section_size_checked_against_header(void)
{
	static const struct {
		DWORD size;
		int want;
	} cases[] = {
	        {SEG, SHMRING_OK},           {8192, SHMRING_OK},
	        {8192 + 1, SHMRING_EBADFMT}, {12288, SHMRING_EBADFMT},
	        {4096, SHMRING_EBADFMT},     {1 << 20, SHMRING_EBADFMT},
	};
	static uint8_t hdr[SR_HDR_SIZE];
	char name[WU_NAME_MAX];
	struct raw r;
	shmring *x = NULL;

	CHECK(valid_header(hdr) == 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		wu_name(name, "raw");
		CHECK(raw_make(&r, name, cases[i].size, 0, 0, 1) == 0);
		memcpy(r.view, hdr, SR_HDR_SIZE);
		TAP_NOTE("section of %lu bytes", (unsigned long)cases[i].size);
		CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &x),
		         cases[i].want);
		shmring_close(x);
		x = NULL;
		raw_free(&r);
	}
	return 0;
}

/* Reserved but not committed: touching it would fault. */
static int foreign_uncommitted_section_is_ebadfmt(void)
{
	char name[WU_NAME_MAX];
	struct raw r;
	shmring *x = NULL;

	wu_name(name, "raw");
	CHECK(raw_make(&r, name, 1 << 16, SEC_RESERVE, -1, 1) == 0);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &x), SHMRING_EBADFMT);
	raw_free(&r);
	return 0;
}

static int foreign_section_without_lock_is_enoent(void)
{
	static uint8_t hdr[SR_HDR_SIZE];
	char name[WU_NAME_MAX];
	struct raw r;
	shmring *x = NULL;

	CHECK(valid_header(hdr) == 0);
	wu_name(name, "raw");
	CHECK(raw_make(&r, name, SEG, 0, 0, 0) == 0);
	memcpy(r.view, hdr, SR_HDR_SIZE);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &x), SHMRING_ENOENT);
	raw_free(&r);
	return 0;
}

/* The ring's name taken by an object of another type. */
static int name_taken_by_an_event_is_ebadfmt(void)
{
	char name[WU_NAME_MAX];
	wchar_t w[WU_NAME_MAX + 32];
	shmring *x = NULL;
	HANDLE ev;

	wu_name(name, "raw");
	raw_wname(w, name, "");
	ev = CreateEventW(NULL, FALSE, FALSE, w);
	CHECK(ev != NULL);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &x), SHMRING_EBADFMT);
	CHECK_RC(shmring_create(name, NULL, SHMRING_CONSUMER, &x),
	         SHMRING_EBADFMT);
	CHECK_RC(shmring_unlink(name), SHMRING_ENOENT); /* no ring there */
	CloseHandle(ev);
	CHECK_RC(shmring_create(name, NULL, SHMRING_CONSUMER, &x), SHMRING_OK);
	shmring_close(x);
	return 0;
}

static const struct tap_test tests[] = {
        TAP(wrong_magic),
        TAP(wrong_version),
        TAP(version_0),
        TAP(version_1_segment),
        TAP(version_1_with_a_v2_geometry),
        TAP(wrong_hdr_size),
        TAP(slot_size_disagrees_with_stride),
        TAP(slot_size_beyond_limit),
        TAP(stride_not_derived),
        TAP(stride_of_version_1),
        TAP(stride_not_a_multiple_of_16),
        TAP(stride_zero),
        TAP(slot_count_not_power_of_two),
        TAP(slot_count_zero),
        TAP(slot_count_one),
        TAP(unknown_flags),
        TAP(seg_size_disagrees_with_geometry),
        TAP(seg_size_short_of_geometry),
        TAP(geometry_larger_than_mapping),
        TAP(max_msg_zero),
        TAP(max_msg_beyond_the_ring),
        TAP(max_msg_beyond_the_limit),
        TAP(max_msg_all_ones),
        TAP(max_msg_of_the_whole_ring_opens),
        TAP(max_msg_one_opens),
        TAP(header_reserved_not_zero),
        TAP(header_reserved_first_byte_not_zero),
        TAP(role_reserved_not_zero),
        TAP(index_reserved_not_zero),
        TAP(wake_reserved_not_zero),
        TAP(wake_reserved0_not_zero),
        TAP(page_reserved_not_zero),
        TAP(head_too_far_ahead),
        TAP(tail_ahead_of_head),
        TAP(garbage_cpu_hints_open),
        TAP(unpublished_ring_is_enoent),
        TAP(head_jump_is_ebadfmt_on_recv),
        TAP(head_moving_back_is_ebadfmt_on_recv),
        TAP(tail_ahead_is_ebadfmt_on_send),
        TAP(record_length_beyond_its_slots_is_ebadfmt_and_kept),
        TAP(word_from_another_lap_is_ebadfmt),
        TAP(stale_word_of_the_previous_lap_is_ebadfmt),
        TAP(empty_or_reserved_word_below_head_is_ebadfmt),
        TAP(length_past_max_msg_or_past_head_is_ebadfmt),
        TAP(record_or_padding_past_the_ring_end_is_ebadfmt),
        TAP(padding_is_skipped_wherever_it_is_valid),
        TAP(recvv_and_peekv_keep_the_messages_before_a_bad_record),
        TAP(garbage_cpu_hint_only_changes_spinning),
        TAP(garbage_peer_state_only_times_out),
        TAP(garbage_peer_token_is_epeerdead),
        TAP(foreign_garbage_section_is_ebadfmt),
        TAP(foreign_zero_section_is_enoent),
        TAP(foreign_section_size_checked_against_header),
        TAP(foreign_uncommitted_section_is_ebadfmt),
        TAP(foreign_section_without_lock_is_enoent),
        TAP(name_taken_by_an_event_is_ebadfmt),
};

int main(int argc, char **argv)
{
	return TAP_MAIN(argc, argv, tests);
}
