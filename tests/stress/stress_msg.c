/* SPDX-License-Identifier: MIT */
/* stress_msg.c -- see stress_msg.h. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "stress_msg.h"

#define ST_HDR      12u /* seq (8) + checksum (4) */
#define ST_REC_HDR  8u  /* the record word before each payload */
#define ST_MAP_MASK (ST_MAP - 1u)
#define ST_PEND_MAX SHMRING_BATCH_MAX /* most messages peeked at once */

uint64_t st_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t st_mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

void st_fail(struct st_journal *j, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (atomic_fetch_add(&j->errors, 1) == 0)
		memcpy(j->error, msg, sizeof j->error);
	fprintf(stderr, "stress: %s: %s\n", j->name, msg);
}

uint32_t st_default_max(uint32_t stride, uint32_t count)
{
	uint64_t bytes = (uint64_t)stride * count, m = bytes / 2 - ST_REC_HDR;

	return m > SHMRING_MAX_MSG_LIMIT ? SHMRING_MAX_MSG_LIMIT : (uint32_t)m;
}

uint64_t st_slots(const struct st_journal *j, uint64_t len)
{
	return (len + ST_REC_HDR + j->stride - 1u) / j->stride;
}

/*
 * Sizes over 0..max_msg: one in eight empty, one in eight max_msg, one in
 * eight the largest one-slot message and one in eight the smallest
 * two-slot one (the boundary of the record format), one in eight up to a
 * slot's payload, the rest uniform over 0..max_msg.
 */
size_t st_len(const struct st_journal *j, uint64_t seq)
{
	uint64_t h = st_mix(j->seed ^ (seq * UINT64_C(0x2545f4914f6cdd1d)));
	uint64_t max = j->max_len, one = j->stride - ST_REC_HDR;
	uint64_t small = j->slot_size < max ? j->slot_size : max;

	one = one < max ? one : max;
	switch (h & 7) {
	case 0:
		return 0;
	case 1:
		return (size_t)max;
	case 2:
		return (size_t)one;
	case 3:
		return (size_t)(one + 1 <= max ? one + 1 : max);
	case 4:
		return (size_t)((h >> 3) % (small + 1));
	default:
		return (size_t)((h >> 3) % (max + 1));
	}
}

static uint32_t st_fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The message @seq, truncated to @len bytes. */
static void st_fill(const struct st_journal *j, uint64_t seq, void *out,
                    size_t len)
{
	uint8_t *b = out, hdr[ST_HDR];
	uint64_t x = j->seed ^ seq;
	uint32_t sum;

	for (size_t i = ST_HDR; i < len; i += 8) {
		x = st_mix(x);
		memcpy(b + i, &x, len - i < 8 ? len - i : 8);
	}
	sum = len > ST_HDR ? st_fnv(b + ST_HDR, len - ST_HDR) : st_fnv(b, 0);
	for (unsigned k = 0; k < 8; k++)
		hdr[k] = (uint8_t)(seq >> (8 * k));
	for (unsigned k = 0; k < 4; k++)
		hdr[8 + k] = (uint8_t)(sum >> (8 * k));
	memcpy(b, hdr, len < ST_HDR ? len : ST_HDR);
}

static int st_pick_timeout(uint64_t rnd)
{
	switch (rnd % 8) {
	case 0:
		return SHMRING_NOWAIT;
	case 1:
		return 1 + (int)((rnd >> 8) % 3);
	default:
		return SHMRING_FOREVER;
	}
}

/* ---- the segment, read-only ---------------------------------------------- */

int st_view_map(const char *name, struct st_view *v)
{
	char path[128];
	struct stat st;
	int fd;

	snprintf(path, sizeof path, "/shmring.%s", name);
	v->base = MAP_FAILED;
	v->size = 0;
	fd = shm_open(path, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_size >= SR_HDR_SIZE) {
		v->size = (size_t)st.st_size;
		v->base = mmap(NULL, v->size, PROT_READ, MAP_SHARED, fd, 0);
	}
	close(fd);
	if (v->base == MAP_FAILED) {
		v->base = NULL;
		return -1;
	}
	return 0;
}

void st_view_unmap(struct st_view *v)
{
	if (v->base)
		munmap((void *)v->base, v->size);
	v->base = NULL;
}

uint64_t st_view_head(const struct st_view *v)
{
	const struct sr_seg *s = (const void *)v->base;

	return atomic_load((_Atomic uint64_t *)&s->head.value);
}

