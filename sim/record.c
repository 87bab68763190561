/* sim/record.c — recorders stream CSV while the run goes on: memory stays bounded by one window.
 * Every line is made whole in memory and put into a stdio buffer of our own size that is flushed
 * before a line would not fit, so what reaches the disk always ends with a whole line (the engine
 * flushes at least once per wall second and at the end of each run). Spikes are written in
 * (time, neuron) order, whatever the thread count. */
#include "sim/net_types.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IOBUF = 1 << 20, LINE_MAX_BYTES = 8192 };

static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

/* A time given in ticks of 10^-dec ms, printed with dec decimals. */
static char *put_ticks(char *p, int64_t ticks, int dec)
{
    int64_t scale = 1;
    for (int i = 0; i < dec; i++) scale *= 10;
    p = put_u64(p, (uint64_t)(ticks / scale));
    if (dec) {
        *p++ = '.';
        int64_t frac = ticks % scale;
        for (int64_t d = scale / 10; d; d /= 10) *p++ = (char)('0' + (frac / d) % 10);
    }
    return p;
}

/* Put one whole line (ending in a newline) into the file: when it might not fit in what is left
 * of the buffer, the buffer is flushed first, so stdio never writes part of a line. pending
 * overcounts after an outside fflush, which only makes this flush earlier. */
static void emit(ns_recorder *rec, const char *line, size_t len)
{
    if (rec->pending + len > IOBUF) {
        fflush(rec->fp);
        rec->pending = 0;
    }
    fwrite_unlocked(line, 1, len, rec->fp); /* one thread writes a record at a time: no lock */
    rec->pending += len;
}

void ns_recorder_emit(ns_recorder *rec, const char *line, size_t len) { emit(rec, line, len); }

char *ns_recorder_put_time(char *p, const ns_net *net, int64_t step)
{
    return put_ticks(p, step * net->time_tick, net->time_decimals);
}

/* Append ",value" (fmt for a double) or ",name" at e inside line[LINE_MAX_BYTES], keeping a byte
 * for the newline; what does not fit is cut (32 variables or 64 names fit). */
static char *put_fmt(char *line, char *e, const char *fmt, double v)
{
    size_t room = (size_t)(line + LINE_MAX_BYTES - 1 - e);
    int n = snprintf(e, room, fmt, v);
    return n < 0 ? e : e + ((size_t)n < room ? (size_t)n : room - 1);
}

static char *put_name(char *line, char *e, const char *name)
{
    size_t room = (size_t)(line + LINE_MAX_BYTES - 1 - e);
    int n = snprintf(e, room, ",%s", name);
    return n < 0 ? e : e + ((size_t)n < room ? (size_t)n : room - 1);
}

int ns_recorder_open(ns_net *net, ns_recorder *rec)
{
    int rc = ns_ctx_output_path(net->ctx, rec->file, rec->path, (int)sizeof rec->path);
    if (!rc) rc = ns_ctx_note_record(net->ctx, rec->file, net->ordinal);
    if (rc) return rc;
    if (!(rec->fp = fopen(rec->path, "w")))
        return ns_error(net->ctx, NS_EIO, "%s: cannot write: %s", rec->path, strerror(errno));
    free(rec->iobuf);
    if (!(rec->iobuf = malloc(IOBUF))) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    setvbuf(rec->fp, rec->iobuf, _IOFBF, IOBUF);
    rec->pending = 0;
    char line[LINE_MAX_BYTES], *e = line;
    switch (rec->kind) {
    case NS_REC_SPIKES:
        e += snprintf(line, sizeof line, "t_ms,neuron");
        break;
    case NS_REC_STATE:
        e += snprintf(line, sizeof line, "t_ms,neuron");
        for (int v = 0; v < rec->nvars; v++) e = put_name(line, e, rec->pops[0]->model->state[rec->vars[v]].name);
        break;
    case NS_REC_RATE:
        e += snprintf(line, sizeof line, "t_ms");
        for (int k = 0; k < rec->npops; k++) e = put_name(line, e, rec->pops[k]->name);
        rec->cur_bin = net->step / rec->bin;
        break;
    case NS_REC_SUM:
        e += snprintf(line, sizeof line, "t_ms");
        for (int k = 0; k < rec->npops; k++) e = put_name(line, e, rec->pops[k]->name);
        break;
    case NS_REC_WEIGHT: /* sim/plastic.c: the sample's places and the matrix file */
        if ((rc = ns_plastic_rec_open(net, rec))) return rc;
        e += snprintf(line, sizeof line, "t_ms,synapse,pre,post,weight");
        break;
    }
    *e++ = '\n';
    emit(rec, line, (size_t)(e - line));
    return ferror(rec->fp) ? ns_error(net->ctx, NS_EIO, "%s: write failed", rec->path) : NS_OK;
}

