/*
 * fuzz_fields.c — the field classification loader (protect/fields.c) on arbitrary bytes.
 *
 * Invariants: loading never crashes or leaks; it succeeds exactly when it reported no
 * problem; every problem line starts with "fields.yaml:" and ends in a newline; and a file
 * that loads obeys the rules of fields.h: names are object.field and unique (and found by
 * fg_fields_get), C3 is encrypted or hashed with no reveal and mask all, C2 is encrypted or
 * arithmetic, index needs encrypt, purpose is pii or pan exactly when encrypted, a wide
 * mask comes with its permission.
 */
#include <string.h>

#include "fuzz.h"

#include "protect/fields.h"

/* Enough for FG_FIELDS_ERRORS_MAX lines of at most 256 bytes plus the count line. */
#define FUZZ_ERRORS_MAX (16u * 1024u)

static void check_errors(const char *e)
{
    for (const char *line = e; *line != '\0';) {
        FUZZ_CHECK(strncmp(line, "fields.yaml:", 12) == 0);
        const char *nl = strchr(line, '\n');
        FUZZ_CHECK(nl != NULL);
        line = nl + 1;
    }
}

static void check_spec(const struct fg_fields *f, const struct fg_field_spec *s)
{
    size_t n = strlen(s->name);
    const char *dot = strchr(s->name, '.');
    FUZZ_CHECK(n > 0 && n <= FG_FIELDS_NAME_MAX && dot != NULL && strchr(dot + 1, '.') == NULL);
    FUZZ_CHECK(fg_fields_get(f, s->name) == s);
    FUZZ_CHECK(s->cls >= FG_FIELD_C1 && s->cls <= FG_FIELD_C3);
    FUZZ_CHECK(s->line > 0);
    if (s->cls == FG_FIELD_C3) {
        FUZZ_CHECK(s->encrypt || s->hashed);
        FUZZ_CHECK(s->reveal_permission == NULL && s->wide_permission == NULL);
        FUZZ_CHECK(s->mask == FG_MASK_ALL && s->mask_wide == FG_MASK_NONE);
    }
    if (s->cls == FG_FIELD_C2)
        FUZZ_CHECK(s->encrypt || s->arithmetic);
    if (s->cls == FG_FIELD_C1)
        FUZZ_CHECK(s->reveal_permission == NULL && !s->arithmetic);
    FUZZ_CHECK(!(s->encrypt && (s->hashed || s->arithmetic)));
    FUZZ_CHECK(!s->index || s->encrypt);
    if (s->encrypt)
        FUZZ_CHECK(s->purpose == FG_KEY_PII || s->purpose == FG_KEY_PAN);
    else
        FUZZ_CHECK((int)s->purpose == 0);
    FUZZ_CHECK(fg_mask_rule_name(s->mask) != NULL && fg_mask_rule_name(s->mask_wide) != NULL);
    if (s->wide_permission == NULL)
        FUZZ_CHECK(s->mask_wide == FG_MASK_NONE);
    if (s->wide_permission != NULL)
        FUZZ_CHECK(strlen(s->wide_permission) <= FG_FIELDS_PERM_MAX);
    if (s->reveal_permission != NULL)
        FUZZ_CHECK(strlen(s->reveal_permission) <= FG_FIELDS_PERM_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char err[FUZZ_ERRORS_MAX];
    struct fg_fields *f = NULL;
    fg_rc rc = fg_fields_load((const char *)data, size, &f, err, sizeof err);
    if (rc == FG_OK) {
        FUZZ_CHECK(f != NULL && err[0] == '\0');
        size_t count = fg_fields_count(f);
        FUZZ_CHECK(count <= FG_FIELDS_MAX);
        for (size_t i = 0; i < count; i++)
            check_spec(f, fg_fields_at(f, i));
    } else {
        FUZZ_CHECK(f == NULL);
        FUZZ_CHECK(rc == FG_ERR_CONFIG || rc == FG_ERR_TOO_LARGE || rc == FG_ERR_NOMEM);
        if (rc != FG_ERR_NOMEM)
            FUZZ_CHECK(err[0] != '\0');
        check_errors(err);
    }
    fg_fields_free(f);
    return 0;
}
