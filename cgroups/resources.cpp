#include "cgroups/resources.hpp"

#include <cctype>
#include <limits>

#include "runtime/base/strings.hpp"

namespace cove::cgroups {

namespace {

using Json = nlohmann::json;

std::string at(const std::string& parent, const char* key) { return parent + "." + key; }
std::string at(const std::string& parent, size_t index) {
    return parent + "[" + std::to_string(index) + "]";
}

const Json* find(const Json& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

Error bad(const std::string& field, const std::string& what) {
    return make_error(field + ": " + what);
}

Status read_i64(const Json& obj,
                const std::string& parent,
                const char* key,
                std::optional<int64_t>& out) {
    const Json* v = find(obj, key);
    if (v == nullptr) {
        return {};
    }
    if (v->is_number_unsigned() &&
        v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return bad(at(parent, key), v->dump() + " is out of range");
    }
    if (!v->is_number_integer()) {
        return bad(at(parent, key), v->dump() + " is not an integer");
    }
    out = v->get<int64_t>();
    return {};
}

template <typename U>
Status read_uint(const Json& obj, const std::string& parent, const char* key, std::optional<U>& out) {
    const Json* v = find(obj, key);
    if (v == nullptr) {
        return {};
    }
    if (!v->is_number_integer() || (!v->is_number_unsigned() && v->get<int64_t>() < 0)) {
        return bad(at(parent, key), v->dump() + " is not a non-negative integer");
    }
    uint64_t n = v->get<uint64_t>();
    if (n > std::numeric_limits<U>::max()) {
        return bad(at(parent, key), v->dump() + " is out of range");
    }
    out = static_cast<U>(n);
    return {};
}

Status read_bool(const Json& obj, const std::string& parent, const char* key, std::optional<bool>& out) {
    const Json* v = find(obj, key);
    if (v == nullptr) {
        return {};
    }
    if (!v->is_boolean()) {
        return bad(at(parent, key), v->dump() + " is not a boolean");
    }
    out = v->get<bool>();
    return {};
}

Status read_string(const Json& obj, const std::string& parent, const char* key, std::string& out) {
    const Json* v = find(obj, key);
    if (v == nullptr) {
        return {};
    }
    if (!v->is_string()) {
        return bad(at(parent, key), v->dump() + " is not a string");
    }
    out = v->get<std::string>();
    return {};
}

// obj[key] when it is an object (nullptr when absent); an error when it is something else.
Result<const Json*> object_at(const Json& obj, const std::string& parent, const char* key) {
    const Json* v = find(obj, key);
    if (v != nullptr && !v->is_object()) {
        return bad(at(parent, key), "must be an object");
    }
    return v;
}

Result<const Json*> array_at(const Json& obj, const std::string& parent, const char* key) {
    const Json* v = find(obj, key);
    if (v != nullptr && !v->is_array()) {
        return bad(at(parent, key), "must be an array");
    }
    return v;
}

Status check_limit(const std::string& field, const std::optional<int64_t>& v, const char* what) {
    if (v && *v < -1) {
        return bad(field, std::to_string(*v) + " is not a valid " + what);
    }
    return {};
}

Status parse_memory(const Json& r, const std::string& parent, MemoryResources& m) {
    COVE_ASSIGN(const Json* j, object_at(r, parent, "memory"), "");
    if (j == nullptr) {
        return {};
    }
    std::string p = at(parent, "memory");
    COVE_TRY(read_i64(*j, p, "limit", m.limit), "");
    COVE_TRY(read_i64(*j, p, "reservation", m.reservation), "");
    COVE_TRY(read_i64(*j, p, "swap", m.swap), "");
    COVE_TRY(read_i64(*j, p, "kernel", m.kernel), "");
    COVE_TRY(read_i64(*j, p, "kernelTCP", m.kernel_tcp), "");
    // -1 (docker's "unset" on v1) is accepted for the unsigned swappiness.
    if (const Json* s = find(*j, "swappiness"); !(s != nullptr && s->is_number_integer() &&
                                                  !s->is_number_unsigned() && *s == -1)) {
        COVE_TRY(read_uint(*j, p, "swappiness", m.swappiness), "");
    }
    COVE_TRY(read_bool(*j, p, "disableOOMKiller", m.disable_oom_killer), "");
    COVE_TRY(read_bool(*j, p, "checkBeforeUpdate", m.check_before_update), "");

    COVE_TRY(check_limit(at(p, "limit"), m.limit, "limit"), "");
    COVE_TRY(check_limit(at(p, "reservation"), m.reservation, "reservation"), "");
    COVE_TRY(check_limit(at(p, "swap"), m.swap, "swap limit"), "");
    if (m.swappiness && *m.swappiness > 100) {
        return bad(at(p, "swappiness"), std::to_string(*m.swappiness) + " is not valid (0-100)");
    }
    if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
        return bad(at(p, "swap"), std::to_string(*m.swap) + " is less than " + at(p, "limit") +
                                      " " + std::to_string(*m.limit) +
                                      " (swap is the limit of memory+swap)");
    }
    return {};
}

Status parse_cpu(const Json& r, const std::string& parent, CpuResources& c) {
    COVE_ASSIGN(const Json* j, object_at(r, parent, "cpu"), "");
    if (j == nullptr) {
        return {};
    }
    std::string p = at(parent, "cpu");
    COVE_TRY(read_uint(*j, p, "shares", c.shares), "");
    COVE_TRY(read_i64(*j, p, "quota", c.quota), "");
    COVE_TRY(read_uint(*j, p, "period", c.period), "");
    COVE_TRY(read_uint(*j, p, "burst", c.burst), "");
    COVE_TRY(read_i64(*j, p, "realtimeRuntime", c.realtime_runtime), "");
    COVE_TRY(read_uint(*j, p, "realtimePeriod", c.realtime_period), "");
    COVE_TRY(read_string(*j, p, "cpus", c.cpus), "");
    COVE_TRY(read_string(*j, p, "mems", c.mems), "");
    COVE_TRY(read_i64(*j, p, "idle", c.idle), "");
    if (!valid_cpu_list(c.cpus)) {
        return bad(at(p, "cpus"), Json(c.cpus).dump() + " is not a valid CPU list");
    }
    if (!valid_cpu_list(c.mems)) {
        return bad(at(p, "mems"), Json(c.mems).dump() + " is not a valid memory node list");
    }
    return {};
}

Status check_weight(const std::string& field, const std::optional<uint16_t>& w) {
    if (w && *w != 0 && (*w < 10 || *w > 1000)) {
        return bad(field, std::to_string(*w) + " is out of range (10-1000)");
    }
    return {};
}

Status parse_major_minor(const Json& e, const std::string& p, int64_t& major, int64_t& minor) {
    std::optional<int64_t> ma;
    std::optional<int64_t> mi;
    COVE_TRY(read_i64(e, p, "major", ma), "");
    COVE_TRY(read_i64(e, p, "minor", mi), "");
    if (!ma || !mi || *ma < 0 || *mi < 0) {
        return bad(p, "major and minor are required and must not be negative");
    }
    major = *ma;
    minor = *mi;
    return {};
}

Status parse_throttle(const Json& b,
                      const std::string& parent,
                      const char* key,
                      std::vector<ThrottleDevice>& out) {
    COVE_ASSIGN(const Json* a, array_at(b, parent, key), "");
    if (a == nullptr) {
        return {};
    }
    for (size_t i = 0; i < a->size(); ++i) {
        std::string p = at(at(parent, key), i);
        const Json& e = (*a)[i];
        if (!e.is_object()) {
            return bad(p, "must be an object");
        }
        ThrottleDevice t;
        COVE_TRY(parse_major_minor(e, p, t.major, t.minor), "");
        std::optional<uint64_t> rate;
        COVE_TRY(read_uint(e, p, "rate", rate), "");
        t.rate = rate.value_or(0);
        out.push_back(t);
    }
    return {};
}

Status parse_weight_devices(const Json& b, const std::string& parent, BlockIoResources& io) {
    COVE_ASSIGN(const Json* a, array_at(b, parent, "weightDevice"), "");
    if (a == nullptr) {
        return {};
    }
    for (size_t i = 0; i < a->size(); ++i) {
        std::string p = at(at(parent, "weightDevice"), i);
        const Json& e = (*a)[i];
        if (!e.is_object()) {
            return bad(p, "must be an object");
        }
        WeightDevice w;
        COVE_TRY(parse_major_minor(e, p, w.major, w.minor), "");
        COVE_TRY(read_uint(e, p, "weight", w.weight), "");
        COVE_TRY(read_uint(e, p, "leafWeight", w.leaf_weight), "");
        COVE_TRY(check_weight(at(p, "weight"), w.weight), "");
        COVE_TRY(check_weight(at(p, "leafWeight"), w.leaf_weight), "");
        io.weight_devices.push_back(w);
    }
    return {};
}

Status parse_block_io(const Json& r, const std::string& parent, BlockIoResources& io) {
    COVE_ASSIGN(const Json* j, object_at(r, parent, "blockIO"), "");
    if (j == nullptr) {
        return {};
    }
    std::string p = at(parent, "blockIO");
    COVE_TRY(read_uint(*j, p, "weight", io.weight), "");
    COVE_TRY(read_uint(*j, p, "leafWeight", io.leaf_weight), "");
    COVE_TRY(check_weight(at(p, "weight"), io.weight), "");
    COVE_TRY(check_weight(at(p, "leafWeight"), io.leaf_weight), "");
    COVE_TRY(parse_weight_devices(*j, p, io), "");
    COVE_TRY(parse_throttle(*j, p, "throttleReadBpsDevice", io.read_bps), "");
    COVE_TRY(parse_throttle(*j, p, "throttleWriteBpsDevice", io.write_bps), "");
    COVE_TRY(parse_throttle(*j, p, "throttleReadIOPSDevice", io.read_iops), "");
    COVE_TRY(parse_throttle(*j, p, "throttleWriteIOPSDevice", io.write_iops), "");
    return {};
}

bool valid_pagesize(const std::string& s) {
    size_t i = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
        ++i;
    }
    std::string unit = s.substr(i);
    return i > 0 && (unit == "KB" || unit == "MB" || unit == "GB" || unit == "TB");
}

Status parse_hugepages(const Json& r, const std::string& parent, std::vector<HugepageLimit>& out) {
    COVE_ASSIGN(const Json* a, array_at(r, parent, "hugepageLimits"), "");
    if (a == nullptr) {
        return {};
    }
    for (size_t i = 0; i < a->size(); ++i) {
        std::string p = at(at(parent, "hugepageLimits"), i);
        const Json& e = (*a)[i];
        if (!e.is_object()) {
            return bad(p, "must be an object");
        }
        HugepageLimit h;
        COVE_TRY(read_string(e, p, "pageSize", h.pagesize), "");
        std::optional<uint64_t> limit;
        COVE_TRY(read_uint(e, p, "limit", limit), "");
        h.limit = limit.value_or(0);
        if (!valid_pagesize(h.pagesize)) {
            return bad(at(p, "pageSize"),
                       Json(h.pagesize).dump() + " is not a valid page size (like \"2MB\")");
        }
        out.push_back(h);
    }
    return {};
}

Status parse_network(const Json& r, const std::string& parent, NetworkResources& n) {
    COVE_ASSIGN(const Json* j, object_at(r, parent, "network"), "");
    if (j == nullptr) {
        return {};
    }
    std::string p = at(parent, "network");
    COVE_TRY(read_uint(*j, p, "classID", n.class_id), "");
    COVE_ASSIGN(const Json* a, array_at(*j, p, "priorities"), "");
    for (size_t i = 0; a != nullptr && i < a->size(); ++i) {
        std::string pp = at(at(p, "priorities"), i);
        if (!(*a)[i].is_object()) {
            return bad(pp, "must be an object");
        }
        IfPriority prio;
        std::optional<uint32_t> value;
        COVE_TRY(read_string((*a)[i], pp, "name", prio.name), "");
        COVE_TRY(read_uint((*a)[i], pp, "priority", value), "");
        if (prio.name.empty()) {
            return bad(at(pp, "name"), "must not be empty");
        }
        prio.priority = value.value_or(0);
        n.priorities.push_back(prio);
    }
    return {};
}

Status parse_rdma(const Json& r, const std::string& parent, std::map<std::string, RdmaLimit>& out) {
    COVE_ASSIGN(const Json* j, object_at(r, parent, "rdma"), "");
    if (j == nullptr) {
        return {};
    }
    for (const auto& [name, e] : j->items()) {
        std::string p = at(parent, "rdma") + "." + name;
        if (!e.is_object()) {
            return bad(p, "must be an object");
        }
        RdmaLimit l;
        COVE_TRY(read_uint(e, p, "hcaHandles", l.hca_handles), "");
        COVE_TRY(read_uint(e, p, "hcaObjects", l.hca_objects), "");
        out[name] = l;
    }
    return {};
}

Status parse_unified(const Json& r, const std::string& parent, std::map<std::string, std::string>& out) {
    COVE_ASSIGN(const Json* j, object_at(r, parent, "unified"), "");
    if (j == nullptr) {
        return {};
    }
    for (const auto& [key, v] : j->items()) {
        std::string p = at(parent, "unified") + "." + key;
        if (key.empty() || key == "." || key == ".." || key.find('/') != std::string::npos) {
            return bad(at(parent, "unified"), Json(key).dump() + " must be a file name");
        }
        if (!v.is_string()) {
            return bad(p, v.dump() + " is not a string");
        }
        out[key] = v.get<std::string>();
    }
    return {};
}

Status parse_device(const Json& e, const std::string& p, DeviceRule& d) {
    if (!e.is_object()) {
        return bad(p, "must be an object");
    }
    std::optional<bool> allow;
    COVE_TRY(read_bool(e, p, "allow", allow), "");
    if (!allow) {
        return bad(at(p, "allow"), "is required");
    }
    d.allow = *allow;
    std::string type = "a";
    COVE_TRY(read_string(e, p, "type", type), "");
    if (type != "a" && type != "b" && type != "c") {
        return bad(at(p, "type"), Json(type).dump() + " is not a valid device type (a, b or c)");
    }
    d.type = type[0];
    std::optional<int64_t> major;
    std::optional<int64_t> minor;
    COVE_TRY(read_i64(e, p, "major", major), "");
    COVE_TRY(read_i64(e, p, "minor", minor), "");
    d.major = major.value_or(-1);
    d.minor = minor.value_or(-1);
    if (d.major < -1 || d.minor < -1 || d.major > UINT32_MAX || d.minor > UINT32_MAX) {
        return bad(p, "major and minor must be -1 (any) or a device number");
    }
    d.access.clear();
    COVE_TRY(read_string(e, p, "access", d.access), "");
    if (d.access.empty()) {
        return bad(at(p, "access"), "must not be empty");
    }
    for (char c : d.access) {
        if (c != 'r' && c != 'w' && c != 'm') {
            return bad(at(p, "access"),
                       Json(d.access).dump() + " is not valid (a combination of r, w and m)");
        }
    }
    return {};
}

Status parse_devices(const Json& r, const std::string& parent, Resources& res) {
    COVE_ASSIGN(const Json* a, array_at(r, parent, "devices"), "");
    if (a == nullptr) {
        return {};
    }
    res.devices.emplace();
    for (size_t i = 0; i < a->size(); ++i) {
        DeviceRule d;
        COVE_TRY(parse_device((*a)[i], at(at(parent, "devices"), i), d), "");
        res.devices->push_back(d);
    }
    return {};
}

Status parse_pids(const Json& r, const std::string& parent, std::optional<int64_t>& limit) {
    COVE_ASSIGN(const Json* j, object_at(r, parent, "pids"), "");
    if (j != nullptr) {
        COVE_TRY(read_i64(*j, at(parent, "pids"), "limit", limit), "");
    }
    return {};
}

}  // namespace

