/* SPDX-License-Identifier: MIT */
/*
 * common.c -- what both directions of shmring-bridge share: the command
 * line, signals, the NATS connection (connect with a deadline, reconnect
 * forever with backoff), the stream, the ring and the reports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"

volatile sig_atomic_t br_stop;
shmring *br_left_open;

void br_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("shmring-bridge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

double br_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int br_ring_fail(const char *what, int code)
{
	br_err("%s: %s", what, shmring_strerror(code));
	switch (code) {
	case SHMRING_ENOENT:
		return BR_ENOENT;
	case SHMRING_EBUSY:
	case SHMRING_EEXIST:
		return BR_EBUSY;
	case SHMRING_EBADFMT:
		return BR_EBADFMT;
	case SHMRING_EACCES:
		return BR_EACCES;
	case SHMRING_ENOMEM:
		return BR_ENOMEM;
	case SHMRING_EPEERDEAD:
		return BR_EPEERDEAD;
	case SHMRING_ECLOSED:
		return BR_ECLOSED;
	case SHMRING_EINTR:
		return BR_EINTR;
	case SHMRING_EINVAL:
		return BR_EUSAGE;
	default:
		return BR_EFAIL;
	}
}

int br_nats_fail(const char *what, natsStatus s, int status)
{
	const char *last = nats_GetLastError(NULL);

	if (last && *last)
		br_err("%s: %s (%s)", what, natsStatus_GetText(s), last);
	else
		br_err("%s: %s", what, natsStatus_GetText(s));
	return status;
}

/* ---- the command line ------------------------------------------------- */

static const char help_out[] =
        "Usage: shmring-bridge out RING --subject SUBJ [OPTION]...\n"
        "Consume RING and publish every message to SUBJ on NATS JetStream,\n"
        "releasing it from the ring only once JetStream has stored it.\n";
static const char help_in[] =
        "Usage: shmring-bridge in --subject SUBJ --durable NAME RING "
        "[OPTION]...\n"
        "Fill RING from a durable pull consumer of the stream that takes "
        "SUBJ,\nacknowledging each message once it is committed to the "
        "ring.\n";
static const char help_opts[] =
        "\nOptions:\n"
        "  --subject SUBJ        the subject (required)\n"
        "  --stream NAME         the stream (default: the one taking SUBJ)\n"
        "  --server URL          default nats://127.0.0.1:4222\n"
        "  --create-stream       create the stream (needs --stream)\n"
        "    --stream-subjects A,B  its subjects (default: SUBJ)\n"
        "    --storage file|memory  default file\n"
        "    --retention limits|interest|workqueue  default limits\n"
        "    --dup-window SEC     duplicate window (default 120)\n"
        "  --connect-timeout SEC  give up on a server not there (5)\n"
        "  --progress[=SEC]      rates on stderr every SEC (1)\n"
        "  --quiet               no summary line\n"
        "  --slot-size N --slots N --max-msg N  geometry if the ring is "
        "created\n"
        "out:\n"
        "  --max-pending N       ring messages in flight (1024, at most "
        "1024)\n"
        "  --pack N              ring messages per JetStream message (64;"
        " 1: one\n"
        "                        each, unframed)\n"
        "  --pack-bytes N        bytes per JetStream message (65536)\n"
        "  --pub-timeout SEC     wait for a publish ack, then resend (5)\n"
        "in:\n"
        "  --durable NAME        the durable consumer (required)\n"
        "  --batch N             messages per fetch (512, at most 1024)\n"
        "  --ack-wait SEC        the consumer's AckWait (5)\n"
        "  --ack-explicit        ack each message (default: AckAll, one "
        "per batch)\n"
        "  --state PATH          default /dev/shm/shmring-bridge-in.RING."
        "NAME\n"
        "Exit status: 0 end of stream, 2 usage, 4 ring role busy, 8 the "
        "producer\ndied (forwarded), 14 no server, 15 JetStream refused, "
        "16 bad state file,\n130 interrupted; docs/bridge.md lists them "
        "all.\n";

enum {
	O_SUBJECT = 256,
	O_STREAM,
	O_SERVER,
	O_CREATE,
	O_SUBJECTS,
	O_STORAGE,
	O_RETENTION,
	O_DUPWIN,
	O_CONNTO,
	O_PROGRESS,
	O_QUIET,
	O_SLOTSIZE,
	O_SLOTS,
	O_MAXMSG,
	O_MAXPEND,
	O_PUBTO,
	O_DURABLE,
	O_BATCH,
	O_ACKWAIT,
	O_ACKEXPL,
	O_STATE,
	O_PACK,
	O_PACKBYTES,
};

