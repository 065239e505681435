// Importing one image from a source into the store: the transport-specific part (a
// SourceReader: OCI layout, docker-archive, registry) hands out the top manifest and blobs;
// the shared part picks the platform from an index, stores the manifest, config and layer
// blobs verified, unpacks each layer once (by diffID) and builds the record.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "image/image.hpp"
#include "image/reference.hpp"

namespace cove::image {

struct Descriptor {
    std::string media_type;
    std::string digest;
    int64_t size = -1;
};

// What a transport provides. The caller (import) verifies every byte against digests.
class SourceReader {
public:
    virtual ~SourceReader() = default;
    // The top manifest or index (raw bytes) and its media type; `digest` is set when the
    // source knows it (index.json descriptor, @digest reference), else empty.
    virtual Status top_manifest(std::string& body,
                                std::string& media_type,
                                std::string& digest) = 0;
    // A manifest by digest (a platform's manifest of an index).
    virtual Result<std::string> manifest(const Descriptor& d) = 0;
    // Makes the blob present in the store (verified); no-op when it is already there.
    virtual Status fetch_blob(const std::string& root, const Descriptor& d) = 0;
    // The name to record the image under when PullOptions::name is empty.
    virtual Result<std::string> default_name() = 0;
};

Result<std::unique_ptr<SourceReader>> open_oci_layout(const Source& s);
Result<std::unique_ptr<SourceReader>> open_docker_archive(const Source& s, const std::string& root);
Result<std::unique_ptr<SourceReader>> open_registry(const Source& s, const PullOptions& o);

// Imports src; the caller holds the store's exclusive lock and writes the record.
Result<ImageRecord> import_image(const std::string& root, const Source& src, const PullOptions& o);

// The host's platform, "linux/amd64".
std::string host_platform();

}  // namespace cove::image
