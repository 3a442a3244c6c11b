/* SPDX-License-Identifier: MIT */
/*
 * io.c -- the verbs that move data: `write` (stdin -> ring, as the
 * producer) and `read` (ring -> stdout, as the consumer).
 *
 * Framings (how the bytes of stdin and stdout map to messages):
 *   records (default)  each message is a 4-byte little-endian length, then
 *                      that many bytes: any messages, binary or empty,
 *                      round-trip exactly through read | write
 *   --lines            one message per line, without its newline; read
 *                      ends each message with one
 *   --size N           write cuts stdin into N-byte messages (the last may
 *                      be shorter); read writes the messages back to back
 *   --raw              write sends what each read of stdin returns (up to
 *                      --chunk bytes); read writes the messages back to
 *                      back: a byte stream, as through a pipe
 *
 * The data path copies once per side: large messages are read from stdin
 * straight into the ring (shmring_claim) and written to stdout straight
 * from it (shmring_peekv); small ones go through a private buffer and are
 * sent and released in batches (shmring_sendv, shmring_releasev). A
 * message is released only once it has been written to stdout, so what a
 * reader could not write stays in the ring for the next one.
 *
 * Waits are bounded (IO_SLICE_MS at a time) so that Ctrl-C, SIGTERM and a
 * --timeout are noticed even when the signal lands while the library
 * spins rather than sleeps (docs/api.md, Timeouts).
 *
 * Return values inside: 0, a negative shmring code (not yet reported), or
 * a positive exit status (already reported, or IO_INTR).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sys.h"

#define IO_SLICE_MS 1000         /* longest single wait in the library */
#define IO_BUF      (256u << 10) /* private input and output buffers */
#define IO_DIRECT   (16u << 10)  /* messages this large skip the buffers */
#define IO_CHUNK    (128u << 10) /* --raw: default largest message */
#define IO_BATCH    256u         /* messages per sendv / peekv */
#define IO_PIPE     (1u << 20)   /* the pipe buffer we ask for on stdin/out */
#define IO_INTR     CLI_EINTR    /* a signal asked us to stop */
#define IO_RD_ERR   (-1)         /* io_read: errno is set */
#define IO_RD_INTR  (-2)

enum framing { FR_RECORDS, FR_LINES, FR_SIZE, FR_RAW };

struct io_opts {
	enum framing framing;
	int framings;   /* how many framing options were given */
	uint64_t size;  /* --size */
	uint64_t chunk; /* --chunk */
	shmring_config cfg;
	int no_create;
	int progress;
	double timeout; /* seconds; < 0: forever */
	uint64_t count; /* read: stop after this many; 0: no limit */
};

struct io {
	const char *name;
	shmring *r;
	struct io_opts o;
	size_t max_msg;
	uint64_t msgs, bytes;
	uint64_t t0, t_shown;
	int show; /* --progress and stderr is a terminal */
	int err;  /* errno of the last failed stdin or stdout call */
};

/* ---- options ------------------------------------------------------------- */

enum {
	OPT_LINES = 1,
	OPT_SIZE,
	OPT_RAW,
	OPT_RECORDS,
	OPT_CHUNK,
	OPT_SLOT_SIZE,
	OPT_SLOTS,
	OPT_MAX_MSG,
	OPT_PERM,
	OPT_MPSC,
	OPT_NO_CREATE,
	OPT_PROGRESS,
	OPT_TIMEOUT,
	OPT_COUNT,
};

