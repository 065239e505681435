#!/bin/sh
# tests.sh [NAME...]: cgroup v2 enforcement tests for an OCI runtime with runc's CLI, run as
# root inside the VM lane's cgroup2-only guest (busybox sh). $RUNTIME is the runtime (cove by
# default; runc validates the tests themselves). Prints TAP ("ok N - test: check", "not ok",
# "# diagnostics", "1..N" at the end); exits 1 when a check failed. Each test runs in its own
# shell under a timeout and ends with a leak check (no cgroup dir, no state dir left).
# Containers get cgroupsPath /vmtest/<id>, so their cgroup is /sys/fs/cgroup/vmtest/<id>.
RT=${RUNTIME:-cove}
CG=/sys/fs/cgroup
PARENT=vmtest
B=/tmp/bundles
ERR=/tmp/rt.err
ALL="lifecycle memory pids cpu freeze update devices killall nested"
TEST_TIMEOUT=${TEST_TIMEOUT:-240}

# --- TAP: numbering lives in a file because every test runs in its own shell ---------------
tap() { # tap "ok"|"not ok" DESCRIPTION
    n=$(($(cat /tmp/tap.n 2>/dev/null || echo 0) + 1))
    echo $n >/tmp/tap.n
    echo "$1 $n - $CUR: $2"
}
diag() { sed 's/^/#   /'; }
pass() { tap ok "$1"; }
fail() { # fail DESCRIPTION [DETAIL]
    tap "not ok" "$1"
    echo "$CUR" >>/tmp/tap.failed
    [ -n "$2" ] && echo "$2" | diag
    if [ -s $ERR ]; then
        echo "#   last runtime calls and stderr:"
        tail -n 8 $ERR | diag
    fi
}
check() { # check DESCRIPTION COMMAND...: pass when COMMAND succeeds
    d=$1
    shift
    if "$@"; then pass "$d"; else fail "$d"; fi
}
# expect DESCRIPTION ACTUAL EXPECTED: pass when equal, else show both
expect() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# --- runtime and bundle helpers ----------------------------------------------------------------
# rt ARGS...: the runtime under test, bounded in time, its stderr kept in $ERR for diagnostics.
rt() {
    echo "+ $RT $*" >>$ERR
    timeout 60 $RT "$@" 2>>$ERR
}
# rtio ARGS...: the same, stderr left to the caller (run/create: the container inherits it).
rtio() {
    echo "+ $RT $*" >>$ERR
    timeout 60 $RT "$@"
}
# mk ID JQ_FILTER SCRIPT: bundle $B/ID whose container runs `sh -c SCRIPT` in cgroup /vmtest/ID.
mk() {
    mkdir -p $B/$1
    jq --arg cg "/$PARENT/$1" --arg s "$3" \
        "$2 | .linux.cgroupsPath = \$cg | .process.args = [\"sh\", \"-c\", \$s]" \
        /vm/base.json >$B/$1/config.json || echo "# mk $1: bad jq filter: $2"
    echo "$1" >>/tmp/ids
}
status() { rt state "$1" | jq -r .status 2>/dev/null; }
initpid() { rt state "$1" | jq -r .pid 2>/dev/null; }
# wait_status ID STATUS [SECONDS]
wait_status() {
    i=0
    while [ $i -lt $((${3:-20} * 5)) ]; do
        [ "$(status "$1")" = "$2" ] && return 0
        usleep 200000
        i=$((i + 1))
    done
    return 1
}
# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s
wait_for() {
    i=0 limit=$(($1 * 5))
    shift
    while [ $i -lt $limit ]; do
        "$@" && return 0
        usleep 200000
        i=$((i + 1))
    done
    return 1
}
cgdir() { echo $CG/$PARENT/$1; }
cgval() { cat "$CG/$PARENT/$1/$2" 2>/dev/null; }
# cgkey ID FILE KEY: the value of "KEY value" in a flat-keyed cgroup file (cpu.stat, *.events)
cgkey() { sed -n "s/^$3 //p" "$CG/$PARENT/$1/$2" 2>/dev/null; }
nprocs() { wc -l <"$CG/$PARENT/$1/cgroup.procs" 2>/dev/null || echo 0; }
procs_at_least() { [ "$(nprocs "$1")" -ge "$2" ]; }
uptime_cs() { sed 's/^\([0-9]*\)\.\([0-9]*\) .*/\1\2/' /proc/uptime; }
has() { grep -q "$@"; }
empty_file() { [ ! -s "$1" ]; }

