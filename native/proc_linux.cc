// Readers of single /proc files for the Linux probe (see proc_linux.h). Knows nothing of N-API.
#include "proc_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

// Skip `count` space-separated fields.
const char* skip_fields(const char* p, int count) {
  while (count-- > 0) {
    while (*p && *p != ' ') p++;
    while (*p == ' ') p++;
  }
  return p;
}

// Count entries of an open /proc directory (for kernels without the O(1) st_size). Uses the
// caller's buffer: no allocation.
double count_dir_entries(int dirfd, char* buf, size_t cap) {
  if (lseek(dirfd, 0, SEEK_SET) < 0) return -1;
  double count = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, dirfd, buf, cap);
    if (n < 0) return -1;
    if (n == 0) break;
    for (long off = 0; off < n;) {
      // struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
      unsigned short reclen;
      memcpy(&reclen, buf + off + 16, sizeof reclen);
      const char* name = buf + off + 19;
      if (name[0] != '.') count++;
      off += reclen;
    }
  }
  return count;
}

}  // namespace

int pp_open_proc(int pid, const char* leaf, int flags) {
  char path[64];
  if (pid == 0) {
    snprintf(path, sizeof path, "/proc/self/%s", leaf);
  } else {
    snprintf(path, sizeof path, "/proc/%d/%s", pid, leaf);
  }
  return open(path, flags | O_RDONLY | O_CLOEXEC);
}

// comm (field 2) may hold spaces and parentheses ("a) b (c"), so parsing starts after the LAST
// ')' in the line: comm is the only field that can contain one.
bool pp_parse_stat(const char* buf, struct pp_stat_fields* out) {
  const char* close = strrchr(buf, ')');
  if (close == nullptr || close[1] != ' ') return false;
  const char* p = close + 2;  // field 3: state
  out->state = *p;
  char* end;
  p = skip_fields(p, 6);  // -> field 9 flags
  out->flags = strtoul(p, &end, 10);
  p = skip_fields(p, 1);  // -> field 10 minflt
  out->minflt = (double)strtoull(p, &end, 10);
  p = skip_fields(p, 1);  // -> field 11 cminflt
  out->cminflt = (double)strtoull(p, &end, 10);
  p = skip_fields(p, 1);  // -> field 12 majflt
  out->majflt = (double)strtoull(p, &end, 10);
  p = skip_fields(p, 1);  // -> field 13 cmajflt
  out->cmajflt = (double)strtoull(p, &end, 10);
  p = skip_fields(p, 1);  // -> field 14 utime
  out->utime = (double)strtoull(p, &end, 10);
  p = skip_fields(p, 1);  // -> field 15 stime
  out->stime = (double)strtoull(p, &end, 10);
  p = skip_fields(p, 1);  // -> field 16 cutime
  out->cutime = (double)strtoull(p, &end, 10);
  p = skip_fields(p, 1);  // -> field 17 cstime
  out->cstime = (double)strtoull(p, &end, 10);
  p = skip_fields(p, 3);  // -> field 20 num_threads
  out->num_threads = (double)strtoull(p, &end, 10);
  p = skip_fields(p, 2);  // -> field 22 starttime
  out->starttime = strtoull(p, &end, 10);
  return *end == ' ' || *end == '\n' || *end == '\0';
}

enum pp_status pp_status_from_errno(int err) {
  if (err == ENOENT) return PP_NOT_FOUND;
  if (err == ESRCH) return PP_EXITED;
  if (err == EACCES || err == EPERM) return PP_ACCESS_DENIED;
  return PP_IO_ERROR;
}

int pp_fd_count_o1(int own_fd_dir) {
  // st_size of /proc/PID/fd is the fd count on Linux >= 6.2 and 0 before. Probe it on our own
  // directory, which certainly has open fds (this very one), not on the target's.
  int own = own_fd_dir >= 0 ? own_fd_dir : pp_open_proc(0, "fd", O_DIRECTORY);
  struct stat st;
  int o1 = own >= 0 && fstat(own, &st) == 0 && st.st_size > 0;
  if (own_fd_dir < 0 && own >= 0) close(own);
  return o1;
}

double pp_count_fds(int fd_dir, int o1, char* buf, size_t cap) {
  if (fd_dir < 0) return NAN;
  if (o1) {
    struct stat st;
    return fstat(fd_dir, &st) == 0 ? (double)st.st_size : NAN;
  }
  double n = count_dir_entries(fd_dir, buf, cap);
  return n < 0 ? NAN : n;
}

double pp_count_threads(int task_dir, double fallback) {
  struct stat st;
  if (task_dir >= 0 && fstat(task_dir, &st) == 0 && st.st_nlink > 2) {
    return (double)st.st_nlink - 2;
  }
  return fallback;
}
