"""The compiled parts: the state fingerprint (lifecycle/engine/_fingerprint.c) and the
fingerprint table the parallel search's workers share (lifecycle/engine/_claims.c).

Both optional: without a C compiler the build skips them; lifecycle.engine.fingerprint
then uses its pure-Python implementation, which gives the same fingerprints, and the
parallel search ships states to their owners instead of sharing the table.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "lifecycle.engine._fingerprint",
            ["lifecycle/engine/_fingerprint.c"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
        Extension(
            "lifecycle.engine._claims",
            ["lifecycle/engine/_claims.c"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
    ]
)
