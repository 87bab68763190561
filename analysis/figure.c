/* analysis/figure.c — shared figure plumbing: layout, axes with 1-2-5 ticks, legend, PNG writer.
 * cairo draws into an ARGB32 image; the writer un-premultiplies it to RGBA and streams it through
 * libpng (for tEXt metadata) into a temporary file that is renamed into place only when complete. */
#include "analysis/figure.h"
#include "base/errmsg.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Layout in px, and font sizes in px: chosen for a 1200 x 800 figure seen at 100 %. */
enum { MARGIN_LEFT = 100, MARGIN_RIGHT = 40, MARGIN_TOP = 80, MARGIN_BOTTOM = 76 };
#define FONT_FACE     "DejaVu Sans"
#define SIZE_TITLE    20.0
#define SIZE_LABEL    16.0
#define SIZE_TICK     14.0
#define SIZE_LEGEND   14.0
#define SIZE_NOTE     13.0
#define TICK_LEN      6.0
#define LOG_SEP_X     56.0    /* least px between labels on a log x axis */
#define LOG_SEP_Y     26.0    /* and on a log y axis */
#define SECONDS_ABOVE_MS 2000.0  /* time axes switch from ms to s beyond this span */

enum { MAX_TICKS = 96 };
static const double half_turn = 3.14159265358979323846;  /* M_PI is not C11 */

struct ns_figure {
    cairo_surface_t *surf;
    cairo_t *cr;
    int width, height;
    int px, py, pw, ph;          /* plot area */
    ns_axis ax[2];               /* x, y; labels point into label[] */
    char label[2][160];
    char title[256];
    double ylabel_want, ylabel_got;  /* y label baseline x: requested (0 auto), last drawn */
    int note_px, note_py;        /* the plot area of the last note (-1: none) */
    double note_x1;              /* and the right end of its text, px */
    char note[256];              /* its text */
};

typedef ns_tick tick;

static const ns_rgb palette[NS_PALETTE_SIZE] = {
    {0.122, 0.388, 0.737},  /* blue: excitatory */
    {0.839, 0.153, 0.157},  /* red: inhibitory */
    {0.173, 0.627, 0.173},  /* green */
    {0.953, 0.506, 0.047},  /* orange */
    {0.502, 0.302, 0.702},  /* purple */
    {0.090, 0.651, 0.702},  /* teal */
    {0.882, 0.337, 0.741},  /* magenta */
    {0.557, 0.361, 0.235},  /* brown */
    {0.600, 0.600, 0.098},  /* olive */
    {0.467, 0.467, 0.467},  /* grey */
};
static const ns_rgb ink = {0.13, 0.13, 0.13};

ns_rgb ns_figure_palette(int i)
{
    if (i < 0) return ink;
    return palette[i % NS_PALETTE_SIZE];
}

ns_rgb ns_figure_ink(void) { return ink; }

