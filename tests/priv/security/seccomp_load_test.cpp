// Loads compiled seccomp programs for real, each in a forked child that reports through its
// exit code (0 = every check passed, otherwise the number of the failed check) and always
// _exits. Needs root for the CAP_SYS_ADMIN cases; the rest only needs a seccomp kernel.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/security/caps.hpp"
#include "runtime/security/seccomp.hpp"

namespace sec = cove::security;
namespace spec = cove::spec;

namespace {

// Runs fn in a forked child; returns its exit code, or 128 + signal.
int in_child(const std::function<int()>& fn) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int rc = 100;
        try {
            rc = fn();
        } catch (...) {
            rc = 101;
        }
        ::_exit(rc);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        REQUIRE(errno == EINTR);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// For use in a child: prints what failed and yields the check's number.
int fail(int code, const char* what) {
    (void)std::fprintf(stderr, "child check %d failed: %s (errno %s)\n", code, what,
                       std::strerror(errno));
    return code;
}

bool errno_is(long rc, int want) {
    return rc == -1 && errno == want;
}

#define REQUIRE_ROOT()                                   \
    do {                                                 \
        if (::geteuid() != 0) {                          \
            WARN("skipped: needs root (CAP_SYS_ADMIN)"); \
            return;                                      \
        }                                                \
    } while (0)

spec::SeccompSyscall rule(std::vector<std::string> names,
                          std::string action,
                          std::optional<uint32_t> errno_ret = std::nullopt) {
    return spec::SeccompSyscall{std::move(names), std::move(action), errno_ret, {}};
}

sec::SeccompProgram compile(const spec::Seccomp& s) {
    auto r = sec::compile_seccomp(s);
    INFO((r.ok() ? std::string() : r.error().to_string()));
    REQUIRE(r.ok());
    return std::move(r).value();
}

spec::Seccomp deny_mkdir() {
    spec::Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls = {rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO"),
                  rule({"rmdir"}, "SCMP_ACT_ERRNO", ENOTEMPTY)};
    return s;
}

// The OCI JSON of a profile as spec::Seccomp (the spec module's parser is not linked here).
spec::Seccomp from_json(const nlohmann::json& j) {
    spec::Seccomp s;
    s.default_action = j.value("defaultAction", "");
    if (j.contains("defaultErrnoRet")) {
        s.default_errno_ret = j["defaultErrnoRet"].get<uint32_t>();
    }
    s.architectures = j.value("architectures", std::vector<std::string>{});
    for (const auto& js : j.value("syscalls", nlohmann::json::array())) {
        spec::SeccompSyscall sc = rule(js.at("names").get<std::vector<std::string>>(),
                                       js.at("action").get<std::string>());
        if (js.contains("errnoRet")) {
            sc.errno_ret = js["errnoRet"].get<uint32_t>();
        }
        for (const auto& ja : js.value("args", nlohmann::json::array())) {
            sc.args.push_back({ja.at("index").get<uint32_t>(), ja.at("value").get<uint64_t>(),
                               ja.value("valueTwo", uint64_t{0}), ja.at("op").get<std::string>()});
        }
        s.syscalls.push_back(std::move(sc));
    }
    return s;
}

// Checks of the deny_mkdir() profile, in a child that has loaded it.
int check_deny_mkdir() {
    const char* dir = "/tmp/cove-priv-security-mkdir";
    if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2) {
        return fail(10, "PR_GET_SECCOMP is not 2 (filter mode)");
    }
    if (!errno_is(::mkdir(dir, 0700), EPERM)) {
        return fail(11, "mkdir was not refused with EPERM");
    }
    if (!errno_is(::mkdirat(AT_FDCWD, dir, 0700), EPERM)) {
        return fail(12, "mkdirat was not refused with EPERM");
    }
    if (!errno_is(::rmdir(dir), ENOTEMPTY)) {
        return fail(13, "rmdir did not get the rule's errnoRet");
    }
    if (::getpid() != static_cast<pid_t>(::syscall(SYS_getpid)) || ::getpid() <= 1) {
        return fail(14, "getpid");
    }
    return 0;
}

}  // namespace

TEST_CASE("a filter loaded after no_new_privs denies mkdir, allows getpid", "[seccomp][priv]") {
    auto prog = compile(deny_mkdir());
    int rc = in_child([&] {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            return fail(1, "PR_SET_NO_NEW_PRIVS");
        }
        auto fd = sec::load_seccomp(prog);
        if (!fd.ok()) {
            return fail(2, fd.error().to_string().c_str());
        }
        if (fd->valid()) {
            return fail(3, "a listener fd without notify rules");
        }
        return check_deny_mkdir();
    });
    CHECK(rc == 0);
}

TEST_CASE("without no_new_privs, loading needs CAP_SYS_ADMIN", "[seccomp][priv]") {
    REQUIRE_ROOT();
    auto prog = compile(deny_mkdir());
    SECTION("root loads it") {
        int rc = in_child([&] {
            auto fd = sec::load_seccomp(prog);
            return fd.ok() ? check_deny_mkdir() : fail(1, fd.error().to_string().c_str());
        });
        CHECK(rc == 0);
    }
    SECTION("without CAP_SYS_ADMIN the kernel says EACCES") {
        int rc = in_child([&] {
            spec::Capabilities caps;
            caps.effective = caps.permitted = {"CAP_KILL"};
            auto sets = sec::resolve_capabilities(caps);
            if (!sec::apply_capabilities(sets).ok()) {
                return fail(1, "apply_capabilities");
            }
            auto fd = sec::load_seccomp(prog);
            if (fd.ok() || fd.error().code() != EACCES) {
                return fail(2, "load did not fail with EACCES");
            }
            if (fd.error().message() != "seccomp(SECCOMP_SET_MODE_FILTER)") {
                return fail(3, fd.error().message().c_str());
            }
            return 0;
        });
        CHECK(rc == 0);
    }
}

