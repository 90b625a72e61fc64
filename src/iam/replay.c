/*
 * replay.c — request signatures and the nonce memory.
 *
 * Nonce memory: time is cut into slices of SLICE_S seconds. A nonce stamped at t is stored
 * in the slice of t (the slice, not "now", decides: a request is accepted only if t is
 * within ±window of now, so every nonce that could still be replayed lives in one of the
 * slices covering [now − window, now + window]). Each slice is an open-addressing set of
 * 64-bit keyed hashes (SipHash, process-random key) with no deletions, which doubles when
 * half full; a slice that falls out of the span is cleared in one go and reused (shrunk back).
 * The capacity bounds the nonces of all live slices together, not each slice: real clients
 * stamp "now", so nearly every nonce lands in the current slice — a per-slice share (the
 * first design) refused everything after 1/22 of the capacity arrived within one 30 s slice,
 * about 1 600 signed requests/s (found by `make bench`, docs/BENCHMARKS.md). A hash
 * collision between two different
 * nonces (2^-64 per pair) would refuse a legitimate request, never accept a replay.
 */
#include "iam/replay.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/encode.h"

#define SLICE_S 30
#define MAX_SLICES 64       /* window ≤ (64 / 2 − 1) × 30 s ≈ 15 min */
#define SLICE_CAP_MIN 1024u /* a slice's table to start with (8 KiB) */

struct slice {
    int64_t id; /* timestamp / SLICE_S, or INT64_MIN when unused */
    size_t count;
    size_t cap;      /* table size, a power of two; count ≤ cap / 2 */
    uint64_t *table; /* 0 = empty (a hash of 0 is stored as 1) */
};

struct fg_replay {
    pthread_mutex_t mu;
    int64_t window_s, process_start_s;
    size_t capacity; /* nonces in all live slices together */
    unsigned nslices;
    struct slice slices[MAX_SLICES];
    uint8_t key[FG_SHORTHASH_KEY_LEN];
};

/* ---- signatures ------------------------------------------------------------------------- */

fg_rc fg_request_signature(const uint8_t *session_key, size_t key_len, const char *method,
                           const char *target, const char *timestamp, const char *nonce,
                           const void *body, size_t body_len, uint8_t out[FG_HASH_LEN])
{
    assert(session_key != NULL && method && target && timestamp && nonce && out);
    uint8_t body_hash[FG_HASH_LEN];
    char hex[2 * FG_HASH_LEN + 1];
    fg_rc rc = fg_hash(FG_HASH_SHA256, body_len ? body : "", body_len, body_hash);
    if (rc == FG_OK)
        rc = fg_hex_encode(body_hash, sizeof body_hash, hex, sizeof hex);
    struct fg_hmac_ctx *h = NULL;
    if (rc == FG_OK)
        rc = fg_hmac_begin(FG_HASH_SHA256, session_key, key_len, &h);
    const char *parts[] = {method, "\n", target, "\n", timestamp, "\n", nonce, "\n", hex};
    for (size_t i = 0; rc == FG_OK && i < sizeof parts / sizeof parts[0]; i++)
        rc = fg_hmac_update(h, parts[i], strlen(parts[i]));
    if (rc == FG_OK) {
        rc = fg_hmac_end(h, out);
        h = NULL;
    }
    if (h != NULL)
        fg_hmac_abort(h);
    return rc;
}

fg_rc fg_request_verify(const uint8_t *session_key, size_t key_len, const char *method,
                        const char *target, const char *timestamp, const char *nonce,
                        const void *body, size_t body_len, const char *signature_b64)
{
    if (signature_b64 == NULL || strlen(signature_b64) > FG_REPLAY_SIGNATURE_TEXT_MAX)
        return FG_ERR_UNAUTHENTICATED;
    uint8_t got[FG_HASH_LEN], want[FG_HASH_LEN];
    size_t got_len = 0;
    if (fg_base64url_decode(signature_b64, strlen(signature_b64), got, sizeof got, &got_len) !=
            FG_OK ||
        got_len != sizeof got)
        return FG_ERR_UNAUTHENTICATED;
    fg_rc rc = fg_request_signature(session_key, key_len, method, target, timestamp, nonce, body,
                                    body_len, want);
    if (rc)
        return rc;
    return fg_ct_equal(got, want, sizeof want) ? FG_OK : FG_ERR_UNAUTHENTICATED;
}

/* ---- the nonce memory ----------------------------------------------------------------- */

fg_rc fg_replay_new(size_t capacity, int64_t window_s, int64_t process_start_s,
                    struct fg_replay **out)
{
    assert(out != NULL);
    if (window_s == 0)
        window_s = FG_REPLAY_WINDOW_S_DEFAULT;
    if (capacity == 0)
        capacity = FG_REPLAY_NONCES_MAX_DEFAULT;
    unsigned nslices = (unsigned)((2 * window_s) / SLICE_S + 2);
    if (window_s < SLICE_S || nslices > MAX_SLICES || capacity < nslices)
        return FG_ERR_INVALID;
    struct fg_replay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return FG_ERR_NOMEM;
    pthread_mutex_init(&r->mu, NULL);
    r->window_s = window_s;
    r->process_start_s = process_start_s;
    r->nslices = nslices;
    r->capacity = capacity;
    fg_rc rc = fg_random(r->key, sizeof r->key);
    for (unsigned i = 0; rc == FG_OK && i < nslices; i++) {
        r->slices[i].id = INT64_MIN;
        r->slices[i].cap = SLICE_CAP_MIN;
        r->slices[i].table = calloc(SLICE_CAP_MIN, sizeof(uint64_t));
        if (r->slices[i].table == NULL)
            rc = FG_ERR_NOMEM;
    }
    if (rc) {
        fg_replay_free(r);
        return rc;
    }
    *out = r;
    return FG_OK;
}

