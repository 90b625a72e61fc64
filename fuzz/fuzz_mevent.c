/*
 * fuzz_mevent.c — the external event parser (monitor/mevent.c) on arbitrary JSON.
 *
 * Invariants: parsing never crashes; a refusal always says why (NUL-terminated, within its
 * buffer, "member: reason"); an accepted event has a valid name and every string within its
 * limit, turns into a stored row (fg_mev_to_event) unless too large, and that row maps back
 * (fg_mev_from_event) to the same name, subject keys and amount. Attribute names that
 * would collide with a typed field are refused.
 */
#include <string.h>

#include "fuzz.h"

#include "monitor/mevent.h"

static struct fg_mev_hold h, back;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL)
        return 0;
    char why[96];
    memset(why, 'z', sizeof why);
    fg_rc rc = fg_mev_from_json(o, 1000, &h, why, sizeof why);
    if (rc != FG_OK) {
        FUZZ_CHECK(rc == FG_ERR_INVALID || rc == FG_ERR_TOO_LARGE);
        FUZZ_CHECK(memchr(why, '\0', sizeof why) != NULL);
        FUZZ_CHECK(strstr(why, ": ") != NULL);
        json_decref(o);
        return 0;
    }
    FUZZ_CHECK(h.ev.s[FG_MEV_F_NAME][0] != '\0');
    FUZZ_CHECK(strlen(h.ev.s[FG_MEV_F_NAME]) <= FG_MEV_NAME_MAX);
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        FUZZ_CHECK(h.ev.s[i] != NULL && strlen(h.ev.s[i]) <= FG_MEV_KEY_MAX);
    FUZZ_CHECK(h.ev.nattrs <= FG_MEV_ATTRS_MAX);
    FUZZ_CHECK(!h.ev.has_amount || h.ev.amount >= 0);
    struct fg_event row;
    char buf[FG_EVENT_ATTRS_MAX + 1];
    if (fg_mev_to_event(&h.ev, "external", &row, buf, sizeof buf) == FG_OK) {
        FUZZ_CHECK(fg_mev_from_event(1, h.ev.time_ms, &row, &back) == FG_OK);
        static const int keys[] = {FG_MEV_F_NAME, FG_MEV_F_USER,    FG_MEV_F_CUSTOMER,
                                   FG_MEV_F_IP,   FG_MEV_F_ACCOUNT, FG_MEV_F_PAYEE};
        /* attrs "from"/"to" fill an empty account/payee on the way back (mevent.h) */
        size_t nkeys = fg_mev_attr(&h.ev, "from") || fg_mev_attr(&h.ev, "to") ? 4 : 6;
        for (size_t i = 0; i < nkeys; i++)
            FUZZ_CHECK(strcmp(h.ev.s[keys[i]], back.ev.s[keys[i]]) == 0);
        FUZZ_CHECK(back.ev.has_amount == h.ev.has_amount && back.ev.amount == h.ev.amount);
    }
    json_decref(o);
    return 0;
}
