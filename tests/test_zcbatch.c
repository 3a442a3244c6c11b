/* Description: one process: claimv/commitv and peekv/releasev semantics. */
/* SPDX-License-Identifier: MIT */
/*
 * The zero-copy batch calls: a producer claims room for several messages
 * in place and publishes them with one commitv; a consumer looks at
 * several in place and releases any prefix with one releasev. A ring of
 * 16-byte strides (slot_size 8), 16 slots, default max_msg 120.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

#define COUNT 16
#define MAX   120

static struct pair p;

static void setup(void)
{
	shmring_config cfg = {.slot_size = 8, .slot_count = COUNT};

	pair_open_cfg_or_fail(&p, &cfg);
	cr_assert_eq(shmring_max_msg(p.prod), MAX);
}

static void teardown(void)
{
	pair_close(&p);
}

#define PAIR .init = setup, .fini = teardown, .timeout = 10

static void recv_seq(uint64_t seq, size_t len)
{
	uint8_t buf[MAX];
	size_t got;

	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &got, 0), SHMRING_OK,
	             "seq %llu", (unsigned long long)seq);
	cr_assert_eq(got, len);
	cr_assert(msg_is(buf, got, seq), "seq %llu", (unsigned long long)seq);
}

static void send_seq(uint64_t seq)
{
	uint8_t msg[MAX];
	size_t n = msg_size(seq, MAX);

	msg_fill(msg, n, seq);
	cr_assert_eq(shmring_send(p.prod, msg, n, 0), SHMRING_OK);
}

/* Claim @n messages of @lens and fill them as seq @first.. */
static size_t claim_fill(uint64_t first, const size_t *lens, size_t n)
{
	shmring_buf b[16];
	size_t got = 99;

	for (size_t i = 0; i < n; i++)
		b[i] = (shmring_buf){NULL, lens[i]};
	cr_assert_eq(shmring_claimv(p.prod, b, n, &got, 0), SHMRING_OK);
	for (size_t i = 0; i < got; i++) {
		cr_assert_not_null(b[i].data);
		msg_fill(b[i].data, lens[i], first + i);
	}
	return got;
}

/* ---- claimv / commitv ---------------------------------------------------- */

