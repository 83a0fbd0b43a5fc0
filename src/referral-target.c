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

static bool dns_name_validate(const char *host, const char **error_r)
{
	size_t len = strlen(host), label_len = 0, i;
	bool label_numeric = TRUE;

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
		if (i == len || host[i] == '.') {
			if (label_len == 0) {
				*error_r = "empty DNS label";
				return FALSE;
			}
			if (host[i-1] == '-') {
				*error_r = "DNS label ends with '-'";
				return FALSE;
			}
			if (i == len && label_numeric) {
				/* RFC 3696 2: a top-level label is never all
				   digits, so this is a broken IPv4 address
				   that a client would misread. */
				*error_r = "not a valid IPv4 address";
				return FALSE;
			}
			label_len = 0;
			label_numeric = TRUE;
			continue;
		}
		if (!is_ldh(host[i])) {
			*error_r = "DNS name has a byte other than a letter, "
				"digit, '-' or '.'";
			return FALSE;
		}
		if (label_len == 0 && host[i] == '-') {
			*error_r = "DNS label starts with '-'";
			return FALSE;
		}
		if (++label_len > DNS_LABEL_MAX_LEN) {
			*error_r = "DNS label longer than 63 bytes";
			return FALSE;
		}
		if (!i_isdigit(host[i]))
			label_numeric = FALSE;
	}
	return TRUE;
}

bool referral_host_validate(const char *host, enum referral_host_type *type_r,
			    const char **error_r)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (host[0] == '\0') {
		*error_r = "empty";
		return FALSE;
	}
	if (strchr(host, ':') != NULL) {
		if (inet_pton(AF_INET6, host, addr) != 1) {
			*error_r = "not a valid IPv6 address "
				"(write it without brackets or zone)";
			return FALSE;
		}
		*type_r = REFERRAL_HOST_IPV6;
		return TRUE;
	}
	if (inet_pton(AF_INET, host, addr) == 1) {
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

bool referral_target_is_local(const struct referral_target *target,
			      const struct referral_local *local)
{
	struct ip_addr ip;

	if (target->port != local->port)
		return FALSE;
	if (target->host_type == REFERRAL_HOST_DNS) {
		return local->local_name != NULL &&
			dns_name_equals(target->host, local->local_name);
	}
	return net_addr2ip(target->host, &ip) == 0 &&
		net_ip_compare(&ip, &local->ip);
}
