/*
 * End-to-end: customers, their protected personal data and their cards through the real
 * server (issue #5; REQUIREMENTS ACC-1..5, DATA-3, DATA-4, AUTH-8; docs/API.md "Customers and
 * cards (issue #5)").
 *
 * Staff come up as in test_staff.c: init → the first administrator → the second under the
 * bootstrap exception → a teller, a supervisor, a security officer and an auditor requested
 * by one administrator and approved by the other, each onboarded with TOTP. Then:
 *   - every route of routes_customers.c with a random id and `{}`: past authorization for the
 *     roles holding its permission, 403 permission_denied for the other staff roles (the rows
 *     the authorization matrix needs);
 *   - the teller registers a customer: 201 with the login and the activation code, which is
 *     also the outbox's code to the reserved phone; the read-back is masked (ACC-5);
 *     a second customer with the same ID number or phone → 409 naming the field;
 *   - a card: a Luhn-valid token with prefix 99, masked first 6 + last 4 for the teller and
 *     last 4 for the auditor; the same PAN again → the same token (200); a CVV → 400 naming
 *     it without echoing anything;
 *   - reveal: the teller 403 (audited), the officer without a reason 400, with one 200 and a
 *     pii.reveal record the auditor reads; detokenisation by the officer (audited);
 *   - IDOR: the activated customer reads itself, and gets 403 for another customer and an
 *     unknown id alike, each with an access.denied record;
 *   - e-mail change at once with before/after masked (ACC-3); phone change (AUTH-8): PATCH
 *     → 202 and a code to the OLD phone; approving before the code → failed; a second PATCH,
 *     the code from the outbox confirms, approval → the phone changed, both numbers told;
 *   - destruction through four-eyes (ACC-4): fields null, detokenisation 409;
 *   - finally the clear PAN and ID number are nowhere in the data directory, and neither
 *     phone is in the database (file and WAL) or the logs (the outbox file sink, a
 *     development tool, carries recipients in clear by design).
 */
#include "testutil.h"

#include <liboath/oath.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client.h"
#include "crypto/crypto.h"
#include "protect/card.h"
#include "server.h"
#include "staff.h"

#define NAME_A "张三丰"
#define ID_A "11010519491231002X"
#define PHONE_A "13812345678"
#define PHONE_A_E164 "+8613812345678"
#define PHONE_B "13987654321"
#define PHONE_B_E164 "+8613987654321"

struct world {
    struct fg_test_server s;
    struct person admin, admin2, teller, supervisor, officer, auditor, cust;
    char id_b[19]; /* a second valid ID number */
    char pan[20];  /* a Luhn-valid card number */
    char customer[32], username[32], user_id[48], token[20], card_id[32];
    char other[32]; /* a second customer */
};

/* ---- helpers ------------------------------------------------------------------------------ */

static void person_init(struct person *p, const char *username, const char *device)
{
    memset(p, 0, sizeof *p);
    snprintf(p->username, sizeof p->username, "%s", username);
    snprintf(p->device, sizeof p->device, "%s", device);
}

static long send_json(struct person *p, const char *method, const char *path, const char *json_text,
                      struct fg_client_response *res)
{
    json_error_t jerr;
    json_t *body = json_loads(json_text, 0, &jerr);
    if (body == NULL)
        fail_msg("bad test JSON %s: %s", json_text, jerr.text);
    assert_int_equal(fg_client_send_json(p->c, method, path, body, res), FG_OK);
    json_decref(body);
    return res->status;
}

static void request(struct person *p, const char *path, const char *body, char out[32])
{
    struct fg_client_response res;
    if (staff_post(p, path, body, &res) != 202)
        fail_msg("request %s: %ld %s", path, res.status, res.body);
    assert_string_equal(staff_str(&res, "state"), "pending");
    snprintf(out, 32, "%s", staff_str(&res, "approval_id"));
    fg_client_response_release(&res);
}

/* Approve; the answer's status (200 approved, 422 when execute() refused …). */
static long approve(struct person *p, const char *approval_id, struct fg_client_response *res)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/approvals/%s/approve", approval_id);
    return staff_post(p, path, "{\"reason\":\"checked with the customer in the branch\"}", res);
}

