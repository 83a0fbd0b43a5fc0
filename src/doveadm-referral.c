/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* "doveadm referral lookup": what the login plugin would tell each user's
   client, from the real passdb (an auth-master passdb lookup, as "doveadm
   auth lookup" makes) and with the pure core the plugin runs, so that an
   administrator can check a migration batch before anyone logs in. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "net.h"
#include "istream.h"
#include "module-dir.h"
#include "master-service.h"
#include "auth-master.h"
#include "doveadm.h"
#include "doveadm-print.h"
#include "referral-fields.h"
#include "referral-imap.h"
#include "referral-listeners.h"
#include "referral-reason.h"
#include "referral-settings.h"
#include "referral-sieve.h"
#include "referral-target.h"
#include "referral-url.h"
#include "referral-compat.h"
#include "doveadm-referral-child.h"
#include "doveadm-referral.h"

#include <stdio.h>
#include <unistd.h>
#include <ifaddrs.h>

/* The IMAP tag and SASL mechanism the printed reply lines are shown
   with, as in the documentation's examples. */
#define LOOKUP_IMAP_TAG "b"
#define LOOKUP_IMAP_MECH "PLAIN"

const char *const lookup_mode_names[LOOKUP_MODE_COUNT] = {
	"none", "nologin", "suggest", "proxy", "proxy-suggest", "refused",
	"unknown",
};
/* Geary and Trojita read a response code's text as atoms, which a '%'
   cannot be part of: they drop the connection at a REFERRAL URL with a
   percent-encoded user name (doc/clients.md). In nologin mode the user
   gets no session anyway; in suggest mode and through the proxy these
   clients lose the session the user would have had without the referral,
   and RFC 3986 leaves no other spelling of such a name. */
#define LOOKUP_WARNING_PERCENT \
	"the referral URL has a '%' (an encoded user name): Geary and " \
	"Trojita drop the connection at it, and their users get no session; " \
	"refer them in nologin mode, or proxy them without referral=suggest"

static const char *lookup_target_str(const struct referral_target *target)
{
	string_t *str = t_str_new(64);

	/* the port always: 0 would say "the protocol's default" */
	referral_url_append_hostport(str, target, 0);
	return str_c(str);
}

/* The user's mode becomes refused, and the first refusal its error. */
static void lookup_refuse(struct lookup_result *result_r, const char *error)
{
	result_r->mode = LOOKUP_MODE_REFUSED;
	if (result_r->error == NULL) {
		result_r->error = t_strconcat(REFERRAL_REFUSED_PREFIX, error,
					      NULL);
	}
}

/* referral_target_resolve() against locals, the listeners of the
   protocol's login service; lookup_refuse() on refusal. */
static bool
lookup_resolve(const ARRAY_TYPE(referral_local) *locals,
	       const struct referral_fields *fields, in_port_t default_port,
	       const char *user, struct referral_target *target_r,
	       const char **dest_user_r, struct lookup_result *result_r)
{
	const struct referral_local *local;
	const char *field, *error;
	unsigned int count;

	/* array_get(): there may be none */
	local = array_get(locals, &count);
	if (referral_target_resolve(fields, default_port, user, local, count,
				    target_r, dest_user_r, &field, &error))
		return TRUE;
	lookup_refuse(result_r, error);
	return FALSE;
}

/* What the login process's referral_reason_text() makes of the fields */
static const char *
lookup_reason(struct lookup_context *ctx, const struct referral_fields *fields,
	      const char *protocol, in_port_t default_port,
	      const struct referral_target *target, const char *dest_user,
	      const char *user)
{
	struct referral_reason_params params;

	referral_reason_params_set(&params, protocol, !fields->nologin, target,
				   default_port, dest_user, user);
	return referral_reason_choose(strcmp(protocol, "IMAP") == 0 ?
				      ctx->imap_event : ctx->sieve_event,
				      fields->reason, &params);
}

static void
lookup_imap(struct lookup_context *ctx, const char *user,
	    const struct referral_fields *fields,
	    struct lookup_result *result_r)
{
	struct referral_target target;
	struct referral_imap_reply login, authenticate;
	const char *dest_user, *result, *reason, *field, *error;
	bool ok;

	ok = lookup_resolve(&ctx->imap_locals, fields,
			    REFERRAL_IMAP_DEFAULT_PORT, user, &target,
			    &dest_user, result_r);
	/* as referral-login-imap-reply.c refuses it */
	if (ok && !referral_imap_target_check(&target, &field, &error)) {
		lookup_refuse(result_r, error);
		ok = FALSE;
	}
	if (!ok) {
		/* suggest mode: a normal login, nothing of ours to show */
		if (fields->nologin) {
			result_r->imap_login = referral_imap_tagged_line(
				LOOKUP_IMAP_TAG, "NO", "UNAVAILABLE",
				REFERRAL_UNAVAILABLE_TEXT);
			result_r->imap_authenticate = result_r->imap_login;
		}
		return;
	}
	result_r->imap_target = lookup_target_str(&target);
	result_r->target = target;
	result_r->dest_user = dest_user;
	result_r->have_target = TRUE;
	result_r->nologin = fields->nologin;
	result = fields->nologin ? "NO" : "OK";
	reason = lookup_reason(ctx, fields, "IMAP", REFERRAL_IMAP_DEFAULT_PORT,
			       &target, dest_user, user);
	referral_imap_reply_build(&target, dest_user, NULL, reason, &login);
	referral_imap_reply_build(&target, dest_user, LOOKUP_IMAP_MECH,
				  reason, &authenticate);
	result_r->imap_login = referral_imap_tagged_line(LOOKUP_IMAP_TAG,
		result, login.resp_code, login.text);
	result_r->imap_authenticate = referral_imap_tagged_line(
		LOOKUP_IMAP_TAG, result, authenticate.resp_code,
		authenticate.text);
	/* the untagged lines referral-login-imap.c writes before the tagged
	   reply */
	if (fields->nologin ? !fields->keep_open : fields->alert)
		result_r->imap_alert = referral_imap_alert_line(login.text);
	if (fields->nologin && !fields->keep_open)
		result_r->imap_bye = referral_imap_bye_line(login.text);
	if (!fields->nologin && strchr(login.url, '%') != NULL)
		result_r->warning = LOOKUP_WARNING_PERCENT;
}

static void
lookup_sieve(struct lookup_context *ctx, const char *user,
	     const struct referral_fields *fields,
	     struct lookup_result *result_r)
{
	struct referral_target target;
	const char *dest_user, *url;

	if (!lookup_resolve(&ctx->sieve_locals, fields,
			    REFERRAL_SIEVE_DEFAULT_PORT, user, &target,
			    &dest_user, result_r)) {
		string_t *reply = t_str_new(128);

		/* Dovecot's failure reply, as managesieve-login quotes it */
		str_append(reply, "NO ");
		referral_sieve_append_string(reply, REFERRAL_UNAVAILABLE_TEXT);
		result_r->sieve = str_c(reply);
		return;
	}
	result_r->sieve_target = lookup_target_str(&target);
	result_r->sieve = referral_sieve_reply(&target, dest_user, user,
		lookup_reason(ctx, fields, "ManageSieve",
			      REFERRAL_SIEVE_DEFAULT_PORT, &target, dest_user,
			      user), &url);
}

/* A proxied user: Dovecot's proxying, and with referral=suggest the OK of
   referral-login-imap-proxy.c (which keeps the capabilities in an
   untagged line before it, the backend's, not printed here). */
static void
lookup_proxy(struct lookup_context *ctx, const char *user,
	     const struct referral_fields *fields,
	     struct lookup_result *result_r)
{
	struct referral_fields suggest;
	const char *error;
	int ret;

	result_r->mode = LOOKUP_MODE_PROXY;
	ret = referral_fields_proxy_suggest(fields, &error);
	if (ret < 0) {
		lookup_refuse(result_r, error);
		return;
	}
	/* without a host Dovecot proxies nowhere */
	if (ret == 0 || fields->host == NULL)
		return;
	result_r->mode = LOOKUP_MODE_PROXY_SUGGEST;
	/* proxying logs the user in, whatever nologin says */
	suggest = *fields;
	suggest.nologin = FALSE;
	lookup_imap(ctx, user, &suggest, result_r);
}

/* What the plugin makes of a user's passdb fields: the decisions of
   referral-login-imap.c and referral-login-sieve.c, in the order Dovecot
   reaches them. */
static void
lookup_fields(struct lookup_context *ctx, const char *user,
	      const char *const *args, struct lookup_result *result_r)
{
	struct referral_fields fields;

	referral_fields_parse(args, &fields);
	if (fields.proxy) {
		lookup_proxy(ctx, user, &fields, result_r);
		return;
	}
	if (fields.host == NULL)
		return;
	result_r->mode = fields.nologin ? LOOKUP_MODE_NOLOGIN :
		LOOKUP_MODE_SUGGEST;
	lookup_imap(ctx, user, &fields, result_r);
	/* suggest mode has no ManageSieve form: a normal login there */
	if (fields.nologin)
		lookup_sieve(ctx, user, &fields, result_r);
}

static void lookup_print(const char *user, const struct lookup_result *result)
{
	doveadm_print(user);
	doveadm_print(lookup_mode_names[result->mode]);
	doveadm_print(result->imap_target == NULL ? "" : result->imap_target);
	doveadm_print(result->imap_alert == NULL ? "" : result->imap_alert);
	doveadm_print(result->imap_bye == NULL ? "" : result->imap_bye);
	doveadm_print(result->imap_login == NULL ? "" : result->imap_login);
	doveadm_print(result->imap_authenticate == NULL ? "" :
		      result->imap_authenticate);
	doveadm_print(result->sieve_target == NULL ? "" :
		      result->sieve_target);
	doveadm_print(result->sieve == NULL ? "" : result->sieve);
	doveadm_print(result->error == NULL ? "" : result->error);
	doveadm_print(result->warning == NULL ? "" : result->warning);
}

/* The passdb lookup and what the plugin makes of it, into result_r.
   The strings are allocated from pool and the data stack. */
void
lookup_user_result(struct lookup_context *ctx, const char *user, pool_t pool,
		   struct lookup_result *result_r)
{
	struct lookup_result result;
	const char *const *fields;
	int ret;

	i_zero(&result);
	ret = auth_master_pass_lookup(ctx->conn, user, &ctx->info, pool,
				      &fields);
	if (ret < 0) {
		i_error("passdb lookup failed for %s%s%s", user,
			fields[0] == NULL ? "" : ": ",
			fields[0] == NULL ? "" : fields[0]);
		ctx->failed = TRUE;
		result.mode = LOOKUP_MODE_UNKNOWN;
		result.error = "passdb lookup failed";
	} else if (ret == 0) {
		result.mode = LOOKUP_MODE_UNKNOWN;
		result.error = "no such user in the passdb";
	} else {
		lookup_fields(ctx, user, fields, &result);
	}
	*result_r = result;
}

static void lookup_user(struct lookup_context *ctx, const char *user)
{
	struct lookup_result result;
	pool_t pool;

	pool = pool_alloconly_create("referral lookup", 1024);
	lookup_user_result(ctx, user, pool, &result);
	lookup_print(user, &result);
	ctx->user_count++;
	ctx->mode_counts[result.mode]++;
	if (result.mode == LOOKUP_MODE_REFUSED) {
		const char *refusal = p_strdup_printf(ctx->pool, "%s: %s",
						      user, result.error);
		array_push_back(&ctx->refusals, &refusal);
	}
	if (result.warning != NULL) {
		const char *warning = p_strdup_printf(ctx->pool, "%s: %s",
						      user, result.warning);
		array_push_back(&ctx->warnings, &warning);
	}
	pool_unref(&pool);
}

/* -F: one user name a line; "-" is standard input. */
static void lookup_users_file(struct lookup_context *ctx, const char *path)
{
	struct istream *input;
	const char *line;

	input = strcmp(path, "-") == 0 ?
		i_stream_create_fd(STDIN_FILENO, SIZE_MAX) :
		i_stream_create_file(path, SIZE_MAX);
	while ((line = i_stream_read_next_line(input)) != NULL) {
		line = t_str_trim(line, " \t\r");
		if (line[0] == '\0' || line[0] == '#')
			continue;
		T_BEGIN {
			ctx->user_fn(ctx, line);
		} T_END;
	}
	if (input->stream_errno != 0) {
		i_error("read(%s) failed: %s", path, i_stream_get_error(input));
		ctx->failed = TRUE;
	}
	i_stream_unref(&input);
}

/* -A: every user the userdb can list, as doveadm's mail commands' -A.
   The names are collected first, since the auth connection answers one
   request at a time. */
static void lookup_all_users(struct lookup_context *ctx)
{
	struct auth_master_user_list_ctx *list;
	ARRAY_TYPE(const_string) names;
	const char *name;
	pool_t pool;

	pool = pool_alloconly_create("referral lookup users", 4096);
	p_array_init(&names, pool, 64);
	/* "*", not "": 2.4's auth process matches an empty mask with
	   nothing */
	list = auth_master_user_list_init(ctx->conn, "*", &ctx->info);
	while ((name = auth_master_user_list_next(list)) != NULL) {
		name = p_strdup(pool, name);
		array_push_back(&names, &name);
	}
	if (auth_master_user_list_deinit(&list) < 0) {
		i_error("referral lookup: listing the userdb's users failed "
			"after %u users (the auth log says why; a userdb "
			"that cannot list its users, e.g. static, says "
			"\"userdbs don't support it\")",
			array_count(&names));
		ctx->failed = TRUE;
	}
	array_foreach_elem(&names, name) T_BEGIN {
		ctx->user_fn(ctx, name);
	} T_END;
	pool_unref(&pool);
}

static bool
lookup_parse_auth_info(struct lookup_context *ctx, const char *arg)
{
	const char *key, *value = strchr(arg, '=');

	if (value == NULL) {
		i_error("Invalid auth info (not key=value): %s", arg);
		return FALSE;
	}
	key = t_strdup_until(arg, value++);
	if (strcmp(key, "service") == 0)
		referral_auth_user_info_set_service(&ctx->info, value);
	else if (strcmp(key, "local_name") == 0) {
		ctx->info.local_name = value;
		ctx->local.local_name = value;
		ctx->have_local = TRUE;
	} else if (strcmp(key, "lip") == 0 || strcmp(key, "rip") == 0) {
		struct ip_addr *ip = key[0] == 'l' ?
			&ctx->info.local_ip : &ctx->info.remote_ip;

		if (net_addr2ip(value, ip) < 0) {
			i_error("%s: Invalid IP address: %s", key, value);
			return FALSE;
		}
		if (key[0] == 'l') {
			ctx->local.ip = *ip;
			ctx->have_local = TRUE;
		}
	} else if (strcmp(key, "lport") == 0 || strcmp(key, "rport") == 0) {
		in_port_t *port = key[0] == 'l' ?
			&ctx->info.local_port : &ctx->info.remote_port;

		if (net_str2port(value, port) < 0) {
			i_error("%s: Invalid port: %s", key, value);
			return FALSE;
		}
		if (key[0] == 'l') {
			ctx->local.port = *port;
			ctx->have_local = TRUE;
		}
	} else {
		i_error("Unknown auth info key: %s (known: service, lip, rip, "
			"lport, rport, local_name)", key);
		return FALSE;
	}
	return TRUE;
}

/* What "doveconf -c <doveadm's config> listen service/<service>" prints:
   the server's configuration, as its master reads it. doveconf's own
   errors go to standard error as they are. */
static bool
lookup_doveconf(const char *service, const char **output_r,
		const char **error_r)
{
	const char *args[] = { "listen", NULL, NULL };
	string_t *output = t_str_new(2048);
	int status;

	args[1] = t_strconcat("service/", service, NULL);
	/* the configuration's options first: 2.4's doveconf stops at the
	   first setting name */
	status = referral_child_run(DOVECONF_BINARY, args, NULL, 0, output,
				    NULL, error_r);
	if (status < 0)
		return FALSE;
	if (status != 0) {
		*error_r = t_strdup_printf("%s failed (exit status %d)",
					   DOVECONF_BINARY, status);
		return FALSE;
	}
	*output_r = str_c(output);
	return TRUE;
}

static void
lookup_local_add(ARRAY_TYPE(referral_local) *locals, const char *service,
		 const struct ip_addr *ip, const char *name, in_port_t port)
{
	struct referral_local *local = array_append_space(locals);

	if (ip != NULL)
		local->ip = *ip;
	local->local_name = name;
	local->port = port;
	if (doveadm_debug) {
		i_debug("referral lookup: %s listens on %s port %u", service,
			ip != NULL ? net_ip2addr(ip) : name, port);
	}
}

static bool lookup_ip_is_any(const struct ip_addr *ip)
{
	if (ip->family == AF_INET)
		return ip->u.ip4.s_addr == INADDR_ANY;
	return IN6_IS_ADDR_UNSPECIFIED(&ip->u.ip6);
}

/* "*" and the unspecified addresses in Dovecot's listen: every address of
   the family that this machine's interfaces have. */
static void
lookup_local_add_any(ARRAY_TYPE(referral_local) *locals, const char *service,
		     const struct ifaddrs *ifaddrs, int family, in_port_t port)
{
	const struct ifaddrs *ifa;
	struct ip_addr ip;

	for (ifa = ifaddrs; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL ||
		    ifa->ifa_addr->sa_family != family)
			continue;
		i_zero(&ip);
		ip.family = family;
		if (family == AF_INET) {
			struct sockaddr_in sin;

			memcpy(&sin, ifa->ifa_addr, sizeof(sin));
			ip.u.ip4 = sin.sin_addr;
		} else {
			struct sockaddr_in6 sin6;

			memcpy(&sin6, ifa->ifa_addr, sizeof(sin6));
			ip.u.ip6 = sin6.sin6_addr;
		}
		lookup_local_add(locals, service, &ip, NULL, port);
	}
}

