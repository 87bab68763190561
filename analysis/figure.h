/* analysis/figure.h — shared figure plumbing: a cairo image with a plot area, axes, legend, PNG out.
 * One style for every nsim figure (white page, DejaVu Sans, one palette); plots map data through
 * ns_figure_x/_y and draw inside the plot area, and the PNG is written by libpng with tEXt metadata. */
#ifndef NS_FIGURE_H
#define NS_FIGURE_H

#include <stddef.h>
#include <cairo.h>

typedef struct ns_figure ns_figure;

typedef struct { double r, g, b; } ns_rgb; /* components in [0, 1] */

/* One axis: data range, label with unit, tick policy. */
typedef struct {
    double lo, hi;       /* data values at the two ends of the plot area (lo != hi) */
    const char *label;   /* with unit, e.g. "time (ms)"; NULL for none */
    double min_step;     /* smallest tick step allowed (1 for integer ids), 0 for any */
    int log10;           /* nonzero: logarithmic axis with decade ticks (lo, hi > 0) */
} ns_axis;

enum { NS_LEGEND_ABOVE = 0, NS_LEGEND_INSIDE = 1 };

enum { NS_FIG_WIDTH = 1200, NS_FIG_HEIGHT = 800 };  /* default size in px */
enum { NS_PALETTE_SIZE = 10 };

/* Palette colour i (taken modulo NS_PALETTE_SIZE; negative gives the ink colour).
 * 0 is the excitatory blue, 1 the inhibitory red. */
ns_rgb ns_figure_palette(int i);

/* Ink colour for axes, text and data without a group (near black). */
ns_rgb ns_figure_ink(void);

/* Create a white width x height px figure (each 200..8000) with the standard margins.
 * Returns NULL on bad size or out of memory. */
ns_figure *ns_figure_create(int width_px, int height_px);

/* Free a figure; NULL is harmless. */
void ns_figure_free(ns_figure *f);

/* Repaint the whole figure white and forget the title, to draw it again. */
void ns_figure_clear(ns_figure *f);

/* The cairo context, lent for custom drawing (save/restore around changes); its target is an
 * ARGB32 image surface, so plots may also write pixels directly (flush, then mark dirty). */
cairo_t *ns_figure_cairo(ns_figure *f);

/* The plot area in px: left x, top y, width, height (whole pixels). */
void ns_figure_plot_area(const ns_figure *f, int *x, int *y, int *w, int *h);

/* Set the data ranges of the two axes. Returns 0, or -1 on a bad range (lo == hi, NaN,
 * or a non-positive end on a log axis); the previous axes stay. */
int ns_figure_set_axes(ns_figure *f, const ns_axis *x, const ns_axis *y);

/* Map a data value to a pixel coordinate (device px, may lie outside the plot area). */
double ns_figure_x(const ns_figure *f, double x);
double ns_figure_y(const ns_figure *f, double y);

/* Draw the frame, ticks, tick labels and axis labels of the current axes. */
void ns_figure_draw_axes(ns_figure *f);

/* Options for ns_figure_draw_axes_opt (bit flags; 0 is ns_figure_draw_axes). */
enum {
    NS_AXES_X_NO_LABELS = 1,  /* x ticks but no tick labels or label: a panel above another */
    NS_AXES_X_NONE = 2,       /* no x ticks at all (a colour bar) */
    NS_AXES_Y_RIGHT = 4,      /* y ticks, tick labels and label on the right of the frame */
    NS_AXES_Y_NONE = 8,       /* no y ticks, tick labels or label (rows the caller names) */
    NS_AXES_NO_LEGEND = 16    /* ns_raster_draw: no group legend (the caller names the groups);
                                 the axes ignore it */
};

/* Draw the frame and axes of the current plot area as ns_figure_draw_axes, with flags above. */
void ns_figure_draw_axes_opt(ns_figure *f, unsigned flags);

/* Move the plot area to a panel: left x, top y, width, height in px (at least 10 x 10, inside
 * the figure). Axes, mapping, legend, note and title then refer to it. Returns 0, or -1 (the
 * area stays). */
int ns_figure_set_plot_area(ns_figure *f, int x, int y, int w, int h);

/* Shrink a plot area (left x, width w, height h, px; its top stays) to the largest one of
 * width / height = ratio inside it, centred across, for square data cells; never below 10 px. */
void ns_figure_fit_aspect(int *x, int *w, int *h, double ratio);

