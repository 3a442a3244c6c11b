/* SPDX-License-Identifier: MIT */
/*
 * fuzz_open.c -- the bytes are a whole segment image from a hostile creator.
 *
 * Property: shmring_open() answers OK, EBADFMT, ENOENT (only for size 0 or
 * magic 0) or EBUSY (only when the image names a live holder of the role);
 * a ring it accepts drains non-blockingly with recv and peek, every call
 * returning a contract code, every peeked message inside the consumer's
 * mapping and starting 8 bytes into a slot, and the drain stopping after
 * at most slot_count messages (a record covers one slot at least); once
 * drained, the ring carries our own messages (up to 256 bytes: many slots
 * of a small stride, padding at the end of the ring) whole, in order and
 * exactly once.
 */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_seg.h"
#include "layout.h"
#include "os.h"

static uint64_t img_u64(const uint8_t *d, size_t n, size_t off)
{
	uint64_t v = 0;

	if (off + 8 <= n)
		memcpy(&v, d + off, 8);
	return v;
}

static int role_live(const uint8_t *d, size_t n, unsigned side)
{
	uint64_t o = img_u64(d, n, offsetof(struct sr_seg, role[side].owner));

	return o != 0 && (o == os_proc_self() || os_proc_alive(o));
}

/* The consumer's mapping and the image's stride: a peeked payload starts
 * 8 bytes into a slot of it. */
static const uint8_t *cons_base;
static uint32_t img_stride;

/* One recv or peek+release; OK, or the code that ended the drain. */
static int drain_one(shmring *c, int use_peek)
{
	static uint8_t buf[1 << 16];
	const uint8_t *q;
	const void *p;
	size_t len = 0, max = shmring_max_msg(c);
	int rc;

	if (!use_peek) {
		rc = shmring_recv(c, buf, sizeof buf, &len, SHMRING_NOWAIT);
		FUZZ_ASSERT(
		        rc != SHMRING_EMSGSIZE ||
		        (max > sizeof buf && len > sizeof buf && len <= max));
		FUZZ_ASSERT(rc != SHMRING_OK || len <= max);
		return rc; /* EMSGSIZE: the message stays; stop here */
	}
	rc = shmring_peek(c, &p, &len, SHMRING_NOWAIT);
	if (rc == SHMRING_OK) {
		q = p;
		FUZZ_ASSERT(len <= max && fuzz_in_map_at(cons_base, p, len));
		FUZZ_ASSERT(q >= cons_base + SR_HDR_SIZE + SR_REC_HDR &&
		            (size_t)(q - cons_base - SR_HDR_SIZE - SR_REC_HDR) %
		                            img_stride ==
		                    0);
		memcpy(buf, p, len < sizeof buf ? len : sizeof buf);
		FUZZ_ASSERT(shmring_release(c) == SHMRING_OK);
	}
	return rc;
}

/* Each message takes a slot at least: at most slot_count of them. */
static int drain(shmring *c, uint32_t count)
{
	for (uint64_t i = 0; i <= count; i++) {
		int rc = drain_one(c, (int)(i & 1));
		FUZZ_ASSERT(fuzz_data_code(rc) && rc != SHMRING_EINVAL &&
		            rc != SHMRING_ETIMEDOUT);
		if (rc != SHMRING_OK)
			return rc;
	}
	FUZZ_ASSERT(!"drain returned more than slot_count messages");
	return SHMRING_OK;
}

/* Our own producer takes over and sends messages of up to 256 bytes (so
 * over many slots of a small stride, and across the end of the ring); the
 * consumer gets each back whole. In an empty ring a message always fits,
 * but one that would run past the end first has its padding published
 * alone (EAGAIN when padding and message together exceed the ring): the
 * consumer skips it, and the send goes through. */
static void roundtrip(const char *name, shmring *c)
{
	static uint8_t msg[256], got[256];
	size_t max = shmring_max_msg(c), len, glen;
	size_t lim = max < sizeof msg ? max : sizeof msg;
	shmring *p = NULL;
	int rc;

	if (shmring_open(name, SHMRING_PRODUCER, &p) != SHMRING_OK)
		return;
	for (size_t i = 0; i < 6; i++) {
		len = (i * 53 + 5) % (lim + 1);
		memset(msg, (int)(0xa0 + i), len);
		rc = shmring_send(p, msg, len, 0);
		if (rc == SHMRING_EAGAIN) {
			FUZZ_ASSERT(shmring_recv(c, got, sizeof got, &glen,
			                         0) == SHMRING_EAGAIN);
			rc = shmring_send(p, msg, len, 0);
		}
		FUZZ_ASSERT(rc == SHMRING_OK);
		FUZZ_ASSERT(shmring_recv(c, got, sizeof got, &glen, 0) ==
		            SHMRING_OK);
		FUZZ_ASSERT(glen == len && memcmp(got, msg, len) == 0);
	}
	FUZZ_ASSERT(shmring_recv(c, got, sizeof got, &glen, 0) ==
	            SHMRING_EAGAIN);
	shmring_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[64];
	shmring *c = NULL;
	uint64_t magic = img_u64(data, size, 0);
	uint32_t count = 0;
	int rc;

	fuzz_name(name, sizeof name, "open");
	if (fuzz_seg_write(name, data, size) != 0)
		return 0;
	rc = shmring_open(name, SHMRING_CONSUMER, &c);
	FUZZ_ASSERT(rc == SHMRING_OK || rc == SHMRING_EBADFMT ||
	            rc == SHMRING_ENOENT || rc == SHMRING_EBUSY);
	FUZZ_ASSERT((rc == SHMRING_ENOENT) ==
	            (size == 0 || (size >= SR_HDR_SIZE && magic == 0)));
	FUZZ_ASSERT(rc != SHMRING_EBUSY || role_live(data, size, 1));
	if (rc == SHMRING_OK) {
		cons_base = fuzz_last_mapping();
		memcpy(&count, data + offsetof(struct sr_hdr, slot_count), 4);
		memcpy(&img_stride, data + offsetof(struct sr_hdr, slot_stride),
		       4);
		rc = drain(c, count);
		if ((rc == SHMRING_EAGAIN || rc == SHMRING_ECLOSED ||
		     rc == SHMRING_EPEERDEAD) &&
		    !role_live(data, size, 0))
			roundtrip(name, c);
		shmring_close(c);
	}
	shmring_unlink(name);
	return 0;
}
