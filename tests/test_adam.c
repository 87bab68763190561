/* tests/test_adam.c — Adam against steps computed by hand (PyTorch's formulas), and against its
 * defining property: the first step moves each parameter by lr against its gradient's sign. */
#include <math.h>

#include "tests/harness.h"
#include "train/adam.h"

int main(void)
{
    ns_adam a = ns_adam_make(0.1f);
    float p[2] = {1.0f, -2.0f}, m[2] = {0}, v[2] = {0};
    /* step 1, g = (0.5, -4): m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2: p -= 0.1 sign(g) */
    float g1[2] = {0.5f, -4.0f};
    ns_adam_tick(&a);
    ns_adam_update(&a, p, g1, m, v, 2);
    NS_CHECK_ABS(p[0], 0.9, 1e-6);
    NS_CHECK_ABS(p[1], -1.9, 1e-6);
    /* step 2, g = (-0.3, 1): m = 0.9 m + 0.1 g; v = 0.999 v + 0.001 g^2 */
    float g2[2] = {-0.3f, 1.0f};
    double m0 = 0.9 * 0.05 + 0.1 * -0.3, v0 = 0.999 * 0.00025 + 0.001 * 0.09;
    double m1 = 0.9 * -0.4 + 0.1 * 1.0, v1 = 0.999 * 0.016 + 0.001 * 1.0;
    double bc1 = 1 - 0.81, bc2 = 1 - 0.998001;
    double want0 = 0.9 - 0.1 * (m0 / bc1) / (sqrt(v0 / bc2) + 1e-8);
    double want1 = -1.9 - 0.1 * (m1 / bc1) / (sqrt(v1 / bc2) + 1e-8);
    ns_adam_tick(&a);
    ns_adam_update(&a, p, g2, m, v, 2);
    NS_CHECK_REL(p[0], want0, 1e-5);
    NS_CHECK_REL(p[1], want1, 1e-5);
    NS_CHECK(a.t == 2, "two ticks");
    ns_adam d = ns_adam_make(1e-3f);
    NS_CHECK(d.beta1 == 0.9f && d.beta2 == 0.999f && d.eps == 1e-8f, "PyTorch's defaults");
    NS_TEST_MAIN_END();
}
