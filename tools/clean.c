/* SPDX-License-Identifier: MIT */
/*
 * clean.c -- the verbs that remove: `rm` (named rings, refused while a
 * live process holds one unless --force) and `gc` (every ring that no
 * live process holds). The judgement is the library's own,
 * shmring_unlink_stale(): the one shmring_create() applies before it
 * reclaims a name.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"

enum { OPT_FORCE = 1, OPT_DRY_RUN, OPT_VERBOSE };

struct clean_opts {
	int force, dry_run, verbose;
};

static int clean_opt(void *ctx, int id, const char *val)
{
	struct clean_opts *o = ctx;

	(void)val;
	if (id == OPT_FORCE)
		o->force = 1;
	else if (id == OPT_DRY_RUN)
		o->dry_run = 1;
	else
		o->verbose = 1;
	return 0;
}

static const char rm_help[] =
        "Usage: shmring rm [--force] [--verbose] NAME...\n"
        "Remove each ring NAME. A ring that a live process holds (as "
        "producer\n"
        "or consumer, or is creating or opening right now) is refused, with "
        "exit\n"
        "status 4, unless --force. Processes attached to a removed ring keep\n"
        "using it; the name is free for a new ring at once.\n"
        "\n"
        "  --force     remove it even if a live process holds it\n"
        "  --verbose   print \"removed NAME\" for each\n"
        "  -h, --help  this text\n";

int cmd_rm(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	        {"force", CLI_NOARG, OPT_FORCE},
	        {"verbose", CLI_NOARG, OPT_VERBOSE},
	        {NULL, CLI_NOARG, 0}};
	struct clean_opts o = {0};
	int nops, rc, status = CLI_OK;

	rc = cli_parse(argc, argv, "rm", rm_help, opts, clean_opt, &o, &nops);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (nops == 0)
		return cli_usage("rm", "NAME missing");
	for (int i = 1; i <= nops; i++) {
		const char *name = argv[i];

		rc = cli_check_name(name);
		if (rc) {
			if (status == CLI_OK)
				status = rc;
			continue;
		}
		rc = o.force ? shmring_unlink(name)
		             : shmring_unlink_stale(name);
		if (rc == SHMRING_OK) {
			if (o.verbose)
				printf("removed %s\n", name);
			continue;
		}
		rc = cli_fail(name, rc);
		if (status == CLI_OK)
			status = rc;
	}
	return status;
}

static const char gc_help[] =
        "Usage: shmring gc [--dry-run] [--verbose] [PATTERN]...\n"
        "Remove every ring (whose name matches a PATTERN, with * and ?) that "
        "no\n"
        "live process holds: its producer and consumer closed, died or never\n"
        "came, or it is not a valid ring at all, or its creator died before\n"
        "finishing it. Prints \"removed NAME (why)\" for each. This is the "
        "judgement\n"
        "shmring_create() makes before it reuses a name.\n"
        "\n"
        "  --dry-run   print \"would remove NAME (why)\" and remove nothing\n"
        "  --verbose   also print \"kept NAME (why)\" for the rings kept\n"
        "  -h, --help  this text\n";

/* Why ring @name looks stale, or NULL if a live process holds it. A
 * guess for the display: the decision is shmring_unlink_stale()'s. */
static const char *gc_reason(const char *name, char *buf, size_t cap)
{
	shmring_info in;
	int rc = shmring_inspect(name, &in);
	const shmring_role_info *p = &in.producer, *c = &in.consumer;

	if (rc == SHMRING_EBADFMT)
		return "corrupt";
	if (rc == SHMRING_ENOENT)
		return "uninitialised";
	if (rc != SHMRING_OK)
		return NULL;
	if (p->state == SHMRING_ROLE_ATTACHED ||
	    c->state == SHMRING_ROLE_ATTACHED)
		return NULL;
	snprintf(buf, cap, "producer %s, consumer %s", cli_state_name(p->state),
	         cli_state_name(c->state));
	return buf;
}

int cmd_gc(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
	        {"dry-run", CLI_NOARG, OPT_DRY_RUN},
	        {"verbose", CLI_NOARG, OPT_VERBOSE},
	        {NULL, CLI_NOARG, 0}};
	struct clean_opts o = {0};
	struct cli_names names = {NULL, 0, 0};
	int nops, rc, status = CLI_OK;

	rc = cli_parse(argc, argv, "gc", gc_help, opts, clean_opt, &o, &nops);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	rc = cli_list(&names, argv + 1, nops);
	if (rc != SHMRING_OK)
		return cli_fail("gc", rc);
	for (size_t i = 0; i < names.n; i++) {
		const char *name = names.v[i];
		char buf[96];
		const char *why = gc_reason(name, buf, sizeof buf);

		if (o.dry_run) {
			if (why)
				printf("would remove %s (%s)\n", name, why);
			else if (o.verbose)
				printf("kept %s (held by a live process)\n",
				       name);
			continue;
		}
		rc = shmring_unlink_stale(name);
		if (rc == SHMRING_OK) {
			printf("removed %s (%s)\n", name, why ? why : "stale");
		} else if (rc == SHMRING_EBUSY) {
			if (o.verbose)
				printf("kept %s (held by a live process)\n",
				       name);
		} else if (rc != SHMRING_ENOENT) { /* ENOENT: gone meanwhile */
			rc = cli_fail(name, rc);
			if (status == CLI_OK)
				status = rc;
		}
	}
	fflush(stdout);
	cli_names_free(&names);
	return status;
}
