/* Model of CPython's GIL under stop-the-world with the stop hooks: a thread
 * that never polls is asked for the GIL by every stop, gives it up at its
 * next eval-breaker check, and waits for a taker on a guarded condition
 * variable (docs/PYTHON.md "Threads", docs/EMBEDDING.md "A VM lock handed
 * over on request", docs/ABI.md "Stop hooks"). Checked by
 * tests/model-rules.test.ts (spin -a, gcc, ./pan).
 *
 * What mirrors what (tests/model.test.ts checks that each cited function
 * still exists):
 *   pass, end_stop    world.ts parkPass, releaseWorld, releaseWorldTry;
 *                     hooks.ts hooksSignal, hooksWake (the guard's count
 *                     hook, gil_drop_request and eval_breaker as signals)
 *   attach, detach    state.ts attach, detach (DETACHED -> ATTACHED at any
 *                     time; SUSPENDED waits to be resumed; ATTACHED with STOP
 *                     detaches into SUSPENDED)
 *   lock, cond_wait   vms/posix/src/mutex.c take, cond.c wait, stop.c
 *                     wtp_cond_stop_skips: waits run detached
 *   take_gil, drop_gil, compute_eval_breaker
 *                     CPython 3.11 Python/ceval_gil.h and ceval.c, as
 *                     unchanged; FORCE_SWITCHING on
 * Processes: the requester R makes NSTOPS stops; each adds to the guard's
 * count and stores the signal words (gil_drop_request, eval_breaker) at every
 * pass that finds a thread running, and may time out at any pass (after
 * MAXPASS passes at the latest: the deadline; it bounds the count's values).
 * H holds the GIL and makes ROUNDS eval-breaker checks, each of which may
 * find a request; W (-DWAITER) waits for the GIL, then makes one check.
 * A thread that has made its checks releases the GIL and ends (its slot is
 * then FREE). Alone, H has no taker: every wait for one must be ended by a
 * stop's end or made not at all.
 *
 * Abstractions: one requester (the exclusion word is left out); a pass is
 * one atomic step over both slots (stw.pml checks the core's finer grain);
 * a futex wait is a guard on its word having changed, and a timed wait may
 * also end at any moment; the GIL's other requests (signals, pending calls,
 * async exceptions) are left out, so eval_breaker is computed from
 * gil_drop_request alone, in two steps as COMPUTE_EVAL_BREAKER does.
 *
 * Properties:
 *   - no invalid end state: every thread makes its checks and ends, every
 *     stop ends; a thread left waiting for a taker who never comes, or for a
 *     stop's end that never wakes it, is one;
 *   - while the world is stopped no Python thread runs (ATTACHED).
 * Configurations: H alone (the default: NSTOPS 2, ROUNDS 2, MAXPASS 3) and
 * H with W (-DWAITER -DNSTOPS=1 -DROUNDS=1 -DMAXPASS=2; with two stops it
 * holds too, 27 M states, three minutes: by hand, docs/MODEL.md).
 * Seeded bugs (spin -D...), each rejected as an invalid end state:
 *   BUG_BOOL       the guard's word a flag (stored 1 by each pass, cleared by
 *                  a skip) instead of a count: a skip that read the flag of a
 *                  stop that ended clears the flag a newer stop just stored;
 *                  that stop times out after storing gil_drop_request again,
 *                  and H, finding the request and no flag, waits for nobody
 *   BUG_NOWAKE     a stop's end does not wake the guarded condition: H, alone,
 *                  waits for a taker forever after a stop that parked it there
 *   BUG_NOGUARD    no guard: a stop times out while H is in a long call; H
 *                  reads the request after the stop and waits for a taker
 *   BUG_ORDER      the guard reads W_REQUESTED before the sequence word: the
 *                  stop it saw requested ends, and wakes, in between
 *   BUG_SIGNALLED  the end wakes only after a stop that stored the signals:
 *                  H waits (a stale request, a stop requested) after
 *                  detaching before that stop's first pass, which then finds
 *                  no thread running and stores nothing
 */

