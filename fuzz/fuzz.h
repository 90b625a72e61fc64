/*
 * fuzz.h — the libFuzzer entry point every fuzz/fuzz_<parser>.c defines.
 *
 * With FG_FUZZ=ON a target is linked with -fsanitize=fuzzer; otherwise with replay.c,
 * which runs it over its in-tree corpus (fuzz/corpus/<parser>/) as a ctest. A target must
 * not keep state between calls, and reports a broken invariant by aborting (FUZZ_CHECK),
 * which both drivers turn into a failure.
 */
#ifndef FG_FUZZ_FUZZ_H
#define FG_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Unlike assert(), active in every build type. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
