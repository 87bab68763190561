/* tests/test_cells.c — the CfC and LTC cells against MODELS.md's reference values (computed with
 * ncps's code), hand-derived small cases, the LTC Jacobian against finite differences, the fused
 * solver against RK4 as K grows, the wired CfC against ncps's per-layer cells, save/load bit-exact
 * round trips, the NCP wiring's rules, and refusals of bad input with their messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/cell_file.h"
#include "models/cfc_cell.h"
#include "models/ltc_cell.h"
#include "tests/harness.h"

static char err[512];
static char dir[512];

static void path_in(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

static void set(ns_cfc_cell *c, const char *name, const double *v, size_t n)
{
    NS_CHECK(ns_cfc_set(c, name, v, n, err, sizeof err) == 0, "set %s: %s", name, err);
}

static void lset(ns_ltc_cell *c, const char *name, const double *v, size_t n)
{
    NS_CHECK(ns_ltc_set(c, name, v, n, err, sizeof err) == 0, "set %s: %s", name, err);
}

static double sig(double x) { return 1 / (1 + exp(-x)); }

/* ---------------------------------------------------------------- CfC */

/* MODELS.md §5: 1 input, 1 unit, no backbone; each head one weight on both of [u ; h] plus a bias. */
static ns_cfc_cell *tiny_cfc(ns_cfc_mode mode)
{
    ns_cfc_opts o;
    ns_cfc_opts_default(&o, 1, 1);
    o.backbone_layers = 0;
    o.mode = mode;
    ns_cfc_cell *c = ns_cfc_create(&o, err, sizeof err);
    NS_CHECK(c != NULL, "create: %s", err);
    const char *head[] = {"ff1", "ff2", "time_a", "time_b"};
    double w[] = {0.5, -0.3, 0.7, 0.2}, b[] = {0.1, 0.2, -0.1, 0.05};
    for (int h = 0; h < (mode == NS_CFC_PURE ? 1 : 4); h++) {
        char name[32];
        double ww[2] = {w[h], w[h]};
        snprintf(name, sizeof name, "%s.W", head[h]);
        set(c, name, ww, 2);
        snprintf(name, sizeof name, "%s.b", head[h]);
        set(c, name, &b[h], 1);
    }
    if (mode == NS_CFC_PURE) {
        double A = 1, wt = 0.5;
        set(c, "A", &A, 1);
        set(c, "w_tau", &wt, 1);
    }
    return c;
}

static void cfc_reference(void)
{
    const double want[2][4] = {{0.0909861643, 0.1332842998, -0.0270488405, 0.0698219831},
                               {0.4672254448, 0.4738465443, 0.4487489445, 0.4984056023}};
    const double ts[3] = {1, 0.5, 3};
    for (int m = 0; m < 2; m++) {
        ns_cfc_cell *c = tiny_cfc(m == 0 ? NS_CFC_DEFAULT : NS_CFC_NO_GATE);
        double u = 1, h0 = 0, h, h2;
        for (int k = 0; k < 3; k++) {
            ns_cfc_step(c, &u, &h0, NULL, ts[k], &h, NULL);
            NS_CHECK_ABS(h, want[m][k], 1e-9);
        }
        ns_cfc_step(c, &u, &h0, NULL, 1, &h, NULL);
        ns_cfc_step(c, &u, &h, NULL, 1, &h2, NULL);
        NS_CHECK_ABS(h2, want[m][3], 1e-9);
        ns_cfc_step(c, &u, &h, NULL, 1, &h, NULL); /* aliasing h_in and h_out */
        NS_CHECK_ABS(h, want[m][3], 1e-9);
        ns_cfc_free(c);
    }
    ns_cfc_cell *c = tiny_cfc(NS_CFC_PURE);
    double u = 1, h0 = 0, h;
    ns_cfc_step(c, &u, &h0, NULL, 1, &h, NULL);
    NS_CHECK_ABS(h, 0.8002773498, 1e-9);
    ns_cfc_step(c, &u, &h0, NULL, 0.5, &h, NULL);
    NS_CHECK_ABS(h, 0.6538301138, 1e-9);
    ns_cfc_free(c);
}

/* A backbone layer and the mixed-memory LSTM, derived by hand for 1 input and 1 unit. */
static void cfc_backbone_lstm(void)
{
    for (int act = NS_CFC_LECUN_TANH; act <= NS_CFC_GELU; act++) {
        ns_cfc_opts o;
        ns_cfc_opts_default(&o, 1, 1);
        o.backbone_units = 2;
        o.activation = (ns_cfc_activation)act;
        o.mixed_memory = 1;
        ns_cfc_cell *c = ns_cfc_create(&o, err, sizeof err);
        NS_CHECK(c != NULL, "create: %s", err);
        double W0[4] = {0.3, -0.2, 0.5, 0.4}, b0[2] = {0.1, -0.3};
        double Win[4] = {0.2, -0.4, 0.6, 0.1}, bin[4] = {0.05, 0.1, -0.2, 0.3}, Wrec[4] = {0.7, 0.2, -0.5, 0.4};
        double Wh[4][2] = {{0.5, -0.2}, {-0.3, 0.6}, {0.7, 0.1}, {0.2, -0.4}}, bh[4] = {0.1, 0.2, -0.1, 0.05};
        set(c, "backbone0.W", W0, 4);
        set(c, "backbone0.b", b0, 2);
        set(c, "lstm.W_in", Win, 4);
        set(c, "lstm.b_in", bin, 4);
        set(c, "lstm.W_rec", Wrec, 4);
        const char *hw[] = {"ff1.W", "ff2.W", "time_a.W", "time_b.W"}, *hb[] = {"ff1.b", "ff2.b", "time_a.b", "time_b.b"};
        for (int h = 0; h < 4; h++) {
            set(c, hw[h], Wh[h], 2);
            set(c, hb[h], &bh[h], 1);
        }
        double u = 0.8, h_in = -0.3, c_in = 0.25, t = 0.7, h_out, c_out;
        ns_cfc_step(c, &u, &h_in, &c_in, t, &h_out, &c_out);
        /* LSTM: gates i, ig, fg, og; forget bias +1 */
        double z[4];
        for (int r = 0; r < 4; r++) z[r] = Win[r] * u + bin[r] + Wrec[r] * h_in;
        double cn = c_in * sig(z[2] + 1) + tanh(z[0]) * sig(z[1]);
        double hl = tanh(cn) * sig(z[3]);
        double bb[2];
        for (int k = 0; k < 2; k++) {
            double a = W0[2 * k] * u + W0[2 * k + 1] * hl + b0[k];
            bb[k] = act == NS_CFC_LECUN_TANH ? 1.7159 * tanh(0.666 * a)
                    : act == NS_CFC_TANH     ? tanh(a)
                    : act == NS_CFC_RELU     ? fmax(a, 0)
                    : act == NS_CFC_SILU     ? a / (1 + exp(-a))
                                             : 0.5 * a * (1 + erf(a / sqrt(2)));
        }
        double y[4];
        for (int h = 0; h < 4; h++) y[h] = Wh[h][0] * bb[0] + Wh[h][1] * bb[1] + bh[h];
        double g = sig(y[2] * t + y[3]);
        double want = tanh(y[0]) * (1 - g) + g * tanh(y[1]);
        NS_CHECK_ABS(c_out, cn, 1e-14);
        NS_CHECK_ABS(h_out, want, 1e-14);
        ns_cfc_free(c);
    }
}

