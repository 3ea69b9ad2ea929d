#ifndef GRIDBUS_PROGRAM_SIGNALS_H
#define GRIDBUS_PROGRAM_SIGNALS_H
// SIGINT/SIGTERM/SIGHUP handling that keeps signals away from libzmq's threads, for GridBus's own
// programs only: the module GridProgram, which only executables link, is its one user, so a
// program that links the libraries (GridBusClient, GridSchema) keeps its signals as it set them.
//
// A constructor runs before Swift's main: it blocks the three signals (every thread created later,
// libzmq's I/O threads included, inherits the mask) and installs a handler that writes the
// signal number to a pipe. Signals can then only be taken by a thread that unblocks them: the
// signal thread (gridbus_wait_termination_signal) and, with an async main, the main thread,
// which libdispatch parks in sigsuspend with an empty mask. Either way the number reaches the pipe.

/// 1 once the constructor has run.
int gridbus_termination_signals_ready(void);
/// Unblocks SIGINT/SIGTERM/SIGHUP in the calling thread and waits for one; returns its number, or 0 after a wake-up.
int gridbus_wait_termination_signal(void);
/// Wakes gridbus_wait_termination_signal without a signal (it returns 0).
void gridbus_wake_termination_waiter(void);
#endif
