#include "runtime/spec/validate.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"
#include "runtime/spec/spec_json.hpp"

using cove::spec::Hook;
using cove::spec::IdMapping;
using cove::spec::Namespace;
using cove::spec::resolve_rootfs;
using cove::spec::Spec;
using cove::spec::validate;

namespace {

const std::string kConfigDir = std::string(COVE_FIXTURES) + "/config";

// A bundle directory with an empty rootfs/, removed at the end of the test.
struct TempBundle {
    std::string dir;
    TempBundle() {
        char tmpl[] = "/tmp/cove-spec-validate-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        REQUIRE(::mkdir((dir + "/rootfs").c_str(), 0755) == 0);
    }
    ~TempBundle() { (void)cove::fs::remove_all(dir); }
    TempBundle(const TempBundle&) = delete;
    TempBundle& operator=(const TempBundle&) = delete;
};

Spec fixture_spec(const std::string& name) {
    auto text = cove::fs::read_file(kConfigDir + "/" + name);
    REQUIRE(text.ok());
    auto s = cove::spec::parse_spec_text(*text);
    REQUIRE(s.ok());
    return *s;
}

// Validates against a fresh bundle; "" when valid, else the message.
std::string check(const Spec& s) {
    TempBundle b;
    auto st = validate(s, b.dir);
    return st.ok() ? "" : st.error().to_string();
}

// The podman-like fixture, valid as is; each test breaks one thing.
Spec full() {
    return fixture_spec("full.json");
}

// A minimal valid spec with only the given namespaces.
Spec minimal(std::initializer_list<const char*> namespaces) {
    Spec s = fixture_spec("runc_spec.json");
    s.hostname.clear();
    s.linux->masked_paths.clear();
    s.linux->readonly_paths.clear();
    s.linux->namespaces.clear();
    for (const char* type : namespaces) {
        s.linux->namespaces.push_back(Namespace{type, ""});
    }
    return s;
}

}  // namespace

TEST_CASE("valid fixtures pass", "[spec][validate]") {
    CHECK(check(full()).empty());
    CHECK(check(fixture_spec("runc_spec.json")).empty());
    CHECK(check(fixture_spec("runc_spec_rootless.json")).empty());
    CHECK(check(fixture_spec("nulls.json")).empty());
    CHECK(check(fixture_spec("unknown_properties.json")).empty());
    CHECK(check(minimal({})).empty());
}

TEST_CASE("invalid fixtures", "[spec][validate]") {
    CHECK(check(fixture_spec("unknown_namespace.json")) ==
          "linux.namespaces[2].type: unknown namespace \"foo\"");
    CHECK(check(fixture_spec("relative_mount.json")) ==
          "mounts[3].destination: \"tmp\" is not an absolute path");
    TempBundle b;
    auto st = validate(fixture_spec("missing_rootfs.json"), b.dir);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == ENOENT);
    CHECK(st.error().to_string() ==
          "root.path: " + b.dir + "/no-such-rootfs: No such file or directory");
}

TEST_CASE("process", "[spec][validate]") {
    Spec s = full();
    SECTION("is required") {
        s.process.reset();
        CHECK(check(s) == "process: must be set");
    }
    SECTION("args") {
        s.process->args.clear();
        CHECK(check(s) == "process.args: must not be empty");
    }
    SECTION("cwd empty") {
        s.process->cwd.clear();
        CHECK(check(s) == "process.cwd: must not be empty");
    }
    SECTION("cwd relative") {
        s.process->cwd = "x";
        CHECK(check(s) == "process.cwd: \"x\" is not an absolute path");
    }
    SECTION("env without =") {
        s.process->env = {"A=1", "FOO"};
        CHECK(check(s) == "process.env[1]: \"FOO\" has no \"=\"");
    }
    SECTION("env with an empty name") {
        s.process->env = {"=x"};
        CHECK(check(s) == "process.env[0]: \"=x\" has an empty name");
    }
    SECTION("env with a nul byte") {
        s.process->env = {std::string("A=b\0c", 5)};
        CHECK(check(s) == "process.env[0]: \"A=b\\x00c\" contains a nul byte");
    }
    SECTION("env: empty values and '=' in values are fine") {
        s.process->env = {"A=", "B=c=d"};
        CHECK(check(s).empty());
    }
    SECTION("oomScoreAdj range") {
        s.process->oom_score_adj = 1001;
        CHECK(check(s) == "process.oomScoreAdj: 1001 is out of range [-1000, 1000]");
        s.process->oom_score_adj = -1001;
        CHECK(check(s) == "process.oomScoreAdj: -1001 is out of range [-1000, 1000]");
        s.process->oom_score_adj = -1000;
        CHECK(check(s).empty());
    }
}

