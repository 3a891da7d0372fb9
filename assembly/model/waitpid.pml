/* Model of the fork process table's waitpid hand-off: one entry of the table
 * as host/fork/protocol.ts implements it, a fork server that claims it for a
 * child, records the child's exit (or releases an entry never acknowledged)
 * and may claim it again for the next child, and waiters racing for the first
 * child. Checked by tests/model-waitpid.test.ts (spin -a, gcc, ./pan).
 *
 * What mirrors what (tests/model-waitpid.test.ts checks that each cited
 * function still exists):
 *   server            protocol.ts procClaim, procExited, procRelease
 *   waiter            protocol.ts procFind, procReap
 *                     client.ts waitpid (its loop: a generator the blocking
 *                     and the async runner share; a `wait` step is one futex
 *                     wait on the tag word)
 * Processes: the server S claims the entry for child A, then either records
 * A's exit (status SA) or releases the entry (a child never acknowledged),
 * and may claim the freed entry for child B and record B's exit (status SB).
 * Three waiters of A start once A's pid is known (the fork returned it): two
 * blocking, one that first polls with noHang and then blocks.
 *
 * Abstractions: the entry's tag word is generation * 4 + state (generations 1
 * and 2 are all two claims reach); a futex wait on the tag word returns when
 * the word differs from the value it was given, or at any moment (its time
 * slice), which covers every wake-up.
 *
 * Properties:
 *   - a waiter's status is its own child's: the entry it reaps is A's, and
 *     the status it returns is SA; at most one waiter gets it;
 *   - E_CHILD only once A's entry is gone (reaped by another waiter, or
 *     released): a waiter never answers E_CHILD for a child still unreaped;
 *   - nobody waits past the exit: a waiter goes (back) to sleep only on a
 *     look that found A unreaped; a noHang poll answers "running" only on a
 *     look that found A running;
 *   - at the end, when A exited, exactly one waiter got its status and every
 *     other answered E_CHILD;
 *   - progress (ltl `finish`, with weak fairness): every waiter returns.
 * Seeded bugs (spin -DBUG_x), each rejected:
 *   BUG_W  the waiter keeps waiting until the entry reads EXITED and reaps by
 *          a CAS on whatever it then holds (the loop before this protocol): a
 *          waiter that lost the reap finds the entry FREE and waits forever
 *          on a word that will never again hold what it waits for (a spin:
 *          the hang of two waitpidAsync on one child), or, once the entry is
 *          reused, reaps the next child's status
 *   BUG_G  procReap ignores the generation: a waiter asleep while another
 *          reaped A and the entry was reused reaps B
 *   BUG_C  procClaim publishes RUNNING before the pid (no CLAIMING): a late
 *          waiter reads A's stale pid beside B's RUNNING tag and takes B for A
 */

#define FREE 0
#define RUNNING 1
#define EXITED 2
#define CLAIMING 3
#define ST(t) ((t) & 3)
#define GEN(t) ((t) / 4)
#define WITH(t, s) (GEN(t) * 4 + (s))

#define A 1
#define B 2
#define SA 6
#define SB 9
#define NW 3

byte pidw;     /* the entry's pid word */
byte tag;      /* generation * 4 + state */
byte status;   /* the status word */

bit ackedA;    /* ghost: the fork of A returned (its waiters may start) */
bit exitedA;   /* ghost: A's exit was recorded */
bit releasedA; /* ghost: A's entry was released, never acknowledged */
bit reapedA;   /* ghost: a waiter reaped A's entry */
byte gotA;     /* ghost: waiters that returned a status */
byte echild;   /* ghost: waiters that answered E_CHILD */
byte done;
bit sDone;

/* procClaim: FREE → CLAIMING (next generation) → pid → RUNNING */
inline claim(child) {
#ifdef BUG_C
  atomic { ST(tag) == FREE -> tag = (GEN(tag) + 1) * 4 + RUNNING };
  pidw = child;
#else
  atomic { ST(tag) == FREE -> tag = (GEN(tag) + 1) * 4 + CLAIMING };
  pidw = child;
  tag = WITH(tag, RUNNING);
#endif
}

active proctype S() {
  claim(A);
  ackedA = 1;
  if
  :: status = SA;   /* procExited: the status first, then the tag */
     atomic { tag = WITH(tag, EXITED); exitedA = 1 }
  :: atomic { tag = WITH(tag, FREE); releasedA = 1 }  /* procRelease */
  fi;
  if
#ifndef NO_REUSE
  :: claim(B);       /* the entry reused, once some waiter freed it */
     status = SB;
     tag = WITH(tag, EXITED)
#endif
  :: skip
  fi;
  sDone = 1
}

proctype W(bit noHang) {
  byte t, t2, p, e, s;
  bit polling = noHang;
  ackedA;
  /* procFind: tag, pid, tag again; both tags equal and RUNNING or EXITED */
find:
  atomic {
    t = tag;
    if
    :: ST(t) != RUNNING && ST(t) != EXITED ->
       assert(reapedA || releasedA);  /* E_CHILD only for a child gone */
       echild++; goto out
    :: else
    fi
  };
  p = pidw;
  t2 = tag;
  if
  :: t2 != t -> goto find
  :: else
  fi;
  if
  :: p != A ->
     assert(reapedA || releasedA);
     echild++; goto out
  :: else
  fi;
  e = t; t2 = 0; p = 0;  /* dead from here: kept out of the state */
  /* the waitpid loop: procReap, then wait on the tag word */
look:
  atomic {
    t = tag;
#ifdef BUG_W
    if
    :: ST(t) == EXITED -> skip
    :: else ->
#ifndef NO_WAIT_MONITOR
       if
       :: polling -> assert(!exitedA)
       :: else -> assert(!reapedA && !releasedA)   /* nobody waits past the exit */
       fi
#endif
       skip
    fi
#else
    if
    :: GEN(t) == GEN(e) && ST(t) == RUNNING ->
       if
       :: polling -> assert(!exitedA)   /* noHang says "running" only of a running child */
       :: else -> assert(!reapedA && !releasedA)
       fi
    :: else
    fi
#endif
  };
#ifdef BUG_W
  if
  :: ST(t) == EXITED -> goto reap
  :: else
  fi;
#else
#ifdef BUG_G
  if
  :: ST(t) == EXITED -> goto reap
  :: ST(t) == RUNNING -> skip
  :: else -> goto gone
  fi;
#else
  if
  :: GEN(t) == GEN(e) && ST(t) == EXITED -> goto reap
  :: GEN(t) == GEN(e) && ST(t) == RUNNING -> skip
  :: else -> goto gone
  fi;
#endif
#endif
  if
  :: polling -> polling = 0; goto look  /* noHang: undefined; then the caller blocks */
  :: else
  fi;
  /* a wait step: until the word differs from e, or the slice ends */
  if
  :: atomic { tag != e -> skip }
  :: skip
  fi;
  goto look;
reap:
  s = status;
  atomic {
    if
    :: tag == t ->
       tag = WITH(t, FREE);
       assert(pidw == A);  /* the entry reaped is A's */
       reapedA = 1;
       gotA++;
       assert(gotA == 1 && s == SA)
    :: else -> goto gone
    fi
  };
  goto out;
gone:
  atomic { assert(reapedA || releasedA); echild++ };
out:
  done++
}

init {
  atomic {
    run W(0); run W(0); run W(1)
  };
  done == NW && sDone;  /* every other process has ended */
  assert(done == NW);
  assert(echild + gotA == NW);
  assert(releasedA || gotA == 1)
}

ltl finish { <> (done == NW) }
