"""``chainrule.__config__``, as ``torch.__config__``: how this library computes, as text.

``show()`` is PyTorch's build summary; chainrule's arrays are NumPy's, so it reports NumPy's build:
its BLAS and LAPACK library and the SIMD extensions its kernels use, with PyTorch's ``Build
settings`` line (``BLAS_INFO=...``, ``USE_MKL=ON/OFF``) that code greps (PyG reads ``USE_MKL``).
"""
import os

import numpy

__all__ = ["show", "parallel_info"]


def _blas():
    """NumPy's BLAS as its build reports it: {"name": ..., "version": ...}."""
    return numpy.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})


def show():
    """The build summary: NumPy's BLAS/LAPACK and SIMD extensions, and PyTorch's settings line."""
    import chainrule  # noqa: PLC0415 (the package imports this module lazily)

    blas = _blas()
    name, version = blas.get("name", "unknown"), blas.get("version", "unknown")
    simd = numpy.show_config(mode="dicts").get("SIMD Extensions", {})
    found = ", ".join(simd.get("baseline", []) + simd.get("found", [])) or "none reported"
    with_mkl = "ON" if "mkl" in name.lower() else "OFF"
    return (
        f"chainrule {chainrule.__version__} computes with NumPy {numpy.__version__}, built with:\n"
        f"  - BLAS and LAPACK: {name} {version}\n"
        f"  - CPU capability usage: {found}\n"
        f"  - Build settings: BLAS_INFO={name}, LAPACK_INFO={name}, USE_MKL={with_mkl}, USE_CUDA=OFF, USE_MPS=OFF, "
        f"USE_OPENMP=OFF, \n"
    )


def parallel_info():
    """The threads chainrule computes with, as PyTorch's text lays them out: its operations run in
    NumPy, whose BLAS decides its own threads."""
    import chainrule  # noqa: PLC0415

    variables = "".join(
        f"\t{variable} : {os.environ.get(variable, '[not set]')}\n" for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    )
    return (
        f"ATen/Parallel:\n\tat::get_num_threads() : {chainrule.get_num_threads()}\n"
        f"\tat::get_num_interop_threads() : {chainrule.get_num_interop_threads()}\n"
        f"{_blas().get('name', 'BLAS')} {_blas().get('version', '')}\n"
        f"std::thread::hardware_concurrency() : {os.cpu_count()}\n"
        f"Environment variables:\n{variables}"
        f"ATen parallel backend: NumPy (one thread of Python; BLAS threads its own)\n"
    )
