/* tests/test_fuzz_finds.c — the inputs the fuzzing harnesses (fuzz/) found crashing a reader or
 * taking memory the file could not justify, each read again here with the one-line refusal or
 * the correct result it must give. Runs in the normal suite (no clang needed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/analyze.h"
#include "io/csv.h"
#include "io/weight_file.h"
#include "lua/lua_api.h"
#include "models/cell_file.h"
#include "models/cfc_cell.h"
#include "models/ltc_cell.h"
#include "fuzz/checkpoint_net.h"
#include "sim/checkpoint.h"
#include "sim/ctx.h"
#include "sim/net_types.h"
#include "sim/netload.h"
#include "tests/harness.h"
#include "train/dataset.h"

static char dir[512];

/* Write n bytes into dir/name; its path into path. */
static void put(const char *name, const void *data, size_t n, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(data, 1, n, fp) != n || fclose(fp)) {
        printf("cannot write %s\n", path);
        exit(1);
    }
}

/* err is one line and reads exactly want. */
static void check_msg(const char *err, const char *want, const char *what)
{
    NS_CHECK(!strchr(err, '\n') && !strcmp(err, want), "%s: got '%s', want '%s'", what, err, want);
}

/* A table header with an empty name or a NUL byte: one name per column (strtok used to skip
 * empty names, so "weight" moved to another column and the name list ended in NULL). */
static void table_header_names(void)
{
    char path[600], err[1024], want[1024], warn[320];
    static const char shifted[] = ",pre,weight\n1,2,3\n4,5,6\n";
    put("shifted.csv", shifted, sizeof shifted - 1, path, sizeof path);
    double *w = NULL, t_ms;
    long n = 0;
    int rc = ns_weight_file_read(path, &w, &n, &t_ms, warn, sizeof warn, err, sizeof err);
    NS_CHECK(rc == 0 && n == 2 && w && w[0] == 3 && w[1] == 6, "the weight column is the third: rc %d, n %ld, %g %g (%s)",
             rc, n, w && n > 0 ? w[0] : NAN, w && n > 1 ? w[1] : NAN, err);
    free(w);
    ns_csv_table t;
    NS_CHECK(ns_csv_read_table(path, &t, err, sizeof err) == 0 && t.ncol == 3 && t.names && !strcmp(t.names[0], "") &&
                 !strcmp(t.names[1], "pre") && !strcmp(t.names[2], "weight"),
             "three names, the first empty (%s)", err);
    ns_csv_table_free(&t);
    /* the fuzzer's input: a header line of a NUL byte and a control character */
    static const unsigned char nul[] = {0x00, 0x06, 0x0a, 0x32, 0x0a, 0x27, 0x32};
    put("nul.csv", nul, sizeof nul, path, sizeof path);
    rc = ns_weight_file_read(path, &w, &n, &t_ms, warn, sizeof warn, err, sizeof err);
    snprintf(want, sizeof want, "%s: no weight column (a file of net:record_weights has one)", path);
    NS_CHECK(rc == -1, "refused");
    check_msg(err, want, "NUL header");
}

/* A state record whose neuron id does not fit a long (1.4e64) or is not a number: refused with
 * the line (the id used to be converted to long: undefined). */
