// V1Manager's resource control against a fake hybrid tree: which files get which values, in
// which order, and the errors.
#include <signal.h>

#include <catch2/catch.hpp>

#include "cgroups/manager.hpp"
#include "tests/fixtures/cgroups/fake_cgroupfs.hpp"
#include "tests/helpers/cgroups.hpp"

using namespace cove::cgroups;
using namespace cove::cgroups::testing;
using namespace cove::test;

namespace {

const std::vector<std::string> kDirs = {"cpu",     "cpuacct", "cpuset", "memory",  "devices",
                                        "freezer", "blkio",   "pids",   "systemd", "unified"};

struct Host {
    TempDir tmp;
    std::shared_ptr<FakeCgroupFs> fs = std::make_shared<FakeCgroupFs>();
    std::string base = tmp.path() + "/sys/fs/cgroup/";
    std::unique_ptr<Manager> m;

    Host() {
        make_v1_tree(tmp.path(), kDirs);
        put(base + "cpuset/cpuset.effective_cpus", "0-3\n");
        put(base + "cpuset/cpuset.effective_mems", "0\n");
        m = make_fixture_manager(tmp.path(), "hybrid", fs);
        REQUIRE(m->create());
        // The control files the kernel would show in the new cgroup.
        files("memory", {{"memory.limit_in_bytes", "9223372036854771712"},
                         {"memory.memsw.limit_in_bytes", "9223372036854771712"},
                         {"memory.soft_limit_in_bytes", ""},
                         {"memory.swappiness", "60"},
                         {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
                         {"memory.usage_in_bytes", "1000"},
                         {"memory.max_usage_in_bytes", "2000"},
                         {"memory.failcnt", "0"},
                         {"memory.stat", "cache 4096\nrss 8192\n"}});
        files("cpu", {{"cpu.shares", "1024"},
                      {"cpu.cfs_period_us", "100000"},
                      {"cpu.cfs_quota_us", "-1"},
                      {"cpu.cfs_burst_us", "0"},
                      {"cpu.rt_period_us", "1000000"},
                      {"cpu.rt_runtime_us", "0"},
                      {"cpu.idle", "0"},
                      {"cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n"}});
        files("cpuacct", {{"cpuacct.usage", "123456"},
                          {"cpuacct.usage_percpu", "100000 23456 \n"},
                          {"cpuacct.stat", "user 3\nsystem 1\n"}});
        files("devices", {{"devices.allow", ""}, {"devices.deny", ""}});
        files("freezer", {{"freezer.state", "THAWED"}});
        files("pids", {{"pids.max", "max"}, {"pids.current", "3"}});
        files("blkio", {{"blkio.weight", "500"},
                        {"blkio.leaf_weight", "500"},
                        {"blkio.weight_device", ""},
                        {"blkio.leaf_weight_device", ""},
                        {"blkio.throttle.read_bps_device", ""},
                        {"blkio.throttle.write_bps_device", ""},
                        {"blkio.throttle.read_iops_device", ""},
                        {"blkio.throttle.write_iops_device", ""},
                        {"blkio.throttle.io_service_bytes_recursive",
                         "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n"},
                        {"blkio.throttle.io_serviced_recursive", "8:0 Read 1\nTotal 1\n"}});
        fs->writes.clear();
    }

    std::string dir(const std::string& ctrl) { return base + ctrl + "/ctr"; }
    void files(const std::string& ctrl, const std::vector<std::pair<std::string, std::string>>& f) {
        for (const auto& [name, value] : f) {
            put(dir(ctrl) + "/" + name, value);
        }
    }
    std::string get(const std::string& ctrl, const std::string& name) {
        return read_or_empty(dir(ctrl) + "/" + name);
    }
    // The writes, as "ctrl/file=value", without the tree's prefix.
    std::vector<std::string> writes() {
        std::vector<std::string> out;
        for (const auto& w : fs->writes) {
            std::string s = w.substr(base.size());
            auto slash = s.find("/ctr/");
            out.push_back(s.substr(0, slash) + "/" + s.substr(slash + 5));
        }
        return out;
    }
};

}  // namespace

TEST_CASE("v1 apply writes every controller's files", "[cgroups][v1][resources]") {
    Host h;
    apply_ok(*h.m, R"({
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}],
      "memory": {"limit": 67108864, "swap": 134217728, "reservation": 33554432,
                 "swappiness": 10, "disableOOMKiller": true, "kernel": 1},
      "cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 1000,
              "realtimeRuntime": 1000, "realtimePeriod": 1000000, "cpus": "1-2", "mems": "0",
              "idle": 0},
      "pids": {"limit": 100},
      "blockIO": {"weight": 300, "leafWeight": 200,
                  "weightDevice": [{"major": 8, "minor": 0, "weight": 400, "leafWeight": 100}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 50}]}
    })");
    CHECK(h.writes() == std::vector<std::string>{
                            "cpuset/cpuset.cpus=1-2",
                            "cpuset/cpuset.mems=0",
                            "devices/devices.deny=a",
                            "devices/devices.allow=c 1:3 rwm",
                            // the current limit is unlimited: the limit can go first
                            "memory/memory.limit_in_bytes=67108864",
                            "memory/memory.memsw.limit_in_bytes=134217728",
                            "memory/memory.soft_limit_in_bytes=33554432",
                            "memory/memory.oom_control=1",
                            "memory/memory.swappiness=10",
                            "cpu/cpu.rt_period_us=1000000",
                            "cpu/cpu.rt_runtime_us=1000",
                            "cpu/cpu.shares=512",
                            "cpu/cpu.cfs_period_us=100000",
                            "cpu/cpu.cfs_burst_us=1000",
                            "cpu/cpu.cfs_quota_us=50000",
                            "cpu/cpu.idle=0",
                            "pids/pids.max=100",
                            "blkio/blkio.weight=300",
                            "blkio/blkio.leaf_weight=200",
                            "blkio/blkio.weight_device=8:0 400",
                            "blkio/blkio.leaf_weight_device=8:0 100",
                            "blkio/blkio.throttle.read_bps_device=8:0 1048576",
                            "blkio/blkio.throttle.write_iops_device=8:16 50",
                        });
}

