/*
 * customer.h — customers and their protected personal data (REQUIREMENTS ACC-1..5, DATA-3,
 * DATA-4, AUTH-8; table `customers` and `customer_phone_changes` in
 * migrations/0007_customers.sql; the field classes and masks in data/fields.yaml; the HTTP
 * face in src/http/routes_customers.c and docs/API.md "Customers and cards (issue #5)").
 *
 * What is stored. A customer is a row bound one-to-one to its login (iam_users, kind
 * customer). The four personal fields are classified in data/fields.yaml (customer.name,
 * customer.id_number, customer.phone, customer.email: C2, encrypted, masked for display,
 * clear text only with the reveal permission and a reason). Each is an fg_protect ciphertext
 * of purpose pii bound to customers/<column>/<id>; the ID number and phone also have a blind
 * index (fg_protect_index under field "customer.id_number" / "customer.phone") that makes
 * them unique across customers — a duplicate is FG_ERR_CONFLICT naming the field — without
 * any clear value in the database. The purpose of processing and the consent (method,
 * notice version, time, teller) are recorded at creation (ACC-1).
 *
 * Input rules (fg_customer_*_check; pure, never echo the value):
 *   name       1..FG_CUSTOMER_NAME_CHARS_MAX code points of valid UTF-8; no control
 *              characters (C0, DEL, C1), no bidirectional overrides or isolates
 *              (U+202A..U+202E, U+2066..U+2069), no leading or trailing space.
 *   id_number  a PRC resident ID: 18 characters, 17 digits and an ISO 7064 MOD 11-2 check
 *              character (digit or X; a lower-case x is stored as X), or the old 15-digit form.
 *   phone      E.164: '+', a non-zero digit and 8..15 digits in all; or an 11-digit mainland
 *              mobile number starting with 1, stored as "+86" + the 11 digits. Nothing else
 *              (no spaces, dashes or brackets).
 *   email      optional; at most FG_CUSTOMER_EMAIL_MAX bytes of printable ASCII: a local part
 *              of 1..64 characters of letters, digits and !#$%&'*+/=?^_`{|}~.- (no leading,
 *              trailing or double dot), one '@', and a domain of dot-separated labels of
 *              letters, digits and '-' (not at a label's ends) with at least two labels.
 *   purpose    [a-z0-9_], 1..FG_CUSTOMER_PURPOSE_MAX; default "account_opening".
 *
 * Masking (fg_customer_load_masked): each field with its spec's mask rule (protect/mask.h),
 * or its mask_wide rule when the reader's roles hold the spec's wide_permission
 * (fg_roles_has). The clear value exists only in locked memory while it is masked, then it
 * is wiped. fg_customer_reveal hands one field out in clear: the CALLER checks the spec's
 * reveal_permission, the reason, and writes the audit record and event in the same intent.
 *
 * Reserved phone changes (AUTH-8) are three steps, each in its own write intent of the
 * caller: begin (the sealed new number waits in customer_phone_changes under the approval
 * id, with a random change id the approval's payload names), confirm (the old phone's
 * one-time code was right) and apply (only when confirmed: the customer's phone and
 * phone index are replaced; FG_ERR_CONFLICT if the new number belongs to another customer
 * by then). The sealed new number is cleared when applied.
 *
 * Destruction (ACC-4): every ciphertext and blind index of the customer, of its cards and of
 * its pending phone changes is overwritten with NULL (the writer runs PRAGMA
 * secure_delete=ON, so freed pages are zeroed), the row keeps only its id, login, purpose,
 * consent and the record of the destruction (time, operator, approver, method
 * FG_CUSTOMER_DESTROY_METHOD), and the login is disabled. Refused (FG_ERR_POLICY) while the
 * ledger says the customer still has money (fg_ledger_customer_has_money). A destroyed
 * customer reads as status destroyed with no personal fields; it can never be changed again.
 *
 * Errors: FG_ERR_INVALID (a value breaks a rule; *field names it), FG_ERR_CONFLICT
 * (duplicate ID number / phone, a second customer for one login, a destroyed customer),
 * FG_ERR_NOT_FOUND, FG_ERR_POLICY, FG_ERR_CONFIG (data/fields.yaml does not classify a
 * field the way this module needs: encrypted with the column's purpose, indexed for ID
 * number and phone), FG_ERR_SEALED, FG_ERR_CRYPTO (a ciphertext does not open), FG_ERR_STORE.
 * *why (where offered) is a static sentence, never caller data.
 *
 * Threads and connections: every function runs on the thread holding `c`. "write" functions
 * need the writer's connection inside an intent (they never commit; return their error from
 * the intent and nothing stays); "read" ones work on a read lease too. Clear values handed
 * out (reveal, phone_of_user, apply's numbers) are the caller's to wipe (fg_wipe).
 */
