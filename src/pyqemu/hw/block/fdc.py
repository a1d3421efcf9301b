"""The PC floppy disk controller (an Intel 82078 as QEMU 7.2's ``hw/block/fdc.c`` models it), without QOM.

The guest talks to the controller through these registers (``port & 7``):
DOR (2: drive select, reset, DMA enable, motors), TDR (3: boot drive),
MSR / DSR (4: main status when read, data rate and software reset when
written), FIFO (5: command bytes in, result bytes out), DIR / CCR (7: disk
change when read, data rate when written), and the status registers SRA
and SRB (0, 1; an ISA controller maps SRB only).

A command goes through three phases.  In the *command* phase the guest
writes the command byte and its parameters while MSR shows RQM; then the
command executes; commands with results enter the *result* phase (MSR
shows RQM and DIO, with CMDBUSY) until the guest has read every result
byte.  Leaving reset (DOR bit 2 rising, or DSR bit 7) raises the interrupt
and makes the next four SENSE INTERRUPT STATUS commands answer 0xc0-0xc3.
As in QEMU, reading MSR takes the controller out of reset without that.

pyqemu has no block layer, so the two drive positions never hold a medium:
seeks step no further than track 0, and READ, WRITE, SCAN and VERIFY end
at once with an abnormal-termination result, as QEMU's do for an empty
drive; their data phase (by DMA or through the FIFO) is therefore never
reached and is not modelled.  Everything else (SPECIFY, CONFIGURE, LOCK,
DUMPREG, SAVE / RESTORE, READ ID on its 20 ms timer, FORMAT TRACK's
bookkeeping …) behaves as in QEMU, quirks included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from pyqemu.hw.block import fdc_regs as r
from pyqemu.hw.block.fdc_regs import Direction, Phase, Seek

if TYPE_CHECKING:
    from pyqemu.hw.dma.isa_dma import IsaDma
    from pyqemu.util.main_loop import Timer

NO_DMA = -1


@dataclass
class FloppyDrive:
    """One drive position of the controller (QEMU's ``FDrive``), always without a medium."""

    head: int = 0
    track: int = 0
    sect: int = 0
    last_sect: int = 0
    max_track: int = 0
    double_sided: bool = False
    perpendicular: int = 0
    read_only: bool = True
    media_changed: bool = True
    media_rate: int = 0
    #: QEMU 7.2 gives a selected drive position an empty backend (its fix for
    #: CVE-2021-20196); the only trace is SRA's "no second drive" bit after a reset.
    has_backend: bool = False

    def _sector(self, head: int, track: int, sect: int) -> int:
        sides = 2 if self.double_sided else 1
        return (track * sides + head) * self.last_sect + sect - 1

    def seek(self, head: int, track: int, sect: int) -> Seek:
        """Move to (head, track, sect) if the geometry allows it (QEMU's ``fd_seek``)."""
        if track > self.max_track or (head and not self.double_sided):
            return Seek.NO_TRACK
        if sect > self.last_sect:
            return Seek.NO_SECTOR
        if self._sector(head, track, sect) != self._sector(self.head, self.track, self.sect):
            self.head = head
            self.track = track & r.BYTE
            self.sect = sect & r.BYTE
        return Seek.NO_TRACK  # no medium inserted

    def recalibrate(self) -> None:
        self.seek(0, 0, 1)


class Command(NamedTuple):
    """A command byte pattern: ``byte & mask == value`` selects it."""

    value: int
    mask: int
    name: str
    parameters: int
    run: Callable[[FdcCore], None]


class FdcCore:
    """The controller: ``read(port)`` / ``write(port, value)`` with the register in the port's low 3 bits.

    ``set_irq(level)`` drives its interrupt line; ``now_ns`` and
    ``new_timer`` give the virtual clock and a timer on it; ``dma`` serves
    channel ``dma_chann`` (:data:`NO_DMA` without DMA).
    """

    def __init__(
        self,
        set_irq: Callable[[int], None],
        now_ns: Callable[[], int],
        new_timer: Callable[[Callable[[], None]], Timer],
        dma: IsaDma | None = None,
        dma_chann: int = NO_DMA,
    ):
        self._set_irq = set_irq
        self._now_ns = now_ns
        self._timer = new_timer(self._read_id_done)
        self.dma = dma
        self.dma_chann = dma_chann if dma is not None else NO_DMA
        self.drives = [FloppyDrive() for _ in range(r.MAX_FD)]
        self.fifo = bytearray(r.SECTOR_LEN)
        self.sra = self.srb = self.dor = self.tdr = self.dsr = self.msr = 0
        self.cur_drv = 0
        self.status0 = 0
        self.phase = Phase.COMMAND
        self.data_pos = self.data_len = 0
        self.data_dir = Direction.WRITE
        self.timer0 = self.timer1 = self.precomp_trk = self.lock = self.pwrd = 0
        self.config = r.CONFIG_EIS | r.CONFIG_EFIFO
        self.reset_sensei = 0

    # -- ports ---------------------------------------------------------------------

    def read(self, port: int) -> int:
        reg = port & 7
        if reg == r.REG_SRA:
            return self.sra
        if reg == r.REG_SRB:
            return self.srb
        if reg == r.REG_DOR:
            return self.dor | self.cur_drv
        if reg == r.REG_TDR:
            return self.tdr
        if reg == r.REG_MSR:
            self.dsr &= ~r.DSR_PWRDOWN
            self.dor |= r.DOR_NRESET
            return self.msr
        if reg == r.REG_FIFO:
            return self._read_fifo()
        if reg == r.REG_DIR:
            return r.DIR_DSKCHG if self._cur_drive().media_changed else 0
        return r.BYTE

    def write(self, port: int, value: int) -> None:
        reg = port & 7
        value &= r.BYTE
        if reg == r.REG_DOR:
            self._write_dor(value)
        elif not self.dor & r.DOR_NRESET:
            return  # in reset only DOR listens
        elif reg == r.REG_TDR:
            self.tdr = value & r.TDR_BOOTSEL
        elif reg == r.REG_DSR:
            self._write_dsr(value)
        elif reg == r.REG_FIFO:
            self._write_fifo(value)
        elif reg == r.REG_CCR:
            self.dsr = (self.dsr & ~r.DSR_DRATEMASK) | (value & r.DSR_DRATEMASK)

    def _write_dor(self, value: int) -> None:
        self.srb = self.srb & ~(r.SRB_MTR0 | r.SRB_MTR1 | r.SRB_DR0)
        self.srb |= (r.SRB_MTR0 if value & r.DOR_MOTEN0 else 0) | (r.SRB_MTR1 if value & r.DOR_MOTEN1 else 0)
        self.srb |= r.SRB_DR0 if value & 1 else 0
        if value & r.DOR_NRESET and not self.dor & r.DOR_NRESET:
            self.reset(do_irq=True)
            self.dsr &= ~r.DSR_PWRDOWN
        self.cur_drv = value & r.DOR_SELMASK
        self.dor = value

    def _write_dsr(self, value: int) -> None:
        if value & r.DSR_SWRESET:
            self.dor &= ~r.DOR_NRESET
            self.reset(do_irq=True)
            self.dor |= r.DOR_NRESET
        if value & r.DSR_PWRDOWN:
            self.reset(do_irq=True)
        self.dsr = value

    # -- reset and interrupt -----------------------------------------------------------

    def reset(self, do_irq: bool = False) -> None:
        """Controller reset: a machine reset (no interrupt) or the guest's (interrupt, 4 sense results)."""
        self._lower_irq()
        self.sra = 0 if self.drives[1].has_backend else r.SRA_NDRV2
        self.srb = r.SRB_RESET
        self.cur_drv = 0
        self.dor = r.DOR_NRESET | (r.DOR_DMAEN if self.dma_chann != NO_DMA else 0)
        self.msr = r.MSR_RQM
        self.reset_sensei = 0
        self._timer.delete()
        self.data_pos = self.data_len = 0
        self.data_dir = Direction.WRITE
        for drive in self.drives:
            drive.recalibrate()
        self._to_command_phase()
        if do_irq:
            self.status0 |= r.SR0_RDYCHG
            self._raise_irq()
            self.reset_sensei = r.RESET_SENSEI_COUNT

    def _raise_irq(self) -> None:
        if not self.sra & r.SRA_INTPEND:
            self._set_irq(1)
            self.sra |= r.SRA_INTPEND
        self.reset_sensei = 0

    def _lower_irq(self) -> None:
        self.status0 = 0
        if self.sra & r.SRA_INTPEND:
            self._set_irq(0)
            self.sra &= ~r.SRA_INTPEND

    # -- drives ------------------------------------------------------------------

    def drive(self, unit: int) -> FloppyDrive:
        """Drive ``unit`` as the guest numbers it: TDR's boot select swaps the two."""
        boot = (self.tdr & r.TDR_BOOTSEL) >> r.TDR_BOOTSEL_SHIFT
        return self.drives[unit ^ boot]

    def _cur_drive(self) -> FloppyDrive:
        drive = self.drive(self.cur_drv)
        drive.has_backend = True
        return drive

    def _select(self) -> FloppyDrive:
        """The drive named in the command's first parameter becomes the current one."""
        self.cur_drv = self.fifo[1] & r.DOR_SELMASK
        return self._cur_drive()

    # -- phases ----------------------------------------------------------------------

    def _to_command_phase(self) -> None:
        self.phase = Phase.COMMAND
        self.data_dir = Direction.WRITE
        self.data_pos = 0
        self.data_len = 1
        self.msr &= ~(r.MSR_CMDBUSY | r.MSR_DIO)
        self.msr |= r.MSR_RQM

    def _to_result_phase(self, length: int) -> None:
        self.phase = Phase.RESULT
        self.data_dir = Direction.READ
        self.data_len = length
        self.data_pos = 0
        self.msr |= r.MSR_CMDBUSY | r.MSR_RQM | r.MSR_DIO

    def _result(self, *values: int) -> None:
        self.fifo[: len(values)] = bytes(v & r.BYTE for v in values)
        self._to_result_phase(len(values))

    def _read_fifo(self) -> int:
        self._cur_drive()
        self.dsr &= ~r.DSR_PWRDOWN
        if not self.msr & r.MSR_RQM or not self.msr & r.MSR_DIO:
            return 0
        pos = self.data_pos % r.SECTOR_LEN
        if self.phase == Phase.RESULT:
            self.data_pos += 1
            if self.data_pos == self.data_len:
                self.msr &= ~r.MSR_RQM
                self._to_command_phase()
                self._lower_irq()
        return self.fifo[pos]

    def _write_fifo(self, value: int) -> None:
        if not self.msr & r.MSR_RQM or self.msr & r.MSR_DIO:
            return
        self.dsr &= ~r.DSR_PWRDOWN
        pos = self.data_pos % r.SECTOR_LEN
        self.data_pos += 1
        self.fifo[pos] = value
        if self.data_pos == self.data_len:
            self.msr &= ~r.MSR_RQM
        if self.phase != Phase.COMMAND:
            return  # execution-phase data needs a medium
        if pos == 0:
            command = command_for(value)
            self.data_len = command.parameters + 1
            if command.parameters:
                self.msr |= r.MSR_RQM
            self.msr |= r.MSR_CMDBUSY
        if self.data_pos == self.data_len:
            self.phase = Phase.EXECUTION
            command_for(self.fifo[0]).run(self)

    # -- ending a command ------------------------------------------------------------------

    def _stop_transfer(self, st0: int, st1: int, st2: int) -> None:
        """The 7-byte result of a data command, with the interrupt (``fdctrl_stop_transfer``)."""
        drive = self._cur_drive()
        self.status0 &= ~(r.SR0_DS0 | r.SR0_DS1 | r.SR0_HEAD)
        self.status0 |= self.cur_drv | (r.SR0_HEAD if drive.head else 0) | st0
        if self.dma is not None and not self.msr & r.MSR_NONDMA:
            self.dma.release_dreq(self.dma_chann)
        self.msr &= ~r.MSR_NONDMA
        self._result(self.status0, st1, st2, drive.track, drive.head, drive.sect, r.SECTOR_SIZE_CODE)
        self._raise_irq()

    def _seek_done(self) -> None:
        """SEEK, RECALIBRATE and the relative seeks end with an interrupt and no result."""
        self._to_command_phase()
        self.status0 |= r.SR0_SEEK
        self._raise_irq()

    def transfer_handler(self, nchan: int, dma_pos: int, dma_len: int) -> int:
        """The DMA controller serves channel ``dma_chann``: nothing to move without a medium."""
        if self.msr & r.MSR_RQM:
            return 0  # no data command running
        self._cur_drive()
        self._stop_transfer(0, 0, r.SR2_SEH if self.data_dir in r.SCANS else 0)
        return 0

    # -- commands -----------------------------------------------------------------------

    def _start_transfer(self, direction: Direction) -> None:
        """READ, WRITE, SCAN, VERIFY: the seek to the first sector fails on an empty drive."""
        drive = self._select()
        track, head, sect = self.fifo[2], self.fifo[3], self.fifo[4]
        result = drive.seek(head, track, sect)
        assert result >= Seek.NO_TRACK, "a seek succeeds only with a medium"
        self._stop_transfer(r.SR0_ABNTERM, r.SR1_EC if result == Seek.NO_SECTOR else 0, 0)
        self.fifo[3:6] = bytes((track, head, sect))

    def _transfer_deleted(self) -> None:
        self._stop_transfer(r.SR0_ABNTERM | r.SR0_SEEK, 0, 0)

    def _read_id(self) -> None:
        self._cur_drive().head = (self.fifo[1] >> 2) & 1
        self._timer.mod(self._now_ns() + r.READ_ID_DELAY_NS)

    def _read_id_done(self) -> None:
        drive = self._cur_drive()
        if drive.last_sect:
            drive.sect = drive.sect % drive.last_sect + 1  # the disk spins under the head
        if (self.dsr & r.DSR_DRATEMASK) != drive.media_rate:
            self._stop_transfer(r.SR0_ABNTERM, r.SR1_MA, 0)
        else:
            self._stop_transfer(0, 0, 0)

    def _format_track(self) -> None:
        self._select().last_sect = self.fifo[3]
        self._stop_transfer(0, 0, 0)

    def _specify(self) -> None:
        self.timer0 = (self.fifo[1] >> 4) & 0x0F
        self.timer1 = self.fifo[2] >> 1
        if self.fifo[2] & 1:  # ND: no DMA
            self.dor &= ~r.DOR_DMAEN
        else:
            self.dor |= r.DOR_DMAEN
        self._to_command_phase()

    def _sense_drive_status(self) -> None:
        drive = self._select()
        drive.head = (self.fifo[1] >> 2) & 1
        self._result(
            (r.ST3_WP if drive.read_only else 0) | (r.ST3_TRACK0 if drive.track == 0 else 0)
            | drive.head << r.ST3_HEAD_SHIFT | self.cur_drv | r.ST3_READY_AND_TWO_SIDED
        )

    def _recalibrate(self) -> None:
        self._select().recalibrate()
        self._seek_done()

    def _sense_interrupt_status(self) -> None:
        drive = self._cur_drive()
        if self.reset_sensei > 0:
            st0 = r.SR0_RDYCHG + r.RESET_SENSEI_COUNT - self.reset_sensei
            self.reset_sensei -= 1
        elif not self.sra & r.SRA_INTPEND:
            self._result(r.SR0_INVCMD)
            return
        else:
            st0 = (self.status0 & ~(r.SR0_HEAD | r.SR0_DS1 | r.SR0_DS0)) | self.cur_drv
        self._result(st0, drive.track)
        self._lower_irq()
        self.status0 = r.SR0_RDYCHG

    def _seek(self) -> None:
        drive = self._select()
        drive.seek(drive.head, self.fifo[2], drive.sect)  # steps even without a disk, up to max_track
        self._seek_done()

    def _relative_seek_in(self) -> None:
        drive = self._select()
        if self.fifo[2] + drive.track >= drive.max_track:
            drive.seek(drive.head, (drive.max_track - 1) & r.BYTE, drive.sect)
        else:
            drive.seek(drive.head, drive.track + self.fifo[2], drive.sect)
        self._seek_done()

    def _relative_seek_out(self) -> None:
        drive = self._select()
        target = 0 if self.fifo[2] > drive.track else drive.track - self.fifo[2]
        drive.seek(drive.head, target, drive.sect)
        self._seek_done()

    def _perpendicular_mode(self) -> None:
        if self.fifo[1] & r.PERPENDICULAR_WGATE:
            self._cur_drive().perpendicular = self.fifo[1] & r.PERPENDICULAR_MASK
        self._to_command_phase()

    def _configure(self) -> None:
        self.config = self.fifo[2]
        self.precomp_trk = self.fifo[3]
        self._to_command_phase()

    def _powerdown_mode(self) -> None:
        self.pwrd = self.fifo[1]
        self._result(self.pwrd)

    def _lock(self) -> None:
        self.lock = 1 if self.fifo[0] & r.CMD_MT else 0
        self._result(self.lock << r.LOCK_RESULT_SHIFT)

    def _mode_byte(self, drive: FloppyDrive) -> int:
        return self.lock << 7 | drive.perpendicular << 2

    def _dumpreg(self) -> None:
        drive = self._cur_drive()
        dma = 1 if self.dor & r.DOR_DMAEN else 0
        self._result(
            self.drive(0).track, self.drive(1).track, 0, 0, self.timer0, self.timer1 << 1 | dma,
            drive.last_sect, self._mode_byte(drive), self.config, self.precomp_trk,
        )

    def _save(self) -> None:
        drive = self._cur_drive()
        self._result(
            0, 0, self.drive(0).track, self.drive(1).track, 0, 0, self.timer0, self.timer1,
            drive.last_sect, self._mode_byte(drive), self.config, self.precomp_trk, self.pwrd, 0, 0,
        )

    def _restore(self) -> None:
        drive = self._cur_drive()
        fifo = self.fifo
        self.drive(0).track, self.drive(1).track = fifo[3], fifo[4]  # sic: QEMU reads bytes 3 and 4
        self.timer0, self.timer1 = fifo[7], fifo[8]
        drive.last_sect = fifo[9]
        self.lock = fifo[10] >> 7
        drive.perpendicular = (fifo[10] >> 2) & 0x0F
        self.config, self.precomp_trk, self.pwrd = fifo[11], fifo[12], fifo[13]
        self._to_command_phase()

    def _drive_specification(self) -> None:
        last = self.fifo[(self.data_pos - 1) % r.SECTOR_LEN]
        if last & r.DRIVE_SPEC_DONE:
            if last & r.DRIVE_SPEC_RESULT:
                self._result(self.fifo[1], self.fifo[1], 0, 0)
            else:
                self._to_command_phase()
        elif self.data_len > r.DRIVE_SPEC_MAX_LEN:
            drive = self._cur_drive()
            self._result(r.SR0_INVCMD | drive.head << 2 | self.cur_drv)
        # else: QEMU waits for more parameters it never accepts; only a reset gets out

    def _version(self) -> None:
        self._result(r.VERSION_82078)

    def _part_id(self) -> None:
        self._result(r.PART_ID_STEPPING_1)

    def _option(self) -> None:
        self._to_command_phase()

    def _invalid(self) -> None:
        self._result(r.SR0_INVCMD)


def _transfer(direction: Direction) -> Callable[[FdcCore], None]:
    return lambda fdc: fdc._start_transfer(direction)


#: QEMU's command table; the first entry that matches a command byte wins.
COMMANDS = (
    Command(0x06, 0x1F, "READ", 8, _transfer(Direction.READ)),
    Command(0x05, 0x3F, "WRITE", 8, _transfer(Direction.WRITE)),
    Command(0x0F, 0xFF, "SEEK", 2, FdcCore._seek),
    Command(0x08, 0xFF, "SENSE INTERRUPT STATUS", 0, FdcCore._sense_interrupt_status),
    Command(0x07, 0xFF, "RECALIBRATE", 1, FdcCore._recalibrate),
    Command(0x0D, 0xBF, "FORMAT TRACK", 5, FdcCore._format_track),
    Command(0x02, 0xBF, "READ TRACK", 8, _transfer(Direction.READ)),
    Command(0x4E, 0xFF, "RESTORE", 17, FdcCore._restore),
    Command(0x2E, 0xFF, "SAVE", 0, FdcCore._save),
    Command(0x0C, 0x1F, "READ DELETED DATA", 8, FdcCore._transfer_deleted),
    Command(0x11, 0x1F, "SCAN EQUAL", 8, _transfer(Direction.SCAN_EQUAL)),
    Command(0x16, 0x1F, "VERIFY", 8, _transfer(Direction.VERIFY)),
    Command(0x19, 0x1F, "SCAN LOW OR EQUAL", 8, _transfer(Direction.SCAN_LOW)),
    Command(0x1D, 0x1F, "SCAN HIGH OR EQUAL", 8, _transfer(Direction.SCAN_HIGH)),
    Command(0x09, 0x3F, "WRITE DELETED DATA", 8, FdcCore._transfer_deleted),
    Command(0x0A, 0xBF, "READ ID", 1, FdcCore._read_id),
    Command(0x03, 0xFF, "SPECIFY", 2, FdcCore._specify),
    Command(0x04, 0xFF, "SENSE DRIVE STATUS", 1, FdcCore._sense_drive_status),
    Command(0x12, 0xFF, "PERPENDICULAR MODE", 1, FdcCore._perpendicular_mode),
    Command(0x13, 0xFF, "CONFIGURE", 3, FdcCore._configure),
    Command(0x17, 0xFF, "POWERDOWN MODE", 2, FdcCore._powerdown_mode),
    Command(0x33, 0xFF, "OPTION", 1, FdcCore._option),
    Command(0x8E, 0xFF, "DRIVE SPECIFICATION COMMAND", 5, FdcCore._drive_specification),
    Command(0x8F, 0xFF, "RELATIVE SEEK OUT", 2, FdcCore._relative_seek_out),
    Command(0xCD, 0xFF, "FORMAT AND WRITE", 10, FdcCore._invalid),
    Command(0xCF, 0xFF, "RELATIVE SEEK IN", 2, FdcCore._relative_seek_in),
    Command(0x14, 0x7F, "LOCK", 0, FdcCore._lock),
    Command(0x0E, 0xFF, "DUMPREG", 0, FdcCore._dumpreg),
    Command(0x10, 0xFF, "VERSION", 0, FdcCore._version),
    Command(0x18, 0xFF, "PART ID", 0, FdcCore._part_id),
    Command(0x05, 0x1F, "WRITE (BeOS)", 8, _transfer(Direction.WRITE)),  # not in the datasheet
    Command(0x00, 0x00, "unknown", 0, FdcCore._invalid),
)


def command_for(byte: int) -> Command:
    """The command a command byte selects (unknown bytes select one that answers 0x80)."""
    return next(command for command in COMMANDS if byte & command.mask == command.value)
