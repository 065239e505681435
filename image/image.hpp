// The image facade: Store (a sha256-verified content store of blobs, unpacked layers keyed
// by diffID, and image records mapping names to manifests) and Image (what a container
// needs to run one: its unpacked layers, bottom first, and its OCI config). Sources are
// named with skopeo's transports: oci:DIR[:TAG], docker-archive:FILE[:REF],
// docker://HOST[:PORT]/REPO[:TAG|@DIGEST].
//
// Layout under the root (default /var/lib/cove/images, env COVE_IMAGE_ROOT):
//   blobs/sha256/<hex>    verified blobs (manifests, configs, compressed layers)
//   layers/<diffid-hex>/  one unpacked layer, shared read-only by every container
//   images.json           records: name -> manifest digest, config digest, layers
//   tmp/                  temp files and unpack dirs, renamed into place when complete
//   holds/<holder>        layers a container uses (kept by gc while held)
//   lock                  flock(2) serialising writers (pull, rm, hold)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/error.hpp"

namespace cove::image {

struct PullOptions {
    // Name to record the image under (oci: and docker-archive: sources); normalized.
    std::string name;
    // "os/arch[/variant]" chosen from a multi-arch index; empty: linux/<host arch>.
    std::string platform;
    // "user:pass" for registry basic auth or for the bearer token request.
    std::string creds;
    // PEM bundle of CAs to trust for https registries.
    std::string ca_file;
    // false: https without certificate verification (skopeo's --tls-verify=false).
    bool tls_verify = true;
    // One line per step ("copying blob sha256:... 1.2 MB"); empty: silent.
    std::function<void(std::string_view)> progress;
};

struct Image {
    std::string name;                     // "localhost/busybox:latest" (normalized reference)
    std::string manifest_digest;          // "sha256:..."
    std::vector<std::string> layer_dirs;  // absolute paths of unpacked layers, BOTTOM layer first
    nlohmann::json
        config;  // the OCI image config JSON (.config.Entrypoint/Cmd/Env/WorkingDir/User)
};

struct LayerRecord {
    std::string digest;   // compressed blob digest (manifest's layer descriptor)
    std::string diff_id;  // uncompressed tar digest (config's rootfs.diff_ids)
    int64_t size = 0;     // compressed size
    std::string media_type;
};

// One entry of images.json.
struct ImageRecord {
    std::string name;  // normalized reference, "localhost/busybox:latest"
    std::string manifest_digest;
    std::string config_digest;
    std::vector<LayerRecord> layers;  // bottom first
    std::string created;              // RFC 3339 time of the pull
    int64_t size = 0;                 // config + layer blob sizes

    std::string repository() const;  // "localhost/busybox"
    std::string tag() const;         // "latest" ("<none>" for digest references)
};

class Store {
public:
    // Opens (creating when missing) the store at root.
    static Result<Store> open(std::string root);

    const std::string& root() const { return root_; }

    // name of a pulled image, or any SOURCE (oci:DIR[:TAG], docker-archive:FILE,
    // docker://...) which is pulled first.
    Result<Image> resolve(const std::string& name_or_source, const PullOptions& o = {});
    // Imports source into the store: blobs verified, layers unpacked, record written.
    Result<Image> pull(const std::string& source, const PullOptions& o = {});
    // A pulled image by name ("busybox" matches "localhost/busybox:latest"), by full or
    // short (>= 12 hex) image id (config digest) or by manifest digest.
    Result<Image> get(const std::string& name) const;
    Result<ImageRecord> find(const std::string& name) const;
    Result<std::vector<ImageRecord>> list() const;
    // Removes the records, then garbage-collects blobs and layers no record references.
    Status remove(const std::vector<std::string>& names);
    // {"name","id","digest","created","size","config","manifest","layers":[...]} of an image.
    Result<nlohmann::json> inspect(const std::string& name) const;
    // Removes unreferenced blobs and layers, and stale temp entries. Layers held (below)
    // are kept even when no record references them any more.
    Status gc();

    // Marks img's layers as in use by holder (a container id: [A-Za-z0-9_.-]+), so that
    // `rm` and gc keep them until release(holder). Holds live in <root>/holds/<holder>.
    Status hold(const Image& img, const std::string& holder);
    // Drops holder's hold (missing is fine); the layers go at the next rm or gc.
    Status release(const std::string& holder);

    // Paths inside the store.
    std::string blob_path(std::string_view digest) const;
    std::string layer_path(std::string_view diff_id) const;

private:
    explicit Store(std::string root) : root_(std::move(root)) {}
    Result<Image> image_of(const ImageRecord& r) const;

    std::string root_;
};

// /var/lib/cove/images, overridable by env COVE_IMAGE_ROOT.
std::string default_root();

// True when s names a source (has a transport prefix) rather than a pulled image.
bool is_source(std::string_view s);

}  // namespace cove::image
