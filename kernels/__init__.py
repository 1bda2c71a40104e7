"""Triton kernels of xcs, installed as ``xcs.kernels`` (one file per stage)."""
