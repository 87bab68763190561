/* train/snn.h — a layered spiking network trained by backpropagation through time: an encoder,
 * hidden layers of Linear + neurons, a readout (the mean over T of a Linear of the last hidden
 * spikes), cross-entropy plus an optional sparsity term, and Adam. float32 throughout. */
#ifndef NS_SNN_H
#define NS_SNN_H

#include <stdint.h>

#include "train/dataset.h"
#include "train/encode.h"
#include "train/layers.h"

enum { NS_SNN_MAX_LAYERS = 4 };

/* A batch is cut into shards of NS_SNN_SHARD samples (the last one takes the rest): each shard's
 * forward and backward run on their own, on any of the threads, and the shards' gradients are
 * summed in shard order. The cut depends on the batch size alone, so every thread count gives
 * the same weights to the last bit. */
enum { NS_SNN_SHARD = 32, NS_SNN_MAX_THREADS = 64 };
/* The shards of a batch of `batch` samples: ceil(batch / NS_SNN_SHARD) (0 for batch < 1). */
int ns_snn_shards(int batch);

/* Where a training run's time goes (ns_snn_phase_seconds): encoding the input; the first Linear
 * (spikes in: a weight row per spike); the neuron updates (with a recurrent layer's products);
 * the other Linears' forward, the readout and the loss; the neurons' backward through time (with
 * the recurrent products passing gradients back); the first Linear's dW and db; the other
 * Linears' backward (dW, db, dx); the shards' gradients summed, Adam, and the first layer's
 * transpose. */
enum {
    NS_SNN_PHASE_ENCODE,
    NS_SNN_PHASE_FORWARD_INPUT,
    NS_SNN_PHASE_FORWARD_NEURONS,
    NS_SNN_PHASE_FORWARD_OTHER,
    NS_SNN_PHASE_BACKWARD_NEURONS,
    NS_SNN_PHASE_GRADIENTS_INPUT,
    NS_SNN_PHASE_GRADIENTS,
    NS_SNN_PHASE_ADAM,
    NS_SNN_PHASES
};

/* The readout: logits = mean over T of a Linear of the last hidden spikes, or the maximum over
 * time of a leaky membrane driven by that Linear (layers.h's ns_readout_leaky_forward). */
typedef enum { NS_READOUT_MEAN, NS_READOUT_LEAKY } ns_readout_kind;

/* The learning rate over the epochs: constant, or cosine annealing from lr to 0 over the run
 * (PyTorch's CosineAnnealingLR with T_max the epochs, stepped once per epoch). */
typedef enum { NS_LR_CONSTANT, NS_LR_COSINE } ns_lr_schedule;

typedef struct {
    int T;                               /* steps per sample */
    int n_hidden;                        /* hidden layers, 1 .. NS_SNN_MAX_LAYERS */
    int hidden[NS_SNN_MAX_LAYERS];       /* their units */
    ns_neuron_opts neuron;               /* kind and settings of every hidden layer (units set per layer) */
    ns_encoder encoder;
    int batch;                           /* 128 */
    float lr;                            /* Adam's, 1e-3 */
    ns_lr_schedule lr_schedule;          /* NS_LR_CONSTANT */
    float sparsity;                      /* lambda of lambda * mean spike rate, 0 for none */
    uint64_t seed;                       /* initial weights and data order */
    int threads;                         /* threads over a batch's shards, 1..NS_SNN_MAX_THREADS (1);
                                            BLAS runs single-threaded inside them */
    int recurrent;                       /* 1: each hidden layer also takes its own output of the step
                                            before through an H x H Linear without bias */
    ns_readout_kind readout;             /* NS_READOUT_MEAN (UltraLIF's) or NS_READOUT_LEAKY (SpyTorch's) */
    float readout_beta, readout_alpha;   /* the leaky readout's membrane and synaptic decays per step */
} ns_snn_opts;

/* The figures of an epoch or an evaluation. */
typedef struct {
    double loss;     /* mean cross-entropy over the samples */
    double accuracy; /* fraction right */
    double rate;     /* mean hidden spike value per unit and step */
    double seconds;  /* wall time, s */
} ns_snn_stats;

