// runbench: the timing driver of bench/startup.sh.
//
// Runs `BIN --root ROOT run -b BUNDLE ID` N times per runtime, round by round (one container per
// runtime per round, the runtime order rotated each round) so that load from other users of the
// machine hits every runtime alike. For each run it records:
//   wall   CLOCK_MONOTONIC from just before fork() to wait4() returning
//   cpu    ru_utime + ru_stime from wait4(): the runtime process plus every descendant it reaped
//          (runc's `runc init`, the container's /bin/true, cove's/crun's forks). The sum is exact
//          (scheduler runtime); the user/sys split is tick-sampled, so only its mean is shown.
//   rss    ru_maxrss from wait4(): the largest single process of the tree (what `time -f %M` shows)
// After each run it checks that the state root is empty and that the cgroup path is gone from
// every hierarchy under /sys/fs/cgroup; a failure, a leftover, or a nonzero exit stops it (exit 1).
//
// With -p, each container is instead `create`, `start`, (reap the container's init, which
// runbench adopts as a child subreaper), `delete`, and the table shows each phase.
//
// A runtime in mode `nounified` runs in a private mount namespace where the cgroup2 mount at
// /sys/fs/cgroup/unified is unmounted (crun refuses hybrid hosts). The namespace is made once by
// a helper child that unshares and then sleeps; runs setns() into it between fork and exec, so
// the cost of making it is not charged to the runtime. The host's mounts are never touched.
//
// usage: runbench [-p] [-n N] [-w WARMUP] [-t TMPBASE] [-r RAW.tsv] NAME:MODE:BIN:BUNDLE:CGPATH ...
//   MODE is host or nounified. Prints a markdown table on stdout.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RT 8

enum { PH_CREATE, PH_START, PH_CTR, PH_DELETE, NPH };
static const char *ph_names[NPH] = {"create", "start", "init", "delete"};

struct sample {
    double wall_ms, cpu_ms, user_ms, sys_ms;
    long rss_kb;
    double ph_wall[NPH], ph_cpu[NPH];
};

struct runtime {
    char *name, *mode, *bin, *bundle, *cgpath;
    struct sample *s;
    int n;
};

static struct runtime rts[MAX_RT];
static int nrt;
static int nsfd = -1;
static pid_t ns_holder = -1;
static const char *tmpbase = "/tmp";
static int phases;

static void die(const char *fmt, const char *arg) {
    fprintf(stderr, "runbench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    if (ns_holder > 0) kill(ns_holder, SIGKILL);
    exit(1);
}

static void make_nounified_ns(void) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
    ns_holder = fork();
    if (ns_holder < 0) die("fork: %s", strerror(errno));
    if (ns_holder == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char ok = 'n';
        if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) {
            // Only this private namespace loses the cgroup2 mount.
            if (umount2("/sys/fs/cgroup/unified", 0) == 0 || errno == EINVAL) ok = 'y';
        }
        if (write(p[1], &ok, 1) != 1) _exit(1);
        for (;;) pause();
    }
    close(p[1]);
    char ok = 0;
    if (read(p[0], &ok, 1) != 1 || ok != 'y') die("%s", "cannot make the mount namespace without cgroup2");
    close(p[0]);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", ns_holder);
    nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) die("open mnt ns: %s", strerror(errno));
}

static double tv_ms(struct timeval tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; }
static double ts_ms(struct timespec a, struct timespec b) {
    return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

// Returns the number of leftover cgroup directories of path (0 when clean).
static int cgroup_leftovers(const char *cgpath, char *first, size_t firstlen) {
    int left = 0;
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "/sys/fs/cgroup/%s", cgpath);
    if (stat(p, &st) == 0) { snprintf(first, firstlen, "%s", p); left++; }
    DIR *d = opendir("/sys/fs/cgroup");
    if (!d) return left;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "/sys/fs/cgroup/%s/%s", e->d_name, cgpath);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (!left) snprintf(first, firstlen, "%s", p);
            left++;
        }
    }
    closedir(d);
    return left;
}

