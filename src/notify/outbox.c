/*
 * outbox.c — the outbox table, the pending buffer and the file sink.
 *
 * fg_outbox_add validates the message, draws a random row id, seals recipient and text
 * under that id, formats the sink line straight into the pending buffer (locked memory:
 * it holds codes) and inserts the row; if the insert fails the line is cut off again, so a
 * failed add leaves nothing. The pending buffer is one byte range [0, len) with a mark
 * `kept`: [0, kept) holds the lines of intents that finished well in this batch, [kept, len)
 * those of the intent still running. after_intent moves the mark or wipes back to it;
 * after_commit writes [0, kept) with one write(2) (looping only on a short write) and one
 * fsync, then wipes; after_rollback wipes. Because the writer runs intents one after
 * another and calls the hooks in between, the buffer's order is the commit order.
 * fg_outbox_tail finds the start of the last n lines by reading blocks backwards from the
 * end of the file, then copies forwards.
 */
#include "notify/outbox.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/encode.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "protect/protect.h"

#define OUTBOX_TABLE "outbox_message"
#define OUTBOX_ID_BYTES 16u
#define OUTBOX_ID_SIZE (FG_HEX_LEN(OUTBOX_ID_BYTES) + 1u)
#define OUTBOX_TAIL_BLOCK 4096u /* bytes read per step when scanning backwards */

_Static_assert(2u * (FG_OUTBOX_TO_MAX + FG_OUTBOX_PURPOSE_MAX + FG_OUTBOX_TEXT_MAX +
                     FG_OUTBOX_CODE_MAX) +
                       FG_TIME_RFC3339_LEN + 128u <=
                   FG_OUTBOX_LINE_MAX,
               "a line at every maximum fits FG_OUTBOX_LINE_MAX");
_Static_assert(FG_OUTBOX_LINE_MAX <= FG_OUTBOX_PENDING_BYTES_MAX, "one line fits a batch");
_Static_assert(FG_OUTBOX_TEXT_MAX <= FG_PROTECT_PLAINTEXT_MAX, "text can be sealed");

struct fg_outbox {
    pthread_mutex_t mu;
    enum fg_outbox_sink sink;
    fg_keys *keys;
    int fd;        /* sink file, -1 for SINK_NONE */
    char *pending; /* FG_OUTBOX_PENDING_BYTES_MAX bytes of locked memory */
    size_t len;    /* bytes pending */
    size_t kept;   /* bytes of finished, successful intents */
    uint64_t len_lines, kept_lines;
    struct fg_store_hooks inner; /* hooks chained inside ours (the audit log's), or none */
    _Atomic uint64_t added, sent, dropped, batches, sink_failures;
};

const char *fg_outbox_channel_name(enum fg_outbox_channel channel)
{
    switch (channel) {
    case FG_OUTBOX_SMS:
        return "sms";
    case FG_OUTBOX_EMAIL:
        return "email";
    }
    return NULL;
}

const char *fg_outbox_sink_name(enum fg_outbox_sink sink)
{
    return sink == FG_OUTBOX_SINK_FILE ? "file" : sink == FG_OUTBOX_SINK_NONE ? "none" : NULL;
}

fg_rc fg_outbox_sink_parse(const char *name, enum fg_outbox_sink *out)
{
    assert(out != NULL);
    if (name != NULL && strcmp(name, "file") == 0)
        *out = FG_OUTBOX_SINK_FILE;
    else if (name != NULL && strcmp(name, "none") == 0)
        *out = FG_OUTBOX_SINK_NONE;
    else
        return FG_ERR_INVALID;
    return FG_OK;
}

/* ---- life ----------------------------------------------------------------------------- */

static fg_rc sink_path(const char *data_dir, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%s", data_dir, FG_OUTBOX_FILE);
    return n < 0 || (size_t)n >= size ? FG_ERR_TOO_LARGE : FG_OK;
}

