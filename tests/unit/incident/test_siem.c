/*
 * test_siem.c — incident/siem.c (MON-1, MON-2): known-answer RFC 5424 and CEF lines for
 * every level, escaping of hostile titles / keys / tags (quotes, ']', '|', '=', backslash,
 * line breaks, terminal escapes, invalid UTF-8), the largest alert fits a line, too small
 * buffers and unknown formats / levels refused; sinks: file (round trip, append, many
 * threads, whole lines), unix datagram (round trip, the receiver restarted), udp (round
 * trip; a closed port counts drops and does not crash), tcp (newline framing, reconnect
 * after the collector closed, a dead collector costs at most the timeout and is counted),
 * a drop is logged; bad targets refused.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "incident/siem.h"

#define T_LAST_MS INT64_C(1795264496789) /* 2026-11-21T12:34:56.789Z */
#define T_ID "alr_AAAAAAAAAAAAAAAAAAAAAA"
#define T_INC "inc_BBBBBBBBBBBBBBBBBBBBBB"

static void set(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    assert_true(n < cap);
    memcpy(dst, s, n + 1);
}
#define SET(a, m, s) set((a)->m, sizeof(a)->m, (s))

static void sample(struct fg_alert_view *a)
{
    memset(a, 0, sizeof *a);
    SET(a, id, T_ID);
    SET(a, rule_id, "auth.bruteforce.user");
    SET(a, level, "high");
    SET(a, title, "Password guessing against one user");
    SET(a, key, "target=u1");
    SET(a, state, "open");
    a->count = 3;
    a->first_ms = T_LAST_MS - 60000;
    a->last_ms = T_LAST_MS;
    SET(a, tags, "AUTH-2,MON-1");
    SET(a, incident_id, T_INC);
}

