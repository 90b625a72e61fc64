/*
 * roles.c — loading and querying the role model (see roles.h, docs/roles.md).
 *
 * Loading runs in three steps. First libyaml's event parser builds a small tree (scalars,
 * sequences, mappings, each with its line) in a scratch arena; the builder keeps its own
 * stack, bounded by FG_ROLES_YAML_DEPTH_MAX and FG_ROLES_YAML_NODES_MAX, refuses aliases,
 * anchors and tags, and stops at the first syntax error (libyaml cannot resume after
 * one). Second, the sections are validated in dependency order — the permission catalog,
 * then the roles that refer to it, then the constraints that refer to both — and every
 * problem is recorded with its line instead of stopping, so one run shows every mistake;
 * entries with errors are still registered so that later sections do not pile up
 * follow-on "unknown role" errors. Third, if nothing was wrong, the constraints are turned
 * into a symmetric conflict matrix between roles (with a text per pair) and a role mask
 * per permission, so the questions asked per request are a bit test.
 *
 * The result lives in one arena owned by struct fg_roles and is never written after load,
 * which is what makes it safe to share between threads.
 */
#include "iam/roles.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/arena.h"
#include "base/data.h"

/* Scratch memory of one load: the tree (≤ FG_ROLES_YAML_NODES_MAX nodes of ~64 bytes plus
 * their item arrays), the scalar texts (≤ FG_ROLES_FILE_MAX) and the error texts. The
 * node and file limits are what bound it; this maximum is only a backstop. */
#define ROLES_PARSE_MEMORY_MAX (16u * 1024u * 1024u)
/* Memory of a loaded model: names and descriptions (≤ the file) and one text per
 * conflicting pair (≤ 496 pairs of ~160 bytes). */
#define ROLES_MODEL_MEMORY_MAX (2u * 1024u * 1024u)
/* One formatted error or conflict text; user text inside is cut to ROLES_SHOWN_MAX. */
#define ROLES_MESSAGE_MAX 512u
/* Bytes of a user-supplied name or value quoted in an error message. */
#define ROLES_SHOWN_MAX 48
#define ROLES_PERM_WORDS (FG_ROLES_PERMISSIONS_MAX / 64u)

/* ---- the model ------------------------------------------------------------------------ */

struct role_def {
    const char *name;
    const char *description;
    int staff;
    int mfa_required;
    enum fg_roles_expiry expires;
    uint64_t perms[ROLES_PERM_WORDS]; /* bit p: holds permission p */
};

struct perm_def {
    const char *name;
    const char *description;
    enum fg_roles_access access;
    int unused;
    uint32_t holders; /* mask of the roles holding it */
};

struct perm_index {
    const char *name;
    int id;
};

struct fg_roles {
    struct fg_arena mem;
    int role_count;
    int perm_count;
    struct role_def role[FG_ROLES_MAX];
    struct perm_def perm[FG_ROLES_PERMISSIONS_MAX];
    struct perm_index by_name[FG_ROLES_PERMISSIONS_MAX]; /* sorted by name */
    uint32_t conflicts[FG_ROLES_MAX];                    /* symmetric; never the role itself */
    const char *conflict_text[FG_ROLES_MAX][FG_ROLES_MAX];
    uint32_t read_only;
    uint32_t alone;
    int staff_separate;
    int requester_never_approves;
};

/* ---- the YAML tree -------------------------------------------------------------------- */

enum node_kind { NODE_SCALAR, NODE_SEQUENCE, NODE_MAPPING };

struct node {
    enum node_kind kind;
    int line;
    int plain;        /* scalar: unquoted, so `true` and `~` keep their YAML meaning */
    const char *text; /* scalar: NUL-terminated copy (may hold NULs: compare len) */
    size_t len;
    struct node **items; /* sequence: items; mapping: key, value, key, value, ... */
    size_t count;
    size_t cap;
};

struct load_error {
    int line;
    size_t seq; /* discovery order, so sorting by line is stable */
    const char *text;
};

/* The state of one fg_roles_load(). */
struct load {
    const char *origin;
    struct fg_arena scratch;
    size_t nodes;
    struct load_error errors[FG_ROLES_ERRORS_MAX];
    size_t error_count;
    size_t errors_dropped;
    int nomem;
    struct fg_roles *r;
    int perm_line[FG_ROLES_PERMISSIONS_MAX];
    int role_line[FG_ROLES_MAX];
    int held_line[FG_ROLES_MAX][FG_ROLES_PERMISSIONS_MAX]; /* 0: not held */
    int roles_complete; /* every role's permission list was read: "held by no role" is meaningful */
    int roles_over_limit; /* "more than FG_ROLES_MAX" was reported (once is enough) */
    int perms_over_limit;
};

