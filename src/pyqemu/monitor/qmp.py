"""The QMP monitor: QEMU's machine protocol on one character device.

Each connection of a client to the chardev is a fresh session: the greeting
is sent when the backend opens, capabilities must be negotiated with
``qmp_capabilities`` before anything else, and no event is sent before that.
Input is a stream of JSON values (not lines); every request gets exactly
one reply, in order, and errors in one request never disturb the next.
Output is one compact JSON object per line ending in ``\\r\\n``, or QEMU's
pretty layout with ``pretty=on``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pyqemu.chardev.char import CharBackend, Chardev, ChrEvent
from pyqemu.monitor.dispatch import dispatch
from pyqemu.monitor.json_writer import to_json, to_json_pretty
from pyqemu.qapi.json_parser import JsonParseError, JsonStreamParser
from pyqemu.util.errors import ErrorClass

if TYPE_CHECKING:
    from pyqemu.system.emulator import Emulator

#: How much input one read may take (QEMU reads up to 4 KiB at a time too).
READ_CHUNK = 4096


def greeting(vm: Emulator) -> dict[str, Any]:
    """The first message of every session (``QMP`` version and capabilities)."""
    from pyqemu import QEMU_VERSION, __version__

    major, minor, micro = QEMU_VERSION
    qemu = {"micro": micro, "minor": minor, "major": major}
    version = {"qemu": qemu, "package": f" (pyqemu {__version__})"}
    return {"QMP": {"version": version, "capabilities": ["oob"]}}


def event_message(name: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """An event as QEMU sends it: timestamp first, then name, then data if any."""
    now = time.time()
    seconds = int(now)
    message: dict[str, Any] = {
        "timestamp": {"seconds": seconds, "microseconds": int((now - seconds) * 1_000_000)},
        "event": name,
    }
    if data is not None:
        message["data"] = data
    return message


class QmpSession:
    """The negotiation state of one client connection."""

    def __init__(self) -> None:
        self.negotiated = False
        self.oob = False
        self.parser = JsonStreamParser()


class QmpMonitor:
    """A QMP server on ``chardev`` for emulator ``vm``."""

    def __init__(self, vm: Emulator, chardev: Chardev, *, pretty: bool = False):
        self.vm = vm
        self.pretty = pretty
        self.session = QmpSession()
        self.backend = CharBackend()
        self.backend.init(chardev)
        vm.event_listeners.append(self.send_event)
        self.backend.set_handlers(self._can_receive, self._receive, self._chr_event)

    @property
    def label(self) -> str:
        return self.backend.chr.label if self.backend.chr is not None else ""

    # -- output -----------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        text = to_json_pretty(message) if self.pretty else to_json(message)
        self.backend.write((text.replace("\n", "\r\n") + "\r\n").encode("ascii"))

    def send_event(self, name: str, data: dict[str, Any] | None) -> None:
        """Broadcast hook: events go only to negotiated sessions."""
        if self.session.negotiated:
            self.send(event_message(name, data))

    def send_error(self, error_class: ErrorClass | str, desc: str, request_id: Any = None,
                   has_id: bool = False) -> None:
        reply: dict[str, Any] = {"error": {"class": str(error_class), "desc": desc}}
        if has_id:
            reply["id"] = request_id
        self.send(reply)

    # -- input ----------------------------------------------------------------

    def _chr_event(self, event: ChrEvent) -> None:
        if event == ChrEvent.OPENED:
            self.session = QmpSession()
            self.send(greeting(self.vm))
        elif event == ChrEvent.CLOSED:
            self.session = QmpSession()

    def _can_receive(self) -> int:
        return READ_CHUNK

    def _receive(self, data: bytes) -> None:
        session = self.session
        for item in session.parser.feed(data):
            if session is not self.session:
                return  # the client went away while a command ran
            if isinstance(item, JsonParseError):
                self.send_error(ErrorClass.GENERIC_ERROR, item.desc)
                continue
            reply = dispatch(self.vm, self, item)
            if reply is not None:
                self.send(reply)

    def close(self) -> None:
        if self.send_event in self.vm.event_listeners:
            self.vm.event_listeners.remove(self.send_event)
        self.backend.deinit()
