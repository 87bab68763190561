/* sim/csv.c — a streaming reader of "t_ms,neuron" spike files (see csv.h). The header decides
 * which columns hold the time and the neuron, so extra columns are allowed. */
#include "sim/csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int column_of(char *header, const char *name)
{
    int col = 0;
    for (char *tok = strtok(header, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), col++) {
        while (*tok == ' ') tok++;
        if (strcmp(tok, name) == 0) return col;
    }
    return -1;
}

int ns_csv_each_spike(const char *path, ns_spike_fn fn, void *user, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], copy[4096];
    int rc = 0;
    long lineno = 1;
    if (!fgets(line, sizeof line, fp)) {
        snprintf(err, errlen, "%s:1: empty file, expected a header t_ms,neuron", path);
        fclose(fp);
        return -1;
    }
    memcpy(copy, line, sizeof line);
    int ct = column_of(copy, "t_ms");
    memcpy(copy, line, sizeof line);
    int cn = column_of(copy, "neuron");
    if (ct < 0 || cn < 0) {
        snprintf(err, errlen, "%s:1: header must name the columns t_ms and neuron", path);
        fclose(fp);
        return -1;
    }
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '\n' || line[0] == '\r' || line[0] == '#') continue;
        double t = NAN;
        long id = -1;
        int col = 0, ok_t = 0, ok_n = 0;
        char *p = line;
        for (;;) {
            char *end;
            if (col == ct) {
                t = strtod(p, &end);
                ok_t = end != p && isfinite(t);
                p = end;
            } else if (col == cn) {
                id = strtol(p, &end, 10);
                ok_n = end != p && id >= 0;
                p = end;
            }
            while (*p == ' ') p++;
            char *comma = strchr(p, ',');
            if (!comma) break;
            p = comma + 1;
            col++;
        }
        if (!ok_t || !ok_n) {
            snprintf(err, errlen, "%s:%ld: expected a time in ms and a neuron id >= 0", path, lineno);
            rc = -1;
            break;
        }
        if (fn(user, t, id)) break;
    }
    if (!rc && ferror(fp)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    fclose(fp);
    return rc;
}