static void expect_line(const char *format, const struct fg_alert_view *a, const char *host,
                        const char *want)
{
    char out[FG_SIEM_LINE_MAX + 1];
    size_t len = 99;
    assert_int_equal(fg_siem_format(format, a, host, out, sizeof out, &len), FG_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

static void test_rfc5424_known(void **state)
{
    (void)state;
    struct fg_alert_view a;
    sample(&a);
    expect_line("rfc5424", &a, "fg-host-1",
                "<163>1 2026-11-21T12:34:56.789Z fg-host-1 finguard - ALERT [finguard@32473 "
                "id=\"" T_ID "\" rule=\"auth.bruteforce.user\" level=\"high\" key=\"target=u1\" "
                "count=\"3\" incident=\"" T_INC "\"] Password guessing against one user");
    /* PRI = local4 (20) * 8 + severity: critical 2, medium 4, low 5 */
    SET(&a, level, "critical");
    a.incident_id[0] = '\0';
    a.title[0] = '\0';
    a.last_ms = 0;
    expect_line("rfc5424", &a, NULL,
                "<162>1 - - finguard - ALERT [finguard@32473 id=\"" T_ID
                "\" rule=\"auth.bruteforce.user\" level=\"critical\" key=\"target=u1\" "
                "count=\"3\" incident=\"\"]");
    SET(&a, level, "medium");
    a.last_ms = 1;
    expect_line("rfc5424", &a, "h o\x01st",
                "<164>1 1970-01-01T00:00:00.001Z h?o?st finguard - ALERT [finguard@32473 id=\"" T_ID
                "\" rule=\"auth.bruteforce.user\" level=\"medium\" key=\"target=u1\" "
                "count=\"3\" incident=\"\"]");
    SET(&a, level, "low");
    char out[FG_SIEM_LINE_MAX + 1];
    assert_int_equal(fg_siem_format("rfc5424", &a, "h", out, sizeof out, NULL), FG_OK);
    assert_memory_equal(out, "<165>1 ", 7);
}

static void test_cef_known(void **state)
{
    (void)state;
    struct fg_alert_view a;
    sample(&a);
    expect_line("cef", &a, "ignored",
                "CEF:0|finguard|finguard|" FG_VERSION "|auth.bruteforce.user|Password guessing "
                "against one user|8|rt=1795264496789 cs1Label=key cs1=target\\=u1 cnt=3 "
                "externalId=" T_ID " cs2Label=incident cs2=" T_INC
                " cs3Label=tags cs3=AUTH-2,MON-1");
    static const struct {
        const char *level;
        const char *sev;
    } sev[] = {{"low", "|3|"}, {"medium", "|5|"}, {"high", "|8|"}, {"critical", "|10|"}};
    for (size_t i = 0; i < sizeof sev / sizeof sev[0]; i++) {
        SET(&a, level, sev[i].level);
        char out[FG_SIEM_LINE_MAX + 1];
        assert_int_equal(fg_siem_format("cef", &a, NULL, out, sizeof out, NULL), FG_OK);
        assert_non_null(strstr(out, sev[i].sev));
    }
}

/* Hostile text: nothing can end the line, close a field or forge one. */
static void test_escaping(void **state)
{
    (void)state;
    struct fg_alert_view a;
    sample(&a);
    SET(&a, title, "a\"b]c|d=e\\f\nX\x1b[31m \xc3\xa9 \xff \xc2\x9b!");
    SET(&a, key, "k\"]\\=|\r\n");
    SET(&a, tags, "t=1\\,x|y");
    SET(&a, rule_id, "r|x\\y");
    expect_line("rfc5424", &a, "h",
                "<163>1 2026-11-21T12:34:56.789Z h finguard - ALERT [finguard@32473 id=\"" T_ID
                "\" rule=\"r|x\\\\y\" level=\"high\" key=\"k\\\"\\]\\\\=|??\" count=\"3\" "
                "incident=\"" T_INC "\"] a\"b]c|d=e\\f?X?[31m \xc3\xa9 ? ?!");
    expect_line("cef", &a, "h",
                "CEF:0|finguard|finguard|" FG_VERSION "|r\\|x\\\\y|a\"b]c\\|d=e\\\\f?X?[31m "
                "\xc3\xa9 ? ?!|8|rt=1795264496789 cs1Label=key cs1=k\"]\\\\\\=|\\r\\n cnt=3 "
                "externalId=" T_ID " cs2Label=incident cs2=" T_INC
                " cs3Label=tags cs3=t\\=1\\\\,x|y");
    /* overlong, surrogate and truncated sequences are not UTF-8 */
    SET(&a, title, "\xc0\xaf|\xed\xa0\x80|\xf0\x9f\x98");
    char out[FG_SIEM_LINE_MAX + 1];
    assert_int_equal(fg_siem_format("rfc5424", &a, "h", out, sizeof out, NULL), FG_OK);
    assert_non_null(strstr(out, "] ??|???|???"));
    /* a 4-byte character passes unchanged */
    SET(&a, title, "\xf0\x9f\x98\x80");
    assert_int_equal(fg_siem_format("cef", &a, "h", out, sizeof out, NULL), FG_OK);
    assert_non_null(strstr(out, "|\xf0\x9f\x98\x80|8|"));
}

/* Every field at its maximum of the worst byte still fits FG_SIEM_LINE_MAX. */
static void fill(char *dst, size_t size, char c)
{
    memset(dst, c, size - 1);
    dst[size - 1] = '\0';
}

static void test_largest_fits(void **state)
{
    (void)state;
    static const char worst[] = {'\\', '"', ']', '|', '=', '\n'};
    char out[FG_SIEM_LINE_MAX + 1];
    for (size_t w = 0; w < sizeof worst; w++) {
        struct fg_alert_view a;
        memset(&a, 0, sizeof a);
        fill(a.id, sizeof a.id, worst[w]);
        fill(a.rule_id, sizeof a.rule_id, worst[w]);
        fill(a.title, sizeof a.title, worst[w]);
        fill(a.key, sizeof a.key, worst[w]);
        fill(a.tags, sizeof a.tags, worst[w]);
        fill(a.incident_id, sizeof a.incident_id, worst[w]);
        SET(&a, level, "critical");
        a.count = INT64_MIN;
        a.last_ms = INT64_MAX;
        char host[FG_SIEM_HOSTNAME_MAX + 10];
        fill(host, sizeof host, 'h');
        size_t len = 0;
        assert_int_equal(fg_siem_format("rfc5424", &a, host, out, sizeof out, &len), FG_OK);
        assert_null(memchr(out, '\n', len));
        assert_int_equal(fg_siem_format("cef", &a, host, out, sizeof out, &len), FG_OK);
        assert_null(memchr(out, '\n', len));
    }
}

static void test_format_refusals(void **state)
{
    (void)state;
    struct fg_alert_view a;
    sample(&a);
    char out[64];
    size_t len = 7;
    assert_int_equal(fg_siem_format("json", &a, "h", out, sizeof out, &len), FG_ERR_INVALID);
    assert_int_equal(len, 0);
    assert_int_equal(fg_siem_format(NULL, &a, "h", out, sizeof out, &len), FG_ERR_INVALID);
    assert_int_equal(fg_siem_format("cef", NULL, "h", out, sizeof out, &len), FG_ERR_INVALID);
    SET(&a, level, "severe");
    assert_int_equal(fg_siem_format("cef", &a, "h", out, sizeof out, &len), FG_ERR_INVALID);
    SET(&a, level, "high");
    /* too small: "" and TOO_LARGE, never a cut line */
    memset(out, 'x', sizeof out);
    assert_int_equal(fg_siem_format("cef", &a, "h", out, sizeof out, &len), FG_ERR_TOO_LARGE);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    assert_int_equal(fg_siem_format("rfc5424", &a, "h", out, 0, &len), FG_ERR_TOO_LARGE);
    /* exactly enough */
    char big[FG_SIEM_LINE_MAX + 1];
    assert_int_equal(fg_siem_format("cef", &a, "h", big, sizeof big, &len), FG_OK);
    assert_int_equal(fg_siem_format("cef", &a, "h", big, len + 1, &len), FG_OK);
    assert_int_equal(fg_siem_format("cef", &a, "h", big, len, NULL), FG_ERR_TOO_LARGE);
}

static void test_bad_targets(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "file:",
                                      "ftp:x",
                                      "syslog",
                                      "udp:",
                                      "udp:host",
                                      "udp:host:0",
                                      "udp:host:65536",
                                      "udp:host:51a",
                                      "udp::514",
                                      "udp:a:b:514",
                                      "tcp:[::1:514",
                                      "tcp:[::1]514",
                                      "tcp:host:-1",
                                      "tcp:ho st:514",
                                      "unix:",
                                      "FILE:/tmp/x"};
    struct fg_siem *s = (struct fg_siem *)1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fg_siem_open(bad[i], "cef", &s), FG_ERR_INVALID);
        assert_null(s);
    }
    assert_int_equal(fg_siem_open(NULL, "cef", &s), FG_ERR_INVALID);
    assert_int_equal(fg_siem_open("file:/tmp/x", "leef", &s), FG_ERR_INVALID);
    assert_int_equal(fg_siem_open("file:/tmp/x", NULL, &s), FG_ERR_INVALID);
    char longp[200];
    memcpy(longp, "unix:/tmp/", 10);
    fill(longp + 10, sizeof longp - 10, 'p');
    assert_int_equal(fg_siem_open(longp, "cef", &s), FG_ERR_INVALID);
    char huge[FG_SIEM_TARGET_MAX + 16];
    memcpy(huge, "file:/tmp/", 10);
    fill(huge + 10, sizeof huge - 10, 'f');
    assert_int_equal(fg_siem_open(huge, "cef", &s), FG_ERR_INVALID);
    /* well-formed but cannot be opened */
    assert_int_equal(fg_siem_open("file:/nonexistent-fg-dir/siem.log", "cef", &s), FG_ERR_IO);
    assert_int_equal(fg_siem_open("unix:/tmp/fg-siem-no-such.sock", "cef", &s), FG_ERR_IO);
    assert_null(s);
    fg_siem_free(NULL);
    fg_siem_send(NULL, NULL);
    uint64_t sent = 9, dropped = 9;
    fg_siem_stats(NULL, &sent, &dropped);
    assert_true(sent == 0 && dropped == 0);
}