TEST_CASE("process.rlimits", "[spec][validate]") {
    Spec s = full();
    SECTION("unknown type") {
        s.process->rlimits[0].type = "RLIMIT_FOO";
        CHECK(check(s) == "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
    }
    SECTION("duplicate type") {
        s.process->rlimits[1].type = "RLIMIT_NOFILE";
        CHECK(check(s) == "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"");
    }
    SECTION("soft above hard") {
        s.process->rlimits[0].soft = 20001;
        CHECK(check(s) == "process.rlimits[0]: soft limit 20001 is greater than hard limit 20000");
    }
    SECTION("every kernel rlimit is known") {
        s.process->rlimits.clear();
        for (const char* r :
             {"RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE",
              "RLIMIT_LOCKS", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE",
              "RLIMIT_NPROC", "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING",
              "RLIMIT_STACK"}) {
            s.process->rlimits.push_back({r, 10, 10});
        }
        CHECK(check(s).empty());
    }
}

TEST_CASE("root", "[spec][validate]") {
    Spec s = full();
    TempBundle b;
    SECTION("is required") {
        s.root.reset();
        CHECK(validate(s, b.dir).error().to_string() == "root: must be set");
    }
    SECTION("path must not be empty") {
        s.root->path.clear();
        CHECK(validate(s, b.dir).error().to_string() == "root.path: must not be empty");
    }
    SECTION("missing directory") {
        auto st = validate(s, b.dir + "/nope");
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().to_string() ==
              "root.path: " + b.dir + "/nope/rootfs: No such file or directory");
    }
    SECTION("not a directory") {
        REQUIRE(cove::fs::atomic_write(b.dir + "/file", "x").ok());
        s.root->path = "file";
        auto st = validate(s, b.dir);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == ENOTDIR);
        CHECK(st.error().to_string() == "root.path: " + b.dir + "/file: Not a directory");
    }
    SECTION("an absolute path ignores the bundle") {
        s.root->path = b.dir + "/rootfs";
        CHECK(validate(s, "/nonexistent").ok());
    }
    SECTION("a symlinked rootfs is accepted") {
        REQUIRE(::symlink("rootfs", (b.dir + "/link").c_str()) == 0);
        s.root->path = "link";
        CHECK(validate(s, b.dir).ok());
    }
}

TEST_CASE("resolve_rootfs", "[spec][validate]") {
    Spec s;
    CHECK(resolve_rootfs(s, "/b").empty());
    s.root = cove::spec::Root{"rootfs", false};
    CHECK(resolve_rootfs(s, "/b") == "/b/rootfs");
    CHECK(resolve_rootfs(s, "/b/") == "/b/rootfs");
    s.root->path = "./x/../rootfs/";
    CHECK(resolve_rootfs(s, "/b") == "/b/rootfs");
    s.root->path = "/abs//rootfs";
    CHECK(resolve_rootfs(s, "/b") == "/abs/rootfs");
    s.root->path = "rootfs";
    char buf[4096];
    REQUIRE(::getcwd(buf, sizeof buf) != nullptr);
    std::string cwd = buf;
    CHECK(resolve_rootfs(s, "bundle") == cove::fs::clean_path(cwd + "/bundle/rootfs"));
    CHECK(resolve_rootfs(s, "") == cove::fs::clean_path(cwd + "/rootfs"));
}

