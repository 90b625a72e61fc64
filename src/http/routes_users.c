/*
 * routes_users.c — staff users, their roles, and four-eyes approvals (API.md "Staff, roles,
 * approvals"; issue #4; REQUIREMENTS GOV-2, GOV-3, IAM-2, IAM-6; docs/API.md "Staff and
 * approvals (issue #4)"):
 *   POST /v1/users                    users.create: request a staff user → 202 {"approval_id"}
 *                                     ("bootstrap": true → created at once, 201; see below)
 *   POST /v1/users/{id}/roles         users.roles: request a grant/revocation → 202
 *   GET  /v1/users/{id}               users.read: a staff user, no secrets
 *   GET  /v1/approvals                approvals.read: ?state=&limit=&cursor=
 *   POST /v1/approvals/{id}/approve   approvals.read + approve.<class> (checked in the policy)
 *   POST /v1/approvals/{id}/reject    the same; {"reason"} required
 *
 * How it works. Nothing changes when it is asked for: a request is one write intent that
 * stores a pending approval (iam/approval) with the "approval.request" record. A decision is
 * one write intent (fg_approval_decide) with its "approval.approve" / "approval.reject" /
 * "approval.bootstrap" record; approving runs the action's execute() in that same
 * transaction. The two actions registered here, `users.create` (class staff) and
 * `users.roles` (class roles), check their payload in validate() when requested and again
 * in execute() when approved (the world may have changed meanwhile: the name taken, a role
 * granted by another approval).
 *
 * Argon2id never runs on the writer. Approving a users.create first goes to the hashing pool
 * (read the approval, make the one-time password, hash it); only then is the decide intent
 * submitted. The action callbacks have one ctx registered at start-up, so what differs per
 * decision (the hash, the roles data, what execute() reports back) reaches them through
 * `current_env`, a thread-local pointer that this file's intents set around the approval
 * calls on the writer thread (they run synchronously there). Called from anywhere else the
 * actions refuse with FG_ERR_INTERNAL, which leaves an approval pending.
 *
 * One-time password delivery: execute() adds it to the outbox (notify/outbox.h) addressed
 * to the payload's `contact`, in the same transaction as the new user — the message goes
 * out if and only if the user exists; the approver's answer says "password_delivery":
 * "outbox". Only a server without an outbox (none under `finguard serve`) returns it once in
 * the approver's answer instead ("password_delivery":"answer"). It is never stored, logged
 * or audited, and the approval's stored result holds only the user id.
 *
 * The bootstrap exception: while fewer than two active users can approve staff creation,
 * the holder of approve.staff may create the second approver alone (a user whose roles can
 * approve staff): request, then decide it with FG_APPROVAL_BOOTSTRAP, two intents and two
 * records. Once two approvers are counted, fg_approval_bootstrap_close() closes it for good
 * (after every executed approval here, and in the bootstrap request itself).
 *
 * Events (event/event.h, docs/events.md; MON-1, GOV-5), in the decision's intent with its
 * record (actor = the approver): approval.decided (result approved|rejected|failed; attrs
 * requester, action, approval_id) for every decision that commits, and from the executed
 * actions user.created (kind, roles), role.granted (one per role), user.unlocked and
 * key.rotated (purpose, version) — inside execute(), so a refused execution rolls its
 * event back with its change.
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
#include "iam/approval.h"
#include "iam/iam.h"
#include "keys/keys.h"
#include "notify/outbox.h"

/* A vendor's account ends within a year (IAM-6): longer third-party access is a new request
 * reviewed again, not a date far in the future. */
#define USERS_EXPIRY_MS_MAX (365LL * 24 * 3600 * 1000)
/* Page size of GET /v1/approvals when no limit is given. */
#define APPROVALS_PAGE_DEFAULT 50u
/* The class whose approvers the bootstrap exception counts. */
#define BOOTSTRAP_CLASS "staff"

/* ---- what the action callbacks get from the intent that runs them ------------------------ */

struct action_env {
    struct fg_iam *iam;
    fg_outbox *outbox;                 /* where the one-time password goes; NULL: the answer */
    const char *password;              /* users.create approval: the one-time password (locked) */
    const char *password_hash;         /* … and its Argon2id hash */
    const char *field;                 /* out: the payload field a refusal is about, or NULL */
    char user_id[FG_USER_ID_MAX + 1];  /* out: the user created or changed */
    int created;                       /* out: users.create executed */
    int delivered;                     /* out: the password is in the outbox (else: the answer) */
    int roles_changed;                 /* out: users.roles executed (end the user's sessions) */
    struct fg_keys_op *keys_op;        /* out: keys.rotate written; published after commit */
    const struct fg_audit_record *rec; /* the decision's record: the events' actor */
};

static _Thread_local struct action_env *current_env;
static _Thread_local struct fg_app *current_app;

/* An event of an executed action, with the decision's actor (NULL env: no event). */
static fg_rc env_emit(fg_conn *conn, const char *type, const char *object_type,
                      const char *object_id, json_t *attrs)
{
    if (current_env == NULL || current_env->rec == NULL) {
        json_decref(attrs);
        return FG_OK;
    }
    struct fg_event e = fg_event_of_record(current_env->rec, type, object_type, object_id);
    return fg_event_emit_json(conn, &e, attrs, fg_time_wall_ms());
}

void fg_http_action_app_set(struct fg_app *app)
{
    current_app = app;
}

struct fg_app *fg_http_action_app(void)
{
    return current_app;
}

static const struct fg_roles *env_roles(void)
{
    return current_env != NULL ? current_env->iam->roles : NULL;
}

static fg_rc refuse_field(fg_rc rc, const char *field, const char *why, const char **reason)
{
    if (current_env != NULL)
        current_env->field = field;
    *reason = why;
    return rc;
}

/* ---- payloads ------------------------------------------------------------------------------ */

/* Role names (a JSON array) → mask: each known, a staff role, named once. */
static fg_rc roles_mask_of(const struct fg_roles *roles, json_t *list, const char *field,
                           uint32_t *mask, const char **reason)
{
    *mask = 0;
    if (!json_is_array(list) || json_array_size(list) > FG_USER_ROLES_MAX)
        return refuse_field(FG_ERR_INVALID, field, "must be a list of at most 8 role names",
                            reason);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        int id = 0;
        if (!json_is_string(v) || fg_roles_role_id(roles, json_string_value(v), &id) != FG_OK)
            return refuse_field(FG_ERR_INVALID, field, "names a role that does not exist", reason);
        if (!fg_roles_is_staff(roles, 1u << id))
            return refuse_field(FG_ERR_POLICY, field, "names a role that is not a staff role",
                                reason);
        if (*mask & (1u << id))
            return refuse_field(FG_ERR_INVALID, field, "names a role twice", reason);
        *mask |= 1u << id;
    }
    return FG_OK;
}

/* Separation of duties (GOV-2) on the roles one user would hold. */
static fg_rc sod_check(const struct fg_roles *roles, uint32_t mask, const char *field,
                       const char **reason)
{
    const char *violation = NULL;
    fg_rc rc = fg_roles_check_assignment(roles, mask, &violation);
    if (rc == FG_OK)
        return FG_OK;
    /* violation is text of the roles data ("security_admin+auditor: constraints.exclusive"),
     * which lives as long as the process's roles: safe to hand back as a reason */
    return refuse_field(rc == FG_ERR_POLICY ? FG_ERR_POLICY : FG_ERR_INVALID, field,
                        violation != NULL ? violation : "breaks separation of duties", reason);
}

