/* SPDX-License-Identifier: MIT */
/*
 * shmring.c -- the shmring command: see, feed, drain and clean up rings
 * from a shell. main() picks the verb; this file also holds what every
 * verb shares (cli.h). The manual is docs/man/shmring.1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sys.h"

int cli_closed_fds;

static const char main_help[] =
        "Usage: shmring VERB [OPTION]... [ARG]...\n"
        "See, feed, drain and clean up shmring rings on this host.\n"
        "\n"
        "Verbs:\n"
        "  ls [PATTERN]...      list the rings: geometry, holders, fill\n"
        "  stat NAME            everything about one ring; --watch for "
        "live rates\n"
        "  rm NAME...           remove rings no live process holds "
        "(--force: any)\n"
        "  gc [PATTERN]...      remove every ring no live process holds\n"
        "  write NAME           stdin -> ring (creates the ring if "
        "missing)\n"
        "  read NAME            ring -> stdout (creates the ring if "
        "missing)\n"
        "\n"
        "'shmring VERB --help' describes a verb; 'man shmring' all of "
        "them,\n"
        "with the exit statuses.\n";

int cli_status(int code)
{
	switch (code) {
	case SHMRING_OK:
		return CLI_OK;
	case SHMRING_ENOENT:
		return CLI_ENOENT;
	case SHMRING_EBUSY:
	case SHMRING_EEXIST:
		return CLI_EBUSY;
	case SHMRING_EBADFMT:
		return CLI_EBADFMT;
	case SHMRING_EACCES:
		return CLI_EACCES;
	case SHMRING_ENOMEM:
		return CLI_ENOMEM;
	case SHMRING_EPEERDEAD:
		return CLI_EPEERDEAD;
	case SHMRING_ECLOSED:
		return CLI_ECLOSED;
	case SHMRING_EMSGSIZE:
		return CLI_EFRAMING;
	case SHMRING_ETIMEDOUT:
	case SHMRING_EAGAIN:
		return CLI_ETIMEDOUT;
	case SHMRING_EINTR:
		return CLI_EINTR;
	default:
		return CLI_EFAIL;
	}
}

void cli_err(const char *what, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "shmring: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SHMRING_MAX_NAME || name[0] == '.')
		return 0;
	return strspn(name,
	              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	              "0123456789._-") == n;
}

int cli_check_name(const char *name)
{
	if (cli_name_ok(name))
		return 0;
	cli_err(name,
	        "invalid ring name (1 to %d of A-Z a-z 0-9 . _ -, not "
	        "starting with .)",
	        SHMRING_MAX_NAME);
	return CLI_EUSAGE;
}

int cli_fail(const char *what, int code)
{
	cli_err(what, "%s", shmring_strerror(code));
	return cli_status(code);
}

int cli_fail_errno(const char *what, int err)
{
	cli_err(what, "%s", strerror(err));
	return CLI_EIO;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "shmring: %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'shmring %s --help'.\n", verb);
	return CLI_EUSAGE;
}

/* ---- options ------------------------------------------------------------- */

int cli_bad(const char *opt, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "shmring: %s: ", opt);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EUSAGE;
}

static int cli_is_number(const char *s)
{
	int digits = 0, dot = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (*s == '.' && !dot)
			dot = 1;
		else
			return 0;
	}
	return digits > 0;
}

static const struct cli_opt *cli_find(const struct cli_opt *opts,
                                      const char *name, size_t len)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == len &&
		    strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

int cli_parse(int argc, char **argv, const char *verb, const char *help,
              const struct cli_opt *opts,
              int (*fn)(void *ctx, int id, const char *val), void *ctx,
              int *nops)
{
	int n = 0, only_operands = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const struct cli_opt *o;
		size_t len;
		int rc;

		if (only_operands || a[0] != '-' || a[1] == 0) {
			argv[1 + n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_operands = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(help, stdout);
			return -1;
		}
		if (a[1] != '-')
			return cli_usage(verb, "unknown option '%s'", a);
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		o = cli_find(opts, a, len);
		if (!o)
			return cli_usage(verb, "unknown option '--%.*s'",
			                 (int)len, a);
		if (eq) {
			if (o->arg == CLI_NOARG)
				return cli_usage(verb,
				                 "option '--%s' takes no value",
				                 o->name);
			val = eq + 1;
		} else if (o->arg == CLI_ARG) {
			if (i + 1 >= argc)
				return cli_usage(verb,
				                 "option '--%s' needs a value",
				                 o->name);
			val = argv[++i];
		} else if (o->arg == CLI_OPTNUM && i + 1 < argc &&
		           cli_is_number(argv[i + 1])) {
			val = argv[++i];
		}
		rc = fn(ctx, o->id, val);
		if (rc != 0)
			return rc;
	}
	*nops = n;
	return 0;
}

int cli_uint(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return cli_bad(opt, "a number is needed");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return cli_bad(opt, "'%s' is not a whole number", s);
		if (v > (UINT64_MAX - 9) / 10)
			return cli_bad(opt, "'%s' is too large", s);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return cli_bad(opt, "'%s' is above the limit %" PRIu64, s, max);
	*out = v;
	return 0;
}

