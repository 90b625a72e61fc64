/*
 * verify.c — checking the audit log: the chain walker, checkpoints, the anchor file, and
 * reading records for the audit role.
 *
 * Verification runs in one read transaction so a live database is one snapshot, and it
 * takes the anchor file's size BEFORE that snapshot starts: every line within that size
 * was appended after its checkpoint committed, so the snapshot contains what it covers
 * (lines appended later are not read). Then, in constant memory:
 *   1. the start: the newest retention checkpoint (its signature checked), else seq 1 with
 *      a zero previous MAC;
 *   2. the walk (walk.c): audit_log in seq order, the chain recomputed; the first row that
 *      is missing (gap), unexpected, malformed or does not match stops it;
 *   3. every checkpoint row of audit_checkpoint and every line of the anchor file (in file
 *      order, which is commit order, not seq order) is checked on its own: its signature,
 *      then its (seq, MAC) against the chain — the cut for seq = start - 1, the stored MAC
 *      (which the walk proved equal to the chain) for a walked seq, and a validly signed
 *      checkpoint beyond the last record means the tail was cut.
 * Every finding is a candidate (problem, seq); the report keeps the one with the lowest
 * seq, the walk's own finding winning ties, so first_bad_seq is exact whatever order the
 * checks ran in. The walker is also what retention uses to re-verify records before
 * deleting them (audit.c).
 */
#include "audit/internal.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"

/* ---- checkpoint rows --------------------------------------------------------------------- */

#define CP_COLUMNS "kind, seq, time_ms, mac, sign_key_version, signature"

/* FG_ERR_CORRUPT if malformed; *seq_known says whether cp->seq could be read. */
static fg_rc cp_row_decode(const struct fg_val *c, int ncols, struct audit_checkpoint *cp,
                           int *seq_known)
{
    memset(cp, 0, sizeof *cp);
    *seq_known = 0;
    if (ncols != 6)
        return FG_ERR_CORRUPT;
    if (c[1].type == FG_VAL_INT && c[1].i >= 1) {
        cp->seq = c[1].i;
        *seq_known = 1;
    }
    if (c[0].type != FG_VAL_TEXT || !*seq_known || c[2].type != FG_VAL_INT ||
        c[3].type != FG_VAL_BLOB || c[3].n != FG_HASH_LEN || c[4].type != FG_VAL_INT ||
        c[4].i < 0 || c[4].i > (int64_t)UINT32_MAX || c[5].type != FG_VAL_BLOB || c[5].n == 0 ||
        c[5].n > FG_SIGN_SIG_MAX)
        return FG_ERR_CORRUPT;
    cp->kind = audit_cp_kind_parse(c[0].p, c[0].n);
    if (cp->kind == 0)
        return FG_ERR_CORRUPT;
    cp->time_ms = c[2].i;
    memcpy(cp->mac, c[3].p, FG_HASH_LEN);
    cp->sign_version = (uint32_t)c[4].i;
    memcpy(cp->sig, c[5].p, c[5].n);
    cp->sig_len = c[5].n;
    return FG_OK;
}

struct one_cp {
    struct audit_checkpoint cp;
    int found;
    int malformed;
};

static fg_rc one_cp_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct one_cp *o = ctx;
    int seq_known;
    o->found = 1;
    o->malformed = cp_row_decode(cols, ncols, &o->cp, &seq_known) != FG_OK;
    return FG_OK;
}

fg_rc audit_retention_latest(fg_conn *conn, struct audit_checkpoint *cp, int *found)
{
    assert(conn != NULL && cp != NULL && found != NULL);
    struct one_cp o = {.found = 0};
    fg_rc rc = fg_conn_exec(conn,
                            "SELECT " CP_COLUMNS " FROM audit_checkpoint WHERE kind = 'retention' "
                            "ORDER BY seq DESC, id DESC LIMIT 1",
                            NULL, 0, one_cp_row, &o, NULL);
    if (rc != FG_OK)
        return rc;
    if (o.found && o.malformed)
        return FG_ERR_CORRUPT;
    *found = o.found;
    *cp = o.cp;
    return FG_OK;
}

/* ---- verification ------------------------------------------------------------------------ */