static int io_opt(void *ctx, int id, const char *val)
{
	struct io_opts *o = ctx;
	uint64_t v = 0;
	int rc = 0;

	switch (id) {
	case OPT_LINES:
		o->framing = FR_LINES;
		o->framings++;
		break;
	case OPT_RAW:
		o->framing = FR_RAW;
		o->framings++;
		break;
	case OPT_RECORDS:
		o->framing = FR_RECORDS;
		o->framings++;
		break;
	case OPT_SIZE:
		o->framing = FR_SIZE;
		o->framings++;
		rc = cli_bytes("--size", val, SHMRING_MAX_MSG_LIMIT, &o->size);
		if (rc == 0 && o->size == 0)
			rc = cli_bad("--size", "must be at least 1");
		break;
	case OPT_CHUNK:
		rc = cli_bytes("--chunk", val, SHMRING_MAX_MSG_LIMIT,
		               &o->chunk);
		if (rc == 0 && o->chunk == 0)
			rc = cli_bad("--chunk", "must be at least 1");
		break;
	case OPT_SLOT_SIZE:
		rc = cli_bytes("--slot-size", val,
		               (uint64_t)SHMRING_MAX_SLOT_SIZE, &v);
		o->cfg.slot_size = (uint32_t)v;
		break;
	case OPT_SLOTS:
		rc = cli_bytes("--slots", val, SHMRING_MAX_SLOT_COUNT, &v);
		o->cfg.slot_count = (uint32_t)v;
		break;
	case OPT_MAX_MSG:
		rc = cli_bytes("--max-msg", val, SHMRING_MAX_MSG_LIMIT, &v);
		o->cfg.max_msg = (uint32_t)v;
		break;
	case OPT_PERM:
		v = 0;
		for (const char *p = val; *p && v <= 0777; p++)
			v = *p >= '0' && *p <= '7'
			            ? v * 8 + (uint64_t)(*p - '0')
			            : 01000;
		if (!*val || v > 0777)
			rc = cli_bad("--perm",
			             "'%s' is not an octal mode up to 0777",
			             val);
		o->cfg.perm = (uint32_t)v;
		break;
	case OPT_MPSC:
		o->cfg.flags |= SHMRING_F_MPSC;
		break;
	case OPT_NO_CREATE:
		o->no_create = 1;
		break;
	case OPT_PROGRESS:
		o->progress = 1;
		break;
	case OPT_TIMEOUT:
		rc = cli_seconds("--timeout", val, &o->timeout);
		break;
	case OPT_COUNT:
		rc = cli_uint("--count", val, UINT64_MAX, &o->count);
		break;
	default:
		rc = CLI_EUSAGE;
	}
	return rc;
}

#define IO_COMMON_OPTS                                                         \
	{"lines", CLI_NOARG, OPT_LINES}, {"size", CLI_ARG, OPT_SIZE},          \
	        {"raw", CLI_NOARG, OPT_RAW},                                   \
	        {"records", CLI_NOARG, OPT_RECORDS},                           \
	        {"slot-size", CLI_ARG, OPT_SLOT_SIZE},                         \
	        {"slots", CLI_ARG, OPT_SLOTS},                                 \
	        {"max-msg", CLI_ARG, OPT_MAX_MSG},                             \
	        {"perm", CLI_ARG, OPT_PERM}, {"mpsc", CLI_NOARG, OPT_MPSC},    \
	        {"no-create", CLI_NOARG, OPT_NO_CREATE},                       \
	        {"progress", CLI_NOARG, OPT_PROGRESS},                         \
	{                                                                      \
		"timeout", CLI_ARG, OPT_TIMEOUT                                \
	}

#define IO_COMMON_HELP                                                         \
	"Framing (one of):\n"                                                  \
	"  --records        the default: a 4-byte little-endian length, "      \
	"then\n"                                                               \
	"                   the message; binary and empty messages "           \
	"round-trip\n"                                                         \
	"  --lines          one message per line (newline not included)\n"     \
	"  --size N         N-byte blocks (K, M, G suffixes: binary units)\n"  \
	"  --raw            a byte stream: messages as the reads of stdin\n"   \
	"                   return them; read writes them back to back\n"      \
	"\n"                                                                   \
	"Creating the ring when it is missing (ignored if it exists):\n"       \
	"  --slot-size N    payload bytes of a one-slot message (default "     \
	"56)\n"                                                                \
	"  --slots N        number of slots, a power of two (default 16384)\n" \
	"  --max-msg N      largest message (default: half the ring - 8)\n"    \
	"  --perm MODE      octal permission bits (default 0600)\n"            \
	"  --mpsc           many writers (up to 32) into one reader\n"         \
	"  --no-create      fail with status 3 if the ring does not exist\n"   \
	"\n"                                                                   \
	"  --progress       bytes and rate on stderr, if it is a terminal\n"   \
	"  --timeout SECS   give up (status 12) after waiting SECS\n"