/* The roles' expiry rule (IAM-6) against an account expiry (0 = none). */
static fg_rc expiry_check(const struct fg_roles *roles, uint32_t mask, int64_t expires_ms,
                          const char **reason)
{
    enum fg_roles_expiry rule = fg_roles_mask_expiry_rule(roles, mask);
    if (rule == FG_ROLES_EXPIRES_REQUIRED && expires_ms == 0)
        return refuse_field(FG_ERR_POLICY, "expires_at",
                            "these roles need an expiry (expires_at): third-party access is "
                            "time-limited",
                            reason);
    if (rule == FG_ROLES_EXPIRES_FORBIDDEN && expires_ms != 0)
        return refuse_field(FG_ERR_POLICY, "expires_at", "these roles take no expiry", reason);
    return FG_OK;
}

/* An e-mail address (one '@' with text on both sides) or an E.164 number (+ and 8-15
 * digits), printable ASCII without spaces: it becomes an outbox recipient. */
static int contact_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > FG_USER_CONTACT_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    if (s[0] == '+') {
        if (n < 9 || n > 16)
            return 0;
        for (size_t i = 1; i < n; i++)
            if (s[i] < '0' || s[i] > '9')
                return 0;
        return 1;
    }
    const char *at = strchr(s, '@');
    return at != NULL && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL;
}

struct create_req {
    char username[FG_USERNAME_MAX + 1];
    const char *roles[FG_USER_ROLES_MAX]; /* names owned by the roles data */
    int nroles;
    uint32_t mask;
    char contact[FG_USER_CONTACT_MAX + 1];
    int64_t expires_ms;
};

static const char *str_member(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key)); /* NULL if absent or not a string */
}

static fg_rc create_fields(const struct fg_roles *roles, json_t *o, int64_t now_ms,
                           struct create_req *r, const char **reason)
{
    const char *username = str_member(o, "username");
    if (username == NULL || !fg_username_valid(username))
        return refuse_field(FG_ERR_INVALID, "username",
                            "must be 3-64 characters of a-z, 0-9, '.', '_', '-'", reason);
    snprintf(r->username, sizeof r->username, "%s", username);
    fg_rc rc = roles_mask_of(roles, json_object_get(o, "roles"), "roles", &r->mask, reason);
    if (rc == FG_OK && r->mask == 0)
        rc = refuse_field(FG_ERR_INVALID, "roles", "a staff user needs at least one role", reason);
    if (rc == FG_OK)
        rc = sod_check(roles, r->mask, "roles", reason);
    if (rc)
        return rc;
    for (int id = 0; id < fg_roles_role_count(roles); id++)
        if (r->mask & (1u << id))
            r->roles[r->nroles++] = fg_roles_role_name(roles, id);
    const char *contact = str_member(o, "contact");
    if (contact == NULL || !contact_valid(contact))
        return refuse_field(FG_ERR_INVALID, "contact",
                            "must be an e-mail address or an E.164 phone number", reason);
    snprintf(r->contact, sizeof r->contact, "%s", contact);
    json_t *exp = json_object_get(o, "expires_at");
    r->expires_ms = 0;
    if (exp != NULL) {
        const char *t = json_string_value(exp);
        if (t == NULL || fg_time_parse_rfc3339(t, strlen(t), &r->expires_ms) != FG_OK)
            return refuse_field(FG_ERR_INVALID, "expires_at",
                                "must be an RFC 3339 UTC time (2026-01-31T18:00:00Z)", reason);
        if (r->expires_ms <= now_ms || r->expires_ms > now_ms + USERS_EXPIRY_MS_MAX)
            return refuse_field(FG_ERR_POLICY, "expires_at",
                                "must be in the future and at most one year ahead", reason);
    }
    return expiry_check(roles, r->mask, r->expires_ms, reason);
}

/* users.create payload → request, every rule that needs no database. */
static fg_rc create_parse(const struct fg_roles *roles, const char *payload, int64_t now_ms,
                          struct create_req *r, const char **reason)
{
    memset(r, 0, sizeof *r);
    json_t *o = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
    fg_rc rc = FG_OK;
    const char *key;
    json_t *v;
    if (!json_is_object(o))
        rc = refuse_field(FG_ERR_INVALID, NULL, "the payload is not a JSON object", reason);
    json_object_foreach(o, key, v)
    {
        if (rc == FG_OK && strcmp(key, "username") != 0 && strcmp(key, "roles") != 0 &&
            strcmp(key, "contact") != 0 && strcmp(key, "expires_at") != 0)
            rc = refuse_field(FG_ERR_INVALID, NULL, "the payload has an unknown field", reason);
    }
    if (rc == FG_OK)
        rc = create_fields(roles, o, now_ms, r, reason);
    json_decref(o);
    return rc;
}

/* The username must be free (a request, and again at execution). */
static fg_rc username_free(fg_conn *conn, const struct fg_roles *roles, const char *username,
                           const char **reason)
{
    struct fg_user u;
    fg_rc rc = fg_user_load_by_name(conn, roles, username, &u);
    if (rc == FG_OK)
        return refuse_field(FG_ERR_CONFLICT, "username", "the username is taken", reason);
    return rc == FG_ERR_NOT_FOUND ? FG_OK : rc;
}

struct roles_req {
    char user_id[FG_USER_ID_MAX + 1];
    uint32_t grant, revoke;
    uint32_t result; /* the roles the user holds afterwards */
    struct fg_user user;
};

/* users.roles payload → the change against the user as stored now. */
static fg_rc roles_check(fg_conn *conn, const struct fg_roles *roles, const char *payload,
                         struct roles_req *r, const char **reason)
{
    memset(r, 0, sizeof *r);
    json_t *o = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
    const char *uid =
        json_is_object(o) && json_object_size(o) <= 3 ? str_member(o, "user_id") : NULL;
    fg_rc rc = FG_OK;
    if (uid == NULL || strlen(uid) > FG_USER_ID_MAX)
        rc = refuse_field(FG_ERR_INVALID, "user_id", "the payload names no user", reason);
    json_t *g = json_object_get(o, "grant"), *k = json_object_get(o, "revoke");
    json_t *empty = json_array();
    if (rc == FG_OK)
        rc = roles_mask_of(roles, g ? g : empty, "grant", &r->grant, reason);
    if (rc == FG_OK)
        rc = roles_mask_of(roles, k ? k : empty, "revoke", &r->revoke, reason);
    json_decref(empty);
    if (rc == FG_OK) {
        snprintf(r->user_id, sizeof r->user_id, "%s", uid);
        if (json_object_size(o) != 1u + (g != NULL) + (k != NULL))
            rc = refuse_field(FG_ERR_INVALID, NULL, "the payload has an unknown field", reason);
    }
    json_decref(o);
    if (rc)
        return rc;
    if ((r->grant | r->revoke) == 0)
        return refuse_field(FG_ERR_INVALID, "grant", "grant or revoke at least one role", reason);
    if (r->grant & r->revoke)
        return refuse_field(FG_ERR_INVALID, "revoke", "a role is both granted and revoked", reason);
    rc = fg_user_load(conn, roles, r->user_id, &r->user);
    if (rc == FG_ERR_NOT_FOUND || (rc == FG_OK && (!r->user.staff || !r->user.active)))
        return refuse_field(FG_ERR_NOT_FOUND, "user_id", "no such active staff user", reason);
    if (rc)
        return rc;
    if (r->grant & r->user.role_mask)
        return refuse_field(FG_ERR_CONFLICT, "grant", "the user holds that role already", reason);
    if (r->revoke & ~r->user.role_mask)
        return refuse_field(FG_ERR_CONFLICT, "revoke", "the user does not hold that role", reason);
    r->result = (r->user.role_mask | r->grant) & ~r->revoke;
    if (r->result == 0)
        return refuse_field(FG_ERR_POLICY, "revoke",
                            "a staff user keeps at least one role (disable the user instead)",
                            reason);
    rc = sod_check(roles, r->result, "grant", reason);
    return rc ? rc : expiry_check(roles, r->result, r->user.expires_ms, reason);
}

