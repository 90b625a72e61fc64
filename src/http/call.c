/*
 * call.c — one HTTP request from h2o's handler callback to the response.
 *
 * fg_http_on_req() runs on the loop thread: it stamps a request id, checks the header
 * budget, routes (404 / 405 + Allow), authorizes against the route's declared
 * permission, enforces the JSON body rules (415, 413, 400), and calls the handler. Every
 * answer goes through send_response(), which adds the headers every response carries
 * (X-Request-Id, Cache-Control: no-store, nosniff, a JSON content type) and records
 * metrics.
 *
 * Hand-offs: a job (malloc'd, so it may outlive the request) is tied to the request's
 * memory pool by a small "slot" allocated with h2o_mem_alloc_shared(); if the client
 * goes away, h2o disposes the pool and the dispose callback clears job->call. The worker
 * or the writer posts the finished job back through the loop's multithread queue;
 * fg_http_on_done() runs the completion on the loop thread with call or NULL. Both the
 * dispose callback and the completion run on the loop thread, so no lock is needed.
 *
 * Refusals of the authentication layer are audited ("access.denied") and, for the monitor
 * (MON-1, AUTH-7; docs/events.md), carry an event in the same intent: auth.bad_signature,
 * auth.replay, session.device_mismatch (a live token from another device — refused like
 * any bad token, but recorded), access.denied (403 permission_denied, also a handler's own
 * object-level refusal through fg_call_deny).
 */
#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "event/event.h"
#include "http/internal.h"
#include "iam/iam.h"
#include "monitor/monitor.h"
#include "sys/sys.h"

struct fg_call {
    h2o_req_t *req;
    struct fg_loop *loop;
    const struct fg_route *route;
    size_t route_index;
    struct fg_router_params params;
    json_t *body;
    uint64_t start_ns;
    int answered;
    int deferred;
    int authenticated;
    struct fg_session session; /* valid when authenticated */
    char request_id[32];
    const char *peer_; /* fg_call_peer, computed once (request pool) */
};

/* ---- accessors ------------------------------------------------------------------------- */

struct fg_app *fg_call_app(struct fg_call *c)
{
    return c->loop->srv->app;
}

const struct fg_route *fg_call_route(struct fg_call *c)
{
    return c->route;
}

const char *fg_call_request_id(struct fg_call *c)
{
    return c->request_id;
}

static void wipe_json(json_t *v, unsigned depth)
{
    if (v == NULL || depth > FG_JSON_DEPTH_MAX)
        return;
    if (json_is_string(v)) {
        /* jansson owns the bytes; overwriting them in place (same length) is safe */
        fg_wipe((char *)json_string_value(v), json_string_length(v));
    } else if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            wipe_json(child, depth + 1);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            wipe_json(child, depth + 1);
        }
    }
}

void fg_call_wipe_body(struct fg_call *c)
{
    if (c->req->entity.base != NULL)
        fg_wipe((void *)c->req->entity.base, c->req->entity.len);
    wipe_json(c->body, 0);
}

int fg_call_answered(struct fg_call *c)
{
    return c->answered;
}

void *fg_call_alloc(struct fg_call *c, size_t n)
{
    return h2o_mem_alloc_pool(&c->req->pool, n);
}

static char *pool_strndup(struct fg_call *c, const char *p, size_t n)
{
    char *s = fg_call_alloc(c, n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

const char *fg_call_param(struct fg_call *c, int i)
{
    if (i < 0 || i >= c->params.count)
        return NULL;
    return pool_strndup(c, c->params.v[i].p, c->params.v[i].n);
}

json_t *fg_call_body(struct fg_call *c)
{
    return c->body;
}

const char *fg_call_query(struct fg_call *c, const char *name)
{
    h2o_req_t *req = c->req;
    if (req->query_at == SIZE_MAX)
        return NULL;
    const char *p = req->path.base + req->query_at + 1;
    const char *end = req->path.base + req->path.len;
    size_t name_len = strlen(name);
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *item_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(item_end - p));
        const char *key_end = eq ? eq : item_end;
        if ((size_t)(key_end - p) == name_len && memcmp(p, name, name_len) == 0) {
            const char *v = eq ? eq + 1 : item_end;
            return pool_strndup(c, v, (size_t)(item_end - v));
        }
        p = item_end + 1;
    }
    return NULL;
}

