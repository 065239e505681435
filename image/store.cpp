#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <set>

#include "image/blobs.hpp"
#include "image/digest.hpp"
#include "image/image.hpp"
#include "image/import.hpp"
#include "image/lazy_libs.hpp"
#include "image/records.hpp"
#include "image/reference.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"

namespace cove::image {

std::string default_root() {
    const char* env = std::getenv("COVE_IMAGE_ROOT");
    return env != nullptr && *env != '\0' ? env : "/var/lib/cove/images";
}

bool is_source(std::string_view s) {
    return s.rfind("oci:", 0) == 0 || s.rfind("docker-archive:", 0) == 0 ||
           s.rfind("docker://", 0) == 0;
}

Result<Store> Store::open(std::string root) {
    if (root.empty()) {
        root = default_root();
    }
    while (root.size() > 1 && root.back() == '/') {
        root.pop_back();
    }
    if (root.front() != '/') {
        return make_error("image root \"" + root + "\": not an absolute path");
    }
    for (const char* sub : {"/blobs/sha256", "/layers", "/tmp"}) {
        COVE_TRY(fs::mkdir_p(root + sub, 0700), "image store " + root);
    }
    return Store(std::move(root));
}

std::string Store::blob_path(std::string_view digest) const {
    return blob_file(root_, digest);
}

std::string Store::layer_path(std::string_view diff_id) const {
    return root_ + "/layers/" + std::string(digest_hex(diff_id));
}

Result<Image> Store::image_of(const ImageRecord& r) const {
    Image img;
    img.name = r.name;
    img.manifest_digest = r.manifest_digest;
    for (const auto& l : r.layers) {
        std::string dir = layer_path(l.diff_id);
        if (!fs::exists(dir)) {
            return make_error("image " + r.name + ": layer " + l.diff_id + ": missing " + dir);
        }
        img.layer_dirs.push_back(std::move(dir));
    }
    COVE_ASSIGN(img.config, json::parse_file(blob_path(r.config_digest)),
                "image " + r.name + ": config");
    return img;
}

Result<ImageRecord> Store::find(const std::string& name) const {
    COVE_ASSIGN(auto recs, load_records(root_), "image store");
    COVE_ASSIGN(size_t i, match_record(recs, name), "");
    return recs[i];
}

Result<Image> Store::get(const std::string& name) const {
    auto r = find(name);
    if (!r) {
        return std::move(r).error();
    }
    return image_of(*r);
}

Result<Image> Store::resolve(const std::string& name_or_source, const PullOptions& o) {
    if (is_source(name_or_source)) {
        return pull(name_or_source, o);
    }
    return get(name_or_source);
}

Result<Image> Store::pull(const std::string& source, const PullOptions& o) {
    COVE_ASSIGN(Source src, parse_source(source), "pull");
    COVE_TRY(load_image_libraries(), "pull " + source);
    COVE_ASSIGN(UniqueFd lock, lock_store(root_, true), "pull " + source);
    clean_stale_temp(root_);
    auto imported = import_image(root_, src, o);
    if (!imported) {
        // Blobs copied before the failure are referenced by no record: sweep them.
        (void)gc();
        return std::move(imported).error().wrap("pull " + source);
    }
    ImageRecord rec = std::move(imported).value();
    char buf[32];
    std::time_t now = std::time(nullptr);
    struct tm tm {};
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    rec.created = buf;
    COVE_ASSIGN(auto recs, load_records(root_), "pull " + source);
    bool replaced = false;
    for (auto& r : recs) {
        if (r.name == rec.name) {
            r = rec;
            replaced = true;
        }
    }
    if (!replaced) {
        recs.push_back(rec);
    }
    COVE_TRY(save_records(root_, recs), "pull " + source);
    // A re-tag leaves the old manifest unreferenced.
    COVE_TRY(gc(), "pull " + source);
    return image_of(rec);
}

Result<std::vector<ImageRecord>> Store::list() const {
    return load_records(root_);
}

Status Store::remove(const std::vector<std::string>& names) {
    COVE_ASSIGN(UniqueFd lock, lock_store(root_, true), "rm");
    COVE_ASSIGN(auto recs, load_records(root_), "rm");
    std::set<size_t> drop;
    for (const auto& n : names) {
        COVE_ASSIGN(size_t i, match_record(recs, n), "rm");
        drop.insert(i);
    }
    std::vector<ImageRecord> keep;
    for (size_t i = 0; i < recs.size(); ++i) {
        if (drop.count(i) == 0) {
            keep.push_back(recs[i]);
        }
    }
    COVE_TRY(save_records(root_, keep), "rm");
    return gc();
}

Status Store::gc() {
    COVE_ASSIGN(auto recs, load_records(root_), "gc");
    std::set<std::string> blobs;
    std::set<std::string> layers;
    for (const auto& r : recs) {
        blobs.insert(std::string(digest_hex(r.manifest_digest)));
        blobs.insert(std::string(digest_hex(r.config_digest)));
        for (const auto& l : r.layers) {
            blobs.insert(std::string(digest_hex(l.digest)));
            layers.insert(std::string(digest_hex(l.diff_id)));
        }
    }
    // Layers held by containers stay, whatever the records say.
    if (DIR* d = ::opendir((root_ + "/holds").c_str())) {
        std::vector<std::string> holders;
        while (struct dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != ".." && n.find(".tmp-") == std::string::npos) {
                holders.push_back(n);
            }
        }
        ::closedir(d);
        for (const auto& h : holders) {
            auto j = json::parse_file(root_ + "/holds/" + h);
            if (!j) {
                return std::move(j).error().wrap("gc: hold " + h);
            }
            for (const auto& l : j->value("layers", nlohmann::json::array())) {
                if (l.is_string()) {
                    layers.insert(std::string(digest_hex(l.get<std::string>())));
                }
            }
        }
    }
    auto sweep = [](const std::string& dir, const std::set<std::string>& live) -> Status {
        std::vector<std::string> dead;
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) {
            return errno == ENOENT ? ok_status() : sys_error("open " + dir);
        }
        while (struct dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != ".." && live.count(n) == 0) {
                dead.push_back(dir + "/" + n);
            }
        }
        ::closedir(d);
        for (const auto& p : dead) {
            COVE_TRY(fs::remove_all(p), "gc");
        }
        return ok_status();
    };
    COVE_TRY(sweep(root_ + "/blobs/sha256", blobs), "gc");
    COVE_TRY(sweep(root_ + "/layers", layers), "gc");
    clean_stale_temp(root_);
    return ok_status();
}

