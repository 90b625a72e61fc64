/*
 * incident.c — incidents: lifecycle, deadlines, timeline, evidence, review (incident.h).
 * Reports (JSON, Markdown) are in export.c; the deadline clock in clock.c.
 */
#include "incident/incident.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "event/event.h"
#include "incident/internal.h"

#define MS_PER_HOUR (3600LL * 1000LL)
/* A retention year counted long (366 days) so "at least archive_years" always holds. */
#define MS_PER_RETENTION_YEAR (366LL * 24LL * MS_PER_HOUR)
#define TITLE_SUFFIX_MAX 40u

static const char *const state_names[FG_INC_STATE_COUNT_] = {"reported", "investigating",
                                                             "contained", "recovered", "closed"};
static const char *const deadline_names[FG_INC_DL_COUNT_] = {"report", "handle", "recover"};

const char *fg_incident_state_name(enum fg_incident_state s)
{
    return (unsigned)s < FG_INC_STATE_COUNT_ ? state_names[s] : "unknown";
}

fg_rc fg_incident_state_parse(const char *name, enum fg_incident_state *out)
{
    for (int i = 0; name != NULL && i < FG_INC_STATE_COUNT_; i++)
        if (strcmp(name, state_names[i]) == 0) {
            *out = (enum fg_incident_state)i;
            return FG_OK;
        }
    return FG_ERR_INVALID;
}

int fg_incident_transition_allowed(enum fg_incident_state from, enum fg_incident_state to)
{
    if ((unsigned)from >= FG_INC_STATE_COUNT_ || (unsigned)to >= FG_INC_STATE_COUNT_)
        return 0;
    if (from == FG_INC_CLOSED)
        return to == FG_INC_INVESTIGATING; /* reopen */
    return to == from + 1;
}

const char *fg_incident_deadline_name(enum fg_incident_deadline d)
{
    return (unsigned)d < FG_INC_DL_COUNT_ ? deadline_names[d] : "unknown";
}

void fg_incident_deadlines(const struct fg_incident_profile *p, int64_t discovered_ms,
                           int64_t due_ms[FG_INC_DL_COUNT_])
{
    due_ms[FG_INC_DL_REPORT] = discovered_ms + p->report_h * MS_PER_HOUR;
    due_ms[FG_INC_DL_HANDLE] = discovered_ms + p->handle_h * MS_PER_HOUR;
    due_ms[FG_INC_DL_RECOVER] = discovered_ms + p->recover_h * MS_PER_HOUR;
}

int fg_incident_severity_ok(const char *s)
{
    return fg_alert_level_rank(s) != 0;
}

int fg_incident_id_ok(const char *s)
{
    return fg_inc_id_ok("inc_", s);
}

static int type_ok(const char *s)
{
    if (!fg_inc_name_ok(s, FG_INCIDENT_TYPE_MAX))
        return 0;
    for (const char *p = s; *p; p++)
        if (*p == '.' || *p == '-')
            return 0;
    return 1;
}

/* ---- small helpers --------------------------------------------------------------------- */

static fg_rc emit(fg_conn *c, const char *type, const char *actor, const char *id,
                  const char *attrs, int64_t now_ms)
{
    struct fg_event e = {.type = type,
                         .actor_id = actor,
                         .object_type = "incident",
                         .object_id = id,
                         .attrs_json = attrs};
    return fg_event_emit(c, &e, now_ms);
}

/* Validate a JSON array of id strings and hand back its compact text (caller frees). */
static fg_rc ids_normalize(const char *json, char **out)
{
    *out = NULL;
    if (json == NULL || json[0] == '\0')
        json = "[]";
    if (strlen(json) > FG_INCIDENT_IDS_JSON_MAX)
        return FG_ERR_TOO_LARGE;
    json_t *v = json_loads(json, 0, NULL);
    if (v == NULL || !json_is_array(v)) {
        json_decref(v);
        return FG_ERR_INVALID;
    }
    if (json_array_size(v) > FG_INCIDENT_IDS_MAX) {
        json_decref(v);
        return FG_ERR_LIMIT;
    }
    size_t i;
    json_t *it;
    json_array_foreach(v, i, it)
    {
        if (!json_is_string(it) || !fg_inc_token_ok(json_string_value(it), FG_INCIDENT_ACTOR_MAX) ||
            strchr(json_string_value(it), '"') || strchr(json_string_value(it), '\\')) {
            json_decref(v);
            return FG_ERR_INVALID;
        }
    }
    *out = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return *out ? FG_OK : FG_ERR_NOMEM;
}

static fg_rc check_text(const char *s, size_t max, int multi)
{
    if (s == NULL)
        return FG_OK;
    if (strlen(s) > max)
        return FG_ERR_TOO_LARGE;
    return fg_inc_text_ok(s, max, multi) ? FG_OK : FG_ERR_INVALID;
}

