/* solvers/cvode.c — the CVODE wrapper (see cvode.h).
 * Thin callbacks translate between CVODE's N_Vectors and the plain arrays of ns_ode_system and
 * note what went wrong (a NaN, its time and variable) so that a failure becomes one plain line. */
#include "solvers/cvode.h"
#include "base/errmsg.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cvode/cvode.h>
#include <cvode/cvode_ls.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_band.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_band.h>
#include <sunmatrix/sunmatrix_dense.h>

/* A NaN in dy/dt, or a positive rhs status, is recoverable (CVODE retries the step smaller: an
 * exp() that overflowed on an over-long step comes back finite) until it recurs RECOV_RETRIES
 * times on one step or RECOV_TOTAL times in one advance (a wall in time that CVODE would
 * otherwise creep up to for thousands of steps). Then it is unrecoverable. */
#define RECOV_RETRIES 5
#define RECOV_TOTAL 20

/* Internal steps one advance may take unless set (CVODE's own default, 500, is short for a long
 * t_out at tight tolerances). */
#define MAX_STEPS 10000

struct ns_cvode {
    ns_ode_system sys;
    int method;
    SUNContext ctx;
    void *mem;
    N_Vector y;            /* the state last handed out (CVODE keeps its own history) */
    N_Vector ewt, ele;     /* scratch for naming the worst variable after a failure */
    N_Vector atolv;        /* per-variable absolute tolerances, or NULL */
    SUNMatrix A;
    SUNLinearSolver LS;
    SUNNonlinearSolver NLS; /* fixed-point iteration (sys.fixed_point), else CVODE's own Newton */
    double *jblk;          /* block-diagonal Jacobian as the user fills it (block mode) */
    int *rootsfound;
    long max_steps;
    int stop_at_t_out;
    int ready;             /* init called */
    int fresh;             /* reinit called, no CVode() since: CVODE's counters are stale */
    double t;              /* time of the state in y, ms */
    ns_cvode_stats acc;    /* counters summed over earlier reinits */
    /* what the callbacks saw, for the failure message */
    int nan_seen, nan_index;
    double nan_t, nan_value;
    int recov_count, recov_total;
    long recov_step;
    int rhs_status;
    double rhs_t;
    int jac_row, jac_col; /* a non-finite Jacobian entry, or -1 */
    double jac_t, jac_value;
    int root_status;
    double root_t;
    char sunmsg[256];      /* the last message of CVODE's error handler */
};

/* CVODE would print to stderr; keep its last message instead. */
static void silent_handler(int code, const char *module, const char *function, char *msg, void *data)
{
    (void)code, (void)module, (void)function;
    ns_cvode *s = data;
    snprintf(s->sunmsg, sizeof s->sunmsg, "%s", msg ? msg : "");
}

/* 1 (recoverable) or -1 (unrecoverable) for a failed rhs call, by the counts above. */
static int recoverable(ns_cvode *s)
{
    long nst = 0;
    CVodeGetNumSteps(s->mem, &nst);
    if (s->recov_total == 0 || nst != s->recov_step) s->recov_count = 0;
    s->recov_step = nst;
    s->recov_total++;
    return ++s->recov_count < RECOV_RETRIES && s->recov_total < RECOV_TOTAL ? 1 : -1;
}

static int rhs_wrap(sunrealtype t, N_Vector y, N_Vector ydot, void *data)
{
    ns_cvode *s = data;
    double *yd = N_VGetArrayPointer(ydot);
    int r = s->sys.rhs(t, N_VGetArrayPointer(y), yd, s->sys.user);
    if (r != 0) {
        s->rhs_status = r;
        s->rhs_t = t;
        return r > 0 ? recoverable(s) : -1;
    }
    int bad = ns_ode_first_nonfinite(yd, s->sys.n);
    if (bad < 0) return 0;
    s->nan_seen = 1;
    s->nan_t = t;
    s->nan_index = bad;
    s->nan_value = yd[bad];
    return recoverable(s);
}

