/*
 * export.c — an incident as JSON (the API shape: GET /v1/incidents/{id}, export json) and as
 * a Markdown report (export md) (incident.h "reads"; INC-3, INC-5).
 *
 * Markdown escaping: every text that came from a person or a rule goes through md_text(),
 * which backslash-escapes \ ` * _ [ ] < > | ~ # (emphasis, code, links, HTML, table cells,
 * headings) and, in table cells, turns line breaks into spaces — so a note can neither break
 * the table nor inject a link or HTML.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "incident/incident.h"
#include "incident/internal.h"

/* ---- JSON --------------------------------------------------------------------------------- */

static fg_rc jstr(struct fg_buf *b, const char *name, const char *v)
{
    fg_rc rc = fg_buf_appendf(b, ",\"%s\":", name);
    return rc ? rc : fg_inc_json_str(b, v, strlen(v));
}

static int64_t met_of(const struct fg_incident_view *v, int d)
{
    return d == FG_INC_DL_REPORT   ? v->reported_ms
           : d == FG_INC_DL_HANDLE ? v->contained_ms
                                   : v->recovered_ms;
}

static const char *status_of(const struct fg_incident_view *v, int d)
{
    int64_t met = met_of(v, d);
    if (v->breached[d] || (met && met > v->due_ms[d]))
        return "breached";
    return met ? "met" : "pending";
}

fg_rc fg_incident_summary_json(const struct fg_incident_view *v, struct fg_buf *b)
{
    fg_rc rc = fg_buf_appendf(b, "{\"id\":\"%s\"", v->id);
    if (!rc)
        rc = jstr(b, "type", v->type);
    if (!rc)
        rc = jstr(b, "severity", v->severity);
    if (!rc)
        rc = jstr(b, "title", v->title);
    if (!rc)
        rc = jstr(b, "state", fg_incident_state_name(v->state));
    if (!rc)
        rc = jstr(b, "profile", v->profile);
    if (!rc)
        rc = fg_inc_json_time(b, "discovered_at", v->discovered_ms);
    if (!rc)
        rc = fg_inc_json_time(b, "reported_at", v->reported_ms);
    if (!rc)
        rc = fg_inc_json_time(b, "opened_at", v->opened_ms);
    if (!rc)
        rc = fg_inc_json_time(b, "contained_at", v->contained_ms);
    if (!rc)
        rc = fg_inc_json_time(b, "recovered_at", v->recovered_ms);
    if (!rc)
        rc = fg_inc_json_time(b, "closed_at", v->closed_ms);
    if (!rc)
        rc = fg_inc_json_time(b, "retain_until", v->retain_until_ms);
    if (!rc)
        rc = jstr(b, "opened_by", v->opened_by);
    if (!rc)
        rc = v->rule_id[0] ? jstr(b, "rule", v->rule_id) : fg_buf_append_str(b, ",\"rule\":null");
    if (!rc)
        rc = v->rule_id[0] ? jstr(b, "key", v->key) : fg_buf_append_str(b, ",\"key\":null");
    if (!rc)
        rc = fg_buf_appendf(b, ",\"reviewed\":%s,\"deadlines\":{", v->reviewed ? "true" : "false");
    for (int d = 0; !rc && d < FG_INC_DL_COUNT_; d++) {
        rc = fg_buf_appendf(b, "%s\"%s\":{\"status\":\"%s\",\"breached\":%s", d ? "," : "",
                            fg_incident_deadline_name((enum fg_incident_deadline)d),
                            status_of(v, d), v->breached[d] ? "true" : "false");
        if (!rc)
            rc = fg_inc_json_time(b, "due", v->due_ms[d]);
        if (!rc)
            rc = fg_inc_json_time(b, "met_at", met_of(v, d));
        if (!rc)
            rc = fg_buf_append_char(b, '}');
    }
    if (!rc)
        rc = fg_buf_append_str(b, "}}");
    return rc;
}

/* The columns a view does not hold. */
struct extra {
    char *accounts, *users, *features, *scope, *first_actions, *root_cause, *improvements;
    int has_root_cause;
};

static char *dup_col(const struct fg_val *v)
{
    size_t n = (v->type == FG_VAL_TEXT) ? v->n : 0;
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, v->p, n);
        s[n] = '\0';
    }
    return s;
}

