/*
 * fields.c — loading the field classification (see fields.h, docs/protect.md).
 *
 * The format is fixed and shallow (root → fields → one mapping of scalars per field), so
 * the loader walks libyaml's event stream directly instead of building a tree: each level
 * is one function that reads its own events. Structural problems (a list where a mapping
 * belongs, a syntax error) end the load; problems of content (an unknown key, a rule
 * broken) are recorded with their line and the walk goes on, so one run shows them all.
 * The result lives in one arena owned by struct fg_fields and is never written after load.
 */
#include "protect/fields.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/arena.h"
#include "base/data.h"

#define FIELDS_ORIGIN "fields.yaml"
/* Memory of a loaded classification: names and permissions (≤ the file) and the specs. */
#define FIELDS_MEMORY_MAX (2u * FG_FIELDS_FILE_MAX)
/* One formatted problem; quoted file text inside is cut to FIELDS_SHOWN_MAX bytes. */
#define FIELDS_MESSAGE_MAX 256u
#define FIELDS_SHOWN_MAX 48

struct fg_fields {
    struct fg_arena mem;
    size_t count;
    struct fg_field_spec spec[FG_FIELDS_MAX];
};

/* The state of one fg_fields_load(). */
struct load {
    yaml_parser_t parser;
    const char *text;
    size_t len;
    char *err;
    size_t err_cap;
    size_t err_len;
    unsigned errors;
    int fatal; /* stop reading events (syntax error, structure, memory) */
    int nomem;
    int over_limit; /* "more than FG_FIELDS_MAX" reported */
    struct fg_fields *f;
};

/* ---- problems --------------------------------------------------------------------------- */

static void append_err(struct load *ld, const char *s)
{
    if (ld->err == NULL || ld->err_cap == 0)
        return;
    size_t room = ld->err_cap - 1u - ld->err_len, n = strlen(s);
    if (n > room)
        n = room;
    memcpy(ld->err + ld->err_len, s, n);
    ld->err_len += n;
    ld->err[ld->err_len] = '\0';
}

static void report(struct load *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct load *ld, int line, const char *fmt, ...)
{
    ld->errors++;
    if (ld->errors > FG_FIELDS_ERRORS_MAX)
        return;
    char text[FIELDS_MESSAGE_MAX];
    int n = snprintf(text, sizeof text, "%s:%d: ", FIELDS_ORIGIN, line);
    if (n < 0 || (size_t)n >= sizeof text)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
    va_end(ap);
    /* One problem per line: names quoted from the file may hold control characters. */
    for (char *c = text; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    append_err(ld, text);
    append_err(ld, "\n");
}

/* printf arguments quoting a scalar event's text, cut to FIELDS_SHOWN_MAX bytes. */
#define SHOWN(ev)                                                                                  \
    (int)((ev)->data.scalar.length < FIELDS_SHOWN_MAX ? (ev)->data.scalar.length                   \
                                                      : FIELDS_SHOWN_MAX),                         \
        (const char *)(ev)->data.scalar.value

/* libyaml counts lines from 0; problems count from 1. */
static int ev_line(const yaml_event_t *ev)
{
    return ev->start_mark.line < (size_t)INT_MAX - 1u ? (int)ev->start_mark.line + 1 : INT_MAX;
}

/* The line of a parse error: the reader (encoding, control characters) gives only a byte
 * offset, the scanner and parser a mark. */
static int parse_error_line(const struct load *ld)
{
    const yaml_parser_t *p = &ld->parser;
    if (p->error != YAML_READER_ERROR)
        return p->problem_mark.line < (size_t)INT_MAX - 1u ? (int)p->problem_mark.line + 1
                                                           : INT_MAX;
    int line = 1;
    for (size_t i = 0; i < p->problem_offset && i < ld->len && line < INT_MAX; i++)
        line += ld->text[i] == '\n';
    return line;
}

/* ---- events ----------------------------------------------------------------------------- */

/* The next event; 0 (reported, fatal) on a syntax error. Anchors and tags are reported
 * (not fatal); an alias is reported and reads as an empty plain scalar. */
static int next(struct load *ld, yaml_event_t *ev)
{
    if (ld->fatal)
        return 0;
    if (!yaml_parser_parse(&ld->parser, ev)) {
        const yaml_parser_t *p = &ld->parser;
        report(ld, parse_error_line(ld), "YAML syntax error: %s%s%s",
               p->problem != NULL ? p->problem : "unknown problem", p->context ? " " : "",
               p->context ? p->context : "");
        ld->fatal = 1;
        return 0;
    }
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor, tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor, tag = ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor, tag = ev->data.mapping_start.tag;
        break;
    case YAML_ALIAS_EVENT: {
        int line = ev_line(ev);
        yaml_event_delete(ev);
        report(ld, line, "YAML aliases are not allowed in the fields file");
        if (!yaml_scalar_event_initialize(ev, NULL, NULL, (yaml_char_t *)"", 0, 1, 1,
                                          YAML_PLAIN_SCALAR_STYLE)) {
            ld->nomem = ld->fatal = 1;
            return 0;
        }
        ev->start_mark.line = (size_t)line - 1u;
        return 1;
    }
    default:
        break;
    }
    if (anchor != NULL)
        report(ld, ev_line(ev), "YAML anchors are not allowed in the fields file");
    if (tag != NULL)
        report(ld, ev_line(ev), "YAML tags are not allowed in the fields file");
    return 1;
}

