/* lua/lua_util.h — what the Lua binding files share: the script of a Lua state, argument
 * helpers that raise Lua errors (which Lua prefixes with the script's file and line), and the
 * spike recorders the figure functions read. Not for code outside lua/. */
#ifndef NS_LUA_UTIL_H
#define NS_LUA_UTIL_H

#include "io/analyze.h"
#include <lua.h>

#include "lua/lua_api.h"
#include "sim/net.h"

/* The registry key of the running script (a light userdata), and the metatable of a spike
 * recorder's userdata, which holds its network and its index among the network's recorders. */
#define NS_LUA_SCRIPT_KEY "nsim.script"
/* The metatables of a network's and a population's userdata (lua_api.c owns their layout). */
#define NS_LUA_NET_MT "nsim.net"
#define NS_LUA_POP_MT "nsim.population"
#define NS_LUA_RECORDER_MT "nsim.recorder"
typedef struct {
    ns_net *net;
    int k; /* spike recorder index */
} ns_lua_recorder;

/* The running script. */
ns_script *ns_lua_script(lua_State *L);
/* Raise the context's last error message as a Lua error. */
int ns_lua_fail(lua_State *L);
/* Refuse keys of the table at idx that are not in allowed (NULL-terminated). */
void ns_lua_check_keys(lua_State *L, int idx, const char *const *allowed, const char *what);
/* An optional options table at idx: 0 when none or nil, else 1 after checking it is a table
 * whose keys are all in allowed. */
int ns_lua_options(lua_State *L, int idx, const char *const *allowed, const char *what);
/* Field key of the table at idx: a number, a string, a boolean (any value, as Lua tests it).
 * def when the field is absent, or when idx holds none or nil (no options table). */
double ns_lua_field_number(lua_State *L, int idx, const char *key, double def, const char *what);
const char *ns_lua_field_string(lua_State *L, int idx, const char *key, const char *def, const char *what);
int ns_lua_field_bool(lua_State *L, int idx, const char *key, int def);
/* A field that must be a whole number within [lo, hi], def when absent; a value (or def) outside
 * is refused with a message naming what, key and the range (def NAN: the field is required). */
double ns_lua_field_whole(lua_State *L, int idx, const char *key, double def, double lo, double hi, const char *what);
/* luaL_error with the C library's printf conversions (%g, %zu, %ld, widths), which Lua's own
 * formatter lacks; the message gets the script's file and line as luaL_error's does. Does not
 * return. */
int ns_lua_errorf(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A name a string option may take and the value (>= 0) it stands for. Lists end with {NULL, 0};
 * a later name of a value already listed is an alias. */
typedef struct {
    const char *name;
    int value;
} ns_lua_enum;
/* The value of name in names, or -1. */
int ns_lua_enum_value(const ns_lua_enum *names, const char *name);
/* Field key of the table at idx, a string from names: its value, def when absent (as above).
 * Another string raises "WHAT: KEY VERB a, b or c, not 'x'" (verb "is" or "must be"), which
 * lists each value once, by its first name. */
int ns_lua_field_enum(lua_State *L, int idx, const char *key, const ns_lua_enum *names, int def, const char *verb,
                      const char *what);
/* The network at idx (a Lua error if it is not one, or is closed). */
ns_net *ns_lua_check_net(lua_State *L, int idx);
/* Push population pop of the network whose userdata is at net_idx (which it keeps alive). */
void ns_lua_push_pop(lua_State *L, int net_idx, ns_pop *pop, ns_net *net);
/* The population at idx (a Lua error if it is not one), and its network in *net (net may be NULL). */
ns_pop *ns_lua_check_pop(lua_State *L, int idx, ns_net **net);
/* The spike recorder at idx: its network, and its index in *k. */
ns_net *ns_lua_check_recorder(lua_State *L, int idx, int *k);

/* The full path of `file` (a plain file name) in the run's output folder, into path (len bytes),
 * remembered as one of this run's outputs; a Lua error "what: why" otherwise. */
void ns_lua_output_path(lua_State *L, const char *file, const char *what, char *path, int len);
/* A state record of the output folder (a plain file name; read, not counted as an output: a run
 * that fails later keeps it), loaded for variable var into st; a Lua error "what: why" otherwise. */
void ns_lua_load_state(lua_State *L, const char *file, const char *var, ns_state_traces *st, const char *what);
/* The list at idx as doubles, kept alive as a userdata pushed on the stack; *n its length. A
 * boolean counts as 1 or 0 when bools is set; anything else not a number is a Lua error
 * "what: item K is a TYPE, not a number" ("what must be a list of numbers" for no list). */
double *ns_lua_number_list(lua_State *L, int idx, long *n, int bools, const char *what);
/* Push a new Lua list of the n numbers v[0], v[stride], v[2 stride], ... */
void ns_lua_push_numbers(lua_State *L, const double *v, long n, long stride);

#endif
