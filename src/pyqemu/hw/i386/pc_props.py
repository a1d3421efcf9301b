"""The PC boards' machine properties (QEMU 7.2's ``pc_machine_class_init`` / ``pc_machine_initfn``).

Class properties appear in ``-M pc,help``; instance properties (NVDIMM,
CXL, the speaker's audio backend) only in ``qom-list /machine``, as in QEMU,
which adds them when the machine object is made.  Those pyqemu cannot
honour keep QEMU's type and default and refuse other values (see
:mod:`pyqemu.hw.core.machine_props`); invalid values get QEMU's own texts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyqemu.hw.core.machine_props import (
    KEYVAL_SIZE,
    ListKind,
    attr_getter,
    attr_setter,
    default_only_setter,
    str_getter,
)
from pyqemu.qom.property import BOOL, INT, STR, ObjectProperty, StructKind, enum_kind
from pyqemu.util.errors import ConfigError
from pyqemu.util.units import GiB, MiB

if TYPE_CHECKING:
    from pyqemu.hw.i386.pc import PCMachineState

DEFAULT_MAX_FW_SIZE = 8 * MiB
#: Firmware larger than this overlaps the chipset's MMIO below 4 GiB.
MAX_FW_SIZE_LIMIT = 16 * MiB
MAX_RAM_BELOW_4G_LIMIT = 4 * GiB
#: Below this much RAM under 4 GiB, firmware may not fit: QEMU warns.
MIN_RAM_BELOW_4G = 1 * MiB
SMBIOS_ENTRY_POINT_TYPE = enum_kind("SmbiosEntryPointType", ("32", "64"))
NVDIMM_PERSISTENCE = ("cpu", "mem-ctrl")
#: A CXL fixed memory window's size must be a multiple of this.
CXL_FMW_ALIGN = 256 * MiB
#: Target counts the CXL decoders can interleave across (their "interleave ways").
CXL_INTERLEAVE_WAYS = (1, 2, 3, 4, 6, 8, 12, 16)
#: Interleave granularities in bytes: 256 B to 16 KiB, powers of two.
CXL_GRANULARITIES = tuple(256 << shift for shift in range(7))

CXL_FMW_LIST = ListKind(
    StructKind("CXLFixedMemoryWindow", (
        ("targets", ListKind(STR, "str")),
        ("size", KEYVAL_SIZE),
        ("interleave-granularity", KEYVAL_SIZE),
    ), required=frozenset({"targets", "size"})),
    "CXLFixedMemoryWindow",
)

#: Board switches: (name, attribute, default, description or None where QEMU has none).
BOOL_PROPS = (
    ("i8042", "i8042", True, None),
    ("hpet", "hpet", True, "Whether to create the high precision event timer"),
    ("sata", "sata", True, "Whether to create the SATA (AHCI) controller"),
    ("smbus", "smbus", True, "Whether to create the SMBus controller"),
    ("default-bus-bypass-iommu", "default_bus_bypass_iommu", False, None),
)


def pc_class_properties(cls: type[PCMachineState]) -> None:
    """Declare the PC boards' class properties (called from their ``class_init``)."""
    for name, attr, _default, desc in BOOL_PROPS:
        cls.class_property_add(name, BOOL, attr_getter(attr), attr_setter(attr), description=desc)
    cls.class_property_add(
        "max-ram-below-4g", KEYVAL_SIZE, attr_getter("max_ram_below_4g"), _set_max_ram_below_4g,
        description="Maximum ram below the 4G boundary (32bit boundary)",
    )
    cls.class_property_add(
        "max-fw-size", KEYVAL_SIZE, attr_getter("max_fw_size"), _set_max_fw_size,
        description="Largest combined size of the flash firmware images (16 MiB at most)",
    )
    cls.class_property_add(
        "smbios-entry-point-type", SMBIOS_ENTRY_POINT_TYPE, attr_getter("smbios_entry_point_type"),
        default_only_setter("smbios-entry-point-type", "smbios_entry_point_type", "32"), type="str",
        description="SMBIOS entry point format, 32 or 64 (pyqemu builds no SMBIOS: only 32)",
    )
    cls.class_property_add(
        "device-memory-region-size", INT, lambda m: m.device_memory_size, type="int",
    )


