/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "referral-target.h"
#include "test-common.h"

#include <stdlib.h>

void test_target(const char *host, in_port_t port,
		 struct referral_target *target_r)
{
	const char *error;

	i_zero(target_r);
	target_r->host = host;
	target_r->port = port;
	ck_assert_msg(referral_host_validate(host, &target_r->host_type,
					     &error), "%s: %s", host, error);
}

int test_run_suite(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	lib_init();
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	lib_deinit();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
