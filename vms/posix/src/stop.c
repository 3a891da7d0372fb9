/* A VM whose running threads never poll the core, under stop-the-world
 * (docs/EMBEDDING.md "A VM lock handed over on request"): the words a stop
 * stores to ask such a thread for a safe point, and the condition variables
 * on which a thread that such a request made wait for another thread must not
 * wait for nobody. Both are the core's stop hooks (docs/ABI.md "Stop hooks"),
 * written by whoever drives the stop, on any thread.
 *
 * The guard. A VM that hands its lock over on request (CPython's GIL) may,
 * after dropping it, wait for a taker (CPython's switch_cond). When the
 * request was a stop's there may be no taker; and a request outlives its stop
 * (nothing undoes it: the stop may have timed out), so the holder may read it
 * after the stop ended. So a wait on a guarded condition variable, its
 * sequence word read, reads the guard's count (a count hook: every pass that
 * asked adds 1), then W_REQUESTED:
 *   a stop requested              it waits: that stop's end changes the
 *                                 sequence word (a wake hook) after clearing
 *                                 the request, and so after this read of it;
 *   else, the count moved since   the request may be a stop's: no wait (a
 *   the last skip                 spurious wake-up), the count consumed up to
 *                                 what was read; the VM takes its lock back,
 *                                 which consumes the request itself;
 *   else                          it waits: the request was a waiter's.
 * A count, not a flag: clearing a flag on a skip could eat the flag a newer
 * stop set meanwhile, and leave that stop's request, if it timed out, waiting
 * for nobody (assembly/model/gilstop.pml checks all this, BUG_BOOL that). */
#include <errno.h>
#include <pthread.h>

#include "internal.h"

#define GUARDS 4

static struct {
  pthread_cond_t *cond;
  volatile int32_t count; /* passes that asked (a count hook) */
  volatile int32_t seen;  /* the count the last skip consumed */
} guards[GUARDS];
static int32_t nguards;
static volatile int32_t guards_word;

static int hook(volatile int32_t *word, int32_t value, int32_t kind) {
  int32_t r = wtc_stop_hook_add((int32_t)(uintptr_t)word, value, kind);
  return r >= 0 ? 0 : r == WTC_E_FULL ? EAGAIN : EINVAL;
}

int wtp_stop_signal(volatile int *word, int value) { return hook(word, value, WTC_HOOK_SIGNAL); }

int wtp_cond_stop_guard(pthread_cond_t *c) {
  wtp_lock(&guards_word);
  int32_t n = LOAD(&nguards), i = 0;
  while (i < n && guards[i].cond != c) i++;
  int r = 0;
  if (i == n) {
    r = i == GUARDS ? EAGAIN : hook(&guards[i].count, 1, WTC_HOOK_COUNT);
    if (r == 0) r = hook(WTP_COND_SEQ(c), 1, WTC_HOOK_WAKE);
    if (r == 0) {
      guards[i].cond = c;
      STORE(&nguards, n + 1); /* after the entry: a wait reads the count first */
    }
  }
  wtp_unlock(&guards_word);
  return r;
}

int wtp_cond_stop_skips(pthread_cond_t *c) {
  int32_t n = LOAD(&nguards);
  for (int32_t i = 0; i < n; i++) {
    if (guards[i].cond != c) continue;
    int32_t count = LOAD(&guards[i].count), seen = LOAD(&guards[i].seen);
    if (count == seen || LOAD((volatile int32_t *)(uintptr_t)WTC_W_REQUESTED) != 0) return 0;
    /* a failed CAS: another skip consumed it meanwhile; this one skips all the same */
    CAS(&guards[i].seen, &seen, count);
    return 1;
  }
  return 0;
}
