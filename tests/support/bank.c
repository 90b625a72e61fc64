/*
 * bank.c — see bank.h.
 */
#include "bank.h"

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/encode.h"
#include "crypto/crypto.h"

/* Entries per statement page asked for (the server's FG_LEDGER_PAGE_MAX). */
#define BANK_PAGE 200
/* Audit records per page asked for (the route's maximum). */
#define BANK_AUDIT_PAGE 1000
/* CLI output kept. */
#define BANK_CLI_OUT_MAX 8192

/* ---- staff ------------------------------------------------------------------------------- */

static const char *const staff_usernames[BANK_ROLE_COUNT] = {"admin",  "admin2",   "teller1",
                                                             "super1", "officer1", "auditor1"};
static const char *const staff_roles[BANK_ROLE_COUNT] = {
    "security_admin", "security_admin", "teller", "supervisor", "security_officer", "auditor"};

static long anon_post(const struct fg_test_server *s, const char *path, const char *json_text,
                      struct fg_client_response *res)
{
    struct fg_client *c;
    fg_test_server_client(s, &c);
    json_t *body = json_loads(json_text, 0, NULL);
    assert_non_null(body);
    fg_rc rc = fg_client_post_json(c, path, body, res);
    json_decref(body);
    if (rc != FG_OK)
        fail_msg("POST %s: transport error %s", path, fg_client_last_error(c));
    fg_client_free(c);
    return res->status;
}

static long current_step(void)
{
    return (long)(time(NULL) / 30);
}

void bank_staff_setup(const struct fg_test_server *s, struct bank_staff *b, int nshares,
                      int threshold)
{
    assert_true(nshares >= 1 && nshares <= BANK_SHARES_MAX);
    assert_true(threshold >= 1 && threshold <= nshares);
    memset(b, 0, sizeof *b);
    b->nshares = nshares;
    b->threshold = threshold;
    for (int r = 0; r < BANK_ROLE_COUNT; r++) {
        struct person *p = BANK_P(b, r);
        snprintf(p->username, sizeof p->username, "%s", staff_usernames[r]);
        snprintf(p->device, sizeof p->device, "%s-dev", staff_usernames[r]);
        snprintf(p->contact, sizeof p->contact, "%s@bank.example", staff_usernames[r]);
    }
    char body[4096];
    struct fg_client_response res;
    snprintf(body, sizeof body, "{\"shares\":%d,\"threshold\":%d}", nshares, threshold);
    if (anon_post(s, "/v1/sys/init", body, &res) != 200)
        fail_msg("init: %ld %s", res.status, res.body);
    json_t *shares = json_object_get(res.json, "shares");
    assert_int_equal(json_array_size(shares), (size_t)nshares);
    for (int i = 0; i < nshares; i++)
        snprintf(b->shares[i], sizeof b->shares[i], "%s",
                 json_string_value(json_array_get(shares, (size_t)i)));
    struct person *a = BANK_P(b, BANK_ADMIN), *a2 = BANK_P(b, BANK_ADMIN2);
    json_t *admin = json_object_get(res.json, "admin");
    snprintf(a->password, sizeof a->password, "%s",
             json_string_value(json_object_get(admin, "password")));
    fg_client_response_release(&res);
    staff_onboard(s, a, "Adm1n-first-Qx7!vT");
    b->totp_step[BANK_ADMIN] = current_step();

    /* the second approver under the bootstrap exception */
    snprintf(body, sizeof body,
             "{\"username\":\"%s\",\"roles\":[\"security_admin\"],\"contact\":\"%s\","
             "\"bootstrap\":true}",
             a2->username, a2->contact);
    staff_post(a, "/v1/users", body, &res);
    staff_expect(&res, 201, NULL);
    staff_outbox_password(s, a2->contact, a2->password);
    staff_onboard(s, a2, "Sec0nd-admin-Wz4#pR");
    b->totp_step[BANK_ADMIN2] = current_step();

    /* everyone else by four eyes: the first administrator asks, the second approves */
    for (int r = BANK_TELLER; r < BANK_ROLE_COUNT; r++) {
        struct person *p = BANK_P(b, r);
        snprintf(body, sizeof body, "{\"username\":\"%s\",\"roles\":[\"%s\"],\"contact\":\"%s\"}",
                 p->username, staff_roles[r], p->contact);
        if (staff_post(a, "/v1/users", body, &res) != 202)
            fail_msg("request %s: %ld %s", staff_roles[r], res.status, res.body);
        char path[128];
        snprintf(path, sizeof path, "/v1/approvals/%s/approve", staff_str(&res, "approval_id"));
        fg_client_response_release(&res);
        staff_post(a2, path, "{\"reason\":\"bank e2e staff\"}", &res);
        staff_expect(&res, 200, NULL);
        staff_outbox_password(s, p->contact, p->password);
        char pw[64]; /* never containing the user name (password policy) */
        snprintf(pw, sizeof pw, "Bnk-%d-pass-9kQ#v2", r);
        staff_onboard(s, p, pw);
        b->totp_step[r] = current_step();
    }
}

