#ifndef E2E_REPORT_H
#define E2E_REPORT_H

/* The reports of the real-client drivers (tests/thunderbird-login,
   tests/gui-client-login): one KEY=value line each. */

/* The lines of out that start with "KEY=", counted; the first one's value
   in *value_r (NULL when none). */
unsigned int e2e_report_values(const char *out, const char *key,
			       const char **value_r);
/* out has exactly one KEY line, and its value is expected. */
void e2e_assert_report_value(const char *out, const char *key,
			     const char *expected);
/* out has no KEY line. */
void e2e_assert_report_none(const char *out, const char *key);

#endif
