/* SPDX-License-Identifier: MIT */
/* Description: a hostile peer writing anything into the shared segment
 * cannot make our calls touch memory outside the mapping, block past their
 * timeout, loop forever or allocate: they return SHMRING_EBADFMT (or
 * the timeout), the ring stays as it was, and forced wake words or
 * sleeping flags only cost spurious wake-ups. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "ring_int.h" /* sr_seg_check */
#include "sec.h"

#define SLOT  64u
#define COUNT 4u

static struct sec_ring ring;

static void setup(void)
{
	cr_assert_eq(sec_ring_open(&ring, SLOT, COUNT), 0);
}

static void teardown(void)
{
	sec_ring_close(&ring);
}

static void poke64(_Atomic uint64_t *p, uint64_t v)
{
	atomic_store(p, v);
}

static int recv_str(char *buf, size_t cap, int timeout)
{
	size_t len = 0;
	int rc = shmring_recv(ring.cons, buf, cap - 1, &len, timeout);

	buf[rc == SHMRING_OK ? len : 0] = '\0';
	return rc;
}

/* ---- indices ------------------------------------------------------------- */

Test(hostile, head_far_ahead_is_ebadfmt_even_for_a_blocking_recv, .init = setup,
     .fini = teardown, .timeout = 10)
{
	char buf[SLOT + 1];
	struct timespec t0;

	cr_assert_eq(shmring_send(ring.prod, "one", 3, 0), SHMRING_OK);
	poke64(&ring.seg->head.value, 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(recv_str(buf, sizeof buf, SHMRING_FOREVER),
	             SHMRING_EBADFMT);
	cr_assert_lt(sec_ms_since(&t0), 1000);
	/* nothing was consumed: put head back and the message is there */
	poke64(&ring.seg->head.value, 1);
	cr_assert_eq(recv_str(buf, sizeof buf, 0), SHMRING_OK);
	cr_assert_str_eq(buf, "one");
}

Test(hostile, head_moved_backwards_is_ebadfmt, .init = setup, .fini = teardown,
     .timeout = 10)
{
	char buf[SLOT + 1];

	cr_assert_eq(shmring_send(ring.prod, "a", 1, 0), SHMRING_OK);
	cr_assert_eq(recv_str(buf, sizeof buf, 0), SHMRING_OK);
	poke64(&ring.seg->head.value, 0); /* behind our tail (1) */
	cr_assert_eq(recv_str(buf, sizeof buf, 100), SHMRING_EBADFMT);
	poke64(&ring.seg->head.value, UINT64_MAX);
	cr_assert_eq(recv_str(buf, sizeof buf, 100), SHMRING_EBADFMT);
}

Test(hostile, tail_ahead_of_head_is_ebadfmt_for_a_blocking_send, .init = setup,
     .fini = teardown, .timeout = 10)
{
	for (unsigned i = 0; i < COUNT; i++)
		cr_assert_eq(shmring_send(ring.prod, "x", 1, 0), SHMRING_OK);
	poke64(&ring.seg->tail.value, COUNT + 7);
	cr_assert_eq(shmring_send(ring.prod, "y", 1, SHMRING_FOREVER),
	             SHMRING_EBADFMT);
	poke64(&ring.seg->tail.value, UINT64_MAX - 3);
	cr_assert_eq(shmring_send(ring.prod, "y", 1, SHMRING_FOREVER),
	             SHMRING_EBADFMT);
}

/* ---- record headers ---------------------------------------------------------
 */

Test(hostile, absurd_record_length_is_ebadfmt_and_the_message_stays,
     .init = setup, .fini = teardown, .timeout = 10)
{
	char buf[SLOT + 1];
	const void *p;
	size_t len;
	uint32_t bad[] = {SLOT + 1, 1u << 31, UINT32_MAX};

	cr_assert_eq(shmring_send(ring.prod, "hello", 5, 0), SHMRING_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sec_set_len(&ring, 0, bad[i]);
		cr_assert_eq(recv_str(buf, sizeof buf, SHMRING_FOREVER),
		             SHMRING_EBADFMT);
		cr_assert_eq(shmring_peek(ring.cons, &p, &len, 0),
		             SHMRING_EBADFMT);
	}
	sec_set_len(&ring, 0, 5);
	cr_assert_eq(recv_str(buf, sizeof buf, 0), SHMRING_OK);
	cr_assert_str_eq(buf, "hello");
}

Test(hostile, a_length_changed_after_peek_is_not_read_again, .init = setup,
     .fini = teardown, .timeout = 10)
{
	const void *p, *q;
	size_t len, len2;

	cr_assert_eq(shmring_send(ring.prod, "abc", 3, 0), SHMRING_OK);
	cr_assert_eq(shmring_peek(ring.cons, &p, &len, 0), SHMRING_OK);
	sec_set_len(&ring, 0, UINT32_MAX);
	cr_assert_eq(shmring_peek(ring.cons, &q, &len2, 0), SHMRING_OK);
	cr_assert_eq(q, p);
	cr_assert_eq(len2, 3, "peek re-read the length: %zu", len2);
	cr_assert_eq(shmring_release(ring.cons), SHMRING_OK);
}

/* ---- records of many slots (format 2) ---------------------------------------
 *
 * A ring of 16-byte strides (slot_size 8) and 256 slots: 4096 bytes of
 * slots, so the segment (8192 bytes) ends on a page boundary and the
 * consumer's mapping is followed by a PROT_NONE guard page: a read past the
 * last slot faults instead of passing unseen. Messages up to RMAX bytes (7
 * slots; RMAX + 1 needs 7 slots too, so only the max_msg check can reject
 * it). Each case corrupts the record at tail, checks that recv, recvv,
 * peek and peekv (all blocking) reject it at once with nothing taken, then
 * restores the word and receives the message whole.
 */

#define RSLOT   8u
#define RSTRIDE 16u
#define RCOUNT  256u
#define RMAX    100u
#define RBUF    (RMAX + 64u)

static struct sec_ring rr;
static void *rguard;

/* The start of every mapping of the ring's segment in this process, in
 * @at (at most @cap); their number. */
static size_t rec_mappings(unsigned long *at, size_t cap)
{
	char line[512], want[160];
	size_t n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	snprintf(want, sizeof want, "/dev/shm/shmring.%s", rr.name);
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    strstr(line, want) && n < cap)
			at[n++] = lo;
	}
	if (f)
		fclose(f);
	return n;
}

