/*
 * keys.c — the key hierarchy's state machine: initialisation, unseal/seal, rotation,
 * destruction and borrowing (see keys.h; stored side in keyring.c, shares in shares.c).
 *
 * An fg_keys is "sealed" exactly when it holds no vault. The vault is one fg_secure_alloc
 * block (locked, guarded) with the root key and a fixed table of slots, one per live key
 * version; unseal progress is a second locked block with the shares submitted so far. Both
 * are wiped and freed by seal, so there is one place where secrets end. A reader-writer
 * lock (writer-preferring, so a seal is never starved) guards everything; fg_keys_use runs
 * its callback under the read lock so keys are used in place, never copied.
 *
 * The database is never read with the lock held (a lease can wait for a pool that is held
 * by threads waiting for this lock): unseal reads the wrapped keyring first and then takes
 * the write lock, retrying if a committed rotation or destruction (which bump
 * `generation`) slipped in between. Changes are ops in three steps — prepare (generate
 * and wrap in memory), intent (write, on the writer thread, no lock), commit (publish
 * under the write lock) — so that the caller can put its audit record into the very same
 * transaction; commit is idempotent against a vault reloaded in the meantime.
 */
#include "keys/keys.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/time.h"
#include "keys/keyring.h"
#include "keys/shares.h"

#define SLOTS_MAX (FG_KEY_PURPOSE_COUNT * FG_KEYS_LIVE_VERSIONS_MAX)
/* Times unseal re-reads the keyring when a commit raced with it; each race needs a
 * committed rotation or destruction, so a handful is plenty. */
#define ROWS_ATTEMPTS 8
#define DEV_FILE_MODE 0600

_Static_assert(FG_KEYS_SHARE_TEXT_MAX == FG_SHARE_TEXT_MAX, "share text sizes agree");
_Static_assert(FG_KEY_LEN == FG_SHARE_LEN && FG_KEY_LEN == FG_AEAD_KEY_LEN, "one key size");
_Static_assert(FG_KEY_LEN == FG_SIGN_PRIVATE_LEN, "a sign private key fits a slot");

struct slot {
    uint32_t version;
    uint8_t purpose;
    uint8_t state;
    uint8_t key[FG_KEY_LEN];
};

struct vault { /* locked memory */
    uint8_t root[FG_KEY_LEN];
    unsigned nslots;
    struct slot slots[SLOTS_MAX];
};

struct pending { /* locked memory */
    unsigned count;
    struct fg_share shares[FG_KEYS_SHARES_MAX];
    struct fg_share scratch; /* where a submitted share is parsed */
};

struct rowset { /* wrapped keys: not secret */
    unsigned n;
    struct fg_keyring_row rows[SLOTS_MAX];
    uint32_t max_version[FG_KEY_PURPOSE_COUNT + 1];
};

struct counter {
    fg_keys_usage_fn fn;
    void *ctx;
};

struct fg_keys {
    pthread_rwlock_t lock;
    fg_store *store;
    int initialized;
    struct fg_keyring_meta meta;
    struct vault *vault;                            /* NULL = sealed */
    struct pending *pending;                        /* NULL = no shares submitted */
    uint32_t active[FG_KEY_PURPOSE_COUNT + 1];      /* valid while unsealed */
    uint32_t max_version[FG_KEY_PURPOSE_COUNT + 1]; /* valid while unsealed */
    uint64_t generation;                            /* committed keyring changes */
    unsigned ncounters;
    struct counter counters[FG_KEYS_USAGE_COUNTERS_MAX];
    int dev_enabled;
    char dev_path[FG_PATH_MAX];
};

enum op_kind { OP_INIT = 1, OP_ROTATE, OP_DESTROY };

struct op_secret { /* locked memory */
    uint8_t root[FG_KEY_LEN];
    uint8_t keys[FG_KEY_PURPOSE_COUNT + 1][FG_KEY_LEN];
    struct fg_share shares[FG_KEYS_SHARES_MAX];
    char share_text[FG_KEYS_SHARES_MAX][FG_KEYS_SHARE_TEXT_MAX];
};

struct fg_keys_op {
    enum op_kind kind;
    const char *problem;
    int64_t now_ms;
    int written, committed;
    struct op_secret *sec;
    struct fg_keyring_meta meta;                      /* init */
    struct fg_keyring_row rows[FG_KEY_PURPOSE_COUNT]; /* init: all; rotate: rows[0] */
    enum fg_key_purpose purpose;                      /* rotate, destroy */
    uint32_t version, previous;
    unsigned ncounters;
    struct counter counters[FG_KEYS_USAGE_COUNTERS_MAX];
};

/* ---- names ------------------------------------------------------------------------------- */

static const char *const purpose_names[FG_KEY_PURPOSE_COUNT + 1] = {
    NULL, "pii", "pan", "index", "token", "audit", "sign", "backup"};

static int purpose_valid(enum fg_key_purpose p)
{
    return (int)p >= 1 && (int)p <= FG_KEY_PURPOSE_COUNT;
}

const char *fg_key_purpose_name(enum fg_key_purpose purpose)
{
    return purpose_valid(purpose) ? purpose_names[purpose] : NULL;
}

fg_rc fg_key_purpose_parse(const char *name, enum fg_key_purpose *out)
{
    assert(out != NULL);
    for (int p = 1; name != NULL && p <= FG_KEY_PURPOSE_COUNT; p++) {
        if (strcmp(name, purpose_names[p]) == 0) {
            *out = (enum fg_key_purpose)p;
            return FG_OK;
        }
    }
    return FG_ERR_INVALID;
}

const char *fg_key_state_name(enum fg_key_state state)
{
    switch (state) {
    case FG_KEY_ACTIVE:
        return "active";
    case FG_KEY_DECRYPT_ONLY:
        return "decrypt-only";
    case FG_KEY_DESTROYED:
        return "destroyed";
    }
    return NULL;
}

/* ---- locking, vault, slots ----------------------------------------------------------------- */

static void rdlock(fg_keys *k)
{
    int rc = pthread_rwlock_rdlock(&k->lock);
    assert(rc == 0);
    (void)rc;
}

static void wrlock(fg_keys *k)
{
    int rc = pthread_rwlock_wrlock(&k->lock);
    assert(rc == 0);
    (void)rc;
}