/* Consume the rest of the node that ev starts (ev itself is the caller's to delete). */
static void skip(struct load *ld, const yaml_event_t *ev)
{
    if (ev->type != YAML_SEQUENCE_START_EVENT && ev->type != YAML_MAPPING_START_EVENT)
        return;
    size_t depth = 1;
    while (depth > 0) {
        yaml_event_t e;
        if (!next(ld, &e))
            return;
        if (e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT)
            depth--;
        yaml_event_delete(&e);
    }
}

static int scalar_is(const yaml_event_t *ev, const char *s)
{
    return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.length == strlen(s) &&
           memcmp(ev->data.scalar.value, s, ev->data.scalar.length) == 0;
}

static const char *what(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return ev->data.scalar.length == 0 ? "nothing" : "a scalar";
    case YAML_SEQUENCE_START_EVENT:
        return "a list";
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    default:
        return "something else";
    }
}

/* ---- names ------------------------------------------------------------------------------ */

/* Count of [a-z][a-z0-9_]* parts joined by single dots in s[0..n), or 0 if malformed. */
static int dotted_parts(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 'a' || s[i] > 'z')
            return 0;
        while (i < n &&
               ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            i++;
        parts++;
        if (i < n) {
            if (s[i] != '.' || i + 1 == n)
                return 0;
            i++;
        }
    }
    return parts;
}

/* ---- one field ---------------------------------------------------------------------------- */

enum field_key {
    K_CLASS,
    K_ENCRYPT,
    K_HASHED,
    K_ARITHMETIC,
    K_INDEX,
    K_PURPOSE,
    K_MASK,
    K_MASK_WIDE,
    K_WIDE_PERMISSION,
    K_REVEAL,
    K_COUNT_
};

static const char *const key_names[K_COUNT_] = {
    "class",   "encrypt", "hashed",    "arithmetic",      "index",
    "purpose", "mask",    "mask_wide", "wide_permission", "reveal",
};

/* What one field mapping said, before the rules are applied. */
struct field_draft {
    struct fg_field_spec spec;
    int line_of[K_COUNT_]; /* 0: key absent */
    int bad;               /* a value was malformed (reported): skip the rules */
};

static int parse_bool(struct load *ld, const yaml_event_t *v, const char *key, int *out)
{
    if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (scalar_is(v, "true") || scalar_is(v, "false"))) {
        *out = scalar_is(v, "true");
        return 1;
    }
    report(ld, ev_line(v), "%s must be true or false, not '%.*s'", key, SHOWN(v));
    return 0;
}