fg_rc fg_outbox_new(const struct fg_outbox_options *opt, fg_outbox **out)
{
    assert(opt != NULL && out != NULL);
    *out = NULL;
    if (opt->keys == NULL ||
        (opt->sink != FG_OUTBOX_SINK_FILE && opt->sink != FG_OUTBOX_SINK_NONE) ||
        (opt->sink == FG_OUTBOX_SINK_FILE && (opt->data_dir == NULL || opt->data_dir[0] == '\0')))
        return FG_ERR_INVALID;
    char path[FG_PATH_MAX];
    if (opt->sink == FG_OUTBOX_SINK_FILE && sink_path(opt->data_dir, path, sizeof path) != FG_OK)
        return FG_ERR_INVALID;
    fg_outbox *ob = calloc(1, sizeof *ob);
    if (ob == NULL)
        return FG_ERR_NOMEM;
    ob->sink = opt->sink;
    ob->keys = opt->keys;
    ob->fd = -1;
    ob->pending = fg_secure_alloc(FG_OUTBOX_PENDING_BYTES_MAX);
    if (ob->pending == NULL) {
        free(ob);
        return FG_ERR_NOMEM;
    }
    pthread_mutex_init(&ob->mu, NULL);
    if (ob->sink == FG_OUTBOX_SINK_FILE) {
        ob->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (ob->fd < 0) {
            fg_log(FG_LOG_ERROR, "outbox.open_failed", FG_LF_STR("path", path),
                   FG_LF_STR("error", strerror(errno)));
            fg_outbox_free(ob);
            return FG_ERR_IO;
        }
        fg_log(
            FG_LOG_WARN, "outbox.sink_file", FG_LF_STR("path", path),
            FG_LF_STR("note", "one-time codes are written in clear: development and tests only"));
    }
    *out = ob;
    return FG_OK;
}

void fg_outbox_free(fg_outbox *ob)
{
    if (ob == NULL)
        return;
    if (ob->fd >= 0)
        close(ob->fd);
    fg_secure_free(ob->pending); /* wipes */
    pthread_mutex_destroy(&ob->mu);
    free(ob);
}

fg_rc fg_outbox_register_columns(void)
{
    fg_rc rc = fg_protect_register_column(OUTBOX_TABLE, "id", "recipient_enc", FG_KEY_PII);
    if (rc == FG_OK)
        rc = fg_protect_register_column(OUTBOX_TABLE, "id", "text_enc", FG_KEY_PII);
    return rc;
}

/* ---- validation ----------------------------------------------------------------------- */

/* strnlen bounded by max: FG_ERR_INVALID if NULL or shorter than min, FG_ERR_TOO_LARGE over. */
static fg_rc field_len(const char *s, size_t min, size_t max, size_t *len)
{
    if (s == NULL)
        return FG_ERR_INVALID;
    *len = strnlen(s, max + 1);
    return *len > max ? FG_ERR_TOO_LARGE : *len < min ? FG_ERR_INVALID : FG_OK;
}

static int printable_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static int purpose_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* Valid UTF-8 (no overlong forms, no surrogates, ≤ U+10FFFF) without control characters
 * other than '\n' (C0, DEL; C1 controls U+0080..U+009F too). */
static int text_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n') || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        unsigned need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
        if (need == 0 || c > 0xf4 || n - i <= need)
            return 0;
        uint32_t cp = c & (0x3fu >> need);
        for (unsigned j = 1; j <= need; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3fu);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return 0;
        i += need + 1;
    }
    return 1;
}

struct msg_lens {
    size_t to, purpose, text, code;
};

static fg_rc msg_check(const struct fg_outbox_msg *m, struct msg_lens *l)
{
    if (fg_outbox_channel_name(m->channel) == NULL)
        return FG_ERR_INVALID;
    fg_rc rc = field_len(m->to, 1, FG_OUTBOX_TO_MAX, &l->to);
    if (rc == FG_OK)
        rc = field_len(m->purpose, 1, FG_OUTBOX_PURPOSE_MAX, &l->purpose);
    if (rc == FG_OK)
        rc = field_len(m->text, 0, FG_OUTBOX_TEXT_MAX, &l->text);
    l->code = 0;
    if (rc == FG_OK && m->code != NULL)
        rc = field_len(m->code, 1, FG_OUTBOX_CODE_MAX, &l->code);
    if (rc != FG_OK)
        return rc;
    if (!printable_ascii(m->to, l->to) || !purpose_ok(m->purpose, l->purpose) ||
        !text_ok(m->text, l->text) || (m->code != NULL && !printable_ascii(m->code, l->code)))
        return FG_ERR_INVALID;
    return FG_OK;
}

/* ---- the line ------------------------------------------------------------------------- */

/* An append cursor over the pending buffer: `full` sticks once anything did not fit. */
struct line {
    char *p;
    size_t cap, len;
    int full;
};

static void line_raw(struct line *w, const char *s, size_t n)
{
    if (w->full || w->cap - w->len < n) {
        w->full = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

/* Inside of a JSON string. Validation left '"', '\\' and '\n' as the only bytes to escape;
 * any other control byte would be escaped as \u00XX all the same. */
static void line_escaped(struct line *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n && !w->full; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            line_raw(w, e, 2);
        } else if (c == '\n') {
            line_raw(w, "\\n", 2);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
            line_raw(w, e, 6);
        } else {
            line_raw(w, (const char *)&s[i], 1);
        }
    }
}