const char *fg_call_header(struct fg_call *c, const char *lowercase_name)
{
    ssize_t i =
        h2o_find_header_by_str(&c->req->headers, lowercase_name, strlen(lowercase_name), -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = c->req->headers.entries[i].value;
    return pool_strndup(c, v.base, v.len);
}

/* The client address behind trusted proxies (server.trusted_proxies): the last address of
 * X-Forwarded-For that is not itself a proxy. NULL when the header gives none. */
static const char *forwarded_client(struct fg_call *c, const struct fg_net_list *proxies)
{
    const char *xff = fg_call_header(c, "x-forwarded-for");
    if (xff == NULL)
        return NULL;
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && xff[a] == ' ')
            a++;
        while (b > a && xff[b - 1] == ' ')
            b--;
        uint8_t addr[16];
        if (fg_net_addr_parse(xff + a, b - a, addr) != FG_OK)
            return NULL; /* garbage in the chain: believe nothing left of it */
        char *text = fg_call_alloc(c, b - a + 1);
        memcpy(text, xff + a, b - a);
        text[b - a] = '\0';
        if (!fg_net_list_has(proxies, text))
            return text;
        end = start > 0 ? start - 1 : 0;
    }
    return NULL;
}

const char *fg_call_peer(struct fg_call *c)
{
    if (c->peer_ != NULL)
        return c->peer_;
    struct sockaddr_storage ss;
    socklen_t len = c->req->conn->callbacks->get_peername(c->req->conn, (struct sockaddr *)&ss);
    char *buf = fg_call_alloc(c, INET6_ADDRSTRLEN);
    buf[0] = '\0';
    if (len == 0)
        return buf;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, INET6_ADDRSTRLEN);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, INET6_ADDRSTRLEN);
    const struct fg_net_list *proxies = &c->loop->srv->proxies;
    if (proxies->n > 0 && fg_net_list_has(proxies, buf)) {
        const char *client = forwarded_client(c, proxies);
        if (client != NULL && strlen(client) < INET6_ADDRSTRLEN)
            buf = (char *)client;
    }
    c->peer_ = buf;
    return buf;
}

const struct fg_session *fg_call_session(struct fg_call *c)
{
    return c->authenticated ? &c->session : NULL;
}

/* The first role of the mask, for the record's actor_role ("none" if no roles data). */
static const char *primary_role(struct fg_call *c)
{
    struct fg_iam *iam = c->loop->srv->app->iam;
    if (iam == NULL)
        return "none";
    for (int id = 0; id < fg_roles_role_count(iam->roles); id++)
        if (c->session.role_mask & (1u << id))
            return fg_roles_role_name(iam->roles, id);
    return "none";
}

void fg_call_actor(struct fg_call *c, struct fg_audit_actor *out)
{
    const char *device = fg_call_header(c, "x-device-id");
    *out = (struct fg_audit_actor){
        .request_id = c->request_id,
        .actor_id = c->authenticated ? c->session.user_id : "anonymous",
        .actor_role = c->authenticated ? primary_role(c) : "none",
        .source_ip = fg_call_peer(c),
        .device_id = device && strlen(device) <= FG_AUDIT_DEVICE_ID_MAX ? device : ""};
}

/* ---- responses ------------------------------------------------------------------------- */

void fg_call_add_header(struct fg_call *c, const char *name, const char *value)
{
    h2o_add_header_by_str(&c->req->pool, &c->req->res.headers, name, strlen(name), 0, NULL, value,
                          strlen(value));
}

static void send_response(struct fg_call *c, int status, const char *content_type, const char *body,
                          size_t len)
{
    assert(!c->answered);
    h2o_req_t *req = c->req;
    c->answered = 1;
    req->res.status = status;
    req->res.reason = "";
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                   strlen(content_type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
                          c->request_id, strlen(c->request_id));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0,
                          NULL, H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-frame-options"), 0, NULL,
                          H2O_STRLIT("DENY"));
    if (c->loop->srv->cfg->server_tls)
        h2o_add_header_by_str(&req->pool, &req->res.headers,
                              H2O_STRLIT("strict-transport-security"), 0, NULL,
                              H2O_STRLIT("max-age=31536000"));
    uint64_t dur = fg_time_mono_ns() - c->start_ns;
    char method[8] = "other";
    if (req->method.len < sizeof method) {
        memcpy(method, req->method.base, req->method.len);
        method[req->method.len] = '\0';
    }
    fg_metrics_record(c->loop->srv->metrics, c->route ? c->route_index : FG_METRICS_ROUTE_NONE,
                      c->route ? c->route->method : method, status, dur);
    if (status >= 500)
        fg_log(FG_LOG_WARN, "http.server_error", FG_LF_STR("request_id", c->request_id),
               FG_LF_STR("route", c->route ? c->route->name : "none"), FG_LF_INT("status", status));
    else if (fg_log_get_level() == FG_LOG_DEBUG)
        fg_log(FG_LOG_DEBUG, "http.request", FG_LF_STR("request_id", c->request_id),
               FG_LF_STR("route", c->route ? c->route->name : "none"), FG_LF_INT("status", status),
               FG_LF_INT("duration_us", dur / 1000));
    h2o_send_inline(req, body, len);
}