/*
 * Open the consumer with a PROT_NONE page right after its mapping, so that
 * a read past the last slot faults. Reserve the mapping's size plus a
 * page, give the lower part back and open: the kernel puts the mapping in
 * the highest free gap that fits, which is ours unless a higher one is
 * free (under ASan there often is); then plug that gap with an anonymous
 * mapping and open again (a new consumer resumes at tail).
 */
static void *rplug[8];

static void rec_open(uint64_t start)
{
	shmring_config cfg = {
	        .slot_size = RSLOT, .slot_count = RCOUNT, .max_msg = RMAX};
	size_t map = SR_HDR_SIZE + RSTRIDE * RCOUNT, page = 4096, n0, n1;
	unsigned long before[8], after[8], mine;
	uint8_t *res;

	cr_assert_eq(sec_ring_open_prod(&rr, &cfg, start), 0);
	cr_assert_eq(sec_stride(&rr), RSTRIDE);
	cr_assert_eq(rr.size, map);
	n0 = rec_mappings(before, 8);
	cr_assert_eq(n0, 2, "producer and peer: %zu mappings", n0);
	res = mmap(NULL, map + page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	           0);
	cr_assert_neq(res, MAP_FAILED);
	munmap(res, map);
	rguard = res + map;
	for (size_t tries = 0;; tries++) {
		cr_assert_eq(shmring_open(rr.name, SHMRING_CONSUMER, &rr.cons),
		             0);
		n1 = rec_mappings(after, 8);
		cr_assert_eq(n1, 3, "%zu mappings with the consumer's", n1);
		mine = 0;
		for (size_t i = 0; i < n1; i++)
			if (after[i] != before[0] && after[i] != before[1])
				mine = after[i];
		if (mine + map == (unsigned long)(uintptr_t)rguard)
			return;
		cr_assert_lt(tries, sizeof rplug / sizeof rplug[0],
		             "no guard page after the consumer's mapping "
		             "(see /proc/self/maps)");
		shmring_close(rr.cons);
		rr.cons = NULL;
		rplug[tries] =
		        mmap((void *)(uintptr_t)mine, map, PROT_NONE,
		             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		             -1, 0);
		cr_assert_eq(rplug[tries], (void *)(uintptr_t)mine);
	}
}

