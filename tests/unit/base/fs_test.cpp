// fs.hpp: host-side file helpers, clean_path, and the *_in_root helpers against hostile trees
// (absolute and relative symlinks that point out of the root, loops, symlinks as the final
// component). Everything must stay inside the root.
#include "runtime/base/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "tests/helpers/temp_dir.hpp"

namespace fs = cove::fs;
using cove::UniqueFd;

namespace {

// A fresh directory under /tmp, removed (without following symlinks) at the end.
struct TempDir : cove::test::TempDir {
    TempDir() : cove::test::TempDir("cove-ut-fs") {}
};

// Sets the umask for one test and puts the old one back.
struct Umask {
    mode_t old;
    explicit Umask(mode_t m) : old(::umask(m)) {}
    ~Umask() { ::umask(old); }
    Umask(const Umask&) = delete;
    Umask& operator=(const Umask&) = delete;
};

void put(const std::string& path, const std::string& data) {
    auto st = fs::write_file(path, data, O_CREAT | O_TRUNC);
    REQUIRE(st.ok());
}

void symlink_at(const std::string& target, const std::string& at) {
    REQUIRE(::symlink(target.c_str(), at.c_str()) == 0);
}

bool lexists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string fd_target(int fd) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(fs::fd_path(fd).c_str(), buf, sizeof buf - 1);
    REQUIRE(n > 0);
    return std::string(buf, static_cast<size_t>(n));
}

bool inside(const std::string& path, const std::string& root) {
    return path == root || path.rfind(root + "/", 0) == 0;
}

std::string read_all(int fd) {
    auto r = fs::read_fd(fd);
    REQUIRE(r.ok());
    return *r;
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode;
}

// A rootfs with links that point out of it, next to an "outside" directory that plays the
// host. Names under the host's /etc are unique per run so a leak could never clash.
struct HostileTree {
    TempDir base;
    std::string root = base.path + "/root";
    std::string outside = base.path + "/outside";
    std::string unique = "cove-ut-" + base.path.substr(base.path.rfind('-') + 1);
    UniqueFd root_fd;

    HostileTree() {
        REQUIRE(::mkdir(root.c_str(), 0755) == 0);
        REQUIRE(::mkdir(outside.c_str(), 0755) == 0);
        put(outside + "/secret", "host");
        REQUIRE(::mkdir((root + "/etc").c_str(), 0755) == 0);
        put(root + "/etc/passwd", "inside");
        put(root + "/file", "plain");
        REQUIRE(fs::mkdir_p(root + "/deep/a/b").ok());
        symlink_at("/etc", root + "/abs_etc");
        symlink_at(outside, root + "/abs_out");
        symlink_at("../outside", root + "/rel_out");
        // on the host this climbs to "/" and comes back down into outside/
        symlink_at("../../../../../../../../../.." + outside, root + "/deep/a/b/rel_many");
        symlink_at("../../../../../../../../etc", root + "/deep/a/b/rel_etc");
        symlink_at("loop2", root + "/loop1");
        symlink_at("loop1", root + "/loop2");
        symlink_at("self", root + "/self");
        symlink_at(outside + "/created", root + "/final_out");
        symlink_at("../outside/created_rel", root + "/final_rel");
        symlink_at("/etc/passwd", root + "/final_passwd");
        symlink_at("/etc", root + "/final_dir");
        REQUIRE(::mkfifo((root + "/fifo").c_str(), 0644) == 0);
        root_fd.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        REQUIRE(root_fd.valid());
    }

    int fd() const { return root_fd.get(); }
    // Nothing new appeared in the "host" directories.
    void check_host_untouched() const {
        int entries = 0;
        for (const auto& e : std::filesystem::directory_iterator(outside)) {
            (void)e;
            ++entries;
        }
        CHECK(entries == 1);  // only "secret"
        CHECK_FALSE(lexists("/etc/" + unique));
    }
};

