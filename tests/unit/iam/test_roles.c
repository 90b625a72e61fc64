/*
 * test_roles.c — the role model: the shipped data/roles.yaml against golden tables (every
 * permission of every role, the catalog with access classes, every conflicting pair of
 * roles), the queries, separation of duties, and broken files — one per kind of error
 * with its exact "file:line: message", several errors at once, limits.
 *
 * Changing data/roles.yaml means changing the golden tables here, on purpose: a
 * permission never reaches a role, and a pair of roles never becomes compatible, without
 * someone writing it down twice.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam/roles.h"

#define ERRORS_MAX (64u * 1024u)

/* ---- golden tables of the shipped file ------------------------------------------------ */

struct golden_perm {
    const char *name;
    enum fg_roles_access access;
    int unused;
};

#define R FG_ROLES_ACCESS_READ
#define W FG_ROLES_ACCESS_WRITE
#define S FG_ROLES_ACCESS_SELF

/* The whole catalog, in file order. */
static const struct golden_perm golden_catalog[] = {
    {"sys.seal", W, 0},           {"keys.read", R, 0},         {"keys.rotate", W, 0},
    {"keys.destroy", W, 0},       {"users.create", W, 0},      {"users.read", R, 0},
    {"users.roles", W, 0},        {"users.unlock", W, 0},      {"approvals.read", R, 0},
    {"approve.staff", W, 0},      {"approve.roles", W, 0},     {"approve.unlock", W, 0},
    {"approve.keys", W, 0},       {"approve.phone", W, 0},     {"approve.limits", W, 0},
    {"approve.unfreeze", W, 0},   {"approve.transfer", W, 0},  {"approve.export", W, 0},
    {"approve.destroy", W, 0},    {"customers.create", W, 0},  {"customers.read", R, 0},
    {"customers.update", W, 0},   {"pii.reveal", R, 0},        {"cards.create", W, 0},
    {"cards.detokenize", R, 0},   {"customers.destroy", W, 0}, {"accounts.create", W, 0},
    {"accounts.read", R, 0},      {"accounts.freeze", W, 0},   {"accounts.unfreeze", W, 0},
    {"accounts.limits", W, 0},    {"money.deposit", W, 0},     {"money.withdraw", W, 0},
    {"transfers.create", W, 0},   {"statements.read", R, 0},   {"ledger.check", R, 0},
    {"audit.read", R, 0},         {"audit.verify", R, 0},      {"events.ingest", W, 0},
    {"events.read", R, 0}, /* issue #6: GET /v1/events (MON-1, INC-2) */
    {"alerts.read", R, 0},        {"alerts.ack", W, 0},        {"incidents.read", R, 0},
    {"incidents.write", W, 0},    {"rules.read", R, 0},        {"rules.reload", W, 0},
    {"assessments.run", R, 0},    {"assessments.read", R, 0},  {"improvements.read", R, 0},
    {"improvements.write", W, 0}, {"metrics.read", R, 0},      {"self.password", S, 0},
    {"self.mfa", S, 0},           {"self.session", S, 0},
};

#undef R
#undef W
#undef S

#define GOLDEN_PERMS_MAX 32

struct golden_role {
    const char *name;
    int staff;
    int mfa_required;
    enum fg_roles_expiry expires;
    const char *perms[GOLDEN_PERMS_MAX]; /* exactly the role's permissions; NULL-terminated */
};

#define SELF_ALL "self.password", "self.mfa", "self.session"

/* Every role, in file order, with exactly its permissions. */
/* clang-format off */
static const struct golden_role golden_roles[] = {
    {"customer", 0, 0, FG_ROLES_EXPIRES_FORBIDDEN,
     {"customers.read", "accounts.read", "statements.read", "transfers.create", SELF_ALL, NULL}},
    {"teller", 1, 1, FG_ROLES_EXPIRES_OPTIONAL,
     {"customers.create", "customers.read", "customers.update", "cards.create", "accounts.create",
      "accounts.read", "statements.read", "money.deposit", "money.withdraw", "accounts.limits",
      "approvals.read",
      SELF_ALL, NULL}},
    {"supervisor", 1, 1, FG_ROLES_EXPIRES_OPTIONAL,
     {"customers.read", "accounts.read", "statements.read", "ledger.check", "approvals.read",
      "approve.transfer", "approve.limits", "approve.unfreeze", "approve.phone", "approve.destroy",
      SELF_ALL, NULL}},
    {"security_admin", 1, 1, FG_ROLES_EXPIRES_OPTIONAL,
     {"sys.seal", "keys.read", "keys.rotate", "keys.destroy", "users.create", "users.read",
      "users.roles", "users.unlock", "approvals.read", "approve.staff", "approve.roles",
      "approve.unlock", "approve.keys", "rules.read", "rules.reload", "metrics.read", SELF_ALL,
      NULL}},
    {"security_officer", 1, 1, FG_ROLES_EXPIRES_OPTIONAL,
     {"users.read", "customers.read", "pii.reveal", "cards.detokenize", "customers.destroy",
      "accounts.read", "statements.read",
      "accounts.freeze", "accounts.unfreeze", "events.read", "alerts.read", "alerts.ack",
      "incidents.read",
      "incidents.write", "rules.read", "assessments.run", "assessments.read", "improvements.read",
      "improvements.write", "approvals.read", "approve.export", "metrics.read", SELF_ALL, NULL}},
    {"auditor", 1, 1, FG_ROLES_EXPIRES_OPTIONAL,
     {"users.read", "keys.read", "approvals.read", "customers.read", "accounts.read",
      "statements.read", "ledger.check", "audit.read", "audit.verify", "events.read", "alerts.read",
      "incidents.read", "rules.read", "assessments.run", "assessments.read", "improvements.read",
      "metrics.read", SELF_ALL, NULL}},
    {"vendor", 1, 1, FG_ROLES_EXPIRES_REQUIRED, {"metrics.read", SELF_ALL, NULL}},
    {"service", 1, 1, FG_ROLES_EXPIRES_OPTIONAL, {"events.ingest", SELF_ALL, NULL}},
};
/* clang-format on */

#define NROLES (sizeof golden_roles / sizeof golden_roles[0])
#define NPERMS (sizeof golden_catalog / sizeof golden_catalog[0])

/* Every pair of roles never held by one user, with the constraint that decides it
 * (the first that applies, in the loader's order); every other pair is allowed. */
