/* SPDX-License-Identifier: MIT */
/*
 * test_badfmt.c -- a hostile or buggy peer on Windows: it maps the segment
 * itself (OpenFileMappingW/MapViewOfFile) and scribbles on the header, the
 * indices or a slot, or it made the named objects itself
 * (CreateFileMappingW). Every case must be SHMRING_EBADFMT (or the code
 * named), never a crash, and must leave the ring usable once repaired.
 */
#include <string.h>

#include "layout.h"
#include "shmring.h"
#include "tap.h"
#include "winutil.h"

#define SLOT  56u /* stride 64 */
#define SLOTS 8u  /* segment 4096 + 512 bytes: not a page multiple */

/* ---- scribbling on a real ring's header --------------------------------- */

typedef void (*mutate_fn)(struct sr_seg *s);

/*
 * Create a ring (producer), let @mutate scribble on it, and check that
 * opening the consumer is @want; then repair it and check that it opens.
 */
static int open_after(mutate_fn mutate, int want)
{
	char name[WU_NAME_MAX];
	shmring_config cfg = {.slot_size = SLOT, .slot_count = SLOTS};
	static uint8_t saved[SR_HDR_SIZE];
	shmring *p = NULL, *c = NULL;
	struct sr_seg *s;
	size_t size = 0;

	wu_name(name, "bad");
	CHECK_RC(shmring_create(name, &cfg, SHMRING_PRODUCER, &p), SHMRING_OK);
	s = wu_seg_map(name, &size);
	CHECK(s != NULL);
	CHECK_EQ(size, 8192); /* the OS rounds to the page */
	memcpy(saved, s, sizeof saved);
	mutate(s);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), want);
	CHECK(c == NULL);
	memcpy(s, saved, sizeof saved);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
	wu_seg_unmap(s);
	shmring_close(c);
	shmring_close(p);
	return 0;
}

