/* cli/model_docs.c — Markdown tables of a model's parameters and state variables, from the
 * descriptor: one truth for `nsim models`, the docs and validation. Text is built in a growing
 * string so that the command prints it and the tests compare it. */
#include "cli/model_docs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *s;
    size_t n, cap;
    int failed;
} strbuf;

static void put(strbuf *b, const char *fmt, ...)
{
    if (b->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->failed = 1;
        return;
    }
    if (b->n + (size_t)k + 1 > b->cap) {
        size_t cap = 2 * (b->n + (size_t)k + 1);
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* A table cell: text with '|' escaped, so that a doc line cannot split its row. */
/* A table cell: text (bars escaped), then more (plain, may be NULL), and the closing bar. */
static void put_cell_more(strbuf *b, const char *text, const char *more)
{
    put(b, " ");
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '|') put(b, "\\|");
        else put(b, "%c", *p);
    }
    if (more) put(b, "%s", more);
    put(b, " |");
}

static void put_cell(strbuf *b, const char *text) { put_cell_more(b, text, NULL); }

static void put_number(strbuf *b, double v)
{
    if (isinf(v)) put(b, v > 0 ? "inf" : "-inf");
    else put(b, "%g", v);
}

static void put_bound(strbuf *b, double bound)
{
    if (bound == NS_BOUND_ANY) put(b, " any but NaN |");
    else if (bound == NS_BOUND_FINITE) put(b, " finite |");
    else put(b, " %g |", bound);
}

char *ns_model_docs_tables(const ns_model *m)
{
    strbuf b = {0};
    if (m->n_params) {
        put(&b, "| parameter | unit | default | range | meaning |\n|---|---|---|---|---|\n");
        for (int i = 0; i < m->n_params; i++) {
            const ns_param *p = &m->params[i];
            put(&b, "| `%s` |", p->name);
            put_cell(&b, p->unit);
            put(&b, " ");
            put_number(&b, p->def);
            put(&b, " | [");
            put_number(&b, p->min);
            put(&b, ", ");
            put_number(&b, p->max);
            put(&b, "] |");
            put_cell(&b, p->doc);
            put(&b, "\n");
        }
    } else {
        put(&b, "No parameters.\n");
    }
    put(&b, "\n");
    int shown = 0;
    for (int i = 0; i < m->n_state; i++) {
        const ns_state_var *v = &m->state[i];
        if (v->internal) continue;
        if (!shown++) put(&b, "| state variable | unit | bound (absolute value) | meaning |\n|---|---|---|---|\n");
        put(&b, "| `%s` |", v->name);
        put_cell(&b, v->unit);
        put_bound(&b, v->bound);
        put_cell_more(&b, v->doc, m->summed & NS_STATE_SUMMED(i) ? "; its sum over the population can be recorded (`net:record_sum`)" : NULL);
        put(&b, "\n");
    }
    if (!shown) put(&b, "No state variables.\n");
    if (b.failed || !b.s) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

void ns_model_docs_marker(const char *name, int end, char *buf, size_t len)
{
    snprintf(buf, len, "<!-- nsim models --markdown %s %s -->", name, end ? "end" : "begin");
}
