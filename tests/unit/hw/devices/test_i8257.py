"""The ISA DMA controllers (``i8257``), checked against QEMU 7.2.

Register values are what HMP ``i`` / ``o`` give on ``-M pc -accel tcg
-nodefaults -S``: after reset the status reads 0x00 and offset 9 (QEMU's
mask read-back) 0xff on both controllers; programming channel 2 with
address 0x1234 and count 0x01ff reads back 0x34 0x12 0xff 0x01; a request
for channel 2 reads 0x40 in the status; page register 0x81 then 0x82 as one
word read 0x3412, 0x83 as a word 0xff56, as a dword 0xffffffff.  The
transfer tests drive the engine API directly with a fake device.
"""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from pyqemu.hw.core.qdev_monitor import device_help_text
from pyqemu.hw.core.qtree import qdev_print
from pyqemu.hw.core.reset import reset_machine
from pyqemu.hw.dma.i8257 import I8257State, i8257_dma_init
from pyqemu.hw.dma.isa_dma import IsaDmaTransferMode, isa_get_dma
from pyqemu.memory.region import MemoryRegion

from ..boards.conftest import DATA
from .conftest import Board

RAM_SIZE = 0x100000


@pytest.fixture
def dma(board: Board) -> tuple[I8257State, I8257State]:
    """The PC pair on the test board, reset, with 1 MiB of RAM at 0."""
    ram = MemoryRegion.new_ram(None, "ram", RAM_SIZE, parent=board.machine)
    board.memory.system_memory.add_subregion(0, ram)
    controllers = i8257_dma_init(board.isa, False)
    reset_machine(board.machine)
    return controllers


def program(board: Board, base: int, chan: int, addr: int, count: int, mode: int, *, dshift: int = 0) -> None:
    """Program channel ``chan`` (0-3) of the controller at ``base`` as a BIOS does."""
    cont = base + (8 << dshift)
    board.outb(cont + (4 << dshift), 0)  # clear flip-flop
    for reg, value in ((0, addr), (1, count)):
        port = base + ((2 * chan + reg) << dshift)
        board.outb(port, value & 0xFF)
        board.outb(port, value >> 8)
    board.outb(cont + (3 << dshift), mode | chan)


def children(dev: I8257State) -> list[str]:
    """The device's QOM children (its memory regions), sorted as ``info qom-tree`` lists them."""
    return sorted(prop.name for prop in dev.iter_properties() if prop.child is not None)


# -- registers ------------------------------------------------------------------


def test_after_reset(board: Board, dma: tuple[I8257State, I8257State]) -> None:
    assert [board.inb(port) for port in (0x08, 0x09, 0x0A, 0x0F, 0xD0, 0xD2, 0x00, 0x81, 0x87)] == [
        0x00, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00,
    ]
    assert board.inb(0x84) == 0xFF  # no page register there


def test_address_and_count_through_the_flip_flop(board: Board, dma: tuple[I8257State, I8257State]) -> None:
    program(board, 0x00, 2, 0x1234, 0x01FF, 0x46)
    assert [board.inb(port) for port in (0x04, 0x04, 0x05, 0x05)] == [0x34, 0x12, 0xFF, 0x01]
    assert board.inb(0x04) == 0x34  # an odd number of reads leaves the flip-flop high
    board.outb(0x0C, 0)
    assert (board.inb(0x04), board.inb(0x04)) == (0x34, 0x12)
    assert board.inb(0x04, 2) == 0x0134  # a word: address low byte, then count high byte
    board.outb(0x04, 0x5678, 2)  # address low 0x78, then count high 0x56
    board.outb(0x0C, 0)
    assert (board.inb(0x04), board.inb(0x04)) == (0x78, 0x12)


def test_16_bit_controller_counts_words(board: Board, dma: tuple[I8257State, I8257State]) -> None:
    program(board, 0xC0, 1, 0x1234, 0x00FF, 0x46, dshift=1)  # channel 5
    assert [board.inb(port) for port in (0xC4, 0xC4, 0xC6, 0xC6, 0xC5, 0xC5)] == [
        0x34, 0x12, 0xFF, 0x00, 0x34, 0x12,  # odd ports alias the even ones
    ]
    board.outb(0xD4, 0x01)  # mask channel 5
    assert (board.inb(0xD2), board.inb(0xD3)) == (0xFD, 0xFD)


def test_request_mask_and_master_clear(board: Board, dma: tuple[I8257State, I8257State]) -> None:
    board.outb(0x09, 0x06)
    assert (board.inb(0x08), board.inb(0x08)) == (0x40, 0x40)
    board.outb(0x09, 0x02)
    assert board.inb(0x08) == 0x00
    board.outb(0x0A, 0x02)
    assert board.inb(0x09) == 0xFB
    board.outb(0x0A, 0x06)
    assert board.inb(0x09) == 0xFF
    board.outb(0x0E, 0)
    assert board.inb(0x09) == 0x00
    board.outb(0x0F, 0x05)
    assert board.inb(0x09) == 0x05
    board.outb(0x0D, 0)
    assert board.inb(0x09) == 0xFF