TEST_CASE("v1 memory: limit and memsw in the order that keeps limit <= memsw",
          "[cgroups][v1][resources][memory]") {
    Host h;
    // Growing past the current limit: memsw first.
    h.files("memory", {{"memory.limit_in_bytes", "1000"}});
    apply_ok(*h.m, R"({"memory": {"limit": 2000, "swap": 4000}})", true);
    CHECK(h.writes() == std::vector<std::string>{"memory/memory.memsw.limit_in_bytes=4000",
                                                 "memory/memory.limit_in_bytes=2000"});
    h.fs->writes.clear();
    // Shrinking below the current limit: the limit first.
    h.files("memory", {{"memory.limit_in_bytes", "268435456"}});
    apply_ok(*h.m, R"({"memory": {"limit": 67108864, "swap": 134217728}})", true);
    CHECK(h.writes() == std::vector<std::string>{"memory/memory.limit_in_bytes=67108864",
                                                 "memory/memory.memsw.limit_in_bytes=134217728"});
    h.fs->writes.clear();
    apply_ok(*h.m, R"({"memory": {"limit": -1}})", true);
    CHECK(h.writes() == std::vector<std::string>{"memory/memory.memsw.limit_in_bytes=-1",
                                                 "memory/memory.limit_in_bytes=-1"});
}