static fg_rc extra_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct extra *x = ctx;
    if (ncols < 7)
        return FG_ERR_INTERNAL;
    x->accounts = dup_col(&cols[0]);
    x->users = dup_col(&cols[1]);
    x->features = dup_col(&cols[2]);
    x->scope = dup_col(&cols[3]);
    x->first_actions = dup_col(&cols[4]);
    x->has_root_cause = cols[5].type == FG_VAL_TEXT;
    x->root_cause = dup_col(&cols[5]);
    x->improvements = dup_col(&cols[6]);
    if (!x->accounts || !x->users || !x->features || !x->scope || !x->first_actions ||
        !x->root_cause || !x->improvements)
        return FG_ERR_NOMEM;
    return FG_OK;
}

static void extra_free(struct extra *x)
{
    free(x->accounts);
    free(x->users);
    free(x->features);
    free(x->scope);
    free(x->first_actions);
    free(x->root_cause);
    free(x->improvements);
}

static fg_rc load(fg_conn *c, const char *id, struct fg_incident_view *v, struct extra *x)
{
    memset(x, 0, sizeof *x);
    fg_rc rc = fg_incident_get(c, id, v);
    if (rc)
        return rc;
    struct fg_val p = FG_VSTR(id);
    rc = fg_conn_exec(c,
                      "SELECT accounts, users, features, scope, first_actions, root_cause, "
                      "improvements FROM incidents WHERE id = ?1",
                      &p, 1, extra_row, x, NULL);
    if (!rc && x->accounts == NULL)
        rc = FG_ERR_NOT_FOUND;
    return rc;
}

struct rows {
    struct fg_buf *b;
    int md;
    unsigned n;
};

static fg_rc md_text(struct fg_buf *b, const char *s, size_t n, int cell);

static fg_rc timeline_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct rows *r = ctx;
    if (ncols < 6)
        return FG_ERR_INTERNAL;
    int64_t seq = fg_inc_col_int(&cols[0]), t = fg_inc_col_int(&cols[1]);
    char kind[16], actor[FG_INCIDENT_ACTOR_MAX + 8], ref[FG_INCIDENT_REF_MAX + 1];
    fg_inc_col_text(&cols[2], kind, sizeof kind);
    fg_inc_col_text(&cols[3], actor, sizeof actor);
    fg_inc_col_text(&cols[5], ref, sizeof ref);
    const char *text = cols[4].type == FG_VAL_TEXT ? cols[4].p : "";
    size_t tn = cols[4].type == FG_VAL_TEXT ? cols[4].n : 0;
    char when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(t, when);
    struct fg_buf *b = r->b;
    fg_rc rc;
    if (r->md) {
        rc = fg_buf_appendf(b, "| %" PRId64 " | %s | %s | ", seq, when, kind);
        if (!rc)
            rc = md_text(b, actor, strlen(actor), 1);
        if (!rc)
            rc = fg_buf_append_str(b, " | ");
        if (!rc)
            rc = md_text(b, text, tn, 1);
        if (!rc)
            rc = fg_buf_append_str(b, " | ");
        if (!rc)
            rc = md_text(b, ref, strlen(ref), 1);
        if (!rc)
            rc = fg_buf_append_str(b, " |\n");
    } else {
        rc = fg_buf_appendf(b, "%s{\"seq\":%" PRId64 ",\"time\":\"%s\",\"kind\":\"%s\"",
                            r->n ? "," : "", seq, when, kind);
        if (!rc)
            rc = jstr(b, "actor", actor);
        if (!rc)
            rc = fg_buf_append_str(b, ",\"text\":");
        if (!rc)
            rc = fg_inc_json_str(b, text, tn);
        if (!rc)
            rc = jstr(b, "ref", ref);
        if (!rc)
            rc = fg_buf_append_char(b, '}');
    }
    r->n++;
    return rc;
}

