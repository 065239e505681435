#include "runtime/container/image_bundle.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>

#include "image/image.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/log.hpp"
#include "runtime/base/scope_exit.hpp"
#include "runtime/base/strings.hpp"
#include "runtime/container/cove.hpp"
#include "runtime/container/state.hpp"
#include "runtime/spec/defaults.hpp"

namespace cove::image_bundle {
namespace {

using Json = nlohmann::json;
using Ordered = nlohmann::ordered_json;

constexpr size_t kMaxImageFile = 4 << 20;

Result<std::vector<std::string>> string_list(const Json& c, const char* key) {
    auto it = c.find(key);
    if (it == c.end() || it->is_null()) {
        return std::vector<std::string>{};
    }
    if (!it->is_array()) {
        return make_error(std::string("config.") + key + ": must be an array of strings");
    }
    std::vector<std::string> out;
    for (const auto& v : *it) {
        if (!v.is_string()) {
            return make_error(std::string("config.") + key + ": must be an array of strings");
        }
        out.push_back(v.get<std::string>());
    }
    return out;
}

std::string string_field(const Json& c, const char* key) {
    auto it = c.find(key);
    return it != c.end() && it->is_string() ? it->get<std::string>() : "";
}

struct PasswdLine {
    std::string name;
    uint32_t uid = 0, gid = 0;
};
struct GroupLine {
    std::string name;
    uint32_t gid = 0;
    std::vector<std::string> members;
};

std::optional<uint32_t> parse_id(std::string_view s) {
    auto v = str::parse_uint(s);
    if (!v || *v > 0xFFFFFFFEu) {
        return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
}

std::vector<PasswdLine> parse_passwd(const std::optional<std::string>& text) {
    std::vector<PasswdLine> out;
    for (const auto& line : str::split(text.value_or(""), '\n')) {
        auto f = str::split(line, ':');
        if (f.size() < 4 || f[0].empty() || f[0][0] == '#') {
            continue;
        }
        auto uid = parse_id(f[2]), gid = parse_id(f[3]);
        if (uid && gid) {
            out.push_back({f[0], *uid, *gid});
        }
    }
    return out;
}

std::vector<GroupLine> parse_group(const std::optional<std::string>& text) {
    std::vector<GroupLine> out;
    for (const auto& line : str::split(text.value_or(""), '\n')) {
        auto f = str::split(line, ':');
        if (f.size() < 3 || f[0].empty() || f[0][0] == '#') {
            continue;
        }
        auto gid = parse_id(f[2]);
        if (!gid) {
            continue;
        }
        GroupLine g{f[0], *gid, {}};
        if (f.size() > 3 && !f[3].empty()) {
            for (auto& m : str::split(f[3], ',')) {
                g.members.emplace_back(str::trim(m));
            }
        }
        out.push_back(std::move(g));
    }
    return out;
}

bool is_whiteout(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

// Only for a directory: getxattr through /proc/self/fd of a symlink would follow the link
// from the host's view.
bool is_opaque(int dir_fd) {
    struct stat st {};
    if (::fstat(dir_fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return false;
    }
    std::string p = fs::fd_path(dir_fd);
    char v = 0;
    return (::getxattr(p.c_str(), "trusted.overlay.opaque", &v, 1) == 1 && v == 'y') ||
           (::getxattr(p.c_str(), "user.overlay.opaque", &v, 1) == 1 && v == 'y');
}

// In one layer: the file (found), hidden (whiteout / opaque: stop), or absent (look lower).
enum class Lookup { kFound, kHidden, kAbsent };

Result<Lookup> lookup_in_layer(int root, const std::string& path, std::string& out) {
    auto f = fs::open_in_root(root, path, O_PATH);
    if (f) {
        struct stat st {};
        if (::fstat(f->get(), &st) != 0) {
            return sys_error("stat " + path);
        }
        if (is_whiteout(f->get())) {
            return Lookup::kHidden;
        }
        if (!S_ISREG(st.st_mode)) {
            return make_error(path + ": not a regular file");
        }
        if (static_cast<size_t>(st.st_size) > kMaxImageFile) {
            return make_error(path + ": larger than 4 MiB");
        }
        UniqueFd r(::open(fs::fd_path(f->get()).c_str(), O_RDONLY | O_CLOEXEC));
        if (!r) {
            return sys_error("open " + path);
        }
        COVE_ASSIGN(out, fs::read_fd(r.get()), path);
        return Lookup::kFound;
    }
    if (f.error().code() != ENOENT && f.error().code() != ENOTDIR) {
        return std::move(f).error();
    }
    // A whiteout of a parent hides the path; an opaque parent hides the layers below.
    std::string prefix;
    Lookup result = Lookup::kAbsent;
    for (const auto& part : str::split(path.substr(1), '/')) {
        prefix += "/" + part;
        auto d = fs::open_in_root(root, prefix, O_PATH | O_NOFOLLOW);
        if (!d) {
            break;
        }
        if (is_whiteout(d->get())) {
            return Lookup::kHidden;
        }
        if (prefix != path && is_opaque(d->get())) {
            result = Lookup::kHidden;
        }
    }
    return result;
}

// Resolves ref (pulling a source first) and, for a container (holder non-empty), holds its
// layers so `cove image rm` and gc keep them until the container is deleted.
Result<ImageInfo> load_image(const std::string& ref, const std::string& holder = "") {
    COVE_ASSIGN(image::Store store, image::Store::open(image::default_root()), "");
    COVE_ASSIGN(image::Image im, store.resolve(ref), "");
    if (!holder.empty()) {
        COVE_TRY(store.hold(im, holder), "image " + im.name);
    }
    return ImageInfo{im.name, im.manifest_digest, im.layer_dirs, im.config};
}

void release_image(const std::string& holder) {
    if (auto store = image::Store::open(image::default_root())) {
        if (auto r = store->release(holder); !r) {
            log::warn(r.error().to_string());
        }
    }
}

// The overlay's root dir takes mode and owner from upper: copy them from the image's root.
Status match_root_attrs(const std::string& upper, const std::string& top_layer) {
    struct stat st {};
    if (::stat(top_layer.c_str(), &st) != 0) {
        return sys_error("stat " + top_layer);
    }
    if (::chown(upper.c_str(), st.st_uid, st.st_gid) != 0 ||
        ::chmod(upper.c_str(), st.st_mode & 07777) != 0) {
        return sys_error("set the attributes of " + upper);
    }
    return {};
}

struct Storage {
    CreateOptions create;
    std::string dir;
};

// Resolves the image, then makes <container root>/<id> with config.json, rootfs/, upper/,
// work/. On error nothing of it is left.
Result<Storage> make_storage(const std::string& id, CreateOptions o, const ImageOptions& img) {
    COVE_TRY(validate_id(id), "");
    std::string root = container_root();
    if (::access((root + "/" + id).c_str(), F_OK) == 0) {
        return make_error("container storage " + root + "/" + id + " exists");
    }
    COVE_ASSIGN(ImageInfo info, load_image(img.ref, id), "");
    ScopeExit release([&] { release_image(id); });
    SpecOptions so{id, img.args, img.terminal, "rootfs"};
    COVE_ASSIGN(Ordered spec, make_spec(info, so), "image " + info.name);
    COVE_TRY(fs::mkdir_p(root, 0700), "container storage");
    std::string dir = root + "/" + id;
    if (::mkdir(dir.c_str(), 0700) != 0) {
        return errno == EEXIST ? make_error("container storage " + dir + " exists")
                               : sys_error("mkdir " + dir);
    }
    ScopeExit remove([&] { (void)fs::remove_all(dir); });
    for (const char* sub : {"/rootfs", "/upper", "/work"}) {
        if (::mkdir((dir + sub).c_str(), 0700) != 0) {
            return sys_error("mkdir " + dir + sub);
        }
    }
    COVE_TRY(match_root_attrs(dir + "/upper", info.layers.back()), "container storage");
    COVE_TRY(fs::atomic_write(dir + "/config.json", spec.dump(1, '\t'), 0644), "");
    o.bundle = dir;
    o.overlay = OverlayRootfs{info.layers, dir + "/upper", dir + "/work", dir + "/l", dir};
    remove.dismiss();
    release.dismiss();
    return Storage{std::move(o), dir};
}

// After a failed create/run: the storage goes unless a container (with its state) owns it.
void remove_unowned(const GlobalOptions& g, const std::string& id, const std::string& dir) {
    auto recorded = fs::read_file(g.root + "/" + id + "/storage");
    if (!recorded || *recorded != dir) {
        (void)fs::remove_all(dir);
        release_image(id);
    }
}

}  // namespace

std::string container_root() {
    const char* env = std::getenv("COVE_CONTAINER_ROOT");
    return env != nullptr && *env != '\0' ? env : "/var/lib/cove/containers";
}

std::vector<std::string> merge_env(const std::vector<std::string>& base,
                                   const std::vector<std::string>& over) {
    std::vector<std::string> out = base;
    for (const auto& e : over) {
        std::string key = e.substr(0, e.find('='));
        bool replaced = false;
        for (auto& b : out) {
            if (b.substr(0, b.find('=')) == key) {
                b = e;
                replaced = true;
                break;
            }
        }
        if (!replaced) {
            out.push_back(e);
        }
    }
    return out;
}

Result<ResolvedUser> resolve_user(std::string_view user,
                                  const std::optional<std::string>& passwd,
                                  const std::optional<std::string>& group) {
    ResolvedUser r;
    if (user.empty()) {
        return r;
    }
    size_t colon = user.find(':');
    std::string u(user.substr(0, colon));
    std::optional<std::string> g;
    if (colon != std::string_view::npos) {
        g = std::string(user.substr(colon + 1));
    }
    auto users = parse_passwd(passwd);
    auto groups = parse_group(group);
    const PasswdLine* entry = nullptr;
    if (auto id = parse_id(u)) {
        r.uid = *id;
        for (const auto& p : users) {
            if (p.uid == *id) {
                entry = &p;
                break;
            }
        }
    } else {
        for (const auto& p : users) {
            if (p.name == u) {
                entry = &p;
                break;
            }
        }
        if (entry == nullptr) {
            return make_error("user \"" + u + "\": no such user in the image's /etc/passwd");
        }
        r.uid = entry->uid;
    }
    r.gid = entry != nullptr ? entry->gid : 0;
    if (g) {
        if (auto id = parse_id(*g)) {
            r.gid = *id;
        } else {
            const GroupLine* found = nullptr;
            for (const auto& gr : groups) {
                if (gr.name == *g) {
                    found = &gr;
                    break;
                }
            }
            if (found == nullptr) {
                return make_error("group \"" + *g + "\": no such group in the image's /etc/group");
            }
            r.gid = found->gid;
        }
        return r;
    }
    if (entry != nullptr) {
        for (const auto& gr : groups) {
            bool member = false;
            for (const auto& m : gr.members) {
                member = member || m == entry->name;
            }
            if (member && gr.gid != r.gid) {
                r.additional_gids.push_back(gr.gid);
            }
        }
    }
    return r;
}

Result<std::optional<std::string>> read_image_file(const std::vector<std::string>& layers,
                                                   const std::string& path) {
    std::string p = fs::clean_path(path);
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
        UniqueFd root(::open(it->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) {
            return sys_error("open layer " + *it);
        }
        std::string content;
        COVE_ASSIGN(Lookup l, lookup_in_layer(root.get(), p, content), "layer " + *it);
        if (l == Lookup::kFound) {
            return std::optional<std::string>(std::move(content));
        }
        if (l == Lookup::kHidden) {
            break;
        }
    }
    return std::optional<std::string>();
}

Result<Ordered> make_spec(const ImageInfo& img, const SpecOptions& o) {
    Ordered s = spec::default_spec_ordered(false);
    static const Json kEmpty = Json::object();
    auto cit = img.config.find("config");
    const Json& c = cit != img.config.end() && cit->is_object() ? *cit : kEmpty;

    COVE_ASSIGN(std::vector<std::string> args, string_list(c, "Entrypoint"), "");
    COVE_ASSIGN(std::vector<std::string> cmd, string_list(c, "Cmd"), "");
    args.insert(args.end(), o.args.empty() ? cmd.begin() : o.args.begin(),
                o.args.empty() ? cmd.end() : o.args.end());
    if (args.empty()) {
        return make_error("the image has no Entrypoint or Cmd: give a command after --");
    }
    COVE_ASSIGN(std::vector<std::string> env, string_list(c, "Env"), "");
    std::string cwd = string_field(c, "WorkingDir");
    std::string user = string_field(c, "User");

    ResolvedUser ru;
    if (!user.empty()) {
        COVE_ASSIGN(auto passwd, read_image_file(img.layers, "/etc/passwd"), "config.User");
        COVE_ASSIGN(auto group, read_image_file(img.layers, "/etc/group"), "config.User");
        COVE_ASSIGN(ru, resolve_user(user, passwd, group), "config.User");
    }

    Ordered& p = s["process"];
    p["terminal"] = o.terminal;
    p["user"] = Ordered::object();
    p["user"]["uid"] = ru.uid;
    p["user"]["gid"] = ru.gid;
    if (!ru.additional_gids.empty()) {
        p["user"]["additionalGids"] = ru.additional_gids;
    }
    p["args"] = args;
    p["env"] = merge_env(p["env"].get<std::vector<std::string>>(), env);
    p["cwd"] = cwd.empty() ? "/" : fs::clean_path(cwd[0] == '/' ? cwd : "/" + cwd);
    s["root"] = {{"path", o.root_path}, {"readonly", false}};
    s["hostname"] = o.id.substr(0, 63);
    Ordered ann = Ordered::object();
    ann["run.cove.image.name"] = img.name;
    ann["run.cove.image.digest"] = img.digest;
    if (std::string sig = string_field(c, "StopSignal"); !sig.empty()) {
        ann["org.opencontainers.image.stopSignal"] = sig;
    }
    s["annotations"] = ann;
    return s;
}

Status record_storage(const std::string& state_dir, const std::string& storage) {
    return fs::atomic_write(state_dir + "/storage", storage, 0600);
}

Status remove_storage(const std::string& state_dir) {
    auto r = fs::read_file(state_dir + "/storage");
    if (!r) {
        return r.error().code() == ENOENT ? Status{} : std::move(r).error().wrap("storage");
    }
    const std::string& dir = *r;
    // Written by create only; still, never remove "/" or a relative path.
    if (dir.size() < 2 || dir[0] != '/' || fs::clean_path(dir) != dir) {
        return make_error("storage: bad recorded path \"" + dir + "\"");
    }
    COVE_TRY(fs::remove_all(dir), "storage");
    release_image(dir.substr(dir.rfind('/') + 1));
    return {};
}

}  // namespace cove::image_bundle

namespace cove {

Status create_from_image(const GlobalOptions& g,
                         const std::string& id,
                         CreateOptions o,
                         const ImageOptions& img) {
    COVE_ASSIGN(image_bundle::Storage st, image_bundle::make_storage(id, std::move(o), img), "");
    Status r = create(g, id, st.create);
    if (!r) {
        image_bundle::remove_unowned(g, id, st.dir);
    }
    return r;
}

Result<int> run_from_image(const GlobalOptions& g,
                           const std::string& id,
                           RunOptions o,
                           const ImageOptions& img) {
    COVE_ASSIGN(image_bundle::Storage st, image_bundle::make_storage(id, o.create, img), "");
    o.create = std::move(st.create);
    auto r = run(g, id, o);
    if (!r) {
        image_bundle::remove_unowned(g, id, st.dir);
    }
    return r;
}

Result<nlohmann::ordered_json> image_config_json(const ImageOptions& img, const std::string& id) {
    COVE_ASSIGN(image_bundle::ImageInfo info, image_bundle::load_image(img.ref), "");
    image_bundle::SpecOptions so{id, img.args, img.terminal, "rootfs"};
    COVE_ASSIGN(auto spec, image_bundle::make_spec(info, so), "image " + info.name);
    return spec;
}

}  // namespace cove
