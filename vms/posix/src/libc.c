/* wasi-libc entered by several threads at once. Its allocator (dlmalloc,
 * built without locks) and its stdio (musl's, with FLOCK compiled out) are
 * called through wrappers (the link's --wrap flags, scripts/posix-layer.mjs)
 * that hold a lock around each call; musl's open-file list is locked where
 * musl itself locks it, by wrapping __ofl_lock/__ofl_unlock. Every lock waits
 * detached (wtp_lock) and no safe point lies inside one, so a stop-the-world
 * parks a thread inside libc only where it waits for another of these locks
 * (a printf that needs malloc); a fork takes them all first
 * (wtp_before_fork), so the copy never holds one half-way. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* ---- malloc ------------------------------------------------------------- */

static volatile int32_t malloc_word;

void *__real_malloc(size_t);
void __real_free(void *);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);
size_t __real_malloc_usable_size(void *);

#define LOCKED(lock, unlock, call) \
  do {                               \
    lock;                            \
    __typeof__(call) r_ = call;      \
    unlock;                          \
    return r_;                       \
  } while (0)
#define MALLOC_LOCKED(call) LOCKED(wtp_lock(&malloc_word), wtp_unlock(&malloc_word), call)

void *__wrap_malloc(size_t n) { MALLOC_LOCKED(__real_malloc(n)); }
void *__wrap_calloc(size_t n, size_t m) { MALLOC_LOCKED(__real_calloc(n, m)); }
void *__wrap_realloc(void *p, size_t n) { MALLOC_LOCKED(__real_realloc(p, n)); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { MALLOC_LOCKED(__real_posix_memalign(p, a, n)); }
void *__wrap_aligned_alloc(size_t a, size_t n) { MALLOC_LOCKED(__real_aligned_alloc(a, n)); }
size_t __wrap_malloc_usable_size(void *p) { MALLOC_LOCKED(__real_malloc_usable_size(p)); }
void __wrap_free(void *p) {
  if (!p) return;
  wtp_lock(&malloc_word);
  __real_free(p);
  wtp_unlock(&malloc_word);
}

/* ---- stdio: a recursive lock per FILE, striped by address --------------- */

#define STRIPES 16
static struct {
  volatile int32_t word;
  volatile int32_t owner; /* the holder's pthread_t */
  int32_t depth;
} stripes[STRIPES];
static volatile int32_t ofl_word;

static unsigned stripe_of(FILE *f) { return ((uintptr_t)f >> 4) % STRIPES; }
static int32_t me(void) { return (int32_t)(uintptr_t)wtp_self(); }

static void stripe_lock(unsigned i) {
  if (LOAD(&stripes[i].owner) == me()) {
    stripes[i].depth++;
    return;
  }
  wtp_lock(&stripes[i].word);
  STORE(&stripes[i].owner, me());
  stripes[i].depth = 1;
}
static int stripe_trylock(unsigned i) {
  int32_t c = 0;
  if (LOAD(&stripes[i].owner) == me()) {
    stripes[i].depth++;
    return 0;
  }
  if (!CAS(&stripes[i].word, &c, 1)) return -1;
  STORE(&stripes[i].owner, me());
  stripes[i].depth = 1;
  return 0;
}
static void stripe_unlock(unsigned i) {
  if (--stripes[i].depth > 0) return;
  STORE(&stripes[i].owner, 0);
  wtp_unlock(&stripes[i].word);
}
/* Every stripe, in index order: for the calls that reach several FILEs. */
static void all_lock(void) { for (unsigned i = 0; i < STRIPES; i++) stripe_lock(i); }
static void all_unlock(void) { for (unsigned i = STRIPES; i-- > 0;) stripe_unlock(i); }

void flockfile(FILE *f) { stripe_lock(stripe_of(f)); }
void funlockfile(FILE *f) { stripe_unlock(stripe_of(f)); }
int ftrylockfile(FILE *f) { return stripe_trylock(stripe_of(f)); }

#define FILE_LOCKED(f, call) LOCKED(flockfile(f), funlockfile(f), call)

/* musl's list of open FILEs: its own lock points, which single-threaded wasi-libc makes empty. */
FILE **__real___ofl_lock(void);
void __real___ofl_unlock(void);
FILE **__wrap___ofl_lock(void) {
  wtp_lock(&ofl_word);
  return __real___ofl_lock();
}
void __wrap___ofl_unlock(void) {
  __real___ofl_unlock();
  wtp_unlock(&ofl_word);
}

#define WRAP1(ret, name, T1, f)                  \
  ret __real_##name(T1);                          \
  ret __wrap_##name(T1 a1) { FILE_LOCKED(f, __real_##name(a1)); }
#define WRAP2(ret, name, T1, T2, f)              \
  ret __real_##name(T1, T2);                      \
  ret __wrap_##name(T1 a1, T2 a2) { FILE_LOCKED(f, __real_##name(a1, a2)); }
#define WRAP3(ret, name, T1, T2, T3, f)          \
  ret __real_##name(T1, T2, T3);                  \
  ret __wrap_##name(T1 a1, T2 a2, T3 a3) { FILE_LOCKED(f, __real_##name(a1, a2, a3)); }
#define WRAP4(ret, name, T1, T2, T3, T4, f)      \
  ret __real_##name(T1, T2, T3, T4);              \
  ret __wrap_##name(T1 a1, T2 a2, T3 a3, T4 a4) { FILE_LOCKED(f, __real_##name(a1, a2, a3, a4)); }

WRAP2(int, fputc, int, FILE *, a2)
WRAP2(int, putc, int, FILE *, a2)
WRAP2(int, fputs, const char *, FILE *, a2)
WRAP4(size_t, fwrite, const void *, size_t, size_t, FILE *, a4)
WRAP3(int, vfprintf, FILE *, const char *, va_list, a1)
WRAP3(int, vfscanf, FILE *, const char *, va_list, a1)
WRAP1(int, fgetc, FILE *, a1)
WRAP1(int, getc, FILE *, a1)
WRAP3(char *, fgets, char *, int, FILE *, a3)
WRAP4(size_t, fread, void *, size_t, size_t, FILE *, a4)
WRAP2(int, ungetc, int, FILE *, a2)
WRAP3(int, fseek, FILE *, long, int, a1)
WRAP3(int, fseeko, FILE *, off_t, int, a1)
WRAP1(long, ftell, FILE *, a1)
WRAP1(off_t, ftello, FILE *, a1)
WRAP2(int, fgetpos, FILE *, fpos_t *, a1)
WRAP2(int, fsetpos, FILE *, const fpos_t *, a1)
WRAP4(int, setvbuf, FILE *, char *, int, size_t, a1)
WRAP1(int, feof, FILE *, a1)
WRAP1(int, ferror, FILE *, a1)
WRAP3(ssize_t, getline, char **, size_t *, FILE *, a3)
WRAP4(ssize_t, getdelim, char **, size_t *, int, FILE *, a4)
WRAP1(int, putchar, int, stdout)
WRAP1(int, puts, const char *, stdout)
WRAP2(int, vprintf, const char *, va_list, stdout)
WRAP2(int, vscanf, const char *, va_list, stdin)

void __real_clearerr(FILE *);
void __wrap_clearerr(FILE *f) { flockfile(f); __real_clearerr(f); funlockfile(f); }
void __real_rewind(FILE *);
void __wrap_rewind(FILE *f) { flockfile(f); __real_rewind(f); funlockfile(f); }
void __real_perror(const char *);
void __wrap_perror(const char *s) { flockfile(stderr); __real_perror(s); funlockfile(stderr); }
int __real_getchar(void);
int __wrap_getchar(void) { FILE_LOCKED(stdin, __real_getchar()); }

/* The variadic calls: through their v-forms (themselves wrapped: the lock is recursive). */
#define VARIADIC(name, params, f, vcall)  \
  int __wrap_##name params {              \
    va_list ap;                           \
    va_start(ap, fmt);                    \
    flockfile(f);                         \
    int r = vcall;                        \
    funlockfile(f);                       \
    va_end(ap);                           \
    return r;                             \
  }
