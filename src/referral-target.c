/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "net.h"
#include "referral-escape.h"
#include "referral-fields.h"
#include "referral-target.h"

#include <ctype.h>
#include <arpa/inet.h>

#define DNS_NAME_MAX_LEN 253
#define DNS_LABEL_MAX_LEN 63

static bool is_ldh(char c)
{
	return i_isalnum(c) || c == '-';
}

/* WHATWG URL parsers (and inet_aton()) read a host whose last label is a
   number, decimal or "0x" hex, as an IPv4 address: "1.2.3", "0x7f000001",
   "127.1.0x1". Such a host is no DNS name a client would look up. */
static bool label_is_number(const char *label, size_t len)
{
	size_t i = 0;

	if (len >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
		for (i = 2; i < len; i++) {
			if (!i_isxdigit(label[i]))
				return FALSE;
		}
		return TRUE;
	}
	for (; i < len; i++) {
		if (!i_isdigit(label[i]))
			return FALSE;
	}
	return TRUE;
}

static bool dns_name_validate(const char *host, const char **error_r)
{
	size_t len = strlen(host), label_start = 0, i;

	if (host[len-1] == '.')
		len--;
	if (len == 0) {
		*error_r = "not a DNS name";
		return FALSE;
	}
	if (len > DNS_NAME_MAX_LEN) {
		*error_r = "DNS name longer than 253 bytes";
		return FALSE;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && host[i] != '.') {
			if (!is_ldh(host[i])) {
				*error_r = "DNS name has a byte other than a "
					"letter, digit, '-' or '.'";
				return FALSE;
			}
			continue;
		}
		/* end of the label host[label_start..i) */
		if (i == label_start) {
			*error_r = "empty DNS label";
			return FALSE;
		}
		if (i - label_start > DNS_LABEL_MAX_LEN) {
			*error_r = "DNS label longer than 63 bytes";
			return FALSE;
		}
		if (host[label_start] == '-') {
			*error_r = "DNS label starts with '-'";
			return FALSE;
		}
		if (host[i-1] == '-') {
			*error_r = "DNS label ends with '-'";
			return FALSE;
		}
		if (i == len && label_is_number(host + label_start,
						i - label_start)) {
			*error_r = "not a valid IPv4 address";
			return FALSE;
		}
		label_start = i + 1;
	}
	return TRUE;
}

bool referral_host_validate(const char *host, enum referral_host_type *type_r,
			    const char **error_r)
{
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;

	if (host[0] == '\0') {
		*error_r = "empty";
		return FALSE;
	}
	if (strchr(host, ':') != NULL) {
		if (inet_pton(AF_INET6, host, &addr.v6) != 1) {
			*error_r = "not a valid IPv6 address "
				"(write it without brackets or zone)";
			return FALSE;
		}
		if (IN6_IS_ADDR_UNSPECIFIED(&addr.v6)) {
			*error_r = "the unspecified address";
			return FALSE;
		}
		*type_r = REFERRAL_HOST_IPV6;
		return TRUE;
	}
	if (inet_pton(AF_INET, host, &addr.v4) == 1) {
		if (addr.v4.s_addr == INADDR_ANY) {
			*error_r = "the unspecified address";
			return FALSE;
		}
		*type_r = REFERRAL_HOST_IPV4;
		return TRUE;
	}
	if (!dns_name_validate(host, error_r))
		return FALSE;
	*type_r = REFERRAL_HOST_DNS;
	return TRUE;
}

bool referral_port_parse(const char *str, in_port_t *port_r,
			 const char **error_r)
{
	unsigned int value = 0;
	size_t i;

	for (i = 0; str[i] != '\0'; i++) {
		if (!i_isdigit(str[i])) {
			*error_r = "not a decimal number";
			return FALSE;
		}
		if (i == 5) {
			*error_r = "out of range 1..65535";
			return FALSE;
		}
		value = value * 10 + (str[i] - '0');
	}
	if (i == 0) {
		*error_r = "empty";
		return FALSE;
	}
	if (value == 0 || value > 65535) {
		*error_r = "out of range 1..65535";
		return FALSE;
	}
	*port_r = (in_port_t)value;
	return TRUE;
}

