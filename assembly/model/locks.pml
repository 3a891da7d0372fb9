/* Model of the robust lock (the shared contract for assembly/locks.ts):
 *   lock word = 0 when free, else the owner's handle | WAITERS (bit 31);
 *   acquire   CAS 0 -> h (lockAcquire's fast path); the slow path loads the
 *             word: 0 -> CAS 0 -> h|WAITERS; owner's slot DEAD/FREE/another
 *             generation -> CAS old -> h|WAITERS and E_OWNER_DEAD (the lock
 *             is inconsistent); a live owner -> set WAITERS by CAS, then
 *             atomic.wait(word, value seen) and load again;
 *   release   inconsistent -> NOT_RECOVERABLE (word = a value no acquire
 *             takes, every waiter woken); else exchange 0 and notify one
 *             waiter when WAITERS was set (lockRelease);
 *   lock_consistent  the new owner repaired the state;
 *   mark_dead(h)     the slot becomes DEAD, then for each lock whose word
 *             names h: the word is rewritten to h's index with generation 0
 *             (a handle no slot ever has, WAITERS kept), and notified.
 * Processes: three threads (handles 1..3) contend for one lock; each may die
 * while holding it (the host then runs mark_dead) or while asleep on it
 * (a terminated worker leaves the futex queue).
 *
 * Properties: mutual exclusion among live owners (ghost `holders`); no
 * waiter sleeps forever (invalid end state: every sleeper needs a notify);
 * a release after a takeover without lock_consistent leaves the lock not
 * recoverable and every later acquire returns E_NOT_RECOVERABLE.
 *
 * Variants (spin -D):
 *   NOTIFY_ONLY  mark_dead only notifies the word, as the contract words it.
 *                Rejected: a waiter that saw the owner alive and then sleeps
 *                on the unchanged word misses the notify (lost wake-up).
 *   BUG_D        seeded: mark_dead rewrites the word but does not notify.
 */

#define NT 3
#define WB 8              /* WAITERS bit (bit 31 in the code) */
#define STALE 4           /* a handle of generation 0: never a live owner */
#define NOTREC 7          /* the word of a not-recoverable lock */
#define OWNER(w) ((w) % WB)
#define A_WORD 1

#define OK 0
#define E_OWNER_DEAD (-18)
#define E_NOT_RECOVERABLE (-19)

byte word;
bit dead[NT];            /* slot state of thread t: DEAD (else ATTACHED/DETACHED) */
bit inconsistent;        /* the lock was taken over and not marked consistent */
bit notrec;              /* ghost: the lock became not recoverable */
byte holders;            /* ghost: live threads inside the critical section */
byte waitOn[NT];         /* futex queue */

#define GONE(o) ((o) == STALE || dead[(o) - 1])

inline fnotify_all() {
  d_step {
    if :: waitOn[0] == A_WORD -> waitOn[0] = 0 :: else fi;
    if :: waitOn[1] == A_WORD -> waitOn[1] = 0 :: else fi;
    if :: waitOn[2] == A_WORD -> waitOn[2] = 0 :: else fi
  }
}

/* atomic.notify(word, 1): wakes one sleeper, any one */
inline fnotify_one() {
  atomic {
    if
    :: waitOn[0] == A_WORD -> waitOn[0] = 0
    :: waitOn[1] == A_WORD -> waitOn[1] = 0
    :: waitOn[2] == A_WORD -> waitOn[2] = 0
    :: else
    fi
  }
}

inline acquire(rc) {
  d_step { if :: word == 0 -> word = h; ok = 1 :: else -> ok = 0 fi };
  if
  :: ok -> rc = OK
  :: else ->
     do
     :: w = word;
        if
        :: w == NOTREC -> rc = E_NOT_RECOVERABLE; break
        :: w == 0 ->
           d_step { if :: word == 0 -> word = h + WB; ok = 1 :: else -> ok = 0 fi };
           if :: ok -> rc = OK; break :: else fi
        :: w != 0 && w != NOTREC ->
           if
           :: GONE(OWNER(w)) ->   /* the owner's slot: one load */
              d_step { if :: word == w -> word = h + WB; ok = 1 :: else -> ok = 0 fi };
              if :: ok -> rc = E_OWNER_DEAD; break :: else fi
           :: else ->
              if
              :: w < WB -> d_step { if :: word == w -> word = w + WB; ok = 1 :: else -> ok = 0 fi }
              :: else -> ok = 1
              fi;
              if
              :: ok ->
                 /* atomic.wait(word, w | WAITERS, -1); a dying sleeper leaves the queue */
                 atomic {
                   if
                   :: word != (w | WB)
                   :: else -> waitOn[t] = A_WORD;
                      if
                      :: waitOn[t] == 0
                      :: mayDie -> waitOn[t] = 0; gone = 1
                      fi
                   fi
                 };
                 if :: gone -> break :: else fi
              :: else
              fi
           fi
        fi
     od
  fi
}

inline release() {
  if
  :: inconsistent ->
     d_step { word = NOTREC; notrec = 1; inconsistent = 0 };
     fnotify_all()
  :: else ->
     d_step { w = word; word = 0 };
     if :: w & WB -> fnotify_one() :: else fi
  fi
}

/* run by the host after thread t's last step */
inline mark_dead() {
  dead[t] = 1;
#ifdef NOTIFY_ONLY
  if :: OWNER(word) == h -> fnotify_all() :: else fi
#else
  d_step { if :: word != NOTREC && OWNER(word) == h -> word = STALE + (word & WB); ok = 1 :: else -> ok = 0 fi };
#ifndef BUG_D
  if :: ok -> fnotify_all() :: else fi
#endif
#endif
}

proctype thread(byte t; bit mayDie) {
  byte h, w; bit ok, gone; short rc;
  h = t + 1;
  acquire(rc);
  if
  :: gone -> goto died
  :: else
  fi;
  if
  :: rc == E_NOT_RECOVERABLE -> assert(notrec); goto finish
  :: rc == E_OWNER_DEAD -> assert(!notrec);
     inconsistent = 1;
     if :: inconsistent = 0 :: skip fi  /* lock_consistent, or not */
  :: rc == OK -> assert(!notrec)
  fi;
  d_step { holders++; assert(holders == 1) };
  if
  :: mayDie -> holders--; goto died
  :: true
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
