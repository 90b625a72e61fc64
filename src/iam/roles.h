/*
 * roles.h — roles, permissions and separation of duties, loaded from data (GOV-1).
 *
 * The role model lives in data/roles.yaml (embedded in the binary; docs/roles.md explains
 * it): a catalog of permissions, a set of roles that each hold some of them, and
 * constraints that say which roles never meet in one user (GOV-2, IAM-7). This module
 * parses and validates that file and answers the questions the rest of finguard asks:
 * "may this user do X?", "may this user hold these roles?", "may this user approve a
 * request of class C?".
 *
 * Representation. Roles get ids 0..FG_ROLES_MAX-1 in file order; a user's roles are a
 * uint32_t mask with bit (1u << id) per role, which is what the user store keeps.
 * Permissions get ids 0..FG_ROLES_PERMISSIONS_MAX-1 in catalog order. Ids are stable for
 * one loaded file only: store role *names* (or re-map masks by name) if the file can
 * change between runs. Mask bits without a role grant nothing.
 *
 * Loading. fg_roles_load() checks everything and reports every error it finds (not just
 * the first), one per line, as "origin:LINE: message", sorted by line, into the caller's
 * buffer (the last line may be cut when the buffer is full). A YAML syntax error ends the
 * parse and is the only error. Checked: YAML shape (a mapping of the sections, the right
 * type for every value — `true` is a boolean, `"true"` a string), unknown and duplicate
 * keys, names (roles: [a-z][a-z0-9_]*; permissions: two or more such parts joined by
 * dots), limits, duplicate roles and permissions, unknown permissions in roles, unknown
 * roles and permissions in constraints, catalog coherence (self.* ⇔ access self,
 * approve.* is write, a permission is held by some role unless marked `unused: true` and
 * then by none), staff roles require MFA (IAM-3), and the constraints against the role
 * definitions themselves: a role exclusive with itself, a read-only role holding a write
 * permission, a role holding both permissions of an exclusive duty pair, `auditor` not
 * read-only, requester_never_approves not true. Aliases and anchors are refused (no
 * expansion attacks). The file is limited to FG_ROLES_FILE_MAX bytes.
 *
 * Separation of duties: the constraints become one symmetric "never together" relation
 * between roles, each pair with a text naming it: explicit exclusive pairs; exclusive
 * permission pairs (role A holds one, role B the other); every read-only role with every
 * role holding a write permission; every `alone` role with every other role; with
 * staff_separate, every staff role with every non-staff role; a role whose expiry is
 * required with one where it is forbidden. fg_roles_check_assignment() refuses a mask that
 * contains such a pair.
 *
 * Ownership and threads: a loaded struct fg_roles is immutable, owns all its strings, and
 * may be read from any number of threads at once without locking. Strings returned by
 * the accessors live as long as it. fg_roles_free() frees it (NULL is fine).
 *
 * Errors: invalid content → FG_ERR_CONFIG (with the error lines); text longer than
 * FG_ROLES_FILE_MAX → FG_ERR_TOO_LARGE (with one error line); FG_ERR_NOMEM. Lookups by
 * name return FG_ERR_NOT_FOUND for a name that is not defined.
 */
#ifndef FG_IAM_ROLES_H
#define FG_IAM_ROLES_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/rc.h"

/* ---- limits (named here, next to the representation they follow from) ------------------ */
/* Roles in the file: a user's roles are one uint32_t mask, one bit per role. */
#define FG_ROLES_MAX 32u
/* Permissions in the catalog: the API has about fifty; five times that is still a table
 * people can review, and it keeps the per-role bitsets at 32 bytes. */
#define FG_ROLES_PERMISSIONS_MAX 256u
/* Bytes of the roles file: the shipped one is about 13 KiB. */
#define FG_ROLES_FILE_MAX (256u * 1024u)
/* Bytes of a role name / permission name (without the NUL): names appear in audit records,
 * logs and approval requests, and must stay short. */
#define FG_ROLES_ROLE_NAME_MAX 32u
#define FG_ROLES_PERM_NAME_MAX 64u
/* Bytes of a description: one line for a table or a form. */
#define FG_ROLES_DESCRIPTION_MAX 200u
/* Entries of one constraint list (exclusive pairs, read_only, ...): 32 roles have 496
 * pairs; a list longer than this is not reviewable anyway. */
#define FG_ROLES_CONSTRAINT_ENTRIES_MAX 512u
/* Nesting depth of the YAML: the format needs 4 (root, section, role, permission list). */
#define FG_ROLES_YAML_DEPTH_MAX 8u
/* YAML nodes (scalars, sequences, mappings) in the file: the shipped file has ~600. */
#define FG_ROLES_YAML_NODES_MAX 32768u
/* Errors reported by one load; later ones are counted in a last line. */
#define FG_ROLES_ERRORS_MAX 100u

