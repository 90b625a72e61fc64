/*
 * session.c — an open-addressing table of sessions keyed by the first 8 bytes of
 * SHA-256(token) (uniform: tokens are random), with tombstones rebuilt away when they pile
 * up. Signing keys live in a parallel array in locked memory (fg_secure_alloc), wiped
 * when a session ends. Expired sessions are reclaimed lazily: by a lookup that meets them
 * and by an insert that finds the table full.
 */
#include "iam/session.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/encode.h"
#include "crypto/crypto.h"

enum slot_state { SLOT_EMPTY = 0, SLOT_LIVE, SLOT_DEAD };

struct slot {
    enum slot_state state;
    uint64_t h;
    struct fg_session s;
};

struct fg_sessions {
    pthread_mutex_t mu;
    size_t cap, max, live, dead;
    int64_t idle_ms, absolute_ms;
    struct slot *slots;
    uint8_t *keys; /* cap × FG_SESSION_KEY_BYTES, locked */
};

static uint64_t hash_of_id(const char *id_hex)
{
    uint8_t raw[8];
    size_t n = 0;
    if (fg_hex_decode(id_hex, 16, raw, sizeof raw, &n) != FG_OK || n != 8)
        return 1;
    uint64_t h;
    memcpy(&h, raw, sizeof h);
    return h;
}

fg_rc fg_sessions_new(size_t max, int64_t idle_ms, int64_t absolute_ms, struct fg_sessions **out)
{
    assert(out != NULL);
    if (max == 0)
        max = FG_SESSIONS_MAX_DEFAULT;
    struct fg_sessions *t = calloc(1, sizeof *t);
    if (t == NULL)
        return FG_ERR_NOMEM;
    t->max = max;
    t->cap = 16;
    while (t->cap < 2 * max)
        t->cap *= 2;
    t->idle_ms = idle_ms ? idle_ms : FG_SESSION_IDLE_MS_DEFAULT;
    t->absolute_ms = absolute_ms ? absolute_ms : FG_SESSION_ABSOLUTE_MS_DEFAULT;
    t->slots = calloc(t->cap, sizeof *t->slots);
    t->keys = fg_secure_alloc(t->cap * FG_SESSION_KEY_BYTES);
    if (t->slots == NULL || t->keys == NULL) {
        free(t->slots);
        fg_secure_free(t->keys);
        free(t);
        return FG_ERR_NOMEM;
    }
    pthread_mutex_init(&t->mu, NULL);
    *out = t;
    return FG_OK;
}

