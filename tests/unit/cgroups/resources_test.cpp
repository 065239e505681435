#include "cgroups/resources.hpp"

#include <catch2/catch.hpp>

#include "cgroups/devices.hpp"

using namespace cove::cgroups;
using nlohmann::json;

namespace {

Resources ok(const std::string& text) {
    auto r = parse_resources(json::parse(text));
    INFO((r ? std::string() : r.error().to_string()));
    REQUIRE(r);
    return std::move(*r);
}

std::string err(const std::string& text) {
    auto r = parse_resources(json::parse(text));
    REQUIRE_FALSE(r);
    return r.error().to_string();
}

}  // namespace

TEST_CASE("parse_resources reads every field", "[cgroups][resources]") {
    auto r = ok(R"({
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"},
                  {"allow": true, "type": "b", "major": -1, "access": "m"}],
      "memory": {"limit": 1048576, "reservation": 524288, "swap": 2097152, "kernel": 1,
                 "kernelTCP": 2, "swappiness": 60, "disableOOMKiller": true,
                 "useHierarchy": true, "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": -1, "burst": 5000, "period": 100000,
              "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "0-1,3",
              "mems": "0", "idle": 1},
      "pids": {"limit": 32},
      "blockIO": {"weight": 500, "leafWeight": 300,
                  "weightDevice": [{"major": 8, "minor": 0, "weight": 600}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2000}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 30}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 40}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
      "unified": {"memory.high": "max", "io.latency": "8:0 target=60"},
      "unknownField": {"ignored": true}
    })");
    REQUIRE(r.devices.size() == 3);
    CHECK_FALSE(r.devices[0].allow);
    CHECK(r.devices[0].type == 'a');
    CHECK_FALSE(r.devices[0].major);
    CHECK(r.devices[1].type == 'c');
    CHECK(r.devices[1].major == 1);
    CHECK(r.devices[1].minor == 3);
    CHECK(r.devices[1].access == "rw");
    CHECK_FALSE(r.devices[2].major);  // -1 is "any"
    CHECK(r.memory.limit == 1048576);
    CHECK(r.memory.reservation == 524288);
    CHECK(r.memory.swap == 2097152);
    CHECK(r.memory.kernel == 1);
    CHECK(r.memory.kernel_tcp == 2);
    CHECK(r.memory.swappiness == 60u);
    CHECK(r.memory.disable_oom_killer == true);
    CHECK(r.memory.use_hierarchy == true);
    CHECK(r.memory.check_before_update == true);
    CHECK(r.cpu.shares == 1024u);
    CHECK(r.cpu.quota == -1);
    CHECK(r.cpu.burst == 5000u);
    CHECK(r.cpu.period == 100000u);
    CHECK(r.cpu.realtime_runtime == 950000);
    CHECK(r.cpu.realtime_period == 1000000u);
    CHECK(r.cpu.cpus == "0-1,3");
    CHECK(r.cpu.mems == "0");
    CHECK(r.cpu.idle == 1);
    CHECK(r.pids.limit == 32);
    CHECK(r.block_io.weight == 500);
    CHECK(r.block_io.leaf_weight == 300);
    REQUIRE(r.block_io.weight_device.size() == 1);
    CHECK(r.block_io.weight_device[0].major == 8);
    CHECK(r.block_io.weight_device[0].weight == 600);
    CHECK_FALSE(r.block_io.weight_device[0].leaf_weight);
    REQUIRE(r.block_io.throttle_read_bps.size() == 1);
    CHECK(r.block_io.throttle_read_bps[0].rate == 1000u);
    CHECK(r.block_io.throttle_write_bps[0].rate == 2000u);
    CHECK(r.block_io.throttle_read_iops[0].rate == 30u);
    CHECK(r.block_io.throttle_write_iops[0].rate == 40u);
    REQUIRE(r.hugepage_limits.size() == 1);
    CHECK(r.hugepage_limits[0].page_size == "2MB");
    CHECK(r.hugepage_limits[0].limit == 4194304u);
    CHECK(r.network.class_id == 1048577u);
    REQUIRE(r.network.priorities.size() == 1);
    CHECK(r.network.priorities[0] == std::pair<std::string, uint32_t>("eth0", 5));
    REQUIRE(r.rdma.count("mlx5_1") == 1);
    CHECK(r.rdma["mlx5_1"].hca_handles == 3u);
    CHECK(r.rdma["mlx5_1"].hca_objects == 10000u);
    CHECK(r.unified == std::map<std::string, std::string>{{"io.latency", "8:0 target=60"},
                                                          {"memory.high", "max"}});
}

