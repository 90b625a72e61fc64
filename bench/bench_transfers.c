/*
 * bench_transfers.c — end-to-end secured transfers per second (issue #5, `make bench`).
 *
 * What is measured: a real `finguard serve` (the binary beside this program, or
 * $FINGUARD_BIN) on 127.0.0.1 with TLS (the default), a fresh data directory,
 * outbox.sink=file and iam.customer_mfa=optional (SQLite synchronous=FULL is not
 * configurable: src/store/sqlite.c), answering signed POST /v1/transfers from 64 (--clients) client
 * threads, each on ONE keep-alive TLS connection (src/client, HTTP/1.1). Every transfer goes the
 * whole request path: TLS, session look-up, the request signature and the anti-replay nonce
 * (AUTH-6), RBAC, the Idempotency-Key (TXN-2), ownership (IDOR), limits and the verification tier
 * (AUTH-4, TXN-3), the balanced journal entry (TXN-1), the transfer row, the customer's notice in
 * the outbox (TXN-7), the monitor's event and the audit record — one write intent, group-committed
 * with fsync. The keys are not in development mode: keys.dev_mode initialises the instance
 * without a first administrator, so the program initialises with POST /v1/sys/init (one
 * share) like an operator would.
 *
 * Set-up (not timed): the first administrator onboards (one-time password, new password,
 * TOTP), creates the second under the bootstrap exception, requests a teller and a
 * supervisor, which the second approves (four-eyes; tests/e2e/test_staff.c shows the same
 * sequence; one-time passwords come from DATA_DIR/outbox.jsonl). The teller registers
 * one customer per client, opens two CNY accounts for each and deposits BENCH_DEPOSIT_MINOR
 * into both. Each client thread activates its own customer, logs in from one device (its
 * first, so never a "new device") and then transfers between the customer's two accounts
 * (never a new payee), alternating the direction, amounts 1..50 minor units, unique
 * Idempotency-Keys. Every transfer must stay in the session tier: a customer's cumulative
 * amount per day is kept ≤ BENCH_SESSION_TIER_MINOR (data/limits.yaml) by the client; a
 * thread that would cross it stops and the run is flagged (it would need ~10 k transfers/s).
 *
 * Timing: BENCH_WARMUP_S seconds of warm-up, then the measured window (--seconds, else
 * $FG_BENCH_SECONDS, else BENCH_SECONDS_DEFAULT). transfers/s = transfers answered 201 that
 * completed inside the window ÷ the window; latency is per request, from the client side
 * (just before the request is signed to the parsed answer). Any answer but 201, or a transport
 * failure, is an error (counted, the first few printed); there must be none.
 *
 * Where the time goes (printed, stdout): the server's /metrics read at the start and end of
 * the window (mean group-commit batch, commit time with fsync, the route's server-side time,
 * write intents per transfer), CPU time from /proc over the window (server threads, of which
 * the writer "fg-writer", this process, and machine idle) and the server's bytes written per
 * transfer (/proc/PID/io). On stderr: transfers per second, second by second, warm-up
 * included (does the rate hold as the day's transfers accumulate?).
 *
 * Proof: after the run the supervisor's GET /v1/ledger/check must answer ok:true, and its
 * journal count must equal the deposits plus every transfer answered 201 (each acknowledged
 * transfer present exactly once). Otherwise the program says so loudly and exits 1.
 *
 * Output contract (scripts/bench.sh): stdout holds only "BENCH <name> <value> <unit>"; the
 * narrative goes to stderr. Exit 0 ok, 1 on errors or a failed proof (the BENCH lines are
 * printed first), 2 on a usage error. The data directory is removed on success and kept
 * (its path printed) on failure. The server is started with PR_SET_PDEATHSIG, so it never
 * outlives this program; everything binds to 127.0.0.1.
 *
 * Usage: bench_transfers [--seconds N] [--clients N] [DIR]   (DIR: parent of the data dir)
 * Environment: FINGUARD_BIN (the server binary), FG_BENCH_SECONDS (when --seconds is not
 * given), FG_BENCH_KEEP=1 (keep the data directory), FG_BENCH_LOG_LEVEL (server log level,
 * default warn).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <liboath/oath.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/encode.h"
#include "base/log.h"
#include "base/time.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include "iam/replay.h"

#define BENCH_SECONDS_DEFAULT 20
#define BENCH_SECONDS_MAX 3600
#define BENCH_WARMUP_S 3
#define BENCH_CLIENTS_DEFAULT 64
#define BENCH_CLIENTS_MAX 256
/* 1 000.00 CNY into each account: more than a customer may move in a day in the session
 * tier, so no account can run dry whatever the direction of its transfers. */
#define BENCH_DEPOSIT_MINOR 100000
/* data/limits.yaml, CNY: cumulative per customer per day with the session alone. */
#define BENCH_SESSION_TIER_MINOR 100000
#define BENCH_AMOUNT_MAX 50
/* Latency samples kept per thread (4 bytes each); beyond this a thread stops recording
 * (never reached: it would be > 40 k transfers/s for one thread). */
#define BENCH_SAMPLES_MAX (1u << 21)
#define BENCH_DIR_MAX 512            /* the data directory's path */
#define BENCH_ID_MAX 64              /* any id the server hands out (customer, account, user) */
#define BENCH_ERRORS_SHOWN 5         /* error answers printed in full */
#define BENCH_START_MS 15000         /* the server must answer /v1/health within this */
#define BENCH_HASH_RETRIES 100       /* 429 from the bounded hashing pool: retries, 50 ms apart */
#define BENCH_OUTBOX_MAX (64u << 20) /* bytes of DATA_DIR/outbox.jsonl we read */
#define BENCH_METRICS_TEXT_MAX 256   /* one metric line */
#define BENCH_TASKS_MAX 512          /* server threads we look at */
#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull

