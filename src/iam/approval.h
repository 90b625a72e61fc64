/*
 * approval.h — four-eyes approval of sensitive changes (REQUIREMENTS GOV-2, GOV-3, IAM-2,
 * IAM-6, ACC-3; API.md "Staff, roles, approvals"; docs/approvals.md).
 *
 * What it is. A sensitive change is not made when it is asked for: it is *requested* (a row
 * in `approvals`, state pending), then *decided* by a different person who may approve the
 * action's class, and only then *executed* — exactly once, on the store's writer, in the
 * same transaction as the decision and its audit record:
 *
 *     pending ──approve──▶ approved   (execute() ran and its change committed with it)
 *        │    ──approve──▶ failed     (execute() refused; its change was rolled back)
 *        │    ──reject───▶ rejected
 *        └──── time ─────▶ expired    (expires_ms passed; marked by decide or expire_due)
 *
 * Every state but pending is final (the schema refuses any later update), so an approved
 * action can never run twice, and a decided row is never deleted.
 *
 * Actions. What can be approved is registered once at start-up, before the server serves
 * (fg_approval_register): a dotted name ("users.create"), a class ("staff") — an approver
 * needs the permission "approve.<class>" — a validate() run when the request is made and an
 * execute() run when it is approved. This module knows nothing about users or roles: the
 * caller answers "may this person approve this class?" and "how many approvers exist?"
 * through a `struct fg_approval_policy`, inside the same transaction.
 *
 * Payloads are the action's parameters as one small JSON object, stored in clear and copied
 * into audit records, so they must never hold a secret (no password, one-time code, key,
 * card or identity number): a payload that the audit redactor would change is refused.
 * Protect personal data the payload needs (a new phone number) with protect/ first.
 *
 * Writes run inside a write intent, on the writer thread, with the intent's `conn`:
 *
 *     // request (caller's intent; the record is the one attached to the intent)
 *     rc = fg_approval_request(conn, "users.create", payload, me, 0, id, rec, &why);
 *
 *     // decide (caller's intent)
 *     rc = fg_approval_decide(conn, &call, rec, &d);
 *     return d.commit ? FG_OK : rc;       // exactly what fg_approval_decide_intent does
 *
 * Decisions answer two questions, which is why they have two results. The return value is
 * the answer for the client (FG_OK, or why not). `commit` says whether the call wrote
 * something durable that the intent must keep although the answer may be an error: an
 * expired approval is marked expired (FG_ERR_CONFLICT), an execute() that refused leaves
 * the approval failed (its own rc), a bootstrap attempt after the second approver exists
 * closes the exception for good (FG_ERR_PERMISSION). Refusals that change nothing
 * (not found, not pending, requester, no permission) have commit = 0, and the intent
 * returns the error: the store rolls back nothing of value and still appends the record.
 *
 * Execute failure (choice, docs/approvals.md): execute() runs inside its own savepoint. If
 * it returns an error that is a verdict on the action (INVALID, CONFLICT, POLICY,
 * NOT_FOUND, ...), its writes are rolled back to that savepoint, the approval becomes
 * failed with a static reason, and that state commits with the audit record (result error)
 * — one transaction, and nothing of the change is visible. If the error is about the
 * machine, not the action (FG_ERR_STORE, DISK_FULL, NOMEM, IO, BUSY, SHUTDOWN, TIMEOUT,
 * SEALED, INTERNAL), commit = 0: the whole intent rolls back, the approval stays pending
 * and may be approved again once the cause is gone; the attached record still says error.
 *
 * The bootstrap exception (GOV-3 with a single administrator): while the instance has fewer
 * than two people who can approve (policy->count_approvers, the lead's definition), the
 * requester may approve their own request of an action registered with `bootstrap = 1`
 * (creating the second approver) with verdict FG_APPROVAL_BOOTSTRAP; it must still pass
 * can_approve(). The row says bootstrap = 1 and the record says "bootstrap":true. The
 * exception closes for good — a durable row in `approvals_bootstrap` that the schema
 * never lets go — as soon as two approvers are counted: after the bootstrap execute() in
 * the same transaction, on any later bootstrap attempt, or whenever the caller calls
 * fg_approval_bootstrap_close() (e.g. in every intent that grants an approve permission).
 * Removing users later does not reopen it.
 *
 * Audit records. Request and decide take the record the caller attached to its intent (or
 * NULL): they keep its action and actor, point it at object ("approval", id), set its
 * details ({"approval_id","action","class","requester_id",...}, the payload included when
 * it fits) and its result (ok; denied for refusals; error for failed execution). The
 * caller chooses the record's action name ("approval.request", "approval.approve",
 * "approval.reject").
 *
 * Threads. Registration: start-up only (a mutex makes a stray late call safe, not useful).
 * Everything taking an fg_conn runs on the thread that holds that connection: the writer
 * for writes, a read lease holder for get/list/pair_count. Reasons handed back are static
 * sentences, never caller data, safe to log and to show.
 */
