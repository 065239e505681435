// Error values for all of cove: Error{errno, message with a context chain} and Result<T>,
// shaped like std::expected (absent from libstdc++ 12 in C++20). Messages read
// "outer: inner: root cause", so the root cause is last on the line the user sees.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cove {

class Error {
public:
    Error() = default;
    Error(int code, std::string msg) : code_(code), msg_(std::move(msg)) {}

    // errno value of the root cause, 0 when the error is not a syscall failure.
    int code() const { return code_; }
    // The exit status the CLI should use (runc's 126/127 for exec failures); 0: default (1).
    int exit_code() const { return exit_code_; }
    Error& with_exit_code(int c) & {
        exit_code_ = c;
        return *this;
    }
    Error&& with_exit_code(int c) && {
        exit_code_ = c;
        return std::move(*this);
    }
    const std::string& message() const { return msg_; }

    // Prepends "ctx: " to the message; returns *this for chaining.
    Error& wrap(std::string_view ctx) &;
    Error&& wrap(std::string_view ctx) &&;

    // "message: strerror(code)" when code is set and not already in the message.
    std::string to_string() const;

private:
    int code_ = 0;
    int exit_code_ = 0;
    std::string msg_;
};

// An error from a failed syscall; reads errno now.
Error sys_error(std::string what);
// An error with a given errno.
Error errno_error(int code, std::string what);
// A plain error (invalid input, protocol failure).
Error make_error(std::string what);

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T v)
        : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT(google-explicit-constructor)
    Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    Error& error() & { return std::get<1>(v_); }
    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT(google-explicit-constructor)
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    Error& error() & { return err_; }
    const Error& error() const& { return err_; }
    Error&& error() && { return std::move(err_); }

private:
    Error err_;
    bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() {
    return {};
}

}  // namespace cove

// Return the error of `expr` (a Result), wrapped with `ctx`, when it failed.
#define COVE_TRY(expr, ctx)                                  \
    do {                                                     \
        auto cove_try_r_ = (expr);                           \
        if (!cove_try_r_) {                                  \
            return std::move(cove_try_r_).error().wrap(ctx); \
        }                                                    \
    } while (0)

#define COVE_CONCAT_INNER_(a, b) a##b
#define COVE_CONCAT_(a, b) COVE_CONCAT_INNER_(a, b)

// `lhs = value of expr`, or return its error wrapped with ctx.
#define COVE_ASSIGN(lhs, expr, ctx) \
    COVE_ASSIGN_IMPL_(COVE_CONCAT_(cove_r_, __LINE__), lhs, expr, ctx)
#define COVE_ASSIGN_IMPL_(tmp, lhs, expr, ctx)   \
    auto tmp = (expr);                           \
    if (!tmp) {                                  \
        return std::move(tmp).error().wrap(ctx); \
    }                                            \
    lhs = std::move(tmp).value()
