"""An AHCI host bus adapter with no drives (QEMU's ``AHCIState``, ``hw/ide/ahci.c``).

The HBA's registers are a 4 KiB MMIO window (``ahci``; ABAR): the generic
host control registers, then one 128-byte block per port from 0x100.  As
QEMU 7.2 reports them:

- CAP: 64-bit addressing, NCQ, AHCI-only (so GHC.AE is fixed at 1), Gen 1
  speed, 32 command slots, ports - 1; PI has one bit per port; VS is 1.0;
  CAP2 and the other registers up to 0x2c read 0, and writes to CAP, PI and
  VS are ignored;
- GHC: IE (bit 1) is read/write, HR (bit 0) resets the HBA at once;
- IS: the ports whose IS & IE is non-zero, recomputed on every change, so
  writing 1 to a bit only sticks once the port's own IS is cleared;
- per port: CLB/CLBU/FB/FBU read/write; IS write-1-to-clear; IE keeps the
  bits 0xfdc000ff; CMD keeps its read-only bits, and setting ST (FRE)
  "maps" the command list (FIS receive area) through the function's
  bus-master address space, which sets CR (FR) or, when that fails, clears
  ST (FRE) again with QEMU's error message; once FR is set the port posts
  one D2H register FIS (with the empty position's signature, status 0x50)
  into the receive area, sets SIG to 0xffff0101, TFD to 0x50 and IS.DHRS;
  clearing ST also clears SACT and CI; TFD (0x7f), SIG (0xffffffff) and
  SSTS (0: no device) are read-only; SCTL is read/write, and moving its DET
  field from 1 to 0 resets the port (COMRESET); SERR is write-1-to-clear;
  SACT and CI only gain bits (no command ever completes without a drive).

Writes must be aligned (others are ignored); a narrower read returns the
bytes of the register it falls in, one crossing into the next register
combines both.  The index/data pair (``ahci-idp``, BAR 4 on ICH9) reaches
the same registers through an index register at 0x10 and a data register
at 0x14.

QEMU maps guest memory for the command list and FIS area: RAM directly, and
anything else (MMIO, nothing, or all memory while bus mastering is off)
through its single bounce buffer, which a second such mapping cannot get.
This model does the same, with the bounce buffer kept per HBA (QEMU's is
process-wide) and written back, zero-filled where the HBA wrote nothing,
when unmapped.  Resetting the HBA does not unmap, as in QEMU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyqemu.hw.ide.core import ERR_STAT, IdeChannel

if TYPE_CHECKING:
    from pyqemu.memory.address_space import AddressSpace

AHCI_MEM_BAR_SIZE = 0x1000
AHCI_IDP_SIZE = 32
AHCI_IDP_INDEX = 0x10
AHCI_IDP_DATA = AHCI_IDP_INDEX + 4
AHCI_IDP_INDEX_MASK = (AHCI_MEM_BAR_SIZE - 1) & ~3

# Generic host control registers.
HOST_CAP = 0x00
HOST_CTL = 0x04
HOST_IRQ_STAT = 0x08
HOST_PORTS_IMPL = 0x0C
HOST_VERSION = 0x10
HOST_REGS_END = 0x2C
HOST_CTL_RESET = 1 << 0
HOST_CTL_IRQ_EN = 1 << 1
HOST_CTL_AHCI_EN = 1 << 31
HOST_CAP_64 = 1 << 31
HOST_CAP_NCQ = 1 << 30
HOST_CAP_AHCI = 1 << 18
AHCI_SUPPORTED_SPEED_GEN1 = 1 << 20
AHCI_NUM_COMMAND_SLOTS = 31 << 8
AHCI_VERSION_1_0 = 0x00010000

# Port registers (offsets within a port's block).
PORT_REGS_START = 0x100
PORT_REGS_SIZE = 0x80
PX_CLB, PX_CLBU, PX_FB, PX_FBU = 0x00, 0x04, 0x08, 0x0C
PX_IS, PX_IE, PX_CMD = 0x10, 0x14, 0x18
PX_TFD, PX_SIG, PX_SSTS, PX_SCTL, PX_SERR, PX_SACT, PX_CI = 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38
PORT_CMD_START = 1 << 0
PORT_CMD_SPIN_UP = 1 << 1
PORT_CMD_POWER_ON = 1 << 2
PORT_CMD_FIS_RX = 1 << 4
PORT_CMD_FIS_ON = 1 << 14
PORT_CMD_LIST_ON = 1 << 15
PORT_CMD_RO_MASK = 0x007DFFE0
PORT_CMD_ICC_MASK = 0xF0000000
PORT_IRQ_MASK_WRITABLE = 0xFDC000FF
PORT_IRQ_DHRS = 1 << 0
PORT_IRQ_TFES = 1 << 30
PORT_TFD_RESET = 0x7F
PORT_SIG_RESET = 0xFFFFFFFF
SCTL_DET_MASK = 0xF
SSTS_NO_DEVICE = 0

CMD_LIST_SIZE = 1024
RES_FIS_SIZE = 256
RES_FIS_RFIS = 0x40
SATA_FIS_TYPE_REGISTER_D2H = 0x34
D2H_FIS_SIZE = 20
D2H_FIS_INTERRUPT = 1 << 6
#: QEMU never bounces more than one guest page.
BOUNCE_MAX = 0x1000

CLB_MAP_ERROR = "AHCI: Failed to start DMA engine: bad command list buffer address"
FIS_MAP_ERROR = "AHCI: Failed to start FIS receive engine: bad FIS receive buffer address"

_MASK32 = 0xFFFFFFFF


@dataclass
class DmaMapping:
    """Guest memory the HBA holds: a view of RAM, or the bounce buffer standing in for it."""

    addr: int
    view: memoryview | None
    bounce: bytearray | None = None

    def write(self, offset: int, data: bytes) -> None:
        target = self.view if self.view is not None else self.bounce
        assert target is not None
        target[offset:offset + len(data)] = data


class AhciPort:
    """One port's registers, its IDE channel (an empty position) and what it has mapped."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.channel = IdeChannel()
        self.clb = self.clbu = self.fb = self.fbu = 0
        self.irq_stat = self.irq_mask = 0
        self.cmd = PORT_CMD_SPIN_UP | PORT_CMD_POWER_ON
        self.tfdata = PORT_TFD_RESET
        self.sig = PORT_SIG_RESET
        self.scr_ctl = self.scr_err = self.scr_act = self.cmd_issue = 0
        #: SStatus: DET 0, no device detected (there is never a drive).
        self.scr_stat = SSTS_NO_DEVICE
        self.lst: DmaMapping | None = None
        self.res_fis: DmaMapping | None = None
        self.init_d2h_sent = False

    def reset(self) -> None:
        """COMRESET (``ahci_reset_port``): the empty position's registers and the shadow ones."""
        self.channel.reset()
        self.scr_err = self.scr_act = self.cmd_issue = 0
        self.tfdata = PORT_TFD_RESET
        self.sig = PORT_SIG_RESET
        self.init_d2h_sent = False

    def read(self, offset: int) -> int:
        """A 32-bit register of the port; SSTS says "no device", unimplemented ones read 0."""
        field = _PORT_FIELDS.get(offset)
        return int(getattr(self, field)) if field is not None else 0


