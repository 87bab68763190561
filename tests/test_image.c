/* tests/test_image.c — image and mask files: PGM P2/P5 (8 and 16 bit) and PNG (grey, RGB, palette)
 * written by the test itself (by hand, or with libpng directly) read back to the values written;
 * ns_image_write / ns_image_write_mask round trips; corrupted files refused with one line naming
 * the file and where, and nothing handed back. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/image.h"
#include "tests/harness.h"

static char dir[512];

static const char *file(const char *name)
{
    static char buf[8][700];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void put(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    fwrite(data, 1, n, fp);
    fclose(fp);
}

/* An RGB (or grey) 8-bit PNG of w x h from px (channels per pixel) with libpng directly. */
static void put_png(const char *path, int w, int h, int channels, const unsigned char *px)
{
    FILE *fp = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, fp);
    int type = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_IHDR(png, info, w, h, 8, type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, px + (size_t)y * w * channels);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);
}

/* Read path as an image; expect failure with a message containing want (and the path). */
static void refused(const char *path, const char *want)
{
    char err[512] = "";
    int w = -1, h = -1;
    double *px = NULL;
    int rc = ns_image_read(path, &w, &h, &px, err, sizeof err);
    NS_CHECK(rc == -1 && px == NULL && w == -1 && strstr(err, path) && strstr(err, want) && !strchr(err, '\n'),
             "%s: rc %d, message '%s', want '%s'", path, rc, err, want);
    free(px);
}

/* Read an image; on failure count a failed check and hand back NaNs, so the checks after it
 * fail instead of reading freed or missing memory. */
static double *read_img(const char *path, int *w, int *h)
{
    char err[512] = "";
    double *px = NULL;
    int rc = ns_image_read(path, w, h, &px, err, sizeof err);
    NS_CHECK(rc == 0, "%s", err);
    if (rc) {
        px = malloc(64 * sizeof *px);
        for (int i = 0; i < 64; i++) px[i] = NAN;
        *w = *h = -1;
    }
    return px;
}