void bank_unseal(const struct fg_test_server *s, const struct bank_staff *b)
{
    for (int i = 0; i < b->threshold; i++) {
        char body[256];
        struct fg_client_response res;
        snprintf(body, sizeof body, "{\"share\":\"%s\"}", b->shares[i]);
        if (anon_post(s, "/v1/sys/unseal", body, &res) != 200)
            fail_msg("unseal: %ld %s", res.status, res.body);
        fg_client_response_release(&res);
    }
}

void bank_staff_relogin(const struct fg_test_server *s, struct bank_staff *b, enum bank_role r)
{
    struct person *p = BANK_P(b, r);
    while (current_step() <= b->totp_step[r])
        sleep((unsigned)(30 - time(NULL) % 30) + 1);
    staff_login(s, p, 0);
    char code[8], body[64];
    struct fg_client_response res;
    staff_totp_code(p, time(NULL), code);
    b->totp_step[r] = current_step();
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    staff_post(p, "/v1/auth/mfa", body, &res);
    staff_expect(&res, 200, NULL);
}

void bank_staff_free(struct bank_staff *b)
{
    for (int r = 0; r < BANK_ROLE_COUNT; r++) {
        fg_client_free(b->people[r].c);
        b->people[r].c = NULL;
    }
}

/* ---- test data --------------------------------------------------------------------------- */

char bank_id_check(const char *digits17)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char map[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (digits17[i] - '0') * w[i];
    return map[sum % 11];
}

void bank_id_number(unsigned seed, char out[19])
{
    unsigned date = seed % 10080u, seq = (seed / 10080u) % 1000u;
    snprintf(out, 19, "110101%04u%02u%02u%03u", 1970u + date % 30u, 1u + (date / 30u) % 12u,
             1u + date / 360u, seq);
    out[17] = bank_id_check(out);
    out[18] = '\0';
}

void bank_phone(unsigned seed, char out[24])
{
    snprintf(out, 24, "+86139%08u", seed % 100000000u);
}

