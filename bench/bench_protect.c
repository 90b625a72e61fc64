/*
 * bench_protect.c — what field encryption costs on top of the AEAD it wraps, per 64-byte field.
 *
 * One thread, both suites, each through the real entry points: fg_protect_seal / _open (purpose
 * pii; an instance initialised with fg_keys_init in its own store under DIR, one per suite) and
 * fg_protect_index (intl). Beside them, in the same run, the raw baselines over the same 64-byte
 * plaintext and an AAD of the same length protect builds (header ‖ table ‖ column ‖ row id):
 *   - intl: fg_aead_seal / _open (the crypto façade: AES-256-GCM, a fresh EVP context and key
 *     schedule per call) and OpenSSL EVP AES-256-GCM directly, with one context per direction
 *     whose key schedule is set once and only the IV changes per message (what
 *     `openssl speed -evp` measures: the best EVP can do). This file includes OpenSSL for that
 *     baseline only; crypto.h's rule (only src/crypto/ includes it) is about product code.
 *   - gm: fg_aead_seal / _open with FG_SUITE_GM. There is no single EVP call for it: the suite is
 *     SM4-CTR + HMAC-SM3 encrypt-then-MAC with HKDF-SM3 subkeys (crypto/aead.c), so the façade
 *     primitive is its raw baseline.
 * Diagnostics on stderr only (where the time goes): fg_random of a nonce, fg_keys_use with a
 * callback that does nothing (the keys' read lock and slot lookup), gm's two per-call HKDF-SM3
 * subkey derivations, and one fg_hmac over the blind index's bytes.
 *
 * Every measurement is a loop that checks the clock every CLOCK_EVERY operations. They run in
 * ROUNDS interleaved rounds, so a busy machine slows all of them alike and the ratios hold.
 * --seconds bounds the whole run: set-up (two stores, two keyrings) comes out of it first and
 * the rest is split evenly. Opens open what the matching seal produced last; at the end every
 * opened value must equal the input (and a tampered protect ciphertext must not open), so the
 * work cannot be optimised away and a broken path exits 1.
 * Runs in a temporary directory under DIR (default /tmp), removed afterwards.
 * Output contract (scripts/bench.sh): stdout holds only "BENCH <name> <value> <unit>".
 *
 * Usage: bench_protect [--seconds N] [DIR]
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "protect/protect.h"
#include "store/store.h"
#include "bench_util.h"

#define SECONDS_DEFAULT 5
#define FIELD_LEN 64u
#define CLOCK_EVERY 1024u
#define ROUNDS 5
/* Share of --seconds the measurements may use once set-up is done (teardown, printing). */
#define BUDGET_SHARE 0.9
#define SLICE_NS_MIN 1000000ull

#define TABLE "accounts"
#define COLUMN "email"
#define ROW_ID "1234567"
#define INDEX_FIELD "email"
/* protect's AAD: 7 header bytes ‖ table ‖ 0x00 ‖ column ‖ 0x00 ‖ row id. */
#define AAD_LEN (FG_PROTECT_HEADER_LEN + sizeof TABLE + sizeof COLUMN + sizeof ROW_ID - 1)
#define GCM_NONCE_LEN 12u

enum { LANE_INTL = 0, LANE_GM = 1, LANE_COUNT = 2, LANE_NONE = -1 };

/* One suite's instance and buffers. */
struct lane {
    enum fg_suite suite;
    fg_store *store;
    fg_keys *keys;
    uint8_t sealed[FG_PROTECT_SEALED_MAX(FIELD_LEN)];
    size_t sealed_len;
    uint8_t opened[FIELD_LEN];
    /* fg_aead baseline: a counter nonce (random prefix), never repeated under the key */
    uint8_t raw_nonce[FG_AEAD_NONCE_MAX];
    uint64_t raw_counter;
    uint8_t raw_ct[FIELD_LEN], raw_tag[FG_AEAD_TAG_LEN], raw_opened[FIELD_LEN];
};

