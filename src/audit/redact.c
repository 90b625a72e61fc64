/*
 * redact.c — the redactor every audit record's details go through (audit.h "redaction").
 *
 * The input is bounded before anything is built: its length (FG_AUDIT_DETAILS_MAX) and its
 * nesting, measured by one scan over the text that skips string contents
 * (FG_AUDIT_DETAILS_DEPTH_MAX), so the recursive walk below has a known, small depth.
 * jansson then parses it (rejecting invalid UTF-8, "\u0000" and duplicate keys — a
 * duplicate could otherwise smuggle a second, unredacted "password"), the tree is walked
 * and every member with a sensitive key gets the value "[redacted]" (its whole subtree
 * goes), as does every string value that contains something shaped like a card number or
 * a PRC resident ID number, and the tree is written back as compact JSON in input order.
 * The output is what gets MAC'd and stored, so it must be deterministic for a given input:
 * jansson's compact encoder is.
 */
#include "audit/audit.h"

#include <assert.h>
#include <jansson.h>
#include <string.h>

static const char redacted[] = "[redacted]";

/* Keys containing any of these (ASCII case-insensitive) are redacted. The brief's list
 * plus what log.h also redacts (cookie, authorization): one rule for logs and audit. */
static const char *const sensitive_words[] = {
    "password", "secret", "token",     "otp",   "key",    "pan",           "id_number",
    "share",    "cvv",    "signature", "nonce", "cookie", "authorization", NULL,
};

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int contains_word(const char *key, size_t len, const char *word)
{
    size_t wl = strlen(word);
    for (size_t i = 0; i + wl <= len; i++) {
        size_t j = 0;
        while (j < wl && lower(key[i + j]) == word[j])
            j++;
        if (j == wl)
            return 1;
    }
    return 0;
}

int fg_audit_key_is_sensitive(const char *key, size_t len)
{
    assert(key != NULL || len == 0);
    for (const char *const *w = sensitive_words; *w != NULL; w++)
        if (contains_word(key, len, *w))
            return 1;
    return 0;
}

/* ---- value heuristics -------------------------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int luhn_valid(const char *d, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)(d[n - 1 - i] - '0');
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* GB 11643 / ISO 7064 MOD 11-2 check character of 17 digits. */
static int prc_id_valid(const char *d17, char check)
{
    static const unsigned weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char checks[] = "10X98765432";
    unsigned sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (unsigned)(d17[i] - '0') * weights[i];
    return checks[sum % 11] == (check == 'x' ? 'X' : check);
}

#define RUN_DIGITS_MAX 32

/* 1 if s holds a run of 13-19 digits (single spaces or dashes between digits allowed) that
 * passes Luhn, or 17 digits + digit/X with a valid PRC ID check character. */
static int value_is_sensitive(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (!is_digit(s[i])) {
            i++;
            continue;
        }
        char digits[RUN_DIGITS_MAX];
        size_t nd = 0, j = i;
        int plain = 1;
        while (j < n) {
            if (is_digit(s[j])) {
                if (nd < RUN_DIGITS_MAX)
                    digits[nd] = s[j];
                nd++;
                j++;
            } else if ((s[j] == ' ' || s[j] == '-') && j + 1 < n && is_digit(s[j + 1])) {
                plain = 0;
                j++;
            } else {
                break;
            }
        }
        if (plain && nd == 17 && j < n && (s[j] == 'X' || s[j] == 'x') &&
            prc_id_valid(digits, s[j]))
            return 1;
        if (plain && nd == 18 && prc_id_valid(digits, digits[17]))
            return 1;
        if (nd >= 13 && nd <= 19 && luhn_valid(digits, nd))
            return 1;
        assert(j > i);
        i = j;
    }
    return 0;
}

/* ---- the walk ---------------------------------------------------------------------------- */

/* Deepest nesting outside strings; stops at limit + 1. */
static unsigned scan_depth(const char *s, size_t n, unsigned limit)
{
    unsigned depth = 0, deepest = 0;
    int in_string = 0;
    for (size_t i = 0; i < n && deepest <= limit; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > deepest)
                deepest = depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

static fg_rc redact_value(json_t *v, unsigned depth);

static json_t *redaction(void)
{
    return json_string(redacted);
}

static fg_rc redact_object(json_t *obj, unsigned depth)
{
    for (void *it = json_object_iter(obj); it != NULL; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        json_t *value = json_object_iter_value(it);
        int replace = fg_audit_key_is_sensitive(key, strlen(key)) ||
                      (json_is_string(value) &&
                       value_is_sensitive(json_string_value(value), json_string_length(value)));
        if (replace) {
            json_t *r = redaction();
            if (r == NULL || json_object_iter_set_new(obj, it, r) != 0)
                return FG_ERR_NOMEM;
            continue;
        }
        fg_rc rc = redact_value(value, depth + 1);
        if (rc != FG_OK)
            return rc;
    }
    return FG_OK;
}

static fg_rc redact_array(json_t *arr, unsigned depth)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *value = json_array_get(arr, i);
        if (json_is_string(value) &&
            value_is_sensitive(json_string_value(value), json_string_length(value))) {
            json_t *r = redaction();
            if (r == NULL || json_array_set_new(arr, i, r) != 0)
                return FG_ERR_NOMEM;
            continue;
        }
        fg_rc rc = redact_value(value, depth + 1);
        if (rc != FG_OK)
            return rc;
    }
    return FG_OK;
}

static fg_rc redact_value(json_t *v, unsigned depth)
{
    assert(v != NULL);
    if (!json_is_object(v) && !json_is_array(v))
        return FG_OK;
    if (depth > FG_AUDIT_DETAILS_DEPTH_MAX) /* the scan made sure; never recurse unbounded */
        return FG_ERR_LIMIT;
    return json_is_object(v) ? redact_object(v, depth) : redact_array(v, depth);
}

fg_rc fg_audit_redact(const char *json, size_t len, char *out, size_t out_cap, size_t *out_len)
{
    assert(json != NULL || len == 0);
    assert(out != NULL && out_cap > 0 && out_len != NULL);
    *out_len = 0;
    out[0] = '\0';
    if (len == 0)
        return FG_ERR_INVALID;
    if (len > FG_AUDIT_DETAILS_MAX)
        return FG_ERR_TOO_LARGE;
    if (scan_depth(json, len, FG_AUDIT_DETAILS_DEPTH_MAX) > FG_AUDIT_DETAILS_DEPTH_MAX)
        return FG_ERR_LIMIT;
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        return FG_ERR_INVALID;
    fg_rc rc = json_is_object(root) ? redact_value(root, 1) : FG_ERR_INVALID;
    if (rc == FG_OK) {
        size_t n = json_dumpb(root, out, out_cap - 1, JSON_COMPACT);
        if (n == 0)
            rc = FG_ERR_NOMEM;
        else if (n > out_cap - 1 || n > FG_AUDIT_DETAILS_MAX)
            rc = FG_ERR_TOO_LARGE;
        else
            *out_len = n;
    }
    json_decref(root);
    out[*out_len] = '\0';
    assert(rc != FG_OK || *out_len > 0);
    return rc;
}
