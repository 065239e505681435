#include "cgroups/resources.hpp"

namespace cove::cgroups {

Result<Resources> parse_resources(const nlohmann::json& j) {
    if (!j.is_null() && !j.is_object()) {
        return make_error("linux.resources: must be an object");
    }
    return Resources{};
}

}  // namespace cove::cgroups
