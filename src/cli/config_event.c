/*
 * config_event.c — config.changed: `finguard serve` notices that the effective configuration
 * differs from the one it last ran with (issue #6; REQUIREMENTS MON-1, GOV-5;
 * docs/events.md "System and keys"; table config_state, migrations/0013_config_state.sql).
 *
 * What is compared: every row of fg_config_table (base/config.h), its value as text (INT in
 * decimal, BOOL "true"/"false", STRING/ENUM as given). The database keeps one digest per
 * setting, never the value: plain SHA-256 hex, or for a SENSITIVE setting (the metrics
 * token) "i<version>:" + HMAC(suite hash, that version of the `index` key, "config." name
 * 0x00 value) — an unkeyed hash of a short secret could be guessed from a copy of the
 * database. A keyed digest is recomputed with the version it names; a destroyed version
 * counts as a change (reported once, then re-recorded under the active version).
 *
 * When any setting differs (changed, added by an upgrade, or gone from the table), ONE
 * audited write intent — record "config.changed", actor "system" — rewrites those rows and
 * emits the event config.changed [actor "system", object "config"] with attrs
 *   settings   comma list of the changed names in table order ("monitor.memory_mb"), at
 *              most CONFIG_EVENT_SETTINGS_MAX bytes; the names that do not fit are counted
 *              in `more`
 *   count      how many settings changed
 *   baseline   false; true on the first run (config_state empty): every setting is
 *              recorded and `settings` is "*" (the full list would not fit an event)
 * Nothing is written when nothing changed. Never a value: names only.
 *
 * When: right after start-up once the audit log is armed (dev mode, or an instance that is
 * unsealed at start). A server that starts sealed has no audit log yet, so the check runs
 * at its first unseal instead (fg_sys_set_unseal_listener, on the worker that submitted the
 * last share; its config.changed record precedes that unseal's "sys.unseal" record) and
 * again after every later unseal, where it finds nothing new. An instance initialised by
 * this run records its baseline at its next unseal. A failure is logged
 * (serve.config_state_failed), never fatal: the server keeps serving.
 *
 * Threads: fg_cli_config_event_start on the main thread at start-up; the check itself on
 * that thread or the unsealing worker, blocking on a read lease and the writer. One server
 * per process (the unseal listener's context is static).
 */
#include "cli/serve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/encode.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "event/event.h"
#include "keys/keys.h"
#include "store/store.h"
#include "sys/sys.h"

/* Rows config_state may hold (the table has ~45 settings; old rows of removed ones too). */
#define CONFIG_STATE_ROWS_MAX 256u
/* "section.name" and its digest text, including the NUL. */
#define CONFIG_NAME_SIZE 65u
#define CONFIG_DIGEST_SIZE 81u
/* Bytes of the comma list of names in the event (attrs ≤ FG_EVENT_ATTRS_MAX). */
#define CONFIG_EVENT_SETTINGS_MAX 640u
/* The longest value as text: a string setting or an int64 in decimal. */
#define CONFIG_VALUE_SIZE (FG_CFG_STR_MAX + 1u)

struct config_row {
    char name[CONFIG_NAME_SIZE];
    char digest[CONFIG_DIGEST_SIZE];
    int seen; /* matched a setting of the table */
    int changed;
};

struct config_state {
    struct config_row rows[CONFIG_STATE_ROWS_MAX]; /* current digests (changed) or stored */
    size_t nrows;
    struct config_row stored[CONFIG_STATE_ROWS_MAX];
    size_t nstored;
    size_t nchanged;
    int64_t now_ms;
};

/* ---- values and digests ------------------------------------------------------------------ */

