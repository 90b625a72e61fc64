/*
 * client.c — the finguard HTTP client over one libcurl easy handle.
 *
 * How it works: a client owns one CURL easy handle for its whole life. Each request
 * starts with curl_easy_reset(), which forgets every option but keeps the live
 * connection, the TLS session cache and the DNS cache, so consecutive requests of a
 * thread reuse one connection while no option of a previous request can leak into the
 * next. The request's header lines are not built with curl_slist_append() (which would
 * make copies we cannot wipe): the client lays out an array of curl_slist nodes pointing
 * at its own strings, so every line that carries the bearer token or a signature is
 * wiped (sodium_memzero) after the transfer. The body is handed to curl as POSTFIELDS
 * with an explicit size (binary-safe); "Expect:" is always suppressed (no 100-continue
 * round trip) and, when the caller gives no content type, so is curl's default
 * form-encoded Content-Type. The response body goes into a bounded fg_buf
 * (FG_CLIENT_RESPONSE_MAX; curl's MAXFILESIZE stops early when Content-Length already
 * says too much), headers are scanned in the header callback (which restarts on every
 * status line, so an interim 1xx never leaves stale values), and the JSON and the API
 * error shape are parsed once the transfer is complete. When a transfer fails, the curl
 * code plus "had the response started?" decide the failure stage reported by
 * fg_client_last_failure().
 */
#include "client/client.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

/* Lines the client itself may add to the caller's: Authorization, X-Device-Id,
 * Content-Type (or its suppression), Expect suppression. */
#define CLIENT_OWN_LINES 4u

