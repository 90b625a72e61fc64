/*
 * Fuzz target: one line of the audit anchor file (src/audit/record.c audit_anchor_parse),
 * the only audit input read from outside the database. Invariants: a line that parses
 * formats back to a line no longer than the limit that parses to the same checkpoint.
 */
#include <string.h>

#include "audit/internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum fg_suite suites[] = {FG_SUITE_INTL, FG_SUITE_GM};
    for (int s = 0; s < 2; s++) {
        struct audit_checkpoint cp, back;
        if (audit_anchor_parse((const char *)data, size, suites[s], &cp) != FG_OK)
            continue;
        FUZZ_CHECK(cp.seq >= 1 && cp.sig_len >= 1 && cp.sig_len <= FG_SIGN_SIG_MAX);
        FUZZ_CHECK(cp.kind == AUDIT_CP_CHECKPOINT || cp.kind == AUDIT_CP_RETENTION);
        struct fg_buf line = FG_BUF_INIT(FG_AUDIT_ANCHOR_LINE_MAX);
        FUZZ_CHECK(audit_anchor_format(suites[s], &cp, &line) == FG_OK);
        FUZZ_CHECK(line.len >= 2 && line.data[line.len - 1] == '\n');
        FUZZ_CHECK(audit_anchor_parse(line.data, line.len - 1, suites[s], &back) == FG_OK);
        FUZZ_CHECK(back.kind == cp.kind && back.seq == cp.seq && back.time_ms == cp.time_ms &&
                   back.sign_version == cp.sign_version && back.sig_len == cp.sig_len &&
                   memcmp(back.mac, cp.mac, FG_HASH_LEN) == 0 &&
                   memcmp(back.sig, cp.sig, cp.sig_len) == 0);
        fg_buf_release(&line);
    }
    return 0;
}
