/*
 * mpsc.pml -- the many-producer ring (SHMRING_F_MPSC, docs/protocol.md,
 * "Many producers"), for SPIN: two producers, one consumer, a producer
 * that may die at any step.
 *
 * Ring of K slots (2 or 4). Producer k sends N<k> messages (at most NM <=
 * 3; default 2 each), message m of E<k><m> slots (defaults: K = 4: 2, 1
 * and 1, 2; K = 2: 1, 2 and 2, 1), then closes. Each slot's first word
 * is its slot word, modelled as one value: type | extent << 2 | k << 5 | lap << 6, lap =
 * index / K (not wrapped: the 2^30 laps of the real word never wrap in a
 * run this short). FREE(L) is type 0 with lap L (k and extent 0), RESV(L,
 * k, n) type 3, MSG / PAD types 1 / 2 (their k field is a ghost: who
 * committed it, read only by the checks). The word of a slot inside a
 * record (not its first) holds payload bytes: PAYW(tag), a value no word
 * of the protocol has (see ZERO_PAYLOAD). Payload tags (pay[], k * NM + m
 * + 1 for message m of producer k) are per slot, stored one step each.
 *
 * The claim is docs/protocol.md steps 1-8 (labels s1 .. s8 below): the
 * word CAS is the claim, the head CAS the hint, helping at step 2. Commit:
 * a release store of the MSG word, then W1. The consumer never reads
 * head: it reads the word at pos (MSG / PAD of its lap: a record; RESV: in
 * progress; FREE(lap): empty), delivers, releases PAD(lap, e) first (a
 * record of more than one slot), FREE(lap + 1) in its later slots, then
 * FREE(lap + 1) at its start, then stores tail (C2) and runs its W1
 * towards the producers (WAKE_PRODUCERS): a full fence, one load of the
 * sleepers bits; for each bit set a load of that producer's wake_at; keep
 * the producers whose wake_at <= the new tail; if any, take exactly their
 * bits (an and-not RMW returning the old word) and signal the own wake
 * word of each whose bit was still set. A bit below its threshold stays
 * set. Producer k waiting for room at h: stores its threshold wake_at[k]
 * (its own entry; a relaxed store), nd the slots it waits for there (the
 * condition ROOM_OK re-checks: 1 at s3, which waits for the slot at h to
 * be released, tail >= h + 1 - K; need at s5, tail >= h + need - K) and
 * wake_at[k] = h - K + max(nd, K / 2) (room for nd or half the ring,
 * whichever is more, as sr_mp_wake_at()), so wake_at <= h: a consumer
 * that releases every record below h reaches it; the model stores
 * wake_at + K (no negative numbers) and compares it with tail + K. Then sleepers |= 1 << k (locked
 * RMW), a full fence, re-check tail for real room (ROOM_OK, not the
 * threshold), wait on its word, clear its bit (RMW). The consumer's
 * sleep: sleeping = 1 (release), fence, re-check the word at pos (and the
 * producers' states); if it is to sleep, the forced wake (WAKE_ALL: take
 * every sleepers bit, exchange to 0, thresholds ignored, and signal each),
 * then wait on its word, sleeping = 0; a producer's W1 after its commit:
 * fence, load sleeping, if set take it (exchange to 0) and signal. A wake
 * word is an auto-reset event (exchange to 1; the sleeper resets it after
 * waking). The model has no consumer close (its close wakes every
 * producer, thresholds ignored).
 * End of stream: the word at pos is FREE(lap), read after every
 * producer's state showed CLOSED or a probe showed it dead.
 *
 * Batch claims (BATCH): producer BATCHER (DYING, 0) claims as claimv
 * (sr_mp_claim: the loop after pend[0]): behind its first record, as
 * many of its messages left as fit before the end of the ring and in the
 * room its cached tail t shows (no wait for them), all in one span at h
 * claimed by one word, RESV(L, k, span), span their total extent (a first
 * record that does not fit is the padding claim, as before). It writes
 * every payload (the word of a later record's first slot, inside the
 * span, is not payload: FREE(L) until the commit), then commits the
 * first n of its got records, n = 0 .. got at random (commitv(n); n = 0 is
 * commitv(0), and close with the claim open, sr_mp_discard; sendv is n =
 * got) as sr_mp_commit does: every word but the first in its loop's
 * order, buffered (relaxed): MSG(e) of each record x < n, PAD(e) over each
 * record x >= n (one per record, its own extent); then the span's first
 * word, buffered (release): MSG(e0), or PAD(e0) when n = 0, the one store
 * that publishes the span; then W1. A discarded message is gone (dmask):
 * the consumer must never deliver it, and skips it in its order check. A
 * shorter commit (lens[i] below the claimed length: PAD over the tail of
 * a record, behind its MSG) is not modelled. The other producer claims
 * and commits one record at a time, as without BATCH.
 *
 * Memory model, as wake.pml: x86-TSO. Each process has a FIFO store
 * buffer that one Flusher drains to memory at any time; a load reads its
 * own newest buffered store to the address, else memory; a full fence
 * waits for the buffer to empty; a locked RMW (CAS, exchange, or) drains
 * it first and is one atomic step on memory. Buffered: the commit word
 * (BATCH: every word of a span's commit, the first last), tail, the
 * consumer's sleeping = 1, close (the stores of the four
 * store-buffer patterns: commit / W1, tail / sleepers, sleeping / re-check,
 * close / W1). Written to memory directly, to keep the state space small:
 * the payload (before the commit in program order), the consumer's
 * release words (before tail; in one step: the consumer does not die
 * here, so no one can see them half done; RELEASE_BUFFERED buffers them
 * one by one), the sleeping = 0 and wake-word resets after a wait. A
 * direct store is visible at once instead of some time later: it only
 * adds store orders, and none of these is followed by a load that the
 * store-buffer argument needs. wake_at: stored to memory in one step once
 * the producer's buffer is empty, which is the buffered relaxed store: the
 * RMW of its bit that follows waits for the buffer to drain, and the
 * producer does nothing in between, so the store becomes visible after
 * its earlier stores and before the bit, as in TSO. The consumer, which
 * never stores it, loads it from memory, one load per bit. The producer
 * resets its wake_at to 0 (its initial value) in the step that clears its
 * bit, which the real code does not: fewer states, and no behaviour lost
 * (a consumer's load of the old value after that step has no effect on
 * anyone until its and-not, so it is the same load moved before the step;
 * the value 0, "reached", only adds a spurious signal). Two loads in one
 * step: the producers' states (the real code reads one word, attached)
 * and the sleepers bits (one word). No asymmetric (membarrier) fences:
 * both sides use full fences, as on Windows or with SHMRING_FENCE=full
 * (wake.pml checks the asymmetric pair for one producer).
 *
 * Death (DIE): producer DYING (0) may die at each point marked DIE_POINT:
 * before a claim, between the word CAS and the head CAS, after the head
 * CAS, after its payload, after its commit (before W1), in W1 between
 * taking the consumer's flag and signalling, and in a wait for room; with
 * BATCH also between the stores of a span's commit (its first word not
 * stored yet, the span's RESV is one hole, whatever the words behind it
 * hold). Its store buffer drains at death (the kernel ends the process;
 * the probe comes 20 ms later). dead[k] is the liveness probe's answer;
 * the consumer may or may not probe (at most every 20 ms) until a slice
 * has expired, then it probes. A sleep slice (timeout) may expire only while
 * the consumer's wait is the dead producer's doing (SLICE_OK): its RESV,
 * MSG or PAD at pos, a wake-up it took and never sent, or an empty ring
 * with every other producer closed. So a lost wake-up of a live process
 * stays asleep forever: an invalid end state.
 *
 * Checked (assertions; no invalid end state):
 *   - every record the consumer delivers has the extent its message was
 *     sent with and that message's tag in every slot: never torn, never
 *     read before its commit (the tag of a slot not yet written is
 *     another message's or 0); for each producer in its order, each once
 *   - at end of stream: every message of a live producer delivered; of
 *     the dead one, exactly those it committed; every hole it left (a
 *     RESV never committed) recovered and counted in abandoned once;
 *     only a dead producer's RESV is ever recovered
 *   - with BATCH: no discarded message delivered; those skipped between
 *     two delivered ones of the batcher all discarded; at end of stream
 *     every message it committed delivered, and (alive) every message
 *     committed or discarded
 *   - no EBADFMT: the consumer never finds a word it must reject
 *     (cons_ebadfmt), and a producer never reaches step 3's EBADFMT
 *   - (assert !stale) no producer's store lands in a slot word of a later
 *     lap than its own (the consumer freed the slot under it): checked as
 *     each buffered store reaches memory, and at death (NO_STALE: not
 *     checked, to see what such a store leads to)
 *   - no lost wake-up, no deadlock: every process ends (producers closed
 *     or dead, the consumer at end of stream), no one asleep for ever; and
 *     (assert !lost) the consumer never falls asleep, nor stays asleep
 *     when a producer's W1 decides not to signal, while the word at its
 *     pos is a record whose W1 did not signal (or skipped it), or the ring
 *     is empty and every producer closed without signalling, and no
 *     signal is pending or owed: a lost wake-up that something later
 *     (another producer's close) would hide from the end-state check
 *   - (assert !plost) no producer falls asleep, nor stays asleep when a
 *     consumer's W1 ends, with no signal pending, on a threshold that the
 *     tail of a finished W1 has reached (wdone): that W1 had to see its bit
 *     (the store-buffer argument: or the re-check saw that tail, which is
 *     room), so the producer is lost to the W1s and only the consumer's
 *     forced wake before its next sleep would end it, which hides such a
 *     bug from the end-state check (NO_C_FENCE verifies with NO_PLOST,
 *     which turns this check off; with NO_FORCED_WAKE too it deadlocks). A
 *     producer asleep below its threshold while the consumer releases is
 *     fine, and reachable in each ok configuration of scripts/test-model.sh
 *     (even with room at the new tail: K = 2, a waiter at s3)
 *
 * Fixes to docs/protocol.md as written (the model's default; each has a
 * DOC_ switch that restores the text, and SPIN rejects the text):
 *   FIX_PAD_WAKE  (DOC_PAD_NO_WAKE) a padding claim (step 6 with pad,
 *                 "committed by its CAS") is followed by W1, like a commit
 *   FIX_HEAD_BEHIND (DOC_HEAD_BEHIND) a tail read past h (steps 3 and 5,
 *                 and the re-check before sleeping) means h is stale or
 *                 the head hint is behind tail (a padding claim or a dead
 *                 producer's RESV released before anyone moved head past
 *                 it): CAS(head, h, t) and restart, never "wait for room"
 *                 on the unsigned h - t; and at step 3 a word of a later
 *                 lap than h's (FREE(lap + 1): released, its tail store
 *                 not seen yet) restarts, it is no EBADFMT
 *   FIX_BADFMT_RACE (DOC_BADFMT_RACE) step 3: before EBADFMT, read the
 *                 word again (after tail): the first read may predate the
 *                 release that tail now shows
 * Known flaw, not fixed here:
 *   ZERO_PAYLOAD  the payload's first 8 bytes in a record's second slot
 *                 are zero, which is FREE(0): a producer that read head
 *                 in lap 0 and stalls for a lap claims in the middle of
 *                 another producer's record
 * Broken variants, which SPIN must reject:
 *   NO_P_FENCE    producer: sleepers bit by a plain (buffered) store, no
 *                 fence before the re-check of tail
 *   NO_C_FENCE    consumer: no fence between the tail store and reading
 *                 sleepers
 *   NO_S_FENCE    consumer: no fence between sleeping = 1 and its re-check
 *   HEAD_CLAIM    the claim is the head CAS; the RESV / PAD word is
 *                 stored after it
 *   NO_LAP_FREE   FREE words carry no lap (FREE(L) = 0)
 *   RECOVER_LIVE  the consumer recovers a RESV without the death probe
 *   NO_W1         a producer's commit without W1
 *   NO_CLAMP      room for nd plus half the ring, not the larger of the
 *                 two: with K = 2 a 2-slot record's wake_at is h + 1, a
 *                 tail that never
 *                 comes while the consumer sleeps on the empty ring at h.
 *                 Only with NO_FORCED_WAKE: the forced wake before the
 *                 consumer's sleep hides it (SPIN accepts NO_CLAMP alone)
 *   FIRST_WORD_FIRST (BATCH) the old sr_mp_commit (before 596cb9d): with
 *                 n = 0 its loop padded the first record too, storing the
 *                 span's first word (PAD) before the other records' words,
 *                 and the final store of that word came after them: the
 *                 consumer passes and frees the span while the later
 *                 stores are buffered, and the last lands in a slot freed
 *                 for the next lap (stale; with NO_STALE, the consumer's
 *                 EBADFMT a lap later: the kill suite's PAD word of an
 *                 earlier lap at the frontier)
 *   RESV_ONE      (BATCH) the span's RESV word covers its first record
 *                 only: a helper moves head into the span and the other
 *                 producer claims a record there
 * Not broken (SPIN accepts it):
 *   NO_FORCED_WAKE the consumer sleeps without the forced wake. The
 *                 model's producers never hold a claim open while they
 *                 wait for room, so the thresholds (wake_at <= h) alone
 *                 are live here; the forced wake is for a producer of the
 *                 real code that holds a claim open for long
 */

