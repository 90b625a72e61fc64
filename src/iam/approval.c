/*
 * approval.c — four-eyes approvals (see approval.h; schema in migrations/0006_approvals.sql).
 *
 * The registry is a fixed array behind a mutex, filled at start-up; callers get copies. A
 * request normalises its payload (parsed once, written back as compact JSON) and refuses
 * it when the audit redactor would change it, so what is stored and copied into records
 * never needed hiding. A decision loads the row on the writer's connection, runs the
 * checks that change nothing first (so an unauthorised caller cannot even mark a row
 * expired), then writes exactly one conditional UPDATE (`WHERE state = 'pending'`, which
 * together with the schema's triggers makes "decided once" hold even against a bug here).
 * execute() runs inside a nested SAVEPOINT of the approving intent: on a refusal on the
 * merits we roll back to it — the change vanishes — and still commit the failed state and
 * the audit record in the same transaction. Audit details are built with jansson, so every
 * string is escaped and checked for UTF-8 by the same code the redactor uses to read them.
 */
#include "iam/approval.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/encode.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"

#define COLUMNS                                                                                    \
    "id, action, class, payload, requester_id, state, created_ms, expires_ms, decided_by, "        \
    "decided_ms, reason, result, failure, error_code, bootstrap"
#define NCOLUMNS 15
#define OBJECT_TYPE "approval"

_Static_assert(FG_APPROVAL_ACTION_MAX < FG_AUDIT_ACTION_MAX + 1, "action names fit records");
_Static_assert(FG_APPROVAL_ID_LEN == FG_BASE64URL_LEN(FG_APPROVAL_ID_RANDOM_BYTES), "id length");
_Static_assert(FG_APPROVAL_PAYLOAD_MAX + 512u <= FG_AUDIT_DETAILS_MAX, "payload fits details");

/* ---- the registry ------------------------------------------------------------------------ */

struct entry {
    char name[FG_APPROVAL_ACTION_MAX + 1];
    char action_class[FG_APPROVAL_CLASS_MAX + 1];
    struct fg_approval_action a; /* name / action_class point at the arrays above */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry registry[FG_APPROVAL_ACTIONS_MAX];
static unsigned registry_count;

/* A letter, then letters, digits, '_' (and '.' when dots is set); 1..max bytes. */
static int name_valid(const char *s, size_t max, int dots)
{
    if (s == NULL || s[0] < 'a' || s[0] > 'z')
        return 0;
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (dots && c == '.');
        if (!ok || n >= max)
            return 0;
    }
    return 1;
}