int bank_luhn_ok(const char *digits)
{
    size_t n = strlen(digits);
    if (n == 0 || n > 32)
        return 0;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = digits[n - 1 - i];
        if (ch < '0' || ch > '9')
            return 0;
        int d = ch - '0';
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

void bank_pan(const char *prefix, size_t len, unsigned seed, char *out, size_t cap)
{
    size_t p = strlen(prefix);
    assert_true(len >= 13 && len <= 19 && p < len && cap > len);
    memcpy(out, prefix, p);
    uint32_t x = seed * 2654435761u + 12345u;
    for (size_t i = p; i < len - 1; i++) {
        x = x * 1103515245u + 12345u;
        out[i] = (char)('0' + (x >> 16) % 10u);
    }
    out[len] = '\0';
    for (char c = '0'; c <= '9'; c++) {
        out[len - 1] = c;
        if (bank_luhn_ok(out))
            return;
    }
    fail_msg("no Luhn digit");
}

void bank_new_key(char out[BANK_KEY_MAX])
{
    uint8_t raw[16];
    char text[32];
    if (fg_random(raw, sizeof raw) != FG_OK ||
        fg_base64url_encode(raw, sizeof raw, text, sizeof text) != FG_OK)
        abort(); /* may run on worker threads */
    snprintf(out, BANK_KEY_MAX, "k-%s", text);
}

/* ---- requests ---------------------------------------------------------------------------- */

long bank_raw_post(struct fg_client *c, const char *path, const char *body, const char *key,
                   struct fg_client_response *res)
{
    char line[512]; /* a test may send keys over the server's 128 */
    const char *headers[2] = {NULL, NULL};
    if (key != NULL) {
        snprintf(line, sizeof line, "Idempotency-Key: %s", key);
        headers[0] = line;
    }
    struct fg_client_request req = {.method = "POST",
                                    .path = path,
                                    .body = body,
                                    .body_len = strlen(body),
                                    .content_type = "application/json",
                                    .headers = headers};
    if (fg_client_request(c, &req, res) != FG_OK)
        return 0;
    return res->status;
}

long bank_post(struct person *p, const char *path, const char *body, const char *key,
               struct fg_client_response *res)
{
    assert_non_null(p->c);
    long st = bank_raw_post(p->c, path, body, key, res);
    if (st == 0)
        fail_msg("POST %s: transport error: %s", path, fg_client_last_error(p->c));
    return st;
}

long bank_get(struct person *p, const char *path, struct fg_client_response *res)
{
    assert_non_null(p->c);
    if (fg_client_get(p->c, path, res) != FG_OK)
        fail_msg("GET %s: transport error: %s", path, fg_client_last_error(p->c));
    return res->status;
}

void bank_expect(struct fg_client_response *res, long status, const char *code, const char *field)
{
    int bad = res->status != status;
    if (code && (!res->error_code || strcmp(res->error_code, code) != 0))
        bad = 1;
    if (field && (!res->error_field || strcmp(res->error_field, field) != 0))
        bad = 1;
    if (bad)
        fail_msg("expected %ld %s (field %s), got %ld: %s", status, code ? code : "",
                 field ? field : "-", res->status, res->body);
    fg_client_response_release(res);
}

void bank_open_account(struct person *teller, const char *customer_id, const char *currency,
                       char out[BANK_ID_MAX])
{
    char body[256];
    struct fg_client_response res;
    snprintf(body, sizeof body, "{\"customer_id\":\"%s\",\"currency\":\"%s\"}", customer_id,
             currency);
    if (bank_post(teller, "/v1/accounts", body, NULL, &res) != 201)
        fail_msg("open account: %ld %s", res.status, res.body);
    assert_string_equal(staff_str(&res, "status"), "active");
    assert_string_equal(staff_str(&res, "currency"), currency);
    assert_string_equal(staff_str(&res, "customer_id"), customer_id);
    assert_int_equal(json_integer_value(json_object_get(res.json, "balance")), 0);
    const char *id = staff_str(&res, "id");
    assert_true(strlen(id) < BANK_ID_MAX && strncmp(id, "acc_", 4) == 0);
    snprintf(out, BANK_ID_MAX, "%s", id);
    fg_client_response_release(&res);
}

int64_t bank_deposit(struct person *teller, const char *account, int64_t amount)
{
    char body[256], key[BANK_KEY_MAX];
    struct fg_client_response res;
    bank_new_key(key);
    snprintf(body, sizeof body, "{\"account_id\":\"%s\",\"amount\":%lld,\"currency\":\"CNY\"}",
             account, (long long)amount);
    if (bank_post(teller, "/v1/deposits", body, key, &res) != 201)
        fail_msg("deposit: %ld %s", res.status, res.body);
    assert_string_equal(staff_str(&res, "status"), "committed");
    assert_int_equal(json_integer_value(json_object_get(res.json, "amount")), amount);
    int64_t balance = (int64_t)json_integer_value(json_object_get(res.json, "balance"));
    fg_client_response_release(&res);
    return balance;
}

long bank_transfer(struct person *cust, const char *from, const char *to, int64_t amount,
                   const char *otp, const char *key, struct fg_client_response *res)
{
    char body[BANK_BODY_MAX], otp_member[48] = "";
    if (otp != NULL)
        snprintf(otp_member, sizeof otp_member, ",\"otp\":\"%s\"", otp);
    snprintf(body, sizeof body,
             "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld,\"currency\":\"CNY\"%s}", from, to,
             (long long)amount, otp_member);
    return bank_post(cust, "/v1/transfers", body, key, res);
}

int64_t bank_balance(struct person *p, const char *account)
{
    char path[160];
    struct fg_client_response res;
    snprintf(path, sizeof path, "/v1/accounts/%s", account);
    if (bank_get(p, path, &res) != 200)
        fail_msg("GET %s: %ld %s", path, res.status, res.body);
    json_t *v = json_object_get(res.json, "balance");
    assert_true(json_is_integer(v));
    int64_t balance = (int64_t)json_integer_value(v);
    fg_client_response_release(&res);
    return balance;
}

json_t *bank_entries(struct person *p, const char *account)
{
    json_t *all = json_array();
    assert_non_null(all);
    char cursor[32] = "";
    for (int page = 0; page < 100000; page++) {
        char path[256];
        struct fg_client_response res;
        if (cursor[0])
            snprintf(path, sizeof path, "/v1/accounts/%s/entries?limit=%d&cursor=%s", account,
                     BANK_PAGE, cursor);
        else
            snprintf(path, sizeof path, "/v1/accounts/%s/entries?limit=%d", account, BANK_PAGE);
        if (bank_get(p, path, &res) != 200)
            fail_msg("GET %s: %ld %s", path, res.status, res.body);
        assert_string_equal(staff_str(&res, "account_id"), account);
        json_t *entries = json_object_get(res.json, "entries");
        assert_true(json_is_array(entries));
        assert_int_equal(json_array_extend(all, entries), 0);
        json_t *next = json_object_get(res.json, "next_cursor");
        int more = json_is_string(next);
        if (more)
            snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        else
            assert_true(json_is_null(next));
        fg_client_response_release(&res);
        if (!more)
            return all;
    }
    fail_msg("statement of %s never ends", account);
    return all;
}

void bank_ledger_check(struct person *p, char *totals, size_t cap)
{
    struct fg_client_response res;
    if (bank_get(p, "/v1/ledger/check", &res) != 200)
        fail_msg("ledger check: %ld %s", res.status, res.body);
    if (!json_is_true(json_object_get(res.json, "ok")))
        fail_msg("the books do not balance: %s", res.body);
    assert_string_equal(staff_str(&res, "problem"), "");
    if (totals != NULL)
        snprintf(totals, cap, "%s", staff_str(&res, "customer_totals"));
    fg_client_response_release(&res);
}

json_t *bank_approve(struct person *supervisor, const char *approval_id)
{
    char path[128];
    struct fg_client_response res;
    snprintf(path, sizeof path, "/v1/approvals/%s/approve", approval_id);
    if (bank_post(supervisor, path, "{\"reason\":\"checked with the customer\"}", NULL, &res) !=
        200)
        fail_msg("approve %s: %ld %s", approval_id, res.status, res.body);
    assert_string_equal(staff_str(&res, "state"), "approved");
    json_t *result = json_object_get(res.json, "result");
    if (result != NULL)
        json_incref(result);
    fg_client_response_release(&res);
    return result;
}

static int str_is(json_t *o, const char *key, const char *want)
{
    if (want == NULL)
        return 1;
    const char *v = json_string_value(json_object_get(o, key));
    return v != NULL && strcmp(v, want) == 0;
}

long bank_audit_count(struct person *auditor, const char *action, const char *result,
                      const char *actor_id, const char *object_id)
{
    long n = 0;
    long long after = 0;
    for (;;) {
        char path[128];
        struct fg_client_response res;
        snprintf(path, sizeof path, "/v1/audit?after=%lld&limit=%d", after, BANK_AUDIT_PAGE);
        if (bank_get(auditor, path, &res) != 200)
            fail_msg("GET %s: %ld %s", path, res.status, res.body);
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(res.json, "records"), i, r)
        {
            if (str_is(r, "action", action) && str_is(r, "result", result) &&
                str_is(r, "actor_id", actor_id) && str_is(r, "object_id", object_id))
                n++;
        }
        json_t *next = json_object_get(res.json, "next_after");
        int more = json_is_integer(next);
        if (more)
            after = json_integer_value(next);
        fg_client_response_release(&res);
        if (!more)
            return n;
    }
}

