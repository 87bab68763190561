/* python/core.c — nsim._core, the CPython extension behind `import nsim`: a session (an output
 * folder, a seed, threads) holding one Lua state in which nsim's own binding layer (lua/) runs,
 * so Python calls reach the engine through the same checks, defaults and messages as a script's.
 * Python values become Lua values and back; engine objects stay Lua values behind handles. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv.h"
#include "io/runinfo.h"
#include "lua/lua_api.h"
#include "sim/ctx.h"

/* Lua tables nest at most this deep when they cross over (a cycle would otherwise never end). */
#define MAX_DEPTH 64

/* The session: one at a time per process, between nsim.setup() (or the first call that needs
 * one) and nsim.end(). `generation` tells handles made in an earlier session that theirs ended. */
typedef struct {
    ns_script *s;
    ns_ctx *ctx;
    lua_State *L;
    volatile sig_atomic_t stop; /* SIGINT seen by Python while the engine ran */
    char script[4096];          /* the Python script's path, as run.json names it */
    char out[4096];
    ns_setting *settings;       /* setup(set = {...}): what nsim.param reads */
    char **setting_text;        /* their name and value strings, owned */
    int nsettings;
    double t0;
    long generation;
} session;

typedef struct {
    session sess;
    PyObject *error;            /* nsim.Error */
    PyObject *skip_dirs;        /* frames from files under these folders are not the caller's */
} module_state;

static module_state *state_of(PyObject *module) { return (module_state *)PyModule_GetState(module); }

/* ---- handles: a Lua value (function, table, userdata) kept in the registry ---- */

typedef struct {
    PyObject_HEAD
    PyObject *module;
    long generation;
    int ref;      /* the value */
    int self_ref; /* a method's object (passed first when called), or LUA_NOREF */
} handle;

static PyTypeObject handle_type;

static int session_open(module_state *ms) { return ms->sess.L != NULL; }

static int check_live(module_state *ms, long generation)
{
    if (session_open(ms) && ms->sess.generation == generation) return 0;
    PyErr_SetString(ms->error, "this nsim object belongs to a session that has ended (nsim.end())");
    return -1;
}

static PyObject *new_handle(PyObject *module, lua_State *L, int idx, int self_ref)
{
    module_state *ms = state_of(module);
    handle *h = PyObject_New(handle, &handle_type);
    if (!h) return NULL;
    lua_pushvalue(L, idx);
    h->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    h->self_ref = self_ref;
    h->module = module;
    Py_INCREF(module);
    h->generation = ms->sess.generation;
    return (PyObject *)h;
}

static void handle_dealloc(PyObject *o)
{
    handle *h = (handle *)o;
    module_state *ms = state_of(h->module);
    if (session_open(ms) && ms->sess.generation == h->generation) {
        luaL_unref(ms->sess.L, LUA_REGISTRYINDEX, h->ref);
        luaL_unref(ms->sess.L, LUA_REGISTRYINDEX, h->self_ref);
    }
    Py_DECREF(h->module);
    PyObject_Free(o);
}

/* ---- Python to Lua ---- */

static int push_value(module_state *ms, lua_State *L, PyObject *v, int depth);

/* A buffer (a numpy array, an array.array, a memoryview) of numbers: nested Lua lists. */
static int push_buffer_dim(lua_State *L, const Py_buffer *b, const char *p, int dim)
{
    Py_ssize_t n = b->shape[dim], stride = b->strides[dim];
    lua_createtable(L, (int)n, 0);
    for (Py_ssize_t i = 0; i < n; i++, p += stride) {
        if (dim + 1 < b->ndim) {
            push_buffer_dim(L, b, p, dim + 1);
        } else {
            const char f = b->format[0] == '@' || b->format[0] == '=' || b->format[0] == '<' ? b->format[1] : b->format[0];
            switch (f) {
            case 'd': lua_pushnumber(L, *(const double *)p); break;
            case 'f': lua_pushnumber(L, *(const float *)p); break;
            case 'b': lua_pushinteger(L, *(const signed char *)p); break;
            case 'B': lua_pushinteger(L, *(const unsigned char *)p); break;
            case 'h': lua_pushinteger(L, *(const short *)p); break;
            case 'H': lua_pushinteger(L, *(const unsigned short *)p); break;
            case 'i': lua_pushinteger(L, *(const int *)p); break;
            case 'I': lua_pushinteger(L, *(const unsigned *)p); break;
            case 'l': lua_pushinteger(L, *(const long *)p); break;
            case 'q': lua_pushinteger(L, *(const long long *)p); break;
            case 'L': case 'Q': {
                unsigned long long u = f == 'L' ? *(const unsigned long *)p : *(const unsigned long long *)p;
                if (u > (unsigned long long)LUA_MAXINTEGER) lua_pushnumber(L, (lua_Number)u);
                else lua_pushinteger(L, (lua_Integer)u);
                break;
            }
            case '?': lua_pushboolean(L, *(const unsigned char *)p); break;
            default: return -1;
            }
        }
        lua_rawseti(L, -2, i + 1);
    }
    return 0;
}

