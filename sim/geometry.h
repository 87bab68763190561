/* sim/geometry.h — where a population's units are: on a ring, on a 2-D grid, or at positions
 * read from a file, in µm. Connection rules (sim/rules.h) measure distances between two
 * geometries through one metric, which knows the ring's arc and a periodic grid's wrap. */
#ifndef NS_GEOMETRY_H
#define NS_GEOMETRY_H

#include <stddef.h>
#include <stdio.h>

#include "sim/ctx.h"

typedef enum { NS_GEOM_RING = 1, NS_GEOM_GRID, NS_GEOM_POINTS } ns_geom_kind;

typedef struct ns_geom {
    ns_geom_kind kind;
    size_t n;           /* units */
    size_t nx, ny;      /* grid: unit k sits at column k % nx, row k / nx; ring: n and 1 */
    double spacing;     /* µm: a grid's step; a ring's arc between neighbours */
    int periodic;       /* a grid wraps at its edges; a ring always does */
    int dims;           /* coordinates a positions file gave (2 or 3); 2 for rings and grids */
    double *pos;        /* n x 3 µm: x, y, z of unit k at pos[3k .. 3k + 2] */
} ns_geom;

/* A ring of n units, spacing_um (> 0, finite) of arc apart: unit k at angle 2 pi k / n on the
 * circle of circumference n * spacing centred at the origin. NULL with a message on ctx. */
ns_geom *ns_geom_ring(ns_ctx *ctx, size_t n, double spacing_um);
/* An nx x ny grid (nx * ny units, each >= 1) of step spacing_um (> 0, finite): unit k at the
 * centre of its cell, x = (k % nx + 0.5) spacing, y = (k / nx + 0.5) spacing, so the grid covers
 * [0, nx spacing) x [0, ny spacing); periodic: it wraps at its edges (a torus). */
ns_geom *ns_geom_grid(ns_ctx *ctx, size_t nx, size_t ny, double spacing_um, int periodic);
/* n positions given as dims (2 or 3) coordinates each (µm, finite), copied. */
ns_geom *ns_geom_points(ns_ctx *ctx, size_t n, const double *xyz, int dims);
/* Positions from a CSV file: one line per unit, x_um,y_um or x_um,y_um,z_um (an optional header
 * line naming exactly these columns; empty lines and lines starting with '#' are skipped);
 * exactly n lines of finite numbers. A bad file: "FILE:LINE: what is wrong" (or "FILE: ...")
 * on ctx, NULL. */
ns_geom *ns_geom_read(ns_ctx *ctx, const char *path, size_t n);
void ns_geom_free(ns_geom *g); /* NULL is harmless */
/* A one-word name of the geometry's kind: ring, grid, positions. */
const char *ns_geom_kind_name(const ns_geom *g);

/* How distances between the units of two geometries are measured: along the circle for two
 * rings (of the same circumference), else straight in the plane or in space, with the minimal
 * image when either geometry is a periodic grid (both periodic: the same extent). */
typedef struct {
    int ring;           /* 1: arc length on a circle of circumference box[0] */
    int wrap;           /* plane: box[0] x box[1] wraps */
    double box[2];      /* µm */
} ns_metric;

/* The metric between a and b (either order), or NS_EINVAL naming both (pa, pb are their
 * populations' names) when they do not share a space: a ring with a non-ring, two rings of
 * different circumference, two periodic grids of different extent. */
int ns_geom_metric(ns_ctx *ctx, const ns_geom *a, const char *pa, const ns_geom *b, const char *pb, ns_metric *m);
/* The distance (µm) from unit i of a to unit j of b under m. */
double ns_geom_distance(const ns_metric *m, const ns_geom *a, size_t i, const ns_geom *b, size_t j);

/* The grid cell (unit index of grid g) that the point (x, y) µm lies in: wrapped on a periodic
 * grid; -1 when it lies outside a non-periodic one. */
long ns_geom_cell(const ns_geom *g, double x, double y);

/* Write the lines "ID,x_um,y_um,z_um" of g's units, ID = first_id + k (a global id); 0 or -1
 * when the write failed. */
int ns_geom_write_csv(FILE *fp, const ns_geom *g, size_t first_id);

#endif