static void unlock(fg_keys *k)
{
    int rc = pthread_rwlock_unlock(&k->lock);
    assert(rc == 0);
    (void)rc;
}

static void *secure_zalloc(size_t n)
{
    void *p = fg_secure_alloc(n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

static void secure_release(void *p, size_t n)
{
    if (p == NULL)
        return;
    fg_wipe(p, n);
    fg_secure_free(p);
}

static void vault_free(struct vault *v)
{
    secure_release(v, sizeof *v);
}

static struct slot *slot_find(struct vault *v, enum fg_key_purpose p, uint32_t version)
{
    assert(v != NULL && v->nslots <= SLOTS_MAX);
    for (unsigned i = 0; i < v->nslots; i++)
        if (v->slots[i].purpose == p && v->slots[i].version == version)
            return &v->slots[i];
    return NULL;
}

static struct slot *slot_add(struct vault *v, enum fg_key_purpose p, uint32_t version)
{
    assert(v != NULL && slot_find(v, p, version) == NULL);
    if (v->nslots >= SLOTS_MAX)
        return NULL;
    struct slot *s = &v->slots[v->nslots++];
    s->purpose = (uint8_t)p;
    s->version = version;
    return s;
}

static void slot_remove(struct vault *v, struct slot *s)
{
    assert(v->nslots > 0 && s >= v->slots && s < v->slots + v->nslots);
    struct slot *last = &v->slots[v->nslots - 1];
    if (s != last)
        *s = *last;
    fg_wipe(last, sizeof *last);
    v->nslots--;
}

static unsigned live_count(const struct vault *v, enum fg_key_purpose p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < v->nslots; i++)
        n += v->slots[i].purpose == p;
    return n;
}

static void pending_drop(fg_keys *k)
{
    secure_release(k->pending, sizeof *k->pending);
    k->pending = NULL;
}

static void seal_locked(fg_keys *k)
{
    vault_free(k->vault);
    k->vault = NULL;
    pending_drop(k);
    memset(k->active, 0, sizeof k->active);
    memset(k->max_version, 0, sizeof k->max_version);
}

static void state_locked(const fg_keys *k, struct fg_keys_state *st)
{
    if (st == NULL)
        return;
    memset(st, 0, sizeof *st);
    st->initialized = k->initialized;
    st->sealed = k->vault == NULL;
    st->progress = k->pending != NULL ? k->pending->count : 0;
    if (k->initialized) {
        st->threshold = k->meta.threshold;
        st->shares = k->meta.shares;
        st->suite = k->meta.suite;
    }
}

/* ---- life -------------------------------------------------------------------------------- */

fg_rc fg_keys_new(fg_store *store, fg_keys **out)
{
    assert(store != NULL && out != NULL);
    *out = NULL;
    fg_rc rc = fg_crypto_init();
    if (rc != FG_OK)
        return rc;
    fg_keys *k = calloc(1, sizeof *k);
    if (k == NULL)
        return FG_ERR_NOMEM;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int prc = pthread_rwlock_init(&k->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (prc != 0) {
        free(k);
        return FG_ERR_NOMEM;
    }
    k->store = store;
    fg_conn *c = NULL;
    rc = fg_store_read_acquire(store, &c);
    if (rc == FG_OK) {
        rc = fg_keyring_load_meta(c, &k->meta, &k->initialized);
        fg_store_read_release(store, c);
    }
    if (rc != FG_OK) {
        pthread_rwlock_destroy(&k->lock);
        free(k);
        return rc;
    }
    *out = k;
    return FG_OK;
}

void fg_keys_free(fg_keys *k)
{
    if (k == NULL)
        return;
    wrlock(k);
    seal_locked(k);
    unlock(k);
    pthread_rwlock_destroy(&k->lock);
    free(k);
}

void fg_keys_state(fg_keys *k, struct fg_keys_state *out)
{
    assert(k != NULL && out != NULL);
    rdlock(k);
    state_locked(k, out);
    unlock(k);
}

void fg_keys_seal(fg_keys *k)
{
    assert(k != NULL);
    wrlock(k);
    int was_unsealed = k->vault != NULL;
    seal_locked(k);
    unlock(k);
    if (was_unsealed)
        fg_log(FG_LOG_INFO, "keys.sealed");
}

void fg_keys_unseal_reset(fg_keys *k)
{
    assert(k != NULL);
    wrlock(k);
    pending_drop(k);
    unlock(k);
}

/* ---- loading and installing a root --------------------------------------------------------- */

static fg_rc rowset_add(void *ctx, const struct fg_keyring_row *row)
{
    struct rowset *rs = ctx;
    if (rs->n >= SLOTS_MAX)
        return FG_ERR_LIMIT;
    rs->rows[rs->n++] = *row;
    return FG_OK;
}

static fg_rc rowset_load(fg_store *store, struct rowset **out)
{
    struct rowset *rs = calloc(1, sizeof *rs);
    if (rs == NULL)
        return FG_ERR_NOMEM;
    fg_conn *c = NULL;
    fg_rc rc = fg_store_read_acquire(store, &c);
    if (rc == FG_OK) {
        rc = fg_keyring_each(c, 1, rowset_add, rs);
        for (int p = 1; rc == FG_OK && p <= FG_KEY_PURPOSE_COUNT; p++) {
            unsigned live = 0;
            rc = fg_keyring_versions(c, (enum fg_key_purpose)p, &rs->max_version[p], &live);
        }
        fg_store_read_release(store, c);
    }
    if (rc != FG_OK) {
        free(rs);
        return rc;
    }
    *out = rs;
    return FG_OK;
}

static fg_rc sign_public_matches(enum fg_suite suite, const uint8_t priv[FG_KEY_LEN],
                                 const struct fg_keyring_row *row)
{
    uint8_t pub[FG_SIGN_PUBLIC_MAX];
    size_t len = 0;
    fg_rc rc = fg_sign_public(suite, priv, pub, &len);
    if (rc != FG_OK)
        return rc;
    return len == row->public_len && memcmp(pub, row->public_key, len) == 0 ? FG_OK
                                                                            : FG_ERR_CORRUPT;
}

/* Unwraps every live row into v and works out active versions; k is not touched. */
static fg_rc unwrap_all(const fg_keys *k, struct vault *v, const struct rowset *rs,
                        uint32_t active[FG_KEY_PURPOSE_COUNT + 1])
{
    for (unsigned i = 0; i < rs->n; i++) {
        const struct fg_keyring_row *row = &rs->rows[i];
        assert(row->state != FG_KEY_DESTROYED);
        struct slot *s = slot_add(v, row->purpose, row->version);
        if (s == NULL)
            return FG_ERR_LIMIT;
        s->state = (uint8_t)row->state;
        fg_rc rc = fg_keyring_unwrap(k->meta.suite, v->root, row, s->key);
        if (rc == FG_OK && row->purpose == FG_KEY_SIGN)
            rc = sign_public_matches(k->meta.suite, s->key, row);
        if (rc != FG_OK)
            return FG_ERR_CORRUPT;
        if (row->state == FG_KEY_ACTIVE) {
            if (active[row->purpose] != 0)
                return FG_ERR_CORRUPT;
            active[row->purpose] = row->version;
        }
    }
    for (int p = 1; p <= FG_KEY_PURPOSE_COUNT; p++)
        if (active[p] == 0)
            return FG_ERR_CORRUPT;
    return FG_OK;
}

/* Checks v->root against the root verifier, unwraps the keyring and installs v as the
 * vault (ownership passes to k on FG_OK only). Write lock held. */
static fg_rc install_root_locked(fg_keys *k, struct vault *v, const struct rowset *rs,
                                 const char **problem)
{
    assert(k->initialized && k->vault == NULL);
    uint8_t mac[FG_HASH_LEN];
    fg_rc rc = fg_keyring_root_verifier(k->meta.suite, v->root, mac);
    if (rc != FG_OK)
        return rc;
    if (!fg_ct_equal(mac, k->meta.root_verifier, FG_HASH_LEN)) {
        *problem = "these shares do not reconstruct this instance's root key";
        return FG_ERR_CRYPTO;
    }
    uint32_t active[FG_KEY_PURPOSE_COUNT + 1] = {0};
    rc = unwrap_all(k, v, rs, active);
    if (rc != FG_OK) {
        *problem = "the stored keyring does not unwrap under the root key (tampered?)";
        return rc;
    }
    k->vault = v;
    memcpy(k->active, active, sizeof k->active);
    memcpy(k->max_version, rs->max_version, sizeof k->max_version);
    return FG_OK;
}

typedef fg_rc (*rows_step_fn)(fg_keys *k, const struct rowset *rs, void *arg, const char **problem);

/* Runs step under the write lock with the wrapped keyring as currently committed. Answers
 * directly when not initialised or already unsealed. */
static fg_rc with_rows(fg_keys *k, rows_step_fn step, void *arg, struct fg_keys_state *st,
                       const char **problem)
{
    for (int attempt = 0; attempt < ROWS_ATTEMPTS; attempt++) {
        rdlock(k);
        int initialized = k->initialized, sealed = k->vault == NULL;
        uint64_t generation = k->generation;
        state_locked(k, st);
        unlock(k);
        if (!initialized) {
            *problem = "keys are not initialised";
            return FG_ERR_CONFLICT;
        }
        if (!sealed)
            return FG_OK;
        struct rowset *rs = NULL;
        fg_rc rc = rowset_load(k->store, &rs);
        if (rc != FG_OK)
            return rc;
        wrlock(k);
        int current = k->generation == generation;
        if (current)
            rc = k->vault != NULL ? FG_OK : step(k, rs, arg, problem);
        state_locked(k, st);
        unlock(k);
        free(rs);
        if (current)
            return rc;
    }
    *problem = "the keyring kept changing during unseal; try again";
    return FG_ERR_BUSY;
}

/* ---- unseal --------------------------------------------------------------------------------- */

/* Whether s verifies against this instance's per-share verifier. Lock held. */
static fg_rc share_check(const fg_keys *k, const struct fg_share *s, const char **problem)
{
    const struct fg_keyring_verifier *v = NULL;
    for (unsigned i = 0; i < k->meta.verifier_count && v == NULL; i++)
        if (k->meta.verifiers[i].index == s->index)
            v = &k->meta.verifiers[i];
    uint8_t mac[FG_HASH_LEN];
    fg_rc rc = v != NULL ? fg_share_verifier(fg_suite_hash(k->meta.suite), v->salt, s, mac)
                         : FG_ERR_CRYPTO;
    if (rc == FG_OK && !fg_ct_equal(mac, v->verifier, FG_HASH_LEN))
        rc = FG_ERR_CRYPTO;
    if (rc == FG_ERR_CRYPTO)
        *problem = "this share does not belong to this instance";
    return rc;
}

static fg_rc unseal_complete(fg_keys *k, const struct rowset *rs, const char **problem)
{
    struct pending *pd = k->pending;
    assert(pd != NULL && pd->count == k->meta.threshold);
    struct vault *v = secure_zalloc(sizeof *v);
    fg_rc rc = v != NULL ? fg_share_combine(pd->shares, pd->count, v->root) : FG_ERR_NOMEM;
    pending_drop(k); /* whatever happens next, this attempt is over */
    if (rc == FG_OK)
        rc = install_root_locked(k, v, rs, problem);
    if (rc != FG_OK) {
        vault_free(v);
        fg_log(FG_LOG_WARN, "keys.unseal_failed", FG_LF_STR("rc", fg_rc_name(rc)));
        return rc;
    }
    fg_log(FG_LOG_INFO, "keys.unsealed", FG_LF_STR("method", "shares"));
    return FG_OK;
}

struct unseal_arg {
    const char *text;
    size_t len;
};

static fg_rc unseal_step(fg_keys *k, const struct rowset *rs, void *arg, const char **problem)
{
    const struct unseal_arg *a = arg;
    if (k->pending == NULL && (k->pending = secure_zalloc(sizeof *k->pending)) == NULL)
        return FG_ERR_NOMEM;
    struct pending *pd = k->pending;
    struct fg_share *s = &pd->scratch;
    fg_rc rc = fg_share_parse(a->text, a->len, s, problem);
    if (rc == FG_OK)
        rc = share_check(k, s, problem);
    int duplicate = 0;
    for (unsigned i = 0; rc == FG_OK && i < pd->count; i++)
        duplicate |= pd->shares[i].index == s->index;
    assert(pd->count < k->meta.threshold && k->meta.threshold <= FG_KEYS_SHARES_MAX);
    if (rc == FG_OK && !duplicate)
        pd->shares[pd->count++] = *s;
    fg_wipe(s, sizeof *s);
    if (rc != FG_OK) {
        fg_log(FG_LOG_WARN, "keys.unseal_share_refused", FG_LF_STR("rc", fg_rc_name(rc)),
               FG_LF_STR("problem", *problem));
        return rc;
    }
    return pd->count >= k->meta.threshold ? unseal_complete(k, rs, problem) : FG_OK;
}

fg_rc fg_keys_unseal_submit(fg_keys *k, const char *share_text, struct fg_keys_state *st,
                            const char **problem)
{
    assert(k != NULL && problem != NULL);
    *problem = NULL;
    if (share_text == NULL) {
        *problem = "malformed share: empty";
        return FG_ERR_INVALID;
    }
    struct unseal_arg a = {share_text, strnlen(share_text, FG_KEYS_SHARE_INPUT_MAX + 1)};
    return with_rows(k, unseal_step, &a, st, problem);
}

/* ---- development mode -------------------------------------------------------------------- */

static fg_rc dev_path(const char *data_dir, char out[FG_PATH_MAX])
{
    if (data_dir == NULL || data_dir[0] == '\0')
        return FG_ERR_INVALID;
    int n = snprintf(out, FG_PATH_MAX, "%s/%s", data_dir, FG_KEYS_DEV_FILE);
    return n > 0 && n < (int)FG_PATH_MAX ? FG_OK : FG_ERR_LIMIT;
}

fg_rc fg_keys_dev_enable(fg_keys *k, const char *data_dir)
{
    assert(k != NULL);
    char path[FG_PATH_MAX];
    fg_rc rc = dev_path(data_dir, path);
    if (rc != FG_OK)
        return rc;
    wrlock(k);
    memcpy(k->dev_path, path, sizeof path);
    k->dev_enabled = 1;
    unlock(k);
    return FG_OK;
}

static fg_rc write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FG_ERR_IO;
        p += w;
        n -= (size_t)w;
    }
    return FG_OK;
}

