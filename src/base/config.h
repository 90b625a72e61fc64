/*
 * config.h — configuration as one declarative table (Redis config.c in spirit).
 *
 * Every setting is one row of the table in config.c: section, name, type, default, min,
 * max, flags, help — and the offset of its field in `struct fg_config`. Loading, env
 * overrides, validation, `finguard config check` and the redacted dump are all driven by
 * that table; adding a setting is adding a row (and a field here).
 *
 * Sources, later wins: compiled defaults → INI file (inih) → environment variables named
 * FINGUARD_<SECTION>_<NAME> in upper case (FINGUARD_SERVER_PORT=9443).
 * Errors name their origin and setting: "etc/finguard.ini:12: server.port: 70000 is above
 * the maximum 65535" or "env FINGUARD_SERVER_PORT: server.port: 'x' is not an integer".
 * Loading collects every error (not just the first) into the caller's buffer, one per
 * line; a setting that fails keeps its previous value. Values of SENSITIVE settings and
 * of unknown keys are never echoed in errors.
 *
 * INI syntax (inih): `[section]`, `name = value` (or `name: value`), comment lines start
 * with ';' or '#', an inline comment is " ;". Values are taken literally (no quotes, no
 * continuation lines); a line may hold at most 198 bytes after its leading blanks
 * (inih's line buffer in Debian's build). A setting given twice in one file is an error.
 * Unknown FINGUARD_<SECTION>_* variables of a known section are errors; other FINGUARD_*
 * variables are not settings and are left alone.
 *
 * Flags: FG_CFG_SENSITIVE → the value is never logged or printed ("[redacted]");
 * FG_CFG_IMMUTABLE → cannot change while running (reload refuses it).
 */
#ifndef FG_BASE_CONFIG_H
#define FG_BASE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/rc.h"

enum fg_cfg_type { FG_CFG_INT = 1, FG_CFG_BOOL, FG_CFG_STRING, FG_CFG_ENUM };

#define FG_CFG_SENSITIVE 0x1u
#define FG_CFG_IMMUTABLE 0x2u

#define FG_CFG_STR_MAX 256 /* string settings (paths, addresses) */

struct fg_config {
    /* [server] */
    char server_address[FG_CFG_STR_MAX]; /* listen address; plain HTTP only on loopback */
    int64_t server_port;
    int64_t server_threads;              /* event loops; 0 = one per core */
    int server_tls;                      /* 1 = TLS (default), 0 = plain HTTP (loopback only) */
    char server_tls_cert[FG_CFG_STR_MAX];/* PEM; empty = self-signed in data_dir */
    char server_tls_key[FG_CFG_STR_MAX]; /* PEM; empty = generated in data_dir */
    int64_t server_body_max_bytes;
    int64_t server_inflight_max;
    int server_metrics;                  /* expose GET /metrics */
    char server_metrics_token[FG_CFG_STR_MAX]; /* SENSITIVE; bearer token for /metrics */
    char server_trusted_proxies[FG_CFG_STR_MAX]; /* CIDRs whose X-Forwarded-For is believed */
    /* [storage] */
    char storage_data_dir[FG_CFG_STR_MAX];
    int64_t storage_batch_max;
    int64_t storage_read_pool;
    /* [log] */
    char log_level[16];                  /* debug | info | warn | error */
    char log_file[FG_CFG_STR_MAX];       /* empty = stderr */
    /* [diag] */
    int diag_write_probe;                /* enables /v1/diag/write (loopback only) */
    /* [keys] */
    int keys_dev_mode;                   /* auto-init/unseal from DATA_DIR/dev-root.key */
    /* [outbox] */
    char outbox_sink[16];                /* file | none */
    /* [iam] */
    int64_t iam_lockout_failures;        /* consecutive failures that lock (AUTH-2) */
    int64_t iam_lockout_minutes;         /* how long a lock lasts */
    int iam_lockout_next_day;            /* lock until the next UTC midnight instead */
    int64_t iam_session_idle_minutes;    /* AUTH-5 */
    int64_t iam_session_absolute_hours;
    int64_t iam_password_min_chars;      /* AUTH-1 */
    char iam_password_blocklist[FG_CFG_STR_MAX]; /* operator-supplied file, or empty */
    char iam_customer_mfa[16];           /* otp | optional: customers' second login factor */
    /* [monitor] (issue #6) */
    char monitor_rules_dir[FG_CFG_STR_MAX]; /* directory of *.yaml rules; empty = shipped pack */
    int64_t monitor_memory_mb;              /* budget of the engine's key tables */
    char monitor_allowlist[FG_CFG_STR_MAX]; /* IPs, CIDRs, user ids never responded to */
    int monitor_enforce;                    /* false: responses and risk answers are a dry run */
    int64_t monitor_tz_offset_minutes;      /* local time of "hour" conditions */
    int64_t monitor_events_retention_days;  /* events kept for investigation */
    char monitor_siem_target[FG_CFG_STR_MAX]; /* file:PATH, udp:HOST:PORT, tcp:..., unix:PATH */
    char monitor_siem_format[16];             /* rfc5424 | cef */
    /* [incident] */
    char incident_profile[32]; /* standard | critical_infrastructure: deadline policy */
    int64_t incident_archive_years; /* closed incidents kept at least this long (INC-4) */
};

