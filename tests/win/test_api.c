/* SPDX-License-Identifier: MIT */
/*
 * test_api.c -- the contract's single-process behaviours on Windows: create,
 * open, close, both data APIs, and every error code a call can return here.
 * Two-process behaviours are in test_ipc.c, corrupted segments in
 * test_badfmt.c, the backend itself in test_os.c.
 */
#include <string.h>

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
	CHECK_EQ(shmring_max_msg(p.prod), 64);
	CHECK_EQ(shmring_max_msg(p.cons), 64);
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
	size_t len = 1;

	wu_name(name, "api");
	CHECK_RC(shmring_create(name, NULL, SHMRING_CONSUMER, &c), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p), SHMRING_OK);
	CHECK_EQ(shmring_max_msg(p), SHMRING_DEFAULT_SLOT_SIZE);
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
	        {.flags = 1},
	        {.perm = 01000},
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
	char big[33] = {0}, small[4], ok[32];
	size_t len = 0;
	void *w;

	CHECK(pair_open(&p, 32, 4) == 0);
	CHECK_RC(shmring_send(p.prod, big, 33, 0), SHMRING_EMSGSIZE);
	CHECK_RC(shmring_claim(p.prod, 33, &w, 0), SHMRING_EMSGSIZE);
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
        TAP(strerror_names_every_code),
};

int main(int argc, char **argv)
{
	return TAP_MAIN(argc, argv, tests);
}