std::string open_and_read(const HostileTree& t, const std::string& path) {
    auto f = fs::open_in_root(t.fd(), path, O_RDONLY);
    if (!f) {
        return "error: " + f.error().to_string();
    }
    return read_all(f->get());
}

}  // namespace

TEST_CASE("clean_path normalises lexically", "[fs][clean_path]") {
    CHECK(fs::clean_path("//a/./b/../c") == "/a/c");
    CHECK(fs::clean_path("/../..") == "/");
    CHECK(fs::clean_path("/a/b/../../../c") == "/c");
    CHECK(fs::clean_path("") == "/");
    CHECK(fs::clean_path("/") == "/");
    CHECK(fs::clean_path("///") == "/");
    CHECK(fs::clean_path("/./.") == "/");
    CHECK(fs::clean_path("/a//b///c/") == "/a/b/c");
    CHECK(fs::clean_path("a/b") == "/a/b");
    CHECK(fs::clean_path("../x") == "/x");
    CHECK(fs::clean_path("/..a/b..") == "/..a/b..");
    CHECK(fs::clean_path("/a/.../b") == "/a/.../b");
    CHECK(fs::clean_path("/dev/./pts/../null") == "/dev/null");
}

TEST_CASE("fd_path names an fd through /proc/self/fd", "[fs]") {
    CHECK(fs::fd_path(7) == "/proc/self/fd/7");
    TempDir d;
    UniqueFd fd(::open(d.path.c_str(), O_PATH | O_CLOEXEC));
    REQUIRE(fd.valid());
    CHECK(fd_target(fd.get()) == d.path);
}

TEST_CASE("read_file and write_file", "[fs][io]") {
    TempDir d;
    std::string p = d.path + "/f";

    SECTION("a missing file is ENOENT naming the path") {
        auto r = fs::read_file(p);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == ENOENT);
        CHECK(r.error().to_string() == "open " + p + ": " + std::strerror(ENOENT));
    }
    SECTION("write_file without O_CREAT does not create") {
        auto st = fs::write_file(p, "x");
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == ENOENT);
        CHECK(st.error().message() == "open " + p);
        CHECK_FALSE(fs::exists(p));
    }
    SECTION("round trip, truncate, in-place overwrite and append") {
        REQUIRE(fs::write_file(p, "hello\n", O_CREAT | O_TRUNC).ok());
        CHECK(fs::read_file(p).value() == "hello\n");
        REQUIRE(fs::write_file(p, "xyzxyz", O_TRUNC).ok());
        CHECK(fs::read_file(p).value() == "xyzxyz");
        // Without O_TRUNC the write lands at offset 0, as for a /proc or cgroup file.
        REQUIRE(fs::write_file(p, "abc").ok());
        CHECK(fs::read_file(p).value() == "abcxyz");
        REQUIRE(fs::write_file(p, "++", O_APPEND).ok());
        CHECK(fs::read_file(p).value() == "abcxyz++");
        REQUIRE(fs::write_file(p, "", O_TRUNC).ok());
        CHECK(fs::read_file(p).value().empty());
    }
    SECTION("large contents cross many reads") {
        std::string big(300 * 1024 + 17, '\0');
        for (size_t i = 0; i < big.size(); ++i) {
            big[i] = static_cast<char>('a' + i % 26);
        }
        REQUIRE(fs::write_file(p, big, O_CREAT | O_TRUNC).ok());
        auto r = fs::read_file(p);
        REQUIRE(r.ok());
        CHECK(r->size() == big.size());
        CHECK(*r == big);
    }
    SECTION("reading a directory fails and names the path") {
        auto r = fs::read_file(d.path);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == EISDIR);
        CHECK(r.error().message().find(d.path) != std::string::npos);
    }
    SECTION("read_fd reads a pipe to EOF") {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        UniqueFd r(fds[0]);
        UniqueFd w(fds[1]);
        REQUIRE(::write(w.get(), "pipe data", 9) == 9);
        w.reset();
        CHECK(read_all(r.get()) == "pipe data");
    }
    SECTION("exists") {
        CHECK(fs::exists(d.path));
        CHECK_FALSE(fs::exists(p));
        put(p, "");
        CHECK(fs::exists(p));
        symlink_at("missing", d.path + "/dangling");
        CHECK_FALSE(fs::exists(d.path + "/dangling"));  // follows the link
    }
}

