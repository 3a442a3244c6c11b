/* SPDX-License-Identifier: MIT */
/*
 * shmring -- messaging between processes on one host through a named
 * shared-memory ring of fixed-size slots.
 *
 * One producer process and one consumer process attach to a ring by name.
 * A message is one record over one or more consecutive slots: a message of
 * len bytes takes ceil((SHMRING_RECORD_HEADER + len) / stride) slots, where
 * stride = SHMRING_RECORD_HEADER + slot_size rounded up to 16 bytes, so
 * small slots pack tiny messages and any message up to shmring_max_msg()
 * fits, contiguous in memory.
 * While both are busy, messages stream with no system call; a side that has
 * nothing to do spins briefly, then sleeps on its wake object, and the peer
 * signals it only when it has announced that it sleeps.
 *
 * Everything not declared in this header is internal and unsupported.
 * The full contract of each call is in docs/api.md.
 */
#ifndef SHMRING_H
#define SHMRING_H

#include <stddef.h>
#include <stdint.h>

#define SHMRING_VERSION_MAJOR 0
#define SHMRING_VERSION_MINOR 2
#define SHMRING_VERSION_PATCH 0

#if defined(_WIN32) && !defined(SHMRING_STATIC)
#if defined(SHMRING_BUILDING)
#define SHMRING_API __declspec(dllexport)
#else
#define SHMRING_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define SHMRING_API __attribute__((visibility("default")))
#else
#define SHMRING_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

/* Opaque handle: one per process per role. A handle is not thread-safe;
 * use it from one thread at a time. It belongs to the process that opened
 * it: in a child made by fork(), every call on an inherited handle returns
 * SHMRING_EINVAL (shmring_max_msg() still answers), and its close only
 * unmaps, leaving the parent's role as it is. */
typedef struct shmring shmring;

enum shmring_role { SHMRING_PRODUCER = 1, SHMRING_CONSUMER = 2 };

/* ---- error codes (stable values; new ones are only ever appended) ------ */

enum {
	SHMRING_OK = 0,
	SHMRING_EINVAL = -1,    /* bad argument: NULL, bad name, bad geometry,
	                           wrong role or state for the call: a bug */
	SHMRING_EAGAIN = -2,    /* would block and timeout_ms was 0: retry */
	SHMRING_ETIMEDOUT = -3, /* timeout_ms expired: retry or give up */
	SHMRING_EMSGSIZE = -4,  /* message larger than shmring_max_msg(), or
	                           recv buffer too small (then *len = size
	                           needed and the message stays in the ring) */
	SHMRING_ECLOSED = -5,   /* peer closed: the consumer sees it only after
	                           the ring is drained */
	SHMRING_EPEERDEAD = -6, /* peer process died without closing */
	SHMRING_EEXIST = -7,    /* create: name in use by a live ring */
	SHMRING_ENOENT = -8,   /* open: no such ring (or not yet initialised) */
	SHMRING_EACCES = -9,   /* permission denied */
	SHMRING_EBUSY = -10,   /* that role is already attached by a live
	                          process */
	SHMRING_EBADFMT = -11, /* segment is not a shmring, wrong version, or
	                          inconsistent (a buggy or hostile peer) */
	SHMRING_ENOMEM = -12,  /* out of memory or shared-memory space */
	SHMRING_ESYS = -13,    /* other OS failure */
	SHMRING_EINTR = -14,   /* a signal handler ran while the call slept:
	                          nothing was sent or taken; retry */
};

/* timeout_ms values. A call that sleeps returns SHMRING_EINTR when a signal
 * handler runs during the sleep, with SA_RESTART or without (as
 * epoll_wait() does): a Ctrl-C reaches the caller. A handler that runs
 * while the call spins, or between two of its 50 ms sleep slices, is not
 * seen (docs/api.md). */
#define SHMRING_NOWAIT  0
#define SHMRING_FOREVER (-1)

/* Limits on the geometry (checked by shmring_create). */
#define SHMRING_MAX_NAME           200
#define SHMRING_MAX_SLOT_SIZE      (64u * 1024u * 1024u)
#define SHMRING_MAX_SLOT_COUNT     (1u << 24)
#define SHMRING_MAX_MSG_LIMIT      0x7fffffffu /* no max_msg above this */
#define SHMRING_DEFAULT_SLOT_SIZE  56u    /* 64-byte slots: one cache line */
#define SHMRING_DEFAULT_SLOT_COUNT 16384u /* 1 MiB of slots */
#define SHMRING_DEFAULT_SPIN_NS    20000u
#define SHMRING_RECORD_HEADER      8u /* bytes before each payload */
#define SHMRING_BATCH_MAX                                                      \
	1024u /* most messages one peekv/claimv                                \
	         hands out at a time */