namespace {

Status validate_holder(const std::string& holder) {
    bool ok = !holder.empty() && holder != "." && holder != ".." && holder.size() <= 1024 &&
              holder.find_first_not_of(
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_.-") == std::string::npos;
    return ok ? ok_status() : make_error("invalid holder \"" + holder + "\"");
}

}  // namespace

Status Store::hold(const Image& img, const std::string& holder) {
    COVE_TRY(validate_holder(holder), "hold");
    COVE_ASSIGN(UniqueFd lock, lock_store(root_, true), "hold " + img.name);
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& dir : img.layer_dirs) {
        if (!fs::exists(dir)) {
            return make_error("hold " + img.name + ": layer " + dir + " is gone");
        }
        layers.push_back("sha256:" + dir.substr(dir.rfind('/') + 1));
    }
    COVE_TRY(fs::mkdir_p(root_ + "/holds", 0700), "hold");
    nlohmann::json j = {{"image", img.name}, {"layers", layers}};
    COVE_TRY(durable_write(root_ + "/holds/" + holder, j.dump() + "\n"), "hold " + img.name);
    return ok_status();
}

Status Store::release(const std::string& holder) {
    COVE_TRY(validate_holder(holder), "release");
    COVE_ASSIGN(UniqueFd lock, lock_store(root_, true), "release " + holder);
    std::string path = root_ + "/holds/" + holder;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return sys_error("release: remove " + path);
    }
    return ok_status();
}

Result<nlohmann::json> Store::inspect(const std::string& name) const {
    COVE_ASSIGN(ImageRecord r, find(name), "inspect");
    COVE_ASSIGN(Image img, image_of(r), "inspect");
    COVE_ASSIGN(auto manifest, json::parse_file(blob_path(r.manifest_digest)),
                "inspect " + r.name + ": manifest");
    nlohmann::json layers = nlohmann::json::array();
    for (size_t i = 0; i < r.layers.size(); ++i) {
        layers.push_back({{"digest", r.layers[i].digest},
                          {"diffID", r.layers[i].diff_id},
                          {"size", r.layers[i].size},
                          {"mediaType", r.layers[i].media_type},
                          {"path", img.layer_dirs[i]}});
    }
    return nlohmann::json{{"name", r.name},
                          {"id", std::string(digest_hex(r.config_digest))},
                          {"digest", r.manifest_digest},
                          {"created", r.created},
                          {"size", r.size},
                          {"config", img.config},
                          {"manifest", manifest},
                          {"layers", layers}};
}

}  // namespace cove::image
