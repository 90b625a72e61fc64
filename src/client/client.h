/*
 * client.h — finguard's own small HTTP client (over libcurl), used by the end-to-end
 * tests, the benchmarks, the drill runner and the CLI.
 *
 *   struct fg_client *c;
 *   struct fg_client_options opt = {.base_url = "https://127.0.0.1:8443",
 *                                   .ca_file = "var/tls/cert.pem", .http2 = 1};
 *   if (fg_client_new(&opt, &c)) ...
 *   struct fg_client_response res;
 *   fg_rc rc = fg_client_get(c, "/v1/health", &res);
 *   if (rc == FG_OK && res.status == 200 && res.json) ...
 *   fg_client_response_release(&res);
 *   fg_client_free(c);
 *
 * What a request is: a method, a request target (path and query, appended verbatim to
 * the base URL — never normalised, so "/a/../b" and "//" reach the server as written),
 * optional body bytes with an optional Content-Type (NULL sends no Content-Type at all,
 * which is what the malformed-input tests need), and extra raw header lines
 * ("Name: value", sent as given). Before sending, the client adds, in this order: the
 * extra lines, `Authorization: Bearer` + `X-Device-Id` when a session is set, and
 * whatever the signing hook adds (API.md "Anti-replay": X-Nonce, X-Timestamp,
 * X-Signature). The hook sees exactly the method, target and body that go on the wire.
 *
 * What a response is: status, HTTP version, the body (bounded by FG_CLIENT_RESPONSE_MAX;
 * more is refused with FG_ERR_TOO_LARGE), the body parsed as JSON when it is JSON, the
 * API error shape picked out of it (error.code/.message/.field, API.md "Errors"), and a
 * few headers copied out. A request that got any HTTP response — 4xx and 5xx included —
 * returns FG_OK; the status tells the rest.
 *
 * Failures: a transport failure (refused, reset, TLS, timeout) is FG_ERR_IO;
 * fg_client_last_error() has curl's message and fg_client_last_failure() says at which
 * stage it happened (the shutdown tests must tell "never reached the server" from "cut
 * off mid-response"). A response over the limit is FG_ERR_TOO_LARGE; a target longer
 * than FG_CLIENT_URL_MAX or more header lines than FG_CLIENT_HEADERS_MAX is
 * FG_ERR_LIMIT; a signing hook's failure is returned as is and nothing is sent.
 *
 * Ownership: fg_client_new() allocates; fg_client_free() frees (NULL is fine). Every
 * string given to the client is copied. A response owns its body, JSON and header copies
 * until fg_client_response_release(); the error_* pointers point into its JSON. The
 * bearer token is a secret: the client keeps it in one buffer, wipes every copy it makes
 * (header lines included) after each request and wipes it on free.
 *
 * Thread safety: none. One client per thread. A client keeps one connection (one curl
 * easy handle) alive between requests, so a thread reuses its TLS session and socket.
 * fg_client_new() may be called from any thread (libcurl's global init runs once).
 */
#ifndef FG_CLIENT_CLIENT_H
#define FG_CLIENT_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/rc.h"

/* Limits of the client (client-side only, so they live here and not in base/limits.h). */
/* The largest legitimate response (an HTML assessment report, an audit page) is well
 * under 1 MiB; 8 MiB bounds what a misbehaving server can make a client buffer. */
#define FG_CLIENT_RESPONSE_MAX (8u * 1024u * 1024u)
/* Extra header lines of one request, and lines one signing hook may add. */
#define FG_CLIENT_HEADERS_MAX 64u
/* One header line we send. Larger than the server's FG_HTTP_HEADER_BYTES_MAX on purpose:
 * the malformed-input tests send oversized headers. */
#define FG_CLIENT_HEADER_LINE_MAX (64u * 1024u)
/* Base URL + request target. Larger than FG_HTTP_PATH_MAX on purpose (tests send long
 * targets to check the server refuses them). */
#define FG_CLIENT_URL_MAX (16u * 1024u)
/* A response header value we copy out (request ids are ≤ 64; the rest are short). */
#define FG_CLIENT_HEADER_VALUE_MAX 256u
/* Default whole-request timeout. */
#define FG_CLIENT_TIMEOUT_MS_DEFAULT 30000L

struct fg_client;

struct fg_client_options {
    const char *base_url; /* "https://127.0.0.1:8443" (no trailing slash); required */
    const char *ca_file;  /* PEM file of certificates to trust; NULL = the system store */
    int insecure;         /* 1 = do not verify the server's certificate (tests only) */
    int http2;            /* 1 = prefer HTTP/2 over TLS (falls back to 1.1); 0 = HTTP/1.1 */
    long timeout_ms;      /* whole request; 0 = FG_CLIENT_TIMEOUT_MS_DEFAULT */
    int fresh_connection; /* 1 = a new connection for every request, closed after it */
    const char *source_address; /* local address to connect from ("127.0.0.2"); NULL = any */
};

/* Header lines a signing hook adds. Add with fg_client_headers_add(); the client owns
 * and frees (and wipes) the lines. */
struct fg_client_headers {
    size_t count;
    char *lines[FG_CLIENT_HEADERS_MAX]; /* "Name: value", NUL-terminated, malloc'd */
};

/* Append "name: value". Refuses CR/LF/NUL in either and ':' in name (FG_ERR_INVALID),
 * more than FG_CLIENT_HEADERS_MAX lines or a line over FG_CLIENT_HEADER_LINE_MAX
 * (FG_ERR_LIMIT). */
