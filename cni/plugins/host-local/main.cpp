// cove-host-local: the IPAM plugin cove-bridge (and the reference plugins) delegate to. It
// keeps leases in the reference host-local's on-disk format (see cni/ipam/store.hpp), so it can
// replace /usr/lib/cni/host-local on a node with live leases. The verbs: cni/ipam/host_local.
#include "cni/ipam/host_local.hpp"
#include "cni/skel/skel.hpp"

int main() {
    using namespace cove::cni;
    Plugin p;
    p.about = "cove-host-local " COVE_VERSION;
    p.add = ipam::host_local_add;
    p.del = ipam::host_local_del;
    p.check = ipam::host_local_check;
    p.gc = ipam::host_local_gc;
    p.status = ipam::host_local_status;
    return plugin_main(p);
}
