/* sim/geometry.c — population geometries (ring, grid, positions) and the distance between two
 * of them. Every geometry keeps x, y, z per unit for figures and files; the metric reads the
 * ring's arc from the unit index and a grid's wrap from its extent, not from the coordinates. */
#include "sim/geometry.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static ns_geom *alloc_geom(ns_ctx *ctx, ns_geom_kind kind, size_t n)
{
    ns_geom *g = calloc(1, sizeof *g);
    if (g) g->pos = calloc(3 * n + 1, sizeof *g->pos);
    if (!g || !g->pos) {
        ns_geom_free(g);
        ns_error(ctx, NS_ENOMEM, "out of memory for the positions of %zu units", n);
        return NULL;
    }
    g->kind = kind;
    g->n = n;
    g->dims = 2;
    return g;
}

static int check_spacing(ns_ctx *ctx, const char *what, double s)
{
    if (!(isfinite(s) && s > 0 && s <= 1e12))
        return ns_error(ctx, NS_EINVAL, "%s spacing = %g µm is outside (0, 1e12]", what, s);
    return NS_OK;
}

ns_geom *ns_geom_ring(ns_ctx *ctx, size_t n, double spacing_um)
{
    if (check_spacing(ctx, "ring", spacing_um)) return NULL;
    if (n < 1) {
        ns_error(ctx, NS_EINVAL, "a ring needs at least 1 unit");
        return NULL;
    }
    ns_geom *g = alloc_geom(ctx, NS_GEOM_RING, n);
    if (!g) return NULL;
    g->nx = n;
    g->ny = 1;
    g->spacing = spacing_um;
    g->periodic = 1;
    const double two_pi = 6.283185307179586, r = (double)n * spacing_um / two_pi;
    for (size_t k = 0; k < n; k++) {
        double a = two_pi * (double)k / (double)n;
        g->pos[3 * k] = r * cos(a);
        g->pos[3 * k + 1] = r * sin(a);
    }
    return g;
}

ns_geom *ns_geom_grid(ns_ctx *ctx, size_t nx, size_t ny, double spacing_um, int periodic)
{
    if (check_spacing(ctx, "grid", spacing_um)) return NULL;
    if (nx < 1 || ny < 1 || nx > UINT32_MAX || ny > UINT32_MAX || nx * ny > UINT32_MAX) {
        ns_error(ctx, NS_EINVAL, "grid nx = %zu, ny = %zu: each must be at least 1, and nx * ny at most %u", nx, ny,
                 UINT32_MAX);
        return NULL;
    }
    ns_geom *g = alloc_geom(ctx, NS_GEOM_GRID, nx * ny);
    if (!g) return NULL;
    g->nx = nx;
    g->ny = ny;
    g->spacing = spacing_um;
    g->periodic = periodic != 0;
    for (size_t k = 0; k < g->n; k++) {
        g->pos[3 * k] = ((double)(k % nx) + 0.5) * spacing_um;
        g->pos[3 * k + 1] = ((double)(k / nx) + 0.5) * spacing_um;
    }
    return g;
}

ns_geom *ns_geom_points(ns_ctx *ctx, size_t n, const double *xyz, int dims)
{
    if (dims != 2 && dims != 3) {
        ns_error(ctx, NS_EINVAL, "positions have 2 or 3 coordinates, not %d", dims);
        return NULL;
    }
    for (size_t k = 0; k < n * (size_t)dims; k++)
        if (!isfinite(xyz[k])) {
            ns_error(ctx, NS_EINVAL, "position of unit %zu: coordinate %g is not a finite number (µm)",
                     k / (size_t)dims, xyz[k]);
            return NULL;
        }
    ns_geom *g = alloc_geom(ctx, NS_GEOM_POINTS, n);
    if (!g) return NULL;
    g->dims = dims;
    g->nx = n;
    g->ny = 1;
    for (size_t k = 0; k < n; k++)
        for (int d = 0; d < dims; d++) g->pos[3 * k + (size_t)d] = xyz[k * (size_t)dims + (size_t)d];
    return g;
}

