#include "cgroups/v2/devices_ebpf.hpp"

#include <catch2/catch.hpp>

using namespace cove::cgroups;

namespace {

// The program as text, one instruction per line, in the few opcodes the generator emits.
std::vector<std::string> dis(const std::vector<bpf_insn>& prog) {
    std::vector<std::string> out;
    for (const auto& i : prog) {
        std::string r = "r" + std::to_string(i.dst_reg);
        std::string s = "r" + std::to_string(i.src_reg);
        std::string imm = std::to_string(i.imm);
        std::string off = "+" + std::to_string(i.off);
        switch (i.code) {
            case BPF_LDX | BPF_MEM | BPF_W:
                out.push_back("ldxw " + r + " " + s + "+" + std::to_string(i.off));
                break;
            case BPF_ALU | BPF_AND | BPF_K:
                out.push_back("and32 " + r + " " + imm);
                break;
            case BPF_ALU | BPF_RSH | BPF_K:
                out.push_back("rsh32 " + r + " " + imm);
                break;
            case BPF_ALU | BPF_MOV | BPF_K:
                out.push_back("mov32 " + r + " " + imm);
                break;
            case BPF_ALU | BPF_MOV | BPF_X:
                out.push_back("mov32 " + r + " " + s);
                break;
            case BPF_JMP | BPF_JNE | BPF_K:
                out.push_back("jne " + r + " " + imm + " " + off);
                break;
            case BPF_JMP | BPF_JNE | BPF_X:
                out.push_back("jne " + r + " " + s + " " + off);
                break;
            case BPF_JMP | BPF_JEQ | BPF_K:
                out.push_back("jeq " + r + " " + imm + " " + off);
                break;
            case BPF_JMP | BPF_EXIT:
                out.push_back("exit");
                break;
            default:
                out.push_back("?" + std::to_string(i.code));
        }
    }
    return out;
}

// Runs the program on one access, as the kernel would: 1 allow, 0 deny.
int run(const std::vector<bpf_insn>& prog,
        char type,
        const std::string& access,
        uint32_t major,
        uint32_t minor) {
    uint32_t acc = 0;
    for (char c : access) {
        acc |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
    }
    uint32_t ctx[3] = {(acc << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
                       major, minor};
    uint64_t reg[11] = {};
    for (size_t pc = 0; pc < prog.size(); ++pc) {
        const auto& i = prog[pc];
        uint64_t& d = reg[i.dst_reg];
        switch (i.code) {
            case BPF_LDX | BPF_MEM | BPF_W:
                d = ctx[i.off / 4];
                break;
            case BPF_ALU | BPF_AND | BPF_K:
                d = static_cast<uint32_t>(d) & static_cast<uint32_t>(i.imm);
                break;
            case BPF_ALU | BPF_RSH | BPF_K:
                d = static_cast<uint32_t>(d) >> i.imm;
                break;
            case BPF_ALU | BPF_MOV | BPF_K:
                d = static_cast<uint32_t>(i.imm);
                break;
            case BPF_ALU | BPF_MOV | BPF_X:
                d = static_cast<uint32_t>(reg[i.src_reg]);
                break;
            case BPF_JMP | BPF_JNE | BPF_K:
                if (d != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) {
                    pc += i.off;
                }
                break;
            case BPF_JMP | BPF_JNE | BPF_X:
                if (d != reg[i.src_reg]) {
                    pc += i.off;
                }
                break;
            case BPF_JMP | BPF_JEQ | BPF_K:
                if (d == static_cast<uint64_t>(static_cast<int64_t>(i.imm))) {
                    pc += i.off;
                }
                break;
            case BPF_JMP | BPF_EXIT:
                return static_cast<int>(reg[0]);
            default:
                FAIL("unknown opcode");
        }
    }
    FAIL("fell off the end");
    return -1;
}

const std::vector<std::string> kPrologue = {"ldxw r2 r1+0", "and32 r2 65535", "ldxw r3 r1+0",
                                            "rsh32 r3 16",  "ldxw r4 r1+4",   "ldxw r5 r1+8"};

std::vector<std::string> with_prologue(std::vector<std::string> body) {
    std::vector<std::string> out = kPrologue;
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

}  // namespace

TEST_CASE("eBPF device filter: deny-all alone", "[cgroups][devices][ebpf]") {
    auto prog = device_filter_program({{false, 'a', std::nullopt, std::nullopt, "rwm"}});
    CHECK(dis(prog) == with_prologue({"mov32 r0 0", "exit"}));
    CHECK(run(prog, 'c', "r", 1, 3) == 0);
}

TEST_CASE("eBPF device filter: one allow rule with an access subset", "[cgroups][devices][ebpf]") {
    auto prog = device_filter_program(
        {{false, 'a', std::nullopt, std::nullopt, "rwm"}, {true, 'c', 1, 3, "rw"}});
    CHECK(dis(prog) == with_prologue({
                           "jne r2 2 +7",   // not a char device: next block
                           "mov32 r1 r3",   // access must be within "rw"
                           "and32 r1 6",    // (read 2 | write 4)
                           "jne r1 r3 +4",  //
                           "jne r4 1 +3",   // major
                           "jne r5 3 +2",   // minor
                           "mov32 r0 1",    // allow
                           "exit",          //
                           "mov32 r0 0",    // default: deny
                           "exit",
                       }));
    CHECK(run(prog, 'c', "rw", 1, 3) == 1);
    CHECK(run(prog, 'c', "r", 1, 3) == 1);
    CHECK(run(prog, 'c', "m", 1, 3) == 0);
    CHECK(run(prog, 'b', "r", 1, 3) == 0);
    CHECK(run(prog, 'c', "r", 1, 5) == 0);
}

TEST_CASE("eBPF device filter: wildcards and rwm skip their checks", "[cgroups][devices][ebpf]") {
    auto prog = device_filter_program({{false, 'a', std::nullopt, std::nullopt, "rwm"},
                                       {true, 'c', 136, std::nullopt, "rwm"},
                                       {true, 'b', std::nullopt, std::nullopt, "m"}});
    CHECK(dis(prog) == with_prologue({
                           "jne r2 2 +3",  // c 136:* rwm
                           "jne r4 136 +2",
                           "mov32 r0 1",
                           "exit",
                           "jne r2 1 +5",  // b *:* m
                           "mov32 r1 r3",
                           "and32 r1 1",
                           "jne r1 r3 +2",
                           "mov32 r0 1",
                           "exit",
                           "mov32 r0 0",
                           "exit",
                       }));
}

TEST_CASE("eBPF device filter: with allow-all, a deny catches any of its accesses",
          "[cgroups][devices][ebpf]") {
    auto prog = device_filter_program(
        {{true, 'a', std::nullopt, std::nullopt, "rwm"}, {false, 'c', 1, 3, "w"}});
    CHECK(dis(prog) == with_prologue({
                           "jne r2 2 +7",
                           "mov32 r1 r3",
                           "and32 r1 4",
                           "jeq r1 0 +4",  // no write requested: not this exception
                           "jne r4 1 +3",
                           "jne r5 3 +2",
                           "mov32 r0 0",
                           "exit",
                           "mov32 r0 1",
                           "exit",
                       }));
    CHECK(run(prog, 'c', "rw", 1, 3) == 0);
    CHECK(run(prog, 'c', "r", 1, 3) == 1);
}

TEST_CASE("eBPF device filter: the rules mean what they mean on cgroup v1",
          "[cgroups][devices][ebpf]") {
    DeviceRule deny_all{false, 'a', std::nullopt, std::nullopt, "rwm"};
    DeviceRule allow_all{true, 'a', std::nullopt, std::nullopt, "rwm"};
    std::vector<DeviceRule> rules = {deny_all, {true, 'c', 1, 3, "rwm"}, {false, 'c', 1, 3, "w"}};
    auto prog = device_filter_program(rules);
    CHECK(run(prog, 'c', "r", 1, 3) == 1);
    CHECK(run(prog, 'c', "w", 1, 3) == 0);
    CHECK(run(prog, 'c', "rw", 1, 3) == 0);  // the deny took w away from the exception
    CHECK(run(prog, 'c', "rm", 1, 3) == 1);
    // Accesses of one device granted in two rules add up (one exception, "rw").
    prog = device_filter_program({deny_all, {true, 'c', 1, 3, "r"}, {true, 'c', 1, 3, "w"}});
    CHECK(run(prog, 'c', "rw", 1, 3) == 1);
    // An allow-all default with holes.
    prog = device_filter_program(
        {deny_all, {true, 'c', 1, 3, "rwm"}, allow_all, {false, 'b', 8, std::nullopt, "rwm"}});
    CHECK(run(prog, 'c', "rw", 4, 1) == 1);
    CHECK(run(prog, 'b', "r", 8, 16) == 0);
    CHECK(run(prog, 'b', "r", 9, 0) == 1);
    // No 'a' rule at all: deny what is not listed (runc's emulator).
    prog = device_filter_program({{true, 'c', 1, 5, "rwm"}});
    CHECK(run(prog, 'c', "r", 1, 5) == 1);
    CHECK(run(prog, 'c', "r", 1, 3) == 0);
}
