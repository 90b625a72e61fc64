/*
 * engine_internal.h — the compiled form of a rule set, shared by rules.c (the loader and
 * linter) and engine.c (the evaluator). Not a public API.
 *
 * A condition names its field by number (a typed string field, amount, hour, weekday) or by
 * attribute name; its values are parsed once at load (integers, CIDR blocks, compiled
 * regexes), so evaluating an event never parses text.
 *
 * Ownership: everything lives in the rule set's arena; regexes are freed by fg_rules_free.
 */
#ifndef FG_MONITOR_ENGINE_INTERNAL_H
#define FG_MONITOR_ENGINE_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/arena.h"
#include "base/netaddr.h"
#include "monitor/engine.h"

/* count / distinct thresholds: the exact windows keep `threshold` items per key. */
#define FG_RULE_THRESHOLD_MAX 10000
/* sum windows keep this many (time, amount) items per key; older ones are folded. */
#define FG_ENGINE_SUM_ITEMS 64u

enum fg_fref_kind {
    FG_FREF_STR = 1, /* a typed string field: fref.field */
    FG_FREF_AMOUNT,
    FG_FREF_HOUR,
    FG_FREF_WEEKDAY,
    FG_FREF_ATTR, /* attrs.<fref.attr> */
};

struct fg_fref {
    enum fg_fref_kind kind;
    int field;                           /* FG_FREF_STR: enum fg_mev_field */
    char attr[FG_MEV_ATTR_NAME_MAX + 1]; /* FG_FREF_ATTR */
    const char *label;                   /* in keys: "ip", "target", "amount" */
};

enum fg_cond_op {
    FG_OP_EQ = 1,
    FG_OP_NE,
    FG_OP_IN,
    FG_OP_NOT_IN,
    FG_OP_LT,
    FG_OP_LTE,
    FG_OP_GT,
    FG_OP_GTE,
    FG_OP_BETWEEN,
    FG_OP_NOT_BETWEEN,
    FG_OP_CIDR,
    FG_OP_NOT_CIDR,
    FG_OP_REGEX,
    FG_OP_EXISTS,
};

struct fg_cond {
    struct fg_fref f;
    enum fg_cond_op op;
    int64_t a, b;    /* numeric operands; EXISTS: a = 1 (true) / 0 */
    const char *str; /* EQ / NE: the value as text */
    int num_ok;      /* EQ / NE: str is also the integer a */
    unsigned n;      /* IN / NOT_IN / CIDR lists */
    const char **strs;
    struct fg_net_block *blocks;
    pcre2_code *re;
};

struct fg_cmatch {
    int any; /* name "*" */
    unsigned nnames;
    const char **names;
    unsigned nconds;
    struct fg_cond *conds;
};

enum fg_rule_kind { FG_RK_MATCH = 1, FG_RK_AGGREGATE, FG_RK_SEQUENCE };
enum fg_agg_fn { FG_AGG_COUNT = 1, FG_AGG_SUM, FG_AGG_DISTINCT };

struct fg_crule {
    struct fg_rule_info info;
    enum fg_rule_kind kind;
    struct fg_cmatch match; /* MATCH / AGGREGATE */
    enum fg_agg_fn fn;
    struct fg_fref field; /* sum / distinct */
    unsigned nby;
    struct fg_fref by[FG_RULE_BY_MAX];
    int64_t window_ms; /* aggregate window_s / sequence within_s, in ms */
    int64_t threshold;
    unsigned nsteps;
    struct fg_cmatch steps[FG_RULE_STEPS_MAX];
    int64_t suppress_ms;
};

struct fg_rules {
    struct fg_arena arena;
    size_t n;
    struct fg_crule *rules; /* n of them, in load order */
};

/* Does the event satisfy every condition of m (its name is checked only when check_name)?
 * Regex evaluation uses md/mc; *limit_hits counts match-limit give-ups. */
int fg_cmatch_eval(const struct fg_cmatch *m, const struct fg_mev *ev, int check_name,
                   int tz_offset_minutes, pcre2_match_data *md, pcre2_match_context *mc,
                   uint64_t *limit_hits);
/* The value of field f of ev as text (numbers formatted into tmp[24]); "" when absent. */
const char *fg_fref_text(const struct fg_fref *f, const struct fg_mev *ev, int tz_offset_minutes,
                         char tmp[24]);
/* The value of f as an integer: 1 and *out when present and numeric, else 0. */
int fg_fref_num(const struct fg_fref *f, const struct fg_mev *ev, int tz_offset_minutes,
                int64_t *out);

#endif
