// The proc connector (forkwatch.h): each datagram the kernel multicasts to group CN_IDX_PROC is
// a netlink message holding one struct cn_msg, which carries one struct proc_event
// (linux/connector.h, linux/cn_proc.h).
#include "forkwatch.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {

// The kernel answers a listen request while our send is still in the system call (the connector's
// input runs synchronously): the acknowledgement is queued before send returns (300 of 300 opens
// here found it at once). It never comes when the request is ignored: a requester in another pid
// or user namespace (a container), or one refused when nobody else listens (the ack is only
// multicast to listeners). The short wait covers a kernel that would answer from a work queue,
// and is what an ignored request costs, once per open.
constexpr int kAckTimeoutMs = 20;

// The socket's receive buffer bounds how many events may wait between two drains. Each queued
// event costs the kernel one skb's truesize (measured on 6.18: 185,536 bytes for 202 events,
// ~920 each); asking for 1 MiB gets 2 MiB (the kernel doubles it for bookkeeping), about 2,000
// events: a sampler paused for a while, or a fork storm between two ticks. Past it the kernel
// drops events and the next recv reports ENOBUFS (counted as lost: the caller rescans).
constexpr int kRcvBufBytes = 1 << 20;

// Linux >= 6.6 also accepts an 8-byte request (struct proc_input: op, then a mask of the events
// wanted) and then drops every other event before it is queued for this socket: no skb per exec,
// comm or uid change. Older kernels ignore a request of that length silently, so it is sent after
// the plain 4-byte listen (whose acknowledgement tells us the listen worked), as a refinement.
// Defined here because older uapi headers do not have it.
struct proc_input_v66 {
  uint32_t mcast_op;
  uint32_t event_type;
};

// Where the netlink header, the connector header and the payload sit in one message.
constexpr size_t kCnOffset = NLMSG_HDRLEN;
constexpr size_t kDataOffset = kCnOffset + sizeof(struct cn_msg);
// The part of a proc_event every fork or exit message has: what, cpu, timestamp, and the fork or
// exit record of the union.
constexpr size_t kEventHead = offsetof(struct proc_event, event_data);
// The event kinds (in C++ the header's enum is scoped to struct proc_event).
constexpr uint32_t kNone = proc_event::PROC_EVENT_NONE;
constexpr uint32_t kFork = proc_event::PROC_EVENT_FORK;
constexpr uint32_t kExit = proc_event::PROC_EVENT_EXIT;
constexpr uint32_t kExec = proc_event::PROC_EVENT_EXEC;

// Send one connector control message (`len` bytes of payload) to the kernel.
int Send(int fd, const void* payload, uint16_t len, uint32_t ack) {
  unsigned char buf[kDataOffset + sizeof(struct proc_input_v66)] = {};
  struct nlmsghdr nl = {};
  nl.nlmsg_len = (uint32_t)(kDataOffset + len);
  nl.nlmsg_type = NLMSG_DONE;
  struct cn_msg cn = {};
  cn.id.idx = CN_IDX_PROC;
  cn.id.val = CN_VAL_PROC;
  cn.ack = ack;
  cn.len = len;
  memcpy(buf, &nl, sizeof nl);
  memcpy(buf + kCnOffset, &cn, sizeof cn);
  memcpy(buf + kDataOffset, payload, len);
  struct sockaddr_nl to = {};
  to.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
  ssize_t r = sendto(fd, buf, nl.nlmsg_len, 0, (const struct sockaddr*)&to, sizeof to);
  return r < 0 ? errno : 0;
}