#define CUSTOMER_PASSWORD "Vq7#rTz9!mKw2Lp"
#define ADMIN_PASSWORD "Adm1n-first-Qx7!vT"
#define ADMIN2_PASSWORD "Sec0nd-admin-Wz4#pR"
#define TELLER_PASSWORD "Te11er-one-Kp8$wQ"
#define SUPER_PASSWORD "Superv-one-Hm3%zL"

/* ---- the server --------------------------------------------------------------------------- */

#define BENCH_PROG "bench_transfers"
#include "bench_server.h"

static const char *const server_args[] = {
    "--set", "iam.customer_mfa=optional",
    /* the monitor evaluates every transfer (rules, risk) but does not act: 64 clients paying
     * each other look like draining */
    "--set", "monitor.enforce=false", NULL};

static char *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- an HTTP actor: a client, a session, a signing key --------------------------------- */

struct actor {
    char username[40];
    char password[64];
    char device[32];
    char contact[64];
    char user_id[BENCH_ID_MAX];
    uint8_t key[32]; /* session_key: signs state-changing requests (API.md "Anti-replay") */
    uint8_t totp[64];
    size_t totp_len;
    struct fg_client *c;
};

static fg_rc sign_hook(void *ctx, const char *method, const char *path, const void *body,
                       size_t body_len, struct fg_client_headers *add)
{
    const struct actor *a = ctx;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return FG_OK;
    uint8_t raw[16], sig[32];
    char nonce[32], ts[24], sig_text[64];
    if (fg_random(raw, sizeof raw) != FG_OK ||
        fg_base64url_encode(raw, sizeof raw, nonce, sizeof nonce) != FG_OK)
        return FG_ERR_INTERNAL;
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    if (fg_request_signature(a->key, sizeof a->key, method, path, ts, nonce, body, body_len, sig) !=
            FG_OK ||
        fg_base64url_encode(sig, sizeof sig, sig_text, sizeof sig_text) != FG_OK)
        return FG_ERR_INTERNAL;
    fg_rc rc = fg_client_headers_add(add, "X-Nonce", nonce);
    if (rc == FG_OK)
        rc = fg_client_headers_add(add, "X-Timestamp", ts);
    if (rc == FG_OK)
        rc = fg_client_headers_add(add, "X-Signature", sig_text);
    return rc;
}

static struct fg_client *client_new(void)
{
    struct fg_client_options opt = {
        .base_url = srv.base_url, .ca_file = srv.ca_file, .http2 = 0, .timeout_ms = 30000};
    struct fg_client *c = NULL;
    if (fg_client_new(&opt, &c) != FG_OK)
        return NULL;
    return c;
}

/* One request: body is JSON text or NULL; idem an Idempotency-Key or NULL. The status, or
 * 0 on a transport failure. */
static long request(struct fg_client *c, const char *method, const char *path, const char *body,
                    const char *idem, struct fg_client_response *res)
{
    char idem_line[160];
    const char *headers[2] = {NULL, NULL};
    if (idem != NULL) {
        snprintf(idem_line, sizeof idem_line, "Idempotency-Key: %s", idem);
        headers[0] = idem_line;
    }
    struct fg_client_request req = {.method = method,
                                    .path = path,
                                    .body = body,
                                    .body_len = body ? strlen(body) : 0,
                                    .content_type = body ? "application/json" : NULL,
                                    .headers = headers};
    memset(res, 0, sizeof *res);
    if (fg_client_request(c, &req, res) != FG_OK)
        return 0;
    return res->status;
}

/* Set-up calls: body is a json_t (stolen); anything but `want` ends the program. */
static void expect(struct actor *a, const char *method, const char *path, json_t *body,
                   const char *idem, long want, struct fg_client_response *res)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (body != NULL && text == NULL)
        die("out of memory");
    long st = request(a->c, method, path, text, idem, res);
    free(text);
    if (st == 0)
        die("%s %s as %s: transport failure: %s", method, path, a->username,
            fg_client_last_error(a->c));
    if (st != want)
        die("%s %s as %s: expected %ld, got %ld: %s", method, path, a->username, want, st,
            res->body);
}

static const char *str_of(const struct fg_client_response *res, const char *key)
{
    const char *v = json_string_value(json_object_get(res->json, key));
    if (v == NULL)
        die("no \"%s\" in %s", key, res->body);
    return v;
}

static void copy_id(char out[BENCH_ID_MAX], const char *v)
{
    if (strlen(v) >= BENCH_ID_MAX)
        die("an id longer than %d characters: %s", BENCH_ID_MAX - 1, v);
    snprintf(out, BENCH_ID_MAX, "%s", v);
}

/* Adopt the session of a login answer: token + device on every request, signatures. */
static int adopt_session(struct actor *a, const struct fg_client_response *res)
{
    const char *key = json_string_value(json_object_get(res->json, "session_key"));
    const char *token = json_string_value(json_object_get(res->json, "token"));
    size_t n = 0;
    if (key == NULL || token == NULL ||
        fg_base64url_decode(key, strlen(key), a->key, sizeof a->key, &n) != FG_OK || n != 32 ||
        fg_client_set_session(a->c, token, a->device) != FG_OK)
        return -1;
    fg_client_set_signer(a->c, sign_hook, a);
    return 0;
}

