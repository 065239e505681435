// state.hpp: container ids, the state directory (create/open/list/save/load/remove under a
// temp root), the OCI state JSON, and the liveness checks against one forked child.
#include "runtime/container/state.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"

using Catch::Matchers::StartsWith;
using cove::ContainerState;
using cove::StateDir;

namespace {

struct TempRoot {
    std::string base;
    std::string root;  // not created: StateDir::create makes it
    TempRoot() {
        char tmpl[] = "/tmp/cove-ut-state-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        base = tmpl;
        root = base + "/run/cove";
    }
    ~TempRoot() {
        std::error_code ec;
        std::filesystem::remove_all(base, ec);
    }
    TempRoot(const TempRoot&) = delete;
    TempRoot& operator=(const TempRoot&) = delete;
};

mode_t mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode;
}

ContainerState sample_state() {
    ContainerState st;
    st.id = "c1";
    st.pid = 4242;
    st.start_time = 123456789;
    st.bundle = "/bundles/c1";
    st.rootfs = "/bundles/c1/rootfs";
    st.created = "2024-01-02T03:04:05.000000006Z";
    st.owner = "root";
    st.no_pivot = true;
    st.annotations = {{"org.example/key", "value"}, {"b", "2"}};
    st.config = {{"ociVersion", "1.0.2"}, {"process", {{"args", {"sh"}}}}};
    st.cgroup = {{"path", "/cove/c1"}, {"v2", false}};
    return st;
}

std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) {
        keys.push_back(it.key());
    }
    return keys;
}

// One child that waits on a pipe; killed and reaped whatever happens to the test.
struct Child {
    pid_t pid = -1;
    int release_fd = -1;
    bool reaped = false;

    Child() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        pid = ::fork();
        if (pid == 0) {
            ::close(fds[1]);
            char c;
            while (::read(fds[0], &c, 1) < 0 && errno == EINTR) {
            }
            ::_exit(0);
        }
        ::close(fds[0]);
        if (pid < 0) {
            ::close(fds[1]);
        }
        REQUIRE(pid > 0);
        release_fd = fds[1];
    }
    // Lets the child exit and waits until it is a zombie, without reaping it.
    void exit_to_zombie() {
        ::close(release_fd);
        release_fd = -1;
        siginfo_t si{};
        while (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOWAIT) != 0) {
            REQUIRE(errno == EINTR);
        }
    }
    void reap() {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0) {
            REQUIRE(errno == EINTR);
        }
        reaped = true;
    }
    ~Child() {
        if (release_fd >= 0) {
            ::close(release_fd);
        }
        if (pid > 0 && !reaped) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
};

}  // namespace

TEST_CASE("validate_id accepts runc's ids only", "[state][id]") {
    for (const char* id : {"a", "abc", "A-b_c.d+e", "0123", "..a", "a..", ".a", "a.b.c",
                           "3f2a1c8e9b7d6f5a4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c"}) {
        INFO(id);
        CHECK(cove::validate_id(id).ok());
    }
    CHECK(cove::validate_id(std::string(1024, 'x')).ok());

    for (const char* id : {"", ".", "..", "a/b", "/a", "a b", "a\tb", "a:b", "a,b", "a@b", "ä",
                           "a\nb", "a*", "$x", "a\\b"}) {
        INFO(id);
        auto st = cove::validate_id(id);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message() == "invalid container id \"" + std::string(id) + "\"");
    }
    CHECK_FALSE(cove::validate_id(std::string(1025, 'x')).ok());
    CHECK_FALSE(cove::validate_id(std::string("a\0b", 3)).ok());
}

