/* up.c - `shopsphere up`: the local supervisor.
 *
 * Starts every service and the sandboxes as their own processes (the real
 * microservice topology, one `shopsphere serve --services=NAME` each), reads
 * their output line by line and prints it prefixed with the service name,
 * restarts a process that dies with exponential backoff (reset once it has
 * stayed up for a while), and on SIGINT/SIGTERM stops them all: SIGTERM,
 * then SIGKILL for any still alive after the grace period.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kit/breaker.h"
#include "kit/log.h"

#define RESTART_BASE_MS 100
#define RESTART_MAX_MS 5000
#define STABLE_AFTER_MS 30000

struct child {
  enum service_id id;
  pid_t pid;           /* 0 when not running */
  int out_fd;          /* read end of its stdout+stderr, -1 when closed */
  char line[8192];     /* partial line */
  size_t line_len;
  int restarts;        /* consecutive quick deaths */
  int64_t started_ms;
  int64_t restart_at_ms; /* when to start again; 0 = not scheduled */
};

static volatile sig_atomic_t stop_requested;
static int signal_pipe[2] = {-1, -1};

static void on_stop_signal(int sig) {
  stop_requested = sig;
  int saved = errno;
  ssize_t w = write(signal_pipe[1], "x", 1);
  (void)w;
  errno = saved;
}

static void emit_line(const struct child *c, const char *line, size_t len) {
  char prefix[32];
  int n = snprintf(prefix, sizeof prefix, "%-16s| ", service_name(c->id));
  /* One write per line keeps lines of different children apart. */
  char buf[sizeof c->line + 40];
  if (len > sizeof c->line) len = sizeof c->line;
  memcpy(buf, prefix, (size_t)n);
  memcpy(buf + n, line, len);
  buf[(size_t)n + len] = '\n';
  ssize_t w = write(STDOUT_FILENO, buf, (size_t)n + len + 1);
  (void)w;
}

static int start_child(struct child *c, const char *self) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    /* Die with the supervisor even if it is killed without a chance to
     * stop us. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_IGN); /* Ctrl-C reaches the whole group: the
                                supervisor decides the order of the stop */
    char services[64];
    snprintf(services, sizeof services, "--services=%s", service_name(c->id));
    execl(self, self, "serve", services, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  c->pid = pid;
  c->out_fd = fds[0];
  c->line_len = 0;
  c->started_ms = clock_monotonic_ms();
  c->restart_at_ms = 0;
  return 0;
}

/* Reads what is available; prints complete lines. Returns false at EOF. */
static bool drain(struct child *c) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(c->out_fd, buf, sizeof buf);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n') {
        emit_line(c, c->line, c->line_len);
        c->line_len = 0;
      } else if (c->line_len < sizeof c->line) {
        c->line[c->line_len++] = buf[i];
      }
    }
  }
}

static void close_output(struct child *c) {
  if (c->out_fd < 0) return;
  drain(c);
  if (c->line_len > 0) emit_line(c, c->line, c->line_len);
  close(c->out_fd);
  c->out_fd = -1;
  c->line_len = 0;
}

static void reap(struct child *children, size_t n, bool stopping) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < n; i++) {
      struct child *c = &children[i];
      if (c->pid != pid) continue;
      close_output(c);
      c->pid = 0;
      if (stopping) break;
      int64_t now = clock_monotonic_ms();
      if (now - c->started_ms > STABLE_AFTER_MS) c->restarts = 0;
      int64_t delay = RESTART_BASE_MS << (c->restarts < 6 ? c->restarts : 6);
      if (delay > RESTART_MAX_MS) delay = RESTART_MAX_MS;
      c->restarts++;
      c->restart_at_ms = now + delay;
      if (WIFSIGNALED(status))
        log_warn("%s (pid %d) killed by signal %d; restarting in %lld ms",
                 service_name(c->id), (int)pid, WTERMSIG(status),
                 (long long)delay);
      else
        log_warn("%s (pid %d) exited with status %d; restarting in %lld ms",
                 service_name(c->id), (int)pid, WEXITSTATUS(status),
                 (long long)delay);
    }
  }
}