/* ---- the actions --------------------------------------------------------------------------- */

static fg_rc create_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)ctx;
    const struct fg_roles *roles = env_roles();
    if (roles == NULL) {
        *reason = "users.create is requested through POST /v1/users only";
        return FG_ERR_INTERNAL;
    }
    struct create_req r;
    fg_rc rc = create_parse(roles, payload, fg_time_wall_ms(), &r, reason);
    return rc ? rc : username_free(conn, roles, r.username, reason);
}

/* The new user's one-time password to the outbox, addressed to the payload's contact. */
static fg_rc deliver_password(fg_conn *conn, struct action_env *env, const struct create_req *r)
{
    char text[FG_USERNAME_MAX + 128];
    snprintf(text, sizeof text,
             "finguard: your staff account %s is ready. Sign in with this one-time password "
             "and choose your own at once.",
             r->username);
    const struct fg_outbox_msg m = {.to = r->contact,
                                    .channel =
                                        r->contact[0] == '+' ? FG_OUTBOX_SMS : FG_OUTBOX_EMAIL,
                                    .purpose = "staff_password",
                                    .text = text,
                                    .code = env->password};
    fg_rc rc = fg_outbox_add(env->outbox, conn, &m);
    if (rc == FG_ERR_LIMIT)
        rc = FG_ERR_BUSY; /* this batch's buffer is full: retry, do not fail the approval */
    if (rc == FG_OK)
        env->delivered = 1;
    return rc;
}

static fg_rc create_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                            void *ctx, char *result_json, size_t cap)
{
    (void)ctx;
    struct action_env *env = current_env;
    if (env == NULL || env->password == NULL || env->password_hash == NULL)
        return FG_ERR_INTERNAL; /* not through this file's decide intent: stays pending */
    const struct fg_roles *roles = env->iam->roles;
    const char *why = NULL;
    struct create_req r;
    fg_rc rc = create_parse(roles, payload, fg_time_wall_ms(), &r, &why);
    if (rc == FG_OK)
        rc = username_free(conn, roles, r.username, &why);
    if (rc)
        return rc;
    const struct fg_user_new u = {.username = r.username,
                                  .staff = 1,
                                  .password_hash = env->password_hash,
                                  .must_change_password = 1,
                                  .roles = r.roles,
                                  .nroles = r.nroles,
                                  .contact = r.contact,
                                  .expires_ms = r.expires_ms,
                                  .created_by = ap->requester_id};
    rc = fg_user_insert(conn, &u, env->user_id);
    /* last: nothing after it refuses on the merits, so the message never outlives a user
     * rolled back to execute()'s savepoint (the outbox drops lines with failed intents) */
    if (rc == FG_OK && env->outbox != NULL)
        rc = deliver_password(conn, env, &r);
    if (rc == FG_OK) {
        char names[FG_USER_ROLES_MAX * 40] = "";
        size_t used = 0;
        for (int i = 0; i < r.nroles && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? "," : "",
                                     r.roles[i]);
        rc = env_emit(
            conn, "user.created", "user", env->user_id,
            json_pack("{s:s, s:s, s:s}", "user", env->user_id, "kind", "staff", "roles", names));
    }
    if (rc)
        return rc;
    env->created = 1;
    snprintf(result_json, cap, "{\"user_id\":\"%s\",\"username\":\"%s\"}", env->user_id,
             r.username);
    return FG_OK;
}

static fg_rc roles_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)ctx;
    const struct fg_roles *roles = env_roles();
    if (roles == NULL) {
        *reason = "users.roles is requested through POST /v1/users/{id}/roles only";
        return FG_ERR_INTERNAL;
    }
    struct roles_req r;
    return roles_check(conn, roles, payload, &r, reason);
}

static fg_rc roles_apply(fg_conn *conn, const struct fg_roles *roles, const struct roles_req *r,
                         const char *by)
{
    int64_t now = fg_time_wall_ms();
    fg_rc rc = FG_OK;
    for (int id = 0; rc == FG_OK && id < fg_roles_role_count(roles); id++) {
        const char *name = fg_roles_role_name(roles, id);
        const struct fg_val p[] = {FG_VSTR(r->user_id), FG_VSTR(name), FG_VINT(now), FG_VSTR(by)};
        if (r->revoke & (1u << id))
            rc = fg_conn_exec(conn, "DELETE FROM iam_user_roles WHERE user_id = ?1 AND role = ?2",
                              p, 2, NULL, NULL, NULL);
        else if (r->grant & (1u << id))
            rc = fg_conn_exec(conn,
                              "INSERT INTO iam_user_roles (user_id, role, granted_ms, granted_by) "
                              "VALUES (?1, ?2, ?3, ?4)",
                              p, 4, NULL, NULL, NULL);
    }
    /* new rights need a new login: the rows end here, the live table after commit */
    const struct fg_val s[] = {FG_VSTR(r->user_id), FG_VINT(now)};
    if (rc == FG_OK)
        rc = fg_conn_exec(conn,
                          "UPDATE iam_sessions SET ended_ms = ?2, end_reason = 'roles_changed' "
                          "WHERE user_id = ?1 AND ended_ms = 0",
                          s, 2, NULL, NULL, NULL);
    return rc;
}

static fg_rc roles_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                           void *ctx, char *result_json, size_t cap)
{
    (void)ctx;
    struct action_env *env = current_env;
    if (env == NULL)
        return FG_ERR_INTERNAL;
    const struct fg_roles *roles = env->iam->roles;
    const char *why = NULL;
    struct roles_req r;
    fg_rc rc = roles_check(conn, roles, payload, &r, &why); /* SoD again on the result */
    if (rc == FG_OK)
        rc = roles_apply(conn, roles, &r, ap->requester_id);
    for (int id = 0; rc == FG_OK && id < fg_roles_role_count(roles); id++)
        if (r.grant & (1u << id))
            rc = env_emit(conn, "role.granted", "user", r.user_id,
                          json_pack("{s:s, s:s, s:s}", "user", r.user_id, "role",
                                    fg_roles_role_name(roles, id), "requester", ap->requester_id));
    if (rc)
        return rc;
    snprintf(env->user_id, sizeof env->user_id, "%s", r.user_id);
    env->roles_changed = 1;
    size_t used = (size_t)snprintf(result_json, cap, "{\"user_id\":\"%s\",\"roles\":[", r.user_id);
    for (int id = 0, n = 0; used < cap && id < fg_roles_role_count(roles); id++)
        if (r.result & (1u << id))
            used += (size_t)snprintf(result_json + used, cap - used, "%s\"%s\"", n++ ? "," : "",
                                     fg_roles_role_name(roles, id));
    if (used < cap)
        snprintf(result_json + used, cap - used, "]}");
    return used + 2 < cap ? FG_OK : FG_ERR_TOO_LARGE;
}

