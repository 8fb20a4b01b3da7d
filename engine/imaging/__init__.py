"""Pixel handling around the nets: file I/O, dtypes and alpha, masks, colour, resampling."""
