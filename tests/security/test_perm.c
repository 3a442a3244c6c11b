/* SPDX-License-Identifier: MIT */
/* Description: who may open a ring: the segment's mode is applied exactly,
 * and another uid cannot open, remove or reclaim a ring made with the
 * default mode (the tests that switch uid need root and skip otherwise). */
#include <criterion/criterion.h>
#include <grp.h>
#include <sys/wait.h>

#include "sec.h"

#define NOBODY 65534

static struct sec_ring ring;
static char path[128];

static void setup(void)
{
	cr_assert_eq(sec_ring_open(&ring, 64, 4), 0);
	sec_path(path, sizeof path, ring.name);
}

static void teardown(void)
{
	sec_ring_close(&ring);
}

/* Run @fn as uid/gid nobody in a child; its exit code. */
static int as_nobody(int (*fn)(const char *name), const char *name)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) != 0 ||
		    setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) != 0)
			_exit(100);
		_exit(fn(name));
	}
	cr_assert_gt(pid, 0);
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status), "child did not exit: status %d", status);
	return WEXITSTATUS(status);
}

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip("needs root to switch to uid %d", NOBODY);
}

/* Child bodies: 0 when the library answered as the test requires. */
static int open_both_roles_denied(const char *name)
{
	shmring *r = NULL;

	if (shmring_open(name, SHMRING_CONSUMER, &r) != SHMRING_EACCES)
		return 1;
	if (shmring_open(name, SHMRING_PRODUCER, &r) != SHMRING_EACCES)
		return 2;
	return r == NULL ? 0 : 3;
}

static int unlink_and_reclaim_denied(const char *name)
{
	shmring *r = NULL;

	if (shmring_unlink(name) != SHMRING_EACCES)
		return 1;
	return shmring_create(name, NULL, SHMRING_CONSUMER, &r) == SHMRING_OK
	               ? 2
	               : 0;
}

static int open_allowed(const char *name)
{
	shmring *r = NULL;
	int rc = shmring_open(name, SHMRING_CONSUMER, &r);

	if (rc != SHMRING_EBUSY) /* the consumer role is held by our parent */
		return 1;
	rc = shmring_open(name, SHMRING_PRODUCER, &r);
	return rc == SHMRING_EBUSY ? 0 : 2;
}

Test(perm, default_mode_is_0600_and_owned_by_the_creator, .init = setup,
     .fini = teardown, .timeout = 10)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	cr_assert_eq(st.st_uid, geteuid());
}

Test(perm, explicit_mode_is_applied_exactly_not_through_umask, .timeout = 10)
{
	shmring_config cfg = {.slot_size = 64, .slot_count = 4, .perm = 0640};
	char name[64], p[128];
	shmring *r = NULL;
	struct stat st;
	mode_t old = umask(077);

	sec_name(name, sizeof name);
	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &r), 0);
	umask(old);
	sec_path(p, sizeof p, name);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
	shmring_close(r);
	cr_assert_eq(shmring_unlink(name), SHMRING_OK);
}

Test(perm, another_uid_cannot_open_a_default_mode_ring, .init = setup,
     .fini = teardown, .timeout = 10)
{
	need_root();
	cr_assert_eq(as_nobody(open_both_roles_denied, ring.name), 0);
}

Test(perm, another_uid_cannot_unlink_or_reclaim_the_ring, .init = setup,
     .fini = teardown, .timeout = 10)
{
	char msg[8] = "intact";
	size_t len;

	need_root();
	cr_assert_eq(shmring_send(ring.prod, msg, sizeof msg, 0), SHMRING_OK);
	cr_assert_eq(as_nobody(unlink_and_reclaim_denied, ring.name), 0);
	cr_assert_eq(access(path, F_OK), 0, "the segment must still exist");
	cr_assert_eq(shmring_recv(ring.cons, msg, sizeof msg, &len, 0),
	             SHMRING_OK);
	cr_assert_str_eq(msg, "intact");
}

Test(perm, a_world_writable_ring_is_open_to_other_uids, .timeout = 10)
{
	shmring_config cfg = {.slot_size = 64, .slot_count = 4, .perm = 0666};
	shmring *p = NULL, *c = NULL;
	char name[64];

	need_root();
	sec_name(name, sizeof name);
	cr_assert_eq(shmring_create(name, &cfg, SHMRING_PRODUCER, &p), 0);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &c), 0);
	/* the roles are held by us (alive): the other uid gets as far as
	 * EBUSY, i.e. past the permission check */
	cr_assert_eq(as_nobody(open_allowed, name), 0);
	shmring_close(p);
	shmring_close(c);
	shmring_unlink(name);
}
