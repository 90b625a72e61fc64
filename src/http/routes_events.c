/*
 * routes_events.c — the security event log over HTTP (issue #6; REQUIREMENTS MON-1, MON-5,
 * INC-2; docs/API.md "Events", docs/events.md):
 *   POST /v1/events   events.ingest (the `service` role): {"events":[…]} from another system
 *   GET  /v1/events   events.read: search the stored events (investigation)
 *
 * Intake. The body is one JSON object with exactly the member "events": an array of 1 ..
 * FG_MEV_BATCH_MAX external events (monitor/mevent.h: fg_mev_from_json). The route's body
 * limit is EVENTS_INTAKE_BODY_MAX (1 MiB), above the server's default 64 KiB (struct
 * fg_route.body_max). Each event is checked on its own: a bad one is rejected with its index
 * and a reason that names the member (never its value); the good ones are stored together
 * in ONE write intent with ONE "events.ingest" audit record (details accepted, rejected),
 * each with attrs.origin "external" and attrs.ingested_by = the posting service user. An
 * event the store still refuses in the intent (an id that is not printable ASCII, attrs over
 * FG_EVENT_ATTRS_MAX after redaction) is rejected there the same way. The answer is 200
 * {"accepted":N,"rejected":[{"index":i,"reason":"…"}]} — also when every event was bad
 * (accepted 0): the batch was understood, its events were judged one by one. A body that is
 * not that shape is 400 (413 over the body limit or with more than FG_MEV_BATCH_MAX events).
 * The event's own time is kept (absent: now), within EVENTS_INTAKE_FUTURE_MS ahead and
 * EVENTS_INTAKE_PAST_MS back.
 *
 * Search. Query parameters (percent-decoded): name, user, ip, account, customer, since,
 * until (RFC 3339 UTC), after (a seq cursor), limit (1..FG_EVENT_QUERY_MAX, default
 * EVENTS_PAGE_DEFAULT). Oldest first in seq order; "next_after" is the cursor of the next
 * page (null on the last). Matching rules: event/event.h fg_event_query. Reading events is
 * not itself recorded (a search names no customer data beyond what the audit log holds).
 *
 * Threads: handlers on the loop; the search on a worker (read lease); the intake's store on
 * the writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "event/event.h"
#include "http/call.h"
#include "http/server.h"
#include "iam/session.h"
#include "monitor/mevent.h"

/* POST /v1/events: the body of a full batch (1 000 events of about 1 KiB). */
#define EVENTS_INTAKE_BODY_MAX (1024u * 1024u)
/* An external event's time: at most this far ahead of the server clock ... */
#define EVENTS_INTAKE_FUTURE_MS (5LL * 60 * 1000)
/* ... and at most this far back (older logs go through `finguard events replay`). */
#define EVENTS_INTAKE_PAST_MS (7LL * 24 * 3600 * 1000)
/* Bytes of one rejection reason. */
#define EVENTS_REASON_MAX 160u
/* GET /v1/events: rows when no limit is given. */
#define EVENTS_PAGE_DEFAULT 100u
/* A decoded query value (the longest filter is an object id). */
#define EVENTS_QUERY_VALUE_MAX FG_EVENT_OBJECT_ID_MAX

_Static_assert(EVENTS_INTAKE_BODY_MAX <= FG_HTTP_BODY_MAX_CEILING, "h2o's ceiling");

/* ---- POST /v1/events ---------------------------------------------------------------------- */

/* One event ready to store (copies: the parse hold is reused per event). */
struct intake_ev {
    int64_t time_ms;
    unsigned index;
    char type[FG_EVENT_TYPE_MAX + 1];
    char actor[FG_EVENT_ACTOR_ID_MAX + 1];
    char ip[FG_EVENT_SOURCE_IP_MAX + 1];
    char device[FG_EVENT_DEVICE_ID_MAX + 1];
    char object_type[FG_EVENT_OBJECT_TYPE_MAX + 1];
    char object_id[FG_EVENT_OBJECT_ID_MAX + 1];
    char attrs[FG_EVENT_ATTRS_MAX + 1];
};

struct rejection {
    unsigned index;
    char reason[EVENTS_REASON_MAX];
};

struct intake_job {
    struct fg_audit_record record;
    struct intake_ev *evs; /* n of them */
    unsigned n;
    struct rejection *rej; /* one per event at most */
    unsigned nrej;
    unsigned nrej_parsed; /* rejected before the intent (it may run again) */
    unsigned accepted;
};

static void intake_free(struct intake_job *job)
{
    if (job == NULL)
        return;
    free(job->evs);
    free(job->rej);
    free(job);
}

static void reject(struct intake_job *job, unsigned index, const char *reason)
{
    struct rejection *r = &job->rej[job->nrej++];
    r->index = index;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
}

