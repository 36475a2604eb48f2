"""All transition tables, and the interpreter functions a live machine needs.

For the runtime (live `transitions.Machine` objects built from the same rows) and for
the agreement test between the two interpreters:

- `all_tables()`: machine name -> `Table` (device, server, directory, network);
- `row(trigger)`: the row of a trigger (triggers are unique across tables);
- `machine_states(model, state, device)`: machine name -> current state string;
- `enabled_rows(model, state, device)`: the enabled `(row, arg)` pairs, in table order;
- `apply_row(model, state, device, row, arg)`: the engine state after the row fires;
- `make_view` / `commit`: the same, one level down, for a live machine's callbacks.

For the checker, `slice_steps(model, bundle)` is the same interpreter compiled: the
rows are indexed once by the machine states they fire from (so only candidate rows
are looked at), each row's guard, choices, effect, destination and state setter are
looked up once, and one view is reused for every row fired from a slice. It reads the
same rows; `tests/mdm/test_mdm_tables.py` checks it against `enabled_rows` and
`apply_row` row by row.

An engine action is ``(trigger, device)`` or ``(trigger, device, arg)``, so
``enabled_rows`` and ``LifecycleModel.successors`` list the same transitions:
``{(r.trigger, i, a) ...} == {action for action, _ in model.successors(state)}`` with
the argument left out when it is None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lifecycle.mdm import device, directory, network, server
from lifecycle.mdm.state import Bundle, World
from lifecycle.mdm.table import Row, Table, View

if TYPE_CHECKING:
    from lifecycle.mdm.model import LifecycleModel

_TABLES: dict[str, Table] = {
    "device": device.TABLE,
    "server": server.TABLE,
    "directory": directory.TABLE,
    "network": network.TABLE,
}
_TABLE_LIST = tuple(_TABLES.values())
_ROWS: dict[str, tuple[Table, Row]] = {}
for _table in _TABLES.values():
    for _row in _table.rows:
        if _row.trigger in _ROWS:
            raise RuntimeError(f"trigger {_row.trigger} appears in two tables")
        _ROWS[_row.trigger] = (_table, _row)


def all_tables() -> dict[str, Table]:
    """Machine name -> table, in a stable order (device, server, directory, network)."""
    return dict(_TABLES)


def row(trigger: str) -> Row:
    """The row of a trigger (also the engine action name)."""
    return _ROWS[trigger][1]


def table_of(trigger: str) -> Table:
    """The table holding a trigger's row."""
    return _ROWS[trigger][0]


def all_rows() -> list[Row]:
    """Every row of every table, in table order."""
    return [r for t in _TABLES.values() for r in t.rows]


def view_of_bundle(model: LifecycleModel, bundle: Bundle, index: int = 0, arg: Any = None) -> View:
    """A view of one device slice."""
    dev, srv, dirc, net = bundle
    return View(dev, srv, dirc, net, model.design, model.scope, index, arg)


def make_view(model: LifecycleModel, state: World, index: int, arg: Any = None) -> View:
    """A view of device `index`'s slice of `state`, for guards and effects."""
    bundle = (state.device[index], state.server[index], state.directory[index], state.net[index])
    return view_of_bundle(model, bundle, index, arg)


def commit(state: World, view: View) -> World:
    """The engine state with device `view.index`'s slice replaced by the view's."""
    i = view.index

    def put(items: tuple[Any, ...], value: Any) -> tuple[Any, ...]:
        return (*items[:i], value, *items[i + 1 :])

    return World(
        put(state.device, view.device),
        put(state.server, view.server),
        put(state.directory, view.directory),
        put(state.net, view.net),
    )


def machine_states_of_view(view: View) -> dict[str, str]:
    """Machine name -> current state string, for a view."""
    return {name: t.state_of(view) for name, t in _TABLES.items()}


def machine_states(model: LifecycleModel, state: World, index: int) -> dict[str, str]:
    """Machine name -> current state string for device `index` (the device's phase, its
    server record, its AAD association, its channel empty/busy)."""
    return machine_states_of_view(make_view(model, state, index))


def enabled_rows_of_bundle(
    model: LifecycleModel, bundle: Bundle, index: int = 0
) -> list[tuple[Row, Any]]:
    """The enabled (row, arg) pairs of one device slice, in table order."""
    view = view_of_bundle(model, bundle, index)
    routes = device.all_routes(view)
    routed = device.ROUTED_TRIGGERS
    out: list[tuple[Row, Any]] = []
    for table in _TABLE_LIST:
        for r in table.rows_from(table.state_of(view)):
            if r.trigger in routed:
                # Receive rows: the routing decided which row takes each message.
                for arg in routes.get(r.trigger, ()):
                    out.append((r, arg))
            elif r.guard is None or r.guard(view):
                if r.choices is None:
                    out.append((r, None))
                else:
                    out.extend((r, arg) for arg in r.choices(view))
    return out


def enabled_rows(model: LifecycleModel, state: World, index: int) -> list[tuple[Row, Any]]:
    """The enabled (row, arg) pairs for device `index` in `state`, in table order."""
    bundle = (state.device[index], state.server[index], state.directory[index], state.net[index])
    return enabled_rows_of_bundle(model, bundle, index)


