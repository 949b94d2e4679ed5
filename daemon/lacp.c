/* SPDX-License-Identifier: MIT */
/*
 * LACP on the uplinks that are members of a link aggregation group
 * (uplinks.lacp): the I/O around policy/lacp.c. Each member has a packet
 * socket for the slow protocols (ethertype 0x8809, the multicast address
 * 01:80:c2:00:00:02 joined) on its device: LACPDUs go to the member's
 * machines, marker PDUs are answered. One timer runs every group's
 * machines at their next deadline; after each event the LACPDUs due are
 * sent, and a member carries guests (uplink.lacp_ok) only while it is
 * collecting and distributing with the group's partner.
 *
 * A group's system is the MAC of its first member gonad attached. What
 * the members are (partner, aggregator, system) is written down in
 * LACP_STATE_FILE next to the control socket whenever it changes, and at
 * most every half second while LACPDUs flow, for the next gonad: a
 * restart takes the members up where they were, so the partner never
 * takes the links out (LACPDUs resume well within its timeout).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "daemon/gonad.h"
#include "policy/lacp.h"

#define LACP_STATE_FILE "lacp.state"
#define LACP_STATE_MAGIC "gona-lacp 1"
/* The widths below: IFNAMSIZ - 1, CONF_NAME_MAX - 1, a MAC's 17. */
_Static_assert(IFNAMSIZ == 16 && CONF_NAME_MAX == 32, "state file widths");
/* How often the file is written while only PDUs flow (ms). */
#define WRITE_EVERY_MS 500

static const uint8_t slow_mac[ETH_ALEN] = { 0x01, 0x80, 0xc2, 0, 0, 0x02 };

struct lacp_member {
	struct gonad *g;
	struct uplink *u;
	struct ev_source sock;
	struct lacp_port port;
	unsigned int group; /* index in lacp.groups */
	uint8_t mac[ETH_ALEN]; /* the device's: the PDUs' source */
	uint64_t heard_ms; /* the last LACPDU received, 0 none */
	/* The last LACPDU sent: what the partner was last told. */
	uint8_t pdu[LACP_PDU_LEN];
	bool has_pdu;
	/* What the state file says of it (its times left out). */
	struct lacp_saved written;
	/* What the previous gonad left of it, taken up when it has
	 * carrier. */
	bool resume;
	struct lacp_saved saved;
	uint64_t markers; /* marker PDUs answered */
	uint64_t refused; /* frames that were no LACPDU or marker */
	char refusal[160]; /* why the last one was refused */
	/* As last logged: whether it carried guests, and why not. */
	bool logged_usable;
	char logged_why[sizeof(((struct lacp_port *)0)->why)];
};

struct lacp_group {
	char name[CONF_NAME_MAX];
	uint8_t system[ETH_ALEN];
	bool has_system;
};

/* A member as a previous gonad wrote it down. */
struct lacp_record {
	char device[IFNAMSIZ];
	int ifindex;
	char group[CONF_NAME_MAX];
	uint8_t system[ETH_ALEN];
	uint16_t port;
	uint16_t key;
	struct lacp_saved saved;
	uint8_t pdu[LACP_PDU_LEN]; /* the last LACPDU it sent */
	bool has_pdu;
	bool taken;
};

struct lacp {
	struct gonad *g;
	struct ev_source timer;
	struct lacp_group groups[GONA_MAX_UPLINKS];
	size_t n_groups;
	struct lacp_record records[GONA_MAX_UPLINKS];
	size_t n_records;
	char path[256]; /* the state file, "" if it cannot be kept */
	uint64_t written_ms;
	uint64_t pdus_written; /* PDUs in and out when last written */
	uint64_t pdus_now; /* ... as of the last run */
	bool dirty; /* something the file must say changed */
};

static void mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

static bool mac_parse(const char *s, uint8_t *m)
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &end) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return false;
		m[i] = (uint8_t)b[i];
	}
	return true;
}

/* The state file ------------------------------------------------------- */