static void stats_are(struct fg_siem *s, uint64_t sent, uint64_t dropped)
{
    uint64_t a = 0, b = 0;
    fg_siem_stats(s, &a, &b);
    assert_int_equal(a, sent);
    assert_int_equal(b, dropped);
}

static void test_file_sink(void **state)
{
    (void)state;
    char dir[256], path[512], target[600];
    fg_test_tmpdir("siem-file", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/siem.log", dir);
    snprintf(target, sizeof target, "file:%s", path);
    char host[FG_SIEM_HOSTNAME_MAX + 1] = "";
    assert_int_equal(gethostname(host, sizeof host - 1), 0);

    struct fg_alert_view a, b;
    sample(&a);
    sample(&b);
    SET(&b, title, "second\nline");
    b.count = 4;
    char la[FG_SIEM_LINE_MAX + 1], lb[FG_SIEM_LINE_MAX + 1];
    assert_int_equal(fg_siem_format("rfc5424", &a, host, la, sizeof la, NULL), FG_OK);
    assert_int_equal(fg_siem_format("rfc5424", &b, host, lb, sizeof lb, NULL), FG_OK);

    struct fg_siem *s = NULL;
    assert_int_equal(fg_siem_open(target, "rfc5424", &s), FG_OK);
    fg_siem_send(s, &a);
    fg_siem_send(s, &b);
    stats_are(s, 2, 0);
    fg_siem_free(s);
    /* appended, not truncated, by a second open */
    assert_int_equal(fg_siem_open(target, "rfc5424", &s), FG_OK);
    fg_siem_send(s, &a);
    fg_siem_free(s);

    size_t n = 0;
    char *got = fg_test_read_file(path, &n);
    assert_non_null(got);
    struct fg_buf want = FG_BUF_INIT(1 << 16);
    assert_int_equal(fg_buf_appendf(&want, "%s\n%s\n%s\n", la, lb, la), FG_OK);
    assert_string_equal(got, want.data);
    free(got);
    fg_buf_release(&want);
    fg_test_rmtree(dir);
}

struct burst {
    struct fg_siem *s;
    int n;
};

static void *burst_fn(void *arg)
{
    struct burst *b = arg;
    struct fg_alert_view a;
    sample(&a);
    for (int i = 0; i < b->n; i++) {
        a.count = i;
        fg_siem_send(b->s, &a);
    }
    return NULL;
}

/* Many threads, one file: every line whole (thread-safe send). */
static void test_file_threads(void **state)
{
    (void)state;
    char dir[256], path[512], target[600];
    fg_test_tmpdir("siem-threads", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/siem.log", dir);
    snprintf(target, sizeof target, "file:%s", path);
    struct fg_siem *s = NULL;
    assert_int_equal(fg_siem_open(target, "cef", &s), FG_OK);
    enum { THREADS = 4, EACH = 200 };
    pthread_t t[THREADS];
    struct burst b = {.s = s, .n = EACH};
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, burst_fn, &b), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    stats_are(s, THREADS * EACH, 0);
    fg_siem_free(s);
    assert_int_equal(fg_test_file_count(path, "\n", 1), THREADS * EACH);
    assert_int_equal(fg_test_file_count(path, "CEF:0|", 6), THREADS * EACH);
    assert_int_equal(fg_test_file_count(path, "\nCEF:0|", 7), THREADS * EACH - 1);
    assert_int_equal(fg_test_file_count(path, "cs3=AUTH-2,MON-1\n", 17), THREADS * EACH);
    fg_test_rmtree(dir);
}

static int unix_receiver(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof un.sun_path);
    memcpy(un.sun_path, path, strlen(path) + 1);
    unlink(path);
    assert_int_equal(bind(fd, (struct sockaddr *)&un, sizeof un), 0);
    struct timeval tv = {.tv_sec = 5};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    return fd;
}

