/*
 * wake.pml -- the publish / sleep / wake protocol of src/ring.c, for SPIN.
 *
 * One producer sends NMSG messages through a ring of K slots and closes;
 * one consumer receives until end of stream (SHMRING_ECLOSED). Each side
 * runs the code paths of ring.c step by step (labels in comments):
 *   sr_prod_reserve / sr_wait / sr_poll / sr_spin / sr_sleep / sr_publish
 *   / sr_wake_peer / shmring_close, and os_wait / os_signal /
 *   os_barrier_heavy of os_linux.c (as of commit e06f7e7 and later).
 *
 * Memory model: each process has a FIFO store buffer (x86-TSO): a store
 * goes into it, a later load of the same address reads it back, other
 * processes see it only when the Flusher drains it to memory, at any
 * time. Release stores and relaxed stores are buffered stores (TSO keeps
 * their order); a seq_cst fence (atomic_thread_fence) waits until the
 * buffer is empty, which is exactly what excludes the store-buffer (SB)
 * reordering, a later load passing an earlier store; a locked exchange
 * drains the buffer too. The heavy barrier of the asymmetric mode
 * (os_barrier_heavy: membarrier GLOBAL_EXPEDITED) drains, in one step,
 * the buffers of every process registered for it (os_barrier_init). Each
 * side is registered or not, chosen at the start (all four combinations
 * are explored): a waker uses a compiler barrier only as FENCE_W when it
 * is registered and the sleeper's caps, read from shared memory, announce
 * the heavy barrier, else a full fence. A registered sleeper may announce
 * or withdraw that before any sleep (sr_fence_policy: chosen here at
 * random), and announce it when a wait begins (sr_fence_announce); the
 * sleep that withdraws it still runs the heavy barrier, and later sleeps
 * run it only while it is announced. The wake word is a futex word: os_wait sleeps only if
 * the word is 0 (checked atomically by the kernel; a system call drains
 * the store buffer) and returns when a signal made it non-zero; os_signal
 * exchanges it to 1 (locked) and wakes. The sleeper resets it to 0 with a
 * relaxed store after waking (auto-reset). A waker takes the sleeping flag
 * (exchange to 0) before signalling: one signal per sleep.
 *
 * Spinning is abstracted as at most one extra poll, then a give-up.
 * Macros:
 *   SLICES      the futex wait may also return with no signal at any time
 *               (the 50 ms slice of sr_sleep, or a spurious wake-up)
 *   TIMEOUTS    a call with a finite timeout may return ETIMEDOUT at S1;
 *               the application then calls again
 *   CONS_CLOSE  the consumer may close after any message; the producer
 *               must then get ECLOSED, never sleep forever
 *   FULL_FENCES    neither side registered (SHMRING_FENCE=full)
 * Broken variants, which SPIN must reject:
 *   NO_SC_WAKER    FENCE_W is never a full fence (release stores only)
 *   NO_SC_SLEEPER  FENCE_S without its seq_cst thread fence
 *   NO_HEAVY       a registered sleeper skips the heavy barrier
 *   NO_WITHDRAW_HEAVY  the sleep that withdraws the announcement skips
 *                  the heavy barrier
 *   NO_RECHECK     the sleeper sleeps without re-checking after S1
 *   INDEX_FIRST    sr_poll reads the peer's index before its state
 *   NO_CLOSE_WAKE  shmring_close does not wake a sleeping peer
 *
 * Checked: assertions (messages in order, end of stream seen only after
 * every message, and "no lost wake-up": a slice never expires on a sleeper
 * that has work the waker already decided not to signal), no invalid end
 * state (no process blocked forever: without SLICES, a lost wake-up is a
 * sleeper that never wakes), and with LTL_EOS the LTL property that the
 * consumer always observes end of stream.
 */

#ifndef NMSG
#define NMSG 3
#endif
#ifndef K
#define K 1
#endif
#define SB 4 /* store buffer entries per process */

/* process ids: side 0 is the producer, side 1 the consumer (as ring.c) */
#define P 0
#define C 1

