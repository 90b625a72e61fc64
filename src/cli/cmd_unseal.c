/*
 * cmd_unseal.c — `finguard unseal`: unseal a running server with shares read from stdin.
 * It asks GET /v1/health first (not initialised → refuse; already unsealed → done without
 * reading stdin), then POSTs one share per request to /v1/sys/unseal and prints the
 * progress the server reports, stopping at "unsealed". The request body is built in
 * locked memory and handed to the client without a copy (the client passes it to curl as
 * POSTFIELDS); the share itself is never printed, only its line number.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "client/client.h"
#include "crypto/crypto.h"

#define CMD "unseal"
#define URL_DEFAULT "https://127.0.0.1:8443"
/* A base URL anyone types is far shorter; the rest of FG_CLIENT_URL_MAX is for the path. */
#define URL_INPUT_MAX 1024u
/* {"share":"<line>"} */
#define BODY_CAP (FG_KEYS_SHARE_INPUT_MAX + 16u)

static const char unseal_help[] =
    "usage: finguard unseal [--url URL] [--ca FILE | --insecure]\n"
    "\n"
    "Unseal a running finguard server: read unseal shares from stdin, one per line (blank\n"
    "lines are ignored; input is hidden on a terminal), and submit each to URL/v1/sys/unseal\n"
    "until the server is unsealed. Prints 'progress P/K (sealed)' after each share and\n"
    "'unsealed' at the end. Shares are never taken from the command line (ps shows it).\n"
    "Several custodians may run this in turn, each with their own share.\n"
    "\n"
    "  --url URL   the server (default " URL_DEFAULT ")\n"
    "  --ca FILE   PEM certificate(s) to trust, e.g. the server's self-signed certificate\n"
    "              DATA_DIR/tls/cert.pem; default: the system trust store\n"
    "  --insecure  do not verify the server's certificate (testing only)\n"
    "\n"
    "Exit status: 0 unsealed, 1 a share was refused (the server's reason is printed), stdin\n"
    "ended while still sealed, or the server could not be reached; 2 usage error.\n";

struct unseal_args {
    char url[FG_CLIENT_URL_MAX];
    const char *ca_file;
    int insecure;
};

static int parse(int argc, char **argv, struct unseal_args *a)
{
    const char *url = URL_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--insecure") == 0) {
            a->insecure = 1;
        } else if (strcmp(o, "--url") == 0 || strcmp(o, "--ca") == 0) {
            if (i + 1 >= argc)
                return fg_cli_usage(CMD, "%s needs a value", o);
            if (strcmp(o, "--url") == 0)
                url = argv[++i];
            else
                a->ca_file = argv[++i];
        } else {
            return fg_cli_usage(CMD, "unknown option '%s'", o);
        }
    }
    if (a->insecure && a->ca_file != NULL)
        return fg_cli_usage(CMD, "--ca and --insecure exclude each other");
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--; /* the client appends "/v1/..." */
    int http = strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
    if (n == 0 || n >= URL_INPUT_MAX || !http)
        return fg_cli_usage(CMD, "--url must be an http:// or https:// URL");
    memcpy(a->url, url, n);
    a->url[n] = '\0';
    return 0;
}

static int transport_failure(struct fg_client *c, const char *url, fg_rc rc)
{
    const char *why = fg_client_last_error(c);
    return fg_cli_fail(CMD, "cannot reach %s: %s", url, why[0] != '\0' ? why : fg_rc_str(rc));
}

/* GET /v1/health: 0 and *sealed, or an exit code after printing why. */
static int health(struct fg_client *c, const char *url, int *sealed)
{
    struct fg_client_response res;
    fg_rc rc = fg_client_get(c, "/v1/health", &res);
    if (rc)
        return transport_failure(c, url, rc);
    int code = FG_CLI_EXIT_OK;
    json_t *init_v = json_object_get(res.json, "initialized");
    json_t *sealed_v = json_object_get(res.json, "sealed");
    if (res.status != 200 || !json_is_boolean(init_v) || !json_is_boolean(sealed_v))
        code = fg_cli_fail(CMD, "%s/v1/health answered HTTP %ld, not a finguard health report",
                           url, res.status);
    else if (!json_is_true(init_v))
        code = fg_cli_fail(CMD, "the instance at %s is not initialised (use 'finguard init' "
                                "or POST /v1/sys/init)",
                           url);
    else
        *sealed = json_is_true(sealed_v);
    fg_client_response_release(&res);
    return code;
}

