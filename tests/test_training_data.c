/* tests/test_training_data.c — nsim.training_data's CSV against what nsim trains on: the file read
 * back by this test's own parser, against the randman generator and its documented properties, the
 * limit's even subsets recomputed here, and a network trained on the file against nsim.train's.
 * Needs $NSIM (the nsim command); bad tables are refused with status 2 and no file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/harness.h"
#include "train/dataset.h"
#include "train/snn.h"

enum { UNITS = 100, STEPS = 100, CLASSES = 10, SPC = 1000, SEED = 7, LIMIT = 500 };

typedef struct {
    size_t n[2];     /* rows of the training set [0] and of the test set [1] */
    float *t[2];     /* [n][UNITS] */
    int *y[2];       /* [n] */
    int header_ok;   /* "set,label,t0,...,t99" */
    int order_ok;    /* every training row before every test row, each line whole */
} csv_sets;

static void csv_free(csv_sets *c)
{
    for (int s = 0; s < 2; s++) {
        free(c->t[s]);
        free(c->y[s]);
    }
}

/* Read a file of nsim.training_data with spike times of UNITS units. 0, or -1 (unreadable). */
static int csv_read(const char *path, csv_sets *c)
{
    memset(c, 0, sizeof *c);
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    char want[1024] = "set,label", *line = NULL;
    for (int j = 0; j < UNITS; j++) snprintf(want + strlen(want), sizeof want - strlen(want), ",t%d", j);
    strcat(want, "\n");
    size_t cap = 0, room[2] = {0, 0};
    c->header_ok = getline(&line, &cap, fp) > 0 && !strcmp(line, want);
    c->order_ok = 1;
    while (getline(&line, &cap, fp) > 0) {
        int s = !strncmp(line, "train,", 6) ? 0 : !strncmp(line, "test,", 5) ? 1 : -1;
        if (s < 0 || (s == 0 && c->n[1] > 0)) {
            c->order_ok = 0;
            continue;
        }
        if (c->n[s] == room[s]) {
            room[s] = room[s] ? 2 * room[s] : 1024;
            c->t[s] = realloc(c->t[s], room[s] * UNITS * sizeof(float));
            c->y[s] = realloc(c->y[s], room[s] * sizeof(int));
        }
        char *p = strchr(line, ',') + 1, *end;
        c->y[s][c->n[s]] = (int)strtol(p, &end, 10);
        for (int j = 0; j < UNITS; j++) {
            if (*end != ',') c->order_ok = 0;
            c->t[s][c->n[s] * UNITS + j] = strtof(end + 1, &end);
        }
        if (*end != '\n') c->order_ok = 0;
        c->n[s]++;
    }
    free(line);
    fclose(fp);
    return 0;
}

/* Run `nsim run` on a script of one line in dir; its stdout into out (outlen). Returns the exit
 * status (-1 if it could not run). */
static int run_script(const char *dir, const char *name, const char *lua, char *out, size_t outlen)
{
    const char *nsim = getenv("NSIM");
    char path[1024], cmd[4096];
    snprintf(path, sizeof path, "%s/%s.lua", dir, name);
    FILE *fp = fopen(path, "w");
    if (!nsim || !fp) {
        if (fp) fclose(fp);
        return -1;
    }
    fprintf(fp, "%s\n", lua);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "'%s' run '%s' --out '%s/%s' --quiet >'%s/%s.out' 2>'%s/%s.err'", nsim, path, dir, name,
             dir, name, dir, name);
    int st = system(cmd);
    snprintf(path, sizeof path, "%s/%s.out", dir, name);
    out[0] = '\0';
    fp = fopen(path, "r");
    if (fp) {
        size_t got = fread(out, 1, outlen - 1, fp);
        out[got] = '\0';
        fclose(fp);
    }
    return st == -1 ? -1 : WEXITSTATUS(st);
}

static int rows_equal(const float *a, const float *b) { return !memcmp(a, b, UNITS * sizeof(float)); }

/* Run script `lua` (which writes d.csv) in dir/name: it must succeed and print `want`; then read
 * the file into c and check its header and that the training rows come first, in whole lines. */
static void written(const char *dir, const char *name, const char *lua, const char *want, csv_sets *c)
{
    char out[256], path[1024];
    int st = run_script(dir, name, lua, out, sizeof out);
    NS_CHECK(st == 0 && !strcmp(out, want), "%s: status %d, returned %s", name, st, out);
    snprintf(path, sizeof path, "%s/%s/d.csv", dir, name);
    NS_CHECK(csv_read(path, c) == 0, "%s readable", path);
    NS_CHECK(c->header_ok && c->order_ok, "%s: header %d, training rows first and whole lines %d", path,
             c->header_ok, c->order_ok);
}

