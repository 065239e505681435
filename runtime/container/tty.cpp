#include "runtime/container/tty.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "runtime/base/scope_exit.hpp"

namespace cove::tty {

Result<ConsolePair> console_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        return sys_error("socketpair");
    }
    return ConsolePair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<UniqueFd> connect_console(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return sys_error("console socket");
    }
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        return make_error("--console-socket: path too long");
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (::connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
        return sys_error("--console-socket: connect " + path);
    }
    return fd;
}

namespace {

void copy_winsize(int from, int to) {
    struct winsize ws {};
    if (::ioctl(from, TIOCGWINSZ, &ws) == 0) {
        ::ioctl(to, TIOCSWINSZ, &ws);
    }
}

// false on EOF or error.
bool pump(int from, int to) {
    char buf[16384];
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n <= 0) {
        return n < 0 && (errno == EINTR || errno == EAGAIN);
    }
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        off += w;
    }
    return true;
}

int exit_code(const siginfo_t& si) {
    if (si.si_code == CLD_EXITED) {
        return si.si_status;
    }
    return 128 + si.si_status;
}

}  // namespace

Result<int> wait_foreground(pid_t pid, int pidfd, int master) {
    sigset_t all, old;
    ::sigfillset(&all);
    ::sigdelset(&all, SIGSEGV);
    ::sigdelset(&all, SIGBUS);
    ::sigdelset(&all, SIGFPE);
    ::sigdelset(&all, SIGILL);
    ::sigprocmask(SIG_BLOCK, &all, &old);
    ScopeExit restore_mask([&] { ::sigprocmask(SIG_SETMASK, &old, nullptr); });
    UniqueFd sfd(::signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sfd) {
        return sys_error("signalfd");
    }
    struct termios saved {};
    bool raw = false;
    if (master >= 0 && ::isatty(0) != 0 && ::tcgetattr(0, &saved) == 0) {
        struct termios t = saved;
        ::cfmakeraw(&t);
        raw = ::tcsetattr(0, TCSANOW, &t) == 0;
        copy_winsize(0, master);
    }
    ScopeExit restore_tty([&] {
        if (raw) {
            ::tcsetattr(0, TCSANOW, &saved);
        }
    });
    bool stdin_open = master >= 0;
    bool master_open = master >= 0;
    for (;;) {
        struct pollfd p[4] = {{pidfd, POLLIN, 0},
                              {sfd.get(), POLLIN, 0},
                              {stdin_open ? 0 : -1, POLLIN, 0},
                              {master_open ? master : -1, POLLIN, 0}};
        // Once the process is gone, drain what the pty still holds, then report.
        int r = ::poll(p, 4, -1);
        if (r < 0 && errno != EINTR) {
            return sys_error("poll");
        }
        if ((p[3].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            master_open = pump(master, 1);
        }
        if ((p[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !pump(0, master)) {
            stdin_open = false;
        }
        if ((p[1].revents & POLLIN) != 0) {
            struct signalfd_siginfo si {};
            while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGWINCH && master >= 0) {
                    copy_winsize(0, master);
                } else if (si.ssi_signo != SIGCHLD) {
                    ::syscall(SYS_pidfd_send_signal, pidfd, si.ssi_signo, nullptr, 0);
                }
            }
        }
        if ((p[0].revents & POLLIN) != 0) {
            while (master_open && pump(master, 1)) {
                struct pollfd q = {master, POLLIN, 0};
                if (::poll(&q, 1, 0) <= 0 || (q.revents & POLLIN) == 0) {
                    break;
                }
            }
            siginfo_t si{};
            if (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &si, WEXITED) != 0) {
                return sys_error("wait");
            }
            (void)pid;
            return exit_code(si);
        }
    }
}

}  // namespace cove::tty
