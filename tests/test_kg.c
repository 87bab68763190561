/* tests/test_kg.c — `kg_field` (MODELS.md §8(a)) against truths computed here: one eigenmode at
 * leapfrog's own discrete frequency (T1, and a damped mode against the scalar recurrence), damped
 * noise-forced power below the mass gap (T2), an m = 0 pulse against the lattice-exact sum of
 * eigenmodes (T4), the energy over 1e5 steps (T5), the refusals, 1 vs 2 threads, every level bit for
 * bit as a plain leapfrog step written here (the fast paths), and the graded output step by step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testlib.h"

static ns_pop *make_kg(ns_ctx *ctx, ns_net *net, size_t n, const char *const *names, const double *values, int k)
{
    ns_pop *pop = ns_net_add_population(net, "kg_field", n, "kg");
    NS_CHECK(pop != NULL, "kg_field population made: %s", ns_ctx_errmsg(ctx));
    if (pop && k) NS_CHECK(ns_pop_set_params(net, pop, names, values, k) == 0, "parameters: %s", ns_ctx_errmsg(ctx));
    return pop;
}

static void set_state(ns_ctx *ctx, ns_net *net, ns_pop *pop, const char *var, const double *v)
{
    NS_CHECK(ns_pop_set_state_array(net, pop, var, v) == 0, "set %s: %s", var, ns_ctx_errmsg(ctx));
}

/* Project the field onto the shape S (least squares amplitude). */
static double amplitude(const ns_pop *pop, const char *var, const double *S, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += ns_pop_get_state(pop, var, i) * S[i];
        den += S[i] * S[i];
    }
    return num / den;
}

/* T1: a mode cos(kx x + ky y) started at phi^0 = S, phi^-1 = cos(theta) S (theta = omega_num dt),
 * after N steps: its phase against theta N, and the recurrence's cos(theta) from three levels.
 * Then the same mode damped, against the scalar recurrence of the scheme. */
