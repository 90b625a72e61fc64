/*
 * call.h — what a route handler sees: one HTTP call, its inputs, and the ways to answer.
 *
 * A handler runs on an event-loop thread and must never block. It either answers at
 * once (fg_reply_*) or hands work off and returns:
 *   - fg_call_write(): a write intent for the store's single writer (group commit);
 *   - fg_call_defer(): any other waiting work (hashing, slow reads) on the bounded
 *     worker pool.
 * The completion runs back on the same loop thread. If the client went away meanwhile,
 * the completion still runs (so the handler can free its argument) but with call == NULL.
 * Every call is answered exactly once; the server answers 500 (logged) if a handler
 * returns without answering or deferring.
 *
 * Memory: strings handed to fg_reply_* are copied; json_t bodies are stolen (decref'd).
 * fg_call_alloc() memory lives until the call ends.
 */
#ifndef FG_HTTP_CALL_H
#define FG_HTTP_CALL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/rc.h"
#include "http/json.h"
#include "http/router.h"
#include "store/store.h"

struct fg_call;

/* Services the handlers reach. Owned by the server's owner (cli serve). */
struct fg_metrics;
struct fg_sys;
struct fg_iam;
struct fg_outbox;
struct fg_session;
struct fg_fields;
struct fg_limits;
struct fg_app {
    const struct fg_config *cfg;
    fg_store *store;
    struct fg_sys *sys;         /* keys and audit lifecycle (sys/sys.h) */
    struct fg_iam *iam;         /* identity: roles, sessions, login (iam/iam.h) */
    struct fg_outbox *outbox;   /* messages to customers and staff (notify/outbox.h) */
    struct fg_fields *fields;   /* field classification, data/fields.yaml (protect/fields.h) */
    struct fg_limits *limits;   /* tiers and limits, data/limits.yaml (ledger/limits.h) */
    struct fg_metrics *metrics; /* set by the server */
    struct fg_monitor *monitor; /* rules, risk, alerts, responses (monitor/monitor.h); may be NULL */
    struct fg_incidents *incidents; /* incident policy and clocks (incident/incident.h); may be NULL */
};

/* The authenticated session of this call, or NULL (public routes). */
const struct fg_session *fg_call_session(struct fg_call *c);

struct fg_audit_actor;
/* The audit actor of this call (request id, peer address, device id; anonymous until the
 * identity layer names the user). Strings live as long as the call. */
void fg_call_actor(struct fg_call *c, struct fg_audit_actor *out);

struct fg_app *fg_call_app(struct fg_call *c);
const struct fg_route *fg_call_route(struct fg_call *c);
const char *fg_call_request_id(struct fg_call *c);
/* Path parameter i ({id} …) — NUL-terminated copy, or NULL. */
const char *fg_call_param(struct fg_call *c, int i);
/* The parsed JSON body (routes with FG_ROUTE_JSON_BODY), borrowed. */
json_t *fg_call_body(struct fg_call *c);
/* Query parameter value (first occurrence, not decoded), NUL-terminated copy or NULL. */
const char *fg_call_query(struct fg_call *c, const char *name);
/* A query parameter's value as a non-negative decimal (at most 19 digits, no sign, no
 * spaces) no larger than max; -1 for anything else (NULL included). */
int64_t fg_query_uint(const char *v, int64_t max);
/* Request header value (NUL-terminated copy) or NULL. */
const char *fg_call_header(struct fg_call *c, const char *lowercase_name);
/* Peer address as text ("127.0.0.1"). */
const char *fg_call_peer(struct fg_call *c);
/* Overwrite the raw request body and every string of the parsed JSON body with zeros —
 * for bodies that carry secrets (unseal shares, passwords) — so they do not linger in
 * freed memory. */
void fg_call_wipe_body(struct fg_call *c);
/* 1 once the call has been answered. */
int fg_call_answered(struct fg_call *c);
/* Memory that lives as long as the call. */
void *fg_call_alloc(struct fg_call *c, size_t n);

/* ---- answers -------------------------------------------------------------------------- */
void fg_reply_json(struct fg_call *c, int status, json_t *body);
void fg_reply_text(struct fg_call *c, int status, const char *content_type, const char *text,
                   size_t len);
/* The API error shape: {"error":{"code":…,"message":…,"field":…}}. */
void fg_reply_error(struct fg_call *c, int status, const char *code, const char *message,
                    const char *field);
/* Map an fg_rc to the API's status and code (http/status.c); message from fg_rc_str. */
void fg_reply_rc(struct fg_call *c, fg_rc rc, const char *field);
/* 400 invalid_argument from a JSON validation error. */
void fg_reply_json_error(struct fg_call *c, const struct fg_json_error *err);
void fg_call_add_header(struct fg_call *c, const char *name, const char *value);
/* Refuse with the error shape AFTER an `access.denied` audit record (result denied, the
 * route's permission and `message` in its details) has committed — AUD-1: refusals are
 * recorded. For a handler's own object-level refusals (a customer asking for another
 * customer's account): the record names the object asked for (object_type/object_id, e.g.
 * "account", the id from the path; a too-long id is refused by the record, which then names
 * the route); NULL names the route. code and message must be static strings. */
void fg_call_deny(struct fg_call *c, int status, const char *code, const char *message, fg_rc why,
                  const char *object_type, const char *object_id);

/* ---- hand-offs ------------------------------------------------------------------------- */
/* Completion on the loop thread; call == NULL if the client is gone. */
typedef void (*fg_call_done_fn)(struct fg_call *c, void *arg, fg_rc rc);

/* Submit fn(arg) to the writer; done runs on this loop after the batch is final. On a
 * full queue this answers 503 itself and returns FG_ERR_BUSY (done is not called — free
 * arg yourself). */
FG_MUST_CHECK fg_rc fg_call_write(struct fg_call *c, fg_intent_fn fn, void *arg,
                                  fg_call_done_fn done);
/* The same with a record the store's after_intent hook appends in the same transaction
 * (an audit record, audit/audit.h). The record must stay alive until done runs. */
FG_MUST_CHECK fg_rc fg_call_write_record(struct fg_call *c, fg_intent_fn fn, void *arg,
                                         void *record, fg_call_done_fn done);

typedef fg_rc (*fg_work_fn)(void *arg);
/* Run fn(arg) on the worker pool; same contract as fg_call_write. */
FG_MUST_CHECK fg_rc fg_call_defer(struct fg_call *c, fg_work_fn fn, void *arg,
                                  fg_call_done_fn done);

/* The same on a given bounded pool (e.g. the password-hashing pool). A full pool answers
 * 429 rate_limited with Retry-After — a login flood costs bounded memory. */
struct fg_pool;
FG_MUST_CHECK fg_rc fg_call_defer_on(struct fg_call *c, struct fg_pool *pool, fg_work_fn fn,
                                     void *arg, fg_call_done_fn done);

/* Hand-offs in flight across all loops (the seal waits for them to drain): the counter
 * itself, readable from any thread for the server's lifetime. */
size_t fg_call_inflight_total(struct fg_call *c);
const _Atomic size_t *fg_call_inflight_counter(struct fg_call *c);

/* rc → HTTP status and API code. */
int fg_http_status_of(fg_rc rc, const char **code);

#endif
