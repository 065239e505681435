// state, list, ps, kill.
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/cli/signals.hpp"

namespace cove::cli {
namespace {

void print_json(const nlohmann::ordered_json& j) {
    std::string s = j.dump(2) + "\n";
    std::fputs(s.c_str(), stdout);
}

std::string owner_of(const std::string& root, const std::string& id) {
    struct stat st {};
    if (::stat((root + "/" + id).c_str(), &st) != 0) {
        return "";
    }
    struct passwd* pw = ::getpwuid(st.st_uid);  // NOLINT(concurrency-mt-unsafe)
    return pw != nullptr ? pw->pw_name : std::to_string(st.st_uid);
}

// runc's tabwriter: minwidth 12, padding 3.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& r : rows) {
        width.resize(std::max(width.size(), r.size()), 0);
        for (size_t i = 0; i < r.size(); ++i) {
            width[i] = std::max(width[i], r[i].size());
        }
    }
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) {
                line.append(std::max<size_t>(width[i] + 3, 12) - r[i].size(), ' ');
            }
        }
        line += "\n";
        std::fputs(line.c_str(), stdout);
    }
}

Status run_ps(const std::vector<pid_t>& pids, const std::vector<std::string>& ps_args) {
    // runc ps runs the host's ps and keeps the header and the container's lines.
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        return sys_error("ps: pipe");
    }
    std::vector<std::string> argv_s = {"ps"};
    argv_s.insert(argv_s.end(), ps_args.begin(), ps_args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t child = ::fork();
    if (child < 0) {
        return sys_error("ps: fork");
    }
    if (child == 0) {
        ::dup2(pipefd[1], 1);
        ::execvp("ps", argv.data());
        ::_exit(127);
    }
    ::close(pipefd[1]);
    UniqueFd rd(pipefd[0]);
    auto text = fs::read_fd(rd.get());
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!text) {
        return std::move(text).error().wrap("ps");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return make_error("ps: exit status " + std::to_string(WEXITSTATUS(status)));
    }
    const std::string& out = *text;
    auto lines = str::split(out, '\n');
    if (lines.empty()) {
        return make_error("ps: no output");
    }
    auto header = str::split(lines[0], ' ');
    size_t pid_col = 0;
    size_t col = 0;
    bool found = false;
    for (const auto& h : header) {
        if (h.empty()) {
            continue;
        }
        if (h == "PID") {
            pid_col = col;
            found = true;
        }
        ++col;
    }
    if (!found) {
        return make_error("ps: couldn't find PID field in ps output");
    }
    std::string result = lines[0] + "\n";
    for (size_t i = 1; i < lines.size(); ++i) {
        std::vector<std::string> fields;
        for (auto& f2 : str::split(lines[i], ' ')) {
            if (!f2.empty()) {
                fields.push_back(f2);
            }
        }
        if (fields.size() <= pid_col) {
            continue;
        }
        auto p = str::parse_int(fields[pid_col]);
        if (p && std::find(pids.begin(), pids.end(), static_cast<pid_t>(*p)) != pids.end()) {
            result += lines[i] + "\n";
        }
    }
    std::fputs(result.c_str(), stdout);
    return {};
}

}  // namespace

void add_state(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("state", "output the state of a container");
    auto id = std::make_shared<std::string>();
    cmd->add_option("container-id", *id, "the container's id")->required();
    cmd->callback([&cli, id] {
        guard(cli, [&]() -> Status {
            COVE_ASSIGN(auto j, state(cli.global, *id), "");
            print_json(j);
            return {};
        });
    });
}

void add_list(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("list", "list containers started by cove with the given root");
    auto quiet = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>("table");
    cmd->add_flag("-q,--quiet", *quiet, "display only container IDs");
    cmd->add_option("-f,--format", *format, "table or json")
        ->check(CLI::IsMember({"table", "json"}));
    cmd->callback([&cli, quiet, format] {
        guard(cli, [&]() -> Status {
            COVE_ASSIGN(auto all, list(cli.global), "");
            for (auto& j : all) {
                j["owner"] = owner_of(cli.global.root, j["id"]);
            }
            if (*quiet) {
                for (const auto& j : all) {
                    std::printf("%s\n", j["id"].get<std::string>().c_str());
                }
            } else if (*format == "json") {
                std::string s = nlohmann::ordered_json(all).dump() + "\n";
                std::fputs(all.empty() ? "null\n" : s.c_str(), stdout);
            } else {
                std::vector<std::vector<std::string>> rows = {
                    {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
                for (const auto& j : all) {
                    rows.push_back({j["id"], std::to_string(j["pid"].get<int>()), j["status"],
                                    j["bundle"], j["created"], j["owner"]});
                }
                print_table(rows);
            }
            return {};
        });
    });
}

void add_ps(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("ps", "display the processes running inside a container");
    auto format = std::make_shared<std::string>("table");
    cmd->add_option("-f,--format", *format, "table or json")
        ->check(CLI::IsMember({"table", "json"}));
    cmd->prefix_command();
    cmd->callback([&cli, cmd, format] {
        guard(cli, [&]() -> Status {
            auto rest = cmd->remaining();
            if (rest.empty()) {
                return make_error("ps: a container id is required");
            }
            std::string id = rest[0];
            std::vector<std::string> ps_args(rest.begin() + 1, rest.end());
            if (!ps_args.empty() && ps_args[0] == "--") {
                ps_args.erase(ps_args.begin());
            }
            COVE_ASSIGN(auto pids, pids(cli.global, id), "");
            if (*format == "json") {
                std::string s = nlohmann::json(pids).dump() + "\n";
                std::fputs(s.c_str(), stdout);
                return {};
            }
            if (ps_args.empty()) {
                ps_args = {"-ef"};
            }
            return run_ps(pids, ps_args);
        });
    });
}

void add_kill(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("kill", "send a signal to the container's init process");
    auto id = std::make_shared<std::string>();
    auto sig = std::make_shared<std::string>("SIGTERM");
    auto all = std::make_shared<bool>(false);
    cmd->add_option("container-id", *id, "the container's id")->required();
    cmd->add_option("signal", *sig, "signal name or number (default SIGTERM)");
    cmd->add_flag("-a,--all", *all, "send the signal to all processes in the container");
    cmd->callback([&cli, id, sig, all] {
        guard(cli, [&]() -> Status {
            int n = signal_from_name(*sig);
            if (n < 0) {
                return make_error("invalid signal \"" + *sig + "\"");
            }
            return kill(cli.global, *id, n, *all);
        });
    });
}

}  // namespace cove::cli
