/* SPDX-License-Identifier: MIT */
/*
 * transport.c -- shmring and its alternatives behind transport.h.
 *
 * Fairness rules, written down in docs/performance.md:
 * - Copy transports send from the endpoint's buffer (only the sequence
 *   number changes between messages) and receive into one; zero-copy
 *   transports have the driver write the whole message into the slot.
 * - Byte streams (pipe, SOCK_STREAM) carry fixed-size frames with no
 *   header: one write(2) per message, so each message is handed over as
 *   soon as it is sent, like shmring_send(); the reader is buffered (one
 *   read(2) fills up to 64 KiB or two messages, frames are used in place).
 * - Pipes get the same buffer as the shmring ring (F_SETPIPE_SZ, 64 KiB to
 *   1 MiB); sockets keep the system's default buffer sizes.
 * - POSIX queues use an unprivileged user's limits
 *   (/proc/sys/fs/mqueue/msg_max and msgsize_max), so larger messages are
 *   n/a rather than measured with root-only settings.
 * - ck_ring moves slot indices through ck_ring_enqueue_spsc /
 *   ck_ring_dequeue_spsc and the bytes through a side buffer of 2 x depth
 *   slots in the same MAP_SHARED mapping; an 8-byte message travels as the
 *   ring entry itself. Both sides spin (ck_pr_stall) and never sleep.
 * - Many producers (throughput only, c->producers TX ends of direction 0,
 *   one per producer process): shmring-mpsc* (an SHMRING_F_MPSC ring the
 *   consumer creates; every producer opens it), pipe-shared (one pipe
 *   whose write end every producer holds; frames <= PIPE_BUF bytes, so
 *   each write(2) is atomic and frames never interleave), unix-dgram (the
 *   consumer's AF_UNIX SOCK_DGRAM socket bound to an abstract name, each
 *   producer its own socket connected to it, the system's default queue
 *   length net.unix.max_dgram_qlen), zmq-push (a PULL socket that binds,
 *   one PUSH socket per producer that connects), ck_ring-mpsc
 *   (ck_ring_enqueue_mpsc / ck_ring_dequeue_mpsc, a side buffer of
 *   2 x depth slots per producer).
 */
#define _GNU_SOURCE
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"

#ifdef BENCH_HAVE_ZMQ
#include <zmq.h>
#endif
#ifdef BENCH_HAVE_CK
#include <ck_pr.h>
#include <ck_ring.h>
#endif

static unsigned tp_counter;

static void *tp_xalloc(size_t n)
{
	void *p = NULL;

	if (posix_memalign(&p, 64, n ? n : 64) != 0)
		return NULL;
	memset(p, 0, n);
	return p;
}

/* ---- shmring --------------------------------------------------------------
 * The producer creates the ring with slot_size = message size (or the
 * configuration's slot_size), the consumer opens it. "-sleep" variants call
 * shmring_set_spin(r, 0) on both sides: every wait goes straight to the
 * futex. The same code builds against the format-1 library (one message
 * per slot, no max_msg, no claimv/peekv), where the v2-only transport is
 * left out: scripts/bench.sh builds it both ways to compare the formats. */
#ifdef SHMRING_RECORD_HEADER
#define SR_V2 1 /* format version 2: records over slots */
#else
#define SR_V2 0
#endif
#if SR_V2 && defined(SHMRING_F_MPSC)
#define SR_MPSC 1 /* the library has many-producer rings */
#else
#define SR_MPSC 0
#endif

static int sr_sleep_only(const struct transport *t)
{
	return strstr(t->name, "-sleep") != NULL;
}

/* shmring-mpsc*: an SHMRING_F_MPSC ring, created by the consumer. */
static int sr_mpsc(const struct transport *t)
{
	return strncmp(t->name, "shmring-mpsc", 12) == 0;
}

static int sr_open(struct tp_end *e)
{
	const struct tp_ctx *c = e->c;
	int mpsc = sr_mpsc(c->t);
	/* the SPSC producer creates the ring, the MPSC consumer creates it */
	int creates = mpsc ? e->role == TP_RX : e->role == TP_TX;
	enum shmring_role role =
	        e->role == TP_TX ? SHMRING_PRODUCER : SHMRING_CONSUMER;
	shmring *r = NULL;
	int rc;

	if (creates) {
		shmring_config cfg = {.slot_size = c->slot_size
		                                           ? c->slot_size
		                                           : (uint32_t)c->size,
		                      .slot_count = c->slots};
#if SR_V2
		/* the default max_msg is half the ring's slot bytes */
		uint64_t half =
		        (bench_ring_bytes(cfg.slot_size, cfg.slot_count) -
		         4096) / 2 -
		        SHMRING_RECORD_HEADER;
		if (half < c->size)
			cfg.max_msg = (uint32_t)c->size;
#endif
#if SR_MPSC
		if (mpsc)
			cfg.flags = SHMRING_F_MPSC;
#endif
		rc = shmring_create(c->name[e->dir], &cfg, role, &r);
		if (mpsc && rc == SHMRING_EINVAL) {
			fprintf(stderr,
			        "shmring: create %s with "
			        "SHMRING_F_MPSC: %s (not implemented "
			        "in this build?)\n",
			        c->name[e->dir], shmring_strerror(rc));
			return BENCH_EXIT_UNSUP;
		}
	} else {
		uint64_t give_up = bench_now_ns() + 5000000000u;
		while ((rc = shmring_open(c->name[e->dir], role, &r)) ==
		               SHMRING_ENOENT &&
		       bench_now_ns() < give_up)
			bench_nap();
	}
	if (rc != SHMRING_OK) {
		fprintf(stderr, "shmring: %s %s as %s: %s\n",
		        creates ? "create" : "open", c->name[e->dir],
		        e->role == TP_TX ? "producer" : "consumer",
		        shmring_strerror(rc));
		return BENCH_EXIT_ERR;
	}
	if (sr_sleep_only(c->t))
		shmring_set_spin(r, 0);
	e->h = r;
	return BENCH_EXIT_OK;
}

static void *sr_claim_copy(struct tp_end *e)
{
	return e->buf;
}