static fg_rc evidence_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct rows *r = ctx;
    if (ncols < 7)
        return FG_ERR_INTERNAL;
    int64_t seq = fg_inc_col_int(&cols[0]), t = fg_inc_col_int(&cols[6]);
    char kind[16], from[FG_INCIDENT_EVIDENCE_REF_MAX + 1], to[FG_INCIDENT_EVIDENCE_REF_MAX + 1],
        by[FG_INCIDENT_ACTOR_MAX + 8];
    fg_inc_col_text(&cols[1], kind, sizeof kind);
    fg_inc_col_text(&cols[2], from, sizeof from);
    fg_inc_col_text(&cols[3], to, sizeof to);
    fg_inc_col_text(&cols[5], by, sizeof by);
    const char *note = cols[4].type == FG_VAL_TEXT ? cols[4].p : "";
    size_t nn = cols[4].type == FG_VAL_TEXT ? cols[4].n : 0;
    char when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(t, when);
    struct fg_buf *b = r->b;
    fg_rc rc;
    if (r->md) {
        rc = fg_buf_appendf(b, "| %" PRId64 " | %s | ", seq, kind);
        if (!rc)
            rc = md_text(b, from, strlen(from), 1);
        if (!rc)
            rc = fg_buf_append_str(b, " | ");
        if (!rc)
            rc = md_text(b, to, strlen(to), 1);
        if (!rc)
            rc = fg_buf_append_str(b, " | ");
        if (!rc)
            rc = md_text(b, note, nn, 1);
        if (!rc)
            rc = fg_buf_append_str(b, " | ");
        if (!rc)
            rc = md_text(b, by, strlen(by), 1);
        if (!rc)
            rc = fg_buf_appendf(b, " | %s |\n", when);
    } else {
        rc =
            fg_buf_appendf(b, "%s{\"seq\":%" PRId64 ",\"kind\":\"%s\"", r->n ? "," : "", seq, kind);
        if (!rc)
            rc = jstr(b, "from", from);
        if (!rc)
            rc = to[0] ? jstr(b, "to", to) : fg_buf_append_str(b, ",\"to\":null");
        if (!rc)
            rc = fg_buf_append_str(b, ",\"note\":");
        if (!rc)
            rc = fg_inc_json_str(b, note, nn);
        if (!rc)
            rc = jstr(b, "added_by", by);
        if (!rc)
            rc = fg_inc_json_time(b, "added_at", t);
        if (!rc)
            rc = fg_buf_append_char(b, '}');
    }
    r->n++;
    return rc;
}

static fg_rc timeline(fg_conn *c, const char *id, struct rows *r)
{
    struct fg_val p = FG_VSTR(id);
    return fg_conn_exec(c,
                        "SELECT seq, time_ms, kind, actor, text, ref FROM incident_timeline WHERE "
                        "incident_id = ?1 ORDER BY seq",
                        &p, 1, timeline_row, r, NULL);
}

static fg_rc evidence(fg_conn *c, const char *id, struct rows *r)
{
    struct fg_val p = FG_VSTR(id);
    return fg_conn_exec(c,
                        "SELECT seq, kind, from_ref, to_ref, note, added_by, added_ms FROM "
                        "incident_evidence WHERE incident_id = ?1 ORDER BY seq",
                        &p, 1, evidence_row, r, NULL);
}

fg_rc fg_incident_json(fg_conn *c, const char *id, struct fg_buf *b)
{
    struct fg_incident_view v;
    struct extra x;
    fg_rc rc = load(c, id, &v, &x);
    if (!rc)
        rc = fg_incident_summary_json(&v, b);
    if (!rc) {
        b->len--; /* reopen the object: drop its closing brace */
        b->data[b->len] = '\0';
        rc = fg_buf_appendf(b, ",\"accounts\":%s,\"users\":%s", x.accounts, x.users);
    }
    if (!rc)
        rc = jstr(b, "features", x.features);
    if (!rc)
        rc = jstr(b, "scope", x.scope);
    if (!rc)
        rc = jstr(b, "first_actions", x.first_actions);
    if (!rc && x.has_root_cause) {
        rc = fg_buf_append_str(b, ",\"review\":{\"root_cause\":");
        if (!rc)
            rc = fg_inc_json_str(b, x.root_cause, strlen(x.root_cause));
        if (!rc)
            rc = fg_buf_appendf(b, ",\"improvements\":%s}", x.improvements);
    } else if (!rc) {
        rc = fg_buf_append_str(b, ",\"review\":null");
    }
    struct rows r = {b, 0, 0};
    if (!rc)
        rc = fg_buf_append_str(b, ",\"timeline\":[");
    if (!rc)
        rc = timeline(c, id, &r);
    r.n = 0;
    if (!rc)
        rc = fg_buf_append_str(b, "],\"evidence\":[");
    if (!rc)
        rc = evidence(c, id, &r);
    if (!rc)
        rc = fg_buf_append_str(b, "]}");
    extra_free(&x);
    return rc;
}

