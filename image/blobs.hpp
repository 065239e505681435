// The blob half of the content store: BlobWriter streams bytes into a temp file under
// <root>/tmp while hashing them, and commit() moves the file to blobs/sha256/<hex> only
// after the digest (and size) matched, with fsync before the rename. Anything not
// committed is unlinked, so a failed or mismatched copy leaves nothing. Also the temp-name
// and store-lock helpers the rest of the store shares.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "image/digest.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::image {

// "<root>/tmp/<pid>-<kind>-<random>": names gc() can tell stale (dead pid) from live.
std::string temp_name(const std::string& root, std::string_view kind);
// Removes temp entries of processes that no longer run.
void clean_stale_temp(const std::string& root);

// flock(2) on <root>/lock; held until the fd is closed.
Result<UniqueFd> lock_store(const std::string& root, bool exclusive);

// Writes data to path.tmp-<pid>, fsyncs, renames over path, fsyncs the directory.
Status durable_write(const std::string& path, std::string_view data);

class BlobWriter {
public:
    static Result<BlobWriter> create(const std::string& root);
    BlobWriter(BlobWriter&&) noexcept;
    BlobWriter& operator=(BlobWriter&&) = delete;
    BlobWriter(const BlobWriter&) = delete;
    BlobWriter& operator=(const BlobWriter&) = delete;
    ~BlobWriter();

    Status write(const void* data, size_t n);
    int64_t size() const { return size_; }
    // The digest of what was written; no more writes afterwards.
    const std::string& digest();
    // Verifies the digest (and size when >= 0), fsyncs and renames into the store.
    // Returns the blob's path. An existing blob with that digest is kept.
    Result<std::string> commit(std::string_view expected, int64_t expected_size = -1);
    // Stores under the computed digest; returns it.
    Result<std::string> commit_any();

private:
    BlobWriter(std::string root, std::string tmp, UniqueFd fd)
        : root_(std::move(root)), tmp_(std::move(tmp)), fd_(std::move(fd)) {}
    Result<std::string> finish(const std::string& digest);

    std::string root_;
    std::string tmp_;
    UniqueFd fd_;
    Sha256 hash_;
    int64_t size_ = 0;
    std::string digest_;
    bool done_ = false;
};

// Copies the file at path (a source's blob; symlinks are fine, the bytes are verified) into the
// store, verifying expected (digest) and expected_size (when >= 0).
Status import_file(const std::string& root,
                   const std::string& path,
                   std::string_view expected,
                   int64_t expected_size = -1);
// Stores data as a blob; returns its digest. With expected set, verifies it first.
Result<std::string> put_bytes(const std::string& root,
                              std::string_view data,
                              std::string_view expected = {});

// <root>/blobs/sha256/<hex> of a validated digest.
std::string blob_file(const std::string& root, std::string_view digest);

}  // namespace cove::image
