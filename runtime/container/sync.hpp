// The parent<->child channel of create and exec: a SOCK_SEQPACKET pair carrying typed frames.
// The child's errors cross as a kError frame, so the user sees the real cause; fds (a pty
// master) cross with SCM_RIGHTS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::sync {

enum class Type : uint32_t {
    kGo = 1,         // parent -> child: ids mapped; payload: state JSON
    kHooks = 2,      // child -> parent: run prestart/createRuntime hooks now
    kHooksDone = 3,  // parent -> child
    kReady = 4,      // child -> parent: set up, waiting on exec.fifo
    kError = 5,      // child -> parent: payload is the message; code = errno; aux = exit code
    kPid = 6,        // child -> parent: aux = the init's pid (two-stage start)
    kUserns = 7,     // child -> parent: my new user namespace needs its id maps
    kCgroup = 8,     // parent -> child: you are in your cgroup now
};

struct Frame {
    Type type = Type::kError;
    int32_t code = 0;
    int32_t aux = 0;
    std::string payload;
};

struct Pair {
    UniqueFd parent;
    UniqueFd child;
};
Result<Pair> make_pair();

Status send(int fd, Type type, std::string_view payload = {}, int32_t code = 0, int32_t aux = 0);
// Sends an Error as a kError frame; best effort (used on the child's way out).
void send_error(int fd, const Error& e);
// Receives one frame. EOF is an error with code EPIPE.
Result<Frame> recv(int fd);
// Receives a frame and fails unless it has the expected type; a kError frame becomes the Error.
Status expect(int fd, Type type, Frame* out = nullptr);

// SCM_RIGHTS over a unix socket.
// `name` travels as the message data: runc sends the pty's path with the master.
Status send_fd(int sock, int fd, std::string_view name = {});
Result<UniqueFd> recv_fd(int sock);

}  // namespace cove::sync
