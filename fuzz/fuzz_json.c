/* Fuzz target: request-body JSON parsing with limits, then field validation. */
#include <stddef.h>
#include <stdint.h>

#include "http/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct fg_json_field fields[] = {
    {"payload", FG_JSON_STRING, 1, 1, 256},
    {"amount", FG_JSON_INT, 0, 1, 1000000},
    {"flag", FG_JSON_BOOL, 0, 0, 0},
    {"items", FG_JSON_ARRAY, 0, 0, 10},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = NULL;
    struct fg_json_error err;
    if (fg_json_parse_body((const char *)data, size, &doc, &err) == FG_OK) {
        if (fg_json_check(doc, fields, 4, &err) != FG_OK && err.message[0] == 0)
            __builtin_trap(); /* a failed check always explains itself */
        json_decref(doc);
    }
    (void)fg_json_scan_depth((const char *)data, size, 32);
    return 0;
}