TEST_CASE("v1 memory: EBUSY on the limit and checkBeforeUpdate give runc's messages",
          "[cgroups][v1][resources][memory]") {
    Host h;
    h.fs->fail_once[h.dir("memory") + "/memory.limit_in_bytes"] = EBUSY;
    CHECK(apply_error(*h.m, R"({"memory": {"limit": 500}})") ==
          "linux.resources.memory.limit: unable to set memory limit to 500 (current usage: "
          "1000, peak usage: 2000)");
    h.fs->writes.clear();
    CHECK(apply_error(*h.m, R"({"memory": {"limit": 999, "checkBeforeUpdate": true}})", true) ==
          "linux.resources.memory.limit: rejecting memory limit 999 below the current usage "
          "1000 (checkBeforeUpdate)");
    CHECK(h.writes().empty());
}

TEST_CASE("v1 memory without swap accounting", "[cgroups][v1][resources][memory]") {
    Host h;
    ::unlink((h.dir("memory") + "/memory.memsw.limit_in_bytes").c_str());
    // No swap asked (swap == limit) or unlimited swap: the limit alone.
    apply_ok(*h.m, R"({"memory": {"limit": 1000, "swap": 1000}})");
    apply_ok(*h.m, R"({"memory": {"limit": 1000, "swap": -1}})");
    CHECK(h.writes() == std::vector<std::string>{"memory/memory.limit_in_bytes=1000",
                                                 "memory/memory.limit_in_bytes=1000"});
    std::string e = apply_error(*h.m, R"({"memory": {"limit": 1000, "swap": 2000}})");
    CHECK(e.find("linux.resources.memory.swap: this kernel has no swap accounting") == 0);
}

TEST_CASE("v1 cpu: a period refused with EINVAL is retried after the quota",
          "[cgroups][v1][resources][cpu]") {
    Host h;
    h.fs->fail_once[h.dir("cpu") + "/cpu.cfs_period_us"] = EINVAL;
    apply_ok(*h.m, R"({"cpu": {"quota": 5000, "period": 10000}})", true);
    CHECK(h.writes() == std::vector<std::string>{"cpu/cpu.cfs_period_us=10000",
                                                 "cpu/cpu.cfs_quota_us=5000",
                                                 "cpu/cpu.cfs_period_us=10000"});
    CHECK(h.get("cpu", "cpu.cfs_period_us") == "10000");
    // Without a quota to follow, the EINVAL is the answer.
    h.fs->fail_once[h.dir("cpu") + "/cpu.cfs_period_us"] = EINVAL;
    std::string e = apply_error(*h.m, R"({"cpu": {"period": 10000}})");
    CHECK(e == "linux.resources.cpu.period: write " + h.dir("cpu") +
                   "/cpu.cfs_period_us: Invalid argument");
}

TEST_CASE("v1 cpuset: cpus outside the parent's are refused before writing",
          "[cgroups][v1][resources][cpuset]") {
    Host h;
    CHECK(apply_error(*h.m, R"({"cpu": {"cpus": "2-5"}})") ==
          "linux.resources.cpu.cpus: 4,5 are not available (the parent cgroup has 0-3)");
    CHECK(apply_error(*h.m, R"({"cpu": {"mems": "1"}})") ==
          "linux.resources.cpu.mems: 1 is not available (the parent cgroup has 0)");
    CHECK(h.writes().empty());
}

TEST_CASE("v1 devices: an allow-all list writes a to devices.allow",
          "[cgroups][v1][resources][devices]") {
    Host h;
    apply_ok(*h.m, R"({"devices": [{"allow": true, "access": "rwm"},
                                {"allow": false, "type": "b", "major": 8, "access": "w"}]})");
    CHECK(h.writes() ==
          std::vector<std::string>{"devices/devices.allow=a", "devices/devices.deny=b 8:* w"});
}

