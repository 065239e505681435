// The verbs of cove-host-local, as functions: the plugin binary's main() calls them, and
// cove-bridge calls them in-process when its ipam.type is "cove-host-local" (one exec fewer per
// ADD/DEL: the lease store, its lock and its format are the same either way).
#pragma once

#include "cni/skel/skel.hpp"
#include "cni/skel/types.hpp"
#include "runtime/base/error.hpp"

namespace cove::cni::ipam {

// One address from each range set (requested ones first); a failed ADD holds no lease.
Result<CniResult> host_local_add(const Request& req);
// Frees the container's leases on this network (idempotent).
Status host_local_del(const Request& req);
// The container holds a lease, and prevResult's addresses in our ranges are its own.
Status host_local_check(const Request& req);
// Frees every lease whose attachment is not in cni.dev/valid-attachments.
Status host_local_gc(const Request& req);
// Code 50 when a range set has no free address.
Status host_local_status(const Request& req);

}  // namespace cove::cni::ipam
