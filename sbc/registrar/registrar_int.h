/* SPDX-License-Identifier: BSD-2-Clause */
/** @file registrar_int.h  What registrar.c shares with relay.c (private). */
#ifndef SBC_REGISTRAR_REGISTRAR_INT_H
#define SBC_REGISTRAR_REGISTRAR_INT_H

#include "registrar.h"
#include "relay.h"

struct reg_contacts {
	struct location_binding b[LOCATION_MAX_BINDINGS]; /* views into the request */
	unsigned n;
	bool star; /* "Contact: *" (then n is 0) */
};

/*
 * The checks every REGISTER goes through first: To, the AOR key (written to
 * @p aor, LOCATION_AOR_MAX bytes), Require. @return 0 to go on, else the
 * length of the response in @p out, or a negative errno.
 */
long registrar_front(struct registrar *r, const struct sip_msg *req, const struct sip_flow *flow,
		     char *aor, char *out, size_t size);

/*
 * The Contacts of @p req, with expiries (max_expires applied). @return 0, or
 * the status to answer (400, 403, 423) with @p reason (NULL: the standard one).
 */
unsigned registrar_read_contacts(const struct registrar *r, const struct sip_msg *req,
				 struct reg_contacts *out, const char **reason);

/* The status for a location_register / location_unregister_all error; 0 for none. */
unsigned registrar_location_status(int err, const char **reason);

/* @p code with no header but Min-Expires on 423. @return the length or a negative errno. */
long registrar_reply_status(struct registrar *r, const struct sip_msg *req,
			    const struct sip_flow *flow, unsigned code, const char *reason,
			    char *out, size_t size);
/* 200 with the bindings of @p aor. */
long registrar_reply_ok(struct registrar *r, const struct sip_msg *req, const struct sip_flow *flow,
			struct strv aor, char *out, size_t size);

struct timers *registrar_timers(struct registrar *r);

/* relay.c */
void registrar_relay_attach(struct registrar *r, struct registrar_relay *rr);
struct registrar_relay *registrar_relay_of(const struct registrar *r);
int registrar_relay_handle(struct registrar_relay *rr, struct sip_tsx *st,
			   const struct sip_msg *req);
/* The AOR key that relay key @p user names (into @p aor). @return its length or -ENOENT. */
int registrar_relay_aor(const struct registrar_relay *rr, struct strv user, char *aor);
void registrar_relay_free(struct registrar_relay *rr);

#endif
