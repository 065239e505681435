// ScopeExit: runs a callable when the scope ends unless dismiss()ed; the rollback guard of
// multi-step setup (a failed create undoes what it did).
#pragma once

#include <utility>

namespace cove {

template <typename F>
class ScopeExit {
public:
    explicit ScopeExit(F f) : f_(std::move(f)) {}
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;
    ~ScopeExit() {
        if (active_) {
            f_();
        }
    }
    void dismiss() { active_ = false; }

private:
    F f_;
    bool active_ = true;
};

}  // namespace cove