static void report(struct load *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct load *ld, int line, const char *fmt, ...)
{
    assert(ld != NULL && fmt != NULL);
    if (ld->error_count == FG_ROLES_ERRORS_MAX) {
        ld->errors_dropped++;
        return;
    }
    char text[ROLES_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    assert(n >= 0);
    (void)n; /* only asserted: unused when NDEBUG */
    /* One error per line: names quoted from the file may hold control characters. */
    for (char *c = text; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    const char *copy = fg_arena_strdup(&ld->scratch, text);
    if (copy == NULL) {
        ld->nomem = 1;
        return;
    }
    ld->errors[ld->error_count] = (struct load_error){line, ld->error_count, copy};
    ld->error_count++;
}

/* printf arguments quoting a scalar from the file, cut to ROLES_SHOWN_MAX bytes. */
#define SHOWN(n) (int)((n)->len < ROLES_SHOWN_MAX ? (n)->len : ROLES_SHOWN_MAX), (n)->text

/* libyaml counts lines from 0; error lines count from 1. */
static int mark_line(const yaml_mark_t *mark)
{
    return mark->line < (size_t)INT_MAX - 1u ? (int)mark->line + 1 : INT_MAX;
}

static struct node *node_new(struct load *ld, enum node_kind kind, const yaml_mark_t *mark)
{
    struct node *n = fg_arena_calloc(&ld->scratch, 1, sizeof *n);
    if (n == NULL) {
        ld->nomem = 1;
        return NULL;
    }
    n->kind = kind;
    n->line = mark_line(mark);
    ld->nodes++;
    return n;
}

static int node_append(struct load *ld, struct node *parent, struct node *child)
{
    assert(parent->kind != NODE_SCALAR);
    if (parent->count == parent->cap) {
        size_t cap = parent->cap == 0 ? 4u : parent->cap * 2u;
        struct node **items = fg_arena_alloc(&ld->scratch, cap * sizeof *items);
        if (items == NULL) {
            ld->nomem = 1;
            return 0;
        }
        if (parent->count > 0)
            memcpy(items, parent->items, parent->count * sizeof *items);
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[parent->count++] = child;
    return 1;
}

/* Anchors and tags are reported but not fatal; the node is built anyway. */
static void check_decorations(struct load *ld, const yaml_event_t *ev, const yaml_char_t *anchor,
                              const yaml_char_t *tag)
{
    int line = mark_line(&ev->start_mark);
    if (anchor != NULL)
        report(ld, line, "YAML anchors are not allowed in the roles file");
    if (tag != NULL)
        report(ld, line, "YAML tags are not allowed in the roles file");
}

/* Turn one content event into a node; *opened is set for a collection start. */
static struct node *event_node(struct load *ld, const yaml_event_t *ev, int *opened)
{
    struct node *n = NULL;
    *opened = 0;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        check_decorations(ld, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
        n = node_new(ld, NODE_SCALAR, &ev->start_mark);
        if (n == NULL)
            return NULL;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->len = ev->data.scalar.length;
        n->text = fg_arena_strndup(&ld->scratch, (const char *)ev->data.scalar.value, n->len);
        if (n->text == NULL)
            ld->nomem = 1;
        return n->text == NULL ? NULL : n;
    case YAML_ALIAS_EVENT:
        report(ld, mark_line(&ev->start_mark), "YAML aliases are not allowed in the roles file");
        n = node_new(ld, NODE_SCALAR, &ev->start_mark); /* stands in as a null */
        if (n != NULL) {
            n->text = "";
            n->plain = 1;
        }
        return n;
    case YAML_SEQUENCE_START_EVENT:
        check_decorations(ld, ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag);
        *opened = 1;
        return node_new(ld, NODE_SEQUENCE, &ev->start_mark);
    case YAML_MAPPING_START_EVENT:
        check_decorations(ld, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag);
        *opened = 1;
        return node_new(ld, NODE_MAPPING, &ev->start_mark);
    default:
        assert(0 && "not a content event");
        return NULL;
    }
}

/* The line of a parse error. The reader (encoding, control characters) gives only a byte
 * offset; the scanner and parser give a mark. */
static int error_line(const yaml_parser_t *parser, const char *text, size_t len)
{
    if (parser->error != YAML_READER_ERROR)
        return mark_line(&parser->problem_mark);
    int line = 1;
    for (size_t i = 0; i < parser->problem_offset && i < len && line < INT_MAX; i++)
        line += text[i] == '\n';
    return line;
}

/* Build the tree of the one document in text. 0 when parsing had to stop (syntax error,
 * limit, memory; reported); *root may be NULL for an empty stream. */
static int tree_build(struct load *ld, yaml_parser_t *parser, const char *text, size_t len,
                      struct node **root)
{
    struct node *stack[FG_ROLES_YAML_DEPTH_MAX];
    size_t depth = 0;
    int documents = 0;
    *root = NULL;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(parser, &ev)) {
            report(ld, error_line(parser, text, len), "YAML syntax error: %s%s%s",
                   parser->problem != NULL ? parser->problem : "unknown problem",
                   parser->context != NULL ? " " : "",
                   parser->context != NULL ? parser->context : "");
            return 0;
        }
        int ok = 1, done = 0, opened = 0;
        struct node *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                report(ld, mark_line(&ev.start_mark), "only one YAML document is allowed");
                ok = 0;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            assert(depth > 0);
            depth--;
            break;
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (ld->nodes >= FG_ROLES_YAML_NODES_MAX) {
                report(ld, mark_line(&ev.start_mark),
                       "more than %u YAML nodes (FG_ROLES_YAML_NODES_MAX)",
                       FG_ROLES_YAML_NODES_MAX);
                ok = 0;
                break;
            }
            n = event_node(ld, &ev, &opened);
            if (n == NULL) {
                ok = 0;
                break;
            }
            if (depth == 0)
                *root = n;
            else if (!node_append(ld, stack[depth - 1], n))
                ok = 0;
            if (ok && opened) {
                if (depth == FG_ROLES_YAML_DEPTH_MAX) {
                    report(ld, n->line, "nested deeper than %u levels (FG_ROLES_YAML_DEPTH_MAX)",
                           FG_ROLES_YAML_DEPTH_MAX);
                    ok = 0;
                } else {
                    stack[depth++] = n;
                }
            }
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (!ok)
            return 0;
        if (done)
            return 1;
    }
}

/* ---- scalar and mapping helpers ------------------------------------------------------- */

static int is_scalar(const struct node *n)
{
    return n->kind == NODE_SCALAR;
}

static int scalar_is(const struct node *n, const char *s)
{
    return is_scalar(n) && n->len == strlen(s) && memcmp(n->text, s, n->len) == 0;
}

static int is_null(const struct node *n)
{
    return is_scalar(n) && n->plain &&
           (n->len == 0 || scalar_is(n, "~") || scalar_is(n, "null") || scalar_is(n, "Null") ||
            scalar_is(n, "NULL"));
}

static const char *kind_name(const struct node *n)
{
    if (is_null(n))
        return "nothing";
    return n->kind == NODE_SCALAR ? "a scalar" : n->kind == NODE_SEQUENCE ? "a list" : "a mapping";
}

/* The value of key in mapping m (the first, if repeated), or NULL. */
static const struct node *map_get(const struct node *m, const char *key)
{
    assert(m->kind == NODE_MAPPING);
    for (size_t i = 0; i + 1 < m->count; i += 2)
        if (scalar_is(m->items[i], key))
            return m->items[i + 1];
    return NULL;
}

/* Report non-scalar keys, duplicate keys and (when allowed is not NULL) keys not in the
 * NULL-terminated allowed list, in mapping m described by where ("role 'teller'"). */
static void map_check(struct load *ld, const struct node *m, const char *const *allowed,
                      const char *where)
{
    assert(m->kind == NODE_MAPPING && m->count % 2 == 0);
    for (size_t i = 0; i < m->count; i += 2) {
        const struct node *k = m->items[i];
        if (!is_scalar(k) || is_null(k)) {
            report(ld, k->line, "%s: a key must be a name, not %s", where, kind_name(k));
            continue;
        }
        int known = allowed == NULL;
        for (size_t a = 0; !known && allowed[a] != NULL; a++)
            known = scalar_is(k, allowed[a]);
        if (!known) {
            report(ld, k->line, "%s: unknown key '%.*s'", where, SHOWN(k));
            continue;
        }
        for (size_t j = 0; j < i; j += 2) {
            if (is_scalar(m->items[j]) && m->items[j]->len == k->len &&
                memcmp(m->items[j]->text, k->text, k->len) == 0) {
                report(ld, k->line, "%s: duplicate key '%.*s' (first on line %d)", where, SHOWN(k),
                       m->items[j]->line);
                break;
            }
        }
    }
}

/* A required boolean: plain `true` or `false`. */
static int get_bool(struct load *ld, const struct node *v, const char *where, const char *key,
                    int *out)
{
    if (is_scalar(v) && v->plain && (scalar_is(v, "true") || scalar_is(v, "false"))) {
        *out = scalar_is(v, "true");
        return 1;
    }
    if (!is_scalar(v) || is_null(v))
        report(ld, v->line, "%s: %s must be true or false, not %s", where, key, kind_name(v));
    else if (v->plain)
        report(ld, v->line, "%s: %s must be true or false, not '%.*s'", where, key, SHOWN(v));
    else
        report(ld, v->line, "%s: %s must be true or false, not the string \"%.*s\"", where, key,
               SHOWN(v));
    return 0;
}

/* One of the NULL-terminated choices; *out is its index. */
static int get_choice(struct load *ld, const struct node *v, const char *where, const char *key,
                      const char *const *choices, const char *shown_choices, int *out)
{
    if (is_scalar(v) && !is_null(v)) {
        for (int i = 0; choices[i] != NULL; i++) {
            if (scalar_is(v, choices[i])) {
                *out = i;
                return 1;
            }
        }
        report(ld, v->line, "%s: %s must be one of %s, not '%.*s'", where, key, shown_choices,
               SHOWN(v));
        return 0;
    }
    report(ld, v->line, "%s: %s must be one of %s, not %s", where, key, shown_choices,
           kind_name(v));
    return 0;
}

/* A one-line description, copied into the model. */
static const char *get_description(struct load *ld, const struct node *v, const char *where)
{
    if (!is_scalar(v) || is_null(v)) {
        report(ld, v->line, "%s: description must be text, not %s", where, kind_name(v));
        return NULL;
    }
    if (v->len > FG_ROLES_DESCRIPTION_MAX) {
        report(ld, v->line, "%s: description is longer than %u bytes (FG_ROLES_DESCRIPTION_MAX)",
               where, FG_ROLES_DESCRIPTION_MAX);
        return NULL;
    }
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->text[i];
        if (c < 0x20 || c == 0x7f) {
            report(ld, v->line, "%s: description must be one line without control characters",
                   where);
            return NULL;
        }
    }
    const char *copy = fg_arena_strndup(&ld->r->mem, v->text, v->len);
    if (copy == NULL)
        ld->nomem = 1;
    return copy;
}

