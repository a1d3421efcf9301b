"""``ich9-ahci`` without drives, checked against QEMU 7.2.

Expected values were read from QEMU 7.2 (``-M q35 -nodefaults``, TCG) by a
small guest that made the same configuration and register accesses (ABAR
at 0xfebf0000, the index/data pair at 0xc000) and stored what it read; the
INTx level was read back from the status register's interrupt bit.
"""

from __future__ import annotations

import pytest

from pyqemu.hw.core.bus import device_reset_all
from pyqemu.hw.ide.ahci import CLB_MAP_ERROR, FIS_MAP_ERROR
from pyqemu.hw.ide.ich9_ahci import ICH9AHCI, ich9_ahci_init
from pyqemu.hw.pci.pci_intx import pci_bus_irqs
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps

from .conftest import Board, FakeIrq
from .ide_pci_board import PciBoard, qtree_block, reference_qtree_block, sparse

AHCI_DEVFN = 31 << 3 | 2
ABAR = 0xFEBF0000
PORT0 = ABAR + 0x100
PORT1 = PORT0 + 0x80
IDP = 0xC000
FIS_AREA = 0x2000
CMD_LIST = 0x3000
PX = {"clb": 0x00, "clbu": 0x04, "fb": 0x08, "fbu": 0x0C, "is": 0x10, "ie": 0x14, "cmd": 0x18,
      "tfd": 0x20, "sig": 0x24, "ssts": 0x28, "sctl": 0x2C, "serr": 0x30, "sact": 0x34, "ci": 0x38,
      "sntf": 0x3C, "fbs": 0x40}
GHC, HBA_IS = ABAR + 0x04, ABAR + 0x08
CMD_ST, CMD_FRE = 0x01, 0x10
PCI_STATUS_INTERRUPT = 0x08
MSI_ADDRESS, MSI_DATA = 0xFEE00000, 0x0030


class Ahci:
    """The controller on a PCI board, with its INTx line recorded."""

    def __init__(self, pci: PciBoard, dev: ICH9AHCI) -> None:
        self.pci, self.dev, self.memory = pci, dev, pci.memory
        self.intx = FakeIrq()
        # Every INTx pin of the bus on one recorded line (the board's routing is not under test).
        pci_bus_irqs(pci.bus, lambda _irq, level: self.intx(level), lambda _dev, _pin: 0, 1)

    def map(self, command: int = 0x0007) -> None:
        self.pci.config_write(AHCI_DEVFN, 0x24, ABAR)
        self.pci.config_write(AHCI_DEVFN, 0x20, IDP | 1)
        self.pci.config_write(AHCI_DEVFN, 0x04, command, 2)

    def rl(self, addr: int) -> int:
        return self.memory.read(addr, 4)

    def wl(self, addr: int, value: int) -> None:
        self.memory.write(addr, value, 4)

    def port(self, name: str, port: int = 0) -> int:
        return self.rl(PORT0 + 0x80 * port + PX[name])

    def set_port(self, name: str, value: int, port: int = 0) -> None:
        self.wl(PORT0 + 0x80 * port + PX[name], value)

    @property
    def intx_status(self) -> bool:
        return bool(self.pci.config_read(AHCI_DEVFN, 0x06, 2) & PCI_STATUS_INTERRUPT)


@pytest.fixture
def pci(board: Board) -> PciBoard:
    return PciBoard(board, express=True)


@pytest.fixture
def ahci(pci: PciBoard) -> Ahci:
    dev = ich9_ahci_init(pci.bus, AHCI_DEVFN)
    device_reset_all(dev)
    return Ahci(pci, dev)


# -- the PCI function ---------------------------------------------------------------------

