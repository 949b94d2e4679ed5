/* SPDX-License-Identifier: MIT */
/* Encoding and checking of control messages; shared by gonad and gonactl. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "daemon/control.h"
#include "ebpf/gona_shared.h"

/* The records are copied as bytes between two builds of the same tree;
 * these pin the layout so a careless edit shows up at compile time. */
_Static_assert(sizeof(struct ctl_hdr) == 16, "ctl_hdr layout");
_Static_assert(sizeof(struct ctl_counters) == 56 + 8 * CTL_DROP_SLOTS,
	       "ctl_counters layout");
_Static_assert(sizeof(struct ctl_status) % 8 == 0, "ctl_status padding");
_Static_assert(sizeof(struct ctl_uplink) % 8 == 0, "ctl_uplink padding");
_Static_assert(sizeof(struct ctl_guest) % 8 == 0, "ctl_guest padding");
_Static_assert(CTL_DROP_SLOTS == GONA_DROP_SLOTS, "drop slots");
_Static_assert(GONA_DROP_MAX <= GONA_DROP_SLOTS, "drop reasons fit");

static const char *const drop_names[GONA_DROP_MAX] = {
	[GONA_DROP_MALFORMED] = "malformed",
	[GONA_DROP_SRC_MAC] = "src-mac",
	[GONA_DROP_SRC_IP4] = "src-ipv4",
	[GONA_DROP_SRC_IP6] = "src-ipv6",
	[GONA_DROP_ARP_SPOOF] = "arp-spoof",
	[GONA_DROP_ND_SPOOF] = "nd-spoof",
	[GONA_DROP_ETHERTYPE] = "ethertype",
	[GONA_DROP_NO_UPLINK] = "no-uplink",
	[GONA_DROP_BCAST_DUP] = "bcast-dup",
	[GONA_DROP_LOOP] = "loop",
	[GONA_DROP_GUEST_ABSENT] = "guest-absent",
	[GONA_DROP_HORIZON] = "horizon",
	[GONA_DROP_VLAN] = "vlan",
	[GONA_DROP_STORM] = "storm",
};

const char *ctl_drop_name(unsigned int reason)
{
	if (reason >= GONA_DROP_MAX)
		return NULL;
	return drop_names[reason];
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

ssize_t ctl_req_encode(void *buf, size_t size, uint16_t type, int argc,
		       const char *const argv[])
{
	struct ctl_hdr h = {
		.magic = CTL_MAGIC,
		.version = CTL_VERSION,
		.type = type,
	};
	size_t off = sizeof(h);

	if (type < CTL_REQ_STATUS || type >= CTL_REQ_MAX || argc < 0 ||
	    argc > CTL_ARGS_MAX)
		return -EINVAL;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (n > CTL_ARG_MAX)
			return -E2BIG;
		if (off + n > size || off + n > CTL_MSG_MAX)
			return -E2BIG;
		memcpy((char *)buf + off, argv[i], n);
		off += n;
	}
	if (size < sizeof(h))
		return -E2BIG;
	h.len = (uint32_t)off;
	h.argc = (uint32_t)argc;
	memcpy(buf, &h, sizeof(h));
	return (ssize_t)off;
}

static int check_hdr(const void *buf, size_t len, struct ctl_hdr *h, char *err,
		     size_t errlen)
{
	if (len < sizeof(*h))
		return fail(err, errlen,
			    "message of %zu bytes is shorter than "
			    "its header",
			    len);
	memcpy(h, buf, sizeof(*h));
	if (h->magic != CTL_MAGIC)
		return fail(err, errlen, "bad magic 0x%08x", h->magic);
	if (h->version != CTL_VERSION)
		return fail(err, errlen, "protocol version %u, expected %u",
			    h->version, CTL_VERSION);
	if (h->len != len)
		return fail(err, errlen,
			    "length field %u but %zu bytes received", h->len,
			    len);
	return 0;
}

