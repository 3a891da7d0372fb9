/* fork for a program on the layer (docs/EMBEDDING.md, "fork from a C
 * module"), in two forms. wtp_fork: no frame of the program lives on in the
 * child, which starts in the program's export wtp_fork_child(arg) on the
 * forking thread's stack, with its TLS block and the copied heap. POSIX
 * fork(): the child returns from it with every frame above intact, in a module
 * built with the fork build step (scripts/asyncify-fork.mjs). Either way
 * libc's locks are held across the copy (wtp_before_fork), so the child never
 * finds malloc or stdio half-way. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "spawn_internal.h"

int32_t wtp_host_fork(int32_t arg) __attribute__((import_module("wtp_fork"), import_name("fork")));
/* Child pid's wait status (Linux's encoding, made by the host), -1 while it runs (nohang), or -errno. */
int32_t wtp_host_waitpid(int32_t pid, int32_t nohang) __attribute__((import_module("wtp_fork"), import_name("waitpid")));
/* The first child to exit: its pid (its wait status at *status), 0 while every child runs (nohang), or -errno (ECHILD: none). */
int32_t wtp_host_wait_any(int32_t nohang, int *status) __attribute__((import_module("wtp_fork"), import_name("wait_any")));
/* Forks with every frame of the calling thread live (host/c-fork.ts): the
 * child's pid in the parent, 0 in the child (the same frames above it), or
 * -errno (ENOTSUP: the module did not go through scripts/asyncify-fork.mjs).
 * `data` holds the thread's unwound frames while the host forks. */
int32_t wtp_host_fork_here(void *data, int32_t size) __attribute__((import_module("wtp_fork"), import_name("fork_here")));
/* Copies the host's text of the last failed fork_here into buf (at most len bytes); its length. */
int32_t wtp_host_fork_error(char *buf, int32_t len) __attribute__((import_module("wtp_fork"), import_name("error")));

void wtp_before_fork(void);
void wtp_after_fork_parent(void);
const struct wtp_fork_pipes_hooks *wtp_fork_pipes;


/* Child pid's wait status; -1 with errno ECHILD. With `nohang`, 0 while it runs (and *running set). */
static int wait_status(pid_t pid, int nohang, int *running) {
  int32_t r = wtp_host_waitpid(pid, nohang);
  if (running) *running = r == -1;
  if (r == -1) return 0;
  if (r < -1) {
    errno = -r;
    return -1;
  }
  return r;
}

/* The child's exit status (128 + n when signal n ended it); -1 with errno ECHILD. With `nohang`, 0 while it runs (and *running set). */
int wtp_waitpid(pid_t pid, int nohang, int *running) {
  int ws = wait_status(pid, nohang, running);
  if (ws <= 0) return ws;
  return WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
}

/* ---- POSIX fork(), waitpid() and wait() ---------------------------------- */

/* Room for the frames a fork unwinds: a few KiB under a VM's usual depth
 * (each activation of an interpreter loop saves its locals). From malloc on
 * the thread's first fork, before libc's locks are taken. */
#define FORK_DATA_SIZE (256 * 1024)
static _Thread_local void *fork_data;

/* Why the thread's last fork() or wtp_fork() failed, in the host's words: strerror of that
 * errno gives it once (a VM turns errno into its error right after the call:
 * CPython's OSError then says why, and which build forks), then libc's text. */
static _Thread_local char refusal[200];
static _Thread_local int refusal_errno;

static void refusal_text(int e) {
  int32_t n = wtp_host_fork_error(refusal, (int32_t)sizeof refusal - 1);
  if (n <= 0) return;
  refusal[n < (int32_t)sizeof refusal - 1 ? n : (int32_t)sizeof refusal - 1] = 0;
  refusal_errno = e;
}

char *__real_strerror(int e);
char *__wrap_strerror(int e) {
  if (e != 0 && e == refusal_errno) {
    refusal_errno = 0;
    return refusal;
  }
  return __real_strerror(e);
}

/* The parent's side of either fork: libc's locks released; the child's pid, or -1 with errno (the host's fork
 * refused: EAGAIN; failed: ENOMEM; no fork build step: ENOTSUP), whose strerror is the host's text once. */
static pid_t parent_side(int32_t pid) {
  wtp_after_fork_parent();
  if (LOAD(&wtp_fork_pipes)) wtp_fork_pipes->after_fork_parent();
  if (pid < 0) {
    refusal_text(-pid);
    errno = -pid;
    return -1;
  }
  return pid;
}

pid_t wtp_fork(int arg) {
  if (LOAD(&wtp_fork_pipes)) wtp_fork_pipes->before_fork();
  wtp_before_fork();
  return parent_side(wtp_host_fork(arg));
}

/* The child returns here with 0 and every frame above intact; the host has
 * already reset libc's locks and the thread bookkeeping in it
 * (wtp_after_fork_child, before the rewind). */
pid_t fork(void) {
  if (!fork_data && !(fork_data = malloc(FORK_DATA_SIZE))) {
    errno = ENOMEM;
    return -1;
  }
  if (LOAD(&wtp_fork_pipes)) wtp_fork_pipes->before_fork();
  wtp_before_fork();
  int32_t pid = wtp_host_fork_here(fork_data, FORK_DATA_SIZE);
  if (pid == 0) return 0;
  return parent_side(pid);
}

static pid_t wait_one(pid_t pid, int *status, int nohang) {
  int running = 0;
  int ws = wait_status(pid, nohang, &running);
  if (ws < 0) return -1;
  if (running) return 0;
  if (status) *status = ws;
  return pid;
}

/* The first fork child to exit (wtp_host_wait_any): its pid, 0 while every one runs (nohang), -1 with errno (ECHILD: none). */
static pid_t fork_wait_any(int *status, int nohang) {
  int ws = 0;
  int32_t r = wtp_host_wait_any(nohang, &ws);
  if (r < 0) {
    errno = -r;
    return -1;
  }
  if (r > 0 && status) *status = ws;
  return r;
}

/* How often a wait for any child looks at the fork children while spawned ones run too: each kind has its own wake-up. */
#define BOTH_KINDS_POLL_NS 20000000

/* pid -1 (or 0: one process group here) waits for any child: the first to
 * exit, fork children from the host's process table (this process's children
 * and no one else's) and spawned ones (spawn.c); with WNOHANG 0 while every
 * child runs. */
pid_t waitpid(pid_t pid, int *status, int options) {
  int nohang = (options & WNOHANG) != 0;
  if (pid > 0) return wtp_spawned_is_child(pid) ? wtp_spawned_wait(pid, status, nohang) : wait_one(pid, status, nohang);
  if (pid < -1) {
    errno = EINVAL;
    return -1;
  }
  for (;;) {
    int32_t seen = wtp_spawned_exits();
    int spawned = 0;
    pid_t r = wtp_spawned_wait_any(status, &spawned);
    if (r > 0) return r;
    if (!spawned) return fork_wait_any(status, nohang);
    r = fork_wait_any(status, 1);
    if (r > 0) return r;
    if (nohang) return 0;
    /* ECHILD from the table: only spawned children, whose exits wake this wait */
    wtp_spawned_wait_exit(seen, r < 0 ? -1 : BOTH_KINDS_POLL_NS);
  }
}

pid_t wait(int *status) { return waitpid(-1, status, 0); }
