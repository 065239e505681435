// docker-archive:FILE[:REF]: `docker save` output (manifest.json + config + layer tars, in
// the legacy <id>/layer.tar form or with an OCI layout inside). The tar is read once; every
// regular file is streamed into a BlobWriter (hashed on the way), and only the files
// manifest.json names are committed to the store. The rest is unlinked with the reader.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "image/blobs.hpp"
#include "image/digest.hpp"
#include "image/import.hpp"
#include "image/media.hpp"
#include "image/unpack.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/strings.hpp"

namespace cove::image {
namespace {

struct Member {
    std::unique_ptr<BlobWriter> writer;  // null once committed
    std::string digest;
    int64_t size = 0;
    std::string head;  // first bytes, for the layer's compression
    std::string text;  // whole content of small JSON files
};

std::string clean(std::string_view p) {
    auto m = map_entry_path(p);
    return m ? m->path : std::string();
}

class DockerArchiveReader : public SourceReader {
public:
    DockerArchiveReader(std::string file, std::string root)
        : file_(std::move(file)), root_(std::move(root)) {}

    Status load(const std::string& ref);

    Status top_manifest(std::string& body, std::string& media_type, std::string& digest) override {
        body = manifest_;
        media_type = std::string(media::kOciManifest);
        digest.clear();
        return ok_status();
    }

    Result<std::string> manifest(const Descriptor& d) override {
        return make_error("docker-archive has no manifest " + d.digest);
    }

    Status fetch_blob(const std::string& root, const Descriptor& d) override {
        (void)root;
        for (auto& [path, m] : members_) {
            if (m.digest != d.digest) {
                continue;
            }
            if (m.writer) {
                COVE_TRY(m.writer->commit(d.digest, d.size), file_ + ": " + path);
                m.writer.reset();
            }
            return ok_status();
        }
        return make_error(file_ + ": no member with digest " + d.digest);
    }

    Result<std::string> default_name() override {
        if (!repo_tag_.empty()) {
            return normalize_name(repo_tag_);
        }
        std::string base = file_.substr(file_.rfind('/') + 1);
        base = base.substr(0, base.find('.'));
        auto n = normalize_name(base + ":latest");
        if (!n) {
            return std::move(n).error().wrap("cannot name the image after " + file_ +
                                             " (give --name)");
        }
        return n;
    }

private:
    Status read_all();
    Result<Member*> member(const std::string& path, int depth = 0);

    std::string file_;
    std::string root_;
    std::map<std::string, Member> members_;
    std::map<std::string, std::string> links_;  // symlink or hardlink path -> target path
    std::string manifest_;
    std::string repo_tag_;
};

Status DockerArchiveReader::read_all() {
    std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(),
                                                                archive_read_free);
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), file_.c_str(), 1 << 20) != ARCHIVE_OK) {
        return make_error(std::string("open: ") + archive_error_string(a.get()));
    }
    std::vector<char> buf(1 << 20);
    for (;;) {
        struct archive_entry* e = nullptr;
        int r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF) {
            break;
        }
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            return make_error(std::string("read: ") + archive_error_string(a.get()));
        }
        std::string path = clean(archive_entry_pathname(e));
        if (const char* hl = archive_entry_hardlink(e)) {
            links_[path] = clean(hl);
            continue;
        }
        if (archive_entry_filetype(e) == AE_IFLNK) {
            std::string dir =
                path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
            std::string t = archive_entry_symlink(e);
            links_[path] = clean(t[0] == '/' ? t : dir + "/" + t);
            continue;
        }
        if (archive_entry_filetype(e) != AE_IFREG || path.empty()) {
            continue;
        }
        COVE_ASSIGN(BlobWriter w, BlobWriter::create(root_), path);
        Member m;
        m.writer = std::make_unique<BlobWriter>(std::move(w));
        bool keep_text = path.size() > 5 && path.substr(path.size() - 5) == ".json";
        for (;;) {
            la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
            if (n < 0) {
                return make_error(path + ": " + archive_error_string(a.get()));
            }
            if (n == 0) {
                break;
            }
            if (m.head.size() < 8) {
                m.head.append(buf.data(), std::min<size_t>(8, static_cast<size_t>(n)));
            }
            if (keep_text && m.text.size() < (16 << 20)) {
                m.text.append(buf.data(), static_cast<size_t>(n));
            }
            COVE_TRY(m.writer->write(buf.data(), static_cast<size_t>(n)), path);
        }
        m.size = m.writer->size();
        members_[path] = std::move(m);
    }
    return ok_status();
}

