/*
 * Fuzz target: the audit details redactor (src/audit/redact.c). Invariants on success:
 * the output fits the limit, is one JSON object, no member with a sensitive key keeps a
 * value other than "[redacted]" at any depth, and redacting the output again changes
 * nothing (the stored form is a fixed point).
 */
#include <jansson.h>
#include <string.h>

#include "audit/audit.h"
#include "fuzz.h"

static int clean(json_t *v, unsigned depth)
{
    FUZZ_CHECK(depth <= FG_AUDIT_DETAILS_DEPTH_MAX + 1);
    if (json_is_object(v)) {
        const char *key;
        json_t *value;
        json_object_foreach(v, key, value)
        {
            if (fg_audit_key_is_sensitive(key, strlen(key)) &&
                !(json_is_string(value) && strcmp(json_string_value(value), "[redacted]") == 0))
                return 0;
            if (!clean(value, depth + 1))
                return 0;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!clean(json_array_get(v, i), depth + 1))
                return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[FG_AUDIT_DETAILS_MAX + 1], again[FG_AUDIT_DETAILS_MAX + 1];
    size_t n = 0, m = 0;
    if (fg_audit_redact((const char *)data, size, out, sizeof out, &n) != FG_OK) {
        FUZZ_CHECK(n == 0 && out[0] == '\0');
        return 0;
    }
    FUZZ_CHECK(n > 0 && n <= FG_AUDIT_DETAILS_MAX && out[n] == '\0' && strlen(out) == n);
    json_error_t err;
    json_t *doc = json_loadb(out, n, JSON_REJECT_DUPLICATES, &err);
    FUZZ_CHECK(doc != NULL && json_is_object(doc));
    FUZZ_CHECK(clean(doc, 1));
    json_decref(doc);
    FUZZ_CHECK(fg_audit_redact(out, n, again, sizeof again, &m) == FG_OK);
    FUZZ_CHECK(m == n && memcmp(out, again, n) == 0);
    return 0;
}