/* Split a line into at most 4 comma-separated fields (trimmed, in place); the count, or 5 when
 * there are more. */
static int split_fields(char *line, char *f[4])
{
    int n = 0;
    for (char *p = line;;) {
        char *end = strchr(p, ',');
        if (end) *end = '\0';
        while (*p == ' ' || *p == '\t') p++;
        size_t len = strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' || p[len - 1] == '\n'))
            p[--len] = '\0';
        if (n == 4) return 5;
        f[n++] = p;
        if (!end) return n;
        p = end + 1;
    }
}

/* The reader's state: the file and where it went wrong. */
typedef struct {
    ns_ctx *ctx;
    const char *path;
    long lineno;
} reader;

static int bad_line(reader *r, const char *what, const char *text)
{
    return ns_error(r->ctx, NS_EINVAL, "%s:%ld: %s%s%.40s%s", r->path, r->lineno, what, text ? " ('" : "",
                    text ? text : "", text ? "')" : "");
}

ns_geom *ns_geom_read(ns_ctx *ctx, const char *path, size_t n)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        ns_error(ctx, NS_EIO, "%s: cannot read the positions file: %s", path, strerror(errno));
        return NULL;
    }
    reader r = {ctx, path, 0};
    double *xyz = malloc((3 * n + 1) * sizeof *xyz);
    char *line = NULL;
    size_t cap = 0, rows = 0;
    int dims = 0, rc = NS_OK, header_ok = 1, from_header = 0;
    if (!xyz) rc = ns_error(ctx, NS_ENOMEM, "%s: out of memory for %zu positions", path, n);
    while (!rc && getline(&line, &cap, fp) > 0) {
        r.lineno++;
        size_t skip = strspn(line, " \t\r\n");
        if (line[skip] == '\0' || line[skip] == '#') continue;
        char copy[48];
        snprintf(copy, sizeof copy, "%s", line + skip);
        copy[strcspn(copy, "\r\n")] = '\0';
        char *f[4];
        int nf = split_fields(line, f);
        if (header_ok && rows == 0 && dims == 0 && (f[0][0] < '0' || f[0][0] > '9') && f[0][0] != '-' &&
            f[0][0] != '+' && f[0][0] != '.') { /* a header names the columns */
            header_ok = 0;
            if (nf < 2 || nf > 3 || strcmp(f[0], "x_um") || strcmp(f[1], "y_um") || (nf == 3 && strcmp(f[2], "z_um")))
                rc = bad_line(&r, "the header must be x_um,y_um or x_um,y_um,z_um", copy);
            else dims = nf, from_header = 1;
            continue;
        }
        header_ok = 0;
        if (nf < 2 || nf > 3) {
            rc = bad_line(&r, "expected 2 or 3 numbers (x_um,y_um[,z_um])", copy);
            break;
        }
        if (dims && nf != dims) {
            rc = ns_error(ctx, NS_EINVAL, "%s:%ld: %d numbers where %s %d ('%s')", path, r.lineno, nf,
                          from_header ? "the header has" : "earlier lines have", dims, copy);
            break;
        }
        dims = nf;
        if (rows == n) {
            rc = ns_error(ctx, NS_EINVAL, "%s:%ld: more positions than the %zu units of the population", path,
                          r.lineno, n);
            break;
        }
        for (int d = 0; d < nf && !rc; d++) {
            char *end;
            errno = 0;
            double v = strtod(f[d], &end);
            if (end == f[d] || *end) rc = bad_line(&r, "not a number", f[d]);
            else if (!isfinite(v)) rc = bad_line(&r, "a coordinate must be a finite number of µm", f[d]);
            else xyz[rows * (size_t)nf + (size_t)d] = v;
        }
        rows++;
    }
    free(line);
    fclose(fp);
    if (!rc && rows != n)
        rc = ns_error(ctx, NS_EINVAL, "%s: %zu positions for the %zu units of the population (one line each)", path,
                      rows, n);
    ns_geom *g = rc ? NULL : ns_geom_points(ctx, n, xyz, dims);
    free(xyz);
    return g;
}

