"""Accelerators: the QOM types behind ``-accel`` (QEMU's ``AccelState`` / ``AccelClass``).

An accelerator type is named ``NAME + "-accel"``; :meth:`AccelState.init_machine`
attaches it to the machine in the accelerator-creation stage and raises a
:class:`~pyqemu.util.errors.QemuError` worded ``failed to initialize NAME: …``
when it cannot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pyqemu.qom.object import Object, concrete_class, object_class_get_list, register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.util.main_loop import MainLoop

ACCEL_SUFFIX = "-accel"


@register_type
class AccelState(Object):
    """Base of every accelerator (abstract type ``accel``)."""

    TYPE = "accel"
    ABSTRACT = True
    #: The name ``-accel`` takes (``kvm``).
    NAME: ClassVar[str] = ""
    #: The name QEMU prints in "falling back to …" (``KVM``).
    DISPLAY_NAME: ClassVar[str] = ""
    #: Why this build cannot use it, shown by ``-accel help``; None if it can.
    UNAVAILABLE: ClassVar[str | None] = None

    def init_machine(self, machine: MachineState) -> None:
        """Attach to ``machine``; raise to refuse. Subclasses override."""

    def init_clocks(self, main_loop: MainLoop) -> None:
        """Adjust the emulator's clocks for this accelerator (qtest makes virtual time manual)."""

    def setup_post(self, machine: MachineState) -> None:
        """Last step once the machine is ready (QEMU's ``accel_setup_post``)."""

    def close(self) -> None:
        """Release what :meth:`init_machine` acquired."""

    def supports_smm(self) -> bool:
        """Whether guests get System Management Mode (what ``smm=auto`` turns into): emulated ones do."""
        return True


def accel_find(name: str) -> type[AccelState] | None:
    """The accelerator class for an ``-accel`` name, or None."""
    return concrete_class(name + ACCEL_SUFFIX, AccelState)


def accel_help_text() -> str:
    """``-accel help``: a header, then one accelerator per line (tools parse it that way)."""
    from pyqemu.util.module import module_load_qom

    for name in ACCEL_NAMES:
        module_load_qom(name + ACCEL_SUFFIX)
    lines = ["Accelerators supported in QEMU binary:"]
    for impl in object_class_get_list("accel"):
        cls = impl.cls
        assert issubclass(cls, AccelState)
        lines.append(cls.NAME + (f" ({cls.UNAVAILABLE})" if cls.UNAVAILABLE else ""))
    return "\n".join(lines) + "\n"


#: Every accelerator pyqemu knows, in the order ``-accel help`` lists them.
ACCEL_NAMES = ("kvm", "qtest", "tcg")