/* Put the y axis label of later draws at x px (its baseline), or further from the frame when the
 * tick labels need the room: stacked panels then line their labels up. 0 resets to automatic. */
void ns_figure_set_ylabel_x(ns_figure *f, double x_px);

/* Where the last ns_figure_draw_axes* put the y axis label (baseline x, px; 0 if none). */
double ns_figure_ylabel_x(const ns_figure *f);

/* The whole figure's size in px. */
void ns_figure_size(const ns_figure *f, int *width_px, int *height_px);

/* The standard time axis for [t0_ms, t1_ms]: in ms, or in s when the span exceeds 2 s.
 * Fills a (no label for a NULL a) and returns the divisor from ms to the axis unit (1 or 1000). */
double ns_figure_time_axis(double t0_ms, double t1_ms, ns_axis *a);

/* Draw s in the figure font, size_px high, colour c, baseline at (x, y) px; ax 0 starts, 0.5
 * centres, 1 ends the text at the point. vertical: reading upwards, ax along the text. */
void ns_figure_text(ns_figure *f, double x, double y, double ax, double size_px, int vertical,
                    ns_rgb c, const char *s);

/* Width in px of s in the figure font at size_px (its advance). */
double ns_figure_text_width(ns_figure *f, double size_px, const char *s);

/* Draw the title centred above the plot area (shrunk to fit); also stored as the PNG "Title".
 * NULL or "" draws nothing. */
void ns_figure_title(ns_figure *f, const char *title);

/* Draw a small grey note at the top left above the plot area (e.g. spike count, rate). */
void ns_figure_note(ns_figure *f, const char *text);

/* Draw a legend: a coloured patch and a name per entry. colours[i] indexes the palette.
 * where is NS_LEGEND_ABOVE (one row right-aligned above the plot, right of the note drawn for this
 * plot area; when the note leaves too little room, the note moves a row up; inside when wider
 * than the plot) or NS_LEGEND_INSIDE (a box in the top right of the plot area). Draw the note
 * first. */
void ns_figure_legend(ns_figure *f, const char *const *names, const int *colours, int n, int where);

/* Stroke a line through n data points (x[i], y[i]) clipped to the plot area; width in px.
 * Non-finite points break the line. */
void ns_figure_polyline(ns_figure *f, const double *x, const double *y, long n, int colour,
                        double width_px);

/* One tick of an axis: its value (data units), whether it is a major (long) tick, and its label
 * ("" for an unlabelled minor tick). */
typedef struct {
    double value;
    int major;
    char label[32];
} ns_tick;

/* The ticks ns_figure_draw_axes draws on axis a when it is len_px long (is_y: a y axis, whose
 * labels may stand closer): linear 1-2-5 ticks, or on a log axis labelled decades, with 1-2-5
 * or 1..9 labels where the range holds fewer than two decades. Writes at most cap ticks in
 * increasing value and returns their count (0 for a bad axis). */
int ns_figure_axis_ticks(const ns_axis *a, double len_px, int is_y, ns_tick *t, int cap);

/* Nice ticks for [lo, hi]: a step of 1, 2 or 5 times a power of ten (at least min_step),
 * about target ticks. Writes the first tick and the step; returns the tick count (0 if none). */
int ns_figure_nice_ticks(double lo, double hi, int target, double min_step,
                         double *first, double *step);

/* Write the figure as an RGBA PNG at path, through a temporary file in the same folder renamed
 * into place. keys/values (n_text pairs, may be 0) go into tEXt chunks (iTXt if a value is not
 * ASCII), after "Software" = "nsim" and the title unless the caller gives those keys.
 * Returns 0, or -1 with a one-line message naming the path in err (errlen bytes). */
int ns_figure_write_png(ns_figure *f, const char *path, const char *const *keys,
                        const char *const *values, int n_text, char *err, size_t errlen);

/* Draw title (may be NULL), write the PNG as ns_figure_write_png does, and free f whatever happens.
 * Returns its result. */
int ns_figure_finish(ns_figure *f, const char *title, const char *path, const char *const *keys,
                     const char *const *values, int n_text, char *err, size_t errlen);

/* Direct access to the figure's pixels, for images painted cell by cell: *data is the first row
 * (32-bit premultiplied ARGB words in native order, as pack-style helpers make), *stride its bytes
 * per row. Call ns_figure_pixels_done after writing and before drawing anything else. */
void ns_figure_pixels(ns_figure *f, unsigned char **data, int *stride);
void ns_figure_pixels_done(ns_figure *f);

#endif
