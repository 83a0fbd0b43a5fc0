#ifndef E2E_RUN_H
#define E2E_RUN_H

#include <check.h>
#include <stdbool.h>

#include "harness-imap.h"

/* Run an end-to-end suite with Check's normal output (its summary line is
   what CI reads) and return the program's exit status. fork = false runs
   the tests in this process, for tests that change the system. */
int e2e_run_suite(Suite *suite, bool fork);

/* Assert that a reply line starts with prefix; the failure shows it. */
#define e2e_assert_starts(line, prefix) \
	ck_assert_msg(harness_starts_with(line, prefix), "got: %s", line)

/* Send cmd as a line (the test fails if it cannot), then
   imap_read_until() the prefixes. */
static inline char *
e2e_command(struct imap_conn *conn, const char *cmd, const char *prefix1,
	    const char *prefix2)
{
	ck_assert(imap_send_line(conn, cmd));
	return imap_read_until(conn, prefix1, prefix2);
}

#endif
