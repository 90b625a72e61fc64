/*
 * golden.h — golden cases for detection rules: events in, firings out (MON-2; issue #6;
 * the format is docs/rules.md "Golden cases", the files data/rules/tests/NAME.yaml).
 *
 * A case names one rule, lists events (t = seconds after start, the other members are an
 * external event as mevent.h parses it) and the exact firings of that rule it expects (key,
 * at = t of the triggering event, optionally value). The runner feeds every case into a
 * fresh engine over the whole rule set — all rules run, as in production — and compares
 * only the named rule's firings. Loading lints like the rule loader: every problem of every
 * file as "FILE:LINE: message\n", and any problem refuses the whole set.
 *
 * Limits: FG_GOLDEN_CASES_MAX cases, FG_GOLDEN_EVENTS_MAX events and FG_GOLDEN_EXPECT_MAX
 * expected firings per case; a case file is at most FG_RULE_FILE_BYTES_MAX.
 * Ownership: a set owns its cases (fg_golden_free). Threads: a set is immutable once loaded;
 * the runner uses its own engine per case.
 */
#ifndef FG_MONITOR_GOLDEN_H
#define FG_MONITOR_GOLDEN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/rc.h"
#include "monitor/engine.h"

#define FG_GOLDEN_CASES_MAX 4096u
#define FG_GOLDEN_EVENTS_MAX 100000u
#define FG_GOLDEN_EXPECT_MAX 1024u
#define FG_GOLDEN_NAME_MAX 200u
#define FG_GOLDEN_DIFF_MAX 1024u
/* When a case gives no start: Monday 2026-03-02 10:00 at +08:00. */
#define FG_GOLDEN_DEFAULT_START_MS 1772416800000LL

struct fg_golden_expect {
    char key[FG_RULE_KEY_MAX + 1];
    int64_t at_ms; /* after start */
    int64_t value;
    int has_value;
};

struct fg_golden_case {
    char file[160];
    unsigned line;
    char rule[FG_RULE_ID_MAX + 1];
    char name[FG_GOLDEN_NAME_MAX + 1];
    int64_t start_ms;
    size_t nevents;
    json_t *events; /* array of external-event objects with "time" set */
    size_t nexpect;
    struct fg_golden_expect *expect;
};

struct fg_golden_set {
    size_t n;
    struct fg_golden_case *cases;
};

/* Parse case files given as texts (names[i] in messages) or every *.yaml of dir (sorted). */
FG_MUST_CHECK fg_rc fg_golden_load_texts(const char *const *names, const char *const *texts,
                                         const size_t *lens, size_t n, struct fg_golden_set **out,
                                         struct fg_buf *errors);
FG_MUST_CHECK fg_rc fg_golden_load_dir(const char *dir, struct fg_golden_set **out,
                                       struct fg_buf *errors);
void fg_golden_free(struct fg_golden_set *s);

struct fg_golden_result {
    const struct fg_golden_case *c;
    int ok;
    char diff[FG_GOLDEN_DIFF_MAX]; /* when not ok: what differed */
};
typedef void (*fg_golden_fn)(void *ctx, const struct fg_golden_result *r);

/* Run every case (fn per case, in order); *failed = cases that did not match. */
FG_MUST_CHECK fg_rc fg_golden_run(const struct fg_rules *rules, const struct fg_golden_set *set,
                                  int tz_offset_minutes, fg_golden_fn fn, void *ctx,
                                  size_t *failed);

/* Per rule i of rules: how many cases expect it to fire (positive) and not (negative). */
struct fg_golden_cover {
    size_t positive, negative;
};
void fg_golden_coverage(const struct fg_rules *rules, const struct fg_golden_set *set,
                        struct fg_golden_cover *out /* fg_rules_count(rules) entries */);

#endif
