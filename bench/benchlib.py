# bench/benchlib.py — helpers shared by bench/cuba, bench/brunel and bench/cuba_stats: find the
# nsim binary and the Brian2 reference scripts, run either under /usr/bin/time -v, parse results.
# Not a benchmark itself; the scripts beside it import it.
import json, os, platform, re, shutil, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.realpath(__file__))


def repo_root():
    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=HERE, check=True,
                             capture_output=True, text=True).stdout.strip()
        if out:
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    return os.path.dirname(HERE)


ROOT = repo_root()
# The Brian2 reference scripts live in the shared folder beside the repository root.
BRIAN2_DIR = os.environ.get("NSIM_BRIAN2_BENCH", os.path.join(ROOT, "..", "shared", "bench"))
# Brian2 is Debian's python3-brian: it must run under Debian's python, not a pyenv one.
BRIAN2_PYTHON = os.environ.get("NSIM_BRIAN2_PYTHON", "/usr/bin/python3")
NSIM = os.environ.get("NSIM", os.path.join(ROOT, "build", "nsim"))
TIME = "/usr/bin/time"


def die(msg):
    sys.stderr.write(f"{os.path.basename(sys.argv[0])}: {msg}\n")
    sys.exit(2)


def check_tools(need_brian2=True):
    if not os.access(NSIM, os.X_OK):
        die(f"no nsim binary at {NSIM}: build it first (meson setup build && ninja -C build)")
    if not os.access(TIME, os.X_OK):
        die(f"{TIME} missing: apt-get install time")
    if need_brian2:
        if not os.access(BRIAN2_PYTHON, os.X_OK):
            die(f"{BRIAN2_PYTHON} missing (Brian2 needs Debian's python3 with python3-brian)")
        if not os.path.isdir(BRIAN2_DIR):
            die(f"Brian2 reference scripts not found in {BRIAN2_DIR} (set NSIM_BRIAN2_BENCH)")


def _timed(cmd, tmpdir, tag, env=None, cwd=None):
    """Run cmd under /usr/bin/time -v; return (stdout, peak RSS in kB). Exit on failure."""
    tfile = os.path.join(tmpdir, f"{tag}.time")
    full = [TIME, "-v", "-o", tfile] + cmd
    p = subprocess.run(full, capture_output=True, text=True, env=env, cwd=cwd)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
        die(f"command failed (exit {p.returncode}): {' '.join(cmd)}")
    rss = None
    with open(tfile) as f:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
        if m:
            rss = int(m.group(1))
    return p.stdout, rss


def run_nsim(script, tmpdir, tag, sets=(), threads=1, seed=None):
    """Run an nsim script; return run.json as a dict plus 'rss_kb', 'rate_hz' and 'out'."""
    out = os.path.join(tmpdir, tag)
    cmd = [NSIM, "run", os.path.join(ROOT, script), "--out", out, "--threads", str(threads),
           "--quiet"]
    for s in sets:
        cmd += ["--set", s]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    _, rss = _timed(cmd, tmpdir, tag, cwd=ROOT)
    with open(os.path.join(out, "run.json")) as f:
        r = json.load(f)
    r["rss_kb"] = rss
    r["out"] = out
    r["rate_hz"] = r["spikes"] / r["neurons"] / (r["simulated_ms"] / 1000.0)
    return r


def run_brian2(script, args, tmpdir, tag):
    """Run a Brian2 reference script; return its key=value result line as a dict."""
    env = dict(os.environ)
    wd = os.path.join(tmpdir, tag + "_b2")
    os.makedirs(wd, exist_ok=True)
    env["TMPDIR"] = wd          # the reference scripts mkdtemp() their build folder: keep it ours
    cmd = [BRIAN2_PYTHON, os.path.join(BRIAN2_DIR, script)] + [str(a) for a in args]
    stdout, rss = _timed(cmd, tmpdir, tag, env=env)
    line = [l for l in stdout.splitlines() if l.startswith("brian2 ")]
    if not line:
        die(f"no result line from {script}:\n{stdout}")
    r = {}
    for kv in line[-1].split()[1:]:
        k, v = kv.split("=", 1)
        try:
            r[k] = int(v)
        except ValueError:
            try:
                r[k] = float(v)
            except ValueError:
                r[k] = v
    r["rss_kb"] = rss
    shutil.rmtree(wd, ignore_errors=True)
    return r


def median(xs):
    return statistics.median(xs)


def machine_header():
    """Date, machine, nsim and Brian2 versions: printed on top of every table."""
    cpu = platform.processor() or "?"
    try:
        for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if l.startswith("Model name:"):
                cpu = l.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        ver = subprocess.run([NSIM, "version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        ver = "?"
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        commit = head + ("+dirty" if dirty else "")
    except OSError:
        commit = "?"
    return (f"date {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} CPUs ({cpu}); "
            f"{ver} at {commit}; Brian2 via {BRIAN2_PYTHON}")


def table(rows, header):
    """Print rows (lists of str) under header, first column left-aligned, the rest right."""
    allrows = [header] + rows
    w = [max(len(r[i]) for r in allrows) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r))
    print(fmt(header))
    print("  ".join("-" * x for x in w))
    for r in rows:
        print(fmt(r))