static const struct option long_opts[] = {
        {"subject", required_argument, NULL, O_SUBJECT},
        {"stream", required_argument, NULL, O_STREAM},
        {"server", required_argument, NULL, O_SERVER},
        {"create-stream", no_argument, NULL, O_CREATE},
        {"stream-subjects", required_argument, NULL, O_SUBJECTS},
        {"storage", required_argument, NULL, O_STORAGE},
        {"retention", required_argument, NULL, O_RETENTION},
        {"dup-window", required_argument, NULL, O_DUPWIN},
        {"connect-timeout", required_argument, NULL, O_CONNTO},
        {"progress", optional_argument, NULL, O_PROGRESS},
        {"quiet", no_argument, NULL, O_QUIET},
        {"slot-size", required_argument, NULL, O_SLOTSIZE},
        {"slots", required_argument, NULL, O_SLOTS},
        {"max-msg", required_argument, NULL, O_MAXMSG},
        {"max-pending", required_argument, NULL, O_MAXPEND},
        {"pub-timeout", required_argument, NULL, O_PUBTO},
        {"durable", required_argument, NULL, O_DURABLE},
        {"batch", required_argument, NULL, O_BATCH},
        {"ack-wait", required_argument, NULL, O_ACKWAIT},
        {"ack-explicit", no_argument, NULL, O_ACKEXPL},
        {"state", required_argument, NULL, O_STATE},
        {"pack", required_argument, NULL, O_PACK},
        {"pack-bytes", required_argument, NULL, O_PACKBYTES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

static int bad(const char *opt, const char *why)
{
	br_err("--%s: %s (see --help)", opt, why);
	return BR_EUSAGE;
}

static int num(const char *opt, const char *s, uint64_t lo, uint64_t hi,
               uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		char why[96];
		snprintf(why, sizeof why,
		         "'%s' is not a whole number in %" PRIu64 "..%" PRIu64,
		         s, lo, hi);
		return bad(opt, why);
	}
	*out = v;
	return 0;
}

static int secs(const char *opt, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 86400.0 * 365)
		return bad(opt, "not a number of seconds");
	*out = v;
	return 0;
}

static int split_subjects(struct br_opts *o, char *list)
{
	int n = 1;

	for (char *p = list; *p; p++)
		n += *p == ',';
	o->subjects = calloc((size_t)n, sizeof *o->subjects);
	if (!o->subjects)
		return BR_ENOMEM;
	o->nsubjects = 0;
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
		o->subjects[o->nsubjects++] = tok;
	return o->nsubjects ? 0 : bad("stream-subjects", "empty list");
}

static int set_choice(struct br_opts *o, int id, const char *v)
{
	if (id == O_STORAGE) {
		if (strcmp(v, "file") && strcmp(v, "memory"))
			return bad("storage", "file or memory");
		o->storage_memory = !strcmp(v, "memory");
		return 0;
	}
	if (!strcmp(v, "limits"))
		o->retention = js_LimitsPolicy;
	else if (!strcmp(v, "interest"))
		o->retention = js_InterestPolicy;
	else if (!strcmp(v, "workqueue"))
		o->retention = js_WorkQueuePolicy;
	else
		return bad("retention", "limits, interest or workqueue");
	return 0;
}

static int set_geom(struct br_opts *o, int id, const char *v)
{
	uint64_t x;
	int rc;

	if (id == O_SLOTSIZE) {
		rc = num("slot-size", v, 1, SHMRING_MAX_SLOT_SIZE, &x);
		o->geom.slot_size = (uint32_t)x;
	} else if (id == O_SLOTS) {
		rc = num("slots", v, 2, SHMRING_MAX_SLOT_COUNT, &x);
		o->geom.slot_count = (uint32_t)x;
	} else {
		rc = num("max-msg", v, 1, SHMRING_MAX_MSG_LIMIT, &x);
		o->geom.max_msg = (uint32_t)x;
	}
	return rc;
}

