/*
 * alert.c — alerts: raise with dedup, ack, resolve, reads (alert.h).
 */
#include "incident/alert.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "incident/internal.h"

static const char *const levels[] = {"low", "medium", "high", "critical"};

int fg_alert_level_rank(const char *level)
{
    for (int i = 0; level != NULL && i < 4; i++)
        if (strcmp(level, levels[i]) == 0)
            return i + 1;
    return 0;
}

int fg_alert_id_ok(const char *s)
{
    return fg_inc_id_ok("alr_", s);
}

static int details_ok(const char *json)
{
    if (json == NULL)
        return 1;
    if (strlen(json) > FG_ALERT_DETAILS_MAX)
        return 0;
    json_t *v = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    int ok = v != NULL && json_is_object(v);
    json_decref(v);
    return ok;
}

static fg_rc check_new(const struct fg_alert_new *a)
{
    if (a == NULL || a->rule_id == NULL || a->title == NULL || a->level == NULL)
        return FG_ERR_INVALID;
    if (strlen(a->rule_id) > FG_ALERT_RULE_MAX || strlen(a->title) > FG_ALERT_TITLE_MAX ||
        (a->key && strlen(a->key) > FG_ALERT_KEY_MAX) ||
        (a->tags && strlen(a->tags) > FG_ALERT_TAGS_MAX) ||
        (a->details_json && strlen(a->details_json) > FG_ALERT_DETAILS_MAX))
        return FG_ERR_TOO_LARGE;
    if (!fg_inc_name_ok(a->rule_id, FG_ALERT_RULE_MAX) || fg_alert_level_rank(a->level) == 0 ||
        a->title[0] == '\0' || !fg_inc_text_ok(a->title, FG_ALERT_TITLE_MAX, 0) ||
        !fg_inc_text_ok(a->key, FG_ALERT_KEY_MAX, 0) ||
        !fg_inc_text_ok(a->tags, FG_ALERT_TAGS_MAX, 0) || !details_ok(a->details_json) ||
        a->event_seq < 0 || a->first_seq < 0)
        return FG_ERR_INVALID;
    return FG_OK;
}

struct live {
    int found;
    char id[FG_ALERT_ID_SIZE];
    char level[FG_ALERT_LEVEL_MAX + 1];
};

static fg_rc live_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct live *l = ctx;
    if (ncols < 2)
        return FG_ERR_INTERNAL;
    l->found = 1;
    fg_inc_col_text(&cols[0], l->id, sizeof l->id);
    fg_inc_col_text(&cols[1], l->level, sizeof l->level);
    return FG_OK;
}

fg_rc fg_alert_raise(fg_conn *c, const struct fg_alert_new *a, int64_t now_ms,
                     char id_out[FG_ALERT_ID_SIZE], int *created)
{
    fg_rc rc = check_new(a);
    if (rc)
        return rc;
    const char *key = a->key ? a->key : "";
    struct live l = {0};
    struct fg_val p[8];
    p[0] = FG_VSTR(a->rule_id);
    p[1] = FG_VSTR(key);
    rc = fg_conn_exec(c,
                      "SELECT id, level FROM alerts WHERE rule_id = ?1 AND key = ?2 AND "
                      "state <> 'resolved'",
                      p, 2, live_row, &l, NULL);
    if (rc)
        return rc;
    int64_t seq = a->event_seq;
    int64_t first = a->first_seq ? a->first_seq : a->event_seq;
    if (l.found) {
        const char *level =
            fg_alert_level_rank(a->level) > fg_alert_level_rank(l.level) ? a->level : l.level;
        p[0] = FG_VINT(now_ms);
        p[1] = FG_VINT(seq);
        p[2] = FG_VSTR(level);
        p[3] = FG_VSTR(l.id);
        rc = fg_conn_exec(c,
                          "UPDATE alerts SET count = count + 1, last_ms = max(last_ms, ?1), "
                          "last_event_seq = max(last_event_seq, ?2), level = ?3 WHERE id = ?4",
                          p, 4, NULL, NULL, NULL);
        if (rc)
            return rc;
        memcpy(id_out, l.id, FG_ALERT_ID_SIZE);
        if (created)
            *created = 0;
        return FG_OK;
    }
    char id[FG_ALERT_ID_SIZE];
    rc = fg_inc_new_id("alr_", id);
    if (rc)
        return rc;
    struct fg_val q[11] = {
        FG_VSTR(id),
        FG_VSTR(a->rule_id),
        FG_VSTR(a->level),
        FG_VSTR(a->title),
        FG_VSTR(key),
        FG_VINT(now_ms),
        FG_VINT(first),
        FG_VINT(seq),
        FG_VSTR(a->tags ? a->tags : ""),
        FG_VSTR(a->details_json ? a->details_json : "{}"),
    };
    rc = fg_conn_exec(c,
                      "INSERT INTO alerts (id, rule_id, level, title, key, state, count, first_ms, "
                      "last_ms, first_event_seq, last_event_seq, tags, details) VALUES (?1, ?2, "
                      "?3, ?4, ?5, 'open', 1, ?6, ?6, ?7, ?8, ?9, ?10)",
                      q, 10, NULL, NULL, NULL);
    if (rc)
        return rc;
    memcpy(id_out, id, FG_ALERT_ID_SIZE);
    if (created)
        *created = 1;
    return FG_OK;
}

