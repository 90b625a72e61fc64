/*
 * siem.c — alerts as RFC 5424 / CEF lines to a file, UDP, TCP or unix datagram sink
 * (siem.h; MON-1, MON-2).
 */
#include "incident/siem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"

#ifndef FG_VERSION
#define FG_VERSION "0.1.0"
#endif

#define SIEM_HOST_MAX 253u /* a DNS name, or an IP literal */

enum siem_kind { SIEM_FILE = 0, SIEM_UDP, SIEM_TCP, SIEM_UNIX };
enum siem_format { SIEM_RFC5424 = 0, SIEM_CEF };

static const char *const kind_names[] = {"file", "udp", "tcp", "unix"};

struct fg_siem {
    enum siem_kind kind;
    enum siem_format format;
    int fd; /* -1 while a tcp sink is not connected */
    pthread_mutex_t mu;
    struct sockaddr_storage addr; /* udp / tcp / unix peer */
    socklen_t addrlen;
    int family;
    uint64_t next_connect_ns; /* tcp: no reconnect before this (monotonic) */
    uint64_t last_log_ns;     /* last siem.drop message */
    uint64_t unlogged;        /* drops since that message */
    int logged;               /* a siem.drop message was written */
    char hostname[FG_SIEM_HOSTNAME_MAX + 1];
    _Atomic uint64_t sent, dropped;
};

/* ---- formatting --------------------------------------------------------------------------- */

struct out {
    char *p;
    size_t cap, n;
    int full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || n >= o->cap - o->n) { /* keep one byte for the NUL */
        o->full = 1;
        return;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_int(struct out *o, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRId64, v);
    put(o, t, (size_t)n);
}

/* Length (1..4) of the valid UTF-8 sequence at s[0..n), 0 if it is not one. *cp gets the
 * code point. Overlong forms, surrogates and values past U+10FFFF are invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1fu, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0fu, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        v = (v << 6) | (s[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffffu || (v >= 0xd800u && v <= 0xdfffu))
        return 0;
    *cp = v;
    return len;
}

enum esc { ESC_MSG, ESC_SD, ESC_CEF_HDR, ESC_CEF_EXT };

/* Append s[0..n) escaped for its place. Control characters (C0, DEL, C1) and invalid UTF-8
 * become '?' everywhere, except LF / CR in a CEF extension (\n, \r). */
static void put_esc(struct out *o, const char *s, size_t n, enum esc mode)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n && !o->full) {
        uint32_t cp = 0;
        size_t len = utf8_seq(u + i, n - i, &cp);
        if (len == 0) {
            put(o, "?", 1);
            i++;
            continue;
        }
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            if (mode == ESC_CEF_EXT && cp == '\n')
                put(o, "\\n", 2);
            else if (mode == ESC_CEF_EXT && cp == '\r')
                put(o, "\\r", 2);
            else
                put(o, "?", 1);
            i += len;
            continue;
        }
        int bs = 0;
        if (mode == ESC_SD)
            bs = cp == '"' || cp == '\\' || cp == ']';
        else if (mode == ESC_CEF_HDR)
            bs = cp == '|' || cp == '\\';
        else if (mode == ESC_CEF_EXT)
            bs = cp == '=' || cp == '\\';
        if (bs)
            put(o, "\\", 1);
        put(o, s + i, len);
        i += len;
    }
}

/* A member of the view, bounded by its array even if not NUL-terminated. */
#define FIELD(a, m) (a)->m, strnlen((a)->m, sizeof(a)->m)

struct level_map {
    const char *name;
    int syslog_sev, cef_sev;
};
static const struct level_map levels[] = {
    {"low", 5, 3}, {"medium", 4, 5}, {"high", 3, 8}, {"critical", 2, 10}};

static const struct level_map *level_of(const struct fg_alert_view *a)
{
    size_t n = strnlen(a->level, sizeof a->level);
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strlen(levels[i].name) == n && memcmp(levels[i].name, a->level, n) == 0)
            return &levels[i];
    return NULL;
}

