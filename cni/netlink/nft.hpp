// nftables through libnftables (nft_run_cmd_from_buffer), no iptables binary: a context
// owner, plus "tagged rules" — each rule a plugin adds carries a comment (its tag, e.g. the
// network, container ID and interface) so it can later be found and deleted exactly: DEL
// removes one attachment's rules, GC those whose attachment is gone. Tables and chains are
// the caller's own (e.g. `table ip cove-cni`), created idempotently with `add`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/error.hpp"

struct nft_ctx;

namespace cove::nl {

class Nft {
public:
    static Result<Nft> open();
    Nft(Nft&&) noexcept;
    Nft& operator=(Nft&&) noexcept;
    Nft(const Nft&) = delete;
    Nft& operator=(const Nft&) = delete;
    ~Nft();

    // Runs a batch of commands (one transaction); errors carry nft's own message.
    Status run(const std::string& cmds, const std::string& what);
    // Runs a list command with JSON output (handles included); a missing table or chain gives
    // an empty {"nftables": []}.
    Result<nlohmann::json> list(const std::string& cmd);

private:
    explicit Nft(nft_ctx* ctx) : ctx_(ctx) {}
    nft_ctx* ctx_ = nullptr;
};

// Where tagged rules live: one base chain of one table.
struct NftChain {
    std::string family;  // "ip", "ip6", "inet", "bridge"
    std::string table;   // "cove-cni"
    std::string chain;   // "postrouting"
    std::string spec;    // "type nat hook postrouting priority srcnat; policy accept;"
};

struct TaggedRule {
    uint64_t handle = 0;
    std::string tag;
};

// nft string quoting for comments and interface names: only [A-Za-z0-9_.:/@+-] are allowed,
// so a tag can never end the string early; returns an error naming the bad character.
Result<std::string> nft_quote(const std::string& s);

// The chain's rules that carry a comment; a missing table or chain gives none.
Result<std::vector<TaggedRule>> list_tagged_rules(Nft& nft, const NftChain& c);
// In one transaction: creates table and chain if missing, deletes the rules tagged `tag`,
// adds `rules` (rule bodies without the comment) tagged `tag`. Idempotent.
Status replace_tagged_rules(Nft& nft,
                            const NftChain& c,
                            const std::string& tag,
                            const std::vector<std::string>& rules);
// Deletes the rules whose tag matches; nothing to delete (or no table) is fine.
Status delete_tagged_rules(Nft& nft,
                           const NftChain& c,
                           const std::function<bool(const std::string&)>& match);

}  // namespace cove::nl
