"""``isa-fdc``: the PC floppy disk controller on the ISA bus, and its drive bus ``floppy-bus``.

The controller (:class:`~pyqemu.hw.block.fdc.FdcCore`) answers at
``iobase`` + 1 to 5 and + 7 (regions ``fdc[0]`` and ``fdc[1]``; QEMU leaves
+ 0 (SRA) and + 6 (on a PC the IDE control port) to others), interrupts on
ISA IRQ ``irq`` and moves data on ISA DMA channel ``dma`` (4294967295: no
DMA), found through the bus's DMA controllers (:func:`isa_get_dma`).

Drives would plug into the controller's ``floppy-bus`` as ``floppy``
devices; pyqemu has no block layer, so there are none and the controller
behaves as QEMU's with two empty drive positions.  QEMU 7.2 has no
``driveA`` / ``driveB`` properties any more (``-device isa-fdc,driveA=x``
is refused as an unknown property, as in QEMU); ``fdtypeA``, ``fdtypeB``
and ``fallback`` are kept for the drives that a block layer would add.
"""

from __future__ import annotations

from pyqemu.hw.block.fdc import NO_DMA, FdcCore
from pyqemu.hw.core.bus import BusState, qbus_new
from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import Prop, prop_enum, prop_uint32
from pyqemu.hw.dma.isa_dma import IsaDma, isa_get_dma
from pyqemu.hw.isa.isa_bus import IsaBus, IsaDevice, isa_bus_of, isa_init_irq, isa_new, isa_realize_and_unref
from pyqemu.hw.isa.portio import isa_register_portio_list, isa_unregister_portio_list
from pyqemu.memory.region import MemoryRegion
from pyqemu.qom.object import register_type
from pyqemu.qom.property import INT32, ObjectProperty
from pyqemu.util.errors import DeviceError
from pyqemu.util.main_loop import ClockType

TYPE_ISA_FDC = "isa-fdc"
TYPE_FLOPPY_BUS = "floppy-bus"
FDC_IOBASE = 0x3F0
FDC_IRQ = 6
FDC_DMA = 2
#: The controller's ports from ``iobase``: runs of (offset, length).
FDC_PORT_RUNS = ((1, 5), (7, 1))
#: QAPI's FloppyDriveType, in its order.
FLOPPY_DRIVE_TYPES = ("144", "288", "120", "none", "auto")
DRIVE_TYPE_DESCRIPTION = "FDC drive type, 144/288/120/none/auto"
BOOTINDEX_UNSET = -1
UINT32_SIGN = 1 << 31


def prop_fdc_drive_type(name: str, default: str) -> Prop:
    """A floppy drive type (QEMU's ``qdev_prop_fdc_drive_type``)."""
    return prop_enum(name, "FdcDriveType", FLOPPY_DRIVE_TYPES, default, DRIVE_TYPE_DESCRIPTION)


@register_type
class FloppyBus(BusState):
    """Where floppy drives plug into their controller (type ``floppy-bus``)."""

    TYPE = TYPE_FLOPPY_BUS

    def __init__(self) -> None:
        super().__init__()
        self.fdc: FdcCore | None = None


@register_type
class IsaFdc(IsaDevice):
    """The ISA floppy disk controller (type ``isa-fdc``); boards use :func:`isa_fdc_create`."""

    TYPE = TYPE_ISA_FDC
    CATEGORY = "Storage devices"
    DESCRIPTION = "virtual floppy controller"
    PROPERTIES = (
        prop_uint32("iobase", default=FDC_IOBASE),
        prop_uint32("irq", default=FDC_IRQ),
        prop_uint32("dma", default=FDC_DMA),
        prop_fdc_drive_type("fdtypeA", "auto").stored_as("fdtype_a"),
        prop_fdc_drive_type("fdtypeB", "auto").stored_as("fdtype_b"),
        prop_fdc_drive_type("fallback", "288"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.core: FdcCore | None = None
        self.bus: FloppyBus | None = None
        self._regions: list[MemoryRegion] = []
        #: Boot order of drive A and B (``bootindexA`` / ``bootindexB``), -1 if none.
        self.bootindex = {"bootindexA": BOOTINDEX_UNSET, "bootindexB": BOOTINDEX_UNSET}
        for name in self.bootindex:
            self._add_bootindex(name)

    def _add_bootindex(self, name: str) -> None:
        def set_index(_obj: object, value: int) -> None:
            self.bootindex[name] = value

        self.property_add(ObjectProperty(name, "int32", INT32, lambda _obj: self.bootindex[name], set_index))

    def _dma_channel(self) -> int:
        """``dma`` as QEMU's C code sees it: a signed channel number, -1 for none."""
        return self.dma - (1 << 32) if self.dma & UINT32_SIGN else self.dma

    def _find_dma(self, channel: int) -> IsaDma | None:
        if channel == NO_DMA:
            return None
        dma = isa_get_dma(isa_bus_of(self), channel)
        if dma is None:
            raise DeviceError("ISA controller does not support DMA")
        return dma

    def realize(self) -> None:
        irq = isa_init_irq(self, self.irq)
        channel = self._dma_channel()
        dma = self._find_dma(channel)
        if self.fallback == "auto":
            raise DeviceError("Cannot choose a fallback FDrive type of 'auto'")
        loop = qdev_get_machine(self).host.main_loop
        core = FdcCore(
            irq.set, loop.clock(ClockType.VIRTUAL).now_ns,
            lambda callback: loop.timer_new(ClockType.VIRTUAL, callback), dma, channel,
        )
        self._regions = isa_register_portio_list(
            self, self.iobase, FDC_PORT_RUNS, "fdc", core.read, core.write
        )
        if dma is not None:
            dma.register_channel(channel, core.transfer_handler)
        bus = qbus_new(TYPE_FLOPPY_BUS, self)
        assert isinstance(bus, FloppyBus)
        bus.fdc = core
        self.core, self.bus = core, bus

    def _unmap(self) -> None:
        isa_unregister_portio_list(self, self._regions)
        self._regions = []

    def unrealize(self) -> None:
        self._unmap()
        if self.core is not None:
            self.core.reset()  # stops the READ ID timer and lowers the interrupt

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset()


def isa_fdc_create(bus: IsaBus) -> IsaFdc:
    """Board code: the floppy controller with its default resources (0x3f0, IRQ 6, DMA 2)."""
    dev = isa_new(TYPE_ISA_FDC)
    assert isinstance(dev, IsaFdc)
    isa_realize_and_unref(dev, bus)
    return dev