static int roots_wrap(sunrealtype t, N_Vector y, sunrealtype *g, void *data)
{
    ns_cvode *s = data;
    int r = s->sys.roots(t, N_VGetArrayPointer(y), g, s->sys.user);
    if (r == 0 && ns_ode_first_nonfinite(g, s->sys.nroots) >= 0) r = -1;
    if (r != 0) {
        s->root_status = r;
        s->root_t = t;
        return -1;
    }
    return 0;
}

static int jac_failed(ns_cvode *s, double t, int status)
{
    s->rhs_status = status;
    s->rhs_t = t;
    return status > 0 ? 1 : -1;
}

static int jac_nonfinite(ns_cvode *s, double t, int row, int col, double value)
{
    s->jac_row = row;
    s->jac_col = col;
    s->jac_t = t;
    s->jac_value = value;
    return -1;
}

static int jac_dense(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *data, N_Vector t1,
                     N_Vector t2, N_Vector t3)
{
    (void)fy, (void)t1, (void)t2, (void)t3;
    ns_cvode *s = data;
    SUNMatZero(J);
    const int n = s->sys.n;
    double *a = SUNDenseMatrix_Data(J);
    int r = s->sys.jac(t, N_VGetArrayPointer(y), a, s->sys.user);
    if (r != 0) return jac_failed(s, t, r);
    int bad = ns_ode_first_nonfinite(a, n * n);
    return bad < 0 ? 0 : jac_nonfinite(s, t, bad % n, bad / n, a[bad]);
}

/* The user fills n/b dense b*b blocks; they are the band matrix's only nonzeros, since unit u's
 * block sits on the diagonal with |row - col| <= b - 1, the bandwidth. */
static int jac_block(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *data, N_Vector t1,
                     N_Vector t2, N_Vector t3)
{
    (void)fy, (void)t1, (void)t2, (void)t3;
    ns_cvode *s = data;
    const int n = s->sys.n, b = s->sys.block;
    memset(s->jblk, 0, (size_t)n * (size_t)b * sizeof *s->jblk);
    int r = s->sys.jac(t, N_VGetArrayPointer(y), s->jblk, s->sys.user);
    if (r != 0) return jac_failed(s, t, r);
    int bad = ns_ode_first_nonfinite(s->jblk, n * b);
    if (bad >= 0) {
        int u = bad / (b * b), c = bad % (b * b) / b, rr = bad % b;
        return jac_nonfinite(s, t, u * b + rr, u * b + c, s->jblk[bad]);
    }
    SUNMatZero(J);
    for (int u = 0; u < n / b; u++) {
        const double *blk = s->jblk + (size_t)u * b * b;
        for (int c = 0; c < b; c++) {
            sunindextype col = (sunindextype)u * b + c;
            double *colp = SUNBandMatrix_Column(J, col); /* points at the diagonal entry */
            for (int rr = 0; rr < b; rr++) colp[(u * b + rr) - col] = blk[c * b + rr];
        }
    }
    return 0;
}