/* The code of the last outbox line to `to` with `purpose` ("" if none); *count the lines. */
static void outbox_code(const struct fg_test_server *s, const char *to, const char *purpose,
                        char out[16], int *count)
{
    char path[700];
    snprintf(path, sizeof path, "%s/outbox.jsonl", s->dir);
    size_t len = 0;
    char *text = fg_test_read_file(path, &len);
    out[0] = '\0';
    *count = 0;
    for (char *line = text, *end; text != NULL && *line != '\0'; line = end + 1) {
        end = strchr(line, '\n');
        assert_non_null(end);
        json_t *m = json_loadb(line, (size_t)(end - line), 0, NULL);
        assert_non_null(m);
        if (strcmp(json_string_value(json_object_get(m, "to")), to) == 0 &&
            strcmp(json_string_value(json_object_get(m, "purpose")), purpose) == 0) {
            (*count)++;
            const char *code = json_string_value(json_object_get(m, "code"));
            snprintf(out, 16, "%s", code != NULL ? code : "");
            if (code != NULL) /* the text never carries the code */
                assert_null(strstr(json_string_value(json_object_get(m, "text")), code));
        }
        json_decref(m);
    }
    free(text);
}

/* The audit records (as the auditor reads them) with this action and object id: count, and
 * the last one's result and details into out (may be NULL). */
static int audit_find(struct world *w, const char *action, const char *object_id, char result[16],
                      char details[2048])
{
    struct fg_client_response res;
    int n = 0;
    char path[96];
    long after = 0;
    for (;;) {
        snprintf(path, sizeof path, "/v1/audit?after=%ld&limit=1000", after);
        assert_int_equal(staff_get(&w->auditor, path, &res), 200);
        json_t *list = json_object_get(res.json, "records");
        size_t i;
        json_t *r;
        json_array_foreach(list, i, r)
        {
            after = (long)json_integer_value(json_object_get(r, "seq"));
            if (strcmp(json_string_value(json_object_get(r, "action")), action) != 0 ||
                (object_id != NULL &&
                 strcmp(json_string_value(json_object_get(r, "object_id")), object_id) != 0))
                continue;
            n++;
            if (result != NULL)
                snprintf(result, 16, "%s", json_string_value(json_object_get(r, "result")));
            if (details != NULL) {
                char *d = json_dumps(json_object_get(r, "details"), JSON_COMPACT);
                snprintf(details, 2048, "%s", d != NULL ? d : "");
                free(d);
            }
        }
        int more = !json_is_null(json_object_get(res.json, "next_after"));
        fg_client_response_release(&res);
        if (!more)
            break;
    }
    return n;
}

/* Occurrences of s in the database (file and WAL) and the server's logs. */
static long grep_db_and_logs(const struct fg_test_server *s, const char *needle)
{
    static const char *const files[] = {"finguard.db", "finguard.db-wal", "finguard.log",
                                        "stdout.log"};
    long n = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", s->dir, files[i]);
        long k = fg_test_file_count(path, needle, strlen(needle));
        n += k > 0 ? k : 0;
    }
    return n;
}

/* ---- staff -------------------------------------------------------------------------------- */

static void staff_up(struct world *w)
{
    struct fg_client *anon;
    fg_test_server_client(&w->s, &anon);
    json_t *init = json_pack("{s:i, s:i}", "shares", 1, "threshold", 1);
    struct fg_client_response res;
    assert_int_equal(fg_client_post_json(anon, "/v1/sys/init", init, &res), FG_OK);
    json_decref(init);
    assert_int_equal(res.status, 200);
    json_t *admin = json_object_get(res.json, "admin");
    snprintf(w->admin.password, sizeof w->admin.password, "%s",
             json_string_value(json_object_get(admin, "password")));
    fg_client_response_release(&res);
    fg_client_free(anon);
    staff_onboard(&w->s, &w->admin, "Adm1n-first-Qx7!vT");
    staff_post(&w->admin, "/v1/users",
               "{\"username\":\"admin2\",\"roles\":[\"security_admin\"],"
               "\"contact\":\"admin2@bank.example\",\"bootstrap\":true}",
               &res);
    staff_expect(&res, 201, NULL);
    staff_outbox_password(&w->s, "admin2@bank.example", w->admin2.password);
    staff_onboard(&w->s, &w->admin2, "Sec0nd-admin-Wz4#pR");

    static const struct {
        const char *username, *role, *contact, *password;
        size_t offset;
    } people[] = {
        {"teller1", "teller", "teller1@bank.example", "Te11er-one-Kp8$wQ",
         offsetof(struct world, teller)},
        {"super1", "supervisor", "super1@bank.example", "Superv-one-Hm3%zL",
         offsetof(struct world, supervisor)},
        {"officer1", "security_officer", "officer1@bank.example", "0fficer-one-Jn5&xB",
         offsetof(struct world, officer)},
        {"audit1", "auditor", "audit1@bank.example", "Aud1tor-one-Rt6*yC",
         offsetof(struct world, auditor)},
    };
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        char body[256], id[32];
        snprintf(body, sizeof body, "{\"username\":\"%s\",\"roles\":[\"%s\"],\"contact\":\"%s\"}",
                 people[i].username, people[i].role, people[i].contact);
        request(&w->admin, "/v1/users", body, id);
        assert_int_equal(approve(&w->admin2, id, &res), 200);
        fg_client_response_release(&res);
        struct person *p = (struct person *)((char *)w + people[i].offset);
        staff_outbox_password(&w->s, people[i].contact, p->password);
        staff_onboard(&w->s, p, people[i].password);
    }
}

