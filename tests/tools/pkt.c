/* SPDX-License-Identifier: MIT */
/* A test tool that sends hand-made Ethernet frames (forged ones included)
 * and counts frames carrying a marker, for gona's namespace tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr,
		"usage: pkt send IFNAME SRC_MAC DST_MAC ipv4 SRC DST MARKER "
		"[COUNT [vlan VID]]\n"
		"       pkt send IFNAME SRC_MAC DST_MAC ipv6 SRC DST MARKER "
		"[COUNT [vlan VID]]\n"
		"       pkt send IFNAME SRC_MAC DST_MAC arp|arpreply "
		"SENDER_MAC SENDER_IP TARGET_IP [COUNT [vlan VID]]\n"
		"       pkt send IFNAME SRC_MAC DST_MAC ns SRC TARGET LLADDR "
		"[COUNT [vlan VID]]\n"
		"         (arpreply: a reply to DST_MAC; ns: a neighbour "
		"solicitation of\n"
		"         TARGET from SRC whose source link-layer address "
		"option is LLADDR;\n"
		"         vlan: an 802.1Q tag)\n"
		"       pkt sniff IFNAME MARKER MILLISECONDS [in|out]\n"
		"       pkt clock\n"
		"sniff prints how many frames the interface received (or sent: "
		"out) in\nMILLISECONDS (or until a SIGTERM) carried MARKER: a "
		"string, or an IPv4 or IPv6\naddress in binary (for arp: the "
		"sender IP), or a MAC where the frame names\none (its "
		"destination or source, ARP's sender or target, a neighbour\n"
		"discovery option), and when the first and the last came "
		"(CLOCK_MONOTONIC,\nus; 0 if none), then how many of them "
		"carried a\n"
		"VLAN tag and the VID of the last (0 if none); with "
		"PKT_SHOW=N\n"
		"in the environment, the first N such frames in hex on stderr. "
		"clock prints\n"
		"CLOCK_MONOTONIC and CLOCK_REALTIME, in us.\n");
	exit(2);
}

static void parse_mac(const char *s, uint8_t m[6])
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2],
		   &m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "pkt: bad MAC %s\n", s);
		exit(2);
	}
}

static void parse_ip(int af, const char *s, void *out)
{
	if (inet_pton(af, s, out) != 1) {
		fprintf(stderr, "pkt: bad address %s\n", s);
		exit(2);
	}
}

static uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)(b[n - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int open_sock(const char *ifname, struct sockaddr_ll *sll)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	if (fd < 0) {
		perror("pkt: socket");
		exit(1);
	}
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_protocol = htons(ETH_P_ALL);
	sll->sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll->sll_ifindex) {
		fprintf(stderr, "pkt: %s: %s\n", ifname, strerror(errno));
		exit(1);
	}
	return fd;
}

static size_t build_ip(uint8_t *f, int af, const char *src, const char *dst,
		       const char *marker)
{
	size_t mlen = strlen(marker), off = sizeof(struct ether_header);
	struct udphdr udp = { .source = htons(40000), .dest = htons(40000) };

	udp.len = htons((uint16_t)(sizeof(udp) + mlen));
	if (af == AF_INET) {
		struct ip ip = {
			.ip_v = 4, .ip_hl = 5, .ip_ttl = 64, .ip_p = IPPROTO_UDP
		};

		ip.ip_len = htons((uint16_t)(sizeof(ip) + sizeof(udp) + mlen));
		parse_ip(AF_INET, src, &ip.ip_src);
		parse_ip(AF_INET, dst, &ip.ip_dst);
		ip.ip_sum = csum(&ip, sizeof(ip));
		memcpy(f + off, &ip, sizeof(ip));
		off += sizeof(ip);
	} else {
		struct ip6_hdr ip6 = { 0 };

		ip6.ip6_flow = htonl(6u << 28);
		ip6.ip6_plen = udp.len;
		ip6.ip6_nxt = IPPROTO_UDP;
		ip6.ip6_hlim = 64;
		parse_ip(AF_INET6, src, &ip6.ip6_src);
		parse_ip(AF_INET6, dst, &ip6.ip6_dst);
		memcpy(f + off, &ip6, sizeof(ip6));
		off += sizeof(ip6);
	}
	/* UDP checksum 0: legal for IPv4; receivers here never check it. */
	memcpy(f + off, &udp, sizeof(udp));
	off += sizeof(udp);
	memcpy(f + off, marker, mlen);
	return off + mlen;
}