static void put_sd(struct out *o, const char *name, const char *v, size_t n)
{
    put(o, " ", 1);
    put_str(o, name);
    put(o, "=\"", 2);
    put_esc(o, v, n, ESC_SD);
    put(o, "\"", 1);
}

static void format_rfc5424(struct out *o, const struct level_map *lv, const struct fg_alert_view *a,
                           const char *hostname)
{
    put(o, "<", 1);
    put_int(o, FG_SIEM_FACILITY * 8 + lv->syslog_sev);
    put(o, ">1 ", 3);
    if (a->last_ms > 0) {
        char ts[FG_TIME_RFC3339_LEN];
        fg_time_format_rfc3339(a->last_ms, ts);
        put_str(o, ts);
    } else {
        put(o, "-", 1);
    }
    put(o, " ", 1);
    /* HOSTNAME = 1*255PRINTUSASCII (RFC 5424 §6.2.4) */
    size_t hn = hostname != NULL ? strnlen(hostname, FG_SIEM_HOSTNAME_MAX) : 0;
    if (hn == 0)
        put(o, "-", 1);
    for (size_t i = 0; i < hn; i++) {
        char c = hostname[i];
        put(o, c > ' ' && c < 0x7f ? &c : "?", 1);
    }
    put_str(o, " finguard - ALERT [" FG_SIEM_SD_ID);
    put_sd(o, "id", FIELD(a, id));
    put_sd(o, "rule", FIELD(a, rule_id));
    put_sd(o, "level", lv->name, strlen(lv->name));
    put_sd(o, "key", FIELD(a, key));
    char cnt[24];
    int cn = snprintf(cnt, sizeof cnt, "%" PRId64, a->count);
    put_sd(o, "count", cnt, (size_t)cn);
    put_sd(o, "incident", FIELD(a, incident_id));
    put(o, "]", 1);
    if (a->title[0] != '\0') {
        put(o, " ", 1);
        put_esc(o, FIELD(a, title), ESC_MSG);
    }
}

static void format_cef(struct out *o, const struct level_map *lv, const struct fg_alert_view *a)
{
    put_str(o, "CEF:0|finguard|finguard|");
    put_esc(o, FG_VERSION, strlen(FG_VERSION), ESC_CEF_HDR);
    put(o, "|", 1);
    put_esc(o, FIELD(a, rule_id), ESC_CEF_HDR);
    put(o, "|", 1);
    put_esc(o, FIELD(a, title), ESC_CEF_HDR);
    put(o, "|", 1);
    put_int(o, lv->cef_sev);
    put_str(o, "|rt=");
    put_int(o, a->last_ms);
    put_str(o, " cs1Label=key cs1=");
    put_esc(o, FIELD(a, key), ESC_CEF_EXT);
    put_str(o, " cnt=");
    put_int(o, a->count);
    put_str(o, " externalId=");
    put_esc(o, FIELD(a, id), ESC_CEF_EXT);
    put_str(o, " cs2Label=incident cs2=");
    put_esc(o, FIELD(a, incident_id), ESC_CEF_EXT);
    put_str(o, " cs3Label=tags cs3=");
    put_esc(o, FIELD(a, tags), ESC_CEF_EXT);
}

static int format_parse(const char *format, enum siem_format *out)
{
    if (format == NULL)
        return 0;
    if (strcmp(format, "rfc5424") == 0)
        *out = SIEM_RFC5424;
    else if (strcmp(format, "cef") == 0)
        *out = SIEM_CEF;
    else
        return 0;
    return 1;
}