static void line_member(struct line *w, const char *key, const char *val, size_t n, int first)
{
    line_raw(w, first ? "{\"" : ",\"", 2);
    line_raw(w, key, strlen(key));
    line_raw(w, "\":\"", 3);
    line_escaped(w, val, n);
    line_raw(w, "\"", 1);
}

/* Append m's sink line at ob->len; FG_ERR_LIMIT if the batch's buffer is full. */
static fg_rc line_append(fg_outbox *ob, const struct fg_outbox_msg *m, const struct msg_lens *l,
                         int64_t created_ms)
{
    char when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(created_ms, when);
    const char *channel = fg_outbox_channel_name(m->channel);
    struct line w = {.p = ob->pending + ob->len, .cap = FG_OUTBOX_PENDING_BYTES_MAX - ob->len};
    line_member(&w, "time", when, strlen(when), 1);
    line_member(&w, "to", m->to, l->to, 0);
    line_member(&w, "channel", channel, strlen(channel), 0);
    line_member(&w, "purpose", m->purpose, l->purpose, 0);
    if (m->code != NULL)
        line_member(&w, "code", m->code, l->code, 0);
    line_member(&w, "text", m->text, l->text, 0);
    line_raw(&w, "}\n", 2);
    if (w.full) {
        fg_wipe(w.p, w.len); /* what was written before it ran out */
        return FG_ERR_LIMIT;
    }
    assert(w.len <= FG_OUTBOX_LINE_MAX);
    ob->len += w.len;
    ob->len_lines++;
    return FG_OK;
}

/* ---- add ------------------------------------------------------------------------------ */

struct sealed_msg {
    char id[OUTBOX_ID_SIZE];
    uint8_t to[FG_PROTECT_SEALED_MAX(FG_OUTBOX_TO_MAX)];
    size_t to_len;
    uint8_t text[FG_PROTECT_SEALED_MAX(FG_OUTBOX_TEXT_MAX)];
    size_t text_len;
};

static fg_rc msg_seal(fg_keys *k, const struct fg_outbox_msg *m, const struct msg_lens *l,
                      struct sealed_msg *s)
{
    /* time-ordered: 6 bytes of the wall time in ms (big-endian), then random bytes, so new
     * rows append to the id index instead of dirtying a random page each */
    uint8_t raw[OUTBOX_ID_BYTES];
    uint64_t ms = (uint64_t)fg_time_wall_ms();
    for (int i = 5; i >= 0; i--, ms >>= 8)
        raw[i] = (uint8_t)(ms & 0xffu);
    fg_rc rc = fg_random(raw + 6, sizeof raw - 6);
    if (rc == FG_OK)
        rc = fg_hex_encode(raw, sizeof raw, s->id, sizeof s->id);
    if (rc == FG_OK)
        rc = fg_protect_seal(k, FG_KEY_PII, OUTBOX_TABLE, "recipient_enc", s->id, m->to, l->to,
                             s->to, sizeof s->to, &s->to_len);
    if (rc == FG_OK)
        rc = fg_protect_seal(k, FG_KEY_PII, OUTBOX_TABLE, "text_enc", s->id, m->text, l->text,
                             s->text, sizeof s->text, &s->text_len);
    return rc;
}

