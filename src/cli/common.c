/*
 * common.c — helpers of the sub-commands (see common.h). The share reader keeps two
 * locked buffers: raw bytes read from fd 0 with read(2) (stdio would leave copies of the
 * shares in its own, unlocked buffer) and the line handed out. Bytes are consumed line by
 * line; whatever is consumed is wiped at once, and a line longer than any share is skipped
 * to its end and reported, never handed out.
 */
#include "cli/common.h"

#include <assert.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "cli/lock.h"
#include "cli/serve.h"
#include "crypto/crypto.h"
#include "iam/iam.h"
#include "iam/roles.h"
#include "ledger/customer.h"
#include "ledger/ledger.h"
#include "notify/outbox.h"
#include "protect/fields.h"

/* ---- messages and options ------------------------------------------------------------------ */

int fg_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "finguard %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'finguard %s --help')\n", cmd);
    return FG_CLI_EXIT_USAGE;
}

int fg_cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "finguard %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return FG_CLI_EXIT_FAIL;
}

int fg_cli_is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

int fg_cli_common_option(const char *cmd, int argc, char **argv, int *i, struct fg_cli_opts *o)
{
    assert(cmd != NULL && argv != NULL && i != NULL && o != NULL);
    const char *a = argv[*i];
    if (strcmp(a, "--config") != 0 && strcmp(a, "--data-dir") != 0 && strcmp(a, "--set") != 0)
        return 0;
    if (*i + 1 >= argc) {
        fg_cli_usage(cmd, "%s needs a value", a);
        return -1;
    }
    const char *v = argv[++*i];
    if (strcmp(a, "--config") == 0) {
        o->config_file = v;
    } else if (strcmp(a, "--data-dir") == 0) {
        o->data_dir = v;
    } else {
        if (o->nsets == FG_CLI_SETS_MAX) {
            fg_cli_usage(cmd, "too many %s options", a);
            return -1;
        }
        o->sets[o->nsets++] = v;
    }
    return 1;
}

fg_rc fg_cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    assert(s != NULL && out != NULL && min <= max);
    if (s[0] < '0' || s[0] > '9')
        return FG_ERR_INVALID; /* strtoul would accept blanks and a sign */
    errno = 0;
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return FG_ERR_INVALID;
    *out = v;
    return FG_OK;
}

/* ---- configuration, logging, paths ------------------------------------------------------------
 */

int fg_cli_setup(const char *cmd, const struct fg_cli_opts *o, struct fg_config *cfg)
{
    assert(cmd != NULL && o != NULL && cfg != NULL);
    struct fg_buf errors = FG_BUF_INIT(64u * 1024u);
    int bad = fg_cli_load_config(cfg, o->config_file, o->sets, o->nsets, &errors);
    if (!bad && o->data_dir != NULL &&
        fg_config_set(cfg, "storage", "data_dir", o->data_dir, "--data-dir", &errors) != FG_OK)
        bad = 1;
    if (bad) {
        fputs(fg_buf_str(&errors), stderr);
        fg_buf_release(&errors);
        return fg_cli_fail(cmd, "configuration is invalid");
    }
    fg_buf_release(&errors);
    enum fg_log_level level = FG_LOG_INFO;
    if (fg_log_level_parse(cfg->log_level, &level) != FG_OK)
        level = FG_LOG_INFO;
    if (cfg->log_file[0] != '\0') {
        if (fg_log_open_file(cfg->log_file) != FG_OK)
            return fg_cli_fail(cmd, "cannot open log file %s", cfg->log_file);
    } else if (level < FG_LOG_WARN) {
        level = FG_LOG_WARN; /* stderr is the command's own voice: only warnings and errors */
    }
    fg_log_set_level(level);
    return 0;
}

void fg_cli_teardown(void)
{
    fg_log_close();
}

fg_rc fg_cli_path(const char *data_dir, const char *name, char *out)
{
    assert(data_dir != NULL && name != NULL && out != NULL);
    int n = snprintf(out, FG_PATH_MAX, "%s/%s", data_dir, name);
    return n < 0 || (size_t)n >= FG_PATH_MAX ? FG_ERR_LIMIT : FG_OK;
}

fg_rc fg_cli_store_open(const char *cmd, const char *data_dir, int readonly, int must_exist,
                        fg_store **out)
{
    assert(cmd != NULL && data_dir != NULL && out != NULL);
    char path[FG_PATH_MAX];
    fg_rc rc = fg_cli_path(data_dir, FG_CLI_DB_FILE, path);
    if (rc) {
        fg_cli_fail(cmd, "data directory path is too long");
        return rc;
    }
    if ((readonly || must_exist) && access(path, F_OK) != 0) {
        fg_cli_fail(cmd, "no finguard database in %s (initialise it with 'finguard init')",
                    data_dir);
        return FG_ERR_NOT_FOUND;
    }
    struct fg_store_options opt = {.path = path, .readonly = readonly};
    rc = fg_store_open(&opt, out);
    if (rc)
        fg_cli_fail(cmd, "cannot open %s: %s", path, fg_rc_str(rc));
    return rc;
}

