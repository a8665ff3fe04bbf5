/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLS over stream connections, with OpenSSL 3.
 *
 * Each TLS listener has two contexts: a server one for the connections it
 * accepts (its certificate and key; optionally requiring client certificates
 * signed by ca_file) and a client one for the connections opened through it
 * (the same certificate as client certificate unless anonymous_client; the
 * server verified against ca_file or the system store unless no_verify_server,
 * and against the name given to sip_transport_send_to when there is one).
 * TLS 1.2 is the minimum; renegotiation is off.
 *
 * I/O goes through a small BIO on the connection's fd that uses send() with
 * MSG_NOSIGNAL (OpenSSL's socket BIO uses write(), which raises SIGPIPE on a
 * peer that went away). Everything is non-blocking: SSL_ERROR_WANT_READ/WRITE
 * become the want flags of the connection, which tcp.c turns into epoll
 * interest. Partial writes and a moving write buffer are enabled, so the
 * output queue can be retried from wherever it now lives; idle connections
 * release their OpenSSL buffers.
 */
#include "transport_int.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static BIO_METHOD *bio_meth;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_write_ex(BIO *b, const char *buf, size_t len, size_t *written)
{
	struct sip_conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_write(b);
		return 0;
	}
	*written = (size_t)n;
	return 1;
}

static int bio_read_ex(BIO *b, char *buf, size_t len, size_t *readbytes)
{
	struct sip_conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n == 0)
			c->rd_eof = true;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_read(b);
		*readbytes = 0;
		return 0;
	}
	*readbytes = (size_t)n;
	return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct sip_conn *c = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return c && c->rd_eof;
	default:
		return 0;
	}
}

static void bio_meth_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sip stream");

	if (!m)
		return;
	if (!BIO_meth_set_write_ex(m, bio_write_ex) || !BIO_meth_set_read_ex(m, bio_read_ex) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl)) {
		BIO_meth_free(m);
		return;
	}
	bio_meth = m;
}

/* Logs and clears OpenSSL's error queue, for configuration errors. */
static void log_ssl_errors(const char *listener, const char *what, const char *file)
{
	unsigned long e;
	char buf[256];
	bool any = false;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_err("sip: TLS listener %s: %s%s%s: %s", listener, what, file ? " " : "",
			file ? file : "", buf);
		any = true;
	}
	if (!any)
		log_err("sip: TLS listener %s: %s%s%s failed", listener, what, file ? " " : "",
			file ? file : "");
}

static SSL_CTX *ctx_new(const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
				     SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

static int load_ca(SSL_CTX *ctx, const char *ca_file)
{
	if (ca_file)
		return SSL_CTX_load_verify_locations(ctx, ca_file, NULL) == 1 ? 0 : -EINVAL;
	return SSL_CTX_set_default_verify_paths(ctx) == 1 ? 0 : -EINVAL;
}

static int use_cert(SSL_CTX *ctx, const struct sip_tls_opts *o, const char *name)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
		log_ssl_errors(name, "certificate", o->cert_file);
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_ssl_errors(name, "private key", o->key_file);
		return -EINVAL;
	}
	return 0;
}

int tls_listener_init(struct sip_listener *li, const struct sip_tls_opts *o)
{
	static const unsigned char sid_ctx[] = "sbc-sip";
	SSL_CTX *srv = NULL, *cli = NULL;
	int err = -EINVAL;

	if (!o->cert_file || !o->key_file) {
		log_err("sip: TLS listener %s: cert_file and key_file are required", li->name);
		return -EINVAL;
	}
	pthread_once(&bio_once, bio_meth_init);
	if (!bio_meth)
		return -ENOMEM;
	ERR_clear_error();
	srv = ctx_new(TLS_server_method());
	cli = ctx_new(TLS_client_method());
	if (!srv || !cli) {
		log_ssl_errors(li->name, "SSL_CTX_new", NULL);
		err = -ENOMEM;
		goto out;
	}
	if (use_cert(srv, o, li->name))
		goto out;
	/* resumed sessions of verified clients need a session id context */
	SSL_CTX_set_session_id_context(srv, sid_ctx, sizeof(sid_ctx) - 1);
	if (o->verify_client) {
		if (load_ca(srv, o->ca_file)) {
			log_ssl_errors(li->name, "CA file", o->ca_file);
			goto out;
		}
		if (o->ca_file) {
			STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);

			if (names)
				SSL_CTX_set_client_CA_list(srv, names);
		}
		SSL_CTX_set_verify(srv, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	if (!o->anonymous_client && use_cert(cli, o, li->name))
		goto out;
	if (o->no_verify_server) {
		SSL_CTX_set_verify(cli, SSL_VERIFY_NONE, NULL);
		log_warn("sip: TLS listener %s: server certificates are NOT verified", li->name);
	} else {
		if (load_ca(cli, o->ca_file)) {
			log_ssl_errors(li->name, "CA file", o->ca_file);
			goto out;
		}
		SSL_CTX_set_verify(cli, SSL_VERIFY_PEER, NULL);
	}
	li->srv_ctx = srv;
	li->cli_ctx = cli;
	return 0;
out:
	SSL_CTX_free(srv);
	SSL_CTX_free(cli);
	ERR_clear_error();
	return err;
}

void tls_listener_free(struct sip_listener *li)
{
	SSL_CTX_free(li->srv_ctx);
	SSL_CTX_free(li->cli_ctx);
	li->srv_ctx = NULL;
	li->cli_ctx = NULL;
}

int tls_conn_init(struct sip_conn *c, bool server, const char *name)
{
	SSL *ssl = SSL_new(server ? c->li->srv_ctx : c->li->cli_ctx);
	BIO *bio;

	if (!ssl)
		goto nomem;
	bio = BIO_new(bio_meth);
	if (!bio)
		goto nomem;
	BIO_set_data(bio, c);
	BIO_set_init(bio, 1);
	SSL_set_bio(ssl, bio, bio);
	if (server) {
		SSL_set_accept_state(ssl);
		c->hs_want_wr = false;
	} else {
		SSL_set_connect_state(ssl);
		c->hs_want_wr = true; /* the client speaks first */
		if (name) {
			struct sa ip;

			c->tls_name = strdup(name);
			if (!c->tls_name)
				goto nomem;
			/* checked by the verification, when it is on */
			if (sa_parse_cstr(&ip, name, 0) == 0) {
				/* an address: no SNI (RFC 6066 §3), match an IP SAN */
				char addr[SA_STRLEN];

				sa_print_addr(&ip, addr, sizeof(addr));
				if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), addr))
					goto nomem;
			} else {
				SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
				if (!SSL_set_tlsext_host_name(ssl, name) ||
				    !SSL_set1_host(ssl, name))
					goto nomem;
			}
		}
	}
	c->ssl = ssl;
	return 0;
