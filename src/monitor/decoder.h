/*
 * decoder.h — turn lines of other systems' logs into monitor events (REQUIREMENTS MON-5,
 * AUTH-7, MON-1; issue #6). Decoders are data, like the rules: YAML files, embedded as
 * "decoders/<name>.yaml" (data/decoders/) or read from a path. docs/decoders.md is the format.
 *
 *   type: regex  a syslog-style text format. A line must contain one of the `require`
 *                literals (a memchr/memmem prefilter: most lines of a busy auth log never
 *                reach a regex), then match the `header` regex (PCRE2, JIT), then the first
 *                `patterns` entry whose `prefix` starts the rest (the message), whose
 *                `literal` occurs in it and whose anchored regex matches it (prefix and
 *                literal are optional, cheap checks that spare the regex). Named groups become
 * fields: "ts" the timestamp, a typed field name ("ip", "user", "device", ...) that field, any
 * other name attrs.<name>; `set` gives fixed values ("name", "result", "attrs.service"). The event
 *                name must come from `set` (decoder-wide or the pattern's).
 *   type: json   each line is one external event, the JSON object of fg_mev_from_json.
 *
 * Timestamps ("ts" group; formats tried in the order of `timestamp`): "syslog" = "Mar  2
 * 10:00:00" in the caller's year and local time (options.year, options.tz_offset_minutes);
 * "iso8601" = "2026-03-02T10:00:00[.ffffff](Z|+HH:MM|-HH:MM)". A regex decoder without a
 * "ts" group stamps options.now_ms.
 *
 * Every line ends in exactly one of three counters: decoded (an event), unmatched (not a
 * line this decoder knows — normal: most lines of a log are not security events), invalid
 * (it looked like one but is broken: bad JSON or a refused member, an unparsable time, an
 * "ip" that is not an address, a value over its limit, a line over FG_DECODER_LINE_MAX).
 * Nothing about a line is fatal, and no line's content reaches an error text: the last
 * invalid line's reason (fg_decoder_last_error) names the part that was wrong.
 *
 * Loading collects every error of the file as "FILE:LINE: message\n" (like the rules).
 *
 * Threads: a decoder holds its PCRE2 match data and counters: one thread at a time.
 * Ownership: fg_decoder_free() frees everything; events are copied into the caller's hold.
 */
#ifndef FG_MONITOR_DECODER_H
#define FG_MONITOR_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/rc.h"
#include "monitor/mevent.h"

/* ---- limits ----------------------------------------------------------------------------- */
#define FG_DECODER_NAME_MAX 32u     /* [a-z0-9_-]{1,32} */
#define FG_DECODER_PATTERNS_MAX 64u /* patterns of one decoder */
#define FG_DECODER_REQUIRE_MAX 8u   /* prefilter literals */
#define FG_DECODER_LITERAL_MAX 64u  /* bytes of one literal */
#define FG_DECODER_SET_MAX 8u       /* fixed fields of one pattern (or the decoder) */
#define FG_DECODER_REGEX_MAX 1024u  /* bytes of one regex */
#define FG_DECODER_GROUPS_MAX 16u   /* named groups of one regex */
#define FG_DECODER_LINE_MAX 8192u   /* longer lines are invalid */
#define FG_DECODER_FILE_BYTES_MAX (256u * 1024u)
#define FG_DECODER_MATCH_LIMIT 10000u /* PCRE2 match limit per regex evaluation */
#define FG_DECODER_WHY_MAX 128u

struct fg_decoder;

struct fg_decoder_options {
    int year;              /* of "syslog" timestamps (they have none); 0 = the current UTC year */
    int tz_offset_minutes; /* local time of "syslog" timestamps, -1440 .. 1440 */
    int64_t now_ms;        /* events without a time; 0 = the wall clock at load */
};

enum fg_decode_result {
    FG_DECODE_EVENT = 1, /* *out holds the event */
    FG_DECODE_UNMATCHED,
    FG_DECODE_INVALID,
};

struct fg_decoder_stats {
    uint64_t lines, decoded, unmatched, invalid;
    uint64_t prefiltered; /* unmatched lines that no regex ever saw (require failed) */
    uint64_t regex_limit_hits;
};

/* Load a decoder from YAML text (origin names it in messages). errors receives every problem.
 * FG_ERR_INVALID (with *out NULL) when there is any; FG_ERR_NOMEM. opt may be NULL. */
FG_MUST_CHECK fg_rc fg_decoder_load_text(const char *origin, const char *text, size_t len,
                                         const struct fg_decoder_options *opt,
                                         struct fg_decoder **out, struct fg_buf *errors);
/* By name ("sshd", "jsonl": the embedded "decoders/<name>.yaml") or, when spec contains a
 * '/' or ends in ".yaml", from that file. FG_ERR_NOT_FOUND for an unknown name, FG_ERR_IO
 * for an unreadable file, FG_ERR_TOO_LARGE over FG_DECODER_FILE_BYTES_MAX. */
FG_MUST_CHECK fg_rc fg_decoder_load(const char *spec, const struct fg_decoder_options *opt,
                                    struct fg_decoder **out, struct fg_buf *errors);
void fg_decoder_free(struct fg_decoder *d);

/* The decoder's `name`. */
const char *fg_decoder_name(const struct fg_decoder *d);

/* Decode one line (without its "\n"; a trailing "\r" is ignored). out is reset and filled
 * only for FG_DECODE_EVENT. */
enum fg_decode_result fg_decoder_line(struct fg_decoder *d, const char *line, size_t len,
                                      struct fg_mev_hold *out);

/* Why the last FG_DECODE_INVALID line was invalid ("" if none yet). */
const char *fg_decoder_last_error(const struct fg_decoder *d);
void fg_decoder_get_stats(const struct fg_decoder *d, struct fg_decoder_stats *out);

#endif