static int sr_commit_copy(struct tp_end *e)
{
	int rc = shmring_send(e->h, e->buf, e->len, SHMRING_FOREVER);

	e->err = rc ? shmring_strerror(rc) : NULL;
	return rc ? -1 : 0;
}

static const void *sr_recv_copy(struct tp_end *e)
{
	size_t len = 0;
	int rc = shmring_recv(e->h, e->buf, e->cap, &len, SHMRING_FOREVER);

	if (rc != SHMRING_OK) {
		e->err = shmring_strerror(rc);
		return NULL;
	}
	e->len = len;
	return e->buf;
}

static void *sr_claim_zc(struct tp_end *e)
{
	void *p = NULL;
	int rc = shmring_claim(e->h, e->len, &p, SHMRING_FOREVER);

	e->err = rc ? shmring_strerror(rc) : NULL;
	return rc ? NULL : p;
}

static int sr_commit_zc(struct tp_end *e)
{
	int rc = shmring_commit(e->h, e->len);

	e->err = rc ? shmring_strerror(rc) : NULL;
	return rc ? -1 : 0;
}

static const void *sr_recv_zc(struct tp_end *e)
{
	const void *p = NULL;
	size_t len = 0;
	int rc = shmring_peek(e->h, &p, &len, SHMRING_FOREVER);

	if (rc != SHMRING_OK) {
		e->err = shmring_strerror(rc);
		return NULL;
	}
	e->len = len;
	return p;
}

static void sr_done_zc(struct tp_end *e)
{
	shmring_release(e->h);
}

static void sr_done_copy(struct tp_end *e)
{
	(void)e;
}

/* shmring-batch: what a user streaming through the batch calls does. The
 * producer builds up to tp_sr_batch_len() messages in its buffer and sends them
 * with one shmring_sendv() (also at flush); the consumer takes what is
 * there, up to as many, with one shmring_recvv() and hands them out one by
 * one. Throughput only. */
static size_t tp_sr_batch_len(const struct tp_ctx *c)
{
	size_t b = c->slots / 4;

	return b < 1 ? 1 : b > TP_SR_BATCH ? TP_SR_BATCH : b;
}

static int sr_flush_batch(struct tp_end *e)
{
	size_t sent = 0;
	int rc = shmring_sendv(e->h, e->iov.out, e->have, &sent,
	                       SHMRING_FOREVER);

	e->err = rc ? shmring_strerror(rc) : NULL;
	e->have = 0;
	return rc ? -1 : 0;
}

static void *sr_claim_batch(struct tp_end *e)
{
	return e->buf + e->have * e->c->size;
}

static int sr_commit_batch(struct tp_end *e)
{
	e->iov.out[e->have].data = e->buf + e->have * e->c->size;
	e->iov.out[e->have].len = e->len;
	return ++e->have < tp_sr_batch_len(e->c) ? 0 : sr_flush_batch(e);
}

static const void *sr_recv_batch(struct tp_end *e)
{
	size_t size = e->c->size, n = tp_sr_batch_len(e->c);
	int rc;

	if (e->off == e->have) {
		for (size_t i = 0; i < n; i++) {
			e->iov.in[i].data = e->buf + i * size;
			e->iov.in[i].len = size;
		}
		e->off = e->have = 0;
		rc = shmring_recvv(e->h, e->iov.in, n, &e->have,
		                   SHMRING_FOREVER);
		if (rc != SHMRING_OK) {
			e->err = shmring_strerror(rc);
			return NULL;
		}
	}
	e->len = e->iov.in[e->off].len;
	return e->buf + e->off++ * size;
}

#if SR_V2
/* shmring-zcbatch: the zero-copy batch calls. The producer claims up to
 * tp_sr_batch_len() messages with one shmring_claimv() (as many as fit
 * now), the driver writes each in place, and the last commit of the batch
 * publishes them all with one shmring_commitv() (flush commits what was
 * written). The consumer takes what is there, up to as many, with one
 * shmring_peekv(), the driver reads each in place, and the done of the
 * last releases them all with one shmring_releasev(). Fixed-size
 * messages: claimv wants every length up front. */
static void *sr_claim_zcbatch(struct tp_end *e)
{
	size_t n = tp_sr_batch_len(e->c);
	int rc;

	if (e->off == e->have) {
		for (size_t i = 0; i < n; i++)
			e->iov.in[i].len = e->c->size;
		e->off = e->have = 0;
		rc = shmring_claimv(e->h, e->iov.in, n, &e->have,
		                    SHMRING_FOREVER);
		if (rc != SHMRING_OK || e->have == 0) {
			e->err = rc ? shmring_strerror(rc) : "claimed none";
			return NULL;
		}
	}
	return e->iov.in[e->off].data;
}

static int sr_commit_zcbatch(struct tp_end *e)
{
	int rc;

	if (++e->off < e->have)
		return 0;
	rc = shmring_commitv(e->h, NULL, e->have);
	e->off = e->have = 0;
	e->err = rc ? shmring_strerror(rc) : NULL;
	return rc ? -1 : 0;
}

static int sr_flush_zcbatch(struct tp_end *e)
{
	int rc = SHMRING_OK;

	if (e->have > 0) /* commit what was written, discard the rest */
		rc = shmring_commitv(e->h, NULL, e->off);
	e->off = e->have = 0;
	e->err = rc ? shmring_strerror(rc) : NULL;
	return rc ? -1 : 0;
}

static const void *sr_recv_zcbatch(struct tp_end *e)
{
	int rc;

	if (e->off == e->have) {
		e->off = e->have = 0;
		rc = shmring_peekv(e->h, e->iov.out, tp_sr_batch_len(e->c),
		                   &e->have, SHMRING_FOREVER);
		if (rc != SHMRING_OK || e->have == 0) {
			e->err = rc ? shmring_strerror(rc) : "peeked none";
			return NULL;
		}
	}
	e->len = e->iov.out[e->off].len;
	return e->iov.out[e->off++].data;
}

static void sr_done_zcbatch(struct tp_end *e)
{
	if (e->off == e->have && e->have > 0) {
		shmring_releasev(e->h, e->have);
		e->off = e->have = 0;
	}
}
#endif

