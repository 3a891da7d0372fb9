/* Model of the robust lock of assembly/locks.ts (the shared robust-lock
 * contract). Checked by tests/model.test.ts.
 *
 * What mirrors what:
 *   acquire      locks.ts lockAcquire, step, handleGone (the fast CAS 0 -> h;
 *                then: 0 -> CAS 0 -> h|WAITERS; set WAITERS by CAS; owner's
 *                slot gone -> CAS flagged -> h|WAITERS, E_OWNER_DEAD, wake all;
 *                else atomic.wait(word, flagged, -1) and step again)
 *   release      locks.ts lockRelease (inconsistent -> word NOTREC, wake all;
 *                else exchange 0 and wake one when WAITERS was set)
 *   consistent   locks.ts lockConsistent
 *   owner_gone   locks.ts locksOwnerGone, run by the host's mark_dead after
 *                the slot is DEAD: a word h|WAITERS becomes h (so a waiter
 *                about to sleep on it sees a new value); the words the dead
 *                thread held, and after a death every lock word, are woken.
 * Processes: three threads (handles 1..3) contend for one lock. Threads 1 and
 * 2 may each die (chosen at their start): holding the lock, asleep on it (a
 * terminated worker leaves the futex queue), or just woken, before they step
 * again. The host then runs mark_dead.
 *
 * Properties: mutual exclusion among live owners (ghost `holders`); no waiter
 * sleeps forever (an end state with a sleeper is invalid); a release after a
 * takeover without lock_consistent makes the lock not recoverable, and every
 * later acquire returns E_NOT_RECOVERABLE.
 *
 * Variants (spin -D), each rejected:
 *   NOTIFY_ONLY  mark_dead only wakes the word, without changing it, as the
 *                contract's words allow: a waiter that flagged the word and saw
 *                the owner alive sleeps on the unchanged value after the wake.
 *   BUG_D        seeded: mark_dead does not wake the lock word.
 */

#define WB 8              /* WAITERS (bit 31 in the code) */
#define NOTREC 4          /* a handle of generation 0: no thread has it */
#define OWNER(w) ((w) % WB)
#define A_WORD 1

#define OK 0
#define E_OWNER_DEAD (-18)
#define E_NOT_RECOVERABLE (-19)
#define BLOCKED 1

byte word;
bit dead[3];             /* slot state of thread t: DEAD, else live */
bit inconsistent;        /* LK_STATE */
bit notrec;              /* ghost: the lock became not recoverable */
byte holders;            /* ghost: live threads inside the critical section */
byte waitOn[3];          /* futex queue */

#define GONE(o) (dead[(o) - 1])

inline wake_all() {
  d_step {
    if :: waitOn[0] == A_WORD -> waitOn[0] = 0 :: else fi;
    if :: waitOn[1] == A_WORD -> waitOn[1] = 0 :: else fi;
    if :: waitOn[2] == A_WORD -> waitOn[2] = 0 :: else fi
  }
}

/* atomic.notify(word, 1): wakes one sleeper, any one */
inline wake_one() {
  atomic {
    if
    :: waitOn[0] == A_WORD -> waitOn[0] = 0
    :: waitOn[1] == A_WORD -> waitOn[1] = 0
    :: waitOn[2] == A_WORD -> waitOn[2] = 0
    :: else
    fi
  }
}

/* step: OK / E_OWNER_DEAD / E_NOT_RECOVERABLE, or BLOCKED with `flagged` */
inline step(rc) {
  do
  :: w = word;
     if
     :: w == 0 ->
        d_step { if :: word == 0 -> word = h + WB; ok = 1 :: else -> ok = 0 fi };
        if :: ok -> rc = OK; break :: else fi
     :: w == NOTREC || w == NOTREC + WB -> rc = E_NOT_RECOVERABLE; break
     :: else ->
        flagged = w;
        if
        :: w < WB ->
           d_step { if :: word == w -> word = w + WB; ok = 1 :: else -> ok = 0 fi };
           flagged = w + WB
        :: else -> ok = 1
        fi;
        if
        :: !ok   /* the word moved: load again */
        :: ok && GONE(OWNER(w)) ->
           d_step { if :: word == flagged -> word = h + WB; ok = 1 :: else -> ok = 0 fi };
           if
           :: ok -> d_step { inconsistent = 1 }; wake_all(); rc = E_OWNER_DEAD; break
           :: else
           fi
        :: ok && !GONE(OWNER(w)) -> rc = BLOCKED; break
        fi
     fi
  od
}

inline acquire(rc) {
  d_step { if :: word == 0 -> word = h; ok = 1 :: else -> ok = 0 fi };
  if
  :: ok -> rc = OK
  :: else ->
     do
     :: step(rc);
        if
        :: rc != BLOCKED -> break
        :: else ->
           /* atomic.wait(word, flagged, -1) */
           atomic {
             if
             :: word != flagged
             :: else -> waitOn[t] = A_WORD;
                if
                :: waitOn[t] == 0
                :: mayDie -> waitOn[t] = 0; gone = 1   /* dies asleep */
                fi
             fi
           };
           if
           :: gone -> break
           :: !gone && mayDie -> gone = 1; break      /* dies just woken */
           :: !gone -> skip
           fi
        fi
     od
  fi
}

inline release() {
  if
  :: inconsistent ->
     d_step { inconsistent = 0; word = NOTREC; notrec = 1 };
     wake_all()
  :: else ->
     d_step { w = word; word = 0 };
     if :: w & WB -> wake_one() :: else fi
  fi
}

/* mark_dead(h) by the host after thread t's last step */
inline mark_dead() {
  dead[t] = 1;
#ifdef NOTIFY_ONLY
  held = (OWNER(word) == h);
#else
  d_step {
    held = (OWNER(word) == h);
    if :: word == h + WB -> word = h :: else fi
  };
#endif
#ifndef BUG_D
  wake_all()
#endif
}

proctype thread(byte t; bit mayDie) {
  byte h, w, flagged; bit ok, gone, held; short rc;
  h = t + 1;
  if :: mayDie -> mayDie = 0 :: true fi;  /* a run where this thread dies, or not */
  acquire(rc);
  if
  :: gone -> goto died
  :: else
  fi;
  if
  :: rc == E_NOT_RECOVERABLE -> assert(notrec); goto finish
  :: rc == E_OWNER_DEAD -> assert(!notrec);
     if :: inconsistent = 0 :: skip fi  /* lock_consistent, or not */
  :: rc == OK -> assert(!notrec && !inconsistent)
  fi;
  d_step { holders++; assert(holders == 1) };
  if
  :: mayDie -> holders--; goto died
  :: else
  fi;
  holders--;
  release();
  goto finish;
died:
  mark_dead();
finish:
  skip
}

init {
  atomic {
    run thread(0, 1);
    run thread(1, 1);
    run thread(2, 0)
  }
}