TEST_CASE("docker's profile loads and behaves", "[seccomp][priv]") {
    std::ifstream f(COVE_FIXTURES "/seccomp/docker-default.json");
    REQUIRE(f.good());
    auto prog = compile(from_json(nlohmann::json::parse(f)));
    int rc = in_child([&] {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            return fail(1, "PR_SET_NO_NEW_PRIVS");
        }
        auto fd = sec::load_seccomp(prog);
        if (!fd.ok()) {
            return fail(2, fd.error().to_string().c_str());
        }
        if (::getpid() <= 1 || ::getuid() != ::geteuid()) {
            return fail(3, "getpid/getuid");
        }
        if (!errno_is(::syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, nullptr), EPERM)) {
            return fail(4, "mount was not refused with EPERM");
        }
        if (!errno_is(::syscall(SYS_clone3, nullptr, 0), ENOSYS)) {
            return fail(5, "clone3 did not get ENOSYS");
        }
        if (!errno_is(::syscall(SYS_socket, 40, SOCK_STREAM, 0), EPERM)) {
            return fail(6, "socket(AF_VSOCK) was not refused");
        }
        int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            return fail(7, "socket(AF_UNIX)");
        }
        ::close(s);
        if (::syscall(SYS_personality, 0xffffffffUL) < 0) {
            return fail(8, "personality(0xffffffff)");
        }
        // Newer than every syscall the profile names: ENOSYS, as from an older kernel (runc).
        if (!errno_is(::syscall(999, 0, 0), ENOSYS)) {
            return fail(9, "syscall 999 did not get ENOSYS");
        }
        return 0;
    });
    CHECK(rc == 0);
}

namespace {

// In the child: a grandchild calls mkdir, which the filter sends to `listener`; answer EXDEV.
int answer_one_mkdir(int listener) {
    pid_t pid = ::fork();
    if (pid < 0) {
        return fail(20, "fork");
    }
    if (pid == 0) {
        int rc = ::mkdir("/tmp/cove-priv-security-notify", 0700);
        ::_exit(errno_is(rc, EXDEV) ? 0 : 1);
    }
    struct seccomp_notif_sizes sizes {};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
        return fail(21, "SECCOMP_GET_NOTIF_SIZES");
    }
    std::vector<char> req_buf(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
    std::vector<char> resp_buf(
        std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
    auto* req = reinterpret_cast<seccomp_notif*>(req_buf.data());
    auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf.data());
    struct pollfd pfd {
        listener, POLLIN, 0
    };
    if (::poll(&pfd, 1, 5000) != 1) {
        return fail(22, "no notification within 5s");
    }
    if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
        return fail(23, "SECCOMP_IOCTL_NOTIF_RECV");
    }
    if ((req->data.nr != SYS_mkdir && req->data.nr != SYS_mkdirat) ||
        req->pid != static_cast<uint32_t>(pid)) {
        return fail(24, "unexpected notification");
    }
    resp->id = req->id;
    resp->error = -EXDEV;
    if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0) {
        return fail(25, "SECCOMP_IOCTL_NOTIF_SEND");
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return fail(26, "the grandchild did not see EXDEV");
    }
    return 0;
}

int load_and_answer(const sec::SeccompProgram& prog) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return fail(1, "PR_SET_NO_NEW_PRIVS");
    }
    auto fd = sec::load_seccomp(prog);
    if (!fd.ok()) {
        return fail(2, fd.error().to_string().c_str());
    }
    if (!fd->valid()) {
        return fail(3, "no listener fd");
    }
    int fl = ::fcntl(fd->get(), F_GETFD);
    if (fl < 0 || (fl & FD_CLOEXEC) == 0) {
        return fail(4, "the listener fd is not close-on-exec");
    }
    return answer_one_mkdir(fd->get());
}

}  // namespace

TEST_CASE("a NOTIFY filter returns a working listener fd", "[seccomp][priv]") {
    spec::Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls = {rule({"mkdir", "mkdirat"}, "SCMP_ACT_NOTIFY")};
    SECTION("default flags") {
        auto prog = compile(s);
        REQUIRE(prog.notify);
        CHECK(in_child([&] { return load_and_answer(prog); }) == 0);
    }
    SECTION("with TSYNC (needs TSYNC_ESRCH next to the listener)") {
        s.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};
        auto prog = compile(s);
        CHECK(in_child([&] { return load_and_answer(prog); }) == 0);
    }
    SECTION("with WAIT_KILLABLE_RECV") {
        if (!sec::seccomp_flag_supported(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
            WARN("skipped: the kernel lacks SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19)");
            return;
        }
        s.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
        auto prog = compile(s);
        CHECK(in_child([&] { return load_and_answer(prog); }) == 0);
    }
}

TEST_CASE("every supported flag loads", "[seccomp][priv]") {
    spec::Seccomp s = deny_mkdir();
    s.flags = sec::seccomp_supported_flags();
    REQUIRE_FALSE(s.flags.empty());
    auto prog = compile(s);
    // WAIT_KILLABLE_RECV is dropped at load when there is no listener (the kernel refuses it).
    int rc = in_child([&] {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            return fail(1, "PR_SET_NO_NEW_PRIVS");
        }
        auto fd = sec::load_seccomp(prog);
        return fd.ok() ? check_deny_mkdir() : fail(2, fd.error().to_string().c_str());
    });
    CHECK(rc == 0);
}
