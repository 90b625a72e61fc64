/*
 * json.h — JSON request bodies with limits, and field-by-field validation.
 *
 * fg_json_parse_body() accepts exactly one JSON object of valid UTF-8 (jansson rejects
 * invalid and overlong UTF-8 and, with our flags, duplicate keys and "\u0000"), no
 * deeper than FG_JSON_DEPTH_MAX (checked by a scan *before* jansson builds anything, so a
 * 10 000-deep body costs one pass and no allocation), with no string longer than
 * FG_JSON_STRING_MAX bytes and no object/array over FG_JSON_MEMBERS_MAX members.
 *
 * fg_json_check() validates an object against a field table: every required field
 * present, every present field known (unknown fields are an error — a typo must not be
 * silently ignored in a bank), each of the declared type and within its range. Errors
 * name the field and say what is wrong, and never echo the value (it may be a secret).
 */
#ifndef FG_HTTP_JSON_H
#define FG_HTTP_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"

struct fg_json_error {
    const char *field; /* static, owned by the checked object, or field_buf; NULL if none */
    char message[128];
    char field_buf[64]; /* the member name of a number out of range, found in the text */
};

/* FG_ERR_INVALID (malformed, not an object, too deep, string too long) with err set. */
FG_MUST_CHECK fg_rc fg_json_parse_body(const char *body, size_t len, json_t **out,
                                       struct fg_json_error *err);

enum fg_json_type { FG_JSON_STRING = 1, FG_JSON_INT, FG_JSON_BOOL, FG_JSON_OBJECT, FG_JSON_ARRAY };

struct fg_json_field {
    const char *name;
    enum fg_json_type type;
    int required;
    int64_t min, max; /* STRING: length in UTF-8 characters; INT: value; ARRAY: items */
};

FG_MUST_CHECK fg_rc fg_json_check(json_t *obj, const struct fg_json_field *fields, size_t nfields,
                                  struct fg_json_error *err);

/* Number of UTF-8 characters in a valid UTF-8 string of n bytes. */
size_t fg_utf8_length(const char *s, size_t n);

/* Depth of the deepest nesting in text (outside strings); stops counting past limit. */
unsigned fg_json_scan_depth(const char *text, size_t len, unsigned limit);

#endif
