// cove image pull/ls/rm/inspect (issue 5): the CLI over image::Store.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "image/digest.hpp"
#include "image/image.hpp"
#include "runtime/base/units.hpp"
#include "runtime/cli/cli.hpp"

namespace cove::cli {
namespace {

struct ImageFlags {
    std::string root;  // --image-root; empty: COVE_IMAGE_ROOT or /var/lib/cove/images
};

void print_rows(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> w;
    for (const auto& r : rows) {
        w.resize(std::max(w.size(), r.size()));
        for (size_t i = 0; i < r.size(); ++i) {
            w[i] = std::max(w[i], r[i].size());
        }
    }
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) {
                line += std::string(w[i] - r[i].size() + 2, ' ');
            }
        }
        std::printf("%s\n", line.c_str());
    }
}

void add_pull(CLI::App& image, Cli& cli, std::shared_ptr<ImageFlags> f) {
    auto* cmd = image.add_subcommand("pull", "import an image into the store");
    auto source = std::make_shared<std::string>();
    auto o = std::make_shared<image::PullOptions>();
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("source", *source,
                    "oci:DIR[:TAG], docker-archive:FILE[:REF] or docker://HOST[:PORT]/REPO[:TAG]")
        ->required();
    cmd->add_option("--name", o->name, "name for the image (oci: and docker-archive: sources)");
    cmd->add_option("--platform", o->platform, "os/arch[/variant] to choose from an index");
    cmd->add_option("--creds", o->creds, "registry credentials user:password");
    cmd->add_option("--ca-file", o->ca_file, "CA bundle (PEM) for https registries");
    cmd->add_option("--tls-verify", o->tls_verify, "verify registry certificates (default true)");
    cmd->add_flag("-q,--quiet", *quiet, "print only the image id");
    cmd->callback([&cli, f, source, o, quiet] {
        guard(cli, [&]() -> Status {
            COVE_ASSIGN(auto store, image::Store::open(f->root), "image pull");
            image::PullOptions opts = *o;
            if (!*quiet) {
                opts.progress = [](std::string_view line) {
                    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
                };
            }
            std::string src = *source;
            if (!image::is_source(src)) {
                src = "docker://" + src;
            }
            COVE_ASSIGN(auto img, store.pull(src, opts), "image pull");
            COVE_ASSIGN(auto rec, store.find(img.name), "image pull");
            std::printf("%s\n", std::string(image::digest_hex(rec.config_digest)).c_str());
            return {};
        });
    });
}

void add_ls(CLI::App& image, Cli& cli, std::shared_ptr<ImageFlags> f) {
    auto* cmd = image.add_subcommand("ls", "list images in the store");
    cmd->alias("list");
    auto quiet = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>("table");
    cmd->add_flag("-q,--quiet", *quiet, "display only image IDs");
    cmd->add_option("--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
    cmd->callback([&cli, f, quiet, format] {
        guard(cli, [&]() -> Status {
            COVE_ASSIGN(auto store, image::Store::open(f->root), "image ls");
            COVE_ASSIGN(auto recs, store.list(), "image ls");
            if (*quiet) {
                for (const auto& r : recs) {
                    std::printf("%s\n", image::short_id(r.config_digest).c_str());
                }
            } else if (*format == "json") {
                nlohmann::json all = nlohmann::json::array();
                for (const auto& r : recs) {
                    all.push_back({{"name", r.name},
                                   {"repository", r.repository()},
                                   {"tag", r.tag()},
                                   {"id", std::string(image::digest_hex(r.config_digest))},
                                   {"digest", r.manifest_digest},
                                   {"created", r.created},
                                   {"size", r.size}});
                }
                std::printf("%s\n", all.dump(2).c_str());
            } else {
                std::vector<std::vector<std::string>> rows = {
                    {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}};
                for (const auto& r : recs) {
                    rows.push_back({r.repository(), r.tag(), image::short_id(r.config_digest),
                                    r.created, human_size(r.size, SizeDigits::kThreeSignificant)});
                }
                print_rows(rows);
            }
            return {};
        });
    });
}

void add_rm(CLI::App& image, Cli& cli, std::shared_ptr<ImageFlags> f) {
    auto* cmd = image.add_subcommand("rm", "remove images and their unused blobs and layers");
    auto names = std::make_shared<std::vector<std::string>>();
    cmd->add_option("name", *names, "image names or ids")->required();
    cmd->callback([&cli, f, names] {
        guard(cli, [&]() -> Status {
            COVE_ASSIGN(auto store, image::Store::open(f->root), "image rm");
            COVE_TRY(store.remove(*names), "image rm");
            return {};
        });
    });
}

void add_inspect(CLI::App& image, Cli& cli, std::shared_ptr<ImageFlags> f) {
    auto* cmd = image.add_subcommand("inspect", "print an image's record, manifest and config");
    auto name = std::make_shared<std::string>();
    cmd->add_option("name", *name, "image name or id")->required();
    cmd->callback([&cli, f, name] {
        guard(cli, [&]() -> Status {
            COVE_ASSIGN(auto store, image::Store::open(f->root), "image inspect");
            COVE_ASSIGN(auto j, store.inspect(*name), "image inspect");
            std::printf("%s\n", j.dump(2).c_str());
            return {};
        });
    });
}

}  // namespace

void add_image_commands(CLI::App& app, Cli& cli) {
    auto* image = app.add_subcommand("image", "manage images (pull, ls, rm, inspect)");
    image->require_subcommand(1);
    auto f = std::make_shared<ImageFlags>();
    image->add_option("--image-root", f->root,
                      "image store (default: $COVE_IMAGE_ROOT or /var/lib/cove/images)");
    add_pull(*image, cli, f);
    add_ls(*image, cli, f);
    add_rm(*image, cli, f);
    add_inspect(*image, cli, f);
}

}  // namespace cove::cli
