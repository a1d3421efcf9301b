"""The ``kvm`` accelerator: opens /dev/kvm, checks its API and creates the VM.

vCPUs, memory slots and the in-kernel irqchip are set up by the board and
the vCPU layer on top of the :class:`~pyqemu.accel.kvm.vm.KvmVm` made here.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, Any

from pyqemu.accel.accel import AccelState
from pyqemu.qom.object import register_type
from pyqemu.qom.property import INT, UINT32, enum_kind
from pyqemu.util.errors import ConfigError, KvmError

if TYPE_CHECKING:
    from pyqemu.accel.kvm.system import Kvm
    from pyqemu.accel.kvm.vm import KvmVm
    from pyqemu.hw.core.machine import MachineState

KERNEL_IRQCHIP = enum_kind("OnOffSplit", ["on", "off", "split"])

#: (property, kind, attribute, default, description): QEMU's; pyqemu takes only the defaults yet.
_PROPERTIES = (
    ("kernel-irqchip", KERNEL_IRQCHIP, "kernel_irqchip", "on", "Configure KVM in-kernel irqchip"),
    ("kvm-shadow-mem", INT, "shadow_mem", -1, "KVM shadow MMU size"),
    ("dirty-ring-size", UINT32, "dirty_ring_size", 0,
     "Size of KVM dirty page ring buffer (default: 0, i.e. use bitmap)"),
)


def _only_default(name: str, attr: str, default: object) -> Any:
    """A setter that takes the default and refuses, clearly, what pyqemu does not implement."""

    def set_value(accel: Any, value: object) -> None:
        if value != default:
            raise ConfigError(
                f"kvm-accel property '{name}' other than {default} is not implemented in pyqemu yet"
            )
        setattr(accel, attr, value)

    return set_value


@register_type
class KvmAccel(AccelState):
    TYPE = "kvm-accel"
    NAME = "kvm"
    DISPLAY_NAME = "KVM"

    @classmethod
    def class_init(cls) -> None:
        for name, kind, attr, default, description in _PROPERTIES:
            cls.class_property_add(
                name, kind, lambda a, attr=attr: getattr(a, attr), _only_default(name, attr, default),
                description=description,
            )

    def __init__(self) -> None:
        super().__init__()
        self.kernel_irqchip = "on"
        self.shadow_mem = -1
        self.dirty_ring_size = 0
        self.kvm: Kvm | None = None
        self.vm: KvmVm | None = None

    def init_machine(self, machine: MachineState) -> None:
        from pyqemu.accel.kvm.system import Kvm

        try:
            self.kvm = Kvm()
            self.vm = self.kvm.create_vm()
        except KvmError as err:
            self.close()
            cause = err.__cause__
            code = cause.errno if isinstance(cause, OSError) and cause.errno else errno.EINVAL
            # QEMU prints the reason bare on stderr, then the accelerator's error.
            raise KvmError(f"failed to initialize kvm: {os.strerror(code)}", preface=err.desc) from err

    def supports_smm(self) -> bool:
        """Whether the host's KVM runs guests in SMM (``KVM_CAP_X86_SMM``)."""
        from pyqemu.accel.kvm.constants import Cap

        return self.vm is not None and bool(self.vm.check_extension(Cap.X86_SMM))

    def close(self) -> None:
        if self.vm is not None:
            self.vm.close()
            self.vm = None
        if self.kvm is not None:
            self.kvm.close()
            self.kvm = None
