/*
 * wake.pml -- the record / publish / sleep / wake protocol of src/, for SPIN.
 *
 * One producer sends NMSG messages through a ring of K slots and closes;
 * one consumer receives until end of stream (SHMRING_ECLOSED). A message
 * is one record (segment format 2, docs/format.md) over 1 .. K
 * consecutive slots: the header word (type | extent | lap, one store) in
 * its first slot, and its payload, modelled as the tag m + 1 of message m
 * in every slot it covers, each slot a store of its own. A record never
 * runs past the end of the ring: where it would, the producer first
 * writes a padding record over the slots to the end, and needs pad +
 * extent free slots; when that is more than K, it publishes the padding
 * alone, then waits for room from slot 0. head and tail are slot indices
 * on record boundaries. The consumer reads head, the record's header word
 * once (and checks it as sr_rec_take does: lap, type MSG or PAD, extent
 * within head and the ring), the payload, then stores tail past the
 * record; it skips a padding and publishes tail past it at once. Each side
 * runs the code paths of src/ step by step (labels in comments):
 *   sr_prod_room / sr_cons_next / sr_rec_take (data.c), sr_wait / sr_poll
 *   / sr_spin / sr_sleep (wait.c), sr_publish / sr_wake_peer
 *   (ring_int.h), shmring_close, and os_wait / os_signal /
 *   os_barrier_heavy of os_linux.c.
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
 *   K, NMSG     slots in the ring (1, 2 or 4; default 4), messages sent
 *               (at most 4; default 3)
 *   S0 .. S3    the extent in slots of messages 0 .. 3. Default for K = 4:
 *               2, 3, 2: message 1 (at slot 2) needs 2 + 3 > 4 slots, so
 *               its padding is published alone and the record waits for
 *               the padding's release; message 2 (at slot 3) has its
 *               padding and itself in one head store. For K = 2: 1, 2,
 *               1, 2 (records as large as the ring, padding alone each
 *               lap); for K = 1 every record takes one slot
 *   ANY_SIZES   each message's extent is chosen at random in 1 .. K
 *   BATCH       the producer may write the next record before publishing
 *               head (sendv: when the cached tail shows room for it and
 *               its padding), the consumer may take the next record the
 *               cached head shows before publishing tail, a padding
 *               included (recvv); a run is published before any wait, and
 *               a padding that starts a call is released at once (the
 *               re-read of the peer's index within a run is not modelled)
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
 *   TORN        the producer stores head before the last payload slot
 *               of a record
 *   HDR_LATE    the producer stores head before a record's header word
 *   NO_PAD_TAIL the consumer skips a padding without publishing tail
 *   NO_PAD_ROOM the producer waits for room for the record only, not for
 *               the padding before it too
 *
 * Checked: assertions (no torn record delivered: every record the
 * consumer reads has a valid header, hdr_ok, a padding runs to the end of
 * the ring, and a message has the extent it was sent with and its own tag
 * in every slot; messages in order, each once, padding never delivered;
 * end of stream seen only after every message; and "no lost wake-up": a
 * slice never expires on a sleeper that has work the waker already
 * decided not to signal), no invalid end
 * state (no process blocked forever: without SLICES, a lost wake-up is a
 * sleeper that never wakes), and with LTL_EOS the LTL property that the
 * consumer always observes end of stream.
 */

#ifndef NMSG
#define NMSG 3
#endif
#ifndef K
#define K 4
#endif
#if K != 1 && K != 2 && K != 4
#error "K must be 1, 2 or 4 (the header word packs extent and lap in a byte)"
#endif
#if NMSG > 4
#error "at most 4 messages (S0 .. S3)"
#endif
#if K == 4
#define S_DEF0 2
#define S_DEF1 3
#define S_DEF2 2
#define S_DEF3 1
#elif K == 2
#define S_DEF0 1
#define S_DEF1 2
#define S_DEF2 1
#define S_DEF3 2
#else
#define S_DEF0 1
#define S_DEF1 1
#define S_DEF2 1
#define S_DEF3 1
#endif
#ifndef S0
#define S0 S_DEF0
#endif
#ifndef S1
#define S1 S_DEF1
#endif
#ifndef S2
#define S2 S_DEF2
#endif
#ifndef S3
#define S3 S_DEF3
#endif
#ifndef SB
#define SB 4 /* store buffer entries per process */
#endif

/* record header word: type | extent << 2 | lap << 5, in one byte (one
 * store, one load: the 64-bit word of sr_rec). lap = (index / K) mod 8. */
