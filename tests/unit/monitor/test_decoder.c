/*
 * test_decoder.c — log decoders (monitor/decoder.c) and the shipped data/decoders/ files
 * (REQUIREMENTS MON-5, AUTH-7; issue #6).
 *
 * sshd: every line shape of fail2ban's stock sshd filter (mode normal) that it counts as a
 * failure decodes to login.failed with the address and user name fail2ban would take —
 * IPv4 and IPv6, invalid user names with spaces, the "error: PAM:" prefix, ISO 8601 and
 * syslog timestamps in a given year and zone; its helper lines (PAM's authentication
 * failure, pre-auth close, failed publickey) decode to ssh.* events no rule counts; a user
 * name carrying a forged " from ADDR" does not move the address; everything else is
 * unmatched (and most of it never reaches a regex). jsonl: good lines are events, bad lines
 * are counted invalid with a reason naming the member, and decoding goes on. Broken decoder
 * files report every error with its line.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "monitor/decoder.h"

#define ERRORS_MAX (64u * 1024u)
/* 2026-03-02T10:00:01 at +08:00 = 02:00:01Z */
#define T_0201Z 1772416801000LL

static struct fg_decoder *load(const char *spec, int tz)
{
    struct fg_decoder_options opt = {2026, tz, 1000};
    struct fg_decoder *d = NULL;
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    fg_rc rc = fg_decoder_load(spec, &opt, &d, &errors);
    if (rc != FG_OK)
        fprintf(stderr, "%s", fg_buf_str(&errors));
    assert_int_equal(rc, FG_OK);
    fg_buf_release(&errors);
    return d;
}

static const char *attr(const struct fg_mev *ev, const char *name)
{
    const struct fg_mev_attr *a = fg_mev_attr(ev, name);
    return a != NULL ? a->str : NULL;
}

struct shape {
    const char *line;
    const char *name; /* NULL = unmatched */
    const char *ip;
    const char *target; /* NULL = no attrs.target */
    const char *result;
};

/* One line of every shape; the failures are exactly those fail2ban 1.0's sshd filter
 * (mode normal) counts (checked with fail2ban-regex -o row: its failures with an address). */