static void staff_login(struct actor *a)
{
    if (a->c == NULL && (a->c = client_new()) == NULL)
        die("cannot create a client");
    if (fg_client_set_session(a->c, NULL, NULL) != FG_OK)
        die("cannot clear a session");
    fg_client_set_signer(a->c, NULL, NULL);
    struct fg_client_response res;
    expect(a, "POST", "/v1/auth/login",
           json_pack("{s:s, s:s, s:s}", "username", a->username, "password", a->password,
                     "device_id", a->device),
           NULL, 200, &res);
    if (adopt_session(a, &res) != 0)
        die("login %s: no session in %s", a->username, res.body);
    fg_client_response_release(&res);
}

/* First login of a staff user: one-time password → new password → TOTP enrolled and
 * confirmed (which completes this session's second factor). */
static void staff_onboard(struct actor *a, const char *new_pw)
{
    struct fg_client_response res;
    staff_login(a);
    expect(a, "POST", "/v1/auth/password",
           json_pack("{s:s, s:s}", "old_password", a->password, "new_password", new_pw), NULL, 200,
           &res);
    fg_client_response_release(&res);
    snprintf(a->password, sizeof a->password, "%s", new_pw);
    expect(a, "POST", "/v1/auth/totp/enroll", json_object(), NULL, 200, &res);
    const char *sec = strstr(str_of(&res, "otpauth_uri"), "secret=");
    if (sec == NULL)
        die("no secret in %s", res.body);
    sec += 7;
    char *raw = NULL;
    size_t raw_len = 0;
    if (oath_base32_decode(sec, strcspn(sec, "&"), &raw, &raw_len) != OATH_OK ||
        raw_len > sizeof a->totp)
        die("cannot decode the TOTP secret");
    memcpy(a->totp, raw, raw_len);
    a->totp_len = raw_len;
    free(raw);
    fg_client_response_release(&res);
    char code[8];
    if (oath_totp_generate((const char *)a->totp, a->totp_len, time(NULL), 30, 0, 6, code) !=
        OATH_OK)
        die("cannot compute a TOTP code");
    expect(a, "POST", "/v1/auth/totp/confirm", json_pack("{s:s}", "code", code), NULL, 200, &res);
    fg_client_response_release(&res);
}

/* The newest one-time password the outbox file sink sent to `to` with `purpose`. */
static void outbox_code(const char *to, const char *purpose, char out[64])
{
    char path[BENCH_DIR_MAX + 32];
    snprintf(path, sizeof path, "%s/outbox.jsonl", srv.dir);
    size_t len = 0;
    char *text = read_file(path, BENCH_OUTBOX_MAX, &len);
    if (text == NULL)
        die("cannot read %s", path);
    out[0] = '\0';
    for (char *line = text, *end; *line != '\0'; line = end + 1) {
        end = strchr(line, '\n');
        if (end == NULL)
            break;
        json_t *m = json_loadb(line, (size_t)(end - line), 0, NULL);
        const char *t = json_string_value(json_object_get(m, "to"));
        const char *p = json_string_value(json_object_get(m, "purpose"));
        const char *code = json_string_value(json_object_get(m, "code"));
        if (t && p && code && strcmp(t, to) == 0 && strcmp(p, purpose) == 0)
            snprintf(out, 64, "%s", code);
        json_decref(m);
    }
    free(text);
    if (out[0] == '\0')
        die("no %s code for %s in the outbox", purpose, to);
}

static void actor_init(struct actor *a, const char *username, const char *device,
                       const char *contact)
{
    memset(a, 0, sizeof *a);
    snprintf(a->username, sizeof a->username, "%s", username);
    snprintf(a->device, sizeof a->device, "%s", device);
    snprintf(a->contact, sizeof a->contact, "%s", contact);
}

static void approve(struct actor *a, const char *approval_id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/approvals/%s/approve", approval_id);
    struct fg_client_response res;
    expect(a, "POST", path, json_pack("{s:s}", "reason", "benchmark staff, HR ticket 5"), NULL, 200,
           &res);
    fg_client_response_release(&res);
}

static void request_user(struct actor *admin, const struct actor *who, const char *role,
                         char approval[BENCH_ID_MAX])
{
    struct fg_client_response res;
    expect(admin, "POST", "/v1/users",
           json_pack("{s:s, s:[s], s:s}", "username", who->username, "roles", role, "contact",
                     who->contact),
           NULL, 202, &res);
    copy_id(approval, str_of(&res, "approval_id"));
    fg_client_response_release(&res);
}

/* init → admin, admin2 (bootstrap exception), teller and supervisor (four-eyes). */
static void staff_setup(struct actor *admin, struct actor *admin2, struct actor *teller,
                        struct actor *super)
{
    actor_init(admin, "admin", "admin-dev", "");
    actor_init(admin2, "admin2", "admin2-dev", "admin2@bank.example");
    actor_init(teller, "teller1", "teller-dev", "teller1@bank.example");
    actor_init(super, "super1", "super-dev", "+8613800001111");
    if ((admin->c = client_new()) == NULL)
        die("cannot create a client");
    struct fg_client_response res;
    expect(admin, "POST", "/v1/sys/init", json_pack("{s:i, s:i}", "shares", 1, "threshold", 1),
           NULL, 200, &res);
    json_t *adm = json_object_get(res.json, "admin");
    const char *pw = json_string_value(json_object_get(adm, "password"));
    if (pw == NULL)
        die("no admin password in the init answer");
    snprintf(admin->password, sizeof admin->password, "%s", pw);
    fg_client_response_release(&res);
    staff_onboard(admin, ADMIN_PASSWORD);
    expect(admin, "POST", "/v1/users",
           json_pack("{s:s, s:[s], s:s, s:b}", "username", admin2->username, "roles",
                     "security_admin", "contact", admin2->contact, "bootstrap", 1),
           NULL, 201, &res);
    fg_client_response_release(&res);
    outbox_code(admin2->contact, "staff_password", admin2->password);
    char teller_req[BENCH_ID_MAX], super_req[BENCH_ID_MAX];
    request_user(admin, teller, "teller", teller_req);
    request_user(admin, super, "supervisor", super_req);
    staff_onboard(admin2, ADMIN2_PASSWORD);
    approve(admin2, teller_req);
    approve(admin2, super_req);
    outbox_code(teller->contact, "staff_password", teller->password);
    outbox_code(super->contact, "staff_password", super->password);
    staff_onboard(teller, TELLER_PASSWORD);
    staff_onboard(super, SUPER_PASSWORD);
}

