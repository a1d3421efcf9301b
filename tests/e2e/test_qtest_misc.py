"""The other x86 board devices driven through qtest, as QEMU's ``fw_cfg-test``, ``fdc-test`` and friends do.

fw_cfg, the i8259 pair and the IOAPIC, the i8257 DMA controllers, the
floppy controller, the IDE and AHCI controllers without drives, the PIIX4
and ICH9 SMBus hosts with QEMU's (empty) SPD EEPROMs, port 0x92, ACPI S5
through PM1a_CNT and the q35 TCO registers.  Every expected value is what
QEMU 7.2 answers (see :mod:`.qtest_x86` to run these tests against it).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from .qtest_client import QtestClient
from .qtest_x86 import (
    PCI_COMMAND,
    PCI_COMMAND_IO,
    PCI_COMMAND_MEMORY,
    cfg_readb,
    cfg_readl,
    cfg_writeb,
    cfg_writel,
    cfg_writew,
    devfn,
    map_bar,
    pyqemu_bug,
    start,
)

BOARDS = ("pc", "q35")

# fw_cfg.
FW_CFG_CTL, FW_CFG_DATA, FW_CFG_DMA = 0x510, 0x511, 0x514
FW_CFG_SIGNATURE, FW_CFG_ID, FW_CFG_UUID, FW_CFG_RAM_SIZE = 0x00, 0x01, 0x02, 0x03
FW_CFG_NOGRAPHIC, FW_CFG_NB_CPUS, FW_CFG_NUMA, FW_CFG_BOOT_MENU = 0x04, 0x05, 0x0D, 0x0E
FW_CFG_MAX_CPUS, FW_CFG_FILE_DIR, FW_CFG_FILE_FIRST = 0x0F, 0x19, 0x20
FW_CFG_ID_TRADITIONAL_AND_DMA = 0x3
FILE_ENTRY = struct.Struct(">IHH56s")
UUID = "4600cb32-38ec-4b2f-8acb-81c6ea54f2d8"
FW_CFG_ARGS = (f"-m 256M -smp 2,maxcpus=6 -boot menu=on,splash-time=12,reboot-timeout=15 -uuid {UUID}")
#: QEMU 7.2's file directory for FW_CFG_ARGS (name: size), the same on pc and q35 but for these.
FW_CFG_FILES_COMMON = {
    "bios-geometry": 0, "bootorder": 0, "etc/acpi/rsdp": 20, "etc/acpi/tables": 131072,
    "etc/boot-fail-wait": 4, "etc/boot-menu-wait": 2, "etc/e820": 40, "etc/system-states": 6,
    "etc/smbios/smbios-anchor": 31, "etc/table-loader": 4096, "etc/tpm/log": 0, "genroms/kvmvapic.bin": 9216,
}
FW_CFG_FILES = {
    "pc": {**FW_CFG_FILES_COMMON, "etc/smbios/smbios-tables": 321},
    "q35": {**FW_CFG_FILES_COMMON, "etc/smbios/smbios-tables": 309, "etc/smi/features-ok": 1,
            "etc/smi/requested-features": 8, "etc/smi/supported-features": 8},
}

# i8259.
PIC_MASTER, PIC_SLAVE = 0x20, 0xA0
ELCR_MASTER, ELCR_SLAVE = 0x4D0, 0x4D1
OCW3_READ_IRR, OCW3_READ_ISR, OCW3_POLL = 0x0A, 0x0B, 0x0C
OCW2_EOI = 0x20
# A 16550 at COM1 whose "transmitter empty" interrupt is a level the test can switch (ISA IRQ 4).
COM1_IER, COM1_MCR = 0x3F9, 0x3FC
IER_THRI, MCR_OUT2 = 0x02, 0x08
COM1_IRQ = 4

# IOAPIC.
IOAPIC = 0xFEC0_0000
IOREGSEL, IOWIN, IOEOI = 0x00, 0x10, 0x40
IOAPIC_ID, IOAPIC_VER, IOAPIC_ARB, IOAPIC_REDTBL = 0x00, 0x01, 0x02, 0x10
RTE_MASKED, RTE_LEVEL, RTE_REMOTE_IRR = 0x1_0000, 0x8000, 0x4000

# i8257.
DMA1_CH2_ADDR, DMA1_CH2_COUNT, DMA1_STATUS, DMA1_FLIPFLOP = 0x04, 0x05, 0x08, 0x0C
DMA1_SINGLE_MASK, DMA1_MASTER_CLEAR, DMA1_ALL_MASK = 0x0A, 0x0D, 0x0F
DMA2_CH5_ADDR, DMA2_STATUS, DMA2_FLIPFLOP = 0xC4, 0xD0, 0xD8
DMA_PAGE_CH2, DMA_PAGE_CH5 = 0x81, 0x8B

# Floppy controller.
FDC_SRB, FDC_DOR, FDC_TDR, FDC_MSR, FDC_FIFO, FDC_DIR = 0x3F1, 0x3F2, 0x3F3, 0x3F4, 0x3F5, 0x3F7
DOR_DMA_NRESET, DOR_DMA_RESET = 0x0C, 0x08
MSR_RQM, MSR_DIO, MSR_CMDBUSY = 0x80, 0x40, 0x10
CMD_SPECIFY, CMD_SENSE_DRIVE, CMD_SENSE_INT = 0x03, 0x04, 0x08
CMD_DUMPREG, CMD_SEEK, CMD_VERSION = 0x0E, 0x0F, 0x10
ST0_INVALID, ST0_RDYCHG, ST0_SEEK_END = 0x80, 0xC0, 0x20
FLOPPY_IRQ = 6

# IDE (piix3-ide's legacy primary channel).
IDE_DATA, IDE_NSECTOR, IDE_SECTOR, IDE_SELECT, IDE_STATUS = 0x1F0, 0x1F2, 0x1F3, 0x1F6, 0x1F7
IDE_ALT_STATUS = 0x3F6
WIN_IDENTIFY = 0xEC
IDE_IRQ = 14

# AHCI (q35's ich9-ahci at 1f.2).
ICH9_AHCI = devfn(0x1F, 2)
ABAR, IDP_BASE = 0xFEBF_0000, 0xC000
AHCI_ABAR_BAR = 5  # BAR number; BAR4 (config 0x20) is the index/data pair
AHCI_IDP_REG, AHCI_ABAR_REG = 0x20, 0x24
AHCI_IDP_INDEX, AHCI_IDP_DATA = 0x10, 0x14
HBA_CAP, HBA_GHC, HBA_IS, HBA_PI, HBA_VS = 0x00, 0x04, 0x08, 0x0C, 0x10
AHCI_CAP = 0xC014_1F05  # 64-bit, NCQ, SNTF... 32 command slots, 6 ports
GHC_AE = 0x8000_0000
PORT_REGS = 0x100
PX_TFD, PX_SIG, PX_SSTS, PX_SCTL = 0x20, 0x24, 0x28, 0x2C

# SMBus (PIIX4_PM's at 0xb100 on pc; ICH9-SMB's through BAR4 on q35).
PIIX4_PM, ICH9_SMBUS = devfn(1, 3), devfn(0x1F, 3)
PIIX4_SMBUS_BASE, ICH9_SMBUS_BASE = 0xB100, 0x0700
SMB_STS, SMB_CNT, SMB_CMD, SMB_ADD, SMB_DAT0 = 0, 2, 3, 4, 5
SMB_STS_BUSY, SMB_STS_INTR, SMB_STS_DEV_ERR = 0x01, 0x02, 0x04
SMB_CNT_START_BYTE_DATA, SMB_CNT_INTREN = 0x48, 0x01
ICH9_SMB_HOSTC, ICH9_SMB_HOSTC_HST_EN = 0x40, 0x01
SPD_ADDRESSES = range(0x50, 0x58)

# ACPI.
PMBASE = 0x600
PM1_CNT = PMBASE + 4
PM1_CNT_SLP_EN, PM1_CNT_SCI_EN = 0x2000, 0x0001
ICH9_LPC = devfn(0x1F, 0)
TCO = PMBASE + 0x60
TCO_RLD, TCO_DAT_IN, TCO_DAT_OUT, TCO1_STS, TCO2_STS = 0x00, 0x02, 0x03, 0x04, 0x06
TCO1_CNT, TCO2_CNT, TCO_MESSAGE, TCO_WDCNT, SW_IRQ_GEN, TCO_TMR = 0x08, 0x0A, 0x0C, 0x0E, 0x10, 0x12


@pytest.fixture(params=BOARDS)
def board(request: pytest.FixtureRequest) -> tuple[str, QtestClient]:
    """Each board's shared emulator, with its name."""
    return request.param, request.getfixturevalue(request.param)


