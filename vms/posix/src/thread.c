/* Threads: a pthread_create asks the host for a worker (import wtp.spawn),
 * which instantiates the VM's module over the same memory, places the new
 * thread's stack and TLS block in the area allocated here, registers it with
 * the core and calls wtp_thread_entry. pthread_exit unwinds the thread's Wasm
 * frames through the host (import wtp.unwind).
 *
 * A record and its area are freed only once the thread's worker is gone (its
 * core slot freed or dead), never while its stack may still be in use: joined
 * and exited detached threads wait on a reclaim list, swept by later
 * pthread_create and pthread_join calls. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The stack of a thread created without a stack size attribute. */
#define DEFAULT_STACK (512 * 1024)

int32_t wtp_host_spawn(struct __pthread *t) __attribute__((import_module("wtp"), import_name("spawn")));
_Noreturn void wtp_host_unwind(void) __attribute__((import_module("wtp"), import_name("unwind")));

static struct __pthread initial = {.id = 1, .join = J_JOINABLE};
static _Thread_local struct __pthread *self_rec;
static _Thread_local int32_t self_handle;

static int32_t next_id = 1;
static int32_t live = 1; /* threads running, the initial one included */
static volatile int32_t reclaim_word;
static struct __pthread *reclaim_list;

struct __pthread *wtp_self(void) { return self_rec ? self_rec : &initial; }
int32_t wtp_handle(void) { return self_handle; }
int wtp_core_handle(void) { return self_handle; }

/* The host registered this thread with the core: its handle, before the VM runs. */
WTP_EXPORT(wtp_set_self) void wtp_set_self(int32_t h) {
  self_handle = h;
  if (!self_rec) initial.handle = h;
}

/* ---- areas: a header, the TLS block, then the C stack growing down ------- */

struct area {
  uint32_t size;
  uint32_t tls_offset;
};
#define ALIGN(x, a) (((x) + (a) - 1) & ~((uintptr_t)(a) - 1))

WTP_EXPORT(wtp_area_new) uintptr_t wtp_area_new(uint32_t stack_size) {
  uintptr_t tls_align = __builtin_wasm_tls_align() > 16 ? __builtin_wasm_tls_align() : 16;
  uintptr_t tls_offset = ALIGN(sizeof(struct area), tls_align);
  uintptr_t size = ALIGN(tls_offset + __builtin_wasm_tls_size(), 16) + ALIGN(stack_size, 16);
  struct area *a = aligned_alloc(tls_align, ALIGN(size, tls_align));
  if (!a) return 0;
  a->size = (uint32_t)size;
  a->tls_offset = (uint32_t)tls_offset;
  return (uintptr_t)a;
}
WTP_EXPORT(wtp_area_tls) uintptr_t wtp_area_tls(uintptr_t a) { return a + ((struct area *)a)->tls_offset; }
WTP_EXPORT(wtp_area_stack_top) uintptr_t wtp_area_stack_top(uintptr_t a) { return a + ((struct area *)a)->size; }
WTP_EXPORT(wtp_area_free) void wtp_area_free(uintptr_t a) { free((void *)a); }

/* The TLS block of an instance that runs on the linked stack (the host's own,
 * which only allocates the first thread's area): static, so it needs no malloc. */
#define MAIN_TLS_SIZE 2048
static _Alignas(16) unsigned char main_tls[MAIN_TLS_SIZE];
WTP_EXPORT(wtp_main_tls) uintptr_t wtp_main_tls(void) { return (uintptr_t)main_tls; }
WTP_EXPORT(wtp_main_tls_size) uint32_t wtp_main_tls_size(void) { return MAIN_TLS_SIZE; }

/* ---- attributes: musl's pthread_attr_t, [0] stack size, [1] detach state,
 * [2] guard size, [3] scope ----------------------------------------------- */

#define A_STACK(a) ((a)->__u.__s[0])
#define A_DETACH(a) ((a)->__u.__i[1])
#define A_GUARD(a) ((a)->__u.__s[2])
#define A_SCOPE(a) ((a)->__u.__i[3])

int pthread_attr_init(pthread_attr_t *a) { memset(a, 0, sizeof *a); return 0; }
int pthread_attr_destroy(pthread_attr_t *a) { (void)a; return 0; }
int pthread_attr_getdetachstate(const pthread_attr_t *a, int *s) { *s = A_DETACH(a); return 0; }
int pthread_attr_setdetachstate(pthread_attr_t *a, int s) {
  if (s != PTHREAD_CREATE_JOINABLE && s != PTHREAD_CREATE_DETACHED) return EINVAL;
  A_DETACH(a) = s;
  return 0;
}
int pthread_attr_getstacksize(const pthread_attr_t *a, size_t *s) { *s = A_STACK(a) ? A_STACK(a) : DEFAULT_STACK; return 0; }
int pthread_attr_setstacksize(pthread_attr_t *a, size_t s) {
  if (s < PTHREAD_STACK_MIN || s > 64u * 1024 * 1024) return EINVAL;
  A_STACK(a) = s;
  return 0;
}
/* No guard pages in linear memory: the size is kept, nothing is reserved. */
int pthread_attr_getguardsize(const pthread_attr_t *a, size_t *s) { *s = A_GUARD(a); return 0; }
int pthread_attr_setguardsize(pthread_attr_t *a, size_t s) { A_GUARD(a) = s; return 0; }
int pthread_attr_getscope(const pthread_attr_t *a, int *s) { *s = A_SCOPE(a); return 0; }
int pthread_attr_setscope(pthread_attr_t *a, int s) {
  if (s == PTHREAD_SCOPE_PROCESS) return ENOTSUP;
  return s == PTHREAD_SCOPE_SYSTEM ? (A_SCOPE(a) = s, 0) : EINVAL;
}

