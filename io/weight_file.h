/* io/weight_file.h — reading a weight record back (net:record_weights' sample or matrix file):
 * the weights a histogram of it shows. */
#ifndef NS_WEIGHT_FILE_H
#define NS_WEIGHT_FILE_H

#include <stddef.h>

/* The weight column of a weight record: every row of a matrix file (synapse,pre,post,weight), or
 * the rows of the last time of a sample file (t_ms,...,weight; that time in *t_ms, else NaN).
 * *w is malloc'd (the caller frees it), *n its length. A last line without a newline is dropped
 * with a warning in warn ("" when none). 0, or -1 with "FILE: what is wrong" in err. */
int ns_weight_file_read(const char *path, double **w, long *n, double *t_ms, char *warn, size_t warnlen, char *err,
                        size_t errlen);

#endif