// Calls f(cn, event bytes, event length) for each connector message of a datagram from the kernel.
// Fields are copied out with memcpy: the event starts 36 bytes into the datagram, not aligned.
template <typename F>
void EachEvent(const unsigned char* buf, size_t n, F f) {
  size_t off = 0;
  while (off + NLMSG_HDRLEN <= n) {
    struct nlmsghdr nl;
    memcpy(&nl, buf + off, sizeof nl);
    if (nl.nlmsg_len < NLMSG_HDRLEN || off + nl.nlmsg_len > n) return;
    if (nl.nlmsg_type != NLMSG_ERROR && nl.nlmsg_type != NLMSG_NOOP && nl.nlmsg_len >= kDataOffset) {
      struct cn_msg cn;
      memcpy(&cn, buf + off + kCnOffset, sizeof cn);
      size_t len = nl.nlmsg_len - kDataOffset;
      if (cn.id.idx == CN_IDX_PROC && cn.id.val == CN_VAL_PROC && cn.len <= len) f(cn, buf + off + kDataOffset, (size_t)cn.len);
    }
    off += NLMSG_ALIGN(nl.nlmsg_len);
  }
}

uint32_t What(const unsigned char* ev) {
  uint32_t what;
  memcpy(&what, ev + offsetof(struct proc_event, what), sizeof what);
  return what;
}

// One datagram, or -1 with errno. Only the kernel's (sender port 0): any process may unicast to
// our port id without a capability, and a forged "fork" must not add a process to a tree.
ssize_t RecvFromKernel(int fd, unsigned char* buf, size_t size) {
  for (;;) {
    struct sockaddr_nl from = {};
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(fd, buf, size, MSG_DONTWAIT, (struct sockaddr*)&from, &fl);
    if (r < 0 && errno == EINTR) continue;
    if (r >= 0 && from.nl_pid != 0) continue;
    return r;
  }
}

double MonoMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

// Wait for the kernel's acknowledgement of our request `ack` (its ack field is ours + 1); events
// read meanwhile are dropped (they happened before open returned, so the caller's first scan sees
// those processes). 0, the kernel's error (EPERM...), or ETIMEDOUT.
int AwaitAck(int fd, uint32_t ack) {
  unsigned char buf[4096];
  double deadline = MonoMs() + kAckTimeoutMs;
  for (;;) {
    ssize_t r = RecvFromKernel(fd, buf, sizeof buf);
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) return errno;
    if (r < 0) {
      int left = (int)(deadline - MonoMs());
      if (left <= 0) return ETIMEDOUT;
      struct pollfd p = {fd, POLLIN, 0};
      poll(&p, 1, left);
      continue;
    }
    int err = -1;
    EachEvent(buf, (size_t)r, [&](const struct cn_msg& cn, const unsigned char* ev, size_t len) {
      if (cn.ack != ack + 1 || len < kEventHead + sizeof(uint32_t) || What(ev) != kNone) return;
      uint32_t e;
      memcpy(&e, ev + kEventHead, sizeof e);
      err = (int)e;
    });
    if (err >= 0) return err;
  }
}

// Write one [kind, pid, ppid, status] if there is room; otherwise it is lost.
void Put(int32_t* out, size_t cap, size_t* n, int32_t* lost, int32_t kind, int32_t pid, int32_t ppid, int32_t status) {
  if (*n >= cap) {
    (*lost)++;
    return;
  }
  int32_t* rec = out + *n * PP_FORKWATCH_FIELDS;
  rec[0] = kind;
  rec[1] = pid;
  rec[2] = ppid;
  rec[3] = status;
  (*n)++;
}

}  // namespace

