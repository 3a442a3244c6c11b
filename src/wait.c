/* SPDX-License-Identifier: MIT */
/*
 * wait.c -- the whole wake protocol, matching tests/model/ step for step:
 * readiness (the peer's index re-read and checked), the peer's state and
 * liveness, spinning, the fence policy, sleeping (S1) and the slow half of
 * waking (W1's signal; the fast half is sr_wake_peer() in ring_int.h).
 *
 *   P1 producer  store-release head     publishes the records written
 *                                       before it
 *   C1 consumer  load-acquire  head     pairs with P1: records visible
 *   C2 consumer  store-release tail     the slots may be reused after this
 *   P0 producer  load-acquire  tail     pairs with C2: reuse only after the
 *                                       consumer's reads of the slots
 *
 *   Sleeping is a store-buffer pattern: each side stores, then loads what
 *   the other side stores, and release/acquire cannot order that.
 *   W1 waker     store index (P1/C2) or state; FENCE_W; load the peer's
 *                sleeping flag; if set, signal the peer's wake object
 *   S1 sleeper   store own sleeping=1; FENCE_S; load the peer's state and
 *                index; sleep only if there is still nothing to do
 *   With FENCE_W and FENCE_S both seq_cst fences, C11 forbids both loads
 *   missing the other side's store: the sleeper sees the work, or the
 *   waker sees the flag and signals. The wake object is an auto-reset
 *   event, so a signal sent before the sleeper waits is not lost.
 *
 *   Asymmetric fences: a full fence per message would halve small-message
 *   throughput, so where the OS has a heavy barrier (os_barrier_init)
 *   FENCE_W is a compiler barrier only, and FENCE_S adds
 *   os_barrier_heavy(), a full barrier on every CPU running a registered
 *   process, the waker included: either the waker's flag load came before
 *   that barrier, and its index store, earlier in program order, is
 *   visible to the sleeper's re-check; or the load came after it and sees
 *   the flag. A sleeper announces it (SR_CAP_HEAVY_BARRIER) only while
 *   many messages pass between its sleeps (sr_fence_policy).
 *
 *   Each side caches the peer's index (r->peer) and re-reads it only when
 *   the cache says there is not enough room (producer) or nothing
 *   (consumer), so in a stream the peer's line is read once per batch.
 */
#include "arch.h"
#include "os.h"
#include "ring_int.h"

#define SR_SLEEP_SLICE_MS 50        /* re-check peer liveness this often */
#define SR_LIVE_CHECK_NS  20000000u /* at most one liveness probe per 20 ms */
#define SR_SPIN_BATCH     64   /* polls between two clock reads when spinning */
#define SR_HEAVY_MIN_MSGS 64   /* msgs per sleep worth a heavy barrier */
#define SR_FLUSH_MSGS     1024 /* counters flushed at least this often */

/* ---- the segment's counters ----------------------------------------------
 * Monitors read them (shmring_inspect); the ring logic never does. The
 * handle counts privately (stats, bytes, blocked, ...) and writes running
 * totals, base + count, into its own lines: when it waits after moving
 * SR_FLUSH_MSGS messages, before every sleep, whenever it wakes its peer
 * (a system call anyway), and at close. So a stream that keeps both sides
 * busy pays about one flush per SR_FLUSH_MSGS messages, off the path of
 * any single message. Relaxed stores: nothing is ordered by them, and a
 * monitor reads each total on its own. */
enum {
	SR_C_MSGS,
	SR_C_BYTES,
	SR_C_BLOCKED,
	SR_C_SLEEPS,
	SR_C_WAKES,
	SR_C_TIMEOUTS,
	SR_C_BADFMT,
	SR_C_ABANDONED,
	SR_C_N
};

static _Atomic uint64_t *sr_ctr_word(const shmring *r, unsigned i)
{
	struct sr_counters *c = r->me.ctr;
	_Atomic uint64_t *const w[SR_C_N] = {
	        &c->msgs,  &c->bytes,    &c->blocked, &c->sleeps,
	        &c->wakes, &c->timeouts, &c->badfmt,  &c->abandoned};

	return w[i];
}