/* ---- users.unlock (class unlock): clear a lockout under four-eyes (AUTH-2) ------------ */

/* {"user_id":"u…"}: the id as the route passed it; only [a-z0-9] reaches the payload. */
static fg_rc unlock_target(const char *payload, char id[FG_USER_ID_MAX + 1])
{
    json_error_t jerr;
    json_t *doc = json_loads(payload, JSON_REJECT_DUPLICATES, &jerr);
    const char *v = doc ? json_string_value(json_object_get(doc, "user_id")) : NULL;
    fg_rc rc = v != NULL && strlen(v) <= FG_USER_ID_MAX && json_object_size(doc) == 1
                   ? FG_OK
                   : FG_ERR_INVALID;
    if (rc == FG_OK)
        snprintf(id, FG_USER_ID_MAX + 1, "%s", v);
    json_decref(doc);
    return rc;
}

static fg_rc unlock_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)ctx;
    char id[FG_USER_ID_MAX + 1];
    struct fg_user u;
    const struct fg_roles *roles = env_roles();
    if (roles == NULL) {
        *reason = "users.unlock is requested through POST /v1/users/{id}/unlock only";
        return FG_ERR_INTERNAL;
    }
    if (unlock_target(payload, id) != FG_OK) {
        *reason = "payload must be {\"user_id\"}";
        return FG_ERR_INVALID;
    }
    fg_rc rc = fg_user_load(conn, roles, id, &u);
    if (rc == FG_ERR_NOT_FOUND)
        *reason = "no such user";
    fg_wipe(&u, sizeof u);
    return rc;
}

static fg_rc unlock_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                            void *ctx, char *result_json, size_t cap)
{
    (void)ap;
    (void)ctx;
    char id[FG_USER_ID_MAX + 1];
    fg_rc rc = unlock_target(payload, id);
    const struct fg_val p[] = {FG_VSTR(id)};
    int64_t changed = 0;
    if (rc == FG_OK)
        rc = fg_conn_exec(conn,
                          "UPDATE iam_users SET locked_until_ms = 0, failed_count = 0, "
                          "last_failure_ms = 0 WHERE id = ?1",
                          p, 1, NULL, NULL, &changed);
    if (rc == FG_OK && changed == 0)
        rc = FG_ERR_NOT_FOUND;
    if (rc == FG_OK)
        rc = env_emit(conn, "user.unlocked", "user", id, json_pack("{s:s}", "user", id));
    if (rc == FG_OK)
        snprintf(result_json, cap, "{\"user_id\":\"%s\",\"unlocked\":true}", id);
    return rc;
}

/* ---- keys.rotate (class keys): a new key version under four-eyes (DATA-2, GOV-3) -------- */

/* audit and sign keys are in use by the live audit log, which cannot switch keys while it
 * runs: rotate those offline (finguard keys rotate). */
static fg_rc rotate_purpose(const char *payload, enum fg_key_purpose *out, const char **reason)
{
    json_error_t jerr;
    json_t *doc = json_loads(payload, JSON_REJECT_DUPLICATES, &jerr);
    const char *name = doc ? json_string_value(json_object_get(doc, "purpose")) : NULL;
    fg_rc rc = name != NULL && json_object_size(doc) == 1 ? fg_key_purpose_parse(name, out)
                                                          : FG_ERR_INVALID;
    json_decref(doc);
    if (rc) {
        *reason = "payload must be {\"purpose\"} naming a key purpose";
        return FG_ERR_INVALID;
    }
    if (*out == FG_KEY_AUDIT || *out == FG_KEY_SIGN) {
        *reason = "audit and sign keys are rotated offline (finguard keys rotate)";
        return FG_ERR_POLICY;
    }
    return FG_OK;
}

static fg_rc rotate_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)conn;
    (void)ctx;
    enum fg_key_purpose purpose;
    return rotate_purpose(payload, &purpose, reason);
}

static fg_rc rotate_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                            void *ctx, char *result_json, size_t cap)
{
    (void)ap;
    (void)ctx;
    struct action_env *env = current_env;
    const char *reason = NULL;
    enum fg_key_purpose purpose;
    if (env == NULL)
        return FG_ERR_INTERNAL;
    fg_rc rc = rotate_purpose(payload, &purpose, &reason);
    struct fg_keys_op *op = NULL;
    if (rc == FG_OK)
        rc = fg_keys_rotate_prepare(env->iam->keys, purpose, &op, &reason);
    if (rc == FG_OK)
        rc = fg_keys_op_intent(conn, op);
    if (rc == FG_OK)
        rc = env_emit(conn, "key.rotated", "key", fg_key_purpose_name(purpose),
                      json_pack("{s:s, s:I}", "purpose", fg_key_purpose_name(purpose), "version",
                                (json_int_t)fg_keys_op_version(op)));
    if (rc) {
        fg_keys_op_free(op);
        return rc;
    }
    env->keys_op = op; /* published by decide_done once the batch committed */
    snprintf(result_json, cap, "{\"purpose\":\"%s\",\"version\":%u}", fg_key_purpose_name(purpose),
             fg_keys_op_version(op));
    return FG_OK;
}

/* Register once per process (servers may be built more than once in one process). */
static fg_rc register_actions(void)
{
    static const struct fg_approval_action actions[] = {
        {.name = "users.create",
         .action_class = "staff",
         .validate = create_validate,
         .execute = create_execute,
         .bootstrap = 1},
        {.name = "users.roles",
         .action_class = "roles",
         .validate = roles_validate,
         .execute = roles_execute,
         .bootstrap = 0},
        {.name = "users.unlock",
         .action_class = "unlock",
         .validate = unlock_validate,
         .execute = unlock_execute,
         .bootstrap = 0},
        {.name = "keys.rotate",
         .action_class = "keys",
         .validate = rotate_validate,
         .execute = rotate_execute,
         .bootstrap = 0},
    };
    return fg_approval_register_all(actions, sizeof actions / sizeof actions[0]);
}

/* ---- the approval policy: who may decide, how many approvers exist -------------------------- */

/* The session's roles (at login) and the roles stored now must both allow it. */
static int policy_can_approve(void *ctx, fg_conn *conn, const char *approver_id,
                              const char *action_class);
static fg_rc policy_count_approvers(void *ctx, fg_conn *conn, unsigned *n);

static fg_rc count_approvers(fg_conn *conn, const struct fg_roles *roles, unsigned *n)
{
    uint32_t mask = 0;
    for (int id = 0; id < fg_roles_role_count(roles); id++)
        if (fg_roles_can_approve(roles, 1u << id, BOOTSTRAP_CLASS))
            mask |= 1u << id;
    int64_t count = 0;
    fg_rc rc = fg_user_count_with_roles(conn, roles, mask, &count);
    *n = rc == FG_OK && count > 0 ? (unsigned)count : 0;
    return rc;
}

/* ---- one job for every write flow of this file ------------------------------------------- */

