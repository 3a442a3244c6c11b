/* SPDX-License-Identifier: MIT */
/*
 * out.c -- shmring-bridge out: ring -> JetStream.
 *
 * Messages are peeked in place (shmring_peekv) and published with
 * js_PublishMsgAsync, at most --max-pending in flight. Each carries
 * Nats-Msg-Id "<ring>:<created_ns>:<index>" (shmring_pending_index: the
 * same for the same message after a restart, never reused), so that the
 * stream's duplicate window drops what a restarted bridge sends again,
 * and Nats-Expected-Last-Msg-Id naming the message before it, so that the
 * stream stores the ring's messages in ring order or not at all: after a
 * lost connection, a message whose predecessor never reached the server
 * is refused instead of stored out of order. Messages leave the ring
 * (shmring_releasev) only in ring order, up to the oldest not yet
 * acknowledged. Any failure (a refusal, an ack not back within
 * --pub-timeout, a lost connection) stops new publishes until every
 * publish in flight is settled, then publishes again from the oldest
 * unacknowledged message, with the same ids.
 *
 * Threads: nats.c calls on_ack() from its own thread; the table below
 * and its counters are shared under c.mu, everything else is the main
 * thread's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"

#define CAP SHMRING_BATCH_MAX

enum { P_FLIGHT, P_ACKED, P_FAILED };

struct ent {
	const void *data; /* in the ring: peeked, not released */
	size_t len;
	uint64_t index; /* shmring_pending_index() */
};

/* One JetStream message: the next @n peeked ring messages. */
struct pack {
	size_t n;
	natsMsg *msg; /* while in flight (owned by nats.c) */
	int st;
	char id[BR_ID_MAX];
};

struct out {
	const struct br_opts *o;
	struct br_conn c;
	shmring *r;
	char rid[BR_RID_MAX]; /* "<ring>:<created_ns>" */
	jsPubOptions po;
	/* main thread only */
	struct ent tab[CAP]; /* tab[(base + i) % CAP]: the i-th peeked */
	size_t base, npeek, npub;
	char prev_id[BR_ID_MAX]; /* the last pack published, in order */
	char rel_id[BR_ID_MAX];  /* the last pack released */
	unsigned char *buf;      /* a pack being framed */
	size_t bufcap;
	struct br_stats st;
	/* shared with on_ack() under c.mu */
	struct pack pk[CAP]; /* pk[(pbase + i) % CAP]: the i-th in order */
	size_t pbase, npk, hint;
	size_t inflight, failed;
	int fatal; /* a refusal that sending again will not cure */
	char why[256];
};

static struct ent *ent(struct out *b, size_t i)
{
	return &b->tab[(b->base + i) % CAP];
}

static struct pack *pk(struct out *b, size_t i)
{
	return &b->pk[(b->pbase + i) % CAP];
}

static int transient(const jsPubAckErr *pae)
{
	switch (pae->Err) {
	case NATS_TIMEOUT:
	case NATS_NO_RESPONDERS:
	case NATS_CONNECTION_CLOSED:
	case NATS_CONNECTION_DISCONNECTED:
	case NATS_STALE_CONNECTION:
	case NATS_NOT_YET_CONNECTED:
		return 1;
	default:
		/* 10070: the predecessor is not the stream's last message */
		return pae->ErrCode == JSStreamWrongLastMsgIDErr ||
		       pae->ErrCode == 0;
	}
}

/* nats.c's thread: the ack (or the failure) of one async publish. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
                   void *closure)
{
	struct out *b = closure;
	size_t i, n;

	(void)js;
	pthread_mutex_lock(&b->c.mu);
	n = b->npk;
	for (i = 0; i < n; i++) {
		struct pack *p = pk(b, (b->hint + i) % n);
		if (p->st == P_FLIGHT && p->msg == msg) {
			p->msg = NULL;
			p->st = pa ? P_ACKED : P_FAILED;
			b->hint = (b->hint + i + 1) % n;
			b->inflight--;
			break;
		}
	}
	if (!pa) {
		b->failed++;
		if (pae && !transient(pae) && !b->fatal) {
			b->fatal = 1;
			snprintf(b->why, sizeof b->why, "%s (error %d: %s)",
			         natsStatus_GetText(pae->Err),
			         (int)pae->ErrCode,
			         pae->ErrText ? pae->ErrText : "");
		}
	}
	pthread_cond_broadcast(&b->c.cv);
	pthread_mutex_unlock(&b->c.mu);
	natsMsg_Destroy(msg);
}

static void wait_cv(struct out *b, double secs)
{
	struct timespec ts;
	long ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = ts.tv_nsec + (long)(secs * 1e9);
	ts.tv_sec += ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	pthread_cond_timedwait(&b->c.cv, &b->c.mu, &ts);
}

/* How many peeked messages from position @from go in the next pack. */
static size_t pack_size(struct out *b, size_t from, size_t *bytes)
{
	size_t n = 0, sz = 0;

	if (b->o->pack == 1) {
		*bytes = ent(b, from)->len;
		return 1;
	}
	while (from + n < b->npeek && n < (size_t)b->o->pack) {
		size_t add = BR_REC_HDR + ent(b, from + n)->len;
		if (n && sz + add > (size_t)b->o->pack_bytes)
			break;
		sz += add;
		n++;
	}
	*bytes = sz;
	return n;
}

