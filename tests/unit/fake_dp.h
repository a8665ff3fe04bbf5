/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A fake dataplane for the relay's control-plane tests and fuzzing: records flows, their
 * parameters and links; counters are set by the test. Header-only, so each test program gets
 * its own copy.
 */
#ifndef SBC_TESTS_FAKE_DP_H
#define SBC_TESTS_FAKE_DP_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dataplane/dataplane.h"

#define FAKE_DP_FLOWS 512

struct fake_flow {
	bool used;
	struct dp_flow_params p;
	dp_flow_t out;
	dp_flow_t out_rtcp; /* dp_flow_link_rtcp */
	unsigned updates;
	struct dp_flow_stats st;
};

struct fake_dp {
	struct dataplane base;
	struct fake_flow flows[FAKE_DP_FLOWS];
	unsigned live, adds, dels;
	uint16_t busy_port; /* flow_add on this port fails with -EADDRINUSE */
	int del_error;	    /* flow_del fails with it (the flow stays), e.g. -ETIMEDOUT */
};

static inline struct fake_flow *fake_flow_get(struct dataplane *dp, dp_flow_t f)
{
	struct fake_dp *fd = (struct fake_dp *)dp;

	if (f == 0 || f > FAKE_DP_FLOWS || !fd->flows[f - 1].used)
		return NULL;
	return &fd->flows[f - 1];
}

static inline int fake_flow_add(struct dataplane *dp, const struct dp_flow_params *p,
				dp_flow_t *out)
{
	struct fake_dp *fd = (struct fake_dp *)dp;

	if (fd->busy_port && sa_port(&p->local) == fd->busy_port)
		return -EADDRINUSE;
	for (unsigned i = 0; i < FAKE_DP_FLOWS; i++) {
		struct fake_flow *f = &fd->flows[i];

		if (f->used) {
			/* two live flows never share a local address */
			if (sa_equal(&f->p.local, &p->local))
				return -EADDRINUSE;
			continue;
		}
	}
	for (unsigned i = 0; i < FAKE_DP_FLOWS; i++) {
		struct fake_flow *f = &fd->flows[i];

		if (f->used)
			continue;
		memset(f, 0, sizeof(*f));
		f->used = true;
		f->p = *p;
		fd->live++;
		fd->adds++;
		*out = i + 1;
		return 0;
	}
	return -ENOMEM;
}

static inline int fake_flow_update(struct dataplane *dp, dp_flow_t f,
				   const struct dp_flow_params *p)
{
	struct fake_flow *ff = fake_flow_get(dp, f);

	if (!ff)
		return -ENOENT;
	if (!sa_equal(&ff->p.local, &p->local))
		return -EINVAL;
	ff->p = *p;
	ff->updates++;
	return 0;
}

static inline int fake_flow_link(struct dataplane *dp, dp_flow_t in, dp_flow_t out)
{
	struct fake_flow *ff = fake_flow_get(dp, in);

	if (!ff || (out && !fake_flow_get(dp, out)))
		return -ENOENT;
	ff->out = out;
	return 0;
}

static inline int fake_flow_link_rtcp(struct dataplane *dp, dp_flow_t in, dp_flow_t out)
{
	struct fake_flow *ff = fake_flow_get(dp, in);

	if (!ff || (out && !fake_flow_get(dp, out)))
		return -ENOENT;
	ff->out_rtcp = out;
	return 0;
}

static inline int fake_flow_del(struct dataplane *dp, dp_flow_t f)
{
	struct fake_dp *fd = (struct fake_dp *)dp;
	struct fake_flow *ff = fake_flow_get(dp, f);

	if (!ff)
		return -ENOENT;
	if (fd->del_error)
		return fd->del_error;
	ff->used = false;
	fd->live--;
	fd->dels++;
	/* links into a deleted flow are gone with it */
	for (unsigned i = 0; i < FAKE_DP_FLOWS; i++) {
		if (fd->flows[i].out == f)
			fd->flows[i].out = 0;
		if (fd->flows[i].out_rtcp == f)
			fd->flows[i].out_rtcp = 0;
	}
	return 0;
}

static inline int fake_flow_stats(struct dataplane *dp, dp_flow_t f, struct dp_flow_stats *out)
{
	struct fake_flow *ff = fake_flow_get(dp, f);

	if (!ff)
		return -ENOENT;
	*out = ff->st;
	return 0;
}

static inline void fake_free(struct dataplane *dp)
{
	(void)dp;
}

static const struct dataplane_ops fake_dp_ops = {
	.name = "fake",
	.flow_add = fake_flow_add,
	.flow_update = fake_flow_update,
	.flow_link = fake_flow_link,
	.flow_link_rtcp = fake_flow_link_rtcp,
	.flow_del = fake_flow_del,
	.flow_stats = fake_flow_stats,
	.free = fake_free,
};

static inline void fake_dp_init(struct fake_dp *fd)
{
	memset(fd, 0, sizeof(*fd));
	fd->base.ops = &fake_dp_ops;
}

/* The live flow bound on @p port, or NULL. */
static inline struct fake_flow *fake_flow_on_port(struct fake_dp *fd, uint16_t port)
{
	for (unsigned i = 0; i < FAKE_DP_FLOWS; i++) {
		if (fd->flows[i].used && sa_port(&fd->flows[i].p.local) == port)
			return &fd->flows[i];
	}
	return NULL;
}

#endif