#ifndef FG_IAM_APPROVAL_H
#define FG_IAM_APPROVAL_H

#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "base/rc.h"
#include "store/store.h"

/* ---- limits (bytes, excluding the NUL) --------------------------------------------------- */
/* Actions registered at once: nine are planned; room for the rest of the product. */
#define FG_APPROVAL_ACTIONS_MAX 32u
/* Action names are dotted identifiers ("accounts.unfreeze"); audit action names are 64. */
#define FG_APPROVAL_ACTION_MAX 63u
/* Class names are single words ("transfer"); "approve.<class>" stays a short permission. */
#define FG_APPROVAL_CLASS_MAX 31u
/* Ids of requesters and approvers are the audit log's actor ids. */
#define FG_APPROVAL_ACTOR_ID_MAX FG_AUDIT_ACTOR_ID_MAX
/* Ids are 128 random bits as unpadded base64url: 22 characters. */
#define FG_APPROVAL_ID_RANDOM_BYTES 16u
#define FG_APPROVAL_ID_LEN 22u
#define FG_APPROVAL_ID_SIZE (FG_APPROVAL_ID_LEN + 1u)
/* A payload names the change (user name and roles, an account and a limit): small. It is
 * copied into the audit record's details (FG_AUDIT_DETAILS_MAX 2048) with room to spare. */
#define FG_APPROVAL_PAYLOAD_MAX 1024u
/* What execute() hands back (the created object's id and the like). */
#define FG_APPROVAL_RESULT_MAX 256u
/* A decision's free-text reason (UTF-8, no control characters): a sentence, not a document. */
#define FG_APPROVAL_REASON_MAX 256u
/* Why a failed or expired approval did not happen: fg_rc_str() of the cause (static). */
#define FG_APPROVAL_FAILURE_MAX 127u
/* Validity of a request: 24 h by default (an approver's working day and then some); at
 * least a minute (anything shorter cannot be approved by a person), at most 30 days. */
#define FG_APPROVAL_TTL_MS_DEFAULT (24 * 3600 * 1000LL)
#define FG_APPROVAL_TTL_MS_MIN (60 * 1000LL)
#define FG_APPROVAL_TTL_MS_MAX (30 * 24 * 3600 * 1000LL)
/* Rows per page of fg_approval_list (API pages). */
#define FG_APPROVAL_LIST_MAX 100u
/* Rows one fg_approval_expire_due call marks: it runs inside one writer intent, which must
 * stay short; call again while it reports a full batch. */
#define FG_APPROVAL_EXPIRE_BATCH_MAX 1000u
/* Approvers the bootstrap exception waits for. GOV-3: two different people. */
#define FG_APPROVAL_BOOTSTRAP_APPROVERS 2u
/* A list cursor as text: "<created_ms>.<id>" (19 digits, a dot, the id). */
#define FG_APPROVAL_CURSOR_TEXT_SIZE (19u + 1u + FG_APPROVAL_ID_LEN + 1u)

/* ---- states ------------------------------------------------------------------------------ */

/* Stored as text (the names below); numbers are only for C. FG_APPROVAL_ANY is a filter. */
enum fg_approval_state {
    FG_APPROVAL_ANY = 0,
    FG_APPROVAL_PENDING = 1,
    FG_APPROVAL_APPROVED = 2,
    FG_APPROVAL_REJECTED = 3,
    FG_APPROVAL_EXPIRED = 4,
    FG_APPROVAL_FAILED = 5,
};
/* "pending" | "approved" | "rejected" | "expired" | "failed"; NULL for anything else. */
const char *fg_approval_state_name(enum fg_approval_state state);
/* FG_ERR_INVALID for anything but the five names ("any" is not a state). */
FG_MUST_CHECK fg_rc fg_approval_state_parse(const char *name, enum fg_approval_state *out);

