#include "image/lazy_libs.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

// curl.h wraps setopt/getinfo in type-checking macros; the definitions below need the names.
#define CURL_DISABLE_TYPECHECK 1
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <openssl/evp.h>

namespace cove::image {

namespace {

struct Lib {
    explicit Lib(const char* name) : soname(name) {}
    const char* soname;
    void* handle = nullptr;
    std::string error;
    std::once_flag once;
};

Lib kCurl{"libcurl.so.4"};
Lib kArchive{"libarchive.so.13"};
Lib kCrypto{"libcrypto.so.3"};

void* open_lib(Lib& lib) {
    std::call_once(lib.once, [&] {
        lib.handle = ::dlopen(lib.soname, RTLD_NOW | RTLD_LOCAL);
        if (lib.handle == nullptr) {
            const char* e = ::dlerror();
            lib.error = std::string("image: load ") + lib.soname + ": " +
                        (e != nullptr ? e : "dlopen failed");
        }
    });
    return lib.handle;
}

// Only reached when load_image_libraries() was skipped and a library is missing: there is no
// error channel through a C signature, so say why and stop.
[[noreturn]] void die(const std::string& msg) {
    std::string line = "cove: " + msg + "\n";
    if (::write(STDERR_FILENO, line.data(), line.size()) < 0) {
        ::_exit(1);
    }
    ::_exit(1);
}

void* sym(Lib& lib, const char* name) {
    void* h = open_lib(lib);
    if (h == nullptr) {
        die(lib.error);
    }
    void* f = ::dlsym(h, name);
    if (f == nullptr) {
        die(std::string("image: ") + lib.soname + " has no " + name);
    }
    return f;
}

}  // namespace

Status load_image_libraries() {
    for (Lib* lib : {&kCurl, &kArchive, &kCrypto}) {
        if (open_lib(*lib) == nullptr) {
            return make_error(lib->error);
        }
    }
    return ok_status();
}

}  // namespace cove::image

using cove::image::kArchive;
using cove::image::kCrypto;
using cove::image::kCurl;
using cove::image::sym;

