/* SPDX-License-Identifier: MIT */
/*
 * in.c -- shmring-bridge in: JetStream -> ring.
 *
 * A durable pull consumer is fetched in batches of --batch; each batch is
 * claimed in the ring (shmring_claimv), copied, committed with one
 * shmring_commitv and only then acknowledged (AckAll on its last message,
 * or each message with --ack-explicit). A full ring blocks the claim, so
 * nothing more is fetched: the backlog stays in the stream.
 *
 * Duplicates. A bridge killed between a commit and its ack gets the batch
 * again, so the bridge remembers L, the stream sequence of the last
 * message it committed, in a small state file, and skips (and acks) every
 * message at or below it. Before each commit it writes (ring created_ns,
 * L before the batch, L after it, the ring index of the batch's first
 * claim); on restart the batch was committed iff the ring's head is past
 * that index (shmring_info.head > index: the commit is one index store).
 *
 * Order. A server delivers a new message before one it delivered and got
 * no ack for (a bridge that died, a connection that dropped mid-batch),
 * so at start and after every reconnect the bridge checks the consumer:
 * unless its ack floor and last delivery both equal L with nothing
 * pending, it deletes and re-creates it to deliver from L + 1. The
 * consumer then hands over the stream in order from the first message
 * not yet in the ring, with no wait for AckWait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

#define CAP         SHMRING_BATCH_MAX
#define STATE_MAGIC 0x3174734962725373ull /* "sSrbIst1" */
#define NO_INDEX    UINT64_MAX

/* The state file: one record, rewritten in place before each commit. A
 * process kill loses no write (the page cache survives it); a reboot
 * loses /dev/shm, the ring included. */
struct in_state {
	uint64_t magic;
	uint64_t created_ns;  /* the ring's identity */
	uint64_t seq_before;  /* L before the batch */
	uint64_t seq_after;   /* L after it */
	uint64_t first_index; /* ring index of its first claim; NO_INDEX:
	                         nothing claimed (seq_after holds) */
	uint64_t origin_before, index_before; /* the last record committed */
	uint64_t origin_after, index_after;   /* before and after the batch */
	uint64_t check;                       /* of the words above */
};

/* One ring message to commit: a whole JetStream message, or one record
 * of a pack (out --pack). */
struct item {
	const void *data;
	size_t len;
	uint64_t done; /* L once this is committed (its message's sequence
	                  if it is the message's last record) */
	uint64_t origin, index; /* origin 0: no ring index known */
};

struct in {
	const struct br_opts *o;
	struct br_conn c;
	shmring *r;
	natsSubscription *sub;
	char stream[256];
	char state_path[512];
	int state_fd;
	uint64_t created; /* the ring's created_ns */
	uint64_t last;    /* L: stream seq of the last message committed */
	uint64_t last_origin, last_index; /* the last record committed */
	int have_state;                   /* L comes from the state file */
	struct item *items;
	size_t nitems, capitems;
	uint64_t reconnects; /* seen by the last bind */
	struct br_stats st;
	double progress_t; /* last InProgress sent while the ring is full */
};

static uint64_t state_check(const struct in_state *s)
{
	const uint64_t *w = &s->magic;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < offsetof(struct in_state, check) / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	return h;
}

