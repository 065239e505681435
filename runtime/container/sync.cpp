#include "runtime/container/sync.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace cove::sync {
namespace {

struct Header {
    uint32_t type;
    int32_t code;
    int32_t aux;
    uint32_t len;
};

}  // namespace

Result<Pair> make_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
        return sys_error("socketpair");
    }
    return Pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Status send(int fd, Type type, std::string_view payload, int32_t code, int32_t aux) {
    Header h{static_cast<uint32_t>(type), code, aux, static_cast<uint32_t>(payload.size())};
    struct iovec iov[2] = {{&h, sizeof h}, {const_cast<char*>(payload.data()), payload.size()}};
    struct msghdr msg {};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    for (;;) {
        if (::sendmsg(fd, &msg, MSG_NOSIGNAL) >= 0) {
            return {};
        }
        if (errno != EINTR) {
            return sys_error("sync send");
        }
    }
}

void send_error(int fd, const Error& e) {
    (void)send(fd, Type::kError, e.message(), e.code(), e.exit_code());
}

Result<Frame> recv(int fd) {
    ssize_t n;
    do {
        n = ::recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return sys_error("sync receive");
    }
    std::vector<char> buf(std::max<size_t>(static_cast<size_t>(n), 1));
    do {
        n = ::recv(fd, buf.data(), buf.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return sys_error("sync receive");
    }
    if (n == 0) {
        return errno_error(EPIPE, "sync receive: peer closed the channel");
    }
    if (static_cast<size_t>(n) < sizeof(Header)) {
        return make_error("sync receive: short frame");
    }
    Header h{};
    std::memcpy(&h, buf.data(), sizeof h);
    Frame f;
    f.type = static_cast<Type>(h.type);
    f.code = h.code;
    f.aux = h.aux;
    f.payload.assign(buf.data() + sizeof h, static_cast<size_t>(n) - sizeof h);
    return f;
}

Status expect(int fd, Type type, Frame* out) {
    COVE_ASSIGN(Frame f, recv(fd), "");
    if (f.type == Type::kError) {
        return Error(f.code, f.payload).with_exit_code(f.aux);
    }
    if (f.type != type) {
        return make_error("sync: unexpected frame " + std::to_string(static_cast<int>(f.type)));
    }
    if (out != nullptr) {
        *out = std::move(f);
    }
    return {};
}

Status send_fd(int sock, int fd, std::string_view name) {
    char byte = 0;
    struct iovec iov = {&byte, 1};
    if (!name.empty()) {
        iov = {const_cast<char*>(name.data()), name.size()};
    }
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    for (;;) {
        if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) {
            return {};
        }
        if (errno != EINTR) {
            return sys_error("send fd");
        }
    }
}

Result<UniqueFd> recv_fd(int sock) {
    char data[4096];
    struct iovec iov = {data, sizeof data};
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    ssize_t n;
    do {
        n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return sys_error("receive fd");
    }
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (c == nullptr || c->cmsg_type != SCM_RIGHTS) {
        return make_error("receive fd: no file descriptor in message");
    }
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return UniqueFd(fd);
}

}  // namespace cove::sync