static int parse_mask(struct load *ld, const yaml_event_t *v, const char *key,
                      enum fg_mask_rule *out)
{
    char name[32];
    if (v->data.scalar.length < sizeof name) {
        memcpy(name, v->data.scalar.value, v->data.scalar.length);
        name[v->data.scalar.length] = '\0';
        if (strlen(name) == v->data.scalar.length && fg_mask_rule_parse(name, out) == FG_OK)
            return 1;
    }
    report(ld, ev_line(v), "%s: unknown mask '%.*s'", key, SHOWN(v));
    return 0;
}

static int parse_permission(struct load *ld, const yaml_event_t *v, const char *key,
                            const char **out)
{
    const char *s = (const char *)v->data.scalar.value;
    size_t n = v->data.scalar.length;
    if (n == 0 || n > FG_FIELDS_PERM_MAX || dotted_parts(s, n) < 2) {
        report(ld, ev_line(v), "%s: '%.*s' is not a permission name (a.b of [a-z][a-z0-9_]*)", key,
               SHOWN(v));
        return 0;
    }
    *out = fg_arena_strndup(&ld->f->mem, s, n);
    if (*out == NULL)
        ld->nomem = ld->fatal = 1;
    return *out != NULL;
}

static int parse_value(struct load *ld, struct field_draft *d, enum field_key k,
                       const yaml_event_t *v)
{
    struct fg_field_spec *s = &d->spec;
    const char *key = key_names[k];
    switch (k) {
    case K_CLASS:
        if (scalar_is(v, "C1") || scalar_is(v, "C2") || scalar_is(v, "C3")) {
            s->cls = (enum fg_field_class)(v->data.scalar.value[1] - '0');
            return 1;
        }
        report(ld, ev_line(v), "class must be C1, C2 or C3, not '%.*s'", SHOWN(v));
        return 0;
    case K_ENCRYPT:
        return parse_bool(ld, v, key, &s->encrypt);
    case K_HASHED:
        return parse_bool(ld, v, key, &s->hashed);
    case K_ARITHMETIC:
        return parse_bool(ld, v, key, &s->arithmetic);
    case K_INDEX:
        return parse_bool(ld, v, key, &s->index);
    case K_PURPOSE:
        if (scalar_is(v, "pii") || scalar_is(v, "pan")) {
            s->purpose = scalar_is(v, "pan") ? FG_KEY_PAN : FG_KEY_PII;
            return 1;
        }
        report(ld, ev_line(v), "purpose must be pii or pan, not '%.*s'", SHOWN(v));
        return 0;
    case K_MASK:
        return parse_mask(ld, v, key, &s->mask);
    case K_MASK_WIDE:
        return parse_mask(ld, v, key, &s->mask_wide);
    case K_WIDE_PERMISSION:
        return parse_permission(ld, v, key, &s->wide_permission);
    case K_REVEAL:
        return parse_permission(ld, v, key, &s->reveal_permission);
    default:
        assert(0 && "unknown key");
        return 0;
    }
}

/* The line to blame for a rule about key k: the key's own line, else the field's. */
static int at(const struct field_draft *d, enum field_key k)
{
    return d->line_of[k] != 0 ? d->line_of[k] : d->spec.line;
}

