/* Description: every code has a string; every call checks its args. */
/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define UNKNOWN "unknown shmring error"

static const int all_codes[] = {
        SHMRING_OK,       SHMRING_EINVAL,  SHMRING_EAGAIN,    SHMRING_ETIMEDOUT,
        SHMRING_EMSGSIZE, SHMRING_ECLOSED, SHMRING_EPEERDEAD, SHMRING_EEXIST,
        SHMRING_ENOENT,   SHMRING_EACCES,  SHMRING_EBUSY,     SHMRING_EBADFMT,
        SHMRING_ENOMEM,   SHMRING_ESYS,    SHMRING_EINTR,
};
#define NCODES (sizeof all_codes / sizeof all_codes[0])

/* ---- strerror ----------------------------------------------------------- */

Test(strerror, codes_keep_their_published_values)
{
	for (size_t i = 0; i < NCODES; i++)
		cr_assert_eq(all_codes[i], -(int)i);
}

Test(strerror, every_code_has_its_own_string)
{
	for (size_t i = 0; i < NCODES; i++) {
		const char *s = shmring_strerror(all_codes[i]);

		cr_assert_not_null(s, "code %d", all_codes[i]);
		cr_assert_gt(strlen(s), 0);
		cr_assert_str_neq(s, UNKNOWN, "code %d", all_codes[i]);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(s, shmring_strerror(all_codes[j]),
			                  "codes %d and %d share a string",
			                  all_codes[i], all_codes[j]);
	}
}

Test(strerror, any_other_value_is_unknown)
{
	const int others[] = {1, 2, 100, -15, -16, -1000, INT_MAX, INT_MIN};

	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		const char *s = shmring_strerror(others[i]);

		cr_assert_not_null(s);
		cr_assert_str_eq(s, UNKNOWN, "code %d", others[i]);
	}
}

/* ---- names -------------------------------------------------------------- */

static const char *const bad_names[] = {
        "",         ".",         ".hidden",  "..",    "a/b",   "/abs",
        "sp ace",   "tab\there", "star*",    "q?",    "pct%s", "new\nline",
        "back\\sl", "colon:",    "\xc3\xa9", "plus+", "at@",   "tilde~",
};
#define NBAD (sizeof bad_names / sizeof bad_names[0])

static void long_name(char *buf, size_t n)
{
	memset(buf, 'a', n);
	buf[n] = '\0';
}

static void assert_no_segment(const char *name)
{
	char path[512];

	seg_path(path, sizeof path, name);
	cr_assert_neq(access(path, F_OK), 0, "%s was created", path);
}

Test(create, rejects_null_and_malformed_names)
{
	shmring *r = (shmring *)&r; /* sentinel: must stay untouched */

	cr_assert_eq(shmring_create(NULL, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_EINVAL);
	for (size_t i = 0; i < NBAD; i++) {
		cr_assert_eq(shmring_create(bad_names[i], NULL,
		                            SHMRING_PRODUCER, &r),
		             SHMRING_EINVAL, "name \"%s\"", bad_names[i]);
		cr_assert_eq(r, (shmring *)&r, "out changed on failure");
	}
}

Test(create, rejects_name_of_201_chars_and_accepts_200)
{
	char name[202], base[TEST_NAME_LEN];
	shmring *r = NULL;

	long_name(name, 201);
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &r), SHMRING_EINVAL);
	cr_assert_eq(shmring_unlink(name), SHMRING_EINVAL);
	long_name(name, 200);
	ring_name(base); /* unique prefix, then 'a' up to 200 chars */
	memcpy(name, base, strlen(base));
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_OK);
	shmring_close(r);
	cr_assert_eq(shmring_unlink(name), SHMRING_OK);
}