#ifndef K
#define K 4
#endif
#ifndef NM
#define NM 2
#endif
#ifndef N0
#define N0 NM /* messages producer 0 sends (NM: the most of either) */
#endif
#ifndef N1
#define N1 NM
#endif
#if N0 > NM || N1 > NM || NM > 3
#error "N0, N1 <= NM <= 3"
#endif
#if K == 4
#define D00 2
#define D01 1
#define D10 1
#define D11 2
#else
#define D00 1
#define D01 2
#define D10 2
#define D11 1
#endif
#ifndef E00
#define E00 D00
#endif
#ifndef E01
#define E01 D01
#endif
#ifndef E10
#define E10 D10
#endif
#ifndef E11
#define E11 D11
#endif
#ifndef E02
#define E02 1
#endif
#ifndef E12
#define E12 1
#endif
#define EXT(k, m) ((k) == 0 -> ((m) == 0 -> E00 : ((m) == 1 -> E01 : E02)) : \
                               ((m) == 0 -> E10 : ((m) == 1 -> E11 : E12)))

#ifndef DOC_PAD_NO_WAKE
#define FIX_PAD_WAKE
#endif
#ifndef DOC_HEAD_BEHIND
#define FIX_HEAD_BEHIND
#endif
#ifndef DOC_BADFMT_RACE
#define FIX_BADFMT_RACE
#endif

