#include "image/digest.hpp"

#include <openssl/evp.h>

#include <cstdio>

namespace cove::image {

struct Sha256::Ctx {
    EVP_MD_CTX* md = nullptr;
    ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
    ctx_->md = EVP_MD_CTX_new();
    if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) {
        std::abort();  // out of memory; OpenSSL always has sha256
    }
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t n) {
    if (n > 0) {
        EVP_DigestUpdate(ctx_->md, data, n);
    }
}

std::string Sha256::digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_->md, md, &len);
    static const char kHex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0xf];
    }
    return out;
}

std::string sha256_digest(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.digest();
}

Status validate_digest(std::string_view digest) {
    auto colon = digest.find(':');
    if (colon == std::string_view::npos) {
        return make_error("invalid digest \"" + std::string(digest) + "\": no algorithm");
    }
    std::string_view alg = digest.substr(0, colon);
    std::string_view hex = digest.substr(colon + 1);
    if (alg != "sha256") {
        return make_error("invalid digest \"" + std::string(digest) + "\": unsupported algorithm " +
                          std::string(alg));
    }
    if (hex.size() != 64) {
        return make_error("invalid digest \"" + std::string(digest) + "\": want 64 hex digits");
    }
    for (char c : hex) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return make_error("invalid digest \"" + std::string(digest) + "\": not lowercase hex");
        }
    }
    return ok_status();
}

std::string_view digest_hex(std::string_view digest) {
    auto colon = digest.find(':');
    return colon == std::string_view::npos ? digest : digest.substr(colon + 1);
}

std::string short_id(std::string_view digest) {
    return std::string(digest_hex(digest).substr(0, 12));
}

Error digest_mismatch(std::string_view expected, std::string_view got) {
    return make_error("digest mismatch: expected " + std::string(expected) + ", got " +
                      std::string(got));
}

}  // namespace cove::image
