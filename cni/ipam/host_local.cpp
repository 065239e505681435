#include "cni/ipam/host_local.hpp"

#include <cerrno>
#include <optional>

#include "cni/ipam/allocator.hpp"
#include "cni/ipam/config.hpp"
#include "cni/ipam/store.hpp"

namespace cove::cni::ipam {

namespace {

// The store of an existing network, or nullopt when nothing was ever allocated on it.
Result<std::optional<Store>> open_existing(const HostLocalConfig& c) {
    auto s = Store::open(c.data_dir, c.name, false);
    if (!s) {
        if (s.error().code() == ENOENT) {
            return std::optional<Store>();
        }
        return std::move(s).error();
    }
    COVE_TRY(s->lock(), "");
    return std::optional<Store>(std::move(*s));
}

}  // namespace

Result<CniResult> host_local_add(const Request& req) {
    COVE_ASSIGN(HostLocalConfig c, load_config(req), "");
    COVE_ASSIGN(Store store, Store::open(c.data_dir, c.name, true), "");
    COVE_TRY(store.lock(), "");

    CniResult res;
    std::vector<IpAddr> requested = c.requested;
    std::vector<IpAddr> reserved;
    // A failed ADD holds no lease: release what this call reserved, then report.
    auto fail = [&](Error e) -> Error {
        for (const auto& ip : reserved) {
            (void)store.release(ip);
        }
        return e;
    };
    for (size_t i = 0; i < c.range_sets.size(); ++i) {
        std::optional<IpAddr> want;
        for (auto it = requested.begin(); it != requested.end(); ++it) {
            if (range_for(c.range_sets[i], *it) != nullptr) {
                want = *it;
                requested.erase(it);
                break;
            }
        }
        Allocator alloc(c.range_sets[i], store, static_cast<int>(i));
        auto ip = alloc.get(req.container_id, req.ifname, want);
        if (!ip) {
            return fail(
                std::move(ip).error().wrap("failed to allocate for range " + std::to_string(i)));
        }
        reserved.push_back(ip->address.ip);
        res.ips.push_back(*ip);
    }
    if (!requested.empty()) {
        std::string list;
        for (const auto& ip : requested) {
            list += " " + ip.to_string();
        }
        return fail(
            cni_error(kErrInvalidNetworkConfig,
                      "failed to allocate all requested IPs (not in any range set):" + list));
    }
    res.routes = c.routes;
    res.dns = c.dns;
    return res;
}

Status host_local_del(const Request& req) {
    COVE_ASSIGN(HostLocalConfig c, load_config(req), "");
    COVE_ASSIGN(auto store, open_existing(c), "");
    if (store) {
        COVE_ASSIGN(int n, store->release_by_id(req.container_id, req.ifname), "");
        (void)n;
    }
    return ok_status();
}

Status host_local_check(const Request& req) {
    COVE_ASSIGN(HostLocalConfig c, load_config(req), "");
    COVE_ASSIGN(auto store, open_existing(c), "");
    std::vector<Lease> leases;
    if (store) {
        COVE_ASSIGN(leases, store->leases(), "");
    }
    auto held = [&](const IpAddr& ip) {
        for (const auto& l : leases) {
            if (l.ip == ip && l.container_id == req.container_id && l.ifname == req.ifname) {
                return true;
            }
        }
        return false;
    };
    bool any = false;
    for (const auto& l : leases) {
        any = any || (l.container_id == req.container_id && l.ifname == req.ifname);
    }
    if (!any) {
        return make_error("host-local: no address is allocated to " + req.container_id + "/" +
                          req.ifname + " on network " + c.name);
    }
    if (req.conf.prev_result) {
        for (const auto& ip : req.conf.prev_result->ips) {
            bool ours = false;
            for (const auto& set : c.range_sets) {
                ours = ours || range_for(set, ip.address.ip) != nullptr;
            }
            if (ours && !held(ip.address.ip)) {
                return make_error("host-local: " + ip.address.ip.to_string() +
                                  " from prevResult is not allocated to " + req.container_id + "/" +
                                  req.ifname);
            }
        }
    }
    return ok_status();
}

Status host_local_gc(const Request& req) {
    COVE_ASSIGN(HostLocalConfig c, load_config(req), "");
    COVE_ASSIGN(auto store, open_existing(c), "");
    if (!store) {
        return ok_status();
    }
    COVE_ASSIGN(auto leases, store->leases(), "");
    for (const auto& l : leases) {
        bool valid = false;
        for (const auto& a : req.conf.valid_attachments) {
            // Leases from host-local before 0.7 hold only the container id.
            valid = valid || (a.container_id == l.container_id &&
                              (l.ifname.empty() || a.ifname == l.ifname));
        }
        if (!valid) {
            COVE_TRY(store->release(l.ip), "gc");
        }
    }
    return ok_status();
}

// Not ready when some range set has no free address: every ADD needs one from each set.
// Existing attachments keep working, so this is 50 (not available), not 51.
Status host_local_status(const Request& req) {
    COVE_ASSIGN(HostLocalConfig c, load_config(req), "");
    COVE_ASSIGN(auto store, open_existing(c), "");
    if (!store) {
        return ok_status();
    }
    for (size_t i = 0; i < c.range_sets.size(); ++i) {
        Allocator alloc(c.range_sets[i], *store, static_cast<int>(i));
        COVE_ASSIGN(uint64_t n, alloc.free_count(), "");
        if (n == 0) {
            return cni_error(kErrPluginNotAvailable, "host-local: no free addresses in range set " +
                                                         std::to_string(i) + " (" +
                                                         range_set_string(c.range_sets[i]) + ")");
        }
    }
    return ok_status();
}

}  // namespace cove::cni::ipam