/* Add the addresses and ports that this server's service listens on to
   locals: a target that is one of them loops whichever of them the client
   came through, since all of them ask the same passdb. */
static void
lookup_add_listeners(struct lookup_context *ctx, const char *service,
		     const struct ifaddrs *ifaddrs,
		     ARRAY_TYPE(referral_local) *locals)
{
	ARRAY_TYPE(referral_listener) listeners;
	const struct referral_listener *listener;
	const char *output, *error;

	t_array_init(&listeners, 8);
	if (!lookup_doveconf(service, &output, &error) ||
	    !referral_listeners_parse(output, service, ctx->pool, &listeners,
				      &error)) {
		i_warning("referral lookup: loop check without %s's "
			  "listeners: %s", service, error);
		return;
	}
	array_foreach(&listeners, listener) {
		const char *address = listener->address;
		struct ip_addr ip, *ips;
		unsigned int i, count;
		int ret;

		if (strcmp(address, "*") == 0) {
			lookup_local_add_any(locals, service, ifaddrs, AF_INET,
					     listener->port);
		} else if (net_addr2ip(address, &ip) == 0) {
			/* 0.0.0.0, :: and [::] listen on every address */
			if (lookup_ip_is_any(&ip)) {
				lookup_local_add_any(locals, service, ifaddrs,
						     ip.family, listener->port);
			} else {
				lookup_local_add(locals, service, &ip, NULL,
						 listener->port);
			}
		} else if ((ret = net_gethostbyname(address, &ips,
						    &count)) != 0) {
			i_warning("referral lookup: loop check without %s's "
				  "listener %s: %s", service, address,
				  net_gethosterror(ret));
		} else {
			for (i = 0; i < count; i++) {
				lookup_local_add(locals, service, &ips[i],
						 NULL, listener->port);
			}
			/* a target may name the host as listen does */
			lookup_local_add(locals, service, NULL, address,
					 listener->port);
		}
	}
}