struct job {
    struct action_env env;
    struct fg_app *app;
    struct fg_iam *iam;
    const char *action; /* "users.create" | "users.roles" */
    char payload[FG_APPROVAL_PAYLOAD_MAX + 1];
    char actor_id[FG_SESSION_USER_ID_MAX + 1];
    uint32_t actor_mask; /* the session's roles */
    int bootstrap;
    char approval_id[FG_APPROVAL_ID_SIZE];
    int64_t expires_ms;
    enum fg_approval_verdict verdict;
    char reason[FG_APPROVAL_REASON_MAX * 4 + 1]; /* the decider's words (bytes ≤ 4 × chars) */
    int has_reason;
    const char *refusal_reason; /* static: why a request was refused */
    fg_rc refusal;              /* a bootstrap request refused before it was stored */
    char *password;             /* locked: the new user's one-time password */
    char password_hash[FG_PWHASH_STR_MAX];
    struct fg_approval_policy policy;
    struct fg_approval_decide_call decide;
    struct fg_audit_record record;        /* the request's */
    struct fg_audit_record decide_record; /* the decision's */
};

static struct job *job_new(struct fg_call *c)
{
    struct job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return NULL;
    const struct fg_session *s = fg_call_session(c);
    job->app = fg_call_app(c);
    job->iam = fg_call_app(c)->iam;
    job->env.iam = job->iam;
    job->env.outbox = fg_call_app(c)->outbox;
    snprintf(job->actor_id, sizeof job->actor_id, "%s", s->user_id);
    job->actor_mask = s->role_mask;
    job->policy = (struct fg_approval_policy){
        .can_approve = policy_can_approve, .count_approvers = policy_count_approvers, .ctx = job};
    return job;
}

static void job_free(struct job *job)
{
    if (job == NULL)
        return;
    fg_secure_free(job->password);
    fg_keys_op_free(job->env.keys_op); /* not published: the batch failed (wiped) */
    fg_wipe(job, sizeof *job);
    free(job);
}

static int policy_can_approve(void *ctx, fg_conn *conn, const char *approver_id,
                              const char *action_class)
{
    struct job *job = ctx;
    const struct fg_roles *roles = job->iam->roles;
    if (strcmp(approver_id, job->actor_id) != 0 ||
        !fg_roles_can_approve(roles, job->actor_mask, action_class))
        return 0;
    struct fg_user u;
    if (fg_user_load(conn, roles, approver_id, &u) != FG_OK)
        return 0;
    int expired = u.expires_ms != 0 && u.expires_ms <= fg_time_wall_ms();
    return u.active && !expired && fg_roles_can_approve(roles, u.role_mask, action_class);
}

static fg_rc policy_count_approvers(void *ctx, fg_conn *conn, unsigned *n)
{
    struct job *job = ctx;
    return count_approvers(conn, job->iam->roles, n);
}

/* Worker: a one-time password that passes the policy for `username`, and its hash. */
static fg_rc make_password(struct job *job, const char *username)
{
    job->password = fg_secure_alloc(FG_IAM_OTP_PASSWORD_LEN + 1);
    if (job->password == NULL)
        return FG_ERR_NOMEM;
    fg_rc rc = fg_iam_otp_password(job->iam, username, job->password);
    if (rc == FG_OK)
        rc = fg_password_hash(job->password, FG_IAM_OTP_PASSWORD_LEN, job->password_hash);
    if (rc == FG_OK) {
        job->env.password = job->password;
        job->env.password_hash = job->password_hash;
    }
    return rc;
}

/* ---- answers ------------------------------------------------------------------------------- */

static void reply_refusal(struct fg_call *c, fg_rc rc, const char *reason, const char *field)
{
    const char *code = NULL;
    int status = fg_http_status_of(rc, &code);
    if (reason == NULL || status >= 500) {
        fg_reply_rc(c, rc, field);
        return;
    }
    fg_reply_error(c, status, code, reason, field);
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
    char t[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(ms, t);
    json_object_set_new(o, key, json_string(t));
}

static void set_text(json_t *o, const char *key, const char *value)
{
    if (value[0] != '\0')
        json_object_set_new(o, key, json_string(value));
}

static json_t *approval_json(const struct fg_approval *ap)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", ap->id, "action", ap->action,
                          "class", ap->action_class, "requester_id", ap->requester_id, "state",
                          fg_approval_state_name(ap->state), "bootstrap", ap->bootstrap);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "payload", json_loads(ap->payload, 0, NULL));
    set_time(o, "created_at", ap->created_ms);
    set_time(o, "expires_at", ap->expires_ms);
    set_text(o, "decided_by", ap->decided_by);
    if (ap->decided_ms != 0)
        set_time(o, "decided_at", ap->decided_ms);
    set_text(o, "reason", ap->reason);
    if (ap->result[0] != '\0')
        json_object_set_new(o, "result", json_loads(ap->result, 0, NULL));
    set_text(o, "failure", ap->failure);
    set_text(o, "error_code", ap->error_code);
    return o;
}

/* ---- decisions ------------------------------------------------------------------------------ */

/* approval.decided for a decision that commits (approved, rejected, failed; MON-1: the
 * same pair approving each other, GOV-2). */
static fg_rc decided_event(fg_conn *conn, struct job *job)
{
    enum fg_approval_state st = job->decide.out.state;
    if (st != FG_APPROVAL_APPROVED && st != FG_APPROVAL_REJECTED && st != FG_APPROVAL_FAILED)
        return FG_OK; /* refused, or expired on the way: no decision was taken */
    struct fg_approval *ap = calloc(1, sizeof *ap);
    fg_rc rc = ap != NULL ? fg_approval_get(conn, job->approval_id, ap) : FG_ERR_NOMEM;
    if (rc == FG_OK) {
        struct fg_event e =
            fg_event_of_record(&job->decide_record, "approval.decided", "approval", ap->id);
        rc = fg_event_emit_json(conn, &e,
                                json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "result",
                                          fg_approval_state_name(st), "requester", ap->requester_id,
                                          "action", ap->action, "class", ap->action_class,
                                          "approval_id", ap->id, "bootstrap", ap->bootstrap),
                                fg_time_wall_ms());
    }
    free(ap);
    return rc;
}

static fg_rc decide_intent(fg_conn *conn, void *arg)
{
    struct job *job = arg;
    current_env = &job->env;
    current_app = job->app;
    fg_rc rc = fg_approval_decide_intent(conn, &job->decide);
    if (rc == FG_OK)
        rc = decided_event(conn, job);
    if (rc == FG_OK && job->decide.out.executed) {
        /* an executed change may have made the second approver (a grant of approve.staff) */
        unsigned n = 0;
        int closed_now = 0;
        rc = count_approvers(conn, job->iam->roles, &n);
        if (rc == FG_OK)
            rc = fg_approval_bootstrap_close(conn, n, &closed_now);
    }
    current_env = NULL;
    current_app = NULL;
    return rc;
}

static void decide_answer(struct fg_call *c, struct job *job)
{
    const struct fg_approval_decision *out = &job->decide.out;
    json_t *body = json_pack("{s:s, s:s}", "approval_id", job->approval_id, "state",
                             fg_approval_state_name(out->state));
    if (body != NULL && out->executed && out->result[0] != '\0')
        json_object_set_new(body, "result", json_loads(out->result, 0, NULL));
    if (body != NULL && job->bootstrap)
        json_object_set_new(body, "bootstrap", json_true());
    if (body != NULL && job->env.created) {
        json_object_set_new(body, "user_id", json_string(job->env.user_id));
        json_object_set_new(body, "password_delivery",
                            json_string(job->env.delivered ? "outbox" : "answer"));
        if (!job->env.delivered) /* no outbox: this answer, once, is the only way out */
            json_object_set_new(body, "one_time_password", json_string(job->password));
    }
    fg_reply_json(c, job->bootstrap ? 201 : 200, body);
}

