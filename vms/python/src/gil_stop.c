/* CPython's GIL under stop-the-world (docs/PYTHON.md "Threads"). A thread
 * that holds the GIL and runs Python code calls nothing of the pthread layer
 * until it hands the GIL over, and it does so only when asked: another thread
 * that waited for the GIL sets gil_drop_request and eval_breaker
 * (SET_GIL_DROP_REQUEST). During a stop that waiter is parked and cannot ask,
 * so every stop asks in its place: the words are the layer's stop signals
 * (vms/posix/src/stop.c), stored by whichever thread drives the stop (the
 * host, a C caller, os.fork), in SET_GIL_DROP_REQUEST's order.
 *
 * What follows is CPython's own code, unchanged. At its next eval-breaker
 * check the holder drops the GIL (drop_gil signals gil->cond for a waiter)
 * and, the request still set and no one having taken the GIL, waits on
 * switch_cond for a taker (FORCE_SWITCHING), detached: the stop parks it
 * there, holding no lock (the layer's condition wait releases switch_mutex
 * first). Waiters for the GIL were parked in their own timed waits. When the
 * world runs again, a waiter takes the GIL and signals switch_cond, or, if
 * nobody wanted the GIL, the stop's end wakes switch_cond (the guard's wake
 * hook) and the holder takes it back in take_gil. A request that outlives its
 * stop (the stop timed out while the holder was in a long C call such as
 * sorted()) drops the GIL once more when the holder returns to the eval loop;
 * the guard then sees that a stop asked since its last look and none is
 * requested, and lets the holder go straight to take_gil, which resets the
 * request, instead of waiting for a taker that may not exist. drop_gil
 * tolerates the early return (a spurious wake-up of its COND_WAIT).
 *
 * Only the main interpreter is asked: the words of a subinterpreter are in
 * its own PyInterpreterState, created later. Compiled with CPython's
 * PY_CORE_CFLAGS (Py_BUILD_CORE) by scripts/build-python.mjs; registered
 * from a constructor, before main() and so before any thread exists. */
#include "Python.h"
#include "pycore_runtime.h" /* _PyRuntime: the GIL and the main interpreter */
#include "pycore_interp.h"  /* struct _ceval_state */

#include <pthread.h>
#include <stdio.h>

__attribute__((constructor)) static void gil_stop_hooks(void) {
  struct _ceval_state *ceval = &_PyRuntime._main_interpreter.ceval;
  int r = wtp_cond_stop_guard(&_PyRuntime.ceval.gil.switch_cond);
  if (!r) r = wtp_stop_signal((volatile int *)&ceval->gil_drop_request, 1);
  if (!r) r = wtp_stop_signal((volatile int *)&ceval->eval_breaker, 1);
  if (r) fprintf(stderr, "python: stop-the-world cannot ask the GIL's holder (error %d); a stop waits for a thread running Python code\n", r);
}
