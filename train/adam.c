/* train/adam.c — see adam.h. The bias corrections are folded into one step size per tick, as
 * PyTorch computes them: lr sqrt(1 - beta2^t) / (1 - beta1^t), eps added to sqrt(v)/sqrt(1 - beta2^t). */
#include "train/adam.h"

#include <math.h>

ns_adam ns_adam_make(float lr) { return (ns_adam){lr, 0.9f, 0.999f, 1e-8f, 0}; }

void ns_adam_tick(ns_adam *a) { a->t++; }

void ns_adam_update(const ns_adam *a, float *p, const float *g, float *m, float *v, size_t n)
{
    const double bc1 = 1.0 - pow(a->beta1, (double)a->t), bc2 = 1.0 - pow(a->beta2, (double)a->t);
    const float step = (float)(a->lr / bc1), root_bc2 = (float)sqrt(bc2);
    const float b1 = a->beta1, b2 = a->beta2, eps = a->eps;
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) / root_bc2 + eps);
    }
}
