/* SPDX-License-Identifier: MIT */
/* rtnetlink: link events as they happen, full re-dumps when events were
 * lost, and the few link changes gonad makes: promiscuous mode, a VF's
 * trust and spoof checking through its PF, and a VF's unicast filter. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <net/if.h> /* before linux/if.h, which then adds only IFF_LOWER_UP */
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/attr.h>
#include <netlink/route/link.h>
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
	bool dump_short; /* a link of the dump found no room: it is void */
	bool resync_due; /* a re-dump after lost events did not succeed */
};

/* Attempts at a dump the kernel interrupts (links changed meanwhile). */
#define NL_DUMP_TRIES 5

static int command(struct nlmon *nl, struct nl_msg *msg);

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

		/* The rest of the dump is still read, so the socket stays
		 * in step; a dump missing a link is not acted on (the link
		 * would be taken as gone). */
		if (!d) {
			nl->dump_short = true;
			return NL_SKIP;
		}
		nl->dump = d;
		nl->dump_cap = cap;
	}
	nl->dump[nl->n_dump++] = li;
	return NL_OK;
}

/*
 * Read every link and act on the whole: what the dump does not show has
 * gone. A dump the kernel interrupts (a link changed while it was being
 * read: NLM_F_DUMP_INTR) is read again, up to NL_DUMP_TRIES times; one
 * that could not be kept whole changes nothing and fails.
 */
int nlmon_resync(struct nlmon *nl)
{
	int r = -NLE_DUMP_INTR;

	for (int i = 0; i < NL_DUMP_TRIES && r == -NLE_DUMP_INTR; i++) {
		nl->n_dump = 0;
		nl->dump_short = false;
		nl->dumping = true;
		r = nl_rtgen_request(nl->cmd, RTM_GETLINK, AF_UNSPEC,
				     NLM_F_DUMP);
		if (r >= 0)
			r = nl_recvmsgs_default(nl->cmd);
		nl->dumping = false;
	}
	if (r >= 0 && nl->dump_short)
		r = -NLE_NOMEM;
	if (r < 0) {
		log_warnx("cannot dump links: %s%s", nl_geterror(r),
			  r == -NLE_DUMP_INTR ? " (interrupted every time)"
					      : "");
		return nl_err(r);
	}
	nl->resync_due = false;
	state_resync_begin(nl->g);
	for (size_t i = 0; i < nl->n_dump; i++)
		nl->cb(nl->g, &nl->dump[i]);
	state_resync_end(nl->g);
	return 0;
}

/* Throw away the events still queued on the monitor socket: older than
 * the dump that follows, applied after it they would undo what it says. */
static void drop_queued(struct nlmon *nl)
{
	char buf[256];
	int fd = nl_socket_get_fd(nl->mon);

	/* A queued message longer than BUF is dropped whole all the same.
	 * Bounded: links that never stop changing end it too. */
	for (int i = 0; i < 1000000; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC) < 0 &&
		    errno != ENOBUFS)
			break;
}

void nlmon_retry(struct nlmon *nl)
{
	if (nl->resync_due && !nlmon_resync(nl))
		log_info("links re-read after lost events");
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
			 * tells what changed meanwhile, and the events still
			 * queued are older than it. A dump that fails is tried
			 * again at the next sample (nlmon_retry). */
			log_warnx("link events lost; re-reading every link");
			drop_queued(nl);
			nl->resync_due = true;
			nlmon_retry(nl);
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
	/* A PF's link with its VFs' details exceeds a page: each message is
	 * received whole, in a buffer of its size. */
	nl_socket_enable_msg_peek(sk);
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
	if (r < 0) {
		nlmsg_free(msg);
		return nl_err(r);
	}
	return command(nl, msg);
}

/* Send MSG on the command socket and wait for the kernel's answer. */
static int command(struct nlmon *nl, struct nl_msg *msg)
{
	int r = nl_send_auto(nl->cmd, msg);

	nlmsg_free(msg);
	if (r >= 0)
		r = nl_wait_for_ack(nl->cmd);
	return r < 0 ? nl_err(r) : 0;
}

struct vf_query {
	int vf;
	struct nl_vf_state *out;
	bool found;
	bool acked;
};

static void vf_info(struct vf_query *q, struct nlattr *info)
{
	struct nlattr *tb[IFLA_VF_MAX + 1];
	struct nl_vf_state *o = q->out;
	const struct ifla_vf_mac *mac;

	if (nla_parse_nested(tb, IFLA_VF_MAX, info, NULL) < 0 ||
	    !tb[IFLA_VF_MAC] ||
	    nla_len(tb[IFLA_VF_MAC]) < (int)sizeof(struct ifla_vf_mac))
		return;
	mac = nla_data(tb[IFLA_VF_MAC]);
	if ((int)mac->vf != q->vf)
		return;
	q->found = true;
	memcpy(o->mac, mac->mac, 6);
	if (tb[IFLA_VF_VLAN] &&
	    nla_len(tb[IFLA_VF_VLAN]) >= (int)sizeof(struct ifla_vf_vlan)) {
		const struct ifla_vf_vlan *v = nla_data(tb[IFLA_VF_VLAN]);

		o->vlan = v->vlan;
	}
	if (tb[IFLA_VF_SPOOFCHK] &&
	    nla_len(tb[IFLA_VF_SPOOFCHK]) >=
		    (int)sizeof(struct ifla_vf_spoofchk)) {
		const struct ifla_vf_spoofchk *v =
			nla_data(tb[IFLA_VF_SPOOFCHK]);

		o->spoofchk = (int)v->setting;
	}
	if (tb[IFLA_VF_TRUST] &&
	    nla_len(tb[IFLA_VF_TRUST]) >= (int)sizeof(struct ifla_vf_trust)) {
		const struct ifla_vf_trust *v = nla_data(tb[IFLA_VF_TRUST]);

		o->trust = (int)v->setting;
	}
	if (tb[IFLA_VF_LINK_STATE] &&
	    nla_len(tb[IFLA_VF_LINK_STATE]) >=
		    (int)sizeof(struct ifla_vf_link_state)) {
		const struct ifla_vf_link_state *v =
			nla_data(tb[IFLA_VF_LINK_STATE]);

		o->link_state = (int)v->link_state;
	}
}