TEST_CASE("parse_resources: absent and null mean nothing set", "[cgroups][resources]") {
    auto r = ok("null");
    CHECK(r.devices.empty());
    CHECK_FALSE(r.memory.limit);
    r = ok(R"({"memory": null, "cpu": {"shares": null}, "devices": null})");
    CHECK_FALSE(r.cpu.shares);
    CHECK(r.devices.empty());
    // runc's -1 swappiness (2^64-1 as uint64) is "not set".
    r = ok(R"({"memory": {"swappiness": 18446744073709551615}})");
    CHECK_FALSE(r.memory.swappiness);
    r = ok(R"({"memory": {"swappiness": -1}})");
    CHECK_FALSE(r.memory.swappiness);
}

TEST_CASE("parse_resources errors name the field and the cause", "[cgroups][resources]") {
    CHECK(err(R"([])") == "linux.resources: must be an object");
    CHECK(err(R"({"memory": {"limit": "1G"}})") ==
          "linux.resources.memory.limit: must be an integer");
    CHECK(err(R"({"memory": {"limit": 1.5}})") ==
          "linux.resources.memory.limit: must be an integer");
    CHECK(err(R"({"memory": {"limit": -2}})") ==
          "linux.resources.memory.limit: must be -1 (unlimited) or a number of bytes");
    CHECK(err(R"({"memory": {"swappiness": 101}})") ==
          "linux.resources.memory.swappiness: must be between 0 and 100, not 101");
    CHECK(err(R"({"memory": {"disableOOMKiller": 1}})") ==
          "linux.resources.memory.disableOOMKiller: must be a boolean");
    CHECK(err(R"({"memory": 5})") == "linux.resources.memory: must be an object");
    CHECK(err(R"({"cpu": {"shares": -5}})") ==
          "linux.resources.cpu.shares: must be a non-negative integer");
    CHECK(err(R"({"cpu": {"cpus": "0-"}})") ==
          "linux.resources.cpu.cpus: \"0-\" is not a list like \"0-3,5\" (at \"0-\")");
    CHECK(err(R"({"cpu": {"mems": "3-1"}})") ==
          "linux.resources.cpu.mems: \"3-1\" is not a list like \"0-3,5\" (at \"3-1\")");
    CHECK(err(R"({"cpu": {"cpus": "a"}})").find("linux.resources.cpu.cpus: ") == 0);
    CHECK(err(R"({"devices": [{"allow": true, "type": "x", "access": "r"}]})") ==
          "linux.resources.devices[0].type: unknown device type \"x\" (a, b or c)");
    CHECK(err(R"({"devices": [{"allow": true}, {"allow": true, "access": "rwx"}]})") ==
          "linux.resources.devices[0].access: must not be empty (a subset of \"rwm\")");
    CHECK(err(R"({"devices": [{"allow": true, "access": "rwx"}]})") ==
          "linux.resources.devices[0].access: \"rwx\" is not a subset of \"rwm\"");
    CHECK(err(R"({"devices": [{"access": "r"}]})") ==
          "linux.resources.devices[0].allow: is required");
    CHECK(err(R"({"devices": {}})") == "linux.resources.devices: must be an array");
    CHECK(err(R"({"pids": {"limit": true}})") == "linux.resources.pids.limit: must be an integer");
    CHECK(err(R"({"blockIO": {"weight": 70000}})") ==
          "linux.resources.blockIO.weight: out of range (at most 65535)");
    CHECK(err(R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "rate": 1}]}})") ==
          "linux.resources.blockIO.throttleReadBpsDevice[0].minor: is required");
    CHECK(err(R"({"hugepageLimits": [{"pageSize": "2M", "limit": 1}]})") ==
          "linux.resources.hugepageLimits[0].pageSize: \"2M\" is not a page size like \"2MB\"");
    CHECK(err(R"({"network": {"classID": -1}})") ==
          "linux.resources.network.classID: must be a non-negative integer");
    CHECK(err(R"({"rdma": {"mlx": {"hcaHandles": "x"}}})") ==
          "linux.resources.rdma.mlx.hcaHandles: must be an integer");
    CHECK(err(R"({"unified": {"../memory.max": "1"}})") ==
          "linux.resources.unified.../memory.max: must be a cgroup file name (no '/' or '..')");
    CHECK(err(R"({"unified": {"a/b": "1"}})") ==
          "linux.resources.unified.a/b: must be a cgroup file name (no '/' or '..')");
    CHECK(err(R"({"unified": {"memory.max": 1}})") ==
          "linux.resources.unified.memory.max: must be a string");
}

