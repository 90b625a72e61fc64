/*
 * audit.c — the audit log on the write path: keys, the store hooks that append records and
 * checkpoints inside each batch, the anchor file, blocking write helpers and retention.
 *
 * The chain state lives in two copies: `committed` (the head as of the last committed
 * batch) and `pending` (the head including what the current batch appended). Only the
 * writer thread touches them: after_intent appends the intent's record at pending.seq + 1
 * with MAC = HMAC(key, canonical ‖ pending.mac) and links the caller's record into the
 * batch's list; before_commit writes a signed checkpoint of the pending head when N records
 * or T milliseconds have passed since the last one (or when forced) and queues its anchor
 * line; after_commit makes pending the committed head, appends the queued lines to the
 * anchor file and fsyncs it; after_rollback throws the batch away — pending goes back to
 * committed, queued lines are dropped and the records' seq/time are zeroed — so the chain
 * continues from the last committed record. The head is loaded lazily from the database by
 * the first batch that needs it (inside that batch's transaction, before anything of ours is
 * written), and refused if it is behind a signed checkpoint in the database or in the tail
 * of the anchor file. Retention runs as an ordinary intent on the writer thread, so it sees
 * and changes the same state without locks. Key bytes live in one fg_secure_alloc block.
 */
#include "audit/internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/time.h"

/* Anchor lines one batch may queue: one checkpoint plus a retention line per expiry. */
#define ANCHOR_PENDING_LINES 16u
/* Bytes of the anchor file's tail read at load to find the newest anchored seq. */
#define ANCHOR_TAIL_BYTES (16u * FG_AUDIT_ANCHOR_LINE_MAX)
#define MS_PER_DAY (24LL * 3600LL * 1000LL)

struct chain {
    int64_t seq;              /* last record (or the retention cut when none is left) */
    uint8_t mac[FG_HASH_LEN]; /* its MAC */
    int64_t cp_seq;           /* last checkpoint's seq */
    int64_t cp_time_ms;       /* when it was taken (or when the head was loaded) */
};

struct fg_audit_log {
    enum fg_suite suite;
    enum fg_hash_alg alg;
    uint8_t *secret; /* fg_secure_alloc: MAC keys, then the sign private key */
    size_t secret_len;
    struct fg_audit_mac_key mac_keys[FG_AUDIT_MAC_KEYS_MAX]; /* .key points into secret */
    const struct fg_audit_mac_key *current;                  /* the highest version */
    const uint8_t *sign_private;                             /* points into secret */
    uint32_t sign_version;
    uint8_t public_bytes[FG_AUDIT_PUBLIC_KEYS_MAX][FG_SIGN_PUBLIC_MAX];
    struct fg_audit_public_key public_keys[FG_AUDIT_PUBLIC_KEYS_MAX];
    struct fg_audit_keys keys; /* a view over the above (no private key) */
    uint32_t checkpoint_records;
    int64_t checkpoint_interval_ms;
    char *anchor_path; /* NULL: no anchor file */
    int anchor_fd;

    /* Writer-thread state. */
    int loaded;
    struct chain committed, pending;
    struct fg_audit_record *batch_records; /* linked through next_, ends at list_end */
    int force_checkpoint;
    struct fg_buf anchor_pending;

    _Atomic int64_t committed_seq;
    _Atomic uint64_t anchor_failures;
};

/* Terminates a batch's record list, so "next_ == NULL" means "not in a list". */
static struct fg_audit_record list_end;

/* ---- open / close ------------------------------------------------------------------------ */

static fg_rc options_check(const struct fg_audit_options *opt)
{
    const struct fg_audit_keys *k = &opt->keys;
    fg_rc rc = audit_keys_check(k);
    if (rc != FG_OK)
        return rc;
    if (k->sign_private == NULL)
        return FG_ERR_INVALID;
    int have_public = 0;
    for (size_t i = 0; i < k->public_key_count; i++)
        have_public |= k->public_keys[i].version == k->sign_version;
    for (size_t i = 0; i < k->mac_key_count; i++)
        for (size_t j = i + 1; j < k->mac_key_count; j++)
            if (k->mac_keys[i].version == k->mac_keys[j].version)
                return FG_ERR_INVALID;
    if (!have_public || opt->checkpoint_records > FG_AUDIT_CHECKPOINT_RECORDS_MAX ||
        opt->checkpoint_interval_ms < 0 ||
        opt->checkpoint_interval_ms > FG_AUDIT_CHECKPOINT_INTERVAL_MS_MAX)
        return FG_ERR_INVALID;
    if (opt->anchor_path != NULL &&
        (opt->anchor_path[0] == '\0' || strlen(opt->anchor_path) >= FG_PATH_MAX))
        return FG_ERR_LIMIT;
    return FG_OK;
}

