"""Which known defect of the doc's XML samples a malformed line looks like.

Why: the samples in the unenrollment and CSP docs (spec/facts.md section 2, listed in
docs/syncml.md) are copied into servers and tests, and each of their defects makes
expat say "not well-formed (invalid token)" or "mismatched tag", which names a column
but not the cause. A parse error that says "curly quotes" sends the reader straight to
the fix.
"""

from __future__ import annotations

import re

#: Where the defects are described.
WHERE = "docs/syncml.md"

_CURLY = re.compile("[\u201c\u201d\u2018\u2019]")
_HTML_QUOTE = re.compile(r"=\s*&(?:#39|#34|quot|apos);")
_BAD_COMMENT_CLOSE = re.compile(r"--!>")
_PLACEHOLDER = re.compile(r"<LocURI>[^<]*<\*?[A-Za-z]\w*\*?>")


def diagnose(line: str) -> str | None:
    """The doc defect `line` (the line expat stopped on) shows, or None."""
    if _CURLY.search(line):
        return (
            "curly quotes \u201c \u201d around an attribute value, a defect of the doc's "
            f"samples ({WHERE})"
        )
    if _HTML_QUOTE.search(line):
        return (
            f"&#39; written in place of a quote, an HTML entity left in the doc's sample ({WHERE})"
        )
    if _BAD_COMMENT_CLOSE.search(line):
        return f"a comment closed with --!> instead of -->, a defect of the OMA DM sample ({WHERE})"
    if _PLACEHOLDER.search(line):
        return (
            "a placeholder such as <ProviderID> written inside a LocURI, a defect of the "
            f"doc's samples: put the ProviderID itself there ({WHERE})"
        )
    return None
