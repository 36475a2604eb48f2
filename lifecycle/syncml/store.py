"""The records of `lifecycle serve`, in SQLite, so that they survive a restart.

What a real MDM server keeps, and no more: the tenant's MDM switch, one row per
enrollment record (the model's `Record`, a column per field the server writes, the
history's ghost fields in one JSON column that no row of the table reads), the devices
it has heard from (DevID to the device index the model's rows use) and which SessionIDs
are alert sessions (F6: a session whose package 1 carries the unenroll alert).

Every change is one transaction (`save`), so a crash leaves the table before or after a
package, never between.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from lifecycle.mdm.state import RECORD_GHOSTS, Msg, Record, Server

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenant (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    device INTEGER NOT NULL, hardware INTEGER NOT NULL, gen INTEGER NOT NULL,
    status TEXT NOT NULL, kind TEXT NOT NULL, platform TEXT NOT NULL,
    local_admin INTEGER NOT NULL, queue TEXT NOT NULL, session TEXT NOT NULL,
    held TEXT NOT NULL, pushed INTEGER NOT NULL, ghosts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (devid TEXT PRIMARY KEY, idx INTEGER UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS alert_sessions (
    idx INTEGER NOT NULL, session_id TEXT NOT NULL, PRIMARY KEY (idx, session_id)
);
"""


def _record_row(r: Record) -> tuple[Any, ...]:
    ghosts = {name: getattr(r, name) for name in RECORD_GHOSTS}
    return (
        r.device,
        r.hardware,
        r.gen,
        r.status,
        r.kind,
        r.platform,
        int(r.local_admin),
        json.dumps([list(c) for c in r.queue]),
        r.session,
        json.dumps([[i, list(m)] for i, m in r.held]),
        int(r.pushed),
        json.dumps(ghosts, sort_keys=True),
    )


def _record(row: tuple[Any, ...]) -> Record:
    dev, hw, gen, status, kind, platform, admin, queue, session, held, pushed, ghosts = row
    extra = json.loads(ghosts)
    return Record(
        device=dev,
        hardware=hw,
        gen=gen,
        status=status,
        kind=kind,
        platform=platform,
        local_admin=bool(admin),
        queue=tuple((c, g, bool(s)) for c, g, s in json.loads(queue)),
        session=session,
        held=tuple(
            (i, Msg(m[0], m[1], m[2], tuple(m[3]), m[4], m[5])) for i, m in json.loads(held)
        ),
        pushed=bool(pushed),
        **{name: extra[name] for name in RECORD_GHOSTS},
    )


class Store:
    """The server's records in the SQLite file at `path`. One connection, used under a
    lock: `lifecycle serve` answers one package at a time, as the model's server does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        # A second process on the same file waits for the lock rather than failing.
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=10
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----------------------------------------------------------------- server state
    def server(self) -> Server:
        """The MDM switch and the record table, as the model's rows read them."""
        with self._lock:
            row = self._db.execute("SELECT value FROM tenant WHERE key = 'mdm'").fetchone()
            records = self._db.execute("SELECT * FROM records").fetchall()
        return Server(
            mdm=row is None or row[0] == "on", records=tuple(sorted(map(_record, records)))
        )

    def save(self, server: Server) -> None:
        """Replace the stored server state by `server`, in one transaction."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR REPLACE INTO tenant VALUES ('mdm', ?)",
                    ("on" if server.mdm else "off",),
                )
                db.execute("DELETE FROM records")
                db.executemany(
                    "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    [_record_row(r) for r in server.records],
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ------------------------------------------------------------------ the devices
    def find_device(self, devid: str) -> int | None:
        """The index of the device with DevID `devid`, if the server has heard of it."""
        with self._lock:
            row = self._db.execute("SELECT idx FROM devices WHERE devid = ?", (devid,)).fetchone()
        return None if row is None else int(row[0])

    def bind_device(self, devid: str, index: int) -> None:
        """Give DevID `devid` the device index `index` (an enrollment that says which
        device of a counterexample it is); `ValueError` if either is bound otherwise."""
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ValueError(f"device index {index!r}: a non-negative integer")
        with self._lock:
            row = self._db.execute("SELECT idx FROM devices WHERE devid = ?", (devid,)).fetchone()
            if row is not None and int(row[0]) == index:
                return
            taken = self._db.execute("SELECT devid FROM devices WHERE idx = ?", (index,)).fetchone()
            if row is not None or taken is not None:
                raise ValueError(f"device {index} and DevID {devid!r} are bound otherwise")
            self._db.execute("INSERT INTO devices VALUES (?, ?)", (devid, index))

    def devices(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT devid, idx FROM devices ORDER BY idx").fetchall())

    def mark_alert_session(self, index: int, session_id: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO alert_sessions VALUES (?, ?)", (index, session_id)
            )

    def is_alert_session(self, index: int, session_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM alert_sessions WHERE idx = ? AND session_id = ?",
                (index, session_id),
            ).fetchone()
        return row is not None
