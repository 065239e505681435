// cgroup v2 io, hugetlb, rdma, unified keys, and the checks for v1-only fields.
#include <string>

#include "cgroups/files.hpp"
#include "cgroups/v2/controllers.hpp"

namespace cove::cgroups::v2 {

namespace {

std::string dev(int64_t major, int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

}  // namespace

Status check_supported(const Resources& r) {
    const char* why = ": not supported on cgroup v2";
    if (set(r.cpu.realtime_runtime)) {
        return make_error(std::string("linux.resources.cpu.realtimeRuntime") + why);
    }
    if (set(r.cpu.realtime_period)) {
        return make_error(std::string("linux.resources.cpu.realtimePeriod") + why);
    }
    if (r.network.class_id && *r.network.class_id != 0) {
        return make_error(std::string("linux.resources.network.classID") + why +
                          " (net_cls is a v1 controller)");
    }
    if (!r.network.priorities.empty()) {
        return make_error(std::string("linux.resources.network.priorities") + why +
                          " (net_prio is a v1 controller)");
    }
    return {};
}

Status set_io(CgroupFs& fs, const std::string& dir, const Resources::BlockIo& b) {
    bool bfq = file_exists(fs, join_path(dir, "io.bfq.weight"));
    if (b.weight && *b.weight != 0) {
        // BFQ takes blkio's own scale (1-1000); io.weight is 1-10000.
        std::string v = std::to_string(bfq ? *b.weight : blkio_weight_to_io_weight(*b.weight));
        COVE_TRY(write_field(fs, dir, bfq ? "io.bfq.weight" : "io.weight", v,
                             "linux.resources.blockIO.weight"),
                 "");
    }
    if (bfq) {
        for (const auto& wd : b.weight_device) {
            if (wd.weight) {
                COVE_TRY(write_field(fs, dir, "io.bfq.weight",
                                     dev(wd.major, wd.minor) + " " + std::to_string(*wd.weight),
                                     "linux.resources.blockIO.weightDevice"),
                         "");
            }
        }
    }
    struct {
        const std::vector<ThrottleDevice>* list;
        const char* key;
        const char* field;
    } limits[] = {
        {&b.throttle_read_bps, "rbps", "linux.resources.blockIO.throttleReadBpsDevice"},
        {&b.throttle_write_bps, "wbps", "linux.resources.blockIO.throttleWriteBpsDevice"},
        {&b.throttle_read_iops, "riops", "linux.resources.blockIO.throttleReadIOPSDevice"},
        {&b.throttle_write_iops, "wiops", "linux.resources.blockIO.throttleWriteIOPSDevice"},
    };
    for (const auto& l : limits) {
        for (const auto& t : *l.list) {
            // A rate of 0 removes the limit, as in v1.
            std::string rate = t.rate == 0 ? "max" : std::to_string(t.rate);
            COVE_TRY(write_field(fs, dir, "io.max",
                                 dev(t.major, t.minor) + " " + l.key + "=" + rate, l.field),
                     "");
        }
    }
    return {};
}

Status set_hugetlb(CgroupFs& fs,
                   const std::string& dir,
                   const std::vector<Resources::HugepageLimit>& limits) {
    for (const auto& h : limits) {
        std::string file = "hugetlb." + h.page_size + ".max";
        std::string field = "linux.resources.hugepageLimits[" + h.page_size + "]";
        if (!file_exists(fs, join_path(dir, file))) {
            return make_error(field + ": no " + file + " (no such huge page size, or the " +
                              "hugetlb controller is not enabled)");
        }
        COVE_TRY(write_field(fs, dir, file.c_str(), std::to_string(h.limit), field), "");
        std::string rsvd = "hugetlb." + h.page_size + ".rsvd.max";
        if (file_exists(fs, join_path(dir, rsvd))) {
            COVE_TRY(write_field(fs, dir, rsvd.c_str(), std::to_string(h.limit), field), "");
        }
    }
    return {};
}

Status set_unified(CgroupFs& fs,
                   const std::string& dir,
                   const std::map<std::string, std::string>& unified) {
    for (const auto& [key, value] : unified) {
        std::string field = "linux.resources.unified." + key;
        auto st = fs.write(join_path(dir, key), value);
        if (!st && st.error().code() == ENOENT) {
            std::string controller = key.substr(0, key.find('.'));
            return make_error(field + ": no such file in " + dir + " (is the " + controller +
                              " controller enabled?)");
        }
        COVE_TRY(std::move(st), field);
    }
    return {};
}

}  // namespace cove::cgroups::v2
