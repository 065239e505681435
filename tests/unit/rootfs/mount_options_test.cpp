// mount_options.hpp: config.json mount options as runc's table reads them (specconv
// mountFlags, mountPropagationMapping, recAttrFlags, extensionFlags, complexFlags).
#include "runtime/rootfs/mount_options.hpp"

#include <sys/mount.h>

#include <linux/mount.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using cove::rootfs::bind_remount_flags;
using cove::rootfs::MountOptions;
using cove::rootfs::parse_mount_options;
using Props = std::vector<unsigned long>;

namespace {

struct FlagCase {
    const char* name;
    bool clear;
    unsigned long flag;
};

// runc's mountFlags with a non-zero flag, minus bind/rbind (kept as MountOptions::bind).
constexpr FlagCase kRuncFlags[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
};

// Entries of runc's (1.2+) mountFlags that cove's table lacks.
constexpr FlagCase kRuncFlagsMissing[] = {
    {"lazytime", false, MS_LAZYTIME},       {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION},      {"noiversion", true, MS_I_VERSION},
    {"nosymfollow", false, MS_NOSYMFOLLOW}, {"symfollow", true, MS_NOSYMFOLLOW},
};

struct AttrCase {
    const char* name;
    bool clear;
    uint64_t attr;
};

constexpr AttrCase kRecAttrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"ratime", true, MOUNT_ATTR_NOATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

MountOptions parse(std::initializer_list<const char*> opts) {
    std::vector<std::string> v;
    for (const char* o : opts) {
        v.emplace_back(o);
    }
    return parse_mount_options(v);
}

// Nothing set at all.
void check_empty(const MountOptions& m) {
    CHECK(m.flags == 0);
    CHECK(m.cleared == 0);
    CHECK(m.propagation.empty());
    CHECK(m.attr_set == 0);
    CHECK(m.attr_clr == 0);
    CHECK(m.data.empty());
    CHECK_FALSE(m.bind);
    CHECK_FALSE(m.recursive);
    CHECK_FALSE(m.idmap);
}

}  // namespace

TEST_CASE("no options", "[mount_options]") {
    check_empty(parse({}));
    check_empty(parse({""}));
    check_empty(parse({"", ""}));
    CHECK(bind_remount_flags(parse({})) == 0);
}

TEST_CASE("every flag of runc's table sets or clears its MS_ flag", "[mount_options]") {
    for (const auto& f : kRuncFlags) {
        INFO(f.name);
        MountOptions m = parse({f.name});
        if (f.clear) {
            CHECK(m.flags == 0);
            CHECK(m.cleared == f.flag);
        } else {
            CHECK(m.flags == f.flag);
            CHECK(m.cleared == 0);
        }
        CHECK(m.data.empty());
        CHECK(m.propagation.empty());
        CHECK(m.attr_set == 0);
        CHECK(m.attr_clr == 0);
        CHECK_FALSE(m.bind);
    }
}

TEST_CASE("lazytime, iversion and nosymfollow are flags, as in runc's table", "[mount_options]") {
    for (const auto& f : kRuncFlagsMissing) {
        INFO(f.name);
        MountOptions m = parse({f.name});
        CHECK(m.data.empty());
        CHECK(m.flags == (f.clear ? 0 : f.flag));
        CHECK(m.cleared == (f.clear ? f.flag : 0));
    }
}

TEST_CASE("the last of two opposite flags wins", "[mount_options]") {
    MountOptions ro_rw = parse({"ro", "rw"});
    CHECK((ro_rw.flags & MS_RDONLY) == 0);
    CHECK(ro_rw.cleared == MS_RDONLY);

    MountOptions rw_ro = parse({"rw", "ro"});
    CHECK(rw_ro.flags == MS_RDONLY);
    CHECK(rw_ro.cleared == 0);

    MountOptions mixed = parse({"nosuid", "dev", "noexec", "suid", "nodev"});
    CHECK(mixed.flags == (MS_NOEXEC | MS_NODEV));
    CHECK(mixed.cleared == MS_NOSUID);
}

TEST_CASE("flags accumulate", "[mount_options]") {
    MountOptions m = parse({"nosuid", "noexec", "nodev", "ro", "relatime"});
    CHECK(m.flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY | MS_RELATIME));
    CHECK(m.cleared == 0);
    CHECK(m.data.empty());
}