void fg_reply_text(struct fg_call *c, int status, const char *content_type, const char *text,
                   size_t len)
{
    send_response(c, status, content_type, text, len);
}

void fg_reply_json(struct fg_call *c, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) {
        fg_reply_error(c, 500, "internal", "internal error", NULL);
        return;
    }
    send_response(c, status, "application/json", text, strlen(text));
    free(text);
}

void fg_reply_error(struct fg_call *c, int status, const char *code, const char *message,
                    const char *field)
{
    json_t *err = json_object();
    json_object_set_new(err, "code", json_string(code));
    json_object_set_new(err, "message", json_string(message));
    if (field != NULL)
        json_object_set_new(err, "field", json_string(field));
    json_t *doc = json_object();
    json_object_set_new(doc, "error", err);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text == NULL) { /* out of memory: a fixed body still keeps the shape */
        static const char fallback[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}";
        send_response(c, 500, "application/json", fallback, sizeof fallback - 1);
        return;
    }
    send_response(c, status, "application/json", text, strlen(text));
    free(text);
}

int fg_http_status_of(fg_rc rc, const char **code)
{
    switch (rc) {
    case FG_OK:
        *code = "ok";
        return 200;
    case FG_ERR_INVALID:
    case FG_ERR_LIMIT:
    case FG_ERR_UNSUPPORTED:
        *code = "invalid_argument";
        return 400;
    case FG_ERR_UNAUTHENTICATED:
        *code = "unauthenticated";
        return 401;
    case FG_ERR_PERMISSION:
        *code = "permission_denied";
        return 403;
    case FG_ERR_NOT_FOUND:
        *code = "not_found";
        return 404;
    case FG_ERR_CONFLICT:
        *code = "conflict";
        return 409;
    case FG_ERR_TOO_LARGE:
        *code = "payload_too_large";
        return 413;
    case FG_ERR_POLICY:
        *code = "policy_violation";
        return 422;
    case FG_ERR_LOCKED:
        *code = "locked";
        return 423;
    case FG_ERR_RATE_LIMITED:
        *code = "rate_limited";
        return 429;
    case FG_ERR_SEALED:
        *code = "sealed";
        return 503;
    case FG_ERR_BUSY:
    case FG_ERR_SHUTDOWN:
    case FG_ERR_TIMEOUT:
    case FG_ERR_DISK_FULL:
        *code = "unavailable";
        return 503;
    default:
        *code = "internal";
        return 500;
    }
}

void fg_reply_rc(struct fg_call *c, fg_rc rc, const char *field)
{
    const char *code;
    int status = fg_http_status_of(rc, &code);
    if (status == 503 && rc != FG_ERR_SEALED)
        fg_call_add_header(c, "retry-after", "1");
    if (status >= 500 && rc != FG_ERR_SEALED)
        fg_log(FG_LOG_ERROR, "http.failure", FG_LF_STR("request_id", c->request_id),
               FG_LF_STR("rc", fg_rc_name(rc)));
    fg_reply_error(c, status, code, fg_rc_str(rc), field);
}

void fg_reply_json_error(struct fg_call *c, const struct fg_json_error *err)
{
    fg_reply_error(c, 400, "invalid_argument", err->message, err->field);
}

/* ---- hand-offs ------------------------------------------------------------------------- */

static void on_req_dispose(void *p)
{
    struct fg_job **slot = p;
    if (*slot != NULL) {
        (*slot)->call = NULL;
        (*slot)->slot = NULL;
    }
}

static struct fg_job *job_new(struct fg_call *c, fg_call_done_fn done, void *arg)
{
    struct fg_server *s = c->loop->srv;
    if (c->loop->exiting || atomic_load(&s->inflight_total) >= s->inflight_max)
        return NULL;
    struct fg_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return NULL;
    job->loop = c->loop;
    job->call = c;
    job->done = done;
    job->arg = arg;
    job->slot = h2o_mem_alloc_shared(&c->req->pool, sizeof *job->slot, on_req_dispose);
    *job->slot = job;
    return job;
}

