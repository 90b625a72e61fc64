/*
 * mevent.c — the monitor's typed event: holds, the stored-row mapping, the external JSON
 * parser and the way back to a stored row (mevent.h).
 */
#include "monitor/mevent.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/netaddr.h"
#include "base/time.h"

static const char *const field_names[FG_MEV_F_NSTR] = {
    "name", "actor", "user", "customer", "account", "ip", "device", "payee", "currency", "result",
};

const char *fg_mev_field_name(enum fg_mev_field f)
{
    return (unsigned)f < FG_MEV_F_NSTR ? field_names[f] : "";
}

int fg_mev_field_of(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        if (strcmp(field_names[i], name) == 0)
            return i;
    return -1;
}

void fg_mev_hold_reset(struct fg_mev_hold *h)
{
    memset(&h->ev, 0, sizeof h->ev);
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        h->ev.s[i] = "";
    h->used = 0;
    h->mem[0] = '\0';
}

/* A copy of s[0..n) in the hold, or NULL when it does not fit. */
static const char *hold_str(struct fg_mev_hold *h, const char *s, size_t n)
{
    if (n == 0)
        return "";
    if (n + 1 > sizeof h->mem - h->used)
        return NULL;
    char *p = h->mem + h->used;
    memcpy(p, s, n);
    p[n] = '\0';
    h->used += n + 1;
    return p;
}

static int in_hold(const struct fg_mev_hold *h, const char *p)
{
    return p >= h->mem && p < h->mem + sizeof h->mem;
}

/* Fill h (reset first) with copies of ev's strings; ev must not point into h. */
static fg_rc hold_fill(struct fg_mev_hold *h, const struct fg_mev *ev)
{
    h->ev.time_ms = ev->time_ms;
    h->ev.seq = ev->seq;
    h->ev.amount = ev->amount;
    h->ev.has_amount = ev->has_amount;
    h->ev.nattrs = 0;
    h->used = 0;
    h->mem[0] = '\0';
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++) {
        const char *s = ev->s[i] != NULL ? ev->s[i] : "";
        if ((h->ev.s[i] = hold_str(h, s, strlen(s))) == NULL)
            return FG_ERR_TOO_LARGE;
    }
    unsigned n = ev->nattrs < FG_MEV_ATTRS_MAX ? ev->nattrs : FG_MEV_ATTRS_MAX;
    for (unsigned i = 0; i < n; i++) {
        const struct fg_mev_attr *a = &ev->attrs[i];
        const char *name = a->name != NULL ? a->name : "";
        const char *str = a->str != NULL ? a->str : "";
        struct fg_mev_attr *t = &h->ev.attrs[i];
        t->name = hold_str(h, name, strlen(name));
        t->str = hold_str(h, str, strlen(str));
        if (t->name == NULL || t->str == NULL)
            return FG_ERR_TOO_LARGE;
        t->num = a->num;
        t->is_num = a->is_num;
    }
    h->ev.nattrs = n;
    return FG_OK;
}

/* Bytes hold_fill needs for ev's strings. */
static size_t hold_need(const struct fg_mev *ev)
{
    size_t need = 0;
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        if (ev->s[i] != NULL && ev->s[i][0] != '\0')
            need += strlen(ev->s[i]) + 1;
    unsigned n = ev->nattrs < FG_MEV_ATTRS_MAX ? ev->nattrs : FG_MEV_ATTRS_MAX;
    for (unsigned i = 0; i < n; i++) {
        const struct fg_mev_attr *a = &ev->attrs[i];
        if (a->name != NULL && a->name[0] != '\0')
            need += strlen(a->name) + 1;
        if (a->str != NULL && a->str[0] != '\0')
            need += strlen(a->str) + 1;
    }
    return need;
}

/* 1 when a string of ev lies in h's storage. */
static int points_into(const struct fg_mev_hold *h, const struct fg_mev *ev)
{
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        if (in_hold(h, ev->s[i]))
            return 1;
    unsigned n = ev->nattrs < FG_MEV_ATTRS_MAX ? ev->nattrs : FG_MEV_ATTRS_MAX;
    for (unsigned i = 0; i < n; i++)
        if (in_hold(h, ev->attrs[i].name) || in_hold(h, ev->attrs[i].str))
            return 1;
    return 0;
}