/* The whole set, limit 0: the split nsim.train makes of the generator's samples, bit for bit. */
static void full_set(const char *dir, csv_sets *c)
{
    written(dir, "full",
            "local r = nsim.training_data{data = \"randman\", seed = 7, file = \"d.csv\"}\n"
            "print(r.train, r.test, r.dim, r.classes, r.steps)",
            "8000\t2000\t100\t10\t100\n", c);
    NS_CHECK(c->n[0] == 8000 && c->n[1] == 2000, "80/20: %zu training and %zu test rows", c->n[0], c->n[1]);
    if (c->n[0] != 8000 || c->n[1] != 2000) return;

    /* stratified and in class order: 800 and 200 per class, labels ascending */
    int strat = 1;
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < c->n[s]; i++) strat &= c->y[s][i] == (int)(i / (s ? 200 : 800));
    NS_CHECK(strat, "each set holds its share of every class, class by class");

    /* randman's documented scaling: per class and unit, over all its samples, the earliest spike
     * is at 0 and the latest just below the trial's end; every time in [0, steps) */
    int minmax = 1, range = 1;
    for (int k = 0; k < CLASSES; k++)
        for (int j = 0; j < UNITS; j++) {
            float lo = INFINITY, hi = -INFINITY;
            for (int s = 0; s < 2; s++) {
                const size_t per = s ? 200 : 800;
                for (size_t i = (size_t)k * per; i < (size_t)(k + 1) * per; i++) {
                    const float v = c->t[s][i * UNITS + (size_t)j];
                    range &= v >= 0 && v < STEPS;
                    lo = fminf(lo, v);
                    hi = fmaxf(hi, v);
                }
            }
            minmax &= lo == 0.0f && hi > STEPS - 0.01f;
        }
    NS_CHECK(range, "every spike time in [0, %d)", STEPS);
    NS_CHECK(minmax, "per class and unit: earliest spike at 0, latest just below %d", STEPS);

    /* the generator's samples of seed 7: each class's 1000 rows, in order, are its training and test
     * rows merged (a partition, each set in the generator's order) */
    ns_randman_params p;
    ns_randman_defaults(&p);
    p.seed = SEED;
    ns_dataset *gen = NULL, *tr = NULL, *te = NULL;
    char err[512];
    NS_CHECK(ns_dataset_randman(&p, &gen, err, sizeof err) == 0, "randman: %s", err);
    if (!gen) return;
    int part = ns_dataset_n(gen) == (size_t)CLASSES * SPC;
    size_t at[2] = {0, 0};
    for (size_t i = 0; part && i < ns_dataset_n(gen); i++) {
        const float *g = ns_dataset_row(gen, i);
        const int lab = ns_dataset_labels(gen)[i];
        int s = at[0] < c->n[0] && c->y[0][at[0]] == lab && rows_equal(g, c->t[0] + at[0] * UNITS) ? 0
              : at[1] < c->n[1] && c->y[1][at[1]] == lab && rows_equal(g, c->t[1] + at[1] * UNITS) ? 1 : -1;
        if (s < 0) part = 0;
        else at[s]++;
    }
    NS_CHECK(part && at[0] == 8000 && at[1] == 2000, "the two sets partition the generator's samples in order "
             "(%zu training, %zu test rows matched)", at[0], at[1]);
    /* and the partition is the seeded split nsim.train makes */
    NS_CHECK(ns_dataset_split(gen, 0.2, SEED, &tr, &te, err, sizeof err) == 0, "split: %s", err);
    if (tr && te)
        NS_CHECK(!memcmp(ns_dataset_x(tr), c->t[0], 8000 * UNITS * sizeof(float)) &&
                 !memcmp(ns_dataset_x(te), c->t[1], 2000 * UNITS * sizeof(float)),
                 "the file's sets are the seeded 80/20 split, bit for bit");
    /* the split is drawn, not the last fifth of each class */
    if (te) NS_CHECK(!rows_equal(ns_dataset_row(te, 0), ns_dataset_row(gen, 800)), "test rows are a random draw");
    ns_dataset_free(gen);
    ns_dataset_free(tr);
    ns_dataset_free(te);
}

/* limit 500: 500 training rows at i * (8000 / 500) and 101 test rows at i * (2000 / 101) of the
 * whole sets; a network trained on them gives nsim.train's figures to the last bit. */
