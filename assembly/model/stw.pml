/* Model of the slot-word protocol and stop-the-world, as assembly/*.ts
 * implement them. Checked by tests/model.test.ts (spin -a, gcc, ./pan).
 *
 * What mirrors what (inline = the function of assembly/*.ts it models;
 * tests/model.test.ts checks that each cited function still exists):
 *   cas, store_slot   every write of a slot word, checked against the mover
 *                     table in the header comment of state.ts
 *   attach            state.ts attach, attachSlow (block = true)
 *   detach            state.ts detach, detachSlow
 *   suspend_self      state.ts suspendSelf
 *   poll              state.ts poll, pollSlow
 *   check_handle      state.ts checkHandle (the slot-word part)
 *   register          registry.ts register, claim
 *   unregister        registry.ts unregister
 *   mark_dead         registry.ts markDead (run by the host after the thread
 *                     took its last step)
 *   stop              world.ts stop, stopArm, stopTryBegin, beginStep,
 *                     stopWaitAddr, stopStep, reattachedWith
 *   stop_try_begin    world.ts beginStep, waitDetached (armed); try_attach
 *                     is state.ts attach with block = false
 *   park_pass         world.ts parkPass
 *   restore_pass      world.ts restorePass
 *   release_world     world.ts releaseWorld, start
 *   abandon_world     world.ts abandonWorld, stopAbandon (the deadline path)
 * Processes: R1 (slot 0) and R2 (slot 1) are attached threads that each call
 * stop, then start when it returned 0, then detach; T1 (slot 2, left out with
 * -DNO_T1) attaches, polls and detaches OWNER_ROUNDS times; T2 registers (slot
 * 3 is FREE; it may reuse slot 2 after T1 unregistered), runs one round and
 * unregisters. With -DDEATH (the default; -DNODEATH drops it) R1 may die
 * mid-stop and T2 at its protocol points, asleep in attach included; the host
 * then calls mark_dead (and unregister, to reap T2's slot). Smaller
 * configurations for the liveness run: -DONE_REQUESTER makes R2 a thread that
 * attaches, polls and detaches once instead of stopping; -DNO_REGISTRANT leaves
 * T2 out.
 *
 * Abstractions: a generation is 2 bits (1..3, wrapping as nextGen does); the
 * suspend epoch is only compared with the value the requester read, so it is
 * one bit per requester: "bumped since read"; time is the clock process
 * setting "deadline passed" for a stop in progress; a spin-then-wait loop is
 * its futex wait (the spin only shortens it); a wait with a timeout may return
 * at any moment, which the model takes as returning at once. A CAS-retry loop
 * iteration (load, decide, CAS) is one step: a CAS that fails on a value
 * changed after the load writes nothing, so the split version only adds
 * stuttering steps (the blind store of BUG_B keeps its load separate).
 * The futex: atomic.wait compares and enqueues in one step and then sleeps
 * until a notify of that address (waits without a timeout), as Atomics.wait,
 * which has no spurious wake-ups.
 *
 * Properties:
 *   - mover table: every write of a slot word is a transition its writer may
 *     make (old value -> new value in the writer's row), checked on the value
 *     actually replaced; a CAS's expected value must also be in the row.
 *     One row is the model's addition: unregister also moves DEAD -> FREE
 *     (reaping a dead thread's slot), which registry.ts does and the table in
 *     state.ts does not list.
 *   - stopped world: while W_STOPPED = 1 and W_REQUESTED = 1 (from `stop`
 *     returning 0 until `start`) no slot but the requester's is ATTACHED or
 *     DETACHED, so `stop` returning 0 means none is ATTACHED.
 *   - no lost wake-up: waits without timeout block until notified (an end
 *     state with a sleeper is an invalid end state); the requester never goes
 *     to sleep on the epoch when a thread has settled since its last pass
 *     began (ghost `settled`), which would cost it a whole slice.
 *   - progress (ltl `finish`, with weak fairness): every process finishes its
 *     script: every stop ends (stopped or timed out), every resumed thread runs.
 * Seeded bugs (spin -DBUG_A etc.), each must be rejected:
 *   BUG_A  start resumes before clearing W_REQUESTED
 *   BUG_E  start clears W_REQUESTED before W_STOPPED (is_stopped() reads 1 while
 *          a thread that registered in between runs)
 *   BUG_B  detach's fast path stores DETACHED blindly after a load
 *   BUG_C  the requester reads the epoch after the pass
 */

