// Layer unpack: one layer blob (gzip, zstd or plain tar, told apart by magic) into an empty
// directory, with every path resolved fd-relative beneath it (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS for parents, O_NOFOLLOW / AT_SYMLINK_NOFOLLOW for the last
// component), so no entry can write outside. OCI whiteouts become overlayfs ones: ".wh.NAME"
// a 0:0 character device NAME, ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its
// directory. The compressed digest and the diffID are verified while reading.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/error.hpp"

namespace cove::image {

enum class EntryKind {
    kNormal,    // path: the entry, relative to the layer root
    kWhiteout,  // path: the deleted entry (the whiteout's NAME)
    kOpaque,    // path: the directory made opaque ("" for the layer root)
    kRoot,      // the layer root itself ("./", "/"): skipped
    kIgnored,   // other ".wh..wh." metadata (aufs hardlink dirs): skipped
};

struct MappedPath {
    EntryKind kind = EntryKind::kNormal;
    std::string path;
};

// Cleans a tar path ("./a//b/", "/etc/x" -> relative) and maps whiteouts. A ".." component
// is an error: it would leave the layer.
Result<MappedPath> map_entry_path(std::string_view tar_path);

struct UnpackStats {
    int64_t compressed_size = 0;
    int64_t tar_size = 0;
    int64_t entries = 0;
};

// Unpacks the blob at blob_path into dest_dir (existing and empty), verifying the blob's
// digest and the uncompressed stream's diff_id. Errors name the layer and the entry; the
// caller removes dest_dir on error.
Result<UnpackStats> unpack_layer(const std::string& blob_path,
                                 std::string_view digest,
                                 std::string_view diff_id,
                                 const std::string& dest_dir);

// The store step: layers/<diffid-hex> exists afterwards (unpacked into a temp dir under
// <root>/tmp and renamed when complete), or nothing was left behind.
Status ensure_layer(const std::string& root, std::string_view digest, std::string_view diff_id);

}  // namespace cove::image
