#include "threads_linux.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

namespace {

// Parse "voluntary_ctxt_switches:\tN" and "nonvoluntary_ctxt_switches:\tN" (near the end).
bool parse_ctx(const char* buf, double* vol, double* invol) {
  const char* v = strstr(buf, "\nvoluntary_ctxt_switches:");
  const char* i = strstr(buf, "\nnonvoluntary_ctxt_switches:");
  if (v == nullptr || i == nullptr) return false;
  *vol = (double)strtoull(v + 25, nullptr, 10);
  *invol = (double)strtoull(i + 28, nullptr, 10);
  return true;
}

bool grow(void** p, int* cap, size_t elem, int need) {
  if (need <= *cap) return true;
  int c = *cap ? *cap * 2 : 16;
  while (c < need) c *= 2;
  void* q = realloc(*p, elem * (size_t)c);
  if (q == nullptr) return false;
  *p = q;
  *cap = c;
  return true;
}

// Bring the table in line with the task dir: threads that are gone give their last counts to the
// exited totals; new ones are opened. Runs when the thread set changed, not per sample.
bool rescan(pp_thread_table* tt, int task_dir, char* dirbuf, size_t dir_cap) {
  int listed = 0;
  if (lseek(task_dir, 0, SEEK_SET) < 0) return false;
  for (;;) {
    long n = syscall(SYS_getdents64, task_dir, dirbuf, dir_cap);
    if (n < 0) return false;
    if (n == 0) break;
    for (long off = 0; off < n;) {
      // struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
      unsigned short reclen;
      memcpy(&reclen, dirbuf + off + 16, sizeof reclen);
      const char* name = dirbuf + off + 19;
      off += reclen;
      if (name[0] < '0' || name[0] > '9') continue;
      if (!grow((void**)&tt->scan, &tt->cap_scan, sizeof(int), listed + 1)) return false;
      tt->scan[listed++] = atoi(name);
    }
  }
  int kept = 0;
  for (int i = 0; i < tt->n; i++) {
    bool alive = false;
    for (int k = 0; k < listed && !alive; k++) alive = tt->scan[k] == tt->list[i].tid;
    if (alive) {
      tt->list[kept++] = tt->list[i];
    } else {
      tt->exited_vol += tt->list[i].vol;
      tt->exited_invol += tt->list[i].invol;
      close(tt->list[i].fd);
    }
  }
  tt->n = kept;
  for (int k = 0; k < listed; k++) {
    bool known = false;
    for (int i = 0; i < kept && !known; i++) known = tt->list[i].tid == tt->scan[k];
    if (known) continue;
    char leaf[32];
    snprintf(leaf, sizeof leaf, "%d/status", tt->scan[k]);
    int fd = openat(task_dir, leaf, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // the thread exited between listing and open
    if (!grow((void**)&tt->list, &tt->cap, sizeof(pp_thread_fd), tt->n + 1)) {
      close(fd);
      return false;
    }
    tt->list[tt->n++] = {fd, tt->scan[k], 0, 0};
  }
  return true;
}

}  // namespace

bool pp_threads_read(pp_thread_table* tt, int task_dir, double nthreads, char* buf, size_t buf_cap, char* dirbuf,
                     size_t dir_cap, double* vol, double* invol) {
  for (int attempt = 0; attempt < 2; attempt++) {
    // A thread gone since the last scan fails its pread (ESRCH), which triggers one rescan.
    bool stale = (double)tt->n != nthreads;
    for (int i = 0; i < tt->n && !stale; i++) {
      double v, iv;
      if (pp_read_text(tt->list[i].fd, buf, buf_cap) < 0 || !parse_ctx(buf, &v, &iv)) {
        stale = true;
      } else {
        tt->list[i].vol = v;
        tt->list[i].invol = iv;
      }
    }
    if (!stale) {
      *vol = tt->exited_vol;
      *invol = tt->exited_invol;
      for (int i = 0; i < tt->n; i++) {
        *vol += tt->list[i].vol;
        *invol += tt->list[i].invol;
      }
      return true;
    }
    if (!rescan(tt, task_dir, dirbuf, dir_cap)) return false;
  }
  return false;
}

void pp_threads_free(pp_thread_table* tt) {
  for (int i = 0; i < tt->n; i++) close(tt->list[i].fd);
  free(tt->list);
  free(tt->scan);
  tt->list = nullptr;
  tt->scan = nullptr;
  tt->n = tt->cap = tt->cap_scan = 0;
}
