// Process births and deaths as events, for a tree sampler's membership (forkwatch_linux.cc on
// Linux, forkwatch_unsupported.cc elsewhere). Knows nothing of N-API: the glue
// (forkwatch_addon.cc) converts.
//
// Why: without events a tree finds new descendants by reading every /proc/PID/stat at its rescan
// rate, so a child is adopted up to one rescan interval late, one that lives less than that is
// never a member, and the cost grows with the machine's process count. Linux's proc connector
// (netlink NETLINK_CONNECTOR, CN_IDX_PROC) multicasts a message for every fork and exit on the
// machine the moment it happens; a sampler tick drains what arrived since the last one.
// Listening needs CAP_NET_ADMIN on older kernels (6.18 lets any user listen): without it open
// fails (EPERM), and the caller keeps the scan.
#ifndef PROCPROBE_FORKWATCH_H_
#define PROCPROBE_FORKWATCH_H_

#include <stddef.h>
#include <stdint.h>

// One event is PP_FORKWATCH_FIELDS int32s: [kind, pid, ppid, status].
enum pp_forkwatch_kind {
  PP_FORKWATCH_FORK = 1,  // pid: the new process (its tgid), ppid: its parent process (tgid); status 0
  PP_FORKWATCH_EXIT = 2,  // pid: the process whose leader thread exited, ppid: its parent, status: below
  PP_FORKWATCH_EXEC = 3,  // pid: the process that ran a new program (its argv is the new one now); ppid, status 0
};
// An exit's status is the kernel's exit_code in waitpid's encoding (the low 7 bits the signal that
// killed it, bits 8-15 the exit code): what its parent's wait will get, told to us even when that
// parent reaps it. Why it is the whole process's: the connector reports the leader's exit, and a
// process ends through do_group_exit, which gives every thread the group's code before they exit.
// (A leader that exits alone with pthread_exit while other threads run is reported early, with
// its own code 0; the tree still sees the process live until its probe finds it gone.)
#define PP_FORKWATCH_FIELDS 4

// Open a non-blocking, close-on-exec socket listening for process forks, execs and exits. 0 and *fd set,
// or the errno: EPERM without CAP_NET_ADMIN, EPROTONOSUPPORT without the connector (kernel
// without CONFIG_PROC_EVENTS), ETIMEDOUT when the kernel did not acknowledge the listen,
// ENOSYS off Linux.
int pp_forkwatch_open(int* fd);

// Copy the events pending on fd into out (room for `cap` events, PP_FORKWATCH_FIELDS int32s
// each), oldest first, without blocking or allocating. Only processes: thread creation and
// non-leader thread exits are dropped. Returns how many it wrote (cap: there may be more), or
// -errno when the socket failed. *lost is incremented once per overflow (ENOBUFS: the kernel
// dropped events because the socket's buffer was full), after which the caller cannot know every
// birth and must rescan.
int pp_forkwatch_drain(int fd, int32_t* out, size_t cap, int32_t* lost);

// Stop listening and close fd.
void pp_forkwatch_close(int fd);

// Reap one exited orphan: a descendant of the command that was reparented to this process (a
// child subreaper) when its own parent exited, and stays a zombie until this process waits for
// it. wait4(pid, WNOHANG): never waitpid(-1), which would steal the status of a child another
// waiter owns (the spawn thread's wait4 of the command, libuv's of its children), so the caller
// names the pid and must know it is an orphan. 1 with *status (waitpid's encoding) and
// out[PP_REAP_FIELDS] set: user µs, system µs, max RSS bytes, minor faults, major faults,
// voluntary and involuntary context switches (its rusage and that of the children it waited
// for); 0 while it runs; -errno (ECHILD: not a child of this process; ENOSYS off POSIX).
#define PP_REAP_FIELDS 7
int pp_reap_orphan(int32_t pid, int32_t* status, double* out);

#endif  // PROCPROBE_FORKWATCH_H_