QEMU_ICH9_AHCI_CONFIG = {
    0x00: 0x86, 0x01: 0x80, 0x02: 0x22, 0x03: 0x29, 0x06: 0x10, 0x08: 0x02, 0x09: 0x01, 0x0A: 0x06,
    0x0B: 0x01, 0x0E: 0x80, 0x20: 0x01, 0x2C: 0xF4, 0x2D: 0x1A, 0x2F: 0x11, 0x34: 0x80, 0x3D: 0x01,
    0x80: 0x05, 0x81: 0xA8, 0x82: 0x80, 0x90: 0x40, 0xA8: 0x12, 0xAA: 0x10, 0xAC: 0x48,
}
_WRITABLE = (*range(0x40, 0x80), *range(0x8E, 0xA8), *range(0xB0, 0x100))
QEMU_ICH9_AHCI_ONES = {
    **QEMU_ICH9_AHCI_CONFIG, 0x04: 0x07, 0x05: 0x05, 0x0C: 0xFF, 0x20: 0xE1, 0x21: 0xFF, 0x22: 0xFF,
    0x23: 0xFF, 0x25: 0xF0, 0x26: 0xFF, 0x27: 0xFF, 0x3C: 0xFF, 0x82: 0x81,
    **{off: 0xFF for off in (*range(0x85, 0x8E), *_WRITABLE)}, 0x84: 0xFC,
}


def test_config_space(pci: PciBoard, ahci: Ahci) -> None:
    assert pci.config_dump(AHCI_DEVFN) == sparse(QEMU_ICH9_AHCI_CONFIG)
    for offset in range(0, 256, 4):
        pci.config_write(AHCI_DEVFN, offset, 0xFFFFFFFF)
    assert pci.config_dump(AHCI_DEVFN) == sparse(QEMU_ICH9_AHCI_ONES)


def test_msi_queue_size_is_kept_until_enabled(pci: PciBoard, ahci: Ahci) -> None:
    pci.config_write(AHCI_DEVFN, 0x82, 0x0070, 2)
    assert pci.config_read(AHCI_DEVFN, 0x80) == 0x00F0A805


def test_qtree_block_is_qemus(ahci: Ahci) -> None:
    assert qtree_block(ahci.dev) == reference_qtree_block("q35", "ich9-ahci")


def test_qom_children(ahci: Ahci) -> None:
    assert sorted(child.name_in_parent for child in ahci.dev.children()) == [
        "ahci-idp[0]", "ahci[0]", "bus master container[0]", "bus master[0]",
        "ide.0", "ide.1", "ide.2", "ide.3", "ide.4", "ide.5",
    ]
    assert [bus.max_units for bus in ahci.dev.buses] == [1] * 6


def test_help_lists_qemus_properties() -> None:
    from pyqemu.hw.core.qdev_monitor import device_help_text

    assert device_help_text("ich9-ahci,help") == """\
ich9-ahci options:
  acpi-index=<uint32>    -  (default: 0)
  addr=<int32>           - Slot and optional function number, example: 06.0 or 06 (default: -1)
  ahci-idp[0]=<child<memory-region>>
  ahci[0]=<child<memory-region>>
  failover_pair_id=<str>
  multifunction=<bool>   - on/off (default: false)
  rombar=<uint32>        -  (default: 1)
  romfile=<str>
  romsize=<uint32>       -  (default: 4294967295)
  x-pcie-extcap-init=<bool> - on/off (default: true)
  x-pcie-lnksta-dllla=<bool> - on/off (default: true)
"""


# -- HBA registers --------------------------------------------------------------------------

QEMU_HOST_REGS = [0xC0141F05, 0x80000000, 0, 0x3F, 0x00010000, 0, 0, 0, 0, 0, 0, 0]
QEMU_PORT_REGS = {name: 0 for name in PX} | {"cmd": 0x6, "tfd": 0x7F, "sig": 0xFFFFFFFF}


def test_registers_after_reset(ahci: Ahci) -> None:
    ahci.map()
    assert [ahci.rl(ABAR + off) for off in range(0, 0x30, 4)] == QEMU_HOST_REGS
    for port in (0, 5):
        assert {name: ahci.port(name, port) for name in PX} == QEMU_PORT_REGS
    assert (ahci.rl(PORT0 + 6 * 0x80), ahci.rl(PORT0 + 0x70), ahci.rl(ABAR + 0xA0)) == (0, 0, 0)


