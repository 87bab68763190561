/* base/bigmem.h — allocations of large tables (synapses, input rings) on huge pages where the
 * kernel offers them on request, so that scattered reads over gigabytes do not miss the TLB on
 * nearly every access. Memory from these functions is released with free(). */
#ifndef NS_BIGMEM_H
#define NS_BIGMEM_H

#include <stddef.h>

/* Below this many bytes an allocation is aligned to a cache line (NS_LINE bytes) only. */
#define NS_BIGMEM_MIN ((size_t)4 << 20)
#define NS_LINE 64

/* bytes of uninitialised memory (at least 1), aligned to 2 MiB and advised for huge pages when
 * at least NS_BIGMEM_MIN, else to NS_LINE; NULL when out of memory. */
void *ns_big_malloc(size_t bytes);

/* n x size bytes of zeros, as ns_big_malloc; NULL when out of memory or on overflow. */
void *ns_big_calloc(size_t n, size_t size);

/* Give the machine back the whole pages within bytes [from, to) of p, an allocation of
 * ns_big_malloc of total bytes that is read no more there and will be freed: a table copied
 * into another shrinks as the copy grows, so that the process's peak does not hold both. The
 * range reads as zeros afterwards. Nothing happens below NS_BIGMEM_MIN bytes or where the
 * system has no such call. */
void ns_big_release(void *p, size_t total, size_t from, size_t to);

#endif
