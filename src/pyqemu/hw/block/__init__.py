"""Block devices' controllers: the PC floppy disk controller (82078) and its ``floppy-bus``."""