#if SR_MPSC
/* MPSC: the consumer's end of stream. Every producer has sent its share;
 * once all of them have closed, the drained ring answers SHMRING_ECLOSED. */
static int sr_end(struct tp_end *e)
{
	size_t len = 0;
	int rc = shmring_recv(e->h, e->buf, e->cap, &len, 10000);

	if (rc == SHMRING_ECLOSED)
		return 0;
	e->err = rc == SHMRING_OK ? "a message after the last one"
	                          : shmring_strerror(rc);
	return -1;
}
#endif

static void sr_close(struct tp_end *e)
{
	shmring_get_stats(e->h, &e->stats);
	shmring_close(e->h);
}

static void sr_teardown(struct tp_ctx *c)
{
	for (int d = 0; d < c->ndirs; d++)
		shmring_unlink(c->name[d]); /* ENOENT if never created: fine */
}

static int tp_nosetup(struct tp_ctx *c)
{
	(void)c;
	return BENCH_EXIT_OK;
}

#define SR_TRANSPORT(nm, dsc, zc, cl, cm, rv, dn)                              \
	{                                                                      \
		.name = nm, .desc = dsc, .zero_copy = zc, .rx_in_place = zc,   \
		.var_len = 1, .shmring = 1, .setup = tp_nosetup,               \
		.teardown = sr_teardown, .open = sr_open, .claim = cl,         \
		.commit = cm, .recv = rv, .done = dn, .close = sr_close        \
	}

static const struct transport tp_sr_copy = SR_TRANSPORT(
        "shmring-copy", "shmring_send/shmring_recv, default spin", 0,
        sr_claim_copy, sr_commit_copy, sr_recv_copy, sr_done_copy);
static const struct transport tp_sr_zc = SR_TRANSPORT(
        "shmring-zc", "shmring_claim/commit + peek/release, default spin", 1,
        sr_claim_zc, sr_commit_zc, sr_recv_zc, sr_done_zc);
static const struct transport tp_sr_batch = {
        .name = "shmring-batch",
        .desc = "shmring_sendv/shmring_recvv, batches of up to 64, default "
                "spin",
        .stream_only = 1,
        .sr_batch = 1,
        .var_len = 1,
        .shmring = 1,
        .setup = tp_nosetup,
        .teardown = sr_teardown,
        .open = sr_open,
        .claim = sr_claim_batch,
        .commit = sr_commit_batch,
        .flush = sr_flush_batch,
        .recv = sr_recv_batch,
        .done = sr_done_copy,
        .close = sr_close};
#if SR_V2
static const struct transport tp_sr_zcbatch = {
        .name = "shmring-zcbatch",
        .desc = "shmring_claimv/commitv + peekv/releasev, batches of up to "
                "64, written and read in place, default spin",
        .zero_copy = 1,
        .rx_in_place = 1,
        .stream_only = 1,
        .shmring = 1,
        .setup = tp_nosetup,
        .teardown = sr_teardown,
        .open = sr_open,
        .claim = sr_claim_zcbatch,
        .commit = sr_commit_zcbatch,
        .flush = sr_flush_zcbatch,
        .recv = sr_recv_zcbatch,
        .done = sr_done_zcbatch,
        .close = sr_close};
#endif
#if SR_MPSC
/* Many producers: the same calls on an SHMRING_F_MPSC ring. */
static const struct transport tp_sr_mpsc = {
        .name = "shmring-mpsc",
        .desc = "SHMRING_F_MPSC ring, shmring_send per producer / "
                "shmring_recv, default spin",
        .var_len = 1,
        .shmring = 1,
        .max_producers = TP_MAX_PRODUCERS,
        .rx_first = 1,
        .setup = tp_nosetup,
        .teardown = sr_teardown,
        .open = sr_open,
        .claim = sr_claim_copy,
        .commit = sr_commit_copy,
        .recv = sr_recv_copy,
        .done = sr_done_copy,
        .end = sr_end,
        .close = sr_close};
static const struct transport tp_sr_mpsc_zc = {
        .name = "shmring-mpsc-zc",
        .desc = "SHMRING_F_MPSC ring, shmring_claim/commit per producer / "
                "peek/release, default spin",
        .zero_copy = 1,
        .rx_in_place = 1,
        .var_len = 1,
        .shmring = 1,
        .max_producers = TP_MAX_PRODUCERS,
        .rx_first = 1,
        .setup = tp_nosetup,
        .teardown = sr_teardown,
        .open = sr_open,
        .claim = sr_claim_zc,
        .commit = sr_commit_zc,
        .recv = sr_recv_zc,
        .done = sr_done_zc,
        .end = sr_end,
        .close = sr_close};
static const struct transport tp_sr_mpsc_batch = {
        .name = "shmring-mpsc-batch",
        .desc = "SHMRING_F_MPSC ring, shmring_sendv per producer / "
                "shmring_recvv, batches of up to 64, default spin",
        .stream_only = 1,
        .sr_batch = 1,
        .var_len = 1,
        .shmring = 1,
        .max_producers = TP_MAX_PRODUCERS,
        .rx_first = 1,
        .setup = tp_nosetup,
        .teardown = sr_teardown,
        .open = sr_open,
        .claim = sr_claim_batch,
        .commit = sr_commit_batch,
        .flush = sr_flush_batch,
        .recv = sr_recv_batch,
        .done = sr_done_copy,
        .end = sr_end,
        .close = sr_close};
static const struct transport tp_sr_mpsc_zcbatch = {
        .name = "shmring-mpsc-zcbatch",
        .desc = "SHMRING_F_MPSC ring, shmring_claimv/commitv per producer "
                "/ peekv/releasev, batches of up to 64, default spin",
        .zero_copy = 1,
        .rx_in_place = 1,
        .stream_only = 1,
        .shmring = 1,
        .max_producers = TP_MAX_PRODUCERS,
        .rx_first = 1,
        .setup = tp_nosetup,
        .teardown = sr_teardown,
        .open = sr_open,
        .claim = sr_claim_zcbatch,
        .commit = sr_commit_zcbatch,
        .flush = sr_flush_zcbatch,
        .recv = sr_recv_zcbatch,
        .done = sr_done_zcbatch,
        .end = sr_end,
        .close = sr_close};