fg_rc fg_cli_lock(const char *cmd, const char *data_dir, const char *hint, int *fd_out)
{
    assert(cmd != NULL && data_dir != NULL && hint != NULL && fd_out != NULL);
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
        fg_cli_fail(cmd, "cannot create %s: %s", data_dir, strerror(errno));
        return FG_ERR_IO;
    }
    fg_rc rc = fg_cli_lock_data_dir(data_dir, fd_out);
    if (rc == FG_ERR_BUSY)
        fg_cli_fail(cmd, "a finguard server is using %s; %s", data_dir, hint);
    else if (rc)
        fg_cli_fail(cmd, "cannot lock %s: %s", data_dir, fg_rc_str(rc));
    return rc;
}

void fg_cli_actor_init(struct fg_cli_actor *a)
{
    assert(a != NULL);
    memset(a, 0, sizeof *a);
    uid_t uid = geteuid();
    const struct passwd *pw = getpwuid(uid); /* one thread asks: the static result is fine */
    if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0' &&
        strlen(pw->pw_name) <= FG_AUDIT_ACTOR_ID_MAX)
        snprintf(a->user, sizeof a->user, "%s", pw->pw_name);
    else
        snprintf(a->user, sizeof a->user, "uid-%lu", (unsigned long)uid);
    snprintf(a->request_id, sizeof a->request_id, "cli-%ld-%lld", (long)getpid(),
             (long long)fg_time_wall_ms());
    a->who = (struct fg_audit_actor){
        .request_id = a->request_id, .actor_id = a->user, .actor_role = "operator"};
}

fg_rc fg_cli_write_stdout(const void *p, size_t n)
{
    assert(p != NULL || n == 0);
    if (fflush(stdout) != 0)
        return FG_ERR_IO;
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FG_ERR_IO;
        c += w;
        n -= (size_t)w;
    }
    return FG_OK;
}

/* ---- shares from stdin -------------------------------------------------------------------------
 */

/* Raw bytes held at once: a whole over-long line's worth plus one, so "no newline within
 * FG_KEYS_SHARE_INPUT_MAX bytes" is always decidable. */
#define READ_CAP (2u * FG_KEYS_SHARE_INPUT_MAX + 2u)
#define LINE_CAP (FG_KEYS_SHARE_INPUT_MAX + 1u)

struct fg_cli_shares {
    char *raw;  /* locked: READ_CAP bytes read, not yet consumed = raw[start..len) */
    char *line; /* locked: LINE_CAP, the line handed out */
    size_t start, len;
    unsigned line_no; /* lines consumed so far */
    int eof;
    int skipping; /* inside an over-long line: drop bytes up to its newline */
    int tty;
    struct termios saved;
};

fg_rc fg_cli_shares_open(struct fg_cli_shares **out)
{
    assert(out != NULL);
    fg_rc rc = fg_crypto_init();
    if (rc)
        return rc;
    struct fg_cli_shares *r = calloc(1, sizeof *r);
    if (r == NULL)
        return FG_ERR_NOMEM;
    r->raw = fg_secure_alloc(READ_CAP + LINE_CAP);
    if (r->raw == NULL) {
        free(r);
        return FG_ERR_NOMEM;
    }
    r->line = r->raw + READ_CAP;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &r->saved) == 0) {
        struct termios quiet = r->saved;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        quiet.c_lflag |= ECHONL; /* the operator still sees that Enter was taken */
        r->tty = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    *out = r;
    return FG_OK;
}

void fg_cli_shares_close(struct fg_cli_shares *r)
{
    if (r == NULL)
        return;
    if (r->tty)
        (void)tcsetattr(STDIN_FILENO, TCSANOW, &r->saved);
    fg_secure_free(r->raw); /* wipes */
    free(r);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Consume raw[start..start+n) plus its newline (if nl): wipe it. */
static void consume(struct fg_cli_shares *r, size_t n, int nl)
{
    fg_wipe(r->raw + r->start, n + (size_t)nl);
    r->start += n + (size_t)nl;
    r->line_no++;
}

/* Move what is left to the front and read more. */
static fg_rc fill(struct fg_cli_shares *r)
{
    size_t left = r->len - r->start;
    memmove(r->raw, r->raw + r->start, left);
    fg_wipe(r->raw + left, READ_CAP - left);
    r->start = 0;
    r->len = left;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, r->raw + r->len, READ_CAP - r->len);
        if (n > 0) {
            r->len += (size_t)n;
            return FG_OK;
        }
        if (n == 0) {
            r->eof = 1;
            return FG_OK;
        }
        if (errno != EINTR)
            return FG_ERR_IO;
    }
}