static void set_rgb(cairo_t *cr, ns_rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

static void font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FONT_FACE, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* Draw s with its reference point at (x, y): ax 0 left, 0.5 centre, 1 right; baseline at y. */
static void text_at(cairo_t *cr, double x, double y, double ax, const char *s)
{
    cairo_move_to(cr, x - ax * text_width(cr, s), y);
    cairo_show_text(cr, s);
}

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

ns_figure *ns_figure_create(int width_px, int height_px)
{
    if (width_px < 200 || height_px < 200 || width_px > 8000 || height_px > 8000) return NULL;
    ns_figure *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width_px, height_px);
    if (cairo_surface_status(f->surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(f->surf);
        free(f);
        return NULL;
    }
    f->cr = cairo_create(f->surf);
    if (cairo_status(f->cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(f->cr);
        cairo_surface_destroy(f->surf);
        free(f);
        return NULL;
    }
    f->width = width_px;
    f->height = height_px;
    f->px = MARGIN_LEFT;
    f->py = MARGIN_TOP;
    f->pw = width_px - MARGIN_LEFT - MARGIN_RIGHT;
    f->ph = height_px - MARGIN_TOP - MARGIN_BOTTOM;
    for (int k = 0; k < 2; k++) f->ax[k] = (ns_axis){0.0, 1.0, f->label[k], 0.0, 0};

    ns_figure_clear(f);
    return f;
}

void ns_figure_free(ns_figure *f)
{
    if (!f) return;
    cairo_destroy(f->cr);
    cairo_surface_destroy(f->surf);
    free(f);
}

void ns_figure_clear(ns_figure *f)
{
    cairo_save(f->cr);
    cairo_reset_clip(f->cr);
    cairo_set_source_rgb(f->cr, 1, 1, 1);
    cairo_paint(f->cr);
    cairo_restore(f->cr);
    f->title[0] = '\0';
    f->note_px = f->note_py = -1;
}

cairo_t *ns_figure_cairo(ns_figure *f) { return f->cr; }

void ns_figure_plot_area(const ns_figure *f, int *x, int *y, int *w, int *h)
{
    if (x) *x = f->px;
    if (y) *y = f->py;
    if (w) *w = f->pw;
    if (h) *h = f->ph;
}

static int axis_ok(const ns_axis *a)
{
    if (!a || !isfinite(a->lo) || !isfinite(a->hi) || a->lo == a->hi) return 0;
    if (!isfinite(a->min_step) || a->min_step < 0) return 0;
    if (a->log10 && (a->lo <= 0 || a->hi <= 0)) return 0;
    return 1;
}

int ns_figure_set_axes(ns_figure *f, const ns_axis *x, const ns_axis *y)
{
    if (!f || !axis_ok(x) || !axis_ok(y)) return -1;
    const ns_axis *in[2] = {x, y};
    for (int k = 0; k < 2; k++) {
        f->ax[k] = *in[k];
        copy_str(f->label[k], sizeof f->label[k], in[k]->label);
        f->ax[k].label = f->label[k];
    }
    return 0;
}

/* Fraction of the way from lo to hi, linear or logarithmic. */
static double axis_frac(const ns_axis *a, double v)
{
    if (a->log10) {
        if (!(v > 0)) return NAN;
        return (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    }
    return (v - a->lo) / (a->hi - a->lo);
}

double ns_figure_x(const ns_figure *f, double x)
{
    return f->px + axis_frac(&f->ax[0], x) * f->pw;
}

double ns_figure_y(const ns_figure *f, double y)
{
    return f->py + f->ph - axis_frac(&f->ax[1], y) * f->ph;
}

/* The 1-2-5 ladder: the next nice step above s. */
static double nice_up(double s)
{
    double mag = pow(10.0, floor(log10(s) + 1e-9));
    double m = s / mag;
    if (m < 1.5) return 2 * mag;
    if (m < 3.5) return 5 * mag;
    return 10 * mag;
}

int ns_figure_nice_ticks(double lo, double hi, int target, double min_step,
                         double *first, double *step)
{
    if (!isfinite(lo) || !isfinite(hi) || target < 1 || lo == hi) return 0;
    if (lo > hi) { double t = lo; lo = hi; hi = t; }
    double raw = (hi - lo) / target;
    double mag = pow(10.0, floor(log10(raw)));
    /* the 1-2-5 step nearest to raw, in log terms */
    static const double mult[4] = {1, 2, 5, 10};
    double s = mag, best = INFINITY;
    for (int i = 0; i < 4; i++) {
        double d = fabs(log(mult[i] * mag / raw));
        if (d < best) { best = d; s = mult[i] * mag; }
    }
    if (isfinite(min_step) && min_step > 0) {
        while (s < min_step * (1 - 1e-9)) s = nice_up(s);
    }
    double k0 = ceil(lo / s - 1e-9), k1 = floor(hi / s + 1e-9);
    if (k1 < k0) return 0;
    double n = k1 - k0 + 1;
    if (n > 100000) return 0;
    *first = k0 * s;
    if (fabs(*first) < 1e-9 * s) *first = 0;  /* no "-0" */
    *step = s;
    return (int)n;
}

static void format_value(char *buf, size_t n, double v, double step)
{
    if (fabs(v) < 1e-9 * step) v = 0;
    if (v != 0 && (fabs(v) >= 1e7 || fabs(v) < 1e-4)) {
        snprintf(buf, n, "%g", v);
        return;
    }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 8) dec = 8;
    snprintf(buf, n, "%.*f", dec, v);
}

static int linear_ticks(double lo, double hi, int target, double min_step, tick *t, int cap)
{
    double first, step;
    int n = ns_figure_nice_ticks(lo, hi, target, min_step, &first, &step);
    if (n > cap) n = cap;
    for (int i = 0; i < n; i++) {
        t[i].value = first + i * step;
        t[i].major = 1;
        format_value(t[i].label, sizeof t[i].label, t[i].value, step);
    }
    return n;
}

/* Label of m * 10^k: plain decimals for moderate powers, "2e-5" beyond. */
static void format_log(char *buf, size_t n, int m, int k)
{
    if (k >= -4 && k <= 6) snprintf(buf, n, "%.*f", k < 0 ? -k : 0, m * pow(10.0, k));
    else snprintf(buf, n, "%de%d", m, k);
}

/* Log axis ticks for an axis len_px long whose labels need sep_px each: labelled decades (every
 * e-th when crowded), or 1-2-5 or 1..9 labels when a decade is wide or fewer than three decades
 * are in range, and short unlabelled ticks at the other m * 10^k where they fit. Fewer than two
 * labels in range even so: linear ticks instead. */
static int log_ticks(const ns_axis *a, double lo, double hi, double len_px, double sep_px,
                     int target, tick *t, int cap)
{
    double ppd = len_px / (log10(hi) - log10(lo));  /* px per decade */
    int every = ppd >= sep_px ? 1 : (int)ceil(sep_px / ppd);
    int level = 0;                                  /* 0 decades, 1 1-2-5, 2 every 1..9 */
    if (every == 1 && ppd * log10(2.0) >= 1.6 * sep_px) level = 1;   /* uncrowded decades */
    if (level == 1 && ppd * log10(10.0 / 9.0) >= sep_px) level = 2;
    int k0 = (int)floor(log10(lo) + 1e-9), k1 = (int)ceil(log10(hi) - 1e-9);
    int n = 0, labelled = 0;
    for (;;) {
        n = labelled = 0;
        double last = 0;  /* the last labelled value; 0 before the first */
        for (int k = k0; k <= k1 && n < cap; k++)
            for (int m = 1; m <= 9 && n < cap; m++) {
                double v = m * pow(10.0, k), next = pow(10.0, k + 1);
                if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9)) continue;
                int lab;
                if (m == 1) lab = ((k % every) + every) % every == 0;
                else {
                    lab = level == 2 || (level == 1 && (m == 2 || m == 5));
                    /* only sep_px from the last label and from the next decade's */
                    if (lab && last > 0 && ppd * log10(v / last) < sep_px) lab = 0;
                    if (lab && next <= hi * (1 + 1e-9) && ppd * log10(next / v) < sep_px) lab = 0;
                }
                if (!lab && !(m == 1 || (every == 1 && ppd >= 40 && k1 - k0 <= 10))) continue;
                t[n].value = v;
                t[n].major = lab || m == 1;
                if (lab) format_log(t[n].label, sizeof t[n].label, m, k);
                else t[n].label[0] = '\0';
                labelled += lab;
                if (lab) last = v;
                n++;
            }
        /* a short axis, e.g. 15-500 Hz with only 100 in it, or 130-990 ms: label 1-2-5, then
         * 1..9 within the decades where they stand sep_px apart, rather than fall back to
         * linear ticks */
        if (labelled >= 3 || every > 1 || level == 2) break;
        level++;
    }
    if (labelled >= 2) return n;
    return linear_ticks(lo, hi, target, a->min_step, t, cap);
}