nomem:
	SSL_free(ssl);
	ERR_clear_error();
	return -ENOMEM;
}

/* Logs why the TLS session failed (rate-limited per peer) and stops it from sending more. */
static void tls_fail(struct sip_conn *c, const char *what, int e)
{
	long vr = SSL_get_verify_result(c->ssl);
	unsigned long ee = ERR_peek_last_error();
	char buf[256];
	const char *why;

	if (vr != X509_V_OK)
		why = X509_verify_cert_error_string(vr);
	else if (ee)
		why = ERR_error_string(ee, buf);
	else if (e == SSL_ERROR_SYSCALL)
		why = c->rd_eof ? "unexpected end of file" : strerror(errno);
	else
		why = "failed";
	conn_log(c, LOG_LVL_NOTICE, "TLS %s: %s", what, why);
	SSL_set_quiet_shutdown(c->ssl, 1); /* no close_notify after a fatal error */
	ERR_clear_error();
}

int tls_handshake(struct sip_conn *c)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->hs_want_wr = false;
		log_debug("sip: TLS connection #%llu: %s %s", (unsigned long long)c->id,
			  SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
		return 0;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->hs_want_wr = e == SSL_ERROR_WANT_WRITE;
		return -EAGAIN;
	}
	tls_fail(c, "handshake", e);
	return -EPROTO;
}

ssize_t tls_read(struct sip_conn *c, void *buf, size_t len)
{
	size_t n;
	int e;

	ERR_clear_error();
	errno = 0;
	c->rd_want_wr = false;
	if (SSL_read_ex(c->ssl, buf, len, &n))
		return (ssize_t)n;
	e = SSL_get_error(c->ssl, 0);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->rd_want_wr = true;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (c->rd_eof || errno == 0) {
			SSL_set_quiet_shutdown(c->ssl, 1);
			return 0;
		}
		e = errno;
		SSL_set_quiet_shutdown(c->ssl, 1);
		return -e;
	default:
		tls_fail(c, "read", e);
		return -EPROTO;
	}
}

ssize_t tls_write(struct sip_conn *c, const void *buf, size_t len)
{
	size_t n;
	int e;

	ERR_clear_error();
	errno = 0;
	c->wr_want_rd = false;
	if (SSL_write_ex(c->ssl, buf, len, &n))
		return (ssize_t)n;
	e = SSL_get_error(c->ssl, 0);
	switch (e) {
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_WANT_READ:
		c->wr_want_rd = true;
		return -EAGAIN;
	case SSL_ERROR_SYSCALL:
		e = errno ? errno : EPIPE;
		SSL_set_quiet_shutdown(c->ssl, 1);
		return -e;
	default:
		tls_fail(c, "write", e);
		return -EPROTO;
	}
}

bool tls_pending(const struct sip_conn *c)
{
	return SSL_pending(c->ssl) > 0;
}

void tls_conn_free(struct sip_conn *c)
{
	if (!c->ssl)
		return;
	if (c->fd >= 0 && c->state == CONN_OPEN) {
		ERR_clear_error();
		SSL_shutdown(c->ssl); /* one close_notify, no waiting for the peer's */
	}
	SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
}
