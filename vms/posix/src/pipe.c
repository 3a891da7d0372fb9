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
  int32_t want;  /* readers waiting for bytes: what pulls an inherited end's bytes from the parent */
  int32_t flags; /* RING_BRIDGED: an inherited end's ring in a fork child, bridged to its parent's */
  int32_t lock;  /* a writer's, while it copies in (writers of several processes share a ring) */
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
static const struct wtp_fork_pipes_hooks hooks;

/* A free ring claimed for two new ends, or a new one; NULL without memory. */
static struct ring *claim(void) {
  wtp_lock(&rings_word);
  for (struct ring *r = rings; r; r = r->next) {
    int32_t free_ends = 0;
    if (CAS(&r->ends, &free_ends, 1 | 1 << 16)) {
      wtp_unlock(&rings_word);
      STORE(&r->head, 0);
      STORE(&r->tail, 0);
      STORE(&r->want, 0);
      STORE(&r->flags, 0);
      return r;
    }
  }
  wtp_unlock(&rings_word);
  struct ring *r = aligned_alloc(16, PIPE_DATA + PIPE_BYTES);
  if (!r) return NULL;
  r->head = r->tail = r->seq = r->want = r->flags = r->lock = 0;
  r->size = PIPE_BYTES;
  STORE(&r->ends, 1 | 1 << 16);
  wtp_lock(&rings_word);
  r->next = rings;
  rings = r;
  wtp_unlock(&rings_word);
  return r;
}