/* ---- waiting ------------------------------------------------------------- */

struct io_wait {
	uint64_t end;
	int started;
};

/* The timeout in ms for the next library call of a wait: IO_SLICE_MS, or
 * what is left of --timeout; -1 if a signal asked us to stop, -2 if
 * --timeout has expired. */
static int io_slice(const struct io *io, struct io_wait *w)
{
	uint64_t now, left;

	if (sys_interrupted())
		return -1;
	if (io->o.timeout < 0)
		return IO_SLICE_MS;
	now = sys_mono_ns();
	if (!w->started) {
		w->started = 1;
		w->end = now + (uint64_t)(io->o.timeout * 1e9);
		return 0; /* first try without waiting */
	}
	if (now >= w->end)
		return -2;
	left = (w->end - now + 999999) / 1000000;
	return left < IO_SLICE_MS ? (int)left : IO_SLICE_MS;
}

/* 1 if @rc from a library call means "try again" in a wait. */
static int io_again(int rc)
{
	return rc == SHMRING_EAGAIN || rc == SHMRING_ETIMEDOUT ||
	       rc == SHMRING_EINTR;
}

static int io_claim(struct io *io, size_t len, void **p)
{
	struct io_wait w = {0, 0};
	int ms, rc;

	do {
		ms = io_slice(io, &w);
		if (ms < 0)
			return ms == -1 ? IO_INTR : SHMRING_ETIMEDOUT;
		rc = shmring_claim(io->r, len, p, ms);
	} while (io_again(rc));
	return rc;
}

static int io_peekv(struct io *io, shmring_msg *m, size_t n, size_t *got)
{
	struct io_wait w = {0, 0};
	int ms, rc;

	do {
		ms = io_slice(io, &w);
		if (ms < 0)
			return ms == -1 ? IO_INTR : SHMRING_ETIMEDOUT;
		rc = shmring_peekv(io->r, m, n, got, ms);
	} while (io_again(rc));
	return rc;
}

/* Send all @n messages; --timeout counts from the last progress. */
static int io_sendv(struct io *io, const shmring_msg *m, size_t n)
{
	struct io_wait w = {0, 0};

	while (n) {
		size_t sent = 0;
		int ms = io_slice(io, &w), rc;

		if (ms < 0)
			return ms == -1 ? IO_INTR : SHMRING_ETIMEDOUT;
		rc = shmring_sendv(io->r, m, n, &sent, ms);
		if (sent > n)
			sent = n; /* never, by the contract */
		for (size_t i = 0; i < sent; i++)
			io->bytes += m[i].len;
		io->msgs += sent;
		m += sent;
		n -= sent;
		if (!io_again(rc))
			return rc;
		if (sent)
			w.started = 0;
	}
	return SHMRING_OK;
}

/* ---- stdin and stdout ---------------------------------------------------- */

/* One read of up to @n bytes: bytes read, 0 at end of file, IO_RD_INTR,
 * or IO_RD_ERR (errno in io->err). */
static long io_read(struct io *io, void *buf, size_t n)
{
	for (;;) {
		long got = sys_read(0, buf, n);
		if (got >= 0)
			return got;
		if (errno != EINTR) {
			io->err = errno;
			return IO_RD_ERR;
		}
		if (sys_interrupted())
			return IO_RD_INTR;
	}
}

/* Read @n bytes unless the input ends first: as io_read(), but a short
 * count only at end of file. */
static long io_read_full(struct io *io, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		long got = io_read(io, (char *)buf + done, n - done);
		if (got < 0)
			return got;
		if (got == 0)
			break;
		done += (size_t)got;
	}
	return (long)done;
}