static fg_rc dev_write(const char *path, const uint8_t root[FG_KEY_LEN])
{
    char tmp[FG_PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n <= 0 || n >= (int)sizeof tmp)
        return FG_ERR_LIMIT;
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, DEV_FILE_MODE);
    if (fd < 0)
        return FG_ERR_IO;
    fg_rc rc = fchmod(fd, DEV_FILE_MODE) == 0 ? write_all(fd, root, FG_KEY_LEN) : FG_ERR_IO;
    if (rc == FG_OK && fsync(fd) != 0)
        rc = FG_ERR_IO;
    if (close(fd) != 0 && rc == FG_OK)
        rc = FG_ERR_IO;
    if (rc == FG_OK && rename(tmp, path) != 0)
        rc = FG_ERR_IO;
    if (rc != FG_OK)
        (void)unlink(tmp);
    return rc;
}

static fg_rc dev_read(const char *path, uint8_t root[FG_KEY_LEN], const char **problem)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *problem = errno == ENOENT ? "no " FG_KEYS_DEV_FILE " in the data directory"
                                   : "cannot open " FG_KEYS_DEV_FILE;
        return errno == ENOENT ? FG_ERR_NOT_FOUND : FG_ERR_IO;
    }
    struct stat st;
    fg_rc rc = FG_OK;
    if (fstat(fd, &st) != 0) {
        rc = FG_ERR_IO;
    } else if (!S_ISREG(st.st_mode) || st.st_size != (off_t)FG_KEY_LEN) {
        *problem = FG_KEYS_DEV_FILE " is not a finguard root key file";
        rc = FG_ERR_INVALID;
    } else if ((st.st_mode & 077) != 0) {
        *problem = FG_KEYS_DEV_FILE " must not be accessible to group or others (chmod 600)";
        rc = FG_ERR_PERMISSION;
    }
    size_t got = 0;
    while (rc == FG_OK && got < FG_KEY_LEN) {
        ssize_t r = read(fd, root + got, FG_KEY_LEN - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            rc = FG_ERR_IO;
        else
            got += (size_t)r;
    }
    close(fd);
    if (rc != FG_OK)
        fg_wipe(root, FG_KEY_LEN);
    return rc;
}

