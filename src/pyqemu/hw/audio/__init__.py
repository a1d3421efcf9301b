"""Sound devices: the PC speaker (``isa-pcspk``); pyqemu plays no sound."""
