/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Deleting calls from the sockets dataplane: mean latency of deleting one call (its flows,
 * linked both ways) with N calls live on one worker, as the control thread sees it.
 *
 *   build-rel/tests/bench/bench_flow_del [calls ...]     (default: 50 5000)
 *
 * A call is an rtcp-mux stream: 2 flows on 127.0.0.1 (so 5000 calls fit 20000 descriptors).
 * Each call is deleted with one dp_flow_del_many (one wait for both flows).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/sockets/sockets.h"

#define FLOWS_PER_CALL 2
#define DELETED	       200

static uint16_t next_port = 20000;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int flow_add(struct dataplane *dp, uint32_t group, dp_flow_t *id)
{
	struct dp_flow_params p;

	memset(&p, 0, sizeof(p));
	p.group = group;
	sa_init(&p.latch.expected);
	sa_init(&p.latch.received_from);
	p.latch.window_ms = 10000;
	for (;;) {
		int err;

		if (next_port == 0)
			return -ENOSPC;
		sa_init(&p.local);
		if (sa_parse_cstr(&p.local, "127.0.0.1", next_port++) != 0)
			return -EINVAL;
		err = dp_flow_add(dp, &p, id);
		if (err != -EADDRINUSE)
			return err;
	}
}

static int call_add(struct dataplane *dp, uint32_t group, dp_flow_t *f)
{
	for (int i = 0; i < FLOWS_PER_CALL; i++) {
		int err = flow_add(dp, group, &f[i]);

		if (err)
			return err;
	}
	if (dp_flow_link(dp, f[0], f[1]) || dp_flow_link(dp, f[1], f[0]))
		return -EIO;
	return 0;
}

static int call_del(struct dataplane *dp, const dp_flow_t *f)
{
	return dp_flow_del_many(dp, f, FLOWS_PER_CALL);
}

static int run(unsigned calls)
{
	struct dp_sockets_conf conf = { .workers = 1 };
	dp_flow_t(*f)[FLOWS_PER_CALL] = calloc(calls, sizeof(*f));
	struct dataplane *dp;
	double t;
	unsigned from = calls > DELETED ? calls - DELETED : 0;

	if (!f || dp_sockets_alloc(&dp, &conf) != 0)
		return 1;
	next_port = 20000;
	for (unsigned i = 0; i < calls; i++) {
		if (call_add(dp, i, f[i]) != 0) {
			fprintf(stderr, "call_add %u failed\n", i);
			return 1;
		}
	}
	t = now_s();
	for (unsigned i = from; i < calls; i++) {
		if (call_del(dp, f[i]) != 0)
			return 1;
	}
	t = now_s() - t;
	printf("calls=%u flows=%u delete=%.4f ms/call\n", calls, calls * FLOWS_PER_CALL,
	       t * 1e3 / (calls - from));
	dataplane_free(dp);
	free(f);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned dflt[] = { 50, 5000 };
	int rc = 0;

	if (argc < 2) {
		for (unsigned i = 0; i < 2; i++)
			rc |= run(dflt[i]);
		return rc;
	}
	for (int i = 1; i < argc; i++)
		rc |= run((unsigned)strtoul(argv[i], NULL, 10));
	return rc;
}