/* ---- customers --------------------------------------------------------------------------- */

void bank_customer_register(const struct fg_test_server *s, struct person *teller,
                            struct bank_customer *cu, const char *name, unsigned seed)
{
    memset(cu, 0, sizeof *cu);
    snprintf(cu->name, sizeof cu->name, "%s", name);
    bank_id_number(seed, cu->id_number);
    bank_phone(seed, cu->phone);
    snprintf(cu->email, sizeof cu->email, "c%u@example.com", seed);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "name", cu->name, "id_number", cu->id_number,
                             "phone", cu->phone, "email", cu->email);
    assert_non_null(body);
    struct fg_client_response res;
    assert_int_equal(fg_client_post_json(teller->c, "/v1/customers", body, &res), FG_OK);
    json_decref(body);
    if (res.status != 201)
        fail_msg("POST /v1/customers: %ld %s", res.status, res.body);
    snprintf(cu->id, sizeof cu->id, "%s", staff_str(&res, "id"));
    assert_true(strlen(staff_str(&res, "username")) < sizeof cu->p.username);
    snprintf(cu->p.username, sizeof cu->p.username, "%s", staff_str(&res, "username"));
    snprintf(cu->activation_code, sizeof cu->activation_code, "%s",
             staff_str(&res, "activation_code"));
    if (json_is_string(json_object_get(res.json, "user_id")))
        snprintf(cu->user_id, sizeof cu->user_id, "%s", staff_str(&res, "user_id"));
    fg_client_response_release(&res);
    /* the same code went to the reserved phone */
    char sent[16];
    bank_outbox_code(s, cu->phone, "activation", sent);
    assert_string_equal(sent, cu->activation_code);
    snprintf(cu->p.password, sizeof cu->p.password, "%s", BANK_CUSTOMER_PASSWORD);
    snprintf(cu->p.device, sizeof cu->p.device, "phone-%u", seed);
}