int pipe(int fds[2]) {
  STORE(&wtp_fork_pipes, &hooks);
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

/* ---- pipes across fork ---------------------------------------------------
 *
 * A fork child gets the parent's open pipe descriptors, as natively: the same
 * numbers, on the same pipes. The rings stay in the parent's memory; the
 * child's copy of a ring is only a local buffer, bridged to the parent's ring
 * by the child's process service through its parent's fork server
 * (vms/posix/host/pipe-bridge.ts, pipe-relay.ts).
 *
 * Before the copy the forking thread's host lists the open descriptors into a
 * record and holds each end once more for the child (wtp_io.fork_pipes). Who
 * lets those holds go is decided once, by CAS on the record's owner word:
 *
 *   FORKING ──the child's relay adopts (CAS, before the child's ack)──▶ CHILD
 *   FORKING ──the parent, after the fork returned (CAS)──────────────▶ RELEASED
 *
 * | transition          | mover                                   | how |
 * |---------------------|-----------------------------------------|-----|
 * | FORKING → CHILD     | the parent's fork server, on the child's | CAS |
 * |                     | adopt call (the child's holds from then) |     |
 * | FORKING → RELEASED  | the forking thread when fork() returns   | CAS |
 * |                     | (a failed fork, or a child that did not  |     |
 * |                     | adopt): it lets the holds go             |     |
 *
 * The child's adopt is served before the server handles its ack, so a fork
 * that returns a pid has seen it. The child's own copy of the record, taken
 * before, says FORKING: its host stores CHILD there once the relay answered
 * (vms/posix/host/fork-pipes.ts markAdopted), and only then does the child's
 * first thread give it the descriptors. */
#define FORK_PIPES_MAX 256
struct inherited {
  int32_t fd;
  int32_t ring;  /* in the parent's memory */
  int32_t end;   /* READ_END (1) or WRITE_END (1 << 16) */
  int32_t flags; /* the descriptor's fdflags (O_NONBLOCK) */
};
struct fork_pipes {
  int32_t owner; /* FORKING, CHILD, RELEASED */
  int32_t count;
  int32_t pad[2];
  struct inherited e[FORK_PIPES_MAX];
};
#define FORKING 1
#define CHILD 2
#define RELEASED 3
#define READ_END 1
#define WRITE_END (1 << 16)
#define RING_BRIDGED 1

/* Lists the open pipe descriptors into `record` (at most `cap`), each end held once more: how many, or -errno. */
int32_t wtp_host_fork_pipes(struct fork_pipes *record, int32_t cap) __attribute__((import_module("wtp_io"), import_name("fork_pipes")));
/* Lets the record's holds go. */
void wtp_host_fork_pipes_release(struct fork_pipes *record) __attribute__((import_module("wtp_io"), import_name("fork_pipes_release")));
/* The child's side: gives the thread's table each inherited descriptor on its local ring (locals[i] for record->e[i])
 * and bridges each local ring to its parent's; 0 or -errno. */
int32_t wtp_host_inherit_pipes(struct fork_pipes *record, int32_t *locals) __attribute__((import_module("wtp_io"), import_name("inherit_pipes")));

/* The thread's record: it is in the copy the child gets, as is this pointer in the thread's TLS block. */
static _Thread_local struct fork_pipes *forking;

/* Before libc's locks are taken: the record of this fork, or NULL (no pipe open, or no memory: the child then has none). */
static void before_fork(void) {
  if (!forking && !(forking = malloc(sizeof *forking))) return;
  STORE(&forking->owner, FORKING);
  int32_t n = wtp_host_fork_pipes(forking, FORK_PIPES_MAX);
  forking->count = n < 0 ? 0 : n;
}

/* The parent, once fork() has returned (either way): the holds are its to let go unless the child adopted them. */
static void after_fork_parent(void) {
  if (!forking) return;
  int32_t was = FORKING;
  if (CAS(&forking->owner, &was, RELEASED) && forking->count) wtp_host_fork_pipes_release(forking);
  forking->count = 0;
}

/* A fork child's threads have WASI tables of their own: every ring is free in
 * the child until the inherited ends take theirs (inherit, below). */
void wtp_pipes_after_fork_child(void) {
  STORE(&rings_word, 0);
  for (struct ring *r = rings; r; r = r->next) STORE(&r->ends, 0);
}

/* The child's inherited ends, once malloc works again: each parent ring's
 * read ends read the child's copy of it, emptied (its bytes are the parent's
 * to hand out); its write ends write another ring (the copy itself when the
 * child has no read end of it), from which the bridge takes them. Each local
 * ring's other side is the bridge's. Without a record adopted by the parent's
 * relay the descriptors are simply not there. */
static void inherit(void) {
  struct fork_pipes *p = forking;
  if (!p || LOAD(&p->owner) != CHILD || !p->count) return;
  int32_t locals[FORK_PIPES_MAX];
  for (int32_t i = 0; i < p->count; i++) locals[i] = 0;
  /* read ends first: their rings are the copies, which no write end may claim */
  for (int32_t i = 0; i < p->count; i++) {
    if (p->e[i].end != READ_END) continue;
    struct ring *r = (struct ring *)(intptr_t)p->e[i].ring;
    if (!LOAD(&r->ends)) {
      r->head = r->tail = r->want = r->lock = 0;
      r->flags = RING_BRIDGED;
      STORE(&r->ends, WRITE_END);
    }
    __atomic_add_fetch(&r->ends, READ_END, __ATOMIC_SEQ_CST);
    locals[i] = p->e[i].ring;
  }
  for (int32_t i = 0; i < p->count; i++) {
    if (p->e[i].end != WRITE_END || locals[i]) continue;
    struct ring *copy = (struct ring *)(intptr_t)p->e[i].ring;
    struct ring *r = NULL;
    /* every write end of this parent ring shares one local ring */
    for (int32_t j = 0; j < i; j++)
      if (p->e[j].end == WRITE_END && p->e[j].ring == p->e[i].ring) r = (struct ring *)(intptr_t)locals[j];
    if (!r) {
      int32_t free_ends = 0;
      if (CAS(&copy->ends, &free_ends, READ_END)) {
        r = copy;
        r->head = r->tail = r->want = r->lock = 0;
      } else if ((r = claim())) {
        STORE(&r->ends, READ_END);
      } else {
        continue; /* no memory: this descriptor is not there */
      }
      STORE(&r->flags, RING_BRIDGED);
    }
    __atomic_add_fetch(&r->ends, WRITE_END, __ATOMIC_SEQ_CST);
    locals[i] = (int32_t)(intptr_t)r;
  }
  wtp_host_inherit_pipes(p, locals);
}

static const struct wtp_fork_pipes_hooks hooks = {before_fork, after_fork_parent, inherit};
