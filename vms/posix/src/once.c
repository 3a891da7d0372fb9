/* pthread_once: 0 not run, 1 running, 2 done; latecomers wait detached. */
#include <pthread.h>

#include "internal.h"

int pthread_once(pthread_once_t *o, void (*init)(void)) {
  volatile int32_t *w = (volatile int32_t *)o;
  int32_t s = LOAD(w);
  if (s == 2) return 0;
  s = 0;
  if (CAS(w, &s, 1)) {
    init();
    STORE(w, 2);
    wtp_wake(w, UINT32_MAX);
    return 0;
  }
  while ((s = LOAD(w)) == 1) wtp_wait(w, 1, -1);
  return 0;
}