static fg_rc keys_copy(fg_audit_log *log, const struct fg_audit_keys *k)
{
    log->suite = k->suite;
    log->alg = fg_suite_hash(k->suite);
    log->secret_len = FG_SIGN_PRIVATE_LEN;
    for (size_t i = 0; i < k->mac_key_count; i++)
        log->secret_len += k->mac_keys[i].len;
    log->secret = fg_secure_alloc(log->secret_len);
    if (log->secret == NULL)
        return FG_ERR_NOMEM;
    uint8_t *p = log->secret;
    for (size_t i = 0; i < k->mac_key_count; i++) {
        memcpy(p, k->mac_keys[i].key, k->mac_keys[i].len);
        log->mac_keys[i] = (struct fg_audit_mac_key){k->mac_keys[i].version, p, k->mac_keys[i].len};
        if (log->current == NULL || log->mac_keys[i].version > log->current->version)
            log->current = &log->mac_keys[i];
        p += k->mac_keys[i].len;
    }
    memcpy(p, k->sign_private, FG_SIGN_PRIVATE_LEN);
    log->sign_private = p;
    log->sign_version = k->sign_version;
    for (size_t i = 0; i < k->public_key_count; i++) {
        memcpy(log->public_bytes[i], k->public_keys[i].key, k->public_keys[i].len);
        log->public_keys[i] = (struct fg_audit_public_key){
            k->public_keys[i].version, log->public_bytes[i], k->public_keys[i].len};
    }
    log->keys = (struct fg_audit_keys){.suite = k->suite,
                                       .mac_keys = log->mac_keys,
                                       .mac_key_count = k->mac_key_count,
                                       .public_keys = log->public_keys,
                                       .public_key_count = k->public_key_count};
    return FG_OK;
}

/* The private key must produce signatures its named public key accepts. */
static fg_rc keys_selfcheck(fg_audit_log *log)
{
    struct audit_checkpoint cp = {
        .kind = AUDIT_CP_CHECKPOINT, .seq = 1, .sign_version = log->sign_version};
    uint8_t msg[AUDIT_CP_MESSAGE_LEN];
    audit_cp_message(log->suite, &cp, msg);
    fg_rc rc = fg_sign(log->suite, log->sign_private, msg, sizeof msg, cp.sig, &cp.sig_len);
    if (rc == FG_OK)
        rc = audit_cp_verify(&log->keys, &cp);
    return rc == FG_OK ? FG_OK : FG_ERR_CRYPTO;
}

/* Make the directory entry of a newly created anchor file durable. */
static void dir_fsync(const char *path)
{
    char dir[FG_PATH_MAX];
    int n = snprintf(dir, sizeof dir, "%s", path);
    assert(n > 0 && (size_t)n < sizeof dir);
    (void)n;
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        memcpy(dir, ".", 2);
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static fg_rc anchor_open_append(fg_audit_log *log, const char *path)
{
    struct stat st;
    int existed = stat(path, &st) == 0;
    log->anchor_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log->anchor_fd < 0) {
        fg_log(FG_LOG_ERROR, "audit.anchor_open_failed", FG_LF_STR("path", path),
               FG_LF_STR("error", strerror(errno)));
        return FG_ERR_IO;
    }
    if (!existed)
        dir_fsync(path);
    log->anchor_path = strdup(path);
    return log->anchor_path ? FG_OK : FG_ERR_NOMEM;
}

