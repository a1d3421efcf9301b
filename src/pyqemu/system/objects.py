"""``-object``: user-creatable objects, created early or late as QEMU decides.

Most objects are created before the machine (they are backends); those that
need the accelerator or the network (memory backends above all) are created
in late creation, as QEMU 7.2's ``object_create_early`` says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.qom.object_interfaces import user_creatable_add_dict, user_creatable_qom_type
from pyqemu.util.errors import location

if TYPE_CHECKING:
    from pyqemu.system.emulator import Emulator

_LATE_PREFIXES = ("memory-backend-", "pr-manager-", "filter-")
_LATE_TYPES = frozenset({"rng-egd", "colo-compare", "cryptodev-vhost-user"})


def created_early(qom_type: str) -> bool:
    """Whether ``-object qom_type`` is created before the machine."""
    return not (qom_type.startswith(_LATE_PREFIXES) or qom_type in _LATE_TYPES)


def create_objects(vm: Emulator, *, early: bool) -> None:
    """Create the ``-object``s of one half, in command-line order."""
    assert vm.config is not None
    for item in vm.config.objects:
        with location(item.location):
            if created_early(user_creatable_qom_type(item.value)) == early:
                user_creatable_add_dict(vm.root, item.value, from_text=True)
