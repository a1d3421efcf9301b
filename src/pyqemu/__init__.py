"""pyqemu: a machine emulator that starts and is controlled like QEMU's system emulator.

The package is layered; a layer imports only the layers before it:
util, qom, qapi, memory, chardev, hw, accel, monitor, system.
"""

__version__ = "0.1.0"

#: The QEMU version whose interfaces pyqemu reproduces (command line, QMP, QOM).
QEMU_VERSION = (7, 2, 0)
