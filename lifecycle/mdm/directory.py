"""Azure AD (the directory): the device's AAD association and, through it, the tenant's
admin users on the device.

The machine state is `Directory.association`. While the device is joined, the
tenant's admin users administer it; when the association is removed, only a
non-tenant local admin is left (F51), which is why a reference server checks for one
before a remote unenroll. Other rows that change the association live in the device
table and list ``"directory"`` in `touches`: the user leaving Azure AD
(`UserLeavesAzureAD`, F43) and the wipe (`ReceiveWipe`, F52).
"""

from __future__ import annotations

from lifecycle.mdm.state import Directory
from lifecycle.mdm.table import Row, Table, View

ASSOCIATIONS = ("none", "joined")


def joining(v: View) -> bool:
    """An Azure AD join enrollment is under way and the device is not joined yet (the
    join comes first and triggers the MDM enrollment, F86)."""
    d = v.device
    return d.phase == "enrolling" and d.kind == "aad_join"


def remote_unenroll_at_aad_step(v: View) -> bool:
    """The device reached the AAD step of a remote unenroll's cleanup (F50)."""
    return v.device.phase == "cleanup_aad"


def finish_cleanup(v: View) -> None:
    """The association is gone; the device is dormant (F36, F50)."""
    v.device = v.device._replace(phase="dormant")


def directory_state(v: View) -> str:
    """The directory machine's state: the association."""
    return v.directory.association


def set_directory_state(v: View, state: str) -> None:
    """Set the association (used to apply a row's `dest`)."""
    v.directory = Directory(state)


ROWS = (
    Row(
        "JoinAzureAD",
        "directory",
        ("none",),
        "joined",
        "aad",
        ("F43", "F53", "F86"),
        "the device joins Azure AD; the tenant's admin users become its admins",
        guard=joining,
    ),
    Row(
        "RemoveAADAssociation",
        "directory",
        ("joined",),
        "none",
        "aad",
        ("F50", "F51", "A16"),
        "the remote unenroll removes the AAD association; the device is dormant",
        guard=remote_unenroll_at_aad_step,
        effect=finish_cleanup,
        touches=("device",),
    ),
)

TABLE = Table(
    machine="directory",
    description="Azure AD: the device's association and the tenant admin users.",
    states=ASSOCIATIONS,
    state_of=directory_state,
    set_state=set_directory_state,
    rows=ROWS,
)
