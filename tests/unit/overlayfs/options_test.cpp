// overlayfs option building, short link names and whiteout names: pure logic, no mounts.
#include <catch2/catch.hpp>

#include "overlayfs/overlayfs.hpp"

namespace ovl = cove::overlayfs;

TEST_CASE("lowerdir lists the top layer first") {
    ovl::Options o;
    o.lowers = {"/l/bottom", "/l/mid", "/l/top"};
    auto r = ovl::mount_options(o);
    REQUIRE(r.ok());
    REQUIRE(*r == std::vector<std::string>{"lowerdir=/l/top:/l/mid:/l/bottom", "index=off"});
    REQUIRE(ovl::mount_data(o, {}) == "lowerdir=/l/top:/l/mid:/l/bottom,index=off");
}

TEST_CASE("upper, work and userxattr follow the lowers") {
    ovl::Options o;
    o.lowers = {"/a"};
    o.upper = "/c/upper";
    o.work = "/c/work";
    o.userxattr = true;
    auto r = ovl::mount_options(o);
    REQUIRE(r.ok());
    REQUIRE(*r == std::vector<std::string>{"lowerdir=/a", "upperdir=/c/upper", "workdir=/c/work",
                                           "index=off", "userxattr"});
    REQUIRE(ovl::mount_data(o, {"0"}) ==
            "lowerdir=0,upperdir=/c/upper,workdir=/c/work,index=off,userxattr");
}

TEST_CASE("short link names replace the lowers in mount data") {
    ovl::Options o;
    o.lowers = {"/very/long/a", "/very/long/b", "/very/long/c"};
    REQUIRE(ovl::mount_data(o, {"0", "1", "2"}) == "lowerdir=0:1:2,index=off");
}

TEST_CASE("bad overlay options are errors naming the cause") {
    ovl::Options o;
    REQUIRE_THAT(ovl::mount_options(o).error().message(), Catch::Contains("no lower layers"));
    o.lowers = {"relative"};
    REQUIRE_THAT(ovl::mount_options(o).error().message(), Catch::Contains("not absolute"));
    o.lowers = {"/a:b"};
    REQUIRE_THAT(ovl::mount_options(o).error().message(), Catch::Contains("has ':'"));
    o.lowers = {"/a,b"};
    REQUIRE(!ovl::mount_options(o).ok());
    o.lowers = {"/a"};
    o.upper = "/u";
    REQUIRE_THAT(ovl::mount_options(o).error().message(), Catch::Contains("go together"));
    o.upper.clear();
    o.lowers.assign(ovl::kMaxLowers + 1, "/a");
    REQUIRE_THAT(ovl::mount_options(o).error().message(), Catch::Contains("at most 500"));
    o.lowers.assign(ovl::kMaxLowers, "/a");
    REQUIRE(ovl::mount_options(o).ok());
}

TEST_CASE("short names are base 36, shortest first") {
    REQUIRE(ovl::short_name(0) == "0");
    REQUIRE(ovl::short_name(9) == "9");
    REQUIRE(ovl::short_name(10) == "a");
    REQUIRE(ovl::short_name(35) == "z");
    REQUIRE(ovl::short_name(36) == "10");
    REQUIRE(ovl::short_name(499) == "dv");
}

TEST_CASE("500 layers with short names fit in one page; with store paths they do not") {
    ovl::Options o;
    std::vector<std::string> names;
    for (size_t i = 0; i < ovl::kMaxLowers; ++i) {
        o.lowers.push_back("/var/lib/cove/images/layers/sha256/" + std::string(64, 'a') +
                           "/rootfs");
        names.push_back(ovl::short_name(i));
    }
    o.upper = "/var/lib/cove/containers/" + std::string(64, 'x') + "/upper";
    o.work = "/var/lib/cove/containers/" + std::string(64, 'x') + "/work";
    REQUIRE(ovl::mount_data(o, names).size() < ovl::kMaxMountData);
    REQUIRE(ovl::mount_data(o, {}).size() > ovl::kMaxMountData);
}

TEST_CASE("OCI whiteout names") {
    std::string hidden;
    REQUIRE(ovl::classify_whiteout(".wh..wh..opq") == ovl::Whiteout::kOpaque);
    REQUIRE(ovl::classify_whiteout(".wh.foo", &hidden) == ovl::Whiteout::kFile);
    REQUIRE(hidden == "foo");
    REQUIRE(ovl::classify_whiteout(".wh..hidden", &hidden) == ovl::Whiteout::kFile);
    REQUIRE(hidden == ".hidden");
    REQUIRE(ovl::classify_whiteout(".wh.") == ovl::Whiteout::kNone);
    REQUIRE(ovl::classify_whiteout(".wh..") == ovl::Whiteout::kNone);
    REQUIRE(ovl::classify_whiteout(".wh...") == ovl::Whiteout::kNone);
    REQUIRE(ovl::classify_whiteout("foo") == ovl::Whiteout::kNone);
    REQUIRE(ovl::classify_whiteout("x.wh.foo") == ovl::Whiteout::kNone);
}