static void decide_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *job = arg;
    int ok = rc == FG_OK && job->decide.rc == FG_OK;
    if (ok && job->env.roles_changed) /* committed: new rights need a new login */
        fg_sessions_end_user(job->iam->sessions, job->env.user_id, NULL);
    if (ok && job->env.keys_op != NULL) { /* committed: the new version becomes active */
        fg_rc prc = fg_keys_op_commit(job->iam->keys, job->env.keys_op);
        if (prc)
            fg_log(FG_LOG_ERROR, "keys.rotate_publish_failed", FG_LF_STR("rc", fg_rc_name(prc)));
        fg_keys_op_free(job->env.keys_op);
        job->env.keys_op = NULL;
    }
    if (ok)
        fg_log(FG_LOG_INFO, "approval.decided", FG_LF_STR("approval_id", job->approval_id),
               FG_LF_STR("state", fg_approval_state_name(job->decide.out.state)),
               FG_LF_BOOL("bootstrap", job->bootstrap));
    if (c != NULL) {
        if (ok)
            decide_answer(c, job);
        else if (rc != FG_OK && rc != job->decide.rc)
            fg_reply_rc(c, rc, NULL); /* the batch (or the bootstrap bookkeeping) failed */
        else
            reply_refusal(c, job->decide.rc, job->decide.out.reason, NULL);
    }
    job_free(job);
}

static void submit_decide(struct fg_call *c, struct job *job)
{
    static const char *const actions[] = {[FG_APPROVAL_APPROVE] = "approval.approve",
                                          [FG_APPROVAL_REJECT] = "approval.reject",
                                          [FG_APPROVAL_BOOTSTRAP] = "approval.bootstrap"};
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    fg_rc rc = fg_audit_record_init(&job->decide_record, &who, actions[job->verdict], "approval",
                                    job->approval_id);
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        job_free(job);
        return;
    }
    job->env.rec = &job->decide_record;
    job->decide =
        (struct fg_approval_decide_call){.args = {.id = job->approval_id,
                                                  .approver_id = job->actor_id,
                                                  .verdict = job->verdict,
                                                  .reason = job->has_reason ? job->reason : NULL,
                                                  .policy = &job->policy},
                                         .rec = &job->decide_record};
    if (fg_call_write_record(c, decide_intent, job, &job->decide_record, decide_done) != FG_OK)
        job_free(job);
}

/* Worker: for an approval that will create a user, the password and its hash — before the
 * writer sees it. Anything odd is left to the decision, which checks it all again. */
static fg_rc decide_work(void *arg)
{
    struct job *job = arg;
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(job->iam->store, &conn);
    if (rc)
        return rc;
    struct fg_approval *ap = calloc(1, sizeof *ap);
    rc = ap != NULL ? fg_approval_get(conn, job->approval_id, ap) : FG_ERR_NOMEM;
    fg_store_read_release(job->iam->store, conn);
    if (rc == FG_ERR_NOT_FOUND) {
        rc = FG_OK;
    } else if (rc == FG_OK && strcmp(ap->action, "users.create") == 0 &&
               ap->state == FG_APPROVAL_PENDING && strcmp(ap->requester_id, job->actor_id) != 0 &&
               fg_roles_can_approve(job->iam->roles, job->actor_mask, ap->action_class)) {
        /* only a decision that can succeed costs a hash (the pool is bounded) */
        json_t *o = json_loads(ap->payload, 0, NULL);
        const char *username = str_member(o, "username");
        if (username != NULL)
            rc = make_password(job, username);
        json_decref(o);
    }
    free(ap);
    return rc;
}

static void decide_ready(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *job = arg;
    if (c == NULL || rc != FG_OK) {
        if (c != NULL)
            fg_reply_rc(c, rc, NULL);
        job_free(job);
        return;
    }
    submit_decide(c, job);
}

static const struct fg_json_field decide_fields[] = {
    {"reason", FG_JSON_STRING, 0, 0, FG_APPROVAL_REASON_MAX},
};
static const struct fg_json_field reject_fields[] = {
    {"reason", FG_JSON_STRING, 1, 1, FG_APPROVAL_REASON_MAX},
};

static void decide_route(struct fg_call *c, enum fg_approval_verdict verdict)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    const char *id = fg_call_param(c, 0);
    if (fg_json_check(body, verdict == FG_APPROVAL_REJECT ? reject_fields : decide_fields, 1,
                      &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    if (id == NULL || strlen(id) != FG_APPROVAL_ID_LEN) {
        fg_reply_error(c, 404, "not_found", "no such approval", NULL);
        return;
    }
    struct job *job = job_new(c);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->verdict = verdict;
    memcpy(job->approval_id, id, FG_APPROVAL_ID_SIZE);
    json_t *reason = json_object_get(body, "reason");
    if (reason != NULL && json_string_length(reason) < sizeof job->reason) {
        memcpy(job->reason, json_string_value(reason), json_string_length(reason) + 1);
        job->has_reason = 1;
    }
    if (verdict == FG_APPROVAL_REJECT)
        submit_decide(c, job);
    else if (fg_call_defer_on(c, job->iam->hash_pool, decide_work, job, decide_ready) != FG_OK)
        job_free(job); /* answered 429 */
}

static void approve_route(struct fg_call *c)
{
    decide_route(c, FG_APPROVAL_APPROVE);
}

static void reject_route(struct fg_call *c)
{
    decide_route(c, FG_APPROVAL_REJECT);
}

/* ---- requests ------------------------------------------------------------------------------- */

/* The bootstrap exception's gate, before anything is stored (the close marker may be). */
static fg_rc bootstrap_gate(fg_conn *conn, struct job *job)
{
    const struct fg_roles *roles = job->iam->roles;
    struct create_req r;
    const char *why = NULL;
    if (!fg_roles_can_approve(roles, job->actor_mask, BOOTSTRAP_CLASS)) {
        job->refusal_reason = "the bootstrap exception needs a user who holds approve.staff";
    } else if (create_parse(roles, job->payload, fg_time_wall_ms(), &r, &why) == FG_OK &&
               !fg_roles_can_approve(roles, r.mask, BOOTSTRAP_CLASS)) {
        job->refusal_reason = "the bootstrap exception only creates the second approver "
                              "(roles that hold approve.staff)";
    } else {
        int closed = 0, closed_now = 0;
        unsigned n = 0;
        fg_rc rc = fg_approval_bootstrap_closed(conn, &closed);
        if (rc == FG_OK && !closed)
            rc = count_approvers(conn, roles, &n);
        if (rc == FG_OK && !closed)
            rc = fg_approval_bootstrap_close(conn, n, &closed_now);
        if (rc)
            return rc;
        if (!closed && !closed_now)
            return FG_OK;
        job->refusal_reason = "two approvers exist: the bootstrap exception is closed for good; "
                              "ask another approver";
    }
    job->refusal = FG_ERR_PERMISSION;
    return FG_OK;
}

static fg_rc request_record_refusal(struct job *job)
{
    json_t *o = json_pack("{s:s, s:b, s:s}", "action", job->action, "bootstrap", 1, "refused",
                          job->refusal_reason);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    fg_rc rc =
        text != NULL ? fg_audit_record_details(&job->record, text, strlen(text)) : FG_ERR_NOMEM;
    free(text);
    fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, job->refusal);
    return rc;
}

