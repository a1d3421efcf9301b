"""Interrupt controllers: the i8259 PIC pair (``isa-i8259``) and the I/O APIC (``ioapic``).

- :mod:`.intc` — the ``intctrl`` interface both implement: interrupt
  counts (``info irq``) and a state dump (``info pic``);
- :mod:`.i8259` — one 8259A per ``isa-i8259``; :func:`~.i8259.i8259_init`
  makes the PC's master / slave pair and :func:`~.i8259.pic_read_irq` is the
  CPU's interrupt acknowledge;
- :mod:`.ioapic` — the 82093AA-style I/O APIC, delivering each interrupt as
  an MSI write towards the local APICs at 0xfee00000.
"""