struct dev_arg {
    struct vault *v;
    int taken;
};

static fg_rc dev_step(fg_keys *k, const struct rowset *rs, void *arg, const char **problem)
{
    struct dev_arg *a = arg;
    fg_rc rc = install_root_locked(k, a->v, rs, problem);
    if (rc == FG_ERR_CRYPTO)
        *problem = FG_KEYS_DEV_FILE " does not hold this instance's root key";
    a->taken = rc == FG_OK;
    return rc;
}

fg_rc fg_keys_dev_unseal(fg_keys *k, const char *data_dir, const char **problem)
{
    assert(k != NULL && problem != NULL);
    *problem = NULL;
    char path[FG_PATH_MAX];
    fg_rc rc = dev_path(data_dir, path);
    if (rc != FG_OK)
        return rc;
    struct fg_keys_state st;
    fg_keys_state(k, &st);
    if (!st.initialized) {
        *problem = "keys are not initialised";
        return FG_ERR_CONFLICT;
    }
    if (!st.sealed)
        return FG_OK;
    struct dev_arg a = {secure_zalloc(sizeof *a.v), 0};
    if (a.v == NULL)
        return FG_ERR_NOMEM;
    rc = dev_read(path, a.v->root, problem);
    if (rc == FG_OK)
        rc = with_rows(k, dev_step, &a, NULL, problem);
    if (!a.taken)
        vault_free(a.v);
    if (rc == FG_OK && a.taken)
        fg_log(FG_LOG_WARN, "keys.unsealed", FG_LF_STR("method", "development key file"));
    return rc;
}

/* ---- ops: prepare ------------------------------------------------------------------------ */