static const struct {
    const char *a, *b, *reason;
} golden_conflicts[] = {
    {"security_admin", "auditor", "security_admin+auditor: constraints.exclusive"},
    {"security_admin", "security_officer",
     "security_admin+security_officer: constraints.exclusive"},
    {"teller", "supervisor", "teller+supervisor: constraints.exclusive"},
    {"customer", "supervisor",
     "customer+supervisor: customer holds transfers.create, supervisor "
     "holds approve.transfer (constraints.exclusive_permissions)"},
    {"auditor", "customer",
     "auditor+customer: auditor is read-only, customer holds "
     "transfers.create (constraints.read_only)"},
    {"auditor", "teller",
     "auditor+teller: auditor is read-only, teller holds customers.create "
     "(constraints.read_only)"},
    {"auditor", "supervisor",
     "auditor+supervisor: auditor is read-only, supervisor holds "
     "approve.phone (constraints.read_only)"},
    {"auditor", "security_officer",
     "auditor+security_officer: auditor is read-only, "
     "security_officer holds approve.export (constraints.read_only)"},
    {"auditor", "service",
     "auditor+service: auditor is read-only, service holds events.ingest "
     "(constraints.read_only)"},
    {"service", "customer", "service+customer: service is held alone (constraints.alone)"},
    {"service", "teller", "service+teller: service is held alone (constraints.alone)"},
    {"service", "supervisor", "service+supervisor: service is held alone (constraints.alone)"},
    {"service", "security_admin",
     "service+security_admin: service is held alone (constraints.alone)"},
    {"service", "security_officer",
     "service+security_officer: service is held alone "
     "(constraints.alone)"},
    {"service", "vendor", "service+vendor: service is held alone (constraints.alone)"},
    {"teller", "customer",
     "teller+customer: staff and non-staff roles (constraints.staff_separate)"},
    {"security_admin", "customer",
     "security_admin+customer: staff and non-staff roles "
     "(constraints.staff_separate)"},
    {"security_officer", "customer",
     "security_officer+customer: staff and non-staff roles "
     "(constraints.staff_separate)"},
    {"vendor", "customer",
     "vendor+customer: staff and non-staff roles (constraints.staff_separate)"},
};

#define NCONFLICTS (sizeof golden_conflicts / sizeof golden_conflicts[0])

/* ---- helpers -------------------------------------------------------------------------- */

static struct fg_roles *load_shipped(void)
{
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    struct fg_roles *roles = NULL;
    fg_rc rc = fg_roles_load_default(&roles, &errors);
    if (rc != FG_OK)
        fprintf(stderr, "%s", fg_buf_str(&errors));
    assert_int_equal(rc, FG_OK);
    assert_string_equal(fg_buf_str(&errors), "");
    assert_non_null(roles);
    fg_buf_release(&errors);
    return roles;
}

static int rid(const struct fg_roles *roles, const char *name)
{
    int id = -1;
    assert_int_equal(fg_roles_role_id(roles, name, &id), FG_OK);
    assert_true(id >= 0 && id < fg_roles_role_count(roles));
    return id;
}

static uint32_t bit(const struct fg_roles *roles, const char *name)
{
    return 1u << rid(roles, name);
}

/* Load text as "t.yaml"; it must fail with exactly the expected error lines. */
static void expect_errors(const char *text, const char *expected)
{
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    struct fg_roles *roles = (struct fg_roles *)&errors; /* must be reset to NULL */
    fg_rc rc = fg_roles_load(text, strlen(text), "t.yaml", &roles, &errors);
    if (strcmp(fg_buf_str(&errors), expected) != 0)
        fprintf(stderr, "got:\n%s--\nexpected:\n%s--\n", fg_buf_str(&errors), expected);
    assert_int_equal(rc, FG_ERR_CONFIG);
    assert_null(roles);
    assert_string_equal(fg_buf_str(&errors), expected);
    fg_buf_release(&errors);
}

static struct fg_roles *expect_ok(const char *text)
{
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    struct fg_roles *roles = NULL;
    fg_rc rc = fg_roles_load(text, strlen(text), "t.yaml", &roles, &errors);
    if (rc != FG_OK)
        fprintf(stderr, "%s", fg_buf_str(&errors));
    assert_int_equal(rc, FG_OK);
    assert_string_equal(fg_buf_str(&errors), "");
    fg_buf_release(&errors);
    return roles;
}

/* ---- the shipped file ----------------------------------------------------------------- */

static void test_shipped_loads(void **state)
{
    (void)state;
    struct fg_roles *roles = load_shipped();
    assert_int_equal(fg_roles_role_count(roles), NROLES);
    assert_int_equal(fg_roles_perm_count(roles), NPERMS);
    assert_true(fg_roles_requester_never_approves(roles));
    assert_int_equal(fg_roles_read_only_mask(roles), bit(roles, "auditor"));
    for (int i = 0; i < fg_roles_role_count(roles); i++) {
        const char *d = fg_roles_role_description(roles, i);
        assert_non_null(d);
        assert_true(strlen(d) > 10 && strlen(d) <= FG_ROLES_DESCRIPTION_MAX);
    }
    for (int p = 0; p < fg_roles_perm_count(roles); p++) {
        const char *d = fg_roles_perm_description(roles, p);
        assert_non_null(d);
        assert_true(strlen(d) > 10 && strlen(d) <= FG_ROLES_DESCRIPTION_MAX);
    }
    fg_roles_free(roles);
    fg_roles_free(NULL);
}

static void test_golden_catalog(void **state)
{
    (void)state;
    struct fg_roles *roles = load_shipped();
    assert_int_equal(fg_roles_perm_count(roles), NPERMS);
    for (size_t i = 0; i < NPERMS; i++) {
        int id = -1;
        assert_int_equal(fg_roles_perm_id(roles, golden_catalog[i].name, &id), FG_OK);
        assert_int_equal(id, (int)i); /* catalog order */
        assert_string_equal(fg_roles_perm_name(roles, id), golden_catalog[i].name);
        assert_int_equal(fg_roles_perm_access(roles, id), golden_catalog[i].access);
        assert_int_equal(fg_roles_perm_unused(roles, id), golden_catalog[i].unused);
    }
    fg_roles_free(roles);
}

static int golden_holds(const struct golden_role *g, const char *perm)
{
    for (size_t k = 0; g->perms[k] != NULL; k++)
        if (strcmp(g->perms[k], perm) == 0)
            return 1;
    return 0;
}