Result<Member*> DockerArchiveReader::member(const std::string& path, int depth) {
    std::string p = clean(path);
    if (auto it = members_.find(p); it != members_.end()) {
        return &it->second;
    }
    if (auto it = links_.find(p); it != links_.end() && depth < 16) {
        return member(it->second, depth + 1);
    }
    return make_error("no file \"" + path + "\" in the archive");
}

Status DockerArchiveReader::load(const std::string& ref) {
    COVE_TRY(read_all(), file_);
    // The digest of every member, now that all bytes were read; committed later on demand.
    for (auto& [path, m] : members_) {
        (void)path;
        m.digest = m.writer->digest();
    }
    COVE_ASSIGN(Member * mf, member("manifest.json"), file_);
    COVE_ASSIGN(auto list, json::parse(mf->text), file_ + ": manifest.json");
    if (!list.is_array() || list.empty()) {
        return make_error(file_ + ": manifest.json: want a non-empty array");
    }
    const nlohmann::json* pick = nullptr;
    std::string want;
    if (!ref.empty()) {
        COVE_ASSIGN(want, normalize_name(ref), file_);
    }
    for (const auto& e : list) {
        for (const auto& t : e.value("RepoTags", nlohmann::json::array())) {
            auto n = normalize_name(t.get<std::string>());
            if (want.empty() || (n && *n == want)) {
                pick = pick == nullptr ? &e : pick;
                repo_tag_ =
                    repo_tag_.empty() || (n && *n == want) ? t.get<std::string>() : repo_tag_;
            }
        }
    }
    if (pick == nullptr) {
        if (!want.empty()) {
            return make_error(file_ + ": no image tagged " + want);
        }
        if (list.size() != 1) {
            return make_error(file_ + ": holds several untagged images");
        }
        pick = &list[0];
    }
    try {
        std::string config_path = pick->at("Config").get<std::string>();
        COVE_ASSIGN(Member * cfg, member(config_path), file_);
        // Legacy names are "<config digest hex>.json"; OCI-inside names "blobs/sha256/<hex>".
        std::string base = config_path.substr(config_path.rfind('/') + 1);
        base = base.substr(0, base.find('.'));
        if (base.size() == 64 && validate_digest("sha256:" + base) &&
            cfg->digest != "sha256:" + base) {
            return digest_mismatch("sha256:" + base, cfg->digest).wrap(file_ + ": " + config_path);
        }
        nlohmann::json m = {
            {"schemaVersion", 2},
            {"mediaType", media::kOciManifest},
            {"config",
             {{"mediaType", media::kOciConfig}, {"digest", cfg->digest}, {"size", cfg->size}}},
            {"layers", nlohmann::json::array()}};
        for (const auto& l : pick->at("Layers")) {
            std::string lp = l.get<std::string>();
            COVE_ASSIGN(Member * lm, member(lp), file_);
            std::string lbase = lp.substr(lp.rfind('/') + 1);
            if (str::starts_with(lp, "blobs/sha256/") && lm->digest != "sha256:" + lbase) {
                return digest_mismatch("sha256:" + lbase, lm->digest).wrap(file_ + ": " + lp);
            }
            m["layers"].push_back({{"mediaType", media::layer_type_by_magic(lm->head)},
                                   {"digest", lm->digest},
                                   {"size", lm->size}});
        }
        manifest_ = m.dump();
    } catch (const std::exception& e) {
        return make_error(file_ + ": manifest.json: " + json::describe(e));
    }
    return ok_status();
}

}  // namespace

Result<std::unique_ptr<SourceReader>> open_docker_archive(const Source& s,
                                                          const std::string& root) {
    auto r = std::make_unique<DockerArchiveReader>(s.path, root);
    COVE_TRY(r->load(s.ref), "docker-archive");
    return std::unique_ptr<SourceReader>(std::move(r));
}

}  // namespace cove::image
