#define _GNU_SOURCE
#include "program_signals.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int pipe_fds[2] = {-1, -1};
static int ready = 0;

static void on_signal(int signal_number) {
    int saved = errno;
    unsigned char byte = (unsigned char)signal_number;
    ssize_t ignored = write(pipe_fds[1], &byte, 1);  // async-signal-safe
    (void)ignored;
    errno = saved;
}

__attribute__((constructor)) static void gridbus_setup_termination_signals(void) {
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, 0);
    sigaction(SIGTERM, &action, 0);
    sigaction(SIGHUP, &action, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    ready = pthread_sigmask(SIG_BLOCK, &set, 0) == 0;
}

int gridbus_termination_signals_ready(void) { return ready; }

int gridbus_wait_termination_signal(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &set, 0);
    unsigned char byte = 0;
    while (read(pipe_fds[0], &byte, 1) < 0 && errno == EINTR) {}
    return byte;
}

void gridbus_wake_termination_waiter(void) {
    unsigned char zero = 0;
    ssize_t ignored = write(pipe_fds[1], &zero, 1);
    (void)ignored;
}
