/* SPDX-License-Identifier: MIT */
/*
 * test_api.c -- the contract's single-process behaviours on Windows: create,
 * open, close, both data APIs, and every error code a call can return here.
 * Two-process behaviours are in test_ipc.c, corrupted segments in
 * test_badfmt.c, the backend itself in test_os.c.
 *
 * Format version 2: a message of len bytes is one record over
 * ceil((8 + len) / stride) consecutive slots, stride = roundup(8 +
 * slot_size, 16), and max_msg defaults to half the ring's slot bytes minus
 * 8. The wrap test also reads the segment (layout.h) to see the padding
 * record docs/format.md describes.
 */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "shmring.h"
#include "tap.h"
#include "winutil.h"

/* A producer and a consumer of a fresh ring in this process. */
struct pair {
	char name[WU_NAME_MAX];
	shmring *prod, *cons;
};

static int pair_open(struct pair *p, uint32_t slot_size, uint32_t slots)
{
	shmring_config cfg = {.slot_size = slot_size, .slot_count = slots};

	wu_name(p->name, "api");
	p->prod = p->cons = NULL;
	if (shmring_create(p->name, &cfg, SHMRING_PRODUCER, &p->prod) ||
	    shmring_open(p->name, SHMRING_CONSUMER, &p->cons))
		return -1;
	return 0;
}

static void pair_close(struct pair *p)
{
	shmring_close(p->prod);
	shmring_close(p->cons);
	p->prod = p->cons = NULL;
}

static int create_open_send_recv_close(void)
{
	struct pair p;
	char buf[64];
	size_t len = 0;

	CHECK(pair_open(&p, 64, 8) == 0);
	CHECK_EQ(shmring_max_msg(p.prod), 80 * 8 / 2 - 8); /* stride 80 */
	CHECK_EQ(shmring_max_msg(p.cons), 312);
	CHECK_RC(shmring_send(p.prod, "hello", 5, SHMRING_NOWAIT), SHMRING_OK);
	CHECK_RC(shmring_recv(p.cons, buf, sizeof buf, &len, SHMRING_NOWAIT),
	         SHMRING_OK);
	CHECK_EQ(len, 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_RC(shmring_close(p.prod), SHMRING_OK);
	CHECK_RC(shmring_close(p.cons), SHMRING_OK);
	CHECK_RC(shmring_close(NULL), SHMRING_OK);
	return 0;
}

static int either_side_may_create(void)
{
	char name[WU_NAME_MAX];
	shmring *c = NULL, *p = NULL;
	const uint32_t stride = (8 + SHMRING_DEFAULT_SLOT_SIZE + 15) & ~15u;
	struct sr_seg *s;
	size_t len = 1;

	wu_name(name, "api");
	CHECK_RC(shmring_create(name, NULL, SHMRING_CONSUMER, &c), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p), SHMRING_OK);
	/* the default geometry, as the header has it */
	s = wu_seg_map(name, NULL);
	CHECK(s != NULL);
	CHECK_EQ(s->hdr.slot_size, SHMRING_DEFAULT_SLOT_SIZE);
	CHECK_EQ(s->hdr.slot_count, SHMRING_DEFAULT_SLOT_COUNT);
	CHECK_EQ(s->hdr.slot_stride, stride);
	CHECK_EQ(s->hdr.seg_size,
	         SR_HDR_SIZE + (uint64_t)stride * SHMRING_DEFAULT_SLOT_COUNT);
	CHECK_EQ(s->hdr.max_msg, shmring_max_msg(p));
	wu_seg_unmap(s);
	/* the default ring's slots hold 1 MiB: half a MiB minus 8 */
	CHECK_EQ(shmring_max_msg(p),
	         (size_t)stride * SHMRING_DEFAULT_SLOT_COUNT / 2 - 8);
	CHECK_EQ(shmring_max_msg(p), 524280);
	CHECK_EQ(shmring_max_msg(c), 524280);
	CHECK_RC(shmring_send(p, NULL, 0, SHMRING_NOWAIT), SHMRING_OK);
	CHECK_RC(shmring_recv(c, NULL, 0, &len, SHMRING_NOWAIT), SHMRING_OK);
	CHECK_EQ(len, 0);
	shmring_close(p);
	shmring_close(c);
	return 0;
}

static int messages_wait_for_a_late_consumer(void)
{
	char name[WU_NAME_MAX];
	shmring_config cfg = {.slot_size = 16, .slot_count = 4};
	shmring *p = NULL, *c = NULL;
	uint32_t v = 0;
	size_t len;

	wu_name(name, "api");
	CHECK_RC(shmring_create(name, &cfg, SHMRING_PRODUCER, &p), SHMRING_OK);
	for (uint32_t i = 0; i < 4; i++)
		CHECK_RC(shmring_send(p, &i, sizeof i, SHMRING_NOWAIT),
		         SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_RC(shmring_recv(c, &v, sizeof v, &len, SHMRING_NOWAIT),
		         SHMRING_OK);
		CHECK_EQ(v, i);
	}
	shmring_close(p);
	shmring_close(c);
	return 0;
}

static int order_and_content_survive_many_wraps(void)
{
	struct pair p;
	uint8_t buf[100];
	size_t len;

	CHECK(pair_open(&p, 100, 4) == 0);
	for (uint64_t i = 0; i < 3000; i++) {
		size_t n = wu_msg_len(7, i, 100);
		wu_msg_fill(buf, n, 7, i);
		CHECK_RC(shmring_send(p.prod, buf, n, SHMRING_NOWAIT),
		         SHMRING_OK);
		if (i % 3 != 2) /* receive in batches of three */
			continue;
		for (uint64_t j = i - 2; j <= i; j++) {
			memset(buf, 0, sizeof buf);
			CHECK_RC(shmring_recv(p.cons, buf, sizeof buf, &len,
			                      SHMRING_NOWAIT),
			         SHMRING_OK);
			CHECK(wu_msg_check(buf, len, 7, j, 100));
		}
	}
	pair_close(&p);
	return 0;
}

