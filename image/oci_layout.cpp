// oci:DIR[:TAG]: an OCI image layout directory (oci-layout, index.json, blobs/<alg>/<hex>).
#include "image/blobs.hpp"
#include "image/digest.hpp"
#include "image/import.hpp"
#include "image/media.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/strings.hpp"

namespace cove::image {
namespace {

constexpr const char* kRefName = "org.opencontainers.image.ref.name";

class OciLayoutReader : public SourceReader {
public:
    OciLayoutReader(std::string dir, Descriptor top, std::string tag)
        : dir_(std::move(dir)), top_(std::move(top)), tag_(std::move(tag)) {}

    Status top_manifest(std::string& body, std::string& media_type, std::string& digest) override {
        COVE_ASSIGN(body, manifest(top_), "");
        media_type = top_.media_type;
        digest = top_.digest;
        return ok_status();
    }

    Result<std::string> manifest(const Descriptor& d) override {
        return fs::read_file(blob(d.digest));
    }

    Status fetch_blob(const std::string& root, const Descriptor& d) override {
        return import_file(root, blob(d.digest), d.digest, d.size);
    }

    Result<std::string> default_name() override {
        if (tag_.find('/') != std::string::npos || tag_.find(':') != std::string::npos) {
            return normalize_name(tag_);
        }
        std::string base = dir_.substr(dir_.rfind('/') + 1);
        auto n = normalize_name(base + ":" + (tag_.empty() ? "latest" : tag_));
        if (!n) {
            return std::move(n).error().wrap("cannot name the image after " + dir_ +
                                             " (give --name)");
        }
        return n;
    }

private:
    std::string blob(const std::string& digest) const {
        return dir_ + "/blobs/sha256/" + std::string(digest_hex(digest));
    }

    std::string dir_;
    Descriptor top_;
    std::string tag_;
};

}  // namespace

Result<std::unique_ptr<SourceReader>> open_oci_layout(const Source& s) {
    std::string dir = s.path;
    while (dir.size() > 1 && dir.back() == '/') {
        dir.pop_back();
    }
    const std::string ctx = "oci layout " + dir;
    COVE_ASSIGN(auto layout, json::parse_file(dir + "/oci-layout"), ctx);
    if (layout.value("imageLayoutVersion", "") != "1.0.0") {
        return make_error(ctx + ": oci-layout: unsupported imageLayoutVersion");
    }
    COVE_ASSIGN(auto index, json::parse_file(dir + "/index.json"), ctx);
    auto it = index.find("manifests");
    if (it == index.end() || !it->is_array() || it->empty()) {
        return make_error(ctx + ": index.json has no manifests");
    }
    const nlohmann::json* pick = nullptr;
    std::vector<std::string> names;
    for (const auto& m : *it) {
        std::string ref;
        if (auto a = m.find("annotations"); a != m.end() && a->is_object()) {
            ref = a->value(kRefName, "");
        }
        names.push_back(ref.empty() ? "<unnamed>" : ref);
        if (!s.ref.empty() && ref == s.ref) {
            pick = &m;
        }
    }
    if (s.ref.empty()) {
        if (it->size() != 1) {
            return make_error(ctx + ": holds " + std::to_string(it->size()) +
                              " images: choose one with oci:" + dir +
                              ":TAG (tags: " + str::join(names, ", ") + ")");
        }
        pick = &it->front();
    }
    if (pick == nullptr) {
        return make_error(ctx + ": no image tagged \"" + s.ref +
                          "\" (tags: " + str::join(names, ", ") + ")");
    }
    COVE_ASSIGN(Descriptor d, media::descriptor(*pick), ctx + ": index.json");
    std::string tag = s.ref;
    if (tag.empty()) {
        if (auto a = pick->find("annotations"); a != pick->end() && a->is_object()) {
            tag = a->value(kRefName, "");
        }
    }
    return std::unique_ptr<SourceReader>(new OciLayoutReader(dir, d, tag));
}

}  // namespace cove::image