static void test_golden_roles(void **state)
{
    (void)state;
    struct fg_roles *roles = load_shipped();
    assert_int_equal(fg_roles_role_count(roles), NROLES);
    for (size_t i = 0; i < NROLES; i++) {
        const struct golden_role *g = &golden_roles[i];
        int id = rid(roles, g->name);
        assert_int_equal(id, (int)i); /* file order */
        assert_string_equal(fg_roles_role_name(roles, id), g->name);
        assert_int_equal(fg_roles_is_staff(roles, 1u << id), g->staff);
        assert_int_equal(fg_roles_mfa_required(roles, 1u << id), g->mfa_required);
        assert_int_equal(fg_roles_expiry_rule(roles, id), g->expires);
        /* The golden list names only catalog permissions, each once ... */
        size_t listed = 0;
        for (size_t k = 0; g->perms[k] != NULL; k++, listed++) {
            int p = -1;
            assert_int_equal(fg_roles_perm_id(roles, g->perms[k], &p), FG_OK);
            for (size_t m = 0; m < k; m++)
                assert_string_not_equal(g->perms[m], g->perms[k]);
        }
        /* ... and the role holds exactly those. */
        size_t held = 0;
        for (int p = 0; p < fg_roles_perm_count(roles); p++) {
            int has = fg_roles_mask_has(roles, 1u << id, p);
            if (has != golden_holds(g, fg_roles_perm_name(roles, p)))
                fprintf(stderr, "role %s, permission %s: file says %d\n", g->name,
                        fg_roles_perm_name(roles, p), has);
            assert_int_equal(has, golden_holds(g, fg_roles_perm_name(roles, p)));
            held += (size_t)has;
        }
        assert_int_equal(held, listed);
    }
    fg_roles_free(roles);
}

static void test_every_permission_used(void **state)
{
    (void)state;
    struct fg_roles *roles = load_shipped();
    uint32_t all = (1u << fg_roles_role_count(roles)) - 1u;
    for (int p = 0; p < fg_roles_perm_count(roles); p++) {
        int held = fg_roles_mask_has(roles, all, p);
        if (fg_roles_perm_unused(roles, p))
            assert_false(held);
        else
            assert_true(held);
    }
    fg_roles_free(roles);
}

/* Least privilege spot checks that read as the requirements do. */
static void test_least_privilege(void **state)
{
    (void)state;
    struct fg_roles *roles = load_shipped();
    uint32_t teller = bit(roles, "teller"), supervisor = bit(roles, "supervisor");
    uint32_t customer = bit(roles, "customer"), service = bit(roles, "service");
    uint32_t vendor = bit(roles, "vendor"), admin = bit(roles, "security_admin");
    uint32_t officer = bit(roles, "security_officer"), auditor = bit(roles, "auditor");
    /* the teller makes, approves nothing */
    assert_true(fg_roles_has(roles, teller, "money.deposit"));
    for (int p = 0; p < fg_roles_perm_count(roles); p++)
        if (strncmp(fg_roles_perm_name(roles, p), "approve.", 8) == 0)
            assert_false(fg_roles_mask_has(roles, teller, p));
    /* the supervisor checks */
    assert_true(fg_roles_can_approve(roles, supervisor, "transfer"));
    assert_true(fg_roles_can_approve(roles, supervisor, "limits"));
    assert_true(fg_roles_can_approve(roles, supervisor, "unfreeze"));
    assert_true(fg_roles_can_approve(roles, supervisor, "phone"));
    assert_false(fg_roles_can_approve(roles, supervisor, "roles"));
    assert_false(fg_roles_has(roles, supervisor, "money.deposit"));
    /* administration: users, roles, keys, seal — and no audit, no customer data */
    assert_true(fg_roles_has(roles, admin, "sys.seal"));
    assert_true(fg_roles_can_approve(roles, admin, "roles"));
    assert_true(fg_roles_can_approve(roles, admin, "keys"));
    assert_false(fg_roles_has(roles, admin, "audit.read"));
    assert_false(fg_roles_has(roles, admin, "customers.read"));
    /* the officer reveals PII; nobody else does */
    for (size_t i = 0; i < NROLES; i++)
        assert_int_equal(fg_roles_has(roles, 1u << i, "pii.reveal"), (1u << i) == officer);
    /* only the auditor reads the audit trail */
    for (size_t i = 0; i < NROLES; i++)
        assert_int_equal(fg_roles_has(roles, 1u << i, "audit.read"), (1u << i) == auditor);
    /* customers: own profile (masked; the owner check is the HTTP layer's), own accounts,
     * statements, transfers, self — never a reveal, never another customer's data */
    assert_true(fg_roles_has(roles, customer, "transfers.create"));
    assert_true(fg_roles_has(roles, customer, "customers.read"));
    assert_false(fg_roles_has(roles, customer, "customers.update"));
    /* service and vendor are narrow */
    assert_true(fg_roles_has(roles, service, "events.ingest"));
    assert_false(fg_roles_has(roles, service, "metrics.read"));
    assert_true(fg_roles_has(roles, vendor, "metrics.read"));
    assert_false(fg_roles_has(roles, vendor, "customers.read"));
    /* every role manages its own password and sessions; every staff role its MFA */
    for (size_t i = 0; i < NROLES; i++) {
        assert_true(fg_roles_has(roles, 1u << i, "self.password"));
        assert_true(fg_roles_has(roles, 1u << i, "self.session"));
        if (fg_roles_is_staff(roles, 1u << i)) {
            assert_true(fg_roles_has(roles, 1u << i, "self.mfa"));
            assert_true(fg_roles_mfa_required(roles, 1u << i));
        }
    }
    fg_roles_free(roles);
}

static void test_auditor_read_only(void **state)
{
    (void)state;
    struct fg_roles *roles = load_shipped();
    uint32_t auditor = bit(roles, "auditor");
    size_t reads = 0;
    for (int p = 0; p < fg_roles_perm_count(roles); p++) {
        if (!fg_roles_mask_has(roles, auditor, p))
            continue;
        assert_int_not_equal(fg_roles_perm_access(roles, p), FG_ROLES_ACCESS_WRITE);
        reads++;
    }
    assert_true(reads > 10); /* reads everything an audit needs ... */
    assert_true(fg_roles_has(roles, auditor, "audit.verify"));
    assert_true(fg_roles_has(roles, auditor, "assessments.run"));
    /* ... and can be combined with no role that writes */
    for (size_t i = 0; i < NROLES; i++) {
        uint32_t other = 1u << i;
        int writes = 0;
        for (int p = 0; p < fg_roles_perm_count(roles); p++)
            writes |= fg_roles_mask_has(roles, other, p) &&
                      fg_roles_perm_access(roles, p) == FG_ROLES_ACCESS_WRITE;
        if (writes)
            assert_int_equal(fg_roles_check_assignment(roles, auditor | other, NULL),
                             FG_ERR_POLICY);
    }
    fg_roles_free(roles);
}

/* ---- separation of duties ------------------------------------------------------------- */