#define DYING 0

#ifdef FIRST_WORD_FIRST
#ifndef BATCH
#define BATCH
#endif
#endif
#ifdef BATCH
#define BATCHER DYING /* the producer of claimv / commitv */
#endif

#define T_FREE 0
#define T_MSG  1
#define T_PAD  2
#define T_RESV 3
#define WD(t, e, k, l) ((t) + (e) * 4 + (k) * 32 + (l) * 64)
#define WT(w) ((w) % 4)
#define WE(w) (((w) / 4) % 8)
#define WK(w) (((w) / 32) % 2)
#define WL(w) ((w) / 64)
#define LAP(x) ((x) / K)
#ifdef NO_LAP_FREE
#define FREEW(l) 0
#else
#define FREEW(l) WD(T_FREE, 0, 0, l)
#endif
#define ISWORD(w) ((w) < 30000)
#ifdef ZERO_PAYLOAD
#define PAYW(tag) 0
#else
#define PAYW(tag) (30000 + (tag))
#endif
/* a claimed or committed word of the lap of index x */
#define CLAIMED(w, x) (ISWORD(w) && WT(w) != T_FREE && WL(w) == LAP(x))
/* unsigned a - b, as the 64-bit difference: "negative" is huge */
#define UDIFF(a, b) ((a) >= (b) -> (a) - (b) : 255)

/* addresses */
#define HEAD   0
#define TAIL   1
#define CSLEEP 2 /* consumer's sleeping flag */
#define CWORD  3 /* consumer's wake word */
#define PWORD  4 /* producer k's wake word: PWORD + k */
#define SLP    6 /* sleepers bit k: SLP + k (one word, see WAKE_PRODUCERS) */
#define PSTATE 8 /* producer k's entry state: PSTATE + k */
#define WAKEA  10 /* producer k's wake_at + K: WAKEA + k */
#define WORDA  12 /* slot word of slot s: WORDA + s */
#define NADDR  (WORDA + K)

#define ATTACHED 1
#define CLOSED   2

#define C  2 /* the consumer's store buffer */
#define SB 6

short mem[NADDR];
byte pay[K];

typedef Buf {
	byte addr[SB];
	short val[SB];
	byte n
};
Buf sb[3];