#define R_EMPTY 0
#define R_MSG   1
#define R_PAD   2
#define R_RESV  3
#define LAP(x)      (((x) / K) % 8)
#define WORD(t, e, x) ((t) + (e) * 4 + LAP(x) * 32)
#define W_TYPE(w)   ((w) % 4)
#define W_EXT(w)    (((w) / 4) % 8)
#define W_LAP(w)    ((w) / 32)

/* process ids: side 0 is the producer, side 1 the consumer (as src/) */
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
#define RWORD  10 /* record header word of slot k: RWORD + k */
#define SLOT   (RWORD + K) /* payload tag of slot k: SLOT + k */
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
#ifdef ANY_SIZES
byte ext[NMSG];           /* extent the producer chose for each message */
#define EXT_OF(m) ext[m]
#else
#define EXT_OF(m) ((m) == 0 -> S0 : ((m) == 1 -> S1 : ((m) == 2 -> S2 : S3)))
#endif

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
			/* need: the free slots the producer waits for */
			assert(!(K - (ppos_seen - mem[TAIL]) >= need && nosig_idx[P] == mem[TAIL]));
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
 * so that seeing CLOSED implies seeing the final index. The producer needs
 * `need` free slots (free = K - (head - tail)), the consumer one record. */
inline POLL(me)
{
	if
	:: (me == P && K - (pos - peer) >= need) || (me == C && peer != pos) -> rc = OK
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
		:: (me == P && K - (pos - peer) >= need) || (me == C && peer != pos) -> rc = OK
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

#if (defined(TORN) || defined(HDR_LATE)) && defined(BATCH)
#error "TORN and HDR_LATE are modelled without BATCH"
#endif

/* sr_publish: P1 (producer) / C2 (consumer), the release store of our index
 * after whole records, then W1. TORN stores the last payload slot of the
 * producer's record only after head, HDR_LATE its header word. */
inline PUBLISH(me)
{
	atomic {
		if
		:: me == P -> ppos_seen = pos
		:: else -> cpos_seen = pos; w = 0; e = 0 /* done with the record */
		fi;
		STORE(me, HEAD + me, pos) /* P1 / C2: release store */
	};
#if defined(TORN) || defined(HDR_LATE)
	if
	:: me == P && late -> /* BROKEN: a store of the record after P1 */
		late = 0;
#ifdef TORN
		STORE(P, SLOT + (pos - 1) % K, m) /* its last payload slot */
#else
		STORE(P, RWORD + rs % K, WORD(R_MSG, pos - rs, rs)) /* its header */
#endif
	:: else -> skip
	fi;
#endif
	WAKE_PEER(me, 1 - me, pos); /* W1 */
	batch = 0
}

/* The extent of message m: fixed (S0 .. S3), or chosen once at random. */
inline PICK_SIZE()
{
#ifdef ANY_SIZES
	if
	:: e == 0 ->
		atomic {
			e = 1;
			do
			:: e < K -> e++
			:: break
			od;
			ext[m] = e
		}
	:: else -> skip
	fi
#else
	e = EXT_OF(m)
#endif
}

proctype Producer()
{
	byte pos, peer, v, st, rc, i, cp, need;
	byte m, e, pad, j;  /* message, its extent, padding before it */
	bit f, ann = asym[P], once, batch, alone;
	byte w; /* unused (PUBLISH) */
#if defined(TORN) || defined(HDR_LATE)
	bit late; /* a store of the record is left for after P1 */
	byte rs;  /* where that record starts */
#endif

	do
	:: m == NMSG -> break
	:: else ->
		/* sr_prod_room: room for the record, and for a padding to the
		 * end first if the record would cross it (sr_room_need: pad +
		 * extent free slots); when both cannot fit at once, room for the
		 * padding, published alone, then for the record at slot 0 */
		atomic { /* local arithmetic: one step */
			PICK_SIZE();
			if
			:: pos % K + e > K -> pad = K - pos % K
			:: else -> pad = 0
			fi;
			if
			:: pad + e > K -> alone = 1; need = pad
			:: else -> alone = 0; need = pad + e
			fi;
#ifdef NO_PAD_ROOM
			if
			:: !alone -> need = e /* BROKEN: the padding is not counted */
			:: else -> skip
			fi
#endif
		};
		if
		:: batch && !alone && K - (pos - peer) >= need ->
			skip /* sendv (sr_fit): room by the cached tail */
		:: else ->
			if
			:: batch -> PUBLISH(P) /* the run so far, before waiting */
			:: else -> skip
			fi;
			/* the relaxed early ECLOSED hint */
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
			fi
		fi;
		/* the records' bytes: each payload slot a store of its own, each
		 * header word a relaxed store, all before P1. Each store enters
		 * the store buffer and reaches memory on its own; putting them
		 * into the buffer in one step hides nothing from the consumer,
		 * which only sees memory. */
		atomic {
			if
			:: pad > 0 ->
				STORE(P, RWORD + pos % K, WORD(R_PAD, pad, pos));
				pos = pos + pad
			:: else -> skip
			fi
		};
		if
		:: alone -> PUBLISH(P) /* the padding alone; the record next time */
		:: else ->
			atomic { /* sr_put: the payload, then the word */
				j = 0;
				do
#ifdef TORN
				:: j + 1 < e ->
#else
				:: j < e ->
#endif
					STORE(P, SLOT + (pos + j) % K, m + 1); j++
				:: else -> break
				od;
				j = 0;
#ifndef HDR_LATE
				STORE(P, RWORD + pos % K, WORD(R_MSG, e, pos));
#else
				rs = pos;
#endif
#if defined(TORN) || defined(HDR_LATE)
				late = 1;
#endif
				pos = pos + e;
				m++;
				e = 0
			};
#ifdef BATCH
			if
			:: m < NMSG -> batch = 1 /* sendv: the next record first */
			:: true -> PUBLISH(P)
			fi
#else
			PUBLISH(P)
#endif
		fi;
again:
		atomic { pad = 0; need = 0; alone = 0 }
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
	byte pos, peer, v, st, rc, i, cp, need;
	byte seq, w, e, j, tag; /* messages delivered; a record's word, extent */
	bit f, ann = asym[C], once, batch, hdr_ok;
	byte m, rs; /* unused (PUBLISH) */
	bit late;   /* unused (PUBLISH) */

	do
	:: WAIT(C); /* in a recvv run, the cached head shows the next record */
		if
		:: rc == ECLOSED -> break
		:: rc == ETIMEDOUT -> goto next /* the application retries */
		:: else -> skip
		fi;
		/* sr_rec_take: the record's header word, read once, checked */
		atomic {
			LOAD(C, RWORD + pos % K, w);
			e = W_EXT(w);
			hdr_ok = (W_LAP(w) == LAP(pos) &&
			          (W_TYPE(w) == R_MSG || W_TYPE(w) == R_PAD) &&
			          e >= 1 && e <= peer - pos && pos % K + e <= K);
			assert(hdr_ok); /* else EBADFMT: a stale or torn header */
			hdr_ok = 0
		};
		if
		:: W_TYPE(w) == R_PAD ->
			/* padding: skipped, never delivered, released at once */
			assert(pos % K + e == K); /* it runs to the end of the ring */
#ifdef NO_PAD_TAIL
			atomic { pos = pos + e; w = 0; e = 0 } /* BROKEN */
#else
#ifdef BATCH
			if
			:: batch && peer != pos + e ->
				/* recvv (sr_cons_more): skipped inside a run, released
				 * with the message after it */
				atomic { pos = pos + e; w = 0; e = 0 }
			:: else ->
				pos = pos + e;
				PUBLISH(C) /* sr_cons_next: C2 for the padding alone */
			fi
#else
			pos = pos + e;
			PUBLISH(C) /* sr_cons_next: C2 for the padding alone */
#endif
#endif
		:: else ->
			/* shmring_recv: the payload, slot by slot, then C2 */
			assert(seq < NMSG && e == EXT_OF(seq));
			j = 0;
			do
			:: j < e ->
				LOAD(C, SLOT + (pos + j) % K, tag);
				assert(tag == seq + 1); /* whole, in order, once */
				j++
			:: else -> break
			od;
			atomic { j = 0; tag = 0; seq++; pos = pos + e };
#ifdef BATCH
			if
			:: peer != pos -> atomic { batch = 1; w = 0; e = 0 } /* recvv: the next first */
			:: true -> PUBLISH(C)
			fi
#else
			PUBLISH(C)
#endif
		fi;
#ifdef CONS_CLOSE
		if
		:: !batch -> CLOSE(C); goto closed
		:: true -> skip
		fi;
#endif
next:
		skip
	od;
	assert(seq == NMSG); /* end of stream only after every message */
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