TEST_CASE("StateDir::create makes a locked 0700 directory", "[state][dir]") {
    TempRoot t;
    auto d = StateDir::create(t.root, "c1");
    REQUIRE(d.ok());
    CHECK(d->path() == t.root + "/c1");
    CHECK(d->fifo_path() == t.root + "/c1/exec.fifo");
    CHECK(S_ISDIR(mode_of(d->path())));
    CHECK((mode_of(d->path()) & 07777) == 0700);
    CHECK((mode_of(t.root) & 07777) == 0700);
    REQUIRE(d->lock_fd() >= 0);
    CHECK((::fcntl(d->lock_fd(), F_GETFD) & FD_CLOEXEC) != 0);

    // another open file description cannot take the lock meanwhile
    cove::UniqueFd other(::open(d->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(other.valid());
    CHECK(::flock(other.get(), LOCK_EX | LOCK_NB) == -1);
    CHECK(errno == EWOULDBLOCK);

    SECTION("twice: already exists") {
        auto again = StateDir::create(t.root, "c1");
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().message() == "container with id \"c1\" already exists");
    }
    SECTION("an invalid id creates nothing") {
        auto bad = StateDir::create(t.root, "../escape");
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error().message() == "invalid container id \"../escape\"");
        CHECK_FALSE(cove::fs::exists(t.base + "/run/escape"));
    }
}

TEST_CASE("StateDir::open needs the directory and its state.json", "[state][dir]") {
    TempRoot t;

    SECTION("missing root or container") {
        auto missing = StateDir::open(t.root, "nope");
        REQUIRE_FALSE(missing.ok());
        CHECK(missing.error().message() == "container \"nope\" does not exist");
        REQUIRE(cove::fs::mkdir_p(t.root).ok());
        auto still = StateDir::open(t.root, "nope");
        REQUIRE_FALSE(still.ok());
        CHECK(still.error().message() == "container \"nope\" does not exist");
    }
    SECTION("a directory without state.json is not a container") {
        {
            auto d = StateDir::create(t.root, "half");
            REQUIRE(d.ok());
        }  // lock released
        auto o = StateDir::open(t.root, "half");
        REQUIRE_FALSE(o.ok());
        CHECK(o.error().message() == "container \"half\" does not exist");
    }
    SECTION("an invalid id") {
        auto o = StateDir::open(t.root, "a/b");
        REQUIRE_FALSE(o.ok());
        CHECK(o.error().message() == "invalid container id \"a/b\"");
    }
    SECTION("a saved container opens, locked") {
        {
            auto d = StateDir::create(t.root, "c1");
            REQUIRE(d.ok());
            REQUIRE(d->save(sample_state()).ok());
        }
        auto o = StateDir::open(t.root, "c1");
        REQUIRE(o.ok());
        CHECK(o->path() == t.root + "/c1");
        cove::UniqueFd other(::open(o->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        REQUIRE(other.valid());
        CHECK(::flock(other.get(), LOCK_EX | LOCK_NB) == -1);
    }
}

TEST_CASE("StateDir save and load round trip", "[state][dir]") {
    TempRoot t;
    auto d = StateDir::create(t.root, "c1");
    REQUIRE(d.ok());
    ContainerState in = sample_state();
    REQUIRE(d->save(in).ok());
    CHECK((mode_of(d->path() + "/state.json") & 07777) == 0600);
    CHECK_FALSE(cove::fs::exists(d->path() + "/state.json.tmp"));

    auto out = d->load();
    REQUIRE(out.ok());
    CHECK(out->id == in.id);
    CHECK(out->pid == in.pid);
    CHECK(out->start_time == in.start_time);
    CHECK(out->bundle == in.bundle);
    CHECK(out->rootfs == in.rootfs);
    CHECK(out->created == in.created);
    CHECK(out->owner == in.owner);
    CHECK(out->no_pivot == in.no_pivot);
    CHECK(out->annotations == in.annotations);
    CHECK(out->config == in.config);
    CHECK(out->cgroup == in.cgroup);

    SECTION("save replaces") {
        in.pid = 7;
        in.annotations.clear();
        in.no_pivot = false;
        REQUIRE(d->save(in).ok());
        auto again = d->load();
        REQUIRE(again.ok());
        CHECK(again->pid == 7);
        CHECK(again->annotations.empty());
        CHECK_FALSE(again->no_pivot);
    }
    SECTION("a large start time survives") {
        in.start_time = 18446744073709551615ull;
        REQUIRE(d->save(in).ok());
        CHECK(d->load()->start_time == in.start_time);
    }
    SECTION("optional keys may be missing") {
        REQUIRE(cove::fs::atomic_write(d->path() + "/state.json",
                                       R"({"id": "c1", "pid": 1, "start_time": 2, "bundle": "/b",
                                           "rootfs": "/r", "created": "t"})")
                    .ok());
        auto min = d->load();
        REQUIRE(min.ok());
        CHECK(min->owner.empty());
        CHECK_FALSE(min->no_pivot);
        CHECK(min->annotations.empty());
        CHECK(min->config.is_null());
    }
    SECTION("a missing required key") {
        REQUIRE(cove::fs::atomic_write(d->path() + "/state.json",
                                       R"({"id": "c1", "start_time": 2, "bundle": "/b",
                                           "rootfs": "/r", "created": "t"})")
                    .ok());
        auto bad = d->load();
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error().message() == "load state: key 'pid' not found");
    }
    SECTION("a wrong type names the key") {
        REQUIRE(cove::fs::atomic_write(d->path() + "/state.json",
                                       R"({"id": "c1", "pid": "x", "start_time": 2,
                                           "bundle": "/b", "rootfs": "/r", "created": "t"})")
                    .ok());
        auto bad = d->load();
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error().message() == "load state: /pid: type must be number, but is string");
    }
    SECTION("corrupt JSON") {
        REQUIRE(cove::fs::atomic_write(d->path() + "/state.json", "{\"id\": ").ok());
        auto bad = d->load();
        REQUIRE_FALSE(bad.ok());
        CHECK_THAT(bad.error().message(),
                   StartsWith("load state: " + d->path() + "/state.json: line 1, column"));
    }
    SECTION("remove deletes the directory and its files") {
        REQUIRE(::mkfifo(d->fifo_path().c_str(), 0600) == 0);
        REQUIRE(d->remove().ok());
        CHECK_FALSE(cove::fs::exists(d->path()));
        auto gone = d->load();
        REQUIRE_FALSE(gone.ok());
        CHECK(gone.error().code() == ENOENT);
        CHECK(d->remove().ok());  // twice is fine
    }
}

