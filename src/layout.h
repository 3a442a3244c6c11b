/* SPDX-License-Identifier: MIT */
/*
 * layout.h -- the shared segment, byte by byte. Mirrors docs/format.md; any
 * change to an offset or a meaning is a format-version bump.
 *
 * All integers are little-endian and fixed width; no pointers, size_t, bool,
 * enum or long, whose sizes differ between LP64 and LLP64.
 *
 * The peer may write anything anywhere in this memory. A handle validates
 * the header once on open, against the size the OS reports for the mapping,
 * then copies the geometry into private memory (struct shmring in ring.c).
 * Nothing reads geometry from here after open: add no read of
 * seg->hdr.slot_count or friends on any later path.
 */
#ifndef SHMRING_LAYOUT_H
#define SHMRING_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SR_MAGIC          UINT64_C(0x31474e49524d4853) /* "SHMRING1" as bytes */
#define SR_FORMAT_VERSION 2u
#define SR_HDR_SIZE       4096u /* header page; slots start here */
#define SR_REC_HDR        8u    /* struct sr_rec before each payload */
#define SR_STRIDE_ALIGN   16u   /* slot strides are multiples of this */

/* attach record states (struct sr_role.state) */
#define SR_ROLE_NONE     0u /* never attached */
#define SR_ROLE_ATTACHED 1u /* owner holds the role (may have died) */
#define SR_ROLE_CLOSED   2u /* holder closed in order */

/* capability bits of a role's holder (struct sr_role.caps) */
#define SR_CAP_HEAVY_BARRIER 1u /* it runs a heavy barrier before sleeping */

/* Line 0: written once by the creator before magic; read-only after. */
struct sr_hdr {                 /* off  len                                  */
	_Atomic uint64_t magic; /*   0    8  SR_MAGIC, stored last (release) */
	uint32_t version;     /*   8    4  SR_FORMAT_VERSION                 */
	uint32_t hdr_size;    /*  12    4  SR_HDR_SIZE: offset of slot 0     */
	uint32_t slot_size;   /*  16    4  payload of a one-slot message     */
	uint32_t slot_stride; /*  20    4  roundup(8 + slot_size, 16)        */
	uint32_t slot_count;  /*  24    4  power of two, >= 2                */
	uint32_t flags;       /*  28    4  SHMRING_F_*; none defined: 0      */
	uint64_t seg_size;    /*  32    8  hdr_size + stride * count         */
	uint64_t created_ns;  /*  40    8  CLOCK_REALTIME at creation; info  */
	uint32_t max_msg;     /*  48    4  largest message, bytes            */
	uint32_t reserved0;   /*  52    4  zero                              */
	uint64_t mp_key;      /*  56    8  SHMRING_F_MPSC: the key of FREE
	                                     words (record.h), odd; else 0   */
	uint8_t reserved[64]; /*  64   64  zero                              */
};

/* Attach record of one role, written by the process that holds the role. */
struct sr_role {                /* off  len                                  */
	_Atomic uint64_t owner; /*   0    8  holder's process token; 0 = none */
	_Atomic uint32_t state; /*   8    4  SR_ROLE_* */
	_Atomic uint32_t caps; /*  12    4  SR_CAP_* of the holder            */
	uint8_t reserved[112]; /*  16  112  zero                              */
};

/* A free-running 64-bit index, alone on its line. slot = index & (count-1). */
struct sr_index { /* off  len                                  */
	_Atomic uint64_t
	        value;         /*   0    8  head (producer) / tail (consumer) */
	uint8_t reserved[120]; /*   8  120  zero                              */
};

/* One side's wake object: the word it sleeps on (set to 1 by the peer to
 * signal, reset to 0 by the sleeper) and its "I am sleeping" flag (written
 * by the sleeper, read by the peer after every publish). Separate lines:
 * the flag is read on the peer's hot path, the word only on a wake. */