def test_narrow_and_misaligned_accesses(ahci: Ahci) -> None:
    ahci.map()
    mem = ahci.memory
    assert (mem.read(ABAR + 1, 1), mem.read(ABAR + 2, 2), mem.read(ABAR + 3, 1)) == (0x1F, 0xC014, 0xC0)
    assert mem.read(ABAR + 3, 2) == 0x00C0           # crosses into GHC
    mem.write(GHC, 0x02, 1)
    assert ahci.rl(GHC) == 0x80000002
    mem.write(GHC + 3, 0x80, 1)                      # misaligned: ignored
    assert ahci.rl(GHC) == 0x80000002
    mem.write(GHC, 0x0000, 2)
    assert ahci.rl(GHC) == 0x80000000
    mem.write(PORT1 + PX["ie"] + 1, 0xFF, 1)
    assert ahci.port("ie", 1) == 0


def test_host_register_writes(ahci: Ahci) -> None:
    ahci.map()
    ahci.wl(GHC, 0x7FFFFFFE)
    assert ahci.rl(GHC) == 0x80000002
    ahci.wl(ABAR, 0)
    ahci.wl(ABAR + 0x0C, 0)
    assert (ahci.rl(ABAR), ahci.rl(ABAR + 0x0C)) == (0xC0141F05, 0x3F)


def test_port_register_writes(ahci: Ahci) -> None:
    ahci.map()
    for name in ("clb", "clbu", "fb", "fbu", "ie", "is", "tfd", "ssts", "sctl", "serr", "sntf", "fbs"):
        ahci.set_port(name, 0xFFFFFFFF)
    ahci.set_port("sig", 0)
    got = {name: ahci.port(name) for name in PX if name != "cmd"}
    assert got == {"clb": 0xFFFFFFFF, "clbu": 0xFFFFFFFF, "fb": 0xFFFFFFFF, "fbu": 0xFFFFFFFF,
                   "is": 0, "ie": 0xFDC000FF, "tfd": 0x7F, "sig": 0xFFFFFFFF, "ssts": 0,
                   "sctl": 0xFFFFFFFF, "serr": 0, "sact": 0, "ci": 0, "sntf": 0, "fbs": 0}
    ahci.set_port("sact", 0x5)
    ahci.set_port("sact", 0x8)
    ahci.set_port("ci", 0x3)
    assert (ahci.port("sact"), ahci.port("ci")) == (0xD, 0x3)  # never taken without ST and a drive


def test_cmd_with_buffers_outside_ram(ahci: Ahci) -> None:
    ahci.map()
    for name in ("clb", "clbu", "fb", "fbu"):
        ahci.set_port(name, 0xFFFFFFFF)
    ahci.set_port("cmd", 0xFFFFFFFF)
    # ST stays with CR set (the command list went to the bounce buffer); FRE could not get it.
    assert ahci.port("cmd") == 0x0F82800F
    assert ahci.pci.reports == [FIS_MAP_ERROR]
    ahci.set_port("cmd", 0)
    assert ahci.port("cmd") == 0


#: The D2H register FIS QEMU posts at FB + 0x40 when FRE is first set on an empty port.
QEMU_INITIAL_D2H_FIS = bytes.fromhex("34405000" "01ffffa0" "00000000" "01000000" "00000000")


def start_fis_receive(ahci: Ahci, port: int = 0) -> None:
    ahci.set_port("fb", FIS_AREA, port)
    ahci.set_port("cmd", CMD_FRE, port)