TEST_CASE("parse_cpu_list", "[cgroups][resources]") {
    auto l = parse_cpu_list("0-3,5, 7\n");
    // " 7" has a space inside the list: refused.
    CHECK_FALSE(l);
    l = parse_cpu_list("5,0-3,2\n");
    REQUIRE(l);
    CHECK(*l == std::vector<int>{0, 1, 2, 3, 5});
    l = parse_cpu_list("");
    REQUIRE(l);
    CHECK(l->empty());
    CHECK_FALSE(parse_cpu_list(","));
    CHECK_FALSE(parse_cpu_list("1-2-3"));
}

TEST_CASE("runc's cgroup v2 conversions", "[cgroups][resources]") {
    CHECK(cpu_shares_to_weight(0) == 0);
    CHECK(cpu_shares_to_weight(2) == 1);
    CHECK(cpu_shares_to_weight(1024) == 39);
    CHECK(cpu_shares_to_weight(262144) == 10000);
    CHECK(blkio_weight_to_io_weight(0) == 0);
    CHECK(blkio_weight_to_io_weight(10) == 1);
    CHECK(blkio_weight_to_io_weight(500) == 4950);
    CHECK(blkio_weight_to_io_weight(1000) == 10000);
    CHECK(*memory_swap_to_v2(0, -1) == "max");
    CHECK(*memory_swap_to_v2(-1, 100) == "max");
    CHECK(memory_swap_to_v2(0, 100)->empty());
    CHECK(*memory_swap_to_v2(300, 100) == "200");
    CHECK(*memory_swap_to_v2(100, 100) == "0");
    auto e = memory_swap_to_v2(50, 100);
    REQUIRE_FALSE(e);
    CHECK(e.error().to_string() ==
          "linux.resources.memory.swap: memory+swap (50) must be >= the memory limit (100)");
    CHECK_FALSE(memory_swap_to_v2(100, 0));
    CHECK_FALSE(memory_swap_to_v2(100, -1));
}

TEST_CASE("default device rules follow the spec's, as runc appends them",
          "[cgroups][resources][devices]") {
    auto r = ok(R"({"devices": [{"allow": false, "access": "rwm"}]})");
    append_default_device_rules(r);
    std::vector<std::string> lines;
    for (const auto& d : r.devices) {
        lines.push_back((d.allow ? "allow " : "deny ") + v1_device_line(d));
    }
    CHECK(lines == std::vector<std::string>{"deny a *:* rwm", "allow c *:* m", "allow b *:* m",
                                            "allow c 1:3 rwm", "allow c 1:8 rwm", "allow c 1:7 rwm",
                                            "allow c 5:0 rwm", "allow c 1:5 rwm", "allow c 1:9 rwm",
                                            "allow c 136:* rwm", "allow c 5:2 rwm"});
    auto p = device_policy(r.devices);
    CHECK_FALSE(p.default_allow);
    CHECK(p.rules.size() == 10);
}

TEST_CASE("device_policy: the last 'a' rule resets; no 'a' rule means deny-all",
          "[cgroups][devices]") {
    std::vector<DeviceRule> rules = {{true, 'c', 1, 3, "rwm"},
                                     {true, 'a', std::nullopt, std::nullopt, "rwm"},
                                     {false, 'b', 8, std::nullopt, "w"}};
    auto p = device_policy(rules);
    CHECK(p.default_allow);
    REQUIRE(p.rules.size() == 1);
    CHECK(v1_device_line(p.rules[0]) == "b 8:* w");
    p = device_policy({{true, 'c', 1, 3, "rwm"}});
    CHECK_FALSE(p.default_allow);
    CHECK(p.rules.size() == 1);
}

TEST_CASE("resource_warnings names ignored kernel memory fields", "[cgroups][resources]") {
    auto r = ok(R"({"memory": {"kernel": 1, "kernelTCP": 2}})");
    auto w = resource_warnings(r);
    REQUIRE(w.size() == 2);
    CHECK(w[0].find("linux.resources.memory.kernel: ignored") == 0);
    CHECK(resource_warnings(ok("{}")).empty());
}
