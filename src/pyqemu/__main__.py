"""``python -m pyqemu`` runs the system emulator, as ``pyqemu-system-x86_64`` does."""

from pyqemu.system.main import main

raise SystemExit(main())