static int buffer_format_ok(const char *fmt)
{
    if (!fmt) return 0;
    if (*fmt == '@' || *fmt == '=' || *fmt == '<') fmt++;
    return fmt[0] && !fmt[1] && strchr("dfbBhHiIlqLQ?", fmt[0]);
}

static int push_buffer(module_state *ms, lua_State *L, PyObject *v)
{
    Py_buffer b;
    if (PyObject_GetBuffer(v, &b, PyBUF_STRIDES | PyBUF_FORMAT) < 0) return -1;
    int rc = 0;
    if (b.ndim < 1 || !buffer_format_ok(b.format)) {
        PyErr_Format(ms->error, "an array of numbers of one or more dimensions is wanted, not one of format '%s' and %d dimensions",
                     b.format ? b.format : "B", b.ndim);
        rc = -1;
    } else if (!lua_checkstack(L, b.ndim + 4)) {
        PyErr_NoMemory();
        rc = -1;
    } else {
        push_buffer_dim(L, &b, b.buf, 0);
    }
    PyBuffer_Release(&b);
    return rc;
}

static int push_sequence(module_state *ms, lua_State *L, PyObject *v, int depth)
{
    PyObject *seq = PySequence_Fast(v, "a list");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (push_value(ms, L, PySequence_Fast_GET_ITEM(seq, i), depth + 1) < 0) {
            Py_DECREF(seq);
            return -1;
        }
        lua_rawseti(L, -2, i + 1);
    }
    Py_DECREF(seq);
    return 0;
}

static int push_dict(module_state *ms, lua_State *L, PyObject *v, int depth)
{
    lua_createtable(L, 0, (int)PyDict_Size(v));
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(v, &pos, &key, &val)) {
        if (!PyUnicode_Check(key) && !PyLong_Check(key)) {
            PyErr_Format(PyExc_TypeError, "nsim: a dictionary's keys must be strings or integers, not %s",
                         Py_TYPE(key)->tp_name);
            return -1;
        }
        if (push_value(ms, L, key, depth + 1) < 0 || push_value(ms, L, val, depth + 1) < 0) return -1;
        if (lua_isnil(L, -1)) { /* None: the key left out, as a Lua table cannot hold nil */
            lua_pop(L, 2);
            continue;
        }
        lua_rawset(L, -3);
    }
    return 0;
}

static int push_value(module_state *ms, lua_State *L, PyObject *v, int depth)
{
    if (depth > MAX_DEPTH) {
        PyErr_SetString(ms->error, "a value nested more than 64 deep (or one that holds itself)");
        return -1;
    }
    if (!lua_checkstack(L, 4)) {
        PyErr_NoMemory();
        return -1;
    }
    if (v == Py_None) lua_pushnil(L);
    else if (PyBool_Check(v)) lua_pushboolean(L, v == Py_True);
    else if (PyLong_Check(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow) {
            double d = PyLong_AsDouble(v);
            if (d == -1.0 && PyErr_Occurred()) return -1;
            lua_pushnumber(L, d);
        } else {
            lua_pushinteger(L, (lua_Integer)x);
        }
    } else if (PyFloat_Check(v)) lua_pushnumber(L, PyFloat_AS_DOUBLE(v));
    else if (PyUnicode_Check(v)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(v, &n);
        if (!s) return -1;
        lua_pushlstring(L, s, (size_t)n);
    } else if (PyBytes_Check(v)) lua_pushlstring(L, PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v));
    else if (Py_TYPE(v) == &handle_type) {
        handle *h = (handle *)v;
        if (check_live(ms, h->generation)) return -1;
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
    } else if (PyDict_Check(v)) return push_dict(ms, L, v, depth);
    else if (PyList_Check(v) || PyTuple_Check(v)) return push_sequence(ms, L, v, depth);
    else if (PyObject_CheckBuffer(v)) {
        /* a numpy scalar has a buffer of no dimensions: a number, as its own float or int says */
        Py_buffer b;
        if (PyObject_GetBuffer(v, &b, PyBUF_STRIDES | PyBUF_FORMAT) < 0) return -1;
        const int ndim = b.ndim;
        PyBuffer_Release(&b);
        if (ndim > 0) return push_buffer(ms, L, v);
        if (PyIndex_Check(v)) {
            PyObject *i = PyNumber_Index(v);
            if (!i) return -1;
            int rc = push_value(ms, L, i, depth);
            Py_DECREF(i);
            return rc;
        }
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) return -1;
        lua_pushnumber(L, d);
    } else if (PyIndex_Check(v)) {
        PyObject *i = PyNumber_Index(v);
        if (!i) return -1;
        int rc = push_value(ms, L, i, depth);
        Py_DECREF(i);
        return rc;
    } else if (PyFloat_Check(v) || (Py_TYPE(v)->tp_as_number && Py_TYPE(v)->tp_as_number->nb_float)) {
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) return -1;
        lua_pushnumber(L, d);
    } else if (PySequence_Check(v)) return push_sequence(ms, L, v, depth);
    else {
        PyErr_Format(PyExc_TypeError, "nsim: a %s cannot be passed to nsim (numbers, strings, booleans, None, "
                     "lists, tuples, dictionaries, arrays and nsim objects can)", Py_TYPE(v)->tp_name);
        return -1;
    }
    return 0;
}