/* ---- customers -------------------------------------------------------------------------- */

/* An 18-character resident ID number with its ISO 7064 MOD 11-2 check character. */
static void id_number(unsigned i, char out[19])
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
    snprintf(out, 19, "11010119900101%03u", i % 1000u);
    int sum = 0;
    for (int k = 0; k < 17; k++)
        sum += (out[k] - '0') * weights[k];
    out[17] = check[sum % 11];
    out[18] = '\0';
}

struct worker {
    pthread_t thread;
    unsigned idx;
    /* set-up, by the main thread */
    char customer_id[BENCH_ID_MAX];
    char username[40];
    char code[BENCH_ID_MAX]; /* activation code */
    char account[2][BENCH_ID_MAX];
    /* results */
    int setup_failed;
    char setup_error[512];
    uint64_t ok_measured, ok_total;
    uint64_t errors; /* non-201 answers and transport failures, all phases */
    uint64_t transport_errors;
    int64_t spent; /* minor units moved today by this customer (session tier budget) */
    int budget_exhausted;
    uint32_t *lat_us; /* latencies of the measured transfers */
    size_t nlat, cap_lat;
    long connections;
    char first_error[BENCH_ERRORS_SHOWN][320];
    unsigned nerrors_kept;
};

static pthread_barrier_t ready_barrier, go_barrier;
/* transfers answered 201 per second since the start (warm-up included): the time line shows
 * whether the rate holds or decays as the day's transfers accumulate */
static _Atomic uint32_t g_per_second[BENCH_WARMUP_S + BENCH_SECONDS_MAX + 2];
static uint64_t g_t0_ns;
static uint64_t g_warm_end_ns, g_end_ns; /* written before go_barrier, read after it */

static void register_customer(struct actor *teller, struct worker *w)
{
    char name[32], idn[19], phone[24], email[64], idem[64];
    snprintf(name, sizeof name, "Bench Customer %u", w->idx);
    id_number(w->idx, idn);
    snprintf(phone, sizeof phone, "+861390000%04u", w->idx);
    snprintf(email, sizeof email, "c%u@bench.example", w->idx);
    struct fg_client_response res;
    expect(teller, "POST", "/v1/customers",
           json_pack("{s:s, s:s, s:s, s:s}", "name", name, "id_number", idn, "phone", phone,
                     "email", email),
           NULL, 201, &res);
    copy_id(w->customer_id, str_of(&res, "id"));
    snprintf(w->username, sizeof w->username, "%s", str_of(&res, "username"));
    copy_id(w->code, str_of(&res, "activation_code"));
    fg_client_response_release(&res);
    for (int k = 0; k < 2; k++) {
        expect(teller, "POST", "/v1/accounts",
               json_pack("{s:s, s:s}", "customer_id", w->customer_id, "currency", "CNY"), NULL, 201,
               &res);
        copy_id(w->account[k], str_of(&res, "id"));
        fg_client_response_release(&res);
        snprintf(idem, sizeof idem, "bench-deposit-%u-%d", w->idx, k);
        expect(teller, "POST", "/v1/deposits",
               json_pack("{s:s, s:I, s:s}", "account_id", w->account[k], "amount",
                         (json_int_t)BENCH_DEPOSIT_MINOR, "currency", "CNY"),
               idem, 201, &res);
        fg_client_response_release(&res);
    }
}

static void worker_error(struct worker *w, const char *what, long status,
                         const struct fg_client_response *res, struct fg_client *c)
{
    w->errors++;
    if (status == 0)
        w->transport_errors++;
    if (w->nerrors_kept < BENCH_ERRORS_SHOWN)
        snprintf(w->first_error[w->nerrors_kept++], sizeof w->first_error[0], "%s: %ld %s", what,
                 status, status ? res->body : fg_client_last_error(c));
}

/* A public call the hashing pool may refuse with 429 when it is full: retried. */
static long hashed_call(struct fg_client *c, const char *path, const char *body,
                        struct fg_client_response *res)
{
    for (int i = 1;; i++) {
        long st = request(c, "POST", path, body, NULL, res);
        if (st != 429 || i >= BENCH_HASH_RETRIES)
            return st; /* the caller releases res */
        fg_client_response_release(res);
        usleep(50000);
    }
}

