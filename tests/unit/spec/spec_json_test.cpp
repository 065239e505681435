#include "runtime/spec/spec_json.hpp"

#include <cerrno>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/scope_exit.hpp"

using cove::spec::load_spec;
using cove::spec::parse_process;
using cove::spec::parse_spec;
using cove::spec::parse_spec_text;
using cove::spec::Spec;
using cove::spec::to_json;
using Json = nlohmann::json;

namespace {

const std::string kConfigDir = std::string(COVE_FIXTURES) + "/config";

std::string fixture_text(const std::string& name) {
    auto text = cove::fs::read_file(kConfigDir + "/" + name);
    REQUIRE(text.ok());
    return *text;
}

Json fixture_json(const std::string& name) {
    auto j = cove::json::parse(fixture_text(name));
    REQUIRE(j.ok());
    return *j;
}

Spec fixture_spec(const std::string& name) {
    auto s = parse_spec_text(fixture_text(name));
    INFO(name << ": " << (s.ok() ? "" : s.error().to_string()));
    REQUIRE(s.ok());
    return *s;
}

// The parse error of text, as the user would read it.
std::string parse_error(const std::string& text) {
    auto s = parse_spec_text(text);
    REQUIRE_FALSE(s.ok());
    return s.error().to_string();
}

}  // namespace