struct fixture {
    struct lane lane[LANE_COUNT];
    uint8_t *key; /* the raw baselines' AEAD key, in locked memory */
    uint8_t pt[FIELD_LEN];
    uint8_t aad[AAD_LEN];
    EVP_CIPHER *gcm;
    EVP_CIPHER_CTX *enc, *dec;
    uint8_t evp_nonce[GCM_NONCE_LEN];
    uint64_t evp_counter;
    uint8_t evp_ct[FIELD_LEN], evp_tag[FG_AEAD_TAG_LEN], evp_opened[FIELD_LEN];
    uint8_t index[FG_PROTECT_INDEX_LEN];
    uint8_t scratch[FG_HASH_LEN]; /* nonces and MACs nobody reads */
};

/* ---- one operation each: 0 on success ------------------------------------------------------ */

typedef int (*op_fn)(struct fixture *f, struct lane *l);

static int op_protect_seal(struct fixture *f, struct lane *l)
{
    return fg_protect_seal(l->keys, FG_KEY_PII, TABLE, COLUMN, ROW_ID, f->pt, FIELD_LEN, l->sealed,
                           sizeof l->sealed, &l->sealed_len) == FG_OK
               ? 0
               : -1;
}

static int op_protect_open(struct fixture *f, struct lane *l)
{
    size_t n = 0;
    fg_rc rc = fg_protect_open(l->keys, FG_KEY_PII, TABLE, COLUMN, ROW_ID, l->sealed, l->sealed_len,
                               l->opened, sizeof l->opened, &n);
    return rc == FG_OK && n == FIELD_LEN ? 0 : -1;
}

static void counter_put(uint8_t *nonce, size_t nonce_len, uint64_t counter)
{
    for (size_t i = 0; i < 8; i++, counter >>= 8)
        nonce[nonce_len - 1 - i] = (uint8_t)counter;
}

static int op_aead_seal(struct fixture *f, struct lane *l)
{
    counter_put(l->raw_nonce, fg_aead_nonce_len(l->suite), ++l->raw_counter);
    return fg_aead_seal(l->suite, f->key, l->raw_nonce, f->aad, sizeof f->aad, f->pt, FIELD_LEN,
                        l->raw_ct, l->raw_tag) == FG_OK
               ? 0
               : -1;
}

static int op_aead_open(struct fixture *f, struct lane *l)
{
    return fg_aead_open(l->suite, f->key, l->raw_nonce, f->aad, sizeof f->aad, l->raw_ct, FIELD_LEN,
                        l->raw_tag, l->raw_opened) == FG_OK
               ? 0
               : -1;
}

