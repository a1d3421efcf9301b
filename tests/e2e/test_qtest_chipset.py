"""The pc and q35 chipsets driven through qtest, as QEMU's ``i440fx-test`` and ``q35-test`` do.

PCI configuration space through 0xcf8/0xcfc (the functions of both boards
and their identities), the PAM registers that switch the BIOS shadow areas
between PCI and RAM, the q35 SMRAM, TSEG and SMBASE locks, the q35 MMCONFIG
window and the PIIX3 PIRQ routers steering a PCI function's INTx to an ISA
IRQ.  Every expected value is what QEMU 7.2 answers (see :mod:`.qtest_x86`
to run these tests against it).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from .qtest_client import QtestClient
from .qtest_x86 import (
    PCI_COMMAND,
    PCI_COMMAND_MASTER,
    PCI_COMMAND_MEMORY,
    PCI_INTERRUPT_PIN,
    cfg_readb,
    cfg_readl,
    cfg_readw,
    cfg_writeb,
    cfg_writel,
    cfg_writew,
    devfn,
    map_bar,
    start,
)

PCI_CLASS_REVISION = 0x08
PCI_HEADER_TYPE = 0x0E
PCI_STATUS = 0x06
PCI_COMMAND_INTX_DISABLE = 0x0400
PCI_STATUS_INTERRUPT = 0x0008
PCI_STATUS_CAP_LIST = 0x0010

# pc: the i440FX host bridge at 00.0 and the PIIX3/PIIX4 functions in slot 1.
I440FX = devfn(0)
PIIX3 = devfn(1, 0)
PIIX_IDE = devfn(1, 1)
PIIX4_PM = devfn(1, 3)
I440FX_PAM = 0x59
I440FX_COREBOOT_RAM_SIZE = 0x57
I440FX_SMRAM = 0x72
PIIX_PIRQC = 0x60

# q35: the MCH at 00.0, the ICH9 functions in slot 31.
MCH = devfn(0)
ICH9_LPC = devfn(0x1F, 0)
ICH9_AHCI = devfn(0x1F, 2)
ICH9_SMBUS = devfn(0x1F, 3)
MCH_EXT_TSEG_MBYTES = 0x50
MCH_PCIEXBAR = 0x60
MCH_PAM = 0x90
MCH_F_SMBASE = 0x9C
MCH_SMRAM = 0x9D
MCH_ESMRAMC = 0x9E
SMRAM_D_OPEN = 0x40
SMRAM_D_CLS = 0x20
SMRAM_D_LCK = 0x10
SMRAM_G_SMRAME = 0x08
ESMRAMC_TSEG_SZ_MASK = 0x06
ESMRAMC_T_EN = 0x01
F_SMBASE_QUERY = 0xFF
F_SMBASE_IN_RAM = 0x01
F_SMBASE_LCK = 0x02
SMBASE = 0x30000
PCIEXBAR_ENABLE = 0x1
PCIEXBAR_128M = 0x1 << 1
PCIEXBAR_RESERVED_LENGTH = 0x3 << 1
MMCONFIG_BASE = 0xB000_0000

# PAM attribute values of one area's 2-bit field.
PAM_PCI, PAM_RE, PAM_WE = 0, 1, 2
PAM_RW = PAM_RE | PAM_WE
#: The 13 areas a PAM field steers, in field order (0x59's high nibble is the 0xf0000 one).
PAM_AREAS = [(0xF0000, 0x10000)] + [(0xC0000 + i * 0x4000, 0x4000) for i in range(12)]

# ich9-ahci on pc: ABAR, the HBA and port 0 registers used to make it raise INTx.
AHCI_SLOT = 2  # the first free slot of pc -nodefaults
AHCI = devfn(AHCI_SLOT)
ABAR = 0xFEBF_0000
AHCI_BAR = 5
HBA_GHC, HBA_IS = 0x04, 0x08
GHC_AE, GHC_IE = 0x8000_0000, 0x2
PORT0 = 0x100
PX_FB, PX_IS, PX_IE, PX_CMD, PX_TFD, PX_SIG = 0x08, 0x10, 0x14, 0x18, 0x20, 0x24
PX_CMD_FRE = 0x10
PX_IRQ_DHRS = 0x1
FIS_AREA = 0x10_0000
#: INTA# of slot 2 is PIRQB on the PIIX3 (slot - 1 + pin, modulo 4).
AHCI_PIRQ = (AHCI_SLOT - 1) & 3

MiB = 1 << 20


def reset(qts: QtestClient) -> None:
    assert qts.qmp("system_reset") == {"return": {}}


# -- configuration mechanism #1 ---------------------------------------------------------------


@pytest.mark.parametrize(("fn", "ids", "class_rev", "header"), [
    (I440FX, 0x1237_8086, 0x0600_0002, 0x00),
    (PIIX3, 0x7000_8086, 0x0601_0000, 0x80),
    (PIIX_IDE, 0x7010_8086, 0x0101_8000, 0x00),
    (PIIX4_PM, 0x7113_8086, 0x0680_0003, 0x00),
], ids=["i440fx", "piix3", "piix3-ide", "piix4-pm"])
def test_pc_functions_identify_themselves(
    pc: QtestClient, fn: int, ids: int, class_rev: int, header: int
) -> None:
    assert cfg_readl(pc, fn, 0) == ids
    assert cfg_readl(pc, fn, PCI_CLASS_REVISION) == class_rev
    assert cfg_readb(pc, fn, PCI_HEADER_TYPE) == header
    assert cfg_readl(pc, fn, 0x2C) == 0x1100_1AF4  # QEMU's subsystem ids


@pytest.mark.parametrize(("fn", "ids", "class_rev", "header"), [
    (MCH, 0x29C0_8086, 0x0600_0000, 0x00),
    (ICH9_LPC, 0x2918_8086, 0x0601_0002, 0x80),
    (ICH9_AHCI, 0x2922_8086, 0x0106_0102, 0x80),
    (ICH9_SMBUS, 0x2930_8086, 0x0C05_0002, 0x80),
], ids=["mch", "lpc", "ahci", "smbus"])
def test_q35_functions_identify_themselves(
    q35: QtestClient, fn: int, ids: int, class_rev: int, header: int
) -> None:
    assert cfg_readl(q35, fn, 0) == ids
    assert cfg_readl(q35, fn, PCI_CLASS_REVISION) == class_rev
    assert cfg_readb(q35, fn, PCI_HEADER_TYPE) == header


def test_config_address_register_and_absent_functions(pc: QtestClient) -> None:
    pc.outl(0xCF8, 0x8000_0800)
    assert pc.inl(0xCF8) == 0x8000_0800
    assert pc.inl(0xCFC) == 0x7000_8086
    assert pc.inw(0xCFE) == 0x7000  # the byte lanes of 0xcfc-0xcff
    pc.outl(0xCF8, 0x0000_0800)  # enable bit clear: no configuration cycle
    assert pc.inl(0xCFC) == 0xFFFF_FFFF
    assert cfg_readl(pc, devfn(5), 0) == 0xFFFF_FFFF
    assert cfg_readl(pc, devfn(1, 2), 0) == 0xFFFF_FFFF
    pc.outl(0xCF8, 0x8001_0000)  # bus 1: there is none
    assert pc.inl(0xCFC) == 0xFFFF_FFFF


def test_pc_reset_values_of_the_host_bridge_and_isa_bridge(pc: QtestClient) -> None:
    assert cfg_readb(pc, I440FX, I440FX_SMRAM) == 0x02
    assert cfg_readw(pc, I440FX, PCI_COMMAND) == 0x0000
    assert cfg_readw(pc, PIIX3, PCI_STATUS) == 0x0200  # DEVSEL medium
    assert cfg_readl(pc, PIIX3, 0x4C) == 0x0003_004D  # I/O recovery, X-bus chip select
    assert cfg_readl(pc, PIIX3, PIIX_PIRQC) == 0x8080_8080  # every PIRQ unrouted
    assert cfg_readl(pc, PIIX3, 0x68) == 0x0000_0200
    assert cfg_readl(pc, PIIX3, 0x70) == 0x0000_0080
    assert cfg_readl(pc, PIIX3, 0x74) == 0x0C0C_0000
    assert cfg_readl(pc, PIIX3, 0xA0) == 0x0000_0008
    assert cfg_readl(pc, PIIX3, 0xA8) == 0x0000_000F


def test_system_reset_restores_the_piix3_registers() -> None:
    with start("-M pc -nodefaults") as qts:
        for offset in (0x4C, 0x60, 0x68, 0x70, 0x74, 0x78, 0xA0, 0xA4, 0xA8, 0xAC):
            cfg_writel(qts, PIIX3, offset, 0xFFFF_FFFF)
        assert cfg_readl(qts, PIIX3, PIIX_PIRQC) == 0xFFFF_FFFF
        reset(qts)
        assert [cfg_readl(qts, PIIX3, off) for off in (0x4C, 0x60, 0x68, 0x70, 0x74, 0x78)] == [
            0x0003_FF4D, 0x8080_8080, 0xFFFF_02FF, 0xFFFF_FF80, 0x0C0C_FFFF, 0xFFFF_0002,
        ]
        assert [cfg_readl(qts, PIIX3, off) for off in (0xA0, 0xA4, 0xA8, 0xAC)] == [
            0x0000_FF08, 0x0000_0000, 0x0000_FF0F, 0xFF00_FF00,
        ]


def test_i440fx_tells_coreboot_the_ram_size_in_8_mib_units(pc: QtestClient) -> None:
    assert cfg_readb(pc, I440FX, I440FX_COREBOOT_RAM_SIZE) == 128 // 8
    with start("-M pc -nodefaults -m 4G") as qts:
        assert cfg_readb(qts, I440FX, I440FX_COREBOOT_RAM_SIZE) == 0xFF  # 512 units, clipped


# -- PAM --------------------------------------------------------------------------------------


def pam_set(qts: QtestClient, fn: int, pam0: int, area: int, attr: int) -> None:
    """Set area ``area``'s 2-bit field (area 0: 0xf0000, high nibble of the first register)."""
    offset = pam0 + (area + 1) // 2
    shift = 0 if area & 1 else 4
    value = cfg_readb(qts, fn, offset)
    cfg_writeb(qts, fn, offset, (value & ~(0x3 << shift)) | attr << shift)


