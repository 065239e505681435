// cgroup v1 devices and freezer.
#include "cgroups/devices.hpp"

#include <string>

#include "cgroups/files.hpp"
#include "cgroups/v1/controllers.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups::v1 {

Status set_devices(CgroupFs& fs, const std::string& dir, const std::vector<DeviceRule>& rules) {
    DevicePolicy p = device_policy(rules);
    const char* field = "linux.resources.devices";
    // Reset first ("a" clears every exception), then the exceptions in order: a later rule
    // undoes an earlier opposite one, as the kernel keeps one exception list.
    COVE_TRY(write_field(fs, dir, p.default_allow ? "devices.allow" : "devices.deny", "a", field),
             "");
    for (const auto& r : p.rules) {
        COVE_TRY(write_field(fs, dir, r.allow ? "devices.allow" : "devices.deny", v1_device_line(r),
                             field),
                 "");
    }
    return {};
}

Status set_freezer(CgroupFs& fs, const std::string& dir, bool frozen) {
    const std::string want = frozen ? "FROZEN" : "THAWED";
    const std::string file = join_path(dir, "freezer.state");
    // Freezing can take a while (tasks in uninterruptible sleep); runc writes again now and
    // then, since a FREEZING cgroup can stay stuck until asked again. About 10 s in all.
    for (int i = 0; i < 1000; ++i) {
        if (i % 50 == 0) {
            COVE_TRY(fs.write(file, want), frozen ? "freeze" : "thaw");
        }
        COVE_ASSIGN(std::string state, fs.read(file), frozen ? "freeze" : "thaw");
        if (str::trim(state) == want) {
            return {};
        }
        sleep_ms(i < 10 ? 1 : 10);
    }
    if (frozen) {
        (void)fs.write(file, "THAWED");  // do not leave it half frozen
    }
    return make_error(std::string(frozen ? "freeze" : "thaw") + ": " + file + " did not become " +
                      want);
}

Result<bool> freezer_frozen(CgroupFs& fs, const std::string& dir) {
    COVE_ASSIGN(std::string state, fs.read(join_path(dir, "freezer.state")), "freezer state");
    return str::trim(state) == "FROZEN";
}

}  // namespace cove::cgroups::v1