uint64_t st_view_tail(const struct st_view *v)
{
	const struct sr_seg *s = (const void *)v->base;

	return atomic_load((_Atomic uint64_t *)&s->tail.value);
}

static size_t st_view_off(const struct st_journal *j, uint64_t i)
{
	return SR_HDR_SIZE + (size_t)(i & (j->slot_count - 1u)) * j->stride;
}

uint64_t st_view_word(const struct st_journal *j, const struct st_view *v,
                      uint64_t i)
{
	return atomic_load(
	        (_Atomic uint64_t *)(void *)(v->base + st_view_off(j, i)));
}

/* ---- the journal ----------------------------------------------------------
 */

struct st_plan st_plan_get(struct st_journal *j)
{
	return j->p_plan[atomic_load(&j->p_cur) & 1];
}

void st_plan_put(struct st_journal *j, uint64_t base, uint64_t head0,
                 uint64_t end)
{
	int next = (atomic_load(&j->p_cur) & 1) ^ 1;

	j->p_plan[next] = (struct st_plan){base, head0, end};
	atomic_store(&j->p_cur, next);
}

struct st_cstate st_cstate_get(struct st_journal *j)
{
	return j->c_state[atomic_load(&j->c_cur) & 1];
}

static void st_cstate_put(struct st_journal *j, uint64_t done, uint32_t phase,
                          uint32_t n, uint32_t peeked)
{
	int next = (atomic_load(&j->c_cur) & 1) ^ 1;

	j->c_state[next] = (struct st_cstate){done, phase, n, peeked};
	atomic_store(&j->c_cur, next);
}

static void st_peer_dead(struct st_journal *j, int side, uint64_t call_ns)
{
	int armed = 1;

	if (atomic_compare_exchange_strong(&j->pd_armed[side], &armed, 0)) {
		atomic_store(&j->pd_call_ns[side], call_ns);
		atomic_store(&j->pd_seen_ns[side], st_now_ns());
	}
	usleep(1000); /* then try again: a new peer takes over */
}

static void st_pause_forever(struct st_journal *j, int side, int at)
{
	atomic_store(&j->paused_at[side], at);
	atomic_store(&j->paused[side], 1);
	for (;;)
		pause(); /* the driver kills us here */
}

static int st_attach(struct st_journal *j, int side, int create, shmring **r)
{
	shmring_config cfg = {.slot_size = j->slot_size,
	                      .slot_count = j->slot_count,
	                      .max_msg = j->cfg_max};
	enum shmring_role role =
	        side == ST_P ? SHMRING_PRODUCER : SHMRING_CONSUMER;
	uint64_t end = st_now_ns() + UINT64_C(5000000000);
	int rc;

	if (create)
		rc = shmring_create(j->name, &cfg, role, r);
	else
		do {
			rc = shmring_open(j->name, role, r);
			if (rc == SHMRING_ENOENT || rc == SHMRING_EBUSY)
				usleep(200);
		} while ((rc == SHMRING_ENOENT || rc == SHMRING_EBUSY) &&
		         st_now_ns() < end);
	if (rc != SHMRING_OK) {
		st_fail(j, "%s of %s as %s: %s", create ? "create" : "open",
		        j->name, side == ST_P ? "producer" : "consumer",
		        shmring_strerror(rc));
		return rc;
	}
	if (shmring_max_msg(*r) != j->max_len) {
		st_fail(j, "max_msg is %zu, expected %u", shmring_max_msg(*r),
		        j->max_len);
		shmring_close(*r);
		return SHMRING_EBADFMT;
	}
	shmring_set_spin(*r, j->spin_ns);
	return SHMRING_OK;
}

/* ---- producer -------------------------------------------------------------
 */

struct st_prod {
	struct st_journal *j;
	shmring *r;
	struct st_view v;
	uint64_t seq;  /* next message to send */
	uint64_t head; /* head as published after our last call */
	uint64_t rnd;
	size_t maxk;  /* most messages the call may send (the limit) */
	uint8_t *buf; /* ST_BATCH messages of max_len + 1 bytes */
	/* the call being made: message i (seq + i) is len[i] bytes, claimed
	 * (and placed) at plen[i] bytes, planned to start at ring index
	 * at[i] */
	size_t len[ST_BIG_BATCH], plen[ST_BIG_BATCH];
	uint64_t at[ST_BIG_BATCH];
	shmring_buf bufs[ST_BIG_BATCH];
	size_t lens[ST_BIG_BATCH];
};

/* Where a record of @plen bytes goes with the producer at @w: at @w, or
 * at the start of the next lap after padding if it would run past the end
 * of the ring (docs/format.md, "Slots and records"). */