TEST_CASE("full config parses into the typed fields", "[spec][json]") {
    Spec s = fixture_spec("full.json");
    CHECK(s.oci_version == "1.0.2-dev");
    REQUIRE(s.process);
    const auto& p = *s.process;
    CHECK(p.terminal);
    REQUIRE(p.console_size);
    CHECK(p.console_size->height == 24);
    CHECK(p.console_size->width == 80);
    CHECK(p.user.uid == 1000);
    CHECK(p.user.gid == 1000);
    CHECK(p.user.umask == 18U);
    CHECK(p.user.additional_gids == std::vector<uint32_t>{10, 1000});
    CHECK(p.args == std::vector<std::string>{"/bin/sh", "-c", "echo hello"});
    CHECK(p.env.size() == 4);
    CHECK(p.cwd == "/home/app");
    REQUIRE(p.capabilities);
    CHECK(p.capabilities->bounding.size() == 11);
    CHECK(p.capabilities->inheritable == std::vector<std::string>{"CAP_CHOWN"});
    CHECK(p.capabilities->ambient == std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
    REQUIRE(p.rlimits.size() == 3);
    CHECK(p.rlimits[0].type == "RLIMIT_NOFILE");
    CHECK(p.rlimits[0].hard == 20000);
    CHECK(p.rlimits[2].hard == std::numeric_limits<uint64_t>::max());
    CHECK(p.no_new_privileges);
    CHECK(p.apparmor_profile == "containers-default-0.50.1");
    CHECK(p.oom_score_adj == -500);
    CHECK(p.selinux_label == "system_u:system_r:container_t:s0:c1,c2");

    REQUIRE(s.root);
    CHECK(s.root->path == "rootfs");
    CHECK(s.root->readonly);
    CHECK(s.hostname == "web");
    CHECK(s.domainname == "example.com");
    REQUIRE(s.mounts.size() == 8);
    CHECK(s.mounts[5].destination == "/etc/hosts");
    CHECK(s.mounts[5].source == "/var/lib/containers/abc/hosts");
    CHECK(s.mounts[5].options == std::vector<std::string>{"bind", "rprivate", "ro"});
    REQUIRE(s.mounts[6].uid_mappings.size() == 1);
    CHECK(s.mounts[6].uid_mappings[0].host_id == 100000);
    CHECK(s.mounts[6].gid_mappings[0].size == 65536);
    CHECK(s.annotations.at("io.container.manager") == "libpod");
}

TEST_CASE("full config: hooks and linux fields", "[spec][json]") {
    Spec s = fixture_spec("full.json");
    REQUIRE(s.hooks);
    CHECK(s.hooks->prestart.size() == 1);
    REQUIRE(s.hooks->create_runtime.size() == 1);
    CHECK(s.hooks->create_runtime[0].path == "/usr/bin/nvidia-container-runtime-hook");
    CHECK(s.hooks->create_runtime[0].env == std::vector<std::string>{"PATH=/usr/bin:/bin"});
    CHECK(s.hooks->create_container[0].timeout == 5);
    CHECK_FALSE(s.hooks->start_container[0].timeout);
    CHECK(s.hooks->poststart.size() == 1);
    CHECK(s.hooks->poststop[0].args.size() == 6);

    REQUIRE(s.linux);
    const auto& l = *s.linux;
    CHECK(l.uid_mappings[0].container_id == 0);
    CHECK(l.uid_mappings[0].host_id == 100000);
    CHECK(l.gid_mappings[0].size == 65536);
    CHECK(l.sysctl.at("kernel.shmmax") == "68719476736");
    CHECK(l.resources["memory"]["limit"] == 536870912);
    CHECK(l.resources["devices"].size() == 2);
    CHECK(l.cgroups_path == "machine.slice:libpod:abc");
    REQUIRE(l.namespaces.size() == 8);
    CHECK(l.namespaces[7].type == "time");
    REQUIRE(l.devices.size() == 3);
    CHECK(l.devices[0].file_mode == 438U);
    CHECK(l.devices[0].uid == 0U);
    CHECK_FALSE(l.devices[1].file_mode);
    CHECK(l.devices[2].type == "p");
    REQUIRE(l.seccomp);
    CHECK(l.seccomp->default_action == "SCMP_ACT_ERRNO");
    CHECK(l.seccomp->default_errno_ret == 38U);
    CHECK(l.seccomp->architectures.size() == 3);
    CHECK(l.seccomp->listener_path == "/run/seccomp-agent.sock");
    REQUIRE(l.seccomp->syscalls.size() == 4);
    CHECK(l.seccomp->syscalls[2].errno_ret == 1U);
    CHECK(l.seccomp->syscalls[2].args[1].value_two == 4);
    CHECK(l.seccomp->syscalls[2].args[1].op == "SCMP_CMP_MASKED_EQ");
    CHECK(l.rootfs_propagation == "rslave");
    CHECK(l.masked_paths.size() == 4);
    CHECK(l.readonly_paths.size() == 4);
    CHECK(l.mount_label == "system_u:object_r:container_file_t:s0:c1,c2");
    REQUIRE(l.personality);
    CHECK(l.personality->domain == "LINUX");
    CHECK(l.time_offsets.at("monotonic") == std::pair<int64_t, uint32_t>{86400, 500});
    CHECK(l.time_offsets.at("boottime") == std::pair<int64_t, uint32_t>{-3600, 0});
}

TEST_CASE("canonical fixtures round-trip exactly", "[spec][json]") {
    // These fixtures hold no unknown keys, nulls or empty optional fields, so encoding what was
    // parsed must give back the document itself.
    for (const char* name : {"full.json", "runc_spec.json", "runc_spec_rootless.json"}) {
        INFO(name);
        Json original = fixture_json(name);
        auto s = parse_spec(original);
        REQUIRE(s.ok());
        CHECK(to_json(*s) == original);
    }
}

TEST_CASE("parse -> to_json -> parse is stable for every valid fixture", "[spec][json]") {
    for (const char* name :
         {"full.json", "runc_spec.json", "runc_spec_rootless.json", "unknown_properties.json",
          "nulls.json", "unknown_namespace.json", "relative_mount.json", "missing_rootfs.json"}) {
        INFO(name);
        Spec first = fixture_spec(name);
        Json once = to_json(first);
        auto second = parse_spec(once);
        REQUIRE(second.ok());
        CHECK(to_json(*second) == once);
        // And the text form survives too.
        auto third = parse_spec_text(once.dump(2));
        REQUIRE(third.ok());
        CHECK(to_json(*third) == once);
    }
}

TEST_CASE("unknown properties are ignored at every level", "[spec][json]") {
    Spec s = fixture_spec("unknown_properties.json");
    CHECK(s.oci_version == "1.2.0");
    REQUIRE(s.process);
    CHECK(s.process->args == std::vector<std::string>{"sh"});
    REQUIRE(s.root);
    CHECK(s.root->path == "rootfs");
    REQUIRE(s.linux);
    REQUIRE(s.linux->namespaces.size() == 1);
    CHECK(s.linux->namespaces[0].type == "mount");
    Json expected = Json::parse(R"({
        "ociVersion": "1.2.0",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": "mount"}]}
    })");
    CHECK(to_json(s) == expected);
}

TEST_CASE("null reads as absent", "[spec][json]") {
    Spec s = fixture_spec("nulls.json");
    REQUIRE(s.process);
    CHECK_FALSE(s.process->terminal);
    CHECK_FALSE(s.process->console_size);
    CHECK_FALSE(s.process->user.umask);
    CHECK(s.process->env.empty());
    CHECK_FALSE(s.process->capabilities);
    CHECK_FALSE(s.process->oom_score_adj);
    CHECK_FALSE(s.hooks);
    CHECK(s.annotations.empty());
    REQUIRE(s.linux);
    CHECK(s.linux->resources.is_null());
    CHECK_FALSE(s.linux->seccomp);
    CHECK_FALSE(s.linux->personality);
    CHECK(s.linux->time_offsets.empty());
    CHECK(s.linux->namespaces[0].path.empty());
    Json expected = Json::parse(R"({
        "ociVersion": "1.0.2",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "mounts": [{"destination": "/proc"}],
        "linux": {"namespaces": [{"type": "mount"}]}
    })");
    CHECK(to_json(s) == expected);
}

