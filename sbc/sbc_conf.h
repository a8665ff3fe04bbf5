/* SPDX-License-Identifier: BSD-2-Clause */
/** @file sbc_conf.h  The settings of the sbc daemon (see conf/sbc.conf). */
#ifndef SBC_SBC_CONF_H
#define SBC_SBC_CONF_H

#include "common/conf.h"
#include "common/sa.h"
#include "media/media.h"
#include "registrar/registrar_conf.h"
#include "routing/forwarding.h"
#include "routing/routes_conf.h"
#include "sip/transport.h"

#define SBC_MAX_LISTENERS 16

struct sbc_listen_conf {
	char interface[32];
	struct sip_listen_opts opts; /* strings point into the struct conf */
};

#define SBC_MAX_HDR_NAMES 64

/** A next hop written "udp|tcp|tls:address[:port]". */
struct sbc_hop {
	enum sip_proto proto;
	struct sa addr;
};

/** b2bua.* (see conf/sbc.conf). */
struct sbc_b2bua_conf {
	bool has_default_route;	    /**< b2bua.default_route set */
	enum sip_proto route_proto; /**< its transport */
	struct sa route_addr;	    /**< its address and port */
	uint32_t no_answer_timeout_ms;
	uint32_t max_calls;
	const char *headers_allow[SBC_MAX_HDR_NAMES]; /* point into the struct conf */
	unsigned nheaders_allow;
	bool headers_allow_set; /**< false: the built-in list */
	const char *headers_deny[SBC_MAX_HDR_NAMES];
	unsigned nheaders_deny;
	bool headers_deny_set;
};

struct sbc_conf {
	struct sbc_listen_conf listen[SBC_MAX_LISTENERS];
	unsigned nlisten;
	struct sip_transport_opts transport;
	uint32_t t1_ms, t2_ms, t4_ms;
	uint32_t max_msg_size;
	const char *control_socket;
	const char *cdr_file; /* NULL: no CDRs */
	struct sbc_b2bua_conf b2bua;
	struct registrar_settings registrar; /* owns its user table */
	struct media_conf media;	     /* media.*: no nodes = no anchoring */
	struct routes *routes;		     /* static routes; NULL: none (owned) */
	struct forwarding forwarding;	     /* per user, registrar.users.[].forward_* */
};

extern const struct conf_schema sbc_conf_schema;

/**
 * Reads and checks the settings from @p c into @p out (strings stay owned by @p c).
 * @return 0, or -EINVAL with "file:line: ..." in @p err.
 */
int sbc_conf_read(struct sbc_conf *out, const struct conf *c, char *err, size_t errlen);

/** Frees what sbc_conf_read allocated. */
void sbc_conf_clear(struct sbc_conf *cfg);

#endif
