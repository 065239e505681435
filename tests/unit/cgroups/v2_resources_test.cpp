// V2Manager's resource control against a fake cgroup2 tree.
#include <signal.h>

#include <catch2/catch.hpp>

#include "cgroups/manager.hpp"
#include "cgroups/v2/devices_ebpf.hpp"
#include "tests/fixtures/cgroups/fake_cgroupfs.hpp"
#include "tests/helpers/cgroups.hpp"

using namespace cove::cgroups;
using namespace cove::cgroups::testing;
using namespace cove::test;

namespace {

struct Host {
    TempDir tmp;
    std::shared_ptr<FakeCgroupFs> fs = std::make_shared<FakeCgroupFs>();
    std::string base = tmp.path() + "/sys/fs/cgroup";
    std::string dir = base + "/ctr";
    std::unique_ptr<Manager> m;

    Host() {
        make_v2_tree(tmp.path(), "cpuset cpu io memory hugetlb pids rdma");
        put(base + "/cpuset.cpus.effective", "0-3\n");
        put(base + "/cpuset.mems.effective", "0\n");
        m = make_fixture_manager(tmp.path(), "unified", fs);
        REQUIRE(m->create());
        for (const char* f :
             {"memory.max", "memory.low", "memory.swap.max", "memory.high", "cpu.weight", "cpu.max",
              "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight",
              "io.max", "hugetlb.2MB.max", "rdma.max", "cgroup.freeze", "cgroup.kill"}) {
            put(dir + "/" + f, "");
        }
        put(dir + "/memory.current", "5000\n");
        put(dir + "/cgroup.events", "populated 1\nfrozen 0\n");
        fs->writes.clear();
    }

    std::vector<std::string> writes() {
        std::vector<std::string> out;
        for (const auto& w : fs->writes) {
            out.push_back(w.substr(dir.size() + 1));
        }
        return out;
    }
};

}  // namespace

TEST_CASE("v2 apply writes converted values in runc's order", "[cgroups][v2][resources]") {
    Host h;
    apply_ok(*h.m, R"({
      "memory": {"limit": 67108864, "swap": 100663296, "reservation": 33554432,
                 "kernel": 5, "swappiness": 10},
      "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "burst": 2000, "idle": 1,
              "cpus": "0-1", "mems": "0"},
      "pids": {"limit": -1},
      "blockIO": {"weight": 500, "leafWeight": 100,
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 0}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
      "rdma": {"mlx5_1": {"hcaHandles": 3}},
      "unified": {"memory.high": "50000000", "memory.max": "70000000"}
    })");
    CHECK(h.writes() == std::vector<std::string>{
                            "pids.max=max",
                            "memory.swap.max=33554432",  // swap - limit
                            "memory.max=67108864",
                            "memory.low=33554432",
                            "io.weight=4950",
                            "io.max=8:0 rbps=1048576",
                            "io.max=8:0 wiops=max",
                            "cpu.weight=39",
                            "cpu.idle=1",
                            "cpu.max.burst=2000",
                            "cpu.max=50000 100000",
                            "cpuset.cpus=0-1",
                            "cpuset.mems=0",
                            "hugetlb.2MB.max=4194304",
                            "rdma.max=mlx5_1 hca_handle=3",
                            "memory.high=50000000",  // unified keys last, overriding
                            "memory.max=70000000",
                        });
}

