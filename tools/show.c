/* SPDX-License-Identifier: MIT */
/*
 * show.c -- the verbs that look: `ls` (every ring, one line each, or JSON)
 * and `stat` (one ring in full, once or refreshed with rates). Both only
 * call shmring_inspect() (stat also shmring_inspect_producers()), which
 * map the segment read-only and check everything they read, so a hostile
 * segment shows as corrupt.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sys.h"

/* ---- JSON ---------------------------------------------------------------- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_counters(const shmring_counters *c)
{
	printf("{\"messages\": %" PRIu64 ", \"bytes\": %" PRIu64
	       ", \"blocked\": %" PRIu64 ", \"sleeps\": %" PRIu64
	       ", \"wakes\": %" PRIu64 ", \"timeouts\": %" PRIu64
	       ", \"badfmt\": %" PRIu64 ", \"abandoned\": %" PRIu64
	       ", \"last_ns\": %" PRIu64 "}",
	       c->messages, c->bytes, c->blocked, c->sleeps, c->wakes,
	       c->timeouts, c->badfmt, c->abandoned, c->last_ns);
}

static void json_role(const char *key, const shmring_role_info *r)
{
	printf("\"%s\": {\"state\": \"%s\", \"pid\": %" PRIu32
	       ", \"counters\": ",
	       key, cli_state_name(r->state), r->pid);
	json_counters(&r->counters);
	putchar('}');
}

/* "ok", or what kept us from reading the ring. */
static const char *status_name(int rc)
{
	switch (rc) {
	case SHMRING_OK:
		return "ok";
	case SHMRING_EBADFMT:
		return "corrupt";
	case SHMRING_ENOENT:
		return "uninitialised";
	case SHMRING_EACCES:
		return "denied";
	default:
		return "error";
	}
}

/* The producer entries of a ring (shmring_inspect_producers()). */
struct entries {
	int ok; /* read: else n is 0 */
	size_t n;
	shmring_producer_info v[SHMRING_MAX_PRODUCERS];
};

/* Read ring @name's producer entries into @e; none if that fails (the
 * ring went away since shmring_inspect(), say). */
static void entries_get(const char *name, struct entries *e)
{
	size_t n = 0;

	e->ok = shmring_inspect_producers(name, e->v, SHMRING_MAX_PRODUCERS,
	                                  &n) == SHMRING_OK;
	e->n = !e->ok                      ? 0
	       : n < SHMRING_MAX_PRODUCERS ? n
	                                   : SHMRING_MAX_PRODUCERS;
}

/* Rates between two looks at a ring. */
struct rates {
	int valid;
	double pmsgs, pbytes, cmsgs, cbytes, slots;
};

/* One ring as a JSON object: the fields of shmring_info (and the rates if
 * @r is valid, the producer entries if @e is not NULL), or status and error
 * when it could not be read. */
static void json_ring(const char *name, int rc, const shmring_info *in,
                      const struct rates *r, const struct entries *e)
{
	printf("{\"name\": ");
	json_str(name);
	printf(", \"status\": \"%s\"", status_name(rc));
	if (rc != SHMRING_OK) {
		printf(", \"error\": ");
		json_str(shmring_strerror(rc));
		putchar('}');
		return;
	}
	printf(", \"version\": %" PRIu32 ", \"slot_size\": %" PRIu32
	       ", \"slot_stride\": %" PRIu32 ", \"slot_count\": %" PRIu32
	       ", \"flags\": %" PRIu32 ", \"max_msg\": %" PRIu32
	       ", \"seg_size\": %" PRIu64 ", \"created_ns\": %" PRIu64
	       ", \"head\": %" PRIu64 ", \"tail\": %" PRIu64,
	       in->version, in->slot_size, in->slot_stride, in->slot_count,
	       in->flags, in->max_msg, in->seg_size, in->created_ns, in->head,
	       in->tail);
	if (in->used_slots == UINT64_MAX)
		printf(", \"used_slots\": null, \"fill\": null");
	else
		printf(", \"used_slots\": %" PRIu64 ", \"fill\": %.4f",
		       in->used_slots,
		       (double)in->used_slots / (double)in->slot_count);
	printf(", ");
	json_role("producer", &in->producer);
	printf(", ");
	json_role("consumer", &in->consumer);
	printf(", \"producers\": %" PRIu32, in->producers);
	if (e) {
		printf(", \"producer_entries\": [");
		for (size_t i = 0; i < e->n; i++)
			printf("%s{\"entry\": %" PRIu32 ", \"state\": \"%s\""
			       ", \"pid\": %" PRIu32 ", \"sleeping\": %s}",
			       i ? ", " : "", e->v[i].entry,
			       cli_state_name(e->v[i].state), e->v[i].pid,
			       e->v[i].sleeping ? "true" : "false");
		putchar(']');
	}
	if (r && r->valid)
		printf(", \"rates\": {\"producer_msgs\": %.1f, "
		       "\"producer_bytes\": %.1f, \"consumer_msgs\": %.1f, "
		       "\"consumer_bytes\": %.1f, \"slots\": %.1f}",
		       r->pmsgs, r->pbytes, r->cmsgs, r->cbytes, r->slots);
	putchar('}');
}

