/*
 * sys.c — the lifecycle coordinator. It owns the keyring handle (keys/) and, while
 * unsealed, the audit log (audit/), and it is the only code that arms or disarms the
 * store's audit hooks, under one mutex.
 *
 * Arming needs the audit MAC keys (every live version, so old records still verify and
 * retention can re-check them), the active signing private key and every signing public
 * key: fg_sys_keyset_load() borrows them from the keyring into locked memory, the audit log
 * copies what it keeps, and the keyset is wiped at once. For initialisation the keys come
 * from the pending keyring op instead (fg_keys_op_key), so the "sys.init" record is MAC'd
 * with keys that commit in the same transaction.
 *
 * Every lifecycle and key record carries its security event in the same intent
 * (fg_sys_record_event; docs/events.md): the intents here call it after their change.
 */
#include "sys/sys.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "event/event.h"
#include "notify/outbox.h"
#include "protect/protect.h"

#define ANCHOR_FILE "audit-anchor.jsonl"

struct fg_sys {
    fg_store *store;
    fg_keys *keys;
    fg_audit_log *audit; /* non-NULL while armed */
    pthread_mutex_t mu;
    char data_dir[FG_PATH_MAX];
    char anchor[FG_PATH_MAX];
    uint32_t checkpoint_records;
    int64_t checkpoint_interval_ms;
    unsigned failed_unseals;      /* since the last unseal; reported in its record */
    struct fg_outbox *outbox;     /* chained behind the audit hooks, or NULL */
    _Atomic int sealing;          /* seal on command in progress: the gate is closed */
    struct fg_store_hooks chain;  /* audit (+ outbox): what the wrapper calls first */
    void (*on_commit)(void *ctx); /* the commit listener (the monitor), or NULL */
    void *on_commit_ctx;
    void (*on_unseal)(void *ctx); /* the unseal listener (config.changed), or NULL */
    void *on_unseal_ctx;
};

/* The hooks the store runs: the chain, then the commit listener after each commit. */
static fg_rc wrap_after_intent(void *ctx, fg_conn *conn, struct fg_intent *intent)
{
    struct fg_sys *sys = ctx;
    return sys->chain.after_intent != NULL ? sys->chain.after_intent(sys->chain.ctx, conn, intent)
                                           : FG_OK;
}

static fg_rc wrap_before_commit(void *ctx, fg_conn *conn)
{
    struct fg_sys *sys = ctx;
    return sys->chain.before_commit != NULL ? sys->chain.before_commit(sys->chain.ctx, conn)
                                            : FG_OK;
}

static void wrap_after_commit(void *ctx)
{
    struct fg_sys *sys = ctx;
    if (sys->chain.after_commit != NULL)
        sys->chain.after_commit(sys->chain.ctx);
    if (sys->on_commit != NULL)
        sys->on_commit(sys->on_commit_ctx);
}

static void wrap_after_rollback(void *ctx)
{
    struct fg_sys *sys = ctx;
    if (sys->chain.after_rollback != NULL)
        sys->chain.after_rollback(sys->chain.ctx);
}

static void install_chain(struct fg_sys *sys)
{
    const struct fg_store_hooks wrapper = {.after_intent = wrap_after_intent,
                                           .before_commit = wrap_before_commit,
                                           .after_commit = wrap_after_commit,
                                           .after_rollback = wrap_after_rollback,
                                           .ctx = sys};
    fg_store_set_hooks(sys->store, &wrapper);
}

/* Install the audit log's hooks, with the outbox after them when there is one. */
static void attach_hooks(struct fg_sys *sys, fg_audit_log *log)
{
    struct fg_store_hooks audit_hooks;
    fg_audit_hooks(log, &audit_hooks);
    if (sys->outbox == NULL)
        sys->chain = audit_hooks;
    else
        fg_outbox_hooks(sys->outbox, &audit_hooks, &sys->chain);
    install_chain(sys);
}