/* ---- the customer -------------------------------------------------------------------------- */

static void create_customer(struct world *w)
{
    struct fg_client_response res;
    char body[512];
    snprintf(
        body, sizeof body,
        "{\"name\":\"%s\",\"id_number\":\"%s\",\"phone\":\"%s\",\"email\":\"alice@example.com\"}",
        NAME_A, ID_A, PHONE_A);
    if (staff_post(&w->teller, "/v1/customers", body, &res) != 201)
        fail_msg("create: %ld %s", res.status, res.body);
    snprintf(w->customer, sizeof w->customer, "%s", staff_str(&res, "id"));
    snprintf(w->username, sizeof w->username, "%s", staff_str(&res, "username"));
    snprintf(w->user_id, sizeof w->user_id, "%s", staff_str(&res, "user_id"));
    char code[16];
    snprintf(code, sizeof code, "%s", staff_str(&res, "activation_code"));
    assert_int_equal(strlen(code), 6);
    assert_int_equal(strlen(w->username), 12);
    assert_int_equal(w->username[0], 'c');
    assert_memory_equal(w->customer, "cus_", 4);
    assert_null(strstr(res.body, PHONE_A));
    assert_null(strstr(res.body, ID_A));
    fg_client_response_release(&res);
    /* the same code went to the reserved phone (E.164) */
    char sent[16];
    int n = 0;
    outbox_code(&w->s, PHONE_A_E164, "activation", sent, &n);
    assert_int_equal(n, 1);
    assert_string_equal(sent, code);
    snprintf(w->cust.password, sizeof w->cust.password, "%s", code); /* kept for activation */

    /* masked read-back (ACC-5) */
    char path[96];
    snprintf(path, sizeof path, "/v1/customers/%s", w->customer);
    assert_int_equal(staff_get(&w->teller, path, &res), 200);
    assert_string_equal(staff_str(&res, "name"), "张**");
    assert_string_equal(staff_str(&res, "id_number"), "110105********002X");
    assert_string_equal(staff_str(&res, "phone"), "+86138****5678");
    assert_string_equal(staff_str(&res, "email"), "a***@example.com");
    assert_string_equal(staff_str(&res, "status"), "active");
    assert_string_equal(staff_str(&res, "purpose"), "account_opening");
    assert_string_equal(staff_str(&res, "username"), w->username);
    assert_non_null(json_object_get(res.json, "created_at"));
    json_t *consent = json_object_get(res.json, "consent"); /* ACC-1 */
    assert_string_equal(json_string_value(json_object_get(consent, "method")),
                        "in_branch_signature");
    assert_non_null(json_string_value(json_object_get(consent, "teller")));
    fg_client_response_release(&res);

    /* duplicates by blind index, invalid values: refused, named, never echoed */
    snprintf(body, sizeof body,
             "{\"name\":\"Bob\",\"id_number\":\"%s\",\"phone\":\"+8613900001111\"}", ID_A);
    staff_post(&w->teller, "/v1/customers", body, &res);
    assert_string_equal(res.error_field, "id_number");
    staff_expect(&res, 409, "conflict");
    snprintf(body, sizeof body, "{\"name\":\"Bob\",\"id_number\":\"%s\",\"phone\":\"%s\"}", w->id_b,
             PHONE_A_E164);
    staff_post(&w->teller, "/v1/customers", body, &res);
    assert_string_equal(res.error_field, "phone");
    staff_expect(&res, 409, "conflict");
    staff_post(&w->teller, "/v1/customers",
               "{\"name\":\"Bob\",\"id_number\":\"110105194912310021\",\"phone\":\"13900001111\"}",
               &res);
    assert_string_equal(res.error_field, "id_number");
    assert_null(strstr(res.body, "110105194912310021"));
    staff_expect(&res, 400, "invalid_argument");
    staff_post(&w->teller, "/v1/customers",
               "{\"name\":\"Bob\",\"id_number\":\"110105194912310021\",\"phone\":\"1\",\"x\":1}",
               &res);
    assert_string_equal(res.error_field, "x");
    staff_expect(&res, 400, "invalid_argument");
    /* only tellers register customers */
    staff_post(&w->supervisor, "/v1/customers", body, &res);
    staff_expect(&res, 403, "permission_denied");
    /* the second customer, for the IDOR checks */
    snprintf(body, sizeof body,
             "{\"name\":\"Bob\",\"id_number\":\"%s\",\"phone\":\"+8613900001111\"}", w->id_b);
    assert_int_equal(staff_post(&w->teller, "/v1/customers", body, &res), 201);
    snprintf(w->other, sizeof w->other, "%s", staff_str(&res, "id"));
    fg_client_response_release(&res);
    /* staff: 404 for an unknown id */
    assert_int_equal(staff_get(&w->teller, "/v1/customers/cus_AAAAAAAAAAAAAAAAAAAAAA", &res), 404);
    fg_client_response_release(&res);
    assert_int_equal(audit_find(w, "customers.create", w->customer, NULL, NULL), 1);
    char details[2048];
    audit_find(w, "customers.create", w->customer, NULL, details);
    assert_non_null(strstr(details, "+86138****5678"));
    assert_null(strstr(details, PHONE_A));
}