static int op_evp_seal(struct fixture *f, struct lane *l)
{
    (void)l;
    int n = 0, fin = 0;
    uint8_t final_block[16];
    counter_put(f->evp_nonce, sizeof f->evp_nonce, ++f->evp_counter);
    if (EVP_EncryptInit_ex(f->enc, NULL, NULL, NULL, f->evp_nonce) != 1 ||
        EVP_EncryptUpdate(f->enc, NULL, &n, f->aad, (int)sizeof f->aad) != 1 ||
        EVP_EncryptUpdate(f->enc, f->evp_ct, &n, f->pt, (int)FIELD_LEN) != 1 ||
        n != (int)FIELD_LEN || EVP_EncryptFinal_ex(f->enc, final_block, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(f->enc, EVP_CTRL_AEAD_GET_TAG, FG_AEAD_TAG_LEN, f->evp_tag) != 1)
        return -1;
    return 0;
}

static int op_evp_open(struct fixture *f, struct lane *l)
{
    (void)l;
    int n = 0, fin = 0;
    uint8_t final_block[16];
    if (EVP_DecryptInit_ex(f->dec, NULL, NULL, NULL, f->evp_nonce) != 1 ||
        EVP_DecryptUpdate(f->dec, NULL, &n, f->aad, (int)sizeof f->aad) != 1 ||
        EVP_DecryptUpdate(f->dec, f->evp_opened, &n, f->evp_ct, (int)FIELD_LEN) != 1 ||
        n != (int)FIELD_LEN ||
        EVP_CIPHER_CTX_ctrl(f->dec, EVP_CTRL_AEAD_SET_TAG, FG_AEAD_TAG_LEN, f->evp_tag) != 1 ||
        EVP_DecryptFinal_ex(f->dec, final_block, &fin) != 1)
        return -1;
    return 0;
}

static int op_index(struct fixture *f, struct lane *l)
{
    return fg_protect_index(l->keys, INDEX_FIELD, f->pt, FIELD_LEN, f->index) == FG_OK ? 0 : -1;
}

static int op_random_nonce(struct fixture *f, struct lane *l)
{
    return fg_random(f->scratch, fg_aead_nonce_len(l->suite)) == FG_OK ? 0 : -1;
}

/* What gm's fg_aead does before any SM4 or MAC work: two HKDF-SM3 subkey derivations. */
static int op_hkdf_gm_subkeys(struct fixture *f, struct lane *l)
{
    (void)l;
    uint8_t enc[16], mac[32];
    fg_rc rc = fg_hkdf(FG_HASH_SM3, NULL, 0, f->key, FG_AEAD_KEY_LEN, "enc", 3, enc, sizeof enc);
    if (rc == FG_OK)
        rc = fg_hkdf(FG_HASH_SM3, NULL, 0, f->key, FG_AEAD_KEY_LEN, "mac", 3, mac, sizeof mac);
    f->scratch[0] ^= enc[0] ^ mac[0];
    fg_wipe(enc, sizeof enc);
    fg_wipe(mac, sizeof mac);
    return rc == FG_OK ? 0 : -1;
}

/* The blind index's MAC alone, over the same bytes (field ‖ 0x00 ‖ value). */
static int op_hmac_index(struct fixture *f, struct lane *l)
{
    (void)l;
    uint8_t msg[sizeof INDEX_FIELD + FIELD_LEN];
    memcpy(msg, INDEX_FIELD, sizeof INDEX_FIELD);
    memcpy(msg + sizeof INDEX_FIELD, f->pt, FIELD_LEN);
    return fg_hmac(FG_HASH_SHA256, f->key, FG_AEAD_KEY_LEN, msg, sizeof msg, f->scratch) == FG_OK
               ? 0
               : -1;
}

static fg_rc use_nothing(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                         enum fg_suite suite)
{
    (void)ctx;
    (void)key;
    (void)version;
    (void)suite;
    return FG_OK;
}

static int op_keys_use(struct fixture *f, struct lane *l)
{
    (void)f;
    return fg_keys_use(l->keys, FG_KEY_PII, 0, use_nothing, NULL) == FG_OK ? 0 : -1;
}

/* ---- the measurements ---------------------------------------------------------------------- */

struct measure {
    const char *name; /* BENCH name, or a diagnostic label (stdout == 0) */
    op_fn fn;
    int lane;
    int stdout_line;
    uint64_t ops, ns;
};

/* Seal before open in every round: an open opens what its seal left. */
static struct measure measures[] = {
    {"protect_seal_intl_64B_per_s", op_protect_seal, LANE_INTL, 1, 0, 0},
    {"protect_open_intl_64B_per_s", op_protect_open, LANE_INTL, 1, 0, 0},
    {"aead_seal_intl_64B_per_s", op_aead_seal, LANE_INTL, 1, 0, 0},
    {"aead_open_intl_64B_per_s", op_aead_open, LANE_INTL, 1, 0, 0},
    {"raw_evp_aes256gcm_seal_64B_per_s", op_evp_seal, LANE_NONE, 1, 0, 0},
    {"raw_evp_aes256gcm_open_64B_per_s", op_evp_open, LANE_NONE, 1, 0, 0},
    {"protect_index_intl_64B_per_s", op_index, LANE_INTL, 1, 0, 0},
    {"protect_seal_gm_64B_per_s", op_protect_seal, LANE_GM, 1, 0, 0},
    {"protect_open_gm_64B_per_s", op_protect_open, LANE_GM, 1, 0, 0},
    {"aead_seal_gm_64B_per_s", op_aead_seal, LANE_GM, 1, 0, 0},
    {"aead_open_gm_64B_per_s", op_aead_open, LANE_GM, 1, 0, 0},
    {"diag fg_random 12B (intl nonce)", op_random_nonce, LANE_INTL, 0, 0, 0},
    {"diag fg_random 16B (gm nonce)", op_random_nonce, LANE_GM, 0, 0, 0},
    {"diag fg_keys_use, empty callback", op_keys_use, LANE_INTL, 0, 0, 0},
    {"diag 2x fg_hkdf SM3 (gm subkeys)", op_hkdf_gm_subkeys, LANE_NONE, 0, 0, 0},
    {"diag fg_hmac SHA-256 70B (index)", op_hmac_index, LANE_NONE, 0, 0, 0},
};
#define MEASURE_COUNT (sizeof measures / sizeof measures[0])

static int measure_slice(struct measure *m, struct fixture *f, uint64_t slice_ns)
{
    struct lane *l = m->lane == LANE_NONE ? NULL : &f->lane[m->lane];
    uint64_t start_ns = fg_time_mono_ns(), deadline_ns = start_ns + slice_ns, now_ns;
    do {
        for (unsigned i = 0; i < CLOCK_EVERY; i++)
            if (m->fn(f, l) != 0) {
                fprintf(stderr, "bench_protect: %s failed\n", m->name);
                return -1;
            }
        m->ops += CLOCK_EVERY;
    } while ((now_ns = fg_time_mono_ns()) < deadline_ns);
    m->ns += now_ns - start_ns;
    return 0;
}

static int run_all(struct fixture *f, uint64_t budget_ns)
{
    uint64_t slice_ns = budget_ns / (ROUNDS * MEASURE_COUNT);
    if (slice_ns < SLICE_NS_MIN)
        slice_ns = SLICE_NS_MIN;
    for (int r = 0; r < ROUNDS; r++)
        for (size_t i = 0; i < MEASURE_COUNT; i++)
            if (measure_slice(&measures[i], f, slice_ns) != 0)
                return -1;
    return 0;
}

static double per_s(const char *name)
{
    for (size_t i = 0; i < MEASURE_COUNT; i++)
        if (strcmp(measures[i].name, name) == 0)
            return measures[i].ns > 0 ? (double)measures[i].ops * 1e9 / (double)measures[i].ns : 0;
    return 0;
}

/* ---- set-up, verification, teardown ------------------------------------------------------- */

static int lane_open(struct lane *l, enum fg_suite suite, const char *dir)
{
    char db[PATH_MAX];
    int n = snprintf(db, sizeof db, "%s/%s.db", dir, fg_suite_name(suite));
    if (n <= 0 || (size_t)n >= sizeof db)
        return -1;
    l->suite = suite;
    struct fg_store_options so = {.path = db};
    char shares[1][FG_KEYS_SHARE_TEXT_MAX];
    const char *problem = NULL;
    fg_rc rc = fg_store_open(&so, &l->store);
    if (rc == FG_OK)
        rc = fg_keys_new(l->store, &l->keys);
    if (rc == FG_OK)
        rc = fg_keys_init(l->keys, suite, 1, 1, shares, &problem);
    fg_wipe(shares, sizeof shares);
    if (rc == FG_OK)
        rc = fg_random(l->raw_nonce, sizeof l->raw_nonce);
    if (rc != FG_OK) {
        fprintf(stderr, "bench_protect: %s set-up: %s%s%s\n", fg_suite_name(suite), fg_rc_name(rc),
                problem != NULL ? ": " : "", problem != NULL ? problem : "");
        return -1;
    }
    return 0;
}

static void lane_close(struct lane *l)
{
    fg_keys_free(l->keys);
    fg_store_close(l->store);
    l->keys = NULL;
    l->store = NULL;
}

static void aad_build(uint8_t aad[AAD_LEN])
{
    static const uint8_t header[FG_PROTECT_HEADER_LEN] = {
        FG_PROTECT_FORMAT_V1, FG_SUITE_INTL, FG_KEY_PII, 0, 0, 0, 1};
    size_t n = 0;
    memcpy(aad + n, header, sizeof header);
    n += sizeof header;
    memcpy(aad + n, TABLE, sizeof TABLE); /* with the NUL separators, as protect does */
    n += sizeof TABLE;
    memcpy(aad + n, COLUMN, sizeof COLUMN);
    n += sizeof COLUMN;
    memcpy(aad + n, ROW_ID, sizeof ROW_ID - 1);
}

static int fixture_open(struct fixture *f, const char *dir)
{
    for (size_t i = 0; i < FIELD_LEN; i++)
        f->pt[i] = (uint8_t)('a' + i % 26);
    aad_build(f->aad);
    f->key = fg_secure_alloc(FG_AEAD_KEY_LEN);
    if (f->key == NULL || fg_random(f->key, FG_AEAD_KEY_LEN) != FG_OK ||
        fg_random(f->evp_nonce, sizeof f->evp_nonce) != FG_OK)
        return -1;
    if (lane_open(&f->lane[LANE_INTL], FG_SUITE_INTL, dir) != 0 ||
        lane_open(&f->lane[LANE_GM], FG_SUITE_GM, dir) != 0)
        return -1;
    f->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    f->enc = EVP_CIPHER_CTX_new();
    f->dec = EVP_CIPHER_CTX_new();
    if (f->gcm == NULL || f->enc == NULL || f->dec == NULL ||
        EVP_EncryptInit_ex(f->enc, f->gcm, NULL, f->key, f->evp_nonce) != 1 ||
        EVP_DecryptInit_ex(f->dec, f->gcm, NULL, f->key, f->evp_nonce) != 1) {
        fprintf(stderr, "bench_protect: OpenSSL AES-256-GCM set-up failed\n");
        return -1;
    }
    return 0;
}

static void fixture_close(struct fixture *f)
{
    EVP_CIPHER_CTX_free(f->enc);
    EVP_CIPHER_CTX_free(f->dec);
    EVP_CIPHER_free(f->gcm);
    for (int i = 0; i < LANE_COUNT; i++)
        if (f->lane[i].store != NULL)
            lane_close(&f->lane[i]);
    fg_secure_free(f->key);
    f->key = NULL;
}

static int same(const uint8_t *a, const uint8_t *b, const char *what)
{
    if (memcmp(a, b, FIELD_LEN) == 0)
        return 1;
    fprintf(stderr, "bench_protect: %s does not give back the input\n", what);
    return 0;
}

/* The last values each loop produced must round-trip, and the façade must open what raw EVP
 * sealed (the baseline is the same AES-256-GCM). */
static int verify(struct fixture *f)
{
    int ok = 1;
    uint8_t out[FIELD_LEN], index[FG_PROTECT_INDEX_LEN];
    for (int i = 0; i < LANE_COUNT; i++) {
        struct lane *l = &f->lane[i];
        memset(out, 0, sizeof out);
        ok &= op_protect_open(f, l) == 0 && same(l->opened, f->pt, "fg_protect_open");
        ok &= same(l->raw_opened, f->pt, "fg_aead_open");
        l->sealed[l->sealed_len - 1] ^= 1;
        size_t n = 0;
        fg_rc rc = fg_protect_open(l->keys, FG_KEY_PII, TABLE, COLUMN, ROW_ID, l->sealed,
                                   l->sealed_len, out, sizeof out, &n);
        l->sealed[l->sealed_len - 1] ^= 1;
        if (rc != FG_ERR_CRYPTO) {
            fprintf(stderr, "bench_protect: a tampered %s ciphertext opened (%s)\n",
                    fg_suite_name(l->suite), fg_rc_name(rc));
            ok = 0;
        }
    }
    ok &= same(f->evp_opened, f->pt, "raw EVP open");
    memset(out, 0, sizeof out);
    ok &= fg_aead_open(FG_SUITE_INTL, f->key, f->evp_nonce, f->aad, sizeof f->aad, f->evp_ct,
                       FIELD_LEN, f->evp_tag, out) == FG_OK &&
          same(out, f->pt, "fg_aead_open of a raw EVP ciphertext");
    ok &=
        fg_protect_index(f->lane[LANE_INTL].keys, INDEX_FIELD, f->pt, FIELD_LEN, index) == FG_OK &&
        memcmp(index, f->index, sizeof index) == 0;
    fg_wipe(out, sizeof out);
    return ok ? 0 : -1;
}

/* ---- main --------------------------------------------------------------------------------- */

static void report_stderr(void)
{
    for (size_t i = 0; i < MEASURE_COUNT; i++) {
        const struct measure *m = &measures[i];
        fprintf(stderr, "%-36s %10llu ops in %6.3f s = %9.0f ops/s, %7.0f ns/op\n", m->name,
                (unsigned long long)m->ops, (double)m->ns / 1e9, per_s(m->name),
                (double)m->ns / (double)m->ops);
    }
}

static void ratio(const char *name, const char *a, const char *b)
{
    double vb = per_s(b);
    printf("BENCH %s %.3f x\n", name, vb > 0 ? per_s(a) / vb : 0);
}

static void report_stdout(void)
{
    for (size_t i = 0; i < MEASURE_COUNT; i++)
        if (measures[i].stdout_line)
            printf("BENCH %s %.0f ops/s\n", measures[i].name, per_s(measures[i].name));
    ratio("protect_seal_intl_vs_raw_ratio", "protect_seal_intl_64B_per_s",
          "raw_evp_aes256gcm_seal_64B_per_s");
    ratio("protect_open_intl_vs_raw_ratio", "protect_open_intl_64B_per_s",
          "raw_evp_aes256gcm_open_64B_per_s");
    ratio("protect_seal_intl_vs_aead_ratio", "protect_seal_intl_64B_per_s",
          "aead_seal_intl_64B_per_s");
    ratio("protect_open_intl_vs_aead_ratio", "protect_open_intl_64B_per_s",
          "aead_open_intl_64B_per_s");
    ratio("aead_seal_intl_vs_raw_evp_ratio", "aead_seal_intl_64B_per_s",
          "raw_evp_aes256gcm_seal_64B_per_s");
    /* gm's raw baseline is the façade primitive (no single EVP call exists for it). */
    ratio("protect_seal_gm_vs_raw_ratio", "protect_seal_gm_64B_per_s", "aead_seal_gm_64B_per_s");
    ratio("protect_open_gm_vs_raw_ratio", "protect_open_gm_64B_per_s", "aead_open_gm_64B_per_s");
}

int main(int argc, char **argv)
{
    unsigned seconds = SECONDS_DEFAULT;
    const char *parent = "/tmp";
    if (bench_parse_args(argc, argv, &seconds, &parent) != 0) {
        fprintf(stderr, "usage: bench_protect [--seconds N (1..%d)] [DIR]\n", BENCH_SECONDS_MAX);
        return 2;
    }
    uint64_t start_ns = fg_time_mono_ns();
    uint64_t budget_ns = (uint64_t)((double)seconds * BUDGET_SHARE * 1e9);
    fg_log_set_level(FG_LOG_WARN);
    int made_parent = mkdir(parent, 0700) == 0;
    if (!made_parent && errno != EEXIST) {
        fprintf(stderr, "bench_protect: cannot create %s\n", parent);
        return 1;
    }
    char dir[PATH_MAX];
    int n = snprintf(dir, sizeof dir, "%s/fg-bench-protect-XXXXXX", parent);
    if (fg_crypto_init() != FG_OK || n <= 0 || (size_t)n >= sizeof dir || mkdtemp(dir) == NULL) {
        fprintf(stderr, "bench_protect: cannot set up (crypto or a directory under %s)\n", parent);
        if (made_parent)
            rmdir(parent);
        return 1;
    }
    static struct fixture f; /* ~1 KiB of buffers: off the stack */
    int failed = fixture_open(&f, dir) != 0;
    uint64_t setup_ns = fg_time_mono_ns() - start_ns;
    if (!failed)
        failed =
            run_all(&f, budget_ns > setup_ns ? budget_ns - setup_ns : 0) != 0 || verify(&f) != 0;
    fixture_close(&f);
    bench_remove_dir(dir);
    if (made_parent)
        rmdir(parent);
    if (failed) {
        fprintf(stderr, "bench_protect: failed\n");
        return 1;
    }
    fprintf(stderr, "bench_protect: set-up %.3f s, total %.3f s, %d rounds\n",
            (double)setup_ns / 1e9, (double)(fg_time_mono_ns() - start_ns) / 1e9, ROUNDS);
    report_stderr();
    report_stdout();
    return 0;
}
