/* analysis/shapes.h — synthetic test images with their ground truth: 2-4 non-touching shapes of
 * comparable area, each at its own grey level on a background, with Gaussian pixel noise, and the
 * mask that labels every pixel by the object it belongs to. A pure function of the seed. */
#ifndef NS_SHAPES_H
#define NS_SHAPES_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    NS_SHAPE_SQUARE = 0, /* axis-aligned square */
    NS_SHAPE_DISC,       /* filled disc */
    NS_SHAPE_TRIANGLE,   /* equilateral triangle, pointing up */
    NS_SHAPE_BAR,        /* rectangle 3:1, horizontal or vertical (drawn from the seed) */
    NS_SHAPE_RING,       /* annulus, inner radius 0.55 of the outer */
    NS_SHAPE_COUNT
} ns_shape_kind;

enum { NS_SHAPES_MIN_OBJECTS = 2, NS_SHAPES_MAX_OBJECTS = 4 };
enum { NS_SHAPES_GAP_PX = 2 };     /* background pixels at least between objects and to the border */
#define NS_SHAPES_MAX_AREA_RATIO 1.5 /* largest / smallest object area, at most */
#define NS_SHAPES_BACKGROUND 0.1     /* grey level of the background (before noise) */

/* The kind named s ("square", "disc", "triangle", "bar", "ring"), or -1. */
int ns_shape_kind_parse(const char *s);
/* The name of a kind ("?" for a bad one). */
const char *ns_shape_kind_name(int kind);

/* Make a width x height px image (each 16..4096) of n_objects (2..4) shapes: object j (1-based
 * label) has kind kinds[(j - 1) % n_kinds] (n_kinds >= 1; kinds NULL: square, disc, triangle,
 * bar in turn). Objects are separated by at least NS_SHAPES_GAP_PX background pixels from each
 * other and from the border (any pixel of one object is at least GAP + 1 px away from any pixel
 * of another in the max-norm), each is 4-connected, and their pixel areas are equalised to within
 * NS_SHAPES_MAX_AREA_RATIO (in practice a few %). Objects take grey levels evenly spaced in
 * [0.35, 0.95] in a seeded order, the background NS_SHAPES_BACKGROUND; Gaussian noise of standard
 * deviation noise_sd (0..1, grey units) is added to every pixel and the result clipped to [0, 1].
 * image (width * height doubles, row-major: pixel (x, y) at y * width + x, y = 0 the top row)
 * and mask (same layout: 0 background, 1..n_objects the objects) are the caller's. The same
 * arguments and seed give the same image on any machine. Returns 0, or -1 with a one-line
 * message (bad arguments with their allowed ranges, or an image too small to hold the shapes). */
int ns_shapes_make(int width, int height, int n_objects, const int *kinds, int n_kinds, double noise_sd,
                   uint64_t seed, double *image, int *mask, char *err, size_t errlen);

#endif