static int axis_ticks(const ns_axis *a, int target, double len_px, double sep_px, tick *t,
                      int cap)
{
    double lo = fmin(a->lo, a->hi), hi = fmax(a->lo, a->hi);
    if (!a->log10) return linear_ticks(lo, hi, target, a->min_step, t, cap);
    return log_ticks(a, lo, hi, len_px, sep_px, target, t, cap);
}

/* Tick targets: about one x label per 150 px, one y label per 90 px, at least 2. */
static int tick_target(double len_px, int is_y)
{
    int t = (int)(len_px / (is_y ? 90 : 150));
    return t > 2 ? t : 2;
}

int ns_figure_axis_ticks(const ns_axis *a, double len_px, int is_y, ns_tick *t, int cap)
{
    if (!axis_ok(a) || !t || cap < 1 || !(len_px > 0)) return 0;
    return axis_ticks(a, tick_target(len_px, is_y), len_px, is_y ? LOG_SEP_Y : LOG_SEP_X, t, cap);
}

void ns_figure_draw_axes(ns_figure *f) { ns_figure_draw_axes_opt(f, 0); }

void ns_figure_draw_axes_opt(ns_figure *f, unsigned flags)
{
    cairo_t *cr = f->cr;
    tick t[MAX_TICKS];
    ns_rgb c = ink;
    int right = (flags & NS_AXES_Y_RIGHT) != 0;
    cairo_save(cr);
    set_rgb(cr, c);
    cairo_set_line_width(cr, 1.0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    cairo_rectangle(cr, f->px - 0.5, f->py - 0.5, f->pw + 1.0, f->ph + 1.0);
    cairo_stroke(cr);

    font(cr, SIZE_TICK, 0);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);

    /* x axis: ticks below the frame, labels centred under them */
    int nx = 0;
    if (!(flags & NS_AXES_X_NONE))
        nx = ns_figure_axis_ticks(&f->ax[0], f->pw, 0, t, MAX_TICKS);
    double ybase = f->py + f->ph + 0.5;
    for (int i = 0; i < nx; i++) {
        double x = floor(ns_figure_x(f, t[i].value)) + 0.5;
        double len = t[i].major ? TICK_LEN : TICK_LEN / 2;
        cairo_move_to(cr, x, ybase);
        cairo_line_to(cr, x, ybase + len);
        cairo_stroke(cr);
        if (t[i].label[0] && !(flags & NS_AXES_X_NO_LABELS))
            text_at(cr, x, ybase + TICK_LEN + 4 + fe.ascent, 0.5, t[i].label);
    }

    /* y axis: ticks left of the frame, labels right-aligned and vertically centred (mirrored
     * on the right side) */
    int ny = (flags & NS_AXES_Y_NONE) ? 0 : ns_figure_axis_ticks(&f->ax[1], f->ph, 1, t, MAX_TICKS);
    double side = right ? 1.0 : -1.0;
    double xbase = right ? f->px + f->pw + 0.5 : f->px - 0.5, widest = 0;
    for (int i = 0; i < ny; i++) {
        double y = floor(ns_figure_y(f, t[i].value)) + 0.5;
        double len = t[i].major ? TICK_LEN : TICK_LEN / 2;
        cairo_move_to(cr, xbase, y);
        cairo_line_to(cr, xbase + side * len, y);
        cairo_stroke(cr);
        if (t[i].label[0]) {
            double w = text_width(cr, t[i].label);
            if (w > widest) widest = w;
            text_at(cr, xbase + side * (TICK_LEN + 4), y + 0.5 * (fe.ascent - fe.descent),
                    right ? 0.0 : 1.0, t[i].label);
        }
    }

    font(cr, SIZE_LABEL, 0);
    cairo_font_extents(cr, &fe);
    if (f->label[0][0] && !(flags & (NS_AXES_X_NO_LABELS | NS_AXES_X_NONE)))
        text_at(cr, f->px + 0.5 * f->pw, f->py + f->ph + TICK_LEN + 4 + SIZE_TICK + 12 + fe.ascent,
                0.5, f->label[0]);
    if (f->label[1][0] && !(flags & NS_AXES_Y_NONE)) {
        /* rotated a quarter turn: the glyphs lie in [x - ascent, x + descent] */
        double x;
        if (right) {
            x = xbase + TICK_LEN + 4 + widest + 10 + fe.ascent;
            if (f->ylabel_want > 0 && f->ylabel_want > x) x = f->ylabel_want;
            if (x > f->width - fe.descent - 4) x = f->width - fe.descent - 4;
        } else {
            x = xbase - TICK_LEN - 4 - widest - 10 - fe.descent;
            if (f->ylabel_want > 0 && f->ylabel_want < x) x = f->ylabel_want;
            if (x < fe.ascent + 4) x = fe.ascent + 4;
        }
        f->ylabel_got = x;
        cairo_save(cr);
        cairo_translate(cr, x, f->py + 0.5 * f->ph);
        cairo_rotate(cr, -half_turn / 2);
        text_at(cr, 0, 0, 0.5, f->label[1]);
        cairo_restore(cr);
    }
    cairo_restore(cr);
}

