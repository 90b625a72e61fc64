/*
 * routes_customers.c — customers, their protected personal data and their cards (issue #5;
 * REQUIREMENTS ACC-1..5, DATA-3, DATA-4, AUTH-8; API.md "Customers, cards, accounts, money";
 * docs/API.md "Customers and cards (issue #5)"):
 *   POST  /v1/customers                       customers.create → 201 login + activation code
 *   GET   /v1/customers/{id}                  customers.read: owner or staff, masked;
 *                                             ?reveal=<field>&reason=… needs the field's reveal
 *                                             permission (pii.reveal), audited, an event
 *   PATCH /v1/customers/{id}                  customers.update: name / e-mail at once (ACC-3);
 *                                             phone → 202, four-eyes + the old phone's code
 *   POST  /v1/customers/{id}/phone/confirm    customers.update: the old phone's code
 *   POST  /v1/customers/{id}/destroy          customers.destroy → 202, four-eyes (ACC-4)
 *   GET   /v1/customers/{id}/cards            customers.read: owner or staff, masked
 *   POST  /v1/customers/{id}/cards            cards.create: tokenise a PAN (never a CVV)
 *   POST  /v1/cards/detokenize                cards.detokenize: PAN of a token, with a reason
 *
 * Every change is one write intent with its audit record (and, for reveals and
 * detokenisation, an event) in the same transaction; refusals on the merits are audited as
 * denied. Reads run on a worker with a read lease. The object-level rule (IDOR): a customer
 * session reads only the customer whose login it is; any other id — existing or not, well
 * formed or not — gets the same 403 and an `access.denied` record, so walking ids reveals
 * nothing. Staff get 404 for unknown ids.
 *
 * Secrets: request bodies that carry personal data or a PAN are copied into locked memory
 * (struct secrets) and wiped in place (fg_call_wipe_body) before anything else happens; the
 * secrets are wiped with the job. Audit details hold masked values only, never a PAN, phone
 * or ID number; error messages never echo a value.
 *
 * Four-eyes actions registered here (iam/approval.h): `customers.phone` (class phone) and
 * `customers.destroy` (class destroy). They reach the services through fg_http_action_app(),
 * which this file's request intents and routes_users.c's decide intent set on the writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "event/event.h"
#include "http/call.h"
#include "http/server.h"
#include "iam/approval.h"
#include "iam/iam.h"
#include "ledger/card.h"
#include "ledger/customer.h"
#include "ledger/ledger.h"
#include "notify/otp.h"
#include "notify/outbox.h"
#include "protect/card.h"
#include "protect/fields.h"
#include "protect/mask.h"

/* A reason (reveal, detokenise, destroy, change): a sentence, as approvals bound theirs. */
#define CUSTOMERS_REASON_CHARS_MAX 256u
#define CUSTOMERS_REASON_BYTES_MAX (CUSTOMERS_REASON_CHARS_MAX * 4u)
/* Customer login names: "c" + 11 of [a-z0-9] (36^11 ≈ 1.3e17); drawn again when taken. */
#define CUSTOMERS_USERNAME_RANDOM 11u
#define CUSTOMERS_USERNAME_TRIES 4
/* Activation codes (API.md /v1/auth/activate): 72 h, 5 tries, 10 per hour. */
#define CUSTOMERS_ACTIVATION_TTL_MS (72LL * 3600 * 1000)
/* Phone-change confirmation codes as sent: 6 digits, a little room so that a wrong length
 * is a wrong code (counted), not a malformed request. */
#define CUSTOMERS_CODE_TEXT_MAX 8u
/* A PAN as sent: 13..19 digits; room so that a wrong length is refused by the PAN rules
 * with their reason rather than by the JSON length check. */
#define CUSTOMERS_PAN_TEXT_MAX 64u
/* The card verification codes that are refused wherever they appear in a card body. */
static const char *const CVV_NAMES[] = {"cvv", "cvv2", "cvc", "cvn", "cvc2"};

static const struct fg_otp_policy ACTIVATION_POLICY = {
    .ttl_ms = CUSTOMERS_ACTIVATION_TTL_MS,
    .tries_max = 5,
    .issues_per_window = 10,
    .window_ms = 3600 * 1000,
};

/* ---- the job every flow of this file uses --------------------------------------------------- */

/* Clear values: locked memory, wiped with the job. */
struct secrets {
    char name[FG_CUSTOMER_VALUE_SIZE];
    char id_number[FG_CUSTOMER_ID_NUMBER_MAX + 1];
    char phone[FG_CUSTOMER_PHONE_SIZE];
    char email[FG_CUSTOMER_EMAIL_MAX + 1];
    char pan[FG_PAN_SIZE];
    char token[FG_PAN_SIZE];
    char code[FG_OTP_CODE_SIZE + CUSTOMERS_CODE_TEXT_MAX];
    char value[FG_CUSTOMER_VALUE_SIZE]; /* a revealed field or a detokenised PAN */
    char old_phone[FG_CUSTOMER_PHONE_SIZE];
};

struct job {
    struct fg_app *app;
    struct fg_iam *iam;
    fg_keys *keys;
    const struct fg_fields *fields;
    char actor_id[FG_SESSION_USER_ID_MAX + 1];
    uint32_t actor_mask;
    int staff;
    char id[FG_CUSTOMER_ID_SIZE]; /* the path's customer id when well formed, else "" */
    /* create */
    char username[FG_USERNAME_MAX + 1];
    char user_id[FG_USER_ID_MAX + 1];
    char purpose[FG_CUSTOMER_PURPOSE_MAX + 1];
    int has_email;
    int64_t expires_ms;
    char masked[FG_CUSTOMER_FIELD_COUNT][FG_MASK_OUT_MAX];
    /* reads */
    struct fg_customer_view view;
    int denied; /* IDOR: 403 once the access.denied record committed */
    int reveal;
    enum fg_customer_field field;
    char reason[CUSTOMERS_REASON_BYTES_MAX + 1];
    int has_reason;
    json_t *list;
    /* cards */
    struct fg_card_view card;
    char card_id[FG_CARD_ID_SIZE];
    int existing;
    /* changes */
    int set[FG_CUSTOMER_FIELD_COUNT];
    char before[FG_CUSTOMER_FIELD_COUNT][FG_MASK_OUT_MAX];
    char after[FG_CUSTOMER_FIELD_COUNT][FG_MASK_OUT_MAX];
    char approval_id[FG_APPROVAL_ID_SIZE];
    char change_id[FG_CUSTOMER_ID_SIZE];
    char payload[FG_APPROVAL_PAYLOAD_MAX + 1];
    const char *action;
    /* outcome */
    fg_rc verdict;   /* a refusal decided inside an intent that still commits */
    const char *why; /* static sentence for the answer */
    const char *field_name;
    struct secrets *sec;
    struct fg_audit_record rec;
};

static struct job *job_new(struct fg_call *c)
{
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->sec = fg_secure_alloc(sizeof *j->sec);
    if (j->sec == NULL) {
        free(j);
        return NULL;
    }
    memset(j->sec, 0, sizeof *j->sec);
    const struct fg_session *s = fg_call_session(c);
    j->app = fg_call_app(c);
    j->iam = j->app->iam;
    j->keys = j->iam->keys;
    j->fields = j->app->fields;
    snprintf(j->actor_id, sizeof j->actor_id, "%s", s->user_id);
    j->actor_mask = s->role_mask;
    j->staff = s->staff;
    return j;
}

/* The start of a route whose body carries a secret (a PAN, a phone, a code): the body is
 * checked against its fields and a job made; on failure the body is wiped and the answer
 * given (NULL). On success the caller copies what it needs and wipes the body itself. */
static struct job *job_for_secret_body(struct fg_call *c, json_t *body,
                                       const struct fg_json_field *fields, size_t n)
{
    struct fg_json_error err;
    if (fg_json_check(body, fields, n, &err) != FG_OK) {
        fg_call_wipe_body(c);
        fg_reply_json_error(c, &err);
        return NULL;
    }
    struct job *j = job_new(c);
    if (j == NULL) {
        fg_call_wipe_body(c);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
    }
    return j;
}

