/*
 * card.h — the card vault: a customer's cards as payment tokens (REQUIREMENTS DATA-3,
 * DATA-4, ACC-5; JR/T 0149 payment tokenisation; table `customer_cards` in
 * migrations/0007_customers.sql; protect/card.h for PAN and token rules).
 *
 * A card is added with its PAN once. What is stored:
 *   token        a fresh payment token (fg_card_token_new) as long as the PAN: prefix "99",
 *                random digits, Luhn-valid — never derived from the PAN, unique (a collision
 *                draws again, at most FG_CARD_TOKEN_TRIES times);
 *   pan          an fg_protect ciphertext of purpose pan bound to customer_cards/pan/<id>;
 *   pan_idx      the blind index fg_protect_index("card.pan", customer_id ‖ 0x00 ‖ pan):
 *                the same PAN for the same customer finds its card again (same token,
 *                *existing = 1) — and for another customer it is a different index, so the
 *                vault cannot tell that two customers share a card;
 *   masked_wide  first 6 + last 4 with '*' between (the widest display data/fields.yaml
 *                allows: card.pan mask_wide), and last4. These are display data, not the PAN
 *                (PCI DSS 3.4 allows first six and last four), kept so lists need no key.
 * The CVV/CVN is never accepted anywhere (the HTTP layer refuses a body that carries one)
 * and never stored.
 *
 * Display (fg_card_display): the spec's mask for a reader, or mask_wide for holders of its
 * wide_permission (cards.create: the teller who tokenised it sees first 6 + last 4). Rules
 * that show no more than first 6 + last 4 (pan_last4, pan_first6_last4, all) are computed
 * from the stored display data; any other rule would need the PAN and is refused
 * (FG_ERR_CONFIG): the vault never opens a PAN just to show it.
 *
 * Detokenisation (fg_card_detokenize) opens the PAN of a token; the CALLER checks the
 * permission (card.pan reveal: cards.detokenize) and the reason, and audits in the same
 * intent. A destroyed card (its customer was destroyed) has no PAN any more.
 *
 * Errors: FG_ERR_INVALID (not a PAN, *why from fg_pan_check; a malformed token),
 * FG_ERR_NOT_FOUND, FG_ERR_CONFLICT (the customer or the card is destroyed), FG_ERR_LIMIT
 * (FG_CARD_PER_CUSTOMER_MAX cards), FG_ERR_CONFIG (see customer.h), FG_ERR_SEALED,
 * FG_ERR_CRYPTO, FG_ERR_STORE. Nothing here logs or returns a PAN except
 * fg_card_detokenize's out buffer, which the caller wipes.
 *
 * Threads and connections: as customer.h ("write" = writer inside an intent, "read" = any).
 */
#ifndef FG_LEDGER_CARD_H
#define FG_LEDGER_CARD_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "iam/roles.h"
#include "keys/keys.h"
#include "ledger/customer.h"
#include "protect/card.h"
#include "protect/fields.h"
#include "protect/mask.h"
#include "store/store.h"

/* Ids: "crd_" + 22 characters of base64url. */
#define FG_CARD_ID_PREFIX "crd_"
#define FG_CARD_ID_SIZE FG_CUSTOMER_ID_SIZE
/* Cards one customer may hold in the vault: a person has a handful; this bounds a list
 * answer and a runaway script. */
#define FG_CARD_PER_CUSTOMER_MAX 32u
/* Fresh tokens drawn before giving up on collisions (10^10 tokens even at 13 digits). */
#define FG_CARD_TOKEN_TRIES 8u
/* The field of data/fields.yaml that classifies PANs. */
#define FG_CARD_PAN_FIELD "card.pan"

struct fg_card_view {
    char id[FG_CARD_ID_SIZE];
    char customer_id[FG_CUSTOMER_ID_SIZE];
    char token[FG_PAN_SIZE];
    char masked_wide[FG_PAN_SIZE]; /* first 6 + last 4; "" when destroyed */
    char last4[5];                 /* "" when destroyed */
    int destroyed;
    int64_t created_ms;
    char created_by[FG_CUSTOMER_ACTOR_MAX + 1];
};

/* write. Tokenise pan[0..len) for customer_id (see the file comment): on FG_OK *out is the
 * card (new, or the existing one for this PAN with *existing = 1). card_id is the id a new
 * card receives (made with fg_customer_new_id(FG_CARD_ID_PREFIX)). */
FG_MUST_CHECK fg_rc fg_card_add(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                                const char *customer_id, const char *card_id, const char *pan,
                                size_t len, const char *created_by, int64_t now_ms,
                                struct fg_card_view *out, int *existing, const char **why);

typedef fg_rc (*fg_card_fn)(void *ctx, const struct fg_card_view *card);
/* read. The customer's cards, oldest first; fn's error stops and is returned. (An unknown
 * customer simply has none: check it first.) */
FG_MUST_CHECK fg_rc fg_card_list(fg_conn *c, const char *customer_id, fg_card_fn fn, void *ctx);
/* read. One card by id. FG_ERR_NOT_FOUND. */
FG_MUST_CHECK fg_rc fg_card_get(fg_conn *c, const char *card_id, struct fg_card_view *out);

/* The card masked for a reader holding reader_mask (see the file comment) into out.
 * A destroyed card shows "". FG_ERR_CONFIG for a rule the display data cannot serve. */
FG_MUST_CHECK fg_rc fg_card_display(const struct fg_fields *f, const struct fg_roles *roles,
                                    uint32_t reader_mask, const struct fg_card_view *card,
                                    char out[FG_MASK_OUT_MAX]);

/* read. The PAN behind token[0..len) into pan_out (NUL-terminated; the caller wipes it) and
 * the card (may be NULL). FG_ERR_INVALID (not a token), FG_ERR_NOT_FOUND (unknown token),
 * FG_ERR_CONFLICT (the card is destroyed). */
FG_MUST_CHECK fg_rc fg_card_detokenize(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                                       const char *token, size_t len, char pan_out[FG_PAN_SIZE],
                                       struct fg_card_view *card);

#endif
