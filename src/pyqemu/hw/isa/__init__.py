"""The ISA bus and its bridges: the bus legacy PC devices (UART, RTC, i8042) plug into."""