struct fg_client {
    CURL *curl;
    char *base_url;
    char *ca_file;
    int insecure;
    int http2;
    int fresh_connection;
    char source_address[64];
    long timeout_ms;
    struct fg_buf token; /* bearer token (secret; wiped), empty = no session */
    char *device_id;
    fg_client_sign_fn sign_fn;
    void *sign_ctx;
    /* Per-transfer state the curl callbacks write into. */
    struct fg_client_response *res;
    fg_rc write_rc;       /* why the write callback refused, if it did */
    int response_started; /* a status line arrived */
    /* Result of the last request. */
    enum fg_client_failure last_failure;
    char errbuf[CURL_ERROR_SIZE];
    long connections;
    long send_start_us;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

static void wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

/* ---- header lines a hook adds ----------------------------------------------------- */

fg_rc fg_client_headers_add(struct fg_client_headers *h, const char *name, const char *value)
{
    assert(h != NULL && name != NULL && value != NULL);
    assert(h->count <= FG_CLIENT_HEADERS_MAX);
    if (*name == '\0' || strpbrk(name, ":\r\n") || has_crlf(value))
        return FG_ERR_INVALID;
    if (h->count == FG_CLIENT_HEADERS_MAX)
        return FG_ERR_LIMIT;
    struct fg_buf line = FG_BUF_INIT(FG_CLIENT_HEADER_LINE_MAX);
    fg_rc rc = fg_buf_appendf(&line, "%s: %s", name, value);
    if (rc) {
        fg_buf_wipe_release(&line);
        return rc == FG_ERR_TOO_LARGE ? FG_ERR_LIMIT : rc;
    }
    char *copy = strdup(fg_buf_str(&line));
    fg_buf_wipe_release(&line);
    if (!copy)
        return FG_ERR_NOMEM;
    h->lines[h->count++] = copy;
    return FG_OK;
}

static void headers_wipe_release(struct fg_client_headers *h)
{
    assert(h->count <= FG_CLIENT_HEADERS_MAX);
    for (size_t i = 0; i < h->count; i++) {
        wipe_free(h->lines[i]);
        h->lines[i] = NULL;
    }
    h->count = 0;
}

/* ---- life cycle ------------------------------------------------------------------- */

fg_rc fg_client_new(const struct fg_client_options *opt, struct fg_client **out)
{
    assert(opt != NULL && out != NULL);
    *out = NULL;
    if (opt->base_url == NULL || *opt->base_url == '\0' || opt->timeout_ms < 0)
        return FG_ERR_INVALID;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return FG_ERR_IO;
    struct fg_client *c = calloc(1, sizeof *c);
    if (!c)
        return FG_ERR_NOMEM;
    fg_buf_init(&c->token, FG_CLIENT_HEADER_LINE_MAX);
    c->base_url = strdup(opt->base_url);
    c->ca_file = dup_or_null(opt->ca_file);
    c->curl = curl_easy_init();
    if (!c->base_url || (opt->ca_file && !c->ca_file) || !c->curl) {
        fg_rc rc = c->curl ? FG_ERR_NOMEM : FG_ERR_IO;
        fg_client_free(c);
        return rc;
    }
    size_t n = strlen(c->base_url);
    while (n > 0 && c->base_url[n - 1] == '/')
        c->base_url[--n] = '\0';
    c->insecure = opt->insecure;
    c->http2 = opt->http2;
    c->fresh_connection = opt->fresh_connection;
    if (opt->source_address != NULL)
        snprintf(c->source_address, sizeof c->source_address, "%s", opt->source_address);
    c->timeout_ms = opt->timeout_ms ? opt->timeout_ms : FG_CLIENT_TIMEOUT_MS_DEFAULT;
    *out = c;
    return FG_OK;
}

void fg_client_free(struct fg_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    fg_buf_wipe_release(&c->token);
    free(c->base_url);
    free(c->ca_file);
    free(c->device_id);
    free(c);
}

fg_rc fg_client_set_session(struct fg_client *c, const char *token, const char *device_id)
{
    assert(c != NULL);
    fg_buf_wipe_release(&c->token);
    free(c->device_id);
    c->device_id = NULL;
    if (token == NULL)
        return FG_OK;
    if (has_crlf(token) || has_crlf(device_id))
        return FG_ERR_INVALID;
    fg_rc rc = fg_buf_append_str(&c->token, token);
    if (rc)
        return rc == FG_ERR_TOO_LARGE ? FG_ERR_LIMIT : rc;
    if (device_id && !(c->device_id = strdup(device_id))) {
        fg_buf_wipe_release(&c->token);
        return FG_ERR_NOMEM;
    }
    return FG_OK;
}

void fg_client_set_signer(struct fg_client *c, fg_client_sign_fn fn, void *ctx)
{
    assert(c != NULL);
    c->sign_fn = fn;
    c->sign_ctx = fn ? ctx : NULL;
}

/* ---- curl callbacks --------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct fg_client *c = ud;
    size_t n = size * nmemb;
    assert(c->res != NULL);
    fg_rc rc = fg_buf_append(&c->res->body_buf_, p, n);
    if (rc) {
        c->write_rc = rc;
        return 0; /* CURLE_WRITE_ERROR */
    }
    return n;
}

static void copy_value(char *dst, size_t dst_size, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= dst_size)
        n = dst_size - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static void clear_captured_headers(struct fg_client_response *res)
{
    res->request_id[0] = res->retry_after[0] = res->content_type[0] = '\0';
    res->cache_control[0] = res->allow[0] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct fg_client *c = ud;
    struct fg_client_response *res = c->res;
    size_t n = size * nmemb;
    assert(res != NULL);
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        c->response_started = 1;
        clear_captured_headers(res); /* a new (possibly final after 1xx) response */
        return n;
    }
    static const struct {
        const char *name;
        size_t off;
    } wanted[] = {
        {"x-request-id", offsetof(struct fg_client_response, request_id)},
        {"retry-after", offsetof(struct fg_client_response, retry_after)},
        {"content-type", offsetof(struct fg_client_response, content_type)},
        {"cache-control", offsetof(struct fg_client_response, cache_control)},
        {"allow", offsetof(struct fg_client_response, allow)},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        size_t len = strlen(wanted[i].name);
        if (n > len && p[len] == ':' && strncasecmp(p, wanted[i].name, len) == 0) {
            copy_value((char *)res + wanted[i].off, FG_CLIENT_HEADER_VALUE_MAX, p + len + 1,
                       n - len - 1);
            break;
        }
    }
    return n;
}

/* ---- building a request ----------------------------------------------------------- */

