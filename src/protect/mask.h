/*
 * mask.h — display masking of personal data and card numbers (REQUIREMENTS DATA-3, ACC-5;
 * docs/protect.md).
 *
 * A masked value is what a screen, a list or a support agent sees by default; the clear
 * value is shown only to holders of the field's reveal permission, with a reason
 * (protect/fields.h names the rule and the permissions per field). Rules:
 *
 *   none              the input as it is (valid UTF-8 without control characters).
 *   phone             optional '+' then 1..FG_MASK_PHONE_DIGITS_MAX ASCII digits. With 8 or
 *                     more digits the 4 before the last 4 become "****":
 *                     "+8613812345678" → "+86138****5678", "13812345678" → "138****5678";
 *                     3..7 digits: all but the last 2 masked ("12345" → "***45");
 *                     1..2 digits: all masked.
 *   id_number         6..32 ASCII letters/digits (Chinese resident ID: 15 or 18, last may be
 *                     X). 11 or more: first 6 and last 4 kept, the middle '*' (same length):
 *                     "110101199003071234" → "110101********1234"; 6..10: all but the last 2.
 *   name              UTF-8; the first code point kept, every further one → '*':
 *                     "张三丰" → "张**", "Alice" → "A****"; a one-code-point name → "*".
 *   email             local@domain (exactly one '@', both sides non-empty): first code point
 *                     of the local part, "***", '@', the domain: "alice@example.com" →
 *                     "a***@example.com" (the length of the local part is not shown).
 *   pan_last4         FG_PAN_MIN..FG_PAN_MAX ASCII digits, all but the last 4 → '*' (same
 *                     length): "6222021234567890123" → "***************0123".
 *   pan_first6_last4  same input; first 6 and last 4 kept: "6222021234567890" →
 *                     "622202******7890".
 *   all               every code point → '*' (same number of code points); "" → "".
 *
 * Errors: FG_ERR_INVALID for input the rule cannot mask safely — not valid UTF-8 (overlong
 * forms, surrogates and code points above U+10FFFF are invalid), a control character
 * (U+0000..U+001F, U+007F..U+009F) where characters are kept, the wrong shape for the
 * rule, or an unknown rule; FG_ERR_LIMIT when the input is longer than FG_MASK_IN_MAX bytes
 * or out (cap bytes) cannot hold the result and its NUL. On ANY error out is "" (when cap >
 * 0) and no byte of the input is left in it, so a caller that ignores the error still shows
 * nothing. Only FG_MASK_NONE ever returns the whole input.
 *
 * Pure functions: no state, no allocation, thread-safe. The input is not kept.
 */
#ifndef FG_PROTECT_MASK_H
#define FG_PROTECT_MASK_H

#include <stddef.h>

#include "base/rc.h"

/* Out buffers of at least this many bytes hold every masked value a field can have. */
#define FG_MASK_OUT_MAX 256u
/* Bytes of input a rule looks at: far above any name, e-mail (254) or document number. */
#define FG_MASK_IN_MAX 1024u
/* Digits of a phone number: E.164 has at most 15; national formats with prefixes fewer
 * than 20. */
#define FG_MASK_PHONE_DIGITS_MAX 20u
/* Characters of an identity document number (id_number rule). */
#define FG_MASK_ID_MIN 6u
#define FG_MASK_ID_MAX 32u

enum fg_mask_rule {
    FG_MASK_NONE = 0,
    FG_MASK_PHONE,
    FG_MASK_ID_NUMBER,
    FG_MASK_NAME,
    FG_MASK_EMAIL,
    FG_MASK_PAN_LAST4,
    FG_MASK_PAN_FIRST6_LAST4,
    FG_MASK_ALL,
};
#define FG_MASK_RULE_COUNT 8

/* "none", "phone", "id_number", "name", "email", "pan_last4", "pan_first6_last4", "all";
 * NULL for anything else. */
const char *fg_mask_rule_name(enum fg_mask_rule r);
/* The rule called name (exactly as above); FG_ERR_INVALID otherwise. */
FG_MUST_CHECK fg_rc fg_mask_rule_parse(const char *name, enum fg_mask_rule *out);

/* Mask in[0..len) (UTF-8) into out (NUL-terminated) by rule r; see the rules above.
 * in may be NULL only when len is 0. */
FG_MUST_CHECK fg_rc fg_mask(enum fg_mask_rule r, const char *in, size_t len, char *out, size_t cap);

#endif
