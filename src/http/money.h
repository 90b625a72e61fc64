/*
 * money.h — what the money route files share (http/ only; not a service API):
 * routes_money.c (writes, four-eyes actions, registration) and routes_money_read.c (accounts,
 * statements, transfers, the proof of the books). The owner rule (IDOR) lives here once.
 */
#ifndef FG_HTTP_MONEY_H
#define FG_HTTP_MONEY_H

#include <stdint.h>

#include "http/call.h"
#include "http/router.h"
#include "iam/session.h"
#include "keys/keys.h"
#include "ledger/customer.h"
#include "ledger/ledger.h"

/* Who is asking: the session's user, device, roles; a customer's own customer id once
 * resolved (fg_money_who_resolve, on a read lease or the writer). */
struct fg_money_who {
    char user_id[FG_SESSION_USER_ID_MAX + 1];
    char device_id[FG_SESSION_DEVICE_MAX + 1];
    uint32_t role_mask;
    int staff;
    char customer_id[FG_CUSTOMER_ID_SIZE]; /* customers: resolved in the intent / read */
};

void fg_money_who_of(struct fg_call *c, struct fg_money_who *w);
/* Customers: their customer id (a customer login without one may touch nothing:
 * FG_ERR_PERMISSION). Staff: nothing to do. */
FG_MUST_CHECK fg_rc fg_money_who_resolve(fg_conn *conn, struct fg_money_who *w);
/* Staff see every account; a customer only their own customer's. */
int fg_money_may_see(const struct fg_money_who *w, const struct fg_ledger_account *a);
/* An id from a path that may name an audit record's object: our ids' shape, no long digit
 * run (a card or ID number typed into a path never reaches the log, DATA-4). */
int fg_money_id_loggable(const char *id);
fg_keys *fg_money_keys(struct fg_app *app);
/* The GET routes of routes_money_read.c. */
FG_MUST_CHECK fg_rc fg_money_read_routes(struct fg_router *r);

#endif
