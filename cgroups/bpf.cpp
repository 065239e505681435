#include "cgroups/bpf.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace cove::cgroups::bpf {

namespace {

uint64_t ptr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

long sys_bpf(int cmd, bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

Result<UniqueFd> prog_fd_by_id(uint32_t id) {
    bpf_attr attr{};
    attr.prog_id = id;
    UniqueFd fd(static_cast<int>(sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr)));
    if (!fd) {
        return sys_error("bpf: get program " + std::to_string(id));
    }
    return fd;
}

}  // namespace

Result<UniqueFd> load_device_program(const std::vector<bpf_insn>& prog) {
    // Kernels before 5.11 charge programs to RLIMIT_MEMLOCK; raise it where allowed (runc
    // does the same). Newer kernels charge the memory cgroup instead.
    struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    (void)::setrlimit(RLIMIT_MEMLOCK, &unlimited);

    static const char kLicense[] = "Apache";
    std::string log(64 * 1024, '\0');
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insn_cnt = static_cast<uint32_t>(prog.size());
    attr.insns = ptr(prog.data());
    attr.license = ptr(kLicense);
    attr.log_level = 1;
    attr.log_buf = ptr(log.data());
    attr.log_size = static_cast<uint32_t>(log.size());
    UniqueFd fd(static_cast<int>(sys_bpf(BPF_PROG_LOAD, &attr)));
    if (!fd) {
        int err = errno;
        log.resize(std::strlen(log.c_str()));
        while (!log.empty() && log.back() == '\n') {
            log.pop_back();
        }
        return errno_error(err, "bpf: load device filter" + (log.empty() ? "" : " (" + log + ")"));
    }
    return fd;
}

Result<std::vector<uint32_t>> attached_device_programs(int cgroup_fd) {
    std::vector<uint32_t> ids(64);
    for (;;) {
        bpf_attr attr{};
        attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = ptr(ids.data());
        attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
        if (sys_bpf(BPF_PROG_QUERY, &attr) == 0) {
            ids.resize(attr.query.prog_cnt);
            return ids;
        }
        if (errno != ENOSPC) {
            return sys_error("bpf: query device filters");
        }
        ids.resize(attr.query.prog_cnt);
    }
}

Status replace_device_filter(int cgroup_fd, const std::vector<bpf_insn>& prog) {
    COVE_ASSIGN(auto old_ids, attached_device_programs(cgroup_fd), "");
    // Hold the old programs by fd: an id can be reused once a program is gone.
    std::vector<UniqueFd> old;
    for (uint32_t id : old_ids) {
        auto fd = prog_fd_by_id(id);
        if (fd) {
            old.push_back(std::move(fd).value());
        }
    }
    COVE_ASSIGN(UniqueFd fd, load_device_program(prog), "");
    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(fd.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &attr) != 0) {
        return sys_error("bpf: attach device filter");
    }
    for (const auto& o : old) {
        bpf_attr d{};
        d.target_fd = static_cast<uint32_t>(cgroup_fd);
        d.attach_bpf_fd = static_cast<uint32_t>(o.get());
        d.attach_type = BPF_CGROUP_DEVICE;
        if (sys_bpf(BPF_PROG_DETACH, &d) != 0 && errno != ENOENT) {
            return sys_error("bpf: detach the previous device filter");
        }
    }
    return {};
}

}  // namespace cove::cgroups::bpf
