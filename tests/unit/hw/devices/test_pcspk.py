"""The PC speaker (``isa-pcspk``): port 0x61 and its link to the PIT.

Port values, property errors and the QOM shape were checked against QEMU
7.2 (``-M pc -S``: HMP ``o``/``i``, ``-global``, ``qom-set``, qom-list).
"""

from __future__ import annotations

import re

import pytest

from pyqemu.hw.audio.pcspk import PcSpkCore, PCSpkState, pcspk_init
from pyqemu.hw.timer.i8254 import I8254State, PitChannelInfo, i8254_pit_init
from pyqemu.util.errors import ConfigError, DeviceError

from .conftest import Board
from .test_i8254 import QTREE_DATA, T0, qtree_block, step_to


class FakeChannel:
    def __init__(self) -> None:
        self.gates: list[int] = []
        self.info = PitChannelInfo(gate=0, mode=3, initial_count=0x10000, out=1)

    def set_gate(self, level: int) -> None:
        self.gates.append(level)
        self.info = PitChannelInfo(level, self.info.mode, self.info.initial_count, self.info.out)


def test_core_bits() -> None:
    channel = FakeChannel()
    port = PcSpkCore(channel.set_gate, lambda: channel.info)
    assert [port.read(0) for _ in range(3)] == [0x30, 0x20, 0x30]  # bit 4 flips on each read
    port.write(0, 0x03)
    assert channel.gates == [1]
    assert port.read(0) == 0x23
    port.write(0, 0xFC)  # only bits 0 and 1 count
    assert channel.gates == [1, 0]
    assert port.read(0) == 0x30


@pytest.fixture
def spk(board: Board) -> tuple[PCSpkState, I8254State]:
    step_to(board, T0)
    pit = i8254_pit_init(board.isa)
    return pcspk_init(board.isa, pit), pit


def test_port_61_as_qemu(board: Board, spk: tuple[PCSpkState, I8254State]) -> None:
    """HMP on QEMU 7.2 -M pc -S: 0x30, 0x20, then 0x33 once gate and data are on."""
    assert [board.inb(0x61), board.inb(0x61)] == [0x30, 0x20]
    board.outb(0x61, 0x03)
    assert board.inb(0x61) == 0x33


def test_gate_and_out_of_channel_2(board: Board, spk: tuple[PCSpkState, I8254State]) -> None:
    board.outb(0x43, 0xB0)  # channel 2, mode 0, count 1000
    board.outb(0x42, 1000 & 0xFF)
    board.outb(0x42, 1000 >> 8)
    assert board.inb(0x61) & 0x21 == 0x00  # gate low, OUT low
    step_to(board, T0 + 838_096)
    assert board.inb(0x61) & 0x21 == 0x20  # the count ran out: OUT high
    board.outb(0x43, 0xB6)  # mode 3: the gate's rising edge restarts it
    board.outb(0x42, 0x10)
    board.outb(0x42, 0x00)
    step_to(board, T0 + 1_000_000)
    board.outb(0x61, 0x01)
    board.outb(0x43, 0xD8)
    assert (board.inb(0x42), board.inb(0x42)) == (0x10, 0x00)


def test_state_survives_reset(board: Board, spk: tuple[PCSpkState, I8254State]) -> None:
    from pyqemu.hw.core.reset import reset_machine

    board.outb(0x61, 0x02)
    reset_machine(board.machine)
    assert board.inb(0x61) == 0x32  # QEMU's speaker has no reset: data stays on


def test_qtree_block_is_qemus(board: Board, spk: tuple[PCSpkState, I8254State]) -> None:
    from pyqemu.hw.core.qtree import qtree_info

    dev_line = 'dev: isa-pcspk, id ""'
    for machine in ("pc", "q35"):
        reference = (QTREE_DATA / f"{machine}-qtree.txt").read_text()
        assert qtree_block(qtree_info(board.machine), dev_line) == qtree_block(reference, dev_line)


def test_qom_shape(spk: tuple[PCSpkState, I8254State]) -> None:
    dev, pit = spk
    assert dev.canonical_path() == "/machine/unattached/device[2]"
    assert dev.child("pcspk[0]").property_get("size") == 1
    assert dev.property_find("pit").type == "link<pit-common>"
    assert dev.property_get("pit") == pit.canonical_path()
    names = ("audiodev", "iobase", "migrate")
    own = [(p.name, p.type) for p in type(dev).class_properties() if p.name in names]
    assert own == [("audiodev", "str"), ("iobase", "uint32"), ("migrate", "bool")]


def test_pit_link_only_before_realize(spk: tuple[PCSpkState, I8254State]) -> None:
    dev = spk[0]
    text = "Attempt to set link property 'pit' on device '(null)' (type 'isa-pcspk') after it was realized"
    with pytest.raises(ConfigError, match=f"^{re.escape(text)}$"):
        dev.property_set("pit", "")


def test_no_audiodev_can_be_found(board: Board) -> None:
    from pyqemu.hw.isa.isa_bus import isa_new

    dev = isa_new("isa-pcspk")
    assert dev.property_get("audiodev") == ""
    for value in ("snd0", ""):
        text = f"Property 'isa-pcspk.audiodev' can't find value '{value}'"
        with pytest.raises(ConfigError, match=f"^{re.escape(text)}$"):
            dev.property_set("audiodev", value)
    with pytest.raises(DeviceError):
        pcspk_init(board.isa, None, dev)  # type: ignore[arg-type]


def test_not_user_creatable(board: Board) -> None:
    from pyqemu.hw.core.qdev_monitor import qdev_device_add

    with pytest.raises(ConfigError, match=r"^Parameter 'driver' expects a pluggable device type$"):
        qdev_device_add(board.machine, {"driver": "isa-pcspk"})


def test_device_help_is_qemus() -> None:
    from pyqemu.hw.core.qdev_monitor import device_help_text

    assert device_help_text("isa-pcspk,help") == (
        "isa-pcspk options:\n"
        "  audiodev=<str>         - ID of an audiodev to use as a backend\n"
        "  iobase=<uint32>        -  (default: 97)\n"
        "  migrate=<bool>         -  (default: true)\n"
        "  pcspk[0]=<child<memory-region>>\n"
        "  pit=<link<pit-common>>\n"
    )