def area_is(qts: QtestClient, start_addr: int, size: int, byte: int) -> bool:
    return qts.bufread(start_addr, size) == bytes([byte]) * size


@pytest.mark.parametrize(("board", "fn", "pam0"), [("pc", I440FX, I440FX_PAM), ("q35", MCH, MCH_PAM)])
def test_pam_switches_each_area_between_pci_and_ram(board: str, fn: int, pam0: int) -> None:
    """``i440fx-test``'s PAM test with QEMU's approximation: write-enable alone also reads RAM."""
    with start(f"-M {board} -nodefaults") as qts:
        assert [cfg_readb(qts, fn, pam0 + i) for i in range(7)] == [0] * 7
        bios_top = qts.bufread(0xFFFF0, 16)
        assert bios_top[0] == 0xEA  # PCI view: the end of the BIOS image (a far jump)
        for area, (base, size) in enumerate(PAM_AREAS):
            pam_set(qts, fn, pam0, area, PAM_RE)
            assert area_is(qts, base, size, 0x00), hex(base)
            pam_set(qts, fn, pam0, area, PAM_RW)
            qts.memset(base, 0x42, size)
            pam_set(qts, fn, pam0, area, PAM_WE)
            assert area_is(qts, base, size, 0x42), hex(base)
            qts.memset(base, 0x82, size)
            pam_set(qts, fn, pam0, area, PAM_RW)
            assert area_is(qts, base, size, 0x82), hex(base)
            pam_set(qts, fn, pam0, area, PAM_PCI)
            assert not area_is(qts, base, size, 0x82), hex(base)
        assert qts.bufread(0xFFFF0, 16) == bios_top