static const struct shape sshd_shapes[] = {
    {"Mar  2 10:00:01 host sshd[1001]: Failed password for root from 198.51.100.23 port "
     "50022 ssh2",
     "login.failed", "198.51.100.23", "root", "bad"},
    {"Mar  2 10:00:01 host sshd[1002]: Invalid user admin from 198.51.100.23 port 50023",
     "login.failed", "198.51.100.23", "admin", "bad"},
    {"Mar  2 10:00:01 host sshd[1002]: Failed password for invalid user admin from "
     "198.51.100.23 port 50023 ssh2",
     "login.failed", "198.51.100.23", "admin", "bad"},
    {"Mar  2 10:00:01 host sshd[1009]: Failed password for invalid user john smith from "
     "2001:db8::5 port 40003 ssh2",
     "login.failed", "2001:db8::5", "john smith", "bad"},
    {"Mar  2 10:00:01 host sshd[1003]: Failed keyboard-interactive/pam for invalid user "
     "oracle from 203.0.113.4 port 1 ssh2",
     "login.failed", "203.0.113.4", "oracle", "bad"},
    {"Mar  2 10:00:01 host sshd[1005]: error: maximum authentication attempts exceeded for "
     "root from 198.51.100.23 port 50025 ssh2 [preauth]",
     "login.failed", "198.51.100.23", "root", "bad"},
    {"Mar  2 10:00:01 host sshd[1015]: error: PAM: Authentication failure for root from "
     "192.0.2.17",
     "login.failed", "192.0.2.17", "root", "bad"},
    {"Mar  2 10:00:01 host sshd[1016]: User root from 192.0.2.18 not allowed because not "
     "listed in AllowUsers",
     "login.failed", "192.0.2.18", "root", "bad"},
    {"Mar  2 10:00:01 host sshd[1016]: User bob from 192.0.2.18 not allowed because listed in "
     "DenyUsers",
     "login.failed", "192.0.2.18", "bob", "bad"},
    {"Mar  2 10:00:01 host sshd[1020]: User not known to the underlying authentication module "
     "for nobody from 192.0.2.22",
     "login.failed", "192.0.2.22", "nobody", "bad"},
    {"Mar  2 10:00:01 host sshd[1019]: Received disconnect from 192.0.2.21 port 40010:3: "
     "com.jcraft.jsch.JSchException: Auth fail [preauth]",
     "login.failed", "192.0.2.21", NULL, "bad"},
    {"Mar  2 10:00:01 host sshd[1021]: Disconnecting: Too many authentication failures for "
     "root [preauth]",
     "login.failed", "", "root", "bad"},
    {"Mar  2 10:00:01 host sshd[1022]: Invalid user  from 192.0.2.13 port 40004", "login.failed",
     "192.0.2.13", NULL, "bad"},
    {"Mar  2 10:00:01 host sshd-session[77]: Failed password for root from 10.9.8.7 port 2 ssh2",
     "login.failed", "10.9.8.7", "root", "bad"},
    {"Mar  2 10:00:01 host sshd[1008]: Failed publickey for invalid user bob from 192.0.2.12 "
     "port 40002 ssh2: RSA SHA256:abc",
     "login.failed", "192.0.2.12", "bob", "bad"},
    /* successes */
    {"Mar  2 10:00:01 host sshd[1006]: Accepted publickey for alice from 192.0.2.10 port "
     "40000 ssh2: ED25519 SHA256:abc",
     "login.succeeded", "192.0.2.10", "alice", "ok"},
    {"Mar  2 10:00:01 host sshd[1011]: Accepted password for carol from 2001:db8:0:1::14 port "
     "40005 ssh2",
     "login.succeeded", "2001:db8:0:1::14", "carol", "ok"},
    /* fail2ban's helper lines (F-NOFAIL): evidence, not failures */
    {"Mar  2 10:00:01 host sshd[1003]: pam_unix(sshd:auth): authentication failure; logname= "
     "uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.23  user=root",
     "ssh.pam_failure", "198.51.100.23", "root", "bad"},
    {"Mar  2 10:00:01 host sshd[1004]: Connection closed by authenticating user root "
     "198.51.100.23 port 50024 [preauth]",
     "ssh.preauth_closed", "198.51.100.23", "root", "bad"},
    {"Mar  2 10:00:01 host sshd[1007]: Failed publickey for alice from 192.0.2.11 port 40001 "
     "ssh2: ED25519 SHA256:abc",
     "ssh.publickey_rejected", "192.0.2.11", "alice", "bad"},
    /* not security events, or not sshd */
    {"Mar  2 10:00:01 host sshd[1012]: Disconnected from user carol 192.0.2.14 port 40005", NULL,
     NULL, NULL, NULL},
    {"Mar  2 10:00:01 host sshd[1013]: Did not receive identification string from 192.0.2.15 "
     "port 40006",
     NULL, NULL, NULL, NULL},
    {"Mar  2 10:00:01 host sshd[1014]: Received disconnect from 192.0.2.16 port 40007:11: Bye "
     "Bye [preauth]",
     NULL, NULL, NULL, NULL},
    {"Mar  2 10:00:01 host sshd[1018]: Connection closed by 192.0.2.20 port 40009 [preauth]", NULL,
     NULL, NULL, NULL},
    {"Mar  2 10:00:01 host sshd[1022]: Connection from 192.0.2.24 port 4000 on 10.0.0.1 port 22",
     NULL, NULL, NULL, NULL},
    {"Mar  2 10:00:01 host CRON[2000]: pam_unix(cron:session): session opened for user root", NULL,
     NULL, NULL, NULL},
    {"Mar  2 10:00:01 host sudo: alice : TTY=pts/0 ; Failed password for root from 1.2.3.4", NULL,
     NULL, NULL, NULL},
    {"", NULL, NULL, NULL, NULL},
};

