/*
 * migrations.h — the schema migrations embedded in the binary.
 *
 * Each file migrations/NNNN_name.sql becomes one entry (scripts/embed-migrations.cmake).
 * Versions are strictly increasing; fg_store_open() applies those above the database's
 * PRAGMA user_version, each in its own transaction together with the new user_version.
 * A database newer than the binary is refused (FG_ERR_CONFLICT): never downgrade.
 */
#ifndef FG_STORE_MIGRATIONS_H
#define FG_STORE_MIGRATIONS_H

struct fg_migration {
    unsigned version;
    const char *name;
    const char *sql;
};

extern const struct fg_migration fg_migrations[]; /* terminated by {0, 0, 0} */
extern const unsigned fg_migrations_count;

#endif
