/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ng control plane on a fake dataplane: the input is one or more datagrams separated by
 * NUL bytes, answered in order by one server whose calls live on across the datagrams of an
 * input (offer, answer, query, delete of the same call). Every answered datagram must get a
 * well-formed reply "<cookie> d...e" with a result. After each input every call is timed out,
 * which checks that ports and flows all come back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fake_dp.h"
#include "common/bencode.h"
#include "common/loop.h"
#include "rtpengine/call.h"
#include "rtpengine/iface.h"
#include "rtpengine/ng.h"
#include "rtpengine/ports.h"

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct loop *loop;
static struct fake_dp dp;
static struct iface ifaces[2];
static struct calls *calls;
static struct ng_server *ng;
static char reply[65536];
static struct bencode_node nodes[4096];

static void init(void)
{
	struct iface_conf ic[2] = {
		{ .name = "access", .port_min = 30000, .port_max = 30031 },
		{ .name = "core", .port_min = 40000, .port_max = 40031 },
	};
	struct calls_conf cc = {
		.limits.timeout_ms = 1000,
		.limits.silent_timeout_ms = 2000,
		.limits.offer_timeout_ms = 1000,
		.limits.final_timeout_ms = 5000,
		.limits.latch_window_ms = 1000,
		.limits.max_sessions = 8,
	};
	struct sa addr;

	CHECK(loop_alloc(&loop) == 0);
	fake_dp_init(&dp);
	sa_parse_cstr(&ic[0].local, "127.0.0.1", 0);
	sa_parse_cstr(&ic[1].local, "::1", 0);
	CHECK(iface_init(&ifaces[0], &ic[0], 1) == 0);
	CHECK(iface_init(&ifaces[1], &ic[1], 2) == 0);
	cc.dp = &dp.base;
	cc.ifaces = ifaces;
	cc.nifaces = 2;
	CHECK(calls_alloc(&calls, &cc) == 0);
	sa_parse_cstr(&addr, "127.0.0.1:0", 0);
	CHECK(ng_server_alloc(&ng, loop, &addr, calls) == 0);
}

static void check_reply(int n)
{
	struct bencode_doc doc;
	const char *sp;
	struct strv result;

	if (n <= 0) /* -1: unanswerable; 0: a reply to a notification */
		return;
	sp = memchr(reply, ' ', (size_t)n);
	CHECK(sp);
	bencode_doc_init(&doc, nodes, 4096);
	CHECK(bencode_decode(&doc, sp + 1, (size_t)(reply + n - sp - 1), NULL, NULL) == 0);
	CHECK(bencode_root(&doc)->type == BENCODE_DICT);
	CHECK(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("result"), &result));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	if (!loop)
		init();
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t len = (size_t)((nul ? nul : end) - p);

		check_reply(ng_process(ng, p, len, reply, sizeof(reply)));
		p += len + 1;
	}
	calls_tick(calls, loop_now_ms(loop) + 10000000);
	CHECK(calls_counters(calls)->current == 0);
	CHECK(dp.live == 0);
	CHECK(ports_available(ifaces[0].ports) == ports_total(ifaces[0].ports));
	CHECK(ports_available(ifaces[1].ports) == ports_total(ifaces[1].ports));
	return 0;
}