/* Caller holds registry_lock. */
static struct entry *registry_find(const char *name)
{
    for (unsigned i = 0; i < registry_count; i++)
        if (strcmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

fg_rc fg_approval_register(const struct fg_approval_action *a)
{
    assert(a != NULL);
    if (!name_valid(a->name, FG_APPROVAL_ACTION_MAX, 1) ||
        !name_valid(a->action_class, FG_APPROVAL_CLASS_MAX, 0) || a->execute == NULL)
        return FG_ERR_INVALID;
    fg_rc rc = FG_OK;
    pthread_mutex_lock(&registry_lock);
    if (registry_find(a->name) != NULL) {
        rc = FG_ERR_CONFLICT;
    } else if (registry_count >= FG_APPROVAL_ACTIONS_MAX) {
        rc = FG_ERR_LIMIT;
    } else {
        struct entry *e = &registry[registry_count++];
        memset(e, 0, sizeof *e);
        memcpy(e->name, a->name, strlen(a->name) + 1);
        memcpy(e->action_class, a->action_class, strlen(a->action_class) + 1);
        e->a = *a;
        e->a.name = e->name;
        e->a.action_class = e->action_class;
    }
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

fg_rc fg_approval_lookup(const char *name, struct fg_approval_action *out)
{
    assert(out != NULL);
    memset(out, 0, sizeof *out);
    if (name == NULL)
        return FG_ERR_NOT_FOUND;
    pthread_mutex_lock(&registry_lock);
    const struct entry *e = registry_find(name);
    if (e != NULL)
        *out = e->a;
    pthread_mutex_unlock(&registry_lock);
    return e != NULL ? FG_OK : FG_ERR_NOT_FOUND;
}

void fg_approval_unregister_all(void)
{
    pthread_mutex_lock(&registry_lock);
    memset(registry, 0, sizeof registry);
    registry_count = 0;
    pthread_mutex_unlock(&registry_lock);
}

/* ---- states and small checks ------------------------------------------------------------- */

static const char *const state_names[] = {NULL,       "pending", "approved",
                                          "rejected", "expired", "failed"};
#define STATE_COUNT (sizeof state_names / sizeof state_names[0])

const char *fg_approval_state_name(enum fg_approval_state state)
{
    return (unsigned)state < STATE_COUNT ? state_names[state] : NULL;
}

fg_rc fg_approval_state_parse(const char *name, enum fg_approval_state *out)
{
    assert(out != NULL);
    *out = FG_APPROVAL_ANY;
    for (unsigned s = FG_APPROVAL_PENDING; name != NULL && s < STATE_COUNT; s++)
        if (strcmp(name, state_names[s]) == 0) {
            *out = (enum fg_approval_state)s;
            return FG_OK;
        }
    return FG_ERR_INVALID;
}

/* Actor ids are opaque printable ASCII without spaces (UUIDs, "u_42"). */
static int actor_valid(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (n >= FG_APPROVAL_ACTOR_ID_MAX || (unsigned char)s[n] < 0x21 ||
            (unsigned char)s[n] > 0x7e)
            return 0;
    return 1;
}

static int id_valid(const char *s)
{
    if (s == NULL || strlen(s) != FG_APPROVAL_ID_LEN)
        return 0;
    for (size_t i = 0; i < FG_APPROVAL_ID_LEN; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Free text: at most FG_APPROVAL_REASON_MAX bytes of UTF-8 without control characters. */
static int reason_valid(const char *s)
{
    size_t n = strlen(s);
    if (n > FG_APPROVAL_REASON_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    json_t *j = json_stringn(s, n); /* NULL for invalid UTF-8 */
    json_decref(j);
    return j != NULL;
}

/* An error of the machine (retry later) rather than a verdict on the action. */
static int rc_is_verdict(fg_rc rc)
{
    switch (rc) {
    case FG_ERR_INVALID:
    case FG_ERR_LIMIT:
    case FG_ERR_NOT_FOUND:
    case FG_ERR_CONFLICT:
    case FG_ERR_PERMISSION:
    case FG_ERR_POLICY:
    case FG_ERR_LOCKED:
    case FG_ERR_TOO_LARGE:
        return 1;
    default:
        return 0;
    }
}

/* ---- JSON objects we store: payloads and results ----------------------------------------- */

/* Parse `in` as one JSON object of at most `max` bytes and write it back compact into
 * out[cap]. FG_ERR_INVALID (with *why) if it is not one, or if the audit redactor would
 * change anything in it: what we store must never need hiding. */
static fg_rc object_normalize(const char *in, size_t max, char *out, size_t cap, const char **why)
{
    assert(in != NULL && out != NULL && cap > 0);
    size_t len = strlen(in);
    if (len > max) {
        *why = "the JSON text is too long";
        return FG_ERR_TOO_LARGE;
    }
    char redacted[FG_AUDIT_DETAILS_MAX + 1];
    size_t rn = 0;
    if (fg_audit_redact(in, len, redacted, sizeof redacted, &rn) != FG_OK) {
        *why = "not one JSON object within the limits";
        return FG_ERR_INVALID;
    }
    json_error_t err;
    json_t *root = json_loadb(in, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL) { /* the redactor parsed it already: only memory can fail here */
        *why = "not one JSON object within the limits";
        return FG_ERR_NOMEM;
    }
    size_t n = json_dumpb(root, out, cap - 1, JSON_COMPACT);
    json_decref(root);
    if (n == 0)
        return FG_ERR_NOMEM;
    if (n > cap - 1 || n > max) {
        *why = "the JSON text is too long";
        return FG_ERR_TOO_LARGE;
    }
    out[n] = '\0';
    if (n != rn || memcmp(out, redacted, n) != 0) {
        *why = "holds a secret-looking field (password, token, key, card or ID number)";
        return FG_ERR_INVALID;
    }
    return FG_OK;
}

/* ---- audit records ----------------------------------------------------------------------- */

/* Keep the caller's action and actor; point the record at this approval. */
static fg_rc record_point(struct fg_audit_record *rec, const char *id)
{
    struct fg_audit_record copy = *rec; /* init clears the fields it reads */
    const struct fg_audit_actor who = {.request_id = copy.request_id,
                                       .actor_id = copy.actor_id,
                                       .actor_role = copy.actor_role,
                                       .source_ip = copy.source_ip,
                                       .device_id = copy.device_id};
    return fg_audit_record_init(rec, &who, copy.action, OBJECT_TYPE, id);
}

static void record_result(struct fg_audit_record *rec, fg_rc rc, int failed)
{
    if (rc == FG_OK)
        fg_audit_record_result(rec, FG_AUDIT_RESULT_OK, FG_OK);
    else if (!failed && (rc == FG_ERR_PERMISSION || rc == FG_ERR_POLICY || rc == FG_ERR_CONFLICT ||
                         rc == FG_ERR_NOT_FOUND))
        fg_audit_record_result(rec, FG_AUDIT_RESULT_DENIED, rc);
    else
        fg_audit_record_result(rec, FG_AUDIT_RESULT_ERROR, rc);
}

static void obj_str(json_t *o, const char *key, const char *value)
{
    if (value != NULL && value[0] != '\0')
        json_object_set_new(o, key, json_string(value)); /* NULL (bad UTF-8) is ignored */
}

/* Details from `o` (consumed). A payload that makes them too long is left out, marked. */
static fg_rc record_details(struct fg_audit_record *rec, json_t *o)
{
    if (o == NULL)
        return FG_ERR_NOMEM;
    char buf[FG_AUDIT_DETAILS_MAX + 1];
    size_t n = json_dumpb(o, buf, FG_AUDIT_DETAILS_MAX, JSON_COMPACT);
    if (n > FG_AUDIT_DETAILS_MAX && json_object_get(o, "payload") != NULL) {
        json_object_del(o, "payload");
        json_object_set_new(o, "payload_omitted", json_true());
        n = json_dumpb(o, buf, FG_AUDIT_DETAILS_MAX, JSON_COMPACT);
    }
    json_decref(o);
    if (n == 0)
        return FG_ERR_NOMEM;
    if (n > FG_AUDIT_DETAILS_MAX)
        return FG_ERR_TOO_LARGE;
    return fg_audit_record_details(rec, buf, n);
}

/* The details every approval record carries. */
static json_t *details_of(const struct fg_approval *ap, int with_payload)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    obj_str(o, "approval_id", ap->id);
    obj_str(o, "action", ap->action);
    obj_str(o, "class", ap->action_class);
    obj_str(o, "requester_id", ap->requester_id);
    if (with_payload) {
        json_t *p = json_loads(ap->payload, JSON_REJECT_DUPLICATES, NULL);
        if (p != NULL)
            json_object_set_new(o, "payload", p);
    }
    return o;
}

/* ---- rows -------------------------------------------------------------------------------- */

/* Copy a TEXT column (NULL → "" when nullable) of at most max bytes without NULs. */
static int text_copy(const struct fg_val *v, char *out, size_t max, int nullable)
{
    out[0] = '\0';
    if (v->type == FG_VAL_NULL)
        return nullable;
    if (v->type != FG_VAL_TEXT || v->n > max || memchr(v->p, '\0', v->n) != NULL)
        return 0;
    memcpy(out, v->p, v->n);
    out[v->n] = '\0';
    return 1;
}

static int state_of(const struct fg_val *v, enum fg_approval_state *out)
{
    char s[16];
    return text_copy(v, s, sizeof s - 1, 0) && fg_approval_state_parse(s, out) == FG_OK;
}

/* Decode one row as stored (state NOT made effective). */
static fg_rc row_decode(const struct fg_val *c, int n, struct fg_approval *ap)
{
    memset(ap, 0, sizeof *ap);
    if (n != NCOLUMNS)
        return FG_ERR_CORRUPT;
    int ok = text_copy(&c[0], ap->id, FG_APPROVAL_ID_LEN, 0) &&
             text_copy(&c[1], ap->action, FG_APPROVAL_ACTION_MAX, 0) &&
             text_copy(&c[2], ap->action_class, FG_APPROVAL_CLASS_MAX, 0) &&
             text_copy(&c[3], ap->payload, FG_APPROVAL_PAYLOAD_MAX, 0) &&
             text_copy(&c[4], ap->requester_id, FG_APPROVAL_ACTOR_ID_MAX, 0) &&
             state_of(&c[5], &ap->state) && c[6].type == FG_VAL_INT && c[7].type == FG_VAL_INT &&
             text_copy(&c[8], ap->decided_by, FG_APPROVAL_ACTOR_ID_MAX, 1) &&
             (c[9].type == FG_VAL_INT || c[9].type == FG_VAL_NULL) &&
             text_copy(&c[10], ap->reason, FG_APPROVAL_REASON_MAX, 1) &&
             text_copy(&c[11], ap->result, FG_APPROVAL_RESULT_MAX, 1) &&
             text_copy(&c[12], ap->failure, FG_APPROVAL_FAILURE_MAX, 1) &&
             text_copy(&c[13], ap->error_code, FG_AUDIT_ERROR_CODE_MAX, 1) &&
             c[14].type == FG_VAL_INT && (c[14].i == 0 || c[14].i == 1);
    if (!ok)
        return FG_ERR_CORRUPT;
    ap->created_ms = c[6].i;
    ap->expires_ms = c[7].i;
    ap->decided_ms = c[9].type == FG_VAL_INT ? c[9].i : 0;
    ap->bootstrap = (int)c[14].i;
    return FG_OK;
}

static void make_effective(struct fg_approval *ap, int64_t now_ms)
{
    if (ap->state == FG_APPROVAL_PENDING && ap->expires_ms <= now_ms)
        ap->state = FG_APPROVAL_EXPIRED;
}

struct one_row {
    struct fg_approval *ap;
    int found;
};

static fg_rc one_row_fn(void *ctx, const struct fg_val *cols, int ncols)
{
    struct one_row *r = ctx;
    if (r->found)
        return FG_ERR_CORRUPT; /* a primary key matched twice */
    r->found = 1;
    return row_decode(cols, ncols, r->ap);
}

/* The row as stored; FG_ERR_NOT_FOUND if none (or the id cannot be one). */
static fg_rc load(fg_conn *conn, const char *id, struct fg_approval *ap)
{
    if (!id_valid(id))
        return FG_ERR_NOT_FOUND;
    struct one_row r = {.ap = ap};
    const struct fg_val p[] = {FG_VSTR(id)};
    fg_rc rc = fg_conn_exec(conn, "SELECT " COLUMNS " FROM approvals WHERE id = ?1", p, 1,
                            one_row_fn, &r, NULL);
    if (rc == FG_OK && !r.found)
        rc = FG_ERR_NOT_FOUND;
    return rc;
}

fg_rc fg_approval_get(fg_conn *conn, const char *id, struct fg_approval *out)
{
    assert(conn != NULL && out != NULL);
    fg_rc rc = load(conn, id, out);
    if (rc == FG_OK)
        make_effective(out, fg_time_wall_ms());
    else
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- requests ---------------------------------------------------------------------------- */

static fg_rc new_id(char out[FG_APPROVAL_ID_SIZE])
{
    uint8_t raw[FG_APPROVAL_ID_RANDOM_BYTES];
    fg_rc rc = fg_random(raw, sizeof raw);
    if (rc == FG_OK)
        rc = fg_base64url_encode(raw, sizeof raw, out, FG_APPROVAL_ID_SIZE);
    return rc;
}

/* Everything a request checks before it writes; fills ap's request part. */
static fg_rc request_check(fg_conn *conn, const char *action, const char *payload,
                           const char *requester_id, int64_t ttl_ms, struct fg_approval *ap,
                           const char **reason)
{
    struct fg_approval_action a;
    if (fg_approval_lookup(action, &a) != FG_OK) {
        *reason = "unknown action";
        return FG_ERR_NOT_FOUND;
    }
    memcpy(ap->action, a.name, strlen(a.name) + 1);
    memcpy(ap->action_class, a.action_class, strlen(a.action_class) + 1);
    if (!actor_valid(requester_id)) {
        *reason = "malformed requester id";
        return FG_ERR_INVALID;
    }
    memcpy(ap->requester_id, requester_id, strlen(requester_id) + 1);
    if (ttl_ms == 0)
        ttl_ms = FG_APPROVAL_TTL_MS_DEFAULT;
    if (ttl_ms < FG_APPROVAL_TTL_MS_MIN || ttl_ms > FG_APPROVAL_TTL_MS_MAX) {
        *reason = "validity outside the allowed range";
        return FG_ERR_INVALID;
    }
    const char *why = NULL;
    fg_rc rc = object_normalize(payload != NULL ? payload : "", FG_APPROVAL_PAYLOAD_MAX,
                                ap->payload, sizeof ap->payload, &why);
    if (rc != FG_OK) {
        *reason = why != NULL ? why : "payload could not be read";
        return rc;
    }
    if (a.validate != NULL) {
        rc = a.validate(conn, ap->payload, a.ctx, reason);
        if (rc != FG_OK && *reason == NULL)
            *reason = "the action refused the payload";
        if (rc != FG_OK)
            return rc;
    }
    ap->created_ms = fg_time_wall_ms();
    ap->expires_ms = ap->created_ms + ttl_ms;
    ap->state = FG_APPROVAL_PENDING;
    return new_id(ap->id);
}

static fg_rc request_insert(fg_conn *conn, const struct fg_approval *ap)
{
    const struct fg_val p[] = {FG_VSTR(ap->id),           FG_VSTR(ap->action),
                               FG_VSTR(ap->action_class), FG_VSTR(ap->payload),
                               FG_VSTR(ap->requester_id), FG_VINT(ap->created_ms),
                               FG_VINT(ap->expires_ms)};
    return fg_conn_exec(conn,
                        "INSERT INTO approvals (id, action, class, payload, requester_id, "
                        "state, created_ms, expires_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
                        p, 7, NULL, NULL, NULL);
}

fg_rc fg_approval_request(fg_conn *conn, const char *action, const char *payload,
                          const char *requester_id, int64_t ttl_ms,
                          char id_out[FG_APPROVAL_ID_SIZE], struct fg_audit_record *rec,
                          const char **reason)
{
    assert(conn != NULL && id_out != NULL);
    const char *why = NULL;
    struct fg_approval ap;
    memset(&ap, 0, sizeof ap);
    id_out[0] = '\0';
    fg_rc rc = request_check(conn, action, payload, requester_id, ttl_ms, &ap, &why);
    if (rc == FG_OK)
        rc = request_insert(conn, &ap);
    if (rc == FG_OK)
        memcpy(id_out, ap.id, FG_APPROVAL_ID_SIZE);
    else if (why == NULL)
        why = "the request could not be stored";
    if (rec != NULL) {
        fg_rc arc = rc == FG_OK ? record_point(rec, ap.id) : FG_OK;
        json_t *o = details_of(&ap, rc == FG_OK);
        if (o != NULL && rc == FG_OK)
            json_object_set_new(o, "expires_ms", json_integer(ap.expires_ms));
        if (o != NULL && why != NULL)
            obj_str(o, "reason", why);
        if (arc == FG_OK)
            arc = record_details(rec, o);
        else
            json_decref(o);
        record_result(rec, rc, 0);
        if (rc == FG_OK && arc != FG_OK)
            rc = arc; /* the request must not commit without its record */
    }
    if (reason != NULL)
        *reason = why;
    assert(rc != FG_OK || id_valid(id_out));
    return rc;
}

/* ---- bootstrap --------------------------------------------------------------------------- */

static fg_rc count_row(void *ctx, const struct fg_val *cols, int ncols)
{
    int64_t *n = ctx;
    if (ncols != 1 || cols[0].type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    *n = cols[0].i;
    return FG_OK;
}

fg_rc fg_approval_bootstrap_closed(fg_conn *conn, int *closed)
{
    assert(conn != NULL && closed != NULL);
    int64_t n = 0;
    fg_rc rc = fg_conn_exec(conn, "SELECT count(*) FROM approvals_bootstrap", NULL, 0, count_row,
                            &n, NULL);
    *closed = rc == FG_OK && n > 0;
    return rc;
}

fg_rc fg_approval_bootstrap_close(fg_conn *conn, unsigned approvers_now, int *closed_now)
{
    assert(conn != NULL);
    if (closed_now != NULL)
        *closed_now = 0;
    if (approvers_now < FG_APPROVAL_BOOTSTRAP_APPROVERS)
        return FG_OK;
    int64_t changes = 0;
    const struct fg_val p[] = {FG_VINT(fg_time_wall_ms())};
    fg_rc rc = fg_conn_exec(conn,
                            "INSERT INTO approvals_bootstrap (id, closed_ms) VALUES (1, ?1) "
                            "ON CONFLICT (id) DO NOTHING",
                            p, 1, NULL, NULL, &changes);
    if (rc == FG_OK && changes == 1) {
        fg_log(FG_LOG_INFO, "approval.bootstrap_closed", FG_LF_INT("approvers", approvers_now));
        if (closed_now != NULL)
            *closed_now = 1;
    }
    return rc;
}

/* Counts approvers and closes the exception if there are enough. */
static fg_rc bootstrap_recount(fg_conn *conn, const struct fg_approval_policy *policy, unsigned *n,
                               int *closed_now)
{
    *n = 0;
    fg_rc rc = policy->count_approvers(policy->ctx, conn, n);
    if (rc == FG_OK)
        rc = fg_approval_bootstrap_close(conn, *n, closed_now);
    return rc;
}

/* ---- decisions --------------------------------------------------------------------------- */

/* Everything a decision works with. */
struct decide {
    fg_conn *conn;
    const struct fg_approval_decide_args *args;
    struct fg_approval_decision *out;
    struct fg_approval ap; /* as stored, then as decided */
    struct fg_approval_action action;
    int64_t now_ms;
};

static fg_rc refuse(struct decide *d, fg_rc rc, const char *why)
{
    assert(rc != FG_OK && why != NULL);
    d->out->reason = why;
    return rc;
}

/* The checks that change nothing: arguments, existence, state, people. */
static fg_rc decide_check(struct decide *d)
{
    const struct fg_approval_decide_args *a = d->args;
    const char *reason = a->reason != NULL ? a->reason : "";
    if (!actor_valid(a->approver_id))
        return refuse(d, FG_ERR_INVALID, "malformed approver id");
    if (!reason_valid(reason))
        return refuse(d, FG_ERR_INVALID, "the reason is too long or not plain text");
    if (a->verdict == FG_APPROVAL_REJECT && reason[0] == '\0')
        return refuse(d, FG_ERR_INVALID, "a rejection needs a reason");
    fg_rc rc = load(d->conn, a->id, &d->ap);
    if (rc == FG_ERR_NOT_FOUND)
        return refuse(d, rc, "no such approval");
    if (rc != FG_OK)
        return refuse(d, rc, "the approval could not be read");
    d->out->state = d->ap.state;
    if (d->ap.state != FG_APPROVAL_PENDING)
        return refuse(d, FG_ERR_CONFLICT, "the approval is not pending");
    int self = strcmp(a->approver_id, d->ap.requester_id) == 0;
    if (a->verdict == FG_APPROVAL_BOOTSTRAP) {
        if (!self)
            return refuse(d, FG_ERR_INVALID, "the bootstrap exception is for one's own request");
        if (fg_approval_lookup(d->ap.action, &d->action) != FG_OK || !d->action.bootstrap)
            return refuse(d, FG_ERR_PERMISSION, "this action has no bootstrap exception");
    } else if (self) {
        return refuse(d, FG_ERR_PERMISSION, "the requester cannot approve");
    }
    if (!a->policy->can_approve(a->policy->ctx, d->conn, a->approver_id, d->ap.action_class))
        return refuse(d, FG_ERR_PERMISSION, "the approver may not approve this class");
    if (a->verdict != FG_APPROVAL_REJECT && fg_approval_lookup(d->ap.action, &d->action) != FG_OK)
        return refuse(d, FG_ERR_UNSUPPORTED, "the action is not registered in this server");
    return FG_OK;
}

/* The one UPDATE that decides a row; changes == 1 or it was not pending. */
static fg_rc decide_write(struct decide *d, enum fg_approval_state state, fg_rc cause)
{
    struct fg_approval *ap = &d->ap;
    const char *failure = NULL, *code = NULL;
    if (state == FG_APPROVAL_FAILED || state == FG_APPROVAL_EXPIRED) {
        failure = fg_rc_str(cause);
        code = fg_rc_name(cause);
        snprintf(ap->failure, sizeof ap->failure, "%s", failure);
        snprintf(ap->error_code, sizeof ap->error_code, "%s", code);
    }
    const int person = state != FG_APPROVAL_EXPIRED;
    if (state != FG_APPROVAL_APPROVED && state != FG_APPROVAL_FAILED)
        ap->bootstrap = 0; /* only an execution happens under the exception */
    const struct fg_val p[] = {
        FG_VSTR(ap->id),
        FG_VSTR(fg_approval_state_name(state)),
        person ? FG_VSTR(ap->decided_by) : FG_VNULL,
        FG_VINT(d->now_ms),
        person && ap->reason[0] != '\0' ? FG_VSTR(ap->reason) : FG_VNULL,
        state == FG_APPROVAL_APPROVED ? FG_VSTR(ap->result) : FG_VNULL,
        failure != NULL ? FG_VSTR(failure) : FG_VNULL,
        code != NULL ? FG_VSTR(code) : FG_VNULL,
        FG_VINT(ap->bootstrap),
    };
    int64_t changes = 0;
    fg_rc rc = fg_conn_exec(d->conn,
                            "UPDATE approvals SET state = ?2, decided_by = ?3, decided_ms = ?4, "
                            "reason = ?5, result = ?6, failure = ?7, error_code = ?8, "
                            "bootstrap = ?9 WHERE id = ?1 AND state = 'pending'",
                            p, 9, NULL, NULL, &changes);
    if (rc == FG_OK && changes != 1)
        rc = FG_ERR_INTERNAL; /* checked pending on this very connection a moment ago */
    if (rc == FG_OK) {
        ap->state = state;
        ap->decided_ms = d->now_ms;
        d->out->state = state;
    }
    return rc;
}

static fg_rc savepoint(fg_conn *conn, const char *sql)
{
    return fg_conn_exec(conn, sql, NULL, 0, NULL, NULL, NULL);
}

/* Undo execute()'s writes and leave the savepoint stack as it was. */
static fg_rc savepoint_undo(fg_conn *conn)
{
    fg_rc rc = savepoint(conn, "ROLLBACK TO fg_approval_execute");
    fg_rc rc2 = savepoint(conn, "RELEASE fg_approval_execute");
    return rc != FG_OK ? rc : rc2;
}

/* execute() with its writes in a savepoint; *erc is its verdict, the return value whether
 * the bookkeeping around it worked. */
static fg_rc execute_step(struct decide *d, fg_rc *erc)
{
    struct fg_approval *ap = &d->ap;
    fg_rc rc = savepoint(d->conn, "SAVEPOINT fg_approval_execute");
    if (rc != FG_OK)
        return rc;
    char result[FG_APPROVAL_RESULT_MAX + 1] = "";
    *erc = d->action.execute(d->conn, ap->payload, ap, d->action.ctx, result, sizeof result);
    if (*erc == FG_OK) {
        const char *why = NULL;
        result[FG_APPROVAL_RESULT_MAX] = '\0';
        fg_rc nrc = object_normalize(result[0] != '\0' ? result : "{}", FG_APPROVAL_RESULT_MAX,
                                     ap->result, sizeof ap->result, &why);
        if (nrc != FG_OK) {
            fg_log(FG_LOG_ERROR, "approval.bad_result", FG_LF_STR("action", ap->action),
                   FG_LF_STR("problem", why != NULL ? why : fg_rc_str(nrc)));
            *erc = FG_ERR_INTERNAL;
        }
    }
    if (*erc == FG_OK) {
        rc = decide_write(d, FG_APPROVAL_APPROVED, FG_OK);
        if (rc == FG_OK)
            return savepoint(d->conn, "RELEASE fg_approval_execute");
    }
    fg_rc urc = savepoint_undo(d->conn);
    return rc != FG_OK ? rc : urc;
}

static fg_rc decide_approve(struct decide *d)
{
    struct fg_approval *ap = &d->ap;
    fg_rc erc = FG_OK;
    fg_rc rc = execute_step(d, &erc);
    if (rc != FG_OK)
        return refuse(d, rc, "the decision could not be stored");
    if (erc == FG_OK) {
        d->out->commit = 1;
        d->out->executed = 1;
        memcpy(d->out->result, ap->result, sizeof d->out->result);
        if (ap->bootstrap) { /* did this create the second approver? */
            unsigned n = 0;
            rc = bootstrap_recount(d->conn, d->args->policy, &n, &d->out->bootstrap_closed);
            if (rc != FG_OK)
                return refuse(d, rc, "the approvers could not be counted");
        }
        return FG_OK;
    }
    if (!rc_is_verdict(erc)) {
        fg_log(FG_LOG_WARN, "approval.execute_unavailable", FG_LF_STR("action", ap->action),
               FG_LF_STR("rc", fg_rc_name(erc)));
        return refuse(d, erc, "the change cannot be made now; the approval stays pending");
    }
    rc = decide_write(d, FG_APPROVAL_FAILED, erc);
    if (rc != FG_OK)
        return refuse(d, rc, "the decision could not be stored");
    d->out->commit = 1;
    return refuse(d, erc, "the action refused the change; the approval failed");
}

/* Bootstrap preconditions that may themselves close the exception (commit = 1). */
static fg_rc decide_bootstrap_open(struct decide *d)
{
    const struct fg_approval_policy *policy = d->args->policy;
    int closed = 0;
    fg_rc rc = fg_approval_bootstrap_closed(d->conn, &closed);
    if (rc != FG_OK)
        return refuse(d, rc, "the bootstrap state could not be read");
    if (closed)
        return refuse(d, FG_ERR_PERMISSION, "the bootstrap exception is closed");
    if (policy->count_approvers == NULL)
        return refuse(d, FG_ERR_PERMISSION, "the bootstrap exception is not available");
    unsigned n = 0;
    rc = bootstrap_recount(d->conn, policy, &n, &d->out->bootstrap_closed);
    if (rc != FG_OK)
        return refuse(d, rc, "the approvers could not be counted");
    if (d->out->bootstrap_closed) {
        d->out->commit = 1;
        return refuse(d, FG_ERR_PERMISSION,
                      "two approvers exist: the bootstrap exception is closed");
    }
    return FG_OK;
}

static fg_rc decide_run(struct decide *d)
{
    const struct fg_approval_decide_args *a = d->args;
    fg_rc rc = decide_check(d);
    if (rc != FG_OK)
        return rc;
    struct fg_approval *ap = &d->ap;
    memcpy(ap->decided_by, a->approver_id, strlen(a->approver_id) + 1);
    snprintf(ap->reason, sizeof ap->reason, "%s", a->reason != NULL ? a->reason : "");
    ap->decided_ms = d->now_ms;
    ap->bootstrap = a->verdict == FG_APPROVAL_BOOTSTRAP;
    if (ap->expires_ms <= d->now_ms) {
        rc = decide_write(d, FG_APPROVAL_EXPIRED, FG_ERR_CONFLICT);
        if (rc != FG_OK)
            return refuse(d, rc, "the decision could not be stored");
        d->out->commit = 1;
        return refuse(d, FG_ERR_CONFLICT, "the approval has expired");
    }
    if (ap->bootstrap) {
        rc = decide_bootstrap_open(d);
        if (rc != FG_OK)
            return rc;
    }
    if (a->verdict == FG_APPROVAL_REJECT) {
        rc = decide_write(d, FG_APPROVAL_REJECTED, FG_OK);
        if (rc != FG_OK)
            return refuse(d, rc, "the decision could not be stored");
        d->out->commit = 1;
        return FG_OK;
    }
    return decide_approve(d);
}

static fg_rc decide_record(const struct decide *d, struct fg_audit_record *rec, fg_rc rc)
{
    const struct fg_approval *ap = &d->ap;
    fg_rc arc = ap->id[0] != '\0' ? record_point(rec, ap->id) : FG_OK;
    json_t *o = ap->id[0] != '\0' ? details_of(ap, 1) : json_object();
    if (o != NULL) {
        static const char *const verdicts[] = {"", "approve", "reject", "bootstrap"};
        unsigned v = (unsigned)d->args->verdict;
        obj_str(o, "verdict", v < 4 ? verdicts[v] : "");
        obj_str(o, "state", fg_approval_state_name(d->out->state));
        if (actor_valid(d->args->approver_id)) /* caller data only once it passed checks */
            obj_str(o, "decided_by", d->args->approver_id);
        if (d->args->reason != NULL && reason_valid(d->args->reason))
            obj_str(o, "reason", d->args->reason);
        obj_str(o, "refused", d->out->reason);
        if (d->out->executed)
            json_object_set_new(o, "result", json_loads(ap->result, 0, NULL));
        if (ap->bootstrap)
            json_object_set_new(o, "bootstrap", json_true());
        if (d->out->bootstrap_closed)
            json_object_set_new(o, "bootstrap_closed", json_true());
    }
    if (arc == FG_OK)
        arc = record_details(rec, o);
    else
        json_decref(o);
    record_result(rec, rc, d->out->state == FG_APPROVAL_FAILED);
    return arc;
}

fg_rc fg_approval_decide(fg_conn *conn, const struct fg_approval_decide_args *args,
                         struct fg_audit_record *rec, struct fg_approval_decision *out)
{
    assert(conn != NULL && args != NULL && out != NULL);
    assert(args->policy != NULL && args->policy->can_approve != NULL);
    assert(args->verdict >= FG_APPROVAL_APPROVE && args->verdict <= FG_APPROVAL_BOOTSTRAP);
    memset(out, 0, sizeof *out);
    struct decide d = {.conn = conn, .args = args, .out = out, .now_ms = fg_time_wall_ms()};
    fg_rc rc = decide_run(&d);
    if (rec != NULL) {
        fg_rc arc = decide_record(&d, rec, rc);
        if (arc != FG_OK && out->commit) { /* nothing commits without its record */
            out->commit = 0;
            out->reason = "the audit record could not be built";
            rc = arc;
        }
    }
    assert(rc == FG_OK || out->reason != NULL);
    assert(!out->executed || out->commit);
    return rc;
}

fg_rc fg_approval_decide_intent(fg_conn *conn, void *arg)
{
    struct fg_approval_decide_call *call = arg;
    assert(call != NULL);
    call->rc = fg_approval_decide(conn, &call->args, call->rec, &call->out);
    return call->out.commit ? FG_OK : call->rc;
}

/* ---- listing ----------------------------------------------------------------------------- */

void fg_approval_cursor_format(const struct fg_approval_cursor *c,
                               char out[FG_APPROVAL_CURSOR_TEXT_SIZE])
{
    assert(c != NULL && out != NULL);
    snprintf(out, FG_APPROVAL_CURSOR_TEXT_SIZE, "%" PRId64 ".%s", c->created_ms, c->id);
}

fg_rc fg_approval_cursor_parse(const char *text, struct fg_approval_cursor *out)
{
    assert(out != NULL);
    memset(out, 0, sizeof *out);
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return FG_ERR_INVALID;
    char *end = NULL;
    errno = 0;
    long long ms = strtoll(text, &end, 10);
    if (errno != 0 || end == NULL || *end != '.' || ms < 0 || !id_valid(end + 1))
        return FG_ERR_INVALID;
    out->created_ms = (int64_t)ms;
    memcpy(out->id, end + 1, FG_APPROVAL_ID_SIZE);
    return FG_OK;
}

struct list_ctx {
    fg_approval_list_fn fn;
    void *ctx;
    unsigned limit, seen;
    int64_t now_ms;
    struct fg_approval_cursor *next;
    int *more;
};

static fg_rc list_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct list_ctx *l = ctx;
    if (l->seen++ == l->limit) { /* the extra row: only tells there is another page */
        *l->more = 1;
        return FG_OK;
    }
    struct fg_approval ap;
    fg_rc rc = row_decode(cols, ncols, &ap);
    if (rc != FG_OK)
        return rc;
    make_effective(&ap, l->now_ms);
    l->next->created_ms = ap.created_ms;
    memcpy(l->next->id, ap.id, sizeof l->next->id);
    return l->fn(l->ctx, &ap);
}

#define LIST_ORDER " AND (created_ms, id) > (?1, ?2) ORDER BY created_ms, id LIMIT ?3"

fg_rc fg_approval_list(fg_conn *conn, enum fg_approval_state state, unsigned limit,
                       const struct fg_approval_cursor *after, fg_approval_list_fn fn, void *ctx,
                       struct fg_approval_cursor *next, int *more)
{
    assert(conn != NULL && fn != NULL && next != NULL && more != NULL);
    const struct fg_approval_cursor start = {0};
    if (after == NULL)
        after = &start;
    *next = *after;
    *more = 0;
    if (limit == 0 || limit > FG_APPROVAL_LIST_MAX ||
        (state != FG_APPROVAL_ANY && fg_approval_state_name(state) == NULL))
        return FG_ERR_INVALID;
    struct list_ctx l = {.fn = fn,
                         .ctx = ctx,
                         .limit = limit,
                         .now_ms = fg_time_wall_ms(),
                         .next = next,
                         .more = more};
    const struct fg_val p[] = {FG_VINT(after->created_ms), FG_VSTR(after->id), FG_VINT(limit + 1),
                               FG_VINT(l.now_ms)};
    const char *name = state != FG_APPROVAL_ANY ? fg_approval_state_name(state) : "";
    const struct fg_val ps[] = {p[0], p[1], p[2], FG_VSTR(name)};
    switch (state) {
    case FG_APPROVAL_ANY:
        return fg_conn_exec(conn, "SELECT " COLUMNS " FROM approvals WHERE 1" LIST_ORDER, p, 3,
                            list_row, &l, NULL);
    case FG_APPROVAL_PENDING:
        return fg_conn_exec(conn,
                            "SELECT " COLUMNS " FROM approvals WHERE state = 'pending' "
                            "AND expires_ms > ?4" LIST_ORDER,
                            p, 4, list_row, &l, NULL);
    case FG_APPROVAL_EXPIRED:
        return fg_conn_exec(conn,
                            "SELECT " COLUMNS " FROM approvals WHERE (state = 'expired' OR "
                            "(state = 'pending' AND expires_ms <= ?4))" LIST_ORDER,
                            p, 4, list_row, &l, NULL);
    default:
        return fg_conn_exec(conn, "SELECT " COLUMNS " FROM approvals WHERE state = ?4" LIST_ORDER,
                            ps, 4, list_row, &l, NULL);
    }
}

/* ---- expiry and statistics --------------------------------------------------------------- */

fg_rc fg_approval_expire_due(fg_conn *conn, int64_t now_ms, unsigned max_rows, int64_t *marked)
{
    assert(conn != NULL && marked != NULL);
    *marked = 0;
    if (max_rows == 0 || max_rows > FG_APPROVAL_EXPIRE_BATCH_MAX)
        max_rows = FG_APPROVAL_EXPIRE_BATCH_MAX;
    const struct fg_val p[] = {FG_VINT(now_ms), FG_VSTR(fg_rc_str(FG_ERR_CONFLICT)),
                               FG_VSTR(fg_rc_name(FG_ERR_CONFLICT)), FG_VINT(max_rows)};
    return fg_conn_exec(conn,
                        "UPDATE approvals SET state = 'expired', decided_ms = ?1, failure = ?2, "
                        "error_code = ?3 WHERE id IN (SELECT id FROM approvals WHERE "
                        "state = 'pending' AND expires_ms <= ?1 ORDER BY expires_ms LIMIT ?4)",
                        p, 4, NULL, NULL, marked);
}

fg_rc fg_approval_pair_count(fg_conn *conn, const char *a, const char *b, int64_t since_ms,
                             int64_t *n)
{
    assert(conn != NULL && n != NULL);
    *n = 0;
    if (!actor_valid(a) || !actor_valid(b))
        return FG_ERR_INVALID;
    const struct fg_val p[] = {FG_VSTR(a), FG_VSTR(b), FG_VINT(since_ms)};
    return fg_conn_exec(conn,
                        "SELECT count(*) FROM approvals WHERE bootstrap = 0 "
                        "AND state IN ('approved', 'failed') AND decided_ms >= ?3 "
                        "AND ((requester_id = ?1 AND decided_by = ?2) "
                        "OR (requester_id = ?2 AND decided_by = ?1))",
                        p, 3, count_row, n, NULL);
}

fg_rc fg_approval_register_all(const struct fg_approval_action *a, size_t n)
{
    fg_rc rc = FG_OK;
    for (size_t i = 0; rc == FG_OK && i < n; i++) {
        struct fg_approval_action have;
        if (fg_approval_lookup(a[i].name, &have) == FG_OK)
            rc = have.execute == a[i].execute ? FG_OK : FG_ERR_CONFLICT;
        else
            rc = fg_approval_register(&a[i]);
    }
    return rc;
}