static void cut_set(const char *dir, const csv_sets *all)
{
    char out[512];
    csv_sets c;
    written(dir, "cut",
            "local r = nsim.training_data{data = \"randman\", seed = 7, limit = 500, file = \"d.csv\"}\n"
            "print(r.train, r.test)",
            "500\t101\n", &c);
    NS_CHECK(c.n[0] == LIMIT && c.n[1] == LIMIT / 5 + 1, "%zu and %zu rows", c.n[0], c.n[1]);
    if (c.n[0] != LIMIT || c.n[1] != LIMIT / 5 + 1 || all->n[0] != 8000 || all->n[1] != 2000) {
        csv_free(&c);
        return;
    }
    int even = 1;
    for (size_t i = 0; i < c.n[0]; i++)
        even &= c.y[0][i] == all->y[0][i * 16] && rows_equal(c.t[0] + i * UNITS, all->t[0] + i * 16 * UNITS);
    for (size_t i = 0; i < c.n[1]; i++)
        even &= c.y[1][i] == all->y[1][i * 19] && rows_equal(c.t[1] + i * UNITS, all->t[1] + i * 19 * UNITS);
    NS_CHECK(even, "the limit's rows are the even subsets of the whole sets");

    /* nsim.train on the same data, seed and limit, against the same network trained here on the file */
    int st = run_script(dir, "train",
                    "local r = nsim.train{data = \"randman\", encoding = \"spikes\", neuron = \"lif\", T = 20, "
                    "hidden = 8, epochs = 1, seed = 7, limit = 500}\n"
                    "print(string.format('%.17g %.17g %.17g', r.epochs[1].loss, r.epochs[1].train_acc, r.test_acc))",
                    out, sizeof out);
    double loss = NAN, tracc = NAN, teacc = NAN;
    NS_CHECK(st == 0 && sscanf(out, "%lf %lf %lf", &loss, &tracc, &teacc) == 3, "nsim.train: status %d: %s", st, out);
    ns_dataset *tr = NULL, *te = NULL;
    char err[512];
    NS_CHECK(ns_dataset_from_spike_times(c.n[0], UNITS, CLASSES, STEPS, c.t[0], c.y[0], &tr, err, sizeof err) == 0 &&
             ns_dataset_from_spike_times(c.n[1], UNITS, CLASSES, STEPS, c.t[1], c.y[1], &te, err, sizeof err) == 0,
             "the file as data sets: %s", err);
    ns_snn_opts o;
    ns_snn_opts_default(&o);
    o.T = 20;
    o.hidden[0] = 8;
    o.neuron = ns_neuron_opts_default(NS_NEURON_LIF, 8);
    ns_encoder_defaults(&o.encoder, NS_ENC_SPIKE_TIMES);
    o.seed = SEED;
    ns_snn *n = tr && te ? ns_snn_create(UNITS, CLASSES, &o, err, sizeof err) : NULL;
    ns_snn_stats a = {0}, b = {0};
    NS_CHECK(n && ns_snn_train_epoch(n, tr, 0, &a, err, sizeof err) == 0 && ns_snn_evaluate(n, te, &b, err, sizeof err) == 0,
             "training on the file: %s", err);
    NS_CHECK(a.loss == loss && a.accuracy == tracc && b.accuracy == teacc,
             "trained on the file: loss %.17g, train %.17g, test %.17g; nsim.train: %.17g, %.17g, %.17g", a.loss,
             a.accuracy, b.accuracy, loss, tracc, teacc);
    ns_snn_free(n);
    ns_dataset_free(tr);
    ns_dataset_free(te);
    csv_free(&c);
}

/* Bad tables: status 2, one "nsim: FILE:LINE: ..." line naming the value, no file (nor its temporary). */
static void refusals(const char *dir)
{
    static const struct {
        const char *name, *lua, *says;
    } bad[] = {
        {"key", "nsim.training_data{data = \"randman\", file = \"d.csv\", seeds = 3}", "seeds"},
        {"nofile", "nsim.training_data{data = \"randman\"}", "file"},
        {"limit", "nsim.training_data{data = \"randman\", limit = -1, file = \"d.csv\"}", "limit is -1"},
        {"seed", "nsim.training_data{data = \"randman\", seed = 1.5, file = \"d.csv\"}", "seed is 1.5"},
        {"data", "nsim.training_data{data = \"no-such-folder\", file = \"d.csv\"}", "no-such-folder"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char out[256], path[1024], msg[1024] = "";
        const int st = run_script(dir, bad[k].name, bad[k].lua, out, sizeof out);
        snprintf(path, sizeof path, "%s/%s.err", dir, bad[k].name);
        FILE *fp = fopen(path, "r");
        int lines = 0;
        if (fp) {
            char line[1024];
            while (fgets(line, sizeof line, fp))
                if (!lines++) snprintf(msg, sizeof msg, "%s", line);
            fclose(fp);
        }
        char want[1100];
        snprintf(want, sizeof want, "nsim: %s/%s.lua:1: ", dir, bad[k].name);
        NS_CHECK(st == 2 && lines == 1 && !strncmp(msg, want, strlen(want)) && strstr(msg, bad[k].says),
                 "%s: status %d, %d lines: %s", bad[k].name, st, lines, msg);
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s/d.csv", dir, bad[k].name);
        int none = stat(path, &sb) != 0;
        snprintf(path, sizeof path, "%s/%s/d.csv.tmp", dir, bad[k].name);
        none &= stat(path, &sb) != 0;
        NS_CHECK(none, "%s: no file left", bad[k].name);
    }
}

int main(void)
{
    if (!getenv("NSIM")) {
        printf("test_training_data: NSIM (the nsim command) is not set\n");
        return 1;
    }
    char dir[512], cmd[600];
    ns_test_tmpdir(dir, sizeof dir, "nsim-training-data");
    csv_sets all;
    full_set(dir, &all);
    cut_set(dir, &all);
    csv_free(&all);
    refusals(dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
    NS_TEST_MAIN_END();
}
