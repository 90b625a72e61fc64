/*
 * fuzz_decoder.c — the log decoders (monitor/decoder.c) on arbitrary bytes.
 *
 * The first byte picks the input's use: 0..127 = lines for the shipped sshd decoder, the
 * rest (after it) are split at '\n' and decoded one by one; 128..191 = the same for the
 * jsonl decoder; 192..255 = the rest is a decoder YAML file to load (and, when it loads, the
 * rest is also fed to it as lines).
 *
 * Invariants: nothing crashes or leaks; every line ends in exactly one counter (lines =
 * decoded + unmatched + invalid); a decoded event has a name and strings within their
 * limits; a failed load returns no decoder and, when the file was invalid, reports errors
 * that start with the "fuzz:" origin.
 */
#include <string.h>

#include "fuzz.h"

#include "base/buf.h"
#include "monitor/decoder.h"

#define FUZZ_ERRORS_MAX (64u * 1024u)

static struct fg_decoder *sshd, *jsonl;

static void check_event(const struct fg_mev *ev)
{
    const char *name = ev->s[FG_MEV_F_NAME];
    size_t n = strlen(name);
    FUZZ_CHECK(n >= 1 && n <= FG_MEV_NAME_MAX);
    for (int i = 1; i < (int)FG_MEV_F_NSTR; i++)
        FUZZ_CHECK(strlen(ev->s[i]) <= FG_MEV_KEY_MAX);
    FUZZ_CHECK(ev->nattrs <= FG_MEV_ATTRS_MAX);
    for (unsigned i = 0; i < ev->nattrs; i++)
        FUZZ_CHECK(strlen(ev->attrs[i].str) <= FG_MEV_ATTR_VALUE_MAX);
}

static void feed(struct fg_decoder *d, const char *p, size_t n)
{
    static struct fg_mev_hold hold;
    struct fg_decoder_stats before, after;
    fg_decoder_get_stats(d, &before);
    size_t lines = 0;
    while (n > 0 || lines == 0) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl != NULL ? (size_t)(nl - p) : n;
        if (fg_decoder_line(d, p, len, &hold) == FG_DECODE_EVENT)
            check_event(&hold.ev);
        lines++;
        if (nl == NULL)
            break;
        p += len + 1;
        n -= len + 1;
    }
    fg_decoder_get_stats(d, &after);
    FUZZ_CHECK(after.lines - before.lines == lines);
    FUZZ_CHECK(after.lines == after.decoded + after.unmatched + after.invalid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_decoder_options opt = {2026, 480, 1};
    if (sshd == NULL) {
        FUZZ_CHECK(fg_decoder_load("sshd", &opt, &sshd, NULL) == FG_OK);
        FUZZ_CHECK(fg_decoder_load("jsonl", &opt, &jsonl, NULL) == FG_OK);
    }
    if (size == 0)
        return 0;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] < 128) {
        feed(sshd, rest, n);
    } else if (data[0] < 192) {
        feed(jsonl, rest, n);
    } else {
        struct fg_decoder *d = NULL;
        struct fg_buf errors = FG_BUF_INIT(FUZZ_ERRORS_MAX);
        fg_rc rc = fg_decoder_load_text("fuzz", rest, n, &opt, &d, &errors);
        if (rc == FG_OK) {
            FUZZ_CHECK(d != NULL);
            feed(d, rest, n);
            fg_decoder_free(d);
        } else {
            FUZZ_CHECK(d == NULL);
            if (rc == FG_ERR_INVALID)
                FUZZ_CHECK(strncmp(fg_buf_str(&errors), "fuzz:", 5) == 0);
        }
        fg_buf_release(&errors);
    }
    return 0;
}