/* The customer's own set-up on its own connection: activate, log in (one device). */
static int worker_setup(struct worker *w, struct actor *me)
{
    char body[512];
    struct fg_client_response res;
    snprintf(body, sizeof body,
             "{\"username\":\"%s\",\"activation_code\":\"%s\",\"new_password\":\"%s\"}",
             w->username, w->code, CUSTOMER_PASSWORD);
    long st = hashed_call(me->c, "/v1/auth/activate", body, &res);
    if (st != 200) {
        snprintf(w->setup_error, sizeof w->setup_error, "activate %s: %ld %s", w->username, st,
                 st ? res.body : fg_client_last_error(me->c));
        fg_client_response_release(&res);
        return -1;
    }
    fg_client_response_release(&res);
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"device_id\":\"%s\"}",
             w->username, CUSTOMER_PASSWORD, me->device);
    st = hashed_call(me->c, "/v1/auth/login", body, &res);
    json_t *mfa = st == 200 ? json_object_get(res.json, "mfa_required") : NULL;
    if (st != 200 || !json_is_false(mfa) || adopt_session(me, &res) != 0) {
        snprintf(w->setup_error, sizeof w->setup_error,
                 "login %s: %ld %s (a customer must log in without a second factor: "
                 "iam.customer_mfa=optional)",
                 w->username, st, st ? res.body : fg_client_last_error(me->c));
        fg_client_response_release(&res);
        return -1;
    }
    fg_client_response_release(&res);
    return 0;
}

/* The amount of transfer number seq: 1..BENCH_AMOUNT_MAX, kept inside the session tier's
 * daily budget; 0 when the budget is spent. */
static int64_t next_amount(struct worker *w, uint64_t seq)
{
    int64_t amount = 1 + (int64_t)((seq * 7u + w->idx) % BENCH_AMOUNT_MAX);
    int64_t left = BENCH_SESSION_TIER_MINOR - w->spent;
    return amount <= left ? amount : left;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct actor me;
    memset(&me, 0, sizeof me);
    snprintf(me.username, sizeof me.username, "%s", w->username);
    snprintf(me.device, sizeof me.device, "bench-phone-%u", w->idx);
    me.c = client_new();
    if (me.c == NULL) {
        snprintf(w->setup_error, sizeof w->setup_error, "cannot create a client");
        w->setup_failed = 1;
    } else if (worker_setup(w, &me) != 0) {
        w->setup_failed = 1;
    }
    pthread_barrier_wait(&ready_barrier);
    pthread_barrier_wait(&go_barrier);
    if (w->setup_failed) {
        fg_client_free(me.c);
        return NULL;
    }
    char body[256], idem[64];
    for (uint64_t seq = 0;; seq++) {
        uint64_t start = fg_time_mono_ns();
        if (start >= g_end_ns)
            break;
        int64_t amount = next_amount(w, seq);
        if (amount <= 0) {
            w->budget_exhausted = 1;
            break;
        }
        int dir = (int)(seq & 1u);
        snprintf(body, sizeof body,
                 "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld,\"currency\":\"CNY\"}",
                 w->account[dir], w->account[dir ^ 1], (long long)amount);
        snprintf(idem, sizeof idem, "bench-%u-%llu", w->idx, (unsigned long long)seq);
        struct fg_client_response res;
        long st = request(me.c, "POST", "/v1/transfers", body, idem, &res);
        uint64_t done = fg_time_mono_ns();
        if (st == 201) {
            uint64_t slot = (done - g_t0_ns) / NS_PER_S;
            if (slot < sizeof g_per_second / sizeof g_per_second[0])
                atomic_fetch_add_explicit(&g_per_second[slot], 1u, memory_order_relaxed);
            w->spent += amount;
            w->ok_total++;
            if (done > g_warm_end_ns && done <= g_end_ns) {
                w->ok_measured++;
                if (w->nlat == w->cap_lat && w->cap_lat < BENCH_SAMPLES_MAX) {
                    size_t cap = w->cap_lat ? w->cap_lat * 2 : 4096;
                    uint32_t *p = realloc(w->lat_us, cap * sizeof *p);
                    if (p != NULL) {
                        w->lat_us = p;
                        w->cap_lat = cap;
                    }
                }
                if (w->nlat < w->cap_lat)
                    w->lat_us[w->nlat++] = (uint32_t)((done - start) / 1000u);
            }
        } else {
            worker_error(w, "POST /v1/transfers", st, &res, me.c);
        }
        fg_client_response_release(&res);
    }
    w->connections = fg_client_connections_opened(me.c);
    fg_client_free(me.c);
    return NULL;
}

/* ---- where the time goes: /metrics and /proc ------------------------------------------- */

struct snapshot {
    uint64_t ns;
    double batch_sum, batch_count;
    double commit_sum, commit_count;
    double intents_ok;
    double route_sum, route_count; /* POST /v1/transfers, server side */
    double server_ticks, writer_ticks;
    double machine_total, machine_idle;
    double self_s;
    double server_wchar, server_write_bytes; /* /proc/PID/io: bytes written (syscalls, disk) */
};

/* The value of the metric line that starts with `prefix` (name and labels, exactly). */
static double metric(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

static void proc_ticks(pid_t pid, double *all, double *writer)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    *all = *writer = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    int tasks = 0;
    while ((e = readdir(d)) != NULL && tasks < BENCH_TASKS_MAX) {
        if (e->d_name[0] == '.')
            continue;
        tasks++;
        char path[PATH_MAX], line[1024];
        snprintf(path, sizeof path, "%s/%s/stat", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(line, 1, sizeof line - 1, f);
        fclose(f);
        line[n] = '\0';
        char *open = strchr(line, '('), *close = strrchr(line, ')');
        if (open == NULL || close == NULL)
            continue;
        unsigned long long ut = 0, st = 0;
        /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
         * utime stime (fields 3..15 of proc(5)) */
        if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) !=
            2)
            continue;
        *all += (double)(ut + st);
        if ((size_t)(close - open - 1) == strlen("fg-writer") &&
            strncmp(open + 1, "fg-writer", 9) == 0)
            *writer += (double)(ut + st);
    }
    closedir(d);
}