void ns_geom_free(ns_geom *g)
{
    if (!g) return;
    free(g->pos);
    free(g);
}

const char *ns_geom_kind_name(const ns_geom *g)
{
    switch (g->kind) {
    case NS_GEOM_RING: return "ring";
    case NS_GEOM_GRID: return "grid";
    case NS_GEOM_POINTS: return "positions";
    }
    return "?";
}

static int same(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)); }

int ns_geom_metric(ns_ctx *ctx, const ns_geom *a, const char *pa, const ns_geom *b, const char *pb, ns_metric *m)
{
    memset(m, 0, sizeof *m);
    int ra = a->kind == NS_GEOM_RING, rb = b->kind == NS_GEOM_RING;
    if (ra != rb)
        return ns_error(ctx, NS_EINVAL, "%s (%s) and %s (%s) share no space: a ring meets only a ring", pa,
                        ns_geom_kind_name(a), pb, ns_geom_kind_name(b));
    if (ra) {
        double ca = (double)a->n * a->spacing, cb = (double)b->n * b->spacing;
        if (!same(ca, cb))
            return ns_error(ctx, NS_EINVAL, "rings %s (%g µm round) and %s (%g µm round) differ in circumference", pa,
                            ca, pb, cb);
        m->ring = 1;
        m->box[0] = ca;
        return NS_OK;
    }
    const ns_geom *p = a->kind == NS_GEOM_GRID && a->periodic ? a : NULL;
    const ns_geom *q = b->kind == NS_GEOM_GRID && b->periodic ? b : NULL;
    if (p && q && !(same((double)p->nx * p->spacing, (double)q->nx * q->spacing) &&
                    same((double)p->ny * p->spacing, (double)q->ny * q->spacing)))
        return ns_error(ctx, NS_EINVAL,
                        "periodic grids %s (%g x %g µm) and %s (%g x %g µm) differ in extent: they wrap differently",
                        pa, (double)p->nx * p->spacing, (double)p->ny * p->spacing, pb, (double)q->nx * q->spacing,
                        (double)q->ny * q->spacing);
    if (!p) p = q;
    if (p) {
        m->wrap = 1;
        m->box[0] = (double)p->nx * p->spacing;
        m->box[1] = (double)p->ny * p->spacing;
    }
    return NS_OK;
}

/* The shortest image of a difference on a period of L. */
static double wrap(double d, double L)
{
    d = fmod(d, L);
    if (d > 0.5 * L) d -= L;
    else if (d < -0.5 * L) d += L;
    return d;
}

double ns_geom_distance(const ns_metric *m, const ns_geom *a, size_t i, const ns_geom *b, size_t j)
{
    if (m->ring) {
        double d = (double)i * a->spacing - (double)j * b->spacing;
        return fabs(wrap(d, m->box[0]));
    }
    const double *x = a->pos + 3 * i, *y = b->pos + 3 * j;
    double dx = x[0] - y[0], dy = x[1] - y[1], dz = x[2] - y[2];
    if (m->wrap) {
        dx = wrap(dx, m->box[0]);
        dy = wrap(dy, m->box[1]);
    }
    return sqrt(dx * dx + dy * dy + dz * dz);
}

long ns_geom_cell(const ns_geom *g, double x, double y)
{
    double cx = floor(x / g->spacing), cy = floor(y / g->spacing);
    double nx = (double)g->nx, ny = (double)g->ny;
    if (g->periodic) {
        cx -= nx * floor(cx / nx);
        cy -= ny * floor(cy / ny);
    } else if (cx < 0 || cx >= nx || cy < 0 || cy >= ny) {
        return -1;
    }
    return (long)cy * (long)g->nx + (long)cx;
}

int ns_geom_write_csv(FILE *fp, const ns_geom *g, size_t first_id)
{
    for (size_t k = 0; k < g->n; k++) {
        const double *p = g->pos + 3 * k;
        if (fprintf(fp, "%zu,%.12g,%.12g,%.12g\n", first_id + k, p[0], p[1], p[2]) < 0) return -1;
    }
    return 0;
}