/* shmring_config.flags */
#define SHMRING_F_MPSC 1u /* many producers, one consumer (docs/api.md) */
/* Producer handles an SHMRING_F_MPSC ring takes at once. */
#define SHMRING_MAX_PRODUCERS 32u

typedef struct shmring_config {
	uint32_t slot_size;  /* payload bytes of a one-slot message: the slot
	                        stride is 8 + slot_size rounded up to 16;
	                        0 = library default */
	uint32_t slot_count; /* power of two, >= 2; 0 = library default */
	uint32_t flags;   /* SHMRING_F_* bits; 0 = one producer, one consumer */
	uint32_t perm;    /* permission bits for the segment; 0 = 0600 */
	uint32_t max_msg; /* largest message in bytes, at most
	                     stride * slot_count - 8 and
	                     SHMRING_MAX_MSG_LIMIT; 0 = the default: half the
	                     ring's slot bytes, minus the record header */
} shmring_config;

/* ---- lifetime --------------------------------------------------------- */

/**
 * shmring_create() - create the ring @name and attach to it as @role.
 * @name: 1..200 characters of [A-Za-z0-9._-], not starting with '.'.
 * @cfg:  geometry and permissions; NULL means all defaults.
 * @role: SHMRING_PRODUCER or SHMRING_CONSUMER.
 * @out:  receives the handle; untouched on failure.
 *
 * A ring of that name that no live process is attached to (its processes
 * closed or died) is reclaimed: removed and created anew, losing any
 * messages it held. The ring becomes visible to shmring_open() only once it
 * is fully initialised.
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (bad name, role, flags, perm > 0777,
 *         geometry, or a max_msg the ring cannot hold), SHMRING_EEXIST (a live
 * ring has that name), SHMRING_EACCES, SHMRING_ENOMEM, SHMRING_ESYS. Blocking:
 * never.  Concurrency: any thread; races with other creators and openers of the
 * same name are safe.
 */
SHMRING_API int shmring_create(const char *name, const shmring_config *cfg,
                               enum shmring_role role, shmring **out);

/**
 * shmring_open() - attach to an existing ring as @role.
 * @name: as for shmring_create().
 * @role: SHMRING_PRODUCER or SHMRING_CONSUMER.
 * @out:  receives the handle; untouched on failure.
 *
 * A role whose previous holder died is taken over. A new consumer resumes at
 * the oldest message not yet released; a new producer continues after the
 * last committed message.
 *
 * Return: SHMRING_OK, SHMRING_EINVAL, SHMRING_ENOENT (no ring, or one still
 *         being initialised), SHMRING_EACCES, SHMRING_EBUSY (role held by a
 *         live process, this one included), SHMRING_EBADFMT, SHMRING_ENOMEM,
 *         SHMRING_ESYS.
 * Blocking: never.  Concurrency: any thread.
 */
SHMRING_API int shmring_open(const char *name, enum shmring_role role,
                             shmring **out);

/**
 * shmring_close() - detach and free the handle.
 * @r: handle, or NULL (a no-op).
 *
 * A producer's close marks end of stream: the consumer drains what is left,
 * then gets SHMRING_ECLOSED. A consumer's close makes shmring_send() return
 * SHMRING_ECLOSED until a consumer attaches again; unreleased messages stay
 * in the ring for it. A pending claim is discarded; a pending peek is not
 * released. Blocked peers are woken. The segment is not removed: see
 * shmring_unlink(). In a forked child, closing an inherited handle only
 * frees it.
 *
 * Return: SHMRING_OK.  Blocking: never.
 */
SHMRING_API int shmring_close(shmring *r);

/**
 * shmring_unlink() - remove the name @name; attached handles keep working.
 *
 * Return: SHMRING_OK, SHMRING_EINVAL, SHMRING_ENOENT, SHMRING_EACCES,
 *         SHMRING_ESYS.  Blocking: never.
 */
SHMRING_API int shmring_unlink(const char *name);

/* ---- data path: copy API ------------------------------------------------ */

