/*
 * End-to-end: the authorization matrix (issue #4 acceptance; REQUIREMENTS IAM-1, IAM-7, GOV-2;
 * API.md "Authentication of every non-public route", data/roles.yaml).
 *
 * A golden table below names, for every route (method + pattern), who may call it: public,
 * not role-checked (configuration-gated: metrics, the diagnostics probe), or the exact set of
 * roles. Three tests:
 *
 *   coverage   `finguard routes --json` (with every gated route switched on) must list
 *              exactly the table's routes with the table's permission: a new route without
 *              a table entry — or a table entry whose route is gone — fails here.
 *   staff walk one MFA-complete user per staff role (created through init, the bootstrap
 *              exception and four-eyes approval, as in test_staff.c) plus an anonymous client
 *              call every route with a minimal, properly signed request (a random id for
 *              path parameters, `{}` as JSON body). Denied = 403 permission_denied; allowed =
 *              anything but 401/403 (400 for the empty body, 404 for the unknown id, 409 …
 *              all got past authorization). Anonymous gets 401 on every non-public route;
 *              public and gated routes never answer 401/403 and answer every caller alike.
 *              Every mismatch is collected and the test fails with the whole list.
 *   customer   a real customer (registered by a teller, activated with the code from the
 *              outbox, logged in with the delivered "login" code, two funded accounts and one
 *              transfer: tests/support/bank.h) calls every route the same way — with its OWN
 *              account, customer and transfer ids where the pattern names one, so that the
 *              owner checks of the money and customer routes let it through when the table
 *              allows the route — and must get exactly the table's verdict. Object-level checks
 *              against other customers' objects (IDOR) are tested in test_bank.c.
 *
 * What "allowed" means here is the route-level check only. POST /v1/approvals/{id}/approve
 * and …/reject are guarded by approvals.read (API.md): the approve.<class> check happens
 * inside the decision and is covered by test_staff.c, not by this table.
 *
 * Calls that would break later calls are ordered: logout (ends the session) is walked last
 * for every role; a password change is sent without fields (400) so no session ends.
 */
#include "testutil.h"

#include <liboath/oath.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bank.h"
#include "base/encode.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include "iam/replay.h"
#include "server.h"
#include "staff.h"

/* ---- the golden table ------------------------------------------------------------------------ */

enum role {
    SECURITY_ADMIN,
    SECURITY_OFFICER,
    AUDITOR,
    TELLER,
    SUPERVISOR,
    VENDOR,
    SERVICE,
    CUSTOMER,
    ROLE_COUNT,
    STAFF_ROLE_COUNT = CUSTOMER /* the staff roles come first */
};

static const char *const role_names[ROLE_COUNT] = {"security_admin", "security_officer", "auditor",
                                                   "teller",         "supervisor",       "vendor",
                                                   "service",        "customer"};

#define R(r) (1u << (r))
#define ALL_ROLES ((1u << ROLE_COUNT) - 1u)
#define APPROVALS_READERS                                                                          \
    (R(TELLER) | R(SUPERVISOR) | R(SECURITY_ADMIN) | R(SECURITY_OFFICER) | R(AUDITOR))

/* accounts.read, statements.read and customers.read: the same holders */
#define ACCOUNT_READERS (R(CUSTOMER) | R(TELLER) | R(SUPERVISOR) | R(SECURITY_OFFICER) | R(AUDITOR))
#define CUSTOMER_READERS ACCOUNT_READERS

enum access {
    PUBLIC, /* no authentication at all */
    GATED,  /* not role-checked: switched on or off by configuration */
    ROLES,  /* authenticated; only the roles in `allowed` pass */
};

struct route_rule {
    const char *method;
    const char *pattern;
    const char *permission; /* as `finguard routes --json` names it */
    enum access access;
    unsigned allowed; /* R(role) bits, for ROLES */
};

/* The customer bits come from data/roles.yaml (customer: self.*, customers.read,
 * accounts.read, statements.read, transfers.create). */
