/* models/registry.c — the list of models and the parameter-table helpers every model shares.
 * models.def is the one list: adding a model is one file plus one line there. */
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_MODEL(sym) extern const ns_model sym;
#include "models/models.def"
#undef NS_MODEL

static const ns_model *const registry[] = {
#define NS_MODEL(sym) &sym,
#include "models/models.def"
#undef NS_MODEL
};

int ns_model_count(void) { return (int)(sizeof registry / sizeof registry[0]); }

const ns_model *ns_model_at(int i)
{
    return (i >= 0 && i < ns_model_count()) ? registry[i] : NULL;
}

const ns_model *ns_model_find(const char *name)
{
    for (int i = 0; i < ns_model_count(); i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

int ns_model_check_limits(const ns_model *m, char *err, size_t errlen)
{
    if (m->n_inputs < 0 || m->n_inputs > NS_MAX_INPUTS) {
        snprintf(err, errlen, "model %s declares %d input ports; the engine takes 0 to %d", m->name, m->n_inputs,
                 NS_MAX_INPUTS);
        return -1;
    }
    if (m->n_state < 0 || m->n_state > NS_MODEL_MAX_STATE) {
        snprintf(err, errlen, "model %s declares %d state variables; the engine takes 0 to %d", m->name, m->n_state,
                 NS_MODEL_MAX_STATE);
        return -1;
    }
    return 0;
}

int ns_model_param_index(const ns_model *m, const char *name)
{
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) return i;
    return -1;
}

int ns_model_state_index(const ns_model *m, const char *name)
{
    for (int i = 0; i < m->n_state; i++)
        if (!m->state[i].internal && strcmp(m->state[i].name, name) == 0) return i;
    return -1;
}

double ns_model_get_param(const ns_model *m, const void *params, int idx)
{
    double v;
    memcpy(&v, (const char *)params + m->params[idx].offset, sizeof v);
    return v;
}

void ns_model_set_param(const ns_model *m, void *params, int idx, double value)
{
    memcpy((char *)params + m->params[idx].offset, &value, sizeof value);
}

void ns_model_defaults(const ns_model *m, void *params)
{
    memset(params, 0, m->params_size);
    for (int i = 0; i < m->n_params; i++) ns_model_set_param(m, params, i, m->params[i].def);
}

int ns_model_check_param(const ns_model *m, int idx, double value, char *err, size_t errlen)
{
    const ns_param *p = &m->params[idx];
    if (!isfinite(value)) {
        snprintf(err, errlen, "%s.%s must be a finite number, got %g", m->name, p->name, value);
        return -1;
    }
    if (value < p->min || value > p->max) {
        snprintf(err, errlen, "%s.%s = %g %s is outside its range [%g, %g]", m->name, p->name,
                 value, p->unit, p->min, p->max);
        return -1;
    }
    return 0;
}

/* Room for one more spike (the offsets too when the buffer has them, or want is set). */
static int spikebuf_reserve(ns_spikebuf *b, int want_offset)
{
    if (want_offset && !b->offset && b->cap) {
        if (!(b->offset = malloc(b->cap * sizeof *b->offset))) return -1;
        for (size_t j = 0; j < b->n; j++) b->offset[j] = NAN;
    }
    if (b->n < b->cap) return 0;
    size_t cap = b->cap ? 2 * b->cap : 256;
    uint32_t *u = realloc(b->unit, cap * sizeof *u);
    if (!u) return -1;
    b->unit = u;
    int32_t *s = realloc(b->step, cap * sizeof *s);
    if (!s) return -1;
    b->step = s;
    if (b->offset || want_offset) {
        double *o = realloc(b->offset, cap * sizeof *o);
        if (!o) return -1;
        b->offset = o;
    }
    b->cap = cap;
    return 0;
}

int ns_spikebuf_push(ns_spikebuf *b, int32_t step, uint32_t unit)
{
    if (spikebuf_reserve(b, 0)) return -1;
    if (b->offset) b->offset[b->n] = NAN; /* a buffer of precise spikes takes ns_spikebuf_push_at only */
    b->unit[b->n] = unit;
    b->step[b->n] = step;
    b->n++;
    return 0;
}

int ns_spikebuf_push_at(ns_spikebuf *b, int32_t step, uint32_t unit, double offset)
{
    if (spikebuf_reserve(b, 1)) return -1;
    b->offset[b->n] = offset;
    b->unit[b->n] = unit;
    b->step[b->n] = step;
    b->n++;
    return 0;
}

void ns_spikebuf_release(ns_spikebuf *b)
{
    free(b->unit);
    free(b->step);
    free(b->offset);
    b->unit = NULL;
    b->step = NULL;
    b->offset = NULL;
    b->n = b->cap = 0;
}

int ns_spikebuf_push_marked(ns_spikebuf *b, int32_t step, const double *mark, double marker, size_t lo,
                            size_t hi, size_t count)
{
    enum { CHUNK = 32 };
    size_t i = lo;
    for (; count && i + CHUNK <= hi; i += CHUNK) { /* skip chunks without a mark, vectorized */
        int any = 0;
        for (size_t j = i; j < i + CHUNK; j++) any += mark[j] == marker; /* a sum vectorizes; an or did not */
        if (!any) continue;
        for (size_t j = i; j < i + CHUNK; j++)
            if (mark[j] == marker) {
                if (ns_spikebuf_push(b, step, (uint32_t)j)) return -1;
                count--;
            }
    }
    for (; count && i < hi; i++)
        if (mark[i] == marker) {
            if (ns_spikebuf_push(b, step, (uint32_t)i)) return -1;
            count--;
        }
    return 0;
}