void sr_ctr_start(shmring *r)
{
	/* Nothing added yet: the totals of earlier holders (and, in an MPSC
	 * ring, of the other producers sharing the producers' lines) stay. */
	for (unsigned i = 0; i < SR_C_N; i++)
		r->ctr_done[i] = 0;
}

void sr_ctr_flush(shmring *r)
{
	const uint64_t now[SR_C_N] = {
	        r->stats.messages, r->bytes,    r->blocked, r->stats.waits,
	        r->stats.wakes,    r->timeouts, r->badfmt,  r->stats.abandoned};

	/* Add what we counted since the last flush: the producers of an MPSC
	 * ring share one set of lines. Relaxed RMWs: totals, not orderings. */
	for (unsigned i = 0; i < SR_C_N; i++) {
		if (now[i] != r->ctr_done[i])
			atomic_fetch_add_explicit(sr_ctr_word(r, i),
			                          now[i] - r->ctr_done[i],
			                          memory_order_relaxed);
		r->ctr_done[i] = now[i];
	}
	atomic_store_explicit(&r->me.ctr->last_ns, os_realtime_ns(),
	                      memory_order_relaxed);
	r->msgs_at_flush = r->stats.messages;
}

/* Re-read the peer's index once, check it, and cache it. SR_NOTREADY if
 * there is still not enough room (producer: r->need free slots) or no
 * record (consumer). The peer's index never moves back: one behind the
 * value we cached is EBADFMT too, so a refresh can only widen what the
 * cache allowed (the batch calls rely on that after using the cached
 * part). All differences are taken from pos, unsigned, so they are right
 * across the 2^64 wrap. */
int sr_refresh(shmring *r)
{
	uint64_t v;

	if (r->mp)
		return sr_mp_refresh(r, 0);
	/* P0/C1: acquire, pairs with the peer's release store of its index
	 * (P1/C2); in the S1 re-check it comes after FENCE_S. */
	v = atomic_load_explicit(r->peer_side.index, memory_order_acquire);
	if (r->me.side == SR_SIDE_PROD) {
		/* tail ahead of head, too far back, or behind the cache */
		if (r->pos - v > r->pos - r->peer)
			return sr_badfmt(r);
		r->peer = v;
		return r->count - (r->pos - v) >= r->need ? SHMRING_OK
		                                          : SR_NOTREADY;
	}
	/* head behind the cache (so maybe behind tail), or too far ahead */
	if (v - r->pos > r->count || v - r->pos < r->peer - r->pos)
		return sr_badfmt(r);
	r->peer = v;
	return v != r->pos ? SHMRING_OK : SR_NOTREADY;
}

/* The peer's state as far as a waiting call cares: SR_NOTREADY (keep
 * waiting), SHMRING_ECLOSED or SHMRING_EPEERDEAD. @probe allows a liveness
 * probe (a system call), rate-limited to one per SR_LIVE_CHECK_NS. */
static int sr_peer_state(shmring *r, int probe)
{
	/* Acquire: pairs with the release store of CLOSED in shmring_close(),
	 * which follows the peer's last index store; and it is read before
	 * the index re-check in sr_poll(): seeing CLOSED implies seeing the
	 * final index. */
	uint32_t st =
	        atomic_load_explicit(r->peer_side.state, memory_order_acquire);
	/* Relaxed: a token to probe, not a publication; any value is safe. */
	uint64_t owner =
	        atomic_load_explicit(r->peer_side.owner, memory_order_relaxed);
	uint64_t now;

	if (st == SR_ROLE_CLOSED)
		return SHMRING_ECLOSED;
	if (st != SR_ROLE_ATTACHED || owner == 0)
		return SR_NOTREADY; /* not attached (yet), or mid-close: wait */
	if (probe && owner != r->dead_owner) {
		now = os_now_ns();
		if (now >= r->next_live_ns) {
			r->next_live_ns = now + SR_LIVE_CHECK_NS;
			if (!os_proc_alive(owner)) {
				/* It may have closed and exited since st
				 * was read: a close stores CLOSED before
				 * the process ends. Acquire: as above. */
				if (atomic_load_explicit(
				            r->peer_side.state,
				            memory_order_acquire) ==
				    SR_ROLE_CLOSED)
					return SHMRING_ECLOSED;
				r->dead_owner =
				        owner; /* a token is never reused */
			}
		}
	}
	/* A takeover changes the owner, which ends the verdict at once. */
	return owner == r->dead_owner ? SHMRING_EPEERDEAD : SR_NOTREADY;
}