def asserted(qts: QtestClient) -> list[int]:
    return [n for n in range(24) if qts.get_irq(n)]


def read_ports(qts: QtestClient, ports: tuple[int, ...]) -> list[int]:
    return [qts.inb(port) for port in ports]


# -- fw_cfg -----------------------------------------------------------------------------------


def fw_cfg_read(qts: QtestClient, key: int, size: int) -> bytes:
    qts.outw(FW_CFG_CTL, key)
    return bytes(qts.inb(FW_CFG_DATA) for _ in range(size))


def fw_cfg_files(qts: QtestClient) -> dict[str, tuple[int, int]]:
    """The file directory: name -> (size, selector)."""
    qts.outw(FW_CFG_CTL, FW_CFG_FILE_DIR)
    count = struct.unpack(">I", bytes(qts.inb(FW_CFG_DATA) for _ in range(4)))[0]
    files = {}
    for _ in range(count):
        entry = bytes(qts.inb(FW_CFG_DATA) for _ in range(FILE_ENTRY.size))
        size, select, _reserved, name = FILE_ENTRY.unpack(entry)
        files[name.rstrip(b"\0").decode()] = (size, select)
    return files


@pytest.fixture(scope="module", params=BOARDS)
def fw_cfg_board(request: pytest.FixtureRequest) -> Iterator[tuple[str, QtestClient]]:
    with start(f"-M {request.param} -nodefaults {FW_CFG_ARGS}") as qts:
        yield request.param, qts