int ns_figure_set_plot_area(ns_figure *f, int x, int y, int w, int h)
{
    if (!f || w < 10 || h < 10 || x < 0 || y < 0 || x > f->width - w || y > f->height - h)
        return -1;
    f->px = x;
    f->py = y;
    f->pw = w;
    f->ph = h;
    return 0;
}

void ns_figure_fit_aspect(int *x, int *w, int *h, double ratio)
{
    if (ratio * *h > *w) {
        *h = (int)lround(*w / ratio);
    } else {
        const int fit = (int)lround(*h * ratio);
        *x += (*w - fit) / 2;
        *w = fit;
    }
    if (*w < 10) *w = 10;
    if (*h < 10) *h = 10;
}

void ns_figure_set_ylabel_x(ns_figure *f, double x_px)
{
    if (f) f->ylabel_want = isfinite(x_px) && x_px > 0 ? x_px : 0;
}

double ns_figure_ylabel_x(const ns_figure *f) { return f ? f->ylabel_got : 0; }

void ns_figure_size(const ns_figure *f, int *width_px, int *height_px)
{
    if (width_px) *width_px = f->width;
    if (height_px) *height_px = f->height;
}

double ns_figure_time_axis(double t0_ms, double t1_ms, ns_axis *a)
{
    int in_s = fabs(t1_ms - t0_ms) > SECONDS_ABOVE_MS;
    double div = in_s ? 1000.0 : 1.0;
    if (a) *a = (ns_axis){t0_ms / div, t1_ms / div, in_s ? "time (s)" : "time (ms)", 0.0, 0};
    return div;
}