static void rec_setup(void)
{
	rec_open(0);
}

static void rec_teardown(void)
{
	sec_ring_close(&rr);
	if (rguard)
		munmap(rguard, 4096);
	rguard = NULL;
	for (size_t i = 0; i < sizeof rplug / sizeof rplug[0]; i++)
		if (rplug[i])
			munmap(rplug[i], SR_HDR_SIZE + RSTRIDE * RCOUNT);
	memset(rplug, 0, sizeof rplug);
}

/* Message @i of the tests' messages: @len bytes. */
static void rec_fill(uint8_t *b, size_t len, unsigned i)
{
	for (size_t k = 0; k < len; k++)
		b[k] = (uint8_t)(i * 31u + k * 7u + 1u);
}

static void rec_send(size_t len, unsigned i)
{
	uint8_t b[RBUF];

	rec_fill(b, len, i);
	cr_assert_eq(shmring_send(rr.prod, b, len, 0), SHMRING_OK);
}

/* The next message is message @i of @len bytes (recv or peek). */
static void rec_expect(size_t len, unsigned i, int by_peek)
{
	uint8_t want[RBUF], got[RBUF];
	const void *p;
	size_t n = 0;

	rec_fill(want, len, i);
	if (by_peek) {
		cr_assert_eq(shmring_peek(rr.cons, &p, &n, 0), SHMRING_OK);
		cr_assert_eq(n, len);
		cr_assert_eq(memcmp(p, want, len), 0);
		cr_assert_eq(shmring_release(rr.cons), SHMRING_OK);
		return;
	}
	cr_assert_eq(shmring_recv(rr.cons, got, sizeof got, &n, 0), SHMRING_OK);
	cr_assert_eq(n, len);
	cr_assert_eq(memcmp(got, want, len), 0);
}

/* Every consumer call rejects the record at tail: recv, recvv, peek and
 * peekv, each with SHMRING_FOREVER, at once; nothing is taken or copied,
 * tail and the out-parameters stay as they were. */
