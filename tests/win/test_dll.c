/* SPDX-License-Identifier: MIT */
/*
 * test_dll.c -- the public API as an application sees it: through
 * libshmring-0.dll and its import library (SHMRING_API = dllimport), or the
 * static library when built with default_library=static (SHMRING_STATIC).
 * Uses only include/shmring.h.
 */
#include <string.h>

#include <shmring.h>

#include "tap.h"

static void unique(char *name, size_t cap)
{
	static unsigned n;

	snprintf(name, cap, "w.dll.%lu.%u",
	         (unsigned long)GetCurrentProcessId(), ++n);
}

static int round_trip_through_the_library(void)
{
	char name[64], buf[16];
	shmring *p = NULL, *c = NULL;
	shmring_config cfg = {.slot_size = 16, .slot_count = 8};
	size_t len = 0;

	unique(name, sizeof name);
	CHECK_RC(shmring_create(name, &cfg, SHMRING_PRODUCER, &p), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
	CHECK_EQ(shmring_max_msg(p), 32 * 8 / 2 - 8); /* stride 32: 120 */
	CHECK_RC(shmring_send(p, "dll", 3, SHMRING_NOWAIT), SHMRING_OK);
	CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, SHMRING_NOWAIT),
	         SHMRING_OK);
	CHECK(len == 3 && memcmp(buf, "dll", 3) == 0);
	CHECK_RC(shmring_close(p), SHMRING_OK);
	CHECK_RC(shmring_recv(c, buf, sizeof buf, &len, 50), SHMRING_ECLOSED);
	CHECK_RC(shmring_close(c), SHMRING_OK);
	CHECK_RC(shmring_unlink(name), SHMRING_ENOENT); /* gone with handles */
	return 0;
}

static int every_export_is_callable(void)
{
	char name[64];
	shmring *p = NULL, *c = NULL;
	shmring_stats st;
	void *w;
	const void *r;
	size_t len, n = 0;
	char b[2][8];
	shmring_msg mv[2] = {{"v1", 2}, {"v22", 3}};
	shmring_buf bv[2] = {{b[0], 8}, {b[1], 8}};

	unique(name, sizeof name);
	CHECK_RC(shmring_create(name, NULL, SHMRING_CONSUMER, &c), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &p), SHMRING_OK);
	CHECK_RC(shmring_set_spin(p, 0), SHMRING_OK);
	CHECK_RC(shmring_claim(p, 4, &w, 0), SHMRING_OK);
	memcpy(w, "zc", 2);
	CHECK_RC(shmring_commit(p, 2), SHMRING_OK);
	CHECK_RC(shmring_peek(c, &r, &len, 0), SHMRING_OK);
	CHECK(len == 2 && memcmp(r, "zc", 2) == 0);
	CHECK_RC(shmring_release(c), SHMRING_OK);
	CHECK_RC(shmring_sendv(p, mv, 2, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 2);
	CHECK_RC(shmring_recvv(c, bv, 2, &n, 0), SHMRING_OK);
	CHECK(n == 2 && bv[1].len == 3 && memcmp(b[1], "v22", 3) == 0);
	/* the format-2 batch calls: a record of many slots, claimed and
	 * peeked in place */
	bv[0] = (shmring_buf){NULL, 3000};
	bv[1] = (shmring_buf){NULL, 2};
	CHECK_RC(shmring_claimv(p, bv, 2, &n, 0), SHMRING_OK);
	CHECK_EQ(n, 2);
	memset(bv[0].data, 'L', 2500);
	memcpy(bv[1].data, "s", 1);
	CHECK_RC(shmring_commitv(p, (size_t[]){2500, 1}, 2), SHMRING_OK);
	CHECK_RC(shmring_peekv(c, mv, 2, &n, 0), SHMRING_OK);
	CHECK(n == 2 && mv[0].len == 2500 && mv[1].len == 1);
	CHECK(((const char *)mv[0].data)[2499] == 'L');
	CHECK_RC(shmring_releasev(c, 2), SHMRING_OK);
	CHECK_RC(shmring_get_stats(c, &st), SHMRING_OK);
	CHECK_EQ(st.messages, 5);
	CHECK_EQ(shmring_max_msg(c), 524280);
	CHECK(strcmp(shmring_strerror(SHMRING_OK), "success") == 0);
	CHECK_RC(shmring_unlink(name), SHMRING_OK);
	shmring_close(p);
	shmring_close(c);
	return 0;
}

static const struct tap_test tests[] = {
        TAP(round_trip_through_the_library),
        TAP(every_export_is_callable),
};

int main(int argc, char **argv)
{
	return TAP_MAIN(argc, argv, tests);
}