static uint64_t st_place(const struct st_journal *j, uint64_t w, uint64_t plen)
{
	uint64_t left = j->slot_count - (w & (j->slot_count - 1u));

	return st_slots(j, plen) > left ? w + left : w;
}

/* Plan the call's @k messages (len and plen set) from the head, and
 * journal it before the call. */
static void st_plan_call(struct st_prod *p, size_t k)
{
	struct st_journal *j = p->j;
	uint64_t w = p->head;

	for (size_t i = 0; i < k; i++) {
		p->at[i] = st_place(j, w, p->plen[i]);
		w = p->at[i] + st_slots(j, p->plen[i]);
		atomic_store_explicit(&j->start[(p->seq + i) & ST_MAP_MASK],
		                      p->at[i], memory_order_relaxed);
	}
	/* Release: the start indices before the library's head store. */
	atomic_store_explicit(&j->p_end, p->seq + k, memory_order_release);
	st_plan_put(j, p->seq, p->head, p->seq + k);
}

/*
 * After a call of @k planned messages of which @done were published: the
 * library's head must end exactly after the last of them, or, if
 * @pad_ok, at the start of the next planned one (a padding record that
 * sr_prod_room() publishes alone when padding and record together exceed
 * the ring). Journal the new position.
 */
static void st_after(struct st_prod *p, const char *call, size_t k, size_t done,
                     int rc, int pad_ok)
{
	struct st_journal *j = p->j;
	uint64_t h = st_view_head(&p->v);
	uint64_t e = done ? p->at[done - 1] + st_slots(j, p->len[done - 1])
	                  : p->head;

	if (h != e && !(pad_ok && done < k && h == p->at[done]))
		st_fail(j,
		        "%s of %zu returned %s with %zu published: head %llu, "
		        "planned %llu (next record at %llu)",
		        call, k, shmring_strerror(rc), done,
		        (unsigned long long)h, (unsigned long long)e,
		        (unsigned long long)(done < k ? p->at[done] : e));
	p->seq += done;
	p->head = h;
	atomic_store_explicit(&j->p_end, p->seq, memory_order_release);
	st_plan_put(j, p->seq, h, p->seq);
	atomic_fetch_add(&j->sent, done);
}

/* The bytes written through a claimed pointer are those of the planned
 * slot, as the producer's own view of the segment shows them. */
static void st_check_claim(struct st_prod *p, size_t i, const void *ptr)
{
	struct st_journal *j = p->j;
	size_t n = p->len[i] < 16 ? p->len[i] : 16;
	const uint8_t *in_view =
	        p->v.base + st_view_off(j, p->at[i]) + ST_REC_HDR;

	if (n && memcmp(in_view, ptr, n) != 0)
		st_fail(j, "claim of seq %llu is not at ring index %llu",
		        (unsigned long long)(p->seq + i),
		        (unsigned long long)p->at[i]);
}

/* A claim of @plen bytes that spans two slots or more, if the ring has
 * such messages: for the pause between claim and commit. */
static size_t st_multi(const struct st_journal *j, size_t plen, uint64_t rnd)
{
	size_t two = j->stride - ST_REC_HDR + 1; /* smallest two-slot */

	if (plen >= two || two > j->max_len)
		return plen;
	return two + (size_t)(rnd % (j->max_len - two + 1));
}

static size_t st_extra(const struct st_journal *j, size_t len, uint64_t rnd)
{
	size_t room = j->max_len - len;

	switch (rnd & 3) {
	case 0:
	case 1:
		return 0;
	case 2:
		return (size_t)((rnd >> 2) % 16) < room
		               ? (size_t)((rnd >> 2) % 16)
		               : room;
	default:
		return room ? (size_t)((rnd >> 2) % (room + 1)) : 0;
	}
}

static void st_send(struct st_prod *p, int tmo, int *rc)
{
	p->len[0] = p->plen[0] = st_len(p->j, p->seq);
	st_plan_call(p, 1);
	st_fill(p->j, p->seq, p->buf, p->len[0]);
	*rc = shmring_send(p->r, p->buf, p->len[0], tmo);
	atomic_fetch_add(&p->j->calls[ST_K_SEND], 1);
	st_after(p, "send", 1, *rc == SHMRING_OK, *rc, *rc != SHMRING_OK);
}