/*
 * One line per group ("group NAME SYSTEM") and per member ("member DEVICE
 * IFINDEX GROUP SYSTEM PORT KEY SELECTED MUX HEARD_MS SENT_MS
 * PARTNER_SYSPRI PARTNER_SYSTEM PARTNER_KEY PARTNER_PORTPRI PARTNER_PORT
 * PARTNER_STATE PDU", the last LACPDU sent in hex or "-"), times in
 * now_ms() (CLOCK_MONOTONIC, the same for every process of a boot).
 */
static void state_write(struct lacp *l)
{
	struct gonad *g = l->g;
	char tmp[sizeof(l->path) + 8], sys[18], psys[18];
	char hex[2 * LACP_PDU_LEN + 1];
	uint64_t pdus = 0;
	FILE *f;

	if (!l->path[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.new", l->path);
	f = fopen(tmp, "we");
	if (!f)
		goto err;
	fprintf(f, "%s\n", LACP_STATE_MAGIC);
	for (size_t i = 0; i < l->n_groups; i++) {
		if (!l->groups[i].has_system)
			continue;
		mac_str(l->groups[i].system, sys, sizeof(sys));
		fprintf(f, "group %s %s\n", l->groups[i].name, sys);
	}
	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct lacp_member *m = g->uplinks[i].lacp;
		struct lacp_saved s;

		if (!m)
			continue;
		pdus += m->port.rx_pdus + m->port.tx_pdus;
		lacp_port_save(&m->port, &s);
		m->written = s;
		m->written.heard = m->written.sent = 0;
		mac_str(m->port.actor.system, sys, sizeof(sys));
		mac_str(s.partner.system, psys, sizeof(psys));
		snprintf(hex, sizeof(hex), "-");
		for (size_t k = 0; m->has_pdu && k < LACP_PDU_LEN; k++)
			snprintf(hex + 2 * k, 3, "%02x", m->pdu[k]);
		fprintf(f,
			"member %s %d %s %s %u %u %d %d %llu %llu %u %s %u %u "
			"%u %u %s\n",
			m->u->conf.device, m->u->ifindex, m->u->conf.lacp.group,
			sys, m->port.actor.port, m->port.actor.key,
			s.selected ? 1 : 0, (int)s.mux,
			(unsigned long long)s.heard, (unsigned long long)s.sent,
			s.partner.system_priority, psys, s.partner.key,
			s.partner.port_priority, s.partner.port,
			s.partner.state, hex);
	}
	if (fclose(f) != 0 || rename(tmp, l->path) < 0)
		goto err;
	l->written_ms = now_ms();
	l->pdus_written = pdus;
	l->dirty = false;
	return;
err:
	log_warn("LACP: cannot write %s (a restart would start the members "
		 "afresh)",
		 l->path);
	unlink(tmp);
	/* Said once. */
	l->path[0] = '\0';
}

static int parse_member(const char *line, struct lacp_record *r)
{
	unsigned int port, key, sel, mux, psp, pkey, ppp, pport, pst;
	unsigned long long heard, sent;
	char dev[IFNAMSIZ], grp[CONF_NAME_MAX], sys[18], psys[18];
	char hex[2 * LACP_PDU_LEN + 2];

	if (sscanf(line,
		   "member %15s %d %31s %17s %u %u %u %u %llu %llu %u %17s %u "
		   "%u %u %u %221s",
		   dev, &r->ifindex, grp, sys, &port, &key, &sel, &mux, &heard,
		   &sent, &psp, psys, &pkey, &ppp, &pport, &pst, hex) != 17)
		return -EINVAL;
	if (strlen(hex) == 2 * LACP_PDU_LEN) {
		for (size_t k = 0; k < LACP_PDU_LEN; k++) {
			unsigned int b;

			if (sscanf(hex + 2 * k, "%2x", &b) != 1)
				return -EINVAL;
			r->pdu[k] = (uint8_t)b;
		}
		r->has_pdu = true;
	} else if (strcmp(hex, "-")) {
		return -EINVAL;
	}
	if (port > 0xffff || key > 0xffff || sel > 1 ||
	    mux > LACP_MUX_COLLECTING_DISTRIBUTING || psp > 0xffff ||
	    pkey > 0xffff || ppp > 0xffff || pport > 0xffff || pst > 0xff ||
	    !mac_parse(sys, r->system) ||
	    !mac_parse(psys, r->saved.partner.system))
		return -EINVAL;
	snprintf(r->device, sizeof(r->device), "%s", dev);
	snprintf(r->group, sizeof(r->group), "%s", grp);
	r->port = (uint16_t)port;
	r->key = (uint16_t)key;
	r->saved.selected = sel;
	r->saved.mux = (enum lacp_mux_state)mux;
	r->saved.heard = heard;
	r->saved.sent = sent;
	r->saved.partner.system_priority = (uint16_t)psp;
	r->saved.partner.key = (uint16_t)pkey;
	r->saved.partner.port_priority = (uint16_t)ppp;
	r->saved.partner.port = (uint16_t)pport;
	r->saved.partner.state = (uint8_t)pst;
	return 0;
}

/* What a previous gonad wrote down; a file that cannot be read is said
 * and left (the members start afresh). */
static void state_read(struct lacp *l)
{
	char line[1024], name[CONF_NAME_MAX], sys[18];
	unsigned int n = 0;
	FILE *f;

	f = fopen(l->path, "re");
	if (!f) {
		if (errno != ENOENT)
			log_warn("LACP: cannot read %s", l->path);
		return;
	}
	if (!fgets(line, sizeof(line), f) ||
	    strncmp(line, LACP_STATE_MAGIC "\n", sizeof(LACP_STATE_MAGIC))) {
		log_warnx("LACP: %s is not gona's LACP state: ignored",
			  l->path);
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		struct lacp_record r = { 0 };

		n++;
		if (!strncmp(line, "group ", 6) &&
		    l->n_groups < GONA_MAX_UPLINKS &&
		    sscanf(line, "group %31s %17s", name, sys) == 2) {
			struct lacp_group *gr = &l->groups[l->n_groups];

			if (!mac_parse(sys, gr->system))
				goto bad;
			snprintf(gr->name, sizeof(gr->name), "%s", name);
			gr->has_system = true;
			l->n_groups++;
			continue;
		}
		if (!parse_member(line, &r) &&
		    l->n_records < GONA_MAX_UPLINKS) {
			l->records[l->n_records++] = r;
			continue;
		}
	bad:
		log_warnx("LACP: %s: line %u is not understood: the members "
			  "start afresh",
			  l->path, n + 1);
		l->n_groups = l->n_records = 0;
		break;
	}
	fclose(f);
}

/* Groups and members -------------------------------------------------- */

static struct lacp_group *group_of(struct lacp *l, const char *name)
{
	for (size_t i = 0; i < l->n_groups; i++)
		if (!strcmp(l->groups[i].name, name))
			return &l->groups[i];
	if (l->n_groups >= GONA_MAX_UPLINKS)
		return NULL;
	memset(&l->groups[l->n_groups], 0, sizeof(l->groups[0]));
	snprintf(l->groups[l->n_groups].name, sizeof(l->groups[0].name), "%s",
		 name);
	return &l->groups[l->n_groups++];
}

/* The members of group GR that run, into PORTS (and their uplinks). */
static size_t members(struct gonad *g, unsigned int gr,
		      struct lacp_port **ports, struct lacp_member **ms)
{
	size_t n = 0;

	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct lacp_member *m = g->uplinks[i].lacp;

		if (m && m->group == gr) {
			ports[n] = &m->port;
			ms[n++] = m;
		}
	}
	return n;
}