/* A precise time: the start of step `step` plus off ms, printed with 12 decimals (a grid time
 * exactly: the step's start in ticks of 10^-dec ms, dec <= 9, and off rounded to 10^-12 ms). */
static char *put_precise(char *p, int64_t step, double off, const ns_net *net)
{
    int64_t scale = 1, up = 1;
    for (int i = 0; i < net->time_decimals; i++) scale *= 10;
    for (int i = net->time_decimals; i < 12; i++) up *= 10;
    const int64_t ticks = step * net->time_tick, one = 1000000000000LL; /* 10^12 */
    int64_t ms = ticks / scale, frac = (ticks % scale) * up + llround(off * 1e12);
    ms += frac / one;
    frac %= one;
    p = put_u64(p, (uint64_t)ms);
    *p++ = '.';
    for (int64_t d = one / 10; d; d /= 10) *p++ = (char)('0' + (frac / d) % 10);
    return p;
}

typedef struct {
    double off;
    uint64_t id;
} precise_spike;

static int cmp_precise(const void *a, const void *b)
{
    const precise_spike *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The spikes of a record with a precise population (ns_pop.precise_out): each step's spikes in
 * (time, neuron) order, grid ones at their step's end, every time with 12 decimals. Returns -1
 * when memory runs out. */
static int write_spikes_precise(ns_net *net, ns_recorder *rec, int nsteps)
{
    size_t at[rec->npops > 0 ? rec->npops : 1], total = 0;
    memset(at, 0, sizeof at);
    for (int p = 0; p < rec->npops; p++) total += rec->pops[p]->win.n;
    precise_spike *sp = malloc((total ? total : 1) * sizeof *sp);
    if (!sp) return -1;
    char line[64];
    for (int k = 0; k < nsteps; k++) {
        size_t m = 0;
        for (int p = 0; p < rec->npops; p++) {
            const ns_pop *pop = rec->pops[p];
            for (; at[p] < pop->win.n && pop->win.step[at[p]] == k; at[p]++)
                sp[m++] = (precise_spike){pop->win.offset ? pop->win.offset[at[p]] : net->dt,
                                          pop->first_id + pop->win.unit[at[p]]};
        }
        qsort(sp, m, sizeof *sp, cmp_precise);
        for (size_t j = 0; j < m; j++) {
            char *e = put_precise(line, net->step + k, sp[j].off, net);
            *e++ = ',';
            e = put_u64(e, sp[j].id);
            *e++ = '\n';
            emit(rec, line, (size_t)(e - line));
        }
    }
    free(sp);
    return 0;
}

static void write_spikes(ns_net *net, ns_recorder *rec, int nsteps)
{
    size_t at[rec->npops > 0 ? rec->npops : 1];
    memset(at, 0, sizeof at);
    char line[64];
    for (int k = 0; k < nsteps; k++) {
        char *t = NULL; /* end of the step's "time," prefix in line, formatted at its first spike */
        for (int p = 0; p < rec->npops; p++) {
            const ns_pop *pop = rec->pops[p];
            while (at[p] < pop->win.n && pop->win.step[at[p]] == k) {
                if (!t) {
                    t = put_ticks(line, (net->step + k + 1) * net->time_tick, net->time_decimals);
                    *t++ = ',';
                }
                char *e = put_u64(t, pop->first_id + pop->win.unit[at[p]]);
                *e++ = '\n';
                emit(rec, line, (size_t)(e - line));
                at[p]++;
            }
        }
    }
}

static void write_rate_rows(ns_net *net, ns_recorder *rec, int64_t upto_bin)
{
    double bin_s = (double)rec->bin * net->dt * 1e-3;
    char line[LINE_MAX_BYTES];
    for (; rec->cur_bin < upto_bin; rec->cur_bin++) {
        char *e = put_ticks(line, rec->cur_bin * rec->bin * net->time_tick, net->time_decimals);
        for (int p = 0; p < rec->npops; p++) {
            e = put_fmt(line, e, ",%.6g", (double)rec->counts[p] / ((double)rec->pops[p]->n * bin_s));
            rec->counts[p] = 0;
        }
        *e++ = '\n';
        emit(rec, line, (size_t)(e - line));
    }
}

/* Count the window's spikes into rate bins step by step, every population at each step, so a
 * bin is written only once all its spikes are counted (a spike stamped at the end of step s is
 * in bin (s + 1) / bin, as in spikes.csv; a precise one inside step s in bin s / bin). */
static void count_rates(ns_net *net, ns_recorder *rec, int nsteps)
{
    size_t at[rec->npops > 0 ? rec->npops : 1];
    memset(at, 0, sizeof at);
    for (int k = 0; k < nsteps; k++) {
        for (int p = 0; p < rec->npops; p++) { /* precise spikes inside the step: in the bin of its start */
            const ns_pop *pop = rec->pops[p];
            if (!pop->win.offset) continue;
            for (size_t j = at[p]; j < pop->win.n && pop->win.step[j] == k; j++) rec->counts[p] += pop->win.offset[j] < net->dt;
        }
        int64_t b = (net->step + k + 1) / rec->bin;
        if (b > rec->cur_bin) write_rate_rows(net, rec, b);
        for (int p = 0; p < rec->npops; p++) { /* spikes at the step's end */
            const ns_pop *pop = rec->pops[p];
            while (at[p] < pop->win.n && pop->win.step[at[p]] == k) {
                rec->counts[p] += !pop->win.offset || !(pop->win.offset[at[p]] < net->dt);
                at[p]++;
            }
        }
    }
    write_rate_rows(net, rec, (net->step + nsteps) / rec->bin);
}

static void write_state(ns_net *net, ns_recorder *rec, int nsteps)
{
    int64_t end = net->step + nsteps;
    if (end % rec->interval) return;
    char line[LINE_MAX_BYTES];
    for (size_t u = 0; u < rec->nunits; u++) {
        const int p = rec->unit_pop[u];
        const ns_pop *pop = rec->pops[p];
        char *e = put_ticks(line, end * net->time_tick, net->time_decimals);
        *e++ = ',';
        e = put_u64(e, pop->first_id + rec->units[u]);
        for (int v = 0; v < rec->nvars; v++)
            e = put_fmt(line, e, ",%.10g", pop->state[rec->vars[p * rec->nvars + v]][rec->units[u]]);
        *e++ = '\n';
        emit(rec, line, (size_t)(e - line));
    }
}

/* The sum of each population's variable in unit order (one thread: the same for any thread
 * count), a row of them, and the summary run.json reports. */
static void write_sum(ns_net *net, ns_recorder *rec, int nsteps)
{
    int64_t end = net->step + nsteps;
    if (end % rec->interval) return;
    char line[LINE_MAX_BYTES];
    char *e = put_ticks(line, end * net->time_tick, net->time_decimals);
    for (int p = 0; p < rec->npops; p++) {
        const ns_pop *pop = rec->pops[p];
        const double *x = pop->state[rec->vars[p]];
        double sum = 0.0;
        for (size_t i = 0; i < pop->n; i++) sum += x[i];
        e = put_fmt(line, e, ",%.17g", sum);
        if (!rec->sum_samples) {
            rec->sum_first[p] = sum;
            rec->sum_dev[p] = sum != 0.0 ? 0.0 : NAN;
        } else if (rec->sum_first[p] != 0.0) {
            double dev = fabs(sum - rec->sum_first[p]) / fabs(rec->sum_first[p]);
            if (!(dev <= rec->sum_dev[p])) rec->sum_dev[p] = dev; /* a NaN sum stays NaN */
        }
        rec->sum_last[p] = sum;
    }
    if (!rec->sum_samples) rec->sum_step0 = end;
    rec->sum_step1 = end;
    rec->sum_samples++;
    *e++ = '\n';
    emit(rec, line, (size_t)(e - line));
}

int ns_recorder_window(ns_net *net, ns_recorder *rec, int nsteps)
{
    if (!rec->fp) return NS_OK;
    switch (rec->kind) {
    case NS_REC_SPIKES: {
        int precise = 0;
        for (int p = 0; p < rec->npops; p++) precise |= rec->pops[p]->precise_out;
        if (!precise) write_spikes(net, rec, nsteps);
        else if (write_spikes_precise(net, rec, nsteps)) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
        break;
    }
    case NS_REC_STATE: write_state(net, rec, nsteps); break;
    case NS_REC_RATE: count_rates(net, rec, nsteps); break;
    case NS_REC_SUM: write_sum(net, rec, nsteps); break;
    case NS_REC_WEIGHT: /* the weights as of the window's start, before its pre spikes act */
        ns_plastic_rec_window(net, rec);
        break;
    }
    if (ferror_unlocked(rec->fp)) return ns_error(net->ctx, NS_EIO, "%s: write failed", rec->path);
    return NS_OK;
}

void ns_recorder_close(ns_recorder *rec)
{
    if (!rec) return;
    if (rec->fp) fclose(rec->fp);
    free(rec->iobuf);
    free(rec->pops);
    free(rec->vars);
    free(rec->units);
    free(rec->unit_pop);
    free(rec->counts);
    free(rec->sum_first); /* sum_last and sum_dev share it */
    ns_plastic_rec_free(rec->wrec);
    free(rec);
}
