// overlayfs::mount with real overlays: 1, 3 and 150 lowers with every method, each case in a
// forked child inside its own private mount namespace (nothing reaches the host's mount
// table), on layers in a temp dir. Root only.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "overlayfs/overlayfs.hpp"
#include "runtime/base/fs.hpp"
#include "tests/helpers/mount_ns.hpp"
#include "tests/helpers/temp_dir.hpp"

namespace ovl = cove::overlayfs;
namespace fs = cove::fs;
using cove::test::can_unshare_mounts;
using cove::test::in_mount_ns;

namespace {

std::string read(const std::string& path) {
    auto r = fs::read_file(path);
    return r ? *r : "<" + r.error().to_string() + ">";
}

// n layer dirs with long names (so 150 of them overflow a page): layer i holds file "i" and
// "top" (whose content names the layer: the top one must win).
std::vector<std::string> make_layers(const std::string& base, size_t n) {
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) {
        std::string d = base + "/layers/sha256-" + std::string(40, 'a') + std::to_string(i);
        REQUIRE(fs::mkdir_p(d).ok());
        REQUIRE(fs::write_file(d + "/" + std::to_string(i), "x", O_CREAT).ok());
        REQUIRE(fs::write_file(d + "/top", std::to_string(i), O_CREAT).ok());
        out.push_back(d);
    }
    return out;
}

std::string mount_and_check(const cove::test::TempDir& t, size_t n, ovl::Method m) {
    ovl::Options o;
    o.lowers = make_layers(t.path, n);
    o.upper = t.path + "/upper";
    o.work = t.path + "/work";
    o.link_dir = t.path + "/l";
    o.method = m;
    REQUIRE(fs::mkdir_p(o.upper).ok());
    REQUIRE(fs::mkdir_p(o.work).ok());
    REQUIRE(fs::mkdir_p(t.path + "/merged").ok());
    return in_mount_ns([&]() -> std::string {
        // Onto an O_PATH fd, as the container's init does it.
        cove::UniqueFd target(::open((t.path + "/merged").c_str(), O_PATH | O_DIRECTORY));
        auto st = ovl::mount_at(o, target.get());
        if (!st) {
            return st.error().to_string();
        }
        for (size_t i = 0; i < n; ++i) {
            if (!fs::exists(t.path + "/merged/" + std::to_string(i))) {
                return "layer " + std::to_string(i) + " missing from the overlay";
            }
        }
        if (read(t.path + "/merged/top") != std::to_string(n - 1)) {
            return "top file came from layer " + read(t.path + "/merged/top");
        }
        if (!fs::write_file(t.path + "/merged/new", "w", O_CREAT)) {
            return "write to the overlay failed";
        }
        if (!fs::exists(t.path + "/upper/new")) {
            return "write did not land in upper";
        }
        return "ok";
    });
}

}  // namespace

TEST_CASE("overlay of 1, 3 and 150 lowers, every method") {
    if (!can_unshare_mounts()) {
        return;
    }
    ovl::Features f = ovl::probe();
    for (size_t n : {size_t{1}, size_t{3}, size_t{150}}) {
        for (ovl::Method m : {ovl::Method::kAuto, ovl::Method::kAppend, ovl::Method::kMountData,
                              ovl::Method::kShortLinks}) {
            if (m == ovl::Method::kAppend && !f.lowerdir_append) {
                WARN("skipped lowerdir+: this kernel has no fsconfig lowerdir+ (< 6.5)");
                continue;
            }
            CAPTURE(n, static_cast<int>(m));
            cove::test::TempDir t("cove-priv-ovl");
            std::string r = mount_and_check(t, n, m);
            if (m == ovl::Method::kMountData && n == 150) {
                // The page limit that the other methods exist for.
                REQUIRE_THAT(r, Catch::Contains("more than mount(2)'s page"));
            } else {
                REQUIRE(r == "ok");
            }
            // The links are gone after the mount; nothing is left mounted on the host.
            REQUIRE((!fs::exists(t.path + "/l") || ::rmdir((t.path + "/l").c_str()) == 0));
            REQUIRE(read("/proc/self/mountinfo").find(t.path) == std::string::npos);
        }
    }
}