class AhciHba:
    """The HBA: host registers, ``ports`` ports and the interrupt.

    ``set_irq(level)`` is the HBA's interrupt (the PCI function picks MSI or
    INTx); ``dma_space()`` the address space it maps guest memory from;
    ``report(text)`` prints an error as QEMU's ``error_report``.
    """

    def __init__(self, ports: int, set_irq: Callable[[int], None] | None = None,
                 dma_space: Callable[[], AddressSpace | None] | None = None,
                 report: Callable[[str], None] | None = None) -> None:
        self.ports = [AhciPort(n) for n in range(ports)]
        self.set_irq = set_irq
        self.dma_space = dma_space
        self.report = report
        self.cap = ((ports - 1) | AHCI_NUM_COMMAND_SLOTS | AHCI_SUPPORTED_SPEED_GEN1
                    | HOST_CAP_NCQ | HOST_CAP_AHCI | HOST_CAP_64)
        self.ports_impl = (1 << ports) - 1
        self.version = AHCI_VERSION_1_0
        self.ghc = HOST_CTL_AHCI_EN
        self.irqstatus = 0
        self.idp_index = 0
        self.bounce_in_use = False

    def reset(self) -> None:
        """HBA reset (``ahci_reset``); the interrupt line is left as it is, as QEMU leaves it."""
        self.irqstatus = 0
        self.ghc = HOST_CTL_AHCI_EN
        for port in self.ports:
            port.irq_stat = port.irq_mask = port.scr_ctl = 0
            port.cmd = PORT_CMD_SPIN_UP | PORT_CMD_POWER_ON
            port.reset()

    # -- the interrupt -----------------------------------------------------------------------

    def check_irq(self) -> None:
        """Recompute IS from the ports and drive the interrupt (``ahci_check_irq``)."""
        self.irqstatus = 0
        for port in self.ports:
            if port.irq_stat & port.irq_mask:
                self.irqstatus |= 1 << port.number
        if self.set_irq is not None:
            self.set_irq(1 if self.irqstatus and self.ghc & HOST_CTL_IRQ_EN else 0)

    def trigger_irq(self, port: AhciPort, bits: int) -> None:
        port.irq_stat |= bits
        self.check_irq()

    # -- ABAR --------------------------------------------------------------------------------

    def read32(self, addr: int) -> int:
        if addr < HOST_REGS_END:
            field = _HOST_FIELDS.get(addr)
            return int(getattr(self, field)) if field is not None else 0
        port = self._port_at(addr)
        return port.read((addr - PORT_REGS_START) % PORT_REGS_SIZE & ~3) if port is not None else 0

    def _port_at(self, addr: int) -> AhciPort | None:
        index = (addr - PORT_REGS_START) // PORT_REGS_SIZE
        return self.ports[index] if addr >= PORT_REGS_START and index < len(self.ports) else None

    def mem_read(self, addr: int, size: int) -> int:
        """A read of 1-8 bytes at ``addr`` (``ahci_mem_read``): the 32-bit register(s) it touches."""
        aligned, shift = addr & ~3, (addr & 3) * 8
        value = self.read32(aligned)
        if (addr & 3) + size > 4:
            value |= self.read32(aligned + 4) << 32
        return (value >> shift) & ((1 << (8 * size)) - 1)

    def mem_write(self, addr: int, value: int, size: int) -> None:
        """A write at ``addr``; misaligned writes are dropped (``ahci_mem_write``)."""
        if addr & 3:
            return
        value &= _MASK32
        if addr < HOST_REGS_END:
            self._host_write(addr, value)
            return
        port = self._port_at(addr)
        if port is not None:
            self._port_write(port, (addr - PORT_REGS_START) % PORT_REGS_SIZE, value)

    def _host_write(self, addr: int, value: int) -> None:
        if addr == HOST_CTL:
            if value & HOST_CTL_RESET:
                self.reset()
                return
            self.ghc = (value & 3) | HOST_CTL_AHCI_EN
            self.check_irq()
        elif addr == HOST_IRQ_STAT:
            self.irqstatus &= ~value
            self.check_irq()

    def _port_write(self, port: AhciPort, offset: int, value: int) -> None:
        if offset in _ADDRESS_FIELDS:
            setattr(port, _ADDRESS_FIELDS[offset], value)
        elif offset == PX_IS:
            port.irq_stat &= ~value
            self.check_irq()
        elif offset == PX_IE:
            port.irq_mask = value & PORT_IRQ_MASK_WRITABLE
            self.check_irq()
        elif offset == PX_CMD:
            self._write_cmd(port, value)
        elif offset == PX_SCTL:
            if port.scr_ctl & SCTL_DET_MASK == 1 and not value & SCTL_DET_MASK:
                port.reset()
            port.scr_ctl = value
        elif offset == PX_SERR:
            port.scr_err &= ~value
        elif offset == PX_SACT:
            port.scr_act |= value
        elif offset == PX_CI:
            port.cmd_issue |= value  # no drive: the command is never taken

    def _write_cmd(self, port: AhciPort, value: int) -> None:
        if port.cmd & PORT_CMD_START and not value & PORT_CMD_START:
            port.scr_act = port.cmd_issue = 0
        port.cmd = (port.cmd & PORT_CMD_RO_MASK) | (value & ~(PORT_CMD_RO_MASK | PORT_CMD_ICC_MASK))
        self._start_engines(port)
        if port.cmd & PORT_CMD_FIS_ON and not port.init_d2h_sent:
            self._init_d2h(port)

    # -- the index/data pair ----------------------------------------------------------------------

    def idp_read(self, offset: int, size: int) -> int:
        if offset == AHCI_IDP_INDEX:
            return self.idp_index
        return self.mem_read(self.idp_index, size) if offset == AHCI_IDP_DATA else 0

    def idp_write(self, offset: int, value: int, size: int) -> None:
        if offset == AHCI_IDP_INDEX:
            self.idp_index = value & AHCI_IDP_INDEX_MASK
        elif offset == AHCI_IDP_DATA:
            self.mem_write(self.idp_index, value, size)

    # -- command list and FIS receive engines ------------------------------------------------------

    def _start_engines(self, port: AhciPort) -> None:
        """Map or unmap the command list and FIS area as ST and FRE say (``ahci_cond_start_engines``)."""
        if port.cmd & PORT_CMD_START and not port.cmd & PORT_CMD_LIST_ON:
            port.lst = self._remap(port.lst, port.clbu << 32 | port.clb, CMD_LIST_SIZE)
            if port.lst is None:
                port.cmd &= ~(PORT_CMD_START | PORT_CMD_LIST_ON)
                self._report(CLB_MAP_ERROR)
                return
            port.cmd |= PORT_CMD_LIST_ON
        elif not port.cmd & PORT_CMD_START and port.cmd & PORT_CMD_LIST_ON:
            port.lst = self._unmap(port.lst)
            port.cmd &= ~PORT_CMD_LIST_ON
        if port.cmd & PORT_CMD_FIS_RX and not port.cmd & PORT_CMD_FIS_ON:
            port.res_fis = self._remap(port.res_fis, port.fbu << 32 | port.fb, RES_FIS_SIZE)
            if port.res_fis is None:
                port.cmd &= ~(PORT_CMD_FIS_RX | PORT_CMD_FIS_ON)
                self._report(FIS_MAP_ERROR)
                return
            port.cmd |= PORT_CMD_FIS_ON
        elif not port.cmd & PORT_CMD_FIS_RX and port.cmd & PORT_CMD_FIS_ON:
            port.res_fis = self._unmap(port.res_fis)
            port.cmd &= ~PORT_CMD_FIS_ON

    def _report(self, text: str) -> None:
        if self.report is not None:
            self.report(text)

    def _remap(self, old: DmaMapping | None, addr: int, length: int) -> DmaMapping | None:
        self._unmap(old)
        return self._map(addr, length)

    def _map(self, addr: int, length: int) -> DmaMapping | None:
        """``length`` bytes at ``addr``: RAM directly, anything else through the bounce buffer."""
        space = self.dma_space() if self.dma_space is not None else None
        fr = space.lookup(addr) if space is not None else None
        if fr is not None and fr.mr.ram and not fr.readonly and not fr.mr.rom_device:
            assert space is not None
            view = space.map(addr, length)
            return DmaMapping(addr, view) if view is not None else None
        available = min(length, BOUNCE_MAX, fr.end - addr) if fr is not None else length
        if self.bounce_in_use or available < length:
            return None
        self.bounce_in_use = True
        return DmaMapping(addr, None, bytearray(length))

    def _unmap(self, mapping: DmaMapping | None) -> None:
        if mapping is None or mapping.bounce is None:
            return
        space = self.dma_space() if self.dma_space is not None else None
        if space is not None:
            space.write_bytes(mapping.addr, mapping.bounce)
        self.bounce_in_use = False

    def _init_d2h(self, port: AhciPort) -> None:
        """Post the D2H register FIS a device sends after reset; SIG takes its signature."""
        if port.res_fis is None or not port.cmd & PORT_CMD_FIS_RX:
            return
        dev = port.channel.devices[0]
        fis = bytes((SATA_FIS_TYPE_REGISTER_D2H, D2H_FIS_INTERRUPT, dev.status, dev.error,
                     dev.sector, dev.lcyl, dev.hcyl, dev.select,
                     dev.hob_sector, dev.hob_lcyl, dev.hob_hcyl, 0,
                     dev.nsector & 0xFF, (dev.nsector >> 8) & 0xFF)).ljust(D2H_FIS_SIZE, b"\0")
        port.res_fis.write(RES_FIS_RFIS, fis)
        port.tfdata = dev.error << 8 | dev.status
        if dev.status & ERR_STAT:
            self.trigger_irq(port, PORT_IRQ_TFES)
        self.trigger_irq(port, PORT_IRQ_DHRS)
        port.init_d2h_sent = True
        port.sig = dev.hcyl << 24 | dev.lcyl << 16 | dev.sector << 8 | (dev.nsector & 0xFF)


#: The plain read/write address registers of a port.
_ADDRESS_FIELDS = {PX_CLB: "clb", PX_CLBU: "clbu", PX_FB: "fb", PX_FBU: "fbu"}
#: What each implemented port register reads.
_PORT_FIELDS = {
    **_ADDRESS_FIELDS, PX_IS: "irq_stat", PX_IE: "irq_mask", PX_CMD: "cmd", PX_TFD: "tfdata", PX_SIG: "sig",
    PX_SSTS: "scr_stat", PX_SCTL: "scr_ctl", PX_SERR: "scr_err", PX_SACT: "scr_act", PX_CI: "cmd_issue",
}
#: What each implemented host register reads.
_HOST_FIELDS = {HOST_CAP: "cap", HOST_CTL: "ghc", HOST_IRQ_STAT: "irqstatus", HOST_PORTS_IMPL: "ports_impl",
                HOST_VERSION: "version"}