static void rec_all_reject(const char *what)
{
	static uint8_t buf[4][RBUF];
	uint64_t tail = atomic_load(&rr.seg->tail.value);
	const void *sentinel = &sentinel, *p = sentinel;
	shmring_buf b[4];
	shmring_msg m[4];
	struct timespec t0;
	size_t len = 0, got = 77;

	memset(buf, 0xa5, sizeof buf);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(shmring_recv(rr.cons, buf[0], RBUF, &len, SHMRING_FOREVER),
	             SHMRING_EBADFMT, "recv accepted %s", what);
	for (unsigned i = 0; i < 4; i++)
		b[i] = (shmring_buf){buf[i], RBUF};
	cr_assert_eq(shmring_recvv(rr.cons, b, 4, &got, SHMRING_FOREVER),
	             SHMRING_EBADFMT, "recvv accepted %s", what);
	cr_assert_eq(got, 0);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(b[i].len, RBUF);
	cr_assert_eq(shmring_peek(rr.cons, &p, &len, SHMRING_FOREVER),
	             SHMRING_EBADFMT, "peek accepted %s", what);
	cr_assert_eq(p, sentinel);
	got = 77;
	cr_assert_eq(shmring_peekv(rr.cons, m, 4, &got, SHMRING_FOREVER),
	             SHMRING_EBADFMT, "peekv accepted %s", what);
	cr_assert_eq(got, 0);
	cr_assert_lt(sec_ms_since(&t0), 1000);
	for (size_t i = 0; i < sizeof buf; i++)
		cr_assert_eq(((uint8_t *)buf)[i], 0xa5, "%s: byte %zu copied",
		             what, i);
	cr_assert_eq(atomic_load(&rr.seg->tail.value), tail, "%s: tail moved",
	             what);
	/* and a release with nothing peeked is EINVAL: no peek is pending */
	cr_assert_eq(shmring_release(rr.cons), SHMRING_EINVAL);
}

#define RECORDS .init = rec_setup, .fini = rec_teardown, .timeout = 20

Test(hostile, a_record_word_of_another_lap_is_ebadfmt, .fini = rec_teardown,
     .timeout = 20)
{
	uint64_t at = 3 * RCOUNT + 5, w, lap;
	uint64_t bad[] = {0, 2, 4, UINT64_C(1) << 29, (UINT64_C(1) << 30) - 1};

	rec_open(at);
	rec_send(20, 1);
	w = atomic_load(sec_rec(&rr, at));
	lap = sec_word_lap(w);
	cr_assert_eq(lap, 3);
	cr_assert_eq(w, sec_word(SEC_MSG, 20, 3), "word %#llx",
	             (unsigned long long)w);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		atomic_store(sec_rec(&rr, at), sec_word(SEC_MSG, 20, bad[i]));
		rec_all_reject("a word of another lap");
	}
	atomic_store(sec_rec(&rr, at), w);
	rec_expect(20, 1, 0);
}

/* The classic replay: a full lap of traffic leaves every slot holding a
 * good-looking message of lap 0; a head moved forward over them must not
 * deliver them again at lap 1. */
Test(hostile, a_record_left_from_the_previous_lap_is_not_replayed, RECORDS)
{
	for (unsigned i = 0; i < RCOUNT; i++) {
		rec_send(3, i);
		rec_expect(3, i, i & 1);
	}
	cr_assert_eq(atomic_load(&rr.seg->tail.value), RCOUNT);
	cr_assert_eq(sec_word_type(atomic_load(sec_rec(&rr, RCOUNT))), SEC_MSG);
	atomic_store(&rr.seg->head.value, RCOUNT + 3);
	rec_all_reject("a record of the previous lap");
	atomic_store(&rr.seg->head.value, RCOUNT);
	rec_send(5, 9);
	rec_expect(5, 9, 0);
}

Test(hostile, an_empty_or_reserved_record_below_head_is_ebadfmt, RECORDS)
{
	uint64_t w;

	rec_send(30, 2);
	w = atomic_load(sec_rec(&rr, 0));
	atomic_store(sec_rec(&rr, 0), sec_word(0, 30, 0));
	rec_all_reject("an EMPTY record");
	atomic_store(sec_rec(&rr, 0), sec_word(SEC_RESV, 30, 0));
	rec_all_reject("a RESV record");
	atomic_store(sec_rec(&rr, 0), 0);
	rec_all_reject("a zero word");
	atomic_store(sec_rec(&rr, 0), w);
	rec_expect(30, 2, 1);
}