/*
 * Can the call proceed? SHMRING_OK, SR_NOTREADY, or why it never will:
 * ECLOSED, EPEERDEAD, EBADFMT. The peer's state is read before its index,
 * so a final record published just before a close or a death is seen.
 */
static int sr_poll(shmring *r, int probe)
{
	int st, rc;

	if (sr_ready_cached(r))
		return SHMRING_OK;
	if (!r->mp) {
		st = sr_peer_state(r, probe);
		rc = sr_refresh(r);
	} else {
		/* A producer's peer is the one consumer, as in SPSC; the
		 * consumer's are the producers' entries. */
		st = r->me.side == SR_SIDE_PROD ? sr_peer_state(r, probe)
		                                : sr_mp_peer_state(r, probe);
		rc = sr_mp_refresh(r, probe);
	}
	return rc != SR_NOTREADY ? rc : st;
}

/* The absolute deadline of a call's waits, read from the clock only when the
 * call first has to wait and only for a finite timeout: a call that never
 * waits, or waits forever, reads no clock for it. */
static uint64_t sr_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX
	                      : os_now_ns() + (uint64_t)timeout_ms * 1000000u;
}

/*
 * The CPU hint: each side publishes, in its own wake line, the CPU it ran
 * on when it last began to wait or woke its peer (both slow paths; never
 * per message). A waiter whose peer last ran on the waiter's own CPU does
 * not spin: the peer it waits for cannot run until the waiter gives up the
 * CPU, so spinning would only burn the budget (with both processes on one
 * CPU that made each round trip 55-58 us). A stale hint costs at most one
 * early sleep, after which the peer's wake refreshes it. Relaxed: a hint
 * that orders nothing; any value a hostile peer writes is safe.
 */
static void sr_cpu_note(shmring *r)
{
	int cpu = os_cpu_self();
	uint32_t v = cpu < 0 ? 0u : (uint32_t)cpu + 1u;

	if (v != r->cpu_published) {
		r->cpu_published = v;
		atomic_store_explicit(r->me.cpu, v, memory_order_relaxed);
	}
}

static int sr_peer_on_my_cpu(const shmring *r)
{
	uint32_t v =
	        atomic_load_explicit(r->peer_side.cpu, memory_order_relaxed);

	return v != 0 && v == r->cpu_published;
}

/* Spin on the indices for the handle's spin budget, with no system call but
 * the clock's (a vDSO read on Linux). Poll after every pause, so a spinning
 * side reacts within one cache-line transfer plus one pause; read the clock
 * only every SR_SPIN_BATCH polls, the first time after the first batch (a
 * peer that answers within one batch costs no clock read at all). */
static int sr_spin(shmring *r, uint64_t deadline)
{
	uint64_t now, end = 0;
	int rc = SR_NOTREADY;

	if (r->spin_ns == 0 || sr_peer_on_my_cpu(r))
		return rc;
	for (;;) {
		for (int i = 0; i < SR_SPIN_BATCH && rc == SR_NOTREADY; i++) {
			sr_cpu_relax();
			rc = sr_poll(r, 0);
		}
		if (rc != SR_NOTREADY)
			return rc;
		now = os_now_ns();
		if (!end)
			end = now + r->spin_ns;
		if (now >= end || now >= deadline)
			return rc;
	}
}

/*
 * Should our caps announce the heavy barrier? Announced, the peer
 * publishes with no fence and each of our sleeps runs the heavy barrier
 * (an IPI to every CPU running a registered process: tens of microseconds
 * on some virtual machines); withdrawn, our sleeps run a thread fence only
 * and the peer a full fence per index store. The first is cheaper when
 * many messages pass between two sleeps (a stream), the second when few do
 * (a ping-pong, whose round trip the barrier doubled). Decided by the
 * messages this handle moved since its last sleep, for registered handles
 * only (r->asym), and only by consumers: a producer sleeps only on a full
 * ring, whose consumer has a ring of work (docs/protocol.md has the
 * figures that decided it).
 *
 * Announcing is free and may happen at any time: from then on every sleep
 * runs the heavy barrier. sr_fence_announce() does it on the waiting path
 * once SR_HEAVY_MIN_MSGS messages have moved, so a stream that starts
 * after an idle spell (which withdrew it) soon stops costing the peer a
 * fence per message, without waiting for our next sleep.
 */
