/* SPDX-License-Identifier: MIT */
/* Unit tests of conf/: units, parsing, every refusal and its message,
 * printing round trips and live editing. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

#define G 1000000000ull
#define M 1000000ull

/* The smallest valid head: one uplink. */
#define UP                                                             \
	"uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = " \
	"\"10G\"; } );\n"
#define GUEST(body) \
	"guests = ( { name = \"web\"; device = \"vif1\"; " body " } );\n"
#define MAC1 "mac = \"02:00:00:00:00:01\";"

static char path[64];

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/gona-test-conf-%d.conf", getpid());
}

static void teardown(void)
{
	unlink(path);
}

/* Each malformed file and its message after "FILE:". */
static const struct bad {
	const char *text;
	const char *msg;
} bad[] = {
	{ "uplinks = ( { name = \"up0\" } \n", "2: syntax error" },
	{ "guests = ( );\n",
	  "1: at least one uplink is needed (no uplinks list)" },
	{ UP "polcy = { };\n", "2: unknown key \"polcy\"" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\";\n capcity = "
	  "\"1G\"; } );\n",
	  "2: uplink up0: unknown key \"capcity\"" },
	{ "uplinks = ( { device = \"eth1\"; capacity = \"1G\"; } );\n",
	  "1: uplink #1: no name" },
	{ "uplinks = ( { name = \"up 0\"; device = \"eth1\"; capacity = "
	  "\"1G\"; } );\n",
	  "1: uplink \"up 0\": a name is 1 to 31 characters of A-Z a-z 0-9 _ . "
	  "-" },
	{ "uplinks = ( { name = \"abcdefghijklmnopqrstuvwxyz0123456\"; device "
	  "= \"e\"; capacity = \"1G\"; } );\n",
	  "1: uplink \"abcdefghijklmnopqrstuvwxyz0123456\": a name is 1 to 31 "
	  "characters of A-Z a-z 0-9 _ . -" },
	{ "uplinks = ( { name = \"up0\"; capacity = \"1G\"; } );\n",
	  "1: uplink up0: no device" },
	{ "uplinks = ( { name = \"up0\"; device = \"abcdefghijklmnop\"; "
	  "capacity = \"1G\"; } );\n",
	  "1: uplink up0: device \"abcdefghijklmnop\" is not a valid interface "
	  "name (1 to 15 characters, no '/', ':' or space)" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth/1\"; capacity = "
	  "\"1G\"; } );\n",
	  "1: uplink up0: device \"eth/1\" is not a valid interface name (1 to "
	  "15 characters, no '/', ':' or space)" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; } );\n",
	  "1: uplink up0: no capacity" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"fast\"; } );\n",
	  "1: uplink up0: capacity: cannot parse rate \"fast\"" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"-1G\"; } );\n",
	  "1: uplink up0: capacity \"-1G\" is negative" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = \"0\"; "
	  "} );\n",
	  "1: uplink up0: capacity 0 would stop all traffic" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"11T\"; } );\n",
	  "1: uplink up0: capacity \"11T\" is out of range (whole bit/s, at "
	  "most 10T)" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1.5\"; } );\n",
	  "1: uplink up0: capacity \"1.5\" is out of range (whole bit/s, at "
	  "most 10T)" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = true; } "
	  ");\n",
	  "1: uplink up0: capacity must be a string such as \"10G\" or an "
	  "integer" },
	{ UP "guests = ( { name = \"up0\"; device = \"vif1\"; " MAC1 " } );\n",
	  "2: guest up0: name already used by uplink up0" },
	{ UP "guests = ( { name = \"web\"; device = \"eth1\"; " MAC1 " } );\n",
	  "2: guest web: device eth1 already used by uplink up0" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { target = \"192.0.2.1\"; }; } );\n",
	  "2: uplink up0: monitor needs a type (arp or ns)" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { type = \"icmp\"; }; } );\n",
	  "2: uplink up0: monitor.type \"icmp\" is not arp or ns" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { type = \"arp\"; target = \"2001:db8::1\"; }; } );\n",
	  "1: uplink up0: an arp monitor needs an IPv4 target" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { type = \"arp\"; target = \"192.0.2.1\"; interval_ms = "
	  "0; }; } );\n",
	  "2: uplink up0: monitor.interval_ms 0 out of range 1..60000" },
	{ UP "guests = ( { name = \"web\"; device = \"vif1\"; } );\n",
	  "2: guest web: no mac" },
	{ UP GUEST("mac = \"01:00:5e:00:00:01\";"),
	  "2: guest web: mac 01:00:5e:00:00:01 is a multicast address" },
	{ UP GUEST("mac = \"02:00:00:00:01\";"),
	  "2: guest web: mac \"02:00:00:00:01\" is not a MAC address" },
	{ UP GUEST("mac = \"00:00:00:00:00:00\";"),
	  "2: guest web: mac 00:00:00:00:00:00 is all zeros" },
	{ UP "guests = ( { name = \"a\"; device = \"v1\"; " MAC1 " },\n"
	     "  { name = \"b\"; device = \"v2\"; " MAC1 " } );\n",
	  "3: guest b: mac 02:00:00:00:00:01 already used by guest a" },
	{ UP GUEST(MAC1 " ipv4 = [ \"192.0.2.300\" ];"),
	  "2: guest web: ipv4 \"192.0.2.300\" is not an IPv4 address" },
	{ UP GUEST(MAC1 " ipv4 = [ \"224.0.0.1\" ];"),
	  "2: guest web: ipv4 224.0.0.1 is not a unicast host address" },
	{ UP GUEST(MAC1 " ipv6 = [ \"2001:db8::1::2\" ];"),
	  "2: guest web: ipv6 \"2001:db8::1::2\" is not an IPv6 address" },
	{ UP GUEST(MAC1 " ipv6 = [ \"ff02::1\" ];"),
	  "2: guest web: ipv6 ff02::1 is not a unicast host address" },
	{ UP GUEST(MAC1 " ipv4 = [ \"192.0.2.1\", \"192.0.2.1\" ];"),
	  "2: guest web: ipv4 192.0.2.1 listed twice" },
	{ UP "guests = ( { name = \"a\"; device = \"v1\"; " MAC1
	     " ipv4 = \"192.0.2.5\"; },\n"
	     "  { name = \"b\"; device = \"v2\"; mac = \"02:00:00:00:00:02\"; "
	     "ipv4 = [ \"192.0.2.5\" ]; } );\n",
	  "3: guest b: ipv4 192.0.2.5 already used by guest a" },
	{ UP GUEST(MAC1 " tx = { min = \"5G\"; max = \"4G\"; };"),
	  "2: guest web: tx.min 5G exceeds tx.max 4G" },
	{ UP GUEST(MAC1 " tx = { weight = 0; };"),
	  "2: guest web: tx.weight 0 out of range 1..1000" },
	{ UP GUEST(MAC1 " tx = { weight = 1001; };"),
	  "2: guest web: tx.weight 1001 out of range 1..1000" },
	{ UP GUEST(MAC1 " tx = { weight = 1.5; };"),
	  "2: guest web: tx.weight must be an integer" },
	{ UP GUEST(MAC1 " tx = { burst = \"1000\"; };"),
	  "2: guest web: tx.burst 1000 is too small for one 1514-byte frame" },
	{ UP GUEST(MAC1 " tx = { maxx = \"1G\"; };"),
	  "2: guest web: unknown key \"tx.maxx\"" },
	{ UP GUEST(MAC1 " rx = { min = \"1G\"; };"),
	  "2: guest web: unknown key \"rx.min\"" },
	{ UP GUEST(MAC1 " tx = \"1G\";"),
	  "2: guest web: tx must be a group { ... }" },
	{ UP GUEST(MAC1 " tx = { max = \"0\"; };"),
	  "2: guest web: tx.max 0 would stop all traffic (\"none\" removes the "
	  "ceiling)" },
	{ UP GUEST(MAC1 " rx = { max = \"lots\"; };"),
	  "2: guest web: rx.max: cannot parse rate \"lots\"" },
	{ UP GUEST(MAC1 " spread = 0;"),
	  "2: guest web: spread 0 out of range 1..32" },
	{ UP GUEST(MAC1 " adress = \"x\";"),
	  "2: guest web: unknown key \"adress\"" },
	{ UP GUEST(MAC1 " ipv4 = { a = 1; };"),
	  "2: guest web: ipv4 must be a string or an array of strings" },
	{ UP GUEST(MAC1 " extra = { a = 1; };"),
	  "2: guest web: unknown key \"extra\"" },
	{ UP "guests = { };\n", "2: guests must be a list ( {...}, {...} )" },
	{ UP "guests = ( \"web\" );\n",
	  "2: guests: entry 1 is not a group { ... }" },
	{ UP "policy = { rebalance_interval = 100; };\n",
	  "2: policy: unknown key \"rebalance_interval\"" },
	{ UP "policy = { admission = \"n+1\"; };\n",
	  "2: policy: admission \"n+1\" is not n-1, n or off" },
	{ UP "policy = { qos_backend = \"cbq\"; };\n",
	  "2: policy: qos_backend \"cbq\" is not auto, htb or edt" },
	{ UP "policy = { qos_backend = 1; };\n",
	  "2: policy: qos_backend must be a string" },
	{ UP "policy = { updelay_ms = 600001; };\n",
	  "2: policy: updelay_ms 600001 out of range 0..600000" },
	{ UP "policy = { downdelay_ms = -1; };\n",
	  "2: policy: downdelay_ms -1 out of range 0..600000" },
	{ UP "policy = { notify_count = 101; };\n",
	  "2: policy: notify_count 101 out of range 0..100" },
	{ UP "policy = { notify_interval_ms = 0; };\n",
	  "2: policy: notify_interval_ms 0 out of range 1..10000" },
	{ UP "policy = { notify_count = \"3\"; };\n",
	  "2: policy: notify_count must be an integer" },
	{ UP "policy = { failback = \"maybe\"; };\n",
	  "2: policy: failback must be true or false" },
	{ UP "policy = { rebalance_interval_ms = 5; };\n",
	  "2: policy: rebalance_interval_ms 5 out of range 10..3600000" },
	{ UP "daemon = { socket = \"gonad.sock\"; };\n",
	  "2: daemon: socket \"gonad.sock\" is not an absolute path" },
	{ UP "daemon = { socket = "
	     "\"/run/"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; };\n",
	  "2: daemon: socket is longer than 107 characters" },
	{ UP "daemon = \"/run\";\n", "2: daemon must be a group { ... }" },
	/* libconfig 1.5 cuts integers to 32 bits without a word: refused
	 * before it can, wherever they are. */
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\";\n"
	  "  capacity = 10000000000; } );\n",
	  "2: integer 10000000000 does not fit in 32 bits (write "
	  "10000000000L, or a rate as a string such as \"10G\")" },
	{ UP GUEST(MAC1 "\n tx = { weight = 4294967297; };"),
	  "3: integer 4294967297 does not fit in 32 bits (write 4294967297L, "
	  "or a rate as a string such as \"10G\")" },
	{ UP GUEST(MAC1 " tx = { weight = 0x100000001; };"),
	  "2: integer 0x100000001 does not fit in 32 bits (write "
	  "0x100000001L, or a rate as a string such as \"10G\")" },
	{ UP GUEST(MAC1 " spread = -2147483649;"),
	  "2: integer -2147483649 does not fit in 32 bits (write "
	  "-2147483649L, or a rate as a string such as \"10G\")" },
	/* Not in strings or comments, and not when libconfig reads them
	 * right (L, floats). */
	{ UP "# capacity = 10000000000;\n/* 99999999999 */\n"
	     "guests = ( { name = \"web\"; device = \"v99999999999\"; } );\n",
	  "4: guest web: no mac" },
	{ UP "@include \"other.conf\"\n",
	  "2: @include is not supported: gona reads one file" },
	/* libconfig says "syntax error" at the end, and loses memory. */
	{ UP "guests = ( { name = \"web\";\n device = \"vif1 } );\n",
	  "3: a string that does not end" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = 2.5e9; "
	  "} );\n",
	  "1: uplink up0: capacity must be a string such as \"10G\" or an "
	  "integer" },
	{ "uplinks = ( { name = \"up0\"; device = 1; capacity = \"1G\"; } "
	  ");\n",
	  "1: uplink up0: device must be a string" },
	{ "uplinks = ( { name = 7; device = \"eth1\"; capacity = \"1G\"; } "
	  ");\n",
	  "1: uplink #1: name must be a string" },
	{ UP "guests = ( { name = \"a\"; device = \"v1\"; " MAC1 " },\n"
	     "  { device = \"v2\"; } );\n",
	  "3: guest #2: no name" },
	{ UP GUEST(MAC1 " tx = { weight = \"10\"; };"),
	  "2: guest web: tx.weight must be an integer" },
	{ UP GUEST(MAC1 " tx = { weight = -1; };"),
	  "2: guest web: tx.weight -1 out of range 1..1000" },
	{ UP GUEST(MAC1 " tx = { max = 4.0e9; };"),
	  "2: guest web: tx.max must be a string such as \"4G\" or an "
	  "integer" },
	{ UP GUEST(MAC1 " ipv4 = [ \"192.0.2.1\" ];\n ipv6 = [ 1, 2 ];"),
	  "3: guest web: ipv6 must be a string or an array of strings" },
	{ UP GUEST(MAC1 " tx = { mx = { a = 1; }; };"),
	  "2: guest web: unknown key \"tx.mx\"" },
	{ UP GUEST(MAC1 " tx = { burst = \"128M\"; };"),
	  "2: guest web: tx.burst 128M exceeds 64M" },
	{ UP GUEST(MAC1 " tx = { burst = \"64Q\"; };"),
	  "2: guest web: tx.burst: cannot parse size \"64Q\"" },
	{ UP GUEST(MAC1 " tx = { max = \"20T\"; };"),
	  "2: guest web: tx.max \"20T\" is out of range (whole bit/s, at most "
	  "10T)" },
	{ UP GUEST(MAC1 " tx = { min = \"1.0000001K\"; };"),
	  "2: guest web: tx.min \"1.0000001K\" is out of range (whole bit/s, "
	  "at most 10T)" },
	{ UP GUEST(MAC1 " spread = 33;"),
	  "2: guest web: spread 33 out of range 1..32" },
	{ UP GUEST(MAC1 " ipv4 = \"0.0.0.0\";"),
	  "2: guest web: ipv4 0.0.0.0 is not a unicast host address" },
	{ UP GUEST(MAC1 " ipv4 = \"255.255.255.255\";"),
	  "2: guest web: ipv4 255.255.255.255 is not a unicast host address" },
	{ UP GUEST(MAC1 " ipv6 = \"::\";"),
	  "2: guest web: ipv6 :: is not a unicast host address" },
	{ UP GUEST("mac = \"ff:ff:ff:ff:ff:ff\";"),
	  "2: guest web: mac ff:ff:ff:ff:ff:ff is a multicast address" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { type = \"arp\"; target = \"0.0.0.0\"; }; } );\n",
	  "2: uplink up0: monitor.target 0.0.0.0 is not a unicast host "
	  "address" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { type = \"ns\"; target = \"ff02::1\"; }; } );\n",
	  "2: uplink up0: monitor.target ff02::1 is not a unicast host "
	  "address" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { type = \"ns\"; target = \"192.0.2.1\"; }; } );\n",
	  "1: uplink up0: an ns monitor needs an IPv6 target" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { type = \"arp\"; }; } );\n",
	  "1: uplink up0: an arp monitor needs an IPv4 target" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { type = \"arp\"; target = \"192.0.2.1\";\n"
	  "    missed = 256; }; } );\n",
	  "3: uplink up0: monitor.missed 256 out of range 1..255" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = { type = \"arp\"; tries = 3; }; } );\n",
	  "2: uplink up0: unknown key \"monitor.tries\"" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  monitor = \"arp\"; } );\n",
	  "2: uplink up0: monitor must be a group { ... }" },
	/* LACP: a group needs its name; members agree on key and system
	 * priority, refused at the second member's line. */
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = { rate = \"slow\"; key = 2; }; } );\n",
	  "2: uplink up0: lacp needs a group (the link aggregation group's "
	  "name)" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = { }; } );\n",
	  "2: uplink up0: lacp needs a group (the link aggregation group's "
	  "name)" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = { group = \"lag0\"; rate = \"medium\"; }; } );\n",
	  "2: uplink up0: lacp.rate \"medium\" is not fast or slow" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = { group = \"lag 0\"; }; } );\n",
	  "2: uplink up0: lacp.group \"lag 0\": a group is 1 to 31 characters "
	  "of A-Z a-z 0-9 _ . -" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = { group = \"lag0\"; active = \"yes\"; }; } );\n",
	  "2: uplink up0: lacp.active must be true or false" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = { group = \"lag0\"; key = 0; }; } );\n",
	  "2: uplink up0: lacp.key 0 out of range 1..65535" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = { group = \"lag0\"; system_priority = 65536; }; } );\n",
	  "2: uplink up0: lacp.system_priority 65536 out of range 1..65535" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = { group = \"lag0\"; port_priority = \"10\"; }; } );\n",
	  "2: uplink up0: lacp.port_priority must be an integer" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = { group = \"lag0\"; mode = \"active\"; }; } );\n",
	  "2: uplink up0: unknown key \"lacp.mode\"" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\";\n"
	  "  lacp = \"lag0\"; } );\n",
	  "2: uplink up0: lacp must be a group { ... }" },
	{ "uplinks = (\n"
	  "  { name = \"up1\"; device = \"eth1\"; capacity = \"1G\";\n"
	  "    lacp = { group = \"lag0\"; }; },\n"
	  "  { name = \"up2\"; device = \"eth2\"; capacity = \"1G\";\n"
	  "    lacp = { group = \"lag1\"; key = 2; }; },\n"
	  "  { name = \"up3\"; device = \"eth3\"; capacity = \"1G\";\n"
	  "    lacp = { group = \"lag0\"; key = 2; }; } );\n",
	  "6: uplink up3: lacp.key 2 differs from uplink up1's (1) in LACP "
	  "group lag0 (a group's members share a key)" },
	{ "uplinks = (\n"
	  "  { name = \"up1\"; device = \"eth1\"; capacity = \"1G\";\n"
	  "    lacp = { group = \"lag0\"; }; },\n"
	  "  { name = \"up2\"; device = \"eth2\"; capacity = \"1G\";\n"
	  "    lacp = { group = \"lag0\"; system_priority = 1; }; } );\n",
	  "4: uplink up2: lacp.system_priority 1 differs from uplink up1's "
	  "(65535) in LACP group lag0 (a group's members share a system "
	  "priority)" },
	{ "uplinks = ( { name = \"up0\"; device = \"eth1\"; capacity = "
	  "\"1G\"; },\n"
	  "  { name = \"up0\"; device = \"eth2\"; capacity = \"1G\"; } );\n",
	  "2: uplink up0: name already used by uplink up0" },
	{ UP "guests = ( { name = \"a\"; device = \"v1\"; " MAC1 " },\n"
	     "  { name = \"a\"; device = \"v2\"; mac = \"02:00:00:00:00:02\"; "
	     "} );\n",
	  "3: guest a: name already used by guest a" },
	{ UP "guests = ( { name = \"a\"; device = \"v1\"; " MAC1 " },\n"
	     "  { name = \"b\"; device = \"v1\"; mac = \"02:00:00:00:00:02\"; "
	     "} );\n",
	  "3: guest b: device v1 already used by guest a" },
	{ UP "guests = ( { name = \"a\"; device = \"v1\"; " MAC1
	     " ipv6 = [ \"2001:db8::1\", \"2001:db8::5\" ]; },\n"
	     "  { name = \"b\"; device = \"v2\"; mac = \"02:00:00:00:00:02\";\n"
	     "    ipv6 = [ \"2001:DB8:0::5\" ]; } );\n",
	  "3: guest b: ipv6 2001:db8::5 already used by guest a" },
	{ UP "daemon = { pin_dir = \"bpf/gona\"; };\n",
	  "2: daemon: pin_dir \"bpf/gona\" is not an absolute path" },
	{ UP "daemon = { sock = \"/run/g.sock\"; };\n",
	  "2: daemon: unknown key \"sock\"" },
	{ UP "policy = { failback = 1; };\n",
	  "2: policy: failback must be true or false" },
	{ UP "policy = { admission = 1; };\n",
	  "2: policy: admission must be a string" },
	{ UP "policy = { rebalance_interval_ms = \"1000\"; };\n",
	  "2: policy: rebalance_interval_ms must be an integer" },
	{ UP "policy = { rebalance_interval_ms = 3600001; };\n",
	  "2: policy: rebalance_interval_ms 3600001 out of range 10..3600000" },
	{ "uplinks = \"eth0\";\n",
	  "1: uplinks must be a list ( {...}, {...} )" },
	{ "uplinks = [ ];\n", "1: at least one uplink is needed" },
	{ UP "\ndaemon = { socket = \"run/s\"; };\n",
	  "3: daemon: socket \"run/s\" is not an absolute path" },
	{ UP "guests = ( ( ) );\n",
	  "2: guests: entry 1 is not a group { ... }" },
	{ UP "uplinks = ( );\n", "2: duplicate setting name" },
	{ UP "guests = ( { name = \"web\"; device = \"vif1\"; " MAC1
	     "\n  tx = { min = \"1G\"; };\n  rx = { max = \"0\"; }; } );\n",
	  "4: guest web: rx.max 0 would stop all traffic (\"none\" removes the "
	  "ceiling)" },
};

START_TEST(malformed_refused)
{
	const struct bad *b = &bad[_i];
	struct conf_err err = { "" };
	struct conf *c = (struct conf *)1;
	char want[CONF_ERR_MAX];

	write_file(b->text);
	snprintf(want, sizeof(want), "%s:%s", path, b->msg);
	ck_assert_int_lt(conf_load(path, &c, &err), 0);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(unreadable_file)
{
	struct conf_err err;
	struct conf *c;

	ck_assert_int_eq(conf_load("/nonexistent/gona.conf", &c, &err),
			 -ENOENT);
	ck_assert_str_eq(err.msg, "/nonexistent/gona.conf: cannot read: No "
				  "such file or directory");
}
END_TEST

/* What the kernel would refuse, or what libconfig's scanner cannot read
 * without exiting the process. */
START_TEST(unreadable_and_binary)
{
	static const char text[] = "uplinks = ( { name = \"up0\"; device = "
				   "\"eth1\"; capacity = \"1G\"; } );\n"
				   "# \0 hidden\nfoo = 1;\n";
	struct conf_err err;
	struct conf *c = (struct conf *)1;
	char want[CONF_ERR_MAX];
	FILE *f;

	ck_assert_int_eq(conf_load("/tmp", &c, &err), -EISDIR);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err.msg, "/tmp: cannot read: Is a directory");

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, sizeof(text) - 1, f),
			  sizeof(text) - 1);
	fclose(f);
	ck_assert_int_eq(conf_load(path, &c, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: NUL byte in the file", path);
	ck_assert_str_eq(err.msg, want);
}
END_TEST

/* A configuration of N guests, guest i with 16 addresses of each family;
 * if CLASH, the last guest takes one of guest 0's IPv6 addresses. */
static char *many_guests(size_t n, bool clash, const char *head)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	fputs(UP, f);
	fputs(head, f);
	fputs("guests = (\n", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f,
			"{ name = \"g%zu\"; device = \"v%zu\"; "
			"mac = \"02:00:00:00:%02zx:%02zx\";\n ipv4 = [",
			i, i, i / 256, i % 256);
		for (int j = 0; j < CONF_ADDRS_MAX; j++)
			fprintf(f, "%s\"10.%zu.%zu.%d\"", j ? ", " : "",
				i / 256, i % 256, j + 1);
		fputs(" ];\n ipv6 = [", f);
		for (int j = 0; j < CONF_ADDRS_MAX; j++)
			fprintf(f, "%s\"2001:db8::%zx:%x\"", j ? ", " : "",
				clash && i == n - 1 && j == 5 ? 0 : i, j + 1);
		fprintf(f, " ]; }%s\n", i + 1 < n ? "," : "");
	}
	fputs(");\n", f);
	fclose(f);
	return text;
}

START_TEST(trunk_of_every_vlan)
{
	struct conf_err err;
	struct conf *c;
	size_t len = 200 + 6 * CONF_VLAN_MAX, off;
	char *text = malloc(len);

	ck_assert_ptr_nonnull(text);
	off = (size_t)snprintf(text, len,
			       "uplinks = ( { name = \"up0\"; device = "
			       "\"u0\"; capacity = \"1G\"; } );\n"
			       "guests = ( { name = \"t\"; device = \"gt\"; "
			       "mac = \"02:00:00:00:00:01\"; vlans = [ 1");
	for (int v = 2; v <= CONF_VLAN_MAX; v++)
		off += (size_t)snprintf(text + off, len - off, ", %d", v);
	snprintf(text + off, len - off, " ]; } );\n");
	write_file(text);
	free(text);
	ck_assert_msg(conf_load(path, &c, &err) == 0, "%s", err.msg);
	for (uint32_t v = 1; v <= CONF_VLAN_MAX; v++)
		ck_assert(conf_vlan_has(c->guests[0].vlans, v));
	ck_assert(!conf_vlan_has(c->guests[0].vlans, 0));
	conf_free(c);
}
END_TEST

START_TEST(at_the_limits)
{
	struct conf_err err;
	struct conf *c;
	char want[CONF_ERR_MAX], *text;
	FILE *f;

	text = many_guests(CONF_GUESTS_DEFAULT, false, "");
	write_file(text);
	free(text);
	ck_assert_msg(conf_load(path, &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(c->n_guests, CONF_GUESTS_DEFAULT);
	ck_assert_uint_eq(c->guests[1023].n_ipv6, CONF_ADDRS_MAX);
	conf_free(c);

	/* The last guest (line 2 + 1023 * 3 + 1) takes g0's 6th address. */
	text = many_guests(CONF_GUESTS_DEFAULT, true, "");
	write_file(text);
	free(text);
	ck_assert_int_eq(conf_load(path, &c, &err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3072: guest g1023: ipv6 2001:db8::6 already used by "
		 "guest g0",
		 path);
	ck_assert_str_eq(err.msg, want);

	text = many_guests(CONF_GUESTS_DEFAULT + 1, false, "");
	write_file(text);
	free(text);
	ck_assert_int_eq(conf_load(path, &c, &err), -ENOSPC);
	snprintf(want, sizeof(want),
		 "%s:3075: 1025 guests, more than daemon.max_guests (1024), "
		 "the data path's room",
		 path);
	ck_assert_str_eq(err.msg, want);

	/* daemon.max_guests makes room: 4096 guests of 32 addresses each
	 * (the dense host of the scale bench), one more refused. */
	text = many_guests(4096, false, "daemon = { max_guests = 4096; };\n");
	write_file(text);
	free(text);
	ck_assert_msg(conf_load(path, &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(c->n_guests, 4096);
	ck_assert_uint_eq(c->daemon.max_guests, 4096);
	conf_free(c);
	text = many_guests(4097, false, "daemon = { max_guests = 4096; };\n");
	write_file(text);
	free(text);
	ck_assert_int_eq(conf_load(path, &c, &err), -ENOSPC);
	snprintf(want, sizeof(want),
		 "%s:12292: 4097 guests, more than daemon.max_guests (4096), "
		 "the data path's room",
		 path);
	ck_assert_str_eq(err.msg, want);
	write_file(UP "daemon = { max_guests = 0; };\n");
	ck_assert_int_eq(conf_load(path, &c, &err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:2: daemon: max_guests 0 out of range 1..16384", path);
	ck_assert_str_eq(err.msg, want);
	write_file(UP "daemon = { max_guests = 16385; };\n");
	ck_assert_int_eq(conf_load(path, &c, &err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:2: daemon: max_guests 16385 out of range 1..16384", path);
	ck_assert_str_eq(err.msg, want);

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("uplinks = (\n", f);
	for (int i = 0; i <= CONF_UPLINKS_MAX; i++)
		fprintf(f,
			"{ name = \"u%d\"; device = \"e%d\"; capacity = "
			"\"1G\"; }%s\n",
			i, i, i < CONF_UPLINKS_MAX ? "," : "");
	fputs(");\n", f);
	fclose(f);
	ck_assert_int_eq(conf_load(path, &c, &err), -ENOSPC);
	snprintf(want, sizeof(want), "%s:34: 33 uplinks, at most 32", path);
	ck_assert_str_eq(err.msg, want);
}
END_TEST

/* Every uplink, policy and daemon key, in another order than printed. */
#define FULL_HEAD                                                              \
	"daemon = { pin_dir = \"/run/t/bpf\"; socket = \"/run/t/s\"; };\n"     \
	"policy = { admission = \"off\"; failback = false;\n"                  \
	"  rebalance_interval_ms = 250; qos_backend = \"htb\"; };\n"           \
	"uplinks = (\n"                                                        \
	"  { name = \"pf0\"; device = \"ens1f0\"; capacity = 25000000000L;\n"  \
	"    monitor = { missed = 4; interval_ms = 20;\n"                      \
	"      target = \"192.0.2.254\"; type = \"arp\"; }; },\n"              \
	"  { name = \"vf1\"; device = \"ens2f0v1\"; capacity = \"2.5gbit\";\n" \
	"    monitor = { type = \"ns\"; target = \"fe80::1\"; }; },\n"         \
	"  { name = \"pf2\"; device = \"ens3f0\"; capacity = 1000000; }\n"     \
	");\n"

/* Every key, in an order and style unlike conf_print's. */
START_TEST(every_key_parsed)
{
	static const uint8_t mac_db[6] = { 2, 0, 0, 0, 1, 0x0a };
	struct conf_err err;
	struct conf_uplink *u;
	struct conf_guest *g;
	struct in6_addr a6;
	struct conf *c;

	write_file(FULL_HEAD "guests = [ ];\n"
			     "guests_note = 1;\n");
	ck_assert_int_eq(conf_load(path, &c, &err), -EINVAL);
	write_file(
		FULL_HEAD
		"guests = (\n"
		"  { spread = 3; rx = { max = \"100mbit\"; };\n"
		"    tx = { burst = \"256K\"; weight = 1000; max = \"4000M\";\n"
		"      min = \"1.5G\"; };\n"
		"    ipv6 = \"2001:db8::11\"; ipv4 = ( \"192.0.2.11\", "
		"\"198.51.100.11\" );\n"
		"    mac = \"02:00:00:00:01:01\"; device = \"vif1.0\"; name = "
		"\"web\"; },\n"
		"  { name = \"db\"; device = \"vif2.0\"; mac = "
		"\"02-00-00-00-01-0A\";\n"
		"    tx = { min = 500000000; }; }\n"
		");\n");
	ck_assert_msg(conf_load(path, &c, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(c->daemon.socket, "/run/t/s");
	ck_assert_str_eq(c->daemon.pin_dir, "/run/t/bpf");
	ck_assert_int_eq(c->policy.admission, CONF_ADMIT_OFF);
	ck_assert_int_eq(c->policy.qos_backend, CONF_QOS_HTB);
	ck_assert(!c->policy.failback);
	ck_assert_uint_eq(c->policy.rebalance_interval_ms, 250);

	ck_assert_uint_eq(c->n_uplinks, 3);
	u = conf_uplink_find(c, "pf0");
	ck_assert_ptr_eq(u, &c->uplinks[0]);
	ck_assert_str_eq(u->device, "ens1f0");
	ck_assert_uint_eq(u->capacity, 25 * G);
	ck_assert_int_eq(u->line, 5);
	ck_assert_int_eq(u->monitor.type, CONF_MON_ARP);
	ck_assert_int_eq(u->monitor.target_af, AF_INET);
	ck_assert_uint_eq(ntohl(u->monitor.target4.s_addr), 0xc00002fe);
	ck_assert_uint_eq(u->monitor.interval_ms, 20);
	ck_assert_uint_eq(u->monitor.missed, 4);
	u = conf_uplink_find(c, "vf1");
	ck_assert_uint_eq(u->capacity, 2500 * M);
	ck_assert_int_eq(u->monitor.type, CONF_MON_NS);
	ck_assert_int_eq(u->monitor.target_af, AF_INET6);
	inet_pton(AF_INET6, "fe80::1", &a6);
	ck_assert_mem_eq(&u->monitor.target6, &a6, 16);
	ck_assert_uint_eq(u->monitor.interval_ms, 100);
	ck_assert_uint_eq(u->monitor.missed, 3);
	u = conf_uplink_find(c, "pf2");
	ck_assert_uint_eq(u->capacity, M);
	ck_assert_int_eq(u->monitor.type, CONF_MON_NONE);
	ck_assert_ptr_null(conf_uplink_find(c, "web"));

	ck_assert_uint_eq(c->n_guests, 2);
	g = &c->guests[0];
	ck_assert_str_eq(g->name, "web");
	ck_assert_str_eq(g->device, "vif1.0");
	ck_assert_int_eq(g->line, 13);
	ck_assert_uint_eq(g->n_ipv4, 2);
	ck_assert_uint_eq(ntohl(g->ipv4[1].s_addr), 0xc633640b);
	ck_assert_uint_eq(g->n_ipv6, 1);
	ck_assert_uint_eq(g->slice.tx_min, 1500 * M);
	ck_assert_uint_eq(g->slice.tx_max, 4 * G);
	ck_assert_uint_eq(g->slice.tx_weight, 1000);
	ck_assert_uint_eq(g->slice.tx_burst, 256 * 1024);
	ck_assert_uint_eq(g->slice.rx_max, 100 * M);
	ck_assert_uint_eq(g->spread, 3);
	g = conf_guest_find(c, "db");
	ck_assert_ptr_eq(g, &c->guests[1]);
	ck_assert_mem_eq(g->mac, mac_db, 6);
	ck_assert_uint_eq(g->n_ipv4 + g->n_ipv6, 0);
	ck_assert_uint_eq(g->slice.tx_min, 500 * M);
	ck_assert_uint_eq(g->slice.tx_max + g->slice.rx_max, 0);
	ck_assert_uint_eq(g->slice.tx_burst, 0);
	ck_assert_uint_eq(g->slice.tx_weight, 1);
	ck_assert_uint_eq(g->spread, 1);
	conf_free(c);
}
END_TEST

START_TEST(rates)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "500M", 500 * M },
		{ "1G", G },
		{ "2.5G", 2500 * M },
		{ "10G", 10 * G },
		{ "500mbit", 500 * M },
		{ "1gbit", G },
		{ "64k", 64000 },
		{ "1500", 1500 },
		{ "1.5K", 1500 },
		{ "2.5Gbit", 2500 * M },
		{ "10T", 10000 * G },
		{ "0", 0 },
		{ "1.000001M", 1000001 },
		{ "0.5k", 500 },
		{ "1GBIT", G },
		{ "1500bit", 1500 },
		{ "10000000000000", 10000 * G },
		{ "2.50G", 2500 * M },
		{ "007M", 7 * M },
	};
	static const struct {
		const char *s;
		int r;
	} no[] = {
		{ "", -EINVAL },
		{ "abc", -EINVAL },
		{ "1.5.5G", -EINVAL },
		{ "G", -EINVAL },
		{ "1GB", -EINVAL },
		{ "1 G", -EINVAL },
		{ "1e9", -EINVAL },
		{ ".5G", -EINVAL },
		{ "-1G", -EDOM },
		{ "11T", -ERANGE },
		{ "1.0005K", -ERANGE },
		{ "1.5", -ERANGE },
		{ "99999999999999999999999", -EINVAL },
		{ "+1G", -EINVAL },
		{ " 1G", -EINVAL },
		{ "1G ", -EINVAL },
		{ "1kbps", -EINVAL },
		{ "1Gbitx", -EINVAL },
		{ "1.G", -EINVAL },
		{ "1.0000001K", -ERANGE },
		{ "10.000000000001T", -ERANGE },
		{ "1.0000000000001T", -EINVAL },
		{ "10000000000001", -ERANGE },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		ck_assert_msg(conf_parse_rate(ok[i].s, &v) == 0, "%s", ok[i].s);
		ck_assert_msg(v == ok[i].v, "%s -> %llu", ok[i].s,
			      (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = 12345;
		ck_assert_msg(conf_parse_rate(no[i].s, &v) == no[i].r, "%s",
			      no[i].s);
		ck_assert_uint_eq(v, 12345);
	}
}
END_TEST

START_TEST(rate_format)
{
	static const struct {
		uint64_t v;
		const char *s;
	} t[] = {
		{ 2500 * M, "2.5G" }, { M, "1M" },
		{ 999, "999" },	      { 1234567, "1.234567M" },
		{ 0, "0" },	      { 10000 * G, "10T" },
		{ 1500, "1.5K" },     { 10 * G + 1, "10.000000001G" },
	};
	char buf[32];
	uint64_t back;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_str_eq(conf_format_rate(t[i].v, buf, sizeof(buf)),
				 t[i].s);
		ck_assert_int_eq(conf_parse_rate(buf, &back), 0);
		ck_assert_uint_eq(back, t[i].v);
	}
	/* Round trip over a spread of values. */
	for (uint64_t v = 1; v < 10000 * G; v = v * 7 + 3) {
		conf_format_rate(v, buf, sizeof(buf));
		ck_assert_int_eq(conf_parse_rate(buf, &back), 0);
		ck_assert_uint_eq(back, v);
	}
}
END_TEST

START_TEST(sizes_and_macs)
{
	uint8_t mac[6], want[6] = { 0x02, 0, 0, 0, 0x01, 0xab };
	uint32_t b;
	char buf[32];

	ck_assert_int_eq(conf_parse_size("64K", &b), 0);
	ck_assert_uint_eq(b, 65536);
	ck_assert_int_eq(conf_parse_size("1m", &b), 0);
	ck_assert_uint_eq(b, 1048576);
	ck_assert_int_eq(conf_parse_size("64KB", &b), 0);
	ck_assert_uint_eq(b, 65536);
	ck_assert_int_eq(conf_parse_size("1514", &b), 0);
	ck_assert_uint_eq(b, 1514);
	ck_assert_int_eq(conf_parse_size("1.5K", &b), -EINVAL);
	ck_assert_int_eq(conf_parse_size("", &b), -EINVAL);
	ck_assert_int_eq(conf_parse_size("64Q", &b), -EINVAL);
	ck_assert_int_eq(conf_parse_size("5000000000", &b), -ERANGE);
	ck_assert_int_eq(conf_parse_size("4096M", &b), -ERANGE);
	ck_assert_int_eq(conf_parse_size("4095M", &b), 0);
	ck_assert_uint_eq(b, 4095u << 20);
	ck_assert_int_eq(conf_parse_size("1514b", &b), 0);
	ck_assert_uint_eq(b, 1514);
	ck_assert_int_eq(conf_parse_size("64KiB", &b), -EINVAL);
	ck_assert_int_eq(conf_parse_size("-1", &b), -EINVAL);
	ck_assert_int_eq(conf_parse_size("K", &b), -EINVAL);
	ck_assert_str_eq(conf_format_size(1536, buf, sizeof(buf)), "1536");
	ck_assert_str_eq(conf_format_size(0, buf, sizeof(buf)), "0");
	ck_assert_str_eq(conf_format_size(65536, buf, sizeof(buf)), "64K");
	ck_assert_str_eq(conf_format_size(2097152, buf, sizeof(buf)), "2M");
	ck_assert_str_eq(conf_format_size(1514, buf, sizeof(buf)), "1514");

	ck_assert_int_eq(conf_parse_mac("02:00:00:00:01:AB", mac), 0);
	ck_assert_mem_eq(mac, want, 6);
	ck_assert_int_eq(conf_parse_mac("02-00-00-00-01-ab", mac), 0);
	ck_assert_mem_eq(mac, want, 6);
	ck_assert_str_eq(conf_format_mac(mac, buf, sizeof(buf)),
			 "02:00:00:00:01:ab");
	ck_assert_int_eq(conf_parse_mac("02:00-00:00:01:ab", mac), -EINVAL);
	ck_assert_int_eq(conf_parse_mac("02:00:00:00:01", mac), -EINVAL);
	ck_assert_int_eq(conf_parse_mac("02:00:00:00:01:ag", mac), -EINVAL);
	ck_assert_int_eq(conf_parse_mac("02:00:00:00:01:abc", mac), -EINVAL);
}
END_TEST

START_TEST(shipped_config)
{
	struct conf_err err;
	struct conf *c;
	struct conf_guest *g;

	ck_assert_msg(conf_load("conf/gona.conf", &c, &err) == 0, "%s",
		      err.msg);
	ck_assert_uint_eq(c->n_uplinks, 2);
	ck_assert_str_eq(c->uplinks[1].device, "ens2f0");
	ck_assert_uint_eq(c->uplinks[1].capacity, 10 * G);
	ck_assert_uint_eq(c->n_guests, 3);
	g = conf_guest_find(c, "web");
	ck_assert_ptr_nonnull(g);
	ck_assert_str_eq(g->device, "vif1.0");
	ck_assert_uint_eq(g->slice.tx_min, G);
	ck_assert_uint_eq(g->slice.tx_max, 4 * G);
	ck_assert_uint_eq(g->slice.tx_weight, 10);
	ck_assert_uint_eq(g->slice.rx_max, 4 * G);
	ck_assert_uint_eq(g->n_ipv4, 1);
	ck_assert_uint_eq(ntohl(g->ipv4[0].s_addr), 0xc000020b);
	g = conf_guest_find(c, "cache");
	ck_assert_uint_eq(g->slice.tx_min, 0);
	ck_assert_uint_eq(g->slice.tx_max, 0);
	ck_assert_uint_eq(g->slice.tx_weight, 1);
	ck_assert_uint_eq(g->spread, 1);
	ck_assert(c->policy.failback);
	ck_assert_int_eq(c->policy.admission, CONF_ADMIT_N1);
	ck_assert_str_eq(c->daemon.socket, "/run/gona/gonad.sock");
	conf_free(c);
}
END_TEST

/* Print, parse the print, print again: the same text, the same model. */
static void round_trip(const char *text)
{
	struct conf_err err;
	struct conf *a, *b;
	char *pa = NULL, *pb = NULL;
	size_t la, lb;
	FILE *f;

	write_file(text);
	ck_assert_msg(conf_load(path, &a, &err) == 0, "%s", err.msg);
	f = open_memstream(&pa, &la);
	conf_print(f, a);
	fclose(f);
	write_file(pa);
	ck_assert_msg(conf_load(path, &b, &err) == 0, "%s", err.msg);
	f = open_memstream(&pb, &lb);
	conf_print(f, b);
	fclose(f);
	ck_assert_str_eq(pa, pb);
	ck_assert_uint_eq(a->n_uplinks, b->n_uplinks);
	ck_assert_uint_eq(a->n_guests, b->n_guests);
	for (size_t i = 0; i < a->n_uplinks; i++) {
		a->uplinks[i].line = b->uplinks[i].line = 0;
		ck_assert_mem_eq(&a->uplinks[i], &b->uplinks[i],
				 sizeof(a->uplinks[i]));
	}
	for (size_t i = 0; i < a->n_guests; i++) {
		a->guests[i].line = b->guests[i].line = 0;
		ck_assert_mem_eq(&a->guests[i], &b->guests[i],
				 sizeof(a->guests[i]));
	}
	ck_assert_mem_eq(&a->policy, &b->policy, sizeof(a->policy));
	ck_assert_mem_eq(&a->daemon, &b->daemon, sizeof(a->daemon));
	conf_free(a);
	conf_free(b);
	free(pa);
	free(pb);
}

START_TEST(print_round_trips)
{
	FILE *f = fopen("conf/gona.conf", "r");
	char text[16384];
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	round_trip(text);
	round_trip(UP);
	round_trip(UP "guests = [ ];\n");
	f = fopen("tests/golden/full.conf", "r");
	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	round_trip(text);
	round_trip("uplinks = ( { name = \"a\"; device = \"e\\\"1\"; capacity "
		   "= 123456789;\n"
		   "  monitor = { type = \"ns\"; target = \"2001:db8::1\"; "
		   "interval_ms = 10; missed = 5; }; },\n"
		   "  { name = \"b\"; device = \"e2\"; capacity = \"2.5G\";\n"
		   "  monitor = { type = \"arp\"; target = \"192.0.2.1\"; }; } "
		   ");\n"
		   "guests = ( { name = \"g-1.x\"; device = \"v1\"; mac = "
		   "\"02:AA:00:00:00:01\";\n"
		   "  ipv4 = [ \"192.0.2.5\", \"198.51.100.7\" ]; ipv6 = "
		   "\"2001:db8::5\";\n"
		   "  tx = { min = \"100M\"; max = \"1.5G\"; weight = 999; "
		   "burst = \"64K\"; };\n"
		   "  rx = { max = 2000000000; }; spread = 2; } );\n"
		   "policy = { rebalance_interval_ms = 250; failback = false; "
		   "admission = \"off\"; };\n"
		   "daemon = { socket = \"/tmp/x.sock\"; pin_dir = "
		   "\"/tmp/pins\"; };\n");
	round_trip("uplinks = (\n"
		   "  { name = \"a\"; device = \"e1\"; capacity = \"1G\";\n"
		   "    lacp = { group = \"lag0\"; key = 9; }; },\n"
		   "  { name = \"b\"; device = \"e2\"; capacity = \"1G\";\n"
		   "    lacp = { key = 9; active = false; group = \"lag0\";\n"
		   "      rate = \"slow\"; port_priority = 1; }; },\n"
		   "  { name = \"c\"; device = \"e3\"; capacity = \"1G\";\n"
		   "    lacp = { group = \"lag.2\"; key = 9; "
		   "system_priority = 1; }; } );\n");
}
END_TEST

/* A lacp group prints whole, defaults written out, after the monitor. */
START_TEST(lacp_printed)
{
	static const char want[] = "\t\tmonitor = {\n"
				   "\t\t\ttype = \"arp\";\n"
				   "\t\t\ttarget = \"192.0.2.1\";\n"
				   "\t\t\tinterval_ms = 100;\n"
				   "\t\t\tmissed = 3;\n"
				   "\t\t};\n"
				   "\t\tlacp = {\n"
				   "\t\t\tgroup = \"lag0\";\n"
				   "\t\t\trate = \"fast\";\n"
				   "\t\t\tactive = true;\n"
				   "\t\t\tsystem_priority = 65535;\n"
				   "\t\t\tport_priority = 255;\n"
				   "\t\t\tkey = 1;\n"
				   "\t\t};\n"
				   "\t}\n";
	struct conf_err err;
	struct conf *c;
	char *text = NULL;
	size_t len;
	FILE *f;

	write_file("uplinks = ( { name = \"up0\"; device = \"eth1\"; "
		   "capacity = \"1G\";\n"
		   "  lacp = { group = \"lag0\"; };\n"
		   "  monitor = { type = \"arp\"; target = \"192.0.2.1\"; }; "
		   "} );\n");
	ck_assert_msg(conf_load(path, &c, &err) == 0, "%s", err.msg);
	f = open_memstream(&text, &len);
	conf_print(f, c);
	fclose(f);
	ck_assert_msg(strstr(text, want), "%s", text);
	free(text);
	conf_free(c);

	/* Without a group, nothing: the uplink reads back the same. */
	write_file(UP);
	ck_assert_msg(conf_load(path, &c, &err) == 0, "%s", err.msg);
	f = open_memstream(&text, &len);
	conf_print(f, c);
	fclose(f);
	ck_assert_ptr_null(strstr(text, "lacp"));
	free(text);
	conf_free(c);
}
END_TEST

START_TEST(live_guest_edits)
{
	struct conf_guest g, before;
	struct conf_err err;

	conf_guest_init(&g, "web");
	ck_assert_int_eq(conf_guest_set(&g, "device", "vif1.0", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "mac", "02:00:00:00:00:09", &err),
			 0);
	ck_assert_int_eq(conf_guest_set(&g, "ipv4", "192.0.2.9", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "ipv4", "192.0.2.10", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "ipv6", "2001:db8::9", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "tx.min", "100M", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "tx.max", "1G", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "tx.weight", "7", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "tx.burst", "32K", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "rx.max", "2.5G", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "spread", "2", &err), 0);
	ck_assert_uint_eq(g.n_ipv4, 2);
	ck_assert_uint_eq(g.slice.tx_min, 100 * M);
	ck_assert_uint_eq(g.slice.tx_burst, 32768);
	ck_assert_uint_eq(g.slice.rx_max, 2500 * M);
	ck_assert_int_eq(conf_guest_check(&g, &err), 0);

	before = g;
	ck_assert_int_eq(conf_guest_set(&g, "tx.max", "abc", &err), -EINVAL);
	ck_assert_str_eq(err.msg,
			 "guest web: tx.max: cannot parse rate \"abc\"");
	ck_assert_int_eq(conf_guest_set(&g, "tx.weight", "0", &err), -EINVAL);
	ck_assert_str_eq(err.msg,
			 "guest web: tx.weight 0 out of range 1..1000");
	ck_assert_int_eq(conf_guest_set(&g, "tx.burst", "1K", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: tx.burst 1K is too small for one "
				  "1514-byte frame");
	ck_assert_int_eq(conf_guest_set(&g, "rx.max", "-5M", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: rx.max \"-5M\" is negative");
	ck_assert_int_eq(conf_guest_set(&g, "mac", "ff:ff:ff:ff:ff:ff", &err),
			 -EINVAL);
	ck_assert_int_eq(conf_guest_set(&g, "ipv4", "192.0.2.9", &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: ipv4 192.0.2.9 listed twice");
	ck_assert_int_eq(conf_guest_set(&g, "colour", "blue", &err), -ENOENT);
	ck_assert_str_eq(err.msg, "guest web: unknown key \"colour\"");
	ck_assert_int_eq(conf_guest_set(&g, "name", "other", &err), -ENOENT);
	ck_assert_mem_eq(&g, &before, sizeof(g));

	/* "none" lifts a ceiling; a capacity cannot be none. */
	ck_assert_int_eq(conf_guest_set(&g, "rx.max", "none", &err), 0);
	ck_assert_uint_eq(g.slice.rx_max, 0);
	ck_assert_int_eq(conf_guest_set(&g, "rx.max", "2.5G", &err), 0);

	/* tx.min above tx.max: each value fine alone, refused together. */
	ck_assert_int_eq(conf_guest_set(&g, "tx.min", "2G", &err), 0);
	ck_assert_int_eq(conf_guest_check(&g, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: tx.min 2G exceeds tx.max 1G");
}
END_TEST

START_TEST(vlan_edits)
{
	struct conf_guest g, before;
	struct conf_err err;

	conf_guest_init(&g, "web");
	ck_assert_int_eq(conf_guest_set(&g, "device", "vif1.0", &err), 0);
	ck_assert_int_eq(conf_guest_set(&g, "mac", "02:00:00:00:00:09", &err),
			 0);
	ck_assert_int_eq(conf_guest_set(&g, "vlan", "10", &err), 0);
	ck_assert_uint_eq(g.vlan, 10);
	ck_assert(!conf_guest_is_trunk(&g));
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "20,1,4094", &err), 0);
	ck_assert(conf_vlan_has(g.vlans, 1) && conf_vlan_has(g.vlans, 20) &&
		  conf_vlan_has(g.vlans, 4094) && !conf_vlan_has(g.vlans, 10));
	ck_assert_int_eq(conf_guest_check(&g, &err), 0);

	before = g;
	ck_assert_int_eq(conf_guest_set(&g, "vlan", "0", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlan 0 out of range 1..4094");
	ck_assert_int_eq(conf_guest_set(&g, "vlan", "4095", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlan 4095 out of range 1..4094");
	ck_assert_int_eq(conf_guest_set(&g, "vlan", "ten", &err), -EINVAL);
	ck_assert_str_eq(err.msg,
			 "guest web: vlan \"ten\" is not a whole number");
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "30,31,30", &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlans lists 30 twice");
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "30,", &err), -EINVAL);
	ck_assert_str_eq(err.msg,
			 "guest web: vlans \"\" is not a whole number");
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "4095", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlans 4095 out of range 1..4094");
	ck_assert_mem_eq(&g, &before, sizeof(g));

	/* The untagged VLAN is not also a tagged one. */
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "10,20", &err), 0);
	ck_assert_int_eq(conf_guest_check(&g, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlan 10 is its untagged VLAN "
				  "and cannot also be in vlans");
	/* Ranges, for long trunk lists on a command line. */
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "100-103,4094", &err), 0);
	ck_assert(conf_vlan_has(g.vlans, 100) && conf_vlan_has(g.vlans, 103) &&
		  !conf_vlan_has(g.vlans, 104) && conf_vlan_has(g.vlans, 4094));
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "5-3", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlans range 5-3 runs backwards");
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "20,19-21", &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlans lists 20 twice");
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "1-4095", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlans 4095 out of range 1..4094");
	/* A list is replaced whole; "none" ends both. */
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "30", &err), 0);
	ck_assert(conf_vlan_has(g.vlans, 30) && !conf_vlan_has(g.vlans, 20));
	ck_assert_int_eq(conf_guest_set(&g, "vlans", "none", &err), 0);
	ck_assert(!conf_guest_is_trunk(&g));
	ck_assert_int_eq(conf_guest_set(&g, "vlan", "none", &err), 0);
	ck_assert_uint_eq(g.vlan, 0);
	/* Built by hand: the same limits. */
	g.vlan = 4095;
	ck_assert_int_eq(conf_guest_check(&g, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlan 4095 out of range 1..4094");
	g.vlan = 0;
	g.vlans[0] = 1;
	ck_assert_int_eq(conf_guest_check(&g, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: vlans lists 0, not a VLAN");
}
END_TEST

START_TEST(live_uplink_edits)
{
	struct conf_uplink u, before;
	struct conf_err err;

	conf_uplink_init(&u, "up9");
	ck_assert_uint_eq(u.monitor.interval_ms, 100);
	ck_assert_uint_eq(u.monitor.missed, 3);
	ck_assert_int_eq(conf_uplink_check(&u, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: no device");
	ck_assert_int_eq(conf_uplink_set(&u, "device", "eth9", &err), 0);
	ck_assert_int_eq(conf_uplink_check(&u, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: no capacity");
	ck_assert_int_eq(conf_uplink_set(&u, "capacity", "40G", &err), 0);
	ck_assert_uint_eq(u.capacity, 40 * G);
	ck_assert_int_eq(conf_uplink_check(&u, &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "monitor.target", "fe80::1", &err),
			 0);
	ck_assert_int_eq(conf_uplink_check(&u, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: monitor needs a type");
	ck_assert_int_eq(conf_uplink_set(&u, "monitor.type", "arp", &err), 0);
	ck_assert_int_eq(conf_uplink_check(&u, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: an arp monitor needs an IPv4 "
				  "target");
	/* One target only: the IPv6 one is gone. */
	ck_assert_int_eq(
		conf_uplink_set(&u, "monitor.target", "192.0.2.1", &err), 0);
	ck_assert(IN6_IS_ADDR_UNSPECIFIED(&u.monitor.target6));
	ck_assert_int_eq(
		conf_uplink_set(&u, "monitor.interval_ms", "60000", &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "monitor.missed", "255", &err), 0);
	ck_assert_int_eq(conf_uplink_check(&u, &err), 0);

	before = u;
	ck_assert_int_eq(conf_uplink_set(&u, "capacity", "0", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: capacity 0 would stop all "
				  "traffic");
	ck_assert_int_eq(conf_uplink_set(&u, "device", "a b", &err), -EINVAL);
	ck_assert_int_eq(conf_uplink_set(&u, "device", "..", &err), -EINVAL);
	ck_assert_int_eq(conf_uplink_set(&u, "monitor.type", "icmp", &err),
			 -EINVAL);
	ck_assert_int_eq(
		conf_uplink_set(&u, "monitor.target", "224.0.0.1", &err),
		-EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: monitor.target 224.0.0.1 is "
				  "not a unicast host address");
	ck_assert_int_eq(conf_uplink_set(&u, "monitor.target", "host", &err),
			 -EINVAL);
	ck_assert_int_eq(
		conf_uplink_set(&u, "monitor.interval_ms", "60001", &err),
		-EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: monitor.interval_ms 60001 out "
				  "of range 1..60000");
	ck_assert_int_eq(conf_uplink_set(&u, "monitor.missed", "3x", &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg,
			 "uplink up9: monitor.missed \"3x\" is not a whole "
			 "number");
	ck_assert_int_eq(conf_uplink_set(&u, "name", "x", &err), -ENOENT);
	ck_assert_str_eq(err.msg, "uplink up9: unknown key \"name\"");
	ck_assert_mem_eq(&u, &before, sizeof(u));
}
END_TEST

START_TEST(lacp_keys)
{
	struct conf_uplink u, before, ok;
	struct conf_err err;

	conf_uplink_init(&u, "up9");
	ck_assert_str_eq(u.lacp.group, "");
	ck_assert_int_eq(u.lacp.rate, CONF_LACP_FAST);
	ck_assert(u.lacp.active);
	ck_assert_uint_eq(u.lacp.system_priority, 65535);
	ck_assert_uint_eq(u.lacp.port_priority, 255);
	ck_assert_uint_eq(u.lacp.key, 1);
	ck_assert_int_eq(conf_uplink_set(&u, "device", "eth9", &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "capacity", "10G", &err), 0);
	ck_assert_int_eq(conf_uplink_check(&u, &err), 0);

	/* A setting without a group would print as nothing. */
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.key", "2", &err), 0);
	ck_assert_uint_eq(u.lacp.key, 2);
	ck_assert_int_eq(conf_uplink_check(&u, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: lacp needs a group");
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.group", "lag0", &err), 0);
	ck_assert_str_eq(u.lacp.group, "lag0");
	ck_assert_int_eq(conf_uplink_check(&u, &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.rate", "slow", &err), 0);
	ck_assert_int_eq(u.lacp.rate, CONF_LACP_SLOW);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.rate", "fast", &err), 0);
	ck_assert_int_eq(u.lacp.rate, CONF_LACP_FAST);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.active", "no", &err), 0);
	ck_assert(!u.lacp.active);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.active", "true", &err), 0);
	ck_assert(u.lacp.active);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.system_priority", "1", &err),
			 0);
	ck_assert_uint_eq(u.lacp.system_priority, 1);
	ck_assert_int_eq(
		conf_uplink_set(&u, "lacp.port_priority", "65535", &err), 0);
	ck_assert_uint_eq(u.lacp.port_priority, 65535);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.key", "65535", &err), 0);
	ck_assert_uint_eq(u.lacp.key, 65535);
	ck_assert_int_eq(conf_uplink_check(&u, &err), 0);

	/* Each refused with its message, the uplink unchanged. */
	before = u;
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.group", "lag 0", &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: lacp.group \"lag 0\": a group "
				  "is 1 to 31 characters of A-Z a-z 0-9 _ . -");
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.group", "", &err), -EINVAL);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.rate", "medium", &err),
			 -EINVAL);
	ck_assert_str_eq(
		err.msg,
		"uplink up9: lacp.rate \"medium\" is not fast or slow");
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.active", "maybe", &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: lacp.active \"maybe\" is not "
				  "true or false");
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.system_priority", "0", &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: lacp.system_priority 0 out of "
				  "range 1..65535");
	ck_assert_int_eq(
		conf_uplink_set(&u, "lacp.port_priority", "65536", &err),
		-EINVAL);
	ck_assert_str_eq(err.msg, "uplink up9: lacp.port_priority 65536 out "
				  "of range 1..65535");
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.key", "-1", &err), -EINVAL);
	ck_assert_str_eq(err.msg,
			 "uplink up9: lacp.key -1 out of range 1..65535");
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.key", "one", &err), -EINVAL);
	ck_assert_str_eq(err.msg,
			 "uplink up9: lacp.key \"one\" is not a whole number");
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.mode", "active", &err),
			 -ENOENT);
	ck_assert_str_eq(err.msg, "uplink up9: unknown key \"lacp.mode\"");
	ck_assert_int_eq(conf_uplink_set(&u, "lacp", "lag0", &err), -ENOENT);
	ck_assert_mem_eq(&u, &before, sizeof(u));

	/* Built by hand: the same limits, checked again. */
	ok = u;
#define SPOILED(stmt, want)                                             \
	do {                                                            \
		u = ok;                                                 \
		stmt;                                                   \
		ck_assert_int_eq(conf_uplink_check(&u, &err), -EINVAL); \
		ck_assert_str_eq(err.msg, want);                        \
	} while (0)

	SPOILED(u.lacp.key = 0, "uplink up9: lacp.key 0 out of range 1..65535");
	SPOILED(u.lacp.port_priority = 65536,
		"uplink up9: lacp.port_priority 65536 out of range 1..65535");
	SPOILED(u.lacp.system_priority = 0,
		"uplink up9: lacp.system_priority 0 out of range 1..65535");
	SPOILED(u.lacp.rate = 2, "uplink up9: lacp.rate 2 is not fast or slow");
	SPOILED(strcpy(u.lacp.group, "a/b"),
		"uplink up9: lacp.group \"a/b\": a group is 1 to 31 "
		"characters of A-Z a-z 0-9 _ . -");
	SPOILED(memset(u.lacp.group, 'a', sizeof(u.lacp.group)),
		"uplink up9: lacp.group "
		"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": a group is 1 to 31 "
		"characters of A-Z a-z 0-9 _ . -");
	/* Without a group, each setting away from its default. */
	conf_uplink_init(&ok, "up9");
	ck_assert_int_eq(conf_uplink_set(&ok, "device", "eth9", &err), 0);
	ck_assert_int_eq(conf_uplink_set(&ok, "capacity", "10G", &err), 0);
	SPOILED(u.lacp.rate = CONF_LACP_SLOW, "uplink up9: lacp needs a group");
	SPOILED(u.lacp.active = false, "uplink up9: lacp needs a group");
	SPOILED(u.lacp.system_priority = 1, "uplink up9: lacp needs a group");
	SPOILED(u.lacp.port_priority = 1, "uplink up9: lacp needs a group");
	SPOILED(u.lacp.key = 3, "uplink up9: lacp needs a group");
#undef SPOILED
}
END_TEST

/* The members of a group share key and system priority: an uplink added
 * live is held to the group it joins, and the configuration stays. */
START_TEST(lacp_group_shared)
{
	struct conf_uplink u;
	struct conf_err err;
	struct conf *c;

	write_file(
		"uplinks = (\n"
		"  { name = \"up0\"; device = \"eth0\"; capacity = \"1G\";\n"
		"    lacp = { group = \"lag0\"; key = 5; }; },\n"
		"  { name = \"up1\"; device = \"eth1\"; capacity = \"1G\";\n"
		"    lacp = { group = \"lag0\"; key = 5; port_priority = 1;\n"
		"      rate = \"slow\"; active = false; }; },\n"
		"  { name = \"up2\"; device = \"eth2\"; capacity = \"1G\";\n"
		"    lacp = { group = \"lag1\"; system_priority = 7; }; } "
		");\n");
	ck_assert_msg(conf_load(path, &c, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(c->uplinks[1].lacp.group, "lag0");
	ck_assert_uint_eq(c->uplinks[1].lacp.key, 5);
	ck_assert_uint_eq(c->uplinks[1].lacp.port_priority, 1);
	ck_assert_int_eq(c->uplinks[1].lacp.rate, CONF_LACP_SLOW);
	ck_assert(!c->uplinks[1].lacp.active);
	ck_assert_uint_eq(c->uplinks[2].lacp.system_priority, 7);

	conf_uplink_init(&u, "up3");
	ck_assert_int_eq(conf_uplink_set(&u, "device", "eth3", &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "capacity", "1G", &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.group", "lag0", &err), 0);
	ck_assert_int_eq(conf_uplink_add(c, &u, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up3: lacp.key 1 differs from uplink "
				  "up0's (5) in LACP group lag0 (a group's "
				  "members share a key)");
	ck_assert_uint_eq(c->n_uplinks, 3);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.key", "5", &err), 0);
	ck_assert_int_eq(
		conf_uplink_set(&u, "lacp.system_priority", "100", &err), 0);
	ck_assert_int_eq(conf_uplink_add(c, &u, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up3: lacp.system_priority 100 "
				  "differs from uplink up0's (65535) in LACP "
				  "group lag0 (a group's members share a "
				  "system priority)");
	ck_assert_uint_eq(c->n_uplinks, 3);
	/* The other group's settings are its own. */
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.group", "lag1", &err), 0);
	ck_assert_int_eq(conf_uplink_add(c, &u, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up3: lacp.key 5 differs from uplink "
				  "up2's (1) in LACP group lag1 (a group's "
				  "members share a key)");
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.key", "1", &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.system_priority", "7", &err),
			 0);
	ck_assert_int_eq(conf_uplink_add(c, &u, &err), 0);
	ck_assert_uint_eq(c->n_uplinks, 4);
	/* Rate, activity and port priority are each port's own. */
	conf_uplink_init(&u, "up4");
	ck_assert_int_eq(conf_uplink_set(&u, "device", "eth4", &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "capacity", "1G", &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.group", "lag0", &err), 0);
	ck_assert_int_eq(conf_uplink_set(&u, "lacp.key", "5", &err), 0);
	ck_assert_int_eq(conf_uplink_add(c, &u, &err), 0);
	ck_assert_uint_eq(c->n_uplinks, 5);
	conf_free(c);
}
END_TEST

/* Guests built by hand, as the daemon may: every invariant that the
 * setters keep is checked again, with its own message. */
START_TEST(guest_check_by_hand)
{
	struct conf_guest ok, g;
	struct conf_err err;

	conf_guest_init(&ok, "web");
	ck_assert_int_eq(conf_guest_set(&ok, "device", "vif1.0", &err), 0);
	ck_assert_int_eq(conf_guest_set(&ok, "mac", "02:00:00:00:00:09", &err),
			 0);
	ck_assert_int_eq(conf_guest_check(&ok, &err), 0);

#define SPOILED(stmt, want)                                            \
	do {                                                           \
		g = ok;                                                \
		stmt;                                                  \
		ck_assert_int_eq(conf_guest_check(&g, &err), -EINVAL); \
		ck_assert_str_eq(err.msg, want);                       \
	} while (0)

	SPOILED(strcpy(g.name, "a b"), "guest \"a b\": a name is 1 to 31 "
				       "characters of A-Z a-z 0-9 _ . -");
	SPOILED(g.name[0] = '\0', "guest \"\": a name is 1 to 31 characters "
				  "of A-Z a-z 0-9 _ . -");
	/* conf_guest_init() cannot refuse a name, but marks one too long. */
	SPOILED(conf_guest_init(&g, "abcdefghijklmnopqrstuvwxyz0123456789"),
		"guest \"abcdefghijklmnopqrstuvwxyz01\u2026\": a name is 1 "
		"to 31 characters of A-Z a-z 0-9 _ . -");
	conf_guest_init(&g, "abcdefghijklmnopqrstuvwxyz01234");
	ck_assert_str_eq(g.name, "abcdefghijklmnopqrstuvwxyz01234");
	SPOILED(g.device[0] = '\0', "guest web: no device");
	SPOILED(strcpy(g.device, "a:b"),
		"guest web: device \"a:b\" is not a valid interface name (1 "
		"to 15 characters, no '/', ':' or space)");
	SPOILED(memset(g.mac, 0, 6), "guest web: no mac");
	SPOILED(g.mac[0] = 0x33, "guest web: mac 33:00:00:00:00:09 is a "
				 "multicast address");
	SPOILED(g.n_ipv4 = CONF_ADDRS_MAX + 1,
		"guest web: more than 16 ipv4 addresses");
	SPOILED((g.n_ipv4 = 1, g.ipv4[0].s_addr = htonl(0xe0000001)),
		"guest web: ipv4 224.0.0.1 is not a unicast host address");
	SPOILED((g.n_ipv4 = 2,
		 g.ipv4[0].s_addr = g.ipv4[1].s_addr = htonl(0xc0000201)),
		"guest web: ipv4 192.0.2.1 listed twice");
	SPOILED((g.n_ipv6 = 1, inet_pton(AF_INET6, "ff02::1", &g.ipv6[0])),
		"guest web: ipv6 ff02::1 is not a unicast host address");
	SPOILED(g.slice.tx_max = 10000 * G + 1,
		"guest web: tx.max 10.000000000001T exceeds 10T");
	SPOILED((g.slice.tx_min = 5 * G, g.slice.tx_max = 4 * G),
		"guest web: tx.min 5G exceeds tx.max 4G");
	SPOILED(g.slice.tx_weight = 0,
		"guest web: tx.weight 0 out of range 1..1000");
	SPOILED(g.slice.tx_burst = 1513, "guest web: tx.burst 1513 is too "
					 "small for one 1514-byte frame");
	SPOILED(g.slice.tx_burst = 65u << 20, "guest web: tx.burst 65M exceeds "
					      "64M");
	SPOILED(g.spread = 0, "guest web: spread 0 out of range 1..32");
#undef SPOILED
}
END_TEST

START_TEST(check_by_hand)
{
	char want[CONF_ERR_MAX];
	struct conf_err err;
	struct conf *c, *d;

	ck_assert_int_eq(conf_load("conf/gona.conf", &c, &err), 0);
	ck_assert_int_eq(conf_check(c, NULL, &err), 0);
	d = conf_dup(c);
	d->policy.rebalance_interval_ms = 9;
	ck_assert_int_eq(conf_check(d, "x.conf", &err), -EINVAL);
	/* At the line of the policy group. */
	snprintf(want, sizeof(want),
		 "x.conf:%d: policy: rebalance_interval_ms 9 out of range "
		 "10..3600000",
		 c->policy_line);
	ck_assert_str_eq(err.msg, want);
	d->policy = c->policy;
	d->policy.admission = 7;
	ck_assert_int_eq(conf_check(d, NULL, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "policy: admission 7 is not n-1, n or off");
	d->policy = c->policy;
	strcpy(d->daemon.socket, "run/gonad.sock");
	ck_assert_int_eq(conf_check(d, NULL, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "daemon: socket \"run/gonad.sock\" is not "
				  "an absolute path");
	d->daemon = c->daemon;
	d->uplinks[1].capacity = 0;
	ck_assert_int_eq(conf_check(d, "x.conf", &err), -EINVAL);
	ck_assert_int_gt(c->uplinks[1].line, c->uplinks[0].line);
	snprintf(want, sizeof(want), "x.conf:%d: uplink up1: no capacity",
		 c->uplinks[1].line);
	ck_assert_str_eq(err.msg, want);
	d->uplinks[1] = c->uplinks[0];
	ck_assert_int_eq(conf_check(d, NULL, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "uplink up0: name already used by uplink "
				  "up0");
	d->uplinks[1] = c->uplinks[1];
	strcpy(d->guests[2].device, "ens2f0");
	ck_assert_int_eq(conf_check(d, NULL, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest cache: device ens2f0 already used by "
				  "uplink up1");
	d->n_uplinks = 0;
	ck_assert_int_eq(conf_check(d, "x.conf", &err), -EINVAL);
	snprintf(want, sizeof(want), "x.conf:%d: at least one uplink is needed",
		 c->uplinks_line);
	ck_assert_str_eq(err.msg, want);
	conf_free(c);
	conf_free(d);
}
END_TEST

START_TEST(live_add_del)
{
	struct conf_guest g, *gs;
	struct conf_err err;
	struct conf *c;

	ck_assert_int_eq(conf_load("conf/gona.conf", &c, &err), 0);
	conf_guest_init(&g, "new");
	conf_guest_set(&g, "device", "vif9", &err);
	conf_guest_set(&g, "mac", "02:00:00:00:01:01", &err); /* web's */
	ck_assert_int_eq(conf_guest_add(c, &g, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest new: mac 02:00:00:00:01:01 already "
				  "used by guest web");
	ck_assert_uint_eq(c->n_guests, 3);
	ck_assert_ptr_null(conf_guest_find(c, "new"));

	conf_guest_set(&g, "mac", "02:00:00:00:01:09", &err);
	conf_guest_set(&g, "ipv4", "192.0.2.12", &err); /* db's */
	ck_assert_int_eq(conf_guest_add(c, &g, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest new: ipv4 192.0.2.12 already used by "
				  "guest db");
	ck_assert_uint_eq(c->n_guests, 3);

	conf_guest_init(&g, "new");
	conf_guest_set(&g, "device", "vif9", &err);
	conf_guest_set(&g, "mac", "02:00:00:00:01:09", &err);
	ck_assert_int_eq(conf_guest_add(c, &g, &err), 0);
	ck_assert_uint_eq(c->n_guests, 4);
	ck_assert_str_eq(conf_guest_find(c, "new")->device, "vif9");

	ck_assert_int_eq(conf_guest_del(c, "db", &err), 0);
	ck_assert_uint_eq(c->n_guests, 3);
	ck_assert_ptr_null(conf_guest_find(c, "db"));
	ck_assert_str_eq(c->guests[1].name, "cache");
	ck_assert_int_eq(conf_guest_del(c, "db", &err), -ENOENT);
	ck_assert_str_eq(err.msg, "guest db: no such guest");

	/* A copy of a guest already there, even straight from the array:
	 * refused, and the array is the same array. */
	gs = c->guests;
	ck_assert_int_eq(conf_guest_add(c, conf_guest_find(c, "web"), &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "guest web: name already used by guest web");
	ck_assert_ptr_eq(c->guests, gs);
	ck_assert_uint_eq(c->n_guests, 3);
	/* Refused by the guest's own check, before any clash. */
	conf_guest_init(&g, "bad");
	conf_guest_set(&g, "mac", "02:00:00:00:01:0f", &err);
	ck_assert_int_eq(conf_guest_add(c, &g, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "guest bad: no device");
	ck_assert_ptr_eq(c->guests, gs);
	/* Down to no guests, and back. */
	ck_assert_int_eq(conf_guest_del(c, "web", &err), 0);
	ck_assert_int_eq(conf_guest_del(c, "new", &err), 0);
	ck_assert_int_eq(conf_guest_del(c, "cache", &err), 0);
	ck_assert_uint_eq(c->n_guests, 0);
	conf_guest_set(&g, "device", "vif7", &err);
	ck_assert_int_eq(conf_guest_add(c, &g, &err), 0);
	ck_assert_uint_eq(c->n_guests, 1);
	ck_assert_str_eq(c->guests[0].name, "bad");
	conf_free(c);
}
END_TEST

START_TEST(live_uplink_add_del)
{
	struct conf_uplink u;
	struct conf_err err;
	struct conf *c;

	ck_assert_int_eq(conf_load("conf/gona.conf", &c, &err), 0);
	ck_assert_uint_eq(c->n_uplinks, 2);
	conf_uplink_init(&u, "up2");
	conf_uplink_set(&u, "device", "ens1f0", &err); /* up0's */
	conf_uplink_set(&u, "capacity", "10G", &err);
	ck_assert_int_eq(conf_uplink_add(c, &u, &err), -EINVAL);
	ck_assert_str_eq(
		err.msg,
		"uplink up2: device ens1f0 already used by uplink up0");
	ck_assert_uint_eq(c->n_uplinks, 2);
	ck_assert_ptr_null(conf_uplink_find(c, "up2"));

	conf_uplink_set(&u, "device", "ens3f0", &err);
	ck_assert_int_eq(conf_uplink_add(c, &u, &err), 0);
	ck_assert_uint_eq(c->n_uplinks, 3);
	ck_assert_str_eq(conf_uplink_find(c, "up2")->device, "ens3f0");
	ck_assert_int_eq(conf_uplink_add(c, &u, &err), -EINVAL);
	ck_assert_str_eq(err.msg,
			 "uplink up2: name already used by uplink up2");

	ck_assert_int_eq(conf_uplink_del(c, "up0", &err), 0);
	ck_assert_uint_eq(c->n_uplinks, 2);
	ck_assert_str_eq(c->uplinks[0].name, "up1");
	ck_assert_int_eq(conf_uplink_del(c, "up0", &err), -ENOENT);
	ck_assert_str_eq(err.msg, "uplink up0: no such uplink");
	/* Removing the last is the caller's to refuse: the whole check
	 * says so. */
	ck_assert_int_eq(conf_uplink_del(c, "up1", &err), 0);
	ck_assert_int_eq(conf_uplink_del(c, "up2", &err), 0);
	ck_assert_int_eq(conf_check(c, NULL, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "at least one uplink is needed");
	conf_free(c);
}
END_TEST

START_TEST(keep_datapath_key)
{
	struct conf_err err;
	struct conf c;

	conf_defaults(&c);
	ck_assert(!c.daemon.keep_datapath_on_stop);
	ck_assert_int_eq(conf_daemon_set(&c.daemon, "keep_datapath_on_stop",
					 "yes", &err),
			 0);
	ck_assert(c.daemon.keep_datapath_on_stop);
	ck_assert_int_eq(conf_daemon_set(&c.daemon, "keep_datapath_on_stop",
					 "maybe", &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "daemon: keep_datapath_on_stop \"maybe\" "
				  "is not true or false");
	ck_assert(c.daemon.keep_datapath_on_stop);
}
END_TEST

START_TEST(primary_key)
{
	struct conf_guest *g;
	struct conf_err err;
	struct conf *c;

	ck_assert_int_eq(conf_load("conf/gona.conf", &c, &err), 0);
	g = &c->guests[0];
	ck_assert_str_eq(g->primary, "");
	ck_assert_int_eq(conf_guest_set(g, "primary", c->uplinks[1].name, &err),
			 0);
	ck_assert_str_eq(g->primary, c->uplinks[1].name);
	ck_assert_int_eq(conf_check(c, NULL, &err), 0);
	ck_assert_int_eq(conf_guest_set(g, "primary", "no such!", &err),
			 -EINVAL);
	ck_assert_str_eq(g->primary, c->uplinks[1].name);
	/* A name, but no uplink's: refused by the whole check. */
	ck_assert_int_eq(conf_guest_set(g, "primary", "up9", &err), 0);
	ck_assert_int_eq(conf_check(c, NULL, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "primary up9 is not an uplink"), "%s",
		      err.msg);
	ck_assert_int_eq(conf_guest_set(g, "primary", "none", &err), 0);
	ck_assert_str_eq(g->primary, "");
	ck_assert_int_eq(conf_check(c, NULL, &err), 0);
	conf_free(c);
}
END_TEST

START_TEST(metrics_key)
{
	static const char *const refused[] = {
		"9465",		 ":9465",
		"127.0.0.1",	 "127.0.0.1:",
		"127.0.0.1:0",	 "127.0.0.1:65536",
		"127.0.0.1:9x",	 "localhost:9465",
		"::1:9465",	 "[::1]9465",
		"[::1]:",	 "[127.0.0.1]:9465",
		"127.0.0.1:+80", "",
		"[]:80",
	};
	struct conf_listen l;
	struct conf_err err;
	struct conf c;

	conf_defaults(&c);
	ck_assert_str_eq(c.daemon.metrics, "");
	ck_assert_int_eq(
		conf_daemon_set(&c.daemon, "metrics", "127.0.0.1:9465", &err),
		0);
	ck_assert_str_eq(c.daemon.metrics, "127.0.0.1:9465");
	ck_assert_int_eq(conf_parse_listen("[::1]:80", &l), 0);
	ck_assert_int_eq(l.family, AF_INET6);
	ck_assert_uint_eq(l.port, 80);
	ck_assert_uint_eq(l.addr[15], 1);
	ck_assert_int_eq(conf_parse_listen("0.0.0.0:65535", &l), 0);
	ck_assert_int_eq(l.family, AF_INET);
	ck_assert_uint_eq(l.port, 65535);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ck_assert_msg(conf_daemon_set(&c.daemon, "metrics", refused[i],
					      &err) == -EINVAL,
			      "%s accepted", refused[i]);
		ck_assert_str_eq(c.daemon.metrics, "127.0.0.1:9465");
	}
	ck_assert_str_eq(err.msg, "daemon: metrics \"[]:80\" is not an "
				  "address and port to listen on "
				  "(\"127.0.0.1:9465\", \"[::1]:9465\")");
}
END_TEST

START_TEST(dup_is_deep)
{
	struct conf_err err;
	struct conf *c, *d;

	ck_assert_int_eq(conf_load("conf/gona.conf", &c, &err), 0);
	d = conf_dup(c);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_ne(d->guests, c->guests);
	d->guests[0].slice.tx_max = 1;
	ck_assert_uint_eq(c->guests[0].slice.tx_max, 4 * G);
	conf_free(c);
	conf_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, malformed_refused, 0,
			    sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, unreadable_file);
	tcase_add_test(tc, unreadable_and_binary);
	tcase_add_test(tc, at_the_limits);
	tcase_add_test(tc, every_key_parsed);
	tcase_add_test(tc, rates);
	tcase_add_test(tc, rate_format);
	tcase_add_test(tc, sizes_and_macs);
	tcase_add_test(tc, shipped_config);
	tcase_add_test(tc, print_round_trips);
	tcase_add_test(tc, live_guest_edits);
	tcase_add_test(tc, vlan_edits);
	tcase_add_test(tc, trunk_of_every_vlan);
	tcase_add_test(tc, live_uplink_edits);
	tcase_add_test(tc, lacp_keys);
	tcase_add_test(tc, lacp_group_shared);
	tcase_add_test(tc, lacp_printed);
	tcase_add_test(tc, guest_check_by_hand);
	tcase_add_test(tc, check_by_hand);
	tcase_add_test(tc, live_add_del);
	tcase_add_test(tc, live_uplink_add_del);
	tcase_add_test(tc, keep_datapath_key);
	tcase_add_test(tc, metrics_key);
	tcase_add_test(tc, primary_key);
	tcase_add_test(tc, dup_is_deep);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
