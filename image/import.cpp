#include "image/import.hpp"

#include <sys/utsname.h>

#include "image/blobs.hpp"
#include "image/digest.hpp"
#include "image/media.hpp"
#include "image/unpack.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/units.hpp"

namespace cove::image {
namespace {

void say(const PullOptions& o, const std::string& line) {
    if (o.progress) {
        o.progress(line);
    }
}

Result<std::unique_ptr<SourceReader>> open_reader(const std::string& root,
                                                  const Source& src,
                                                  const PullOptions& o) {
    switch (src.transport) {
        case Transport::kOciLayout:
            return open_oci_layout(src);
        case Transport::kDockerArchive:
            return open_docker_archive(src, root);
        case Transport::kDocker:
            return open_registry(src, o);
    }
    return make_error("unknown transport");
}

Result<nlohmann::json> parse_json(std::string_view body, const std::string& what) {
    COVE_ASSIGN(auto j, json::parse(body), what);
    if (!j.is_object()) {
        return make_error(what + ": not a JSON object");
    }
    return j;
}

// Resolves an index to one manifest; returns the manifest's body, digest and media type.
Status select_manifest(SourceReader& r,
                       const PullOptions& o,
                       std::string& body,
                       std::string& digest,
                       std::string& media_type) {
    COVE_TRY(r.top_manifest(body, media_type, digest), "manifest");
    std::string got = sha256_digest(body);
    if (!digest.empty() && got != digest) {
        return digest_mismatch(digest, got).wrap("manifest");
    }
    digest = got;
    COVE_ASSIGN(auto j, parse_json(body, "manifest " + digest), "");
    if (media_type.empty()) {
        media_type = j.value("mediaType", "");
    }
    if (!media::is_index(media_type) && !(media_type.empty() && j.contains("manifests"))) {
        return ok_status();
    }
    COVE_ASSIGN(Descriptor d, media::choose_platform(j, o.platform), "index " + digest);
    say(o, "choosing " + d.digest + " from index " + digest);
    COVE_ASSIGN(body, r.manifest(d), "manifest " + d.digest);
    got = sha256_digest(body);
    if (got != d.digest) {
        return digest_mismatch(d.digest, got).wrap("manifest");
    }
    digest = got;
    media_type = d.media_type;
    return ok_status();
}

}  // namespace

std::string host_platform() {
    struct utsname u {};
    std::string arch = "amd64";
    if (::uname(&u) == 0) {
        std::string m = u.machine;
        arch = m == "x86_64" ? "amd64" : m == "aarch64" ? "arm64" : m;
    }
    return "linux/" + arch;
}

Result<ImageRecord> import_image(const std::string& root, const Source& src, const PullOptions& o) {
    COVE_ASSIGN(auto reader, open_reader(root, src, o), "");
    ImageRecord rec;
    if (!o.name.empty()) {
        COVE_ASSIGN(rec.name, normalize_name(o.name), "--name");
    } else {
        COVE_ASSIGN(rec.name, reader->default_name(), "");
    }
    std::string body;
    std::string media_type;
    COVE_TRY(select_manifest(*reader, o, body, rec.manifest_digest, media_type), "");
    COVE_ASSIGN(auto manifest, parse_json(body, "manifest " + rec.manifest_digest), "");
    if (manifest.value("schemaVersion", 0) != 2) {
        return make_error("manifest " + rec.manifest_digest +
                          ": unsupported schemaVersion (want 2; docker schema 1 is not supported)");
    }
    Descriptor config;
    std::vector<Descriptor> layers;
    try {
        COVE_ASSIGN(config, media::descriptor(manifest.at("config")), "config");
        for (const auto& l : manifest.at("layers")) {
            COVE_ASSIGN(Descriptor d, media::descriptor(l), "layer");
            layers.push_back(std::move(d));
        }
    } catch (const std::exception& e) {
        return make_error("manifest " + rec.manifest_digest + ": " + json::describe(e));
    }
    rec.config_digest = config.digest;
    say(o, "copying config " + config.digest);
    COVE_TRY(reader->fetch_blob(root, config), "config " + config.digest);
    COVE_ASSIGN(auto cfg_text, fs::read_file(blob_file(root, config.digest)), "config");
    COVE_ASSIGN(auto cfg, parse_json(cfg_text, "config " + config.digest), "");
    std::vector<std::string> diff_ids;
    try {
        diff_ids = cfg.at("rootfs").at("diff_ids").get<std::vector<std::string>>();
    } catch (const std::exception& e) {
        return make_error("config " + config.digest + ": " + json::describe(e));
    }
    if (diff_ids.size() != layers.size()) {
        return make_error("config " + config.digest + ": " + std::to_string(diff_ids.size()) +
                          " diff_ids for " + std::to_string(layers.size()) + " layers");
    }
    rec.size = std::max<int64_t>(config.size, 0);
    for (size_t i = 0; i < layers.size(); ++i) {
        const Descriptor& d = layers[i];
        COVE_TRY(validate_digest(diff_ids[i]), "config " + config.digest + ": diff_ids");
        rec.layers.push_back({d.digest, diff_ids[i], d.size, d.media_type});
        rec.size += std::max<int64_t>(d.size, 0);
        // The diffID comes from the verified config and the layer dir was verified against
        // it when unpacked: the blob is not needed (whatever its compression).
        if (fs::exists(root + "/layers/" + std::string(digest_hex(diff_ids[i])))) {
            say(o, "layer " + d.digest + " already present");
            continue;
        }
        say(o, "copying blob " + d.digest +
                   (d.size >= 0 ? " (" + human_size(d.size, SizeDigits::kOneDecimal) + ")" : ""));
        COVE_TRY(reader->fetch_blob(root, d), "layer " + d.digest);
        say(o, "unpacking layer " + d.digest);
        COVE_TRY(ensure_layer(root, d.digest, diff_ids[i]), "");
    }
    say(o, "writing manifest " + rec.manifest_digest);
    COVE_TRY(put_bytes(root, body, rec.manifest_digest), "manifest");
    say(o, "stored " + rec.name + " (image id " + short_id(rec.config_digest) + ")");
    return rec;
}

}  // namespace cove::image
