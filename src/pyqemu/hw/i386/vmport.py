"""The VMware backdoor (``vmport``): I/O port 0x5658, through which guest tools ask the hypervisor.

The guest loads EAX with the magic 0x564D5868 ("VMXh"), ECX with a command
number (its low byte picks the command) and other registers with arguments,
then reads the port with ``in``; the command answers in the registers, EAX
included.  Any access is a 4-byte one; a write runs the command too and puts
its result in EAX.  A wrong magic or an unknown command answers EAX =
0xffffffff (with ``x-signal-unsupported-cmd``, else EAX is left alone).

The registers only exist with a CPU, so :meth:`VmportCore.backdoor` takes
them as a dict (``eax`` … ``edi``) and changes it in place.  Without a CPU —
qtest — a read returns 0xffffffff and a write does nothing, as QEMU does.

Commands: GETVERSION (10) and GETRAMSIZE (20) always; with ``x-cmds-v2``
also GETBIOSUUID (19), GETHZ (45) and GET_VCPU_INFO (68).  The ``vmmouse``
device adds 39-41 with :meth:`VmportCore.register`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, MutableMapping

from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_bit, prop_uint8, prop_uint32
from pyqemu.hw.isa.isa_bus import IsaBus, IsaDevice, isa_create_simple, isa_register_ioport
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

TYPE_VMPORT = "vmport"
VMPORT_PORT = 0x5658
VMPORT_MAGIC = 0x564D5868
UINT32_MAX = 0xFFFFFFFF
RAM_SIZE_EBX = 0x1177  # what GETRAMSIZE puts in EBX
DEFAULT_VMX_VERSION = 6  # open-vm-tools' VERSION_MAGIC
DEFAULT_VMX_TYPE = 2  # VMware ESX Server
DEFAULT_APIC_BUS_FREQ = 1_000_000_000
VCPU_INFO_LEGACY_X2APIC = 1 << 3

#: The guest's general registers by name, 32-bit values.
Regs = MutableMapping[str, int]
#: A command: takes the registers (and the port offset), changes them, returns the new EAX.
VmportCommandFn = Callable[[Regs, int], int]


class VmportCommand(enum.IntEnum):
    GETVERSION = 10
    GETBIOSUUID = 19
    GETRAMSIZE = 20
    VMMOUSE_DATA = 39
    VMMOUSE_STATUS = 40
    VMMOUSE_COMMAND = 41
    GETHZ = 45
    GET_VCPU_INFO = 68


VMPORT_ENTRIES = VmportCommand.GET_VCPU_INFO + 1


class VmportCore:
    """The command table and the backdoor protocol.

    ``ram_size`` is the machine's RAM in bytes, ``uuid`` the 16 bytes of
    ``-uuid``; ``tsc_khz`` (0: unknown), ``apic_bus_freq`` and ``x2apic``
    describe the CPU for GETHZ and GET_VCPU_INFO.
    """

    def __init__(
        self,
        *,
        vmx_version: int = DEFAULT_VMX_VERSION,
        vmx_type: int = DEFAULT_VMX_TYPE,
        ram_size: int = 0,
        read_set_eax: bool = True,
        signal_unsupported_cmd: bool = True,
        report_vmx_type: bool = True,
        cmds_v2: bool = True,
        uuid: bytes = bytes(16),
        tsc_khz: int = 0,
        apic_bus_freq: int = DEFAULT_APIC_BUS_FREQ,
        x2apic: bool = False,
    ):
        self.vmx_version = vmx_version
        self.vmx_type = vmx_type
        self.ram_size = ram_size
        self.read_set_eax = read_set_eax
        self.signal_unsupported_cmd = signal_unsupported_cmd
        self.report_vmx_type = report_vmx_type
        self.uuid = uuid
        self.tsc_khz = tsc_khz
        self.apic_bus_freq = apic_bus_freq
        self.x2apic = x2apic
        self.commands: dict[int, VmportCommandFn] = {}
        self.register(VmportCommand.GETVERSION, self._get_version)
        self.register(VmportCommand.GETRAMSIZE, self._ram_size)
        if cmds_v2:
            self.register(VmportCommand.GETBIOSUUID, self._bios_uuid)
            self.register(VmportCommand.GETHZ, self._get_hz)
            self.register(VmportCommand.GET_VCPU_INFO, self._vcpu_info)

    def register(self, command: int, fn: VmportCommandFn) -> None:
        """Install ``fn`` as ``command`` (``vmport_register``)."""
        if not 0 <= command < VMPORT_ENTRIES:
            raise ValueError(f"vmport command {command} out of range")
        self.commands[command] = fn

    # -- the port ------------------------------------------------------------

    def backdoor(self, regs: Regs, offset: int = 0) -> int:
        """Run the command the registers ask for; returns EAX (``vmport_ioport_read`` with a CPU)."""
        eax = regs["eax"] & UINT32_MAX
        fn = self.commands.get(regs["ecx"] & 0xFF) if eax == VMPORT_MAGIC else None
        if fn is not None:
            eax = fn(regs, offset) & UINT32_MAX
        elif self.signal_unsupported_cmd:
            eax = UINT32_MAX
        if self.read_set_eax:
            regs["eax"] = eax
        return eax

    def read(self, regs: Regs | None, offset: int = 0) -> int:
        """An ``in`` from the port by the CPU owning ``regs``; no CPU reads all ones."""
        return UINT32_MAX if regs is None else self.backdoor(regs, offset)

    def write(self, regs: Regs | None, offset: int = 0) -> None:
        """An ``out`` to the port: runs the command too, its result lands in EAX."""
        if regs is not None:
            regs["eax"] = self.backdoor(regs, offset)

    # -- the built-in commands ---------------------------------------------------

    def _get_version(self, regs: Regs, _offset: int) -> int:
        regs["ebx"] = VMPORT_MAGIC
        if self.report_vmx_type:
            regs["ecx"] = self.vmx_type
        return self.vmx_version

    def _ram_size(self, regs: Regs, _offset: int) -> int:
        regs["ebx"] = RAM_SIZE_EBX
        return self.ram_size & UINT32_MAX

    def _bios_uuid(self, regs: Regs, _offset: int) -> int:
        for index, name in enumerate(("eax", "ebx", "ecx", "edx")):
            regs[name] = int.from_bytes(self.uuid[4 * index:4 * index + 4], "little")
        return regs["eax"]

    def _get_hz(self, regs: Regs, _offset: int) -> int:
        if self.tsc_khz and self.apic_bus_freq:
            tsc_freq = self.tsc_khz * 1000
            regs["ecx"] = self.apic_bus_freq & UINT32_MAX
            regs["ebx"] = (tsc_freq >> 32) & UINT32_MAX
            regs["eax"] = tsc_freq & UINT32_MAX
        else:
            regs["ebx"] = UINT32_MAX  # not supported
        return regs["eax"]

    def _vcpu_info(self, _regs: Regs, _offset: int) -> int:
        return VCPU_INFO_LEGACY_X2APIC if self.x2apic else 0


@register_type
class VmportState(IsaDevice):
    """The VMware backdoor port (type ``vmport``), only created by the PC boards."""

    TYPE = TYPE_VMPORT
    USER_CREATABLE = False
    PROPERTIES = (
        prop_bit("x-read-set-eax", default=True),
        prop_bit("x-signal-unsupported-cmd", default=True),
        prop_bit("x-report-vmx-type", default=True),
        prop_bit("x-cmds-v2", default=True),
        prop_uint32("vmware-vmx-version", default=DEFAULT_VMX_VERSION),
        prop_uint8("vmware-vmx-type", default=DEFAULT_VMX_TYPE),
    )

    def __init__(self) -> None:
        super().__init__()
        self.core: VmportCore | None = None

    def realize(self) -> None:
        machine = qdev_get_machine(self)
        self.core = core = VmportCore(
            vmx_version=self.vmware_vmx_version, vmx_type=self.vmware_vmx_type,
            ram_size=getattr(machine, "ram_size", 0), read_set_eax=self.x_read_set_eax,
            signal_unsupported_cmd=self.x_signal_unsupported_cmd, report_vmx_type=self.x_report_vmx_type,
            cmds_v2=self.x_cmds_v2, uuid=getattr(machine, "uuid", None) or bytes(16),
        )
        ops = MemoryRegionOps(
            read=lambda offset, _size: core.read(self._regs(), offset),
            write=lambda offset, _value, _size: core.write(self._regs(), offset),
            endianness=Endianness.LITTLE,
            impl=AccessSizes(4, 4),
        )
        self.region = MemoryRegion.new_io(self, ops, TYPE_VMPORT, 1)
        isa_register_ioport(self, self.region, VMPORT_PORT)

    def _regs(self) -> Regs | None:
        from pyqemu.hw.intc.apic import current_cpu

        cpu = current_cpu(self)
        return cpu.regs if cpu is not None else None


def vmport_init(isa_bus: IsaBus) -> VmportState:
    """Create the backdoor port on ``isa_bus`` (``vmport_init``)."""
    dev = isa_create_simple(isa_bus, TYPE_VMPORT)
    assert isinstance(dev, VmportState)
    return dev
