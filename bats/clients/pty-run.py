#!/usr/bin/env python3
"""pty-run.py CMD [ARG...]: run CMD on a new pseudo-terminal (24 rows, 80 columns) as its
controlling terminal and stdio, copy what it writes to stdout, exit with its status.

Nothing is ever written to the terminal: the command sees a terminal nobody types into, and never
an end of file (script(1) with a closed stdin sends one, and podman's attach can then lose the
output). The copy stops when CMD has exited and its output is drained, even if something it
started still holds the terminal open.
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        try:
            os.execvp(sys.argv[1], sys.argv[1:])
        except OSError as e:
            os.write(2, f"pty-run: {sys.argv[1]}: {e}\n".encode())
            os._exit(127)
    status = None
    while True:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: every holder of the terminal closed it
                data = b""
            if data:
                os.write(1, data)
                continue
            if status is None:
                status = os.waitpid(pid, 0)[1]
            break
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        elif not ready:
            break  # exited, and nothing more to read for 0.1 s
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
