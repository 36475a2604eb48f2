"""Generated reference text for docs/model.md: every state and transition with its fact
ids, every knob with its default, every preset.

`model_reference_markdown()` is what a docs generator calls; the hand-written parts
of docs/model.md (the ambiguity decisions, the facts not modelled) live in the file.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from lifecycle.mdm.design import knobs, presets
from lifecycle.mdm.tables import all_tables

BEGIN = "<!-- BEGIN GENERATED: lifecycle.mdm.reference.model_reference_markdown -->"
END = "<!-- END GENERATED -->"


def _doc(fn: Callable[..., Any] | None) -> str:
    if fn is None:
        return ""
    text = inspect.getdoc(fn) or fn.__name__
    return " ".join(text.split()).rstrip(".")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return f'"{v}"' if isinstance(v, str) else str(v)


def model_reference_markdown() -> str:
    """States, transitions, knobs and presets as Markdown (stable output)."""
    out: list[str] = [BEGIN, "", "## States and transitions (generated)", ""]
    out.append(
        "Each machine's table, as `lifecycle.mdm.tables.all_tables()` returns it. "
        "Source `*` means any state; dest `=` means the machine state does not change. "
        "*Msg* is the message sent or received (dir `send`, `receive`, `exchange`), "
        "with its peer. Rows marked *stimulus* can fire at any time (user, admin, "
        "periodic timer); a device is quiet when only those are enabled."
    )
    out.append("")
    for name, table in all_tables().items():
        out.append(f"### Machine `{name}`")
        out.append("")
        out.append(table.description)
        out.append("")
        out.append("States: " + ", ".join(f"`{s}`" for s in table.states) + ".")
        out.append("")
        out.append("| trigger | source | dest | actor | msg | facts | what and why |")
        out.append("|---|---|---|---|---|---|---|")
        for r in table.rows:
            source = "*" if "*" in r.source else ", ".join(r.source)
            msg = f"{r.message} {r.direction} {r.peer}" if r.message else ""
            if r.stimulus:
                msg = (msg + " (stimulus)").strip()
            why = r.description
            if r.guard:
                why += ". Guard: " + "; and ".join(_doc(g) for g in r.guard)
            if r.choices is not None:
                why += f". For each: {_doc(r.choices)}"
            if r.effect is not None:
                why += f". Effect: {_doc(r.effect)}"
            for also in r.also:
                why += f". Also: {also.machine} becomes {'/'.join(also.possible_states())}"
            out.append(
                f"| `{r.trigger}` | {source} | {r.dest or '='} | {r.actor} | {msg} "
                f"| {', '.join(r.facts)} | {_cell(why)} |"
            )
        out.append("")
    out.append("## Design knobs (generated)")
    out.append("")
    out.append("| knob | default (reference) | allowed | meaning |")
    out.append("|---|---|---|---|")
    for k in knobs():
        allowed = ", ".join(_value(v) for v in k["allowed"])
        out.append(f"| `{k['name']}` | {_value(k['default'])} | {allowed} | {_cell(k['doc'])} |")
    out.append("")
    out.append("## Presets (generated)")
    out.append("")
    out.append("| preset | changes from reference | expected violations | why it is wrong |")
    out.append("|---|---|---|---|")
    for name, d in presets().items():
        diff = ", ".join(f"`{k} = {_value(v)}`" for k, v in d.differences().items()) or "-"
        expected = ", ".join(d.expected_violations) or "(none)"
        out.append(f"| `{name}` | {diff} | {expected} | {_cell(d.description)} |")
    out.append("")
    out.append(END)
    return "\n".join(out)


def splice(document: str, generated: str | None = None) -> str:
    """Replace the generated block of a document (between BEGIN and END) with a fresh
    one; append it when the document has none."""
    block = generated if generated is not None else model_reference_markdown()
    if BEGIN in document and END in document:
        head, rest = document.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return head + block + tail
    return document.rstrip("\n") + "\n\n" + block + "\n"