/**
 * shmring_send() - copy one message of @len bytes into the ring (producer).
 * @data: the bytes; may be NULL only when @len is 0.
 * @timeout_ms: SHMRING_NOWAIT, SHMRING_FOREVER or milliseconds to wait for a
 *         free slot.
 *
 * Messages wait in the ring if no consumer is attached yet, or if the
 * consumer died (for the consumer that takes over).
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (NULL, not a producer, a claim is
 *         pending), SHMRING_EMSGSIZE (@len > shmring_max_msg()),
 *         SHMRING_EAGAIN, SHMRING_ETIMEDOUT, SHMRING_ECLOSED (the consumer
 *         closed), SHMRING_EPEERDEAD (ring full and the consumer died),
 *         SHMRING_EBADFMT (the peer corrupted the indices).
 * Blocking: up to @timeout_ms when the ring is full; SHMRING_EINTR if a
 *         signal handler interrupts the sleep (every blocking call).
 */
SHMRING_API int shmring_send(shmring *r, const void *data, size_t len,
                             int timeout_ms);

/**
 * shmring_recv() - copy the oldest message into @buf and remove it (consumer).
 * @buf: destination of @cap bytes; may be NULL only when @cap is 0.
 * @len: receives the message length (also on SHMRING_EMSGSIZE).
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (NULL, not a consumer, a peek is
 *         pending), SHMRING_EMSGSIZE (@cap too small: *len = size needed,
 *         the message stays in the ring), SHMRING_EAGAIN, SHMRING_ETIMEDOUT,
 *         SHMRING_ECLOSED (ring drained and the producer closed),
 *         SHMRING_EPEERDEAD (ring drained and the producer died),
 *         SHMRING_EBADFMT.
 * Blocking: up to @timeout_ms when the ring is empty.
 */
SHMRING_API int shmring_recv(shmring *r, void *buf, size_t cap, size_t *len,
                             int timeout_ms);

/* One message of a batch sent by shmring_sendv(): @len bytes at @data. */
typedef struct shmring_msg {
	const void *data;
	size_t len;
} shmring_msg;

/* One buffer of a batch received by shmring_recvv(): @len bytes at @data
 * on entry; on return @len is the length of the message put there. */
typedef struct shmring_buf {
	void *data;
	size_t len;
} shmring_buf;

/**
 * shmring_sendv() - send @n messages in order (producer), as @n calls of
 * shmring_send() would, but publish each run of messages that fit in the
 * free slots with one index store and one wake check.
 * @msgs: the messages; may be NULL only when @n is 0.
 * @sent: receives how many were sent, also when the call fails; those are
 *        in the ring and delivered as usual.
 * @timeout_ms: SHMRING_NOWAIT, SHMRING_FOREVER, or milliseconds: a deadline
 *        for the whole call, counted from the first time it has to wait.
 *
 * Every message is checked before any is sent: a NULL @data with a
 * non-zero @len (SHMRING_EINVAL) or a @len above shmring_max_msg()
 * (SHMRING_EMSGSIZE) sends none.
 *
 * Return: SHMRING_OK (all @n sent), or the error of shmring_send() that
 *         stopped it: SHMRING_EAGAIN (NOWAIT and the ring filled up),
 *         SHMRING_ETIMEDOUT, SHMRING_ECLOSED, SHMRING_EPEERDEAD,
 *         SHMRING_EBADFMT; SHMRING_EINVAL also if @sent is NULL.
 * Blocking: up to @timeout_ms in all, while the ring is full.
 */
SHMRING_API int shmring_sendv(shmring *r, const shmring_msg *msgs, size_t n,
                              size_t *sent, int timeout_ms);

/**
 * shmring_recvv() - receive up to @n messages into @msgs (consumer): wait
 * for the first as shmring_recv() does, then take those already published,
 * without waiting again, and release them with one index store and one
 * wake check.
 * @msgs: @n buffers, filled in order; each @len becomes the length of its
 *        message. Buffers from *@received on are left as they were.
 * @received: receives how many messages were taken (0 on error).
 *
 * The batch stops before a message that does not fit its buffer; it stays
 * in the ring for the next call. If the first does not fit, the call
 * returns SHMRING_EMSGSIZE with msgs[0].len set to the size needed, as
 * shmring_recv() does.
 *
 * Return: SHMRING_OK (*@received >= 1, or 0 when @n is 0), or as
 *         shmring_recv(); SHMRING_EINVAL also if @received is NULL or a
 *         buffer has a NULL @data and a non-zero @len.
 * Blocking: up to @timeout_ms while the ring is empty.
 */
