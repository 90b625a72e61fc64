/*
 * test_metrics.c — end to end: GET /metrics (Prometheus text format) after known traffic.
 *
 * The test makes requests whose route, method and status it knows, scrapes /metrics and
 * checks: the request counters carry those labels with at least those counts (route
 * labels are route *patterns* — "/v1/diag/write/{id}", never a raw id, so the label set
 * stays bounded); the latency histogram, the writer's batch-size and commit-duration
 * histograms have samples and consistent buckets; resident memory is reported; a second
 * scrape after exactly five more health requests shows the counter up by exactly five.
 *
 * The parser here is small but real: it reads `name{k="v",...} value` lines, honouring
 * quotes and escapes in label values (patterns contain braces).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define LABELS_MAX 16

struct sample {
    char name[128];
    int nlabels;
    char key[LABELS_MAX][64];
    char val[LABELS_MAX][256];
    double value;
};

/* Parse one sample line; 1 on success, 0 if malformed. */
static int parse_sample(const char *line, size_t len, struct sample *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0, n = 0;
    while (i < len && line[i] != '{' && line[i] != ' ') {
        if (n + 1 >= sizeof out->name)
            return 0;
        out->name[n++] = line[i++];
    }
    if (n == 0)
        return 0;
    if (i < len && line[i] == '{') {
        i++;
        while (i < len && line[i] != '}') {
            if (out->nlabels == LABELS_MAX)
                return 0;
            size_t k = 0;
            while (i < len && line[i] != '=' && k + 1 < sizeof out->key[0])
                out->key[out->nlabels][k++] = line[i++];
            if (i + 1 >= len || line[i] != '=' || line[i + 1] != '"')
                return 0;
            i += 2;
            size_t v = 0;
            while (i < len && line[i] != '"') {
                if (line[i] == '\\' && i + 1 < len)
                    i++;
                if (v + 1 >= sizeof out->val[0])
                    return 0;
                out->val[out->nlabels][v++] = line[i++];
            }
            if (i >= len)
                return 0;
            i++; /* closing quote */
            out->nlabels++;
            if (i < len && line[i] == ',')
                i++;
        }
        if (i >= len)
            return 0;
        i++; /* '}' */
    }
    if (i >= len || line[i] != ' ')
        return 0;
    char num[64];
    size_t nl = len - i - 1;
    if (nl == 0 || nl >= sizeof num)
        return 0;
    memcpy(num, line + i + 1, nl);
    num[nl] = '\0';
    char *end;
    out->value = strtod(num, &end);
    return end != num && (*end == '\0' || *end == ' '); /* an optional timestamp may follow */
}

static const char *label(const struct sample *s, const char *key)
{
    for (int i = 0; i < s->nlabels; i++)
        if (strcmp(s->key[i], key) == 0)
            return s->val[i];
    return NULL;
}

/* Sum of samples called `name` whose labels include every "key=value" in want (NULL-
 * terminated). *matches counts them. Malformed lines fail the test. */
static double metric_sum(const char *text, const char *name, const char *const *want, int *matches)
{
    double sum = 0;
    *matches = 0;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > 0 && line[0] != '#') {
            struct sample s;
            if (!parse_sample(line, len, &s))
                fail_msg("malformed metrics line: %.*s", (int)len, line);
            int ok = strcmp(s.name, name) == 0;
            for (const char *const *w = want; ok && w && *w; w++) {
                const char *eq = strchr(*w, '=');
                char key[64];
                snprintf(key, sizeof key, "%.*s", (int)(eq - *w), *w);
                const char *v = label(&s, key);
                ok = v && strcmp(v, eq + 1) == 0;
            }
            if (ok) {
                sum += s.value;
                (*matches)++;
            }
        }
        line = eol ? eol + 1 : line + len;
    }
    return sum;
}

static double need(const char *text, const char *name, const char *const *want)
{
    int matches;
    double v = metric_sum(text, name, want, &matches);
    if (matches == 0) {
        fprintf(stderr, "no sample %s", name);
        for (const char *const *w = want; w && *w; w++)
            fprintf(stderr, " %s", *w);
        fprintf(stderr, "\n");
        fail_msg("metric missing: %s", name);
    }
    return v;
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static char *scrape(struct fg_client *c)
{
    struct fg_client_response res;
    assert_int_equal(fg_client_get(c, "/metrics", &res), FG_OK);
    assert_int_equal(res.status, 200);
    assert_true(strncmp(res.content_type, "text/plain", 10) == 0);
    assert_true(strlen(res.request_id) > 0);
    assert_non_null(strstr(res.cache_control, "no-store"));
    char *text = strdup(res.body);
    assert_non_null(text);
    fg_client_response_release(&res);
    return text;
}

static void simple(struct fg_client *c, const char *method, const char *path, const char *body,
                   long want_status)
{
    struct fg_client_request req = {.method = method,
                                    .path = path,
                                    .body = body,
                                    .body_len = body ? strlen(body) : 0,
                                    .content_type = body ? "application/json" : NULL};
    struct fg_client_response res;
    assert_int_equal(fg_client_request(c, &req, &res), FG_OK);
    assert_int_equal(res.status, want_status);
    fg_client_response_release(&res);
}

/* Buckets of one histogram series are cumulative and end with +Inf == _count. */
static void check_histogram(const char *text, const char *base, const char *const *want)
{
    char name[160];
    snprintf(name, sizeof name, "%s_count", base);
    double count = need(text, name, want);
    snprintf(name, sizeof name, "%s_sum", base);
    (void)need(text, name, want);
    snprintf(name, sizeof name, "%s_bucket", base);
    double prev = -1, inf = -1;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        struct sample s;
        if (len > 0 && line[0] != '#' && parse_sample(line, len, &s) && strcmp(s.name, name) == 0) {
            int ok = 1;
            for (const char *const *w = want; ok && w && *w; w++) {
                const char *eq = strchr(*w, '=');
                char key[64];
                snprintf(key, sizeof key, "%.*s", (int)(eq - *w), *w);
                const char *v = label(&s, key);
                ok = v && strcmp(v, eq + 1) == 0;
            }
            if (ok) {
                assert_non_null(label(&s, "le"));
                assert_true(s.value >= prev); /* cumulative */
                prev = s.value;
                if (strcmp(label(&s, "le"), "+Inf") == 0)
                    inf = s.value;
            }
        }
        line = eol ? eol + 1 : line + len;
    }
    assert_true(inf >= 0);
    assert_true(inf == count);
}

