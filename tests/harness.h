/* tests/harness.h — the tiny in-house test harness (header only, C11).
 * Each check counts a pass or a failure in static counters and prints FILE:LINE with the values
 * when it fails; NS_TEST_MAIN_END() prints the tally and returns main's exit status. */
#ifndef NS_HARNESS_H
#define NS_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int ns_test_passed = 0;
static int ns_test_failed = 0;

/* NS_CHECK(cond, fmt, ...): printf-style message (fmt is the first variadic argument, so a bare
 * NS_CHECK(cond, "text") is valid C11). */
#define NS_CHECK(cond, ...)                                                  \
    do {                                                                     \
        if (cond) {                                                          \
            ns_test_passed++;                                                \
        } else {                                                             \
            ns_test_failed++;                                                \
            printf("%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);  \
            printf(__VA_ARGS__);                                             \
            printf("\n");                                                    \
        }                                                                    \
    } while (0)

static inline void ns_check_tol_(double got, double want, double tol, int relative,
                                 const char *expr, const char *file, int line)
{
    double err = fabs(got - want);
    double lim = relative ? tol * fabs(want) : tol;
    if (err <= lim) {  /* false for NaN */
        ns_test_passed++;
        return;
    }
    ns_test_failed++;
    printf("%s:%d: check failed: %s: got %.17g, want %.17g, %s error %.3g > %.3g\n", file, line,
           expr, got, want, relative ? "relative" : "absolute",
           relative ? (want != 0 ? err / fabs(want) : INFINITY) : err, tol);
}

/* |got - want| <= reltol * |want| */
#define NS_CHECK_REL(got, want, reltol) \
    ns_check_tol_((double)(got), (double)(want), (double)(reltol), 1, #got, __FILE__, __LINE__)

/* |got - want| <= abstol */
#define NS_CHECK_ABS(got, want, abstol) \
    ns_check_tol_((double)(got), (double)(want), (double)(abstol), 0, #got, __FILE__, __LINE__)

/* Make a new folder $TMPDIR/NAME-XXXXXX (/tmp when TMPDIR is unset or empty) and write its path
 * into buf; a test that cannot have one stops there, with status 1. */
static inline void ns_test_tmpdir(char *buf, size_t size, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, size, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(buf)) {
        printf("cannot make a test folder %s\n", buf);
        exit(1);
    }
}

/* The folder a figure test writes into: $NSIM_PLOT_SAMPLES when set (kept, to look at), else a
 * new temporary one (ns_test_tmpdir). Returns 1 when the files are to be kept. */
static inline int ns_test_figure_dir(char *buf, size_t size, const char *name)
{
    const char *keep = getenv("NSIM_PLOT_SAMPLES");
    if (keep && keep[0]) {
        snprintf(buf, size, "%s", keep);
        return 1;
    }
    ns_test_tmpdir(buf, size, name);
    return 0;
}

/* Print the tally and return from main: 1 if any check failed, else 0. */
#define NS_TEST_MAIN_END()                                                   \
    do {                                                                     \
        printf("%d passed, %d failed\n", ns_test_passed, ns_test_failed);    \
        return ns_test_failed ? 1 : 0;                                       \
    } while (0)

#endif
