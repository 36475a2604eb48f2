"""The `lifecycle` command: check designs, list presets, run the mutation matrix, read
SyncML DM captures (`lifecycle syncml check`).

Bad input (an unknown design, a broken TOML file, an out-of-range option) gets one
line on stderr naming what is wrong and where, and exit code 2; never a traceback.

Exit codes: 0 every property holds; 1 a property is violated; 2 bad input or an
error; 3 the search was incomplete (a bound, the time limit or Ctrl-C stopped it), so
some property is unknown and none is violated.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

EXIT_OK, EXIT_VIOLATED, EXIT_ERROR, EXIT_INCOMPLETE = 0, 1, 2, 3
#: An internal error (a bug of the tool, not of the input); and a finished verdict whose
#: report could not be written. Both are documented with the others in `cli`.
EXIT_INTERNAL, EXIT_WRITE = 4, 5


class UserError(Exception):
    """A one-line problem with the user's input; printed without a traceback."""


def fail(message: str) -> NoReturn:
    raise UserError(message)


# --------------------------------------------------------------------------- progress
class ProgressDisplay:
    """Shows states, states/s, depth and queue once a run has taken over a second.

    On a terminal it is a live status line (rich's `Live`); elsewhere (CI logs) it
    prints a plain line every five seconds, so long runs never look hung and short
    runs stay quiet.
    """

    def __init__(self, enabled: bool, stream: Any = None) -> None:
        from rich.console import Console

        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream, highlight=False)
        self.tty = self.console.is_terminal
        self.last_plain: float | None = None
        self.live: Any = None

    def __call__(self, p: Any) -> None:
        if not self.enabled or p.elapsed < 1.0:
            return
        text = (
            f"{p.distinct_states:,} states  {p.states_per_second:,.0f} states/s  "
            f"depth {p.depth}  queue {p.queue:,}  {p.elapsed:.0f}s"
        )
        if self.tty:
            from rich.live import Live
            from rich.text import Text

            if self.live is None:
                self.live = Live(console=self.console, transient=True, refresh_per_second=4)
                self.live.start()
            self.live.update(Text(text))
        elif self.last_plain is None or p.elapsed - self.last_plain >= 5.0:
            self.last_plain = p.elapsed
            self.stream.write(f"progress: {text}\n")
            self.stream.flush()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


# --------------------------------------------------------------------------- helpers
def _scope_from_options(
    design: Any,
    devices: int | None,
    reenrollments: int | None,
    kinds: Sequence[str],
    platforms: Sequence[str],
    max_offline: str | None = None,
    mdm_toggle: bool | None = None,
    shared_hardware_id: bool | None = None,
    max_in_flight: int | None = None,
    local_admin: str | None = None,
    manual_unenroll: str | None = None,
    base: Any = None,
) -> Any:
    """The scope: the default, then the design file's ``[scope]``, then the flags
    (`base`, when given, stands for the first two)."""
    from lifecycle.mdm import Scope

    fields: dict[str, Any] = {}
    if devices is not None:
        fields["devices"] = devices
    if reenrollments is not None:
        fields["reenrollments"] = reenrollments
    if kinds:
        fields["kinds"] = tuple(kinds)
    if platforms:
        fields["platforms"] = tuple(platforms)
    if max_offline is not None:
        fields["max_offline"] = None if max_offline == "unbounded" else int(max_offline)
    if mdm_toggle is not None:
        fields["mdm_toggle"] = mdm_toggle
    if shared_hardware_id is not None:
        fields["shared_hardware_id"] = shared_hardware_id
    if max_in_flight is not None:
        fields["max_in_flight"] = max_in_flight
    both = {"yes": (True,), "no": (False,), "both": (True, False)}
    if local_admin is not None:
        fields["local_admin"] = both[local_admin]
    if manual_unenroll is not None:
        fields["manual_unenroll"] = both[manual_unenroll]
    if base is None:
        base = design.scope(Scope()) if design is not None else Scope()
    import dataclasses

    return dataclasses.replace(base, **fields)


def _with_channel(design: Any, channel: str | None) -> Any:
    """`--channel` overrides the design's channel knob (lossy or reliable)."""
    if channel is None or channel == design.channel:
        return design
    import dataclasses

    return dataclasses.replace(design, channel=channel)


def _load(design: str) -> Any:
    from lifecycle.mdm import DesignError, load_design

    try:
        return load_design(design)
    except DesignError as exc:
        fail(str(exc))


def _status_style(status: str) -> str:
    return {"holds": "green", "violated": "bold red", "unknown": "yellow"}.get(status, "dim")


