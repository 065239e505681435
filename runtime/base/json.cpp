#include "runtime/base/json.hpp"

#include "runtime/base/fs.hpp"

namespace cove::json {

std::string describe(const std::exception& e) {
    std::string s = e.what();
    if (s.rfind("[json.exception.", 0) == 0) {
        auto close = s.find("] ");
        if (close != std::string::npos) {
            s = s.substr(close + 2);
        }
    }
    // JSON_DIAGNOSTICS renders "(/a/b) message"; make it "/a/b: message".
    if (!s.empty() && s[0] == '(') {
        auto close = s.find(") ");
        if (close != std::string::npos) {
            std::string path = s.substr(1, close - 1);
            s = path + ": " + s.substr(close + 2);
        }
    }
    return s;
}

Result<Json> parse(std::string_view text) {
    try {
        return Json::parse(text);
    } catch (const std::exception& e) {
        std::string msg = describe(e);
        if (auto p = msg.find("parse error at "); p != std::string::npos) {
            msg = msg.substr(p + 15);
        }
        return make_error(msg);
    }
}

Result<Json> parse_file(const std::string& path) {
    COVE_ASSIGN(std::string text, fs::read_file(path), "");
    COVE_ASSIGN(Json j, parse(text), path);
    return j;
}

}  // namespace cove::json