fg_rc fg_mev_hold_copy(struct fg_mev_hold *h, const struct fg_mev *ev)
{
    if (hold_need(ev) > sizeof h->mem)
        return FG_ERR_TOO_LARGE; /* h unchanged */
    /* the usual case, straight in (the replay copies every decoded line's event) */
    if (!points_into(h, ev))
        return hold_fill(h, ev); /* cannot fail now */
    /* ev points into h itself: build into a scratch hold, then move it over. */
    static _Thread_local struct fg_mev_hold tmp;
    fg_rc rc = hold_fill(&tmp, ev);
    if (rc != FG_OK)
        return rc;
    unsigned n = tmp.ev.nattrs;
    memcpy(h->mem, tmp.mem, tmp.used);
    h->used = tmp.used;
    h->ev = tmp.ev;
#define REBASE(p)                                                                                  \
    do {                                                                                           \
        if (in_hold(&tmp, (p)))                                                                    \
            (p) = h->mem + ((p)-tmp.mem);                                                          \
    } while (0)
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        REBASE(h->ev.s[i]);
    for (unsigned i = 0; i < n; i++) {
        REBASE(h->ev.attrs[i].name);
        REBASE(h->ev.attrs[i].str);
    }
#undef REBASE
    return FG_OK;
}

const struct fg_mev_attr *fg_mev_attr(const struct fg_mev *ev, const char *name)
{
    for (unsigned i = 0; i < ev->nattrs; i++)
        if (strcmp(ev->attrs[i].name, name) == 0)
            return &ev->attrs[i];
    return NULL;
}

static int attr_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FG_MEV_ATTR_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

static int event_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > FG_MEV_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* Append one attribute (value text, integer flag). */
static fg_rc add_attr(struct fg_mev_hold *h, const char *name, const char *str, size_t len,
                      int64_t num, int is_num)
{
    if (h->ev.nattrs >= FG_MEV_ATTRS_MAX)
        return FG_ERR_LIMIT;
    struct fg_mev_attr *a = &h->ev.attrs[h->ev.nattrs];
    a->name = hold_str(h, name, strlen(name));
    a->str = len == 0 ? "" : hold_str(h, str, len);
    if (a->name == NULL || a->str == NULL)
        return FG_ERR_TOO_LARGE;
    a->num = num;
    a->is_num = is_num;
    h->ev.nattrs++;
    return FG_OK;
}

static fg_rc set_field(struct fg_mev_hold *h, int f, const char *s, size_t n)
{
    const char *p = hold_str(h, s, n);
    if (p == NULL)
        return FG_ERR_TOO_LARGE;
    h->ev.s[f] = p;
    return FG_OK;
}

static const char *const row_typed[] = {"user",  "customer", "account",
                                        "payee", "currency", "result"};