void ns_figure_text(ns_figure *f, double x, double y, double ax, double size_px, int vertical,
                    ns_rgb c, const char *s)
{
    if (!f || !s || !s[0]) return;
    cairo_t *cr = f->cr;
    cairo_save(cr);
    font(cr, size_px > 0 ? size_px : SIZE_TICK, 0);
    set_rgb(cr, c);
    cairo_translate(cr, x, y);
    if (vertical) cairo_rotate(cr, -half_turn / 2);
    text_at(cr, 0, 0, ax, s);
    cairo_restore(cr);
}

double ns_figure_text_width(ns_figure *f, double size_px, const char *s)
{
    if (!f || !s) return 0;
    cairo_save(f->cr);
    font(f->cr, size_px > 0 ? size_px : SIZE_TICK, 0);
    double w = text_width(f->cr, s);
    cairo_restore(f->cr);
    return w;
}

void ns_figure_title(ns_figure *f, const char *title)
{
    if (!title || !title[0]) return;
    copy_str(f->title, sizeof f->title, title);
    cairo_t *cr = f->cr;
    cairo_save(cr);
    double size = SIZE_TITLE;
    font(cr, size, 1);
    double w = text_width(cr, title);
    if (w > f->width - 20) {
        size = fmax(8.0, size * (f->width - 20) / w);
        font(cr, size, 1);
        w = text_width(cr, title);
    }
    double cx = f->px + 0.5 * f->pw;
    if (cx - 0.5 * w < 10) cx = 10 + 0.5 * w;
    if (cx + 0.5 * w > f->width - 10) cx = f->width - 10 - 0.5 * w;
    set_rgb(cr, ink);
    text_at(cr, cx, 34, 0.5, title);
    cairo_restore(cr);
}

