"""A folder with one subfolder of images per class, read with Pillow."""

import torch
from PIL import Image

from nnspec.program.contract import memory_problem
from nnspec.program.errors import DataError
from nnspec.program.samples import Samples
from nnspec.program.sources.folders import class_images


class ImageFolder:
    """The images of `path`, each read when asked for: a dataset for DataLoader workers.

    `labels` are the class folder names, known without reading any image.
    """

    def __init__(self, path, size, grayscale=False):
        self.files, self.labels = [], []
        for name, files in class_images(path).items():
            self.files += files
            self.labels += [name] * len(files)
        self.mode = "L" if grayscale else "RGB"
        self.height, self.width = size

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        """Image i resized to `size` and scaled to [0, 1]: (C, H, W)."""
        try:
            with Image.open(self.files[i]) as image:
                image = image.convert(self.mode).resize((self.width, self.height))
                data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            raise DataError(
                "E501", f"{self.files[i]}: cannot read the image ({e})"
            ) from None
        channels = 1 if self.mode == "L" else 3
        return (
            data.view(self.height, self.width, channels).permute(2, 0, 1).float()
            / 255.0
        )


def open_images(path, size, grayscale=False):
    """The images as a dataset, each read when a batch needs it."""
    images = ImageFolder(path, size, grayscale)
    channels = 1 if grayscale else 3
    problem = memory_problem(len(images), (channels, images.height, images.width), path)
    if problem:
        raise DataError(*problem)
    return Samples(images, images.labels, path)


def load_images(path, size, grayscale=False):
    """All images in memory, (N, C, H, W); labels are the folder names."""
    images = ImageFolder(path, size, grayscale)
    channels = 1 if grayscale else 3
    problem = memory_problem(len(images), (channels, images.height, images.width), path)
    if problem:
        raise DataError(*problem)
    return Samples(
        torch.stack([images[i] for i in range(len(images))]), images.labels, path
    )