fg_rc fg_audit_open(const struct fg_audit_options *opt, fg_audit_log **out)
{
    assert(opt != NULL && out != NULL);
    *out = NULL;
    fg_rc rc = options_check(opt);
    if (rc == FG_OK)
        rc = fg_crypto_init();
    if (rc != FG_OK)
        return rc;
    fg_audit_log *log = calloc(1, sizeof *log);
    if (log == NULL)
        return FG_ERR_NOMEM;
    log->anchor_fd = -1;
    log->checkpoint_records =
        opt->checkpoint_records ? opt->checkpoint_records : FG_AUDIT_CHECKPOINT_RECORDS_DEFAULT;
    log->checkpoint_interval_ms = opt->checkpoint_interval_ms
                                      ? opt->checkpoint_interval_ms
                                      : FG_AUDIT_CHECKPOINT_INTERVAL_MS_DEFAULT;
    fg_buf_init(&log->anchor_pending, ANCHOR_PENDING_LINES * FG_AUDIT_ANCHOR_LINE_MAX);
    rc = keys_copy(log, &opt->keys);
    if (rc == FG_OK)
        rc = keys_selfcheck(log);
    if (rc == FG_OK && opt->anchor_path != NULL)
        rc = anchor_open_append(log, opt->anchor_path);
    if (rc != FG_OK) {
        fg_log(FG_LOG_ERROR, "audit.open_failed", FG_LF_STR("rc", fg_rc_name(rc)));
        fg_audit_close(log);
        return rc;
    }
    if (log->anchor_path == NULL)
        fg_log(FG_LOG_WARN, "audit.no_anchor",
               FG_LF_STR("consequence", "tail truncation after the last checkpoint is not "
                                        "detectable"));
    *out = log;
    return FG_OK;
}

void fg_audit_close(fg_audit_log *log)
{
    if (log == NULL)
        return;
    assert(log->batch_records == NULL); /* no batch in flight */
    if (log->anchor_fd >= 0)
        close(log->anchor_fd);
    fg_buf_release(&log->anchor_pending);
    fg_secure_free(log->secret); /* wipes */
    free(log->anchor_path);
    fg_wipe(log, sizeof *log);
    free(log);
}

int64_t fg_audit_committed_seq(const fg_audit_log *log)
{
    assert(log != NULL);
    return atomic_load(&log->committed_seq);
}

uint64_t fg_audit_anchor_failures(const fg_audit_log *log)
{
    assert(log != NULL);
    return atomic_load(&log->anchor_failures);
}

/* ---- loading the head -------------------------------------------------------------------- */

struct head_row {
    int64_t seq;
    int64_t time_ms;
    uint8_t mac[FG_HASH_LEN];
    int found;
};

static fg_rc last_record_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct head_row *h = ctx;
    if (ncols != 2 || cols[0].type != FG_VAL_INT || cols[1].type != FG_VAL_BLOB ||
        cols[1].n != FG_HASH_LEN)
        return FG_ERR_CORRUPT;
    h->seq = cols[0].i;
    memcpy(h->mac, cols[1].p, FG_HASH_LEN);
    h->found = 1;
    return FG_OK;
}

static fg_rc last_cp_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct head_row *h = ctx;
    if (ncols != 2 || cols[0].type != FG_VAL_INT || cols[1].type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    h->seq = cols[0].i;
    h->time_ms = cols[1].i;
    h->found = 1;
    return FG_OK;
}