/* Defaults (UltraLIF's paper setting): T 1, one hidden layer of 64 UltraLIF units, Bernoulli
 * encoding, batch 128, lr 1e-3, no sparsity, seed 1, one thread, the mean readout (the leaky
 * one's decays SpyTorch's: beta exp(-1/10), alpha exp(-1/5), for tau_mem 10 and tau_syn 5 steps). */
void ns_snn_opts_default(ns_snn_opts *o);

typedef struct ns_snn ns_snn;

/* A network for inputs of `inputs` features and `classes` classes. NULL with a message. */
ns_snn *ns_snn_create(int inputs, int classes, const ns_snn_opts *o, char *err, size_t errlen);
void ns_snn_free(ns_snn *n); /* NULL is harmless */

/* One epoch over the data set in the seeded order of `epoch` (0, 1, ...). */
int ns_snn_train_epoch(ns_snn *n, const ns_dataset *ds, int epoch, ns_snn_stats *st, char *err, size_t errlen);
/* The learning rate of epoch e (0-based) of a run of `epochs`: o->lr, or under the cosine
 * schedule o->lr (1 + cos(pi e / epochs)) / 2. */
float ns_snn_lr_at(const ns_snn_opts *o, int e, int epochs);
/* Set Adam's learning rate for the steps to come (a schedule's value for the next epoch); lr > 0. */
void ns_snn_set_lr(ns_snn *n, float lr);
/* Loss, accuracy and rate on a data set, without learning. */
int ns_snn_evaluate(ns_snn *n, const ns_dataset *ds, ns_snn_stats *st, char *err, size_t errlen);
/* The hidden spikes of layer l for sample i of ds: s[T * units]; for rasters. */
int ns_snn_hidden_spikes(ns_snn *n, const ns_dataset *ds, size_t i, int l, float *s, char *err, size_t errlen);

/* Lend the learned arrays (values and gradients, in Adam's order) into out[max]; the count. */
int ns_snn_params(ns_snn *n, ns_train_param *out, int max);
/* The mean loss over all of ds (at most `batch` samples, encoded as in epoch 0) into *loss (its
 * cross-entropy summed in double from the float32 logits), and its gradients into every
 * parameter's grad (no learning step): for gradient checks. */
int ns_snn_gradients(ns_snn *n, const ns_dataset *ds, double *loss, char *err, size_t errlen);

/* Save the network for the simulator (net:load_network), in the weights-file format of
 * models/cell_file.h, kind "snn": header T, inputs, classes, layers, hidden{l}, neuron, theta, reset,
 * recurrent, definition (the Ultra neurons': library or ablation), syn_alpha (LIF with a
 * synaptic current), and for the leaky readout readout=leaky,
 * readout_beta, readout_alpha; arrays lin{l}.W
 * (H x in), lin{l}.b, rec{l}.W (H x H, recurrent networks), decay{l} (per neuron: LIF's beta,
 * UltraLIF's ln tau, the ring's tau (library UltraDLIF and UltraDPLIF, ablation UltraDPLIF),
 * the ablation UltraDLIF's 1), eps{l} (the Ultra layers'), readout.W,
 * readout.b. */
int ns_snn_save(ns_snn *n, const char *path, char *err, size_t errlen);
/* The logits[classes] of one encoded sample x[T][inputs] (no learning): the trainer's forward. */
int ns_snn_forward(ns_snn *n, const float *x, float *logits, char *err, size_t errlen);

/* CPU seconds spent in each phase (NS_SNN_PHASE_*) since the network was made, summed over the
 * shards and threads (each thread's own CPU clock, so that other programs on a loaded machine do
 * not count in): with threads 1 they add up to nearly the CPU time of the epochs and evaluations. */
void ns_snn_phase_seconds(const ns_snn *n, double out[NS_SNN_PHASES]);
/* A phase's name ("encode", "input layer forward", ...), "?" outside 0..NS_SNN_PHASES-1. */
const char *ns_snn_phase_name(int phase);

#endif