/* One approval as stored. `state` is the *effective* state: a pending row whose expiry
 * has passed reads as expired although it is marked only by decide/expire_due. Text
 * members are NUL-terminated; "" and 0 mean "none" (not decided yet). */
struct fg_approval {
    char id[FG_APPROVAL_ID_SIZE];
    char action[FG_APPROVAL_ACTION_MAX + 1];
    char action_class[FG_APPROVAL_CLASS_MAX + 1];
    char payload[FG_APPROVAL_PAYLOAD_MAX + 1]; /* compact JSON object */
    char requester_id[FG_APPROVAL_ACTOR_ID_MAX + 1];
    enum fg_approval_state state;
    int64_t created_ms;
    int64_t expires_ms;
    char decided_by[FG_APPROVAL_ACTOR_ID_MAX + 1];
    int64_t decided_ms;
    char reason[FG_APPROVAL_REASON_MAX + 1];      /* the decider's own words */
    char result[FG_APPROVAL_RESULT_MAX + 1];      /* compact JSON object, "" unless approved */
    char failure[FG_APPROVAL_FAILURE_MAX + 1];    /* failed / expired: why */
    char error_code[FG_AUDIT_ERROR_CODE_MAX + 1]; /* failed / expired: fg_rc_name() */
    int bootstrap; /* 1: decided by the requester alone under the exception */
};

/* ---- the action registry ----------------------------------------------------------------- */

/* validate: called by fg_approval_request inside its write intent with the payload as it
 * will be stored (compact JSON). FG_OK to accept; otherwise an error (FG_ERR_INVALID for
 * malformed, FG_ERR_CONFLICT / FG_ERR_POLICY / FG_ERR_NOT_FOUND for a refusal on the merits)
 * and *reason a static sentence. NULL: any payload object is accepted.
 * execute: called once, by the approving fg_approval_decide, inside its own savepoint of
 * the approving intent. It makes the change through `conn` and may write a small JSON
 * object (NUL-terminated, < cap bytes; "" means "{}") into result_json, e.g.
 * {"user_id":"u_42"} — never a secret (a one-time password goes to the outbox, not here).
 * See the file comment for what its error codes mean. `ap` is the approval being decided
 * (decided_by / decided_ms / reason already filled in). */
typedef fg_rc (*fg_approval_validate_fn)(fg_conn *conn, const char *payload, void *ctx,
                                         const char **reason);
typedef fg_rc (*fg_approval_execute_fn)(fg_conn *conn, const char *payload,
                                        const struct fg_approval *ap, void *ctx, char *result_json,
                                        size_t cap);

struct fg_approval_action {
    const char *name;         /* [a-z0-9_.], 1..FG_APPROVAL_ACTION_MAX, starts with a letter */
    const char *action_class; /* [a-z0-9_], 1..FG_APPROVAL_CLASS_MAX, starts with a letter */
    fg_approval_validate_fn validate; /* may be NULL */
    fg_approval_execute_fn execute;   /* required */
    void *ctx;                        /* for validate and execute; outlives the registry */
    int bootstrap; /* 1: may be approved by its requester under the bootstrap exception
                    * (only the actions that create the second approver) */
};

/* Copy `a` into the registry (names are copied; ctx is not). FG_ERR_INVALID (bad name or
 * class, no execute), FG_ERR_CONFLICT (name registered already), FG_ERR_LIMIT (full). */
FG_MUST_CHECK fg_rc fg_approval_register(const struct fg_approval_action *a);
/* Register a[0..n) unless already registered with the same execute() — servers may be
 * built more than once in one process (tests): idempotent per route file. FG_ERR_CONFLICT
 * if a name is taken by another action; the errors of fg_approval_register. */
FG_MUST_CHECK fg_rc fg_approval_register_all(const struct fg_approval_action *a, size_t n);
/* The registered action `name` (copied out; names point into the registry). FG_ERR_NOT_FOUND. */
FG_MUST_CHECK fg_rc fg_approval_lookup(const char *name, struct fg_approval_action *out);
/* Empty the registry (tests; shutdown). Nothing may be running that uses it. */
void fg_approval_unregister_all(void);

