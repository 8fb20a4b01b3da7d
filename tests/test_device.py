"""Device selection: clear errors for devices that are not there."""
from __future__ import annotations

import pytest
import torch

from engine.device import resolve_device
from engine.errors import BadInput, DeviceUnavailable


def test_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_missing_cuda_says_what_to_do():
    with pytest.raises(DeviceUnavailable, match="CUDA") as info:
        resolve_device("cuda")
    assert "--device cpu" in info.value.hint


def test_unknown_device():
    with pytest.raises(BadInput, match="unknown device"):
        resolve_device("tpu")