/* Initialisation: ranges, masked weights 0, the LSTM's recurrent matrix orthonormal columns. */
static void cfc_init(void)
{
    ns_cfc_opts o;
    ns_cfc_opts_default(&o, 5, 7);
    o.mixed_memory = 1;
    o.backbone_units = 16;
    ns_cfc_cell *c = ns_cfc_create(&o, err, sizeof err);
    NS_CHECK(c != NULL, "create: %s", err);
    ns_cfc_init(c, 42);
    size_t n;
    const double *W = ns_cfc_get(c, "backbone0.W", &n), *b = ns_cfc_get(c, "ff1.b", NULL);
    double lim = sqrt(6.0 / (12 + 16)), mx = 0;
    for (size_t k = 0; k < n; k++) mx = fmax(mx, fabs(W[k]));
    NS_CHECK(n == 16 * 12 && mx <= lim && mx > 0.8 * lim, "backbone0.W: %zu values, max %g, bound %g", n, mx, lim);
    mx = 0;
    for (size_t k = 0; k < 7; k++) mx = fmax(mx, fabs(b[k]));
    NS_CHECK(mx <= 0.25 && mx > 0, "ff1.b max %g, bound 1/sqrt(16)", mx);
    const double *R = ns_cfc_get(c, "lstm.W_rec", &n);
    double worst = 0;
    for (size_t p = 0; p < 7; p++)
        for (size_t q = 0; q < 7; q++) {
            double d = 0;
            for (size_t r = 0; r < 28; r++) d += R[r * 7 + p] * R[r * 7 + q];
            worst = fmax(worst, fabs(d - (p == q)));
        }
    NS_CHECK(n == 28 * 7 && worst < 1e-12, "W_rec^T W_rec - I: %g", worst);
    const double *bin = ns_cfc_get(c, "lstm.b_in", &n);
    mx = 0;
    for (size_t k = 0; k < n; k++) mx = fmax(mx, fabs(bin[k]));
    NS_CHECK(mx <= 0.1, "lstm.b_in max %g", mx);
    /* the same seed gives the same weights */
    ns_cfc_cell *d = ns_cfc_create(&o, err, sizeof err);
    ns_cfc_init(d, 42);
    NS_CHECK(memcmp(ns_cfc_get(d, "ff2.W", &n), ns_cfc_get(c, "ff2.W", NULL), n * sizeof(double)) == 0,
             "init is not a function of the seed");
    ns_cfc_free(c);
    ns_cfc_free(d);
}

/* ---------------------------------------------------------------- NCP wiring */

static void wiring_rules(void)
{
    ns_ncp_wiring w;
    NS_CHECK(ns_ncp_wiring_auto(&w, 6, 16, 4, 0.5, 7, err, sizeof err) == 0, "auto: %s", err);
    /* ncps's AutoNCP(16, 4, 0.5): command int(0.4 * 12) = 4, inter 8, sensory fan-out 4,
     * inter fan-out 2, motor fan-in 2 */
    NS_CHECK(w.inter == 8 && w.command == 4 && w.motor == 4, "layers %zu %zu %zu", w.inter, w.command, w.motor);
    size_t N = 16, m = 4, cm = 8, bad = 0;
    int layer[16];
    for (size_t i = 0; i < N; i++) layer[i] = i < m ? 2 : i < cm ? 1 : 0; /* 0 inter, 1 command, 2 motor */
    for (size_t k = 0; k < 6; k++) {
        size_t out = 0;
        for (size_t i = 0; i < N; i++)
            if (w.sensory[k * N + i]) {
                out++;
                bad += layer[i] != 0;
            }
        bad += out < 4;
    }
    for (size_t i = cm; i < N; i++) { /* every inter unit reached */
        size_t in = 0;
        for (size_t k = 0; k < 6; k++) in += w.sensory[k * N + i] != 0;
        bad += in == 0;
    }
    size_t inter_out[16] = {0}, in_count[16] = {0}, out_count[16] = {0};
    for (size_t j = 0; j < N; j++)
        for (size_t i = 0; i < N; i++) {
            int p = w.adj[j * N + i];
            if (!p) continue;
            bad += !(p == 1 || p == -1);
            int lj = layer[j], li = layer[i];
            bad += !((lj == 0 && li == 1) || (lj == 1 && li == 1) || (lj == 1 && li == 2));
            if (lj == 0) inter_out[j]++;
            if (lj != li) in_count[i]++, out_count[j]++;
        }
    for (size_t i = 0; i < N; i++) {
        if (layer[i] == 0) bad += inter_out[i] < 2;
        if (layer[i] == 1) bad += in_count[i] == 0 || out_count[i] == 0;
        if (layer[i] == 2) bad += in_count[i] < 2;
    }
    NS_CHECK(bad == 0, "%zu NCP wiring rules broken", bad);
    ns_ncp_wiring_release(&w);
    NS_CHECK(ns_ncp_wiring_auto(&w, 6, 16, 14, 0.5, 7, err, sizeof err) == -1 && strstr(err, "motor"), "%s", err);
    NS_CHECK(ns_ncp_wiring_ncp(&w, 3, 4, 3, 2, 5, 1, 1, 1, 1, err, sizeof err) == -1 && strstr(err, "sensory_fanout"),
             "%s", err);
    /* fully connected: about a third inhibitory */
    NS_CHECK(ns_ncp_wiring_full(&w, 10, 30, 1, 3, err, sizeof err) == 0, "full: %s", err);
    size_t neg = 0, zero = 0;
    for (size_t k = 0; k < 900; k++) neg += w.adj[k] == -1, zero += w.adj[k] == 0;
    NS_CHECK(zero == 0 && neg > 240 && neg < 360, "full wiring: %zu of 900 inhibitory, %zu absent", neg, zero);
    ns_ncp_wiring_release(&w);
}

