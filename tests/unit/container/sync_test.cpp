// sync.hpp: typed frames over the SOCK_SEQPACKET pair, the child's errors crossing as kError,
// EOF as EPIPE, and fds with SCM_RIGHTS (with runc's console-socket name as the data).
#include "runtime/container/sync.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <catch2/catch.hpp>

namespace cs = cove::sync;
using cove::Error;
using cs::Frame;
using cs::Type;

namespace {

cs::Pair pair() {
    auto p = cs::make_pair();
    REQUIRE(p.ok());
    return std::move(p).value();
}

bool same_file(int a, int b) {
    struct stat sa {};
    struct stat sb {};
    REQUIRE(::fstat(a, &sa) == 0);
    REQUIRE(::fstat(b, &sb) == 0);
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

TEST_CASE("make_pair gives two connected close-on-exec SEQPACKET sockets", "[sync]") {
    auto p = pair();
    REQUIRE(p.parent.valid());
    REQUIRE(p.child.valid());
    for (int fd : {p.parent.get(), p.child.get()}) {
        CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
        int type = 0;
        socklen_t len = sizeof type;
        REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0);
        CHECK(type == SOCK_SEQPACKET);
    }
}

TEST_CASE("send and recv carry type, code, aux and payload", "[sync]") {
    auto p = pair();

    REQUIRE(cs::send(p.parent.get(), Type::kGo, R"({"ociVersion":"1.0.2"})").ok());
    auto f = cs::recv(p.child.get());
    REQUIRE(f.ok());
    CHECK(f->type == Type::kGo);
    CHECK(f->code == 0);
    CHECK(f->aux == 0);
    CHECK(f->payload == R"({"ociVersion":"1.0.2"})");

    REQUIRE(cs::send(p.child.get(), Type::kPid, "", -3, 12345).ok());
    auto g = cs::recv(p.parent.get());
    REQUIRE(g.ok());
    CHECK(g->type == Type::kPid);
    CHECK(g->code == -3);
    CHECK(g->aux == 12345);
    CHECK(g->payload.empty());

    SECTION("frames keep their boundaries and order") {
        REQUIRE(cs::send(p.child.get(), Type::kHooks, "one").ok());
        REQUIRE(cs::send(p.child.get(), Type::kReady).ok());
        REQUIRE(cs::send(p.child.get(), Type::kHooks, "three").ok());
        auto a = cs::recv(p.parent.get());
        auto b = cs::recv(p.parent.get());
        auto c = cs::recv(p.parent.get());
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        REQUIRE(c.ok());
        CHECK(a->payload == "one");
        CHECK(b->type == Type::kReady);
        CHECK(b->payload.empty());
        CHECK(c->payload == "three");
    }
    SECTION("binary payloads and a large one") {
        std::string bin("a\0b\xff", 4);
        REQUIRE(cs::send(p.parent.get(), Type::kGo, bin).ok());
        CHECK(cs::recv(p.child.get())->payload == bin);

        std::string big(60000, 'x');
        big[0] = '{';
        big.back() = '}';
        REQUIRE(cs::send(p.parent.get(), Type::kGo, big).ok());
        auto r = cs::recv(p.child.get());
        REQUIRE(r.ok());
        CHECK(r->payload == big);
    }
}

// send() cuts a payload to 64 KiB - 16 without a word. The kGo payload is the OCI state with
// the config's annotations, which the createContainer/startContainer hooks get on stdin: large
// annotations would reach them as truncated JSON. Either all of it arrives or send fails.
TEST_CASE("a payload larger than one frame is not cut silently", "[sync]") {
    auto p = pair();
    std::string big(100 * 1024, 'a');
    auto st = cs::send(p.parent.get(), Type::kGo, big);
    if (!st.ok()) {
        SUCCEED("refused: " + st.error().to_string());
        return;
    }
    auto r = cs::recv(p.child.get());
    REQUIRE(r.ok());
    CHECK(r->payload.size() == big.size());
}

TEST_CASE("expect checks the type and fills the frame", "[sync]") {
    auto p = pair();

    REQUIRE(cs::send(p.child.get(), Type::kHooks, "pl", 1, 2).ok());
    Frame f;
    REQUIRE(cs::expect(p.parent.get(), Type::kHooks, &f).ok());
    CHECK(f.type == Type::kHooks);
    CHECK(f.payload == "pl");
    CHECK(f.code == 1);
    CHECK(f.aux == 2);

    REQUIRE(cs::send(p.child.get(), Type::kReady).ok());
    CHECK(cs::expect(p.parent.get(), Type::kReady).ok());  // out may be null

    REQUIRE(cs::send(p.child.get(), Type::kReady).ok());
    auto wrong = cs::expect(p.parent.get(), Type::kHooks);
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.error().message() == "sync: unexpected frame 4");
    CHECK(wrong.error().code() == 0);
}