def test_fw_cfg_signature_id_and_dma_interface(fw_cfg_board: tuple[str, QtestClient]) -> None:
    _, qts = fw_cfg_board
    assert fw_cfg_read(qts, FW_CFG_SIGNATURE, 4) == b"QEMU"
    assert fw_cfg_read(qts, FW_CFG_ID, 4) == struct.pack("<I", FW_CFG_ID_TRADITIONAL_AND_DMA)
    assert qts.inl(FW_CFG_DMA) == 0x554D_4551  # "QEMU CFG" read as two big-endian words
    assert qts.inl(FW_CFG_DMA + 4) == 0x4746_4320


def test_fw_cfg_machine_items(fw_cfg_board: tuple[str, QtestClient]) -> None:
    _, qts = fw_cfg_board
    assert fw_cfg_read(qts, FW_CFG_UUID, 16) == bytes.fromhex(UUID.replace("-", ""))
    assert fw_cfg_read(qts, FW_CFG_RAM_SIZE, 8) == struct.pack("<Q", 256 << 20)
    assert fw_cfg_read(qts, FW_CFG_NOGRAPHIC, 2) == struct.pack("<H", 0)
    assert fw_cfg_read(qts, FW_CFG_NB_CPUS, 2) == struct.pack("<H", 2)
    assert fw_cfg_read(qts, FW_CFG_MAX_CPUS, 2) == struct.pack("<H", 6)
    assert fw_cfg_read(qts, FW_CFG_NUMA, 8) == struct.pack("<Q", 0)
    assert fw_cfg_read(qts, FW_CFG_BOOT_MENU, 2) == struct.pack("<H", 1)


def test_fw_cfg_boot_files_and_reads_past_the_end(fw_cfg_board: tuple[str, QtestClient]) -> None:
    _, qts = fw_cfg_board
    files = fw_cfg_files(qts)
    assert list(files) == sorted(files)
    selectors = [select for _, select in files.values()]
    assert selectors == list(range(FW_CFG_FILE_FIRST, FW_CFG_FILE_FIRST + len(files)))

    def contents(name: str) -> bytes:
        size, select = files[name]
        return fw_cfg_read(qts, select, size)

    assert contents("etc/boot-fail-wait") == struct.pack("<I", 15)
    assert contents("etc/boot-menu-wait") == struct.pack("<H", 12)
    assert files["bootorder"][0] == files["bios-geometry"][0] == 0
    assert contents("etc/system-states") == bytes.fromhex("800000818280")  # S3 and S4 on offer, S5 = 0
    reserved_ht = struct.pack("<QQI", 0xFD_0000_0000, 0x3_0000_0000, 2)  # AMD's HyperTransport hole
    assert contents("etc/e820") == reserved_ht + struct.pack("<QQI", 0, 256 << 20, 1)
    assert fw_cfg_read(qts, FW_CFG_NB_CPUS, 4) == b"\x02\x00\x00\x00"  # zeros past the end
    assert fw_cfg_read(qts, 0x7777, 2) == b"\x00\x00"  # no such item


@pyqemu_bug("ACPI, SMBIOS, table-loader, tpm/log, SMI and option-ROM files are not generated yet")
def test_fw_cfg_file_directory_is_qemus(fw_cfg_board: tuple[str, QtestClient]) -> None:
    name, qts = fw_cfg_board
    assert {path: size for path, (size, _) in fw_cfg_files(qts).items()} == FW_CFG_FILES[name]


