/*
 * fields.h — the classification of sensitive fields (REQUIREMENTS ACC-5, DATA-1, DATA-3;
 * docs/protect.md), loaded from data/fields.yaml (embedded, base/data.h).
 *
 * Every field that holds personal or card data is listed once, as object.field, with its
 * class and how it is stored and shown:
 *
 *     fields:
 *       card.pan:
 *         class: C2              # C1 internal, C2 personal/confidential, C3 secret
 *         encrypt: true          # stored as an fg_protect ciphertext
 *         purpose: pan           # key purpose when encrypted: pii (default) or pan
 *         index: true            # has a blind index (uniqueness, look-up); needs encrypt
 *         mask: pan_last4        # default display (protect/mask.h rule names)
 *         mask_wide: pan_first6_last4      # display for holders of wide_permission
 *         wide_permission: cards.create
 *         reveal: cards.detokenize         # may see clear text with a reason
 *       user.password: {class: C3, hashed: true}
 *       account.balance: {class: C2, arithmetic: true, mask: none}
 *
 * Booleans default to false. Loader rules (the file is refused otherwise, every problem
 * reported with its line):
 *   - keys: only the ones above (plus `hashed`, `arithmetic`); a field only once; names
 *     are object.field of [a-z][a-z0-9_]* parts (≤ FG_FIELDS_NAME_MAX bytes); permissions
 *     dotted names of such parts (≤ FG_FIELDS_PERM_MAX bytes);
 *   - class is C1, C2 or C3; masks are known rule names;
 *   - encrypt excludes hashed and arithmetic; purpose and index need encrypt;
 *   - C3: encrypted or `hashed: true`; no reveal, no mask_wide; mask absent or `all`
 *     (a C3 value is never shown: the loaded mask is FG_MASK_ALL);
 *   - C2: encrypted unless `arithmetic: true` (balances: the ledger adds them); a mask;
 *   - C1: no reveal (nothing is hidden); mask defaults to none;
 *   - mask_wide and wide_permission come together;
 *   - whether the permissions exist in data/roles.yaml is NOT checked here: the server
 *     cross-checks at start-up.
 * Aliases, anchors, tags and more than one document are refused.
 *
 * Errors: fg_fields_load returns FG_ERR_CONFIG with err holding one "fields.yaml:LINE:
 * problem" line per problem (cut when err is full), FG_ERR_TOO_LARGE for more than
 * FG_FIELDS_FILE_MAX bytes, FG_ERR_NOMEM. Problem texts quote at most a few bytes of names
 * from the file, never values.
 *
 * Ownership and threads: a loaded struct fg_fields is immutable and owns its strings; read
 * it from any number of threads. Pointers returned live until fg_fields_free (NULL is fine).
 */
#ifndef FG_PROTECT_FIELDS_H
#define FG_PROTECT_FIELDS_H

#include <stddef.h>

#include "base/rc.h"
#include "keys/keys.h"
#include "protect/mask.h"

/* Fields in the file: the product has a few dozen sensitive fields. */
#define FG_FIELDS_MAX 256u
/* Bytes of the file: the shipped one is about 3 KiB. */
#define FG_FIELDS_FILE_MAX (64u * 1024u)
/* Bytes of a field name ("customer.id_number") and of a permission name. */
#define FG_FIELDS_NAME_MAX 64u
#define FG_FIELDS_PERM_MAX 64u
/* YAML nesting the format needs: root, fields, one field (a flow mapping is the same). */
#define FG_FIELDS_YAML_DEPTH_MAX 3u
/* Problems reported by one load; later ones are counted in a last line. */
#define FG_FIELDS_ERRORS_MAX 50u

enum fg_field_class { FG_FIELD_C1 = 1, FG_FIELD_C2 = 2, FG_FIELD_C3 = 3 };

struct fg_field_spec {
    const char *name; /* "customer.phone" (object.field) */
    enum fg_field_class cls;
    int encrypt;                   /* stored as an fg_protect ciphertext */
    int index;                     /* has a blind index for uniqueness / look-up */
    enum fg_key_purpose purpose;   /* pii or pan when encrypt; 0 otherwise */
    enum fg_mask_rule mask;        /* default display */
    enum fg_mask_rule mask_wide;   /* for holders of wide_permission (FG_MASK_NONE = none) */
    const char *wide_permission;   /* e.g. "cards.create"; NULL */
    const char *reveal_permission; /* who may see clear text with a reason; NULL = nobody */
    /* added after the contract: */
    int hashed;     /* stored as a one-way hash (passwords: Argon2id) */
    int arithmetic; /* clear so the ledger can add it (C2 only) */
    int line;       /* where it is defined in the file */
};

struct fg_fields;

/* Load and check text[0..len) (see the rules above). On success *out owns the result. */
FG_MUST_CHECK fg_rc fg_fields_load(const char *text, size_t len, struct fg_fields **out, char *err,
                                   size_t err_cap);
/* The embedded data/fields.yaml; FG_ERR_INTERNAL if it is missing or does not load. */
FG_MUST_CHECK fg_rc fg_fields_load_default(struct fg_fields **out);
void fg_fields_free(struct fg_fields *f);

/* The field called name, or NULL. */
const struct fg_field_spec *fg_fields_get(const struct fg_fields *f, const char *name);
size_t fg_fields_count(const struct fg_fields *f);
/* Fields in file order; i < fg_fields_count(f). */
const struct fg_field_spec *fg_fields_at(const struct fg_fields *f, size_t i);

/* "C1", "C2", "C3"; NULL for anything else. */
const char *fg_field_class_name(enum fg_field_class c);

#endif
