#include "image/media.hpp"

#include "image/digest.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/strings.hpp"

namespace cove::image::media {

bool is_index(std::string_view media_type) {
    return media_type == kOciIndex || media_type == kDockerList;
}

Result<Descriptor> descriptor(const nlohmann::json& j) {
    Descriptor d;
    try {
        json::optional(j, "mediaType", d.media_type);
        json::required(j, "digest", d.digest);
        json::optional(j, "size", d.size);
    } catch (const std::exception& e) {
        return make_error("descriptor: " + json::describe(e));
    }
    COVE_TRY(validate_digest(d.digest), "descriptor");
    return d;
}

Result<Descriptor> choose_platform(const nlohmann::json& index, const std::string& platform) {
    std::string want = platform.empty() ? host_platform() : platform;
    auto parts = str::split(want, '/');
    if (parts.size() < 2 || parts.size() > 3) {
        return make_error("platform \"" + want + "\": want os/arch[/variant]");
    }
    std::vector<std::string> seen;
    auto it = index.find("manifests");
    if (it == index.end() || !it->is_array()) {
        return make_error("index: no manifests");
    }
    for (const auto& m : *it) {
        auto p = m.find("platform");
        if (p == m.end() || !p->is_object()) {
            continue;
        }
        std::string os = p->value("os", "");
        std::string arch = p->value("architecture", "");
        std::string variant = p->value("variant", "");
        seen.push_back(os + "/" + arch + (variant.empty() ? "" : "/" + variant));
        if (os != parts[0] || arch != parts[1]) {
            continue;
        }
        if (parts.size() == 3 && variant != parts[2]) {
            continue;
        }
        return descriptor(m);
    }
    return make_error("index has no manifest for " + want + " (has: " + str::join(seen, ", ") +
                      ")");
}

std::string_view layer_type_by_magic(std::string_view head) {
    if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
        static_cast<unsigned char>(head[1]) == 0x8b) {
        return kOciLayerGzip;
    }
    if (head.size() >= 4 && head.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) {
        return kOciLayerZstd;
    }
    return kOciLayer;
}

}  // namespace cove::image::media
