/*
 * sys.h — the instance's security lifecycle, shared by the HTTP layer and the CLI:
 * initialisation, unseal, and shutdown, and the audit log that can exist only while the
 * keys are unsealed (REQUIREMENTS DATA-2, AUD-1..2, GOV-3).
 *
 *   not initialised ──init──▶ unsealed ──shutdown──▶ (process ends; next start: sealed)
 *                   sealed ──unseal (k shares)──▶ unsealed
 *
 * While unsealed, the audit log is attached to the store: every write intent that carries
 * a record (intent->record, a struct fg_audit_record) gets it appended to the chain in the
 * same transaction. Initialisation arms the audit log with the *pending* keyring, so the
 * "sys.init" record is MAC'd and committed in the very transaction that creates the keys.
 *
 * Events (issue #6, MON-1; docs/events.md): every lifecycle and key record gets its security
 * event in the intent that carries it, so both commit or vanish together: "sys.init" →
 * sys.initialized, "sys.unseal" → sys.unsealed, "sys.seal" → sys.sealed, "keys.rotate" →
 * key.rotated, "keys.destroy" → key.destroyed; actor, source address and device are the
 * record's, attrs are the record's details (suite, custodians, threshold, method,
 * failed_attempts, reason, purpose, version — never key material). The functions here write
 * them for their own records; callers that write such a record themselves (the HTTP routes,
 * the CLI) use fg_sys_record_event / fg_sys_init_intent. Refusals (denied records) are not
 * events.
 *
 * Development mode (keys.dev_mode): an uninitialised instance is initialised at start with
 * one share (suite intl), the root key is kept in DATA_DIR/dev-root.key, and every start
 * unseals from it — logged as a warning each time. Configuration validation confines it
 * to loopback addresses.
 *
 * Thread safety: all functions may be called from any thread; arming and disarming the
 * audit log is serialised by a mutex. fg_sys_close() requires the store to be closed.
 */
#ifndef FG_SYS_SYS_H
#define FG_SYS_SYS_H

#include "audit/audit.h"
#include "base/rc.h"
#include "keys/keys.h"
#include "store/store.h"

struct fg_sys;

struct fg_sys_options {
    fg_store *store;
    const char *data_dir;           /* anchor file and dev key live here */
    int dev_mode;                   /* see above */
    uint32_t checkpoint_records;    /* 0 → audit default */
    int64_t checkpoint_interval_ms; /* 0 → audit default */
};

/* Load key state; in dev mode initialise if needed and unseal. */
FG_MUST_CHECK fg_rc fg_sys_open(const struct fg_sys_options *opt, struct fg_sys **out);
/* Before closing the store: append "sys.seal" (reason shutdown) and a final checkpoint so
 * the tail is anchored. Blocking; call from the main thread after the server stopped. */
void fg_sys_shutdown(struct fg_sys *sys);
/* After the store is closed: wipe keys, close the audit log, free. NULL is a no-op. */
void fg_sys_close(struct fg_sys *sys);

/* The outbox (notify/outbox.h) to chain behind the audit hooks whenever the audit log is
 * armed, so messages leave only with committed intents. Call at start-up. */
struct fg_outbox;
void fg_sys_set_outbox(struct fg_sys *sys, struct fg_outbox *ob);
/* Call fn(ctx) on the writer thread after every committed batch (the monitor's wake-up,
 * monitor/monitor.h); it must not block. NULL removes it. Set it while no batch runs. */
void fg_sys_set_commit_listener(struct fg_sys *sys, void (*fn)(void *ctx), void *ctx);

void fg_sys_state(struct fg_sys *sys, struct fg_keys_state *out);
/* 1 while sealed, and from fg_sys_seal_begin() on (the gate closes before the keys go). */
int fg_sys_sealed(struct fg_sys *sys);

/* Seal on command, in two steps so nothing unaudited slips through:
 *   fg_sys_seal_begin()   the gate closes: fg_sys_sealed() is 1 from now on;
 *   (the caller waits until every hand-off already in flight has completed)
 *   fg_sys_seal_finish()  a final checkpoint anchors the tail, the audit log is detached
 *                         and closed, the root key and keyring are wiped. Blocking. */
void fg_sys_seal_begin(struct fg_sys *sys);
/* 1 if an audited write may start now: the audit log is armed (also during initialisation,
 * with the pending keys) and no seal has begun. */
int fg_sys_audit_ready(struct fg_sys *sys);
FG_MUST_CHECK fg_rc fg_sys_seal_finish(struct fg_sys *sys);
fg_keys *fg_sys_keys(struct fg_sys *sys);
const char *fg_sys_data_dir(const struct fg_sys *sys);
/* Path of the audit anchor file (DATA_DIR/audit-anchor.jsonl). */
const char *fg_sys_anchor_path(const struct fg_sys *sys);

/* ---- initialisation as one write intent ---------------------------------------------------- */
struct fg_sys_init;
/* Prepares keys and arms the audit log with them; `who` is audited as the initialiser.
 * FG_ERR_CONFLICT if already initialised. */