/* The loader rules of fields.h on a complete, well-formed draft. */
static void apply_rules(struct load *ld, struct field_draft *d)
{
    struct fg_field_spec *s = &d->spec;
    const char *n = s->name;
    if (d->line_of[K_CLASS] == 0) {
        report(ld, s->line, "field '%s' has no class", n);
        return;
    }
    if (s->encrypt && s->hashed)
        report(ld, at(d, K_HASHED), "field '%s' is either encrypted or hashed, not both", n);
    if (s->encrypt && s->arithmetic)
        report(ld, at(d, K_ARITHMETIC), "field '%s': an arithmetic field is not encrypted", n);
    if (d->line_of[K_PURPOSE] != 0 && !s->encrypt)
        report(ld, at(d, K_PURPOSE), "field '%s': purpose needs encrypt: true", n);
    if (s->index && !s->encrypt)
        report(ld, at(d, K_INDEX), "field '%s': a blind index needs encrypt: true", n);
    if ((d->line_of[K_MASK_WIDE] != 0) != (s->wide_permission != NULL))
        report(ld, at(d, d->line_of[K_MASK_WIDE] != 0 ? K_MASK_WIDE : K_WIDE_PERMISSION),
               "field '%s': mask_wide and wide_permission come together", n);
    switch (s->cls) {
    case FG_FIELD_C3:
        if (!s->encrypt && !s->hashed)
            report(ld, at(d, K_CLASS), "C3 field '%s' must be encrypted or hashed", n);
        if (s->reveal_permission != NULL)
            report(ld, at(d, K_REVEAL), "C3 field '%s' is never revealed: remove reveal", n);
        if (d->line_of[K_MASK_WIDE] != 0)
            report(ld, at(d, K_MASK_WIDE), "C3 field '%s' is never shown: remove mask_wide", n);
        if (d->line_of[K_MASK] != 0 && s->mask != FG_MASK_ALL)
            report(ld, at(d, K_MASK), "C3 field '%s' is never shown: its mask can only be all", n);
        if (s->arithmetic)
            report(ld, at(d, K_ARITHMETIC), "C3 field '%s' cannot be arithmetic (clear)", n);
        s->mask = FG_MASK_ALL;
        break;
    case FG_FIELD_C2:
        if (!s->encrypt && !s->arithmetic)
            report(ld, at(d, K_CLASS),
                   "C2 field '%s' must be encrypted (or arithmetic: true for ledger amounts)", n);
        if (d->line_of[K_MASK] == 0)
            report(ld, s->line, "C2 field '%s' needs a mask", n);
        break;
    case FG_FIELD_C1:
        if (s->reveal_permission != NULL)
            report(ld, at(d, K_REVEAL), "C1 field '%s' hides nothing: remove reveal", n);
        if (s->arithmetic)
            report(ld, at(d, K_ARITHMETIC), "arithmetic is for C2 fields, not C1 '%s'", n);
        break;
    }
    if (s->encrypt && d->line_of[K_PURPOSE] == 0)
        s->purpose = FG_KEY_PII;
}

/* Read one field's mapping (its MAPPING_START is consumed) into d. */
static void read_field(struct load *ld, struct field_draft *d)
{
    for (;;) {
        yaml_event_t k, v;
        if (!next(ld, &k))
            return;
        if (k.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&k);
            return;
        }
        skip(ld, &k); /* a complex key (reported below): its content comes first */
        if (!next(ld, &v)) {
            yaml_event_delete(&k);
            return;
        }
        int found = -1;
        for (int i = 0; k.type == YAML_SCALAR_EVENT && i < K_COUNT_; i++)
            if (scalar_is(&k, key_names[i]))
                found = i;
        if (k.type != YAML_SCALAR_EVENT) {
            report(ld, ev_line(&k), "field '%s': a key must be a name, not %s", d->spec.name,
                   what(&k));
            d->bad = 1;
        } else if (found < 0) {
            report(ld, ev_line(&k), "field '%s': unknown key '%.*s'", d->spec.name, SHOWN(&k));
            d->bad = 1;
        } else if (d->line_of[found] != 0) {
            report(ld, ev_line(&k), "field '%s': duplicate key '%s' (first on line %d)",
                   d->spec.name, key_names[found], d->line_of[found]);
            d->bad = 1;
        } else {
            d->line_of[found] = ev_line(&k);
            if (v.type != YAML_SCALAR_EVENT) {
                report(ld, ev_line(&v), "field '%s': %s must be a scalar, not %s", d->spec.name,
                       key_names[found], what(&v));
                d->bad = 1;
            } else if (!parse_value(ld, d, (enum field_key)found, &v)) {
                d->bad = 1;
            }
        }
        skip(ld, &v);
        yaml_event_delete(&k);
        yaml_event_delete(&v);
    }
}