/* ---- Lua to Python ---- */

static PyObject *to_python(PyObject *module, lua_State *L, int idx, int depth);

/* A table without a metatable whose keys are exactly 1..n: a list; any other: a dictionary. */
static PyObject *table_to_python(PyObject *module, lua_State *L, int idx, int depth)
{
    idx = lua_absindex(L, idx);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        lua_pop(L, 1);
    }
    if (n > 0 && count == n) {
        PyObject *list = PyList_New((Py_ssize_t)n);
        if (!list) return NULL;
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            PyObject *item = to_python(module, L, -1, depth + 1);
            lua_pop(L, 1);
            if (!item) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, (Py_ssize_t)(i - 1), item);
        }
        return list;
    }
    PyObject *dict = PyDict_New();
    if (!dict) return NULL;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        PyObject *k = to_python(module, L, -2, depth + 1), *v = k ? to_python(module, L, -1, depth + 1) : NULL;
        lua_pop(L, 1);
        if (!v || PyDict_SetItem(dict, k, v) < 0) {
            Py_XDECREF(k);
            Py_XDECREF(v);
            Py_DECREF(dict);
            lua_pop(L, 1);
            return NULL;
        }
        Py_DECREF(k);
        Py_DECREF(v);
    }
    return dict;
}

static PyObject *to_python(PyObject *module, lua_State *L, int idx, int depth)
{
    if (depth > MAX_DEPTH) {
        PyErr_SetString(state_of(module)->error, "a Lua table nested more than 64 deep (or one that holds itself)");
        return NULL;
    }
    if (!lua_checkstack(L, 6)) return PyErr_NoMemory();
    switch (lua_type(L, idx)) {
    case LUA_TNIL: Py_RETURN_NONE;
    case LUA_TBOOLEAN: return PyBool_FromLong(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) return PyLong_FromLongLong((long long)lua_tointeger(L, idx));
        return PyFloat_FromDouble(lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "replace");
    }
    case LUA_TTABLE:
        if (!lua_getmetatable(L, idx)) return table_to_python(module, L, idx, depth);
        lua_pop(L, 1);
        return new_handle(module, L, idx, LUA_NOREF);
    default: return new_handle(module, L, idx, LUA_NOREF);
    }
}

/* ---- calls ---- */

