/*
 * test_client.c — unit tests of client/client.c against a tiny in-test HTTP/1.1 server.
 *
 * The mock server is one thread on a loopback socket (plain HTTP). It serves one
 * connection at a time (keep-alive included: it waits for the next request on the same
 * connection, or drops it when a new connection arrives), records the last request it
 * read (request line + headers, body) and answers with what the test scripted: a canned
 * response, a huge body (with or without Content-Length), a truncated body, or silence.
 * The tests then check both sides: what the client parsed and what went on the wire.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/client.h"

/* ---- the mock server ---------------------------------------------------------------- */

enum mock_mode {
    MOCK_CANNED = 0,  /* send m->response */
    MOCK_HUGE_LENGTH, /* Content-Length of 9 MiB, then bytes until the client leaves */
    MOCK_HUGE_STREAM, /* no Content-Length, 9 MiB, then close */
    MOCK_SILENT,      /* never answer */
    MOCK_TRUNCATED    /* Content-Length 100, 10 bytes, close */
};

#define MOCK_IN_MAX (256u * 1024u)
#define MOCK_HUGE_BYTES (9u * 1024u * 1024u)

struct mock {
    int listen_fd;
    int port;
    pthread_t thread;
    atomic_int stop;
    pthread_mutex_t mu;
    enum mock_mode mode;
    char response[16384];
    size_t response_len;
    /* The last request read. */
    char head[MOCK_IN_MAX];
    size_t head_len;
    char body[MOCK_IN_MAX];
    size_t body_len;
    int requests;
    int connections;
    /* Connection-local input. */
    char in[MOCK_IN_MAX];
    size_t in_len;
};

static int send_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static long header_content_length(const char *head, size_t n)
{
    static const char name[] = "\r\ncontent-length:";
    for (size_t i = 0; i + sizeof name - 1 < n; i++) {
        if (strncasecmp(head + i, name, sizeof name - 1) == 0)
            return strtol(head + i + sizeof name - 1, NULL, 10);
    }
    return 0;
}

/* Wait for fd readable; 1 readable, 0 stop or a new connection is waiting, -1 error. */
static int mock_wait(struct mock *m, int fd)
{
    while (!atomic_load(&m->stop)) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = m->listen_fd, .events = POLLIN}};
        int r = poll(p, 2, 50);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            return 1;
        if (r > 0 && (p[1].revents & POLLIN))
            return 0;
    }
    return 0;
}

/* Read one request into m->head/m->body. 1 read, 0 the connection is done. */
static int mock_read_request(struct mock *m, int fd)
{
    for (;;) {
        char *end = memmem(m->in, m->in_len, "\r\n\r\n", 4);
        if (end) {
            size_t head_len = (size_t)(end - m->in) + 4;
            long cl = header_content_length(m->in, head_len);
            if (cl >= 0 && head_len + (size_t)cl <= m->in_len) {
                pthread_mutex_lock(&m->mu);
                memcpy(m->head, m->in, head_len);
                m->head_len = head_len;
                m->head[head_len] = '\0';
                memcpy(m->body, m->in + head_len, (size_t)cl);
                m->body_len = (size_t)cl;
                m->requests++;
                pthread_mutex_unlock(&m->mu);
                size_t used = head_len + (size_t)cl;
                memmove(m->in, m->in + used, m->in_len - used);
                m->in_len -= used;
                return 1;
            }
        }
        if (m->in_len == sizeof m->in - 1 || mock_wait(m, fd) != 1)
            return 0;
        ssize_t r = recv(fd, m->in + m->in_len, sizeof m->in - 1 - m->in_len, 0);
        if (r <= 0)
            return 0;
        m->in_len += (size_t)r;
    }
}

static void mock_send_huge(int fd, int with_length)
{
    char head[128];
    int n = with_length
                ? snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
                           MOCK_HUGE_BYTES)
                : snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    if (send_all(fd, head, (size_t)n) != 0)
        return;
    static char chunk[64 * 1024];
    memset(chunk, 'a', sizeof chunk);
    for (size_t sent = 0; sent < MOCK_HUGE_BYTES; sent += sizeof chunk)
        if (send_all(fd, chunk, sizeof chunk) != 0)
            return;
}

