/*
 * policy.c — deadline profiles of incidents (incident.h "policy"; data/incidents.yaml).
 *
 * The file is one mapping {profiles: {NAME: {report_h: N, handle_h: N, recover_h: N}}}.
 * Anything else (another key, a missing or out-of-range number, a duplicate, anchors,
 * more than FG_INCIDENT_PROFILES_MAX profiles) is an error with its line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/data.h"
#include "incident/incident.h"
#include "incident/internal.h"

static const struct fg_incident_policy builtin = {
    .profiles = {{"standard", 24, 48, 72}, {"critical_infrastructure", 1, 48, 72}},
    .nprofiles = 2,
    .default_profile = 0,
    .archive_years = 3,
};

const struct fg_incident_policy *fg_incident_policy_builtin(void)
{
    return &builtin;
}

const struct fg_incident_profile *fg_incident_profile_find(const struct fg_incident_policy *p,
                                                           const char *name)
{
    if (p == NULL)
        p = &builtin;
    if (name == NULL || name[0] == '\0')
        return &p->profiles[p->default_profile];
    for (size_t i = 0; i < p->nprofiles; i++)
        if (strcmp(p->profiles[i].name, name) == 0)
            return &p->profiles[i];
    return NULL;
}

static void err(struct fg_buf *errors, size_t line, const char *msg)
{
    if (errors && fg_buf_appendf(errors, "incidents.yaml:%zu: %s\n", line + 1, msg) != FG_OK)
        return;
}

/* Parser states. */
enum st {
    ROOT_START,
    ROOT_KEY,
    PROFILES_START,
    PROFILE_NAME,
    PROFILE_START,
    FIELD_KEY,
    FIELD_VALUE,
    AFTER_ROOT,
    DONE
};

