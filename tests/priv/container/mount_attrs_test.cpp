// rootfs::mount_all with real mounts, each case in one forked child inside its own private
// mount namespace (nothing reaches the host's mount table), on a rootfs in a temp dir: the
// mount options of config.json as the kernel applies them. Root only.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"
#include "runtime/rootfs/mounts.hpp"
#include "tests/helpers/mount_ns.hpp"
#include "tests/helpers/temp_dir.hpp"

namespace rootfs = cove::rootfs;
namespace spec = cove::spec;
using cove::test::can_unshare_mounts;
using cove::test::in_mount_ns;

namespace {

struct TempDir : cove::test::TempDir {
    TempDir() : cove::test::TempDir("cove-priv-mnt") {}
};

// mount_all of one mount on /mnt of a fresh rootfs, then check(statvfs of it, stat of it).
std::string mount_one(
    const std::string& rootfs_dir,
    spec::Mount m,
    const std::function<std::string(const struct statvfs&, const struct stat&)>& check) {
    return in_mount_ns([&]() -> std::string {
        spec::Spec s;
        s.mounts.push_back(m);
        rootfs::Context ctx;
        ctx.spec = &s;
        ctx.rootfs = rootfs_dir;
        ctx.root_fd.reset(::open(rootfs_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!ctx.root_fd) {
            return "open rootfs";
        }
        auto st = rootfs::mount_all(ctx);
        if (!st) {
            return st.error().to_string();
        }
        std::string target = rootfs_dir + m.destination;
        struct statvfs sv {};
        struct stat sb {};
        if (::statvfs(target.c_str(), &sv) != 0 || ::stat(target.c_str(), &sb) != 0) {
            return "stat " + target;
        }
        return check(sv, sb);
    });
}

spec::Mount tmpfs(std::vector<std::string> options) {
    spec::Mount m;
    m.destination = "/mnt";
    m.type = "tmpfs";
    m.source = "tmpfs";
    m.options = std::move(options);
    return m;
}

std::string expect_flags(const struct statvfs& sv, unsigned long set, unsigned long clear) {
    if ((sv.f_flag & set) != set) {
        return "missing flags " + std::to_string(set & ~sv.f_flag);
    }
    if ((sv.f_flag & clear) != 0) {
        return "unexpected flags " + std::to_string(sv.f_flag & clear);
    }
    return "ok";
}

// The mounts stayed in the child's namespace.
void check_host_clean(const std::string& dir) {
    auto mi = cove::fs::read_file("/proc/self/mountinfo");
    REQUIRE(mi.ok());
    CHECK(mi->find(dir) == std::string::npos);
}

}  // namespace

TEST_CASE("tmpfs: flags and data string reach the kernel", "[priv][mounts]") {
    if (!can_unshare_mounts()) {
        return;
    }
    TempDir root;
    auto r = mount_one(root.path, tmpfs({"nosuid", "nodev", "noexec", "mode=750", "size=65536k"}),
                       [](const struct statvfs& sv, const struct stat& sb) -> std::string {
                           if ((sb.st_mode & 07777) != 0750) {
                               return "mode " + std::to_string(sb.st_mode & 07777);
                           }
                           if (sv.f_blocks * sv.f_frsize != 64ull * 1024 * 1024) {
                               return "size " + std::to_string(sv.f_blocks * sv.f_frsize);
                           }
                           return expect_flags(sv, ST_NOSUID | ST_NODEV | ST_NOEXEC, ST_RDONLY);
                       });
    CHECK(r == "ok");
    check_host_clean(root.path);
}

TEST_CASE("recursive attributes: rro, rnosuid, ratime", "[priv][mounts]") {
    if (!can_unshare_mounts()) {
        return;
    }
    TempDir root;
    CHECK(mount_one(root.path, tmpfs({"rro", "rnosuid"}),
                    [](const struct statvfs& sv, const struct stat&) {
                        return expect_flags(sv, ST_RDONLY | ST_NOSUID, 0);
                    }) == "ok");
    CHECK(mount_one(root.path, tmpfs({"noatime", "ratime"}),
                    [](const struct statvfs& sv, const struct stat&) {
                        return expect_flags(sv, 0, ST_NOATIME);
                    }) == "ok");
}

// mount_setattr(2) wants MOUNT_ATTR__ATIME in attr_clr with any atime setting in attr_set;
// cove passes attr_set = MOUNT_ATTR_NOATIME alone and the kernel answers EINVAL.
TEST_CASE("recursive attributes: rnoatime and rstrictatime", "[priv][mounts]") {
    if (!can_unshare_mounts()) {
        return;
    }
    TempDir root;
    CHECK(
        mount_one(root.path, tmpfs({"rnoatime"}), [](const struct statvfs& sv, const struct stat&) {
            return expect_flags(sv, ST_NOATIME, 0);
        }) == "ok");
    CHECK(mount_one(root.path, tmpfs({"noatime", "rstrictatime"}),
                    [](const struct statvfs& sv, const struct stat&) {
                        return expect_flags(sv, 0, ST_NOATIME | ST_RELATIME);
                    }) == "ok");
}

// MOUNT_ATTR_RELATIME is 0: without MOUNT_ATTR__ATIME in attr_clr "rrelatime" does nothing.
TEST_CASE("recursive attributes: rrelatime after noatime", "[priv][mounts]") {
    if (!can_unshare_mounts()) {
        return;
    }
    TempDir root;
    CHECK(mount_one(root.path, tmpfs({"noatime", "rrelatime"}),
                    [](const struct statvfs& sv, const struct stat&) {
                        return expect_flags(sv, ST_RELATIME, ST_NOATIME);
                    }) == "ok");
}

TEST_CASE("a read-only bind mount", "[priv][mounts]") {
    if (!can_unshare_mounts()) {
        return;
    }
    TempDir root;
    TempDir src;
    REQUIRE(cove::fs::write_file(src.path + "/f", "x", O_CREAT | O_TRUNC).ok());
    spec::Mount m;
    m.destination = "/data";
    m.type = "bind";
    m.source = src.path;
    m.options = {"rbind", "ro", "nosuid"};
    std::string dst = root.path + "/data";
    CHECK(mount_one(root.path, m, [&](const struct statvfs& sv, const struct stat&) -> std::string {
              if (!cove::fs::exists(dst + "/f")) {
                  return "source not visible";
              }
              return expect_flags(sv, ST_RDONLY | ST_NOSUID, 0);
          }) == "ok");
    // the source itself stays writable
    CHECK(cove::fs::write_file(src.path + "/f", "y", O_TRUNC).ok());
    check_host_clean(root.path);
}