def test_fis_receive_posts_the_d2h_fis_and_interrupts(ahci: Ahci) -> None:
    ahci.map()
    ahci.memory.write_bytes(FIS_AREA, b"\x11" * 0x100)
    ahci.set_port("ie", 0xFFFFFFFF)
    start_fis_receive(ahci)
    assert ahci.port("cmd") == 0x4010
    assert (ahci.port("is"), ahci.port("tfd"), ahci.port("sig"), ahci.rl(HBA_IS)) == (1, 0x50, 0xFFFF0101, 1)
    assert ahci.memory.read_bytes(FIS_AREA + 0x40, 20) == QEMU_INITIAL_D2H_FIS
    assert ahci.memory.read_bytes(FIS_AREA, 4) == b"\x11" * 4
    assert not ahci.intx_status and ahci.intx.levels == []    # GHC.IE is off
    ahci.wl(GHC, 0x2)
    assert ahci.intx_status and ahci.intx.level == 1
    ahci.wl(HBA_IS, 0xFFFFFFFF)                       # recomputed from the port: stays
    assert ahci.rl(HBA_IS) == 1 and ahci.intx.level == 1
    ahci.set_port("is", 0xFFFFFFFF)
    assert ahci.rl(HBA_IS) == 0 and ahci.intx.level == 0 and not ahci.intx_status
    ahci.set_port("cmd", 0)
    start_fis_receive(ahci)                           # the D2H FIS is sent once per reset
    assert ahci.port("is") == 0


def test_start_maps_the_command_list_and_clearing_it_drops_sact_and_ci(ahci: Ahci) -> None:
    ahci.map()
    ahci.set_port("clb", CMD_LIST)
    ahci.set_port("fb", FIS_AREA)
    ahci.set_port("cmd", CMD_ST | CMD_FRE)
    assert ahci.port("cmd") == 0xC011
    ahci.set_port("ci", 0x1)
    ahci.set_port("sact", 0x2)
    ahci.set_port("cmd", CMD_FRE)
    assert (ahci.port("cmd"), ahci.port("ci"), ahci.port("sact")) == (0x4010, 0, 0)


def test_comreset(ahci: Ahci) -> None:
    ahci.map()
    ahci.set_port("ie", 1)
    start_fis_receive(ahci)
    ahci.set_port("sact", 0xF)
    ahci.set_port("sctl", 1)
    ahci.set_port("sctl", 0)
    assert {name: ahci.port(name) for name in ("is", "ie", "cmd", "sig", "tfd", "sact", "sctl")} == {
        "is": 1, "ie": 1, "cmd": 0x4010, "sig": 0xFFFFFFFF, "tfd": 0x7F, "sact": 0, "sctl": 0}
    ahci.set_port("is", 1)
    ahci.set_port("cmd", 0)
    start_fis_receive(ahci)
    assert (ahci.port("sig"), ahci.port("is")) == (0xFFFF0101, 1)


def test_hba_reset_keeps_addresses_index_and_interrupt(ahci: Ahci) -> None:
    ahci.map()
    ahci.set_port("ie", 1)
    ahci.wl(GHC, 2)
    start_fis_receive(ahci)
    ahci.set_port("ci", 3)
    ahci.pci.io.write(IDP + 0x10, 0x0C, 4)
    ahci.wl(GHC, 1)
    assert ahci.rl(GHC) == 0x80000000
    assert {name: ahci.port(name) for name in PX} == QEMU_PORT_REGS | {"fb": FIS_AREA}
    assert ahci.pci.io.read(IDP + 0x10, 4) == 0x0C
    assert ahci.intx_status                           # QEMU's HBA reset does not lower INTx


def test_without_bus_mastering_one_buffer_at_a_time(ahci: Ahci) -> None:
    ahci.map(command=0x0002)
    ahci.set_port("clb", CMD_LIST)
    ahci.set_port("fb", FIS_AREA)
    ahci.set_port("cmd", CMD_ST | CMD_FRE)
    assert ahci.port("cmd") == 0x8001 and ahci.pci.reports == [FIS_MAP_ERROR]
    ahci.set_port("cmd", 0)
    ahci.set_port("cmd", CMD_FRE)
    assert ahci.port("cmd") == 0x4010
    ahci.wl(GHC, 1)                                   # the reset keeps the buffer
    ahci.set_port("cmd", CMD_ST, port=1)
    assert ahci.port("cmd", 1) == 0 and ahci.pci.reports[-1] == CLB_MAP_ERROR
    ahci.set_port("cmd", CMD_FRE)                     # remapped: freed, then taken again
    assert ahci.port("cmd") == 0x4010
    ahci.set_port("cmd", 0)
    ahci.set_port("cmd", CMD_ST, port=1)
    assert ahci.port("cmd", 1) == 0x8001


