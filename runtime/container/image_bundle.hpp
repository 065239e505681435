// Containers from images: the OCI image config turned into a config.json over cove's default
// spec, and the per-container storage dir that `create --image` generates:
//
//   $COVE_CONTAINER_ROOT (default /var/lib/cove/containers)/<id>/
//     config.json   generated from the image config (root.path "rootfs")
//     rootfs/       the mountpoint; the init mounts the overlay here, in its mount namespace
//     upper/ work/  the container's writable layer and overlay's work dir
//     l/            short links to the layers, only while mounting a long lower list
//
// The dir is the bundle. It lives on disk (not in the tmpfs state dir under /run/cove) so a
// container's writes do not take memory; it is removed by delete, which finds it through the
// file "storage" in the state dir (written by create, never taken from config.json, so a
// config cannot make delete remove anything else).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/error.hpp"

namespace cove::image_bundle {

// $COVE_CONTAINER_ROOT or /var/lib/cove/containers.
std::string container_root();

// What the init needs from an image, and what the spec is made from.
struct ImageInfo {
    std::string name;
    std::string digest;
    std::vector<std::string> layers;  // bottom first
    nlohmann::json config;            // OCI image config
};

struct SpecOptions {
    std::string id;                 // the hostname
    std::vector<std::string> args;  // replaces Cmd
    bool terminal = false;
    std::string root_path = "rootfs";
};

// config.json for a container of the image: cove's default spec with the image's
// Entrypoint+Cmd (or Entrypoint+args), Env merged over the default PATH/TERM, WorkingDir,
// User (names looked up in the image's /etc/passwd and /etc/group), root read-write.
Result<nlohmann::ordered_json> make_spec(const ImageInfo& img, const SpecOptions& o);

// Env lists: entries of `over` replace those of `base` with the same key, in place; new keys
// are appended.
std::vector<std::string> merge_env(const std::vector<std::string>& base,
                                   const std::vector<std::string>& over);

struct ResolvedUser {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::vector<uint32_t> additional_gids;
};
// Docker's User forms: "", "uid", "uid:gid", "name", "name:group", "uid:group", "name:gid".
// passwd/group: the image's files (nullopt when it has none). Without a group, the gid is the
// user's passwd gid (0 when the uid is not listed) and the supplementary groups are those of
// /etc/group that list the user's name.
Result<ResolvedUser> resolve_user(std::string_view user,
                                  const std::optional<std::string>& passwd,
                                  const std::optional<std::string>& group);

// A regular file of the merged image, read from the layers top-down: the first layer that has
// path wins; a whiteout (char 0:0) or an opaque parent directory ends the search. Inside each
// layer the path is resolved with RESOLVE_IN_ROOT, so an image's symlinks stay in that layer.
// nullopt when no layer has it.
Result<std::optional<std::string>> read_image_file(const std::vector<std::string>& layers,
                                                   const std::string& path);

// The state dir's record of a container's storage dir (create writes it, delete reads it).
Status record_storage(const std::string& state_dir, const std::string& storage);
// Removes the storage dir recorded in state_dir (nothing when there is none).
Status remove_storage(const std::string& state_dir);

}  // namespace cove::image_bundle