static void expect_datagram(int fd, const char *want)
{
    char buf[FG_SIEM_LINE_MAX + 16];
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    assert_int_equal(r, (ssize_t)strlen(want)); /* no "\n" on a datagram */
    assert_memory_equal(buf, want, strlen(want));
}

static void test_unix_sink(void **state)
{
    (void)state;
    char path[108];
    snprintf(path, sizeof path, "/tmp/fg-siem-%ld.sock", (long)getpid());
    char target[128];
    snprintf(target, sizeof target, "unix:%s", path);
    int rx = unix_receiver(path);

    char host[FG_SIEM_HOSTNAME_MAX + 1] = "";
    assert_int_equal(gethostname(host, sizeof host - 1), 0);
    struct fg_alert_view a;
    sample(&a);
    SET(&a, key, "hostile\"]\nkey");
    char line[FG_SIEM_LINE_MAX + 1];
    assert_int_equal(fg_siem_format("rfc5424", &a, host, line, sizeof line, NULL), FG_OK);

    struct fg_siem *s = NULL;
    assert_int_equal(fg_siem_open(target, "rfc5424", &s), FG_OK);
    fg_siem_send(s, &a);
    expect_datagram(rx, line);
    stats_are(s, 1, 0);

    /* the receiver goes away: counted as dropped, no crash */
    close(rx);
    unlink(path);
    fg_siem_send(s, &a);
    stats_are(s, 1, 1);
    /* ... and comes back (a restarted syslog daemon): reconnected on the next send */
    rx = unix_receiver(path);
    fg_siem_send(s, &a);
    expect_datagram(rx, line);
    stats_are(s, 2, 1);
    fg_siem_free(s);
    close(rx);
    unlink(path);
}