def test_pam_read_only_area_still_takes_qtest_writes(pc: QtestClient) -> None:
    """QEMU checks read-only only on the final RAM block, so qtest (and DMA) writes pass a PAM RE alias."""
    pam_set(pc, I440FX, I440FX_PAM, 1, PAM_RE)
    try:
        pc.writel(0xC0000, 0x1234_5678)
        assert pc.readl(0xC0000) == 0x1234_5678
    finally:
        pam_set(pc, I440FX, I440FX_PAM, 1, PAM_PCI)


def test_bios_file_shows_below_4g_and_its_last_128k_below_1m() -> None:
    """``i440fx-test``'s firmware test with ``-bios``: the image ends at 4 GiB, the ISA window at 1 MiB."""
    size = 0x40000
    image = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(size))
    with tempfile.TemporaryDirectory(prefix="fw-") as tmp:
        path = os.path.join(tmp, "bios.bin")
        with open(path, "wb") as f:
            f.write(image)
        with start(f"-M pc -nodefaults -bios {path}") as qts:
            assert qts.bufread((1 << 32) - size, size) == image
            assert qts.bufread(0x100000 - 0x20000, 0x20000) == image[-0x20000:]


# -- q35 MMCONFIG ------------------------------------------------------------------------------


def mmcfg(base: int, dev_fn: int, offset: int = 0) -> int:
    return base | dev_fn << 12 | offset


