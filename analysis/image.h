/* analysis/image.h — grey images and label masks in and out: PGM (P2 and P5, 8 or 16 bit) and
 * PNG (grey, grey + alpha, RGB, RGBA or palette; 8 or 16 bit) read as grey values in [0, 1] or as
 * labels; images written as 8-bit grey PGM or PNG, masks as PGM (value = label) or palette PNG. */
#ifndef NS_IMAGE_H
#define NS_IMAGE_H

#include <stddef.h>

/* Read the image at path (PGM or PNG, told apart by their first bytes, not the name) as grey
 * values in [0, 1], row-major from the top row: *pixels (width * height, malloc'd for the caller
 * to free). Grey is value / maxval; colour is Rec. 601 luma 0.299 R + 0.587 G + 0.114 B; alpha is
 * ignored. Returns 0, or -1 with one line naming the file and what is wrong ("FILE:LINE: ..." in
 * a P2 file, "FILE: byte N: ..." in a P5 one, libpng's message for a PNG); nothing is set then. */
int ns_image_read(const char *path, int *width, int *height, double **pixels, char *err, size_t errlen);

/* Read a label mask (same formats): the distinct values are the objects; value 0 (black in a
 * colour PNG, index 0 in a palette PNG) is the background and becomes label 0, the others become
 * labels 1..k in increasing order of value (a palette PNG's indices, a colour's 0xRRGGBB). Sets
 * *labels (malloc'd) and *n_labels = k. Returns 0, or -1 as ns_image_read. */
int ns_image_read_mask(const char *path, int *width, int *height, int **labels, int *n_labels, char *err,
                       size_t errlen);

/* Write pixels (width * height grey values, clipped to [0, 1]; NaN as 0) as an 8-bit grey image,
 * value round(255 v): a binary PGM (P5), or a PNG when path ends in ".png". Written to a
 * temporary name and renamed. Returns 0, or -1 with a message naming path. */
int ns_image_write(const char *path, int width, int height, const double *pixels, char *err, size_t errlen);

/* Write a mask (labels 0..65535): a PGM whose grey value is the label (8 bit when every label is
 * below 256, else 16 bit), or, for a ".png" path, a palette PNG whose index is the label
 * (labels 0..255), index 0 black and label j in the figure palette's colour j - 1, so it reads
 * back as the same labels. Returns 0, or -1 with a message naming path. */
int ns_image_write_mask(const char *path, int width, int height, const int *labels, char *err, size_t errlen);

#endif
