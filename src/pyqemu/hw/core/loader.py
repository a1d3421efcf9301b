"""Finding and loading firmware images (QEMU's ``qemu_find_file`` and ROM loading).

A name that can be opened as given is used as is; otherwise it is looked up
in the firmware directories, in the order Debian's QEMU searches them, so
``-bios bios-256k.bin`` finds SeaBIOS and ``bios-microvm.bin`` finds qboot.
"""

from __future__ import annotations

import os

#: Where Debian's QEMU 7.2 looks for firmware (its ``--firmwarepath``).
FIRMWARE_PATH = ("/usr/share/qemu", "/usr/share/seabios", "/usr/lib/ipxe/qemu")


def find_firmware(name: str) -> str | None:
    """The path of firmware file ``name``, or None if it is nowhere to be found."""
    if os.access(name, os.R_OK):
        return name
    for directory in FIRMWARE_PATH:
        path = os.path.join(directory, name)
        if os.access(path, os.R_OK):
            return path
    return None