static const struct fg_field_spec *find(const struct fg_fields *f, const char *s, size_t n)
{
    for (size_t i = 0; i < f->count; i++)
        if (strlen(f->spec[i].name) == n && memcmp(f->spec[i].name, s, n) == 0)
            return &f->spec[i];
    return NULL;
}

/* One `name: {...}` entry of the fields mapping; k is the name's event. */
static void load_field(struct load *ld, const yaml_event_t *k)
{
    yaml_event_t v;
    if (!next(ld, &v))
        return;
    const char *s = (const char *)k->data.scalar.value;
    size_t n = k->data.scalar.length;
    int line = ev_line(k), ok = 1;
    const struct fg_field_spec *first = NULL;
    if (n > FG_FIELDS_NAME_MAX || dotted_parts(s, n) != 2) {
        report(ld, line, "'%.*s' is not a field name (object.field of [a-z][a-z0-9_]*)", SHOWN(k));
        ok = 0;
    } else if ((first = find(ld->f, s, n)) != NULL) {
        report(ld, line, "duplicate field '%.*s' (first on line %d)", SHOWN(k), first->line);
        ok = 0;
    }
    if (v.type != YAML_MAPPING_START_EVENT) {
        report(ld, ev_line(&v), "field '%.*s' must be a mapping, not %s", SHOWN(k), what(&v));
        skip(ld, &v);
        yaml_event_delete(&v);
        return;
    }
    yaml_event_delete(&v);
    struct field_draft d;
    memset(&d, 0, sizeof d);
    d.spec.name = ok ? fg_arena_strndup(&ld->f->mem, s, n) : "?";
    if (d.spec.name == NULL) {
        ld->nomem = ld->fatal = 1;
        return;
    }
    d.spec.line = line;
    read_field(ld, &d);
    if (!ok || d.bad || ld->fatal)
        return;
    apply_rules(ld, &d);
    if (ld->f->count == FG_FIELDS_MAX) {
        if (!ld->over_limit)
            report(ld, line, "more than %u fields (FG_FIELDS_MAX)", FG_FIELDS_MAX);
        ld->over_limit = 1;
        return;
    }
    ld->f->spec[ld->f->count++] = d.spec;
}

/* The value of `fields:` (v, already read). */
static void load_fields(struct load *ld, const yaml_event_t *v)
{
    if (v->type != YAML_MAPPING_START_EVENT) {
        report(ld, ev_line(v), "fields must be a mapping of object.field names, not %s", what(v));
        skip(ld, v);
        return;
    }
    for (;;) {
        yaml_event_t k;
        if (!next(ld, &k))
            return;
        if (k.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&k);
            return;
        }
        if (k.type != YAML_SCALAR_EVENT) {
            report(ld, ev_line(&k), "a field name must be a scalar, not %s", what(&k));
            ld->fatal = 1; /* a complex key: not worth resynchronising */
        } else {
            load_field(ld, &k);
        }
        yaml_event_delete(&k);
        if (ld->fatal)
            return;
    }
}

/* The document's root node (its first event is root). */
static void load_root(struct load *ld, const yaml_event_t *root)
{
    if (root->type != YAML_MAPPING_START_EVENT) {
        report(ld, ev_line(root), "the fields file must be a mapping with a fields: section");
        skip(ld, root);
        return;
    }
    int seen = 0;
    for (;;) {
        yaml_event_t k, v;
        if (!next(ld, &k))
            return;
        if (k.type == YAML_MAPPING_END_EVENT) {
            if (!seen)
                report(ld, ev_line(&k), "the fields file has no fields: section");
            yaml_event_delete(&k);
            return;
        }
        skip(ld, &k); /* a complex key (reported below): its content comes first */
        if (!next(ld, &v)) {
            yaml_event_delete(&k);
            return;
        }
        if (scalar_is(&k, "fields") && !seen) {
            seen = ev_line(&k);
            load_fields(ld, &v);
        } else if (scalar_is(&k, "fields")) {
            report(ld, ev_line(&k), "duplicate key 'fields' (first on line %d)", seen);
            skip(ld, &v);
        } else {
            if (k.type == YAML_SCALAR_EVENT)
                report(ld, ev_line(&k), "unknown key '%.*s'", SHOWN(&k));
            else
                report(ld, ev_line(&k), "a key must be a name, not %s", what(&k));
            skip(ld, &v);
        }
        yaml_event_delete(&k);
        yaml_event_delete(&v);
        if (ld->fatal)
            return;
    }
}

