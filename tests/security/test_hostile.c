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

/* ---- slot headers ----------------------------------------------------------
 */

Test(hostile, absurd_slot_length_is_ebadfmt_and_the_message_stays,
     .init = setup, .fini = teardown, .timeout = 10)
{
	char buf[SLOT + 1];
	const void *p;
	size_t len;
	uint32_t bad[] = {SLOT + 1, 1u << 31, UINT32_MAX};

	cr_assert_eq(shmring_send(ring.prod, "hello", 5, 0), SHMRING_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		atomic_store(&sec_slot(&ring, 0)->len, bad[i]);
		cr_assert_eq(recv_str(buf, sizeof buf, SHMRING_FOREVER),
		             SHMRING_EBADFMT);
		cr_assert_eq(shmring_peek(ring.cons, &p, &len, 0),
		             SHMRING_EBADFMT);
	}
	atomic_store(&sec_slot(&ring, 0)->len, 5);
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
	atomic_store(&sec_slot(&ring, 0)->len, UINT32_MAX);
	cr_assert_eq(shmring_peek(ring.cons, &q, &len2, 0), SHMRING_OK);
	cr_assert_eq(q, p);
	cr_assert_eq(len2, 3, "peek re-read the length: %zu", len2);
	cr_assert_eq(shmring_release(ring.cons), SHMRING_OK);
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
	cr_assert_eq(shmring_max_msg(ring.prod), SLOT);
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
	atomic_store(&sec_slot(&ring, 0)->len, UINT32_MAX);
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
 * what the OS reports and rejects it. */
Test(hostile, a_header_larger_than_the_segment_is_rejected, .timeout = 10)
{
	struct sr_seg seg = {0};
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
	seg.hdr.slot_count = 1024;
	seg.hdr.seg_size = SR_HDR_SIZE + (uint64_t)SHMRING_MAX_SLOT_SIZE * 1024;
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, &seg, sizeof seg), (ssize_t)sizeof seg);
	close(fd);
	cr_assert_eq(shmring_open(name, SHMRING_CONSUMER, &r), SHMRING_EBADFMT);
	cr_assert_eq(r, NULL);
	shm_unlink(path);
}