/* ---- human formats ------------------------------------------------------- */

/* @v bytes as "512 B", "1.5 KiB", "3.0 MiB", ... into @buf. */
static const char *fmt_bytes(char *buf, size_t cap, double v)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	unsigned u = 0;

	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%.0f B", v);
	else
		snprintf(buf, cap, "%.1f %s", v, units[u]);
	return buf;
}

/* A role in one column: "attached 1234", "dead 1234", "closed", ... */
static const char *fmt_role(char *buf, size_t cap, const shmring_role_info *r)
{
	if (r->pid && (r->state == SHMRING_ROLE_ATTACHED ||
	               r->state == SHMRING_ROLE_DEAD))
		snprintf(buf, cap, "%s %" PRIu32, cli_state_name(r->state),
		         r->pid);
	else
		snprintf(buf, cap, "%s", cli_state_name(r->state));
	return buf;
}

static const char *fmt_fill(char *buf, size_t cap, const shmring_info *in)
{
	if (in->used_slots == UINT64_MAX)
		snprintf(buf, cap, "bad indices");
	else
		snprintf(buf, cap, "%" PRIu64 "/%" PRIu32 " (%.0f%%)",
		         in->used_slots, in->slot_count,
		         100.0 * (double)in->used_slots / in->slot_count);
	return buf;
}

/* How long ago wall-clock time @ns was: "3.2 s ago", "never". */
static const char *fmt_ago(char *buf, size_t cap, uint64_t ns, uint64_t now)
{
	double s;

	if (ns == 0)
		return "never";
	if (ns > now)
		return "in the future";
	s = (double)(now - ns) / 1e9;
	if (s < 120)
		snprintf(buf, cap, "%.1f s ago", s);
	else if (s < 7200)
		snprintf(buf, cap, "%.0f min ago", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, cap, "%.1f h ago", s / 3600);
	else
		snprintf(buf, cap, "%.1f days ago", s / 86400);
	return buf;
}