static void job_free(struct job *j)
{
    if (j == NULL)
        return;
    fg_secure_free(j->sec);
    json_decref(j->list);
    fg_wipe(j, sizeof *j);
    free(j);
}

/* ---- small helpers -----------------------------------------------------------------------------
 */

static void reply_refusal(struct fg_call *c, fg_rc rc, const char *why, const char *field)
{
    const char *code = NULL;
    int status = fg_http_status_of(rc, &code);
    if (why == NULL || status >= 500)
        fg_reply_rc(c, rc, field);
    else
        fg_reply_error(c, status, code, why, field);
}

/* Keep the record's action and actor; point it at another object (as approval.c does). */
static fg_rc record_point(struct fg_audit_record *rec, const char *type, const char *id)
{
    struct fg_audit_record copy = *rec;
    const struct fg_audit_actor who = {.request_id = copy.request_id,
                                       .actor_id = copy.actor_id,
                                       .actor_role = copy.actor_role,
                                       .source_ip = copy.source_ip,
                                       .device_id = copy.device_id};
    return fg_audit_record_init(rec, &who, copy.action, type, id);
}

/* Details from o (consumed). */
static fg_rc record_details(struct fg_audit_record *rec, json_t *o)
{
    if (o == NULL)
        return FG_ERR_NOMEM;
    char buf[FG_AUDIT_DETAILS_MAX + 1];
    size_t n = json_dumpb(o, buf, FG_AUDIT_DETAILS_MAX, JSON_COMPACT);
    json_decref(o);
    if (n == 0 || n > FG_AUDIT_DETAILS_MAX)
        return n == 0 ? FG_ERR_NOMEM : FG_ERR_TOO_LARGE;
    return fg_audit_record_details(rec, buf, n);
}

static fg_rc start_record(struct fg_call *c, struct job *j, const char *action, const char *type,
                          const char *id)
{
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    return fg_audit_record_init(&j->rec, &who, action, type, id);
}

/* An event of the monitor (event/event.h) with the record's actor. */
static fg_rc emit(fg_conn *conn, const struct fg_audit_record *rec, const char *type,
                  const char *object_type, const char *object_id, json_t *attrs)
{
    char *text = attrs != NULL ? json_dumps(attrs, JSON_COMPACT) : NULL;
    json_decref(attrs);
    if (text == NULL)
        return FG_ERR_NOMEM;
    const struct fg_event ev = {.type = type,
                                .actor_id = rec->actor_id,
                                .source_ip = rec->source_ip,
                                .device_id = rec->device_id,
                                .object_type = object_type,
                                .object_id = object_id,
                                .attrs_json = text};
    fg_rc rc = fg_event_emit(conn, &ev, fg_time_wall_ms());
    free(text);
    return rc;
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
    char t[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(ms, t);
    json_object_set_new(o, key, json_string(t));
}

/* The path's customer id into j->id when well formed (else ""); 1 if well formed. */
static int path_id(struct fg_call *c, struct job *j)
{
    const char *id = fg_call_param(c, 0);
    if (id == NULL || !fg_customer_id_valid(id, FG_CUSTOMER_ID_PREFIX)) {
        j->id[0] = '\0';
        return 0;
    }
    memcpy(j->id, id, FG_CUSTOMER_ID_SIZE);
    return 1;
}

/* UTF-8 text of 1..max_chars characters without control characters, copied with its NUL. */
static int text_ok(const char *s, size_t n, size_t max_chars)
{
    if (n == 0 || n > max_chars * 4)
        return 0;
    size_t chars = 0;
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)s[i];
        size_t len = b < 0x80             ? 1
                     : (b & 0xe0) == 0xc0 ? 2
                     : (b & 0xf0) == 0xe0 ? 3
                     : (b & 0xf8) == 0xf0 ? 4
                                          : 0;
        if (len == 0 || i + len > n || b < 0x20 || b == 0x7f)
            return 0;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xc0) != 0x80)
                return 0;
        if (len == 2 && b == 0xc2 && (unsigned char)s[i + 1] < 0xa0)
            return 0; /* C1 controls */
        i += len;
        chars++;
    }
    return chars <= max_chars;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A percent-encoded query value ('+' is a space) into out; 0 if malformed or not text. */
static int query_text(const char *raw, char *out, size_t cap, size_t max_chars)
{
    size_t n = 0;
    for (const char *p = raw; *p != '\0'; p++) {
        int v = (unsigned char)*p;
        if (*p == '%') {
            int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
            if (hi < 0 || lo < 0)
                return 0;
            v = hi * 16 + lo;
            p += 2;
        } else if (*p == '+') {
            v = ' ';
        }
        if (n + 1 >= cap)
            return 0;
        out[n++] = (char)v;
    }
    out[n] = '\0';
    if (!text_ok(out, n, max_chars) || strlen(out) != n)
        return 0;
    json_t *t = json_string(out); /* jansson's UTF-8 check (overlong, surrogates) */
    json_decref(t);
    return t != NULL;
}

/* The body's reason member (optional unless required) into j->reason. */
static int body_reason(json_t *body, struct job *j)
{
    json_t *r = json_object_get(body, "reason");
    if (r == NULL)
        return 1;
    const char *s = json_string_value(r);
    size_t n = json_string_length(r);
    if (s == NULL || !text_ok(s, n, CUSTOMERS_REASON_CHARS_MAX) || n >= sizeof j->reason)
        return 0;
    memcpy(j->reason, s, n + 1);
    j->has_reason = 1;
    return 1;
}

/* A card-verification member anywhere at the top of a card body (any letter case). */
static const char *cvv_member(json_t *body)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        (void)v;
        for (size_t i = 0; i < sizeof CVV_NAMES / sizeof CVV_NAMES[0]; i++)
            if (strcasecmp(key, CVV_NAMES[i]) == 0)
                return CVV_NAMES[i];
    }
    return NULL;
}

static fg_rc new_username(char out[FG_USERNAME_MAX + 1])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t raw[CUSTOMERS_USERNAME_RANDOM * 2];
    out[0] = 'c';
    size_t n = 1;
    while (n < 1 + CUSTOMERS_USERNAME_RANDOM) {
        fg_rc rc = fg_random(raw, sizeof raw);
        if (rc)
            return rc;
        for (size_t i = 0; i < sizeof raw && n < 1 + CUSTOMERS_USERNAME_RANDOM; i++)
            if (raw[i] < 252) /* 252 = 7 × 36: no modulo bias */
                out[n++] = alphabet[raw[i] % 36];
    }
    out[n] = '\0';
    fg_wipe(raw, sizeof raw);
    return FG_OK;
}

/* The masked display of a clear value by its field's default rule. */
static void mask_default(const struct fg_fields *f, enum fg_customer_field field, const char *v,
                         char out[FG_MASK_OUT_MAX])
{
    const struct fg_field_spec *s = fg_customer_field_spec(f, field);
    if (s == NULL || fg_mask(s->mask, v, strlen(v), out, FG_MASK_OUT_MAX) != FG_OK)
        out[0] = '\0';
}

/* ---- answers ------------------------------------------------------------------------------------
 */

static json_t *view_json(const struct fg_customer_view *v, int clear_field, const char *clear)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", v->id, "username", v->username, "status",
                          v->destroyed ? "destroyed" : "active", "purpose", v->purpose);
    if (o == NULL)
        return NULL;
    for (int i = 0; i < FG_CUSTOMER_FIELD_COUNT; i++) {
        const char *name = fg_customer_field_name((enum fg_customer_field)i);
        if (i == clear_field && clear != NULL)
            json_object_set_new(o, name, json_string(clear));
        else if (v->present[i])
            json_object_set_new(o, name, json_string(v->masked[i]));
        else
            json_object_set_new(o, name, json_null());
    }
    set_time(o, "created_at", v->created_ms);
    json_t *consent = json_loads(v->consent, 0, NULL);
    if (consent != NULL)
        json_object_set_new(o, "consent", consent);
    if (v->destroyed) {
        set_time(o, "destroyed_at", v->destroyed_ms);
        json_object_set_new(o, "destroy_method", json_string(v->destroy_method));
    }
    if (clear_field >= 0)
        json_object_set_new(
            o, "revealed",
            json_string(fg_customer_field_name((enum fg_customer_field)clear_field)));
    return o;
}

