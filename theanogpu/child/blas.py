# -*- coding: utf-8 -*-
"""Find an optimised BLAS library for Theano's blas.ldflags in THIS environment; print one JSON object.

Runs INSIDE a stack with its own interpreter (Python 2.7/3.6+ syntax, standard library plus NumPy
if present). Without a system BLAS Theano links none (blas.ldflags is empty) and its CPU code falls
back to slow NumPy paths; NumPy's manylinux wheels ship an OpenBLAS that Theano can link instead.

    python blas.py   ->   {"ldflags": "-lopenblas", "source": "system OpenBLAS"}   (or ldflags null)
"""
from __future__ import print_function

import ctypes.util
import json
import os
import sys

# Most specific first: what Theano's own numpy.distutils detection would have found on a system
# that has it.
SYSTEM_LIBRARIES = (("mkl_rt", "system MKL"), ("openblas", "system OpenBLAS"), ("blis", "system BLIS"))


def bundled_openblas():
    """(directory, file name) of the OpenBLAS library that NumPy's wheel ships, or None."""
    try:
        import numpy
    except ImportError:
        return None
    base = os.path.dirname(numpy.__file__)
    # numpy < 1.20 keeps it in numpy/.libs, later wheels in numpy.libs next to the package.
    for directory in (os.path.join(base, ".libs"), base + ".libs"):
        if os.path.isdir(directory):
            for name in sorted(os.listdir(directory)):
                if name.startswith("libopenblas") and ".so" in name:
                    return directory, name
    return None


def find_blas():
    """{"ldflags": str or None, "source": str}: the best BLAS to link, system first, then NumPy's."""
    for library, source in SYSTEM_LIBRARIES:
        if ctypes.util.find_library(library):
            return {"ldflags": "-l" + library, "source": source}
    bundled = bundled_openblas()
    if bundled:
        return {"ldflags": "-L%s -l:%s" % bundled, "source": "the OpenBLAS that NumPy's wheel ships"}
    return {"ldflags": None, "source": "no BLAS library found (no system OpenBLAS/MKL, no NumPy wheel's)"}


def main():
    print(json.dumps(find_blas()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