Test(claimv, validates_its_arguments, PAIR)
{
	shmring_buf b[2] = {{NULL, 8}, {NULL, MAX + 1}};
	size_t n = 99;

	cr_assert_eq(shmring_claimv(NULL, b, 1, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(n, 0, "0 on every error");
	cr_assert_eq(shmring_claimv(p.prod, b, 1, NULL, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_claimv(p.prod, NULL, 1, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(n, 0);
	cr_assert_eq(shmring_claimv(p.prod, b, 1, &n, -2), SHMRING_EINVAL);
	cr_assert_eq(shmring_claimv(p.cons, b, 1, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_claimv(p.prod, b, 2, &n, 0), SHMRING_EMSGSIZE,
	             "one too large claims none");
	cr_assert_eq(n, 0);
	cr_assert_eq(shmring_claimv(p.prod, NULL, 0, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 0);
	cr_assert_eq(shmring_commitv(p.prod, NULL, 0), SHMRING_EINVAL,
	             "nothing claimed");
	cr_assert_eq(shmring_claimv(p.prod, b, 1, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(shmring_claimv(p.prod, b, 1, &n, 0), SHMRING_EINVAL,
	             "a claim is pending");
	cr_assert_eq(shmring_send(p.prod, "x", 1, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_commitv(NULL, NULL, 1), SHMRING_EINVAL);
	cr_assert_eq(shmring_commitv(p.cons, NULL, 1), SHMRING_EINVAL);
	cr_assert_eq(shmring_commitv(p.prod, NULL, 2), SHMRING_EINVAL,
	             "more than claimed");
	cr_assert_eq(shmring_commitv(p.prod, (size_t[]){9}, 1), SHMRING_EINVAL,
	             "longer than claimed");
	cr_assert_eq(shmring_commitv(p.prod, (size_t[]){8}, 1), SHMRING_OK,
	             "the failed commits left the claim pending");
	cr_assert_eq(shmring_commitv(p.prod, NULL, 1), SHMRING_EINVAL);
}

Test(claimv, claims_what_fits_and_commitv_publishes_it_in_order, PAIR)
{
	/* 1 + 2 + 4 + 8 slots = 15 of 16, then one more of 1 slot */
	const size_t lens[] = {8, 24, 56, 120, 0, 40};
	size_t n = claim_fill(0, lens, 6);

	cr_assert_eq(n, 5, "the sixth does not fit");
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &(size_t){0}, 0),
	             SHMRING_EAGAIN, "nothing published before commitv");
	cr_assert_eq(shmring_commitv(p.prod, NULL, n), SHMRING_OK);
	for (size_t i = 0; i < n; i++)
		recv_seq(i, lens[i]);
}

Test(claimv, waits_for_room_for_the_first_only, PAIR)
{
	const size_t lens[] = {120, 120};
	shmring_buf b[2] = {{NULL, 120}, {NULL, 120}};
	size_t n;

	cr_assert_eq(claim_fill(0, lens, 2), 2);
	cr_assert_eq(shmring_commitv(p.prod, NULL, 2), SHMRING_OK);
	cr_assert_eq(shmring_claimv(p.prod, b, 2, &n, 0), SHMRING_EAGAIN);
	cr_assert_eq(n, 0);
	cr_assert_eq(shmring_claimv(p.prod, b, 2, &n, 5), SHMRING_ETIMEDOUT);
	recv_seq(0, 120);
	cr_assert_eq(shmring_claimv(p.prod, b, 2, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 1, "room for one only");
	cr_assert_eq(shmring_commitv(p.prod, NULL, 0), SHMRING_OK,
	             "commitv(0) discards it");
	recv_seq(1, 120);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &(size_t){0}, 0),
	             SHMRING_EAGAIN);
}

Test(claimv, shorter_commits_pad_the_gaps_between_messages, PAIR)
{
	const size_t lens[] = {120, 56, 24}; /* 8 + 4 + 2 slots */
	size_t n = claim_fill(10, lens, 3), got;
	uint8_t buf[MAX];

	cr_assert_eq(n, 3);
	/* the first shrinks to 1 slot, the second to 0 bytes */
	cr_assert_eq(shmring_commitv(p.prod, (size_t[]){8, 0, 24}, 3),
	             SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &got, 0),
	             SHMRING_OK);
	cr_assert_eq(got, 8);
	cr_assert_eq(rd64(buf, 0), 10, "the first 8 bytes written: the seq");
	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &got, 0),
	             SHMRING_OK);
	cr_assert_eq(got, 0);
	recv_seq(12, 24);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &(size_t){0}, 0),
	             SHMRING_EAGAIN);
}

Test(claimv, commitv_of_fewer_discards_the_rest_and_frees_their_room, PAIR)
{
	const size_t lens[] = {24, 120, 24};
	int k = 0;

	cr_assert_eq(claim_fill(0, lens, 3), 3);
	cr_assert_eq(shmring_commitv(p.prod, NULL, 1), SHMRING_OK);
	recv_seq(0, 24);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &(size_t){0}, 0),
	             SHMRING_EAGAIN, "the other two were never published");
	while (shmring_send(p.prod, "", 0, 0) == SHMRING_OK)
		k++;
	cr_assert_eq(k, COUNT, "their slots are free again");
}

Test(claimv, claims_across_the_wrap_with_padding, PAIR)
{
	const size_t big[] = {120}; /* 8 slots */
	uint64_t seq = 0;

	for (int lap = 0; lap < 20; lap++) {
		const size_t lens[] = {msg_size(seq, MAX),
		                       msg_size(seq + 1, MAX),
		                       msg_size(seq + 2, MAX)};
		size_t n = claim_fill(seq, lens, 3);

		cr_assert_eq(shmring_commitv(p.prod, NULL, n), SHMRING_OK);
		for (size_t i = 0; i < n; i++)
			recv_seq(seq + i, lens[i]);
		seq += n;
		cr_assert_eq(claim_fill(seq, big, 1), 1);
		cr_assert_eq(shmring_commitv(p.prod, NULL, 1), SHMRING_OK);
		recv_seq(seq, 120);
		seq++;
	}
}

