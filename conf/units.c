/* SPDX-License-Identifier: MIT */
/* The units of gona's configuration: rates, sizes, MAC addresses and
 * listening addresses, read and written exactly. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"

/* SI multipliers of rates; sizes use powers of 1024. */
static const struct unit {
	char c;
	uint64_t mult;
} rate_units[] = {
	{ 'T', 1000000000000ull },
	{ 'G', 1000000000ull },
	{ 'M', 1000000ull },
	{ 'K', 1000ull },
};

#define N_RATE_UNITS (sizeof(rate_units) / sizeof(rate_units[0]))

/*
 * Digits with an optional fraction, read without floating point so that
 * "2.5G" is exactly 2500000000: the fraction is kept as an integer and
 * its number of digits.
 */
static const char *read_decimal(const char *s, uint64_t *whole, uint64_t *frac,
				int *frac_digits)
{
	const char *p = s;

	*whole = *frac = 0;
	*frac_digits = 0;
	if (!isdigit((unsigned char)*p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++) {
		if (*whole > (UINT64_MAX - 9) / 10)
			return NULL;
		*whole = *whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '.')
		return p;
	p++;
	if (!isdigit((unsigned char)*p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++) {
		if (*frac_digits >= 12)
			return NULL; /* finer than a bit at 1T */
		*frac = *frac * 10 + (uint64_t)(*p - '0');
		(*frac_digits)++;
	}
	return p;
}

static uint64_t pow10u(int n)
{
	uint64_t v = 1;

	while (n-- > 0)
		v *= 10;
	return v;
}

int conf_parse_rate(const char *s, uint64_t *bps)
{
	uint64_t whole, frac, mult = 1, v;
	int digits;
	const char *p;

	if (!s)
		return -EINVAL;
	if (*s == '-')
		return read_decimal(s + 1, &whole, &frac, &digits) ? -EDOM
								   : -EINVAL;
	p = read_decimal(s, &whole, &frac, &digits);
	if (!p)
		return -EINVAL;
	for (size_t i = 0; i < N_RATE_UNITS; i++) {
		if (toupper((unsigned char)*p) == rate_units[i].c) {
			mult = rate_units[i].mult;
			p++;
			break;
		}
	}
	if (*p && strcasecmp(p, "bit") != 0)
		return -EINVAL;
	if (whole > CONF_RATE_MAX / mult)
		return -ERANGE;
	v = whole * mult;
	if (digits) {
		/* Both powers of ten: divide the larger by the smaller, so
		 * nothing overflows and a fraction finer than 1 bit/s shows. */
		uint64_t scale = pow10u(digits);

		if (mult >= scale) {
			v += frac * (mult / scale);
		} else {
			if (frac % (scale / mult))
				return -ERANGE;
			v += frac / (scale / mult);
		}
	}
	if (v > CONF_RATE_MAX)
		return -ERANGE;
	*bps = v;
	return 0;
}

/* WHOLE.REST in units of MULT, without trailing zeros. */
static char *format_scaled(uint64_t v, uint64_t mult, char unit, char *buf,
			   size_t len)
{
	uint64_t whole = v / mult, rest = v % mult;
	char frac[32];
	int width = 0;

	if (!rest) {
		if (unit)
			snprintf(buf, len, "%llu%c", (unsigned long long)whole,
				 unit);
		else
			snprintf(buf, len, "%llu", (unsigned long long)whole);
		return buf;
	}
	for (uint64_t m = mult; m > 1 && width < 20; m /= 10)
		width++;
	snprintf(frac, sizeof(frac), "%0*llu", width, (unsigned long long)rest);
	for (int i = (int)strlen(frac) - 1; i > 0 && frac[i] == '0'; i--)
		frac[i] = '\0';
	snprintf(buf, len, "%llu.%s%c", (unsigned long long)whole, frac, unit);
	return buf;
}

char *conf_format_rate(uint64_t bps, char *buf, size_t len)
{
	for (size_t i = 0; i < N_RATE_UNITS; i++)
		if (bps >= rate_units[i].mult)
			return format_scaled(bps, rate_units[i].mult,
					     rate_units[i].c, buf, len);
	return format_scaled(bps, 1, 0, buf, len);
}

int conf_parse_size(const char *s, uint32_t *bytes)
{
	uint64_t whole, frac, mult = 1;
	int digits;
	const char *p;

	if (!s)
		return -EINVAL;
	p = read_decimal(s, &whole, &frac, &digits);
	if (!p || digits)
		return -EINVAL;
	if (toupper((unsigned char)*p) == 'K') {
		mult = 1024;
		p++;
	} else if (toupper((unsigned char)*p) == 'M') {
		mult = 1024 * 1024;
		p++;
	}
	if (toupper((unsigned char)*p) == 'B')
		p++;
	if (*p)
		return -EINVAL;
	if (whole > UINT32_MAX / mult)
		return -ERANGE;
	*bytes = (uint32_t)(whole * mult);
	return 0;
}

char *conf_format_size(uint32_t bytes, char *buf, size_t len)
{
	if (bytes && bytes % (1024 * 1024) == 0)
		snprintf(buf, len, "%uM", bytes / (1024 * 1024));
	else if (bytes && bytes % 1024 == 0)
		snprintf(buf, len, "%uK", bytes / 1024);
	else
		snprintf(buf, len, "%u", bytes);
	return buf;
}

int conf_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		char hex[3] = { p[0], p[1], '\0' };

		if (!isxdigit((unsigned char)p[0]) ||
		    !isxdigit((unsigned char)p[1]))
			return -EINVAL;
		/* One separator style throughout: 02:00:.. or 02-00-.. */
		if (i < 5 && (p[2] != s[2] || (p[2] != ':' && p[2] != '-')))
			return -EINVAL;
		m[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	memcpy(mac, m, 6);
	return 0;
}

char *conf_format_mac(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

int conf_parse_listen(const char *s, struct conf_listen *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	unsigned long port;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(colon - h);
		colon++;
		out->family = AF_INET6;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		hlen = (size_t)(colon - s);
		out->family = AF_INET;
	}
	if (!hlen || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (inet_pton(out->family, host, out->addr) != 1)
		return -EINVAL;
	if (!isdigit((unsigned char)colon[1]))
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -EINVAL;
	out->port = (uint16_t)port;
	return 0;
}