TEST_CASE("v1: fields of controllers this host lacks are errors naming both",
          "[cgroups][v1][resources]") {
    Host h;
    CHECK(apply_error(*h.m, R"({"network": {"classID": 5}})") ==
          "linux.resources.network.classID: the net_cls cgroup controller is not mounted on "
          "this host");
    CHECK(apply_error(*h.m, R"({"rdma": {"mlx5_0": {"hcaHandles": 1}}})") ==
          "linux.resources.rdma: the rdma cgroup controller is not mounted on this host");
    CHECK(apply_error(*h.m, R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]})") ==
          "linux.resources.hugepageLimits: the hugetlb cgroup controller is not mounted on "
          "this host");
    CHECK(h.writes().empty());
}

TEST_CASE("v1 hybrid: unified keys go to cgroup2 only for controllers it offers",
          "[cgroups][v1][resources][unified]") {
    Host h;
    CHECK(apply_error(*h.m, R"({"unified": {"memory.high": "1000"}})") ==
          "linux.resources.unified.memory.high: the memory controller is not available in the "
          "cgroup2 hierarchy of this hybrid host (" +
              h.dir("unified") + ")");
    put(h.dir("unified") + "/cgroup.controllers", "hugetlb\n");
    put(h.dir("unified") + "/hugetlb.2MB.max", "max");
    apply_ok(*h.m, R"({"unified": {"hugetlb.2MB.max": "4194304"}})");
    CHECK(h.get("unified", "hugetlb.2MB.max") == "4194304");
    // hugepageLimits use cgroup2's hugetlb when v1 has none.
    h.fs->writes.clear();
    apply_ok(*h.m, R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]})");
    CHECK(h.writes() == std::vector<std::string>{"unified/hugetlb.2MB.max=2097152"});
}

TEST_CASE("v1 freezer, oom count and kill_all", "[cgroups][v1][resources][freezer]") {
    Host h;
    REQUIRE(h.m->freeze(true));
    CHECK(h.get("freezer", "freezer.state") == "FROZEN");
    auto fr = h.m->frozen();
    REQUIRE(fr);
    CHECK(*fr);
    REQUIRE(h.m->freeze(false));
    CHECK(h.get("freezer", "freezer.state") == "THAWED");

    h.files("memory", {{"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"}});
    auto n = h.m->oom_kill_count();
    REQUIRE(n);
    CHECK(*n == 2);

    REQUIRE(h.m->add_pid(4242));
    h.fs->writes.clear();
    auto k = h.m->kill_all(SIGTERM);
    REQUIRE(k);
    CHECK(*k);
    CHECK(h.fs->kills == std::vector<std::pair<pid_t, int>>{{4242, SIGTERM}});
    // Frozen around the signal, thawed after.
    CHECK(h.writes() ==
          std::vector<std::string>{"freezer/freezer.state=FROZEN", "freezer/freezer.state=THAWED"});
}

TEST_CASE("v1 stats in runc's events shape", "[cgroups][v1][resources][stats]") {
    Host h;
    auto s = h.m->stats();
    REQUIRE(s);
    auto& j = *s;
    CHECK(j["cpu"]["usage"]["total"] == 123456);
    CHECK(j["cpu"]["usage"]["percpu"] == nlohmann::json::array({100000, 23456}));
    CHECK(j["cpu"]["throttling"]["periods"] == 10);
    CHECK(j["cpu"]["throttling"]["throttledPeriods"] == 4);
    CHECK(j["cpu"]["throttling"]["throttledTime"] == 5000);
    CHECK(j["memory"]["usage"]["usage"] == 1000);
    CHECK(j["memory"]["usage"]["max"] == 2000);
    CHECK(j["memory"]["usage"]["failcnt"] == 0);
    CHECK(j["memory"]["cache"] == 4096);
    CHECK(j["memory"]["raw"]["rss"] == 8192);
    CHECK(j["pids"]["current"] == 3);
    CHECK_FALSE(j["pids"].contains("limit"));  // "max"
    REQUIRE(j["blkio"]["ioServiceBytesRecursive"].size() == 2);
    CHECK(j["blkio"]["ioServiceBytesRecursive"][0] ==
          nlohmann::json{{"major", 8}, {"op", "Read"}, {"value", 4096}});
}