/* ---- reclaiming records ------------------------------------------------ */

static int gone(int32_t h) {
  if (h <= 0) return 1;
  uint32_t w = (uint32_t)wtc_slot_word(h & WTC_INDEX_MASK), st = w & WTC_STATE_MASK;
  return (w & WTC_GEN_MASK) != ((uint32_t)h & WTC_GEN_MASK) || st == WTC_ST_DEAD || st == WTC_ST_FREE;
}

static void reclaim(struct __pthread *t) {
  wtp_lock(&reclaim_word);
  t->next = reclaim_list;
  reclaim_list = t;
  wtp_unlock(&reclaim_word);
}

static void sweep(void) {
  struct __pthread *done = NULL;
  wtp_lock(&reclaim_word);
  for (struct __pthread **p = &reclaim_list; *p;) {
    struct __pthread *t = *p;
    if (gone(LOAD(&t->handle))) {
      *p = t->next;
      t->next = done;
      done = t;
    } else {
      p = &t->next;
    }
  }
  wtp_unlock(&reclaim_word);
  while (done) { /* free outside the list's lock: free takes malloc's */
    struct __pthread *t = done;
    done = t->next;
    free((void *)(uintptr_t)t->area);
    free(t);
  }
}

/* ---- create, the worker's entry, exit, join, detach ----------------------- */

int pthread_create(pthread_t *out, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
  sweep();
  size_t stack = attr && A_STACK(attr) ? A_STACK(attr) : DEFAULT_STACK;
  struct __pthread *t = calloc(1, sizeof *t);
  if (!t) return EAGAIN;
  t->area = (uint32_t)wtp_area_new((uint32_t)stack);
  if (!t->area) {
    free(t);
    return EAGAIN;
  }
  t->start = start;
  t->arg = arg;
  t->join = attr && A_DETACH(attr) == PTHREAD_CREATE_DETACHED ? J_DETACHED : J_JOINABLE;
  t->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&live, 1, __ATOMIC_SEQ_CST);
  *out = t;
  if (wtp_host_spawn(t) < 0) {
    __atomic_fetch_sub(&live, 1, __ATOMIC_SEQ_CST);
    free((void *)(uintptr_t)t->area);
    free(t);
    return EAGAIN;
  }
  return 0;
}

/* Destructors, the result, and who reclaims the record. */
static void finish(struct __pthread *t, void *result) {
  wtp_keys_run_destructors();
  t->result = result;
  int32_t j = J_JOINABLE;
  if (!CAS(&t->join, &j, J_EXITED)) STORE(&t->join, J_RECLAIM); /* detached: nobody will join */
  wtp_wake(&t->join, UINT32_MAX);
  if (j == J_DETACHED) reclaim(t);
  __atomic_fetch_sub(&live, 1, __ATOMIC_SEQ_CST);
  wtp_wake(&live, UINT32_MAX);
}

/* The worker's whole life; the host registered it (`h`, ATTACHED) and placed its stack and TLS. */
WTP_EXPORT(wtp_thread_entry) void wtp_thread_entry(struct __pthread *t, int32_t h) {
  self_rec = t;
  self_handle = h;
  STORE(&t->handle, h);
  finish(t, t->start(t->arg));
}

_Noreturn void pthread_exit(void *result) {
  struct __pthread *t = wtp_self();
  if (t == &initial) {
    /* The process lives on until its last thread ends, then exits with 0. */
    wtp_keys_run_destructors();
    int32_t n;
    while ((n = LOAD(&live)) > 1) wtp_wait(&live, n, -1);
    exit(0);
  }
  finish(t, result);
  wtp_host_unwind();
}

pthread_t pthread_self(void) { return wtp_self(); }

#undef pthread_equal
int pthread_equal(pthread_t a, pthread_t b) { return a == b; }

int pthread_join(pthread_t t, void **result) {
  if (t == wtp_self()) return EDEADLK;
  int32_t j;
  while ((j = LOAD(&t->join)) == J_JOINABLE) {
    /* A worker terminated by its host never finishes: its slot going away says so. */
    int32_t h = LOAD(&t->handle);
    if (h > 0 && gone(h)) {
      if (CAS(&t->join, &j, J_EXITED)) t->result = PTHREAD_CANCELED;
      continue;
    }
    wtp_wait(&t->join, J_JOINABLE, 50 * 1000000LL);
  }
  if (j != J_EXITED || !CAS(&t->join, &j, J_RECLAIM)) return EINVAL; /* detached, or joined already */
  if (result) *result = t->result;
  if (t != &initial) reclaim(t);
  sweep();
  return 0;
}

int pthread_detach(pthread_t t) {
  int32_t j = J_JOINABLE;
  if (CAS(&t->join, &j, J_DETACHED)) return 0;
  if (j == J_EXITED && CAS(&t->join, &j, J_RECLAIM)) { /* it has already finished: reclaim it now */
    if (t != &initial) reclaim(t);
    return 0;
  }
  return EINVAL;
}

/* The fork child runs only the forking thread: every other thread is gone. */
void wtp_threads_after_fork_child(int32_t h) {
  self_handle = h;
  if (!self_rec) initial.handle = h;
  else STORE(&self_rec->handle, h);
  STORE(&live, 1);
  STORE(&reclaim_word, 0);
}