/* A producer of an MPSC ring. */
static int sr_mp_producer(const shmring *r)
{
	return r->mp && r->me.side == SR_SIDE_PROD;
}

/* S1's announcement, and its withdrawal. A producer of an MPSC ring sets
 * its bit in the one word its consumer reads after each release: a seq_cst
 * RMW, followed (as the SPSC store is) by FENCE_S; before it, the tail at
 * which it wants to be woken (sr_mp_wake_at). */
static void sr_sleep_announce(shmring *r)
{
	if (sr_mp_producer(r)) {
		/* Relaxed: the bit's RMW (release) publishes it; the
		 * consumer reads it after an acquire load of the bits. */
		atomic_store_explicit(&r->seg->mp.prod[r->mp_k].wake_at,
		                      sr_mp_wake_at(r), memory_order_relaxed);
		atomic_fetch_or_explicit(&r->seg->mp.sleepers,
		                         UINT64_C(1) << r->mp_k,
		                         memory_order_seq_cst);
	} else
		/* Release: orders our reset of the wake word (after the
		 * previous sleep) before it, for the waker's acquire
		 * exchange. */
		atomic_store_explicit(r->me.sleeping, 1, memory_order_release);
}

static void sr_sleep_withdraw(shmring *r)
{
	/* Relaxed: only stops the peer's signals (it may have taken the flag
	 * already); the next S1 re-publishes it. */
	if (sr_mp_producer(r))
		atomic_fetch_and_explicit(&r->seg->mp.sleepers,
		                          ~(UINT64_C(1) << r->mp_k),
		                          memory_order_relaxed);
	else
		atomic_store_explicit(r->me.sleeping, 0, memory_order_relaxed);
}

static void sr_fence_announce(shmring *r)
{
	if (r->heavy || sr_mp_producer(r) ||
	    r->stats.messages - r->msgs_at_sleep < SR_HEAVY_MIN_MSGS)
		return;
	r->heavy = 1;
	/* Relaxed: a waker's relaxed load of it only picks its fence; our
	 * next sleep runs the heavy barrier whatever it read. */
	atomic_store_explicit(r->me.caps, SR_CAP_HEAVY_BARRIER,
	                      memory_order_relaxed);
}

/*
 * At each sleep: keep, take or withdraw the announcement. Returns 1 if
 * this sleep must run the heavy barrier: while announced, and once more in
 * the sleep that withdraws it, so that a waker that read the old caps has
 * its index store drained by that barrier before later sleeps rely on the
 * re-check alone (docs/protocol.md; tests/model/ checks both directions
 * and rejects a withdrawal without the barrier).
 */
static int sr_fence_policy(shmring *r)
{
	int was = r->heavy;

	/* The producers of an MPSC ring never announce it: their consumer's
	 * W1 is a full fence (it reads one word for all of them). */
	r->heavy = r->me.side == SR_SIDE_PROD
	                   ? !r->mp
	                   : r->stats.messages - r->msgs_at_sleep >=
	                             SR_HEAVY_MIN_MSGS;
	r->msgs_at_sleep = r->stats.messages;
	if (r->heavy != was)
		/* Relaxed: FENCE_S below orders it before our re-check; a
		 * waker's relaxed load of it only picks its fence. */
		atomic_store_explicit(r->me.caps,
		                      r->heavy ? SR_CAP_HEAVY_BARRIER : 0u,
		                      memory_order_relaxed);
	return was || r->heavy;
}

