// libcurl, libarchive and libcrypto, loaded on first use. Linked normally they add ~40 shared
// libraries (gnutls, krb5, ldap, ICU, ...) and ~6 ms of CPU to EVERY exec of `cove`, which a
// shim runs several times per container start; only pulls and unpacks need them. lazy_libs.cpp
// defines the few functions cove calls, with the headers' exact signatures, each forwarding to
// the real one found with dlsym in a library dlopen()ed at first call.
#pragma once

#include "runtime/base/error.hpp"

namespace cove::image {

// Loads the three libraries now, so a missing one is a clean error before a pull starts
// (e.g. "image: load libcurl.so.4: ...: cannot open shared object file").
Status load_image_libraries();

}  // namespace cove::image
