/*
 * outbox.h — messages to customers and staff: one-time codes, activation codes, staff
 * one-time passwords, transaction notices (REQUIREMENTS AUTH-3, AUTH-8, TXN-7; API.md
 * "Outbox"; docs/mfa.md).
 *
 * A message is added inside the caller's write intent (fg_outbox_add, on the writer's
 * connection), so it exists if and only if the change that caused it commits:
 *   - the table `outbox_message` (migrations/0005_outbox.sql) gets one row: channel,
 *     purpose, time, and recipient and text sealed with protect/ (purpose pii). The row
 *     records THAT a message was sent; the code it carries is NEVER stored, anywhere in the
 *     database, in any form;
 *   - the sink gets the whole message, code included, AFTER the batch commits. With
 *     `outbox.sink = file` (development and tests) that is one JSON object per line appended
 *     to DATA_DIR/outbox.jsonl (mode 0600), in API.md's shape and key order:
 *         {"time":"<RFC 3339>","to":"…","channel":"sms|email","purpose":"…","code":"…","text":"…"}
 *     ("code" only when the message has one). `none` writes nothing (the table only). A
 *     production gateway would be one more sink at the same point: codes only ever travel
 *     in memory, from the issuer to the sink.
 *
 * Commit protocol. Between fg_outbox_add and the commit the lines wait in a pending buffer
 * in locked memory. The store's hooks decide their fate; the lead chains these next to the
 * audit log's hooks (struct fg_store_hooks, store.h), all on the writer thread:
 *     after_intent(ctx, conn, it):  fg_outbox_after_intent(ob, it->rc);   // REQUIRED
 *     after_commit(ctx):            fg_outbox_after_commit(ob);
 *     after_rollback(ctx):          fg_outbox_after_rollback(ob);
 * after_intent keeps the lines of an intent that succeeded and drops (wipes) those of one
 * that failed — its savepoint rolled its rows back, so its messages must not go out either.
 * after_commit writes every kept line with ONE write(2) and ONE fsync per batch, in the
 * order the writer ran the intents (the table's rowid order), then wipes the buffer.
 * after_rollback wipes everything pending. The store calls after_commit before it completes
 * the intents, so a request that gets its response finds its code in the sink already.
 *
 * Chaining. The store has one hooks slot. fg_outbox_attach(store, ob, &audit_hooks) installs
 * a chain that calls the inner hooks (e.g. the audit log's, once audit/ exposes them as a
 * struct) FIRST and the outbox's after them, at every point; NULL inner = the outbox alone.
 * fg_outbox_hooks() returns the same chain without installing it, for a longer chain. Call
 * it while no batch runs (at start-up), because ob keeps the inner hooks.
 *
 * Failure rules. fg_outbox_add fails without leaving anything behind (no row, no pending
 * line): FG_ERR_INVALID (a field is malformed: see struct fg_outbox_msg), FG_ERR_TOO_LARGE
 * (a field over its limit), FG_ERR_LIMIT (the batch's pending buffer is full: this intent
 * fails alone, a later batch has room), FG_ERR_SEALED (keys sealed), FG_ERR_STORE. A sink
 * write that fails after commit cannot undo the commit: it is logged (outbox.sink_failed,
 * never with message content), counted in sink_failures, and those lines are lost — a code
 * that never arrived is harmless (the user asks for another); the table still shows the
 * message was issued.
 *
 * Threads. fg_outbox_add and the hooks run on the writer thread; a mutex makes them safe
 * anyway. fg_outbox_stats and fg_outbox_tail run on any thread. The sink file is
 * append-only and written by this process alone (one outbox per data directory).
 */
#ifndef FG_NOTIFY_OUTBOX_H
#define FG_NOTIFY_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/rc.h"
#include "keys/keys.h"
#include "store/store.h"

/* ---- limits (bytes, excluding the NUL) --------------------------------------------------- */
/* Recipient: an E.164 phone number or an e-mail address (RFC 5321 path limit). */
#define FG_OUTBOX_TO_MAX 254u
/* Purpose: a short identifier ("login", "activation", "staff_password", "transfer"). */
#define FG_OUTBOX_PURPOSE_MAX 32u
/* Text: a notice, not a document — an SMS of a few segments or a short e-mail body. */
#define FG_OUTBOX_TEXT_MAX 1024u
/* Code: a 6-digit code up to a staff one-time password. */
#define FG_OUTBOX_CODE_MAX 64u
/* One sink line: every field at its maximum, each escaped byte at most doubled (validation
 * leaves only '"', '\\' and '\n' to escape), plus keys, quotes and the time. */
#define FG_OUTBOX_LINE_MAX 4096u
/* Sink lines of one batch awaiting its commit, in locked memory: ~1000 typical messages of
 * one batch (the writer's default batch is 256 intents); more and the extra intents fail
 * alone with FG_ERR_LIMIT. */