static void cards(struct world *w)
{
    struct fg_client_response res;
    char path[96], body[256];
    snprintf(path, sizeof path, "/v1/customers/%s/cards", w->customer);
    snprintf(body, sizeof body, "{\"pan\":\"%s\"}", w->pan);
    if (staff_post(&w->teller, path, body, &res) != 201)
        fail_msg("card: %ld %s", res.status, res.body);
    snprintf(w->token, sizeof w->token, "%s", staff_str(&res, "card_token"));
    snprintf(w->card_id, sizeof w->card_id, "%s", staff_str(&res, "id"));
    assert_int_equal(strlen(w->token), strlen(w->pan));
    assert_memory_equal(w->token, "99", 2);
    assert_true(fg_luhn_valid(w->token, strlen(w->token)));
    char want[24];
    snprintf(want, sizeof want, "622202******%s", w->pan + 12);
    assert_string_equal(staff_str(&res, "masked"), want);
    assert_null(strstr(res.body, w->pan));
    fg_client_response_release(&res);
    /* the same PAN again: the same token */
    assert_int_equal(staff_post(&w->teller, path, body, &res), 200);
    assert_string_equal(staff_str(&res, "card_token"), w->token);
    fg_client_response_release(&res);
    /* a verification code is refused, whatever else the body holds, and never echoed */
    snprintf(body, sizeof body, "{\"pan\":\"%s\",\"cvv\":\"737\"}", w->pan);
    staff_post(&w->teller, path, body, &res);
    assert_string_equal(res.error_field, "cvv");
    assert_string_equal(res.error_message, "card verification codes are never accepted");
    assert_null(strstr(res.body, "737"));
    assert_null(strstr(res.body, w->pan));
    staff_expect(&res, 400, "invalid_argument");
    staff_post(&w->teller, path, "{\"CVC2\":\"123\",\"bogus\":1}", &res);
    assert_string_equal(res.error_field, "cvc2");
    staff_expect(&res, 400, "invalid_argument");
    staff_post(&w->teller, path, "{\"pan\":\"6222021234567890\"}", &res); /* Luhn wrong */
    assert_string_equal(res.error_field, "pan");
    assert_null(strstr(res.body, "6222021234567890"));
    staff_expect(&res, 400, "invalid_argument");
    /* listed: the auditor sees last 4 only */
    assert_int_equal(staff_get(&w->auditor, path, &res), 200);
    json_t *card = json_array_get(json_object_get(res.json, "cards"), 0);
    snprintf(want, sizeof want, "************%s", w->pan + 12);
    assert_string_equal(json_string_value(json_object_get(card, "masked")), want);
    assert_string_equal(json_string_value(json_object_get(card, "card_token")), w->token);
    fg_client_response_release(&res);
    assert_int_equal(audit_find(w, "cards.create", w->card_id, NULL, NULL), 2);
}