static json_t *card_json(struct job *j, const struct fg_card_view *card)
{
    char shown[FG_MASK_OUT_MAX] = "";
    if (fg_card_display(j->fields, j->iam->roles, j->actor_mask, card, shown) != FG_OK)
        shown[0] = '\0';
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", card->id, "card_token", card->token,
                          "status", card->destroyed ? "destroyed" : "active", "masked", shown);
    if (o != NULL)
        set_time(o, "created_at", card->created_ms);
    if (o != NULL && card->destroyed)
        json_object_set_new(o, "masked", json_null());
    return o;
}

/* ---- the object-level rule (IDOR) ---------------------------------------------------------------
 */

static void denied_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc != FG_OK)
        fg_reply_rc(c, rc, NULL);
    else if (c != NULL)
        fg_reply_error(c, 403, "permission_denied",
                       "a customer may read only their own customer record", NULL);
    job_free(j);
}

/* Answer 403 after an access.denied record for this customer id. */
static void deny_object(struct fg_call *c, struct job *j)
{
    fg_rc rc = start_record(c, j, "access.denied", "customer", j->id);
    json_t *d = json_pack("{s:s, s:s}", "permission", fg_call_route(c)->permission, "reason",
                          j->id[0] ? "not the customer's own record" : "malformed customer id");
    if (rc == FG_OK)
        rc = record_details(&j->rec, d);
    else
        json_decref(d);
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        job_free(j);
        return;
    }
    fg_audit_record_result(&j->rec, FG_AUDIT_RESULT_DENIED, FG_ERR_PERMISSION);
    if (fg_call_write_record(c, fg_audit_record_only, j, &j->rec, denied_done) != FG_OK)
        job_free(j);
}

/* On a read lease: may this session see the customer? Sets j->denied for a customer session
 * that is not the owner; FG_ERR_NOT_FOUND for staff and an unknown id. */
static fg_rc owner_check(fg_conn *conn, struct job *j)
{
    char owner[FG_USER_ID_MAX + 1];
    fg_rc rc = fg_customer_owner(conn, j->id, owner, NULL);
    if (!j->staff && (rc == FG_ERR_NOT_FOUND || (rc == FG_OK && strcmp(owner, j->actor_id) != 0))) {
        j->denied = 1;
        return FG_OK;
    }
    return rc;
}

/* ---- POST /v1/customers --------------------------------------------------------------------- */

static fg_rc create_intent(fg_conn *conn, void *arg)
{
    struct job *j = arg;
    struct secrets *sec = j->sec;
    fg_rc rc = FG_ERR_CONFLICT;
    for (int i = 0; i < CUSTOMERS_USERNAME_TRIES && rc == FG_ERR_CONFLICT; i++) {
        struct fg_user u;
        rc = fg_user_load_by_name(conn, j->iam->roles, j->username, &u);
        fg_wipe(&u, sizeof u);
        if (rc == FG_OK) /* taken: draw another */
            rc = new_username(j->username) == FG_OK ? FG_ERR_CONFLICT : FG_ERR_INTERNAL;
        else if (rc == FG_ERR_NOT_FOUND)
            rc = FG_OK;
    }
    if (rc)
        return rc;
    static const char *const roles[] = {"customer"};
    const struct fg_user_new u = {.username = j->username,
                                  .staff = 0,
                                  .password_hash = NULL,
                                  .roles = roles,
                                  .nroles = 1,
                                  .contact = "",
                                  .created_by = j->actor_id};
    rc = fg_user_insert(conn, &u, j->user_id);
    int64_t now = fg_time_wall_ms();
    const struct fg_customer_new in = {.id = j->id,
                                       .user_id = j->user_id,
                                       .name = sec->name,
                                       .id_number = sec->id_number,
                                       .phone = sec->phone,
                                       .email = j->has_email ? sec->email : NULL,
                                       .purpose = j->purpose,
                                       .created_by = j->actor_id};
    if (rc == FG_OK) {
        rc = fg_customer_create(conn, j->keys, j->fields, &in, now, &j->field_name, &j->why);
        if ((rc == FG_ERR_CONFLICT || rc == FG_ERR_INVALID) && j->field_name != NULL) {
            /* refused on the merits (a duplicate by blind index): which field, no value */
            fg_rc drc = record_details(&j->rec, json_pack("{s:s}", "refused", j->field_name));
            fg_audit_record_result(&j->rec, FG_AUDIT_RESULT_DENIED, rc);
            if (drc)
                return drc;
        }
    }
    if (rc == FG_OK)
        rc = fg_otp_issue(conn, j->keys, &ACTIVATION_POLICY, j->user_id, "activation", "",
                          sec->code, &j->expires_ms);
    if (rc == FG_OK && j->app->outbox != NULL) {
        char text[FG_USERNAME_MAX + 160];
        snprintf(text, sizeof text,
                 "finguard: welcome. Your online banking login is %s. Activate it within 72 "
                 "hours with the code of this message and choose your password.",
                 j->username);
        const struct fg_outbox_msg m = {.to = sec->phone,
                                        .channel = FG_OUTBOX_SMS,
                                        .purpose = "activation",
                                        .text = text,
                                        .code = sec->code};
        rc = fg_outbox_add(j->app->outbox, conn, &m);
        if (rc == FG_ERR_LIMIT)
            rc = FG_ERR_BUSY;
    }
    if (rc == FG_OK) {
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "user_id", j->user_id, "username",
                              j->username, "name", j->masked[FG_CUSTOMER_NAME], "identity",
                              j->masked[FG_CUSTOMER_ID_NUMBER], "phone",
                              j->masked[FG_CUSTOMER_PHONE], "purpose", j->purpose);
        if (d != NULL)
            json_object_set_new(
                d, "email", j->has_email ? json_string(j->masked[FG_CUSTOMER_EMAIL]) : json_null());
        rc = record_details(&j->rec, d);
    }
    return rc;
}

static void create_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc != FG_OK) {
        reply_refusal(c, rc, j->why, j->field_name);
    } else if (c != NULL) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", j->id, "username", j->username,
                              "user_id", j->user_id, "activation_code", j->sec->code);
        if (o != NULL)
            set_time(o, "activation_expires_at", j->expires_ms);
        fg_reply_json(c, 201, o);
    }
    if (rc == FG_OK)
        fg_log(FG_LOG_INFO, "customers.created", FG_LF_STR("customer_id", j->id));
    job_free(j);
}

static const struct fg_json_field create_body[] = {
    {"name", FG_JSON_STRING, 1, 1, FG_CUSTOMER_NAME_CHARS_MAX},
    {"id_number", FG_JSON_STRING, 1, 15, FG_CUSTOMER_ID_NUMBER_MAX},
    {"phone", FG_JSON_STRING, 1, 11, FG_CUSTOMER_PHONE_MAX},
    {"email", FG_JSON_STRING, 0, 3, FG_CUSTOMER_EMAIL_MAX},
    {"purpose", FG_JSON_STRING, 0, 1, FG_CUSTOMER_PURPOSE_MAX},
};

/* Validate and copy the create body into j (clear values into locked memory). */
static fg_rc create_fields(json_t *body, struct job *j, const char **field, const char **why)
{
    struct secrets *sec = j->sec;
    json_t *v = json_object_get(body, "name");
    *field = "name";
    *why = "must be 1-64 characters of UTF-8 text without control characters";
    if (fg_customer_name_check(json_string_value(v), json_string_length(v)) != FG_OK)
        return FG_ERR_INVALID;
    memcpy(sec->name, json_string_value(v), json_string_length(v) + 1);
    v = json_object_get(body, "id_number");
    *field = "id_number";
    *why = "must be a resident ID number: 18 characters with a valid check digit, or 15 digits";
    if (fg_customer_id_number_check(json_string_value(v), json_string_length(v), sec->id_number))
        return FG_ERR_INVALID;
    v = json_object_get(body, "phone");
    *field = "phone";
    *why = "must be an E.164 number (+ and 8-15 digits) or an 11-digit mobile number starting "
           "with 1";
    if (fg_customer_phone_normalize(json_string_value(v), json_string_length(v), sec->phone))
        return FG_ERR_INVALID;
    v = json_object_get(body, "email");
    if (v != NULL) {
        *field = "email";
        *why = "must be an e-mail address of at most 254 characters";
        if (fg_customer_email_check(json_string_value(v), json_string_length(v)) != FG_OK)
            return FG_ERR_INVALID;
        memcpy(sec->email, json_string_value(v), json_string_length(v) + 1);
        j->has_email = 1;
    }
    v = json_object_get(body, "purpose");
    const char *purpose = v != NULL ? json_string_value(v) : FG_CUSTOMER_PURPOSE_DEFAULT;
    *field = "purpose";
    *why = "must be 1-64 characters of a-z, 0-9, '_'";
    if (fg_customer_purpose_check(purpose, strlen(purpose)) != FG_OK)
        return FG_ERR_INVALID;
    snprintf(j->purpose, sizeof j->purpose, "%s", purpose);
    *field = *why = NULL;
    return FG_OK;
}

