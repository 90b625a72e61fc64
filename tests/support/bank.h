/*
 * bank.h — end-to-end helpers for tests that move money through the real server (issue #5;
 * REQUIREMENTS ACC-1, TXN-1..7, AUTH-4, AUTH-10; docs/API.md "Customers, cards, accounts,
 * money"): the staff a bank needs (four-eyes onboarding as in test_staff.c), customers with
 * accounts, customer login with the delivered "login" code, signed requests carrying an
 * Idempotency-Key, outbox codes and notices, statements, the proof of the books over HTTP
 * and with the CLI, and "no secret on disk" checks.
 *
 * Shared by tests/e2e/test_bank.c, test_bank_crash.c, test_money_input.c and test_matrix.c.
 *
 * Two kinds of functions:
 *   - bank_*           main thread only: they fail the current cmocka test on anything
 *                      unexpected (harness errors and server behaviour the helper needs).
 *   - bank_raw_*       no cmocka assertion, safe on worker threads (one client per
 *                      thread): they return what happened (an HTTP status, 0 for a
 *                      transport failure) and leave the judging to the caller.
 *
 * Limits: BANK_ACCOUNTS_MAX accounts per customer, BANK_SHARES_MAX unseal shares, ids up to
 * BANK_ID_MAX - 1 characters; a request body built here is at most BANK_BODY_MAX bytes.
 *
 * Test data: bank_id_number() makes an 18-character PRC resident ID with a valid ISO 7064
 * MOD 11-2 check character, bank_phone() a unique mainland mobile number in E.164
 * ("+86139…"), bank_pan() a Luhn-valid card number. All derive from a seed, so a test can make
 * as many distinct customers as it needs.
 *
 * Ownership: a struct bank_staff / bank_customer owns the clients of its people; free them
 * with bank_staff_free / bank_customer_free. JSON handed out (bank_entries) is the caller's
 * to json_decref.
 */
#ifndef FG_TESTS_BANK_H
#define FG_TESTS_BANK_H

#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "server.h"
#include "staff.h"

#define BANK_ID_MAX 64
#define BANK_ACCOUNTS_MAX 4
#define BANK_SHARES_MAX 3
#define BANK_SHARE_TEXT 160
#define BANK_BODY_MAX 2048
#define BANK_KEY_MAX 64
/* A password every test customer gets: 15 characters, letter, digit, no sequence. */
#define BANK_CUSTOMER_PASSWORD "Vq7#rTz9!mKw2Lp"

/* ---- staff ------------------------------------------------------------------------------- */

enum bank_role {
    BANK_ADMIN,      /* security_admin from POST /v1/sys/init */
    BANK_ADMIN2,     /* the second security_admin (bootstrap exception) */
    BANK_TELLER,     /* customers, cards, accounts, cash, limits */
    BANK_SUPERVISOR, /* approves transfers, limits, unfreezes; ledger check */
    BANK_OFFICER,    /* security_officer: freeze / unfreeze */
    BANK_AUDITOR,    /* audit records, audit verify, ledger check */
    BANK_ROLE_COUNT
};

struct bank_staff {
    struct person people[BANK_ROLE_COUNT];
    long totp_step[BANK_ROLE_COUNT]; /* the last TOTP step each used (a step is used once) */
    char shares[BANK_SHARES_MAX][BANK_SHARE_TEXT];
    int nshares, threshold;
};

/* POST /v1/sys/init {"shares":nshares,"threshold":threshold} (1 ≤ threshold ≤ nshares ≤
 * BANK_SHARES_MAX), then every role above onboarded and MFA-complete (two administrators,
 * the others by four-eyes approval; passwords from the outbox). */
void bank_staff_setup(const struct fg_test_server *s, struct bank_staff *b, int nshares,
                      int threshold);
/* After a restart: POST /v1/sys/unseal with `threshold` shares. */
void bank_unseal(const struct fg_test_server *s, const struct bank_staff *b);
/* A fresh login completed with TOTP (waits for a TOTP step this person has not used yet). */
void bank_staff_relogin(const struct fg_test_server *s, struct bank_staff *b, enum bank_role r);
void bank_staff_free(struct bank_staff *b);
#define BANK_P(b, role) (&(b)->people[(role)])

/* ---- test data --------------------------------------------------------------------------- */

/* 18 characters: region 110101, birth date from the seed, sequence, MOD 11-2 check. */
void bank_id_number(unsigned seed, char out[19]);
/* ISO 7064 MOD 11-2 check character of 17 digits ('0'..'9' or 'X'). */
char bank_id_check(const char *digits17);
/* "+86139" + 8 digits of the seed. */
void bank_phone(unsigned seed, char out[24]);
/* A Luhn-valid card number: prefix, digits from the seed, check digit; len 13..19. */
void bank_pan(const char *prefix, size_t len, unsigned seed, char *out, size_t cap);
/* 1 if digits (ASCII, 1..32) pass the Luhn check. */
int bank_luhn_ok(const char *digits);
/* A fresh random Idempotency-Key ("k-" + 22 base64url characters). */
void bank_new_key(char out[BANK_KEY_MAX]);

/* ---- customers --------------------------------------------------------------------------- */

struct bank_customer {
    char id[BANK_ID_MAX];      /* cus_… */
    char user_id[BANK_ID_MAX]; /* the login's user id */
    char name[64];
    char id_number[20];
    char phone[24]; /* E.164 as registered */
    char email[64];
    char activation_code[16];
    char account[BANK_ACCOUNTS_MAX][BANK_ID_MAX];
    int naccounts;
    struct person p; /* username, password, device, client, signer */
};