#ifndef FG_LEDGER_CUSTOMER_H
#define FG_LEDGER_CUSTOMER_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "iam/roles.h"
#include "iam/users.h"
#include "keys/keys.h"
#include "protect/fields.h"
#include "protect/mask.h"
#include "store/store.h"

/* ---- limits -------------------------------------------------------------------------------- */
/* Ids: "cus_" + 22 characters of base64url (16 random bytes); phone changes "chg_" + 22. */
#define FG_CUSTOMER_ID_PREFIX "cus_"
#define FG_CUSTOMER_CHANGE_PREFIX "chg_"
#define FG_CUSTOMER_ID_RANDOM_BYTES 16u
#define FG_CUSTOMER_ID_LEN 26u
#define FG_CUSTOMER_ID_SIZE (FG_CUSTOMER_ID_LEN + 1u)
/* A name: 64 code points covers every real name (a long Uyghur or Western full name is
 * ~40); at most 4 bytes each. */
#define FG_CUSTOMER_NAME_CHARS_MAX 64u
#define FG_CUSTOMER_NAME_BYTES_MAX (FG_CUSTOMER_NAME_CHARS_MAX * 4u)
/* Resident ID: 18 characters (15 for the old form). */
#define FG_CUSTOMER_ID_NUMBER_MAX 18u
/* E.164: '+' and at most 15 digits; at least 8 digits. */
#define FG_CUSTOMER_PHONE_DIGITS_MIN 8u
#define FG_CUSTOMER_PHONE_DIGITS_MAX 15u
#define FG_CUSTOMER_PHONE_MAX (1u + FG_CUSTOMER_PHONE_DIGITS_MAX)
#define FG_CUSTOMER_PHONE_SIZE (FG_CUSTOMER_PHONE_MAX + 1u)
/* E-mail: the RFC 5321 path limit; local part 64. */
#define FG_CUSTOMER_EMAIL_MAX 254u
#define FG_CUSTOMER_EMAIL_LOCAL_MAX 64u
/* Any clear field with its NUL (the name's 256 bytes are the largest). */
#define FG_CUSTOMER_VALUE_SIZE (FG_CUSTOMER_NAME_BYTES_MAX + 1u)
/* Purpose of processing (ACC-1) and the consent record (small JSON). */
#define FG_CUSTOMER_PURPOSE_MAX 64u
#define FG_CUSTOMER_PURPOSE_DEFAULT "account_opening"
#define FG_CUSTOMER_CONSENT_MAX 512u
/* The consent the teller attests by registering the customer: the customer signed the
 * privacy notice of this version at the counter. */
#define FG_CUSTOMER_CONSENT_METHOD "in_branch_signature"
#define FG_CUSTOMER_CONSENT_VERSION "privacy-notice-v1"
/* How destruction is done and recorded (ACC-4). */
#define FG_CUSTOMER_DESTROY_METHOD "overwrite+secure_delete"
/* Actor ids stored with a customer (user ids, "system"). */
#define FG_CUSTOMER_ACTOR_MAX 64u
/* Approval ids (iam/approval.h: 22 characters) with their NUL and room. */
#define FG_CUSTOMER_APPROVAL_ID_SIZE 32u

/* The personal fields, in API order. */
enum fg_customer_field {
    FG_CUSTOMER_NAME = 0,
    FG_CUSTOMER_ID_NUMBER = 1,
    FG_CUSTOMER_PHONE = 2,
    FG_CUSTOMER_EMAIL = 3,
};
#define FG_CUSTOMER_FIELD_COUNT 4

/* "name", "id_number", "phone", "email" (API member = column name); NULL otherwise. */
const char *fg_customer_field_name(enum fg_customer_field field);
/* The field called name (exactly as above); FG_ERR_INVALID otherwise. */
FG_MUST_CHECK fg_rc fg_customer_field_parse(const char *name, enum fg_customer_field *out);
/* The field's classification ("customer.<name>") in f, or NULL. */
const struct fg_field_spec *fg_customer_field_spec(const struct fg_fields *f,
                                                   enum fg_customer_field field);
/* FG_OK if f classifies every customer field (and card.pan) the way this module stores
 * them: encrypted with the column's purpose, id_number and phone indexed. FG_ERR_CONFIG
 * otherwise (*why names the problem). Called by every function that takes f. */
FG_MUST_CHECK fg_rc fg_customer_fields_check(const struct fg_fields *f, const char **why);

/* Register every ciphertext column of 0007 (customers.name/id_number/phone/email,
 * customer_cards.pan, customer_phone_changes.new_phone) with protect/. Start-up; a column
 * registered already (a second server in one process) is fine. */
FG_MUST_CHECK fg_rc fg_customer_register_columns(void);

