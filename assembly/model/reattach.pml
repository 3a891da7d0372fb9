/* Model of the re-attach flag (slot +8) and the stop's back-off for it, as
 * assembly/*.ts implement them (docs/ABI.md "Fairness"). Checked by
 * tests/model.test.ts (spin -a, gcc, ./pan).
 *
 * What mirrors what (tests/model.test.ts checks that each cited function
 * still exists):
 *   attach            state.ts attach, attachSlow, reattached (block = true:
 *                     `attach`; block = false: `try_attach`, which the host's
 *                     attachAsync calls until it succeeds)
 *   detach, poll      state.ts detach, poll, suspendSelf
 *   back_off          world.ts beginStep, backingOff, pendingReattach
 *   stop, start       world.ts stop, parkPass, restorePass
 * Processes: the requester R (its own slot stays ATTACHED) makes NSTOPS
 * blocking stops, each begun by the back-off, and starts the world after
 * each; the owner T (its slot starts DETACHED) attaches ROUNDS times, each
 * time by `try_attach` retried on E_WOULD_BLOCK or by a blocking `attach`,
 * polls once and detaches. A clock may end R's back-off at any moment (its
 * 2 ms bound).
 *
 * Abstractions: one owner and one requester (the flag is per slot, so more
 * owners add nothing but interleavings); the stop's exclusion word is left
 * out (one requester); a futex wait on a slot word is a guard on the word
 * having changed, for every wait here is followed by a notify of that word
 * (restorePass resumes and notifies; reattached notifies).
 *
 * Properties:
 *   - the flag is set only while its owner is inside an attach that has not
 *     yet succeeded (ghost `inAttach`: from the first try until it returns
 *     OK): every successful attach path clears it;
 *   - bounded back-off: a stop's back-off waits only for a thread that is on
 *     its way back (inside attach); it ends as soon as no slot is DETACHED
 *     with the flag set, or at its bound; when the bound ends it, the thread
 *     it waited for was really re-attaching.
 * Seeded bug (spin -DBUG_R), rejected:
 *   BUG_R  attach's fast path (an uncontended DETACHED → ATTACHED CAS) returns
 *          without clearing the flag, so a try_attach refused once leaves it
 *          set and every later stop waits out its whole back-off
 */

#ifndef ROUNDS
#define ROUNDS 3
#endif
#ifndef NSTOPS
#define NSTOPS 3
#endif

#define DET 2
#define ATT 3
#define SUS 4
#define STOPB 16
#define ST(w) ((w) & 15)

#define OK 0
#define E_WOULD_BLOCK (-3)

byte t = DET;      /* T's slot word (one generation: T never re-registers) */
bit flag;          /* T's SL_REATTACH */
bit inAttach;      /* ghost: T is inside an attach that has not succeeded yet */
bit inBackoff;     /* R is in its back-off (the clock runs) */
bit dl;            /* R's back-off bound has passed */
bit tDone;

/* One attach call: the fast path, then attachSlow. rc = OK or E_WOULD_BLOCK
 * (only when !block). */
inline attach(block, rc) {
  atomic {
    if
    :: t == DET -> t = ATT;
#ifndef BUG_R
       flag = 0;  /* reattached */
#endif
       rc = OK
    :: t != DET -> rc = 1  /* the slow path */
    fi
  };
  do
  :: rc == OK -> break
  :: rc == E_WOULD_BLOCK -> break
  :: rc != OK && rc != E_WOULD_BLOCK ->
     atomic {
       if
       :: t == DET -> t = ATT; flag = 0; rc = OK  /* reattached */
       :: t == SUS -> flag = 1;
          if
          :: !block -> rc = E_WOULD_BLOCK
          :: else -> (t != SUS)  /* atomic.wait on the word: start resumes and notifies */
          fi
       fi
     }
  od
}

/* The host's attachAsync, or a blocking attach: one attach operation. */
inline attach_op(rc) {
  inAttach = 1;
  if
  :: do
     :: attach(0, rc);
        if
        :: rc == OK -> break
        :: rc != OK -> (t != SUS)  /* waitAsync on the slot word */
        fi
     od
  :: attach(1, rc)
  fi;
  assert(rc == OK);
  inAttach = 0
}

inline suspend_self() {
  atomic { t == ATT + STOPB -> t = SUS }
}

proctype owner() {
  byte n; short rc;
  do
  :: n < ROUNDS ->
     attach_op(rc);
     /* poll: suspends at a pending stop, then attaches again (blocking) */
     if
     :: atomic { t == ATT + STOPB -> t = SUS };
        inAttach = 1; attach(1, rc); assert(rc == OK); inAttach = 0
     :: atomic { t == ATT -> skip }
     fi;
     /* detach: suspends instead while a stop is pending */
     atomic {
       if
       :: t == ATT -> t = DET
       :: t == ATT + STOPB -> t = SUS
       fi
     };
     n++
  :: else -> break
  od;
  tDone = 1
}

proctype requester() {
  byte n;
  do
  :: n < NSTOPS ->
     /* back_off: wait, bounded, while T is DETACHED with the flag set */
     inBackoff = 1;
     do
     :: atomic { !(ST(t) == DET && flag) -> break }
     :: atomic { ST(t) == DET && flag && dl ->
          assert(inAttach);  /* the whole back-off spent on a thread not on its way back */
          break }
     od;
     atomic { inBackoff = 0; dl = 0 };
     /* stop: park a DETACHED T, ask an ATTACHED one, until T is SUSPENDED */
     do
     :: atomic { t == DET -> t = SUS }
     :: atomic { t == ATT -> t = ATT + STOPB }
     :: atomic { t == SUS -> break }
     od;
     /* start: resume (and notify) */
     atomic { t == SUS -> t = DET };
     n++
  :: else -> break
  od
}

active proctype clock() {
end:
  do
  :: atomic { inBackoff && !dl -> dl = 1 }
  od
}

/* the flag is set only inside an attach that has not succeeded yet
 * (-DNO_FLAG_MONITOR leaves it out, to show the back-off check alone) */
#ifndef NO_FLAG_MONITOR
active proctype monitor() {
end:
  atomic { flag && !inAttach -> assert(false) }
}
#endif

init {
  atomic {
    run owner();
    run requester()
  }
}