/* ---- Markdown --------------------------------------------------------------------------- */

static fg_rc md_text(struct fg_buf *b, const char *s, size_t n, int cell)
{
    static const char special[] = "\\`*_[]<>|~#";
    fg_rc rc = FG_OK;
    for (size_t i = 0; rc == FG_OK && i < n; i++) {
        char ch = s[i];
        if (ch == '\n' || ch == '\r' || ch == '\t') {
            rc = fg_buf_append_str(b, cell ? " " : (ch == '\n' ? "  \n" : " "));
            continue;
        }
        if (strchr(special, ch) != NULL && ch != '\0')
            rc = fg_buf_append_char(b, '\\');
        if (rc == FG_OK)
            rc = fg_buf_append_char(b, ch);
    }
    return rc;
}

static fg_rc md_row(struct fg_buf *b, const char *field, const char *value)
{
    fg_rc rc = fg_buf_appendf(b, "| %s | ", field);
    if (!rc)
        rc = md_text(b, value, strlen(value), 1);
    if (!rc)
        rc = fg_buf_append_str(b, " |\n");
    return rc;
}

static fg_rc md_time_row(struct fg_buf *b, const char *field, int64_t ms)
{
    char t[FG_TIME_RFC3339_LEN];
    if (ms)
        fg_time_format_rfc3339(ms, t);
    return fg_buf_appendf(b, "| %s | %s |\n", field, ms ? t : "-");
}

/* A JSON array of strings as "a, b" (escaped), "-" when empty. */
static fg_rc md_list(struct fg_buf *b, const char *field, const char *json)
{
    json_t *a = json_loads(json, 0, NULL);
    fg_rc rc = fg_buf_appendf(b, "| %s | ", field);
    size_t i;
    json_t *it;
    if (!rc && (a == NULL || json_array_size(a) == 0))
        rc = fg_buf_append_char(b, '-');
    json_array_foreach(a, i, it)
    {
        const char *s = json_string_value(it);
        if (rc || s == NULL)
            continue;
        if (i)
            rc = fg_buf_append_str(b, ", ");
        if (!rc)
            rc = md_text(b, s, strlen(s), 1);
    }
    json_decref(a);
    return rc ? rc : fg_buf_append_str(b, " |\n");
}

static fg_rc md_section(struct fg_buf *b, const char *title, const char *text)
{
    fg_rc rc = fg_buf_appendf(b, "\n## %s\n\n", title);
    if (!rc)
        rc = text[0] ? md_text(b, text, strlen(text), 0) : fg_buf_append_str(b, "-");
    return rc ? rc : fg_buf_append_char(b, '\n');
}