Test(claimv, clips_a_batch_to_shmring_batch_max, PAIR)
{
	static shmring_buf b[SHMRING_BATCH_MAX + 10];
	size_t n;

	/* zero-length messages take one slot each: only COUNT fit here, so
	 * this one uses a larger ring */
	shmring_config cfg = {.slot_size = 8, .slot_count = 4096};

	pair_close(&p);
	pair_open_cfg_or_fail(&p, &cfg);
	for (size_t i = 0; i < SHMRING_BATCH_MAX + 10; i++)
		b[i] = (shmring_buf){NULL, 0};
	cr_assert_eq(shmring_claimv(p.prod, b, SHMRING_BATCH_MAX + 10, &n, 0),
	             SHMRING_OK);
	cr_assert_eq(n, SHMRING_BATCH_MAX);
	cr_assert_null(b[SHMRING_BATCH_MAX].data, "left as it was");
	cr_assert_eq(shmring_commitv(p.prod, NULL, n), SHMRING_OK);
}

Test(claimv, a_closed_consumer_is_eclosed, PAIR)
{
	shmring_buf b = {NULL, 8};
	size_t n = 9;

	shmring_close(p.cons);
	p.cons = NULL;
	cr_assert_eq(shmring_claimv(p.prod, &b, 1, &n, 0), SHMRING_ECLOSED);
	cr_assert_eq(n, 0);
}

/* ---- peekv / releasev ------------------------------------------------------
 */