/* The layered wired CfC equals ncps's WiredCfCCell: one dense CfC per layer, layer l reading
 * [new h of layer l-1 ; own h]. Rebuild those cells from the blocks of the flat one and compare. */
static void cfc_wired(void)
{
    ns_ncp_wiring w;
    const size_t M = 3;
    NS_CHECK(ns_ncp_wiring_auto(&w, M, 12, 3, 0.5, 11, err, sizeof err) == 0, "auto: %s", err);
    ns_cfc_opts o;
    ns_cfc_opts_default(&o, M, 12);
    o.backbone_layers = 0;
    o.wiring = &w;
    o.layered = 1;
    ns_cfc_cell *c = ns_cfc_create(&o, err, sizeof err);
    NS_CHECK(c != NULL, "create: %s", err);
    ns_cfc_init(c, 5);
    const ns_cfc_opts *co = ns_cfc_opts_of(c);
    NS_CHECK(co->n_groups == 3, "groups %zu", co->n_groups);
    size_t N = 12, K = M + N, first[3], cnt[3];
    for (int l = 0; l < 3; l++) first[l] = co->groups[2 * l], cnt[l] = co->groups[2 * l + 1];
    NS_CHECK(cnt[0] == w.inter && cnt[1] == w.command && cnt[2] == w.motor && first[2] == N - w.motor,
             "layer layout %zu %zu %zu", cnt[0], cnt[1], cnt[2]);
    /* the ff1 mask between layers is the wiring's synapses (inter state s = wiring id motor + command + s) */
    const double *mask = ns_cfc_get(c, "ff1.mask", NULL);
    size_t syn = 0, want = 0;
    for (size_t i = first[1]; i < N; i++)
        for (size_t k = 0; k < K; k++) syn += mask[i * K + k] != 0;
    for (size_t l = 1; l < 3; l++) syn -= cnt[l] * cnt[l]; /* own-layer blocks */
    for (size_t j = 0; j < N; j++)
        for (size_t i = 0; i < N; i++) {
            int lj = j < w.motor ? 2 : j < w.motor + w.command ? 1 : 0, li = i < w.motor ? 2 : i < w.motor + w.command ? 1 : 0;
            want += w.adj[j * N + i] != 0 && li == lj + 1;
        }
    NS_CHECK(syn == want, "inter-layer mask entries %zu, wiring synapses %zu", syn, want);

    double u[3] = {0.4, -1.0, 0.7}, h[12], h_ref[12], h_out[12];
    for (size_t i = 0; i < N; i++) h[i] = 0.1 * (double)i - 0.5;
    ns_cfc_step(c, u, h, NULL, 0.8, h_out, NULL);
    const char *heads[] = {"ff1", "ff2", "time_a", "time_b"};
    const double *in = u;
    size_t nin = M, in0 = 0; /* the previous layer's columns in the flat cell */
    for (int l = 0; l < 3; l++) {
        ns_cfc_opts so;
        ns_cfc_opts_default(&so, nin, cnt[l]);
        so.backbone_layers = 0;
        ns_cfc_cell *s = ns_cfc_create(&so, err, sizeof err);
        size_t sk = nin + cnt[l];
        double *Ws = malloc(cnt[l] * sk * sizeof *Ws);
        for (int hd = 0; hd < 4; hd++) {
            char name[32];
            snprintf(name, sizeof name, "%s.W", heads[hd]);
            const double *W = ns_cfc_get(c, name, NULL);
            for (size_t a = 0; a < cnt[l]; a++) {
                const double *row = W + (first[l] + a) * K;
                for (size_t q = 0; q < nin; q++) Ws[a * sk + q] = row[(l == 0 ? 0 : M + in0) + q];
                for (size_t q = 0; q < cnt[l]; q++) Ws[a * sk + nin + q] = row[M + first[l] + q];
            }
            set(s, name, Ws, cnt[l] * sk);
            snprintf(name, sizeof name, "%s.b", heads[hd]);
            set(s, name, ns_cfc_get(c, name, NULL) + first[l], cnt[l]);
        }
        ns_cfc_step(s, in, h + first[l], NULL, 0.8, h_ref + first[l], NULL);
        in = h_ref + first[l];
        nin = cnt[l];
        in0 = first[l];
        free(Ws);
        ns_cfc_free(s);
    }
    double worst = 0;
    for (size_t i = 0; i < N; i++) worst = fmax(worst, fabs(h_out[i] - h_ref[i]));
    NS_CHECK(worst < 1e-15, "wired CfC vs per-layer cells: %g", worst);
    /* Xavier per layer: the motor layer's fan-in is command + motor */
    const double *W = ns_cfc_get(c, "time_a.W", NULL);
    double mx = 0, lim = sqrt(6.0 / (double)(cnt[1] + cnt[2] + cnt[2]));
    for (size_t a = first[2]; a < N; a++)
        for (size_t k = 0; k < K; k++) mx = fmax(mx, fabs(W[a * K + k]));
    NS_CHECK(mx <= lim && mx > 0.5 * lim, "motor time_a max %g, bound %g", mx, lim);

    /* layered 0: all units at once from the old h, the same as a dense cell under the masks */
    o.layered = 0;
    ns_cfc_cell *flat = ns_cfc_create(&o, err, sizeof err);
    ns_cfc_opts_default(&o, M, N);
    o.backbone_layers = 0;
    ns_cfc_cell *dense = ns_cfc_create(&o, err, sizeof err);
    const char *arrays[] = {"ff1.W", "ff1.b", "ff2.W", "ff2.b", "time_a.W", "time_a.b", "time_b.W", "time_b.b"};
    for (size_t q = 0; q < 8; q++) {
        size_t n;
        const double *a = ns_cfc_get(c, arrays[q], &n);
        set(flat, arrays[q], a, n);
        set(dense, arrays[q], a, n);
    }
    double hf[12], hd[12];
    ns_cfc_step(flat, u, h, NULL, 0.8, hf, NULL);
    ns_cfc_step(dense, u, h, NULL, 0.8, hd, NULL);
    NS_CHECK(memcmp(hf, hd, sizeof hf) == 0, "layered 0 differs from the dense cell with masked weights");
    worst = 0;
    for (size_t i = 0; i < first[1]; i++) worst = fmax(worst, fabs(hf[i] - h_out[i])); /* inter layer: same inputs */
    NS_CHECK(worst == 0 && memcmp(hf, h_out, sizeof hf) != 0, "layered 0 vs 1: inter layer %g", worst);
    ns_cfc_free(flat);
    ns_cfc_free(dense);

    /* save and load keep masks, groups and the update order */
    char p[600];
    path_in(p, sizeof p, "wired.cell");
    NS_CHECK(ns_cfc_save(c, p, err, sizeof err) == 0, "save: %s", err);
    ns_cfc_cell *d = ns_cfc_load(p, err, sizeof err);
    NS_CHECK(d != NULL, "load: %s", err);
    if (d) {
        double h2[12];
        ns_cfc_step(d, u, h, NULL, 0.8, h2, NULL);
        NS_CHECK(memcmp(h2, h_out, sizeof h2) == 0, "loaded wired cell steps differently");
        NS_CHECK(memcmp(ns_cfc_get(d, "ff2.mask", NULL), ns_cfc_get(c, "ff2.mask", NULL), N * K * sizeof(double)) == 0,
                 "mask changed");
        ns_cfc_free(d);
    }
    unlink(p);
    ns_cfc_free(c);
    ns_ncp_wiring_release(&w);
}