fg_rc fg_incident_markdown(fg_conn *c, const char *id, int64_t now_ms, struct fg_buf *b)
{
    struct fg_incident_view v;
    struct extra x;
    fg_rc rc = load(c, id, &v, &x);
    if (rc) {
        extra_free(&x);
        return rc;
    }
    rc = fg_buf_append_str(b, "# Incident report: ");
    if (!rc)
        rc = md_text(b, v.title, strlen(v.title), 1);
    if (!rc)
        rc = fg_buf_append_str(b, "\n\n| Field | Value |\n|---|---|\n");
    if (!rc)
        rc = md_row(b, "ID", v.id);
    if (!rc)
        rc = md_row(b, "Type", v.type);
    if (!rc)
        rc = md_row(b, "Severity", v.severity);
    if (!rc)
        rc = md_row(b, "State", fg_incident_state_name(v.state));
    if (!rc)
        rc = md_row(b, "Profile", v.profile);
    if (!rc)
        rc = md_row(b, "Opened by", v.opened_by);
    if (!rc && v.rule_id[0])
        rc = md_row(b, "Rule", v.rule_id);
    if (!rc && v.rule_id[0])
        rc = md_row(b, "Key", v.key[0] ? v.key : "-");
    if (!rc)
        rc = md_time_row(b, "Discovered", v.discovered_ms);
    if (!rc)
        rc = md_time_row(b, "Reported", v.reported_ms);
    if (!rc)
        rc = md_time_row(b, "Contained", v.contained_ms);
    if (!rc)
        rc = md_time_row(b, "Recovered", v.recovered_ms);
    if (!rc)
        rc = md_time_row(b, "Closed", v.closed_ms);
    if (!rc)
        rc = md_time_row(b, "Retained until", v.retain_until_ms);
    if (!rc)
        rc = md_list(b, "Accounts", x.accounts);
    if (!rc)
        rc = md_list(b, "Users", x.users);
    if (!rc)
        rc = fg_buf_append_str(b, "\n## Deadlines\n\n| Deadline | Due | Met at | Status |\n"
                                  "|---|---|---|---|\n");
    for (int d = 0; !rc && d < FG_INC_DL_COUNT_; d++) {
        char due[FG_TIME_RFC3339_LEN], met[FG_TIME_RFC3339_LEN];
        fg_time_format_rfc3339(v.due_ms[d], due);
        int64_t m = met_of(&v, d);
        if (m)
            fg_time_format_rfc3339(m, met);
        rc = fg_buf_appendf(b, "| %s | %s | %s | %s |\n",
                            fg_incident_deadline_name((enum fg_incident_deadline)d), due,
                            m ? met : "-", status_of(&v, d));
    }
    if (!rc)
        rc = md_section(b, "Features", x.features);
    if (!rc)
        rc = md_section(b, "Scope", x.scope);
    if (!rc)
        rc = md_section(b, "First actions", x.first_actions);
    struct rows r = {b, 1, 0};
    if (!rc)
        rc = fg_buf_append_str(b, "\n## Timeline\n\n| # | Time | Kind | Actor | Text | Ref |\n"
                                  "|---|---|---|---|---|---|\n");
    if (!rc)
        rc = timeline(c, id, &r);
    if (!rc)
        rc = fg_buf_append_str(b, "\n## Evidence\n\n");
    r.n = 0;
    if (!rc)
        rc = fg_buf_append_str(b, "| # | Kind | From | To | Note | Added by | Added at |\n"
                                  "|---|---|---|---|---|---|---|\n");
    if (!rc)
        rc = evidence(c, id, &r);
    if (!rc && r.n == 0)
        rc = fg_buf_append_str(b, "\nNo evidence recorded.\n");
    if (!rc)
        rc = fg_buf_append_str(b, "\n## Review\n\n");
    if (!rc && !x.has_root_cause) {
        rc = fg_buf_append_str(b, "No review recorded yet.\n");
    } else if (!rc) {
        rc = fg_buf_append_str(b, "Root cause: ");
        if (!rc)
            rc = md_text(b, x.root_cause, strlen(x.root_cause), 0);
        if (!rc)
            rc = fg_buf_append_str(b, "\n\n| Improvement | Owner | Due |\n|---|---|---|\n");
        json_t *a = json_loads(x.improvements, 0, NULL);
        size_t i;
        json_t *it;
        json_array_foreach(a, i, it)
        {
            const char *f[3] = {json_string_value(json_object_get(it, "title")),
                                json_string_value(json_object_get(it, "owner")),
                                json_string_value(json_object_get(it, "due"))};
            for (int k = 0; !rc && k < 3; k++) {
                rc = fg_buf_append_str(b, "| ");
                if (!rc && f[k])
                    rc = md_text(b, f[k], strlen(f[k]), 1);
                if (!rc)
                    rc = fg_buf_append_char(b, ' ');
            }
            if (!rc)
                rc = fg_buf_append_str(b, "|\n");
        }
        json_decref(a);
    }
    if (!rc) {
        char t[FG_TIME_RFC3339_LEN];
        fg_time_format_rfc3339(now_ms, t);
        rc = fg_buf_appendf(b, "\n_Generated by finguard at %s._\n", t);
    }
    extra_free(&x);
    return rc;
}