def pc_instance_properties(machine: PCMachineState) -> None:
    """Give a new PC machine the properties QEMU adds per instance: NVDIMM, CXL, speaker audio."""
    for _name, attr, default, _desc in BOOL_PROPS:
        setattr(machine, attr, default)
    machine.max_ram_below_4g = 0
    machine.max_fw_size = DEFAULT_MAX_FW_SIZE
    machine.smbios_entry_point_type = "32"
    machine.nvdimm = machine.cxl = False
    machine.nvdimm_persistence = None
    machine.cxl_fmw = []
    for prop in (
        ObjectProperty("nvdimm", "bool", BOOL, attr_getter("nvdimm"),
                       default_only_setter("nvdimm", "nvdimm", False),
                       description="Whether to support NVDIMM devices (pyqemu has none: only off)"),
        ObjectProperty("nvdimm-persistence", "string", STR, str_getter("nvdimm_persistence"),
                       _set_nvdimm_persistence,
                       description="What keeps NVDIMM writes persistent: cpu or mem-ctrl"),
        ObjectProperty("cxl", "bool", BOOL, attr_getter("cxl"), default_only_setter("cxl", "cxl", False),
                       description="Whether to support CXL host bridges (pyqemu has none: only off)"),
        ObjectProperty("cxl-fmw", CXL_FMW_LIST.qom_type, CXL_FMW_LIST, attr_getter("cxl_fmw"),
                       _set_cxl_fmw, description="CXL fixed memory windows (a list)"),
    ):
        machine.property_add(prop)
    _speaker_init(machine)


def _speaker_init(machine: PCMachineState) -> None:
    """The PC speaker exists from the start so that ``pcspk-audiodev`` can name its backend."""
    from pyqemu.hw.audio.pcspk import PCSpkState
    from pyqemu.hw.isa.isa_bus import isa_new

    speaker = isa_new(PCSpkState.TYPE)
    assert isinstance(speaker, PCSpkState)
    machine.pcspk = speaker
    machine.add_alias("pcspk-audiodev", speaker, "audiodev")


# -- setters --------------------------------------------------------------------------------


def _set_max_ram_below_4g(machine: Any, value: int) -> None:
    if value > MAX_RAM_BELOW_4G_LIMIT:
        raise ConfigError(
            f"Machine option 'max-ram-below-4g={value}' expects size less than or equal to 4G"
        )
    if value < MIN_RAM_BELOW_4G:
        machine.warn(
            f"Only {value} bytes of RAM below the 4GiB boundary,BIOS may not work with less than 1MiB"
        )
    machine.max_ram_below_4g = value


def _set_max_fw_size(machine: Any, value: int) -> None:
    # QEMU's text, typos included.
    if value > MAX_FW_SIZE_LIMIT:
        raise ConfigError(
            f"User specified max allowed firmware size {value} is greater than 16MiB. If combined "
            "firwmare size exceeds 16MiB the system may not boot, or experience intermittent"
            "stability issues."
        )
    machine.max_fw_size = value


def _set_nvdimm_persistence(machine: Any, value: str) -> None:
    if value not in NVDIMM_PERSISTENCE:
        raise ConfigError(f"-machine nvdimm-persistence={value}: unsupported option")
    machine.nvdimm_persistence = value


def _set_cxl_fmw(machine: Any, windows: list[dict[str, Any]]) -> None:
    """Check each window as QEMU does when it is given; they only matter with ``cxl=on``."""
    for window in windows:
        ways = len(window["targets"])
        if ways not in CXL_INTERLEAVE_WAYS:
            raise ConfigError(f"Interleave ways: {ways} not supported")
        if window["size"] % CXL_FMW_ALIGN:
            raise ConfigError("Size of a CXL fixed memory window must my a multiple of 256MiB")
        granularity = window.get("interleave-granularity")
        if granularity is not None and granularity not in CXL_GRANULARITIES:
            raise ConfigError(f"Interleave granularity: {granularity} invalid")
    machine.cxl_fmw = windows
