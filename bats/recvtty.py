#!/usr/bin/env python3
"""A tiny --console-socket receiver for the bats suite (like runc's recvtty).

Listens on SOCKET, accepts one connection, receives the pty master with
SCM_RIGHTS, optionally writes --input to it, and copies everything the
container writes to the terminal into OUT until the slave side is closed.
--info gets a JSON line: the message that came with the fd and the fd's
/proc link target.
"""
import argparse
import json
import os
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid-file")
    ap.add_argument("--info")
    ap.add_argument("--input")
    ap.add_argument("socket")
    ap.add_argument("out")
    args = ap.parse_args()

    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(str(os.getpid()))

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = args.socket + ".tmp"
    srv.bind(tmp)
    srv.listen(1)
    # Appear atomically, so the test never connects to a half-made socket.
    os.rename(tmp, args.socket)

    conn, _ = srv.accept()
    msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
    conn.close()
    srv.close()
    if not fds:
        print("recvtty: no fd received", file=sys.stderr)
        return 1
    master = fds[0]
    for extra in fds[1:]:
        os.close(extra)

    if args.info:
        info = {
            "message": msg.decode(errors="replace"),
            "nfds": len(fds),
            "target": os.readlink(f"/proc/self/fd/{master}"),
        }
        with open(args.info, "w") as f:
            json.dump(info, f)
            f.write("\n")

    if args.input is not None:
        os.write(master, args.input.encode())

    with open(args.out, "ab", buffering=0) as out:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break  # EIO: every slave fd is closed
            if not data:
                break
            out.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