fg_rc fg_mev_from_event(int64_t seq, int64_t time_ms, const struct fg_event *e,
                        struct fg_mev_hold *out)
{
    fg_mev_hold_reset(out);
    out->ev.seq = seq;
    out->ev.time_ms = time_ms;
    const char *cols[][2] = {
        {e->type, "name"}, {e->actor_id, "actor"}, {e->source_ip, "ip"}, {e->device_id, "device"}};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        const char *s = cols[i][0] != NULL ? cols[i][0] : "";
        if (set_field(out, fg_mev_field_of(cols[i][1]), s, strlen(s)) != FG_OK)
            return FG_ERR_TOO_LARGE;
    }
    const char *attrs = e->attrs_json != NULL && e->attrs_json[0] != '\0' ? e->attrs_json : "{}";
    json_error_t jerr;
    json_t *o = json_loads(attrs, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        return FG_ERR_INVALID;
    }
    fg_rc rc = FG_OK;
    const char *k;
    json_t *v;
    /* Pass 1: the typed fields. */
    json_object_foreach(o, k, v)
    {
        int f = -1;
        for (size_t i = 0; i < sizeof row_typed / sizeof row_typed[0]; i++)
            if (strcmp(k, row_typed[i]) == 0)
                f = fg_mev_field_of(k);
        if (f >= 0 && json_is_string(v)) {
            if ((rc = set_field(out, f, json_string_value(v), json_string_length(v))) != FG_OK)
                goto done;
        } else if (strcmp(k, "amount") == 0 && json_is_integer(v)) {
            out->ev.amount = json_integer_value(v);
            out->ev.has_amount = 1;
        }
    }
    /* Pass 2: from/to, the object, then every other attribute in order. */
    json_t *from = json_object_get(o, "from"), *to = json_object_get(o, "to");
    if (out->ev.s[FG_MEV_F_ACCOUNT][0] == '\0' && json_is_string(from) &&
        (rc = set_field(out, FG_MEV_F_ACCOUNT, json_string_value(from),
                        json_string_length(from))) != FG_OK)
        goto done;
    if (out->ev.s[FG_MEV_F_PAYEE][0] == '\0' && json_is_string(to) &&
        (rc = set_field(out, FG_MEV_F_PAYEE, json_string_value(to), json_string_length(to))) !=
            FG_OK)
        goto done;
    int of = e->object_type != NULL ? fg_mev_field_of(e->object_type) : -1;
    if ((of == FG_MEV_F_USER || of == FG_MEV_F_CUSTOMER || of == FG_MEV_F_ACCOUNT) &&
        out->ev.s[of][0] == '\0' && e->object_id != NULL &&
        (rc = set_field(out, of, e->object_id, strlen(e->object_id))) != FG_OK)
        goto done;
    json_object_foreach(o, k, v)
    {
        int typed = strcmp(k, "amount") == 0 && json_is_integer(v);
        for (size_t i = 0; i < sizeof row_typed / sizeof row_typed[0]; i++)
            typed |= strcmp(k, row_typed[i]) == 0 && json_is_string(v);
        if (typed || !attr_name_ok(k))
            continue;
        if (out->ev.nattrs >= FG_MEV_ATTRS_MAX)
            break;
        char num[24];
        if (json_is_string(v)) {
            size_t n = json_string_length(v);
            rc = add_attr(out, k, json_string_value(v),
                          n < FG_MEV_ATTR_VALUE_MAX ? n : FG_MEV_ATTR_VALUE_MAX, 0, 0);
        } else if (json_is_integer(v)) {
            int n = snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            rc = add_attr(out, k, num, (size_t)n, json_integer_value(v), 1);
        } else if (json_is_boolean(v)) {
            const char *b = json_is_true(v) ? "true" : "false";
            rc = add_attr(out, k, b, strlen(b), 0, 0);
        }
        if (rc != FG_OK)
            goto done;
    }
done:
    json_decref(o);
    return rc == FG_ERR_LIMIT ? FG_OK : rc;
}

/* ---- external JSON ---------------------------------------------------------------------- */

/* A member name safe to print in a reason: [a-z0-9_.] kept, others '?', cut at 32. */
static void safe_name(const char *k, char out[40])
{
    size_t i = 0;
    for (; k[i] != '\0' && i < 32; i++) {
        char c = k[i];
        out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '_' || c == '.'
                     ? c
                     : '?';
    }
    if (k[i] != '\0' && i < 36)
        out[i++] = '~';
    out[i] = '\0';
}

static fg_rc why_set(char *why, size_t cap, fg_rc rc, const char *member, const char *msg)
{
    if (why != NULL && cap > 0) {
        char safe[40];
        safe_name(member, safe);
        snprintf(why, cap, "%s: %s", safe, msg);
    }
    return rc;
}

/* Printable ASCII without spaces (ids, addresses, devices). */
static int token_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* No control characters (results, payees may hold any UTF-8 text). */
static int text_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    return 1;
}

