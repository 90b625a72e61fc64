/*
 * siem.h — export alerts to a SIEM: one alert becomes one line of RFC 5424 syslog or of
 * ArcSight CEF, sent to a file, a UDP or TCP collector, or a local datagram socket
 * (REQUIREMENTS MON-1, MON-2; issue #6; docs/API.md "Alerts").
 *
 * Formats (fg_siem_format, pure — the known-answer tests pin them):
 *
 *   rfc5424  <PRI>1 TIMESTAMP HOSTNAME finguard - ALERT [finguard@32473 id="…" rule="…"
 *            level="…" key="…" count="…" incident="…"] TITLE
 *            PRI = facility local4 (20) * 8 + severity: critical 2 (crit), high 3 (err),
 *            medium 4 (warning), low 5 (notice) — so 162..165. TIMESTAMP = the alert's
 *            last_ms as RFC 3339 UTC with milliseconds ("-" when unset). HOSTNAME = the
 *            given host name, printable ASCII without spaces, at most 255 ("-" if empty).
 *            PARAM-VALUEs escape '"', '\' and ']' with a backslash (RFC 5424 §6.3.3).
 *   cef      CEF:0|finguard|finguard|VERSION|RULE_ID|TITLE|SEVERITY|rt=LAST_MS cs1Label=key
 *            cs1=KEY cnt=COUNT externalId=ALERT_ID cs2Label=incident cs2=INCIDENT
 *            cs3Label=tags cs3=TAGS
 *            SEVERITY low 3, medium 5, high 8, critical 10; VERSION = FG_VERSION. Header
 *            fields escape '|' and '\'; extension values escape '=' and '\', and write a
 *            line feed as \n and a carriage return as \r (the CEF specification).
 *
 * In both formats every other control byte (and every byte that is not part of valid
 * UTF-8) becomes '?', so a hostile title or key can neither end the line, forge a field nor
 * smuggle terminal escapes into the collector. A line is at most FG_SIEM_LINE_MAX bytes;
 * the alert fields are bounded by alert.h, so a stored alert always fits.
 *
 * Sinks (fg_siem_open target):
 *   file:PATH       appended (O_APPEND, created 0600), one line + "\n" per alert
 *   udp:HOST:PORT   one datagram per alert (no "\n"), non-blocking; HOST may be [v6]
 *   tcp:HOST:PORT   newline-framed stream; connect and send each wait at most
 *                   FG_SIEM_TCP_TIMEOUT_MS; a broken or refused connection is reconnected
 *                   on a later send, at most once per FG_SIEM_RECONNECT_MS (so a dead
 *                   collector costs the caller at most 200 ms per second)
 *   unix:PATH       AF_UNIX datagram socket (e.g. /dev/log), one datagram per alert,
 *                   non-blocking; reconnected once when the receiver went away
 * HOST:PORT is resolved once, at open. fg_siem_open fails with FG_ERR_INVALID for a target
 * or format it does not know (or over its limit) and FG_ERR_IO when the file cannot be
 * opened, the name cannot be resolved or the unix socket cannot be reached. A tcp collector
 * that is down at open is not an error: the line is dropped and the connection retried.
 *
 * Never blocks the caller for long and never loses a line silently: a line that cannot be
 * written whole (queue full, collector down, timeout, a format error) is counted as dropped
 * and logged (fg_log WARN "siem.drop", at most once per FG_SIEM_LOG_EVERY_MS, with the
 * number of drops since the last message). fg_siem_stats reads the counters.
 *
 * Threads: fg_siem_send and fg_siem_stats are safe from any thread (a mutex serialises the
 * sink; formatting runs outside it). open/free are not concurrent with anything else.
 * Ownership: the struct owns its descriptor; fg_siem_free closes it. Alerts hold no
 * secrets by construction (alert.h), and nothing of an alert is written to the log.
 */
#ifndef FG_INCIDENT_SIEM_H
#define FG_INCIDENT_SIEM_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "incident/alert.h"

#define FG_SIEM_LINE_MAX 8192u     /* one formatted line, without the "\n" */
#define FG_SIEM_TARGET_MAX 1024u   /* the target text */
#define FG_SIEM_HOSTNAME_MAX 255u  /* RFC 5424 HOSTNAME */
#define FG_SIEM_TCP_TIMEOUT_MS 200 /* connect, and writing one line */
#define FG_SIEM_RECONNECT_MS 1000  /* a failed tcp connect is retried after this */
#define FG_SIEM_LOG_EVERY_MS 10000 /* drops are logged at most this often */
#define FG_SIEM_FACILITY 20        /* local4 */
#define FG_SIEM_SD_ID "finguard@32473"

struct fg_siem;

/* Open a sink. target "file:PATH" | "udp:HOST:PORT" | "tcp:HOST:PORT" | "unix:PATH";
 * format "rfc5424" | "cef". FG_ERR_INVALID, FG_ERR_IO, FG_ERR_NOMEM. */
FG_MUST_CHECK fg_rc fg_siem_open(const char *target, const char *format, struct fg_siem **out);

/* Format and send one alert (see above). Thread-safe; never fails loudly: a line that
 * cannot be sent is counted as dropped and logged. s NULL is a no-op. */
void fg_siem_send(struct fg_siem *s, const struct fg_alert_view *a);

/* Pure: the line of alert a in format (no "\n"), NUL-terminated in out[cap]; *len (may be
 * NULL) gets its length. hostname NULL or "" = "-". FG_ERR_INVALID for an unknown format
 * or level, FG_ERR_TOO_LARGE when cap is too small (out is then ""). */
FG_MUST_CHECK fg_rc fg_siem_format(const char *format, const struct fg_alert_view *a,
                                   const char *hostname, char *out, size_t cap, size_t *len);

/* Lines sent and dropped since open (either pointer may be NULL). */
void fg_siem_stats(const struct fg_siem *s, uint64_t *sent, uint64_t *dropped);

/* Close the sink and free. NULL is a no-op. */
void fg_siem_free(struct fg_siem *s);

#endif
