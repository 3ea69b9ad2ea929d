#define _GNU_SOURCE
#include "service_notify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int address_of(const char *name, struct sockaddr_un *address, socklen_t *length) {
    size_t size = strlen(name);
    if (size < 2 || size >= sizeof(address->sun_path)) return -EINVAL;
    memset(address, 0, sizeof(*address));
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path, name, size);
    int abstract = name[0] == '@';
    if (abstract) address->sun_path[0] = '\0';
    // An abstract name is exactly its bytes; a path includes its terminating NUL.
    *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + size + (abstract ? 0 : 1));
    return 0;
}

int gridbus_notify_send(const char *socket_name, const char *message, size_t length) {
    struct sockaddr_un address;
    socklen_t address_length;
    int invalid = address_of(socket_name, &address, &address_length);
    if (invalid) return invalid;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    ssize_t sent = sendto(fd, message, length, MSG_NOSIGNAL, (struct sockaddr *)&address, address_length);
    int error = errno;
    close(fd);
    return sent < 0 ? -error : 0;
}

int gridbus_notify_listen(const char *socket_name) {
    struct sockaddr_un address;
    socklen_t address_length;
    int invalid = address_of(socket_name, &address, &address_length);
    if (invalid) return invalid;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&address, address_length) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

ssize_t gridbus_notify_receive(int fd, char *buffer, size_t capacity, pid_t *sender) {
    struct iovec part = {.iov_base = buffer, .iov_len = capacity};
    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } control;
    struct msghdr message = {0};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    message.msg_control = &control;
    message.msg_controllen = sizeof(control);
    ssize_t received = recvmsg(fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (received < 0) return -errno;
    *sender = 0;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_CREDENTIALS) {
            struct ucred credentials;
            memcpy(&credentials, CMSG_DATA(header), sizeof(credentials));
            *sender = credentials.pid;
        }
    }
    if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return -EMSGSIZE;
    return received;
}