def test_memory_size_without_suffix_is_in_mib() -> None:
    with start("-M pc -nodefaults -m 256") as qts:
        assert fw_cfg_read(qts, FW_CFG_RAM_SIZE, 8) == struct.pack("<Q", 256 << 20)


# -- i8259 ------------------------------------------------------------------------------------


def pic_read(qts: QtestClient, base: int, ocw3: int) -> int:
    qts.outb(base, ocw3)
    return qts.inb(base)


@pytest.fixture(scope="module", params=BOARDS)
def serial_board(request: pytest.FixtureRequest) -> Iterator[QtestClient]:
    """A board with a 16550 at COM1, whose interrupt output a test can switch through IER."""
    with start(f"-M {request.param} -nodefaults -device isa-serial") as qts:
        qts.outb(COM1_MCR, MCR_OUT2)
        yield qts


def test_i8259_initialisation_irr_isr_elcr_and_poll(serial_board: QtestClient) -> None:
    qts = serial_board
    assert (qts.inb(PIC_MASTER + 1), qts.inb(PIC_SLAVE + 1)) == (0, 0)
    assert (qts.inb(ELCR_MASTER), qts.inb(ELCR_SLAVE)) == (0, 0)
    qts.outb(ELCR_MASTER, 0xFF)
    qts.outb(ELCR_SLAVE, 0xFF)
    assert (qts.inb(ELCR_MASTER), qts.inb(ELCR_SLAVE)) == (0xF8, 0xDE)  # IRQ 0-2, 8 and 13 stay edge
    qts.outb(ELCR_MASTER, 0)
    qts.outb(ELCR_SLAVE, 0)
    for port, value in ((0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01),
                        (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, 0x01)):
        qts.outb(port, value)  # ICW1-ICW4: vectors 0x20 and 0x28, cascade on IRQ 2, 8086 mode
    qts.outb(PIC_MASTER + 1, 0xFB)
    assert qts.inb(PIC_MASTER + 1) == 0xFB
    assert pic_read(qts, PIC_MASTER, OCW3_READ_IRR) == 0
    qts.outb(COM1_IER, IER_THRI)  # the UART raises IRQ 4 at once
    assert pic_read(qts, PIC_MASTER, OCW3_READ_IRR) == 1 << COM1_IRQ  # latched though masked
    assert pic_read(qts, PIC_MASTER, OCW3_READ_ISR) == 0
    qts.outb(COM1_IER, 0)
    assert pic_read(qts, PIC_MASTER, OCW3_READ_IRR) == 1 << COM1_IRQ  # edge mode keeps it
    qts.outb(ELCR_MASTER, 1 << COM1_IRQ)
    assert pic_read(qts, PIC_MASTER, OCW3_READ_IRR) == 1 << COM1_IRQ  # switching mode keeps IRR
    qts.outb(COM1_IER, IER_THRI)
    assert pic_read(qts, PIC_MASTER, OCW3_READ_IRR) == 1 << COM1_IRQ
    qts.outb(COM1_IER, 0)
    assert pic_read(qts, PIC_MASTER, OCW3_READ_IRR) == 0  # level mode follows the line
    qts.outb(COM1_IER, IER_THRI)
    qts.outb(PIC_MASTER + 1, 0)
    assert pic_read(qts, PIC_MASTER, OCW3_POLL) == 0x80 | COM1_IRQ  # poll acknowledges it
    assert pic_read(qts, PIC_MASTER, OCW3_READ_ISR) == 1 << COM1_IRQ
    qts.outb(PIC_MASTER, OCW2_EOI)
    assert pic_read(qts, PIC_MASTER, OCW3_READ_ISR) == 0


# -- IOAPIC -----------------------------------------------------------------------------------


def ioapic_read(qts: QtestClient, reg: int) -> int:
    qts.writel(IOAPIC + IOREGSEL, reg)
    return qts.readl(IOAPIC + IOWIN)


def ioapic_write(qts: QtestClient, reg: int, value: int) -> None:
    qts.writel(IOAPIC + IOREGSEL, reg)
    qts.writel(IOAPIC + IOWIN, value)