// fork + exec `BIN --root ROOT ARGS...`, wait for it; returns its exit code (128+sig if killed).
static int spawn(struct runtime *rt, const char *root, const char *log, char *const *args,
                 double *wall, struct rusage *ru) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        if (nsfd >= 0 && strcmp(rt->mode, "nounified") == 0 && setns(nsfd, CLONE_NEWNS) < 0) _exit(126);
        int in = open("/dev/null", O_RDONLY);
        int o = open("/dev/null", O_WRONLY);
        int e = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || o < 0 || e < 0) _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        char *argv[16] = {rt->bin, "--root", (char *)root};
        int k = 3;
        for (int i = 0; args[i] && k < 15; i++) argv[k++] = args[i];
        argv[k] = NULL;
        execv(rt->bin, argv);
        _exit(127);
    }
    int status;
    if (wait4(pid, &status, 0, ru) < 0) die("wait4: %s", strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *wall = ts_ms(t0, t1);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_one(struct runtime *rt, int idx, struct sample *out, FILE *raw) {
    char root[4096], id[256], log[4096];
    snprintf(root, sizeof root, "%s/%s-%d-XXXXXX", tmpbase, rt->name, idx);
    if (!mkdtemp(root)) die("mkdtemp: %s", strerror(errno));
    snprintf(id, sizeof id, "bench-%s-%d-%d", rt->name, (int)getpid(), idx);
    snprintf(log, sizeof log, "%s/%s.stderr", tmpbase, rt->name);

    struct rusage ru;
    int rc = 0;
    const char *what = "run";
    memset(out, 0, sizeof *out);
    if (!phases) {
        char *args[] = {"run", "-b", rt->bundle, id, NULL};
        rc = spawn(rt, root, log, args, &out->wall_ms, &ru);
        out->user_ms = tv_ms(ru.ru_utime);
        out->sys_ms = tv_ms(ru.ru_stime);
        out->cpu_ms = out->user_ms + out->sys_ms;
        out->rss_kb = ru.ru_maxrss;
    } else {
        char *cargs[] = {"create", "-b", rt->bundle, id, NULL};
        char *sargs[] = {"start", id, NULL};
        char *dargs[] = {"delete", id, NULL};
        char *const *pargs[NPH] = {cargs, sargs, NULL, dargs};
        for (int ph = 0; ph < NPH && rc == 0; ph++) {
            what = ph_names[ph];
            if (ph == PH_CTR) {
                // The container's init was orphaned by `create` and adopted by us (subreaper).
                struct timespec t0, t1;
                int status;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                pid_t p = wait4(-1, &status, 0, &ru);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                if (p < 0 || p == ns_holder) { rc = 125; break; }
                out->ph_wall[ph] = ts_ms(t0, t1);
            } else {
                rc = spawn(rt, root, log, pargs[ph], &out->ph_wall[ph], &ru);
            }
            out->ph_cpu[ph] = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
            out->wall_ms += out->ph_wall[ph];
            out->cpu_ms += out->ph_cpu[ph];
            out->user_ms += tv_ms(ru.ru_utime);
            out->sys_ms += tv_ms(ru.ru_stime);
            if (ru.ru_maxrss > out->rss_kb) out->rss_kb = ru.ru_maxrss;
        }
    }
    if (raw) {
        fprintf(raw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%ld\t%d", rt->name, idx, out->wall_ms,
                out->user_ms, out->sys_ms, out->rss_kb, rc);
        for (int ph = 0; phases && ph < NPH; ph++)
            fprintf(raw, "\t%.3f\t%.3f", out->ph_wall[ph], out->ph_cpu[ph]);
        fprintf(raw, "\n");
    }

    int bad = 0;
    if (rc != 0) {
        fprintf(stderr, "runbench: %s %s %d (%s) exited %d; stderr in %s\n", rt->name, what, idx,
                id, rc, log);
        bad = 1;
    }
    char first[4096] = "";
    int left = cgroup_leftovers(rt->cgpath, first, sizeof first);
    if (left) {
        fprintf(stderr, "runbench: %s run %d left %d cgroup dir(s), e.g. %s\n", rt->name, idx, left, first);
        // Remove them (empty once the container exited) so the next runtime starts clean.
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "for d in /sys/fs/cgroup/%s /sys/fs/cgroup/*/%s; do [ -d \"$d\" ] && rmdir \"$d\"; done 2>/dev/null",
                 rt->cgpath, rt->cgpath);
        if (system(cmd)) {}
        bad = 1;
    }
    if (rmdir(root) < 0) {
        fprintf(stderr, "runbench: %s run %d left state in %s (%s)\n", rt->name, idx, root, strerror(errno));
        bad = 1;
    }
    return bad;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// Median (p == 50) or nearest-rank percentile of v[0..n); sorts v.
static double pct(double *v, int n, double p) {
    qsort(v, n, sizeof *v, cmp_d);
    if (p == 50 && n % 2 == 0) return (v[n / 2 - 1] + v[n / 2]) / 2;
    int k = (int)(p / 100.0 * n + 0.999999) - 1;
    if (k < 0) k = 0;
    if (k >= n) k = n - 1;
    return v[k];
}

#define FIELD_PCT(rt, expr, p)                                       \
    ({                                                               \
        double *v_ = malloc(sizeof(double) * (rt)->n);               \
        for (int i_ = 0; i_ < (rt)->n; i_++) {                       \
            struct sample *s = &(rt)->s[i_];                         \
            v_[i_] = (expr);                                         \
        }                                                            \
        double r_ = pct(v_, (rt)->n, (p));                           \
        free(v_);                                                    \
        r_;                                                          \
    })
#define FIELD_MEAN(rt, expr)                                         \
    ({                                                               \
        double sum_ = 0;                                             \
        for (int i_ = 0; i_ < (rt)->n; i_++) {                       \
            struct sample *s = &(rt)->s[i_];                         \
            sum_ += (expr);                                          \
        }                                                            \
        sum_ / (rt)->n;                                              \
    })

static int find_rt(const char *name) {
    for (int i = 0; i < nrt; i++)
        if (strcmp(rts[i].name, name) == 0) return i;
    return -1;
}

static void ratio(char *buf, size_t len, double a, double b) { snprintf(buf, len, "%.2f", a / b); }

static void print_run_table(void) {
    int ic = find_rt("crun"), ir = find_rt("runc");
    double wall[MAX_RT], cpu[MAX_RT];
    for (int r = 0; r < nrt; r++) {
        wall[r] = FIELD_PCT(&rts[r], s->wall_ms, 50);
        cpu[r] = FIELD_PCT(&rts[r], s->cpu_ms, 50);
    }
    printf("| runtime | wall median ms | wall p90 ms | wall min ms | CPU median ms (user+sys) | CPU mean ms | user / sys mean ms | wall × crun | wall × runc | CPU × crun | CPU × runc | peak RSS KiB |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < nrt; r++) {
        struct runtime *rt = &rts[r];
        char wc[16] = "–", wr[16] = "–", cc[16] = "–", cr[16] = "–";
        if (ic >= 0) { ratio(wc, sizeof wc, wall[r], wall[ic]); ratio(cc, sizeof cc, cpu[r], cpu[ic]); }
        if (ir >= 0) { ratio(wr, sizeof wr, wall[r], wall[ir]); ratio(cr, sizeof cr, cpu[r], cpu[ir]); }
        printf("| %s | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f / %.2f | %s | %s | %s | %s | %.0f |\n",
               rt->name, wall[r], FIELD_PCT(rt, s->wall_ms, 90), FIELD_PCT(rt, s->wall_ms, 0),
               cpu[r], FIELD_MEAN(rt, s->cpu_ms), FIELD_MEAN(rt, s->user_ms),
               FIELD_MEAN(rt, s->sys_ms), wc, wr, cc, cr, FIELD_PCT(rt, (double)s->rss_kb, 50));
    }
}

static void print_phase_table(void) {
    printf("| runtime | create wall / CPU ms | start wall / CPU ms | init wall / CPU ms | delete wall / CPU ms | CPU total ms (mean) |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < nrt; r++) {
        struct runtime *rt = &rts[r];
        printf("| %s", rt->name);
        for (int ph = 0; ph < NPH; ph++)
            printf(" | %.1f / %.2f", FIELD_PCT(rt, s->ph_wall[ph], 50), FIELD_PCT(rt, s->ph_cpu[ph], 50));
        printf(" | %.2f |\n", FIELD_MEAN(rt, s->cpu_ms));
    }
    printf("\nMedians per phase. `init` is the container's init process, adopted by runbench when\n"
           "`create` exits: its CPU is the runtime's setup inside the container (namespaces, mounts,\n"
           "pivot_root, caps, seccomp; runc: `runc init`) plus /bin/true; its wall is from `start`\n"
           "returning to the init being reaped. `create` CPU excludes the init's.\n");
}

int main(int argc, char **argv) {
    int n = 100, warm = 3, opt;
    const char *rawpath = NULL;
    while ((opt = getopt(argc, argv, "pn:w:t:r:")) != -1) {
        switch (opt) {
        case 'p': phases = 1; break;
        case 'n': n = atoi(optarg); break;
        case 'w': warm = atoi(optarg); break;
        case 't': tmpbase = optarg; break;
        case 'r': rawpath = optarg; break;
        default: return 2;
        }
    }
    if (n < 1 || optind >= argc) {
        fprintf(stderr, "usage: runbench [-p] [-n N] [-w W] [-t TMPBASE] [-r RAW] NAME:MODE:BIN:BUNDLE:CGPATH ...\n");
        return 2;
    }
    int need_ns = 0;
    for (int i = optind; i < argc && nrt < MAX_RT; i++) {
        struct runtime *rt = &rts[nrt++];
        char *s = strdup(argv[i]);
        rt->name = strsep(&s, ":");
        rt->mode = strsep(&s, ":");
        rt->bin = strsep(&s, ":");
        rt->bundle = strsep(&s, ":");
        rt->cgpath = strsep(&s, ":");
        if (!rt->cgpath) die("bad runtime spec %s", argv[i]);
        if (strcmp(rt->mode, "nounified") == 0) need_ns = 1;
        else if (strcmp(rt->mode, "host") != 0) die("bad mode in %s", argv[i]);
        rt->s = calloc(n, sizeof(struct sample));
    }
    if (need_ns) make_nounified_ns();
    if (phases && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) die("subreaper: %s", strerror(errno));
    FILE *raw = rawpath ? fopen(rawpath, "w") : NULL;
    if (raw) {
        fprintf(raw, "runtime\trun\twall_ms\tuser_ms\tsys_ms\tmaxrss_kb\trc");
        for (int ph = 0; phases && ph < NPH; ph++)
            fprintf(raw, "\t%s_wall_ms\t%s_cpu_ms", ph_names[ph], ph_names[ph]);
        fprintf(raw, "\n");
    }

    int failed = 0;
    struct sample junk;
    for (int w = 0; w < warm && !failed; w++)
        for (int r = 0; r < nrt && !failed; r++) failed |= run_one(&rts[r], -1 - w, &junk, NULL);
    for (int i = 0; i < n && !failed; i++) {
        for (int k = 0; k < nrt && !failed; k++) {
            struct runtime *rt = &rts[(i + k) % nrt];
            failed |= run_one(rt, i, &rt->s[rt->n], raw);
            rt->n++;
        }
        if ((i + 1) % 20 == 0) fprintf(stderr, "runbench: %d/%d rounds\n", i + 1, n);
    }
    if (raw) fclose(raw);
    if (ns_holder > 0) { kill(ns_holder, SIGKILL); waitpid(ns_holder, NULL, 0); }
    if (failed) return 1;
    if (phases) print_phase_table();
    else print_run_table();
    return 0;
}
