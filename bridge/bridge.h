/* SPDX-License-Identifier: MIT */
/*
 * bridge.h -- what the two directions of shmring-bridge share: options,
 * exit statuses, the NATS connection with its reconnect handling, the
 * stream set-up, progress reports and clocks. docs/bridge.md is the manual.
 */
#ifndef SHMRING_BRIDGE_H
#define SHMRING_BRIDGE_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include <nats/nats.h>
#include <shmring.h>

/* Exit statuses: those of the shmring command (docs/man/shmring.1) where
 * the meaning is the same, and two of the bridge's own (docs/bridge.md). */
enum {
	BR_OK = 0,        /* end of stream carried through */
	BR_EFAIL = 1,     /* any other failure */
	BR_EUSAGE = 2,    /* bad command line */
	BR_ENOENT = 3,    /* no such ring */
	BR_EBUSY = 4,     /* the ring's role is held by a live process */
	BR_EBADFMT = 5,   /* the segment is corrupt */
	BR_EACCES = 6,    /* permission denied */
	BR_ENOMEM = 7,    /* out of memory or shared-memory space */
	BR_EPEERDEAD = 8, /* the ring's producer died: forwarded as such */
	BR_ECLOSED = 9,   /* the ring's consumer closed it (in) */
	BR_EMSGSIZE = 10, /* a message larger than the ring takes (in) */
	BR_ESERVER = 14,  /* no NATS server reachable (--connect-timeout) */
	BR_EJS = 15,      /* JetStream refused: no JetStream, no stream, a
	                     consumer of another configuration, ... */
	BR_ESTATE = 16,   /* the in bridge's state file is unusable */
	BR_EINTR = 130,   /* SIGINT or SIGTERM: stopped in order */
};

/* Headers the bridge puts on the messages it publishes. */
#define BR_HDR_EOS  "Shmring-EOS"  /* on the marker: "closed" or "dead" */
#define BR_HDR_PACK "Shmring-Pack" /* records in a framed message */
#define BR_REC_HDR  12u /* a record in a pack: u64 index, u32 length */
#define BR_RID_MAX  (SHMRING_MAX_NAME + 24) /* "<ring>:<created_ns>" */
#define BR_ID_MAX   (BR_RID_MAX + 32)       /* ... ":<kind>:<index>" */

struct br_opts {
	const char *ring;
	const char *subject;
	const char *stream;    /* NULL: found from the subject (in) */
	const char *server;    /* default nats://127.0.0.1:4222 */
	const char *durable;   /* in */
	const char *state;     /* in: state file; NULL = /dev/shm default */
	int create_stream;     /* --create-stream */
	int storage_memory;    /* --storage memory */
	int retention;         /* jsRetentionPolicy */
	const char **subjects; /* --stream-subjects (create), or the subject */
	int nsubjects;
	double dup_window;      /* seconds, 0 = server default (2 min) */
	double connect_timeout; /* seconds */
	double pub_timeout;     /* out: seconds to wait for a publish ack */
	double ack_wait;        /* in: consumer AckWait, seconds */
	double progress;        /* seconds between reports; 0 = none */
	int max_pending;        /* out: ring messages in flight */
	int pack;               /* out: ring messages per NATS message */
	int pack_bytes;         /* out: payload bytes per NATS message */
	int batch;              /* in: messages per fetch */
	int ack_explicit;       /* in: ack every message, not AckAll */
	shmring_config geom;    /* ring geometry when the bridge creates it */
	int quiet;              /* no summary line */
};

/* The connection and its state, shared with nats.c's threads. */
struct br_conn {
	natsConnection *nc;
	jsCtx *js;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int connected;       /* under mu */
	uint64_t reconnects; /* under mu */
	uint64_t disconnects;
};

extern volatile sig_atomic_t br_stop; /* set by SIGINT/SIGTERM */

/* A ring handle left without an orderly close on purpose (the peer must
 * see the bridge as gone, not as an end of stream): kept reachable until
 * exit, when the process's death releases the role. */
extern shmring *br_left_open;

/* Parse argv for "out" or "in"; 0, -1 (help printed) or an exit status. */
int br_parse(int argc, char **argv, int dir_out, struct br_opts *o);

/* Block SIGINT/SIGTERM in every thread but the caller's and install the
 * handler: nats.c's threads are made with the signals blocked, so that a
 * Ctrl-C interrupts the ring call this thread sleeps in. */
void br_signals_block(void);
void br_signals_main(void);

/* Connect, retrying with backoff for up to o->connect_timeout, then set
 * the reconnect policy (forever, with backoff and jitter). @ah and @ahc
 * are the JetStream async publish ack handler (out) or NULL.
 * Return: 0 or an exit status (message printed). */
int br_connect(struct br_conn *c, const struct br_opts *o, int max_pending,
               jsPubAckHandler ah, void *ahc);
void br_disconnect(struct br_conn *c);

/* Create or update the stream (--create-stream), or check that a stream
 * takes the subject. Puts the stream's name in @name. 0 or exit status. */
int br_stream(struct br_conn *c, const struct br_opts *o, char *name,
              size_t cap);

/* Ring open: attach as @role, creating the ring with o->geom if missing.
 * 0 or exit status. */
int br_ring_open(const struct br_opts *o, enum shmring_role role,
                 shmring **out);

/* The ring's identity for message ids: "<ring>:<created_ns>". */
int br_ring_id(const char *ring, char *out, size_t cap, uint64_t *created);

/* Exit status for a shmring code; message "shmring-bridge: what: ..." */
int br_ring_fail(const char *what, int code);
int br_nats_fail(const char *what, natsStatus s, int status);
void br_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

double br_now(void); /* monotonic seconds */

/* Progress and the final summary (stderr). */
struct br_stats {
	uint64_t msgs, bytes; /* carried (released after ack / committed) */
	uint64_t dups;        /* in: redelivered copies skipped */
	uint64_t republished; /* out: publishes sent again */
	uint64_t errors;      /* publish errors / fetch errors */
	double t0, last_t;
	uint64_t last_msgs, last_bytes;
};
void br_progress(struct br_stats *s, const struct br_opts *o, const char *dir,
                 struct br_conn *c);
void br_summary(const struct br_stats *s, const struct br_opts *o,
                const char *dir, const char *end);

int br_out(const struct br_opts *o);
int br_in(const struct br_opts *o);

#endif
