/* models/npz.c — a small reader and writer of numpy's .npz (zip of .npy) for float arrays.
 * The zip is walked through its central directory (numpy writes zip64 local headers even for
 * small files, the central directory tells the true sizes); members are inflated with zlib. */
#include "models/npz.h"
#include "base/files.h"
#include "base/errmsg.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_FILE ((size_t)1 << 31) /* a state_dict this reader takes: under 2 GiB */

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

void ns_npz_free(ns_npz *z)
{
    if (!z) return;
    for (size_t i = 0; i < z->n; i++) {
        free(z->a[i].name);
        free(z->a[i].data);
    }
    free(z->a);
    free(z);
}

const ns_npz_array *ns_npz_find(const ns_npz *z, const char *name)
{
    for (size_t i = 0; i < z->n; i++)
        if (strcmp(z->a[i].name, name) == 0) return &z->a[i];
    return NULL;
}

static unsigned char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ns_errmsg(err, errlen, "%s: cannot open: %s", path, strerror(errno)), NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                ns_errmsg(err, errlen, "%s: larger than 2 GiB", path);
                goto fail;
            }
            cap = cap ? 2 * cap : 1 << 16;
            unsigned char *b = realloc(buf, cap);
            if (!b) {
                ns_errmsg(err, errlen, "%s: out of memory", path);
                goto fail;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (ferror(f)) {
        ns_errmsg(err, errlen, "%s: read error", path);
        goto fail;
    }
    fclose(f);
    *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

/* ---------------------------------------------------------------- .npy */

/* The value text after 'key': in a .npy header dict, or NULL. */
static const char *dict_value(const char *h, const char *key)
{
    char k[32];
    snprintf(k, sizeof k, "'%s'", key);
    const char *p = strstr(h, k);
    if (!p) return NULL;
    p += strlen(k);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

/* Parse one .npy member (len bytes) into a; 0, or -1 with a message (without the names). */
static int parse_npy(const unsigned char *b, size_t len, ns_npz_array *a, char *err, size_t errlen)
{
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) return ns_errmsg(err, errlen, "not a .npy array");
    size_t hl, off;
    if (b[6] == 1) {
        hl = rd16(b + 8);
        off = 10;
    } else if ((b[6] == 2 || b[6] == 3) && len >= 12) {
        hl = rd32(b + 8);
        off = 12;
    } else {
        return ns_errmsg(err, errlen, ".npy version %d.%d is not 1, 2 or 3", b[6], b[7]);
    }
    if (hl > len - off || hl > 65536) return ns_errmsg(err, errlen, ".npy header is cut off");
    char h[65537];
    memcpy(h, b + off, hl);
    h[hl] = '\0';
    const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"), *sh = dict_value(h, "shape");
    if (!d || !fo || !sh) return ns_errmsg(err, errlen, ".npy header lacks descr, fortran_order or shape");
    if (*d != '\'') return ns_errmsg(err, errlen, "structured dtype (a record array): not a plain number array");
    char order = d[1], kind = d[2];
    char *end;
    long size = strtol(d + 3, &end, 10);
    if (*end != '\'' || !strchr("<>|=", order) || !strchr("fiub", kind))
        return ns_errmsg(err, errlen, "dtype %.12s is not a number type (float, int, uint, bool)", d);
    int ok = (kind == 'f' && (size == 4 || size == 8)) || ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
             (kind == 'b' && size == 1);
    if (!ok)
        return ns_errmsg(err, errlen, "dtype %.12s is not taken (float32, float64, int8-64, uint8-64, bool%s)", d,
                         kind == 'f' && size == 2 ? "; save float16 as float32" : "");
    int fortran = strncmp(fo, "True", 4) == 0;
    if (!fortran && strncmp(fo, "False", 5) != 0) return ns_errmsg(err, errlen, "bad fortran_order in the .npy header");
    if (*sh != '(') return ns_errmsg(err, errlen, "bad shape in the .npy header");
    const char *p = sh + 1;
    a->ndim = 0;
    a->count = 1;
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (a->ndim == NS_NPZ_MAX_DIMS) return ns_errmsg(err, errlen, "more than %d dimensions", NS_NPZ_MAX_DIMS);
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || v > MAX_FILE) return ns_errmsg(err, errlen, "bad shape in the .npy header");
        a->shape[a->ndim++] = (size_t)v;
        if (v && a->count > MAX_FILE / v) return ns_errmsg(err, errlen, "too many values");
        a->count *= (size_t)v;
        p = end;
    }
    size_t isz = (size_t)size, data = off + hl;
    if (a->count > (len - data) / isz) return ns_errmsg(err, errlen, "%zu values announced, the data is shorter", a->count);
    if (!(a->data = malloc((a->count ? a->count : 1) * sizeof *a->data))) return ns_errmsg(err, errlen, "out of memory");
    int big = order == '>';
    for (size_t k = 0; k < a->count; k++) {
        unsigned char v[8];
        const unsigned char *s = b + data + k * isz;
        for (size_t q = 0; q < isz; q++) v[q] = big ? s[isz - 1 - q] : s[q]; /* now little-endian */
        uint64_t u = 0;
        for (size_t q = 0; q < isz; q++) u |= (uint64_t)v[q] << (8 * q);
        double x;
        if (kind == 'f' && size == 8) {
            memcpy(&x, &u, 8);
        } else if (kind == 'f') {
            uint32_t u32 = (uint32_t)u;
            float fl;
            memcpy(&fl, &u32, 4);
            x = fl;
        } else if (kind == 'i') {
            int64_t s64 = (int64_t)(u << (64 - 8 * isz)) >> (64 - 8 * isz); /* sign-extend */
            x = (double)s64;
        } else {
            x = (double)u;
        }
        a->data[k] = x;
    }
    if (fortran && a->ndim > 1) { /* column-major to row-major */
        double *t = malloc(a->count * sizeof *t);
        if (!t) return ns_errmsg(err, errlen, "out of memory");
        for (size_t k = 0; k < a->count; k++) { /* k: C-order index; its Fortran-order position */
            size_t rem = k, f = 0, stride = 1, idx[NS_NPZ_MAX_DIMS];
            for (size_t dd = a->ndim; dd-- > 0;) {
                idx[dd] = rem % a->shape[dd];
                rem /= a->shape[dd];
            }
            for (size_t dd = 0; dd < a->ndim; dd++) {
                f += idx[dd] * stride;
                stride *= a->shape[dd];
            }
            t[k] = a->data[f];
        }
        free(a->data);
        a->data = t;
    }
    return 0;
}