void fg_sessions_free(struct fg_sessions *t)
{
    if (t == NULL)
        return;
    fg_secure_free(t->keys);
    fg_wipe(t->slots, t->cap * sizeof *t->slots);
    free(t->slots);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

fg_rc fg_session_mint(char token_out[FG_SESSION_TOKEN_TEXT], char id_out[FG_SESSION_ID_TEXT],
                      uint8_t *key_out)
{
    uint8_t raw[FG_SESSION_TOKEN_BYTES];
    fg_rc rc = fg_random(raw, sizeof raw);
    if (rc == FG_OK)
        rc = fg_base64url_encode(raw, sizeof raw, token_out, FG_SESSION_TOKEN_TEXT);
    fg_wipe(raw, sizeof raw);
    if (rc == FG_OK)
        rc = fg_session_id_of(token_out, id_out);
    if (rc == FG_OK)
        rc = fg_random(key_out, FG_SESSION_KEY_BYTES);
    return rc;
}

fg_rc fg_session_id_of(const char *token, char id_out[FG_SESSION_ID_TEXT])
{
    if (token == NULL || strlen(token) != FG_SESSION_TOKEN_TEXT - 1)
        return FG_ERR_UNAUTHENTICATED;
    uint8_t raw[FG_SESSION_TOKEN_BYTES];
    size_t n = 0;
    if (fg_base64url_decode(token, FG_SESSION_TOKEN_TEXT - 1, raw, sizeof raw, &n) != FG_OK ||
        n != sizeof raw)
        return FG_ERR_UNAUTHENTICATED;
    uint8_t digest[FG_HASH_LEN];
    fg_rc rc = fg_hash(FG_HASH_SHA256, raw, sizeof raw, digest);
    fg_wipe(raw, sizeof raw);
    if (rc == FG_OK)
        rc = fg_hex_encode(digest, sizeof digest, id_out, FG_SESSION_ID_TEXT);
    return rc;
}

/* ---- table internals (caller holds mu) ------------------------------------------------- */

static int alive(const struct fg_sessions *t, const struct fg_session *s, int64_t now)
{
    return now < s->expires_ms && now - s->last_seen_ms < t->idle_ms &&
           (s->access_ends_ms == 0 || now < s->access_ends_ms);
}

static void kill_slot(struct fg_sessions *t, size_t i)
{
    t->slots[i].state = SLOT_DEAD;
    fg_wipe(&t->slots[i].s, sizeof t->slots[i].s);
    fg_wipe(t->keys + i * FG_SESSION_KEY_BYTES, FG_SESSION_KEY_BYTES);
    t->live--;
    t->dead++;
}

static size_t find(const struct fg_sessions *t, const char *id)
{
    uint64_t h = hash_of_id(id);
    for (size_t i = h & (t->cap - 1), n = 0; n < t->cap; i = (i + 1) & (t->cap - 1), n++) {
        if (t->slots[i].state == SLOT_EMPTY)
            return SIZE_MAX;
        if (t->slots[i].state == SLOT_LIVE && t->slots[i].h == h &&
            strcmp(t->slots[i].s.id, id) == 0)
            return i;
    }
    return SIZE_MAX;
}

static void reap_expired(struct fg_sessions *t, int64_t now)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].state == SLOT_LIVE && !alive(t, &t->slots[i].s, now))
            kill_slot(t, i);
}

/* Rehash the live entries into a clean table (drops tombstones). O(cap). If the scratch
 * memory cannot be had, the table keeps its tombstones: still correct, just longer probes. */
static void rebuild(struct fg_sessions *t)
{
    struct slot *old = malloc(t->cap * sizeof *old);
    uint8_t *old_keys = fg_secure_alloc(t->cap * FG_SESSION_KEY_BYTES);
    if (old == NULL || old_keys == NULL) {
        free(old);
        fg_secure_free(old_keys);
        return;
    }
    memcpy(old, t->slots, t->cap * sizeof *old);
    memcpy(old_keys, t->keys, t->cap * FG_SESSION_KEY_BYTES);
    fg_wipe(t->slots, t->cap * sizeof *t->slots);
    fg_wipe(t->keys, t->cap * FG_SESSION_KEY_BYTES);
    for (size_t i = 0; i < t->cap; i++) {
        if (old[i].state != SLOT_LIVE)
            continue;
        size_t j = old[i].h & (t->cap - 1);
        while (t->slots[j].state == SLOT_LIVE)
            j = (j + 1) & (t->cap - 1);
        t->slots[j] = old[i];
        memcpy(t->keys + j * FG_SESSION_KEY_BYTES, old_keys + i * FG_SESSION_KEY_BYTES,
               FG_SESSION_KEY_BYTES);
    }
    t->dead = 0;
    fg_wipe(old, t->cap * sizeof *old);
    free(old);
    fg_secure_free(old_keys);
}

/* ---- operations ------------------------------------------------------------------------ */

fg_rc fg_sessions_add(struct fg_sessions *t, struct fg_session *s,
                      const uint8_t key[FG_SESSION_KEY_BYTES], int64_t now_ms)
{
    assert(t != NULL && s != NULL && key != NULL);
    s->created_ms = now_ms;
    s->last_seen_ms = now_ms;
    s->expires_ms = now_ms + t->absolute_ms;
    pthread_mutex_lock(&t->mu);
    if (t->live >= t->max)
        reap_expired(t, now_ms);
    if (t->live >= t->max) {
        pthread_mutex_unlock(&t->mu);
        return FG_ERR_BUSY;
    }
    if (t->dead > t->cap / 4)
        rebuild(t);
    uint64_t h = hash_of_id(s->id);
    size_t i = h & (t->cap - 1);
    while (t->slots[i].state == SLOT_LIVE)
        i = (i + 1) & (t->cap - 1);
    if (t->slots[i].state == SLOT_DEAD)
        t->dead--;
    t->slots[i].state = SLOT_LIVE;
    t->slots[i].h = h;
    t->slots[i].s = *s;
    memcpy(t->keys + i * FG_SESSION_KEY_BYTES, key, FG_SESSION_KEY_BYTES);
    t->live++;
    pthread_mutex_unlock(&t->mu);
    return FG_OK;
}