def test_command_register_keeps_only_what_qemu_supports(dma: tuple[I8257State, I8257State]) -> None:
    core = dma[0].core
    assert core is not None
    core.write_cont(0, 0x04)
    core.write_cont(0, 0x10)  # rotating priority: ignored
    assert core.command == 0x04


def test_page_registers(board: Board, dma: tuple[I8257State, I8257State]) -> None:
    for port, value in ((0x81, 0x12), (0x82, 0x34), (0x83, 0x56), (0x87, 0x78), (0x89, 0x9A), (0x8F, 0xBC)):
        board.outb(port, value)
    assert [board.inb(port) for port in (0x81, 0x82, 0x83, 0x87, 0x89, 0x8A, 0x8F)] == [
        0x12, 0x34, 0x56, 0x78, 0x9A, 0x00, 0xBC,
    ]
    assert [ch.page for ch in dma[0].core.channels] == [0x78, 0x56, 0x12, 0x34]  # type: ignore[union-attr]
    assert (board.inb(0x81, 2), board.inb(0x82, 2), board.inb(0x83, 2)) == (0x3412, 0x5634, 0xFF56)
    assert board.inb(0x81, 4) == 0xFFFFFFFF
    board.outb(0x82, 0xAABB, 2)
    assert (board.inb(0x82), board.inb(0x83)) == (0xBB, 0xAA)
    board.outb(0x81, 0x11223344, 4)  # QEMU's port lists drop 32-bit writes
    assert board.inb(0x81) == 0x12


def test_high_page_registers_when_enabled(board: Board) -> None:
    low, high = i8257_dma_init(board.isa, True)
    assert (low.pageh_base, high.pageh_base) == (0x480, 0x488)
    board.outb(0x481, 0x7F)
    board.outb(0x488, 0x55)  # port & 7 == 0: no channel
    assert (board.inb(0x481), board.inb(0x488)) == (0x7F, 0x00)
    assert children(low) == [
        "dma-chan[0]", "dma-cont[0]", "dma-page[0]", "dma-page[1]", "dma-pageh[0]", "dma-pageh[1]",
    ]


# -- the transfer engine ---------------------------------------------------------------


class FakeDevice:
    """A device that reads memory in chunks of ``chunk`` bytes each time the controller calls it."""

    def __init__(self, dma: I8257State, nchan: int, chunk: int) -> None:
        self.dma, self.nchan, self.chunk = dma, nchan, chunk
        self.calls: list[tuple[int, int, int]] = []
        self.data = b""
        dma.register_channel(nchan, self.transfer)

    def transfer(self, nchan: int, pos: int, size: int) -> int:
        self.calls.append((nchan, pos, size))
        length = min(self.chunk, size - pos)
        self.data += self.dma.read_memory(nchan, pos, length)
        if pos + length == size:
            self.dma.release_dreq(nchan)
        return pos + length


def test_memory_to_device_transfer(board: Board, dma: tuple[I8257State, I8257State]) -> None:
    payload = bytes(range(1, 17))
    board.memory.address_space_memory.write_bytes(0x21000, payload)
    program(board, 0x00, 1, 0x1000, len(payload) - 1, 0x48)  # single, read (memory to device)
    board.outb(0x83, 0x02)  # page of channel 1
    assert dma[0].transfer_mode(1) == IsaDmaTransferMode.READ
    device = FakeDevice(dma[0], 1, 10)
    device.dma.hold_dreq(1)
    assert device.calls == []  # masked since reset
    board.outb(0x0A, 0x01)  # unmask channel 1: one round at once
    assert device.calls == [(1, 0, 16)]
    dma[0].run()  # what the main loop does next
    assert device.calls == [(1, 0, 16), (1, 10, 16)]
    assert device.data == payload
    assert board.inb(0x08) == 0x02  # terminal count on channel 1; no request pending
    assert board.inb(0x08) == 0x00
    board.outb(0x0C, 0)
    assert [board.inb(0x02), board.inb(0x02), board.inb(0x03), board.inb(0x03)] == [0x10, 0x10, 0xFF, 0xFF]
    dma[0].run()
    assert len(device.calls) == 2  # DREQ released: nothing more


