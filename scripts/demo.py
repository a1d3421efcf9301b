"""Placeholder demo, replaced once the emulator can start a machine."""
print("pyqemu demo: nothing to run yet")
