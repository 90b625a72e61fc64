/*
 * pwhash.c — Argon2id password hashing with libsodium's crypto_pwhash_argon2id_str*.
 *
 * Hashing takes our parameters (passes, memory in bytes; libsodium always uses one lane)
 * and yields the PHC string "$argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt>$<hash>" with a
 * fresh 16-byte salt. Before a stored string reaches libsodium, pwhash_header() reads its
 * fixed prefix strictly and checks the parameters against the FG_PWHASH_* ceilings, so a
 * corrupted or planted string cannot make a login allocate gigabytes; libsodium then
 * decodes the rest. Verification tells a mismatch (FG_ERR_UNAUTHENTICATED) from a string
 * that is not an Argon2id hash (FG_ERR_INVALID) and from running out of memory; the
 * comparison of the hashes inside libsodium is constant-time.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "crypto/internal.h"

/* Argon2's own floor: 8 KiB per lane. */
#define PWHASH_MEM_KIB_MIN 8u
/* A decimal parameter has at most this many digits (4294967295). */
#define PWHASH_DIGITS_MAX 10u

const struct fg_pwhash_params fg_pwhash_default = {
    .ops = 2, .mem_bytes = 19u * 1024u * 1024u, /* OWASP's Argon2id minimum: m=19 MiB, t=2, p=1 */
};

struct pwhash_header {
    uint64_t mem_kib;
    uint64_t ops;
    uint64_t lanes;
};

static int pwhash_literal(const char **s, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *s) < n || memcmp(*s, lit, n) != 0)
        return 0;
    *s += n;
    return 1;
}

/* A decimal without sign or leading zero, in [1, max]. */
static int pwhash_number(const char **s, const char *end, uint64_t max, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    size_t digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < PWHASH_DIGITS_MAX) {
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || (p < end && *p >= '0' && *p <= '9') || (**s == '0') || v == 0 || v > max)
        return 0;
    *s = p;
    *out = v;
    return 1;
}

/* Reads "$argon2id$v=19$m=M,t=T,p=P$" at the start of stored, within the ceilings. */
static fg_rc pwhash_header(const char *stored, struct pwhash_header *h)
{
    size_t n = strnlen(stored, FG_PWHASH_STR_MAX);
    if (n == FG_PWHASH_STR_MAX) /* no NUL where a valid string has one */
        return FG_ERR_INVALID;
    const char *s = stored;
    const char *end = stored + n;
    if (!pwhash_literal(&s, end, "$argon2id$v=19$m=") ||
        !pwhash_number(&s, end, FG_PWHASH_MEM_BYTES_MAX / 1024u, &h->mem_kib) ||
        !pwhash_literal(&s, end, ",t=") || !pwhash_number(&s, end, FG_PWHASH_OPS_MAX, &h->ops) ||
        !pwhash_literal(&s, end, ",p=") ||
        !pwhash_number(&s, end, FG_PWHASH_LANES_MAX, &h->lanes) || !pwhash_literal(&s, end, "$"))
        return FG_ERR_INVALID;
    if (h->mem_kib < PWHASH_MEM_KIB_MIN * h->lanes)
        return FG_ERR_INVALID;
    return FG_OK;
}

static int pwhash_params_valid(const struct fg_pwhash_params *p)
{
    return p->ops >= crypto_pwhash_argon2id_OPSLIMIT_MIN && p->ops <= FG_PWHASH_OPS_MAX &&
           p->mem_bytes >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
           p->mem_bytes <= FG_PWHASH_MEM_BYTES_MAX;
}

fg_rc fg_pwhash(const struct fg_pwhash_params *p, const char *password, size_t len,
                char out[FG_PWHASH_STR_MAX])
{
    assert(p != NULL && password != NULL && out != NULL);
    static_assert(FG_PWHASH_STR_MAX == crypto_pwhash_argon2id_STRBYTES, "string size");
    FG_CRYPTO_REQUIRE_INIT();
    memset(out, 0, FG_PWHASH_STR_MAX);
    if (!pwhash_params_valid(p) || len > FG_CRYPTO_PASSWORD_MAX)
        return FG_ERR_INVALID;
    if (crypto_pwhash_argon2id_str(out, password, len, p->ops, p->mem_bytes) != 0) {
        memset(out, 0, FG_PWHASH_STR_MAX);
        return FG_ERR_NOMEM; /* the only failure left: the memory could not be had */
    }
    assert(strnlen(out, FG_PWHASH_STR_MAX) < FG_PWHASH_STR_MAX);
    return FG_OK;
}

fg_rc fg_pwhash_verify(const char *stored, const char *password, size_t len)
{
    assert(stored != NULL && password != NULL);
    FG_CRYPTO_REQUIRE_INIT();
    struct pwhash_header h;
    if (len > FG_CRYPTO_PASSWORD_MAX || pwhash_header(stored, &h) != FG_OK)
        return FG_ERR_INVALID;
    /* needs_rehash decodes the whole string without hashing: -1 means malformed. */
    errno = 0;
    if (crypto_pwhash_argon2id_str_needs_rehash(stored, h.ops, (size_t)h.mem_kib * 1024u) < 0)
        return errno == ENOMEM ? FG_ERR_NOMEM : FG_ERR_INVALID;
    errno = 0;
    if (crypto_pwhash_argon2id_str_verify(stored, password, len) == 0)
        return FG_OK;
    /* libsodium sets EINVAL for a mismatch; anything else is a failure to compute. */
    if (errno == ENOMEM)
        return FG_ERR_NOMEM;
    return FG_ERR_UNAUTHENTICATED;
}

int fg_pwhash_needs_rehash(const struct fg_pwhash_params *p, const char *stored)
{
    assert(p != NULL && stored != NULL);
    assert(pwhash_params_valid(p));
    struct pwhash_header h;
    if (pwhash_header(stored, &h) != FG_OK || h.lanes != 1)
        return 1;
    return crypto_pwhash_argon2id_str_needs_rehash(stored, p->ops, p->mem_bytes) != 0;
}