static int same_arrays_cfc(const ns_cfc_cell *a, const ns_cfc_cell *b, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t na, nb;
        const double *x = ns_cfc_get(a, names[i], &na), *y = ns_cfc_get(b, names[i], &nb);
        if (!x || !y || na != nb || memcmp(x, y, na * sizeof *x) != 0) {
            printf("array %s differs\n", names[i]);
            return 0;
        }
    }
    return 1;
}

static void cfc_roundtrip(void)
{
    ns_cfc_opts o;
    ns_cfc_opts_default(&o, 4, 6);
    o.backbone_layers = 2;
    o.backbone_units = 9;
    o.activation = NS_CFC_SILU;
    o.mixed_memory = 1;
    o.mode = NS_CFC_NO_GATE;
    ns_cfc_cell *c = ns_cfc_create(&o, err, sizeof err);
    ns_cfc_init(c, 99);
    double m[6 * 9];
    for (size_t k = 0; k < 54; k++) m[k] = (k % 3) != 0;
    set(c, "time_b.mask", m, 54);
    char p[600];
    path_in(p, sizeof p, "cfc.cell");
    NS_CHECK(ns_cfc_save(c, p, err, sizeof err) == 0, "save: %s", err);
    ns_cfc_cell *d = ns_cfc_load(p, err, sizeof err);
    NS_CHECK(d != NULL, "load: %s", err);
    if (!d) return;
    const char *names[] = {"backbone0.W", "backbone0.b", "backbone1.W", "backbone1.b", "ff1.W", "ff1.b", "ff2.W",
                           "ff2.b", "time_a.W", "time_a.b", "time_b.W", "time_b.b", "time_b.mask", "lstm.W_in",
                           "lstm.b_in", "lstm.W_rec"};
    NS_CHECK(same_arrays_cfc(c, d, names, sizeof names / sizeof *names), "CfC arrays differ after a round trip");
    NS_CHECK(ns_cfc_get(d, "ff1.mask", NULL) == NULL, "a mask appeared");
    const ns_cfc_opts *a = ns_cfc_opts_of(c), *b = ns_cfc_opts_of(d);
    NS_CHECK(a->inputs == b->inputs && a->units == b->units && a->mode == b->mode && a->activation == b->activation &&
                 a->backbone_layers == b->backbone_layers && a->backbone_units == b->backbone_units &&
                 a->mixed_memory == b->mixed_memory,
             "options differ after a round trip");
    double u[4] = {0.3, -0.2, 1.5, 0.0}, h[6] = {0.1, 0.2, -0.3, 0.4, 0.0, -0.1}, cs[6] = {0}, h1[6], c1[6], h2[6], c2[6];
    ns_cfc_step(c, u, h, cs, 1.3, h1, c1);
    ns_cfc_step(d, u, h, cs, 1.3, h2, c2);
    NS_CHECK(memcmp(h1, h2, sizeof h1) == 0 && memcmp(c1, c2, sizeof c1) == 0, "steps differ after a round trip");
    /* and a second save writes the same bytes */
    char q[600];
    path_in(q, sizeof q, "cfc2.cell");
    NS_CHECK(ns_cfc_save(d, q, err, sizeof err) == 0, "save: %s", err);
    FILE *f1 = fopen(p, "rb"), *f2 = fopen(q, "rb");
    int same = f1 && f2;
    while (same) {
        int x = fgetc(f1), y = fgetc(f2);
        same = x == y;
        if (x == EOF || y == EOF) break;
    }
    NS_CHECK(same, "re-saved file differs");
    if (f1) fclose(f1);
    if (f2) fclose(f2);
    unlink(p);
    unlink(q);
    ns_cfc_free(c);
    ns_cfc_free(d);
}

/* ---------------------------------------------------------------- LTC */

/* MODELS.md §6: one input, one neuron, the same parameters for the sensory synapse. */
static ns_ltc_cell *tiny_ltc(void)
{
    ns_ltc_opts o;
    ns_ltc_opts_default(&o, 1, 1);
    ns_ltc_cell *c = ns_ltc_create(&o, err, sizeof err);
    NS_CHECK(c != NULL, "create: %s", err);
    double gl = 0.5, vl = 0.1, cm = 0.5, w = 0.5, s = 5, mu = 0.5, E = 1;
    lset(c, "gleak", &gl, 1);
    lset(c, "vleak", &vl, 1);
    lset(c, "cm", &cm, 1);
    const char *syn[] = {"w", "sigma", "mu", "erev"};
    const char *sen[] = {"sensory_w", "sensory_sigma", "sensory_mu", "sensory_erev"};
    double val[] = {w, s, mu, E};
    for (int k = 0; k < 4; k++) {
        lset(c, syn[k], &val[k], 1);
        lset(c, sen[k], &val[k], 1);
    }
    return c;
}

