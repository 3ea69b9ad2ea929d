#ifndef GRIDBUS_CZEROMQ_SHIM_H
#define GRIDBUS_CZEROMQ_SHIM_H
#include <zmq.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/prctl.h>

// Names the calling thread (15 bytes show in top -H and /proc); prctl is variadic, so wrap it.
static inline void gridbus_set_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

// eventfd wake-ups let a socket-owning thread wait in zmq_poll on "work queued for me" too.
static inline int gridbus_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
static inline void gridbus_eventfd_signal(int fd) { uint64_t one = 1; ssize_t r = write(fd, &one, sizeof one); (void)r; }
static inline void gridbus_eventfd_drain(int fd) { uint64_t value; ssize_t r = read(fd, &value, sizeof value); (void)r; }
#endif
