/* tests/bars_figcheck.c — reads back a bar chart (analysis/bars.c) and prints its size and, for
 * palette colours 0 .. n - 1, the longest horizontal run of that colour right of x0 (the bars'
 * lengths in px), so that scripts can hold them against the values drawn.
 * Run by tests/test_microcircuit.sh: bars_figcheck PNG N X0_PX; prints "W H RUN0 .. RUN(N-1)". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/figure.h"
#include "tests/pngread.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        printf("usage: bars_figcheck PNG N X0_PX\n");
        return 2;
    }
    decoded d;
    read_png(argv[1], &d);
    if (!d.ok) {
        printf("cannot read %s as an 8-bit RGBA PNG\n", argv[1]);
        return 1;
    }
    int n = atoi(argv[2]), x0 = atoi(argv[3]);
    printf("%d %d", d.w, d.h);
    for (int g = 0; g < n; g++) {
        ns_rgb c = ns_figure_palette(g);
        int want[3] = {(int)lround(c.r * 255), (int)lround(c.g * 255), (int)lround(c.b * 255)}, best = 0;
        for (int y = 0; y < d.h; y++) {
            int first = -1, last = -1; /* the extent: a reference mark may cut a bar in two */
            for (int x = x0 < 0 ? 0 : x0; x < d.w; x++) {
                const unsigned char *p = pixel(&d, x, y);
                if (abs(p[0] - want[0]) <= 2 && abs(p[1] - want[1]) <= 2 && abs(p[2] - want[2]) <= 2) {
                    if (first < 0) first = x;
                    last = x;
                }
            }
            if (first >= 0 && last - first + 1 > best) best = last - first + 1;
        }
        printf(" %d", best);
    }
    printf("\n");
    free(d.rgba);
    return 0;
}
