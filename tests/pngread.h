/* tests/pngread.h — decode a PNG the figure code wrote (RGBA, 8 bits) with its text chunks,
 * for the figure tests. Header only. */
#ifndef NS_PNGREAD_H
#define NS_PNGREAD_H

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int w, h, ok;
    unsigned char *rgba;  /* w*h*4 */
    int n_text;
    char key[16][80];
    char value[16][256];
} decoded;

static inline void read_png(const char *path, decoded *d)
{
    memset(d, 0, sizeof *d);
    FILE *fp = fopen(path, "rb");
    if (!fp) return;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(fp);
        free(d->rgba);
        d->rgba = NULL;
        d->ok = 0;
        return;
    }
    png_init_io(png, fp);
    png_read_info(png, info);
    d->w = (int)png_get_image_width(png, info);
    d->h = (int)png_get_image_height(png, info);
    int rgba8 = png_get_color_type(png, info) == PNG_COLOR_TYPE_RGB_ALPHA &&
                png_get_bit_depth(png, info) == 8;
    if (rgba8) {
        d->rgba = malloc((size_t)d->w * (size_t)d->h * 4);
        if (d->rgba) {
            for (int y = 0; y < d->h; y++) png_read_row(png, d->rgba + (size_t)y * d->w * 4, NULL);
            png_read_end(png, info);
        }
    }
    png_textp text;
    int n = 0;
    png_get_text(png, info, &text, &n);
    for (int i = 0; i < n && d->n_text < 16; i++, d->n_text++) {
        snprintf(d->key[d->n_text], sizeof d->key[0], "%s", text[i].key);
        snprintf(d->value[d->n_text], sizeof d->value[0], "%s", text[i].text);
    }
    d->ok = rgba8 && d->rgba != NULL;
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
}

static inline const char *text_value(const decoded *d, const char *key)
{
    for (int i = 0; i < d->n_text; i++)
        if (strcmp(d->key[i], key) == 0) return d->value[i];
    return NULL;
}

static inline const unsigned char *pixel(const decoded *d, int x, int y)
{
    return d->rgba + ((size_t)y * d->w + x) * 4;
}

static inline void free_png(decoded *d)
{
    free(d->rgba);
    d->rgba = NULL;
}

#endif