TEST_CASE("propagation options are kept in order", "[mount_options]") {
    CHECK(parse({"private"}).propagation == Props{MS_PRIVATE});
    CHECK(parse({"rprivate"}).propagation == Props{MS_PRIVATE | MS_REC});
    CHECK(parse({"shared"}).propagation == Props{MS_SHARED});
    CHECK(parse({"rshared"}).propagation == Props{MS_SHARED | MS_REC});
    CHECK(parse({"slave"}).propagation == Props{MS_SLAVE});
    CHECK(parse({"rslave"}).propagation == Props{MS_SLAVE | MS_REC});
    CHECK(parse({"unbindable"}).propagation == Props{MS_UNBINDABLE});
    CHECK(parse({"runbindable"}).propagation == Props{MS_UNBINDABLE | MS_REC});

    MountOptions m = parse({"rbind", "rprivate", "ro", "shared", "rslave", "private"});
    CHECK(m.propagation == Props{MS_PRIVATE | MS_REC, MS_SHARED, MS_SLAVE | MS_REC, MS_PRIVATE});
    CHECK(m.flags == MS_RDONLY);
    CHECK(m.data.empty());

    // a repeated option is applied again
    CHECK(parse({"rshared", "rshared"}).propagation ==
          Props{MS_SHARED | MS_REC, MS_SHARED | MS_REC});
    // propagation never lands in flags
    CHECK(parse({"rslave"}).flags == 0);
}