static fg_rc format_line(enum siem_format f, const struct fg_alert_view *a, const char *hostname,
                         char *out, size_t cap, size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (out == NULL || cap == 0)
        return a == NULL ? FG_ERR_INVALID : FG_ERR_TOO_LARGE;
    out[0] = '\0';
    const struct level_map *lv = a != NULL ? level_of(a) : NULL;
    if (lv == NULL)
        return FG_ERR_INVALID;
    struct out o = {.p = out, .cap = cap};
    if (f == SIEM_RFC5424)
        format_rfc5424(&o, lv, a, hostname);
    else
        format_cef(&o, lv, a);
    if (o.full) {
        out[0] = '\0';
        return FG_ERR_TOO_LARGE;
    }
    out[o.n] = '\0';
    if (len != NULL)
        *len = o.n;
    return FG_OK;
}

fg_rc fg_siem_format(const char *format, const struct fg_alert_view *a, const char *hostname,
                     char *out, size_t cap, size_t *len)
{
    enum siem_format f;
    if (!format_parse(format, &f)) {
        if (len != NULL)
            *len = 0;
        if (out != NULL && cap > 0)
            out[0] = '\0';
        return FG_ERR_INVALID;
    }
    return format_line(f, a, hostname, out, cap, len);
}

/* ---- opening ------------------------------------------------------------------------------ */

/* "HOST:PORT" or "[V6]:PORT" into host / port. */
static int split_host_port(const char *s, char host[SIEM_HOST_MAX + 1], char port[6])
{
    const char *hs = s, *he, *ps;
    if (s[0] == '[') {
        hs = s + 1;
        he = strchr(hs, ']');
        if (he == NULL || he[1] != ':')
            return 0;
        ps = he + 2;
    } else {
        he = strchr(s, ':');
        if (he == NULL || strchr(he + 1, ':') != NULL)
            return 0;
        ps = he + 1;
    }
    size_t hn = (size_t)(he - hs), pn = strlen(ps);
    if (hn == 0 || hn > SIEM_HOST_MAX || pn == 0 || pn > 5)
        return 0;
    unsigned long pv = 0;
    for (size_t i = 0; i < pn; i++) {
        if (ps[i] < '0' || ps[i] > '9')
            return 0;
        pv = pv * 10 + (unsigned long)(ps[i] - '0');
    }
    if (pv == 0 || pv > 65535)
        return 0;
    for (size_t i = 0; i < hn; i++)
        if (hs[i] <= ' ' || hs[i] >= 0x7f || hs[i] == '/' || hs[i] == '[' || hs[i] == ']')
            return 0;
    memcpy(host, hs, hn);
    host[hn] = '\0';
    memcpy(port, ps, pn);
    port[pn] = '\0';
    return 1;
}

static fg_rc resolve(struct fg_siem *s, const char *hostport, int socktype)
{
    char host[SIEM_HOST_MAX + 1], port[6];
    if (!split_host_port(hostport, host, port))
        return FG_ERR_INVALID;
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = socktype, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        return FG_ERR_IO;
    fg_rc rc = FG_ERR_IO;
    if (res->ai_addrlen <= sizeof s->addr) {
        memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
        s->addrlen = res->ai_addrlen;
        s->family = res->ai_family;
        rc = FG_OK;
    }
    freeaddrinfo(res);
    return rc;
}

/* strerror_r (GNU): strerror is not thread-safe. */
static const char *err_text(int err, char buf[64])
{
    return strerror_r(err, buf, 64);
}

static uint64_t now_ns(void)
{
    return fg_time_mono_ns();
}

/* tcp: a non-blocking connection within FG_SIEM_TCP_TIMEOUT_MS. Called with mu held. */
static int tcp_connect(struct fg_siem *s)
{
    int fd = socket(s->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int err = 0;
    if (connect(fd, (const struct sockaddr *)&s->addr, s->addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int r = poll(&p, 1, FG_SIEM_TCP_TIMEOUT_MS);
            socklen_t el = sizeof err;
            if (r == 0)
                err = ETIMEDOUT;
            else if (r < 0)
                err = errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
                err = errno;
        }
    }
    if (err != 0) {
        close(fd);
        s->next_connect_ns = now_ns() + (uint64_t)FG_SIEM_RECONNECT_MS * 1000000u;
        return err;
    }
    s->fd = fd;
    return 0;
}

static int unix_connect(struct fg_siem *s)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if (connect(fd, (const struct sockaddr *)&s->addr, s->addrlen) != 0) {
        int err = errno;
        close(fd);
        return err;
    }
    s->fd = fd;
    return 0;
}