static void job_started(struct fg_job *job)
{
    struct fg_server *s = job->loop->srv;
    job->call->deferred = 1;
    job->loop->inflight++;
    atomic_fetch_add(&s->inflight_total, 1);
    fg_metrics_inflight_add(s->metrics, 1);
}

static void job_abandon(struct fg_job *job)
{
    if (job->slot)
        *job->slot = NULL;
    free(job);
}

static void post_back(struct fg_job *job)
{
    h2o_multithread_send_message(&job->loop->done_receiver, &job->msg);
}

static void writer_done(struct fg_intent *intent)
{
    struct fg_job *job = intent->done_ctx;
    job->rc = intent->rc;
    post_back(job);
}

static void pool_run(struct fg_pool_job *pj)
{
    struct fg_job *job = H2O_STRUCT_FROM_MEMBER(struct fg_job, pool_job, pj);
    job->rc = job->work(job->arg);
    post_back(job);
}

static fg_rc busy(struct fg_call *c, fg_rc rc)
{
    fg_reply_rc(c, rc == FG_ERR_SHUTDOWN ? FG_ERR_SHUTDOWN : FG_ERR_BUSY, NULL);
    return FG_ERR_BUSY;
}

fg_rc fg_call_write(struct fg_call *c, fg_intent_fn fn, void *arg, fg_call_done_fn done)
{
    return fg_call_write_record(c, fn, arg, NULL, done);
}

size_t fg_call_inflight_total(struct fg_call *c)
{
    return atomic_load(&c->loop->srv->inflight_total);
}

const _Atomic size_t *fg_call_inflight_counter(struct fg_call *c)
{
    return &c->loop->srv->inflight_total;
}

fg_rc fg_call_write_record(struct fg_call *c, fg_intent_fn fn, void *arg, void *record,
                           fg_call_done_fn done)
{
    /* once sealing has begun no audited change may start: its record could not be MAC'd */
    struct fg_sys *sys = c->loop->srv->app->sys;
    if (record != NULL && sys != NULL && !fg_sys_audit_ready(sys)) {
        fg_reply_error(c, 503, "sealed", "keys are sealed; unseal with the threshold of shares",
                       NULL);
        return FG_ERR_SEALED;
    }
    assert(c != NULL && fn != NULL && done != NULL && !c->answered);
    struct fg_job *job = job_new(c, done, arg);
    if (job == NULL)
        return busy(c, FG_ERR_BUSY);
    job->intent.fn = fn;
    job->intent.arg = arg;
    job->intent.done = writer_done;
    job->intent.done_ctx = job;
    job->intent.record = record;
    fg_rc rc = fg_store_submit(fg_call_app(c)->store, &job->intent);
    if (rc) {
        job_abandon(job);
        return busy(c, rc);
    }
    job_started(job);
    return FG_OK;
}

static fg_rc defer_on(struct fg_call *c, struct fg_pool *pool, fg_work_fn fn, void *arg,
                      fg_call_done_fn done, int full_is_rate_limit)
{
    assert(c != NULL && fn != NULL && done != NULL && !c->answered);
    struct fg_job *job = job_new(c, done, arg);
    if (job == NULL)
        return busy(c, FG_ERR_BUSY);
    job->work = fn;
    job->pool_job.run = pool_run;
    fg_rc rc = fg_pool_submit(pool, &job->pool_job);
    if (rc) {
        job_abandon(job);
        if (rc == FG_ERR_BUSY && full_is_rate_limit) {
            fg_call_add_header(c, "retry-after", "1");
            fg_reply_error(c, 429, "rate_limited", "too many requests; try again later", NULL);
            return FG_ERR_BUSY;
        }
        return busy(c, rc);
    }
    job_started(job);
    return FG_OK;
}

fg_rc fg_call_defer(struct fg_call *c, fg_work_fn fn, void *arg, fg_call_done_fn done)
{
    return defer_on(c, c->loop->srv->workers, fn, arg, done, 0);
}

fg_rc fg_call_defer_on(struct fg_call *c, struct fg_pool *pool, fg_work_fn fn, void *arg,
                       fg_call_done_fn done)
{
    return defer_on(c, pool, fn, arg, done, 1);
}

