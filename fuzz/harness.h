/* fuzz/harness.h — what the libFuzzer harnesses share: a private temporary folder per process,
 * inputs written into it as files (most readers take a path), and an input cut into parts at a
 * separator line (for readers that read several files: labels and images, spikes and run.json). */
#ifndef NS_FUZZ_HARNESS_H
#define NS_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>

/* The separator of an input's parts: a line of its own. */
#define FUZZ_SEP "\n--8<--\n"

/* The process's temporary folder (made on first use, under TMPDIR, else /dev/shm, else /tmp),
 * removed at exit. The current folder
 * stays as it is: libFuzzer reads its corpus folders and writes its findings by relative paths. */
static inline int fuzz_unlink(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static char fuzz_dir_path[512];

/* At exit: the temporary folder and all in it go. */
static void fuzz_cleanup(void)
{
    nftw(fuzz_dir_path, fuzz_unlink, 8, FTW_DEPTH | FTW_PHYS);
}

static inline const char *fuzz_dir(void)
{
    char *dir = fuzz_dir_path;
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR"); /* else memory, which is many times faster than a disk */
        if (!tmp || !*tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof fuzz_dir_path, "%s/nsim-fuzz-XXXXXX", tmp);
        if (!mkdtemp(dir)) {
            perror("fuzz: cannot make a temporary folder");
            abort();
        }
        atexit(fuzz_cleanup);
    }
    return dir;
}

/* Write size bytes into the file name of the temporary folder; its full path into path. */
static inline void fuzz_write(const char *name, const uint8_t *data, size_t size, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", fuzz_dir(), name);
    FILE *fp = fopen(path, "wb");
    if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
        perror("fuzz: cannot write the input file");
        abort();
    }
}

/* Remove the file name of the temporary folder (absent is fine). */
static inline void fuzz_remove(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    unlink(path);
}

/* Part k (0-based) of data cut at FUZZ_SEP, into *part and *len; 0, or -1 when there are fewer
 * parts (then an empty part). */
static inline int fuzz_part(const uint8_t *data, size_t size, int k, const uint8_t **part, size_t *len)
{
    const size_t sl = sizeof FUZZ_SEP - 1;
    const uint8_t *p = data, *end = data + size;
    for (int i = 0;; i++) {
        const uint8_t *cut = NULL;
        for (const uint8_t *q = p; q + sl <= end; q++)
            if (!memcmp(q, FUZZ_SEP, sl)) {
                cut = q;
                break;
            }
        if (i == k) {
            *part = p;
            *len = (size_t)((cut ? cut : end) - p);
            return 0;
        }
        if (!cut) break;
        p = cut + sl;
    }
    *part = data;
    *len = 0;
    return -1;
}

#endif
