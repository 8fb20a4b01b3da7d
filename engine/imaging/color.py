"""Colour control (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer")."""
from __future__ import annotations

import numpy as np

# ITU-R BT.601 RGB -> YIQ-like luma/chroma basis, as used for luminance-only transfer.
_RGB_TO_YUV = np.array(
    [[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]], dtype=np.float32
)
_YUV_TO_RGB = np.linalg.inv(_RGB_TO_YUV).astype(np.float32)


def luminance_transfer(stylized: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The stylized image's luminance with the content's chrominance (float RGB, H x W x 3)."""
    styl = stylized @ _RGB_TO_YUV.T
    cont = content @ _RGB_TO_YUV.T
    yuv = np.concatenate([styl[..., :1], cont[..., 1:]], axis=-1)
    return np.clip(yuv @ _YUV_TO_RGB.T, 0.0, 1.0).astype(np.float32)


def match_color_statistics(source: np.ndarray, target: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """``source`` recoloured so its RGB mean and covariance equal ``target``'s (histogram matching).

    This is the linear colour transfer of Gatys et al. 2017, section 5.1: the style image takes
    the content's colours before stylization, so the result keeps the content's palette.
    """
    src = source.reshape(-1, 3).astype(np.float64)
    tgt = target.reshape(-1, 3).astype(np.float64)
    mu_s, mu_t = src.mean(0), tgt.mean(0)
    cov_s = np.cov(src, rowvar=False) + eps * np.eye(3)
    cov_t = np.cov(tgt, rowvar=False) + eps * np.eye(3)
    transform = _sqrtm(cov_t) @ np.linalg.inv(_sqrtm(cov_s))
    matched = (src - mu_s) @ transform.T + mu_t
    return np.clip(matched, 0.0, 1.0).reshape(source.shape).astype(np.float32)


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return vectors @ np.diag(np.sqrt(np.clip(values, 0, None))) @ vectors.T
