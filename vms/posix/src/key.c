/* Thread-specific data: PTHREAD_KEYS_MAX keys, each with a sequence number
 * (odd while the key exists) and a destructor; each thread's values are
 * _Thread_local and tagged with the sequence they were set under, so a value
 * left from a deleted key never shows through a new key in the same slot. */
#include <errno.h>
#include <pthread.h>

#include "internal.h"

static struct {
  int32_t seq;
  void (*dtor)(void *);
} keys[PTHREAD_KEYS_MAX];

static _Thread_local struct {
  void *value;
  int32_t seq;
} values[PTHREAD_KEYS_MAX];

int pthread_key_create(pthread_key_t *k, void (*dtor)(void *)) {
  for (unsigned i = 0; i < PTHREAD_KEYS_MAX; i++) {
    int32_t s = LOAD(&keys[i].seq);
    if (s & 1) continue;
    keys[i].dtor = dtor; /* read only by threads holding a value set under the new sequence */
    if (CAS(&keys[i].seq, &s, s + 1)) {
      *k = i;
      return 0;
    }
  }
  return EAGAIN;
}

int pthread_key_delete(pthread_key_t k) {
  if (k >= PTHREAD_KEYS_MAX) return EINVAL;
  int32_t s = LOAD(&keys[k].seq);
  if (!(s & 1) || !CAS(&keys[k].seq, &s, s + 1)) return EINVAL;
  return 0;
}

void *pthread_getspecific(pthread_key_t k) {
  if (k >= PTHREAD_KEYS_MAX || values[k].seq != LOAD(&keys[k].seq)) return NULL;
  return values[k].value;
}

int pthread_setspecific(pthread_key_t k, const void *v) {
  if (k >= PTHREAD_KEYS_MAX) return EINVAL;
  int32_t s = LOAD(&keys[k].seq);
  if (!(s & 1)) return EINVAL;
  values[k].value = (void *)v;
  values[k].seq = s;
  return 0;
}

void wtp_keys_run_destructors(void) {
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
    int ran = 0;
    for (unsigned i = 0; i < PTHREAD_KEYS_MAX; i++) {
      void *v = values[i].value;
      int32_t s = LOAD(&keys[i].seq);
      if (!v || values[i].seq != s || !(s & 1)) continue;
      void (*dtor)(void *) = keys[i].dtor;
      values[i].value = NULL;
      if (dtor) {
        dtor(v);
        ran = 1;
      }
    }
    if (!ran) return;
  }
}
