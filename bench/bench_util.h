/*
 * bench_util.h — what every bench_* program shares: its command line
 * (`--seconds N (1..BENCH_SECONDS_MAX)` and an optional work directory) and the removal of
 * the temporary directory it worked in. Header-only: each benchmark is one translation unit.
 */
#ifndef FG_BENCH_UTIL_H
#define FG_BENCH_UTIL_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BENCH_SECONDS_MAX 3600

/* Remove dir and the files directly in it (benchmarks create no subdirectories). */
static inline void bench_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[PATH_MAX];
            int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (n > 0 && (size_t)n < sizeof path)
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* --seconds N and an optional directory; -1 on anything else. */
static inline int bench_parse_args(int argc, char **argv, unsigned *seconds, const char **parent)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || v < 1 || v > BENCH_SECONDS_MAX)
                return -1;
            *seconds = (unsigned)v;
        } else if (argv[i][0] != '-') {
            *parent = argv[i];
        } else {
            return -1;
        }
    }
    return 0;
}

#endif
