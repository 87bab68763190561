/* base/files.h — paths and whole-file writes, shared by the command, the Lua bindings, the
 * analysis bridge and run.json. A file is written under PATH.tmp and renamed into place, so a
 * reader never sees half of one. */
#ifndef NS_FILES_H
#define NS_FILES_H

#include <stddef.h>
#include <stdio.h>

/* The file name in path: what follows its last '/', or all of path. Points into path. */
const char *ns_path_base(const char *path);

/* name in the folder that holds file: "dir/name" for "dir/file", "name" for "file". Returns 0,
 * or -1 when out (len bytes) is too short (out then holds what fits). */
int ns_path_beside(const char *file, const char *name, char *out, size_t len);

/* The folder that holds file: "dir" for "dir/file", "/" for "/file", "." for "file". Returns 0,
 * or -1 when out (len bytes) is too short. */
int ns_path_dir(const char *file, char *out, size_t len);

/* Start writing path: open PATH.tmp (its name goes into tmp, len bytes). NULL with
 * "PATH: cannot write: why" in err. */
FILE *ns_file_start(const char *path, char *tmp, size_t len, char *err, size_t errlen);

/* Close fp (from ns_file_start) and rename tmp to path. After any write error tmp is removed
 * and path left as it was: -1 with "PATH: write failed" in err. */
int ns_file_finish(FILE *fp, const char *tmp, const char *path, char *err, size_t errlen);

/* The whole of the file at path as one NUL-terminated string (malloc'd: the caller frees it), or
 * NULL when it cannot be read or memory runs out. */
char *ns_file_read_all(const char *path);

#endif