static void ltc_reference(void)
{
    ns_ltc_cell *c = tiny_ltc();
    double u = 1, v0 = 0, v;
    NS_CHECK(ns_ltc_fused(c, &u, &v0, 1.0, 6, &v) == 0, "fused");
    NS_CHECK_ABS(v, 0.5073782869, 1e-9);
    ns_ltc_fused(c, &u, &v0, 0.1, 6, &v);
    NS_CHECK_ABS(v, 0.0996913469, 1e-9);
    ns_ltc_fused(c, &u, &v0, 1.0, 1, &v);
    NS_CHECK_ABS(v, 0.3666666642, 1e-9);
    v = v0;
    for (int k = 0; k < 3; k++) ns_ltc_fused(c, &u, &v, 1.0, 0, &v); /* K 0: the cell's 6 */
    NS_CHECK_ABS(v, 0.6505733000, 1e-9);
    /* the affine mappings at their init values change nothing; output = w v + b */
    double y, ow = 2, ob = -0.5;
    lset(c, "output_w", &ow, 1);
    lset(c, "output_b", &ob, 1);
    ns_ltc_output(c, &v, &y);
    NS_CHECK_ABS(y, 2 * 0.6505733000 - 0.5, 2e-9);
    NS_CHECK(ns_ltc_fused(c, &u, &v0, 0.0, 6, &v) == -1, "delta 0 accepted");
    ns_ltc_free(c);
}

/* A random wired cell for the Jacobian and convergence tests. */
static ns_ltc_cell *random_ltc(size_t M, size_t N, int wired, uint64_t seed, ns_ncp_wiring *w)
{
    ns_ltc_opts o;
    ns_ltc_opts_default(&o, M, N);
    if (wired) {
        NS_CHECK(ns_ncp_wiring_auto(w, M, N, 2, 0.4, seed, err, sizeof err) == 0, "auto: %s", err);
        o.wiring = w;
    }
    ns_ltc_cell *c = ns_ltc_create(&o, err, sizeof err);
    NS_CHECK(c != NULL, "create: %s", err);
    ns_ltc_init(c, seed, wired);
    return c;
}

static void ltc_jacobian(void)
{
    for (int wired = 0; wired < 2; wired++) {
        ns_ncp_wiring w = {0};
        size_t M = 3, N = 8;
        ns_ltc_cell *c = random_ltc(M, N, wired, 17 + (uint64_t)wired, &w);
        double u[3] = {0.5, -1.2, 2.0}, drive[16], v[8], J[64], fp[8], fm[8];
        for (size_t i = 0; i < N; i++) v[i] = sin(1.7 * (double)i) * 0.8;
        ns_ltc_drive(c, u, drive);
        ns_ltc_jac(c, 0, v, drive, J);
        double worst = 0, h = 1e-6;
        for (size_t j = 0; j < N; j++) {
            double vj = v[j];
            v[j] = vj + h;
            ns_ltc_rhs(c, 0, v, fp, drive);
            v[j] = vj - h;
            ns_ltc_rhs(c, 0, v, fm, drive);
            v[j] = vj;
            for (size_t i = 0; i < N; i++) {
                double fd = (fp[i] - fm[i]) / (2 * h);
                worst = fmax(worst, fabs(fd - J[j * N + i]) / fmax(1.0, fabs(fd)));
            }
        }
        NS_CHECK(worst < 1e-8, "Jacobian vs central differences (wired %d): %g", wired, worst);
        ns_ltc_free(c);
        ns_ncp_wiring_release(&w);
    }
}

