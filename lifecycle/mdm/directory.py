"""Azure AD (the directory): the device's association and, through it, the tenant's
admin users on the device.

The machine state is `Directory.association`: "none", "joined" (Azure AD join: the
tenant's admin users administer the device; once the association is removed, only a
non-tenant local admin is left, F51, which is why a reference server checks for one
before a remote unenroll) or "registered" (Azure AD registered, "add a work account":
F20, F43).

Azure AD acts on no state of its own in this model: every change of the association is
made by a device row and declared in that row's ``also`` (the join, F86; the user
leaving Azure AD, F43; the wipe, F52; the last step of a remote unenroll, F50), so
this table has states and no rows, and its diagram is drawn from those declarations.
"""

from __future__ import annotations

from lifecycle.mdm.state import Directory
from lifecycle.mdm.table import DeviceView, Table

ASSOCIATIONS = ("none", "joined", "registered")


def directory_state(v: DeviceView) -> str:
    """The directory machine's state: the association."""
    return v.directory.association


def set_directory_state(v: DeviceView, state: str) -> None:
    """Set the association (used to apply another row's ``also``)."""
    v.directory = Directory(state)


TABLE = Table(
    machine="directory",
    description="Azure AD: the device's association and the tenant admin users.",
    states=ASSOCIATIONS,
    state_of=directory_state,
    set_state=set_directory_state,
    rows=(),
)
