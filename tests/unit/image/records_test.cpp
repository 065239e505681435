#include "image/records.hpp"

#include <catch2/catch.hpp>

#include "image/digest.hpp"
#include "image/image.hpp"
#include "runtime/base/fs.hpp"
#include "tests/helpers/temp_dir.hpp"

using namespace cove::image;
using cove::test::TempDir;

namespace {

ImageRecord rec(const std::string& name, char id) {
    ImageRecord r;
    r.name = name;
    r.config_digest = "sha256:" + std::string(64, id);
    r.manifest_digest = "sha256:" + std::string(63, id) + "0";
    r.layers.push_back({"sha256:" + std::string(64, '1'), "sha256:" + std::string(64, '2'), 10,
                        "application/vnd.oci.image.layer.v1.tar+gzip"});
    return r;
}

}  // namespace

TEST_CASE("records round-trip through images.json", "[image]") {
    TempDir t;
    auto store = Store::open(t.path + "/store");
    REQUIRE(store);
    CHECK(store->list()->empty());
    std::vector<ImageRecord> recs = {rec("localhost/busybox:latest", 'a'),
                                     rec("127.0.0.1:5000/busybox:1", 'b')};
    REQUIRE(save_records(store->root(), recs));
    auto back = store->list();
    REQUIRE(back);
    REQUIRE(back->size() == 2);
    CHECK((*back)[1].name == "127.0.0.1:5000/busybox:1");
    CHECK((*back)[0].layers[0].diff_id == "sha256:" + std::string(64, '2'));
    CHECK((*back)[0].repository() == "localhost/busybox");
    CHECK((*back)[0].tag() == "latest");
    CHECK((*back)[1].repository() == "127.0.0.1:5000/busybox");
    CHECK((*back)[1].tag() == "1");
}

TEST_CASE("names match by full name, short name and id", "[image]") {
    std::vector<ImageRecord> recs = {rec("localhost/busybox:latest", 'a'),
                                     rec("127.0.0.1:5000/alpine:1", 'b'),
                                     rec("quay.io/alpine:1", 'c')};
    CHECK(*match_record(recs, "busybox") == 0);
    CHECK(*match_record(recs, "localhost/busybox:latest") == 0);
    CHECK(*match_record(recs, "aaaaaaaaaaaa") == 0);
    CHECK(*match_record(recs, "sha256:" + std::string(64, 'b')) == 1);
    CHECK(*match_record(recs, "127.0.0.1:5000/alpine:1") == 1);
    auto amb = match_record(recs, "alpine:1");
    REQUIRE_FALSE(amb);
    CHECK(amb.error().message().find("ambiguous") != std::string::npos);
    auto nf = match_record(recs, "nothere");
    REQUIRE_FALSE(nf);
    CHECK(nf.error().code() == ENOENT);
    CHECK_FALSE(match_record(recs, "busybox:2"));
}

TEST_CASE("get and remove of unknown names fail without changing the store", "[image]") {
    TempDir t;
    auto store = Store::open(t.path);
    REQUIRE(store);
    REQUIRE(save_records(store->root(), {rec("localhost/busybox:latest", 'a')}));
    CHECK_FALSE(store->get("nothere"));
    auto rm = store->remove({"busybox", "nothere"});
    REQUIRE_FALSE(rm);
    CHECK(store->list()->size() == 1);
    CHECK_FALSE(store->pull("nosuchtransport:x"));
    CHECK_FALSE(store->pull("oci:" + t.path + "/missing"));
    CHECK(store->list()->size() == 1);
}

TEST_CASE("default root honours COVE_IMAGE_ROOT", "[image]") {
    ::unsetenv("COVE_IMAGE_ROOT");
    CHECK(default_root() == "/var/lib/cove/images");
    ::setenv("COVE_IMAGE_ROOT", "/tmp/x", 1);
    CHECK(default_root() == "/tmp/x");
    ::unsetenv("COVE_IMAGE_ROOT");
    CHECK(is_source("oci:/x"));
    CHECK(is_source("docker://a/b"));
    CHECK(is_source("docker-archive:/x.tar"));
    CHECK_FALSE(is_source("busybox"));
}

TEST_CASE("held layers survive rm and gc until released", "[image]") {
    TempDir t;
    auto store = Store::open(t.path);
    REQUIRE(store);
    ImageRecord r = rec("localhost/busybox:latest", 'a');
    std::string layer = store->layer_path(r.layers[0].diff_id);
    REQUIRE(cove::fs::mkdir_p(layer + "/bin"));
    REQUIRE(save_records(store->root(), {r}));
    Image img;
    img.name = r.name;
    img.layer_dirs = {layer};
    REQUIRE(store->hold(img, "ct-1"));
    CHECK_FALSE(store->hold(img, "../x"));
    CHECK_FALSE(store->hold(img, ""));
    REQUIRE(store->remove({"busybox"}));
    CHECK(store->list()->empty());
    CHECK(cove::fs::exists(layer + "/bin"));
    REQUIRE(store->release("ct-1"));
    REQUIRE(store->release("ct-1"));
    REQUIRE(store->gc());
    CHECK_FALSE(cove::fs::exists(layer));
}