def test_ioapic_identification_and_redirection_table_reset(board: tuple[str, QtestClient]) -> None:
    _, qts = board
    assert ioapic_read(qts, IOAPIC_ID) == 0
    assert ioapic_read(qts, IOAPIC_VER) == 0x0017_0020  # 24 entries, version 0x20
    assert ioapic_read(qts, IOAPIC_ARB) == 0
    for pin in (0, 9, 23):
        assert ioapic_read(qts, IOAPIC_REDTBL + 2 * pin) == RTE_MASKED
        assert ioapic_read(qts, IOAPIC_REDTBL + 2 * pin + 1) == 0
    assert ioapic_read(qts, 0x40) == 0  # past the table
    assert qts.readl(IOAPIC + IOREGSEL) == 0x40


def test_ioapic_writable_bits(pc: QtestClient) -> None:
    qts = pc
    ioapic_write(qts, IOAPIC_ID, 0xFFFF_FFFF)
    assert ioapic_read(qts, IOAPIC_ID) == 0x0F00_0000
    ioapic_write(qts, IOAPIC_VER, 0xFFFF_FFFF)
    assert ioapic_read(qts, IOAPIC_VER) == 0x0017_0020
    ioapic_write(qts, IOAPIC_REDTBL + 8, 0xFFFF_FFFF)  # delivery status and remote IRR are read-only
    assert ioapic_read(qts, IOAPIC_REDTBL + 8) == 0xFFFF_AFFF
    ioapic_write(qts, IOAPIC_REDTBL + 9, 0xFFFF_FFFF)
    assert ioapic_read(qts, IOAPIC_REDTBL + 9) == 0xFFFF_FFFF


def test_ioapic_version_0x11_from_the_command_line() -> None:
    with start("-M pc -nodefaults -global ioapic.version=0x11") as qts:
        assert ioapic_read(qts, IOAPIC_VER) == 0x0017_0011


def test_ioapic_level_entry_sets_remote_irr_until_eoi_with_the_line_low(serial_board: QtestClient) -> None:
    qts = serial_board
    qts.outb(COM1_IER, 0)
    ioapic_write(qts, IOAPIC_REDTBL + 2 * COM1_IRQ + 1, 0)
    ioapic_write(qts, IOAPIC_REDTBL + 2 * COM1_IRQ, RTE_LEVEL | 0x34)
    assert ioapic_read(qts, IOAPIC_REDTBL + 2 * COM1_IRQ) == RTE_LEVEL | 0x34
    qts.outb(COM1_IER, IER_THRI)
    assert ioapic_read(qts, IOAPIC_REDTBL + 2 * COM1_IRQ) == RTE_LEVEL | RTE_REMOTE_IRR | 0x34
    qts.writel(IOAPIC + IOEOI, 0x34)  # the line is still high: delivered again at once
    assert ioapic_read(qts, IOAPIC_REDTBL + 2 * COM1_IRQ) == RTE_LEVEL | RTE_REMOTE_IRR | 0x34
    qts.outb(COM1_IER, 0)
    assert ioapic_read(qts, IOAPIC_REDTBL + 2 * COM1_IRQ) == RTE_LEVEL | RTE_REMOTE_IRR | 0x34
    qts.writel(IOAPIC + IOEOI, 0x34)
    assert ioapic_read(qts, IOAPIC_REDTBL + 2 * COM1_IRQ) == RTE_LEVEL | 0x34


# -- i8257 ------------------------------------------------------------------------------------


def test_i8257_registers_through_the_flip_flop(board: tuple[str, QtestClient]) -> None:
    _, qts = board
    assert qts.inb(DMA1_STATUS) == 0
    qts.outb(DMA1_FLIPFLOP, 0)
    for port, value in ((DMA1_CH2_ADDR, 0x1234), (DMA1_CH2_COUNT, 0x01FF)):
        qts.outb(port, value & 0xFF)
        qts.outb(port, value >> 8)
    qts.outb(DMA1_FLIPFLOP, 0)
    assert [qts.inb(DMA1_CH2_ADDR) for _ in range(2)] == [0x34, 0x12]
    assert [qts.inb(DMA1_CH2_COUNT) for _ in range(2)] == [0xFF, 0x01]
    qts.outb(DMA_PAGE_CH2, 0x07)
    assert qts.inb(DMA_PAGE_CH2) == 0x07
    qts.outb(DMA2_FLIPFLOP, 0)
    qts.outb(DMA2_CH5_ADDR, 0x78)
    qts.outb(DMA2_CH5_ADDR, 0x56)
    qts.outb(DMA2_FLIPFLOP, 0)
    assert [qts.inb(DMA2_CH5_ADDR) for _ in range(2)] == [0x78, 0x56]
    assert qts.inb(DMA2_STATUS) == 0
    assert qts.inb(DMA_PAGE_CH5) == 0
    qts.outb(DMA1_SINGLE_MASK, 0x02)
    assert qts.inb(DMA1_ALL_MASK) == 0  # QEMU reads the mask register as 0
    qts.outb(DMA1_MASTER_CLEAR, 0)
    assert qts.inb(DMA1_STATUS) == 0


