"""The ATA register file of one IDE channel with no drive on it (QEMU's ``IDEBus`` / ``IDEState``).

A channel has two device positions, master (0) and slave (1), sharing one
task file: every write to the command block goes to both, and the
device/head register's DEV bit selects which one answers.  This model has
no block layer, so both positions are empty, and then QEMU 7.2 behaves as
follows, which is what a guest probing the bus sees:

- every task-file read returns 0 (the status register too, so a probe finds
  "no device"); reading status (not alternate status) lowers the IRQ;
- a byte read of the data port returns the low byte of a 16-bit data read,
  and data reads return 0 unless a PIO data-in transfer is under way;
- a command written while the master is selected still runs against the
  empty position (most abort, see :mod:`pyqemu.hw.ide.commands`) and raises
  the channel's IRQ unless nIEN is set; commands to the empty slave are
  ignored; command-block writes are ignored while BSY or DRQ is set;
- setting SRST in the device control register marks both positions busy and
  resets them from a bottom half, which then runs the power-on diagnostic
  (raising the IRQ).

The register state kept here (signature, error, status …) is also what an
AHCI port reports in its first D2H register FIS.
"""

from __future__ import annotations

from collections.abc import Callable

# Status register bits.
ERR_STAT = 0x01
DRQ_STAT = 0x08
SEEK_STAT = 0x10
READY_STAT = 0x40
BUSY_STAT = 0x80
# Error register bits.
ABRT_ERR = 0x04
# Device control register bits (QEMU keeps the last value written as ``bus->cmd``).
IDE_CTRL_DISABLE_IRQ = 0x02
IDE_CTRL_RESET = 0x04
IDE_CTRL_HOB = 0x80
# Device/head register bits.
ATA_DEV_HS = 0x0F
ATA_DEV_SELECT = 0x10
ATA_DEV_ALWAYS_ON = 0xA0

# Command block registers (offsets from the channel's base port).
REG_DATA = 0
REG_FEATURE = 1  # error when read
REG_NSECTOR = 2
REG_SECTOR = 3
REG_LCYL = 4
REG_HCYL = 5
REG_SELECT = 6
REG_COMMAND = 7  # status when read
CMD_BLOCK_SIZE = 8

SECTOR_SIZE = 512
MAX_MULT_SECTORS = 16
#: The signature an empty position reports in the cylinder registers.
NO_DEVICE_CYL = 0xFF

#: ``schedule(callback)`` runs ``callback`` soon, from the main loop (a bottom half).
Scheduler = Callable[[Callable[[], None]], None]
IrqSetter = Callable[[int], None]


class AtaDevice:
    """The register state of one device position (master or slave) with no drive attached."""

    def __init__(self, unit: int) -> None:
        self.unit = unit
        # SMART state survives resets (QEMU keeps it in the IDEState, untouched by ide_reset).
        self.smart_enabled = False
        self.smart_autosave = False
        self.smart_errors = 0
        self.smart_selftest_count = 0
        self.smart_selftest_data = bytearray(SECTOR_SIZE)
        self.io_buffer = bytearray(SECTOR_SIZE)
        self.reset()

    def reset(self) -> None:
        """The state after a bus or software reset (``ide_reset``)."""
        self.mult_sectors = MAX_MULT_SECTORS
        self.feature = self.error = 0
        self.nsector = self.sector = self.lcyl = self.hcyl = 0
        self.hob_feature = self.hob_nsector = self.hob_sector = self.hob_lcyl = self.hob_hcyl = 0
        self.select = ATA_DEV_ALWAYS_ON
        self.status = READY_STAT | SEEK_STAT
        self.lba48 = False
        self.set_signature()
        self.transfer_stop()

    def set_signature(self) -> None:
        """Clear the head bits and put the "no device" signature in the registers."""
        self.select &= ~ATA_DEV_HS & 0xFF
        self.nsector = 1
        self.sector = 1
        self.lcyl = NO_DEVICE_CYL
        self.hcyl = NO_DEVICE_CYL

    # -- PIO data-in transfers -----------------------------------------------------

    def transfer_start(self, data: bytes) -> None:
        """Offer ``data`` on the data port: DRQ is set unless the command failed."""
        self.io_buffer[:len(data)] = data
        self.data_pos, self.data_end = 0, len(data)
        if not self.status & ERR_STAT:
            self.status |= DRQ_STAT

    def transfer_stop(self) -> None:
        """End a transfer; no interrupt (``ide_transfer_stop`` of QEMU 7.2)."""
        self.data_pos = self.data_end = 0
        self.status &= ~DRQ_STAT

    def data_in(self, size: int) -> int:
        """Take ``size`` bytes of the transfer (``ide_data_readw/l``); 0 when there is none."""
        if not self.status & DRQ_STAT or self.data_pos + size > self.data_end:
            return 0
        value = int.from_bytes(self.io_buffer[self.data_pos:self.data_pos + size], "little")
        self.data_pos += size
        if self.data_pos >= self.data_end:
            self.transfer_stop()
        return value

    def abort(self) -> None:
        """Fail the current command with ABRT (``ide_abort_command``)."""
        self.transfer_stop()
        self.status = READY_STAT | ERR_STAT
        self.error = ABRT_ERR

    def run_diagnostic(self) -> None:
        """EXECUTE DEVICE DIAGNOSTIC's outcome for an ATA position: passed, signature set."""
        self.set_signature()
        self.status = READY_STAT | SEEK_STAT
        self.error = 0x01


