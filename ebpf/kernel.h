/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The few kernel structures the tracing programs read, declared for
 * CO-RE: libbpf finds each field's offset in the running kernel's BTF at
 * load time, so nothing here depends on the headers gona is built with.
 */
#ifndef GONA_KERNEL_H
#define GONA_KERNEL_H

#define GONA_CORE __attribute__((preserve_access_index))

struct ns_common {
	unsigned int inum;
} GONA_CORE;

struct net {
	struct ns_common ns;
} GONA_CORE;

typedef struct {
	struct net *net;
} GONA_CORE possible_net_t;

typedef struct {
	int counter;
} GONA_CORE atomic_t;

struct net_device {
	int ifindex;
	possible_net_t nd_net;
	atomic_t carrier_up_count;
	atomic_t carrier_down_count;
} GONA_CORE;

#endif