static void test_exclusive_pairs(void **state)
{
    (void)state;
    struct fg_roles *roles = load_shipped();
    int n = fg_roles_role_count(roles);
    uint32_t expected[FG_ROLES_MAX] = {0};
    for (size_t i = 0; i < NCONFLICTS; i++) {
        int a = rid(roles, golden_conflicts[i].a), b = rid(roles, golden_conflicts[i].b);
        expected[a] |= 1u << b;
        expected[b] |= 1u << a;
        const char *violation = NULL;
        assert_int_equal(fg_roles_check_assignment(roles, (1u << a) | (1u << b), &violation),
                         FG_ERR_POLICY);
        assert_string_equal(violation, golden_conflicts[i].reason);
        /* refused whatever else the mask holds */
        assert_int_equal(fg_roles_check_assignment(roles, (1u << n) - 1u, &violation),
                         FG_ERR_POLICY);
        assert_non_null(violation);
    }
    /* every other pair is allowed; the relation is exactly the golden one */
    size_t allowed = 0;
    for (int a = 0; a < n; a++) {
        assert_int_equal(fg_roles_conflict_mask(roles, a), expected[a]);
        for (int b = a; b < n; b++) {
            const char *violation = "unset";
            fg_rc rc = fg_roles_check_assignment(roles, (1u << a) | (1u << b), &violation);
            if (expected[a] & (1u << b)) {
                assert_int_equal(rc, FG_ERR_POLICY);
            } else {
                assert_int_equal(rc, FG_OK);
                assert_null(violation);
                allowed += a != b;
            }
        }
    }
    assert_int_equal(allowed, (size_t)n * (size_t)(n - 1) / 2 - NCONFLICTS);
    fg_roles_free(roles);
}

static void test_allowed_combinations(void **state)
{
    (void)state;
    struct fg_roles *roles = load_shipped();
    const char *violation = "unset";
    assert_int_equal(fg_roles_check_assignment(roles, 0, &violation), FG_OK);
    assert_null(violation);
    for (size_t i = 0; i < NROLES; i++)
        assert_int_equal(fg_roles_check_assignment(roles, 1u << i, NULL), FG_OK);
    /* an outsourced teller, an external auditor, an officer who also checks */
    uint32_t vendor = bit(roles, "vendor");
    assert_int_equal(fg_roles_check_assignment(roles, vendor | bit(roles, "teller"), NULL), FG_OK);
    assert_int_equal(fg_roles_check_assignment(roles, vendor | bit(roles, "auditor"), NULL), FG_OK);
    assert_int_equal(fg_roles_check_assignment(
                         roles, bit(roles, "security_officer") | bit(roles, "supervisor"), NULL),
                     FG_OK);
    assert_int_equal(
        fg_roles_check_assignment(
            roles, vendor | bit(roles, "security_officer") | bit(roles, "supervisor"), NULL),
        FG_OK);
    /* a mask bit without a role */
    violation = NULL;
    assert_int_equal(fg_roles_check_assignment(roles, 1u << 31, &violation), FG_ERR_INVALID);
    assert_non_null(violation);
    assert_int_equal(fg_roles_check_assignment(roles, 1u << fg_roles_role_count(roles), NULL),
                     FG_ERR_INVALID);
    fg_roles_free(roles);
}

static void test_queries(void **state)
{
    (void)state;
    struct fg_roles *roles = load_shipped();
    int id = 7;
    assert_int_equal(fg_roles_role_id(roles, "root", &id), FG_ERR_NOT_FOUND);
    assert_int_equal(id, -1);
    assert_int_equal(fg_roles_perm_id(roles, "keys.reed", &id), FG_ERR_NOT_FOUND);
    assert_int_equal(fg_roles_perm_id(roles, "", &id), FG_ERR_NOT_FOUND);
    uint32_t teller = bit(roles, "teller"), vendor = bit(roles, "vendor");
    uint32_t customer = bit(roles, "customer");
    assert_false(fg_roles_has(roles, teller, "no.such"));
    assert_false(fg_roles_has(roles, 0, "self.password"));
    assert_false(
        fg_roles_has(roles, 1u << 31, "self.password")); /* bits without roles grant nothing */
    assert_false(fg_roles_can_approve(roles, bit(roles, "supervisor"), "nothing"));
    char long_class[2 * FG_ROLES_PERM_NAME_MAX];
    memset(long_class, 'x', sizeof long_class - 1);
    long_class[sizeof long_class - 1] = '\0';
    assert_false(fg_roles_can_approve(roles, UINT32_MAX, long_class));
    /* staff, MFA and expiry over masks */
    assert_false(fg_roles_is_staff(roles, customer));
    assert_true(fg_roles_is_staff(roles, teller | vendor));
    assert_false(fg_roles_is_staff(roles, 0));
    assert_false(fg_roles_mfa_required(roles, customer));
    assert_true(fg_roles_mfa_required(roles, teller));
    assert_int_equal(fg_roles_mask_expiry_rule(roles, 0), FG_ROLES_EXPIRES_OPTIONAL);
    assert_int_equal(fg_roles_mask_expiry_rule(roles, teller), FG_ROLES_EXPIRES_OPTIONAL);
    assert_int_equal(fg_roles_mask_expiry_rule(roles, teller | vendor), FG_ROLES_EXPIRES_REQUIRED);
    assert_int_equal(fg_roles_mask_expiry_rule(roles, customer), FG_ROLES_EXPIRES_FORBIDDEN);
    fg_roles_free(roles);
}

/* ---- small files ---------------------------------------------------------------------- */

/* The YAML below is laid out one file line per literal, with the line number in a comment
 * where an error is expected, so the expectations can be checked by eye. */
/* clang-format off */

/* A valid minimal file; the broken ones below are variations of it. */
static const char minimal[] =
    "permissions:\n"                                                     /* 1 */
    "  a.read: {access: read, description: Read a}\n"                    /* 2 */
    "  a.write: {access: write, description: Write a}\n"                 /* 3 */
    "  self.password: {access: self, description: Own password}\n"       /* 4 */
    "roles:\n"                                                           /* 5 */
    "  clerk:\n"                                                         /* 6 */
    "    description: Clerk\n"                                           /* 7 */
    "    staff: true\n"                                                  /* 8 */
    "    mfa: required\n"                                                /* 9 */
    "    expires: optional\n"                                            /* 10 */
    "    permissions: [a.read, a.write, self.password]\n"                /* 11 */
    "  auditor:\n"                                                       /* 12 */
    "    description: Auditor\n"                                         /* 13 */
    "    staff: true\n"                                                  /* 14 */
    "    mfa: required\n"                                                /* 15 */
    "    expires: optional\n"                                            /* 16 */
    "    permissions:\n"                                                 /* 17 */
    "      - a.read\n"                                                   /* 18 */
    "constraints:\n"                                                     /* 19 */
    "  read_only: [auditor]\n"                                           /* 20 */
    "  requester_never_approves: true\n";                                /* 21 */

