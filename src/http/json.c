/*
 * json.c — request bodies. A cheap byte scan bounds nesting depth before jansson runs
 * (jansson's own limit is 2048 and recursive); then jansson parses with
 * JSON_REJECT_DUPLICATES; then one walk bounds string lengths and member counts. The
 * walk is recursive but only over a document already known to be ≤ FG_JSON_DEPTH_MAX deep.
 */
#include "http/json.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/limits.h"

unsigned fg_json_scan_depth(const char *text, size_t len, unsigned limit)
{
    unsigned depth = 0, deepest = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* skip the escaped character */
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            depth++;
            if (depth > deepest)
                deepest = depth;
            if (deepest > limit)
                return deepest;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

/* The member name before the value that ends near pos: `"name" :` of [A-Za-z0-9_.-], else 0.
 * Only for naming a field in an error; a key with escapes is simply not named. */
static int member_before(const char *text, size_t pos, char *out, size_t cap)
{
    size_t i = pos;
    while (i > 0 && text[i - 1] != ':' && text[i - 1] != '{' && text[i - 1] != ',')
        i--;
    if (i == 0 || text[i - 1] != ':')
        return 0;
    i--;
    while (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n' ||
                     text[i - 1] == '\r'))
        i--;
    if (i == 0 || text[i - 1] != '"')
        return 0;
    size_t end = --i, start = end;
    while (start > 0 && text[start - 1] != '"') {
        char ch = text[start - 1];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return 0;
        start--;
    }
    if (start == 0 || end == start || end - start >= cap)
        return 0;
    memcpy(out, text + start, end - start);
    out[end - start] = '\0';
    return 1;
}

static void set_error(struct fg_json_error *err, const char *field, const char *msg)
{
    err->field = field;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

/* depth counts containers (objects and arrays), as fg_json_scan_depth() does. */
static fg_rc check_limits(json_t *v, unsigned depth, struct fg_json_error *err)
{
    if ((json_is_object(v) || json_is_array(v)) && depth > FG_JSON_DEPTH_MAX) {
        set_error(err, NULL, "JSON nested too deeply");
        return FG_ERR_INVALID;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (json_string_length(v) > FG_JSON_STRING_MAX) {
            set_error(err, NULL, "JSON string too long");
            return FG_ERR_INVALID;
        }
        return FG_OK;
    case JSON_OBJECT: {
        if (json_object_size(v) > FG_JSON_MEMBERS_MAX) {
            set_error(err, NULL, "JSON object has too many members");
            return FG_ERR_INVALID;
        }
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            if (strlen(key) > FG_JSON_STRING_MAX) {
                set_error(err, NULL, "JSON key too long");
                return FG_ERR_INVALID;
            }
            fg_rc rc = check_limits(child, depth + 1, err);
            if (rc)
                return rc;
        }
        return FG_OK;
    }
    case JSON_ARRAY: {
        if (json_array_size(v) > FG_JSON_MEMBERS_MAX) {
            set_error(err, NULL, "JSON array has too many items");
            return FG_ERR_INVALID;
        }
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            fg_rc rc = check_limits(child, depth + 1, err);
            if (rc)
                return rc;
        }
        return FG_OK;
    }
    default:
        return FG_OK;
    }
}

