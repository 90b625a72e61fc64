/*
 * cmd_events.c — `finguard events replay`: feed an existing log through a decoder and the
 * detection rules, offline (REQUIREMENTS MON-5, MON-1, AUTH-7; issue #6).
 *
 *   finguard events replay [--decoder sshd|jsonl|FILE] [--rules DIR] [--year N]
 *                          [--tz-offset MINUTES] [--memory-mb N] [--quiet] [FILE|-]
 *
 * Lines are read from FILE (or stdin), decoded (monitor/decoder.h), and every event is fed,
 * in order, to an engine loaded with the shipped pack (or every *.yaml of --rules DIR).
 * Event time is the log's time, so a replay gives the alerts a live monitor would have
 * given. Each firing is printed as one JSON line on stdout:
 *   {"time":"2026-03-02T02:00:04.000Z","rule":"auth.bruteforce.ip","level":"high",
 *    "key":"ip=198.51.100.23","value":5}
 * unless --quiet; a summary JSON line goes to stderr at the end: lines, events, unmatched,
 * invalid, firings, evictions, seconds, lines_per_s. Nothing is written anywhere else: no
 * data directory, no responses — this is for trying rules on real logs and for the
 * fail2ban comparison (scripts/bench_fail2ban.sh).
 *
 * Limits: a line longer than FG_DECODER_LINE_MAX is counted invalid and skipped.
 * Exit: 0 done (whatever the lines held), 1 a decoder, rules file or input cannot be read,
 * 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "monitor/decoder.h"
#include "monitor/engine.h"

#define EV_CMD "events"
#define EV_READ_CHUNK (1024u * 1024u) /* input buffer; a line must fit in it to be decoded */
#define EV_MEMORY_MB_MAX 65536ul
#define EV_ERRORS_MAX (256u * 1024u)

static const char events_help[] =
    "usage: finguard events replay [--decoder sshd|jsonl|FILE] [--rules DIR] [--year N]\n"
    "                              [--tz-offset MINUTES] [--memory-mb N] [--quiet] [FILE|-]\n"
    "\n"
    "Decode a log (default: stdin) into events and run the detection rules over it, in the\n"
    "log's own time. Prints one JSON line per firing {time, rule, level, key, value} (not with\n"
    "--quiet) and a summary line on stderr {lines, events, unmatched, invalid, firings,\n"
    "evictions, seconds, lines_per_s}.\n"
    "\n"
    "  --decoder NAME|FILE  sshd (default) or jsonl (embedded), or a decoder YAML file\n"
    "  --rules DIR          every *.yaml of DIR instead of the shipped pack\n"
    "  --year N             year of syslog timestamps (they carry none; default: this year)\n"
    "  --tz-offset MINUTES  the log's local time zone, east of UTC (default 0); also the\n"
    "                       time zone of hour/weekday conditions\n"
    "  --memory-mb N        the engine's memory budget (default 64)\n"
    "  --quiet              print only the summary\n";

struct replay {
    int quiet;
    uint64_t firings;
};

static void on_firing(void *ctx, const struct fg_firing *f)
{
    struct replay *r = ctx;
    r->firings++;
    if (r->quiet)
        return;
    char when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(f->time_ms, when);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:I}", "time", when, "rule", f->rule->id, "level",
                  fg_rule_level_name(f->rule->level), "key", f->key, "value", (json_int_t)f->value);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text != NULL)
        puts(text);
    free(text);
    json_decref(o);
}

static int parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

struct feed {
    struct fg_decoder *dec;
    struct fg_engine *eng;
    struct replay *rep;
    struct fg_mev_hold hold;
    uint64_t events;
    fg_rc rc;
};

static void feed_line(struct feed *f, const char *line, size_t len)
{
    if (fg_decoder_line(f->dec, line, len, &f->hold) != FG_DECODE_EVENT)
        return;
    f->events++;
    fg_rc rc = fg_engine_feed(f->eng, &f->hold.ev, on_firing, f->rep);
    if (rc != FG_OK && f->rc == FG_OK)
        f->rc = rc;
}

/* Read in = every line to feed_line. A line that does not fit the buffer is passed on
 * cut to FG_DECODER_LINE_MAX + 1 bytes (so it is counted invalid) and the rest skipped. */
static int read_all(FILE *in, struct feed *f)
{
    char *buf = malloc(EV_READ_CHUNK);
    if (buf == NULL)
        return -1;
    size_t have = 0;
    int skipping = 0;
    for (;;) {
        size_t got = fread(buf + have, 1, EV_READ_CHUNK - have, in);
        have += got;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', have - start);
            if (nl == NULL)
                break;
            size_t len = (size_t)(nl - (buf + start));
            if (!skipping)
                feed_line(f, buf + start, len);
            skipping = 0;
            start += len + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (got == 0) {
            if (have > 0 && !skipping)
                feed_line(f, buf, have);
            break;
        }
        if (have == EV_READ_CHUNK) { /* one line fills the buffer */
            if (!skipping)
                feed_line(f, buf, FG_DECODER_LINE_MAX + 1u);
            skipping = 1;
            have = 0;
        }
    }
    int bad = ferror(in);
    free(buf);
    return bad ? -1 : 0;
}