def test_q35_mmconfig_window_follows_pciexbar(q35: QtestClient) -> None:
    assert cfg_readl(q35, MCH, MCH_PCIEXBAR) == MMCONFIG_BASE  # at its default, disabled
    assert q35.readl(MMCONFIG_BASE) == 0
    cfg_writel(q35, MCH, MCH_PCIEXBAR, MMCONFIG_BASE | PCIEXBAR_ENABLE)
    try:
        assert q35.readl(mmcfg(MMCONFIG_BASE, MCH)) == 0x29C0_8086
        assert q35.readl(mmcfg(MMCONFIG_BASE, ICH9_LPC)) == 0x2918_8086
        assert q35.readl(mmcfg(MMCONFIG_BASE, devfn(3))) == 0xFFFF_FFFF
        assert q35.readl(MMCONFIG_BASE + (1 << 20)) == 0xFFFF_FFFF  # bus 1
        q35.writeb(mmcfg(MMCONFIG_BASE, ICH9_LPC, 0x60), 0x05)  # PIRQA routing, through MMCONFIG
        assert cfg_readb(q35, ICH9_LPC, 0x60) == 0x05
        cfg_writeb(q35, ICH9_LPC, 0x60, 0x80)
        assert q35.readb(mmcfg(MMCONFIG_BASE, ICH9_LPC, 0x60)) == 0x80

        cfg_writel(q35, MCH, MCH_PCIEXBAR, 0xE000_0000 | PCIEXBAR_128M | PCIEXBAR_ENABLE)
        assert q35.readl(0xE000_0000) == 0x29C0_8086
        assert q35.readl(MMCONFIG_BASE) == 0
        # A reserved length leaves the window where it is, even with the enable bit clear.
        cfg_writel(q35, MCH, MCH_PCIEXBAR, MMCONFIG_BASE | PCIEXBAR_RESERVED_LENGTH)
        assert cfg_readl(q35, MCH, MCH_PCIEXBAR) == MMCONFIG_BASE | PCIEXBAR_RESERVED_LENGTH
        assert q35.readl(0xE000_0000) == 0x29C0_8086
    finally:
        cfg_writel(q35, MCH, MCH_PCIEXBAR, MMCONFIG_BASE)
    assert q35.readl(0xE000_0000) == 0
    assert q35.readl(MMCONFIG_BASE) == 0


def test_q35_conventional_functions_have_no_extended_config_space(q35: QtestClient) -> None:
    cfg_writel(q35, MCH, MCH_PCIEXBAR, MMCONFIG_BASE | PCIEXBAR_ENABLE)
    try:
        assert q35.readl(mmcfg(MMCONFIG_BASE, ICH9_AHCI, 0xFC)) == 0
        assert q35.readl(mmcfg(MMCONFIG_BASE, MCH, 0x100)) == 0xFFFF_FFFF
        assert q35.readl(mmcfg(MMCONFIG_BASE, ICH9_LPC, 0x100)) == 0xFFFF_FFFF
    finally:
        cfg_writel(q35, MCH, MCH_PCIEXBAR, MMCONFIG_BASE)


# -- q35 SMRAM, TSEG, SMBASE ------------------------------------------------------------------


def smram_set(qts: QtestClient, bit: int, on: bool) -> None:
    value = cfg_readb(qts, MCH, MCH_SMRAM)
    cfg_writeb(qts, MCH, MCH_SMRAM, value | bit if on else value & ~bit)


def smram_bit(qts: QtestClient, bit: int) -> bool:
    return bool(cfg_readb(qts, MCH, MCH_SMRAM) & bit)