fg_rc fg_json_parse_body(const char *body, size_t len, json_t **out, struct fg_json_error *err)
{
    assert(out != NULL && err != NULL);
    *out = NULL;
    err->field = NULL;
    err->message[0] = '\0';
    if (body == NULL || len == 0) {
        set_error(err, NULL, "request body is empty; a JSON object is required");
        return FG_ERR_INVALID;
    }
    if (fg_json_scan_depth(body, len, FG_JSON_DEPTH_MAX) > FG_JSON_DEPTH_MAX) {
        set_error(err, NULL, "JSON nested too deeply");
        return FG_ERR_INVALID;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL && json_error_code(&jerr) == json_error_numeric_overflow) {
        /* 2^63 and beyond: well-formed JSON, an out-of-range value (never echoed) */
        set_error(err, NULL, "a number is out of range (integers are 64-bit)");
        if (member_before(body, jerr.position < 0 ? 0 : (size_t)jerr.position, err->field_buf,
                          sizeof err->field_buf))
            err->field = err->field_buf;
        return FG_ERR_INVALID;
    }
    if (doc == NULL) {
        /* jansson's text names the position, never echoes the input */
        char msg[128];
        snprintf(msg, sizeof msg, "malformed JSON at line %d column %d", jerr.line, jerr.column);
        set_error(err, NULL, msg);
        return FG_ERR_INVALID;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        set_error(err, NULL, "request body must be a JSON object");
        return FG_ERR_INVALID;
    }
    fg_rc rc = check_limits(doc, 1, err);
    if (rc) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return FG_OK;
}

size_t fg_utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

static const char *type_name(enum fg_json_type t)
{
    switch (t) {
    case FG_JSON_STRING:
        return "a string";
    case FG_JSON_INT:
        return "an integer";
    case FG_JSON_BOOL:
        return "a boolean";
    case FG_JSON_OBJECT:
        return "an object";
    case FG_JSON_ARRAY:
        return "an array";
    }
    return "?";
}

static int type_matches(json_t *v, enum fg_json_type t)
{
    switch (t) {
    case FG_JSON_STRING:
        return json_is_string(v);
    case FG_JSON_INT:
        return json_is_integer(v);
    case FG_JSON_BOOL:
        return json_is_boolean(v);
    case FG_JSON_OBJECT:
        return json_is_object(v);
    case FG_JSON_ARRAY:
        return json_is_array(v);
    }
    return 0;
}

static fg_rc check_field(json_t *v, const struct fg_json_field *f, struct fg_json_error *err)
{
    char msg[128];
    if (!type_matches(v, f->type)) {
        snprintf(msg, sizeof msg, "%s must be %s", f->name, type_name(f->type));
        set_error(err, f->name, msg);
        return FG_ERR_INVALID;
    }
    int64_t measure;
    const char *what;
    switch (f->type) {
    case FG_JSON_STRING:
        measure = (int64_t)fg_utf8_length(json_string_value(v), json_string_length(v));
        what = "length";
        break;
    case FG_JSON_INT:
        measure = (int64_t)json_integer_value(v);
        what = "value";
        break;
    case FG_JSON_ARRAY:
        measure = (int64_t)json_array_size(v);
        what = "number of items";
        break;
    default:
        return FG_OK;
    }
    if (measure < f->min || measure > f->max) {
        snprintf(msg, sizeof msg, "%s %s must be between %lld and %lld", f->name, what,
                 (long long)f->min, (long long)f->max);
        set_error(err, f->name, msg);
        return FG_ERR_INVALID;
    }
    return FG_OK;
}

fg_rc fg_json_check(json_t *obj, const struct fg_json_field *fields, size_t nfields,
                    struct fg_json_error *err)
{
    assert(obj != NULL && err != NULL);
    assert(json_is_object(obj));
    err->field = NULL;
    err->message[0] = '\0';
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        size_t i;
        for (i = 0; i < nfields; i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        if (i == nfields) {
            err->field = key;
            snprintf(err->message, sizeof err->message, "unknown field");
            return FG_ERR_INVALID;
        }
    }
    for (size_t i = 0; i < nfields; i++) {
        json_t *fv = json_object_get(obj, fields[i].name);
        if (fv == NULL) {
            if (fields[i].required) {
                char msg[128];
                snprintf(msg, sizeof msg, "%s is required", fields[i].name);
                set_error(err, fields[i].name, msg);
                return FG_ERR_INVALID;
            }
            continue;
        }
        fg_rc rc = check_field(fv, &fields[i], err);
        if (rc)
            return rc;
    }
    return FG_OK;
}