TEST_CASE("mounts", "[spec][validate]") {
    Spec s = full();
    SECTION("relative destination") {
        s.mounts[3].destination = "tmp";
        CHECK(check(s) == "mounts[3].destination: \"tmp\" is not an absolute path");
    }
    SECTION("empty destination") {
        s.mounts[0].destination.clear();
        CHECK(check(s) == "mounts[0].destination: \"\" is not an absolute path");
    }
    SECTION("id-mapped mount without gid mappings") {
        s.mounts[6].gid_mappings.clear();
        CHECK(check(s) == "mounts[6]: id-mapped mounts need both uidMappings and gidMappings");
    }
    SECTION("id-mapped mount that is not a bind mount") {
        s.mounts[6].options = {"idmap"};
        s.mounts[6].type = "tmpfs";
        CHECK(check(s) == "mounts[6].options: id-mapped mounts need \"bind\" or \"rbind\"");
    }
}

TEST_CASE("hooks", "[spec][validate]") {
    Spec s = full();
    SECTION("relative path") {
        s.hooks->create_runtime[0].path = "hook.sh";
        CHECK(check(s) == "hooks.createRuntime[0].path: \"hook.sh\" is not an absolute path");
    }
    SECTION("each hook list is checked") {
        s.hooks->poststop.push_back(Hook{"bin/x", {}, {}, std::nullopt});
        CHECK(check(s) == "hooks.poststop[1].path: \"bin/x\" is not an absolute path");
    }
    SECTION("timeout must be positive") {
        s.hooks->prestart[0].timeout = 0;
        CHECK(check(s) == "hooks.prestart[0].timeout: must be greater than zero");
    }
}

TEST_CASE("linux.namespaces", "[spec][validate]") {
    Spec s = full();
    SECTION("unknown type") {
        s.linux->namespaces[2].type = "foo";
        CHECK(check(s) == "linux.namespaces[2].type: unknown namespace \"foo\"");
    }
    SECTION("duplicate type") {
        s.linux->namespaces.push_back(Namespace{"pid", "/proc/1/ns/pid"});
        CHECK(check(s) == "linux.namespaces: duplicate namespace \"pid\"");
    }
    SECTION("relative path") {
        s.linux->namespaces[0].path = "proc/1/ns/pid";
        CHECK(check(s) == "linux.namespaces[0].path: \"proc/1/ns/pid\" is not an absolute path");
    }
}

TEST_CASE("hostname and domainname need a uts namespace", "[spec][validate]") {
    Spec s = minimal({"mount"});
    s.hostname = "web";
    CHECK(check(s) == "hostname: cannot set hostname without a new uts namespace");
    s.hostname.clear();
    s.domainname = "example.com";
    CHECK(check(s) == "domainname: cannot set domainname without a new uts namespace");
    s.linux->namespaces.push_back(Namespace{"uts", "/proc/1/ns/uts"});
    CHECK(check(s).empty());
}

TEST_CASE("user namespace and mappings", "[spec][validate]") {
    Spec s = full();
    SECTION("uid mappings without a user namespace") {
        s.linux->namespaces.erase(s.linux->namespaces.begin() + 5);
        CHECK(check(s) ==
              "linux.uidMappings: user namespace mappings given without a user namespace");
    }
    SECTION("gid mappings without a user namespace") {
        s.linux->namespaces.erase(s.linux->namespaces.begin() + 5);
        s.linux->uid_mappings.clear();
        CHECK(check(s) ==
              "linux.gidMappings: user namespace mappings given without a user namespace");
    }
    SECTION("a new user namespace needs uid mappings") {
        s.linux->uid_mappings.clear();
        CHECK(check(s) == "linux.uidMappings: must not be empty with a new user namespace");
    }
    SECTION("a new user namespace needs gid mappings") {
        s.linux->gid_mappings.clear();
        CHECK(check(s) == "linux.gidMappings: must not be empty with a new user namespace");
    }
    SECTION("a joined user namespace brings its own mappings") {
        s.linux->uid_mappings.clear();
        s.linux->gid_mappings.clear();
        s.linux->namespaces[5].path = "/proc/1/ns/user";
        CHECK(check(s).empty());
    }
    SECTION("size zero") {
        s.linux->uid_mappings.push_back(IdMapping{70000, 200000, 0});
        CHECK(check(s) == "linux.uidMappings[1].size: must not be zero");
    }
    SECTION("container range overflows") {
        s.linux->gid_mappings[0] = IdMapping{4294967295U, 100000, 2};
        CHECK(check(s) == "linux.gidMappings[0]: containerID + size overflows uint32");
    }
    SECTION("host range overflows") {
        s.linux->uid_mappings[0] = IdMapping{0, 4294967295U, 2};
        CHECK(check(s) == "linux.uidMappings[0]: hostID + size overflows uint32");
    }
    SECTION("a range ending at the top of the id space is fine") {
        s.linux->uid_mappings[0] = IdMapping{4294967295U, 4294967295U, 1};
        CHECK(check(s).empty());
    }
}

