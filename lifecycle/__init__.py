"""mdm-lifecycle: the Windows MDM lifecycle as explicit state machines, model-checked.

Rooms (arrows point one way): `cli -> render/syncml/testing -> mdm -> engine`.
`lifecycle.engine` is a generic explicit-state checker that knows nothing about MDM.
"""

__version__ = "0.1.0"
