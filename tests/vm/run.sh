#!/usr/bin/env bash
# The VM lane: QEMU (TCG, microvm) boots Debian's kernel cgroup2-only (cgroup_no_v1=all) with
# an initramfs holding the current build's cove, and runs the cgroup v2 enforcement tests of
# guest/tests.sh against a busybox bundle inside the guest. The guest prints TAP on the serial
# console; this script streams it and exits non-zero on any "not ok", on a guest timeout or
# when the guest did not finish. Needs root (mknod in the image) and qemu-system-x86.
#
# Usage: tests/vm/run.sh [-r cove|runc] [-s] [-t SECONDS] [TEST...]
#   TEST...   only these (lifecycle memory pids cpu freeze update devices killall nested)
#   -r        runtime run in the guest (default $RUNTIME or cove; runc validates the tests)
#   -s        interactive: a shell on the console after the tests (no timeout; exit it to stop)
#   -t        hard timeout for the whole VM (default $COVE_VM_TIMEOUT or 600)
# Environment: COVE_BUILD (default <repo>/build), COVE_VM_KERNEL (a vmlinux to boot instead of
#   Debian's), COVE_VM_CACHE (kernel cache, /var/cache/cove-vm), COVE_VM_DEBUG=1 (kernel
#   messages on the console and `set -x` in the tests), COVE_VM_KEEP=1 (keep the work dir).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export COVE_BUILD=${COVE_BUILD:-$(cd "$here/../.." && pwd)/build}
runtime=${RUNTIME:-cove}
timeout=${COVE_VM_TIMEOUT:-600}
shell=0
while getopts r:st:h opt; do
    case $opt in
    r) runtime=$OPTARG ;;
    s) shell=1 ;;
    t) timeout=$OPTARG ;;
    *)
        sed -n '8,16p' "$0" >&2
        exit 2
        ;;
    esac
done
shift $((OPTIND - 1))
tests=$(
    IFS=,
    echo "$*"
)

all=$(sed -n 's/^ALL="\(.*\)"$/\1/p' "$here/guest/tests.sh")
for t in "$@"; do
    [[ " $all " == *" $t "* ]] || { echo "vm: no test '$t' (tests: $all)" >&2; exit 2; }
done

qemu=$(command -v qemu-system-x86_64 || true)
if [[ -z $qemu ]]; then
    echo "1..0 # skip qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
    exit 0
fi
((EUID == 0)) || { echo "vm: needs root (the initramfs holds device nodes)" >&2; exit 1; }
for tool in cpio jq python3 busybox; do
    command -v $tool >/dev/null || { echo "vm: $tool is not installed" >&2; exit 1; }
done

start=$SECONDS
work=$(mktemp -d /tmp/cove-vm.XXXXXX)
qpid=
tailpid=
cleanup() {
    local rc=$?
    set +e # a failing kill or wait must not end the cleanup (errexit)
    if [[ -n $qpid ]]; then
        kill -9 "$qpid" 2>/dev/null
        wait "$qpid" 2>/dev/null
    fi
    if [[ -n $tailpid ]]; then
        kill "$tailpid" 2>/dev/null
        wait "$tailpid" 2>/dev/null
    fi
    if [[ ${COVE_VM_KEEP:-0} == 1 ]]; then echo "vm: work dir kept: $work" >&2; else rm -rf "$work"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

vmlinux=$("$here/kernel.sh")
"$here/initramfs.sh" "$work/initramfs.cpio" "$runtime"
prep=$((SECONDS - start))

# TCG's guest TSC runs at the host's rate; without tsc_early_khz the calibration against the
# PIT fails at random under TCG and the guest hangs (see /work/shared/KATA.md, trap 2).
khz=$(cat /sys/devices/system/cpu/cpu0/tsc_freq_khz 2>/dev/null ||
    awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
fast="cryptomgr.notests initcall_blacklist=init_kprobe_trace,load_system_certificate_list
      tsc=reliable no_timer_check mitigations=off audit=0 apparmor=0 nowatchdog
      rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1 i8042.noaux=1
      noreplace-smp"
if [[ ${COVE_VM_DEBUG:-0} == 1 ]]; then quiet="cove.debug=1"; else quiet="quiet loglevel=1"; fi
append="console=ttyS0 panic=-1 reboot=t cgroup_no_v1=all ${khz:+tsc_early_khz=$khz} $quiet
        $fast cove.runtime=$runtime ${tests:+cove.tests=$tests} cove.shell=$shell"
# QEMU >= 8 no longer boots -kernel on microvm without its option ROMs.
major=$("$qemu" --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
machine=microvm
((major < 8)) && machine=microvm,x-option-roms=off
qemu_args=(-M "$machine" -accel tcg -cpu qemu64 -m 512M -smp 1
    -nodefaults -no-user-config -display none -no-reboot
    -kernel "$vmlinux" -initrd "$work/initramfs.cpio" -append "$(tr -s ' \n' ' ' <<<"$append")")

if ((shell)); then
    "$qemu" "${qemu_args[@]}" -serial mon:stdio
    exit
fi

echo "vm: $runtime in a cgroup2-only guest, kernel $vmlinux (prepared in ${prep}s)" >&2
console=$work/console.log
: >"$console"
boot=$SECONDS
"$qemu" "${qemu_args[@]}" -serial "file:$console" </dev/null >"$work/qemu.log" 2>&1 &
qpid=$!
tail -n +1 -f --pid="$qpid" "$console" | tr -d '\r' &
tailpid=$!
timed_out=0
while kill -0 "$qpid" 2>/dev/null; do
    if ((SECONDS - boot > timeout)); then
        timed_out=1
        kill -9 "$qpid" 2>/dev/null
        break
    fi
    sleep 0.5
done
wait "$qpid" 2>/dev/null && qrc=0 || qrc=$?
qpid=
wait "$tailpid" 2>/dev/null || true
tailpid=

out=$(tr -d '\r' <"$console")
passed=$(grep -c '^ok ' <<<"$out" || true)
failed=$(grep -c '^not ok ' <<<"$out" || true)
up=$(sed -n 's/^# vm: up \([0-9.]*\)s.*/\1/p' <<<"$out")
echo "vm: guest ready for the tests ${up:-(never)}${up:+s after boot (guest clock)}; VM ran $((SECONDS - boot))s; lane $((SECONDS - start))s" >&2
status=0
if ((timed_out)); then
    echo "vm: FAILED: the guest did not finish within ${timeout}s (QEMU killed)" >&2
    status=1
elif ! grep -q '^# vm: done' <<<"$out"; then
    echo "vm: FAILED: the guest did not finish its tests (QEMU exit $qrc)" >&2
    sed 's/^/vm: qemu: /' "$work/qemu.log" >&2
    status=1
fi
if ((failed)); then
    echo "vm: FAILED: $failed of $((passed + failed)) checks with $runtime:" >&2
    grep '^not ok ' <<<"$out" | sed 's/^/vm:   /' >&2
    sed -n 's/^# failed tests: /vm: failed tests: /p' <<<"$out" >&2
    status=1
elif ((status == 0)); then
    echo "vm: all $passed checks passed with $runtime" >&2
fi
exit $status