static void st_sendv(struct st_prod *p, int tmo, int *rc)
{
	shmring_msg v[ST_BATCH];
	size_t k = 1 + (size_t)((p->rnd >> 40) % ST_BATCH), sent = 99;

	k = k < p->maxk ? k : p->maxk;
	for (size_t i = 0; i < k; i++) {
		uint8_t *m = p->buf + i * ((size_t)p->j->max_len + 1);

		p->len[i] = p->plen[i] = st_len(p->j, p->seq + i);
		v[i] = (shmring_msg){m, p->len[i]};
		st_fill(p->j, p->seq + i, m, p->len[i]);
	}
	st_plan_call(p, k);
	*rc = shmring_sendv(p->r, v, k, &sent, tmo);
	atomic_fetch_add(&p->j->calls[ST_K_SENDV], 1);
	if (sent > k || (*rc == SHMRING_OK) != (sent == k)) {
		st_fail(p->j, "sendv of %zu: %s with %zu sent", k,
		        shmring_strerror(*rc), sent);
		sent = sent > k ? 0 : sent;
	}
	st_after(p, "sendv", k, sent, *rc, *rc != SHMRING_OK);
}

/* claim + commit, the claim up to max_msg larger than the message. */
static void st_claim(struct st_prod *p, int tmo, int pausing, int *rc)
{
	struct st_journal *j = p->j;
	size_t len = st_len(j, p->seq), plen;
	void *ptr = NULL;

	plen = len + st_extra(j, len, p->rnd >> 20);
	if (pausing)
		plen = st_multi(j, plen, p->rnd >> 24);
	p->len[0] = len;
	p->plen[0] = plen;
	st_plan_call(p, 1);
	*rc = shmring_claim(p->r, plen, &ptr, tmo);
	atomic_fetch_add(&j->calls[ST_K_CLAIM], 1);
	if (*rc != SHMRING_OK) {
		st_after(p, "claim", 1, 0, *rc, 1);
		return;
	}
	st_fill(j, p->seq, ptr, len);
	st_check_claim(p, 0, ptr);
	if (pausing) {
		atomic_store(&j->paused_slots, (uint32_t)st_slots(j, plen));
		st_pause_forever(j, ST_P, ST_AT_CLAIM);
	}
	if ((p->rnd >> 30) % 16 == 0) {
		/* while a claim is pending: a send, or a commit above the
		 * claim, is EINVAL and the claim stays */
		if (shmring_send(p->r, p->buf, 0, SHMRING_NOWAIT) !=
		    SHMRING_EINVAL)
			st_fail(j, "send with a claim pending was not EINVAL");
		if (shmring_commit(p->r, plen + 1) != SHMRING_EINVAL)
			st_fail(j,
			        "commit of %zu after a claim of %zu was "
			        "not EINVAL",
			        plen + 1, plen);
	}
	*rc = shmring_commit(p->r, len);
	if (*rc != SHMRING_OK)
		st_fail(j, "commit of %zu after claim of %zu: %s", len, plen,
		        shmring_strerror(*rc));
	st_after(p, "claim+commit", 1, *rc == SHMRING_OK, *rc, 0);
}

/* claimv + commitv: each claim maybe larger than its message, and maybe
 * fewer committed than claimed (the rest discarded). */