static void proc_io(pid_t pid, double *wchar, double *write_bytes)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    *wchar = *write_bytes = -1;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long v = 0;
        if (sscanf(line, "wchar: %llu", &v) == 1)
            *wchar = (double)v;
        else if (sscanf(line, "write_bytes: %llu", &v) == 1)
            *write_bytes = (double)v;
    }
    fclose(f);
}

static void machine_ticks(double *total, double *idle)
{
    *total = *idle = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return;
    unsigned long long v[8] = {0};
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]) == 8) {
        for (int i = 0; i < 8; i++)
            *total += (double)v[i];
        *idle = (double)(v[3] + v[4]);
    }
    fclose(f);
}

static void snapshot_take(struct fg_client *c, struct snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->ns = fg_time_mono_ns();
    proc_ticks(srv.pid, &s->server_ticks, &s->writer_ticks);
    machine_ticks(&s->machine_total, &s->machine_idle);
    proc_io(srv.pid, &s->server_wchar, &s->server_write_bytes);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        s->self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    struct fg_client_response res;
    long st = request(c, "GET", "/metrics", NULL, NULL, &res);
    if (st == 200) {
        s->batch_sum = metric(res.body, "finguard_store_batch_size_sum");
        s->batch_count = metric(res.body, "finguard_store_batch_size_count");
        s->commit_sum = metric(res.body, "finguard_store_commit_duration_seconds_sum");
        s->commit_count = metric(res.body, "finguard_store_commit_duration_seconds_count");
        s->intents_ok = metric(res.body, "finguard_store_intents_total{result=\"ok\"}");
        s->route_sum =
            metric(res.body, "finguard_http_request_duration_seconds_sum{route=\"/v1/transfers\"}");
        s->route_count = metric(
            res.body, "finguard_http_request_duration_seconds_count{route=\"/v1/transfers\"}");
    } else {
        fprintf(stderr, "bench_transfers: GET /metrics: %ld (metrics not shown)\n", st);
    }
    fg_client_response_release(&res);
}

static void sleep_until(uint64_t ns)
{
    for (uint64_t now = fg_time_mono_ns(); now < ns; now = fg_time_mono_ns()) {
        uint64_t d = ns - now;
        struct timespec ts = {.tv_sec = (time_t)(d / NS_PER_S), .tv_nsec = (long)(d % NS_PER_S)};
        nanosleep(&ts, NULL);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* ---- main ------------------------------------------------------------------------------- */

static int parse_args(int argc, char **argv, unsigned *seconds, unsigned *clients,
                      const char **parent)
{
    const char *env = getenv("FG_BENCH_SECONDS");
    if (env != NULL && *env != '\0') {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        if (end == env || *end != '\0' || v < 1 || v > BENCH_SECONDS_MAX)
            return -1;
        *seconds = (unsigned)v;
    }
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--seconds") == 0 || strcmp(argv[i], "--clients") == 0) &&
            i + 1 < argc) {
            int is_secs = argv[i][2] == 's';
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            long max = is_secs ? BENCH_SECONDS_MAX : BENCH_CLIENTS_MAX;
            if (end == argv[i] || *end != '\0' || v < 1 || v > max)
                return -1;
            *(is_secs ? seconds : clients) = (unsigned)v;
        } else if (argv[i][0] != '-') {
            *parent = argv[i];
        } else {
            return -1;
        }
    }
    return 0;
}

static void wait_healthy(void)
{
    uint64_t until = fg_time_mono_ns() + BENCH_START_MS * NS_PER_MS;
    struct fg_client *c = client_new();
    if (c == NULL)
        die("cannot create a client");
    while (fg_time_mono_ns() < until) {
        if (waitpid(srv.pid, NULL, WNOHANG) == srv.pid) {
            srv.pid = 0;
            die("the server exited at start (see %s/stdout.log)", srv.dir);
        }
        struct fg_client_response res = {0};
        if (access(srv.ca_file, R_OK) == 0 &&
            request(c, "GET", "/v1/health", NULL, NULL, &res) == 200) {
            fg_client_response_release(&res);
            fg_client_free(c);
            return;
        }
        fg_client_response_release(&res);
        usleep(100000);
    }
    die("the server did not answer /v1/health within %d ms", BENCH_START_MS);
}