int pp_forkwatch_open(int* fd_out) {
  *fd_out = -1;
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (fd < 0) return errno;
  int size = kRcvBufBytes;
  // SO_RCVBUFFORCE may pass net.core.rmem_max but needs CAP_NET_ADMIN; else rmem_max caps it.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_nl sa = {};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = CN_IDX_PROC;  // nl_pid 0: the kernel picks a port id unique to this socket
  struct sockaddr_nl me = {};
  socklen_t ml = sizeof me;
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0 || getsockname(fd, (struct sockaddr*)&me, &ml) != 0) {
    int err = errno;  // EPERM where the kernel keeps the group to CAP_NET_ADMIN
    close(fd);
    return err;
  }
  // Our port id in the request's ack field: the acknowledgement (ack + 1; the kernel rewrites its
  // seq) is multicast to every listener, and this tells ours from another socket's.
  uint32_t ack = me.nl_pid;
  uint32_t op = PROC_CN_MCAST_LISTEN;
  int err = Send(fd, &op, sizeof op, ack);
  if (err == 0) err = AwaitAck(fd, ack);
  if (err != 0) {
    close(fd);
    return err;
  }
  struct proc_input_v66 filtered = {PROC_CN_MCAST_LISTEN, kFork | kExit | kExec};
  Send(fd, &filtered, sizeof filtered, ack);  // a refinement (see proc_input_v66): its result does not matter
  *fd_out = fd;
  return 0;
}

int pp_forkwatch_drain(int fd, int32_t* out, size_t cap, int32_t* lost) {
  // One event per datagram (~76 bytes); the buffer is larger in case a kernel ever batches.
  unsigned char buf[4096];
  size_t n = 0;
  while (n < cap) {
    ssize_t r = RecvFromKernel(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == ENOBUFS) {  // the queue overflowed and the kernel dropped events; what is queued still reads
        (*lost)++;
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return -errno;
    }
    EachEvent(buf, (size_t)r, [&](const struct cn_msg&, const unsigned char* ev, size_t len) {
      uint32_t what = What(ev);
      // fork: parent pid, parent tgid, child pid, child tgid; exit: pid, tgid, code, signal, then
      // parent pid, parent tgid (0 where an older kernel does not send them); exec: pid, tgid.
      pid_t ids[6] = {};
      size_t need = what == kFork ? 4 * sizeof(pid_t) : what == kExit ? 3 * sizeof(pid_t) : what == kExec ? 2 * sizeof(pid_t) : 0;
      if (need == 0 || len < kEventHead + need) return;
      size_t have = len - kEventHead;
      memcpy(ids, ev + kEventHead, have < sizeof ids ? have : sizeof ids);
      // A thread is a task whose pid is not its tgid: its creation and exit are not a process's.
      // ids[2] of an exit is exit_code (a u32 in the header, the same 4 bytes as a pid_t).
      if (what == kFork && ids[2] == ids[3]) Put(out, cap, &n, lost, PP_FORKWATCH_FORK, ids[3], ids[1], 0);
      if (what == kExit && ids[0] == ids[1]) Put(out, cap, &n, lost, PP_FORKWATCH_EXIT, ids[1], ids[5], ids[2]);
      // An exec makes its thread the leader (de_thread) before the event is sent: pid == tgid.
      if (what == kExec && ids[0] == ids[1]) Put(out, cap, &n, lost, PP_FORKWATCH_EXEC, ids[1], 0, 0);
    });
  }
  return (int)n;
}

void pp_forkwatch_close(int fd) {
  // Older kernels count listeners and build a message for every fork and exit on the machine
  // while the count is above zero; only this request brings it down again (closing the socket
  // does not). Newer ones ask netlink whether anyone listens; there it only ends deliveries early.
  uint32_t op = PROC_CN_MCAST_IGNORE;
  Send(fd, &op, sizeof op, 0);
  close(fd);
}

int pp_reap_orphan(int32_t pid, int32_t* status, double* out) {
  int st = 0;
  struct rusage ru = {};
  pid_t got;
  do {
    got = wait4((pid_t)pid, &st, WNOHANG, &ru);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return -errno;
  if (got == 0) return 0;
  *status = st;
  out[0] = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec;
  out[1] = (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
  out[2] = (double)ru.ru_maxrss * 1024.0;  // Linux: KiB
  out[3] = (double)ru.ru_minflt;
  out[4] = (double)ru.ru_majflt;
  out[5] = (double)ru.ru_nvcsw;
  out[6] = (double)ru.ru_nivcsw;
  return 1;
}