void fg_sys_set_commit_listener(struct fg_sys *sys, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&sys->mu);
    sys->on_commit = fn; /* start-up or shut-down: no batch is running */
    sys->on_commit_ctx = ctx;
    pthread_mutex_unlock(&sys->mu);
}

void fg_sys_set_unseal_listener(struct fg_sys *sys, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&sys->mu);
    sys->on_unseal = fn;
    sys->on_unseal_ctx = ctx;
    pthread_mutex_unlock(&sys->mu);
}

void fg_sys_set_outbox(struct fg_sys *sys, struct fg_outbox *ob)
{
    pthread_mutex_lock(&sys->mu);
    sys->outbox = ob;
    if (sys->audit != NULL)
        attach_hooks(sys, sys->audit); /* start-up: no batch is running */
    pthread_mutex_unlock(&sys->mu);
}

struct fg_sys_init {
    struct fg_keys_op *op;
    fg_audit_log *log; /* armed with the pending keys */
    struct fg_audit_record record;
};

/* ---- lifecycle events -------------------------------------------------------------- */

/* Record action → event name (docs/events.md). */
static const struct {
    const char *action, *event;
} record_events[] = {
    {"sys.init", "sys.initialized"}, {"sys.unseal", "sys.unsealed"},    {"sys.seal", "sys.sealed"},
    {"keys.rotate", "key.rotated"},  {"keys.destroy", "key.destroyed"},
};

fg_rc fg_sys_record_event(fg_conn *conn, const struct fg_audit_record *rec)
{
    assert(conn != NULL && rec != NULL);
    for (size_t i = 0; i < sizeof record_events / sizeof record_events[0]; i++) {
        if (strcmp(rec->action, record_events[i].action) != 0)
            continue;
        struct fg_event e =
            fg_event_of_record(rec, record_events[i].event, rec->object_type, rec->object_id);
        e.attrs_json = rec->details; /* redacted JSON: suite, counts, method, purpose, version */
        return fg_event_emit(conn, &e, fg_time_wall_ms());
    }
    return FG_ERR_INVALID;
}

fg_rc fg_sys_record_event_intent(fg_conn *conn, void *rec)
{
    return fg_sys_record_event(conn, rec);
}

/* A keyring op and its record: the change, then the record's event. */
struct keys_op_job {
    struct fg_keys_op *op;
    const struct fg_audit_record *rec;
};

static fg_rc keys_op_event_intent(fg_conn *conn, void *arg)
{
    const struct keys_op_job *job = arg;
    fg_rc rc = fg_keys_op_intent(conn, job->op);
    return rc != FG_OK ? rc : fg_sys_record_event(conn, job->rec);
}

/* ---- keysets ----------------------------------------------------------------------- */

struct fg_sys_keyset {
    struct fg_audit_keys keys;
    struct fg_audit_mac_key mac[FG_AUDIT_MAC_KEYS_MAX];
    struct fg_audit_public_key pub[FG_AUDIT_PUBLIC_KEYS_MAX];
    uint8_t pub_bytes[FG_AUDIT_PUBLIC_KEYS_MAX][FG_SIGN_PUBLIC_MAX];
    uint8_t *secret; /* locked: MAC keys, then the sign private key */
};

struct versions {
    uint32_t audit[FG_AUDIT_MAC_KEYS_MAX];
    size_t naudit;
    uint32_t sign[FG_AUDIT_PUBLIC_KEYS_MAX];
    size_t nsign;
};

static fg_rc collect_versions(void *ctx, const struct fg_key_info *info)
{
    struct versions *v = ctx;
    if (info->purpose == FG_KEY_AUDIT && info->state != FG_KEY_DESTROYED) {
        if (v->naudit == FG_AUDIT_MAC_KEYS_MAX)
            return FG_ERR_LIMIT;
        v->audit[v->naudit++] = info->version;
    } else if (info->purpose == FG_KEY_SIGN) {
        if (v->nsign == FG_AUDIT_PUBLIC_KEYS_MAX)
            return FG_ERR_LIMIT;
        v->sign[v->nsign++] = info->version;
    }
    return FG_OK;
}