std::string DeviceRule::to_string() const {
    auto num = [](int64_t n) { return n < 0 ? std::string("*") : std::to_string(n); };
    return std::string(1, type) + " " + num(major) + ":" + num(minor) + " " + access;
}

Result<Resources> parse_resources(const nlohmann::json& j) {
    Resources r;
    if (j.is_null()) {
        return r;
    }
    const std::string p = kResourcesField;
    if (!j.is_object()) {
        return bad(p, "must be an object");
    }
    COVE_TRY(parse_memory(j, p, r.memory), "");
    COVE_TRY(parse_cpu(j, p, r.cpu), "");
    COVE_TRY(parse_pids(j, p, r.pids_limit), "");
    COVE_TRY(parse_block_io(j, p, r.block_io), "");
    COVE_TRY(parse_hugepages(j, p, r.hugepage_limits), "");
    COVE_TRY(parse_network(j, p, r.network), "");
    COVE_TRY(parse_rdma(j, p, r.rdma), "");
    COVE_TRY(parse_unified(j, p, r.unified), "");
    COVE_TRY(parse_devices(j, p, r), "");
    return r;
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
    if (shares == 0) {
        return 0;
    }
    // The kernel clamps shares to [2, 262144]; so does this, so that 1 does not underflow.
    if (shares < 2) {
        shares = 2;
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

Result<int64_t> memory_swap_to_v2(int64_t swap, int64_t limit) {
    // Unlimited memory without a swap setting: unlimited swap too, as on v1.
    if (limit == -1 && swap == 0) {
        return int64_t{-1};
    }
    if (swap == -1 || swap == 0) {
        return swap;
    }
    if (limit == 0 || limit == -1) {
        return make_error("unable to set swap limit without memory limit");
    }
    if (limit < 0) {
        return make_error("invalid memory value: " + std::to_string(limit));
    }
    if (swap < limit) {
        return make_error("memory+swap limit should be >= memory limit");
    }
    return swap - limit;
}

std::string v2_limit(int64_t value) {
    if (value == 0) {
        return "";
    }
    if (value == -1) {
        return "max";
    }
    return std::to_string(value);
}

std::optional<std::vector<uint16_t>> parse_cpu_list(std::string_view s) {
    std::vector<uint16_t> out;
    s = str::trim(s);
    if (s.empty()) {
        return out;
    }
    for (const auto& part : str::split(s, ',')) {
        auto dash = part.find('-');
        auto lo = str::parse_uint(part.substr(0, dash));
        auto hi = dash == std::string::npos ? lo : str::parse_uint(part.substr(dash + 1));
        if (!lo || !hi || *lo > *hi || *hi > 65535 ||
            std::isdigit(static_cast<unsigned char>(part[0])) == 0) {
            return std::nullopt;
        }
        for (uint64_t n = *lo; n <= *hi; ++n) {
            out.push_back(static_cast<uint16_t>(n));
        }
    }
    return out;
}

bool valid_cpu_list(std::string_view s) { return parse_cpu_list(s).has_value(); }

}  // namespace cove::cgroups