static void print_banner(const struct config *cfg) {
  printf("ShopSphere is starting (profile %s)\n"
         "  storefront  http://localhost:%d/\n"
         "  admin       http://localhost:%d/admin/\n"
         "  API         http://localhost:%d/api/v1/\n"
         "  API docs    http://localhost:%d/docs\n"
         "  mail inbox  http://localhost:%d/ (sandbox mail server)\n"
         "Ctrl-C stops every service.\n",
         cfg->profile, cfg->ports[SVC_GATEWAY], cfg->ports[SVC_GATEWAY],
         cfg->ports[SVC_GATEWAY], cfg->ports[SVC_GATEWAY],
         cfg->ports[SVC_SANDBOX_MAIL]);
  fflush(stdout);
}

int cli_up(const struct config *cfg, int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    printf("usage: shopsphere up [--services=LIST|all]\n\n"
           "Starts each service (and the sandboxes) as its own process on\n"
           "its own port, prints their logs prefixed with the service name,\n"
           "restarts a process that dies (backoff from %d ms to %d ms), and\n"
           "stops them all on Ctrl-C or SIGTERM.\n",
           RESTART_BASE_MS, RESTART_MAX_MS);
    return 0;
  }
  bool chosen[SVC_COUNT];
  if (!cli_parse_services(cli_option(argc, argv, "--services"), chosen, true))
    return 2;

  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) {
    perror("shopsphere up: cannot find its own executable");
    return 1;
  }
  self[len] = '\0';

  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  log_set_process("supervisor");
  print_banner(cfg);

  struct child children[SVC_COUNT];
  size_t n = 0;
  for (int i = 0; i < SVC_COUNT; i++) {
    if (!chosen[i]) continue;
    children[n] = (struct child){.id = (enum service_id)i, .out_fd = -1};
    if (start_child(&children[n], self) != 0) {
      log_error("cannot start %s: %s", service_name((enum service_id)i),
                strerror(errno));
    }
    n++;
  }

  while (!stop_requested) {
    struct pollfd pfds[SVC_COUNT + 1];
    size_t owners[SVC_COUNT + 1];
    size_t np = 0;
    pfds[np++] = (struct pollfd){.fd = signal_pipe[0], .events = POLLIN};
    for (size_t i = 0; i < n; i++) {
      if (children[i].out_fd < 0) continue;
      owners[np] = i;
      pfds[np++] = (struct pollfd){.fd = children[i].out_fd, .events = POLLIN};
    }
    poll(pfds, np, 100);
    for (size_t p = 1; p < np; p++) {
      if (pfds[p].revents == 0) continue;
      struct child *c = &children[owners[p]];
      if (!drain(c)) {
        /* EOF: the process closed its output, normally by exiting. */
        close(c->out_fd);
        c->out_fd = -1;
      }
    }
    reap(children, n, false);
    int64_t now = clock_monotonic_ms();
    for (size_t i = 0; i < n; i++) {
      struct child *c = &children[i];
      if (c->pid == 0 && c->restart_at_ms != 0 && now >= c->restart_at_ms) {
        log_info("restarting %s", service_name(c->id));
        if (start_child(c, self) != 0) c->restart_at_ms = now + RESTART_MAX_MS;
      }
    }
  }

  log_info("stopping %zu processes", n);
  for (size_t i = 0; i < n; i++)
    if (children[i].pid > 0) kill(children[i].pid, SIGTERM);
  int64_t deadline = clock_monotonic_ms() + cfg->shutdown_grace_ms + 2000;
  for (;;) {
    size_t alive = 0;
    for (size_t i = 0; i < n; i++) {
      if (children[i].out_fd >= 0 && !drain(&children[i])) {
        close(children[i].out_fd);
        children[i].out_fd = -1;
      }
    }
    reap(children, n, true);
    for (size_t i = 0; i < n; i++) alive += children[i].pid > 0;
    if (alive == 0) break;
    if (clock_monotonic_ms() > deadline) {
      for (size_t i = 0; i < n; i++) {
        if (children[i].pid > 0) {
          log_warn("%s did not stop in time: killing it",
                   service_name(children[i].id));
          kill(children[i].pid, SIGKILL);
        }
      }
      deadline = clock_monotonic_ms() + 60000;
    }
    usleep(20 * 1000);
  }
  for (size_t i = 0; i < n; i++) close_output(&children[i]);
  log_info("all processes stopped");
  return 0;
}
