/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loading and attaching the relay's XDP program with libbpf. The object is linked into the
 * binary (relay_bpf.S, .incbin), so nothing is installed beside it. Each netdev gets its own
 * copy of the program, because the XSKMAP is indexed by queue and queue 0 exists on every
 * netdev; the `flows` map is created once and reused by every copy.
 */
#include "xdp_prog.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* relay_bpf.S */
extern const unsigned char sbc_relay_bpf_start[];
extern const unsigned char sbc_relay_bpf_end[];

void xdp_prog_init(struct xdp_prog *p)
{
	memset(p, 0, sizeof(*p));
	p->flows_fd = -1;
}

/* libbpf's warnings (a verifier refusal's log among them) at debug level; the callers report
 * failures once, with their errno, at warning level. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level > LIBBPF_WARN)
		return 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* libbpf's own format */
	vsnprintf(line, sizeof(line), fmt, ap);
#pragma GCC diagnostic pop
	line[strcspn(line, "\n")] = '\0'; /* a multi-line log: its first line (the reason) */
	log_debug("%s", line);		  /* libbpf prefixes its own */
	return 0;
}

static int obj_load(struct xdp_prog *p, struct xdp_prog_dev *d)
{
	struct bpf_program *prog;
	struct bpf_map *flows;
	int err;

	libbpf_set_print(libbpf_log);
	d->obj = bpf_object__open_mem(sbc_relay_bpf_start,
				      (size_t)(sbc_relay_bpf_end - sbc_relay_bpf_start), NULL);
	if (!d->obj) {
		err = -errno;
		return err ? err : -EINVAL;
	}
	flows = bpf_object__find_map_by_name(d->obj, "flows");
	prog = bpf_object__find_program_by_name(d->obj, "sbc_relay");
	if (!flows || !prog)
		return -ENOENT;
	if (p->flows_fd >= 0 && (err = bpf_map__reuse_fd(flows, p->flows_fd)) < 0)
		return err;
	err = bpf_object__load(d->obj);
	if (err)
		return err;
	d->prog_fd = bpf_program__fd(prog);
	d->xsks_fd = bpf_object__find_map_fd_by_name(d->obj, "xsks");
	if (p->flows_fd < 0)
		p->flows_fd = dup(bpf_map__fd(flows));
	return d->prog_fd >= 0 && d->xsks_fd >= 0 && p->flows_fd >= 0 ? 0 : -ENOENT;
}

/*
 * Native first; where the driver has no XDP (lo, some veth set-ups) the generic hook. Through
 * a BPF link, which the kernel detaches when its last descriptor closes: a relay killed or
 * crashed leaves no program behind to refuse the next start (a netlink attach would).
 */
static int dev_attach(struct xdp_prog_dev *d)
{
	const uint32_t modes[] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	int err = -EOPNOTSUPP;

	for (unsigned i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = modes[i]);
		int fd = bpf_link_create(d->prog_fd, d->ifindex, BPF_XDP, &opts);

		if (fd >= 0) {
			d->link_fd = fd;
			d->flags = modes[i];
			return 0;
		}
		err = -errno;
		if (err == -EBUSY || err == -EEXIST || err == -EPERM)
			return err == -EEXIST ? -EBUSY : err;
	}
	return err;
}

static void dev_release(struct xdp_prog_dev *d)
{
	if (d->link_fd >= 0)
		close(d->link_fd); /* detaches ours only: the link holds exactly our program */
	d->link_fd = -1;
	bpf_object__close(d->obj);
	d->obj = NULL;
}

int xdp_prog_attach(struct xdp_prog *p, int ifindex)
{
	struct xdp_prog_dev *d;
	int err;

	for (unsigned i = 0; i < p->ndevs; i++) {
		if (p->devs[i].ifindex == ifindex)
			return (int)i;
	}
	if (p->ndevs == XDP_PROG_DEVS_MAX)
		return -ENOSPC;
	d = &p->devs[p->ndevs];
	memset(d, 0, sizeof(*d));
	d->ifindex = ifindex;
	d->link_fd = -1;
	err = obj_load(p, d);
	if (!err)
		err = dev_attach(d);
	if (err) {
		dev_release(d);
		return err;
	}
	return (int)p->ndevs++;
}

void xdp_prog_detach_all(struct xdp_prog *p)
{
	for (unsigned i = 0; i < p->ndevs; i++)
		dev_release(&p->devs[i]);
	p->ndevs = 0;
	if (p->flows_fd >= 0)
		close(p->flows_fd);
	p->flows_fd = -1;
}

int xdp_flow_key(struct xdp_flow_key *k, const struct sa *local)
{
	memset(k, 0, sizeof(*k));
	switch (sa_family(local)) {
	case AF_INET:
		k->family = 4;
		memcpy(k->addr, &local->u.in.sin_addr, 4);
		k->port = local->u.in.sin_port;
		return 0;
	case AF_INET6:
		k->family = 6;
		memcpy(k->addr, &local->u.in6.sin6_addr, 16);
		k->port = local->u.in6.sin6_port;
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}

int xdp_prog_flow_add(struct xdp_prog *p, const struct sa *local, int ifindex)
{
	struct xdp_flow_key k;
	uint32_t home = (uint32_t)ifindex;
	int err = xdp_flow_key(&k, local);

	if (err)
		return err;
	return bpf_map_update_elem(p->flows_fd, &k, &home, BPF_ANY) < 0 ? -errno : 0;
}

int xdp_prog_flow_del(struct xdp_prog *p, const struct sa *local)
{
	struct xdp_flow_key k;
	int err = xdp_flow_key(&k, local);

	if (err)
		return err;
	return bpf_map_delete_elem(p->flows_fd, &k) < 0 ? -errno : 0;
}
