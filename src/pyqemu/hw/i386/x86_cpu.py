"""x86 CPU objects: the QOM types behind ``-cpu`` (``qemu64``, ``max``, ``host``).

A CPU is a device (abstract ``cpu``, then abstract ``x86_64-cpu``) that
boards create one per ``-smp`` CPU and realize without a parent, so it
lands at ``/machine/unattached/device[N]`` as in QEMU.  Each model is the
type ``MODEL-x86_64-cpu``; :attr:`X86CPU.DESCRIPTION` is what ``-cpu help``
prints beside it.  Running vCPUs (registers, CPUID) belongs to the
accelerator; this is only the object model and the topology ids.
"""

from __future__ import annotations

from typing import ClassVar

from pyqemu.hw.core.qdev import DeviceState, qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_int32, prop_uint32
from pyqemu.qom.object import concrete_class, register_type
from pyqemu.util.errors import ConfigError

TYPE_CPU = "cpu"
TYPE_X86_CPU = "x86_64-cpu"
X86_CPU_SUFFIX = "-" + TYPE_X86_CPU
UNASSIGNED_APIC_ID = 0xFFFFFFFF
#: Accelerators that can run ``-cpu host``.
HOST_CPU_ACCELS = ("kvm", "hvf")


def x86_cpu_type_name(model: str) -> str:
    """``qemu64`` -> ``qemu64-x86_64-cpu`` (``x86_cpu_type_name``)."""
    return model + X86_CPU_SUFFIX


def x86_cpu_class_by_name(model: str) -> str:
    """The QOM type of CPU model ``model``, or QEMU's error if there is none."""
    typename = x86_cpu_type_name(model)
    if concrete_class(typename, X86CPU) is None:
        raise ConfigError(f"unable to find CPU model '{model}'")
    return typename


@register_type
class CPUState(DeviceState):
    """Base of every CPU (abstract ``cpu``): only boards create CPUs."""

    TYPE = TYPE_CPU
    ABSTRACT = True
    USER_CREATABLE = False

    def __init__(self) -> None:
        super().__init__()
        #: Index among the machine's CPUs (QEMU's ``cpu_index``).
        self.cpu_index = 0


@register_type
class X86CPU(CPUState):
    """Base of x86 CPU models (abstract ``x86_64-cpu``)."""

    TYPE = TYPE_X86_CPU
    ABSTRACT = True
    DESCRIPTION: ClassVar[str | None] = None
    #: Accelerators this model needs (``host``: KVM); empty means any.
    REQUIRED_ACCELS: ClassVar[tuple[str, ...]] = ()
    PROPERTIES = (
        prop_uint32("apic-id", default=UNASSIGNED_APIC_ID),
        prop_int32("node-id", default=-1),
        prop_int32("socket-id", default=-1),
        prop_int32("die-id", default=-1),
        prop_int32("core-id", default=-1),
        prop_int32("thread-id", default=-1),
    )

    @classmethod
    def model_name(cls) -> str:
        return cls.TYPE.removesuffix(X86_CPU_SUFFIX)

    def realize(self) -> None:
        if self.REQUIRED_ACCELS:
            machine = qdev_get_machine(self)
            accel = getattr(machine, "accelerator", None)
            if accel is None or getattr(accel, "NAME", None) not in self.REQUIRED_ACCELS:
                raise ConfigError(f"CPU model '{self.model_name()}' requires KVM or HVF")
        self._address_space_init()
        self._apic_init()

    def reset(self) -> None:
        """CPU 0 is the bootstrap processor (``x86_cpu_reset_hold``); registers come with vCPUs."""
        from pyqemu.hw.intc.apic import apic_designate_bsp

        apic = getattr(self, "apic", None)
        if apic is not None:
            apic_designate_bsp(apic, getattr(self, "cpu_index", 0) == 0)

    def _apic_init(self) -> None:
        """The local APIC, child ``lapic``; the first one maps the MSI window (``x86_cpu_apic_realize``)."""
        from pyqemu.hw.intc.apic import apic_create, apic_realize

        if qdev_get_machine(self) is None:
            return
        apic = apic_create(self, self.apic_id)  # type: ignore[attr-defined]
        apic_realize(apic)
        self.apic = apic

    def _address_space_init(self) -> None:
        """The CPU's view of memory, ``cpu-memory-N`` (``qemu_init_vcpu``'s default address space)."""
        memory = getattr(qdev_get_machine(self), "memory_system", None)
        if memory is not None:
            index = getattr(self, "cpu_index", 0)
            self.address_space = memory.address_space_init(memory.system_memory, f"cpu-memory-{index}")


@register_type
class Qemu64CPU(X86CPU):
    """The default model of the PC boards."""

    TYPE = "qemu64-x86_64-cpu"
    DESCRIPTION = "QEMU Virtual CPU version 2.5+"


@register_type
class MaxCPU(X86CPU):
    """Every feature the accelerator can offer."""

    TYPE = "max-x86_64-cpu"
    DESCRIPTION = "Enables all features supported by the accelerator in the current host"


@register_type
class HostCPU(MaxCPU):
    """The host CPU passed through; only with KVM."""

    TYPE = "host-x86_64-cpu"
    DESCRIPTION = "processor with all supported host features "
    REQUIRED_ACCELS = HOST_CPU_ACCELS
