#include "cni/ipam/config.hpp"

#include <algorithm>

#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cni::ipam {

using json::Json;

bool Range::contains(const IpAddr& a) const {
    return subnet.contains(a) && a >= start && a <= end;
}

bool Range::allocatable(const IpAddr& a) const {
    if (!contains(a) || a == gateway || a == subnet.network()) {
        return false;
    }
    return !(a.is_v4() && a == subnet.last());
}

std::string Range::to_string() const {
    return start.to_string() + "-" + end.to_string();
}

const Range* range_for(const RangeSet& set, const IpAddr& a) {
    for (const auto& r : set) {
        if (r.contains(a)) {
            return &r;
        }
    }
    return nullptr;
}

std::string range_set_string(const RangeSet& set) {
    std::string s;
    for (const auto& r : set) {
        s += (s.empty() ? "" : ",") + r.to_string();
    }
    return s;
}

namespace {

Error bad(std::string msg) {
    return cni_error(kErrInvalidNetworkConfig, std::move(msg));
}

}  // namespace

Status canonicalize(Range* r) {
    const int bits = r->subnet.ip.bits();
    if (r->subnet.prefix > bits - 2) {
        return bad("subnet: network " + r->subnet.to_string() + " is too small to allocate from");
    }
    if (r->subnet.ip != r->subnet.network()) {
        return bad("subnet: " + r->subnet.to_string() + " has host bits set (the network is " +
                   IpNet{r->subnet.network(), r->subnet.prefix}.to_string() + ")");
    }
    auto check_in = [&](const IpAddr& a, const char* field) -> Status {
        if (!r->subnet.contains(a)) {
            return bad(std::string(field) + ": " + a.to_string() + " is not in network " +
                       r->subnet.to_string());
        }
        return ok_status();
    };
    COVE_TRY(check_in(r->start, "rangeStart"), "");
    COVE_TRY(check_in(r->end, "rangeEnd"), "");
    if (r->start > r->end) {
        return bad("rangeStart " + r->start.to_string() + " is after rangeEnd " +
                   r->end.to_string());
    }
    if (r->gateway.family != r->subnet.ip.family) {
        return bad("gateway: " + r->gateway.to_string() + " is not of the subnet's family");
    }
    return ok_status();
}