/* The JetStream message for @n ring messages from position @from: one
 * message as it is (--pack 1), or records of (u64 index, u32 length,
 * bytes), little-endian. */
static natsStatus make_msg(struct out *b, size_t from, size_t n, size_t sz,
                           natsMsg **m)
{
	unsigned char *q;

	if (b->o->pack == 1)
		return natsMsg_Create(m, b->o->subject, NULL,
		                      ent(b, from)->data, (int)sz);
	if (sz > b->bufcap) {
		unsigned char *nb = realloc(b->buf, sz);
		if (!nb)
			return NATS_NO_MEMORY;
		b->buf = nb;
		b->bufcap = sz;
	}
	q = b->buf;
	for (size_t i = 0; i < n; i++) {
		const struct ent *e = ent(b, from + i);
		uint32_t len = (uint32_t)e->len;
		memcpy(q, &e->index, 8);
		memcpy(q + 8, &len, 4);
		memcpy(q + BR_REC_HDR, e->data, e->len);
		q += BR_REC_HDR + e->len;
	}
	return natsMsg_Create(m, b->o->subject, NULL, (const char *)b->buf,
	                      (int)sz);
}

static void set_id(struct out *b, size_t from, size_t n, char *id)
{
	if (b->o->pack == 1)
		snprintf(id, BR_ID_MAX, "%s:%" PRIu64, b->rid,
		         ent(b, from)->index);
	else
		snprintf(id, BR_ID_MAX, "%s:%" PRIu64 "-%" PRIu64, b->rid,
		         ent(b, from)->index, ent(b, from + n - 1)->index);
}

/* Publish the next pack. 0, or 1 on a failure to send (handled as a
 * failed publish). */
static int publish(struct out *b)
{
	size_t sz, n = pack_size(b, b->npub, &sz);
	struct pack *p;
	natsMsg *m = NULL;
	char count[16];
	natsStatus s;

	pthread_mutex_lock(&b->c.mu);
	p = pk(b, b->npk);
	pthread_mutex_unlock(&b->c.mu);
	set_id(b, b->npub, n, p->id);
	s = make_msg(b, b->npub, n, sz, &m);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", p->id);
	if (s == NATS_OK && b->o->pack > 1) {
		snprintf(count, sizeof count, "%zu", n);
		s = natsMsgHeader_Set(m, BR_HDR_PACK, count);
	}
	if (s == NATS_OK && b->prev_id[0])
		s = natsMsgHeader_Set(m, "Nats-Expected-Last-Msg-Id",
		                      b->prev_id);
	pthread_mutex_lock(&b->c.mu);
	p->n = n;
	p->msg = m;
	p->st = P_FLIGHT;
	b->npk++;
	b->inflight++;
	pthread_mutex_unlock(&b->c.mu);
	b->npub += n;
	memcpy(b->prev_id, p->id, sizeof b->prev_id);
	if (s == NATS_OK)
		s = js_PublishMsgAsync(b->c.js, &m, &b->po);
	if (s == NATS_OK)
		return 0;
	pthread_mutex_lock(&b->c.mu);
	p->msg = NULL;
	p->st = P_FAILED;
	b->inflight--;
	b->failed++;
	if (s == NATS_MAX_PAYLOAD && !b->fatal) {
		b->fatal = 1;
		snprintf(b->why, sizeof b->why,
		         "a message of %zu bytes: %s (raise max_payload on "
		         "the server, or lower --pack-bytes)",
		         sz, natsStatus_GetText(s));
	}
	pthread_mutex_unlock(&b->c.mu);
	natsMsg_Destroy(m);
	b->st.errors++;
	return 1;
}

