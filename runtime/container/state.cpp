#include "runtime/container/state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/strings.hpp"
#include "runtime/container/cgroup_ops.hpp"

namespace cove {

namespace {

// Field 3 (state) and 22 (starttime) of /proc/<pid>/stat, counted after the comm field.
bool read_stat(pid_t pid, char* state, uint64_t* start) {
    auto text = fs::read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!text) {
        return false;
    }
    const std::string& s = *text;
    size_t rp = s.rfind(')');
    if (rp == std::string::npos || rp + 2 >= s.size()) {
        return false;
    }
    auto fields = str::split(std::string_view(s).substr(rp + 2), ' ');
    if (fields.size() < 20) {
        return false;
    }
    *state = fields[0].empty() ? '?' : fields[0][0];
    *start = str::parse_uint(fields[19]).value_or(0);
    return true;
}

}  // namespace

uint64_t process_start_time(pid_t pid) {
    char st = 0;
    uint64_t start = 0;
    return read_stat(pid, &st, &start) ? start : 0;
}

bool process_alive(pid_t pid, uint64_t start_time) {
    char st = 0;
    uint64_t start = 0;
    if (pid <= 0 || !read_stat(pid, &st, &start)) {
        return false;
    }
    return st != 'Z' && st != 'X' && start == start_time;
}

Status validate_id(const std::string& id) {
    if (id.empty() || id == "." || id == ".." || id.size() > 1024) {
        return make_error("invalid container id \"" + id + "\"");
    }
    for (char c : id) {
        bool ok = (std::isalnum(static_cast<unsigned char>(c)) != 0) || c == '_' || c == '+' ||
                  c == '-' || c == '.';
        if (!ok) {
            return make_error("invalid container id \"" + id + "\"");
        }
    }
    return {};
}

static Result<UniqueFd> lock_dir(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        return sys_error("open " + path);
    }
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            return sys_error("lock " + path);
        }
    }
    return fd;
}

Result<StateDir> StateDir::create(const std::string& root, const std::string& id) {
    COVE_TRY(validate_id(id), "");
    COVE_TRY(fs::mkdir_p(root, 0700), "state root");
    StateDir d;
    d.path_ = root + "/" + id;
    if (::mkdir(d.path_.c_str(), 0700) != 0) {
        if (errno == EEXIST) {
            return make_error("container with id \"" + id + "\" already exists");
        }
        return sys_error("mkdir " + d.path_);
    }
    COVE_ASSIGN(d.lock_, lock_dir(d.path_), "");
    return d;
}

Result<StateDir> StateDir::open(const std::string& root, const std::string& id) {
    COVE_TRY(validate_id(id), "");
    StateDir d;
    d.path_ = root + "/" + id;
    auto fd = lock_dir(d.path_);
    if (!fd) {
        if (fd.error().code() == ENOENT) {
            return make_error("container \"" + id + "\" does not exist");
        }
        return std::move(fd).error();
    }
    d.lock_ = std::move(fd).value();
    if (!fs::exists(d.path_ + "/state.json")) {
        // A create in progress holds the lock until state.json exists; an abandoned dir
        // without state is not a container.
        return make_error("container \"" + id + "\" does not exist");
    }
    return d;
}

std::vector<std::string> StateDir::list(const std::string& root) {
    std::vector<std::string> ids;
    DIR* d = ::opendir(root.c_str());
    if (d == nullptr) {
        return ids;
    }
    while (struct dirent* de = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
        if (de->d_name[0] == '.') {
            continue;
        }
        if (fs::exists(root + "/" + de->d_name + "/state.json")) {
            ids.emplace_back(de->d_name);
        }
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    return ids;
}

Status StateDir::save(const ContainerState& st) const {
    nlohmann::json j = {
        {"id", st.id},         {"pid", st.pid},           {"start_time", st.start_time},
        {"bundle", st.bundle}, {"rootfs", st.rootfs},     {"created", st.created},
        {"owner", st.owner},   {"no_pivot", st.no_pivot}, {"annotations", st.annotations},
        {"config", st.config}, {"cgroup", st.cgroup},
    };
    COVE_TRY(fs::atomic_write(path_ + "/state.json", j.dump()), "save state");
    return {};
}

Result<ContainerState> StateDir::load() const {
    COVE_ASSIGN(json::Json j, json::parse_file(path_ + "/state.json"), "load state");
    ContainerState st;
    try {
        json::required(j, "id", st.id);
        json::required(j, "pid", st.pid);
        json::required(j, "start_time", st.start_time);
        json::required(j, "bundle", st.bundle);
        json::required(j, "rootfs", st.rootfs);
        json::required(j, "created", st.created);
        json::optional(j, "owner", st.owner);
        json::optional(j, "no_pivot", st.no_pivot);
        json::optional(j, "annotations", st.annotations);
        json::optional(j, "config", st.config);
        json::optional(j, "cgroup", st.cgroup);
    } catch (const std::exception& e) {
        return make_error("load state: " + json::describe(e));
    }
    return st;
}

Status StateDir::remove() const {
    return fs::remove_all(path_);
}

std::string live_status(const StateDir& dir, const ContainerState& st) {
    if (!process_alive(st.pid, st.start_time)) {
        return "stopped";
    }
    if (cgroup_frozen(st)) {
        return "paused";  // runc: a frozen created container is paused too
    }
    if (fs::exists(dir.fifo_path())) {
        return "created";
    }
    return "running";
}

nlohmann::ordered_json oci_state_json(const ContainerState& st, const std::string& status) {
    nlohmann::ordered_json j = {
        {"ociVersion", "1.0.2-dev"},
        {"id", st.id},
        {"pid", status == "stopped" ? 0 : st.pid},
        {"status", status},
        {"bundle", st.bundle},
        {"rootfs", st.rootfs},
        {"created", st.created},
        {"owner", st.owner},
    };
    if (!st.annotations.empty()) {
        j["annotations"] = st.annotations;
    }
    return j;
}

std::string now_rfc3339() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm {};
    ::gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    size_t n = ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    ::snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
    return buf;
}

}  // namespace cove