#ifndef NODEATH
#define DEATH 1
#endif

#ifndef OWNER_ROUNDS
#define OWNER_ROUNDS 2 /* T1's attach/poll/detach rounds */
#endif

#define NS 4          /* slots */
#define NP 4          /* processes that may sleep on a futex */

/* slot word: state bits 0..3, STOP bit 4, generation bits 5..6 */
#define FREE 0
#define REG 1
#define DET 2
#define ATT 3
#define SUS 4
#define DEAD 5
#define STOPB 16
#define ST(w)   ((w) & 15)
#define GEN(w)  ((w) / 32)
#define MK(g,s) ((g) * 32 + (s))
#define NEXTG(w) (GEN(w) >= 3 -> 1 : GEN(w) + 1)
/* handle = generation << 3 | index (index < 8, generation >= 1: never 0) */
#define HND(g,i) ((g) * 8 + (i))

/* futex addresses */
#define A_SLOT(j) ((j) + 1)
#define A_EPOCH (NS + 1)
#define A_EXCL  (NS + 2)

/* results */
#define OK 0
#define E_STALE (-1)
#define E_STATE (-2)
#define E_WOULD_BLOCK (-3)
#define E_ALREADY (-4)
#define E_BUSY (-5)
#define E_TIMEOUT (-6)

/* movers and the table of state.ts: (old state|STOP) -> (new state|STOP) */
#define OWNER 0
#define REQ 1
#define REGT 2
#define HOST 3
#define SAMEGEN(e,n) (GEN(e) == GEN(n))
#define LIVE(s) ((s) == REG || (s) == DET || (s) == ATT || (s) == SUS)
#define T(e,n,a,b) ((e) % 32 == (a) && (n) % 32 == (b))
#define ALLOWED(mv,e,n) ( \
  (mv == OWNER && SAMEGEN(e,n) && (T(e,n,DET,ATT) || T(e,n,ATT,DET) || \
      T(e,n,ATT+STOPB,SUS) || T(e,n,DET,FREE) || T(e,n,DEAD,FREE))) || \
  (mv == REQ && SAMEGEN(e,n) && (T(e,n,ATT,ATT+STOPB) || T(e,n,ATT+STOPB,ATT) || \
      T(e,n,DET,SUS) || T(e,n,SUS,DET))) || \
  (mv == REGT && ((((e) % 32 == FREE || (e) % 32 == DEAD) && (n) % 32 == REG) || \
      (SAMEGEN(e,n) && (T(e,n,REG,DET) || T(e,n,REG,SUS))))) || \
  (mv == HOST && SAMEGEN(e,n) && LIVE((e) % 32) && ((e) & STOPB) == 0 && (n) % 32 == DEAD) || \
  (mv == HOST && SAMEGEN(e,n) && T(e,n,ATT+STOPB,DEAD)) )

byte slot[NS];
byte excl;            /* W_EXCLUSION: the requester's handle, 0 when free */
bit requested;        /* W_REQUESTED */
bit stopped;          /* W_STOPPED */
bit bumped[2];        /* W_SUSPEND_EPOCH != the value requester r last read */
byte waitOn[NP];      /* futex queue: the address each process sleeps on */
bit inStop[2];        /* requester r is inside stop() (its clock runs) */
bit dl[2];            /* requester r's deadline has passed */
bit settled;          /* ghost: the epoch was bumped since the current pass began */
byte done;            /* processes that finished their script */
bit deadR1;           /* ghost: R1 died */

/* ---- primitives ---------------------------------------------------------- */

inline cas(j, e, n, mv, ok) {
  d_step {
    assert(ALLOWED(mv, e, n));
    if
    :: slot[j] == e -> slot[j] = n; ok = 1
    :: else -> ok = 0
    fi
  }
}

/* A plain store, for the seeded blind-store bug: checked on the value it replaces. */
inline store_slot(j, n, mv) {
  d_step { assert(ALLOWED(mv, slot[j], n)); slot[j] = n }
}

/* atomic.wait(a, v, -1): compare and enqueue atomically, then sleep until notified. */
inline fwait(me, a, cur, v) {
  atomic {
    if
    :: cur != v
    :: else -> waitOn[me] = a; waitOn[me] == 0
    fi
  }
}