/* Lines of one request: borrowed (caller's raw lines) and owned (wiped after). */
struct req_lines {
    struct fg_client_headers signed_; /* the hook's lines */
    struct fg_buf auth;               /* "Authorization: Bearer ..." */
    struct fg_buf device;             /* "X-Device-Id: ..." */
    struct fg_buf ctype;              /* "Content-Type: ..." or "Content-Type:" */
    struct curl_slist *nodes;
    size_t count;
    size_t cap;
};

static void req_lines_release(struct req_lines *l)
{
    headers_wipe_release(&l->signed_);
    fg_buf_wipe_release(&l->auth);
    fg_buf_release(&l->device);
    fg_buf_release(&l->ctype);
    free(l->nodes);
    l->nodes = NULL;
    l->count = l->cap = 0;
}

static void push_line(struct req_lines *l, const char *line)
{
    assert(l->count < l->cap);
    l->nodes[l->count].data = (char *)line; /* curl never writes through it */
    l->nodes[l->count].next = NULL;
    if (l->count > 0)
        l->nodes[l->count - 1].next = &l->nodes[l->count];
    l->count++;
}

static fg_rc add_session_lines(struct fg_client *c, struct req_lines *l)
{
    if (c->token.len == 0)
        return FG_OK;
    fg_rc rc = fg_buf_append_str(&l->auth, "Authorization: Bearer ");
    if (!rc)
        rc = fg_buf_append(&l->auth, c->token.data, c->token.len);
    if (!rc && c->device_id)
        rc = fg_buf_appendf(&l->device, "X-Device-Id: %s", c->device_id);
    return rc == FG_ERR_TOO_LARGE ? FG_ERR_LIMIT : rc;
}

static fg_rc build_lines(struct fg_client *c, const struct fg_client_request *req,
                         struct req_lines *l)
{
    size_t extra = 0;
    for (const char *const *h = req->headers; h && *h; h++) {
        if (++extra > FG_CLIENT_HEADERS_MAX || strlen(*h) > FG_CLIENT_HEADER_LINE_MAX)
            return FG_ERR_LIMIT;
    }
    fg_rc rc = add_session_lines(c, l);
    if (rc)
        return rc;
    if (c->sign_fn) {
        const void *body = req->body_len ? req->body : NULL;
        rc = c->sign_fn(c->sign_ctx, req->method, req->path, body, req->body_len, &l->signed_);
        if (rc)
            return rc;
    }
    if (req->content_type)
        rc = fg_buf_appendf(&l->ctype, "Content-Type: %s", req->content_type);
    else
        rc = fg_buf_append_str(&l->ctype, "Content-Type:"); /* suppress curl's default */
    if (rc)
        return rc == FG_ERR_TOO_LARGE ? FG_ERR_LIMIT : rc;
    l->cap = extra + l->signed_.count + CLIENT_OWN_LINES;
    l->nodes = calloc(l->cap, sizeof *l->nodes);
    if (!l->nodes)
        return FG_ERR_NOMEM;
    for (const char *const *h = req->headers; h && *h; h++)
        push_line(l, *h);
    if (l->auth.len)
        push_line(l, fg_buf_str(&l->auth));
    if (l->device.len)
        push_line(l, fg_buf_str(&l->device));
    for (size_t i = 0; i < l->signed_.count; i++)
        push_line(l, l->signed_.lines[i]);
    push_line(l, fg_buf_str(&l->ctype));
    push_line(l, "Expect:");
    return FG_OK;
}

static void set_method_and_body(CURL *h, const struct fg_client_request *req)
{
    const char *m = req->method;
    int has_body = req->body != NULL || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
                   strcmp(m, "PATCH") == 0;
    if (has_body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    }
}

static void set_transport(struct fg_client *c, const char *url)
{
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FG_CLIENT_RESPONSE_MAX);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                     c->http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    if (c->source_address[0] != '\0')
        curl_easy_setopt(h, CURLOPT_INTERFACE, c->source_address);
    if (c->fresh_connection) {
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    }
}

/* ---- the transfer ----------------------------------------------------------------- */

