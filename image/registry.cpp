#include "image/registry.hpp"

#include <curl/curl.h>

#include <memory>

#include "image/blobs.hpp"
#include "image/digest.hpp"
#include "image/import.hpp"
#include "image/media.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/strings.hpp"

namespace cove::image {
namespace {

std::string lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

std::string base64(std::string_view in) {
    static const char kTab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                     static_cast<uint8_t>(in[i + 2]);
        out += kTab[(v >> 18) & 63];
        out += kTab[(v >> 12) & 63];
        out += kTab[(v >> 6) & 63];
        out += kTab[v & 63];
    }
    if (i + 1 == in.size()) {
        uint32_t v = static_cast<uint8_t>(in[i]) << 16;
        out += kTab[(v >> 18) & 63];
        out += kTab[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
        out += kTab[(v >> 18) & 63];
        out += kTab[(v >> 12) & 63];
        out += kTab[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

bool is_loopback(std::string_view host) {
    return host == "localhost" || str::starts_with(host, "127.") || host == "[::1]";
}

struct Response {
    long status = 0;
    std::map<std::string, std::string> headers;  // lowercased names
    std::string body;                            // when no sink, or on errors
};

using CurlPtr = std::unique_ptr<CURL, void (*)(CURL*)>;
using SlistPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

struct Transfer {
    CURL* curl = nullptr;
    Response* resp = nullptr;
    BlobWriter* sink = nullptr;
    Status sink_status;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    if (str::starts_with(line, "HTTP/")) {
        t->resp->headers.clear();  // a new response (after a redirect)
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        t->resp->headers[lower(std::string(line.substr(0, colon)))] =
            std::string(str::trim(line.substr(colon + 1)));
    }
    return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (t->sink != nullptr && code == 200) {
        t->sink_status = t->sink->write(data, size * n);
        return t->sink_status ? size * n : 0;
    }
    if (t->resp->body.size() < (64 << 20)) {
        t->resp->body.append(data, size * n);
    }
    return size * n;
}

std::string registry_error(const Response& r) {
    auto j = json::parse(r.body);
    std::string msg = "HTTP " + std::to_string(r.status);
    if (j && j->is_object() && j->contains("errors") && (*j)["errors"].is_array() &&
        !(*j)["errors"].empty()) {
        const auto& e = (*j)["errors"][0];
        msg += ": " + e.value("code", "") + ": " + e.value("message", "");
    }
    return msg;
}

std::string url_escape(const std::string& s) {
    std::string out;
    static const char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : s) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

class RegistryReader : public SourceReader {
public:
    RegistryReader(Reference ref, PullOptions o)
        : ref_(std::move(ref)),
          o_(std::move(o)),
          base_(registry_base_url(ref_, !o_.ca_file.empty())) {}

    Status top_manifest(std::string& body, std::string& media_type, std::string& digest) override {
        std::string tag_or_digest = ref_.digest.empty() ? ref_.tag : ref_.digest;
        COVE_ASSIGN(Response r, get_manifest(tag_or_digest), "");
        body = std::move(r.body);
        media_type = r.headers["content-type"];
        media_type = media_type.substr(0, media_type.find(';'));
        digest = ref_.digest.empty() ? r.headers["docker-content-digest"] : ref_.digest;
        if (!digest.empty()) {
            COVE_TRY(validate_digest(digest), "Docker-Content-Digest");
        }
        return ok_status();
    }

    Result<std::string> manifest(const Descriptor& d) override {
        COVE_ASSIGN(Response r, get_manifest(d.digest), "");
        return std::move(r.body);
    }

    Status fetch_blob(const std::string& root, const Descriptor& d) override {
        if (fs::exists(blob_file(root, d.digest))) {
            return ok_status();
        }
        COVE_ASSIGN(BlobWriter w, BlobWriter::create(root), "");
        COVE_ASSIGN(Response r, request(url("blobs/" + d.digest), "", &w), "");
        COVE_TRY(w.commit(d.digest, d.size), "");
        return ok_status();
    }

    Result<std::string> default_name() override { return ref_.str(); }

private:
    std::string url(const std::string& tail) const {
        return base_ + "/v2/" + ref_.path + "/" + tail;
    }

    Result<Response> get_manifest(const std::string& tag_or_digest) {
        std::string accept =
            std::string(media::kOciIndex) + ", " + std::string(media::kOciManifest) + ", " +
            std::string(media::kDockerList) + ", " + std::string(media::kDockerManifest);
        return request(url("manifests/" + tag_or_digest), accept, nullptr);
    }

    Result<Response> perform(const std::string& u,
                             const std::string& accept,
                             const std::string& auth,
                             BlobWriter* sink);
    Result<Response> request(const std::string& u, const std::string& accept, BlobWriter* sink);
    Status authenticate(const Response& r);

    Reference ref_;
    PullOptions o_;
    std::string base_;
    std::string auth_;  // Authorization header value once known
};

Result<Response> RegistryReader::perform(const std::string& u,
                                         const std::string& accept,
                                         const std::string& auth,
                                         BlobWriter* sink) {
    CurlPtr c(curl_easy_init(), curl_easy_cleanup);
    if (!c) {
        return make_error("curl_easy_init failed");
    }
    Response resp;
    Transfer t{c.get(), &resp, sink, ok_status()};
    SlistPtr hdrs(nullptr, curl_slist_free_all);
    auto add = [&](const std::string& h) {
        hdrs.reset(curl_slist_append(hdrs.release(), h.c_str()));
    };
    if (!accept.empty()) {
        add("Accept: " + accept);
    }
    if (!auth.empty()) {
        add("Authorization: " + auth);
    }
    curl_easy_setopt(c.get(), CURLOPT_URL, u.c_str());
    curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, hdrs.get());
    curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c.get(), CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c.get(), CURLOPT_USERAGENT, "cove/" COVE_VERSION);
    curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &t);
    if (!o_.ca_file.empty()) {
        curl_easy_setopt(c.get(), CURLOPT_CAINFO, o_.ca_file.c_str());
    }
    if (!o_.tls_verify) {
        curl_easy_setopt(c.get(), CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c.get(), CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_easy_perform(c.get());
    if (!t.sink_status) {
        return std::move(t.sink_status).error().wrap("GET " + u);
    }
    if (rc != CURLE_OK) {
        return make_error("GET " + u + ": " + curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &resp.status);
    return resp;
}

Result<Response> RegistryReader::request(const std::string& u,
                                         const std::string& accept,
                                         BlobWriter* sink) {
    COVE_ASSIGN(Response r, perform(u, accept, auth_, sink), "");
    if (r.status == 401) {
        COVE_TRY(authenticate(r), "GET " + u);
        COVE_ASSIGN(r, perform(u, accept, auth_, sink), "");
        if (r.status == 401) {
            return make_error("GET " + u +
                              ": authentication failed (check --creds): " + registry_error(r));
        }
    }
    if (r.status != 200) {
        return make_error("GET " + u + ": " + registry_error(r));
    }
    return r;
}

Status RegistryReader::authenticate(const Response& r) {
    auto it = r.headers.find("www-authenticate");
    if (it == r.headers.end()) {
        return make_error("HTTP 401 without WWW-Authenticate");
    }
    if (!auth_.empty() && str::starts_with(auth_, "Basic")) {
        return make_error("authentication failed (check --creds)");
    }
    Challenge ch = parse_challenge(it->second);
    if (ch.scheme == "basic") {
        if (o_.creds.empty()) {
            return make_error("authentication required: registry wants basic auth (give --creds)");
        }
        auth_ = "Basic " + base64(o_.creds);
        return ok_status();
    }
    if (ch.scheme != "bearer" || ch.params["realm"].empty()) {
        return make_error("unsupported authentication challenge \"" + it->second + "\"");
    }
    std::string scope =
        ch.params.count("scope") != 0 ? ch.params["scope"] : "repository:" + ref_.path + ":pull";
    std::string token_url = ch.params["realm"];
    token_url += token_url.find('?') == std::string::npos ? "?" : "&";
    token_url += "scope=" + url_escape(scope);
    if (!ch.params["service"].empty()) {
        token_url += "&service=" + url_escape(ch.params["service"]);
    }
    std::string basic = o_.creds.empty() ? "" : "Basic " + base64(o_.creds);
    COVE_ASSIGN(Response tr, perform(token_url, "", basic, nullptr), "token");
    if (tr.status != 200) {
        return make_error("token request " + ch.params["realm"] + ": " + registry_error(tr));
    }
    COVE_ASSIGN(auto j, json::parse(tr.body), "token response");
    std::string token = j.value("token", "");
    if (token.empty()) {
        token = j.value("access_token", "");
    }
    if (token.empty()) {
        return make_error("token response: no token");
    }
    auth_ = "Bearer " + token;
    return ok_status();
}

}  // namespace

Challenge parse_challenge(std::string_view header) {
    Challenge c;
    std::string_view s = str::trim(header);
    auto sp = s.find(' ');
    c.scheme = lower(std::string(s.substr(0, sp)));
    if (sp == std::string_view::npos) {
        return c;
    }
    s = s.substr(sp + 1);
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == ',')) {
            ++i;
        }
        size_t eq = s.find('=', i);
        if (eq == std::string_view::npos) {
            break;
        }
        std::string key = lower(std::string(str::trim(s.substr(i, eq - i))));
        std::string val;
        i = eq + 1;
        if (i < s.size() && s[i] == '"') {
            ++i;
            while (i < s.size() && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < s.size()) {
                    ++i;
                }
                val += s[i++];
            }
            ++i;
        } else {
            while (i < s.size() && s[i] != ',') {
                val += s[i++];
            }
            val = std::string(str::trim(val));
        }
        c.params[key] = val;
    }
    return c;
}

std::string registry_base_url(const Reference& r, bool tls) {
    if (r.domain == "docker.io") {
        return "https://registry-1.docker.io";
    }
    std::string host =
        r.domain.substr(0, r.domain.rfind(':') == std::string::npos || r.domain.back() == ']'
                               ? std::string::npos
                               : r.domain.rfind(':'));
    return (is_loopback(host) && !tls ? "http://" : "https://") + r.domain;
}

Result<std::unique_ptr<SourceReader>> open_registry(const Source& s, const PullOptions& o) {
    if (!o.creds.empty() && o.creds.find(':') == std::string::npos) {
        return make_error("--creds: want user:password");
    }
    return std::unique_ptr<SourceReader>(new RegistryReader(s.remote, o));
}

}  // namespace cove::image