SHMRING_API int shmring_recvv(shmring *r, shmring_buf *msgs, size_t n,
                              size_t *received, int timeout_ms);

/* ---- data path: zero-copy API ------------------------------------------- */

/**
 * shmring_claim() - reserve room for a message of up to @len bytes and
 * return where to write it (producer). Finish with shmring_commit().
 * @payload: receives a pointer to @len writable, contiguous bytes inside
 *        the ring (the whole message, even when it spans many slots).
 *
 * Return: as shmring_send(); SHMRING_EINVAL also if a claim is pending.
 */
SHMRING_API int shmring_claim(shmring *r, size_t len, void **payload,
                              int timeout_ms);

/**
 * shmring_commit() - publish the claimed message with @len bytes (at most
 * the claimed length; the slots a shorter message does not need are
 * given back). Same as shmring_commitv(r, &len, 1).
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (no claim pending, or @len larger than
 *         claimed).  Blocking: never.
 */
SHMRING_API int shmring_commit(shmring *r, size_t len);

/**
 * shmring_claimv() - reserve room for up to @n messages (producer): wait
 * for room for the first as shmring_claim() does, then claim those that
 * fit now, without waiting again, up to SHMRING_BATCH_MAX. Finish with
 * shmring_commitv().
 * @bufs: on entry bufs[i].len is the size wanted for message i; on return
 *        bufs[i].data points at bufs[i].len writable bytes in the ring,
 *        for i < *@claimed (the others are left as they were).
 * @claimed: receives how many were claimed (0 on error).
 *
 * Every size is checked before any is claimed: one above shmring_max_msg()
 * is SHMRING_EMSGSIZE and claims none.
 *
 * Return: SHMRING_OK (*@claimed >= 1, or 0 when @n is 0), or as
 *         shmring_claim(); SHMRING_EINVAL also if @claimed is NULL.
 * Blocking: up to @timeout_ms while there is no room for the first.
 */
SHMRING_API int shmring_claimv(shmring *r, shmring_buf *bufs, size_t n,
                               size_t *claimed, int timeout_ms);

/**
 * shmring_commitv() - publish the first @n claimed messages with one index
 * store and one wake check; the claims after them are discarded.
 * @lens: the length of each, at most what was claimed for it; NULL means
 *        each at its claimed length.
 *
 * Return: SHMRING_OK (also for @n == 0, which discards every claim),
 *         SHMRING_EINVAL (no claim pending, @n above the number claimed,
 *         or a length above its claim: then nothing is committed and the
 *         claims stay pending).  Blocking: never.
 */
SHMRING_API int shmring_commitv(shmring *r, const size_t *lens, size_t n);

/**
 * shmring_peek() - return the oldest message in place (consumer). The
 * message stays in the ring until shmring_release(). Peeking again before
 * release returns the same message.
 * @data: receives a pointer to the bytes, valid until shmring_release().
 * @len:  receives their number.
 *
 * Return: as shmring_recv() but never SHMRING_EMSGSIZE.
 */
SHMRING_API int shmring_peek(shmring *r, const void **data, size_t *len,
                             int timeout_ms);

/**
 * shmring_release() - remove the oldest peeked message from the ring. Same
 * as shmring_releasev(r, 1).
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (no peek pending).  Blocking: never.
 */
SHMRING_API int shmring_release(shmring *r);

/**
 * shmring_peekv() - look at up to @n messages in place (consumer): wait
 * for one as shmring_peek() does, then take those already published,
 * without waiting again, up to SHMRING_BATCH_MAX in all. Messages peeked
 * before and not yet released come first, in order, at the same
 * addresses: peeking again returns them again, followed by newer ones.
 * @msgs: receives the messages, msgs[i] for i < *@got; each valid until
 *        its release.
 * @got: receives how many (0 on error).
 *
 * Return: SHMRING_OK (*@got >= 1, or 0 when @n is 0), or as
 *         shmring_peek(); SHMRING_EINVAL also if @got is NULL.
 * Blocking: up to @timeout_ms while no message is there.
 */
SHMRING_API int shmring_peekv(shmring *r, shmring_msg *msgs, size_t n,
                              size_t *got, int timeout_ms);