static void create_route(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct job *j =
        job_for_secret_body(c, body, create_body, sizeof create_body / sizeof create_body[0]);
    if (j == NULL)
        return;
    const char *field = NULL, *why = NULL;
    fg_rc rc = create_fields(body, j, &field, &why);
    fg_call_wipe_body(c);
    if (rc == FG_OK)
        rc = fg_customer_fields_check(j->fields, NULL);
    if (rc == FG_OK)
        rc = fg_customer_new_id(FG_CUSTOMER_ID_PREFIX, j->id);
    if (rc == FG_OK)
        rc = new_username(j->username);
    if (rc == FG_OK) {
        mask_default(j->fields, FG_CUSTOMER_NAME, j->sec->name, j->masked[FG_CUSTOMER_NAME]);
        mask_default(j->fields, FG_CUSTOMER_ID_NUMBER, j->sec->id_number,
                     j->masked[FG_CUSTOMER_ID_NUMBER]);
        mask_default(j->fields, FG_CUSTOMER_PHONE, j->sec->phone, j->masked[FG_CUSTOMER_PHONE]);
        if (j->has_email)
            mask_default(j->fields, FG_CUSTOMER_EMAIL, j->sec->email, j->masked[FG_CUSTOMER_EMAIL]);
        rc = start_record(c, j, "customers.create", "customer", j->id);
    }
    if (rc) {
        reply_refusal(c, rc, why, field);
        job_free(j);
        return;
    }
    if (fg_call_write_record(c, create_intent, j, &j->rec, create_done) != FG_OK)
        job_free(j);
}

/* ---- GET /v1/customers/{id} ----------------------------------------------------------------- */

static fg_rc read_work(void *arg)
{
    struct job *j = arg;
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(j->app->store, &conn);
    if (rc)
        return rc;
    rc = owner_check(conn, j);
    if (rc == FG_OK && !j->denied)
        rc = fg_customer_load_masked(conn, j->keys, j->fields, j->iam->roles, j->actor_mask, j->id,
                                     &j->view);
    fg_store_read_release(j->app->store, conn);
    return rc;
}

/* A customer read that failed: 404 for an unknown customer, the error shape otherwise.
 * 1 if it answered. */
static int owner_read_refused(struct fg_call *c, fg_rc rc)
{
    if (rc == FG_ERR_NOT_FOUND)
        fg_reply_error(c, 404, "not_found", "no such customer", NULL);
    else if (rc != FG_OK)
        fg_reply_rc(c, rc, NULL);
    return rc != FG_OK;
}

static void read_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc == FG_OK && j->denied) {
        deny_object(c, j); /* answers and frees */
        return;
    }
    if (c != NULL && !owner_read_refused(c, rc))
        fg_reply_json(c, 200, view_json(&j->view, -1, NULL));
    job_free(j);
}

/* The reveal intent: owner rule again, the field in clear, the masked rest, the event. */
static fg_rc reveal_intent(fg_conn *conn, void *arg)
{
    struct job *j = arg;
    char owner[FG_USER_ID_MAX + 1];
    fg_rc rc = fg_customer_owner(conn, j->id, owner, NULL);
    if (rc == FG_OK && !j->staff && strcmp(owner, j->actor_id) != 0)
        rc = FG_ERR_PERMISSION;
    if (rc == FG_OK)
        rc = fg_customer_load_masked(conn, j->keys, j->fields, j->iam->roles, j->actor_mask, j->id,
                                     &j->view);
    if (rc == FG_OK) {
        rc = fg_customer_reveal(conn, j->keys, j->fields, j->id, j->field, j->sec->value,
                                sizeof j->sec->value, NULL);
        if (rc == FG_ERR_CONFLICT)
            j->why = "the customer's personal data has been destroyed";
        else if (rc == FG_ERR_NOT_FOUND)
            j->why = "the customer has no value for this field";
    }
    if (rc == FG_OK)
        rc = emit(conn, &j->rec, "pii.revealed", "customer", j->id,
                  json_pack("{s:s, s:s}", "customer_id", j->id, "field",
                            fg_customer_field_name(j->field)));
    if (rc == FG_ERR_PERMISSION || rc == FG_ERR_NOT_FOUND || rc == FG_ERR_CONFLICT)
        fg_audit_record_result(&j->rec, FG_AUDIT_RESULT_DENIED, rc);
    return rc;
}

static void reveal_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc == FG_OK)
        fg_reply_json(c, 200, view_json(&j->view, (int)j->field, j->sec->value));
    else if (c != NULL && rc == FG_ERR_NOT_FOUND && j->why == NULL)
        fg_reply_error(c, 404, "not_found", "no such customer", NULL);
    else if (c != NULL)
        reply_refusal(c, rc, j->why, NULL);
    job_free(j);
}

static void reveal_denied_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc != FG_OK)
        fg_reply_rc(c, rc, NULL);
    else if (c != NULL)
        fg_reply_error(c, 403, "permission_denied", j->why, "reveal");
    job_free(j);
}

static void reveal_route(struct fg_call *c, struct job *j, const char *field)
{
    if (fg_customer_field_parse(field, &j->field) != FG_OK) {
        fg_reply_error(c, 400, "invalid_argument", "reveal is one of name, id_number, phone, email",
                       "reveal");
        job_free(j);
        return;
    }
    const struct fg_field_spec *s = fg_customer_field_spec(j->fields, j->field);
    fg_rc rc = s != NULL ? start_record(c, j, "pii.reveal", "customer", j->id) : FG_ERR_CONFIG;
    json_t *d = json_pack("{s:s}", "field", fg_customer_field_name(j->field));
    const char *raw = fg_call_query(c, "reason");
    int reason_ok =
        raw != NULL && query_text(raw, j->reason, sizeof j->reason, CUSTOMERS_REASON_CHARS_MAX);
    if (d != NULL && reason_ok)
        json_object_set_new(d, "reason", json_string(j->reason));
    if (rc == FG_OK)
        rc = record_details(&j->rec, d);
    else
        json_decref(d);
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        job_free(j);
        return;
    }
    j->reveal = 1;
    /* the field's reveal permission (data/fields.yaml: pii.reveal); a refusal is audited */
    if (s->reveal_permission == NULL ||
        !fg_roles_has(j->iam->roles, j->actor_mask, s->reveal_permission)) {
        j->why = "showing personal data in clear needs the field's reveal permission";
        fg_audit_record_result(&j->rec, FG_AUDIT_RESULT_DENIED, FG_ERR_PERMISSION);
        if (fg_call_write_record(c, fg_audit_record_only, j, &j->rec, reveal_denied_done) != FG_OK)
            job_free(j);
        return;
    }
    if (!reason_ok) {
        fg_reply_error(c, 400, "invalid_argument",
                       "reason is required: 1-256 characters of percent-encoded UTF-8 text",
                       "reason");
        job_free(j);
        return;
    }
    if (fg_call_write_record(c, reveal_intent, j, &j->rec, reveal_done) != FG_OK)
        job_free(j);
}

