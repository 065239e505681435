// hooks.hpp: run_all against small hook scripts in a temp dir: the state on stdin, args and env
// as given, "exit status N" with the output on failure, the timeout, and the stop at the
// first failing hook. Every hook process is reaped before run_all returns.
#include "runtime/container/hooks.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using cove::spec::Hook;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kState =
    R"({"ociVersion":"1.0.2","id":"c1","pid":42,"status":"creating","bundle":"/b"})";

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/cove-ut-hooks-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // An executable /bin/sh script named `name` with `body`; returns its path.
    std::string script(const std::string& name, const std::string& body) const {
        std::string p = path + "/" + name;
        REQUIRE(cove::fs::write_file(p, "#!/bin/sh\n" + body + "\n", O_CREAT | O_TRUNC).ok());
        REQUIRE(::chmod(p.c_str(), 0755) == 0);
        return p;
    }
    std::string read(const std::string& name) const {
        auto r = cove::fs::read_file(path + "/" + name);
        REQUIRE(r.ok());
        return *r;
    }
};

Hook hook(const std::string& path, std::vector<std::string> env = {}) {
    Hook h;
    h.path = path;
    h.env = std::move(env);
    return h;
}

// No child of this process is left (running or zombie).
void check_no_children() {
    errno = 0;
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
    CHECK(errno == ECHILD);
}

std::string out_env(const TempDir& d, const std::string& name) {
    return "OUT=" + d.path + "/" + name;
}

}  // namespace

TEST_CASE("no hooks is fine", "[hooks]") {
    CHECK(cove::hooks::run_all("prestart", {}, kState).ok());
}

TEST_CASE("a hook gets the state on stdin", "[hooks]") {
    TempDir d;
    Hook h =
        hook(d.script("stdin", R"(cat > "$OUT")"), {out_env(d, "stdin.txt"), "PATH=/usr/bin:/bin"});
    REQUIRE(cove::hooks::run_all("createRuntime", {h}, kState).ok());
    CHECK(d.read("stdin.txt") == kState);
    check_no_children();
}

TEST_CASE("a hook gets its args, or its path as argv[0]", "[hooks]") {
    TempDir d;
    std::string path = d.script("args", R"(printf '%s\n' "$#" "$@" > "$OUT")");

    SECTION("args as given; args[0] is argv[0]") {
        Hook h = hook(path, {out_env(d, "args.txt")});
        h.args = {"my-hook", "one", "two words", ""};
        REQUIRE(cove::hooks::run_all("prestart", {h}, kState).ok());
        CHECK(d.read("args.txt") == "3\none\ntwo words\n\n");
    }
    SECTION("no args") {
        Hook h = hook(path, {out_env(d, "args.txt")});
        REQUIRE(cove::hooks::run_all("prestart", {h}, kState).ok());
        CHECK(d.read("args.txt") == "0\n");
    }
    SECTION("argv[0] reaches the process") {
        Hook h = hook("/bin/sh", {out_env(d, "cmdline.txt")});
        h.args = {"custom-argv0", "-c", R"(cat /proc/$$/cmdline > "$OUT")"};
        REQUIRE(cove::hooks::run_all("prestart", {h}, kState).ok());
        std::string cmdline = d.read("cmdline.txt");
        CHECK_THAT(cmdline, StartsWith(std::string("custom-argv0\0-c\0", 16)));
    }
    check_no_children();
}

TEST_CASE("a hook gets exactly its env", "[hooks]") {
    TempDir d;
    REQUIRE(::setenv("COVE_UT_HOOK_LEAK", "leaked", 1) == 0);
    struct Unset {
        ~Unset() { ::unsetenv("COVE_UT_HOOK_LEAK"); }
    } unset;

    Hook h = hook(d.script("env", R"(env > "$OUT")"),
                  {out_env(d, "env.txt"), "FOO=bar baz", "PATH=/usr/bin:/bin"});
    REQUIRE(cove::hooks::run_all("poststart", {h}, kState).ok());
    auto lines = cove::str::split(d.read("env.txt"), '\n');
    auto has = [&](const std::string& l) {
        return std::find(lines.begin(), lines.end(), l) != lines.end();
    };
    CHECK(has("FOO=bar baz"));
    CHECK(has("PATH=/usr/bin:/bin"));
    CHECK(d.read("env.txt").find("COVE_UT_HOOK_LEAK") == std::string::npos);
    check_no_children();
}

TEST_CASE("a failing hook: exit status and output in the message", "[hooks]") {
    TempDir d;
    std::string path =
        d.script("fail", "echo to stdout\necho to stderr >&2\nprintf '\\n\\n'\nexit 3");
    auto st = cove::hooks::run_all("prestart", {hook(path)}, kState);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message() ==
          "prestart hook #0 (" + path + "): exit status 3, output: to stdout\nto stderr");
    CHECK(st.error().code() == 0);
    check_no_children();

    SECTION("no output: no output part") {
        std::string quiet = d.script("quiet", "exit 5");
        auto q = cove::hooks::run_all("poststop", {hook(quiet)}, kState);
        REQUIRE_FALSE(q.ok());
        CHECK(q.error().message() == "poststop hook #0 (" + quiet + "): exit status 5");
    }
    SECTION("long output is cut") {
        std::string loud = d.script(
            "loud",
            "i=0\nwhile [ $i -lt 200 ]; do echo 0123456789abcdef; i=$((i+1)); done\nexit 1");
        auto l = cove::hooks::run_all("prestart", {hook(loud)}, kState);
        REQUIRE_FALSE(l.ok());
        CHECK_THAT(l.error().message(), Contains("exit status 1, output: 0123456789abcdef\n"));
        CHECK(l.error().message().size() < 1500);
    }
    SECTION("killed by a signal") {
        std::string killed = d.script("killed", "kill -9 $$");
        auto k = cove::hooks::run_all("prestart", {hook(killed)}, kState);
        REQUIRE_FALSE(k.ok());
        CHECK_THAT(k.error().message(), StartsWith("prestart hook #0 (" + killed + "): killed"));
        CHECK_THAT(k.error().message(), Contains("signal"));
    }
    SECTION("a hook that cannot be executed") {
        auto m = cove::hooks::run_all("prestart", {hook(d.path + "/missing")}, kState);
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.error().message(), StartsWith("prestart hook #0 (" + d.path + "/missing)"));
        CHECK_THAT(m.error().message(), Contains("exit status 127"));
    }
    check_no_children();
}

