"""Shared test set-up. Keep it small; append fixtures rather than rewrite.

Hypothesis runs under the `ci` profile (derandomized, fast) unless
LIFECYCLE_HYPOTHESIS_PROFILE=deep selects the nightly one (lifecycle/testing/profiles.py).
"""

from lifecycle.testing.profiles import load_profile

load_profile()