/* "FILE:LINE: " of the innermost Python frame outside nsim's own packages, into buf. */
static void caller_position(module_state *ms, char *buf, size_t len)
{
    buf[0] = '\0';
    PyFrameObject *f = PyEval_GetFrame();
    if (f) Py_INCREF(f);
    while (f) {
        PyCodeObject *code = PyFrame_GetCode(f);
        const char *file = PyUnicode_AsUTF8(code->co_filename);
        int inside = 0;
        if (!file) PyErr_Clear();
        for (Py_ssize_t i = 0; file && ms->skip_dirs && i < PyList_Size(ms->skip_dirs); i++) {
            const char *dir = PyUnicode_AsUTF8(PyList_GET_ITEM(ms->skip_dirs, i));
            if (dir && !strncmp(file, dir, strlen(dir))) inside = 1;
        }
        if (file && !inside) { /* the first frame outside nsim: the user's line */
            snprintf(buf, len, "%s:%d: ", file, PyFrame_GetLineNumber(f));
            Py_DECREF(code);
            Py_DECREF(f);
            return;
        }
        Py_DECREF(code);
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
}

/* Raise the Lua error on top of the stack as nsim.Error (KeyboardInterrupt when a stop request
 * ended the run), prefixed with the caller's file and line unless it names a place already. */
static PyObject *raise_lua_error(module_state *ms, lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    char where[4200];
    caller_position(ms, where, sizeof where);
    if (!msg) msg = "an error without a message";
    PyObject *type = ms->sess.s->interrupted ? PyExc_KeyboardInterrupt : ms->error;
    /* the binding layer names no place when Python called it (no Lua line): the caller's */
    if (!strncmp(msg, "nsim: ", 6)) msg += 6;
    PyErr_Format(type, "%s%s", where, msg);
    lua_pop(L, 1);
    return NULL;
}

/* Call the Lua function at the top of the stack, below which nargs arguments were pushed... in
 * Lua order: function first. Returns None, one value or a tuple. */
static PyObject *call_lua(PyObject *module, lua_State *L, int base, int nargs)
{
    module_state *ms = state_of(module);
    ms->sess.stop = 0;
    ms->sess.s->interrupted = 0;
    if (lua_pcall(L, nargs, LUA_MULTRET, 0) != LUA_OK) {
        PyObject *r = raise_lua_error(ms, L);
        lua_settop(L, base);
        return r;
    }
    int nres = lua_gettop(L) - base;
    PyObject *r;
    if (nres == 0) {
        r = Py_None;
        Py_INCREF(r);
    } else if (nres == 1) {
        r = to_python(module, L, base + 1, 0);
    } else {
        r = PyTuple_New(nres);
        for (int i = 0; r && i < nres; i++) {
            PyObject *item = to_python(module, L, base + 1 + i, 0);
            if (!item) {
                Py_CLEAR(r);
                break;
            }
            PyTuple_SET_ITEM(r, i, item);
        }
    }
    lua_settop(L, base);
    return r;
}

/* handle(*args, **kw): call the Lua function (a method gets its object first); keyword arguments
 * become one table after the positional ones, as a script's trailing options table. */
static PyObject *handle_call(PyObject *o, PyObject *args, PyObject *kw)
{
    handle *h = (handle *)o;
    module_state *ms = state_of(h->module);
    if (check_live(ms, h->generation)) return NULL;
    lua_State *L = ms->sess.L;
    const int base = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
    if (!lua_isfunction(L, -1) && !luaL_getmetafield(L, -1, "__call")) {
        lua_settop(L, base);
        return PyErr_Format(PyExc_TypeError, "nsim: this %s is not callable", luaL_typename(L, -1));
    }
    int nargs = 0;
    if (h->self_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->self_ref);
        nargs++;
    }
    const Py_ssize_t n = PyTuple_GET_SIZE(args);
    for (Py_ssize_t i = 0; i < n; i++, nargs++)
        if (push_value(ms, L, PyTuple_GET_ITEM(args, i), 0) < 0) {
            lua_settop(L, base);
            return NULL;
        }
    if (kw && PyDict_Size(kw) > 0) {
        if (push_dict(ms, L, kw, 0) < 0) {
            lua_settop(L, base);
            return NULL;
        }
        nargs++;
    }
    return call_lua(h->module, L, base, nargs);
}

/* Run t[k] (or the object's __index) under protection: lua_gettable may raise. */
static int protected_get(lua_State *L)
{
    lua_gettable(L, 1);
    return 1;
}

static PyObject *handle_getattr(PyObject *o, PyObject *name)
{
    const char *key = PyUnicode_AsUTF8(name);
    if (!key) return NULL;
    if (key[0] == '_') return PyObject_GenericGetAttr(o, name);
    handle *h = (handle *)o;
    module_state *ms = state_of(h->module);
    if (check_live(ms, h->generation)) return NULL;
    lua_State *L = ms->sess.L;
    const int base = lua_gettop(L);
    lua_pushcfunction(L, protected_get);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
    /* userdata and tables with a metatable are objects, whose functions are methods */
    int is_object = lua_type(L, -1) == LUA_TUSERDATA;
    if (!is_object && lua_getmetatable(L, -1)) {
        is_object = 1;
        lua_pop(L, 1);
    }
    lua_pushstring(L, key);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        /* the binding layer's "has no field" becomes Python's AttributeError, so hasattr works */
        const char *msg = lua_tostring(L, -1);
        PyErr_Format(PyExc_AttributeError, "%s", msg ? msg : key);
        lua_settop(L, base);
        return NULL;
    }
    PyObject *r;
    if (lua_isnil(L, -1)) {
        r = PyErr_Format(PyExc_AttributeError, "nsim has no '%s' here", key);
    } else if (lua_isfunction(L, -1) && is_object) { /* a method: bound to its object */
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
        int self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        r = new_handle(h->module, L, -1, self_ref);
    } else {
        r = to_python(h->module, L, -1, 0);
    }
    lua_settop(L, base);
    return r;
}

