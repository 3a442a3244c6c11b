/* Description: one process: shmring_sendv / shmring_recvv semantics. */
/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

#define SLOT  64
#define COUNT 8

static struct pair p;

static void setup(void)
{
	pair_open_or_fail(&p, SLOT, COUNT);
}

static void teardown(void)
{
	pair_close(&p);
}

#define PAIR .init = setup, .fini = teardown, .timeout = 10

/* Messages first..first+n-1 of a stream (msg_size/msg_fill), as a batch. */
struct out {
	uint8_t bytes[COUNT * 2][SLOT];
	shmring_msg v[COUNT * 2];
};

static void out_make(struct out *o, uint64_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		o->v[i].len = msg_size(first + i, SLOT);
		o->v[i].data = o->bytes[i];
		msg_fill(o->bytes[i], o->v[i].len, first + i);
	}
}

struct in {
	uint8_t bytes[COUNT * 2][SLOT];
	shmring_buf v[COUNT * 2];
};

static void in_make(struct in *b, size_t n, size_t cap)
{
	for (size_t i = 0; i < n; i++)
		b->v[i] = (shmring_buf){b->bytes[i], cap};
}

static void sendv_ok(uint64_t first, size_t n)
{
	struct out o;
	size_t sent = 99;
	int rc;

	out_make(&o, first, n);
	rc = shmring_sendv(p.prod, o.v, n, &sent, SHMRING_NOWAIT);
	cr_assert_eq(rc, SHMRING_OK, "sendv: %s", shmring_strerror(rc));
	cr_assert_eq(sent, n);
}

/* recvv of up to @want; asserts it got exactly @got messages from @first */
static void recvv_expect(uint64_t first, size_t want, size_t got)
{
	struct in b;
	size_t n = 99;
	int rc;

	in_make(&b, want, SLOT);
	rc = shmring_recvv(p.cons, b.v, want, &n, SHMRING_NOWAIT);
	cr_assert_eq(rc, SHMRING_OK, "recvv: %s", shmring_strerror(rc));
	cr_assert_eq(n, got);
	for (size_t i = 0; i < got; i++)
		cr_assert(msg_check(b.bytes[i], b.v[i].len, first + i, SLOT),
		          "message %zu", i);
}

static void recv_expect(uint64_t seq)
{
	uint8_t buf[SLOT];
	size_t len;

	cr_assert_eq(shmring_recv(p.cons, buf, sizeof buf, &len, 0),
	             SHMRING_OK);
	cr_assert(msg_check(buf, len, seq, SLOT), "seq %llu",
	          (unsigned long long)seq);
}

static void ring_is_empty(void)
{
	size_t len;

	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0), SHMRING_EAGAIN);
}

/* ---- shmring_sendv --------------------------------------------------------
 */

Test(sendv, messages_arrive_in_order_through_plain_recv, PAIR)
{
	sendv_ok(0, 5);
	for (uint64_t s = 0; s < 5; s++)
		recv_expect(s);
	ring_is_empty();
}

Test(sendv, zero_length_messages_and_an_empty_batch, PAIR)
{
	shmring_msg v[2] = {{NULL, 0}, {"x", 0}};
	size_t sent = 99, len = 99;

	cr_assert_eq(shmring_sendv(p.prod, NULL, 0, &sent, 0), SHMRING_OK);
	cr_assert_eq(sent, 0);
	cr_assert_eq(shmring_sendv(p.prod, v, 2, &sent, 0), SHMRING_OK);
	cr_assert_eq(sent, 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(shmring_recv(p.cons, NULL, 0, &len, 0),
		             SHMRING_OK);
		cr_assert_eq(len, 0);
	}
}

Test(sendv, fills_the_ring_then_reports_eagain_with_the_count_sent, PAIR)
{
	struct out o;
	size_t sent = 99;

	sendv_ok(0, 3);
	out_make(&o, 3, COUNT);
	cr_assert_eq(shmring_sendv(p.prod, o.v, COUNT, &sent, 0),
	             SHMRING_EAGAIN);
	cr_assert_eq(sent, COUNT - 3, "the ones that fit are sent");
	for (uint64_t s = 0; s < COUNT; s++)
		recv_expect(s);
	ring_is_empty();
}