static void reveal_and_detokenize(struct world *w)
{
    struct fg_client_response res;
    char path[200], result[16], details[2048];
    /* the teller has no pii.reveal: 403, audited */
    snprintf(path, sizeof path, "/v1/customers/%s?reveal=phone&reason=customer%%20called",
             w->customer);
    staff_get(&w->teller, path, &res);
    staff_expect(&res, 403, "permission_denied");
    assert_int_equal(audit_find(w, "pii.reveal", w->customer, result, NULL), 1);
    assert_string_equal(result, "denied");
    /* the officer: a reason is required */
    snprintf(path, sizeof path, "/v1/customers/%s?reveal=phone", w->customer);
    staff_get(&w->officer, path, &res);
    assert_string_equal(res.error_field, "reason");
    staff_expect(&res, 400, "invalid_argument");
    snprintf(path, sizeof path, "/v1/customers/%s?reveal=pin&reason=x", w->customer);
    staff_get(&w->officer, path, &res);
    assert_string_equal(res.error_field, "reveal");
    staff_expect(&res, 400, "invalid_argument");
    snprintf(path, sizeof path,
             "/v1/customers/%s?reveal=phone&reason=fraud%%20case%%20INC-7%%3A%%20caller+check",
             w->customer);
    if (staff_get(&w->officer, path, &res) != 200)
        fail_msg("reveal: %ld %s", res.status, res.body);
    assert_string_equal(staff_str(&res, "phone"), PHONE_A_E164);
    assert_string_equal(staff_str(&res, "revealed"), "phone");
    assert_string_equal(staff_str(&res, "id_number"), "110105********002X"); /* the rest masked */
    fg_client_response_release(&res);
    assert_int_equal(audit_find(w, "pii.reveal", w->customer, result, details), 2);
    assert_string_equal(result, "ok");
    assert_non_null(strstr(details, "\"field\":\"phone\""));
    assert_non_null(strstr(details, "fraud case INC-7: caller check"));
    assert_null(strstr(details, PHONE_A));

    /* detokenisation: the officer, with a reason; the teller may not */
    char body[256];
    snprintf(body, sizeof body, "{\"card_token\":\"%s\",\"reason\":\"chargeback 4471\"}", w->token);
    staff_post(&w->teller, "/v1/cards/detokenize", body, &res);
    staff_expect(&res, 403, "permission_denied");
    snprintf(body, sizeof body, "{\"card_token\":\"%s\"}", w->token);
    staff_post(&w->officer, "/v1/cards/detokenize", body, &res);
    staff_expect(&res, 400, "invalid_argument");
    snprintf(body, sizeof body, "{\"card_token\":\"%s\",\"reason\":\"chargeback 4471\"}", w->token);
    if (staff_post(&w->officer, "/v1/cards/detokenize", body, &res) != 200)
        fail_msg("detokenize: %ld %s", res.status, res.body);
    assert_string_equal(staff_str(&res, "pan"), w->pan);
    assert_string_equal(staff_str(&res, "card_id"), w->card_id);
    fg_client_response_release(&res);
    assert_int_equal(audit_find(w, "cards.detokenize", w->card_id, result, details), 1);
    assert_string_equal(result, "ok");
    assert_non_null(strstr(details, "chargeback 4471"));
    assert_null(strstr(details, w->pan));
}

