/* base/errmsg.h — the one-line error message of the library (models/, solvers/, analysis/, train/): they return -1
 * and leave the message in a caller's buffer, since library code never prints. */
#ifndef NS_MODELS_ERRMSG_H
#define NS_MODELS_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Format a message into err (errlen bytes; a NULL or empty buffer is left alone) and return -1,
 * so a caller can `return ns_errmsg(...)`. */
static inline __attribute__((format(printf, 3, 4))) int ns_errmsg(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Put "PREFIX: " in front of the message already in err (cut to errlen bytes). */
static inline void ns_errmsg_prefix(char *err, size_t errlen, const char *prefix)
{
    if (!err || !errlen) return;
    size_t p = strlen(prefix) + 2, n = strnlen(err, errlen - 1);
    if (p >= errlen) return; /* no room for the message after it: keep the message */
    if (n > errlen - 1 - p) n = errlen - 1 - p;
    memmove(err + p, err, n);
    err[p + n] = '\0';
    memcpy(err, prefix, p - 2);
    err[p - 2] = ':';
    err[p - 1] = ' ';
}

#endif
