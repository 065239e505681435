// json.hpp: parse errors as "line N, column M: ...", describe() turning JSON_DIAGNOSTICS text
// into "/a/b: message", and the required()/optional() readers.
#include "runtime/base/json.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"

namespace json = cove::json;
using Catch::Matchers::StartsWith;
using json::Json;

namespace {

// The message describe() makes of what `fn` throws.
template <typename F>
std::string thrown(F fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return json::describe(e);
    }
    return "<nothing thrown>";
}

std::string parse_error(const std::string& text) {
    auto r = json::parse(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == 0);
    return r.error().message();
}

}  // namespace

TEST_CASE("parse accepts valid JSON", "[json]") {
    auto r = json::parse(R"({"a": [1, 2, {"b": null}], "c": "d"})");
    REQUIRE(r.ok());
    CHECK((*r)["a"][1] == 2);
    CHECK((*r)["c"] == "d");
    CHECK(json::parse("  42 ").value() == 42);
}

TEST_CASE("parse errors say line and column first", "[json]") {
    SECTION("an invalid literal on the first line") {
        std::string m = parse_error(R"({"a": x})");
        CHECK_THAT(m, StartsWith("line 1, column 7: syntax error"));
        CHECK(m.find("[json.exception") == std::string::npos);
        CHECK(m.find("parse error at") == std::string::npos);
    }
    SECTION("the line is counted") {
        std::string m = parse_error("{\n  \"a\": 1,\n  \"b\": ]\n}");
        CHECK_THAT(m, StartsWith("line 3, column 8: syntax error"));
    }
    SECTION("a missing comma") {
        std::string m = parse_error("{\n\"a\": 1\n\"b\": 2}");
        CHECK_THAT(m, StartsWith("line 3, column 3: syntax error"));
    }
    SECTION("end of input") {
        std::string m = parse_error(R"({"a": )");
        CHECK_THAT(m, StartsWith("line 1, column 7: syntax error"));
        CHECK(m.find("unexpected end of input") != std::string::npos);
    }
    SECTION("empty input") {
        std::string m = parse_error("");
        CHECK_THAT(m, StartsWith("line 1, column 1: syntax error"));
    }
    SECTION("trailing garbage") {
        std::string m = parse_error("{} {}");
        CHECK_THAT(m, StartsWith("line 1, column 4: syntax error"));
    }
}

TEST_CASE("parse_file names the file", "[json]") {
    char tmpl[] = "/tmp/cove-ut-json-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    std::string dir = tmpl;
    struct Cleanup {
        std::string d;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(d, ec);
        }
    } cleanup{dir};

    std::string good = dir + "/good.json";
    std::string bad = dir + "/bad.json";
    REQUIRE(cove::fs::write_file(good, R"({"k": "v"})", O_CREAT | O_TRUNC).ok());
    REQUIRE(cove::fs::write_file(bad, "{\"k\": }", O_CREAT | O_TRUNC).ok());

    auto g = json::parse_file(good);
    REQUIRE(g.ok());
    CHECK((*g)["k"] == "v");

    auto b = json::parse_file(bad);
    REQUIRE_FALSE(b.ok());
    CHECK_THAT(b.error().message(), StartsWith(bad + ": line 1, column 7: syntax error"));

    auto m = json::parse_file(dir + "/missing.json");
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code() == ENOENT);
    CHECK(m.error().message() == "open " + dir + "/missing.json");
}

TEST_CASE("describe puts the JSON path first", "[json]") {
    Json j = json::parse(R"({"process": {"args": ["sh", 1], "user": {"uid": "x"}}})").value();

    SECTION("type errors deep in an array") {
        std::string m = thrown([&] { (void)j["process"]["args"][1].get<std::string>(); });
        CHECK(m == "/process/args/1: type must be string, but is number");
    }
    SECTION("type errors in an object") {
        std::string m = thrown([&] { (void)j.at("process").at("user").at("uid").get<int>(); });
        CHECK(m == "/process/user/uid: type must be number, but is string");
    }
    SECTION("a missing key names the object that lacks it") {
        std::string m = thrown([&] { (void)j.at("process").at("cwd"); });
        CHECK(m == "/process: key 'cwd' not found");
    }
    SECTION("errors at the top have no path") {
        std::string m = thrown([&] { (void)j.at("root"); });
        CHECK(m == "key 'root' not found");
    }
    SECTION("a reader through required()") {
        std::vector<std::string> args;
        std::string m = thrown([&] { json::required(j["process"], "args", args); });
        CHECK(m == "/process/args/1: type must be string, but is number");
    }
    SECTION("JSON pointer escapes in keys are kept") {
        Json a = json::parse(R"({"annotations": {"a/b~c": 5}})").value();
        std::map<std::string, std::string> ann;
        std::string m = thrown([&] { json::required(a, "annotations", ann); });
        CHECK(m == "/annotations/a~1b~0c: type must be string, but is number");
    }
    SECTION("other exceptions are left as they are") {
        CHECK(json::describe(std::runtime_error("boom")) == "boom");
        CHECK(json::describe(std::runtime_error("")).empty());
    }
    SECTION("the nlohmann prefix goes even without a path") {
        CHECK(json::describe(std::runtime_error("[json.exception.type_error.316] bad utf-8")) ==
              "bad utf-8");
    }
}

TEST_CASE("required and optional readers", "[json]") {
    Json j = json::parse(R"({"s": "v", "n": 3, "z": null, "arr": [1, 2]})").value();

    std::string s;
    json::required(j, "s", s);
    CHECK(s == "v");
    int n = 0;
    CHECK_THROWS_AS(json::required(j, "missing", n), Json::out_of_range);
    CHECK_THROWS_AS(json::required(j, "s", n), Json::type_error);

    int kept = 7;
    json::optional(j, "missing", kept);
    CHECK(kept == 7);
    json::optional(j, "z", kept);  // null counts as absent
    CHECK(kept == 7);
    json::optional(j, "n", kept);
    CHECK(kept == 3);
    CHECK_THROWS_AS(json::optional(j, "s", kept), Json::type_error);

    std::optional<int> opt;
    json::optional(j, "missing", opt);
    CHECK_FALSE(opt.has_value());
    json::optional(j, "z", opt);
    CHECK_FALSE(opt.has_value());
    json::optional(j, "n", opt);
    CHECK(opt == 3);

    std::optional<std::vector<int>> arr;
    json::optional(j, "arr", arr);
    REQUIRE(arr.has_value());
    CHECK(*arr == std::vector<int>{1, 2});
}