static void read_route(struct fg_call *c)
{
    struct job *j = job_new(c);
    if (j == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    if (!path_id(c, j)) {
        if (j->staff) {
            fg_reply_error(c, 404, "not_found", "no such customer", NULL);
            job_free(j);
        } else {
            deny_object(c, j);
        }
        return;
    }
    const char *reveal = fg_call_query(c, "reveal");
    if (reveal != NULL) {
        reveal_route(c, j, reveal);
        return;
    }
    if (fg_call_defer(c, read_work, j, read_done) != FG_OK)
        job_free(j);
}

/* ---- GET /v1/customers/{id}/cards ----------------------------------------------------------- */

static fg_rc list_one(void *ctx, const struct fg_card_view *card)
{
    struct job *j = ctx;
    json_t *o = card_json(j, card);
    return o != NULL && json_array_append_new(j->list, o) == 0 ? FG_OK : FG_ERR_NOMEM;
}

static fg_rc cards_work(void *arg)
{
    struct job *j = arg;
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(j->app->store, &conn);
    if (rc)
        return rc;
    rc = owner_check(conn, j);
    if (rc == FG_OK && !j->denied)
        rc = fg_card_list(conn, j->id, list_one, j);
    fg_store_read_release(j->app->store, conn);
    return rc;
}

static void cards_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc == FG_OK && j->denied) {
        deny_object(c, j); /* answers and frees */
        return;
    }
    if (c != NULL && !owner_read_refused(c, rc))
        fg_reply_json(c, 200, json_pack("{s:s, s:O}", "customer_id", j->id, "cards", j->list));
    job_free(j);
}

static void cards_route(struct fg_call *c)
{
    struct job *j = job_new(c);
    if (j == NULL || (j->list = json_array()) == NULL) {
        job_free(j);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    if (!path_id(c, j)) {
        if (j->staff) {
            fg_reply_error(c, 404, "not_found", "no such customer", NULL);
            job_free(j);
        } else {
            deny_object(c, j);
        }
        return;
    }
    if (fg_call_defer(c, cards_work, j, cards_done) != FG_OK)
        job_free(j);
}

/* ---- POST /v1/customers/{id}/cards ---------------------------------------------------------- */

static fg_rc card_intent(fg_conn *conn, void *arg)
{
    struct job *j = arg;
    fg_rc rc =
        fg_card_add(conn, j->keys, j->fields, j->id, j->card_id, j->sec->pan, strlen(j->sec->pan),
                    j->actor_id, fg_time_wall_ms(), &j->card, &j->existing, &j->why);
    if (rc == FG_OK)
        rc = record_point(&j->rec, "card", j->card.id);
    if (rc == FG_OK)
        rc = record_details(&j->rec,
                            json_pack("{s:s, s:b}", "customer_id", j->id, "existing", j->existing));
    if (rc == FG_ERR_NOT_FOUND || rc == FG_ERR_CONFLICT || rc == FG_ERR_LIMIT)
        fg_audit_record_result(&j->rec, FG_AUDIT_RESULT_DENIED, rc);
    return rc;
}

static void card_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc == FG_OK) {
        char shown[FG_MASK_OUT_MAX] = "";
        if (fg_card_display(j->fields, j->iam->roles, j->actor_mask, &j->card, shown) != FG_OK)
            shown[0] = '\0';
        json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "id", j->card.id, "card_token", j->card.token,
                              "masked", shown, "existing", j->existing);
        fg_reply_json(c, j->existing ? 200 : 201, o);
    } else if (c != NULL) {
        reply_refusal(c, rc, j->why, rc == FG_ERR_INVALID ? "pan" : NULL);
    }
    job_free(j);
}

static const struct fg_json_field card_body[] = {
    {"pan", FG_JSON_STRING, 1, 1, CUSTOMERS_PAN_TEXT_MAX},
};

static void card_create_route(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    /* DATA-3: a verification code is never accepted — before any other rule, never echoed */
    const char *cvv = cvv_member(body);
    if (cvv != NULL) {
        fg_call_wipe_body(c);
        fg_reply_error(c, 400, "invalid_argument", "card verification codes are never accepted",
                       cvv);
        return;
    }
    struct job *j = job_for_secret_body(c, body, card_body, 1);
    if (j == NULL)
        return;
    json_t *pan = json_object_get(body, "pan");
    const char *why = NULL;
    fg_rc rc = fg_pan_check(json_string_value(pan), json_string_length(pan), &why);
    if (rc == FG_OK)
        memcpy(j->sec->pan, json_string_value(pan), json_string_length(pan) + 1);
    fg_call_wipe_body(c);
    if (rc) {
        fg_reply_error(c, 400, "invalid_argument",
                       why != NULL ? why : "must be a card number of 13-19 digits", "pan");
        job_free(j);
        return;
    }
    if (!path_id(c, j)) {
        fg_reply_error(c, 404, "not_found", "no such customer", NULL);
        job_free(j);
        return;
    }
    rc = fg_customer_new_id(FG_CARD_ID_PREFIX, j->card_id);
    if (rc == FG_OK)
        rc = start_record(c, j, "cards.create", "customer", j->id);
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        job_free(j);
        return;
    }
    if (fg_call_write_record(c, card_intent, j, &j->rec, card_done) != FG_OK)
        job_free(j);
}

/* ---- POST /v1/cards/detokenize -------------------------------------------------------------- */

static fg_rc detokenize_intent(fg_conn *conn, void *arg)
{
    struct job *j = arg;
    fg_rc rc = fg_card_detokenize(conn, j->keys, j->fields, j->sec->token, strlen(j->sec->token),
                                  j->sec->value, &j->card);
    if (rc == FG_OK)
        rc = record_point(&j->rec, "card", j->card.id);
    if (rc == FG_OK)
        rc = record_details(&j->rec, json_pack("{s:s, s:s}", "customer_id", j->card.customer_id,
                                               "reason", j->reason));
    if (rc == FG_OK)
        rc = emit(
            conn, &j->rec, "card.detokenized", "card", j->card.id,
            json_pack("{s:s, s:s}", "card_id", j->card.id, "customer_id", j->card.customer_id));
    if (rc == FG_ERR_NOT_FOUND || rc == FG_ERR_CONFLICT)
        fg_audit_record_result(&j->rec, FG_AUDIT_RESULT_DENIED, rc);
    return rc;
}

static void detokenize_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc == FG_OK)
        fg_reply_json(c, 200, json_pack("{s:s, s:s}", "pan", j->sec->value, "card_id", j->card.id));
    else if (c != NULL && rc == FG_ERR_NOT_FOUND)
        fg_reply_error(c, 404, "not_found", "no such card token", "card_token");
    else if (c != NULL && rc == FG_ERR_CONFLICT)
        fg_reply_error(c, 409, "conflict", "the card's data has been destroyed", "card_token");
    else if (c != NULL)
        fg_reply_rc(c, rc, NULL);
    job_free(j);
}

static const struct fg_json_field detokenize_body[] = {
    {"card_token", FG_JSON_STRING, 1, FG_PAN_MIN, FG_PAN_MAX},
    {"reason", FG_JSON_STRING, 1, 1, CUSTOMERS_REASON_CHARS_MAX},
};