/* Teller registers the customer (POST /v1/customers → 201; the activation code must also be
 * in the outbox to the phone). Fields from name and seed (id number, phone, e-mail). */
void bank_customer_register(const struct fg_test_server *s, struct person *teller,
                            struct bank_customer *cu, const char *name, unsigned seed);
/* POST /v1/auth/activate with the activation code and BANK_CUSTOMER_PASSWORD → 200. */
void bank_customer_activate(const struct fg_test_server *s, struct bank_customer *cu);
/* Log in on cu->p.device and complete the second factor the answer names ("otp": the
 * newest "login" code to the phone; false: nothing). Returns the mfa_required text. */
const char *bank_customer_login(const struct fg_test_server *s, struct bank_customer *cu);
/* Register, activate, log in; open naccounts CNY accounts and deposit `deposit` minor
 * units into each (0: none). */
void bank_customer_new(const struct fg_test_server *s, struct bank_staff *b,
                       struct bank_customer *cu, const char *name, unsigned seed, int naccounts,
                       int64_t deposit);
void bank_customer_free(struct bank_customer *cu);

/* ---- requests ---------------------------------------------------------------------------- */

/* POST path with the raw body text (application/json) and, if key is not NULL, the header
 * `Idempotency-Key: key`. Asserts the transport; returns the status. */
long bank_post(struct person *p, const char *path, const char *body, const char *key,
               struct fg_client_response *res);
/* GET; asserts the transport; returns the status. */
long bank_get(struct person *p, const char *path, struct fg_client_response *res);
/* Print "METHOD path → status body" when status differs, then fail the test. */
void bank_expect(struct fg_client_response *res, long status, const char *code, const char *field);

/* Teller: POST /v1/accounts → 201; the new id to out. */
void bank_open_account(struct person *teller, const char *customer_id, const char *currency,
                       char out[BANK_ID_MAX]);
/* Teller: POST /v1/deposits (fresh key) → 201; returns the journal id's answer balance. */
int64_t bank_deposit(struct person *teller, const char *account, int64_t amount);
/* Customer: POST /v1/transfers (CNY) with key; otp NULL for none. Returns the status. */
long bank_transfer(struct person *cust, const char *from, const char *to, int64_t amount,
                   const char *otp, const char *key, struct fg_client_response *res);
/* GET /v1/accounts/{id} → 200: the balance. */
int64_t bank_balance(struct person *p, const char *account);
/* Every entry of the account (all pages of GET /v1/accounts/{id}/entries, newest first):
 * a JSON array the caller decrefs. */
json_t *bank_entries(struct person *p, const char *account);
/* GET /v1/ledger/check → 200 {"ok":true}; the customer_totals text to totals (may be NULL). */
void bank_ledger_check(struct person *p, char *totals, size_t cap);
/* Supervisor: POST /v1/approvals/{id}/approve → 200, state approved; the answer's "result"
 * object (caller decrefs) or NULL when it has none. */
json_t *bank_approve(struct person *supervisor, const char *approval_id);
/* Auditor: audit records matching action (and result, actor_id, object_id where not NULL),
 * read with GET /v1/audit page by page. */
long bank_audit_count(struct person *auditor, const char *action, const char *result,
                      const char *actor_id, const char *object_id);

/* ---- the outbox (DATA_DIR/outbox.jsonl, file sink) ---------------------------------------- */

/* The newest code sent to `to` for purpose (checked: 6 digits, not in the text). */
void bank_outbox_code(const struct fg_test_server *s, const char *to, const char *purpose,
                      char out[16]);
/* Lines to `to` with purpose (NULL: any purpose). Thread-safe (no assertion): -1 when the
 * file cannot be read or parsed. */
long bank_outbox_count(const struct fg_test_server *s, const char *to, const char *purpose);

/* ---- the stopped server: CLI and files --------------------------------------------------- */

/* `$FINGUARD_BIN <args> --data-dir DIR` with stdin_text on stdin (NULL: /dev/null); stdout
 * to out (cut to cap). Returns the exit status (or -1 if not exited normally). */
int bank_cli(const struct fg_test_server *s, const char *args, const char *stdin_text, char *out,
             size_t cap);
/* `finguard ledger check --json`: exit status (0 balanced); prints the output. */
int bank_cli_ledger_check(const struct fg_test_server *s);
/* `finguard audit verify --json` with the shares on stdin: exit status (0 intact). */
int bank_cli_audit_verify(const struct fg_test_server *s, const struct bank_staff *b);
/* Occurrences of needle in the database (+ -wal, -journal) and the server's logs. */
long bank_grep_db_and_logs(const struct fg_test_server *s, const char *needle);

/* ---- worker threads (no cmocka assertions) ------------------------------------------------ */

/* A client for the server made on any thread (NULL on failure). */
struct fg_client *bank_raw_client(const struct fg_test_server *s, long timeout_ms);
/* POST /v1/auth/login; on 200 the client gets the session and the signer (sg). Returns the
 * status (0: transport failure). mfa (if not NULL, 16 bytes) gets mfa_required. */
long bank_raw_login(struct fg_client *c, const char *username, const char *password,
                    const char *device, struct signer *sg, char *mfa);
/* POST with raw body and optional Idempotency-Key; returns status (0: transport failure;
 * *res is then empty). */
long bank_raw_post(struct fg_client *c, const char *path, const char *body, const char *key,
                   struct fg_client_response *res);

#endif