static int on_vf_ack(struct nl_msg *msg, void *arg)
{
	struct vf_query *q = arg;

	(void)msg;
	q->acked = true;
	return NL_STOP;
}

static int on_vf_link(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nh = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1], *info;
	struct vf_query *q = arg;
	int rem;

	if (nh->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(nh, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0 ||
	    !tb[IFLA_VFINFO_LIST])
		return NL_OK;
	nla_for_each_nested(info, tb[IFLA_VFINFO_LIST],
			    rem) if (nla_type(info) == IFLA_VF_INFO)
		vf_info(q, info);
	return NL_OK;
}

int nl_vf_get(struct nlmon *nl, int pf_ifindex, int vf, struct nl_vf_state *out)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
				 .ifi_index = pf_ifindex };
	struct vf_query q = { .vf = vf, .out = out };
	struct nl_msg *msg;
	struct nl_cb *cb;
	int r;

	*out = (struct nl_vf_state){ .spoofchk = -1,
				     .trust = -1,
				     .link_state = -1 };
	/* libnl asks for an acknowledgement after the answer: both are
	 * read here, or the next command would take this one's. */
	msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
	cb = nl_cb_clone(nl_socket_get_cb(nl->cmd));
	if (!msg || !cb) {
		nlmsg_free(msg);
		if (cb)
			nl_cb_put(cb);
		return -ENOMEM;
	}
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (r >= 0)
		r = nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_VF);
	if (r >= 0)
		r = nl_send_auto(nl->cmd, msg);
	nlmsg_free(msg);
	/* The answer goes to this query, not to the link monitor's
	 * handler the socket has by default. */
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_vf_link, &q);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_vf_ack, &q);
	while (r >= 0 && !q.acked)
		r = nl_recvmsgs(nl->cmd, cb);
	nl_cb_put(cb);
	if (r < 0)
		return nl_err(r);
	return q.found ? 0 : -ENOENT;
}

int nl_vf_set(struct nlmon *nl, int pf_ifindex, int vf, int attr, bool on)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
				 .ifi_index = pf_ifindex };
	/* ifla_vf_trust and ifla_vf_spoofchk are the same two words. */
	struct ifla_vf_trust v = { .vf = (uint32_t)vf, .setting = on };
	struct nlattr *list, *info;
	struct nl_msg *msg;

	if (attr != IFLA_VF_TRUST && attr != IFLA_VF_SPOOFCHK)
		return -EINVAL;
	msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(list = nla_nest_start(msg, IFLA_VFINFO_LIST)) ||
	    !(info = nla_nest_start(msg, IFLA_VF_INFO)) ||
	    nla_put(msg, attr, sizeof(v), &v) < 0) {
		nlmsg_free(msg);
		return -ENOBUFS;
	}
	nla_nest_end(msg, info);
	nla_nest_end(msg, list);
	return command(nl, msg);
}

int nl_fdb_self(struct nlmon *nl, int ifindex, const uint8_t mac[6], bool add)
{
	struct ndmsg ndm = { .ndm_family = AF_BRIDGE,
			     .ndm_ifindex = ifindex,
			     .ndm_state = NUD_PERMANENT,
			     .ndm_flags = NTF_SELF };
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(add ? RTM_NEWNEIGH : RTM_DELNEIGH,
				 NLM_F_REQUEST | NLM_F_ACK |
					 (add ? NLM_F_CREATE : 0));
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, NDA_LLADDR, 6, mac) < 0) {
		nlmsg_free(msg);
		return -ENOBUFS;
	}
	return command(nl, msg);
}

int nl_vlan_dev(struct nlmon *nl, int link, const char *name, uint16_t vid,
		bool add)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nlattr *info, *data;
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(add ? RTM_NEWLINK : RTM_DELLINK,
				 NLM_F_REQUEST | NLM_F_ACK |
					 (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, name) < 0)
		goto full;
	if (add) {
		if (nla_put_u32(msg, IFLA_LINK, (uint32_t)link) < 0 ||
		    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
		    nla_put_string(msg, IFLA_INFO_KIND, "vlan") < 0 ||
		    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
		    nla_put_u16(msg, IFLA_VLAN_ID, vid) < 0)
			goto full;
		nla_nest_end(msg, data);
		nla_nest_end(msg, info);
	}
	return command(nl, msg);
full:
	nlmsg_free(msg);
	return -ENOBUFS;
}

int nl_veth_del(struct nlmon *nl, const char *name)
{
	struct rtnl_link *link = NULL;
	const char *kind;
	int r = rtnl_link_get_kernel(nl->cmd, 0, name, &link);

	if (r < 0)
		return nl_err(r);
	kind = rtnl_link_get_type(link);
	if (!kind || strcmp(kind, "veth"))
		r = -EMEDIUMTYPE;
	else
		r = rtnl_link_delete(nl->cmd, link) < 0 ? -EIO : 0;
	rtnl_link_put(link);
	return r;
}