# -- floppy controller ------------------------------------------------------------------------


def fdc_command(qts: QtestClient, *data: int) -> None:
    for byte in data:
        qts.outb(FDC_FIFO, byte)


def fdc_results(qts: QtestClient) -> list[int]:
    """Read result bytes while the controller offers them (MSR: RQM and DIO)."""
    results = []
    while qts.inb(FDC_MSR) & (MSR_RQM | MSR_DIO) == MSR_RQM | MSR_DIO:
        results.append(qts.inb(FDC_FIFO))
    return results


def test_fdc_registers_version_and_idle_sense_interrupt(pc: QtestClient) -> None:
    assert read_ports(pc, (FDC_MSR, FDC_DOR, FDC_DIR, FDC_SRB, FDC_TDR)) == [0x80, 0x0C, 0x80, 0xC0, 0x00]
    fdc_command(pc, CMD_VERSION)
    assert pc.inb(FDC_MSR) == MSR_RQM | MSR_DIO | MSR_CMDBUSY
    assert fdc_results(pc) == [0x90]
    assert pc.inb(FDC_MSR) == MSR_RQM
    fdc_command(pc, CMD_SENSE_INT)  # nothing pending: "invalid command"
    assert fdc_results(pc) == [ST0_INVALID]
    fdc_command(pc, CMD_SPECIFY, 0xAF, 0x02)
    assert fdc_results(pc) == []
    fdc_command(pc, CMD_DUMPREG)  # cylinders, step rate, head unload|DMA, ..., lock|perpendicular
    assert fdc_results(pc) == [0, 0, 0, 0, 0x0A, 0x03, 0, 0, 0x60, 0]
    fdc_command(pc, 0x1F)  # not a command
    assert fdc_results(pc) == [ST0_INVALID]
    pc.outb(0x70, 0x10)
    assert pc.inb(0x71) == 0  # CMOS: no floppy drives


def test_fdc_reset_interrupts_and_four_sense_interrupts_report_it(pc: QtestClient) -> None:
    pc.outb(FDC_DOR, DOR_DMA_RESET)
    assert not pc.get_irq(FLOPPY_IRQ)
    pc.outb(FDC_DOR, DOR_DMA_NRESET)
    assert pc.get_irq(FLOPPY_IRQ)
    for drive in range(4):
        fdc_command(pc, CMD_SENSE_INT)
        assert fdc_results(pc) == [ST0_RDYCHG | drive, 0]
        assert not pc.get_irq(FLOPPY_IRQ)
    fdc_command(pc, CMD_SENSE_INT)
    assert fdc_results(pc) == [ST0_INVALID]


def test_fdc_seek_interrupts_and_sense_reports_the_cylinder(pc: QtestClient) -> None:
    fdc_command(pc, CMD_SENSE_DRIVE, 0)
    assert fdc_results(pc) == [0x78]
    fdc_command(pc, CMD_SEEK, 0)
    assert not pc.get_irq(FLOPPY_IRQ)
    fdc_command(pc, 5)
    assert pc.get_irq(FLOPPY_IRQ)
    fdc_command(pc, CMD_SENSE_INT)
    assert fdc_results(pc) == [ST0_SEEK_END, 0]  # no drive: the head stays at cylinder 0
    assert not pc.get_irq(FLOPPY_IRQ)


# -- IDE and AHCI without drives ---------------------------------------------------------------


def test_ide_channel_without_drives_reads_zero_and_never_interrupts(board: tuple[str, QtestClient]) -> None:
    name, qts = board
    absent = 0xFF if name == "q35" else 0x00  # q35 has no legacy IDE ports at all
    assert read_ports(qts, (IDE_STATUS, IDE_ALT_STATUS, IDE_NSECTOR, IDE_SELECT, 0x177)) == [absent] * 5
    qts.outb(IDE_NSECTOR, 0x55)
    qts.outb(IDE_SECTOR, 0xAA)
    assert read_ports(qts, (IDE_NSECTOR, IDE_SECTOR)) == [absent] * 2
    qts.outb(IDE_SELECT, 0xB0)
    qts.outb(IDE_STATUS, WIN_IDENTIFY)
    assert qts.inb(IDE_STATUS) == absent
    assert qts.inw(IDE_DATA) == absent * 0x101
    assert not qts.get_irq(IDE_IRQ)