def test_q35_smram_lock_clears_and_freezes_d_open_until_reset() -> None:
    """``q35-test``'s SMRAM lock test."""
    with start("-M q35 -nodefaults") as qts:
        assert cfg_readb(qts, MCH, MCH_SMRAM) == 0x02
        assert cfg_readb(qts, MCH, MCH_ESMRAMC) == 0x38
        smram_set(qts, SMRAM_D_OPEN, False)
        assert not smram_bit(qts, SMRAM_D_OPEN)
        smram_set(qts, SMRAM_D_OPEN, True)
        assert smram_bit(qts, SMRAM_D_OPEN)
        smram_set(qts, SMRAM_D_LCK, True)
        assert not smram_bit(qts, SMRAM_D_OPEN)
        smram_set(qts, SMRAM_D_OPEN, True)
        assert not smram_bit(qts, SMRAM_D_OPEN)
        cfg_writeb(qts, MCH, MCH_SMRAM, 0)  # only D_CLS stays writable once locked
        assert cfg_readb(qts, MCH, MCH_SMRAM) == 0x12
        cfg_writeb(qts, MCH, MCH_ESMRAMC, 0x81)
        assert cfg_readb(qts, MCH, MCH_ESMRAMC) == 0x38
        reset(qts)
        smram_set(qts, SMRAM_D_OPEN, False)
        assert not smram_bit(qts, SMRAM_D_OPEN)
        smram_set(qts, SMRAM_D_OPEN, True)
        assert smram_bit(qts, SMRAM_D_OPEN)


@pytest.mark.parametrize(("tseg_sz", "ext_mbytes", "tseg_mbytes"), [
    (0x0, 16, 1), (0x2, 16, 2), (0x4, 16, 8), (0x6, 16, 16), (0x6, 32, 32),
])
def test_q35_locked_tseg_reads_all_ones_outside_smm(tseg_sz: int, ext_mbytes: int, tseg_mbytes: int) -> None:
    """``q35-test``'s TSEG size test: the byte below TSEG is RAM, TSEG itself a black hole."""
    ram_mbytes = 1024
    with start(f"-M q35 -nodefaults -m {ram_mbytes}M -global mch.extended-tseg-mbytes={ext_mbytes}") as qts:
        assert cfg_readw(qts, MCH, MCH_EXT_TSEG_MBYTES) == ext_mbytes
        esmramc = cfg_readb(qts, MCH, MCH_ESMRAMC) & ~ESMRAMC_TSEG_SZ_MASK
        cfg_writeb(qts, MCH, MCH_ESMRAMC, esmramc | tseg_sz | ESMRAMC_T_EN)
        smram = cfg_readb(qts, MCH, MCH_SMRAM) & ~(SMRAM_D_OPEN | SMRAM_D_LCK)
        cfg_writeb(qts, MCH, MCH_SMRAM, smram | SMRAM_D_CLS | SMRAM_G_SMRAME)
        cfg_writeb(qts, MCH, MCH_SMRAM, smram | SMRAM_D_CLS | SMRAM_G_SMRAME | SMRAM_D_LCK)
        below = (ram_mbytes - tseg_mbytes) * MiB - 1
        assert qts.readb(below) == 0
        qts.writeb(below, 1)
        assert qts.readb(below) == 1
        assert qts.readb(below + 1) == 0xFF
        qts.writeb(below + 1, 1)
        assert qts.readb(below + 1) == 0xFF
        assert qts.readl(ram_mbytes * MiB - 4) == 0xFFFF_FFFF


def test_q35_extended_tseg_size_answers_the_query(q35: QtestClient) -> None:
    assert cfg_readw(q35, MCH, MCH_EXT_TSEG_MBYTES) == 16
    cfg_writew(q35, MCH, MCH_EXT_TSEG_MBYTES, 0xFFFF)
    assert cfg_readw(q35, MCH, MCH_EXT_TSEG_MBYTES) == 16


def test_q35_smram_at_smbase_is_negotiated_then_locked() -> None:
    with start("-M q35 -nodefaults") as qts:
        assert cfg_readb(qts, MCH, MCH_F_SMBASE) == 0
        qts.writel(SMBASE, 0x1234_5678)
        cfg_writeb(qts, MCH, MCH_F_SMBASE, F_SMBASE_LCK)  # before negotiation: dropped
        assert cfg_readb(qts, MCH, MCH_F_SMBASE) == 0
        cfg_writeb(qts, MCH, MCH_F_SMBASE, F_SMBASE_QUERY)
        assert cfg_readb(qts, MCH, MCH_F_SMBASE) == F_SMBASE_IN_RAM
        assert qts.readl(SMBASE) == 0x1234_5678
        cfg_writeb(qts, MCH, MCH_F_SMBASE, F_SMBASE_LCK)
        assert cfg_readb(qts, MCH, MCH_F_SMBASE) == F_SMBASE_LCK
        assert qts.readl(SMBASE) == 0xFFFF_FFFF
        cfg_writeb(qts, MCH, MCH_F_SMBASE, 0)
        assert cfg_readb(qts, MCH, MCH_F_SMBASE) == F_SMBASE_LCK