/* Copy s into dst[cap] or say which member is too long. */
static int copy_field(char *dst, size_t cap, const char *s, const char *member, char *why,
                      size_t whycap)
{
    size_t n = strlen(s);
    if (n >= cap) {
        snprintf(why, whycap, "%s: longer than %zu characters", member, cap - 1);
        return 0;
    }
    memcpy(dst, s, n + 1);
    return 1;
}

/* Attributes the server adds itself: an event may not bring them. */
static const char *const reserved_attrs[] = {"origin", "ingested_by"};

/* One external event → a row to store, or a reason (why). */
static int intake_one(const json_t *o, int64_t now_ms, const char *service,
                      struct fg_mev_hold *hold, struct intake_ev *out, char *why, size_t whycap)
{
    if (!json_is_object(o)) {
        snprintf(why, whycap, "not a JSON object");
        return 0;
    }
    if (fg_mev_from_json(o, now_ms, hold, why, whycap) != FG_OK) {
        if (why[0] == '\0')
            snprintf(why, whycap, "not a valid event");
        return 0;
    }
    const struct fg_mev *ev = &hold->ev;
    for (size_t i = 0; i < sizeof reserved_attrs / sizeof reserved_attrs[0]; i++)
        if (fg_mev_attr(ev, reserved_attrs[i]) != NULL) {
            snprintf(why, whycap, "attrs.%s: reserved (set by the server)", reserved_attrs[i]);
            return 0;
        }
    if (ev->time_ms > now_ms + EVENTS_INTAKE_FUTURE_MS) {
        snprintf(why, whycap, "time: more than 5 minutes in the future");
        return 0;
    }
    if (ev->time_ms < now_ms - EVENTS_INTAKE_PAST_MS) {
        snprintf(why, whycap, "time: more than 7 days in the past");
        return 0;
    }
    struct fg_event row;
    char attrs[FG_EVENT_ATTRS_MAX + 1];
    if (fg_mev_to_event(ev, "external", &row, attrs, sizeof attrs) != FG_OK) {
        snprintf(why, whycap, "attrs: more than %u bytes stored", FG_EVENT_ATTRS_MAX);
        return 0;
    }
    /* who posted it, beside what it claims (the actor is the sender's word) */
    json_t *a = json_loads(attrs, JSON_REJECT_DUPLICATES, NULL);
    if (a == NULL || json_object_set_new(a, "ingested_by", json_string(service)) != 0) {
        json_decref(a);
        snprintf(why, whycap, "attrs: not storable");
        return 0;
    }
    size_t n = json_dumpb(a, out->attrs, sizeof out->attrs - 1,
                          JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(a);
    if (n == 0 || n >= sizeof out->attrs) {
        snprintf(why, whycap, "attrs: more than %u bytes stored", FG_EVENT_ATTRS_MAX);
        return 0;
    }
    out->attrs[n] = '\0';
    out->time_ms = ev->time_ms;
    return copy_field(out->type, sizeof out->type, row.type, "name", why, whycap) &&
           copy_field(out->actor, sizeof out->actor, row.actor_id ? row.actor_id : "", "actor", why,
                      whycap) &&
           copy_field(out->ip, sizeof out->ip, row.source_ip ? row.source_ip : "", "ip", why,
                      whycap) &&
           copy_field(out->device, sizeof out->device, row.device_id ? row.device_id : "", "device",
                      why, whycap) &&
           copy_field(out->object_type, sizeof out->object_type,
                      row.object_type ? row.object_type : "", "object", why, whycap) &&
           copy_field(out->object_id, sizeof out->object_id, row.object_id ? row.object_id : "",
                      row.object_type && row.object_type[0] ? row.object_type : "object", why,
                      whycap);
}

static int cmp_rejection(const void *a, const void *b)
{
    unsigned x = ((const struct rejection *)a)->index, y = ((const struct rejection *)b)->index;
    return x < y ? -1 : x > y;
}

/* Store every good event; one the store refuses is rejected, the rest still go in. */
static fg_rc intake_intent(fg_conn *conn, void *arg)
{
    struct intake_job *job = arg;
    job->accepted = 0;
    job->nrej = job->nrej_parsed;
    for (unsigned i = 0; i < job->n; i++) {
        const struct intake_ev *x = &job->evs[i];
        const struct fg_event e = {.type = x->type,
                                   .actor_id = x->actor,
                                   .source_ip = x->ip,
                                   .device_id = x->device,
                                   .object_type = x->object_type,
                                   .object_id = x->object_id,
                                   .attrs_json = x->attrs};
        fg_rc rc = fg_event_emit(conn, &e, x->time_ms);
        if (rc == FG_ERR_INVALID || rc == FG_ERR_TOO_LARGE) {
            reject(job, x->index,
                   rc == FG_ERR_INVALID ? "not storable: ids must be printable ASCII without spaces"
                                        : "not storable: a value is over its stored limit");
            continue;
        }
        if (rc)
            return rc;
        job->accepted++;
    }
    qsort(job->rej, job->nrej, sizeof *job->rej, cmp_rejection);
    char details[96];
    int n = snprintf(details, sizeof details, "{\"accepted\":%u,\"rejected\":%u}", job->accepted,
                     job->nrej);
    if (n > 0 && (size_t)n < sizeof details &&
        fg_audit_record_details(&job->record, details, (size_t)n) != FG_OK)
        fg_log(FG_LOG_WARN, "events.ingest_details_dropped");
    return FG_OK;
}

static void intake_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct intake_job *job = arg;
    if (c != NULL) {
        if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else {
            json_t *list = json_array();
            for (unsigned i = 0; list != NULL && i < job->nrej; i++)
                json_array_append_new(list, json_pack("{s:I, s:s}", "index",
                                                      (json_int_t)job->rej[i].index, "reason",
                                                      job->rej[i].reason));
            fg_reply_json(c, 200,
                          json_pack("{s:I, s:o}", "accepted", (json_int_t)job->accepted, "rejected",
                                    list ? list : json_array()));
        }
    }
    intake_free(job);
}