void fg_http_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct fg_loop *l = H2O_STRUCT_FROM_MEMBER(struct fg_loop, done_receiver, receiver);
    struct fg_server *s = l->srv;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        struct fg_job *job = H2O_STRUCT_FROM_MEMBER(struct fg_job, msg, msg);
        assert(job->loop == l);
        if (job->slot)
            *job->slot = NULL;
        struct fg_call *c = job->call;
        l->inflight--;
        atomic_fetch_sub(&s->inflight_total, 1);
        fg_metrics_inflight_add(s->metrics, -1);
        if (c != NULL)
            c->deferred = 0;
        job->done(c, job->arg, job->rc);
        if (c != NULL && !c->answered && !c->deferred) {
            fg_log(FG_LOG_ERROR, "http.unanswered", FG_LF_STR("request_id", c->request_id));
            fg_reply_error(c, 500, "internal", "internal error", NULL);
        }
        free(job);
    }
}

/* ---- the request path ------------------------------------------------------------------ */

static int authorize(struct fg_call *c, const char *permission)
{
    if (strcmp(permission, FG_PERM_PUBLIC) == 0)
        return 1;
    const struct fg_config *cfg = c->loop->srv->cfg;
    if (strcmp(permission, "metrics") == 0) {
        if (cfg->server_metrics_token[0] == '\0')
            return 1; /* open; the listener is loopback or metrics were configured so */
        const char *auth = fg_call_header(c, "authorization");
        size_t want = strlen(cfg->server_metrics_token);
        if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) != want)
            return 0;
        return CRYPTO_memcmp(auth + 7, cfg->server_metrics_token, want) == 0;
    }
    if (strcmp(permission, "diag") == 0)
        return cfg->diag_write_probe; /* registered only on loopback with the probe on */
    return -1; /* a role permission: the identity layer decides (authenticate) */
}

/* ---- authentication and authorization ------------------------------------------------ */

/* Bytes of a denial event's attributes. */
#define DENIAL_ATTRS_MAX 320u

struct denial {
    struct fg_audit_record record;
    int status;
    const char *code;
    const char *message;
    const char *event; /* static event type, or NULL for none */
    char object_type[FG_EVENT_OBJECT_TYPE_MAX + 1];
    char object_id[FG_EVENT_OBJECT_ID_MAX + 1];
    char attrs[DENIAL_ATTRS_MAX];
};

/* The refusal's event rides in the intent that carries its record. */
static fg_rc denial_intent(fg_conn *conn, void *arg)
{
    struct denial *d = arg;
    if (d->event == NULL)
        return FG_OK;
    struct fg_event e = fg_event_of_record(&d->record, d->event, d->object_type, d->object_id);
    e.attrs_json = d->attrs;
    return fg_event_emit(conn, &e, fg_time_wall_ms());
}

static void denial_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct denial *d = arg;
    if (rc)
        fg_log(FG_LOG_ERROR, "http.denial_audit_failed", FG_LF_STR("rc", fg_rc_name(rc)));
    if (c != NULL)
        fg_reply_error(c, d->status, d->code, d->message, NULL);
    free(d);
}

/* Refuse, with a "denied" audit record committed first (AUD-1: refusals are recorded).
 * code and message must be static strings. */
/* What a refusal tells the monitor: an event type (static) and its attributes beyond the
 * subject user ("why" for a replay). */
struct deny_event {
    const char *type;
    const char *why; /* static or NULL */
};

static void deny_object(struct fg_call *c, int status, const char *code, const char *message,
                        fg_rc why, const char *object_type, const char *object_id,
                        const struct deny_event *ev);

void fg_call_deny(struct fg_call *c, int status, const char *code, const char *message, fg_rc why,
                  const char *object_type, const char *object_id)
{
    deny_object(c, status, code, message, why, object_type, object_id, NULL);
}

static void deny(struct fg_call *c, int status, const char *code, const char *message, fg_rc why)
{
    deny_object(c, status, code, message, why, NULL, NULL, NULL);
}

static void deny_with_event(struct fg_call *c, int status, const char *code, const char *message,
                            fg_rc why, const char *type, const char *event_why)
{
    const struct deny_event ev = {type, event_why};
    deny_object(c, status, code, message, why, NULL, NULL, &ev);
}

