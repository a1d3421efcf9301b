"""ISA DMA: the two i8257 (8237A) controllers of a PC and the interface devices use to reach them."""