#ifndef NSTOPS
#define NSTOPS 2
#endif
#ifndef ROUNDS
#define ROUNDS 2
#endif
#ifndef MAXPASS
#define MAXPASS 3
#endif

#define FREE 0
#define DET 2
#define ATT 3
#define SUS 4
#define STOPB 16
#define ST(w) ((w) & 15)

#define HH 1
#define WW 2

byte st[3];             /* slot words of H and W (index 0 unused) */
bit requested, wstopped; /* W_REQUESTED, W_STOPPED */
bit signalled;          /* BUG_SIGNALLED: the stop in progress stored the signals */
byte tally, seen;       /* the guard's: passes that asked (a count hook), the last one a skip consumed */
bit asked;              /* BUG_BOOL: the guard's word as a flag, stored 1 and consumed to 0 */
bit gdr, eb;            /* the signal words: gil_drop_request, eval_breaker */
byte gm;                /* gil->mutex: 0 free, else its holder */
bit locked;             /* gil->locked */
byte last_holder;       /* gil->last_holder */
byte swn;               /* gil->switch_number */
byte gseq;              /* gil->cond's sequence word */
byte sm;                /* gil->switch_mutex */
byte sseq;              /* switch_cond's sequence word: the guarded condition */

/* ---- the core, as the owner sees it ------------------------------------ */

inline attach(me) {
  atomic { st[me] == DET -> st[me] = ATT }
}

inline detach(me) {
  atomic {
    if
    :: st[me] == ATT -> st[me] = DET
    :: st[me] == ATT + STOPB -> st[me] = SUS
    fi
  }
}

/* ---- the layer: a mutex and a condition wait, waiting detached ------------ */

inline lock(m, me) {
  do
  :: atomic { m == 0 -> m = me; break }
  :: atomic { m != 0 -> detach(me) };
     (m == 0);
     attach(me)
  od
}

/* cond.c wait: the sequence read with the mutex held; the guard (stop.c
 * wtp_cond_stop_skips) for the guarded condition; the mutex released; a
 * detached wait; the mutex taken again. `timed`: the wait may also end at its
 * deadline. The guard: a pass has asked since the last skip (tally != seen)
 * and no stop is requested: skip, consuming up to what it read (CAS seen). */
inline cond_wait(seq, m, me, timed, guarded, s, a, r) {
#ifdef BUG_ORDER
  r = requested;
#endif
  s = seq;
  skipped = 0;
  if
  :: guarded ->
#ifdef BUG_BOOL
     a = asked;
#else
     a = tally;
#endif
#ifndef BUG_ORDER
     r = requested;
#endif
#ifndef BUG_NOGUARD
#ifdef BUG_BOOL
     if
     :: a && !r -> atomic { if :: asked == 1 -> asked = 0 :: else -> skip fi }; skipped = 1
     :: else -> skip
     fi
#else
     if
     :: a != seen && !r -> atomic { if :: seen != a -> seen = a :: else -> skip fi }; skipped = 1
     :: else -> skip
     fi
#endif
#endif
  :: else -> skip
  fi;
  if
  :: skipped -> skip
  :: else ->
     m = 0;
     detach(me);
     if
     :: seq != s -> skip
     :: timed -> skip
     fi;
     attach(me);
     lock(m, me)
  fi
}

/* ---- CPython's GIL ---------------------------------------------------------- */

inline compute_eval_breaker(t) {
  t = gdr;
  eb = t
}

inline take_gil(me, saved, s, a, r, t) {
  lock(gm, me);
  do
  :: !locked -> break
  :: locked ->
     saved = swn;
     cond_wait(gseq, gm, me, 1, 0, s, a, r);
     if
     :: locked && swn == saved -> gdr = 1; eb = 1 /* SET_GIL_DROP_REQUEST: a waiter's own */
     :: else -> skip
     fi
  od;
  lock(sm, me);
  locked = 1;
  if
  :: last_holder != me -> last_holder = me; swn++
  :: else -> skip
  fi;
  sseq++; /* COND_SIGNAL(switch_cond) */
  sm = 0;
  if
  :: gdr -> gdr = 0; compute_eval_breaker(t) /* RESET_GIL_DROP_REQUEST */
  :: else -> compute_eval_breaker(t)
  fi;
  gm = 0
}