static void state_bad_ids(void)
{
    char path[600], err[1024], want[1024];
    static const char huge[] = "t_ms,neuron,v\n0.1,0,-66\n0.1,14444444444444444444444444444444444444444444444444444444444444444,16\n";
    put("state.csv", huge, sizeof huge - 1, path, sizeof path);
    ns_state_traces st;
    NS_CHECK(ns_state_traces_load(&st, path, "v", err, sizeof err) == -1, "refused");
    snprintf(want, sizeof want, "%s:3: expected a finite t_ms and a neuron id in [0, 9007199254740991], got 0.1 and 1.44444e+64",
             path);
    check_msg(err, want, "huge id");
    static const char nan_t[] = "t_ms,neuron,v\nnan,0,-66\n0.2,0,-65\n";
    put("state.csv", nan_t, sizeof nan_t - 1, path, sizeof path);
    NS_CHECK(ns_state_traces_load(&st, path, "v", err, sizeof err) == -1, "refused");
    snprintf(want, sizeof want, "%s:2: expected a finite t_ms and a neuron id in [0, 9007199254740991], got nan and 0", path);
    check_msg(err, want, "NaN time");
    static const char good[] = "t_ms,neuron,v\n0.1,3,-66\n0.1,5,-65\n0.2,3,-64\n0.2,5,-63\n";
    put("state.csv", good, sizeof good - 1, path, sizeof path);
    int rc = ns_state_traces_load(&st, path, "v", err, sizeof err);
    NS_CHECK(rc == 0 && st.n_units == 2 && st.nt == 2 && st.ids[1] == 5 && st.trace[0] == -66 && st.trace[1] == -64 &&
                 st.trace[3] == -63, "a good record reads (%s)", err);
    if (!rc) ns_state_traces_free(&st);
}

/* A spike record without spikes beside a run.json whose simulated_ms is nan and a populations
 * file: "no spikes to analyse" (the last spike's time used to be read from before the array);
 * with one spike, that spike's time ends the record. */
static void spike_table_nan_duration(void)
{
    char spikes[600], path[600], err[1024], want[1024];
    static const char json[] = "{\n  \"simulated_ms\": nan,\n  \"records\": {}\n}\n";
    static const char pops[] = "population,model,first,last,size\nE,lif,0,3,4\n";
    static const char none[] = "t_ms,neuron\n", one[] = "t_ms,neuron\n2.5,1\n";
    put("run.json", json, sizeof json - 1, path, sizeof path);
    put("populations.csv", pops, sizeof pops - 1, path, sizeof path);
    put("spikes.csv", none, sizeof none - 1, spikes, sizeof spikes);
    ns_spike_load_opts o;
    memset(&o, 0, sizeof o);
    ns_spike_table tab;
    NS_CHECK(ns_spike_table_read(&tab, spikes, &o, err, sizeof err) == -1, "refused");
    snprintf(want, sizeof want, "%s: no spikes to analyse", spikes);
    check_msg(err, want, "NaN duration, no spikes");
    put("spikes.csv", one, sizeof one - 1, spikes, sizeof spikes);
    int rc = ns_spike_table_read(&tab, spikes, &o, err, sizeof err);
    NS_CHECK(rc == 0 && tab.n == 1 && tab.t1 == nextafter(2.5, HUGE_VAL) && !strcmp(tab.t_from, "last spike") &&
                 tab.n_neurons == 4, "the last spike ends it (%s)", err);
    if (!rc) ns_spike_table_free(&tab);
    remove(path);
    snprintf(path, sizeof path, "%s/run.json", dir);
    remove(path);
}

/* Run the script text (written to dir/name); its error message, or "" when it ran, into msg. */
static void run_script(const char *name, const char *text, char *script, size_t len, char *msg, size_t msglen)
{
    put(name, text, strlen(text), script, len);
    ns_ctx *ctx = ns_ctx_create();
    char out[600];
    snprintf(out, sizeof out, "%s/out", dir);
    ns_ctx_set_outdir(ctx, out);
    ns_script *s = calloc(1, sizeof *s);
    s->ctx = ctx;
    s->script = script;
    snprintf(msg, msglen, "%s", ns_script_run(s) ? s->errmsg : "");
    free(s);
    ns_ctx_discard_outputs(ctx);
    ns_ctx_free(ctx);
}

/* A population seed of 7.7e80 (the fuzzer's): refused with the range (its conversion to a 64-bit
 * key was undefined); 2^63 is still taken. */