static int cmd_replay(int argc, char **argv)
{
    const char *decoder = "sshd", *rules_dir = NULL, *input = NULL;
    long year = 0, tz = 0, memory_mb = 0;
    struct replay rep = {0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (fg_cli_is_help(a)) {
            fputs(events_help, stdout);
            return FG_CLI_EXIT_OK;
        } else if (strcmp(a, "--quiet") == 0) {
            rep.quiet = 1;
        } else if (strcmp(a, "--decoder") == 0 && v != NULL) {
            decoder = argv[++i];
        } else if (strcmp(a, "--rules") == 0 && v != NULL) {
            rules_dir = argv[++i];
        } else if (strcmp(a, "--year") == 0 && v != NULL) {
            if (parse_int(argv[++i], 1970, 9999, &year) != 0)
                return fg_cli_usage(EV_CMD, "--year: a year 1970..9999");
        } else if (strcmp(a, "--tz-offset") == 0 && v != NULL) {
            if (parse_int(argv[++i], -1440, 1440, &tz) != 0)
                return fg_cli_usage(EV_CMD, "--tz-offset: minutes -1440..1440");
        } else if (strcmp(a, "--memory-mb") == 0 && v != NULL) {
            if (parse_int(argv[++i], 1, (long)EV_MEMORY_MB_MAX, &memory_mb) != 0)
                return fg_cli_usage(EV_CMD, "--memory-mb: 1..%lu", EV_MEMORY_MB_MAX);
        } else if ((a[0] != '-' || strcmp(a, "-") == 0) && input == NULL) {
            input = a;
        } else {
            return fg_cli_usage(EV_CMD, "replay: unknown or incomplete option '%s'", a);
        }
    }
    struct fg_buf errors = FG_BUF_INIT(EV_ERRORS_MAX);
    struct fg_decoder_options dopt = {(int)year, (int)tz, 0};
    struct fg_decoder *dec = NULL;
    fg_rc rc = fg_decoder_load(decoder, &dopt, &dec, &errors);
    if (rc != FG_OK) {
        fputs(fg_buf_str(&errors), stderr);
        fg_buf_release(&errors);
        return fg_cli_fail(EV_CMD, "decoder '%s': %s", decoder,
                           rc == FG_ERR_NOT_FOUND ? "no such decoder"
                           : rc == FG_ERR_IO      ? strerror(errno)
                                                  : "invalid");
    }
    struct fg_rules *rules = NULL;
    rc = fg_rules_load_default(rules_dir, &rules, &errors);
    if (rc != FG_OK) {
        fputs(fg_buf_str(&errors), stderr);
        fg_buf_release(&errors);
        fg_decoder_free(dec);
        return fg_cli_fail(EV_CMD, "cannot load the rules");
    }
    fg_buf_release(&errors);
    struct fg_engine_options eopt = {(size_t)memory_mb * 1024u * 1024u, (int)tz};
    struct feed *f = calloc(1, sizeof *f);
    FILE *in = input == NULL || strcmp(input, "-") == 0 ? stdin : fopen(input, "rb");
    int code = FG_CLI_EXIT_OK;
    if (f == NULL) {
        code = fg_cli_fail(EV_CMD, "out of memory");
    } else if (in == NULL) {
        code = fg_cli_fail(EV_CMD, "%s: %s", input, strerror(errno));
    } else if (fg_engine_new(rules, &eopt, &f->eng) != FG_OK) {
        code = fg_cli_fail(EV_CMD, "cannot make the engine");
    } else {
        f->dec = dec;
        f->rep = &rep;
        uint64_t t0 = fg_time_mono_ns();
        int bad = read_all(in, f);
        double secs = (double)(fg_time_mono_ns() - t0) / 1e9;
        fflush(stdout);
        struct fg_decoder_stats ds;
        struct fg_engine_stats es;
        fg_decoder_get_stats(dec, &ds);
        fg_engine_get_stats(f->eng, &es);
        fprintf(stderr,
                "{\"lines\":%llu,\"events\":%llu,\"unmatched\":%llu,\"invalid\":%llu,"
                "\"firings\":%llu,\"evictions\":%llu,\"seconds\":%.3f,\"lines_per_s\":%.0f}\n",
                (unsigned long long)ds.lines, (unsigned long long)f->events,
                (unsigned long long)ds.unmatched, (unsigned long long)ds.invalid,
                (unsigned long long)rep.firings, (unsigned long long)es.evictions, secs,
                secs > 0 ? (double)ds.lines / secs : 0.0);
        if (bad)
            code = fg_cli_fail(EV_CMD, "reading %s failed", input != NULL ? input : "stdin");
        else if (f->rc != FG_OK)
            code = fg_cli_fail(EV_CMD, "the engine refused an event (%s)", fg_rc_name(f->rc));
    }
    if (in != NULL && in != stdin)
        fclose(in);
    if (f != NULL)
        fg_engine_free(f->eng);
    free(f);
    fg_rules_free(rules);
    fg_decoder_free(dec);
    return code;
}

int fg_cli_cmd_events(int argc, char **argv)
{
    if (argc < 2 || fg_cli_is_help(argv[1])) {
        fputs(events_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? FG_CLI_EXIT_USAGE : FG_CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "replay") == 0)
        return cmd_replay(argc - 1, argv + 1);
    return fg_cli_usage(EV_CMD, "unknown sub-command '%s'", argv[1]);
}