TEST_CASE("a kError frame becomes the child's Error", "[sync]") {
    auto p = pair();

    SECTION("sent by hand: payload, code = errno, aux = exit code") {
        REQUIRE(
            cs::send(p.child.get(), Type::kError, "rootfs: mount proc on /proc", EPERM, 0).ok());
        Frame f;
        auto st = cs::expect(p.parent.get(), Type::kReady, &f);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message() == "rootfs: mount proc on /proc");
        CHECK(st.error().code() == EPERM);
        CHECK(st.error().exit_code() == 0);
        CHECK(st.error().to_string() ==
              std::string("rootfs: mount proc on /proc: ") + std::strerror(EPERM));
        CHECK(f.payload.empty());  // out is not filled on failure
    }
    SECTION("send_error keeps message, errno and exit code") {
        Error e = cove::errno_error(ENOENT, "exec /bin/nope").with_exit_code(127);
        e.wrap("init");
        cs::send_error(p.child.get(), e);
        auto st = cs::expect(p.parent.get(), Type::kReady);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message() == "init: exec /bin/nope");
        CHECK(st.error().code() == ENOENT);
        CHECK(st.error().exit_code() == 127);
    }
    SECTION("a plain error has no errno") {
        cs::send_error(p.child.get(),
                       cove::make_error("exec: \"x\": executable file not found in $PATH")
                           .with_exit_code(127));
        auto st = cs::expect(p.parent.get(), Type::kGo);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == 0);
        CHECK(st.error().exit_code() == 127);
        CHECK(st.error().to_string() == "exec: \"x\": executable file not found in $PATH");
    }
    SECTION("recv itself returns the kError frame as a frame") {
        cs::send_error(p.child.get(), cove::errno_error(EACCES, "boom").with_exit_code(126));
        auto f = cs::recv(p.parent.get());
        REQUIRE(f.ok());
        CHECK(f->type == Type::kError);
        CHECK(f->payload == "boom");
        CHECK(f->code == EACCES);
        CHECK(f->aux == 126);
    }
}

TEST_CASE("EOF is EPIPE", "[sync]") {
    auto p = pair();

    SECTION("recv after the peer closed") {
        p.child.reset();
        auto f = cs::recv(p.parent.get());
        REQUIRE_FALSE(f.ok());
        CHECK(f.error().code() == EPIPE);
        CHECK(f.error().message().find("peer closed") != std::string::npos);
        auto again = cs::expect(p.parent.get(), Type::kReady);
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().code() == EPIPE);
    }
    SECTION("frames sent before the close are still read, then EOF") {
        REQUIRE(cs::send(p.child.get(), Type::kReady).ok());
        p.child.reset();
        CHECK(cs::expect(p.parent.get(), Type::kReady).ok());
        CHECK(cs::recv(p.parent.get()).error().code() == EPIPE);
    }
    SECTION("send to a closed peer fails with EPIPE, without SIGPIPE") {
        p.parent.reset();
        auto st = cs::send(p.child.get(), Type::kHooks, "x");
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == EPIPE);
        // best effort: no crash, no signal
        cs::send_error(p.child.get(), cove::make_error("late"));
    }
}

TEST_CASE("send_fd and recv_fd pass a working, close-on-exec fd", "[sync][fd]") {
    auto p = pair();
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    cove::UniqueFd r(fds[0]);
    cove::UniqueFd w(fds[1]);

    SECTION("with a name") {
        REQUIRE(cs::send_fd(p.child.get(), w.get(), "/dev/pts/3").ok());
    }
    SECTION("without a name") {
        REQUIRE(cs::send_fd(p.child.get(), w.get()).ok());
    }
    auto got = cs::recv_fd(p.parent.get());
    REQUIRE(got.ok());
    REQUIRE(got->valid());
    CHECK(got->get() != w.get());
    CHECK(same_file(got->get(), w.get()));
    CHECK((::fcntl(got->get(), F_GETFD) & FD_CLOEXEC) != 0);
    REQUIRE(::write(got->get(), "via fd", 6) == 6);
    char buf[16] = {};
    REQUIRE(::read(r.get(), buf, sizeof buf) == 6);
    CHECK(std::string(buf) == "via fd");
}

// runc's console socket: the receiver (containerd's shim, recvtty) reads the pty's name as the
// message data that comes with the master fd.
TEST_CASE("send_fd puts the name in the message data", "[sync][fd]") {
    auto p = pair();
    cove::UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(devnull.valid());
    REQUIRE(cs::send_fd(p.child.get(), devnull.get(), "/dev/pts/7").ok());

    char data[256] = {};
    struct iovec iov = {data, sizeof data};
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    ssize_t n = ::recvmsg(p.parent.get(), &msg, MSG_CMSG_CLOEXEC);
    REQUIRE(n > 0);
    CHECK(std::string(data, static_cast<size_t>(n)) == "/dev/pts/7");
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    REQUIRE(c != nullptr);
    CHECK(c->cmsg_level == SOL_SOCKET);
    CHECK(c->cmsg_type == SCM_RIGHTS);
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    cove::UniqueFd received(fd);
    REQUIRE(received.valid());
    CHECK(same_file(received.get(), devnull.get()));
}

TEST_CASE("recv_fd without an fd in the message is an error", "[sync][fd]") {
    auto p = pair();
    REQUIRE(cs::send(p.child.get(), Type::kReady, "no fd here").ok());
    auto r = cs::recv_fd(p.parent.get());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() == "receive fd: no file descriptor in message");

    p.child.reset();
    CHECK_FALSE(cs::recv_fd(p.parent.get()).ok());  // EOF
}

TEST_CASE("a bad fd is the kernel's error", "[sync][fd]") {
    auto p = pair();
    auto st = cs::send_fd(p.child.get(), 1 << 20, "x");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == EBADF);
    CHECK(st.error().message() == "send fd");
}