static int is_word_start(char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_word_char(char c)
{
    return is_word_start(c) || (c >= '0' && c <= '9') || c == '_';
}

/* [a-z][a-z0-9_]* — the length is checked by the caller. */
static int is_role_name(const char *s, size_t len)
{
    if (len == 0 || !is_word_start(s[0]))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!is_word_char(s[i]))
            return 0;
    return 1;
}

/* Two or more role-name-like parts joined by single dots. */
static int is_perm_name(const char *s, size_t len)
{
    size_t parts = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!is_role_name(s + start, i - start))
                return 0;
            parts++;
            start = i + 1;
        }
    }
    return parts >= 2;
}

/* A name key: reported and 0 unless it is a valid role (perm = 0) or permission name. */
static int check_name(struct load *ld, const struct node *k, int perm)
{
    const char *what = perm ? "permission" : "role";
    size_t max = perm ? FG_ROLES_PERM_NAME_MAX : FG_ROLES_ROLE_NAME_MAX;
    if (!is_scalar(k) || is_null(k)) {
        report(ld, k->line, "a %s name must be a name, not %s", what, kind_name(k));
        return 0;
    }
    if (k->len > max) {
        report(ld, k->line, "%s name '%.*s...' is longer than %zu bytes", what, SHOWN(k), max);
        return 0;
    }
    if (perm ? !is_perm_name(k->text, k->len) : !is_role_name(k->text, k->len)) {
        report(ld, k->line,
               perm ? "bad permission name '%.*s': expected lower-case words joined by dots "
                      "(keys.read)"
                    : "bad role name '%.*s': expected a lower-case word ([a-z][a-z0-9_]*)",
               SHOWN(k));
        return 0;
    }
    return 1;
}

static int find_role(const struct fg_roles *r, const struct node *n)
{
    for (int i = 0; i < r->role_count; i++)
        if (scalar_is(n, r->role[i].name))
            return i;
    return -1;
}

static int perm_index_cmp(const void *a, const void *b)
{
    return strcmp(((const struct perm_index *)a)->name, ((const struct perm_index *)b)->name);
}

