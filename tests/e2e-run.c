/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "e2e-run.h"

#include <stdlib.h>

int e2e_run_suite(Suite *suite, bool fork)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	if (!fork)
		srunner_set_fork_status(runner, CK_NOFORK);
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
