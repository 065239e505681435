#!/usr/bin/env bash
# initramfs.sh OUT [RUNTIME]: the VM lane's guest image (uncompressed newc cpio, built from the
# current build each run). Holds busybox-static, the runtimes under test (cove from $COVE_BUILD;
# and a host runtime such as runc or crun when named, to validate the tests) with their shared
# libraries and loader, jq (the guest tests edit
# config.json with it), a busybox rootfs every test bundle points at, a base config.json made by
# `cove spec`, and the guest scripts (guest/init, guest/init2, guest/tests.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
extra=${2:-cove}
build=${COVE_BUILD:-$(cd "$here/../.." && pwd)/build}
cove=$build/cove
[[ -x $cove ]] || { echo "initramfs.sh: $cove: not built" >&2; exit 1; }
busybox=$(command -v busybox || true)
if [[ -z $busybox ]] || ldd "$busybox" >/dev/null 2>&1; then
    echo "initramfs.sh: need a static busybox (busybox-static)" >&2
    exit 1
fi

w=$(mktemp -d /tmp/cove-vm-initramfs.XXXXXX)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,dev,proc,sys,run,tmp,etc,vm}

# Copies a dynamic binary to the same path in the image, with every library ldd names (also
# at their own paths, symlinks resolved) and the loader.
add_binary() {
    local src=$1 dst=${2:-$1} lib
    install -D -m 755 "$src" "$w$dst"
    for lib in $(ldd "$src" 2>/dev/null | grep -o '/[^ ]*'); do
        [[ -e $w$lib ]] || install -D -m 755 "$(readlink -f "$lib")" "$w$lib"
    done
}

cp "$busybox" "$w/bin/busybox"
ln -s busybox "$w/bin/sh"
add_binary "$cove" /usr/local/bin/cove
# Debug info is most of a debug build's size (50 MB): the guest unpacks and copies it twice.
strip --strip-debug "$w/usr/local/bin/cove" 2>/dev/null || true
add_binary "$(command -v jq)" /usr/bin/jq
if [[ $extra != cove ]]; then
    bin=$(command -v "$extra") || { echo "initramfs.sh: $extra is not installed" >&2; exit 1; }
    add_binary "$bin" "/usr/sbin/$extra"
fi

install -m 755 "$here/guest/init" "$w/init"
install -m 755 "$here/guest/init2" "$here/guest/tests.sh" "$w/vm/"
echo 'root:x:0:0:root:/root:/bin/sh' >"$w/etc/passwd"
echo 'root:x:0:' >"$w/etc/group"

# The rootfs every test container runs (shared read-write; each config mounts a tmpfs on /tmp).
r=$w/vm/rootfs
mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root}
ln "$w/bin/busybox" "$r/bin/busybox"
for a in $("$busybox" --list); do
    [[ $a == busybox ]] || ln -s busybox "$r/bin/$a"
done
cp "$w/etc/passwd" "$w/etc/group" "$r/etc/"

# Base config: cove's default spec, no terminal, an absolute root path, a cgroup namespace
# (what podman and containerd ask for on cgroup v2) and a private /tmp.
(cd "$w/vm" && "$cove" spec)
jq '.process.terminal = false | .root.path = "/vm/rootfs" | .hostname = "vmtest"
    | .linux.namespaces += [{"type": "cgroup"}]
    | .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                   "options": ["nosuid", "nodev", "mode=1777", "size=16m"]}]' \
    "$w/vm/config.json" >"$w/vm/base.json"
rm "$w/vm/config.json"

# The kernel opens /dev/console in the initramfs for init's stdio, before devtmpfs exists.
mknod -m 600 "$w/dev/console" c 5 1
(cd "$w" && find . | cpio -o -H newc --quiet -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
