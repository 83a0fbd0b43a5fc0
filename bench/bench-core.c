/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The core's cost per login: everything the plugin computes for one
   referral (parse the passdb fields, validate host, port and user, check
   for a loop, build the URL, sanitise the reason), in nanoseconds per call,
   with a typical reason and with one of 1024 bytes; and the memory the
   plugin allocates per connection.
   usage: bench-core ITERATIONS CSV */

#include "lib.h"
#include "net.h"
#include "referral-fields.h"
#include "referral-imap.h"
#include "referral-target.h"
#include "referral-url.h"
#include "referral-client.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define REPEATS 7

static void one_referral(const char *const *args, const struct ip_addr *ip)
{
	struct referral_fields fields;
	struct referral_target target;
	struct referral_local local;
	struct referral_imap_reply reply;
	const char *field, *error;

	referral_fields_parse(args, &fields);
	if (!referral_target_parse(&fields, 143, &target, &field, &error) ||
	    !referral_user_validate(fields.destuser, &error))
		i_fatal("benchmark input refused: %s", error);
	i_zero(&local);
	local.ip = *ip;
	local.port = 143;
	if (referral_target_is_local(&target, &local))
		i_fatal("benchmark input is local");
	referral_imap_reply_build(&target, fields.destuser, NULL,
				  fields.reason, &reply);
	if (reply.url[0] == '\0' || reply.text[0] == '\0')
		i_fatal("empty result");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double ns_per_call(const char *const *args, unsigned int iterations)
{
	struct ip_addr ip;
	double runs[REPEATS];
	unsigned int r, i;

	if (net_addr2ip("192.0.2.1", &ip) < 0)
		i_unreached();
	for (r = 0; r < REPEATS; r++) {
		struct timespec start, end;

		clock_gettime(CLOCK_MONOTONIC, &start);
		for (i = 0; i < iterations; i++) T_BEGIN {
			one_referral(args, &ip);
		} T_END;
		clock_gettime(CLOCK_MONOTONIC, &end);
		runs[r] = ((end.tv_sec - start.tv_sec) * 1e9 +
			   (end.tv_nsec - start.tv_nsec)) / iterations;
	}
	qsort(runs, REPEATS, sizeof(double), cmp_double);
	return runs[REPEATS / 2];
}

int main(int argc, char *argv[])
{
	unsigned int iterations;
	char *long_reason;
	double typical, long_ns;
	FILE *csv;

	if (argc != 3 || (iterations = atoi(argv[1])) == 0) {
		fprintf(stderr, "usage: %s ITERATIONS CSV\n", argv[0]);
		return 2;
	}
	lib_init();
	long_reason = i_malloc(1024 + 1);
	memset(long_reason, 'x', 1024);
	const char *const typical_args[] = {
		"user=moved", "host=imap2.example.com", "port=1143",
		"destuser=bob@example.com", "nologin",
		"reason=Your mailbox has moved to imap2.example.com.", NULL
	};
	const char *const long_args[] = {
		"user=moved", "host=imap2.example.com", "port=1143",
		"destuser=bob@example.com", "nologin",
		t_strconcat("reason=", long_reason, NULL), NULL
	};

	typical = ns_per_call(typical_args, iterations);
	long_ns = ns_per_call(long_args, iterations);
	printf("core, per referral (median of %u runs of %u calls):\n",
	       REPEATS, iterations);
	printf("  typical reason       %8.0f ns\n", typical);
	printf("  1024-byte reason     %8.0f ns\n", long_ns);
	printf("plugin memory per connection: %zu bytes "
	       "(struct referral_client, from the client's pool)\n",
	       sizeof(struct referral_client));

	csv = fopen(argv[2], "w");
	if (csv == NULL)
		i_fatal("fopen(%s) failed: %m", argv[2]);
	fprintf(csv, "measure,value,unit\n"
		"referral_typical_reason,%.0f,ns\n"
		"referral_1024_byte_reason,%.0f,ns\n"
		"memory_per_connection,%zu,bytes\n",
		typical, long_ns, sizeof(struct referral_client));
	fclose(csv);
	i_free(long_reason);
	lib_deinit();
	return 0;
}