/* ghosts */
bit dead[2];
bit asleep[3];
bit owe[2];        /* took the consumer's flag, has not signalled yet */
byte nosig[2];     /* 1 + index of k's last commit whose W1 did not signal */
bit nosigc[2];     /* k's close whose W1 did not signal */
byte cpos;         /* the consumer's pos */
bit lost;          /* a lost wake-up (LOST_WAKEUP), for the assertions */
bit plost;         /* a producer's lost wake-up (PLOST), for the assertions */
byte wdone;        /* the tail of the consumer's last finished W1 */
byte committed[2]; /* messages committed per producer (BATCH: the index
                    * past k's last commit, discarded ones included) */
byte holes;        /* RESV claims left by the dead producer */
bit holding[2];     /* the dying producer holds a RESV not committed */
byte seq[2];       /* messages of producer k delivered (BATCH: the index
                    * past the last one delivered) */
#ifdef BATCH
byte dmask;        /* the batcher's messages discarded (commitv(n < got)) */
/* messages [a, b) of producer k all discarded (none if a == b) */
#define DISC(k, a, b) ((b) >= (a) && \
	((((k) == BATCHER -> dmask : 0) >> (a)) & ((1 << ((b) - (a))) - 1)) == \
	(1 << ((b) - (a))) - 1)
#endif
byte abandoned;    /* the consumer's count */
bit eos;
bit prod_ebadfmt; /* 0: assert(prod_ebadfmt) is the producer's EBADFMT */
bit cons_ebadfmt; /* 0: assert(cons_ebadfmt), the consumer's */

/* the consumer is asleep (no signal pending, none owed) on work whose
 * producer's W1 has passed without a signal: a committed record at its
 * pos, or an empty ring and every producer closed */
#define CW mem[WORDA + cpos % K]
#define LOST_WAKEUP (mem[CWORD] == 0 && !owe[0] && !owe[1] && \
	((CLAIMED(CW, cpos) && WT(CW) != T_RESV && nosig[WK(CW)] == cpos + 1) || \
	 (CW == FREEW(LAP(cpos)) && mem[PSTATE] == CLOSED && mem[PSTATE + 1] == CLOSED && \
	  nosigc[0] && nosigc[1])))

/* producer k asleep (no signal pending) on a threshold that the tail of a
 * finished consumer's W1 has reached: a W1 that must have seen its bit
 * passed without a signal (only the forced wake, if any, would end it) */
#ifndef NO_PLOST
#define PLOST(k) (asleep[k] && mem[PWORD + k] == 0 && mem[WAKEA + k] <= wdone + K)
#else
#define PLOST(k) 0 /* the end-state check alone */
#endif

/* ---- memory operations ---------------------------------------------------- */

inline STORE(me, a, v)
{
	atomic {
		sb[me].n < SB ->
		sb[me].addr[sb[me].n] = a;
		sb[me].val[sb[me].n] = v;
		sb[me].n++;
		printf("MSC: %d store [%d] = %d (buffered)\n", me, a, v)
	}
}

inline FENCE(me)
{
	sb[me].n == 0
}

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
		i = 0;
		printf("MSC: %d load [%d] -> %d\n", me, a, r)
	}
}

/* locked compare-and-swap: ok = 1 if mem[a] was ex, then it is nv */
inline CAS(me, a, ex, nv)
{
	atomic {
		sb[me].n == 0; /* a locked instruction drains the buffer */
		if
		:: mem[a] == ex -> mem[a] = nv; ok = 1
		:: else -> ok = 0
		fi;
		printf("MSC: %d CAS [%d] %d -> %d: %d (now %d)\n", me, a, ex, nv, ok, mem[a])
	}
}

/* drain p's buffer (inside atomic) */
inline DRAIN(p)
{
	i = 0;
	do
	:: i < sb[p].n ->
#ifndef NO_STALE
		assert(!(sb[p].addr[i] >= WORDA && ISWORD(mem[sb[p].addr[i]]) &&
			WL(mem[sb[p].addr[i]]) > WL(sb[p].val[i]))); /* stale, as FLUSH1 */
#endif
		mem[sb[p].addr[i]] = sb[p].val[i];
		sb[p].addr[i] = 0;
		sb[p].val[i] = 0;
		i++
	:: else -> break
	od;
	sb[p].n = 0;
	i = 0
}

/* a producer's store that lands in a slot word of a later lap than its
 * own: the consumer freed the slot under it (stale: a Flusher local, 0
 * unless the assertion fails) */
