// Error, Result<T>, Status and the COVE_TRY / COVE_ASSIGN macros.
#include "runtime/base/error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "runtime/base/scope_exit.hpp"
#include "runtime/base/unique_fd.hpp"

using cove::errno_error;
using cove::Error;
using cove::make_error;
using cove::Result;
using cove::Status;
using cove::sys_error;

namespace {

std::string strerr(int code) {
    return std::strerror(code);
}

Status fail_with(int code, const char* what) {
    return errno_error(code, what);
}

int g_calls = 0;

Status counted(bool ok) {
    ++g_calls;
    return ok ? Status{} : make_error("counted failed");
}

Status try_status(bool ok) {
    COVE_TRY(counted(ok), "step");
    return {};
}

Result<int> make_int(bool ok, int v) {
    if (!ok) {
        return errno_error(EINVAL, "make int");
    }
    return v;
}

Status try_result(bool ok) {
    COVE_TRY(make_int(ok, 1), "int step");
    return {};
}

Result<int> add_two(bool ok_a, bool ok_b) {
    COVE_ASSIGN(int a, make_int(ok_a, 20), "first");
    COVE_ASSIGN(int b, make_int(ok_b, 22), "second");
    return a + b;
}

Result<std::unique_ptr<int>> make_ptr(bool ok) {
    if (!ok) {
        return make_error("no pointer");
    }
    return std::make_unique<int>(7);
}

Result<int> deref(bool ok) {
    std::unique_ptr<int> p;
    COVE_ASSIGN(p, make_ptr(ok), "deref");
    return *p;
}

Status empty_ctx(int code) {
    COVE_TRY(fail_with(code, "inner"), "");
    return {};
}

}  // namespace

TEST_CASE("Error: code, message and default exit code", "[error]") {
    Error def;
    CHECK(def.code() == 0);
    CHECK(def.exit_code() == 0);
    CHECK(def.message().empty());
    CHECK(def.to_string().empty());

    Error e(ENOENT, "open /x");
    CHECK(e.code() == ENOENT);
    CHECK(e.message() == "open /x");
    CHECK(e.exit_code() == 0);
}

TEST_CASE("Error::wrap builds the chain with the root cause last", "[error]") {
    Error e(0, "root cause");
    e.wrap("middle").wrap("outer");
    CHECK(e.message() == "outer: middle: root cause");

    SECTION("an empty context changes nothing") {
        e.wrap("");
        CHECK(e.message() == "outer: middle: root cause");
    }
    SECTION("wrapping an empty message does not leave a dangling separator") {
        Error empty;
        empty.wrap("ctx");
        CHECK(empty.message() == "ctx");
        empty.wrap("top");
        CHECK(empty.message() == "top: ctx");
    }
    SECTION("rvalue wrap keeps code and exit code") {
        Error moved = Error(EACCES, "open").with_exit_code(126).wrap("exec").wrap("create");
        CHECK(moved.message() == "create: exec: open");
        CHECK(moved.code() == EACCES);
        CHECK(moved.exit_code() == 126);
    }
}

TEST_CASE("Error::to_string appends strerror of the code", "[error]") {
    CHECK(Error(0, "plain").to_string() == "plain");
    CHECK(Error(ENOENT, "open /x").to_string() == "open /x: " + strerr(ENOENT));
    CHECK(Error(EPERM, "").to_string() == strerr(EPERM));

    Error chained(EACCES, "mount proc on /proc");
    chained.wrap("rootfs").wrap("create");
    CHECK(chained.to_string() == "create: rootfs: mount proc on /proc: " + strerr(EACCES));
}

// error.hpp: to_string() is "message: strerror(code) when code is set and not already in the
// message". A message that already ends in the cause must not show it twice.
TEST_CASE("Error::to_string does not repeat a cause already in the message", "[error]") {
    std::string msg = "open /x: " + strerr(ENOENT);
    CHECK(Error(ENOENT, msg).to_string() == msg);
}

TEST_CASE("Error exit codes", "[error]") {
    Error e = make_error("exec: \"x\": executable file not found in $PATH");
    e.with_exit_code(127);
    CHECK(e.exit_code() == 127);
    Error& ref = e.with_exit_code(126);
    CHECK(&ref == &e);
    CHECK(e.exit_code() == 126);
    CHECK(Error(0, "x").with_exit_code(3).exit_code() == 3);
}

TEST_CASE("sys_error, errno_error and make_error", "[error]") {
    errno = EBUSY;
    Error s = sys_error("umount /mnt");
    CHECK(s.code() == EBUSY);
    CHECK(s.message() == "umount /mnt");
    CHECK(s.to_string() == "umount /mnt: " + strerr(EBUSY));

    Error n = errno_error(ENOSPC, "write");
    CHECK(n.code() == ENOSPC);
    CHECK(n.message() == "write");

    Error m = make_error("bad input");
    CHECK(m.code() == 0);
    CHECK(m.to_string() == "bad input");
}