class IdeChannel:
    """One IDE channel: two empty positions, the selected unit, device control and the IRQ.

    ``irq(level)`` drives the channel's interrupt line; ``schedule`` runs the
    software reset later, as QEMU does from a bottom half (without one the
    reset runs at once).
    """

    def __init__(self, irq: IrqSetter | None = None, schedule: Scheduler | None = None) -> None:
        self.irq = irq
        self.schedule = schedule
        self.devices = (AtaDevice(0), AtaDevice(1))
        self.unit = 0
        self.ctrl = 0

    @property
    def active(self) -> AtaDevice:
        return self.devices[self.unit]

    # -- interrupt --------------------------------------------------------------

    def set_irq(self) -> None:
        """Raise the IRQ unless the guest masked it with nIEN (``ide_bus_set_irq``)."""
        if not self.ctrl & IDE_CTRL_DISABLE_IRQ and self.irq is not None:
            self.irq(1)

    def lower_irq(self) -> None:
        if self.irq is not None:
            self.irq(0)

    # -- reset ------------------------------------------------------------------

    def reset(self) -> None:
        """Bus reset (``ide_bus_reset``): master selected, device control cleared, both positions reset."""
        self.unit = 0
        self.ctrl = 0
        for dev in self.devices:
            dev.reset()

    def perform_srst(self) -> None:
        """The software reset the guest asked for with SRST: reset and diagnose both positions."""
        for dev in self.devices:
            dev.reset()
            dev.run_diagnostic()
            self.set_irq()
        self.ctrl &= ~IDE_CTRL_RESET

    # -- what the guest reads ---------------------------------------------------------

    def ioport_read(self, reg: int) -> int:
        """A byte read of command block register ``reg`` (``ide_ioport_read``).

        With no drive on the channel every register reads 0; the data
        register still takes a word of a running transfer, and reading the
        status register lowers the IRQ.
        """
        reg &= CMD_BLOCK_SIZE - 1
        if reg == REG_DATA:
            return self.data_read(2) & 0xFF
        if reg == REG_COMMAND:
            self.lower_irq()
        return 0

    def status_read(self) -> int:
        """The alternate status register: 0 with no drive, and the IRQ is left alone."""
        return 0

    def data_read(self, size: int) -> int:
        """A 16- or 32-bit read of the data port."""
        return self.active.data_in(size)

    # -- what the guest writes ----------------------------------------------------------

    def ioport_write(self, reg: int, value: int) -> None:
        """A byte write of command block register ``reg`` (``ide_ioport_write``)."""
        reg &= CMD_BLOCK_SIZE - 1
        value &= 0xFF
        if reg != REG_COMMAND and self.active.status & (BUSY_STAT | DRQ_STAT):
            return
        if reg == REG_DATA:
            return
        self.ctrl &= ~IDE_CTRL_HOB
        if reg == REG_COMMAND:
            self.lower_irq()
            self.exec_cmd(value)
            return
        if reg == REG_SELECT:
            for dev in self.devices:
                dev.select = value | ATA_DEV_ALWAYS_ON
            self.unit = 1 if value & ATA_DEV_SELECT else 0
            return
        field, hob_field = _WRITE_FIELDS[reg]
        for dev in self.devices:
            setattr(dev, hob_field, getattr(dev, field))
            setattr(dev, field, value)

    def data_write(self, size: int, value: int) -> None:
        """16- or 32-bit data port writes: no PIO data-out transfer can run without a drive."""

    def ctrl_write(self, value: int) -> None:
        """The device control register (``ide_ctrl_write``): nIEN, SRST and HOB."""
        value &= 0xFF
        starts_reset = not self.ctrl & IDE_CTRL_RESET and value & IDE_CTRL_RESET
        self.ctrl = value
        if starts_reset:
            for dev in self.devices:
                dev.status |= BUSY_STAT
            if self.schedule is not None:
                self.schedule(self.perform_srst)
            else:
                self.perform_srst()

    def exec_cmd(self, command: int) -> None:
        """Run ``command`` on the selected position (``ide_exec_cmd``)."""
        from pyqemu.hw.ide.commands import execute

        dev = self.active
        if dev.unit != 0:
            return  # commands to an absent slave are ignored; the empty master runs them
        if dev.status & (BUSY_STAT | DRQ_STAT):
            return
        execute(self, dev, command)


#: Which field a write sets, and where its previous value goes (the LBA48 "high order byte").
_WRITE_FIELDS: dict[int, tuple[str, str]] = {
    REG_FEATURE: ("feature", "hob_feature"),
    REG_NSECTOR: ("nsector", "hob_nsector"),
    REG_SECTOR: ("sector", "hob_sector"),
    REG_LCYL: ("lcyl", "hob_lcyl"),
    REG_HCYL: ("hcyl", "hob_hcyl"),
}