static fg_rc open_sink(struct fg_siem *s, const char *target)
{
    if (strncmp(target, "file:", 5) == 0) {
        s->kind = SIEM_FILE;
        if (target[5] == '\0')
            return FG_ERR_INVALID;
        s->fd = open(target + 5, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        return s->fd < 0 ? FG_ERR_IO : FG_OK;
    }
    if (strncmp(target, "unix:", 5) == 0) {
        s->kind = SIEM_UNIX;
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        size_t n = strlen(target + 5);
        if (n == 0 || n >= sizeof un.sun_path)
            return FG_ERR_INVALID;
        memcpy(un.sun_path, target + 5, n);
        memcpy(&s->addr, &un, sizeof un);
        s->addrlen = (socklen_t)sizeof un;
        s->family = AF_UNIX;
        return unix_connect(s) != 0 ? FG_ERR_IO : FG_OK;
    }
    int udp = strncmp(target, "udp:", 4) == 0, tcp = strncmp(target, "tcp:", 4) == 0;
    if (!udp && !tcp)
        return FG_ERR_INVALID;
    s->kind = udp ? SIEM_UDP : SIEM_TCP;
    fg_rc rc = resolve(s, target + 4, udp ? SOCK_DGRAM : SOCK_STREAM);
    if (rc)
        return rc;
    if (tcp) {
        int err = tcp_connect(s);
        char eb[64];
        if (err != 0) /* not fatal: the collector may come later (siem.h) */
            fg_log(FG_LOG_WARN, "siem.connect", FG_LF_STR("sink", "tcp"),
                   FG_LF_STR("error", err_text(err, eb)));
        return FG_OK;
    }
    s->fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return FG_ERR_IO;
    /* connected: an ICMP "port unreachable" surfaces as ECONNREFUSED on a later send */
    if (connect(s->fd, (const struct sockaddr *)&s->addr, s->addrlen) != 0)
        return FG_ERR_IO;
    return FG_OK;
}

fg_rc fg_siem_open(const char *target, const char *format, struct fg_siem **out)
{
    if (out == NULL)
        return FG_ERR_INVALID;
    *out = NULL;
    enum siem_format f;
    if (target == NULL || !format_parse(format, &f) ||
        strnlen(target, FG_SIEM_TARGET_MAX + 1) > FG_SIEM_TARGET_MAX)
        return FG_ERR_INVALID;
    struct fg_siem *s = calloc(1, sizeof *s);
    if (s == NULL)
        return FG_ERR_NOMEM;
    s->format = f;
    s->fd = -1;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return FG_ERR_NOMEM;
    }
    if (gethostname(s->hostname, sizeof s->hostname - 1) != 0)
        s->hostname[0] = '\0';
    s->hostname[sizeof s->hostname - 1] = '\0';
    fg_rc rc = open_sink(s, target);
    if (rc) {
        fg_siem_free(s);
        return rc;
    }
    *out = s;
    return FG_OK;
}

/* ---- sending ------------------------------------------------------------------------------ */

