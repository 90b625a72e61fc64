/*
 * fuzz_rules.c — the rule loader and linter (monitor/rules.c) and the engine on arbitrary
 * rule texts.
 *
 * Invariants: loading never crashes or leaks; it succeeds exactly when it reported no
 * error; every error line starts with the "fuzz:" origin and ends in a newline; a set that
 * loads has at least one action per rule, a known level and kind, and an engine over it
 * takes a few events (every typed field set, amounts, attrs) without breaking its budget.
 */
#include <string.h>

#include "fuzz.h"

#include "monitor/engine.h"

#define FUZZ_ERRORS_MAX (256u * 1024u)

static void check_errors(const char *e)
{
    for (const char *line = e; *line != '\0';) {
        FUZZ_CHECK(strncmp(line, "fuzz:", 5) == 0);
        const char *nl = strchr(line, '\n');
        FUZZ_CHECK(nl != NULL);
        line = nl + 1;
    }
}

static void on_firing(void *ctx, const struct fg_firing *f)
{
    (void)ctx;
    FUZZ_CHECK(f->rule != NULL && strlen(f->key) <= FG_RULE_KEY_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *names[] = {"fuzz"};
    const char *texts[] = {(const char *)data};
    size_t lens[] = {size};
    struct fg_buf errors = FG_BUF_INIT(FUZZ_ERRORS_MAX);
    struct fg_rules *r = NULL;
    fg_rc rc = fg_rules_load_texts(names, texts, lens, 1, &r, &errors);
    check_errors(fg_buf_str(&errors));
    if (rc == FG_OK) {
        FUZZ_CHECK(r != NULL && errors.len == 0);
        for (size_t i = 0; i < fg_rules_count(r); i++) {
            const struct fg_rule_info *info = fg_rules_info(r, i);
            FUZZ_CHECK(info->nactions >= 1 && info->level >= FG_LEVEL_LOW &&
                       info->level <= FG_LEVEL_CRITICAL);
            FUZZ_CHECK(fg_rules_find(r, info->id) != NULL);
        }
        struct fg_engine_options opt = {64u * 1024u, 480};
        struct fg_engine *e = NULL;
        if (fg_engine_new(r, &opt, &e) == FG_OK) {
            struct fg_mev ev;
            memset(&ev, 0, sizeof ev);
            for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
                ev.s[i] = "x";
            ev.s[FG_MEV_F_IP] = "10.1.2.3";
            ev.attrs[0] = (struct fg_mev_attr){"target", "u1", 0, 0};
            ev.attrs[1] = (struct fg_mev_attr){"n", "7", 7, 1};
            ev.nattrs = 2;
            ev.has_amount = 1;
            const char *evnames[] = {"login.failed", "a", "transfer.committed", "x"};
            for (int i = 0; i < 64; i++) {
                ev.s[FG_MEV_F_NAME] = evnames[i % 4];
                ev.time_ms = 1772416800000LL + (int64_t)i * 7000;
                ev.amount = i * 1000;
                FUZZ_CHECK(fg_engine_feed(e, &ev, on_firing, NULL) == FG_OK);
            }
            struct fg_engine_stats st;
            fg_engine_get_stats(e, &st);
            FUZZ_CHECK(st.events == 64);
            fg_engine_free(e);
        }
        fg_rules_free(r);
    } else {
        FUZZ_CHECK(r == NULL);
        FUZZ_CHECK(rc != FG_ERR_INVALID || errors.len > 0 || errors.len == errors.max);
    }
    fg_buf_release(&errors);
    return 0;
}
