/* Fuzz target: the anti-replay header parsers (timestamp, nonce, signature). Input: three
 * NUL-separated fields: timestamp, nonce, signature. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iam/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fg_replay *r;
    if (r == NULL && (fg_crypto_init() != FG_OK || fg_replay_new(4096, 300, 0, &r) != FG_OK))
        abort();
    char buf[512];
    size_t n = size < sizeof buf - 1 ? size : sizeof buf - 1;
    memcpy(buf, data, n);
    buf[n] = '\0';
    const char *ts_text = buf;
    const char *nonce = buf + strlen(buf);
    if (nonce < buf + n)
        nonce++;
    const char *sig = nonce + strlen(nonce);
    if (sig < buf + n)
        sig++;
    int64_t ts = 0;
    if (fg_replay_parse_timestamp(ts_text, &ts) == FG_OK && ts < 0)
        abort();
    const char *why = NULL;
    fg_rc rc = fg_replay_check(r, nonce, 1000000, 1000000, &why);
    if (rc == FG_ERR_UNAUTHENTICATED && why == NULL)
        abort();
    static const uint8_t key[32] = {1};
    rc = fg_request_verify(key, sizeof key, "POST", "/v1/x", ts_text, nonce, buf, n, sig);
    if (rc != FG_OK && rc != FG_ERR_UNAUTHENTICATED)
        abort();
    return 0;
}