/* Release the acknowledged prefix: the ring gives the slots back. */
static int release_acked(struct out *b)
{
	size_t k = 0, m = 0;
	int rc;

	pthread_mutex_lock(&b->c.mu);
	while (k < b->npk && pk(b, k)->st == P_ACKED)
		m += pk(b, k++)->n;
	if (k)
		memcpy(b->rel_id, pk(b, k - 1)->id, sizeof b->rel_id);
	pthread_mutex_unlock(&b->c.mu);
	if (!k)
		return 0;
	rc = shmring_releasev(b->r, m);
	if (rc != SHMRING_OK)
		return br_ring_fail("releasing messages", rc);
	for (size_t i = 0; i < m; i++)
		b->st.bytes += ent(b, i)->len;
	b->base = (b->base + m) % CAP;
	b->npeek -= m;
	b->npub -= m;
	pthread_mutex_lock(&b->c.mu);
	b->pbase = (b->pbase + k) % CAP;
	b->npk -= k;
	b->hint = b->hint >= k ? b->hint - k : 0;
	pthread_mutex_unlock(&b->c.mu);
	b->st.msgs += m;
	return 0;
}

/* After a failure: once nothing is in flight and the connection is up,
 * publish again from the oldest unacknowledged message. */
static void recover(struct out *b, double *backoff)
{
	pthread_mutex_lock(&b->c.mu);
	if (b->inflight > 0 || !b->c.connected) {
		wait_cv(b, 0.05);
		pthread_mutex_unlock(&b->c.mu);
		return;
	}
	b->npk = 0;
	b->hint = 0;
	b->failed = 0;
	pthread_mutex_unlock(&b->c.mu);
	b->st.republished += b->npub;
	b->npub = 0;
	memcpy(b->prev_id, b->rel_id, sizeof b->prev_id);
	if (b->o->progress > 0)
		br_err("out: publishing again from the oldest unacknowledged "
		       "message");
	struct timespec ts = {0, (long)(*backoff * 1e9)};
	nanosleep(&ts, NULL);
	*backoff = *backoff * 2 < 1 ? *backoff * 2 : 1;
}

/* Take newly published messages from the ring into the table. */
static int peek_more(struct out *b, int *gone)
{
	shmring_msg v[CAP];
	size_t got = 0;
	int tmo = b->npeek ? 0 : 200;
	int rc = shmring_peekv(b->r, v, (size_t)b->o->max_pending, &got, tmo);

	if (rc == SHMRING_ECLOSED || rc == SHMRING_EPEERDEAD) {
		*gone = rc;
		return 0;
	}
	if (rc == SHMRING_ETIMEDOUT || rc == SHMRING_EAGAIN ||
	    rc == SHMRING_EINTR)
		return 0;
	if (rc != SHMRING_OK)
		return br_ring_fail(b->o->ring, rc);
	for (size_t i = b->npeek; i < got; i++) {
		struct ent *e = ent(b, i);
		e->data = v[i].data;
		e->len = v[i].len;
		shmring_pending_index(b->r, i, &e->index);
	}
	if (got > b->npeek)
		b->npeek = got;
	return 0;
}

/* The end-of-stream marker, published and acknowledged synchronously. */
static int send_marker(struct out *b, int gone)
{
	shmring_info info;
	char id[BR_ID_MAX];
	const char *kind = gone == SHMRING_ECLOSED ? "closed" : "dead";
	int expect = b->rel_id[0] != '\0', rc;

	rc = shmring_inspect(b->o->ring, &info);
	if (rc != SHMRING_OK)
		return br_ring_fail(b->o->ring, rc);
	snprintf(id, sizeof id, "%s:%s:%" PRIu64, b->rid, kind, info.tail);
	for (double wait = 0.05; !br_stop;) {
		natsMsg *m = NULL;
		jsPubAck *pa = NULL;
		jsErrCode jerr = 0;
		natsStatus s = natsMsg_Create(&m, b->o->subject, NULL, NULL, 0);

		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, BR_HDR_EOS, kind);
		if (s == NATS_OK && expect)
			s = natsMsgHeader_Set(m, "Nats-Expected-Last-Msg-Id",
			                      b->rel_id);
		if (s == NATS_OK)
			s = js_PublishMsg(&pa, b->c.js, m, &b->po, &jerr);
		jsPubAck_Destroy(pa);
		natsMsg_Destroy(m);
		if (s == NATS_OK)
			return 0;
		if (jerr == JSStreamWrongLastMsgIDErr)
			expect =
			        0; /* sent before by this bridge's forerunner */
		else if (jerr != 0)
			return br_nats_fail("end-of-stream marker", s, BR_EJS);
		struct timespec ts = {0, (long)(wait * 1e9)};
		nanosleep(&ts, NULL);
		wait = wait * 2 < 1 ? wait * 2 : 1;
	}
	return BR_EINTR;
}