static void st_claimv(struct st_prod *p, int tmo, int pausing, int *rc)
{
	struct st_journal *j = p->j;
	uint64_t rnd = st_mix(p->rnd);
	size_t n = 1 + (size_t)((p->rnd >> 40) % ST_BATCH), k = 99, c;
	size_t most = 0;
	int same = 1;

	if ((p->rnd >> 48) % 32 == 0)
		n = 1 + (size_t)((p->rnd >> 53) % ST_BIG_BATCH);
	n = n < p->maxk ? n : p->maxk;
	for (size_t i = 0; i < n; i++, rnd = st_mix(rnd)) {
		p->len[i] = st_len(j, p->seq + i);
		p->plen[i] = p->len[i];
		if ((p->rnd >> 36) & 1)
			p->plen[i] += st_extra(j, p->len[i], rnd);
		same &= p->plen[i] == p->len[i];
		p->bufs[i] = (shmring_buf){NULL, p->plen[i]};
	}
	if (pausing) {
		p->bufs[0].len = p->plen[0] = st_multi(j, p->plen[0], rnd);
		same &= p->plen[0] == p->len[0];
	}
	st_plan_call(p, n);
	*rc = shmring_claimv(p->r, p->bufs, n, &k, tmo);
	atomic_fetch_add(&j->calls[ST_K_CLAIMV], 1);
	if (*rc != SHMRING_OK) {
		if (k != 0)
			st_fail(j, "claimv failed (%s) with %zu claimed",
			        shmring_strerror(*rc), k);
		st_after(p, "claimv", n, 0, *rc, 1);
		return;
	}
	if (k < 1 || k > n || k > SHMRING_BATCH_MAX) {
		st_fail(j, "claimv of %zu claimed %zu", n, k);
		shmring_commitv(p->r, NULL, 0);
		st_after(p, "claimv", n, 0, *rc, 1);
		return;
	}
	for (size_t i = 0; i < k; i++) {
		ptrdiff_t want =
		        ((ptrdiff_t)(p->at[i] & (j->slot_count - 1u)) -
		         (ptrdiff_t)(p->at[0] & (j->slot_count - 1u))) *
		        (ptrdiff_t)j->stride;

		if ((uint8_t *)p->bufs[i].data - (uint8_t *)p->bufs[0].data !=
		            want ||
		    p->bufs[i].len != p->plen[i])
			st_fail(j, "claimv: claim %zu of %zu not where planned",
			        i, k);
		st_fill(j, p->seq + i, p->bufs[i].data, p->len[i]);
		st_check_claim(p, i, p->bufs[i].data);
		p->lens[i] = p->len[i];
		most = st_slots(j, p->plen[i]) > most ? st_slots(j, p->plen[i])
		                                      : most;
	}
	for (size_t i = k; i < n; i++)
		if (p->bufs[i].data != NULL || p->bufs[i].len != p->plen[i])
			st_fail(j,
			        "claimv touched buffer %zu of %zu (%zu "
			        "claimed)",
			        i, n, k);
	if (pausing) {
		atomic_store(&j->paused_slots, (uint32_t)most);
		st_pause_forever(j, ST_P, k > 1 ? ST_AT_CLAIMV : ST_AT_CLAIM);
	}
	c = k;
	if ((p->rnd >> 58) % 8 == 0) {
		c = (size_t)((p->rnd >> 33) % k); /* 0 .. k - 1 */
		atomic_fetch_add(&j->calls[ST_K_COMMITV_PART], 1);
	}
	if ((p->rnd >> 61) == 0) {
		/* a length above its claim: EINVAL, the claims stay */
		p->lens[0] = p->plen[0] + 1;
		if (shmring_commitv(p->r, p->lens, c ? c : 1) != SHMRING_EINVAL)
			st_fail(j, "commitv above the claim was not EINVAL");
		p->lens[0] = p->len[0];
	}
	*rc = shmring_commitv(p->r, same && (p->rnd & 1) ? NULL : p->lens, c);
	if (*rc != SHMRING_OK) {
		st_fail(j, "commitv of %zu of %zu claimed: %s", c, k,
		        shmring_strerror(*rc));
		c = 0;
	}
	st_after(p, "claimv+commitv", n, c, *rc, c == 0);
}

int st_producer(struct st_journal *j, uint64_t first, int create)
{
	struct st_prod *p = calloc(1, sizeof *p);
	int rc = SHMRING_OK;

	if (!p)
		return 1;
	p->j = j;
	p->seq = first;
	p->rnd = st_mix(j->seed ^ first ^ st_now_ns());
	p->buf = malloc(((size_t)j->max_len + 1) * ST_BATCH);
	if (!p->buf || st_attach(j, ST_P, create, &p->r) != SHMRING_OK)
		goto out;
	if (st_view_map(j->name, &p->v) != 0) {
		st_fail(j, "producer: cannot map %s", j->name);
		goto out;
	}
	p->head = st_view_head(&p->v);
	{
		struct st_plan pl = st_plan_get(j);
		if (pl.base != first || pl.head0 != p->head)
			st_fail(j,
			        "producer starts at seq %llu head %llu, "
			        "journal says %llu at %llu",
			        (unsigned long long)first,
			        (unsigned long long)p->head,
			        (unsigned long long)pl.base,
			        (unsigned long long)pl.head0);
	}
	atomic_store(&j->attached[ST_P], 1);
	atomic_store(&j->ready, 1);
	while (p->seq - first < j->limit && !atomic_load(&j->stop)) {
		uint64_t t0 = st_now_ns(), left;
		int pausing = atomic_load(&j->pause_req[ST_P]), tmo;

		if (t0 > j->deadline_ns)
			break;
		p->rnd = st_mix(p->rnd);
		tmo = pausing ? SHMRING_FOREVER : st_pick_timeout(p->rnd >> 4);
		left = j->limit - (p->seq - first);
		p->maxk = left < ST_BIG_BATCH ? (size_t)left : ST_BIG_BATCH;
		if (pausing)
			switch ((p->rnd >> 12) & 1) {
			case 0:
				st_claim(p, tmo, 1, &rc);
				break;
			default:
				st_claimv(p, tmo, 1, &rc);
				break;
			}
		else
			switch ((p->rnd >> 12) % 10) {
			case 0:
			case 1:
			case 2:
				st_send(p, tmo, &rc);
				break;
			case 3:
			case 4:
				st_sendv(p, tmo, &rc);
				break;
			case 5:
			case 6:
				st_claim(p, tmo, 0, &rc);
				break;
			default:
				st_claimv(p, tmo, 0, &rc);
				break;
			}
		if (rc == SHMRING_OK || rc == SHMRING_EAGAIN ||
		    rc == SHMRING_ETIMEDOUT)
			continue;
		if (rc == SHMRING_EPEERDEAD) {
			st_peer_dead(j, ST_P, t0);
			continue;
		}
		st_fail(j, "producer at seq %llu: %s",
		        (unsigned long long)p->seq, shmring_strerror(rc));
		break;
	}
out:
	shmring_close(p->r);
	st_view_unmap(&p->v);
	free(p->buf);
	free(p);
	return atomic_load(&j->errors) != 0;
}

