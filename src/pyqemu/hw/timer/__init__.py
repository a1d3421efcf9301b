"""Timers of the PC: the i8254 interval timer (``isa-pit``) and the HPET (``hpet``)."""
