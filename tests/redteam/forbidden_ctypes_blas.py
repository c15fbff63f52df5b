"""Calls cblas_sgemm from the BLAS that torch links, through ctypes."""
import ctypes
import ctypes.util

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, a, b):
        blas = ctypes.CDLL(ctypes.util.find_library("cblas") or ctypes.util.find_library("blas") or "libtorch_cpu.so")
        out = torch.empty(a.shape[0], b.shape[1])
        n, k, m = a.shape[0], a.shape[1], b.shape[1]
        blas.cblas_sgemm(101, 111, 111, n, m, k, ctypes.c_float(1.0), ctypes.c_void_p(a.data_ptr()), k,
                         ctypes.c_void_p(b.data_ptr()), m, ctypes.c_float(0.0), ctypes.c_void_p(out.data_ptr()), m)
        return out