Test(sendv, one_bad_message_sends_none, PAIR)
{
	struct out o;
	size_t sent = 99;

	out_make(&o, 0, 4);
	o.v[2].len = SLOT + 1;
	cr_assert_eq(shmring_sendv(p.prod, o.v, 4, &sent, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(sent, 0);
	o.v[2].len = 1;
	o.v[3].data = NULL;
	cr_assert_eq(shmring_sendv(p.prod, o.v, 4, &sent, 0), SHMRING_EINVAL);
	cr_assert_eq(sent, 0);
	ring_is_empty();
}

Test(sendv, rejects_bad_arguments, PAIR)
{
	struct out o;
	size_t sent = 99;
	void *w;

	out_make(&o, 0, 2);
	cr_assert_eq(shmring_sendv(NULL, o.v, 2, &sent, 0), SHMRING_EINVAL);
	cr_assert_eq(sent, 0, "*sent is set even on EINVAL");
	cr_assert_eq(shmring_sendv(p.prod, o.v, 2, NULL, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_sendv(p.prod, NULL, 2, &sent, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_sendv(p.cons, o.v, 2, &sent, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_sendv(p.prod, o.v, 2, &sent, -2), SHMRING_EINVAL);
	cr_assert_eq(shmring_claim(p.prod, 1, &w, 0), SHMRING_OK);
	cr_assert_eq(shmring_sendv(p.prod, o.v, 2, &sent, 0), SHMRING_EINVAL,
	             "a claim is pending");
	cr_assert_eq(shmring_commit(p.prod, 0), SHMRING_OK);
	cr_assert_eq(shmring_recv(p.cons, NULL, 0, &sent, 0), SHMRING_OK);
	ring_is_empty();
}

Test(sendv, the_timeout_bounds_the_whole_call, PAIR)
{
	struct out o;
	size_t sent = 99;
	uint64_t t0;

	sendv_ok(0, COUNT - 2);
	out_make(&o, COUNT - 2, 4);
	t0 = now_ns();
	cr_assert_eq(shmring_sendv(p.prod, o.v, 4, &sent, 100),
	             SHMRING_ETIMEDOUT);
	cr_assert_geq(now_ns() - t0, 100000000u);
	cr_assert_eq(sent, 2);
	for (uint64_t s = 0; s < COUNT; s++)
		recv_expect(s);
}

Test(sendv, after_the_consumer_closed_is_eclosed, PAIR)
{
	struct out o;
	size_t sent = 99;

	shmring_close(p.cons);
	p.cons = NULL;
	out_make(&o, 0, 2);
	cr_assert_eq(shmring_sendv(p.prod, o.v, 2, &sent, 0), SHMRING_ECLOSED);
	cr_assert_eq(sent, 0);
}

Test(sendv, wraps_around_the_ring_end, PAIR)
{
	uint64_t sent = 0, got = 0;

	/* batches of 1..COUNT, drained in batches of another size, so that
	 * both cross the end of the slot array at every offset */
	for (int round = 0; round < 40; round++) {
		size_t k = 1 + (size_t)(round * 5) % COUNT,
		       free = COUNT - (sent - got);
		size_t m = 1 + (size_t)(round * 3) % COUNT;

		if (k > free)
			k = free;
		sendv_ok(sent, k);
		sent += k;
		if (m > sent - got)
			m = (size_t)(sent - got);
		recvv_expect(got, m, m);
		got += m;
	}
	recvv_expect(got, COUNT, (size_t)(sent - got));
}

Test(sendv, counts_every_message_in_the_stats, PAIR)
{
	shmring_stats st;

	sendv_ok(0, 5);
	recvv_expect(0, 8, 5);
	cr_assert_eq(shmring_get_stats(p.prod, &st), SHMRING_OK);
	cr_assert_eq(st.messages, 5);
	cr_assert_eq(shmring_get_stats(p.cons, &st), SHMRING_OK);
	cr_assert_eq(st.messages, 5);
}

/* ---- shmring_recvv --------------------------------------------------------
 */

Test(recvv, takes_what_is_published_without_waiting_for_more, PAIR)
{
	struct in b;
	size_t n = 0;
	uint64_t t0;

	sendv_ok(0, 3);
	in_make(&b, COUNT, SLOT);
	t0 = now_ns();
	cr_assert_eq(shmring_recvv(p.cons, b.v, COUNT, &n, SHMRING_FOREVER),
	             SHMRING_OK);
	cr_assert_lt(now_ns() - t0, 1000000000u, "returned without waiting");
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++)
		cr_assert(msg_check(b.bytes[i], b.v[i].len, i, SLOT));
	cr_assert_eq(b.v[3].len, SLOT, "buffers past the batch untouched");
	ring_is_empty();
}

Test(recvv, takes_at_most_n, PAIR)
{
	sendv_ok(0, 6);
	recvv_expect(0, 4, 4);
	recvv_expect(4, 4, 2);
}

Test(recvv, a_first_message_too_large_is_emsgsize_and_stays, PAIR)
{
	struct in b;
	size_t n = 99;

	cr_assert_eq(shmring_send(p.prod, "0123456789", 10, 0), SHMRING_OK);
	in_make(&b, 2, 4);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, &n, 0), SHMRING_EMSGSIZE);
	cr_assert_eq(n, 0);
	cr_assert_eq(b.v[0].len, 10, "the size needed");
	in_make(&b, 2, SLOT);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(b.v[0].len, 10);
	cr_assert_arr_eq(b.bytes[0], "0123456789", 10);
}

Test(recvv, stops_before_a_later_message_that_does_not_fit, PAIR)
{
	struct in b;
	size_t n = 99;

	cr_assert_eq(shmring_send(p.prod, "ab", 2, 0), SHMRING_OK);
	cr_assert_eq(shmring_send(p.prod, "cdefgh", 6, 0), SHMRING_OK);
	cr_assert_eq(shmring_send(p.prod, "ij", 2, 0), SHMRING_OK);
	in_make(&b, 3, 4);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 3, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(b.v[0].len, 2);
	cr_assert_eq(b.v[1].len, 4, "the one that did not fit is untouched");
	cr_assert_eq(shmring_recvv(p.cons, b.v + 1, 2, &n, 0),
	             SHMRING_EMSGSIZE);
	cr_assert_eq(b.v[1].len, 6);
	in_make(&b, 3, SLOT);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 3, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 2);
	cr_assert_arr_eq(b.bytes[0], "cdefgh", 6);
	cr_assert_arr_eq(b.bytes[1], "ij", 2);
}

Test(recvv, empty_ring_is_eagain_or_etimedout, PAIR)
{
	struct in b;
	size_t n = 99;
	uint64_t t0;

	in_make(&b, 2, SLOT);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, &n, 0), SHMRING_EAGAIN);
	cr_assert_eq(n, 0);
	t0 = now_ns();
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, &n, 50), SHMRING_ETIMEDOUT);
	cr_assert_geq(now_ns() - t0, 50000000u);
}