/* shared memory: addresses */
#define HEAD   0 /* head.value (producer's index) */
#define TAIL   1 /* tail.value (consumer's index) */
#define PSTATE 2 /* role[0].state */
#define CSTATE 3 /* role[1].state */
#define PSLEEP 4 /* wake[0].sleeping */
#define CSLEEP 5 /* wake[1].sleeping */
#define PWORD  6 /* wake[0].word */
#define CWORD  7 /* wake[1].word */
#define PCAPS  8 /* role[0].caps: 1 = SR_CAP_HEAVY_BARRIER announced */
#define CCAPS  9 /* role[1].caps */
#define SLOT   10 /* slot contents: SLOT .. SLOT + K - 1 */
#define NADDR  (SLOT + K)

#define ATTACHED 1
#define CLOSED   2

/* sr_poll results */
#define OK       0
#define NOTREADY 1
#define ECLOSED  2
#define ETIMEDOUT 3

byte mem[NADDR];

typedef Buf {
	byte addr[SB];
	byte val[SB];
	byte n
};
Buf sb[2];

bit asleep[2];        /* inside the futex wait */
bit asym[2];          /* registered for the heavy barrier (caps) */
/* ghosts for the lost wake-up check: what a waker published while it saw
 * the peer's sleeping flag clear (so did not signal) */
byte nosig_idx[2] = 255;  /* index value published, per sleeper side */
bit nosig_close[2];       /* a close published without a signal */
bit eos;                  /* the consumer saw end of stream */
byte cpos_seen;           /* consumer's position, for the ghost check */
byte ppos_seen;           /* producer's position, for the ghost check */

/* ---- memory operations --------------------------------------------------- */

inline STORE(me, a, v)
{
	atomic {
		sb[me].n < SB ->
		sb[me].addr[sb[me].n] = a;
		sb[me].val[sb[me].n] = v;
		sb[me].n++
	}
}

/* A full fence: wait until our stores are in memory. */
inline FENCE(me)
{
	sb[me].n == 0
}

/* Drain process p's buffer into memory, oldest first (inside atomic). */
inline DRAIN(p)
{
	i = 0;
	do
	:: i < sb[p].n ->
		mem[sb[p].addr[i]] = sb[p].val[i];
		sb[p].addr[i] = 0;
		sb[p].val[i] = 0;
		i++
	:: else -> break
	od;
	sb[p].n = 0;
	i = 0
}

/* os_barrier_heavy: a full barrier on every CPU running a registered
 * process (and in the caller, whose system call serialises). */
inline HEAVY(me)
{
	atomic {
		DRAIN(me);
		if
		:: asym[1 - me] -> DRAIN(1 - me)
		:: else -> skip
		fi
	}
}

/* Load with store forwarding: the newest buffered store to a wins. */
inline LOAD(me, a, r)
{
	atomic {
		r = mem[a];
		i = 0;
		do
		:: i < sb[me].n ->
			if
			:: sb[me].addr[i] == a -> r = sb[me].val[i]
			:: else -> skip
			fi;
			i++
		:: else -> break
		od;
		i = 0
	}
}

proctype Flusher(byte p)
{
	byte j;
end:
	do
	:: atomic {
		sb[p].n > 0 ->
		mem[sb[p].addr[0]] = sb[p].val[0];
		j = 0;
		do
		:: j + 1 < sb[p].n ->
			sb[p].addr[j] = sb[p].addr[j + 1];
			sb[p].val[j] = sb[p].val[j + 1];
			j++
		:: else -> break
		od;
		sb[p].n--;
		sb[p].addr[sb[p].n] = 0;
		sb[p].val[sb[p].n] = 0;
		j = 0
	}
	od
}

/* ---- the wake object (os_linux.c) ------------------------------------------ */

/* os_signal: atomic_exchange(word, 1), FUTEX_WAKE if it was 0. */
inline SIGNAL(me, peer)
{
	FENCE(me);
	atomic { mem[PWORD + peer] = 1 }
}

/* The ghost check at a slice expiry of side me (see the header): with no
 * signal pending, no work may be visible that the waker published and
 * then decided not to signal (it saw or took the flag clear). */
inline NO_LOST_WAKEUP(me)
{
	if
	:: mem[PWORD + me] != 0 -> skip /* a signal is pending: not lost */
	:: else ->
		if
		:: me == C ->
			assert(!(mem[HEAD] != cpos_seen && nosig_idx[C] == mem[HEAD]));
			assert(!(mem[PSTATE] == CLOSED && nosig_close[C]))
		:: else ->
			assert(!(ppos_seen - mem[TAIL] < K && nosig_idx[P] == mem[TAIL]));
			assert(!(mem[CSTATE] == CLOSED && nosig_close[P]))
		fi
	fi
}

