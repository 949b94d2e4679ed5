/* SPDX-License-Identifier: MIT */
/* rtnetlink: link events as they happen, full re-dumps when events were
 * lost, and the few link changes gonad makes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <net/if.h> /* before linux/if.h, which then adds only IFF_LOWER_UP */
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/attr.h>
#include <netlink/route/rtnl.h>

#include "daemon/gonad.h"

/* Large enough for a burst of link flaps; a lost event costs a re-dump. */
#define NL_RCVBUF (8 * 1024 * 1024)

/*
 * Two sockets, as keepalived has them: the monitor only receives events, so
 * a reply to a command can never be mistaken for one, and the command socket
 * waits for its acknowledgements without events in the way.
 */
struct nlmon {
	struct gonad *g;
	struct nl_sock *mon;
	struct nl_sock *cmd;
	struct ev_source src;
	nl_link_cb cb;
	/* A dump is collected before it is acted on: acting may send
	 * commands on the socket the dump is still arriving on. */
	struct nl_link_info *dump;
	size_t n_dump, dump_cap;
	bool dumping;
};

int nl_err(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOBUFS;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	default:
		return -EIO;
	}
}

static int on_link_msg(struct nl_msg *msg, void *arg)
{
	struct nlmon *nl = arg;
	struct nlmsghdr *nh = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct nl_link_info li = { 0 };
	struct ifinfomsg *ifi;

	if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK)
		return NL_OK;
	if (nlmsg_parse(nh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_OK;
	ifi = nlmsg_data(nh);
	/* AF_BRIDGE messages describe bridge ports, not the links. */
	if (ifi->ifi_family != AF_UNSPEC || !tb[IFLA_IFNAME])
		return NL_OK;
	li.ifindex = ifi->ifi_index;
	li.flags = ifi->ifi_flags;
	li.gone = nh->nlmsg_type == RTM_DELLINK;
	nla_strlcpy(li.name, tb[IFLA_IFNAME], sizeof(li.name));
	if (tb[IFLA_CARRIER_CHANGES] &&
	    nla_len(tb[IFLA_CARRIER_CHANGES]) >= (int)sizeof(uint32_t)) {
		li.has_changes = true;
		li.carrier_changes = nla_get_u32(tb[IFLA_CARRIER_CHANGES]);
	}
	if (!nl->dumping) {
		nl->cb(nl->g, &li);
		return NL_OK;
	}
	if (nl->n_dump == nl->dump_cap) {
		size_t cap = nl->dump_cap ? 2 * nl->dump_cap : 64;
		struct nl_link_info *d = realloc(nl->dump, cap * sizeof(*d));

		if (!d)
			return NL_STOP;
		nl->dump = d;
		nl->dump_cap = cap;
	}
	nl->dump[nl->n_dump++] = li;
	return NL_OK;
}

int nlmon_resync(struct nlmon *nl)
{
	int r;

	nl->n_dump = 0;
	nl->dumping = true;
	r = nl_rtgen_request(nl->cmd, RTM_GETLINK, AF_UNSPEC, NLM_F_DUMP);
	if (r >= 0)
		r = nl_recvmsgs_default(nl->cmd);
	nl->dumping = false;
	if (r < 0) {
		log_warnx("cannot dump links: %s", nl_geterror(r));
		return nl_err(r);
	}
	state_resync_begin(nl->g);
	for (size_t i = 0; i < nl->n_dump; i++)
		nl->cb(nl->g, &nl->dump[i]);
	state_resync_end(nl->g);
	return 0;
}

static void on_readable(struct ev_source *src, uint32_t events)
{
	struct nlmon *nl = src->arg;
	int r;

	(void)events;
	for (;;) {
		r = nl_recvmsgs_default(nl->mon);
		if (r >= 0)
			continue;
		if (r == -NLE_AGAIN)
			break;
		if (r == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped events; only a full dump
			 * tells what changed meanwhile. */
			log_warnx("link events lost; re-reading every link");
			nlmon_resync(nl);
			continue;
		}
		log_warnx("link events: %s", nl_geterror(r));
		break;
	}
}

static struct nl_sock *nl_sock_new(struct nlmon *nl)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk)
		return NULL;
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_link_msg, nl);
	if (nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

int nlmon_open(struct gonad *g, struct nlmon **out, nl_link_cb cb)
{
	struct nlmon *nl;
	int size = NL_RCVBUF, fd, r;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->g = g;
	nl->cb = cb;
	nl->mon = nl_sock_new(nl);
	nl->cmd = nl_sock_new(nl);
	if (!nl->mon || !nl->cmd) {
		r = -ENOMEM;
		goto err;
	}
	nl_socket_disable_seq_check(nl->mon);
	r = nl_socket_add_membership(nl->mon, RTNLGRP_LINK);
	if (r < 0) {
		r = nl_err(r);
		goto err;
	}
	fd = nl_socket_get_fd(nl->mon);
	/* FORCE passes rmem_max; gonad runs as root, and if not, the
	 * default buffer only means more re-dumps. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	nl_socket_set_nonblocking(nl->mon);
	nl->src.fd = fd;
	nl->src.ready = on_readable;
	nl->src.arg = nl;
	r = ev_add(g, &nl->src, EPOLLIN);
	if (r)
		goto err;
	*out = nl;
	return 0;
err:
	if (nl->mon)
		nl_socket_free(nl->mon);
	if (nl->cmd)
		nl_socket_free(nl->cmd);
	free(nl);
	return r;
}

void nlmon_close(struct gonad *g, struct nlmon *nl)
{
	if (!nl)
		return;
	ev_del(g, &nl->src);
	nl_socket_free(nl->mon);
	nl_socket_free(nl->cmd);
	free(nl->dump);
	free(nl);
}

int nl_set_promisc(struct nlmon *nl, int ifindex, bool on)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = on ? IFF_PROMISC : 0,
		.ifi_change = IFF_PROMISC,
	};
	struct nl_msg *msg;
	int r;

	msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (r >= 0)
		r = nl_send_auto(nl->cmd, msg);
	nlmsg_free(msg);
	if (r >= 0)
		r = nl_wait_for_ack(nl->cmd);
	return r < 0 ? nl_err(r) : 0;
}