static void lookup_summary(struct lookup_context *ctx)
{
	const char *refusal, *warning;

	/* on standard error: standard output is the formatter's, which
	   -f json must keep parseable */
	fprintf(stderr, "%u users: %u referred (nologin), %u suggested, "
		"%u proxied (%u of them suggested), %u untouched, "
		"%u refused, %u unknown\n",
		ctx->user_count, ctx->mode_counts[LOOKUP_MODE_NOLOGIN],
		ctx->mode_counts[LOOKUP_MODE_SUGGEST],
		ctx->mode_counts[LOOKUP_MODE_PROXY] +
		ctx->mode_counts[LOOKUP_MODE_PROXY_SUGGEST],
		ctx->mode_counts[LOOKUP_MODE_PROXY_SUGGEST],
		ctx->mode_counts[LOOKUP_MODE_NONE],
		ctx->mode_counts[LOOKUP_MODE_REFUSED],
		ctx->mode_counts[LOOKUP_MODE_UNKNOWN]);
	array_foreach_elem(&ctx->refusals, refusal)
		fprintf(stderr, "refused: %s\n", refusal);
	array_foreach_elem(&ctx->warnings, warning)
		fprintf(stderr, "warning: %s\n", warning);
}

/* What "referral lookup" and "referral notify" share: the parameters
   (-a, -x, -F, -A, users), the settings, the server's listeners and the
   auth connection. FALSE (with doveadm_exit_code set) on a usage
   error. */
