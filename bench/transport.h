/* SPDX-License-Identifier: MIT */
/*
 * transport.h -- one interface over every way of moving a message between
 * two processes, so that the throughput and latency drivers run the same
 * loop over shmring and over what a user would pick instead.
 *
 * A "direction" is one producer -> consumer channel. The parent sets the
 * channels up before forking (pipes, sockets, the ck_ring mapping, unique
 * names); each child then opens an endpoint: the TX end of a direction first,
 * the RX end once the TX end is open (shmring's consumer opens the ring its
 * producer created).
 *
 * Sending is claim + commit: claim returns where to put the message (a slot
 * in the ring for zero-copy transports, else the endpoint's own buffer),
 * commit hands it over. Receiving is recv + done: recv returns the message
 * (in place for zero-copy transports and for stream reads) and sets its
 * length in tp_end.len, done releases it. Every call blocks (or spins)
 * until it can proceed. A message is c->size bytes, except in a mixed
 * stream (c->var_len, only for transports with var_len): there the driver
 * sets tp_end.len before each claim, at most c->size.
 *
 * Many producers (throughput only): a transport with max_producers > 1
 * takes c->producers TX ends of direction 0, one per producer process
 * (tp_open_producer(), index 0..producers-1), and one RX end. A transport
 * with rx_first wants its RX end open before any TX end opens (the
 * consumer binds or creates, the producers connect or open).
 */
#ifndef SHMRING_BENCH_TRANSPORT_H
#define SHMRING_BENCH_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "shmring.h"

#define TP_MAX_DIRS      2
#define TP_MAX_PRODUCERS 32 /* SHMRING_MAX_PRODUCERS */
enum tp_role { TP_TX = 1, TP_RX = 2 };
#define TP_SR_BATCH 64 /* shmring-batch: messages per sendv/recvv, at most */

/* Set up by the parent, inherited by both children. */
struct tp_ctx {
	const struct transport *t;
	size_t size;    /* message size, >= 8 (the sequence number) */
	uint32_t slots; /* ring depth for the rings; buffer hint for others */
	uint32_t slot_size; /* shmring: slot_size of the ring (0 = size) */
	int var_len;        /* mixed stream: lengths up to size vary */
	int ndirs;
	int producers; /* TX ends of direction 0 (1 but for many-producer
	                  transports) */
	char name[TP_MAX_DIRS][96]; /* unique shm / mq / ipc names */
	int fd[TP_MAX_DIRS][2];     /* [dir][0] read end, [dir][1] write end */
	void *shm[TP_MAX_DIRS];     /* ck_ring mapping */
	size_t shm_size[TP_MAX_DIRS];
};

/* One process's end of one direction. */
struct tp_end {
	const struct tp_ctx *c;
	int dir;
	enum tp_role role;
	int producer; /* TX: which of c->producers this end is (0..) */
	void *h;      /* shmring handle, zmq socket, ... */
	void *zctx;   /* zmq context */
	long mq;      /* mqd_t */
	int fd;       /* pipe / socket */
	uint8_t *buf; /* TX: the message being built; RX: read buffer */
	size_t cap, have, off;
	size_t len;          /* length of the message sent or received */
	uint64_t seq;        /* ck_ring: next side-buffer slot */
	shmring_stats stats; /* shmring: counters as of close */
	union { /* shmring-batch, -zcbatch: the batch being built or taken
		   apart (zcbatch: claims in .in, peeks in .out) */
		shmring_msg out[TP_SR_BATCH];
		shmring_buf in[TP_SR_BATCH];
	} iov;
	const char *err; /* why the last call failed */
};

struct transport {
	const char *name;
	const char *desc;  /* one line for the docs */
	int zero_copy;     /* claim returns ring memory: the driver fills it */
	int stream_only;   /* batches sends: not meaningful for ping-pong */
	int sr_batch;      /* shmring-batch: buffers TP_SR_BATCH messages */
	int var_len;       /* can carry a mixed stream (lengths vary) */
	int shmring;       /* a shmring ring: slot geometry and stats apply */
	int rx_in_place;   /* recv returns the bytes in shared memory, uncopied:
	                      the driver reads them all, as a user would */
	int max_producers; /* producer processes it takes (0 = 1) */
	int rx_first;      /* the RX end opens before the TX ends */
	int (*setup)(struct tp_ctx *c);     /* parent */
	void (*teardown)(struct tp_ctx *c); /* parent, after the run */
	int (*open)(struct tp_end *e);      /* child; BENCH_EXIT_* */
	void *(*claim)(struct tp_end *e);
	int (*commit)(struct tp_end *e); /* 0 or -1 */
	int (*flush)(struct tp_end *e);  /* optional: push buffered sends */
	const void *(*recv)(struct tp_end *e); /* NULL on error */
	void (*done)(struct tp_end *e);
	/* optional, RX, after the last message: 0 when the transport reports
	 * the end of the stream once every producer has closed (shmring:
	 * SHMRING_ECLOSED), -1 (with e->err) otherwise */
	int (*end)(struct tp_end *e);
	void (*close)(struct tp_end *e);
};

/* NULL-terminated list of the transports compiled in, in table order. */
extern const struct transport *const tp_all[];
/* NULL-terminated: the many-producer transports (max_producers > 1),
 * found by tp_find() but not in the default matrix. */
extern const struct transport *const tp_many[];
const struct transport *tp_find(const char *name);

/* Parent: fill @c for @ndirs directions and call the transport's setup.
 * @slot_size: shmring's slot_size (0 = @size). @var_len: a mixed stream of
 * lengths up to @size (BENCH_EXIT_UNSUP for a transport without var_len).
 * Returns BENCH_EXIT_OK or BENCH_EXIT_UNSUP / BENCH_EXIT_ERR. */
int tp_setup(struct tp_ctx *c, const struct transport *t, size_t size,
             uint32_t slots, uint32_t slot_size, int var_len, int ndirs);
/* The same with @producers TX ends (BENCH_EXIT_UNSUP above the
 * transport's max_producers). */
int tp_setup_mp(struct tp_ctx *c, const struct transport *t, size_t size,
                uint32_t slots, uint32_t slot_size, int var_len, int producers);
void tp_teardown(struct tp_ctx *c);

/* Child: open one end (allocates its buffers before any timing). */
int tp_open(struct tp_end *e, const struct tp_ctx *c, int dir,
            enum tp_role role);
/* Child: open producer @k's TX end of direction 0. */
int tp_open_producer(struct tp_end *e, const struct tp_ctx *c, int k);
void tp_close(struct tp_end *e);

#endif /* SHMRING_BENCH_TRANSPORT_H */