static PyObject *handle_repr(PyObject *o)
{
    handle *h = (handle *)o;
    module_state *ms = state_of(h->module);
    if (check_live(ms, h->generation)) {
        PyErr_Clear();
        return PyUnicode_FromString("<nsim object of an ended session>");
    }
    lua_State *L = ms->sess.L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
    const char *tn = luaL_typename(L, -1);
    const char *mt = NULL;
    if (luaL_getmetafield(L, -1, "__name") != LUA_TNIL) {
        mt = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    PyObject *r = PyUnicode_FromFormat("<nsim %s%s%s>", mt ? mt : tn, h->self_ref != LUA_NOREF ? " method" : "", "");
    lua_pop(L, 1);
    return r;
}

static int protected_len(lua_State *L)
{
    lua_len(L, 1);
    return 1;
}

static Py_ssize_t handle_len(PyObject *o)
{
    handle *h = (handle *)o;
    module_state *ms = state_of(h->module);
    if (check_live(ms, h->generation)) return -1;
    lua_State *L = ms->sess.L;
    const int base = lua_gettop(L);
    lua_pushcfunction(L, protected_len);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isinteger(L, -1)) {
        PyErr_Format(PyExc_TypeError, "nsim: this object has no length");
        lua_settop(L, base);
        return -1;
    }
    Py_ssize_t n = (Py_ssize_t)lua_tointeger(L, -1);
    lua_settop(L, base);
    return n;
}

/* Two handles of one Lua value are equal (a population fetched twice is the same population). */
static PyObject *handle_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(b) != &handle_type) Py_RETURN_NOTIMPLEMENTED;
    handle *x = (handle *)a, *y = (handle *)b;
    module_state *ms = state_of(x->module);
    int eq = x == y;
    if (!eq && x->generation == y->generation && x->self_ref == LUA_NOREF && y->self_ref == LUA_NOREF &&
        session_open(ms) && ms->sess.generation == x->generation) {
        lua_State *L = ms->sess.L;
        lua_rawgeti(L, LUA_REGISTRYINDEX, x->ref);
        lua_rawgeti(L, LUA_REGISTRYINDEX, y->ref);
        eq = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    if (op == Py_NE) eq = !eq;
    return PyBool_FromLong(eq);
}

static Py_hash_t handle_hash(PyObject *o)
{
    handle *h = (handle *)o;
    module_state *ms = state_of(h->module);
    if (h->self_ref != LUA_NOREF || !session_open(ms) || ms->sess.generation != h->generation)
        return _Py_HashPointer(o);
    lua_State *L = ms->sess.L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
    Py_hash_t x = _Py_HashPointer((void *)lua_topointer(L, -1));
    lua_pop(L, 1);
    return x;
}

static PyMappingMethods handle_mapping = {.mp_length = handle_len};

static PyTypeObject handle_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nsim._core.Object",
    .tp_doc = "An nsim object (network, population, recorder, distribution or function): its attributes and "
              "methods are those of the Lua binding (docs/guide.md).",
    .tp_basicsize = sizeof(handle),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = handle_dealloc,
    .tp_call = handle_call,
    .tp_getattro = handle_getattr,
    .tp_repr = handle_repr,
    .tp_as_mapping = &handle_mapping,
    .tp_richcompare = handle_richcompare,
    .tp_hash = handle_hash,
};

/* ---- the session ---- */

static void on_progress(void *user, double done, double total, double wall)
{
    (void)done, (void)total, (void)wall;
    session *sess = user;
    if (PyErr_CheckSignals() < 0) { /* Ctrl-C: the engine stops at the next window */
        PyErr_Clear();
        sess->stop = SIGINT;
    }
}

static void on_log(void *user, const char *line)
{
    (void)user;
    PySys_FormatStderr("nsim: %s\n", line);
}

