// pp_port_poll and pp_pipe_read on POSIX systems (see ready.h). Knows nothing of N-API.
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ready.h"
#include "timing.h"

namespace {

constexpr double kConnectMaxMs = 2000;  // a connect still in progress after this is abandoned
constexpr int kConnectSliceMs = 10;     // how often a connect in progress checks the stop word

// A nonblocking, close-on-exec socket: another thread may spawn at any moment and must not
// inherit it. -1 with errno on failure.
int stream_socket(int family) {
#ifdef SOCK_CLOEXEC
  return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = socket(family, SOCK_STREAM, 0);
  if (fd >= 0) {
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return fd;
#endif
}

// A connection to a free port in the ephemeral range can be given that very port as its own
// local port (TCP simultaneous open): connected to itself, not to the command.
bool to_itself(int fd) {
  struct sockaddr_storage local, peer;
  socklen_t ll = sizeof local, pl = sizeof peer;
  if (getsockname(fd, (struct sockaddr*)&local, &ll) != 0 || getpeername(fd, (struct sockaddr*)&peer, &pl) != 0) return false;
  return ll == pl && memcmp(&local, &peer, ll) == 0;
}

// One connect to `ai`: 1 connected (stamped into *at), 0 not (refused, timed out, stopped).
int try_connect(const struct addrinfo* ai, const std::atomic<int>* stop, double* at) {
  int fd = stream_socket(ai->ai_family);
  if (fd < 0) return 0;
  int ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
  if (ok) *at = pp_monotonic_ms();
  if (!ok && errno == EINPROGRESS) {
    // Loopback completes or refuses at once; a remote host may take a round trip or more.
    struct pollfd p = {fd, POLLOUT, 0};
    for (double waited = 0; !ok && waited < kConnectMaxMs && stop->load() == 0; waited += kConnectSliceMs) {
      int n = poll(&p, 1, kConnectSliceMs);
      if (n < 0 && errno != EINTR) break;
      if (n <= 0) continue;
      *at = pp_monotonic_ms();
      int soerr = 0;
      socklen_t len = sizeof soerr;
      ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0;
      break;
    }
  }
  if (ok && to_itself(fd)) ok = 0;
  close(fd);
  return ok;
}

}  // namespace

int pp_port_poll(const char* host, int port, double interval_ms, const std::atomic<int>* stop, struct pp_port_result* out) {
  memset(out, 0, sizeof *out);
  out->ready_mono_ms = NAN;
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo* list = nullptr;
  // Resolved once, on this thread: a name (localhost) costs the main thread nothing.
  int rc = getaddrinfo(host, service, &hints, &list);
  if (rc != 0) {
    out->err = EINVAL;
    snprintf(out->error, sizeof out->error, "%s", gai_strerror(rc));
    return out->err;
  }
  double next = pp_monotonic_ms();
  while (stop->load() == 0 && !out->ok) {
    out->attempts++;
    for (const struct addrinfo* ai = list; ai != nullptr && !out->ok; ai = ai->ai_next) {
      out->ok = try_connect(ai, stop, &out->ready_mono_ms);
    }
    if (out->ok) break;
    // The next round at the next deadline; after a slow round (a preempted thread) not a burst
    // of rounds to catch up, just the next one from now.
    next += interval_ms;
    double now = pp_monotonic_ms();
    if (next < now) next = now;
    pp_sleep_until(next);
  }
  freeaddrinfo(list);
  return 0;
}

long pp_pipe_read(int fd, char* buf, size_t cap, double timeout_ms, double* at_mono_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int n;
  do {
    n = poll(&p, 1, (int)ceil(timeout_ms));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  if (n == 0) return -2;
  ssize_t got;
  do {
    got = read(fd, buf, cap);
  } while (got < 0 && errno == EINTR);
  // Stamped as the read returns: this is when the bytes were there for anyone to see.
  *at_mono_ms = pp_monotonic_ms();
  return (long)got;
}

int pp_ready_supported(void) { return 1; }
