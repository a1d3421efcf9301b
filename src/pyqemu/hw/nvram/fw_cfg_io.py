"""fw_cfg on I/O ports (``fw_cfg_io``), as the x86 boards have it at 0x510.

Two port regions, which the board maps straight into the I/O space (they
are not sysbus MMIO regions, so ``info qtree`` shows no ``mmio`` line):

- ``fwcfg`` (2 ports): a 16-bit write selects an item; a byte read at
  either port returns the next data byte (the data port 0x511 overlaps the
  selector's high byte); a byte write is ignored; every other access is
  refused by the bus and reads 0;
- ``fwcfg.dma`` (8 ports, only with ``dma_enabled``): the DMA address
  register, 4 ports past the selector.

:func:`fw_cfg_init_io_dma` creates the device as ``/machine/fw_cfg`` the
way QEMU's board code does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.core.qdev import qdev_new
from pyqemu.hw.core.qdev_properties import prop_bool, prop_uint16
from pyqemu.hw.nvram.fw_cfg import FW_CFG_CTL_SIZE, FW_CFG_DMA_SIZE, TYPE_FW_CFG, FwCfgState
from pyqemu.hw.nvram.fw_cfg_items import FW_CFG_FILE_SLOTS_DEFAULT
from pyqemu.memory.region import Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.memory.address_space import AddressSpace

TYPE_FW_CFG_IO = "fw_cfg_io"
#: Where x86 boards put it (QEMU's ``FW_CFG_IO_BASE``); the DMA register follows 4 ports on.
FW_CFG_IO_BASE = 0x510
FW_CFG_DMA_IO_OFFSET = 4
SELECTOR_SIZE = 2
DATA_SIZE = 1


def _comb_accepts(offset: int, size: int, is_write: bool) -> bool:
    """Byte reads and writes anywhere, 16-bit selector writes; nothing else."""
    return size == DATA_SIZE or (is_write and size == SELECTOR_SIZE)


@register_type
class FwCfgIo(FwCfgState):
    """fw_cfg on ports: selector/data at ``iobase``, DMA register at ``iobase + 4``."""

    TYPE = TYPE_FW_CFG_IO
    PROPERTIES = (
        prop_bool("dma_enabled", default=True),
        prop_uint16("x-file-slots", default=FW_CFG_FILE_SLOTS_DEFAULT),
    )

    def __init__(self) -> None:
        super().__init__()
        self.comb_iomem: MemoryRegion | None = None
        self.dma_iomem: MemoryRegion | None = None

    def realize(self) -> None:
        super().realize()
        ops = MemoryRegionOps(read=self._comb_read, write=self._comb_write,
                              endianness=Endianness.LITTLE, accepts=_comb_accepts)
        self.comb_iomem = MemoryRegion.new_io(self, ops, "fwcfg", FW_CFG_CTL_SIZE)
        if self.dma_enabled:
            self.dma_iomem = MemoryRegion.new_io(self, self.dma_ops(), "fwcfg.dma", FW_CFG_DMA_SIZE)
        self.common_realize()

    def _comb_read(self, offset: int, size: int) -> int:
        return self.data_read(size)

    def _comb_write(self, offset: int, value: int, size: int) -> None:
        if size == SELECTOR_SIZE:
            self.select(value & 0xFFFF)
        else:
            self.data_write(value, size)


def fw_cfg_init_io_dma(machine: MachineState, iobase: int = FW_CFG_IO_BASE,
                       dma_iobase: int | None = FW_CFG_IO_BASE + FW_CFG_DMA_IO_OFFSET,
                       dma_as: AddressSpace | None = None) -> FwCfgIo:
    """Create ``/machine/fw_cfg`` and map its ports (QEMU's ``fw_cfg_init_io_dma``).

    DMA is offered when ``dma_iobase`` is given (and ``dma_enabled`` is left
    on); it reaches ``dma_as``, by default the machine's ``memory`` space.
    ``-global`` / compat properties apply first.
    """
    from pyqemu.hw.core.qdev_monitor import apply_global_props
    from pyqemu.hw.core.sysbus import sysbus_realize

    memory = machine.memory_system
    dev = qdev_new(TYPE_FW_CFG_IO)
    assert isinstance(dev, FwCfgIo)
    try:
        apply_global_props(machine, dev)
        if dma_iobase is None:
            dev.property_set("dma_enabled", False)
        machine.add_child(TYPE_FW_CFG, dev)
    finally:
        dev.unref()
    try:
        sysbus_realize(dev, machine)
    except BaseException:
        dev.unparent()
        raise
    assert dev.comb_iomem is not None
    memory.system_io.add_subregion(iobase, dev.comb_iomem)
    if dev.dma_enabled and dev.dma_iomem is not None and dma_iobase is not None:
        dev.dma_as = dma_as if dma_as is not None else memory.address_space_memory
        dev.dma_addr = 0
        memory.system_io.add_subregion(dma_iobase, dev.dma_iomem)
    return dev


def fw_cfg_init_io(machine: MachineState, iobase: int = FW_CFG_IO_BASE) -> FwCfgIo:
    """fw_cfg on ports without DMA (QEMU's ``fw_cfg_init_io``)."""
    return fw_cfg_init_io_dma(machine, iobase, None)
