"""The machine base type: what every board has (QEMU's ``MachineState`` / ``MachineClass``).

A board is a subclass that sets the class attributes below (QEMU's
``MachineClass`` fields) and overrides :meth:`MachineState.init`, which runs
in board init and builds CPUs, RAM, buses and on-board devices (seed ``001_…``).
Its QOM type is ``NAME + "-machine"``; versioned boards (``pc-i440fx-7.1``) are
subclasses that add ``COMPAT_PROPS``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pyqemu.hw.core.machine_props import (
    KEYVAL_SIZE,
    attr_getter,
    attr_setter,
    class_link_add,
    default_only_setter,
    not_implemented,
    str_getter,
)
from pyqemu.hw.core.machine_smp import CpuTopology, SmpLimits, parse_smp_config
from pyqemu.qom.object import (
    Container,
    Object,
    container_get,
    object_class_by_name,
    object_class_get_list,
    register_type,
)
from pyqemu.qom.property import BOOL, INT, STR, UINT64, StructKind
from pyqemu.util.errors import ConfigError
from pyqemu.util.module import module_load_qom
from pyqemu.util.units import MiB

if TYPE_CHECKING:
    from pyqemu.util.main_loop import MainLoop

MACHINE_SUFFIX = "-machine"
TYPE_CONFIDENTIAL_GUEST_SUPPORT = "confidential-guest-support"
TYPE_MEMORY_BACKEND = "memory-backend"


class WakeupReason(enum.StrEnum):
    """Why a suspended guest wakes (QEMU's ``WakeupReason``)."""

    RTC = "rtc"
    PMTIMER = "pmtimer"
    OTHER = "other"


class MachineHost(Protocol):
    """What devices may ask of the emulator that runs their machine (``machine.host``).

    The system layer provides it (the Emulator); device models see only this.
    """

    main_loop: MainLoop | None
    #: The ``-rtc`` settings (base time, clock, drift fix), or None for the defaults.
    rtc: Any

    def emit_event(self, name: str, data: dict[str, Any] | None = None) -> None:
        """Send a QMP event."""

    def warn(self, text: str) -> None:
        """Print a warning as QEMU's ``warn_report``."""

    def guest_reset(self) -> None:
        """The guest asked for a reset (keyboard controller, reset register)."""

    def guest_exit(self, status: int) -> None:
        """End the emulator now with ``status`` (``isa-debug-exit``)."""

    def guest_shutdown(self) -> None:
        """The guest powered itself off (ACPI S5)."""

    def guest_suspend(self) -> None:
        """The guest entered suspend-to-RAM (ACPI S3)."""

    def wakeup_enable(self, reason: WakeupReason, enabled: bool) -> None:
        """Whether wake-up ``reason`` may wake the guest."""

    def wakeup(self, reason: WakeupReason) -> None:
        """A wake-up event: wake the guest if it is suspended and ``reason`` is enabled."""

SMP_CONFIGURATION = StructKind(
    "SMPConfiguration",
    tuple((name, UINT64) for name in ("cpus", "sockets", "dies", "clusters", "cores", "threads", "maxcpus")),
)
MEMORY_SIZE_CONFIGURATION = StructKind(
    "MemorySizeConfiguration", (("size", KEYVAL_SIZE), ("max-size", KEYVAL_SIZE), ("slots", UINT64))
)
BOOT_CONFIGURATION = StructKind(
    "BootConfiguration",
    (("order", STR), ("once", STR), ("menu", BOOL), ("splash", STR), ("splash-time", INT),
     ("reboot-timeout", INT), ("strict", BOOL)),
)

#: Plain string / bool properties every machine has: (name, kind, attribute, description).
_SIMPLE_PROPERTIES = (
    ("kernel", STR, "kernel_filename", "Linux kernel image to boot directly"),
    ("initrd", STR, "initrd_filename", "Initial RAM disk for the directly booted kernel"),
    ("append", STR, "kernel_cmdline", "Command line for the directly booted kernel"),
    ("dtb", STR, "dtb", "Device tree blob to hand to the guest"),
    ("dumpdtb", STR, "dumpdtb", "Write the generated device tree to this file and exit"),
    ("firmware", STR, "firmware", "Firmware image to load"),
    ("dt-compatible", STR, "dt_compatible", "Value for the device tree root's \"compatible\""),
    ("dump-guest-core", BOOL, "dump_guest_core", "Whether guest RAM goes into core dumps"),
    ("mem-merge", BOOL, "mem_merge", "Whether the host may merge identical guest pages"),
    ("graphics", BOOL, "graphics", "Whether to emulate a graphics device"),
    ("suppress-vmdesc", BOOL, "suppress_vmdesc", "Leave the VM description out of migration data"),
    ("phandle-start", INT, "phandle_start", "First phandle the device tree generator may use"),
)
#: Properties pyqemu cannot honour: (name, kind, attribute, the only value it accepts, description).
_DEFAULT_ONLY_PROPERTIES = (
    ("usb", BOOL, "usb", False, "Whether to create a USB controller (pyqemu has none: only off)"),
)
#: The keys of ``qom-get /machine smp``, from the parsed topology.
_SMP_KEYS = (("cpus", "cpus"), ("maxcpus", "max_cpus"), ("threads", "threads"), ("cores", "cores"),
             ("dies", "dies"), ("sockets", "sockets"), ("clusters", "clusters"))


@register_type
class MachineState(Object):
    """Base of every board (abstract type ``machine``)."""

    TYPE = "machine"
    ABSTRACT = True

    NAME: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    ALIAS: ClassVar[str | None] = None
    IS_DEFAULT: ClassVar[bool] = False
    #: Versions of one board share a family; ``-M help`` lists families first (QEMU's ``family``).
    FAMILY: ClassVar[str | None] = None
    DEPRECATION_REASON: ClassVar[str | None] = None
    DEFAULT_RAM_SIZE: ClassVar[int] = 128 * MiB
    DEFAULT_RAM_ID: ClassVar[str | None] = None
    DEFAULT_CPU_TYPE: ClassVar[str | None] = None
    MIN_CPUS: ClassVar[int] = 1
    MAX_CPUS: ClassVar[int] = 1
    SMP_DIES: ClassVar[bool] = False
    SMP_PREFER_SOCKETS: ClassVar[bool] = False
    #: Default devices this board does not want (QEMU's ``no_serial`` … flags).
    NO_SERIAL: ClassVar[bool] = False
    NO_PARALLEL: ClassVar[bool] = False
    NO_FLOPPY: ClassVar[bool] = False
    NO_CDROM: ClassVar[bool] = False
    HAS_DEFAULT_DISPLAY: ClassVar[bool] = False
    #: ``(driver, property, value)`` triples applied like ``-global`` for old versions.
    COMPAT_PROPS: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    #: The boot order ``-boot`` starts from (QEMU's ``default_boot_order``).
    DEFAULT_BOOT_ORDER: ClassVar[str] = ""

    @classmethod
    def class_init(cls) -> None:
        for name, kind, attr, desc in _SIMPLE_PROPERTIES:
            getter = str_getter(attr) if kind is STR else attr_getter(attr)
            cls.class_property_add(
                name, kind, getter, attr_setter(attr), description=desc,
                type="string" if kind is STR else ("int" if kind is INT else None),
            )
        for name, kind, attr, default, desc in _DEFAULT_ONLY_PROPERTIES:
            cls.class_property_add(
                name, kind, attr_getter(attr), default_only_setter(name, attr, default), description=desc
            )
        cls.class_property_add(
            "memory-encryption", STR, MachineState._get_memory_encryption,
            MachineState._set_memory_encryption, type="string",
            description="Id of the confidential guest support object (older form of the link)",
        )
        class_link_add(
            cls, "confidential-guest-support", TYPE_CONFIDENTIAL_GUEST_SUPPORT,
            lambda m: m.cgs, MachineState._set_cgs,
            "Confidential guest technology the guest runs under (pyqemu has none)",
        )
        class_link_add(
            cls, "memory-backend", TYPE_MEMORY_BACKEND, MachineState._ram_backend,
            lambda m, backend: setattr(m, "memory_backend", backend),
            "Id of the memory backend to use as guest RAM",
        )
        cls.class_property_add(
            "smp", SMP_CONFIGURATION, MachineState._get_smp, MachineState._set_smp,
            description="CPU topology",
        )
        cls.class_property_add(
            "memory", MEMORY_SIZE_CONFIGURATION, MachineState._get_memory, MachineState._set_memory,
            description="Memory size configuration",
        )
        cls.class_property_add(
            "boot", BOOT_CONFIGURATION, MachineState._get_boot, MachineState._set_boot,
            description="Boot configuration",
        )

    def __init__(self) -> None:
        super().__init__()
        self.kernel_filename = self.initrd_filename = self.kernel_cmdline = None
        self.dtb = self.dumpdtb = self.firmware = self.dt_compatible = None
        #: The confidential guest support object (never set: pyqemu has no such type).
        self.cgs: Object | None = None
        self.dump_guest_core = self.mem_merge = self.graphics = True
        self.usb = False
        self.suppress_vmdesc = False
        self.phandle_start = 0
        self.smp_config: dict[str, int] = {}
        self.smp = CpuTopology()
        self.ram_size = type(self).DEFAULT_RAM_SIZE
        self.maxram_size = self.ram_size
        self.ram_slots = 0
        self.memory_config: dict[str, Any] = {"size": self.ram_size}
        self.boot_config: dict[str, Any] = {}
        self.memory_backend: Object | None = None
        #: Guest RAM (a region of the RAM backend), made before board init; None without RAM.
        self.ram: Any = None
        #: Backends of ``-serial`` (None for ``none``), for the board's serial ports (QEMU's ``serial_hd``).
        self.serial_chardevs: list[Any] = []
        self.cpu_type: str | None = type(self).DEFAULT_CPU_TYPE
        #: ``(driver, property, value)`` from compat props and ``-global``, in order.
        self.global_props: list[tuple[str, str, str]] = []
        #: Called once every device exists (QEMU's machine init-done notifiers).
        self.init_done_notifiers: list[Any] = []
        #: Called after the POWERDOWN event of ``system_powerdown`` (the ACPI power button).
        self.powerdown_notifiers: list[Callable[[], None]] = []
        #: Called with the reason after a suspended guest was woken and reset.
        self.wakeup_notifiers: list[Callable[[WakeupReason], None]] = []
        #: Whether the guest can be woken from suspend (a chipset with ACPI sleep states says so).
        self.wakeup_suspend_support = False
        # What QEMU's device code keeps in process-wide variables, kept per machine here.
        #: The master i8259 (QEMU's ``isa_pic``), once made.
        self.isa_pic: Any = None
        #: The I/O APICs, in creation order (QEMU's ``ioapics[]``).
        self.ioapics: list[Any] = []
        #: The local APICs by APIC ID and the MSI window (QEMU's ``local_apics[]``), made on first use.
        self.apic_bus: Any = None
        #: What the HPETs tell firmware through fw_cfg (QEMU's ``hpet_fw_cfg``), made on first use.
        self.hpet_fw_cfg: Any = None
        self.accelerator: Object | None = None
        self.warnings: list[str] = []
        for name in ("unattached", "peripheral", "peripheral-anon"):
            child = Container()
            self.add_child(name, child)
            child.unref()
        #: Set by the system layer when the machine is created.
        self.host: MachineHost | None = None
        self.memory_system = self._create_memory_system()

    def _create_memory_system(self) -> Any:
        """The ``system`` and ``io`` regions, their address spaces, and the main system bus."""
        from pyqemu.hw.core.sysbus import sysbus_create_main
        from pyqemu.memory.address_space import MemorySystem

        memory = MemorySystem(parent=self.unattached())
        sysbus_create_main(self, memory)
        return memory

    # -- class-level facts -------------------------------------------------

    @classmethod
    def machine_name(cls) -> str:
        return cls.NAME or cls.TYPE.removesuffix(MACHINE_SUFFIX)

    @classmethod
    def smp_limits(cls) -> SmpLimits:
        return SmpLimits(
            cls.machine_name(), cls.MIN_CPUS, cls.MAX_CPUS, cls.SMP_DIES, False, cls.SMP_PREFER_SOCKETS
        )

    # -- properties --------------------------------------------------------

    def _get_smp(self) -> dict[str, int]:
        """The topology in use, every level filled in."""
        return {key: getattr(self.smp, attr) for key, attr in _SMP_KEYS}

    def _set_smp(self, config: dict[str, int]) -> None:
        self.smp = parse_smp_config(config, self.smp_limits(), self.warnings)
        self.smp_config = dict(config)

    def _get_memory(self) -> dict[str, int]:
        """The RAM size; the maximum and slots only when there are slots, as QEMU reports them."""
        memory = {"size": self.ram_size}
        if self.ram_slots:
            memory.update({"max-size": self.maxram_size, "slots": self.ram_slots})
        return memory

    def _set_memory(self, config: dict[str, Any]) -> None:
        from pyqemu.hw.core.machine_memory import apply_memory_config

        apply_memory_config(self, config)
        self.memory_config = dict(config)

    def _get_boot(self) -> dict[str, Any]:
        """``-boot`` settings over the board's default order."""
        order = [key for key, _kind in BOOT_CONFIGURATION.members]
        boot = {"order": type(self).DEFAULT_BOOT_ORDER, **self.boot_config}
        return {key: boot[key] for key in order if key in boot}

    def _set_boot(self, config: dict[str, Any]) -> None:
        self.boot_config = {**self.boot_config, **config}

    def _set_cgs(self, cgs: Object | None) -> None:
        if cgs is not None:  # unreachable while pyqemu has no confidential-guest-support type
            raise not_implemented("confidential-guest-support")
        self.cgs = None

    def _get_memory_encryption(self) -> str:
        """The id of the confidential guest support object, or ``""``."""
        if self.cgs is None:
            return ""
        return self.cgs.name_in_parent or ""

    def _set_memory_encryption(self, object_id: str) -> None:
        """The id of an ``-object``, set as the ``confidential-guest-support`` link (QEMU's old name)."""
        objects = self.root().child("objects")
        cgs = objects.child(object_id) if objects is not None else None
        if cgs is None:
            raise ConfigError(f"No such memory encryption object '{object_id}'")
        self.property_set("confidential-guest-support", cgs.canonical_path())

    def _ram_backend(self) -> Object | None:
        """The RAM backend: ``memory-backend=``, or the one the system layer made for guest RAM."""
        if self.memory_backend is not None:
            return self.memory_backend
        owner = getattr(self.ram, "owner", None)
        return owner if isinstance(owner, Object) and owner.is_a(TYPE_MEMORY_BACKEND) else None

    def warn(self, text: str) -> None:
        """A warning from the machine (QEMU's ``warn_report``): printed now, or once the emulator can."""
        if self.host is not None:
            self.host.warn(text)
        else:
            self.warnings.append(text)

    # -- the composition tree -------------------------------------------------

    def unattached(self) -> Object:
        return container_get(self, "unattached")

    def peripheral(self, anonymous: bool = False) -> Object:
        return container_get(self, "peripheral-anon" if anonymous else "peripheral")

    # -- board init ----------------------------------------------------------

    def init(self) -> None:
        """Board init: create CPUs, RAM, buses and on-board devices. Boards override."""

    def reset(self) -> None:
        """System reset (``MachineClass.reset``): every device along the bus tree; boards add to it."""
        from pyqemu.hw.core.reset import reset_machine

        reset_machine(self)


# -- the machine types, as -M help and query-machines list them --------------------------


def _load_machine_types() -> None:
    from pyqemu.modinfo import QOM_TYPES

    for name in QOM_TYPES:
        if name.endswith("-machine"):
            module_load_qom(name)


def machine_classes() -> list[Any]:
    """Every concrete machine class, in the order ``-M help`` lists them."""
    _load_machine_types()
    classes = [impl.cls for impl in object_class_get_list("machine")]
    machines = [cls for cls in classes if issubclass(cls, MachineState)]
    # QEMU's machine_class_cmp: families first, by family name, each newest first
    # (names compared as strings, descending); then the boards without a family, by name.
    standalone = sorted((c for c in machines if not c.FAMILY), key=lambda c: c.TYPE)
    family = sorted((c for c in machines if c.FAMILY), key=lambda c: c.TYPE, reverse=True)
    return sorted(family, key=lambda c: c.FAMILY) + standalone


def find_machine_class(name: str | None) -> Any:
    """The machine class ``-M name`` selects (by name or alias; None: the default), or None.

    Only the module providing that machine is loaded (through the module index).
    """
    from pyqemu.modinfo import DEFAULT_MACHINE, MACHINE_ALIASES

    if name is None:
        name = DEFAULT_MACHINE
        if name is None:
            return None
    cls = object_class_by_name(MACHINE_ALIASES.get(name, name + MACHINE_SUFFIX))
    if cls is None or not issubclass(cls, MachineState) or cls.__dict__.get("ABSTRACT", False):
        return None
    return cls
