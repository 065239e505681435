#include "runtime/base/units.hpp"

#include <cstdio>

namespace cove {

std::string human_size(int64_t n, SizeDigits digits) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        ++u;
    }
    char buf[32];
    if (u == 0) {
        std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
    } else if (digits == SizeDigits::kOneDecimal) {
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    } else {
        std::snprintf(buf, sizeof buf, "%.3g %s", v, units[u]);
    }
    return buf;
}

}  // namespace cove