FG_MUST_CHECK fg_rc fg_sys_init_prepare(struct fg_sys *sys, enum fg_suite suite, unsigned shares,
                                        unsigned threshold, const struct fg_audit_actor *who,
                                        struct fg_sys_init **out, const char **problem);
/* Submit with: fn = fg_sys_init_intent, arg = init, record = fg_sys_init_record(). */
/* The keyring op's argument (fg_keys_op_intent), for an intent that writes more than the
 * keys: call fg_sys_init_intent instead of fg_keys_op_intent, so sys.initialized is written. */
void *fg_sys_init_arg(struct fg_sys_init *init);
/* write (intent fn, arg = the struct fg_sys_init): the keyring and the sys.initialized event. */
FG_MUST_CHECK fg_rc fg_sys_init_intent(fg_conn *conn, void *init);
struct fg_audit_record *fg_sys_init_record(struct fg_sys_init *init);
/* After the intent's batch: publish (rc == FG_OK) or disarm (otherwise). Returns rc or the
 * publish error. Never blocks on the database. */
FG_MUST_CHECK fg_rc fg_sys_init_finish(struct fg_sys *sys, struct fg_sys_init *init, fg_rc rc,
                                       const char **problem);
unsigned fg_sys_init_share_count(const struct fg_sys_init *init);
const char *fg_sys_init_share(const struct fg_sys_init *init, unsigned i);
void fg_sys_init_free(struct fg_sys_init *init);
/* Blocking: prepare + write + finish (CLI, tests). Copies shares out. */
FG_MUST_CHECK fg_rc fg_sys_init(struct fg_sys *sys, enum fg_suite suite, unsigned shares,
                                unsigned threshold, const struct fg_audit_actor *who,
                                char share_text[][FG_KEYS_SHARE_TEXT_MAX], const char **problem);

/* ---- unseal -------------------------------------------------------------------------------- */
/* Submit one share. When it completes the set, the audit log is opened and attached, and
 * *just_unsealed is set: the caller then appends its "sys.unseal" record (fg_sys_unseal_record).
 * Errors as fg_keys_unseal_submit; a failure is counted and reported in the next
 * "sys.unseal" record (records cannot be MAC'd while sealed). */
FG_MUST_CHECK fg_rc fg_sys_unseal(struct fg_sys *sys, const char *share_text,
                                  struct fg_keys_state *st, int *just_unsealed,
                                  const char **problem);
/* Fill rec as the "sys.unseal" record (details: failed attempts since the last unseal). */
FG_MUST_CHECK fg_rc fg_sys_unseal_record(struct fg_sys *sys, const struct fg_audit_actor *who,
                                         const char *how, struct fg_audit_record *rec);

/* ---- lifecycle events --------------------------------------------------------------------- */
/* write. The event of a lifecycle or key record (see above), inside the intent that carries
 * rec. FG_ERR_INVALID if rec's action has no event; fg_event_emit's errors. */
FG_MUST_CHECK fg_rc fg_sys_record_event(fg_conn *conn, const struct fg_audit_record *rec);
/* The same as an intent fn with arg = the record: fg_audit_write(store,
 * fg_sys_record_event_intent, &rec, &rec) in place of fg_audit_record_only. */
FG_MUST_CHECK fg_rc fg_sys_record_event_intent(fg_conn *conn, void *rec);

/* The start-up work that needs the audit log (config.changed, cli/config_event.h): fn(ctx)
 * runs after every completed unseal by fg_sys_unseal, once the audit log is armed, on the
 * thread that submitted the last share (a worker or the CLI: it may block on the writer),
 * without sys's lock. NULL removes it. Set it at start-up, before any unseal can run. */
void fg_sys_set_unseal_listener(struct fg_sys *sys, void (*fn)(void *ctx), void *ctx);

/* ---- key changes, audited -------------------------------------------------------------------- */
/* Rotate purpose (unsealed): new active version; "keys.rotate" record in the same
 * transaction. Blocking (CLI; the HTTP route needs four-eyes approval — identity issue). */
FG_MUST_CHECK fg_rc fg_sys_keys_rotate(struct fg_sys *sys, enum fg_key_purpose purpose,
                                       const struct fg_audit_actor *who, uint32_t *new_version,
                                       const char **problem);
/* Destroy (crypto-shred) an unused, non-active version with two distinct custodians'
 * shares; "keys.destroy" record in the same transaction (so the keys must be unsealed).
 * Blocking. */
FG_MUST_CHECK fg_rc fg_sys_keys_destroy(struct fg_sys *sys, enum fg_key_purpose purpose,
                                        uint32_t version, const char *share_a,
                                        const char *share_b, const struct fg_audit_actor *who,
                                        const char **problem);

/* ---- audit keys for verification ----------------------------------------------------------- */
/* The MAC keys (every live version) and signing public keys (every version) of this instance,
 * in locked memory. FG_ERR_SEALED while sealed. Release with fg_sys_keyset_free. */
struct fg_sys_keyset;
FG_MUST_CHECK fg_rc fg_sys_keyset_load(fg_keys *keys, int with_private, struct fg_sys_keyset **out);
const struct fg_audit_keys *fg_sys_keyset_keys(const struct fg_sys_keyset *ks);
void fg_sys_keyset_free(struct fg_sys_keyset *ks);

#endif
