/* Model of the seqlock writer-word rule, as assembly/seqlock.ts implements it
 * (and assembly/interp/vm.ts for the VM's type records): who may be judged a
 * dead writer. Checked by tests/model.test.ts (spin -a, gcc, ./pan).
 *
 * What mirrors what (tests/model.test.ts checks that each cited function
 * still exists):
 *   begin_write       seqlock.ts beginWrite, diedWriting, endClaim
 *   end_write         seqlock.ts endWrite
 *   gone              locks.ts handleGone (the slot word of the named writer)
 *   register          registry.ts register, claim (a FREE or DEAD slot, next generation)
 *   unregister        registry.ts unregister (DETACHED, or a DEAD slot reaped)
 * Processes: the churner C registers into slot 0, writes once and
 * unregisters, CHURNS times, each time under a new generation; unless
 * -DNODEATH it may die inside a write instead (its slot DEAD, the writer word
 * still naming it), after which the host may reap the slot and another thread
 * may register into it. The writer W (slot 1, always live) writes WRITES times.
 *
 * Abstractions: a generation is 2 bits (1..3, wrapping as nextGen does); a
 * writer's spin and its sliced sleep on a held writer word are a retry of the
 * CAS (the futex wait returns at the slice's end at the latest); the payload
 * is left out (the sequence's parity is what readers validate); one entry.
 *
 * Properties:
 *   - a writer gets E_BUSY only from a writer that died inside its write: the
 *     handle it judged is the one a death left in the writer word (ghost
 *     `diedIn`), so a finished write is never dead, nor one whose writer then
 *     left (slot FREE) or whose slot was reused;
 *   - the sequence is odd only while the writer word names the writer inside
 *     the write (or the dead writer that left it so).
 * Seeded bug (spin -DBUG_S), rejected:
 *   BUG_S  the waiting writer judges the slot of the handle it read from the
 *          writer word earlier without re-reading the word, so a writer that
 *          finished and left (or whose slot was reused) is taken for dead
 */

#ifndef NODEATH
#define DEATH 1
#endif

#ifndef CHURNS
#define CHURNS 3
#endif
#ifndef WRITES
#define WRITES 3
#endif

#define FREE 0
#define DET 2
#define DEAD 5
#define ST(w)   ((w) & 15)
#define GEN(w)  ((w) / 32)
#define MK(g,s) ((g) * 32 + (s))
#define NEXTG(w) (GEN(w) >= 3 -> 1 : GEN(w) + 1)
/* handle = generation << 3 | index (never 0) */
#define HND(g,i) ((g) * 8 + (i))
#define HGEN(h) ((h) / 8)
#define HIDX(h) ((h) % 8)

#define OK 0
#define E_BUSY (-1)

byte slot[2];      /* slot words: 0 the churner's (reused), 1 W's */
byte owner;        /* the writer word: 0, or the handle inside a write */
byte seq;          /* the sequence (mod 256: only its parity is checked) */
byte diedIn;       /* ghost: the handle that died inside a write, 0 if none */
bit wBusy;         /* ghost: W got E_BUSY */

/* locks.ts handleGone: the slot of h is DEAD, FREE, or of another generation */
#define GONE(h) (GEN(slot[HIDX(h)]) != HGEN(h) || ST(slot[HIDX(h)]) == FREE || ST(slot[HIDX(h)]) == DEAD)

/* Takes the writer word for `me` and opens an epoch; rc = OK or E_BUSY. */
inline begin_write(me, c, rc) {
  do
  :: atomic {
       if
       :: owner == 0 -> owner = me; rc = OK; break
       :: else -> c = owner
       fi
     };
     /* judge the writer read from the word */
     if
     :: atomic { GONE(c) ->
#ifdef BUG_S
          rc = E_BUSY
#else
          skip
#endif
        };
#ifndef BUG_S
        /* diedWriting: the word, re-read after the slot, still names it */
        atomic { if :: owner == c -> rc = E_BUSY :: else -> rc = 1 fi }
#endif
     :: atomic { !GONE(c) -> rc = 1 }  /* live: spin, or sleep a slice, then retry */
     fi;
     if
     :: rc == E_BUSY -> break
     :: else
     fi
  od;
  if
  :: rc == OK ->
     atomic {
       if
       :: seq % 2 == 1 -> owner = 0; rc = E_BUSY  /* left odd by no recorded writer */
       :: else -> seq++
       fi
     }
  :: else
  fi
}

inline end_write() {
  seq++;
  owner = 0  /* endClaim */
}

proctype writer() {
  byte n, c; short rc;
  do
  :: n < WRITES ->
     begin_write(HND(1, 1), c, rc);
     if
     :: rc == OK -> assert(owner == HND(1, 1) && seq % 2 == 1); end_write()
     :: rc == E_BUSY ->
        assert(c == diedIn && c != 0);  /* judged dead: it died inside its write */
        wBusy = 1; break
     fi;
     n++
  :: else -> break
  od
}

proctype churner() {
  byte n, g, c, me; short rc;
  do
  :: n < CHURNS ->
     /* register: slot 0 is FREE (or DEAD, reaped by register), next generation */
     atomic {
       (ST(slot[0]) == FREE || ST(slot[0]) == DEAD);
       g = NEXTG(slot[0]); slot[0] = MK(g, DET)
     };
     me = HND(g, 0);
     begin_write(me, c, rc);
     assert(rc == OK);  /* W never dies */
     assert(owner == me && seq % 2 == 1);
#ifdef DEATH
     if
     :: atomic { slot[0] = MK(g, DEAD); diedIn = me };  /* killed inside the write: the host marks it DEAD */
        goto died
     :: skip
     fi;
#endif
     end_write();
     /* unregister */
     slot[0] = MK(g, FREE);
     n++
  :: else -> break
  od;
  goto finish;
died:
  /* the host may reap the slot, and another thread (that writes nothing) may reuse it */
  if
  :: slot[0] = MK(g, FREE)
  :: slot[0] = MK(NEXTG(slot[0]), DET)
  :: skip
  fi;
finish:
  skip
}

/* the sequence is odd only inside a write: the word names its writer then */
active proctype monitor() {
end:
  atomic { seq % 2 == 1 && owner == 0 -> assert(false) }
}

init {
  atomic {
    slot[0] = MK(0, FREE);
    slot[1] = MK(1, DET);
    run writer();
    run churner()
  }
}