/* The setting's value as text into out (CONFIG_VALUE_SIZE); its length. */
static size_t value_text(const struct fg_config *cfg, const struct fg_config_entry *e,
                         char out[CONFIG_VALUE_SIZE])
{
    const char *field = (const char *)cfg + e->offset;
    int64_t v;
    int b;
    switch (e->type) {
    case FG_CFG_INT:
        memcpy(&v, field, sizeof v);
        return (size_t)snprintf(out, CONFIG_VALUE_SIZE, "%" PRId64, v);
    case FG_CFG_BOOL:
        memcpy(&b, field, sizeof b);
        return (size_t)snprintf(out, CONFIG_VALUE_SIZE, "%s", b ? "true" : "false");
    case FG_CFG_STRING:
    case FG_CFG_ENUM:
        break;
    }
    size_t n = strnlen(field, e->size < CONFIG_VALUE_SIZE ? e->size : CONFIG_VALUE_SIZE - 1);
    memcpy(out, field, n);
    out[n] = '\0';
    return n;
}

struct keyed {
    const char *name;
    const char *value;
    size_t len;
    uint8_t mac[FG_HASH_LEN];
    uint32_t version;
};

static fg_rc keyed_mac(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                       enum fg_suite suite)
{
    struct keyed *k = ctx;
    struct fg_hmac_ctx *h = NULL;
    static const char prefix[] = "config.";
    fg_rc rc = fg_hmac_begin(fg_suite_hash(suite), key, FG_KEY_LEN, &h);
    if (rc == FG_OK)
        rc = fg_hmac_update(h, prefix, sizeof prefix - 1);
    if (rc == FG_OK)
        rc = fg_hmac_update(h, k->name, strlen(k->name) + 1); /* name ‖ 0x00 */
    if (rc == FG_OK)
        rc = fg_hmac_update(h, k->value, k->len);
    if (rc) {
        fg_hmac_abort(h);
        return rc;
    }
    k->version = version;
    return fg_hmac_end(h, k->mac);
}

/* The digest text of one value: plain SHA-256 hex, or keyed under `version` of the index
 * key (0 = active) when sensitive. */
static fg_rc digest_of(fg_keys *keys, const char *name, const char *value, size_t len,
                       int sensitive, uint32_t version, char out[CONFIG_DIGEST_SIZE])
{
    uint8_t h[FG_HASH_LEN];
    if (!sensitive) {
        fg_rc rc = fg_hash(FG_HASH_SHA256, value, len, h);
        return rc != FG_OK ? rc : fg_hex_encode(h, sizeof h, out, CONFIG_DIGEST_SIZE);
    }
    struct keyed k = {.name = name, .value = value, .len = len};
    fg_rc rc = fg_keys_use(keys, FG_KEY_INDEX, version, keyed_mac, &k);
    int n = rc == FG_OK ? snprintf(out, CONFIG_DIGEST_SIZE, "i%" PRIu32 ":", k.version) : 0;
    if (rc == FG_OK)
        rc = fg_hex_encode(k.mac, sizeof k.mac, out + n, CONFIG_DIGEST_SIZE - (size_t)n);
    fg_wipe(&k, sizeof k);
    return rc;
}

/* The version a keyed digest names ("i7:…" → 7), 0 for a plain one or garbage. */
static uint32_t keyed_version(const char *digest)
{
    if (digest[0] != 'i')
        return 0;
    uint32_t v = 0;
    const char *p = digest + 1;
    for (int digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits == 9)
            return 0;
        v = v * 10u + (uint32_t)(*p - '0');
    }
    return *p == ':' ? v : 0;
}

/* ---- compare ------------------------------------------------------------------------------- */

static fg_rc stored_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct config_state *st = ctx;
    if (ncols != 2 || cols[0].type != FG_VAL_TEXT || cols[1].type != FG_VAL_TEXT ||
        cols[0].n >= CONFIG_NAME_SIZE || cols[1].n >= CONFIG_DIGEST_SIZE)
        return FG_ERR_CORRUPT;
    if (st->nstored == CONFIG_STATE_ROWS_MAX)
        return FG_ERR_LIMIT;
    struct config_row *r = &st->stored[st->nstored++];
    memcpy(r->name, cols[0].p, cols[0].n);
    memcpy(r->digest, cols[1].p, cols[1].n);
    return FG_OK;
}

static struct config_row *find_stored(struct config_state *st, const char *name)
{
    for (size_t i = 0; i < st->nstored; i++)
        if (strcmp(st->stored[i].name, name) == 0)
            return &st->stored[i];
    return NULL;
}

