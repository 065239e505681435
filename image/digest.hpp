// sha256 digests: streaming hashing with OpenSSL EVP and validation of "sha256:<64 hex>"
// strings (the only algorithm the store accepts).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/base/error.hpp"

namespace cove::image {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t n);
    void update(std::string_view s) { update(s.data(), s.size()); }
    // "sha256:<hex>"; the hasher cannot be updated afterwards.
    std::string digest();

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

// "sha256:<hex>" of data.
std::string sha256_digest(std::string_view data);
// Checks "sha256:<64 lowercase hex>"; the error names what is wrong.
Status validate_digest(std::string_view digest);
// The hex part of a valid digest.
std::string_view digest_hex(std::string_view digest);
// "sha256:0123456789ab" -> "0123456789ab" (12 hex, as podman's IMAGE ID).
std::string short_id(std::string_view digest);
// Error for a digest mismatch: "digest mismatch: expected X, got Y".
Error digest_mismatch(std::string_view expected, std::string_view got);

}  // namespace cove::image
