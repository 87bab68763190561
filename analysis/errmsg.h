/* analysis/errmsg.h — the one-line error messages of analysis/: functions return -1 and leave
 * the message in a caller's buffer, since library code never prints. */
#ifndef NS_ERRMSG_H
#define NS_ERRMSG_H

#include <stddef.h>

/* Format a message into err (errlen bytes); a NULL or empty buffer is left alone. */
void ns_errmsg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