static int mark_running(ns_script *s) { return ns_runinfo_write(s->ctx, s, "running", 0); }

static void free_settings(session *sess)
{
    for (int i = 0; i < 2 * sess->nsettings; i++) free(sess->setting_text[i]);
    free(sess->setting_text);
    free(sess->settings);
    sess->setting_text = NULL;
    sess->settings = NULL;
    sess->nsettings = 0;
}

static void session_free(session *sess)
{
    if (sess->L) lua_close(sess->L);
    sess->L = NULL;
    ns_ctx_free(sess->ctx);
    sess->ctx = NULL;
    free(sess->s);
    sess->s = NULL;
    free_settings(sess);
}

/* _core.start(script, out, seed, threads, settings): open a session; returns the nsim table. */
static PyObject *core_start(PyObject *module, PyObject *args)
{
    module_state *ms = state_of(module);
    const char *script, *out;
    unsigned long long seed;
    int threads;
    PyObject *settings;
    if (!PyArg_ParseTuple(args, "ssKiO!", &script, &out, &seed, &threads, &PyDict_Type, &settings)) return NULL;
    if (session_open(ms)) return PyErr_Format(ms->error, "a session is open already (output folder %s): nsim.end() it first", ms->sess.out);
    if (threads < 1 || threads > 1024) return PyErr_Format(ms->error, "threads = %d: a whole number from 1 to 1024 is wanted", threads);
    session *sess = &ms->sess;
    snprintf(sess->script, sizeof sess->script, "%s", script);
    snprintf(sess->out, sizeof sess->out, "%s", out);
    const Py_ssize_t nset = PyDict_Size(settings);
    sess->settings = calloc((size_t)nset + 1, sizeof *sess->settings);
    sess->setting_text = calloc(2 * (size_t)nset + 1, sizeof *sess->setting_text);
    if (!sess->settings || !sess->setting_text) {
        free_settings(sess);
        return PyErr_NoMemory();
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(settings, &pos, &k, &v)) {
        PyObject *ks = PyObject_Str(k), *vs = PyBool_Check(v) ? PyUnicode_FromString(v == Py_True ? "true" : "false")
                                                              : PyObject_Str(v);
        const char *kt = ks ? PyUnicode_AsUTF8(ks) : NULL, *vt = vs ? PyUnicode_AsUTF8(vs) : NULL;
        char *kd = kt ? strdup(kt) : NULL, *vd = vt ? strdup(vt) : NULL;
        Py_XDECREF(ks);
        Py_XDECREF(vs);
        sess->setting_text[2 * sess->nsettings] = kd;
        sess->setting_text[2 * sess->nsettings + 1] = vd;
        if (!kd || !vd) {
            free_settings(sess);
            return PyErr_Occurred() ? NULL : PyErr_NoMemory();
        }
        sess->settings[sess->nsettings++] = (ns_setting){kd, vd, 0};
    }
    if (!(sess->ctx = ns_ctx_create()) || !(sess->s = calloc(1, sizeof *sess->s))) {
        session_free(sess);
        return PyErr_NoMemory();
    }
    if (ns_ctx_set_run_outdir(sess->ctx, out)) { /* refused before anything runs */
        PyErr_Format(ms->error, "%s", ns_ctx_errmsg(sess->ctx));
        session_free(sess);
        return NULL;
    }
    ns_ctx_set_seed(sess->ctx, seed);
    ns_ctx_set_threads(sess->ctx, threads);
    ns_ctx_set_stop_flag(sess->ctx, &sess->stop);
    ns_ctx_set_progress(sess->ctx, on_progress, sess);
    ns_ctx_set_log(sess->ctx, on_log, NULL);
    ns_script *s = sess->s;
    s->ctx = sess->ctx;
    s->script = sess->script;
    s->settings = sess->settings;
    s->nsettings = sess->nsettings;
    s->before_first_run = mark_running;
    if (!(sess->L = luaL_newstate())) {
        session_free(sess);
        return PyErr_NoMemory();
    }
    luaL_openlibs(sess->L);
    ns_script_open(sess->L, s);
    sess->generation++;
    sess->t0 = ns_wall_seconds();
    lua_getglobal(sess->L, "nsim");
    PyObject *r = new_handle(module, sess->L, -1, LUA_NOREF);
    lua_pop(sess->L, 1);
    return r;
}

/* _core.finish(error or None, interrupted): close the session. Without an error, or once
 * something was simulated, run.json says how it ended; an error before anything was simulated
 * discards the folder's new outputs (and brings an earlier run back), as `nsim run` does.
 * Returns the output folder, or None when nothing was kept. */
