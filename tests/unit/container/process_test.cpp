// process.hpp: executable lookup (runc's 126/127 exit codes), HOME in the env, rlimits, cwd
// and the failure path of exec. Nothing here changes the test process for good.
#include "runtime/container/process.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"
#include "tests/helpers/temp_dir.hpp"

namespace proc = cove::process;
using cove::Error;
using cove::spec::Process;
using cove::spec::Rlimit;
using Env = std::vector<std::string>;

namespace {

struct TempDir : cove::test::TempDir {
    TempDir() : cove::test::TempDir("cove-ut-proc") {}
};

// Goes back to the old working directory at the end of the scope.
struct CwdGuard {
    std::string old;
    CwdGuard() {
        char buf[PATH_MAX];
        REQUIRE(::getcwd(buf, sizeof buf) != nullptr);
        old = buf;
    }
    ~CwdGuard() { (void)!::chdir(old.c_str()); }
    CwdGuard(const CwdGuard&) = delete;
    CwdGuard& operator=(const CwdGuard&) = delete;
};

void make_file(const std::string& path, mode_t mode) {
    REQUIRE(cove::fs::write_file(path, "#!/bin/sh\nexit 0\n", O_CREAT | O_TRUNC).ok());
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

// bin1: tool (exec), noexec (0644), plain (0644), a directory "dirname".
// bin2: tool (exec, shadowed), only2 (exec), noexec (exec).
struct Bins {
    TempDir d;
    std::string bin1 = d.path + "/bin1";
    std::string bin2 = d.path + "/bin2";
    Bins() {
        REQUIRE(::mkdir(bin1.c_str(), 0755) == 0);
        REQUIRE(::mkdir(bin2.c_str(), 0755) == 0);
        make_file(bin1 + "/tool", 0755);
        make_file(bin1 + "/noexec", 0644);
        make_file(bin1 + "/plain", 0644);
        REQUIRE(::mkdir((bin1 + "/dirname").c_str(), 0755) == 0);
        make_file(bin2 + "/tool", 0755);
        make_file(bin2 + "/only2", 0755);
        make_file(bin2 + "/noexec", 0750);
    }
    Env path_env(const std::string& path) const { return {"A=1", "PATH=" + path, "Z=2"}; }
};

const char* const kNotFound = "executable file not found in $PATH";

}  // namespace

TEST_CASE("find_executable searches PATH in order", "[process][find_executable]") {
    Bins b;
    Env env = b.path_env(b.bin1 + ":" + b.bin2);

    CHECK(proc::find_executable("tool", env).value() == b.bin1 + "/tool");
    CHECK(proc::find_executable("only2", env).value() == b.bin2 + "/only2");
    // not executable in bin1, executable in bin2: the search goes on, as execvp's does
    CHECK(proc::find_executable("noexec", env).value() == b.bin2 + "/noexec");
    // the order of PATH decides
    CHECK(proc::find_executable("tool", b.path_env(b.bin2 + ":" + b.bin1)).value() ==
          b.bin2 + "/tool");
    // a symlink to an executable counts, under its own name
    REQUIRE(::symlink((b.bin1 + "/tool").c_str(), (b.bin2 + "/linked").c_str()) == 0);
    CHECK(proc::find_executable("linked", env).value() == b.bin2 + "/linked");
    REQUIRE(::symlink((b.d.path + "/none").c_str(), (b.bin2 + "/dangling").c_str()) == 0);
    CHECK(proc::find_executable("dangling", env).error().exit_code() == 127);
    // a missing directory in PATH is skipped
    CHECK(proc::find_executable("only2", b.path_env(b.d.path + "/nope:" + b.bin2)).value() ==
          b.bin2 + "/only2");
}

TEST_CASE("find_executable: missing is 127, not executable is 126", "[process][find_executable]") {
    Bins b;

    SECTION("missing everywhere") {
        auto r = proc::find_executable("missing", b.path_env(b.bin1 + ":" + b.bin2));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message() == std::string("exec: \"missing\": ") + kNotFound);
        CHECK(r.error().exit_code() == 127);
        CHECK(r.error().to_string() == r.error().message());
    }
    SECTION("found but not executable") {
        auto r = proc::find_executable("plain", b.path_env(b.bin1 + ":" + b.bin2));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message() == "exec: \"plain\": permission denied");
        CHECK(r.error().exit_code() == 126);
    }
    SECTION("a directory of that name is not an executable") {
        auto r = proc::find_executable("dirname", b.path_env(b.bin1));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message() == "exec: \"dirname\": permission denied");
        CHECK(r.error().exit_code() == 126);
    }
    SECTION("PATH names the variable exactly") {
        Env env = {"MYPATH=" + b.bin1, "PATHX=" + b.bin1, "XPATH=" + b.bin1};
        auto r = proc::find_executable("tool", env);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().exit_code() == 127);
    }
}