static int zero_copy_claim_commit_peek_release(void)
{
	struct pair p;
	void *w;
	const void *r, *r2;
	size_t len = 0, len2 = 0;

	CHECK(pair_open(&p, 32, 4) == 0);
	CHECK_RC(shmring_claim(p.prod, 32, &w, SHMRING_NOWAIT), SHMRING_OK);
	memcpy(w, "zero-copy", 9);
	CHECK_RC(shmring_commit(p.prod, 9), SHMRING_OK); /* < claimed */
	CHECK_RC(shmring_peek(p.cons, &r, &len, SHMRING_NOWAIT), SHMRING_OK);
	CHECK_RC(shmring_peek(p.cons, &r2, &len2, SHMRING_NOWAIT), SHMRING_OK);
	CHECK(r == r2); /* the same message until released */
	CHECK_EQ(len, 9);
	CHECK_EQ(len2, 9);
	CHECK(memcmp(r, "zero-copy", 9) == 0);
	CHECK_RC(shmring_release(p.cons), SHMRING_OK);
	CHECK_RC(shmring_peek(p.cons, &r, &len, SHMRING_NOWAIT),
	         SHMRING_EAGAIN);
	pair_close(&p);
	return 0;
}

static int batch_sendv_recvv(void)
{
	struct pair p;
	shmring_msg out[6] = {{"a", 1},    {"bb", 2}, {"", 0},
	                      {"dddd", 4}, {"e", 1},  {"f", 1}};
	char b[6][8];
	shmring_buf in[6];
	size_t n = 99;

	for (int i = 0; i < 6; i++)
		in[i] = (shmring_buf){b[i], sizeof b[i]};
	CHECK(pair_open(&p, 8, 4) == 0);
	/* 4 fit, then NOWAIT stops with the count sent */
	CHECK_RC(shmring_sendv(p.prod, out, 6, &n, SHMRING_NOWAIT),
	         SHMRING_EAGAIN);
	CHECK_EQ(n, 4);
	CHECK_RC(shmring_recvv(p.cons, in, 6, &n, SHMRING_FOREVER), SHMRING_OK);
	CHECK_EQ(n, 4); /* what was there, without waiting for more */
	CHECK_EQ(in[1].len, 2);
	CHECK(memcmp(b[1], "bb", 2) == 0);
	CHECK_EQ(in[2].len, 0);
	CHECK_EQ(in[3].len, 4);
	CHECK_RC(shmring_sendv(p.prod, out + 4, 2, &n, SHMRING_NOWAIT),
	         SHMRING_OK);
	CHECK_EQ(n, 2);
	in[0].len = 8;
	CHECK_RC(shmring_recvv(p.cons, in, 1, &n, SHMRING_NOWAIT), SHMRING_OK);
	CHECK(n == 1 && in[0].len == 1 && b[0][0] == 'e');
	pair_close(&p);
	return 0;
}

static int einval_bad_names(void)
{
	static const char *const bad[] = {"",          ".hidden", "a/b",
	                                  "a\\b",      "a b",     "a:b",
	                                  "Global\\x", "\xc3\xa4"};
	char longest[SHMRING_MAX_NAME + 2];
	shmring *r = NULL;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_RC(shmring_create(bad[i], NULL, SHMRING_PRODUCER, &r),
		         SHMRING_EINVAL);
		CHECK_RC(shmring_open(bad[i], SHMRING_PRODUCER, &r),
		         SHMRING_EINVAL);
		CHECK_RC(shmring_unlink(bad[i]), SHMRING_EINVAL);
	}
	CHECK_RC(shmring_create(NULL, NULL, SHMRING_PRODUCER, &r),
	         SHMRING_EINVAL);
	CHECK_RC(shmring_open(NULL, SHMRING_PRODUCER, &r), SHMRING_EINVAL);
	CHECK_RC(shmring_unlink(NULL), SHMRING_EINVAL);
	memset(longest, 'n', sizeof longest);
	longest[SHMRING_MAX_NAME + 1] = '\0';
	CHECK_RC(shmring_create(longest, NULL, SHMRING_PRODUCER, &r),
	         SHMRING_EINVAL);
	CHECK(r == NULL);
	return 0;
}

static int longest_name_works(void)
{
	char name[SHMRING_MAX_NAME + 1];
	shmring *p = NULL, *c = NULL;

	wu_name(name, "api"); /* unique prefix, padded to the limit */
	memset(name + strlen(name), 'x', SHMRING_MAX_NAME - strlen(name));
	name[SHMRING_MAX_NAME] = '\0';
	CHECK_RC(shmring_create(name, NULL, SHMRING_PRODUCER, &p), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
	shmring_close(c);
	shmring_close(p);
	return 0;
}

static int einval_bad_config_and_role(void)
{
	char name[WU_NAME_MAX];
	shmring *r = NULL;
	shmring_config bad[] = {
	        {.slot_count = 3},
	        {.slot_count = 1},
	        {.slot_count = SHMRING_MAX_SLOT_COUNT * 2},
	        {.slot_size = SHMRING_MAX_SLOT_SIZE + 1},
	        {.slot_size = SHMRING_MAX_SLOT_SIZE,
	         .slot_count = SHMRING_MAX_SLOT_COUNT}, /* too big to map */
	        {.flags = 2},                           /* not SHMRING_F_MPSC */
	        {.flags = SHMRING_F_MPSC | 4u},
	        {.perm = 01000},
	        /* max_msg above one record over every slot: 16 * 4 - 8 */
	        {.slot_size = 8, .slot_count = 4, .max_msg = 16 * 4 - 7},
	        {.slot_size = 8, .slot_count = 4, .max_msg = UINT32_MAX},
	        {.max_msg = SHMRING_MAX_MSG_LIMIT + 1},
	};

	wu_name(name, "api");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_RC(shmring_create(name, &bad[i], SHMRING_PRODUCER, &r),
		         SHMRING_EINVAL);
	CHECK_RC(shmring_create(name, NULL, (enum shmring_role)0, &r),
	         SHMRING_EINVAL);
	CHECK_RC(shmring_create(name, NULL, (enum shmring_role)3, &r),
	         SHMRING_EINVAL);
	CHECK_RC(shmring_create(name, NULL, SHMRING_PRODUCER, NULL),
	         SHMRING_EINVAL);
	CHECK_RC(shmring_open(name, (enum shmring_role)0, &r), SHMRING_EINVAL);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, NULL), SHMRING_EINVAL);
	CHECK(r == NULL);
	/* nothing was created by any of these */
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_ENOENT);
	return 0;
}