struct verify {
    fg_conn *conn;
    const struct fg_audit_keys *keys;
    struct fg_audit_report *rep;
    int have_cut;
    uint8_t cut_mac[FG_HASH_LEN];
    int64_t walk_bad; /* seq of the walk's finding, INT64_MAX if none */
    int64_t best_key; /* sort key of the report's finding (INT64_MAX: unknown seq) */
};

/* Keep (problem, seq) if it is lower than what the report holds. key = the seq to compare
 * by; reported = what first_bad_seq says (0 for a line whose seq is unknown). */
static void finding(struct verify *v, enum fg_audit_problem problem, int64_t key, int64_t reported,
                    int64_t anchor_line)
{
    if (v->rep->problem != FG_AUDIT_INTACT && key >= v->best_key)
        return;
    v->rep->problem = problem;
    v->rep->first_bad_seq = reported;
    v->rep->anchor_line_bad = anchor_line;
    v->best_key = key;
}

struct mac_lookup {
    uint8_t mac[FG_HASH_LEN];
    int found;
};

static fg_rc mac_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct mac_lookup *m = ctx;
    if (ncols == 1 && cols[0].type == FG_VAL_BLOB && cols[0].n == FG_HASH_LEN) {
        memcpy(m->mac, cols[0].p, FG_HASH_LEN);
        m->found = 1;
    }
    return FG_OK;
}

/* One checkpoint from either source, against the chain. */
static fg_rc check_cp(struct verify *v, const struct audit_checkpoint *cp, int64_t anchor_line)
{
    const struct fg_audit_report *r = v->rep;
    if (audit_cp_verify(v->keys, cp) != FG_OK) {
        finding(v, FG_AUDIT_CHECKPOINT_SIGNATURE, cp->seq, cp->seq, anchor_line);
        return FG_OK;
    }
    if (cp->seq < r->start_seq) {
        /* Behind the cut: only the cut itself can be compared. */
        if (cp->seq == r->start_seq - 1 && v->have_cut &&
            !fg_ct_equal(cp->mac, v->cut_mac, FG_HASH_LEN))
            finding(v, FG_AUDIT_CHECKPOINT_MISMATCH, cp->seq, cp->seq, anchor_line);
        return FG_OK;
    }
    if (cp->seq >= v->walk_bad)
        return FG_OK; /* the walk's finding is lower */
    if (cp->seq > r->last_seq) {
        finding(v, FG_AUDIT_TRUNCATED, r->last_seq + 1, r->last_seq + 1, anchor_line);
        return FG_OK;
    }
    struct mac_lookup m = {.found = 0};
    struct fg_val p = FG_VINT(cp->seq);
    fg_rc rc =
        fg_conn_exec(v->conn, "SELECT mac FROM audit_log WHERE seq = ?1", &p, 1, mac_row, &m, NULL);
    if (rc != FG_OK)
        return rc;
    if (!m.found || !fg_ct_equal(m.mac, cp->mac, FG_HASH_LEN))
        finding(v, FG_AUDIT_CHECKPOINT_MISMATCH, cp->seq, cp->seq, anchor_line);
    return FG_OK;
}

static fg_rc cp_table_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct verify *v = ctx;
    struct audit_checkpoint cp;
    int seq_known;
    v->rep->checkpoints++;
    if (cp_row_decode(cols, ncols, &cp, &seq_known) != FG_OK) {
        int64_t seq = seq_known ? cp.seq : INT64_MAX;
        finding(v, FG_AUDIT_CHECKPOINT_MALFORMED, seq, seq_known ? seq : 0, 0);
        return FG_OK;
    }
    return check_cp(v, &cp, 0);
}

/* The anchor file, opened before the snapshot; `limit` = its size then. */
struct anchor {
    FILE *f;
    long long limit;
};

static fg_rc anchor_open(const char *path, struct anchor *a)
{
    *a = (struct anchor){NULL, 0};
    if (path == NULL)
        return FG_OK;
    a->f = fopen(path, "re");
    if (a->f == NULL)
        return errno == ENOENT ? FG_OK : FG_ERR_IO; /* no checkpoint anchored yet */
    struct stat st;
    if (fstat(fileno(a->f), &st) != 0) {
        fclose(a->f);
        a->f = NULL;
        return FG_ERR_IO;
    }
    a->limit = (long long)st.st_size;
    return FG_OK;
}