TEST_CASE("to_json omits empty optional fields and keeps required ones", "[spec][json]") {
    CHECK(to_json(Spec{}) == Json::parse(R"({"ociVersion": ""})"));
    CHECK(to_json(cove::spec::Process{}) ==
          Json::parse(R"({"user": {"uid": 0, "gid": 0}, "cwd": "/"})"));

    Spec s;
    s.oci_version = "1.0.2";
    s.root = cove::spec::Root{"rootfs", false};
    s.hooks = cove::spec::Hooks{};
    s.linux = cove::spec::Linux{};
    s.linux->resources = Json::object();
    s.linux->time_offsets["monotonic"] = {0, 0};
    cove::spec::Device dev;
    dev.type = "p";
    dev.path = "/dev/fifo";
    s.linux->devices.push_back(dev);
    cove::spec::SeccompSyscall sc;
    sc.names = {"read"};
    sc.action = "SCMP_ACT_ALLOW";
    sc.args.push_back({0, 5, 0, "SCMP_CMP_EQ"});
    s.linux->seccomp = cove::spec::Seccomp{};
    s.linux->seccomp->default_action = "SCMP_ACT_ALLOW";
    s.linux->seccomp->syscalls.push_back(sc);
    CHECK(to_json(s) == Json::parse(R"({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "hooks": {},
        "linux": {
            "resources": {},
            "timeOffsets": {"monotonic": {}},
            "devices": [{"path": "/dev/fifo", "type": "p", "major": 0, "minor": 0}],
            "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_EQ"}]}]}
        }
    })"));
}

TEST_CASE("load_spec reads <bundle>/config.json", "[spec][json]") {
    // The fixtures directory has no config.json; a missing file keeps its errno.
    auto missing = load_spec(kConfigDir);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == ENOENT);
    CHECK(missing.error().to_string() ==
          "open " + kConfigDir + "/config.json: No such file or directory");

    auto none = load_spec("/nonexistent-bundle");
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().to_string() ==
          "open /nonexistent-bundle/config.json: No such file or directory");
}

TEST_CASE("load_spec: type and syntax errors name config.json and the place", "[spec][json]") {
    char tmpl[] = "/tmp/cove-spec-json-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    std::string dir = tmpl;
    cove::ScopeExit cleanup([&] { (void)cove::fs::remove_all(dir); });
    auto put = [&](const std::string& name) {
        REQUIRE(cove::fs::atomic_write(dir + "/config.json", fixture_text(name)).ok());
    };
    put("wrong_type.json");
    auto r = load_spec(dir);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().to_string() ==
          "config.json: /process/args/1: type must be string, but is number");

    put("malformed.json");
    r = load_spec(dir);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().to_string() ==
          "config.json: line 3, column 15: syntax error while parsing object key - unexpected "
          "','; expected string literal");

    put("runc_spec.json");
    r = load_spec(dir);
    REQUIRE(r.ok());
    CHECK(r->hostname == "runc");
}

TEST_CASE("bad fixtures fail to parse with the JSON path", "[spec][json]") {
    CHECK(parse_error(fixture_text("wrong_type.json")) ==
          "/process/args/1: type must be string, but is number");
    CHECK(parse_error(fixture_text("missing_required.json")) ==
          "/mounts/1: key 'destination' not found");
    CHECK(parse_error(fixture_text("out_of_range.json")) ==
          "/process/user/uid: number -1 is out of range [0, 4294967295]");
    CHECK(parse_error("") ==
          "line 1, column 1: syntax error while parsing value - unexpected end of input; "
          "expected '[', '{', or a literal");
}