// execvp("") fails with ENOENT and Go's exec.LookPath("") (runc) with "executable file not
// found in $PATH": an empty args[0] is not found, not "permission denied".
TEST_CASE("find_executable: an empty name is not found", "[process][find_executable]") {
    Bins b;
    auto r = proc::find_executable("", b.path_env(b.bin1));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().exit_code() == 127);
    CHECK(r.error().message() == std::string("exec: \"\": ") + kNotFound);
}

TEST_CASE("find_executable: names with a slash skip PATH", "[process][find_executable]") {
    Bins b;
    Env env = b.path_env(b.bin2);

    CHECK(proc::find_executable(b.bin1 + "/tool", env).value() == b.bin1 + "/tool");
    // a name with a slash is taken as is, not joined to PATH entries
    auto sub = proc::find_executable("bin1/tool", b.path_env(b.d.path));
    REQUIRE_FALSE(sub.ok());
    CHECK(sub.error().exit_code() == 127);

    auto missing = proc::find_executable(b.bin1 + "/missing", env);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message() ==
          "exec: \"" + b.bin1 + "/missing\": no such file or directory");
    CHECK(missing.error().exit_code() == 127);

    auto noexec = proc::find_executable(b.bin1 + "/noexec", env);
    REQUIRE_FALSE(noexec.ok());
    CHECK(noexec.error().message() == "exec: \"" + b.bin1 + "/noexec\": permission denied");
    CHECK(noexec.error().exit_code() == 126);

    auto dir = proc::find_executable(b.bin1 + "/dirname", env);
    REQUIRE_FALSE(dir.ok());
    CHECK(dir.error().exit_code() == 126);

    SECTION("relative to the working directory") {
        CwdGuard g;
        REQUIRE(::chdir(b.bin1.c_str()) == 0);
        CHECK(proc::find_executable("./tool", env).value() == "./tool");
        auto r = proc::find_executable("./only2", env);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().exit_code() == 127);
    }
}

TEST_CASE("find_executable without PATH uses the default PATH", "[process][find_executable]") {
    const std::vector<std::string> defaults = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                               "/usr/bin",        "/sbin",          "/bin"};
    for (const Env& env : {Env{}, Env{"PATH="}, Env{"HOME=/root"}}) {
        auto r = proc::find_executable("sh", env);
        REQUIRE(r.ok());
        std::string dir = r->substr(0, r->rfind('/'));
        CHECK(std::find(defaults.begin(), defaults.end(), dir) != defaults.end());
        CHECK(r->substr(r->rfind('/')) == "/sh");
    }
    auto r = proc::find_executable("cove-ut-surely-missing", {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().exit_code() == 127);
}

TEST_CASE("env_with_home", "[process][env]") {
    Process p;

    SECTION("HOME already set: the env is unchanged") {
        p.env = {"PATH=/bin", "HOME=/home/me", "TERM=xterm"};
        CHECK(proc::env_with_home(p) == p.env);
        p.env = {"HOME=/x"};
        CHECK(proc::env_with_home(p) == p.env);
    }
    SECTION("HOME missing: the user's home from /etc/passwd, appended") {
        struct passwd* pw = ::getpwuid(0);  // NOLINT(concurrency-mt-unsafe)
        if (pw == nullptr || !cove::fs::exists("/etc/passwd")) {
            WARN("no passwd entry for uid 0 here");
            return;
        }
        std::string home = pw->pw_dir;
        p.user.uid = 0;
        p.env = {"PATH=/bin", "HOMEDIR=/nope", "XHOME=/nope"};
        Env env = proc::env_with_home(p);
        REQUIRE(env.size() == 4);
        CHECK(Env(env.begin(), env.begin() + 3) == p.env);
        CHECK(env.back() == "HOME=" + home);
    }
    SECTION("HOME missing and no passwd entry: /") {
        p.user.uid = 4000000000u;
        p.env = {"A=b"};
        CHECK(proc::env_with_home(p) == Env{"A=b", "HOME=/"});
    }
}

