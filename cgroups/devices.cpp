#include "cgroups/devices.hpp"

#include "runtime/base/strings.hpp"
#include "runtime/spec/spec.hpp"

namespace cove::cgroups {

namespace {

std::string key_string(char type, int64_t major, int64_t minor, unsigned bits) {
    return DeviceRule{false, type, major, minor, access_string(bits)}.to_string();
}

Result<DeviceRule> parse_list_line(std::string_view line) {
    // "c 1:3 rwm", "b *:* m", "a *:* rwm"
    auto parts = str::split(str::trim(line), ' ');
    auto nums = parts.size() == 3 ? str::split(parts[1], ':') : std::vector<std::string>{};
    if (parts.size() != 3 || parts[0].size() != 1 || nums.size() != 2) {
        return make_error("devices.list: malformed line \"" + std::string(line) + "\"");
    }
    DeviceRule r;
    r.allow = true;
    r.type = parts[0][0];
    int64_t* dst[2] = {&r.major, &r.minor};
    for (int i = 0; i < 2; ++i) {
        if (nums[i] == "*") {
            *dst[i] = -1;
        } else if (auto n = str::parse_int(nums[i]); n && *n >= 0) {
            *dst[i] = *n;
        } else {
            return make_error("devices.list: malformed line \"" + std::string(line) + "\"");
        }
    }
    r.access = parts[2];
    return r;
}

}  // namespace

unsigned access_bits(std::string_view access) {
    unsigned bits = 0;
    for (char c : access) {
        bits |= c == 'm' ? kAccMknod : c == 'r' ? kAccRead : c == 'w' ? kAccWrite : 0;
    }
    return bits;
}

std::string access_string(unsigned bits) {
    std::string s;
    if ((bits & kAccRead) != 0) {
        s += 'r';
    }
    if ((bits & kAccWrite) != 0) {
        s += 'w';
    }
    if ((bits & kAccMknod) != 0) {
        s += 'm';
    }
    return s;
}

Result<DeviceEmulator> DeviceEmulator::from_list(std::string_view list) {
    // Without an "a *:* rwm" line the cgroup is in allow-list mode.
    DeviceEmulator e;
    e.default_allow_ = false;
    for (const auto& line : str::split(list, '\n')) {
        if (str::trim(line).empty()) {
            continue;
        }
        COVE_ASSIGN(DeviceRule r, parse_list_line(line), "");
        if (r.type == 'a') {
            if (!e.exceptions_.empty()) {
                return make_error("devices.list: allow-all rule among other rules");
            }
            e.default_allow_ = true;
            continue;
        }
        if (e.default_allow_) {
            return make_error("devices.list: allow-all rule among other rules");
        }
        e.add({r.type, r.major, r.minor}, access_bits(r.access));
    }
    return e;
}

Result<DeviceEmulator> DeviceEmulator::from_rules(const std::vector<DeviceRule>& rules) {
    DeviceEmulator e;
    for (size_t i = 0; i < rules.size(); ++i) {
        COVE_TRY(e.apply(rules[i]), std::string(kResourcesField) + ".devices[" +
                                        std::to_string(i) + "]");
    }
    return e;
}

Status DeviceEmulator::apply(const DeviceRule& rule) {
    if (rule.type == 'a') {
        default_allow_ = rule.allow;
        exceptions_.clear();
        return {};
    }
    Key k{rule.type, rule.major, rule.minor};
    unsigned bits = access_bits(rule.access);
    // In allow-all mode the exceptions are denials, in deny-all mode they are allowances.
    if (rule.allow == default_allow_) {
        return remove(k, bits);
    }
    add(k, bits);
    return {};
}

void DeviceEmulator::add(const Key& k, unsigned bits) {
    if (bits != 0) {
        exceptions_[k] |= bits;
    }
}

// v1 silently ignores removing part of a wildcard exception; runc refuses such rules rather
// than give a false sense of security, and so does this.
Status DeviceEmulator::remove(const Key& k, unsigned bits) {
    auto [type, major, minor] = k;
    for (const Key& partial : {Key{type, -1, minor}, Key{type, major, -1}, Key{type, -1, -1}}) {
        if (partial == k) {
            continue;
        }
        auto it = exceptions_.find(partial);
        if (it != exceptions_.end() && (it->second & bits) != 0) {
            auto [pt, pmaj, pmin] = partial;
            return make_error("rule \"" + key_string(type, major, minor, bits) +
                              "\" is not supported: it would punch a hole in the wildcard rule \"" +
                              key_string(pt, pmaj, pmin, it->second) + "\"");
        }
    }
    auto it = exceptions_.find(k);
    if (it != exceptions_.end()) {
        it->second &= ~bits;
        if (it->second == 0) {
            exceptions_.erase(it);
        }
    }
    return {};
}

std::vector<DeviceRule> DeviceEmulator::rules() const {
    std::vector<DeviceRule> out = {{default_allow_, 'a', -1, -1, "rwm"}};
    for (const auto& [k, bits] : exceptions_) {
        auto [type, major, minor] = k;
        out.push_back({!default_allow_, type, major, minor, access_string(bits)});
    }
    return out;
}

std::vector<DeviceRule> DeviceEmulator::transition(const DeviceEmulator& target) const {
    std::vector<DeviceRule> out;
    std::map<Key, unsigned> old = exceptions_;
    if (default_allow_ || default_allow_ != target.default_allow_) {
        out.push_back({target.default_allow_, 'a', -1, -1, "rwm"});
        old.clear();
    }
    // Take back what the target no longer has, then add what is new.
    for (const auto& [k, bits] : old) {
        auto it = target.exceptions_.find(k);
        unsigned dropped = bits & ~(it == target.exceptions_.end() ? 0U : it->second);
        if (dropped != 0) {
            auto [type, major, minor] = k;
            out.push_back({target.default_allow_, type, major, minor, access_string(dropped)});
        }
    }
    for (const auto& [k, bits] : target.exceptions_) {
        auto it = old.find(k);
        unsigned gained = bits & ~(it == old.end() ? 0U : it->second);
        if (gained != 0) {
            auto [type, major, minor] = k;
            out.push_back({!target.default_allow_, type, major, minor, access_string(gained)});
        }
    }
    return out;
}

namespace {

// Registers used by the program (struct bpf_cgroup_dev_ctx is in r1 on entry).
enum Reg : uint8_t { kR0 = 0, kR1 = 1, kType = 2, kAccess = 3, kMajor = 4, kMinor = 5 };

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

bpf_insn load_u32(uint8_t dst, int16_t off) {
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, kR1, off, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn jne_imm(uint8_t dst, int32_t imm) { return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm); }
bpf_insn jne_reg(uint8_t dst, uint8_t src) { return insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, 0); }
bpf_insn jeq_imm(uint8_t dst, int32_t imm) { return insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, 0, imm); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// One exception: if every check passes, return its verdict; each failed check jumps to the
// next block. Exceptions are allowances (deny-all default) or denials (allow-all default).
std::vector<bpf_insn> rule_block(char type, int64_t major, int64_t minor, unsigned bits, bool allow) {
    std::vector<bpf_insn> b;
    b.push_back(jne_imm(kType, type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
    if (bits != kAccAll) {
        b.push_back(mov32_reg(kR1, kAccess));
        b.push_back(alu32_imm(BPF_AND, kR1, static_cast<int32_t>(bits)));
        if (allow) {
            // Allowed only when every requested access is in the rule.
            b.push_back(jne_reg(kR1, kAccess));
        } else {
            // Denied when any requested access is, as v1 matches deny rules.
            b.push_back(jeq_imm(kR1, 0));
        }
    }
    if (major >= 0) {
        b.push_back(jne_imm(kMajor, static_cast<int32_t>(major)));
    }
    if (minor >= 0) {
        b.push_back(jne_imm(kMinor, static_cast<int32_t>(minor)));
    }
    b.push_back(alu32_imm(BPF_MOV, kR0, allow ? 1 : 0));
    b.push_back(exit_insn());
    // Every jump so far goes to the end of the block.
    for (size_t i = 0; i < b.size(); ++i) {
        if (BPF_CLASS(b[i].code) == BPF_JMP && BPF_OP(b[i].code) != BPF_EXIT) {
            b[i].off = static_cast<int16_t>(b.size() - i - 1);
        }
    }
    return b;
}

}  // namespace

std::vector<bpf_insn> device_filter_program(const DeviceEmulator& e) {
    std::vector<bpf_insn> p = {
        load_u32(kType, 0),  // access_type: type in the low 16 bits, access in the high
        alu32_imm(BPF_AND, kType, 0xFFFF),
        load_u32(kAccess, 0),
        alu32_imm(BPF_RSH, kAccess, 16),
        load_u32(kMajor, 4),
        load_u32(kMinor, 8),
    };
    for (const auto& r : e.rules()) {
        if (r.type == 'a') {
            continue;  // the default, below
        }
        auto b = rule_block(r.type, r.major, r.minor, access_bits(r.access), r.allow);
        p.insert(p.end(), b.begin(), b.end());
    }
    p.push_back(alu32_imm(BPF_MOV, kR0, e.default_allow() ? 1 : 0));
    p.push_back(exit_insn());
    return p;
}

const std::vector<DeviceRule>& default_device_rules() {
    static const std::vector<DeviceRule> rules = {
        {true, 'c', -1, -1, "m"},    {true, 'b', -1, -1, "m"},     {true, 'c', 1, 3, "rwm"},
        {true, 'c', 1, 8, "rwm"},    {true, 'c', 1, 7, "rwm"},     {true, 'c', 5, 0, "rwm"},
        {true, 'c', 1, 5, "rwm"},    {true, 'c', 1, 9, "rwm"},     {true, 'c', 136, -1, "rwm"},
        {true, 'c', 5, 2, "rwm"},    {true, 'c', 10, 200, "rwm"},
    };
    return rules;
}

namespace {

nlohmann::json rule_json(const DeviceRule& r) {
    nlohmann::json j = {{"allow", r.allow}, {"type", std::string(1, r.type)}, {"access", r.access}};
    if (r.major >= 0) {
        j["major"] = r.major;
    }
    if (r.minor >= 0) {
        j["minor"] = r.minor;
    }
    return j;
}

}  // namespace

nlohmann::json resources_for_create(const nlohmann::json& resources,
                                    const std::vector<spec::Device>& devices) {
    nlohmann::json out = resources.is_object() ? resources : nlohmann::json::object();
    nlohmann::json rules = nlohmann::json::array();
    if (auto it = out.find("devices"); it != out.end() && it->is_array()) {
        rules = *it;
    }
    for (const auto& r : default_device_rules()) {
        rules.push_back(rule_json(r));
    }
    for (const auto& d : devices) {
        if (d.type == "c" || d.type == "u" || d.type == "b") {
            rules.push_back(rule_json({true, d.type == "b" ? 'b' : 'c', d.major, d.minor, "rwm"}));
        }
    }
    out["devices"] = std::move(rules);
    return out;
}

}  // namespace cove::cgroups