def test_q35_ahci_hba_registers_through_abar_and_the_index_data_pair(q35: QtestClient) -> None:
    qts = q35
    assert cfg_readl(qts, ICH9_AHCI, AHCI_ABAR_REG) == 0
    cfg_writel(qts, ICH9_AHCI, AHCI_ABAR_REG, 0xFFFF_FFFF)
    assert cfg_readl(qts, ICH9_AHCI, AHCI_ABAR_REG) == 0xFFFF_F000  # a 4 KiB memory BAR
    cfg_writel(qts, ICH9_AHCI, AHCI_IDP_REG, 0xFFFF_FFFF)
    assert cfg_readl(qts, ICH9_AHCI, AHCI_IDP_REG) == 0xFFFF_FFE1  # 32 bytes of I/O
    cfg_writel(qts, ICH9_AHCI, AHCI_IDP_REG, IDP_BASE)
    map_bar(qts, ICH9_AHCI, AHCI_ABAR_BAR, ABAR, PCI_COMMAND_MEMORY | PCI_COMMAND_IO)
    hba = [qts.readl(ABAR + reg) for reg in (HBA_CAP, HBA_GHC, HBA_IS, HBA_PI, HBA_VS)]
    assert hba == [AHCI_CAP, GHC_AE, 0, 0x3F, 0x0001_0000]
    for port in range(6):
        regs = [qts.readl(ABAR + PORT_REGS + 0x80 * port + reg) for reg in (PX_TFD, PX_SIG, PX_SSTS, PX_SCTL)]
        assert regs == [0x7F, 0xFFFF_FFFF, 0, 0]
    qts.outl(IDP_BASE + AHCI_IDP_INDEX, HBA_PI)
    assert qts.inl(IDP_BASE + AHCI_IDP_INDEX) == HBA_PI
    assert qts.inl(IDP_BASE + AHCI_IDP_DATA) == 0x3F
    qts.outl(IDP_BASE + AHCI_IDP_INDEX, HBA_VS)
    assert qts.inl(IDP_BASE + AHCI_IDP_DATA) == 0x0001_0000
    cfg_writew(qts, ICH9_AHCI, PCI_COMMAND, 0)


# -- SMBus ------------------------------------------------------------------------------------


def smbus_base(name: str, qts: QtestClient) -> int:
    """The SMBus host's I/O base: PIIX4_PM's fixed one, or ICH9-SMB's BAR4 once programmed."""
    if name == "pc":
        return PIIX4_SMBUS_BASE
    cfg_writel(qts, ICH9_SMBUS, 0x20, ICH9_SMBUS_BASE | 1)
    cfg_writeb(qts, ICH9_SMBUS, ICH9_SMB_HOSTC, ICH9_SMB_HOSTC_HST_EN)
    cfg_writew(qts, ICH9_SMBUS, PCI_COMMAND, PCI_COMMAND_IO)
    return ICH9_SMBUS_BASE


def smbus_transfer(qts: QtestClient, base: int, address: int, command: int, control: int,
                   data: int | None = None) -> tuple[int, int, int]:
    """A byte-data transfer; the status read at once, the status read next, and DAT0."""
    qts.outb(base + SMB_ADD, address << 1 | (data is None))
    qts.outb(base + SMB_CMD, command)
    if data is not None:
        qts.outb(base + SMB_DAT0, data)
    qts.outb(base + SMB_CNT, control)
    first = qts.inb(base + SMB_STS)
    value = qts.inb(base + SMB_DAT0)
    second = qts.inb(base + SMB_STS)
    qts.outb(base + SMB_STS, 0xFF)
    return first, second, value


def test_piix4_smbus_host_configuration(pc: QtestClient) -> None:
    assert cfg_readl(pc, PIIX4_PM, 0x90) == PIIX4_SMBUS_BASE | 1
    assert cfg_readb(pc, PIIX4_PM, 0xD2) == 0x09  # host enabled, SMI routing off


