/* SPDX-License-Identifier: MIT */
/* Traffic control objects through libnl: the qdiscs and classes gonad's
 * QoS backends build, and the data path's filter of a guest, created,
 * changed and removed without running tc. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/route/class.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/tc.h>

#include "daemon/gonad.h"

struct tc {
	struct nl_sock *sk;
	char said[256]; /* the kernel's message for the last refusal */
};

/* A refusal: the kernel's message, if it sent one (NETLINK_EXT_ACK),
 * kept for tc_said; the error stands (NL_STOP). */
static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct tc *tc = arg;
	size_t off = sizeof(*e);

	(void)who;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (NLMSG_HDRLEN + off >= h->nlmsg_len ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      (int)(h->nlmsg_len - NLMSG_HDRLEN - off), NULL) < 0)
		return NL_STOP;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(tc->said, sizeof(tc->said), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	return NL_STOP;
}

int tc_open(struct tc **out)
{
	struct tc *tc = calloc(1, sizeof(*tc));
	int r, one = 1;

	if (!tc)
		return -ENOMEM;
	tc->sk = nl_socket_alloc();
	if (!tc->sk) {
		free(tc);
		return -ENOMEM;
	}
	r = nl_connect(tc->sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(tc->sk);
		free(tc);
		return nl_err(r);
	}
	/* Without the kernel's messages a refusal is an errno alone. */
	setsockopt(nl_socket_get_fd(tc->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	nl_socket_modify_err_cb(tc->sk, NL_CB_CUSTOM, on_error, tc);
	*out = tc;
	return 0;
}

const char *tc_said(const struct tc *tc)
{
	return tc->said;
}

void tc_said_reset(struct tc *tc)
{
	tc->said[0] = '\0';
}

void tc_close(struct tc *tc)
{
	if (!tc)
		return;
	nl_socket_free(tc->sk);
	free(tc);
}

static struct rtnl_qdisc *qdisc_new(int ifindex, uint32_t parent,
				    uint32_t handle, const char *kind)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	if (!q)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	/* A kind libnl has no module for (fq) is sent with no options,
	 * which gives the kernel's defaults. */
	if (rtnl_tc_set_kind(TC_CAST(q), kind) < 0) {
		rtnl_qdisc_put(q);
		return NULL;
	}
	return q;
}

static int qdisc_add(struct tc *tc, struct rtnl_qdisc *q, int flags)
{
	int r;

	if (!q)
		return -ENOMEM;
	r = rtnl_qdisc_add(tc->sk, q, flags);
	rtnl_qdisc_put(q);
	return r < 0 ? nl_err(r) : 0;
}

static int htb_root_add(struct tc *tc, int ifindex, uint32_t handle,
			uint32_t defcls)
{
	struct rtnl_qdisc *q = qdisc_new(ifindex, TC_H_ROOT, handle, "htb");

	if (q)
		rtnl_htb_set_defcls(q, defcls);
	/* REPLACE: whatever root qdisc the device had gives way to ours. */
	return qdisc_add(tc, q, NLM_F_CREATE | NLM_F_REPLACE);
}

int tc_htb_qdisc(struct tc *tc, int ifindex, uint32_t handle, uint32_t defcls)
{
	int r = htb_root_add(tc, ifindex, handle, defcls);

	/* Except an HTB root of the same handle (a previous gonad's that
	 * this one did not take over, its pins of another layout): the
	 * kernel would change it in place, which HTB refuses. It goes. */
	if (r && tc_root_is(tc, ifindex, handle, "htb") &&
	    !tc_root_del(tc, ifindex))
		r = htb_root_add(tc, ifindex, handle, defcls);
	return r;
}

int tc_htb_class(struct tc *tc, int ifindex, uint32_t parent, uint32_t classid,
		 const struct tc_rates *rt)
{
	struct rtnl_class *cl = rtnl_class_alloc();
	int r;

	if (!cl)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(cl), ifindex);
	rtnl_tc_set_parent(TC_CAST(cl), parent);
	rtnl_tc_set_handle(TC_CAST(cl), classid);
	r = rtnl_tc_set_kind(TC_CAST(cl), "htb");
	/* HTB counts in bytes per second; gona in bits. */
	if (!r)
		r = rtnl_htb_set_rate64(cl, rt->rate / 8);
	if (!r)
		r = rtnl_htb_set_ceil64(cl, rt->ceil / 8);
	if (!r)
		r = rtnl_htb_set_rbuffer(cl, rt->burst);
	if (!r)
		r = rtnl_htb_set_cbuffer(cl, rt->cburst);
	if (!r)
		r = rtnl_htb_set_quantum(cl, rt->quantum);
	/* CREATE without EXCL: made if new, changed in place if not. */
	if (!r)
		r = rtnl_class_add(tc->sk, cl, NLM_F_CREATE);
	rtnl_class_put(cl);
	return r < 0 ? nl_err(r) : 0;
}

int tc_class_del(struct tc *tc, int ifindex, uint32_t classid)
{
	struct rtnl_class *cl = rtnl_class_alloc();
	int r;

	if (!cl)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(cl), ifindex);
	rtnl_tc_set_handle(TC_CAST(cl), classid);
	/* The queue under it goes with it. */
	r = rtnl_class_delete(tc->sk, cl);
	rtnl_class_put(cl);
	return r < 0 ? nl_err(r) : 0;
}