#define FG_OUTBOX_PENDING_BYTES_MAX (256u * 1024u)
/* Lines fg_outbox_tail prints at most. */
#define FG_OUTBOX_TAIL_MAX 10000u

/* The sink file's name in the data directory. */
#define FG_OUTBOX_FILE "outbox.jsonl"

enum fg_outbox_channel { FG_OUTBOX_SMS = 1, FG_OUTBOX_EMAIL = 2 };
enum fg_outbox_sink { FG_OUTBOX_SINK_NONE = 0, FG_OUTBOX_SINK_FILE = 1 };

/* "sms" | "email"; NULL for anything else. */
const char *fg_outbox_channel_name(enum fg_outbox_channel channel);
/* "file" | "none" → sink (the `outbox.sink` setting); FG_ERR_INVALID otherwise. */
FG_MUST_CHECK fg_rc fg_outbox_sink_parse(const char *name, enum fg_outbox_sink *out);
const char *fg_outbox_sink_name(enum fg_outbox_sink sink);

/* A message. Strings are NUL-terminated; the outbox copies what it keeps. */
struct fg_outbox_msg {
    const char *to;      /* 1..FG_OUTBOX_TO_MAX printable ASCII bytes (0x21..0x7e) */
    enum fg_outbox_channel channel;
    const char *purpose; /* 1..FG_OUTBOX_PURPOSE_MAX of [a-z0-9_.-] */
    const char *text;    /* 0..FG_OUTBOX_TEXT_MAX bytes of valid UTF-8 without control
                          * characters except '\n'; it must not contain the code */
    const char *code;    /* NULL, or 1..FG_OUTBOX_CODE_MAX printable ASCII bytes: goes to the
                          * sink only (the caller wipes its copy) */
};

typedef struct fg_outbox fg_outbox;

struct fg_outbox_options {
    const char *data_dir;     /* where the file sink lives (required for SINK_FILE) */
    enum fg_outbox_sink sink; /* the `outbox.sink` setting */
    fg_keys *keys;            /* seals recipient and text (purpose pii); must outlive ob */
};

/* Allocate the pending buffer (locked memory) and open the sink file (created 0600, append
 * only). FG_ERR_INVALID (bad options), FG_ERR_IO, FG_ERR_NOMEM. A file sink logs a warning
 * once: it holds codes in clear and is for development and tests only. */
FG_MUST_CHECK fg_rc fg_outbox_new(const struct fg_outbox_options *opt, fg_outbox **out);
/* Wipe pending lines, close the sink, free. After the store is closed (no hook may run
 * afterwards). NULL is a no-op. */
void fg_outbox_free(fg_outbox *ob);

/* Register outbox_message.recipient_enc and .text_enc with protect/ (rewrap and destroy
 * usage counting). Call once at start-up, next to the other registrations. */
FG_MUST_CHECK fg_rc fg_outbox_register_columns(void);

/* Add a message inside the caller's write intent (conn = the writer's connection). */
FG_MUST_CHECK fg_rc fg_outbox_add(fg_outbox *ob, fg_conn *conn, const struct fg_outbox_msg *m);

/* ---- the commit protocol (writer thread) ------------------------------------------------ */
void fg_outbox_after_intent(fg_outbox *ob, fg_rc intent_rc);
void fg_outbox_after_commit(fg_outbox *ob);
void fg_outbox_after_rollback(fg_outbox *ob);
/* Store hooks (ctx = ob) that run `inner` (copied into ob; NULL = none) and then the three
 * above; before_commit is inner's. */
void fg_outbox_hooks(fg_outbox *ob, const struct fg_store_hooks *inner, struct fg_store_hooks *out);
/* fg_store_set_hooks(store, fg_outbox_hooks(ob, inner)). */
void fg_outbox_attach(fg_store *store, fg_outbox *ob, const struct fg_store_hooks *inner);

struct fg_outbox_stats {
    uint64_t added;         /* messages added (table rows written, before commit) */
    uint64_t sent;          /* lines written to the sink */
    uint64_t dropped;       /* pending lines dropped: their intent or batch rolled back */
    uint64_t batches;       /* sink writes (one per batch with lines) */
    uint64_t sink_failures; /* sink writes that failed (lines lost) */
};
void fg_outbox_stats(fg_outbox *ob, struct fg_outbox_stats *out);

/* ---- the file sink, read back (CLI `finguard outbox tail`) ------------------------------- */
/* Print the last n (0..FG_OUTBOX_TAIL_MAX) lines of DATA_DIR/outbox.jsonl to out, as they
 * are. FG_ERR_NOT_FOUND if there is no sink file, FG_ERR_LIMIT if n is too large, FG_ERR_IO.
 * Reads backwards from the end: the cost does not depend on the file's size. The output
 * holds codes: a development tool. */
FG_MUST_CHECK fg_rc fg_outbox_tail(const char *data_dir, unsigned n, FILE *out);

#endif