/* One setting: its digest in the form its stored row uses; changed if it differs. */
static fg_rc compare_one(struct config_state *st, const struct fg_config *cfg, fg_keys *keys,
                         const struct fg_config_entry *e)
{
    if (st->nrows == CONFIG_STATE_ROWS_MAX)
        return FG_ERR_LIMIT;
    struct config_row *r = &st->rows[st->nrows++];
    if (snprintf(r->name, sizeof r->name, "%s.%s", e->section, e->name) >= (int)sizeof r->name)
        return FG_ERR_LIMIT;
    int sensitive = (e->flags & FG_CFG_SENSITIVE) != 0;
    char value[CONFIG_VALUE_SIZE];
    size_t len = value_text(cfg, e, value);
    struct config_row *old = find_stored(st, r->name);
    uint32_t version = old != NULL && sensitive ? keyed_version(old->digest) : 0;
    fg_rc rc = digest_of(keys, r->name, value, len, sensitive, version, r->digest);
    if (rc != FG_OK && version != 0) /* that index key version is gone: a change, re-keyed */
        rc = digest_of(keys, r->name, value, len, sensitive, 0, r->digest);
    fg_wipe(value, sizeof value);
    if (rc)
        return rc;
    if (old != NULL)
        old->seen = 1;
    r->changed = old == NULL || strlen(old->digest) != strlen(r->digest) ||
                 !fg_ct_equal(old->digest, r->digest, strlen(r->digest));
    return FG_OK;
}

/* Every setting compared; stored rows of settings no longer in the table count too. */
static fg_rc compare_all(struct config_state *st, const struct fg_config *cfg, fg_keys *keys)
{
    fg_rc rc = FG_OK;
    for (const struct fg_config_entry *e = fg_config_table; rc == FG_OK && e->section; e++)
        rc = compare_one(st, cfg, keys, e);
    for (size_t i = 0; rc == FG_OK && i < st->nstored; i++) {
        if (st->stored[i].seen)
            continue;
        if (st->nrows == CONFIG_STATE_ROWS_MAX)
            return FG_ERR_LIMIT;
        struct config_row *r = &st->rows[st->nrows++];
        memcpy(r->name, st->stored[i].name, sizeof r->name);
        r->digest[0] = '\0'; /* deleted */
        r->changed = 1;
    }
    for (size_t i = 0; i < st->nrows; i++)
        st->nchanged += (size_t)st->rows[i].changed;
    return rc;
}

/* ---- record, event and rows in one intent --------------------------------------------------- */

struct config_job {
    struct config_state *st;
    struct fg_audit_record rec;
};

static fg_rc config_intent(fg_conn *conn, void *arg)
{
    struct config_job *job = arg;
    const struct config_state *st = job->st;
    fg_rc rc = FG_OK;
    for (size_t i = 0; rc == FG_OK && i < st->nrows; i++) {
        const struct config_row *r = &st->rows[i];
        if (!r->changed)
            continue;
        if (r->digest[0] == '\0') {
            struct fg_val p[] = {FG_VSTR(r->name)};
            rc = fg_conn_exec(conn, "DELETE FROM config_state WHERE name = ?1", p, 1, NULL, NULL,
                              NULL);
        } else {
            struct fg_val p[] = {FG_VSTR(r->name), FG_VSTR(r->digest), FG_VINT(st->now_ms)};
            rc = fg_conn_exec(conn,
                              "INSERT INTO config_state (name, digest, updated_ms) "
                              "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
                              "digest = excluded.digest, updated_ms = excluded.updated_ms",
                              p, 3, NULL, NULL, NULL);
        }
    }
    if (rc == FG_OK) {
        struct fg_event e = fg_event_of_record(&job->rec, "config.changed", "config", "");
        e.attrs_json = job->rec.details;
        rc = fg_event_emit(conn, &e, st->now_ms);
    }
    return rc;
}

