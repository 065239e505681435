#include "cgroups/resources.hpp"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "runtime/base/strings.hpp"

namespace cove::cgroups {

namespace {

using nlohmann::json;

// A JSON object being read, with its path for messages ("linux.resources.memory").
struct Obj {
    const json& j;
    std::string path;

    std::string field(const char* key) const { return path + "." + key; }
    const json* find(const char* key) const {
        auto it = j.find(key);
        return it == j.end() || it->is_null() ? nullptr : &*it;
    }
};

Error field_error(const std::string& path, const std::string& why) {
    return make_error(path + ": " + why);
}

template <typename T>
Result<T> to_int(const json& v, const std::string& path) {
    if (!v.is_number_integer()) {
        return field_error(path, "must be an integer");
    }
    if constexpr (std::is_unsigned_v<T>) {
        if (!v.is_number_unsigned()) {
            return field_error(path, "must be a non-negative integer");
        }
        auto u = v.get<uint64_t>();
        if (u > std::numeric_limits<T>::max()) {
            return field_error(path, "out of range (at most " +
                                         std::to_string(std::numeric_limits<T>::max()) + ")");
        }
        return static_cast<T>(u);
    } else {
        if (v.is_number_unsigned() &&
            v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            return field_error(path, "out of range");
        }
        return static_cast<T>(v.get<int64_t>());
    }
}

template <typename T>
Status get(const Obj& o, const char* key, std::optional<T>& out) {
    if (const json* v = o.find(key)) {
        COVE_ASSIGN(out, to_int<T>(*v, o.field(key)), "");
    }
    return {};
}

Status get_bool(const Obj& o, const char* key, std::optional<bool>& out) {
    if (const json* v = o.find(key)) {
        if (!v->is_boolean()) {
            return field_error(o.field(key), "must be a boolean");
        }
        out = v->get<bool>();
    }
    return {};
}

Status get_string(const Obj& o, const char* key, std::string& out) {
    if (const json* v = o.find(key)) {
        if (!v->is_string()) {
            return field_error(o.field(key), "must be a string");
        }
        out = v->get<std::string>();
    }
    return {};
}

// The member `key` of o as an object (nullopt when absent or null).
Result<std::optional<Obj>> sub(const Obj& o, const char* key) {
    const json* v = o.find(key);
    if (v == nullptr) {
        return std::optional<Obj>();
    }
    if (!v->is_object()) {
        return field_error(o.field(key), "must be an object");
    }
    return std::optional<Obj>(Obj{*v, o.field(key)});
}

Result<const json*> array(const Obj& o, const char* key) {
    const json* v = o.find(key);
    if (v != nullptr && !v->is_array()) {
        return field_error(o.field(key), "must be an array");
    }
    return v;
}

std::string at(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

Result<Obj> element(const json& arr, const std::string& path, size_t i) {
    if (!arr[i].is_object()) {
        return field_error(at(path, i), "must be an object");
    }
    return Obj{arr[i], at(path, i)};
}

Status parse_device(const Obj& o, DeviceRule& d) {
    const json* allow = o.find("allow");
    if (allow == nullptr) {
        return field_error(o.field("allow"), "is required");
    }
    if (!allow->is_boolean()) {
        return field_error(o.field("allow"), "must be a boolean");
    }
    d.allow = allow->get<bool>();
    std::string type;
    COVE_TRY(get_string(o, "type", type), "");
    if (type.empty()) {
        type = "a";
    }
    if (type != "a" && type != "b" && type != "c") {
        return field_error(o.field("type"), "unknown device type \"" + type + "\" (a, b or c)");
    }
    d.type = type[0];
    COVE_TRY(get(o, "major", d.major), "");
    COVE_TRY(get(o, "minor", d.minor), "");
    // -1 is how runc and some callers spell "any".
    for (auto* n : {&d.major, &d.minor}) {
        if (*n && **n == -1) {
            n->reset();
        }
    }
    if ((d.major && *d.major < 0) || (d.minor && *d.minor < 0)) {
        return field_error(o.field(d.major && *d.major < 0 ? "major" : "minor"),
                           "must be -1 (any) or a device number");
    }
    d.access.clear();
    COVE_TRY(get_string(o, "access", d.access), "");
    // runc: "device access at N field cannot be empty".
    if (d.access.empty()) {
        return field_error(o.field("access"), "must not be empty (a subset of \"rwm\")");
    }
    for (char c : d.access) {
        if (c != 'r' && c != 'w' && c != 'm') {
            return field_error(o.field("access"),
                               "\"" + d.access + "\" is not a subset of \"rwm\"");
        }
    }
    return {};
}

Status parse_devices(const Obj& res, Resources& r) {
    COVE_ASSIGN(const json* arr, array(res, "devices"), "");
    if (arr == nullptr) {
        return {};
    }
    for (size_t i = 0; i < arr->size(); ++i) {
        COVE_ASSIGN(Obj o, element(*arr, res.field("devices"), i), "");
        DeviceRule d;
        COVE_TRY(parse_device(o, d), "");
        r.devices.push_back(std::move(d));
    }
    return {};
}

Status parse_memory(const Obj& res, Resources::Memory& m) {
    COVE_ASSIGN(auto o, sub(res, "memory"), "");
    if (!o) {
        return {};
    }
    COVE_TRY(get(*o, "limit", m.limit), "");
    COVE_TRY(get(*o, "reservation", m.reservation), "");
    COVE_TRY(get(*o, "swap", m.swap), "");
    COVE_TRY(get(*o, "kernel", m.kernel), "");
    COVE_TRY(get(*o, "kernelTCP", m.kernel_tcp), "");
    // runc takes -1 (as the uint64 2^64-1) to mean "not set".
    std::optional<int64_t> swappiness;
    COVE_TRY(get(*o, "swappiness", swappiness), "");
    if (!swappiness) {
        if (const json* v = o->find("swappiness"); v && v->is_number_unsigned()) {
            if (v->get<uint64_t>() != std::numeric_limits<uint64_t>::max()) {
                return field_error(o->field("swappiness"),
                                   "must be between 0 and 100, not " + v->dump());
            }
        }
    } else if (*swappiness != -1) {
        if (*swappiness < 0 || *swappiness > 100) {
            return field_error(o->field("swappiness"),
                               "must be between 0 and 100, not " + std::to_string(*swappiness));
        }
        m.swappiness = static_cast<uint64_t>(*swappiness);
    }
    COVE_TRY(get_bool(*o, "disableOOMKiller", m.disable_oom_killer), "");
    COVE_TRY(get_bool(*o, "useHierarchy", m.use_hierarchy), "");
    COVE_TRY(get_bool(*o, "checkBeforeUpdate", m.check_before_update), "");
    for (auto [key, v] : {std::pair{"limit", &m.limit}, std::pair{"reservation", &m.reservation},
                          std::pair{"swap", &m.swap}}) {
        if (*v && **v < -1) {
            return field_error(o->field(key), "must be -1 (unlimited) or a number of bytes");
        }
    }
    return {};
}

Status parse_cpu(const Obj& res, Resources::Cpu& c) {
    COVE_ASSIGN(auto o, sub(res, "cpu"), "");
    if (!o) {
        return {};
    }
    COVE_TRY(get(*o, "shares", c.shares), "");
    COVE_TRY(get(*o, "quota", c.quota), "");
    COVE_TRY(get(*o, "burst", c.burst), "");
    COVE_TRY(get(*o, "period", c.period), "");
    COVE_TRY(get(*o, "realtimeRuntime", c.realtime_runtime), "");
    COVE_TRY(get(*o, "realtimePeriod", c.realtime_period), "");
    COVE_TRY(get(*o, "idle", c.idle), "");
    COVE_TRY(get_string(*o, "cpus", c.cpus), "");
    COVE_TRY(get_string(*o, "mems", c.mems), "");
    COVE_TRY(parse_cpu_list(c.cpus), o->field("cpus"));
    COVE_TRY(parse_cpu_list(c.mems), o->field("mems"));
    c.cpus = std::string(str::trim(c.cpus));
    c.mems = std::string(str::trim(c.mems));
    return {};
}

Status parse_throttle(const Obj& o, const char* key, std::vector<ThrottleDevice>& out) {
    COVE_ASSIGN(const json* arr, array(o, key), "");
    if (arr == nullptr) {
        return {};
    }
    for (size_t i = 0; i < arr->size(); ++i) {
        COVE_ASSIGN(Obj e, element(*arr, o.field(key), i), "");
        std::optional<int64_t> major, minor;
        std::optional<uint64_t> rate;
        COVE_TRY(get(e, "major", major), "");
        COVE_TRY(get(e, "minor", minor), "");
        COVE_TRY(get(e, "rate", rate), "");
        if (!major || !minor) {
            return field_error(e.field(major ? "minor" : "major"), "is required");
        }
        out.push_back({*major, *minor, rate.value_or(0)});
    }
    return {};
}

Status parse_block_io(const Obj& res, Resources::BlockIo& b) {
    COVE_ASSIGN(auto o, sub(res, "blockIO"), "");
    if (!o) {
        return {};
    }
    COVE_TRY(get(*o, "weight", b.weight), "");
    COVE_TRY(get(*o, "leafWeight", b.leaf_weight), "");
    COVE_ASSIGN(const json* arr, array(*o, "weightDevice"), "");
    for (size_t i = 0; arr != nullptr && i < arr->size(); ++i) {
        COVE_ASSIGN(Obj e, element(*arr, o->field("weightDevice"), i), "");
        std::optional<int64_t> major, minor;
        WeightDevice wd;
        COVE_TRY(get(e, "major", major), "");
        COVE_TRY(get(e, "minor", minor), "");
        if (!major || !minor) {
            return field_error(e.field(major ? "minor" : "major"), "is required");
        }
        wd.major = *major;
        wd.minor = *minor;
        COVE_TRY(get(e, "weight", wd.weight), "");
        COVE_TRY(get(e, "leafWeight", wd.leaf_weight), "");
        b.weight_device.push_back(wd);
    }
    COVE_TRY(parse_throttle(*o, "throttleReadBpsDevice", b.throttle_read_bps), "");
    COVE_TRY(parse_throttle(*o, "throttleWriteBpsDevice", b.throttle_write_bps), "");
    COVE_TRY(parse_throttle(*o, "throttleReadIOPSDevice", b.throttle_read_iops), "");
    COVE_TRY(parse_throttle(*o, "throttleWriteIOPSDevice", b.throttle_write_iops), "");
    return {};
}

// "2MB", "1GB", "64KB": digits and a unit, as the kernel names hugetlb.<size>.* files.
bool valid_page_size(const std::string& s) {
    if (s.size() < 3 || s.compare(s.size() - 1, 1, "B") != 0) {
        return false;
    }
    char unit = s[s.size() - 2];
    if (unit != 'K' && unit != 'M' && unit != 'G') {
        return false;
    }
    std::string digits = s.substr(0, s.size() - 2);
    return !digits.empty() &&
           std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status parse_hugepages(const Obj& res, Resources& r) {
    COVE_ASSIGN(const json* arr, array(res, "hugepageLimits"), "");
    for (size_t i = 0; arr != nullptr && i < arr->size(); ++i) {
        COVE_ASSIGN(Obj e, element(*arr, res.field("hugepageLimits"), i), "");
        Resources::HugepageLimit h;
        COVE_TRY(get_string(e, "pageSize", h.page_size), "");
        if (!valid_page_size(h.page_size)) {
            return field_error(e.field("pageSize"),
                               "\"" + h.page_size + "\" is not a page size like \"2MB\"");
        }
        std::optional<uint64_t> limit;
        COVE_TRY(get(e, "limit", limit), "");
        h.limit = limit.value_or(0);
        r.hugepage_limits.push_back(std::move(h));
    }
    return {};
}

Status parse_network(const Obj& res, Resources::Network& n) {
    COVE_ASSIGN(auto o, sub(res, "network"), "");
    if (!o) {
        return {};
    }
    COVE_TRY(get(*o, "classID", n.class_id), "");
    COVE_ASSIGN(const json* arr, array(*o, "priorities"), "");
    for (size_t i = 0; arr != nullptr && i < arr->size(); ++i) {
        COVE_ASSIGN(Obj e, element(*arr, o->field("priorities"), i), "");
        std::string name;
        std::optional<uint32_t> prio;
        COVE_TRY(get_string(e, "name", name), "");
        COVE_TRY(get(e, "priority", prio), "");
        if (name.empty() || name.find_first_of(" \n/") != std::string::npos) {
            return field_error(e.field("name"), "must be an interface name");
        }
        n.priorities.emplace_back(name, prio.value_or(0));
    }
    return {};
}

Status parse_rdma(const Obj& res, Resources& r) {
    COVE_ASSIGN(auto o, sub(res, "rdma"), "");
    if (!o) {
        return {};
    }
    for (const auto& [dev, v] : o->j.items()) {
        std::string path = o->path + "." + dev;
        if (!v.is_object()) {
            return field_error(path, "must be an object");
        }
        if (dev.empty() || dev.find_first_of(" \n/") != std::string::npos) {
            return field_error(path, "not a device name");
        }
        Obj e{v, path};
        Resources::Rdma rd;
        COVE_TRY(get(e, "hcaHandles", rd.hca_handles), "");
        COVE_TRY(get(e, "hcaObjects", rd.hca_objects), "");
        r.rdma[dev] = rd;
    }
    return {};
}

Status parse_unified(const Obj& res, Resources& r) {
    COVE_ASSIGN(auto o, sub(res, "unified"), "");
    if (!o) {
        return {};
    }
    for (const auto& [key, v] : o->j.items()) {
        std::string path = o->path + "." + key;
        if (key.empty() || key.find('/') != std::string::npos || key == "." ||
            key.find("..") != std::string::npos) {
            return field_error(path, "must be a cgroup file name (no '/' or '..')");
        }
        if (!v.is_string()) {
            return field_error(path, "must be a string");
        }
        r.unified[key] = v.get<std::string>();
    }
    return {};
}

}  // namespace

Result<Resources> parse_resources(const nlohmann::json& j) {
    Resources r;
    if (j.is_null()) {
        return r;
    }
    if (!j.is_object()) {
        return make_error("linux.resources: must be an object");
    }
    Obj res{j, "linux.resources"};
    COVE_TRY(parse_devices(res, r), "");
    COVE_TRY(parse_memory(res, r.memory), "");
    COVE_TRY(parse_cpu(res, r.cpu), "");
    COVE_ASSIGN(auto pids, sub(res, "pids"), "");
    if (pids) {
        COVE_TRY(get(*pids, "limit", r.pids.limit), "");
    }
    COVE_TRY(parse_block_io(res, r.block_io), "");
    COVE_TRY(parse_hugepages(res, r), "");
    COVE_TRY(parse_network(res, r.network), "");
    COVE_TRY(parse_rdma(res, r), "");
    COVE_TRY(parse_unified(res, r), "");
    return r;
}

void append_default_device_rules(Resources& r) {
    auto rule = [](char type, std::optional<int64_t> major, std::optional<int64_t> minor,
                   const char* access) {
        return DeviceRule{true, type, major, minor, access};
    };
    for (const auto& d : {
             rule('c', std::nullopt, std::nullopt, "m"),  // mknod of any device
             rule('b', std::nullopt, std::nullopt, "m"), rule('c', 1, 3, "rwm"),  // /dev/null
             rule('c', 1, 8, "rwm"),                                              // /dev/random
             rule('c', 1, 7, "rwm"),                                              // /dev/full
             rule('c', 5, 0, "rwm"),                                              // /dev/tty
             rule('c', 1, 5, "rwm"),                                              // /dev/zero
             rule('c', 1, 9, "rwm"),                                              // /dev/urandom
             rule('c', 136, std::nullopt, "rwm"),                                 // /dev/pts/*
             rule('c', 5, 2, "rwm"),                                              // /dev/ptmx
         }) {
        r.devices.push_back(d);
    }
}

std::vector<std::string> resource_warnings(const Resources& r) {
    std::vector<std::string> out;
    if (r.memory.kernel) {
        out.emplace_back(
            "linux.resources.memory.kernel: ignored (kernel memory limits are "
            "deprecated)");
    }
    if (r.memory.kernel_tcp) {
        out.emplace_back(
            "linux.resources.memory.kernelTCP: ignored (kernel memory limits are "
            "deprecated)");
    }
    return out;
}

Result<std::vector<int>> parse_cpu_list(std::string_view list) {
    std::vector<int> out;
    list = str::trim(list);
    if (list.empty()) {
        return out;
    }
    for (const auto& part : str::split(list, ',')) {
        auto dash = part.find('-');
        auto lo = str::parse_uint(part.substr(0, dash));
        auto hi = dash == std::string::npos ? lo : str::parse_uint(part.substr(dash + 1));
        if (!lo || !hi || *lo > *hi || *hi > 65535) {
            return make_error("\"" + std::string(list) + "\" is not a list like \"0-3,5\" (at \"" +
                              part + "\")");
        }
        for (uint64_t i = *lo; i <= *hi; ++i) {
            out.push_back(static_cast<int>(i));
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
    if (shares == 0) {
        return 0;
    }
    if (shares < 2) {
        shares = 2;
    }
    if (shares > 262144) {
        shares = 262144;
    }
    return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
    if (weight == 0) {
        return 0;
    }
    if (weight < 10) {
        weight = 10;
    }
    return 1 + (weight - 10) * 9999 / 990;
}

Result<std::string> memory_swap_to_v2(int64_t swap, int64_t limit) {
    // As cgroup v1: an unlimited memory without a swap value means unlimited swap too.
    if (limit == -1 && swap == 0) {
        return std::string("max");
    }
    if (swap == -1) {
        return std::string("max");
    }
    if (swap == 0) {
        return std::string();
    }
    if (limit == 0 || limit == -1) {
        return make_error("linux.resources.memory.swap: a swap limit needs a memory limit");
    }
    if (swap < limit) {
        return make_error("linux.resources.memory.swap: memory+swap (" + std::to_string(swap) +
                          ") must be >= the memory limit (" + std::to_string(limit) + ")");
    }
    return std::to_string(swap - limit);
}

}  // namespace cove::cgroups
