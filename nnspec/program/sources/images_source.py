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

    def __init__(self, path, size, grayscale=False, crop=None):
        self.files, self.labels = [], []
        for name, files in class_images(path).items():
            self.files += files
            self.labels += [name] * len(files)
        self.mode = "L" if grayscale else "RGB"
        self.size = size  # resized to, then `crop` (height, width) cut from the centre
        self.height, self.width = crop or size

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        """Image i resized to `size`, center-cropped, scaled to [0, 1]: (C, H, W)."""
        try:
            with Image.open(self.files[i]) as image:
                image = image.convert(self.mode).resize((self.size[1], self.size[0]))
                image = image.crop(center_box(self.size, (self.height, self.width)))
                data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            message = f"{self.files[i]}: cannot read the image ({e})"
            raise DataError("E501", message) from None
        channels = 1 if self.mode == "L" else 3
        return (
            data.view(self.height, self.width, channels).permute(2, 0, 1).float()
            / 255.0
        )


def center_box(size, crop):
    """(left, top, right, bottom) of a (height, width) `crop` in the middle of `size`,
    rounded as torchvision's CenterCrop rounds it."""
    top = int(round((size[0] - crop[0]) / 2.0))
    left = int(round((size[1] - crop[1]) / 2.0))
    return left, top, left + crop[1], top + crop[0]


def open_images(path, size, grayscale=False, crop=None):
    """The images as a dataset, each read when a batch needs it."""
    images = ImageFolder(path, size, grayscale, crop)
    channels = 1 if grayscale else 3
    problem = memory_problem(len(images), (channels, images.height, images.width), path)
    if problem:
        raise DataError(*problem)
    return Samples(images, images.labels, path)


def load_images(path, size, grayscale=False, crop=None):
    """All images in memory, (N, C, H, W); labels are the folder names."""
    images = ImageFolder(path, size, grayscale, crop)
    channels = 1 if grayscale else 3
    problem = memory_problem(len(images), (channels, images.height, images.width), path)
    if problem:
        raise DataError(*problem)
    return Samples(
        torch.stack([images[i] for i in range(len(images))]), images.labels, path
    )