TEST_CASE("linux.devices", "[spec][validate]") {
    Spec s = full();
    SECTION("unknown type") {
        s.linux->devices[1].type = "x";
        CHECK(check(s) == "linux.devices[1].type: unknown device type \"x\"");
    }
    SECTION("relative path") {
        s.linux->devices[0].path = "dev/fuse";
        CHECK(check(s) == "linux.devices[0].path: \"dev/fuse\" is not an absolute path");
    }
    SECTION("u is a char device too") {
        s.linux->devices[0].type = "u";
        CHECK(check(s).empty());
    }
}

TEST_CASE("maskedPaths and readonlyPaths", "[spec][validate]") {
    Spec s = minimal({"pid"});
    SECTION("masking needs a mount namespace") {
        s.linux->masked_paths = {"/proc/kcore"};
        CHECK(check(s) == "linux.maskedPaths: cannot mask paths without a new mount namespace");
    }
    SECTION("read-only paths need a mount namespace") {
        s.linux->readonly_paths = {"/proc/sys"};
        CHECK(check(s) ==
              "linux.readonlyPaths: cannot make paths read-only without a new mount namespace");
    }
    SECTION("masked paths are absolute") {
        s.linux->namespaces.push_back(Namespace{"mount", ""});
        s.linux->masked_paths = {"/proc/acpi", "proc/kcore"};
        CHECK(check(s) == "linux.maskedPaths[1]: \"proc/kcore\" is not an absolute path");
    }
    SECTION("read-only paths are absolute") {
        s.linux->namespaces.push_back(Namespace{"mount", ""});
        s.linux->readonly_paths = {"sys"};
        CHECK(check(s) == "linux.readonlyPaths[0]: \"sys\" is not an absolute path");
    }
}

TEST_CASE("linux.rootfsPropagation", "[spec][validate]") {
    Spec s = full();
    for (const char* p : {"shared", "slave", "private", "unbindable", "rshared", "rslave",
                          "rprivate", "runbindable", ""}) {
        s.linux->rootfs_propagation = p;
        CHECK(check(s).empty());
    }
    s.linux->rootfs_propagation = "foo";
    CHECK(check(s) == "linux.rootfsPropagation: unknown propagation \"foo\"");
}

TEST_CASE("linux.sysctl follows the namespaces, as runc does", "[spec][validate]") {
    SECTION("ipc sysctls need an ipc namespace") {
        Spec s = minimal({"mount"});
        s.linux->sysctl = {{"kernel.shmmax", "1"}};
        CHECK(check(s) == "linux.sysctl: \"kernel.shmmax\" needs a new ipc namespace");
        s.linux->sysctl = {{"fs.mqueue.msg_max", "10"}};
        CHECK(check(s) == "linux.sysctl: \"fs.mqueue.msg_max\" needs a new ipc namespace");
        s.linux->namespaces.push_back(Namespace{"ipc", ""});
        CHECK(check(s).empty());
    }
    SECTION("net sysctls need a network namespace that is not ours") {
        Spec s = minimal({"mount"});
        s.linux->sysctl = {{"net.ipv4.ip_forward", "1"}};
        CHECK(check(s) ==
              "linux.sysctl: \"net.ipv4.ip_forward\" is not allowed in the host network namespace");
        s.linux->namespaces.push_back(Namespace{"network", "/proc/self/ns/net"});
        CHECK(check(s) ==
              "linux.sysctl: \"net.ipv4.ip_forward\" is not allowed in the host network namespace");
        s.linux->namespaces[1].path = "/nonexistent/netns";
        CHECK(check(s) ==
              "linux.namespaces[1].path: stat /nonexistent/netns: No such file or directory");
        s.linux->namespaces[1].path.clear();
        CHECK(check(s).empty());
    }
    SECTION("the slash form is converted before the check") {
        Spec s = minimal({"mount"});
        s.linux->sysctl = {{"net/ipv4/conf/eth0.100/rp_filter", "1"}};
        CHECK(check(s) ==
              "linux.sysctl: \"net/ipv4/conf/eth0.100/rp_filter\" is not allowed in "
              "the host network namespace");
        s.linux->sysctl = {{"kernel/shmmax", "1"}};
        CHECK(check(s) == "linux.sysctl: \"kernel/shmmax\" needs a new ipc namespace");
    }
    SECTION("uts sysctls") {
        Spec s = minimal({"mount", "uts"});
        s.linux->sysctl = {{"kernel.domainname", "example.com"}};
        CHECK(check(s).empty());
        s.linux->sysctl = {{"kernel.hostname", "web"}};
        CHECK(check(s) == "linux.sysctl: \"kernel.hostname\" conflicts with the hostname field");
        s.linux->namespaces.pop_back();
        s.linux->sysctl = {{"kernel.domainname", "example.com"}};
        CHECK(check(s) ==
              "linux.sysctl: \"kernel.domainname\" is not in a separate kernel namespace");
    }
    SECTION("everything else is host-wide") {
        Spec s = full();
        s.linux->sysctl["vm.swappiness"] = "10";
        CHECK(check(s) == "linux.sysctl: \"vm.swappiness\" is not in a separate kernel namespace");
    }
}