inline drop_gil(me, s, a, r, t) {
  last_holder = me;
  lock(gm, me);
  locked = 0;
  gseq++; /* COND_SIGNAL(gil->cond) */
  gm = 0;
  if
  :: gdr ->
     lock(sm, me);
     if
     :: last_holder == me ->
        gdr = 0; compute_eval_breaker(t);
        cond_wait(sseq, sm, me, 0, 1, s, a, r)
     :: else -> skip
     fi;
     sm = 0
  :: else -> skip
  fi
}

/* The eval loop's checks while holding the GIL, then the thread's end: the
 * GIL released without a tstate (no switch wait), the slot freed. */
inline run_python(me, rounds, n, saved, s, a, r, t) {
  n = 0;
  do
  :: n < rounds ->
     if
     :: eb && gdr -> drop_gil(me, s, a, r, t); take_gil(me, saved, s, a, r, t)
     :: eb && !gdr -> compute_eval_breaker(t)
     :: !eb -> skip
     fi;
     n++
  :: else -> break
  od;
  lock(gm, me);
  locked = 0;
  gseq++;
  gm = 0;
  atomic { ST(st[me]) == ATT -> st[me] = FREE }
}

proctype holder() {
  byte n, saved, s, t, a; bit r, skipped;
  run_python(HH, ROUNDS, n, saved, s, a, r, t)
}

#ifdef WAITER
proctype waiter() {
  byte n, saved, s, t, a; bit r, skipped;
  take_gil(WW, saved, s, a, r, t);
  run_python(WW, 1, n, saved, s, a, r, t)
}
#endif

/* ---- the requester ------------------------------------------------------------ */

inline end_stop() {
  atomic {
    wstopped = 0;
    requested = 0;
    if :: st[HH] == SUS -> st[HH] = DET :: ST(st[HH]) == ATT -> st[HH] = ATT :: else -> skip fi;
    if :: st[WW] == SUS -> st[WW] = DET :: ST(st[WW]) == ATT -> st[WW] = ATT :: else -> skip fi
  };
#ifdef BUG_SIGNALLED
  if :: signalled -> sseq++ :: else -> skip fi;
  signalled = 0
#else
#ifndef BUG_NOWAKE
  sseq++ /* hooksWake: the guarded condition's wake word */
#endif
#endif
}

proctype requester() {
  byte n, pending, passes;
  do
  :: n < NSTOPS ->
     requested = 1;
     passes = 0;
     do
     :: passes == MAXPASS -> break /* the deadline, at the latest */
     :: passes < MAXPASS ->
        passes++;
        atomic {
          pending = 0;
          if :: st[HH] == DET -> st[HH] = SUS :: ST(st[HH]) == ATT -> st[HH] = st[HH] | STOPB; pending++ :: else -> skip fi;
          if :: st[WW] == DET -> st[WW] = SUS :: ST(st[WW]) == ATT -> st[WW] = st[WW] | STOPB; pending++ :: else -> skip fi
        };
        if
        :: pending > 0 -> /* hooksSignal: the guard's count, then the signal words */
#ifdef BUG_BOOL
           asked = 1;
#else
           tally++;
#endif
           gdr = 1; eb = 1; signalled = 1
        :: else ->
           wstopped = 1;
           assert(ST(st[HH]) != ATT && ST(st[WW]) != ATT);
           break
        fi
     :: break /* the deadline: abandon */
     od;
     end_stop();
     n++
  :: else -> break
  od
}

init {
  atomic {
    st[HH] = ATT;
    locked = 1;
    last_holder = HH;
#ifdef WAITER
    st[WW] = ATT;
#endif
    run holder();
#ifdef WAITER
    run waiter();
#endif
    run requester()
  }
}
