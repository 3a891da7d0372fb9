/* A VM whose running threads never poll the core, under stop-the-world
 * (docs/EMBEDDING.md "A VM lock handed over on request"): the words a stop
 * stores to ask such a thread for a safe point, and the condition variables
 * on which a thread that such a request made wait for another thread must not
 * wait once the stop is over. Both are the core's stop hooks (docs/ABI.md
 * "Stop hooks"), written by whoever drives the stop, on any thread.
 *
 * The guard. A VM that hands its lock over on request (CPython's GIL) may,
 * after dropping it, wait for a taker (CPython's switch_cond). When the
 * request was a stop's, the taker may be parked or may not exist; and a
 * request outlives its stop (nothing undoes it), so the holder may read it
 * after the stop ended. So a wait on a guarded condition variable, with its
 * sequence word read, reads the VM's `armed` word (one of its signal words,
 * set by every stop that found a thread running), then W_REQUESTED:
 *   armed and no stop requested   the request is stale: no wait (a spurious
 *                                 wake-up), and `armed` is consumed;
 *   otherwise                     it waits: for its taker, or for the end of
 *                                 the stop it read as requested, which
 *                                 changes the sequence word (a wake hook)
 *                                 after clearing the request, and so after
 *                                 this read of it.
 * Consuming `armed` may lose a later stop's store of it: that stop finds the
 * thread running and stores it again at its next pass. */
#include <errno.h>
#include <pthread.h>

#include "internal.h"

#define GUARDS 4

static struct {
  pthread_cond_t *cond;
  volatile int32_t *armed;
} guards[GUARDS];
static int32_t nguards;
static volatile int32_t guards_word;

static int hook(volatile int32_t *word, int32_t value, int32_t kind) {
  int32_t r = wtc_stop_hook_add((int32_t)(uintptr_t)word, value, kind);
  return r >= 0 ? 0 : r == WTC_E_FULL ? EAGAIN : EINVAL;
}

int wtp_stop_signal(volatile int *word, int value) { return hook(word, value, WTC_HOOK_SIGNAL); }

int wtp_cond_stop_guard(pthread_cond_t *c, volatile int *armed) {
  wtp_lock(&guards_word);
  int32_t n = LOAD(&nguards), i = 0;
  while (i < n && guards[i].cond != c) i++;
  int r = i == GUARDS ? EAGAIN : hook(WTP_COND_SEQ(c), 1, WTC_HOOK_WAKE);
  if (r == 0) {
    guards[i].armed = armed;
    guards[i].cond = c;
    if (i == n) STORE(&nguards, n + 1); /* the entry before the count: a wait reads them in that order */
  }
  wtp_unlock(&guards_word);
  return r;
}

int wtp_cond_stop_skips(pthread_cond_t *c) {
  int32_t n = LOAD(&nguards);
  for (int32_t i = 0; i < n; i++) {
    if (guards[i].cond != c) continue;
    volatile int32_t *armed = guards[i].armed;
    int32_t one = 1;
    if (LOAD(armed) != 1 || LOAD((volatile int32_t *)(uintptr_t)WTC_W_REQUESTED) != 0) return 0;
    CAS(armed, &one, 0);
    return 1;
  }
  return 0;
}
