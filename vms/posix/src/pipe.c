/* pipe() and pipe2() on the layer: WASI (preview1) has none. A pipe is a ring
 * in the process's memory, so every thread's host and the host's process
 * service (vms/posix/host/spawn.ts, which pumps a spawned child's stdio) reach
 * the same bytes; the calling thread's WASI table gets its two ends
 * (vms/wasi/pipe.ts is the ring's other half and documents its words). Rings
 * are never freed: a ring whose ends are all closed is taken again by the
 * next pipe(), so a program that makes pipes in a loop holds as many as it
 * had open at once. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/* The ring's header: the host reads these words by index (vms/posix/host and
 * vms/wasi/pipe.ts RING_*), the data follows at PIPE_DATA. */
struct ring {
  int32_t ends;  /* open read ends | open write ends << 16: 0 is a free ring */
  int32_t head;  /* bytes written, mod 2^32 */
  int32_t tail;  /* bytes read, mod 2^32 */
  int32_t size;  /* capacity in bytes */
  int32_t seq;   /* bumped at every write, read and close: what a waiter waits on */
  int32_t pad[3];
  struct ring *next; /* the layer's list of every ring */
};
#define PIPE_DATA 64
/* Linux's default pipe capacity. */
#define PIPE_BYTES 65536
_Static_assert(sizeof(struct ring) <= PIPE_DATA, "the ring's header overlaps its data");

/* Gives the calling thread the ends of `ring` (claimed: ends 1 | 1 << 16): fds[0] reads, fds[1] writes. 0 or -errno. */
int32_t wtp_host_pipe(void *ring, int32_t *fds) __attribute__((import_module("wtp_io"), import_name("pipe")));

static struct ring *rings;
static int32_t rings_word;

/* A free ring claimed for two new ends, or a new one; NULL without memory. */
static struct ring *claim(void) {
  wtp_lock(&rings_word);
  for (struct ring *r = rings; r; r = r->next) {
    int32_t free_ends = 0;
    if (CAS(&r->ends, &free_ends, 1 | 1 << 16)) {
      wtp_unlock(&rings_word);
      STORE(&r->head, 0);
      STORE(&r->tail, 0);
      return r;
    }
  }
  wtp_unlock(&rings_word);
  struct ring *r = aligned_alloc(16, PIPE_DATA + PIPE_BYTES);
  if (!r) return NULL;
  r->head = r->tail = r->seq = 0;
  r->size = PIPE_BYTES;
  STORE(&r->ends, 1 | 1 << 16);
  wtp_lock(&rings_word);
  r->next = rings;
  rings = r;
  wtp_unlock(&rings_word);
  return r;
}

int pipe(int fds[2]) {
  struct ring *r = claim();
  if (!r) {
    errno = ENOMEM;
    return -1;
  }
  int32_t got[2];
  int32_t e = wtp_host_pipe(r, got);
  if (e < 0) {
    STORE(&r->ends, 0);
    errno = -e;
    return -1;
  }
  fds[0] = got[0];
  fds[1] = got[1];
  return 0;
}

/* O_CLOEXEC has nothing to act on (no exec); O_NONBLOCK is each end's flag. */
int pipe2(int fds[2], int flags) {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) {
    errno = EINVAL;
    return -1;
  }
  if (pipe(fds) != 0) return -1;
  if (flags & O_NONBLOCK) {
    for (int i = 0; i < 2; i++) {
      if (fcntl(fds[i], F_SETFL, O_NONBLOCK) != 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        errno = e;
        return -1;
      }
    }
  }
  return 0;
}

/* A fork child's threads have WASI tables of their own, without the parent's
 * ends: every ring is free in the child. */
void wtp_pipes_after_fork_child(void) {
  STORE(&rings_word, 0);
  for (struct ring *r = rings; r; r = r->next) STORE(&r->ends, 0);
}
