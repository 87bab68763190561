/* analysis/image.c — PGM and PNG images and masks in and out. A file is read whole and checked
 * before anything is handed back; one line names the file and the first thing wrong with it.
 * Written files go to a temporary name first (base/files.h). */
#include "analysis/image.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/figure.h"
#include "base/errmsg.h"
#include "base/files.h"

enum { MAX_SIDE = 32768 };

/* ---- raw samples: one or three channels of 0..maxval per pixel, as read from either format ---- */
typedef struct {
    int w, h, channels; /* 1 (grey, or palette indices) or 3 (RGB) */
    unsigned maxval;
    uint32_t *v;        /* w * h * channels samples */
} raw_image;

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        ns_errmsg(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap) break;
        char *b = realloc(buf, 2 * cap + 1);
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b, cap *= 2;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (!buf) {
        ns_errmsg(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (bad) {
        free(buf);
        ns_errmsg(err, errlen, "%s: read error", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- PGM ---- */

static int line_at(const char *buf, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++) line += buf[i] == '\n';
    return line;
}

/* Skip whitespace and # comments; then read an unsigned decimal. Returns 0, or -1 (no number). */
static int pgm_number(const char *buf, size_t len, size_t *pos, unsigned long *out)
{
    size_t p = *pos;
    for (;;) {
        while (p < len && isspace((unsigned char)buf[p])) p++;
        if (p < len && buf[p] == '#') {
            while (p < len && buf[p] != '\n') p++;
            continue;
        }
        break;
    }
    *pos = p;
    if (p >= len || !isdigit((unsigned char)buf[p])) return -1;
    unsigned long v = 0;
    while (p < len && isdigit((unsigned char)buf[p])) {
        v = v * 10 + (unsigned long)(buf[p] - '0');
        if (v > 4294967295ul) v = 4294967295ul;
        p++;
    }
    *out = v;
    *pos = p;
    return 0;
}

static int read_pgm(const char *path, const char *buf, size_t len, raw_image *im, char *err, size_t errlen)
{
    int ascii = buf[1] == '2';
    size_t pos = 2;
    unsigned long hdr[3];
    static const char *const what[3] = {"width", "height", "maximum grey value"};
    for (int k = 0; k < 3; k++) {
        if (pgm_number(buf, len, &pos, &hdr[k]))
            return ns_errmsg(err, errlen, "%s:%d: the header's %s is missing or not a whole number", path,
                             line_at(buf, pos), what[k]);
    }
    if (hdr[0] < 1 || hdr[0] > MAX_SIDE || hdr[1] < 1 || hdr[1] > MAX_SIDE)
        return ns_errmsg(err, errlen, "%s:%d: size %lu x %lu px; each side must be in [1, %d]", path, line_at(buf, pos),
                         hdr[0], hdr[1], MAX_SIDE);
    if (hdr[2] < 1 || hdr[2] > 65535)
        return ns_errmsg(err, errlen, "%s:%d: maximum grey value %lu; must be in [1, 65535]", path, line_at(buf, pos),
                         hdr[2]);
    im->w = (int)hdr[0], im->h = (int)hdr[1], im->channels = 1, im->maxval = (unsigned)hdr[2];
    size_t n = (size_t)im->w * im->h;
    im->v = malloc(n * sizeof *im->v);
    if (!im->v) return ns_errmsg(err, errlen, "%s: out of memory for %zu pixels", path, n);
    if (ascii) {
        for (size_t i = 0; i < n; i++) {
            unsigned long v;
            if (pgm_number(buf, len, &pos, &v)) {
                free(im->v), im->v = NULL;
                if (pos >= len)
                    return ns_errmsg(err, errlen, "%s:%d: the file ends after %zu of %zu pixels", path,
                                     line_at(buf, pos), i, n);
                return ns_errmsg(err, errlen, "%s:%d: pixel %zu is not a whole number", path, line_at(buf, pos), i);
            }
            if (v > im->maxval) {
                free(im->v), im->v = NULL;
                return ns_errmsg(err, errlen, "%s:%d: pixel %zu is %lu, above the maximum grey value %u", path,
                                 line_at(buf, pos), i, v, im->maxval);
            }
            im->v[i] = (uint32_t)v;
        }
        unsigned long extra;
        if (pgm_number(buf, len, &pos, &extra) == 0 || pos < len) {
            free(im->v), im->v = NULL;
            return ns_errmsg(err, errlen, "%s:%d: more than the %zu pixels of a %d x %d image", path, line_at(buf, pos),
                             n, im->w, im->h);
        }
        return 0;
    }
    /* P5: one whitespace byte after the maximum, then the samples, big-endian when 16 bit */
    if (pos >= len || !isspace((unsigned char)buf[pos])) {
        free(im->v), im->v = NULL;
        return ns_errmsg(err, errlen, "%s: byte %zu: no whitespace between the header and the pixels", path, pos);
    }
    pos++;
    int bytes = im->maxval > 255 ? 2 : 1;
    if (len - pos < n * bytes) {
        free(im->v), im->v = NULL;
        return ns_errmsg(err, errlen, "%s: byte %zu: the file ends after %zu of %zu pixels (%d byte%s each)", path, len,
                         (len - pos) / bytes, n, bytes, bytes > 1 ? "s" : "");
    }
    if (len - pos > n * bytes) {
        free(im->v), im->v = NULL;
        return ns_errmsg(err, errlen, "%s: byte %zu: %zu bytes after the %zu pixels of a %d x %d image", path,
                         pos + n * bytes, len - pos - n * bytes, n, im->w, im->h);
    }
    const unsigned char *u = (const unsigned char *)buf + pos;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = bytes == 2 ? ((uint32_t)u[2 * i] << 8 | u[2 * i + 1]) : u[i];
        if (v > im->maxval) {
            free(im->v), im->v = NULL;
            return ns_errmsg(err, errlen, "%s: byte %zu: pixel %zu is %u, above the maximum grey value %u", path,
                             pos + i * bytes, i, (unsigned)v, im->maxval);
        }
        im->v[i] = v;
    }
    return 0;
}

/* ---- PNG ---- */

typedef struct {
    jmp_buf jmp;
    char msg[200];
    const unsigned char *data;
    size_t len, pos;
    png_bytep *rows;       /* the reader's buffers live here, not in locals: a longjmp back to */
    unsigned char *pixels; /* setjmp would leave changed locals indeterminate */
} png_io;

static void png_fail(png_structp png, png_const_charp msg)
{
    png_io *io = png_get_error_ptr(png);
    snprintf(io->msg, sizeof io->msg, "%s", msg);
    longjmp(io->jmp, 1);
}

static void png_quiet(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static void png_from_memory(png_structp png, png_bytep out, png_size_t n)
{
    png_io *io = png_get_io_ptr(png);
    if (io->len - io->pos < n) png_error(png, "the file ends inside the image data");
    memcpy(out, io->data + io->pos, n);
    io->pos += n;
}

/* Read a PNG; palette: keep palette indices (masks) instead of expanding them to RGB. */
static int read_png(const char *path, const char *buf, size_t len, int keep_palette, raw_image *im, char *err,
                    size_t errlen)
{
    png_io io = {.data = (const unsigned char *)buf, .len = len};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, png_fail, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        return ns_errmsg(err, errlen, "%s: out of memory", path);
    }
    if (setjmp(io.jmp)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(io.rows), free(io.pixels), free(im->v);
        im->v = NULL;
        return ns_errmsg(err, errlen, "%s: not a readable PNG: %s", path, io.msg);
    }
    png_set_read_fn(png, &io, png_from_memory);
    png_set_user_limits(png, MAX_SIDE, MAX_SIDE);
    png_read_info(png, info);
    int type = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    int palette = type == PNG_COLOR_TYPE_PALETTE;
    if (palette && keep_palette) {
        if (depth < 8) png_set_packing(png);
    } else {
        png_set_expand(png);  /* palette to RGB, grey below 8 bit to 8, tRNS to alpha */
        png_set_strip_alpha(png);
    }
    if (depth == 16) png_set_swap(png); /* little-endian 16-bit samples on this machine */
    png_read_update_info(png, info);
    im->w = (int)png_get_image_width(png, info), im->h = (int)png_get_image_height(png, info);
    im->channels = png_get_channels(png, info);
    int bits = png_get_bit_depth(png, info);
    im->maxval = palette && keep_palette ? 255u : bits == 16 ? 65535u : 255u;
    size_t rowbytes = png_get_rowbytes(png, info), n = (size_t)im->w * im->h;
    io.pixels = malloc(rowbytes * im->h);
    io.rows = malloc(sizeof *io.rows * im->h);
    im->v = malloc(n * im->channels * sizeof *im->v);
    if (!io.pixels || !io.rows || !im->v) png_error(png, "out of memory");
    for (int y = 0; y < im->h; y++) io.rows[y] = io.pixels + rowbytes * y;
    png_read_image(png, io.rows);
    png_read_end(png, NULL);
    for (int y = 0; y < im->h; y++)
        for (size_t i = 0; i < (size_t)im->w * im->channels; i++)
            im->v[(size_t)y * im->w * im->channels + i] =
                bits == 16 ? ((const uint16_t *)(void *)io.rows[y])[i] : io.rows[y][i];
    png_destroy_read_struct(&png, &info, NULL);
    free(io.rows), free(io.pixels);
    return 0;
}

static int read_raw(const char *path, int keep_palette, raw_image *im, char *err, size_t errlen)
{
    memset(im, 0, sizeof *im);
    size_t len;
    char *buf = read_file(path, &len, err, errlen);
    if (!buf) return -1;
    int rc;
    if (len >= 8 && !png_sig_cmp((png_const_bytep)buf, 0, 8))
        rc = read_png(path, buf, len, keep_palette, im, err, errlen);
    else if (len >= 2 && buf[0] == 'P' && (buf[1] == '2' || buf[1] == '5'))
        rc = read_pgm(path, buf, len, im, err, errlen);
    else
        rc = ns_errmsg(err, errlen, "%s: byte 0: not a PGM (P2 or P5) or PNG image", path);
    free(buf);
    return rc;
}

int ns_image_read(const char *path, int *width, int *height, double **pixels, char *err, size_t errlen)
{
    raw_image im;
    if (read_raw(path, 0, &im, err, errlen)) return -1;
    size_t n = (size_t)im.w * im.h;
    double *out = malloc(n * sizeof *out);
    if (!out) {
        free(im.v);
        return ns_errmsg(err, errlen, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n; i++) {
        const uint32_t *s = im.v + i * im.channels;
        double g = im.channels >= 3 ? 0.299 * s[0] + 0.587 * s[1] + 0.114 * s[2] : s[0];
        out[i] = g / im.maxval;
    }
    free(im.v);
    *width = im.w, *height = im.h, *pixels = out;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int ns_image_read_mask(const char *path, int *width, int *height, int **labels, int *n_labels, char *err,
                       size_t errlen)
{
    raw_image im;
    if (read_raw(path, 1, &im, err, errlen)) return -1;
    size_t n = (size_t)im.w * im.h;
    uint32_t *key = malloc(n * sizeof *key), *sorted = malloc(n * sizeof *sorted);
    int *out = malloc(n * sizeof *out);
    if (!key || !sorted || !out) {
        free(key), free(sorted), free(out), free(im.v);
        return ns_errmsg(err, errlen, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n; i++) {
        const uint32_t *s = im.v + i * im.channels;
        key[i] = im.channels >= 3 ? (s[0] >> (im.maxval > 255 ? 8 : 0)) << 16 | (s[1] >> (im.maxval > 255 ? 8 : 0)) << 8 |
                                        (s[2] >> (im.maxval > 255 ? 8 : 0))
                                  : s[0];
    }
    free(im.v);
    memcpy(sorted, key, n * sizeof *key);
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    size_t nd = 0; /* distinct non-zero values */
    for (size_t i = 0; i < n; i++)
        if (sorted[i] != 0 && (nd == 0 || sorted[nd - 1] != sorted[i])) sorted[nd++] = sorted[i];
    for (size_t i = 0; i < n; i++) {
        if (key[i] == 0) {
            out[i] = 0;
            continue;
        }
        size_t lo = 0, hi = nd; /* binary search of key[i] in sorted[0..nd) */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (sorted[mid] <= key[i]) lo = mid; else hi = mid;
        }
        out[i] = (int)lo + 1;
    }
    free(key), free(sorted);
    *width = im.w, *height = im.h, *labels = out, *n_labels = (int)nd;
    return 0;
}

/* ---- writing ---- */

static int ends_with_png(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcasecmp(path + n - 4, ".png");
}

/* Write rows of 8-bit samples (grey; or palette indices with pal[n_pal]) as a PNG to fp. */
static int write_png_fp(FILE *fp, int w, int h, const unsigned char *px, int bytes_per_sample, const png_color *pal,
                        int n_pal, char *msg, size_t msglen)
{
    png_io io = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, png_fail, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    if (setjmp(io.jmp)) {
        png_destroy_write_struct(&png, &info);
        snprintf(msg, msglen, "%s", io.msg);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bytes_per_sample * 8,
                 pal ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, n_pal);
    png_text t = {.compression = PNG_TEXT_COMPRESSION_NONE, .key = "Software", .text = "nsim"};
    png_set_text(png, info, &t, 1);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(px + (size_t)y * w * bytes_per_sample));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

/* Write px (w * h samples of bytes each: 1, or 2 big-endian) as P5 with maxval, or as a PNG. */
static int write_samples(const char *path, int w, int h, const unsigned char *px, int bytes, unsigned maxval,
                         const png_color *pal, int n_pal, char *err, size_t errlen)
{
    char tmp[4096];
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, errlen);
    if (!fp) return -1;
    if (ends_with_png(path)) {
        char msg[200];
        if (write_png_fp(fp, w, h, px, bytes, pal, n_pal, msg, sizeof msg)) {
            fclose(fp);
            remove(tmp);
            return ns_errmsg(err, errlen, "%s: cannot write the PNG: %s", path, msg);
        }
    } else {
        fprintf(fp, "P5\n%d %d\n%u\n", w, h, maxval);
        fwrite(px, (size_t)bytes, (size_t)w * h, fp);
    }
    return ns_file_finish(fp, tmp, path, err, errlen);
}

static int check_size(const char *path, int w, int h, const void *data, char *err, size_t errlen)
{
    if (w < 1 || w > MAX_SIDE || h < 1 || h > MAX_SIDE)
        return ns_errmsg(err, errlen, "%s: size %d x %d px; each side must be in [1, %d]", path, w, h, MAX_SIDE);
    if (!data) return ns_errmsg(err, errlen, "%s: no pixels", path);
    return 0;
}

int ns_image_write(const char *path, int width, int height, const double *pixels, char *err, size_t errlen)
{
    if (check_size(path, width, height, pixels, err, errlen)) return -1;
    size_t n = (size_t)width * height;
    unsigned char *px = malloc(n);
    if (!px) return ns_errmsg(err, errlen, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        double v = pixels[i];
        v = v > 0 ? (v < 1 ? v : 1) : 0; /* NaN to 0 */
        px[i] = (unsigned char)lround(255 * v);
    }
    int rc = write_samples(path, width, height, px, 1, 255, NULL, 0, err, errlen);
    free(px);
    return rc;
}

int ns_image_write_mask(const char *path, int width, int height, const int *labels, char *err, size_t errlen)
{
    if (check_size(path, width, height, labels, err, errlen)) return -1;
    size_t n = (size_t)width * height;
    int png = ends_with_png(path), maxl = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] > (png ? 255 : 65535))
            return ns_errmsg(err, errlen, "%s: label %d at pixel (%zu, %zu); a %s mask holds labels 0..%d", path,
                             labels[i], i % width, i / width, png ? "PNG" : "PGM", png ? 255 : 65535);
        if (labels[i] > maxl) maxl = labels[i];
    }
    int bytes = maxl > 255 ? 2 : 1;
    unsigned char *px = malloc(n * bytes);
    if (!px) return ns_errmsg(err, errlen, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        if (bytes == 2) px[2 * i] = (unsigned char)(labels[i] >> 8), px[2 * i + 1] = (unsigned char)labels[i];
        else px[i] = (unsigned char)labels[i];
    }
    png_color pal[256];
    int n_pal = png ? (maxl + 1 < 2 ? 2 : maxl + 1) : 0; /* png: maxl <= 255 */
    for (int k = 0; k < n_pal; k++) {
        ns_rgb c = k == 0 ? (ns_rgb){0, 0, 0} : ns_figure_palette(k - 1);
        pal[k] = (png_color){(png_byte)lround(255 * c.r), (png_byte)lround(255 * c.g), (png_byte)lround(255 * c.b)};
    }
    int rc = write_samples(path, width, height, px, bytes, maxl > 255 ? 65535u : 255u, png ? pal : NULL, n_pal, err,
                           errlen);
    free(px);
    return rc;
}
