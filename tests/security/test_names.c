/* SPDX-License-Identifier: MIT */
/* Description: ring names cannot leave the shared-memory namespace: every
 * name outside 1..200 characters of [A-Za-z0-9._-] not starting with '.'
 * is SHMRING_EINVAL for create, open and unlink, and creates nothing. */
#include <criterion/criterion.h>
#include <dirent.h>

#include "sec.h"

static char long_name[202];

/* Names built from "secprobe<pid>" so nothing else can match them. */
static char probe[32];
static char bad[16][300];
static size_t nbad;

static void setup(void)
{
	const char *fmt[] = {"../%s", "../../tmp/%s", "a/%s",       "/%s",
	                     ".%s",   "%s/",          "%s x",       "%s\\y",
	                     "%s\n",  "%s:1",         "%s\xc3\xa9", "%s\x01",
	                     "%s%%s", "./%s",         "~%s"};

	snprintf(probe, sizeof probe, "secprobe%ld", (long)getpid());
	nbad = 0;
	for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++)
		snprintf(bad[nbad++], sizeof bad[0], fmt[i], probe);
	memset(long_name, 'n', 201);
	long_name[201] = '\0';
}

static int exists_in(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int found = 0;

	while (d && (e = readdir(d)))
		found |= strstr(e->d_name, probe) != NULL;
	if (d)
		closedir(d);
	return found;
}

static void assert_rejected(const char *name)
{
	shmring *r = (shmring *)&r; /* must stay untouched */
	shmring *before = r;

	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_EINVAL, "create accepted \"%s\"", name);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_EINVAL,
	             "open accepted \"%s\"", name);
	cr_assert_eq(shmring_unlink(name), SHMRING_EINVAL,
	             "unlink accepted \"%s\"", name);
	cr_assert_eq(r, before, "handle written for \"%s\"", name);
}

Test(names, special_and_empty_names_are_einval, .init = setup, .timeout = 10)
{
	const char *names[] = {"", ".", "..", "/", "//", "../", "./"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_rejected(names[i]);
	assert_rejected(NULL);
}

Test(names, names_with_separators_or_other_bytes_are_einval, .init = setup,
     .timeout = 10)
{
	for (size_t i = 0; i < nbad; i++)
		assert_rejected(bad[i]);
}

Test(names, rejected_names_create_nothing_anywhere, .init = setup,
     .timeout = 10)
{
	char cwd[4096];

	for (size_t i = 0; i < nbad; i++)
		assert_rejected(bad[i]);
	cr_assert_neq(getcwd(cwd, sizeof cwd), NULL);
	cr_assert(!exists_in("/dev/shm"));
	cr_assert(!exists_in("/dev"));
	cr_assert(!exists_in("/tmp"));
	cr_assert(!exists_in("/"));
	cr_assert(!exists_in(cwd));
}

Test(names, longest_name_works_and_one_more_is_einval, .init = setup,
     .timeout = 10)
{
	char path[300];
	shmring *r = NULL;

	assert_rejected(long_name); /* 201 characters */
	long_name[200] = '\0';
	cr_assert_eq(shmring_create(long_name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_OK);
	sec_path(path, sizeof path, long_name);
	cr_assert_eq(access(path, F_OK), 0, "segment is %s", path);
	shmring_close(r);
	cr_assert_eq(shmring_unlink(long_name), SHMRING_OK);
	cr_assert_eq(access(path, F_OK), -1);
}

Test(names, valid_punctuation_stays_inside_dev_shm, .init = setup,
     .timeout = 10)
{
	char name[64], path[128];
	shmring *r = NULL;

	snprintf(name, sizeof name, "a..b-%s_c.", probe);
	cr_assert_eq(shmring_create(name, NULL, SHMRING_PRODUCER, &r),
	             SHMRING_OK);
	sec_path(path, sizeof path, name);
	cr_assert_eq(access(path, F_OK), 0);
	shmring_close(r);
	cr_assert_eq(shmring_unlink(name), SHMRING_OK);
	cr_assert(!exists_in("/dev/shm"));
}
