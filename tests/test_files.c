/* tests/test_files.c — base/files.c: the folder, the name and a file beside another for every
 * shape of path (none, relative, absolute, at the root), and a whole-file write that either
 * replaces the file or leaves it and no temporary behind. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/files.h"
#include "tests/harness.h"

static void paths(void)
{
    static const struct {
        const char *path, *base, *dir, *beside;
    } cases[] = {
        {"spikes.csv", "spikes.csv", ".", "run.json"},
        {"out/cuba/spikes.csv", "spikes.csv", "out/cuba", "out/cuba/run.json"},
        {"/data/spikes.csv", "spikes.csv", "/data", "/data/run.json"},
        {"/spikes.csv", "spikes.csv", "/", "/run.json"},
        {"out/", "", "out", "out/run.json"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char dir[64], beside[64];
        NS_CHECK(!strcmp(ns_path_base(cases[k].path), cases[k].base), "base of %s: %s", cases[k].path,
                 ns_path_base(cases[k].path));
        NS_CHECK(ns_path_dir(cases[k].path, dir, sizeof dir) == 0 && !strcmp(dir, cases[k].dir), "folder of %s: %s",
                 cases[k].path, dir);
        NS_CHECK(ns_path_beside(cases[k].path, "run.json", beside, sizeof beside) == 0 && !strcmp(beside, cases[k].beside),
                 "beside %s: %s", cases[k].path, beside);
    }
    char small[8];
    NS_CHECK(ns_path_beside("out/cuba/spikes.csv", "run.json", small, sizeof small) == -1, "a short buffer is refused");
    NS_CHECK(ns_path_dir("out/cuba/spikes.csv", small, sizeof small) == -1, "a short buffer is refused");
}

static void writes(void)
{
    char dir[512], path[600], tmp[700], err[800];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/nsim-files-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        NS_CHECK(0, "cannot make a test folder");
        return;
    }
    snprintf(path, sizeof path, "%s/a.csv", dir);
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    NS_CHECK(fp && access(path, F_OK) != 0, "the file appears only when finished: %s", err);
    if (fp) {
        fputs("x\n", fp);
        NS_CHECK(ns_file_finish(fp, tmp, path, err, sizeof err) == 0, "%s", err);
    }
    char line[16] = "";
    FILE *in = fopen(path, "r");
    NS_CHECK(in && fgets(line, sizeof line, in) && !strcmp(line, "x\n") && access(tmp, F_OK) != 0,
             "written whole, temporary gone: '%s'", line);
    if (in) fclose(in);
    /* a failed write leaves the old file and no temporary */
    fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    if (fp) {
        fputs("y\n", fp);
        fgetc(fp); /* reading a write-only stream sets its error flag */
        NS_CHECK(ns_file_finish(fp, tmp, path, err, sizeof err) == -1 && strstr(err, "a.csv: write failed"), "%s", err);
    }
    in = fopen(path, "r");
    NS_CHECK(in && fgets(line, sizeof line, in) && !strcmp(line, "x\n") && access(tmp, F_OK) != 0,
             "the old file stays, no temporary: '%s'", line);
    if (in) fclose(in);
    snprintf(path, sizeof path, "%s/no_such_folder/a.csv", dir);
    NS_CHECK(!ns_file_start(path, tmp, sizeof tmp, err, sizeof err) && strstr(err, "a.csv: cannot write: "), "%s", err);
    snprintf(path, sizeof path, "%s/a.csv", dir);
    remove(path);
    rmdir(dir);
}

int main(void)
{
    paths();
    writes();
    NS_TEST_MAIN_END();
}
