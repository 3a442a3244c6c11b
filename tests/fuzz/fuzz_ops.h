/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ops.h -- state of one fuzz_ops script: the ring under test, the
 * hostile peer's own mapping of it, and the reference model that predicts
 * every return code while no write the model cannot follow has happened.
 *
 * The model is the format of docs/format.md (version 2) and the contract
 * of include/shmring.h, kept in slot indices: the records published and
 * not yet released (messages and padding, tail..head, in order), the
 * producer's pending claims (with the padding written before each), how
 * many messages the consumer has peeked, and the head as the consumer
 * last read it (a record is checked against that, docs/format.md).
 */
#ifndef SHMRING_FUZZ_OPS_H
#define SHMRING_FUZZ_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz_script.h"
#include "layout.h"
#include "shmring.h"

#define FZ_RECS 128u /* >= FZ_MAX_COUNT: a record is >= 1 slot */

enum { FZ_NONE, FZ_ATTACHED, FZ_CLOSED }; /* a role's state, as modelled */
enum { FZ_MSG = 1, FZ_PAD = 2 };          /* record types (format.md) */

/* A published record, or one a pending claim will publish. */
struct fz_rec {
	uint64_t at;  /* slot index of its header word */
	uint64_t seq; /* messages: which fz_fill() pattern */
	uint32_t len; /* the word's len field */
	uint32_t ext; /* slots covered */
	uint8_t type;
	uint8_t touched;  /* a hostile write hit its header word */
	const void *addr; /* consumer: where peekv showed it, else NULL */
};

/* A pending claim: @pad slots of padding written before it at at - pad
 * (touched: a hostile write hit that padding's word). */
struct fz_claim {
	uint64_t at;
	uint32_t len, ext, pad;
	uint8_t pad_touched;
	void *addr;
};

struct fz {
	struct fz_in in; /* the script */
	char name[64];
	shmring *prod, *cons; /* NULL while closed (calls then want EINVAL) */
	uint8_t *prod_map, *cons_map; /* each handle's own mapping */
	uint8_t *seg;                 /* the hostile peer's mapping */
	size_t seg_size;
	uint32_t slot_size, count, stride, max_msg, shift;
	/* the model */
	struct fz_rec q[FZ_RECS]; /* published records, tail .. head */
	unsigned qh, qn;
	uint64_t head, tail; /* as published */
	uint64_t c_head;     /* head as the consumer last read it */
	uint64_t next_seq;   /* pattern of the next message sent */
	struct fz_claim cl[FZ_BATCH];
	unsigned ncl;    /* claims pending */
	unsigned peeked; /* messages the consumer holds peeked */
	int prod_state, cons_state;
	int corrupt;    /* a write the model cannot follow happened */
	int timed_left; /* 1 ms calls left in this script (they sleep) */
	int opens_left; /* opens left in this script */
	uint8_t orig[SR_HDR_SIZE]; /* header page as set up */
};

/* fuzz_ops_model.c */
int fz_setup(struct fz *z, const uint8_t *d, size_t n);
void fz_teardown(struct fz *z);
void fz_toggle(struct fz *z, int side); /* close a held role, or reopen */
void fz_open_check(struct fz *z, int side, shmring **h, int want);
void fz_write(struct fz *z, uint8_t target, uint64_t raw, uint8_t mode);
void fz_write_word(struct fz *z, uint8_t which, uint8_t mode, uint64_t raw);

uint32_t fz_slots(const struct fz *z, uint64_t len);
struct fz_rec *fz_rec(struct fz *z, unsigned j); /* j-th from the tail */
uint8_t *fz_payload(const struct fz *z, const uint8_t *map, uint64_t at);

/* Producer: each returns the code the contract wants and, for OK, moves
 * the model as the call will (records published, claims noted). */
int fz_m_send(struct fz *z, size_t len, int timed);
int fz_m_sendv(struct fz *z, const size_t *lens, size_t n, int timed,
               size_t *sent);
int fz_m_claimv(struct fz *z, const size_t *lens, size_t n, int timed,
                size_t *claimed);
int fz_m_commitv(struct fz *z, const size_t *lens, size_t n);
/* Consumer: as above; *out gets copies of the records delivered, in
 * order, *nout their number. */
int fz_m_recvv(struct fz *z, const size_t *caps, size_t n, int timed,
               struct fz_rec *out, size_t *nout, uint32_t *need);
int fz_m_peekv(struct fz *z, size_t n, int timed, struct fz_rec **out,
               size_t *nout);
int fz_m_releasev(struct fz *z, size_t n);
void fz_m_verify(const struct fz *z, const struct fz_rec *r, const void *p,
                 size_t len);

#endif /* SHMRING_FUZZ_OPS_H */