/* A bound UDP socket on 127.0.0.1; its port in *port. */
static int udp_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof in), 0);
    socklen_t l = sizeof in;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &l), 0);
    *port = ntohs(in.sin_port);
    struct timeval tv = {.tv_sec = 5};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    return fd;
}

static void test_udp_sink(void **state)
{
    (void)state;
    int port = 0;
    int rx = udp_socket(&port);
    char target[64];
    snprintf(target, sizeof target, "udp:127.0.0.1:%d", port);
    struct fg_alert_view a;
    sample(&a);
    char line[FG_SIEM_LINE_MAX + 1];
    assert_int_equal(fg_siem_format("cef", &a, NULL, line, sizeof line, NULL), FG_OK);
    struct fg_siem *s = NULL;
    assert_int_equal(fg_siem_open(target, "cef", &s), FG_OK);
    fg_siem_send(s, &a);
    expect_datagram(rx, line);
    stats_are(s, 1, 0);
    fg_siem_free(s);

    /* the port closes: the ICMP "port unreachable" makes later sends fail — counted */
    close(rx);
    assert_int_equal(fg_siem_open(target, "rfc5424", &s), FG_OK);
    uint64_t t0 = fg_time_mono_ns();
    for (int i = 0; i < 6; i++) {
        fg_siem_send(s, &a);
        usleep(20 * 1000);
    }
    assert_true(fg_time_mono_ns() - t0 < UINT64_C(2000000000));
    uint64_t sent = 0, dropped = 0;
    fg_siem_stats(s, &sent, &dropped);
    assert_int_equal(sent + dropped, 6);
    assert_true(dropped >= 1);
    fg_siem_free(s);
}

/* A TCP listener on 127.0.0.1; its port in *port. */
static int tcp_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof in), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t l = sizeof in;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &l), 0);
    *port = ntohs(in.sin_port);
    return fd;
}

/* Read one "\n"-terminated line from a connection. */
static void expect_stream_line(int fd, const char *want)
{
    struct timeval tv = {.tv_sec = 5};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    char buf[FG_SIEM_LINE_MAX + 16];
    size_t n = 0;
    while (n == 0 || buf[n - 1] != '\n') {
        assert_true(n < sizeof buf);
        ssize_t r = recv(fd, buf + n, 1, 0); /* one byte: never read into the next line */
        assert_int_equal(r, 1);
        n++;
    }
    assert_int_equal(n, strlen(want) + 1);
    assert_memory_equal(buf, want, strlen(want));
}