static struct fg_keys_op *op_new(enum op_kind kind)
{
    struct fg_keys_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->sec = secure_zalloc(sizeof *op->sec);
    if (op->sec == NULL) {
        free(op);
        return NULL;
    }
    op->kind = kind;
    op->now_ms = fg_time_wall_ms();
    return op;
}

void fg_keys_op_free(struct fg_keys_op *op)
{
    if (op == NULL)
        return;
    secure_release(op->sec, sizeof *op->sec);
    free(op);
}

/* A fresh key for purpose (sign: a key pair, public half into row), wrapped into row. */
static fg_rc key_generate(enum fg_suite suite, const uint8_t root[FG_KEY_LEN],
                          enum fg_key_purpose purpose, uint32_t version, int64_t now_ms,
                          uint8_t key[FG_KEY_LEN], struct fg_keyring_row *row)
{
    memset(row, 0, sizeof *row);
    row->purpose = purpose;
    row->version = version;
    row->state = FG_KEY_ACTIVE;
    row->created_ms = row->state_ms = now_ms;
    fg_rc rc;
    if (purpose == FG_KEY_SIGN) {
        rc = fg_sign_keygen(suite, key);
        if (rc == FG_OK)
            rc = fg_sign_public(suite, key, row->public_key, &row->public_len);
    } else {
        rc = fg_random(key, FG_KEY_LEN);
    }
    return rc == FG_OK ? fg_keyring_wrap(suite, root, key, row) : rc;
}

static fg_rc init_generate(struct fg_keys_op *op, enum fg_suite suite, unsigned shares,
                           unsigned threshold)
{
    struct op_secret *sec = op->sec;
    struct fg_keyring_meta *m = &op->meta;
    m->suite = suite;
    m->threshold = threshold;
    m->shares = m->verifier_count = shares;
    m->created_ms = op->now_ms;
    fg_rc rc = fg_random(sec->root, FG_KEY_LEN);
    if (rc == FG_OK)
        rc = fg_share_split(sec->root, shares, threshold, sec->shares);
    if (rc == FG_OK)
        rc = fg_keyring_root_verifier(suite, sec->root, m->root_verifier);
    for (unsigned i = 0; rc == FG_OK && i < shares; i++) {
        struct fg_keyring_verifier *v = &m->verifiers[i];
        v->index = sec->shares[i].index;
        rc = fg_share_format(&sec->shares[i], sec->share_text[i]);
        if (rc == FG_OK)
            rc = fg_random(v->salt, FG_SHARE_SALT_LEN);
        if (rc == FG_OK)
            rc = fg_share_verifier(fg_suite_hash(suite), v->salt, &sec->shares[i], v->verifier);
    }
    fg_wipe(sec->shares, sizeof sec->shares);
    for (int p = 1; rc == FG_OK && p <= FG_KEY_PURPOSE_COUNT; p++)
        rc = key_generate(suite, sec->root, (enum fg_key_purpose)p, 1, op->now_ms, sec->keys[p],
                          &op->rows[p - 1]);
    return rc;
}

fg_rc fg_keys_init_prepare(fg_keys *k, enum fg_suite suite, unsigned shares, unsigned threshold,
                           struct fg_keys_op **out, const char **problem)
{
    assert(k != NULL && out != NULL && problem != NULL);
    *out = NULL;
    *problem = NULL;
    if (suite != FG_SUITE_INTL && suite != FG_SUITE_GM)
        *problem = "unknown suite (intl or gm)";
    else if (shares < 1 || shares > FG_KEYS_SHARES_MAX)
        *problem = "the number of shares must be 1..16";
    else if (threshold < 1 || threshold > shares)
        *problem = "the threshold must be between 1 and the number of shares";
    else if (threshold < 2 && shares > 1)
        *problem = "the threshold must be at least 2 (split knowledge) unless there is one share";
    if (*problem != NULL)
        return FG_ERR_INVALID;
    struct fg_keys_state st;
    fg_keys_state(k, &st);
    if (st.initialized) {
        *problem = "keys are already initialised";
        return FG_ERR_CONFLICT;
    }
    struct fg_keys_op *op = op_new(OP_INIT);
    if (op == NULL)
        return FG_ERR_NOMEM;
    fg_rc rc = init_generate(op, suite, shares, threshold);
    if (rc != FG_OK) {
        fg_keys_op_free(op);
        return rc;
    }
    op->version = 1;
    *out = op;
    return FG_OK;
}

static fg_rc rotate_generate(fg_keys *k, struct fg_keys_op *op, const char **problem)
{
    if (k->vault == NULL) {
        *problem = "keys are sealed";
        return FG_ERR_SEALED;
    }
    enum fg_key_purpose p = op->purpose;
    if (live_count(k->vault, p) >= FG_KEYS_LIVE_VERSIONS_MAX || k->max_version[p] == UINT32_MAX) {
        *problem = "too many live versions: rewrap and destroy old versions first";
        return FG_ERR_LIMIT;
    }
    op->previous = k->active[p];
    op->version = k->max_version[p] + 1;
    assert(op->previous >= 1 && op->version > op->previous);
    return key_generate(k->meta.suite, k->vault->root, p, op->version, op->now_ms, op->sec->keys[p],
                        &op->rows[0]);
}

fg_rc fg_keys_rotate_prepare(fg_keys *k, enum fg_key_purpose purpose, struct fg_keys_op **out,
                             const char **problem)
{
    assert(k != NULL && out != NULL && problem != NULL);
    *out = NULL;
    *problem = NULL;
    if (!purpose_valid(purpose)) {
        *problem = "unknown key purpose";
        return FG_ERR_INVALID;
    }
    struct fg_keys_op *op = op_new(OP_ROTATE);
    if (op == NULL)
        return FG_ERR_NOMEM;
    op->purpose = purpose;
    rdlock(k);
    fg_rc rc = rotate_generate(k, op, problem);
    unlock(k);
    if (rc != FG_OK) {
        fg_keys_op_free(op);
        return rc;
    }
    *out = op;
    return FG_OK;
}

