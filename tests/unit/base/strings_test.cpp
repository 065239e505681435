// strings.hpp: split, join, checked integer parsing, trim, starts_with.
#include "runtime/base/strings.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace str = cove::str;
using Strings = std::vector<std::string>;

TEST_CASE("split keeps empty fields", "[strings]") {
    CHECK(str::split("a,b,c", ',') == Strings{"a", "b", "c"});
    CHECK(str::split("a,,b", ',') == Strings{"a", "", "b"});
    CHECK(str::split(",a,", ',') == Strings{"", "a", ""});
    CHECK(str::split("", ',') == Strings{""});
    CHECK(str::split("abc", ',') == Strings{"abc"});
    CHECK(str::split(":", ':') == Strings{"", ""});
    CHECK(str::split("/usr/bin::/bin", ':') == Strings{"/usr/bin", "", "/bin"});
}

TEST_CASE("join is the inverse of split", "[strings]") {
    CHECK(str::join({}, ",").empty());
    CHECK(str::join({"a"}, ",") == "a");
    CHECK(str::join({"a", "b", "c"}, ", ") == "a, b, c");
    CHECK(str::join({"", ""}, ":") == ":");
    for (const char* s : {"a,b", "", ",", "x,,y,"}) {
        INFO(s);
        CHECK(str::join(str::split(s, ','), ",") == s);
    }
}

TEST_CASE("parse_int accepts whole decimal int64 only", "[strings]") {
    CHECK(str::parse_int("0") == 0);
    CHECK(str::parse_int("42") == 42);
    CHECK(str::parse_int("-17") == -17);
    CHECK(str::parse_int("007") == 7);
    CHECK(str::parse_int("9223372036854775807") == std::numeric_limits<int64_t>::max());
    CHECK(str::parse_int("-9223372036854775808") == std::numeric_limits<int64_t>::min());

    CHECK_FALSE(str::parse_int("").has_value());
    CHECK_FALSE(str::parse_int("-").has_value());
    CHECK_FALSE(str::parse_int("9223372036854775808").has_value());
    CHECK_FALSE(str::parse_int("-9223372036854775809").has_value());
    CHECK_FALSE(str::parse_int("12a").has_value());
    CHECK_FALSE(str::parse_int("a12").has_value());
    CHECK_FALSE(str::parse_int(" 1").has_value());
    CHECK_FALSE(str::parse_int("1 ").has_value());
    CHECK_FALSE(str::parse_int("1\n").has_value());
    CHECK_FALSE(str::parse_int("1.5").has_value());
    CHECK_FALSE(str::parse_int("0x10").has_value());
}

TEST_CASE("parse_uint accepts whole decimal uint64 only", "[strings]") {
    CHECK(str::parse_uint("0") == 0u);
    CHECK(str::parse_uint("65536") == 65536u);
    CHECK(str::parse_uint("18446744073709551615") == std::numeric_limits<uint64_t>::max());

    CHECK_FALSE(str::parse_uint("").has_value());
    CHECK_FALSE(str::parse_uint("-1").has_value());
    CHECK_FALSE(str::parse_uint("18446744073709551616").has_value());
    CHECK_FALSE(str::parse_uint("1k").has_value());
    CHECK_FALSE(str::parse_uint(" 1").has_value());
    CHECK_FALSE(str::parse_uint("max").has_value());
}

TEST_CASE("parse_int reads only the view it is given", "[strings]") {
    std::string s = "12345";
    CHECK(str::parse_int(std::string_view(s).substr(0, 2)) == 12);
    CHECK(str::parse_uint(std::string_view(s).substr(3)) == 45u);
}

TEST_CASE("trim strips spaces, tabs and newlines at both ends", "[strings]") {
    CHECK(str::trim("  a b \n") == "a b");
    CHECK(str::trim("\t\nx\t") == "x");
    CHECK(str::trim("").empty());
    CHECK(str::trim(" \n\t ").empty());
    CHECK(str::trim("none") == "none");
    CHECK(str::trim("max\n") == "max");
}

TEST_CASE("starts_with", "[strings]") {
    CHECK(str::starts_with("cgroup2", "cgroup"));
    CHECK(str::starts_with("abc", ""));
    CHECK(str::starts_with("abc", "abc"));
    CHECK_FALSE(str::starts_with("ab", "abc"));
    CHECK_FALSE(str::starts_with("xabc", "abc"));
    CHECK_FALSE(str::starts_with("", "a"));
}