static void test_tcp_sink(void **state)
{
    (void)state;
    int port = 0;
    int lfd = tcp_listener(&port);
    char target[64];
    snprintf(target, sizeof target, "tcp:127.0.0.1:%d", port);
    struct fg_alert_view a;
    sample(&a);
    SET(&a, title, "two\nlines");
    char line[FG_SIEM_LINE_MAX + 1];
    assert_int_equal(fg_siem_format("cef", &a, NULL, line, sizeof line, NULL), FG_OK);

    struct fg_siem *s = NULL;
    assert_int_equal(fg_siem_open(target, "cef", &s), FG_OK);
    int c1 = accept(lfd, NULL, NULL);
    assert_true(c1 >= 0);
    fg_siem_send(s, &a);
    fg_siem_send(s, &a);
    expect_stream_line(c1, line);
    expect_stream_line(c1, line);
    stats_are(s, 2, 0);

    /* the collector closes the connection: the next send reconnects */
    close(c1);
    usleep(20 * 1000);
    fg_siem_send(s, &a);
    int c2 = accept(lfd, NULL, NULL);
    assert_true(c2 >= 0);
    expect_stream_line(c2, line);
    stats_are(s, 3, 0);
    close(c2);

    /* the collector is gone: refused, then not retried for FG_SIEM_RECONNECT_MS; counted,
     * and never more than the timeout per send */
    close(lfd);
    usleep(20 * 1000);
    uint64_t t0 = fg_time_mono_ns();
    for (int i = 0; i < 5; i++)
        fg_siem_send(s, &a);
    assert_true(fg_time_mono_ns() - t0 < UINT64_C(5) * FG_SIEM_TCP_TIMEOUT_MS * 1000000u);
    uint64_t sent = 0, dropped = 0;
    fg_siem_stats(s, &sent, &dropped);
    assert_int_equal(sent + dropped, 8);
    assert_true(dropped >= 4); /* the first may still reach the closing socket's buffer */
    fg_siem_free(s);

    /* nobody listening at open: not an error (the collector may start later), but drops */
    assert_int_equal(fg_siem_open(target, "rfc5424", &s), FG_OK);
    fg_siem_send(s, &a);
    stats_are(s, 0, 1);
    fg_siem_free(s);
}

/* A format error (a level the formats do not know) is a drop, and drops are logged. */
static void test_drop_logged(void **state)
{
    (void)state;
    char dir[256], path[512], logp[512], target[600];
    fg_test_tmpdir("siem-drop", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/siem.log", dir);
    snprintf(logp, sizeof logp, "%s/finguard.log", dir);
    snprintf(target, sizeof target, "file:%s", path);
    assert_int_equal(fg_log_open_file(logp), FG_OK);
    struct fg_siem *s = NULL;
    assert_int_equal(fg_siem_open(target, "cef", &s), FG_OK);
    struct fg_alert_view a;
    sample(&a);
    SET(&a, level, "bogus");
    fg_siem_send(s, &a);
    fg_siem_send(s, &a); /* rate-limited: counted, not logged again */
    stats_are(s, 0, 2);
    fg_siem_free(s);
    fg_log_close();
    assert_int_equal(fg_test_file_count(logp, "\"event\":\"siem.drop\"", 19), 1);
    assert_int_equal(fg_test_file_count(logp, "\"sink\":\"file\"", 13), 1);
    assert_int_equal(fg_test_file_count(logp, T_ID, strlen(T_ID)), 0); /* no alert content */
    size_t n = 9;
    char *got = fg_test_read_file(path, &n);
    assert_non_null(got);
    assert_int_equal(n, 0);
    free(got);
    fg_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5424_known),   cmocka_unit_test(test_cef_known),
        cmocka_unit_test(test_escaping),        cmocka_unit_test(test_largest_fits),
        cmocka_unit_test(test_format_refusals), cmocka_unit_test(test_bad_targets),
        cmocka_unit_test(test_file_sink),       cmocka_unit_test(test_file_threads),
        cmocka_unit_test(test_unix_sink),       cmocka_unit_test(test_udp_sink),
        cmocka_unit_test(test_tcp_sink),        cmocka_unit_test(test_drop_logged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