/* ---- consumer ------------------------------------------------------------ */

struct st_cons {
	struct st_journal *j;
	shmring *r;
	uint64_t done; /* next message not consumed (released) */
	uint64_t seen; /* next message not checked yet (done + npk) */
	uint64_t rnd;
	uint8_t *want, *buf;         /* buf: ST_BATCH messages of max_len + 1 */
	uint32_t npk;                /* messages peeked, not released */
	shmring_msg pk[ST_PEND_MAX]; /* where each of them was handed out */
	shmring_msg mv[ST_BIG_BATCH];
};

/* Is @m (of @len bytes) message @seq? */
static int st_is(struct st_cons *c, uint64_t seq, const uint8_t *m, size_t len)
{
	if (len != st_len(c->j, seq))
		return 0;
	st_fill(c->j, seq, c->want, len);
	return memcmp(m, c->want, len) == 0;
}

/* Check one new message against the stream; advance the expectation. */
static void st_check(struct st_cons *c, const uint8_t *m, size_t len)
{
	struct st_journal *j = c->j;
	uint64_t s = c->seen;

	if (len >= 8)
		memcpy(&s, m, 8); /* little-endian hosts only (x86, arm64) */
	if (s > c->seen && s - c->seen < ST_MAP) {
		atomic_fetch_add(&j->lost, s - c->seen);
		atomic_fetch_add(&j->gaps, 1);
		st_fail(j, "gap: got seq %llu, expected %llu",
		        (unsigned long long)s, (unsigned long long)c->seen);
	} else if (s < c->seen && c->seen - s < ST_MAP) {
		atomic_fetch_add(&j->duplicated, 1);
		st_fail(j,
		        "duplicate or reordered: got seq %llu, expected %llu",
		        (unsigned long long)s, (unsigned long long)c->seen);
	} else if (s != c->seen) {
		s = c->seen; /* garbage where the seq should be */
	}
	if (!st_is(c, s, m, len)) {
		atomic_fetch_add(&j->torn, 1);
		st_fail(j, "torn: seq %llu len %zu (expected %zu)",
		        (unsigned long long)s, len, st_len(j, s));
	}
	c->seen = s + 1;
	atomic_store(&j->c_seen, c->seen);
	atomic_fetch_add(&j->received, 1);
}

/* The calls that copy, with nothing peeked. */
static int st_recv(struct st_cons *c, int tmo)
{
	struct st_journal *j = c->j;
	size_t len = 0, cap = j->max_len;
	int rc, small = ((c->rnd >> 16) & 7) == 0 && cap > 0;

	if (small)
		cap = (size_t)((c->rnd >> 32) % cap); /* maybe too small */
	st_cstate_put(j, c->done, ST_IN_RECV, 1, 0);
	rc = shmring_recv(c->r, c->buf, cap, &len, tmo);
	atomic_fetch_add(&j->calls[small ? ST_K_RECV_SMALL : ST_K_RECV], 1);
	if (rc == SHMRING_EMSGSIZE) {
		if (len <= cap || len != st_len(j, c->seen))
			st_fail(j,
			        "recv into %zu: EMSGSIZE with len %zu "
			        "(message %llu is %zu)",
			        cap, len, (unsigned long long)c->seen,
			        st_len(j, c->seen));
		rc = SHMRING_EAGAIN; /* it stays: read it again */
	} else if (rc == SHMRING_OK) {
		st_check(c, c->buf, len);
		c->done = c->seen;
	}
	st_cstate_put(j, c->done, ST_IDLE, 0, 0);
	return rc;
}

