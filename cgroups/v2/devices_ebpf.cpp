#include "cgroups/v2/devices_ebpf.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "cgroups/devices.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::cgroups {

namespace {

constexpr uint8_t kR0 = 0, kR1 = 1, kR2 = 2, kR3 = 3, kR4 = 4, kR5 = 5;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

bpf_insn load_word(uint8_t dst, int16_t off) {
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, kR1, off, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) {
    return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn exit_insn() {
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

// One rule's block. Jumps are emitted with a placeholder offset and patched to the block's
// end once its length is known.
std::vector<bpf_insn> rule_block(const DeviceRule& r) {
    std::vector<bpf_insn> b;
    int32_t type = r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    b.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, kR2, 0, -1, type));
    int32_t access = 0;
    for (char c : r.access) {
        access |= c == 'r'   ? BPF_DEVCG_ACC_READ
                  : c == 'w' ? BPF_DEVCG_ACC_WRITE
                  : c == 'm' ? BPF_DEVCG_ACC_MKNOD
                             : 0;
    }
    if (access != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
        // Matches only when every requested access is in the rule's: (R3 & access) == R3.
        b.push_back(mov32_reg(kR1, kR3));
        b.push_back(alu32_imm(BPF_AND, kR1, access));
        b.push_back(insn(BPF_JMP | BPF_JNE | BPF_X, kR1, kR3, -1, 0));
    }
    if (r.major) {
        b.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, kR4, 0, -1, static_cast<int32_t>(*r.major)));
    }
    if (r.minor) {
        b.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, kR5, 0, -1, static_cast<int32_t>(*r.minor)));
    }
    b.push_back(alu32_imm(BPF_MOV, kR0, r.allow ? 1 : 0));
    b.push_back(exit_insn());
    for (size_t k = 0; k < b.size(); ++k) {
        if (b[k].off == -1 && BPF_CLASS(b[k].code) == BPF_JMP && BPF_OP(b[k].code) == BPF_JNE) {
            b[k].off = static_cast<int16_t>(b.size() - k - 1);
        }
    }
    return b;
}

long bpf(int cmd, bpf_attr& attr) {
    return ::syscall(SYS_bpf, cmd, &attr, sizeof(attr));
}

Result<UniqueFd> load(const std::vector<bpf_insn>& prog) {
    static const char kLicense[] = "Apache";
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<uint64_t>(prog.data());
    attr.insn_cnt = static_cast<uint32_t>(prog.size());
    attr.license = reinterpret_cast<uint64_t>(kLicense);
    long fd = bpf(BPF_PROG_LOAD, attr);
    if (fd >= 0) {
        return UniqueFd(static_cast<int>(fd));
    }
    int err = errno;
    // Again with the verifier's log, for the message.
    std::string log(16384, '\0');
    attr.log_level = 1;
    attr.log_buf = reinterpret_cast<uint64_t>(log.data());
    attr.log_size = static_cast<uint32_t>(log.size());
    fd = bpf(BPF_PROG_LOAD, attr);
    if (fd >= 0) {
        return UniqueFd(static_cast<int>(fd));
    }
    log.resize(std::strlen(log.c_str()));
    while (!log.empty() && log.back() == '\n') {
        log.pop_back();
    }
    return errno_error(err, "bpf load device filter" + (log.empty() ? "" : " (" + log + ")"));
}

Result<std::vector<uint32_t>> attached(int cgroup_fd) {
    std::vector<uint32_t> ids(64);
    bpf_attr attr{};
    attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, attr) != 0) {
        return sys_error("bpf query device filters");
    }
    ids.resize(attr.query.prog_cnt);
    return ids;
}

Status detach(int cgroup_fd, uint32_t id) {
    bpf_attr attr{};
    attr.prog_id = id;
    long fd = bpf(BPF_PROG_GET_FD_BY_ID, attr);
    if (fd < 0) {
        return errno == ENOENT ? Status{} : sys_error("bpf get program " + std::to_string(id));
    }
    UniqueFd prog(static_cast<int>(fd));
    attr = bpf_attr{};
    attr.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, attr) != 0 && errno != ENOENT) {
        return sys_error("bpf detach old device filter " + std::to_string(id));
    }
    return {};
}

Status attach(int cgroup_fd, int prog_fd) {
    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, attr) != 0) {
        return sys_error("bpf attach device filter");
    }
    return {};
}

}  // namespace

std::vector<bpf_insn> device_filter_program(const std::vector<DeviceRule>& rules) {
    DevicePolicy p = device_policy(rules);
    // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, access_type being
    // (access << 16) | type.
    std::vector<bpf_insn> prog = {
        load_word(kR2, 0), alu32_imm(BPF_AND, kR2, 0xFFFF),  // R2 = type
        load_word(kR3, 0), alu32_imm(BPF_RSH, kR3, 16),      // R3 = access
        load_word(kR4, 4),                                   // R4 = major
        load_word(kR5, 8),                                   // R5 = minor
    };
    for (auto it = p.rules.rbegin(); it != p.rules.rend(); ++it) {
        auto b = rule_block(*it);
        prog.insert(prog.end(), b.begin(), b.end());
    }
    prog.push_back(alu32_imm(BPF_MOV, kR0, p.default_allow ? 1 : 0));
    prog.push_back(exit_insn());
    return prog;
}

Status replace_device_filter(int cgroup_fd, const std::vector<bpf_insn>& prog) {
    COVE_ASSIGN(UniqueFd fd, load(prog), "");
    COVE_ASSIGN(auto old, attached(cgroup_fd), "");
    auto st = attach(cgroup_fd, fd.get());
    if (!st && st.error().code() == EPERM && !old.empty()) {
        // A program attached without BPF_F_ALLOW_MULTI (by another manager) cannot be
        // joined by a multi one: replace it with a moment of no filter.
        for (uint32_t id : old) {
            COVE_TRY(detach(cgroup_fd, id), "");
        }
        return attach(cgroup_fd, fd.get());
    }
    COVE_TRY(std::move(st), "");
    for (uint32_t id : old) {
        COVE_TRY(detach(cgroup_fd, id), "");
    }
    return {};
}

}  // namespace cove::cgroups
