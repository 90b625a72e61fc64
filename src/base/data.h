/*
 * data.h — content files embedded in the binary (the YAML files under data/: roles, later rules,
 * controls, scenarios), so a deployed finguard is one file. A module that loads content
 * takes the embedded text by name, unless the configuration names a file to use instead.
 */
#ifndef FG_BASE_DATA_H
#define FG_BASE_DATA_H

#include <stddef.h>

struct fg_data_file {
    const char *name; /* "roles.yaml" */
    const char *text; /* NUL-terminated */
    size_t len;
};

extern const struct fg_data_file fg_data_files[]; /* terminated by {0, 0, 0} */

/* The embedded file called name, or NULL. */
const struct fg_data_file *fg_data_find(const char *name);

#endif