int ctl_req_decode(const void *buf, size_t len, struct ctl_req *req, char *err,
		   size_t errlen)
{
	const char *p = (const char *)buf + sizeof(struct ctl_hdr);
	struct ctl_hdr h;
	size_t left;
	int r;

	r = check_hdr(buf, len, &h, err, errlen);
	if (r)
		return r;
	if (h.type < CTL_REQ_STATUS || h.type >= CTL_REQ_MAX)
		return fail(err, errlen, "unknown request type %u", h.type);
	if (h.argc > CTL_ARGS_MAX)
		return fail(err, errlen, "%u arguments, at most %d", h.argc,
			    CTL_ARGS_MAX);
	left = len - sizeof(h);
	for (uint32_t i = 0; i < h.argc; i++) {
		const char *nul = memchr(p, '\0', left);
		size_t n;

		if (!nul)
			return fail(err, errlen,
				    "argument %u is not NUL-terminated", i + 1);
		n = (size_t)(nul - p) + 1;
		if (n > CTL_ARG_MAX)
			return fail(err, errlen,
				    "argument %u is longer than %d "
				    "bytes",
				    i + 1, CTL_ARG_MAX - 1);
		req->argv[i] = p;
		p += n;
		left -= n;
	}
	if (left)
		return fail(err, errlen, "%zu bytes after the last argument",
			    left);
	req->type = h.type;
	req->argc = h.argc;
	return 0;
}

ssize_t ctl_rep_encode(void *buf, size_t size, uint16_t type,
		       const void *payload, size_t plen)
{
	struct ctl_hdr h = {
		.magic = CTL_MAGIC,
		.version = CTL_VERSION,
		.type = type,
	};
	size_t len = sizeof(h) + plen;

	if (type < CTL_REP_DONE || type >= CTL_REP_MAX)
		return -EINVAL;
	if (len > size || len > CTL_MSG_MAX)
		return -E2BIG;
	h.len = (uint32_t)len;
	memcpy(buf, &h, sizeof(h));
	if (plen)
		memcpy((char *)buf + sizeof(h), payload, plen);
	return (ssize_t)len;
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

#define TERMINATED(rec, field) terminated((rec)->field, sizeof((rec)->field))

/* Each record type has one size, and its strings must end inside it. */
static int check_record(uint16_t type, const void *p, size_t plen, char *err,
			size_t errlen)
{
	size_t want = 0;

	switch (type) {
	case CTL_REP_DONE:
		want = 0;
		break;
	case CTL_REP_ERROR:
	case CTL_REP_NOTE:
		if (!plen || !terminated(p, plen) || plen > CTL_ERR_MAX)
			return fail(err, errlen, "malformed %s reply",
				    type == CTL_REP_ERROR ? "error" : "note");
		return 0;
	case CTL_REP_STATUS:
		want = sizeof(struct ctl_status);
		break;
	case CTL_REP_UPLINK:
		want = sizeof(struct ctl_uplink);
		break;
	case CTL_REP_GUEST:
		want = sizeof(struct ctl_guest);
		break;
	default:
		return fail(err, errlen, "unknown reply type %u", type);
	}
	if (plen != want)
		return fail(err, errlen,
			    "reply type %u has %zu bytes, expected "
			    "%zu",
			    type, plen, want);
	if (type == CTL_REP_STATUS) {
		const struct ctl_status *s = p;

		if (!TERMINATED(s, version) || !TERMINATED(s, backend) ||
		    !TERMINATED(s, config) || !TERMINATED(s, degrade))
			return fail(err, errlen,
				    "unterminated string in status");
	} else if (type == CTL_REP_UPLINK) {
		const struct ctl_uplink *u = p;

		if (!TERMINATED(u, name) || !TERMINATED(u, device) ||
		    !TERMINATED(u, cause) || !TERMINATED(u, monitor) ||
		    !TERMINATED(u, target) || !TERMINATED(u, group) ||
		    !TERMINATED(u, vf_error) || !TERMINATED(u, lacp_group) ||
		    !TERMINATED(u, lacp_rx) || !TERMINATED(u, lacp_mux) ||
		    !TERMINATED(u, lacp_why) || !TERMINATED(u, lacp_refusal))
			return fail(err, errlen,
				    "unterminated string in uplink");
	} else if (type == CTL_REP_GUEST) {
		const struct ctl_guest *g = p;

		if (!TERMINATED(g, name) || !TERMINATED(g, device) ||
		    !TERMINATED(g, homes) || !TERMINATED(g, primary) ||
		    g->n_ipv4 > CTL_ADDRS_MAX || g->n_ipv6 > CTL_ADDRS_MAX)
			return fail(err, errlen, "malformed guest record");
	}
	return 0;
}

int ctl_rep_decode(const void *buf, size_t len, uint16_t *type,
		   const void **payload, size_t *plen, char *err, size_t errlen)
{
	struct ctl_hdr h;
	int r;

	r = check_hdr(buf, len, &h, err, errlen);
	if (r)
		return r;
	r = check_record(h.type, (const char *)buf + sizeof(h), len - sizeof(h),
			 err, errlen);
	if (r)
		return r;
	*type = h.type;
	*payload = (const char *)buf + sizeof(h);
	*plen = len - sizeof(h);
	return 0;
}