Test(create, accepts_every_allowed_character)
{
	char base[TEST_NAME_LEN], name[TEST_NAME_LEN + 80];
	shmring *r = NULL;

	ring_name(base);
	snprintf(name, sizeof name, "%s_AZaz09.-_x-", base);
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_OK);
	shmring_close(r);
	cr_assert_eq(shmring_unlink(name), SHMRING_OK);
	/* a leading '-', '_' or digit is fine; only '.' is reserved */
	snprintf(name, sizeof name, "-%s", base);
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_OK);
	shmring_close(r);
	cr_assert_eq(shmring_unlink(name), SHMRING_OK);
}

Test(open, rejects_null_and_malformed_names)
{
	shmring *r = (shmring *)&r;

	cr_assert_eq(shmring_open(NULL, SHMRING_CONSUMER, &r), SHMRING_EINVAL);
	for (size_t i = 0; i < NBAD; i++)
		cr_assert_eq(shmring_open(bad_names[i], SHMRING_CONSUMER, &r),
		             SHMRING_EINVAL, "name \"%s\"", bad_names[i]);
	cr_assert_eq(r, (shmring *)&r);
}

Test(unlink, rejects_null_and_malformed_names)
{
	cr_assert_eq(shmring_unlink(NULL), SHMRING_EINVAL);
	for (size_t i = 0; i < NBAD; i++)
		cr_assert_eq(shmring_unlink(bad_names[i]), SHMRING_EINVAL,
		             "name \"%s\"", bad_names[i]);
}

Test(unlink, missing_name_is_enoent)
{
	char name[TEST_NAME_LEN];

	ring_name(name);
	cr_assert_eq(shmring_unlink(name), SHMRING_ENOENT);
}

Test(open, missing_name_is_enoent)
{
	char name[TEST_NAME_LEN];
	shmring *r = (shmring *)&r;

	ring_name(name);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_ENOENT);
	cr_assert_eq(shmring_open(name, SHMRING_PRODUCER, &r), SHMRING_ENOENT);
	cr_assert_eq(r, (shmring *)&r);
}

/* ---- create: role, out, geometry, flags, perm ---------------------------- */

static char name[TEST_NAME_LEN];
static void fresh_name(void)
{
	ring_name(name);
}
static void drop_name(void)
{
	shmring_unlink(name);
}

static void assert_create_einval(shmring_config cfg)
{
	shmring *r = (shmring *)&r;

	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &r),
	             SHMRING_EINVAL,
	             "slot_size %u slot_count %u flags %#x perm %#o",
	             cfg.slot_size, cfg.slot_count, cfg.flags, cfg.perm);
	cr_assert_eq(r, (shmring *)&r);
	assert_no_segment(name);
}

TestSuite(create, .init = fresh_name, .fini = drop_name);

Test(create, rejects_null_out_and_unknown_roles)
{
	shmring *r = NULL;

	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, NULL),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_create(name, NULL, (enum shmring_role)0, &r),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_create(name, NULL, (enum shmring_role)3, &r),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_create(name, NULL, (enum shmring_role) - 1, &r),
	             SHMRING_EINVAL);
	cr_assert_null(r);
	assert_no_segment(name);
}

Test(create, rejects_slot_count_that_is_not_a_power_of_two)
{
	const uint32_t counts[] = {1,  3,    5,    6,    7,
	                           12, 1000, 1023, 1025, UINT32_MAX};

	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		assert_create_einval((shmring_config){.slot_size = 64,
		                                      .slot_count = counts[i]});
}

Test(create, rejects_slot_count_above_2_to_the_24)
{
	assert_create_einval(
	        (shmring_config){.slot_size = 64, .slot_count = 1u << 25});
	assert_create_einval(
	        (shmring_config){.slot_size = 64, .slot_count = 1u << 31});
}

Test(create, rejects_slot_size_above_64_mib)
{
	assert_create_einval((shmring_config){
	        .slot_size = SHMRING_MAX_SLOT_SIZE + 1, .slot_count = 2});
	assert_create_einval(
	        (shmring_config){.slot_size = UINT32_MAX, .slot_count = 2});
}