static int find_perm(const struct fg_roles *r, const char *name)
{
    struct perm_index key = {name, -1};
    const struct perm_index *hit =
        bsearch(&key, r->by_name, (size_t)r->perm_count, sizeof key, perm_index_cmp);
    return hit == NULL ? -1 : hit->id;
}

static int find_perm_node(const struct fg_roles *r, const struct node *n)
{
    if (!is_scalar(n) || strlen(n->text) != n->len)
        return -1;
    return find_perm(r, n->text);
}

static int perm_held(const struct role_def *role, int p)
{
    return (role->perms[p / 64] >> (p % 64)) & 1u;
}

/* ---- permissions section -------------------------------------------------------------- */

static const char *const perm_keys[] = {"access", "description", "unused", NULL};
static const char *const access_names[] = {"read", "write", "self", NULL};

static void load_permission(struct load *ld, const struct node *k, const struct node *v)
{
    struct fg_roles *r = ld->r;
    for (int i = 0; i < r->perm_count; i++) {
        if (scalar_is(k, r->perm[i].name)) {
            report(ld, k->line, "duplicate permission '%.*s' (first defined on line %d)", SHOWN(k),
                   ld->perm_line[i]);
            return;
        }
    }
    if (r->perm_count == (int)FG_ROLES_PERMISSIONS_MAX) {
        if (!ld->perms_over_limit)
            report(ld, k->line, "more than %u permissions (FG_ROLES_PERMISSIONS_MAX)",
                   FG_ROLES_PERMISSIONS_MAX);
        ld->perms_over_limit = 1;
        return;
    }
    int id = r->perm_count++;
    struct perm_def *p = &r->perm[id];
    ld->perm_line[id] = k->line;
    p->name = fg_arena_strndup(&r->mem, k->text, k->len);
    if (p->name == NULL) {
        ld->nomem = 1;
        p->name = "";
    }
    char where[ROLES_MESSAGE_MAX];
    snprintf(where, sizeof where, "permission '%s'", p->name);
    if (v->kind != NODE_MAPPING) {
        report(ld, v->line, "%s must be a mapping {access: ..., description: ...}, not %s", where,
               kind_name(v));
        return;
    }
    map_check(ld, v, perm_keys, where);
    const struct node *access = map_get(v, "access");
    const struct node *description = map_get(v, "description");
    const struct node *unused = map_get(v, "unused");
    int choice = 0;
    if (access == NULL)
        report(ld, k->line, "%s: missing 'access' (read, write or self)", where);
    else if (get_choice(ld, access, where, "access", access_names, "read, write, self", &choice))
        p->access = (enum fg_roles_access)choice;
    if (description == NULL)
        report(ld, k->line, "%s: missing 'description'", where);
    else
        p->description = get_description(ld, description, where);
    if (unused != NULL)
        (void)get_bool(ld, unused, where, "unused", &p->unused);

    /* Coherence of the catalog: the auditor's read-only rule relies on `access`. */
    int is_self = strncmp(p->name, "self.", 5) == 0;
    if (access != NULL && is_self != (p->access == FG_ROLES_ACCESS_SELF))
        report(ld, access->line, "%s: access self is for self.* permissions and only for them",
               where);
    if (access != NULL && strncmp(p->name, "approve.", 8) == 0 &&
        p->access != FG_ROLES_ACCESS_WRITE)
        report(ld, access->line, "%s: approving changes state, so access must be write", where);
}

static void load_permissions(struct load *ld, const struct node *section)
{
    struct fg_roles *r = ld->r;
    if (section->kind != NODE_MAPPING) {
        report(ld, section->line,
               "permissions must be a mapping of name: {access, description}, "
               "not %s",
               kind_name(section));
        return;
    }
    for (size_t i = 0; i + 1 < section->count; i += 2) {
        const struct node *k = section->items[i];
        if (check_name(ld, k, 1))
            load_permission(ld, k, section->items[i + 1]);
    }
    for (int i = 0; i < r->perm_count; i++)
        r->by_name[i] = (struct perm_index){r->perm[i].name, i};
    qsort(r->by_name, (size_t)r->perm_count, sizeof r->by_name[0], perm_index_cmp);
}

/* ---- roles section -------------------------------------------------------------------- */

static const char *const role_keys[] = {"description", "staff",       "mfa",
                                        "expires",     "permissions", NULL};
static const char *const mfa_names[] = {"optional", "required", NULL};
static const char *const expiry_names[] = {"optional", "required", "forbidden", NULL};

static void load_role_permissions(struct load *ld, int id, const struct node *list,
                                  const char *where)
{
    struct role_def *role = &ld->r->role[id];
    if (list->kind != NODE_SEQUENCE) {
        report(ld, list->line, "%s: permissions must be a list of permission names, not %s", where,
               kind_name(list));
        ld->roles_complete = 0;
        return;
    }
    for (size_t i = 0; i < list->count; i++) {
        const struct node *item = list->items[i];
        if (!is_scalar(item) || is_null(item)) {
            report(ld, item->line, "%s: a permission must be a name, not %s", where,
                   kind_name(item));
            continue;
        }
        int p = find_perm_node(ld->r, item);
        if (p < 0) {
            report(ld, item->line, "%s: unknown permission '%.*s'", where, SHOWN(item));
            continue;
        }
        if (ld->held_line[id][p] != 0) {
            report(ld, item->line, "%s: permission '%s' listed twice (first on line %d)", where,
                   ld->r->perm[p].name, ld->held_line[id][p]);
            continue;
        }
        ld->held_line[id][p] = item->line;
        role->perms[p / 64] |= (uint64_t)1 << (p % 64);
    }
}