void ns_figure_note(ns_figure *f, const char *text)
{
    if (!text || !text[0]) return;
    cairo_t *cr = f->cr;
    cairo_save(cr);
    font(cr, SIZE_NOTE, 0);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    text_at(cr, f->px, f->py - 12, 0.0, text);
    copy_str(f->note, sizeof f->note, text);
    f->note_px = f->px;
    f->note_py = f->py;
    f->note_x1 = f->px + text_width(cr, text);
    cairo_restore(cr);
}

void ns_figure_legend(ns_figure *f, const char *const *names, const int *colours, int n, int where)
{
    if (!names || !colours || n <= 0) return;
    cairo_t *cr = f->cr;
    const double patch = 14, gap = 6, sep = 20, row = 22, pad = 8;
    cairo_save(cr);
    font(cr, SIZE_LEGEND, 0);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);

    double total = 0, widest = 0;
    for (int i = 0; i < n; i++) {
        double w = patch + gap + text_width(cr, names[i] ? names[i] : "");
        total += w + (i ? sep : 0);
        if (w > widest) widest = w;
    }

    /* above: in the note's row right of the note, else a row higher (under the title), else
     * inside the plot */
    double room = f->pw;
    if (f->note_px == f->px && f->note_py == f->py) room = f->px + f->pw - f->note_x1 - sep;
    double base = f->py - 12;
    if (where == NS_LEGEND_ABOVE && total > room && total <= f->pw && f->py - 12 - 18 - SIZE_NOTE >= 36) {
        /* the note moves a row up (erased and drawn again), the legend takes its row */
        cairo_font_extents_t ne;
        cairo_save(cr);
        font(cr, SIZE_NOTE, 0);
        cairo_font_extents(cr, &ne);
        cairo_rectangle(cr, f->px - 1, base - ne.ascent - 1, f->note_x1 - f->px + 2,
                        ne.ascent + ne.descent + 2);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        text_at(cr, f->px, base - 18, 0.0, f->note);
        cairo_restore(cr);
        room = f->pw;
    }
    if (where == NS_LEGEND_ABOVE && total <= room) {
        double x = f->px + f->pw - total;
        for (int i = 0; i < n; i++) {
            const char *s = names[i] ? names[i] : "";
            set_rgb(cr, ns_figure_palette(colours[i]));
            cairo_rectangle(cr, x, base - patch + 2, patch, patch);
            cairo_fill(cr);
            set_rgb(cr, ink);
            text_at(cr, x + patch + gap, base, 0.0, s);
            x += patch + gap + text_width(cr, s) + sep;
        }
    } else {
        double bw = widest + 2 * pad, bh = n * row + 2 * pad - (row - patch);
        double bx = f->px + f->pw - 10 - bw, by = f->py + 10;
        cairo_rectangle(cr, floor(bx) + 0.5, floor(by) + 0.5, ceil(bw), ceil(bh));
        cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
        cairo_set_line_width(cr, 1.0);
        cairo_stroke(cr);
        for (int i = 0; i < n; i++) {
            double y = by + pad + i * row;
            set_rgb(cr, ns_figure_palette(colours[i]));
            cairo_rectangle(cr, bx + pad, y, patch, patch);
            cairo_fill(cr);
            set_rgb(cr, ink);
            text_at(cr, bx + pad + patch + gap, y + 0.5 * patch + 0.5 * (fe.ascent - fe.descent),
                    0.0, names[i] ? names[i] : "");
        }
    }
    cairo_restore(cr);
}

