/* WASI has no <sys/wait.h>; Lua's POSIX configuration reads exit statuses
 * with these macros (luaL_execresult). The encoding is the usual one: exit
 * code in bits 8-15, terminating signal in bits 0-6. */
#ifndef LWTC_SYS_WAIT_H
#define LWTC_SYS_WAIT_H
#define WEXITSTATUS(s) (((s) & 0xff00) >> 8)
#define WTERMSIG(s) ((s) & 0x7f)
#define WIFEXITED(s) (WTERMSIG(s) == 0)
#define WIFSIGNALED(s) (((signed char)(((s) & 0x7f) + 1) >> 1) > 0)
#endif