# -- PIIX3 PIRQ routing -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pc_ahci() -> Iterator[QtestClient]:
    """pc with an ich9-ahci in slot 2, its ABAR mapped and bus mastering on."""
    with start("-M pc -nodefaults -device ich9-ahci") as qts:
        qts.irq_intercept_in("ioapic")
        map_bar(qts, AHCI, AHCI_BAR, ABAR, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
        yield qts


def asserted_gsis(qts: QtestClient) -> list[int]:
    return [n for n in range(24) if qts.get_irq(n)]


def test_pirq_router_steers_ahci_intx_to_the_isa_irq_it_names(pc_ahci: QtestClient) -> None:
    qts = pc_ahci
    assert cfg_readl(qts, AHCI, 0) == 0x2922_8086
    assert cfg_readb(qts, AHCI, PCI_INTERRUPT_PIN) == 1  # INTA#
    cfg_writeb(qts, PIIX3, PIIX_PIRQC + AHCI_PIRQ, 11)
    # The port's first D2H FIS (posted when FIS receive starts) raises DHRS.
    qts.writel(ABAR + PORT0 + PX_FB, FIS_AREA)
    qts.writel(ABAR + PORT0 + PX_IE, PX_IRQ_DHRS)
    qts.writel(ABAR + HBA_GHC, GHC_AE | GHC_IE)
    assert asserted_gsis(qts) == []
    qts.writel(ABAR + PORT0 + PX_CMD, PX_CMD_FRE)
    assert asserted_gsis(qts) == [11]
    assert qts.readl(ABAR + HBA_IS) == 0x1
    assert qts.readl(ABAR + PORT0 + PX_IS) == PX_IRQ_DHRS
    assert cfg_readw(qts, AHCI, PCI_STATUS) == PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT
    cfg_writeb(qts, PIIX3, PIIX_PIRQC + AHCI_PIRQ, 10)
    assert asserted_gsis(qts) == [10]
    cfg_writeb(qts, PIIX3, PIIX_PIRQC + AHCI_PIRQ, 0x80)  # routing off
    assert asserted_gsis(qts) == []
    cfg_writeb(qts, PIIX3, PIIX_PIRQC + AHCI_PIRQ, 11)
    assert asserted_gsis(qts) == [11]
    command = cfg_readw(qts, AHCI, PCI_COMMAND)
    cfg_writew(qts, AHCI, PCI_COMMAND, command | PCI_COMMAND_INTX_DISABLE)
    assert asserted_gsis(qts) == []
    assert cfg_readw(qts, AHCI, PCI_STATUS) == PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT
    cfg_writew(qts, AHCI, PCI_COMMAND, command)
    assert asserted_gsis(qts) == [11]
    qts.writel(ABAR + PORT0 + PX_IS, PX_IRQ_DHRS)  # acknowledge
    assert asserted_gsis(qts) == []
    assert qts.readl(ABAR + HBA_IS) == 0
    assert cfg_readw(qts, AHCI, PCI_STATUS) == PCI_STATUS_CAP_LIST


def test_ahci_first_d2h_fis_and_port_registers_without_a_drive(pc_ahci: QtestClient) -> None:
    qts = pc_ahci
    assert qts.readl(ABAR + PORT0 + PX_FB) == FIS_AREA
    assert qts.readl(ABAR + PORT0 + PX_CMD) == 0x4010  # FRE and FR (FIS receive running)
    assert qts.readl(ABAR + PORT0 + PX_TFD) == 0x50
    assert qts.readl(ABAR + PORT0 + PX_SIG) == 0xFFFF_0101
    assert qts.bufread(FIS_AREA + 0x40, 20) == bytes.fromhex("3440500001ffffa0000000000100000000000000")


def test_device_addr_chooses_the_slot() -> None:
    with start("-M pc -nodefaults -device ich9-ahci,addr=4") as qts:
        assert cfg_readl(qts, devfn(4), 0) == 0x2922_8086
        assert cfg_readl(qts, devfn(2), 0) == 0xFFFF_FFFF
