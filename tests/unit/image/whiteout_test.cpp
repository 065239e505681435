#include <catch2/catch.hpp>

#include "image/unpack.hpp"

using namespace cove::image;

TEST_CASE("tar paths are cleaned and made relative", "[image]") {
    CHECK(map_entry_path("./a//b/")->path == "a/b");
    CHECK(map_entry_path("/etc/passwd")->path == "etc/passwd");
    CHECK(map_entry_path("a/./b")->path == "a/b");
    CHECK(map_entry_path("./")->kind == EntryKind::kRoot);
    CHECK(map_entry_path("/")->kind == EntryKind::kRoot);
}

TEST_CASE("a .. component is rejected", "[image]") {
    for (const char* p : {"../x", "a/../../x", "a/..", "/../etc/x"}) {
        auto m = map_entry_path(p);
        INFO(p);
        REQUIRE_FALSE(m);
        CHECK(m.error().message().find("escape") != std::string::npos);
    }
}

TEST_CASE("OCI whiteouts map to overlay ones", "[image]") {
    auto w = map_entry_path("etc/.wh.hosts");
    REQUIRE(w);
    CHECK(w->kind == EntryKind::kWhiteout);
    CHECK(w->path == "etc/hosts");
    auto top = map_entry_path(".wh.tmp");
    CHECK(top->kind == EntryKind::kWhiteout);
    CHECK(top->path == "tmp");
    auto o = map_entry_path("./usr/share/.wh..wh..opq");
    REQUIRE(o);
    CHECK(o->kind == EntryKind::kOpaque);
    CHECK(o->path == "usr/share");
    auto root_opq = map_entry_path(".wh..wh..opq");
    CHECK(root_opq->kind == EntryKind::kOpaque);
    CHECK(root_opq->path.empty());
    CHECK(map_entry_path(".wh..wh.plnk/123")->kind == EntryKind::kNormal);
    CHECK(map_entry_path("a/.wh..wh.plnk")->kind == EntryKind::kIgnored);
    CHECK_FALSE(map_entry_path("a/.wh.."));
    CHECK_FALSE(map_entry_path("a/.wh..."));
    CHECK_FALSE(map_entry_path("a/.wh."));
}