fg_rc fg_incident_policy_parse(const char *text, size_t len, const char *default_profile,
                               int64_t archive_years, struct fg_incident_policy *out,
                               struct fg_buf *errors)
{
    if (text == NULL || out == NULL)
        return FG_ERR_INVALID;
    if (len > FG_INCIDENT_POLICY_BYTES_MAX) {
        err(errors, 0, "file too large");
        return FG_ERR_CONFIG;
    }
    memset(out, 0, sizeof *out);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return FG_ERR_NOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    enum st st = ROOT_START;
    int bad = 0, fatal = 0, seen_profiles = 0, stream_done = 0; /* fatal: the parse is lost */
    char field[16] = "";
    int have[3] = {0, 0, 0};
    struct fg_incident_profile *cur = NULL;
    while (!stream_done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            err(errors, parser.problem_mark.line, "YAML syntax error");
            bad = fatal = 1;
            break;
        }
        size_t line = ev.start_mark.line;
        const char *sv = ev.type == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value : NULL;
        if ((ev.type == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
            ev.type == YAML_ALIAS_EVENT) {
            err(errors, line, "anchors and aliases are not allowed");
            bad = 1;
        }
        switch (ev.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        case YAML_STREAM_END_EVENT:
            stream_done = 1;
            break;
        case YAML_MAPPING_START_EVENT:
            if (st == ROOT_START)
                st = ROOT_KEY;
            else if (st == PROFILES_START)
                st = PROFILE_NAME;
            else if (st == PROFILE_START)
                st = FIELD_KEY;
            else {
                err(errors, line, "unexpected mapping");
                bad = fatal = 1;
            }
            break;
        case YAML_MAPPING_END_EVENT:
            if (st == FIELD_KEY) {
                if (cur && !(have[0] && have[1] && have[2])) {
                    err(errors, line, "a profile needs report_h, handle_h and recover_h");
                    bad = 1;
                }
                st = PROFILE_NAME;
            } else if (st == PROFILE_NAME) {
                st = ROOT_KEY;
            } else if (st == ROOT_KEY) {
                st = DONE;
            } else {
                bad = fatal = 1;
            }
            break;
        case YAML_SCALAR_EVENT:
            if (st == ROOT_KEY) {
                if (strcmp(sv, "profiles") != 0 || seen_profiles) {
                    err(errors, line, "unknown or repeated key (expected profiles)");
                    bad = fatal = 1; /* what follows cannot be read as profiles */
                }
                seen_profiles = 1;
                st = PROFILES_START;
            } else if (st == PROFILE_NAME) {
                if (!fg_inc_name_ok(sv, FG_INCIDENT_PROFILE_MAX) || strchr(sv, '.')) {
                    err(errors, line, "a profile name is 1..31 of [a-z0-9_-]");
                    bad = 1;
                } else if (fg_incident_profile_find(out, sv) != NULL && out->nprofiles) {
                    err(errors, line, "duplicate profile");
                    bad = 1;
                } else if (out->nprofiles >= FG_INCIDENT_PROFILES_MAX) {
                    err(errors, line, "too many profiles");
                    bad = 1;
                }
                if (!bad) { /* after any error, later profiles are only checked */
                    cur = &out->profiles[out->nprofiles++];
                    memset(cur, 0, sizeof *cur);
                    memcpy(cur->name, sv, strlen(sv) + 1);
                } else {
                    cur = NULL;
                }
                have[0] = have[1] = have[2] = 0;
                st = PROFILE_START;
            } else if (st == FIELD_KEY) {
                size_t n = strlen(sv);
                if (n >= sizeof field)
                    n = sizeof field - 1;
                memcpy(field, sv, n);
                field[n] = '\0';
                st = FIELD_VALUE;
            } else if (st == FIELD_VALUE) {
                char *end = NULL;
                errno = 0;
                long long v = strtoll(sv, &end, 10);
                int idx = strcmp(field, "report_h") == 0    ? 0
                          : strcmp(field, "handle_h") == 0  ? 1
                          : strcmp(field, "recover_h") == 0 ? 2
                                                            : -1;
                if (idx < 0) {
                    err(errors, line, "unknown field (report_h, handle_h, recover_h)");
                    bad = 1;
                } else if (have[idx]) {
                    err(errors, line, "repeated field");
                    bad = 1;
                } else if (errno || end == sv || *end || v < 1 || v > FG_INCIDENT_DEADLINE_H_MAX) {
                    err(errors, line, "hours must be an integer 1..8784");
                    have[idx] = 1; /* present: no second error for "missing" */
                    bad = 1;
                } else if (cur) {
                    have[idx] = 1;
                    if (idx == 0)
                        cur->report_h = v;
                    else if (idx == 1)
                        cur->handle_h = v;
                    else
                        cur->recover_h = v;
                }
                st = FIELD_KEY;
            } else {
                err(errors, line, "unexpected value");
                bad = fatal = 1;
            }
            break;
        default:
            err(errors, line, "unexpected YAML (sequences are not used here)");
            bad = fatal = 1;
            break;
        }
        yaml_event_delete(&ev);
        if (fatal)
            break;
    }
    yaml_parser_delete(&parser);
    if (!bad) {
        for (size_t i = 0; i < out->nprofiles; i++) {
            const struct fg_incident_profile *p = &out->profiles[i];
            if (p->handle_h < p->report_h || p->recover_h < p->handle_h) {
                err(errors, 0, "a profile needs report_h <= handle_h <= recover_h");
                bad = 1;
            }
        }
    }
    if (!bad && out->nprofiles == 0) {
        err(errors, 0, "no profiles");
        bad = 1;
    }
    if (!bad) {
        const struct fg_incident_profile *d = fg_incident_profile_find(out, default_profile);
        if (d == NULL) {
            err(errors, 0, "the configured [incident] profile is not defined");
            bad = 1;
        } else {
            out->default_profile = (size_t)(d - out->profiles);
        }
    }
    if (!bad && archive_years < 1) {
        err(errors, 0, "archive_years must be >= 1");
        bad = 1;
    }
    out->archive_years = archive_years;
    return bad ? FG_ERR_CONFIG : FG_OK;
}

fg_rc fg_incident_policy_load(const struct fg_config *cfg, struct fg_incident_policy *out,
                              struct fg_buf *errors)
{
    const struct fg_data_file *f = fg_data_find("incidents.yaml");
    if (f == NULL) {
        err(errors, 0, "data/incidents.yaml is not embedded");
        return FG_ERR_CONFIG;
    }
    return fg_incident_policy_parse(f->text, f->len, cfg ? cfg->incident_profile : NULL,
                                    cfg ? cfg->incident_archive_years : builtin.archive_years, out,
                                    errors);
}
