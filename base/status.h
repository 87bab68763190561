/* base/status.h — status codes: 0 ok, negative an error (CVODE's convention). One X-macro list
 * holds each code with its text; the detailed message lives on the context. */
#ifndef NS_STATUS_H
#define NS_STATUS_H

#define NS_STATUS_LIST(X)                                       \
    X(NS_OK, 0, "ok")                                           \
    X(NS_EINVAL, -1, "invalid argument")                        \
    X(NS_ENOMEM, -2, "out of memory")                           \
    X(NS_EIO, -3, "file error")                                 \
    X(NS_ESTATE, -4, "not allowed in this state")               \
    X(NS_ERUN, -5, "failure during the run")                    \
    X(NS_EINTR, -6, "interrupted")

enum {
#define NS_STATUS_ENUM(name, value, text) name = value,
    NS_STATUS_LIST(NS_STATUS_ENUM)
#undef NS_STATUS_ENUM
};

#endif