/**
 * shmring_releasev() - remove the oldest @n peeked messages from the ring
 * with one index store and one wake check; the others stay peeked, at the
 * same addresses.
 *
 * Return: SHMRING_OK (also for @n == 0), SHMRING_EINVAL (@n above the
 *         number peeked).  Blocking: never.
 */
SHMRING_API int shmring_releasev(shmring *r, size_t n);

/**
 * shmring_pending_index() - the ring index of the @i-th open claim
 * (producer) or of the @i-th peeked and unreleased message (consumer),
 * oldest first: the slot number at which its record starts, counted from 0
 * since the ring was created and never reused, so that with the ring's name
 * and creation time (shmring_inspect()) it names one message for good. A
 * consumer that dies after a peek and the one that takes over see the same
 * index for the same message; a producer's claim at index x is committed
 * once the producer index passes x (shmring_info.head > x).
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (@r or @index NULL, @i not below the
 *         number of open claims or peeks).  Blocking: never.
 */
SHMRING_API int shmring_pending_index(const shmring *r, size_t i,
                                      uint64_t *index);

/* ---- utilities ---------------------------------------------------------- */

/* Largest message shmring_send() accepts (the ring's max_msg, set at
 * create); 0 for NULL. */
SHMRING_API size_t shmring_max_msg(const shmring *r);

/**
 * shmring_set_spin() - how long a call that must wait spins, re-reading the
 * indices, before it sleeps on its wake object. 0 sleeps at once: best for
 * a side that waits long, but a consumer that keeps up with a stream is
 * then woken about once per message (a system call on each side). The
 * default is SHMRING_DEFAULT_SPIN_NS. Per handle; not shared. Whatever the
 * budget, a waiter whose peer last ran on the waiter's own CPU sleeps at
 * once, since the peer cannot run while it spins.
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (@r is NULL).
 */
SHMRING_API int shmring_set_spin(shmring *r, uint32_t spin_ns);

/* Counters kept privately by one handle (never read from shared memory). */
typedef struct shmring_stats {
	uint64_t messages; /* messages sent/committed (producer) or
	                      received/released (consumer) by this handle */
	uint64_t waits;    /* times it slept on its wake object: one system call
	                      each (futex wait / WaitForMultipleObjects) */
	uint64_t wakes;    /* times it signalled the sleeping peer: one system
	                      call each (futex wake / SetEvent) */
	uint64_t abandoned; /* consumer of an SHMRING_F_MPSC ring: claims
	                       that dead producers made and never
	                       committed, skipped as padding (one per call
	                       that claimed: a claimv or sendv batch of
	                       several messages is one); 0 elsewhere */
} shmring_stats;

/**
 * shmring_get_stats() - copy the handle's counters into @out.
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (@r or @out is NULL).  Blocking: never.
 */
SHMRING_API int shmring_get_stats(const shmring *r, shmring_stats *out);

/* ---- inspection: a read-only look at rings by name ---------------------- */

/* A role's state as shmring_inspect() judges it now. */
enum shmring_role_state {
	SHMRING_ROLE_NONE = 0,     /* never attached */
	SHMRING_ROLE_ATTACHED = 1, /* held by a live process */
	SHMRING_ROLE_CLOSED = 2,   /* its last holder closed */
	SHMRING_ROLE_DEAD = 3,     /* its holder died without closing */
	SHMRING_ROLE_CORRUPT = 4,  /* the record holds no valid state */
};

/* Running totals one side keeps in the segment, over every holder of the
 * role, flushed when it waits, before it sleeps, when it wakes its peer
 * and at close (not per message): they may lag a busy side by up to 1024
 * messages. A hostile peer can write anything here: they are for people
 * and monitors, never for decisions. */
typedef struct shmring_counters {
	uint64_t messages;  /* sent (producer) / received (consumer) */
	uint64_t bytes;     /* their payload bytes */
	uint64_t blocked;   /* times a call found the ring full / empty */
	uint64_t sleeps;    /* sleeps on the wake object */
	uint64_t wakes;     /* wake-ups sent to the sleeping peer */
	uint64_t timeouts;  /* calls that ended in SHMRING_ETIMEDOUT */
	uint64_t badfmt;    /* corrupt values detected (SHMRING_EBADFMT) */
	uint64_t abandoned; /* records of dead producers skipped
	                       (multi-producer rings; 0 here) */
	uint64_t last_ns;   /* wall-clock ns (Unix epoch) of the last flush;
	                       0 = never */
} shmring_counters;