VARIADIC(printf, (const char *fmt, ...), stdout, vfprintf(stdout, fmt, ap))
VARIADIC(fprintf, (FILE *f, const char *fmt, ...), f, vfprintf(f, fmt, ap))
VARIADIC(scanf, (const char *fmt, ...), stdin, vfscanf(stdin, fmt, ap))
VARIADIC(fscanf, (FILE *f, const char *fmt, ...), f, vfscanf(f, fmt, ap))

/* Calls that reach several FILEs, or free one, hold every stripe: fflush(NULL)
 * walks the list, fclose frees the FILE that another stripe holder may be
 * about to use. Stripes are always taken before the list's lock. */
int __real_fflush(FILE *);
int __wrap_fflush(FILE *f) {
  if (f) FILE_LOCKED(f, __real_fflush(f));
  all_lock();
  int r = __real_fflush(NULL);
  all_unlock();
  return r;
}
int __real_fclose(FILE *);
int __wrap_fclose(FILE *f) { LOCKED(all_lock(), all_unlock(), __real_fclose(f)); }
FILE *__real_freopen(const char *, const char *, FILE *);
FILE *__wrap_freopen(const char *p, const char *m, FILE *f) { LOCKED(all_lock(), all_unlock(), __real_freopen(p, m, f)); }

/* ---- fork: every lock above, held across the copy ------------------------- */

void wtp_threads_after_fork_child(int32_t h);
void wtp_pipes_after_fork_child(void);
void wtp_spawned_after_fork_child(void);

/* Before the VM asks the host to fork (and so before the stop): stdio first,
 * as every stdio call that allocates takes them in that order, then the list,
 * then malloc. Threads that wait for them meanwhile wait detached, so the
 * stop that follows parks them. */
void wtp_before_fork(void) {
  all_lock();
  wtp_lock(&ofl_word);
  wtp_lock(&malloc_word);
}

void wtp_after_fork_parent(void) {
  wtp_unlock(&malloc_word);
  wtp_unlock(&ofl_word);
  all_unlock();
}

/* The child's only thread is the one that forked: its locks are released
 * with no waiter left to wake (the waiters are in the parent). */
WTP_EXPORT(wtp_after_fork_child) void wtp_after_fork_child(int h) {
  wtp_threads_after_fork_child(h);
  wtp_pipes_after_fork_child();
  wtp_spawned_after_fork_child();
  STORE(&malloc_word, 0);
  STORE(&ofl_word, 0);
  for (unsigned i = 0; i < STRIPES; i++) {
    stripes[i].depth = 0;
    STORE(&stripes[i].owner, 0);
    STORE(&stripes[i].word, 0);
  }
  /* allocates: after malloc's lock is free again */
  if (wtp_fork_pipes) wtp_fork_pipes->inherit();
}