/* Write all @n bytes to stdout: 0, IO_INTR, or -1 (errno in io->err). */
static int io_write(struct io *io, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		long put = sys_write(1, p, n);
		if (put > 0) {
			p += put;
			n -= (size_t)put;
			continue;
		}
		if (put < 0 && errno == EINTR) {
			if (sys_interrupted())
				return IO_INTR;
			continue;
		}
		io->err = put < 0 ? errno : EIO;
		return -1;
	}
	return 0;
}

/* ---- progress ------------------------------------------------------------ */

static void io_progress(struct io *io, int last)
{
	uint64_t now;
	double s;
	char line[160];
	int n;

	if (!io->show)
		return;
	now = sys_mono_ns();
	if (!last && now - io->t_shown < 250000000u)
		return;
	io->t_shown = now;
	s = (double)(now - io->t0) / 1e9;
	n = snprintf(line, sizeof line,
	             "%s: %.1f MiB, %.1f MiB/s, %" PRIu64 " messages", io->name,
	             (double)io->bytes / 1048576.0,
	             s > 0 ? (double)io->bytes / 1048576.0 / s : 0.0, io->msgs);
	fprintf(stderr, "\r%s%*s%s", line, n < 72 ? 72 - n : 0, "",
	        last ? "\n" : "");
	fflush(stderr);
}

/* ---- attaching ----------------------------------------------------------- */

/* Open ring @name as @role, creating it if it is missing (unless
 * --no-create). A ring that exists is never re-created: a create would
 * reclaim it, and the messages a closed producer left in it with it. */
static int io_attach(struct io *io, enum shmring_role role)
{
	int rc = SHMRING_ENOENT;

	/* 300 x 10 ms: longer than a creator that died before publishing
	 * keeps its name (it is "being created" for 2 s). */
	for (int i = 0; i < 300; i++) {
		rc = shmring_open(io->name, role, &io->r);
		if (rc != SHMRING_ENOENT || io->o.no_create)
			break;
		rc = shmring_create(io->name, &io->o.cfg, role, &io->r);
		if (rc == SHMRING_EINVAL) {
			cli_err(io->name,
			        "%s: no ring of that geometry "
			        "(--slot-size, --slots, --max-msg)",
			        shmring_strerror(rc));
			return CLI_EUSAGE;
		}
		if (rc != SHMRING_EEXIST)
			break;
		/* Someone else is creating it right now: open theirs. */
		sys_sleep_ms(10);
	}
	if (rc != SHMRING_OK)
		return rc;
	io->max_msg = shmring_max_msg(io->r);
	io->t0 = io->t_shown = sys_mono_ns();
	io->show = io->o.progress && sys_isatty(2);
	return SHMRING_OK;
}

/* How a verb ends: close the handle, report @rc, return the exit status. */
static int io_finish(struct io *io, int rc)
{
	int status;

	io_progress(io, 1);
	shmring_close(io->r); /* a producer's close: end of stream */
	io->r = NULL;
	if (rc == SHMRING_OK)
		return CLI_OK;
	status = rc > 0 ? rc : cli_fail(io->name, rc);
	return status;
}

/* A positive exit status from a stdin or stdout failure, printed. */
static int io_fail_stream(struct io *io, const char *what, long rc)
{
	if (rc == IO_RD_INTR || rc == IO_INTR)
		return IO_INTR;
	return cli_fail_errno(what, io->err);
}

/* ---- write --------------------------------------------------------------- */

static const char write_help[] =
        "Usage: shmring write [OPTION]... NAME\n"
        "Send stdin to ring NAME as its producer, creating the ring if it "
        "is\n"
        "missing. At the end of stdin, Ctrl-C or SIGTERM the producer "
        "closes:\n"
        "the reader drains the ring and ends with status 0. A --mpsc ring "
        "takes\n"
        "up to 32 writers at once; its reader ends when every writer that "
        "came\n"
        "has closed.\n"
        "\n" IO_COMMON_HELP
        "  --chunk N        --raw: largest message (default 128K, at most "
        "max_msg)\n"
        "  -h, --help       this text\n";

/* Stream stdin into claimed room in the ring: --raw (one read per
 * message) and large --size blocks (one full block per message). */