/* ---- requests ---------------------------------------------------------------------------- */

/* Create a pending approval of `action` with `payload` (a JSON object text) by
 * `requester_id`, valid for ttl_ms (0 → FG_APPROVAL_TTL_MS_DEFAULT; outside
 * [FG_APPROVAL_TTL_MS_MIN, FG_APPROVAL_TTL_MS_MAX] → FG_ERR_INVALID). Inside a write intent.
 * The new id goes to id_out. Errors (and *reason, a static sentence):
 *   FG_ERR_NOT_FOUND  no such action registered ("unknown action")
 *   FG_ERR_INVALID    payload is not one JSON object within the limits, or holds a field
 *                     the audit redactor would hide ("payload holds a secret-looking field"),
 *                     bad requester id or ttl
 *   FG_ERR_TOO_LARGE  payload longer than FG_APPROVAL_PAYLOAD_MAX
 *   anything validate() returns, with its reason
 *   FG_ERR_STORE etc. from the database
 * rec (may be NULL): the record attached to the caller's intent, updated as above. */
FG_MUST_CHECK fg_rc fg_approval_request(fg_conn *conn, const char *action, const char *payload,
                                        const char *requester_id, int64_t ttl_ms,
                                        char id_out[FG_APPROVAL_ID_SIZE],
                                        struct fg_audit_record *rec, const char **reason);

/* ---- decisions --------------------------------------------------------------------------- */

/* The caller's answers about people (this module knows no roles). Both run on the writer
 * thread inside the deciding transaction and may read through conn.
 * can_approve: 1 if approver_id holds "approve.<action_class>" (and is active), else 0.
 * count_approvers: people who can approve anything now (the lead's definition); needed
 *   only for FG_APPROVAL_BOOTSTRAP (NULL: the exception is unavailable). */
struct fg_approval_policy {
    int (*can_approve)(void *ctx, fg_conn *conn, const char *approver_id, const char *action_class);
    fg_rc (*count_approvers)(void *ctx, fg_conn *conn, unsigned *n);
    void *ctx;
};

enum fg_approval_verdict {
    FG_APPROVAL_APPROVE = 1,
    FG_APPROVAL_REJECT = 2,
    FG_APPROVAL_BOOTSTRAP = 3, /* approve one's own request under the bootstrap exception */
};

struct fg_approval_decide_args {
    const char *id;
    const char *approver_id;
    enum fg_approval_verdict verdict;
    const char *reason; /* free text, may be NULL; required (non-empty) for a rejection */
    const struct fg_approval_policy *policy;
};

struct fg_approval_decision {
    int commit;                   /* 1: the intent must return FG_OK (see the file comment) */
    enum fg_approval_state state; /* the stored state after the call; ANY if not found */
    const char *reason;           /* static sentence when refused or failed; else NULL */
    int executed;                 /* 1: execute() ran and its change is part of the intent */
    int bootstrap_closed;         /* 1: this call closed the bootstrap exception */
    char result[FG_APPROVAL_RESULT_MAX + 1]; /* execute()'s result when executed */
};

/* Decide approval `args->id` inside a write intent. Checks, in order, each refusal with
 * commit = 0 and a static reason in out->reason:
 *   FG_ERR_INVALID      malformed approver id; reason too long, not UTF-8 or with control
 *                       characters; a rejection without a reason
 *   FG_ERR_NOT_FOUND    no such approval ("no such approval")
 *   FG_ERR_CONFLICT     not pending: approved, rejected, failed or expired ("the approval
 *                       is not pending") — so an approved action never runs twice
 *   FG_ERR_INVALID      FG_APPROVAL_BOOTSTRAP by someone other than the requester
 *   FG_ERR_PERMISSION   the approver is the requester ("the requester cannot approve"; it
 *                       applies to rejections too); the action has no bootstrap exception;
 *                       can_approve() said no ("the approver may not approve this class")
 *   FG_ERR_UNSUPPORTED  approving an action this server has not registered
 * then, only for an authorised decider:
 *   FG_ERR_CONFLICT     expired ("the approval has expired"): marked expired, commit = 1
 *   FG_ERR_PERMISSION   bootstrap: closed already (commit 0), or two approvers counted
 *                       now (closed for good by this call: commit = 1, bootstrap_closed)
 *   FG_OK               rejected; or approved and executed exactly once (commit = 1)
 *   execute()'s error   a verdict: the approval is failed (commit = 1); a machine error:
 *                       still pending (commit = 0) — see the file comment
 * Database errors from the statements themselves come back with commit = 0. */