static void test_sshd_shapes(void **state)
{
    (void)state;
    struct fg_decoder *d = load("sshd", 480);
    assert_string_equal(fg_decoder_name(d), "sshd");
    struct fg_mev_hold *h = malloc(sizeof *h);
    assert_non_null(h);
    size_t n = sizeof sshd_shapes / sizeof sshd_shapes[0], want_events = 0;
    for (size_t i = 0; i < n; i++) {
        const struct shape *s = &sshd_shapes[i];
        enum fg_decode_result r = fg_decoder_line(d, s->line, strlen(s->line), h);
        if (s->name == NULL) {
            if (r != FG_DECODE_UNMATCHED)
                fail_msg("line %zu should be unmatched: %s", i, s->line);
            continue;
        }
        want_events++;
        if (r != FG_DECODE_EVENT)
            fail_msg("line %zu not decoded (%d, %s): %s", i, (int)r, fg_decoder_last_error(d),
                     s->line);
        assert_string_equal(h->ev.s[FG_MEV_F_NAME], s->name);
        assert_string_equal(h->ev.s[FG_MEV_F_IP], s->ip);
        assert_string_equal(h->ev.s[FG_MEV_F_RESULT], s->result);
        assert_string_equal(h->ev.s[FG_MEV_F_USER], ""); /* never a finguard user id */
        assert_string_equal(attr(&h->ev, "service"), "sshd");
        if (s->target == NULL)
            assert_null(attr(&h->ev, "target"));
        else
            assert_string_equal(attr(&h->ev, "target"), s->target);
        assert_int_equal(h->ev.time_ms, T_0201Z); /* 10:00:01 at +08:00 */
    }
    struct fg_decoder_stats st;
    fg_decoder_get_stats(d, &st);
    assert_int_equal(st.lines, n);
    assert_int_equal(st.decoded, want_events);
    assert_int_equal(st.unmatched, n - want_events);
    assert_int_equal(st.invalid, 0);
    assert_true(st.prefiltered >= 2); /* the CRON, sudo and empty lines never saw a regex */
    free(h);
    fg_decoder_free(d);
}

static enum fg_decode_result one(struct fg_decoder *d, const char *line, struct fg_mev_hold *h)
{
    return fg_decoder_line(d, line, strlen(line), h);
}

static void test_sshd_details(void **state)
{
    (void)state;
    struct fg_decoder *d = load("sshd", 0);
    struct fg_mev_hold *h = malloc(sizeof *h);
    assert_non_null(h);
    /* methods and reasons */
    assert_int_equal(one(d,
                         "Mar  2 10:00:01 h sshd[1]: Failed password for root from 1.2.3.4 "
                         "port 2 ssh2",
                         h),
                     FG_DECODE_EVENT);
    assert_string_equal(attr(&h->ev, "method"), "password");
    assert_int_equal(h->ev.time_ms, T_0201Z + 8 * 3600000LL); /* zone 0 */
    assert_int_equal(one(d, "Mar  2 10:00:01 h sshd[1]: Invalid user x from 1.2.3.4", h),
                     FG_DECODE_EVENT);
    assert_string_equal(attr(&h->ev, "reason"), "invalid_user");
    /* a forged " from ADDR" in the user name does not move the address (fail2ban ignores it) */
    assert_int_equal(one(d,
                         "Mar  2 10:00:01 h sshd[1]: Failed password for invalid user x from "
                         "6.6.6.6 from 1.2.3.4 port 2 ssh2",
                         h),
                     FG_DECODE_UNMATCHED);
    /* ISO 8601 timestamps (rsyslog high precision), with their own zone */
    assert_int_equal(one(d,
                         "2026-03-02T10:00:01.250+08:00 h sshd[1]: Failed password for root "
                         "from 1.2.3.4 port 2 ssh2",
                         h),
                     FG_DECODE_EVENT);
    assert_int_equal(h->ev.time_ms, T_0201Z + 250);
    assert_int_equal(one(d,
                         "2026-03-02T02:00:01Z h sshd[1]: Accepted password for root from "
                         "1.2.3.4 port 2 ssh2",
                         h),
                     FG_DECODE_EVENT);
    assert_int_equal(h->ev.time_ms, T_0201Z);
    /* broken pieces are invalid, not fatal: a date that does not exist, an address that is not */
    assert_int_equal(one(d,
                         "Feb 30 10:00:01 h sshd[1]: Failed password for root from 1.2.3.4 "
                         "port 2 ssh2",
                         h),
                     FG_DECODE_INVALID);
    assert_non_null(strstr(fg_decoder_last_error(d), "ts"));
    assert_int_equal(one(d,
                         "Mar  2 10:00:01 h sshd[1]: Failed password for root from 1.2.3.4.5 "
                         "port 2 ssh2",
                         h),
                     FG_DECODE_INVALID);
    assert_non_null(strstr(fg_decoder_last_error(d), "ip"));
    assert_null(strstr(fg_decoder_last_error(d), "1.2.3.4")); /* never the line's content */
    /* user names are sanitised (control bytes, invalid UTF-8) and cut at the attribute limit */
    assert_int_equal(one(d,
                         "Mar  2 10:00:01 h sshd[1]: Invalid user a\x01\xff\xc3\xa9 from "
                         "1.2.3.4",
                         h),
                     FG_DECODE_EVENT);
    assert_string_equal(attr(&h->ev, "target"), "a??\xc3\xa9");
    char line[1200];
    int n = snprintf(line, sizeof line, "Mar  2 10:00:01 h sshd[1]: Invalid user ");
    memset(line + n, 'u', 600);
    snprintf(line + n + 600, sizeof line - (size_t)n - 600, " from 1.2.3.4");
    assert_int_equal(one(d, line, h), FG_DECODE_EVENT);
    assert_int_equal(strlen(attr(&h->ev, "target")), FG_MEV_ATTR_VALUE_MAX);
    /* a CR before the newline is ignored; a line over the limit is invalid */
    assert_int_equal(one(d, "Mar  2 10:00:01 h sshd[1]: Invalid user y from 1.2.3.4\r", h),
                     FG_DECODE_EVENT);
    assert_string_equal(attr(&h->ev, "target"), "y");
    char *big = malloc(FG_DECODER_LINE_MAX + 10);
    assert_non_null(big);
    memset(big, 'x', FG_DECODER_LINE_MAX + 10);
    memcpy(big, "Mar  2 10:00:01 h sshd[1]: ", 27);
    assert_int_equal(fg_decoder_line(d, big, FG_DECODER_LINE_MAX + 1, h), FG_DECODE_INVALID);
    free(big);
    struct fg_decoder_stats st;
    fg_decoder_get_stats(d, &st);
    assert_int_equal(st.invalid, 3);
    free(h);
    fg_decoder_free(d);
}