int main(void)
{
    ns_test_tmpdir(dir, sizeof dir, "nsim_images");
    char err[512];
    int w, h;
    double *px;
    /* P2 with comments, maxval 10 */
    {
        const char *txt = "P2\n# a comment\n3 2 # width height\n10\n0 5 10\n# row 2\n2 3\n 4\n";
        put(file("a.pgm"), txt, strlen(txt));
        px = read_img(file("a.pgm"), &w, &h);
        double want[6] = {0, 0.5, 1, 0.2, 0.3, 0.4};
        int ok = w == 3 && h == 2;
        for (int i = 0; ok && i < 6; i++) ok = fabs(px[i] - want[i]) < 1e-15;
        NS_CHECK(ok, "P2 values");
        free(px);
    }
    /* P5, 8 and 16 bit */
    {
        unsigned char f8[] = "P5 2 2 255\n\x00\x80\xff\x40";
        put(file("b.pgm"), f8, sizeof f8 - 1);
        px = read_img(file("b.pgm"), &w, &h);
        NS_CHECK(w == 2 && h == 2 && px[0] == 0 && fabs(px[1] - 128 / 255.0) < 1e-15 && px[2] == 1 &&
                     fabs(px[3] - 64 / 255.0) < 1e-15, "P5 8-bit values");
        free(px);
        unsigned char f16[] = "P5\n2 1\n1000\n\x01\xf4\x03\xe8"; /* 500, 1000 big-endian */
        put(file("c.pgm"), f16, sizeof f16 - 1);
        px = read_img(file("c.pgm"), &w, &h);
        NS_CHECK(w == 2 && h == 1 && px[0] == 0.5 && px[1] == 1, "P5 16-bit values %g %g", px[0], px[1]);
        free(px);
    }
    /* PNG RGB and RGBA written with libpng: grey is Rec. 601 luma */
    {
        unsigned char rgb[2 * 3] = {255, 0, 0, 10, 200, 30}, rgba[2 * 4] = {0, 0, 255, 0, 100, 100, 100, 255};
        put_png(file("d.png"), 2, 1, 3, rgb);
        px = read_img(file("d.png"), &w, &h);
        NS_CHECK(w == 2 && h == 1 && fabs(px[0] - 0.299) < 1e-12 &&
                     fabs(px[1] - (0.299 * 10 + 0.587 * 200 + 0.114 * 30) / 255) < 1e-12, "RGB luma %g %g", px[0], px[1]);
        free(px);
        put_png(file("e.png"), 2, 1, 4, rgba);
        px = read_img(file("e.png"), &w, &h);
        NS_CHECK(fabs(px[0] - 0.114) < 1e-12 && fabs(px[1] - 100 / 255.0) < 1e-12, "RGBA: alpha ignored %g %g", px[0], px[1]);
        free(px);
    }
    /* ns_image_write: PGM and PNG round trips to 1/255 */
    {
        double img[12];
        for (int i = 0; i < 12; i++) img[i] = i / 11.0;
        img[0] = -0.5, img[11] = 7; /* clipped */
        const char *names[2] = {"w.pgm", "w.png"};
        for (int k = 0; k < 2; k++) {
            NS_CHECK(ns_image_write(file(names[k]), 4, 3, img, err, sizeof err) == 0, "%s", err);
            px = read_img(file(names[k]), &w, &h);
            int ok = w == 4 && h == 3;
            for (int i = 0; ok && i < 12; i++) ok = fabs(px[i] - fmin(fmax(img[i], 0), 1)) <= 0.5 / 255 + 1e-12;
            NS_CHECK(ok, "%s round trip", names[k]);
            free(px);
        }
    }
    /* masks: PGM (8 and 16 bit) and palette PNG read back as the same labels */
    {
        int lab[20], *got, k;
        for (int i = 0; i < 20; i++) lab[i] = (i * 7) % 5;
        const char *names[2] = {"m.pgm", "m.png"};
        for (int j = 0; j < 2; j++) {
            NS_CHECK(ns_image_write_mask(file(names[j]), 5, 4, lab, err, sizeof err) == 0, "%s", err);
            NS_CHECK(ns_image_read_mask(file(names[j]), &w, &h, &got, &k, err, sizeof err) == 0, "%s", err);
            NS_CHECK(w == 5 && h == 4 && k == 4 && !memcmp(got, lab, sizeof lab), "%s: labels back (k = %d)", names[j], k);
            free(got);
        }
        lab[3] = 300; /* a 16-bit PGM; labels renumbered in increasing value: 1..4, then 300 -> 5 */
        NS_CHECK(ns_image_write_mask(file("m16.pgm"), 5, 4, lab, err, sizeof err) == 0, "%s", err);
        NS_CHECK(ns_image_read_mask(file("m16.pgm"), &w, &h, &got, &k, err, sizeof err) == 0, "%s", err);
        NS_CHECK(k == 5 && got[3] == 5 && got[0] == 0 && got[1] == lab[1], "16-bit mask: k %d", k);
        free(got);
        NS_CHECK(ns_image_write_mask(file("m16.png"), 5, 4, lab, err, sizeof err) == -1 && strstr(err, "0..255"), "%s", err);
        /* a colour mask: black background, three colours ordered by 0xRRGGBB */
        unsigned char rgb[4 * 3] = {0, 0, 0, 255, 0, 0, 0, 0, 9, 0, 200, 0};
        put_png(file("c.png"), 4, 1, 3, rgb);
        NS_CHECK(ns_image_read_mask(file("c.png"), &w, &h, &got, &k, err, sizeof err) == 0, "%s", err);
        NS_CHECK(k == 3 && got[0] == 0 && got[1] == 3 && got[2] == 1 && got[3] == 2, "colour mask labels %d %d %d %d",
                 got[0], got[1], got[2], got[3]);
        free(got);
        /* a mask of grey values 0, 40, 200 in a P2 */
        const char *txt = "P2 3 1 255 200 0 40\n";
        put(file("g.pgm"), txt, strlen(txt));
        NS_CHECK(ns_image_read_mask(file("g.pgm"), &w, &h, &got, &k, err, sizeof err) == 0, "%s", err);
        NS_CHECK(k == 2 && got[0] == 2 && got[1] == 0 && got[2] == 1, "grey mask labels");
        free(got);
    }
    /* bad files: one line naming the file and where */
    {
        const char *p2 = "P2\n2 2\n255\n1 2\n3 x\n";
        put(file("bad1.pgm"), p2, strlen(p2));
        refused(file("bad1.pgm"), ":5: pixel 3 is not a whole number");
        const char *p2b = "P2\n2 2\n255\n1 2\n3 256\n";
        put(file("bad2.pgm"), p2b, strlen(p2b));
        refused(file("bad2.pgm"), ":5: pixel 3 is 256, above the maximum grey value 255");
        const char *p2c = "P2\n2 2\n255\n1 2\n3\n";
        put(file("bad3.pgm"), p2c, strlen(p2c));
        refused(file("bad3.pgm"), "ends after 3 of 4 pixels");
        const char *p2d = "P2\n2 2\n255\n1 2 3 4 5\n";
        put(file("bad4.pgm"), p2d, strlen(p2d));
        refused(file("bad4.pgm"), ":4: more than the 4 pixels");
        const char *hdr = "P2\n2\n";
        put(file("bad5.pgm"), hdr, strlen(hdr));
        refused(file("bad5.pgm"), "height is missing");
        unsigned char p5[] = "P5 2 2 255\n\x01\x02\x03";
        put(file("bad6.pgm"), p5, sizeof p5 - 1);
        refused(file("bad6.pgm"), "byte 14: the file ends after 3 of 4 pixels");
        unsigned char p5b[] = "P5 2 1 100\n\x01\x65";
        put(file("bad7.pgm"), p5b, sizeof p5b - 1);
        refused(file("bad7.pgm"), "byte 12: pixel 1 is 101, above the maximum grey value 100");
        const char *zero = "P2 0 2 255\n";
        put(file("bad8.pgm"), zero, strlen(zero));
        refused(file("bad8.pgm"), "size 0 x 2 px");
        put(file("bad9.pgm"), "GIF89a", 6);
        refused(file("bad9.pgm"), "byte 0: not a PGM (P2 or P5) or PNG image");
        refused(file("missing.png"), "cannot open");
        /* a PNG cut short, and one with a damaged chunk */
        double img[64 * 64];
        for (int i = 0; i < 64 * 64; i++) img[i] = (i * 37 % 101) / 100.0;
        ns_image_write(file("whole.png"), 64, 64, img, err, sizeof err);
        FILE *fp = fopen(file("whole.png"), "rb");
        static unsigned char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        put(file("cut.png"), buf, n / 2);
        refused(file("cut.png"), "not a readable PNG");
        buf[40] ^= 0xff; /* inside IHDR or the next chunk: a CRC error */
        put(file("crc.png"), buf, n);
        refused(file("crc.png"), "not a readable PNG");
        int *lab = NULL, k = -1;
        NS_CHECK(ns_image_read_mask(file("cut.png"), &w, &h, &lab, &k, err, sizeof err) == -1 && !lab && k == -1, "%s", err);
    }
    NS_TEST_MAIN_END();
}
