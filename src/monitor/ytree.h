/*
 * ytree.h — a small YAML tree with line numbers, internal to the monitor (rules.c, golden.c).
 *
 * libyaml's event parser builds a tree of scalars, sequences and mappings in an arena; every
 * node keeps its 1-based line so every message can say "FILE:LINE". Anchors, aliases and
 * tags are refused (rules are data, not programs); one document per text.
 *
 * Limits: FG_YT_DEPTH_MAX nesting, FG_YT_NODES_MAX nodes per text.
 * Ownership: nodes live in the caller's arena. Threads: pure.
 */
#ifndef FG_MONITOR_YTREE_H
#define FG_MONITOR_YTREE_H

#include <stddef.h>

#include "base/arena.h"

#define FG_YT_DEPTH_MAX 32u
#define FG_YT_NODES_MAX 200000u
#define FG_YT_MESSAGE_MAX 240u

enum fg_yt_kind { FG_YT_SCALAR = 1, FG_YT_SEQ, FG_YT_MAP };

struct fg_yt {
    enum fg_yt_kind kind;
    int line;
    int plain;        /* scalar written without quotes */
    const char *text; /* scalar text (NUL-terminated) */
    size_t len;
    struct fg_yt **items; /* sequence items; mapping: key, value, key, value ... */
    size_t count, cap;
};

/* Parse text. 0 on success (*root NULL for an empty text); else -1 with msg/line set. */
int fg_yt_parse(struct fg_arena *a, const char *text, size_t len, struct fg_yt **root,
                char msg[FG_YT_MESSAGE_MAX], int *line);

/* A mapping's value for key, or NULL. */
const struct fg_yt *fg_yt_get(const struct fg_yt *map, const char *key);
int fg_yt_is(const struct fg_yt *n, const char *s); /* scalar equal to s */

#endif
