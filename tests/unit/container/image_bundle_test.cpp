// image_bundle: image config -> config.json, User resolution, Env merging, and reading a file
// of the merged image from its layers. No root: layers are plain temp dirs.
#include "runtime/container/image_bundle.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"
#include "tests/helpers/temp_dir.hpp"

namespace ib = cove::image_bundle;
namespace fs = cove::fs;
using Json = nlohmann::json;

namespace {

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "app:x:1234:2345::/home/app:/bin/sh\n"
    "broken:x:notanumber:1\n";
const char* kGroup =
    "root:x:0:\n"
    "app:x:2345:\n"
    "extra:x:3456:other, app\n"
    "wheel:x:10:app\n";

ib::ImageInfo image(Json config, std::vector<std::string> layers = {}) {
    return ib::ImageInfo{"localhost/t:latest", "sha256:abc", std::move(layers),
                         Json{{"config", std::move(config)}}};
}

}  // namespace

TEST_CASE("Entrypoint + Cmd, or Entrypoint + the given command") {
    auto img = image({{"Entrypoint", {"/bin/tini", "--"}}, {"Cmd", {"sh", "-c", "x"}}});
    auto s = ib::make_spec(img, {"ct", {}, false, "rootfs"});
    REQUIRE(s.ok());
    REQUIRE((*s)["process"]["args"] == Json({"/bin/tini", "--", "sh", "-c", "x"}));
    s = ib::make_spec(img, {"ct", {"echo", "hi"}, false, "rootfs"});
    REQUIRE((*s)["process"]["args"] == Json({"/bin/tini", "--", "echo", "hi"}));
}

TEST_CASE("no command anywhere is an error saying how to give one") {
    auto s = ib::make_spec(image(Json::object()), {"ct", {}, false, "rootfs"});
    REQUIRE(!s.ok());
    REQUIRE_THAT(s.error().message(), Catch::Contains("give a command after --"));
    s = ib::make_spec(image({{"Cmd", "sh"}}), {"ct", {}, false, "rootfs"});
    REQUIRE_THAT(s.error().message(), Catch::Contains("config.Cmd: must be an array"));
}

TEST_CASE("the spec is cove's default with the image's process, root rw, terminal as asked") {
    auto img = image({{"Cmd", {"sh"}},
                      {"Env", {"PATH=/opt/bin:/bin", "FOO=bar"}},
                      {"WorkingDir", "work/dir/"},
                      {"StopSignal", "SIGQUIT"}});
    auto s = ib::make_spec(img, {"my-ct", {}, true, "rootfs"});
    REQUIRE(s.ok());
    const auto& p = (*s)["process"];
    REQUIRE(p["terminal"] == true);
    REQUIRE(p["env"] == Json({"PATH=/opt/bin:/bin", "TERM=xterm", "FOO=bar"}));
    REQUIRE(p["cwd"] == "/work/dir");
    REQUIRE(Json::parse(p["user"].dump()) == Json({{"uid", 0}, {"gid", 0}}));
    REQUIRE(Json::parse((*s)["root"].dump()) == Json({{"path", "rootfs"}, {"readonly", false}}));
    REQUIRE((*s)["hostname"] == "my-ct");
    REQUIRE((*s)["annotations"]["run.cove.image.name"] == "localhost/t:latest");
    REQUIRE((*s)["annotations"]["org.opencontainers.image.stopSignal"] == "SIGQUIT");
    // The rest is the default spec: namespaces, mounts, capabilities.
    REQUIRE((*s)["linux"]["namespaces"].size() == 5);
    REQUIRE((*s)["process"]["capabilities"]["bounding"].size() == 3);
    REQUIRE((*s)["process"]["noNewPrivileges"] == true);
}

TEST_CASE("env merge replaces in place and appends new keys") {
    REQUIRE(ib::merge_env({"PATH=/bin", "TERM=xterm"}, {"TERM=dumb", "A=1", "B"}) ==
            std::vector<std::string>{"PATH=/bin", "TERM=dumb", "A=1", "B"});
}

