/* analysis/segment.h — segmentation by phase: clustering of unit phases as points on the unit
 * circle (k-means with k-means++ seeding, or agglomerative with average linkage), and the
 * adjusted Rand index, over all units or over the foreground of a mask (FG-ARI). */
#ifndef NS_SEGMENT_H
#define NS_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    NS_CLUSTER_KMEANS = 0,     /* Lloyd's k-means, k-means++ seeding, best of several restarts */
    NS_CLUSTER_AGGLOMERATIVE   /* average linkage on Euclidean distance, cut at k clusters */
} ns_cluster_method;

enum { NS_CLUSTER_MAX_AGGLOMERATIVE = 4096 }; /* active units at most (it keeps all pairwise distances) */

typedef struct {
    ns_cluster_method method;
    int restarts;   /* k-means: runs from different seedings, the lowest inertia kept (0: 10) */
    int max_iter;   /* k-means: Lloyd iterations per run at most (0: 300) */
    uint64_t seed;  /* k-means seeding; the result is a pure function of it and the data */
} ns_cluster_opts;

/* Cluster the phases theta[n] (radians, any range) of the units with active[i] != 0 (active NULL:
 * all) into k groups (1 <= k <= number of active units) by their points (cos theta, sin theta),
 * so phases 2 pi apart are the same point. Writes labels[n]: 1..k for active units, numbered in
 * increasing circular mean phase of the clusters in [0, 2 pi), 0 for inactive ones. *inertia (may
 * be NULL) gets the sum of squared distances of the points to their cluster's centroid.
 * Returns 0, or -1 with a one-line message (k out of range, non-finite phases, too many units
 * for agglomerative). */
int ns_cluster_phases(const double *theta, const int *active, long n, int k, const ns_cluster_opts *o, int *labels,
                      double *inertia, char *err, size_t errlen);

/* The adjusted Rand index (Hubert and Arabie 1985) of two labelings a[n], b[n] (any integers):
 * (sum_ij C(n_ij, 2) - E) / (M - E), E = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2), M the mean of
 * the two row and column sums, from the contingency table n_ij. 1 for the same partition, about
 * 0 for independent ones, negative below chance. When both are one cluster, or both all
 * singletons (M = E), it is 1. Returns 0 with *ari, or -1 (n < 1, memory). */
int ns_ari(const int *a, const int *b, long n, double *ari, char *err, size_t errlen);

/* FG-ARI: the ARI of labels against mask over the pixels where mask > 0 only (the objects'
 * pixels; the background is left out, as in the object-discovery literature). labels may give
 * those pixels any value, 0 included. Returns 0, or -1 (no foreground pixel, memory). */
int ns_fg_ari(const int *labels, const int *mask, long n, double *ari, char *err, size_t errlen);

#endif