static void customer_reads_only_itself(struct world *w)
{
    struct fg_client_response res;
    struct fg_client *anon;
    fg_test_server_client(&w->s, &anon);
    char body[256];
    snprintf(
        body, sizeof body,
        "{\"username\":\"%s\",\"activation_code\":\"%s\",\"new_password\":\"Cust0mer-A-Lp9!qZ\"}",
        w->username, w->cust.password);
    json_t *j = json_loads(body, 0, NULL);
    assert_int_equal(fg_client_post_json(anon, "/v1/auth/activate", j, &res), FG_OK);
    json_decref(j);
    if (res.status != 200)
        fail_msg("activate: %ld %s", res.status, res.body);
    fg_client_response_release(&res);
    fg_client_free(anon);
    person_init(&w->cust, w->username, "cust-phone-1");
    snprintf(w->cust.password, sizeof w->cust.password, "Cust0mer-A-Lp9!qZ");
    staff_login(&w->s, &w->cust, 0);

    char path[96], result[16];
    snprintf(path, sizeof path, "/v1/customers/%s", w->customer);
    if (staff_get(&w->cust, path, &res) != 200)
        fail_msg("own read: %ld %s", res.status, res.body);
    assert_string_equal(staff_str(&res, "phone"), "+86138****5678");
    fg_client_response_release(&res);
    /* another customer's id, an unknown id, a malformed id: one answer, each audited */
    const char *ids[] = {w->other, "cus_AAAAAAAAAAAAAAAAAAAAAA", "nonsense"};
    char first[512] = "";
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/v1/customers/%s", ids[i]);
        staff_get(&w->cust, path, &res);
        if (i == 0)
            snprintf(first, sizeof first, "%s", res.error_message);
        else
            assert_string_equal(res.error_message, first);
        staff_expect(&res, 403, "permission_denied");
    }
    snprintf(path, sizeof path, "/v1/customers/%s/cards", w->other);
    staff_get(&w->cust, path, &res);
    staff_expect(&res, 403, "permission_denied");
    assert_int_equal(audit_find(w, "access.denied", w->other, result, NULL), 2);
    assert_string_equal(result, "denied");
    assert_int_equal(audit_find(w, "access.denied", "cus_AAAAAAAAAAAAAAAAAAAAAA", NULL, NULL), 1);
    /* and no reveal for a customer, not even of itself */
    snprintf(path, sizeof path, "/v1/customers/%s?reveal=phone&reason=mine", w->customer);
    staff_get(&w->cust, path, &res);
    staff_expect(&res, 403, "permission_denied");
}

static void changes(struct world *w)
{
    struct fg_client_response res;
    char path[96], details[2048], code[16], a1[32], a2[32];
    int n = 0;
    snprintf(path, sizeof path, "/v1/customers/%s", w->customer);
    /* e-mail at once, before/after masked in the record (ACC-3) */
    send_json(&w->teller, "PATCH", path,
              "{\"email\":\"bob@example.org\",\"reason\":\"customer form 12\"}", &res);
    if (res.status != 200)
        fail_msg("patch: %ld %s", res.status, res.body);
    assert_string_equal(staff_str(&res, "email"), "b***@example.org");
    fg_client_response_release(&res);
    assert_int_equal(audit_find(w, "customers.update", w->customer, NULL, details), 1);
    assert_non_null(strstr(details, "\"before\":\"a***@example.com\""));
    assert_non_null(strstr(details, "\"after\":\"b***@example.org\""));
    assert_null(strstr(details, "bob@example.org"));
    send_json(&w->teller, "PATCH", path, "{\"phone\":\"13900002222\",\"email\":\"c@d.ef\"}", &res);
    staff_expect(&res, 400, "invalid_argument");
    send_json(&w->teller, "PATCH", path, "{\"id_number\":\"" ID_A "\"}", &res);
    staff_expect(&res, 400, "invalid_argument");

    /* the phone (AUTH-8): 202, a code to the OLD phone */
    send_json(&w->teller, "PATCH", path, "{\"phone\":\"" PHONE_B "\"}", &res);
    if (res.status != 202)
        fail_msg("phone: %ld %s", res.status, res.body);
    assert_string_equal(staff_str(&res, "confirmation"), "otp_sent_to_old_phone");
    snprintf(a1, sizeof a1, "%s", staff_str(&res, "approval_id"));
    fg_client_response_release(&res);
    outbox_code(&w->s, PHONE_A_E164, "phone_change", code, &n);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(code), 6);
    outbox_code(&w->s, PHONE_B_E164, "phone_change", code, &n);
    assert_int_equal(n, 0); /* nothing to the new number */
    /* approved before the old phone confirmed: the approval fails */
    approve(&w->supervisor, a1, &res);
    staff_expect(&res, 422, "policy_violation");
    assert_int_equal(staff_get(&w->supervisor, "/v1/approvals?state=failed", &res), 200);
    assert_non_null(strstr(res.body, a1));
    assert_null(strstr(res.body, PHONE_B)); /* the payload names the change, not the number */
    fg_client_response_release(&res);

    /* again: confirm with the code from the outbox, then approve */
    send_json(&w->teller, "PATCH", path, "{\"phone\":\"" PHONE_B "\"}", &res);
    assert_int_equal(res.status, 202);
    snprintf(a2, sizeof a2, "%s", staff_str(&res, "approval_id"));
    fg_client_response_release(&res);
    outbox_code(&w->s, PHONE_A_E164, "phone_change", code, &n);
    assert_int_equal(n, 2);
    char confirm[96], body[128];
    snprintf(confirm, sizeof confirm, "/v1/customers/%s/phone/confirm", w->customer);
    snprintf(body, sizeof body, "{\"approval_id\":\"%s\",\"code\":\"%c%s\"}", a2,
             code[0] == '9' ? '0' : (char)(code[0] + 1), code + 1);
    staff_post(&w->teller, confirm, body, &res);
    staff_expect(&res, 401, "unauthenticated"); /* a wrong code, counted */
    snprintf(body, sizeof body, "{\"approval_id\":\"%s\",\"code\":\"%s\"}", a1, code);
    staff_post(&w->teller, confirm, body, &res);
    staff_expect(&res, 409, "conflict"); /* the failed change is not pending */
    snprintf(body, sizeof body, "{\"approval_id\":\"%s\",\"code\":\"%s\"}", a2, code);
    if (staff_post(&w->teller, confirm, body, &res) != 200)
        fail_msg("confirm: %ld %s", res.status, res.body);
    fg_client_response_release(&res);
    if (approve(&w->supervisor, a2, &res) != 200)
        fail_msg("approve phone: %ld %s", res.status, res.body);
    assert_string_equal(staff_str(&res, "state"), "approved");
    fg_client_response_release(&res);
    assert_int_equal(staff_get(&w->teller, path, &res), 200);
    assert_string_equal(staff_str(&res, "phone"), "+86139****4321");
    fg_client_response_release(&res);
    outbox_code(&w->s, PHONE_A_E164, "phone_changed", code, &n);
    assert_int_equal(n, 1);
    outbox_code(&w->s, PHONE_B_E164, "phone_changed", code, &n);
    assert_int_equal(n, 1);
    assert_int_equal(audit_find(w, "customers.phone_confirm", a2, NULL, NULL), 2);
}

