/* Preloaded ahead of libfaketime in the fault suite: timerfd_settime and timerfd_gettime go
 * straight to the kernel. libfaketime 0.9.10 shifts every absolute timerfd deadline by the faked
 * offset, whatever the timer's clock, even with FAKETIME_DONT_FAKE_MONOTONIC (it cannot tell the
 * clock from the descriptor: wolfcw/libfaketime#378). libdispatch arms its timers on CLOCK_BOOTTIME
 * with absolute deadlines, so after a faked jump forward every deadline lies in the past, the timer
 * fires at once, and each process's timer thread spins. Only the wall clock is to jump. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

int timerfd_settime(int fd, int flags, const struct itimerspec *new_value, struct itimerspec *old_value) {
    return (int)syscall(SYS_timerfd_settime, fd, flags, new_value, old_value);
}

int timerfd_gettime(int fd, struct itimerspec *curr_value) {
    return (int)syscall(SYS_timerfd_gettime, fd, curr_value);
}
