#include "overlayfs/overlayfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// The new mount API's constants; glibc 2.36's <sys/mount.h> and <linux/mount.h> overlap, so
// only the values are taken from here (guarded) and the calls go through syscall().
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef FSCONFIG_SET_FLAG
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#endif

#include <cstring>

#include "runtime/base/fs.hpp"
#include "runtime/base/scope_exit.hpp"
#include "runtime/base/strings.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::overlayfs {
namespace {

bool module_param(const char* name) {
    auto r = fs::read_file(std::string("/sys/module/overlay/parameters/") + name);
    return r && !r->empty() && (*r)[0] == 'Y';
}

int fsconfig(int fd, unsigned cmd, const char* key, const char* value) {
    return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, 0));
}

UniqueFd fsopen_overlay() {
    return UniqueFd(static_cast<int>(::syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC)));
}

// The fs context's log ("e overlay: failed to ..."): the kernel's own reason for a failure,
// which errno alone (EINVAL) hides.
std::string context_log(int fsfd) {
    std::string out;
    char buf[512];
    for (;;) {
        ssize_t n = ::read(fsfd, buf, sizeof buf - 1);
        if (n <= 0) {
            break;
        }
        std::string_view line(buf, static_cast<size_t>(n));
        while (!line.empty() && line.back() == '\n') {
            line.remove_suffix(1);
        }
        if (line.size() > 2 && line[1] == ' ') {
            line.remove_prefix(2);  // "e ", "w ", "i "
        }
        out += out.empty() ? "" : "; ";
        out += line;
    }
    return out;
}

Error fs_error(int fsfd, const std::string& what) {
    int err = errno;
    std::string log = context_log(fsfd);
    return errno_error(err, log.empty() ? what : what + ": " + log);
}

bool bad_path_char(const std::string& p) {
    return p.find_first_of(":,\\") != std::string::npos;
}

std::vector<std::string> top_first(const std::vector<std::string>& bottom_first) {
    return {bottom_first.rbegin(), bottom_first.rend()};
}

// target_fd >= 0: move onto that directory (move_mount does not take /proc/self/fd/N paths:
// EINVAL on 6.x), else onto the path target.
Status mount_append(const Options& o, int target_fd, const std::string& target) {
    UniqueFd fsfd = fsopen_overlay();
    if (!fsfd) {
        return sys_error("fsopen overlay");
    }
    for (const auto& l : top_first(o.lowers)) {
        if (fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "lowerdir+", l.c_str()) != 0) {
            return fs_error(fsfd.get(), "lowerdir+ " + l);
        }
    }
    if (!o.upper.empty()) {
        if (fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "upperdir", o.upper.c_str()) != 0) {
            return fs_error(fsfd.get(), "upperdir " + o.upper);
        }
        if (fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "workdir", o.work.c_str()) != 0) {
            return fs_error(fsfd.get(), "workdir " + o.work);
        }
    }
    if (fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "index", "off") != 0) {
        return fs_error(fsfd.get(), "index=off");
    }
    if (o.userxattr && fsconfig(fsfd.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr) != 0) {
        return fs_error(fsfd.get(), "userxattr");
    }
    if (fsconfig(fsfd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr) != 0) {
        return fs_error(fsfd.get(), "create overlay");
    }
    UniqueFd mnt(static_cast<int>(
        ::syscall(SYS_fsmount, fsfd.get(), FSMOUNT_CLOEXEC, o.readonly ? MOUNT_ATTR_RDONLY : 0)));
    if (!mnt) {
        return fs_error(fsfd.get(), "fsmount overlay");
    }
    int to_fd = target_fd >= 0 ? target_fd : AT_FDCWD;
    const char* to = target_fd >= 0 ? "" : target.c_str();
    unsigned flags = MOVE_MOUNT_F_EMPTY_PATH | (target_fd >= 0 ? MOVE_MOUNT_T_EMPTY_PATH : 0);
    if (::syscall(SYS_move_mount, mnt.get(), "", to_fd, to, flags) != 0) {
        return sys_error("move overlay to " + target);
    }
    return {};
}

Status mount_data_call(const Options& o, const std::string& data, const std::string& target) {
    if (data.size() + 1 > kMaxMountData) {
        return errno_error(E2BIG, "mount options are " + std::to_string(data.size()) +
                                      " bytes, more than mount(2)'s page");
    }
    if (::mount("overlay", target.c_str(), "overlay", o.readonly ? MS_RDONLY : 0, data.c_str()) !=
        0) {
        return sys_error("mount overlay on " + target);
    }
    return {};
}

