/*
 * config.c — the configuration table and everything driven by it (see config.h).
 *
 * fg_config_table has one row per setting: where its field lives in struct fg_config
 * (offset, size), its type, default as text, range and flags. Every source of values —
 * the compiled defaults, an INI file, FINGUARD_* environment variables, `--set` — goes
 * through one function, entry_set(), which parses and range-checks the text and writes
 * the field only if everything is right; so a value is validated the same way whatever
 * its origin, and a rejected value leaves the previous one in place.
 *
 * INI text is parsed by inih through ini_parse_stream() with our own line reader. The
 * reader counts lines (inih's handler cannot see the line number in Debian's build), and
 * it pre-screens each line: a NUL byte, a line longer than inih's buffer, or a line that
 * is neither blank, comment, `[section]` nor `name = value` is reported here with its
 * line number and handed to inih as a blank line. That way every error in a file is
 * collected (inih itself reports only the first), no line is ever split by inih's fixed
 * buffer, and inih's continuation lines cannot happen (the reader strips leading
 * whitespace, and inih treats only indented lines as continuations). A malformed section
 * header is replaced by an internal section name whose settings are skipped silently, so
 * its settings are not misfiled under the previous section.
 *
 * Messages never echo the value of a SENSITIVE setting or of an unknown key (a typo in a
 * secret's name must not print the secret), and echoed text is cut and stripped of control
 * characters.
 */
#include "base/config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "base/limits.h"

/* Settings in the table; a fixed bound keeps the loader's per-setting state on the stack. */
#define CFG_ENTRIES_MAX 64
/* Bytes of input echoed in an error message before it is cut. */
#define CFG_ECHO_MAX 48
/* Section name the reader substitutes for a malformed section header. */
#define CFG_BAD_SECTION "\x01invalid"
#define CFG_ENV_PREFIX "FINGUARD_"

static const char *const cfg_outbox_sinks[] = {"file", "none", NULL};
static const char *const cfg_customer_mfa[] = {"otp", "optional", NULL};
static const char *const cfg_siem_formats[] = {"rfc5424", "cef", NULL};
static const char *const cfg_incident_profiles[] = {"standard", "critical_infrastructure", NULL};
static const char *const cfg_log_levels[] = {"debug", "info", "warn", "error", NULL};

#define CFG_FIELD(field) offsetof(struct fg_config, field), sizeof(((struct fg_config *)0)->field)