static int set_opt(struct br_opts *o, int id, char *v)
{
	uint64_t x;
	int rc;

	switch (id) {
	case O_SUBJECT:
		o->subject = v;
		return 0;
	case O_STREAM:
		o->stream = v;
		return 0;
	case O_SERVER:
		o->server = v;
		return 0;
	case O_CREATE:
		o->create_stream = 1;
		return 0;
	case O_SUBJECTS:
		return split_subjects(o, v);
	case O_STORAGE:
	case O_RETENTION:
		return set_choice(o, id, v);
	case O_DUPWIN:
		return secs("dup-window", v, &o->dup_window);
	case O_CONNTO:
		return secs("connect-timeout", v, &o->connect_timeout);
	case O_PROGRESS:
		o->progress = 1.0;
		return v ? secs("progress", v, &o->progress) : 0;
	case O_QUIET:
		o->quiet = 1;
		return 0;
	case O_SLOTSIZE:
	case O_SLOTS:
	case O_MAXMSG:
		return set_geom(o, id, v);
	case O_MAXPEND:
	case O_BATCH:
		rc = num(id == O_BATCH ? "batch" : "max-pending", v, 1,
		         SHMRING_BATCH_MAX, &x);
		*(id == O_BATCH ? &o->batch : &o->max_pending) = (int)x;
		return rc;
	case O_PACK:
		rc = num("pack", v, 1, SHMRING_BATCH_MAX, &x);
		o->pack = (int)x;
		return rc;
	case O_PACKBYTES:
		rc = num("pack-bytes", v, 64, 8u << 20, &x);
		o->pack_bytes = (int)x;
		return rc;
	case O_PUBTO:
		return secs("pub-timeout", v, &o->pub_timeout);
	case O_DURABLE:
		o->durable = v;
		return 0;
	case O_ACKWAIT:
		return secs("ack-wait", v, &o->ack_wait);
	case O_ACKEXPL:
		o->ack_explicit = 1;
		return 0;
	case O_STATE:
		o->state = v;
		return 0;
	default:
		return BR_EUSAGE;
	}
}

static int check_opts(struct br_opts *o, int dir_out)
{
	if (!o->subject)
		return bad("subject", "required");
	if (!dir_out && !o->durable)
		return bad("durable", "required for in");
	if (o->durable && strpbrk(o->durable, ".*> \t"))
		return bad("durable", "no '.', '*', '>' or blanks in the name");
	if (o->create_stream && !o->stream)
		return bad("create-stream", "needs --stream NAME");
	if (!o->subjects) {
		o->subjects = calloc(1, sizeof *o->subjects);
		if (!o->subjects)
			return BR_ENOMEM;
		o->subjects[0] = o->subject;
		o->nsubjects = 1;
	}
	if (o->pub_timeout < 0.05)
		return bad("pub-timeout", "at least 0.05 s");
	if (o->ack_wait < 1)
		return bad("ack-wait", "at least 1 s");
	return 0;
}

int br_parse(int argc, char **argv, int dir_out, struct br_opts *o)
{
	int c, rc;

	*o = (struct br_opts){
	        .server = "nats://127.0.0.1:4222",
	        .retention = js_LimitsPolicy,
	        .connect_timeout = 5,
	        .pub_timeout = 5,
	        .ack_wait = 5,
	        .max_pending = 1024,
	        .pack = 64,
	        .pack_bytes = 64 * 1024,
	        .batch = 512,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(dir_out ? help_out : help_in, stdout);
			fputs(help_opts, stdout);
			return -1;
		}
		if (c == '?')
			return BR_EUSAGE;
		rc = set_opt(o, c, optarg);
		if (rc)
			return rc;
	}
	if (optind != argc - 1) {
		br_err("%s: one RING operand expected (see --help)",
		       dir_out ? "out" : "in");
		return BR_EUSAGE;
	}
	o->ring = argv[optind];
	return check_opts(o, dir_out);
}

/* ---- signals ------------------------------------------------------------ */

static void on_signal(int sig)
{
	(void)sig;
	br_stop = 1;
}