static fg_rc destroy_check_locked(fg_keys *k, struct fg_keys_op *op, const char **problem)
{
    if (!k->initialized) {
        *problem = "keys are not initialised";
        return FG_ERR_CONFLICT;
    }
    fg_rc rc = share_check(k, &op->sec->shares[0], problem);
    if (rc == FG_OK)
        rc = share_check(k, &op->sec->shares[1], problem);
    if (rc != FG_OK)
        return rc;
    if (k->vault != NULL && k->active[op->purpose] == op->version) {
        *problem = "the active version cannot be destroyed: rotate first";
        return FG_ERR_CONFLICT;
    }
    op->ncounters = k->ncounters;
    memcpy(op->counters, k->counters, sizeof op->counters);
    return FG_OK;
}

static fg_rc destroy_shares(struct fg_keys_op *op, const char *a, const char *b,
                            const char **problem)
{
    if (a == NULL || b == NULL) {
        *problem = "two custodians' shares are required to destroy a key version";
        return FG_ERR_PERMISSION;
    }
    struct fg_share *s = op->sec->shares;
    fg_rc rc = fg_share_parse(a, strnlen(a, FG_KEYS_SHARE_INPUT_MAX + 1), &s[0], problem);
    if (rc == FG_OK)
        rc = fg_share_parse(b, strnlen(b, FG_KEYS_SHARE_INPUT_MAX + 1), &s[1], problem);
    if (rc == FG_OK && s[0].index == s[1].index) {
        *problem = "the two shares must come from two different custodians";
        rc = FG_ERR_PERMISSION;
    }
    return rc;
}

fg_rc fg_keys_destroy_prepare(fg_keys *k, enum fg_key_purpose purpose, uint32_t version,
                              const char *share_a, const char *share_b, struct fg_keys_op **out,
                              const char **problem)
{
    assert(k != NULL && out != NULL && problem != NULL);
    *out = NULL;
    *problem = NULL;
    if (!purpose_valid(purpose) || version < 1) {
        *problem = "unknown key purpose or version";
        return FG_ERR_INVALID;
    }
    struct fg_keys_op *op = op_new(OP_DESTROY);
    if (op == NULL)
        return FG_ERR_NOMEM;
    op->purpose = purpose;
    op->version = version;
    fg_rc rc = destroy_shares(op, share_a, share_b, problem);
    if (rc == FG_OK) {
        rdlock(k);
        rc = destroy_check_locked(k, op, problem);
        unlock(k);
    }
    fg_wipe(op->sec->shares, sizeof op->sec->shares);
    if (rc != FG_OK) {
        fg_keys_op_free(op);
        return rc;
    }
    *out = op;
    return FG_OK;
}

/* ---- ops: the write intent ---------------------------------------------------------------- */

static fg_rc init_write(fg_conn *conn, struct fg_keys_op *op)
{
    fg_rc rc = fg_keyring_insert_meta(conn, &op->meta);
    if (rc == FG_ERR_CONFLICT)
        op->problem = "keys are already initialised";
    for (int i = 0; rc == FG_OK && i < FG_KEY_PURPOSE_COUNT; i++)
        rc = fg_keyring_insert(conn, &op->rows[i]);
    return rc;
}

static fg_rc rotate_write(fg_conn *conn, struct fg_keys_op *op)
{
    uint32_t max = 0;
    unsigned live = 0;
    fg_rc rc = fg_keyring_versions(conn, op->purpose, &max, &live);
    if (rc != FG_OK)
        return rc;
    if (max + 1 != op->version) {
        op->problem = "the keyring changed since the rotation was prepared; try again";
        return FG_ERR_CONFLICT;
    }
    if (live >= FG_KEYS_LIVE_VERSIONS_MAX) {
        op->problem = "too many live versions: rewrap and destroy old versions first";
        return FG_ERR_LIMIT;
    }
    rc = fg_keyring_demote(conn, op->purpose, op->previous, op->now_ms);
    if (rc == FG_ERR_CONFLICT)
        op->problem = "the keyring changed since the rotation was prepared; try again";
    return rc == FG_OK ? fg_keyring_insert(conn, &op->rows[0]) : rc;
}

static fg_rc destroy_usage(fg_conn *conn, struct fg_keys_op *op, uint64_t *total)
{
    *total = 0;
    if (op->ncounters == 0) {
        op->problem = "no usage counter is registered: cannot prove the version unused";
        return FG_ERR_CONFLICT;
    }
    for (unsigned i = 0; i < op->ncounters; i++) {
        fg_rc rc = op->counters[i].fn(op->counters[i].ctx, conn, op->purpose, op->version, total);
        if (rc != FG_OK)
            return rc;
    }
    return FG_OK;
}

static fg_rc destroy_write(fg_conn *conn, struct fg_keys_op *op)
{
    struct fg_keyring_row row;
    int found = 0;
    fg_rc rc = fg_keyring_get(conn, op->purpose, op->version, &row, &found);
    if (rc != FG_OK)
        return rc;
    if (!found) {
        op->problem = "no such key version";
        return FG_ERR_NOT_FOUND;
    }
    if (row.state != FG_KEY_DECRYPT_ONLY) {
        op->problem = row.state == FG_KEY_ACTIVE
                          ? "the active version cannot be destroyed: rotate first"
                          : "this key version is already destroyed";
        return FG_ERR_CONFLICT;
    }
    uint64_t used = 0;
    rc = destroy_usage(conn, op, &used);
    if (rc == FG_OK && used > 0) {
        fg_log(FG_LOG_INFO, "keys.destroy_refused",
               FG_LF_STR("purpose", purpose_names[op->purpose]), FG_LF_INT("version", op->version),
               FG_LF_INT("ciphertexts", (int64_t)used));
        op->problem = "this key version is still used by ciphertexts: rewrap them first";
        rc = FG_ERR_CONFLICT;
    }
    return rc == FG_OK ? fg_keyring_shred(conn, op->purpose, op->version, fg_time_wall_ms()) : rc;
}

fg_rc fg_keys_op_intent(fg_conn *conn, void *arg)
{
    struct fg_keys_op *op = arg;
    assert(conn != NULL && op != NULL && op->sec != NULL);
    assert(!op->committed);
    op->problem = NULL;
    op->written = 0;
    fg_rc rc = FG_ERR_INTERNAL;
    switch (op->kind) {
    case OP_INIT:
        rc = init_write(conn, op);
        break;
    case OP_ROTATE:
        rc = rotate_write(conn, op);
        break;
    case OP_DESTROY:
        rc = destroy_write(conn, op);
        break;
    }
    op->written = rc == FG_OK;
    return rc;
}