Test(hostile, a_length_past_max_msg_is_ebadfmt, RECORDS)
{
	uint32_t bad[] = {RMAX + 1, RMAX + 8, 1u << 31, UINT32_MAX};

	rec_send(RMAX, 3); /* 7 slots; RMAX + 1 would take 7 too */
	rec_send(0, 4);
	cr_assert_eq(atomic_load(&rr.seg->head.value), 8);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sec_set_len(&rr, 0, bad[i]);
		rec_all_reject("a length past max_msg");
	}
	sec_set_len(&rr, 0, RMAX);
	rec_expect(RMAX, 3, 0);
	rec_expect(0, 4, 1);
}

Test(hostile, an_extent_past_head_is_ebadfmt, RECORDS)
{
	rec_send(8, 5); /* one slot: 8 + 8 = the stride */
	cr_assert_eq(atomic_load(&rr.seg->head.value), 1);
	sec_set_len(&rr, 0, 9); /* two slots, one published */
	rec_all_reject("an extent past head");
	sec_set_len(&rr, 0, RMAX);
	rec_all_reject("an extent past head");
	sec_set_len(&rr, 0, 8);
	rec_expect(8, 5, 0);
}

/* In a batch: the messages before a bad record are delivered, the batch
 * stops there, and the next call reports it. */
Test(hostile, a_batch_stops_before_a_bad_record_and_keeps_it, RECORDS)
{
	uint8_t a[4][RBUF];
	shmring_buf b[4];
	shmring_msg m[4];
	size_t got = 0;

	rec_send(8, 6);          /* index 0 */
	rec_send(8, 7);          /* index 1 */
	sec_set_len(&rr, 1, 40); /* 3 slots: past head (2) */
	for (unsigned i = 0; i < 4; i++)
		b[i] = (shmring_buf){a[i], RBUF};
	cr_assert_eq(shmring_peekv(rr.cons, m, 4, &got, 0), SHMRING_OK);
	cr_assert_eq(got, 1);
	cr_assert_eq(m[0].len, 8);
	cr_assert_eq(shmring_peekv(rr.cons, m, 4, &got, 0), SHMRING_OK);
	cr_assert_eq(got, 1, "peekv again went past the bad record");
	cr_assert_eq(shmring_releasev(rr.cons, 2), SHMRING_EINVAL);
	cr_assert_eq(shmring_releasev(rr.cons, 0), SHMRING_OK);
	cr_assert_eq(shmring_release(rr.cons), SHMRING_OK);
	cr_assert_eq(atomic_load(&rr.seg->tail.value), 1);
	rec_all_reject("the second record of a batch");
	sec_set_len(&rr, 1, 8);
	rec_send(8, 8);
	sec_set_len(&rr, 2, RMAX + 1);
	cr_assert_eq(shmring_recvv(rr.cons, b, 4, &got, 0), SHMRING_OK);
	cr_assert_eq(got, 1);
	cr_assert_eq(b[0].len, 8);
	cr_assert_eq(b[1].len, RBUF);
	rec_all_reject("the second record of a batch");
	sec_set_len(&rr, 2, 8);
	rec_expect(8, 8, 0);
}

/* A record at the last slot whose length runs past the end of the ring,
 * with enough published after it that only the end check can reject it:
 * a copy would read past the end of the mapping (into the guard page). */
Test(hostile, an_extent_past_the_end_of_the_ring_is_ebadfmt,
     .fini = rec_teardown, .timeout = 20)
{
	uint64_t at = 2 * RCOUNT - 1; /* the last slot, lap 1 */

	rec_open(at);
	rec_send(8, 10); /* one slot at the end */
	for (unsigned i = 0; i < 7; i++)
		rec_send(1, 11 + i); /* slots 0..6 of lap 2 */
	cr_assert_eq(atomic_load(&rr.seg->head.value), at + 8);
	sec_set_len(&rr, at, 9); /* two slots: 1 past the end */
	rec_all_reject("an extent past the end of the ring");
	sec_set_len(&rr, at, RMAX); /* 7 slots, all published but 6 past */
	rec_all_reject("an extent past the end of the ring");
	sec_set_len(&rr, at, 8);
	rec_expect(8, 10, 1);
	for (unsigned i = 0; i < 7; i++)
		rec_expect(1, 11 + i, i & 1);
}