static const char *fmt_time(char *buf, size_t cap, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm *tm = gmtime(&t);

	if (!tm || strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", tm) == 0)
		snprintf(buf, cap, "?");
	return buf;
}

/* ---- ls ------------------------------------------------------------------ */

static const char ls_help[] =
        "Usage: shmring ls [--json] [PATTERN]...\n"
        "List the rings on this host (those whose names match a PATTERN, "
        "with\n"
        "* and ?): name, geometry, fill level, and the producer and "
        "consumer\n"
        "(attached PID, dead PID, closed, or none). A segment that is not a\n"
        "valid ring is listed as corrupt.\n"
        "\n"
        "  --json     one JSON array of objects, the fields of "
        "shmring_inspect()\n"
        "  -h, --help this text\n";

enum { OPT_JSON = 1, OPT_WATCH, OPT_COUNT };

struct show_opts {
	int json;
	int watch;
	double interval;
	uint64_t count;
};

static int show_opt(void *ctx, int id, const char *val)
{
	struct show_opts *o = ctx;

	switch (id) {
	case OPT_JSON:
		o->json = 1;
		return 0;
	case OPT_WATCH:
		o->watch = 1;
		if (val) {
			int rc = cli_seconds("--watch", val, &o->interval);
			if (rc == 0 && o->interval < 0.05)
				o->interval = 0.05;
			return rc;
		}
		return 0;
	case OPT_COUNT:
		return cli_uint("--count", val, UINT64_MAX, &o->count);
	default:
		return CLI_EUSAGE;
	}
}

#define LS_COLS 6

/* Column @c of a row, padded to @w; the last one ends the line. */
static void ls_cell(int c, size_t w, const char *s)
{
	if (c + 1 < LS_COLS)
		printf("%-*s  ", (int)w, s);
	else
		printf("%s\n", s);
}

int cmd_ls(int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"json", CLI_NOARG, OPT_JSON},
	                                      {NULL, CLI_NOARG, 0}};
	static const char *head[LS_COLS] = {"NAME", "SLOTS",    "MAX_MSG",
	                                    "FILL", "PRODUCER", "CONSUMER"};
	struct show_opts o = {0};
	struct cli_names names = {NULL, 0, 0};
	char(*cells)[LS_COLS][64];
	size_t width[LS_COLS];
	int nops, rc;

	rc = cli_parse(argc, argv, "ls", ls_help, opts, show_opt, &o, &nops);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	rc = cli_list(&names, argv + 1, nops);
	if (rc != SHMRING_OK)
		return cli_fail("ls", rc);
	if (o.json) {
		printf("[");
		for (size_t i = 0; i < names.n; i++) {
			shmring_info in;
			rc = shmring_inspect(names.v[i], &in);
			printf(i ? ",\n " : "\n ");
			json_ring(names.v[i], rc, &in, NULL, NULL);
		}
		printf(names.n ? "\n]\n" : "]\n");
		cli_names_free(&names);
		return CLI_OK;
	}
	cells = calloc(names.n ? names.n : 1, sizeof *cells);
	if (!cells) {
		cli_names_free(&names);
		return cli_fail("ls", SHMRING_ENOMEM);
	}
	for (int c = 0; c < LS_COLS; c++)
		width[c] = strlen(head[c]);
	for (size_t i = 0; i < names.n; i++) {
		shmring_info in;
		char(*row)[64] = cells[i];

		rc = shmring_inspect(names.v[i], &in);
		if (rc == SHMRING_OK) {
			snprintf(row[1], 64, "%" PRIu32 "x%" PRIu32,
			         in.slot_count, in.slot_stride);
			snprintf(row[2], 64, "%" PRIu32, in.max_msg);
			fmt_fill(row[3], 64, &in);
			fmt_role(row[4], 64, &in.producer);
			fmt_role(row[5], 64, &in.consumer);
		} else {
			snprintf(row[1], 64, "%s", status_name(rc));
			snprintf(row[2], 64, "-");
			snprintf(row[3], 64, "-");
			snprintf(row[4], 64, "-");
			snprintf(row[5], 64, "%s", shmring_strerror(rc));
		}
		for (int c = 1; c < LS_COLS; c++)
			if (strlen(row[c]) > width[c])
				width[c] = strlen(row[c]);
		if (strlen(names.v[i]) > width[0])
			width[0] = strlen(names.v[i]);
	}
	for (int c = 0; c < LS_COLS; c++)
		ls_cell(c, width[c], head[c]);
	for (size_t i = 0; i < names.n; i++) {
		ls_cell(0, width[0], names.v[i]);
		for (int c = 1; c < LS_COLS; c++)
			ls_cell(c, width[c], cells[i][c]);
	}
	free(cells);
	cli_names_free(&names);
	return CLI_OK;
}

/* ---- stat ---------------------------------------------------------------- */

static const char stat_help[] =
        "Usage: shmring stat [--json] [--watch [SECONDS]] [--count N] NAME\n"
        "Show everything shmring_inspect() reads from ring NAME: geometry,\n"
        "indices and fill level, and for the producer and the consumer "
        "their\n"
        "state, process id and counters (messages, bytes, times the ring "
        "was\n"
        "found full or empty, sleeps, wake-ups sent, timeouts, corrupt "
        "values\n"
        "seen, last activity); for a --mpsc ring, each producer entry "
        "too: its\n"
        "state, process id and whether it waits for room. Counters are "
        "flushed\n"
        "by each side when it waits or closes, so they may lag a busy side "
        "by up\n"
        "to 1024 messages.\n"
        "\n"
        "  --json             one JSON object (with --watch: one per line, "
        "with\n"
        "                     rates)\n"
        "  --watch [SECONDS]  refresh every SECONDS (default 1) in place, "
        "with\n"
        "                     messages/s, MB/s and fill; Ctrl-C stops\n"
        "  --count N          with --watch: stop after N refreshes\n"
        "  -h, --help         this text\n";

static double rate(uint64_t now, uint64_t then, double dt)
{
	return now >= then ? (double)(now - then) / dt : -1;
}