fg_rc fg_cli_shares_next(struct fg_cli_shares *r, const char *prompt, const char **line,
                         unsigned *line_no)
{
    assert(r != NULL && line != NULL && line_no != NULL);
    fg_wipe(r->line, LINE_CAP);
    int prompted = 0;
    for (;;) {
        char *p = r->raw + r->start;
        size_t avail = r->len - r->start;
        char *nl = memchr(p, '\n', avail);
        size_t n = nl != NULL ? (size_t)(nl - p) : avail;
        if (nl == NULL && !r->eof && n <= FG_KEYS_SHARE_INPUT_MAX) {
            if (r->tty && prompt != NULL && !prompted) {
                fputs(prompt, stderr);
                fflush(stderr);
                prompted = 1;
            }
            fg_rc rc = fill(r);
            if (rc)
                return rc;
            continue;
        }
        if (nl == NULL && n == 0) { /* end of input */
            if (!r->skipping)
                return FG_ERR_NOT_FOUND;
            r->skipping = 0;
            *line_no = ++r->line_no;
            return FG_ERR_TOO_LARGE;
        }
        if (nl == NULL && n > FG_KEYS_SHARE_INPUT_MAX) { /* over-long: drop what we have */
            fg_wipe(p, n);
            r->start = r->len;
            r->skipping = 1;
            continue;
        }
        /* A complete line p[0..n) (at end of input it may lack its newline). */
        if (r->skipping || n > FG_KEYS_SHARE_INPUT_MAX) {
            consume(r, n, nl != NULL);
            r->skipping = 0;
            *line_no = r->line_no;
            return FG_ERR_TOO_LARGE;
        }
        size_t b = 0, e = n;
        while (b < e && is_blank(p[b]))
            b++;
        while (e > b && is_blank(p[e - 1]))
            e--;
        memcpy(r->line, p + b, e - b);
        r->line[e - b] = '\0';
        consume(r, n, nl != NULL);
        if (e == b)
            continue; /* blank lines are ignored */
        *line = r->line;
        *line_no = r->line_no;
        return FG_OK;
    }
}

int fg_cli_unseal_stdin(const char *cmd, struct fg_cli_shares *r, struct fg_cli_unseal *u)
{
    assert(cmd != NULL && r != NULL && u != NULL && u->submit != NULL);
    assert(u->keep_count == 0 || u->keep != NULL);
    unsigned progress = 0;
    while (u->sealed || u->kept < u->keep_count) {
        char prompt[64];
        snprintf(prompt, sizeof prompt, "share %u (input hidden): ", progress + u->kept + 1);
        const char *line = NULL;
        unsigned line_no = 0;
        fg_rc rc = fg_cli_shares_next(r, prompt, &line, &line_no);
        if (rc == FG_ERR_NOT_FOUND && u->sealed)
            return fg_cli_fail(cmd, "stdin ended after %u of %u shares: still sealed", progress,
                               u->threshold);
        if (rc == FG_ERR_NOT_FOUND)
            return fg_cli_fail(cmd, "stdin ended before two custodians' shares were given");
        if (rc == FG_ERR_TOO_LARGE)
            return fg_cli_fail(cmd, "line %u of stdin is too long to be a share", line_no);
        if (rc)
            return fg_cli_fail(cmd, "cannot read stdin: %s", fg_rc_str(rc));
        if (u->kept < u->keep_count) {
            size_t n = strlen(line);
            if (n >= FG_KEYS_SHARE_TEXT_MAX)
                return fg_cli_fail(cmd, "line %u of stdin is too long to be a share", line_no);
            memcpy(u->keep[u->kept], line, n + 1);
            u->kept++;
        }
        if (!u->sealed)
            continue;
        struct fg_keys_state st = {0};
        const char *problem = NULL;
        rc = u->submit(u->ctx, line, &st, &problem);
        if (rc)
            return fg_cli_fail(cmd, "the share on line %u was refused: %s", line_no,
                               problem != NULL ? problem : fg_rc_str(rc));
        progress = st.progress;
        u->sealed = st.sealed;
    }
    return 0;
}

fg_rc fg_cli_register_columns(void)
{
    fg_rc (*const all[])(void) = {fg_outbox_register_columns, fg_iam_register_columns,
                                  fg_ledger_register_columns, fg_customer_register_columns};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        fg_rc rc = all[i]();
        if (rc != FG_OK && rc != FG_ERR_CONFLICT)
            return rc;
    }
    return FG_OK;
}

fg_rc fg_cli_fields_check_roles(const struct fg_fields *fields, const struct fg_roles *roles,
                                const char **field)
{
    *field = NULL;
    for (size_t i = 0; i < fg_fields_count(fields); i++) {
        const struct fg_field_spec *f = fg_fields_at(fields, i);
        const char *perms[] = {f->wide_permission, f->reveal_permission};
        for (size_t j = 0; j < 2; j++) {
            int id;
            if (perms[j] != NULL && fg_roles_perm_id(roles, perms[j], &id) != FG_OK) {
                *field = f->name;
                return FG_ERR_CONFIG;
            }
        }
    }
    return FG_OK;
}