static void events_ingest(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    json_t *list = json_object_get(body, "events");
    if (json_object_size(body) != 1 || list == NULL) {
        fg_reply_error(c, 400, "invalid_argument",
                       "the body is {\"events\":[...]} and nothing else", "events");
        return;
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        fg_reply_error(c, 400, "invalid_argument", "events must be a list of 1-1000 events",
                       "events");
        return;
    }
    if (json_array_size(list) > FG_MEV_BATCH_MAX) {
        fg_reply_error(c, 413, "payload_too_large", "at most 1000 events per request", "events");
        return;
    }
    size_t total = json_array_size(list);
    struct intake_job *job = calloc(1, sizeof *job);
    struct fg_mev_hold *hold = malloc(sizeof *hold);
    if (job != NULL) {
        job->evs = calloc(total, sizeof *job->evs);
        job->rej = calloc(total, sizeof *job->rej);
    }
    if (job == NULL || hold == NULL || job->evs == NULL || job->rej == NULL) {
        free(hold);
        intake_free(job);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    const struct fg_session *s = fg_call_session(c);
    int64_t now = fg_time_wall_ms();
    for (size_t i = 0; i < total; i++) {
        char why[EVENTS_REASON_MAX] = "";
        struct intake_ev *x = &job->evs[job->n];
        if (intake_one(json_array_get(list, i), now, s->user_id, hold, x, why, sizeof why)) {
            x->index = (unsigned)i;
            job->n++;
        } else {
            reject(job, (unsigned)i, why);
        }
    }
    free(hold);
    job->nrej_parsed = job->nrej;
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    if (fg_audit_record_init(&job->record, &who, "events.ingest", "events", NULL) != FG_OK) {
        intake_free(job);
        fg_reply_rc(c, FG_ERR_INTERNAL, NULL);
        return;
    }
    if (fg_call_write_record(c, intake_intent, job, &job->record, intake_done) != FG_OK)
        intake_free(job); /* answered 503 */
}

/* ---- GET /v1/events ----------------------------------------------------------------------- */

struct search_job {
    fg_store *store;
    struct fg_event_query q;
    char type[FG_EVENT_TYPE_MAX + 1], user[EVENTS_QUERY_VALUE_MAX + 1],
        ip[FG_EVENT_SOURCE_IP_MAX + 1], account[EVENTS_QUERY_VALUE_MAX + 1],
        customer[EVENTS_QUERY_VALUE_MAX + 1];
    json_t *list;
    int64_t last_seq;
};

static fg_rc search_row(void *ctx, int64_t seq, int64_t time_ms, const struct fg_event *e)
{
    struct search_job *job = ctx;
    char when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(time_ms, when);
    json_t *attrs = json_loads(e->attrs_json, 0, NULL);
    json_t *object = e->object_type[0] != '\0' || e->object_id[0] != '\0'
                         ? json_pack("{s:s, s:s}", "type", e->object_type, "id", e->object_id)
                         : json_null();
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "seq", (json_int_t)seq, "time", when,
                  "name", e->type, "actor", e->actor_id, "ip", e->source_ip, "device", e->device_id,
                  "object", object, "attrs", attrs != NULL ? attrs : json_object());
    if (o == NULL || json_array_append_new(job->list, o) != 0)
        return FG_ERR_NOMEM;
    job->last_seq = seq;
    return FG_OK;
}