/* What a user whose mask holds a role must have as an account expiry. */
enum fg_roles_expiry {
    FG_ROLES_EXPIRES_OPTIONAL = 0, /* expires_at may be given */
    FG_ROLES_EXPIRES_REQUIRED = 1, /* expires_at must be given (vendor, IAM-6) */
    FG_ROLES_EXPIRES_FORBIDDEN = 2 /* expires_at must not be given (customer) */
};

/* What a permission does, from the catalog's `access` key. */
enum fg_roles_access {
    FG_ROLES_ACCESS_READ = 0,  /* observes only */
    FG_ROLES_ACCESS_WRITE = 1, /* changes state */
    FG_ROLES_ACCESS_SELF = 2   /* acts only on the caller's own credentials or session */
};

struct fg_roles;

/* Parse and validate a roles file. text need not be NUL-terminated; origin names it in
 * error lines ("data/roles.yaml"). errors may be NULL (nothing reported). On success *out
 * owns the result; on failure *out is NULL. */
FG_MUST_CHECK fg_rc fg_roles_load(const char *text, size_t len, const char *origin,
                                  struct fg_roles **out, struct fg_buf *errors);
/* fg_roles_load() of the embedded data/roles.yaml (origin "roles.yaml"); FG_ERR_NOT_FOUND
 * if the binary has none. */
FG_MUST_CHECK fg_rc fg_roles_load_default(struct fg_roles **out, struct fg_buf *errors);
void fg_roles_free(struct fg_roles *roles);

/* ---- roles ---------------------------------------------------------------------------- */
/* Number of roles; ids are 0..count-1 and the mask bit of role id is (1u << id). */
int fg_roles_role_count(const struct fg_roles *roles);
/* Id of a role by name; FG_ERR_NOT_FOUND if there is none. */
FG_MUST_CHECK fg_rc fg_roles_role_id(const struct fg_roles *roles, const char *name, int *id);
/* Name / description of role id (0 ≤ id < count, asserted). */
const char *fg_roles_role_name(const struct fg_roles *roles, int id);
const char *fg_roles_role_description(const struct fg_roles *roles, int id);
/* Expiry rule of role id. */
enum fg_roles_expiry fg_roles_expiry_rule(const struct fg_roles *roles, int id);
/* Expiry rule of a whole mask: REQUIRED if any role requires it, else FORBIDDEN if any
 * forbids it, else OPTIONAL (an assignment that passes the check never has both). */
enum fg_roles_expiry fg_roles_mask_expiry_rule(const struct fg_roles *roles, uint32_t mask);
/* 1 if any role of mask is a staff role. */
int fg_roles_is_staff(const struct fg_roles *roles, uint32_t mask);
/* 1 if any role of mask requires a second factor. */
int fg_roles_mfa_required(const struct fg_roles *roles, uint32_t mask);

/* ---- permissions ---------------------------------------------------------------------- */
/* Number of permissions; ids are 0..count-1 in catalog order. */
int fg_roles_perm_count(const struct fg_roles *roles);
/* Id of a permission by name (binary search); FG_ERR_NOT_FOUND if there is none. */
FG_MUST_CHECK fg_rc fg_roles_perm_id(const struct fg_roles *roles, const char *name, int *id);
/* Name, description, access class, `unused` flag of permission id (asserted in range). */
const char *fg_roles_perm_name(const struct fg_roles *roles, int id);
const char *fg_roles_perm_description(const struct fg_roles *roles, int id);
enum fg_roles_access fg_roles_perm_access(const struct fg_roles *roles, int id);
int fg_roles_perm_unused(const struct fg_roles *roles, int id);

/* 1 if some role in mask holds permission perm_id (asserted in range). O(1): a mask of
 * the roles holding each permission is precomputed. */
int fg_roles_mask_has(const struct fg_roles *roles, uint32_t mask, int perm_id);
/* The same by name; an unknown name is held by nobody (0). */
int fg_roles_has(const struct fg_roles *roles, uint32_t mask, const char *perm);
/* 1 if some role in mask holds "approve.<approval_class>" ("transfer", "roles", ...). */
int fg_roles_can_approve(const struct fg_roles *roles, uint32_t mask, const char *approval_class);
/* 1 if the file says an operator never approves their own request (always, as loaded). */
int fg_roles_requester_never_approves(const struct fg_roles *roles);

/* ---- separation of duties ------------------------------------------------------------- */
/* May one user hold exactly the roles in mask? FG_OK (the empty mask too), FG_ERR_POLICY
 * when two of them are never held together, FG_ERR_INVALID for a bit without a role. On
 * an error *violation (if violation is not NULL) is set to text owned by roles naming the
 * pair and the reason, e.g. "security_admin+auditor: constraints.exclusive"; on FG_OK to
 * NULL. */
FG_MUST_CHECK fg_rc fg_roles_check_assignment(const struct fg_roles *roles, uint32_t mask,
                                              const char **violation);
/* Mask of the roles never held together with role id. */
uint32_t fg_roles_conflict_mask(const struct fg_roles *roles, int id);
/* Mask of the read-only roles (constraints.read_only). */
uint32_t fg_roles_read_only_mask(const struct fg_roles *roles);

#endif