ns_cvode *ns_cvode_create(const ns_ode_system *sys, int method, double rtol, double atol,
                          const double *atol_vec, char *err, size_t errlen)
{
    const char *problem = ns_ode_system_problem(sys);
    if (problem) {
        ns_errmsg(err, errlen, "CVODE: %s", problem);
        return NULL;
    }
    if (method != NS_CVODE_BDF && method != NS_CVODE_ADAMS) {
        ns_errmsg(err, errlen, "CVODE: unknown method %d (NS_CVODE_BDF or NS_CVODE_ADAMS)", method);
        return NULL;
    }
    if (ns_ode_check_tolerances("CVODE", sys->n, rtol, atol, atol_vec, err, errlen)) return NULL;

    ns_cvode *s = calloc(1, sizeof *s);
    if (!s) goto nomem;
    s->sys = *sys;
    s->method = method;
    s->max_steps = MAX_STEPS;
    s->stop_at_t_out = 1;
    const int n = sys->n, b = sys->block;
    if (SUNContext_Create(NULL, &s->ctx) != 0) goto nomem;
    s->y = N_VNew_Serial(n, s->ctx);
    if (!s->y) goto nomem;
    s->ewt = N_VClone(s->y);
    s->ele = N_VClone(s->y);
    if (!s->ewt || !s->ele) goto nomem;
    N_VConst(0.0, s->y);
    if (sys->nroots > 0 && !(s->rootsfound = calloc((size_t)sys->nroots, sizeof *s->rootsfound)))
        goto nomem;
    s->mem = CVodeCreate(method == NS_CVODE_BDF ? CV_BDF : CV_ADAMS, s->ctx);
    if (!s->mem) goto nomem;
    CVodeSetErrHandlerFn(s->mem, silent_handler, s);
    /* CVodeInit must come before the tolerances, solver and roots; ns_cvode_init sets the real
     * starting point with CVodeReInit. */
    if (CVodeInit(s->mem, rhs_wrap, 0.0, s->y) != CV_SUCCESS) goto cvfail;
    if (CVodeSetUserData(s->mem, s) != CV_SUCCESS) goto cvfail;
    if (CVodeSetMaxNumSteps(s->mem, s->max_steps) != CV_SUCCESS) goto cvfail;
    if (atol_vec) {
        s->atolv = N_VClone(s->y);
        if (!s->atolv) goto nomem;
        memcpy(N_VGetArrayPointer(s->atolv), atol_vec, (size_t)n * sizeof *atol_vec);
        if (CVodeSVtolerances(s->mem, rtol, s->atolv) != CV_SUCCESS) goto cvfail;
    } else if (CVodeSStolerances(s->mem, rtol, atol) != CV_SUCCESS) {
        goto cvfail;
    }
    if (sys->fixed_point) {
        s->NLS = SUNNonlinSol_FixedPoint(s->y, 0, s->ctx);
        if (!s->NLS) goto nomem;
        if (CVodeSetNonlinearSolver(s->mem, s->NLS) != CV_SUCCESS) goto cvfail;
    } else if (b > 0) {
        /* Units stored contiguously make the Jacobian block-diagonal, hence banded with upper and
         * lower bandwidth b - 1: LU costs O(n b^2) instead of O(n^3), and a difference-quotient
         * Jacobian needs 2b - 1 rhs calls instead of n. */
        s->A = SUNBandMatrix(n, b - 1, b - 1, s->ctx);
        if (!s->A) goto nomem;
        s->LS = SUNLinSol_Band(s->y, s->A, s->ctx);
        if (sys->jac && !(s->jblk = malloc((size_t)n * (size_t)b * sizeof *s->jblk))) goto nomem;
    } else {
        s->A = SUNDenseMatrix(n, n, s->ctx);
        if (!s->A) goto nomem;
        s->LS = SUNLinSol_Dense(s->y, s->A, s->ctx);
    }
    if (!s->LS && !s->NLS) goto nomem;
    if (s->LS && CVodeSetLinearSolver(s->mem, s->LS, s->A) != CVLS_SUCCESS) goto cvfail;
    if (s->LS && sys->jac && CVodeSetJacFn(s->mem, b > 0 ? jac_block : jac_dense) != CVLS_SUCCESS) goto cvfail;
    if (sys->nroots > 0) {
        if (CVodeRootInit(s->mem, sys->nroots, roots_wrap) != CV_SUCCESS) goto cvfail;
        CVodeSetNoInactiveRootWarn(s->mem);
    }
    return s;

nomem:
    ns_errmsg(err, errlen, "CVODE: out of memory for a system of %d equations", sys->n);
    ns_cvode_free(s);
    return NULL;
cvfail:
    ns_errmsg(err, errlen, "CVODE: set-up failed: %s", s->sunmsg[0] ? s->sunmsg : "no detail");
    ns_cvode_free(s);
    return NULL;
}