void ns_figure_polyline(ns_figure *f, const double *x, const double *y, long n, int colour,
                        double width_px)
{
    if (!x || !y || n < 2) return;
    cairo_t *cr = f->cr;
    cairo_save(cr);
    cairo_rectangle(cr, f->px, f->py, f->pw, f->ph);
    cairo_clip(cr);
    cairo_new_path(cr);
    int pen = 0;
    for (long i = 0; i < n; i++) {
        double u = ns_figure_x(f, x[i]), v = ns_figure_y(f, y[i]);
        if (!isfinite(u) || !isfinite(v)) { pen = 0; continue; }
        if (pen) cairo_line_to(cr, u, v);
        else cairo_move_to(cr, u, v);
        pen = 1;
    }
    set_rgb(cr, ns_figure_palette(colour));
    cairo_set_line_width(cr, width_px > 0 ? width_px : 1.5);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_stroke(cr);
    cairo_restore(cr);
}

/* ---- PNG output ---- */

typedef struct { jmp_buf jb; char msg[160]; } png_failure;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_failure *pf = png_get_error_ptr(png);
    copy_str(pf->msg, sizeof pf->msg, msg);
    longjmp(pf->jb, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;  /* library code stays silent */
}

/* A PNG keyword: 1-79 printable Latin-1 characters, no leading, trailing or double spaces. */
static int keyword_ok(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n < 1 || n > 79 || k[0] == ' ' || k[n - 1] == ' ') return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (c < 32 || c > 126) return 0;
        if (c == ' ' && k[i + 1] == ' ') return 0;
    }
    return 1;
}

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s > 126 || ((unsigned char)*s < 32 && *s != '\n')) return 0;
    return 1;
}

/* Stream the surface into fp as 8-bit RGBA. row is a scratch buffer of 4*width bytes. */
static int png_stream(FILE *fp, cairo_surface_t *surf, png_text *text, int ntext,
                      unsigned char *row, char *msg, size_t msglen)
{
    png_failure pf;
    pf.msg[0] = '\0';
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &pf, on_png_error,
                                              on_png_warning);
    if (!png) { copy_str(msg, msglen, "out of memory"); return -1; }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        copy_str(msg, msglen, "out of memory");
        return -1;
    }
    if (setjmp(pf.jb)) {
        png_destroy_write_struct(&png, &info);
        copy_str(msg, msglen, pf.msg[0] ? pf.msg : "libpng error");
        return -1;
    }

    int w = cairo_image_surface_get_width(surf), h = cairo_image_surface_get_height(surf);
    int stride = cairo_image_surface_get_stride(surf);
    const unsigned char *data = cairo_image_surface_get_data(surf);

    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB_ALPHA,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (ntext > 0) png_set_text(png, info, text, ntext);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        /* ARGB32 is native-endian 32-bit words with colour premultiplied by alpha */
        const uint32_t *src = (const uint32_t *)(const void *)(data + (size_t)y * stride);
        for (int x = 0; x < w; x++) {
            uint32_t p = src[x], a = p >> 24;
            uint32_t r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
            if (a == 0) {
                r = g = b = 0;
            } else if (a < 255) {
                r = (r * 255 + a / 2) / a;
                g = (g * 255 + a / 2) / a;
                b = (b * 255 + a / 2) / a;
                if (r > 255) r = 255;
                if (g > 255) g = 255;
                if (b > 255) b = 255;
            }
            unsigned char *d = row + 4 * (size_t)x;
            d[0] = (unsigned char)r;
            d[1] = (unsigned char)g;
            d[2] = (unsigned char)b;
            d[3] = (unsigned char)a;
        }
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}

static int has_key(const char *const *keys, int n, const char *k)
{
    for (int i = 0; i < n; i++)
        if (keys[i] && strcmp(keys[i], k) == 0) return 1;
    return 0;
}

