// pause, resume, update, events, and the cgroup steps of create, kill and delete.
#include "runtime/container/cgroup_ops.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "runtime/base/log.hpp"
#include "runtime/container/cove.hpp"

namespace cove {
namespace {

// The keys of linux.resources that runc's update merges into the container's config.
struct Key {
    const char* section;
    const char* name;
    bool zero_is_unset;  // runc's cgroup drivers skip 0 for these
};
constexpr Key kUpdateKeys[] = {
    {"memory", "limit", true},        {"memory", "reservation", true},
    {"memory", "swap", true},         {"memory", "checkBeforeUpdate", false},
    {"cpu", "shares", true},          {"cpu", "quota", true},
    {"cpu", "burst", false},          {"cpu", "period", true},
    {"cpu", "realtimeRuntime", true}, {"cpu", "realtimePeriod", true},
    {"cpu", "cpus", false},           {"cpu", "mems", false},
    {"cpu", "idle", false},           {"blockIO", "weight", true},
    {"pids", "limit", true},
};

bool is_unset(const nlohmann::json& v, bool zero_is_unset) {
    if (v.is_null()) {
        return true;
    }
    if (v.is_string()) {
        return v.get_ref<const std::string&>().empty();  // cpus, mems: "" changes nothing
    }
    return zero_is_unset && v.is_number() && v == 0;
}

UniqueFd open_init_fd(const ContainerState& st) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0)));
    if (fd && !process_alive(st.pid, st.start_time)) {
        fd.reset();
    }
    return fd;
}

// Loads the state under the dir's lock and releases the lock on return, so that a long
// command (events) does not block kill or delete.
Result<std::pair<ContainerState, std::string>> load_with_status(const GlobalOptions& g,
                                                                const std::string& id) {
    COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
    COVE_ASSIGN(ContainerState st, dir.load(), "");
    std::string status = live_status(dir, st);
    return std::make_pair(std::move(st), std::move(status));
}

}  // namespace

Result<cgroups::Resources> plan_resources(const spec::Spec& s) {
    nlohmann::json none;
    COVE_ASSIGN(cgroups::Resources r, cgroups::parse_resources(s.linux ? s.linux->resources : none),
                "");
    for (const auto& w : cgroups::resource_warnings(r)) {
        log::warn(w);
    }
    cgroups::append_default_device_rules(r);
    return r;
}

Result<std::unique_ptr<cgroups::Manager>> container_cgroup(const ContainerState& st) {
    if (st.cgroup.is_null()) {
        return make_error("cgroup: the container has no cgroup");
    }
    COVE_ASSIGN(auto cg, cgroups::load_manager(st.cgroup), "cgroup");
    return cg;
}

bool cgroup_frozen(const ContainerState& st) {
    if (st.cgroup.is_null()) {
        return false;
    }
    auto cg = cgroups::load_manager(st.cgroup);
    if (!cg) {
        return false;
    }
    auto frozen = (*cg)->frozen();
    return frozen && *frozen;
}

Status signal_cgroup(const ContainerState& st, int sig) {
    if (st.cgroup.is_null()) {
        return {};
    }
    COVE_ASSIGN(auto cg, cgroups::load_manager(st.cgroup), "cgroup");
    COVE_ASSIGN(bool done, cg->kill_all(sig), "cgroup");
    if (done) {
        return {};
    }
    auto was_frozen = cg->frozen();
    bool paused = was_frozen && *was_frozen;
    // Frozen, nothing in the cgroup can fork a child that the pid list below would miss.
    // Without a freezer (the hierarchy is not mounted), signal anyway.
    if (!paused) {
        if (auto st2 = cg->freeze(true); !st2) {
            log::debug("kill: freeze before signalling: " + st2.error().to_string());
        }
    }
    auto thaw = [&] {
        // runc thaws unconditionally; a paused container stays paused here unless it is
        // being killed, which is what `pause` promised the user.
        if (!paused || sig == SIGKILL) {
            (void)cg->freeze(false);
        }
    };
    auto pids = cg->pids();
    if (!pids) {
        thaw();
        return std::move(pids).error().wrap("cgroup");
    }
    for (pid_t p : *pids) {
        if (::kill(p, sig) != 0 && errno != ESRCH) {
            log::warn(sys_error("kill " + std::to_string(p)).to_string());
        }
    }
    thaw();
    return {};
}

void thaw_after_kill(const ContainerState& st) {
    if (st.cgroup.is_null()) {
        return;
    }
    if (auto cg = cgroups::load_manager(st.cgroup)) {
        auto frozen = (*cg)->frozen();
        if (frozen && *frozen) {
            (void)(*cg)->freeze(false);
        }
    }
}

nlohmann::json update_delta(const nlohmann::json& requested) {
    nlohmann::json delta = nlohmann::json::object();
    if (!requested.is_object()) {
        return delta;
    }
    for (const Key& k : kUpdateKeys) {
        auto sec = requested.find(k.section);
        if (sec == requested.end() || !sec->is_object()) {
            continue;
        }
        auto v = sec->find(k.name);
        if (v != sec->end() && !is_unset(*v, k.zero_is_unset)) {
            delta[k.section][k.name] = *v;
        }
    }
    if (auto u = requested.find("unified"); u != requested.end() && u->is_object()) {
        delta["unified"] = *u;
    }
    // runc: "memory -1" alone means memory and swap unlimited (the v1 meaning of -1).
    if (delta.contains("memory") && delta["memory"].value("limit", nlohmann::json()) == -1 &&
        !delta["memory"].contains("swap")) {
        delta["memory"]["swap"] = -1;
    }
    return delta;
}