#endif
static const struct transport tp_sr_copy_sleep = SR_TRANSPORT(
        "shmring-copy-sleep", "shmring_send/recv, shmring_set_spin(r, 0)", 0,
        sr_claim_copy, sr_commit_copy, sr_recv_copy, sr_done_copy);
static const struct transport tp_sr_zc_sleep =
        SR_TRANSPORT("shmring-zc-sleep",
                     "claim/commit + peek/release, shmring_set_spin(r, 0)", 1,
                     sr_claim_zc, sr_commit_zc, sr_recv_zc, sr_done_zc);

/* ---- byte streams: pipe, SOCK_STREAM --------------------------------------
 */

static int fd_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *fd_claim(struct tp_end *e)
{
	return e->buf;
}

static int fd_commit_stream(struct tp_end *e)
{
	if (fd_write_all(e->fd, e->buf, e->c->size) != 0) {
		e->err = strerror(errno);
		return -1;
	}
	return 0;
}

/* Buffered reader: returns the next whole frame in place. */
static const void *fd_recv_stream(struct tp_end *e)
{
	size_t size = e->c->size;

	if (e->have - e->off < size && e->off > 0) {
		memmove(e->buf, e->buf + e->off, e->have - e->off);
		e->have -= e->off;
		e->off = 0;
	}
	while (e->have - e->off < size) {
		ssize_t n = read(e->fd, e->buf + e->have, e->cap - e->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e->err = n ? strerror(errno) : "end of stream";
			return NULL;
		}
		e->have += (size_t)n;
	}
	e->off += size;
	e->len = size;
	return e->buf + e->off - size;
}

/* pipe-batch: a buffered writer as stdio would do it (BUFSIZ bytes, flushed
 * when the next message does not fit and at close). Throughput only. */
#define TP_WBUF 8192

static void *fd_claim_batch(struct tp_end *e)
{
	size_t size = e->c->size;

	if (size >= TP_WBUF)
		return e->buf;
	if (e->have + size > e->cap) {
		if (fd_write_all(e->fd, e->buf, e->have) != 0) {
			e->err = strerror(errno);
			return NULL;
		}
		e->have = 0;
	}
	return e->buf + e->have;
}

static int fd_commit_batch(struct tp_end *e)
{
	if (e->c->size >= TP_WBUF)
		return fd_commit_stream(e);
	e->have += e->c->size;
	return 0;
}

static int fd_flush_batch(struct tp_end *e)
{
	if (e->have > 0 && fd_write_all(e->fd, e->buf, e->have) != 0) {
		e->err = strerror(errno);
		return -1;
	}
	e->have = 0;
	return 0;
}

static void fd_done(struct tp_end *e)
{
	(void)e;
}

static int fd_open(struct tp_end *e)
{
	/* Each child owns one end of each direction; close the other. */
	e->fd = e->role == TP_TX ? e->c->fd[e->dir][1] : e->c->fd[e->dir][0];
	return BENCH_EXIT_OK;
}

static void fd_close(struct tp_end *e)
{
	close(e->fd);
}

static void fd_teardown(struct tp_ctx *c)
{
	for (int d = 0; d < c->ndirs; d++)
		for (int i = 0; i < 2; i++)
			if (c->fd[d][i] >= 0)
				close(c->fd[d][i]);
}

static int pipe_setup(struct tp_ctx *c)
{
	size_t want = (size_t)c->slots * c->size;

	want = want < 65536 ? 65536 : want > 1048576 ? 1048576 : want;
	for (int d = 0; d < c->ndirs; d++) {
		if (pipe2(c->fd[d], O_CLOEXEC) != 0)
			return BENCH_EXIT_ERR;
		fcntl(c->fd[d][1], F_SETPIPE_SZ, (int)want); /* best effort */
	}
	return BENCH_EXIT_OK;
}

static int sock_setup(struct tp_ctx *c, int type)
{
	for (int d = 0; d < c->ndirs; d++)
		if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, c->fd[d]) != 0)
			return BENCH_EXIT_ERR;
	return BENCH_EXIT_OK;
}

static int stream_setup(struct tp_ctx *c)
{
	return sock_setup(c, SOCK_STREAM);
}

static int seqp_setup(struct tp_ctx *c)
{
	return c->size > 65536 ? BENCH_EXIT_UNSUP
	                       : sock_setup(c, SOCK_SEQPACKET);
}

static int seqp_commit(struct tp_end *e)
{
	ssize_t n;

	do
		n = send(e->fd, e->buf, e->c->size, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)e->c->size) {
		e->err = n < 0 ? strerror(errno) : "short send";
		return -1;
	}
	return 0;
}

static const void *seqp_recv(struct tp_end *e)
{
	ssize_t n;

	do
		n = recv(e->fd, e->buf, e->cap, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)e->c->size) {
		e->err = n < 0 ? strerror(errno) : "wrong length";
		return NULL;
	}
	e->len = (size_t)n;
	return e->buf;
}

static const struct transport tp_pipe = {
        .name = "pipe",
        .desc = "pipe(2), one write per message, buffered reads",
        .setup = pipe_setup,
        .teardown = fd_teardown,
        .open = fd_open,
        .claim = fd_claim,
        .commit = fd_commit_stream,
        .recv = fd_recv_stream,
        .done = fd_done,
        .close = fd_close};
static const struct transport tp_pipe_batch = {
        .name = "pipe-batch",
        .desc = "pipe(2), writes buffered up to 8 KiB (stdio's BUFSIZ), "
                "buffered reads; throughput only",
        .zero_copy = 1, /* claim is a place in the buffer: fwrite's copy */
        .stream_only = 1,
        .setup = pipe_setup,
        .teardown = fd_teardown,
        .open = fd_open,
        .claim = fd_claim_batch,
        .commit = fd_commit_batch,
        .flush = fd_flush_batch,
        .recv = fd_recv_stream,
        .done = fd_done,
        .close = fd_close};