static const struct route_rule table[] = {
    {"GET", "/v1/health", "public", PUBLIC, 0},
    {"POST", "/v1/sys/init", "public", PUBLIC, 0},
    {"POST", "/v1/sys/unseal", "public", PUBLIC, 0},
    {"POST", "/v1/auth/login", "public", PUBLIC, 0},
    /* a new customer's first password with the activation code (AUTH-1) */
    {"POST", "/v1/auth/activate", "public", PUBLIC, 0},
    /* open on loopback (server.metrics_token empty) */
    {"GET", "/metrics", "metrics", GATED, 0},
    /* only with diag.write_probe=true */
    {"POST", "/v1/diag/write", "diag", GATED, 0},
    {"GET", "/v1/diag/write/{id}", "diag", GATED, 0},
    /* moves the process clock (lockout/expiry tests); `{}` lacks offset_s and moves nothing */
    {"POST", "/v1/diag/clock", "diag", GATED, 0},
    {"GET", "/v1/keys", "keys.read", ROLES, R(SECURITY_ADMIN) | R(AUDITOR)},
    /* allowed for security_admin — not walked for it: the call would seal the instance
     * under the rest of the walk (tests/e2e/test_auth.c seals and unseals end to end) */
    {"POST", "/v1/sys/seal", "sys.seal", ROLES, R(SECURITY_ADMIN)},
    {"GET", "/v1/audit", "audit.read", ROLES, R(AUDITOR)},
    {"POST", "/v1/audit/verify", "audit.verify", ROLES, R(AUDITOR)},
    {"POST", "/v1/auth/logout", "self.session", ROLES, ALL_ROLES},
    {"POST", "/v1/auth/password", "self.password", ROLES, ALL_ROLES},
    /* AUTH-9: set one's reserved (anti-phishing) phrase */
    {"POST", "/v1/auth/phrase", "self.session", ROLES, ALL_ROLES},
    {"POST", "/v1/auth/totp/enroll", "self.mfa", ROLES, ALL_ROLES},
    {"POST", "/v1/auth/totp/confirm", "self.mfa", ROLES, ALL_ROLES},
    {"POST", "/v1/auth/mfa", "self.mfa", ROLES, ALL_ROLES},
    {"POST", "/v1/users", "users.create", ROLES, R(SECURITY_ADMIN)},
    {"GET", "/v1/users/{id}", "users.read", ROLES,
     R(SECURITY_ADMIN) | R(SECURITY_OFFICER) | R(AUDITOR)},
    {"POST", "/v1/users/{id}/roles", "users.roles", ROLES, R(SECURITY_ADMIN)},
    {"POST", "/v1/users/{id}/unlock", "users.unlock", ROLES, R(SECURITY_ADMIN)},
    {"POST", "/v1/keys/{purpose}/rotate", "keys.rotate", ROLES, R(SECURITY_ADMIN)},
    {"GET", "/v1/approvals", "approvals.read", ROLES, APPROVALS_READERS},
    /* route-level only: approve.<class> is checked inside the decision (test_staff.c) */
    {"POST", "/v1/approvals/{id}/approve", "approvals.read", ROLES, APPROVALS_READERS},
    {"POST", "/v1/approvals/{id}/reject", "approvals.read", ROLES, APPROVALS_READERS},
    /* money (issue #5): object-level owner checks are tested in tests/e2e/test_bank.c */
    {"POST", "/v1/accounts", "accounts.create", ROLES, R(TELLER)},
    {"GET", "/v1/accounts/{id}", "accounts.read", ROLES, ACCOUNT_READERS},
    {"GET", "/v1/accounts/{id}/entries", "statements.read", ROLES, ACCOUNT_READERS},
    {"GET", "/v1/customers/{id}/accounts", "accounts.read", ROLES, ACCOUNT_READERS},
    {"POST", "/v1/deposits", "money.deposit", ROLES, R(TELLER)},
    {"POST", "/v1/withdrawals", "money.withdraw", ROLES, R(TELLER)},
    {"POST", "/v1/transfers", "transfers.create", ROLES, R(CUSTOMER)},
    {"GET", "/v1/transfers/{id}", "statements.read", ROLES, ACCOUNT_READERS},
    {"POST", "/v1/accounts/{id}/freeze", "accounts.freeze", ROLES, R(SECURITY_OFFICER)},
    {"POST", "/v1/accounts/{id}/unfreeze", "accounts.unfreeze", ROLES, R(SECURITY_OFFICER)},
    {"POST", "/v1/accounts/{id}/limits", "accounts.limits", ROLES, R(TELLER)},
    {"GET", "/v1/ledger/check", "ledger.check", ROLES, R(SUPERVISOR) | R(AUDITOR)},
    /* customers and cards (issue #5): owner checks for customers in test_bank.c */
    {"POST", "/v1/customers", "customers.create", ROLES, R(TELLER)},
    {"GET", "/v1/customers/{id}", "customers.read", ROLES, CUSTOMER_READERS},
    {"PATCH", "/v1/customers/{id}", "customers.update", ROLES, R(TELLER)},
    /* AUTH-2: identity-verified reset (the new activation code goes to the reserved phone) */
    {"POST", "/v1/customers/{id}/reset", "customers.update", ROLES, R(TELLER)},
    {"POST", "/v1/customers/{id}/phone/confirm", "customers.update", ROLES, R(TELLER)},
    {"POST", "/v1/customers/{id}/destroy", "customers.destroy", ROLES, R(SECURITY_OFFICER)},
    {"GET", "/v1/customers/{id}/cards", "customers.read", ROLES, CUSTOMER_READERS},
    {"POST", "/v1/customers/{id}/cards", "cards.create", ROLES, R(TELLER)},
    {"POST", "/v1/cards/detokenize", "cards.detokenize", ROLES, R(SECURITY_OFFICER)},
    /* issue #6: the event intake (MON-5, the machine principal) and the event search */
    {"POST", "/v1/events", "events.ingest", ROLES, R(SERVICE)},
    {"GET", "/v1/events", "events.read", ROLES, R(SECURITY_OFFICER) | R(AUDITOR)},
    /* issue #6: alerts and incidents (INC-1..5); the auditor reads, the officer acts */
    {"GET", "/v1/alerts", "alerts.read", ROLES, R(SECURITY_OFFICER) | R(AUDITOR)},
    {"GET", "/v1/alerts/{id}", "alerts.read", ROLES, R(SECURITY_OFFICER) | R(AUDITOR)},
    {"POST", "/v1/alerts/{id}/ack", "alerts.ack", ROLES, R(SECURITY_OFFICER)},
    {"POST", "/v1/alerts/{id}/resolve", "alerts.ack", ROLES, R(SECURITY_OFFICER)},
    {"GET", "/v1/incidents", "incidents.read", ROLES, R(SECURITY_OFFICER) | R(AUDITOR)},
    {"POST", "/v1/incidents", "incidents.write", ROLES, R(SECURITY_OFFICER)},
    {"GET", "/v1/incidents/{id}", "incidents.read", ROLES, R(SECURITY_OFFICER) | R(AUDITOR)},
    {"POST", "/v1/incidents/{id}/transition", "incidents.write", ROLES, R(SECURITY_OFFICER)},
    {"POST", "/v1/incidents/{id}/notes", "incidents.write", ROLES, R(SECURITY_OFFICER)},
    {"POST", "/v1/incidents/{id}/evidence", "incidents.write", ROLES, R(SECURITY_OFFICER)},
    {"POST", "/v1/incidents/{id}/review", "incidents.write", ROLES, R(SECURITY_OFFICER)},
    {"GET", "/v1/incidents/{id}/export", "incidents.read", ROLES, R(SECURITY_OFFICER) | R(AUDITOR)},
    /* issue #6: the detection rules in force (MON-2); reloading is the administrator's */
    {"GET", "/v1/rules", "rules.read", ROLES, R(SECURITY_ADMIN) | R(SECURITY_OFFICER) | R(AUDITOR)},
    {"POST", "/v1/rules/reload", "rules.reload", ROLES, R(SECURITY_ADMIN)},
};
#define TABLE_SIZE (sizeof table / sizeof table[0])