void fg_sys_keyset_free(struct fg_sys_keyset *ks)
{
    if (ks == NULL)
        return;
    fg_secure_free(ks->secret);
    fg_wipe(ks, sizeof *ks);
    free(ks);
}

fg_rc fg_sys_keyset_load(fg_keys *keys, int with_private, struct fg_sys_keyset **out)
{
    assert(keys != NULL && out != NULL);
    struct fg_keys_state st;
    fg_keys_state(keys, &st);
    if (!st.initialized)
        return FG_ERR_CONFLICT;
    if (st.sealed)
        return FG_ERR_SEALED;
    struct versions v = {0};
    fg_rc rc = fg_keys_list(keys, collect_versions, &v);
    if (rc)
        return rc;
    if (v.naudit == 0 || v.nsign == 0)
        return FG_ERR_CORRUPT;
    struct fg_sys_keyset *ks = calloc(1, sizeof *ks);
    if (ks == NULL)
        return FG_ERR_NOMEM;
    ks->secret = fg_secure_alloc((FG_AUDIT_MAC_KEYS_MAX + 1) * FG_KEY_LEN);
    if (ks->secret == NULL) {
        free(ks);
        return FG_ERR_NOMEM;
    }
    for (size_t i = 0; rc == FG_OK && i < v.naudit; i++) {
        uint32_t got = 0;
        uint8_t *slot = ks->secret + i * FG_KEY_LEN;
        rc = fg_keys_borrow(keys, FG_KEY_AUDIT, v.audit[i], slot, &got);
        ks->mac[i] = (struct fg_audit_mac_key){.version = got, .key = slot, .len = FG_KEY_LEN};
    }
    for (size_t i = 0; rc == FG_OK && i < v.nsign; i++) {
        size_t len = 0;
        uint32_t got = 0;
        rc = fg_keys_sign_public(keys, v.sign[i], ks->pub_bytes[i], &len, &got);
        ks->pub[i] =
            (struct fg_audit_public_key){.version = got, .key = ks->pub_bytes[i], .len = len};
    }
    ks->keys = (struct fg_audit_keys){.suite = st.suite,
                                      .mac_keys = ks->mac,
                                      .mac_key_count = v.naudit,
                                      .public_keys = ks->pub,
                                      .public_key_count = v.nsign};
    if (rc == FG_OK && with_private) {
        uint8_t *priv = ks->secret + FG_AUDIT_MAC_KEYS_MAX * FG_KEY_LEN;
        rc = fg_keys_borrow(keys, FG_KEY_SIGN, 0, priv, &ks->keys.sign_version);
        ks->keys.sign_private = priv;
    }
    if (rc) {
        fg_sys_keyset_free(ks);
        return rc;
    }
    *out = ks;
    return FG_OK;
}

const struct fg_audit_keys *fg_sys_keyset_keys(const struct fg_sys_keyset *ks)
{
    return &ks->keys;
}

/* ---- arming the audit log ---------------------------------------------------------- */

static fg_rc open_log(struct fg_sys *sys, const struct fg_audit_keys *keys, fg_audit_log **out)
{
    struct fg_audit_options o = {.keys = *keys,
                                 .anchor_path = sys->anchor,
                                 .checkpoint_records = sys->checkpoint_records,
                                 .checkpoint_interval_ms = sys->checkpoint_interval_ms};
    return fg_audit_open(&o, out);
}

/* Caller holds sys->mu. */
static fg_rc arm_from_keyring(struct fg_sys *sys)
{
    if (sys->audit != NULL)
        return FG_OK;
    struct fg_sys_keyset *ks;
    fg_rc rc = fg_sys_keyset_load(sys->keys, 1, &ks);
    if (rc)
        return rc;
    fg_audit_log *log;
    rc = open_log(sys, &ks->keys, &log);
    fg_sys_keyset_free(ks);
    if (rc)
        return rc;
    attach_hooks(sys, log);
    sys->audit = log;
    return FG_OK;
}