void ns_cvode_free(ns_cvode *s)
{
    if (!s) return;
    if (s->mem) CVodeFree(&s->mem);
    if (s->LS) SUNLinSolFree(s->LS);
    if (s->NLS) SUNNonlinSolFree(s->NLS);
    if (s->A) SUNMatDestroy(s->A);
    if (s->atolv) N_VDestroy(s->atolv);
    if (s->ele) N_VDestroy(s->ele);
    if (s->ewt) N_VDestroy(s->ewt);
    if (s->y) N_VDestroy(s->y);
    if (s->ctx) SUNContext_Free(&s->ctx);
    free(s->jblk);
    free(s->rootsfound);
    free(s);
}

/* CVODE's own counters since its last (re)init; zeros if no CVode() call followed a reinit. */
static void current_counters(const ns_cvode *s, ns_cvode_stats *c)
{
    memset(c, 0, sizeof *c);
    if (s->fresh) return;
    CVodeGetNumSteps(s->mem, &c->steps);
    CVodeGetNumRhsEvals(s->mem, &c->rhs_evals);
    if (s->LS) CVodeGetNumLinRhsEvals(s->mem, &c->rhs_evals_jac);
    CVodeGetNumErrTestFails(s->mem, &c->err_test_fails);
    CVodeGetNumNonlinSolvConvFails(s->mem, &c->conv_fails);
    if (s->LS) CVodeGetNumJacEvals(s->mem, &c->jac_evals);
    if (s->sys.nroots > 0) CVodeGetNumGEvals(s->mem, &c->root_evals);
    double h = 0;
    CVodeGetLastStep(s->mem, &h);
    c->last_step = h;
}

/* Add CVODE's counters since the last (re)init to *acc (not reinits); the last step becomes the
 * current one unless no CVode() call followed that (re)init. */
static void add_current_counters(const ns_cvode *s, ns_cvode_stats *acc)
{
    ns_cvode_stats c;
    current_counters(s, &c);
    acc->steps += c.steps;
    acc->rhs_evals += c.rhs_evals;
    acc->rhs_evals_jac += c.rhs_evals_jac;
    acc->err_test_fails += c.err_test_fails;
    acc->conv_fails += c.conv_fails;
    acc->jac_evals += c.jac_evals;
    acc->root_evals += c.root_evals;
    if (!s->fresh) acc->last_step = c.last_step;
}

static int restart(ns_cvode *s, double t, const double *y, int keep_stats, char *err, size_t errlen)
{
    int rc = ns_ode_check_start("CVODE", s && y, s ? s->sys.n : 0, t, y, err, errlen);
    if (rc) return rc;
    if (keep_stats) {
        add_current_counters(s, &s->acc);
        s->acc.reinits++;
    } else {
        memset(&s->acc, 0, sizeof s->acc);
    }
    memcpy(N_VGetArrayPointer(s->y), y, (size_t)s->sys.n * sizeof *y);
    if (CVodeReInit(s->mem, t, s->y) != CV_SUCCESS) {
        ns_errmsg(err, errlen, "CVODE: reinit at t = %.9g ms failed: %s", t, s->sunmsg);
        return NS_ODE_EFAIL;
    }
    s->t = t;
    s->ready = 1;
    s->fresh = 1;
    return NS_ODE_OK;
}

int ns_cvode_init(ns_cvode *s, double t0, const double *y0, char *err, size_t errlen)
{
    return restart(s, t0, y0, 0, err, errlen);
}

int ns_cvode_reinit(ns_cvode *s, double t, const double *y, char *err, size_t errlen)
{
    return restart(s, t, y, 1, err, errlen);
}

/* The variable with the largest weighted local error estimate of the last step attempted. */
static int worst_variable(ns_cvode *s)
{
    if (CVodeGetErrWeights(s->mem, s->ewt) != CV_SUCCESS ||
        CVodeGetEstLocalErrors(s->mem, s->ele) != CV_SUCCESS)
        return 0;
    const double *w = N_VGetArrayPointer(s->ewt), *e = N_VGetArrayPointer(s->ele);
    int worst = 0;
    double big = -1;
    for (int i = 0; i < s->sys.n; i++) {
        double v = fabs(e[i] * w[i]);
        if (v > big || (isnan(v) && !isnan(big))) big = v, worst = i;
    }
    return worst;
}