static PyObject *core_finish(PyObject *module, PyObject *args)
{
    module_state *ms = state_of(module);
    PyObject *error;
    int interrupted;
    if (!PyArg_ParseTuple(args, "Op", &error, &interrupted)) return NULL;
    if (!session_open(ms)) Py_RETURN_NONE;
    session *sess = &ms->sess;
    lua_close(sess->L); /* collects the networks, folding what they did into the run's figures */
    sess->L = NULL;
    ns_script *s = sess->s;
    int failed = error != Py_None;
    if (failed) {
        const char *msg = PyUnicode_Check(error) ? PyUnicode_AsUTF8(error) : NULL;
        snprintf(s->errmsg, sizeof s->errmsg, "%s", msg ? msg : "failed");
        if (!msg) PyErr_Clear();
    }
    PyObject *r;
    if (failed && !s->simulated) {
        ns_ctx_discard_outputs(sess->ctx);
        r = Py_None;
        Py_INCREF(r);
    } else {
        const char *status = interrupted ? "interrupted" : failed ? "failed" : "ok";
        if (ns_runinfo_write(sess->ctx, s, status, ns_wall_seconds() - sess->t0)) {
            PyErr_Format(ms->error, "%s", ns_ctx_errmsg(sess->ctx));
            r = NULL;
        } else {
            r = PyUnicode_FromString(sess->out);
        }
    }
    session_free(sess);
    return r;
}

/* _core.summary(): what the session did so far (networks already collected), as run.json's sizes. */
static PyObject *core_session(PyObject *module, PyObject *noargs)
{
    (void)noargs;
    module_state *ms = state_of(module);
    if (!session_open(ms)) Py_RETURN_NONE;
    return Py_BuildValue("{s:s,s:s,s:i}", "out", ms->sess.out, "script", ms->sess.script, "simulated",
                         ms->sess.s->simulated);
}

static PyObject *core_skip_dir(PyObject *module, PyObject *dir)
{
    module_state *ms = state_of(module);
    if (!PyUnicode_Check(dir)) return PyErr_Format(PyExc_TypeError, "a folder path is wanted");
    if (PyList_Append(ms->skip_dirs, dir) < 0) return NULL;
    Py_RETURN_NONE;
}

/* ---- records: a table read by nsim's own reader, its numbers handed over without a copy ---- */

typedef struct {
    PyObject_HEAD
    double *v;
    Py_ssize_t n;
    Py_ssize_t exports;
} block;

static void block_dealloc(PyObject *o)
{
    free(((block *)o)->v);
    PyObject_Free(o);
}

static int block_getbuffer(PyObject *o, Py_buffer *view, int flags)
{
    block *b = (block *)o;
    int rc = PyBuffer_FillInfo(view, o, b->v, b->n * (Py_ssize_t)sizeof(double), 1, flags);
    if (rc == 0) {
        view->format = (flags & PyBUF_FORMAT) ? "d" : NULL;
        view->itemsize = sizeof(double);
        b->exports++;
    }
    return rc;
}

static void block_releasebuffer(PyObject *o, Py_buffer *view)
{
    (void)view;
    ((block *)o)->exports--;
}

static PyBufferProcs block_buffer = {block_getbuffer, block_releasebuffer};

static PyTypeObject block_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nsim._core.Block",
    .tp_doc = "Numbers (float64) a reader made, read-only, shared with the arrays viewing them.",
    .tp_basicsize = sizeof(block),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = block_dealloc,
    .tp_as_buffer = &block_buffer,
};