/* BODY (a slow protocol's PDU, LEN bytes) out of device IFINDEX from MAC,
 * through packet socket FD. */
static int send_slow(int fd, int ifindex, const uint8_t *mac,
		     const uint8_t *body, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};
	uint8_t f[ETH_HLEN + LACP_PDU_LEN];
	struct ether_header *eh = (void *)f;

	if (len > LACP_PDU_LEN)
		return -EINVAL;
	memcpy(eh->ether_dhost, slow_mac, ETH_ALEN);
	memcpy(eh->ether_shost, mac, ETH_ALEN);
	eh->ether_type = htons(LACP_ETHERTYPE);
	memcpy(f + ETH_HLEN, body, len);
	memcpy(sll.sll_addr, slow_mac, ETH_ALEN);
	if (sendto(fd, f, ETH_HLEN + len, MSG_DONTWAIT, (struct sockaddr *)&sll,
		   sizeof(sll)) < 0)
		return -errno;
	return 0;
}

static void send_pdu(struct lacp_member *m, const uint8_t *body, size_t len)
{
	/* A PDU that cannot leave (no carrier) is one the partner misses,
	 * as on the wire. */
	(void)send_slow(m->sock.fd, m->u->ifindex, m->mac, body, len);
}

/* Say (log) what changed of whether M carries guests, and why not. */
static void tell(struct lacp_member *m, bool usable)
{
	const struct uplink *u = m->u;

	if (usable == m->logged_usable && !strcmp(m->port.why, m->logged_why))
		return;
	if (usable)
		log_info("uplink %s (%s): LACP: aggregated in group %s with "
			 "partner %02x:%02x:%02x:%02x:%02x:%02x key %u port %u",
			 u->conf.name, u->conf.device, u->conf.lacp.group,
			 m->port.partner.system[0], m->port.partner.system[1],
			 m->port.partner.system[2], m->port.partner.system[3],
			 m->port.partner.system[4], m->port.partner.system[5],
			 m->port.partner.key, m->port.partner.port);
	else if (m->port.why[0] && strncmp(m->port.why, "joining", 7))
		log_warnx("uplink %s (%s): LACP: %s", u->conf.name,
			  u->conf.device, m->port.why);
	m->logged_usable = usable;
	snprintf(m->logged_why, sizeof(m->logged_why), "%s", m->port.why);
}

