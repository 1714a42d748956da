"""numba options in one place: every kernel in the package is compiled with `kernel`."""

import functools

import numba

#: cache=True keeps start-up fast after the first run; nogil lets sources keep running
#: on their own threads while a kernel works.
kernel = functools.partial(numba.njit, cache=True, nogil=True)