static const struct transport tp_stream = {
        .name = "unix-stream",
        .desc = "socketpair(AF_UNIX, SOCK_STREAM), one write per message, "
                "buffered reads",
        .setup = stream_setup,
        .teardown = fd_teardown,
        .open = fd_open,
        .claim = fd_claim,
        .commit = fd_commit_stream,
        .recv = fd_recv_stream,
        .done = fd_done,
        .close = fd_close};
static const struct transport tp_seqp = {
        .name = "unix-seqpacket",
        .desc = "socketpair(AF_UNIX, SOCK_SEQPACKET), send/recv per message",
        .setup = seqp_setup,
        .teardown = fd_teardown,
        .open = fd_open,
        .claim = fd_claim,
        .commit = seqp_commit,
        .recv = seqp_recv,
        .done = fd_done,
        .close = fd_close};

/* ---- many producers: a shared pipe, a datagram socket ----------------------
 * pipe-shared: every producer writes whole frames into the one pipe; a
 * write of at most PIPE_BUF bytes is atomic, so frames never interleave
 * and the buffered reader above finds them whole and aligned. Larger
 * frames would interleave: n/a. */
static int pipe_shared_setup(struct tp_ctx *c)
{
	return c->size > PIPE_BUF ? BENCH_EXIT_UNSUP : pipe_setup(c);
}

/* unix-dgram: the consumer's socket is bound to an abstract name (made by
 * the parent, inherited); each producer connects a socket of its own to
 * it, one send(2) per message, which blocks while the consumer's queue
 * holds net.unix.max_dgram_qlen datagrams (the system's default). */
static socklen_t dgram_addr(const struct tp_ctx *c, struct sockaddr_un *a)
{
	size_t n = strlen(c->name[0]);

	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (n > sizeof a->sun_path - 2)
		n = sizeof a->sun_path - 2;
	memcpy(a->sun_path + 1, c->name[0], n); /* sun_path[0] = 0: abstract */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static int dgram_setup(struct tp_ctx *c)
{
	struct sockaddr_un a;
	socklen_t n = dgram_addr(c, &a);
	int fd;

	if (c->size > 65536)
		return BENCH_EXIT_UNSUP;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return BENCH_EXIT_ERR;
	c->fd[0][0] = fd;
	if (bind(fd, (struct sockaddr *)&a, n) != 0) {
		fprintf(stderr, "unix-dgram: bind: %s\n", strerror(errno));
		return BENCH_EXIT_ERR;
	}
	return BENCH_EXIT_OK;
}

static int dgram_open(struct tp_end *e)
{
	struct sockaddr_un a;
	socklen_t n = dgram_addr(e->c, &a);

	if (e->role == TP_RX) {
		e->fd = e->c->fd[0][0];
		return BENCH_EXIT_OK;
	}
	e->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e->fd < 0 || connect(e->fd, (struct sockaddr *)&a, n) != 0) {
		fprintf(stderr, "unix-dgram: connect: %s\n", strerror(errno));
		return BENCH_EXIT_ERR;
	}
	return BENCH_EXIT_OK;
}

static const struct transport tp_pipe_shared = {
        .name = "pipe-shared",
        .desc = "one pipe(2) for every producer, one write per message "
                "(<= PIPE_BUF: atomic), buffered reads",
        .max_producers = TP_MAX_PRODUCERS,
        .setup = pipe_shared_setup,
        .teardown = fd_teardown,
        .open = fd_open,
        .claim = fd_claim,
        .commit = fd_commit_stream,
        .recv = fd_recv_stream,
        .done = fd_done,
        .close = fd_close};
static const struct transport tp_dgram = {
        .name = "unix-dgram",
        .desc = "AF_UNIX SOCK_DGRAM, the consumer bound to an abstract "
                "name, one connected socket per producer, send/recv per "
                "message",
        .max_producers = TP_MAX_PRODUCERS,
        .setup = dgram_setup,
        .teardown = fd_teardown,
        .open = dgram_open,
        .claim = fd_claim,
        .commit = seqp_commit,
        .recv = seqp_recv,
        .done = fd_done,
        .close = fd_close};

/* ---- POSIX message queue ------------------------------------------------- */

static long read_proc_long(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v = dflt;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

static int mq_setup(struct tp_ctx *c)
{
	long maxmsg = read_proc_long("/proc/sys/fs/mqueue/msg_max", 10);
	long maxsize = read_proc_long("/proc/sys/fs/mqueue/msgsize_max", 8192);
	struct mq_attr a = {0};

	if ((long)c->size > maxsize)
		return BENCH_EXIT_UNSUP;
	a.mq_maxmsg = maxmsg < (long)c->slots ? maxmsg : (long)c->slots;
	a.mq_msgsize = (long)c->size;
	for (int d = 0; d < c->ndirs; d++) {
		mqd_t q = mq_open(c->name[d], O_CREAT | O_EXCL | O_RDWR, 0600,
		                  &a);
		if (q == (mqd_t)-1) {
			fprintf(stderr, "mq_open %s: %s\n", c->name[d],
			        strerror(errno));
			return BENCH_EXIT_ERR;
		}
		mq_close(q);
	}
	return BENCH_EXIT_OK;
}

static void mq_teardown(struct tp_ctx *c)
{
	for (int d = 0; d < c->ndirs; d++)
		mq_unlink(c->name[d]);
}

static int mq_open_end(struct tp_end *e)
{
	mqd_t q = mq_open(e->c->name[e->dir],
	                  e->role == TP_TX ? O_WRONLY : O_RDONLY);

	if (q == (mqd_t)-1)
		return BENCH_EXIT_ERR;
	e->mq = (long)q;
	return BENCH_EXIT_OK;
}

static int mq_commit(struct tp_end *e)
{
	int rc;

	do
		rc = mq_send((mqd_t)e->mq, (const char *)e->buf, e->c->size, 0);
	while (rc != 0 && errno == EINTR);
	e->err = rc ? strerror(errno) : NULL;
	return rc ? -1 : 0;
}

static const void *mq_recv(struct tp_end *e)
{
	ssize_t n;

	do
		n = mq_receive((mqd_t)e->mq, (char *)e->buf, e->cap, NULL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)e->c->size) {
		e->err = n < 0 ? strerror(errno) : "wrong length";
		return NULL;
	}
	e->len = (size_t)n;
	return e->buf;
}