static void t1_mode(int nine)
{
    enum { NX = 16, NY = 8, N = NX * NY };
    const double h = 100.0, c = 100.0, m = 1.0, dt = 0.05;
    const double kx = 2 * M_PI * 3 / (NX * h), ky = 2 * M_PI * 1 / (NY * h);
    /* the stencil's lambda of the mode */
    double lam;
    if (!nine)
        lam = 4.0 / (h * h) * (pow(sin(kx * h / 2), 2) + pow(sin(ky * h / 2), 2));
    else {
        const double a = cos(kx * h), b = cos(ky * h);
        lam = (20.0 - 8.0 * (a + b) - 4.0 * a * b) / (6.0 * h * h);
    }
    const double w = sqrt(m * m + c * c * lam);
    const double theta = 2.0 * asin(dt * w / 2.0), wnum = theta / dt;
    double S[N], P[N];
    for (int iy = 0; iy < NY; iy++)
        for (int ix = 0; ix < NX; ix++) {
            S[iy * NX + ix] = cos(kx * ix * h + ky * iy * h);
            P[iy * NX + ix] = cos(theta) * S[iy * NX + ix];
        }
    const char *names[] = {"nx", "ny", "h", "c", "m", "stencil"};
    const double values[] = {NX, NY, h, c, m, nine ? 9 : 5};
    const int steps = 4000;
    {
        ns_ctx *ctx = test_ctx(1, 1);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *pop = make_kg(ctx, net, N, names, values, 6);
        set_state(ctx, net, pop, "phi", S);
        set_state(ctx, net, pop, "phi_prev", P);
        NS_CHECK(ns_net_run(net, steps * dt) == 0, "%s", ns_ctx_errmsg(ctx));
        const double aN = amplitude(pop, "phi", S, N), aN1 = amplitude(pop, "phi_prev", S, N);
        NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
        const double aN2 = amplitude(pop, "phi", S, N);
        /* a_n = cos(psi_n): a_{N-1} = cos(psi_N - theta) gives sin(psi_N) */
        double psi = atan2((aN1 - aN * cos(theta)) / sin(theta), aN);
        const double want = theta * steps;
        psi += 2 * M_PI * round((want - psi) / (2 * M_PI));
        const double wmeas = psi / (steps * dt), cos_meas = (aN2 + aN1) / (2.0 * aN);
        const double rel = fabs(wmeas - wnum) / wnum, rel_cont = fabs(wmeas - w) / w;
        NS_CHECK(rel < 1e-9 && fabs(hypot(aN, (aN * cos(theta) - aN1) / sin(theta)) - 1.0) < 1e-9,
                 "T1 %d-point: one mode for %d steps oscillates at leapfrog's omega_num = %.12g rad/ms: measured %.12g "
                 "(relative %.2g; the continuum's omega differs by %.2g), amplitude 1",
                 nine ? 9 : 5, steps, wnum, wmeas, rel, rel_cont);
        NS_CHECK(fabs(acos(cos_meas) - theta) / theta < 1e-9, "T1 %d-point: the three-level recurrence gives "
                 "theta = %.12g, leapfrog's 2 asin(dt omega / 2) = %.12g", nine ? 9 : 5, acos(cos_meas), theta);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    if (nine) return;
    /* damped: (1 + g dt) a+ = 2 a - (1 - g dt) a- - dt^2 w^2 a, from a^0 = 1, a^-1 = cos(theta) */
    const double g = 0.05;
    const char *dn[] = {"nx", "ny", "h", "c", "m", "gamma"};
    const double dv[] = {NX, NY, h, c, m, g};
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *pop = make_kg(ctx, net, N, dn, dv, 6);
    set_state(ctx, net, pop, "phi", S);
    set_state(ctx, net, pop, "phi_prev", P);
    NS_CHECK(ns_net_run(net, 1000 * dt) == 0, "%s", ns_ctx_errmsg(ctx));
    double a = 1.0, am = cos(theta);
    for (int s = 0; s < 1000; s++) {
        const double an = (2 * a - (1 - g * dt) * am - dt * dt * w * w * a) / (1 + g * dt);
        am = a;
        a = an;
    }
    const double got = amplitude(pop, "phi", S, N);
    NS_CHECK(fabs(got - a) < 1e-9 * fabs(a) + 1e-13, "T1 damped (gamma %g /ms): after 1000 steps the mode's amplitude "
             "%.12g, the scheme's scalar recurrence %.12g", g, got, a);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* T1 for F = 2: a lattice mode S times an eigenvector v of lambda C + M (C, M symmetric, coupled)
 * oscillates at leapfrog's frequency of that eigenvalue, both fields in step with amplitude v. */
static void t1_two_fields(void)
{
    enum { NX = 12, NY = 6, N = NX * NY };
    const double h = 100.0, dt = 0.05, Cee = 1.2e4, Cei = 3e3, Cii = 0.6e4, Mee = 1.5, Mei = -0.4, Mii = 0.8;
    const double kx = 2 * M_PI * 2 / (NX * h), ky = 2 * M_PI * 1 / (NY * h);
    const double lam = 4.0 / (h * h) * (pow(sin(kx * h / 2), 2) + pow(sin(ky * h / 2), 2));
    const double a = lam * Cee + Mee, b = lam * Cei + Mei, d = lam * Cii + Mii;
    const double mean = 0.5 * (a + d), r = sqrt(0.25 * (a - d) * (a - d) + b * b), w2 = mean + r;
    double v1 = b, v2 = w2 - a; /* (K - w2) v = 0 */
    const double nv = hypot(v1, v2);
    v1 /= nv, v2 /= nv;
    const double theta = 2.0 * asin(dt * sqrt(w2) / 2.0);
    double S[N], f1[N], f2[N], p1[N], p2[N];
    for (int i = 0; i < N; i++) {
        S[i] = cos(kx * (i % NX) * h + ky * (i / NX) * h);
        f1[i] = v1 * S[i], f2[i] = v2 * S[i], p1[i] = cos(theta) * f1[i], p2[i] = cos(theta) * f2[i];
    }
    const char *names[] = {"nx", "ny", "h", "F", "C_EE", "C_EI", "C_IE", "C_II", "M_EE", "M_EI", "M_IE", "M_II"};
    const double values[] = {NX, NY, h, 2, Cee, Cei, Cei, Cii, Mee, Mei, Mei, Mii};
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *pop = make_kg(ctx, net, N, names, values, 12);
    set_state(ctx, net, pop, "phi", f1);
    set_state(ctx, net, pop, "phi2", f2);
    set_state(ctx, net, pop, "phi_prev", p1);
    set_state(ctx, net, pop, "phi2_prev", p2);
    const int steps = 3000;
    NS_CHECK(ns_net_run(net, steps * dt) == 0, "%s", ns_ctx_errmsg(ctx));
    const double want = cos(theta * steps), g1 = amplitude(pop, "phi", S, N), g2 = amplitude(pop, "phi2", S, N);
    NS_CHECK(fabs(g1 - v1 * want) < 1e-9 && fabs(g2 - v2 * want) < 1e-9,
             "T1 F = 2: a coupled eigenmode after %d steps: amplitudes %.12g, %.12g; leapfrog's %.12g, %.12g", steps,
             g1, g2, v1 * want, v2 * want);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* T4: m = 0 on a periodic chain, a Gaussian pulse moving right (phi^-1 = g(x + c dt)); after N
 * steps against the lattice-exact solution: every DFT mode by its own leapfrog recurrence. */
static void t4_pulse(void)
{
    enum { NX = 64 };
    const double h = 100.0, c = 100.0, dt = 0.5, L = NX * h, width = 4 * h;
    const int steps = 400;
    double g0[NX], gm[NX], exact[NX], cont[NX];
    for (int i = 0; i < NX; i++) {
        double x = i * h - L / 2, xm = x + c * dt;
        g0[i] = exp(-x * x / (2 * width * width));
        gm[i] = exp(-xm * xm / (2 * width * width));
    }
    for (int i = 0; i < NX; i++) exact[i] = 0.0;
    for (int q = 0; q < NX; q++) { /* real DFT by hand: a_q = sum g e^{-i k x} */
        double r0 = 0, i0 = 0, rm = 0, im = 0;
        for (int j = 0; j < NX; j++) {
            const double ph = 2 * M_PI * q * j / NX;
            r0 += g0[j] * cos(ph), i0 -= g0[j] * sin(ph);
            rm += gm[j] * cos(ph), im -= gm[j] * sin(ph);
        }
        const double lam = 4.0 / (h * h) * pow(sin(M_PI * q / NX), 2), w = c * sqrt(lam);
        double rn, in;
        if (q == 0) { /* omega 0: a_n = a_0 + n (a_0 - a_-1) */
            rn = r0 + steps * (r0 - rm), in = i0 + steps * (i0 - im);
        } else {
            const double th = 2 * asin(dt * w / 2), C = cos(steps * th), Sn = sin(steps * th);
            const double br = (r0 * cos(th) - rm) / sin(th), bi = (i0 * cos(th) - im) / sin(th);
            rn = r0 * C + br * Sn, in = i0 * C + bi * Sn;
        }
        for (int j = 0; j < NX; j++) {
            const double ph = 2 * M_PI * q * j / NX;
            exact[j] += (rn * cos(ph) - in * sin(ph)) / NX;
        }
    }
    const double shift = fmod(c * steps * dt, L);
    for (int i = 0; i < NX; i++) {
        double x = i * h - L / 2 - shift;
        x -= L * round(x / L);
        cont[i] = exp(-x * x / (2 * width * width));
    }
    const char *names[] = {"nx", "ny", "h", "c", "m"};
    const double values[] = {NX, 1, h, c, 0};
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *pop = make_kg(ctx, net, NX, names, values, 5);
    set_state(ctx, net, pop, "phi", g0);
    set_state(ctx, net, pop, "phi_prev", gm);
    NS_CHECK(ns_net_run(net, steps * dt) == 0, "%s", ns_ctx_errmsg(ctx));
    double err = 0.0, errc = 0.0;
    for (int i = 0; i < NX; i++) {
        const double v = ns_pop_get_state(pop, "phi", (size_t)i);
        err = fmax(err, fabs(v - exact[i]));
        errc = fmax(errc, fabs(v - cont[i]));
    }
    NS_CHECK(err < 1e-11, "T4: an m = 0 pulse after %d steps (it travels %.0f um, %g laps) equals the lattice-exact "
             "sum of eigenmodes to %.2g (peak 1)", steps, c * steps * dt, c * steps * dt / L, err);
    NS_CHECK(errc > 1e-3 && errc < 0.2, "T4: and the continuum's rigid translation at speed c within the lattice's "
             "dispersion error: %.3g of the peak (pulse width %g h)", errc, width / h);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* H by MODELS.md's formula from two levels: h^2 sum [ v^2/2 + 1/4 (E(phi^n) + E(phi^{n-1})) ],
 * E(f) = c^2 |grad_h f|^2 + m^2 f^2 with forward differences, periodic; and the exact leapfrog
 * invariant h^2 sum [ v^2/2 + 1/2 <phi^n, K phi^{n-1}> ]. */
static void energies(const double *f, const double *g, int nx, int ny, double h, double c, double m, double dt,
                     double *H, double *inv)
{
    double sh = 0.0, si = 0.0;
    for (int y = 0; y < ny; y++)
        for (int x = 0; x < nx; x++) {
            const int i = y * nx + x, e = y * nx + (x + 1) % nx, nn = ((y + 1) % ny) * nx + x;
            const int w = y * nx + (x + nx - 1) % nx, s = ((y + ny - 1) % ny) * nx + x;
            const double v = (f[i] - g[i]) / dt;
            const double Ef = c * c * ((f[e] - f[i]) * (f[e] - f[i]) + (f[nn] - f[i]) * (f[nn] - f[i])) / (h * h) +
                              m * m * f[i] * f[i];
            const double Eg = c * c * ((g[e] - g[i]) * (g[e] - g[i]) + (g[nn] - g[i]) * (g[nn] - g[i])) / (h * h) +
                              m * m * g[i] * g[i];
            const double Kg = c * c * (4 * g[i] - g[e] - g[w] - g[nn] - g[s]) / (h * h) + m * m * g[i];
            sh += 0.5 * v * v + 0.25 * (Ef + Eg);
            si += 0.5 * v * v + 0.5 * f[i] * Kg;
        }
    *H = h * h * sh;
    *inv = h * h * si;
}

/* T5: 1e5 steps of an 8 x 8 lattice, gamma 0: the reported H (the sum of `energy`) against the
 * formula recomputed here, within an O(dt^2) band, without drift; the exact invariant to round-off. */
static void t5_energy(void)
{
    enum { NX = 8, NY = 8, N = NX * NY };
    const double h = 100.0, c = 100.0, m = 1.0, dt = 0.1;
    double f[N], g[N];
    for (int i = 0; i < N; i++) f[i] = g[i] = sin(0.7 * i) + 0.3 * cos(2.1 * i * i);
    const char *names[] = {"nx", "ny", "h", "c", "m"};
    const double values[] = {NX, NY, h, c, m};
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *pop = make_kg(ctx, net, N, names, values, 5);
    set_state(ctx, net, pop, "phi", f);
    set_state(ctx, net, pop, "phi_prev", g);
    enum { CHUNKS = 200 };
    double H[CHUNKS], inv0 = 0.0, worst_inv = 0.0, worst_rep = 0.0;
    for (int k = 0; k < CHUNKS; k++) {
        if (ns_net_run(net, 500 * dt)) {
            NS_CHECK(0, "%s", ns_ctx_errmsg(ctx));
            break;
        }
        double rep = 0.0, inv;
        for (int i = 0; i < N; i++) {
            f[i] = ns_pop_get_state(pop, "phi", (size_t)i);
            g[i] = ns_pop_get_state(pop, "phi_prev", (size_t)i);
            rep += ns_pop_get_state(pop, "energy", (size_t)i);
        }
        energies(f, g, NX, NY, h, c, m, dt, &H[k], &inv);
        if (k == 0) inv0 = inv;
        worst_inv = fmax(worst_inv, fabs(inv - inv0) / inv0);
        worst_rep = fmax(worst_rep, fabs(rep - H[k]) / H[k]);
    }
    double lo = H[0], hi = H[0], first = 0.0, last = 0.0;
    for (int k = 0; k < CHUNKS; k++) {
        lo = fmin(lo, H[k]), hi = fmax(hi, H[k]);
        if (k < CHUNKS / 2) first += H[k] / (CHUNKS / 2);
        else last += H[k] / (CHUNKS / 2);
    }
    const double wmax = sqrt(m * m + 8 * c * c / (h * h)), band = (hi - lo) / H[0];
    NS_CHECK(worst_rep < 1e-12, "T5: the reported H (sum of `energy`) equals MODELS.md's H recomputed from phi, "
             "phi_prev (worst relative %.2g)", worst_rep);
    NS_CHECK(band > 0 && band < 0.25 * (dt * wmax) * (dt * wmax),
             "T5: over 1e5 steps H stays in a band of %.3g relative, under (dt omega_max)^2 / 4 = %.3g", band,
             0.25 * (dt * wmax) * (dt * wmax));
    NS_CHECK(fabs(last - first) / H[0] < 0.1 * band, "T5: no drift: the means of the two halves differ by %.2g "
             "relative (a tenth of the band: %.2g)", fabs(last - first) / H[0], 0.1 * band);
    NS_CHECK(worst_inv < 1e-11, "T5: leapfrog's exact invariant holds to %.2g relative over 1e5 steps", worst_inv);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The same energy band at dt / 2, for the O(dt^2) claim: the band shrinks about 4-fold. */
static double band_at(double dt)
{
    enum { NX = 8, NY = 8, N = NX * NY };
    double f[N];
    for (int i = 0; i < N; i++) f[i] = sin(0.7 * i) + 0.3 * cos(2.1 * i * i);
    const char *names[] = {"nx", "ny", "h", "c", "m"};
    const double values[] = {NX, NY, 100, 100, 1};
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *pop = make_kg(ctx, net, N, names, values, 5);
    set_state(ctx, net, pop, "phi", f);
    set_state(ctx, net, pop, "phi_prev", f);
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int k = 0; k < 400 && !ns_net_run(net, 0.7); k++) {
        double H = 0.0;
        for (int i = 0; i < N; i++) H += ns_pop_get_state(pop, "energy", (size_t)i);
        lo = fmin(lo, H), hi = fmax(hi, H);
    }
    ns_net_free(net);
    test_ctx_free(ctx);
    return (hi - lo) / hi;
}

/* T2: a noise-forced chain, m = 1: the power of the site signal in [0.5 m, 0.8 m] beside the power
 * in [m, 1.5 m], for gamma 0.04, 0.02, 0.01: it shrinks as gamma does. */
static double subgap_ratio(double gamma)
{
    enum { NX = 32, T = 4096 };
    const double dt = 0.1, m = 1.0;
    const char *names[] = {"nx", "ny", "h", "c", "m", "gamma", "sigma"};
    const double values[] = {NX, 1, 100, 100, m, gamma, 0.1};
    ns_ctx *ctx = test_ctx(5, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *pop = make_kg(ctx, net, NX, names, values, 7);
    double *x = malloc(sizeof(double) * NX * T);
    int ok = ns_net_run(net, 400.0) == 0; /* 4 / gamma: near equilibrium */
    for (int t = 0; ok && t < T; t++) {
        ok = ns_net_run(net, 1.0) == 0;
        for (int i = 0; i < NX; i++) x[i * T + t] = ns_pop_get_state(pop, "phi", (size_t)i);
    }
    NS_CHECK(ok, "T2 run: %s", ns_ctx_errmsg(ctx));
    /* Hann-windowed periodogram at omega_j = 2 pi j / T (rad/ms, samples 1 ms apart) */
    double below = 0.0, above = 0.0;
    for (int j = 1; j < T / 2; j++) {
        const double om = 2 * M_PI * j / T;
        const int lowband = om >= 0.5 * m && om <= 0.8 * m, highband = om >= m && om <= 1.5 * m;
        if (!lowband && !highband) continue;
        double p = 0.0, cs[T], sn[T];
        for (int t = 0; t < T; t++) {
            const double wv = 0.5 - 0.5 * cos(2 * M_PI * t / T);
            cs[t] = wv * cos(om * t), sn[t] = wv * sin(om * t);
        }
        for (int i = 0; i < NX; i++) {
            double re = 0.0, im = 0.0;
            for (int t = 0; t < T; t++) re += x[i * T + t] * cs[t], im += x[i * T + t] * sn[t];
            p += re * re + im * im;
        }
        if (lowband) below += p;
        else above += p;
    }
    free(x);
    ns_net_free(net);
    test_ctx_free(ctx);
    return below / above;
}

/* Refusals: dt at leapfrog's bound, a bound wrongly taken with 4 in place of 8, F = 2 with C not
 * symmetric and with lambda C + M not positive semidefinite. Each one line, before any step. */
static int refused(double dt, const char *const *names, const double *values, int k, const char *want, char *msg,
                   size_t len)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *pop = ns_net_add_population(net, "kg_field", 16, "kg");
    int rc = ns_pop_set_params(net, pop, names, values, k);
    if (!rc) rc = ns_net_run(net, 10 * dt);
    snprintf(msg, len, "%s", ns_ctx_errmsg(ctx));
    const int ok = rc != 0 && strstr(msg, want) && !strchr(msg, '\n') && ns_net_time(net) == 0.0;
    ns_net_free(net);
    test_ctx_free(ctx);
    return ok;
}

static void refusals(void)
{
    char msg[1024];
    const char *n1[] = {"c", "m"};
    const double at[] = {0, 2}; /* omega_max = 2 exactly: dt 1 is at the bound */
    NS_CHECK(refused(1.0, n1, at, 2, "dt < 2/omega_max = 1 ms", msg, sizeof msg) &&
                 strstr(msg, "largest stable dt is below it: 0.999 ms"),
             "dt at the bound is refused, naming it and the largest stable dt: %s", msg);
    NS_CHECK(!refused(0.999, n1, at, 2, "", msg, sizeof msg), "dt just under it runs");
    const double wave[] = {100, 0}; /* h 100: omega_max = sqrt(8) c / h, the bound 1/sqrt(2) ms */
    NS_CHECK(refused(0.75, n1, wave, 2, "2/omega_max = 0.707106781 ms", msg, sizeof msg),
             "the 5-point bound uses lambda up to 8/h^2 (dt 0.75 refused): %s", msg);
    NS_CHECK(!refused(0.7, n1, wave, 2, "", msg, sizeof msg), "dt 0.7 under 0.7071 runs");
    const char *n9[] = {"c", "m", "stencil"};
    const double wave9[] = {100, 0, 9}; /* 9-point: lambda up to 16/(3 h^2), bound sqrt(3)/2 ms */
    NS_CHECK(refused(0.87, n9, wave9, 3, "2/omega_max = 0.866025404 ms", msg, sizeof msg) &&
                 !refused(0.86, n9, wave9, 3, "", msg, sizeof msg),
             "the 9-point bound sqrt(3)/2 ms: 0.87 refused, 0.86 runs");
    const char *n2[] = {"F", "C_EI", "C_IE"};
    const double nonsym[] = {2, 1000, 2000};
    NS_CHECK(refused(0.1, n2, nonsym, 3, "needs symmetric C and M", msg, sizeof msg),
             "F = 2 with C not symmetric is refused: %s", msg);
    const char *n3[] = {"F", "M_EI", "M_IE"};
    const double indef[] = {2, 2, 2};
    NS_CHECK(refused(0.1, n3, indef, 3, "not positive semidefinite", msg, sizeof msg),
             "F = 2 with lambda C + M indefinite is refused: %s", msg);
    const double fine[] = {2, 0.5, 0.5};
    NS_CHECK(!refused(0.1, n3, fine, 3, "", msg, sizeof msg), "F = 2 with a symmetric positive definite M runs");
    const char *nn[] = {"nx", "ny"};
    const double wrong[] = {5, 3};
    NS_CHECK(refused(0.1, nn, wrong, 2, "5 x 3 must have as many sites as the population (16)", msg, sizeof msg),
             "a lattice that is not the population's size is refused: %s", msg);
}

/* 1 vs 2 threads: F = 2 with the 9-point stencil, absorbing edges and noise, and a driven single
 * field: every state variable byte-identical. */
static void threads_identical(void)
{
    enum { NX = 24, NY = 10, N = NX * NY };
    const char *names[] = {"nx", "ny", "F", "C_EI", "C_IE", "M_EI", "M_IE", "stencil", "boundary", "sponge_width",
                           "gamma", "gamma2", "sigma"};
    const double values[] = {NX, NY, 2, 3000, 3000, 0.3, 0.3, 9, 2, 4, 0.01, 0.02, 0.05};
    const char *vars[] = {"phi", "phi_prev", "phi2", "phi2_prev", "energy"};
    double *out[2];
    for (int th = 1; th <= 2; th++) {
        ns_ctx *ctx = test_ctx(9, th);
        ns_net *net = ns_net_create(ctx, 0.1);
        ns_pop *pop = make_kg(ctx, net, N, names, values, 13);
        double f[N];
        for (int i = 0; i < N; i++) f[i] = exp(-0.05 * ((i % NX - 12) * (i % NX - 12) + (i / NX - 5) * (i / NX - 5)));
        set_state(ctx, net, pop, "phi", f);
        set_state(ctx, net, pop, "phi_prev", f);
        double times[] = {0.0, 7.0}, amps[] = {2.0, 0.0};
        NS_CHECK(ns_net_add_current(net, pop, 2, times, amps) == 0, "a current device drives s: %s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_run(net, 25.0) == 0, "%s", ns_ctx_errmsg(ctx));
        out[th - 1] = malloc(sizeof(double) * 5 * N);
        for (int v = 0; v < 5; v++)
            for (int i = 0; i < N; i++) out[th - 1][v * N + i] = ns_pop_get_state(pop, vars[v], (size_t)i);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    double e = 0.0, moved = 0.0;
    for (int i = 0; i < N; i++) e += out[0][4 * N + i], moved += fabs(out[0][2 * N + i]);
    NS_CHECK(!memcmp(out[0], out[1], sizeof(double) * 5 * N) && moved > 0 && isfinite(e),
             "F = 2, 9-point, absorbing, noise, a driven source: 1 and 2 threads give the same bytes "
             "(field 2 moved: sum |phi2| %.3g; H %.4g)", moved, e);
    free(out[0]);
    free(out[1]);
}

/* A plain leapfrog step of the whole lattice, written from the scheme (docs/models.md) and not from
 * the model: force_f = s_f + sum_b (C_fb Lap phi_b - M_fb phi_b), phi^{n+1} = (2 phi^n -
 * (1 - gamma_f dt) phi^{n-1} + dt^2 force_f) / (1 + gamma_f dt), neighbours wrapped (periodic) or
 * mirrored onto the edge site (reflecting), the 9-point Laplacian (4 edges + corners - 20 phi)/(6
 * h^2). In the same order of operations as any straightforward writing of it, hence the same bits. */
typedef struct {
    int nx, ny, F, nine, per;
    double h, dt, C[2][2], M[2][2], gam[2];
} ref_lattice;

static int ref_nb(int i, int n, int per, int dir)
{
    const int j = i + dir;
    return j < 0 ? (per ? n - 1 : 0) : j >= n ? (per ? 0 : n - 1) : j;
}

static double ref_lap(const ref_lattice *L, const double *g, int x, int y)
{
    const int xm = ref_nb(x, L->nx, L->per, -1), xp = ref_nb(x, L->nx, L->per, 1);
    const int ym = ref_nb(y, L->ny, L->per, -1), yp = ref_nb(y, L->ny, L->per, 1);
#define G(xx, yy) g[(size_t)(yy) * (size_t)L->nx + (size_t)(xx)]
    const double edges = G(xm, y) + G(xp, y) + G(x, ym) + G(x, yp);
    const double l = L->nine ? (4.0 * edges + G(xm, ym) + G(xp, ym) + G(xm, yp) + G(xp, yp) - 20.0 * G(x, y)) / 6.0
                             : edges - 4.0 * G(x, y);
#undef G
    return 1.0 / (L->h * L->h) * l;
}

/* phi[f], prev[f] advanced by one step under the source s (added to field 1's equation). */
static void ref_step(const ref_lattice *L, double *phi[2], double *prev[2], double s, double *tmp[2])
{
    const size_t n = (size_t)L->nx * (size_t)L->ny;
    for (int y = 0; y < L->ny; y++)
        for (int x = 0; x < L->nx; x++) {
            const size_t i = (size_t)y * (size_t)L->nx + (size_t)x;
            double lap[2] = {0.0, 0.0};
            for (int f = 0; f < L->F; f++) lap[f] = ref_lap(L, phi[f], x, y);
            for (int f = 0; f < L->F; f++) {
                double force = 0.0;
                if (f == 0 && s != 0.0) force += s;
                for (int b = 0; b < L->F; b++) force += L->C[f][b] * lap[b] - L->M[f][b] * phi[b][i];
                const double g = L->gam[f] * L->dt;
                tmp[f][i] = (2.0 * phi[f][i] - (1.0 - g) * prev[f][i] + L->dt * L->dt * force) / (1.0 + g);
            }
        }
    for (int f = 0; f < L->F; f++)
        for (size_t i = 0; i < n; i++) prev[f][i] = phi[f][i], phi[f][i] = tmp[f][i];
}

/* The energy shares of the state (docs/models.md): h^2 [1/2 |v|^2 + 1/4 (q(phi^n) + q(phi^{n-1}))]. */
static double ref_energy(const ref_lattice *L, double *phi[2], double *prev[2], int x, int y)
{
    const size_t i = (size_t)y * (size_t)L->nx + (size_t)x;
    double kin = 0.0, pot = 0.0;
    for (int f = 0; f < L->F; f++) {
        const double v = (phi[f][i] - prev[f][i]) * (1.0 / L->dt);
        kin += v * v;
    }
    for (int t = 0; t < 2; t++) {
        double *const *g = t ? prev : phi;
        for (int f = 0; f < L->F; f++)
            for (int b = 0; b < L->F; b++) pot += g[f][i] * (L->C[f][b] * -ref_lap(L, g[b], x, y) + L->M[f][b] * g[b][i]);
    }
    return L->h * L->h * (0.5 * kin + 0.25 * pot);
}

/* The model against ref_step: F = 1 and 2, 5 and 9 points, periodic and reflecting, with and without
 * damping and a current source, on an NX x NY lattice whose thread blocks end mid-row, over runs of
 * 23, 1, 7 and 10 steps (windows of odd and even lengths): every level bit for bit, and the energy. */
static void fast_vs_reference(int NX, int NY)
{
    enum { NMAX = 400 };
    const int N = NX * NY;
    const struct {
        int F, nine, per;
        double gam, gam2, C_EI, M_EI, amp;
    } cases[] = {
        {1, 0, 1, 0.0, 0.0, 0, 0, 0.0},    {1, 1, 0, 0.05, 0.0, 0, 0, 0.0},   {1, 0, 0, 0.0, 0.0, 0, 0, 1.5},
        {1, 1, 1, 0.02, 0.0, 0, 0, -2.0},  {2, 1, 1, 0.03, 0.01, 2000, 0.2, 0.0}, {2, 0, 0, 0.0, 0.0, 3000, 0.3, 1.0},
        {2, 0, 1, 0.0, 0.04, -1000, 0.1, 0.0},
    };
    const int runs[] = {23, 1, 7, 10};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int th = 1; th <= 2; th++) {
            ref_lattice L = {NX, NY, cases[c].F, cases[c].nine, cases[c].per, 100.0, 0.1,
                             {{1e4, 0}, {0, 0}}, {{1.0, 0}, {0, 0}}, {cases[c].gam, cases[c].gam2}};
            if (L.F == 2) {
                L.C[0][1] = L.C[1][0] = cases[c].C_EI, L.C[1][1] = 1.2e4;
                L.M[0][1] = L.M[1][0] = cases[c].M_EI, L.M[1][1] = 0.8;
            }
            const char *names[] = {"nx", "ny", "F", "stencil", "boundary", "gamma", "gamma2", "C_EI", "C_IE", "M_EI",
                                   "M_IE", "C_II", "M_II"};
            const double values[] = {NX, NY, L.F, L.nine ? 9 : 5, L.per ? 0 : 1, L.gam[0], L.gam[1], L.C[0][1],
                                     L.C[1][0], L.M[0][1], L.M[1][0], L.F == 2 ? L.C[1][1] : 1e4,
                                     L.F == 2 ? L.M[1][1] : 1.0};
            ns_ctx *ctx = test_ctx(3, th);
            ns_net *net = ns_net_create(ctx, L.dt);
            ns_pop *pop = make_kg(ctx, net, (size_t)N, names, values, 13);
            static double lv[4][NMAX], tmpv[2][NMAX];
            double *phi[2] = {lv[0], lv[1]}, *prev[2] = {lv[2], lv[3]}, *tmp[2] = {tmpv[0], tmpv[1]};
            for (int i = 0; i < N; i++) {
                phi[0][i] = sin(0.7 * i) + 0.1 * (i % 5), prev[0][i] = cos(0.3 * i);
                phi[1][i] = L.F == 2 ? cos(1.1 * i) : 0.0, prev[1][i] = L.F == 2 ? sin(0.2 * i + 1) : 0.0;
            }
            set_state(ctx, net, pop, "phi", phi[0]);
            set_state(ctx, net, pop, "phi_prev", prev[0]);
            set_state(ctx, net, pop, "phi2", phi[1]);
            set_state(ctx, net, pop, "phi2_prev", prev[1]);
            if (cases[c].amp != 0.0) { /* steps 0 .. 6 */
                double times[] = {0.0, 0.7}, amps[] = {cases[c].amp, 0.0};
                NS_CHECK(ns_net_add_current(net, pop, 2, times, amps) == 0, "%s", ns_ctx_errmsg(ctx));
            }
            int step = 0, same = 1;
            double erel = 0.0; /* the energy's largest difference over its largest share (h^2 is 1/(1/h^2) there) */
            for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
                NS_CHECK(ns_net_run(net, runs[r] * L.dt) == 0, "%s", ns_ctx_errmsg(ctx));
                for (int k = 0; k < runs[r]; k++, step++) ref_step(&L, phi, prev, step < 7 ? cases[c].amp : 0.0, tmp);
                double emax = 0.0, dmax = 0.0;
                for (int i = 0; i < N; i++) {
                    const double got[4] = {ns_pop_get_state(pop, "phi", (size_t)i),
                                           ns_pop_get_state(pop, "phi_prev", (size_t)i),
                                           ns_pop_get_state(pop, "phi2", (size_t)i),
                                           ns_pop_get_state(pop, "phi2_prev", (size_t)i)};
                    const double want[4] = {phi[0][i], prev[0][i], phi[1][i], prev[1][i]};
                    same &= !memcmp(got, want, sizeof got);
                    const double e = ref_energy(&L, phi, prev, i % NX, i / NX),
                                 d = fabs(ns_pop_get_state(pop, "energy", (size_t)i) - e);
                    if (d > dmax) dmax = d;
                    if (fabs(e) > emax) emax = fabs(e);
                }
                if (!(dmax <= erel * emax)) erel = dmax / emax;
            }
            NS_CHECK(same && erel < 1e-13,
                     "kg_field %d x %d (F = %d, %d-point, %s, gamma %g/%g, source %g), %d thread(s), after runs of "
                     "23, 1, 7 and 10 steps: every level bit for bit as a plain leapfrog step written here (%s), the "
                     "energy shares to %.2g of the largest", NX, NY, L.F, L.nine ? 9 : 5, L.per ? "periodic" : "reflecting", L.gam[0],
                     L.gam[1], cases[c].amp, th, same ? "same" : "DIFFERENT", erel);
            ns_net_free(net);
            test_ctx_free(ctx);
        }
}

/* The graded output (phi of each step, the level it made) one to one into `integrator`s that sum
 * what arrives D steps later: against the sum of ref_step's levels, F = 1 and F = 2, 1 and 2 threads. */
static void graded_output(void)
{
    enum { NX = 13, NY = 7, N = NX * NY, D = 3, T = 41 };
    for (int F = 1; F <= 2; F++)
        for (int th = 1; th <= 2; th++) {
            ref_lattice L = {NX, NY, F, F == 2, 1, 100.0, 0.1, {{1e4, 500}, {500, 9e3}}, {{1.0, 0.1}, {0.1, 0.7}},
                             {F == 2 ? 0.02 : 0.0, 0.01}};
            if (F == 1) L.C[0][1] = L.C[1][0] = L.C[1][1] = L.M[0][1] = L.M[1][0] = L.M[1][1] = 0.0;
            const char *names[] = {"nx", "ny", "F", "stencil", "gamma", "gamma2", "C_EI", "C_IE", "M_EI", "M_IE",
                                   "C_II", "M_II"};
            const double values[] = {NX, NY, F, F == 2 ? 9 : 5, L.gam[0], L.gam[1], 500, 500, 0.1, 0.1, 9e3, 0.7};
            ns_ctx *ctx = test_ctx(5, th);
            ns_net *net = ns_net_create(ctx, L.dt);
            ns_pop *pop = make_kg(ctx, net, N, names, values, 12);
            ns_pop *sum = ns_net_add_population(net, "integrator", N, "sum");
            static double lv[4][N], tmpv[2][N];
            double *phi[2] = {lv[0], lv[1]}, *prev[2] = {lv[2], lv[3]}, *tmp[2] = {tmpv[0], tmpv[1]};
            for (int i = 0; i < N; i++) {
                phi[0][i] = cos(0.4 * i), prev[0][i] = cos(0.4 * i + 0.05);
                phi[1][i] = F == 2 ? sin(0.9 * i) : 0.0, prev[1][i] = F == 2 ? sin(0.9 * i - 0.1) : 0.0;
            }
            set_state(ctx, net, pop, "phi", phi[0]);
            set_state(ctx, net, pop, "phi_prev", prev[0]);
            set_state(ctx, net, pop, "phi2", phi[1]);
            set_state(ctx, net, pop, "phi2_prev", prev[1]);
            uint32_t idx[N];
            for (int i = 0; i < N; i++) idx[i] = (uint32_t)i;
            ns_graded_spec gs = {.delay_ms = D * L.dt, .n_edges = N, .pre = idx, .post = idx};
            NS_CHECK(sum && ns_net_connect_graded_spec(net, pop, sum, &gs) == 0, "%s", ns_ctx_errmsg(ctx));
            NS_CHECK(ns_net_run(net, T * L.dt) == 0, "%s", ns_ctx_errmsg(ctx));
            double want[N] = {0}, worst = 0.0, scale = 0.0;
            for (int s = 0; s + D < T; s++) { /* step s sends the level it made */
                ref_step(&L, phi, prev, 0.0, tmp);
                for (int i = 0; i < N; i++) want[i] += phi[0][i];
            }
            for (int i = 0; i < N; i++) {
                const double d = fabs(ns_pop_get_state(sum, "sum", (size_t)i) - want[i]);
                if (d > worst) worst = d;
                if (fabs(want[i]) > scale) scale = fabs(want[i]);
            }
            NS_CHECK(worst <= 1e-12 * scale, "kg_field F = %d, %d thread(s): the graded output, summed by integrators "
                     "%d steps later over %d steps, is the sum of the levels each step made (largest difference %.3g "
                     "of %.3g)", F, th, D, T - D, worst, scale);
            ns_net_free(net);
            test_ctx_free(ctx);
        }
}

int main(void)
{
    t1_mode(0);
    t1_mode(1);
    t1_two_fields();
    t4_pulse();
    t5_energy();
    const double b1 = band_at(0.1), b2 = band_at(0.05);
    NS_CHECK(b1 / b2 > 3.0 && b1 / b2 < 5.0, "T5: the energy band is O(dt^2): %.3g at dt 0.1, %.3g at dt 0.05 "
             "(ratio %.2f)", b1, b2, b1 / b2);
    const double r4 = subgap_ratio(0.04), r2 = subgap_ratio(0.02), r1 = subgap_ratio(0.01);
    NS_CHECK(r4 > r2 && r2 > r1 && r4 > 2.0 * r1, "T2: power in [0.5 m, 0.8 m] over that in [m, 1.5 m] shrinks "
             "with gamma: %.3g (0.04), %.3g (0.02), %.3g (0.01)", r4, r2, r1);
    refusals();
    threads_identical();
    fast_vs_reference(13, 7);
    fast_vs_reference(9, 40); /* a second step that follows the first inside each thread's block */
    graded_output();
    NS_TEST_MAIN_END();
}