TEST_CASE("type errors", "[spec][json]") {
    CHECK(parse_error("[]") == "type must be object, but is array");
    CHECK(parse_error(R"({"process": []})") == "/process: type must be object, but is array");
    CHECK(parse_error(R"({"process": {"terminal": "yes"}})") ==
          "/process/terminal: type must be boolean, but is string");
    CHECK(parse_error(R"({"process": {"env": "A=b"}})") ==
          "/process/env: type must be array, but is string");
    CHECK(parse_error(R"({"process": {"user": {"uid": "0", "gid": 0}}})") ==
          "/process/user/uid: type must be number, but is string");
    CHECK(parse_error(R"({"process": {"rlimits": [{"type": "RLIMIT_CORE", "hard": 1.5,
          "soft": 1}]}})") == "/process/rlimits/0/hard: number 1.5 is not an integer");
    CHECK(parse_error(R"({"process": {"oomScoreAdj": 2147483648}})") ==
          "/process/oomScoreAdj: number 2147483648 is out of range [-2147483648, 2147483647]");
    CHECK(
        parse_error(R"({"process": {"user": {"uid": 0, "gid": 0, "additionalGids": [1, -2]}}})") ==
        "/process/user/additionalGids/1: number -2 is out of range [0, 4294967295]");
    CHECK(parse_error(R"({"annotations": {"a": 1}})") ==
          "/annotations/a: type must be string, but is number");
    CHECK(parse_error(R"({"linux": {"sysctl": ["a"]}})") ==
          "/linux/sysctl: type must be object, but is array");
    CHECK(parse_error(R"({"linux": {"resources": []}})") ==
          "/linux/resources: type must be object, but is array");
    CHECK(parse_error(R"({"linux": {"timeOffsets": {"monotonic": {"secs": "1"}}}})") ==
          "/linux/timeOffsets/monotonic/secs: type must be number, but is string");
    CHECK(parse_error(R"({"linux": {"namespaces": [{"type": "pid"}, {"path": "/x"}]}})") ==
          "/linux/namespaces/1: key 'type' not found");
    CHECK(parse_error(R"({"linux": {"seccomp": {"syscalls": []}}})") ==
          "/linux/seccomp: key 'defaultAction' not found");
}

TEST_CASE("a null in a required field is a type error", "[spec][json]") {
    CHECK(parse_error(R"({"root": {"path": null}})") ==
          "/root/path: type must be string, but is null");
    CHECK(parse_error(R"({"process": {"args": ["sh", null]}})") ==
          "/process/args/1: type must be string, but is null");
    CHECK(parse_error(R"({"process": {"rlimits": [{"type": "RLIMIT_CORE", "hard": null,
          "soft": 0}]}})") == "/process/rlimits/0/hard: type must be number, but is null");
}

TEST_CASE("a missing cwd reads as empty, left to validate()", "[spec][json]") {
    auto s = parse_spec_text(R"({"process": {"args": ["sh"]}})");
    REQUIRE(s.ok());
    CHECK(s->process->cwd.empty());
}

TEST_CASE("integers at the edges of their ranges", "[spec][json]") {
    auto s = parse_spec_text(R"({
        "process": {"user": {"uid": 4294967295, "gid": 0}, "oomScoreAdj": -2147483648,
                    "rlimits": [{"type": "RLIMIT_AS", "hard": 18446744073709551615, "soft": 0}]},
        "linux": {"devices": [{"type": "c", "path": "/dev/x", "major": -1, "minor": 9223372036854775807}],
                  "timeOffsets": {"boottime": {"secs": -9223372036854775808, "nanosecs": 999999999}}}
    })");
    REQUIRE(s.ok());
    CHECK(s->process->user.uid == 4294967295U);
    CHECK(s->process->oom_score_adj == std::numeric_limits<int>::min());
    CHECK(s->linux->devices[0].major == -1);
    CHECK(s->linux->devices[0].minor == std::numeric_limits<int64_t>::max());
    CHECK(s->linux->time_offsets.at("boottime").first == std::numeric_limits<int64_t>::min());
    CHECK(parse_error(R"({"process": {"user": {"uid": 4294967296, "gid": 0}}})") ==
          "/process/user/uid: number 4294967296 is out of range [0, 4294967295]");
    // Built in code (no parser): a positive signed number is still range-checked.
    Json j = {{"process", {{"user", {{"uid", 0}, {"gid", int64_t{-5}}}}}}};
    auto bad = parse_spec(j);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().to_string() ==
          "/process/user/gid: number -5 is out of range [0, 4294967295]");
    Json ok = {{"process", {{"user", {{"uid", int64_t{7}}, {"gid", 0}}}}}};
    auto good = parse_spec(ok);
    REQUIRE(good.ok());
    CHECK(good->process->user.uid == 7);
}

TEST_CASE("parse_process reads a lone process object", "[spec][json]") {
    auto p = parse_process(Json::parse(R"({
        "terminal": false, "user": {"uid": 1, "gid": 2}, "args": ["ps", "aux"], "cwd": "/tmp",
        "env": ["A=b"], "capabilities": {"bounding": ["CAP_KILL"]}
    })"));
    REQUIRE(p.ok());
    CHECK(p->user.gid == 2);
    CHECK(p->args == std::vector<std::string>{"ps", "aux"});
    CHECK(to_json(*p) == Json::parse(R"({
        "user": {"uid": 1, "gid": 2}, "args": ["ps", "aux"], "cwd": "/tmp", "env": ["A=b"],
        "capabilities": {"bounding": ["CAP_KILL"]}
    })"));
    auto bad = parse_process(Json::parse(R"({"args": [1]})"));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().to_string() == "/args/0: type must be string, but is number");
}
