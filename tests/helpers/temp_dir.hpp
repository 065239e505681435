// TempDir: a fresh directory under /tmp for one test, removed with everything in it at the
// end of the scope. For Catch2 tests only (REQUIRE on mkdtemp).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include <catch2/catch.hpp>

namespace cove::test {

struct TempDir {
    std::string path;
    explicit TempDir(const std::string& prefix = "cove-test") {
        std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace cove::test
