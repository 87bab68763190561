# python/pyNN/__init__.py — the shim that lets `import pyNN.nsim` find nsim's PyNN backend from
# the build tree: it stands in for the installed pyNN package, puts the installed package's folder
# first on its __path__ (so pyNN.common, pyNN.brian2 ... load from there), keeps its own folder
# after it (so pyNN.nsim loads from here), and runs the installed pyNN/__init__.py in its place.
import os as _os
import sys as _sys

_here = _os.path.dirname(_os.path.abspath(__file__))


def _installed_pynn():
    """The folder of the installed pyNN package: the first pyNN/__init__.py on sys.path that is
    not this shim."""
    for entry in _sys.path:
        folder = _os.path.abspath(_os.path.join(entry or _os.getcwd(), "pyNN"))
        init = _os.path.join(folder, "__init__.py")
        if folder == _here or not _os.path.isfile(init):
            continue
        with open(init, "rb") as f:
            if b"_installed_pynn" in f.read():  # another copy of this shim (source or build tree)
                continue
        return folder
    raise ImportError("pyNN.nsim needs PyNN 0.10 installed (python3-pynn): no other pyNN package on sys.path")


_real = _installed_pynn()
__path__ = [_real, _here]
__file__ = _os.path.join(_real, "__init__.py")
with open(__file__, "rb") as _f:
    _code = compile(_f.read(), __file__, "exec")
exec(_code, globals())
__path__ = [_real, _here]  # the installed __init__ does not touch it; kept in case a later one does
del _f, _code, _here, _real