void bank_customer_activate(const struct fg_test_server *s, struct bank_customer *cu)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "username", cu->p.username, "activation_code",
                             cu->activation_code, "new_password", cu->p.password);
    assert_non_null(body);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct fg_client_response res;
    long st = anon_post(s, "/v1/auth/activate", text, &res);
    free(text);
    if (st != 200)
        fail_msg("activate %s: %ld %s", cu->p.username, res.status, res.body);
    fg_client_response_release(&res);
}

const char *bank_customer_login(const struct fg_test_server *s, struct bank_customer *cu)
{
    static char mfa[16];
    struct person *p = &cu->p;
    if (p->c == NULL)
        fg_test_server_client(s, &p->c);
    long st = bank_raw_login(p->c, p->username, p->password, p->device, &p->sg, mfa);
    if (st != 200)
        fail_msg("login %s: %ld %s", p->username, st, fg_client_last_error(p->c));
    if (strcmp(mfa, "otp") == 0) {
        char code[16], body[64];
        struct fg_client_response res;
        bank_outbox_code(s, cu->phone, "login", code);
        snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
        bank_post(p, "/v1/auth/mfa", body, NULL, &res);
        bank_expect(&res, 200, NULL, NULL);
    } else if (strcmp(mfa, "false") != 0) {
        fail_msg("customer login: mfa_required %s", mfa);
    }
    return mfa;
}