static struct rates rates_of(const shmring_info *now, const shmring_info *then,
                             double dt)
{
	struct rates r = {0};

	if (!then || dt <= 0)
		return r;
	r.valid = 1;
	r.pmsgs = rate(now->producer.counters.messages,
	               then->producer.counters.messages, dt);
	r.pbytes = rate(now->producer.counters.bytes,
	                then->producer.counters.bytes, dt);
	r.cmsgs = rate(now->consumer.counters.messages,
	               then->consumer.counters.messages, dt);
	r.cbytes = rate(now->consumer.counters.bytes,
	                then->consumer.counters.bytes, dt);
	r.slots = rate(now->head, then->head, dt);
	return r;
}

static const char *fmt_rate(char *buf, size_t cap, double v, double unit,
                            const char *suffix)
{
	if (v < 0)
		snprintf(buf, cap, "-");
	else if (v / unit >= 1e6)
		snprintf(buf, cap, "%.2f M%s", v / unit / 1e6, suffix);
	else if (v / unit >= 1e4)
		snprintf(buf, cap, "%.1f k%s", v / unit / 1e3, suffix);
	else
		snprintf(buf, cap, "%.1f %s", v / unit, suffix);
	return buf;
}

static void stat_row(const char *key, const char *p, const char *c)
{
	printf("  %-14s %-26s %s\n", key, p, c);
}

/* A row of one value, not in the two columns. */
static void stat_line(const char *key, const char *v)
{
	printf("  %-14s %s\n", key, v);
}

static void stat_num(const char *key, uint64_t p, uint64_t c)
{
	char a[32], b[32];

	snprintf(a, sizeof a, "%" PRIu64, p);
	snprintf(b, sizeof b, "%" PRIu64, c);
	stat_row(key, a, b);
}

/* An MPSC ring's producer entries, after the table (a single producer is
 * the table's producer column already). */
static void stat_entries(const struct entries *e)
{
	char k[32], v[96];
	unsigned live = 0;

	for (size_t i = 0; i < e->n; i++)
		live += e->v[i].state == SHMRING_ROLE_ATTACHED;
	snprintf(v, sizeof v, "%u entr%s, %u live", (unsigned)e->n,
	         e->n == 1 ? "y" : "ies", live);
	printf("\n");
	stat_line("producers", v);
	for (size_t i = 0; i < e->n; i++) {
		const shmring_producer_info *p = &e->v[i];
		shmring_role_info ri = {.state = p->state, .pid = p->pid};
		size_t n;

		snprintf(k, sizeof k, "  entry %" PRIu32, p->entry);
		fmt_role(v, sizeof v, &ri);
		n = strlen(v);
		/* A dead holder's bit may be left set: it waits for nothing. */
		if (p->sleeping && p->state == SHMRING_ROLE_ATTACHED)
			snprintf(v + n, sizeof v - n, ", waiting for room");
		stat_line(k, v);
	}
}

static void stat_human(const char *name, const shmring_info *in,
                       const struct rates *r, const struct entries *e)
{
	const shmring_counters *pc = &in->producer.counters,
	                       *cc = &in->consumer.counters;
	uint64_t now = sys_wall_ns();
	char a[64], b[64], t[64];

	printf("ring %s\n", name);
	printf("  format         version %" PRIu32 ", flags 0x%" PRIx32
	       ", segment %" PRIu64 " bytes (%s)\n",
	       in->version, in->flags, in->seg_size,
	       fmt_bytes(a, sizeof a, (double)in->seg_size));
	printf("  geometry       %" PRIu32 " slots of %" PRIu32
	       " bytes (slot_size %" PRIu32 "), max_msg %" PRIu32 "\n",
	       in->slot_count, in->slot_stride, in->slot_size, in->max_msg);
	printf("  created        %s (%s)\n",
	       fmt_time(t, sizeof t, in->created_ns),
	       fmt_ago(a, sizeof a, in->created_ns, now));
	printf("  fill           %s, head %" PRIu64 ", tail %" PRIu64 "\n",
	       fmt_fill(b, sizeof b, in), in->head, in->tail);
	printf("\n");
	stat_row("", "producer", "consumer");
	stat_row("state", fmt_role(a, sizeof a, &in->producer),
	         fmt_role(b, sizeof b, &in->consumer));
	stat_num("messages", pc->messages, cc->messages);
	stat_num("bytes", pc->bytes, cc->bytes);
	snprintf(a, sizeof a, "%" PRIu64 " (ring full)", pc->blocked);
	snprintf(b, sizeof b, "%" PRIu64 " (ring empty)", cc->blocked);
	stat_row("blocked", a, b);
	stat_num("sleeps", pc->sleeps, cc->sleeps);
	stat_num("wakes sent", pc->wakes, cc->wakes);
	stat_num("timeouts", pc->timeouts, cc->timeouts);
	stat_num("badfmt", pc->badfmt, cc->badfmt);
	stat_num("abandoned", pc->abandoned, cc->abandoned);
	stat_row("last active", fmt_ago(a, sizeof a, pc->last_ns, now),
	         fmt_ago(b, sizeof b, cc->last_ns, now));
	if (r && r->valid) {
		char s[64];
		stat_row("messages/s", fmt_rate(a, sizeof a, r->pmsgs, 1, ""),
		         fmt_rate(b, sizeof b, r->cmsgs, 1, ""));
		stat_row("MB/s", fmt_rate(a, sizeof a, r->pbytes, 1e6, ""),
		         fmt_rate(b, sizeof b, r->cbytes, 1e6, ""));
		stat_line("slots/s", fmt_rate(s, sizeof s, r->slots, 1, ""));
	}
	if ((in->flags & SHMRING_F_MPSC) && e->ok)
		stat_entries(e);
}