TEST_CASE("Result<T> holds a value or an error", "[error]") {
    Result<int> ok = 5;
    REQUIRE(ok.ok());
    CHECK(static_cast<bool>(ok));
    CHECK(ok.value() == 5);
    CHECK(*ok == 5);
    *ok = 6;
    CHECK(ok.value() == 6);

    Result<int> bad = errno_error(EIO, "read");
    REQUIRE_FALSE(bad.ok());
    CHECK_FALSE(static_cast<bool>(bad));
    CHECK(bad.error().code() == EIO);
    CHECK(bad.error().message() == "read");

    Result<std::string> s = std::string("abc");
    CHECK(s->size() == 3);
    const Result<std::string>& cs = s;
    CHECK(cs->size() == 3);
    CHECK(*cs == "abc");

    Error taken = std::move(bad).error();
    CHECK(taken.code() == EIO);
}

TEST_CASE("Result<T> works with move-only values", "[error]") {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(9);
    REQUIRE(r.ok());
    std::unique_ptr<int> p = std::move(r).value();
    REQUIRE(p);
    CHECK(*p == 9);

    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    ::close(fds[1]);
    Result<cove::UniqueFd> fr = cove::UniqueFd(fds[0]);
    REQUIRE(fr.ok());
    cove::UniqueFd fd = std::move(fr).value();
    CHECK(fd.get() == fds[0]);
}

TEST_CASE("Status and ok_status", "[error]") {
    Status st;
    CHECK(st.ok());
    CHECK(cove::ok_status().ok());
    Status bad = make_error("nope");
    CHECK_FALSE(bad.ok());
    CHECK_FALSE(static_cast<bool>(bad));
    CHECK(bad.error().message() == "nope");
}

TEST_CASE("COVE_TRY returns the wrapped error or goes on", "[error]") {
    g_calls = 0;
    CHECK(try_status(true).ok());
    CHECK(g_calls == 1);  // the expression is evaluated once

    g_calls = 0;
    Status st = try_status(false);
    CHECK(g_calls == 1);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message() == "step: counted failed");

    CHECK(try_result(true).ok());
    Status r = try_result(false);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == EINVAL);
    CHECK(r.error().to_string() == "int step: make int: " + strerr(EINVAL));

    Status e = empty_ctx(EPERM);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().message() == "inner");
    CHECK(e.error().code() == EPERM);
}

TEST_CASE("COVE_ASSIGN declares or assigns, or returns the wrapped error", "[error]") {
    auto sum = add_two(true, true);
    REQUIRE(sum.ok());
    CHECK(*sum == 42);

    auto first = add_two(false, true);
    REQUIRE_FALSE(first.ok());
    CHECK(first.error().message() == "first: make int");
    CHECK(first.error().code() == EINVAL);

    auto second = add_two(true, false);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message() == "second: make int");

    auto d = deref(true);
    REQUIRE(d.ok());
    CHECK(*d == 7);
    auto nd = deref(false);
    REQUIRE_FALSE(nd.ok());
    CHECK(nd.error().message() == "deref: no pointer");
}

TEST_CASE("ScopeExit runs unless dismissed", "[error][scope_exit]") {
    int runs = 0;
    {
        cove::ScopeExit guard([&] { ++runs; });
    }
    CHECK(runs == 1);
    {
        cove::ScopeExit guard([&] { ++runs; });
        guard.dismiss();
    }
    CHECK(runs == 1);
}

TEST_CASE("UniqueFd owns, moves, releases and resets", "[error][unique_fd]") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    cove::UniqueFd r(fds[0]);
    cove::UniqueFd w(fds[1]);
    CHECK(r.valid());
    CHECK(static_cast<bool>(w));

    cove::UniqueFd moved(std::move(r));
    CHECK(moved.get() == fds[0]);
    CHECK_FALSE(r.valid());  // NOLINT(bugprone-use-after-move)

    cove::UniqueFd assigned;
    CHECK_FALSE(assigned.valid());
    assigned = std::move(moved);
    CHECK(assigned.get() == fds[0]);

    int raw = w.release();
    CHECK_FALSE(w.valid());
    CHECK(::fcntl(raw, F_GETFD) >= 0);  // release did not close
    w.reset(raw);

    w.reset();
    CHECK(::fcntl(raw, F_GETFD) == -1);
    CHECK(errno == EBADF);
    { cove::UniqueFd scoped(std::move(assigned)); }
    CHECK(::fcntl(fds[0], F_GETFD) == -1);
}