/* Defaults that mirror limits.h are written out as text; test_config checks they agree. */
const struct fg_config_entry fg_config_table[] = {
    {"server", "address", FG_CFG_STRING, CFG_FIELD(server_address), "127.0.0.1", 1, 255, NULL,
     FG_CFG_IMMUTABLE, "listen address; plain HTTP is allowed only on loopback"},
    {"server", "port", FG_CFG_INT, CFG_FIELD(server_port), "8443", 0, 65535, NULL, FG_CFG_IMMUTABLE,
     "listen port; 0 = pick a free port (tests only)"},
    {"server", "threads", FG_CFG_INT, CFG_FIELD(server_threads), "0", 0, FG_HTTP_THREADS_MAX, NULL,
     FG_CFG_IMMUTABLE, "event loops; 0 = one per core"},
    {"server", "tls", FG_CFG_BOOL, CFG_FIELD(server_tls), "true", 0, 1, NULL, FG_CFG_IMMUTABLE,
     "serve HTTPS; false = plain HTTP, allowed only on a loopback address"},
    {"server", "tls_cert", FG_CFG_STRING, CFG_FIELD(server_tls_cert), "", 0, 255, NULL,
     FG_CFG_IMMUTABLE, "PEM certificate; empty = self-signed cert generated in the data dir"},
    {"server", "tls_key", FG_CFG_STRING, CFG_FIELD(server_tls_key), "", 0, 255, NULL,
     FG_CFG_IMMUTABLE,
     "PEM private key file (the path, not the key); empty = generated with "
     "the self-signed cert"},
    {"server", "body_max_bytes", FG_CFG_INT, CFG_FIELD(server_body_max_bytes), "65536", 1024,
     FG_HTTP_BODY_MAX_CEILING, NULL, 0, "largest request body accepted, in bytes"},
    {"server", "inflight_max", FG_CFG_INT, CFG_FIELD(server_inflight_max), "16384", 16,
     FG_HTTP_INFLIGHT_MAX, NULL, 0,
     "requests accepted and not yet answered; more are refused with 503"},
    {"server", "metrics", FG_CFG_BOOL, CFG_FIELD(server_metrics), "true", 0, 1, NULL, 0,
     "expose GET /metrics (Prometheus text format)"},
    {"server", "metrics_token", FG_CFG_STRING, CFG_FIELD(server_metrics_token), "", 0, 128, NULL,
     FG_CFG_SENSITIVE,
     "bearer token required by GET /metrics when set; empty = metrics open on loopback only"},
    {"server", "trusted_proxies", FG_CFG_STRING, CFG_FIELD(server_trusted_proxies), "", 0, 255,
     NULL, FG_CFG_IMMUTABLE,
     "comma-separated addresses/CIDRs of load balancers: a request from one of them is from the "
     "last X-Forwarded-For address that is not a proxy; empty = the peer address"},
    {"storage", "data_dir", FG_CFG_STRING, CFG_FIELD(storage_data_dir), "var", 1, 255, NULL,
     FG_CFG_IMMUTABLE, "directory for the database, generated TLS files, logs and outbox"},
    {"storage", "batch_max", FG_CFG_INT, CFG_FIELD(storage_batch_max), "256", 1,
     FG_WRITER_BATCH_MAX_CEILING, NULL, 0, "most write intents committed in one transaction"},
    {"storage", "read_pool", FG_CFG_INT, CFG_FIELD(storage_read_pool), "8", 1,
     FG_READ_POOL_MAX_CEILING, NULL, 0, "read-only database connections"},
    {"log", "level", FG_CFG_ENUM, CFG_FIELD(log_level), "info", 0, 0, cfg_log_levels, 0,
     "least severe level written: debug, info, warn or error"},
    {"log", "file", FG_CFG_STRING, CFG_FIELD(log_file), "", 0, 255, NULL, 0,
     "log file (JSON lines, appended); empty = stderr"},
    {"diag", "write_probe", FG_CFG_BOOL, CFG_FIELD(diag_write_probe), "false", 0, 1, NULL,
     FG_CFG_IMMUTABLE,
     "enables the write-path probe /v1/diag/write (loopback only; tests, benchmarks, drills)"},
    {"keys", "dev_mode", FG_CFG_BOOL, CFG_FIELD(keys_dev_mode), "false", 0, 1, NULL,
     FG_CFG_IMMUTABLE,
     "DEVELOPMENT ONLY: initialise with one share and unseal at every start from "
     "DATA_DIR/dev-root.key (defeats split knowledge; loopback only; warned at every start)"},
    {"outbox", "sink", FG_CFG_ENUM, CFG_FIELD(outbox_sink), "none", 0, 0, cfg_outbox_sinks,
     FG_CFG_IMMUTABLE,
     "where messages (one-time codes, notices) go besides the outbox table: file = "
     "DATA_DIR/outbox.jsonl for development and tests (loopback only), none = the table only, "
     "for a delivery gateway"},
    {"iam", "lockout_failures", FG_CFG_INT, CFG_FIELD(iam_lockout_failures), "5", 3, 20, NULL,
     0, "consecutive failed logins that lock the user (AUTH-2)"},
    {"iam", "lockout_minutes", FG_CFG_INT, CFG_FIELD(iam_lockout_minutes), "30", 1, 1440, NULL,
     0, "how long a lock lasts, in minutes"},
    {"iam", "lockout_next_day", FG_CFG_BOOL, CFG_FIELD(iam_lockout_next_day), "false", 0, 1,
     NULL, 0, "lock until the next UTC midnight instead of lockout_minutes"},
    {"iam", "session_idle_minutes", FG_CFG_INT, CFG_FIELD(iam_session_idle_minutes), "10", 1,
     60, NULL, 0, "a session unused this long ends (AUTH-5)"},
    {"iam", "session_absolute_hours", FG_CFG_INT, CFG_FIELD(iam_session_absolute_hours), "12",
     1, 24, NULL, 0, "a session ends this long after login, used or not"},
    {"iam", "password_min_chars", FG_CFG_INT, CFG_FIELD(iam_password_min_chars), "12", 12, 128,
     NULL, 0, "shortest password accepted, in characters (AUTH-1; never below 12)"},
    {"iam", "password_blocklist", FG_CFG_STRING, CFG_FIELD(iam_password_blocklist), "", 0, 255,
     NULL, 0, "file of refused passwords, one per line; empty = none"},
    {"iam", "customer_mfa", FG_CFG_ENUM, CFG_FIELD(iam_customer_mfa), "otp", 0, 0,
     cfg_customer_mfa, 0,
     "a customer's second login factor: otp = a delivered code to the reserved phone unless "
     "TOTP is enrolled (AUTH-3); optional = TOTP only when enrolled (load tests)"},
    {"monitor", "rules_dir", FG_CFG_STRING, CFG_FIELD(monitor_rules_dir), "", 0, 255, NULL, 0,
     "directory whose *.yaml files are the detection rules; empty = the shipped pack (MON-2)"},
    {"monitor", "memory_mb", FG_CFG_INT, CFG_FIELD(monitor_memory_mb), "64", 1, 4096, NULL,
     FG_CFG_IMMUTABLE,
     "memory budget of the rule engine's per-key windows; when full the oldest key is evicted, "
     "counted in /metrics and alerted"},
    {"monitor", "allowlist", FG_CFG_STRING, CFG_FIELD(monitor_allowlist), "", 0, 255, NULL, 0,
     "comma-separated IPs, CIDRs and user ids that automatic responses never act on (MON-3)"},
    {"monitor", "enforce", FG_CFG_BOOL, CFG_FIELD(monitor_enforce), "true", 0, 1, NULL, 0,
     "false = a dry run: rules still alert and open incidents, but blocks, locks, revocations, "
     "freezes, step-ups and risk refusals are only recorded (trying a new rule pack; load "
     "tests)"},
    {"monitor", "tz_offset_minutes", FG_CFG_INT, CFG_FIELD(monitor_tz_offset_minutes), "480",
     -720, 840, NULL, 0, "local time of the rules' hour and weekday conditions, minutes east of UTC"},
    {"monitor", "events_retention_days", FG_CFG_INT, CFG_FIELD(monitor_events_retention_days),
     "183", 30, 3650, NULL, 0, "security events are kept this long for investigation"},
    {"monitor", "siem_target", FG_CFG_STRING, CFG_FIELD(monitor_siem_target), "", 0, 255, NULL, 0,
     "where alerts are exported: file:PATH, udp:HOST:PORT, tcp:HOST:PORT or unix:PATH; "
     "empty = none"},
    {"monitor", "siem_format", FG_CFG_ENUM, CFG_FIELD(monitor_siem_format), "rfc5424", 0, 0,
     cfg_siem_formats, 0, "alert export lines: RFC 5424 syslog or ArcSight CEF"},
    {"incident", "profile", FG_CFG_ENUM, CFG_FIELD(incident_profile), "standard", 0, 0,
     cfg_incident_profiles, 0,
     "deadline policy: standard = report 24 h, handle 48 h, recover 72 h (INC-1, INC-3); "
     "critical_infrastructure = report within 1 h"},
    {"incident", "archive_years", FG_CFG_INT, CFG_FIELD(incident_archive_years), "3", 3, 30, NULL,
     0, "closed incidents are kept at least this many years (INC-4)"},
    {NULL, NULL, 0, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

_Static_assert(sizeof fg_config_table / sizeof fg_config_table[0] <= CFG_ENTRIES_MAX + 1,
               "raise CFG_ENTRIES_MAX");

/* ---- messages ------------------------------------------------------------------------ */

/* Input text made safe to print: at most CFG_ECHO_MAX bytes, control bytes as '?'. */
static void echo_of(const char *s, char out[CFG_ECHO_MAX + 4])
{
    size_t i = 0;
    for (; s[i] != '\0' && i < CFG_ECHO_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (s[i] != '\0') {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

/* Append "origin: section.name: message\n" (origin omitted when NULL). */
__attribute__((format(printf, 5, 6))) static void cfg_error(struct fg_buf *errors,
                                                            const char *origin, const char *section,
                                                            const char *name, const char *fmt, ...)
{
    if (errors == NULL)
        return;
    char sec[CFG_ECHO_MAX + 4], nm[CFG_ECHO_MAX + 4];
    echo_of(section, sec);
    echo_of(name, nm);
    /* A full error buffer loses the tail of the list, never the fact of failure (rc). */
    fg_rc rc = FG_OK;
    if (origin != NULL)
        rc = fg_buf_appendf(errors, "%s: ", origin);
    if (rc == FG_OK)
        rc = fg_buf_appendf(errors, "%s.%s: ", sec, nm);
    if (rc == FG_OK) {
        va_list ap;
        va_start(ap, fmt);
        rc = fg_buf_vappendf(errors, fmt, ap);
        va_end(ap);
    }
    if (rc == FG_OK)
        rc = fg_buf_append_char(errors, '\n');
    (void)rc;
}

/* ---- parsing one value --------------------------------------------------------------- */

static fg_rc parse_int(const char *value, int64_t *out)
{
    if (!(isdigit((unsigned char)value[0]) ||
          (value[0] == '-' && isdigit((unsigned char)value[1]))))
        return FG_ERR_INVALID; /* strtoll would skip spaces and take '+' */
    errno = 0;
    char *end = NULL;
    long long v = strtoll(value, &end, 10);
    if (errno == ERANGE)
        return FG_ERR_LIMIT;
    if (errno != 0 || end == value || *end != '\0')
        return FG_ERR_INVALID;
    *out = (int64_t)v;
    return FG_OK;
}

static fg_rc parse_bool(const char *value, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = 1;
            return FG_OK;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = 0;
            return FG_OK;
        }
    }
    return FG_ERR_INVALID;
}

static fg_rc set_int(struct fg_config *cfg, const struct fg_config_entry *e, const char *value,
                     const char *origin, struct fg_buf *errors, const char *shown)
{
    assert(e->size == sizeof(int64_t));
    int64_t v = 0;
    fg_rc rc = parse_int(value, &v);
    if (rc == FG_ERR_LIMIT) {
        cfg_error(errors, origin, e->section, e->name, "%s is out of range %" PRId64 "..%" PRId64,
                  shown, e->min, e->max);
        return FG_ERR_CONFIG;
    }
    if (rc) {
        cfg_error(errors, origin, e->section, e->name, "%s is not an integer", shown);
        return FG_ERR_CONFIG;
    }
    if (v < e->min) {
        cfg_error(errors, origin, e->section, e->name, "%" PRId64 " is below the minimum %" PRId64,
                  v, e->min);
        return FG_ERR_CONFIG;
    }
    if (v > e->max) {
        cfg_error(errors, origin, e->section, e->name, "%" PRId64 " is above the maximum %" PRId64,
                  v, e->max);
        return FG_ERR_CONFIG;
    }
    memcpy((char *)cfg + e->offset, &v, sizeof v);
    return FG_OK;
}

static fg_rc set_bool(struct fg_config *cfg, const struct fg_config_entry *e, const char *value,
                      const char *origin, struct fg_buf *errors, const char *shown)
{
    assert(e->size == sizeof(int));
    int v = 0;
    if (parse_bool(value, &v)) {
        cfg_error(errors, origin, e->section, e->name,
                  "%s is not a boolean (true/false, yes/no, on/off, 1/0)", shown);
        return FG_ERR_CONFIG;
    }
    memcpy((char *)cfg + e->offset, &v, sizeof v);
    return FG_OK;
}

static fg_rc set_string(struct fg_config *cfg, const struct fg_config_entry *e, const char *value,
                        const char *origin, struct fg_buf *errors)
{
    assert(e->max >= 0 && (size_t)e->max < e->size);
    size_t len = strlen(value);
    if ((int64_t)len < e->min) {
        cfg_error(errors, origin, e->section, e->name, "must not be empty");
        return FG_ERR_CONFIG;
    }
    if (len > (size_t)e->max) {
        cfg_error(errors, origin, e->section, e->name,
                  "is %zu bytes long, above the maximum %" PRId64, len, e->max);
        return FG_ERR_CONFIG;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f) {
            cfg_error(errors, origin, e->section, e->name, "contains a control character");
            return FG_ERR_CONFIG;
        }
    }
    memcpy((char *)cfg + e->offset, value, len + 1);
    return FG_OK;
}

static fg_rc set_enum(struct fg_config *cfg, const struct fg_config_entry *e, const char *value,
                      const char *origin, struct fg_buf *errors, const char *shown)
{
    assert(e->choices != NULL);
    for (size_t i = 0; e->choices[i] != NULL; i++) {
        if (strcasecmp(value, e->choices[i]) == 0) {
            size_t len = strlen(e->choices[i]);
            assert(len < e->size);
            memcpy((char *)cfg + e->offset, e->choices[i], len + 1);
            return FG_OK;
        }
    }
    char allowed[128] = "";
    size_t used = 0;
    for (size_t i = 0; e->choices[i] != NULL; i++) {
        int n =
            snprintf(allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "", e->choices[i]);
        if (n < 0 || (size_t)n >= sizeof allowed - used)
            break;
        used += (size_t)n;
    }
    cfg_error(errors, origin, e->section, e->name, "%s is not one of %s", shown, allowed);
    return FG_ERR_CONFIG;
}

/* Parse value for entry e and store it; on any error the field is unchanged. */
static fg_rc entry_set(struct fg_config *cfg, const struct fg_config_entry *e, const char *value,
                       const char *origin, struct fg_buf *errors)
{
    assert(cfg != NULL && e != NULL && value != NULL);
    char echo[CFG_ECHO_MAX + 4];
    char shown[CFG_ECHO_MAX + 8];
    if (e->flags & FG_CFG_SENSITIVE) {
        memcpy(shown, "the value", sizeof "the value");
    } else {
        echo_of(value, echo);
        int n = snprintf(shown, sizeof shown, "'%s'", echo);
        assert(n > 0 && (size_t)n < sizeof shown);
        (void)n;
    }
    switch (e->type) {
    case FG_CFG_INT:
        return set_int(cfg, e, value, origin, errors, shown);
    case FG_CFG_BOOL:
        return set_bool(cfg, e, value, origin, errors, shown);
    case FG_CFG_STRING:
        return set_string(cfg, e, value, origin, errors);
    case FG_CFG_ENUM:
        return set_enum(cfg, e, value, origin, errors, shown);
    }
    assert(0 && "unknown setting type");
    return FG_ERR_INTERNAL;
}

/* ---- table access -------------------------------------------------------------------- */

const struct fg_config_entry *fg_config_find(const char *section, const char *name)
{
    assert(section != NULL && name != NULL);
    for (const struct fg_config_entry *e = fg_config_table; e->section != NULL; e++)
        if (strcmp(e->section, section) == 0 && strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static int section_exists(const char *section)
{
    for (const struct fg_config_entry *e = fg_config_table; e->section != NULL; e++)
        if (strcmp(e->section, section) == 0)
            return 1;
    return 0;
}

void fg_config_defaults(struct fg_config *cfg)
{
    assert(cfg != NULL);
    memset(cfg, 0, sizeof *cfg);
    for (const struct fg_config_entry *e = fg_config_table; e->section != NULL; e++) {
        assert(e->offset + e->size <= sizeof *cfg);
        fg_rc rc = entry_set(cfg, e, e->def, "default", NULL);
        assert(rc == FG_OK && "a compiled default is invalid");
        (void)rc;
    }
}

fg_rc fg_config_set(struct fg_config *cfg, const char *section, const char *name, const char *value,
                    const char *origin, struct fg_buf *errors)
{
    assert(cfg != NULL);
    assert(section != NULL && name != NULL && value != NULL);
    const struct fg_config_entry *e = fg_config_find(section, name);
    if (e == NULL) {
        if (section_exists(section))
            cfg_error(errors, origin, section, name, "unknown setting");
        else
            cfg_error(errors, origin, section, name, "unknown section [%s]", section);
        return FG_ERR_CONFIG;
    }
    return entry_set(cfg, e, value, origin, errors);
}

/* ---- INI loading --------------------------------------------------------------------- */

struct cfg_load {
    struct fg_config *cfg;
    const char *origin;
    struct fg_buf *errors;
    const char *text;
    size_t len;
    size_t pos;
    int line; /* number of the line inih is working on */
    int errors_count;
    int first_line[CFG_ENTRIES_MAX]; /* line each setting was first given on; 0 = not yet */
};

/* Start of an inline comment (" ;") or of one of chars in s, as inih finds them. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
    int was_space = 0;
    while (*s != '\0' && strchr(chars, *s) == NULL && !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s) != 0;
        s++;
    }
    return s;
}

/* "origin:LINE: message detail" for errors that concern a line rather than a setting. */
static void load_error(struct cfg_load *ld, const char *message, const char *detail)
{
    ld->errors_count++;
    if (ld->errors == NULL)
        return;
    fg_rc rc = fg_buf_appendf(ld->errors, "%s:%d: %s%s\n", ld->origin, ld->line, message, detail);
    (void)rc;
}

/* inih's line reader: one line of the text per call, screened (see the file comment). */
static char *cfg_reader(char *str, int num, void *stream)
{
    struct cfg_load *ld = stream;
    assert(num > 2);
    if (ld->pos >= ld->len)
        return NULL;
    const char *start = ld->text + ld->pos;
    size_t rest = ld->len - ld->pos;
    const char *nl = memchr(start, '\n', rest);
    size_t n = nl != NULL ? (size_t)(nl - start) : rest;
    ld->pos += n + (nl != NULL ? 1 : 0);
    ld->line++;

    if (ld->line == 1 && n >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0) {
        start += 3; /* UTF-8 byte order mark */
        n -= 3;
    }
    if (n > 0 && start[n - 1] == '\r')
        n--;
    while (n > 0 && isspace((unsigned char)*start)) { /* as inih's lskip() */
        start++;
        n--;
    }

    const char *blank = "\n";
    if (memchr(start, '\0', n) != NULL) {
        load_error(ld, "syntax error: the line contains a NUL byte", "");
        return memcpy(str, blank, 2);
    }
    if (n + 2 > (size_t)num) {
        char detail[32];
        snprintf(detail, sizeof detail, "%d bytes", num - 2);
        load_error(ld, "syntax error: the line is longer than ", detail);
        return memcpy(str, blank, 2);
    }
    memcpy(str, start, n);
    str[n] = '\0';

    if (n == 0 || str[0] == ';' || str[0] == '#') {
        /* blank or comment */
    } else if (str[0] == '[') {
        const char *end = find_chars_or_comment(str + 1, "]");
        if (*end != ']' || end == str + 1) {
            load_error(ld, "syntax error: expected '[section]'", "");
            static const char bad[] = "[" CFG_BAD_SECTION "]";
            assert(sizeof bad + 1 <= (size_t)num);
            memcpy(str, bad, sizeof bad - 1);
            n = sizeof bad - 1;
        }
    } else {
        const char *sep = find_chars_or_comment(str, "=:");
        if (*sep != '=' && *sep != ':') {
            load_error(ld, "syntax error: expected 'name = value'", "");
            return memcpy(str, blank, 2);
        }
        if (sep == str) { /* the line was left-trimmed, so the name is empty */
            load_error(ld, "syntax error: missing the setting name before '",
                       sep[0] == '=' ? "='" : ":'");
            return memcpy(str, blank, 2);
        }
    }
    str[n] = '\n';
    str[n + 1] = '\0';
    return str;
}

static int cfg_handler(void *user, const char *section, const char *name, const char *value)
{
    struct cfg_load *ld = user;
    assert(section != NULL && name != NULL && value != NULL);
    if (strcmp(section, CFG_BAD_SECTION) == 0)
        return 1; /* its header was reported; its settings would only add noise */

    char origin[FG_PATH_MAX + 32];
    snprintf(origin, sizeof origin, "%s:%d", ld->origin, ld->line);
    if (section[0] == '\0') {
        char shown[CFG_ECHO_MAX + 4];
        echo_of(name, shown);
        load_error(ld, "setting outside a [section]: ", shown);
        return 1;
    }
    if (name[0] == '\0') {
        cfg_error(ld->errors, origin, section, "", "missing setting name");
        ld->errors_count++;
        return 1;
    }
    const struct fg_config_entry *e = fg_config_find(section, name);
    if (e != NULL) {
        size_t idx = (size_t)(e - fg_config_table);
        assert(idx < CFG_ENTRIES_MAX);
        if (ld->first_line[idx] != 0) {
            cfg_error(ld->errors, origin, section, name, "set twice (first on line %d)",
                      ld->first_line[idx]);
            ld->errors_count++;
            return 1;
        }
        ld->first_line[idx] = ld->line;
    }
    if (fg_config_set(ld->cfg, section, name, value, origin, ld->errors) != FG_OK)
        ld->errors_count++;
    return 1;
}

fg_rc fg_config_load_string(struct fg_config *cfg, const char *text, size_t len, const char *origin,
                            struct fg_buf *errors)
{
    assert(cfg != NULL);
    assert(text != NULL || len == 0);
    assert(origin != NULL);
    if (len > FG_CONFIG_FILE_MAX) {
        if (errors != NULL) {
            fg_rc rc = fg_buf_appendf(errors, "%s: the file is larger than %u bytes\n", origin,
                                      FG_CONFIG_FILE_MAX);
            (void)rc;
        }
        return FG_ERR_TOO_LARGE;
    }
    struct cfg_load ld = {.cfg = cfg, .origin = origin, .errors = errors, .text = text, .len = len};
    int rc = ini_parse_stream(cfg_reader, &ld, cfg_handler, &ld);
    if (rc != 0 && ld.errors_count == 0) {
        /* The reader screens what inih rejects, so this is a divergence in inih's rules
         * (or -2, out of memory): still refuse the file. */
        ld.line = rc > 0 ? rc : ld.line;
        load_error(&ld, "syntax error", "");
    }
    return ld.errors_count > 0 ? FG_ERR_CONFIG : FG_OK;
}

fg_rc fg_config_load_file(struct fg_config *cfg, const char *path, struct fg_buf *errors)
{
    assert(cfg != NULL && path != NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errors != NULL) {
            fg_rc rc = fg_buf_appendf(errors, "%s: cannot open: %s\n", path, strerror(errno));
            (void)rc;
        }
        return FG_ERR_IO;
    }
    /* One byte more than the limit tells "at the limit" from "over it". */
    char *text = malloc(FG_CONFIG_FILE_MAX + 2);
    if (text == NULL) {
        close(fd);
        return FG_ERR_NOMEM;
    }
    size_t len = 0;
    fg_rc rc = FG_OK;
    while (len < FG_CONFIG_FILE_MAX + 1) {
        ssize_t n = read(fd, text + len, FG_CONFIG_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errors != NULL) {
                fg_rc erc = fg_buf_appendf(errors, "%s: cannot read: %s\n", path, strerror(errno));
                (void)erc;
            }
            rc = FG_ERR_IO;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (rc == FG_OK) {
        text[len] = '\0';
        rc = fg_config_load_string(cfg, text, len, path, errors);
    }
    free(text);
    return rc;
}

/* ---- environment --------------------------------------------------------------------- */

/* "FINGUARD_SERVER_TLS_CERT" for server.tls_cert; 0 if it does not fit. */
static int env_name_of(const struct fg_config_entry *e, char *out, size_t size)
{
    int n = snprintf(out, size, CFG_ENV_PREFIX "%s_%s", e->section, e->name);
    if (n < 0 || (size_t)n >= size)
        return 0;
    for (char *p = out; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
    return 1;
}

/* If var (NAME=value) is FINGUARD_<known section>_..., its "section.name" in lower case. */
static int env_unknown_setting(const char *var, size_t name_len, char *section, char *name,
                               size_t size)
{
    const char *rest = var + strlen(CFG_ENV_PREFIX);
    size_t rest_len = name_len - strlen(CFG_ENV_PREFIX);
    const char *us = memchr(rest, '_', rest_len);
    if (us == NULL || (size_t)(us - rest) >= size || rest_len - (size_t)(us - rest) > size)
        return 0;
    size_t sl = (size_t)(us - rest);
    for (size_t i = 0; i < sl; i++)
        section[i] = (char)tolower((unsigned char)rest[i]);
    section[sl] = '\0';
    size_t nl = rest_len - sl - 1;
    for (size_t i = 0; i < nl; i++)
        name[i] = (char)tolower((unsigned char)us[1 + i]);
    name[nl] = '\0';
    return section_exists(section);
}

fg_rc fg_config_apply_env(struct fg_config *cfg, char *const *envp, struct fg_buf *errors)
{
    assert(cfg != NULL);
    if (envp == NULL)
        envp = environ;
    int failures = 0;
    for (size_t i = 0; envp[i] != NULL; i++) {
        const char *var = envp[i];
        const char *eq = strchr(var, '=');
        if (eq == NULL || strncmp(var, CFG_ENV_PREFIX, strlen(CFG_ENV_PREFIX)) != 0)
            continue;
        size_t name_len = (size_t)(eq - var);
        const char *value = eq + 1;

        const struct fg_config_entry *match = NULL;
        char env_name[128];
        for (const struct fg_config_entry *e = fg_config_table; e->section != NULL; e++) {
            if (env_name_of(e, env_name, sizeof env_name) && strlen(env_name) == name_len &&
                memcmp(env_name, var, name_len) == 0) {
                match = e;
                break;
            }
        }
        char origin[sizeof env_name + 8];
        char shown[CFG_ECHO_MAX + 4];
        char varname[sizeof env_name];
        snprintf(varname, sizeof varname, "%.*s", (int)name_len, var);
        echo_of(varname, shown);
        snprintf(origin, sizeof origin, "env %s", shown);
        if (match == NULL) {
            char section[64], name[64];
            if (env_unknown_setting(var, name_len, section, name, sizeof section)) {
                cfg_error(errors, origin, section, name, "unknown setting");
                failures++;
            }
            continue;
        }
        if (strlen(value) > FG_CONFIG_VALUE_MAX) {
            cfg_error(errors, origin, match->section, match->name,
                      "the value is longer than %u bytes", FG_CONFIG_VALUE_MAX);
            failures++;
            continue;
        }
        if (entry_set(cfg, match, value, origin, errors) != FG_OK)
            failures++;
    }
    return failures > 0 ? FG_ERR_CONFIG : FG_OK;
}

/* ---- validation and dump ------------------------------------------------------------- */

int fg_addr_is_loopback(const char *addr)
{
    if (addr == NULL)
        return 0;
    if (strcasecmp(addr, "localhost") == 0)
        return 1;
    struct in_addr v4;
    if (inet_pton(AF_INET, addr, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    struct in6_addr v6;
    if (inet_pton(AF_INET6, addr, &v6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&v6))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
    }
    return 0;
}

/* A field still satisfies its row (cfg may have been filled in by code, not a loader). */
static int entry_check(const struct fg_config *cfg, const struct fg_config_entry *e,
                       struct fg_buf *errors)
{
    const char *field = (const char *)cfg + e->offset;
    int64_t v;
    int b;
    switch (e->type) {
    case FG_CFG_INT:
        memcpy(&v, field, sizeof v);
        if (v < e->min || v > e->max) {
            cfg_error(errors, NULL, e->section, e->name,
                      "%" PRId64 " is outside %" PRId64 "..%" PRId64, v, e->min, e->max);
            return 0;
        }
        return 1;
    case FG_CFG_BOOL:
        memcpy(&b, field, sizeof b);
        if (b != 0 && b != 1) {
            cfg_error(errors, NULL, e->section, e->name, "is neither true nor false");
            return 0;
        }
        return 1;
    case FG_CFG_STRING:
    case FG_CFG_ENUM: {
        const char *nul = memchr(field, '\0', e->size);
        size_t len = nul != NULL ? (size_t)(nul - field) : e->size;
        if (nul == NULL ||
            (e->type == FG_CFG_STRING && ((int64_t)len < e->min || (int64_t)len > e->max))) {
            cfg_error(errors, NULL, e->section, e->name, "has an invalid length");
            return 0;
        }
        if (e->type == FG_CFG_ENUM) {
            for (size_t i = 0; e->choices[i] != NULL; i++)
                if (strcmp(field, e->choices[i]) == 0)
                    return 1;
            cfg_error(errors, NULL, e->section, e->name, "is not one of its choices");
            return 0;
        }
        return 1;
    }
    }
    return 0;
}

fg_rc fg_config_validate(const struct fg_config *cfg, struct fg_buf *errors)
{
    assert(cfg != NULL);
    int failures = 0;
    for (const struct fg_config_entry *e = fg_config_table; e->section != NULL; e++)
        if (!entry_check(cfg, e, errors))
            failures++;
    if (failures > 0)
        return FG_ERR_CONFIG; /* the cross-field rules below assume sane fields */

    char addr[CFG_ECHO_MAX + 4];
    echo_of(cfg->server_address, addr);
    int loopback = fg_addr_is_loopback(cfg->server_address);
    if (!cfg->server_tls && !loopback) {
        cfg_error(errors, NULL, "server", "tls",
                  "plain HTTP (tls = false) is allowed only on a loopback server.address, "
                  "not '%s'",
                  addr);
        failures++;
    }
    if (cfg->diag_write_probe && !loopback) {
        cfg_error(errors, NULL, "diag", "write_probe",
                  "the write probe is allowed only on a loopback server.address, not '%s'", addr);
        failures++;
    }
    if (strcmp(cfg->outbox_sink, "file") == 0 && !loopback) {
        cfg_error(errors, NULL, "outbox", "sink",
                  "the file sink writes one-time codes in clear: it is allowed only on a "
                  "loopback server.address, not '%s' (use none with a delivery gateway)",
                  addr);
        failures++;
    }
    if (cfg->keys_dev_mode && !loopback) {
        cfg_error(errors, NULL, "keys", "dev_mode",
                  "development mode is allowed only on a loopback server.address, not '%s'",
                  addr);
        failures++;
    }
    if ((cfg->server_tls_cert[0] == '\0') != (cfg->server_tls_key[0] == '\0')) {
        cfg_error(errors, NULL, "server", "tls_key",
                  "server.tls_cert and server.tls_key must be set together");
        failures++;
    }
    return failures > 0 ? FG_ERR_CONFIG : FG_OK;
}

void fg_config_dump(const struct fg_config *cfg, FILE *out)
{
    assert(cfg != NULL && out != NULL);
    const char *section = NULL;
    for (const struct fg_config_entry *e = fg_config_table; e->section != NULL; e++) {
        if (section == NULL || strcmp(section, e->section) != 0) {
            fprintf(out, "%s[%s]\n", section == NULL ? "" : "\n", e->section);
            section = e->section;
        }
        const char *field = (const char *)cfg + e->offset;
        int64_t v;
        int b;
        switch (e->type) {
        case FG_CFG_INT:
            memcpy(&v, field, sizeof v);
            fprintf(out, "%s = %" PRId64 "\n", e->name, v);
            break;
        case FG_CFG_BOOL:
            memcpy(&b, field, sizeof b);
            fprintf(out, "%s = %s\n", e->name, b ? "true" : "false");
            break;
        case FG_CFG_STRING:
        case FG_CFG_ENUM:
            if ((e->flags & FG_CFG_SENSITIVE) && field[0] != '\0')
                fprintf(out, "%s = [redacted]\n", e->name);
            else if (field[0] == '\0')
                fprintf(out, "%s =\n", e->name);
            else
                fprintf(out, "%s = %.*s\n", e->name, (int)strnlen(field, e->size), field);
            break;
        }
    }
}