TEST_CASE("atomic_write replaces the file in one step", "[fs][io]") {
    Umask um(022);
    TempDir d;
    std::string p = d.path + "/state.json";

    SECTION("new file, default mode 0600, no .tmp left") {
        REQUIRE(fs::atomic_write(p, "{}").ok());
        CHECK(fs::read_file(p).value() == "{}");
        CHECK((mode_of(p) & 07777) == 0600);
        CHECK_FALSE(lexists(p + ".tmp"));
    }
    SECTION("explicit mode") {
        REQUIRE(fs::atomic_write(p, "x", 0644).ok());
        CHECK((mode_of(p) & 07777) == 0644);
    }
    SECTION("a reader holding the old file sees the old contents") {
        REQUIRE(fs::atomic_write(p, "old").ok());
        UniqueFd old(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
        REQUIRE(old.valid());
        REQUIRE(fs::atomic_write(p, "new contents").ok());
        CHECK(read_all(old.get()) == "old");
        CHECK(fs::read_file(p).value() == "new contents");
    }
    SECTION("a symlink planted at path.tmp is not followed") {
        std::string victim = d.path + "/victim";
        put(victim, "keep");
        symlink_at(victim, p + ".tmp");
        auto st = fs::atomic_write(p, "evil");
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == ELOOP);
        CHECK(fs::read_file(victim).value() == "keep");
    }
    SECTION("a failed rename removes the temporary file") {
        REQUIRE(::mkdir(p.c_str(), 0755) == 0);
        put(p + "/inner", "");  // a non-empty directory cannot be replaced
        auto st = fs::atomic_write(p, "data");
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() != 0);
        CHECK(st.error().message().find("rename") != std::string::npos);
        CHECK_FALSE(lexists(p + ".tmp"));
    }
    SECTION("a missing directory is an error") {
        auto st = fs::atomic_write(d.path + "/no/such/file", "x");
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == ENOENT);
    }
}

TEST_CASE("mkdir_p", "[fs][mkdir_p]") {
    Umask um(022);
    TempDir d;

    SECTION("creates every missing parent with the mode") {
        std::string p = d.path + "/a/b/c";
        REQUIRE(fs::mkdir_p(p, 0700).ok());
        CHECK(S_ISDIR(mode_of(p)));
        CHECK((mode_of(p) & 07777) == 0700);
        CHECK((mode_of(d.path + "/a") & 07777) == 0700);
    }
    SECTION("existing directories, trailing and doubled slashes are fine") {
        REQUIRE(fs::mkdir_p(d.path + "/x/y/").ok());
        REQUIRE(fs::mkdir_p(d.path + "/x/y").ok());
        REQUIRE(fs::mkdir_p(d.path + "//x//z").ok());
        CHECK(S_ISDIR(mode_of(d.path + "/x/z")));
        CHECK(fs::mkdir_p("/").ok());
        CHECK(fs::mkdir_p("").ok());
    }
    SECTION("a file in the way is ENOTDIR") {
        put(d.path + "/file", "");
        auto st = fs::mkdir_p(d.path + "/file/sub");
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == ENOTDIR);
        auto self = fs::mkdir_p(d.path + "/file");
        REQUIRE_FALSE(self.ok());
        CHECK(self.error().code() == ENOTDIR);
        CHECK(self.error().message() == "mkdir " + d.path + "/file");
    }
    SECTION("a symlink to a directory counts as a directory") {
        REQUIRE(::mkdir((d.path + "/real").c_str(), 0755) == 0);
        symlink_at(d.path + "/real", d.path + "/alias");
        REQUIRE(fs::mkdir_p(d.path + "/alias/sub").ok());
        CHECK(S_ISDIR(mode_of(d.path + "/real/sub")));
    }
}

