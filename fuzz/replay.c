/*
 * replay.c — runs a fuzz target over a corpus directory without libFuzzer.
 *
 * Normal builds link every fuzz/fuzz_<x>.c with this file and register
 * `fuzz_<x> fuzz/corpus/<x>` as a ctest, so the corpus (seeds plus every crash ever found)
 * is a regression test under the sanitizers. Each regular file is read into a buffer of
 * exactly its size (so ASan sees any read past the end), the target runs on it, and the
 * empty input runs too. Files are taken in name order so failures reproduce. Exit status:
 * 0 after replaying, 1 if the directory is missing, unreadable or has no inputs; a target
 * that breaks an invariant aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* A corpus entry larger than this is a mistake (libFuzzer's default -max_len is 4096). */
#define REPLAY_INPUT_MAX (1024u * 1024u)
#define REPLAY_PATH_MAX 4096

static int replay_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    uint8_t *data = malloc(size > 0 ? size : 1);
    if (data == NULL) {
        fclose(f);
        fprintf(stderr, "replay: %s: out of memory\n", path);
        return 1;
    }
    size_t got = size > 0 ? fread(data, 1, size, f) : 0;
    fclose(f);
    if (got != size) {
        free(data);
        fprintf(stderr, "replay: %s: short read\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    struct dirent **names = NULL;
    int n = scandir(argv[1], &names, NULL, by_name);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int failures = 0;
    size_t replayed = 0;
    for (int i = 0; i < n; i++) {
        char path[REPLAY_PATH_MAX];
        int len = snprintf(path, sizeof path, "%s/%s", argv[1], names[i]->d_name);
        struct stat st;
        if (len > 0 && (size_t)len < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if ((unsigned long long)st.st_size > REPLAY_INPUT_MAX) {
                fprintf(stderr, "replay: %s: larger than %u bytes\n", path, REPLAY_INPUT_MAX);
                failures++;
            } else if (replay_file(path, (size_t)st.st_size) != 0) {
                failures++;
            } else {
                replayed++;
            }
        }
        free(names[i]);
    }
    free(names);

    static const uint8_t empty[1];
    LLVMFuzzerTestOneInput(empty, 0);

    printf("replayed %zu inputs (and the empty input)\n", replayed);
    if (failures > 0)
        return 1;
    if (replayed == 0) {
        fprintf(stderr, "replay: %s: no inputs\n", argv[1]);
        return 1;
    }
    return 0;
}
