#!/usr/bin/env python3
"""Summarise what the real clients asked of the OCI runtime.

Input: a COVE_TRACE directory written by the wrapper of bats/clients/helpers.bash:
  <client>/calls.log        one line per runtime call: time, cwd, argv (shell-quoted)
  <client>/configs/*.json   config.json of each create/run
  <client>/process/*.json   process.json of each `exec --process`
  <client>/resources/*.json the resources of each `update --resources FILE|-`
Output (stdout, Markdown): per client, the distinct command lines (IDs and paths normalised, with
counts and one raw example each) and the config.json / process.json features that were used.

usage: trace-summary.py TRACE_DIR
"""
import collections
import glob
import json
import os
import re
import shlex
import sys

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
TESTNAME = re.compile(r"\bcove-\d+-\d+(-[\w-]+)?\b")
EXECID = re.compile(r"\b(e\d+|exec-[\w-]+)\b")
VALUE_FLAGS = {"--root", "--log", "--log-format", "--bundle", "-b", "--pid-file",
               "--console-socket", "--process", "-p", "--criu", "--resources", "-r",
               "--format", "-f", "--signal", "--preserve-fds", "--cwd", "--user", "-u",
               "--env", "-e", "--process-label", "--apparmor", "--cap", "-c", "--image-path",
               "--work-path", "--parent-path", "--memory", "--memory-swap", "--pids-limit",
               "--cpu-shares", "--cpu-quota", "--cpu-period", "--cpuset-cpus", "--cpuset-mems",
               "--kernel-memory", "--kernel-memory-tcp", "--blkio-weight", "--l3-cache-schema",
               "--mem-bw-schema", "--interval", "--rootless", "--manage-cgroups-mode",
               "--page-server", "--empty-ns", "--status-fd", "--lazy-pages"}


def norm_path(p):
    p = HEX64.sub("<id>", p)
    p = TESTNAME.sub("<name>", p)
    p = re.sub(r"/tmp/[\w.-]+", "/tmp/<tmp>", p)
    p = re.sub(r"\b\d{3,}\b", "<n>", p)
    return p


def norm_argv(argv):
    out = []
    for a in argv:
        a = HEX64.sub("<id>", a)
        a = TESTNAME.sub("<name>", a)
        if "/" in a:
            a = norm_path(a)
        out.append(a)
    return out


def verb_of(argv):
    prev = None
    for a in argv:
        if not a.startswith("-") and prev not in VALUE_FLAGS:
            return a
        prev = a.split("=")[0]
    return "?"


def read_calls(path):
    calls = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) < 3:
                continue
            try:
                argv = shlex.split(parts[2])
            except ValueError:
                argv = parts[2].split()
            calls.append((parts[1][4:], argv))
    return calls


def load_json_files(pattern):
    out = []
    for p in sorted(glob.glob(pattern)):
        try:
            with open(p) as f:
                out.append(json.load(f))
        except (OSError, ValueError):
            pass
    return out


def counter_line(c, limit=30):
    items = sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0])))
    s = ", ".join(f"{k} ×{v}" if v > 1 else f"{k}" for k, v in items[:limit])
    if len(items) > limit:
        s += f", … ({len(items) - limit} more)"
    return s


def caps_summary(caps):
    if not caps:
        return "none"
    return "; ".join(f"{k}={len(v)}" for k, v in sorted(caps.items()))