static int state_open(struct in *b)
{
	struct in_state s;
	shmring_info info;
	ssize_t n;
	int rc;

	if (b->o->state)
		snprintf(b->state_path, sizeof b->state_path, "%s",
		         b->o->state);
	else
		snprintf(b->state_path, sizeof b->state_path,
		         "/dev/shm/shmring-bridge-in.%s.%s", b->o->ring,
		         b->o->durable);
	b->state_fd = open(b->state_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (b->state_fd < 0) {
		br_err("%s: %s", b->state_path, strerror(errno));
		return BR_ESTATE;
	}
	n = pread(b->state_fd, &s, sizeof s, 0);
	if (n == 0)
		return 0; /* new: L from the consumer */
	if (n != (ssize_t)sizeof s || s.magic != STATE_MAGIC ||
	    s.check != state_check(&s)) {
		br_err("%s: not a state file of shmring-bridge in (remove it "
		       "to start from the consumer's ack floor)",
		       b->state_path);
		return BR_ESTATE;
	}
	rc = shmring_inspect(b->o->ring, &info);
	if (rc != SHMRING_OK)
		return br_ring_fail(b->o->ring, rc);
	/* The batch was committed iff the head passed its first claim; on a
	 * ring made anew since, assume it was not (at least once). */
	if (s.first_index == NO_INDEX ||
	    (s.created_ns == info.created_ns && info.head > s.first_index)) {
		b->last = s.seq_after;
		b->last_origin = s.origin_after;
		b->last_index = s.index_after;
	} else {
		b->last = s.seq_before;
		b->last_origin = s.origin_before;
		b->last_index = s.index_before;
	}
	b->have_state = 1;
	return 0;
}

static int state_write(struct in *b, const struct item *after,
                       uint64_t first_index)
{
	struct in_state s = {
	        .magic = STATE_MAGIC,
	        .created_ns = b->created,
	        .seq_before = b->last,
	        .seq_after = after->done,
	        .first_index = first_index,
	        .origin_before = b->last_origin,
	        .index_before = b->last_index,
	        .origin_after = after->origin ? after->origin : b->last_origin,
	        .index_after = after->origin ? after->index : b->last_index,
	};

	s.check = state_check(&s);
	if (pwrite(b->state_fd, &s, sizeof s, 0) != (ssize_t)sizeof s) {
		br_err("%s: %s", b->state_path, strerror(errno));
		return BR_ESTATE;
	}
	b->have_state = 1;
	return 0;
}

/* ---- the consumer ---------------------------------------------------------
 */

static natsStatus add_consumer(struct in *b, uint64_t from, jsErrCode *jerr)
{
	jsConsumerConfig cc;
	jsConsumerInfo *ci = NULL;
	natsStatus s;

	jsConsumerConfig_Init(&cc);
	cc.Durable = b->o->durable;
	cc.AckPolicy = b->o->ack_explicit ? js_AckExplicit : js_AckAll;
	cc.AckWait = (int64_t)(b->o->ack_wait * 1e9);
	cc.MaxAckPending = 4 * (int64_t)CAP;
	cc.MaxDeliver = -1;
	cc.FilterSubject = b->o->subject;
	if (from > 1) {
		cc.DeliverPolicy = js_DeliverByStartSequence;
		cc.OptStartSeq = from;
	}
	s = js_AddConsumer(&ci, b->c.js, b->stream, &cc, NULL, jerr);
	jsConsumerInfo_Destroy(ci);
	return s;
}

/* Make the consumer deliver from L + 1, in order (see the top). */
static natsStatus position(struct in *b, jsErrCode *jerr)
{
	jsConsumerInfo *ci = NULL;
	natsStatus s;
	int fresh;

	s = js_GetConsumerInfo(&ci, b->c.js, b->stream, b->o->durable, NULL,
	                       jerr);
	if (s == NATS_NOT_FOUND)
		return add_consumer(b, b->last + 1, jerr);
	if (s != NATS_OK)
		return s;
	if (!b->have_state)
		b->last = ci->AckFloor.Stream;
	fresh = ci->AckFloor.Stream == b->last &&
	        ci->Delivered.Stream == b->last && ci->NumAckPending == 0;
	jsConsumerInfo_Destroy(ci);
	if (fresh)
		return NATS_OK;
	if (b->o->progress > 0)
		br_err("in: consumer %s: delivering again from stream "
		       "sequence %" PRIu64,
		       b->o->durable, b->last + 1);
	s = js_DeleteConsumer(b->c.js, b->stream, b->o->durable, NULL, jerr);
	if (s != NATS_OK && s != NATS_NOT_FOUND)
		return s;
	return add_consumer(b, b->last + 1, jerr);
}

static int bind(struct in *b)
{
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	natsSubscription_Destroy(b->sub);
	b->sub = NULL;
	pthread_mutex_lock(&b->c.mu);
	b->reconnects = b->c.reconnects;
	pthread_mutex_unlock(&b->c.mu);
	s = position(b, &jerr);
	if (s == NATS_OK) {
		jsSubOptions_Init(&so);
		so.Stream = b->stream;
		so.Consumer = b->o->durable;
		so.ManualAck = true;
		s = js_PullSubscribe(&b->sub, b->c.js, b->o->subject,
		                     b->o->durable, NULL, &so, &jerr);
	}
	if (s == NATS_OK)
		return 0;
	if (jerr && jerr != JSStreamNotFoundErr && s != NATS_TIMEOUT) {
		char what[300];
		snprintf(what, sizeof what, "consumer %s (error %d)",
		         b->o->durable, (int)jerr);
		return br_nats_fail(what, s, BR_EJS);
	}
	return -1; /* not now: the connection is down; try again */
}

/* ---- the ring -------------------------------------------------------------
 */

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

/* While the ring is full: keep the batch's messages from redelivery. */
static void keep_alive(struct in *b, natsMsg **m, size_t n)
{
	double now = br_now();

	if (now - b->progress_t < b->o->ack_wait / 3)
		return;
	b->progress_t = now;
	for (size_t i = 0; i < n; i++)
		natsMsg_InProgress(m[i], NULL);
}

/* Claim room for @n messages (at least the first). 0 with *@got >= 1,
 * or an exit status. */
static int claim(struct in *b, natsMsgList *list, const struct item *it,
                 size_t n, shmring_buf *bufs, size_t *got)
{
	int said = 0;

	if (n > CAP)
		n = CAP;
	for (size_t i = 0; i < n; i++)
		bufs[i].len = it[i].len;
	b->progress_t = br_now();
	for (;;) {
		int rc = shmring_claimv(b->r, bufs, n, got, 100);
		if (rc == SHMRING_OK)
			return 0;
		if (br_stop)
			return BR_EINTR;
		if (rc == SHMRING_EMSGSIZE) {
			br_err("%s: a message of %zu bytes is larger than the "
			       "ring takes (%zu)",
			       b->o->ring, bufs[0].len, shmring_max_msg(b->r));
			return BR_EMSGSIZE;
		}
		if (rc == SHMRING_ECLOSED || rc == SHMRING_EPEERDEAD) {
			/* No reader: the stream keeps the backlog until one
			 * attaches again. */
			if (!said++ && b->o->progress > 0)
				br_err("%s: %s; waiting for a reader",
				       b->o->ring, shmring_strerror(rc));
			sleep_s(0.1);
		} else if (rc != SHMRING_ETIMEDOUT && rc != SHMRING_EINTR &&
		           rc != SHMRING_EAGAIN) {
			return br_ring_fail(b->o->ring, rc);
		}
		keep_alive(b, list->Msgs, (size_t)list->Count);
		br_progress(&b->st, b->o, "in", &b->c);
	}
}

/* Commit the items gathered from @list to the ring, in chunks of what
 * fits, each with its state record written first. */
static int commit(struct in *b, natsMsgList *list)
{
	shmring_buf bufs[CAP];
	const struct item *it = b->items;
	size_t got, done = 0, n = b->nitems;
	uint64_t first;
	int rc;

	while (done < n) {
		rc = claim(b, list, it + done, n - done, bufs, &got);
		if (rc)
			return rc;
		for (size_t i = 0; i < got; i++)
			memcpy(bufs[i].data, it[done + i].data, bufs[i].len);
		shmring_pending_index(b->r, 0, &first);
		const struct item *last = &it[done + got - 1];
		rc = state_write(b, last, first);
		if (rc)
			return rc;
		rc = shmring_commitv(b->r, NULL, got);
		if (rc != SHMRING_OK)
			return br_ring_fail("commit", rc);
		b->last = last->done;
		if (last->origin) {
			b->last_origin = last->origin;
			b->last_index = last->index;
		}
		for (size_t i = 0; i < got; i++)
			b->st.bytes += bufs[i].len;
		b->st.msgs += got;
		done += got;
	}
	b->nitems = 0;
	return 0;
}

static int add_item(struct in *b, const void *data, size_t len, uint64_t done,
                    uint64_t origin, uint64_t index)
{
	if (origin && origin == b->last_origin && index <= b->last_index &&
	    b->last_origin) {
		b->st.dups++; /* a copy sent again by a restarted out */
		return 0;
	}
	/* Records arrive in index order: skip the ones committed already in
	 * this very batch too (a pack sent again in two shapes). */
	if (origin && b->nitems) {
		const struct item *l = &b->items[b->nitems - 1];
		if (l->origin == origin && index <= l->index) {
			b->st.dups++;
			return 0;
		}
	}
	if (b->nitems == b->capitems) {
		size_t nc = b->capitems ? 2 * b->capitems : 4096;
		struct item *ni = realloc(b->items, nc * sizeof *ni);
		if (!ni)
			return BR_ENOMEM;
		b->items = ni;
		b->capitems = nc;
	}
	b->items[b->nitems++] = (struct item){data, len, done, origin, index};
	return 0;
}

/* The origin of a message id "<ring>:<created_ns>:<rest>" (a hash of the
 * part before the last ':', never 0) and the number after it; 0 if the
 * message has no such id (not from shmring-bridge out). */
static uint64_t origin_of(natsMsg *m, uint64_t *index)
{
	const char *id = NULL, *colon;
	uint64_t h = 0xcbf29ce484222325ull;

	if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !id)
		return 0;
	colon = strrchr(id, ':');
	if (!colon)
		return 0;
	for (const char *p = id; p < colon; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	*index = strtoull(colon + 1, NULL, 10);
	return h ? h : 1;
}

/* Split a pack (out --pack) into its records. */
static int add_pack(struct in *b, natsMsg *m, uint64_t seq, uint64_t origin)
{
	const unsigned char *p = (const unsigned char *)natsMsg_GetData(m);
	size_t left = (size_t)natsMsg_GetDataLength(m);
	uint64_t prev_done = b->nitems ? b->items[b->nitems - 1].done : b->last;
	int rc;

	while (left > 0) {
		uint64_t index;
		uint32_t len;
		if (left < BR_REC_HDR)
			goto bad;
		memcpy(&index, p, 8);
		memcpy(&len, p + 8, 4);
		if (len > left - BR_REC_HDR)
			goto bad;
		left -= BR_REC_HDR + len;
		rc = add_item(b, p + BR_REC_HDR, len, left ? prev_done : seq,
		              origin ? origin : 1, index);
		if (rc)
			return rc;
		p += BR_REC_HDR + len;
	}
	return 0;
bad:
	br_err("in: stream sequence %" PRIu64 ": a malformed pack (skipped)",
	       seq);
	b->st.errors++;
	return 0;
}

/* The end-of-stream marker at stream sequence @seq: everything before it
 * is committed. "closed": close the ring (the reader gets ECLOSED after
 * the last message), exit 0. "dead": leave it without a close (the reader
 * gets EPEERDEAD), exit 8. */
static int end_of_stream(struct in *b, natsMsg *m, uint64_t seq)
{
	const char *kind = NULL;
	int rc;

	natsMsgHeader_Get(m, BR_HDR_EOS, &kind);
	struct item mark = {NULL, 0, seq, 0, 0};

	rc = state_write(b, &mark, NO_INDEX);
	if (rc)
		return rc;
	b->last = seq;
	if (kind && !strcmp(kind, "closed")) {
		shmring_close(b->r);
		b->r = NULL;
	}
	natsMsg_AckSync(m, NULL, NULL);
	return b->r ? BR_EPEERDEAD : BR_OK;
}

static void ack(struct in *b, natsMsg **m, size_t n)
{
	if (!n)
		return;
	if (!b->o->ack_explicit) {
		natsMsg_Ack(m[n - 1], NULL); /* AckAll: this one and before */
		return;
	}
	for (size_t i = 0; i < n; i++)
		natsMsg_Ack(m[i], NULL);
}

/* One fetched batch. -1 to go on, or an exit status. */
static int batch(struct in *b, natsMsgList *list)
{
	int rc;

	b->nitems = 0;
	for (int i = 0; i < list->Count; i++) {
		natsMsg *m = list->Msgs[i];
		jsMsgMetaData *meta = NULL;
		const char *hv = NULL;
		uint64_t s, origin, index = 0;

		if (natsMsg_GetMetaData(&meta, m) != NATS_OK)
			continue; /* not from JetStream: a status message */
		s = meta->Sequence.Stream;
		jsMsgMetaData_Destroy(meta);
		if (s <= b->last) {
			b->st.dups++; /* redelivered */
			continue;
		}
		if (natsMsgHeader_Get(m, BR_HDR_EOS, &hv) == NATS_OK) {
			rc = commit(b, list);
			if (rc)
				return rc;
			return end_of_stream(b, m, s);
		}
		origin = origin_of(m, &index);
		if (natsMsgHeader_Get(m, BR_HDR_PACK, &hv) == NATS_OK)
			rc = add_pack(b, m, s, origin);
		else
			rc = add_item(b, natsMsg_GetData(m),
			              (size_t)natsMsg_GetDataLength(m), s,
			              origin, index);
		if (rc)
			return rc;
	}
	rc = commit(b, list);
	if (rc)
		return rc;
	if (b->o->ack_explicit)
		ack(b, list->Msgs, (size_t)list->Count);
	else if (list->Count > 0)
		ack(b, &list->Msgs[list->Count - 1], 1);
	return -1;
}

static int run(struct in *b)
{
	double backoff = 0.05;
	int rc;

	for (;;) {
		natsMsgList list = {0};
		jsErrCode jerr = 0;
		natsStatus s;
		uint64_t rec;

		br_progress(&b->st, b->o, "in", &b->c);
		if (br_stop)
			return BR_EINTR;
		pthread_mutex_lock(&b->c.mu);
		rec = b->c.reconnects;
		pthread_mutex_unlock(&b->c.mu);
		if (!b->sub || rec != b->reconnects) {
			rc = bind(b);
			if (rc > 0)
				return rc;
			if (rc < 0) {
				sleep_s(backoff);
				backoff = backoff * 2 < 1 ? backoff * 2 : 1;
				continue;
			}
		}
		s = natsSubscription_Fetch(&list, b->sub, b->o->batch, 500,
		                           &jerr);
		if (s == NATS_OK) {
			backoff = 0.05;
			rc = batch(b, &list);
			natsMsgList_Destroy(&list);
			if (rc >= 0)
				return rc;
		} else if (s != NATS_TIMEOUT) {
			natsMsgList_Destroy(&list);
			b->st.errors++;
			if (s == NATS_NOT_FOUND ||
			    jerr == JSConsumerNotFoundErr) {
				natsSubscription_Destroy(b->sub);
				b->sub = NULL; /* deleted under us: again */
			}
			sleep_s(backoff);
			backoff = backoff * 2 < 1 ? backoff * 2 : 1;
		}
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

int br_in(const struct br_opts *o)
{
	struct in *b = calloc(1, sizeof *b);
	shmring_info info;
	int rc;

	if (!b)
		return BR_ENOMEM;
	b->o = o;
	b->state_fd = -1;
	rc = br_ring_open(o, SHMRING_PRODUCER, &b->r);
	if (!rc) {
		rc = shmring_inspect(o->ring, &info);
		rc = rc == SHMRING_OK ? 0 : br_ring_fail(o->ring, rc);
		b->created = info.created_ns;
	}
	if (!rc)
		rc = state_open(b);
	if (!rc)
		rc = br_connect(&b->c, o, 0, NULL, NULL);
	if (!rc)
		rc = br_stream(&b->c, o, b->stream, sizeof b->stream);
	if (!rc) {
		b->st.t0 = b->st.last_t = br_now();
		br_signals_main();
		rc = run(b);
		br_summary(&b->st, o, "in", end_name(rc));
	}
	/* Only the "closed" marker closes the ring: on a stop, an error or a
	 * "dead" marker the reader sees EPEERDEAD, as if the bridge had
	 * crashed, and a restarted bridge takes the role over. */
	br_left_open = b->r;
	natsSubscription_Destroy(b->sub);
	if (b->c.nc)
		br_disconnect(&b->c);
	if (b->state_fd >= 0)
		close(b->state_fd);
	free(b->items);
	free(b);
	return rc;
}