bool referral_user_validate(const char *user, const char **error_r)
{
	if (user[0] == '\0') {
		*error_r = "empty";
		return FALSE;
	}
	if (strlen(user) > REFERRAL_USER_MAX_LEN) {
		*error_r = "longer than 255 bytes";
		return FALSE;
	}
	return TRUE;
}

static const char *
field_error(const char *field, const char *value, const char *error)
{
	return t_strdup_printf("Invalid %s field '%s': %s", field,
		referral_value_escape(value, REFERRAL_LOG_VALUE_MAX_LEN),
		error);
}

bool referral_target_parse(const struct referral_fields *fields,
			   in_port_t default_port,
			   struct referral_target *target_r,
			   const char **field_r, const char **error_r)
{
	const char *error;

	i_assert(fields->host != NULL);

	i_zero(target_r);
	if (!referral_host_validate(fields->host, &target_r->host_type,
				    &error)) {
		*field_r = "host";
		*error_r = field_error("host", fields->host, error);
		return FALSE;
	}
	target_r->host = fields->host;
	target_r->port = default_port;
	if (fields->port != NULL &&
	    !referral_port_parse(fields->port, &target_r->port, &error)) {
		*field_r = "port";
		*error_r = field_error("port", fields->port, error);
		return FALSE;
	}
	return TRUE;
}

static bool dns_name_equals(const char *a, const char *b)
{
	size_t a_len = strlen(a), b_len = strlen(b);

	if (a_len > 0 && a[a_len-1] == '.')
		a_len--;
	if (b_len > 0 && b[b_len-1] == '.')
		b_len--;
	return a_len == b_len && strncasecmp(a, b, a_len) == 0;
}

/* ::ffff:192.0.2.1 is 192.0.2.1: compare IPv4-mapped addresses as IPv4. */
static void ip_unmap_v4(struct ip_addr *ip)
{
	struct in_addr ip4;

	if (!IPADDR_IS_V6(ip) || !IN6_IS_ADDR_V4MAPPED(&ip->u.ip6))
		return;
	memcpy(&ip4, &ip->u.ip6.s6_addr[12], sizeof(ip4));
	i_zero(ip);
	ip->family = AF_INET;
	ip->u.ip4 = ip4;
}

bool referral_target_is_local(const struct referral_target *target,
			      const struct referral_local *local)
{
	struct ip_addr ip, local_ip = local->ip;

	if (target->port != local->port)
		return FALSE;
	if (target->host_type == REFERRAL_HOST_DNS) {
		return local->local_name != NULL &&
			dns_name_equals(target->host, local->local_name);
	}
	if (net_addr2ip(target->host, &ip) < 0)
		return FALSE;
	ip_unmap_v4(&ip);
	ip_unmap_v4(&local_ip);
	return net_ip_compare(&ip, &local_ip);
}

bool referral_target_resolve(const struct referral_fields *fields,
			     in_port_t default_port, const char *login_user,
			     const struct referral_local *locals,
			     unsigned int locals_count,
			     struct referral_target *target_r,
			     const char **user_r, const char **field_r,
			     const char **error_r)
{
	const char *error, *user;
	unsigned int i;

	user = fields->destuser != NULL && fields->destuser[0] != '\0' ?
		fields->destuser : login_user;
	if (!referral_target_parse(fields, default_port, target_r,
				   field_r, error_r))
		return FALSE;
	if (!referral_user_validate(user, &error)) {
		bool destuser = user == fields->destuser;

		*field_r = destuser ? "destuser" : "user";
		*error_r = t_strdup_printf("Invalid %s '%s': %s",
			destuser ? "destuser field" : "user name for the URL",
			referral_value_escape(user, REFERRAL_LOG_VALUE_MAX_LEN),
			error);
		return FALSE;
	}
	for (i = 0; i < locals_count; i++) {
		if (referral_target_is_local(target_r, &locals[i])) {
			*field_r = "host";
			*error_r = t_strdup_printf(
				"Referral to %s port %u loops back to "
				"this server", target_r->host, target_r->port);
			return FALSE;
		}
	}
	*user_r = user;
	return TRUE;
}