static void mq_close_end(struct tp_end *e)
{
	mq_close((mqd_t)e->mq);
}

static const struct transport tp_mq = {
        .name = "mqueue",
        .desc = "POSIX mq_send/mq_receive, unprivileged limits",
        .setup = mq_setup,
        .teardown = mq_teardown,
        .open = mq_open_end,
        .claim = fd_claim,
        .commit = mq_commit,
        .recv = mq_recv,
        .done = fd_done,
        .close = mq_close_end};

/* ---- ZeroMQ ipc:// PUSH/PULL ----------------------------------------------
 */
#ifdef BENCH_HAVE_ZMQ
static int zmq_open_end(struct tp_end *e)
{
	char ep[128];

	snprintf(ep, sizeof ep, "ipc://%s", e->c->name[e->dir]);
	e->zctx = zmq_ctx_new();
	e->h = zmq_socket(e->zctx, e->role == TP_TX ? ZMQ_PUSH : ZMQ_PULL);
	if (!e->h)
		return BENCH_EXIT_ERR;
	/* Close waits until every queued message is handed over. */
	zmq_setsockopt(e->h, ZMQ_LINGER, &(int){-1}, sizeof(int));
	/* The PUSH side binds before the PULL side connects (TX opens
	 * first), so no reconnect interval is waited out. */
	if ((e->role == TP_TX ? zmq_bind(e->h, ep) : zmq_connect(e->h, ep)) !=
	    0) {
		fprintf(stderr, "zmq %s: %s\n", ep, zmq_strerror(zmq_errno()));
		return BENCH_EXIT_ERR;
	}
	return BENCH_EXIT_OK;
}

static int zmq_commit(struct tp_end *e)
{
	int n = zmq_send(e->h, e->buf, e->c->size, 0);

	if (n != (int)e->c->size) {
		e->err = zmq_strerror(zmq_errno());
		return -1;
	}
	return 0;
}

static const void *zmq_recv_end(struct tp_end *e)
{
	int n = zmq_recv(e->h, e->buf, e->cap, 0);

	if (n != (int)e->c->size) {
		e->err = n < 0 ? zmq_strerror(zmq_errno()) : "wrong length";
		return NULL;
	}
	e->len = (size_t)n;
	return e->buf;
}

static void zmq_close_end(struct tp_end *e)
{
	zmq_close(e->h); /* default linger: queued messages are delivered */
	zmq_ctx_term(e->zctx);
}

static void zmq_teardown(struct tp_ctx *c)
{
	for (int d = 0; d < c->ndirs; d++)
		unlink(c->name[d]);
}

/* zmq-push: many pushers into one puller. The PULL side binds (it opens
 * first: rx_first) and every producer's PUSH socket connects to it; PULL
 * queues fairly among them. */
static int zmq_push_open(struct tp_end *e)
{
	char ep[128];
	int rc;

	snprintf(ep, sizeof ep, "ipc://%s", e->c->name[e->dir]);
	e->zctx = zmq_ctx_new();
	e->h = zmq_socket(e->zctx, e->role == TP_TX ? ZMQ_PUSH : ZMQ_PULL);
	if (!e->h)
		return BENCH_EXIT_ERR;
	zmq_setsockopt(e->h, ZMQ_LINGER, &(int){-1}, sizeof(int));
	rc = e->role == TP_TX ? zmq_connect(e->h, ep) : zmq_bind(e->h, ep);
	if (rc != 0) {
		fprintf(stderr, "zmq %s: %s\n", ep, zmq_strerror(zmq_errno()));
		return BENCH_EXIT_ERR;
	}
	return BENCH_EXIT_OK;
}

static const struct transport tp_zmq_push = {
        .name = "zmq-push",
        .desc = "ZeroMQ ipc://, one PUSH socket per producer (connect) into "
                "one PULL (bind), default HWM",
        .max_producers = TP_MAX_PRODUCERS,
        .rx_first = 1,
        .setup = tp_nosetup,
        .teardown = zmq_teardown,
        .open = zmq_push_open,
        .claim = fd_claim,
        .commit = zmq_commit,
        .recv = zmq_recv_end,
        .done = fd_done,
        .close = zmq_close_end};

static const struct transport tp_zmq = {
        .name = "zmq-ipc",
        .desc = "ZeroMQ ipc:// PUSH/PULL, zmq_send/zmq_recv, default HWM",
        .setup = tp_nosetup,
        .teardown = zmq_teardown,
        .open = zmq_open_end,
        .claim = fd_claim,
        .commit = zmq_commit,
        .recv = zmq_recv_end,
        .done = fd_done,
        .close = zmq_close_end};
#endif

/* ---- Concurrency Kit ck_ring in shared memory ---------------------------- */
#ifdef BENCH_HAVE_CK
struct ck_shm {
	struct ck_ring ring __attribute__((aligned(128)));
	char pad[128];
	/* then: ck_ring_buffer[slots], side buffer[2 * slots * size] */
};

static struct ck_ring_buffer *ck_buf(void *shm)
{
	return (struct ck_ring_buffer *)((char *)shm + sizeof(struct ck_shm));
}

static uint8_t *ck_side(void *shm, uint32_t slots)
{
	return (uint8_t *)(ck_buf(shm) + slots);
}

static int ck_setup(struct tp_ctx *c)
{
	for (int d = 0; d < c->ndirs; d++) {
		/* 2 x depth side slots per producer (ck_ring-mpsc: several) */
		size_t n = sizeof(struct ck_shm) +
		           c->slots * sizeof(struct ck_ring_buffer) +
		           2u * c->slots * c->size * (size_t)c->producers;
		c->shm_size[d] = (n + 4095) & ~(size_t)4095;
		c->shm[d] = bench_shared(c->shm_size[d]);
		ck_ring_init(&((struct ck_shm *)c->shm[d])->ring, c->slots);
	}
	return BENCH_EXIT_OK;
}

static void ck_teardown(struct tp_ctx *c)
{
	for (int d = 0; d < c->ndirs; d++)
		if (c->shm[d])
			bench_unshare(c->shm[d], c->shm_size[d]);
}