int cli_bytes(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char digits[32];
	size_t n = strspn(s, "0123456789");
	const char *unit = s + n;
	unsigned shift = 0;
	uint64_t v;
	int rc;

	if (n == 0 || n >= sizeof digits)
		return cli_bad(opt, "'%s' is not a byte count", s);
	memcpy(digits, s, n);
	digits[n] = 0;
	switch (*unit) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		break;
	}
	if (shift) {
		unit++;
		if (*unit == 'i')
			unit++;
	}
	if (*unit == 'B')
		unit++;
	if (*unit)
		return cli_bad(opt, "'%s' is not a byte count", s);
	rc = cli_uint(opt, digits, UINT64_MAX >> shift, &v);
	if (rc)
		return rc;
	v <<= shift;
	if (v > max)
		return cli_bad(opt, "'%s' is above the limit %" PRIu64, s, max);
	*out = v;
	return 0;
}

int cli_seconds(const char *opt, const char *s, double *out)
{
	char *end;
	double v;

	if (!cli_is_number(s))
		return cli_bad(opt, "'%s' is not a number of seconds", s);
	v = strtod(s, &end);
	if (*end || v < 0 || v > 1e6)
		return cli_bad(opt, "'%s' is not a number of seconds", s);
	*out = v;
	return 0;
}

int cli_match(const char *pat, const char *name)
{
	const char *star = NULL, *resume = NULL;

	while (*name) {
		if (*pat == '*') {
			star = pat++;
			resume = name;
		} else if (*pat == '?' || *pat == *name) {
			pat++;
			name++;
		} else if (star) {
			pat = star + 1;
			name = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == 0;
}

/* ---- the rings on this host ---------------------------------------------- */

struct cli_list_ctx {
	struct cli_names *out;
	char **pats;
	int npats;
	int rc;
};

static int cli_list_one(const char *name, void *arg)
{
	struct cli_list_ctx *c = arg;
	struct cli_names *o = c->out;
	int keep = c->npats == 0;
	size_t len;

	for (int i = 0; i < c->npats && !keep; i++)
		keep = cli_match(c->pats[i], name);
	if (!keep)
		return 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 16;
		char **v = realloc(o->v, cap * sizeof *v);
		if (!v) {
			c->rc = SHMRING_ENOMEM;
			return 1;
		}
		o->v = v;
		o->cap = cap;
	}
	len = strlen(name) + 1;
	o->v[o->n] = malloc(len);
	if (!o->v[o->n]) {
		c->rc = SHMRING_ENOMEM;
		return 1;
	}
	memcpy(o->v[o->n++], name, len);
	return 0;
}

static int cli_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_list(struct cli_names *out, char **pats, int npats)
{
	struct cli_list_ctx c = {out, pats, npats, SHMRING_OK};
	int rc;

	memset(out, 0, sizeof *out);
	rc = shmring_list(cli_list_one, &c);
	if (rc == SHMRING_OK)
		rc = c.rc;
	if (rc != SHMRING_OK) {
		cli_names_free(out);
		return rc;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cli_cmp);
	return SHMRING_OK;
}

void cli_names_free(struct cli_names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	memset(n, 0, sizeof *n);
}

const char *cli_state_name(uint32_t state)
{
	switch (state) {
	case SHMRING_ROLE_NONE:
		return "none";
	case SHMRING_ROLE_ATTACHED:
		return "attached";
	case SHMRING_ROLE_CLOSED:
		return "closed";
	case SHMRING_ROLE_DEAD:
		return "dead";
	case SHMRING_ROLE_CORRUPT:
		return "corrupt";
	default:
		return "?";
	}
}

/* ---- main ---------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} verbs[] = {
        {"ls", cmd_ls}, {"stat", cmd_stat},   {"rm", cmd_rm},
        {"gc", cmd_gc}, {"write", cmd_write}, {"read", cmd_read},
};

int main(int argc, char **argv)
{
	const char *v = argc > 1 ? argv[1] : NULL;

	cli_closed_fds = sys_std_fds();
	if (!v) {
		fputs(main_help, stderr);
		return CLI_EUSAGE;
	}
	if (strcmp(v, "-h") == 0 || strcmp(v, "--help") == 0 ||
	    strcmp(v, "help") == 0) {
		if (strcmp(v, "help") == 0 && argc > 2) {
			static char help_opt[] = "--help";
			char *h[] = {argv[2], help_opt, NULL};
			for (size_t i = 0; i < sizeof verbs / sizeof verbs[0];
			     i++)
				if (strcmp(argv[2], verbs[i].name) == 0)
					return verbs[i].fn(2, h);
			return cli_usage("help", "no verb '%s'", argv[2]);
		}
		fputs(main_help, stdout);
		return CLI_OK;
	}
	if (strcmp(v, "--version") == 0) {
		printf("shmring %d.%d.%d\n", SHMRING_VERSION_MAJOR,
		       SHMRING_VERSION_MINOR, SHMRING_VERSION_PATCH);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(v, verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "shmring: %s: no such verb\n%s", v, main_help);
	return CLI_EUSAGE;
}
