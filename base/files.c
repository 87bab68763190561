/* base/files.c — paths, whole-file reads and writes (see files.h). Paths are plain strings split at
 * their last '/'; nothing here touches the file system but the write and the rename. */
#include "base/files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Characters of path up to and including its last '/' (0 when it has none). */
static size_t dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

const char *ns_path_base(const char *path) { return path + dir_len(path); }

int ns_path_beside(const char *file, const char *name, char *out, size_t len)
{
    int n = snprintf(out, len, "%.*s%s", (int)dir_len(file), file, name);
    return n >= 0 && (size_t)n < len ? 0 : -1;
}

int ns_path_dir(const char *file, char *out, size_t len)
{
    size_t d = dir_len(file);
    int n = d == 0 ? snprintf(out, len, ".") : snprintf(out, len, "%.*s", d > 1 ? (int)d - 1 : 1, file);
    return n >= 0 && (size_t)n < len ? 0 : -1;
}

FILE *ns_file_start(const char *path, char *tmp, size_t len, char *err, size_t errlen)
{
    int n = snprintf(tmp, len, "%s.tmp", path);
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "%s: cannot write: the path is too long", path);
        return NULL;
    }
    FILE *fp = fopen(tmp, "w");
    if (!fp) snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return fp;
}

int ns_file_finish(FILE *fp, const char *tmp, const char *path, char *err, size_t errlen)
{
    if (ferror(fp) | fclose(fp) || rename(tmp, path)) {
        remove(tmp);
        snprintf(err, errlen, "%s: write failed", path);
        return -1;
    }
    return 0;
}

char *ns_file_read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t n = 0, cap = 0;
    char *buf = NULL;
    for (;;) {
        if (cap - n < 4096) {
            char *grown = realloc(buf, cap = 2 * cap + 8192);
            if (!grown) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) break;
    }
    fclose(fp);
    buf[n] = '\0';
    return buf;
}