def process_features(procs, f):
    c = collections.defaultdict(collections.Counter)
    for p in procs:
        c["terminal"][p.get("terminal", False)] += 1
        if "consoleSize" in p:
            c["consoleSize"]["set"] += 1
        u = p.get("user", {})
        c["user"][f"uid={u.get('uid')} gid={u.get('gid')}"
                  + (f" additionalGids={u['additionalGids']}" if u.get("additionalGids") else "")
                  + (f" umask={u['umask']}" if "umask" in u else "")
                  + (f" username={u['username']}" if u.get("username") else "")] += 1
        c["cwd"][p.get("cwd")] += 1
        c["capabilities"][caps_summary(p.get("capabilities"))] += 1
        for r in p.get("rlimits", []) or []:
            c["rlimits"][f"{r['type']}={r.get('soft')}:{r.get('hard')}"] += 1
        c["noNewPrivileges"][p.get("noNewPrivileges", False)] += 1
        for k in ("oomScoreAdj", "apparmorProfile", "selinuxLabel", "ioPriority", "scheduler",
                  "execCPUAffinity", "commandLine"):
            if k in p:
                c[k][json.dumps(p[k])] += 1
        for k in sorted(set(p) - {"terminal", "consoleSize", "user", "args", "env", "cwd",
                                  "capabilities", "rlimits", "noNewPrivileges", "oomScoreAdj",
                                  "apparmorProfile", "selinuxLabel", "ioPriority", "scheduler",
                                  "execCPUAffinity", "commandLine"}):
            c["other keys"][k] += 1
        c["env vars (count)"][len(p.get("env", []) or [])] += 1
    for k, v in c.items():
        f.write(f"  - process.{k}: {counter_line(v)}\n")


def config_features(cfgs, f):
    if not cfgs:
        f.write("  (none captured)\n")
        return
    f.write(f"- {len(cfgs)} config.json captured; ociVersion: "
            f"{counter_line(collections.Counter(c.get('ociVersion') for c in cfgs))}\n")
    f.write("- process:\n")
    process_features([c.get("process", {}) for c in cfgs], f)
    root = collections.Counter(f"path={norm_path(c.get('root', {}).get('path', ''))} "
                               f"readonly={c.get('root', {}).get('readonly', False)}" for c in cfgs)
    f.write(f"- root: {counter_line(root, 5)}\n")
    f.write(f"- hostname set: {sum(1 for c in cfgs if c.get('hostname'))}/{len(cfgs)}"
            f"; domainname set: {sum(1 for c in cfgs if c.get('domainname'))}\n")
    mounts = collections.Counter()
    mopts = collections.Counter()
    for c in cfgs:
        for m in c.get("mounts", []):
            mounts[f"{m.get('type', '(none)')}:{norm_path(m.get('destination', ''))}"] += 1
            for o in m.get("options", []) or []:
                mopts[o] += 1
            for k in set(m) - {"type", "destination", "source", "options"}:
                mopts[f"<mount key {k}>"] += 1
    f.write(f"- mounts (type:destination): {counter_line(mounts, 60)}\n")
    f.write(f"- mount options used: {counter_line(mopts, 60)}\n")
    hooks = collections.Counter()
    for c in cfgs:
        for kind, hs in (c.get("hooks") or {}).items():
            for h in hs:
                hooks[f"{kind}: {norm_path(h.get('path', ''))} args: {' '.join(norm_argv(h.get('args', [])))}".strip()] += 1
    f.write(f"- hooks: {counter_line(hooks) or 'none'}\n")
    ns = collections.Counter()
    for c in cfgs:
        for n in c.get("linux", {}).get("namespaces", []):
            ns[f"{n['type']}" + (f" (path {norm_path(n['path'])})" if n.get("path") else "")] += 1
    f.write(f"- namespaces: {counter_line(ns, 40)}\n")
    lin = collections.defaultdict(collections.Counter)
    for c in cfgs:
        lx = c.get("linux", {})
        for k in ("uidMappings", "gidMappings"):
            if lx.get(k):
                lin[k][json.dumps(lx[k])] += 1
        res = lx.get("resources") or {}
        for k, v in res.items():
            if k == "devices":
                lin["resources.devices"][f"{len(v)} rules, first={json.dumps(v[0]) if v else ''}"] += 1
            elif isinstance(v, dict):
                for kk, vv in v.items():
                    lin["resources"][f"{k}.{kk}={json.dumps(vv)}"] += 1
            else:
                lin["resources"][f"{k}={json.dumps(v)[:60]}"] += 1
        if "cgroupsPath" in lx:
            lin["cgroupsPath"][norm_path(lx["cgroupsPath"])] += 1
        sc = lx.get("seccomp")
        if sc:
            n_sys = sum(len(s.get("names", [])) for s in sc.get("syscalls", []))
            actions = collections.Counter(s.get("action") for s in sc.get("syscalls", []))
            lin["seccomp"][f"default={sc.get('defaultAction')} errnoRet={sc.get('defaultErrnoRet')}"
                           f" arch={len(sc.get('architectures', []))} rules={len(sc.get('syscalls', []))}"
                           f" names={n_sys} actions={dict(actions)} flags={sc.get('flags')}"
                           f" listener={sc.get('listenerPath')}"
                           f" args={sum(1 for s in sc.get('syscalls', []) if s.get('args'))}"] += 1
        else:
            lin["seccomp"]["none"] += 1
        lin["maskedPaths"][len(lx.get("maskedPaths", []) or [])] += 1
        lin["readonlyPaths"][len(lx.get("readonlyPaths", []) or [])] += 1
        for k in ("rootfsPropagation", "mountLabel", "personality", "intelRdt", "timeOffsets"):
            if k in lx:
                lin[k][json.dumps(lx[k])] += 1
        for k, v in (lx.get("sysctl") or {}).items():
            lin["sysctl"][f"{k}={v}"] += 1
        if lx.get("devices"):
            lin["devices"][f"{len(lx['devices'])} devices"] += 1
        for k in sorted(set(lx) - {"uidMappings", "gidMappings", "resources", "cgroupsPath",
                                   "seccomp", "maskedPaths", "readonlyPaths", "rootfsPropagation",
                                   "mountLabel", "personality", "intelRdt", "timeOffsets",
                                   "sysctl", "devices", "namespaces"}):
            lin["other linux keys"][k] += 1
    for k, v in lin.items():
        f.write(f"- linux.{k}: {counter_line(v, 40)}\n")
    ann = collections.Counter(k for c in cfgs for k in (c.get("annotations") or {}))
    f.write(f"- annotations: {counter_line(ann, 40) or 'none'}\n")
    other = collections.Counter(k for c in cfgs for k in set(c) - {
        "ociVersion", "process", "root", "hostname", "domainname", "mounts", "hooks", "linux",
        "annotations"})
    if other:
        f.write(f"- other top-level keys: {counter_line(other)}\n")