TEST_CASE("User forms resolve like docker's") {
    auto r = ib::resolve_user("", kPasswd, kGroup);
    REQUIRE((r->uid == 0 && r->gid == 0 && r->additional_gids.empty()));
    r = ib::resolve_user("app", kPasswd, kGroup);
    REQUIRE((r->uid == 1234 && r->gid == 2345));
    REQUIRE(r->additional_gids == std::vector<uint32_t>{3456, 10});
    r = ib::resolve_user("1234", kPasswd, kGroup);
    REQUIRE((r->uid == 1234 && r->gid == 2345 && r->additional_gids.size() == 2));
    r = ib::resolve_user("4000", kPasswd, kGroup);
    REQUIRE((r->uid == 4000 && r->gid == 0));
    r = ib::resolve_user("4000:77", std::nullopt, std::nullopt);
    REQUIRE((r->uid == 4000 && r->gid == 77));
    r = ib::resolve_user("app:wheel", kPasswd, kGroup);
    REQUIRE((r->uid == 1234 && r->gid == 10 && r->additional_gids.empty()));
    r = ib::resolve_user("0:app", kPasswd, kGroup);
    REQUIRE((r->uid == 0 && r->gid == 2345));
}

TEST_CASE("unknown user or group names are errors naming them") {
    auto r = ib::resolve_user("ghost", kPasswd, kGroup);
    REQUIRE_THAT(r.error().message(), Catch::Contains("user \"ghost\": no such user"));
    r = ib::resolve_user("app:ghosts", kPasswd, kGroup);
    REQUIRE_THAT(r.error().message(), Catch::Contains("group \"ghosts\": no such group"));
    r = ib::resolve_user("app", std::nullopt, std::nullopt);
    REQUIRE(!r.ok());
    r = ib::resolve_user("broken", kPasswd, kGroup);
    REQUIRE(!r.ok());
}

TEST_CASE("image files come from the top-most layer that has them") {
    cove::test::TempDir t("cove-unit-img");
    std::string l1 = t.path + "/l1", l2 = t.path + "/l2", l3 = t.path + "/l3";
    REQUIRE(fs::mkdir_p(l1 + "/etc").ok());
    REQUIRE(fs::mkdir_p(l2 + "/etc").ok());
    REQUIRE(fs::mkdir_p(l3 + "/usr").ok());
    REQUIRE(fs::write_file(l1 + "/etc/passwd", "one", O_CREAT).ok());
    REQUIRE(fs::write_file(l2 + "/etc/passwd", "two", O_CREAT).ok());
    REQUIRE(fs::write_file(l1 + "/etc/group", "g1", O_CREAT).ok());
    auto r = ib::read_image_file({l1, l2, l3}, "/etc/passwd");
    REQUIRE((r.ok() && *r && **r == "two"));
    r = ib::read_image_file({l1, l2, l3}, "/etc/group");
    REQUIRE((r.ok() && *r && **r == "g1"));
    r = ib::read_image_file({l1, l2, l3}, "/etc/shadow");
    REQUIRE((r.ok() && !*r));
}

TEST_CASE("a symlink in a layer resolves inside that layer, never on the host") {
    cove::test::TempDir t("cove-unit-img");
    std::string l1 = t.path + "/l1";
    REQUIRE(fs::mkdir_p(l1 + "/etc").ok());
    REQUIRE(fs::mkdir_p(l1 + "/lib").ok());
    REQUIRE(fs::write_file(l1 + "/lib/passwd", "in-layer", O_CREAT).ok());
    REQUIRE(::symlink("/lib/passwd", (l1 + "/etc/passwd").c_str()) == 0);
    REQUIRE(::symlink("/etc/hostname", (l1 + "/etc/group").c_str()) == 0);  // host file
    auto r = ib::read_image_file({l1}, "/etc/passwd");
    REQUIRE((r.ok() && *r && **r == "in-layer"));
    r = ib::read_image_file({l1}, "/etc/group");
    REQUIRE((r.ok() && !*r));  // /etc/hostname of the layer: absent
    r = ib::read_image_file({l1}, "/lib");
    REQUIRE_THAT(r.error().message(), Catch::Contains("not a regular file"));
}
