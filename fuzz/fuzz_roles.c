/*
 * fuzz_roles.c — the roles loader (iam/roles.c) on arbitrary bytes.
 *
 * Invariants: loading never crashes or leaks; it succeeds exactly when it reported no
 * error; every error line has the "fuzz:" origin prefix and ends in a newline; and a file
 * that loads is self-consistent: names round-trip to ids, the permission check by name
 * agrees with the one by id, every permission is held unless marked unused (then by
 * nobody), read-only roles hold no write permission, the conflict relation is symmetric
 * and irreflexive, single roles are always assignable and every conflicting pair is
 * refused with a text naming it.
 */
#include <string.h>

#include "fuzz.h"

#include "iam/roles.h"

/* Errors text kept per input: enough for FG_ROLES_ERRORS_MAX lines of ~600 bytes. */
#define FUZZ_ERRORS_MAX (64u * 1024u)

static void check_errors(const char *e)
{
    for (const char *line = e; *line != '\0';) {
        FUZZ_CHECK(strncmp(line, "fuzz:", 5) == 0);
        const char *nl = strchr(line, '\n');
        FUZZ_CHECK(nl != NULL);
        line = nl + 1;
    }
}

static void check_model(const struct fg_roles *roles)
{
    int nroles = fg_roles_role_count(roles), nperms = fg_roles_perm_count(roles);
    FUZZ_CHECK(nroles >= 0 && nroles <= (int)FG_ROLES_MAX);
    FUZZ_CHECK(nperms >= 0 && nperms <= (int)FG_ROLES_PERMISSIONS_MAX);
    FUZZ_CHECK(fg_roles_requester_never_approves(roles));
    uint32_t all = nroles == 32 ? UINT32_MAX : (1u << nroles) - 1u;
    for (int p = 0; p < nperms; p++) {
        const char *name = fg_roles_perm_name(roles, p);
        int id = -1;
        FUZZ_CHECK(fg_roles_perm_id(roles, name, &id) == FG_OK && id == p);
        FUZZ_CHECK(strlen(name) <= FG_ROLES_PERM_NAME_MAX);
        FUZZ_CHECK(fg_roles_perm_description(roles, p) != NULL);
        FUZZ_CHECK(fg_roles_mask_has(roles, all, p) == !fg_roles_perm_unused(roles, p));
        FUZZ_CHECK(!fg_roles_mask_has(roles, 0, p));
        for (int r = 0; r < nroles; r++) {
            int has = fg_roles_mask_has(roles, 1u << r, p);
            FUZZ_CHECK(has == fg_roles_has(roles, 1u << r, name));
            if ((fg_roles_read_only_mask(roles) & (1u << r)) && has)
                FUZZ_CHECK(fg_roles_perm_access(roles, p) != FG_ROLES_ACCESS_WRITE);
        }
    }
    for (int r = 0; r < nroles; r++) {
        const char *name = fg_roles_role_name(roles, r);
        int id = -1;
        FUZZ_CHECK(fg_roles_role_id(roles, name, &id) == FG_OK && id == r);
        FUZZ_CHECK(fg_roles_role_description(roles, r) != NULL);
        FUZZ_CHECK(fg_roles_check_assignment(roles, 1u << r, NULL) == FG_OK);
        if (fg_roles_is_staff(roles, 1u << r))
            FUZZ_CHECK(fg_roles_mfa_required(roles, 1u << r));
        uint32_t conflicts = fg_roles_conflict_mask(roles, r);
        FUZZ_CHECK(!(conflicts & (1u << r)) && !(conflicts & ~all));
        for (int s = 0; s < nroles; s++) {
            if (!(conflicts & (1u << s)))
                continue;
            FUZZ_CHECK(fg_roles_conflict_mask(roles, s) & (1u << r));
            const char *violation = NULL;
            FUZZ_CHECK(fg_roles_check_assignment(roles, (1u << r) | (1u << s), &violation) ==
                       FG_ERR_POLICY);
            FUZZ_CHECK(violation != NULL && strchr(violation, '+') != NULL);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_buf errors = FG_BUF_INIT(FUZZ_ERRORS_MAX);
    struct fg_roles *roles = NULL;
    fg_rc rc = fg_roles_load((const char *)data, size, "fuzz", &roles, &errors);
    const char *e = fg_buf_str(&errors);
    if (rc == FG_OK) {
        FUZZ_CHECK(roles != NULL && e[0] == '\0');
        check_model(roles);
    } else {
        FUZZ_CHECK(roles == NULL);
        FUZZ_CHECK(rc == FG_ERR_CONFIG || rc == FG_ERR_TOO_LARGE || rc == FG_ERR_NOMEM);
        if (rc != FG_ERR_NOMEM)
            FUZZ_CHECK(e[0] != '\0');
        check_errors(e);
    }
    fg_roles_free(roles);
    fg_buf_release(&errors);
    return 0;
}
