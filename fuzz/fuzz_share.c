/*
 * fuzz_share.c — the unseal share text parser (keys/shares.c) on arbitrary bytes.
 *
 * Invariants: the parser reads only [data, data + size) (the buffer is not NUL-terminated,
 * so ASan catches an overread); a refusal is FG_ERR_INVALID with a problem sentence and a
 * wiped output; an accepted share has a nonzero index and formats back to its canonical
 * text, which parses again to the very same share (one meaning per text).
 */
#include <string.h>

#include "fuzz.h"

#include "keys/shares.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fg_share zero;
    struct fg_share s;
    const char *problem = NULL;
    fg_rc rc = fg_share_parse((const char *)data, size, &s, &problem);
    if (rc != FG_OK) {
        FUZZ_CHECK(rc == FG_ERR_INVALID);
        FUZZ_CHECK(problem != NULL && problem[0] != '\0');
        FUZZ_CHECK(memcmp(&s, &zero, sizeof s) == 0);
        return 0;
    }
    FUZZ_CHECK(problem == NULL);
    FUZZ_CHECK(s.index != 0);
    char text[FG_SHARE_TEXT_MAX];
    FUZZ_CHECK(fg_share_format(&s, text) == FG_OK);
    size_t len = strnlen(text, sizeof text);
    FUZZ_CHECK(len < sizeof text);
    FUZZ_CHECK(len <= size);
    struct fg_share again;
    FUZZ_CHECK(fg_share_parse(text, len, &again, &problem) == FG_OK);
    FUZZ_CHECK(memcmp(&s, &again, sizeof s) == 0);
    return 0;
}