static fg_rc timeline_append(fg_conn *c, const char *id, const char *kind, const char *actor,
                             const char *text, const char *ref, int64_t now_ms, int quiet_full)
{
    int64_t next = 0;
    struct fg_val p[7] = {FG_VSTR(id)};
    fg_rc rc = fg_conn_exec(c,
                            "SELECT COALESCE(max(seq), 0) + 1 FROM incident_timeline WHERE "
                            "incident_id = ?1",
                            p, 1, fg_inc_row_int, &next, NULL);
    if (rc)
        return rc;
    if (next > (int64_t)FG_INCIDENT_TIMELINE_MAX)
        return quiet_full ? FG_OK : FG_ERR_LIMIT;
    p[1] = FG_VINT(next);
    p[2] = FG_VINT(now_ms);
    p[3] = FG_VSTR(kind);
    p[4] = FG_VSTR(actor);
    p[5] = FG_VSTR(text ? text : "");
    p[6] = FG_VSTR(ref ? ref : "");
    return fg_conn_exec(c,
                        "INSERT INTO incident_timeline (incident_id, seq, time_ms, kind, actor, "
                        "text, ref) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        p, 7, NULL, NULL, NULL);
}

static int kind_ok(const char *k)
{
    static const char *const kinds[] = {"alert", "response", "transition",
                                        "note",  "evidence", "deadline"};
    for (size_t i = 0; k && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(k, kinds[i]) == 0)
            return 1;
    return 0;
}

static fg_rc exists(fg_conn *c, const char *id)
{
    if (!fg_incident_id_ok(id))
        return FG_ERR_NOT_FOUND;
    int64_t n = 0;
    struct fg_val p = FG_VSTR(id);
    fg_rc rc = fg_conn_exec(c, "SELECT count(*) FROM incidents WHERE id = ?1", &p, 1,
                            fg_inc_row_int, &n, NULL);
    if (rc)
        return rc;
    return n ? FG_OK : FG_ERR_NOT_FOUND;
}

fg_rc fg_incident_timeline_add(fg_conn *c, const char *incident_id, const char *kind,
                               const char *actor, const char *text, const char *ref, int64_t now_ms)
{
    if (!kind_ok(kind) || !fg_inc_token_ok(actor, FG_INCIDENT_ACTOR_MAX + 6))
        return FG_ERR_INVALID;
    fg_rc rc = check_text(text, FG_INCIDENT_TEXT_MAX, 1);
    if (!rc && ref && strlen(ref) > FG_INCIDENT_REF_MAX)
        rc = FG_ERR_TOO_LARGE;
    if (!rc && ref && ref[0] && !fg_inc_token_ok(ref, FG_INCIDENT_REF_MAX))
        rc = FG_ERR_INVALID;
    if (!rc)
        rc = exists(c, incident_id);
    if (rc)
        return rc;
    return timeline_append(c, incident_id, kind, actor, text, ref, now_ms, 0);
}

/* ---- opening ---------------------------------------------------------------------------- */

struct row_ins {
    const char *id, *type, *severity, *title, *profile, *opened_by, *rule_id, *key;
    const char *accounts, *users, *features, *scope, *first_actions;
    int64_t discovered_ms, reported_ms, opened_ms;
    int64_t due[FG_INC_DL_COUNT_];
};

static fg_rc insert(fg_conn *c, const struct row_ins *r)
{
    struct fg_val p[19] = {
        FG_VSTR(r->id),
        FG_VSTR(r->type),
        FG_VSTR(r->severity),
        FG_VSTR(r->title),
        FG_VSTR(r->profile),
        FG_VINT(r->discovered_ms),
        FG_VINT(r->reported_ms),
        FG_VINT(r->opened_ms),
        FG_VINT(r->due[FG_INC_DL_REPORT]),
        FG_VINT(r->due[FG_INC_DL_HANDLE]),
        FG_VINT(r->due[FG_INC_DL_RECOVER]),
        FG_VSTR(r->opened_by),
        r->rule_id ? FG_VSTR(r->rule_id) : FG_VNULL,
        r->rule_id ? FG_VSTR(r->key ? r->key : "") : FG_VNULL,
        FG_VSTR(r->accounts),
        FG_VSTR(r->users),
        FG_VSTR(r->features ? r->features : ""),
        FG_VSTR(r->scope ? r->scope : ""),
        FG_VSTR(r->first_actions ? r->first_actions : ""),
    };
    return fg_conn_exec(c,
                        "INSERT INTO incidents (id, type, severity, title, state, profile, "
                        "discovered_ms, reported_ms, opened_ms, report_due_ms, handle_due_ms, "
                        "recover_due_ms, opened_by, rule_id, key, accounts, users, features, "
                        "scope, first_actions) VALUES (?1, ?2, ?3, ?4, 'reported', ?5, ?6, ?7, "
                        "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                        p, 19, NULL, NULL, NULL);
}

static fg_rc opened_event(fg_conn *c, const char *id, const char *actor, const char *type,
                          const char *severity, const char *profile, int64_t due_report,
                          int64_t now_ms)
{
    char due[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(due_report, due);
    char attrs[256];
    int n = snprintf(attrs, sizeof attrs,
                     "{\"incident\":\"%s\",\"type\":\"%s\",\"severity\":\"%s\",\"profile\":\"%s\","
                     "\"to\":\"reported\",\"deadline\":\"%s\"}",
                     id, type, severity, profile, due);
    if (n < 0 || (size_t)n >= sizeof attrs)
        return FG_ERR_INTERNAL;
    return emit(c, "incident.opened", actor, id, attrs, now_ms);
}

fg_rc fg_incident_open(fg_conn *c, const struct fg_incident_policy *pol,
                       const struct fg_incident_new *n, int64_t now_ms,
                       char id_out[FG_INCIDENT_ID_SIZE])
{
    if (n == NULL || !type_ok(n->type) || !fg_incident_severity_ok(n->severity) ||
        n->title == NULL || n->title[0] == '\0' ||
        !fg_inc_token_ok(n->opened_by, FG_INCIDENT_ACTOR_MAX))
        return FG_ERR_INVALID;
    fg_rc rc = check_text(n->title, FG_INCIDENT_TITLE_MAX, 0);
    if (!rc)
        rc = check_text(n->features, FG_INCIDENT_TEXT_MAX, 1);
    if (!rc)
        rc = check_text(n->scope, FG_INCIDENT_TEXT_MAX, 1);
    if (!rc)
        rc = check_text(n->first_actions, FG_INCIDENT_TEXT_MAX, 1);
    if (rc)
        return rc;
    int64_t discovered = n->discovered_ms ? n->discovered_ms : now_ms;
    if (discovered > now_ms || discovered < 0)
        return FG_ERR_INVALID;
    const struct fg_incident_profile *prof = fg_incident_profile_find(pol, n->profile);
    if (prof == NULL)
        return FG_ERR_INVALID;
    char *accounts = NULL, *users = NULL;
    rc = ids_normalize(n->accounts_json, &accounts);
    if (!rc)
        rc = ids_normalize(n->users_json, &users);
    char id[FG_INCIDENT_ID_SIZE];
    if (!rc)
        rc = fg_inc_new_id("inc_", id);
    struct row_ins r = {.id = id,
                        .type = n->type,
                        .severity = n->severity,
                        .title = n->title,
                        .profile = prof->name,
                        .opened_by = n->opened_by,
                        .accounts = accounts,
                        .users = users,
                        .features = n->features,
                        .scope = n->scope,
                        .first_actions = n->first_actions,
                        .discovered_ms = discovered,
                        .reported_ms = now_ms,
                        .opened_ms = now_ms};
    fg_incident_deadlines(prof, discovered, r.due);
    if (!rc)
        rc = insert(c, &r);
    free(accounts);
    free(users);
    if (!rc)
        rc = timeline_append(c, id, "transition", n->opened_by, "opened by hand: reported", NULL,
                             now_ms, 0);
    if (!rc)
        rc = opened_event(c, id, n->opened_by, n->type, n->severity, prof->name,
                          r.due[FG_INC_DL_REPORT], now_ms);
    if (!rc)
        memcpy(id_out, id, FG_INCIDENT_ID_SIZE);
    return rc;
}

/* Add `item` to the JSON id array in column col of incident id (if absent and room). */
static fg_rc list_add(fg_conn *c, const char *id, const char *col, const char *item)
{
    if (item == NULL || item[0] == '\0')
        return FG_OK;
    if (!fg_inc_token_ok(item, FG_INCIDENT_ACTOR_MAX) || strchr(item, '"') || strchr(item, '\\'))
        return FG_ERR_INVALID;
    struct fg_val p[2] = {FG_VSTR(id), FG_VSTR(item)};
    const char *sql = strcmp(col, "accounts") == 0
                          ? "UPDATE incidents SET accounts = json_insert(accounts, '$[#]', ?2) "
                            "WHERE id = ?1 AND json_array_length(accounts) < 64 AND NOT EXISTS "
                            "(SELECT 1 FROM json_each(accounts) WHERE value = ?2)"
                          : "UPDATE incidents SET users = json_insert(users, '$[#]', ?2) "
                            "WHERE id = ?1 AND json_array_length(users) < 64 AND NOT EXISTS "
                            "(SELECT 1 FROM json_each(users) WHERE value = ?2)";
    return fg_conn_exec(c, sql, p, 2, NULL, NULL, NULL);
}

struct idrow {
    int found;
    char id[FG_INCIDENT_ID_SIZE];
};

static fg_rc idrow_fn(void *ctx, const struct fg_val *cols, int ncols)
{
    struct idrow *r = ctx;
    if (ncols < 1)
        return FG_ERR_INTERNAL;
    r->found = 1;
    fg_inc_col_text(&cols[0], r->id, sizeof r->id);
    return FG_OK;
}

fg_rc fg_incident_open_for_rule(fg_conn *c, const struct fg_incident_rule_open *o, int64_t now_ms,
                                char id_out[FG_INCIDENT_ID_SIZE], int *created)
{
    if (o == NULL || !fg_inc_name_ok(o->rule_id, FG_ALERT_RULE_MAX) || !type_ok(o->type) ||
        !fg_incident_severity_ok(o->severity))
        return FG_ERR_INVALID;
    const char *key = o->key ? o->key : "";
    if (strlen(key) > FG_ALERT_KEY_MAX)
        return FG_ERR_TOO_LARGE;
    if (!fg_inc_text_ok(key, FG_ALERT_KEY_MAX, 0) ||
        (o->alert_id && o->alert_id[0] && !fg_alert_id_ok(o->alert_id)))
        return FG_ERR_INVALID;
    char actor[FG_INCIDENT_ACTOR_MAX + 8];
    snprintf(actor, sizeof actor, "rule:%s", o->rule_id);
    char ref[FG_INCIDENT_REF_MAX + 1] = "";
    if (o->alert_id && o->alert_id[0])
        snprintf(ref, sizeof ref, "%s", o->alert_id);
    else if (o->event_seq > 0)
        snprintf(ref, sizeof ref, "event:%" PRId64, o->event_seq);
    char text[FG_ALERT_TITLE_MAX + FG_ALERT_KEY_MAX + 64];
    const char *rtitle = o->rule_title && o->rule_title[0] ? o->rule_title : o->rule_id;

    struct idrow r = {0};
    struct fg_val p[2] = {FG_VSTR(o->rule_id), FG_VSTR(key)};
    fg_rc rc = fg_conn_exec(c,
                            "SELECT id FROM incidents WHERE rule_id = ?1 AND key = ?2 AND state <> "
                            "'closed' ORDER BY opened_ms DESC, id DESC LIMIT 1",
                            p, 2, idrow_fn, &r, NULL);
    if (rc)
        return rc;
    if (r.found) {
        snprintf(text, sizeof text, "rule %s fired again (event %" PRId64 ")", o->rule_id,
                 o->event_seq);
        rc = timeline_append(c, r.id, "alert", actor, text, ref, now_ms, 1);
        if (!rc)
            rc = list_add(c, r.id, "accounts", o->account_id);
        if (!rc)
            rc = list_add(c, r.id, "users", o->user_id);
        if (!rc && o->alert_id && o->alert_id[0])
            rc = fg_alert_link_incident(c, o->alert_id, r.id);
        if (rc)
            return rc;
        memcpy(id_out, r.id, FG_INCIDENT_ID_SIZE);
        if (created)
            *created = 0;
        return FG_OK;
    }

    const struct fg_incident_profile *prof = fg_incident_profile_find(o->policy, NULL);
    char id[FG_INCIDENT_ID_SIZE];
    rc = fg_inc_new_id("inc_", id);
    if (rc)
        return rc;
    /* Title: "<rule title> (<key>)", cut to the limit on a UTF-8 boundary. */
    char title[FG_INCIDENT_TITLE_MAX + 1];
    if (key[0])
        snprintf(text, sizeof text, "%s (%s)", rtitle, key);
    else
        snprintf(text, sizeof text, "%s", rtitle);
    size_t tl = strlen(text);
    if (tl > FG_INCIDENT_TITLE_MAX) {
        tl = FG_INCIDENT_TITLE_MAX;
        while (tl > 0 && ((unsigned char)text[tl] & 0xc0) == 0x80)
            tl--;
    }
    memcpy(title, text, tl);
    title[tl] = '\0';
    if (!fg_inc_text_ok(title, FG_INCIDENT_TITLE_MAX, 0) || title[0] == '\0')
        return FG_ERR_INVALID;
    char accounts[FG_INCIDENT_ACTOR_MAX + 8] = "[]", users[FG_INCIDENT_ACTOR_MAX + 8] = "[]";
    if (o->account_id && o->account_id[0]) {
        if (!fg_inc_token_ok(o->account_id, FG_INCIDENT_ACTOR_MAX) || strchr(o->account_id, '"') ||
            strchr(o->account_id, '\\'))
            return FG_ERR_INVALID;
        snprintf(accounts, sizeof accounts, "[\"%s\"]", o->account_id);
    }
    if (o->user_id && o->user_id[0]) {
        if (!fg_inc_token_ok(o->user_id, FG_INCIDENT_ACTOR_MAX) || strchr(o->user_id, '"') ||
            strchr(o->user_id, '\\'))
            return FG_ERR_INVALID;
        snprintf(users, sizeof users, "[\"%s\"]", o->user_id);
    }
    struct row_ins ins = {.id = id,
                          .type = o->type,
                          .severity = o->severity,
                          .title = title,
                          .profile = prof->name,
                          .opened_by = actor,
                          .rule_id = o->rule_id,
                          .key = key,
                          .accounts = accounts,
                          .users = users,
                          .discovered_ms = now_ms,
                          .reported_ms = now_ms,
                          .opened_ms = now_ms};
    fg_incident_deadlines(prof, now_ms, ins.due);
    rc = insert(c, &ins);
    if (!rc) {
        snprintf(text, sizeof text, "opened by rule %s (event %" PRId64 "): reported", o->rule_id,
                 o->event_seq);
        rc = timeline_append(c, id, "alert", actor, text, ref, now_ms, 0);
    }
    if (!rc && o->alert_id && o->alert_id[0])
        rc = fg_alert_link_incident(c, o->alert_id, id);
    if (!rc)
        rc = opened_event(c, id, actor, o->type, o->severity, prof->name, ins.due[FG_INC_DL_REPORT],
                          now_ms);
    if (rc)
        return rc;
    memcpy(id_out, id, FG_INCIDENT_ID_SIZE);
    if (created)
        *created = 1;
    return FG_OK;
}

/* ---- reads ------------------------------------------------------------------------------ */

#define VCOLS                                                                                      \
    "id, type, severity, title, state, profile, discovered_ms, reported_ms, opened_ms, "           \
    "contained_ms, recovered_ms, closed_ms, report_due_ms, handle_due_ms, recover_due_ms, "        \
    "report_breached, handle_breached, recover_breached, opened_by, rule_id, key, "                \
    "retain_until_ms, root_cause IS NOT NULL"
#define NVCOLS 23

static void view_from(const struct fg_val *v, struct fg_incident_view *o)
{
    memset(o, 0, sizeof *o);
    fg_inc_col_text(&v[0], o->id, sizeof o->id);
    fg_inc_col_text(&v[1], o->type, sizeof o->type);
    fg_inc_col_text(&v[2], o->severity, sizeof o->severity);
    fg_inc_col_text(&v[3], o->title, sizeof o->title);
    char st[16];
    fg_inc_col_text(&v[4], st, sizeof st);
    if (fg_incident_state_parse(st, &o->state) != FG_OK)
        o->state = FG_INC_REPORTED;
    fg_inc_col_text(&v[5], o->profile, sizeof o->profile);
    o->discovered_ms = fg_inc_col_int(&v[6]);
    o->reported_ms = fg_inc_col_int(&v[7]);
    o->opened_ms = fg_inc_col_int(&v[8]);
    o->contained_ms = fg_inc_col_int(&v[9]);
    o->recovered_ms = fg_inc_col_int(&v[10]);
    o->closed_ms = fg_inc_col_int(&v[11]);
    for (int i = 0; i < FG_INC_DL_COUNT_; i++) {
        o->due_ms[i] = fg_inc_col_int(&v[12 + i]);
        o->breached[i] = (int)fg_inc_col_int(&v[15 + i]);
    }
    fg_inc_col_text(&v[18], o->opened_by, sizeof o->opened_by);
    fg_inc_col_text(&v[19], o->rule_id, sizeof o->rule_id);
    fg_inc_col_text(&v[20], o->key, sizeof o->key);
    o->retain_until_ms = fg_inc_col_int(&v[21]);
    o->reviewed = (int)fg_inc_col_int(&v[22]);
}

struct vone {
    struct fg_incident_view *out;
    int found;
};

static fg_rc vone_fn(void *ctx, const struct fg_val *cols, int ncols)
{
    struct vone *o = ctx;
    if (ncols < NVCOLS)
        return FG_ERR_INTERNAL;
    view_from(cols, o->out);
    o->found = 1;
    return FG_OK;
}

fg_rc fg_incident_get(fg_conn *c, const char *id, struct fg_incident_view *out)
{
    if (!fg_incident_id_ok(id))
        return FG_ERR_NOT_FOUND;
    struct vone o = {out, 0};
    struct fg_val p = FG_VSTR(id);
    fg_rc rc =
        fg_conn_exec(c, "SELECT " VCOLS " FROM incidents WHERE id = ?1", &p, 1, vone_fn, &o, NULL);
    if (rc)
        return rc;
    return o.found ? FG_OK : FG_ERR_NOT_FOUND;
}

struct vlist {
    fg_incident_fn fn;
    void *ctx;
    unsigned n;
    int64_t last_ms;
    char last_id[FG_INCIDENT_ID_SIZE];
};

static fg_rc vlist_fn(void *ctx, const struct fg_val *cols, int ncols)
{
    struct vlist *l = ctx;
    if (ncols < NVCOLS)
        return FG_ERR_INTERNAL;
    struct fg_incident_view v;
    view_from(cols, &v);
    l->n++;
    l->last_ms = v.opened_ms;
    memcpy(l->last_id, v.id, sizeof l->last_id);
    return l->fn ? l->fn(l->ctx, &v) : FG_OK;
}

fg_rc fg_incident_list(fg_conn *c, const struct fg_incident_filter *f, fg_incident_fn fn, void *ctx,
                       char next_cursor[FG_INCIDENT_CURSOR_SIZE])
{
    struct fg_incident_filter none = {0};
    if (f == NULL)
        f = &none;
    unsigned limit = f->limit ? f->limit : FG_INCIDENT_LIST_DEFAULT;
    if (limit > FG_INCIDENT_LIST_MAX)
        return FG_ERR_INVALID;
    enum fg_incident_state st;
    int open_only = f->state && strcmp(f->state, "open") == 0;
    if (f->state && !open_only && fg_incident_state_parse(f->state, &st) != FG_OK)
        return FG_ERR_INVALID;
    if (f->severity && !fg_incident_severity_ok(f->severity))
        return FG_ERR_INVALID;
    int64_t cur_ms = INT64_MAX;
    char cur_id[FG_INCIDENT_ID_SIZE] = "inc_~";
    if (f->cursor && f->cursor[0]) {
        const char *dot = strchr(f->cursor, '.');
        if (dot == NULL || dot == f->cursor || dot - f->cursor > 19 || !fg_incident_id_ok(dot + 1))
            return FG_ERR_INVALID;
        cur_ms = 0;
        for (const char *p = f->cursor; p < dot; p++) {
            if (*p < '0' || *p > '9')
                return FG_ERR_INVALID;
            cur_ms = cur_ms * 10 + (*p - '0');
        }
        memcpy(cur_id, dot + 1, FG_INCIDENT_ID_SIZE);
    }
    struct fg_val p[6] = {
        f->state && !open_only ? FG_VSTR(f->state) : FG_VNULL,
        FG_VINT(open_only),
        f->severity ? FG_VSTR(f->severity) : FG_VNULL,
        FG_VINT(cur_ms),
        FG_VSTR(cur_id),
        FG_VINT(limit),
    };
    struct vlist l = {fn, ctx, 0, 0, ""};
    fg_rc rc = fg_conn_exec(c,
                            "SELECT " VCOLS " FROM incidents WHERE (?1 IS NULL OR state = ?1) AND "
                            "(?2 = 0 OR state <> 'closed') AND (?3 IS NULL OR severity = ?3) AND "
                            "(opened_ms < ?4 OR (opened_ms = ?4 AND id < ?5)) ORDER BY opened_ms "
                            "DESC, id DESC LIMIT ?6",
                            p, 6, vlist_fn, &l, NULL);
    if (rc)
        return rc;
    if (next_cursor) {
        next_cursor[0] = '\0';
        if (l.n == limit)
            snprintf(next_cursor, FG_INCIDENT_CURSOR_SIZE, "%" PRId64 ".%s", l.last_ms, l.last_id);
    }
    return FG_OK;
}

struct due_ctx {
    fg_incident_due_fn fn;
    void *ctx;
};

static fg_rc due_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct due_ctx *d = ctx;
    if (ncols < 2)
        return FG_ERR_INTERNAL;
    char id[FG_INCIDENT_ID_SIZE];
    fg_inc_col_text(&cols[0], id, sizeof id);
    int64_t k = fg_inc_col_int(&cols[1]);
    if (k < 0 || k >= FG_INC_DL_COUNT_)
        return FG_ERR_INTERNAL;
    return d->fn(d->ctx, id, (enum fg_incident_deadline)k);
}

fg_rc fg_incident_due(fg_conn *c, int64_t now_ms, unsigned max, fg_incident_due_fn fn, void *ctx)
{
    struct fg_val p[2] = {FG_VINT(now_ms), FG_VINT(max)};
    struct due_ctx d = {fn, ctx};
    return fg_conn_exec(
        c,
        "SELECT id, k FROM ("
        "SELECT id, 0 AS k, report_due_ms AS due FROM incidents WHERE report_breached = 0 AND "
        "report_due_ms < reported_ms "
        "UNION ALL SELECT id, 1, handle_due_ms FROM incidents WHERE handle_breached = 0 AND "
        "handle_due_ms < ?1 AND (contained_ms IS NULL OR contained_ms > handle_due_ms) "
        "UNION ALL SELECT id, 2, recover_due_ms FROM incidents WHERE recover_breached = 0 AND "
        "recover_due_ms < ?1 AND (recovered_ms IS NULL OR recovered_ms > recover_due_ms)"
        ") ORDER BY due, id, k LIMIT ?2",
        p, 2, due_row, &d, NULL);
}

static fg_rc state_count_row(void *ctx, const struct fg_val *cols, int ncols)
{
    int64_t *out = ctx;
    if (ncols < 2)
        return FG_ERR_INTERNAL;
    char st[16];
    fg_inc_col_text(&cols[0], st, sizeof st);
    enum fg_incident_state s;
    if (fg_incident_state_parse(st, &s) == FG_OK)
        out[s] = fg_inc_col_int(&cols[1]);
    return FG_OK;
}

fg_rc fg_incident_count_by_state(fg_conn *c, int64_t out[FG_INC_STATE_COUNT_])
{
    memset(out, 0, FG_INC_STATE_COUNT_ * sizeof out[0]);
    return fg_conn_exec(c, "SELECT state, count(*) FROM incidents GROUP BY state", NULL, 0,
                        state_count_row, out, NULL);
}

/* ---- changes ---------------------------------------------------------------------------- */

fg_rc fg_incident_transition(fg_conn *c, const struct fg_incident_policy *pol, const char *id,
                             enum fg_incident_state to, const char *reason, const char *actor,
                             int64_t now_ms, enum fg_incident_state *from_out, const char **why)
{
    static const char *unused;
    if (why == NULL)
        why = &unused;
    *why = NULL;
    if (pol == NULL)
        pol = fg_incident_policy_builtin();
    if ((unsigned)to >= FG_INC_STATE_COUNT_ || !fg_inc_token_ok(actor, FG_INCIDENT_ACTOR_MAX))
        return FG_ERR_INVALID;
    fg_rc rc = check_text(reason, FG_INCIDENT_TEXT_MAX, 1);
    if (rc)
        return rc;
    struct fg_incident_view v;
    rc = fg_incident_get(c, id, &v);
    if (rc)
        return rc;
    if (from_out)
        *from_out = v.state;
    if (!fg_incident_transition_allowed(v.state, to)) {
        *why = "transition not allowed";
        return FG_ERR_CONFLICT;
    }
    if (to == FG_INC_CLOSED && !v.reviewed) {
        *why = "closing requires a review (root cause and improvements)";
        return FG_ERR_CONFLICT;
    }
    int64_t retain = now_ms + pol->archive_years * MS_PER_RETENTION_YEAR;
    struct fg_val p[4] = {FG_VSTR(id), FG_VSTR(fg_incident_state_name(to)), FG_VINT(now_ms),
                          FG_VINT(retain)};
    rc = fg_conn_exec(
        c,
        "UPDATE incidents SET state = ?2, "
        "contained_ms = CASE WHEN ?2 = 'contained' AND contained_ms IS NULL THEN ?3 ELSE "
        "contained_ms END, "
        "recovered_ms = CASE WHEN ?2 = 'recovered' AND recovered_ms IS NULL THEN ?3 ELSE "
        "recovered_ms END, "
        "closed_ms = CASE WHEN ?2 = 'closed' THEN ?3 ELSE NULL END, "
        "retain_until_ms = CASE WHEN ?2 = 'closed' THEN max(COALESCE(retain_until_ms, 0), ?4) "
        "ELSE retain_until_ms END WHERE id = ?1",
        p, 4, NULL, NULL, NULL);
    if (rc)
        return rc;
    const char *from = fg_incident_state_name(v.state), *tos = fg_incident_state_name(to);
    size_t cap = FG_INCIDENT_TEXT_MAX + 1;
    char *text = malloc(cap);
    if (!text)
        return FG_ERR_NOMEM;
    int n = snprintf(text, cap, "%s -> %s%s%s", from, tos, reason && reason[0] ? ": " : "",
                     reason ? reason : "");
    if (n < 0)
        text[0] = '\0';
    /* Cut on a UTF-8 boundary if the reason filled the entry. */
    size_t tl = strlen(text);
    while (tl > 0 && ((unsigned char)text[tl - 1] & 0xc0) == 0x80 && n >= (int)cap)
        text[--tl] = '\0';
    rc = timeline_append(c, id, "transition", actor, text, NULL, now_ms, 1);
    free(text);
    if (rc)
        return rc;
    char attrs[160];
    snprintf(attrs, sizeof attrs, "{\"incident\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"}", id, from,
             tos);
    return emit(c, "incident.transitioned", actor, id, attrs, now_ms);
}

static int digits_ok(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 18)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

fg_rc fg_incident_evidence_add(fg_conn *c, const char *id, const char *kind, const char *from_ref,
                               const char *to_ref, const char *note, const char *actor,
                               int64_t now_ms)
{
    if (kind == NULL || !fg_inc_token_ok(actor, FG_INCIDENT_ACTOR_MAX))
        return FG_ERR_INVALID;
    if ((from_ref && strlen(from_ref) > FG_INCIDENT_EVIDENCE_REF_MAX) ||
        (to_ref && strlen(to_ref) > FG_INCIDENT_EVIDENCE_REF_MAX))
        return FG_ERR_TOO_LARGE;
    fg_rc rc = check_text(note, FG_INCIDENT_TEXT_MAX, 1);
    if (rc)
        return rc;
    const char *to = to_ref && to_ref[0] ? to_ref : "";
    if (strcmp(kind, "event") == 0 || strcmp(kind, "audit_range") == 0) {
        if (!digits_ok(from_ref) || (to[0] && !digits_ok(to)))
            return FG_ERR_INVALID;
        if (to[0] && strtoll(to, NULL, 10) < strtoll(from_ref, NULL, 10))
            return FG_ERR_INVALID;
    } else if (strcmp(kind, "alert") == 0) {
        if (!fg_alert_id_ok(from_ref) || to[0])
            return FG_ERR_INVALID;
    } else {
        return FG_ERR_INVALID;
    }
    rc = exists(c, id);
    if (rc)
        return rc;
    if (strcmp(kind, "alert") == 0) {
        rc = fg_alert_get(c, from_ref, NULL);
        if (rc == FG_ERR_NOT_FOUND)
            return FG_ERR_INVALID; /* the evidence names an alert that does not exist */
        if (rc)
            return rc;
    }
    int64_t next = 0;
    struct fg_val p[8] = {FG_VSTR(id)};
    rc = fg_conn_exec(
        c, "SELECT COALESCE(max(seq), 0) + 1 FROM incident_evidence WHERE incident_id = ?1", p, 1,
        fg_inc_row_int, &next, NULL);
    if (rc)
        return rc;
    if (next > (int64_t)FG_INCIDENT_EVIDENCE_MAX)
        return FG_ERR_LIMIT;
    p[1] = FG_VINT(next);
    p[2] = FG_VSTR(kind);
    p[3] = FG_VSTR(from_ref);
    p[4] = FG_VSTR(to);
    p[5] = FG_VSTR(note ? note : "");
    p[6] = FG_VSTR(actor);
    p[7] = FG_VINT(now_ms);
    rc = fg_conn_exec(c,
                      "INSERT INTO incident_evidence (incident_id, seq, kind, from_ref, to_ref, "
                      "note, added_by, added_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                      p, 8, NULL, NULL, NULL);
    if (rc)
        return rc;
    char text[64 + 2 * FG_INCIDENT_EVIDENCE_REF_MAX];
    snprintf(text, sizeof text, "evidence #%" PRId64 ": %s %s%s%s", next, kind, from_ref,
             to[0] ? ".." : "", to);
    return timeline_append(c, id, "evidence", actor, text, NULL, now_ms, 1);
}

static int date_ok(const char *s)
{
    /* YYYY-MM-DD with a real day */
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* Validate the improvements array; hand back its normalized compact text. */
static fg_rc improvements_normalize(const char *json, char **out)
{
    *out = NULL;
    if (json == NULL)
        return FG_ERR_INVALID;
    if (strlen(json) > FG_INCIDENT_IMPROVEMENTS_JSON_MAX)
        return FG_ERR_TOO_LARGE;
    json_t *v = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    if (v == NULL || !json_is_array(v) || json_array_size(v) == 0) {
        json_decref(v);
        return FG_ERR_INVALID;
    }
    if (json_array_size(v) > FG_INCIDENT_IMPROVEMENTS_MAX) {
        json_decref(v);
        return FG_ERR_LIMIT;
    }
    json_t *norm = json_array();
    fg_rc rc = norm ? FG_OK : FG_ERR_NOMEM;
    size_t i;
    json_t *it;
    json_array_foreach(v, i, it)
    {
        if (rc)
            break;
        const char *title = json_string_value(json_object_get(it, "title"));
        const char *owner = json_string_value(json_object_get(it, "owner"));
        const char *due = json_string_value(json_object_get(it, "due"));
        if (!json_is_object(it) || json_object_size(it) != 3 || title == NULL || !title[0] ||
            !fg_inc_text_ok(title, FG_INCIDENT_TITLE_MAX, 0) || owner == NULL || !owner[0] ||
            !fg_inc_text_ok(owner, FG_INCIDENT_ACTOR_MAX, 0) || !date_ok(due)) {
            rc = FG_ERR_INVALID;
            break;
        }
        json_t *o = json_pack("{s:s,s:s,s:s}", "title", title, "owner", owner, "due", due);
        if (o == NULL || json_array_append_new(norm, o) != 0)
            rc = FG_ERR_NOMEM;
    }
    if (!rc) {
        *out = json_dumps(norm, JSON_COMPACT);
        if (*out == NULL)
            rc = FG_ERR_NOMEM;
    }
    json_decref(norm);
    json_decref(v);
    return rc;
}

fg_rc fg_incident_review(fg_conn *c, const char *id, const char *root_cause,
                         const char *improvements_json, const char *actor, int64_t now_ms)
{
    if (root_cause == NULL || root_cause[0] == '\0' ||
        !fg_inc_token_ok(actor, FG_INCIDENT_ACTOR_MAX))
        return FG_ERR_INVALID;
    fg_rc rc = check_text(root_cause, FG_INCIDENT_TEXT_MAX, 1);
    if (rc)
        return rc;
    char *imp = NULL;
    rc = improvements_normalize(improvements_json, &imp);
    if (rc)
        return rc;
    struct fg_incident_view v;
    rc = fg_incident_get(c, id, &v);
    if (!rc && v.state != FG_INC_RECOVERED && v.state != FG_INC_CLOSED)
        rc = FG_ERR_CONFLICT;
    if (!rc) {
        struct fg_val p[3] = {FG_VSTR(id), FG_VSTR(root_cause), FG_VSTR(imp)};
        rc =
            fg_conn_exec(c, "UPDATE incidents SET root_cause = ?2, improvements = ?3 WHERE id = ?1",
                         p, 3, NULL, NULL, NULL);
    }
    if (!rc) {
        size_t cap = FG_INCIDENT_TEXT_MAX + 1;
        char *text = malloc(cap);
        if (!text) {
            rc = FG_ERR_NOMEM;
        } else {
            json_t *arr = json_loads(imp, 0, NULL);
            size_t nimp = arr ? json_array_size(arr) : 0;
            json_decref(arr);
            snprintf(text, cap, "review recorded: %zu improvement(s); root cause: %s", nimp,
                     root_cause);
            size_t tl = strlen(text);
            if (tl == cap - 1)
                while (tl > 0 && ((unsigned char)text[tl - 1] & 0xc0) == 0x80)
                    text[--tl] = '\0';
            rc = timeline_append(c, id, "note", actor, text, NULL, now_ms, 1);
            free(text);
        }
    }
    free(imp);
    return rc;
}

/* ---- deadlines -------------------------------------------------------------------------- */

fg_rc fg_incident_mark_breach(fg_conn *c, const char *id, enum fg_incident_deadline d,
                              int64_t now_ms, int *marked, char alert_id_out[FG_ALERT_ID_SIZE])
{
    *marked = 0;
    if ((unsigned)d >= FG_INC_DL_COUNT_)
        return FG_ERR_INVALID;
    struct fg_incident_view v;
    fg_rc rc = fg_incident_get(c, id, &v);
    if (rc)
        return rc;
    if (v.breached[d])
        return FG_OK;
    int64_t met = d == FG_INC_DL_REPORT   ? v.reported_ms
                  : d == FG_INC_DL_HANDLE ? v.contained_ms
                                          : v.recovered_ms;
    int64_t due = v.due_ms[d];
    int missed = met ? met > due : now_ms > due;
    if (!missed)
        return FG_OK;
    static const char *const flag_sql[FG_INC_DL_COUNT_] = {
        "UPDATE incidents SET report_breached = 1 WHERE id = ?1 AND report_breached = 0",
        "UPDATE incidents SET handle_breached = 1 WHERE id = ?1 AND handle_breached = 0",
        "UPDATE incidents SET recover_breached = 1 WHERE id = ?1 AND recover_breached = 0",
    };
    struct fg_val p = FG_VSTR(id);
    int64_t changes = 0;
    rc = fg_conn_exec(c, flag_sql[d], &p, 1, NULL, NULL, &changes);
    if (rc)
        return rc;
    if (changes != 1)
        return FG_OK;
    const char *dn = fg_incident_deadline_name(d);
    char rule[48], title[FG_ALERT_TITLE_MAX + 1], due_s[FG_TIME_RFC3339_LEN], details[256];
    snprintf(rule, sizeof rule, "incident.deadline.%s", dn);
    snprintf(title, sizeof title, "Incident %s deadline missed (%s)", dn, id);
    fg_time_format_rfc3339(due, due_s);
    snprintf(details, sizeof details,
             "{\"incident\":\"%s\",\"deadline\":\"%s\",\"due\":\"%s\",\"profile\":\"%s\"}", id, dn,
             due_s, v.profile);
    struct fg_alert_new a = {
        .rule_id = rule,
        .level = strcmp(v.severity, "critical") == 0 ? "critical" : "high",
        .title = title,
        .key = id,
        .tags = "INC-2,MON-2",
        .details_json = details,
    };
    char aid[FG_ALERT_ID_SIZE];
    int created = 0;
    rc = fg_alert_raise(c, &a, now_ms, aid, &created);
    if (!rc)
        rc = fg_alert_link_incident(c, aid, id);
    if (!rc) {
        char text[128];
        snprintf(text, sizeof text, "%s deadline missed (due %s)", dn, due_s);
        rc = timeline_append(c, id, "deadline", "system", text, aid, now_ms, 1);
    }
    if (!rc) {
        char attrs[200];
        snprintf(attrs, sizeof attrs,
                 "{\"incident\":\"%s\",\"deadline\":\"%s\",\"due\":\"%s\",\"alert\":\"%s\"}", id,
                 dn, due_s, aid);
        rc = emit(c, "incident.deadline_breached", "system", id, attrs, now_ms);
    }
    if (rc)
        return rc;
    *marked = 1;
    if (alert_id_out)
        memcpy(alert_id_out, aid, FG_ALERT_ID_SIZE);
    return FG_OK;
}