Status mount_short_links(const Options& o, const std::string& target) {
    if (o.link_dir.empty()) {
        return make_error("too many lower layers for one mount(2) and no link dir given");
    }
    if (target.empty() || target[0] != '/') {
        return make_error("overlay target " + target + " is not absolute");
    }
    COVE_TRY(fs::mkdir_p(o.link_dir, 0700), "link dir");
    UniqueFd dir(::open(o.link_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
        return sys_error("open link dir " + o.link_dir);
    }
    std::vector<std::string> names;
    ScopeExit unlink_all([&] {
        for (const auto& n : names) {
            ::unlinkat(dir.get(), n.c_str(), 0);
        }
    });
    for (const auto& l : top_first(o.lowers)) {
        std::string n = short_name(names.size());
        ::unlinkat(dir.get(), n.c_str(), 0);
        if (::symlinkat(l.c_str(), dir.get(), n.c_str()) != 0) {
            return sys_error("symlink " + o.link_dir + "/" + n + " -> " + l);
        }
        names.push_back(std::move(n));
    }
    UniqueFd cwd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cwd) {
        return sys_error("open the current directory");
    }
    if (::fchdir(dir.get()) != 0) {
        return sys_error("chdir to " + o.link_dir);
    }
    Status st = mount_data_call(o, mount_data(o, names), target);
    if (::fchdir(cwd.get()) != 0 && st) {
        return sys_error("chdir back");
    }
    return st;
}

bool append_supported() {
    static const bool supported = [] {
        UniqueFd fsfd = fsopen_overlay();
        return fsfd && fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "lowerdir+", "/") == 0;
    }();
    return supported;
}

}  // namespace

Features probe() {
    Features f;
    f.metacopy_default = module_param("metacopy");
    f.index_default = module_param("index");
    UniqueFd fsfd = fsopen_overlay();
    if (fsfd) {
        f.lowerdir_append = append_supported();
        f.userxattr = fsconfig(fsfd.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr) == 0;
    }
    return f;
}

std::string short_name(size_t index) {
    static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string out;
    do {
        out.insert(out.begin(), kDigits[index % 36]);
        index /= 36;
    } while (index != 0);
    return out;
}

Result<std::vector<std::string>> mount_options(const Options& o) {
    if (o.lowers.empty()) {
        return make_error("overlay: no lower layers");
    }
    if (o.lowers.size() > kMaxLowers) {
        return make_error("overlay: " + std::to_string(o.lowers.size()) +
                          " lower layers, the kernel takes at most " + std::to_string(kMaxLowers));
    }
    if (o.upper.empty() != o.work.empty()) {
        return make_error("overlay: upperdir and workdir go together");
    }
    std::vector<std::string> all = o.lowers;
    if (!o.upper.empty()) {
        all.push_back(o.upper);
        all.push_back(o.work);
    }
    for (const auto& p : all) {
        if (p.empty() || p[0] != '/') {
            return make_error("overlay: layer path \"" + p + "\" is not absolute");
        }
        if (bad_path_char(p)) {
            return make_error("overlay: layer path \"" + p + "\" has ':', ',' or '\\'");
        }
    }
    std::vector<std::string> out;
    out.push_back("lowerdir=" + str::join(top_first(o.lowers), ":"));
    if (!o.upper.empty()) {
        out.push_back("upperdir=" + o.upper);
        out.push_back("workdir=" + o.work);
    }
    out.emplace_back("index=off");
    if (o.userxattr) {
        out.emplace_back("userxattr");
    }
    return out;
}

std::string mount_data(const Options& o, const std::vector<std::string>& lower_names_top_first) {
    std::string data =
        "lowerdir=" +
        str::join(lower_names_top_first.empty() ? top_first(o.lowers) : lower_names_top_first, ":");
    if (!o.upper.empty()) {
        data += ",upperdir=" + o.upper + ",workdir=" + o.work;
    }
    data += ",index=off";
    if (o.userxattr) {
        data += ",userxattr";
    }
    return data;
}

namespace {

Status mount_impl(const Options& o, int target_fd, const std::string& target) {
    COVE_TRY(mount_options(o), "");
    Method m = o.method;
    if (m == Method::kAuto) {
        bool short_paths = true;
        for (const auto& l : o.lowers) {
            short_paths = short_paths && l.size() < kMaxFsconfigString;
        }
        if (append_supported() && short_paths) {
            m = Method::kAppend;
        } else if (mount_data(o, {}).size() < kMaxMountData) {
            m = Method::kMountData;
        } else {
            m = Method::kShortLinks;
        }
    }
    std::string what = "overlay of " + std::to_string(o.lowers.size()) + " layers";
    switch (m) {
        case Method::kAppend:
            COVE_TRY(mount_append(o, target_fd, target), what);
            break;
        case Method::kMountData:
            COVE_TRY(mount_data_call(o, mount_data(o, {}), target), what);
            break;
        default:
            COVE_TRY(mount_short_links(o, target), what);
            break;
    }
    return {};
}

}  // namespace

Status mount(const Options& o, const std::string& target) {
    return mount_impl(o, -1, target);
}

Status mount_at(const Options& o, int target_fd) {
    return mount_impl(o, target_fd, fs::fd_path(target_fd));
}

}  // namespace cove::overlayfs