/* The same wait where the thread may die asleep (a terminated worker leaves
 * the futex queue). Only a run in which T2 chose at its start to die some time
 * takes that branch, so a sleeper that nobody wakes still shows as an invalid
 * end state in the runs where nobody dies. */
#ifdef DEATH
inline fwait_or_die(me, a, cur, v) {
  atomic {
    if
    :: cur != v
    :: else -> waitOn[me] = a;
       if
       :: waitOn[me] == 0
       :: mayDie -> waitOn[me] = 0; goto died
       fi
    fi
  }
}
#else
#define fwait_or_die(me, a, cur, v) fwait(me, a, cur, v)
#endif

/* atomic.wait with a timeout: returns at once on a changed value, otherwise
 * whenever (notified or timed out); returning at once covers every case. */
inline fwait_t(cur, v) {
  skip
}

inline fnotify(a) {
  d_step {
    k = 0;
    do
    :: k < NP -> if :: waitOn[k] == a -> waitOn[k] = 0 :: else fi; k++
    :: else -> k = 0; break
    od
  }
}

inline bump_epoch() {
  d_step { bumped[0] = 1; bumped[1] = 1; settled = 1 };
  fnotify(A_EPOCH)
}

/* ---- owner side (state.ts) ----------------------------------------------- */

/* checkHandle for the host's calls; a live owner's own handle always passes
 * it (only the owner frees its slot, the host marks it dead only after its
 * last step), so the owner paths leave this read out. */
inline check_handle(rc) {
  d_step {
    rc = ((GEN(slot[i]) != g || ST(slot[i]) == FREE) -> E_STALE : OK)
  }
}
#define OWN_CHECK(rc) rc = OK

inline suspend_self(ss) {
  do
  :: atomic { w = slot[i];
     if
     :: w != MK(g, ATT) + STOPB -> ss = 0; break
     :: else -> cas(i, w, MK(g, SUS), OWNER, ok); if :: ok -> ss = 1; break :: else fi
     fi }
  od;
  if :: ss -> bump_epoch() :: else fi
}

inline attach(rc) {
  cas(i, MK(g, DET), MK(g, ATT), OWNER, ok);
  if
  :: ok -> rc = OK
  :: else ->
     OWN_CHECK(rc);
     if
     :: rc != OK
     :: else ->
        do
        :: atomic { w = slot[i];
           if
           :: GEN(w) != g -> rc = E_STALE; break
           :: GEN(w) == g && ST(w) == DET ->
              cas(i, w, MK(g, ATT), OWNER, ok); if :: ok -> rc = OK; break :: else fi
           :: GEN(w) == g && ST(w) == SUS -> fwait_or_die(me, A_SLOT(i), slot[i], w)
           :: GEN(w) == g && ST(w) != DET && ST(w) != SUS ->
              rc = (ST(w) == FREE -> E_STALE : E_STATE); break
           fi }
        od
     fi
  fi
}

inline detach(rc) {
#ifdef BUG_B
  /* seeded: load, then a blind store (the STOP a requester set in between is lost) */
  if
  :: slot[i] == MK(g, ATT) -> store_slot(i, MK(g, DET), OWNER); ok = 1
  :: else -> ok = 0
  fi;
#else
  cas(i, MK(g, ATT), MK(g, DET), OWNER, ok);
#endif
  if
  :: ok -> rc = OK
  :: else ->
     OWN_CHECK(rc);
     if
     :: rc != OK
     :: else ->
        do
        :: atomic { w = slot[i];
           if
           :: GEN(w) != g -> rc = E_STALE; break
           :: w == MK(g, ATT) + STOPB -> suspend_self(ss); if :: ss -> rc = OK; break :: else fi
           :: w == MK(g, ATT) -> cas(i, w, MK(g, DET), OWNER, ok); if :: ok -> rc = OK; break :: else fi
           :: else -> rc = E_STATE; break
           fi }
        od
     fi
  fi
}