/* Answer one request; 1 to keep the connection, 0 to close it. */
static int mock_answer(struct mock *m, int fd)
{
    pthread_mutex_lock(&m->mu);
    enum mock_mode mode = m->mode;
    pthread_mutex_unlock(&m->mu);
    switch (mode) {
    case MOCK_CANNED: {
        /* Copied under the lock: the test thread may script the next answer meanwhile. */
        static char out[sizeof m->response];
        pthread_mutex_lock(&m->mu);
        size_t n = m->response_len;
        memcpy(out, m->response, n);
        pthread_mutex_unlock(&m->mu);
        return send_all(fd, out, n) == 0;
    }
    case MOCK_HUGE_LENGTH:
        mock_send_huge(fd, 1);
        return 0;
    case MOCK_HUGE_STREAM:
        mock_send_huge(fd, 0);
        return 0;
    case MOCK_SILENT:
        while (mock_wait(m, fd) == 1) {
            char tmp[256];
            if (recv(fd, tmp, sizeof tmp, 0) <= 0)
                break;
        }
        return 0;
    case MOCK_TRUNCATED: {
        static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
        (void)send_all(fd, r, sizeof r - 1);
        return 0;
    }
    }
    return 0;
}

static void *mock_main(void *arg)
{
    struct mock *m = arg;
    while (!atomic_load(&m->stop)) {
        struct pollfd p = {.fd = m->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(m->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&m->mu);
        m->connections++;
        pthread_mutex_unlock(&m->mu);
        m->in_len = 0;
        while (mock_read_request(m, fd) && mock_answer(m, fd)) {
        }
        close(fd);
    }
    return NULL;
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void mock_respond(struct mock *m, int status, const char *headers, const char *body)
{
    pthread_mutex_lock(&m->mu);
    m->mode = MOCK_CANNED;
    int n = snprintf(m->response, sizeof m->response,
                     "HTTP/1.1 %d Whatever\r\nContent-Length: %zu\r\n%s\r\n%s", status,
                     strlen(body), headers ? headers : "", body);
    assert_true(n > 0 && (size_t)n < sizeof m->response);
    m->response_len = (size_t)n;
    pthread_mutex_unlock(&m->mu);
}

static void mock_set_mode(struct mock *m, enum mock_mode mode)
{
    pthread_mutex_lock(&m->mu);
    m->mode = mode;
    pthread_mutex_unlock(&m->mu);
}

/* Value of request header `name` of the last request into out; 1 if present. */
static int mock_header(struct mock *m, const char *name, char *out, size_t out_size)
{
    int found = 0;
    size_t nlen = strlen(name);
    pthread_mutex_lock(&m->mu);
    const char *line = strstr(m->head, "\r\n");
    while (line && !found) {
        line += 2;
        const char *eol = strstr(line, "\r\n");
        if (!eol || eol == line)
            break;
        if ((size_t)(eol - line) > nlen && line[nlen] == ':' &&
            strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(out, out_size, "%.*s", (int)(eol - v), v);
            found = 1;
        }
        line = eol;
    }
    pthread_mutex_unlock(&m->mu);
    return found;
}

static void mock_request_line(struct mock *m, char *out, size_t out_size)
{
    pthread_mutex_lock(&m->mu);
    const char *eol = strstr(m->head, "\r\n");
    snprintf(out, out_size, "%.*s", eol ? (int)(eol - m->head) : 0, m->head);
    pthread_mutex_unlock(&m->mu);
}

/* 1 if the last request's body is exactly p[0..n). */
static int mock_body_is(struct mock *m, const void *p, size_t n)
{
    pthread_mutex_lock(&m->mu);
    int same = m->body_len == n && memcmp(m->body, p, n) == 0;
    pthread_mutex_unlock(&m->mu);
    return same;
}

static int mock_requests(struct mock *m)
{
    pthread_mutex_lock(&m->mu);
    int n = m->requests;
    pthread_mutex_unlock(&m->mu);
    return n;
}

/* ---- fixture: one mock + one client per test ----------------------------------------- */

struct fixture {
    struct mock *m;
    struct fg_client *c;
};

static struct fg_client *client_for(int port, long timeout_ms)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    struct fg_client_options opt = {.base_url = url, .timeout_ms = timeout_ms};
    struct fg_client *c = NULL;
    assert_int_equal(fg_client_new(&opt, &c), FG_OK);
    assert_non_null(c);
    return c;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct mock *m = calloc(1, sizeof *m);
    if (!f || !m)
        return -1;
    pthread_mutex_init(&m->mu, NULL);
    m->listen_fd = listen_loopback(&m->port);
    if (listen(m->listen_fd, 16) != 0)
        return -1;
    if (pthread_create(&m->thread, NULL, mock_main, m) != 0)
        return -1;
    f->m = m;
    f->c = client_for(m->port, 5000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fg_client_free(f->c);
    atomic_store(&f->m->stop, 1);
    pthread_join(f->m->thread, NULL);
    close(f->m->listen_fd);
    pthread_mutex_destroy(&f->m->mu);
    free(f->m);
    free(f);
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_status_body_json_headers(void **state)
{
    struct fixture *f = *state;
    mock_respond(f->m, 200,
                 "Content-Type: application/json\r\nX-Request-Id: req-42\r\n"
                 "cache-control: no-store\r\nRetry-After: 7\r\nAllow: GET, HEAD\r\n",
                 "{\"status\":\"ok\",\"n\":3}");
    struct fg_client_response res;
    assert_int_equal(fg_client_get(f->c, "/v1/health", &res), FG_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.http_version, 11);
    assert_string_equal(res.body, "{\"status\":\"ok\",\"n\":3}");
    assert_int_equal(res.body_len, strlen(res.body));
    assert_non_null(res.json);
    assert_string_equal(json_string_value(json_object_get(res.json, "status")), "ok");
    assert_int_equal(json_integer_value(json_object_get(res.json, "n")), 3);
    assert_null(res.error_code);
    assert_string_equal(res.request_id, "req-42");
    assert_string_equal(res.content_type, "application/json");
    assert_string_equal(res.cache_control, "no-store");
    assert_string_equal(res.retry_after, "7");
    assert_string_equal(res.allow, "GET, HEAD");
    assert_string_equal(fg_client_last_error(f->c), "");
    assert_int_equal(fg_client_last_failure(f->c), FG_CLIENT_FAIL_NONE);
    char line[256];
    mock_request_line(f->m, line, sizeof line);
    assert_string_equal(line, "GET /v1/health HTTP/1.1");
    fg_client_response_release(&res);
}

static void test_error_shape(void **state)
{
    struct fixture *f = *state;
    struct fg_client_response res;
    mock_respond(f->m, 400, "Content-Type: application/json\r\n",
                 "{\"error\":{\"code\":\"invalid_argument\",\"message\":\"amount must be "
                 "positive\",\"field\":\"amount\"}}");
    assert_int_equal(fg_client_get(f->c, "/v1/x", &res), FG_OK);
    assert_int_equal(res.status, 400);
    assert_string_equal(res.error_code, "invalid_argument");
    assert_string_equal(res.error_message, "amount must be positive");
    assert_string_equal(res.error_field, "amount");
    fg_client_response_release(&res);

    mock_respond(f->m, 404, NULL, "{\"error\":{\"code\":\"not_found\",\"message\":\"no route\"}}");
    assert_int_equal(fg_client_get(f->c, "/nope", &res), FG_OK);
    assert_int_equal(res.status, 404);
    assert_string_equal(res.error_code, "not_found");
    assert_string_equal(res.error_message, "no route");
    assert_null(res.error_field);
    fg_client_response_release(&res);

    /* "error" that is not an object is not the error shape. */
    mock_respond(f->m, 500, NULL, "{\"error\":\"boom\"}");
    assert_int_equal(fg_client_get(f->c, "/x", &res), FG_OK);
    assert_int_equal(res.status, 500);
    assert_non_null(res.json);
    assert_null(res.error_code);
    fg_client_response_release(&res);
}

static void test_non_json_and_empty_bodies(void **state)
{
    struct fixture *f = *state;
    struct fg_client_response res;
    mock_respond(f->m, 200, "Content-Type: text/plain\r\n", "hello {");
    assert_int_equal(fg_client_get(f->c, "/metrics", &res), FG_OK);
    assert_string_equal(res.body, "hello {");
    assert_null(res.json);
    assert_null(res.error_code);
    fg_client_response_release(&res);

    mock_respond(f->m, 200, NULL, "[1,2]");
    assert_int_equal(fg_client_get(f->c, "/a", &res), FG_OK);
    assert_true(json_is_array(res.json));
    fg_client_response_release(&res);

    mock_respond(f->m, 204, NULL, "");
    assert_int_equal(fg_client_get(f->c, "/a", &res), FG_OK);
    assert_int_equal(res.status, 204);
    assert_string_equal(res.body, "");
    assert_int_equal(res.body_len, 0);
    assert_null(res.json);
    assert_string_equal(res.request_id, "");
    fg_client_response_release(&res);
}

static void test_interim_response_headers_discarded(void **state)
{
    struct fixture *f = *state;
    pthread_mutex_lock(&f->m->mu);
    static const char r[] = "HTTP/1.1 100 Continue\r\nX-Request-Id: interim\r\n\r\n"
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    memcpy(f->m->response, r, sizeof r - 1);
    f->m->response_len = sizeof r - 1;
    f->m->mode = MOCK_CANNED;
    pthread_mutex_unlock(&f->m->mu);
    struct fg_client_response res;
    assert_int_equal(fg_client_get(f->c, "/a", &res), FG_OK);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "ok");
    assert_string_equal(res.request_id, "");
    fg_client_response_release(&res);
}

struct sign_record {
    int calls;
    char method[16];
    char path[256];
    char body[256];
    size_t body_len;
    int body_was_null;
    fg_rc fail_with;
};

static fg_rc record_signer(void *ctx, const char *method, const char *path, const void *body,
                           size_t body_len, struct fg_client_headers *add)
{
    struct sign_record *r = ctx;
    r->calls++;
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->body_was_null = body == NULL;
    r->body_len = body_len;
    if (body_len > 0 && body_len < sizeof r->body)
        memcpy(r->body, body, body_len);
    if (r->fail_with)
        return r->fail_with;
    fg_rc rc = fg_client_headers_add(add, "X-Nonce", "bm9uY2Utbm9uY2Utbm9uY2U");
    if (!rc)
        rc = fg_client_headers_add(add, "X-Timestamp", "1700000000");
    if (!rc)
        rc = fg_client_headers_add(add, "X-Signature", "c2lnbmF0dXJl");
    return rc;
}

static void test_signing_hook(void **state)
{
    struct fixture *f = *state;
    struct sign_record rec = {0};
    fg_client_set_signer(f->c, record_signer, &rec);
    mock_respond(f->m, 201, NULL, "{}");
    static const char body[] = "{\"amount\":12345,\"memo\":\"rent\"}";
    struct fg_client_request req = {.method = "POST",
                                    .path = "/v1/transfers?dry=1",
                                    .body = body,
                                    .body_len = sizeof body - 1,
                                    .content_type = "application/json"};
    struct fg_client_response res;
    assert_int_equal(fg_client_request(f->c, &req, &res), FG_OK);
    assert_int_equal(res.status, 201);
    fg_client_response_release(&res);
    assert_int_equal(rec.calls, 1);
    assert_string_equal(rec.method, "POST");
    assert_string_equal(rec.path, "/v1/transfers?dry=1");
    assert_int_equal(rec.body_len, sizeof body - 1);
    assert_memory_equal(rec.body, body, sizeof body - 1);
    /* What the hook saw is what went on the wire, with its headers. */
    char v[256];
    mock_request_line(f->m, v, sizeof v);
    assert_string_equal(v, "POST /v1/transfers?dry=1 HTTP/1.1");
    assert_true(mock_body_is(f->m, body, sizeof body - 1));
    assert_true(mock_header(f->m, "X-Nonce", v, sizeof v));
    assert_string_equal(v, "bm9uY2Utbm9uY2Utbm9uY2U");
    assert_true(mock_header(f->m, "X-Timestamp", v, sizeof v));
    assert_string_equal(v, "1700000000");
    assert_true(mock_header(f->m, "X-Signature", v, sizeof v));
    assert_string_equal(v, "c2lnbmF0dXJl");

    /* A bodiless request: the hook gets NULL and 0. */
    assert_int_equal(fg_client_get(f->c, "/v1/accounts/7", &res), FG_OK);
    fg_client_response_release(&res);
    assert_int_equal(rec.calls, 2);
    assert_string_equal(rec.method, "GET");
    assert_string_equal(rec.path, "/v1/accounts/7");
    assert_true(rec.body_was_null);
    assert_int_equal(rec.body_len, 0);

    /* A failing hook aborts the request before anything is sent. */
    int before = mock_requests(f->m);
    rec.fail_with = FG_ERR_CRYPTO;
    assert_int_equal(fg_client_request(f->c, &req, &res), FG_ERR_CRYPTO);
    assert_int_equal(res.status, 0);
    assert_int_equal(fg_client_last_failure(f->c), FG_CLIENT_FAIL_LOCAL);
    assert_int_equal(mock_requests(f->m), before);
    fg_client_response_release(&res);

    /* Removed: no more calls, no more headers. */
    fg_client_set_signer(f->c, NULL, NULL);
    assert_int_equal(fg_client_get(f->c, "/x", &res), FG_OK);
    fg_client_response_release(&res);
    assert_int_equal(rec.calls, 3);
    assert_false(mock_header(f->m, "X-Signature", v, sizeof v));
}

static void test_headers_add_validation(void **state)
{
    (void)state;
    struct fg_client_headers h = {0};
    assert_int_equal(fg_client_headers_add(&h, "X-A:", "v"), FG_ERR_INVALID);
    assert_int_equal(fg_client_headers_add(&h, "", "v"), FG_ERR_INVALID);
    assert_int_equal(fg_client_headers_add(&h, "X-A", "v\r\nX-Evil: 1"), FG_ERR_INVALID);
    assert_int_equal(fg_client_headers_add(&h, "X-A\n", "v"), FG_ERR_INVALID);
    assert_int_equal(h.count, 0);
    for (unsigned i = 0; i < FG_CLIENT_HEADERS_MAX; i++)
        assert_int_equal(fg_client_headers_add(&h, "X-A", "v"), FG_OK);
    assert_int_equal(fg_client_headers_add(&h, "X-A", "v"), FG_ERR_LIMIT);
    assert_string_equal(h.lines[0], "X-A: v");
    for (size_t i = 0; i < h.count; i++)
        free(h.lines[i]);
}

static void test_session_headers(void **state)
{
    struct fixture *f = *state;
    char v[256];
    struct fg_client_response res;
    mock_respond(f->m, 200, NULL, "{}");
    assert_int_equal(fg_client_set_session(f->c, "tok-abc123", "device-7"), FG_OK);
    assert_int_equal(fg_client_get(f->c, "/v1/me", &res), FG_OK);
    fg_client_response_release(&res);
    assert_true(mock_header(f->m, "Authorization", v, sizeof v));
    assert_string_equal(v, "Bearer tok-abc123");
    assert_true(mock_header(f->m, "X-Device-Id", v, sizeof v));
    assert_string_equal(v, "device-7");

    assert_int_equal(fg_client_set_session(f->c, "tok\r\nX-Evil: 1", "d"), FG_ERR_INVALID);
    assert_int_equal(fg_client_set_session(f->c, NULL, NULL), FG_OK);
    assert_int_equal(fg_client_get(f->c, "/v1/me", &res), FG_OK);
    fg_client_response_release(&res);
    assert_false(mock_header(f->m, "Authorization", v, sizeof v));
    assert_false(mock_header(f->m, "X-Device-Id", v, sizeof v));
}

static void test_json_helper(void **state)
{
    struct fixture *f = *state;
    char v[256];
    struct fg_client_response res;
    mock_respond(f->m, 201, NULL, "{\"id\":\"1\"}");
    json_t *body = json_pack("{s:s, s:[i,i]}", "payload", "héllo", "n", 1, 2);
    assert_non_null(body);
    assert_int_equal(fg_client_post_json(f->c, "/v1/diag/write", body, &res), FG_OK);
    json_decref(body);
    assert_int_equal(res.status, 201);
    assert_string_equal(json_string_value(json_object_get(res.json, "id")), "1");
    fg_client_response_release(&res);
    mock_request_line(f->m, v, sizeof v);
    assert_string_equal(v, "POST /v1/diag/write HTTP/1.1");
    assert_true(mock_header(f->m, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/json");
    static const char want[] = "{\"payload\":\"héllo\",\"n\":[1,2]}";
    assert_true(mock_body_is(f->m, want, sizeof want - 1));

    /* Any method; a NULL body sends none. */
    assert_int_equal(fg_client_send_json(f->c, "DELETE", "/v1/x/1", NULL, &res), FG_OK);
    fg_client_response_release(&res);
    mock_request_line(f->m, v, sizeof v);
    assert_string_equal(v, "DELETE /v1/x/1 HTTP/1.1");
    assert_true(mock_body_is(f->m, "", 0));
}

static void test_raw_bodies_and_headers(void **state)
{
    struct fixture *f = *state;
    char v[256];
    struct fg_client_response res;
    mock_respond(f->m, 415, NULL, "{}");
    static const char bytes[] = "ab\0cd\xff\xfe";
    const char *const extra[] = {"X-Request-Id: mine-1", "X-Custom:  spaced ", NULL};
    struct fg_client_request req = {.method = "PATCH",
                                    .path = "/v1/diag/write",
                                    .body = bytes,
                                    .body_len = sizeof bytes - 1,
                                    .content_type = "text/plain",
                                    .headers = extra};
    assert_int_equal(fg_client_request(f->c, &req, &res), FG_OK);
    assert_int_equal(res.status, 415);
    fg_client_response_release(&res);
    mock_request_line(f->m, v, sizeof v);
    assert_string_equal(v, "PATCH /v1/diag/write HTTP/1.1");
    assert_true(mock_body_is(f->m, bytes, sizeof bytes - 1));
    assert_true(mock_header(f->m, "Content-Type", v, sizeof v));
    assert_string_equal(v, "text/plain");
    assert_true(mock_header(f->m, "X-Request-Id", v, sizeof v));
    assert_string_equal(v, "mine-1");
    assert_true(mock_header(f->m, "X-Custom", v, sizeof v));
    assert_false(mock_header(f->m, "Expect", v, sizeof v));

    /* No content type at all: curl's form default must not appear. */
    req.method = "POST";
    req.content_type = NULL;
    req.headers = NULL;
    assert_int_equal(fg_client_request(f->c, &req, &res), FG_OK);
    fg_client_response_release(&res);
    assert_false(mock_header(f->m, "Content-Type", v, sizeof v));
    assert_true(mock_body_is(f->m, bytes, sizeof bytes - 1));

    /* An empty POST body is Content-Length: 0. */
    req.body = "";
    req.body_len = 0;
    req.content_type = "application/json";
    assert_int_equal(fg_client_request(f->c, &req, &res), FG_OK);
    fg_client_response_release(&res);
    assert_true(mock_header(f->m, "Content-Length", v, sizeof v));
    assert_string_equal(v, "0");
}

static void test_target_sent_verbatim(void **state)
{
    struct fixture *f = *state;
    char v[512];
    struct fg_client_response res;
    mock_respond(f->m, 404, NULL, "{}");
    assert_int_equal(fg_client_get(f->c, "/v1/../v1//health/%2e%2e?x=%2F&y=..", &res), FG_OK);
    fg_client_response_release(&res);
    mock_request_line(f->m, v, sizeof v);
    assert_string_equal(v, "GET /v1/../v1//health/%2e%2e?x=%2F&y=.. HTTP/1.1");
}

static void test_limits_refused_locally(void **state)
{
    struct fixture *f = *state;
    struct fg_client_response res;
    int before = mock_requests(f->m);
    char *path = malloc(FG_CLIENT_URL_MAX + 2);
    assert_non_null(path);
    path[0] = '/';
    memset(path + 1, 'a', FG_CLIENT_URL_MAX);
    path[FG_CLIENT_URL_MAX + 1] = '\0';
    assert_int_equal(fg_client_get(f->c, path, &res), FG_ERR_LIMIT);
    free(path);
    fg_client_response_release(&res);

    const char *many[FG_CLIENT_HEADERS_MAX + 2];
    for (size_t i = 0; i < FG_CLIENT_HEADERS_MAX + 1; i++)
        many[i] = "X-A: b";
    many[FG_CLIENT_HEADERS_MAX + 1] = NULL;
    struct fg_client_request req = {.method = "GET", .path = "/", .headers = many};
    assert_int_equal(fg_client_request(f->c, &req, &res), FG_ERR_LIMIT);
    assert_int_equal(fg_client_last_failure(f->c), FG_CLIENT_FAIL_LOCAL);
    fg_client_response_release(&res);
    assert_int_equal(mock_requests(f->m), before);
}

static void test_oversized_response_refused(void **state)
{
    struct fixture *f = *state;
    struct fg_client_response res;
    mock_set_mode(f->m, MOCK_HUGE_LENGTH);
    assert_int_equal(fg_client_get(f->c, "/big", &res), FG_ERR_TOO_LARGE);
    assert_int_equal(res.status, 0);
    assert_null(res.json);
    assert_int_equal(fg_client_last_failure(f->c), FG_CLIENT_FAIL_TOO_LARGE);
    fg_client_response_release(&res);

    mock_set_mode(f->m, MOCK_HUGE_STREAM);
    assert_int_equal(fg_client_get(f->c, "/big", &res), FG_ERR_TOO_LARGE);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.body_len, 0);
    assert_int_equal(fg_client_last_failure(f->c), FG_CLIENT_FAIL_TOO_LARGE);
    fg_client_response_release(&res);

    /* The client is still usable afterwards. */
    mock_respond(f->m, 200, NULL, "ok");
    assert_int_equal(fg_client_get(f->c, "/small", &res), FG_OK);
    assert_string_equal(res.body, "ok");
    fg_client_response_release(&res);
}

static void test_truncated_response(void **state)
{
    struct fixture *f = *state;
    struct fg_client_response res;
    mock_set_mode(f->m, MOCK_TRUNCATED);
    assert_int_equal(fg_client_get(f->c, "/cut", &res), FG_ERR_IO);
    assert_int_equal(fg_client_last_failure(f->c), FG_CLIENT_FAIL_MID_RESPONSE);
    assert_true(strlen(fg_client_last_error(f->c)) > 0);
    fg_client_response_release(&res);
}

static void test_timeout(void **state)
{
    struct fixture *f = *state;
    struct fg_client *c = client_for(f->m->port, 300);
    struct fg_client_response res;
    mock_set_mode(f->m, MOCK_SILENT);
    assert_int_equal(fg_client_get(c, "/slow", &res), FG_ERR_IO);
    assert_int_equal(fg_client_last_failure(c), FG_CLIENT_FAIL_TIMEOUT);
    fg_client_response_release(&res);
    fg_client_free(c);
}

static void test_connection_refused(void **state)
{
    (void)state;
    int port;
    int fd = listen_loopback(&port); /* bound, never listening: connect is refused */
    struct fg_client *c = client_for(port, 2000);
    struct fg_client_response res;
    assert_int_equal(fg_client_get(c, "/v1/health", &res), FG_ERR_IO);
    assert_int_equal(res.status, 0);
    assert_int_equal(fg_client_last_failure(c), FG_CLIENT_FAIL_CONNECT);
    assert_true(strlen(fg_client_last_error(c)) > 0);
    assert_string_equal(fg_client_failure_name(fg_client_last_failure(c)), "connect");
    assert_int_equal(fg_client_last_send_start_us(c), 0);
    fg_client_response_release(&res);
    fg_client_free(c);
    close(fd);
}

static void test_keep_alive(void **state)
{
    struct fixture *f = *state;
    struct fg_client_response res;
    mock_respond(f->m, 200, NULL, "{}");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(fg_client_get(f->c, "/v1/health", &res), FG_OK);
        fg_client_response_release(&res);
    }
    assert_int_equal(fg_client_connections_opened(f->c), 1);
    pthread_mutex_lock(&f->m->mu);
    assert_int_equal(f->m->connections, 1);
    pthread_mutex_unlock(&f->m->mu);
}

static void test_fresh_connection_and_send_time(void **state)
{
    struct fixture *f = *state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f->m->port);
    struct fg_client_options opt = {.base_url = url, .fresh_connection = 1};
    struct fg_client *c = NULL;
    assert_int_equal(fg_client_new(&opt, &c), FG_OK);
    struct fg_client_response res;
    mock_respond(f->m, 200, NULL, "{}");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fg_client_get(c, "/v1/health", &res), FG_OK);
        assert_true(fg_client_last_send_start_us(c) > 0);
        fg_client_response_release(&res);
    }
    assert_int_equal(fg_client_connections_opened(c), 3);
    pthread_mutex_lock(&f->m->mu);
    assert_int_equal(f->m->connections, 3);
    pthread_mutex_unlock(&f->m->mu);
    fg_client_free(c);
}

static void test_new_rejects_bad_options(void **state)
{
    (void)state;
    struct fg_client *c = NULL;
    struct fg_client_options opt = {0};
    assert_int_equal(fg_client_new(&opt, &c), FG_ERR_INVALID);
    assert_null(c);
    opt.base_url = "http://127.0.0.1:1";
    opt.timeout_ms = -1;
    assert_int_equal(fg_client_new(&opt, &c), FG_ERR_INVALID);
    fg_client_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status_body_json_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_json_and_empty_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interim_response_headers_discarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signing_hook, setup, teardown),
        cmocka_unit_test(test_headers_add_validation),
        cmocka_unit_test_setup_teardown(test_session_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_helper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_bodies_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_sent_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_refused_locally, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_response_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_connection_and_send_time, setup, teardown),
        cmocka_unit_test(test_new_rejects_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