static const char *flag_text(int flag)
{
    switch (flag) {
    case CV_TOO_MUCH_ACC: return "the tolerances are too tight for double precision";
    case CV_ERR_FAILURE: return "the error test failed repeatedly";
    case CV_CONV_FAILURE: return "the Newton iteration failed to converge repeatedly";
    case CV_LSETUP_FAIL: return "the linear solver set-up failed (singular or failed Jacobian)";
    case CV_LSOLVE_FAIL: return "the linear solve failed";
    case CV_RHSFUNC_FAIL: return "the right-hand side failed unrecoverably";
    case CV_FIRST_RHSFUNC_ERR: return "the right-hand side failed at the first call";
    case CV_REPTD_RHSFUNC_ERR: return "the right-hand side failed repeatedly";
    case CV_UNREC_RHSFUNC_ERR: return "the right-hand side failed where no recovery is possible";
    case CV_RTFUNC_FAIL: return "the root function failed";
    case CV_NLS_FAIL: return "the nonlinear solver failed";
    case CV_MEM_FAIL: return "out of memory";
    case CV_TOO_CLOSE: return "t_out is too close to the start time";
    default: return NULL;
    }
}

static void failure_message(ns_cvode *s, int flag, double tret, char *err, size_t errlen)
{
    const int rhs_flag = flag == CV_RHSFUNC_FAIL || flag == CV_FIRST_RHSFUNC_ERR ||
                         flag == CV_REPTD_RHSFUNC_ERR || flag == CV_UNREC_RHSFUNC_ERR ||
                         flag == CV_LSETUP_FAIL || flag == CV_CONV_FAILURE;
    if (s->nan_seen && rhs_flag) {
        ns_errmsg(err, errlen, "CVODE failed at t = %.9g ms: the right-hand side gave %g in variable %d",
               s->nan_t, s->nan_value, s->nan_index);
        return;
    }
    if (s->jac_row >= 0) {
        ns_errmsg(err, errlen, "CVODE failed at t = %.9g ms: the Jacobian gave %g at row %d, column %d",
               s->jac_t, s->jac_value, s->jac_row, s->jac_col);
        return;
    }
    if (s->root_status != 0) {
        ns_errmsg(err, errlen, "CVODE failed at t = %.9g ms: the root function failed or gave NaN "
               "(status %d)", s->root_t, s->root_status);
        return;
    }
    if (s->rhs_status != 0 && rhs_flag) {
        ns_errmsg(err, errlen, "CVODE failed at t = %.9g ms: the right-hand side or Jacobian returned "
               "status %d%s", s->rhs_t, s->rhs_status, s->rhs_status > 0 ? " repeatedly" : "");
        return;
    }
    double tcur = tret;
    CVodeGetCurrentTime(s->mem, &tcur);
    const char *text = flag_text(flag);
    char what[320];
    if (flag == CV_TOO_MUCH_WORK)
        snprintf(what, sizeof what, "took %ld internal steps without reaching t_out (see "
                 "ns_cvode_set_max_steps)", s->max_steps);
    else if (text)
        snprintf(what, sizeof what, "%s", text);
    else
        snprintf(what, sizeof what, "flag %d: %s", flag, s->sunmsg[0] ? s->sunmsg : "no detail");
    if (s->nan_seen)
        ns_errmsg(err, errlen, "CVODE failed at t = %.9g ms: %s; worst variable %d; the right-hand side "
               "gave %g in variable %d at t = %.9g ms", tcur, what, worst_variable(s), s->nan_value,
               s->nan_index, s->nan_t);
    else
        ns_errmsg(err, errlen, "CVODE failed at t = %.9g ms: %s; worst variable %d", tcur, what,
               worst_variable(s));
}

