// cgroup v1 pids, blkio, hugetlb, net_cls, net_prio, rdma.
#include <string>

#include "cgroups/files.hpp"
#include "cgroups/v1/controllers.hpp"

namespace cove::cgroups::v1 {

namespace {

std::string dev(int64_t major, int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

Status throttle(CgroupFs& fs,
                const std::string& dir,
                const char* file,
                const char* field,
                const std::vector<ThrottleDevice>& list) {
    for (const auto& t : list) {
        COVE_TRY(
            write_field(fs, dir, file, dev(t.major, t.minor) + " " + std::to_string(t.rate), field),
            "");
    }
    return {};
}

}  // namespace

Status set_pids(CgroupFs& fs, const std::string& dir, const Resources::Pids& p) {
    if (!set(p.limit)) {
        return {};
    }
    return write_field(fs, dir, "pids.max", max_or(*p.limit), "linux.resources.pids.limit");
}

bool blkio_set(const Resources::BlockIo& b) {
    return (b.weight && *b.weight != 0) || (b.leaf_weight && *b.leaf_weight != 0) ||
           !b.weight_device.empty() || !b.throttle_read_bps.empty() ||
           !b.throttle_write_bps.empty() || !b.throttle_read_iops.empty() ||
           !b.throttle_write_iops.empty();
}

Status set_blkio(CgroupFs& fs, const std::string& dir, const Resources::BlockIo& b) {
    // CFQ's blkio.weight is gone since 5.0; BFQ offers blkio.bfq.weight (runc falls back).
    bool cfq = file_exists(fs, join_path(dir, "blkio.weight"));
    const char* weight = cfq ? "blkio.weight" : "blkio.bfq.weight";
    const char* weight_device = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
    if (b.weight && *b.weight != 0) {
        COVE_TRY(write_field(fs, dir, weight, std::to_string(*b.weight),
                             "linux.resources.blockIO.weight"),
                 "");
    }
    if (b.leaf_weight && *b.leaf_weight != 0) {
        COVE_TRY(write_field(fs, dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight),
                             "linux.resources.blockIO.leafWeight"),
                 "");
    }
    for (const auto& wd : b.weight_device) {
        if (wd.weight) {
            COVE_TRY(write_field(fs, dir, weight_device,
                                 dev(wd.major, wd.minor) + " " + std::to_string(*wd.weight),
                                 "linux.resources.blockIO.weightDevice"),
                     "");
        }
        if (wd.leaf_weight) {
            COVE_TRY(write_field(fs, dir, "blkio.leaf_weight_device",
                                 dev(wd.major, wd.minor) + " " + std::to_string(*wd.leaf_weight),
                                 "linux.resources.blockIO.weightDevice"),
                     "");
        }
    }
    COVE_TRY(throttle(fs, dir, "blkio.throttle.read_bps_device",
                      "linux.resources.blockIO.throttleReadBpsDevice", b.throttle_read_bps),
             "");
    COVE_TRY(throttle(fs, dir, "blkio.throttle.write_bps_device",
                      "linux.resources.blockIO.throttleWriteBpsDevice", b.throttle_write_bps),
             "");
    COVE_TRY(throttle(fs, dir, "blkio.throttle.read_iops_device",
                      "linux.resources.blockIO.throttleReadIOPSDevice", b.throttle_read_iops),
             "");
    COVE_TRY(throttle(fs, dir, "blkio.throttle.write_iops_device",
                      "linux.resources.blockIO.throttleWriteIOPSDevice", b.throttle_write_iops),
             "");
    return {};
}

Status set_hugetlb(CgroupFs& fs,
                   const std::string& dir,
                   const std::vector<Resources::HugepageLimit>& limits) {
    for (const auto& h : limits) {
        std::string file = "hugetlb." + h.page_size + ".limit_in_bytes";
        std::string field = "linux.resources.hugepageLimits[" + h.page_size + "]";
        if (!file_exists(fs, join_path(dir, file))) {
            return make_error(field + ": this host has no " + h.page_size + " huge pages");
        }
        COVE_TRY(write_field(fs, dir, file.c_str(), std::to_string(h.limit), field), "");
        // Reservations are limited alike when the kernel accounts them (5.7+), as runc does.
        std::string rsvd = "hugetlb." + h.page_size + ".rsvd.limit_in_bytes";
        if (file_exists(fs, join_path(dir, rsvd))) {
            COVE_TRY(write_field(fs, dir, rsvd.c_str(), std::to_string(h.limit), field), "");
        }
    }
    return {};
}

Status set_net_cls(CgroupFs& fs, const std::string& dir, const Resources::Network& n) {
    if (!n.class_id || *n.class_id == 0) {
        return {};
    }
    return write_field(fs, dir, "net_cls.classid", std::to_string(*n.class_id),
                       "linux.resources.network.classID");
}

Status set_net_prio(CgroupFs& fs, const std::string& dir, const Resources::Network& n) {
    for (const auto& [ifname, prio] : n.priorities) {
        COVE_TRY(write_field(fs, dir, "net_prio.ifpriomap", ifname + " " + std::to_string(prio),
                             "linux.resources.network.priorities"),
                 "");
    }
    return {};
}

}  // namespace cove::cgroups::v1
