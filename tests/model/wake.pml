/*
 * wake.pml -- the publish / sleep / wake protocol of src/ring.c, for SPIN.
 *
 * One producer sends NMSG messages through a ring of K slots and closes;
 * one consumer receives until end of stream (SHMRING_ECLOSED). Each side
 * runs the code paths of ring.c step by step (labels in comments):
 *   sr_prod_reserve / sr_wait / sr_poll / sr_spin / sr_sleep / sr_publish
 *   / sr_wake_peer / shmring_close, and os_wait / os_signal of os_linux.c.
 *
 * Memory model: each process has a FIFO store buffer (x86-TSO): a store
 * goes into it, a later load of the same address reads it back, other
 * processes see it only when the Flusher drains it to memory, at any
 * time. A seq_cst store is a store followed by a full fence (wait until
 * the buffer is empty), which is what C11 seq_cst store/load pairs compile
 * to and what they guarantee: the store-buffer (SB) reordering, a later
 * load passing an earlier store, is exactly what the fences exclude. A
 * relaxed store is a buffered store without fence. The wake word is a
 * futex word: os_wait sleeps only if the word is 0 (checked atomically by
 * the kernel; a system call drains the store buffer) and returns when a
 * signal made it non-zero; os_signal exchanges it to 1 (a locked
 * instruction: drains the buffer) and wakes. The sleeper resets it to 0
 * with a relaxed store after waking (auto-reset).
 *
 * Spinning is abstracted as at most one extra poll, then a give-up.
 * Macros:
 *   SLICES      the futex wait may also return with no signal at any time
 *               (the 50 ms slice of sr_sleep, or a spurious wake-up)
 *   TIMEOUTS    a call with a finite timeout may return ETIMEDOUT at S1;
 *               the application then calls again
 *   CONS_CLOSE  the consumer may close after any message; the producer
 *               must then get ECLOSED, never sleep forever
 * Broken variants, which SPIN must reject:
 *   NO_SC_WAKER    P1 / C2 stores without the fence (release only)
 *   NO_SC_SLEEPER  S1 store of the sleeping flag without the fence
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
#define SLOT   8 /* slot contents: SLOT .. SLOT + K - 1 */
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

/* The ghost check at a slice expiry of side me (see the header). */
inline NO_LOST_WAKEUP(me)
{
	if
	:: me == C ->
		assert(!(mem[HEAD] != cpos_seen && nosig_idx[C] == mem[HEAD]));
		assert(!(mem[PSTATE] == CLOSED && nosig_close[C]))
	:: else ->
		assert(!(ppos_seen - mem[TAIL] < K && nosig_idx[P] == mem[TAIL]));
		assert(!(mem[CSTATE] == CLOSED && nosig_close[P]))
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

/* seq_cst store: store then fence, unless a broken variant drops it */
#ifdef NO_SC_WAKER
#define WAKER_FENCE(me) skip
#else
#define WAKER_FENCE(me) FENCE(me)
#endif
#ifdef NO_SC_SLEEPER
#define SLEEPER_FENCE(me) skip
#else
#define SLEEPER_FENCE(me) FENCE(me)
#endif

/* W1 (sr_wake_peer): after a seq_cst store of index @v, load the peer's
 * sleeping flag and signal if set. */
inline WAKE_PEER(me, peer, v)
{
	atomic {
		LOAD(me, PSLEEP + peer, f);
		if
		:: f == 0 -> nosig_idx[peer] = v
		:: else -> skip
		fi
	}
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
 * S1 (sr_sleep): seq_cst store of our flag, re-check, sleep only if still
 * nothing to do; relaxed clear after. */
inline WAIT(me)
{
	POLL(me);
	if
	:: rc == NOTREADY -> POLL(me) /* sr_spin: one more look */
	:: rc == NOTREADY -> skip     /* spin budget spent */
	:: else -> skip
	fi;
	do
	:: rc != NOTREADY -> break
	:: else ->
		STORE(me, PSLEEP + me, 1);
		SLEEPER_FENCE(me);
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

/* shmring_close: seq_cst state store, then W1 on the flag. */
inline CLOSE(me)
{
	STORE(me, PSTATE + me, CLOSED);
	FENCE(me);
#ifndef NO_CLOSE_WAKE
	atomic {
		LOAD(me, PSLEEP + 1 - me, f);
		if
		:: f == 0 -> nosig_close[1 - me] = 1
		:: else -> skip
		fi
	}
	if
	:: f -> SIGNAL(me, 1 - me)
	:: else -> skip
	fi
#endif
}

proctype Producer()
{
	byte pos, peer, v, st, rc, i;
	bit f;

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
		STORE(P, HEAD, pos); /* P1: seq_cst store of head */
		WAKER_FENCE(P);
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
	byte pos, peer, v, st, rc, i, got;
	bit f;

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
		STORE(C, TAIL, pos); /* C2: seq_cst store of tail */
		WAKER_FENCE(C);
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
		run Flusher(P);
		run Flusher(C);
		run Producer();
		run Consumer()
	}
}

#ifdef LTL_EOS
ltl eos_observed { <> (eos == 1) }
#endif