/* ---- ops: commit --------------------------------------------------------------------------- */

static fg_rc init_publish(fg_keys *k, struct fg_keys_op *op)
{
    struct vault *v = secure_zalloc(sizeof *v);
    if (v == NULL)
        return FG_ERR_NOMEM; /* initialised on disk; unseal with the shares */
    memcpy(v->root, op->sec->root, FG_KEY_LEN);
    for (int p = 1; p <= FG_KEY_PURPOSE_COUNT; p++) {
        struct slot *s = slot_add(v, (enum fg_key_purpose)p, 1);
        assert(s != NULL);
        s->state = FG_KEY_ACTIVE;
        memcpy(s->key, op->sec->keys[p], FG_KEY_LEN);
    }
    wrlock(k);
    if (k->initialized) {
        unlock(k);
        vault_free(v);
        return FG_ERR_CONFLICT;
    }
    seal_locked(k);
    k->meta = op->meta;
    k->initialized = 1;
    k->vault = v;
    for (int p = 1; p <= FG_KEY_PURPOSE_COUNT; p++)
        k->active[p] = k->max_version[p] = 1;
    k->generation++;
    int dev = k->dev_enabled;
    char path[FG_PATH_MAX];
    memcpy(path, k->dev_path, sizeof path);
    unlock(k);
    fg_log(FG_LOG_INFO, "keys.initialized", FG_LF_STR("suite", fg_suite_name(op->meta.suite)),
           FG_LF_INT("custodians", op->meta.shares), FG_LF_INT("threshold", op->meta.threshold));
    if (dev && dev_write(path, op->sec->root) != FG_OK) {
        fg_log(FG_LOG_ERROR, "keys.dev_file_failed", FG_LF_STR("path", path));
        return FG_ERR_IO;
    }
    return FG_OK;
}

static fg_rc rotate_publish_locked(fg_keys *k, struct fg_keys_op *op)
{
    enum fg_key_purpose p = op->purpose;
    struct vault *v = k->vault;
    struct slot *prev = slot_find(v, p, op->previous);
    if (prev != NULL)
        prev->state = FG_KEY_DECRYPT_ONLY;
    struct slot *s = slot_find(v, p, op->version);
    if (s == NULL && (s = slot_add(v, p, op->version)) == NULL)
        return FG_ERR_LIMIT;
    s->state = FG_KEY_ACTIVE;
    memcpy(s->key, op->sec->keys[p], FG_KEY_LEN);
    k->active[p] = op->version;
    if (k->max_version[p] < op->version)
        k->max_version[p] = op->version;
    return FG_OK;
}

static fg_rc change_publish(fg_keys *k, struct fg_keys_op *op)
{
    fg_rc rc = FG_OK;
    wrlock(k);
    k->generation++;
    if (k->vault != NULL && op->kind == OP_ROTATE) {
        rc = rotate_publish_locked(k, op);
        if (rc != FG_OK)
            seal_locked(k); /* memory cannot follow the database: reload at next unseal */
    } else if (k->vault != NULL) {
        struct slot *s = slot_find(k->vault, op->purpose, op->version);
        if (s != NULL)
            slot_remove(k->vault, s);
    }
    unlock(k);
    fg_log(FG_LOG_INFO, op->kind == OP_ROTATE ? "keys.rotated" : "keys.destroyed",
           FG_LF_STR("purpose", purpose_names[op->purpose]), FG_LF_INT("version", op->version));
    return rc;
}

fg_rc fg_keys_op_commit(fg_keys *k, struct fg_keys_op *op)
{
    assert(k != NULL && op != NULL);
    assert(op->written && !op->committed);
    if (!op->written || op->committed) /* publishing what is not on disk would be worse */
        return FG_ERR_CONFLICT;
    op->committed = 1;
    return op->kind == OP_INIT ? init_publish(k, op) : change_publish(k, op);
}

const char *fg_keys_op_problem(const struct fg_keys_op *op)
{
    assert(op != NULL);
    return op->problem;
}

unsigned fg_keys_op_share_count(const struct fg_keys_op *op)
{
    assert(op != NULL);
    return op->kind == OP_INIT ? op->meta.shares : 0;
}

const char *fg_keys_op_share(const struct fg_keys_op *op, unsigned i)
{
    assert(op != NULL && op->kind == OP_INIT && i < op->meta.shares);
    return op->sec->share_text[i];
}

uint32_t fg_keys_op_version(const struct fg_keys_op *op)
{
    assert(op != NULL);
    return op->version;
}

enum fg_key_purpose fg_keys_op_purpose(const struct fg_keys_op *op)
{
    assert(op != NULL);
    return op->kind == OP_INIT ? 0 : op->purpose;
}

fg_rc fg_keys_op_key(const struct fg_keys_op *op, enum fg_key_purpose purpose,
                     uint8_t out[FG_KEY_LEN])
{
    assert(op != NULL && out != NULL);
    if (op->kind != OP_INIT || !purpose_valid(purpose))
        return FG_ERR_INVALID;
    memcpy(out, op->sec->keys[purpose], FG_KEY_LEN);
    return FG_OK;
}

/* ---- blocking helpers ---------------------------------------------------------------------- */

fg_rc fg_keys_init(fg_keys *k, enum fg_suite suite, unsigned shares, unsigned threshold,
                   char share_text[][FG_KEYS_SHARE_TEXT_MAX], const char **problem)
{
    assert(k != NULL && share_text != NULL && problem != NULL);
    struct fg_keys_op *op = NULL;
    fg_rc rc = fg_keys_init_prepare(k, suite, shares, threshold, &op, problem);
    if (rc != FG_OK)
        return rc;
    rc = fg_store_write(k->store, fg_keys_op_intent, op);
    if (rc == FG_OK) {
        /* On disk now: the shares must reach the caller whatever commit says. */
        for (unsigned i = 0; i < shares; i++)
            memcpy(share_text[i], fg_keys_op_share(op, i), FG_KEYS_SHARE_TEXT_MAX);
        rc = fg_keys_op_commit(k, op);
    } else {
        *problem = fg_keys_op_problem(op);
    }
    fg_keys_op_free(op);
    return rc;
}