typedef struct shmring_role_info {
	uint32_t state; /* enum shmring_role_state */
	uint32_t pid;   /* process id of the holder (or last holder); 0 */
	shmring_counters counters;
} shmring_role_info;

typedef struct shmring_info {
	uint32_t version;     /* segment format version (2) */
	uint32_t slot_size;   /* as configured */
	uint32_t slot_stride; /* bytes per slot */
	uint32_t slot_count;
	uint32_t flags;
	uint32_t max_msg;
	uint64_t seg_size;          /* bytes */
	uint64_t created_ns;        /* wall-clock ns at creation */
	uint64_t head, tail;        /* slot indices as read */
	uint64_t used_slots;        /* head - tail: the fill level, in slots;
	                               UINT64_MAX when the indices are inconsistent */
	shmring_role_info producer; /* SHMRING_F_MPSC: all producers at once:
	                               ATTACHED if one lives (pid: the
	                               first), else DEAD if an entry is held
	                               by a dead process, else CLOSED once one
	                               attached, else NONE; counters summed */
	shmring_role_info consumer;
	uint32_t producers; /* live producer handles (1 or 0 for SPSC) */
} shmring_info;

/**
 * shmring_inspect() - read ring @name's geometry, attach records, fill
 * level and counters into @out, without attaching: the segment is mapped
 * read-only (so read permission suffices) and every value is read once
 * and checked, as from a hostile peer. Liveness is judged as
 * shmring_create() judges it (process id, start time, zombies dead).
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (bad name or NULL @out),
 *         SHMRING_ENOENT (no such ring, or one still being created),
 *         SHMRING_EACCES, SHMRING_EBADFMT (not a valid ring: corrupt, or
 *         another format version), SHMRING_ENOMEM, SHMRING_ESYS.
 * Blocking: never.
 */
SHMRING_API int shmring_inspect(const char *name, shmring_info *out);

/* One producer entry as shmring_inspect_producers() judges it now. */
typedef struct shmring_producer_info {
	uint32_t entry;    /* its place in the table, 0..SHMRING_MAX_PRODUCERS-1
	                      (always 0 for a single-producer ring) */
	uint32_t state;    /* enum shmring_role_state, never NONE here */
	uint32_t pid;      /* process id of the holder (or last holder) */
	uint32_t sleeping; /* 1: it may be asleep, waiting for room */
} shmring_producer_info;

/**
 * shmring_inspect_producers() - one row per producer entry of ring @name
 * that a producer ever held (the one producer role of a single-producer
 * ring), in entry order: the first @cap into @out, the number of such
 * entries into *@count (so a call with @cap 0 sizes the array; at most
 * SHMRING_MAX_PRODUCERS). Read-only and judged as shmring_inspect() does;
 * the counters are per side, summed over the producers, in shmring_info.
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (bad name, NULL @count, NULL @out
 *         with @cap > 0), and shmring_inspect()'s other errors.
 * Blocking: never.
 */
SHMRING_API int shmring_inspect_producers(const char *name,
                                          shmring_producer_info *out,
                                          size_t cap, size_t *count);

/**
 * shmring_list() - call @fn(name, @arg) for every ring name on this host
 * (valid names only; the rings are not opened, so some may be corrupt or
 * half created) until it returns non-zero.
 *
 * Return: SHMRING_OK, SHMRING_EINVAL (@fn NULL), or the OS's error.
 */
SHMRING_API int shmring_list(int (*fn)(const char *name, void *arg), void *arg);

/**
 * shmring_unlink_stale() - remove the name @name if no live process is
 * attached to its ring (its processes closed or died, or it is not a ring
 * at all): the judgement shmring_create() uses before it reclaims a name.
 *
 * Return: SHMRING_OK (removed), SHMRING_EBUSY (a live process is attached,
 *         or is creating or opening it right now: kept), SHMRING_ENOENT,
 *         SHMRING_EINVAL, SHMRING_EACCES, SHMRING_ESYS.
 * Blocking: never.
 */
SHMRING_API int shmring_unlink_stale(const char *name);

/* A static, never-NULL English description of @code (any value). */
SHMRING_API const char *shmring_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif /* SHMRING_H */
