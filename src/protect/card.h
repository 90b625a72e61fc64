/*
 * card.h — primary account numbers (PANs) and payment tokens (REQUIREMENTS DATA-3;
 * JR/T 0149 payment tokenisation; docs/protect.md).
 *
 * A PAN as finguard accepts it is 13..19 ASCII digits (ISO/IEC 7812), no spaces or dashes,
 * with a valid Luhn check digit, and not starting with FG_CARD_TOKEN_PREFIX. The clear PAN
 * lives only in the vault (encrypted with the `pan` purpose); everything else — accounts,
 * transfers, screens, logs — carries a token.
 *
 * A token looks like a PAN so that systems built for card numbers keep working: the same
 * length as the card it stands for, all digits, Luhn-valid. It starts with "99": major
 * industry identifier 9 is reserved for national use and no issuer has a 99 range, so a
 * token can never be a real card number, and fg_pan_check refuses anything starting with
 * it (a token submitted as a card is caught, not tokenised again). The digits between the
 * prefix and the check digit are uniformly random from the CSPRNG (crypto/crypto.h,
 * rejection sampling: no modulo bias), so a token says nothing about its PAN; uniqueness
 * is the vault's job (a UNIQUE column; on the rare collision draw again). With 13 digits
 * there are 10^10 tokens.
 *
 * No state, no allocation, thread-safe. Functions never log their input.
 */
#ifndef FG_PROTECT_CARD_H
#define FG_PROTECT_CARD_H

#include <stddef.h>

#include "base/rc.h"

#define FG_PAN_MIN 13u
#define FG_PAN_MAX 19u
/* ISO/IEC 7812 MII 9 (national use): never a real card. */
#define FG_CARD_TOKEN_PREFIX "99"
#define FG_CARD_TOKEN_PREFIX_LEN 2u
/* Bytes of a buffer that holds any PAN or token with its NUL. */
#define FG_PAN_SIZE (FG_PAN_MAX + 1u)

/* 1 if digits[0..n) are at least 2 ASCII digits and the last is the Luhn check digit of
 * the others; 0 otherwise. */
int fg_luhn_valid(const char *digits, size_t n);
/* The Luhn check digit ('0'..'9') to append to payload[0..n) (ASCII digits, n ≥ 1), or -1
 * when payload is not all digits or empty. */
int fg_luhn_check_digit(const char *payload, size_t n);

/* A PAN as submitted: exactly FG_PAN_MIN..FG_PAN_MAX ASCII digits (no spaces), Luhn-valid,
 * and not starting with the token prefix. FG_ERR_INVALID otherwise, and *why (if why is not
 * NULL) a static sentence that never contains the input; NULL on FG_OK. */
FG_MUST_CHECK fg_rc fg_pan_check(const char *in, size_t len, const char **why);

/* A fresh payment token of `len` (FG_PAN_MIN..FG_PAN_MAX) digits: the prefix, random digits
 * from the CSPRNG (no modulo bias), a Luhn check digit; out has len + 1 bytes and is
 * NUL-terminated. FG_ERR_INVALID for a bad len (out untouched); the CSPRNG's error (out
 * = "") if it fails — FG_ERR_INTERNAL before fg_crypto_init(). */
FG_MUST_CHECK fg_rc fg_card_token_new(size_t len, char *out);

/* 1 if s[0..len) is a token: FG_PAN_MIN..FG_PAN_MAX digits, the prefix, Luhn-valid. */
int fg_card_token_valid(const char *s, size_t len);

#endif
