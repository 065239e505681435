// cgroup_ops.hpp: what `update` takes from runc's flags or -r JSON, and how it is merged into
// the saved linux.resources.
#include "runtime/container/cgroup_ops.hpp"

#include <catch2/catch.hpp>

using nlohmann::json;

TEST_CASE("update_delta keeps runc's update fields and drops the rest") {
    json req = json::parse(R"({
        "memory": {"limit": 1048576, "kernel": 5, "swappiness": 10},
        "cpu": {"shares": 512, "cpus": "0", "mems": "", "idle": 0, "burst": 0},
        "blockIO": {"weight": 0, "throttleReadBpsDevice": []},
        "pids": {"limit": 0},
        "devices": [{"allow": true}],
        "hugepageLimits": []
    })");
    json d = cove::update_delta(req);
    CHECK(d == json::parse(R"({
        "memory": {"limit": 1048576},
        "cpu": {"shares": 512, "cpus": "0", "idle": 0, "burst": 0}
    })"));
}

TEST_CASE("update_delta: memory -1 alone means unlimited swap too") {
    CHECK(cove::update_delta(json::parse(R"({"memory": {"limit": -1}})")) ==
          json::parse(R"({"memory": {"limit": -1, "swap": -1}})"));
    CHECK(cove::update_delta(json::parse(R"({"memory": {"limit": -1, "swap": 1048576}})")) ==
          json::parse(R"({"memory": {"limit": -1, "swap": 1048576}})"));
}

TEST_CASE("update_delta: nulls and non-objects change nothing") {
    CHECK(cove::update_delta(json::parse(R"({"memory": {"limit": null}, "cpu": 3})")) ==
          json::object());
    CHECK(cove::update_delta(json()) == json::object());
    CHECK(cove::update_delta(json::parse(R"({"unified": {"memory.high": "max"}})")) ==
          json::parse(R"({"unified": {"memory.high": "max"}})"));
}

TEST_CASE("merge_resources writes the delta over the saved fields") {
    json saved = json::parse(R"({
        "devices": [{"allow": false, "access": "rwm"}],
        "memory": {"limit": 1, "swap": 2},
        "pids": {"limit": 3},
        "unified": {"a": "1", "b": "2"}
    })");
    json delta = json::parse(R"({"memory": {"limit": 10}, "cpu": {"quota": 5},
                                 "unified": {"c": "3"}})");
    CHECK(cove::merge_resources(saved, delta) == json::parse(R"({
        "devices": [{"allow": false, "access": "rwm"}],
        "memory": {"limit": 10, "swap": 2},
        "pids": {"limit": 3},
        "cpu": {"quota": 5},
        "unified": {"c": "3"}
    })"));
    CHECK(cove::merge_resources(json(), delta) == delta);
}