static int einval_wrong_role_or_state(void)
{
	struct pair p;
	char buf[8];
	size_t len;
	void *w;
	const void *r;
	shmring_stats st;

	CHECK(pair_open(&p, 8, 4) == 0);
	CHECK_RC(shmring_send(p.cons, "x", 1, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_claim(p.cons, 1, &w, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_commit(p.cons, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_recv(p.prod, buf, 8, &len, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_peek(p.prod, &r, &len, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_release(p.prod), SHMRING_EINVAL);
	CHECK_RC(shmring_send(NULL, "x", 1, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_send(p.prod, NULL, 1, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_send(p.prod, "x", 1, -2), SHMRING_EINVAL);
	CHECK_RC(shmring_recv(p.cons, buf, 8, NULL, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_recv(p.cons, NULL, 8, &len, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_claim(p.prod, 1, NULL, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_peek(p.cons, NULL, &len, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_commit(p.prod, 0), SHMRING_EINVAL); /* no claim */
	CHECK_RC(shmring_release(p.cons), SHMRING_EINVAL);   /* no peek */
	CHECK_RC(shmring_claim(p.prod, 4, &w, 0), SHMRING_OK);
	CHECK_RC(shmring_claim(p.prod, 4, &w, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_send(p.prod, "x", 1, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_commit(p.prod, 5), SHMRING_EINVAL); /* > claimed */
	CHECK_RC(shmring_commit(p.prod, 4), SHMRING_OK);
	CHECK_RC(shmring_peek(p.cons, &r, &len, 0), SHMRING_OK);
	CHECK_RC(shmring_recv(p.cons, buf, 8, &len, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_release(p.cons), SHMRING_OK);
	CHECK_RC(shmring_set_spin(NULL, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_get_stats(p.prod, NULL), SHMRING_EINVAL);
	CHECK_RC(shmring_get_stats(p.prod, &st), SHMRING_OK);
	CHECK_EQ(st.messages, 1);
	CHECK_EQ(shmring_max_msg(NULL), 0);
	pair_close(&p);
	return 0;
}

static int eagain_when_empty_or_full(void)
{
	struct pair p;
	size_t len;
	const void *r;

	CHECK(pair_open(&p, 8, 2) == 0);
	CHECK_RC(shmring_recv(p.cons, NULL, 0, &len, SHMRING_NOWAIT),
	         SHMRING_EAGAIN);
	CHECK_RC(shmring_peek(p.cons, &r, &len, SHMRING_NOWAIT),
	         SHMRING_EAGAIN);
	CHECK_RC(shmring_send(p.prod, "a", 1, SHMRING_NOWAIT), SHMRING_OK);
	CHECK_RC(shmring_send(p.prod, "b", 1, SHMRING_NOWAIT), SHMRING_OK);
	CHECK_RC(shmring_send(p.prod, "c", 1, SHMRING_NOWAIT), SHMRING_EAGAIN);
	pair_close(&p);
	return 0;
}

/* A blocked call returns ETIMEDOUT no earlier than its timeout. */
static int etimedout_after_at_least_the_timeout(void)
{
	static const int ms[] = {1, 30, 120};
	struct pair p;
	size_t len;
	void *w;
	double t0, dt;

	CHECK(pair_open(&p, 8, 2) == 0);
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		t0 = wu_now_ms();
		CHECK_RC(shmring_recv(p.cons, NULL, 0, &len, ms[i]),
		         SHMRING_ETIMEDOUT);
		dt = wu_now_ms() - t0;
		TAP_NOTE("recv timeout %d ms returned after %.2f ms", ms[i],
		         dt);
		CHECK(dt >= ms[i]);
	}
	CHECK_RC(shmring_send(p.prod, "a", 1, 0), SHMRING_OK);
	CHECK_RC(shmring_send(p.prod, "b", 1, 0), SHMRING_OK);
	t0 = wu_now_ms();
	CHECK_RC(shmring_claim(p.prod, 1, &w, 60), SHMRING_ETIMEDOUT);
	dt = wu_now_ms() - t0;
	TAP_NOTE("claim timeout 60 ms returned after %.2f ms", dt);
	CHECK(dt >= 60);
	pair_close(&p);
	return 0;
}

static int emsgsize_too_long_or_short_buffer(void)
{
	struct pair p;
	char big[89] = {0}, small[4], ok[32];
	size_t len = 0;
	void *w;

	CHECK(pair_open(&p, 32, 4) == 0); /* stride 48: max_msg 88 */
	CHECK_EQ(shmring_max_msg(p.prod), 88);
	CHECK_RC(shmring_send(p.prod, big, 89, 0), SHMRING_EMSGSIZE);
	CHECK_RC(shmring_claim(p.prod, 89, &w, 0), SHMRING_EMSGSIZE);
	memset(big, 'm', 20);
	CHECK_RC(shmring_send(p.prod, big, 20, 0), SHMRING_OK);
	CHECK_RC(shmring_recv(p.cons, small, sizeof small, &len, 0),
	         SHMRING_EMSGSIZE);
	CHECK_EQ(len, 20); /* the size needed */
	len = 0;
	CHECK_RC(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EMSGSIZE);
	CHECK_EQ(len, 20);
	CHECK_RC(shmring_recv(p.cons, ok, sizeof ok, &len, 0), SHMRING_OK);
	CHECK_EQ(len, 20); /* the message stayed in the ring */
	CHECK(memcmp(ok, big, 20) == 0);
	pair_close(&p);
	return 0;
}

static int eclosed_after_producer_close_and_drain(void)
{
	struct pair p;
	char buf[8];
	size_t len;
	const void *r;

	CHECK(pair_open(&p, 8, 4) == 0);
	CHECK_RC(shmring_send(p.prod, "1", 1, 0), SHMRING_OK);
	CHECK_RC(shmring_send(p.prod, "2", 1, 0), SHMRING_OK);
	CHECK_RC(shmring_close(p.prod), SHMRING_OK);
	CHECK_RC(shmring_recv(p.cons, buf, 8, &len, 0), SHMRING_OK);
	CHECK_RC(shmring_peek(p.cons, &r, &len, -1), SHMRING_OK);
	CHECK_RC(shmring_release(p.cons), SHMRING_OK);
	CHECK_RC(shmring_recv(p.cons, buf, 8, &len, 0), SHMRING_ECLOSED);
	CHECK_RC(shmring_recv(p.cons, buf, 8, &len, 100), SHMRING_ECLOSED);
	CHECK_RC(shmring_recv(p.cons, buf, 8, &len, -1), SHMRING_ECLOSED);
	shmring_close(p.cons);
	return 0;
}

static int eclosed_send_after_consumer_close_until_reattach(void)
{
	struct pair p;
	size_t len;

	CHECK(pair_open(&p, 8, 4) == 0);
	CHECK_RC(shmring_send(p.prod, "k", 1, 0), SHMRING_OK);
	CHECK_RC(shmring_close(p.cons), SHMRING_OK);
	CHECK_RC(shmring_send(p.prod, "x", 1, 0), SHMRING_ECLOSED);
	CHECK_RC(shmring_send(p.prod, "x", 1, -1), SHMRING_ECLOSED);
	CHECK_RC(shmring_open(p.name, SHMRING_CONSUMER, &p.cons), SHMRING_OK);
	CHECK_RC(shmring_send(p.prod, "y", 1, 0), SHMRING_OK);
	char b[8];
	CHECK_RC(shmring_recv(p.cons, b, 8, &len, 0), SHMRING_OK);
	CHECK(b[0] == 'k'); /* kept for the next consumer */
	CHECK_RC(shmring_recv(p.cons, b, 8, &len, 0), SHMRING_OK);
	CHECK(b[0] == 'y');
	pair_close(&p);
	return 0;
}

static int eexist_create_of_a_live_ring(void)
{
	struct pair p;
	shmring *r = NULL;

	CHECK(pair_open(&p, 8, 4) == 0);
	CHECK_RC(shmring_create(p.name, NULL, SHMRING_PRODUCER, &r),
	         SHMRING_EEXIST);
	CHECK_RC(shmring_create(p.name, NULL, SHMRING_CONSUMER, &r),
	         SHMRING_EEXIST);
	shmring_close(p.cons); /* one live holder is enough */
	CHECK_RC(shmring_create(p.name, NULL, SHMRING_CONSUMER, &r),
	         SHMRING_EEXIST);
	CHECK(r == NULL);
	shmring_close(p.prod);
	return 0;
}

static int enoent_open_or_unlink_of_missing_ring(void)
{
	char name[WU_NAME_MAX];
	shmring *r = NULL;

	wu_name(name, "api");
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &r), SHMRING_ENOENT);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_ENOENT);
	CHECK_RC(shmring_unlink(name), SHMRING_ENOENT);
	CHECK(r == NULL);
	return 0;
}

static int ebusy_role_held_by_this_process(void)
{
	struct pair p;
	shmring *r = NULL;

	CHECK(pair_open(&p, 8, 4) == 0);
	CHECK_RC(shmring_open(p.name, SHMRING_PRODUCER, &r), SHMRING_EBUSY);
	CHECK_RC(shmring_open(p.name, SHMRING_CONSUMER, &r), SHMRING_EBUSY);
	CHECK(r == NULL);
	shmring_close(p.cons);
	CHECK_RC(shmring_open(p.name, SHMRING_CONSUMER, &r), SHMRING_OK);
	shmring_close(r);
	shmring_close(p.prod);
	return 0;
}

/* Windows: a name lives as long as a handle to it; unlink is a no-op. */
static int name_lives_as_long_as_a_handle(void)
{
	struct pair p;
	shmring *r = NULL;
	size_t len;

	CHECK(pair_open(&p, 8, 4) == 0);
	CHECK_RC(shmring_send(p.prod, "u", 1, 0), SHMRING_OK);
	CHECK_RC(shmring_unlink(p.name), SHMRING_OK);
	CHECK_RC(shmring_unlink(p.name), SHMRING_OK); /* still there */
	shmring_close(p.cons);
	CHECK_RC(shmring_open(p.name, SHMRING_CONSUMER, &p.cons), SHMRING_OK);
	CHECK_RC(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EMSGSIZE);
	pair_close(&p);
	/* last handle gone: so is the ring, and its name is free again */
	CHECK_RC(shmring_open(p.name, SHMRING_CONSUMER, &r), SHMRING_ENOENT);
	CHECK_RC(shmring_unlink(p.name), SHMRING_ENOENT);
	CHECK_RC(shmring_create(p.name, NULL, SHMRING_CONSUMER, &r),
	         SHMRING_OK);
	CHECK_RC(shmring_recv(r, NULL, 0, &len, 0), SHMRING_EAGAIN);
	shmring_close(r);
	return 0;
}

static int pending_claim_is_discarded_on_close(void)
{
	struct pair p;
	void *w;
	char b[8];
	size_t len;

	CHECK(pair_open(&p, 8, 4) == 0);
	CHECK_RC(shmring_claim(p.prod, 1, &w, 0), SHMRING_OK);
	*(char *)w = 'd';
	shmring_close(p.prod);
	CHECK_RC(shmring_recv(p.cons, b, 8, &len, 0), SHMRING_ECLOSED);
	CHECK_RC(shmring_open(p.name, SHMRING_PRODUCER, &p.prod), SHMRING_OK);
	CHECK_RC(shmring_send(p.prod, "n", 1, 0), SHMRING_OK);
	CHECK_RC(shmring_recv(p.cons, b, 8, &len, 0), SHMRING_OK);
	CHECK(len == 1 && b[0] == 'n');
	pair_close(&p);
	return 0;
}

/* Segment sizes that are not page multiples open (see os_seg_size). */
static int geometries_of_any_size_open(void)
{
	static const uint32_t sizes[] = {0, 1, 56, 57, 120, 1000, 4088, 4089};
	static const uint32_t counts[] = {2, 4, 8, 64, 1024};

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (size_t j = 0; j < sizeof counts / sizeof counts[0]; j++) {
			struct pair p;
			size_t len;
			CHECK(pair_open(&p, sizes[i] ? sizes[i] : 8,
			                counts[j]) == 0);
			CHECK_RC(shmring_send(p.prod, NULL, 0, 0), SHMRING_OK);
			CHECK_RC(shmring_recv(p.cons, NULL, 0, &len, 0),
			         SHMRING_OK);
			pair_close(&p);
		}
	return 0;
}

/* ---- format 2: records over slots, max_msg, batches of claims and peeks */

#define MSG_SEED 11

/* 1 if @len bytes at @p are message @seq (wu_msg_fill, MSG_SEED). */
static int same_msg(const void *p, size_t len, uint64_t seq)
{
	static uint8_t want[1u << 20];

	if (len > sizeof want)
		return 0;
	wu_msg_fill(want, len, MSG_SEED, seq);
	return memcmp(p, want, len) == 0;
}

/* Send message @seq of @len bytes (NOWAIT); the rc. */
static int send_msg(shmring *r, uint64_t seq, size_t len)
{
	static uint8_t buf[1u << 20];

	if (len > sizeof buf)
		return SHMRING_EINVAL;
	wu_msg_fill(buf, len, MSG_SEED, seq);
	return shmring_send(r, buf, len, SHMRING_NOWAIT);
}

/* Receive one message (NOWAIT) and check it is @seq of @len bytes. */
static int recv_msg(shmring *r, uint64_t seq, size_t len)
{
	static uint8_t buf[1u << 20];
	size_t got = 0;

	CHECK_RC(shmring_recv(r, buf, sizeof buf, &got, SHMRING_NOWAIT),
	         SHMRING_OK);
	CHECK_EQ(got, len);
	CHECK(same_msg(buf, got, seq));
	return 0;
}

#define SEND_MSG(r, seq, len) CHECK_RC(send_msg(r, seq, len), SHMRING_OK)
#define RECV_MSG(r, seq, len) CHECK(recv_msg(r, seq, len) == 0)

/* The default max_msg is half the ring's slot bytes minus the header, and
 * every data call takes a message of exactly max_msg and refuses one more
 * byte (a batch with one too large sends or claims none). */
static int max_msg_default_is_half_the_slot_bytes(void)
{
	static const struct {
		uint32_t slot_size, count;
		size_t want;
	} g[] = {
	        {0, 0, 524280},  /* the default ring: 1 MiB of slots */
	        {8, 8, 56},      /* stride 16 */
	        {1, 2, 8},       /* the smallest ring: one slot's payload */
	        {40, 8, 184},    /* stride 48 */
	        {1016, 2, 1016}, /* two 1 KiB slots: one slot's payload */
	        {4089, 4, 8216}, /* stride 4112 */
	};

	for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
		struct pair p;
		size_t max, n = 9;
		void *w;
		shmring_msg mv[2] = {{"", 0}, {"", 0}};
		shmring_buf bv[2];

		CHECK(pair_open(&p, g[i].slot_size, g[i].count) == 0);
		max = shmring_max_msg(p.prod);
		TAP_NOTE("slot_size %u x %u slots: max_msg %zu", g[i].slot_size,
		         g[i].count, max);
		CHECK_EQ(max, g[i].want);
		CHECK_EQ(shmring_max_msg(p.cons), max);
		SEND_MSG(p.prod, i, max);
		RECV_MSG(p.cons, i, max);
		CHECK_RC(send_msg(p.prod, i, max + 1), SHMRING_EMSGSIZE);
		CHECK_RC(shmring_claim(p.prod, max + 1, &w, 0),
		         SHMRING_EMSGSIZE);
		mv[1].len = max + 1;
		mv[1].data = &n; /* never read */
		CHECK_RC(shmring_sendv(p.prod, mv, 2, &n, 0), SHMRING_EMSGSIZE);
		CHECK_EQ(n, 0);
		bv[0] = (shmring_buf){NULL, 0};
		bv[1] = (shmring_buf){NULL, max + 1};
		n = 9;
		CHECK_RC(shmring_claimv(p.prod, bv, 2, &n, 0),
		         SHMRING_EMSGSIZE);
		CHECK_EQ(n, 0);
		/* nothing was sent or left claimed */
		CHECK_RC(shmring_recv(p.cons, NULL, 0, &n, 0), SHMRING_EAGAIN);
		SEND_MSG(p.prod, 100 + i, 0);
		RECV_MSG(p.cons, 100 + i, 0);
		pair_close(&p);
	}
	return 0;
}

static int explicit_max_msg_bounds_every_data_call(void)
{
	static const uint32_t maxes[] = {1, 100, 247, 248};
	shmring_config cfg = {.slot_size = 8, .slot_count = 16}; /* 256 B */
	char name[WU_NAME_MAX];
	shmring *p = NULL, *c = NULL;
	void *w;

	for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
		cfg.max_msg = maxes[i];
		wu_name(name, "api");
		CHECK_RC(shmring_create(name, &cfg, SHMRING_PRODUCER, &p),
		         SHMRING_OK);
		CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
		CHECK_EQ(shmring_max_msg(p), maxes[i]);
		CHECK_EQ(shmring_max_msg(c), maxes[i]); /* from the header */
		SEND_MSG(p, i, maxes[i]);
		CHECK_RC(send_msg(p, i, maxes[i] + 1), SHMRING_EMSGSIZE);
		CHECK_RC(shmring_claim(p, maxes[i] + 1, &w, 0),
		         SHMRING_EMSGSIZE);
		RECV_MSG(c, i, maxes[i]);
		shmring_close(c);
		shmring_close(p);
	}
	/* 248 = 16 slots * 16 - 8 is the most; one more is a bad config */
	cfg.max_msg = 249;
	wu_name(name, "api");
	CHECK_RC(shmring_create(name, &cfg, SHMRING_PRODUCER, &p),
	         SHMRING_EINVAL);
	return 0;
}

/* One record over every slot: it fills the ring; after a wrap its padding
 * is published alone and the message waits for the whole ring. */
static int whole_ring_message_waits_for_its_padding(void)
{
	shmring_config cfg = {.slot_size = 8, .slot_count = 16, .max_msg = 248};
	char name[WU_NAME_MAX];
	shmring *p = NULL, *c = NULL;
	size_t len;

	wu_name(name, "api");
	CHECK_RC(shmring_create(name, &cfg, SHMRING_PRODUCER, &p), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
	SEND_MSG(p, 0, 248);
	CHECK_RC(send_msg(p, 1, 0), SHMRING_EAGAIN); /* full */
	RECV_MSG(c, 0, 248);
	for (uint64_t i = 1; i <= 3; i++) {
		SEND_MSG(p, i, 8);
		RECV_MSG(c, i, 8);
	}
	/* at index 19 (slot 3): 13 slots of padding, then 16 at slot 0 */
	CHECK_RC(send_msg(p, 4, 248), SHMRING_EAGAIN);
	CHECK_RC(shmring_recv(c, NULL, 0, &len, 0), SHMRING_EAGAIN);
	SEND_MSG(p, 4, 248); /* the padding is gone: room for all 16 */
	RECV_MSG(c, 4, 248);
	CHECK_RC(shmring_recv(c, NULL, 0, &len, 0), SHMRING_EAGAIN);
	shmring_close(c);
	shmring_close(p);
	return 0;
}

/* Messages of 0 .. max_msg bytes over 1 .. 32 slots, through every data
 * call, and the largest messages of the default ring. */
static int messages_span_slots_up_to_max_msg(void)
{
	static const size_t lens[] = {0, 1, 8, 9, 24, 25, 100, 255, 503, 504};
	const size_t nl = sizeof lens / sizeof lens[0];
	static uint8_t bufs[4][504];
	struct pair p;
	void *w;
	const void *r;
	size_t len, n;
	uint64_t seq = 0;

	CHECK(pair_open(&p, 8, 64) == 0); /* stride 16: max_msg 504 */
	CHECK_EQ(shmring_max_msg(p.prod), 504);
	for (size_t i = 0; i < nl; i++, seq++) {
		SEND_MSG(p.prod, seq, lens[i]);
		RECV_MSG(p.cons, seq, lens[i]);
	}
	for (size_t i = 0; i < nl; i++, seq++) {
		CHECK_RC(shmring_claim(p.prod, lens[i], &w, 0), SHMRING_OK);
		wu_msg_fill(w, lens[i], MSG_SEED, seq);
		CHECK_RC(shmring_commit(p.prod, lens[i]), SHMRING_OK);
		CHECK_RC(shmring_peek(p.cons, &r, &len, 0), SHMRING_OK);
		CHECK_EQ(len, lens[i]);
		CHECK(same_msg(r, len, seq)); /* contiguous in the ring */
		CHECK_RC(shmring_release(p.cons), SHMRING_OK);
	}
	/* batches of 4, 4, 1 and 1 (each fits an empty ring, wherever the
	 * padding before it falls) */
	for (size_t i = 0; i < nl;) {
		shmring_msg mv[4];
		shmring_buf bv[4];
		size_t k = i < 8 ? 4 : 1;
		for (size_t j = 0; j < k; j++) {
			wu_msg_fill(bufs[j], lens[i + j], MSG_SEED, seq + j);
			mv[j] = (shmring_msg){bufs[j], lens[i + j]};
		}
		CHECK_RC(shmring_sendv(p.prod, mv, k, &n, 0), SHMRING_OK);
		CHECK_EQ(n, k);
		for (size_t j = 0; j < 4; j++)
			bv[j] = (shmring_buf){bufs[j], sizeof bufs[j]};
		memset(bufs, 0, sizeof bufs);
		CHECK_RC(shmring_recvv(p.cons, bv, 4, &n, 0), SHMRING_OK);
		CHECK_EQ(n, k);
		for (size_t j = 0; j < k; j++) {
			CHECK_EQ(bv[j].len, lens[i + j]);
			CHECK(same_msg(bufs[j], bv[j].len, seq + j));
		}
		seq += k;
		i += k;
	}
	pair_close(&p);

	/* the default ring: messages of up to half its slots */
	CHECK(pair_open(&p, 0, 0) == 0);
	{
		static const size_t big[] = {524280, 200000, 1016,  1017,
		                             524279, 0,      300000};
		for (size_t i = 0; i < sizeof big / sizeof big[0]; i++, seq++) {
			SEND_MSG(p.prod, seq, big[i]);
			if (i & 1) {
				RECV_MSG(p.cons, seq, big[i]);
				continue;
			}
			CHECK_RC(shmring_peek(p.cons, &r, &len, 0), SHMRING_OK);
			CHECK_EQ(len, big[i]);
			CHECK(same_msg(r, len, seq));
			CHECK_RC(shmring_release(p.cons), SHMRING_OK);
		}
	}
	pair_close(&p);
	return 0;
}

/* docs/format.md's example: slot_size 8 (stride 16), 8 slots, a 40-byte
 * message written at index 6 needs 3 slots but 2 are left: padding at 6
 * (len 24, slots 6-7), the message at 8 (slot 0, lap 1), head 11. */
static int wrap_with_padding_as_in_the_format_example(void)
{
	struct pair p;
	struct sr_seg *s;
	const uint8_t *slots;
	uint64_t word;

	CHECK(pair_open(&p, 8, 8) == 0);
	s = wu_seg_map(p.name, NULL);
	CHECK(s != NULL);
	slots = (const uint8_t *)s + SR_HDR_SIZE;
	for (uint64_t i = 0; i < 6; i++) {
		SEND_MSG(p.prod, i, 8);
		RECV_MSG(p.cons, i, 8);
	}
	SEND_MSG(p.prod, 6, 40);
	CHECK_EQ(atomic_load(&s->head.value), 11);
	memcpy(&word, slots + 6 * 16, 8);
	CHECK_EQ(word, (uint64_t)24 | (uint64_t)SR_REC_PAD << 32); /* lap 0 */
	memcpy(&word, slots, 8);
	CHECK_EQ(word,
	         (uint64_t)40 | (uint64_t)SR_REC_MSG << 32 | (uint64_t)1 << 34);
	/* 3 slots are free: three one-slot messages, then the ring is full */
	for (uint64_t i = 7; i < 10; i++)
		SEND_MSG(p.prod, i, 8);
	CHECK_RC(send_msg(p.prod, 10, 0), SHMRING_EAGAIN);
	RECV_MSG(p.cons, 6, 40); /* the padding is never delivered */
	for (uint64_t i = 7; i < 10; i++)
		RECV_MSG(p.cons, i, 8);
	CHECK_EQ(atomic_load(&s->tail.value), 14);
	CHECK_RC(send_msg(p.prod, 10, 0), SHMRING_OK);
	RECV_MSG(p.cons, 10, 0);
	wu_seg_unmap(s);
	pair_close(&p);
	return 0;
}

/* Random lengths 0 .. max_msg through a small ring: it wraps with padding
 * of every size, and everything arrives once, in order, intact. */
static int random_lengths_wrap_in_order(void)
{
	static uint8_t buf[56];
	struct pair p;
	uint64_t sent = 0, got = 0, rounds = 0;
	size_t len;

	CHECK(pair_open(&p, 8, 8) == 0); /* max_msg 56: up to 4 slots */
	while (got < 3000) {
		size_t n = wu_msg_len(5, sent, 56);
		wu_msg_fill(buf, n, 5, sent);
		if (shmring_send(p.prod, buf, n, 0) == SHMRING_OK) {
			sent++;
			continue;
		}
		CHECK(sent > got); /* full only when something is in it */
		while (shmring_recv(p.cons, buf, sizeof buf, &len, 0) ==
		       SHMRING_OK) {
			CHECK(wu_msg_check(buf, len, 5, got, 56));
			got++;
		}
		CHECK_EQ(got, sent);
		rounds++;
	}
	TAP_NOTE("%llu messages in %llu fills of an 8-slot ring",
	         (unsigned long long)got, (unsigned long long)rounds);
	pair_close(&p);
	return 0;
}

static int claimv_commitv_batches(void)
{
	static const size_t want[] = {8, 40, 0, 24}, commit[] = {8, 20, 0, 24};
	struct pair p;
	shmring_buf bv[1100];
	size_t n = 0, k, lens[3];
	shmring_stats st;
	void *w;

	CHECK(pair_open(&p, 8, 16) == 0); /* stride 16, max_msg 120 */
	for (size_t i = 0; i < 4; i++)
		bv[i] = (shmring_buf){NULL, want[i]};
	CHECK_RC(shmring_claimv(p.prod, bv, 4, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 4);
	for (size_t i = 0; i < 4; i++) {
		CHECK(bv[i].data != NULL);
		CHECK_EQ(bv[i].len, want[i]);
		wu_msg_fill(bv[i].data, commit[i], MSG_SEED, i);
	}
	CHECK((uint8_t *)bv[1].data >= (uint8_t *)bv[0].data + 8);
	CHECK_RC(shmring_send(p.prod, "x", 1, 0), SHMRING_EINVAL); /* pending */
	CHECK_RC(shmring_claim(p.prod, 1, &w, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_claimv(p.prod, bv, 1, &n, 0), SHMRING_EINVAL);
	/* the second is committed shorter than claimed */
	CHECK_RC(shmring_commitv(p.prod, commit, 4), SHMRING_OK);
	CHECK_RC(shmring_get_stats(p.prod, &st), SHMRING_OK);
	CHECK_EQ(st.messages, 4);
	for (size_t i = 0; i < 4; i++)
		RECV_MSG(p.cons, i, commit[i]);
	CHECK_RC(shmring_recv(p.cons, NULL, 0, &n, 0), SHMRING_EAGAIN);

	/* a shorter last commit gives back the slots it does not need */
	bv[0] = (shmring_buf){NULL, 120}; /* 8 slots */
	CHECK_RC(shmring_claimv(p.prod, bv, 1, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 1);
	wu_msg_fill(bv[0].data, 8, MSG_SEED, 10);
	lens[0] = 8;
	CHECK_RC(shmring_commitv(p.prod, lens, 1), SHMRING_OK);
	for (uint64_t i = 11; i < 11 + 15; i++)
		SEND_MSG(p.prod, i, 0);
	CHECK_RC(send_msg(p.prod, 26, 0), SHMRING_EAGAIN); /* 16 in use */
	RECV_MSG(p.cons, 10, 8);
	for (uint64_t i = 11; i < 11 + 15; i++)
		RECV_MSG(p.cons, i, 0);

	/* commit the first two of three: the third is discarded */
	for (size_t i = 0; i < 3; i++)
		bv[i] = (shmring_buf){NULL, 8};
	CHECK_RC(shmring_claimv(p.prod, bv, 3, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 3);
	for (size_t i = 0; i < 3; i++)
		wu_msg_fill(bv[i].data, 8, MSG_SEED, 30 + i);
	lens[0] = lens[1] = 8;
	CHECK_RC(shmring_commitv(p.prod, lens, 2), SHMRING_OK);
	CHECK_RC(shmring_commitv(p.prod, NULL, 0), SHMRING_EINVAL); /* none */
	RECV_MSG(p.cons, 30, 8);
	RECV_MSG(p.cons, 31, 8);
	CHECK_RC(shmring_recv(p.cons, NULL, 0, &n, 0), SHMRING_EAGAIN);

	/* a bad commitv commits nothing and leaves the claims pending */
	bv[0] = (shmring_buf){NULL, 16};
	bv[1] = (shmring_buf){NULL, 16};
	CHECK_RC(shmring_claimv(p.prod, bv, 2, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 2);
	lens[0] = 17;
	lens[1] = 1;
	CHECK_RC(shmring_commitv(p.prod, lens, 2), SHMRING_EINVAL);
	CHECK_RC(shmring_commitv(p.prod, NULL, 3), SHMRING_EINVAL);
	CHECK_RC(shmring_send(p.prod, "x", 1, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_recv(p.cons, NULL, 0, &n, 0), SHMRING_EAGAIN);
	wu_msg_fill(bv[0].data, 16, MSG_SEED, 40);
	wu_msg_fill(bv[1].data, 16, MSG_SEED, 41);
	CHECK_RC(shmring_commitv(p.prod, NULL, 2), SHMRING_OK); /* as claimed */
	RECV_MSG(p.cons, 40, 16);
	RECV_MSG(p.cons, 41, 16);
	/* commitv of 0 discards every claim */
	CHECK_RC(shmring_claimv(p.prod, bv, 2, &n, 0), SHMRING_OK);
	CHECK_RC(shmring_commitv(p.prod, NULL, 0), SHMRING_OK);
	CHECK_RC(shmring_commitv(p.prod, NULL, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_recv(p.cons, NULL, 0, &n, 0), SHMRING_EAGAIN);

	/* claimv takes what fits now, without waiting for the rest */
	for (size_t i = 0; i < 6; i++)
		bv[i] = (shmring_buf){NULL, 40}; /* 3 slots each */
	CHECK_RC(shmring_claimv(p.prod, bv, 6, &k, 0), SHMRING_OK);
	TAP_NOTE("claimv of 6 x 3 slots in 16 free: %zu claimed", k);
	CHECK(k >= 4 && k <= 5);
	CHECK(bv[k].data == NULL); /* the rest untouched */
	for (size_t i = 0; i < k; i++)
		wu_msg_fill(bv[i].data, 40, MSG_SEED, 50 + i);
	CHECK_RC(shmring_commitv(p.prod, NULL, k), SHMRING_OK);
	bv[0] = (shmring_buf){NULL, 120};
	CHECK_RC(shmring_claimv(p.prod, bv, 1, &n, 0), SHMRING_EAGAIN);
	CHECK_EQ(n, 0);
	CHECK_RC(shmring_claimv(p.prod, bv, 1, &n, 30), SHMRING_ETIMEDOUT);
	for (size_t i = 0; i < k; i++)
		RECV_MSG(p.cons, 50 + i, 40);

	/* edges of the arguments */
	CHECK_RC(shmring_claimv(p.prod, bv, 0, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 0);
	CHECK_RC(shmring_commitv(p.prod, NULL, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_claimv(p.prod, bv, 1, NULL, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_claimv(p.prod, NULL, 1, &n, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_claimv(p.cons, bv, 1, &n, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_commitv(p.cons, NULL, 0), SHMRING_EINVAL);
	pair_close(&p);

	/* at most SHMRING_BATCH_MAX claims at a time */
	CHECK(pair_open(&p, 8, 2048) == 0);
	for (size_t i = 0; i < 1100; i++)
		bv[i] = (shmring_buf){NULL, 0};
	CHECK_RC(shmring_claimv(p.prod, bv, 1100, &n, 0), SHMRING_OK);
	CHECK_EQ(n, SHMRING_BATCH_MAX);
	CHECK_RC(shmring_commitv(p.prod, NULL, n), SHMRING_OK);
	for (k = 0; shmring_recv(p.cons, NULL, 0, &n, 0) == SHMRING_OK; k++)
		CHECK_EQ(n, 0);
	CHECK_EQ(k, SHMRING_BATCH_MAX);
	pair_close(&p);
	return 0;
}

static int peekv_releasev_partial(void)
{
	static const size_t lens[] = {3, 30, 0, 9, 17}; /* 1+3+1+2+2 slots */
	struct pair p;
	shmring_msg m[16], m2[16], m3[1100];
	const void *d;
	size_t n = 0, len;

	CHECK(pair_open(&p, 8, 16) == 0);
	for (size_t i = 0; i < 5; i++)
		SEND_MSG(p.prod, i, lens[i]);
	CHECK_RC(shmring_peekv(p.cons, m, 3, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 3);
	for (size_t i = 0; i < 3; i++) {
		CHECK_EQ(m[i].len, lens[i]);
		CHECK(same_msg(m[i].data, m[i].len, i));
	}
	/* peeking again: the same three at the same addresses, then more */
	CHECK_RC(shmring_peekv(p.cons, m2, 8, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 5);
	for (size_t i = 0; i < 5; i++) {
		CHECK(i >= 3 || m2[i].data == m[i].data);
		CHECK_EQ(m2[i].len, lens[i]);
		CHECK(same_msg(m2[i].data, m2[i].len, i));
	}
	CHECK_RC(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_releasev(p.prod, 1), SHMRING_EINVAL);
	CHECK_RC(shmring_releasev(p.cons, 6), SHMRING_EINVAL);
	CHECK_RC(shmring_releasev(p.cons, 0), SHMRING_OK);
	/* release two: the other three stay peeked, where they were */
	CHECK_RC(shmring_releasev(p.cons, 2), SHMRING_OK);
	CHECK_RC(shmring_peekv(p.cons, m, 8, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 3);
	for (size_t i = 0; i < 3; i++) {
		CHECK(m[i].data == m2[i + 2].data);
		CHECK(same_msg(m[i].data, m[i].len, i + 2));
	}
	CHECK_RC(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	CHECK(d == m[0].data && len == 0);
	CHECK_RC(shmring_release(p.cons), SHMRING_OK);
	CHECK_RC(shmring_peekv(p.cons, m, 8, &n, 0), SHMRING_OK);
	CHECK(n == 2 && m[0].len == 9 && m[1].len == 17);
	CHECK_RC(shmring_releasev(p.cons, 2), SHMRING_OK);
	n = 9;
	CHECK_RC(shmring_peekv(p.cons, m, 8, &n, 0), SHMRING_EAGAIN);
	CHECK_EQ(n, 0);
	CHECK_RC(shmring_releasev(p.cons, 1), SHMRING_EINVAL);

	/* a partial release hands exactly its slots back to the producer */
	for (uint64_t i = 0; i < 16; i++)
		SEND_MSG(p.prod, 100 + i, 8);
	CHECK_RC(send_msg(p.prod, 116, 0), SHMRING_EAGAIN);
	CHECK_RC(shmring_peekv(p.cons, m, 16, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 16);
	CHECK_RC(shmring_releasev(p.cons, 3), SHMRING_OK);
	for (uint64_t i = 116; i < 119; i++)
		SEND_MSG(p.prod, i, 8);
	CHECK_RC(send_msg(p.prod, 119, 0), SHMRING_EAGAIN);
	CHECK_RC(shmring_peekv(p.cons, m2, 16, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 16);
	for (size_t i = 0; i < 16; i++) {
		CHECK(i >= 13 || m2[i].data == m[i + 3].data);
		CHECK(same_msg(m2[i].data, m2[i].len, 103 + i));
	}
	CHECK_RC(shmring_releasev(p.cons, 16), SHMRING_OK);
	CHECK_RC(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EAGAIN);

	/* edges of the arguments */
	CHECK_RC(shmring_peekv(p.cons, m, 0, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 0);
	CHECK_RC(shmring_peekv(p.cons, m, 1, NULL, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_peekv(p.cons, NULL, 1, &n, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_peekv(p.prod, m, 1, &n, 0), SHMRING_EINVAL);
	CHECK_RC(shmring_peekv(p.cons, m, 1, &n, 20), SHMRING_ETIMEDOUT);
	pair_close(&p);

	/* at most SHMRING_BATCH_MAX peeked at a time */
	CHECK(pair_open(&p, 8, 2048) == 0);
	for (uint64_t i = 0; i < 1100; i++)
		CHECK_RC(shmring_send(p.prod, NULL, 0, 0), SHMRING_OK);
	CHECK_RC(shmring_peekv(p.cons, m3, 1100, &n, 0), SHMRING_OK);
	CHECK_EQ(n, SHMRING_BATCH_MAX);
	CHECK_RC(shmring_releasev(p.cons, n), SHMRING_OK);
	CHECK_RC(shmring_peekv(p.cons, m3, 1100, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 1100 - SHMRING_BATCH_MAX);
	CHECK_RC(shmring_releasev(p.cons, n), SHMRING_OK);
	pair_close(&p);
	return 0;
}

static int strerror_names_every_code(void)
{
	for (int c = 1; c >= -20; c--)
		CHECK(shmring_strerror(c) != NULL && shmring_strerror(c)[0]);
	CHECK(strcmp(shmring_strerror(SHMRING_EPEERDEAD),
	             "peer process died") == 0);
	return 0;
}

static const struct tap_test tests[] = {
        TAP(create_open_send_recv_close),
        TAP(either_side_may_create),
        TAP(messages_wait_for_a_late_consumer),
        TAP(order_and_content_survive_many_wraps),
        TAP(zero_copy_claim_commit_peek_release),
        TAP(batch_sendv_recvv),
        TAP(einval_bad_names),
        TAP(longest_name_works),
        TAP(einval_bad_config_and_role),
        TAP(einval_wrong_role_or_state),
        TAP(eagain_when_empty_or_full),
        TAP(etimedout_after_at_least_the_timeout),
        TAP(emsgsize_too_long_or_short_buffer),
        TAP(eclosed_after_producer_close_and_drain),
        TAP(eclosed_send_after_consumer_close_until_reattach),
        TAP(eexist_create_of_a_live_ring),
        TAP(enoent_open_or_unlink_of_missing_ring),
        TAP(ebusy_role_held_by_this_process),
        TAP(name_lives_as_long_as_a_handle),
        TAP(pending_claim_is_discarded_on_close),
        TAP(geometries_of_any_size_open),
        TAP(max_msg_default_is_half_the_slot_bytes),
        TAP(explicit_max_msg_bounds_every_data_call),
        TAP(whole_ring_message_waits_for_its_padding),
        TAP(messages_span_slots_up_to_max_msg),
        TAP(wrap_with_padding_as_in_the_format_example),
        TAP(random_lengths_wrap_in_order),
        TAP(claimv_commitv_batches),
        TAP(peekv_releasev_partial),
        TAP(strerror_names_every_code),
};

int main(int argc, char **argv)
{
	return TAP_MAIN(argc, argv, tests);
}