int ns_figure_finish(ns_figure *f, const char *title, const char *path, const char *const *keys,
                     const char *const *values, int n_text, char *err, size_t errlen)
{
    ns_figure_title(f, title);
    int rc = ns_figure_write_png(f, path, keys, values, n_text, err, errlen);
    ns_figure_free(f);
    return rc;
}

void ns_figure_pixels(ns_figure *f, unsigned char **data, int *stride)
{
    cairo_surface_flush(f->surf);
    *data = cairo_image_surface_get_data(f->surf);
    *stride = cairo_image_surface_get_stride(f->surf);
}

void ns_figure_pixels_done(ns_figure *f) { cairo_surface_mark_dirty(f->surf); }

int ns_figure_write_png(ns_figure *f, const char *path, const char *const *keys,
                        const char *const *values, int n_text, char *err, size_t errlen)
{
    if (!f || !path || !path[0]) { ns_errmsg(err, errlen, "no figure or no output path"); return -1; }
    if (n_text < 0 || (n_text > 0 && (!keys || !values))) {
        ns_errmsg(err, errlen, "cannot write '%s': bad text pairs", path);
        return -1;
    }
    for (int i = 0; i < n_text; i++)
        if (!keyword_ok(keys[i])) {
            ns_errmsg(err, errlen, "cannot write '%s': bad PNG text key '%s' (1-79 printable "
                    "characters)", path, keys[i] ? keys[i] : "(null)");
            return -1;
        }

    png_text *text = calloc((size_t)n_text + 2, sizeof *text);
    unsigned char *row = malloc(4 * (size_t)f->width);
    char *tmp = malloc(strlen(path) + 48);
    if (!text || !row || !tmp) {
        free(text); free(row); free(tmp);
        ns_errmsg(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }

    /* libpng copies the strings, so lending const ones is safe */
    int nt = 0;
    if (!has_key(keys, n_text, "Software")) {
        text[nt].key = (png_charp)"Software";
        text[nt].text = (png_charp)"nsim";
        text[nt++].compression = PNG_TEXT_COMPRESSION_NONE;
    }
    if (f->title[0] && !has_key(keys, n_text, "Title")) {
        text[nt].key = (png_charp)"Title";
        text[nt].text = f->title;
        text[nt].compression = is_ascii(f->title) ? PNG_TEXT_COMPRESSION_NONE
                                                  : PNG_ITXT_COMPRESSION_NONE;
        nt++;
    }
    for (int i = 0; i < n_text; i++) {
        const char *v = values[i] ? values[i] : "";
        text[nt].key = (png_charp)keys[i];
        text[nt].text = (png_charp)v;
        text[nt].compression = is_ascii(v) ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
        nt++;
    }

    /* a fresh temporary beside the target: same file system, so rename() is atomic */
    FILE *fp = NULL;
    unsigned long stamp = (unsigned long)(((uintptr_t)f >> 4) ^ (uintptr_t)time(NULL)) & 0xffffffUL;
    for (int k = 0; k < 100 && !fp; k++) {
        sprintf(tmp, "%s.%06lx-%d.tmp", path, stamp, k);
        errno = 0;
        fp = fopen(tmp, "wbx");
        if (!fp && errno != EEXIST) break;
    }
    int rc = -1;
    if (!fp) {
        ns_errmsg(err, errlen, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
        goto done;
    }

    cairo_surface_flush(f->surf);
    char msg[160];
    int bad = png_stream(fp, f->surf, text, nt, row, msg, sizeof msg);
    int io_errno = 0;
    if (!bad && (fflush(fp) != 0 || ferror(fp))) { bad = 1; io_errno = errno; }
    if (fclose(fp) != 0 && !bad) { bad = 1; io_errno = errno; }
    if (bad) {
        if (io_errno) ns_errmsg(err, errlen, "cannot write '%s': %s", path, strerror(io_errno));
        else ns_errmsg(err, errlen, "cannot write '%s': %s", path, msg);
        remove(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        ns_errmsg(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        goto done;
    }
    rc = 0;
done:
    free(text);
    free(row);
    free(tmp);
    return rc;
}