static enum fg_client_failure classify(const struct fg_client *c, CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return FG_CLIENT_FAIL_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return FG_CLIENT_FAIL_TIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return FG_CLIENT_FAIL_TOO_LARGE;
    default:
        break;
    }
    if (cc == CURLE_WRITE_ERROR && c->write_rc == FG_ERR_TOO_LARGE)
        return FG_CLIENT_FAIL_TOO_LARGE;
    if (c->response_started)
        return FG_CLIENT_FAIL_MID_RESPONSE;
    if (cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING ||
        cc == CURLE_HTTP2 || cc == CURLE_HTTP2_STREAM || cc == CURLE_PARTIAL_FILE)
        return FG_CLIENT_FAIL_BEFORE_RESPONSE;
    return FG_CLIENT_FAIL_OTHER;
}

static int map_http_version(long v)
{
    switch (v) {
    case CURL_HTTP_VERSION_1_0:
        return 10;
    case CURL_HTTP_VERSION_1_1:
        return 11;
    case CURL_HTTP_VERSION_2_0:
        return 20;
    case CURL_HTTP_VERSION_3:
        return 30;
    default:
        return 0;
    }
}

static void parse_body(struct fg_client_response *res)
{
    res->body = fg_buf_str(&res->body_buf_);
    res->body_len = res->body_buf_.len;
    if (res->body_len == 0)
        return;
    json_error_t jerr;
    res->json = json_loadb(res->body, res->body_len, JSON_DECODE_ANY, &jerr);
    json_t *err = json_is_object(res->json) ? json_object_get(res->json, "error") : NULL;
    if (!json_is_object(err))
        return;
    res->error_code = json_string_value(json_object_get(err, "code"));
    res->error_message = json_string_value(json_object_get(err, "message"));
    res->error_field = json_string_value(json_object_get(err, "field"));
}

static fg_rc perform(struct fg_client *c, struct fg_client_response *res)
{
    c->res = res;
    c->write_rc = FG_OK;
    c->response_started = 0;
    CURLcode cc = curl_easy_perform(c->curl);
    long connects = 0;
    if (curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        c->connections += connects;
    /* A kept-alive connection the server closed while idle (h2o closes HTTP/1 keep-alives
     * after 10 s) fails as the request is written: the server never had the whole request,
     * so sending it again on a new connection is safe — once, only for a SEND failure
     * (never a receive failure: the request may have been processed) on a reused
     * connection, and only when nothing of a response arrived. */
    if (cc == CURLE_SEND_ERROR && connects == 0 && !c->response_started && c->write_rc == FG_OK) {
        curl_easy_setopt(c->curl, CURLOPT_FRESH_CONNECT, 1L);
        cc = curl_easy_perform(c->curl);
        curl_easy_setopt(c->curl, CURLOPT_FRESH_CONNECT, c->fresh_connection ? 1L : 0L);
        if (curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
            c->connections += connects;
    }
    c->res = NULL;
    curl_off_t pretransfer_us = 0;
    if (curl_easy_getinfo(c->curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us) == CURLE_OK)
        c->send_start_us = (long)pretransfer_us;
    if (cc != CURLE_OK) {
        c->last_failure = classify(c, cc);
        if (c->errbuf[0] == '\0')
            snprintf(c->errbuf, sizeof c->errbuf, "%s", curl_easy_strerror(cc));
        if (c->last_failure == FG_CLIENT_FAIL_TOO_LARGE)
            return FG_ERR_TOO_LARGE;
        return c->write_rc == FG_ERR_NOMEM ? FG_ERR_NOMEM : FG_ERR_IO;
    }
    long status = 0, version = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c->curl, CURLINFO_HTTP_VERSION, &version);
    res->status = status;
    res->http_version = map_http_version(version);
    parse_body(res);
    return FG_OK;
}

static void fail_local(struct fg_client *c, fg_rc rc)
{
    c->last_failure = FG_CLIENT_FAIL_LOCAL;
    snprintf(c->errbuf, sizeof c->errbuf, "request refused before sending: %s", fg_rc_str(rc));
}

fg_rc fg_client_request(struct fg_client *c, const struct fg_client_request *req,
                        struct fg_client_response *res)
{
    assert(c != NULL && req != NULL && res != NULL);
    assert(req->method != NULL && *req->method != '\0');
    assert(req->path != NULL && req->path[0] == '/');
    assert(req->body != NULL || req->body_len == 0);
    memset(res, 0, sizeof *res);
    fg_buf_init(&res->body_buf_, FG_CLIENT_RESPONSE_MAX);
    res->body = "";
    c->errbuf[0] = '\0';
    c->last_failure = FG_CLIENT_FAIL_NONE;
    c->send_start_us = 0;

    struct fg_buf url = FG_BUF_INIT(FG_CLIENT_URL_MAX);
    struct req_lines lines = {.auth = FG_BUF_INIT(FG_CLIENT_HEADER_LINE_MAX),
                              .device = FG_BUF_INIT(FG_CLIENT_HEADER_LINE_MAX),
                              .ctype = FG_BUF_INIT(FG_CLIENT_HEADER_LINE_MAX)};
    fg_rc rc = fg_buf_appendf(&url, "%s%s", c->base_url, req->path);
    if (rc == FG_ERR_TOO_LARGE)
        rc = FG_ERR_LIMIT;
    if (!rc)
        rc = build_lines(c, req, &lines);
    if (rc) {
        fail_local(c, rc);
    } else {
        curl_easy_reset(c->curl);
        set_transport(c, fg_buf_str(&url));
        set_method_and_body(c->curl, req);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, lines.nodes);
        rc = perform(c, res);
        /* Nothing of this request may stay referenced by the handle. */
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    }
    req_lines_release(&lines);
    fg_buf_release(&url);
    if (rc)
        fg_client_response_release(res);
    return rc;
}

