#include "runtime/base/error.hpp"

#include <cstring>

namespace cove {

Error& Error::wrap(std::string_view ctx) & {
    if (!ctx.empty()) {
        msg_ = msg_.empty() ? std::string(ctx) : std::string(ctx) + ": " + msg_;
    }
    return *this;
}

Error&& Error::wrap(std::string_view ctx) && {
    wrap(ctx);
    return std::move(*this);
}

std::string Error::to_string() const {
    if (code_ == 0) {
        return msg_;
    }
    std::string cause = std::strerror(code_);  // NOLINT(concurrency-mt-unsafe)
    if (msg_.empty()) {
        return cause;
    }
    std::string suffix = ": " + cause;
    if (msg_ == cause || (msg_.size() > suffix.size() &&
                          msg_.compare(msg_.size() - suffix.size(), suffix.size(), suffix) == 0)) {
        return msg_;
    }
    return msg_ + ": " + cause;
}

Error sys_error(std::string what) {
    return Error(errno, std::move(what));
}
Error errno_error(int code, std::string what) {
    return Error(code, std::move(what));
}
Error make_error(std::string what) {
    return Error(0, std::move(what));
}

}  // namespace cove