/* attrs / details: settings (names, or "*" for the baseline), count, baseline, more. */
static fg_rc details_json(const struct config_state *st, int baseline, char **out)
{
    char list[CONFIG_EVENT_SETTINGS_MAX + 1] = "";
    size_t used = 0, more = 0;
    for (size_t i = 0; !baseline && i < st->nrows; i++) {
        const struct config_row *r = &st->rows[i];
        if (!r->changed)
            continue;
        size_t need = strlen(r->name) + (used > 0);
        if (more > 0 || used + need > CONFIG_EVENT_SETTINGS_MAX) {
            more++;
            continue;
        }
        used +=
            (size_t)snprintf(list + used, sizeof list - used, "%s%s", used > 0 ? "," : "", r->name);
    }
    json_t *d = json_pack("{s:s, s:I, s:b}", "settings", baseline ? "*" : list, "count",
                          (json_int_t)st->nchanged, "baseline", baseline);
    if (d != NULL && more > 0 &&
        json_object_set_new(d, "more", json_integer((json_int_t)more)) != 0) {
        json_decref(d);
        d = NULL;
    }
    *out = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    return *out != NULL ? FG_OK : FG_ERR_NOMEM;
}

static fg_rc config_check(const struct fg_config *cfg, struct fg_sys *sys, fg_store *store,
                          size_t *changed, int *baseline)
{
    struct config_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return FG_ERR_NOMEM;
    fg_conn *conn = NULL;
    fg_rc rc = fg_store_read_acquire(store, &conn);
    if (rc == FG_OK) {
        rc = fg_conn_exec(conn, "SELECT name, digest FROM config_state ORDER BY name", NULL, 0,
                          stored_row, st, NULL);
        fg_store_read_release(store, conn);
    }
    if (rc == FG_OK)
        rc = compare_all(st, cfg, fg_sys_keys(sys));
    *changed = st->nchanged;
    *baseline = st->nstored == 0;
    char *details = NULL;
    struct config_job job = {.st = st};
    if (rc == FG_OK && st->nchanged > 0) {
        static const struct fg_audit_actor who = {.actor_id = "system", .actor_role = "system"};
        st->now_ms = fg_time_wall_ms();
        rc = details_json(st, *baseline, &details);
        if (rc == FG_OK)
            rc = fg_audit_record_init(&job.rec, &who, "config.changed", "config", NULL);
        if (rc == FG_OK)
            rc = fg_audit_record_details(&job.rec, details, strlen(details));
        if (rc == FG_OK && !fg_sys_audit_ready(sys))
            rc = FG_ERR_SEALED; /* sealed again meanwhile: never an unaudited write */
        if (rc == FG_OK)
            rc = fg_audit_write(store, config_intent, &job, &job.rec);
    }
    free(details);
    fg_wipe(st, sizeof *st);
    free(st);
    return rc;
}

/* ---- start-up -------------------------------------------------------------------------------- */

static struct {
    const struct fg_config *cfg;
    struct fg_sys *sys;
    fg_store *store;
} watch; /* one server per process */

static void config_run(void *ctx)
{
    (void)ctx;
    size_t changed = 0;
    int baseline = 0;
    fg_rc rc = config_check(watch.cfg, watch.sys, watch.store, &changed, &baseline);
    if (rc)
        fg_log(FG_LOG_ERROR, "serve.config_state_failed", FG_LF_STR("rc", fg_rc_name(rc)));
    else if (changed > 0)
        fg_log(FG_LOG_INFO, "serve.config_changed", FG_LF_INT("settings", (int64_t)changed),
               FG_LF_BOOL("baseline", baseline));
}

void fg_cli_config_event_start(const struct fg_config *cfg, struct fg_sys *sys, fg_store *store)
{
    watch.cfg = cfg;
    watch.sys = sys;
    watch.store = store;
    fg_sys_set_unseal_listener(sys, config_run, NULL); /* every later unseal: a no-op check */
    if (fg_sys_audit_ready(sys))
        config_run(NULL);
    else
        fg_log(FG_LOG_INFO, "serve.config_state_deferred",
               FG_LF_STR("note", "sealed: the configuration is compared at unseal"));
}
