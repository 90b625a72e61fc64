/*
 * limits.h — every limit of finguard, named, with the reason for its value.
 *
 * Nothing in finguard grows without a bound. When input meets a limit the caller gets
 * FG_ERR_LIMIT / FG_ERR_TOO_LARGE and a clear error, never a crash or a partial write.
 * Values that operators may tune are also configuration keys (base/config.c) whose
 * min/max come from here; the values below are the compiled defaults and hard ceilings.
 */
#ifndef FG_BASE_LIMITS_H
#define FG_BASE_LIMITS_H

/* ---- HTTP ---------------------------------------------------------------------------- */
/* API.md: request bodies default to 64 KiB; the largest legitimate body (an event batch
 * of 1 000 small events) fits in a few hundred KiB, so the hard ceiling is 1 MiB. */
#define FG_HTTP_BODY_MAX_DEFAULT (64u * 1024u)
#define FG_HTTP_BODY_MAX_CEILING (1024u * 1024u)
/* A request target longer than this is refused: ids are short, queries small. */
#define FG_HTTP_PATH_MAX 2048u
/* Path segments in a route pattern or request (/v1/a/b/c...): deeper is not our API. */
#define FG_HTTP_SEGMENTS_MAX 16u
/* Sum of all request header bytes; h2o refuses more than ~100 headers itself. Curl and
 * browsers send < 2 KiB; 16 KiB leaves room for long bearer tokens and signatures. */
#define FG_HTTP_HEADER_BYTES_MAX (16u * 1024u)
/* Routes in the table: a compile-time list, small by design. */
#define FG_HTTP_ROUTES_MAX 256u
/* Event loops: one per core; more than this is a misconfiguration on any real box. */
#define FG_HTTP_THREADS_MAX 64u
/* Requests handed from loops to workers and not yet completed, per process. A full
 * hand-off queue answers 503 instead of growing (ARCHITECTURE.md: bounded hand-offs). */
#define FG_HTTP_INFLIGHT_MAX 16384u
/* After SIGTERM, once every handed-off request has completed (those are always waited
 * for: the writer completes every intent), open connections get this long to finish
 * writing responses. h2o 2.2 does not close idle HTTP/1 keep-alive connections on
 * shutdown, so without this bound a stop would wait for their 10 s idle timeout. */
#define FG_HTTP_SHUTDOWN_CONN_GRACE_MS 1000u

/* ---- JSON ---------------------------------------------------------------------------- */
/* Nesting depth of request JSON: our documents are at most ~4 deep; 32 stops stack
 * exhaustion attacks long before any stack is at risk. */
#define FG_JSON_DEPTH_MAX 32u
/* One JSON string value (memo, reason, name): free text fields are short in banking. */
#define FG_JSON_STRING_MAX 4096u
/* Keys of one object / items of one array in a request. */
#define FG_JSON_MEMBERS_MAX 1024u

/* ---- store --------------------------------------------------------------------------- */
/* Intents the writer runs in one transaction. Larger batches amortise the fsync further
 * but hold every waiter longer; 256 keeps a batch well under a millisecond of work. */
#define FG_WRITER_BATCH_MAX_DEFAULT 256u
#define FG_WRITER_BATCH_MAX_CEILING 4096u
/* Intents waiting for the writer. A full queue makes submit return FG_ERR_BUSY (→ 503),
 * so a write flood costs bounded memory. */
#define FG_WRITER_QUEUE_MAX 65536u
/* The store's checkpointer runs at most this often (ms): frequent enough that the WAL stays
 * small, rare enough that a busy writer is not copied page by page after every batch. */
#define FG_STORE_CHECKPOINT_MS 50
/* Read connections in the pool; SQLite WAL readers are cheap but each holds a file
 * descriptor and a page cache. */
#define FG_READ_POOL_MAX_DEFAULT 8u
#define FG_READ_POOL_MAX_CEILING 64u
/* Prepared statements cached per connection. */
#define FG_STMT_CACHE_MAX 64u
/* Milliseconds SQLite waits on a lock held by another process (e.g. the CLI). */
#define FG_STORE_BUSY_TIMEOUT_MS 5000u
/* Bound parameters of one statement. */
#define FG_STORE_PARAMS_MAX 32u
/* Columns of one result row handed to a row callback. */
#define FG_STORE_COLUMNS_MAX 64u
/* Migrations the binary knows; each is one SQL file under migrations/. */
#define FG_MIGRATIONS_MAX 256u

/* ---- base ---------------------------------------------------------------------------- */
/* One log line (JSON). Longer values are cut and marked "truncated":true. */
#define FG_LOG_LINE_MAX 4096u
/* One configuration value as text (paths are the longest). */
#define FG_CONFIG_VALUE_MAX 1024u
/* Bytes of a configuration file: configuration is small; a huge file is a mistake. */
#define FG_CONFIG_FILE_MAX (256u * 1024u)
/* Per-request arena: the most one request may allocate from it. */
#define FG_ARENA_MAX_DEFAULT (1024u * 1024u)
/* Path lengths we build (data dir + file name). */
#define FG_PATH_MAX 4096u

/* ---- keys and protect ---------------------------------------------------------------- */
/* Unseal shares (custodians) of one instance: libgfshare indexes are bytes, and more than
 * 16 people holding a piece of the root key is an organisation problem, not a safety gain. */
#define FG_KEYS_SHARES_MAX 16u
/* Versions of one purpose that are not destroyed (active + decrypt-only). Each is unwrapped
 * into locked memory at unseal; rotating past this means old versions must be rewrapped
 * and destroyed first, which is the point of rotating. */
#define FG_KEYS_LIVE_VERSIONS_MAX 32u
/* Functions asked "does any ciphertext still use this key version?" before a destroy
 * (protect/, and later audit/ and backups). */
#define FG_KEYS_USAGE_COUNTERS_MAX 8u
/* Bytes of share text accepted from a custodian, surrounding whitespace included. A share
 * is about 60 characters; anything much longer is not a share. */
#define FG_KEYS_SHARE_INPUT_MAX 256u
/* Plaintext of one protected field: names, addresses, card numbers and identity numbers
 * are far below this; documents do not belong in a column. */
#define FG_PROTECT_PLAINTEXT_MAX (16u * 1024u)
/* Table, column and field names in the registry and in AAD (SQL identifiers we quote). */
#define FG_PROTECT_NAME_MAX 63u
/* A row id bound into AAD (an integer in decimal or a short text id such as a UUID). */
#define FG_PROTECT_ROW_ID_MAX 128u
/* Registered protected columns: one per sensitive field of the schema. */
#define FG_PROTECT_COLUMNS_MAX 64u
/* Rows one rewrap write intent re-encrypts: bounds the time the writer spends in one
 * intent and the memory of one batch (rows x ciphertext). */
#define FG_PROTECT_REWRAP_BATCH_DEFAULT 256u
#define FG_PROTECT_REWRAP_BATCH_MAX 1024u
/* Value bytes fed to a blind index (an e-mail, a phone number, an identity number). */
#define FG_PROTECT_INDEX_VALUE_MAX 1024u

#endif
