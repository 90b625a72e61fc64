/*
 * tls.h — the server's TLS context.
 *
 * TLS is on by default. With no certificate configured, a self-signed ECDSA P-256
 * certificate (SAN: the listen address, 127.0.0.1, ::1, localhost; valid 397 days) and
 * its key are generated once into DATA_DIR/tls/{cert,key}.pem (key mode 0600) and reused
 * on later starts. TLS 1.2 minimum, ALPN h2 and http/1.1, no compression, no
 * renegotiation, server cipher preference.
 */
#ifndef FG_HTTP_TLS_H
#define FG_HTTP_TLS_H

#include <openssl/ssl.h>

#include "base/rc.h"

/* Ensure DATA_DIR/tls/cert.pem and key.pem exist (generate if both are missing).
 * out_cert/out_key receive the paths (size ≥ FG_PATH_MAX). */
FG_MUST_CHECK fg_rc fg_tls_ensure_self_signed(const char *data_dir, const char *address,
                                              char *out_cert, char *out_key);

/* Build a server SSL_CTX from PEM files. */
FG_MUST_CHECK fg_rc fg_tls_server_ctx(const char *cert_path, const char *key_path, SSL_CTX **out);

#endif