/* ---------------------------------------------------------------- zip */

ns_npz *ns_npz_read(const char *path, char *err, size_t errlen)
{
    size_t len;
    unsigned char *b = slurp(path, &len, err, errlen), *raw = NULL;
    if (!b) return NULL;
    ns_npz *z = calloc(1, sizeof *z);
    if (!z) {
        ns_errmsg(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    size_t eocd = 0;
    int found = 0;
    for (size_t p = len >= 22 ? len - 22 + 1 : 0; p-- > 0 && len - p <= 22 + 65535;)
        if (rd32(b + p) == 0x06054b50) {
            eocd = p;
            found = 1;
            break;
        }
    if (!found) {
        ns_errmsg(err, errlen, "%s: not a zip file (numpy's .npz is one: numpy.savez)", path);
        goto fail;
    }
    size_t count = rd16(b + eocd + 10), cd = rd32(b + eocd + 16);
    if (count == 0xFFFF || cd == 0xFFFFFFFFu) {
        ns_errmsg(err, errlen, "%s: a zip64 archive (over 65535 members or 4 GiB): not taken", path);
        goto fail;
    }
    if (!(z->a = calloc(count ? count : 1, sizeof *z->a))) {
        ns_errmsg(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    size_t p = cd;
    for (size_t i = 0; i < count; i++) {
        if (p > len || len - p < 46 || rd32(b + p) != 0x02014b50) {
            ns_errmsg(err, errlen, "%s: the zip's central directory is damaged", path);
            goto fail;
        }
        unsigned flags = rd16(b + p + 8), method = rd16(b + p + 10);
        uint32_t crc = rd32(b + p + 16);
        uint64_t csize = rd32(b + p + 20), usize = rd32(b + p + 24), loc = rd32(b + p + 42);
        size_t nl = rd16(b + p + 28), el = rd16(b + p + 30), cl = rd16(b + p + 32);
        if (len - p - 46 < nl + el + cl) {
            ns_errmsg(err, errlen, "%s: the zip's central directory is damaged", path);
            goto fail;
        }
        char name[256];
        if (nl >= sizeof name || nl < 5 || memcmp(b + p + 46 + nl - 4, ".npy", 4) != 0) {
            ns_errmsg(err, errlen, "%s: member %zu (%.*s) is not a .npy array", path, i + 1, (int)(nl < 200 ? nl : 200),
                      (const char *)b + p + 46);
            goto fail;
        }
        memcpy(name, b + p + 46, nl - 4);
        name[nl - 4] = '\0';
        /* a zip64 extra field holds the sizes and offset that read 0xFFFFFFFF above, in that order */
        for (size_t e = p + 46 + nl; e + 4 <= p + 46 + nl + el;) {
            size_t id = rd16(b + e), sz = rd16(b + e + 2), q = e + 4;
            if (id == 1) {
                if (usize == 0xFFFFFFFFu && q + 8 <= e + 4 + sz) usize = rd64(b + q), q += 8;
                if (csize == 0xFFFFFFFFu && q + 8 <= e + 4 + sz) csize = rd64(b + q), q += 8;
                if (loc == 0xFFFFFFFFu && q + 8 <= e + 4 + sz) loc = rd64(b + q);
            }
            e += 4 + sz;
        }
        p += 46 + nl + el + cl;
        if (flags & 1) {
            ns_errmsg(err, errlen, "%s: member %s is encrypted", path, name);
            goto fail;
        }
        if (loc > len || len - loc < 30 || rd32(b + loc) != 0x04034b50) {
            ns_errmsg(err, errlen, "%s: member %s: damaged local header", path, name);
            goto fail;
        }
        size_t data = (size_t)loc + 30 + rd16(b + loc + 26) + rd16(b + loc + 28);
        if (data > len || csize > len - data || usize > MAX_FILE) {
            ns_errmsg(err, errlen, "%s: member %s is cut off", path, name);
            goto fail;
        }
        const unsigned char *mem = b + data;
        if (method == 8) {
            if (!(raw = malloc(usize ? usize : 1))) {
                ns_errmsg(err, errlen, "%s: out of memory", path);
                goto fail;
            }
            z_stream s;
            memset(&s, 0, sizeof s);
            if (inflateInit2(&s, -MAX_WBITS) != Z_OK) {
                ns_errmsg(err, errlen, "%s: zlib failed to start", path);
                goto fail;
            }
            s.next_in = (Bytef *)(uintptr_t)mem;
            s.avail_in = (uInt)csize;
            s.next_out = raw;
            s.avail_out = (uInt)usize;
            int rc = inflate(&s, Z_FINISH);
            inflateEnd(&s);
            if (rc != Z_STREAM_END || s.total_out != usize) {
                ns_errmsg(err, errlen, "%s: member %s does not inflate to its %llu bytes", path, name,
                          (unsigned long long)usize);
                goto fail;
            }
            mem = raw;
        } else if (method != 0) {
            ns_errmsg(err, errlen, "%s: member %s uses zip method %u (only stored and deflated are taken)", path, name,
                      method);
            goto fail;
        } else if (csize != usize) {
            ns_errmsg(err, errlen, "%s: member %s: stored sizes differ", path, name);
            goto fail;
        }
        if (crc32(0L, mem, (uInt)usize) != crc) {
            ns_errmsg(err, errlen, "%s: member %s fails its CRC check", path, name);
            goto fail;
        }
        for (size_t j = 0; j < z->n; j++)
            if (strcmp(z->a[j].name, name) == 0) {
                ns_errmsg(err, errlen, "%s: two arrays called %s", path, name);
                goto fail;
            }
        ns_npz_array *a = &z->a[z->n];
        if (!(a->name = strdup(name))) {
            ns_errmsg(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        z->n++;
        if (parse_npy(mem, (size_t)usize, a, err, errlen) != 0) {
            char what[300];
            snprintf(what, sizeof what, "%s: array %s", path, name);
            ns_errmsg_prefix(err, errlen, what);
            goto fail;
        }
        for (size_t k = 0; k < a->count; k++)
            if (!isfinite(a->data[k])) {
                ns_errmsg(err, errlen, "%s: array %s value %zu is not finite", path, name, k);
                goto fail;
            }
        free(raw);
        raw = NULL;
    }
    free(b);
    return z;
fail:
    free(raw);
    free(b);
    ns_npz_free(z);
    return NULL;
}

/* ---------------------------------------------------------------- write */

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xFFFF);
    put16(p + 2, v >> 16);
}

/* The .npy bytes of a (version 1.0, '<f8', C order, header padded to 64); NULL when out of memory. */
static unsigned char *npy_bytes(const ns_npz_array *a, size_t *len)
{
    char h[512];
    int n = snprintf(h, sizeof h, "{'descr': '<f8', 'fortran_order': False, 'shape': (");
    for (size_t d = 0; d < a->ndim; d++)
        n += snprintf(h + n, sizeof h - (size_t)n, "%zu,%s", a->shape[d], d + 1 < a->ndim ? " " : "");
    if (a->ndim > 1) n--; /* numpy writes (3,) but (3, 4) */
    n += snprintf(h + n, sizeof h - (size_t)n, "), }");
    size_t total = 10 + (size_t)n + 1, pad = (64 - total % 64) % 64;
    size_t hl = (size_t)n + pad + 1;
    *len = 10 + hl + a->count * 8;
    unsigned char *b = malloc(*len);
    if (!b) return NULL;
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    put16(b + 8, (unsigned)hl);
    memcpy(b + 10, h, (size_t)n);
    memset(b + 10 + n, ' ', pad);
    b[10 + hl - 1] = '\n';
    for (size_t k = 0; k < a->count; k++) {
        uint64_t u;
        memcpy(&u, &a->data[k], 8);
        for (int q = 0; q < 8; q++) b[10 + hl + 8 * k + (size_t)q] = (unsigned char)(u >> (8 * q));
    }
    return b;
}

int ns_npz_write(const char *path, const ns_npz_array *arrays, size_t n, char *err, size_t errlen)
{
    char tmp[4200];
    if (n > 65535) return ns_errmsg(err, errlen, "%s: %zu arrays (at most 65535)", path, n);
    FILE *f = ns_file_start(path, tmp, sizeof tmp, err, errlen);
    if (!f) return -1;
    unsigned char *cdir = NULL;
    size_t cdlen = 0, off = 0;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        const ns_npz_array *a = &arrays[i];
        size_t nl = strlen(a->name) + 4, len;
        unsigned char *b = nl < 250 ? npy_bytes(a, &len) : NULL;
        unsigned char *c = realloc(cdir, cdlen + 46 + nl);
        if (!b || !c || off + len > 0xFFFFFFF0u) {
            free(b);
            if (c) cdir = c;
            ok = 0;
            break;
        }
        cdir = c;
        uint32_t crc = (uint32_t)crc32(0L, b, (uInt)len);
        unsigned char lh[30];
        put32(lh, 0x04034b50);
        put16(lh + 4, 20);
        put16(lh + 6, 0);
        put16(lh + 8, 0);      /* stored */
        put16(lh + 10, 0);     /* time */
        put16(lh + 12, 0x21);  /* 1980-01-01 */
        put32(lh + 14, crc);
        put32(lh + 18, (uint32_t)len);
        put32(lh + 22, (uint32_t)len);
        put16(lh + 26, (unsigned)nl);
        put16(lh + 28, 0);
        unsigned char *e = cdir + cdlen;
        put32(e, 0x02014b50);
        put16(e + 4, 20);
        memcpy(e + 6, lh + 4, 26); /* version needed .. name length as in the local header */
        put16(e + 30, 0);          /* extra */
        put16(e + 32, 0);          /* comment */
        put16(e + 34, 0);
        put16(e + 36, 0);
        put32(e + 38, 0);
        put32(e + 42, (uint32_t)off);
        memcpy(e + 46, a->name, nl - 4);
        memcpy(e + 46 + nl - 4, ".npy", 4);
        cdlen += 46 + nl;
        ok = fwrite(lh, 1, 30, f) == 30 && fwrite(e + 46, 1, nl, f) == nl && fwrite(b, 1, len, f) == len;
        off += 30 + nl + len;
        free(b);
    }
    unsigned char end[22];
    put32(end, 0x06054b50);
    put16(end + 4, 0);
    put16(end + 6, 0);
    put16(end + 8, (unsigned)n);
    put16(end + 10, (unsigned)n);
    put32(end + 12, (uint32_t)cdlen);
    put32(end + 16, (uint32_t)off);
    put16(end + 20, 0);
    if (ok) ok = (cdlen == 0 || fwrite(cdir, 1, cdlen, f) == cdlen) && fwrite(end, 1, 22, f) == 22;
    free(cdir);
    if (!ok) {
        fclose(f);
        remove(tmp);
        return ns_errmsg(err, errlen, "%s: cannot write (disk full, a name too long, or over 4 GiB)", path);
    }
    return ns_file_finish(f, tmp, path, err, errlen);
}