def test_index_data_pair(ahci: Ahci) -> None:
    ahci.map()
    io = ahci.pci.io
    assert (io.read(IDP, 4), io.read(IDP + 0x10, 4), io.read(IDP + 0x14, 4)) == (0, 0, 0xC0141F05)
    io.write(IDP + 0x10, 0xFFFFFFFF, 4)
    assert io.read(IDP + 0x10, 4) == 0xFFC
    io.write(IDP + 0x10, 0x0C, 4)
    assert io.read(IDP + 0x14, 4) == 0x3F
    io.write(IDP + 0x10, 0x00, 4)
    assert (io.read(IDP + 0x14, 2), io.read(IDP + 0x11, 1), io.read(IDP + 0x16, 2)) == (0x1F05, 0, 0)
    io.write(IDP + 0x10, 0x04, 4)
    io.write(IDP + 0x14, 0x2, 4)
    assert ahci.rl(GHC) == 0x80000002


# -- interrupts: INTx and MSI -------------------------------------------------------------------


def raise_port0_interrupt(ahci: Ahci) -> None:
    ahci.set_port("ie", 1)
    ahci.wl(GHC, 2)
    start_fis_receive(ahci)


def test_intx_disable(ahci: Ahci) -> None:
    ahci.map()
    raise_port0_interrupt(ahci)
    ahci.pci.config_write(AHCI_DEVFN, 0x04, 0x0407, 2)
    assert ahci.intx_status and ahci.intx.level == 0  # the status still shows the pin's level
    ahci.pci.config_write(AHCI_DEVFN, 0x04, 0x0007, 2)
    assert ahci.intx.level == 1


def test_msi(pci: PciBoard, ahci: Ahci) -> None:
    messages: list[tuple[int, int]] = []
    sink = MemoryRegion.new_io(None, MemoryRegionOps(read=lambda a, s: 0,
                                                     write=lambda a, v, s: messages.append((a, v))),
                               "msi-sink", 0x1000)
    pci.board.memory.system_memory.add_subregion(MSI_ADDRESS, sink)
    ahci.map()
    pci.config_write(AHCI_DEVFN, 0x84, MSI_ADDRESS)
    pci.config_write(AHCI_DEVFN, 0x8C, MSI_DATA, 2)
    pci.config_write(AHCI_DEVFN, 0x82, 0x0001, 2)
    raise_port0_interrupt(ahci)
    assert messages == [(0, MSI_DATA)] and ahci.rl(HBA_IS) == 1
    assert not ahci.intx_status and ahci.intx.level == 0
    pci.config_write(AHCI_DEVFN, 0x82, 0x0000, 2)
    assert not ahci.intx_status                       # INTx comes back at the next change only
    ahci.wl(GHC, 0)
    ahci.wl(GHC, 2)
    assert ahci.intx_status and ahci.intx.level == 1
    pci.config_write(AHCI_DEVFN, 0x82, 0x0001, 2)     # enabling MSI releases INTx
    assert not ahci.intx_status and ahci.intx.level == 0


def test_device_reset_releases_intx_and_disables_msi(pci: PciBoard, ahci: Ahci) -> None:
    ahci.map()
    raise_port0_interrupt(ahci)
    pci.config_write(AHCI_DEVFN, 0x84, MSI_ADDRESS)
    device_reset_all(ahci.dev)
    assert ahci.intx.level == 0
    assert pci.config_dump(AHCI_DEVFN) == sparse(QEMU_ICH9_AHCI_CONFIG)