/* Publish what was peeked and not yet sent; 1 if anything was sent. */
static int publish_new(struct out *b)
{
	int sent = 0;

	pthread_mutex_lock(&b->c.mu);
	int ok = b->c.connected && !b->failed;
	pthread_mutex_unlock(&b->c.mu);
	while (ok && b->npub < b->npeek) {
		if (publish(b))
			break;
		sent = 1;
	}
	return sent;
}

/* SIGINT/SIGTERM: let what is in flight settle, release it, leave. */
static int stop(struct out *b)
{
	double deadline = br_now() + b->o->pub_timeout + 1;

	pthread_mutex_lock(&b->c.mu);
	while (b->inflight > 0 && br_now() < deadline)
		wait_cv(b, 0.05);
	pthread_mutex_unlock(&b->c.mu);
	release_acked(b);
	return BR_EINTR;
}

static int step(struct out *b, int *gone, double *backoff)
{
	int rc = release_acked(b), failed, sent;

	if (rc)
		return rc;
	pthread_mutex_lock(&b->c.mu);
	failed = b->failed > 0;
	if (b->fatal) {
		pthread_mutex_unlock(&b->c.mu);
		br_err("out: JetStream refused a message: %s", b->why);
		return BR_EJS;
	}
	pthread_mutex_unlock(&b->c.mu);
	if (failed) {
		recover(b, backoff);
		return -1;
	}
	if (br_stop)
		return stop(b);
	if (*gone && b->npeek == 0) {
		rc = send_marker(b, *gone);
		if (rc)
			return rc;
		return *gone == SHMRING_ECLOSED ? BR_OK : BR_EPEERDEAD;
	}
	if (!*gone && b->npeek < (size_t)b->o->max_pending) {
		rc = peek_more(b, gone);
		if (rc)
			return rc;
	}
	sent = publish_new(b);
	if (sent)
		*backoff = 0.05;
	pthread_mutex_lock(&b->c.mu);
	if (!sent && (b->inflight > 0 || !b->c.connected))
		wait_cv(b, b->npeek < (size_t)b->o->max_pending ? 0.001 : 0.05);
	pthread_mutex_unlock(&b->c.mu);
	return -1;
}

static int run(struct out *b)
{
	int gone = 0, rc;
	double backoff = 0.05;

	for (;;) {
		br_progress(&b->st, b->o, "out", &b->c);
		rc = step(b, &gone, &backoff);
		if (rc >= 0)
			return rc;
	}
}

static const char *end_name(int rc)
{
	switch (rc) {
	case BR_OK:
		return "closed";
	case BR_EPEERDEAD:
		return "producer died";
	case BR_EINTR:
		return "interrupted";
	default:
		return "error";
	}
}

int br_out(const struct br_opts *o)
{
	struct out *b = calloc(1, sizeof *b);
	char stream[256];
	uint64_t created;
	int rc;

	if (!b)
		return BR_ENOMEM;
	b->o = o;
	jsPubOptions_Init(&b->po);
	b->po.MaxWait = (int64_t)(o->pub_timeout * 1000);
	rc = br_ring_open(o, SHMRING_CONSUMER, &b->r);
	if (!rc)
		rc = br_ring_id(o->ring, b->rid, sizeof b->rid, &created);
	if (!rc)
		rc = br_connect(&b->c, o, o->max_pending, on_ack, b);
	if (!rc)
		rc = br_stream(&b->c, o, stream, sizeof stream);
	if (!rc) {
		b->st.t0 = b->st.last_t = br_now();
		br_signals_main();
		rc = run(b);
		br_summary(&b->st, o, "out", end_name(rc));
	}
	if (rc == BR_OK || rc == BR_EPEERDEAD)
		shmring_close(b->r);
	else
		br_left_open = b->r;
	/* Otherwise the ring is left as by a crash: what is not released
	 * stays there for the bridge that takes over, and the producer is
	 * not told the reader closed. */
	if (b->c.js) {
		/* Nothing may be left in flight: on_ack() uses b. */
		js_PublishAsyncComplete(b->c.js, &b->po);
	}
	if (b->c.nc)
		br_disconnect(&b->c);
	free(b->buf);
	free(b);
	return rc;
}