static void detokenize_route(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, detokenize_body, 2, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    struct job *j = job_new(c);
    if (j == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    json_t *token = json_object_get(body, "card_token");
    const char *t = json_string_value(token);
    size_t n = json_string_length(token);
    int ok = fg_card_token_valid(t, n);
    if (ok)
        memcpy(j->sec->token, t, n + 1);
    if (!ok || !body_reason(body, j) || !j->has_reason) {
        fg_reply_error(c, 400, "invalid_argument",
                       ok ? "reason must be 1-256 characters of text"
                          : "card_token must be a payment token (13-19 digits, prefix 99)",
                       ok ? "reason" : "card_token");
        job_free(j);
        return;
    }
    /* the field's reveal permission as the data names it (card.pan: cards.detokenize) */
    const struct fg_field_spec *s =
        j->fields != NULL ? fg_fields_get(j->fields, FG_CARD_PAN_FIELD) : NULL;
    if (s == NULL || s->reveal_permission == NULL ||
        !fg_roles_has(j->iam->roles, j->actor_mask, s->reveal_permission)) {
        fg_reply_error(c, 403, "permission_denied",
                       "detokenising needs card.pan's reveal permission", NULL);
        job_free(j);
        return;
    }
    if (start_record(c, j, "cards.detokenize", "card", "") != FG_OK) {
        fg_reply_rc(c, FG_ERR_INTERNAL, NULL);
        job_free(j);
        return;
    }
    if (fg_call_write_record(c, detokenize_intent, j, &j->rec, detokenize_done) != FG_OK)
        job_free(j);
}

/* ---- PATCH /v1/customers/{id} ---------------------------------------------------------------- */

/* Name / e-mail at once: each changed, verified, before/after masked in the record (ACC-3). */
static fg_rc update_intent(fg_conn *conn, void *arg)
{
    struct job *j = arg;
    json_t *changes = json_object();
    fg_rc rc = changes != NULL ? FG_OK : FG_ERR_NOMEM;
    for (int i = 0; rc == FG_OK && i < FG_CUSTOMER_FIELD_COUNT; i++) {
        if (!j->set[i])
            continue;
        const char *v = i == FG_CUSTOMER_NAME ? j->sec->name : j->sec->email;
        rc = fg_customer_update(conn, j->keys, j->fields, j->id, (enum fg_customer_field)i, v,
                                strlen(v), j->before[i], j->after[i], &j->why);
        if (rc == FG_OK)
            json_object_set_new(
                changes, fg_customer_field_name((enum fg_customer_field)i),
                json_pack("{s:s, s:s}", "before", j->before[i], "after", j->after[i]));
    }
    if (rc == FG_OK)
        rc = fg_customer_load_masked(conn, j->keys, j->fields, j->iam->roles, j->actor_mask, j->id,
                                     &j->view);
    if (rc == FG_OK) {
        json_t *d = json_pack("{s:O, s:b}", "changes", changes, "verified", 1);
        if (d != NULL && j->has_reason)
            json_object_set_new(d, "reason", json_string(j->reason));
        rc = record_details(&j->rec, d);
    }
    json_decref(changes);
    if (rc == FG_ERR_NOT_FOUND || rc == FG_ERR_CONFLICT)
        fg_audit_record_result(&j->rec, FG_AUDIT_RESULT_DENIED, rc);
    return rc;
}

static void update_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc == FG_OK)
        fg_reply_json(c, 200, view_json(&j->view, -1, NULL));
    else if (c != NULL && rc == FG_ERR_NOT_FOUND)
        fg_reply_error(c, 404, "not_found", "no such customer", NULL);
    else if (c != NULL)
        reply_refusal(c, rc, j->why, NULL);
    job_free(j);
}

/* The phone: a pending approval, the sealed new number, a code to the old number (AUTH-8). */
static fg_rc phone_request_intent(fg_conn *conn, void *arg)
{
    struct job *j = arg;
    fg_http_action_app_set(j->app);
    fg_rc rc = fg_approval_request(conn, "customers.phone", j->payload, j->actor_id, 0,
                                   j->approval_id, &j->rec, &j->why);
    fg_http_action_app_set(NULL);
    if (rc)
        return rc;
    rc = fg_customer_phone_change_begin(conn, j->keys, j->fields, j->id, j->approval_id,
                                        j->change_id, j->sec->phone, fg_time_wall_ms(), &j->why);
    if (rc == FG_ERR_CONFLICT || rc == FG_ERR_INVALID)
        j->field_name = "phone";
    char owner[FG_USER_ID_MAX + 1];
    if (rc == FG_OK)
        rc = fg_customer_owner(conn, j->id, owner, NULL);
    if (rc == FG_OK)
        rc = fg_customer_reveal(conn, j->keys, j->fields, j->id, FG_CUSTOMER_PHONE,
                                j->sec->old_phone, sizeof j->sec->old_phone, NULL);
    if (rc == FG_OK && j->app->outbox == NULL)
        rc = FG_ERR_UNSUPPORTED; /* the old phone must get its code */
    if (rc == FG_OK) {
        char binding[FG_OTP_BINDING_MAX];
        snprintf(binding, sizeof binding, "change=%s", j->approval_id);
        const struct fg_outbox_msg m = {
            .to = j->sec->old_phone,
            .channel = FG_OUTBOX_SMS,
            .purpose = "phone_change",
            .text = "finguard: a change of your account's phone number was requested. If it was "
                    "you, give this code to the bank. If not, do not share it and call us."};
        rc = fg_otp_send(conn, j->keys, j->app->outbox, NULL, owner, "phone_change", binding, &m,
                         &j->expires_ms);
        if (rc == FG_ERR_LIMIT)
            rc = FG_ERR_BUSY;
    }
    return rc;
}

static void phone_request_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc == FG_OK)
        fg_reply_json(c, 202,
                      json_pack("{s:s, s:s, s:s, s:s}", "approval_id", j->approval_id, "action",
                                "customers.phone", "state", "pending", "confirmation",
                                "otp_sent_to_old_phone"));
    else if (c != NULL)
        reply_refusal(c, rc, j->why, j->field_name);
    job_free(j);
}

static const struct fg_json_field update_body[] = {
    {"name", FG_JSON_STRING, 0, 1, FG_CUSTOMER_NAME_CHARS_MAX},
    {"email", FG_JSON_STRING, 0, 3, FG_CUSTOMER_EMAIL_MAX},
    {"phone", FG_JSON_STRING, 0, 11, FG_CUSTOMER_PHONE_MAX},
    {"reason", FG_JSON_STRING, 0, 1, CUSTOMERS_REASON_CHARS_MAX},
};

/* Copy and check the PATCH body into j; NULL, or the field that is wrong (*why set). */
static const char *update_fields(json_t *body, struct job *j, const char **why)
{
    json_t *name = json_object_get(body, "name"), *email = json_object_get(body, "email");
    json_t *phone = json_object_get(body, "phone");
    if (!body_reason(body, j)) {
        *why = "reason must be 1-256 characters of text";
        return "reason";
    }
    if (name == NULL && email == NULL && phone == NULL) {
        *why = "name, email or phone is required (the ID number never changes)";
        return NULL;
    }
    if (phone != NULL && (name != NULL || email != NULL)) {
        *why = "change the phone alone: it needs an approval and a code to the old phone";
        return "phone";
    }
    if (name != NULL) {
        if (fg_customer_name_check(json_string_value(name), json_string_length(name)) != FG_OK) {
            *why = "must be 1-64 characters of UTF-8 text without control characters";
            return "name";
        }
        memcpy(j->sec->name, json_string_value(name), json_string_length(name) + 1);
        j->set[FG_CUSTOMER_NAME] = 1;
    }
    if (email != NULL) {
        if (fg_customer_email_check(json_string_value(email), json_string_length(email))) {
            *why = "must be an e-mail address of at most 254 characters";
            return "email";
        }
        memcpy(j->sec->email, json_string_value(email), json_string_length(email) + 1);
        j->set[FG_CUSTOMER_EMAIL] = 1;
    }
    if (phone != NULL) {
        if (fg_customer_phone_normalize(json_string_value(phone), json_string_length(phone),
                                        j->sec->phone) != FG_OK) {
            *why = "must be an E.164 number (+ and 8-15 digits) or an 11-digit mobile number "
                   "starting with 1";
            return "phone";
        }
        j->set[FG_CUSTOMER_PHONE] = 1;
    }
    *why = NULL;
    return NULL;
}

static void update_route(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct job *j =
        job_for_secret_body(c, body, update_body, sizeof update_body / sizeof update_body[0]);
    if (j == NULL)
        return;
    const char *why = NULL;
    const char *field = update_fields(body, j, &why);
    fg_call_wipe_body(c);
    if (why != NULL) {
        fg_reply_error(c, 400, "invalid_argument", why, field);
        job_free(j);
        return;
    }
    if (!path_id(c, j)) {
        fg_reply_error(c, 404, "not_found", "no such customer", NULL);
        job_free(j);
        return;
    }
    fg_rc rc;
    if (j->set[FG_CUSTOMER_PHONE]) {
        rc = fg_customer_new_id(FG_CUSTOMER_CHANGE_PREFIX, j->change_id);
        if (rc == FG_OK)
            snprintf(j->payload, sizeof j->payload, "{\"customer_id\":\"%s\",\"change_id\":\"%s\"}",
                     j->id, j->change_id);
        if (rc == FG_OK)
            rc = start_record(c, j, "approval.request", "approval", "");
        if (rc == FG_OK &&
            fg_call_write_record(c, phone_request_intent, j, &j->rec, phone_request_done) != FG_OK)
            job_free(j);
    } else {
        rc = start_record(c, j, "customers.update", "customer", j->id);
        if (rc == FG_OK && fg_call_write_record(c, update_intent, j, &j->rec, update_done) != FG_OK)
            job_free(j);
    }
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        job_free(j);
    }
}