def test_smbus_spd_eeproms_are_empty_and_writable(board: tuple[str, QtestClient]) -> None:
    """QEMU 7.2 fills the SPD EEPROMs of pc and q35 with nothing: every byte reads 0."""
    name, qts = board
    base = smbus_base(name, qts)
    assert qts.inb(base + SMB_STS) == 0
    byte_data, with_irq = SMB_CNT_START_BYTE_DATA, SMB_CNT_START_BYTE_DATA | SMB_CNT_INTREN
    for address in SPD_ADDRESSES:
        # Without INTREN QEMU reports "busy" on the first status read and the outcome on the next.
        assert smbus_transfer(qts, base, address, 0x00, byte_data) == (SMB_STS_BUSY, SMB_STS_INTR, 0)
        assert smbus_transfer(qts, base, address, 0x80, byte_data)[2] == 0
    assert smbus_transfer(qts, base, 0x58, 0, byte_data) == (SMB_STS_BUSY, SMB_STS_DEV_ERR, 0)
    assert smbus_transfer(qts, base, 0x50, 0x10, byte_data, 0xAB)[:2] == (SMB_STS_BUSY, SMB_STS_INTR)
    assert smbus_transfer(qts, base, 0x50, 0x10, byte_data)[2] == 0xAB
    assert smbus_transfer(qts, base, 0x51, 0x10, byte_data)[2] == 0
    assert smbus_transfer(qts, base, 0x50, 0x10, with_irq, 0)[:2] == (SMB_STS_INTR, SMB_STS_INTR)
    assert smbus_transfer(qts, base, 0x58, 0, with_irq)[:2] == (SMB_STS_DEV_ERR, SMB_STS_DEV_ERR)


def test_ich9_smbus_completion_interrupt_is_intx(q35: QtestClient) -> None:
    qts = q35
    base = smbus_base("q35", qts)
    qts.outb(base + SMB_ADD, 0x50 << 1 | 1)
    qts.outb(base + SMB_CNT, SMB_CNT_START_BYTE_DATA | SMB_CNT_INTREN)
    assert asserted(qts) == [16]  # INTA# of 1f.3 through PIRQA, QEMU's default GSI 16
    qts.outb(base + SMB_STS, 0xFF)
    assert asserted(qts) == []


# -- port 0x92, ACPI --------------------------------------------------------------------------


def test_port_92_keeps_a20_and_reads_back(board: tuple[str, QtestClient]) -> None:
    _, qts = board
    assert qts.inb(0x92) == 0
    qts.outb(0x92, 0x02)
    assert qts.inb(0x92) == 0x02
    qts.outb(0x92, 0xFE)
    assert qts.inb(0x92) == 0xFE
    qts.outb(0x92, 0)


@pytest.mark.parametrize("name", BOARDS)
def test_port_92_bit_0_resets_the_machine(name: str) -> None:
    with start(f"-M {name} -nodefaults") as qts:
        qts.outb(0x92, 0x03)
        assert qts.wait_event("RESET")["data"] == {"guest": True, "reason": "guest-reset"}
        assert qts.inb(0x92) == 0x02


def enable_pm_io(name: str, qts: QtestClient) -> None:
    if name == "pc":
        cfg_writel(qts, PIIX4_PM, 0x40, PMBASE | 1)
        cfg_writeb(qts, PIIX4_PM, 0x80, 0x01)
    else:
        cfg_writel(qts, ICH9_LPC, 0x40, PMBASE | 1)
        cfg_writeb(qts, ICH9_LPC, 0x44, 0x80)


@pytest.mark.parametrize("name", BOARDS)
def test_acpi_s5_through_pm1a_cnt_shuts_the_machine_down(name: str) -> None:
    qts = start(f"-M {name} -nodefaults")
    try:
        enable_pm_io(name, qts)
        assert qts.inw(PM1_CNT) == 0
        qts.outw(PM1_CNT, PM1_CNT_SCI_EN)
        assert qts.inw(PM1_CNT) == PM1_CNT_SCI_EN
        qts.outw(PM1_CNT, PM1_CNT_SCI_EN | PM1_CNT_SLP_EN)  # SLP_TYP 0 is S5 on both chipsets
        assert qts.wait_event("SHUTDOWN")["data"] == {"guest": True, "reason": "guest-shutdown"}
        assert qts.proc.wait(timeout=10) == 0
    finally:
        qts.quit()


def test_q35_tco_registers_after_reset(q35: QtestClient) -> None:
    """``tco-test``'s defaults, at PMBASE + 0x60."""
    qts = q35
    enable_pm_io("q35", qts)
    word_regs = (TCO_RLD, TCO1_STS, TCO2_STS, TCO1_CNT, TCO2_CNT, TCO_WDCNT, TCO_TMR)
    assert [qts.inw(TCO + reg) for reg in word_regs] == [0, 0, 0, 0, 0x0008, 0, 0x0004]
    byte_regs = (TCO_DAT_IN, TCO_DAT_OUT, TCO_MESSAGE, SW_IRQ_GEN)
    assert [qts.inb(TCO + reg) for reg in byte_regs] == [0, 0, 0, 0x03]