def _console() -> Any:
    """stdout console; 120 columns when not a terminal (logs, pipes), not rich's 80."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 120
    return console


def _facts_of(description: str) -> str:
    """The fact and ambiguity ids a property description cites: "F14, F50, A10"."""
    ids = re.findall(r"\b[FA]\d+(?:[-–][FA]?\d+)?", description)
    return ", ".join(dict.fromkeys(ids)) or "-"


#: The version of the `--format json` object; docs/check-output.schema.json documents
#: it. Raised when a key changes meaning or goes; a new key does not raise it.
SCHEMA_VERSION = 1


def _tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mdm-lifecycle")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def expectation(design: Any, result: Any) -> dict[str, Any]:
    """How the violations compare with the design's `expected_violations`, among the
    properties this check decided: `as_expected` is True when exactly the expected
    ones are violated and every other one holds; None when the search left a
    property unknown and nothing contradicts the expectation yet."""
    checked = {p.name for p in result.properties}
    expected = [n for n in design.expected_violations if n in checked]
    broken = [v.property for v in result.violations]
    unexpected = [n for n in broken if n not in expected]
    missing = [n for n in expected if n not in broken]
    unknown = [p.name for p in result.properties if p.status.value == "unknown"]
    as_expected: bool | None
    if unexpected or any(n not in unknown for n in missing):
        as_expected = False
    else:
        as_expected = None if unknown else True
    return {
        "expected_violations": expected,
        "not_checked": [n for n in design.expected_violations if n not in checked],
        "unexpected": unexpected,
        "missing": missing,
        "as_expected": as_expected,
    }


def result_to_json(
    design: Any, scope: Any, model: Any, result: Any, argv: Sequence[str] | None = None
) -> dict[str, Any]:
    """The `--format json` object, documented by docs/check-output.schema.json."""
    from lifecycle.engine import to_jsonable

    return {
        "schema_version": SCHEMA_VERSION,
        "tool_version": _tool_version(),
        "command_line": list(argv) if argv is not None else sys.argv[1:],
        "design": design.name,
        "scope": to_jsonable(scope),
        "ok": result.ok,
        "complete": result.complete,
        "distinct_states": result.distinct_states,
        "generated_states": result.generated_states,
        "depth": result.depth,
        "elapsed_s": round(result.elapsed, 3),
        "stop_reason": result.stop_reason,
        "store": result.store,
        "symmetry": result.extra.get("symmetry", "off"),
        "workers": result.extra.get("workers", 1),
        "backend": result.extra.get("backend", "local"),
        "collision_probability": result.collision_probability,
        "properties": [
            {"name": p.name, "kind": p.kind.value, "status": p.status.value}
            | ({"reason": p.reason} if p.reason else {})
            for p in result.properties
        ],
        "violations": [_violation_json(model, v) for v in result.violations],
        "fairness": result.extra.get("fairness", []),
        "coverage": {
            "actions": {
                name: {"enabled": c.enabled, "new_states": c.new_states}
                for name, c in sorted(result.coverage.actions.items())
            },
            "never_enabled": list(result.coverage.never_enabled),
        },
        "witnesses": {
            name: _trace_json(model, trace) for name, trace in sorted(result.witnesses.items())
        },
        "expected": expectation(design, result),
    }


def _trace_json(model: Any, trace: Any) -> list[dict[str, Any]]:
    """A trace as [{action, state}], the first action null."""
    from lifecycle.engine.trace import trace_to_jsonable

    steps = [step for step in trace_to_jsonable(trace) if "state" in step]
    return [
        {
            "action": None if i == 0 else model.describe_action(trace.actions[i - 1]),
            "state": step["state"],
        }
        for i, step in enumerate(steps)
    ]


def _violation_json(model: Any, v: Any) -> dict[str, Any]:
    """One violation: its trace (`_trace_json`). A lasso (a liveness counterexample)
    adds `cycle_start`, the state its loop returns to, and `closing`, the action that
    returns there ("STUTTER": the last state stays)."""
    out: dict[str, Any] = {
        "property": v.property,
        "kind": v.kind.value,
        "trace": _trace_json(model, v.trace),
        "cycle_start": v.trace.cycle_start,
        "explanation": v.explanation,
    }
    if v.trace.is_lasso:
        out["closing"] = (
            "STUTTER" if v.trace.stutters else model.describe_action(v.trace.actions[-1])
        )
    return out


def render_text(
    design: Any, scope: Any, model: Any, result: Any, console: Any, *, coverage: bool = False
) -> None:
    """Property table, search figures, the actions never enabled (and with `coverage`,
    every action's counts), then each violation as readable steps."""
    from rich.table import Table

    skipped = sum(p.status.value == "not applicable" for p in result.properties)
    verdict = (
        (
            f"[green]all checked properties hold[/] ({skipped} not applicable)"
            if skipped
            else "[green]all properties hold[/]"
        )
        if result.ok
        else "[bold red]violated[/]"
        if result.violations
        else "[yellow]incomplete: some properties unknown[/]"
    )
    from rich.markup import escape

    from lifecycle.render.report import describe_scope

    name = escape(_one_line(design.name))
    console.print(f"design [bold]{name}[/] at scope {describe_scope(scope)}: {verdict}")
    table = Table(show_header=True, header_style="bold")
    table.add_column("property", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("facts", overflow="fold")
    for p in result.properties:
        table.add_row(
            p.name,
            p.kind.value,
            f"[{_status_style(p.status.value)}]{p.status.value}[/]",
            _facts_of(p.description),
        )
    console.print(table)
    for p in result.properties:
        if p.reason:
            console.print(
                f"{p.name}: not applicable: {_one_line(p.reason)}", markup=False, highlight=False
            )
    figures = (
        f"{result.distinct_states:,} distinct states, {result.generated_states:,} generated, "
        f"depth {result.depth}, {result.elapsed:.2f}s, "
        f"{'complete' if result.complete else 'INCOMPLETE'} search ({result.store} store, "
        f"symmetry {result.extra.get('symmetry', 'off')}, "
        f"{result.extra.get('workers', 1)} worker(s))"
    )
    console.print(figures, highlight=False)
    if result.stop_reason:
        console.print(
            f"[yellow]search stopped early: {result.stop_reason}; "
            "properties not violated are unknown, not holding[/]"
        )
    if result.extra.get("fairness"):
        console.print(
            "liveness under fairness: " + "; ".join(result.extra["fairness"]), highlight=False
        )
    for name, why in result.extra.get("liveness_unknown", {}).items():
        console.print(f"[yellow]{name} unknown: {why}[/]")
    never = result.coverage.never_enabled
    if never:
        shown = ", ".join(never[:6]) + (f" and {len(never) - 6} more" if len(never) > 6 else "")
        console.print(
            f"warning: {len(never)} action(s) never enabled at this scope: {shown} "
            "(--coverage lists every action)",
            style="yellow",
            markup=False,
            highlight=False,
        )
    if coverage:
        console.print(result.coverage.table(), markup=False, highlight=False)
    if result.collision_probability is not None:
        console.print(
            "fingerprint collision probability (TLC's optimistic estimate, "
            f"distinct x (generated - distinct) / 2^64): {result.collision_probability:.1e}"
        )
    for v in result.violations:
        console.print()
        if not v.trace.states:
            console.print(
                f"[bold red]{v.property}[/] ({v.kind.value}): no reachable state is a "
                "witness, so this path can never complete"
            )
            continue
        if v.trace.is_lasso:
            console.print(
                f"[bold red]{v.property}[/] ({v.kind.value}) violated; a fair behaviour "
                f"that never reaches the goal: {len(v.trace.states) - 1} steps, then "
                f"{v.trace.loop_text()}:"
            )
        else:
            console.print(
                f"[bold red]{v.property}[/] ({v.kind.value}) violated; shortest "
                f"counterexample, {len(v.trace)} steps:"
            )
        if v.explanation:
            console.print(f"why: {_one_line(v.explanation)}", highlight=False, markup=False)
        console.print(
            v.trace.render(format_action=model.describe_action), highlight=False, markup=False
        )


# --------------------------------------------------------------------------- commands
class OneLineErrors(click.Group):
    """Turns click's usage errors into one line plus exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("lifecycle: aborted", err=True)
            sys.exit(EXIT_ERROR)
        except click.UsageError as exc:
            # "lifecycle check", "lifecycle syncml check" (main() names the program).
            where = exc.ctx.command_path if exc.ctx else "lifecycle"
            click.echo(f"{where}: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(EXIT_ERROR)
        except click.ClickException as exc:
            click.echo(f"lifecycle: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(EXIT_ERROR)
        except UserError as exc:
            click.echo(f"lifecycle: error: {_one_line(str(exc))}", err=True)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("lifecycle: interrupted", err=True)
            sys.exit(EXIT_INCOMPLETE)
        except Exception as exc:  # a bug: one line, the traceback to a file, its own code
            click.echo(f"lifecycle: internal error: {_one_line(_crash_report(exc))}", err=True)
            sys.exit(EXIT_INTERNAL)
        sys.exit(rv if isinstance(rv, int) else 0)


def _one_line(text: str) -> str:
    from lifecycle.reading import printable

    return printable(text)


def _crash_report(exc: Exception) -> str:
    """Write the traceback to a file of its own and say where."""
    import tempfile
    import traceback

    summary = f"{type(exc).__name__}: {exc}"
    try:
        handle, name = tempfile.mkstemp(prefix="lifecycle-crash-", suffix=".txt")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(f"lifecycle {' '.join(sys.argv[1:])}\n")
            traceback.print_exception(exc, file=out)
    except OSError:
        return f"{summary} (the traceback could not be written)"
    return f"{summary}; the traceback is in {name}"


@click.group(cls=OneLineErrors, name="cli")
@click.version_option(package_name="mdm-lifecycle", prog_name="lifecycle")
def cli() -> None:
    """Model-check Windows MDM unenrollment designs.

    Exit codes: 0 all properties hold, 1 a violation, 2 bad input, 3 incomplete search
    (a bound, Ctrl-C, SIGTERM or SIGHUP: some property unknown), 4 internal error (the
    traceback is written to a file), 5 the verdict was printed but the report could not
    be written.
    """


def scope_options(func: Callable[..., Any]) -> Callable[..., Any]:
    from lifecycle.mdm.design import KINDS, PLATFORMS

    options = [
        click.option("--devices", type=click.IntRange(1, 3), default=None, help="devices (1-3)"),
        click.option(
            "--reenrollments",
            type=click.IntRange(0, 2),
            default=None,
            help="re-enrollments per device (0-2)",
        ),
        click.option(
            "--kind",
            "kinds",
            multiple=True,
            type=click.Choice(KINDS),
            help="enrollment kinds to include (repeatable; default all but bulk)",
        ),
        click.option(
            "--platform",
            "platforms",
            multiple=True,
            type=click.Choice(PLATFORMS),
            help="platforms to include (repeatable; default all)",
        ),
        click.option(
            "--max-offline",
            type=click.Choice(["0", "1", "2", "unbounded"]),
            default=None,
            help="offline periods per device (default: unbounded)",
        ),
        click.option(
            "--mdm-toggle/--no-mdm-toggle",
            default=None,
            help="let the tenant admin turn MDM off and on (default: yes)",
        ),
        click.option(
            "--shared-hardware-id/--own-hardware-id",
            default=None,
            help="every device has the same hardware id, as cloned images do (default: no)",
        ),
        click.option(
            "--max-in-flight",
            type=click.IntRange(1, 4),
            default=None,
            help="messages in flight per device channel (1-4, default 2)",
        ),
        click.option(
            "--local-admin",
            type=click.Choice(["yes", "no", "both"]),
            default=None,
            help="devices with a local admin user, without, or both (default: both)",
        ),
        click.option(
            "--manual-unenroll",
            type=click.Choice(["yes", "no", "both"]),
            default=None,
            help="AllowManualMDMUnenrollment 1, 0, or both (default: both)",
        ),
    ]

    @functools.wraps(func)
    def with_scope(**kwargs: Any) -> Any:
        flags = {name: kwargs.pop(name) for name in SCOPE_FLAGS}
        return func(scope_flags=flags, **kwargs)

    for option in reversed(options):
        with_scope = option(with_scope)
    return with_scope


def listen_options(port: int, host_help: str) -> Callable[[Any], Any]:
    """``--host`` and ``--port`` for a command that serves on localhost (`explore`,
    `serve`)."""

    def decorate(func: Any) -> Any:
        func = click.option(
            "--port",
            type=click.IntRange(0, 65535),
            default=port,
            show_default=True,
            help="0: any free port",
        )(func)
        return click.option("--host", default="127.0.0.1", show_default=True, help=host_help)(func)

    return decorate


SCOPE_FLAGS = (
    "devices",
    "reenrollments",
    "kinds",
    "platforms",
    "max_offline",
    "mdm_toggle",
    "shared_hardware_id",
    "max_in_flight",
    "local_admin",
    "manual_unenroll",
)


def _finite(value: float | None, flag: str) -> float | None:
    """Refuse NaN and infinity, which compare false with every bound."""
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number of seconds")
    return value


_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _memory_size(value: str | None) -> int | None:
    """`--max-memory`: bytes, or a number with K, M, G or T (KiB, MiB, ...)."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", value.upper())
    if match is None:
        raise click.BadParameter(f"{value!r} is not a size (give e.g. 512M, 4G or bytes)")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size < 1:
        raise click.BadParameter(f"{value!r} is not a positive size")
    return size


def _stop_on_signals() -> Callable[[], None]:
    """SIGTERM and SIGHUP stop a check as Ctrl-C does: the search returns its partial
    result, which is printed, with exit code 3. Returns the function that restores the
    previous handlers."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, interrupt)

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    return restore


def _workers_option(value: str) -> int | str:
    """--workers: a positive integer, or auto."""
    if value == "auto":
        return value
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise click.BadParameter(f"{value!r} is neither a positive integer nor 'auto'")
    return count


@cli.command()
@click.option("--design", default="reference", show_default=True, help="preset name or TOML file")
@scope_options
@click.option(
    "--channel",
    type=click.Choice(["lossy", "reliable"]),
    default=None,
    help="override the design's channel knob",
)
@click.option("--store", type=click.Choice(["exact", "fingerprint"]), default="exact")
@click.option(
    "--symmetry",
    type=click.Choice(["auto", "on", "off", "verify"]),
    default="auto",
    show_default=True,
    help="store one world per order of devices: auto does when it is sound (not with "
    "the liveness properties, which name devices); verify also runs the unreduced "
    "search and fails unless the verdicts agree",
)
@click.option(
    "--liveness/--no-liveness",
    default=True,
    show_default=True,
    help="check the liveness properties under the model's fairness (they keep every "
    "order of devices: --no-liveness lets several devices be reduced by symmetry)",
)
@click.option(
    "--workers",
    default="1",
    show_default=True,
    callback=lambda ctx, param, value: _workers_option(value),
    help="processes for the search (auto: one per core); the answers are those of one",
)
@click.option(
    "--backend",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="ray: the workers are Ray actors (needs the [distributed] extra)",
)
@click.option(
    "--ray-address",
    default=None,
    help="with --backend ray: a running cluster (auto, or ray://host:port); "
    "default: a local instance",
)
@click.option(
    "--simulate",
    "runs",
    type=click.IntRange(min=1),
    default=None,
    help="instead of the search, N seeded random behaviours (beyond exhaustive reach); "
    "finds violations, never proves a property",
)
@click.option(
    "--depth",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="with --simulate: steps per behaviour",
)
@click.option("--seed", type=int, default=0, show_default=True, help="with --simulate: the seed")
@click.option("--max-states", type=click.IntRange(min=1), default=None)
@click.option("--max-depth", type=click.IntRange(min=1), default=None)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    callback=lambda ctx, param, value: _finite(value, "--time-limit"),
    help="seconds (a finite number)",
)
@click.option(
    "--max-memory",
    default=None,
    callback=lambda ctx, param, value: _memory_size(value),
    help="stop, incomplete, at this memory (512M, 4G), the workers included",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--report", type=click.Path(file_okay=False), default=None, help="write an HTML report"
)
@click.option("--progress/--no-progress", default=True, help="progress on runs over a second")
@click.option(
    "--expected",
    is_flag=True,
    help="exit 0 when exactly the design's expected_violations break (for CI)",
)
@click.option("--coverage", is_flag=True, help="print each action's enabled and new-state counts")
@click.option(
    "--junit",
    type=click.Path(dir_okay=False),
    default=None,
    help="write JUnit XML: one testcase per property",
)
@click.option(
    "--diagrams",
    "diagrams_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="draw each counterexample as a sequence chart (SVG and Mermaid) in this directory",
)
@click.option(
    "--syncml",
    "syncml_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="export each counterexample as a SyncML capture (packages, manifest) in this directory",
)
def check(
    design: str,
    scope_flags: dict[str, Any],
    channel: str | None,
    store: str,
    symmetry: str,
    liveness: bool,
    workers: int | str,
    backend: str,
    ray_address: str | None,
    runs: int | None,
    depth: int,
    seed: int,
    max_states: int | None,
    max_depth: int | None,
    time_limit: float | None,
    max_memory: int | None,
    fmt: str,
    report: str | None,
    progress: bool,
    expected: bool,
    coverage: bool,
    junit: str | None,
    diagrams_dir: str | None,
    syncml_dir: str | None,
) -> int:
    """Check a design at a bounded scope and print the verdict per property."""
    from lifecycle.engine import SymmetryMismatch, SymmetryUnverified
    from lifecycle.engine import check as run_check
    from lifecycle.mdm import DesignError, LifecycleModel

    loaded = _load(design)
    try:
        loaded = _with_channel(loaded, channel)
        scope = _scope_from_options(loaded, **scope_flags)
        model = LifecycleModel(loaded, scope, liveness=liveness)
    except (DesignError, ValueError) as exc:
        fail(str(exc))
    if symmetry in ("on", "verify") and liveness and runs is None:
        fail(
            f"--symmetry {symmetry}: the liveness properties name devices by number, so "
            "no reduction is sound for them; add --no-liveness, or use --symmetry auto"
        )
    if max_memory is not None and backend != "local":
        fail("--max-memory bounds the processes of this machine: use it with --backend local")
    display = ProgressDisplay(progress)
    restore = _stop_on_signals()
    try:
        if runs is not None:
            from lifecycle.engine import simulate

            if max_states is not None or max_depth is not None:
                fail("--simulate: bound each behaviour with --depth, not --max-states/--max-depth")
            if max_memory is not None:
                fail("--simulate keeps no store: --max-memory is for the exhaustive search")
            result = simulate(
                model,
                runs=runs,
                depth=depth,
                seed=seed,
                workers=workers,
                time_limit=time_limit,
                progress=display,
            )
        else:
            result = run_check(
                model,
                deadlock=True,
                max_states=max_states,
                max_depth=max_depth,
                time_limit=time_limit,
                max_memory=max_memory,
                store=store,
                progress=display,
                symmetry=symmetry,
                workers=workers,
                backend=backend,
                address=ray_address,
            )
    except (SymmetryMismatch, SymmetryUnverified) as exc:
        fail(f"--symmetry verify: {exc}")
    except ValueError as exc:  # a backend that cannot run here (Ray missing, an address)
        if backend != "ray":
            raise
        fail(f"--backend {backend}: {exc}")
    finally:
        display.close()
    # The verdict first: a report that cannot be written must not lose it.
    if fmt == "json":
        click.echo(json.dumps(result_to_json(loaded, scope, model, result), indent=2))
    else:
        render_text(loaded, scope, model, result, _console(), coverage=coverage)
    verdict = EXIT_VIOLATED if result.violations else EXIT_OK if result.ok else EXIT_INCOMPLETE
    if expected:
        verdict = _expected_verdict(loaded, result)
    written = True
    if junit is not None:
        from lifecycle.render.junit import write_junit

        try:
            write_junit(Path(junit), loaded, scope, model, result)
        except OSError as exc:
            click.echo(
                f"lifecycle: error: --junit {_one_line(junit)}: cannot write the JUnit file: "
                f"{exc.strerror or exc}",
                err=True,
            )
            written = False
    if diagrams_dir is not None and not _write_charts(diagrams_dir, loaded, model, result):
        written = False
    if syncml_dir is not None and not _write_captures(syncml_dir, loaded, scope, result):
        written = False
    if report is not None:
        from lifecycle.render.report import write_report

        try:
            path = write_report(Path(report), loaded, scope, model, result)
        except OSError as exc:
            click.echo(
                f"lifecycle: error: --report {_one_line(report)}: cannot write the report: "
                f"{exc.strerror or exc}",
                err=True,
            )
            return EXIT_WRITE
        click.echo(f"report written to {_one_line(str(path))}", err=True)
    restore()
    return verdict if written else EXIT_WRITE


def _write_charts(out: str, design: Any, model: Any, result: Any) -> bool:
    """The counterexample charts of one check into `out`; False (said in one line)
    when they cannot be written."""
    from lifecycle.render.diagrams import result_charts, write_charts

    try:
        written = write_charts(Path(out), result_charts(design, model, result))
    except OSError as exc:
        click.echo(
            f"lifecycle: error: {_one_line(out)}: cannot write the diagrams: {exc.strerror or exc}",
            err=True,
        )
        return False
    click.echo(f"wrote {len(written)} diagram files to {_one_line(out)}", err=True)
    return True


def _write_captures(out: str, design: Any, scope: Any, result: Any) -> bool:
    """Each counterexample of one check as a SyncML capture directory in `out`
    (`lifecycle.syncml.export`); False (said in one line) when they cannot be written."""
    from lifecycle.syncml.export import capture_of, write_capture

    count = 0
    try:
        for v in result.violations:
            if not v.trace.states:
                continue
            name = f"counterexample-{design.name}-{v.property}"
            title = f"{design.name}: {v.property}"
            write_capture(Path(out), name, capture_of(v.trace, title=title, scope=scope))
            count += 1
    except OSError as exc:
        click.echo(
            f"lifecycle: error: --syncml {_one_line(out)}: cannot write the capture: "
            f"{exc.strerror or exc}",
            err=True,
        )
        return False
    click.echo(f"wrote {count} SyncML capture(s) to {_one_line(out)}", err=True)
    return True


def _expected_verdict(design: Any, result: Any) -> int:
    """`--expected`: 0 when exactly the design's expected properties are violated
    (`expectation`), 3 when the search left that open, 1 otherwise; said on stderr,
    so that JSON on stdout stays one object."""
    e = expectation(design, result)
    names = ", ".join(e["expected_violations"]) or "none"
    if e["as_expected"]:
        click.echo(f"as expected: exactly the expected violations ({names})", err=True)
        return EXIT_OK
    if e["as_expected"] is None:
        click.echo(
            "expectation undecided: the search was incomplete, and nothing found so far "
            f"contradicts the expected violations ({names})",
            err=True,
        )
        return EXIT_INCOMPLETE
    parts = []
    if e["unexpected"]:
        parts.append("violated but not expected: " + ", ".join(e["unexpected"]))
    if e["missing"]:
        parts.append("expected but holding: " + ", ".join(e["missing"]))
    click.echo("NOT as expected: " + "; ".join(parts), err=True)
    return EXIT_VIOLATED


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def designs(fmt: str) -> int:
    """List the design presets and the knobs they set."""
    from lifecycle.mdm import presets

    all_presets = presets()
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "name": name,
                        "description": d.description,
                        "expected_violations": list(d.expected_violations),
                    }
                    for name, d in all_presets.items()
                ],
                indent=2,
            )
        )
        return EXIT_OK
    from rich.table import Table

    table = Table(show_header=True, header_style="bold")
    table.add_column("preset")
    table.add_column("expected violations")
    table.add_column("description", overflow="fold")
    for name, d in all_presets.items():
        table.add_row(name, ", ".join(d.expected_violations) or "-", d.description)
    _console().print(table)
    return EXIT_OK


@cli.command()
@scope_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--progress/--no-progress", default=True, help="a line per design on stderr")
@click.argument("files", nargs=-1)
def matrix(scope_flags: dict[str, Any], fmt: str, progress: bool, files: tuple[str, ...]) -> int:
    """Check every preset, or the design FILES given (preset names work too): a design
    with no expected violations must hold, each other one must break exactly what it
    expects."""
    from lifecycle.mdm import DesignError
    from lifecycle.mdm.matrix import run_matrix

    designs = None
    if files:
        designs = {}
        for name in files:
            loaded = _load(name)
            designs[f"{name}\0{loaded.name}"] = loaded  # the same design twice is two rows
    try:
        scope = _scope_from_options(None, **scope_flags)
    except DesignError as exc:
        fail(str(exc))
    started = time.perf_counter()

    def on_row(i: int, n: int, row: Any) -> None:
        if progress:
            verdict = "caught" if row.caught else "NOT CAUGHT"
            if not row.expected:
                verdict = "holds" if row.caught else "DOES NOT HOLD"
            click.echo(
                f"[{i}/{n}] {_one_line(row.design)}: {verdict} ({row.states:,} states, "
                f"{row.seconds:.1f}s)",
                err=True,
            )

    rows = run_matrix(scope, designs=designs, on_row=on_row)
    if fmt == "json":
        click.echo(json.dumps([row.as_dict() for row in rows], indent=2))
    else:
        from rich.table import Table

        table = Table(show_header=True, header_style="bold")
        for column in ("design", "expected", "found", "caught", "states", "seconds"):
            table.add_column(column)
        from rich.markup import escape

        for row in rows:
            table.add_row(
                escape(_one_line(row.design)),
                ", ".join(row.expected) or "-",
                ", ".join(f"{n} ({k} steps)" for n, k in row.found.items()) or "-",
                "yes" if row.caught else "[bold red]NO[/]",
                f"{row.states:,}",
                f"{row.seconds:.2f}",
            )
        _console().print(table)
        click.echo(f"matrix took {time.perf_counter() - started:.1f}s")
    return EXIT_OK if all(r.caught for r in rows) else EXIT_VIOLATED


@cli.command()
@click.option("--design", default="reference", show_default=True, help="preset name or TOML file")
@scope_options
@click.option(
    "--operator",
    "operators",
    multiple=True,
    type=click.Choice(
        ["delete_row", "drop_conjunct", "remove_send", "swap_cleanup", "ignore_generation"]
    ),
    help="mutation operators to apply (repeatable; default all)",
)
@click.option("--mutant", "names", multiple=True, help="check only this mutant (repeatable)")
@click.option(
    "--max-states",
    type=click.IntRange(min=1),
    default=None,
    help="per-mutant state budget (default: 4x the reference's states)",
)
@click.option(
    "--time-limit",
    type=float,
    default=60.0,
    show_default=True,
    help="per-mutant budget in seconds; a mutant over budget is unknown",
)
@click.option(
    "--workers",
    default="auto",
    show_default=True,
    help="processes checking mutants in parallel: a number, or auto (one per CPU)",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
@click.option("--progress/--no-progress", default=True, help="a progress bar on a terminal")
def mutate(
    design: str,
    scope_flags: dict[str, Any],
    operators: tuple[str, ...],
    names: tuple[str, ...],
    max_states: int | None,
    time_limit: float,
    workers: str,
    fmt: str,
    progress: bool,
) -> int:
    """Check every mutant of the tables and say which properties kill it.

    Exit codes: 0 every mutant is killed or equivalent, 1 a mutant survived, 2 bad
    input, 3 some mutant is unknown (over budget) and none survived.
    """
    from lifecycle import mutation
    from lifecycle.mdm import DesignError

    d = _load(design)
    try:
        scope = _scope_from_options(d, **scope_flags)
    except DesignError as exc:
        fail(str(exc))
    try:
        limit = _finite(time_limit, "--time-limit")
    except click.BadParameter as exc:
        fail(f"--time-limit: {exc.message}")
    if limit is None or limit <= 0:
        fail(f"--time-limit: {time_limit!r} is not a positive number of seconds")
    try:
        count = _workers_option(workers)
    except click.BadParameter as exc:
        fail(f"--workers: {exc.message}")
    console = _console()
    bar: Any = None
    task: Any = None
    if progress and console.is_terminal and fmt == "text":
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        task = bar.add_task("mutants", total=None)
        bar.start()

    def tick(done: int, total: int, result: Any) -> None:
        if bar is not None:
            bar.update(task, completed=done, total=total, description=_one_line(result.mutant)[:40])

    started = time.perf_counter()
    try:
        ref, results = mutation.run(
            d,
            scope,
            operators=operators or mutation.OPERATORS,
            names=names,
            max_states=max_states,
            time_limit=limit,
            workers=count,
            progress=tick,
        )
    except (KeyError, ValueError) as exc:
        fail(_one_line(str(exc.args[0]) if exc.args else str(exc)))
    finally:
        if bar is not None:
            bar.stop()
    elapsed = time.perf_counter() - started
    summary = mutation.summary(results)
    if fmt == "json":
        click.echo(mutation.to_json(results))
    elif fmt == "markdown":
        click.echo(mutation.to_markdown(ref, results), nl=False)
    else:
        from rich.table import Table

        table = Table(show_header=True, header_style="bold")
        for column in ("mutant", "status", "killed by", "trace", "states", "seconds"):
            table.add_column(column, overflow="fold")
        for r in results:
            table.add_row(
                _one_line(r.mutant),
                r.status,
                ", ".join(r.killed_by) or "-",
                "-" if r.trace_length is None else str(r.trace_length),
                f"{r.states:,}",
                f"{r.seconds:.1f}",
            )
        console.print(table)
        rate = summary["kill_rate"]
        console.print(
            f"{summary['mutants']} mutants: {summary['killed']} killed, {summary['survived']} "
            f"survived, {summary['equivalent']} equivalent, {summary['unknown']} unknown, "
            f"{summary['error']} errors; kill rate "
            f"{'n/a' if rate is None else f'{100 * rate:.1f}%'}; {elapsed:.1f}s"
        )
    if summary["survived"]:
        return EXIT_VIOLATED
    return EXIT_INCOMPLETE if summary["unknown"] else EXIT_OK


@cli.command()
@click.option("--design", default="reference", show_default=True, help="preset name or TOML file")
@scope_options
@listen_options(port=8765, host_help="address to listen on")
@click.option(
    "--check/--no-check",
    "run_check",
    default=True,
    help="check the design first, to offer a jump to each counterexample",
)
@click.option(
    "--load",
    type=click.Path(dir_okay=False),
    default=None,
    help="also step through the counterexamples of a `check --format json` file",
)
def explore(
    design: str,
    scope_flags: dict[str, Any],
    host: str,
    port: int,
    run_check: bool,
    load: str | None,
) -> int:
    """Walk the design's state space in a browser: take any enabled step, see what
    each property says of the state, and step through each counterexample beside its
    sequence chart. Serves on localhost until Ctrl-C."""
    from lifecycle.explore.serve import LoadError, build, serve
    from lifecycle.mdm import DesignError

    loaded = _load(design)
    try:
        scope = _scope_from_options(loaded, **scope_flags)
        if run_check:
            click.echo(f"checking {_one_line(loaded.name)} ...", err=True)
        app = build(loaded, scope, run_check=run_check, load=Path(load) if load else None)
    except (DesignError, LoadError, ValueError) as exc:
        fail(str(exc))

    def ready(url: str) -> None:
        click.echo(f"explorer of {_one_line(loaded.name)} at {url} (Ctrl-C stops it)", err=True)

    restore = _stop_on_signals()  # SIGTERM and SIGHUP stop the server as Ctrl-C does
    try:
        serve(app, host, port, ready)
    except OSError as exc:
        fail(f"--host {_one_line(host)} --port {port}: cannot listen: {exc.strerror or exc}")
    except KeyboardInterrupt:
        click.echo("explorer stopped", err=True)
    finally:
        restore()
    return EXIT_OK


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="diagrams",
    show_default=True,
    help="directory to write into",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "mermaid"]),
    default="svg",
    show_default=True,
    help="svg: DOT and SVG (needs Graphviz); mermaid: Mermaid text",
)
@click.option(
    "--design",
    default=None,
    help="draw this design's counterexamples (preset name or TOML file) instead",
)
@scope_options
def diagrams(out: str, fmt: str, design: str | None, scope_flags: dict[str, Any]) -> int:
    """Draw the machines, the reachable graph and every preset's counterexample; or,
    with --design, the counterexamples of one design at its scope (and the flags)."""
    from lifecycle.render.diagrams import write_diagrams
    from lifecycle.render.dot import GraphvizMissing

    if design is not None:
        from lifecycle.engine import check as run_check
        from lifecycle.mdm import DesignError, LifecycleModel

        loaded = _load(design)
        try:
            scope = _scope_from_options(loaded, **scope_flags)
            model = LifecycleModel(loaded, scope)
        except (DesignError, ValueError) as exc:
            fail(str(exc))
        result = run_check(model)
        if not result.violations:
            click.echo(f"design {_one_line(loaded.name)}: no counterexample to draw", err=True)
            return EXIT_OK if result.ok else EXIT_INCOMPLETE
        return EXIT_OK if _write_charts(out, loaded, model, result) else EXIT_WRITE
    if any(v not in (None, ()) for v in scope_flags.values()):
        fail("the scope flags go with --design (the preset diagrams use their own scopes)")

    try:
        written = write_diagrams(Path(out), fmt)
    except GraphvizMissing as exc:
        fail(str(exc))
    click.echo(f"wrote {len(written)} files to {out}", err=True)
    return EXIT_OK


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="docs",
    show_default=True,
    help="directory to write into",
)
def docs(out: str) -> int:
    """Regenerate the generated documentation pages (reference, properties, ...)."""
    from lifecycle.render.docs import write_docs

    written = write_docs(Path(out))
    click.echo(f"wrote {len(written)} pages to {out}", err=True)
    return EXIT_OK


@cli.command()
@click.argument("capture", type=click.Path(file_okay=False))
@click.option("--design", default="reference", show_default=True, help="preset name or TOML file")
@scope_options
@click.option("--max-states", type=click.IntRange(min=1), default=None)
@click.option("--time-limit", type=float, default=None, help="seconds")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--infer",
    is_flag=True,
    help="report which presets, and which one-knob deviations of --design, it conforms to",
)
def conform(
    capture: str,
    design: str,
    scope_flags: dict[str, Any],
    max_states: int | None,
    time_limit: float | None,
    fmt: str,
    infer: bool,
) -> int:
    """Does some behaviour of the design send the captured SyncML packages, in their
    order? Exit 0: it does (the shortest such behaviour is printed); 1: it does not
    (the first package no behaviour explains is named); 3: the search was cut short.
    The scope is the design's, then the capture manifest's, then the flags. A
    capture the design does not explain is tried against every one-knob deviation of
    the design, which says which knobs would explain it. With --infer: every preset
    and every one-knob deviation, each search bounded (past it: unknown)."""
    import dataclasses

    from lifecycle.mdm import DesignError, LifecycleModel
    from lifecycle.syncml.conform import (
        CaptureError,
        explain_by_knobs,
        read_capture_dir,
        recorded_scope,
    )
    from lifecycle.syncml.conform import conform as run_conform

    loaded = _load(design)
    limit = _finite(time_limit, "--time-limit")
    try:
        events, recorded = read_capture_dir(Path(capture))
    except CaptureError as exc:
        fail(str(exc))
    if limit is not None and limit <= 0:
        fail(f"--time-limit {time_limit}: give a positive number of seconds")
    try:
        # The design's scope, then what the capture records, then the flags.
        base = recorded_scope(loaded.scope(), recorded)
        scope = _scope_from_options(loaded, **scope_flags, base=base)
        model = LifecycleModel(loaded, scope, liveness=False)
    except (DesignError, ValueError, TypeError) as exc:
        fail(f"{_one_line(capture)}: {_one_line(str(exc))}")
    where = _one_line(capture)
    bound = {"max_states": max_states} if max_states is not None else {}
    if infer:
        return _conform_infer(where, loaded, scope, events, fmt, limit, bound)
    verdict = run_conform(model, events, max_states=max_states, time_limit=limit)
    knobs = (
        explain_by_knobs(loaded, scope, events, time_limit=limit, **bound)
        if verdict.conforms is False
        else []
    )
    explaining = [label for label, v in knobs if v.conforms]
    if fmt == "json":
        out: dict[str, Any] = {
            "capture": capture,
            "design": loaded.name,
            "scope": dataclasses.asdict(scope),
            "conforms": verdict.conforms,
            "packages": len(events),
            "matched": verdict.matched,
            "states": verdict.states,
            "stop_reason": verdict.stop_reason,
            "first_unexplained": (
                events[verdict.matched].file if verdict.conforms is False else None
            ),
            "instead": list(verdict.instead),
            "explained_by_one_knob": explaining,
            "trace": _trace_json(model, verdict.trace) if verdict.trace is not None else None,
        }
        click.echo(json.dumps(out, indent=2))
    elif verdict.conforms:
        click.echo(
            f"{where}: conforms to {_one_line(loaded.name)}: its {len(events)} package(s) are "
            f"sent by a behaviour of {len(verdict.trace or ())} steps ({verdict.states:,} "
            "states searched):"
        )
        if verdict.trace is not None:
            click.echo(verdict.trace.render(format_action=model.describe_action))
    elif verdict.conforms is None:
        click.echo(
            f"{where}: unknown: the search stopped ({verdict.stop_reason}) after explaining "
            f"{verdict.matched} of {len(events)} package(s)"
        )
    else:
        bad = events[verdict.matched]
        click.echo(
            f"{where}: does not conform to {_one_line(loaded.name)}: package "
            f"{verdict.matched + 1} of {len(events)}, {_one_line(bad.file)} (device "
            f"{bad.device}: {_one_line(bad.text())}), is sent by no behaviour that sends "
            f"the {verdict.matched} before it ({verdict.states:,} states searched)"
        )
        if verdict.instead:
            click.echo("the model could send instead: " + "; ".join(verdict.instead))
        if explaining:
            click.echo(
                "it conforms to these one-knob deviations of the design: "
                + "; ".join(_one_line(e) for e in explaining)
            )
        else:
            unknown = sum(1 for _, v in knobs if v.conforms is None)
            click.echo(
                f"no one-knob deviation of the design explains it (of {len(knobs)}"
                + (f"; {unknown} left unknown by the search bound)" if unknown else ")")
            )
    if verdict.conforms is None:
        return EXIT_INCOMPLETE
    return EXIT_OK if verdict.conforms else EXIT_VIOLATED


@cli.command()
@click.option("--design", default="reference", show_default=True, help="preset name or TOML file")
@listen_options(port=8780, host_help="a loopback address")
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default="lifecycle-serve.sqlite",
    show_default=True,
    help="the SQLite file of the server's records (kept across restarts)",
)
@click.option(
    "--admin-token",
    envvar="LIFECYCLE_ADMIN_TOKEN",
    default=None,
    help="the admin interface's bearer token (default: a fresh one, printed)",
)
@click.option(
    "--hold-timeout",
    type=click.FloatRange(min=0.1, max=300),
    default=10.0,
    show_default=True,
    help="seconds a held package's request waits for its session to close",
)
def serve(
    design: str, host: str, port: int, db: str, admin_token: str | None, hold_timeout: float
) -> int:
    """A SyncML DM management endpoint on localhost that runs the design's server
    table (POST /ManagementServer/MDM.svc), its records in SQLite, with an admin
    interface under /admin for tests and operators (docs/syncml.md). Serves until
    Ctrl-C."""
    import sqlite3

    from lifecycle.syncml.serve import DM_PATH, make_endpoint_server

    loaded = _load(design)
    if admin_token is not None and not admin_token.strip():
        fail("--admin-token: give a token (or leave the option out for a fresh one)")
    try:
        server, endpoint, token = make_endpoint_server(
            loaded, Path(db), host=host, port=port, token=admin_token, hold_timeout=hold_timeout
        )
    except ValueError as exc:
        fail(str(exc))
    except sqlite3.Error as exc:
        fail(f"--db {_one_line(db)}: {_one_line(str(exc))}")
    except OSError as exc:
        fail(f"--host {_one_line(host)} --port {port}: cannot listen: {exc.strerror or exc}")
    url = f"http://{f'[{host}]' if ':' in host else host}:{server.server_port}"
    click.echo(
        f"serving {_one_line(loaded.name)} at {url}{DM_PATH}, admin at {url}/admin, "
        f"records in {_one_line(db)} (Ctrl-C stops it)",
        err=True,
    )
    if admin_token is None:
        click.echo(f"admin token: {token}", err=True)
    restore = _stop_on_signals()
    try:
        server.serve_forever()  # returns on Ctrl-C (werkzeug takes the interrupt)
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        server.server_close()
        endpoint.store.close()
    click.echo("endpoint stopped", err=True)
    return EXIT_OK


@cli.command()
@click.argument("capture", type=click.Path(file_okay=False))
@click.option("--server", "server_url", required=True, help="the management endpoint's URL")
@click.option(
    "--design",
    default="reference",
    show_default=True,
    help="the design the replayed session is checked against (preset name or TOML file)",
)
@click.option(
    "--admin",
    "admin_url",
    default=None,
    help="the admin interface of `lifecycle serve`, to take the server's operator steps",
)
@click.option("--admin-token", envvar="LIFECYCLE_ADMIN_TOKEN", default=None)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="the replayed capture's directory (default: CAPTURE-replay beside CAPTURE)",
)
@click.option(
    "--cert", type=click.Path(dir_okay=False), default=None, help="client certificate (PEM)"
)
@click.option("--key", type=click.Path(dir_okay=False), default=None, help="its private key (PEM)")
@click.option("--ca", type=click.Path(dir_okay=False), default=None, help="CA file to trust")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=300),
    default=10.0,
    show_default=True,
    help="seconds per request",
)
@click.pass_context
def replay(
    ctx: click.Context,
    capture: str,
    server_url: str,
    design: str,
    admin_url: str | None,
    admin_token: str | None,
    out: str | None,
    cert: str | None,
    key: str | None,
    ca: str | None,
    timeout: float,
) -> int:
    """Play the device's packages of CAPTURE (a capture, or a counterexample written by
    `check --syncml`) against a live management endpoint, answering its commands as
    the capture's device did; record the session as a new capture, and check that
    capture against the design as `conform` does (same exit codes; 2 also when the
    endpoint cannot be reached)."""
    from lifecycle.syncml.export import write_capture
    from lifecycle.syncml.replay import Admin, Client, ReplayError
    from lifecycle.syncml.replay import replay as run_replay

    _load(design)  # a bad design is refused before anything is sent
    where = _one_line(capture)
    if admin_url is not None and not admin_token:
        fail("--admin needs --admin-token (or LIFECYCLE_ADMIN_TOKEN)")
    if key is not None and cert is None:
        fail("--key needs --cert")
    target = Path(out) if out is not None else Path(capture).parent / f"{Path(capture).name}-replay"
    if target.resolve() == Path(capture).resolve():
        fail(f"--out {_one_line(str(target))}: that is the capture being replayed")
    if target.exists() and not (target / "manifest.json").is_file():
        # A capture written before is replaced; anything else is the user's.
        fail(f"--out {_one_line(str(target))}: exists and is not a capture; give a new directory")
    try:
        client = Client(server_url, timeout=timeout, cert=cert, key=key, ca=ca)
        admin = (
            Admin(admin_url, admin_token or "", timeout=timeout, context=client.context)
            if admin_url
            else None
        )
        done = run_replay(Path(capture), client, admin)
    except ReplayError as exc:
        fail(f"{where}: {exc}")
    try:
        written = write_capture(target.parent, target.name, done.capture)
    except OSError as exc:
        fail(f"--out {_one_line(str(target))}: cannot write the capture: {exc.strerror or exc}")
    click.echo(f"{where}: posted {done.posted} package(s) to {_one_line(server_url)}")
    if done.diverged is None:
        click.echo("  the endpoint answered as the capture's server did, package for package")
    else:
        click.echo(
            "  the endpoint answered otherwise than the capture's server; replay stopped there"
        )
    for note in done.notes:
        click.echo(f"  {_one_line(note)}")
    click.echo(f"replayed capture written to {_one_line(str(written))}")
    # conform's own defaults fill its other options (the capture records the scope).
    verdict = int(ctx.invoke(conform, capture=str(written), design=design))
    if done.silent and verdict == EXIT_OK:
        click.echo(
            "replay fails: the endpoint left a package unanswered where the capture's server "
            "answered it (a DM server answers every message, F66)"
        )
        return EXIT_VIOLATED
    return verdict


def _conform_infer(
    where: str,
    design: Any,
    scope: Any,
    events: Any,
    fmt: str,
    limit: float | None,
    bound: dict[str, int],
) -> int:
    """`conform --infer`: a verdict per preset and per one-knob deviation. Exit 0 when
    some candidate conforms, 1 when every one is refuted, 3 when none conforms and some
    were left unknown by the bound."""
    from lifecycle.syncml.conform import infer

    verdicts = infer(design, scope, events, time_limit=limit, **bound)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "capture": where,
                    "design": design.name,
                    "candidates": [
                        {
                            "candidate": label,
                            "conforms": v.conforms,
                            "matched": v.matched,
                            "states": v.states,
                        }
                        for label, v in verdicts
                    ],
                },
                indent=2,
            )
        )
    else:
        shown = {True: "conforms", False: "does not conform", None: "unknown (bound)"}
        click.echo(f"{where}: {len(events)} package(s), against each candidate:")
        for label, v in verdicts:
            detail = "" if v.conforms else f" (package {v.matched + 1} unexplained)"
            if v.conforms is None:
                detail = f" ({v.matched} explained before the bound)"
            click.echo(f"  {shown[v.conforms]:17} {_one_line(label)}{detail}")
        yes = [label for label, v in verdicts if v.conforms]
        click.echo(f"conforms to {len(yes)} of {len(verdicts)} candidates")
    if any(v.conforms for _, v in verdicts):
        return EXIT_OK
    return EXIT_INCOMPLETE if any(v.conforms is None for _, v in verdicts) else EXIT_VIOLATED


@cli.group()
def syncml() -> None:
    """Read SyncML DM 1.2 packages: the subset the model uses (docs/syncml.md)."""


@syncml.command("corpus")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="tests/syncml/data/captures",
    show_default=True,
)
def syncml_corpus(out: str) -> int:
    """Write a capture of each path of the reference design (its first session, a
    policy, and each unenroll path: user, admin, Azure AD, wipe): the corpus the
    tests check for conformance."""
    from lifecycle.syncml.corpus import write_corpus

    try:
        written = write_corpus(Path(out))
    except OSError as exc:
        fail(f"--out {_one_line(out)}: cannot write the corpus: {exc.strerror or exc}")
    click.echo(f"wrote {len(written)} captures to {_one_line(out)}", err=True)
    return EXIT_OK


@syncml.command("check")
@click.argument("files", nargs=-1, required=True)
def syncml_check(files: tuple[str, ...]) -> int:
    """Parse each SyncML FILE and print its header, its commands one per line, the
    model message it maps to, and the quirks accepted as warnings. A file that cannot
    be read or parsed gets one line on stderr; the others are still checked.

    Exit codes: 0 every file parses, 2 some file does not.
    """
    from lifecycle.syncml import (
        SyncMLError,
        describe_command,
        describe_header,
        from_package,
        parse,
        read_capture,
    )

    failed = False
    for name in files:
        where = _one_line(name)
        try:
            pkg = parse(read_capture(name))
        except SyncMLError as exc:
            click.echo(f"lifecycle syncml: error: {where}: {_one_line(str(exc))}", err=True)
            failed = True
            continue
        click.echo(f"{where}: {_one_line(describe_header(pkg.header))}")
        for command in pkg.commands:
            click.echo(f"  {_one_line(describe_command(command))}")
        if pkg.final:
            click.echo("  Final")
        try:
            msg = from_package(pkg)
            click.echo(f"  model: {msg.kind}, {msg.session} session: {', '.join(msg.body)}")
        except SyncMLError as exc:
            click.echo(f"  model: none ({_one_line(str(exc))})")
        for warning in pkg.warnings:
            click.echo(f"  warning: {_one_line(warning)}")
    return EXIT_ERROR if failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="lifecycle")