/* os_wait: FUTEX_WAIT(word, 0) for one slice, then reset the word. */
inline FUTEX_WAIT(me)
{
	FENCE(me); /* a system call */
	atomic {
		if
		:: mem[PWORD + me] == 0 -> asleep[me] = 1
		:: else -> skip
		fi
	}
	if
	:: asleep[me] ->
		if
		:: atomic { mem[PWORD + me] != 0 -> asleep[me] = 0 } /* FUTEX_WAKE */
#ifdef SLICES
		:: atomic { NO_LOST_WAKEUP(me); asleep[me] = 0 } /* slice over */
#endif
		fi
	:: else -> skip
	fi;
	STORE(me, PWORD + me, 0) /* auto-reset: relaxed */
}

/* FENCE_W (sr_wake_peer): a compiler barrier when we are registered and
 * the peer's caps (a relaxed load) announce the heavy barrier, else a
 * seq_cst thread fence. */
#ifdef NO_SC_WAKER
#define WAKER_FENCE(me) skip
#else
#define WAKER_FENCE(me) LOAD(me, PCAPS + 1 - me, cp); if :: asym[me] && cp -> skip :: else -> FENCE(me) fi
#endif
/* FENCE_S (sr_sleep): a seq_cst thread fence, then the heavy barrier when
 * registered. */
#ifdef NO_SC_SLEEPER
#define SLEEPER_FENCE(me) skip
#else
#define SLEEPER_FENCE(me) FENCE(me)
#endif
#ifdef NO_HEAVY
#define SLEEPER_HEAVY(me) skip
#elif defined(NO_WITHDRAW_HEAVY)
#define SLEEPER_HEAVY(me) if :: asym[me] && ann -> HEAVY(me) :: else -> skip fi; once = 0
#else
#define SLEEPER_HEAVY(me) if :: asym[me] && (ann || once) -> HEAVY(me) :: else -> skip fi; once = 0
#endif

/* sr_fence_policy: a registered sleeper announces the heavy barrier (a
 * relaxed store of caps) or withdraws it; a withdrawal makes this sleep
 * run the heavy barrier once more. */
inline FENCE_POLICY(me)
{
	if
	:: asym[me] && !ann -> ann = 1; STORE(me, PCAPS + me, 1)
	:: asym[me] && ann -> ann = 0; once = 1; STORE(me, PCAPS + me, 0)
	:: true -> skip
	fi
}

/* W1 (sr_wake_peer): after the release store of index @v (or of CLOSED),
 * FENCE_W, relaxed load of the peer's sleeping flag; if set, take it
 * (locked exchange to 0) and signal if we got it. The ghosts record a
 * publication that decided not to signal. */
inline WAKE_PEER(me, peer, v)
{
	WAKER_FENCE(me);
	atomic {
		LOAD(me, PSLEEP + peer, f);
		if
		:: f == 0 ->
			if
			:: v == 255 -> nosig_close[peer] = 1
			:: else -> nosig_idx[peer] = v
			fi
		:: else -> skip
		fi
	}
	if
	:: f ->
		FENCE(me); /* locked instruction */
		atomic {
			f = mem[PSLEEP + peer];
			mem[PSLEEP + peer] = 0;
			if
			:: f == 0 ->
				if
				:: v == 255 -> nosig_close[peer] = 1
				:: else -> nosig_idx[peer] = v
				fi
			:: else -> skip
			fi
		}
	:: else -> skip
	fi;
	if
	:: f -> SIGNAL(me, peer)
	:: else -> skip
	fi
}

/* sr_poll: the cached test, then the peer's state, then its index (C1/P0),
 * so that seeing CLOSED implies seeing the final index. */
inline POLL(me)
{
	if
	:: (me == P && pos - peer < K) || (me == C && peer != pos) -> rc = OK
	:: else ->
#ifndef INDEX_FIRST
		LOAD(me, CSTATE - me, st);  /* sr_peer_state: peer's state */
		LOAD(me, TAIL - me, v);     /* sr_refresh: P0 (tail) / C1 (head) */
#else
		LOAD(me, TAIL - me, v);
		LOAD(me, CSTATE - me, st);
#endif
		peer = v;
		if
		:: (me == P && pos - peer < K) || (me == C && peer != pos) -> rc = OK
		:: else ->
			if
			:: st == CLOSED -> rc = ECLOSED
			:: else -> rc = NOTREADY
			fi
		fi
	fi
}

