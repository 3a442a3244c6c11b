/* SPDX-License-Identifier: MIT */
/*
 * cli.h -- what the verbs of the shmring command share: exit statuses,
 * error messages, the option parser, number parsing, name patterns and
 * the list of rings.
 */
#ifndef SHMRING_TOOLS_CLI_H
#define SHMRING_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <shmring.h>

/* Exit statuses, one per kind of failure (the table in docs/man/shmring.1). */
enum {
	CLI_OK = 0,
	CLI_EFAIL = 1,      /* any other failure (SHMRING_ESYS, ...) */
	CLI_EUSAGE = 2,     /* bad command line or geometry */
	CLI_ENOENT = 3,     /* no such ring */
	CLI_EBUSY = 4,      /* held by a live process */
	CLI_EBADFMT = 5,    /* the segment is corrupt */
	CLI_EACCES = 6,     /* permission denied */
	CLI_ENOMEM = 7,     /* out of memory or shared-memory space */
	CLI_EPEERDEAD = 8,  /* the peer process died */
	CLI_ECLOSED = 9,    /* the reader closed the ring */
	CLI_EFRAMING = 10,  /* input breaks the framing, or too large */
	CLI_EIO = 11,       /* reading stdin or writing stdout failed */
	CLI_ETIMEDOUT = 12, /* --timeout expired */
	CLI_EINTR = 130,    /* interrupted (Ctrl-C, SIGTERM): closed in order */
};

/* The exit status for a shmring error code. */
int cli_status(int code);

/* 1 if @name is a valid ring name (as the library checks it). */
int cli_name_ok(const char *name);

/* 0, or print "shmring: NAME: invalid ring name" and return CLI_EUSAGE. */
int cli_check_name(const char *name);

/* Print "shmring: <what>: <shmring_strerror(code)>" on stderr and return
 * cli_status(code). */
int cli_fail(const char *what, int code);

/* Print "shmring: <what>: <strerror(err)>" and return CLI_EIO. */
int cli_fail_errno(const char *what, int err);

/* Print "shmring: <what>: <printf text>" on stderr. */
void cli_err(const char *what, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Print "shmring: <opt>: <printf text>" for a bad option value; return
 * CLI_EUSAGE. */
int cli_bad(const char *opt, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Print a usage error for @verb and a hint; return CLI_EUSAGE. */
int cli_usage(const char *verb, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* ---- options ----------------------------------------------------------- */

enum cli_arg {
	CLI_NOARG,  /* --flag */
	CLI_ARG,    /* --opt VALUE or --opt=VALUE */
	CLI_OPTNUM, /* --opt, --opt=VALUE, or --opt VALUE if VALUE is a number
	             */
};

struct cli_opt {
	const char *name; /* without the leading "--" */
	enum cli_arg arg;
	int id;
};

/*
 * Parse @argv[1..@argc) (argv[0] is the verb) for @verb: options of @opts in
 * any order among the operands ("--" ends the options; -h is --help). For
 * each option @fn(@ctx, id, value or NULL) is called; it returns 0 or an exit
 * status. The operands are moved to the front of argv + 1 and counted in
 * *@nops. --help prints @help and returns -1.
 * Return: 0, -1 (help printed), or an exit status.
 */
int cli_parse(int argc, char **argv, const char *verb, const char *help,
              const struct cli_opt *opts,
              int (*fn)(void *ctx, int id, const char *val), void *ctx,
              int *nops);

/* A byte count: decimal digits with an optional K, M or G (binary: KiB, MiB,
 * GiB; an optional "i" and "B" are accepted). 0 or an exit status (a usage
 * error naming @opt). */
int cli_bytes(const char *opt, const char *s, uint64_t max, uint64_t *out);

/* A whole number, 0 .. @max. */
int cli_uint(const char *opt, const char *s, uint64_t max, uint64_t *out);

/* Seconds: a decimal number >= 0 (such as 0.5). */
int cli_seconds(const char *opt, const char *s, double *out);

/* 1 if @name matches the shell pattern @pat (only * and ? are special). */
int cli_match(const char *pat, const char *name);

/* ---- the rings on this host --------------------------------------------- */

struct cli_names {
	char **v;
	size_t n, cap;
};

/* Every ring name matching one of @pats (all if @npats is 0), sorted.
 * Return: SHMRING_OK or a shmring error code. */
int cli_list(struct cli_names *out, char **pats, int npats);
void cli_names_free(struct cli_names *n);

/* ---- shared display ------------------------------------------------------ */

/* "none", "attached", "closed", "dead", "corrupt" (or "?"). */
const char *cli_state_name(uint32_t state);

/* The standard streams that were closed when we started (sys_std_fds). */
extern int cli_closed_fds;

/* ---- the verbs ------------------------------------------------------------
 */

int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_read(int argc, char **argv);

#endif