struct fg_config_entry {
    const char *section;
    const char *name;
    enum fg_cfg_type type;
    size_t offset;        /* offsetof(struct fg_config, field) */
    size_t size;          /* sizeof the field (strings: buffer size) */
    const char *def;      /* default, as text */
    int64_t min, max;     /* INT: value range; STRING: length range */
    const char *const *choices; /* ENUM: NULL-terminated allowed values */
    unsigned flags;
    const char *help;
};

/* The table, terminated by an entry with section == NULL. */
extern const struct fg_config_entry fg_config_table[];

/* Compiled defaults. */
void fg_config_defaults(struct fg_config *cfg);
/* Load an INI file over cfg; every error appended to errors (one per line; errors may
 * be NULL). FG_ERR_IO if the file cannot be read, FG_ERR_TOO_LARGE past
 * FG_CONFIG_FILE_MAX, FG_ERR_CONFIG if any setting or line is wrong. */
FG_MUST_CHECK fg_rc fg_config_load_file(struct fg_config *cfg, const char *path,
                                        struct fg_buf *errors);
/* The same for INI text text[0..len) (NUL bytes in it are errors); errors are reported
 * as "origin:LINE: ...". fg_config_load_file() reads the file and calls this. */
FG_MUST_CHECK fg_rc fg_config_load_string(struct fg_config *cfg, const char *text, size_t len,
                                          const char *origin, struct fg_buf *errors);
/* Apply FINGUARD_* environment variables; errors appended. `envp` NULL → environ. */
FG_MUST_CHECK fg_rc fg_config_apply_env(struct fg_config *cfg, char *const *envp,
                                        struct fg_buf *errors);
/* Set one value by "section.name" from text (used by the loaders and `--set`). */
FG_MUST_CHECK fg_rc fg_config_set(struct fg_config *cfg, const char *section,
                                  const char *name, const char *value, const char *origin,
                                  struct fg_buf *errors);
/* Cross-field checks (e.g. plain HTTP only on loopback). */
FG_MUST_CHECK fg_rc fg_config_validate(const struct fg_config *cfg, struct fg_buf *errors);
/* Print the effective configuration as INI, sensitive values "[redacted]". */
void fg_config_dump(const struct fg_config *cfg, FILE *out);
/* The entry for "section.name", or NULL. */
const struct fg_config_entry *fg_config_find(const char *section, const char *name);
/* 1 if addr is a loopback address (127.0.0.0/8, ::1, "localhost"). */
int fg_addr_is_loopback(const char *addr);

#endif