TEST_CASE("remove_all", "[fs][remove_all]") {
    TempDir d;

    SECTION("a missing path is fine") {
        CHECK(fs::remove_all(d.path + "/missing").ok());
        CHECK(fs::remove_all(d.path + "/missing/deeper").ok());
    }
    SECTION("a tree with files, fifos and links, without following links out") {
        std::string keep = d.path + "/keep";
        REQUIRE(fs::mkdir_p(keep + "/sub").ok());
        put(keep + "/sub/precious", "p");

        std::string t = d.path + "/tree";
        REQUIRE(fs::mkdir_p(t + "/a/b/c").ok());
        put(t + "/a/f1", "1");
        put(t + "/a/b/c/f2", "2");
        put(t + "/.hidden", "h");
        REQUIRE(::mkfifo((t + "/a/fifo").c_str(), 0600) == 0);
        symlink_at(keep, t + "/a/to_keep");
        symlink_at(keep + "/sub", t + "/a/b/to_sub");
        symlink_at("nowhere", t + "/dangling");
        REQUIRE(fs::remove_all(t).ok());
        CHECK_FALSE(lexists(t));
        CHECK(fs::read_file(keep + "/sub/precious").value() == "p");
    }
    SECTION("a single file") {
        put(d.path + "/one", "1");
        REQUIRE(fs::remove_all(d.path + "/one").ok());
        CHECK_FALSE(lexists(d.path + "/one"));
    }
    SECTION("a symlink to a directory removes the link only") {
        REQUIRE(fs::mkdir_p(d.path + "/target").ok());
        put(d.path + "/target/f", "x");
        symlink_at(d.path + "/target", d.path + "/link");
        REQUIRE(fs::remove_all(d.path + "/link").ok());
        CHECK_FALSE(lexists(d.path + "/link"));
        CHECK(fs::exists(d.path + "/target/f"));
    }
}

