#!/usr/bin/env bash
# kernel.sh: print the path of an uncompressed vmlinux (ELF, PVH entry) for the VM lane.
# Debian's kernel (the version linux-image-amd64 depends on) is downloaded with
# `apt-get download`, never installed on the host; only vmlinuz is taken out of the .deb and
# decompressed. The result is cached under $COVE_VM_CACHE/<package>_<version>/ so reruns cost
# nothing. COVE_VM_KERNEL=/path/to/vmlinux skips all of this (e.g. a minimal kernel).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ -n ${COVE_VM_KERNEL:-} ]]; then
    [[ -r $COVE_VM_KERNEL ]] || { echo "kernel.sh: COVE_VM_KERNEL=$COVE_VM_KERNEL: not readable" >&2; exit 1; }
    echo "$COVE_VM_KERNEL"
    exit 0
fi
cache=${COVE_VM_CACHE:-/var/cache/cove-vm}

# The package linux-image-amd64 points at and its version, from its Depends line, e.g.
# "linux-image-6.1.0-57-amd64 (= 6.1.192-3)". A fresh container image has no package lists:
# fetch them once.
target() {
    apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
        sed -n 's/^Depends: .*\(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -n1
}
read -r pkg version < <(target) || true
if [[ -z ${pkg:-} ]]; then
    apt-get update -qq >&2
    read -r pkg version < <(target) || true
fi
[[ -n ${pkg:-} && -n ${version:-} ]] || {
    echo "kernel.sh: apt-cache knows no linux-image-amd64 (not Debian?); set COVE_VM_KERNEL" >&2
    exit 1
}
dir=$cache/${pkg}_$version
if [[ -s $dir/vmlinux ]]; then
    echo "$dir/vmlinux"
    exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt drops to the _apt user for downloads: let it write the directory.
chmod 755 "$tmp"
chown _apt "$tmp" 2>/dev/null || true
echo "kernel.sh: fetching $pkg $version" >&2
if ! (cd "$tmp" && apt-get download -q "$pkg=$version" >&2); then
    # Stale package lists name a version the mirror dropped: refresh them once.
    apt-get update -qq >&2
    read -r pkg version < <(target)
    dir=$cache/${pkg}_$version
    (cd "$tmp" && apt-get download -q "$pkg=$version" >&2)
fi
deb=$(ls "$tmp"/*.deb)
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' './boot/config-*'
python3 "$here/extract-vmlinux.py" "$tmp"/boot/vmlinuz-* "$tmp/vmlinux"
# Older kernels are 66 MB each: keep only this one.
find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'linux-image-*' ! -path "$dir" -exec rm -rf {} +
mkdir -p "$dir"
mv "$tmp"/boot/config-* "$dir/config"
mv "$tmp/vmlinux" "$dir/vmlinux"
echo "$dir/vmlinux"