TEST_CASE("linux.timeOffsets", "[spec][validate]") {
    Spec s = full();
    SECTION("need a time namespace") {
        s.linux->namespaces.pop_back();
        CHECK(check(s) == "linux.timeOffsets: time offsets given without a time namespace");
    }
    SECTION("known clocks only") {
        s.linux->time_offsets["realtime"] = {1, 0};
        CHECK(check(s) == "linux.timeOffsets: unknown clock \"realtime\"");
    }
    SECTION("nanoseconds below one second") {
        s.linux->time_offsets["monotonic"] = {1, 1000000000};
        CHECK(check(s) == "linux.timeOffsets.monotonic.nanosecs: must be less than 1000000000");
    }
}

TEST_CASE("linux.seccomp", "[spec][validate]") {
    Spec s = full();
    auto& sc = *s.linux->seccomp;
    SECTION("unknown default action") {
        sc.default_action = "SCMP_ACT_FOO";
        CHECK(check(s) == "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"");
    }
    SECTION("notify cannot be the default") {
        sc.default_action = "SCMP_ACT_NOTIFY";
        CHECK(check(s) ==
              "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
    }
    SECTION("unknown flag") {
        sc.flags.push_back("SECCOMP_FILTER_FLAG_FOO");
        CHECK(check(s) == "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
    }
    SECTION("syscall names") {
        sc.syscalls[1].names.clear();
        CHECK(check(s) == "linux.seccomp.syscalls[1].names: must not be empty");
    }
    SECTION("syscall action") {
        sc.syscalls[0].action = "allow";
        CHECK(check(s) == "linux.seccomp.syscalls[0].action: unknown action \"allow\"");
    }
    SECTION("argument index") {
        sc.syscalls[2].args[1].index = 6;
        CHECK(check(s) == "linux.seccomp.syscalls[2].args[1].index: 6 is out of range [0, 5]");
    }
    SECTION("argument operator") {
        sc.syscalls[2].args[0].op = "SCMP_CMP_FOO";
        CHECK(check(s) ==
              "linux.seccomp.syscalls[2].args[0].op: unknown operator \"SCMP_CMP_FOO\"");
    }
    SECTION("notify needs a listener") {
        sc.listener_path.clear();
        CHECK(check(s) == "linux.seccomp.listenerPath: must be set when SCMP_ACT_NOTIFY is used");
    }
}

TEST_CASE("linux.personality", "[spec][validate]") {
    Spec s = full();
    s.linux->personality->domain = "LINUX32";
    CHECK(check(s).empty());
    s.linux->personality->domain = "WINDOWS";
    CHECK(check(s) == "linux.personality.domain: unknown domain \"WINDOWS\"");
}

TEST_CASE("quoting in messages escapes like Go's %q", "[spec][validate]") {
    Spec s = full();
    s.process->cwd = "a\"b\\c\td";
    CHECK(check(s) == "process.cwd: \"a\\\"b\\\\c\\x09d\" is not an absolute path");
}