static void population_seed_range(void)
{
    char script[600], msg[1300], want[1300];
    run_script("seed.lua", "local net = nsim.network()\nlocal P = net:population('lif', 2, {}, {}, {seed = 7.7e80})\n",
               script, sizeof script, msg, sizeof msg);
    snprintf(want, sizeof want, "%s:2: population options: seed = 7.7e+80 is outside [0, 2^64 - 1]", script);
    check_msg(msg, want, "huge seed");
    run_script("seed.lua", "local net = nsim.network()\nlocal P = net:population('lif', 2, {}, {}, {seed = 2^63})\n",
               script, sizeof script, msg, sizeof msg);
    NS_CHECK(!msg[0], "a seed of 2^63 is taken: %s", msg);
}

/* nsim.scaffold{neighbours = 51/0} (the fuzzer's): refused naming the value (inf was converted to
 * int); 6 is refused as before, 4 taken. */
static void scaffold_neighbours(void)
{
    char script[600], msg[1300], want[1300];
    static const char *const given[3] = {"51/0", "6", "4"}, *const shown[2] = {"inf", "6"};
    for (int k = 0; k < 3; k++) {
        char text[300];
        snprintf(text, sizeof text,
                 "local sc = nsim.scaffold{image = {5, 0.5}, width = 2, height = 1,\n  neighbours = %s, sigma = 0.3}\n",
                 given[k]);
        run_script("scaffold.lua", text, script, sizeof script, msg, sizeof msg);
        if (k < 2) {
            snprintf(want, sizeof want, "%s:1: scaffold: neighbours must be 4 or 8, not %s", script, shown[k]);
            check_msg(msg, want, "neighbours");
        } else {
            NS_CHECK(!msg[0], "neighbours = 4 is taken: %s", msg);
        }
    }
}

/* An IDX labels file whose header declares 4,194,303,746 labels in a few bytes: refused as
 * truncated without allocating for the count first. */
