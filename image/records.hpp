// images.json: the store's records (name -> manifest, config, layers), read without a lock
// (it is replaced atomically) and rewritten only under the store's exclusive lock. Also
// the name matching of `cove image` commands (full name, short name, image id).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/image.hpp"

namespace cove::image {

void to_json(nlohmann::json& j, const LayerRecord& l);
void from_json(const nlohmann::json& j, LayerRecord& l);
void to_json(nlohmann::json& j, const ImageRecord& r);
void from_json(const nlohmann::json& j, ImageRecord& r);

Result<std::vector<ImageRecord>> load_records(const std::string& root);
Status save_records(const std::string& root, const std::vector<ImageRecord>& recs);

// Index of the record `name` designates: a full or short name ("busybox" finds
// "localhost/busybox:latest" or a unique "*/busybox:latest"), an image id prefix (>= 3 hex
// of the config digest), or a full config or manifest digest. Errors: not found, ambiguous.
Result<size_t> match_record(const std::vector<ImageRecord>& recs, const std::string& name);

}  // namespace cove::image