/* An ARP request, or a reply (OP 2) to the frame's destination MAC. */
static size_t build_arp(uint8_t *f, int op, const char *sha, const char *spa,
			const char *tpa)
{
	struct ether_header *eh = (struct ether_header *)f;
	uint8_t *a = f + sizeof(struct ether_header);

	a[0] = 0, a[1] = 1; /* Ethernet */
	a[2] = 0x08, a[3] = 0x00; /* IPv4 */
	a[4] = 6, a[5] = 4;
	a[6] = 0, a[7] = (uint8_t)op;
	parse_mac(sha, a + 8);
	parse_ip(AF_INET, spa, a + 14);
	if (op == 2)
		memcpy(a + 18, eh->ether_dhost, 6);
	else
		memset(a + 18, 0, 6);
	parse_ip(AF_INET, tpa, a + 24);
	return sizeof(struct ether_header) + 28;
}

/*
 * A neighbour solicitation of TARGET from SRC, to TARGET's solicited-node
 * group, whose source link-layer address option names LLADDR (which need
 * not be the frame's source MAC).
 */
static size_t build_ns(uint8_t *f, const char *src, const char *target,
		       const char *lladdr)
{
	size_t off = sizeof(struct ether_header);
	struct ip6_hdr ip6 = { 0 };
	/* the pseudo-header, then the message: type, code, checksum,
	 * reserved, the target, the option (type 1, 8 bytes, the MAC) */
	uint8_t ps[40 + 32] = { 0 }, *m = ps + 40;

	ip6.ip6_flow = htonl(6u << 28);
	ip6.ip6_plen = htons(32);
	ip6.ip6_nxt = IPPROTO_ICMPV6;
	ip6.ip6_hlim = 255;
	parse_ip(AF_INET6, src, &ip6.ip6_src);
	parse_ip(AF_INET6, target, m + 8);
	/* ff02::1:ffXX:XXXX of the target's last three bytes */
	ip6.ip6_dst.s6_addr[0] = 0xff;
	ip6.ip6_dst.s6_addr[1] = 0x02;
	ip6.ip6_dst.s6_addr[11] = 0x01;
	ip6.ip6_dst.s6_addr[12] = 0xff;
	memcpy(&ip6.ip6_dst.s6_addr[13], m + 8 + 13, 3);
	m[0] = 135;
	m[24] = 1;
	m[25] = 1;
	parse_mac(lladdr, m + 26);
	memcpy(ps, &ip6.ip6_src, 16);
	memcpy(ps + 16, &ip6.ip6_dst, 16);
	ps[35] = 32;
	ps[39] = IPPROTO_ICMPV6;
	memcpy(m + 2, &(uint16_t){ csum(ps, sizeof(ps)) }, 2);
	memcpy(f + off, &ip6, sizeof(ip6));
	memcpy(f + off + sizeof(ip6), m, 32);
	return off + sizeof(ip6) + 32;
}

static int do_send(int argc, char **argv)
{
	uint8_t frame[1514] = { 0 };
	struct ether_header *eh = (struct ether_header *)frame;
	struct sockaddr_ll sll;
	size_t len;
	int fd, count = 1;

	if (argc < 8)
		usage();
	fd = open_sock(argv[1], &sll);
	parse_mac(argv[2], eh->ether_shost);
	parse_mac(argv[3], eh->ether_dhost);
	if (!strcmp(argv[4], "ipv4")) {
		eh->ether_type = htons(ETHERTYPE_IP);
		len = build_ip(frame, AF_INET, argv[5], argv[6], argv[7]);
	} else if (!strcmp(argv[4], "ipv6")) {
		eh->ether_type = htons(ETHERTYPE_IPV6);
		len = build_ip(frame, AF_INET6, argv[5], argv[6], argv[7]);
	} else if (!strcmp(argv[4], "arp") || !strcmp(argv[4], "arpreply")) {
		eh->ether_type = htons(ETHERTYPE_ARP);
		len = build_arp(frame, argv[4][3] ? 2 : 1, argv[5], argv[6],
				argv[7]);
	} else if (!strcmp(argv[4], "ns")) {
		eh->ether_type = htons(ETHERTYPE_IPV6);
		len = build_ns(frame, argv[5], argv[6], argv[7]);
	} else {
		usage();
	}
	if (argc > 8)
		count = atoi(argv[8]);
	if (argc == 11 && !strcmp(argv[9], "vlan")) {
		int vid = atoi(argv[10]);

		/* The tag goes after the MACs, in the frame's bytes. */
		memmove(frame + 16, frame + 12, len - 12);
		frame[12] = 0x81;
		frame[13] = 0x00;
		frame[14] = (uint8_t)(vid >> 8);
		frame[15] = (uint8_t)vid;
		len += 4;
	} else if (argc > 9) {
		usage();
	}
	for (int i = 0; i < count; i++) {
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll,
			   sizeof(sll)) != (ssize_t)len) {
			perror("pkt: sendto");
			return 1;
		}
	}
	close(fd);
	return 0;
}