TEST_CASE("StateDir::list", "[state][dir]") {
    TempRoot t;
    CHECK(StateDir::list(t.root).empty());  // missing root

    for (const char* id : {"zeta", "alpha", "mid-1", "Upper"}) {
        auto d = StateDir::create(t.root, id);
        REQUIRE(d.ok());
        ContainerState st = sample_state();
        st.id = id;
        REQUIRE(d->save(st).ok());
    }
    {
        auto half = StateDir::create(t.root, "no-state");  // a create in progress
        REQUIRE(half.ok());
    }
    REQUIRE(cove::fs::mkdir_p(t.root + "/.hidden").ok());
    REQUIRE(cove::fs::atomic_write(t.root + "/.hidden/state.json", "{}").ok());
    REQUIRE(cove::fs::atomic_write(t.root + "/stray-file", "x").ok());

    CHECK(StateDir::list(t.root) == std::vector<std::string>{"Upper", "alpha", "mid-1", "zeta"});

    auto o = StateDir::open(t.root, "alpha");
    REQUIRE(o.ok());
    REQUIRE(o->remove().ok());
    CHECK(StateDir::list(t.root) == std::vector<std::string>{"Upper", "mid-1", "zeta"});
}

TEST_CASE("oci_state_json", "[state][oci]") {
    ContainerState st = sample_state();
    const std::vector<std::string> order = {"ociVersion", "id",     "pid",     "status",
                                            "bundle",     "rootfs", "created", "owner"};

    SECTION("keys in runc's order, annotations last when present") {
        auto j = cove::oci_state_json(st, "running");
        std::vector<std::string> with = order;
        with.push_back("annotations");
        CHECK(keys_of(j) == with);
        CHECK(j["ociVersion"].is_string());
        CHECK_FALSE(j["ociVersion"].get<std::string>().empty());
        CHECK(j["id"] == "c1");
        CHECK(j["pid"] == 4242);
        CHECK(j["status"] == "running");
        CHECK(j["bundle"] == "/bundles/c1");
        CHECK(j["rootfs"] == "/bundles/c1/rootfs");
        CHECK(j["created"] == st.created);
        CHECK(j["owner"] == "root");
        CHECK(j["annotations"]["org.example/key"] == "value");
        CHECK(j["annotations"].size() == 2);
        // runtime internals are not part of the OCI state
        CHECK_FALSE(j.contains("config"));
        CHECK_FALSE(j.contains("cgroup"));
        CHECK_FALSE(j.contains("start_time"));
    }
    SECTION("no annotations key when there are none") {
        st.annotations.clear();
        CHECK(keys_of(cove::oci_state_json(st, "created")) == order);
    }
    SECTION("pid is 0 once stopped") {
        CHECK(cove::oci_state_json(st, "stopped")["pid"] == 0);
        CHECK(cove::oci_state_json(st, "created")["pid"] == 4242);
        CHECK(cove::oci_state_json(st, "paused")["pid"] == 4242);
    }
    SECTION("the dump keeps the order") {
        st.annotations.clear();
        std::string s = cove::oci_state_json(st, "stopped").dump();
        CHECK(s.rfind(R"({"ociVersion":)", 0) == 0);
        CHECK(s.find(R"("id":"c1","pid":0,"status":"stopped","bundle":"/bundles/c1",)") !=
              std::string::npos);
    }
}