inline FLUSH1(p)
{
#ifndef NO_STALE
	stale = (p != C && sb[p].addr[0] >= WORDA && ISWORD(mem[sb[p].addr[0]]) &&
		WL(mem[sb[p].addr[0]]) > WL(sb[p].val[0]));
	assert(!stale);
#endif
	mem[sb[p].addr[0]] = sb[p].val[0];
	printf("MSC: flush %d: [%d] = %d\n", p, sb[p].addr[0], sb[p].val[0]);
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

proctype Flusher()
{
	byte j;
	bit stale;
end:
	do
	:: atomic { sb[0].n > 0 -> FLUSH1(0) }
	:: atomic { sb[1].n > 0 -> FLUSH1(1) }
	:: atomic { sb[C].n > 0 -> FLUSH1(C) }
	od
}

/* ---- producers -------------------------------------------------------------- */

#ifdef DIE
#define DIE_POINT \
	if \
	:: k == DYING && !dead[k] -> atomic { DRAIN(k); dead[k] = 1; holes = holes + holding[k]; holding[k] = 0; printf("MSC: %d DIES\n", k) }; goto died \
	:: true -> skip \
	fi
#else
#define DIE_POINT skip
#endif

/* W1 towards the consumer: full fence, load its sleeping flag; if set,
 * take it (exchange to 0) and signal its wake word (exchange to 1). */
inline W1(k, x)
{
	atomic {
		sb[k].n == 0 -> f = mem[CSLEEP]; /* full fence; load */
		if
		:: !f -> NOSIG(k, x)
		:: else -> skip
		fi
	};
	if
	:: f ->
		atomic { /* exchange */
			f = mem[CSLEEP]; mem[CSLEEP] = 0; owe[k] = f;
			if
			:: !f -> NOSIG(k, x)
			:: else -> skip
			fi
		};
		if
		:: f ->
			DIE_POINT;
			atomic { mem[CWORD] = 1; owe[k] = 0; printf("MSC: %d signals 2\n", k) }
		:: else -> skip
		fi
	:: else -> skip
	fi
}

/* the W1 of k for x (1 + index of its commit, 0: its close) did not
 * signal: note it, and the consumer must not be asleep on it already
 * (LOST_WAKEUP: checked here and when the consumer falls asleep) */
inline NOSIG(k, x)
{
	if
	:: x > 0 -> nosig[k] = x
	:: else -> nosigc[k] = 1
	fi;
	lost = (asleep[C] && LOST_WAKEUP);
	assert(!lost)
}

/* room at the re-check: as the condition that made the producer wait */
#ifdef FIX_HEAD_BEHIND
#define ROOM_OK(t) (h < t || (wc == 3 && UDIFF(h, t) < K) || (wc == 5 && UDIFF(h + need, t) <= K))
#else
#define ROOM_OK(t) ((wc == 3 && UDIFF(h, t) < K) || (wc == 5 && UDIFF(h + need, t) <= K))
#endif

/* the wake threshold, plus K (no negative numbers): wake_at = h - K +
 * max(nd, K / 2), nd the slots ROOM_OK waits for at h (1 at s3, need at
 * s5), as sr_mp_wake_at(): room for nd or half the ring, whichever is
 * more, so wake_at <= h. NO_CLAMP: room for nd plus half the ring, which
 * can be past h. */
#ifdef NO_CLAMP
#define ROOMW(nd) ((nd) + K / 2)
#else
#define ROOMW(nd) ((nd) >= K / 2 -> (nd) : K / 2)
#endif
#define NEED_AT (wc == 3 -> 1 : need)
#define WAKE_AT (h + ROOMW(NEED_AT))

/* wait for room: wake_at[k] (relaxed; the RMW after it drains it), sleepers
 * |= 1 << k (seq_cst RMW), full fence, re-check tail (real room, not the
 * threshold), wait on its own wake word, clear its bit (RMW). */
inline WAIT_ROOM(k)
{
	atomic { sb[k].n == 0 -> mem[WAKEA + k] = WAKE_AT } /* see the header */
#ifdef NO_P_FENCE
	STORE(k, SLP + k, 1);
#else
	atomic { sb[k].n == 0 -> mem[SLP + k] = 1 }; /* RMW; the fence after it */
#endif
	DIE_POINT;
	LOAD(k, TAIL, t);
	if
	:: ROOM_OK(t) -> skip
	:: else ->
		atomic {
			sb[k].n == 0; /* a system call */
			if
			:: mem[PWORD + k] == 0 -> asleep[k] = 1; plost = PLOST(k); assert(!plost)
			:: else -> skip
			fi
		};
		if
		:: asleep[k] -> printf("MSC: %d sleeps\n", k);
			atomic { mem[PWORD + k] != 0 -> asleep[k] = 0; printf("MSC: %d woken\n", k) }
		:: else -> skip
		fi;
		mem[PWORD + k] = 0 /* auto-reset: relaxed (see the header) */
	fi;
	/* RMW; wake_at back to 0, as before any wait: a ghost reset, fewer
	 * states (see the header) */
	atomic { sb[k].n == 0 -> mem[SLP + k] = 0; mem[WAKEA + k] = 0 }
}

/* a fresh tail past h: h is stale, or head is behind tail (the consumer
 * released the record at h before anyone moved head past it) */
inline HEAD_BEHIND()
{
#ifdef FIX_HEAD_BEHIND
	if
	:: h < t -> CAS(k, HEAD, h, t); goto claim
	:: else -> skip
	fi
#else
	skip
#endif
}

proctype Producer(byte k)
{
	byte h, t, v, need, pad, e, m, j, i, wc, tag;
#ifdef BATCH
	byte got, n, x, ra; /* records claimed, committed; a record, its index */
#endif
	short w, nw;
	bit ok, f;

	do
	:: m == (k == 0 -> N0 : N1) -> break
	:: else ->
		e = EXT(k, m);
		tag = k * NM + m + 1;
claim:
		DIE_POINT;
s1:		atomic { /* locals dead here: cleared, fewer states */
			v = 0; w = 0; nw = 0; pad = 0; need = 0; wc = 0; ok = 0; f = 0;
#ifdef BATCH
			got = 0;
#endif
			LOAD(k, HEAD, h)
		};
#ifndef HEAD_CLAIM
		LOAD(k, WORDA + h % K, w);
		if
		:: CLAIMED(w, h) -> /* s2: claimed: help */
			CAS(k, HEAD, h, h + WE(w));
			goto claim
		:: else -> skip
		fi;
		if
		:: w != FREEW(LAP(h)) -> /* s3: not released yet */
			LOAD(k, TAIL, t);
			HEAD_BEHIND();
#ifdef FIX_HEAD_BEHIND
			if
			:: !(ISWORD(w) && WL(w) <= LAP(h)) ->
				goto claim /* released past h: tail's store is coming */
			:: else -> skip
			fi;
#endif
			if
			:: UDIFF(h, t) >= K -> wc = 3; WAIT_ROOM(k); goto claim
			:: else ->
				LOAD(k, HEAD, v);
				if
				:: v != h -> goto claim
				:: else -> skip
				fi;
#ifdef FIX_BADFMT_RACE
				/* the word again, after tail: it was read before
				 * the release that tail now shows */
				LOAD(k, WORDA + h % K, nw);
				if
				:: nw != w -> goto claim
				:: else -> skip
				fi;
#endif
				assert(prod_ebadfmt) /* EBADFMT */
			fi
		:: else -> skip
		fi;
#endif
s4:		atomic {
			if
			:: h % K + e > K -> pad = K - h % K; need = pad
			:: else -> pad = 0; need = e
			fi
		};
s5:		if
		:: UDIFF(h + need, t) > K ->
			LOAD(k, TAIL, t);
			HEAD_BEHIND();
			if
			:: UDIFF(h + need, t) > K -> wc = 5; WAIT_ROOM(k); goto claim
			:: else -> skip
			fi
		:: else -> skip
		fi;
#ifdef BATCH
		/* claimv (the batcher): more records behind the first, as many
		 * of its messages left as fit before the end of the ring and in
		 * the room the cached tail t shows (sr_mp_claim: the loop after
		 * pend[0]); one RESV word, at h, covers the span, need slots */
		atomic {
			got = 1;
			if
			:: k == BATCHER && pad == 0 ->
				do
				:: m + got < N0 && h % K + need + EXT(k, m + got) <= K &&
				   UDIFF(h + need + EXT(k, m + got), t) <= K ->
					need = need + EXT(k, m + got);
					got++
				:: else -> break
				od
			:: else -> skip
			fi;
#ifndef RESV_ONE
			nw = (pad > 0 -> WD(T_PAD, pad, k, LAP(h)) : WD(T_RESV, need, k, LAP(h)))
#else
			/* BROKEN: the RESV word covers the first record only */
			nw = (pad > 0 -> WD(T_PAD, pad, k, LAP(h)) : WD(T_RESV, e, k, LAP(h)))
#endif
		};
#endif
#ifndef HEAD_CLAIM
#ifndef BATCH
s6:		nw = (pad > 0 -> WD(T_PAD, pad, k, LAP(h)) : WD(T_RESV, need, k, LAP(h)));
#else
s6:
#endif
		CAS(k, WORDA + h % K, FREEW(LAP(h)), nw);
		if
		:: !ok -> goto claim
		:: else -> holding[k] = (pad == 0)
		fi;
		DIE_POINT;
s7:		CAS(k, HEAD, h, h + need);
#else
		/* BROKEN: the head CAS claims, the word is stored after */
		CAS(k, HEAD, h, h + need);
		if
		:: !ok -> goto claim
		:: else -> skip
		fi;
		DIE_POINT;
		atomic {
			nw = (pad > 0 -> WD(T_PAD, pad, k, LAP(h)) : WD(T_RESV, need, k, LAP(h)));
			STORE(k, WORDA + h % K, nw);
			holding[k] = (pad == 0)
		};
#endif
s8:		if
		:: pad > 0 ->
#ifdef FIX_PAD_WAKE
			W1(k, h + 1);
#else
			atomic { NOSIG(k, h + 1) } /* the text: no W1 */
#endif
			goto claim
		:: else -> skip
		fi;
		DIE_POINT;
#ifdef BATCH
		/* the payloads of the span's records (record x of e slots at
		 * ra), slot by slot; then the commit's n: commitv(n) for n = 0
		 * .. got (the batcher; 0: commitv(0), or close with the claim
		 * open), n = got otherwise (send, sendv) */
		atomic {
			ra = h; x = 0;
			do
			:: x < got ->
				e = EXT(k, m + x);
				tag = k * NM + m + x + 1;
				j = 0;
				do
				:: j < e ->
					pay[(ra + j) % K] = tag;
					if
					:: j > 0 -> mem[WORDA + (ra + j) % K] = PAYW(tag)
					:: else -> skip
					fi;
					j++
				:: else -> break
				od;
				ra = ra + e;
				x++
			:: else -> break
			od;
			j = 0;
			e = EXT(k, m);
			tag = 0;
			ra = h + e;
			x = 1;
			if
			:: k == BATCHER ->
				if
				:: n = 0
				:: n = 1
				:: got >= 2 -> n = 2
				:: got >= 3 -> n = 3
				fi
			:: else -> n = got
			fi;
			printf("MSC: %d payload at %d: %d records, commit %d\n", k, h, got, n)
		};
		DIE_POINT;
		/* sr_mp_commit: every word but the first, relaxed (buffered), in
		 * its loop order: MSG(e) of a committed record, PAD(e) over each
		 * discarded one (one per record) */
#ifdef FIRST_WORD_FIRST
		/* BROKEN (the old sr_mp_commit): the loop pads a discarded
		 * first record too, before the others' words */
		if
		:: n == 0 ->
			STORE(k, WORDA + h % K, WD(T_PAD, e, k, LAP(h)));
			DIE_POINT
		:: else -> skip
		fi;
#endif
		do
		:: atomic {
			x < got ->
			nw = (x < n -> WD(T_MSG, EXT(k, m + x), k, LAP(ra)) :
			               WD(T_PAD, EXT(k, m + x), k, LAP(ra)));
			STORE(k, WORDA + ra % K, nw);
			ra = ra + EXT(k, m + x);
			x++;
			nw = 0
		   };
			DIE_POINT
		:: else -> break
		od;
		/* then the first word, with release: MSG(e) of record 0, PAD(e)
		 * if it is discarded too */
		atomic {
			nw = (n > 0 -> WD(T_MSG, e, k, LAP(h)) : WD(T_PAD, e, k, LAP(h)));
			STORE(k, WORDA + h % K, nw);
			nw = 0;
			committed[k] = m + got;
			if
			:: k == BATCHER -> dmask = dmask | (((1 << got) - (1 << n)) << m)
			:: else -> skip
			fi;
			holding[k] = 0;
			ra = 0; x = 0
		};
#else
		/* the payload, slot by slot; a later slot's word is payload */
		atomic {
			j = 0;
			do
			:: j < e ->
				pay[(h + j) % K] = tag;
				if
				:: j > 0 -> mem[WORDA + (h + j) % K] = PAYW(tag)
				:: else -> skip
				fi;
				j++
			:: else -> break
			od;
			j = 0;
			printf("MSC: %d payload at %d tag %d\n", k, h, tag)
		};
		DIE_POINT;
		/* commit: release store of MSG */
		atomic {
			STORE(k, WORDA + h % K, WD(T_MSG, e, k, LAP(h)));
			committed[k]++;
			holding[k] = 0
		};
#endif
		DIE_POINT;
#ifndef NO_W1
		W1(k, h + 1);
#else
		atomic { NOSIG(k, h + 1) } /* BROKEN: no W1 */
#endif
#ifdef BATCH
		atomic { m = m + got; got = 0; n = 0; pad = 0; need = 0; wc = 0 }
#else
		atomic { m++; pad = 0; need = 0; wc = 0 }
#endif
	od;
	/* close: state CLOSED (release), then W1 */
	STORE(k, PSTATE + k, CLOSED);
	W1(k, 0);
end_closed:
	skip;
	goto fin;
died:
end_died:
	skip;
fin:
	skip
}

/* ---- the consumer ----------------------------------------------------------- */

/* the probe of producer k's liveness (a read of dead[k]); rate-limited:
 * it may be skipped until a slice has expired */
#define PROBE(k) (dead[k] && (force || probe))

/* a slice may expire only while the wait is the dead producer's doing */
#define SLOT_W mem[WORDA + pos % K]
#define SLICE_OK (dead[DYING] && (owe[DYING] || \
	(ISWORD(SLOT_W) && WT(SLOT_W) != T_FREE && WL(SLOT_W) == LAP(pos) && WK(SLOT_W) == DYING) || \
	(SLOT_W == FREEW(LAP(pos)) && mem[PSTATE + 1 - DYING] == CLOSED)))

