// OverlayFS mounts of image layers: option strings, feature probing, and a mount that works
// for any number of lower layers (up to the kernel's 500).
//
// Long lower lists: mount(2) takes its data in one page (4096 bytes), so ~40 layer paths of
// ~100 bytes already overflow it. Two ways around that, chosen by Method::kAuto:
//  - kernels >= 6.5: fsopen("overlay") and one fsconfig("lowerdir+", path) per layer, so no
//    single string holds the list (each value is still limited to 255 bytes by fsconfig);
//  - older kernels (6.1 has no "lowerdir+", and its fsconfig strings are capped at 256
//    bytes, worse than mount(2)): containers/storage's trick, short symlinks ("0", "1", ...)
//    to the layer dirs in a link dir, and mount(2) with the relative names after fchdir into
//    that dir. The kernel resolves the names at mount time; the links are removed after.
// Whiteouts: overlay expects char 0:0 devices and the "overlay.opaque" xattr; OCI layers carry
// ".wh.<name>" files and ".wh..wh..opq". The image unpacker translates at unpack time;
// translate_whiteouts() here does the same for hand-made layers (tests).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.hpp"

namespace cove::overlayfs {

// The most lower layers a 6.x overlay takes (OVL_MAX_STACK).
inline constexpr size_t kMaxLowers = 500;
// mount(2) copies at most one page of data, NUL included.
inline constexpr size_t kMaxMountData = 4096;
// fsconfig(FSCONFIG_SET_STRING) copies at most 256 bytes, NUL included.
inline constexpr size_t kMaxFsconfigString = 256;

struct Features {
    bool lowerdir_append = false;   // fsconfig "lowerdir+" (6.5+)
    bool userxattr = false;         // "userxattr" (5.11+): overlay mounts inside a user ns
    bool metacopy_default = false;  // module parameter: metacopy=on unless told otherwise
    bool index_default = false;     // module parameter: index=on unless told otherwise
};

// Looks at /sys/module/overlay/parameters and tries fsconfig("lowerdir+") on a throwaway
// fs context (no mount is made). Needs CAP_SYS_ADMIN for the fsopen probe; without it the
// fsopen-based features read as absent.
Features probe();

enum class Method {
    kAuto,        // "lowerdir+" when the kernel has it, else mount(2) (with links when long)
    kAppend,      // fsopen + fsconfig("lowerdir+") per layer + fsmount + move_mount
    kMountData,   // mount(2) with absolute paths; fails with E2BIG past a page
    kShortLinks,  // mount(2) with short relative links in link_dir, always
};

struct Options {
    std::vector<std::string> lowers;  // absolute dirs, BOTTOM first (the image's layer order)
    std::string upper;                // empty: a read-only overlay of the lowers
    std::string work;                 // required with upper, same filesystem as upper
    // A writable directory for the short links of kShortLinks (and kAuto's fallback). Created
    // when missing; the links made in it are removed after the mount.
    std::string link_dir;
    bool userxattr = false;  // mount inside a user namespace
    bool readonly = false;
    Method method = Method::kAuto;
};

// The option strings, in the order given to the kernel: "lowerdir=<top>:...:<bottom>" (or
// one "lowerdir+" value per layer, top first), "upperdir=", "workdir=", then "index=off"
// (several overlays share lowers; the index would tie a lower to one upper) and "userxattr".
// Pure: checks only the shape (absolute paths, no ':' ',' or '\\' in a path, count).
Result<std::vector<std::string>> mount_options(const Options& o);
// The same as one mount(2) data string (comma-joined), with `lowers` replaced by `names`
// (top first) when given; used for both the absolute and the short-link forms.
std::string mount_data(const Options& o, const std::vector<std::string>& lower_names_top_first);
// "0", "1", ..., "a", ..., "z", "10", ...: base-36 names, shortest first.
std::string short_name(size_t index);

// Mounts the overlay on target, an absolute path. The caller is in the mount namespace that
// must own the mount. The process's cwd is restored afterwards.
Status mount(const Options& o, const std::string& target);
// The same onto the directory target_fd (an O_PATH fd): no path lookup at all.
Status mount_at(const Options& o, int target_fd);

// Which OCI whiteout a directory entry name is.
enum class Whiteout { kNone, kFile, kOpaque };
// ".wh..wh..opq" -> kOpaque, ".wh.<name>" -> kFile with *hidden = name, else kNone.
Whiteout classify_whiteout(std::string_view name, std::string* hidden = nullptr);
// Rewrites OCI whiteouts under dir (recursively) as overlay whiteouts: ".wh.x" becomes a char
// 0:0 device "x"; ".wh..wh..opq" becomes the opaque xattr on its directory ("trusted.",
// or "user." with userxattr). Does not follow symlinks; does not cross mount points.
Status translate_whiteouts(const std::string& dir, bool userxattr = false);

}  // namespace cove::overlayfs