Test(create, rejects_total_size_above_64_gib)
{
	/* 1024 slots of 64 MiB (+ headers) is just over 64 GiB */
	assert_create_einval((shmring_config){
	        .slot_size = SHMRING_MAX_SLOT_SIZE, .slot_count = 1024});
	assert_create_einval(
	        (shmring_config){.slot_size = SHMRING_MAX_SLOT_SIZE,
	                         .slot_count = SHMRING_MAX_SLOT_COUNT});
}

Test(create, rejects_unknown_flags)
{
	assert_create_einval((shmring_config){.flags = 2}); /* not MPSC */
	assert_create_einval((shmring_config){.flags = SHMRING_F_MPSC | 4u});
	assert_create_einval((shmring_config){.flags = 0x80000000u});
	assert_create_einval((shmring_config){.flags = UINT32_MAX});
}

Test(create, rejects_perm_above_0777)
{
	assert_create_einval((shmring_config){.perm = 01000});
	assert_create_einval((shmring_config){.perm = 04755});
	assert_create_einval((shmring_config){.perm = 02600});
	assert_create_einval((shmring_config){.perm = UINT32_MAX});
}

Test(create, accepts_the_smallest_and_edge_geometries)
{
	const shmring_config ok[] = {
	        {.slot_size = 1, .slot_count = 2},
	        {.slot_size = 0, .slot_count = 2},  /* 0 = default size */
	        {.slot_size = 56, .slot_count = 4}, /* 8 + 56 = one line */
	        {.slot_size = 57, .slot_count = 4},
	        {.slot_size = 4096, .slot_count = 0}, /* 0 = default count */
	        {.perm = 0777},
	        {.perm = 0400},
	};

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		shmring *r = NULL;
		int rc = shmring_create(name, &ok[i], SHMRING_CONSUMER, &r);

		cr_assert_eq(rc, SHMRING_OK, "case %zu: %s", i,
		             shmring_strerror(rc));
		shmring_close(r);
		cr_assert_eq(shmring_unlink(name), SHMRING_OK);
	}
}

Test(open, rejects_null_out_and_unknown_roles)
{
	shmring *r = NULL;
	char n[TEST_NAME_LEN];

	ring_name(n);
	ring_make_idle_or_fail(n, 64, 4);
	cr_assert_eq(shmring_open(n, SHMRING_CONSUMER, NULL), SHMRING_EINVAL);
	cr_assert_eq(shmring_open(n, (enum shmring_role)0, &r), SHMRING_EINVAL);
	cr_assert_eq(shmring_open(n, (enum shmring_role)3, &r), SHMRING_EINVAL);
	cr_assert_null(r);
	shmring_unlink(n);
}

/* ---- data calls on a pair ----------------------------------------------- */

static struct pair p;
static void pair_setup(void)
{
	pair_open_or_fail(&p, 64, 4);
}
static void pair_teardown(void)
{
	pair_close(&p);
}

#define PAIR .init = pair_setup, .fini = pair_teardown, .timeout = 10