static void test_minimal(void **state)
{
    (void)state;
    struct fg_roles *roles = expect_ok(minimal);
    assert_int_equal(fg_roles_role_count(roles), 2);
    assert_int_equal(fg_roles_perm_count(roles), 3);
    const char *violation = NULL;
    assert_int_equal(fg_roles_check_assignment(roles, 3u, &violation), FG_ERR_POLICY);
    assert_string_equal(violation,
                        "auditor+clerk: auditor is read-only, clerk holds a.write "
                        "(constraints.read_only)");
    /* errors may be NULL; the text need not be NUL-terminated */
    struct fg_roles *again = NULL;
    assert_int_equal(fg_roles_load(minimal, sizeof minimal - 1, "t", &again, NULL), FG_OK);
    fg_roles_free(again);
    fg_roles_free(roles);
}

static void test_unknown_permission(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  a.read: {access: read, description: Read a}\n"
                  "  a.write: {access: write, description: Write a}\n"
                  "roles:\n"
                  "  clerk:\n"
                  "    description: Clerk\n"
                  "    staff: true\n"
                  "    mfa: required\n"
                  "    expires: optional\n"
                  "    permissions:\n"
                  "      - a.read\n"
                  "      - a.wirte\n" /* 12 */
                  "constraints:\n"
                  "  requester_never_approves: true\n",
                  "t.yaml:3: permission 'a.write' is held by no role (grant it, or mark it "
                  "unused: true)\n"
                  "t.yaml:12: role 'clerk': unknown permission 'a.wirte'\n");
}

static void test_duplicates(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  a.read: {access: read, description: Read a}\n"
                  "  a.read: {access: read, description: Read a again}\n" /* 3 */
                  "roles:\n"
                  "  clerk:\n"
                  "    description: Clerk\n"
                  "    staff: true\n"
                  "    mfa: required\n"
                  "    expires: optional\n"
                  "    permissions: [a.read]\n"
                  "    staff: false\n" /* 11 */
                  "  clerk:\n"         /* 12 */
                  "    description: Clerk again\n"
                  "constraints:\n"
                  "  exclusive:\n"
                  "    - [clerk, auditor]\n"
                  "  requester_never_approves: true\n"
                  "  requester_never_approves: true\n", /* 18 */
                  "t.yaml:3: duplicate permission 'a.read' (first defined on line 2)\n"
                  "t.yaml:11: role 'clerk': duplicate key 'staff' (first on line 7)\n"
                  "t.yaml:12: duplicate role 'clerk' (first defined on line 5)\n"
                  "t.yaml:16: constraints.exclusive: unknown role 'auditor'\n"
                  "t.yaml:18: constraints: duplicate key 'requester_never_approves' (first on "
                  "line 17)\n");
    /* a permission listed twice by one role, a pair given twice */
    expect_errors("permissions:\n"
                  "  a.read: {access: read, description: Read a}\n"
                  "roles:\n"
                  "  one: {description: One, staff: false, mfa: optional, expires: optional,\n"
                  "        permissions: [a.read, a.read]}\n" /* 5 */
                  "  two: {description: Two, staff: false, mfa: optional, expires: optional,\n"
                  "        permissions: []}\n"
                  "constraints:\n"
                  "  exclusive:\n"
                  "    - [one, two]\n"
                  "    - [two, one]\n" /* 11 */
                  "  requester_never_approves: true\n",
                  "t.yaml:5: role 'one': permission 'a.read' listed twice (first on line 5)\n"
                  "t.yaml:11: constraints.exclusive: pair repeated (first on line 10)\n");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  a.read: {access: read, description: Read a, colour: red}\n" /* 2 */
                  "roles:\n"
                  "  clerk:\n"
                  "    description: Clerk\n"
                  "    staff: false\n"
                  "    mfa: optional\n"
                  "    expires: optional\n"
                  "    permissions: [a.read]\n"
                  "    inherits: teller\n" /* 10 */
                  "constraints:\n"
                  "  requester_never_approves: true\n"
                  "  four_eyes: true\n" /* 13 */
                  "version: 2\n",       /* 14 */
                  "t.yaml:2: permission 'a.read': unknown key 'colour'\n"
                  "t.yaml:10: role 'clerk': unknown key 'inherits'\n"
                  "t.yaml:13: constraints: unknown key 'four_eyes'\n"
                  "t.yaml:14: top level: unknown key 'version'\n");
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  a.read: {access: reed, description: [Read a]}\n" /* 2 */
                  "  a.write: Write a\n"                              /* 3 */
                  "roles:\n"
                  "  clerk:\n"
                  "    description:\n"    /* 6 */
                  "    staff: \"true\"\n" /* 7 */
                  "    mfa: [required]\n" /* 8 */
                  "    expires: 2030\n"   /* 9 */
                  "    permissions: a.read\n" /* 10 */
                  "  other: just a string\n"  /* 11 */
                  "constraints:\n"
                  "  read_only: auditor\n"          /* 13 */
                  "  staff_separate: 1\n"           /* 14 */
                  "  exclusive: [clerk, other]\n"   /* 15 */
                  "  requester_never_approves: yes\n", /* 16 */
                  "t.yaml:2: permission 'a.read': access must be one of read, write, self, not "
                  "'reed'\n"
                  "t.yaml:2: permission 'a.read': description must be text, not a list\n"
                  "t.yaml:3: permission 'a.write' must be a mapping {access: ..., description: "
                  "...}, not a scalar\n"
                  "t.yaml:6: role 'clerk': description must be text, not nothing\n"
                  "t.yaml:7: role 'clerk': staff must be true or false, not the string \"true\"\n"
                  "t.yaml:8: role 'clerk': mfa must be one of required, optional, not a list\n"
                  "t.yaml:9: role 'clerk': expires must be one of required, forbidden, optional, "
                  "not '2030'\n"
                  "t.yaml:10: role 'clerk': permissions must be a list of permission names, not a "
                  "scalar\n"
                  "t.yaml:11: role 'other' must be a mapping {description, staff, mfa, expires, "
                  "permissions}, not a scalar\n"
                  "t.yaml:13: constraints.read_only must be a list of role names, not a scalar\n"
                  "t.yaml:14: constraints: staff_separate must be true or false, not '1'\n"
                  "t.yaml:15: constraints.exclusive: each entry must be a pair [a, b]\n"
                  "t.yaml:15: constraints.exclusive: each entry must be a pair [a, b]\n"
                  "t.yaml:16: constraints: requester_never_approves must be true or false, not "
                  "'yes'\n");
}