static void destroy(struct world *w)
{
    struct fg_client_response res;
    char path[96], id[32], body[256];
    snprintf(path, sizeof path, "/v1/customers/%s/destroy", w->customer);
    staff_post(&w->officer, path, "{}", &res);
    staff_expect(&res, 400, "invalid_argument");
    staff_post(&w->teller, path, "{\"reason\":\"x\"}", &res);
    staff_expect(&res, 403, "permission_denied");
    request(&w->officer, path, "{\"reason\":\"the customer asked for erasure (PIPL art. 47)\"}",
            id);
    if (approve(&w->supervisor, id, &res) != 200)
        fail_msg("approve destroy: %ld %s", res.status, res.body);
    json_t *result = json_object_get(res.json, "result");
    assert_string_equal(json_string_value(json_object_get(result, "customer_id")), w->customer);
    assert_non_null(json_string_value(json_object_get(result, "destroyed_at")));
    fg_client_response_release(&res);
    snprintf(path, sizeof path, "/v1/customers/%s", w->customer);
    assert_int_equal(staff_get(&w->teller, path, &res), 200);
    assert_string_equal(staff_str(&res, "status"), "destroyed");
    assert_true(json_is_null(json_object_get(res.json, "name")));
    assert_true(json_is_null(json_object_get(res.json, "phone")));
    assert_true(json_is_null(json_object_get(res.json, "id_number")));
    assert_true(json_is_null(json_object_get(res.json, "email")));
    assert_string_equal(staff_str(&res, "destroy_method"), "overwrite+secure_delete");
    fg_client_response_release(&res);
    snprintf(body, sizeof body, "{\"card_token\":\"%s\",\"reason\":\"late dispute\"}", w->token);
    staff_post(&w->officer, "/v1/cards/detokenize", body, &res);
    staff_expect(&res, 409, "conflict");
    /* the customer's login ended with its data */
    snprintf(path, sizeof path, "/v1/customers/%s", w->customer);
    staff_get(&w->cust, path, &res);
    staff_expect(&res, 401, "unauthenticated");
}

/* The route-level rule of every route of this file, as the authorization matrix will list
 * it (tests/e2e/test_matrix.c): a random id and `{}` get past authorization (400/404) for the
 * roles that hold the permission, and 403 permission_denied for every other staff role. */