// runc replaces an empty HOME ("HOME=") with the user's home (os.Setenv); appending a second
// HOME leaves the empty one first, and getenv() in the container returns the first.
TEST_CASE("env_with_home replaces an empty HOME", "[process][env]") {
    Process p;
    p.user.uid = 4000000000u;
    p.env = {"HOME=", "A=b"};
    Env env = proc::env_with_home(p);
    auto homes = std::count_if(env.begin(), env.end(),
                               [](const std::string& e) { return e.rfind("HOME=", 0) == 0; });
    CHECK(homes == 1);
    CHECK(std::find(env.begin(), env.end(), "HOME=/") != env.end());
}

TEST_CASE("set_rlimits", "[process][rlimits]") {
    struct rlimit orig {};
    REQUIRE(::getrlimit(RLIMIT_CORE, &orig) == 0);
    struct Restore {
        struct rlimit rl;
        ~Restore() { (void)::setrlimit(RLIMIT_CORE, &rl); }
    } restore{orig};

    Process p;
    SECTION("no rlimits") {
        CHECK(proc::set_rlimits(p).ok());
    }
    SECTION("an unknown type is an error naming it") {
        p.rlimits = {Rlimit{"RLIMIT_FOO", 1, 1}};
        auto st = proc::set_rlimits(p);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == 0);
        CHECK(st.error().message() == "process.rlimits: unknown rlimit \"RLIMIT_FOO\"");
        for (const char* bad : {"rlimit_nofile", "NOFILE", "", "RLIMIT_NOFILE "}) {
            INFO(bad);
            p.rlimits = {Rlimit{bad, 1, 1}};
            CHECK_FALSE(proc::set_rlimits(p).ok());
        }
    }
    SECTION("a valid limit is applied") {
        uint64_t hard = orig.rlim_max;
        p.rlimits = {Rlimit{"RLIMIT_CORE", hard, 0}};
        REQUIRE(proc::set_rlimits(p).ok());
        struct rlimit now {};
        REQUIRE(::getrlimit(RLIMIT_CORE, &now) == 0);
        CHECK(now.rlim_cur == 0);
        CHECK(now.rlim_max == orig.rlim_max);
    }
    SECTION("the kernel's refusal carries errno and the values") {
        p.rlimits = {Rlimit{"RLIMIT_CORE", 5, 10}};  // soft above hard
        auto st = proc::set_rlimits(p);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == EINVAL);
        CHECK(st.error().message() == "process.rlimits: set RLIMIT_CORE to 10:5");
    }
}

TEST_CASE("enter_cwd", "[process][cwd]") {
    CwdGuard g;
    TempDir d;
    Process p;

    p.cwd = d.path;
    REQUIRE(proc::enter_cwd(p, false).ok());
    char buf[PATH_MAX];
    REQUIRE(::getcwd(buf, sizeof buf) != nullptr);
    CHECK(std::string(buf) == d.path);

    p.cwd = d.path + "/missing";
    auto st = proc::enter_cwd(p, false);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == ENOENT);
    CHECK(st.error().message() == "process.cwd: chdir " + p.cwd);
    CHECK_FALSE(proc::enter_cwd(p, true).ok());  // only EACCES is tolerated early
}

// Only paths that cannot be executed: a failed execve returns and leaves this process as is.
TEST_CASE("exec returns runc's exit codes when execve fails", "[process][exec]") {
    TempDir d;
    Process p;
    p.args = {"x"};

    Error missing = proc::exec(d.path + "/missing", p, {});
    CHECK(missing.code() == ENOENT);
    CHECK(missing.exit_code() == 127);
    CHECK(missing.message() == "exec " + d.path + "/missing");

    make_file(d.path + "/noexec", 0644);
    Error noexec = proc::exec(d.path + "/noexec", p, {});
    CHECK(noexec.code() == EACCES);
    CHECK(noexec.exit_code() == 126);
}