// One forwarding definition per function cove calls; the declarations in the headers make
// the compiler check each signature. `nm -u build/image/.../*.o` lists what is needed.
#define COVE_LAZY(lib, ret, name, params, args)                                   \
    extern "C" ret name params {                                                  \
        static auto* real = reinterpret_cast<decltype(&::name)>(sym(lib, #name)); \
        return real args;                                                         \
    }

// libcrypto
COVE_LAZY(kCrypto, EVP_MD_CTX*, EVP_MD_CTX_new, (void), ())
COVE_LAZY(kCrypto, void, EVP_MD_CTX_free, (EVP_MD_CTX * c), (c))
COVE_LAZY(kCrypto, const EVP_MD*, EVP_sha256, (void), ())
COVE_LAZY(kCrypto, int, EVP_DigestInit_ex, (EVP_MD_CTX * c, const EVP_MD* t, ENGINE* e), (c, t, e))
COVE_LAZY(kCrypto, int, EVP_DigestUpdate, (EVP_MD_CTX * c, const void* d, size_t n), (c, d, n))
COVE_LAZY(kCrypto,
          int,
          EVP_DigestFinal_ex,
          (EVP_MD_CTX * c, unsigned char* md, unsigned int* s),
          (c, md, s))

// libcurl
COVE_LAZY(kCurl, CURL*, curl_easy_init, (void), ())
COVE_LAZY(kCurl, void, curl_easy_cleanup, (CURL * c), (c))
COVE_LAZY(kCurl, CURLcode, curl_easy_perform, (CURL * c), (c))
COVE_LAZY(kCurl, const char*, curl_easy_strerror, (CURLcode c), (c))
COVE_LAZY(
    kCurl, struct curl_slist*, curl_slist_append, (struct curl_slist * l, const char* s), (l, s))
COVE_LAZY(kCurl, void, curl_slist_free_all, (struct curl_slist * l), (l))

// The variadic two take exactly one argument whose type the option number encodes
// (curl.h: CURLOPTTYPE_* ranges; getinfo always takes a pointer).
extern "C" CURLcode curl_easy_setopt(CURL* c, CURLoption opt, ...) {
    static auto* real =
        reinterpret_cast<decltype(&::curl_easy_setopt)>(sym(kCurl, "curl_easy_setopt"));
    va_list ap;
    va_start(ap, opt);
    CURLcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT) {
        rc = real(c, opt, va_arg(ap, long));
    } else if (opt < CURLOPTTYPE_OFF_T) {
        rc = real(c, opt, va_arg(ap, void*));  // object and function pointers
    } else if (opt < CURLOPTTYPE_BLOB) {
        rc = real(c, opt, va_arg(ap, curl_off_t));
    } else {
        rc = real(c, opt, va_arg(ap, void*));
    }
    va_end(ap);
    return rc;
}

extern "C" CURLcode curl_easy_getinfo(CURL* c, CURLINFO info, ...) {
    static auto* real =
        reinterpret_cast<decltype(&::curl_easy_getinfo)>(sym(kCurl, "curl_easy_getinfo"));
    va_list ap;
    va_start(ap, info);
    CURLcode rc = real(c, info, va_arg(ap, void*));
    va_end(ap);
    return rc;
}

// libarchive
COVE_LAZY(kArchive, struct archive*, archive_read_new, (void), ())
COVE_LAZY(kArchive, int, archive_read_free, (struct archive * a), (a))
COVE_LAZY(kArchive, int, archive_read_support_filter_gzip, (struct archive * a), (a))
COVE_LAZY(kArchive, int, archive_read_support_filter_zstd, (struct archive * a), (a))
COVE_LAZY(kArchive, int, archive_read_support_format_raw, (struct archive * a), (a))
COVE_LAZY(kArchive, int, archive_read_support_format_tar, (struct archive * a), (a))
COVE_LAZY(kArchive,
          int,
          archive_read_open,
          (struct archive * a,
           void* d,
           archive_open_callback* o,
           archive_read_callback* r,
           archive_close_callback* c),
          (a, d, o, r, c))
COVE_LAZY(kArchive,
          int,
          archive_read_open_filename,
          (struct archive * a, const char* f, size_t b),
          (a, f, b))
COVE_LAZY(
    kArchive, int, archive_read_next_header, (struct archive * a, struct archive_entry** e), (a, e))
COVE_LAZY(
    kArchive, la_ssize_t, archive_read_data, (struct archive * a, void* b, size_t n), (a, b, n))
COVE_LAZY(kArchive,
          int,
          archive_read_data_block,
          (struct archive * a, const void** b, size_t* s, la_int64_t* o),
          (a, b, s, o))
COVE_LAZY(kArchive, const char*, archive_error_string, (struct archive * a), (a))
COVE_LAZY(kArchive, time_t, archive_entry_atime, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, long, archive_entry_atime_nsec, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, int, archive_entry_atime_is_set, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, time_t, archive_entry_mtime, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, long, archive_entry_mtime_nsec, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, __LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, __LA_MODE_T, archive_entry_perm, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, la_int64_t, archive_entry_uid, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, la_int64_t, archive_entry_gid, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, dev_t, archive_entry_rdevmajor, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, dev_t, archive_entry_rdevminor, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, const char*, archive_entry_pathname, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, const char*, archive_entry_hardlink, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, const char*, archive_entry_symlink, (struct archive_entry * e), (e))
COVE_LAZY(kArchive, int, archive_entry_xattr_reset, (struct archive_entry * e), (e))
COVE_LAZY(kArchive,
          int,
          archive_entry_xattr_next,
          (struct archive_entry * e, const char** n, const void** v, size_t* s),
          (e, n, v, s))

extern "C" void archive_set_error(struct archive* a, int err, const char* fmt, ...) {
    static auto* real =
        reinterpret_cast<decltype(&::archive_set_error)>(sym(kArchive, "archive_set_error"));
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    real(a, err, "%s", buf);
}
