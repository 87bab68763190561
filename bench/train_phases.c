/* bench/train_phases.c — where an epoch of nsim.train's time goes: trains one epoch on an even
 * subset of Fashion-MNIST and prints snn.h's per-phase CPU seconds (ns_snn_phase_seconds), scaled
 * to a whole epoch of 60,000, and the input spikes the Bernoulli encoder draws in an epoch
 * (expected: T times the sum of every sample's spike probabilities; the input layer's forward
 * reads a row of 64 weights per spike and output chunk, its gradient adds one: bench/row_floor.c
 * gives the machine's ns per such row). bench/train --phases builds and runs it against
 * build/libnsim.so:
 *   train_phases NEURON T HIDDEN(,HIDDEN...) RECURRENT(0|1) THREADS SAMPLES */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/snn.h"

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: train_phases NEURON T HIDDEN[,HIDDEN...] RECURRENT THREADS SAMPLES\n");
        return 2;
    }
    char err[512];
    ns_snn_opts o;
    ns_snn_opts_default(&o);
    ns_neuron_kind kind;
    if (ns_neuron_kind_from_name(argv[1], &kind)) {
        fprintf(stderr, "train_phases: unknown neuron %s\n", argv[1]);
        return 2;
    }
    o.T = atoi(argv[2]);
    o.n_hidden = 0;
    for (char *p = argv[3]; *p && o.n_hidden < NS_SNN_MAX_LAYERS; p += *p == ',') o.hidden[o.n_hidden++] = (int)strtol(p, &p, 10);
    o.neuron = ns_neuron_opts_default(kind, o.hidden[0]);
    o.recurrent = atoi(argv[4]);
    o.threads = atoi(argv[5]);
    size_t N = (size_t)atol(argv[6]);
    ns_dataset *all, *ds;
    if (ns_dataset_load_fashion_mnist(NULL, 1, &all, err, sizeof err)) {
        fprintf(stderr, "train_phases: %s\n", err);
        return 1;
    }
    if (N < 1 || N > ns_dataset_n(all)) N = ns_dataset_n(all);
    size_t *idx = malloc(N * sizeof *idx);
    for (size_t i = 0; i < N; i++) idx[i] = i * (ns_dataset_n(all) / N);
    ns_snn *n = NULL;
    if (ns_dataset_subset(all, idx, N, &ds, err, sizeof err) || !(n = ns_snn_create(784, 10, &o, err, sizeof err))) {
        fprintf(stderr, "train_phases: %s\n", err);
        return 1;
    }
    double expected = 0; /* input spikes an epoch: each sample once, T steps */
    {
        const ns_bernoulli_params *b = &o.encoder.bernoulli;
        for (size_t i = 0; i < N; i++) {
            const float *x = ns_dataset_row(ds, i);
            for (size_t j = 0; j < ns_dataset_dim(ds); j++) expected += b->gain * fmin(fmax((x[j] - b->mean) / b->std, 0.0), 1.0);
        }
        expected *= o.T;
    }
    ns_snn_stats st;
    if (ns_snn_train_epoch(n, ds, 0, &st, err, sizeof err)) {
        fprintf(stderr, "train_phases: %s\n", err);
        return 1;
    }
    double ph[NS_SNN_PHASES], sum = 0, scale = 60000.0 / (double)N;
    ns_snn_phase_seconds(n, ph);
    for (int p = 0; p < NS_SNN_PHASES; p++) sum += ph[p];
    printf("phases %s T=%d hidden=%s recurrent=%d threads=%d: %zu samples, wall %.3f s, CPU in phases %.3f s; "
           "per epoch of 60000: wall %.2f s, CPU %.2f s\n",
           argv[1], o.T, argv[3], o.recurrent, o.threads, N, st.seconds, sum, st.seconds * scale, sum * scale);
    for (int p = 0; p < NS_SNN_PHASES; p++)
        printf("  %-38s %7.3f s CPU per epoch  %5.1f %%\n", ns_snn_phase_name(p), ph[p] * scale, 100 * ph[p] / sum);
    const double rows = expected * scale * ceil(o.hidden[0] / 64.0); /* 64-weight rows an epoch */
    printf("  input spikes per epoch (expected) %.4g; rows of 64 weights read (forward) and added (gradient) "
           "%.4g each: forward %.3f ns a row, gradient %.3f ns a row\n",
           expected * scale, rows, 1e9 * ph[NS_SNN_PHASE_FORWARD_INPUT] * scale / rows,
           1e9 * ph[NS_SNN_PHASE_GRADIENTS_INPUT] * scale / rows);
    ns_snn_free(n);
    ns_dataset_free(ds);
    ns_dataset_free(all);
    free(idx);
    return 0;
}