bool
lookup_init(struct doveadm_cmd_context *cctx, const char *cmd_name,
	    struct lookup_context *ctx)
{
	const char *socket_path, *const *auth_info;
	struct ifaddrs *ifaddrs;
	enum auth_master_flags flags = 0;

	if (!doveadm_cmd_param_str(cctx, "socket-path", &socket_path))
		socket_path = doveadm_settings->auth_socket_path;
	if (!doveadm_cmd_param_str(cctx, "file", &ctx->file))
		ctx->file = NULL;
	if (!doveadm_cmd_param_array(cctx, "user", &ctx->users))
		ctx->users = NULL;
	if (!doveadm_cmd_param_bool(cctx, "all-users", &ctx->all_users))
		ctx->all_users = FALSE;
	if (ctx->users == NULL && ctx->file == NULL && !ctx->all_users) {
		doveadm_exit_code = EX_USAGE;
		i_error("%s: give user names, -F <file> or -A", cmd_name);
		return FALSE;
	}

	/* the service a real login would ask for, unless -x says */
	referral_auth_user_info_set_service(&ctx->info, "imap");
	if (doveadm_cmd_param_array(cctx, "auth-info", &auth_info)) {
		for (; *auth_info != NULL; auth_info++) {
			if (!lookup_parse_auth_info(ctx, *auth_info)) {
				doveadm_exit_code = EX_USAGE;
				return FALSE;
			}
		}
	}