static void arm(struct lacp *l)
{
	struct gonad *g = l->g;
	struct itimerspec its = { 0 };
	uint64_t next = 0, now = now_ms(), d;

	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct lacp_member *m = g->uplinks[i].lacp;
		struct lacp_port *p;
		uint64_t t;

		if (!m)
			continue;
		p = &m->port;
		t = lacp_next(&p, 1);
		if (t && (!next || t < next))
			next = t;
	}
	/* The file, when PDUs came or went since it was written: at the
	 * next write's time. */
	if (l->path[0] && l->pdus_now != l->pdus_written &&
	    (!next || l->written_ms + WRITE_EVERY_MS < next))
		next = l->written_ms + WRITE_EVERY_MS;
	if (next) {
		d = next > now ? next - now : 1;
		its.it_value.tv_sec = (time_t)(d / 1000);
		its.it_value.tv_nsec = (long)(d % 1000) * 1000000;
	}
	if (timerfd_settime(l->timer.fd, 0, &its, NULL) < 0)
		log_warn("LACP: cannot arm its timer");
}

/*
 * Every group's machines at NOW, the PDUs due sent, each member's
 * lacp_ok brought up to date (through state_uplink_lacp, but for QUIET,
 * whose caller is in the middle of updating it), the file written if
 * what it says changed.
 */