static fg_rc op_run(fg_keys *k, struct fg_keys_op *op, const char **problem)
{
    fg_rc rc = fg_store_write(k->store, fg_keys_op_intent, op);
    if (rc != FG_OK) {
        *problem = fg_keys_op_problem(op);
        return rc;
    }
    return fg_keys_op_commit(k, op);
}

fg_rc fg_keys_rotate(fg_keys *k, enum fg_key_purpose purpose, uint32_t *new_version,
                     const char **problem)
{
    assert(k != NULL && problem != NULL);
    struct fg_keys_op *op = NULL;
    fg_rc rc = fg_keys_rotate_prepare(k, purpose, &op, problem);
    if (rc != FG_OK)
        return rc;
    rc = op_run(k, op, problem);
    if (rc == FG_OK && new_version != NULL)
        *new_version = op->version;
    fg_keys_op_free(op);
    return rc;
}

fg_rc fg_keys_destroy(fg_keys *k, enum fg_key_purpose purpose, uint32_t version,
                      const char *share_a, const char *share_b, const char **problem)
{
    assert(k != NULL && problem != NULL);
    struct fg_keys_op *op = NULL;
    fg_rc rc = fg_keys_destroy_prepare(k, purpose, version, share_a, share_b, &op, problem);
    if (rc != FG_OK)
        return rc;
    rc = op_run(k, op, problem);
    fg_keys_op_free(op);
    return rc;
}

/* ---- usage counters, listing ---------------------------------------------------------------- */

fg_rc fg_keys_add_usage_counter(fg_keys *k, fg_keys_usage_fn fn, void *ctx)
{
    assert(k != NULL && fn != NULL);
    fg_rc rc = FG_OK;
    wrlock(k);
    for (unsigned i = 0; i < k->ncounters; i++)
        if (k->counters[i].fn == fn && k->counters[i].ctx == ctx)
            rc = FG_ERR_CONFLICT;
    if (rc == FG_OK && k->ncounters >= FG_KEYS_USAGE_COUNTERS_MAX)
        rc = FG_ERR_LIMIT;
    if (rc == FG_OK)
        k->counters[k->ncounters++] = (struct counter){fn, ctx};
    unlock(k);
    return rc;
}

struct list_ctx {
    fg_keys_list_fn fn;
    void *ctx;
    int64_t now_ms;
};

static fg_rc list_row(void *ctx, const struct fg_keyring_row *row)
{
    const struct list_ctx *l = ctx;
    struct fg_key_info info = {
        .purpose = row->purpose,
        .version = row->version,
        .state = row->state,
        .created_ms = row->created_ms,
        .state_ms = row->state_ms,
        .destroyed_ms = row->destroyed_ms,
        .age_s = l->now_ms > row->created_ms ? (l->now_ms - row->created_ms) / 1000 : 0,
    };
    return l->fn(l->ctx, &info);
}

fg_rc fg_keys_list(fg_keys *k, fg_keys_list_fn fn, void *ctx)
{
    assert(k != NULL && fn != NULL);
    struct list_ctx l = {fn, ctx, fg_time_wall_ms()};
    fg_conn *c = NULL;
    fg_rc rc = fg_store_read_acquire(k->store, &c);
    if (rc != FG_OK)
        return rc;
    rc = fg_keyring_each(c, 0, list_row, &l);
    fg_store_read_release(k->store, c);
    return rc;
}

/* ---- borrowing ------------------------------------------------------------------------------ */

fg_rc fg_keys_use(fg_keys *k, enum fg_key_purpose purpose, uint32_t version, fg_keys_use_fn fn,
                  void *ctx)
{
    assert(k != NULL && fn != NULL);
    if (!purpose_valid(purpose))
        return FG_ERR_INVALID;
    fg_rc rc;
    rdlock(k);
    if (k->vault == NULL) {
        rc = FG_ERR_SEALED;
    } else {
        const struct slot *s =
            slot_find(k->vault, purpose, version != 0 ? version : k->active[purpose]);
        rc = s != NULL ? fn(ctx, s->key, s->version, k->meta.suite) : FG_ERR_NOT_FOUND;
    }
    unlock(k);
    return rc;
}

struct borrow_ctx {
    uint8_t *out;
    uint32_t *version_out;
};

static fg_rc borrow_copy(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                         enum fg_suite suite)
{
    (void)suite;
    const struct borrow_ctx *b = ctx;
    memcpy(b->out, key, FG_KEY_LEN);
    if (b->version_out != NULL)
        *b->version_out = version;
    return FG_OK;
}

fg_rc fg_keys_borrow(fg_keys *k, enum fg_key_purpose purpose, uint32_t version,
                     uint8_t out[FG_KEY_LEN], uint32_t *version_out)
{
    assert(out != NULL);
    struct borrow_ctx b = {out, version_out};
    return fg_keys_use(k, purpose, version, borrow_copy, &b);
}

int fg_keys_is_destroyed(fg_keys *k, enum fg_key_purpose purpose, uint32_t version)
{
    assert(k != NULL);
    if (!purpose_valid(purpose) || version == 0)
        return 0;
    rdlock(k);
    int destroyed = k->vault != NULL && version <= k->max_version[purpose] &&
                    slot_find(k->vault, purpose, version) == NULL;
    unlock(k);
    return destroyed;
}

fg_rc fg_keys_sign_public(fg_keys *k, uint32_t version, uint8_t pub[FG_SIGN_PUBLIC_MAX],
                          size_t *pub_len, uint32_t *version_out)
{
    assert(k != NULL && pub != NULL && pub_len != NULL);
    *pub_len = 0;
    struct fg_keyring_row row;
    int found = 0;
    fg_conn *c = NULL;
    fg_rc rc = fg_store_read_acquire(k->store, &c);
    if (rc != FG_OK)
        return rc;
    rc = fg_keyring_get(c, FG_KEY_SIGN, version, &row, &found);
    fg_store_read_release(k->store, c);
    if (rc != FG_OK)
        return rc;
    if (!found)
        return FG_ERR_NOT_FOUND;
    memcpy(pub, row.public_key, row.public_len);
    *pub_len = row.public_len;
    if (version_out != NULL)
        *version_out = row.version;
    return FG_OK;
}