static int ck_open_end(struct tp_end *e)
{
	e->h = e->c->shm[e->dir];
	return BENCH_EXIT_OK;
}

static int ck_commit(struct tp_end *e)
{
	struct ck_shm *s = e->h;
	size_t size = e->c->size;
	void *v;

	if (size <= sizeof v) {
		memcpy(&v, e->buf, sizeof v); /* the message is the entry */
	} else {
		/* 2 x depth side slots: the consumer is done with slot
		 * seq - 2*depth before the ring had room for seq - 1. */
		uint64_t slot = e->seq++ & (2u * e->c->slots - 1);
		memcpy(ck_side(s, e->c->slots) + slot * size, e->buf, size);
		v = (void *)(uintptr_t)slot;
	}
	while (!ck_ring_enqueue_spsc(&s->ring, ck_buf(s), v))
		ck_pr_stall();
	return 0;
}

static const void *ck_recv_end(struct tp_end *e)
{
	struct ck_shm *s = e->h;
	size_t size = e->c->size;
	void *v;

	while (!ck_ring_dequeue_spsc(&s->ring, ck_buf(s), &v))
		ck_pr_stall();
	if (size <= sizeof v) {
		memcpy(e->buf, &v, sizeof v);
	} else {
		uintptr_t slot = (uintptr_t)v;
		if (slot >= 2u * e->c->slots) {
			e->err = "bad slot index";
			return NULL;
		}
		memcpy(e->buf, ck_side(s, e->c->slots) + slot * size, size);
	}
	e->len = size;
	return e->buf;
}

static void ck_close_end(struct tp_end *e)
{
	(void)e;
}

/* ck_ring-mpsc: producer k owns side slots [k * 2D, (k + 1) * 2D), used in
 * the order of its own sequence; the argument of ck_commit holds per
 * producer (its message s - 2D left the ring before its s - 1 entered).
 *
 * The entry goes in with ck_ring_enqueue_reserve_mpsc and the commit is
 * ck_ring_enqueue_commit_mpsc's own four lines, written out here so that
 * its wait can be watched: ck's commit spins until every earlier ticket is
 * committed, so a producer preempted between its reserve and its commit
 * holds every later producer up, and two producers sharing one CPU then
 * convoy (each spins out its time slice waiting for the other, once per
 * message). ck_ring-mpsc waits as ck does and gives up (FAILED) once it
 * has waited more than 1 ms for its turn 100 times in a run;
 * ck_ring-mpsc-yield calls sched_yield() every 256 polls of that wait,
 * which lets a preempted ticket holder on the same CPU run. */
#define CK_TURN_POLLS 256
#define CK_CONVOY     100

static int ck_turn(struct tp_end *e, unsigned int ticket, int yield)
{
	struct ck_ring *ring = &((struct ck_shm *)e->h)->ring;
	uint64_t t0 = 0;
	unsigned polls = 0;
	int counted = 0;

	while (ck_pr_load_uint(&ring->p_tail) != ticket) {
		if (++polls % CK_TURN_POLLS != 0) {
			ck_pr_stall();
		} else if (yield) {
			sched_yield();
		} else if (!t0) {
			t0 = bench_now_ns();
		} else if (!counted && bench_now_ns() - t0 > 1000000) {
			counted = 1;
			if (++e->have >= CK_CONVOY) { /* have: waits > 1 ms */
				e->err = "convoy: waited > 1 ms for an earlier "
				         "producer's commit 100 times";
				return -1;
			}
		}
	}
	ck_pr_fence_store();
	ck_pr_store_uint(&ring->p_tail, ticket + 1);
	return 0;
}

static int ck_commit_mp(struct tp_end *e, int yield)
{
	struct ck_shm *s = e->h;
	size_t size = e->c->size;
	unsigned int ticket;
	void *v, *p;

	if (size <= sizeof v) {
		memcpy(&v, e->buf, sizeof v);
	} else {
		uint64_t span = 2u * e->c->slots;
		uint64_t slot =
		        (uint64_t)e->producer * span + (e->seq++ & (span - 1));
		memcpy(ck_side(s, e->c->slots) + slot * size, e->buf, size);
		v = (void *)(uintptr_t)slot;
	}
	while (!(
	        p = ck_ring_enqueue_reserve_mpsc(&s->ring, ck_buf(s), &ticket)))
		ck_pr_stall();
	memcpy(p, &v, sizeof v);
	return ck_turn(e, ticket, yield);
}

static int ck_commit_mpsc(struct tp_end *e)
{
	return ck_commit_mp(e, 0);
}

static int ck_commit_mpsc_yield(struct tp_end *e)
{
	return ck_commit_mp(e, 1);
}

static const void *ck_recv_mpsc(struct tp_end *e)
{
	struct ck_shm *s = e->h;
	size_t size = e->c->size;
	void *v;

	while (!ck_ring_dequeue_mpsc(&s->ring, ck_buf(s), &v))
		ck_pr_stall();
	if (size <= sizeof v) {
		memcpy(e->buf, &v, sizeof v);
	} else {
		uintptr_t slot = (uintptr_t)v;
		if (slot >= 2u * e->c->slots * (uintptr_t)e->c->producers) {
			e->err = "bad slot index";
			return NULL;
		}
		memcpy(e->buf, ck_side(s, e->c->slots) + slot * size, size);
	}
	e->len = size;
	return e->buf;
}

static const struct transport tp_ck_mpsc = {
        .name = "ck_ring-mpsc",
        .desc = "ck_ring_enqueue_mpsc/dequeue_mpsc in MAP_SHARED memory, "
                "a side buffer per producer, spinning",
        .max_producers = TP_MAX_PRODUCERS,
        .setup = ck_setup,
        .teardown = ck_teardown,
        .open = ck_open_end,
        .claim = fd_claim,
        .commit = ck_commit_mpsc,
        .recv = ck_recv_mpsc,
        .done = fd_done,
        .close = ck_close_end};