/* every producer closed or (probed) dead: st0, st1 read first */
inline ALL_DONE()
{
	atomic { LOAD(C, PSTATE + 0, st0); LOAD(C, PSTATE + 1, st1) }; /* attached */
	if
	:: dead[0] || dead[1] -> if :: probe = 1 :: probe = 0 fi
	:: else -> probe = 0
	fi;
	done = (st0 == CLOSED || PROBE(0)) && (st1 == CLOSED || PROBE(1))
}

/* the consumer's wait: sleeping = 1, fence, re-check, wait, sleeping = 0.
 * Nothing to do is the word w still at pos and, for an empty ring, not
 * every producer done. */
inline SLEEP()
{
	STORE(C, CSLEEP, 1);
#ifndef NO_S_FENCE
	atomic { sb[C].n == 0 -> w2 = mem[WORDA + pos % K] } /* fence; load */
#else
	LOAD(C, WORDA + pos % K, w2);
#endif
	if
	:: w2 == FREEW(LAP(pos)) -> ALL_DONE()
	:: else -> done = 0
	fi;
	if
	:: w2 == w && !done ->
#ifndef NO_FORCED_WAKE
		WAKE_ALL();
#endif
		atomic {
			sb[C].n == 0; /* a system call */
			if
			:: mem[CWORD] == 0 -> asleep[C] = 1; lost = LOST_WAKEUP; assert(!lost)
			:: else -> skip
			fi
		};
		if
		:: asleep[C] -> printf("MSC: 2 sleeps at %d\n", pos);
			if
			:: atomic { mem[CWORD] != 0 -> asleep[C] = 0; printf("MSC: 2 woken\n") }
			:: atomic { SLICE_OK -> asleep[C] = 0; force = 1; printf("MSC: 2 slice expired\n") }
			fi
		:: else -> skip
		fi;
		mem[CWORD] = 0 /* auto-reset */
	:: else -> skip
	fi;
	mem[CSLEEP] = 0 /* relaxed (see the header) */
}