static void rk4(const ns_ltc_cell *c, const double *drive, double *v, size_t N, double T, int steps)
{
    double k1[16], k2[16], k3[16], k4[16], y[16], h = T / steps;
    for (int s = 0; s < steps; s++) {
        ns_ltc_rhs(c, 0, v, k1, drive);
        for (size_t i = 0; i < N; i++) y[i] = v[i] + 0.5 * h * k1[i];
        ns_ltc_rhs(c, 0, y, k2, drive);
        for (size_t i = 0; i < N; i++) y[i] = v[i] + 0.5 * h * k2[i];
        ns_ltc_rhs(c, 0, y, k3, drive);
        for (size_t i = 0; i < N; i++) y[i] = v[i] + h * k3[i];
        ns_ltc_rhs(c, 0, y, k4, drive);
        for (size_t i = 0; i < N; i++) v[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
}

/* The fused solver is first-order consistent with the ODE: its error against a tight RK4
 * integration over one step of Delta falls tenfold per tenfold K. */
static void ltc_convergence(void)
{
    ns_ncp_wiring w = {0};
    size_t M = 3, N = 10;
    ns_ltc_cell *c = random_ltc(M, N, 1, 23, &w);
    double u[3] = {1.0, -0.5, 0.3}, drive[20], v0[10], ref[10], v[10];
    for (size_t i = 0; i < N; i++) v0[i] = 0.3 * cos((double)i);
    ns_ltc_drive(c, u, drive);
    memcpy(ref, v0, sizeof ref);
    rk4(c, drive, ref, N, 1.0, 4000);
    double check[10];
    memcpy(check, v0, sizeof check);
    rk4(c, drive, check, N, 1.0, 2000);
    double rk_err = 0;
    for (size_t i = 0; i < N; i++) rk_err = fmax(rk_err, fabs(check[i] - ref[i]));
    NS_CHECK(rk_err < 1e-12, "RK4 reference not converged: %g", rk_err);
    double e[4];
    unsigned Ks[4] = {10, 100, 1000, 10000};
    for (int q = 0; q < 4; q++) {
        ns_ltc_fused(c, u, v0, 1.0, Ks[q], v);
        e[q] = 0;
        for (size_t i = 0; i < N; i++) e[q] = fmax(e[q], fabs(v[i] - ref[i]));
    }
    for (int q = 1; q < 4; q++)
        NS_CHECK(e[q - 1] / e[q] > 8 && e[q - 1] / e[q] < 12, "K %u -> %u: error %g -> %g (want first order)",
                 Ks[q - 1], Ks[q], e[q - 1], e[q]);
    NS_CHECK(e[3] < 1e-4, "K 10000 error %g", e[3]);
    ns_ltc_free(c);
    ns_ncp_wiring_release(&w);
}

static void ltc_init_ranges(void)
{
    ns_ncp_wiring w = {0};
    ns_ltc_cell *c = random_ltc(4, 20, 0, 8, &w);
    struct {
        const char *name;
        double lo, hi;
    } r[] = {{"gleak", 0.001, 1}, {"vleak", -0.2, 0.2}, {"cm", 0.4, 0.6},       {"w", 0.001, 1},
             {"sigma", 3, 8},     {"mu", 0.3, 0.8},     {"sensory_w", 0.001, 1}, {"sensory_sigma", 3, 8},
             {"sensory_mu", 0.3, 0.8}};
    for (size_t q = 0; q < sizeof r / sizeof *r; q++) {
        size_t n;
        const double *a = ns_ltc_get(c, r[q].name, &n);
        double lo = INFINITY, hi = -INFINITY;
        for (size_t k = 0; k < n; k++) lo = fmin(lo, a[k]), hi = fmax(hi, a[k]);
        double span = r[q].hi - r[q].lo;
        NS_CHECK(lo >= r[q].lo && hi <= r[q].hi && hi - lo > 0.7 * span, "%s in [%g, %g], want [%g, %g]", r[q].name, lo,
                 hi, r[q].lo, r[q].hi);
    }
    size_t n, neg = 0;
    const double *E = ns_ltc_get(c, "erev", &n);
    for (size_t k = 0; k < n; k++) neg += E[k] == -1;
    NS_CHECK(n == 400 && neg > 100 && neg < 170, "erev: %zu of %zu are -1 (want about a third)", neg, n);
    ns_ltc_free(c);
}

static void ltc_roundtrip(void)
{
    ns_ncp_wiring w = {0};
    ns_ltc_cell *c = random_ltc(3, 9, 1, 31, &w);
    double iw[3] = {0.5, 2, -1}, ib[3] = {0.1, 0, -0.2};
    lset(c, "input_w", iw, 3);
    lset(c, "input_b", ib, 3);
    char p[600];
    path_in(p, sizeof p, "ltc.cell");
    NS_CHECK(ns_ltc_save(c, p, err, sizeof err) == 0, "save: %s", err);
    ns_ltc_cell *d = ns_ltc_load(p, err, sizeof err);
    NS_CHECK(d != NULL, "load: %s", err);
    if (d) {
        const char *names[] = {"gleak", "vleak", "cm", "w", "sigma", "mu", "erev", "mask", "sensory_w",
                               "sensory_sigma", "sensory_mu", "sensory_erev", "sensory_mask", "input_w", "input_b",
                               "output_w", "output_b"};
        int same = 1;
        for (size_t q = 0; q < sizeof names / sizeof *names; q++) {
            size_t na = 0, nb = 0;
            const double *x = ns_ltc_get(c, names[q], &na), *y = ns_ltc_get(d, names[q], &nb);
            if (!x || !y || na != nb || memcmp(x, y, na * sizeof *x) != 0) {
                printf("array %s differs\n", names[q]);
                same = 0;
            }
        }
        NS_CHECK(same, "LTC arrays differ after a round trip");
        const ns_ltc_opts *a = ns_ltc_opts_of(c), *b = ns_ltc_opts_of(d);
        NS_CHECK(a->motor == b->motor && a->unfolds == b->unfolds && a->epsilon == b->epsilon &&
                     a->input_mapping == b->input_mapping && a->output_mapping == b->output_mapping,
                 "LTC options differ after a round trip");
        double u[3] = {0.2, 0.9, -0.4}, v0[9] = {0}, v1[9], v2[9];
        ns_ltc_fused(c, u, v0, 1, 0, v1);
        ns_ltc_fused(d, u, v0, 1, 0, v2);
        NS_CHECK(memcmp(v1, v2, sizeof v1) == 0, "LTC steps differ after a round trip");
        ns_ltc_free(d);
    }
    unlink(p);
    ns_ltc_free(c);
    ns_ncp_wiring_release(&w);
}

/* ---------------------------------------------------------------- bad input */

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void bad_input(void)
{
    ns_cfc_opts o;
    ns_cfc_opts_default(&o, 0, 4);
    NS_CHECK(ns_cfc_create(&o, err, sizeof err) == NULL && strstr(err, "inputs"), "CfC inputs 0: %s", err);
    ns_cfc_opts_default(&o, 3, 0);
    NS_CHECK(ns_cfc_create(&o, err, sizeof err) == NULL && strstr(err, "units"), "CfC units 0: %s", err);
    ns_cfc_opts_default(&o, 3, 4);
    o.backbone_units = 0;
    NS_CHECK(ns_cfc_create(&o, err, sizeof err) == NULL && strstr(err, "backbone_units"), "CfC backbone 0: %s", err);
    ns_ltc_opts lo;
    ns_ltc_opts_default(&lo, 0, 4);
    NS_CHECK(ns_ltc_create(&lo, err, sizeof err) == NULL && strstr(err, "inputs"), "LTC inputs 0: %s", err);
    ns_ltc_opts_default(&lo, 2, 0);
    NS_CHECK(ns_ltc_create(&lo, err, sizeof err) == NULL && strstr(err, "units"), "LTC units 0: %s", err);
    ns_ltc_opts_default(&lo, 2, 3);
    lo.unfolds = 0;
    NS_CHECK(ns_ltc_create(&lo, err, sizeof err) == NULL && strstr(err, "unfolds"), "LTC unfolds 0: %s", err);

    ns_cfc_cell *c = tiny_cfc(NS_CFC_DEFAULT);
    double nan2[2] = {0.5, NAN}, keep[2];
    memcpy(keep, ns_cfc_get(c, "ff1.W", NULL), sizeof keep);
    NS_CHECK(ns_cfc_set(c, "ff1.W", nan2, 2, err, sizeof err) == -1 && strstr(err, "ff1.W") && strstr(err, "finite"),
             "NaN weight: %s", err);
    NS_CHECK(memcmp(keep, ns_cfc_get(c, "ff1.W", NULL), sizeof keep) == 0, "a refused set changed the weights");
    NS_CHECK(ns_cfc_set(c, "ff1.W", nan2, 1, err, sizeof err) == -1 && strstr(err, "takes 2"), "count: %s", err);
    NS_CHECK(ns_cfc_set(c, "ff3.W", nan2, 2, err, sizeof err) == -1 && strstr(err, "ff3.W"), "name: %s", err);
    NS_CHECK(ns_cfc_set(c, "A", nan2, 1, err, sizeof err) == -1 && strstr(err, "'A'"), "A outside pure: %s", err);
    double half[2] = {0.5, 1};
    NS_CHECK(ns_cfc_set(c, "ff1.mask", half, 2, err, sizeof err) == -1 && strstr(err, "0 or 1"), "mask: %s", err);
    ns_cfc_free(c);
    ns_ltc_cell *l = tiny_ltc();
    double zero = 0, neg = -0.1, nan1 = NAN;
    NS_CHECK(ns_ltc_set(l, "cm", &zero, 1, err, sizeof err) == -1 && strstr(err, "cm") && strstr(err, "> 0"), "cm: %s",
             err);
    NS_CHECK(ns_ltc_set(l, "sensory_w", &neg, 1, err, sizeof err) == -1 && strstr(err, "sensory_w"), "w<0: %s", err);
    NS_CHECK(ns_ltc_set(l, "sigma", &nan1, 1, err, sizeof err) == -1 && strstr(err, "finite"), "NaN sigma: %s", err);
    NS_CHECK(ns_ltc_get(l, "cm", NULL)[0] == 0.5, "a refused set changed cm");
    ns_ltc_free(l);

    /* malformed files: each must be refused with a message naming what is wrong */
    static const char good_head[] = "nsim-cell 1 ltc inputs=1 units=1 motor=1 input_mapping=none output_mapping=none "
                                    "unfolds=6 epsilon=1e-8\n";
    static const char good_body[] = "gleak 1 1\n0.5\nvleak 1 1\n0.1\ncm 1 1\n0.5\nw 1 1\n0.5\nsigma 1 1\n5\nmu 1 1\n"
                                    "0.5\nerev 1 1\n1\nmask 1 1\n1\nsensory_w 1 1\n0.5\nsensory_sigma 1 1\n5\n"
                                    "sensory_mu 1 1\n0.5\nsensory_erev 1 1\n1\nsensory_mask 1 1\n1\n";
    char p[600], text[4096];
    path_in(p, sizeof p, "bad.cell");
    snprintf(text, sizeof text, "%s%send\n", good_head, good_body);
    write_file(p, text);
    ns_ltc_cell *ok = ns_ltc_load(p, err, sizeof err);
    NS_CHECK(ok != NULL, "the good file is refused: %s", err);
    if (ok) {
        double u = 1, v0 = 0, v;
        ns_ltc_fused(ok, &u, &v0, 1, 0, &v);
        NS_CHECK_ABS(v, 0.5073782869, 1e-9);
    }
    ns_ltc_free(ok);
    struct {
        const char *text, *want;
    } cases[] = {
        {"nsim-cel 1 ltc inputs=1\nend\n", "nsim-cell"},
        {"nsim-cell 2 ltc inputs=1\nend\n", "version"},
        {"nsim-cell 1 ltc inputs=1 units\nend\n", "key=value"},
        {NULL, "truncated"}, /* body without end */
        {NULL, "not a number"},
        {NULL, "non-finite"},
        {NULL, "want 1 x 1"},
        {NULL, "missing"},
        {NULL, "unknown array"},
        {NULL, "twice"},
        {NULL, "> 0"},
        {"nsim-cell 1 cfc inputs=1 units=1 backbone_layers=0 backbone_units=0 mixed_memory=0 groups=0 layered=0 "
         "activation=tanh\nend\n",
         "'mode' missing"},
        {"nsim-cell 1 ltc units=1 motor=1 input_mapping=none output_mapping=none unfolds=6 epsilon=1e-8\nend\n",
         "inputs"},
    };
    for (size_t q = 0; q < sizeof cases / sizeof *cases; q++) {
        const char *t = cases[q].text;
        if (q == 3) { /* no end */
            snprintf(text, sizeof text, "%s%s", good_head, good_body);
        } else if (q == 4 || q == 5) {
            snprintf(text, sizeof text, "%s%sbogus 1 1\n%s\nend\n", good_head, good_body, q == 4 ? "x1" : "nan");
        } else if (q == 6) { /* gleak with the wrong shape */
            snprintf(text, sizeof text, "%sgleak 1 2\n0.5 0.5\n%send\n", good_head, strstr(good_body, "vleak"));
        } else if (q == 7) { /* gleak missing */
            snprintf(text, sizeof text, "%s%send\n", good_head, strstr(good_body, "vleak"));
        } else if (q == 8) {
            snprintf(text, sizeof text, "%s%sbogus 1 1\n1\nend\n", good_head, good_body);
        } else if (q == 9) {
            snprintf(text, sizeof text, "%s%scm 1 1\n0.5\nend\n", good_head, good_body);
        } else if (q == 10) { /* cm 0 */
            snprintf(text, sizeof text, "%s%send\n", good_head, good_body);
            char *cm = strstr(text, "cm 1 1\n0.5");
            cm[7] = '0', cm[8] = '\n', cm[9] = ' ';
        }
        write_file(p, t ? t : text);
        err[0] = 0;
        ns_ltc_cell *x = ns_ltc_load(p, err, sizeof err);
        ns_cfc_cell *y = q == 11 ? ns_cfc_load(p, err, sizeof err) : NULL;
        NS_CHECK(x == NULL && y == NULL && strstr(err, cases[q].want) && strstr(err, p),
                 "malformed file %zu: want '%s' and the path in: %s", q, cases[q].want, err);
        ns_ltc_free(x);
        ns_cfc_free(y);
    }
    NS_CHECK(ns_cfc_load(p, err, sizeof err) == NULL, "cfc loaded a bad file");
    snprintf(text, sizeof text, "%s%send\n", good_head, good_body);
    write_file(p, text);
    NS_CHECK(ns_cfc_load(p, err, sizeof err) == NULL && strstr(err, "not cfc"), "ltc file as cfc: %s", err);
    unlink(p);
    path_in(p, sizeof p, "no-such.cell");
    NS_CHECK(ns_ltc_load(p, err, sizeof err) == NULL && strstr(err, "cannot open"), "missing file: %s", err);
}

/* CfC's projection (ncps's proj_size): y = fc.W h + fc.b over all units, or over the last group's. */
static void cfc_projection(void)
{
    ns_cfc_opts o;
    ns_cfc_opts_default(&o, 1, 3);
    o.backbone_layers = 0;
    o.proj_size = 2;
    size_t groups[4] = {0, 1, 1, 2};
    for (int grouped = 0; grouped < 2; grouped++) {
        o.n_groups = grouped ? 2 : 0;
        o.groups = grouped ? groups : NULL;
        ns_cfc_cell *c = ns_cfc_create(&o, err, sizeof err);
        NS_CHECK(c != NULL, "create: %s", err);
        if (!c) return;
        ns_cfc_init(c, 5);
        size_t R = grouped ? 2 : 3;
        NS_CHECK(ns_cfc_proj_inputs(c) == R, "projection reads %zu units", ns_cfc_proj_inputs(c));
        double W[6] = {0.3, -0.7, 1.1, 0.25, 0.5, -0.2}, b[2] = {0.05, -0.4};
        set(c, "fc.W", W, 2 * R);
        set(c, "fc.b", b, 2);
        double u = 0.8, h[3] = {0}, y[2];
        ns_cfc_step(c, &u, h, NULL, 1.0, h, NULL);
        ns_cfc_project(c, h, y);
        const double *x = h + 3 - R;
        for (int p = 0; p < 2; p++) {
            double want = b[p];
            for (size_t k = 0; k < R; k++) want += W[p * R + k] * x[k];
            NS_CHECK_REL(y[p], want, 1e-15);
        }
        char path[600];
        path_in(path, sizeof path, "proj.cell");
        NS_CHECK(ns_cfc_save(c, path, err, sizeof err) == 0, "%s", err);
        ns_cfc_cell *d = ns_cfc_load(path, err, sizeof err);
        NS_CHECK(d != NULL && ns_cfc_opts_of(d)->proj_size == 2, "load: %s", err);
        if (d) {
            double y2[2];
            ns_cfc_project(d, h, y2);
            NS_CHECK(y2[0] == y[0] && y2[1] == y[1], "projection after a save and load");
        }
        ns_cfc_free(d);
        unlink(path);
        ns_cfc_free(c);
    }
}

/* LTC with mixed memory (ncps's LTC mixed_memory): the LSTM cell, then the fused step from its h;
 * one input, one unit, K 1, by hand. */
static void ltc_mixed_memory(void)
{
    ns_ltc_opts o;
    ns_ltc_opts_default(&o, 1, 1);
    o.mixed_memory = 1;
    o.input_mapping = o.output_mapping = NS_LTC_MAP_NONE;
    ns_ltc_cell *c = ns_ltc_create(&o, err, sizeof err);
    NS_CHECK(c != NULL, "create: %s", err);
    if (!c) return;
    double gl = 0.5, vl = 0.1, cm = 0.5, w = 0.5, sg = 5, mu = 0.5, e = 1;
    lset(c, "gleak", &gl, 1);
    lset(c, "vleak", &vl, 1);
    lset(c, "cm", &cm, 1);
    lset(c, "w", &w, 1);
    lset(c, "sigma", &sg, 1);
    lset(c, "mu", &mu, 1);
    lset(c, "erev", &e, 1);
    lset(c, "sensory_w", &w, 1);
    lset(c, "sensory_sigma", &sg, 1);
    lset(c, "sensory_mu", &mu, 1);
    lset(c, "sensory_erev", &e, 1);
    double Wi[4] = {0.4, -0.3, 0.2, 0.9}, bi[4] = {0.1, 0.0, -0.2, 0.3}, Wr[4] = {0.5, 0.1, -0.6, 0.2};
    lset(c, "lstm.W_in", Wi, 4);
    lset(c, "lstm.b_in", bi, 4);
    lset(c, "lstm.W_rec", Wr, 4);
    double u = 1, v = 0.2, cs = -0.1, vl2, c2;
    ns_ltc_lstm(c, &u, &v, &cs, &vl2, &c2);
    double z[4];
    for (int k = 0; k < 4; k++) z[k] = Wi[k] * u + bi[k] + Wr[k] * v;
    double cw = cs * sig(z[2] + 1) + tanh(z[0]) * sig(z[1]), hw = tanh(cw) * sig(z[3]);
    NS_CHECK_REL(c2, cw, 1e-15);
    NS_CHECK_REL(vl2, hw, 1e-15);
    double out;
    NS_CHECK(ns_ltc_fused(c, &u, &vl2, 1.0, 1, &out) == 0, "fused step");
    double gs = w * sig(sg * (u - mu)), gr = w * sig(sg * (hw - mu));
    double want = (cm * hw + gl * vl + gr * e + gs * e) / (cm + gl + gr + gs + 1e-8);
    NS_CHECK_REL(out, want, 1e-14);
    char path[600];
    path_in(path, sizeof path, "mixed.cell");
    NS_CHECK(ns_ltc_save(c, path, err, sizeof err) == 0, "%s", err);
    ns_ltc_cell *d = ns_ltc_load(path, err, sizeof err);
    NS_CHECK(d != NULL && ns_ltc_opts_of(d)->mixed_memory == 1, "load: %s", err);
    if (d) {
        double v3, c3;
        ns_ltc_lstm(d, &u, &v, &cs, &v3, &c3);
        NS_CHECK(v3 == vl2 && c3 == c2, "mixed memory after a save and load");
    }
    ns_ltc_free(d);
    unlink(path);
    ns_ltc_free(c);
}

int main(void)
{
    cfc_projection();
    ltc_mixed_memory();
    ns_test_tmpdir(dir, sizeof dir, "nsim-cells");
    cfc_reference();
    cfc_backbone_lstm();
    cfc_init();
    wiring_rules();
    cfc_wired();
    cfc_roundtrip();
    ltc_reference();
    ltc_jacobian();
    ltc_convergence();
    ltc_init_ranges();
    ltc_roundtrip();
    bad_input();
    rmdir(dir);
    NS_TEST_MAIN_END();
}