/* Skip the rest of an over-long line; 0 at end of file. */
static int skip_line(FILE *f, long long *consumed)
{
    int c;
    while ((c = fgetc(f)) != EOF) {
        (*consumed)++;
        if (c == '\n')
            return 1;
    }
    return 0;
}

static fg_rc anchor_check(struct verify *v, struct anchor *a)
{
    char line[FG_AUDIT_ANCHOR_LINE_MAX + 2];
    long long consumed = 0;
    int64_t lineno = 0;
    while (a->f != NULL && consumed < a->limit && fgets(line, sizeof line, a->f) != NULL) {
        size_t n = strlen(line);
        lineno++;
        if (consumed + (long long)n > a->limit || (line[n - 1] != '\n' && feof(a->f))) {
            v->rep->anchor_partial = 1; /* written after we looked, or torn: not ours */
            break;
        }
        consumed += (long long)n;
        if (line[n - 1] != '\n') { /* longer than any line we write */
            finding(v, FG_AUDIT_ANCHOR_MALFORMED, INT64_MAX, 0, lineno);
            if (!skip_line(a->f, &consumed))
                break;
            continue;
        }
        struct audit_checkpoint cp;
        if (audit_anchor_parse(line, n - 1, v->keys->suite, &cp) != FG_OK) {
            finding(v, FG_AUDIT_ANCHOR_MALFORMED, INT64_MAX, 0, lineno);
            continue;
        }
        v->rep->anchor_lines++;
        fg_rc rc = check_cp(v, &cp, lineno);
        if (rc != FG_OK)
            return rc;
    }
    if (a->f != NULL && ferror(a->f))
        return FG_ERR_IO;
    return FG_OK;
}

/* Steps 1-3 of the file comment, inside the read transaction. */
static fg_rc verify_snapshot(struct verify *v, struct anchor *a)
{
    struct audit_checkpoint cut;
    int found = 0;
    uint8_t prev[FG_HASH_LEN] = {0}, last[FG_HASH_LEN];
    int64_t start = 1;
    fg_rc rc = audit_retention_latest(v->conn, &cut, &found);
    if (rc == FG_ERR_CORRUPT) {
        finding(v, FG_AUDIT_CHECKPOINT_MALFORMED, INT64_MAX, 0, 0);
        return FG_OK;
    }
    if (rc != FG_OK)
        return rc;
    if (found) {
        if (audit_cp_verify(v->keys, &cut) != FG_OK) {
            finding(v, FG_AUDIT_CHECKPOINT_SIGNATURE, cut.seq, cut.seq, 0);
            return FG_OK; /* without a trustworthy start nothing else means anything */
        }
        v->have_cut = 1;
        memcpy(v->cut_mac, cut.mac, FG_HASH_LEN);
        memcpy(prev, cut.mac, FG_HASH_LEN);
        start = cut.seq + 1;
    }
    rc = audit_walk(v->conn, v->keys, start, prev, INT64_MAX, v->rep, last);
    if (rc != FG_OK)
        return rc;
    if (v->rep->problem != FG_AUDIT_INTACT) {
        v->walk_bad = v->rep->first_bad_seq;
        v->best_key = v->walk_bad;
    }
    rc = fg_conn_exec(v->conn, "SELECT " CP_COLUMNS " FROM audit_checkpoint ORDER BY seq, id", NULL,
                      0, cp_table_row, v, NULL);
    if (rc == FG_OK)
        rc = anchor_check(v, a);
    return rc;
}