static void load_stream(struct load *ld)
{
    int documents = 0;
    for (;;) {
        yaml_event_t ev;
        if (!next(ld, &ev))
            return;
        int done = ev.type == YAML_STREAM_END_EVENT;
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                report(ld, ev_line(&ev), "only one YAML document is allowed");
                ld->fatal = 1;
            }
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            load_root(ld, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (done || ld->fatal)
            break;
    }
    if (documents == 0 && !ld->fatal)
        report(ld, 1, "the fields file is empty");
}

/* ---- public ----------------------------------------------------------------------------- */

fg_rc fg_fields_load(const char *text, size_t len, struct fg_fields **out, char *err,
                     size_t err_cap)
{
    assert(out != NULL && (text != NULL || len == 0));
    *out = NULL;
    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    struct load ld;
    memset(&ld, 0, sizeof ld);
    ld.text = text != NULL ? text : "";
    ld.len = len;
    ld.err = err;
    ld.err_cap = err != NULL ? err_cap : 0;
    if (len > FG_FIELDS_FILE_MAX) {
        report(&ld, 1, "the fields file is larger than %u bytes (FG_FIELDS_FILE_MAX)",
               FG_FIELDS_FILE_MAX);
        return FG_ERR_TOO_LARGE;
    }
    ld.f = calloc(1, sizeof *ld.f);
    if (ld.f == NULL)
        return FG_ERR_NOMEM;
    fg_arena_init(&ld.f->mem, FIELDS_MEMORY_MAX);
    if (!yaml_parser_initialize(&ld.parser)) {
        fg_fields_free(ld.f);
        return FG_ERR_NOMEM;
    }
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)ld.text, len);
    load_stream(&ld);
    yaml_parser_delete(&ld.parser);
    if (ld.errors > FG_FIELDS_ERRORS_MAX) {
        char more[96];
        (void)snprintf(more, sizeof more, "%s: %u more problems not shown\n", FIELDS_ORIGIN,
                       ld.errors - FG_FIELDS_ERRORS_MAX);
        append_err(&ld, more);
    }
    if (ld.nomem || ld.errors > 0) {
        fg_fields_free(ld.f);
        return ld.nomem ? FG_ERR_NOMEM : FG_ERR_CONFIG;
    }
    *out = ld.f;
    return FG_OK;
}

fg_rc fg_fields_load_default(struct fg_fields **out)
{
    assert(out != NULL);
    *out = NULL;
    const struct fg_data_file *file = fg_data_find("fields.yaml");
    if (file == NULL)
        return FG_ERR_INTERNAL;
    char err[512];
    fg_rc rc = fg_fields_load(file->text, file->len, out, err, sizeof err);
    return rc == FG_ERR_NOMEM ? rc : rc != FG_OK ? FG_ERR_INTERNAL : FG_OK;
}

void fg_fields_free(struct fg_fields *f)
{
    if (f == NULL)
        return;
    fg_arena_release(&f->mem);
    free(f);
}

const struct fg_field_spec *fg_fields_get(const struct fg_fields *f, const char *name)
{
    assert(f != NULL);
    return name == NULL ? NULL : find(f, name, strlen(name));
}

size_t fg_fields_count(const struct fg_fields *f)
{
    assert(f != NULL);
    return f->count;
}

const struct fg_field_spec *fg_fields_at(const struct fg_fields *f, size_t i)
{
    assert(f != NULL && i < f->count);
    return &f->spec[i];
}

const char *fg_field_class_name(enum fg_field_class c)
{
    switch (c) {
    case FG_FIELD_C1:
        return "C1";
    case FG_FIELD_C2:
        return "C2";
    case FG_FIELD_C3:
        return "C3";
    }
    return NULL;
}