def fire(view: View, r: Row, arg: Any) -> None:
    """Fire row `r` with `arg` on a view: the effect, then the row's `dest`. The caller
    has checked that the row is enabled."""
    view.arg = arg
    if r.effect is not None:
        r.effect(view)
    if r.dest is not None:
        table_of(r.trigger).set_state(view, r.dest)
    view.arg = None


def apply_row(
    model: LifecycleModel, state: World, index: int, r: Row | str, arg: Any = None
) -> World:
    """The engine state after row `r` (a Row or a trigger) fires for device `index`
    with `arg`. Raises ValueError when the row is not enabled with that argument."""
    rr = row(r) if isinstance(r, str) else r
    view = make_view(model, state, index)
    if not rr.fires_from(table_of(rr.trigger).state_of(view)) or arg not in list(rr.args(view)):
        raise ValueError(f"{rr.trigger}({arg!r}) is not enabled for device {index}")
    fire(view, rr, arg)
    return commit(state, view)


# ------------------------------------------------------------------ compiled path
# A compiled row: (position, row, trigger, guard, choices, effect, dest, set_state,
# stimulus): the row's fields looked up once, and its position among the candidate
# rows of its combination of machine states (table order).
_Compiled = tuple[Any, ...]
_STATE_OF = tuple(t.state_of for t in _TABLE_LIST)
_DEVICE_STATE, _SERVER_STATE, _DIRECTORY_STATE, _NETWORK_STATE = _STATE_OF
# Machine states (device, server, directory, network) -> (the candidate rows that are
# not receive rows, in table order; the candidate receive rows by trigger). A receive
# row takes the arguments the routing gives its trigger (`device.all_routes`), so the
# routing's few entries are looked up rather than every receive row tried; the routing
# reads the messages in flight and the package held by the server, so with neither
# there is nothing to route.
_CANDIDATES: dict[tuple[str, ...], tuple[tuple[_Compiled, ...], dict[str, _Compiled]]] = {}


def _first(item: tuple[Any, ...]) -> Any:
    return item[0][0]


def _candidates(key: tuple[str, ...]) -> tuple[tuple[_Compiled, ...], dict[str, _Compiled]]:
    """The candidate rows of a combination of machine states (memoised)."""
    found = _CANDIDATES.get(key)
    if found is None:
        every = [
            (r, t) for t, state in zip(_TABLE_LIST, key, strict=True) for r in t.rows_from(state)
        ]
        compiled = [
            (i, r, r.trigger, r.guard, r.choices, r.effect, r.dest, t.set_state, r.stimulus)
            for i, (r, t) in enumerate(every)
        ]
        routed = device.ROUTED_TRIGGERS
        found = (
            tuple(c for c in compiled if c[2] not in routed),
            {c[2]: c for c in compiled if c[2] in routed},
        )
        _CANDIDATES[key] = found
    return found


def slice_steps(
    model: LifecycleModel, bundle: Bundle
) -> tuple[tuple[tuple[str, Any, Bundle], ...], bool]:
    """The compiled interpreter: the enabled ``(trigger, arg, next slice)`` of one device
    slice, in table order (the rows and arguments of `enabled_rows_of_bundle`, each
    fired as `fire` fires it), and whether the slice is quiet (only stimulus
    rows are enabled)."""
    dev, srv, dirc, net = bundle
    view = View(dev, srv, dirc, net, model.design, model.scope)
    key = (_DEVICE_STATE(view), _SERVER_STATE(view), _DIRECTORY_STATE(view), _NETWORK_STATE(view))
    found = _CANDIDATES.get(key)
    if found is None:
        found = _candidates(key)
    enabled: list[tuple[_Compiled, Any]] = []
    add = enabled.append
    for c in found[0]:
        if c[3] is None or c[3](view):
            if c[4] is None:
                add((c, None))
            else:
                for arg in c[4](view):
                    add((c, arg))
    if net.in_flight or srv.held:
        # Receive rows: the routing decided which row takes each message.
        receivers = found[1]
        merged = False
        for trigger, args in device.all_routes(view).items():
            receiver = receivers.get(trigger)
            if receiver is not None:
                for arg in args:
                    add((receiver, arg))
                merged = True
        if merged:
            enabled.sort(key=_first)  # back to table order (stable: args keep theirs)
    steps: list[tuple[str, Any, Bundle]] = []
    quiet = True
    for c, arg in enabled:
        # Fire (as `fire` does) on the reused view, reset to the slice.
        view.device, view.server, view.directory, view.net = dev, srv, dirc, net
        view._routes = None
        view.arg = arg
        if c[5] is not None:
            c[5](view)
        if c[6] is not None:
            c[7](view, c[6])
        view.arg = None
        steps.append((c[2], arg, (view.device, view.server, view.directory, view.net)))
        if not c[8]:
            quiet = False
    return tuple(steps), quiet


def action_of(r: Row, index: int, arg: Any) -> tuple[Any, ...]:
    """The engine action for a row firing: ``(trigger, device)`` or with the arg."""
    return (r.trigger, index) if arg is None else (r.trigger, index, arg)