static void load_role_fields(struct load *ld, int id, const struct node *k, const struct node *v,
                             const char *where)
{
    struct role_def *role = &ld->r->role[id];
    map_check(ld, v, role_keys, where);
    static const char *const required[] = {"description", "staff", "mfa", "expires", "permissions"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (map_get(v, required[i]) == NULL)
            report(ld, k->line, "%s: missing '%s'", where, required[i]);

    const struct node *n;
    int choice = 0;
    if ((n = map_get(v, "description")) != NULL)
        role->description = get_description(ld, n, where);
    if ((n = map_get(v, "staff")) != NULL)
        (void)get_bool(ld, n, where, "staff", &role->staff);
    const struct node *mfa = map_get(v, "mfa");
    if (mfa != NULL && get_choice(ld, mfa, where, "mfa", mfa_names, "required, optional", &choice))
        role->mfa_required = choice == 1;
    if ((n = map_get(v, "expires")) != NULL &&
        get_choice(ld, n, where, "expires", expiry_names, "required, forbidden, optional", &choice))
        role->expires = (enum fg_roles_expiry)choice;
    if ((n = map_get(v, "permissions")) != NULL)
        load_role_permissions(ld, id, n, where);
    else
        ld->roles_complete = 0;
    if (role->staff && mfa != NULL && !role->mfa_required)
        report(ld, mfa->line, "%s: a staff role must have mfa: required (IAM-3)", where);
}

static void load_role(struct load *ld, const struct node *k, const struct node *v)
{
    struct fg_roles *r = ld->r;
    int dup = find_role(r, k);
    if (dup >= 0) {
        report(ld, k->line, "duplicate role '%.*s' (first defined on line %d)", SHOWN(k),
               ld->role_line[dup]);
        ld->roles_complete = 0;
        return;
    }
    if (r->role_count == (int)FG_ROLES_MAX) {
        if (!ld->roles_over_limit)
            report(ld, k->line, "more than %u roles (FG_ROLES_MAX: a role mask has 32 bits)",
                   FG_ROLES_MAX);
        ld->roles_over_limit = 1;
        ld->roles_complete = 0;
        return;
    }
    int id = r->role_count++;
    struct role_def *role = &r->role[id];
    ld->role_line[id] = k->line;
    role->name = fg_arena_strndup(&r->mem, k->text, k->len);
    if (role->name == NULL) {
        ld->nomem = 1;
        role->name = "";
    }
    char where[ROLES_MESSAGE_MAX];
    snprintf(where, sizeof where, "role '%s'", role->name);
    if (v->kind != NODE_MAPPING) {
        report(ld, v->line,
               "%s must be a mapping {description, staff, mfa, expires, permissions}, "
               "not %s",
               where, kind_name(v));
        ld->roles_complete = 0;
        return;
    }
    load_role_fields(ld, id, k, v, where);
}

static void load_roles(struct load *ld, const struct node *section)
{
    if (section->kind != NODE_MAPPING) {
        report(ld, section->line, "roles must be a mapping of name: {...}, not %s",
               kind_name(section));
        return;
    }
    ld->roles_complete = 1;
    for (size_t i = 0; i + 1 < section->count; i += 2) {
        const struct node *k = section->items[i];
        if (check_name(ld, k, 0))
            load_role(ld, k, section->items[i + 1]);
        else
            ld->roles_complete = 0;
    }
}

/* ---- constraints section -------------------------------------------------------------- */

/* Record that roles a and b are never held together; the first reason found is kept. */
static void add_conflict(struct load *ld, int a, int b, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_conflict(struct load *ld, int a, int b, const char *fmt, ...)
{
    struct fg_roles *r = ld->r;
    assert(a >= 0 && a < r->role_count && b >= 0 && b < r->role_count);
    if (a == b || r->conflict_text[a][b] != NULL)
        return;
    char text[ROLES_MESSAGE_MAX];
    int n = snprintf(text, sizeof text, "%s+%s: ", r->role[a].name, r->role[b].name);
    assert(n > 0 && (size_t)n < sizeof text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
    va_end(ap);
    const char *copy = fg_arena_strdup(&r->mem, text);
    if (copy == NULL) {
        ld->nomem = 1;
        return;
    }
    r->conflict_text[a][b] = copy;
    r->conflict_text[b][a] = copy;
    r->conflicts[a] |= 1u << b;
    r->conflicts[b] |= 1u << a;
}

/* A list of role names (read_only, alone) → mask; unknown and repeated names reported. */
static uint32_t role_list(struct load *ld, const struct node *list, const char *key)
{
    uint32_t mask = 0;
    if (list->kind != NODE_SEQUENCE) {
        report(ld, list->line, "constraints.%s must be a list of role names, not %s", key,
               kind_name(list));
        return 0;
    }
    if (list->count > FG_ROLES_CONSTRAINT_ENTRIES_MAX) {
        report(ld, list->line, "constraints.%s has more than %u entries", key,
               FG_ROLES_CONSTRAINT_ENTRIES_MAX);
        return 0;
    }
    for (size_t i = 0; i < list->count; i++) {
        const struct node *item = list->items[i];
        int id = is_scalar(item) && !is_null(item) ? find_role(ld->r, item) : -1;
        if (!is_scalar(item) || is_null(item))
            report(ld, item->line, "constraints.%s: a role must be a name, not %s", key,
                   kind_name(item));
        else if (id < 0)
            report(ld, item->line, "constraints.%s: unknown role '%.*s'", key, SHOWN(item));
        else if (mask & (1u << id))
            report(ld, item->line, "constraints.%s: role '%s' listed twice", key,
                   ld->r->role[id].name);
        else
            mask |= 1u << id;
    }
    return mask;
}

/* A list of pairs [a, b] of roles (perm = 0) or permissions (perm = 1). Each valid pair is
 * handed to fn; repeated pairs (either order) are reported. */
typedef void (*pair_fn)(struct load *ld, const struct node *pair, int a, int b);

static int pair_member(struct load *ld, const struct node *item, const char *key, int perm)
{
    if (!is_scalar(item) || is_null(item)) {
        report(ld, item->line, "constraints.%s: a %s must be a name, not %s", key,
               perm ? "permission" : "role", kind_name(item));
        return -1;
    }
    int id = perm ? find_perm_node(ld->r, item) : find_role(ld->r, item);
    if (id < 0)
        report(ld, item->line, "constraints.%s: unknown %s '%.*s'", key,
               perm ? "permission" : "role", SHOWN(item));
    return id;
}

static void pair_list(struct load *ld, const struct node *list, const char *key, int perm,
                      pair_fn fn)
{
    if (list->kind != NODE_SEQUENCE) {
        report(ld, list->line, "constraints.%s must be a list of pairs [a, b], not %s", key,
               kind_name(list));
        return;
    }
    if (list->count > FG_ROLES_CONSTRAINT_ENTRIES_MAX) {
        report(ld, list->line, "constraints.%s has more than %u entries", key,
               FG_ROLES_CONSTRAINT_ENTRIES_MAX);
        return;
    }
    for (size_t i = 0; i < list->count; i++) {
        const struct node *pair = list->items[i];
        if (pair->kind != NODE_SEQUENCE || pair->count != 2) {
            report(ld, pair->line, "constraints.%s: each entry must be a pair [a, b]", key);
            continue;
        }
        int a = pair_member(ld, pair->items[0], key, perm);
        int b = pair_member(ld, pair->items[1], key, perm);
        if (a < 0 || b < 0)
            continue;
        if (a == b) {
            report(ld, pair->line,
                   "constraints.%s: '%.*s' paired with itself: every holder "
                   "would violate it",
                   key, SHOWN(pair->items[0]));
            continue;
        }
        int repeated = 0;
        for (size_t j = 0; j < i && !repeated; j++) {
            const struct node *q = list->items[j];
            if (q->kind != NODE_SEQUENCE || q->count != 2)
                continue;
            int qa = perm ? find_perm_node(ld->r, q->items[0]) : find_role(ld->r, q->items[0]);
            int qb = perm ? find_perm_node(ld->r, q->items[1]) : find_role(ld->r, q->items[1]);
            if ((qa == a && qb == b) || (qa == b && qb == a)) {
                report(ld, pair->line, "constraints.%s: pair repeated (first on line %d)", key,
                       q->line);
                repeated = 1;
            }
        }
        if (!repeated)
            fn(ld, pair, a, b);
    }
}

static void exclusive_roles(struct load *ld, const struct node *pair, int a, int b)
{
    (void)pair;
    add_conflict(ld, a, b, "constraints.exclusive");
}

static void exclusive_perms(struct load *ld, const struct node *pair, int a, int b)
{
    struct fg_roles *r = ld->r;
    for (int i = 0; i < r->role_count; i++) {
        if (perm_held(&r->role[i], a) && perm_held(&r->role[i], b))
            report(ld, pair->line,
                   "constraints.exclusive_permissions: role '%s' holds both '%s' and '%s'",
                   r->role[i].name, r->perm[a].name, r->perm[b].name);
    }
    for (int i = 0; i < r->role_count; i++)
        for (int j = 0; j < r->role_count; j++)
            if (i != j && perm_held(&r->role[i], a) && perm_held(&r->role[j], b))
                add_conflict(ld, i, j,
                             "%s holds %s, %s holds %s (constraints.exclusive_permissions)",
                             r->role[i].name, r->perm[a].name, r->role[j].name, r->perm[b].name);
}

/* The first write permission of role id, or -1. */
static int first_write(const struct fg_roles *r, int id)
{
    for (int p = 0; p < r->perm_count; p++)
        if (perm_held(&r->role[id], p) && r->perm[p].access == FG_ROLES_ACCESS_WRITE)
            return p;
    return -1;
}

static void apply_read_only(struct load *ld)
{
    struct fg_roles *r = ld->r;
    for (int ro = 0; ro < r->role_count; ro++) {
        if (!(r->read_only & (1u << ro)))
            continue;
        for (int p = 0; p < r->perm_count; p++)
            if (perm_held(&r->role[ro], p) && r->perm[p].access == FG_ROLES_ACCESS_WRITE)
                report(ld, ld->held_line[ro][p],
                       "role '%s' is read-only (constraints.read_only) but holds write "
                       "permission '%s'",
                       r->role[ro].name, r->perm[p].name);
        for (int j = 0; j < r->role_count; j++) {
            int w = first_write(r, j);
            if (j != ro && w >= 0)
                add_conflict(ld, ro, j, "%s is read-only, %s holds %s (constraints.read_only)",
                             r->role[ro].name, r->role[j].name, r->perm[w].name);
        }
    }
    int auditor = -1;
    for (int i = 0; i < r->role_count; i++)
        if (strcmp(r->role[i].name, "auditor") == 0)
            auditor = i;
    if (auditor >= 0 && !(r->read_only & (1u << auditor)))
        report(ld, ld->role_line[auditor],
               "role 'auditor' must be listed in constraints.read_only (IAM-7, AUD-4)");
}

/* Conflicts that follow from the roles' own flags and the remaining constraint kinds. */
static void derived_conflicts(struct load *ld)
{
    struct fg_roles *r = ld->r;
    for (int i = 0; i < r->role_count; i++) {
        for (int j = 0; j < r->role_count; j++) {
            if (i == j)
                continue;
            if (r->alone & (1u << i))
                add_conflict(ld, i, j, "%s is held alone (constraints.alone)", r->role[i].name);
            if (r->staff_separate && r->role[i].staff && !r->role[j].staff)
                add_conflict(ld, i, j, "staff and non-staff roles (constraints.staff_separate)");
            if (r->role[i].expires == FG_ROLES_EXPIRES_REQUIRED &&
                r->role[j].expires == FG_ROLES_EXPIRES_FORBIDDEN)
                add_conflict(ld, i, j, "%s requires an expiry, %s forbids one", r->role[i].name,
                             r->role[j].name);
        }
    }
}

static const char *const constraint_keys[] = {
    "exclusive",      "exclusive_permissions",    "read_only", "alone",
    "staff_separate", "requester_never_approves", NULL};

static void load_constraints(struct load *ld, const struct node *section)
{
    struct fg_roles *r = ld->r;
    if (section->kind != NODE_MAPPING) {
        report(ld, section->line, "constraints must be a mapping, not %s", kind_name(section));
        return;
    }
    map_check(ld, section, constraint_keys, "constraints");
    const struct node *n;
    if ((n = map_get(section, "exclusive")) != NULL)
        pair_list(ld, n, "exclusive", 0, exclusive_roles);
    if ((n = map_get(section, "exclusive_permissions")) != NULL)
        pair_list(ld, n, "exclusive_permissions", 1, exclusive_perms);
    if ((n = map_get(section, "read_only")) != NULL)
        r->read_only = role_list(ld, n, "read_only");
    apply_read_only(ld);
    if ((n = map_get(section, "alone")) != NULL)
        r->alone = role_list(ld, n, "alone");
    if ((n = map_get(section, "staff_separate")) != NULL)
        (void)get_bool(ld, n, "constraints", "staff_separate", &r->staff_separate);
    n = map_get(section, "requester_never_approves");
    if (n == NULL)
        report(ld, section->line, "constraints: missing 'requester_never_approves: true' (GOV-2)");
    else if (get_bool(ld, n, "constraints", "requester_never_approves",
                      &r->requester_never_approves) &&
             !r->requester_never_approves)
        report(ld, n->line, "constraints: requester_never_approves cannot be turned off (GOV-2)");
    derived_conflicts(ld);
}

/* Every permission is held by some role unless marked unused, and then by none. */
static void check_usage(struct load *ld)
{
    struct fg_roles *r = ld->r;
    for (int p = 0; p < r->perm_count; p++) {
        for (int i = 0; i < r->role_count; i++)
            if (perm_held(&r->role[i], p))
                r->perm[p].holders |= 1u << i;
        if (r->perm[p].unused) {
            for (int i = 0; i < r->role_count; i++)
                if (r->perm[p].holders & (1u << i))
                    report(ld, ld->held_line[i][p],
                           "role '%s' holds permission '%s', which the catalog marks unused",
                           r->role[i].name, r->perm[p].name);
        } else if (r->perm[p].holders == 0 && ld->roles_complete) {
            report(ld, ld->perm_line[p],
                   "permission '%s' is held by no role (grant it, or mark it unused: true)",
                   r->perm[p].name);
        }
    }
}

/* ---- loading -------------------------------------------------------------------------- */

static const char *const top_keys[] = {"permissions", "roles", "constraints", NULL};

static void load_document(struct load *ld, const struct node *root)
{
    if (root == NULL || root->kind != NODE_MAPPING) {
        report(ld, root == NULL ? 1 : root->line,
               "the roles file must be a mapping with permissions, roles and constraints");
        return;
    }
    map_check(ld, root, top_keys, "top level");
    const struct node *perms = map_get(root, "permissions");
    const struct node *roles = map_get(root, "roles");
    const struct node *constraints = map_get(root, "constraints");
    for (size_t i = 0; top_keys[i] != NULL; i++)
        if (map_get(root, top_keys[i]) == NULL)
            report(ld, root->line, "missing section '%s'", top_keys[i]);
    if (perms != NULL)
        load_permissions(ld, perms);
    if (roles != NULL)
        load_roles(ld, roles);
    if (constraints != NULL)
        load_constraints(ld, constraints);
    check_usage(ld);
}

static int error_cmp(const void *a, const void *b)
{
    const struct load_error *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void emit_errors(struct load *ld, struct fg_buf *errors)
{
    if (errors == NULL)
        return;
    qsort(ld->errors, ld->error_count, sizeof ld->errors[0], error_cmp);
    for (size_t i = 0; i < ld->error_count; i++)
        if (fg_buf_appendf(errors, "%s:%d: %s\n", ld->origin, ld->errors[i].line,
                           ld->errors[i].text) != FG_OK)
            return;
    if (ld->errors_dropped > 0 &&
        fg_buf_appendf(errors, "%s: %zu more errors not shown (FG_ROLES_ERRORS_MAX)\n", ld->origin,
                       ld->errors_dropped) != FG_OK)
        return;
}

static fg_rc load_text(struct load *ld, const char *text, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return FG_ERR_NOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    struct node *root = NULL;
    if (tree_build(ld, &parser, text, len, &root))
        load_document(ld, root);
    yaml_parser_delete(&parser);
    if (ld->nomem)
        return FG_ERR_NOMEM;
    return ld->error_count + ld->errors_dropped > 0 ? FG_ERR_CONFIG : FG_OK;
}

fg_rc fg_roles_load(const char *text, size_t len, const char *origin, struct fg_roles **out,
                    struct fg_buf *errors)
{
    assert(text != NULL || len == 0);
    assert(origin != NULL && out != NULL);
    *out = NULL;
    if (len > FG_ROLES_FILE_MAX) {
        if (errors != NULL &&
            fg_buf_appendf(errors,
                           "%s:1: the roles file is larger than %u bytes (FG_ROLES_FILE_MAX)\n",
                           origin, FG_ROLES_FILE_MAX) != FG_OK) {
            /* the caller's buffer is full: the return code still says it all */
        }
        return FG_ERR_TOO_LARGE;
    }
    struct load *ld = calloc(1, sizeof *ld);
    struct fg_roles *r = calloc(1, sizeof *r);
    if (ld == NULL || r == NULL) {
        free(ld);
        free(r);
        return FG_ERR_NOMEM;
    }
    ld->origin = origin;
    ld->r = r;
    fg_arena_init(&ld->scratch, ROLES_PARSE_MEMORY_MAX);
    fg_arena_init(&r->mem, ROLES_MODEL_MEMORY_MAX);

    fg_rc rc = load_text(ld, text == NULL ? "" : text, len);
    emit_errors(ld, errors);
    fg_arena_release(&ld->scratch);
    free(ld);
    if (rc != FG_OK) {
        fg_roles_free(r);
        return rc;
    }
    assert(r->requester_never_approves);
    *out = r;
    return FG_OK;
}

fg_rc fg_roles_load_default(struct fg_roles **out, struct fg_buf *errors)
{
    assert(out != NULL);
    *out = NULL;
    const struct fg_data_file *f = fg_data_find("roles.yaml");
    if (f == NULL)
        return FG_ERR_NOT_FOUND;
    return fg_roles_load(f->text, f->len, "roles.yaml", out, errors);
}

void fg_roles_free(struct fg_roles *roles)
{
    if (roles == NULL)
        return;
    fg_arena_release(&roles->mem);
    free(roles);
}

/* ---- queries -------------------------------------------------------------------------- */

int fg_roles_role_count(const struct fg_roles *roles)
{
    assert(roles != NULL);
    return roles->role_count;
}

fg_rc fg_roles_role_id(const struct fg_roles *roles, const char *name, int *id)
{
    assert(roles != NULL && name != NULL && id != NULL);
    for (int i = 0; i < roles->role_count; i++) {
        if (strcmp(roles->role[i].name, name) == 0) {
            *id = i;
            return FG_OK;
        }
    }
    *id = -1;
    return FG_ERR_NOT_FOUND;
}

static const struct role_def *role_at(const struct fg_roles *roles, int id)
{
    assert(roles != NULL);
    assert(id >= 0 && id < roles->role_count);
    return &roles->role[id];
}

const char *fg_roles_role_name(const struct fg_roles *roles, int id)
{
    return role_at(roles, id)->name;
}

const char *fg_roles_role_description(const struct fg_roles *roles, int id)
{
    return role_at(roles, id)->description;
}

enum fg_roles_expiry fg_roles_expiry_rule(const struct fg_roles *roles, int id)
{
    return role_at(roles, id)->expires;
}

enum fg_roles_expiry fg_roles_mask_expiry_rule(const struct fg_roles *roles, uint32_t mask)
{
    assert(roles != NULL);
    enum fg_roles_expiry rule = FG_ROLES_EXPIRES_OPTIONAL;
    for (int i = 0; i < roles->role_count; i++) {
        if (!(mask & (1u << i)))
            continue;
        if (roles->role[i].expires == FG_ROLES_EXPIRES_REQUIRED)
            return FG_ROLES_EXPIRES_REQUIRED;
        if (roles->role[i].expires == FG_ROLES_EXPIRES_FORBIDDEN)
            rule = FG_ROLES_EXPIRES_FORBIDDEN;
    }
    return rule;
}

int fg_roles_is_staff(const struct fg_roles *roles, uint32_t mask)
{
    assert(roles != NULL);
    for (int i = 0; i < roles->role_count; i++)
        if ((mask & (1u << i)) && roles->role[i].staff)
            return 1;
    return 0;
}

int fg_roles_mfa_required(const struct fg_roles *roles, uint32_t mask)
{
    assert(roles != NULL);
    for (int i = 0; i < roles->role_count; i++)
        if ((mask & (1u << i)) && roles->role[i].mfa_required)
            return 1;
    return 0;
}

int fg_roles_perm_count(const struct fg_roles *roles)
{
    assert(roles != NULL);
    return roles->perm_count;
}

fg_rc fg_roles_perm_id(const struct fg_roles *roles, const char *name, int *id)
{
    assert(roles != NULL && name != NULL && id != NULL);
    *id = find_perm(roles, name);
    return *id < 0 ? FG_ERR_NOT_FOUND : FG_OK;
}

static const struct perm_def *perm_at(const struct fg_roles *roles, int id)
{
    assert(roles != NULL);
    assert(id >= 0 && id < roles->perm_count);
    return &roles->perm[id];
}

const char *fg_roles_perm_name(const struct fg_roles *roles, int id)
{
    return perm_at(roles, id)->name;
}

const char *fg_roles_perm_description(const struct fg_roles *roles, int id)
{
    return perm_at(roles, id)->description;
}

enum fg_roles_access fg_roles_perm_access(const struct fg_roles *roles, int id)
{
    return perm_at(roles, id)->access;
}

int fg_roles_perm_unused(const struct fg_roles *roles, int id)
{
    return perm_at(roles, id)->unused;
}

int fg_roles_mask_has(const struct fg_roles *roles, uint32_t mask, int perm_id)
{
    return (perm_at(roles, perm_id)->holders & mask) != 0;
}

int fg_roles_has(const struct fg_roles *roles, uint32_t mask, const char *perm)
{
    assert(roles != NULL && perm != NULL);
    int id = find_perm(roles, perm);
    return id >= 0 && fg_roles_mask_has(roles, mask, id);
}

int fg_roles_can_approve(const struct fg_roles *roles, uint32_t mask, const char *approval_class)
{
    assert(roles != NULL && approval_class != NULL);
    char name[FG_ROLES_PERM_NAME_MAX + 1];
    int n = snprintf(name, sizeof name, "approve.%s", approval_class);
    if (n < 0 || (size_t)n >= sizeof name)
        return 0;
    return fg_roles_has(roles, mask, name);
}

int fg_roles_requester_never_approves(const struct fg_roles *roles)
{
    assert(roles != NULL);
    return roles->requester_never_approves;
}

fg_rc fg_roles_check_assignment(const struct fg_roles *roles, uint32_t mask, const char **violation)
{
    assert(roles != NULL);
    if (violation != NULL)
        *violation = NULL;
    uint32_t known = roles->role_count == 32 ? UINT32_MAX : (1u << roles->role_count) - 1u;
    if (mask & ~known) {
        if (violation != NULL)
            *violation = "a role bit that names no role";
        return FG_ERR_INVALID;
    }
    for (int i = 0; i < roles->role_count; i++) {
        if (!(mask & (1u << i)) || !(roles->conflicts[i] & mask))
            continue;
        for (int j = 0; j < roles->role_count; j++) {
            if ((mask & (1u << j)) && (roles->conflicts[i] & (1u << j))) {
                assert(roles->conflict_text[i][j] != NULL);
                if (violation != NULL)
                    *violation = roles->conflict_text[i][j];
                return FG_ERR_POLICY;
            }
        }
    }
    return FG_OK;
}

uint32_t fg_roles_conflict_mask(const struct fg_roles *roles, int id)
{
    (void)role_at(roles, id);
    return roles->conflicts[id];
}

uint32_t fg_roles_read_only_mask(const struct fg_roles *roles)
{
    assert(roles != NULL);
    return roles->read_only;
}