int ns_cvode_advance(ns_cvode *s, double t_out, double *y, double *t_reached, int *root_hit,
                     char *err, size_t errlen)
{
    const char *problem = ns_ode_advance_problem(s && y, s && s->ready, s ? s->t : 0, t_out);
    if (problem) {
        ns_errmsg(err, errlen, "CVODE: %s (t_out = %.9g ms, now %.9g ms)", problem, t_out, s ? s->t : NAN);
        return NS_ODE_EINVAL;
    }
    const int n = s->sys.n;
    if (root_hit)
        for (int i = 0; i < s->sys.nroots; i++) root_hit[i] = 0;
    if (t_out == s->t) {
        memcpy(y, N_VGetArrayPointer(s->y), (size_t)n * sizeof *y);
        if (t_reached) *t_reached = s->t;
        return NS_ODE_OK;
    }
    double tn = s->t;
    if (!s->fresh) CVodeGetCurrentTime(s->mem, &tn);
    /* Re-set every call: the stop time may have been cleared when reached, and an earlier
     * advance without it may already have stepped past t_out. */
    CVodeSetStopTime(s->mem, s->stop_at_t_out && tn <= t_out ? t_out : DBL_MAX);
    s->nan_seen = 0;
    s->recov_count = 0;
    s->recov_total = 0;
    s->rhs_status = 0;
    s->jac_row = s->jac_col = -1;
    s->root_status = 0;
    s->sunmsg[0] = '\0';

    double tret = s->t;
    int flag = CVode(s->mem, t_out, s->y, &tret, CV_NORMAL);
    s->fresh = 0;
    s->t = tret; /* on failure, CVODE's last good point */
    memcpy(y, N_VGetArrayPointer(s->y), (size_t)n * sizeof *y);
    if (t_reached) *t_reached = s->t;
    if (flag == CV_ROOT_RETURN) {
        CVodeGetRootInfo(s->mem, s->rootsfound);
        if (root_hit)
            for (int i = 0; i < s->sys.nroots; i++) root_hit[i] = s->rootsfound[i];
        return NS_ODE_ROOT;
    }
    if (flag >= 0) return NS_ODE_OK;
    failure_message(s, flag, tret, err, errlen);
    return flag == CV_MEM_FAIL ? NS_ODE_ENOMEM : NS_ODE_EFAIL;
}

int ns_cvode_set_max_steps(ns_cvode *s, long max_steps, char *err, size_t errlen)
{
    if (!s || max_steps < 1) {
        ns_errmsg(err, errlen, "CVODE: the step limit must be at least 1 (got %ld)", max_steps);
        return NS_ODE_EINVAL;
    }
    CVodeSetMaxNumSteps(s->mem, max_steps);
    s->max_steps = max_steps;
    return NS_ODE_OK;
}

int ns_cvode_set_init_step(ns_cvode *s, double h0, char *err, size_t errlen)
{
    if (!s || !(h0 >= 0) || !isfinite(h0)) {
        ns_errmsg(err, errlen, "CVODE: the initial step must be finite and >= 0 ms (got %g)", h0);
        return NS_ODE_EINVAL;
    }
    CVodeSetInitStep(s->mem, h0);
    return NS_ODE_OK;
}

int ns_cvode_set_max_step(ns_cvode *s, double hmax, char *err, size_t errlen)
{
    if (!s || !(hmax >= 0) || !isfinite(hmax)) {
        ns_errmsg(err, errlen, "CVODE: the largest step must be finite and >= 0 ms (got %g)", hmax);
        return NS_ODE_EINVAL;
    }
    CVodeSetMaxStep(s->mem, hmax);
    return NS_ODE_OK;
}

void ns_cvode_set_stop_at_t_out(ns_cvode *s, int on)
{
    if (s) s->stop_at_t_out = on != 0;
}

int ns_cvode_get_stats(const ns_cvode *s, ns_cvode_stats *st)
{
    if (!s || !st) return NS_ODE_EINVAL;
    *st = s->acc;
    add_current_counters(s, st);
    return NS_ODE_OK;
}
