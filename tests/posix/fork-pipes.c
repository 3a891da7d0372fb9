/* Pipes across fork(): a child gets its parent's pipe descriptors, with the
 * same numbers, on the same pipes. Bytes go both ways, larger than a pipe
 * holds; a child that closes its read end without reading takes nothing its
 * parent reads; a grandchild writes to its grandparent's pipe; end of file
 * comes once every process closed its write ends; a descriptor keeps its
 * O_NONBLOCK; a fork from a thread gives the same. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define BIG (200 * 1024)

static void reap(pid_t pid, int code) {
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK(WIFEXITED(status));
  CHECK_EQ(WEXITSTATUS(status), code);
}

/* Reads to end of file into buf (at most cap); how many bytes. */
static size_t read_all(int fd, char *buf, size_t cap) {
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, buf + got, cap - got);
    CHECK(n >= 0);
    if (n == 0) return got;
    got += (size_t)n;
  }
}

static void write_all(int fd, const char *buf, size_t n) {
  while (n) {
    ssize_t w = write(fd, buf, n);
    CHECK(w > 0);
    buf += w;
    n -= (size_t)w;
  }
}

static char big[BIG], back[BIG + 1];

/* A new pipe, then a fork: the child's pid in the parent, 0 in the child. */
static pid_t pipe_and_fork(int fds[2]) {
  CHECK_EQ(pipe(fds), 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  return pid;
}

/* The child writes, the parent reads its bytes, then end of file. */
static void child_writes(void) {
  int fds[2];
  pid_t pid = pipe_and_fork(fds);
  if (pid == 0) {
    close(fds[0]);
    write_all(fds[1], "OK", 2);
    write_all(fds[1], big, BIG);
    _exit(0);
  }
  close(fds[1]);
  char two[2];
  CHECK_EQ(read(fds[0], two, 2), 2);
  CHECK(memcmp(two, "OK", 2) == 0);
  CHECK_EQ(read_all(fds[0], back, sizeof back), BIG);
  CHECK(memcmp(back, big, BIG) == 0);
  close(fds[0]);
  reap(pid, 0);
}

/* The parent writes, the child reads to end of file and says by its status whether it got every byte. */
static void parent_writes(void) {
  int fds[2];
  pid_t pid = pipe_and_fork(fds);
  if (pid == 0) {
    close(fds[1]);
    size_t n = read_all(fds[0], back, sizeof back);
    _exit(n == BIG && memcmp(back, big, BIG) == 0 ? 0 : 3);
  }
  close(fds[0]);
  write_all(fds[1], big, BIG);
  close(fds[1]);
  reap(pid, 0);
}

/* Bytes in the pipe at the fork stay the parent's when the child closes its read end unread. */
static void child_reads_nothing(void) {
  int fds[2];
  CHECK_EQ(pipe(fds), 0);
  write_all(fds[1], "mine", 4);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    close(fds[1]);
    _exit(0);
  }
  reap(pid, 0);
  close(fds[1]);
  char buf[8];
  CHECK_EQ(read_all(fds[0], buf, sizeof buf), 4);
  CHECK(memcmp(buf, "mine", 4) == 0);
  close(fds[0]);
}

/* A grandchild writes to the pipe its grandparent made, then the child does. */
static void grandchild_writes(void) {
  int fds[2];
  pid_t pid = pipe_and_fork(fds);
  if (pid == 0) {
    close(fds[0]);
    pid_t g = fork();
    if (g < 0) _exit(4);
    if (g == 0) {
      write_all(fds[1], "G", 1);
      _exit(0);
    }
    int status = 0;
    if (waitpid(g, &status, 0) != g || !WIFEXITED(status) || WEXITSTATUS(status) != 0) _exit(5);
    write_all(fds[1], "C", 1);
    _exit(0);
  }
  close(fds[1]);
  char buf[8];
  CHECK_EQ(read_all(fds[0], buf, sizeof buf), 2);
  CHECK(memcmp(buf, "GC", 2) == 0);
  close(fds[0]);
  reap(pid, 0);
}

/* O_NONBLOCK is the descriptor's, and the child's descriptor has it: a read of the empty pipe does not wait. */
static void nonblocking_kept(void) {
  int fds[2];
  CHECK_EQ(pipe2(fds, O_NONBLOCK), 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    char c;
    errno = 0;
    int flagged = (fcntl(fds[0], F_GETFL) & O_NONBLOCK) != 0;
    _exit(flagged && read(fds[0], &c, 1) == -1 && errno == EAGAIN ? 0 : 6);
  }
  reap(pid, 0);
  close(fds[0]);
  close(fds[1]);
}

static int thread_fds[2];
static pid_t thread_child;

static void *fork_in_thread(void *a) {
  thread_child = fork();
  if (thread_child == 0) {
    close(thread_fds[0]);
    write_all(thread_fds[1], "T", 1);
    _exit(0);
  }
  return a;
}

/* test_thread's TestForkInThread, in C: the parent reads what the child of its thread wrote. */
static void fork_from_thread(void) {
  CHECK_EQ(pipe(thread_fds), 0);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, fork_in_thread, NULL), 0);
  char c = 0;
  CHECK_EQ(read(thread_fds[0], &c, 1), 1);
  CHECK_EQ(c, 'T');
  CHECK_EQ(pthread_join(t, NULL), 0);
  CHECK(thread_child > 0);
  close(thread_fds[1]);
  close(thread_fds[0]);
  reap(thread_child, 0);
}

int main(void) {
  for (size_t i = 0; i < BIG; i++) big[i] = (char)(i * 131 + 7);
  child_writes();
  puts("ok child-writes");
  parent_writes();
  puts("ok parent-writes");
  child_reads_nothing();
  puts("ok unread");
  grandchild_writes();
  puts("ok grandchild");
  nonblocking_kept();
  puts("ok nonblocking");
  fork_from_thread();
  puts("ok thread");
  puts("done");
  return 0;
}
