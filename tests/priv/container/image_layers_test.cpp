// image_bundle::read_image_file across overlay whiteouts (char 0:0 devices need root to make)
// and opaque directories (trusted.* xattrs need root).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"
#include "runtime/container/image_bundle.hpp"
#include "tests/helpers/temp_dir.hpp"

namespace ib = cove::image_bundle;
namespace fs = cove::fs;

TEST_CASE("a whiteout or an opaque dir in a higher layer hides the lower file") {
    if (::geteuid() != 0) {
        WARN("skipped: needs root for whiteout devices and trusted xattrs");
        return;
    }
    cove::test::TempDir t("cove-priv-img");
    std::string low = t.path + "/low", mid = t.path + "/mid", top = t.path + "/top";
    for (const auto& l : {low, mid, top}) {
        REQUIRE(fs::mkdir_p(l + "/etc").ok());
    }
    REQUIRE(fs::write_file(low + "/etc/passwd", "low", O_CREAT).ok());
    REQUIRE(fs::write_file(low + "/etc/group", "low", O_CREAT).ok());
    REQUIRE(fs::write_file(mid + "/etc/other", "mid", O_CREAT).ok());
    REQUIRE(::mknod((top + "/etc/passwd").c_str(), S_IFCHR, makedev(0, 0)) == 0);
    REQUIRE(::setxattr((mid + "/etc").c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);

    auto r = ib::read_image_file({low, mid, top}, "/etc/passwd");
    REQUIRE((r.ok() && !*r));
    r = ib::read_image_file({low, mid, top}, "/etc/group");  // opaque /etc in mid
    REQUIRE((r.ok() && !*r));
    r = ib::read_image_file({low, mid, top}, "/etc/other");
    REQUIRE((r.ok() && *r && **r == "mid"));
    r = ib::read_image_file({low, top}, "/etc/group");  // without the opaque layer
    REQUIRE((r.ok() && *r && **r == "low"));
}
