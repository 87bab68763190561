/* train/adam.h — the Adam optimizer (Kingma & Ba 2015) over float32 parameter arrays, with
 * PyTorch's defaults and bias correction; the moments are owned by the caller's state. */
#ifndef NS_ADAM_H
#define NS_ADAM_H

#include <stddef.h>

typedef struct {
    float lr, beta1, beta2, eps; /* PyTorch's defaults: 1e-3, 0.9, 0.999, 1e-8 */
    long t;                      /* steps taken; the next step is t + 1 */
} ns_adam;

/* Defaults, with learning rate lr. */
ns_adam ns_adam_make(float lr);

/* Count one optimizer step: call it once per step, before the ns_adam_update of every array. */
void ns_adam_tick(ns_adam *a);
/* The step on n parameters p with gradient g; m and v (n each, zero at the start) are the first
 * and second moment estimates, updated in place. */
void ns_adam_update(const ns_adam *a, float *p, const float *g, float *m, float *v, size_t n);

#endif