fg_rc fg_sessions_lookup(struct fg_sessions *t, const char *token, const char *device_id,
                         int64_t now_ms, struct fg_session *out, uint8_t *key_out,
                         int *device_mismatch, const char **why)
{
    assert(t != NULL && out != NULL);
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if (device_mismatch)
        *device_mismatch = 0;
    char id[FG_SESSION_ID_TEXT];
    if (fg_session_id_of(token, id) != FG_OK) {
        *why = "malformed token";
        return FG_ERR_UNAUTHENTICATED;
    }
    pthread_mutex_lock(&t->mu);
    size_t i = find(t, id);
    if (i == SIZE_MAX) {
        pthread_mutex_unlock(&t->mu);
        *why = "no such session";
        return FG_ERR_UNAUTHENTICATED;
    }
    struct fg_session *s = &t->slots[i].s;
    if (!alive(t, s, now_ms)) {
        kill_slot(t, i);
        pthread_mutex_unlock(&t->mu);
        *why = "session expired";
        return FG_ERR_UNAUTHENTICATED;
    }
    if (device_id == NULL || strcmp(device_id, s->device_id) != 0) {
        memset(out, 0, sizeof *out); /* only whose token it is: the event's subject */
        memcpy(out->user_id, s->user_id, sizeof out->user_id);
        pthread_mutex_unlock(&t->mu);
        if (device_mismatch)
            *device_mismatch = 1;
        *why = "token presented from another device";
        return FG_ERR_UNAUTHENTICATED;
    }
    s->last_seen_ms = now_ms;
    *out = *s;
    if (key_out != NULL)
        memcpy(key_out, t->keys + i * FG_SESSION_KEY_BYTES, FG_SESSION_KEY_BYTES);
    pthread_mutex_unlock(&t->mu);
    return FG_OK;
}

static void update(struct fg_sessions *t, const char *id, int mfa, int password)
{
    pthread_mutex_lock(&t->mu);
    size_t i = find(t, id);
    if (i != SIZE_MAX) {
        if (mfa)
            t->slots[i].s.mfa_done = 1;
        if (password)
            t->slots[i].s.must_change_password = 0;
    }
    pthread_mutex_unlock(&t->mu);
}

void fg_sessions_set_mfa_done(struct fg_sessions *t, const char *id)
{
    update(t, id, 1, 0);
}

void fg_sessions_set_password_changed(struct fg_sessions *t, const char *id)
{
    update(t, id, 0, 1);
}

size_t fg_sessions_end(struct fg_sessions *t, const char *id)
{
    pthread_mutex_lock(&t->mu);
    size_t i = find(t, id), n = 0;
    if (i != SIZE_MAX) {
        kill_slot(t, i);
        n = 1;
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

size_t fg_sessions_end_user(struct fg_sessions *t, const char *user_id, const char *except_id)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->cap; i++) {
        struct slot *sl = &t->slots[i];
        if (sl->state == SLOT_LIVE && strcmp(sl->s.user_id, user_id) == 0 &&
            (except_id == NULL || strcmp(sl->s.id, except_id) != 0)) {
            kill_slot(t, i);
            n++;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

size_t fg_sessions_count(struct fg_sessions *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->live;
    pthread_mutex_unlock(&t->mu);
    return n;
}

int64_t fg_sessions_absolute_ms(const struct fg_sessions *t)
{
    return t->absolute_ms;
}

size_t fg_sessions_end_all(struct fg_sessions *t)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].state == SLOT_LIVE) {
            kill_slot(t, i);
            n++;
        }
    pthread_mutex_unlock(&t->mu);
    return n;
}