fg_rc fg_client_get(struct fg_client *c, const char *path, struct fg_client_response *res)
{
    assert(c != NULL && path != NULL);
    struct fg_client_request req = {.method = "GET", .path = path};
    return fg_client_request(c, &req, res);
}

fg_rc fg_client_send_json(struct fg_client *c, const char *method, const char *path,
                          const json_t *body, struct fg_client_response *res)
{
    assert(c != NULL && method != NULL && path != NULL);
    struct fg_client_request req = {.method = method, .path = path};
    char *text = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text) {
            memset(res, 0, sizeof *res);
            res->body = "";
            fail_local(c, FG_ERR_INVALID);
            return FG_ERR_INVALID;
        }
        req.body = text;
        req.body_len = strlen(text);
        req.content_type = "application/json";
    }
    fg_rc rc = fg_client_request(c, &req, res);
    free(text);
    return rc;
}

fg_rc fg_client_post_json(struct fg_client *c, const char *path, const json_t *body,
                          struct fg_client_response *res)
{
    return fg_client_send_json(c, "POST", path, body, res);
}

void fg_client_response_release(struct fg_client_response *res)
{
    if (!res)
        return;
    json_decref(res->json);
    fg_buf_release(&res->body_buf_);
    memset(res, 0, sizeof *res);
    res->body = "";
}

/* ---- accessors -------------------------------------------------------------------- */

const char *fg_client_last_error(const struct fg_client *c)
{
    assert(c != NULL);
    return c->errbuf;
}

enum fg_client_failure fg_client_last_failure(const struct fg_client *c)
{
    assert(c != NULL);
    return c->last_failure;
}

const char *fg_client_failure_name(enum fg_client_failure f)
{
    switch (f) {
    case FG_CLIENT_FAIL_NONE:
        return "none";
    case FG_CLIENT_FAIL_CONNECT:
        return "connect";
    case FG_CLIENT_FAIL_BEFORE_RESPONSE:
        return "before_response";
    case FG_CLIENT_FAIL_MID_RESPONSE:
        return "mid_response";
    case FG_CLIENT_FAIL_TIMEOUT:
        return "timeout";
    case FG_CLIENT_FAIL_TOO_LARGE:
        return "too_large";
    case FG_CLIENT_FAIL_LOCAL:
        return "local";
    case FG_CLIENT_FAIL_OTHER:
        return "other";
    }
    return "unknown";
}

long fg_client_last_send_start_us(const struct fg_client *c)
{
    assert(c != NULL);
    return c->send_start_us;
}

long fg_client_connections_opened(const struct fg_client *c)
{
    assert(c != NULL);
    return c->connections;
}