/* _core.read_table(path) -> (names or None, nrow, ncol, block, warning) */
static PyObject *core_read_table(PyObject *module, PyObject *args)
{
    module_state *ms = state_of(module);
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    ns_csv_table t = {0};
    char err[1200];
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ns_csv_read_table(path, &t, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (rc) return PyErr_Format(ms->error, "%s", err);
    block *b = PyObject_New(block, &block_type);
    if (!b) {
        ns_csv_table_free(&t);
        return NULL;
    }
    b->v = t.v; /* the reader's array, now the block's */
    b->n = (Py_ssize_t)(t.nrow * t.ncol);
    b->exports = 0;
    t.v = NULL;
    PyObject *names = Py_None;
    Py_INCREF(names);
    if (t.names) {
        Py_DECREF(names);
        names = PyList_New(t.ncol);
        for (long j = 0; names && j < t.ncol; j++) PyList_SET_ITEM(names, j, PyUnicode_FromString(t.names[j]));
    }
    PyObject *r = names ? Py_BuildValue("(NllNs)", names, t.nrow, t.ncol, (PyObject *)b, t.warning) : NULL;
    if (!names) Py_DECREF(b);
    ns_csv_table_free(&t);
    return r;
}

typedef struct {
    double *t;
    double *id;
    size_t n, cap;
} spike_list;

static int collect(void *user, double t_ms, long neuron)
{
    spike_list *l = user;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4096;
        double *t = realloc(l->t, cap * sizeof *t);
        if (!t) return -1;
        l->t = t;
        double *id = realloc(l->id, cap * sizeof *id);
        if (!id) return -1;
        l->id = id;
        l->cap = cap;
    }
    l->t[l->n] = t_ms;
    l->id[l->n++] = (double)neuron;
    return 0;
}

static PyObject *take_block(double *v, size_t n)
{
    block *b = PyObject_New(block, &block_type);
    if (!b) {
        free(v);
        return NULL;
    }
    b->v = v;
    b->n = (Py_ssize_t)n;
    b->exports = 0;
    return (PyObject *)b;
}

/* _core.read_spikes(path) -> (times block, ids block, warning): a spike file (plain or gzip). */
static PyObject *core_read_spikes(PyObject *module, PyObject *args)
{
    module_state *ms = state_of(module);
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    spike_list l = {0};
    char warn[400], err[1200];
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = ns_csv_read_spikes(path, collect, &l, warn, sizeof warn, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (rc) {
        free(l.t);
        free(l.id);
        if (!err[0]) return PyErr_NoMemory();
        return PyErr_Format(ms->error, "%s", err);
    }
    PyObject *t = take_block(l.t, l.n), *id = t ? take_block(l.id, l.n) : (free(l.id), NULL);
    if (!t || !id) {
        Py_XDECREF(t);
        return NULL;
    }
    return Py_BuildValue("(NNs)", t, id, warn);
}

static PyMethodDef core_methods[] = {
    {"start", core_start, METH_VARARGS, "start(script, out, seed, threads, settings): open a session; the nsim table"},
    {"finish", core_finish, METH_VARARGS, "finish(error, interrupted): close the session, write run.json"},
    {"session", core_session, METH_NOARGS, "the open session's output folder and script, or None"},
    {"skip_dir", core_skip_dir, METH_O, "frames under this folder are not the caller an error names"},
    {"read_table", core_read_table, METH_VARARGS, "read_table(path) -> (names, nrow, ncol, block, warning)"},
    {"read_spikes", core_read_spikes, METH_VARARGS, "read_spikes(path) -> (times, ids, warning)"},
    {NULL, NULL, 0, NULL}};

static int core_exec(PyObject *module)
{
    module_state *ms = state_of(module);
    memset(&ms->sess, 0, sizeof ms->sess);
    if (PyType_Ready(&handle_type) < 0 || PyType_Ready(&block_type) < 0) return -1;
    if (!(ms->error = PyErr_NewExceptionWithDoc("nsim.Error",
                                                "What nsim refused or what failed, in nsim's one-line message.",
                                                NULL, NULL)))
        return -1;
    if (!(ms->skip_dirs = PyList_New(0))) return -1;
    Py_INCREF(ms->error);
    if (PyModule_AddObject(module, "Error", ms->error) < 0) {
        Py_DECREF(ms->error);
        return -1;
    }
    Py_INCREF(&handle_type);
    if (PyModule_AddObject(module, "Object", (PyObject *)&handle_type) < 0) return -1;
    if (PyModule_AddStringConstant(module, "version", NS_VERSION) < 0) return -1;
    return 0;
}

static void core_free(void *module)
{
    module_state *ms = state_of(module);
    if (!ms) return;
    session_free(&ms->sess);
    Py_CLEAR(ms->error);
    Py_CLEAR(ms->skip_dirs);
}

/* the slot's value is a void *: the exec function passes through an integer (ISO C has no direct cast) */
static PyModuleDef_Slot core_slots[] = {{Py_mod_exec, (void *)(uintptr_t)core_exec}, {0, NULL}};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "nsim._core",
    .m_doc = "nsim's engine behind `import nsim` (use the nsim package, not this module).",
    .m_size = sizeof(module_state),
    .m_methods = core_methods,
    .m_slots = core_slots,
    .m_free = core_free,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModuleDef_Init(&core_module); }
