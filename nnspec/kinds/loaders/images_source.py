"""A folder with one subfolder of images per class, read with Pillow and kept in memory."""

import os

import torch
from PIL import Image

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def load_source(path, options):
    """Images resized to `size`, scaled to [0, 1], (N, C, H, W); labels are the folder names."""
    if not os.path.isdir(path):
        raise DataError("E501", f"{path}: not a folder of class folders")
    classes = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
    if not classes:
        raise DataError("E504", f"{path}: no class folders inside")
    mode = "L" if options["grayscale"] else "RGB"
    height, width = options["size"]
    images, labels = [], []
    for name in classes:
        folder = os.path.join(path, name)
        for file in sorted(os.listdir(folder)):
            if file.lower().endswith(EXTENSIONS):
                images.append(_read(os.path.join(folder, file), mode, width, height))
                labels.append(name)
    if not images:
        raise DataError("E504", f"{path}: no images ({', '.join(EXTENSIONS)}) in the class folders")
    return torch.stack(images), labels


def _read(file, mode, width, height):
    try:
        with Image.open(file) as image:
            image = image.convert(mode).resize((width, height))
            data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    except OSError as e:
        raise DataError("E501", f"{file}: cannot read the image ({e})") from None
    channels = 1 if mode == "L" else 3
    return data.view(height, width, channels).permute(2, 0, 1).float() / 255.0
