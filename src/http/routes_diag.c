/*
 * routes_diag.c — the write-path probe: POST /v1/diag/write stores a short payload
 * through the single writer (group commit, synchronous=FULL) and answers only once it is
 * durable; GET /v1/diag/write/{id} reads it back from a read connection.
 *
 * It exists so tests, benchmarks and (later) drills can exercise and measure the real
 * write path — crash safety, batching, back-pressure — independent of any business
 * feature. It is registered only when diag.write_probe=true, which configuration
 * validation allows only on a loopback address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "http/call.h"
#include "http/server.h"

#define PAYLOAD_CHARS_MAX 256
#define ID_DIGITS_MAX 19 /* int64 */

struct probe_write {
    char payload[PAYLOAD_CHARS_MAX * 4 + 1]; /* UTF-8: up to 4 bytes per character */
    size_t payload_len;
    int64_t created_ms;
    int64_t id;
    struct fg_audit_record record; /* "diag.write", committed with the row */
};

static fg_rc probe_write_intent(fg_conn *conn, void *arg)
{
    struct probe_write *w = arg;
    struct fg_val params[] = {FG_VTEXT(w->payload, w->payload_len), FG_VINT(w->created_ms)};
    fg_rc rc = fg_conn_exec(conn, "INSERT INTO diag_write(payload, created_ms) VALUES (?1, ?2)",
                            params, 2, NULL, NULL, NULL);
    if (rc == FG_OK) {
        w->id = fg_conn_last_insert_id(conn);
        /* the id exists only now; the audit hook appends the record right after this */
        snprintf(w->record.object_id, sizeof w->record.object_id, "%lld", (long long)w->id);
    }
    return rc;
}

static json_t *probe_json(int64_t id, const char *payload, size_t len)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    return json_pack("{s:s, s:s%}", "id", idtext, "payload", payload, len);
}

static void probe_write_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct probe_write *w = arg;
    if (c != NULL) {
        if (rc == FG_OK)
            fg_reply_json(c, 201, probe_json(w->id, w->payload, w->payload_len));
        else
            fg_reply_rc(c, rc, NULL);
    }
    free(w);
}

static const struct fg_json_field probe_fields[] = {
    {"payload", FG_JSON_STRING, 1, 1, PAYLOAD_CHARS_MAX},
};

static void probe_write(struct fg_call *c)
{
    struct fg_json_error err;
    json_t *body = fg_call_body(c);
    if (fg_json_check(body, probe_fields, 1, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    json_t *payload = json_object_get(body, "payload");
    struct probe_write *w = calloc(1, sizeof *w);
    if (w == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    w->payload_len = json_string_length(payload);
    if (w->payload_len >= sizeof w->payload) { /* cannot happen: ≤ 256 chars × 4 bytes */
        free(w);
        fg_reply_rc(c, FG_ERR_INTERNAL, NULL);
        return;
    }
    memcpy(w->payload, json_string_value(payload), w->payload_len);
    w->created_ms = fg_time_wall_ms();
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    char details[64];
    int n = snprintf(details, sizeof details, "{\"bytes\":%zu}", w->payload_len);
    fg_rc rc = fg_audit_record_init(&w->record, &who, "diag.write", "diag_write", NULL);
    if (rc == FG_OK)
        rc = fg_audit_record_details(&w->record, details, (size_t)n);
    if (rc) {
        free(w);
        fg_reply_rc(c, rc, NULL);
        return;
    }
    if (fg_call_write_record(c, probe_write_intent, w, &w->record, probe_write_done) != FG_OK)
        free(w); /* already answered 503 */
}

/* Ids are opaque strings to clients; here they are decimal rowids. Anything else simply
 * names no probe record: 404, like any unknown id. */
static int parse_id(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > ID_DIGITS_MAX || s[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end != s + n)
        return 0;
    *out = v;
    return 1;
}

struct probe_row {
    int found;
    int64_t id;
    char payload[PAYLOAD_CHARS_MAX * 4 + 1];
    size_t len;
};

static fg_rc probe_row_cb(void *ctx, const struct fg_val *cols, int ncols)
{
    struct probe_row *row = ctx;
    if (ncols != 2 || cols[0].type != FG_VAL_INT || cols[1].type != FG_VAL_TEXT ||
        cols[1].n >= sizeof row->payload)
        return FG_ERR_CORRUPT;
    row->found = 1;
    row->id = cols[0].i;
    memcpy(row->payload, cols[1].p, cols[1].n);
    row->len = cols[1].n;
    return FG_OK;
}

static void probe_read(struct fg_call *c)
{
    int64_t id;
    if (!parse_id(fg_call_param(c, 0), &id)) {
        fg_reply_rc(c, FG_ERR_NOT_FOUND, NULL);
        return;
    }
    fg_store *store = fg_call_app(c)->store;
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(store, &conn);
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        return;
    }
    struct probe_row row = {0};
    struct fg_val params[] = {FG_VINT(id)};
    rc = fg_conn_exec(conn, "SELECT id, payload FROM diag_write WHERE id = ?1", params, 1,
                      probe_row_cb, &row, NULL);
    fg_store_read_release(store, conn);
    if (rc == FG_OK && !row.found)
        rc = FG_ERR_NOT_FOUND;
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        return;
    }
    fg_reply_json(c, 200, probe_json(row.id, row.payload, row.len));
}

/* ---- the diagnostics clock ------------------------------------------------------------ */

/* POST /v1/diag/clock {"offset_s": N} moves this process's wall clock by N seconds (lockout
 * windows, session and approval expiry, incident deadlines can then be tested without
 * waiting). Same gate as the write probe: diag.write_probe, loopback only. Every move is
 * logged as a warning: a clock that is not the real one must never go unnoticed. */
static const struct fg_json_field clock_fields[] = {
    {"offset_s", FG_JSON_INT, 1, -366LL * 24 * 3600, 366LL * 24 * 3600},
};

static void diag_clock(struct fg_call *c)
{
    struct fg_json_error err;
    if (fg_json_check(fg_call_body(c), clock_fields, 1, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    int64_t offset = (int64_t)json_integer_value(json_object_get(fg_call_body(c), "offset_s"));
    fg_time_set_offset_s(offset);
    fg_log(FG_LOG_WARN, "diag.clock_moved", FG_LF_INT("offset_s", offset));
    char now[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(fg_time_wall_ms(), now);
    fg_reply_json(c, 200, json_pack("{s:I, s:s}", "offset_s", (json_int_t)offset, "now", now));
}

fg_rc fg_routes_diag(struct fg_router *r, const struct fg_config *cfg)
{
    if (!cfg->diag_write_probe)
        return FG_OK;
    fg_rc rc = fg_router_add(r, &(struct fg_route){.method = "POST",
                                                   .pattern = "/v1/diag/write",
                                                   .permission = "diag",
                                                   .flags = FG_ROUTE_JSON_BODY,
                                                   .fn = probe_write});
    if (rc == FG_OK)
        rc = fg_router_add(r, &(struct fg_route){.method = "POST",
                                                 .pattern = "/v1/diag/clock",
                                                 .permission = "diag",
                                                 .flags = FG_ROUTE_JSON_BODY | FG_ROUTE_UNSEALED,
                                                 .fn = diag_clock});
    if (rc == FG_OK)
        rc = fg_router_add(r, &(struct fg_route){.method = "GET",
                                                 .pattern = "/v1/diag/write/{id}",
                                                 .permission = "diag",
                                                 .fn = probe_read});
    return rc;
}