static void test_missing(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  a.read: {description: Read a}\n" /* 2 */
                  "roles:\n"
                  "  clerk:\n" /* 4 */
                  "    staff: false\n"
                  "    permissions: [a.read]\n"
                  "constraints: {}\n", /* 7 */
                  "t.yaml:2: permission 'a.read': missing 'access' (read, write or self)\n"
                  "t.yaml:4: role 'clerk': missing 'description'\n"
                  "t.yaml:4: role 'clerk': missing 'mfa'\n"
                  "t.yaml:4: role 'clerk': missing 'expires'\n"
                  "t.yaml:7: constraints: missing 'requester_never_approves: true' (GOV-2)\n");
    expect_errors("roles: {}\n", "t.yaml:1: missing section 'permissions'\n"
                                 "t.yaml:1: missing section 'constraints'\n");
    expect_errors("- permissions\n- roles\n",
                  "t.yaml:1: the roles file must be a mapping with permissions, roles and "
                  "constraints\n");
    expect_errors("", "t.yaml:1: the roles file must be a mapping with permissions, roles and "
                      "constraints\n");
    expect_errors("# only a comment\n",
                  "t.yaml:1: the roles file must be a mapping with permissions, roles and "
                  "constraints\n");
    expect_errors("permissions: []\nroles: []\nconstraints: []\n",
                  "t.yaml:1: permissions must be a mapping of name: {access, description}, not a "
                  "list\n"
                  "t.yaml:2: roles must be a mapping of name: {...}, not a list\n"
                  "t.yaml:3: constraints must be a mapping, not a list\n");
}

static void test_unknown_role_in_constraint(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  a.read: {access: read, description: Read a}\n"
                  "roles:\n"
                  "  clerk: {description: Clerk, staff: false, mfa: optional, expires: optional,\n"
                  "          permissions: [a.read]}\n"
                  "constraints:\n"
                  "  exclusive:\n"
                  "    - [clerk, ghost]\n"   /* 8 */
                  "  exclusive_permissions:\n"
                  "    - [a.read, a.write]\n" /* 10 */
                  "  read_only: [clerk, spectre, clerk]\n" /* 11 */
                  "  alone: [phantom]\n"    /* 12 */
                  "  requester_never_approves: true\n",
                  "t.yaml:8: constraints.exclusive: unknown role 'ghost'\n"
                  "t.yaml:10: constraints.exclusive_permissions: unknown permission 'a.write'\n"
                  "t.yaml:11: constraints.read_only: unknown role 'spectre'\n"
                  "t.yaml:11: constraints.read_only: role 'clerk' listed twice\n"
                  "t.yaml:12: constraints.alone: unknown role 'phantom'\n");
}

static void test_constraint_violated_by_definitions(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  users.roles: {access: write, description: Grant roles}\n"
                  "  audit.read: {access: read, description: Read audit}\n"
                  "roles:\n"
                  "  admin:\n"
                  "    description: Administers and audits (wrongly)\n"
                  "    staff: true\n"
                  "    mfa: required\n"
                  "    expires: optional\n"
                  "    permissions: [users.roles, audit.read]\n"
                  "constraints:\n"
                  "  exclusive:\n"
                  "    - [admin, admin]\n" /* 13 */
                  "  exclusive_permissions:\n"
                  "    - [users.roles, audit.read]\n" /* 15 */
                  "  requester_never_approves: true\n",
                  "t.yaml:13: constraints.exclusive: 'admin' paired with itself: every holder "
                  "would violate it\n"
                  "t.yaml:15: constraints.exclusive_permissions: role 'admin' holds both "
                  "'users.roles' and 'audit.read'\n");
    /* requester_never_approves cannot be switched off */
    expect_errors("permissions: {}\nroles: {}\nconstraints:\n  requester_never_approves: false\n",
                  "t.yaml:4: constraints: requester_never_approves cannot be turned off (GOV-2)\n");
}

static void test_auditor_holding_write(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  a.read: {access: read, description: Read a}\n"
                  "  a.write: {access: write, description: Write a}\n"
                  "roles:\n"
                  "  auditor:\n"
                  "    description: Auditor\n"
                  "    staff: true\n"
                  "    mfa: required\n"
                  "    expires: optional\n"
                  "    permissions:\n"
                  "      - a.read\n"
                  "      - a.write\n" /* 12 */
                  "constraints:\n"
                  "  read_only: [auditor]\n"
                  "  requester_never_approves: true\n",
                  "t.yaml:12: role 'auditor' is read-only (constraints.read_only) but holds write "
                  "permission 'a.write'\n");
    /* the auditor cannot be taken off the read-only list */
    expect_errors("permissions:\n"
                  "  a.read: {access: read, description: Read a}\n"
                  "roles:\n"
                  "  auditor:\n" /* 4 */
                  "    description: Auditor\n"
                  "    staff: true\n"
                  "    mfa: required\n"
                  "    expires: optional\n"
                  "    permissions: [a.read]\n"
                  "constraints:\n"
                  "  requester_never_approves: true\n",
                  "t.yaml:4: role 'auditor' must be listed in constraints.read_only (IAM-7, "
                  "AUD-4)\n");
}

static void test_bad_names(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  Keys.Read: {access: read, description: x}\n" /* 2 */
                  "  keys: {access: read, description: x}\n"     /* 3 */
                  "  keys..read: {access: read, description: x}\n" /* 4 */
                  "  keys.read.: {access: read, description: x}\n" /* 5 */
                  "  \"keys.r\\u00e9ad\": {access: read, description: x}\n" /* 6 */
                  "  ? [a, b]\n"                                  /* 7 */
                  "  : {access: read, description: x}\n"
                  "  a.b: {access: read, description: Fine}\n"
                  "roles:\n"
                  /* 11 */ "  Teller: {description: x, staff: false, mfa: optional,\n"
                  "           expires: optional, permissions: [a.b]}\n"
                  /* 13 */ "  teller-1: {description: x, staff: false, mfa: optional,\n"
                  "             expires: optional, permissions: [a.b]}\n"
                  /* 15 */ "  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: {description: x, staff: false,\n"
                  "      mfa: optional, expires: optional, permissions: [a.b]}\n"
                  "  ok: {description: x, staff: false, mfa: optional, expires: optional,\n"
                  "       permissions: [a.b]}\n"
                  "constraints:\n"
                  "  requester_never_approves: true\n",
                  "t.yaml:2: bad permission name 'Keys.Read': expected lower-case words joined by "
                  "dots (keys.read)\n"
                  "t.yaml:3: bad permission name 'keys': expected lower-case words joined by dots "
                  "(keys.read)\n"
                  "t.yaml:4: bad permission name 'keys..read': expected lower-case words joined by "
                  "dots (keys.read)\n"
                  "t.yaml:5: bad permission name 'keys.read.': expected lower-case words joined by "
                  "dots (keys.read)\n"
                  "t.yaml:6: bad permission name 'keys.r\xc3\xa9" "ad': expected lower-case words "
                  "joined by dots (keys.read)\n"
                  "t.yaml:7: a permission name must be a name, not a list\n"
                  "t.yaml:11: bad role name 'Teller': expected a lower-case word "
                  "([a-z][a-z0-9_]*)\n"
                  "t.yaml:13: bad role name 'teller-1': expected a lower-case word "
                  "([a-z][a-z0-9_]*)\n"
                  "t.yaml:15: role name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is longer than 32 "
                  "bytes\n");
}