static fg_rc msg_insert(fg_conn *conn, const struct fg_outbox_msg *m, const struct msg_lens *l,
                        const struct sealed_msg *s, int64_t created_ms)
{
    struct fg_val p[] = {
        FG_VSTR(s->id),
        FG_VINT(created_ms),
        FG_VSTR(fg_outbox_channel_name(m->channel)),
        FG_VTEXT(m->purpose, l->purpose),
        FG_VBLOB(s->to, s->to_len),
        FG_VBLOB(s->text, s->text_len),
        FG_VINT(m->code != NULL),
    };
    return fg_conn_exec(conn,
                        "INSERT INTO outbox_message (id, created_ms, channel, purpose, "
                        "recipient_enc, text_enc, has_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        p, (int)(sizeof p / sizeof p[0]), NULL, NULL, NULL);
}

fg_rc fg_outbox_add(fg_outbox *ob, fg_conn *conn, const struct fg_outbox_msg *m)
{
    assert(ob != NULL && conn != NULL && m != NULL);
    struct msg_lens l;
    fg_rc rc = msg_check(m, &l);
    if (rc != FG_OK)
        return rc;
    struct sealed_msg *s = malloc(sizeof *s); /* ~1.4 KiB: not for the writer's stack */
    if (s == NULL)
        return FG_ERR_NOMEM;
    int64_t created_ms = fg_time_wall_ms();
    rc = msg_seal(ob->keys, m, &l, s);
    pthread_mutex_lock(&ob->mu);
    size_t mark = ob->len;
    if (rc == FG_OK && ob->sink != FG_OUTBOX_SINK_NONE)
        rc = line_append(ob, m, &l, created_ms);
    if (rc == FG_OK)
        rc = msg_insert(conn, m, &l, s, created_ms);
    if (rc != FG_OK && ob->len > mark) {
        fg_wipe(ob->pending + mark, ob->len - mark);
        ob->len = mark;
        ob->len_lines--;
    }
    pthread_mutex_unlock(&ob->mu);
    free(s);
    if (rc == FG_OK)
        atomic_fetch_add(&ob->added, 1);
    return rc;
}

/* ---- the commit protocol ---------------------------------------------------------------- */

void fg_outbox_after_intent(fg_outbox *ob, fg_rc intent_rc)
{
    assert(ob != NULL);
    pthread_mutex_lock(&ob->mu);
    assert(ob->kept <= ob->len);
    if (intent_rc == FG_OK) {
        ob->kept = ob->len;
        ob->kept_lines = ob->len_lines;
    } else if (ob->len > ob->kept) {
        fg_wipe(ob->pending + ob->kept, ob->len - ob->kept);
        atomic_fetch_add(&ob->dropped, ob->len_lines - ob->kept_lines);
        ob->len = ob->kept;
        ob->len_lines = ob->kept_lines;
    }
    pthread_mutex_unlock(&ob->mu);
}

static void pending_clear(fg_outbox *ob)
{
    fg_wipe(ob->pending, ob->len);
    ob->len = ob->kept = 0;
    ob->len_lines = ob->kept_lines = 0;
}

/* One write (looping only on short writes and EINTR) and one fsync; *err = errno. */
static fg_rc sink_write(int fd, const char *p, size_t n, int *err)
{
    *err = 0;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            *err = w < 0 ? errno : EIO;
            return *err == ENOSPC ? FG_ERR_DISK_FULL : FG_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        *err = errno;
        return FG_ERR_IO;
    }
    return FG_OK;
}

void fg_outbox_after_commit(fg_outbox *ob)
{
    assert(ob != NULL);
    pthread_mutex_lock(&ob->mu);
    if (ob->len > ob->kept) {
        /* An intent's lines were never settled: after_intent is not chained. Fail closed. */
        fg_log(FG_LOG_ERROR, "outbox.unsettled_intent",
               FG_LF_INT("lines", ob->len_lines - ob->kept_lines));
        atomic_fetch_add(&ob->dropped, ob->len_lines - ob->kept_lines);
        assert(!"fg_outbox_after_intent is not chained into the store hooks");
    }
    if (ob->kept > 0 && ob->fd >= 0) {
        int err = 0;
        fg_rc rc = sink_write(ob->fd, ob->pending, ob->kept, &err);
        atomic_fetch_add(&ob->batches, 1);
        if (rc == FG_OK) {
            atomic_fetch_add(&ob->sent, ob->kept_lines);
        } else {
            atomic_fetch_add(&ob->sink_failures, 1);
            fg_log(FG_LOG_ERROR, "outbox.sink_failed", FG_LF_STR("rc", fg_rc_name(rc)),
                   FG_LF_STR("error", strerror(err)), FG_LF_INT("lines", ob->kept_lines));
        }
    }
    pending_clear(ob);
    pthread_mutex_unlock(&ob->mu);
}

void fg_outbox_after_rollback(fg_outbox *ob)
{
    assert(ob != NULL);
    pthread_mutex_lock(&ob->mu);
    atomic_fetch_add(&ob->dropped, ob->len_lines);
    pending_clear(ob);
    pthread_mutex_unlock(&ob->mu);
}

/* The chain: the inner hooks first (the audit record must be appended before anything is
 * decided; if it fails, the batch rolls back and after_rollback drops our lines), then ours. */
static fg_rc hook_after_intent(void *ctx, fg_conn *conn, struct fg_intent *intent)
{
    fg_outbox *ob = ctx;
    fg_rc rc = FG_OK;
    if (ob->inner.after_intent != NULL)
        rc = ob->inner.after_intent(ob->inner.ctx, conn, intent);
    fg_outbox_after_intent(ob, intent->rc);
    return rc;
}