fg_rc fg_mev_from_json(const json_t *obj, int64_t now_ms, struct fg_mev_hold *out, char *why,
                       size_t whycap)
{
    fg_mev_hold_reset(out);
    if (why != NULL && whycap > 0)
        why[0] = '\0';
    if (!json_is_object(obj))
        return why_set(why, whycap, FG_ERR_INVALID, "event", "must be a JSON object");
    out->ev.time_ms = now_ms;
    const char *k;
    json_t *v;
    int has_name = 0;
    json_object_foreach((json_t *)obj, k, v)
    {
        int f = fg_mev_field_of(k);
        if (strcmp(k, "time") == 0) {
            if (json_is_integer(v) && json_integer_value(v) >= 0) {
                out->ev.time_ms = json_integer_value(v);
            } else if (!json_is_string(v) ||
                       fg_time_parse_rfc3339(json_string_value(v), json_string_length(v),
                                             &out->ev.time_ms) != FG_OK) {
                return why_set(why, whycap, FG_ERR_INVALID, k,
                               "must be an RFC 3339 UTC time or integer Unix ms");
            }
        } else if (strcmp(k, "amount") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                return why_set(why, whycap, FG_ERR_INVALID, k, "must be an integer >= 0");
            out->ev.amount = json_integer_value(v);
            out->ev.has_amount = 1;
        } else if (f >= 0) {
            if (!json_is_string(v))
                return why_set(why, whycap, FG_ERR_INVALID, k, "must be a string");
            const char *s = json_string_value(v);
            size_t n = json_string_length(v);
            if (f == FG_MEV_F_NAME) {
                if (!event_name_ok(s, n))
                    return why_set(why, whycap, FG_ERR_INVALID, k, "must match [a-z0-9_.-]{1,48}");
                has_name = 1;
            } else if (f == FG_MEV_F_CURRENCY) {
                if (n != FG_MEV_CURRENCY_MAX || !(s[0] >= 'A' && s[0] <= 'Z') ||
                    !(s[1] >= 'A' && s[1] <= 'Z') || !(s[2] >= 'A' && s[2] <= 'Z'))
                    return why_set(why, whycap, FG_ERR_INVALID, k,
                                   "must be an ISO 4217 code (3 capital letters)");
            } else if (n > FG_MEV_KEY_MAX) {
                return why_set(why, whycap, FG_ERR_TOO_LARGE, k, "longer than 128 bytes");
            } else if (f == FG_MEV_F_IP) {
                uint8_t addr[16];
                if (n > 0 && fg_net_addr_parse(s, n, addr) != FG_OK)
                    return why_set(why, whycap, FG_ERR_INVALID, k, "must be an IP address");
            } else if (f == FG_MEV_F_ACTOR || f == FG_MEV_F_DEVICE || f == FG_MEV_F_USER ||
                       f == FG_MEV_F_CUSTOMER || f == FG_MEV_F_ACCOUNT) {
                if (!token_ok(s, n))
                    return why_set(why, whycap, FG_ERR_INVALID, k,
                                   "must be printable ASCII without spaces");
            } else if (!text_ok(s, n)) {
                return why_set(why, whycap, FG_ERR_INVALID, k,
                               "must not contain control characters");
            }
            if (set_field(out, f, s, n) != FG_OK)
                return why_set(why, whycap, FG_ERR_TOO_LARGE, k, "event too large");
        } else if (strcmp(k, "attrs") == 0) {
            if (!json_is_object(v))
                return why_set(why, whycap, FG_ERR_INVALID, k, "must be an object");
            if (json_object_size(v) > FG_MEV_ATTRS_MAX)
                return why_set(why, whycap, FG_ERR_TOO_LARGE, k, "more than 16 members");
            const char *ak;
            json_t *av;
            json_object_foreach(v, ak, av)
            {
                char path[48];
                char safe[40];
                safe_name(ak, safe);
                snprintf(path, sizeof path, "attrs.%s", safe);
                if (!attr_name_ok(ak))
                    return why_set(why, whycap, FG_ERR_INVALID, path,
                                   "name must match [a-z0-9_]{1,32}");
                if (fg_mev_field_of(ak) >= 0 || strcmp(ak, "amount") == 0 ||
                    strcmp(ak, "time") == 0 || strcmp(ak, "origin") == 0)
                    return why_set(why, whycap, FG_ERR_INVALID, path,
                                   "name is reserved (a typed field or origin)");
                fg_rc rc;
                if (json_is_string(av)) {
                    size_t n = json_string_length(av);
                    if (n > FG_MEV_ATTR_VALUE_MAX)
                        return why_set(why, whycap, FG_ERR_TOO_LARGE, path,
                                       "longer than 256 bytes");
                    if (!text_ok(json_string_value(av), n))
                        return why_set(why, whycap, FG_ERR_INVALID, path,
                                       "must not contain control characters");
                    rc = add_attr(out, ak, json_string_value(av), n, 0, 0);
                } else if (json_is_integer(av)) {
                    char num[24];
                    int n = snprintf(num, sizeof num, "%lld", (long long)json_integer_value(av));
                    rc = add_attr(out, ak, num, (size_t)n, json_integer_value(av), 1);
                } else if (json_is_boolean(av)) {
                    rc = add_attr(out, ak, json_is_true(av) ? "true" : "false",
                                  json_is_true(av) ? 4u : 5u, 0, 0);
                } else {
                    return why_set(why, whycap, FG_ERR_INVALID, path,
                                   "must be a string, integer or boolean");
                }
                if (rc != FG_OK)
                    return why_set(why, whycap, FG_ERR_TOO_LARGE, path, "event too large");
            }
        } else {
            return why_set(why, whycap, FG_ERR_INVALID, k, "unknown member");
        }
    }
    if (!has_name)
        return why_set(why, whycap, FG_ERR_INVALID, "name", "required");
    return FG_OK;
}