void br_signals_block(void)
{
	sigset_t set;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: ring calls see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void br_signals_main(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* ---- the connection ------------------------------------------------------ */

static void set_connected(struct br_conn *c, int up, int reconnected)
{
	pthread_mutex_lock(&c->mu);
	c->connected = up;
	if (reconnected)
		c->reconnects++;
	if (!up)
		c->disconnects++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	(void)nc;
	set_connected(closure, 0, 0);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	(void)nc;
	set_connected(closure, 1, 1);
}

/* Reconnect backoff: 50 ms doubling to 2 s, per pass over the servers. */
static int64_t reconnect_delay(natsConnection *nc, int attempts, void *cl)
{
	int64_t d = 50;

	(void)nc;
	(void)cl;
	for (int i = 1; i < attempts && d < 2000; i++)
		d *= 2;
	return d < 2000 ? d : 2000;
}

static natsStatus make_options(natsOptions **out, struct br_conn *c,
                               const struct br_opts *o)
{
	natsOptions *no = NULL;
	natsStatus s = natsOptions_Create(&no);

	if (s == NATS_OK)
		s = natsOptions_SetURL(no, o->server);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(no, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(no, -1);
	if (s == NATS_OK)
		s = natsOptions_SetCustomReconnectDelay(no, reconnect_delay,
		                                        NULL);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(no, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(no, 3);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(no, on_disconnected, c);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(no, on_reconnected, c);
	if (s == NATS_OK)
		s = natsOptions_SetNoEcho(no, true);
	if (s != NATS_OK)
		natsOptions_Destroy(no);
	else
		*out = no;
	return s;
}

static int check_js(struct br_conn *c, const struct br_opts *o)
{
	jsAccountInfo *ai = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetAccountInfo(&ai, c->js, NULL, &jerr);

	jsAccountInfo_Destroy(ai);
	if (s == NATS_OK)
		return 0;
	if (s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT) {
		br_err("%s: JetStream is not enabled on the server (start it "
		       "with nats-server -js)",
		       o->server);
		return BR_EJS;
	}
	return br_nats_fail("JetStream account info", s, BR_EJS);
}

int br_connect(struct br_conn *c, const struct br_opts *o, int max_pending,
               jsPubAckHandler ah, void *ahc)
{
	natsOptions *no = NULL;
	natsStatus s;
	double deadline = br_now() + o->connect_timeout, wait = 0.05;
	jsOptions jo;

	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	s = make_options(&no, c, o);
	if (s != NATS_OK)
		return br_nats_fail("nats options", s, BR_EFAIL);
	for (;;) {
		s = natsConnection_Connect(&c->nc, no);
		if (s == NATS_OK || br_stop || br_now() + wait > deadline)
			break;
		struct timespec ts = {0, (long)(wait * 1e9)};
		nanosleep(&ts, NULL);
		wait = wait * 2 < 1 ? wait * 2 : 1;
	}
	natsOptions_Destroy(no);
	if (s != NATS_OK) {
		if (br_stop)
			return BR_EINTR;
		br_err("%s: no NATS server answered within %g s (%s)",
		       o->server, o->connect_timeout, natsStatus_GetText(s));
		return BR_ESERVER;
	}
	set_connected(c, 1, 0);
	c->disconnects = 0;
	jsOptions_Init(&jo);
	jo.Wait = 5000;
	jo.PublishAsync.MaxPending = 2 * (int64_t)max_pending + 16;
	jo.PublishAsync.AckHandler = ah;
	jo.PublishAsync.AckHandlerClosure = ahc;
	s = natsConnection_JetStream(&c->js, c->nc, &jo);
	if (s != NATS_OK)
		return br_nats_fail("JetStream context", s, BR_EFAIL);
	return check_js(c, o);
}

void br_disconnect(struct br_conn *c)
{
	if (c->nc) {
		natsConnection_FlushTimeout(c->nc, 2000);
		natsConnection_Close(c->nc);
	}
	jsCtx_Destroy(c->js);
	natsConnection_Destroy(c->nc);
	c->js = NULL;
	c->nc = NULL;
	nats_Close();
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}

/* ---- the stream ---------------------------------------------------------- */

static int create_stream(struct br_conn *c, const struct br_opts *o)
{
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	jsStreamConfig_Init(&cfg);
	cfg.Name = o->stream;
	cfg.Subjects = o->subjects;
	cfg.SubjectsLen = o->nsubjects;
	cfg.Storage = o->storage_memory ? js_MemoryStorage : js_FileStorage;
	cfg.Retention = (jsRetentionPolicy)o->retention;
	if (o->dup_window > 0)
		cfg.Duplicates = (int64_t)(o->dup_window * 1e9);
	s = js_AddStream(&si, c->js, &cfg, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s == NATS_OK)
		return 0;
	br_err("stream %s: %s%s", o->stream, natsStatus_GetText(s),
	       jerr == JSStreamNameExistErr
	               ? ": it exists with another configuration"
	               : "");
	return s == NATS_TIMEOUT ? BR_ESERVER : BR_EJS;
}

/* The stream whose subjects take o->subject ($JS.API.STREAM.NAMES). */
static int find_stream(struct br_conn *c, const struct br_opts *o, char *name,
                       size_t cap)
{
	char req[512];
	natsMsg *reply = NULL;
	const char *d, *p, *q;
	natsStatus s;
	int rc = BR_EJS;

	snprintf(req, sizeof req, "{\"subject\":\"%s\"}", o->subject);
	s = natsConnection_RequestString(&reply, c->nc, "$JS.API.STREAM.NAMES",
	                                 req, 5000);
	if (s != NATS_OK)
		return br_nats_fail("looking up the stream", s, BR_EJS);
	d = natsMsg_GetData(reply);
	p = d ? strstr(d, "\"streams\":[\"") : NULL;
	if (p) {
		p += strlen("\"streams\":[\"");
		q = strchr(p, '"');
		if (q && (size_t)(q - p) < cap) {
			memcpy(name, p, (size_t)(q - p));
			name[q - p] = '\0';
			rc = 0;
		}
	}
	if (rc)
		br_err("no stream takes subject %s (create one with "
		       "--create-stream --stream NAME)",
		       o->subject);
	natsMsg_Destroy(reply);
	return rc;
}

int br_stream(struct br_conn *c, const struct br_opts *o, char *name,
              size_t cap)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	int rc;

	if (o->create_stream) {
		rc = create_stream(c, o);
		if (rc)
			return rc;
	}
	if (!o->stream)
		return find_stream(c, o, name, cap);
	s = js_GetStreamInfo(&si, c->js, o->stream, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s == NATS_NOT_FOUND) {
		br_err("stream %s: not found (create it with --create-stream)",
		       o->stream);
		return BR_EJS;
	}
	if (s != NATS_OK)
		return br_nats_fail(o->stream, s, BR_EJS);
	snprintf(name, cap, "%s", o->stream);
	return 0;
}

/* ---- the ring ------------------------------------------------------------ */

int br_ring_open(const struct br_opts *o, enum shmring_role role, shmring **out)
{
	int rc = shmring_open(o->ring, role, out);

	for (int i = 0; rc == SHMRING_ENOENT && i < 3; i++) {
		rc = shmring_create(o->ring, &o->geom, role, out);
		if (rc == SHMRING_EEXIST)
			rc = shmring_open(o->ring, role, out);
	}
	return rc == SHMRING_OK ? 0 : br_ring_fail(o->ring, rc);
}

int br_ring_id(const char *ring, char *out, size_t cap, uint64_t *created)
{
	shmring_info info;
	int rc = shmring_inspect(ring, &info);

	if (rc != SHMRING_OK)
		return br_ring_fail(ring, rc);
	*created = info.created_ns;
	snprintf(out, cap, "%s:%" PRIu64, ring, info.created_ns);
	return 0;
}

/* ---- reports ------------------------------------------------------------- */

void br_progress(struct br_stats *s, const struct br_opts *o, const char *dir,
                 struct br_conn *c)
{
	double now = br_now(), dt = now - s->last_t;
	int up;

	if (o->progress <= 0 || dt < o->progress)
		return;
	pthread_mutex_lock(&c->mu);
	up = c->connected;
	pthread_mutex_unlock(&c->mu);
	fprintf(stderr,
	        "shmring-bridge %s: %" PRIu64 " msgs, %.0f msgs/s, %.2f MB/s, "
	        "%" PRIu64 " dups skipped, %" PRIu64 " republished, %s\n",
	        dir, s->msgs, (double)(s->msgs - s->last_msgs) / dt,
	        (double)(s->bytes - s->last_bytes) / dt / 1e6, s->dups,
	        s->republished, up ? "connected" : "disconnected");
	s->last_t = now;
	s->last_msgs = s->msgs;
	s->last_bytes = s->bytes;
}

void br_summary(const struct br_stats *s, const struct br_opts *o,
                const char *dir, const char *end)
{
	double dt = br_now() - s->t0;

	if (o->quiet)
		return;
	if (dt <= 0)
		dt = 1e-9;
	fprintf(stderr,
	        "shmring-bridge %s: %" PRIu64 " messages, %" PRIu64
	        " bytes, %.3f s, %.0f msgs/s, %.2f MB/s, %" PRIu64
	        " duplicates skipped, %" PRIu64 " republished, end: %s\n",
	        dir, s->msgs, s->bytes, dt, (double)s->msgs / dt,
	        (double)s->bytes / dt / 1e6, s->dups, s->republished, end);
}
