/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ops.h -- state of one fuzz_ops script: the ring under test, the
 * hostile peer's own mapping of it, and the reference queue that predicts
 * every return code while no write the model cannot follow has happened.
 */
#ifndef SHMRING_FUZZ_OPS_H
#define SHMRING_FUZZ_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "shmring.h"

#define FZ_MAX_SLOT  120u /* payload bytes: stride <= 128 */
#define FZ_MAX_COUNT 16u

enum { FZ_NONE, FZ_ATTACHED, FZ_CLOSED }; /* a role's state, as modelled */

struct fz {
	const uint8_t *d; /* the script */
	size_t n, i;
	char name[64];
	shmring *prod, *cons; /* NULL while closed (calls then want EINVAL) */
	uint8_t *seg;         /* the hostile peer's mapping */
	size_t seg_size;
	uint32_t slot_size, count, stride;
	/* reference queue: messages published and not yet released */
	struct {
		uint64_t seq; /* == the ring index of the message */
		uint32_t len;
	} q[FZ_MAX_COUNT];
	unsigned qh, qn;
	uint64_t next_seq; /* == head */
	int claim;         /* the producer holds a claim */
	uint32_t claim_len;
	int peek; /* the consumer holds a peek */
	int prod_state, cons_state;
	int corrupt;    /* a write the model cannot follow happened */
	int timed_left; /* 1 ms calls left in this script (they sleep) */
	int opens_left; /* opens left in this script (each costs ~20 syscalls)
	                 */
	uint8_t orig[SR_HDR_SIZE]; /* header page as set up */
};

int fz_setup(struct fz *z, const uint8_t *d, size_t n);
void fz_teardown(struct fz *z);
void fz_toggle(struct fz *z, int side); /* close a held role, or reopen */
void fz_open_check(struct fz *z, int side, shmring **h, int want);
void fz_write(struct fz *z, uint8_t target, uint64_t raw, uint8_t mode);

uint64_t fz_next_seq(const struct fz *z);
void fz_fill(void *buf, uint64_t seq, size_t len);
int fz_model_reserve(const struct fz *z, size_t len, int timed);
int fz_model_take(const struct fz *z, size_t cap, int timed, int peek);
void fz_model_claimed(struct fz *z, size_t len);
void fz_model_push(struct fz *z, size_t len);
void fz_model_pop(struct fz *z);
void fz_model_verify(const struct fz *z, const void *p, size_t len);
void fz_model_verify_pop(struct fz *z, const void *p, size_t len);

#endif /* SHMRING_FUZZ_OPS_H */
