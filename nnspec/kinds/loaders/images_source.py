"""A folder with one subfolder of images per class, read with Pillow."""

import os

import torch
from PIL import Image

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


class ImageFolder:
    """The images of `path`, each read when asked for: a dataset for DataLoader workers.

    `labels` are the class folder names, known without reading any image.
    """

    def __init__(self, path, options):
        if not os.path.isdir(path):
            raise DataError("E501", f"{path}: not a folder of class folders")
        classes = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
        if not classes:
            raise DataError("E504", f"{path}: no class folders inside")
        self.files, self.labels = [], []
        for name in classes:
            folder = os.path.join(path, name)
            for file in sorted(os.listdir(folder)):
                if file.lower().endswith(EXTENSIONS):
                    self.files.append(os.path.join(folder, file))
                    self.labels.append(name)
        if not self.files:
            raise DataError("E504", f"{path}: no images ({', '.join(EXTENSIONS)}) in the class folders")
        self.mode = "L" if options["grayscale"] else "RGB"
        self.height, self.width = options["size"]

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        """Image i resized to `size` and scaled to [0, 1]: (C, H, W)."""
        try:
            with Image.open(self.files[i]) as image:
                image = image.convert(self.mode).resize((self.width, self.height))
                data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        except OSError as e:
            raise DataError("E501", f"{self.files[i]}: cannot read the image ({e})") from None
        channels = 1 if self.mode == "L" else 3
        return data.view(self.height, self.width, channels).permute(2, 0, 1).float() / 255.0


def open_source(path, options):
    return ImageFolder(path, options)


def load_source(path, options):
    """All images in memory, (N, C, H, W); labels are the folder names."""
    images = open_source(path, options)
    return torch.stack([images[i] for i in range(len(images))]), images.labels