nlohmann::json merge_resources(nlohmann::json saved, const nlohmann::json& delta) {
    if (!saved.is_object()) {
        saved = nlohmann::json::object();
    }
    for (const auto& [section, fields] : delta.items()) {
        if (section == "unified") {
            saved[section] = fields;  // runc replaces the whole map
            continue;
        }
        if (!saved[section].is_object()) {
            saved[section] = nlohmann::json::object();
        }
        for (const auto& [name, value] : fields.items()) {
            saved[section][name] = value;
        }
    }
    return saved;
}

Status pause(const GlobalOptions& g, const std::string& id) {
    COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
    COVE_ASSIGN(ContainerState st, dir.load(), "");
    std::string status = live_status(dir, st);
    // runc pauses created and running containers; anything else is "not running".
    if (status != "running" && status != "created") {
        return make_error("container not running");
    }
    COVE_ASSIGN(auto cg, container_cgroup(st), "pause");
    COVE_TRY(cg->freeze(true), "pause");
    return {};
}

Status resume(const GlobalOptions& g, const std::string& id) {
    COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
    COVE_ASSIGN(ContainerState st, dir.load(), "");
    if (live_status(dir, st) != "paused") {
        return make_error("container not paused");
    }
    COVE_ASSIGN(auto cg, container_cgroup(st), "resume");
    COVE_TRY(cg->freeze(false), "resume");
    return {};
}

Status update(const GlobalOptions& g, const std::string& id, const UpdateOptions& o) {
    COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
    COVE_ASSIGN(ContainerState st, dir.load(), "");
    if (live_status(dir, st) == "stopped") {
        return make_error("container not running");
    }
    if (!o.l3_cache_schema.empty()) {
        return make_error("--l3-cache-schema: Intel RDT/CAT is not supported by cove");
    }
    if (!o.mem_bw_schema.empty()) {
        return make_error("--mem-bw-schema: Intel RDT/MBA is not supported by cove");
    }
    nlohmann::json delta = update_delta(o.resources);
    COVE_ASSIGN(cgroups::Resources r, cgroups::parse_resources(delta), "update");
    COVE_ASSIGN(auto cg, container_cgroup(st), "update");
    COVE_TRY(cg->update(r), "update");
    // Kept in state.json, as runc keeps its updated config, so that later commands (and a
    // later update of a dependent value) see the limits in force.
    if (!st.config.is_object()) {
        st.config = nlohmann::json::object();
    }
    nlohmann::json& lx = st.config["linux"];
    if (!lx.is_object()) {
        lx = nlohmann::json::object();
    }
    lx["resources"] = merge_resources(lx.value("resources", nlohmann::json()), delta);
    COVE_TRY(dir.save(st), "update");
    return {};
}

Status events(const GlobalOptions& g,
              const std::string& id,
              const EventsOptions& o,
              const std::function<void(const nlohmann::ordered_json&)>& emit) {
    using Clock = std::chrono::steady_clock;
    if (o.interval <= std::chrono::nanoseconds::zero()) {
        return make_error("duration interval must be greater than 0");
    }
    COVE_ASSIGN(auto loaded, load_with_status(g, id), "");
    const ContainerState& st = loaded.first;
    if (loaded.second == "stopped") {
        return make_error("container with id " + id + " is not running");
    }
    COVE_ASSIGN(auto cg, container_cgroup(st), "events");
    auto stats_event = [&]() -> Result<nlohmann::ordered_json> {
        COVE_ASSIGN(nlohmann::json data, cg->stats(), "stats");
        // runc's types.Stats always has these, empty when the controller is not there.
        for (const char* k : {"cpu", "memory", "pids", "blkio", "hugetlb", "intel_rdt"}) {
            if (!data.contains(k)) {
                data[k] = nlohmann::json::object();
            }
        }
        if (!data.contains("network_interfaces")) {
            data["network_interfaces"] = nullptr;
        }
        return nlohmann::ordered_json{{"type", "stats"}, {"id", id}, {"data", std::move(data)}};
    };
    if (o.stats) {
        COVE_ASSIGN(auto ev, stats_event(), "events");
        emit(ev);
        return {};
    }
    UniqueFd init = open_init_fd(st);
    if (!init) {
        return {};  // stopped since
    }
    COVE_ASSIGN(uint64_t ooms, cg->oom_kill_count(), "events");
    auto check_oom = [&] {
        auto n = cg->oom_kill_count();
        for (; n && *n > ooms; ++ooms) {
            emit(nlohmann::ordered_json{{"type", "oom"}, {"id", id}});
        }
    };
    // OOM kills are polled (the kernel's counter, v1 and v2 alike) at this pace; stats come
    // every interval.
    constexpr auto kOomPoll = std::chrono::milliseconds(100);
    auto next_stats = Clock::now() + o.interval;
    for (;;) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(next_stats - Clock::now());
        int timeout =
            static_cast<int>(std::clamp(left, std::chrono::milliseconds(0), kOomPoll).count());
        struct pollfd p = {init.get(), POLLIN, 0};
        int r = ::poll(&p, 1, timeout);
        if (r < 0 && errno != EINTR) {
            return sys_error("events: wait for the container");
        }
        check_oom();
        if (r > 0) {
            return {};  // the init exited: the container stopped
        }
        if (Clock::now() >= next_stats) {
            if (auto ev = stats_event()) {
                emit(*ev);
            } else {
                log::error(ev.error().to_string());  // runc logs and keeps going
            }
            next_stats += o.interval;
            if (next_stats < Clock::now()) {
                next_stats = Clock::now() + o.interval;
            }
        }
    }
}

}  // namespace cove