static void idx_huge_count(void)
{
    char labels[600], images[600], err[1024], want[1024];
    static const unsigned char lab[] = {0x00, 0x00, 0x08, 0x01, 0xf9, 0xff, 0xff, 0x02, 0x01, 0x00, 0x09};
    static const unsigned char img[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    put("labels", lab, sizeof lab, labels, sizeof labels);
    put("images", img, sizeof img, images, sizeof images);
    ns_dataset *ds = NULL;
    NS_CHECK(ns_dataset_load_idx(images, labels, &ds, err, sizeof err) == -1 && !ds, "refused");
    snprintf(want, sizeof want, "%s: truncated: header declares 4194303746 labels (4194303746 data bytes), got 3",
             labels);
    check_msg(err, want, "huge label count");
    /* images of 3 x 2^31 x 2 values behind 3 good labels: refused as truncated too */
    static const unsigned char lab3[] = {0, 0, 8, 1, 0, 0, 0, 3, 1, 0, 9};
    static const unsigned char big[] = {0, 0, 8, 3, 0, 0, 0, 3, 0x80, 0, 0, 0, 0, 0, 0, 2, 1, 2, 3};
    put("labels", lab3, sizeof lab3, labels, sizeof labels);
    put("images", big, sizeof big, images, sizeof images);
    NS_CHECK(ns_dataset_load_idx(images, labels, &ds, err, sizeof err) == -1 && !ds, "refused");
    snprintf(want, sizeof want, "%s: truncated: header declares 3 images (12884901888 data bytes), got 3", images);
    check_msg(err, want, "huge images");
    /* and a good pair still reads: 3 labels, 3 images of 2 x 2 */
    static const unsigned char good[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2,
                                         0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8};
    put("images", good, sizeof good, images, sizeof images);
    int rc = ns_dataset_load_idx(images, labels, &ds, err, sizeof err);
    NS_CHECK(rc == 0 && ds && ns_dataset_n(ds) == 3 && ns_dataset_dim(ds) == 4 && ns_dataset_classes(ds) == 10,
             "a good pair reads (%s)", err);
    if (!rc) {
        const float *x = ns_dataset_x(ds);
        NS_CHECK(x[0] == 0.0f && x[1] == 1.0f && x[2] == 51.0f / 255.0f && x[11] == 8.0f / 255.0f,
                 "pixels are bytes / 255: %g %g %g %g", x[0], x[1], x[2], x[11]);
        NS_CHECK(ns_dataset_labels(ds)[0] == 1 && ns_dataset_labels(ds)[2] == 9, "labels");
    }
    ns_dataset_free(ds);
}

/* A cell file whose array declares 3 x 203,000,000,000 values in a few bytes: refused before the
 * memory is asked for. */
static void cell_huge_array(void)
{
    char path[600], err[1024], want[1024];
    static const char text[] = "nsim-cell 1 cfc inputs=1\nW 3 203000000000\n1 2 3\nend\n";
    put("huge.txt", text, sizeof text - 1, path, sizeof path);
    ns_cell_file *f = ns_cell_file_read(path, err, sizeof err);
    NS_CHECK(!f, "refused");
    ns_cell_file_free(f);
    snprintf(want, sizeof want,
             "%s:2: array 'W' declares 3 x 203000000000 values, more than the rest of the file holds", path);
    check_msg(err, want, "huge array");
    /* as many values as declared, the shortest way: still read */
    static const char tight[] = "nsim-cell 1 cfc inputs=1\nW 2 2\n1 2\n3 4\nend";
    put("tight.txt", tight, sizeof tight - 1, path, sizeof path);
    f = ns_cell_file_read(path, err, sizeof err);
    const double *W = f ? ns_cell_file_array(f, "W", 2, 2, 1, err, sizeof err) : NULL;
    NS_CHECK(W && W[0] == 1 && W[3] == 4, "a tight array reads (%s)", err);
    ns_cell_file_free(f);
}

/* CfC and LTC headers of 429,496 units whose arrays are too small or absent (the fuzzer's
 * input): refused naming the array, without asking for the terabytes such a cell takes; small
 * cells keep their messages. */
static void cell_huge_units(void)
{
    char path[600], err[1024], want[1024];
    static const char cfc[] = "nsim-cell 1 cfc inputs=2 units=429496 mode=default backbone_layers=0 backbone_units=0 "
                              "activation=lecun_tanh mixed_memory=0 groups=0 layered=1 proj_size=0\nff1.W 3 5\n"
                              "1 2 3 4 5\n1 2 3 4 5\n1 2 3 4 5\nend\n";
    put("cfc.txt", cfc, sizeof cfc - 1, path, sizeof path);
    ns_cfc_cell *c = ns_cfc_load(path, err, sizeof err);
    NS_CHECK(!c, "refused");
    ns_cfc_free(c);
    snprintf(want, sizeof want, "%s: array 'ff1.W' is 3 x 5, want 429496 x 429498", path);
    check_msg(err, want, "huge CfC");
    static const char ltc[] = "nsim-cell 1 ltc inputs=1 units=429496 motor=1 input_mapping=none output_mapping=none "
                              "unfolds=6 epsilon=1e-8\nend\n";
    put("ltc.txt", ltc, sizeof ltc - 1, path, sizeof path);
    ns_ltc_cell *l = ns_ltc_load(path, err, sizeof err);
    NS_CHECK(!l, "refused");
    ns_ltc_free(l);
    snprintf(want, sizeof want, "%s: array 'w' missing", path);
    check_msg(err, want, "huge LTC");
}

/* A trained network file with an unknown definition: the message names it (it was formatted
 * from the file after the file was freed). */
static void netload_definition(void)
{
    char path[600], want[1024];
    static const char text[] = "nsim-cell 1 snn T=1 inputs=2 classes=2 layers=1 theta=1 neuron=lif definition=foo\nend\n";
    put("net.txt", text, sizeof text - 1, path, sizeof path);
    ns_ctx *ctx = ns_ctx_create();
    ns_net *net = ns_net_create(ctx, 1.0);
    size_t offset[3] = {0, 0, 0};
    const double t = 1.0;
    ns_pop *in = ns_net_add_spike_source(net, 2, offset, &t, "in");
    ns_loaded_snn ld;
    NS_CHECK(in && ns_net_load_snn(net, path, in, &ld) != 0, "refused");
    snprintf(want, sizeof want, "%s: definition is library or ablation, not 'foo'", path);
    check_msg(ns_ctx_errmsg(ctx), want, "unknown definition");
    ns_net_free(net);
    ns_ctx_free(ctx);
}

/* FNV-1a 64 over the body: a patched checkpoint made to pass its checksum. */
static void reseal(unsigned char *b, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t k = 24; k < len - 8; k++) h = (h ^ b[k]) * 0x100000001b3ull;
    memcpy(b + len - 8, &h, 8);
}