static uint64_t us_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t ms_now(void)
{
	return us_now() / 1000;
}

static uint64_t real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* What a sniff has counted so far. */
struct sniff {
	const uint8_t *pat;
	size_t plen;
	bool mac; /* PAT is a MAC, matched where the frame names an address */
	bool out;
	int64_t real_to_mono;
	int n, tagged, vid;
	uint64_t first, last;
	int show; /* how many more counted frames to print (PKT_SHOW) */
};

static volatile sig_atomic_t stop_sniff;

/*
 * Where frame F (LEN bytes) names MAC as an address, -1 if nowhere: its
 * destination or source, an ARP sender or target, or a link-layer
 * address option of neighbour discovery. Not anywhere in its bytes: an
 * ICMPv6 checksum ending in 02 and the zeros after it spell
 * 02:00:00:00:00:01 (a router solicitation of one device in some 280,
 * which a guest is sent as any multicast, at byte 57).
 */
static ptrdiff_t mac_at(const uint8_t *f, size_t len, const uint8_t *mac)
{
	const uint8_t *icmp;
	size_t off = 14, o, ilen;
	uint16_t type;

	if (len < off)
		return -1;
	if (!memcmp(f, mac, 6) || !memcmp(f + 6, mac, 6))
		return memcmp(f, mac, 6) ? 6 : 0;
	type = (uint16_t)(f[12] << 8 | f[13]);
	/* Tags the receive path left in the frame (all but the outer). */
	while ((type == ETH_P_8021Q || type == ETH_P_8021AD) &&
	       off + 4 <= len) {
		type = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
		off += 4;
	}
	if (type == ETH_P_ARP) {
		/* Ethernet and IPv4: the sender at 8, the target at 18. */
		if (off + 28 > len || f[off + 4] != 6 || f[off + 5] != 4)
			return -1;
		if (!memcmp(f + off + 8, mac, 6))
			return (ptrdiff_t)off + 8;
		if (!memcmp(f + off + 18, mac, 6))
			return (ptrdiff_t)off + 18;
		return -1;
	}
	if (type != ETH_P_IPV6 || off + 40 + 4 > len ||
	    f[off + 6] != IPPROTO_ICMPV6)
		return -1;
	icmp = f + off + 40;
	ilen = len - off - 40;
	/* Where the options start after each message's fixed part. */
	switch (icmp[0]) {
	case 133: /* router solicitation */
		o = 8;
		break;
	case 134: /* router advertisement */
		o = 16;
		break;
	case 135: /* neighbour solicitation */
	case 136: /* neighbour advertisement */
		o = 24;
		break;
	case 137: /* redirect */
		o = 40;
		break;
	default:
		return -1;
	}
	for (; o + 8 <= ilen && icmp[o + 1]; o += (size_t)icmp[o + 1] * 8)
		/* Source (1) or target (2) link-layer address. */
		if ((icmp[o] == 1 || icmp[o] == 2) &&
		    !memcmp(icmp + o + 2, mac, 6))
			return (ptrdiff_t)(off + 40 + o + 2);
	return -1;
}

/* Where frame F (LEN bytes) carries the sniff's marker, -1 if nowhere. */
static ptrdiff_t marker_at(const struct sniff *s, const uint8_t *f, size_t len)
{
	const uint8_t *m;

	if (s->mac)
		return mac_at(f, len, s->pat);
	m = memmem(f, len, s->pat, s->plen);
	return m ? m - f : -1;
}

static void on_stop(int sig)
{
	(void)sig;
	stop_sniff = 1;
}

/* Take one queued frame (FLAGS: MSG_DONTWAIT or 0) and count it if it is
 * one the sniff looks for. Returns when the kernel saw it (CLOCK_MONOTONIC,
 * us), 0 when none was queued. */