Test(send, validates_its_arguments, PAIR)
{
	char b[8] = "x";
	void *w;

	cr_assert_eq(shmring_send(NULL, b, 1, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_send(p.prod, NULL, 1, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_send(p.prod, b, 1, -2), SHMRING_EINVAL);
	cr_assert_eq(shmring_send(p.prod, b, 1, INT_MIN), SHMRING_EINVAL);
	cr_assert_eq(shmring_send(p.cons, b, 1, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_claim(p.prod, 4, &w, 0), SHMRING_OK);
	cr_assert_eq(shmring_send(p.prod, b, 1, 0), SHMRING_EINVAL,
	             "send while a claim is pending");
	cr_assert_eq(shmring_commit(p.prod, 0), SHMRING_OK);
	/* NULL data is fine for an empty message */
	cr_assert_eq(shmring_send(p.prod, NULL, 0, 0), SHMRING_OK);
}

Test(send, rejected_calls_leave_the_ring_unchanged, PAIR)
{
	char b[8] = "abc";
	size_t len = 9;

	cr_assert_eq(shmring_send(p.prod, NULL, 3, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_send(p.prod, b, 65, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(shmring_recv(p.cons, b, sizeof b, &len, 0),
	             SHMRING_EAGAIN);
}

Test(recv, validates_its_arguments, PAIR)
{
	char b[8];
	size_t len;
	const void *d;

	cr_assert_eq(shmring_send(p.prod, "hi", 2, 0), SHMRING_OK);
	cr_assert_eq(shmring_recv(NULL, b, sizeof b, &len, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_recv(p.cons, b, sizeof b, NULL, 0),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_recv(p.cons, NULL, 1, &len, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_recv(p.cons, b, sizeof b, &len, -2),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_recv(p.prod, b, sizeof b, &len, 0),
	             SHMRING_EINVAL);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, b, sizeof b, &len, 0), SHMRING_EINVAL,
	             "recv while a peek is pending");
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EAGAIN,
	             "NULL buffer with cap 0 is a valid call");
}

Test(claim, validates_its_arguments, PAIR)
{
	void *w = NULL;

	cr_assert_eq(shmring_claim(NULL, 1, &w, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_claim(p.prod, 1, NULL, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_claim(p.prod, 1, &w, -2), SHMRING_EINVAL);
	cr_assert_eq(shmring_claim(p.cons, 1, &w, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_claim(p.prod, 65, &w, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(shmring_claim(p.prod, 8, &w, 0), SHMRING_OK);
	cr_assert_eq(shmring_claim(p.prod, 8, &w, 0), SHMRING_EINVAL,
	             "claim while a claim is pending");
}

Test(commit, validates_its_arguments, PAIR)
{
	void *w = NULL;

	cr_assert_eq(shmring_commit(NULL, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_commit(p.prod, 0), SHMRING_EINVAL, "no claim");
	cr_assert_eq(shmring_commit(p.cons, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_claim(p.prod, 8, &w, 0), SHMRING_OK);
	cr_assert_eq(shmring_commit(p.prod, 9), SHMRING_EINVAL,
	             "longer than claimed");
	cr_assert_eq(shmring_commit(p.prod, SIZE_MAX), SHMRING_EINVAL);
	cr_assert_eq(shmring_commit(p.cons, 8), SHMRING_EINVAL);
	cr_assert_eq(shmring_commit(p.prod, 8), SHMRING_OK,
	             "the claim survives rejected commits");
	cr_assert_eq(shmring_commit(p.prod, 8), SHMRING_EINVAL, "commit twice");
}

Test(peek, validates_its_arguments, PAIR)
{
	const void *d;
	size_t len;

	cr_assert_eq(shmring_peek(NULL, &d, &len, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_peek(p.cons, NULL, &len, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_peek(p.cons, &d, NULL, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, -2), SHMRING_EINVAL);
	cr_assert_eq(shmring_peek(p.prod, &d, &len, 0), SHMRING_EINVAL);
}

Test(release, validates_its_arguments, PAIR)
{
	cr_assert_eq(shmring_release(NULL), SHMRING_EINVAL);
	cr_assert_eq(shmring_release(p.cons), SHMRING_EINVAL, "no peek");
	cr_assert_eq(shmring_release(p.prod), SHMRING_EINVAL);
}

Test(utilities, accept_null_where_documented)
{
	shmring_stats st;

	cr_assert_eq(shmring_close(NULL), SHMRING_OK);
	cr_assert_eq(shmring_max_msg(NULL), 0);
	cr_assert_eq(shmring_set_spin(NULL, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_get_stats(NULL, &st), SHMRING_EINVAL);
}

Test(utilities, get_stats_rejects_null_out, PAIR)
{
	cr_assert_eq(shmring_get_stats(p.prod, NULL), SHMRING_EINVAL);
}
