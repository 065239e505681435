// OCI and Docker media types, and the JSON readers shared by every source: descriptors,
// platform choice in an index, manifest validation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/import.hpp"

namespace cove::image::media {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";

bool is_index(std::string_view media_type);
// Reads {mediaType, digest, size}; validates the digest.
Result<Descriptor> descriptor(const nlohmann::json& j);
// The manifest of platform ("os/arch[/variant]", empty: host) in an index.
Result<Descriptor> choose_platform(const nlohmann::json& index, const std::string& platform);
// The layer media type a blob's first bytes show: gzip, zstd or plain tar.
std::string_view layer_type_by_magic(std::string_view head);

}  // namespace cove::image::media