/* sr_wait: poll, spin (at most one more poll), then sleep in slices.
 * S1 (sr_sleep): release store of our flag, FENCE_S, re-check, sleep only
 * if still nothing to do; relaxed clear after. */
inline WAIT(me)
{
	POLL(me);
	if /* sr_fence_announce: may announce on the waiting path too */
	:: rc == NOTREADY && asym[me] && !ann -> ann = 1; STORE(me, PCAPS + me, 1)
	:: true -> skip
	fi;
	if
	:: rc == NOTREADY -> POLL(me) /* sr_spin: one more look */
	:: rc == NOTREADY -> skip     /* spin budget spent */
	:: else -> skip
	fi;
	do
	:: rc != NOTREADY -> break
	:: else ->
		FENCE_POLICY(me);
		STORE(me, PSLEEP + me, 1); /* release store */
		SLEEPER_FENCE(me);         /* FENCE_S: thread fence ... */
		SLEEPER_HEAVY(me);         /* ... and heavy barrier */
#ifndef NO_RECHECK
		POLL(me);
#endif
#ifdef TIMEOUTS
		if
		:: rc == NOTREADY -> rc = ETIMEDOUT /* deadline passed */
		:: true -> skip
		fi;
#endif
		if
		:: rc == NOTREADY -> FUTEX_WAIT(me)
		:: else -> skip
		fi;
		STORE(me, PSLEEP + me, 0)
	od
}

/* shmring_close: release store of CLOSED, then W1. */
inline CLOSE(me)
{
	STORE(me, PSTATE + me, CLOSED);
#ifndef NO_CLOSE_WAKE
	WAKE_PEER(me, 1 - me, 255);
#endif
}

proctype Producer()
{
	byte pos, peer, v, st, rc, i, cp;
	bit f, ann = asym[P], once;

	do
	:: pos == NMSG -> break
	:: else ->
		/* sr_prod_reserve: the relaxed early ECLOSED hint */
		LOAD(P, CSTATE, st);
		if
		:: st == CLOSED -> goto peer_closed
		:: else -> skip
		fi;
		WAIT(P);
		if
		:: rc == ECLOSED -> goto peer_closed
		:: rc == ETIMEDOUT -> goto again /* the application retries */
		:: else -> skip
		fi;
		/* shmring_send: slot bytes, then sr_publish */
		STORE(P, SLOT + pos % K, pos + 1);
		pos++;
		ppos_seen = pos;
		STORE(P, HEAD, pos);  /* P1: release store of head */
		WAKE_PEER(P, C, pos); /* W1 */
again:
		skip
	od;
	CLOSE(P);
	goto done;
peer_closed:
	assert(mem[CSTATE] == CLOSED || sb[C].n > 0);
done:
	skip
}

proctype Consumer()
{
	byte pos, peer, v, st, rc, i, got, cp;
	bit f, ann = asym[C], once;

	do
	:: WAIT(C);
		if
		:: rc == ECLOSED -> break
		:: rc == ETIMEDOUT -> goto next /* the application retries */
		:: else -> skip
		fi;
		/* shmring_recv: the slot, then sr_publish */
		LOAD(C, SLOT + pos % K, got);
		assert(got == pos + 1); /* whole, in order, once */
		pos++;
		cpos_seen = pos;
		STORE(C, TAIL, pos);  /* C2: release store of tail */
		WAKE_PEER(C, P, pos); /* W1 */
#ifdef CONS_CLOSE
		if
		:: true -> CLOSE(C); goto closed
		:: true -> skip
		fi;
#endif
next:
		skip
	od;
	assert(pos == NMSG); /* end of stream only after every message */
	eos = 1;
closed:
	skip
}

init
{
	atomic {
		mem[PSTATE] = ATTACHED;
		mem[CSTATE] = ATTACHED;
#ifndef FULL_FENCES
		/* os_barrier_init() on each side: registered or not */
		if
		:: asym[P] = 1
		:: skip
		fi;
		if
		:: asym[C] = 1
		:: skip
		fi;
		mem[PCAPS] = asym[P]; /* announced at attach */
		mem[CCAPS] = asym[C];
#endif
		run Flusher(P);
		run Flusher(C);
		run Producer();
		run Consumer()
	}
}

#ifdef LTL_EOS
ltl eos_observed { <> (eos == 1) }
#endif