/* signal the producers whose bit the consumer took (s0, s1; left 0) */
inline SIGNAL_TAKEN()
{
	if
	:: s0 -> atomic { mem[PWORD + 0] = 1; s0 = 0; printf("MSC: 2 signals 0\n") }
	:: else -> skip
	fi;
	if
	:: s1 -> atomic { mem[PWORD + 1] = 1; s1 = 0; printf("MSC: 2 signals 1\n") }
	:: else -> skip
	fi
}

/* the consumer's forced wake before it sleeps: take every bit (exchange
 * to 0), thresholds ignored, and signal each */
inline WAKE_ALL()
{
	atomic {
		sb[C].n == 0; /* exchange */
		s0 = mem[SLP + 0]; s1 = mem[SLP + 1];
		mem[SLP + 0] = 0; mem[SLP + 1] = 0
	};
	SIGNAL_TAKEN()
}

/* after C2: full fence, read sleepers; for each bit set, load its wake_at
 * and keep it if wake_at <= tail (pos); take the kept bits (and-not RMW,
 * returning the old word) and signal those still set */
inline WAKE_PRODUCERS()
{
	atomic { /* full fence; one load of the sleepers word */
#ifndef NO_C_FENCE
		sb[C].n == 0;
#endif
		LOAD(C, SLP + 0, s0); LOAD(C, SLP + 1, s1)
	};
	if
	:: s0 || s1 ->
		/* the thresholds, one load each (the consumer never stores
		 * them: memory) */
		if
		:: s0 -> s0 = (mem[WAKEA + 0] <= pos + K)
		:: else -> skip
		fi;
		if
		:: s1 -> s1 = (mem[WAKEA + 1] <= pos + K)
		:: else -> skip
		fi;
		if
		:: s0 || s1 ->
			atomic {
				sb[C].n == 0; /* and-not */
				if
				:: s0 -> s0 = mem[SLP + 0]; mem[SLP + 0] = 0
				:: else -> skip
				fi;
				if
				:: s1 -> s1 = mem[SLP + 1]; mem[SLP + 1] = 0
				:: else -> skip
				fi
			};
			SIGNAL_TAKEN()
		:: else -> skip
		fi
	:: else -> skip
	fi;
	atomic {
		s0 = 0; s1 = 0;
		/* ghosts: this W1 is done (PLOST) */
		wdone = pos;
		plost = PLOST(0) || PLOST(1);
		assert(!plost)
	}
}