/* Write all of p[0..n) to a regular file. 0 or an errno. */
static int file_write(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void tcp_close(struct fg_siem *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* 1 if the collector closed the connection (or it failed); data it sent is discarded. */
static int tcp_peer_gone(int fd)
{
    char junk[256];
    for (int i = 0; i < 16; i++) {
        ssize_t r = recv(fd, junk, sizeof junk, MSG_DONTWAIT);
        if (r == 0)
            return 1;
        if (r < 0)
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }
    return 0;
}

/* A whole line on the connection within the timeout; 0 or an errno (the connection is then
 * closed: a partial line would break the framing). */
static int tcp_write(struct fg_siem *s, const char *p, size_t n)
{
    if (s->fd >= 0 && tcp_peer_gone(s->fd))
        tcp_close(s);
    if (s->fd < 0) {
        if (now_ns() < s->next_connect_ns)
            return ENOTCONN;
        int err = tcp_connect(s);
        if (err != 0)
            return err;
    }
    uint64_t deadline = now_ns() + (uint64_t)FG_SIEM_TCP_TIMEOUT_MS * 1000000u;
    while (n > 0) {
        ssize_t w = send(s->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        int err = w < 0 ? errno : EIO;
        if (err == EINTR)
            continue;
        uint64_t t = now_ns();
        if ((err != EAGAIN && err != EWOULDBLOCK) || t >= deadline) {
            tcp_close(s);
            return err == EAGAIN || err == EWOULDBLOCK ? ETIMEDOUT : err;
        }
        struct pollfd pf = {.fd = s->fd, .events = POLLOUT};
        int left_ms = (int)((deadline - t) / 1000000u) + 1;
        (void)poll(&pf, 1, left_ms);
    }
    return 0;
}

/* One datagram, non-blocking; the unix receiver is reconnected once if it went away. */
static int dgram_write(struct fg_siem *s, const char *p, size_t n)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (s->fd < 0) {
            int err = unix_connect(s);
            if (err != 0)
                return err;
        }
        ssize_t w = send(s->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w == (ssize_t)n)
            return 0;
        int err = w < 0 ? errno : EMSGSIZE;
        if (s->kind != SIEM_UNIX || attempt > 0 ||
            (err != ECONNREFUSED && err != ENOTCONN && err != ENOENT))
            return err;
        close(s->fd); /* the receiver was restarted: a fresh connection */
        s->fd = -1;
    }
    return ENOTCONN;
}

/* Count a drop and log it (rate-limited). Called with mu held. */
static void drop(struct fg_siem *s, const char *reason)
{
    uint64_t total = atomic_fetch_add(&s->dropped, 1) + 1;
    s->unlogged++;
    uint64_t t = now_ns();
    if (s->logged && t - s->last_log_ns < (uint64_t)FG_SIEM_LOG_EVERY_MS * 1000000u)
        return;
    fg_log(FG_LOG_WARN, "siem.drop", FG_LF_STR("sink", kind_names[s->kind]),
           FG_LF_STR("reason", reason), FG_LF_INT("dropped_total", total),
           FG_LF_INT("dropped_since_last_message", s->unlogged));
    s->logged = 1;
    s->last_log_ns = t;
    s->unlogged = 0;
}

void fg_siem_send(struct fg_siem *s, const struct fg_alert_view *a)
{
    if (s == NULL)
        return;
    char line[FG_SIEM_LINE_MAX + 2];
    size_t n = 0;
    fg_rc rc = format_line(s->format, a, s->hostname, line, FG_SIEM_LINE_MAX + 1, &n);
    pthread_mutex_lock(&s->mu);
    if (rc != FG_OK) {
        drop(s, fg_rc_str(rc));
        pthread_mutex_unlock(&s->mu);
        return;
    }
    int err;
    switch (s->kind) {
    case SIEM_FILE:
        line[n++] = '\n';
        err = file_write(s->fd, line, n);
        break;
    case SIEM_TCP:
        line[n++] = '\n';
        err = tcp_write(s, line, n);
        break;
    default:
        err = dgram_write(s, line, n);
        break;
    }
    char eb[64];
    if (err == 0)
        atomic_fetch_add(&s->sent, 1);
    else
        drop(s, err_text(err, eb));
    pthread_mutex_unlock(&s->mu);
}

void fg_siem_stats(const struct fg_siem *s, uint64_t *sent, uint64_t *dropped)
{
    if (sent != NULL)
        *sent = s != NULL ? atomic_load(&s->sent) : 0;
    if (dropped != NULL)
        *dropped = s != NULL ? atomic_load(&s->dropped) : 0;
}

void fg_siem_free(struct fg_siem *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