static void test_catalog_rules(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  self.password: {access: write, description: Own password}\n" /* 2 */
                  "  users.roles: {access: self, description: Sneaky}\n"          /* 3 */
                  "  approve.roles: {access: read, description: Approve}\n"       /* 4 */
                  "  a.read: {access: read, description: Read a, unused: true}\n" /* 5 */
                  "  a.spare: {access: read, description: Spare, unused: true}\n"
                  "  a.lost: {access: read, description: Nobody holds it}\n" /* 7 */
                  "roles:\n"
                  "  clerk:\n"
                  "    description: Clerk\n"
                  "    staff: true\n"
                  "    mfa: optional\n" /* 12 */
                  "    expires: optional\n"
                  "    permissions:\n"
                  "      - self.password\n"
                  "      - users.roles\n"
                  "      - approve.roles\n"
                  "      - a.read\n" /* 18 */
                  "constraints:\n"
                  "  requester_never_approves: true\n",
                  "t.yaml:2: permission 'self.password': access self is for self.* permissions and "
                  "only for them\n"
                  "t.yaml:3: permission 'users.roles': access self is for self.* permissions and "
                  "only for them\n"
                  "t.yaml:4: permission 'approve.roles': approving changes state, so access must "
                  "be write\n"
                  "t.yaml:7: permission 'a.lost' is held by no role (grant it, or mark it unused: "
                  "true)\n"
                  "t.yaml:12: role 'clerk': a staff role must have mfa: required (IAM-3)\n"
                  "t.yaml:18: role 'clerk' holds permission 'a.read', which the catalog marks "
                  "unused\n");
}

static void test_yaml_level(void **state)
{
    (void)state;
    expect_errors("permissions: {a.read: {access: read\n"
                  "roles: {}\n",
                  "t.yaml:2: YAML syntax error: did not find expected ',' or '}' while parsing a "
                  "flow mapping\n");
    expect_errors("permissions: &p {}\n"
                  "roles: !!map {}\n"
                  "constraints: *p\n",
                  "t.yaml:1: YAML anchors are not allowed in the roles file\n"
                  "t.yaml:2: YAML tags are not allowed in the roles file\n"
                  "t.yaml:3: YAML aliases are not allowed in the roles file\n"
                  "t.yaml:3: constraints must be a mapping, not nothing\n");
    expect_errors("permissions: {}\nroles: {}\nconstraints: {requester_never_approves: true}\n"
                  "---\n"
                  "roles: {}\n",
                  "t.yaml:4: only one YAML document is allowed\n");
    expect_errors("permissions: {a: {b: [[[[[[1]]]]]]}}\n",
                  "t.yaml:1: nested deeper than 8 levels (FG_ROLES_YAML_DEPTH_MAX)\n");
    expect_errors("permissions: {}\nroles: {}\nconstraints: {requester_never_approves: true}\n"
                  "\x01\n",
                  "t.yaml:4: YAML syntax error: control characters are not allowed\n");
}

/* Five different mistakes in one file: every one is reported, in line order. */
static void test_five_errors(void **state)
{
    (void)state;
    expect_errors("permissions:\n"
                  "  a.read: {access: read, description: Read a}\n"
                  "  a.write: {access: write, description: Write a}\n"
                  "roles:\n"
                  "  clerk:\n"
                  "    description: Clerk\n"
                  "    staff: yes\n" /* 7: wrong type */
                  "    mfa: required\n"
                  "    expires: optional\n"
                  "    permissions:\n"
                  "      - a.read\n"
                  "      - a.write\n"
                  "      - a.delete\n" /* 13: unknown permission */
                  "    colour: blue\n" /* 14: unknown key */
                  "  clerk:\n"         /* 15: duplicate role */
                  "    description: Clerk again\n"
                  "constraints:\n"
                  "  exclusive:\n"
                  "    - [clerk, manager]\n" /* 19: unknown role */
                  "  requester_never_approves: true\n",
                  "t.yaml:7: role 'clerk': staff must be true or false, not 'yes'\n"
                  "t.yaml:13: role 'clerk': unknown permission 'a.delete'\n"
                  "t.yaml:14: role 'clerk': unknown key 'colour'\n"
                  "t.yaml:15: duplicate role 'clerk' (first defined on line 5)\n"
                  "t.yaml:19: constraints.exclusive: unknown role 'manager'\n");
}

/* clang-format on */

/* ---- limits --------------------------------------------------------------------------- */

static char *generated(size_t roles_n, size_t perms_n, const char *extra)
{
    struct fg_buf b = FG_BUF_INIT(FG_ROLES_FILE_MAX);
    assert_int_equal(fg_buf_append_str(&b, "permissions:\n"), FG_OK);
    for (size_t i = 0; i < perms_n; i++)
        assert_int_equal(fg_buf_appendf(&b, "  p.n%zu: {access: read, description: P%s}\n", i,
                                        i > 0 ? ", unused: true" : ""),
                         FG_OK);
    assert_int_equal(fg_buf_append_str(&b, "roles:\n"), FG_OK);
    for (size_t i = 0; i < roles_n; i++)
        assert_int_equal(fg_buf_appendf(&b,
                                        "  r%zu: {description: R, staff: false, mfa: optional, "
                                        "expires: optional, permissions: [p.n0]}\n",
                                        i),
                         FG_OK);
    assert_int_equal(
        fg_buf_appendf(&b, "constraints:\n  requester_never_approves: true\n%s", extra), FG_OK);
    char *text = strdup(fg_buf_str(&b));
    assert_non_null(text);
    fg_buf_release(&b);
    return text;
}