static void test_jsonl(void **state)
{
    (void)state;
    struct fg_decoder *d = load("jsonl", 0);
    struct fg_mev_hold *h = malloc(sizeof *h);
    assert_non_null(h);
    assert_int_equal(one(d,
                         "{\"name\":\"login.failed\",\"time\":\"2026-03-02T02:00:01Z\","
                         "\"ip\":\"203.0.113.9\",\"result\":\"bad\",\"attrs\":{\"target\":"
                         "\"u1\",\"n\":3}}",
                         h),
                     FG_DECODE_EVENT);
    assert_string_equal(h->ev.s[FG_MEV_F_NAME], "login.failed");
    assert_int_equal(h->ev.time_ms, T_0201Z);
    assert_string_equal(attr(&h->ev, "target"), "u1");
    /* no time: the options' now_ms */
    assert_int_equal(one(d, "{\"name\":\"x.y\",\"amount\":5}", h), FG_DECODE_EVENT);
    assert_int_equal(h->ev.time_ms, 1000);
    assert_int_equal(h->ev.amount, 5);
    /* bad lines: counted, with the member at fault, and decoding goes on */
    assert_int_equal(one(d, "{\"name\":\"x.y\",\"amount\":-1}", h), FG_DECODE_INVALID);
    assert_non_null(strstr(fg_decoder_last_error(d), "amount"));
    assert_int_equal(one(d, "{\"name\":\"x.y\",\"colour\":\"red\"}", h), FG_DECODE_INVALID);
    assert_non_null(strstr(fg_decoder_last_error(d), "colour"));
    assert_null(strstr(fg_decoder_last_error(d), "red"));
    assert_int_equal(one(d, "{\"name\":", h), FG_DECODE_INVALID);
    assert_int_equal(one(d, "[1,2]", h), FG_DECODE_INVALID);
    assert_int_equal(one(d, "{\"ip\":\"1.2.3.4\"}", h), FG_DECODE_INVALID); /* no name */
    assert_int_equal(one(d, "  ", h), FG_DECODE_UNMATCHED);
    assert_int_equal(one(d, "{\"name\":\"a.b\"}", h), FG_DECODE_EVENT);
    struct fg_decoder_stats st;
    fg_decoder_get_stats(d, &st);
    assert_int_equal(st.lines, 9);
    assert_int_equal(st.decoded, 3);
    assert_int_equal(st.invalid, 5);
    assert_int_equal(st.unmatched, 1);
    free(h);
    fg_decoder_free(d);
}

