/*
 * fuzz_time.c — the strict RFC 3339 parser on arbitrary bytes.
 *
 * Invariants: the parser reads only [data, data + size) (the buffer is used as-is, not
 * NUL-terminated, so ASan catches an overread); an accepted time formats back to the same
 * instant; an accepted long form ("...SS.fffZ") is canonical, i.e. formats back to
 * exactly the input bytes, and the short form to the input plus ".000".
 */
#include <string.h>

#include "fuzz.h"

#include "base/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t ms = 0;
    if (fg_time_parse_rfc3339((const char *)data, size, &ms) != FG_OK)
        return 0;
    FUZZ_CHECK(size == 20 || size == 24);
    char out[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(ms, out);
    int64_t back = 0;
    FUZZ_CHECK(fg_time_parse_rfc3339(out, strlen(out), &back) == FG_OK);
    FUZZ_CHECK(back == ms);
    if (size == 24) {
        FUZZ_CHECK(memcmp(out, data, 24) == 0);
    } else {
        FUZZ_CHECK(memcmp(out, data, 19) == 0);
        FUZZ_CHECK(memcmp(out + 19, ".000Z", 5) == 0);
    }
    return 0;
}