/* ---- input rules (pure) -------------------------------------------------------------------- */
FG_MUST_CHECK fg_rc fg_customer_name_check(const char *s, size_t len);
/* Normalised (x → X) into out. */
FG_MUST_CHECK fg_rc fg_customer_id_number_check(const char *s, size_t len,
                                                char out[FG_CUSTOMER_ID_NUMBER_MAX + 1]);
/* 1 if s[0..len) is 17 digits and the right ISO 7064 MOD 11-2 check character. */
int fg_customer_id_number_checksum_ok(const char *s, size_t len);
/* E.164 into out ("13812345678" → "+8613812345678"). */
FG_MUST_CHECK fg_rc fg_customer_phone_normalize(const char *s, size_t len,
                                                char out[FG_CUSTOMER_PHONE_SIZE]);
FG_MUST_CHECK fg_rc fg_customer_email_check(const char *s, size_t len);
FG_MUST_CHECK fg_rc fg_customer_purpose_check(const char *s, size_t len);
/* A fresh id with prefix FG_CUSTOMER_ID_PREFIX or FG_CUSTOMER_CHANGE_PREFIX (never with a
 * run of 6 or more digits, which guards against card-number look-alikes). */
FG_MUST_CHECK fg_rc fg_customer_new_id(const char *prefix, char out[FG_CUSTOMER_ID_SIZE]);
/* 1 if id is prefix + 22 base64url characters. */
int fg_customer_id_valid(const char *id, const char *prefix);

/* ---- create -------------------------------------------------------------------------------- */

struct fg_customer_new {
    const char *id;         /* from fg_customer_new_id(FG_CUSTOMER_ID_PREFIX) */
    const char *user_id;    /* the customer's login (iam_users, kind customer), exists */
    const char *name;       /* NUL-terminated, as submitted */
    const char *id_number;  /* as submitted (x allowed) */
    const char *phone;      /* as submitted (national or E.164) */
    const char *email;      /* may be NULL: none */
    const char *purpose;    /* NULL: FG_CUSTOMER_PURPOSE_DEFAULT */
    const char *created_by; /* the teller's user id: also the consent's witness */
};

/* write. Validate, seal, index and insert. FG_ERR_INVALID (*field = the API member),
 * FG_ERR_CONFLICT (*field "id_number" / "phone": registered to another customer; "user_id":
 * the login has a customer already; "id": the id exists). *why a static sentence. */
FG_MUST_CHECK fg_rc fg_customer_create(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                                       const struct fg_customer_new *in, int64_t now_ms,
                                       const char **field, const char **why);

/* ---- read ---------------------------------------------------------------------------------- */

/* read. The login and state of a customer without opening anything (owner checks).
 * FG_ERR_NOT_FOUND (also for a malformed id). user_id_out / destroyed may be NULL. */
FG_MUST_CHECK fg_rc fg_customer_owner(fg_conn *c, const char *id,
                                      char user_id_out[FG_USER_ID_MAX + 1], int *destroyed);

struct fg_customer_view {
    char id[FG_CUSTOMER_ID_SIZE];
    char user_id[FG_USER_ID_MAX + 1];
    char username[FG_USERNAME_MAX + 1];
    int destroyed;                        /* status destroyed: no field is present */
    int present[FG_CUSTOMER_FIELD_COUNT]; /* 1: the field has a value */
    char masked[FG_CUSTOMER_FIELD_COUNT][FG_MASK_OUT_MAX]; /* "" when absent */
    char purpose[FG_CUSTOMER_PURPOSE_MAX + 1];
    char consent[FG_CUSTOMER_CONSENT_MAX + 1]; /* JSON object */
    int64_t created_ms;
    char created_by[FG_CUSTOMER_ACTOR_MAX + 1];
    int64_t destroyed_ms; /* 0 unless destroyed; then also: */
    char destroyed_by[FG_CUSTOMER_ACTOR_MAX + 1];
    char destroy_approved_by[FG_CUSTOMER_ACTOR_MAX + 1];
    char destroy_method[FG_CUSTOMER_ACTOR_MAX + 1];
};

/* read. The customer with every present field masked for a reader holding reader_mask
 * (roles: the loaded role data). FG_ERR_NOT_FOUND. */
FG_MUST_CHECK fg_rc fg_customer_load_masked(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                                            const struct fg_roles *roles, uint32_t reader_mask,
                                            const char *id, struct fg_customer_view *out);

/* read. One field in clear into out (NUL-terminated, *len without it; len may be NULL).
 * FG_ERR_NOT_FOUND (no such customer, or no e-mail given), FG_ERR_CONFLICT (destroyed),
 * FG_ERR_LIMIT (cap too small). The caller checks the permission and audits. */