/* Padding as the producer writes it (a record that does not fit before the
 * end), then made to run past the end, or past head. */
Test(hostile, a_padding_record_running_past_the_end_is_ebadfmt,
     .fini = rec_teardown, .timeout = 20)
{
	uint64_t at = RCOUNT - 2, w;

	rec_open(at);
	rec_send(40, 12); /* 3 slots: padding over the last 2, then slot 0 */
	cr_assert_eq(atomic_load(&rr.seg->head.value), RCOUNT + 3);
	w = atomic_load(sec_rec(&rr, at));
	cr_assert_eq(w, sec_word(SEC_PAD, 2 * RSTRIDE - 8, 0), "pad %#llx",
	             (unsigned long long)w);
	sec_set_len(&rr, at, 3 * RSTRIDE - 8); /* 3 slots: 1 past the end */
	rec_all_reject("padding past the end of the ring");
	sec_set_len(&rr, at, 5 * RSTRIDE - 8); /* 5 slots: to head exactly */
	rec_all_reject("padding past the end of the ring");
	sec_set_len(&rr, at, UINT32_MAX);
	rec_all_reject("padding past head");
	atomic_store(sec_rec(&rr, at), w);
	rec_expect(40, 12, 1);
	cr_assert_eq(atomic_load(&rr.seg->tail.value), RCOUNT + 3);
}

Test(hostile, a_padding_record_past_head_is_ebadfmt, RECORDS)
{
	uint64_t w;

	rec_send(8, 13);
	w = atomic_load(sec_rec(&rr, 0));
	atomic_store(sec_rec(&rr, 0), sec_word(SEC_PAD, RSTRIDE, 0));
	rec_all_reject("padding past head"); /* 2 slots, 1 published */
	atomic_store(sec_rec(&rr, 0), w);
	rec_expect(8, 13, 0);
}

/* ---- the header: private geometry ------------------------------------------
 */

Test(hostile, geometry_rewritten_after_open_is_ignored, .init = setup,
     .fini = teardown, .timeout = 10)
{
	char big[SLOT] = {0}, buf[SLOT + 1];

	ring.seg->hdr.slot_size = SHMRING_MAX_SLOT_SIZE;
	ring.seg->hdr.slot_count = SHMRING_MAX_SLOT_COUNT;
	ring.seg->hdr.slot_stride = 1u << 30;
	ring.seg->hdr.seg_size = UINT64_MAX;
	ring.seg->hdr.max_msg = UINT32_MAX;
	cr_assert_eq(shmring_max_msg(ring.prod), SLOT);
	cr_assert_eq(shmring_max_msg(ring.cons), SLOT);
	cr_assert_eq(shmring_send(ring.prod, big, SLOT + 1, 0),
	             SHMRING_EMSGSIZE);
	for (unsigned i = 0; i < 3 * COUNT; i++) {
		memset(big, 'a' + (int)i, SLOT - 1);
		cr_assert_eq(shmring_send(ring.prod, big, SLOT - 1, 0),
		             SHMRING_OK);
		cr_assert_eq(recv_str(buf, sizeof buf, 0), SHMRING_OK);
		cr_assert_eq(buf[SLOT - 2], 'a' + (int)i);
	}
	/* and a new opener rejects the header */
	shmring_close(ring.cons);
	ring.cons = NULL;
	cr_assert_eq(shmring_open(ring.name, SHMRING_CONSUMER, &ring.cons),
	             SHMRING_EBADFMT);
}

/* ---- wake words and sleeping flags
 * -------------------------------------------- */

static atomic_int hammering;

static void *hammer(void *arg)
{
	_Atomic uint32_t *word = arg;

	while (atomic_load(&hammering)) {
		atomic_store(word, 1);
		usleep(100);
	}
	return NULL;
}