def test_16_bit_channel_and_device_to_memory(board: Board, dma: tuple[I8257State, I8257State]) -> None:
    program(board, 0xC0, 1, 0x0800, 3, 0x44, dshift=1)  # channel 5, write (device to memory), 4 words
    board.outb(0x8B, 0x01)  # page of channel 5
    calls: list[tuple[int, int, int]] = []

    def handler(nchan: int, pos: int, size: int) -> int:
        calls.append((nchan, pos, size))
        return pos + dma[1].write_memory(nchan, b"\xaa" * size, pos)

    dma[1].register_channel(5, handler)
    board.outb(0xD4, 0x01)  # unmask channel 5
    dma[1].hold_dreq(5)
    assert calls == [(5, 0, 8)]
    assert board.memory.address_space_memory.read_bytes(0x11000 - 1, 10) == b"\0" + b"\xaa" * 8 + b"\0"
    assert board.inb(0xD0) == 0x22  # channel 1 of this controller: request held, count reached


def test_decrement_and_verify_modes(dma: tuple[I8257State, I8257State], board: Board) -> None:
    space = board.memory.address_space_memory
    space.write_bytes(0x2FFC, b"ABCD")
    core = dma[0].core
    assert core is not None
    channel = core.channels[3]
    channel.now[0] = 0x3000
    channel.mode = 0x28  # read, decrement
    assert dma[0].read_memory(3, 0, 4) == b"DCCD"  # QEMU mirrors the second half onto the first
    dma[0].write_memory(3, b"wxyz", 0)
    assert space.read_bytes(0x2FFC, 4) == b"wxyz"
    channel.mode = 0x00  # verify: nothing read or written
    assert dma[0].read_memory(3, 0, 4) == b"\0\0\0\0"
    assert dma[0].write_memory(3, b"1234", 0) == 4
    assert space.read_bytes(0x3000, 4) == b"\0\0\0\0"
    channel.mode = 0x10
    assert dma[0].has_autoinitialization(3)


def test_unregistered_channel_moves_nothing(board: Board, dma: tuple[I8257State, I8257State]) -> None:
    board.outb(0x0A, 0x00)
    board.outb(0x09, 0x04)  # software request on channel 0
    assert dma[0].core.channels[0].now[1] == 0  # type: ignore[union-attr]
    assert board.inb(0x08) == 0x10


def test_rounds_rerun_from_the_main_loop(board: Board, dma: tuple[I8257State, I8257State]) -> None:
    program(board, 0x00, 2, 0x0000, 3, 0x48)
    device = FakeDevice(dma[0], 2, 1)  # one byte per round
    board.outb(0x0A, 0x02)
    device.dma.hold_dreq(2)
    assert device.calls == [(2, 0, 4)]
    timer = dma[0]._rerun_timer
    assert timer is not None and timer.pending  # the main loop comes back within 10 ms
    dma[0].schedule()  # ... or at once, through a bottom half
    assert not timer.pending
    loop = board.host.main_loop
    loop.run_until_complete(asyncio.ensure_future(asyncio.sleep(0.001), loop=loop.loop))
    assert device.calls[1] == (2, 1, 4)


# -- QOM, board wiring, qtree ----------------------------------------------------------


def test_board_pair_and_bus_registration(board: Board) -> None:
    low, high = i8257_dma_init(board.isa, False)
    assert (low.canonical_path(), high.canonical_path()) == (
        "/machine/unattached/device[1]", "/machine/unattached/device[2]",
    )
    assert [isa_get_dma(board.isa, n) for n in (0, 3, 4, 7)] == [low, low, high, high]
    assert low.is_a("isa-dma")
    assert children(high) == [
        "dma-chan[0]", "dma-cont[0]", "dma-page[0]", "dma-page[1]",
    ]
    with pytest.raises(ValueError):
        i8257_dma_init(board.isa, False)


def test_no_dma_without_controllers(board: Board) -> None:
    assert isa_get_dma(board.isa, 2) is None


def test_properties_as_qemu_lists_them() -> None:
    assert device_help_text("i8257,help") == textwrap.dedent("""\
        i8257 options:
          base=<int32>           -  (default: 0)
          dshift=<int32>         -  (default: 0)
          page-base=<int32>      -  (default: 128)
          pageh-base=<int32>     -  (default: 1152)
        """)
    assert not I8257State.USER_CREATABLE


def reference_blocks(device: str) -> list[list[str]]:
    """Every ``dev: DEVICE`` block of QEMU's ``pc`` qtree, dedented."""
    lines = (DATA / "pc-qtree.txt").read_text().splitlines()
    blocks = []
    for start, line in enumerate(lines):
        if line.strip().startswith(f"dev: {device},"):
            indent = len(line) - len(line.lstrip())
            block = [line[indent:]]
            for other in lines[start + 1:]:
                if len(other) - len(other.lstrip()) <= indent:
                    break
                block.append(other[indent:])
            blocks.append(block)
    return blocks


def test_qtree_blocks_as_qemu_prints_them(board: Board) -> None:
    low, high = i8257_dma_init(board.isa, False)
    assert [qdev_print(high, 0), qdev_print(low, 0)] == reference_blocks("i8257")
