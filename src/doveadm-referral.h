#ifndef DOVEADM_REFERRAL_H
#define DOVEADM_REFERRAL_H

/* What "doveadm referral lookup" (doveadm-referral.c) gives the commands
   built on it ("referral notify", doveadm-referral-notify.c): the batch
   of users, the passdb lookup, and what the login plugin makes of each
   user's fields. */

#include "auth-master.h"
#include "referral-listeners.h"
#include "referral-target.h"

struct doveadm_cmd_context;

enum lookup_mode {
	LOOKUP_MODE_NONE = 0,
	LOOKUP_MODE_NOLOGIN,
	LOOKUP_MODE_SUGGEST,
	LOOKUP_MODE_PROXY,
	/* proxy with referral=suggest */
	LOOKUP_MODE_PROXY_SUGGEST,
	LOOKUP_MODE_REFUSED,
	LOOKUP_MODE_UNKNOWN,

	LOOKUP_MODE_COUNT
};

extern const char *const lookup_mode_names[LOOKUP_MODE_COUNT];

ARRAY_DEFINE_TYPE(referral_local, struct referral_local);

struct lookup_context {
	/* what is done for each user of the batch (lookup_run()); a
	   command with more state embeds this struct in its own */
	void (*user_fn)(struct lookup_context *ctx, const char *user);
	/* the settings as imap-login and managesieve-login get them */
	struct event *imap_event, *sieve_event;
	struct auth_master_connection *conn;
	struct auth_user_info info;
	/* the server a real login would be talking to (-x lip, lport,
	   local_name): a target equal to it is a referral loop */
	struct referral_local local;
	bool have_local;
	/* the same for every address and port this server listens on for
	   IMAP and for ManageSieve, the -x one included */
	ARRAY_TYPE(referral_local) imap_locals, sieve_locals;

	/* the batch: -F, -A and the user names */
	const char *file, *const *users;
	bool all_users;

	unsigned int mode_counts[LOOKUP_MODE_COUNT];
	unsigned int user_count;
	ARRAY_TYPE(const_string) refusals, warnings;
	pool_t pool;
	bool failed;
};

/* One user's answer, one field per printed column. */
struct lookup_result {
	enum lookup_mode mode;
	const char *imap_target, *imap_alert, *imap_bye;
	const char *imap_login, *imap_authenticate;
	const char *sieve_target, *sieve, *error;
	/* a reply that some clients cannot parse (LOOKUP_WARNING_PERCENT) */
	const char *warning;
	/* the IMAP target and the user name there, when it is valid */
	struct referral_target target;
	const char *dest_user;
	bool have_target, nologin;
};

/* The parameters (-a, -x, -F, -A, users), the settings, the server's
   listeners and the auth connection, into ctx (whose user_fn the caller
   sets). FALSE (with doveadm_exit_code set) on a usage error; cmd_name
   is for the messages. */
bool lookup_init(struct doveadm_cmd_context *cctx, const char *cmd_name,
		 struct lookup_context *ctx);
/* ctx->user_fn for every user of the batch */
void lookup_run(struct lookup_context *ctx);
void lookup_deinit(struct lookup_context *ctx);

/* The passdb lookup for user and what the plugin makes of it, into
   result_r. The strings are allocated from pool and the data stack. */
void lookup_user_result(struct lookup_context *ctx, const char *user,
			pool_t pool, struct lookup_result *result_r);

extern struct doveadm_cmd_ver2 doveadm_cmd_referral_lookup;
extern struct doveadm_cmd_ver2 doveadm_cmd_referral_notify;

#endif