struct sr_wake { /* off  len                                  */
	_Atomic uint32_t
	        word; /*   0    4  futex word (Linux); hint elsewhere */
	uint8_t reserved0[124];    /*   4  124  zero    */
	_Atomic uint32_t sleeping; /* 128    4  1 while the owner may sleep */
	_Atomic uint32_t cpu;      /* 132    4  CPU the owner last waited on,
	                                        + 1; 0 = unknown           */
	uint8_t reserved1[120];    /* 136  120  zero    */
};

/*
 * One side's counters, for monitors (shmring_inspect, the shmring command):
 * written only by that side's holder, as relaxed stores of running totals,
 * flushed from private counts when it waits, before it sleeps, and at
 * close; never read back by the ring logic. A hostile peer may write
 * anything here: it changes only what a monitor shows.
 */
struct sr_counters {            /* off  len                                  */
	_Atomic uint64_t msgs;  /*   0    8  messages sent / received      */
	_Atomic uint64_t bytes; /*   8    8  their payload bytes           */
	_Atomic uint64_t blocked;  /*  16    8  times the ring was full/empty */
	_Atomic uint64_t sleeps;   /*  24    8  sleeps on the wake object     */
	_Atomic uint64_t wakes;    /*  32    8  wake-ups sent to the peer     */
	_Atomic uint64_t timeouts; /*  40    8  calls that timed out          */
	_Atomic uint64_t badfmt;   /*  48    8  corrupt values detected       */
	_Atomic uint64_t abandoned; /* 56   8  records of dead producers
	                                        skipped (multi-producer; 0)  */
	_Atomic uint64_t last_ns; /*  64    8  wall clock at the last flush  */
	uint8_t reserved[56];     /*  72   56  zero                          */
};

/*
 * Many producers (SHMRING_F_MPSC; all zero in a single-producer ring): one
 * entry per producer handle, a line each, written by its holder (owner,
 * state, caps, since, cpu, sleeping, wake_at) and by the consumer (word,
 * to wake it). The first 16 bytes have struct sr_role's layout.
 */
struct sr_mp_prod {             /* off  len                                  */
	_Atomic uint64_t owner; /*   0    8  holder's process token; 0 = none */
	_Atomic uint32_t state; /*   8    4  SR_ROLE_*                       */
	_Atomic uint32_t caps;  /*  12    4  SR_CAP_* of the holder          */
	_Atomic uint64_t since; /*  16    8  claim frontier when the holder
	                                     took the entry: claims below it
	                                     are its predecessors'           */
	_Atomic uint32_t word;  /*  24    4  its wake word (futex / hint)    */
	_Atomic uint32_t cpu;   /*  28    4  CPU it last waited on, + 1      */
	_Atomic uint32_t sleeping; /* 32  4  zeroed at attach; unused (its
	                                     sleeps: the sleepers bit)      */
	uint32_t reserved0;        /* 36  4  zero                           */
	_Atomic uint64_t wake_at;  /* 40  8  while its sleepers bit is set:
	                                     the tail at which the consumer
	                                     wakes it (the wake threshold)  */
	uint8_t reserved[16];      /* 48 16  zero                           */
};

#define SR_MP_MAX 32u /* = SHMRING_MAX_PRODUCERS */

/* The many-producer lines. sleepers: bit k set while producer k may sleep
 * (producers set and clear theirs, the consumer takes them all). attached:
 * entries held (taken +1, closed -1; a takeover of a dead holder keeps
 * its count), a hint for the consumer's idle polls only. */
struct sr_mp {                     /* off  len                              */
	_Atomic uint64_t sleepers; /*   0    8  bit k: producer k sleeps   */
	uint8_t reserved0[120];    /*   8  120  zero                       */
	_Atomic uint32_t attached; /* 128    4  producer entries held      */
	uint8_t reserved1[124];    /* 132  124  zero                       */
	struct sr_mp_prod prod[SR_MP_MAX]; /* 256 2048                      */
};

