#include "image/import.hpp"

namespace cove::image {

std::string host_platform() {
    return "linux/amd64";
}

Result<ImageRecord> import_image(const std::string& root, const Source& src, const PullOptions& o) {
    (void)root;
    (void)src;
    (void)o;
    return make_error("not implemented yet");
}

}  // namespace cove::image
