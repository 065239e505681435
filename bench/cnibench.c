// cnibench: the measuring driver of bench/cni.sh.
//
// For each of N rounds, and for each implementation in turn (the order rotates every round so
// that load from other users of the machine hits all alike), runs the plugin's ADD and then its
// DEL in the implementation's network namespace, and records for each call:
//   cpu  ru_utime + ru_stime from wait4(): the plugin plus every descendant it reaped (the IPAM
//        plugin it delegates to) -- the same accounting as getrusage(RUSAGE_CHILDREN), per call
//   rss  ru_maxrss from wait4(): the largest single process of that tree
// A nonzero exit of any call stops the run (exit 1) after printing the plugin's output.
//
// usage: cnibench -n N [-w WARMUP] NAME:BIN:CONFIG:NETNS:CNI_PATH ...
// Prints one markdown table; the first implementation of each pair is the one compared
// (ratios are against the second; give them as cove, reference).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_IMPL 8

struct impl;
static struct impl *g_impl;

struct impl {
    char *name, *bin, *config, *netns, *path;
    double cpu[2];   // summed ms: ADD, DEL
    double rss[2];   // summed KiB
    long rss_max[2];
    int n;
};

static int run_one(struct impl *im, const char *verb, int round, double *cpu_ms, long *rss_kb) {
    char e_cmd[64], e_id[128], e_ns[512], e_path[2048];
    snprintf(e_cmd, sizeof e_cmd, "CNI_COMMAND=%s", verb);
    snprintf(e_id, sizeof e_id, "CNI_CONTAINERID=bench-%d-%d", (int)(im - g_impl), round);
    snprintf(e_ns, sizeof e_ns, "CNI_NETNS=%s", im->netns);
    snprintf(e_path, sizeof e_path, "CNI_PATH=%s", im->path);
    char *envp[] = {e_cmd, e_id, e_ns, "CNI_IFNAME=eth0", e_path, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    char *argv[] = {im->bin, NULL};
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        perror("pipe2");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        int in = open(im->config, O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(out[1], 1) < 0) {
            _exit(126);
        }
        execve(im->bin, argv, envp);
        _exit(127);
    }
    close(out[1]);
    char buf[8192];
    size_t len = 0;
    ssize_t r;
    while ((r = read(out[0], buf + len, sizeof buf - 1 - len)) > 0 || (r < 0 && errno == EINTR)) {
        if (r > 0) {
            len += (size_t)r;
            if (len >= sizeof buf - 1) {
                len = 0;  // keep the tail only
            }
        }
    }
    buf[len] = '\0';
    close(out[0]);
    int st = 0;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("wait4");
            return -1;
        }
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "cnibench: %s %s round %d failed (status %d):\n%s\n", im->name, verb,
                round, st, buf);
        return -1;
    }
    *cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
              (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    *rss_kb = ru.ru_maxrss;
    return 0;
}

int main(int argc, char **argv) {
    int n = 100, warmup = 3, opt;
    while ((opt = getopt(argc, argv, "n:w:")) != -1) {
        if (opt == 'n') {
            n = atoi(optarg);
        } else if (opt == 'w') {
            warmup = atoi(optarg);
        } else {
            fprintf(stderr, "usage: cnibench -n N [-w W] NAME:BIN:CONFIG:NETNS:CNI_PATH ...\n");
            return 2;
        }
    }
    static struct impl im[MAX_IMPL];
    g_impl = im;
    int k = 0;
    for (int i = optind; i < argc && k < MAX_IMPL; ++i, ++k) {
        memset(&im[k], 0, sizeof im[k]);
        char *s = strdup(argv[i]);
        im[k].name = strsep(&s, ":");
        im[k].bin = strsep(&s, ":");
        im[k].config = strsep(&s, ":");
        im[k].netns = strsep(&s, ":");
        im[k].path = s;  // the rest: CNI_PATH may contain ':'
        if (!im[k].bin || !im[k].config || !im[k].netns || !im[k].path) {
            fprintf(stderr, "cnibench: bad spec %s\n", argv[i]);
            return 2;
        }
    }
    for (int round = 0; round < warmup + n; ++round) {
        for (int j = 0; j < k; ++j) {
            struct impl *p = &im[(j + round) % k];
            const char *verbs[2] = {"ADD", "DEL"};
            for (int v = 0; v < 2; ++v) {
                double cpu;
                long rss;
                if (run_one(p, verbs[v], round, &cpu, &rss) != 0) {
                    return 1;
                }
                if (round >= warmup) {
                    p->cpu[v] += cpu;
                    p->rss[v] += (double)rss;
                    if (rss > p->rss_max[v]) {
                        p->rss_max[v] = rss;
                    }
                }
            }
            if (round >= warmup) {
                p->n++;
            }
        }
    }
    printf("| plugin | verb | calls | CPU ms/call (user+sys) | CPU vs ref | peak RSS KiB (mean / max) | RSS vs ref |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (int j = 0; j < k; ++j) {
        for (int v = 0; v < 2; ++v) {
            double cpu = im[j].cpu[v] / im[j].n, rss = im[j].rss[v] / im[j].n;
            char cr[32] = "", rr[32] = "";
            if (j % 2 == 0 && j + 1 < k) {
                snprintf(cr, sizeof cr, "%.2fx", cpu / (im[j + 1].cpu[v] / im[j + 1].n));
                snprintf(rr, sizeof rr, "%.2fx", rss / (im[j + 1].rss[v] / im[j + 1].n));
            }
            printf("| %s | %s | %d | %.2f | %s | %.0f / %ld | %s |\n", im[j].name,
                   v == 0 ? "ADD" : "DEL", im[j].n, cpu, cr, rss, im[j].rss_max[v], rr);
        }
    }
    return 0;
}