/* ---- mismatch list --------------------------------------------------------------------------- */

#define MISMATCH_TEXT_MAX 32768

struct mismatches {
    char text[MISMATCH_TEXT_MAX];
    size_t len;
    int count;
};

static void mismatch(struct mismatches *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mismatch(struct mismatches *m, const char *fmt, ...)
{
    m->count++;
    if (m->len + 2 >= sizeof m->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->text + m->len, sizeof m->text - m->len - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    m->len += (size_t)n < sizeof m->text - m->len - 1 ? (size_t)n : sizeof m->text - m->len - 2;
    m->text[m->len++] = '\n';
    m->text[m->len] = '\0';
}

static void fail_if_mismatches(const struct mismatches *m, const char *what)
{
    if (m->count > 0)
        fail_msg("%d %s mismatch(es):\n%s", m->count, what, m->text);
}

/* ---- coverage: the server's route list against the table ------------------------------------- */

/* stdout of `$FINGUARD_BIN routes --json <gated routes on>`, caller frees. */
static char *routes_json(void)
{
    const char *bin = getenv("FINGUARD_BIN");
    if (bin == NULL)
        fail_msg("FINGUARD_BIN is not set");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(bin, bin, "routes", "--json", "--set", "diag.write_probe=true", "--set",
              "server.metrics=true", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    ssize_t n;
    while ((n = read(fds[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(fds[0]);
    out[len] = '\0';
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s routes --json: exit status %d", bin, status);
    return out;
}

static const struct route_rule *table_find(const char *method, const char *pattern)
{
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (strcmp(table[i].method, method) == 0 && strcmp(table[i].pattern, pattern) == 0)
            return &table[i];
    return NULL;
}

static void test_matrix_route_coverage(void **state)
{
    (void)state;
    char *text = routes_json();
    json_error_t jerr;
    json_t *routes = json_loads(text, 0, &jerr);
    if (!json_is_array(routes))
        fail_msg("routes --json is not a JSON array: %s", jerr.text);
    free(text);
    struct mismatches *m = calloc(1, sizeof *m);
    assert_non_null(m);
    int seen[TABLE_SIZE] = {0};
    size_t i;
    json_t *r;
    json_array_foreach(routes, i, r)
    {
        const char *method = json_string_value(json_object_get(r, "method"));
        const char *pattern = json_string_value(json_object_get(r, "pattern"));
        const char *perm = json_string_value(json_object_get(r, "permission"));
        assert_non_null(method);
        assert_non_null(pattern);
        assert_non_null(perm);
        const struct route_rule *rule = table_find(method, pattern);
        if (rule == NULL) {
            mismatch(m, "route %s %s (permission %s) has no entry in the matrix table", method,
                     pattern, perm);
            continue;
        }
        if (seen[rule - table]++)
            mismatch(m, "route %s %s listed twice by the server", method, pattern);
        if (strcmp(rule->permission, perm) != 0)
            mismatch(m, "route %s %s: server checks %s, table says %s", method, pattern, perm,
                     rule->permission);
    }
    for (i = 0; i < TABLE_SIZE; i++)
        if (!seen[i])
            mismatch(m, "table entry %s %s has no route in the server", table[i].method,
                     table[i].pattern);
    json_decref(routes);
    fail_if_mismatches(m, "route table");
    free(m);
}

/* ---- API.md request signing, as a client does it (as in test_staff.c) ------------------------ */

/* ---- a staff member at a client (helpers copied from test_staff.c) --------------------------- */

/* Enrol TOTP from the otpauth URI and confirm it: this session's MFA is then done. */

/* First login of a new staff user: one-time password, change, enrol, confirm. */

/* The one-time password the outbox sent to `to` (the last staff_password line for it). */

static void person_init(struct person *p, const char *username)
{
    memset(p, 0, sizeof *p);
    snprintf(p->username, sizeof p->username, "%s", username);
    snprintf(p->device, sizeof p->device, "%s-dev", username);
    snprintf(p->contact, sizeof p->contact, "%s@bank.example", username);
}

/* ---- one MFA-complete user per staff role ---------------------------------------------------- */

struct matrix {
    struct fg_test_server s;
    struct person staff[STAFF_ROLE_COUNT]; /* [SECURITY_ADMIN] is the first administrator */
    struct person admin2;                  /* the second approver (bootstrap exception) */
    struct fg_client *anon;
};

static void init_and_bootstrap(struct matrix *t)
{
    struct person *a = &t->staff[SECURITY_ADMIN];
    json_t *init = json_pack("{s:i, s:i}", "shares", 3, "threshold", 2);
    struct fg_client_response res;
    assert_int_equal(fg_client_post_json(t->anon, "/v1/sys/init", init, &res), FG_OK);
    json_decref(init);
    assert_int_equal(res.status, 200);
    json_t *admin = json_object_get(res.json, "admin");
    snprintf(a->password, sizeof a->password, "%s",
             json_string_value(json_object_get(admin, "password")));
    fg_client_response_release(&res);
    staff_onboard(&t->s, a, "Adm1n-first-Qx7!vT");

    staff_post(a, "/v1/users",
               "{\"username\":\"admin2\",\"roles\":[\"security_admin\"],"
               "\"contact\":\"admin2@bank.example\",\"bootstrap\":true}",
               &res);
    if (res.status != 201)
        fail_msg("bootstrap: %ld %s", res.status, res.body);
    fg_client_response_release(&res);
    staff_outbox_password(&t->s, t->admin2.contact, t->admin2.password);
    staff_onboard(&t->s, &t->admin2, "Sec0nd-admin-Wz4#pR");
}

/* The first administrator requests every other staff role; the second approves. */
static void create_staff(struct matrix *t)
{
    char ids[STAFF_ROLE_COUNT][32];
    char in_30d[32];
    time_t when = time(NULL) + 30 * 86400;
    strftime(in_30d, sizeof in_30d, "%Y-%m-%dT%H:%M:%SZ", gmtime(&when));
    for (int r = SECURITY_OFFICER; r < STAFF_ROLE_COUNT; r++) {
        struct person *p = &t->staff[r];
        char body[320], expiry[64] = "";
        if (r == VENDOR) /* IAM-6: a vendor needs an expiry within a year */
            snprintf(expiry, sizeof expiry, ",\"expires_at\":\"%s\"", in_30d);
        snprintf(body, sizeof body, "{\"username\":\"%s\",\"roles\":[\"%s\"],\"contact\":\"%s\"%s}",
                 p->username, role_names[r], p->contact, expiry);
        struct fg_client_response res;
        if (staff_post(&t->staff[SECURITY_ADMIN], "/v1/users", body, &res) != 202)
            fail_msg("request %s: %ld %s", role_names[r], res.status, res.body);
        snprintf(ids[r], sizeof ids[r], "%s", staff_str(&res, "approval_id"));
        fg_client_response_release(&res);
    }
    for (int r = SECURITY_OFFICER; r < STAFF_ROLE_COUNT; r++) {
        char path[96];
        snprintf(path, sizeof path, "/v1/approvals/%s/approve", ids[r]);
        struct fg_client_response res;
        if (staff_post(&t->admin2, path, "{\"reason\":\"matrix test\"}", &res) != 200)
            fail_msg("approve %s: %ld %s", role_names[r], res.status, res.body);
        fg_client_response_release(&res);
        staff_outbox_password(&t->s, t->staff[r].contact, t->staff[r].password);
        char pw[64]; /* never containing the user name (password policy) */
        snprintf(pw, sizeof pw, "Mtx-%d-pass-9kQ#v2", r);
        staff_onboard(&t->s, &t->staff[r], pw);
    }
}

/* ---- the walk -------------------------------------------------------------------------------- */

#define RANDOM_ID "AAAAAAAAAAAAAAAAAAAAAA" /* 22 base64url characters, as the server's ids */

/* Ids a customer walks with: its own, so that owner checks pass where the route is allowed
 * (a NULL member: RANDOM_ID). */
struct own_ids {
    const char *account, *customer, *transfer;
};

/* The id for the {param} at `at` in pattern: the caller's own account, customer or transfer
 * right after /v1/accounts/, /v1/customers/ or /v1/transfers/; RANDOM_ID otherwise. */
static const char *param_id(const char *pattern, const char *at, const struct own_ids *own)
{
    size_t n = (size_t)(at - pattern);
    const char *id = NULL;
    if (own != NULL) {
        if (n == strlen("/v1/accounts/") && strncmp(pattern, "/v1/accounts/", n) == 0)
            id = own->account;
        else if (n == strlen("/v1/customers/") && strncmp(pattern, "/v1/customers/", n) == 0)
            id = own->customer;
        else if (n == strlen("/v1/transfers/") && strncmp(pattern, "/v1/transfers/", n) == 0)
            id = own->transfer;
    }
    return id != NULL ? id : RANDOM_ID;
}

/* The pattern with every {param} replaced by RANDOM_ID (or the caller's own id). */
static void instantiate(const char *pattern, const struct own_ids *own, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = pattern; *p != '\0' && o + 1 < size;) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            assert_non_null(close);
            o += (size_t)snprintf(out + o, size - o, "%s", param_id(pattern, p, own));
            assert_true(o < size);
            p = close + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

/* One minimal request: `{}` for anything but GET. Returns the status; the error code
 * (or "") to code. */
static long call_as(struct fg_client *c, const struct route_rule *rule, const struct own_ids *own,
                    char code[48])
{
    char path[256];
    instantiate(rule->pattern, own, path, sizeof path);
    json_t *empty = json_object();
    struct fg_client_response res;
    int is_get = strcmp(rule->method, "GET") == 0;
    fg_rc rc = fg_client_send_json(c, rule->method, path, is_get ? NULL : empty, &res);
    json_decref(empty);
    if (rc != FG_OK)
        fail_msg("%s %s: transport error: %s", rule->method, path, fg_client_last_error(c));
    snprintf(code, 48, "%s", res.error_code ? res.error_code : "");
    long status = res.status;
    fg_client_response_release(&res);
    return status;
}

static long call(struct fg_client *c, const struct route_rule *rule, char code[48])
{
    return call_as(c, rule, NULL, code);
}

static int got_past_authorization(long status)
{
    return status != 401 && status != 403;
}

/* A role-checked route for one role: allowed or 403 permission_denied as the table says. */
static void check_role(struct mismatches *m, const struct route_rule *rule, int role, long status,
                       const char *code)
{
    int want = (rule->allowed & R(role)) != 0;
    int denied = status == 403 && strcmp(code, "permission_denied") == 0;
    if (want && !got_past_authorization(status))
        mismatch(m, "%-6s %-28s %-16s expected allowed, got %ld %s", rule->method, rule->pattern,
                 role_names[role], status, code);
    else if (!want && !denied)
        mismatch(m, "%-6s %-28s %-16s expected 403 permission_denied, got %ld %s", rule->method,
                 rule->pattern, role_names[role], status, code);
}

/* Every caller on one route; public and gated routes must answer everyone alike. */
static void walk_route(struct matrix *t, struct mismatches *m, const struct route_rule *rule)
{
    char code[48];
    long anon = call(t->anon, rule, code);
    printf("  %-6s %-28s anonymous=%ld", rule->method, rule->pattern, anon);
    if (rule->access == ROLES && !(anon == 401 && strcmp(code, "unauthenticated") == 0))
        mismatch(m, "%-6s %-28s %-16s expected 401 unauthenticated, got %ld %s", rule->method,
                 rule->pattern, "anonymous", anon, code);
    if (rule->access != ROLES && !got_past_authorization(anon))
        mismatch(m, "%-6s %-28s %-16s %s route answered %ld %s", rule->method, rule->pattern,
                 "anonymous", rule->access == PUBLIC ? "public" : "not role-checked", anon, code);
    for (int r = 0; r < STAFF_ROLE_COUNT; r++) {
        if (r == SECURITY_ADMIN && strcmp(rule->pattern, "/v1/sys/seal") == 0) {
            printf(" %s=skip(seals)", role_names[r]);
            continue;
        }
        long status = call(t->staff[r].c, rule, code);
        printf(" %s=%ld", role_names[r], status);
        if (rule->access == ROLES)
            check_role(m, rule, r, status, code);
        else if (status != anon)
            mismatch(m, "%-6s %-28s %-16s %s route answered %ld %s, anonymous got %ld",
                     rule->method, rule->pattern, role_names[r],
                     rule->access == PUBLIC ? "public" : "not role-checked", status, code, anon);
    }
    printf("\n");
}

static int is_logout(const struct route_rule *rule)
{
    return strcmp(rule->pattern, "/v1/auth/logout") == 0;
}

/* AUD-4: the independent audit role reads the records and verifies the chain — with no key
 * in hand (the server verifies). Everything the walk did is in the chain. */
static void auditor_reads_and_verifies(struct matrix *t)
{
    struct person *au = &t->staff[AUDITOR];
    struct fg_client_response res;
    assert_int_equal(staff_post(au, "/v1/audit/verify", "{}", &res), 200);
    assert_true(json_is_true(json_object_get(res.json, "ok")));
    assert_true(json_is_null(json_object_get(res.json, "first_bad_seq")));
    assert_true(json_integer_value(json_object_get(res.json, "records")) > 50);
    fg_client_response_release(&res);
    assert_int_equal(fg_client_get(au->c, "/v1/audit?after=0&limit=5", &res), FG_OK);
    assert_int_equal(res.status, 200);
    json_t *recs = json_object_get(res.json, "records");
    assert_int_equal(json_array_size(recs), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 0), "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "action")),
                        "sys.init");
    assert_int_equal(json_integer_value(json_object_get(res.json, "next_after")), 5);
    assert_null(strstr(res.body, "password\":\"")); /* redacted by construction */
    fg_client_response_release(&res);
    const char *bad[] = {"/v1/audit?limit=0", "/v1/audit?limit=1001", "/v1/audit?after=-1",
                         "/v1/audit?after=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fg_client_get(au->c, bad[i], &res), FG_OK);
        staff_expect(&res, 400, "invalid_argument");
    }
}

static void test_matrix_staff_walk(void **state)
{
    (void)state;
    struct matrix *t = calloc(1, sizeof *t);
    assert_non_null(t);
    for (int r = 0; r < STAFF_ROLE_COUNT; r++)
        person_init(&t->staff[r], r == SECURITY_ADMIN ? "admin" : role_names[r]);
    person_init(&t->admin2, "admin2");
    const char *const args[] = {"--set", "outbox.sink=file",    "--set", "diag.write_probe=true",
                                "--set", "server.metrics=true", NULL};
    fg_test_server_start(&t->s, args);
    fg_test_server_client(&t->s, &t->anon);
    init_and_bootstrap(t);
    create_staff(t);

    struct mismatches *m = calloc(1, sizeof *m);
    assert_non_null(m);
    printf("matrix (status per caller):\n");
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (!is_logout(&table[i]))
            walk_route(t, m, &table[i]);
    auditor_reads_and_verifies(t);
    for (size_t i = 0; i < TABLE_SIZE; i++) /* logout ends each session: last */
        if (is_logout(&table[i]))
            walk_route(t, m, &table[i]);
    fail_if_mismatches(m, "authorization");
    free(m);

    /* IAM-6: a vendor loses access at its expiry (30 days here) — and only the vendor */
    struct fg_client_response res;
    for (int k = 0; k < 2; k++) {
        json_t *clk = json_pack("{s:I}", "offset_s", (json_int_t)(k == 0 ? 31 * 24 * 3600 : 0));
        assert_int_equal(fg_client_post_json(t->anon, "/v1/diag/clock", clk, &res), FG_OK);
        json_decref(clk);
        staff_expect(&res, 200, NULL);
        if (k == 1)
            break;
        for (int r = 0; r < STAFF_ROLE_COUNT; r++) {
            if (r != VENDOR && r != TELLER)
                continue;
            json_t *body = json_pack("{s:s, s:s, s:s}", "username", t->staff[r].username,
                                     "password", t->staff[r].password, "device_id", "after-30d");
            assert_int_equal(fg_client_post_json(t->anon, "/v1/auth/login", body, &res), FG_OK);
            json_decref(body);
            staff_expect(&res, r == VENDOR ? 401 : 200, r == VENDOR ? "unauthenticated" : NULL);
        }
    }

    for (int r = 0; r < STAFF_ROLE_COUNT; r++)
        fg_client_free(t->staff[r].c);
    fg_client_free(t->admin2.c);
    fg_client_free(t->anon);
    assert_int_equal(fg_test_server_stop(&t->s), 0);
    fg_test_server_done(&t->s);
    free(t);
}

/* The customer's verdict on one route: as the table says for role-checked routes; public and
 * gated routes answer the customer as they answer anonymous callers. */
static void walk_customer_route(struct fg_client *anon, struct bank_customer *cu,
                                const struct own_ids *own, struct mismatches *m,
                                const struct route_rule *rule)
{
    char code[48], anon_code[48];
    long status = call_as(cu->p.c, rule, own, code);
    printf("  %-6s %-36s customer=%ld %s\n", rule->method, rule->pattern, status, code);
    if (rule->access == ROLES) {
        check_role(m, rule, CUSTOMER, status, code);
        return;
    }
    long a = call_as(anon, rule, own, anon_code);
    if (!got_past_authorization(status) || status != a)
        mismatch(m, "%-6s %-28s %-16s %s route answered %ld %s, anonymous got %ld", rule->method,
                 rule->pattern, "customer", rule->access == PUBLIC ? "public" : "not role-checked",
                 status, code, a);
}

/* data/roles.yaml, customer: the only permissions a customer holds (golden: a change there
 * must change this list and the table's customer bits). */
static int customer_holds(const char *permission)
{
    static const char *const held[] = {"customers.read", "accounts.read", "statements.read",
                                       "transfers.create"};
    if (strncmp(permission, "self.", 5) == 0)
        return 1;
    for (size_t i = 0; i < sizeof held / sizeof held[0]; i++)
        if (strcmp(permission, held[i]) == 0)
            return 1;
    return 0;
}

/* A real customer walks every route (IAM-1: least privilege for the customer role). */
static void test_matrix_customer(void **state)
{
    (void)state;
    for (size_t i = 0; i < TABLE_SIZE; i++) /* the table's customer bits agree with roles.yaml */
        if (table[i].access == ROLES &&
            ((table[i].allowed & R(CUSTOMER)) != 0) != customer_holds(table[i].permission))
            fail_msg("table: %s %s customer bit disagrees with %s", table[i].method,
                     table[i].pattern, table[i].permission);
    struct fg_test_server s;
    struct bank_staff *b = calloc(1, sizeof *b);
    struct bank_customer *cu = calloc(1, sizeof *cu);
    struct mismatches *m = calloc(1, sizeof *m);
    assert_true(b && cu && m);
    const char *const args[] = {"--set", "diag.write_probe=true", "--set", "server.metrics=true",
                                NULL};
    fg_test_server_start(&s, args);
    bank_staff_setup(&s, b, 1, 1);
    bank_customer_new(&s, b, cu, "Zhou Min", 61, 2, 100000);
    /* one transfer of its own, so GET /v1/transfers/{id} has an id the owner may read */
    char key[BANK_KEY_MAX], transfer[BANK_ID_MAX];
    struct fg_client_response res;
    bank_new_key(key);
    if (bank_transfer(&cu->p, cu->account[0], cu->account[1], 100, NULL, key, &res) != 201)
        fail_msg("transfer: %ld %s", res.status, res.body);
    snprintf(transfer, sizeof transfer, "%s", staff_str(&res, "id"));
    fg_client_response_release(&res);
    const struct own_ids own = {cu->account[0], cu->id, transfer};
    struct fg_client *anon;
    fg_test_server_client(&s, &anon);

    printf("matrix (customer, own ids):\n");
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (!is_logout(&table[i]))
            walk_customer_route(anon, cu, &own, m, &table[i]);
    for (size_t i = 0; i < TABLE_SIZE; i++) /* logout ends the session: last */
        if (is_logout(&table[i]))
            walk_customer_route(anon, cu, &own, m, &table[i]);
    fail_if_mismatches(m, "authorization (customer)");

    fg_client_free(anon);
    bank_customer_free(cu);
    bank_staff_free(b);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
    free(m);
    free(cu);
    free(b);
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    assert_int_equal(oath_init(), OATH_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_route_coverage),
        cmocka_unit_test_teardown(test_matrix_staff_walk, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_matrix_customer, fg_test_server_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    oath_done();
    return failed;
}