# --- 1: a container runs in its own cgroup2 dir, and is gone after delete ---------------------
t_lifecycle() {
    mk life1 . 'cat /proc/self/cgroup; exit 3'
    rt run --bundle $B/life1 life1 >/tmp/life1.out
    expect "run returns the container's exit code" "$?" 3
    expect "/proc/self/cgroup inside is one cgroup2 line, its namespace root" \
        "$(cat /tmp/life1.out)" "0::/"
    check "run removed the cgroup after the container exited" [ ! -e "$(cgdir life1)" ]

    mk life2 . 'sleep 1000'
    rt create --bundle $B/life2 life2 >/dev/null
    pid=$(initpid life2)
    check "create made /sys/fs/cgroup/vmtest/life2 holding the init (pid $pid)" \
        grep -qx "$pid" "$(cgdir life2)/cgroup.procs"
    expect "the init's /proc/<pid>/cgroup seen from the host" \
        "$(cat /proc/$pid/cgroup 2>/dev/null)" "0::/$PARENT/life2"
    check "the cgroup is a domain cgroup on cgroup2" has -x domain "$(cgdir life2)/cgroup.type"
    rt start life2
    expect "start: status running" "$(status life2)" running
    rt kill life2 KILL
    check "kill KILL: status stopped" wait_status life2 stopped
    rt delete life2
    check "delete removed the cgroup dir" [ ! -e "$(cgdir life2)" ]
    check "delete removed the state" [ ! -e /run/$RT/life2 ]
}

# --- 2: memory.max: a hog is OOM-killed, events report it ------------------------------------
t_memory() {
    mk mem1 '.linux.resources.memory = {"limit": 33554432}' 'sleep 1000'
    rt run -d --bundle $B/mem1 mem1 >/dev/null
    expect "memory.max is the limit (32 MiB)" "$(cgval mem1 memory.max)" 33554432
    echo "+ $RT events mem1 &" >>$ERR
    $RT events mem1 >/tmp/mem1.events 2>>$ERR &
    evpid=$!
    sleep 1
    # busybox dd mallocs bs and fills it from /dev/zero: 64 MiB in a 32 MiB cgroup.
    rt exec mem1 dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null 2>&1
    rc=$?
    expect "the 64 MiB hog is SIGKILLed (exec exit 137)" "$rc" 137
    oom=$(cgkey mem1 memory.events oom_kill)
    check "memory.events counts the OOM kill (oom_kill=$oom)" [ "${oom:-0}" -ge 1 ]
    check "the container's init survived the hog" [ "$(status mem1)" = running ]
    check "events reports an oom event" wait_for 10 has '"oom"' /tmp/mem1.events
    kill $evpid 2>/dev/null
    wait $evpid 2>/dev/null
    rt events --stats mem1 >/tmp/mem1.stats
    check "events --stats is a stats record" has '"type": *"stats"' /tmp/mem1.stats
    check "events --stats reports the memory limit" has 33554432 /tmp/mem1.stats
    [ -s /tmp/mem1.stats ] || true
    rt delete -f mem1
}

# --- 3: pids.max stops a fork loop ---------------------------------------------------------
t_pids() {
    # The loop is bounded (40); ash gives up at the first failed fork ("can't fork").
    mk pids1 '.linux.resources.pids = {"limit": 10}' \
        'echo max=$(cat /sys/fs/cgroup/pids.max); i=0; while [ $i -lt 40 ]; do sleep 100 & i=$((i+1)); echo forked $i; done; echo loop-done'
    rtio create --bundle $B/pids1 pids1 >/tmp/pids1.out 2>&1
    expect "pids.max is set before start" "$(cgval pids1 pids.max)" 10
    rt start pids1
    check "the container exits" wait_status pids1 stopped 60
    check "the container saw pids.max=10 in its cgroup namespace" has -x max=10 /tmp/pids1.out
    check "the fork loop hit EAGAIN before finishing" has "can't fork" /tmp/pids1.out
    [ -s /tmp/pids1.out ] && tail -n 3 /tmp/pids1.out | diag
    check "... and did not finish its 40 forks" sh -c '! grep -q loop-done /tmp/pids1.out'
    n=$(grep -c '^forked' /tmp/pids1.out)
    check "at most 9 children were forked (got $n)" [ "$n" -le 9 ]
    m=$(cgkey pids1 pids.events max)
    check "pids.events counts the refused forks (max=$m)" [ "${m:-0}" -ge 1 ]
    rt delete pids1
}