static int st_recvv(struct st_cons *c, int tmo)
{
	struct st_journal *j = c->j;
	size_t k = 1 + (size_t)((c->rnd >> 40) % ST_BATCH), got = 99;
	size_t cap = j->max_len, caps[ST_BATCH];
	shmring_buf v[ST_BATCH];
	int rc;

	for (size_t i = 0; i < k; i++) {
		caps[i] = cap;
		if (((c->rnd >> (20 + i)) & 15) == 0 && cap > 0)
			caps[i] = (size_t)(st_mix(c->rnd + i) % cap);
		v[i] = (shmring_buf){c->buf + i * (cap + 1), caps[i]};
	}
	/* A kill from here until the state is stored may leave tail up to
	 * k messages past what was recorded (stress.c checks that). */
	st_cstate_put(j, c->done, ST_IN_RECVV, (uint32_t)k, 0);
	rc = shmring_recvv(c->r, v, k, &got, tmo);
	atomic_fetch_add(&j->calls[ST_K_RECVV], 1);
	if (rc == SHMRING_EMSGSIZE) {
		if (got != 0 || v[0].len <= caps[0] ||
		    v[0].len != st_len(j, c->seen))
			st_fail(j, "recvv: EMSGSIZE with len %zu into %zu",
			        v[0].len, caps[0]);
		rc = SHMRING_EAGAIN;
	} else if (rc == SHMRING_OK) {
		if (got < 1 || got > k)
			st_fail(j, "recvv of %zu took %zu", k, got);
		for (size_t i = 0; i < got && i < k; i++)
			st_check(c, v[i].data, v[i].len);
		for (size_t i = got; i < k; i++)
			if (v[i].len != caps[i])
				st_fail(j, "recvv changed buffer %zu of %zu", i,
				        k);
		c->done = c->seen;
	} else if (got != 0) {
		st_fail(j, "recvv failed (%s) with %zu taken",
		        shmring_strerror(rc), got);
	}
	st_cstate_put(j, c->done, ST_IDLE, 0, 0);
	return rc;
}

/* peek or peekv of @n: those peeked before come first, at the same
 * addresses; the new ones are checked. */
static int st_peekv(struct st_cons *c, size_t n, int tmo, int single)
{
	struct st_journal *j = c->j;
	size_t got = 0;
	int rc;

	st_cstate_put(j, c->done, ST_IN_PEEK, 0, c->npk);
	if (single) {
		n = 1;
		rc = shmring_peek(c->r, &c->mv[0].data, &c->mv[0].len, tmo);
		got = rc == SHMRING_OK;
	} else {
		rc = shmring_peekv(c->r, c->mv, n, &got, tmo);
	}
	atomic_fetch_add(&j->calls[single ? ST_K_PEEK : ST_K_PEEKV], 1);
	if (rc != SHMRING_OK) {
		if (got != 0)
			st_fail(j, "peekv failed (%s) with %zu",
			        shmring_strerror(rc), got);
		if (c->npk)
			st_fail(j, "peekv with %u peeked: %s", c->npk,
			        shmring_strerror(rc));
		st_cstate_put(j, c->done, ST_IDLE, 0, c->npk);
		return rc;
	}
	if (got < 1 || got > n || got > ST_PEND_MAX ||
	    got < (n < c->npk ? n : c->npk)) {
		st_fail(j, "peekv of %zu with %u peeked returned %zu", n,
		        c->npk, got);
		got = got > n ? n : got;
	}
	for (size_t i = 0; i < got; i++) {
		if (i < c->npk) {
			if (c->mv[i].data != c->pk[i].data ||
			    c->mv[i].len != c->pk[i].len)
				st_fail(j,
				        "peeked message %zu moved or changed "
				        "on a peek again",
				        i);
			continue;
		}
		st_check(c, c->mv[i].data, c->mv[i].len);
		c->pk[i] = c->mv[i];
	}
	if (got > c->npk)
		c->npk = (uint32_t)got;
	st_cstate_put(j, c->done, ST_IDLE, 0, c->npk);
	return SHMRING_OK;
}