static const struct transport tp_ck_mpsc_yield = {
        .name = "ck_ring-mpsc-yield",
        .desc = "ck_ring-mpsc, sched_yield() while waiting for an earlier "
                "producer's commit",
        .max_producers = TP_MAX_PRODUCERS,
        .setup = ck_setup,
        .teardown = ck_teardown,
        .open = ck_open_end,
        .claim = fd_claim,
        .commit = ck_commit_mpsc_yield,
        .recv = ck_recv_mpsc,
        .done = fd_done,
        .close = ck_close_end};

static const struct transport tp_ck = {
        .name = "ck_ring",
        .desc = "ck_ring_enqueue_spsc/dequeue_spsc in MAP_SHARED memory, "
                "side buffer, spinning",
        .setup = ck_setup,
        .teardown = ck_teardown,
        .open = ck_open_end,
        .claim = fd_claim,
        .commit = ck_commit,
        .recv = ck_recv_end,
        .done = fd_done,
        .close = ck_close_end};
#endif

/* ---- registry --------------------------------------------------------------
 */

const struct transport *const tp_all[] = {&tp_sr_copy,
                                          &tp_sr_zc,
                                          &tp_sr_batch,
#if SR_V2
                                          &tp_sr_zcbatch,
#endif
                                          &tp_sr_copy_sleep,
                                          &tp_sr_zc_sleep,
#ifdef BENCH_HAVE_CK
                                          &tp_ck,
#endif
#ifdef BENCH_HAVE_ZMQ
                                          &tp_zmq,
#endif
                                          &tp_pipe,
                                          &tp_pipe_batch,
                                          &tp_stream,
                                          &tp_seqp,
                                          &tp_mq,
                                          NULL};

/* Found by name (bench_throughput -t), not in the default matrix. */
const struct transport *const tp_many[] = {
#if SR_MPSC
        &tp_sr_mpsc,
        &tp_sr_mpsc_zc,
        &tp_sr_mpsc_batch,
        &tp_sr_mpsc_zcbatch,
#endif
        &tp_pipe_shared,
        &tp_dgram,
#ifdef BENCH_HAVE_ZMQ
        &tp_zmq_push,
#endif
#ifdef BENCH_HAVE_CK
        &tp_ck_mpsc,
        &tp_ck_mpsc_yield,
#endif
        NULL};

const struct transport *tp_find(const char *name)
{
	for (int i = 0; tp_all[i]; i++)
		if (strcmp(tp_all[i]->name, name) == 0)
			return tp_all[i];
	for (int i = 0; tp_many[i]; i++)
		if (strcmp(tp_many[i]->name, name) == 0)
			return tp_many[i];
	return NULL;
}

static int tp_setup_any(struct tp_ctx *c, const struct transport *t,
                        size_t size, uint32_t slots, uint32_t slot_size,
                        int var_len, int ndirs, int producers)
{
	unsigned n = ++tp_counter;
	int maxp = t->max_producers > 0 ? t->max_producers : 1;

	memset(c, 0, sizeof *c);
	c->t = t;
	c->size = size;
	c->slots = slots;
	c->slot_size = slot_size;
	c->var_len = var_len;
	c->ndirs = ndirs;
	c->producers = producers;
	for (int d = 0; d < TP_MAX_DIRS; d++)
		c->fd[d][0] = c->fd[d][1] = -1;
	if ((var_len && !t->var_len) || (slot_size && !t->shmring))
		return BENCH_EXIT_UNSUP;
	/* many-producer transports are for streams (one direction) */
	if (producers < 1 || producers > maxp || (t->rx_first && ndirs > 1))
		return BENCH_EXIT_UNSUP;
	if (!SR_V2 && slot_size && slot_size < size)
		return BENCH_EXIT_UNSUP; /* format 1: one message per slot */
	for (int d = 0; d < ndirs; d++) {
		c->fd[d][0] = c->fd[d][1] = -1;
		if (strncmp(t->name, "zmq-", 4) == 0)
			snprintf(c->name[d], sizeof c->name[d],
			         "/tmp/shmring-bench-%d-%u-%d.ipc",
			         (int)getpid(), n, d);
		else
			snprintf(c->name[d], sizeof c->name[d],
			         "%sshmring-bench-%d-%u-%d",
			         t == &tp_mq ? "/" : "", (int)getpid(), n, d);
	}
	return t->setup(c);
}

int tp_setup(struct tp_ctx *c, const struct transport *t, size_t size,
             uint32_t slots, uint32_t slot_size, int var_len, int ndirs)
{
	return tp_setup_any(c, t, size, slots, slot_size, var_len, ndirs, 1);
}

int tp_setup_mp(struct tp_ctx *c, const struct transport *t, size_t size,
                uint32_t slots, uint32_t slot_size, int var_len, int producers)
{
	return tp_setup_any(c, t, size, slots, slot_size, var_len, 1,
	                    producers);
}

void tp_teardown(struct tp_ctx *c)
{
	c->t->teardown(c);
}

static int tp_open_any(struct tp_end *e, const struct tp_ctx *c, int dir,
                       enum tp_role role, int k)
{
	memset(e, 0, sizeof *e);
	e->c = c;
	e->dir = dir;
	e->role = role;
	e->producer = k;
	e->fd = -1;
	e->cap = c->size;
	e->len = c->size;
	if (role == TP_TX && c->t->claim == fd_claim_batch && c->size < TP_WBUF)
		e->cap = TP_WBUF;
	if (c->t->sr_batch)
		e->cap = c->size * tp_sr_batch_len(c);
	if (role == TP_RX && c->t->recv == fd_recv_stream)
		e->cap = c->size * 2 > 65536 ? c->size * 2 : 65536;
	e->buf = tp_xalloc(e->cap);
	if (!e->buf)
		return BENCH_EXIT_ERR;
	/* Unused pipe and socket ends stay open: readers count messages
	 * rather than wait for end of stream, and the parent's watchdog ends
	 * a run whose peer died. */
	return c->t->open(e);
}

int tp_open(struct tp_end *e, const struct tp_ctx *c, int dir,
            enum tp_role role)
{
	return tp_open_any(e, c, dir, role, 0);
}

int tp_open_producer(struct tp_end *e, const struct tp_ctx *c, int k)
{
	return tp_open_any(e, c, 0, TP_TX, k);
}

void tp_close(struct tp_end *e)
{
	e->c->t->close(e);
	free(e->buf);
}