/* ---- POST /v1/customers/{id}/phone/confirm --------------------------------------------------- */

/* Verify the old phone's code. A wrong code is counted by fg_otp_verify and this intent still
 * commits (returns FG_OK with the verdict in j->verdict), so the count survives (otp.h). */
static fg_rc confirm_intent(fg_conn *conn, void *arg)
{
    struct job *j = arg;
    struct fg_customer_phone_change ch;
    struct fg_approval *ap = calloc(1, sizeof *ap);
    char owner[FG_USER_ID_MAX + 1];
    if (ap == NULL)
        return FG_ERR_NOMEM;
    fg_rc rc = fg_customer_phone_change_get(conn, j->approval_id, &ch);
    if (rc == FG_OK && strcmp(ch.customer_id, j->id) != 0)
        rc = FG_ERR_NOT_FOUND;
    if (rc == FG_OK)
        rc = fg_approval_get(conn, j->approval_id, ap);
    if (rc == FG_OK)
        rc = fg_customer_owner(conn, j->id, owner, NULL);
    fg_rc verdict = rc;
    if (rc == FG_ERR_NOT_FOUND) {
        j->why = "no such phone change of this customer";
    } else if (rc == FG_OK && (ch.applied || ap->state != FG_APPROVAL_PENDING)) {
        verdict = FG_ERR_CONFLICT;
        j->why = "the phone change is not pending any more";
    } else if (rc == FG_OK && ch.confirmed) {
        verdict = FG_ERR_CONFLICT;
        j->why = "the old phone has confirmed this change already";
    } else if (rc == FG_OK) {
        char binding[FG_OTP_BINDING_MAX];
        snprintf(binding, sizeof binding, "change=%s", j->approval_id);
        verdict = fg_otp_verify(conn, j->keys, owner, "phone_change", binding, j->sec->code);
        if (verdict == FG_OK)
            rc = fg_customer_phone_change_confirm(conn, j->id, j->approval_id);
        else if (verdict == FG_ERR_STORE || verdict == FG_ERR_SEALED || verdict == FG_ERR_NOMEM)
            rc = verdict; /* the machine, not the code */
    } else {
        free(ap);
        return rc;
    }
    free(ap);
    if (rc != FG_OK && rc != FG_ERR_NOT_FOUND)
        return rc;
    j->verdict = verdict;
    if (verdict != FG_OK)
        fg_audit_record_result(&j->rec, FG_AUDIT_RESULT_DENIED, verdict);
    return FG_OK;
}

static void confirm_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL) {
        if (rc != FG_OK)
            fg_reply_rc(c, rc, NULL);
        else if (j->verdict == FG_OK)
            fg_reply_json(c, 200,
                          json_pack("{s:s, s:b}", "approval_id", j->approval_id, "confirmed", 1));
        else if (j->verdict == FG_ERR_NOT_FOUND && j->why != NULL)
            fg_reply_error(c, 404, "not_found", j->why, "approval_id");
        else if (j->verdict == FG_ERR_CONFLICT)
            fg_reply_error(c, 409, "conflict", j->why, "approval_id");
        else if (j->verdict == FG_ERR_NOT_FOUND || j->verdict == FG_ERR_TIMEOUT)
            fg_reply_error(c, 409, "conflict",
                           "no live code for this change: request the change again", "code");
        else if (j->verdict == FG_ERR_LOCKED)
            fg_reply_error(c, 423, "locked",
                           "too many wrong codes: the code is dead; request the change again",
                           "code");
        else if (j->verdict == FG_ERR_INVALID)
            fg_reply_error(c, 400, "invalid_argument", "code must be 6 digits", "code");
        else
            fg_reply_error(c, 401, "unauthenticated", "wrong code", "code");
    }
    job_free(j);
}

static const struct fg_json_field confirm_body[] = {
    {"approval_id", FG_JSON_STRING, 1, FG_APPROVAL_ID_LEN, FG_APPROVAL_ID_LEN},
    {"code", FG_JSON_STRING, 1, 6, CUSTOMERS_CODE_TEXT_MAX},
};

static void confirm_route(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct job *j = job_for_secret_body(c, body, confirm_body, 2);
    if (j == NULL)
        return;
    json_t *code = json_object_get(body, "code");
    memcpy(j->sec->code, json_string_value(code), json_string_length(code) + 1);
    snprintf(j->approval_id, sizeof j->approval_id, "%s",
             json_string_value(json_object_get(body, "approval_id")));
    fg_call_wipe_body(c);
    if (!path_id(c, j)) {
        fg_reply_error(c, 404, "not_found", "no such customer", NULL);
        job_free(j);
        return;
    }
    if (start_record(c, j, "customers.phone_confirm", "approval", j->approval_id) != FG_OK ||
        record_details(&j->rec, json_pack("{s:s}", "customer_id", j->id)) != FG_OK) {
        fg_reply_error(c, 404, "not_found", "no such phone change of this customer", "approval_id");
        job_free(j);
        return;
    }
    if (fg_call_write_record(c, confirm_intent, j, &j->rec, confirm_done) != FG_OK)
        job_free(j);
}

/* ---- POST /v1/customers/{id}/destroy ----------------------------------------------------------
 */

static fg_rc destroy_request_intent(fg_conn *conn, void *arg)
{
    struct job *j = arg;
    fg_http_action_app_set(j->app);
    fg_rc rc = fg_approval_request(conn, "customers.destroy", j->payload, j->actor_id, 0,
                                   j->approval_id, &j->rec, &j->why);
    fg_http_action_app_set(NULL);
    return rc;
}

static void destroy_request_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *j = arg;
    if (c != NULL && rc == FG_OK)
        fg_reply_json(c, 202,
                      json_pack("{s:s, s:s, s:s}", "approval_id", j->approval_id, "action",
                                "customers.destroy", "state", "pending"));
    else if (c != NULL)
        reply_refusal(c, rc, j->why, NULL);
    job_free(j);
}

static const struct fg_json_field destroy_body[] = {
    {"reason", FG_JSON_STRING, 1, 1, CUSTOMERS_REASON_CHARS_MAX},
};

static void destroy_route(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, destroy_body, 1, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    struct job *j = job_new(c);
    if (j == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    if (!body_reason(body, j) || !j->has_reason) {
        fg_reply_error(c, 400, "invalid_argument", "reason must be 1-256 characters of text",
                       "reason");
        job_free(j);
        return;
    }
    if (!path_id(c, j)) {
        fg_reply_error(c, 404, "not_found", "no such customer", NULL);
        job_free(j);
        return;
    }
    json_t *p = json_pack("{s:s, s:s}", "customer_id", j->id, "reason", j->reason);
    size_t n = p != NULL ? json_dumpb(p, j->payload, FG_APPROVAL_PAYLOAD_MAX, JSON_COMPACT) : 0;
    json_decref(p);
    fg_rc rc = n == 0 ? FG_ERR_NOMEM : n > FG_APPROVAL_PAYLOAD_MAX ? FG_ERR_TOO_LARGE : FG_OK;
    if (rc == FG_OK) {
        j->payload[n] = '\0';
        rc = start_record(c, j, "approval.request", "approval", "");
    }
    if (rc) {
        fg_reply_rc(c, rc, "reason");
        job_free(j);
        return;
    }
    if (fg_call_write_record(c, destroy_request_intent, j, &j->rec, destroy_request_done) != FG_OK)
        job_free(j);
}

/* ---- the four-eyes actions ------------------------------------------------------------------- */

/* {"customer_id","change_id"} or {"customer_id","reason"}: the customer id (and change id). */
static fg_rc payload_ids(const char *payload, char customer_id[FG_CUSTOMER_ID_SIZE],
                         char change_id[FG_CUSTOMER_ID_SIZE], const char **reason)
{
    json_t *o = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
    const char *cid = json_string_value(json_object_get(o, "customer_id"));
    const char *chg = json_string_value(json_object_get(o, "change_id"));
    fg_rc rc = FG_OK;
    if (!json_is_object(o) || json_object_size(o) != 2 ||
        !fg_customer_id_valid(cid, FG_CUSTOMER_ID_PREFIX) ||
        (change_id != NULL && !fg_customer_id_valid(chg, FG_CUSTOMER_CHANGE_PREFIX)) ||
        (change_id == NULL && !json_is_string(json_object_get(o, "reason")))) {
        *reason = "the payload does not name a customer (and a change)";
        rc = FG_ERR_INVALID;
    } else {
        memcpy(customer_id, cid, FG_CUSTOMER_ID_SIZE);
        if (change_id != NULL)
            memcpy(change_id, chg, FG_CUSTOMER_ID_SIZE);
    }
    json_decref(o);
    return rc;
}

/* The customer exists and still has personal data. */
static fg_rc customer_active(fg_conn *conn, const char *id, const char **reason)
{
    int destroyed = 0;
    fg_rc rc = fg_customer_owner(conn, id, NULL, &destroyed);
    if (rc == FG_ERR_NOT_FOUND)
        *reason = "no such customer";
    else if (rc == FG_OK && destroyed) {
        *reason = "the customer's personal data has been destroyed";
        rc = FG_ERR_CONFLICT;
    }
    return rc;
}

static fg_rc phone_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)ctx;
    char cid[FG_CUSTOMER_ID_SIZE], chg[FG_CUSTOMER_ID_SIZE];
    fg_rc rc = payload_ids(payload, cid, chg, reason);
    return rc ? rc : customer_active(conn, cid, reason);
}