static void run(struct lacp *l, struct uplink *quiet)
{
	struct gonad *g = l->g;
	uint64_t now = now_ms(), pdus = 0;

	for (unsigned int gr = 0; gr < l->n_groups; gr++) {
		struct lacp_port *ports[GONA_MAX_UPLINKS];
		struct lacp_member *ms[GONA_MAX_UPLINKS];
		size_t n = members(g, gr, ports, ms);

		if (!n)
			continue;
		lacp_group_run(ports, n, now);
		for (size_t i = 0; i < n; i++) {
			struct lacp_member *m = ms[i];
			struct lacpdu pdu;
			uint8_t b[LACP_PDU_LEN];
			struct lacp_saved s;
			bool usable;

			if (lacp_port_tx(&m->port, now, &pdu) &&
			    lacpdu_encode(&pdu, b, sizeof(b))) {
				send_pdu(m, b, sizeof(b));
				memcpy(m->pdu, b, sizeof(b));
				m->has_pdu = true;
			}
			usable = lacp_port_usable(&m->port);
			tell(m, usable);
			/* Partner, aggregator, mux: written at once when
			 * they change; the times at most every
			 * WRITE_EVERY_MS. */
			lacp_port_save(&m->port, &s);
			s.heard = s.sent = 0;
			if (memcmp(&s, &m->written, sizeof(s)))
				l->dirty = true;
			pdus += m->port.rx_pdus + m->port.tx_pdus;
			if (usable == m->u->lacp_ok)
				continue;
			l->dirty = true;
			if (m->u == quiet)
				m->u->lacp_ok = usable;
			else
				state_uplink_lacp(g, m->u, usable);
		}
	}
	l->pdus_now = pdus;
	if (l->dirty ||
	    (pdus != l->pdus_written && now >= l->written_ms + WRITE_EVERY_MS))
		state_write(l);
	arm(l);
}

static void on_timer(struct ev_source *src, uint32_t events)
{
	struct lacp *l = src->arg;
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		log_warn("LACP: timer");
	run(l, NULL);
}

/* A frame on a member's socket: a LACPDU, a marker, or refused. */
static void take_frame(struct lacp_member *m, const uint8_t *f, size_t len)
{
	uint8_t answer[ETH_HLEN + LACP_MARKER_LEN];
	char err[sizeof(m->refusal) - 32];
	struct lacpdu pdu;
	int r;

	if (len < ETH_HLEN + 1)
		return;
	f += ETH_HLEN;
	len -= ETH_HLEN;
	if (f[0] == LACP_SUBTYPE_LACP) {
		r = lacpdu_decode(f, len, &pdu, err, sizeof(err));
		if (!r) {
			m->heard_ms = now_ms();
			lacp_port_rx(&m->port, &pdu, m->heard_ms);
			return;
		}
	} else if (f[0] == LACP_SUBTYPE_MARKER) {
		r = lacp_marker_answer(f, len, answer, LACP_MARKER_LEN, err,
				       sizeof(err));
		if (r > 0) {
			send_pdu(m, answer, (size_t)r);
			m->markers++;
			return;
		}
		if (!r)
			return;
	} else {
		/* Other slow protocols (OAM, ESMC) are not LACP's. */
		return;
	}
	m->refused++;
	/* Said when the cause changes, not for every frame. */
	if (strcmp(m->refusal, err))
		log_warnx("uplink %s (%s): LACP: frame refused: %s",
			  m->u->conf.name, m->u->conf.device, err);
	snprintf(m->refusal, sizeof(m->refusal), "%s", err);
}