/* Caller holds sys->mu. The store must have completed every batch that used the hooks. */
static void disarm(struct fg_sys *sys, fg_audit_log *log)
{
    fg_store_set_hooks(sys->store, NULL);
    fg_audit_close(log);
    if (sys->audit == log)
        sys->audit = NULL;
}

/* ---- open / close ------------------------------------------------------------------ */

static fg_rc count_row(void *ctx, const struct fg_val *cols, int ncols)
{
    if (ncols != 1 || cols[0].type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    *(uint64_t *)ctx += (uint64_t)cols[0].i;
    return FG_OK;
}

static fg_rc audit_key_usage(void *ctx, fg_conn *conn, enum fg_key_purpose purpose,
                             uint32_t version, uint64_t *count)
{
    (void)ctx;
    if (purpose != FG_KEY_AUDIT)
        return FG_OK;
    struct fg_val p[] = {FG_VINT(version)};
    return fg_conn_exec(conn, "SELECT count(*) FROM audit_log WHERE key_version = ?1", p, 1,
                        count_row, count, NULL);
}

static fg_rc dev_start(struct fg_sys *sys)
{
    fg_log(FG_LOG_WARN, "keys.dev_mode",
           FG_LF_STR("note", "DEVELOPMENT MODE: the root key is stored in the data directory; "
                             "split knowledge is void. Never use this for real data."));
    fg_rc rc = fg_keys_dev_enable(sys->keys, sys->data_dir);
    if (rc)
        return rc;
    struct fg_keys_state st;
    fg_keys_state(sys->keys, &st);
    if (!st.initialized) {
        char share[1][FG_KEYS_SHARE_TEXT_MAX];
        const char *problem = NULL;
        struct fg_audit_actor who = {.actor_id = "system", .actor_role = "system"};
        rc = fg_sys_init(sys, FG_SUITE_INTL, 1, 1, &who, share, &problem);
        fg_wipe(share, sizeof share);
        if (rc)
            fg_log(FG_LOG_ERROR, "keys.dev_init_failed", FG_LF_STR("rc", fg_rc_name(rc)),
                   FG_LF_STR("problem", problem ? problem : ""));
        return rc;
    }
    const char *problem = NULL;
    rc = fg_keys_dev_unseal(sys->keys, sys->data_dir, &problem);
    if (rc) {
        fg_log(FG_LOG_ERROR, "keys.dev_unseal_failed", FG_LF_STR("rc", fg_rc_name(rc)),
               FG_LF_STR("problem", problem ? problem : ""));
        return rc;
    }
    pthread_mutex_lock(&sys->mu);
    rc = arm_from_keyring(sys);
    pthread_mutex_unlock(&sys->mu);
    if (rc)
        return rc;
    struct fg_audit_record rec;
    struct fg_audit_actor who = {.actor_id = "system", .actor_role = "system"};
    rc = fg_sys_unseal_record(sys, &who, "dev_key_file", &rec);
    if (rc == FG_OK)
        rc = fg_audit_write(sys->store, fg_sys_record_event_intent, &rec, &rec);
    return rc;
}

fg_rc fg_sys_open(const struct fg_sys_options *opt, struct fg_sys **out)
{
    assert(opt != NULL && opt->store != NULL && opt->data_dir != NULL && out != NULL);
    struct fg_sys *sys = calloc(1, sizeof *sys);
    if (sys == NULL)
        return FG_ERR_NOMEM;
    pthread_mutex_init(&sys->mu, NULL);
    sys->store = opt->store;
    sys->checkpoint_records = opt->checkpoint_records;
    sys->checkpoint_interval_ms = opt->checkpoint_interval_ms;
    if (snprintf(sys->data_dir, sizeof sys->data_dir, "%s", opt->data_dir) >=
            (int)sizeof sys->data_dir ||
        snprintf(sys->anchor, sizeof sys->anchor, "%s/%s", opt->data_dir, ANCHOR_FILE) >=
            (int)sizeof sys->anchor) {
        fg_sys_close(sys);
        return FG_ERR_LIMIT;
    }
    fg_rc rc = fg_crypto_init();
    if (rc == FG_OK)
        rc = fg_keys_new(opt->store, &sys->keys);
    /* Usage counters a key destroy must ask: protected columns, and the audit chain (a
     * record names the MAC key version that chains it; destroying it would make those
     * records unverifiable — retention expires them first). */
    if (rc == FG_OK)
        rc = fg_protect_attach(sys->keys);
    if (rc == FG_OK)
        rc = fg_keys_add_usage_counter(sys->keys, audit_key_usage, NULL);
    if (rc == FG_OK && opt->dev_mode)
        rc = dev_start(sys);
    if (rc) {
        fg_sys_close(sys);
        return rc;
    }
    *out = sys;
    return FG_OK;
}

void fg_sys_shutdown(struct fg_sys *sys)
{
    if (sys == NULL || sys->audit == NULL)
        return;
    struct fg_audit_record rec;
    struct fg_audit_actor who = {.actor_id = "system", .actor_role = "system"};
    fg_rc rc = fg_audit_record_init(&rec, &who, "sys.seal", "instance", NULL);
    if (rc == FG_OK)
        rc = fg_audit_record_details(&rec, "{\"reason\":\"shutdown\"}", 21);
    if (rc == FG_OK)
        rc = fg_audit_write(sys->store, fg_sys_record_event_intent, &rec, &rec);
    if (rc == FG_OK)
        rc = fg_audit_checkpoint_now(sys->store, sys->audit);
    if (rc)
        fg_log(FG_LOG_ERROR, "sys.shutdown_audit_failed", FG_LF_STR("rc", fg_rc_name(rc)));
}

void fg_sys_close(struct fg_sys *sys)
{
    if (sys == NULL)
        return;
    fg_keys_free(sys->keys); /* seals: wipes the root key and the keyring */
    fg_audit_close(sys->audit);
    pthread_mutex_destroy(&sys->mu);
    free(sys);
}

void fg_sys_state(struct fg_sys *sys, struct fg_keys_state *out)
{
    fg_keys_state(sys->keys, out);
}

int fg_sys_sealed(struct fg_sys *sys)
{
    if (atomic_load(&sys->sealing))
        return 1;
    struct fg_keys_state st;
    fg_keys_state(sys->keys, &st);
    return st.sealed;
}

int fg_sys_audit_ready(struct fg_sys *sys)
{
    if (atomic_load(&sys->sealing))
        return 0;
    pthread_mutex_lock(&sys->mu);
    int armed = sys->audit != NULL;
    pthread_mutex_unlock(&sys->mu);
    return armed;
}

void fg_sys_seal_begin(struct fg_sys *sys)
{
    atomic_store(&sys->sealing, 1);
}

fg_rc fg_sys_seal_finish(struct fg_sys *sys)
{
    fg_rc rc = FG_OK;
    if (sys->audit != NULL)
        rc = fg_audit_checkpoint_now(sys->store, sys->audit); /* anchor the tail first */
    /* an intent that slipped in must not run against a closed log: one more batch boundary */
    pthread_mutex_lock(&sys->mu);
    fg_store_set_hooks(sys->store, NULL);
    pthread_mutex_unlock(&sys->mu);
    fg_rc sync = fg_store_write(sys->store, fg_audit_record_only, NULL);
    (void)sync;
    pthread_mutex_lock(&sys->mu);
    fg_audit_close(sys->audit);
    sys->audit = NULL;
    fg_keys_seal(sys->keys);
    atomic_store(&sys->sealing, 0); /* sealed now by the keys themselves */
    pthread_mutex_unlock(&sys->mu);
    fg_log(FG_LOG_WARN, "sys.sealed", FG_LF_STR("how", "command"));
    return rc;
}

fg_keys *fg_sys_keys(struct fg_sys *sys)
{
    return sys->keys;
}

const char *fg_sys_data_dir(const struct fg_sys *sys)
{
    return sys->data_dir;
}

const char *fg_sys_anchor_path(const struct fg_sys *sys)
{
    return sys->anchor;
}

/* ---- initialisation ---------------------------------------------------------------- */

static fg_rc arm_pending(struct fg_sys *sys, struct fg_sys_init *init, enum fg_suite suite)
{
    uint8_t *secret = fg_secure_alloc(2 * FG_KEY_LEN);
    if (secret == NULL)
        return FG_ERR_NOMEM;
    uint8_t *mac = secret, *priv = secret + FG_KEY_LEN;
    uint8_t pub[FG_SIGN_PUBLIC_MAX];
    size_t pub_len = 0;
    fg_rc rc = fg_keys_op_key(init->op, FG_KEY_AUDIT, mac);
    if (rc == FG_OK)
        rc = fg_keys_op_key(init->op, FG_KEY_SIGN, priv);
    if (rc == FG_OK)
        rc = fg_sign_public(suite, priv, pub, &pub_len);
    if (rc == FG_OK) {
        struct fg_audit_mac_key mk = {.version = 1, .key = mac, .len = FG_KEY_LEN};
        struct fg_audit_public_key pk = {.version = 1, .key = pub, .len = pub_len};
        struct fg_audit_keys keys = {.suite = suite,
                                     .mac_keys = &mk,
                                     .mac_key_count = 1,
                                     .sign_private = priv,
                                     .sign_version = 1,
                                     .public_keys = &pk,
                                     .public_key_count = 1};
        rc = open_log(sys, &keys, &init->log);
    }
    fg_secure_free(secret);
    if (rc == FG_OK) {
        attach_hooks(sys, init->log);
        sys->audit = init->log;
    }
    return rc;
}

fg_rc fg_sys_init_prepare(struct fg_sys *sys, enum fg_suite suite, unsigned shares,
                          unsigned threshold, const struct fg_audit_actor *who,
                          struct fg_sys_init **out, const char **problem)
{
    assert(sys != NULL && out != NULL);
    struct fg_sys_init *init = calloc(1, sizeof *init);
    if (init == NULL)
        return FG_ERR_NOMEM;
    fg_rc rc = fg_keys_init_prepare(sys->keys, suite, shares, threshold, &init->op, problem);
    if (rc == FG_OK)
        rc = fg_audit_record_init(&init->record, who, "sys.init", "instance", NULL);
    if (rc == FG_OK) {
        char details[128];
        int n = snprintf(details, sizeof details,
                         "{\"suite\":\"%s\",\"custodians\":%u,\"threshold\":%u}",
                         fg_suite_name(suite), shares, threshold);
        rc = fg_audit_record_details(&init->record, details, (size_t)n);
    }
    if (rc == FG_OK) {
        pthread_mutex_lock(&sys->mu);
        if (sys->audit != NULL)
            rc = FG_ERR_CONFLICT; /* initialised (or an init is in flight) */
        else
            rc = arm_pending(sys, init, suite);
        pthread_mutex_unlock(&sys->mu);
        if (rc == FG_ERR_CONFLICT && problem)
            *problem = "the instance is already initialised";
    }
    if (rc) {
        fg_sys_init_free(init);
        return rc;
    }
    *out = init;
    return FG_OK;
}

void *fg_sys_init_arg(struct fg_sys_init *init)
{
    return init->op;
}

fg_rc fg_sys_init_intent(fg_conn *conn, void *arg)
{
    struct fg_sys_init *init = arg;
    fg_rc rc = fg_keys_op_intent(conn, init->op);
    return rc != FG_OK ? rc : fg_sys_record_event(conn, &init->record);
}

struct fg_audit_record *fg_sys_init_record(struct fg_sys_init *init)
{
    return &init->record;
}

fg_rc fg_sys_init_finish(struct fg_sys *sys, struct fg_sys_init *init, fg_rc rc,
                         const char **problem)
{
    pthread_mutex_lock(&sys->mu);
    if (rc == FG_OK) {
        rc = fg_keys_op_commit(sys->keys, init->op);
        if (rc == FG_ERR_IO) /* dev key file not written; the keys are published */
            fg_log(FG_LOG_ERROR, "keys.dev_file_failed");
        init->log = NULL; /* now owned by sys->audit */
        rc = FG_OK;
    } else {
        if (problem && fg_keys_op_problem(init->op))
            *problem = fg_keys_op_problem(init->op);
        disarm(sys, init->log);
        init->log = NULL;
    }
    pthread_mutex_unlock(&sys->mu);
    return rc;
}

unsigned fg_sys_init_share_count(const struct fg_sys_init *init)
{
    return fg_keys_op_share_count(init->op);
}

const char *fg_sys_init_share(const struct fg_sys_init *init, unsigned i)
{
    return fg_keys_op_share(init->op, i);
}

void fg_sys_init_free(struct fg_sys_init *init)
{
    if (init == NULL)
        return;
    assert(init->log == NULL); /* finished, or never armed */
    fg_keys_op_free(init->op);
    fg_wipe(&init->record, sizeof init->record);
    free(init);
}

fg_rc fg_sys_init(struct fg_sys *sys, enum fg_suite suite, unsigned shares, unsigned threshold,
                  const struct fg_audit_actor *who, char share_text[][FG_KEYS_SHARE_TEXT_MAX],
                  const char **problem)
{
    struct fg_sys_init *init;
    fg_rc rc = fg_sys_init_prepare(sys, suite, shares, threshold, who, &init, problem);
    if (rc)
        return rc;
    rc = fg_audit_write(sys->store, fg_sys_init_intent, init, fg_sys_init_record(init));
    rc = fg_sys_init_finish(sys, init, rc, problem);
    for (unsigned i = 0; rc == FG_OK && i < fg_sys_init_share_count(init); i++)
        snprintf(share_text[i], FG_KEYS_SHARE_TEXT_MAX, "%s", fg_sys_init_share(init, i));
    fg_sys_init_free(init);
    return rc;
}

/* ---- unseal ------------------------------------------------------------------------ */

fg_rc fg_sys_unseal(struct fg_sys *sys, const char *share_text, struct fg_keys_state *st,
                    int *just_unsealed, const char **problem)
{
    assert(sys != NULL && share_text != NULL && just_unsealed != NULL);
    *just_unsealed = 0;
    struct fg_keys_state before;
    fg_keys_state(sys->keys, &before);
    fg_rc rc = fg_keys_unseal_submit(sys->keys, share_text, st, problem);
    pthread_mutex_lock(&sys->mu);
    if (rc) {
        sys->failed_unseals++;
    } else if (before.sealed && st != NULL && !st->sealed) {
        rc = arm_from_keyring(sys);
        if (rc == FG_OK)
            *just_unsealed = 1;
        else
            fg_keys_seal(sys->keys); /* no audit, no service */
    }
    void (*on_unseal)(void *) = *just_unsealed ? sys->on_unseal : NULL;
    void *on_unseal_ctx = sys->on_unseal_ctx;
    pthread_mutex_unlock(&sys->mu);
    if (on_unseal != NULL)
        on_unseal(on_unseal_ctx); /* may write: the audit log is armed */
    return rc;
}

fg_rc fg_sys_unseal_record(struct fg_sys *sys, const struct fg_audit_actor *who, const char *how,
                           struct fg_audit_record *rec)
{
    fg_rc rc = fg_audit_record_init(rec, who, "sys.unseal", "instance", NULL);
    if (rc)
        return rc;
    pthread_mutex_lock(&sys->mu);
    unsigned failed = sys->failed_unseals;
    sys->failed_unseals = 0;
    pthread_mutex_unlock(&sys->mu);
    char details[128];
    int n = snprintf(details, sizeof details, "{\"method\":\"%s\",\"failed_attempts\":%u}", how,
                     failed);
    return fg_audit_record_details(rec, details, (size_t)n);
}

/* ---- key changes -------------------------------------------------------------------------- */

/* Run a prepared keyring op with its record and event as one intent, then publish it. */
static fg_rc run_keys_op(struct fg_sys *sys, struct fg_keys_op *op, struct fg_audit_record *rec,
                         const char **problem)
{
    if (sys->audit == NULL) {
        fg_keys_op_free(op);
        return FG_ERR_SEALED; /* no audit log, no key change */
    }
    struct keys_op_job job = {.op = op, .rec = rec};
    fg_rc rc = fg_audit_write(sys->store, keys_op_event_intent, &job, rec);
    if (rc == FG_OK)
        rc = fg_keys_op_commit(sys->keys, op);
    else if (problem != NULL && fg_keys_op_problem(op) != NULL)
        *problem = fg_keys_op_problem(op);
    fg_keys_op_free(op);
    return rc;
}

/* A key operation refused before it reached the writer still leaves a denied record
 * (when the audit log is armed: while sealed nothing can be MAC'd). */
static void audit_refusal(struct fg_sys *sys, const char *action, enum fg_key_purpose purpose,
                          uint32_t version, const struct fg_audit_actor *who, fg_rc why)
{
    if (sys->audit == NULL)
        return;
    struct fg_audit_record rec;
    char details[96];
    int n = snprintf(details, sizeof details, "{\"purpose\":\"%s\",\"version\":%u}",
                     fg_key_purpose_name(purpose) ? fg_key_purpose_name(purpose) : "?", version);
    if (fg_audit_record_init(&rec, who, action, "key", fg_key_purpose_name(purpose)) != FG_OK ||
        fg_audit_record_details(&rec, details, (size_t)n) != FG_OK ||
        fg_audit_write_denied(sys->store, &rec, why) != FG_OK)
        fg_log(FG_LOG_ERROR, "sys.audit_refusal_failed", FG_LF_STR("action", action));
}

fg_rc fg_sys_keys_rotate(struct fg_sys *sys, enum fg_key_purpose purpose,
                         const struct fg_audit_actor *who, uint32_t *new_version,
                         const char **problem)
{
    struct fg_keys_op *op;
    fg_rc rc = fg_keys_rotate_prepare(sys->keys, purpose, &op, problem);
    if (rc) {
        audit_refusal(sys, "keys.rotate", purpose, 0, who, rc);
        return rc;
    }
    uint32_t version = fg_keys_op_version(op);
    struct fg_audit_record rec;
    char details[96];
    int n = snprintf(details, sizeof details, "{\"purpose\":\"%s\",\"version\":%u}",
                     fg_key_purpose_name(purpose), version);
    rc = fg_audit_record_init(&rec, who, "keys.rotate", "key", fg_key_purpose_name(purpose));
    if (rc == FG_OK)
        rc = fg_audit_record_details(&rec, details, (size_t)n);
    if (rc) {
        fg_keys_op_free(op);
        return rc;
    }
    rc = run_keys_op(sys, op, &rec, problem);
    if (rc == FG_OK && new_version != NULL)
        *new_version = version;
    return rc;
}

fg_rc fg_sys_keys_destroy(struct fg_sys *sys, enum fg_key_purpose purpose, uint32_t version,
                          const char *share_a, const char *share_b,
                          const struct fg_audit_actor *who, const char **problem)
{
    struct fg_keys_op *op;
    fg_rc rc = fg_keys_destroy_prepare(sys->keys, purpose, version, share_a, share_b, &op, problem);
    if (rc) {
        audit_refusal(sys, "keys.destroy", purpose, version, who, rc);
        return rc;
    }
    struct fg_audit_record rec;
    char details[128];
    int n = snprintf(details, sizeof details,
                     "{\"purpose\":\"%s\",\"version\":%u,\"method\":\"crypto-shred\","
                     "\"custodians\":2}",
                     fg_key_purpose_name(purpose), version);
    rc = fg_audit_record_init(&rec, who, "keys.destroy", "key", fg_key_purpose_name(purpose));
    if (rc == FG_OK)
        rc = fg_audit_record_details(&rec, details, (size_t)n);
    if (rc) {
        fg_keys_op_free(op);
        return rc;
    }
    return run_keys_op(sys, op, &rec, problem);
}