void bank_customer_new(const struct fg_test_server *s, struct bank_staff *b,
                       struct bank_customer *cu, const char *name, unsigned seed, int naccounts,
                       int64_t deposit)
{
    assert_true(naccounts >= 0 && naccounts <= BANK_ACCOUNTS_MAX);
    struct person *teller = BANK_P(b, BANK_TELLER);
    bank_customer_register(s, teller, cu, name, seed);
    bank_customer_activate(s, cu);
    bank_customer_login(s, cu);
    for (int i = 0; i < naccounts; i++) {
        bank_open_account(teller, cu->id, "CNY", cu->account[i]);
        if (deposit > 0)
            assert_int_equal(bank_deposit(teller, cu->account[i], deposit), deposit);
    }
    cu->naccounts = naccounts;
}

void bank_customer_free(struct bank_customer *cu)
{
    fg_client_free(cu->p.c);
    cu->p.c = NULL;
}

/* ---- the outbox --------------------------------------------------------------------------- */

/* Calls fn for every complete line of the outbox (a line being written is skipped). Returns
 * -1 when the file is missing or a line is not JSON. */
static long outbox_walk(const struct fg_test_server *s, void (*fn)(json_t *m, void *ctx), void *ctx)
{
    char path[700];
    snprintf(path, sizeof path, "%s/outbox.jsonl", s->dir);
    size_t len = 0;
    char *text = fg_test_read_file(path, &len);
    if (text == NULL)
        return -1;
    long lines = 0;
    for (char *line = text, *end; *line != '\0'; line = end + 1) {
        end = strchr(line, '\n');
        if (end == NULL)
            break;
        json_t *m = json_loadb(line, (size_t)(end - line), 0, NULL);
        if (m == NULL) {
            free(text);
            return -1;
        }
        fn(m, ctx);
        json_decref(m);
        lines++;
    }
    free(text);
    return lines;
}

struct outbox_query {
    const char *to, *purpose;
    long count;
    char code[16];
    int code_in_text;
};

static void outbox_match(json_t *m, void *ctx)
{
    struct outbox_query *q = ctx;
    if (!str_is(m, "to", q->to) || !str_is(m, "purpose", q->purpose))
        return;
    q->count++;
    const char *code = json_string_value(json_object_get(m, "code"));
    const char *text = json_string_value(json_object_get(m, "text"));
    if (code != NULL) {
        snprintf(q->code, sizeof q->code, "%s", code);
        q->code_in_text = text != NULL && strstr(text, code) != NULL;
    }
}

void bank_outbox_code(const struct fg_test_server *s, const char *to, const char *purpose,
                      char out[16])
{
    struct outbox_query q = {.to = to, .purpose = purpose};
    if (outbox_walk(s, outbox_match, &q) < 0)
        fail_msg("the outbox cannot be read");
    if (q.code[0] == '\0')
        fail_msg("no %s code for %s in the outbox", purpose, to);
    assert_false(q.code_in_text);
    size_t n = strlen(q.code);
    assert_true(n >= 6 && n < 16);
    snprintf(out, 16, "%s", q.code);
}

long bank_outbox_count(const struct fg_test_server *s, const char *to, const char *purpose)
{
    struct outbox_query q = {.to = to, .purpose = purpose};
    return outbox_walk(s, outbox_match, &q) < 0 ? -1 : q.count;
}

/* ---- the stopped server ------------------------------------------------------------------- */

