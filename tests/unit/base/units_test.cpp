// units.hpp: human_size in both styles.
#include "runtime/base/units.hpp"

#include <catch2/catch.hpp>

using cove::human_size;
using cove::SizeDigits;

TEST_CASE("human_size prints whole bytes and decimal units", "[units]") {
    CHECK(human_size(0, SizeDigits::kOneDecimal) == "0 B");
    CHECK(human_size(999, SizeDigits::kThreeSignificant) == "999 B");
    CHECK(human_size(1500, SizeDigits::kOneDecimal) == "1.5 kB");
    CHECK(human_size(1500, SizeDigits::kThreeSignificant) == "1.5 kB");
    CHECK(human_size(123456789, SizeDigits::kOneDecimal) == "123.5 MB");
    CHECK(human_size(123456789, SizeDigits::kThreeSignificant) == "123 MB");
    CHECK(human_size(int64_t{5} * 1000 * 1000 * 1000 * 1000 * 1000, SizeDigits::kOneDecimal) ==
          "5000.0 TB");
}
