// Image references and source names. A reference is [DOMAIN/]PATH[:TAG][@DIGEST] in the
// docker grammar; local names are normalized podman-style ("busybox" ->
// "localhost/busybox:latest"), remote ones docker-style ("busybox" on docker:// ->
// "docker.io/library/busybox:latest"). Sources use skopeo's transport names.
#pragma once

#include <string>
#include <string_view>

#include "runtime/base/error.hpp"

namespace cove::image {

struct Reference {
    std::string domain;  // "localhost", "127.0.0.1:5000", "docker.io"
    std::string path;    // "busybox", "library/busybox"
    std::string tag;     // empty when only a digest is given
    std::string digest;  // "sha256:..." or empty

    std::string repository() const { return domain + "/" + path; }
    // "domain/path:tag", "domain/path@digest" or "domain/path:tag@digest".
    std::string str() const;
};

// True when the first component of a name is a registry domain (has '.' or ':', or is
// "localhost"), as docker decides.
bool looks_like_domain(std::string_view head);

// Parses s; a missing domain becomes default_domain ("docker.io" also adds "library/" to
// single-component paths); a missing tag becomes "latest" unless a digest is given.
Result<Reference> parse_reference(std::string_view s, std::string_view default_domain);
// The local name of an image: parse_reference(s, "localhost").str().
Result<std::string> normalize_name(std::string_view s);

enum class Transport { kOciLayout, kDockerArchive, kDocker };

struct Source {
    Transport transport = Transport::kOciLayout;
    std::string path;  // oci: directory, docker-archive: file
    std::string ref;   // oci: tag / docker-archive: reference to choose; may be empty
    Reference remote;  // docker://
};

// "oci:DIR[:TAG]", "docker-archive:FILE[:REF]", "docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST]".
Result<Source> parse_source(std::string_view s);

}  // namespace cove::image