void fg_replay_free(struct fg_replay *r)
{
    if (r == NULL)
        return;
    for (unsigned i = 0; i < r->nslices; i++)
        free(r->slices[i].table);
    pthread_mutex_destroy(&r->mu);
    fg_wipe(r->key, sizeof r->key);
    free(r);
}

fg_rc fg_replay_parse_timestamp(const char *text, int64_t *out)
{
    if (text == NULL)
        return FG_ERR_INVALID;
    size_t n = strlen(text);
    if (n == 0 || n > 19)
        return FG_ERR_INVALID;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return FG_ERR_INVALID;
        if (v > (INT64_MAX - 9) / 10)
            return FG_ERR_INVALID;
        v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return FG_OK;
}

static int nonce_well_formed(const char *nonce)
{
    size_t n = strlen(nonce);
    if (n > FG_REPLAY_NONCE_TEXT_MAX)
        return 0;
    uint8_t raw[FG_REPLAY_NONCE_TEXT_MAX];
    size_t raw_len = 0;
    if (fg_base64url_decode(nonce, n, raw, sizeof raw, &raw_len) != FG_OK)
        return 0;
    return raw_len >= FG_REPLAY_NONCE_BYTES_MIN;
}

/* The slice for slice id `id`, recycling one outside the live span (its table back to the
 * minimum size). Caller holds mu. */
static struct slice *slice_for(struct fg_replay *r, int64_t id)
{
    struct slice *s = &r->slices[(uint64_t)id % r->nslices];
    if (s->id != id) {
        if (s->cap > SLICE_CAP_MIN) {
            uint64_t *small = calloc(SLICE_CAP_MIN, sizeof(uint64_t));
            if (small != NULL) {
                free(s->table);
                s->table = small;
                s->cap = SLICE_CAP_MIN;
            }
        }
        memset(s->table, 0, s->cap * sizeof(uint64_t));
        s->count = 0;
        s->id = id;
    }
    return s;
}

static void table_put(uint64_t *table, size_t cap, uint64_t h)
{
    size_t i = h & (cap - 1);
    while (table[i] != 0)
        i = (i + 1) & (cap - 1);
    table[i] = h;
}

/* Room for one more in s (doubling its table at half load). Caller holds mu. */
static fg_rc slice_reserve(struct slice *s)
{
    if (2 * (s->count + 1) <= s->cap)
        return FG_OK;
    size_t cap = s->cap * 2;
    uint64_t *t = calloc(cap, sizeof(uint64_t));
    if (t == NULL)
        return FG_ERR_BUSY; /* no memory: refuse, never forget */
    for (size_t i = 0; i < s->cap; i++)
        if (s->table[i] != 0)
            table_put(t, cap, s->table[i]);
    free(s->table);
    s->table = t;
    s->cap = cap;
    return FG_OK;
}

/* 1 if h is in s. Caller holds mu. */
static int slice_has(const struct slice *s, uint64_t h)
{
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->table[i] == 0)
            return 0;
        if (s->table[i] == h)
            return 1;
    }
}

fg_rc fg_replay_check(struct fg_replay *r, const char *nonce, int64_t ts, int64_t now,
                      const char **why)
{
    assert(r != NULL && nonce != NULL);
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if (!nonce_well_formed(nonce)) {
        *why = "malformed nonce: at least 16 random bytes, base64url";
        return FG_ERR_UNAUTHENTICATED;
    }
    if (ts < now - r->window_s || ts > now + r->window_s) {
        *why = "stale timestamp";
        return FG_ERR_UNAUTHENTICATED;
    }
    if (ts < r->process_start_s) {
        *why = "timestamp before server start";
        return FG_ERR_UNAUTHENTICATED;
    }
    uint64_t h = fg_shorthash(r->key, nonce, strlen(nonce));
    if (h == 0)
        h = 1;
    int64_t id = ts / SLICE_S;
    pthread_mutex_lock(&r->mu);
    /* a nonce could have been recorded under any timestamp a client chose within the span:
     * look in every live slice */
    int64_t lo = (now - r->window_s) / SLICE_S, hi = (now + r->window_s) / SLICE_S;
    size_t live = 0;
    for (int64_t sid = lo; sid <= hi; sid++) {
        const struct slice *s = &r->slices[(uint64_t)sid % r->nslices];
        if (s->id != sid)
            continue;
        if (slice_has(s, h)) {
            pthread_mutex_unlock(&r->mu);
            *why = "nonce reused";
            return FG_ERR_UNAUTHENTICATED;
        }
        live += s->count;
    }
    struct slice *s = slice_for(r, id);
    if (live >= r->capacity || slice_reserve(s) != FG_OK) {
        pthread_mutex_unlock(&r->mu);
        *why = "nonce memory full";
        return FG_ERR_BUSY;
    }
    table_put(s->table, s->cap, h);
    s->count++;
    pthread_mutex_unlock(&r->mu);
    return FG_OK;
}

size_t fg_replay_size(struct fg_replay *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = 0;
    for (unsigned i = 0; i < r->nslices; i++)
        if (r->slices[i].id != INT64_MIN)
            n += r->slices[i].count;
    pthread_mutex_unlock(&r->mu);
    return n;
}