/* A checkpoint whose plastic source stamp is near INT64_MIN (fuzz_checkpoint): the pre update took
 * the difference to the spike's step, a signed overflow; refused now, naming the stamp (the file
 * before the patch passes). */
static void plastic_stamps(void)
{
    char run[600], path[700];
    snprintf(run, sizeof run, "%s/ckpt_run", dir);
    ns_ctx *ctx = NULL;
    ns_net *net = fuzz_checkpoint_net(run, &ctx);
    NS_CHECK(net != NULL, "the fuzz harness's network builds");
    if (!net) return;
    snprintf(path, sizeof path, "%s/p.ckpt", dir);
    NS_CHECK(ns_net_run(net, 7.3) == 0 && ns_checkpoint_save(net, path, 1) == 0, "%s", ns_ctx_errmsg(ctx));
    const ns_proj *pl = NULL;
    for (int k = 0; k < net->nprojs; k++)
        if (net->projs[k]->plastic) pl = net->projs[k];
    const uint64_t key[3] = {pl ? pl->src->n : 0, pl ? pl->tgt_n : 0, pl ? pl->n_syn : 0};
    ns_net_free(net);
    ns_ctx_discard_outputs(ctx);
    ns_ctx_free(ctx);
    FILE *fp = fopen(path, "rb");
    unsigned char *g = malloc(1 << 20), *b = malloc(1 << 20);
    size_t len = fp && g ? fread(g, 1, 1 << 20, fp) : 0;
    if (fp) fclose(fp);
    size_t at = 0; /* the plastic section: u64 sources, targets, synapses */
    for (size_t k = 24; pl && k + 24 <= len && !at; k++)
        if (!memcmp(g + k, key, 24)) at = k;
    NS_CHECK(at > 0 && b, "the plastic section found (%zu)", at);
    if (!at || !b) goto done;
    char err[1200];
    NS_CHECK(ns_checkpoint_check_buffer(g, len, err, sizeof err) == 0, "the file itself: %s", err);
    memcpy(b, g, len);
    const int64_t low = INT64_MIN + 512; /* t_last of source 0: after r1 and r2 of every source */
    memcpy(b + at + 24 + key[0] * 16, &low, 8);
    reseal(b, len);
    NS_CHECK(ns_checkpoint_check_buffer(b, len, err, sizeof err) != 0 &&
                 strstr(err, "corrupt plastic state: the step of a source's spike is -9223372036854775296"),
             "a far stamp: '%s'", err);
    ctx = NULL;
    net = fuzz_checkpoint_net(run, &ctx);
    int rc = net ? ns_checkpoint_load_buffer(net, b, len, "p.ckpt") : -1;
    NS_CHECK(rc == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "p.ckpt: corrupt plastic state"), "load: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    ns_ctx_discard_outputs(ctx);
    ns_ctx_free(ctx);
done:
    free(g);
    free(b);
}

int main(void)
{
    ns_test_tmpdir(dir, sizeof dir, "nsim-fuzz-finds");
    table_header_names();
    state_bad_ids();
    spike_table_nan_duration();
    idx_huge_count();
    cell_huge_array();
    netload_definition();
    cell_huge_units();
    population_seed_range();
    scaffold_neighbours();
    plastic_stamps();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("cannot remove %s\n", dir);
    NS_TEST_MAIN_END();
}