/* release [pos, pos + e): PAD(lap, e) first (more than one slot), FREE(lap
 * + 1) in the later slots, then at pos; then C2 (tail) and the wake */
#ifdef RELEASE_BUFFERED
inline RELEASE_WORDS()
{
	if
	:: e > 1 -> STORE(C, WORDA + pos % K, WD(T_PAD, e, WK(w), LAP(pos)))
	:: else -> skip
	fi;
	j = 1;
	do
	:: j < e -> STORE(C, WORDA + (pos + j) % K, FREEW(LAP(pos) + 1)); j++
	:: else -> break
	od;
	j = 0;
	STORE(C, WORDA + pos % K, FREEW(LAP(pos) + 1))
}
#else
/* one step on memory: the consumer does not die, so no one sees the
 * intermediate PAD (see the header) */
inline RELEASE_WORDS()
{
	j = 1;
	do
	:: j < e -> mem[WORDA + (pos + j) % K] = FREEW(LAP(pos) + 1); j++
	:: else -> break
	od;
	j = 0;
	mem[WORDA + pos % K] = FREEW(LAP(pos) + 1);
	printf("MSC: 2 frees %d slots at %d\n", e, pos)
}
#endif

inline RELEASE()
{
	atomic {
		RELEASE_WORDS();
		pos = pos + e;
		cpos = pos;
		/* ghosts about records now behind: cleared, fewer states */
		if
		:: nosig[0] <= pos -> nosig[0] = 0
		:: else -> skip
		fi;
		if
		:: nosig[1] <= pos -> nosig[1] = 0
		:: else -> skip
		fi;
		STORE(C, TAIL, pos); /* C2 */
		e = 0
	};
	WAKE_PRODUCERS()
}

proctype Consumer()
{
	byte pos, e, j, i, k, mm, tag, st0, st1;
	short w, w2;
	bit ok, done, probe, force, s0, s1;

	do
	:: atomic {
			k = 0; mm = 0; tag = 0; st0 = 0; st1 = 0; w2 = 0; ok = 0;
			done = 0; probe = 0;
			LOAD(C, WORDA + pos % K, w)
		};
		if
		:: CLAIMED(w, pos) && WT(w) == T_MSG ->
			atomic {
				e = WE(w);
				assert(e >= 1 && pos % K + e <= K);
				tag = pay[pos % K];
				assert(tag >= 1 && tag <= 2 * NM);
				k = (tag - 1) / NM;
				mm = (tag - 1) % NM;
#ifdef BATCH
				/* in order, once, those skipped discarded; committed,
				 * not discarded; its extent */
				assert(mm >= seq[k] && DISC(k, seq[k], mm));
				assert(mm < committed[k] && !DISC(k, mm, mm + 1));
				assert(e == EXT(k, mm))
#else
				assert(mm == seq[k] && e == EXT(k, mm)) /* in order, once */
#endif
			};
			j = 1;
			do
			:: j < e -> assert(pay[(pos + j) % K] == tag); j++ /* whole */
			:: else -> break
			od;
			atomic { j = 0; seq[k] = mm + 1; force = 0; printf("MSC: 2 DELIVERS tag %d at %d\n", tag, pos) };
			RELEASE()
		:: CLAIMED(w, pos) && WT(w) == T_PAD ->
			atomic { e = WE(w); assert(e >= 1 && pos % K + e <= K); force = 0 };
			RELEASE()
		:: CLAIMED(w, pos) && WT(w) == T_RESV ->
			/* a record in progress: wait, unless its producer is dead */
			k = WK(w);
			if
			:: dead[k] -> probe = 1
			:: true -> probe = 0
			fi;
			if
#ifdef RECOVER_LIVE
			:: true ->
#else
			:: PROBE(k) ->
#endif
				CAS(C, WORDA + pos % K, w, WD(T_PAD, WE(w), k, LAP(pos)));
				if
				:: ok ->
					assert(dead[k]); /* only a dead producer's hole */
					abandoned++;
					printf("MSC: 2 RECOVERS hole at %d\n", pos)
				:: else -> skip
				fi
			:: else -> SLEEP()
			fi;
			probe = 0
		:: w == FREEW(LAP(pos)) ->
			/* empty: end of stream if every producer is done, the
			 * states read before the word is read again */
			ALL_DONE();
			if
			:: done ->
				LOAD(C, WORDA + pos % K, w2);
				if
				:: w2 == w -> break
				:: else -> skip
				fi
			:: else -> SLEEP()
			fi;
			probe = 0
		:: else ->
			assert(cons_ebadfmt) /* EBADFMT */
		fi
	od;
	/* end of stream */
	assert(seq[1 - DYING] == N1);
#ifdef BATCH
	/* every message committed delivered, every one in between discarded */
	assert(DISC(DYING, seq[DYING], committed[DYING]) &&
	       (dead[DYING] || committed[DYING] == N0));
#else
	assert(dead[DYING] && seq[DYING] == committed[DYING] || !dead[DYING] && seq[DYING] == N0);
#endif
	assert(abandoned == holes);
	eos = 1
}

init
{
	atomic {
		mem[PSTATE + 0] = ATTACHED;
		mem[PSTATE + 1] = ATTACHED;
		run Flusher();
		run Producer(0);
		run Producer(1);
		run Consumer()
	}
}
