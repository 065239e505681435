#include "image/digest.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "image/blobs.hpp"
#include "image/media.hpp"
#include "runtime/base/fs.hpp"
#include "tests/helpers/temp_dir.hpp"

using namespace cove::image;
using cove::test::TempDir;

namespace {

int count_entries(const std::string& dir) {
    int n = 0;
    DIR* d = ::opendir(dir.c_str());
    REQUIRE(d != nullptr);
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        n += name != "." && name != ".." ? 1 : 0;
    }
    ::closedir(d);
    return n;
}

void make_store(const std::string& root) {
    REQUIRE(cove::fs::mkdir_p(root + "/blobs/sha256"));
    REQUIRE(cove::fs::mkdir_p(root + "/tmp"));
}

}  // namespace

TEST_CASE("sha256 of known strings", "[image]") {
    CHECK(sha256_digest("") ==
          "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Sha256 h;
    h.update("ab");
    h.update("c");
    CHECK(h.digest() == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("digests are validated", "[image]") {
    CHECK(validate_digest("sha256:" + std::string(64, 'f')));
    CHECK_FALSE(validate_digest("sha256:" + std::string(63, 'f')));
    CHECK_FALSE(validate_digest("sha256:" + std::string(64, 'F')));
    CHECK_FALSE(validate_digest("sha512:" + std::string(64, 'f')));
    CHECK_FALSE(validate_digest(std::string(64, 'f')));
    CHECK_FALSE(validate_digest("sha256:../../etc/passwd" + std::string(44, 'a')));
    CHECK(short_id("sha256:0123456789abcdef") == "0123456789ab");
}

TEST_CASE("a verified blob lands in blobs/sha256; a mismatch leaves nothing", "[image]") {
    TempDir t;
    make_store(t.path);
    std::string good = sha256_digest("hello");
    {
        auto w = BlobWriter::create(t.path);
        REQUIRE(w);
        REQUIRE(w->write("hello", 5));
        auto p = w->commit(good, 5);
        REQUIRE(p);
        CHECK(*p == t.path + "/blobs/sha256/" + std::string(digest_hex(good)));
        CHECK(*cove::fs::read_file(*p) == "hello");
    }
    {
        auto w = BlobWriter::create(t.path);
        REQUIRE(w);
        REQUIRE(w->write("hellO", 5));
        std::string other = sha256_digest("other");
        auto p = w->commit(other);
        REQUIRE_FALSE(p);
        CHECK(p.error().message().find("digest mismatch") != std::string::npos);
    }
    {
        auto w = BlobWriter::create(t.path);
        REQUIRE(w);
        REQUIRE(w->write("hello", 5));
        auto p = w->commit(good, 6);
        REQUIRE_FALSE(p);
        CHECK(p.error().message().find("size mismatch") != std::string::npos);
    }
    {
        // Dropped without commit.
        auto w = BlobWriter::create(t.path);
        REQUIRE(w);
        REQUIRE(w->write("x", 1));
    }
    CHECK(count_entries(t.path + "/tmp") == 0);
    CHECK(count_entries(t.path + "/blobs/sha256") == 1);
    auto bad = put_bytes(t.path, "data", sha256_digest("not data"));
    CHECK_FALSE(bad);
    CHECK(count_entries(t.path + "/blobs/sha256") == 1);
    CHECK(count_entries(t.path + "/tmp") == 0);
}

TEST_CASE("layer compression is told by magic", "[image]") {
    CHECK(media::layer_type_by_magic("\x1f\x8b\x08") == media::kOciLayerGzip);
    CHECK(media::layer_type_by_magic(std::string("\x28\xb5\x2f\xfd\x00", 5)) ==
          media::kOciLayerZstd);
    CHECK(media::layer_type_by_magic("bin/") == media::kOciLayer);
}

TEST_CASE("platforms are chosen from an index", "[image]") {
    std::string a = "sha256:" + std::string(64, 'a');
    std::string b = "sha256:" + std::string(64, 'b');
    nlohmann::json idx = {
        {"manifests",
         {{{"digest", a}, {"size", 1}, {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}},
          {{"digest", b},
           {"size", 1},
           {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
    auto d = media::choose_platform(idx, "linux/amd64");
    REQUIRE(d);
    CHECK(d->digest == b);
    CHECK(media::choose_platform(idx, "linux/arm64")->digest == a);
    auto none = media::choose_platform(idx, "linux/s390x");
    REQUIRE_FALSE(none);
    CHECK(none.error().message().find("linux/arm64") != std::string::npos);
}