int main(int argc, char **argv)
{
    unsigned seconds = BENCH_SECONDS_DEFAULT, clients = BENCH_CLIENTS_DEFAULT;
    const char *parent = NULL;
    if (parse_args(argc, argv, &seconds, &clients, &parent) != 0) {
        fprintf(stderr,
                "usage: bench_transfers [--seconds N (1..%d; or $FG_BENCH_SECONDS)] "
                "[--clients N (1..%d)] [DIR]\n",
                BENCH_SECONDS_MAX, BENCH_CLIENTS_MAX);
        return 2;
    }
    fg_log_set_level(FG_LOG_WARN);
    if (fg_crypto_init() != FG_OK || oath_init() != OATH_OK)
        die("cannot initialise crypto / liboath");
    find_binary(argv[0]);
    if (access(srv.bin, X_OK) != 0)
        die("no finguard binary at %s (set FINGUARD_BIN)", srv.bin);
    char tmpl[BENCH_DIR_MAX];
    int tn = snprintf(tmpl, sizeof tmpl, "%s/fg-transfers-XXXXXX", parent ? parent : "/tmp");
    if (tn < 0 || (size_t)tn >= sizeof tmpl)
        die("the directory path is longer than %d bytes", BENCH_DIR_MAX - 1);
    if (mkdtemp(tmpl) == NULL)
        die("mkdtemp %s: %s", tmpl, strerror(errno));
    snprintf(srv.dir, sizeof srv.dir, "%s", tmpl);
    server_start(free_port(), 1, server_args);
    wait_healthy();
    fprintf(stderr, "bench_transfers: server %s up (data %s); setting up staff\n", srv.base_url,
            srv.dir);

    static struct actor admin, admin2, teller, super;
    staff_setup(&admin, &admin2, &teller, &super);
    struct worker *w = calloc(clients, sizeof *w);
    if (w == NULL)
        die("out of memory");
    uint64_t t_setup = fg_time_mono_ns();
    for (unsigned i = 0; i < clients; i++) {
        w[i].idx = i;
        register_customer(&teller, &w[i]);
    }
    fprintf(stderr, "bench_transfers: %u customers, %u accounts, %u deposits in %.1f s\n", clients,
            2 * clients, 2 * clients, (double)(fg_time_mono_ns() - t_setup) / 1e9);

    if (pthread_barrier_init(&ready_barrier, NULL, clients + 1) != 0 ||
        pthread_barrier_init(&go_barrier, NULL, clients + 1) != 0)
        die("pthread_barrier_init");
    for (unsigned i = 0; i < clients; i++)
        if (pthread_create(&w[i].thread, NULL, worker_run, &w[i]) != 0)
            die("pthread_create");
    pthread_barrier_wait(&ready_barrier);
    int setup_failed = 0;
    for (unsigned i = 0; i < clients; i++)
        if (w[i].setup_failed) {
            fprintf(stderr, "bench_transfers: client %u: %s\n", i, w[i].setup_error);
            setup_failed = 1;
        }
    uint64_t t0 = fg_time_mono_ns();
    g_t0_ns = t0;
    g_warm_end_ns = setup_failed ? t0 : t0 + BENCH_WARMUP_S * NS_PER_S;
    g_end_ns = setup_failed ? t0 : g_warm_end_ns + seconds * NS_PER_S;
    fprintf(stderr, "bench_transfers: %u clients logged in; %d s warm-up, %u s measured\n", clients,
            BENCH_WARMUP_S, seconds);
    pthread_barrier_wait(&go_barrier);
    struct snapshot s0, s1;
    sleep_until(g_warm_end_ns);
    snapshot_take(admin.c, &s0);
    sleep_until(g_end_ns);
    snapshot_take(admin.c, &s1);
    for (unsigned i = 0; i < clients; i++)
        pthread_join(w[i].thread, NULL);
    if (setup_failed)
        die("a client could not activate or log in its customer");

    /* ---- results ---- */
    uint64_t ok = 0, ok_total = 0, errors = 0, transport = 0;
    size_t nlat = 0;
    long conns = 0;
    int exhausted = 0;
    for (unsigned i = 0; i < clients; i++) {
        ok += w[i].ok_measured;
        ok_total += w[i].ok_total;
        errors += w[i].errors;
        transport += w[i].transport_errors;
        nlat += w[i].nlat;
        conns += w[i].connections;
        exhausted |= w[i].budget_exhausted;
        for (unsigned k = 0; k < w[i].nerrors_kept; k++)
            fprintf(stderr, "bench_transfers: client %u: %s\n", i, w[i].first_error[k]);
    }
    uint32_t *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
    if (lat == NULL)
        die("out of memory");
    size_t at = 0;
    for (unsigned i = 0; i < clients; i++) {
        if (w[i].nlat)
            memcpy(lat + at, w[i].lat_us, w[i].nlat * sizeof *lat);
        at += w[i].nlat;
        free(w[i].lat_us);
    }
    qsort(lat, nlat, sizeof *lat, cmp_u32);
    double window_s = (double)(g_end_ns - g_warm_end_ns) / 1e9;
    double p50 = nlat ? lat[(nlat - 1) * 50 / 100] / 1000.0 : 0;
    double p99 = nlat ? lat[(nlat - 1) * 99 / 100] / 1000.0 : 0;
    double pmax = nlat ? lat[nlat - 1] / 1000.0 : 0;
    double mean = 0;
    for (size_t i = 0; i < nlat; i++)
        mean += lat[i];
    mean = nlat ? mean / (double)nlat / 1000.0 : 0;
    free(lat);

    /* the proof of the books (TXN-6), as the supervisor */
    struct fg_client_response res;
    long st = request(super.c, "GET", "/v1/ledger/check", NULL, NULL, &res);
    int ledger_ok = st == 200 && json_is_true(json_object_get(res.json, "ok"));
    json_int_t journals = json_integer_value(json_object_get(res.json, "journals"));
    int journals_ok = ledger_ok && journals == (json_int_t)(2u * clients + ok_total);
    fprintf(stderr, "bench_transfers: GET /v1/ledger/check: %ld %s\n", st, st ? res.body : "");
    fg_client_response_release(&res);

    double tick = (double)sysconf(_SC_CLK_TCK);
    double dt = (double)(s1.ns - s0.ns) / 1e9;
    double ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);
    printf("BENCH transfers_per_s %.1f 1/s\n", (double)ok / window_s);
    printf("BENCH transfer_p50_ms %.2f ms\n", p50);
    printf("BENCH transfer_p99_ms %.2f ms\n", p99);
    printf("BENCH transfer_mean_ms %.2f ms\n", mean);
    printf("BENCH transfer_max_ms %.2f ms\n", pmax);
    printf("BENCH transfer_errors %llu count\n", (unsigned long long)errors);
    printf("BENCH transfer_clients %u connections\n", clients);
    printf("BENCH transfer_connections_opened %ld connections\n", conns);
    if (s1.batch_count > s0.batch_count && s0.batch_count >= 0) {
        double batches = s1.batch_count - s0.batch_count;
        printf("BENCH transfer_store_batch_mean %.1f intents\n",
               (s1.batch_sum - s0.batch_sum) / batches);
        printf("BENCH transfer_store_commits_per_s %.1f 1/s\n", batches / dt);
        if (s1.commit_count > s0.commit_count)
            printf("BENCH transfer_store_commit_mean_ms %.2f ms\n",
                   (s1.commit_sum - s0.commit_sum) * 1000.0 / (s1.commit_count - s0.commit_count));
        printf("BENCH transfer_store_writer_busy_pct %.1f %%\n",
               (s1.commit_sum - s0.commit_sum) * 100.0 / dt);
        if (ok > 0)
            printf("BENCH transfer_intents_per_transfer %.2f intents\n",
                   (s1.intents_ok - s0.intents_ok) / (double)ok);
    }
    if (s1.route_count > s0.route_count && s0.route_count >= 0)
        printf("BENCH transfer_server_route_mean_ms %.2f ms\n",
               (s1.route_sum - s0.route_sum) * 1000.0 / (s1.route_count - s0.route_count));
    if (dt > 0 && tick > 0) {
        double srv_s = (s1.server_ticks - s0.server_ticks) / tick;
        double wr_s = (s1.writer_ticks - s0.writer_ticks) / tick;
        printf("BENCH transfer_server_cpu_pct %.1f %%\n", srv_s * 100.0 / dt);
        printf("BENCH transfer_server_writer_cpu_pct %.1f %%\n", wr_s * 100.0 / dt);
        printf("BENCH transfer_client_cpu_pct %.1f %%\n", (s1.self_s - s0.self_s) * 100.0 / dt);
        if (ok > 0) {
            printf("BENCH transfer_server_cpu_us %.1f us/transfer\n", srv_s * 1e6 / (double)ok);
            printf("BENCH transfer_client_cpu_us %.1f us/transfer\n",
                   (s1.self_s - s0.self_s) * 1e6 / (double)ok);
        }
        if (ok > 0 && s0.server_wchar >= 0 && s1.server_wchar >= s0.server_wchar) {
            printf("BENCH transfer_server_written_kib %.1f KiB/transfer\n",
                   (s1.server_wchar - s0.server_wchar) / 1024.0 / (double)ok);
            printf("BENCH transfer_server_disk_written_kib %.1f KiB/transfer\n",
                   (s1.server_write_bytes - s0.server_write_bytes) / 1024.0 / (double)ok);
        }
        if (s1.machine_total > s0.machine_total)
            printf("BENCH transfer_machine_idle_pct %.1f %%\n",
                   (s1.machine_idle - s0.machine_idle) * 100.0 /
                       (s1.machine_total - s0.machine_total));
        printf("BENCH transfer_cores %.0f cores\n", ncpu);
    }
    printf("BENCH transfer_ledger_ok %d bool\n", ledger_ok && journals_ok);
    fflush(stdout);
    fprintf(stderr,
            "bench_transfers: %llu transfers in the %.1f s window (%llu in all), %zu latencies, "
            "%llu errors (%llu transport), %ld connections for %u clients\n",
            (unsigned long long)ok, window_s, (unsigned long long)ok_total, nlat,
            (unsigned long long)errors, (unsigned long long)transport, conns, clients);

    fprintf(stderr, "bench_transfers: transfers/s, second by second (warm-up first):");
    for (unsigned i = 0; i < BENCH_WARMUP_S + seconds; i++)
        fprintf(stderr, " %u", (unsigned)atomic_load(&g_per_second[i]));
    fputc('\n', stderr);
    int failed = 0;
    if (!ledger_ok) {
        fprintf(stderr, "bench_transfers: *** THE LEDGER CHECK FAILED: the books do not balance "
                        "***\n");
        failed = 1;
    } else if (!journals_ok) {
        fprintf(stderr,
                "bench_transfers: *** %lld journals, expected %u deposits + %llu transfers "
                "answered 201 ***\n",
                (long long)journals, 2 * clients, (unsigned long long)ok_total);
        failed = 1;
    }
    if (errors > 0) {
        fprintf(stderr, "bench_transfers: *** %llu transfers were not answered 201 ***\n",
                (unsigned long long)errors);
        failed = 1;
    }
    if (exhausted) {
        fprintf(stderr, "bench_transfers: *** a customer reached the session tier's daily "
                        "amount (BENCH_SESSION_TIER_MINOR): a client stopped early ***\n");
        failed = 1;
    }
    int code = server_stop();
    if (code != 0) {
        fprintf(stderr, "bench_transfers: the server exited with %d after SIGTERM\n", code);
        failed = 1;
    }
    for (struct actor *a = &admin; a != NULL; a = a == &admin    ? &admin2
                                                  : a == &admin2 ? &teller
                                                  : a == &teller ? &super
                                                                 : NULL)
        fg_client_free(a->c);
    free(w);
    if (failed) {
        fprintf(stderr, "bench_transfers: data directory kept: %s\n", srv.dir);
        return 1;
    }
    const char *keep = getenv("FG_BENCH_KEEP"); /* =1: keep the data dir for inspection */
    if (keep != NULL && strcmp(keep, "1") == 0)
        fprintf(stderr, "bench_transfers: data directory kept (FG_BENCH_KEEP): %s\n", srv.dir);
    else
        nftw(srv.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