static void st_releasev(struct st_cons *c, uint32_t m, int single)
{
	struct st_journal *j = c->j;
	int rc;

	st_cstate_put(j, c->done, ST_RELEASING, m, c->npk);
	rc = single ? shmring_release(c->r) : shmring_releasev(c->r, m);
	if (rc != SHMRING_OK) {
		st_fail(j, "releasev of %u of %u: %s", m, c->npk,
		        shmring_strerror(rc));
		return;
	}
	if (m < c->npk)
		atomic_fetch_add(&j->calls[ST_K_RELEASEV_PART], 1);
	memmove(c->pk, c->pk + m, (c->npk - m) * sizeof c->pk[0]);
	c->npk -= m;
	c->done += m;
	st_cstate_put(j, c->done, ST_IDLE, 0, c->npk);
}

static int st_recv_one(struct st_cons *c)
{
	struct st_journal *j = c->j;
	int pausing = atomic_load(&j->pause_req[ST_C]);
	int tmo = pausing ? SHMRING_FOREVER : st_pick_timeout(c->rnd >> 4);
	size_t n = 1 + (size_t)((c->rnd >> 40) % ST_BATCH), len;
	unsigned op = (unsigned)((c->rnd >> 12) % 8);
	int rc;

	if ((c->rnd >> 50) % 32 == 0)
		n = 1 + (size_t)((c->rnd >> 55) % ST_BIG_BATCH);
	if (c->npk) {
		/* peeked: peek again, or release some or all */
		if (pausing) {
			st_releasev(c, c->npk, 0);
			return SHMRING_OK;
		}
		if (op == 0) {
			/* a copy call while a peek is pending is EINVAL */
			if (shmring_recv(c->r, c->buf, j->max_len, &len, 0) !=
			    SHMRING_EINVAL)
				st_fail(j, "recv with a peek pending was not "
				           "EINVAL");
			return SHMRING_OK;
		}
		if (op <= 2)
			return st_peekv(c, n, tmo, op == 1);
		if (op == 3 || c->npk == 1)
			st_releasev(c, 1, op == 3);
		else if (op <= 5)
			st_releasev(c, c->npk, 0);
		else
			st_releasev(c, 1 + (uint32_t)((c->rnd >> 24) % c->npk),
			            0);
		return SHMRING_OK;
	}
	if (pausing) {
		n = n > 1 ? n : 2;
		rc = st_peekv(c, n, tmo, (c->rnd >> 20) & 1);
		if (rc == SHMRING_OK)
			st_pause_forever(j, ST_C,
			                 c->npk > 1 ? ST_AT_PEEKV : ST_AT_PEEK);
		return rc;
	}
	switch (op) {
	case 0:
	case 1:
		return st_recv(c, tmo);
	case 2:
	case 3:
		return st_recvv(c, tmo);
	case 4:
		return st_peekv(c, 1, tmo, 1);
	default:
		return st_peekv(c, n, tmo, 0);
	}
}

int st_consumer(struct st_journal *j, uint64_t first)
{
	struct st_cons *c = calloc(1, sizeof *c);
	int rc = SHMRING_OK;

	if (!c)
		return 1;
	c->j = j;
	c->done = c->seen = first;
	c->rnd = st_mix(j->seed ^ ~first ^ st_now_ns());
	c->want = malloc((size_t)j->max_len + 1);
	c->buf = malloc(((size_t)j->max_len + 1) * ST_BATCH);
	if (!c->want || !c->buf || st_attach(j, ST_C, 0, &c->r) != SHMRING_OK)
		goto out;
	st_cstate_put(j, first, ST_IDLE, 0, 0);
	atomic_store(&j->c_seen, first);
	atomic_store(&j->attached[ST_C], 1);
	while (rc != SHMRING_ECLOSED) {
		uint64_t t0 = st_now_ns();

		c->rnd = st_mix(c->rnd);
		rc = st_recv_one(c);
		if (rc == SHMRING_EPEERDEAD) {
			st_peer_dead(j, ST_C, t0);
		} else if (rc != SHMRING_OK && rc != SHMRING_EAGAIN &&
		           rc != SHMRING_ETIMEDOUT && rc != SHMRING_ECLOSED) {
			st_fail(j, "consumer at seq %llu: %s",
			        (unsigned long long)c->seen,
			        shmring_strerror(rc));
			break;
		}
	}
	if (rc == SHMRING_ECLOSED && c->npk)
		st_fail(j, "ECLOSED with %u peeked", c->npk);
out:
	shmring_close(c->r);
	free(c->want);
	free(c->buf);
	free(c);
	return atomic_load(&j->errors) != 0;
}
