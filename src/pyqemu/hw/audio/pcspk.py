"""The PC speaker (``isa-pcspk``): the speaker and timer bits of port 0x61.

Port 0x61 (system control port B), as QEMU 7.2's ``hw/audio/pcspk.c``
models it.  A write sets bit 0, the gate of PIT channel 2, and bit 1, the
speaker data enable.  A read returns those two bits, bit 4, which stands
for the DRAM refresh clock and simply flips on every read (firmware loops
on it to wait), and bit 5, the OUT pin of channel 2.  The speaker reaches
its PIT through the ``pit`` link, which boards set before realizing it.

pyqemu has no audio backends.  ``audiodev`` would name one (``-audiodev``
id); as no backend exists, every value is refused with QEMU's message for
an id it cannot find, and the speaker stays silent, as QEMU's does without
an audiodev.  Nothing else changes: the port behaves the same either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyqemu.hw.core.qdev_properties import Prop, PropertyInfo, prop_bool, prop_uint32
from pyqemu.hw.isa.isa_bus import IsaBus, IsaDevice, isa_new, isa_realize_and_unref, isa_register_ioport
from pyqemu.hw.timer.i8254 import (
    PIT_SPEAKER_CHANNEL,
    TYPE_PIT_COMMON,
    PitChannelInfo,
    PitCommonState,
    pit_get_channel_info,
    pit_set_gate,
)
from pyqemu.memory.region import AccessSizes, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import Object, register_type
from pyqemu.qom.property import STR
from pyqemu.util.errors import ConfigError, DeviceError

PCSPK_IOBASE = 0x61
PCSPK_IO_SIZE = 1

# Port 0x61.
PORT_GATE = 0x01  # PIT channel 2 gate
PORT_DATA = 0x02  # speaker data enable
PORT_REFRESH = 0x10  # "refresh clock": toggles on each read
PORT_OUT_SHIFT = 5  # PIT channel 2 OUT

AUDIODEV_DESCRIPTION = "ID of an audiodev to use as a backend"


class PcSpkCore:
    """Port 0x61: ``set_gate(level)`` drives channel 2's gate, ``channel_info()`` reads it back."""

    def __init__(self, set_gate: Callable[[int], None], channel_info: Callable[[], PitChannelInfo]):
        self._set_gate = set_gate
        self._channel_info = channel_info
        self.data_on = 0
        self.refresh_clock = 0

    def read(self, offset: int, size: int = 1) -> int:
        info = self._channel_info()
        self.refresh_clock ^= PORT_REFRESH
        return info.gate | self.data_on << 1 | self.refresh_clock | info.out << PORT_OUT_SHIFT

    def write(self, offset: int, value: int, size: int = 1) -> None:
        self.data_on = (value & PORT_DATA) >> 1
        self._set_gate(value & PORT_GATE)


# -- the QOM device ("isa-pcspk") ------------------------------------------------------


def _find_audiodev(dev: Any, name: str, value: Any) -> str:
    """No audio backend exists in pyqemu, so no id names one."""
    raise ConfigError(f"Property '{dev.typename}.{name}' can't find value '{value}'")


def prop_audiodev(name: str = "audiodev") -> Prop:
    """The audio backend of a sound device (QEMU's ``DEFINE_AUDIO_PROPERTIES``)."""
    info = PropertyInfo(
        STR, "str", AUDIODEV_DESCRIPTION, to_value=_find_audiodev, from_value=lambda value: value or ""
    )
    return Prop(name, info)


@register_type
class PCSpkState(IsaDevice):
    """The PC speaker (type ``isa-pcspk``); boards link it to their PIT with :func:`pcspk_init`."""

    TYPE = "isa-pcspk"
    CATEGORY = "Sound devices"
    USER_CREATABLE = False  # it needs the link to the PIT
    PROPERTIES = (
        prop_audiodev(),
        prop_uint32("iobase", default=PCSPK_IOBASE),
        prop_bool("migrate", default=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self.pit: PitCommonState | None = None
        self.core = PcSpkCore(self._set_gate, self._channel_info)
        ops = MemoryRegionOps(read=self.core.read, write=self.core.write, impl=AccessSizes(1, 1))
        self.ioport = MemoryRegion.new_io(self, ops, "pcspk", PCSPK_IO_SIZE)
        self.add_link("pit", TYPE_PIT_COMMON, get=lambda: self.pit, set=self.set_pit)

    def set_pit(self, pit: Object | None) -> None:
        """The ``pit`` link (``object_property_set_link``): only before realize."""
        if self.realized:
            raise ConfigError(
                f"Attempt to set link property 'pit' on device '{self.id or '(null)'}' "
                f"(type '{self.typename}') after it was realized"
            )
        assert pit is None or isinstance(pit, PitCommonState)
        self.pit = pit

    def realize(self) -> None:
        if self.pit is None:
            raise DeviceError("isa-pcspk: the 'pit' link must be set before realize")
        isa_register_ioport(self, self.ioport, self.iobase)

    def _pit(self) -> PitCommonState:
        assert self.pit is not None, "isa-pcspk used without its PIT"
        return self.pit

    def _set_gate(self, level: int) -> None:
        pit_set_gate(self._pit(), PIT_SPEAKER_CHANNEL, level)

    def _channel_info(self) -> PitChannelInfo:
        return pit_get_channel_info(self._pit(), PIT_SPEAKER_CHANNEL)


def pcspk_init(isa_bus: IsaBus, pit: PitCommonState, dev: PCSpkState | None = None) -> PCSpkState:
    """Board code: link the speaker to ``pit`` and realize it on ``isa_bus``.

    ``dev`` is the speaker the machine made at its own creation (QEMU's
    ``pc`` boards do, for the ``pcspk-audiodev`` machine property); without
    it a new one is made.
    """
    if dev is None:
        new = isa_new(PCSpkState.TYPE)
        assert isinstance(new, PCSpkState)
        dev = new
    dev.set_pit(pit)
    isa_realize_and_unref(dev, isa_bus)
    return dev