TEST_CASE("v2 memory: -1 is max, swap equal to limit is no swap",
          "[cgroups][v2][resources][memory]") {
    Host h;
    apply_ok(*h.m, R"({"memory": {"limit": -1}})");
    apply_ok(*h.m, R"({"memory": {"limit": 1000, "swap": 1000}})");
    apply_ok(*h.m, R"({"memory": {"limit": 1000, "swap": -1}})");
    CHECK(h.writes() == std::vector<std::string>{"memory.swap.max=max", "memory.max=max",
                                                 "memory.swap.max=0", "memory.max=1000",
                                                 "memory.swap.max=max", "memory.max=1000"});
    h.fs->writes.clear();
    CHECK(apply_error(*h.m, R"({"memory": {"limit": 1000, "swap": 500}})") ==
          "linux.resources.memory.swap: memory+swap (500) must be >= the memory limit (1000)");
    CHECK(apply_error(*h.m, R"({"memory": {"limit": 4000, "checkBeforeUpdate": true}})", true) ==
          "linux.resources.memory.limit: rejecting memory limit 4000 below the current usage "
          "5000 (checkBeforeUpdate)");
    CHECK(h.writes().empty());
    // No swap on the host: "no swap" and "unlimited swap" hold without memory.swap.max.
    ::unlink((h.dir + "/memory.swap.max").c_str());
    apply_ok(*h.m, R"({"memory": {"limit": 1000, "swap": 1000}})");
    CHECK(apply_error(*h.m, R"({"memory": {"limit": 1000, "swap": 2000}})")
              .find("linux.resources.memory.swap: ") == 0);
}

TEST_CASE("v2 cpu: quota -1 is max; a period alone keeps max", "[cgroups][v2][resources][cpu]") {
    Host h;
    apply_ok(*h.m, R"({"cpu": {"quota": -1, "period": 50000}})");
    apply_ok(*h.m, R"({"cpu": {"quota": 20000}})");
    CHECK(h.writes() == std::vector<std::string>{"cpu.max=max 50000", "cpu.max=20000"});
}

TEST_CASE("v2 refuses v1-only fields before writing anything", "[cgroups][v2][resources]") {
    Host h;
    CHECK(apply_error(*h.m, R"({"pids": {"limit": 5}, "cpu": {"realtimeRuntime": 100}})") ==
          "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2");
    CHECK(apply_error(*h.m, R"({"cpu": {"realtimePeriod": 100}})") ==
          "linux.resources.cpu.realtimePeriod: not supported on cgroup v2");
    CHECK(apply_error(*h.m, R"({"network": {"classID": 1}})") ==
          "linux.resources.network.classID: not supported on cgroup v2 (net_cls is a v1 "
          "controller)");
    CHECK(apply_error(*h.m, R"({"network": {"priorities": [{"name": "eth0", "priority": 1}]}})") ==
          "linux.resources.network.priorities: not supported on cgroup v2 (net_prio is a v1 "
          "controller)");
    CHECK(h.writes().empty());
}

TEST_CASE("v2 errors name the field and the file", "[cgroups][v2][resources]") {
    Host h;
    CHECK(apply_error(*h.m, R"({"cpu": {"cpus": "0-7"}})") ==
          "linux.resources.cpu.cpus: 4,5,6,7 are not available (the parent cgroup has 0-3)");
    CHECK(apply_error(*h.m, R"({"hugepageLimits": [{"pageSize": "1GB", "limit": 0}]})") ==
          "linux.resources.hugepageLimits[1GB]: no hugetlb.1GB.max (no such huge page size, or "
          "the hugetlb controller is not enabled)");
    CHECK(apply_error(*h.m, R"({"unified": {"misc.max": "x 1"}})") ==
          "linux.resources.unified.misc.max: no such file in " + h.dir +
              " (is the misc controller enabled?)");
    h.fs->deny_write.insert(h.dir + "/pids.max");
    CHECK(apply_error(*h.m, R"({"pids": {"limit": 5}})") ==
          "linux.resources.pids.limit: write " + h.dir + "/pids.max: Permission denied");
}

TEST_CASE("v2 devices become an eBPF program on the cgroup", "[cgroups][v2][resources][devices]") {
    Host h;
    auto r = must_parse(R"({"devices": [{"allow": false, "access": "rwm"}]})");
    append_default_device_rules(r);
    REQUIRE(h.m->apply(r));
    REQUIRE(h.fs->device_filters.count(h.dir) == 1);
    auto expected = device_filter_program(r.devices);
    const auto& got = h.fs->device_filters[h.dir];
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
        INFO(i);
        CHECK(got[i].code == expected[i].code);
        CHECK(got[i].imm == expected[i].imm);
        CHECK(got[i].off == expected[i].off);
    }
    // No device rules: the filter is left as it is.
    h.fs->device_filters.clear();
    REQUIRE(h.m->update(must_parse(R"({"pids": {"limit": 3}})")));
    CHECK(h.fs->device_filters.empty());
}

