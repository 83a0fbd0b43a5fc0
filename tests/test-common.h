#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <check.h>
#include <netinet/in.h>

struct referral_target;

/* Run suite with Check's normal output (one summary line per program) and
   return the process exit status: 0 when every test passed. Initializes
   Dovecot's lib first, since the core allocates from its data stack. */
int test_run_suite(Suite *suite);

/* Fill target_r with host (which must be valid: asserted) and port. */
void test_target(const char *host, in_port_t port,
		 struct referral_target *target_r);

/* A table-driven test case: fn runs once per row, with _i the row. */
#define TEST_TABLE(tcase, fn, table) \
	tcase_add_loop_test(tcase, fn, 0, N_ELEMENTS(table))

#endif
