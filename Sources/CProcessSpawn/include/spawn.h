#ifndef GRIDBUS_SPAWN_H
#define GRIDBUS_SPAWN_H
#include <sys/types.h>

// Starting plugin processes so that none outlives gridbusd.
//
// The child gets its own process group (so a stop reaches everything it started), asks the
// kernel for SIGKILL when the spawning thread dies (PR_SET_PDEATHSIG: the only guarantee that
// survives `kill -9` of the daemon), has the signal mask and dispositions the daemon changed
// reset, keeps only stdin (a given descriptor, or /dev/null), stdout and stderr, and then execs. fork() is safe here
// because the child calls only async-signal-safe functions before execve.

/// Starts `path` with `argv` and `envp` (NULL-terminated) in `directory` (or the current one when
/// NULL). Returns the child's pid, or -errno when it could not be started (exec failures included:
/// they are reported through a close-on-exec pipe, so a missing executable is an error here, not an exit 127).
pid_t gridbus_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                    int stdin_fd, int stdout_fd, int stderr_fd);

/// Starts the group reaper: a small child process that outlives gridbusd only to SIGKILL the plugin
/// process groups it was told about once gridbusd is gone (PR_SET_PDEATHSIG reaches a plugin, not
/// the helpers a plugin started). Write a pgid (int32) to the returned descriptor to add a group,
/// its negation to forget it; on a normal exit close the descriptor and reap *reaper_pid. Returns the
/// descriptor or -errno.
int gridbus_start_group_reaper(pid_t *reaper_pid);

/// pipe2(fds, O_CLOEXEC): a pipe that no other child inherits. Returns 0, or -errno.
int gridbus_pipe_cloexec(int fds[2]);

/// A file descriptor that becomes readable when the process exits (pidfd_open), or -errno.
int gridbus_pidfd_open(pid_t pid);
#endif
