#include "image/reference.hpp"

#include "image/digest.hpp"
#include "runtime/base/strings.hpp"

namespace cove::image {
namespace {

bool is_alnum_lower(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// One path component: [a-z0-9]+ separated by '.', '_', '__' or '-'+.
bool valid_component(std::string_view c) {
    if (c.empty() || !is_alnum_lower(c.front()) || !is_alnum_lower(c.back())) {
        return false;
    }
    for (char ch : c) {
        if (!is_alnum_lower(ch) && ch != '.' && ch != '_' && ch != '-') {
            return false;
        }
    }
    return true;
}

bool valid_tag(std::string_view t) {
    if (t.empty() || t.size() > 128 || t.front() == '.' || t.front() == '-') {
        return false;
    }
    for (char c : t) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool valid_domain(std::string_view d) {
    if (d.empty()) {
        return false;
    }
    for (char c : d) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool looks_like_domain(std::string_view head) {
    return head.find('.') != std::string_view::npos || head.find(':') != std::string_view::npos ||
           head == "localhost";
}

std::string Reference::str() const {
    std::string s = repository();
    if (!tag.empty()) {
        s += ":" + tag;
    }
    if (!digest.empty()) {
        s += "@" + digest;
    }
    return s;
}

Result<Reference> parse_reference(std::string_view s, std::string_view default_domain) {
    auto bad = [&](const std::string& why) {
        return make_error("invalid reference \"" + std::string(s) + "\": " + why);
    };
    if (s.empty()) {
        return bad("empty");
    }
    Reference r;
    std::string_view rest = s;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        r.digest = std::string(rest.substr(at + 1));
        rest = rest.substr(0, at);
        if (auto st = validate_digest(r.digest); !st) {
            return bad(st.error().message());
        }
    }
    // A tag is after the last ':' that comes after the last '/' (a domain has ports).
    auto slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        r.tag = std::string(rest.substr(colon + 1));
        rest = rest.substr(0, colon);
        if (!valid_tag(r.tag)) {
            return bad("invalid tag \"" + r.tag + "\"");
        }
    }
    auto first = rest.find('/');
    if (first != std::string_view::npos) {
        std::string_view head = rest.substr(0, first);
        if (looks_like_domain(head)) {
            r.domain = std::string(head);
            rest = rest.substr(first + 1);
            if (!valid_domain(r.domain)) {
                return bad("invalid domain \"" + r.domain + "\"");
            }
        }
    }
    if (r.domain.empty()) {
        r.domain = std::string(default_domain);
    }
    if (r.domain == "index.docker.io") {
        r.domain = "docker.io";
    }
    if (rest.empty()) {
        return bad("no repository");
    }
    for (const std::string& c : str::split(rest, '/')) {
        if (!valid_component(c)) {
            return bad("invalid repository component \"" + c +
                       "\" (want lowercase letters, digits, '.', '_', '-')");
        }
    }
    r.path = std::string(rest);
    if (r.domain == "docker.io" && r.path.find('/') == std::string::npos) {
        r.path = "library/" + r.path;
    }
    if (r.tag.empty() && r.digest.empty()) {
        r.tag = "latest";
    }
    return r;
}

Result<std::string> normalize_name(std::string_view s) {
    COVE_ASSIGN(Reference r, parse_reference(s, "localhost"), "image name");
    return r.str();
}

Result<Source> parse_source(std::string_view s) {
    Source src;
    auto split_path = [&](std::string_view rest) {
        auto colon = rest.find(':');
        src.path = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) {
            src.ref = std::string(rest.substr(colon + 1));
        }
    };
    if (str::starts_with(s, "oci:")) {
        src.transport = Transport::kOciLayout;
        split_path(s.substr(4));
    } else if (str::starts_with(s, "docker-archive:")) {
        src.transport = Transport::kDockerArchive;
        split_path(s.substr(15));
    } else if (str::starts_with(s, "docker://")) {
        src.transport = Transport::kDocker;
        COVE_ASSIGN(src.remote, parse_reference(s.substr(9), "docker.io"), "source");
        return src;
    } else {
        return make_error("invalid source \"" + std::string(s) +
                          "\": want oci:DIR[:TAG], docker-archive:FILE or docker://REF");
    }
    if (src.path.empty()) {
        return make_error("invalid source \"" + std::string(s) + "\": empty path");
    }
    return src;
}

}  // namespace cove::image
