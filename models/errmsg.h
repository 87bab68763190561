/* models/errmsg.h — the one-line error message of models/, solvers/ and train/ functions: they return -1
 * and leave the message in a caller's buffer, since library code never prints. */
#ifndef NS_MODELS_ERRMSG_H
#define NS_MODELS_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Format a message into err (errlen bytes); a NULL or empty buffer is left alone. */
static inline __attribute__((format(printf, 3, 4))) void ns_cell_errmsg(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

#endif