int bank_cli(const struct fg_test_server *s, const char *args, const char *stdin_text, char *out,
             size_t cap)
{
    const char *bin = getenv("FINGUARD_BIN");
    assert_non_null(bin);
    char cmd[4096];
    int n;
    if (stdin_text != NULL) {
        assert_null(strchr(stdin_text, '\''));
        n = snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | '%s' %s --data-dir '%s'", stdin_text,
                     bin, args, s->dir);
    } else {
        n = snprintf(cmd, sizeof cmd, "'%s' %s --data-dir '%s' </dev/null", bin, args, s->dir);
    }
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, cap - 1, p);
    out[got] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int bank_cli_ledger_check(const struct fg_test_server *s)
{
    char out[BANK_CLI_OUT_MAX];
    int st = bank_cli(s, "ledger check --json", NULL, out, sizeof out);
    fprintf(stderr, "finguard ledger check (exit %d): %s", st, out);
    if (st == 0) {
        json_t *doc = json_loads(out, 0, NULL);
        assert_non_null(doc);
        assert_true(json_is_true(json_object_get(doc, "ok")));
        json_decref(doc);
    }
    return st;
}

int bank_cli_audit_verify(const struct fg_test_server *s, const struct bank_staff *b)
{
    char in[BANK_SHARES_MAX * (BANK_SHARE_TEXT + 1) + 1] = "", out[BANK_CLI_OUT_MAX];
    size_t used = 0;
    for (int i = 0; i < b->threshold; i++)
        used += (size_t)snprintf(in + used, sizeof in - used, "%s\n", b->shares[i]);
    int st = bank_cli(s, "audit verify --json", in, out, sizeof out);
    fprintf(stderr, "finguard audit verify (exit %d): %s", st, out);
    if (st == 0) {
        json_t *doc = json_loads(out, 0, NULL);
        assert_non_null(doc);
        assert_true(json_is_true(json_object_get(doc, "ok")));
        assert_true(json_is_null(json_object_get(doc, "first_bad_seq")));
        json_decref(doc);
    }
    return st;
}

long bank_grep_db_and_logs(const struct fg_test_server *s, const char *needle)
{
    static const char *const files[] = {"finguard.db", "finguard.db-wal", "finguard.db-journal",
                                        "finguard.log", "stdout.log"};
    long total = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", s->dir, files[i]);
        long n = fg_test_file_count(path, needle, strlen(needle));
        if (n > 0) {
            fprintf(stderr, "[bank] %ld occurrence(s) of a secret in %s\n", n, files[i]);
            total += n;
        }
    }
    return total;
}

/* ---- worker threads ----------------------------------------------------------------------- */

struct fg_client *bank_raw_client(const struct fg_test_server *s, long timeout_ms)
{
    struct fg_client_options opt = {
        .base_url = s->base_url, .ca_file = s->tls ? s->ca_file : NULL, .timeout_ms = timeout_ms};
    struct fg_client *c = NULL;
    return fg_client_new(&opt, &c) == FG_OK ? c : NULL;
}

long bank_raw_login(struct fg_client *c, const char *username, const char *password,
                    const char *device, struct signer *sg, char *mfa)
{
    if (fg_client_set_session(c, NULL, NULL) != FG_OK)
        return 0;
    fg_client_set_signer(c, NULL, NULL);
    json_t *body = json_pack("{s:s, s:s, s:s}", "username", username, "password", password,
                             "device_id", device);
    if (body == NULL)
        abort();
    struct fg_client_response res;
    fg_rc rc = fg_client_post_json(c, "/v1/auth/login", body, &res);
    json_decref(body);
    if (rc != FG_OK)
        return 0;
    long st = res.status;
    if (st == 200) {
        const char *key = json_string_value(json_object_get(res.json, "session_key"));
        const char *token = json_string_value(json_object_get(res.json, "token"));
        size_t n = 0;
        if (key == NULL || token == NULL ||
            fg_base64url_decode(key, strlen(key), sg->key, sizeof sg->key, &n) != FG_OK ||
            n != sizeof sg->key || fg_client_set_session(c, token, device) != FG_OK) {
            st = -1;
        } else {
            fg_client_set_signer(c, staff_sign, sg);
            if (mfa != NULL) {
                json_t *m = json_object_get(res.json, "mfa_required");
                snprintf(mfa, 16, "%s",
                         json_is_string(m)  ? json_string_value(m)
                         : json_is_false(m) ? "false"
                                            : "?");
            }
        }
    }
    fg_client_response_release(&res);
    return st;
}