FG_MUST_CHECK fg_rc fg_customer_reveal(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                                       const char *id, enum fg_customer_field field, char *out,
                                       size_t cap, size_t *len);

/* read. The reserved phone (E.164) of the customer whose login is user_id, in clear, for
 * the login's delivered codes. FG_ERR_NOT_FOUND if user_id is not a customer's login or the
 * customer is destroyed; FG_ERR_LIMIT if cap is too small (FG_CUSTOMER_PHONE_SIZE fits). */
FG_MUST_CHECK fg_rc fg_customer_phone_of_user(fg_conn *conn, fg_keys *keys, const char *user_id,
                                              char *out, size_t cap);
/* read. The id of the customer whose login is user_id (destroyed ones too).
 * FG_ERR_NOT_FOUND. */
FG_MUST_CHECK fg_rc fg_customer_id_of_user(fg_conn *conn, const char *user_id,
                                           char out[FG_CUSTOMER_ID_SIZE]);

/* ---- change -------------------------------------------------------------------------------- */

/* write. Replace the name or the e-mail at once (ACC-3: the caller audits before/after
 * masked, which come back in before_masked / after_masked for holders of nothing wider).
 * The stored ciphertext is opened again and compared (verified after change).
 * FG_ERR_INVALID (a bad value, or a field that changes another way: id_number never,
 * phone through the phone change), FG_ERR_NOT_FOUND, FG_ERR_CONFLICT (destroyed). */
FG_MUST_CHECK fg_rc fg_customer_update(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                                       const char *id, enum fg_customer_field field,
                                       const char *value, size_t len,
                                       char before_masked[FG_MASK_OUT_MAX],
                                       char after_masked[FG_MASK_OUT_MAX], const char **why);

/* write. Store a requested phone change: new_phone (normalised E.164) sealed under
 * customer_phone_changes/new_phone/<approval_id>, its blind index, change_id (from
 * fg_customer_new_id(FG_CUSTOMER_CHANGE_PREFIX)). FG_ERR_NOT_FOUND, FG_ERR_CONFLICT (the
 * customer is destroyed; the number is the current one; it belongs to another customer:
 * *why says which), FG_ERR_INVALID. */
FG_MUST_CHECK fg_rc fg_customer_phone_change_begin(fg_conn *c, fg_keys *k,
                                                   const struct fg_fields *f,
                                                   const char *customer_id, const char *approval_id,
                                                   const char *change_id, const char *new_phone,
                                                   int64_t now_ms, const char **why);

struct fg_customer_phone_change {
    char approval_id[FG_CUSTOMER_APPROVAL_ID_SIZE];
    char change_id[FG_CUSTOMER_ID_SIZE];
    char customer_id[FG_CUSTOMER_ID_SIZE];
    int confirmed;
    int applied;
    int64_t created_ms;
};
/* read. The change of approval_id. FG_ERR_NOT_FOUND. */
FG_MUST_CHECK fg_rc fg_customer_phone_change_get(fg_conn *c, const char *approval_id,
                                                 struct fg_customer_phone_change *out);
/* write. The old phone confirmed the change (its code was right). FG_ERR_NOT_FOUND (no such
 * change of this customer), FG_ERR_CONFLICT (applied already). */
FG_MUST_CHECK fg_rc fg_customer_phone_change_confirm(fg_conn *c, const char *customer_id,
                                                     const char *approval_id);
/* write. Apply a confirmed change: FG_ERR_POLICY "the old phone has not confirmed the change"
 * unless confirmed; FG_ERR_CONFLICT if applied already, the customer is destroyed, or the
 * new number belongs to another customer now; FG_ERR_NOT_FOUND. change_id must match the
 * stored one (the approval names its change). On FG_OK the old and the new number (E.164)
 * are in old_out / new_out for the notices — the caller wipes them. */
FG_MUST_CHECK fg_rc fg_customer_phone_change_apply(
    fg_conn *c, fg_keys *k, const struct fg_fields *f, const char *approval_id,
    const char *change_id, int64_t now_ms, char old_out[FG_CUSTOMER_PHONE_SIZE],
    char new_out[FG_CUSTOMER_PHONE_SIZE], const char **why);

/* ---- destroy ------------------------------------------------------------------------------- */

/* write. Destroy the customer's personal data (see the file comment). FG_ERR_NOT_FOUND,
 * FG_ERR_CONFLICT (destroyed already), FG_ERR_POLICY (the ledger says money remains),
 * FG_ERR_INVALID (bad actor ids). *user_id_out (may be NULL) the disabled login. */
FG_MUST_CHECK fg_rc fg_customer_destroy(fg_conn *c, const char *customer_id,
                                        const char *destroyed_by, const char *approved_by,
                                        int64_t now_ms, char user_id_out[FG_USER_ID_MAX + 1],
                                        const char **why);

#endif
