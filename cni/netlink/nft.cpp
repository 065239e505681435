#include "cni/netlink/nft.hpp"

#include <dlfcn.h>
#include <nftables/libnftables.h>

#include <utility>

#include "runtime/base/json.hpp"

namespace cove::nl {

namespace {

std::string trim_nl(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    // nft prints the failing command under the message; the first line is the cause.
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

// libnftables and its dependencies cost ~0.7 ms of CPU to load: a plugin whose config has no
// ipMasq or macspoofchk never touches nftables on ADD, so the library is loaded on first use
// (dlopen) instead of at every exec.
struct NftApi {
    decltype(&::nft_ctx_new) ctx_new;
    decltype(&::nft_ctx_free) ctx_free;
    decltype(&::nft_ctx_buffer_output) buffer_output;
    decltype(&::nft_ctx_buffer_error) buffer_error;
    decltype(&::nft_ctx_output_set_flags) output_set_flags;
    decltype(&::nft_run_cmd_from_buffer) run_cmd_from_buffer;
    decltype(&::nft_ctx_get_output_buffer) get_output_buffer;
    decltype(&::nft_ctx_get_error_buffer) get_error_buffer;
};

template <typename F>
bool resolve(void* lib, const char* name, F& out) {
    out = reinterpret_cast<F>(::dlsym(lib, name));
    return out != nullptr;
}

Result<const NftApi*> api() {
    static NftApi a{};
    static std::string failed;
    static bool loaded = false;
    if (loaded) {
        return &a;
    }
    if (!failed.empty()) {
        return make_error(failed);
    }
    void* lib = ::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* e = ::dlerror();
        failed = "nftables: load libnftables.so.1: " + std::string(e != nullptr ? e : "failed");
        return make_error(failed);
    }
    if (!resolve(lib, "nft_ctx_new", a.ctx_new) || !resolve(lib, "nft_ctx_free", a.ctx_free) ||
        !resolve(lib, "nft_ctx_buffer_output", a.buffer_output) ||
        !resolve(lib, "nft_ctx_buffer_error", a.buffer_error) ||
        !resolve(lib, "nft_ctx_output_set_flags", a.output_set_flags) ||
        !resolve(lib, "nft_run_cmd_from_buffer", a.run_cmd_from_buffer) ||
        !resolve(lib, "nft_ctx_get_output_buffer", a.get_output_buffer) ||
        !resolve(lib, "nft_ctx_get_error_buffer", a.get_error_buffer)) {
        failed = "nftables: libnftables.so.1 lacks a symbol cove needs";
        return make_error(failed);
    }
    loaded = true;
    return &a;
}

// Only reached through an Nft, which exists only once api() succeeded.
const NftApi& loaded_api() {
    return *api().value();
}

}  // namespace

Result<Nft> Nft::open() {
    COVE_ASSIGN(const NftApi* nft, api(), "");
    nft_ctx* ctx = nft->ctx_new(NFT_CTX_DEFAULT);
    if (ctx == nullptr) {
        return errno_error(ENOMEM, "nftables: new context");
    }
    if (nft->buffer_output(ctx) != 0 || nft->buffer_error(ctx) != 0) {
        nft->ctx_free(ctx);
        return errno_error(ENOMEM, "nftables: buffer output");
    }
    return Nft(ctx);
}

Nft::Nft(Nft&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}

Nft& Nft::operator=(Nft&& o) noexcept {
    if (this != &o) {
        if (ctx_ != nullptr) {
            loaded_api().ctx_free(ctx_);
        }
        ctx_ = std::exchange(o.ctx_, nullptr);
    }
    return *this;
}

Nft::~Nft() {
    if (ctx_ != nullptr) {
        loaded_api().ctx_free(ctx_);
    }
}

Status Nft::run(const std::string& cmds, const std::string& what) {
    loaded_api().output_set_flags(ctx_, 0);
    if (loaded_api().run_cmd_from_buffer(ctx_, cmds.c_str()) != 0) {
        const char* err = loaded_api().get_error_buffer(ctx_);
        return make_error("nftables: " + what + ": " + trim_nl(err != nullptr ? err : "failed"));
    }
    return ok_status();
}

Result<nlohmann::json> Nft::list(const std::string& cmd) {
    loaded_api().output_set_flags(ctx_, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
    int rc = loaded_api().run_cmd_from_buffer(ctx_, cmd.c_str());
    loaded_api().output_set_flags(ctx_, 0);
    if (rc != 0) {
        std::string err = loaded_api().get_error_buffer(ctx_);
        if (err.find("No such file or directory") != std::string::npos) {
            return nlohmann::json{{"nftables", nlohmann::json::array()}};
        }
        return make_error("nftables: " + cmd + ": " + trim_nl(err));
    }
    const char* out = loaded_api().get_output_buffer(ctx_);
    COVE_ASSIGN(auto j, json::parse(out != nullptr ? out : "{}"), "nftables: " + cmd + ": output");
    return j;
}

Result<std::string> nft_quote(const std::string& s) {
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view("_.:/@+-").find(c) != std::string_view::npos;
        if (!ok) {
            return make_error("nftables: character '" + std::string(1, c) + "' not allowed in \"" +
                              s + "\"");
        }
    }
    if (s.empty() || s.size() > 127) {
        return make_error("nftables: \"" + s + "\": must be 1 to 127 characters");
    }
    return "\"" + s + "\"";
}

namespace {

std::string chain_ref(const NftChain& c) {
    return c.family + " " + c.table + " " + c.chain;
}

std::string ensure_cmds(const NftChain& c) {
    return "add table " + c.family + " " + c.table + "\nadd chain " + chain_ref(c) + " { " +
           c.spec + " }\n";
}

}  // namespace

Result<std::vector<TaggedRule>> list_tagged_rules(Nft& nft, const NftChain& c) {
    COVE_ASSIGN(auto j, nft.list("list chain " + chain_ref(c)), "");
    std::vector<TaggedRule> out;
    auto items = j.find("nftables");
    if (items == j.end() || !items->is_array()) {
        return out;
    }
    for (const auto& item : *items) {
        auto r = item.find("rule");
        if (r == item.end() || !r->contains("comment") || !r->contains("handle")) {
            continue;
        }
        if (!(*r)["comment"].is_string() || !(*r)["handle"].is_number_unsigned()) {
            continue;
        }
        out.push_back({(*r)["handle"].get<uint64_t>(), (*r)["comment"].get<std::string>()});
    }
    return out;
}

Status replace_tagged_rules(Nft& nft,
                            const NftChain& c,
                            const std::string& tag,
                            const std::vector<std::string>& rules) {
    std::string what = "add rules " + tag + " to " + chain_ref(c);
    COVE_ASSIGN(std::string quoted, nft_quote(tag), what);
    COVE_ASSIGN(auto existing, list_tagged_rules(nft, c), what);
    std::string cmds = ensure_cmds(c);
    for (const auto& r : existing) {
        if (r.tag == tag) {
            cmds += "delete rule " + chain_ref(c) + " handle " + std::to_string(r.handle) + "\n";
        }
    }
    for (const auto& body : rules) {
        cmds += "add rule " + chain_ref(c) + " " + body + " comment " + quoted + "\n";
    }
    return nft.run(cmds, what);
}

Status delete_tagged_rules(Nft& nft,
                           const NftChain& c,
                           const std::function<bool(const std::string&)>& match) {
    std::string what = "delete rules from " + chain_ref(c);
    COVE_ASSIGN(auto existing, list_tagged_rules(nft, c), what);
    std::string cmds;
    for (const auto& r : existing) {
        if (match(r.tag)) {
            cmds += "delete rule " + chain_ref(c) + " handle " + std::to_string(r.handle) + "\n";
        }
    }
    if (cmds.empty()) {
        return ok_status();
    }
    return nft.run(cmds, what);
}

}  // namespace cove::nl