static void test_limits(void **state)
{
    (void)state;
    /* exactly at the limits: loads, and every permission is reachable */
    char *text = generated(FG_ROLES_MAX, FG_ROLES_PERMISSIONS_MAX, "");
    struct fg_roles *roles = expect_ok(text);
    assert_int_equal(fg_roles_role_count(roles), FG_ROLES_MAX);
    assert_int_equal(fg_roles_perm_count(roles), FG_ROLES_PERMISSIONS_MAX);
    int last = -1;
    assert_int_equal(fg_roles_perm_id(roles, "p.n255", &last), FG_OK);
    assert_int_equal(last, FG_ROLES_PERMISSIONS_MAX - 1);
    assert_true(fg_roles_has(roles, 1u << 31, "p.n0"));
    assert_int_equal(fg_roles_check_assignment(roles, UINT32_MAX, NULL), FG_OK);
    fg_roles_free(roles);
    free(text);
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);

    /* one past: 33 roles, 257 permissions */
    text = generated(FG_ROLES_MAX + 1, 1, "");
    expect_errors(text, "t.yaml:36: more than 32 roles (FG_ROLES_MAX: a role mask has 32 bits)\n");
    free(text);
    text = generated(1, FG_ROLES_PERMISSIONS_MAX + 1, "");
    fg_buf_reset(&errors);
    assert_int_equal(fg_roles_load(text, strlen(text), "t.yaml", &roles, &errors), FG_ERR_CONFIG);
    assert_non_null(strstr(fg_buf_str(&errors),
                           "t.yaml:258: more than 256 permissions (FG_ROLES_PERMISSIONS_MAX)\n"));
    free(text);

    /* the file size */
    size_t big_len = FG_ROLES_FILE_MAX + 1;
    char *big = malloc(big_len);
    assert_non_null(big);
    memset(big, '#', big_len);
    fg_buf_reset(&errors);
    roles = (struct fg_roles *)big;
    assert_int_equal(fg_roles_load(big, big_len, "t.yaml", &roles, &errors), FG_ERR_TOO_LARGE);
    assert_null(roles);
    assert_string_equal(
        fg_buf_str(&errors),
        "t.yaml:1: the roles file is larger than 262144 bytes (FG_ROLES_FILE_MAX)\n");
    free(big);

    /* a description longer than one line allows */
    char desc[FG_ROLES_DESCRIPTION_MAX + 2];
    memset(desc, 'd', sizeof desc - 1);
    desc[sizeof desc - 1] = '\0';
    char line[512];
    snprintf(line, sizeof line, "permissions:\n  a.b: {access: read, description: %s}\n", desc);
    fg_buf_reset(&errors);
    assert_int_equal(fg_roles_load(line, strlen(line), "t.yaml", &roles, &errors), FG_ERR_CONFIG);
    assert_non_null(strstr(fg_buf_str(&errors),
                           "t.yaml:2: permission 'a.b': description is longer than 200 bytes "
                           "(FG_ROLES_DESCRIPTION_MAX)\n"));
    /* a two-line description */
    expect_errors("permissions:\n  a.b: {access: read, description: \"one\\ntwo\"}\n"
                  "roles: {r: {description: R, staff: false, mfa: optional, expires: optional,"
                  " permissions: [a.b]}}\n"
                  "constraints: {requester_never_approves: true}\n",
                  "t.yaml:2: permission 'a.b': description must be one line without control "
                  "characters\n");

    /* the node count */
    struct fg_buf nodes = FG_BUF_INIT(FG_ROLES_FILE_MAX);
    assert_int_equal(fg_buf_append_str(&nodes, "x: ["), FG_OK);
    for (size_t i = 0; i < FG_ROLES_YAML_NODES_MAX; i++)
        assert_int_equal(fg_buf_append_str(&nodes, "1,"), FG_OK);
    assert_int_equal(fg_buf_append_str(&nodes, "1]\n"), FG_OK);
    expect_errors(fg_buf_str(&nodes),
                  "t.yaml:1: more than 32768 YAML nodes (FG_ROLES_YAML_NODES_MAX)\n");
    fg_buf_release(&nodes);
    fg_buf_release(&errors);
}

/* More errors than FG_ROLES_ERRORS_MAX: the rest are counted; a full buffer cuts the text
 * but not the verdict. */
static void test_many_errors(void **state)
{
    (void)state;
    struct fg_buf b = FG_BUF_INIT(FG_ROLES_FILE_MAX);
    assert_int_equal(fg_buf_append_str(&b, "permissions:\n"), FG_OK);
    for (size_t i = 0; i < FG_ROLES_ERRORS_MAX + 20; i++)
        assert_int_equal(fg_buf_appendf(&b, "  Bad%zu: {}\n", i), FG_OK);
    assert_int_equal(
        fg_buf_append_str(&b, "roles: {}\nconstraints: {requester_never_approves: true}\n"), FG_OK);
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    struct fg_roles *roles = NULL;
    assert_int_equal(fg_roles_load(fg_buf_str(&b), b.len, "t.yaml", &roles, &errors),
                     FG_ERR_CONFIG);
    size_t lines = 0;
    for (const char *c = fg_buf_str(&errors); *c != '\0'; c++)
        lines += *c == '\n';
    assert_int_equal(lines, FG_ROLES_ERRORS_MAX + 1);
    assert_non_null(strstr(fg_buf_str(&errors), "t.yaml: 20 more errors not shown"));

    struct fg_buf tiny = FG_BUF_INIT(100);
    assert_int_equal(fg_roles_load(fg_buf_str(&b), b.len, "t.yaml", &roles, &tiny), FG_ERR_CONFIG);
    assert_null(roles);
    assert_true(tiny.len <= 100);
    assert_int_equal(fg_roles_load(fg_buf_str(&b), b.len, "t.yaml", &roles, NULL), FG_ERR_CONFIG);
    fg_buf_release(&tiny);
    fg_buf_release(&errors);
    fg_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_loads),
        cmocka_unit_test(test_golden_catalog),
        cmocka_unit_test(test_golden_roles),
        cmocka_unit_test(test_every_permission_used),
        cmocka_unit_test(test_least_privilege),
        cmocka_unit_test(test_auditor_read_only),
        cmocka_unit_test(test_exclusive_pairs),
        cmocka_unit_test(test_allowed_combinations),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_unknown_permission),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_unknown_role_in_constraint),
        cmocka_unit_test(test_constraint_violated_by_definitions),
        cmocka_unit_test(test_auditor_holding_write),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_catalog_rules),
        cmocka_unit_test(test_yaml_level),
        cmocka_unit_test(test_five_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_many_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