/* The header page. Side 0 is the producer, side 1 the consumer. */
struct sr_seg {                 /* off   len                                */
	struct sr_hdr hdr;      /*    0   128  creator                        */
	struct sr_role role[2]; /*  128   256  [0] producer, [1] consumer     */
	struct sr_index head;   /*  384   128  producer: next index to write;
	                                        MPSC: the claim hint          */
	struct sr_index tail;   /*  512   128  consumer: next index to read   */
	struct sr_wake wake[2]; /*  640   512  [0] producer's, [1] consumer's */
	struct sr_counters
	        ctr[2];        /* 1152 256  [0] producers', [1] consumer's */
	struct sr_mp mp;       /* 1408 2304  many producers                */
	uint8_t reserved[384]; /* 3712  384  zero                           */
};

/*
 * Record header: the first 8 bytes of the first slot of every record, one
 * 64-bit word so that it can be published with one store. A record of len
 * payload bytes covers sr_rec_slots() consecutive slots and never runs
 * past the last slot: one that would is preceded by a padding record to
 * the end of the ring. The word packs (record.h has the accessors):
 *   bits  0..31  len   payload bytes (SR_REC_MSG) or, for SR_REC_PAD, the
 *                      bytes covered minus 8, so that one formula gives
 *                      the extent of both
 *   bits 32..33  type  SR_REC_*
 *   bits 34..63  lap   (start index >> log2(slot_count)) mod 2^30: a
 *                      header left from an earlier lap never matches
 */
struct sr_rec {                /* off  len                                */
	_Atomic uint64_t word; /*   0    8  len | type << 32 | lap << 34   */
};                             /*   8       payload, contiguous            */

#define SR_REC_EMPTY 0u /* nothing written for this lap */
#define SR_REC_MSG   1u /* a message of len bytes */
#define SR_REC_PAD   2u /* padding: skipped, never delivered */
#define SR_REC_RESV                                                            \
	3u /* claimed by a producer of an MPSC ring, payload being             \
	      written; len = producer << 25 | slots. Never valid in SPSC */

_Static_assert(sizeof(struct sr_hdr) == 128, "format: header line");
_Static_assert(offsetof(struct sr_hdr, magic) == 0, "format: magic");
_Static_assert(offsetof(struct sr_hdr, version) == 8, "format: version");
_Static_assert(offsetof(struct sr_hdr, hdr_size) == 12, "format: hdr_size");
_Static_assert(offsetof(struct sr_hdr, slot_size) == 16, "format: slot_size");
_Static_assert(offsetof(struct sr_hdr, slot_stride) == 20, "format: stride");
_Static_assert(offsetof(struct sr_hdr, slot_count) == 24, "format: count");
_Static_assert(offsetof(struct sr_hdr, flags) == 28, "format: flags");
_Static_assert(offsetof(struct sr_hdr, seg_size) == 32, "format: seg_size");
_Static_assert(offsetof(struct sr_hdr, created_ns) == 40, "format: created");
_Static_assert(offsetof(struct sr_hdr, max_msg) == 48, "format: max_msg");
_Static_assert(offsetof(struct sr_hdr, reserved0) == 52, "format: hdr rsvd0");
_Static_assert(offsetof(struct sr_hdr, mp_key) == 56, "format: mp_key");
_Static_assert(offsetof(struct sr_hdr, reserved) == 64, "format: hdr rsvd");
_Static_assert(sizeof(struct sr_role) == 128, "format: role record");
_Static_assert(offsetof(struct sr_role, owner) == 0, "format: owner");
_Static_assert(offsetof(struct sr_role, state) == 8, "format: state");
_Static_assert(offsetof(struct sr_role, caps) == 12, "format: caps");
_Static_assert(offsetof(struct sr_role, reserved) == 16, "format: role rsvd");
_Static_assert(sizeof(struct sr_index) == 128, "format: index line");
_Static_assert(offsetof(struct sr_index, reserved) == 8, "format: index rsvd");
_Static_assert(sizeof(struct sr_wake) == 256, "format: wake lines");
_Static_assert(offsetof(struct sr_wake, word) == 0, "format: wake word");
_Static_assert(offsetof(struct sr_wake, sleeping) == 128, "format: sleeping");
_Static_assert(offsetof(struct sr_wake, cpu) == 132, "format: wake cpu");
_Static_assert(offsetof(struct sr_wake, reserved1) == 136, "format: wake rsvd");
_Static_assert(offsetof(struct sr_seg, role) == 128, "format: roles");
_Static_assert(offsetof(struct sr_seg, head) == 384, "format: head");
_Static_assert(offsetof(struct sr_seg, tail) == 512, "format: tail");
_Static_assert(offsetof(struct sr_seg, wake) == 640, "format: wake");
_Static_assert(sizeof(struct sr_counters) == 128, "format: counter lines");
_Static_assert(offsetof(struct sr_counters, msgs) == 0, "format: ctr msgs");
_Static_assert(offsetof(struct sr_counters, bytes) == 8, "format: ctr bytes");
_Static_assert(offsetof(struct sr_counters, blocked) == 16, "format: blocked");
_Static_assert(offsetof(struct sr_counters, sleeps) == 24, "format: sleeps");
_Static_assert(offsetof(struct sr_counters, wakes) == 32, "format: wakes");
_Static_assert(offsetof(struct sr_counters, timeouts) == 40, "format: tmo");
_Static_assert(offsetof(struct sr_counters, badfmt) == 48, "format: badfmt");
_Static_assert(offsetof(struct sr_counters, abandoned) == 56, "format: aband");
_Static_assert(offsetof(struct sr_counters, last_ns) == 64, "format: last");
_Static_assert(offsetof(struct sr_counters, reserved) == 72,
               "format: ctr rsvd");