def summarise(client_dir, f):
    client = os.path.basename(client_dir)
    f.write(f"\n## {client}\n\n")
    calls = read_calls(os.path.join(client_dir, "calls.log")) if os.path.exists(
        os.path.join(client_dir, "calls.log")) else []
    f.write(f"{len(calls)} runtime calls.\n\n### Command lines (normalised; count; one raw example)\n\n")
    shapes = collections.OrderedDict()
    for cwd, argv in calls:
        key = " ".join(norm_argv(argv))
        if key not in shapes:
            shapes[key] = [0, argv, cwd]
        shapes[key][0] += 1
    by_verb = collections.defaultdict(list)
    for key, (n, argv, cwd) in shapes.items():
        by_verb[verb_of(argv)].append((key, n, argv, cwd))
    for verb in sorted(by_verb):
        f.write(f"- **{verb}**\n")
        for key, n, argv, cwd in by_verb[verb]:
            f.write(f"  - ×{n} `runtime {key}`\n")
        f.write(f"    - e.g. (cwd {by_verb[verb][0][3]}): `runtime {shlex.join(by_verb[verb][0][2])}`\n")
    f.write("\n### config.json features (create/run)\n\n")
    config_features(load_json_files(os.path.join(client_dir, "configs", "*.json")), f)
    res = load_json_files(os.path.join(client_dir, "resources", "*.json"))
    if res:
        f.write(f"\n### update --resources ({len(res)})\n\n")
        for r in res:
            f.write(f"  - `{json.dumps(r, separators=(',', ':'))}`\n")
    procs = load_json_files(os.path.join(client_dir, "process", "*.json"))
    f.write(f"\n### exec --process files ({len(procs)})\n\n")
    if procs:
        process_features(procs, f)
    else:
        f.write("  (none: this client passes exec arguments on the command line)\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    top = sys.argv[1]
    sys.stdout.write(f"# Runtime calls recorded in {top}\n")
    for d in sorted(glob.glob(os.path.join(top, "*"))):
        if os.path.isdir(d):
            summarise(d, sys.stdout)


if __name__ == "__main__":
    main()