FG_MUST_CHECK fg_rc fg_client_headers_add(struct fg_client_headers *h, const char *name,
                                          const char *value);

/* The signing hook: called once per request, just before it is sent, with exactly what
 * goes on the wire (body may be NULL when body_len is 0). Anything but FG_OK aborts the
 * request with that code. */
typedef fg_rc (*fg_client_sign_fn)(void *ctx, const char *method, const char *path,
                                   const void *body, size_t body_len,
                                   struct fg_client_headers *add);

struct fg_client_request {
    const char *method;         /* "GET", "POST", "DELETE", any token; required */
    const char *path;           /* request target: "/v1/x?y=1"; required, starts with '/' */
    const void *body;           /* NULL = no body */
    size_t body_len;            /* bytes of body (may contain NULs) */
    const char *content_type;   /* NULL = send no Content-Type header */
    const char *const *headers; /* NULL-terminated "Name: value" lines sent raw, or NULL */
};

/* At which stage a request failed; see fg_client_last_failure(). */
enum fg_client_failure {
    FG_CLIENT_FAIL_NONE = 0,        /* the last request got a complete response */
    FG_CLIENT_FAIL_CONNECT,         /* never delivered: refused, DNS, TLS handshake/verify */
    FG_CLIENT_FAIL_BEFORE_RESPONSE, /* connection lost after sending, before any response */
    FG_CLIENT_FAIL_MID_RESPONSE,    /* connection lost after the response had started */
    FG_CLIENT_FAIL_TIMEOUT,         /* the request did not finish within timeout_ms */
    FG_CLIENT_FAIL_TOO_LARGE,       /* the response was over FG_CLIENT_RESPONSE_MAX */
    FG_CLIENT_FAIL_LOCAL,           /* refused before sending: limits, hook, memory */
    FG_CLIENT_FAIL_OTHER            /* any other transport error */
};

struct fg_client_response {
    long status;      /* HTTP status; 0 if no response */
    int http_version; /* 10, 11, 20 or 30; 0 unknown */
    const char *body; /* NUL-terminated ("" when empty); body_len excludes the NUL */
    size_t body_len;
    json_t *json; /* the body parsed as JSON (any JSON value), or NULL */
    /* The API error shape, when json is {"error":{...}}; NULL when absent. */
    const char *error_code;
    const char *error_message;
    const char *error_field;
    /* Copies of response headers ("" when absent; longer values are cut). */
    char request_id[FG_CLIENT_HEADER_VALUE_MAX];    /* X-Request-Id */
    char retry_after[FG_CLIENT_HEADER_VALUE_MAX];   /* Retry-After */
    char content_type[FG_CLIENT_HEADER_VALUE_MAX];  /* Content-Type */
    char cache_control[FG_CLIENT_HEADER_VALUE_MAX]; /* Cache-Control */
    char allow[FG_CLIENT_HEADER_VALUE_MAX];         /* Allow */
    /* private: owns body */
    struct fg_buf body_buf_;
};

/* A new client; options are copied. FG_ERR_INVALID for a missing base URL,
 * FG_ERR_NOMEM, FG_ERR_IO if libcurl cannot start. */
FG_MUST_CHECK fg_rc fg_client_new(const struct fg_client_options *opt, struct fg_client **out);
void fg_client_free(struct fg_client *c);

/* Send `Authorization: Bearer <token>` and `X-Device-Id: <device_id>` on every request
 * from now on; NULL token clears both (the old token is wiped). FG_ERR_INVALID for CR/LF. */
FG_MUST_CHECK fg_rc fg_client_set_session(struct fg_client *c, const char *token,
                                          const char *device_id);
/* Install (or with fn NULL remove) the signing hook. ctx is passed through. */
void fg_client_set_signer(struct fg_client *c, fg_client_sign_fn fn, void *ctx);

/* Send one request and wait for the response. On FG_OK, *res must be released; on any
 * other code *res is empty (status 0) and releasing it is harmless. */
FG_MUST_CHECK fg_rc fg_client_request(struct fg_client *c, const struct fg_client_request *req,
                                      struct fg_client_response *res);
/* GET path. */
FG_MUST_CHECK fg_rc fg_client_get(struct fg_client *c, const char *path,
                                  struct fg_client_response *res);
/* method path with body serialised compactly as application/json (NULL body: none). */
FG_MUST_CHECK fg_rc fg_client_send_json(struct fg_client *c, const char *method, const char *path,
                                        const json_t *body, struct fg_client_response *res);
/* POST path with a JSON body. */
FG_MUST_CHECK fg_rc fg_client_post_json(struct fg_client *c, const char *path, const json_t *body,
                                        struct fg_client_response *res);

void fg_client_response_release(struct fg_client_response *res);

/* curl's message for the last failed request ("" after a success). */
const char *fg_client_last_error(const struct fg_client *c);
/* The stage at which the last request failed (FG_CLIENT_FAIL_NONE after a success). */
enum fg_client_failure fg_client_last_failure(const struct fg_client *c);
/* Name of a failure stage ("connect", "mid_response", ...), for test messages. */
const char *fg_client_failure_name(enum fg_client_failure f);
/* Microseconds from the start of the last request until its request bytes began to go
 * out (after connect and TLS); 0 if it never got that far. Tells a request the server
 * may have received from one that never left. */
long fg_client_last_send_start_us(const struct fg_client *c);
/* Connections this client has opened so far (1 after many requests = keep-alive works). */
long fg_client_connections_opened(const struct fg_client *c);

#endif