/* The denial's event: the given one, or access.denied for a 403 permission_denied. */
static void denial_event(struct fg_call *c, struct denial *d, const struct deny_event *ev,
                         const char *object_type, const char *object_id)
{
    const char *type = ev != NULL ? ev->type : NULL;
    if (type == NULL && strcmp(d->code, "permission_denied") == 0)
        type = "access.denied";
    if (type == NULL)
        return;
    const char *user = c->session.user_id; /* "" when the token named nobody */
    json_t *a = json_object();
    if (a == NULL)
        return;
    if (user[0] != '\0')
        json_object_set_new(a, "user", json_string(user));
    if (strcmp(type, "access.denied") == 0) {
        json_object_set_new(a, "permission", json_string(c->route ? c->route->permission : ""));
        json_object_set_new(a, "route", json_string(c->route ? c->route->name : ""));
    }
    if (ev != NULL && ev->why != NULL)
        json_object_set_new(a, "why", json_string(ev->why));
    size_t n = json_dumpb(a, d->attrs, sizeof d->attrs - 1, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(a);
    if (n == 0 || n >= sizeof d->attrs)
        return; /* the record still commits; the event would not fit */
    d->attrs[n] = '\0';
    if (object_type != NULL && object_id != NULL) {
        snprintf(d->object_type, sizeof d->object_type, "%s",
                 fg_event_token(object_type, FG_EVENT_OBJECT_TYPE_MAX));
        snprintf(d->object_id, sizeof d->object_id, "%s",
                 fg_event_token(object_id, FG_EVENT_OBJECT_ID_MAX));
    } else if (user[0] != '\0') {
        snprintf(d->object_type, sizeof d->object_type, "user");
        snprintf(d->object_id, sizeof d->object_id, "%s", user);
    }
    d->event = type;
}

static void deny_object(struct fg_call *c, int status, const char *code, const char *message,
                        fg_rc why, const char *object_type, const char *object_id,
                        const struct deny_event *ev)
{
    struct denial *d = calloc(1, sizeof *d);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    int named = object_type != NULL && object_id != NULL;
    if (d == NULL ||
        fg_audit_record_init(&d->record, &who, "access.denied", named ? object_type : "route",
                             named ? object_id : (c->route ? c->route->name : "")) != FG_OK) {
        free(d);
        fg_reply_error(c, status, code, message, NULL);
        return;
    }
    char details[192];
    int n = snprintf(details, sizeof details, "{\"permission\":\"%s\",\"reason\":\"%s\"}",
                     c->route ? c->route->permission : "", message);
    if (n > 0 && (size_t)n < sizeof details &&
        fg_audit_record_details(&d->record, details, (size_t)n) != FG_OK)
        fg_log(FG_LOG_WARN, "http.denial_details_dropped");
    fg_audit_record_result(&d->record, FG_AUDIT_RESULT_DENIED, why);
    d->status = status;
    d->code = code;
    d->message = message;
    denial_event(c, d, ev, named ? object_type : NULL, named ? object_id : NULL);
    if (fg_call_write_record(c, denial_intent, d, &d->record, denial_done) != FG_OK)
        free(d); /* already answered 503 */
}

static int method_changes_state(const h2o_req_t *req)
{
    return !(h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
             h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")));
}

/* Verify X-Signature and remember X-Nonce (API.md anti-replay). 1 if fine, else answered. */
static int check_signature(struct fg_call *c, struct fg_iam *iam, const uint8_t *key)
{
    h2o_req_t *req = c->req;
    const char *nonce = fg_call_header(c, "x-nonce");
    const char *ts_text = fg_call_header(c, "x-timestamp");
    const char *sig = fg_call_header(c, "x-signature");
    char method[16];
    int64_t ts = 0;
    char *target = fg_call_alloc(c, req->path.len + 1);
    memcpy(target, req->path.base, req->path.len);
    target[req->path.len] = '\0';
    int well_formed = req->method.len < sizeof method && nonce != NULL && ts_text != NULL &&
                      sig != NULL && fg_replay_parse_timestamp(ts_text, &ts) == FG_OK &&
                      strlen(nonce) <= FG_REPLAY_NONCE_TEXT_MAX;
    if (well_formed) {
        memcpy(method, req->method.base, req->method.len);
        method[req->method.len] = '\0';
    }
    if (!well_formed || fg_request_verify(key, FG_SESSION_KEY_BYTES, method, target, ts_text, nonce,
                                          req->entity.base, req->entity.len, sig) != FG_OK) {
        fg_log(FG_LOG_WARN, "iam.bad_signature", FG_LF_STR("request_id", c->request_id),
               FG_LF_STR("user", c->session.user_id), FG_LF_STR("source_ip", fg_call_peer(c)));
        deny_with_event(c, 401, "unauthenticated", "missing or invalid request signature",
                        FG_ERR_UNAUTHENTICATED, "auth.bad_signature", NULL);
        return 0;
    }
    const char *why = NULL;
    fg_rc rc = fg_replay_check(iam->replay, nonce, ts, fg_time_wall_s(), &why);
    if (rc == FG_ERR_BUSY) {
        fg_reply_rc(c, FG_ERR_BUSY, NULL);
        return 0;
    }
    if (rc) {
        fg_log(FG_LOG_WARN, "iam.replay_refused", FG_LF_STR("request_id", c->request_id),
               FG_LF_STR("user", c->session.user_id), FG_LF_STR("why", why));
        deny_with_event(c, 401, "unauthenticated", why, FG_ERR_UNAUTHENTICATED, "auth.replay", why);
        return 0;
    }
    return 1;
}

/* Session, device, signature, password/MFA gates, then the route's permission. 1 if the
 * call may proceed; otherwise it has been answered. */
static int authenticate(struct fg_call *c, const char *permission)
{
    struct fg_iam *iam = c->loop->srv->app->iam;
    const char *auth = fg_call_header(c, "authorization");
    const char *device = fg_call_header(c, "x-device-id");
    if (iam == NULL || auth == NULL || strncmp(auth, "Bearer ", 7) != 0 || device == NULL) {
        fg_reply_error(c, 401, "unauthenticated", "authentication required", NULL);
        return 0;
    }
    uint8_t key[FG_SESSION_KEY_BYTES];
    int mismatch = 0;
    const char *why = NULL;
    fg_rc rc = fg_sessions_lookup(iam->sessions, auth + 7, device, fg_time_wall_ms(), &c->session,
                                  key, &mismatch, &why);
    if (rc) {
        fg_wipe(key, sizeof key);
        if (mismatch) { /* a token presented from another device: recorded, same answer */
            fg_log(FG_LOG_WARN, "iam.session_device_mismatch",
                   FG_LF_STR("request_id", c->request_id), FG_LF_STR("source_ip", fg_call_peer(c)));
            deny_with_event(c, 401, "unauthenticated", "authentication required",
                            FG_ERR_UNAUTHENTICATED, "session.device_mismatch", NULL);
            return 0;
        }
        memset(&c->session, 0, sizeof c->session);
        fg_reply_error(c, 401, "unauthenticated", "authentication required", NULL);
        return 0;
    }
    c->authenticated = 1;
    int ok = !method_changes_state(c->req) || check_signature(c, iam, key);
    fg_wipe(key, sizeof key);
    if (!ok)
        return 0;
    if (c->session.must_change_password && strcmp(permission, "self.password") != 0 &&
        strcmp(permission, "self.session") != 0) {
        deny(c, 403, "password_change_required", "change the one-time password first",
             FG_ERR_PERMISSION);
        return 0;
    }
    /* step 4: a pending second factor (staff roles with mfa: required; customers: TOTP or
     * the delivered login code, iam.h) — only self.* routes, and no password change on the
     * strength of the password alone when the factor is a delivered code */
    if (c->session.mfa_required && !c->session.mfa_done &&
        (strncmp(permission, "self.", 5) != 0 ||
         (c->session.mfa_otp && strcmp(permission, "self.password") == 0))) {
        deny(c, 403, "mfa_required", "complete multi-factor authentication first",
             FG_ERR_PERMISSION);
        return 0;
    }
    if (!fg_roles_has(iam->roles, c->session.role_mask, permission)) {
        deny(c, 403, "permission_denied", "permission denied", FG_ERR_PERMISSION);
        return 0;
    }
    return 1;
}

static size_t header_bytes(const h2o_req_t *req)
{
    size_t total = 0;
    for (size_t i = 0; i < req->headers.size; i++)
        total += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return total;
}

static int content_type_is_json(struct fg_call *c)
{
    ssize_t i = h2o_find_header(&c->req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return 0;
    h2o_iovec_t v = c->req->headers.entries[i].value;
    static const char want[] = "application/json";
    size_t n = sizeof want - 1;
    if (v.len < n || strncasecmp(v.base, want, n) != 0)
        return 0;
    return v.len == n || v.base[n] == ';' || v.base[n] == ' ';
}

static void dispatch(struct fg_call *c)
{
    h2o_req_t *req = c->req;
    struct fg_server *s = c->loop->srv;
    if (header_bytes(req) > FG_HTTP_HEADER_BYTES_MAX) {
        fg_reply_error(c, 431, "header_too_large", "request headers are too large", NULL);
        return;
    }
    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    if (req->path.len > FG_HTTP_PATH_MAX) {
        fg_reply_error(c, 414, "uri_too_long", "request target is too long", NULL);
        return;
    }
    char allow[64];
    const struct fg_route *route = NULL;
    enum fg_router_result m =
        fg_router_match(s->router, req->method.base, req->method.len, req->path.base, path_len,
                        &route, &c->params, allow, sizeof allow);
    if (m == FG_ROUTE_NOT_FOUND) {
        fg_reply_error(c, 404, "not_found", "no such resource", NULL);
        return;
    }
    if (m == FG_ROUTE_BAD_METHOD) {
        fg_call_add_header(c, "allow", allow);
        fg_reply_error(c, 405, "method_not_allowed", "method not allowed for this resource", NULL);
        return;
    }
    c->route = route;
    c->route_index = fg_router_index_of(s->router, route);
    /* an address the monitor blocked (block_ip, MON-3, AUTH-7): nothing but health until
     * the block ends; no audit record per refusal (a flood must not become writes) */
    if (s->app->monitor != NULL && strcmp(route->pattern, "/v1/health") != 0) {
        int64_t wait_ms = fg_monitor_ip_blocked(s->app->monitor, fg_call_peer(c), fg_time_wall_ms());
        if (wait_ms > 0) {
            char retry[24];
            snprintf(retry, sizeof retry, "%lld", (long long)((wait_ms + 999) / 1000));
            fg_call_add_header(c, "retry-after", retry);
            fg_reply_error(c, 429, "rate_limited", "requests from this address are blocked",
                           NULL);
            return;
        }
    }
    if (!(route->flags & FG_ROUTE_UNSEALED) && s->app->sys != NULL && fg_sys_sealed(s->app->sys)) {
        fg_reply_error(c, 503, "sealed", "keys are sealed; unseal with the threshold of shares",
                       NULL);
        return;
    }
    int allowed = authorize(c, route->permission);
    if (allowed == 0) {
        fg_reply_error(c, 401, "unauthenticated", "authentication required", NULL);
        return;
    }
    if (allowed < 0 && !authenticate(c, route->permission))
        return;
    if (route->flags & FG_ROUTE_JSON_BODY) {
        if (!content_type_is_json(c)) {
            fg_reply_error(c, 415, "unsupported_media_type",
                           "Content-Type must be application/json", NULL);
            return;
        }
        size_t body_max = route->body_max != 0 ? route->body_max : s->body_max;
        if (body_max > FG_HTTP_BODY_MAX_CEILING)
            body_max = FG_HTTP_BODY_MAX_CEILING; /* h2o's own ceiling (server.c) */
        if (req->entity.len > body_max) {
            fg_reply_error(c, 413, "payload_too_large", "request body is too large", NULL);
            return;
        }
        struct fg_json_error jerr;
        if (fg_json_parse_body(req->entity.base, req->entity.len, &c->body, &jerr) != FG_OK) {
            fg_reply_json_error(c, &jerr);
            return;
        }
    }
    route->fn(c);
    if (!c->answered && !c->deferred) {
        fg_log(FG_LOG_ERROR, "http.unanswered", FG_LF_STR("request_id", c->request_id),
               FG_LF_STR("route", route->name));
        fg_reply_error(c, 500, "internal", "internal error", NULL);
    }
}

static void on_call_dispose(void *p)
{
    struct fg_call *c = p;
    json_decref(c->body);
    c->body = NULL;
}

int fg_http_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    struct fg_loop *l = (struct fg_loop *)req->conn->ctx; /* ctx is the loop's first member */
    struct fg_call *c = h2o_mem_alloc_shared(&req->pool, sizeof *c, on_call_dispose);
    memset(c, 0, sizeof *c);
    c->req = req;
    c->loop = l;
    c->start_ns = fg_time_mono_ns();
    snprintf(c->request_id, sizeof c->request_id, "%s%02x%010llx", l->srv->id_prefix,
             l->index & 0xffu, (unsigned long long)++l->next_id);
    dispatch(c);
    return 0;
}

int64_t fg_query_uint(const char *v, int64_t max)
{
    if (v == NULL || *v == '\0' || strlen(v) > 19)
        return -1;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    long long n = strtoll(v, NULL, 10);
    return errno == 0 && n <= max ? (int64_t)n : -1;
}