static void test_metrics_after_traffic(void **state)
{
    (void)state;
    struct fg_test_server s;
    const char *const args[] = {"--set", "diag.write_probe=true", "--set", "keys.dev_mode=true",
                                "--set", "server.metrics=true",   NULL};
    fg_test_server_start(&s, args);
    struct fg_client *c;
    fg_test_server_client(&s, &c);

    for (int i = 0; i < 3; i++)
        simple(c, "GET", "/v1/health", NULL, 200);
    char id[32];
    assert_int_equal(fg_test_probe_write(c, "m1", id, sizeof id, NULL), 201);
    assert_int_equal(fg_test_probe_write(c, "m2", id, sizeof id, NULL), 201);
    simple(c, "POST", "/v1/diag/write", "{\"payload\":42}", 400);
    char path[64];
    snprintf(path, sizeof path, "/v1/diag/write/%s", id);
    simple(c, "GET", path, NULL, 200);
    simple(c, "GET", "/v1/diag/write/abc", NULL, 404);
    simple(c, "GET", "/nope", NULL, 404);
    simple(c, "POST", "/v1/health", "{}", 405);

    char *text = scrape(c);
    const char *req_total = "finguard_http_requests_total";
    assert_true(need(text, req_total, L("route=/v1/health", "method=GET", "status=200")) >= 3);
    assert_true(need(text, req_total, L("route=/v1/diag/write", "method=POST", "status=201")) >= 2);
    assert_true(need(text, req_total, L("route=/v1/diag/write", "method=POST", "status=400")) >= 1);
    assert_true(need(text, req_total, L("route=/v1/diag/write/{id}", "method=GET", "status=200")) >=
                1);
    assert_true(need(text, req_total, L("route=/v1/diag/write/{id}", "method=GET", "status=404")) >=
                1);
    assert_true(need(text, req_total, L("method=GET", "status=404")) >= 2); /* + unmatched /nope */
    assert_true(need(text, req_total, L("method=POST", "status=405")) >= 1);
    /* Bounded label set: no raw id or raw unknown path becomes a route label. */
    assert_null(strstr(text, "route=\"/v1/diag/write/abc\""));
    char raw[96];
    snprintf(raw, sizeof raw, "route=\"/v1/diag/write/%s\"", id);
    assert_null(strstr(text, raw));
    assert_null(strstr(text, "route=\"/nope\""));

    const char *dur = "finguard_http_request_duration_seconds";
    check_histogram(text, dur, L("route=/v1/health"));
    char name[96];
    snprintf(name, sizeof name, "%s_count", dur);
    assert_true(need(text, name, L("route=/v1/health")) >= 3);
    assert_true(need(text, name, L("route=/v1/diag/write")) >= 3);

    check_histogram(text, "finguard_store_batch_size", NULL);
    assert_true(need(text, "finguard_store_batch_size_count", NULL) > 0);
    /* Every batch holds at least one intent; our two writes are in some batch. */
    assert_true(need(text, "finguard_store_batch_size_sum", NULL) >=
                need(text, "finguard_store_batch_size_count", NULL));
    assert_true(need(text, "finguard_store_batch_size_sum", NULL) >= 2);
    check_histogram(text, "finguard_store_commit_duration_seconds", NULL);
    assert_true(need(text, "finguard_store_commit_duration_seconds_count", NULL) > 0);
    assert_true(need(text, "finguard_process_resident_memory_bytes", NULL) > 1024 * 1024);
    for (const char *const *t = L("# TYPE finguard_http_requests_total counter",
                                  "# TYPE finguard_http_request_duration_seconds histogram",
                                  "# TYPE finguard_store_batch_size histogram",
                                  "# TYPE finguard_store_commit_duration_seconds histogram",
                                  "# TYPE finguard_process_resident_memory_bytes gauge");
         *t; t++) {
        if (!strstr(text, *t))
            fail_msg("missing '%s'", *t);
    }

    /* Exactly five more health requests: the counter moves by exactly five. */
    double before = need(text, req_total, L("route=/v1/health", "method=GET", "status=200"));
    free(text);
    for (int i = 0; i < 5; i++)
        simple(c, "GET", "/v1/health", NULL, 200);
    text = scrape(c);
    double now = need(text, req_total, L("route=/v1/health", "method=GET", "status=200"));
    assert_true(now == before + 5);
    free(text);

    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_metrics_after_traffic, fg_test_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