static void on_frame(struct ev_source *src, uint32_t events)
{
	struct lacp_member *m = src->arg;
	struct lacp *l = m->g->lacp;
	uint8_t f[ETH_HLEN + 256];
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t n;
	int budget = 64;

	(void)events;
	while (budget-- > 0) {
		fl = sizeof(from);
		n = recvfrom(src->fd, f, sizeof(f), MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		/* Our own PDUs, looped back to the socket, are not the
		 * partner's. */
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		take_frame(m, f, (size_t)n < sizeof(f) ? (size_t)n : sizeof(f));
	}
	run(l, NULL);
}

/* The previous gonad's record of U, if it is the same member. */
static const struct lacp_record *record_of(struct lacp *l,
					   const struct uplink *u,
					   const struct lacp_port_conf *c)
{
	for (size_t i = 0; i < l->n_records; i++) {
		struct lacp_record *r = &l->records[i];

		if (r->taken || r->ifindex != u->ifindex ||
		    strcmp(r->device, u->conf.device) ||
		    strcmp(r->group, u->conf.lacp.group) ||
		    memcmp(r->system, c->system, ETH_ALEN) ||
		    r->port != c->port || r->key != c->key)
			continue;
		r->taken = true;
		return r;
	}
	return NULL;
}

int lacp_start(struct gonad *g, struct uplink *u)
{
	const struct conf_lacp *cl = &u->conf.lacp;
	struct lacp *l = g->lacp;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(LACP_ETHERTYPE),
		.sll_ifindex = u->ifindex,
	};
	struct packet_mreq mr = {
		.mr_ifindex = u->ifindex,
		.mr_type = PACKET_MR_MULTICAST,
		.mr_alen = ETH_ALEN,
	};
	const struct lacp_record *rec;
	struct lacp_port_conf pc = { 0 };
	struct lacp_group *gr;
	struct lacp_member *m;
	struct ifreq ifr = { 0 };
	int r;

	if (!cl->group[0] || !l)
		return 0;
	gr = group_of(l, cl->group);
	m = calloc(1, sizeof(*m));
	if (!m || !gr) {
		free(m);
		r = -ENOMEM;
		goto err_log;
	}
	m->g = g;
	m->u = u;
	m->group = (unsigned int)(gr - l->groups);
	m->sock.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (m->sock.fd < 0)
		goto err_errno;
	memcpy(mr.mr_address, slow_mac, ETH_ALEN);
	if (bind(m->sock.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(m->sock.fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr)) < 0)
		goto err_errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", u->conf.device);
	if (ioctl(m->sock.fd, SIOCGIFHWADDR, &ifr) < 0)
		goto err_errno;
	memcpy(m->mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (!gr->has_system) {
		memcpy(gr->system, m->mac, ETH_ALEN);
		gr->has_system = true;
		l->dirty = true;
	}
	m->sock.ready = on_frame;
	m->sock.arg = m;
	r = ev_add(g, &m->sock, EPOLLIN);
	if (r)
		goto err;
	pc.system_priority = (uint16_t)cl->system_priority;
	memcpy(pc.system, gr->system, ETH_ALEN);
	pc.key = (uint16_t)cl->key;
	pc.port_priority = (uint16_t)cl->port_priority;
	pc.port = (uint16_t)(u->slot + 1);
	pc.fast = cl->rate == CONF_LACP_FAST;
	pc.active = cl->active;
	lacp_port_init(&m->port, &pc);
	rec = record_of(l, u, &pc);
	if (rec) {
		m->resume = true;
		m->saved = rec->saved;
	}
	u->lacp = m;
	/* Carries guests once aggregated; taken up where the previous
	 * gonad left it, it may at once (run() says). */
	u->lacp_ok = false;
	lacp_carrier(g, u);
	return 0;
err_errno:
	r = -errno;
err:
	if (m->sock.fd >= 0)
		close(m->sock.fd);
	free(m);
err_log:
	log_warnx("uplink %s (%s): cannot run LACP on it: %s: it carries no "
		  "guests",
		  u->conf.name, u->conf.device, strerror(-r));
	u->lacp_ok = false;
	return r;
}

static void member_free(struct gonad *g, struct uplink *u)
{
	struct lacp_member *m = u->lacp;

	u->lacp_ok = !u->conf.lacp.group[0];
	if (!m)
		return;
	ev_del(g, &m->sock);
	close(m->sock.fd);
	free(m);
	u->lacp = NULL;
}

void lacp_stop(struct gonad *g, struct uplink *u)
{
	if (!u->lacp)
		return;
	member_free(g, u);
	/* The other members may now select another partner. */
	if (g->lacp) {
		g->lacp->dirty = true;
		run(g->lacp, NULL);
	}
}

void lacp_carrier(struct gonad *g, struct uplink *u)
{
	struct lacp_member *m = u->lacp;

	if (!m || m->port.enabled == u->carrier)
		return;
	if (u->carrier && m->resume) {
		lacp_port_resume(&m->port, &m->saved, now_ms());
		if (m->port.rx != LACP_RX_CURRENT && m->saved.heard)
			log_warnx(
				"uplink %s (%s): LACP: silent for %llu ms "
				"since the previous gonad's last LACPDU, "
				"longer than the partner waits: joining "
				"afresh",
				u->conf.name, u->conf.device,
				(unsigned long long)(now_ms() - m->saved.sent));
		else if (m->port.mux != LACP_MUX_DETACHED)
			log_info("uplink %s (%s): LACP: taken up where the "
				 "previous gonad left it (%s)",
				 u->conf.name, u->conf.device,
				 lacp_mux_name(m->port.mux));
	} else {
		lacp_port_enable(&m->port, u->carrier, now_ms());
	}
	m->resume = false;
	run(g->lacp, u);
}

/*
 * A restart: before anything else, each member's partner is told again
 * what it was last told (the last LACPDU sent, as the previous gonad wrote
 * it down), if it still waits for us. The partner then waits a whole
 * timeout more (3 s fast) while gonad loads its data path and attaches,
 * however long that takes on a busy machine.
 */
static void remind_partners(struct lacp *l)
{
	uint64_t now = now_ms();
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("LACP: cannot remind the partners of this restart");
		return;
	}
	for (size_t i = 0; i < l->n_records; i++) {
		struct lacp_record *r = &l->records[i];
		uint64_t waits = r->saved.partner.state & LACP_ST_TIMEOUT
					 ? LACP_SHORT_TIMEOUT_MS
					 : LACP_LONG_TIMEOUT_MS;
		struct ifreq ifr = { 0 };
		uint64_t ago = now - r->saved.sent;

		if (!r->has_pdu || !r->saved.sent ||
		    now >= r->saved.sent + waits ||
		    (int)if_nametoindex(r->device) != r->ifindex)
			continue;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", r->device);
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 ||
		    send_slow(fd, r->ifindex, (uint8_t *)ifr.ifr_hwaddr.sa_data,
			      r->pdu, LACP_PDU_LEN))
			continue;
		r->saved.sent = now;
		log_info("%s: LACP: the partner reminded of us, %llu ms after "
			 "the previous gonad's last LACPDU",
			 r->device, (unsigned long long)ago);
	}
	close(fd);
}