TEST_CASE("read-only overlay without upper") {
    if (!can_unshare_mounts()) {
        return;
    }
    cove::test::TempDir t("cove-priv-ovl");
    ovl::Options o;
    o.lowers = make_layers(t.path, 2);
    o.readonly = true;
    REQUIRE(fs::mkdir_p(t.path + "/merged").ok());
    std::string r = in_mount_ns([&]() -> std::string {
        auto st = ovl::mount(o, t.path + "/merged");
        if (!st) {
            return st.error().to_string();
        }
        if (read(t.path + "/merged/top") != "1") {
            return "wrong top";
        }
        if (fs::write_file(t.path + "/merged/new", "w", O_CREAT)) {
            return "a read-only overlay took a write";
        }
        return "ok";
    });
    REQUIRE(r == "ok");
}

TEST_CASE("a missing lower is an error naming it") {
    if (!can_unshare_mounts()) {
        return;
    }
    cove::test::TempDir t("cove-priv-ovl");
    ovl::Options o;
    o.lowers = {t.path + "/nope"};
    o.upper = t.path + "/upper";
    o.work = t.path + "/work";
    REQUIRE(fs::mkdir_p(o.upper).ok());
    REQUIRE(fs::mkdir_p(o.work).ok());
    REQUIRE(fs::mkdir_p(t.path + "/merged").ok());
    std::string r = in_mount_ns([&]() -> std::string {
        auto st = ovl::mount(o, t.path + "/merged");
        return st ? "mounted" : st.error().to_string();
    });
    REQUIRE_THAT(r, Catch::Contains("overlay of 1 layers") && Catch::Contains("No such file"));
}

TEST_CASE("translated OCI whiteouts hide lower files and directories") {
    if (!can_unshare_mounts()) {
        return;
    }
    cove::test::TempDir t("cove-priv-ovl");
    std::string low = t.path + "/low", up = t.path + "/up";
    REQUIRE(fs::mkdir_p(low + "/dir").ok());
    REQUIRE(fs::mkdir_p(low + "/opq").ok());
    REQUIRE(fs::write_file(low + "/gone", "x", O_CREAT).ok());
    REQUIRE(fs::write_file(low + "/dir/f", "x", O_CREAT).ok());
    REQUIRE(fs::write_file(low + "/opq/old", "x", O_CREAT).ok());
    REQUIRE(fs::mkdir_p(up + "/opq").ok());
    REQUIRE(fs::write_file(up + "/.wh.gone", "", O_CREAT).ok());
    REQUIRE(fs::write_file(up + "/.wh.dir", "", O_CREAT).ok());
    REQUIRE(fs::write_file(up + "/opq/.wh..wh..opq", "", O_CREAT).ok());
    REQUIRE(fs::write_file(up + "/opq/new", "x", O_CREAT).ok());
    REQUIRE(ovl::translate_whiteouts(up).ok());

    struct stat st {};
    REQUIRE(::lstat((up + "/gone").c_str(), &st) == 0);
    REQUIRE((S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)));
    REQUIRE(!fs::exists(up + "/.wh.gone"));
    REQUIRE(!fs::exists(up + "/opq/.wh..wh..opq"));
    char v[4] = {};
    REQUIRE(::getxattr((up + "/opq").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);

    REQUIRE(fs::mkdir_p(t.path + "/merged").ok());
    ovl::Options o;
    o.lowers = {low, up};
    std::string r = in_mount_ns([&]() -> std::string {
        auto s = ovl::mount(o, t.path + "/merged");
        if (!s) {
            return s.error().to_string();
        }
        std::string m = t.path + "/merged";
        if (fs::exists(m + "/gone") || fs::exists(m + "/dir")) {
            return "whiteout did not hide";
        }
        if (fs::exists(m + "/opq/old") || !fs::exists(m + "/opq/new")) {
            return "opaque dir did not hide the lower one";
        }
        return "ok";
    });
    REQUIRE(r == "ok");
}