static fg_rc load_text(const char *text, struct fg_decoder **d, struct fg_buf *errors)
{
    return fg_decoder_load_text("t.yaml", text, strlen(text), NULL, d, errors);
}

static void test_custom_and_errors(void **state)
{
    (void)state;
    /* a decoder of one's own: groups to typed fields and attributes, no timestamp group */
    const char *ok = "name: app\n"
                     "type: regex\n"
                     "require: ['APP ']\n"
                     "patterns:\n"
                     "  - id: deny\n"
                     "    literal: DENY\n"
                     "    regex: 'APP DENY user=(?<user>\\w+) ip=(?<ip>\\S+) why=(?<why>\\w+)'\n"
                     "    set: {name: access.denied, attrs.source: app}\n";
    struct fg_decoder *d = NULL;
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    assert_int_equal(load_text(ok, &d, &errors), FG_OK);
    struct fg_mev_hold *h = malloc(sizeof *h);
    assert_non_null(h);
    assert_int_equal(one(d, "APP DENY user=u7 ip=10.0.0.1 why=perm", h), FG_DECODE_EVENT);
    assert_string_equal(h->ev.s[FG_MEV_F_NAME], "access.denied");
    assert_string_equal(h->ev.s[FG_MEV_F_USER], "u7");
    assert_string_equal(h->ev.s[FG_MEV_F_IP], "10.0.0.1");
    assert_string_equal(attr(&h->ev, "why"), "perm");
    assert_string_equal(attr(&h->ev, "source"), "app");
    assert_true(h->ev.time_ms > 0); /* now */
    assert_int_equal(one(d, "APP ALLOW user=u7", h), FG_DECODE_UNMATCHED);
    fg_decoder_free(d);
    /* every error of a broken file, each with its line */
    const char *bad = "name: Bad Name\n"                       /* 1 */
                      "type: regex\n"                          /* 2 */
                      "colour: blue\n"                         /* 3 */
                      "timestamp: [syslog, rfc822]\n"          /* 4 */
                      "patterns:\n"                            /* 5 */
                      "  - id: a\n"                            /* 6 */
                      "    regex: '(?<ip>[0-9.]+'\n"           /* 7 */
                      "    set: {name: x.y}\n"                 /* 8 */
                      "  - id: a\n"                            /* 9 */
                      "    regex: '(?<ts>\\S+) x'\n"           /* 10 */
                      "    set: {colour: red, result: bad}\n"; /* 11 */
    fg_buf_reset(&errors);
    assert_int_equal(load_text(bad, &d, &errors), FG_ERR_INVALID);
    assert_null(d);
    const char *e = fg_buf_str(&errors);
    assert_non_null(strstr(e, "t.yaml:1: name:"));
    assert_non_null(strstr(e, "t.yaml:3: decoder: unknown key 'colour'"));
    assert_non_null(strstr(e, "t.yaml:4: timestamp:"));
    assert_non_null(strstr(e, "t.yaml:7: pattern regex: regex:"));
    assert_non_null(strstr(e, "t.yaml:9: pattern id 'a' is used twice"));
    assert_non_null(strstr(e, "t.yaml:11: 'colour': not an event field"));
    assert_non_null(strstr(e, "t.yaml:9: pattern 'a': no event name"));
    fg_buf_reset(&errors);
    assert_int_equal(load_text("name: j\ntype: json\nheader: 'x'\n", &d, &errors), FG_ERR_INVALID);
    assert_non_null(strstr(fg_buf_str(&errors), "t.yaml:1: a json decoder takes no"));
    fg_buf_reset(&errors);
    assert_int_equal(load_text("- a\n- b\n", &d, &errors), FG_ERR_INVALID);
    fg_buf_reset(&errors);
    assert_int_equal(load_text(":\n  - [\n", &d, &errors), FG_ERR_INVALID);
    assert_non_null(strstr(fg_buf_str(&errors), "t.yaml:"));
    /* names and files */
    assert_int_equal(fg_decoder_load("nosuch", NULL, &d, &errors), FG_ERR_NOT_FOUND);
    assert_int_equal(fg_decoder_load("/nonexistent/x.yaml", NULL, &d, &errors), FG_ERR_IO);
    fg_buf_release(&errors);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sshd_shapes),
        cmocka_unit_test(test_sshd_details),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_custom_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