inline poll(rc) {
  if
  :: slot[i] == MK(g, ATT) -> rc = OK
  :: else ->
     OWN_CHECK(rc);
     if
     :: rc != OK
     :: else ->
        w = slot[i];
        if
        :: GEN(w) != g -> rc = E_STALE
        :: w == MK(g, ATT) -> rc = OK
        :: w != MK(g, ATT) + STOPB && w != MK(g, ATT) && GEN(w) == g -> rc = E_STATE
        :: w == MK(g, ATT) + STOPB ->
           suspend_self(ss);
           if
           :: !ss -> rc = OK
           :: else -> attach(rc); rc = (rc < 0 -> rc : 1)
           fi
        fi
     fi
  fi
}

/* ---- registry.ts ---------------------------------------------------------- */

inline claim(j, from) {
  do
  :: atomic { w = slot[j];
     if
     :: ST(w) != from -> g = 0; break
     :: else -> g = NEXTG(w); cas(j, w, MK(g, REG), REGT, ok); if :: ok -> break :: else fi
     fi }
  od
}

inline register(rc) {
  rc = E_BUSY;  /* E_FULL */
  pass = 0;
  do
  :: pass < 2 && rc != OK ->
     j = 0;
     do
     :: j < NS -> claim(j, (pass == 0 -> FREE : DEAD)); if :: g != 0 -> i = j; rc = OK; break :: else -> j++ fi
     :: else -> break
     od;
     pass++
  :: else -> break
  od;
  if
  :: rc == OK ->
     stopping = requested;
     cas(i, MK(g, REG), MK(g, (stopping -> SUS : DET)), REGT, ok);
     fnotify(A_SLOT(i));
     if :: stopping -> bump_epoch() :: else fi
  :: else
  fi
}

inline unregister(rc) {
  OWN_CHECK(rc);
  if
  :: rc != OK
  :: else ->
     do
     :: atomic { w = slot[i];
        if
        :: GEN(w) != g -> rc = E_STALE; break
        :: GEN(w) == g && (ST(w) == DET || ST(w) == DEAD) ->
           cas(i, w, MK(g, FREE), OWNER, ok); if :: ok -> rc = OK; break :: else fi
        :: GEN(w) == g && ST(w) == SUS -> fwait(me, A_SLOT(i), slot[i], w)
        :: GEN(w) == g && ST(w) != DET && ST(w) != DEAD && ST(w) != SUS -> rc = E_STATE; break
        fi }
     od
  fi
}

/* Run by the host once the thread behind (g, i) takes no more steps. */
inline mark_dead(rc) {
  check_handle(rc);
  if
  :: rc != OK
  :: else ->
     do
     :: atomic { w = slot[i];
        if
        :: GEN(w) != g -> rc = E_STALE; break
        :: GEN(w) == g && ST(w) == DEAD -> rc = OK; goto md_done
        :: GEN(w) == g && ST(w) != DEAD ->
           cas(i, w, MK(g, DEAD), HOST, ok); if :: ok -> rc = OK; break :: else fi
        fi }
     od;
     if
     :: rc == OK ->
        fnotify(A_SLOT(i));
        if :: excl == HND(g, i) -> abandon_world() :: else fi;
        bump_epoch()
     :: else
     fi
  fi;
md_done:
  skip
}

/* ---- world.ts -------------------------------------------------------------- */

inline park_pass(pend) {
  settled = 0;  /* ghost: the pass begins */
  pend = 0; j = 0;
  do
  :: j < NS ->
     if
     :: j == i
     :: else ->
        do
        :: atomic { w = slot[j];
           if
           :: ST(w) == DET -> cas(j, w, MK(GEN(w), SUS), REQ, ok); if :: ok -> break :: else fi
           :: ST(w) == ATT && (w & STOPB) -> pend++; break
           :: ST(w) == ATT && !(w & STOPB) ->
              cas(j, w, w + STOPB, REQ, ok); if :: ok -> pend++; break :: else fi
           :: ST(w) == REG -> pend++; break
           :: else -> break  /* FREE, DEAD, SUSPENDED */
           fi }
        od
     fi;
     j++
  :: else -> break
  od
}