	/* the settings as the login processes get them (2.4: their
	   protocol filters, not local {} or remote {}; 2.3: IMAP's plugin {}
	   settings stand for ManageSieve's too) */
	ctx->imap_event = referral_doveadm_cmd_event_create(cctx);
	event_add_str(ctx->imap_event, "protocol", "imap");
	ctx->sieve_event = referral_doveadm_cmd_event_create(cctx);
	event_add_str(ctx->sieve_event, "protocol", "sieve");
	referral_reason_settings_init("imap");
	ctx->pool = pool_alloconly_create("referral lookup batch", 1024);
	p_array_init(&ctx->refusals, ctx->pool, 8);
	p_array_init(&ctx->warnings, ctx->pool, 8);
	p_array_init(&ctx->imap_locals, ctx->pool, 8);
	p_array_init(&ctx->sieve_locals, ctx->pool, 8);
	if (ctx->have_local) {
		array_push_back(&ctx->imap_locals, &ctx->local);
		array_push_back(&ctx->sieve_locals, &ctx->local);
	}
	if (getifaddrs(&ifaddrs) < 0) {
		i_warning("%s: getifaddrs() failed: %m", cmd_name);
		ifaddrs = NULL;
	}
	lookup_add_listeners(ctx, "imap-login", ifaddrs, &ctx->imap_locals);
	lookup_add_listeners(ctx, "managesieve-login", ifaddrs,
			     &ctx->sieve_locals);
	if (ifaddrs != NULL)
		freeifaddrs(ifaddrs);
	if (doveadm_debug)
		flags |= AUTH_MASTER_FLAG_DEBUG;
	ctx->conn = auth_master_init(socket_path, flags);
	return TRUE;
}

