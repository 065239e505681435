// Layer unpack as root: special files, whiteouts, xattrs, and malicious tars (built here with
// libarchive) that must fail and leave nothing in the store.
#include "image/unpack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "image/blobs.hpp"
#include "image/digest.hpp"
#include "image/image.hpp"
#include "runtime/base/fs.hpp"
#include "tests/helpers/temp_dir.hpp"

using namespace cove::image;
using cove::test::TempDir;

namespace {

struct Entry {
    std::string path;
    mode_t type = AE_IFREG;
    mode_t perm = 0644;
    std::string data;  // file contents or symlink target
    std::string hardlink;
    unsigned major = 0;
    unsigned minor = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;
    uid_t uid = 0;
    time_t mtime = 1000000000;
};

Entry mk(std::string p, mode_t type, mode_t perm, std::string data = "") {
    Entry e;
    e.path = std::move(p);
    e.type = type;
    e.perm = perm;
    e.data = std::move(data);
    return e;
}
Entry dir(std::string p, mode_t perm = 0755) {
    return mk(std::move(p), AE_IFDIR, perm);
}
Entry file(std::string p, std::string data) {
    return mk(std::move(p), AE_IFREG, 0644, std::move(data));
}
Entry slink(std::string p, std::string target) {
    return mk(std::move(p), AE_IFLNK, 0777, std::move(target));
}
Entry hardlink(std::string p, std::string target) {
    Entry e = mk(std::move(p), AE_IFREG, 0644);
    e.hardlink = std::move(target);
    return e;
}
Entry device(std::string p, mode_t type, unsigned major, unsigned minor) {
    Entry e = mk(std::move(p), type, 0666);
    e.major = major;
    e.minor = minor;
    return e;
}

// A tar (optionally gzip/zstd-compressed) of entries, as libarchive writes it (pax).
std::string make_tar(const std::vector<Entry>& entries, const std::string& filter = "") {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (filter == "gzip") {
        archive_write_add_filter_gzip(a);
    } else if (filter == "zstd") {
        archive_write_add_filter_zstd(a);
    }
    std::vector<char> out(64 << 20);
    size_t used = 0;
    REQUIRE(archive_write_open_memory(a, out.data(), out.size(), &used) == ARCHIVE_OK);
    for (const auto& e : entries) {
        struct archive_entry* ae = archive_entry_new();
        archive_entry_set_pathname(ae, e.path.c_str());
        archive_entry_set_perm(ae, e.perm);
        archive_entry_set_uid(ae, e.uid);
        archive_entry_set_gid(ae, e.uid);
        archive_entry_set_mtime(ae, e.mtime, 0);
        if (!e.hardlink.empty()) {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_hardlink(ae, e.hardlink.c_str());
            archive_entry_set_size(ae, 0);
        } else {
            archive_entry_set_filetype(ae, e.type);
            if (e.type == AE_IFLNK) {
                archive_entry_set_symlink(ae, e.data.c_str());
            }
            archive_entry_set_size(ae,
                                   e.type == AE_IFREG ? static_cast<la_int64_t>(e.data.size()) : 0);
            archive_entry_set_rdevmajor(ae, e.major);
            archive_entry_set_rdevminor(ae, e.minor);
        }
        for (const auto& [k, v] : e.xattrs) {
            archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
        }
        REQUIRE(archive_write_header(a, ae) == ARCHIVE_OK);
        if (e.type == AE_IFREG && e.hardlink.empty() && !e.data.empty()) {
            REQUIRE(archive_write_data(a, e.data.data(), e.data.size()) ==
                    static_cast<la_ssize_t>(e.data.size()));
        }
        archive_entry_free(ae);
    }
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
    return std::string(out.data(), used);
}

std::string gunzip_or_raw(const std::string& blob) {
    struct archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    REQUIRE(archive_read_open_memory(a, blob.data(), blob.size()) == ARCHIVE_OK);
    struct archive_entry* e = nullptr;
    REQUIRE(archive_read_next_header(a, &e) == ARCHIVE_OK);
    std::string out;
    char buf[65536];
    la_ssize_t n = 0;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<size_t>(n));
    }
    archive_read_free(a);
    return out;
}

