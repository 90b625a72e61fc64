/*
 * netaddr.c — address and CIDR parsing with inet_pton (netaddr.h).
 */
#include "base/netaddr.h"

#include <arpa/inet.h>
#include <string.h>

fg_rc fg_net_addr_parse(const char *text, size_t len, uint8_t out[16])
{
    char buf[FG_NET_TEXT_MAX];
    if (text == NULL || len == 0 || len >= sizeof buf)
        return FG_ERR_INVALID;
    memcpy(buf, text, len);
    buf[len] = '\0';
    struct in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        memset(out, 0, 10);
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, &v4, 4);
        return FG_OK;
    }
    struct in6_addr v6;
    if (inet_pton(AF_INET6, buf, &v6) == 1) {
        memcpy(out, &v6, 16);
        return FG_OK;
    }
    return FG_ERR_INVALID;
}

fg_rc fg_net_block_parse(const char *text, size_t len, struct fg_net_block *out)
{
    if (text == NULL)
        return FG_ERR_INVALID;
    const char *slash = memchr(text, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - text) : len;
    if (fg_net_addr_parse(text, alen, out->addr) != FG_OK)
        return FG_ERR_INVALID;
    int v4 = memcmp(out->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
             memchr(text, ':', alen) == NULL;
    unsigned max = v4 ? 32u : 128u;
    unsigned prefix = max;
    if (slash != NULL) {
        size_t plen = len - alen - 1;
        if (plen == 0 || plen > 3)
            return FG_ERR_INVALID;
        prefix = 0;
        for (size_t i = 0; i < plen; i++) {
            char ch = slash[1 + i];
            if (ch < '0' || ch > '9')
                return FG_ERR_INVALID;
            prefix = prefix * 10 + (unsigned)(ch - '0');
        }
        if (prefix > max)
            return FG_ERR_INVALID;
    }
    out->prefix = v4 ? 96u + prefix : prefix;
    /* clear host bits so equal blocks compare equal */
    for (unsigned bit = out->prefix; bit < 128; bit++)
        out->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    return FG_OK;
}

int fg_net_block_has(const struct fg_net_block *b, const uint8_t addr[16])
{
    unsigned full = b->prefix / 8, rest = b->prefix % 8;
    if (memcmp(b->addr, addr, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (addr[full] & mask) == b->addr[full];
}

fg_rc fg_net_list_parse(const char *text, struct fg_net_list *out, fg_net_other_fn other, void *ctx)
{
    out->n = 0;
    const char *p = text != NULL ? text : "";
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ',')
            p++;
        const char *end = p;
        while (end > start && end[-1] == ' ')
            end--;
        size_t len = (size_t)(end - start);
        if (len == 0)
            continue;
        struct fg_net_block b;
        if (fg_net_block_parse(start, len, &b) == FG_OK) {
            if (out->n >= FG_NET_LIST_MAX)
                return FG_ERR_LIMIT;
            out->blocks[out->n++] = b;
        } else if (other == NULL) {
            return FG_ERR_INVALID;
        } else {
            fg_rc rc = other(ctx, start, len);
            if (rc)
                return rc;
        }
    }
    return FG_OK;
}

int fg_net_list_has(const struct fg_net_list *l, const char *addr_text)
{
    uint8_t a[16];
    if (l == NULL || addr_text == NULL ||
        fg_net_addr_parse(addr_text, strlen(addr_text), a) != FG_OK)
        return 0;
    for (unsigned i = 0; i < l->n; i++)
        if (fg_net_block_has(&l->blocks[i], a))
            return 1;
    return 0;
}
