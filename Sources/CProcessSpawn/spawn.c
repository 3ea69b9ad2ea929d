#define _GNU_SOURCE
#include "spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static void child_fail(int report_fd, int error) {
    ssize_t ignored = write(report_fd, &error, sizeof error);
    (void)ignored;
    _exit(127);
}

pid_t gridbus_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                    int stdin_fd, int stdout_fd, int stderr_fd) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return -error;
    }
    if (pid == 0) {
        setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(report[1], errno);
        // The parent may have died between fork and prctl: then nobody would ever stop us.
        if (getppid() != parent) child_fail(report[1], ESRCH);
        for (int signal_number = 1; signal_number < NSIG; signal_number++) signal(signal_number, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, 0);
        int input_fd = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);
        if (input_fd < 0 || dup2(input_fd, 0) < 0) child_fail(report[1], errno);
        if (dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) child_fail(report[1], errno);
        // Everything else the daemon holds (sockets, the journal) must not leak into plugins.
        int keep = report[1] > 2 ? report[1] : 3;
        for (int fd = 3; fd < keep; fd++) close(fd);
        syscall(SYS_close_range, keep + 1, ~0U, 0);
        if (directory && chdir(directory) != 0) child_fail(report[1], errno);
        execve(path, argv, envp);
        child_fail(report[1], errno);
    }
    close(report[1]);
    int error = 0;
    ssize_t got;
    while ((got = read(report[0], &error, sizeof error)) < 0 && errno == EINTR) {}
    close(report[0]);
    if (got == (ssize_t)sizeof error) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -error;
    }
    return pid;
}

int gridbus_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}

int gridbus_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno; }

int gridbus_start_group_reaper(pid_t *reaper_pid) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int error = errno;
        close(fds[0]);
        close(fds[1]);
        return -error;
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here: the parent has many threads.
        signal(SIGINT, SIG_IGN);  // a Ctrl-C or a stop aimed at gridbusd's group is gridbusd's to handle
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, 0);
        int keep = fds[0];
        for (int fd = 0; fd < keep; fd++) close(fd);
        syscall(SYS_close_range, keep + 1, ~0U, 0);
        enum { capacity = 4096 };
        static pid_t groups[capacity];
        int count = 0;
        int32_t value;
        ssize_t got;
        for (;;) {
            got = read(keep, &value, sizeof value);
            if (got < 0 && errno == EINTR) continue;
            if (got != (ssize_t)sizeof value) break;  // end of file: gridbusd exited, however it exited
            if (value > 0 && count < capacity) {
                groups[count++] = value;
            } else if (value < 0) {
                for (int i = 0; i < count; i++)
                    if (groups[i] == -value) groups[i] = groups[--count];
            }
        }
        for (int i = 0; i < count; i++) kill(-groups[i], SIGKILL);
        _exit(0);
    }
    close(fds[0]);
    *reaper_pid = pid;
    return fds[1];
}
