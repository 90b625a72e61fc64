/*
 * ytree.c — see ytree.h.
 */
#include "monitor/ytree.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

static int mark_line(const yaml_mark_t *m)
{
    return m->line < (size_t)INT_MAX - 1u ? (int)m->line + 1 : INT_MAX;
}

static struct fg_yt *node_new(struct fg_arena *a, enum fg_yt_kind kind, const yaml_mark_t *m)
{
    struct fg_yt *n = fg_arena_calloc(a, 1, sizeof *n);
    if (n != NULL) {
        n->kind = kind;
        n->line = mark_line(m);
    }
    return n;
}

static int node_append(struct fg_arena *a, struct fg_yt *parent, struct fg_yt *child)
{
    if (parent->count == parent->cap) {
        size_t cap = parent->cap == 0 ? 8u : parent->cap * 2u;
        struct fg_yt **items = fg_arena_alloc(a, cap * sizeof *items);
        if (items == NULL)
            return 0;
        if (parent->count > 0)
            memcpy(items, parent->items, parent->count * sizeof *items);
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[parent->count++] = child;
    return 1;
}

static int error_line(const yaml_parser_t *p, const char *text, size_t len)
{
    if (p->error != YAML_READER_ERROR)
        return mark_line(&p->problem_mark);
    int line = 1;
    for (size_t i = 0; i < p->problem_offset && i < len && line < INT_MAX; i++)
        line += text[i] == '\n';
    return line;
}

static int fail(char msg[FG_YT_MESSAGE_MAX], int *line, int at, const char *text)
{
    snprintf(msg, FG_YT_MESSAGE_MAX, "%s", text);
    *line = at;
    return -1;
}

int fg_yt_parse(struct fg_arena *a, const char *text, size_t len, struct fg_yt **root,
                char msg[FG_YT_MESSAGE_MAX], int *line)
{
    yaml_parser_t parser;
    struct fg_yt *stack[FG_YT_DEPTH_MAX];
    size_t depth = 0, nodes = 0;
    int documents = 0, rc = 0;
    *root = NULL;
    msg[0] = '\0';
    *line = 0;
    if (!yaml_parser_initialize(&parser))
        return fail(msg, line, 1, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            snprintf(msg, FG_YT_MESSAGE_MAX, "YAML syntax error: %s%s%s",
                     parser.problem != NULL ? parser.problem : "unknown problem",
                     parser.context != NULL ? " " : "",
                     parser.context != NULL ? parser.context : "");
            *line = error_line(&parser, text, len);
            rc = -1;
            break;
        }
        int done = 0, opened = 0, at = mark_line(&ev.start_mark);
        struct fg_yt *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                rc = fail(msg, line, at, "only one YAML document is allowed");
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0)
                depth--;
            break;
        case YAML_ALIAS_EVENT:
            rc = fail(msg, line, at, "YAML aliases are not allowed");
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            const yaml_char_t *anchor = ev.type == YAML_SCALAR_EVENT ? ev.data.scalar.anchor
                                        : ev.type == YAML_SEQUENCE_START_EVENT
                                            ? ev.data.sequence_start.anchor
                                            : ev.data.mapping_start.anchor;
            if (anchor != NULL) {
                rc = fail(msg, line, at, "YAML anchors are not allowed");
                break;
            }
            if (++nodes > FG_YT_NODES_MAX) {
                rc = fail(msg, line, at, "more than 200000 YAML nodes (FG_YT_NODES_MAX)");
                break;
            }
            if (ev.type == YAML_SCALAR_EVENT) {
                n = node_new(a, FG_YT_SCALAR, &ev.start_mark);
                if (n != NULL) {
                    n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                    n->len = ev.data.scalar.length;
                    n->text = fg_arena_strndup(a, (const char *)ev.data.scalar.value, n->len);
                    if (n->text == NULL)
                        n = NULL;
                }
            } else {
                opened = 1;
                n = node_new(a, ev.type == YAML_SEQUENCE_START_EVENT ? FG_YT_SEQ : FG_YT_MAP,
                             &ev.start_mark);
            }
            if (n == NULL) {
                rc = fail(msg, line, at, "out of memory");
                break;
            }
            if (depth == 0)
                *root = n;
            else if (!node_append(a, stack[depth - 1], n)) {
                rc = fail(msg, line, at, "out of memory");
                break;
            }
            if (opened) {
                if (depth == FG_YT_DEPTH_MAX) {
                    rc = fail(msg, line, at, "nested deeper than 32 levels (FG_YT_DEPTH_MAX)");
                    break;
                }
                stack[depth++] = n;
            }
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (rc != 0 || done)
            break;
    }
    yaml_parser_delete(&parser);
    if (rc != 0)
        *root = NULL;
    return rc;
}

const struct fg_yt *fg_yt_get(const struct fg_yt *map, const char *key)
{
    if (map == NULL || map->kind != FG_YT_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->count; i += 2)
        if (fg_yt_is(map->items[i], key))
            return map->items[i + 1];
    return NULL;
}

int fg_yt_is(const struct fg_yt *n, const char *s)
{
    return n != NULL && n->kind == FG_YT_SCALAR && strcmp(n->text, s) == 0;
}
