/*
 * netaddr.h — IP addresses and CIDR blocks as text: the monitor's allowlist, the trusted
 * proxies whose X-Forwarded-For names the real client (server.trusted_proxies), blocks.
 *
 * Addresses are IPv4 ("203.0.113.9") or IPv6 ("2001:db8::1"); an IPv4-mapped IPv6 address
 * ("::ffff:203.0.113.9") matches IPv4 blocks. A block is an address with an optional
 * "/prefix" (a bare address is /32 or /128). Lists are comma-separated, spaces ignored, at
 * most FG_NET_LIST_MAX entries; entries that are not addresses are left to the caller (the
 * allowlist also holds user ids): fg_net_list_parse reports them through `other`.
 *
 * Threads: pure functions; a parsed list is immutable.
 */
#ifndef FG_BASE_NETADDR_H
#define FG_BASE_NETADDR_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"

#define FG_NET_LIST_MAX 64u
#define FG_NET_TEXT_MAX 64u /* one entry as text, "/128" included */

struct fg_net_block {
    uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
    unsigned prefix;  /* 0..128 (IPv4 blocks: 96 + their prefix) */
};

struct fg_net_list {
    unsigned n;
    struct fg_net_block blocks[FG_NET_LIST_MAX];
};

/* Parse one address ("1.2.3.4", "::1") into 16 bytes. FG_ERR_INVALID if not one. */
FG_MUST_CHECK fg_rc fg_net_addr_parse(const char *text, size_t len, uint8_t out[16]);
/* Parse one block ("10.0.0.0/8", "2001:db8::/32", "1.2.3.4"). FG_ERR_INVALID if not one. */
FG_MUST_CHECK fg_rc fg_net_block_parse(const char *text, size_t len, struct fg_net_block *out);
int fg_net_block_has(const struct fg_net_block *b, const uint8_t addr[16]);

/* Parse a comma-separated list. Entries that are not blocks are passed to other(ctx, entry,
 * len) when other is not NULL (FG_ERR_INVALID when it is NULL). FG_ERR_LIMIT over
 * FG_NET_LIST_MAX blocks. */
typedef fg_rc (*fg_net_other_fn)(void *ctx, const char *entry, size_t len);
FG_MUST_CHECK fg_rc fg_net_list_parse(const char *text, struct fg_net_list *out,
                                      fg_net_other_fn other, void *ctx);
/* 1 if the address text is inside one of the blocks (0 for text that is no address). */
int fg_net_list_has(const struct fg_net_list *l, const char *addr_text);

#endif
