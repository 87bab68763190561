/* models/phase.h — the small pieces every phase model shares (kuramoto, s2net): the coupling
 * pull from a delivered (sum W sin, sum W cos) pair, and wrapping a phase into [0, 2 pi). */
#ifndef NS_PHASE_H
#define NS_PHASE_H

#include <math.h>

#define NS_TWO_PI 6.283185307179586476925286766559

/* sum_j W_ij sin(theta_j - theta_i) from the delivered sums S = sum_j W_ij sin theta_j and
 * C = sum_j W_ij cos theta_j (sin(a - b) = sin a cos b - cos a sin b), given sin and cos of
 * theta_i. Dimensionless; multiply by the coupling (rad/ms). */
static inline double ns_phase_pull(double S, double C, double sin_i, double cos_i)
{
    return S * cos_i - C * sin_i;
}

/* theta mapped into [0, 2 pi) (rad). */
static inline double ns_phase_wrap(double theta)
{
    double w = fmod(theta, NS_TWO_PI);
    if (w < 0) w += NS_TWO_PI;
    return w;
}

#endif