TEST_CASE("v2 freeze waits for cgroup.events; kill_all uses cgroup.kill for SIGKILL",
          "[cgroups][v2][resources][freezer]") {
    Host h;
    REQUIRE(h.m->freeze(true));
    auto fr = h.m->frozen();
    REQUIRE(fr);
    CHECK(*fr);
    REQUIRE(h.m->freeze(false));
    fr = h.m->frozen();
    REQUIRE(fr);
    CHECK_FALSE(*fr);

    REQUIRE(h.m->add_pid(4242));
    h.fs->writes.clear();
    auto k = h.m->kill_all(SIGKILL);
    REQUIRE(k);
    CHECK(*k);
    CHECK(h.writes() == std::vector<std::string>{"cgroup.kill=1"});
    CHECK(h.fs->kills.empty());
    // Other signals: freeze, signal each task, thaw.
    h.fs->writes.clear();
    k = h.m->kill_all(SIGTERM);
    REQUIRE(k);
    CHECK(h.fs->kills == std::vector<std::pair<pid_t, int>>{{4242, SIGTERM}});
    CHECK(h.writes() == std::vector<std::string>{"cgroup.freeze=1", "cgroup.freeze=0"});
    // Without cgroup.kill (before 5.14), SIGKILL goes the same way.
    ::unlink((h.dir + "/cgroup.kill").c_str());
    h.fs->kills.clear();
    k = h.m->kill_all(SIGKILL);
    REQUIRE(k);
    CHECK(h.fs->kills == std::vector<std::pair<pid_t, int>>{{4242, SIGKILL}});
}

TEST_CASE("v2 stats and the OOM count", "[cgroups][v2][resources][stats]") {
    Host h;
    put(h.dir + "/cpu.stat",
        "usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 7\nnr_throttled 2\n"
        "throttled_usec 9\n");
    put(h.dir + "/memory.max", "max\n");
    put(h.dir + "/memory.swap.current", "100\n");
    put(h.dir + "/memory.swap.max", "max\n");
    put(h.dir + "/memory.stat", "anon 10\nfile 20\n");
    put(h.dir + "/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    put(h.dir + "/pids.current", "2\n");
    put(h.dir + "/pids.max", "10\n");
    put(h.dir + "/io.stat", "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
    auto s = h.m->stats();
    REQUIRE(s);
    auto& j = *s;
    CHECK(j["cpu"]["usage"]["total"] == 100000);
    CHECK(j["cpu"]["usage"]["user"] == 60000);
    CHECK(j["cpu"]["usage"]["kernel"] == 40000);
    CHECK(j["cpu"]["throttling"]["throttledPeriods"] == 2);
    CHECK(j["cpu"]["throttling"]["throttledTime"] == 9000);
    CHECK(j["memory"]["usage"]["usage"] == 5000);
    CHECK(j["memory"]["usage"]["limit"] == UINT64_MAX);
    CHECK(j["memory"]["usage"]["failcnt"] == 3);
    CHECK(j["memory"]["swap"]["usage"] == 5100);
    CHECK(j["memory"]["cache"] == 20);
    CHECK(j["memory"]["raw"]["anon"] == 10);
    CHECK(j["pids"] == nlohmann::json{{"current", 2}, {"limit", 10}});
    CHECK(j["blkio"]["ioServiceBytesRecursive"] ==
          nlohmann::json::array(
              {{{"major", 8}, {"op", "Read"}, {"value", 4096}}, {{"major", 8}, {"op", "Write"}}}));
    auto n = h.m->oom_kill_count();
    REQUIRE(n);
    CHECK(*n == 1);
}