fg_rc fg_alert_link_incident(fg_conn *c, const char *alert_id, const char *incident_id)
{
    if (!fg_alert_id_ok(alert_id))
        return FG_ERR_NOT_FOUND;
    if (incident_id == NULL || strlen(incident_id) != FG_ALERT_INCIDENT_MAX)
        return FG_ERR_INVALID;
    struct fg_val p[2] = {FG_VSTR(incident_id), FG_VSTR(alert_id)};
    int64_t n = 0;
    fg_rc rc = fg_conn_exec(c, "SELECT count(*) FROM alerts WHERE id = ?2", p, 2, fg_inc_row_int,
                            &n, NULL);
    if (rc)
        return rc;
    if (n == 0)
        return FG_ERR_NOT_FOUND;
    return fg_conn_exec(c,
                        "UPDATE alerts SET incident_id = ?1 WHERE id = ?2 AND incident_id IS NULL",
                        p, 2, NULL, NULL, NULL);
}

#define COLS                                                                                       \
    "id, rule_id, level, title, key, state, count, first_ms, last_ms, first_event_seq, "           \
    "last_event_seq, tags, details, acked_by, acked_ms, resolved_by, resolved_ms, incident_id"

static void view_from(const struct fg_val *v, struct fg_alert_view *a)
{
    fg_inc_col_text(&v[0], a->id, sizeof a->id);
    fg_inc_col_text(&v[1], a->rule_id, sizeof a->rule_id);
    fg_inc_col_text(&v[2], a->level, sizeof a->level);
    fg_inc_col_text(&v[3], a->title, sizeof a->title);
    fg_inc_col_text(&v[4], a->key, sizeof a->key);
    fg_inc_col_text(&v[5], a->state, sizeof a->state);
    a->count = fg_inc_col_int(&v[6]);
    a->first_ms = fg_inc_col_int(&v[7]);
    a->last_ms = fg_inc_col_int(&v[8]);
    a->first_event_seq = fg_inc_col_int(&v[9]);
    a->last_event_seq = fg_inc_col_int(&v[10]);
    fg_inc_col_text(&v[11], a->tags, sizeof a->tags);
    fg_inc_col_text(&v[12], a->details, sizeof a->details);
    fg_inc_col_text(&v[13], a->acked_by, sizeof a->acked_by);
    a->acked_ms = fg_inc_col_int(&v[14]);
    fg_inc_col_text(&v[15], a->resolved_by, sizeof a->resolved_by);
    a->resolved_ms = fg_inc_col_int(&v[16]);
    fg_inc_col_text(&v[17], a->incident_id, sizeof a->incident_id);
}

struct one {
    struct fg_alert_view *out;
    int found;
};

static fg_rc one_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct one *o = ctx;
    if (ncols < 18)
        return FG_ERR_INTERNAL;
    view_from(cols, o->out);
    o->found = 1;
    return FG_OK;
}

fg_rc fg_alert_get(fg_conn *c, const char *id, struct fg_alert_view *out)
{
    if (!fg_alert_id_ok(id))
        return FG_ERR_NOT_FOUND;
    struct fg_alert_view tmp;
    struct one o = {out ? out : &tmp, 0};
    struct fg_val p = FG_VSTR(id);
    fg_rc rc =
        fg_conn_exec(c, "SELECT " COLS " FROM alerts WHERE id = ?1", &p, 1, one_row, &o, NULL);
    if (rc)
        return rc;
    return o.found ? FG_OK : FG_ERR_NOT_FOUND;
}

struct list_ctx {
    fg_alert_fn fn;
    void *ctx;
    unsigned n;
    int64_t last_ms;
    char last_id[FG_ALERT_ID_SIZE];
};