TEST_CASE("open_in_root resolves every path inside the root", "[fs][in_root]") {
    HostileTree t;

    CHECK(open_and_read(t, "/etc/passwd") == "inside");
    CHECK(open_and_read(t, "etc/passwd") == "inside");
    CHECK(open_and_read(t, "/abs_etc/passwd") == "inside");
    CHECK(open_and_read(t, "/deep/a/b/rel_etc/passwd") == "inside");
    CHECK(open_and_read(t, "../../../etc/passwd") == "inside");
    CHECK(open_and_read(t, "/deep/../../etc/./passwd") == "inside");
    CHECK(open_and_read(t, "final_passwd") == "inside");

    for (const char* escape : {"abs_out/secret", "rel_out/secret", "deep/a/b/rel_many/secret",
                               "../outside/secret", "/../../outside/secret"}) {
        INFO(escape);
        auto f = fs::open_in_root(t.fd(), escape, O_RDONLY);
        REQUIRE_FALSE(f.ok());
        CHECK(f.error().code() == ENOENT);
    }

    SECTION("the empty path and / are the root itself") {
        for (const char* p : {"", "/", ".", "..", "/../.."}) {
            INFO(p);
            auto f = fs::open_in_root(t.fd(), p, O_PATH | O_DIRECTORY);
            REQUIRE(f.ok());
            CHECK(fd_target(f->get()) == t.root);
        }
    }
    SECTION("symlink loops fail with ELOOP") {
        for (const char* p : {"loop1", "loop2/x", "self", "self/x"}) {
            INFO(p);
            auto f = fs::open_in_root(t.fd(), p, O_RDONLY);
            REQUIRE_FALSE(f.ok());
            CHECK(f.error().code() == ELOOP);
            CHECK(f.error().message() == std::string("open ") + p);
        }
    }
    SECTION("the fd is close-on-exec") {
        auto f = fs::open_in_root(t.fd(), "etc/passwd", O_RDONLY);
        REQUIRE(f.ok());
        CHECK((::fcntl(f->get(), F_GETFD) & FD_CLOEXEC) != 0);
    }
    SECTION("O_CREAT creates inside the root with the mode") {
        Umask um(022);
        auto f = fs::open_in_root(t.fd(), "abs_etc/new", O_WRONLY | O_CREAT | O_EXCL, 0640);
        REQUIRE(f.ok());
        CHECK((mode_of(t.root + "/etc/new") & 07777) == 0640);
        auto out = fs::open_in_root(t.fd(), "final_out", O_WRONLY | O_CREAT, 0644);
        if (out) {
            CHECK(inside(fd_target(out->get()), t.root));
        }
        t.check_host_untouched();
    }
    SECTION("RESOLVE_NO_SYMLINKS refuses any symlink on the way") {
        auto real = fs::open_in_root(t.fd(), "etc/passwd", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
        REQUIRE(real.ok());
        CHECK(read_all(real->get()) == "inside");
        for (const char* p : {"abs_etc/passwd", "final_passwd", "final_dir", "deep/a/b/rel_etc"}) {
            INFO(p);
            auto f = fs::open_in_root(t.fd(), p, O_PATH, 0, RESOLVE_NO_SYMLINKS);
            REQUIRE_FALSE(f.ok());
            CHECK(f.error().code() == ELOOP);
        }
    }
    t.check_host_untouched();
}

TEST_CASE("mkdir_in_root creates directories inside the root only", "[fs][in_root]") {
    Umask um(022);
    HostileTree t;

    SECTION("nested directories; the fd is an O_PATH directory") {
        auto f = fs::mkdir_in_root(t.fd(), "/a/b/c", 0750);
        REQUIRE(f.ok());
        CHECK(fd_target(f->get()) == t.root + "/a/b/c");
        CHECK((::fcntl(f->get(), F_GETFL) & O_PATH) != 0);
        CHECK((mode_of(t.root + "/a/b/c") & 07777) == 0750);
        CHECK((mode_of(t.root + "/a") & 07777) == 0750);
        // again: existing directories are fine
        auto again = fs::mkdir_in_root(t.fd(), "a/b/c");
        REQUIRE(again.ok());
        CHECK(fd_target(again->get()) == t.root + "/a/b/c");
    }
    SECTION("through an absolute symlink to a directory of the root") {
        auto f = fs::mkdir_in_root(t.fd(), "/abs_etc/" + t.unique + "/sub");
        REQUIRE(f.ok());
        CHECK(fd_target(f->get()) == t.root + "/etc/" + t.unique + "/sub");
    }
    SECTION("through a relative symlink with many ..") {
        auto f = fs::mkdir_in_root(t.fd(), "deep/a/b/rel_etc/" + t.unique);
        REQUIRE(f.ok());
        CHECK(fd_target(f->get()) == t.root + "/etc/" + t.unique);
    }
    SECTION(".. in the path never climbs out") {
        auto f = fs::mkdir_in_root(t.fd(), "../../x/../y");
        REQUIRE(f.ok());
        CHECK(fd_target(f->get()) == t.root + "/y");
        CHECK(S_ISDIR(mode_of(t.root + "/x")));
    }
    SECTION("the final component a symlink to a directory: the resolved directory") {
        auto f = fs::mkdir_in_root(t.fd(), "final_dir");
        REQUIRE(f.ok());
        CHECK(fd_target(f->get()) == t.root + "/etc");
    }
    SECTION("links that point out of the root create nothing outside") {
        for (const char* p :
             {"abs_out/x", "rel_out/x", "deep/a/b/rel_many/x", "final_out", "abs_out"}) {
            INFO(p);
            auto f = fs::mkdir_in_root(t.fd(), p);
            if (f) {
                CHECK(inside(fd_target(f->get()), t.root));
            }
        }
    }
    SECTION("loops are ELOOP") {
        for (const char* p : {"loop1/x", "self/x", "self"}) {
            INFO(p);
            auto f = fs::mkdir_in_root(t.fd(), p);
            REQUIRE_FALSE(f.ok());
            CHECK(f.error().code() == ELOOP);
        }
    }
    SECTION("a file on the way or at the end is ENOTDIR") {
        for (const char* p : {"file/x", "file", "final_passwd"}) {
            INFO(p);
            auto f = fs::mkdir_in_root(t.fd(), p);
            REQUIRE_FALSE(f.ok());
            CHECK(f.error().code() == ENOTDIR);
        }
    }
    SECTION("the root itself") {
        for (const char* p : {"", "/", "//"}) {
            INFO(p);
            auto f = fs::mkdir_in_root(t.fd(), p);
            REQUIRE(f.ok());
            CHECK(fd_target(f->get()) == t.root);
        }
    }
    t.check_host_untouched();
}

TEST_CASE("touch_in_root creates files inside the root only", "[fs][in_root]") {
    Umask um(022);
    HostileTree t;

    SECTION("creates parents and an empty regular file; the fd is O_PATH") {
        auto f = fs::touch_in_root(t.fd(), "/t/u/file", 0600);
        REQUIRE(f.ok());
        CHECK(fd_target(f->get()) == t.root + "/t/u/file");
        CHECK((::fcntl(f->get(), F_GETFL) & O_PATH) != 0);
        CHECK(S_ISREG(mode_of(t.root + "/t/u/file")));
        CHECK((mode_of(t.root + "/t/u/file") & 07777) == 0600);
        CHECK(S_ISDIR(mode_of(t.root + "/t/u")));
        CHECK(fs::read_file(t.root + "/t/u/file").value().empty());
    }
    SECTION("an existing file is kept as it is") {
        auto f = fs::touch_in_root(t.fd(), "file");
        REQUIRE(f.ok());
        CHECK(fd_target(f->get()) == t.root + "/file");
        CHECK(fs::read_file(t.root + "/file").value() == "plain");
    }
    SECTION("an existing fifo does not block") {
        auto f = fs::touch_in_root(t.fd(), "fifo");
        REQUIRE(f.ok());
        CHECK(fd_target(f->get()) == t.root + "/fifo");
    }
    SECTION("through absolute and relative links to directories of the root") {
        auto a = fs::touch_in_root(t.fd(), "abs_etc/" + t.unique);
        REQUIRE(a.ok());
        CHECK(fd_target(a->get()) == t.root + "/etc/" + t.unique);
        auto r = fs::touch_in_root(t.fd(), "deep/a/b/rel_etc/" + t.unique + "-rel");
        REQUIRE(r.ok());
        CHECK(fd_target(r->get()) == t.root + "/etc/" + t.unique + "-rel");
    }
    SECTION("a symlink as the final component resolves in the root") {
        auto f = fs::touch_in_root(t.fd(), "final_passwd");
        REQUIRE(f.ok());
        CHECK(fd_target(f->get()) == t.root + "/etc/passwd");
        CHECK(fs::read_file(t.root + "/etc/passwd").value() == "inside");
    }
    SECTION("links that point out of the root create nothing outside") {
        for (const char* p : {"final_out", "final_rel", "abs_out/newfile", "rel_out/newfile",
                              "deep/a/b/rel_many/newfile", "../outside/newfile"}) {
            INFO(p);
            auto f = fs::touch_in_root(t.fd(), p);
            if (f) {
                CHECK(inside(fd_target(f->get()), t.root));
            }
        }
        // the links themselves are still links
        CHECK(S_ISLNK(mode_of(t.root + "/final_out")));
        CHECK(S_ISLNK(mode_of(t.root + "/final_rel")));
    }
    SECTION("loops are errors") {
        for (const char* p : {"loop1", "self", "self/x"}) {
            INFO(p);
            auto f = fs::touch_in_root(t.fd(), p);
            REQUIRE_FALSE(f.ok());
            CHECK(f.error().code() == ELOOP);
        }
    }
    SECTION("a file as a parent is ENOTDIR") {
        auto f = fs::touch_in_root(t.fd(), "file/x");
        REQUIRE_FALSE(f.ok());
        CHECK(f.error().code() == ENOTDIR);
    }
    t.check_host_untouched();
}