Result<Range> parse_range(const Json& j) {
    if (!j.is_object()) {
        return bad("range: not an object");
    }
    auto get_str = [&](const char* k) -> std::string {
        auto it = j.find(k);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    for (const char* k : {"subnet", "rangeStart", "rangeEnd", "gateway"}) {
        auto it = j.find(k);
        if (it != j.end() && !it->is_null() && !it->is_string()) {
            return bad(std::string(k) + ": not a string");
        }
    }
    std::string subnet = get_str("subnet");
    if (subnet.empty()) {
        return bad("subnet: missing");
    }
    auto net = IpNet::parse(subnet);
    if (!net) {
        return bad("subnet: invalid CIDR \"" + subnet + "\"");
    }
    Range r;
    r.subnet = *net;
    auto ip_field = [&](const char* k, IpAddr* out, const IpAddr& dflt) -> Status {
        std::string s = get_str(k);
        if (s.empty()) {
            *out = dflt;
            return ok_status();
        }
        auto a = IpAddr::parse(s);
        if (!a) {
            return bad(std::string(k) + ": invalid IP address \"" + s + "\"");
        }
        *out = *a;
        return ok_status();
    };
    IpAddr first = net->network().next();
    IpAddr last = net->last();
    if (last.is_v4()) {
        last = last.prev();  // never the broadcast address
    }
    COVE_TRY(ip_field("gateway", &r.gateway, first), "");
    COVE_TRY(ip_field("rangeStart", &r.start, first), "");
    COVE_TRY(ip_field("rangeEnd", &r.end, last), "");
    COVE_TRY(canonicalize(&r), "");
    return r;
}

namespace {

Result<RangeSet> parse_range_set(const Json& j, size_t idx) {
    std::string ctx = "ranges[" + std::to_string(idx) + "]";
    if (!j.is_array() || j.empty()) {
        return bad(ctx + ": not a non-empty list of ranges");
    }
    RangeSet set;
    for (size_t i = 0; i < j.size(); ++i) {
        COVE_ASSIGN(Range r, parse_range(j[i]), ctx + "[" + std::to_string(i) + "]");
        for (const auto& o : set) {
            if (o.subnet.ip.family != r.subnet.ip.family) {
                return bad(ctx + ": mixed address families");
            }
            if (o.subnet.overlaps(r.subnet) && !(r.end < o.start || o.end < r.start)) {
                return bad(ctx + ": ranges " + o.to_string() + " and " + r.to_string() +
                           " overlap");
            }
        }
        set.push_back(r);
    }
    return set;
}

Result<std::vector<RangeSet>> parse_range_sets(const Json& j) {
    if (!j.is_array()) {
        return bad("ranges: not a list");
    }
    std::vector<RangeSet> sets;
    for (size_t i = 0; i < j.size(); ++i) {
        COVE_ASSIGN(RangeSet s, parse_range_set(j[i], i), "");
        sets.push_back(std::move(s));
    }
    return sets;
}

Status check_disjoint(const std::vector<RangeSet>& sets) {
    for (size_t i = 0; i < sets.size(); ++i) {
        for (size_t k = i + 1; k < sets.size(); ++k) {
            for (const auto& a : sets[i]) {
                for (const auto& b : sets[k]) {
                    if (a.subnet.overlaps(b.subnet) && !(a.end < b.start || b.end < a.start)) {
                        return bad("ranges: range set " + std::to_string(i) +
                                   " overlaps with range set " + std::to_string(k));
                    }
                }
            }
        }
    }
    return ok_status();
}

// "10.1.2.3" or "10.1.2.3/24" (the prefix is ignored: the range decides it).
Status add_requested(std::string_view text, const char* from, std::vector<IpAddr>* out) {
    auto n = IpNet::parse(text, true);
    if (!n) {
        return bad(std::string(from) + ": invalid IP address \"" + std::string(text) + "\"");
    }
    if (std::find(out->begin(), out->end(), n->ip) == out->end()) {
        out->push_back(n->ip);
    }
    return ok_status();
}

Status load_requested(const Request& req, HostLocalConfig* c) {
    if (auto ip = req.cni_arg("IP")) {
        for (const auto& s : str::split(*ip, ',')) {
            if (!s.empty()) {
                auto st = add_requested(s, "CNI_ARGS IP", &c->requested);
                if (!st) {
                    return cni_error(kErrInvalidEnv, st.error().message());
                }
            }
        }
    }
    for (const auto& s : req.conf.args_cni_ips) {
        COVE_TRY(add_requested(s, "args.cni.ips", &c->requested), "");
    }
    for (const auto& s : req.conf.runtime_ips) {
        COVE_TRY(add_requested(s, "runtimeConfig.ips", &c->requested), "");
    }
    return ok_status();
}

Status load_ranges(const Json& ipam, const Request& req, HostLocalConfig* c) {
    if (auto it = ipam.find("subnet"); it != ipam.end() && !it->is_null()) {
        COVE_ASSIGN(Range r, parse_range(ipam), "");
        c->range_sets.push_back({r});
    }
    if (auto it = ipam.find("ranges"); it != ipam.end() && !it->is_null()) {
        COVE_ASSIGN(auto sets, parse_range_sets(*it), "");
        for (auto& s : sets) {
            c->range_sets.push_back(std::move(s));
        }
    }
    // The "ipRanges" capability replaces the configured ranges.
    if (req.conf.runtime_config.is_object()) {
        if (auto it = req.conf.runtime_config.find("ipRanges");
            it != req.conf.runtime_config.end() && it->is_array() && !it->empty()) {
            COVE_ASSIGN(c->range_sets, parse_range_sets(*it), "runtimeConfig.ipRanges");
        }
    }
    if (c->range_sets.empty()) {
        return bad("no IP ranges specified (ranges or subnet)");
    }
    return check_disjoint(c->range_sets);
}

}  // namespace

Dns parse_resolv_conf(std::string_view text) {
    Dns d;
    for (const auto& raw : str::split(text, '\n')) {
        std::string_view line = str::trim(raw);
        if (line.empty() || line[0] == '#' || line[0] == ';') {
            continue;
        }
        std::vector<std::string> f;
        for (auto& w : str::split(line, ' ')) {
            for (auto& w2 : str::split(w, '\t')) {
                if (!w2.empty()) {
                    f.push_back(std::move(w2));
                }
            }
        }
        if (f.size() < 2) {
            continue;
        }
        if (f[0] == "nameserver") {
            d.nameservers.push_back(f[1]);
        } else if (f[0] == "domain") {
            d.domain = f[1];
        } else if (f[0] == "search") {
            d.search.assign(f.begin() + 1, f.end());
        } else if (f[0] == "options") {
            d.options.insert(d.options.end(), f.begin() + 1, f.end());
        }
    }
    return d;
}

Result<HostLocalConfig> load_config(const Request& req) {
    HostLocalConfig c;
    c.name = req.conf.name;
    const Json& ipam = req.conf.ipam;
    if (!ipam.is_object()) {
        return bad("ipam: missing");
    }
    try {
        json::optional(ipam, "dataDir", c.data_dir);
        if (c.data_dir.empty()) {
            c.data_dir = kDefaultDataDir;
        }
        COVE_TRY(load_ranges(ipam, req, &c), "ipam");
        if (auto it = ipam.find("routes"); it != ipam.end() && !it->is_null()) {
            for (const auto& r : *it) {
                COVE_ASSIGN(Route rt, decode_route(r), "ipam: routes");
                c.routes.push_back(rt);
            }
        }
        std::string resolv;
        json::optional(ipam, "resolvConf", resolv);
        if (!resolv.empty()) {
            auto text = fs::read_file(resolv);
            if (!text) {
                return cni_error(kErrInvalidNetworkConfig,
                                 "ipam: resolvConf: " + text.error().to_string());
            }
            c.dns = parse_resolv_conf(*text);
        }
    } catch (const std::exception& e) {
        return bad("ipam: " + json::describe(e));
    }
    COVE_TRY(req.check_cni_args({"IP"}), "");
    COVE_TRY(load_requested(req, &c), "");
    return c;
}

}  // namespace cove::cni::ipam
