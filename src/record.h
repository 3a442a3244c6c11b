/* SPDX-License-Identifier: MIT */
/*
 * record.h -- the record format of layout.h in code: how the one-word
 * record header is packed and unpacked, and how many slots a record of a
 * given length covers. Pure arithmetic on values already read; it touches
 * no memory, so every caller decides once where the word comes from and
 * how it is ordered. docs/format.md "Slots and records" is the reference.
 */
#ifndef SHMRING_RECORD_H
#define SHMRING_RECORD_H

#include <stdint.h>

#include "layout.h"

#define SR_REC_LAP_BITS  30u
#define SR_REC_LAP_MASK  ((UINT64_C(1) << SR_REC_LAP_BITS) - 1u)
#define SR_REC_TYPE_MASK 3u

/* The header word of a record of @type and @len starting at slot index
 * @index, in a ring of 2^@lap_shift slots. */
static inline uint64_t sr_rec_word(uint32_t type, uint32_t len, uint64_t index,
                                   uint32_t lap_shift)
{
	return (uint64_t)len | (uint64_t)type << 32 |
	       ((index >> lap_shift) & SR_REC_LAP_MASK) << 34;
}

static inline uint32_t sr_rec_len(uint64_t word)
{
	return (uint32_t)word;
}

static inline uint32_t sr_rec_type(uint64_t word)
{
	return (uint32_t)(word >> 32) & SR_REC_TYPE_MASK;
}

/* 1 if @word was written for the lap of slot index @index. */
static inline int sr_rec_lap_is(uint64_t word, uint64_t index,
                                uint32_t lap_shift)
{
	return (word >> 34) == ((index >> lap_shift) & SR_REC_LAP_MASK);
}

/* Slots covered by a record of @len bytes: ceil((8 + len) / stride). One
 * compare for the common one-slot case; for longer ones a shift when the
 * stride is 2^@shift (@shift 0: it is not), else a division. @len is at
 * most 2^32 - 1, so the sum cannot overflow 64 bits. */
static inline uint64_t sr_rec_slots(uint64_t len, uint32_t stride,
                                    uint32_t shift)
{
	uint64_t bytes = len + SR_REC_HDR + stride - 1u;

	if (len + SR_REC_HDR <= stride)
		return 1;
	return shift ? bytes >> shift : bytes / stride;
}

/* RESV words (MPSC): the len field packs the claiming producer's entry
 * and the claim's extent in slots (at most SHMRING_MAX_SLOT_COUNT). */
#define SR_RESV_SLOTS_BITS 25u
#define SR_RESV_SLOTS_MASK ((UINT32_C(1) << SR_RESV_SLOTS_BITS) - 1u)

static inline uint32_t sr_resv_len(uint32_t producer, uint64_t slots)
{
	return producer << SR_RESV_SLOTS_BITS | (uint32_t)slots;
}

static inline uint32_t sr_resv_producer(uint32_t len)
{
	return len >> SR_RESV_SLOTS_BITS;
}

static inline uint32_t sr_resv_slots(uint32_t len)
{
	return len & SR_RESV_SLOTS_MASK;
}

/*
 * FREE words (MPSC): what the consumer stores into each slot it frees, and
 * the only value a claim replaces. Type EMPTY, the lap of @index, and a
 * len field that mixes @index with the ring's key (an odd random number
 * the creator chose), never zero: a producer that read a FREE word and
 * stalled for laps before its CAS finds the slot inside some later record,
 * whose payload would have to hold exactly this 64-bit value for the CAS
 * to succeed (docs/protocol.md, "Claiming").
 */
static inline uint64_t sr_free_word(uint64_t key, uint64_t index,
                                    uint32_t lap_shift)
{
	uint32_t tag =
	        (uint32_t)(((key ^ index) * UINT64_C(0x9e3779b97f4a7c15)) >>
	                   32) |
	        1u;

	return sr_rec_word(SR_REC_EMPTY, tag, index, lap_shift);
}

/* The len field of a padding record covering @slots slots. */
static inline uint32_t sr_pad_len(uint64_t slots, uint32_t stride)
{
	return (uint32_t)(slots * stride - SR_REC_HDR);
}

#endif /* SHMRING_RECORD_H */
