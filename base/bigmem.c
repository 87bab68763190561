/* base/bigmem.c — large tables on huge pages (madvise), the rest through malloc. */
#define _DEFAULT_SOURCE
#include "base/bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

enum { HUGE_PAGE = 2 << 20 };

void *ns_big_malloc(size_t bytes)
{
    if (bytes < NS_BIGMEM_MIN) { /* a cache line's alignment: vector loads then never straddle two */
        size_t lines = (bytes + NS_LINE - 1) / NS_LINE;
        return lines <= SIZE_MAX / NS_LINE ? aligned_alloc(NS_LINE, (lines ? lines : 1) * NS_LINE) : NULL;
    }
    size_t rounded = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    if (rounded < bytes) return NULL;
    void *p = aligned_alloc(HUGE_PAGE, rounded);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p) (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice only: without it, ordinary pages */
#endif
    return p;
}

void *ns_big_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    size_t bytes = n * size;
    void *p = ns_big_malloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void ns_big_release(void *p, size_t total, size_t from, size_t to)
{
#if defined(__linux__) && defined(MADV_DONTNEED)
    if (total < NS_BIGMEM_MIN || to > total || from >= to) return;
    const uintptr_t page = 4096, a = ((uintptr_t)p + from + page - 1) / page * page, b = ((uintptr_t)p + to) / page * page;
    if (b > a) (void)madvise((void *)a, b - a, MADV_DONTNEED);
#else
    (void)p, (void)total, (void)from, (void)to;
#endif
}