Test(recvv, drains_then_reports_eclosed, PAIR)
{
	struct in b;
	size_t n = 99;

	sendv_ok(0, 2);
	shmring_close(p.prod);
	p.prod = NULL;
	recvv_expect(0, COUNT, 2);
	in_make(&b, 2, SLOT);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, &n, 0), SHMRING_ECLOSED);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, &n, 50), SHMRING_ECLOSED);
	cr_assert_eq(n, 0);
}

Test(recvv, rejects_bad_arguments, PAIR)
{
	struct in b;
	const void *d;
	size_t n = 99, len;

	sendv_ok(0, 2);
	in_make(&b, 2, SLOT);
	cr_assert_eq(shmring_recvv(NULL, b.v, 2, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(n, 0);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, NULL, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_recvv(p.cons, NULL, 2, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_recvv(p.prod, b.v, 2, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, &n, -2), SHMRING_EINVAL);
	b.v[1].data = NULL;
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, &n, 0), SHMRING_EINVAL);
	cr_assert_eq(shmring_peek(p.cons, &d, &len, 0), SHMRING_OK);
	in_make(&b, 2, SLOT);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 2, &n, 0), SHMRING_EINVAL,
	             "a peek is pending");
	cr_assert_eq(shmring_release(p.cons), SHMRING_OK);
	cr_assert_eq(shmring_recvv(p.cons, b.v, 0, &n, 0), SHMRING_OK);
	cr_assert_eq(n, 0, "an empty batch takes nothing");
	recvv_expect(1, 2, 1);
}

/* ---- payloads of every size class ------------------------------------------
 */

#define BIG 4096

Test(copy, payloads_of_many_sizes_arrive_intact_and_nothing_past_them,
     .timeout = 10)
{
	static const size_t sizes[] = {0,   1,    255,  256,  511, 512,
	                               513, 1023, 1024, 4095, BIG};
	static uint8_t out[BIG], in[BIG + 1], bin[2][BIG + 1];
	struct pair q;
	size_t len, n;

	pair_open_or_fail(&q, BIG, 4);
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t sz = sizes[k];
		shmring_msg v[2] = {{out, sz}, {out, sz}};
		shmring_buf b[2] = {{bin[0], BIG}, {bin[1], BIG}};

		msg_fill(out, sz, k);
		memset(in, 0xee, sizeof in);
		memset(bin, 0xee, sizeof bin);
		cr_assert_eq(shmring_send(q.prod, out, sz, 0), SHMRING_OK);
		cr_assert_eq(shmring_recv(q.cons, in, BIG, &len, 0),
		             SHMRING_OK);
		cr_assert_eq(len, sz);
		cr_assert(memcmp(in, out, sz) == 0, "send/recv, %zu bytes", sz);
		cr_assert_eq(in[sz], 0xee, "nothing written past the message");
		cr_assert_eq(shmring_sendv(q.prod, v, 2, &n, 0), SHMRING_OK);
		cr_assert_eq(shmring_recvv(q.cons, b, 2, &n, 0), SHMRING_OK);
		cr_assert_eq(n, 2);
		for (int i = 0; i < 2; i++) {
			cr_assert_eq(b[i].len, sz);
			cr_assert(memcmp(bin[i], out, sz) == 0,
			          "sendv/recvv, %zu bytes", sz);
			cr_assert_eq(bin[i][sz], 0xee);
		}
	}
	pair_close(&q);
}