# --- 4: cpu.max holds a busy loop to its share ----------------------------------------------
t_cpu() {
    mk cpu1 '.linux.resources.cpu = {"quota": 20000, "period": 100000}' 'while :; do :; done'
    rt run -d --bundle $B/cpu1 cpu1 >/dev/null
    expect "cpu.max is quota and period" "$(cgval cpu1 cpu.max)" "20000 100000"
    sleep 1
    u0=$(cgkey cpu1 cpu.stat usage_usec) t0=$(uptime_cs)
    sleep 3
    u1=$(cgkey cpu1 cpu.stat usage_usec) t1=$(uptime_cs)
    used=$((${u1:-0} - ${u0:-0})) wall=$(((t1 - t0) * 10000))
    pct=$((used * 100 / wall))
    # Loose: 20% quota, accept up to 40% (TCG timing is coarse); a free loop takes ~100%. A
    # busy host can starve the VM, so the floor only says that the loop ran.
    check "the busy loop used ${pct}% of one CPU (quota 20%, accept 1-40%)" \
        [ "$pct" -ge 1 -a "$pct" -le 40 ]
    thr=$(cgkey cpu1 cpu.stat nr_throttled)
    check "cpu.stat shows throttling (nr_throttled=$thr)" [ "${thr:-0}" -ge 1 ]
    rt delete -f cpu1
}

# --- 5: pause/resume with cgroup.freeze -----------------------------------------------------
t_freeze() {
    mk frz1 . 'while :; do sleep 1; done'
    rt run -d --bundle $B/frz1 frz1 >/dev/null
    rt pause frz1
    expect "pause writes cgroup.freeze=1" "$(cgval frz1 cgroup.freeze)" 1
    expect "the cgroup is frozen (cgroup.events)" "$(cgkey frz1 cgroup.events frozen)" 1
    expect "state says paused" "$(status frz1)" paused
    pid=$(initpid frz1)
    # A frozen task sleeps in the freezer (state S or D), it never runs.
    u0=$(cgkey frz1 cpu.stat usage_usec)
    sleep 2
    expect "no CPU time is used while frozen" "$(cgkey frz1 cpu.stat usage_usec)" "$u0"
    rt resume frz1
    expect "resume writes cgroup.freeze=0" "$(cgval frz1 cgroup.freeze)" 0
    expect "the cgroup is thawed (cgroup.events)" "$(cgkey frz1 cgroup.events frozen)" 0
    expect "state says running" "$(status frz1)" running
    check "the init (pid $pid) is alive" kill -0 "$pid"
    rt delete -f frz1
}

# --- 6: update changes the limits of a running container ------------------------------------
t_update() {
    mk upd1 '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 20}' 'sleep 1000'
    rt run -d --bundle $B/upd1 upd1 >/dev/null
    expect "memory.max before update" "$(cgval upd1 memory.max)" 67108864
    rt update --memory 50331648 --pids-limit 15 upd1
    expect "update --memory sets memory.max" "$(cgval upd1 memory.max)" 50331648
    expect "update --pids-limit sets pids.max" "$(cgval upd1 pids.max)" 15
    rt update --cpu-quota 50000 --cpu-period 100000 upd1
    expect "update --cpu-quota/--cpu-period set cpu.max" "$(cgval upd1 cpu.max)" "50000 100000"
    # containerd's way: a LinuxResources JSON on -r.
    echo '{"memory": {"limit": 41943040}, "pids": {"limit": 12}}' >/tmp/upd1.json
    rt update -r /tmp/upd1.json upd1
    expect "update -r sets memory.max" "$(cgval upd1 memory.max)" 41943040
    expect "update -r sets pids.max" "$(cgval upd1 pids.max)" 12
    expect "the container kept running" "$(status upd1)" running
    rt delete -f upd1
}

# --- 7: devices: the eBPF filter denies what the allow list lacks ---------------------------
t_devices() {
    # CAP_MKNOD so that a denial comes from the device cgroup, not from missing capabilities.
    # c 1:3 is /dev/null (in every runtime's default allow list); c 1:11 is /dev/kmsg (in none).
    caps='.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
    # In /dev: the spec's /tmp is nodev, /dev is not.
    script='mknod /dev/vmnull c 1 3 && echo x >/dev/vmnull && echo null-ok
            mknod /dev/vmkmsg c 1 11 && echo kmsg-made
            echo "<7>vmtest" >/dev/vmkmsg && echo kmsg-ok; true'
    mk dev1 "$caps" "$script"
    rtio run --bundle $B/dev1 dev1 >/tmp/dev1.out 2>&1
    check "an allowed device (c 1:3) opens" has -x null-ok /tmp/dev1.out
    check "opening c 1:11 (not allowed) fails with EPERM" \
        sh -c 'grep -q "Operation not permitted" /tmp/dev1.out && ! grep -q kmsg-ok /tmp/dev1.out'
    [ -s /tmp/dev1.out ] && diag </tmp/dev1.out
    mk dev2 "$caps"' | .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]' "$script"
    rtio run --bundle $B/dev2 dev2 >/tmp/dev2.out 2>&1
    check "with an allow rule for c 1:11 it opens" has -x kmsg-ok /tmp/dev2.out
}

