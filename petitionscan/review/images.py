"""Name crops sized for the screen on the server.

Scan crops are small (a few dozen pixels high); a browser stretching them
smooths the strokes into grey blur. Scaling here with bicubic interpolation
(whole-number factors for small crops, nearest neighbour when tiny) keeps the
handwriting sharp, and the browser shows the result pixel for pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_WIDTH = 100
MAX_WIDTH = 1800
MAX_HEIGHT = 420


def scaled_png(png: bytes, width: int) -> bytes:
    """Re-encode a stored crop at about ``width`` pixels wide (clamped, aspect kept).

    Raises ``ValueError`` if the stored bytes are not an image.
    """
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ValueError("stored crop is not a readable image")
    width = max(MIN_WIDTH, min(MAX_WIDTH, width))
    h, w = image.shape[:2]
    factor = min(width / w, MAX_HEIGHT / h)
    if factor >= 1.0:
        whole = int(factor)
        # A whole factor keeps every source pixel the same size on screen.
        factor = float(whole) if whole >= 2 else factor
        method = cv2.INTER_NEAREST if factor >= 6 else cv2.INTER_CUBIC
    else:
        method = cv2.INTER_AREA
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    if size != (w, h):
        image = cv2.resize(image, size, interpolation=method)
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("could not encode the crop as PNG")
    return encoded.tobytes()
