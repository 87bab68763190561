/* cli/param_scan.c — the --set pre-check (see param_scan.h). It reads the script as text and
 * looks for `param` after a dot or colon: followed by a string literal (with or without
 * parentheses) it is a name read; followed by anything else, the scan cannot know the names. */
#include "cli/param_scan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/files.h"

typedef struct {
    char (*names)[64];
    int n, cap;
    int unknown; /* 1: the script may read names the scan cannot see */
} scan;

static int ident_char(int c) { return isalnum(c) || c == '_'; }

static const char *skip_space(const char *p)
{
    while (*p && isspace((unsigned char)*p)) p++;
    return p;
}

static void add_name(scan *sc, const char *from, size_t len)
{
    if (len >= sizeof sc->names[0]) return; /* longer than any --set name can match usefully */
    for (int i = 0; i < sc->n; i++)
        if (strlen(sc->names[i]) == len && !strncmp(sc->names[i], from, len)) return;
    if (sc->n == sc->cap) {
        int cap = sc->cap ? 2 * sc->cap : 16;
        char(*g)[64] = realloc(sc->names, (size_t)cap * sizeof *g);
        if (!g) {
            sc->unknown = 1; /* cannot keep the list: do not refuse on an incomplete one */
            return;
        }
        sc->names = g;
        sc->cap = cap;
    }
    memcpy(sc->names[sc->n], from, len);
    sc->names[sc->n++][len] = '\0';
}

/* One occurrence of `param` at p (just past the word): a literal name, or something unknown. */
static void scan_call(scan *sc, const char *p)
{
    p = skip_space(p);
    if (*p == '(') p = skip_space(p + 1);
    if (*p != '"' && *p != '\'') {
        /* a name computed at run time, or nsim.param handed on as a value: any name may be read */
        sc->unknown = 1;
        return;
    }
    char q = *p++;
    const char *end = p;
    while (*end && *end != q && *end != '\\' && *end != '\n') end++;
    if (*end != q) sc->unknown = 1; /* an escape in the name: leave it to the run */
    else add_name(sc, p, (size_t)(end - p));
}

static void scan_text(scan *sc, const char *text)
{
    static const char *const loaders[] = {"require", "dofile", "loadfile", "load"};
    for (const char *p = text; *p; p++) {
        if (!ident_char((unsigned char)*p) || (p > text && ident_char((unsigned char)p[-1]))) continue;
        size_t len = 0;
        while (ident_char((unsigned char)p[len])) len++;
        if (len == 5 && !strncmp(p, "param", 5)) {
            const char *before = p;
            while (before > text && (before[-1] == ' ' || before[-1] == '\t')) before--;
            if (before > text && (before[-1] == '.' || before[-1] == ':')) scan_call(sc, p + 5);
        } else {
            for (size_t k = 0; k < sizeof loaders / sizeof *loaders; k++)
                if (len == strlen(loaders[k]) && !strncmp(p, loaders[k], len)) sc->unknown = 1; /* other code */
        }
        p += len - 1;
    }
}

/* Edit distance of two short strings, case folded, capped at 64 characters each. */
static int distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

int ns_param_scan_check(const char *script, const ns_setting *settings, int n, char *err, size_t errlen)
{
    if (n == 0) return 0;
    char *text = ns_file_read_all(script);
    if (!text) return 0; /* unreadable here: the run says so itself */
    scan sc = {0};
    scan_text(&sc, text);
    free(text);
    int rc = 0;
    for (int i = 0; i < n && !sc.unknown && !rc; i++) {
        int found = 0, best = -1, best_d = 99;
        for (int k = 0; k < sc.n && !found; k++) {
            found = !strcmp(sc.names[k], settings[i].name);
            int d = distance(sc.names[k], settings[i].name);
            if (d < best_d) best_d = d, best = k;
        }
        if (found) continue;
        size_t len = (size_t)snprintf(err, errlen, "%s:0: --set %s=%s: the script reads no parameter '%s'", script,
                                      settings[i].name, settings[i].value, settings[i].name);
        if (best >= 0 && best_d <= 2 && len < errlen)
            len += (size_t)snprintf(err + len, errlen - len, " (did you mean '%s'?)", sc.names[best]);
        if (len < errlen) len += (size_t)snprintf(err + len, errlen - len, sc.n ? "; it reads" : "; it reads none");
        for (int k = 0; k < sc.n && len < errlen; k++)
            len += (size_t)snprintf(err + len, errlen - len, "%s %s", k ? "," : "", sc.names[k]);
        rc = -1;
    }
    free(sc.names);
    return rc;
}