fg_rc fg_audit_verify(fg_conn *conn, const struct fg_audit_keys *keys, const char *anchor_path,
                      struct fg_audit_report *out)
{
    assert(conn != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    fg_rc rc = audit_keys_check(keys);
    if (rc != FG_OK)
        return rc;
    struct anchor a;
    rc = anchor_open(anchor_path, &a); /* before the snapshot: see the file comment */
    if (rc != FG_OK)
        return rc;
    struct verify v = {
        .conn = conn, .keys = keys, .rep = out, .walk_bad = INT64_MAX, .best_key = INT64_MAX};
    rc = fg_conn_exec(conn, "BEGIN", NULL, 0, NULL, NULL, NULL);
    if (rc == FG_OK) {
        rc = verify_snapshot(&v, &a);
        fg_rc end =
            fg_conn_exec(conn, rc == FG_OK ? "COMMIT" : "ROLLBACK", NULL, 0, NULL, NULL, NULL);
        if (rc == FG_OK)
            rc = end;
    }
    if (a.f != NULL)
        fclose(a.f);
    if (rc != FG_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (out->problem != FG_AUDIT_INTACT) {
        fg_log(FG_LOG_WARN, "audit.verify_failed",
               FG_LF_STR("problem", fg_audit_problem_name(out->problem)),
               FG_LF_INT("first_bad_seq", out->first_bad_seq),
               FG_LF_INT("anchor_line", out->anchor_line_bad));
        return FG_ERR_CORRUPT;
    }
    return FG_OK;
}

fg_rc fg_audit_verify_file(const char *db_path, const struct fg_audit_keys *keys,
                           const char *anchor_path, struct fg_audit_report *out)
{
    assert(db_path != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    struct fg_store_options opt = {.path = db_path, .readonly = 1, .read_pool_max = 1};
    fg_store *st = NULL;
    fg_rc rc = fg_store_open(&opt, &st);
    if (rc != FG_OK)
        return rc;
    fg_conn *conn = NULL;
    rc = fg_store_read_acquire(st, &conn);
    if (rc == FG_OK) {
        rc = fg_audit_verify(conn, keys, anchor_path, out);
        fg_store_read_release(st, conn);
    }
    fg_store_close(st);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------------- */

struct scan {
    fg_audit_scan_fn fn;
    void *ctx;
    fg_rc fn_rc;
};

static void text_copy(char *dst, const struct audit_text *t)
{
    if (t->n > 0)
        memcpy(dst, t->p, t->n);
    dst[t->n] = '\0';
}

static fg_rc scan_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct scan *s = ctx;
    struct audit_fields f;
    uint8_t mac[FG_HASH_LEN];
    if (audit_row_decode(cols, ncols, &f, mac) != FG_OK)
        return FG_ERR_CORRUPT;
    for (int i = 0; i < AUDIT_TEXT_FIELDS; i++)
        if (memchr(f.text[i].p, '\0', f.text[i].n) != NULL)
            return FG_ERR_CORRUPT; /* a record's text never holds NUL */
    struct fg_audit_record rec;
    memset(&rec, 0, offsetof(struct fg_audit_record, details));
    char *dst[AUDIT_TEXT_FIELDS] = {
        rec.request_id, rec.actor_id,    rec.actor_role, rec.source_ip,  rec.device_id,
        rec.action,     rec.object_type, rec.object_id,  rec.error_code, rec.details,
    };
    for (int i = 0; i < AUDIT_TEXT_FIELDS; i++)
        text_copy(dst[i], &f.text[i]);
    rec.seq = f.seq;
    rec.time_ms = f.time_ms;
    rec.result = (enum fg_audit_result)f.result;
    rec.details_redacted_ = 1;
    rec.next_ = NULL;
    s->fn_rc = s->fn(s->ctx, &rec, f.key_version, mac);
    return s->fn_rc;
}

fg_rc fg_audit_scan(fg_conn *conn, int64_t from_seq, int64_t limit, fg_audit_scan_fn fn, void *ctx)
{
    assert(conn != NULL && fn != NULL);
    assert(limit >= 0);
    struct scan s = {.fn = fn, .ctx = ctx, .fn_rc = FG_OK};
    struct fg_val p[2] = {FG_VINT(from_seq), FG_VINT(limit)};
    fg_rc rc = fg_conn_exec(conn,
                            "SELECT " AUDIT_ROW_COLUMNS " FROM audit_log WHERE seq >= ?1 "
                            "ORDER BY seq LIMIT ?2",
                            p, 2, scan_row, &s, NULL);
    return s.fn_rc != FG_OK ? s.fn_rc : rc;
}
