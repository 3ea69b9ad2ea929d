#ifndef GRIDBUS_SERVICE_NOTIFY_H
#define GRIDBUS_SERVICE_NOTIFY_H
#include <stddef.h>
#include <sys/types.h>

// systemd's notification protocol (sd_notify(3)): a program sends newline-separated `KEY=VALUE`
// lines (READY=1, STATUS=…) as one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET; a name
// starting with '@' is in the abstract namespace. gridbusd listens on one such socket per plugin,
// as systemd does per unit, so a worker reports its state the same way under either supervisor.

/// Sends `message` (`length` bytes) as one datagram to `socket_name`. Returns 0, or -errno.
int gridbus_notify_send(const char *socket_name, const char *message, size_t length);

/// A non-blocking, close-on-exec datagram socket bound to `socket_name`, with SO_PASSCRED so that
/// every datagram carries its sender's pid. Returns the descriptor, or -errno.
int gridbus_notify_listen(const char *socket_name);

/// Receives one datagram into `buffer`: its length, with the sender's pid in `*sender` (0 when the
/// kernel gave none); -EAGAIN when none is waiting, -EMSGSIZE for one longer than `capacity`
/// (dropped), or another -errno.
ssize_t gridbus_notify_receive(int fd, char *buffer, size_t capacity, pid_t *sender);
#endif