_Static_assert(offsetof(struct sr_seg, ctr) == 1152, "format: counters");
_Static_assert(sizeof(struct sr_mp_prod) == 64, "format: producer entry");
_Static_assert(offsetof(struct sr_mp_prod, owner) == 0, "format: mp owner");
_Static_assert(offsetof(struct sr_mp_prod, state) == 8, "format: mp state");
_Static_assert(offsetof(struct sr_mp_prod, caps) == 12, "format: mp caps");
_Static_assert(offsetof(struct sr_mp_prod, since) == 16, "format: mp since");
_Static_assert(offsetof(struct sr_mp_prod, word) == 24, "format: mp word");
_Static_assert(offsetof(struct sr_mp_prod, cpu) == 28, "format: mp cpu");
_Static_assert(offsetof(struct sr_mp_prod, sleeping) == 32, "format: mp slp");
_Static_assert(offsetof(struct sr_mp_prod, wake_at) == 40, "format: mp wake");
_Static_assert(offsetof(struct sr_mp_prod, reserved) == 48, "format: mp rsvd");
_Static_assert(offsetof(struct sr_mp, sleepers) == 0, "format: sleepers");
_Static_assert(offsetof(struct sr_mp, attached) == 128, "format: attached");
_Static_assert(offsetof(struct sr_mp, reserved1) == 132, "format: mp rsvd");
_Static_assert(offsetof(struct sr_mp, prod) == 256, "format: mp entries");
_Static_assert(sizeof(struct sr_mp) == 2304, "format: mp lines");
_Static_assert(offsetof(struct sr_seg, mp) == 1408, "format: mp");
_Static_assert(offsetof(struct sr_seg, reserved) == 3712, "format: seg rsvd");
_Static_assert(sizeof(struct sr_seg) == SR_HDR_SIZE, "format: header page");
_Static_assert(sizeof(struct sr_rec) == SR_REC_HDR, "format: record header");
_Static_assert(offsetof(struct sr_rec, word) == 0, "format: record word");
_Static_assert(SR_HDR_SIZE % 64 == 0, "format: slots start on a line");
/* Only lock-free atomics are address-free, i.e. work across processes. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "64-bit index width");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "32-bit word width");

#endif /* SHMRING_LAYOUT_H */