static fg_rc hook_before_commit(void *ctx, fg_conn *conn)
{
    fg_outbox *ob = ctx;
    return ob->inner.before_commit != NULL ? ob->inner.before_commit(ob->inner.ctx, conn) : FG_OK;
}

static void hook_after_commit(void *ctx)
{
    fg_outbox *ob = ctx;
    if (ob->inner.after_commit != NULL)
        ob->inner.after_commit(ob->inner.ctx);
    fg_outbox_after_commit(ob);
}

static void hook_after_rollback(void *ctx)
{
    fg_outbox *ob = ctx;
    if (ob->inner.after_rollback != NULL)
        ob->inner.after_rollback(ob->inner.ctx);
    fg_outbox_after_rollback(ob);
}

void fg_outbox_hooks(fg_outbox *ob, const struct fg_store_hooks *inner, struct fg_store_hooks *out)
{
    assert(ob != NULL && out != NULL);
    assert(inner == NULL || inner->after_intent != hook_after_intent); /* not ourselves */
    ob->inner = inner != NULL ? *inner : (struct fg_store_hooks){0};
    *out = (struct fg_store_hooks){
        .after_intent = hook_after_intent,
        .before_commit = hook_before_commit,
        .after_commit = hook_after_commit,
        .after_rollback = hook_after_rollback,
        .ctx = ob,
    };
}

void fg_outbox_attach(fg_store *store, fg_outbox *ob, const struct fg_store_hooks *inner)
{
    assert(store != NULL && ob != NULL);
    struct fg_store_hooks hooks;
    fg_outbox_hooks(ob, inner, &hooks);
    fg_store_set_hooks(store, &hooks);
}

void fg_outbox_stats(fg_outbox *ob, struct fg_outbox_stats *out)
{
    assert(ob != NULL && out != NULL);
    *out = (struct fg_outbox_stats){
        .added = atomic_load(&ob->added),
        .sent = atomic_load(&ob->sent),
        .dropped = atomic_load(&ob->dropped),
        .batches = atomic_load(&ob->batches),
        .sink_failures = atomic_load(&ob->sink_failures),
    };
}

/* ---- tail ----------------------------------------------------------------------------- */

/* The offset where the last n lines of the file (size bytes) begin. A final line without its
 * '\n' (a torn write) counts as a line. */
static fg_rc tail_start(int fd, off_t size, unsigned n, off_t *start)
{
    char block[OUTBOX_TAIL_BLOCK];
    off_t end = size;
    unsigned seen = 0;
    /* The newline that ends the last line does not start a line. */
    if (size > 0 && pread(fd, block, 1, size - 1) == 1 && block[0] == '\n')
        end = size - 1;
    *start = 0;
    while (end > 0) {
        size_t want = end >= (off_t)sizeof block ? sizeof block : (size_t)end;
        off_t at = end - (off_t)want;
        ssize_t got = pread(fd, block, want, at);
        if (got != (ssize_t)want)
            return FG_ERR_IO;
        for (size_t i = want; i-- > 0;) {
            if (block[i] == '\n' && ++seen == n) {
                *start = at + (off_t)i + 1;
                return FG_OK;
            }
        }
        end = at;
    }
    return FG_OK;
}

static fg_rc tail_copy(int fd, off_t from, off_t size, FILE *out)
{
    char block[OUTBOX_TAIL_BLOCK];
    while (from < size) {
        size_t want = size - from >= (off_t)sizeof block ? sizeof block : (size_t)(size - from);
        ssize_t got = pread(fd, block, want, from);
        if (got <= 0)
            return FG_ERR_IO;
        if (fwrite(block, 1, (size_t)got, out) != (size_t)got)
            return FG_ERR_IO;
        from += got;
    }
    return fflush(out) == 0 ? FG_OK : FG_ERR_IO;
}

fg_rc fg_outbox_tail(const char *data_dir, unsigned n, FILE *out)
{
    assert(data_dir != NULL && out != NULL);
    if (n > FG_OUTBOX_TAIL_MAX)
        return FG_ERR_LIMIT;
    char path[FG_PATH_MAX];
    if (sink_path(data_dir, path, sizeof path) != FG_OK)
        return FG_ERR_INVALID;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? FG_ERR_NOT_FOUND : FG_ERR_IO;
    struct stat st;
    fg_rc rc = fstat(fd, &st) == 0 ? FG_OK : FG_ERR_IO;
    off_t start = st.st_size;
    if (rc == FG_OK && n > 0)
        rc = tail_start(fd, st.st_size, n, &start);
    if (rc == FG_OK)
        rc = tail_copy(fd, start, st.st_size, out);
    close(fd);
    return rc;
}
