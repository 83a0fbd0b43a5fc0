#ifndef REFERRAL_ESCAPE_H
#define REFERRAL_ESCAPE_H

/* Longest part of a passdb value that goes into a log line. */
#define REFERRAL_LOG_VALUE_MAX_LEN 128

/* Escape a passdb value for a log line: printable ASCII is kept, a
   backslash becomes \\ and any other byte \xNN; only the first max_len
   bytes are shown, followed by "..." when there were more. A hostile value
   can so neither forge a log line nor flood the log. Allocated from the
   data stack. */
const char *referral_value_escape(const char *value, size_t max_len);

#endif