FG_MUST_CHECK fg_rc fg_approval_decide(fg_conn *conn, const struct fg_approval_decide_args *args,
                                       struct fg_audit_record *rec,
                                       struct fg_approval_decision *out);

/* A ready-made write intent for a decision: arg is a struct fg_approval_decide_call. Sets
 * call->rc to fg_approval_decide's answer and returns FG_OK if the decision must commit. */
struct fg_approval_decide_call {
    struct fg_approval_decide_args args;
    struct fg_audit_record *rec; /* the record attached to the same intent, or NULL */
    struct fg_approval_decision out;
    fg_rc rc;
};
fg_rc fg_approval_decide_intent(fg_conn *conn, void *arg);

/* ---- bootstrap --------------------------------------------------------------------------- */

/* *closed = 1 once the exception has closed (any connection). */
FG_MUST_CHECK fg_rc fg_approval_bootstrap_closed(fg_conn *conn, int *closed);
/* Close the exception for good if approvers_now >= FG_APPROVAL_BOOTSTRAP_APPROVERS (write
 * intent; idempotent). *closed_now (may be NULL) = 1 if this call closed it. */
FG_MUST_CHECK fg_rc fg_approval_bootstrap_close(fg_conn *conn, unsigned approvers_now,
                                                int *closed_now);

/* ---- reading ----------------------------------------------------------------------------- */

/* FG_ERR_NOT_FOUND (also for a malformed id), FG_ERR_CORRUPT (a row that does not decode). */
FG_MUST_CHECK fg_rc fg_approval_get(fg_conn *conn, const char *id, struct fg_approval *out);

/* Pages go by (created_ms, id) ascending — oldest first, the order work is done in. A
 * cursor names the last row of the previous page; created_ms = 0 and id "" start at the
 * beginning. */
struct fg_approval_cursor {
    int64_t created_ms;
    char id[FG_APPROVAL_ID_SIZE];
};
/* "<created_ms>.<id>" for an API's next= parameter, and back (FG_ERR_INVALID). */
void fg_approval_cursor_format(const struct fg_approval_cursor *c,
                               char out[FG_APPROVAL_CURSOR_TEXT_SIZE]);
FG_MUST_CHECK fg_rc fg_approval_cursor_parse(const char *text, struct fg_approval_cursor *out);

/* Called per row; anything but FG_OK stops the listing and is returned. */
typedef fg_rc (*fg_approval_list_fn)(void *ctx, const struct fg_approval *ap);
/* Up to `limit` (1..FG_APPROVAL_LIST_MAX) approvals after `after` (NULL: from the start)
 * whose effective state is `state` (FG_APPROVAL_ANY: all). *next is the cursor for the
 * next page and *more = 1 if there is one. */
FG_MUST_CHECK fg_rc fg_approval_list(fg_conn *conn, enum fg_approval_state state, unsigned limit,
                                     const struct fg_approval_cursor *after, fg_approval_list_fn fn,
                                     void *ctx, struct fg_approval_cursor *next, int *more);

/* Mark pending approvals with expires_ms <= now_ms expired, at most max_rows of them
 * (0 → FG_APPROVAL_EXPIRE_BATCH_MAX). Write intent; *marked = rows changed (call again
 * while it equals the batch). The caller audits the batch ("approval.expire"). */
FG_MUST_CHECK fg_rc fg_approval_expire_due(fg_conn *conn, int64_t now_ms, unsigned max_rows,
                                           int64_t *marked);

/* Approvals (approved or failed; bootstrap ones excluded) decided since since_ms in which
 * one of a, b requested and the other approved, in either direction: the monitor's
 * "same pair approving each other" signal. */
FG_MUST_CHECK fg_rc fg_approval_pair_count(fg_conn *conn, const char *a, const char *b,
                                           int64_t since_ms, int64_t *n);

#endif