static fg_rc list_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct list_ctx *l = ctx;
    if (ncols < 18)
        return FG_ERR_INTERNAL;
    struct fg_alert_view *a = malloc(sizeof *a);
    if (!a)
        return FG_ERR_NOMEM;
    view_from(cols, a);
    l->n++;
    l->last_ms = a->last_ms;
    memcpy(l->last_id, a->id, sizeof l->last_id);
    fg_rc rc = l->fn ? l->fn(l->ctx, a) : FG_OK;
    free(a);
    return rc;
}

/* "<ms>.<id>" → parts; 0 on a malformed cursor. */
static int parse_cursor(const char *s, int64_t *ms, char id[FG_ALERT_ID_SIZE], const char *prefix)
{
    const char *dot = strchr(s, '.');
    if (dot == NULL || dot == s || dot - s > 19)
        return 0;
    int64_t v = 0;
    for (const char *p = s; p < dot; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
    }
    if (!fg_inc_id_ok(prefix, dot + 1))
        return 0;
    *ms = v;
    memcpy(id, dot + 1, FG_ALERT_ID_SIZE);
    return 1;
}

fg_rc fg_alert_list(fg_conn *c, const struct fg_alert_filter *f, fg_alert_fn fn, void *ctx,
                    char next_cursor[FG_ALERT_CURSOR_SIZE])
{
    struct fg_alert_filter none = {0};
    if (f == NULL)
        f = &none;
    unsigned limit = f->limit ? f->limit : FG_ALERT_LIST_DEFAULT;
    if (limit > FG_ALERT_LIST_MAX)
        return FG_ERR_INVALID;
    if (f->state && strcmp(f->state, "open") && strcmp(f->state, "acked") &&
        strcmp(f->state, "resolved"))
        return FG_ERR_INVALID;
    int rank = 0;
    if (f->level && (rank = fg_alert_level_rank(f->level)) == 0)
        return FG_ERR_INVALID;
    if (f->rule && !fg_inc_name_ok(f->rule, FG_ALERT_RULE_MAX))
        return FG_ERR_INVALID;
    int64_t cur_ms = INT64_MAX;
    char cur_id[FG_ALERT_ID_SIZE] = "alr_~";
    if (f->cursor && f->cursor[0] && !parse_cursor(f->cursor, &cur_ms, cur_id, "alr_"))
        return FG_ERR_INVALID;
    /* Bound levels as an IN list of the ranks kept. */
    struct fg_val p[10];
    p[0] = f->state ? FG_VSTR(f->state) : FG_VNULL;
    p[1] = f->rule ? FG_VSTR(f->rule) : FG_VNULL;
    p[2] = FG_VINT(f->since_ms);
    p[3] = FG_VINT(cur_ms);
    p[4] = FG_VSTR(cur_id);
    p[5] = FG_VINT(limit);
    p[6] = FG_VINT(rank);
    struct list_ctx l = {fn, ctx, 0, 0, ""};
    fg_rc rc = fg_conn_exec(
        c,
        "SELECT " COLS " FROM alerts WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR "
        "rule_id = ?2) AND last_ms >= ?3 AND (last_ms < ?4 OR (last_ms = ?4 AND id < ?5)) AND "
        "(CASE level WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 4 END) >= ?7 "
        "ORDER BY last_ms DESC, id DESC LIMIT ?6",
        p, 7, list_row, &l, NULL);
    if (rc)
        return rc;
    if (next_cursor) {
        next_cursor[0] = '\0';
        if (l.n == limit)
            snprintf(next_cursor, FG_ALERT_CURSOR_SIZE, "%" PRId64 ".%s", l.last_ms, l.last_id);
    }
    return FG_OK;
}

static fg_rc change(fg_conn *c, const char *id, const char *actor, int64_t now_ms,
                    struct fg_alert_view *out, int resolve)
{
    if (!fg_alert_id_ok(id))
        return FG_ERR_NOT_FOUND;
    if (!fg_inc_token_ok(actor, FG_ALERT_ACTOR_MAX))
        return FG_ERR_INVALID;
    struct fg_alert_view cur;
    fg_rc rc = fg_alert_get(c, id, &cur);
    if (rc)
        return rc;
    if (resolve ? strcmp(cur.state, "resolved") == 0 : strcmp(cur.state, "open") != 0)
        return FG_ERR_CONFLICT;
    struct fg_val p[3] = {FG_VSTR(actor), FG_VINT(now_ms), FG_VSTR(id)};
    rc = fg_conn_exec(c,
                      resolve ? "UPDATE alerts SET state = 'resolved', resolved_by = ?1, "
                                "resolved_ms = ?2 WHERE id = ?3 AND state <> 'resolved'"
                              : "UPDATE alerts SET state = 'acked', acked_by = ?1, acked_ms = ?2 "
                                "WHERE id = ?3 AND state = 'open'",
                      p, 3, NULL, NULL, NULL);
    if (rc)
        return rc;
    return out ? fg_alert_get(c, id, out) : FG_OK;
}