/* S1: announce, re-check, sleep for at most one slice. */
static int sr_sleep(shmring *r, uint64_t deadline)
{
	uint64_t now, left_ns;
	int heavy, slice;
	int rc;

	/* The last slice ran out: one look, no S1 (nor heavy barrier) just
	 * to return ETIMEDOUT. A wait with no deadline reads no clock here. */
	if (deadline != UINT64_MAX && os_now_ns() >= deadline) {
		rc = sr_poll(r, 1);
		if (rc != SR_NOTREADY)
			return rc;
		r->timeouts++;
		return SHMRING_ETIMEDOUT;
	}
	heavy = r->asym && sr_fence_policy(r);

	/* S1: announce, FENCE_S, re-check. Our own flag: only we write it (a
	 * hostile peer may, which costs us at worst a wake-up). The fence
	 * orders it before the re-check's loads. */
	sr_sleep_announce(r);
	atomic_thread_fence(memory_order_seq_cst);
	if (heavy && os_barrier_heavy() != SHMRING_OK) {
		/* Cannot happen after a successful os_barrier_init(); if it
		 * does, have wakers use full fences from now on. A waker that
		 * read our old caps can miss this one sleep, which then lasts
		 * one slice. */
		r->asym = r->heavy = 0;
		atomic_store_explicit(r->me.caps, 0, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
	}
	rc = sr_poll(r, 1);
	now = os_now_ns();
	if (rc == SR_NOTREADY && now >= deadline) {
		r->timeouts++;
		rc = SHMRING_ETIMEDOUT;
	}
	if (rc == SR_NOTREADY) {
		left_ns = deadline - now;
		slice = left_ns >= SR_SLEEP_SLICE_MS * UINT64_C(1000000)
		                ? SR_SLEEP_SLICE_MS
		                : (int)((left_ns + 999999u) / 1000000u);
		r->stats.waits++;
		/* An MPSC consumer about to sleep wakes every sleeping
		 * producer, below its threshold or not: the tail it waits
		 * for may be behind a claim held open (sr_mp_wake_at). */
		if (r->mp && r->me.side == SR_SIDE_CONS)
			sr_mp_wake_producers(r, 1);
		sr_ctr_flush(r);
		/* Relaxed: a token the backend may watch; any value is safe.
		 * A signal handler that ran ends the call: its caller decides
		 * whether to wait again (a Ctrl-C must get through). Spins do
		 * not notice a handler; a sleep of at most one slice does. */
		if (os_wait(r->os, r->me.wake, r->me.word,
		            atomic_load_explicit(r->peer_side.owner,
		                                 memory_order_relaxed),
		            slice) == SHMRING_EINTR)
			rc = SHMRING_EINTR;
	}
	sr_sleep_withdraw(r);
	return rc;
}

/*
 * Wait until the call can proceed: one poll, then spin, then sleep in
 * slices. *deadline is 0 until the call first waits; a call that waits
 * more than once (shmring_sendv) passes the same one, so @timeout_ms bounds
 * the whole call from its first wait. Only a call that will not wait
 * (NOWAIT) probes the peer's liveness on its first poll: a waiting call
 * probes in sr_sleep(), and a stream that merely caught up with its peer
 * reads no clock.
 */
SR_NOINLINE int sr_wait_slow(shmring *r, int timeout_ms, uint64_t *deadline)
{
	int rc = sr_poll(r, timeout_ms == 0);

	/* The cached index ran out: a batch boundary for the counters. */
	if (r->stats.messages - r->msgs_at_flush >= SR_FLUSH_MSGS)
		sr_ctr_flush(r);
	if (rc != SR_NOTREADY)
		return rc;
	r->blocked++; /* the ring was full (producer) or empty (consumer) */
	if (timeout_ms == 0)
		return rc;
	if (r->asym)
		sr_fence_announce(r);
	sr_cpu_note(r);
	if (!*deadline)
		*deadline = sr_deadline(timeout_ms);
	rc = sr_spin(r, *deadline);
	while (rc == SR_NOTREADY)
		rc = sr_sleep(r, *deadline);
	return rc;
}

/* W1's signal, once the sleeper's flag was taken: a system call. */
void sr_signal_peer(shmring *r)
{
	sr_cpu_note(r);
	r->stats.wakes +=
	        os_signal(r->os, r->peer_side.wake, r->peer_side.word);
	sr_ctr_flush(r);
}