TEST_CASE("hooks run in order and stop at the first failure", "[hooks]") {
    TempDir d;
    std::string mark = d.script("mark", R"(: > "$OUT")");
    std::string fail = d.script("fail", "exit 2");
    std::vector<Hook> list = {hook(mark, {out_env(d, "m0")}), hook(mark, {out_env(d, "m1")}),
                              hook(fail), hook(mark, {out_env(d, "m3")})};
    auto st = cove::hooks::run_all("createContainer", list, kState);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message() == "createContainer hook #2 (" + fail + "): exit status 2");
    CHECK(cove::fs::exists(d.path + "/m0"));
    CHECK(cove::fs::exists(d.path + "/m1"));
    CHECK_FALSE(cove::fs::exists(d.path + "/m3"));
    check_no_children();
}

TEST_CASE("a hook that ignores stdin is fine", "[hooks]") {
    TempDir d;
    std::string quiet = d.script("ignore", "exit 0");
    std::string big(32 * 1024, 'x');  // fits in the pipe
    CHECK(cove::hooks::run_all("prestart", {hook(quiet)}, big).ok());
    check_no_children();
}

TEST_CASE("the timeout kills the hook", "[hooks][timeout]") {
    TempDir d;
    Hook h = hook(d.script("slow", "exec /bin/sleep 30"));
    h.timeout = 1;
    auto t0 = Clock::now();
    auto st = cove::hooks::run_all("prestart", {h}, kState);
    auto elapsed = Clock::now() - t0;
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.error().message(), StartsWith("prestart hook #0 (" + h.path + "): "));
    CHECK_THAT(st.error().message(), Contains("timed out"));
    CHECK(elapsed >= std::chrono::milliseconds(900));
    CHECK(elapsed < std::chrono::seconds(10));
    check_no_children();

    SECTION("a fast hook within its timeout") {
        Hook fast = hook(d.script("fast", "exit 0"));
        fast.timeout = 5;
        CHECK(cove::hooks::run_all("prestart", {fast}, kState).ok());
        Hook failing = hook(d.script("fastfail", "exit 4"));
        failing.timeout = 5;
        auto f = cove::hooks::run_all("prestart", {failing}, kState);
        REQUIRE_FALSE(f.ok());
        CHECK_THAT(f.error().message(), Contains("exit status 4"));
        check_no_children();
    }
}

// run_one writes the whole state to the hook's stdin before it starts the timeout: a state
// larger than the pipe (64 KiB) and a hook that does not read it block that write until the
// hook exits on its own, so the timeout never fires (runc copies stdin from a goroutine).
TEST_CASE("the timeout holds when the hook does not read a large state", "[hooks][timeout]") {
    TempDir d;
    Hook h = hook(d.script("sleepy", "exec /bin/sleep 4"));
    h.timeout = 1;
    std::string big(256 * 1024, ' ');
    big.front() = '{';
    big.back() = '}';
    auto t0 = Clock::now();
    auto st = cove::hooks::run_all("prestart", {h}, big);
    auto elapsed = Clock::now() - t0;
    check_no_children();
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.error().message(), Contains("timed out"));
    CHECK(elapsed < std::chrono::milliseconds(3500));
}

// run_one sets SIGPIPE to SIG_IGN for good. The container's init runs the createContainer and
// startContainer hooks and then execve()s the container's process, which inherits an ignored
// SIGPIPE (runc's does not): `yes | head -1` in the container then loops on EPIPE errors
// instead of dying. The disposition should be put back after the write to the hook's stdin.
TEST_CASE("run_all leaves the caller's SIGPIPE disposition alone", "[hooks]") {
    TempDir d;
    struct sigaction dfl {};
    struct sigaction old {};
    dfl.sa_handler = SIG_DFL;
    REQUIRE(::sigaction(SIGPIPE, &dfl, &old) == 0);
    auto st = cove::hooks::run_all("startContainer", {hook(d.script("ok", "exit 0"))}, kState);
    struct sigaction now {};
    REQUIRE(::sigaction(SIGPIPE, nullptr, &now) == 0);
    REQUIRE(::sigaction(SIGPIPE, &old, nullptr) == 0);
    CHECK(st.ok());
    CHECK(now.sa_handler == SIG_DFL);
}