/* ctx->user_fn for every user of the batch */
void lookup_run(struct lookup_context *ctx)
{
	const char *const *users;

	for (users = ctx->users; users != NULL && *users != NULL; users++) T_BEGIN {
		ctx->user_fn(ctx, *users);
	} T_END;
	if (ctx->file != NULL)
		lookup_users_file(ctx, ctx->file);
	if (ctx->all_users)
		lookup_all_users(ctx);
}

void lookup_deinit(struct lookup_context *ctx)
{
	auth_master_deinit(&ctx->conn);
	event_unref(&ctx->imap_event);
	event_unref(&ctx->sieve_event);
	pool_unref(&ctx->pool);
}

static void cmd_referral_lookup(struct doveadm_cmd_context *cctx)
{
	struct lookup_context ctx;
	bool batch;

	i_zero(&ctx);
	ctx.user_fn = lookup_user;
	if (!lookup_init(cctx, "referral lookup", &ctx))
		return;

	doveadm_print_init(DOVEADM_PRINT_TYPE_PAGER);
	doveadm_print_header_simple("user");
	doveadm_print_header_simple("mode");
	doveadm_print_header_simple("imap_target");
	doveadm_print_header_simple("imap_alert");
	doveadm_print_header_simple("imap_bye");
	doveadm_print_header_simple("imap_login");
	doveadm_print_header_simple("imap_authenticate");
	doveadm_print_header_simple("sieve_target");
	doveadm_print_header_simple("sieve");
	doveadm_print_header_simple("error");
	doveadm_print_header_simple("warning");

	lookup_run(&ctx);

	batch = ctx.file != NULL || ctx.all_users || ctx.user_count > 1;
	if (batch)
		lookup_summary(&ctx);
	if (ctx.failed)
		doveadm_exit_code = EX_TEMPFAIL;
	else if (ctx.mode_counts[LOOKUP_MODE_REFUSED] > 0)
		doveadm_exit_code = DOVEADM_EX_NOTPOSSIBLE;
	else if (ctx.mode_counts[LOOKUP_MODE_UNKNOWN] > 0)
		doveadm_exit_code = DOVEADM_EX_NOTFOUND;
	lookup_deinit(&ctx);
}

struct doveadm_cmd_ver2 doveadm_cmd_referral_lookup = {
	.cmd = cmd_referral_lookup,
	.name = "referral lookup",
	.usage = "[-a <userdb socket path>] [-x <auth info>] "
		 "[-F <file>|-] [-A] [<user> [...]]",
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_PARAM('a', "socket-path", CMD_PARAM_STR, 0)
DOVEADM_CMD_PARAM('x', "auth-info", CMD_PARAM_ARRAY, 0)
DOVEADM_CMD_PARAM('F', "file", CMD_PARAM_STR, 0)
DOVEADM_CMD_PARAM('A', "all-users", CMD_PARAM_BOOL, 0)
DOVEADM_CMD_PARAM('\0', "user", CMD_PARAM_ARRAY, CMD_PARAM_FLAG_POSITIONAL)
DOVEADM_CMD_PARAMS_END
};