Test(hostile, a_forced_wake_word_causes_only_spurious_wakeups, .init = setup,
     .fini = teardown, .timeout = 20)
{
	pthread_t t;
	struct timespec t0;
	shmring_stats st;
	char buf[SLOT + 1];
	uint64_t ms;

	shmring_set_spin(ring.cons, 0);
	atomic_store(&hammering, 1);
	cr_assert_eq(pthread_create(&t, NULL, hammer, &ring.seg->wake[1].word),
	             0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(recv_str(buf, sizeof buf, 300), SHMRING_ETIMEDOUT);
	ms = sec_ms_since(&t0);
	atomic_store(&hammering, 0);
	pthread_join(t, NULL);
	cr_assert_geq(ms, 299);
	cr_assert_lt(ms, 5000, "a 300 ms recv took %llu ms",
	             (unsigned long long)ms);
	/* The word alone wakes nobody already asleep in the kernel (only a
	 * FUTEX_WAKE does); a sleeper that finds it set returns at once and
	 * re-checks. Either way the call slept and kept its deadline. */
	cr_assert_eq(shmring_get_stats(ring.cons, &st), 0);
	cr_assert_geq(st.waits, 1);
	/* and no message is lost or invented */
	cr_assert_eq(shmring_send(ring.prod, "ok", 2, 0), SHMRING_OK);
	cr_assert_eq(recv_str(buf, sizeof buf, 0), SHMRING_OK);
	cr_assert_str_eq(buf, "ok");
	cr_assert_eq(recv_str(buf, sizeof buf, 0), SHMRING_EAGAIN);
}

Test(hostile, a_forced_sleeping_flag_costs_only_signals, .init = setup,
     .fini = teardown, .timeout = 10)
{
	shmring_stats st;
	char buf[SLOT + 1], msg[8];

	atomic_store(&ring.seg->wake[1].sleeping, 1);
	for (unsigned i = 0; i < 100; i++) {
		snprintf(msg, sizeof msg, "m%u", i);
		cr_assert_eq(shmring_send(ring.prod, msg, strlen(msg), 0),
		             SHMRING_OK);
		cr_assert_eq(recv_str(buf, sizeof buf, 0), SHMRING_OK);
		cr_assert_str_eq(buf, msg);
		atomic_store(&ring.seg->wake[1].sleeping, 1);
	}
	cr_assert_eq(shmring_get_stats(ring.prod, &st), 0);
	cr_assert_gt(st.wakes, 0);
}

/* ---- roles
 * ---------------------------------------------------------------------- */

Test(hostile, an_unknown_peer_state_only_makes_us_wait_until_the_timeout,
     .init = setup, .fini = teardown, .timeout = 10)
{
	char buf[SLOT + 1];
	struct timespec t0;

	atomic_store(&ring.seg->role[0].state, 77);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(recv_str(buf, sizeof buf, 200), SHMRING_ETIMEDOUT);
	cr_assert_lt(sec_ms_since(&t0), 3000);
}

Test(hostile, a_dead_owner_token_ends_a_blocking_recv_with_epeerdead,
     .init = setup, .fini = teardown, .timeout = 10)
{
	char buf[SLOT + 1];
	struct timespec t0;

	poke64(&ring.seg->role[0].owner, 0x7ffffffe); /* no such process */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(recv_str(buf, sizeof buf, SHMRING_FOREVER),
	             SHMRING_EPEERDEAD);
	cr_assert_lt(sec_ms_since(&t0), 2000);
}

/* A failed attach must leave the role record as it found it. A ring whose
 * producer closed, with inconsistent indices, is rejected on open with
 * EBADFMT; the role must still read CLOSED afterwards, or the consumer
 * (once the indices are repaired) waits for a producer that never comes
 * instead of seeing end of stream. */
Test(hostile, a_rejected_attach_leaves_the_role_record_unchanged, .init = setup,
     .fini = teardown, .timeout = 10)
{
	char buf[SLOT + 1];
	shmring *p = NULL;

	cr_assert_eq(shmring_send(ring.prod, "last", 4, 0), SHMRING_OK);
	shmring_close(ring.prod);
	ring.prod = NULL;
	cr_assert_eq(atomic_load(&ring.seg->role[0].state), SR_ROLE_CLOSED);
	poke64(&ring.seg->head.value, COUNT + 5);
	cr_assert_eq(shmring_open(ring.name, SHMRING_PRODUCER, &p),
	             SHMRING_EBADFMT);
	cr_assert_eq(atomic_load(&ring.seg->role[0].state), SR_ROLE_CLOSED,
	             "state is %u after a failed open",
	             atomic_load(&ring.seg->role[0].state));
	poke64(&ring.seg->head.value, 1);
	cr_assert_eq(recv_str(buf, sizeof buf, 0), SHMRING_OK);
	cr_assert_eq(recv_str(buf, sizeof buf, 100), SHMRING_ECLOSED);
}

/* ---- no allocation
 * ------------------------------------------------------------- */

Test(hostile, rejected_calls_do_not_allocate, .init = setup, .fini = teardown,
     .timeout = 20)
{
	struct mallinfo2 before, after;
	char buf[SLOT + 1];
	const void *p;
	size_t len;

	cr_assert_eq(shmring_send(ring.prod, "x", 1, 0), SHMRING_OK);
	sec_set_len(&ring, 0, UINT32_MAX);
	recv_str(buf, sizeof buf, 0); /* warm up anything lazy */
	before = mallinfo2();
	for (unsigned i = 0; i < 100000; i++) {
		cr_assert_eq(recv_str(buf, sizeof buf, 0), SHMRING_EBADFMT);
		cr_assert_eq(shmring_peek(ring.cons, &p, &len, 0),
		             SHMRING_EBADFMT);
	}
	after = mallinfo2();
	cr_assert_eq(after.uordblks, before.uordblks, "heap grew by %zu bytes",
	             after.uordblks - before.uordblks);
}

/* ---- hostile creators
 * ------------------------------------------------------------ */

/* A segment whose header claims far more than its size: open maps only
 * what the OS reports and rejects it. The header is a consistent format-2
 * one (the white-box check below accepts it at its own size), so it is the
 * size alone that open rejects. */
Test(hostile, a_header_larger_than_the_segment_is_rejected, .timeout = 10)
{
	struct sr_seg seg = {0};
	struct sr_geom g;
	char name[64], path[128];
	shmring *r = NULL;
	int fd;

	sec_name(name, sizeof name);
	snprintf(path, sizeof path, "/shmring.%s", name);
	seg.hdr.magic = SR_MAGIC;
	seg.hdr.version = SR_FORMAT_VERSION;
	seg.hdr.hdr_size = SR_HDR_SIZE;
	seg.hdr.slot_size = SHMRING_MAX_SLOT_SIZE - 8;
	seg.hdr.slot_stride = SHMRING_MAX_SLOT_SIZE;
	seg.hdr.slot_count = 512; /* 32 GiB of slots: within the 64 GiB */
	seg.hdr.seg_size = SR_HDR_SIZE + (uint64_t)SHMRING_MAX_SLOT_SIZE * 512;
	seg.hdr.max_msg = SHMRING_MAX_MSG_LIMIT; /* the default, capped */
	cr_assert_eq(sr_seg_check(&seg, (size_t)seg.hdr.seg_size, 4096, &g),
	             SHMRING_OK, "the header itself must be valid");
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, &seg, sizeof seg), (ssize_t)sizeof seg);
	close(fd);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_EBADFMT);
	cr_assert_eq(r, NULL);
	shm_unlink(path);
}