int tc_bfifo(struct tc *tc, int ifindex, uint32_t parent, uint32_t handle,
	     uint32_t limit)
{
	struct rtnl_qdisc *q = qdisc_new(ifindex, parent, handle, "bfifo");

	if (q)
		rtnl_qdisc_fifo_set_limit(q, (int)limit);
	return qdisc_add(tc, q, NLM_F_CREATE | NLM_F_REPLACE);
}

int tc_fq(struct tc *tc, int ifindex, uint32_t parent, uint32_t handle,
	  uint32_t limit, uint32_t flow_limit)
{
	struct rtnl_qdisc *q = qdisc_new(ifindex, parent, handle, "fq");
	struct nl_msg *msg = NULL;
	struct nlattr *opts;
	int r;

	if (!q)
		return -ENOMEM;
	/* libnl has no fq module: the options are added here. REPLACE of
	 * an fq with the same handle changes it in place, queue kept. */
	r = rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_REPLACE, &msg);
	rtnl_qdisc_put(q);
	if (r < 0)
		return nl_err(r);
	opts = nla_nest_start(msg, TCA_OPTIONS);
	if (!opts || nla_put_u32(msg, TCA_FQ_PLIMIT, limit) < 0 ||
	    nla_put_u32(msg, TCA_FQ_FLOW_PLIMIT, flow_limit) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, opts);
	/* nl_send_sync frees the message and waits for the kernel's ack. */
	r = nl_send_sync(tc->sk, msg);
	return r < 0 ? nl_err(r) : 0;
}

int tc_tx_queues(struct tc *tc, int ifindex)
{
	struct rtnl_link *link = NULL;
	int r = rtnl_link_get_kernel(tc->sk, ifindex, NULL, &link);

	if (r < 0)
		return nl_err(r);
	r = (int)rtnl_link_get_num_tx_queues(link);
	rtnl_link_put(link);
	return r > 0 ? r : 1;
}

int tc_root_qdisc(struct tc *tc, int ifindex, uint32_t handle, const char *kind,
		  bool exclusive)
{
	return qdisc_add(tc, qdisc_new(ifindex, TC_H_ROOT, handle, kind),
			 NLM_F_CREATE |
				 (exclusive ? NLM_F_EXCL : NLM_F_REPLACE));
}

bool tc_root_is(struct tc *tc, int ifindex, uint32_t handle, const char *kind)
{
	struct nl_cache *cache = NULL;
	struct rtnl_qdisc *q;
	bool yes = false;

	if (rtnl_qdisc_alloc_cache(tc->sk, &cache) < 0)
		return false;
	q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT);
	if (q) {
		const char *k = rtnl_tc_get_kind(TC_CAST(q));

		yes = rtnl_tc_get_handle(TC_CAST(q)) == handle && k &&
		      !strcmp(k, kind);
		rtnl_qdisc_put(q);
	}
	nl_cache_free(cache);
	return yes;
}

int tc_root_del(struct tc *tc, int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int r;

	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	r = rtnl_qdisc_delete(tc->sk, q);
	rtnl_qdisc_put(q);
	return r < 0 ? nl_err(r) : 0;
}

int tc_class_minors(struct tc *tc, int ifindex, uint32_t major, uint32_t from,
		    uint8_t *seen, size_t n)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int r = rtnl_class_alloc_cache(tc->sk, ifindex, &cache);

	if (r < 0)
		return nl_err(r);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		uint32_t h = rtnl_tc_get_handle(TC_CAST(o));

		if (TC_H_MAJ(h) == major << 16 && TC_H_MIN(h) >= from &&
		    TC_H_MIN(h) - from < n)
			seen[TC_H_MIN(h) - from] = 1;
	}
	nl_cache_free(cache);
	return 0;
}

int tc_bpf_ingress(struct tc *tc, int ifindex, uint32_t handle, uint32_t prio,
		   int prog_fd, const char *name, uint32_t classid)
{
	struct tcmsg t = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_handle = handle,
		.tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		.tcm_info = TC_H_MAKE(prio << 16, htons(ETH_P_ALL)),
	};
	/* REPLACE: an existing filter of that handle and priority (a
	 * previous gonad's) is swapped atomically, never absent meanwhile. */
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWTFILTER,
					      NLM_F_CREATE | NLM_F_REPLACE);
	struct nlattr *opts = NULL;
	int r = -EMSGSIZE;

	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &t, sizeof(t), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(m, TCA_KIND, "bpf") < 0 ||
	    !(opts = nla_nest_start(m, TCA_OPTIONS)) ||
	    nla_put_u32(m, TCA_BPF_FD, (uint32_t)prog_fd) < 0 ||
	    nla_put_string(m, TCA_BPF_NAME, name) < 0 ||
	    nla_put_u32(m, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT) < 0 ||
	    nla_put_u32(m, TCA_BPF_CLASSID, classid) < 0 ||
	    nla_nest_end(m, opts) < 0) {
		nlmsg_free(m);
		return r;
	}
	/* Sent, acknowledged and freed. */
	r = nl_send_sync(tc->sk, m);
	return r < 0 ? nl_err(r) : 0;
}