TEST_CASE("recursive attributes for mount_setattr", "[mount_options]") {
    for (const auto& a : kRecAttrs) {
        INFO(a.name);
        MountOptions m = parse({a.name});
        if (a.clear) {
            CHECK((m.attr_clr & a.attr) == a.attr);
            CHECK(m.attr_set == 0);
        } else {
            CHECK(m.attr_set == a.attr);
        }
        CHECK(m.flags == 0);
        CHECK(m.cleared == 0);
        CHECK(m.data.empty());
    }

    // MOUNT_ATTR_RELATIME is 0, but the names are still known, not data
    CHECK(parse({"rrelatime"}).data.empty());
    CHECK(parse({"rnorelatime"}).data.empty());

    MountOptions m = parse({"rro", "rnosuid", "rnodev", "rnoexec", "rsymfollow"});
    CHECK(m.attr_set ==
          (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
    CHECK(m.attr_clr == MOUNT_ATTR_NOSYMFOLLOW);

    // "rro" is not "ro": the plain flag stays off
    MountOptions both = parse({"rro", "ro"});
    CHECK(both.flags == MS_RDONLY);
    CHECK(both.attr_set == MOUNT_ATTR_RDONLY);
}

// mount_setattr(2): an access-time setting in attr_set needs MOUNT_ATTR__ATIME in attr_clr,
// or the call fails with EINVAL; MOUNT_ATTR_RELATIME is 0, so "rrelatime" means nothing
// without it. runc adds MOUNT_ATTR__ATIME to attr_clr for rnoatime, rstrictatime, rrelatime.
TEST_CASE("setting a recursive atime attribute also clears MOUNT_ATTR__ATIME", "[mount_options]") {
    for (const char* name : {"rnoatime", "rstrictatime", "rrelatime"}) {
        INFO(name);
        MountOptions m = parse({name});
        CHECK((m.attr_clr & MOUNT_ATTR__ATIME) == MOUNT_ATTR__ATIME);
    }
    CHECK(parse({"rnoatime"}).attr_set == MOUNT_ATTR_NOATIME);
    CHECK(parse({"rstrictatime"}).attr_set == MOUNT_ATTR_STRICTATIME);
    // not an atime setting
    CHECK((parse({"rnodiratime"}).attr_clr & MOUNT_ATTR__ATIME) == 0);
}

// runc (1.2+): a later recursive option overrides an earlier opposite one, as for flags.
TEST_CASE("the last of two opposite recursive attributes wins", "[mount_options]") {
    MountOptions ro_rw = parse({"rro", "rrw"});
    CHECK((ro_rw.attr_set & MOUNT_ATTR_RDONLY) == 0);
    CHECK((ro_rw.attr_clr & MOUNT_ATTR_RDONLY) != 0);

    MountOptions rw_ro = parse({"rrw", "rro"});
    CHECK((rw_ro.attr_set & MOUNT_ATTR_RDONLY) != 0);
    CHECK((rw_ro.attr_clr & MOUNT_ATTR_RDONLY) == 0);
}

TEST_CASE("everything else is the filesystem's data string, in order", "[mount_options]") {
    MountOptions tmpfs = parse({"nosuid", "strictatime", "mode=755", "size=65536k"});
    CHECK(tmpfs.data == "mode=755,size=65536k");
    CHECK(tmpfs.flags == (MS_NOSUID | MS_STRICTATIME));

    MountOptions devpts =
        parse({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
    CHECK(devpts.data == "newinstance,ptmxmode=0666,mode=0620,gid=5");
    CHECK(devpts.flags == (MS_NOSUID | MS_NOEXEC));

    MountOptions overlay = parse({"lowerdir=/l1:/l2", "upperdir=/u", "workdir=/w", "index=off"});
    CHECK(overlay.data == "lowerdir=/l1:/l2,upperdir=/u,workdir=/w,index=off");

    MountOptions selinux = parse({R"(context="system_u:object_r:container_file_t:s0:c1,c2")"});
    CHECK(selinux.data == R"(context="system_u:object_r:container_file_t:s0:c1,c2")");

    // empty entries do not make empty fields
    CHECK(parse({"", "a=1", "", "b"}).data == "a=1,b");
    // unknown names are not guessed at
    CHECK(parse({"RO"}).data == "RO");
    CHECK(parse({"RO"}).flags == 0);
    CHECK(parse({"ro "}).data == "ro ");
}

TEST_CASE("bind and rbind", "[mount_options]") {
    MountOptions b = parse({"bind"});
    CHECK(b.bind);
    CHECK_FALSE(b.recursive);
    CHECK(b.flags == 0);
    CHECK(b.data.empty());

    MountOptions rb = parse({"rbind"});
    CHECK(rb.bind);
    CHECK(rb.recursive);
    CHECK(rb.flags == 0);
    CHECK(rb.data.empty());

    CHECK(parse({"rbind", "bind"}).recursive);
    CHECK(parse({"bind", "rbind"}).recursive);

    MountOptions ro_bind = parse({"rbind", "ro", "nosuid", "rprivate"});
    CHECK(ro_bind.bind);
    CHECK(ro_bind.recursive);
    CHECK(ro_bind.flags == (MS_RDONLY | MS_NOSUID));
    CHECK(ro_bind.propagation == Props{MS_PRIVATE | MS_REC});
}

TEST_CASE("idmap and ridmap set the idmap flag", "[mount_options]") {
    MountOptions i = parse({"idmap"});
    CHECK(i.idmap);
    CHECK(i.data.empty());
    MountOptions ri = parse({"rbind", "ridmap"});
    CHECK(ri.idmap);
    CHECK(ri.bind);
    CHECK(ri.data.empty());
    CHECK_FALSE(parse({"bind"}).idmap);
}

TEST_CASE("tmpcopyup is ignored", "[mount_options]") {
    check_empty(parse({"tmpcopyup"}));
    MountOptions m = parse({"tmpcopyup", "mode=1777", "nosuid"});
    CHECK(m.data == "mode=1777");
    CHECK(m.flags == MS_NOSUID);
}

TEST_CASE("bind_remount_flags keeps what a bind remount must carry", "[mount_options]") {
    CHECK(bind_remount_flags(parse({"rbind", "ro"})) == MS_RDONLY);
    CHECK(bind_remount_flags(parse({"bind", "nosuid", "nodev", "noexec"})) ==
          (MS_NOSUID | MS_NODEV | MS_NOEXEC));
    for (const char* atime : {"noatime", "nodiratime", "relatime", "strictatime"}) {
        INFO(atime);
        MountOptions m = parse({"bind", atime});
        CHECK(bind_remount_flags(m) == m.flags);
    }
    // not per-mount flags, or not flags a bind remount changes
    CHECK(bind_remount_flags(parse({"bind", "sync", "dirsync", "mand", "silent", "remount"})) == 0);
    // cleared flags are not set
    CHECK(bind_remount_flags(parse({"bind", "rw", "suid", "dev", "exec"})) == 0);
    CHECK(bind_remount_flags(parse({"bind", "ro", "rw"})) == 0);
    // recursive attributes, propagation and data are not flags
    CHECK(bind_remount_flags(parse({"rbind", "rro", "rprivate", "mode=755"})) == 0);

    MountOptions all = parse({"ro", "nosuid", "nodev", "noexec", "noatime", "sync"});
    CHECK(bind_remount_flags(all) == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME));
}