int lacp_open(struct gonad *g, const char *sock)
{
	const char *slash;
	struct lacp *l;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->g = g;
	l->timer.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timer.fd < 0) {
		free(l);
		return -errno;
	}
	l->timer.ready = on_timer;
	l->timer.arg = l;
	if (ev_add(g, &l->timer, EPOLLIN)) {
		close(l->timer.fd);
		free(l);
		return -errno ? -errno : -EINVAL;
	}
	/* Next to the control socket: /run/gona, kept across a restart. */
	slash = strrchr(sock, '/');
	if (slash)
		snprintf(l->path, sizeof(l->path), "%.*s/%s",
			 (int)(slash - sock), sock, LACP_STATE_FILE);
	else
		snprintf(l->path, sizeof(l->path), "%s", LACP_STATE_FILE);
	state_read(l);
	remind_partners(l);
	g->lacp = l;
	return 0;
}

void lacp_close(struct gonad *g, bool keep)
{
	struct lacp *l = g->lacp;

	if (!l)
		return;
	/* Stopped for good, the members leave the aggregate as the partner
	 * times them out: nothing is left for a next gonad. */
	if (keep)
		state_write(l);
	else if (l->path[0])
		unlink(l->path);
	for (size_t i = 0; i < g->n_uplinks; i++)
		member_free(g, &g->uplinks[i]);
	ev_del(g, &l->timer);
	close(l->timer.fd);
	free(l);
	g->lacp = NULL;
}

const struct lacp_port *lacp_port_of(const struct uplink *u,
				     struct lacp_member_stats *st)
{
	const struct lacp_member *m = u->lacp;

	if (!m)
		return NULL;
	if (st) {
		st->heard_ago_ms =
			m->heard_ms ? now_ms() - m->heard_ms : UINT64_MAX;
		st->markers = m->markers;
		st->refused = m->refused;
		snprintf(st->refusal, sizeof(st->refusal), "%s", m->refusal);
	}
	return &m->port;
}