inline restore_pass() {
  j = 0;
  do
  :: j < NS ->
     if
     :: j == i
     :: else ->
        do
        :: atomic { w = slot[j];
           if
           :: ST(w) == SUS ->
              cas(j, w, MK(GEN(w), DET), REQ, ok); if :: ok -> ss = 1; break :: else fi
           :: ST(w) == ATT && (w & STOPB) ->
              cas(j, w, w - STOPB, REQ, ok); if :: ok -> break :: else fi
           :: ST(w) == REG -> fwait_t(slot[j], w)  /* waits out the registrant, a slice at a time */
           :: else -> break
           fi }
        od;
        if :: ss -> ss = 0; fnotify(A_SLOT(j)) :: else fi  /* after the CAS, as its own step */
     fi;
     j++
  :: else -> break
  od
}

inline release_world() {
#ifdef BUG_A
  /* seeded: resume first, clear the request after */
  stopped = 0;
  restore_pass();
  requested = 0;
#elif defined(BUG_E)
  /* seeded: the request cleared before the stopped flag */
  requested = 0;
  stopped = 0;
  restore_pass();
#else
  stopped = 0;
  requested = 0;
  restore_pass();
#endif
  excl = 0;
  fnotify(A_EXCL)
}

/* the stragglers are only read (into STRAGGLERS); the restore is release_world's */
inline abandon_world() {
  release_world()
}

inline stop_try_begin(rc) {
  OWN_CHECK(rc);
  if
  :: rc != OK
  :: else ->
     /* armed: a caller that waited detached comes back first, without blocking */
     if
     :: ST(slot[i]) != ATT ->
        try_attach(rc);
        if :: rc == E_WOULD_BLOCK && dl[r] -> rc = E_BUSY :: else fi
     :: else
     fi;
     if
     :: rc != OK
     :: else ->
        if
        :: slot[i] & STOPB -> wait_detached(rc)
        :: else ->
           d_step {
             prev = excl;
             if :: excl == 0 -> excl = HND(g, i) :: else fi
           };
           if
           :: prev == HND(g, i) -> rc = E_ALREADY
           :: prev != 0 && prev != HND(g, i) -> wait_detached(rc)
           :: prev == 0 -> requested = 1; rc = OK
           fi
        fi
     fi
  fi
}

/* world.ts waitDetached: at the deadline E_BUSY, else detached (so the stop
 * it waits for can park it) and E_WOULD_BLOCK */
inline wait_detached(rc) {
  if
  :: dl[r] -> rc = E_BUSY
  :: else ->
     detach(rc);
     if :: rc == OK -> rc = E_WOULD_BLOCK :: else fi
  fi
}

/* state.ts attach with block = false (try_attach) */
inline try_attach(rc) {
  atomic { w = slot[i];
    if
    :: GEN(w) != g -> rc = E_STALE
    :: GEN(w) == g && ST(w) == DET -> cas(i, w, MK(g, ATT), OWNER, ok); rc = (ok -> OK : E_WOULD_BLOCK)
    :: GEN(w) == g && ST(w) == SUS -> rc = E_WOULD_BLOCK
    :: GEN(w) == g && ST(w) != DET && ST(w) != SUS -> rc = (ST(w) == FREE -> E_STALE : E_STATE)
    fi }
}


/* A death point of the requester: the host then runs mark_dead for it. */
#ifdef DEATH
#define R_MAY_DIE if :: r == 0 -> goto died :: true fi
#else
#define R_MAY_DIE skip
#endif

inline stop(rc) {
  d_step { dl[r] = 0; inStop[r] = 1 };
  /* stop_arm, then the steps: no step blocks; between them the requester
   * waits (bounded) on the word stop_wait_addr names */
  do
  :: stop_try_begin(rc);
     if
     :: rc == OK -> break
     :: rc == E_WOULD_BLOCK -> fwait_t(excl, excl)
     :: rc != OK && rc != E_WOULD_BLOCK ->
        /* reattachedWith: the answer is decided; a parked caller re-attaches */
        if :: ST(slot[i]) != ATT -> attach(rc2); assert(rc2 == OK) :: else fi;
        goto stop_end
     fi
  od;
  R_MAY_DIE;
  do
  ::
#ifndef BUG_C
     bumped[r] = 0;  /* seen = epoch */
#endif
     /* stopStep */
     if
     :: stopped -> pend = 0
     :: else ->
        park_pass(pend);
        if :: pend == 0 -> stopped = 1 :: else fi
     fi;
     if
     :: pend == 0 -> rc = OK; break
     :: else
     fi;
     R_MAY_DIE;
     if
     :: dl[r] -> abandon_world(); rc = E_TIMEOUT; break
     :: else
     fi;
#ifdef BUG_C
     bumped[r] = 0;  /* seeded: seen = epoch after the pass */
#endif
     /* spin, then atomic.wait(epoch, seen, slice): sleeps only on an unchanged epoch */
     atomic {
       if
       :: bumped[r]
       :: else -> assert(!settled)  /* asleep, though a thread settled since the pass began */
       fi
     }
  od;
stop_end:
  skip;
  d_step { inStop[r] = 0; dl[r] = 0 }
}

