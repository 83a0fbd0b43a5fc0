/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-proc.h"
#include "e2e-report.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

unsigned int e2e_report_values(const char *out, const char *key,
			       const char **value_r)
{
	char *prefix = harness_printf("%s=", key);
	size_t len = strlen(prefix);
	unsigned int count = 0;
	const char *line = out;

	*value_r = NULL;
	while (line != NULL && *line != '\0') {
		if (strncmp(line, prefix, len) == 0) {
			if (count++ == 0)
				*value_r = line + len;
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	free(prefix);
	return count;
}

void e2e_assert_report_value(const char *out, const char *key,
			     const char *expected)
{
	const char *value;
	size_t len = strlen(expected);

	ck_assert_msg(e2e_report_values(out, key, &value) == 1,
		      "no single %s", key);
	ck_assert_msg(strncmp(value, expected, len) == 0 &&
		      (value[len] == '\n' || value[len] == '\0'),
		      "%s is not \"%s\"", key, expected);
}

void e2e_assert_report_none(const char *out, const char *key)
{
	const char *value;

	ck_assert_msg(e2e_report_values(out, key, &value) == 0, "%s=%.200s",
		      key, value);
}
