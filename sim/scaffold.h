/* sim/scaffold.h — an S2-Net scaffold: the weighted, delayed edges W_ij (d_ij, tau_ij) that both
 * the spike projection (neuron to neuron) and the phase projection (phase unit to phase unit) of
 * an S2-Net use; made from an image (a pixel grid) or from a list of edges (a parcel graph). */
#ifndef NS_SCAFFOLD_H
#define NS_SCAFFOLD_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t n;           /* units (pixels or parcels) */
    size_t n_edges;
    uint32_t *pre, *post; /* edge k: source unit pre[k] into target unit post[k] (0-based) */
    double *w;          /* W_ij >= 0, dimensionless */
    double *delay_ms;   /* spike delay d_ij (ms) */
    double *phase_delay_ms; /* phase delay tau_ij (ms) */
    long *line;         /* the line of each edge in its file, or NULL (an image's grid) */
    double *deg;        /* per target: deg_i, its number of edges in */
    double *wsum;       /* per target: sum_j W_ij */
    int nx, ny;         /* a grid's width and height, or 0 */
    char file[512];     /* the file the edges came from, or "" */
} ns_scaffold;

/* A pixel grid of nx x ny pixels (pixel k at column k % nx, row k // nx) with grey values img (any
 * finite numbers, nx * ny of them): each pixel gets an edge from each of its 4 (von Neumann) or 8
 * (Moore) neighbours inside the image, W_ij = exp(-|I_i - I_j|^2 / sigma^2) (sigma > 0, in grey
 * units), spike delays d_axial / d_diag ms and phase delays tau_axial / tau_diag ms for the axial
 * and diagonal neighbours. Edges are ordered by target, then neighbour (N, W, E, S, then NW, NE, SW,
 * SE). Returns 0, or -1 with a one-line message in err. */
int ns_scaffold_grid(ns_scaffold *sc, const double *img, int nx, int ny, int neighbours, double sigma,
                     double d_axial, double d_diag, double tau_axial, double tau_diag, char *err, size_t errlen);

/* A scaffold of n units from edge arrays (the scaffold takes them over: malloc'ed, freed by
 * ns_scaffold_free; line may be NULL), read from file (for messages; may be NULL). Checks every edge:
 * ids in [0, n), weights finite and >= 0, delays finite and >= 0, and without allow_duplicates no
 * pair (source, target) twice; the first bad edge gives "FILE:LINE: what is wrong". On failure
 * the arrays are freed too. */
int ns_scaffold_from_edges(ns_scaffold *sc, size_t n, size_t n_edges, uint32_t *pre, uint32_t *post, double *w,
                           double *delay_ms, double *phase_delay_ms, long *line, const char *file,
                           int allow_duplicates, char *err, size_t errlen);

/* Check every delay against the step dt (ms): at least dt and a whole number of steps (within
 * 1e-9 relative), at most 65535 steps; 0, or -1 with "FILE:LINE: ..." (or "edge K: ...") in err. */
int ns_scaffold_check_dt(const ns_scaffold *sc, double dt, char *err, size_t errlen);

/* Free the scaffold's arrays and leave it empty. */
void ns_scaffold_free(ns_scaffold *sc);

#endif