/* ---- the processes ------------------------------------------------------- */

#define LOCALS byte i, g, w, k, j, pass, ss, holder, prev, pend; bit ok, stopping; short rc, rc2

proctype requester(byte me; byte r) {
  LOCALS; bit mayDie;
  i = r; g = 1;
  stop(rc);
  if
  :: rc == OK ->
     R_MAY_DIE;
     /* start */
     assert(excl == HND(g, i));
     release_world()
  :: else
  fi;
  detach(rc);
  assert(rc == OK);
  goto finish;
died:
  skip;
  d_step { deadR1 = 1; waitOn[me] = 0 };
  mark_dead(rc);
  assert(excl != HND(g, i));
finish:
  done++
}

/* An owner that attaches, polls and detaches, `rounds` times. */
#ifdef DEATH
#define T_MAY_DIE if :: mayDie -> goto died :: true fi
#else
#define T_MAY_DIE skip
#endif

proctype owner(byte me; byte idx; bit mayDie; bit registers; byte rounds) {
  LOCALS; byte n;
#ifdef DEATH
  if :: mayDie -> mayDie = 0 :: true fi;  /* this run is one where the thread dies, or not */
#else
  mayDie = 0;
#endif
  if
  :: registers -> register(rc); assert(rc == OK)
  :: else -> i = idx; g = 1
  fi;
  do
  :: n < rounds ->
     T_MAY_DIE;
     attach(rc); assert(rc == OK);
     T_MAY_DIE;
     poll(rc); assert(rc >= 0);
     detach(rc); assert(rc == OK);
     n++
  :: else -> break
  od;
  T_MAY_DIE;
  unregister(rc); assert(rc == OK);
  goto finish;
died:
  waitOn[me] = 0;  /* a dead thread sleeps on nothing */
  mark_dead(rc); assert(rc == OK);
  unregister(rc); assert(rc == OK);  /* the host reaps the slot */
finish:
  done++
}

active proctype clock() {
end:
  do
  :: atomic { inStop[0] && !dl[0] -> dl[0] = 1 }
  :: atomic { inStop[1] && !dl[1] -> dl[1] = 1 }
  od
}

/* stopped world: while W_STOPPED reads 1 (is_stopped()), no slot but the
 * requester's is ATTACHED or DETACHED. releaseWorld clears W_STOPPED before
 * W_REQUESTED: in the other order a thread that registers between the two
 * stores runs while is_stopped() still reads 1. */
#define REQIDX (excl % 8)
#define RUNS(j) ((ST(slot[j]) == ATT || ST(slot[j]) == DET) && j != REQIDX)
active proctype monitor() {
end:
  atomic {
    stopped && (excl == 0 || RUNS(0) || RUNS(1) || RUNS(2) || RUNS(3)) ->
    assert(false)
  }
}

init {
  atomic {
    slot[0] = MK(1, ATT);
    slot[3] = MK(0, FREE);
    run requester(0, 0);
#ifdef ONE_REQUESTER
    slot[1] = MK(1, DET);
    run owner(1, 1, 0, 0, 1);
#else
    slot[1] = MK(1, ATT);
    run requester(1, 1);
#endif
#ifdef NO_T1
    slot[2] = MK(0, FREE);
#else
    slot[2] = MK(1, DET);
    run owner(2, 2, 0, 0, OWNER_ROUNDS);
#endif
#ifndef NO_REGISTRANT
    run owner(3, 3, 1, 1, 1)
#endif
  }
}

#ifdef NO_T1
#define NWORK_T 3
#else
#define NWORK_T 4
#endif
#ifdef NO_REGISTRANT
#define NWORK (NWORK_T - 1)
#else
#define NWORK NWORK_T
#endif
ltl finish { <> (done == NWORK) }
