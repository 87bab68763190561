/* cli/param_scan.h — which parameters a script's text reads, found before it runs, so that a
 * mistyped --set is refused at once rather than after a long simulation. The scan is a lower
 * bound: it gives up (says "unknown") whenever the script could read a name it cannot see. */
#ifndef NS_PARAM_SCAN_H
#define NS_PARAM_SCAN_H

#include <stddef.h>

#include "lua/lua_api.h"

/* Check every --set against the names the script passes as string literals to nsim.param. A
 * name no call reads is refused: -1 with "SCRIPT:0: --set NAME=VALUE: ..." (the names it does
 * read, and the closest one) in err. 0 when all are found, or when the script may read names the
 * scan cannot see (a name that is not a literal, nsim.param passed on as a value, another file
 * loaded): the run then checks after the script ends, as before. */
int ns_param_scan_check(const char *script, const ns_setting *settings, int n, char *err, size_t errlen);

#endif
