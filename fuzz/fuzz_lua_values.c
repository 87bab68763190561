/* fuzz/fuzz_lua_values.c — libFuzzer harness of the script loader's readers of values and specs
 * (lua/lua_util.c, the option readers of lua/lua_api.c and its neighbours): the input is a Lua
 * chunk run in a fresh nsim state with a memory limit, an instruction budget and size guards. */
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fuzz/harness.h"
#include "lua/lua_api.h"
#include "sim/ctx.h"

enum { MEMORY_LIMIT = 32 << 20, INSTRUCTIONS = 200000 };

/* The Lua heap: refused past MEMORY_LIMIT bytes. */
typedef struct {
    size_t used;
} heap;

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    heap *h = ud;
    const size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        h->used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > MEMORY_LIMIT - h->used) return NULL;
    void *p = realloc(ptr, nsize);
    if (p) h->used = h->used - old + nsize;
    return p;
}

/* Once the budget is spent, every instruction fails: a pcall in a loop cannot outlast it. */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "fuzz: instruction budget spent");
}

/* Runs the input (argument 2) in a sandbox: the nsim functions (argument 1) behind guards that keep
 * sizes small (populations of at most 64 units, runs of at most 2 ms at dt >= 0.01 ms, at most 200
 * calls) and file names plain (no '/': nothing outside the temporary folder is read). */
static const char prelude[] =
    "local nsim, chunk = ...\n"
    "local calls = 0\n"
    "local function plain(v, depth)\n"
    "  if type(v) == 'string' and v:find('/', 1, true) then error('fuzz: no paths', 3) end\n"
    "  if type(v) == 'table' and depth < 4 then for k, x in next, v do plain(k, depth + 1); plain(x, depth + 1) end end\n"
    "end\n"
    "local function guard(...)\n"
    "  calls = calls + 1\n"
    "  if calls > 200 then error('fuzz: too many calls', 3) end\n"
    "  for i = 1, select('#', ...) do plain((select(i, ...)), 0) end\n"
    "end\n"
    "local function atmost(v, max, what)\n"
    "  local x = math.type(v) and v or (type(v) == 'string' and tonumber(v))\n"
    "  if x and x > max then error('fuzz: ' .. what .. ' over ' .. max, 3) end\n"
    "end\n"
    "local function wrap(f) return function(...) guard(...); return f(...) end end\n"
    "local real = setmetatable({}, {__mode = 'k'})\n"
    "local function unwrap(v) return real[v] or v end\n"
    "local function method(name, check)\n"
    "  return function(self, ...)\n"
    "    guard(...)\n"
    "    if check then check(...) end\n"
    "    local n = unwrap(self)\n"
    "    return n[name](n, ...)\n"
    "  end\n"
    "end\n"
    "local net_methods = {\n"
    "  population = method('population', function(model, n) atmost(n, 64, 'population size') end),\n"
    "  spike_source = method('spike_source', function(o) if type(o) == 'table' then atmost(o.n, 64, 'n') end end),\n"
    "  run = method('run', function(t) atmost(t, 2, 'run time') end),\n"
    "}\n"
    "for _, name in ipairs{'connect', 'connect_graded', 'load_network', 'poisson', 'dc', 'step_current', 'ac', 'noise', 'signal',\n"
    "                      'record_spikes', 'record_state', 'record_rate', 'record_sum', 'record_weights'} do\n"
    "  net_methods[name] = method(name)\n"
    "end\n"
    "local net_mt = {__index = net_methods, __metatable = 'network'}\n"
    "local function network(o, ...)\n"
    "  guard(o, ...)\n"
    "  if type(o) == 'table' then\n"
    "    local dt = tonumber(o.dt)\n"
    "    if dt and dt < 0.01 then error('fuzz: dt under 0.01', 2) end\n"
    "  end\n"
    "  local n = nsim.network(o, ...)\n"
    "  local proxy = setmetatable({}, net_mt)\n"
    "  real[proxy] = n\n"
    "  return proxy\n"
    "end\n"
    "local env = {\n"
    "  nsim = {uniform = wrap(nsim.uniform), normal = wrap(nsim.normal), cauchy = wrap(nsim.cauchy),\n"
    "          param = wrap(nsim.param), network = network, scaffold = wrap(nsim.scaffold), version = nsim.version},\n"
    "  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall, select = select,\n"
    "  tonumber = tonumber, tostring = tostring, type = type, setmetatable = setmetatable, getmetatable = getmetatable,\n"
    "  rawget = rawget, rawset = rawset, rawlen = rawlen, rawequal = rawequal,\n"
    "  math = math, string = string, table = table, utf8 = utf8,\n"
    "}\n"
    "local f = load(chunk, '=fuzz', 't', env)\n"
    "if f then f() end\n";

/* Data files a script may name (in the temporary folder, which is the current folder). */
static void write_data_files(void)
{
    static const char spikes[] = "t_ms,neuron\n0.5,0\n1.0,3\n1.5,1\n";
    static const char edges[] = "source,target,weight,delay_ms\n0,1,0.5,1.0\n1,0,0.25,2.0\n";
    static const char pos[] = "x_um,y_um,z_um\n0,0,0\n1,0,0\n0,1,0\n1,1,0\n";
    char path[600];
    fuzz_write("spikes.csv", (const uint8_t *)spikes, sizeof spikes - 1, path, sizeof path);
    fuzz_write("edges.csv", (const uint8_t *)edges, sizeof edges - 1, path, sizeof path);
    fuzz_write("positions.csv", (const uint8_t *)pos, sizeof pos - 1, path, sizeof path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    write_data_files();
    return 0;
}

/* The script runs in the temporary folder (names it gives resolve there), libFuzzer outside it. */
static int enter_dir(void)
{
    int back = open(".", O_RDONLY | O_DIRECTORY);
    if (back < 0 || chdir(fuzz_dir()) != 0) abort();
    return back;
}

static void leave_dir(int back)
{
    if (fchdir(back) != 0) abort();
    close(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int back = enter_dir();
    char out[600], script[600];
    snprintf(out, sizeof out, "%s/out", fuzz_dir());
    snprintf(script, sizeof script, "%s/fuzz.lua", fuzz_dir());
    ns_ctx *ctx = ns_ctx_create();
    if (!ctx || ns_ctx_set_outdir(ctx, out)) abort();
    ns_setting settings[3] = {{"n", "12", 0}, {"rate", "2.5e1", 0}, {"flag", "true", 0}};
    ns_script *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->ctx = ctx;
    s->script = script;
    s->settings = settings;
    s->nsettings = 3;
    heap h = {0};
    lua_State *L = lua_newstate(limited_alloc, &h);
    if (!L) abort();
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},      {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},  {NULL, NULL}};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    ns_script_open(L, s);
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, INSTRUCTIONS);
    if (luaL_loadbufferx(L, prelude, sizeof prelude - 1, "=prelude", "t") != LUA_OK) abort();
    lua_getglobal(L, "nsim");
    lua_pushlstring(L, (const char *)data, size);
    /* a Lua error is a refusal: fine; NSIM_FUZZ_VERBOSE=1 shows it (to check the seeds run) */
    if (lua_pcall(L, 2, 0, 0) != LUA_OK && getenv("NSIM_FUZZ_VERBOSE"))
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    lua_close(L);
    ns_ctx_discard_outputs(ctx);
    ns_ctx_free(ctx);
    free(s);
    leave_dir(back);
    return 0;
}