static uint64_t sniff_one(int fd, struct sniff *s, int flags)
{
	static uint8_t buf[65536];
	char cbuf[CMSG_SPACE(sizeof(struct timespec)) +
		  CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct sockaddr_ll from;
	struct msghdr mh = { .msg_name = &from,
			     .msg_namelen = sizeof(from),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	ssize_t len = recvmsg(fd, &mh, flags);
	bool tagged = false;
	ptrdiff_t where;
	uint64_t at;
	int vid = 0;

	if (len < 0)
		return 0;
	at = us_now();
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			at = (uint64_t)((int64_t)ts.tv_sec * 1000000 +
					ts.tv_nsec / 1000 + s->real_to_mono);
		} else if (c->cmsg_level == SOL_PACKET &&
			   c->cmsg_type == PACKET_AUXDATA) {
			struct tpacket_auxdata aux;

			memcpy(&aux, CMSG_DATA(c), sizeof(aux));
			tagged = aux.tp_status & TP_STATUS_VLAN_VALID;
			vid = aux.tp_vlan_tci & 0xfff;
		}
	/* What the interface received, or what it sent. */
	if ((from.sll_pkttype == PACKET_OUTGOING) != s->out)
		return at;
	where = marker_at(s, buf, (size_t)len);
	if (where < 0)
		return at;
	if (tagged) {
		s->tagged++;
		s->vid = vid;
	}
	s->last = at;
	if (!s->n++)
		s->first = at;
	if (s->show > 0) {
		s->show--;
		fprintf(stderr, "%llu us: %zd bytes, marker at %td:",
			(unsigned long long)at, len, where);
		for (ssize_t i = 0; i < len && i < 96; i++)
			fprintf(stderr, "%s%02x", i % 4 ? "" : " ", buf[i]);
		fputc('\n', stderr);
	}
	return at;
}

/* Count frames containing MARKER (raw bytes, or an IPv4 address in
 * dotted form, matched as its four bytes, for ARP; a MAC where the frame
 * names an address) for MILLISECONDS, or until a SIGTERM: either way what
 * the kernel queued before is counted. */
static int do_sniff(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct sniff s = { 0 };
	struct sockaddr_ll sll;
	struct in6_addr a6;
	struct in_addr a;
	uint8_t pat[64];
	uint64_t end;
	int fd;

	if (argc != 4 && argc != 5)
		usage();
	if (argc == 5 && strcmp(argv[4], "in") && strcmp(argv[4], "out"))
		usage();
	s.out = argc == 5 && !strcmp(argv[4], "out");
	s.pat = pat;
	if (getenv("PKT_SHOW"))
		s.show = atoi(getenv("PKT_SHOW"));
	if (inet_pton(AF_INET, argv[2], &a) == 1) {
		memcpy(pat, &a, 4);
		s.plen = 4;
	} else if (strlen(argv[2]) == 17 && argv[2][2] == ':') {
		parse_mac(argv[2], pat);
		s.plen = 6;
		s.mac = true;
	} else if (inet_pton(AF_INET6, argv[2], &a6) == 1) {
		memcpy(pat, &a6, 16);
		s.plen = 16;
	} else {
		s.plen = strlen(argv[2]);
		if (!s.plen || s.plen > sizeof(pat))
			usage();
		memcpy(pat, argv[2], s.plen);
	}
	/* No SA_RESTART: the signal ends the poll below. */
	sigaction(SIGTERM, &sa, NULL);
	fd = open_sock(argv[1], &sll);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("pkt: bind");
		return 1;
	}
	/* Room for a burst while the sniffer is not scheduled, and the time
	 * the kernel saw each frame, not when the sniffer got to it. The
	 * kernel stamps in CLOCK_REALTIME; the output is CLOCK_MONOTONIC. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 4 << 20 },
		   sizeof(int));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
	/* The receive path takes a frame's tag off before a socket sees it:
	 * the tag comes as auxiliary data. */
	setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &(int){ 1 }, sizeof(int));
	s.real_to_mono = (int64_t)us_now() - (int64_t)real_us();
	/* Tell the caller we listen, and who to stop, so it can start
	 * sending. */
	printf("listening %d\n", (int)getpid());
	fflush(stdout);
	end = ms_now() + (uint64_t)atoi(argv[3]);
	for (uint64_t t = ms_now(); t < end && !stop_sniff; t = ms_now()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, (int)(end - t)) > 0)
			sniff_one(fd, &s, 0);
	}
	/* Frames that came before the end but were not read yet (a sniffer
	 * the machine did not schedule in time) count too. */
	end = us_now();
	for (uint64_t at = 1; at && at <= end;)
		at = sniff_one(fd, &s, MSG_DONTWAIT);
	printf("%d %llu %llu %d %d\n", s.n, (unsigned long long)s.first,
	       (unsigned long long)s.last, s.tagged, s.vid);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "send"))
		return do_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sniff"))
		return do_sniff(argc - 1, argv + 1);
	if (!strcmp(argv[1], "clock") && argc == 2) {
		printf("%llu %llu\n", (unsigned long long)us_now(),
		       (unsigned long long)real_us());
		return 0;
	}
	usage();
}
