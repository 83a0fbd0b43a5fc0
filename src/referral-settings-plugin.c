/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Dovecot 2.3: the templates are plugin { referral_reason_* = ... }
   settings. A login process receives only its own settings root, and
   after chrooting can no longer reach the config process, so the plugin
   asks the config process itself for the mail settings (module "mail",
   which holds plugin {}) once, when it is loaded (still as root, before
   the chroot). A reload restarts the login processes, which then read
   the new values. protocol {} filters apply; local {} and remote {}
   ones do not: the request is made for no connection. */

#include "lib.h"
#include "write-full.h"
#include "istream.h"
#include "net.h"
#include "strescape.h"
#include "master-service.h"
#include "master-service-settings.h"
#include "referral-settings.h"

#include <unistd.h>


/* the config process's protocol (lib-master/master-service-settings.c) */
#define REFERRAL_CONFIG_HANDSHAKE "VERSION\tconfig\t2\t0\n"
#define REFERRAL_CONFIG_PLUGIN_PREFIX "plugin/"
/* as Dovecot's own settings reader: a busy config process's listener is
   retried for a second, and a hung one does not hang the login process */
#define REFERRAL_CONFIG_CONNECT_RETRY_MSECS 1000
#define REFERRAL_CONFIG_READ_TIMEOUT_SECS 10

static char *reason_nologin, *reason_suggest;
static char *notice_from, *notice_subject, *notice_body;
static bool settings_read, settings_failed;

/* the plugin {} settings read, and where each goes */
static const struct {
	const char *name;
	char **value;
} referral_settings[] = {
	{ REFERRAL_SETTING_REASON_NOLOGIN, &reason_nologin },
	{ REFERRAL_SETTING_REASON_SUGGEST, &reason_suggest },
	{ REFERRAL_SETTING_NOTICE_FROM, &notice_from },
	{ REFERRAL_SETTING_NOTICE_SUBJECT, &notice_subject },
	{ REFERRAL_SETTING_NOTICE_BODY, &notice_body },
};

static void referral_settings_line(const char *line)
{
	const char *key, *value = strchr(line, '=');
	unsigned int i;

	if (value == NULL || !str_begins(line, REFERRAL_CONFIG_PLUGIN_PREFIX))
		return;
	key = t_strdup_until(line + strlen(REFERRAL_CONFIG_PLUGIN_PREFIX),
			     value++);
	/* a setting of several lines would come with \003 for each LF:
	   the sanitising of the expanded reason turns them into spaces */
	for (i = 0; i < N_ELEMENTS(referral_settings); i++) {
		if (strcmp(key, referral_settings[i].name) == 0) {
			i_free(*referral_settings[i].value);
			*referral_settings[i].value = i_strdup(value);
		}
	}
}

static int
referral_settings_request(const char *path, const char *protocol,
			  const char **error_r)
{
	const char *request, *line;
	struct istream *input;
	int fd, ret = 0;

	fd = net_connect_unix_with_retries(path,
					   REFERRAL_CONFIG_CONNECT_RETRY_MSECS);
	if (fd < 0) {
		*error_r = t_strdup_printf("net_connect_unix(%s) failed: %m",
					   path);
		return -1;
	}
	net_set_nonblock(fd, FALSE);
	request = t_strdup_printf(REFERRAL_CONFIG_HANDSHAKE
				  "REQ\tmodule=mail\tservice=%s\n",
				  str_tabescape(protocol));
	if (write_full(fd, request, strlen(request)) < 0) {
		*error_r = t_strdup_printf("write(%s) failed: %m", path);
		i_close_fd(&fd);
		return -1;
	}
	input = i_stream_create_fd(fd, SIZE_MAX);
	/* the header (flags), then key=value lines up to an empty one */
	if ((line = i_stream_read_next_line(input)) == NULL ||
	    str_begins(line, "ERROR")) {
		ret = -1;
	} else {
		while ((line = i_stream_read_next_line(input)) != NULL &&
		       *line != '\0')
			referral_settings_line(line);
		if (line == NULL)
			ret = -1;
	}
	if (ret < 0) {
		*error_r = input->stream_errno != 0 ?
			t_strdup_printf("read(%s) failed: %s", path,
					i_stream_get_error(input)) :
			t_strdup_printf("%s: incomplete reply%s%s", path,
					line == NULL ? "" : ": ",
					line == NULL ? "" : line);
	}
	i_stream_destroy(&input);
	i_close_fd(&fd);
	return ret;
}

/* Dovecot's mail processes %-expand every plugin {} setting and fail
   every session on one they cannot expand: say which of ours would. */
static void referral_settings_check_percent(const char *name,
					    const char *value)
{
	const char *p;

	for (p = value; p != NULL && *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] != '%') {
			i_warning("referral: plugin { %s } has a '%%' not "
				  "written '%%%%': Dovecot's mail processes "
				  "will fail to expand it", name);
			return;
		}
		p++;
	}
}

void referral_reason_settings_init(const char *protocol)
{
	const struct master_service_settings *set =
		master_service_settings_get(master_service);
	const char *error;
	unsigned int i;

	if (settings_read)
		return;
	settings_read = TRUE;
	T_BEGIN {
		int ret;

		alarm(REFERRAL_CONFIG_READ_TIMEOUT_SECS);
		ret = referral_settings_request(
			t_strconcat(set->base_dir, "/config", NULL),
			protocol, &error);
		alarm(0);
		if (ret < 0) {
			settings_failed = TRUE;
			i_error("referral: Reading the plugin settings failed, "
				"the built-in default reasons are used: %s",
				error);
		}
	} T_END;
	for (i = 0; i < N_ELEMENTS(referral_settings); i++) {
		referral_settings_check_percent(referral_settings[i].name,
						*referral_settings[i].value);
	}
}

void referral_reason_settings_deinit(void)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(referral_settings); i++)
		i_free(*referral_settings[i].value);
	settings_read = FALSE;
	settings_failed = FALSE;
}

/* an unset or empty setting: NULL, the built-in text */
static const char *referral_setting_value(const char *value)
{
	return value == NULL || *value == '\0' ? NULL : t_strdup(value);
}

const char *referral_reason_setting(struct event *event ATTR_UNUSED,
				     bool logged_in)
{
	return referral_setting_value(logged_in ? reason_suggest :
				      reason_nologin);
}

bool referral_notice_settings(struct event *event ATTR_UNUSED,
			      const char **from_r, const char **subject_r,
			      const char **body_r, const char **error_r)
{
	if (settings_failed) {
		*error_r = "reading the plugin settings failed (logged)";
		return FALSE;
	}
	*from_r = referral_setting_value(notice_from);
	*subject_r = referral_setting_value(notice_subject);
	*body_r = referral_setting_value(notice_body);
	return TRUE;
}