static fg_rc request_intent(fg_conn *conn, void *arg)
{
    struct job *job = arg;
    current_env = &job->env;
    current_app = job->app;
    fg_rc rc = job->bootstrap ? bootstrap_gate(conn, job) : FG_OK;
    if (rc == FG_OK && job->refusal)
        rc = request_record_refusal(job); /* commits the record and any close marker */
    else if (rc == FG_OK)
        rc = fg_approval_request(conn, job->action, job->payload, job->actor_id, 0,
                                 job->approval_id, &job->record, &job->refusal_reason);
    current_env = NULL;
    current_app = NULL;
    return rc;
}

static void request_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *job = arg;
    if (c == NULL) {
        job_free(job); /* a bootstrap request stays pending: a normal approval can take it */
        return;
    }
    if (rc != FG_OK || job->refusal != FG_OK) {
        reply_refusal(c, rc != FG_OK ? rc : job->refusal, job->refusal_reason, job->env.field);
        job_free(job);
        return;
    }
    if (!job->bootstrap) {
        json_t *body = json_pack("{s:s, s:s, s:s}", "approval_id", job->approval_id, "action",
                                 job->action, "state", "pending");
        fg_reply_json(c, 202, body);
        job_free(job);
        return;
    }
    job->verdict = FG_APPROVAL_BOOTSTRAP;
    submit_decide(c, job);
}

static void submit_request(struct fg_call *c, struct job *job)
{
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    fg_rc rc = fg_audit_record_init(&job->record, &who, "approval.request", "approval", "");
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        job_free(job);
        return;
    }
    if (fg_call_write_record(c, request_intent, job, &job->record, request_done) != FG_OK)
        job_free(job);
}

/* Worker (bootstrap): the second approver's password is made before the writer sees it. */
static fg_rc bootstrap_work(void *arg)
{
    struct job *job = arg;
    json_t *o = json_loads(job->payload, 0, NULL);
    const char *username = str_member(o, "username");
    fg_rc rc = username != NULL ? make_password(job, username) : FG_ERR_INVALID;
    json_decref(o);
    return rc;
}

static void bootstrap_ready(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *job = arg;
    if (c == NULL || rc != FG_OK) {
        if (c != NULL)
            fg_reply_rc(c, rc, NULL);
        job_free(job);
        return;
    }
    submit_request(c, job);
}

/* The payload: the body's members that describe the change, compact, nothing else. */
static fg_rc payload_of(json_t *body, const char *const *keys, size_t nkeys, json_t *extra_key,
                        char out[FG_APPROVAL_PAYLOAD_MAX + 1])
{
    json_t *p = extra_key != NULL ? json_deep_copy(extra_key) : json_object();
    for (size_t i = 0; p != NULL && i < nkeys; i++) {
        json_t *v = json_object_get(body, keys[i]);
        if (v != NULL)
            json_object_set(p, keys[i], v);
    }
    if (p == NULL)
        return FG_ERR_NOMEM;
    size_t n = json_dumpb(p, out, FG_APPROVAL_PAYLOAD_MAX, JSON_COMPACT);
    json_decref(p);
    if (n == 0 || n > FG_APPROVAL_PAYLOAD_MAX)
        return FG_ERR_TOO_LARGE;
    out[n] = '\0';
    return FG_OK;
}

static const struct fg_json_field create_body[] = {
    {"username", FG_JSON_STRING, 1, FG_USERNAME_MIN, FG_USERNAME_MAX},
    {"roles", FG_JSON_ARRAY, 1, 1, FG_USER_ROLES_MAX},
    {"contact", FG_JSON_STRING, 1, 3, FG_USER_CONTACT_MAX},
    {"expires_at", FG_JSON_STRING, 0, 20, 24},
    {"bootstrap", FG_JSON_BOOL, 0, 0, 0},
};

static void create_route(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, create_body, sizeof create_body / sizeof create_body[0], &err) !=
        FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    static const char *const keys[] = {"username", "roles", "contact", "expires_at"};
    struct job *job = job_new(c);
    fg_rc rc = job != NULL ? payload_of(body, keys, 4, NULL, job->payload) : FG_ERR_NOMEM;
    if (rc) {
        job_free(job);
        fg_reply_rc(c, rc, NULL);
        return;
    }
    job->action = "users.create";
    job->bootstrap = json_is_true(json_object_get(body, "bootstrap"));
    if (!job->bootstrap)
        submit_request(c, job);
    else if (fg_call_defer_on(c, job->iam->hash_pool, bootstrap_work, job, bootstrap_ready) !=
             FG_OK)
        job_free(job); /* answered 429 */
}

static const struct fg_json_field roles_body[] = {
    {"grant", FG_JSON_ARRAY, 0, 0, FG_USER_ROLES_MAX},
    {"revoke", FG_JSON_ARRAY, 0, 0, FG_USER_ROLES_MAX},
};

static void roles_route(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, roles_body, 2, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    const char *id = fg_call_param(c, 0);
    if (id == NULL || strlen(id) > FG_USER_ID_MAX) {
        fg_reply_error(c, 404, "not_found", "no such active staff user", NULL);
        return;
    }
    static const char *const keys[] = {"grant", "revoke"};
    json_t *head = json_pack("{s:s}", "user_id", id);
    struct job *job = job_new(c);
    fg_rc rc =
        job != NULL && head != NULL ? payload_of(body, keys, 2, head, job->payload) : FG_ERR_NOMEM;
    json_decref(head);
    if (rc) {
        job_free(job);
        fg_reply_rc(c, rc, NULL);
        return;
    }
    job->action = "users.roles";
    submit_request(c, job);
}

static void rotate_route(struct fg_call *c)
{
    const char *purpose = fg_call_param(c, 0);
    enum fg_key_purpose p;
    if (purpose == NULL || fg_key_purpose_parse(purpose, &p) != FG_OK) {
        fg_reply_error(c, 404, "not_found", "no such key purpose", NULL);
        return;
    }
    struct job *job = job_new(c);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    snprintf(job->payload, sizeof job->payload, "{\"purpose\":\"%s\"}", fg_key_purpose_name(p));
    job->action = "keys.rotate";
    submit_request(c, job);
}

static void unlock_route(struct fg_call *c)
{
    const char *id = fg_call_param(c, 0);
    size_t n = id ? strlen(id) : 0;
    int ok = n > 0 && n <= FG_USER_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9');
    if (!ok) {
        fg_reply_error(c, 404, "not_found", "no such user", NULL);
        return;
    }
    struct job *job = job_new(c);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    snprintf(job->payload, sizeof job->payload, "{\"user_id\":\"%s\"}", id);
    job->action = "users.unlock";
    submit_request(c, job);
}

/* ---- reads ---------------------------------------------------------------------------------- */

struct read_job {
    struct fg_iam *iam;
    char id[FG_USER_ID_MAX + 1];
    struct fg_user user;
    /* approvals */
    enum fg_approval_state state;
    unsigned limit;
    struct fg_approval_cursor after, next;
    int has_after, more;
    json_t *list;
    /* the caller, for need-to-know (IAM-1) in the approvals list */
    uint32_t caller_roles;
    char caller_id[FG_USER_ID_MAX + 1];
};

