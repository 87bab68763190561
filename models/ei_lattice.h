/* models/ei_lattice.h — `ei_lattice`'s regime report: which kind of field an E/I lattice
 * dx/dt = A x + B sum_nb (x_nb - x) is (MODELS.md 8 (b)), from the 2 x 2 matrices A and B of its
 * units (or of their linearisation at the fixed point), and that linearisation itself. */
#ifndef NS_EI_LATTICE_H
#define NS_EI_LATTICE_H

/* The regimes, in the order the classifier tries them. */
typedef enum {
    NS_EI_NOT_OSCILLATING, /* det A <= 0: no oscillation at k = 0 */
    NS_EI_UNSTABLE,        /* w < 0 and det(A - lambda_max B) < 0: grows, fastest at the checkerboard */
    NS_EI_INVERTED,        /* w < 0 but every mode still oscillates: omega falls with |k| (c^2 < 0) */
    NS_EI_BEAM,            /* det B != 0: a lambda^2 det B (k^4) term */
    NS_EI_DIFFUSIVE,       /* tr B != 0: k-dependent damping or growth */
    NS_EI_UNCOUPLED,       /* B nilpotent with w = 0: no propagation (c = 0) */
    NS_EI_DAMPED_KG,       /* B nilpotent, w > 0, tr A < 0 */
    NS_EI_GROWING_KG,      /* B nilpotent, w > 0, tr A > 0 */
    NS_EI_KG               /* B nilpotent, w > 0, tr A = 0: an undamped Klein-Gordon field */
} ns_ei_regime_kind;

typedef struct {
    ns_ei_regime_kind kind;
    const char *name;  /* "KG field", "damped KG", ... (ns_ei_regime_name) */
    double trA, detA, trB, detB;
    double w;          /* -tr(adj(A) B), per ms^2: c^2 = w h^2 */
    double m;          /* sqrt(det A) (rad/ms), 0 when det A <= 0 */
    double c;          /* sqrt(w) h (um/ms), 0 when w <= 0 */
} ns_ei_regime;

/* Classify A and B (row-major 2 x 2: A[0] = a_EE, A[1] = a_EI, A[2] = a_IE, A[3] = a_II; per ms)
 * on a lattice of spacing h (um) whose largest Laplacian eigenvalue is lambda_max (8 on a 2-D
 * periodic lattice, 4 on one row). A quantity counts as zero when it is within 1e-12 of the
 * matrices' scale. */
void ns_ei_regime_of(const double A[4], const double B[4], double h_um, double lambda_max, ns_ei_regime *r);
/* The regime's name ("KG field", "damped KG", "growing KG", "diffusive", "beam-like", "unstable",
 * "inverted", "uncoupled", "not oscillating"). */
const char *ns_ei_regime_name(ns_ei_regime_kind k);

/* omega^2 (rad^2/ms^2) of the lattice mode with Laplacian eigenvalue lambda:
 * det A - lambda tr(adj(A) B) + lambda^2 det B, the determinant of A - lambda B. */
double ns_ei_omega2(const double A[4], const double B[4], double lambda);

/* The linearisation of an ei_lattice population's units (params: its parameter struct) at their
 * homogeneous fixed point, found by Newton's method: the fixed point into x (u, v), A and B as
 * above. 0, or -1 when no fixed point was found (A and B then at the last iterate). */
int ns_ei_lattice_linearise(const void *params, double x[2], double A[4], double B[4]);

#endif