int count(const std::string& dir) {
    int n = 0;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        return -1;
    }
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        n += name != "." && name != ".." ? 1 : 0;
    }
    ::closedir(d);
    return n;
}

struct Fixture {
    TempDir t{"cove-unpack"};
    std::string root = t.path + "/store";
    Fixture() {
        REQUIRE(::geteuid() == 0);
        REQUIRE(Store::open(root));
    }
    // Stores blob, unpacks it with diff_id (default: the real one) and returns the status.
    cove::Status unpack(const std::string& blob, std::string diff_id = "") {
        auto d = put_bytes(root, blob);
        REQUIRE(d);
        digest = *d;
        diff = diff_id.empty() ? sha256_digest(gunzip_or_raw(blob)) : diff_id;
        return ensure_layer(root, digest, diff);
    }
    std::string layer() const { return root + "/layers/" + std::string(digest_hex(diff)); }
    void expect_nothing_left() {
        CHECK(count(root + "/layers") == 0);
        CHECK(count(root + "/tmp") == 0);
    }
    std::string digest;
    std::string diff;
};

void skip_unless_root() {
    if (::geteuid() != 0) {
        WARN("skipping: needs root (mknod, chown, trusted.* xattrs)");
    }
}

}  // namespace

TEST_CASE("a layer unpacks with special files, links, xattrs, modes and times", "[priv]") {
    skip_unless_root();
    if (::geteuid() != 0) {
        return;
    }
    for (std::string filter : {"", "gzip", "zstd"}) {
        INFO("filter " << filter);
        Fixture f;
        Entry owned = file("etc/owned", "x");
        owned.uid = 1234;
        owned.perm = 04755;
        Entry withx = file("etc/hello", "hello\n");
        withx.xattrs = {
            {"user.foo", "bar"}, {"trusted.t", "v"}, {"trusted.overlay.redirect", "/x"}};
        Entry cdev = device("dev/null", AE_IFCHR, 1, 3);
        Entry fifo = mk("run/fifo", AE_IFIFO, 0600);
        auto blob = make_tar({dir("./"), dir("etc", 0700), withx, owned,
                              hardlink("etc/hl", "etc/hello"), slink("bin/sh", "/bin/busybox"),
                              cdev, fifo, file("/abs/x", "abs"), file("implicit/parent/f", "f")},
                             filter);
        REQUIRE(f.unpack(blob));
        std::string l = f.layer();
        struct stat st {};
        REQUIRE(::stat((l + "/etc/hello").c_str(), &st) == 0);
        CHECK(st.st_nlink == 2);
        CHECK(st.st_mtime == 1000000000);
        CHECK(*cove::fs::read_file(l + "/etc/hl") == "hello\n");
        char v[16] = {};
        CHECK(::getxattr((l + "/etc/hello").c_str(), "user.foo", v, sizeof v) == 3);
        CHECK(std::string(v, 3) == "bar");
        CHECK(::getxattr((l + "/etc/hello").c_str(), "trusted.t", v, sizeof v) == 1);
        CHECK(::getxattr((l + "/etc/hello").c_str(), "trusted.overlay.redirect", v, sizeof v) < 0);
        REQUIRE(::stat((l + "/etc/owned").c_str(), &st) == 0);
        CHECK(st.st_uid == 1234);
        CHECK((st.st_mode & 07777) == 04755);
        REQUIRE(::stat((l + "/etc").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0700);
        CHECK(st.st_mtime == 1000000000);
        REQUIRE(::lstat((l + "/dev/null").c_str(), &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
        CHECK(st.st_rdev == ::makedev(1, 3));
        REQUIRE(::lstat((l + "/run/fifo").c_str(), &st) == 0);
        CHECK(S_ISFIFO(st.st_mode));
        char target[64] = {};
        CHECK(::readlink((l + "/bin/sh").c_str(), target, sizeof target) == 12);
        CHECK(std::string(target) == "/bin/busybox");
        CHECK(*cove::fs::read_file(l + "/abs/x") == "abs");
        CHECK(*cove::fs::read_file(l + "/implicit/parent/f") == "f");
        CHECK(count(f.root + "/tmp") == 0);
    }
}

TEST_CASE("whiteouts become overlay whiteouts and opaque xattrs", "[priv]") {
    if (::geteuid() != 0) {
        skip_unless_root();
        return;
    }
    Fixture f;
    auto blob = make_tar(
        {dir("etc"), file("etc/.wh.passwd", ""), dir("usr/share"),
         file("usr/share/.wh..wh..opq", ""), file("usr/share/new", "n"), file(".wh.tmp", "")},
        "gzip");
    REQUIRE(f.unpack(blob));
    std::string l = f.layer();
    struct stat st {};
    REQUIRE(::lstat((l + "/etc/passwd").c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == ::makedev(0, 0));
    REQUIRE(::lstat((l + "/tmp").c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK_FALSE(cove::fs::exists(l + "/etc/.wh.passwd"));
    CHECK_FALSE(cove::fs::exists(l + "/usr/share/.wh..wh..opq"));
    char v[4] = {};
    CHECK(::getxattr((l + "/usr/share").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
    CHECK(v[0] == 'y');
    CHECK(cove::fs::exists(l + "/usr/share/new"));
}

TEST_CASE("malicious or broken layers fail and leave nothing", "[priv]") {
    if (::geteuid() != 0) {
        skip_unless_root();
        return;
    }
    struct Case {
        const char* name;
        std::vector<Entry> entries;
        const char* want;
    };
    std::vector<Case> cases = {
        {"dotdot", {file("../x", "x")}, "escape"},
        {"dotdot inside", {dir("a"), file("a/../../x", "x")}, "escape"},
        {"symlink parent", {slink("etc", "/etc"), file("etc/evil", "x")}, "symlink"},
        {"relative symlink parent",
         {dir("a"), slink("a/up", "../.."), file("a/up/evil", "x")},
         "symlink"},
        {"hardlink escape", {hardlink("x", "../../../etc/passwd")}, "escape"},
        {"hardlink via symlink", {slink("s", "/etc"), hardlink("x", "s/passwd")}, "symlink"},
        {"hardlink missing", {hardlink("x", "nothere")}, "hardlink"},
        {"whiteout escape", {file("../.wh.x", "")}, "escape"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        Fixture f;
        auto st = f.unpack(make_tar(c.entries, "gzip"));
        REQUIRE_FALSE(st);
        std::string msg = st.error().to_string();
        INFO(msg);
        CHECK(msg.find(c.want) != std::string::npos);
        CHECK(msg.find("layer sha256:") != std::string::npos);
        CHECK(msg.find("entry \"") != std::string::npos);
        CHECK_FALSE(cove::fs::exists("/x"));
        CHECK_FALSE(cove::fs::exists("/etc/evil"));
        f.expect_nothing_left();
    }
}

TEST_CASE("truncated gzip and diffID mismatch fail and leave nothing", "[priv]") {
    if (::geteuid() != 0) {
        skip_unless_root();
        return;
    }
    std::string big(200000, 'z');
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>('a' + (i * 7919) % 26);
    }
    auto blob = make_tar({file("a", big), file("b", "b")}, "gzip");
    {
        Fixture f;
        std::string cut = blob.substr(0, blob.size() / 2);
        auto st = f.unpack(cut, sha256_digest("whatever"));
        REQUIRE_FALSE(st);
        INFO(st.error().to_string());
        CHECK(st.error().to_string().find("layer sha256:") != std::string::npos);
        f.expect_nothing_left();
    }
    {
        Fixture f;
        auto st = f.unpack(blob, sha256_digest("not the tar"));
        REQUIRE_FALSE(st);
        CHECK(st.error().to_string().find("diffID") != std::string::npos);
        CHECK(st.error().to_string().find("digest mismatch") != std::string::npos);
        f.expect_nothing_left();
    }
    {
        Fixture f;
        auto st = f.unpack("this is not a tar at all, not even close to one");
        REQUIRE_FALSE(st);
        f.expect_nothing_left();
    }
}

TEST_CASE("a pull with a corrupt layer leaves no blob, layer or temp file", "[priv]") {
    if (::geteuid() != 0) {
        skip_unless_root();
        return;
    }
    TempDir t{"cove-pull"};
    std::string lay = t.path + "/lay";
    REQUIRE(cove::fs::mkdir_p(lay + "/blobs/sha256"));
    auto put = [&](const std::string& data) {
        std::string d = sha256_digest(data);
        REQUIRE(cove::fs::atomic_write(lay + "/blobs/sha256/" + std::string(digest_hex(d)), data));
        return d;
    };
    std::string good = make_tar({file("ok", "ok")}, "gzip");
    std::string layer = make_tar({file("a", "a")}, "gzip");
    std::string layer_digest = put(layer);
    // The stored blob does not match its name: a corrupted layout.
    std::string corrupt = layer;
    corrupt[corrupt.size() / 2] ^= 0x55;
    REQUIRE(cove::fs::atomic_write(lay + "/blobs/sha256/" + std::string(digest_hex(layer_digest)),
                                   corrupt));
    std::string good_digest = put(good);
    nlohmann::json cfg = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"rootfs",
         {{"type", "layers"},
          {"diff_ids",
           {sha256_digest(gunzip_or_raw(good)), sha256_digest(gunzip_or_raw(layer))}}}}};
    std::string cfg_text = cfg.dump();
    std::string cfg_digest = put(cfg_text);
    nlohmann::json m = {{"schemaVersion", 2},
                        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                        {"config",
                         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                          {"digest", cfg_digest},
                          {"size", cfg_text.size()}}},
                        {"layers",
                         {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                           {"digest", good_digest},
                           {"size", good.size()}},
                          {{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                           {"digest", layer_digest},
                           {"size", layer.size()}}}}};
    std::string m_digest = put(m.dump());
    REQUIRE(cove::fs::atomic_write(lay + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
    nlohmann::json index = {{"schemaVersion", 2},
                            {"manifests",
                             {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                               {"digest", m_digest},
                               {"size", m.dump().size()},
                               {"annotations", {{"org.opencontainers.image.ref.name", "v1"}}}}}}};
    REQUIRE(cove::fs::atomic_write(lay + "/index.json", index.dump()));

    auto store = Store::open(t.path + "/store");
    REQUIRE(store);
    auto img = store->pull("oci:" + lay + ":v1");
    REQUIRE_FALSE(img);
    INFO(img.error().to_string());
    CHECK(img.error().to_string().find("digest mismatch") != std::string::npos);
    CHECK(count(t.path + "/store/blobs/sha256") == 0);
    CHECK(count(t.path + "/store/layers") == 0);
    CHECK(count(t.path + "/store/tmp") == 0);
    CHECK(store->list()->empty());

    // Repaired, the same pull works and names the image after the layout and tag.
    REQUIRE(cove::fs::atomic_write(lay + "/blobs/sha256/" + std::string(digest_hex(layer_digest)),
                                   layer));
    auto ok = store->pull("oci:" + lay + ":v1");
    REQUIRE(ok);
    CHECK(ok->name == "localhost/lay:v1");
    REQUIRE(ok->layer_dirs.size() == 2);
    CHECK(cove::fs::exists(ok->layer_dirs[0] + "/ok"));
    CHECK(cove::fs::exists(ok->layer_dirs[1] + "/a"));
    CHECK(ok->config["os"] == "linux");
    auto again = store->resolve("lay");
    REQUIRE_FALSE(again);  // "lay" is localhost/lay:latest, which was not pulled
    REQUIRE(store->resolve("lay:v1"));
    REQUIRE(store->remove({"localhost/lay:v1"}));
    CHECK(count(t.path + "/store/blobs/sha256") == 0);
    CHECK(count(t.path + "/store/layers") == 0);
}