/* Ring @name as read into @in, with its producer entries: one JSON line,
 * or the human text. */
static void stat_show(const char *name, const shmring_info *in,
                      const struct rates *r, int json)
{
	struct entries e = {0};

	if (json || (in->flags & SHMRING_F_MPSC))
		entries_get(name, &e);
	if (json) {
		json_ring(name, SHMRING_OK, in, r, &e);
		putchar('\n');
	} else {
		stat_human(name, in, r, &e);
	}
}

static int stat_watch(const char *name, const struct show_opts *o)
{
	int tty = sys_isatty(1);
	shmring_info prev, in;
	uint64_t t_prev = 0;

	if (tty)
		sys_ansi_terminal();
	sys_signals();
	for (uint64_t n = 0; o->count == 0 || n < o->count; n++) {
		uint64_t t = sys_mono_ns();
		struct rates r;
		int rc = shmring_inspect(name, &in);

		if (rc != SHMRING_OK) {
			if (tty)
				printf("\n");
			return cli_fail(name, rc);
		}
		r = rates_of(&in, n ? &prev : NULL, (double)(t - t_prev) / 1e9);
		if (!o->json && tty)
			printf("\033[H\033[2J");
		else if (!o->json && n)
			printf("\n");
		stat_show(name, &in, &r, o->json);
		if (!o->json && tty)
			printf("\nevery %.1f s; Ctrl-C quits\n", o->interval);
		fflush(stdout);
		prev = in;
		t_prev = t;
		if (o->count && n + 1 == o->count)
			break;
		/* Sleep in slices, so that Ctrl-C ends the watch at once. */
		for (uint64_t end = t + (uint64_t)(o->interval * 1e9);
		     !sys_interrupted() && sys_mono_ns() < end;) {
			uint64_t left = (end - sys_mono_ns()) / 1000000u;
			sys_sleep_ms(left > 100 ? 100 : (unsigned)left + 1);
		}
		if (sys_interrupted())
			break;
	}
	return CLI_OK; /* Ctrl-C is how a watch ends */
}

int cmd_stat(int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"json", CLI_NOARG, OPT_JSON},
	                                      {"watch", CLI_OPTNUM, OPT_WATCH},
	                                      {"count", CLI_ARG, OPT_COUNT},
	                                      {NULL, CLI_NOARG, 0}};
	struct show_opts o = {.interval = 1};
	shmring_info in;
	int nops, rc;

	rc = cli_parse(argc, argv, "stat", stat_help, opts, show_opt, &o,
	               &nops);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (nops != 1)
		return cli_usage("stat",
		                 nops ? "one NAME only" : "NAME missing");
	rc = cli_check_name(argv[1]);
	if (rc)
		return rc;
	if (o.watch)
		return stat_watch(argv[1], &o);
	rc = shmring_inspect(argv[1], &in);
	if (rc != SHMRING_OK)
		return cli_fail(argv[1], rc);
	stat_show(argv[1], &in, NULL, o.json);
	return CLI_OK;
}