static void route_walk(struct world *w)
{
    enum { T = 1, S = 2, O = 4, A = 8, ADM = 16 };
    static const struct {
        const char *method, *path;
        unsigned allowed;
    } routes[] = {
        {"POST", "/v1/customers", T},
        {"GET", "/v1/customers/cus_AAAAAAAAAAAAAAAAAAAAAA", T | S | O | A},
        {"PATCH", "/v1/customers/cus_AAAAAAAAAAAAAAAAAAAAAA", T},
        {"POST", "/v1/customers/cus_AAAAAAAAAAAAAAAAAAAAAA/phone/confirm", T},
        {"POST", "/v1/customers/cus_AAAAAAAAAAAAAAAAAAAAAA/destroy", O},
        {"GET", "/v1/customers/cus_AAAAAAAAAAAAAAAAAAAAAA/cards", T | S | O | A},
        {"POST", "/v1/customers/cus_AAAAAAAAAAAAAAAAAAAAAA/cards", T},
        {"POST", "/v1/cards/detokenize", O},
    };
    struct person *people[] = {&w->teller, &w->supervisor, &w->officer, &w->auditor, &w->admin};
    for (size_t r = 0; r < sizeof routes / sizeof routes[0]; r++)
        for (size_t p = 0; p < 5; p++) {
            struct fg_client_response res;
            if (strcmp(routes[r].method, "GET") == 0)
                staff_get(people[p], routes[r].path, &res);
            else
                send_json(people[p], routes[r].method, routes[r].path, "{}", &res);
            int denied = res.status == 403 && res.error_code != NULL &&
                         strcmp(res.error_code, "permission_denied") == 0;
            if (denied == ((routes[r].allowed & (1u << p)) != 0) || res.status == 401 ||
                res.status >= 500)
                fail_msg("%s %s as %s: %ld %s", routes[r].method, routes[r].path,
                         people[p]->username, res.status, res.body);
            fg_client_response_release(&res);
        }
}

static void test_customers_acceptance(void **state)
{
    (void)state;
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    person_init(&w->admin, "admin", "admin-dev-1");
    person_init(&w->admin2, "admin2", "admin2-dev-1");
    person_init(&w->teller, "teller1", "teller-dev-1");
    person_init(&w->supervisor, "super1", "super-dev-1");
    person_init(&w->officer, "officer1", "officer-dev-1");
    person_init(&w->auditor, "audit1", "audit-dev-1");
    /* a second valid resident ID and a Luhn-valid 16-digit PAN */
    static const int wt[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    const char *d17 = "44030619900307121";
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (d17[i] - '0') * wt[i];
    snprintf(w->id_b, sizeof w->id_b, "%s%c", d17, "10X98765432"[sum % 11]);
    snprintf(w->pan, sizeof w->pan, "622202123456789%c",
             (char)fg_luhn_check_digit("622202123456789", 15));
    const char *const args[] = {"--set", "outbox.sink=file", "--set", "iam.customer_mfa=optional",
                                NULL};
    fg_test_server_start(&w->s, args);

    staff_up(w);
    route_walk(w);
    create_customer(w);
    cards(w);
    reveal_and_detokenize(w);
    customer_reads_only_itself(w);
    changes(w);
    destroy(w);

    /* DATA-4: no clear PAN or ID number anywhere; no clear phone in the database or logs */
    assert_int_equal(fg_test_server_grep(&w->s, w->pan, strlen(w->pan)), 0);
    assert_int_equal(fg_test_server_grep(&w->s, ID_A, strlen(ID_A)), 0);
    assert_int_equal(fg_test_server_grep(&w->s, w->id_b, strlen(w->id_b)), 0);
    assert_int_equal(grep_db_and_logs(&w->s, PHONE_A), 0);
    assert_int_equal(grep_db_and_logs(&w->s, PHONE_B), 0);
    assert_int_equal(grep_db_and_logs(&w->s, "13900001111"), 0);
    assert_int_equal(grep_db_and_logs(&w->s, "alice@example.com"), 0);
    assert_int_equal(fg_test_server_stop(&w->s), 0);
    fg_test_server_done(&w->s);
    struct person *all[] = {&w->admin,   &w->admin2,  &w->teller, &w->supervisor,
                            &w->officer, &w->auditor, &w->cust};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        fg_client_free(all[i]->c);
    free(w);
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    assert_int_equal(oath_init(), OATH_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_customers_acceptance, fg_test_server_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    oath_done();
    return rc;
}