static fg_rc search_work(void *arg)
{
    struct search_job *job = arg;
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(job->store, &conn);
    if (rc)
        return rc;
    rc = fg_event_query(conn, &job->q, search_row, job);
    fg_store_read_release(job->store, conn);
    return rc;
}

static void search_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct search_job *job = arg;
    if (c != NULL) {
        if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else {
            int more = json_array_size(job->list) == job->q.limit;
            fg_reply_json(c, 200,
                          json_pack("{s:O, s:o}", "events", job->list, "next_after",
                                    more ? json_integer(job->last_seq) : json_null()));
        }
    }
    json_decref(job->list);
    free(job);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decode v into out[cap]: printable ASCII without spaces only. 1 if it fits. */
static int query_value(const char *v, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; v[i] != '\0'; i++) {
        int ch = (unsigned char)v[i];
        if (ch == '%') {
            int hi = hexval(v[i + 1]), lo = hi >= 0 ? hexval(v[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return 0;
            ch = hi * 16 + lo;
            i += 2;
        }
        if (ch < 0x21 || ch > 0x7e || n + 1 >= cap)
            return 0;
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return n > 0;
}

/* A text filter: absent is fine; present must decode and fit. */
static int text_filter(struct fg_call *c, const char *name, char *out, size_t cap, const char **dst)
{
    const char *v = fg_call_query(c, name);
    if (v == NULL)
        return 1;
    if (!query_value(v, out, cap))
        return 0;
    *dst = out;
    return 1;
}

static int time_filter(struct fg_call *c, const char *name, int64_t *out)
{
    const char *v = fg_call_query(c, name);
    char text[64];
    if (v == NULL)
        return 1;
    return query_value(v, text, sizeof text) &&
           fg_time_parse_rfc3339(text, strlen(text), out) == FG_OK && *out > 0;
}

static void events_search(struct fg_call *c)
{
    struct search_job *job = calloc(1, sizeof *job);
    if (job == NULL || (job->list = json_array()) == NULL) {
        free(job);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->store = fg_call_app(c)->store;
    struct fg_event_query *q = &job->q;
    const char *bad = NULL, *msg = NULL;
    if (!text_filter(c, "name", job->type, sizeof job->type, &q->type))
        bad = "name", msg = "name is an event name ([a-z0-9_.-], at most 48)";
    else if (!text_filter(c, "user", job->user, sizeof job->user, &q->user))
        bad = "user", msg = "user is an id (printable, at most 128)";
    else if (!text_filter(c, "ip", job->ip, sizeof job->ip, &q->ip))
        bad = "ip", msg = "ip is an address (at most 45)";
    else if (!text_filter(c, "account", job->account, sizeof job->account, &q->account))
        bad = "account", msg = "account is an id (printable, at most 128)";
    else if (!text_filter(c, "customer", job->customer, sizeof job->customer, &q->customer))
        bad = "customer", msg = "customer is an id (printable, at most 128)";
    else if (!time_filter(c, "since", &q->since_ms))
        bad = "since", msg = "since is an RFC 3339 UTC time (2026-03-02T10:00:00Z)";
    else if (!time_filter(c, "until", &q->until_ms))
        bad = "until", msg = "until is an RFC 3339 UTC time (2026-03-02T10:00:00Z)";
    if (bad == NULL) {
        const char *after = fg_call_query(c, "after"), *limit = fg_call_query(c, "limit");
        int64_t a = after != NULL ? fg_query_uint(after, INT64_MAX - 1) : 0;
        int64_t l = limit != NULL ? fg_query_uint(limit, FG_EVENT_QUERY_MAX) : EVENTS_PAGE_DEFAULT;
        if (a < 0)
            bad = "after", msg = "after is an event seq (next_after)";
        else if (l < 1)
            bad = "limit", msg = "limit is 1-500";
        q->after_seq = a;
        q->limit = (unsigned)(l > 0 ? l : 1);
    }
    if (bad != NULL) {
        json_decref(job->list);
        free(job);
        fg_reply_error(c, 400, "invalid_argument", msg, bad);
        return;
    }
    if (fg_call_defer(c, search_work, job, search_done) != FG_OK) {
        json_decref(job->list);
        free(job);
    }
}

fg_rc fg_routes_events(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    const struct fg_route routes[] = {
        {.method = "POST",
         .pattern = "/v1/events",
         .permission = "events.ingest",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = events_ingest,
         .body_max = EVENTS_INTAKE_BODY_MAX},
        {.method = "GET",
         .pattern = "/v1/events",
         .permission = "events.read",
         .fn = events_search},
    };
    fg_rc rc = FG_OK;
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    return rc;
}