TEST_CASE("now_rfc3339 is UTC with nanoseconds", "[state]") {
    std::string now = cove::now_rfc3339();
    CHECK(std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")));
}

TEST_CASE("process_alive and process_start_time follow one child", "[state][process]") {
    CHECK_FALSE(cove::process_alive(0, 0));
    CHECK_FALSE(cove::process_alive(-1, 0));
    CHECK(cove::process_start_time(::getpid()) > 0);
    CHECK(cove::process_alive(::getpid(), cove::process_start_time(::getpid())));

    Child c;
    uint64_t start = cove::process_start_time(c.pid);
    REQUIRE(start > 0);
    CHECK(cove::process_alive(c.pid, start));
    // a different start time is a different process (pid reuse)
    CHECK_FALSE(cove::process_alive(c.pid, start + 1));
    CHECK_FALSE(cove::process_alive(c.pid, 0));

    c.exit_to_zombie();
    CHECK_FALSE(cove::process_alive(c.pid, start));

    c.reap();
    CHECK_FALSE(cove::process_alive(c.pid, start));
    if (!cove::fs::exists("/proc/" + std::to_string(c.pid))) {  // unless the pid was reused
        CHECK(cove::process_start_time(c.pid) == 0);
    }
}

TEST_CASE("live_status from the process and exec.fifo", "[state][process]") {
    TempRoot t;
    auto d = StateDir::create(t.root, "c1");
    REQUIRE(d.ok());
    Child c;
    ContainerState st = sample_state();
    st.pid = c.pid;
    st.start_time = cove::process_start_time(c.pid);
    REQUIRE(st.start_time > 0);

    REQUIRE(::mkfifo(d->fifo_path().c_str(), 0600) == 0);
    CHECK(cove::live_status(*d, st) == "created");
    REQUIRE(::unlink(d->fifo_path().c_str()) == 0);
    CHECK(cove::live_status(*d, st) == "running");

    c.exit_to_zombie();
    CHECK(cove::live_status(*d, st) == "stopped");
    REQUIRE(::mkfifo(d->fifo_path().c_str(), 0600) == 0);
    CHECK(cove::live_status(*d, st) == "stopped");
    c.reap();
    CHECK(cove::live_status(*d, st) == "stopped");
}