/* The highest seq among validly signed checkpoints in the anchor file's tail (0 if none). */
static int64_t anchor_tail_seq(const fg_audit_log *log)
{
    int fd = open(log->anchor_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static_assert(ANCHOR_TAIL_BYTES < 65536, "the tail buffer lives on the stack");
    char buf[ANCHOR_TAIL_BYTES];
    struct stat st;
    ssize_t got = -1;
    if (fstat(fd, &st) == 0) {
        off_t from = st.st_size > (off_t)sizeof buf ? st.st_size - (off_t)sizeof buf : 0;
        got = pread(fd, buf, (size_t)(st.st_size - from), from);
    }
    close(fd);
    int64_t best = 0;
    size_t start = 0;
    for (ssize_t i = 0; i < got; i++) {
        if (buf[i] != '\n')
            continue;
        struct audit_checkpoint cp;
        if (audit_anchor_parse(buf + start, (size_t)i - start, log->suite, &cp) == FG_OK &&
            audit_cp_verify(&log->keys, &cp) == FG_OK && cp.seq > best)
            best = cp.seq;
        start = (size_t)i + 1;
    }
    return best;
}

static fg_rc head_refuse(int64_t head, int64_t anchored, const char *where)
{
    fg_log(FG_LOG_ERROR, "audit.head_behind_checkpoint", FG_LF_INT("head_seq", head),
           FG_LF_INT("checkpoint_seq", anchored), FG_LF_STR("checkpoint_in", where),
           FG_LF_STR("action", "refusing to append until the log is verified"));
    return FG_ERR_CORRUPT;
}

static fg_rc log_load(fg_audit_log *log, fg_conn *conn)
{
    if (log->loaded)
        return FG_OK;
    struct head_row last = {.found = 0}, cp = {.found = 0};
    struct audit_checkpoint cut;
    int have_cut = 0;
    fg_rc rc = fg_conn_exec(conn, "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1", NULL,
                            0, last_record_row, &last, NULL);
    if (rc == FG_OK)
        rc = audit_retention_latest(conn, &cut, &have_cut);
    if (rc == FG_OK)
        rc = fg_conn_exec(conn,
                          "SELECT seq, time_ms FROM audit_checkpoint WHERE kind = 'checkpoint' "
                          "ORDER BY seq DESC LIMIT 1",
                          NULL, 0, last_cp_row, &cp, NULL);
    if (rc != FG_OK)
        return rc;
    struct chain c = {.seq = 0, .cp_seq = 0, .cp_time_ms = fg_time_wall_ms()};
    if (have_cut && (!last.found || cut.seq > last.seq)) {
        c.seq = cut.seq;
        memcpy(c.mac, cut.mac, FG_HASH_LEN);
    } else if (last.found) {
        c.seq = last.seq;
        memcpy(c.mac, last.mac, FG_HASH_LEN);
    }
    if (cp.found)
        c.cp_seq = cp.seq;
    if (have_cut && cut.seq > c.cp_seq)
        c.cp_seq = cut.seq;
    if (c.seq < c.cp_seq)
        return head_refuse(c.seq, c.cp_seq, "database");
    int64_t anchored = log->anchor_path ? anchor_tail_seq(log) : 0;
    if (c.seq < anchored)
        return head_refuse(c.seq, anchored, "anchor");
    log->committed = log->pending = c;
    log->loaded = 1;
    atomic_store(&log->committed_seq, c.seq);
    fg_log(FG_LOG_INFO, "audit.loaded", FG_LF_INT("head_seq", c.seq),
           FG_LF_INT("checkpoint_seq", c.cp_seq));
    return FG_OK;
}

/* ---- appending --------------------------------------------------------------------------- */

static const char insert_record_sql[] =
    "INSERT INTO audit_log (" AUDIT_ROW_COLUMNS ") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

static fg_rc record_insert(fg_conn *conn, const struct audit_fields *f,
                           const uint8_t mac[FG_HASH_LEN])
{
    struct fg_val p[AUDIT_ROW_NCOLS];
    p[0] = FG_VINT(f->seq);
    p[1] = FG_VINT(f->time_ms);
    for (int i = 0; i <= AUDIT_OBJECT_ID; i++)
        p[2 + i] = FG_VTEXT(f->text[i].p, f->text[i].n);
    p[10] = FG_VSTR(fg_audit_result_name((enum fg_audit_result)f->result));
    p[11] = FG_VTEXT(f->text[AUDIT_ERROR_CODE].p, f->text[AUDIT_ERROR_CODE].n);
    p[12] = FG_VTEXT(f->text[AUDIT_DETAILS].p, f->text[AUDIT_DETAILS].n);
    p[13] = FG_VINT(f->key_version);
    p[14] = FG_VBLOB(mac, FG_HASH_LEN);
    return fg_conn_exec(conn, insert_record_sql, p, AUDIT_ROW_NCOLS, NULL, NULL, NULL);
}

/* What is stored for a record whose intent ended with intent_rc: a failed change is
 * audited as error with the rc's name unless the record already says why it failed. */
static void result_effective(const struct fg_audit_record *rec, fg_rc intent_rc,
                             struct audit_fields *f)
{
    enum fg_audit_result r = rec->result;
    assert(r >= FG_AUDIT_RESULT_OK && r <= FG_AUDIT_RESULT_ERROR);
    if (r < FG_AUDIT_RESULT_OK || r > FG_AUDIT_RESULT_ERROR)
        r = FG_AUDIT_RESULT_ERROR;
    if (intent_rc != FG_OK && r == FG_AUDIT_RESULT_OK)
        r = FG_AUDIT_RESULT_ERROR;
    f->result = (uint8_t)r;
    if (r != FG_AUDIT_RESULT_OK && f->text[AUDIT_ERROR_CODE].n == 0) {
        const char *code = fg_rc_name(intent_rc != FG_OK ? intent_rc : FG_ERR_INTERNAL);
        f->text[AUDIT_ERROR_CODE] = (struct audit_text){code, strlen(code)};
    } else if (r == FG_AUDIT_RESULT_OK) {
        f->text[AUDIT_ERROR_CODE] = (struct audit_text){"", 0};
    }
}

static fg_rc append(fg_audit_log *log, fg_conn *conn, struct fg_audit_record *rec, fg_rc intent_rc)
{
    assert(log->loaded);
    assert(rec->next_ == NULL); /* one record per intent, once per batch */
    struct audit_fields f;
    audit_fields_of_record(rec, log->current->version, &f);
    char details[FG_AUDIT_DETAILS_MAX + 1];
    if (!rec->details_redacted_) { /* filled by hand: redact here, never store it raw */
        size_t n = 0;
        if (fg_audit_redact(rec->details, f.text[AUDIT_DETAILS].n, details, sizeof details, &n) !=
            FG_OK) {
            n = (size_t)snprintf(details, sizeof details, "{\"redaction\":\"failed\"}");
        }
        f.text[AUDIT_DETAILS] = (struct audit_text){details, n};
    }
    result_effective(rec, intent_rc, &f);
    f.seq = log->pending.seq + 1;
    f.time_ms = fg_time_wall_ms();
    uint8_t canon[FG_AUDIT_CANONICAL_MAX], mac[FG_HASH_LEN];
    size_t len = 0;
    fg_rc rc = audit_canonical(&f, canon, sizeof canon, &len);
    assert(rc == FG_OK); /* the record's arrays bound every field */
    if (rc != FG_OK)
        return FG_ERR_INTERNAL;
    rc = audit_chain_mac(log->alg, log->current, canon, len, log->pending.mac, mac);
    if (rc == FG_OK)
        rc = record_insert(conn, &f, mac);
    if (rc != FG_OK)
        return rc;
    log->pending.seq = f.seq;
    memcpy(log->pending.mac, mac, FG_HASH_LEN);
    rec->seq = f.seq;
    rec->time_ms = f.time_ms;
    rec->next_ = log->batch_records ? log->batch_records : &list_end;
    log->batch_records = rec;
    return FG_OK;
}

/* Sign and insert a checkpoint; queue its anchor line. */
static fg_rc checkpoint_write(fg_audit_log *log, fg_conn *conn, enum audit_cp_kind kind,
                              int64_t seq, const uint8_t mac[FG_HASH_LEN], int64_t time_ms)
{
    assert(seq >= 1);
    struct audit_checkpoint cp = {
        .kind = kind, .seq = seq, .time_ms = time_ms, .sign_version = log->sign_version};
    memcpy(cp.mac, mac, FG_HASH_LEN);
    uint8_t msg[AUDIT_CP_MESSAGE_LEN];
    audit_cp_message(log->suite, &cp, msg);
    fg_rc rc = fg_sign(log->suite, log->sign_private, msg, sizeof msg, cp.sig, &cp.sig_len);
    if (rc != FG_OK)
        return rc;
    assert(cp.sig_len > 0 && cp.sig_len <= FG_SIGN_SIG_MAX);
    struct fg_val p[6] = {FG_VSTR(audit_cp_kind_name(kind)),
                          FG_VINT(seq),
                          FG_VINT(time_ms),
                          FG_VBLOB(cp.mac, FG_HASH_LEN),
                          FG_VINT(cp.sign_version),
                          FG_VBLOB(cp.sig, cp.sig_len)};
    rc = fg_conn_exec(conn,
                      "INSERT INTO audit_checkpoint (kind, seq, time_ms, mac, sign_key_version, "
                      "signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      p, 6, NULL, NULL, NULL);
    if (rc == FG_OK && log->anchor_path != NULL)
        rc = audit_anchor_format(log->suite, &cp, &log->anchor_pending);
    return rc;
}

/* Write the queued lines and fsync; on failure cut the file back so no torn line stays. */
static void anchor_flush(fg_audit_log *log)
{
    if (log->anchor_pending.len == 0)
        return;
    assert(log->anchor_fd >= 0);
    const char *p = fg_buf_str(&log->anchor_pending);
    size_t left = log->anchor_pending.len;
    off_t before = lseek(log->anchor_fd, 0, SEEK_END);
    int ok = before >= 0;
    while (ok && left > 0) {
        ssize_t n = write(log->anchor_fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        if (ok) {
            p += n;
            left -= (size_t)n;
        }
    }
    if (ok)
        ok = fsync(log->anchor_fd) == 0;
    if (!ok) {
        int err = errno;
        if (before >= 0)
            (void)ftruncate(log->anchor_fd, before);
        atomic_fetch_add(&log->anchor_failures, 1);
        fg_log(FG_LOG_ERROR, "audit.anchor_write_failed", FG_LF_STR("path", log->anchor_path),
               FG_LF_STR("error", strerror(err)));
    }
    fg_buf_reset(&log->anchor_pending);
}

/* Forget the batch's record list; on rollback the records were never stored. */
static void batch_forget(fg_audit_log *log, int rolled_back)
{
    struct fg_audit_record *r = log->batch_records;
    while (r != NULL && r != &list_end) {
        struct fg_audit_record *next = r->next_;
        r->next_ = NULL;
        if (rolled_back) {
            r->seq = 0;
            r->time_ms = 0;
        }
        r = next;
    }
    log->batch_records = NULL;
    log->force_checkpoint = 0;
}

/* ---- the hooks --------------------------------------------------------------------------- */

static fg_rc hook_after_intent(void *ctx, fg_conn *conn, struct fg_intent *intent)
{
    fg_audit_log *log = ctx;
    assert(log != NULL && intent != NULL);
    if (intent->record == NULL)
        return FG_OK;
    fg_rc rc = log_load(log, conn);
    return rc != FG_OK ? rc : append(log, conn, intent->record, intent->rc);
}

static fg_rc hook_before_commit(void *ctx, fg_conn *conn)
{
    fg_audit_log *log = ctx;
    assert(log != NULL);
    if (!log->loaded)
        return FG_OK; /* nothing appended: nothing to checkpoint */
    struct chain *p = &log->pending;
    if (p->seq <= p->cp_seq)
        return FG_OK;
    int64_t now = fg_time_wall_ms();
    int due = log->force_checkpoint || p->seq - p->cp_seq >= (int64_t)log->checkpoint_records ||
              now - p->cp_time_ms >= log->checkpoint_interval_ms;
    if (!due)
        return FG_OK;
    fg_rc rc = checkpoint_write(log, conn, AUDIT_CP_CHECKPOINT, p->seq, p->mac, now);
    if (rc == FG_OK) {
        p->cp_seq = p->seq;
        p->cp_time_ms = now;
    }
    return rc;
}

static void hook_after_commit(void *ctx)
{
    fg_audit_log *log = ctx;
    assert(log != NULL);
    log->committed = log->pending;
    atomic_store(&log->committed_seq, log->committed.seq);
    batch_forget(log, 0);
    anchor_flush(log);
}

static void hook_after_rollback(void *ctx)
{
    fg_audit_log *log = ctx;
    assert(log != NULL);
    log->pending = log->committed;
    fg_buf_reset(&log->anchor_pending);
    batch_forget(log, 1);
}

void fg_audit_hooks(fg_audit_log *log, struct fg_store_hooks *out)
{
    assert(log != NULL && out != NULL);
    *out = (struct fg_store_hooks){
        .after_intent = hook_after_intent,
        .before_commit = hook_before_commit,
        .after_commit = hook_after_commit,
        .after_rollback = hook_after_rollback,
        .ctx = log,
    };
}

void fg_audit_attach(fg_store *store, fg_audit_log *log)
{
    assert(store != NULL && log != NULL);
    struct fg_store_hooks hooks;
    fg_audit_hooks(log, &hooks);
    fg_store_set_hooks(store, &hooks);
}

/* ---- blocking helpers -------------------------------------------------------------------- */

fg_rc fg_audit_record_only(fg_conn *conn, void *arg)
{
    assert(conn != NULL);
    (void)arg;
    return FG_OK;
}

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static void waiter_done(struct fg_intent *intent)
{
    struct waiter *w = intent->done_ctx;
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv); /* under the lock: the waiter frees w right after */
    pthread_mutex_unlock(&w->mu);
}

fg_rc fg_audit_write(fg_store *store, fg_intent_fn fn, void *arg, struct fg_audit_record *rec)
{
    assert(store != NULL && fn != NULL);
    struct waiter w = {.done = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    struct fg_intent intent = {
        .fn = fn, .arg = arg, .done = waiter_done, .done_ctx = &w, .record = rec};
    fg_rc rc = fg_store_submit(store, &intent);
    if (rc == FG_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        rc = intent.rc;
    }
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return rc;
}

fg_rc fg_audit_write_denied(fg_store *store, struct fg_audit_record *rec, fg_rc why)
{
    assert(rec != NULL && why != FG_OK);
    fg_audit_record_result(rec, FG_AUDIT_RESULT_DENIED, why);
    return fg_audit_write(store, fg_audit_record_only, NULL, rec);
}

static fg_rc force_checkpoint_fn(fg_conn *conn, void *arg)
{
    fg_audit_log *log = arg;
    fg_rc rc = log_load(log, conn);
    if (rc == FG_OK)
        log->force_checkpoint = 1;
    return rc;
}

fg_rc fg_audit_checkpoint_now(fg_store *store, fg_audit_log *log)
{
    assert(store != NULL && log != NULL);
    return fg_store_write(store, force_checkpoint_fn, log);
}

/* ---- retention --------------------------------------------------------------------------- */

struct expire_job {
    fg_audit_log *log;
    int64_t cutoff_ms;
    int64_t older_than_ms;
    struct fg_audit_record *rec;
    struct fg_audit_expire_result *res;
};

static fg_rc int_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct head_row *h = ctx;
    if (ncols != 1)
        return FG_ERR_CORRUPT;
    if (cols[0].type == FG_VAL_INT) {
        h->seq = cols[0].i;
        h->found = 1;
    }
    return FG_OK;
}

/* The chain's start (retention cut + 1, or 1) and the MAC before it. */
static fg_rc chain_start(fg_conn *conn, int64_t *start, uint8_t prev[FG_HASH_LEN])
{
    struct audit_checkpoint cut;
    int found = 0;
    fg_rc rc = audit_retention_latest(conn, &cut, &found);
    if (rc != FG_OK)
        return rc;
    *start = found ? cut.seq + 1 : 1;
    if (found)
        memcpy(prev, cut.mac, FG_HASH_LEN);
    else
        memset(prev, 0, FG_HASH_LEN);
    return FG_OK;
}

/* The last seq to delete: just before the first record young enough to keep, bounded. */
static fg_rc expire_cut(fg_conn *conn, const struct expire_job *job, int64_t start, int64_t *cut,
                        int *more)
{
    struct head_row keep = {.found = 0}, max = {.found = 0};
    struct fg_val p = FG_VINT(job->cutoff_ms);
    fg_rc rc = fg_conn_exec(conn,
                            "SELECT seq FROM audit_log WHERE time_ms >= ?1 ORDER BY seq "
                            "LIMIT 1",
                            &p, 1, int_row, &keep, NULL);
    if (rc == FG_OK && !keep.found)
        rc = fg_conn_exec(conn, "SELECT max(seq) FROM audit_log", NULL, 0, int_row, &max, NULL);
    if (rc != FG_OK)
        return rc;
    *cut = keep.found ? keep.seq - 1 : (max.found ? max.seq : start - 1);
    *more = 0;
    if (*cut - start + 1 > FG_AUDIT_EXPIRE_ROWS_MAX) {
        *cut = start + FG_AUDIT_EXPIRE_ROWS_MAX - 1;
        *more = 1;
    }
    return FG_OK;
}

static fg_rc expire_delete(fg_conn *conn, int64_t cut, int64_t *deleted)
{
    struct fg_val p = FG_VINT(cut);
    fg_rc rc =
        fg_conn_exec(conn, "DELETE FROM audit_log WHERE seq <= ?1", &p, 1, NULL, NULL, deleted);
    if (rc == FG_OK)
        rc = fg_conn_exec(conn,
                          "DELETE FROM audit_checkpoint WHERE kind = 'checkpoint' AND seq <= ?1",
                          &p, 1, NULL, NULL, NULL);
    return rc;
}

static fg_rc expire_fn(fg_conn *conn, void *arg)
{
    struct expire_job *job = arg;
    fg_audit_log *log = job->log;
    int64_t start, cut;
    int more;
    uint8_t prev[FG_HASH_LEN], cut_mac[FG_HASH_LEN];
    fg_rc rc = log_load(log, conn);
    if (rc == FG_OK)
        rc = chain_start(conn, &start, prev);
    if (rc == FG_OK)
        rc = expire_cut(conn, job, start, &cut, &more);
    if (rc != FG_OK)
        return rc;
    int64_t deleted = 0;
    size_t mark = log->anchor_pending.len;
    if (cut >= start) {
        struct fg_audit_report rep = {.problem = FG_AUDIT_INTACT};
        rc = audit_walk(conn, &log->keys, start, prev, cut, &rep, cut_mac);
        if (rc == FG_OK && (rep.problem != FG_AUDIT_INTACT || rep.last_seq != cut)) {
            fg_log(FG_LOG_ERROR, "audit.expire_refused",
                   FG_LF_STR("problem", fg_audit_problem_name(rep.problem)),
                   FG_LF_INT("first_bad_seq", rep.first_bad_seq), FG_LF_INT("cut_seq", cut));
            rc = FG_ERR_CORRUPT; /* never delete evidence of tampering */
        }
        if (rc == FG_OK)
            rc = checkpoint_write(log, conn, AUDIT_CP_RETENTION, cut, cut_mac, fg_time_wall_ms());
        if (rc == FG_OK)
            rc = expire_delete(conn, cut, &deleted);
    }
    if (rc == FG_OK) {
        *job->res = (struct fg_audit_expire_result){
            .cut_seq = cut >= start ? cut : 0, .deleted = deleted, .more = more};
        char details[160];
        int n = snprintf(details, sizeof details,
                         "{\"cut_seq\":%lld,\"deleted\":%lld,\"more\":%s,\"older_than_ms\":%lld}",
                         (long long)job->res->cut_seq, (long long)deleted, more ? "true" : "false",
                         (long long)job->older_than_ms);
        assert(n > 0 && (size_t)n < sizeof details);
        rc = fg_audit_record_details(job->rec, details, (size_t)n);
    }
    if (rc != FG_OK) { /* the savepoint rolls back: so must the queued anchor line */
        log->anchor_pending.len = mark;
        if (log->anchor_pending.data != NULL)
            log->anchor_pending.data[mark] = '\0';
    }
    return rc;
}

fg_rc fg_audit_expire(fg_store *store, fg_audit_log *log, int64_t older_than_ms,
                      const struct fg_audit_actor *who, struct fg_audit_expire_result *out)
{
    assert(store != NULL && log != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    if (older_than_ms == 0)
        older_than_ms = FG_AUDIT_RETENTION_DEFAULT_DAYS * MS_PER_DAY;
    struct fg_audit_record rec;
    fg_rc rc = fg_audit_record_init(&rec, who, "audit.expire", "audit_log", "");
    if (rc != FG_OK)
        return rc;
    if (older_than_ms < FG_AUDIT_RETENTION_MIN_DAYS * MS_PER_DAY) {
        char details[96];
        int n =
            snprintf(details, sizeof details, "{\"older_than_ms\":%lld}", (long long)older_than_ms);
        assert(n > 0 && (size_t)n < sizeof details);
        if (fg_audit_record_details(&rec, details, (size_t)n) != FG_OK)
            return FG_ERR_INTERNAL;
        rc = fg_audit_write_denied(store, &rec, FG_ERR_POLICY);
        out->record_seq = rec.seq;
        return rc != FG_OK ? rc : FG_ERR_POLICY;
    }
    struct expire_job job = {.log = log,
                             .cutoff_ms = fg_time_wall_ms() - older_than_ms,
                             .older_than_ms = older_than_ms,
                             .rec = &rec,
                             .res = out};
    rc = fg_audit_write(store, expire_fn, &job, &rec);
    out->record_seq = rec.seq;
    if (rc != FG_OK) {
        int64_t seq = rec.seq;
        memset(out, 0, sizeof *out);
        out->record_seq = seq;
    }
    fg_log(rc == FG_OK ? FG_LOG_INFO : FG_LOG_ERROR, "audit.expire",
           FG_LF_STR("rc", fg_rc_name(rc)), FG_LF_INT("cut_seq", out->cut_seq),
           FG_LF_INT("deleted", out->deleted), FG_LF_BOOL("more", out->more));
    return rc;
}