# --- 8: kill --all reaches every process of the container -----------------------------------
t_killall() {
    # No pid namespace: killing the init alone would leave its children running.
    mk kill1 '.linux.namespaces |= map(select(.type != "pid"))' \
        'sleep 1000 & sleep 1000 & sh -c "sleep 1000 & wait" & wait'
    rt run -d --bundle $B/kill1 kill1 >/dev/null
    check "the container has 5 processes" wait_for 10 procs_at_least kill1 5
    rt kill --all kill1 KILL
    check "kill --all KILL: every process is gone" wait_for 10 empty_file "$(cgdir kill1)/cgroup.procs"
    check "status stopped" wait_status kill1 stopped
    rt delete kill1
    check "delete removed the cgroup" [ ! -e "$(cgdir kill1)" ]
}

# --- 9: delete removes the cgroup even when the container made child cgroups ----------------
made_children() { [ -e "$(cgdir $1)/a/b/cgroup.procs" -a -d "$(cgdir $1)/c" ]; }
t_nested() {
    # A writable cgroup mount (cgroup namespace root = the container's cgroup).
    rw='.mounts |= map(if .destination == "/sys/fs/cgroup" then .options -= ["ro"] else . end)'
    script='mkdir -p /sys/fs/cgroup/a/b /sys/fs/cgroup/c || exit 1
            sleep 1000 &
            echo $! >/sys/fs/cgroup/a/b/cgroup.procs && echo moved; wait'
    mk nest1 "$rw" "$script"
    rtio run -d --bundle $B/nest1 nest1 >/tmp/nest1.out 2>&1
    check "the container made a/b and c in its cgroup" wait_for 10 made_children nest1
    check "and moved a process into a/b" wait_for 10 has -x moved /tmp/nest1.out
    [ -s /tmp/nest1.out ] && diag </tmp/nest1.out
    check "a/b holds that process" procs_at_least nest1/a/b 1
    rt delete -f nest1
    check "delete -f of the running container removed its cgroup tree" [ ! -e "$(cgdir nest1)" ]

    mk nest2 "$rw" "$script"
    rtio run -d --bundle $B/nest2 nest2 >/tmp/nest2.out 2>&1
    wait_for 10 has -x moved /tmp/nest2.out
    rt kill nest2 KILL
    check "the container stops" wait_status nest2 stopped
    rt delete nest2
    check "delete of the stopped container removed its cgroup tree" [ ! -e "$(cgdir nest2)" ]
}

# --- driver ------------------------------------------------------------------------------
# Leak check after each test: every container it made is deleted (forced) and must leave no
# state dir; no cgroup may remain under /vmtest. Leftovers are removed so later tests start clean.
leak_check() {
    for id in $(cat /tmp/ids 2>/dev/null); do
        timeout 30 $RT delete -f "$id" >/dev/null 2>&1
    done
    left=$(cd $CG/$PARENT 2>/dev/null && find . -mindepth 1 -type d | sort -r)
    states=
    for id in $(cat /tmp/ids 2>/dev/null); do
        [ -e /run/$RT/$id ] && states="$states $id"
    done
    for d in $left; do
        echo 1 >"$CG/$PARENT/$d/cgroup.kill" 2>/dev/null
        usleep 100000
        rmdir "$CG/$PARENT/$d" 2>/dev/null
    done
    if [ -n "$left$states" ]; then
        fail "nothing left behind" "cgroups:$(echo $left) states:$states"
    else
        pass "nothing left behind"
    fi
    rm -f /tmp/ids
}

if [ "$1" = --run ]; then
    CUR=$2
    [ "$DEBUG" = 1 ] && set -x
    : >$ERR
    "t_$CUR"
    leak_check
    touch /tmp/done.$CUR
    exit 0
fi

rm -f /tmp/tap.n /tmp/tap.failed
mkdir -p $B
command -v "$RT" >/dev/null || echo "# $RT: not in the image, every test will fail"
for t in ${*:-$ALL}; do
    case " $ALL " in
    *" $t "*) ;;
    *)
        CUR=$t
        fail "no such test (tests: $ALL)"
        continue
        ;;
    esac
    echo "# $t"
    rm -f /tmp/done.$t
    t0=$(uptime_cs)
    timeout $TEST_TIMEOUT sh "$0" --run "$t"
    echo "# $t: $((($(uptime_cs) - t0) / 100))s"
    if [ ! -e /tmp/done.$t ]; then
        CUR=$t
        fail "did not finish within ${TEST_TIMEOUT}s"
        leak_check
    fi
done
echo "1..$(cat /tmp/tap.n 2>/dev/null || echo 0)"
if [ -s /tmp/tap.failed ]; then
    echo "# failed tests: $(sort -u /tmp/tap.failed | tr '\n' ' ')"
    exit 1
fi
exit 0
