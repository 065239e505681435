#include "image/records.hpp"

#include "image/blobs.hpp"
#include "image/reference.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"

namespace cove::image {

void to_json(nlohmann::json& j, const LayerRecord& l) {
    j = {
        {"digest", l.digest}, {"diffID", l.diff_id}, {"size", l.size}, {"mediaType", l.media_type}};
}

void from_json(const nlohmann::json& j, LayerRecord& l) {
    json::required(j, "digest", l.digest);
    json::required(j, "diffID", l.diff_id);
    json::optional(j, "size", l.size);
    json::optional(j, "mediaType", l.media_type);
}

void to_json(nlohmann::json& j, const ImageRecord& r) {
    j = {{"name", r.name},
         {"manifestDigest", r.manifest_digest},
         {"configDigest", r.config_digest},
         {"layers", r.layers},
         {"created", r.created},
         {"size", r.size}};
}

void from_json(const nlohmann::json& j, ImageRecord& r) {
    json::required(j, "name", r.name);
    json::required(j, "manifestDigest", r.manifest_digest);
    json::required(j, "configDigest", r.config_digest);
    json::required(j, "layers", r.layers);
    json::optional(j, "created", r.created);
    json::optional(j, "size", r.size);
}

std::string ImageRecord::repository() const {
    auto at = name.find('@');
    std::string base = name.substr(0, at);
    auto slash = base.rfind('/');
    auto colon = base.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        return base.substr(0, colon);
    }
    return base;
}

std::string ImageRecord::tag() const {
    auto at = name.find('@');
    std::string base = name.substr(0, at);
    std::string repo = repository();
    return base.size() > repo.size() ? base.substr(repo.size() + 1) : "<none>";
}

Result<std::vector<ImageRecord>> load_records(const std::string& root) {
    std::string path = root + "/images.json";
    if (!fs::exists(path)) {
        return std::vector<ImageRecord>{};
    }
    COVE_ASSIGN(auto j, json::parse_file(path), "read " + path);
    try {
        return j.at("images").get<std::vector<ImageRecord>>();
    } catch (const std::exception& e) {
        return make_error(path + ": " + json::describe(e));
    }
}

Status save_records(const std::string& root, const std::vector<ImageRecord>& recs) {
    nlohmann::json j = {{"images", recs}};
    return durable_write(root + "/images.json", j.dump(2) + "\n");
}

Result<size_t> match_record(const std::vector<ImageRecord>& recs, const std::string& name) {
    auto not_found = [&] { return errno_error(ENOENT, "image \"" + name + "\": not found"); };
    if (name.empty()) {
        return not_found();
    }
    std::vector<size_t> hits;
    // Digests and image ids.
    bool hex = name.size() >= 3 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
    for (size_t i = 0; i < recs.size(); ++i) {
        const auto& r = recs[i];
        if (name == r.config_digest || name == r.manifest_digest ||
            (hex && digest_hex(r.config_digest).substr(0, name.size()) == name)) {
            hits.push_back(i);
        }
    }
    if (hits.empty()) {
        auto ref = parse_reference(name, "localhost");
        if (!ref) {
            return std::move(ref).error();
        }
        std::string full = ref->str();
        for (size_t i = 0; i < recs.size(); ++i) {
            if (recs[i].name == full) {
                return i;
            }
        }
        // A short name: any domain, same path and tag.
        bool has_domain = name.find('/') != std::string::npos &&
                          looks_like_domain(name.substr(0, name.find('/')));
        if (!has_domain) {
            Reference want = *ref;
            for (size_t i = 0; i < recs.size(); ++i) {
                auto r = parse_reference(recs[i].name, "localhost");
                if (r && r->tag == want.tag && r->digest == want.digest &&
                    (r->path == want.path || r->path == "library/" + want.path)) {
                    hits.push_back(i);
                }
            }
        }
    }
    if (hits.empty()) {
        return not_found();
    }
    for (size_t h : hits) {
        if (recs[h].config_digest != recs[hits[0]].config_digest) {
            return make_error("image \"" + name + "\": ambiguous: matches " + recs[hits[0]].name +
                              " and " + recs[h].name);
        }
    }
    return hits[0];
}

}  // namespace cove::image