static int write_direct(struct io *io, size_t len, int full)
{
	for (;;) {
		void *p;
		long got;
		int rc = io_claim(io, len, &p);

		if (rc != SHMRING_OK)
			return rc;
		got = full ? io_read_full(io, p, len) : io_read(io, p, len);
		if (got <= 0) {
			/* end of input: give the room back */
			shmring_commitv(io->r, NULL, 0);
			return got == 0 ? SHMRING_OK
			                : io_fail_stream(io, "stdin", got);
		}
		shmring_commit(io->r, (size_t)got);
		io->msgs++;
		io->bytes += (uint64_t)got;
		io_progress(io, 0);
		if (full && (size_t)got < len)
			return SHMRING_OK; /* the short last block */
	}
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* A record too large for the buffer: claim it and read the rest of it
 * into the ring. @have bytes of its payload are at @p. */
static int write_big_record(struct io *io, size_t len, const void *p,
                            size_t have)
{
	void *w;
	long got;
	int rc = io_claim(io, len, &w);

	if (rc != SHMRING_OK)
		return rc;
	memcpy(w, p, have);
	got = io_read_full(io, (char *)w + have, len - have);
	if (got < 0 || (size_t)got < len - have) {
		shmring_commitv(io->r, NULL, 0);
		if (got >= 0) {
			cli_err("stdin",
			        "truncated record (%" PRIu64 " of %" PRIu64
			        " bytes)",
			        (uint64_t)(have + (size_t)got), (uint64_t)len);
			return CLI_EFRAMING;
		}
		return io_fail_stream(io, "stdin", got);
	}
	shmring_commit(io->r, len);
	io->msgs++;
	io->bytes += len;
	return SHMRING_OK;
}

static int write_too_large(struct io *io, const char *what, size_t len)
{
	cli_err(io->name,
	        "%s of %" PRIu64
	        " bytes is larger than the ring's max_msg (%" PRIu64 ")",
	        what, (uint64_t)len, (uint64_t)io->max_msg);
	return CLI_EFRAMING;
}

/* Records, lines and small blocks: cut the messages out of a private
 * buffer and send them in batches. */
static int write_buffered(struct io *io)
{
	enum framing fr = io->o.framing;
	size_t cap = IO_BUF, lo = 0, hi = 0;
	shmring_msg m[IO_BATCH];
	unsigned char *buf;
	int eof = 0, rc = SHMRING_OK;

	if (fr == FR_LINES && io->max_msg + 1 > cap)
		cap = io->max_msg + 1;
	buf = malloc(cap);
	if (!buf)
		return SHMRING_ENOMEM;
	for (;;) {
		size_t n = 0, big = 0, bad_len = 0;
		const char *bad = NULL; /* a message too large: what it is */
		long got;

		while (n < IO_BATCH && !bad) {
			unsigned char *p = buf + lo, *nl;
			size_t avail = hi - lo, len;

			if (fr == FR_RECORDS) {
				if (avail < 4)
					break;
				len = le32(p);
				if (len > io->max_msg) {
					bad = "record";
					bad_len = len;
					break;
				}
				if (4 + len > avail) {
					if (4 + len > cap)
						big = len; /* will never fit */
					break;
				}
				m[n++] = (shmring_msg){p + 4, len};
				lo += 4 + len;
			} else if (fr == FR_LINES) {
				nl = memchr(p, '\n', avail);
				len = nl ? (size_t)(nl - p) : avail;
				if (len > io->max_msg) {
					bad = "line";
					bad_len = len;
				}
				if (!nl || bad)
					break;
				m[n++] = (shmring_msg){p, len};
				lo += len + 1;
			} else {
				if (avail < io->o.size)
					break;
				m[n++] = (shmring_msg){p, io->o.size};
				lo += io->o.size;
			}
		}
		if (n) {
			rc = io_sendv(io, m, n);
			io_progress(io, 0);
			if (rc != SHMRING_OK)
				break;
		}
		if (bad) {
			/* after the messages before it */
			rc = write_too_large(io, bad, bad_len);
			break;
		}
		if (n)
			continue;
		if (big) {
			rc = write_big_record(io, big, buf + lo + 4,
			                      hi - lo - 4);
			io_progress(io, 0);
			lo = hi = 0;
			if (rc != SHMRING_OK)
				break;
			continue;
		}
		if (eof) {
			if (hi > lo && fr == FR_RECORDS) {
				cli_err("stdin",
				        "truncated record (%" PRIu64
				        " bytes at the end)",
				        (uint64_t)(hi - lo));
				rc = CLI_EFRAMING;
			} else if (hi > lo) {
				/* a last line with no newline, a short block */
				m[0] = (shmring_msg){buf + lo, hi - lo};
				rc = io_sendv(io, m, 1);
			}
			break;
		}
		if (lo) {
			memmove(buf, buf + lo, hi - lo);
			hi -= lo;
			lo = 0;
		}
		got = io_read(io, buf + hi, cap - hi);
		if (got < 0) {
			rc = io_fail_stream(io, "stdin", got);
			break;
		}
		if (got == 0)
			eof = 1;
		hi += (size_t)got;
	}
	free(buf);
	return rc;
}

static int io_framing_check(struct io_opts *o, const char *verb)
{
	if (o->framings > 1)
		return cli_usage(verb, "--lines, --size, --raw and --records "
		                       "exclude each other");
	return 0;
}

static int io_setup(int argc, char **argv, const char *verb, const char *help,
                    const struct cli_opt *opts, struct io *io)
{
	int nops, rc;

	memset(io, 0, sizeof *io);
	io->o.timeout = -1;
	rc = cli_parse(argc, argv, verb, help, opts, io_opt, &io->o, &nops);
	if (rc)
		return rc < 0 ? -1 : rc;
	rc = io_framing_check(&io->o, verb);
	if (rc)
		return rc;
	if (nops != 1)
		return cli_usage(verb, nops ? "one NAME only" : "NAME missing");
	io->name = argv[1];
	rc = cli_check_name(io->name);
	if (rc)
		return rc;
	sys_signals();
	sys_binary_stdio();
	return 0;
}

int cmd_write(int argc, char **argv)
{
	static const struct cli_opt opts[] = {IO_COMMON_OPTS,
	                                      {"chunk", CLI_ARG, OPT_CHUNK},
	                                      {NULL, CLI_NOARG, 0}};
	struct io io;
	int rc = io_setup(argc, argv, "write", write_help, opts, &io);

	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (cli_closed_fds & 1)
		return cli_fail_errno("stdin", EBADF);
	sys_pipe_buffer(0, IO_PIPE);
	rc = io_attach(&io, SHMRING_PRODUCER);
	if (rc != SHMRING_OK)
		return rc > 0 ? rc : cli_fail(io.name, rc);
	switch (io.o.framing) {
	case FR_RAW:
		if (io.o.chunk > io.max_msg)
			rc = write_too_large(&io, "--chunk", io.o.chunk);
		else
			rc = write_direct(&io,
			                  io.o.chunk              ? io.o.chunk
			                  : io.max_msg < IO_CHUNK ? io.max_msg
			                                          : IO_CHUNK,
			                  0);
		break;
	case FR_SIZE:
		if (io.o.size > io.max_msg)
			rc = write_too_large(&io, "--size", io.o.size);
		else if (io.o.size >= IO_DIRECT)
			rc = write_direct(&io, io.o.size, 1);
		else
			rc = write_buffered(&io);
		break;
	default:
		rc = write_buffered(&io);
	}
	return io_finish(&io, rc);
}

/* ---- read ---------------------------------------------------------------- */

static const char read_help[] =
        "Usage: shmring read [OPTION]... NAME\n"
        "Write the messages of ring NAME to stdout as its consumer, "
        "creating the\n"
        "ring if it is missing. Ends with status 0 when the producer has "
        "closed\n"
        "(on a --mpsc ring: every one that came) and the ring is drained, "
        "with\n"
        "status 8 if it died instead. A message is taken from the ring only "
        "once\n"
        "it is written to stdout.\n"
        "\n" IO_COMMON_HELP "  --count N        stop after N messages\n"
        "  -h, --help       this text\n";

struct outbuf {
	unsigned char *b;
	size_t n, cap;
};

static int out_flush(struct io *io, struct outbuf *ob)
{
	int rc = ob->n ? io_write(io, ob->b, ob->n) : 0;

	ob->n = 0;
	return rc;
}

/* Append @n bytes to the output, in order: large ones are written straight
 * from where they are (the ring), after what is buffered. */
static int out_put(struct io *io, struct outbuf *ob, const void *p, size_t n)
{
	int rc = 0;

	if (ob->n + n > ob->cap || n >= IO_DIRECT)
		rc = out_flush(io, ob);
	if (rc == 0 && n >= IO_DIRECT)
		return io_write(io, p, n);
	if (rc == 0) {
		memcpy(ob->b + ob->n, p, n);
		ob->n += n;
	}
	return rc;
}

/* Write message @m to stdout in the framing. */
static int read_emit(struct io *io, struct outbuf *ob, const shmring_msg *m)
{
	unsigned char hdr[4];
	int rc = 0;

	if (io->o.framing == FR_RECORDS) {
		for (int i = 0; i < 4; i++)
			hdr[i] = (unsigned char)(m->len >> (8 * i));
		rc = out_put(io, ob, hdr, 4);
	}
	if (rc == 0)
		rc = out_put(io, ob, m->data, m->len);
	if (rc == 0 && io->o.framing == FR_LINES)
		rc = out_put(io, ob, "\n", 1);
	return rc;
}

static int read_loop(struct io *io)
{
	struct outbuf ob = {malloc(IO_BUF), 0, IO_BUF};
	shmring_msg m[IO_BATCH];
	int rc = SHMRING_OK;

	if (!ob.b)
		return SHMRING_ENOMEM;
	for (;;) {
		size_t want = IO_BATCH, got = 0, done = 0;
		int bad = 0;

		if (io->o.count && io->o.count - io->msgs < want)
			want = (size_t)(io->o.count - io->msgs);
		if (io->o.count && want == 0)
			break;
		rc = io_peekv(io, m, want, &got);
		if (rc == SHMRING_ECLOSED) {
			rc = SHMRING_OK; /* end of stream */
			break;
		}
		if (rc != SHMRING_OK)
			break;
		for (; done < got && rc == 0; done++) {
			if (io->o.framing == FR_SIZE &&
			    m[done].len > io->o.size) {
				cli_err(io->name,
				        "message of %" PRIu64
				        " bytes is longer than --size %" PRIu64,
				        (uint64_t)m[done].len, io->o.size);
				bad = CLI_EFRAMING;
				break;
			}
			rc = read_emit(io, &ob, &m[done]);
		}
		if (rc == 0)
			rc = out_flush(io, &ob);
		if (rc < 0) {
			rc = cli_fail_errno("stdout", io->err);
			break; /* nothing released: it stays in the ring */
		}
		if (rc != 0)
			break;
		/* Written: now they may go. */
		shmring_releasev(io->r, done);
		for (size_t i = 0; i < done; i++)
			io->bytes += m[i].len;
		io->msgs += done;
		io_progress(io, 0);
		if (bad) {
			rc = bad;
			break;
		}
	}
	free(ob.b);
	return rc;
}

int cmd_read(int argc, char **argv)
{
	static const struct cli_opt opts[] = {IO_COMMON_OPTS,
	                                      {"count", CLI_ARG, OPT_COUNT},
	                                      {NULL, CLI_NOARG, 0}};
	struct io io;
	int rc = io_setup(argc, argv, "read", read_help, opts, &io);

	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (cli_closed_fds & 2)
		return cli_fail_errno("stdout", EBADF);
	sys_pipe_buffer(1, IO_PIPE);
	rc = io_attach(&io, SHMRING_CONSUMER);
	if (rc != SHMRING_OK)
		return rc > 0 ? rc : cli_fail(io.name, rc);
	return io_finish(&io, read_loop(&io));
}
