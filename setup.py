"""The one compiled part: the state fingerprint (lifecycle/engine/_fingerprint.c).

Optional: without a C compiler the build skips it, and lifecycle.engine.fingerprint
uses its pure-Python implementation, which gives the same fingerprints.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "lifecycle.engine._fingerprint",
            ["lifecycle/engine/_fingerprint.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
