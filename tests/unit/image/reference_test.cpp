#include "image/reference.hpp"

#include <catch2/catch.hpp>

#include "image/registry.hpp"

using namespace cove::image;

TEST_CASE("local names normalize podman-style", "[image]") {
    CHECK(*normalize_name("busybox") == "localhost/busybox:latest");
    CHECK(*normalize_name("busybox:1.36") == "localhost/busybox:1.36");
    CHECK(*normalize_name("library/busybox") == "localhost/library/busybox:latest");
    CHECK(*normalize_name("quay.io/a/b:v1") == "quay.io/a/b:v1");
    CHECK(*normalize_name("127.0.0.1:5000/busybox") == "127.0.0.1:5000/busybox:latest");
    CHECK(*normalize_name("localhost/x") == "localhost/x:latest");
    std::string d = "sha256:" + std::string(64, 'a');
    CHECK(*normalize_name("busybox@" + d) == "localhost/busybox@" + d);
    CHECK(*normalize_name("busybox:1@" + d) == "localhost/busybox:1@" + d);
}

TEST_CASE("remote references default to docker.io/library", "[image]") {
    auto r = parse_reference("busybox", "docker.io");
    REQUIRE(r);
    CHECK(r->domain == "docker.io");
    CHECK(r->path == "library/busybox");
    CHECK(r->tag == "latest");
    auto p = parse_reference("127.0.0.1:5000/a/b:2", "docker.io");
    REQUIRE(p);
    CHECK(p->domain == "127.0.0.1:5000");
    CHECK(p->path == "a/b");
    CHECK(p->tag == "2");
}

TEST_CASE("bad references are errors naming the cause", "[image]") {
    for (const char* bad : {"", "Busybox", "a:b:c", "a/", "/a", "a@sha256:12", "a:-x", "a//b"}) {
        auto r = normalize_name(bad);
        INFO(bad);
        CHECK_FALSE(r);
    }
    auto r = normalize_name("Busybox");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("Busybox") != std::string::npos);
}

TEST_CASE("sources use skopeo's transport names", "[image]") {
    auto o = parse_source("oci:/tmp/lay:v1");
    REQUIRE(o);
    CHECK(o->transport == Transport::kOciLayout);
    CHECK(o->path == "/tmp/lay");
    CHECK(o->ref == "v1");
    auto n = parse_source("oci:/tmp/lay");
    REQUIRE(n);
    CHECK(n->ref.empty());
    auto a = parse_source("docker-archive:/tmp/x.tar");
    REQUIRE(a);
    CHECK(a->transport == Transport::kDockerArchive);
    CHECK(a->path == "/tmp/x.tar");
    auto d = parse_source("docker://127.0.0.1:5000/busybox:1");
    REQUIRE(d);
    CHECK(d->transport == Transport::kDocker);
    CHECK(d->remote.str() == "127.0.0.1:5000/busybox:1");
    CHECK_FALSE(parse_source("busybox"));
    CHECK_FALSE(parse_source("oci:"));
    CHECK_FALSE(parse_source("docker://Bad"));
}

TEST_CASE("registry URLs: http on loopback only", "[image]") {
    CHECK(registry_base_url(*parse_reference("127.0.0.1:5000/a", "docker.io")) ==
          "http://127.0.0.1:5000");
    CHECK(registry_base_url(*parse_reference("localhost:5000/a", "docker.io")) ==
          "http://localhost:5000");
    CHECK(registry_base_url(*parse_reference("127.0.0.1:5000/a", "docker.io"), true) ==
          "https://127.0.0.1:5000");
    CHECK(registry_base_url(*parse_reference("reg.example.com/a", "docker.io")) ==
          "https://reg.example.com");
    CHECK(registry_base_url(*parse_reference("busybox", "docker.io")) ==
          "https://registry-1.docker.io");
}

TEST_CASE("WWW-Authenticate challenges parse", "[image]") {
    auto c = parse_challenge(
        R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
    CHECK(c.scheme == "bearer");
    CHECK(c.params["realm"] == "https://auth.example/token");
    CHECK(c.params["service"] == "registry.example");
    CHECK(c.params["scope"] == "repository:a/b:pull,push");
    auto b = parse_challenge(R"(Basic realm="Registry Realm")");
    CHECK(b.scheme == "basic");
    CHECK(b.params["realm"] == "Registry Realm");
}