#define BAD_OPEN(fn, stmt)                                                     \
	static void fn##_m(struct sr_seg *s)                                   \
	{                                                                      \
		stmt;                                                          \
	}                                                                      \
	static int fn(void)                                                    \
	{                                                                      \
		return open_after(fn##_m, SHMRING_EBADFMT);                    \
	}

BAD_OPEN(wrong_magic, atomic_store(&s->hdr.magic, SR_MAGIC ^ 1))
BAD_OPEN(wrong_version, s->hdr.version = SR_FORMAT_VERSION + 1)
BAD_OPEN(wrong_hdr_size, s->hdr.hdr_size = 2 * SR_HDR_SIZE)
BAD_OPEN(slot_size_disagrees_with_stride, s->hdr.slot_size = SLOT + 8)
BAD_OPEN(slot_size_beyond_limit, s->hdr.slot_size = SHMRING_MAX_SLOT_SIZE + 1)
BAD_OPEN(stride_not_derived, s->hdr.slot_stride = 128)
BAD_OPEN(slot_count_not_power_of_two, s->hdr.slot_count = 6)
BAD_OPEN(slot_count_zero, s->hdr.slot_count = 0)
BAD_OPEN(slot_count_one, s->hdr.slot_count = 1)
BAD_OPEN(unknown_flags, s->hdr.flags = 1)
BAD_OPEN(seg_size_disagrees_with_geometry, s->hdr.seg_size += 64)
/* consistent, but larger than what the OS maps (8192 bytes) */
BAD_OPEN(geometry_larger_than_mapping,
         (s->hdr.slot_count = 128, s->hdr.seg_size = SR_HDR_SIZE + 128 * 64))
BAD_OPEN(header_reserved_not_zero, s->hdr.reserved[79] = 1)
BAD_OPEN(role_reserved_not_zero, s->role[1].reserved[0] = 0x80)
BAD_OPEN(index_reserved_not_zero, s->tail.reserved[119] = 1)
BAD_OPEN(wake_reserved_not_zero, s->wake[0].reserved1[3] = 1)
BAD_OPEN(page_reserved_not_zero, s->reserved[1000] = 1)
BAD_OPEN(head_too_far_ahead, atomic_store(&s->head.value, SLOTS + 1))
BAD_OPEN(tail_ahead_of_head, atomic_store(&s->tail.value, 1))

/* A ring still being initialised (magic 0) is invisible, not bad. */
static void unpublished_m(struct sr_seg *s)
{
	atomic_store(&s->hdr.magic, 0);
}

static int unpublished_ring_is_enoent(void)
{
	return open_after(unpublished_m, SHMRING_ENOENT);
}

/* ---- scribbling while both sides are attached --------------------------- */

struct att {
	char name[WU_NAME_MAX];
	shmring *p, *c;
	struct sr_seg *s;
};

static int att_open(struct att *a)
{
	shmring_config cfg = {.slot_size = SLOT, .slot_count = SLOTS};

	wu_name(a->name, "bad");
	a->p = a->c = NULL;
	if (shmring_create(a->name, &cfg, SHMRING_PRODUCER, &a->p) ||
	    shmring_open(a->name, SHMRING_CONSUMER, &a->c))
		return -1;
	a->s = wu_seg_map(a->name, NULL);
	return a->s ? 0 : -1;
}

static void att_close(struct att *a)
{
	wu_seg_unmap(a->s);
	shmring_close(a->p);
	shmring_close(a->c);
}

static struct sr_slot *slot_at(struct sr_seg *s, uint64_t i)
{
	return (struct sr_slot *)((uint8_t *)s + SR_HDR_SIZE +
	                          (i & (SLOTS - 1)) * 64);
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

static int slot_length_beyond_slot_is_ebadfmt_and_kept(void)
{
	static const uint32_t lens[] = {SLOT + 1, 64, 0x80000000u, 0xffffffffu};
	struct att a;
	char b[SLOT];
	const void *r;
	size_t len;

	CHECK(att_open(&a) == 0);
	CHECK_RC(shmring_send(a.p, "keep", 4, 0), SHMRING_OK);
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		atomic_store(&slot_at(a.s, 0)->len, lens[i]);
		CHECK_RC(shmring_recv(a.c, b, sizeof b, &len, 0),
		         SHMRING_EBADFMT);
		CHECK_RC(shmring_peek(a.c, &r, &len, 0), SHMRING_EBADFMT);
	}
	atomic_store(&slot_at(a.s, 0)->len, 4); /* repaired: not lost */
	CHECK_RC(shmring_recv(a.c, b, sizeof b, &len, 0), SHMRING_OK);
	CHECK(len == 4 && memcmp(b, "keep", 4) == 0);
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
	        {4096 + 512, SHMRING_OK},    {8192, SHMRING_OK},
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
	CHECK(raw_make(&r, name, 4096 + 512, 0, 0, 0) == 0);
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
        TAP(wrong_hdr_size),
        TAP(slot_size_disagrees_with_stride),
        TAP(slot_size_beyond_limit),
        TAP(stride_not_derived),
        TAP(slot_count_not_power_of_two),
        TAP(slot_count_zero),
        TAP(slot_count_one),
        TAP(unknown_flags),
        TAP(seg_size_disagrees_with_geometry),
        TAP(geometry_larger_than_mapping),
        TAP(header_reserved_not_zero),
        TAP(role_reserved_not_zero),
        TAP(index_reserved_not_zero),
        TAP(wake_reserved_not_zero),
        TAP(page_reserved_not_zero),
        TAP(head_too_far_ahead),
        TAP(tail_ahead_of_head),
        TAP(unpublished_ring_is_enoent),
        TAP(head_jump_is_ebadfmt_on_recv),
        TAP(head_moving_back_is_ebadfmt_on_recv),
        TAP(tail_ahead_is_ebadfmt_on_send),
        TAP(slot_length_beyond_slot_is_ebadfmt_and_kept),
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