/* Tell a number what happened (no code: a notice). */
static fg_rc notify_phone(fg_conn *conn, fg_outbox *ob, const char *to, const char *text)
{
    const struct fg_outbox_msg m = {
        .to = to, .channel = FG_OUTBOX_SMS, .purpose = "phone_changed", .text = text};
    fg_rc rc = fg_outbox_add(ob, conn, &m);
    return rc == FG_ERR_LIMIT ? FG_ERR_BUSY : rc;
}

static fg_rc phone_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                           void *ctx, char *result_json, size_t cap)
{
    (void)ctx;
    struct fg_app *app = fg_http_action_app();
    if (app == NULL || app->iam == NULL || app->outbox == NULL)
        return FG_ERR_INTERNAL; /* not through a route's intent: stays pending */
    const char *why = NULL;
    char cid[FG_CUSTOMER_ID_SIZE], chg[FG_CUSTOMER_ID_SIZE];
    struct fg_customer_phone_change ch;
    fg_rc rc = payload_ids(payload, cid, chg, &why);
    if (rc == FG_OK)
        rc = fg_customer_phone_change_get(conn, ap->id, &ch);
    if (rc == FG_OK && strcmp(ch.customer_id, cid) != 0)
        rc = FG_ERR_NOT_FOUND;
    char *phones = fg_secure_alloc(2 * FG_CUSTOMER_PHONE_SIZE);
    if (rc == FG_OK && phones == NULL)
        rc = FG_ERR_NOMEM;
    if (rc == FG_OK)
        rc = fg_customer_phone_change_apply(conn, app->iam->keys, app->fields, ap->id, chg,
                                            fg_time_wall_ms(), phones,
                                            phones + FG_CUSTOMER_PHONE_SIZE, &why);
    if (rc == FG_OK)
        rc = notify_phone(conn, app->outbox, phones,
                          "finguard: the phone number of your account has been changed to "
                          "another number. If you did not ask for it, call us at once.");
    if (rc == FG_OK)
        rc = notify_phone(conn, app->outbox, phones + FG_CUSTOMER_PHONE_SIZE,
                          "finguard: this number is now the phone of your finguard account.");
    fg_secure_free(phones);
    if (rc == FG_OK) {
        const struct fg_event ev = {.type = "customer.phone_changed",
                                    .actor_id = ap->decided_by,
                                    .object_type = "customer",
                                    .object_id = cid,
                                    .attrs_json = NULL};
        rc = fg_event_emit(conn, &ev, fg_time_wall_ms());
    }
    if (rc != FG_OK && why != NULL) /* the static reason for the log: never a value */
        fg_log(FG_LOG_INFO, "customers.phone_refused", FG_LF_STR("approval_id", ap->id),
               FG_LF_STR("reason", why));
    if (rc == FG_OK)
        snprintf(result_json, cap, "{\"customer_id\":\"%s\",\"phone_changed\":true}", cid);
    return rc;
}

static fg_rc destroy_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)ctx;
    char cid[FG_CUSTOMER_ID_SIZE];
    fg_rc rc = payload_ids(payload, cid, NULL, reason);
    if (rc == FG_OK)
        rc = customer_active(conn, cid, reason);
    int has = 0;
    if (rc == FG_OK)
        rc = fg_ledger_customer_has_money(conn, cid, &has);
    if (rc == FG_OK && has) {
        *reason = "the customer still has money or a pending transfer: close the accounts first";
        rc = FG_ERR_POLICY;
    }
    return rc;
}

static fg_rc destroy_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                             void *ctx, char *result_json, size_t cap)
{
    (void)ctx;
    struct fg_app *app = fg_http_action_app();
    if (app == NULL || app->iam == NULL)
        return FG_ERR_INTERNAL;
    const char *why = NULL;
    char cid[FG_CUSTOMER_ID_SIZE], user_id[FG_USER_ID_MAX + 1];
    int64_t now = fg_time_wall_ms();
    fg_rc rc = payload_ids(payload, cid, NULL, &why);
    if (rc == FG_OK)
        rc = fg_customer_destroy(conn, cid, ap->requester_id, ap->decided_by, now, user_id, &why);
    if (rc == FG_OK) {
        const struct fg_event ev = {.type = "customer.destroyed",
                                    .actor_id = ap->decided_by,
                                    .object_type = "customer",
                                    .object_id = cid};
        rc = fg_event_emit(conn, &ev, now);
    }
    if (rc != FG_OK) {
        if (why != NULL)
            fg_log(FG_LOG_INFO, "customers.destroy_refused", FG_LF_STR("approval_id", ap->id),
                   FG_LF_STR("reason", why));
        return rc;
    }
    /* the login ends with its data: live sessions now (ending early is harmless if the batch
     * then fails; the rows ended in the same transaction) */
    fg_sessions_end_user(app->iam->sessions, user_id, NULL);
    char when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(now, when);
    snprintf(result_json, cap, "{\"customer_id\":\"%s\",\"destroyed_at\":\"%s\"}", cid, when);
    return FG_OK;
}

/* Register once per process (servers may be built more than once in one process). */
static fg_rc register_actions(void)
{
    static const struct fg_approval_action actions[] = {
        {.name = "customers.phone",
         .action_class = "phone",
         .validate = phone_validate,
         .execute = phone_execute},
        {.name = "customers.destroy",
         .action_class = "destroy",
         .validate = destroy_validate,
         .execute = destroy_execute},
    };
    return fg_approval_register_all(actions, sizeof actions / sizeof actions[0]);
}

/* ---- registration -----------------------------------------------------------------------------
 */

fg_rc fg_routes_customers(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    fg_rc rc = register_actions();
    const struct fg_route routes[] = {
        {.method = "POST",
         .pattern = "/v1/customers",
         .permission = "customers.create",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = create_route},
        {.method = "GET",
         .pattern = "/v1/customers/{id}",
         .permission = "customers.read",
         .fn = read_route},
        {.method = "PATCH",
         .pattern = "/v1/customers/{id}",
         .permission = "customers.update",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = update_route},
        {.method = "POST",
         .pattern = "/v1/customers/{id}/phone/confirm",
         .permission = "customers.update",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = confirm_route},
        {.method = "POST",
         .pattern = "/v1/customers/{id}/destroy",
         .permission = "customers.destroy",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = destroy_route},
        {.method = "GET",
         .pattern = "/v1/customers/{id}/cards",
         .permission = "customers.read",
         .fn = cards_route},
        {.method = "POST",
         .pattern = "/v1/customers/{id}/cards",
         .permission = "cards.create",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = card_create_route},
        {.method = "POST",
         .pattern = "/v1/cards/detokenize",
         .permission = "cards.detokenize",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = detokenize_route},
    };
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    return rc;
}