fg_rc fg_alert_ack(fg_conn *c, const char *id, const char *actor, int64_t now_ms,
                   struct fg_alert_view *out)
{
    return change(c, id, actor, now_ms, out, 0);
}

fg_rc fg_alert_resolve(fg_conn *c, const char *id, const char *actor, int64_t now_ms,
                       struct fg_alert_view *out)
{
    return change(c, id, actor, now_ms, out, 1);
}

static fg_rc count_row(void *ctx, const struct fg_val *cols, int ncols)
{
    int64_t *out = ctx;
    if (ncols < 2)
        return FG_ERR_INTERNAL;
    char level[16];
    fg_inc_col_text(&cols[0], level, sizeof level);
    int r = fg_alert_level_rank(level);
    if (r)
        out[r - 1] = fg_inc_col_int(&cols[1]);
    return FG_OK;
}

fg_rc fg_alert_count_unresolved(fg_conn *c, int64_t out[4])
{
    memset(out, 0, 4 * sizeof out[0]);
    return fg_conn_exec(
        c, "SELECT level, count(*) FROM alerts WHERE state <> 'resolved' GROUP BY level", NULL, 0,
        count_row, out, NULL);
}

static fg_rc put_str(struct fg_buf *b, const char *name, const char *v, int null_if_empty)
{
    fg_rc rc = fg_buf_appendf(b, ",\"%s\":", name);
    if (rc)
        return rc;
    if (null_if_empty && v[0] == '\0')
        return fg_buf_append_str(b, "null");
    return fg_inc_json_str(b, v, strlen(v));
}

fg_rc fg_alert_json(const struct fg_alert_view *a, struct fg_buf *b)
{
    fg_rc rc = fg_buf_appendf(b, "{\"id\":\"%s\"", a->id);
    if (!rc)
        rc = put_str(b, "rule", a->rule_id, 0);
    if (!rc)
        rc = put_str(b, "level", a->level, 0);
    if (!rc)
        rc = put_str(b, "title", a->title, 0);
    if (!rc)
        rc = put_str(b, "key", a->key, 0);
    if (!rc)
        rc = put_str(b, "state", a->state, 0);
    if (!rc)
        rc = fg_buf_appendf(b, ",\"count\":%" PRId64, a->count);
    if (!rc)
        rc = fg_inc_json_time(b, "first_at", a->first_ms);
    if (!rc)
        rc = fg_inc_json_time(b, "last_at", a->last_ms);
    if (!rc)
        rc = fg_buf_appendf(b, ",\"first_event_seq\":%" PRId64 ",\"last_event_seq\":%" PRId64,
                            a->first_event_seq, a->last_event_seq);
    if (!rc)
        rc = fg_buf_append_str(b, ",\"tags\":[");
    int first = 1;
    for (const char *p = a->tags; !rc && *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *next = e ? e + 1 : p + n;
        while (n && *p == ' ') {
            p++;
            n--;
        }
        while (n && p[n - 1] == ' ')
            n--;
        if (n) {
            if (!first)
                rc = fg_buf_append_char(b, ',');
            if (!rc)
                rc = fg_inc_json_str(b, p, n);
            first = 0;
        }
        p = next;
    }
    if (!rc)
        rc = fg_buf_appendf(b, "],\"details\":%s", a->details[0] ? a->details : "{}");
    if (!rc)
        rc = put_str(b, "acked_by", a->acked_by, 1);
    if (!rc)
        rc = fg_inc_json_time(b, "acked_at", a->acked_ms);
    if (!rc)
        rc = put_str(b, "resolved_by", a->resolved_by, 1);
    if (!rc)
        rc = fg_inc_json_time(b, "resolved_at", a->resolved_ms);
    if (!rc)
        rc = put_str(b, "incident_id", a->incident_id, 1);
    if (!rc)
        rc = fg_buf_append_char(b, '}');
    return rc;
}