static void read_job_free(struct read_job *job)
{
    json_decref(job->list);
    fg_wipe(job, sizeof *job); /* the user row held a password hash */
    free(job);
}

static fg_rc user_work(void *arg)
{
    struct read_job *job = arg;
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(job->iam->store, &conn);
    if (rc)
        return rc;
    rc = fg_user_load(conn, job->iam->roles, job->id, &job->user);
    fg_store_read_release(job->iam->store, conn);
    if (rc == FG_OK && !job->user.staff)
        rc = FG_ERR_NOT_FOUND; /* customers are read through /v1/customers */
    return rc;
}

static json_t *user_json(const struct fg_roles *roles, const struct fg_user *u)
{
    int64_t now = fg_time_wall_ms();
    json_t *list = json_array();
    for (int id = 0; list != NULL && id < fg_roles_role_count(roles); id++)
        if (u->role_mask & (1u << id))
            json_array_append_new(list, json_string(fg_roles_role_name(roles, id)));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:b}", "id", u->id, "username",
                          u->username, "kind", "staff", "status", u->active ? "active" : "disabled",
                          "roles", list, "must_change_password", u->must_change_password,
                          "totp_enrolled", u->totp_enrolled, "locked", u->locked_until_ms > now);
    if (o != NULL && u->expires_ms != 0)
        set_time(o, "expires_at", u->expires_ms);
    else if (o != NULL)
        json_object_set_new(o, "expires_at", json_null());
    return o;
}

static void user_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct read_job *job = arg;
    if (c != NULL && rc == FG_ERR_NOT_FOUND)
        fg_reply_error(c, 404, "not_found", "no such staff user", NULL);
    else if (c != NULL && rc != FG_OK)
        fg_reply_rc(c, rc, NULL);
    else if (c != NULL)
        fg_reply_json(c, 200, user_json(job->iam->roles, &job->user));
    read_job_free(job);
}

static void user_route(struct fg_call *c)
{
    const char *id = fg_call_param(c, 0);
    if (id == NULL || strlen(id) > FG_USER_ID_MAX) {
        fg_reply_error(c, 404, "not_found", "no such staff user", NULL);
        return;
    }
    struct read_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->iam = fg_call_app(c)->iam;
    memcpy(job->id, id, strlen(id) + 1);
    if (fg_call_defer(c, user_work, job, user_done) != FG_OK)
        read_job_free(job);
}

/* Need-to-know (IAM-1): a payload (for users.create: the new user's name and contact) and
 * a result are shown to the requester and to those who may approve that class; everyone
 * else with approvals.read sees that an approval exists, its action and state, no content. */
static fg_rc approval_row(void *ctx, const struct fg_approval *ap)
{
    struct read_job *job = ctx;
    json_t *o = approval_json(ap);
    if (o == NULL)
        return FG_ERR_NOMEM;
    if (strcmp(ap->requester_id, job->caller_id) != 0 &&
        !fg_roles_can_approve(job->iam->roles, job->caller_roles, ap->action_class)) {
        json_object_del(o, "payload");
        json_object_del(o, "result");
    }
    return json_array_append_new(job->list, o) == 0 ? FG_OK : FG_ERR_NOMEM;
}

static fg_rc approvals_work(void *arg)
{
    struct read_job *job = arg;
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(job->iam->store, &conn);
    if (rc)
        return rc;
    rc = fg_approval_list(conn, job->state, job->limit, job->has_after ? &job->after : NULL,
                          approval_row, job, &job->next, &job->more);
    fg_store_read_release(job->iam->store, conn);
    return rc;
}

static void approvals_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct read_job *job = arg;
    if (c != NULL && rc != FG_OK) {
        fg_reply_rc(c, rc, NULL);
    } else if (c != NULL) {
        char cursor[FG_APPROVAL_CURSOR_TEXT_SIZE];
        fg_approval_cursor_format(&job->next, cursor);
        json_t *body = json_pack("{s:O, s:o}", "approvals", job->list, "next_cursor",
                                 job->more ? json_string(cursor) : json_null());
        fg_reply_json(c, 200, body);
    }
    read_job_free(job);
}

/* ?state= (default pending; "any" for all), ?limit= (1..100), ?cursor= (from next_cursor).
 * NULL, or the name of the parameter that is wrong. */
static const char *approvals_query(struct fg_call *c, struct read_job *job)
{
    const char *state = fg_call_query(c, "state");
    const char *limit = fg_call_query(c, "limit");
    const char *cursor = fg_call_query(c, "cursor");
    job->state = FG_APPROVAL_PENDING;
    if (state != NULL && strcmp(state, "any") == 0)
        job->state = FG_APPROVAL_ANY;
    else if (state != NULL && fg_approval_state_parse(state, &job->state) != FG_OK)
        return "state";
    job->limit = APPROVALS_PAGE_DEFAULT;
    if (limit != NULL) {
        char *end = NULL;
        long v = strtol(limit, &end, 10);
        if (end == limit || *end != '\0' || v < 1 || v > (long)FG_APPROVAL_LIST_MAX)
            return "limit";
        job->limit = (unsigned)v;
    }
    if (cursor != NULL) {
        if (fg_approval_cursor_parse(cursor, &job->after) != FG_OK)
            return "cursor";
        job->has_after = 1;
    }
    return NULL;
}

static void approvals_route(struct fg_call *c)
{
    struct read_job *job = calloc(1, sizeof *job);
    if (job == NULL || (job->list = json_array()) == NULL) {
        free(job);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->iam = fg_call_app(c)->iam;
    const struct fg_session *who = fg_call_session(c);
    job->caller_roles = who->role_mask;
    snprintf(job->caller_id, sizeof job->caller_id, "%s", who->user_id);
    const char *field = approvals_query(c, job);
    if (field != NULL) {
        read_job_free(job);
        fg_reply_error(c, 400, "invalid_argument",
                       "state is pending|approved|rejected|expired|failed|any, limit 1-100, "
                       "cursor from next_cursor",
                       field);
        return;
    }
    if (fg_call_defer(c, approvals_work, job, approvals_done) != FG_OK)
        read_job_free(job);
}

/* ---- registration --------------------------------------------------------------------------- */

fg_rc fg_routes_users(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    fg_rc rc = register_actions();
    const struct fg_route routes[] = {
        {.method = "POST",
         .pattern = "/v1/users",
         .permission = "users.create",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = create_route},
        {.method = "GET",
         .pattern = "/v1/users/{id}",
         .permission = "users.read",
         .fn = user_route},
        {.method = "POST",
         .pattern = "/v1/users/{id}/unlock",
         .permission = "users.unlock",
         .fn = unlock_route},
        {.method = "POST",
         .pattern = "/v1/keys/{purpose}/rotate",
         .permission = "keys.rotate",
         .fn = rotate_route},
        {.method = "POST",
         .pattern = "/v1/users/{id}/roles",
         .permission = "users.roles",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = roles_route},
        {.method = "GET",
         .pattern = "/v1/approvals",
         .permission = "approvals.read",
         .fn = approvals_route},
        /* approve.<class> is checked inside the decision (policy_can_approve): the class is
         * known only once the approval is read on the writer */
        {.method = "POST",
         .pattern = "/v1/approvals/{id}/approve",
         .permission = "approvals.read",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = approve_route},
        {.method = "POST",
         .pattern = "/v1/approvals/{id}/reject",
         .permission = "approvals.read",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = reject_route},
    };
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    return rc;
}