/* ---- back to a stored row --------------------------------------------------------------- */

fg_rc fg_mev_to_event(const struct fg_mev *ev, const char *origin, struct fg_event *out,
                      char *attrs_buf, size_t attrs_cap)
{
    memset(out, 0, sizeof *out);
    if (attrs_buf == NULL || attrs_cap == 0)
        return FG_ERR_TOO_LARGE;
    size_t max = attrs_cap - 1 < FG_EVENT_ATTRS_MAX ? attrs_cap - 1 : FG_EVENT_ATTRS_MAX;
    struct fg_buf b = FG_BUF_INIT(max);
    fg_rc rc = fg_buf_append_char(&b, '{');
    int first = 1;
    static const int typed[] = {FG_MEV_F_USER,  FG_MEV_F_CUSTOMER, FG_MEV_F_ACCOUNT,
                                FG_MEV_F_PAYEE, FG_MEV_F_CURRENCY, FG_MEV_F_RESULT};
    for (size_t i = 0; rc == FG_OK && i < sizeof typed / sizeof typed[0]; i++) {
        const char *s = ev->s[typed[i]] != NULL ? ev->s[typed[i]] : "";
        if (s[0] == '\0')
            continue;
        rc = fg_buf_appendf(&b, "%s\"%s\":\"", first ? "" : ",", field_names[typed[i]]);
        if (rc == FG_OK)
            rc = fg_buf_append_json_escaped(&b, s, strlen(s));
        if (rc == FG_OK)
            rc = fg_buf_append_char(&b, '"');
        first = 0;
    }
    if (rc == FG_OK && ev->has_amount) {
        rc = fg_buf_appendf(&b, "%s\"amount\":%lld", first ? "" : ",", (long long)ev->amount);
        first = 0;
    }
    for (unsigned i = 0; rc == FG_OK && i < ev->nattrs; i++) {
        const struct fg_mev_attr *a = &ev->attrs[i];
        rc = fg_buf_appendf(&b, "%s\"", first ? "" : ",");
        if (rc == FG_OK)
            rc = fg_buf_append_json_escaped(&b, a->name, strlen(a->name));
        if (rc == FG_OK && a->is_num)
            rc = fg_buf_appendf(&b, "\":%lld", (long long)a->num);
        else if (rc == FG_OK) {
            rc = fg_buf_append_str(&b, "\":\"");
            if (rc == FG_OK)
                rc = fg_buf_append_json_escaped(&b, a->str, strlen(a->str));
            if (rc == FG_OK)
                rc = fg_buf_append_char(&b, '"');
        }
        first = 0;
    }
    if (rc == FG_OK && origin != NULL) {
        rc = fg_buf_appendf(&b, "%s\"origin\":\"", first ? "" : ",");
        if (rc == FG_OK)
            rc = fg_buf_append_json_escaped(&b, origin, strlen(origin));
        if (rc == FG_OK)
            rc = fg_buf_append_char(&b, '"');
    }
    if (rc == FG_OK)
        rc = fg_buf_append_char(&b, '}');
    if (rc != FG_OK) {
        fg_buf_release(&b);
        return rc == FG_ERR_NOMEM ? rc : FG_ERR_TOO_LARGE;
    }
    memcpy(attrs_buf, fg_buf_str(&b), b.len + 1);
    fg_buf_release(&b);
    out->type = ev->s[FG_MEV_F_NAME];
    out->actor_id = ev->s[FG_MEV_F_ACTOR];
    out->source_ip = ev->s[FG_MEV_F_IP];
    out->device_id = ev->s[FG_MEV_F_DEVICE];
    static const int objs[] = {FG_MEV_F_ACCOUNT, FG_MEV_F_CUSTOMER, FG_MEV_F_USER};
    for (size_t i = 0; i < 3; i++) {
        const char *s = ev->s[objs[i]];
        if (s != NULL && s[0] != '\0') {
            out->object_type = field_names[objs[i]];
            out->object_id = s;
            break;
        }
    }
    out->attrs_json = attrs_buf;
    return FG_OK;
}