/* A share is printable ASCII without quotes or backslashes, so it goes into JSON as is. */
static int json_safe(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

/* POST one share. 0 = accepted (progress printed, *sealed updated), else an exit code. */
static int submit(struct fg_client *c, const char *url, char *body, const char *share,
                  unsigned line_no, int *sealed)
{
    if (!json_safe(share))
        return fg_cli_fail(CMD, "line %u of stdin is not a share", line_no);
    int n = snprintf(body, BODY_CAP, "{\"share\":\"%s\"}", share);
    if (n < 0 || (size_t)n >= BODY_CAP)
        return fg_cli_fail(CMD, "line %u of stdin is too long to be a share", line_no);
    struct fg_client_request req = {.method = "POST",
                                    .path = "/v1/sys/unseal",
                                    .body = body,
                                    .body_len = (size_t)n,
                                    .content_type = "application/json"};
    struct fg_client_response res;
    fg_rc rc = fg_client_request(c, &req, &res);
    fg_wipe(body, BODY_CAP);
    if (rc)
        return transport_failure(c, url, rc);
    int code = FG_CLI_EXIT_OK;
    json_t *sealed_v = json_object_get(res.json, "sealed");
    if (res.status == 200 && json_is_boolean(sealed_v)) {
        *sealed = json_is_true(sealed_v);
        if (*sealed)
            printf("progress %lld/%lld (sealed)\n",
                   (long long)json_integer_value(json_object_get(res.json, "progress")),
                   (long long)json_integer_value(json_object_get(res.json, "threshold")));
        else
            printf("unsealed\n");
        fflush(stdout);
    } else if (res.error_message != NULL) {
        code = fg_cli_fail(CMD, "the share on line %u was refused: %s", line_no,
                           res.error_message);
    } else {
        code = fg_cli_fail(CMD, "the server answered HTTP %ld", res.status);
    }
    fg_client_response_release(&res);
    return code;
}

static int run(const struct unseal_args *a, struct fg_client *c)
{
    int sealed = 1;
    int code = health(c, a->url, &sealed);
    if (code)
        return code;
    if (!sealed) {
        printf("unsealed (already)\n");
        return FG_CLI_EXIT_OK;
    }
    struct fg_cli_shares *r = NULL;
    char *body = fg_secure_alloc(BODY_CAP);
    if (body == NULL || fg_cli_shares_open(&r) != FG_OK) {
        fg_secure_free(body);
        return fg_cli_fail(CMD, "cannot allocate locked memory for the shares");
    }
    unsigned count = 0;
    while (code == FG_CLI_EXIT_OK && sealed) {
        const char *line = NULL;
        unsigned line_no = 0;
        char prompt[48];
        snprintf(prompt, sizeof prompt, "share %u (input hidden): ", ++count);
        fg_rc rc = fg_cli_shares_next(r, prompt, &line, &line_no);
        if (rc == FG_ERR_NOT_FOUND)
            code = fg_cli_fail(CMD, "stdin ended while the server is still sealed");
        else if (rc == FG_ERR_TOO_LARGE)
            code = fg_cli_fail(CMD, "line %u of stdin is too long to be a share", line_no);
        else if (rc)
            code = fg_cli_fail(CMD, "cannot read stdin: %s", fg_rc_str(rc));
        else
            code = submit(c, a->url, body, line, line_no, &sealed);
    }
    fg_cli_shares_close(r);
    fg_secure_free(body);
    return code;
}

int fg_cli_cmd_unseal(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (fg_cli_is_help(argv[i])) {
            fputs(unseal_help, stdout);
            return FG_CLI_EXIT_OK;
        }
    static struct unseal_args a; /* 16 KiB of URL: not on the stack */
    int code = parse(argc, argv, &a);
    if (code)
        return code;
    if (fg_crypto_init() != FG_OK)
        return fg_cli_fail(CMD, "the cryptographic library could not start");
    struct fg_client_options opt = {
        .base_url = a.url, .ca_file = a.ca_file, .insecure = a.insecure};
    struct fg_client *c = NULL;
    fg_rc rc = fg_client_new(&opt, &c);
    if (rc)
        return fg_cli_fail(CMD, "cannot start the HTTP client: %s", fg_rc_str(rc));
    code = run(&a, c);
    fg_client_free(c);
    return code;
}