Test(peekv, validates_its_arguments, PAIR)
{
	shmring_msg m[2];
	size_t n = 99;

	cr_assert_eq(shmring_peekv(NULL, m, 1, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_peekv(p.cons, m, 1, NULL, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_peekv(p.cons, NULL, 1, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(n, 0);
	cr_assert_eq(shmring_peekv(p.cons, m, 1, &n, -2), SHMRING_EINVAL);
	cr_assert_eq(shmring_peekv(p.prod, m, 1, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_peekv(p.cons, NULL, 0, &n, 0), SHMRING_OK);
	cr_assert_eq(shmring_peekv(p.cons, m, 2, &n, 0), SHMRING_EAGAIN);
	cr_assert_eq(shmring_peekv(p.cons, m, 2, &n, 5), SHMRING_ETIMEDOUT);
	cr_assert_eq(shmring_releasev(NULL, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_releasev(p.prod, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_releasev(p.cons, 1), SHMRING_EINVAL,
	             "nothing peeked");
	cr_assert_eq(shmring_releasev(p.cons, 0), SHMRING_OK);
	send_seq(0);
	cr_assert_eq(shmring_peekv(p.cons, m, 2, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &(size_t){0}, 0),
	             SHMRING_EINVAL, "recv while a peek is open");
	cr_assert_eq(shmring_releasev(p.cons, 2), SHMRING_EINVAL,
	             "more than peeked");
	cr_assert_eq(shmring_releasev(p.cons, 1), SHMRING_OK);
	cr_assert_eq(shmring_release(p.cons), SHMRING_EINVAL);
}

Test(peekv, looks_at_what_is_published_in_place, PAIR)
{
	shmring_msg m[8];
	size_t n;

	const size_t lens[] = {0, 8, 24, 40, 8}; /* 1 + 1 + 2 + 3 + 1 */

	cr_assert_eq(claim_fill(0, lens, 5), 5);
	cr_assert_eq(shmring_commitv(p.prod, NULL, 5), SHMRING_OK);
	cr_assert_eq(shmring_peekv(p.cons, m, 8, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 5, "all that is published");
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(m[i].len, lens[i]);
		cr_assert(msg_is(m[i].data, m[i].len, i), "msg %zu", i);
	}
	cr_assert_eq(shmring_releasev(p.cons, n), SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &(size_t){0}, 0),
	             SHMRING_EAGAIN);
}

Test(peekv, peeking_again_returns_the_same_messages_then_newer_ones, PAIR)
{
	shmring_msg a[4], b[4];
	size_t n, k;
	const void *d;
	size_t len;

	send_seq(0);
	send_seq(1);
	cr_assert_eq(shmring_peekv(p.cons, a, 4, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 2);
	send_seq(2);
	cr_assert_eq(shmring_peekv(p.cons, b, 4, &k, 0), SHMRING_OK);
	cr_assert_eq(k, 3);
	cr_assert_eq(b[0].data, a[0].data);
	cr_assert_eq(b[1].data, a[1].data);
	cr_assert(msg_check(b[2].data, b[2].len, 2, MAX));
	cr_assert_eq(shmring_peekv(p.cons, b, 1, &k, 0), SHMRING_OK);
	cr_assert_eq(k, 1, "fewer than peeked: the oldest");
	cr_assert_eq(b[0].data, a[0].data);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	cr_assert_eq(d, a[0].data, "peek is the oldest peeked");
}

Test(peekv, a_partial_release_keeps_the_rest_at_the_same_addresses, PAIR)
{
	shmring_msg a[4], b[4];
	size_t n, k;

	for (uint64_t s = 0; s < 4; s++)
		send_seq(s);
	cr_assert_eq(shmring_peekv(p.cons, a, 4, &n, 0), SHMRING_OK);
	cr_assert_geq(n, 3);
	cr_assert_eq(shmring_releasev(p.cons, 2), SHMRING_OK);
	cr_assert_eq(shmring_peekv(p.cons, b, 4, &k, 0), SHMRING_OK);
	cr_assert_geq(k, n - 2);
	for (size_t i = 0; i < n - 2; i++) {
		cr_assert_eq(b[i].data, a[i + 2].data);
		cr_assert(msg_check(b[i].data, b[i].len, i + 2, MAX));
	}
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK, "one at a time");
	cr_assert_eq(shmring_releasev(p.cons, k - 1), SHMRING_OK);
	for (uint64_t s = 2 + k; s < 4; s++)
		recv_seq(s, msg_size(s, MAX));
}

Test(peekv, releasev_hands_the_slots_back_with_one_tail_store, PAIR)
{
	shmring_msg m[16];
	size_t n;
	int k = 0;

	while (shmring_send(p.prod, "", 0, 0) == SHMRING_OK)
		k++;
	cr_assert_eq(k, COUNT);
	cr_assert_eq(shmring_peekv(p.cons, m, 16, &n, 0), SHMRING_OK);
	cr_assert_eq(n, COUNT);
	cr_assert_eq(shmring_send(p.prod, "", 0, 0), SHMRING_EAGAIN,
	             "peeked is not released");
	cr_assert_eq(shmring_releasev(p.cons, 5), SHMRING_OK);
	for (k = 0; shmring_send(p.prod, "", 0, 0) == SHMRING_OK; k++)
		;
	cr_assert_eq(k, 5);
}

Test(peekv, a_closed_producer_is_eclosed_after_the_drain, PAIR)
{
	shmring_msg m[4];
	size_t n;

	send_seq(0);
	shmring_close(p.prod);
	p.prod = NULL;
	cr_assert_eq(shmring_peekv(p.cons, m, 4, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(shmring_releasev(p.cons, 1), SHMRING_OK);
	cr_assert_eq(shmring_peekv(p.cons, m, 4, &n, 0), SHMRING_ECLOSED);
	cr_assert_eq(n, 0);
}

Test(zcbatch, interoperates_with_every_other_call, PAIR)
{
	uint64_t sent = 0, got = 0;

	while (got < 3000) {
		/* producer: alternate send, sendv, claim, claimv */
		switch (sent % 4) {
		case 0:
			send_seq(sent++);
			break;
		case 1: {
			const size_t lens[] = {msg_size(sent, MAX),
			                       msg_size(sent + 1, MAX)};
			size_t n = claim_fill(sent, lens, 2);

			cr_assert_eq(shmring_commitv(p.prod, NULL, n),
			             SHMRING_OK);
			sent += n;
			break;
		}
		default:
			send_seq(sent++);
		}
		/* consumer: peekv + releasev of some, or recv */
		while (got < sent) {
			shmring_msg m[3];
			size_t n, r;

			if (got % 3) {
				recv_seq(got, msg_size(got, MAX));
				got++;
				continue;
			}
			cr_assert_eq(shmring_peekv(p.cons, m, 3, &n, 0),
			             SHMRING_OK);
			for (size_t i = 0; i < n; i++)
				cr_assert(msg_check(m[i].data, m[i].len,
				                    got + i, MAX));
			r = n > 1 ? n - 1 : n;
			cr_assert_eq(shmring_releasev(p.cons, r), SHMRING_OK);
			got += r;
			if (r < n) {
				cr_assert_eq(shmring_releasev(p.cons, 1),
				             SHMRING_OK);
				got++;
			}
		}
	}
}
