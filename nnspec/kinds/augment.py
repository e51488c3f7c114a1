"""Augmentation kinds: random changes to training batches, with torchvision's names and defaults.

The image kinds run as kornia.augmentation modules (batched, on the batches' device); values are
pixels in [0, 1], before normalization. GaussianNoise is the program's own and fits any tensor.
"""

from __future__ import annotations

from typing import ClassVar

from nnspec.kinds.base import Kind, Registry, Shape, ShapeError
from nnspec.kinds.params import Bool, Float, OneOf, Optional, Param, Seq, expand, int_or_tuple

AUGMENTS = Registry("augmentation", "RandomHorizontalFlip()")

_P = Param("p", Float(0, 1), 0.5, doc="the chance each sample is changed")
_SCALE = Param("scale", Seq(Float(0), 2), [0.08, 1.0], doc="area of the crop, as a fraction of the image's")
_RATIO = Param("ratio", Seq(Float(0, lo_open=True), 2), [3 / 4, 4 / 3], doc="aspect ratio range of the crop")
_JITTER = OneOf((Float(0), Seq(Float(0), 2)))


class Augmentation(Kind):
    family = "augmentation"
    torch_class: ClassVar[str]  # the callable the program builds
    images: ClassVar[bool] = True  # takes (C, H, W) images
    # Keywords the program passes so the library does what torchvision's class does.
    fixed: ClassVar[dict] = {}

    def constructor(self, args: dict) -> tuple[list, dict]:
        positional, keywords = super().constructor(args)
        return positional, {**keywords, **self.fixed}

    def infer_shape(self, shape: Shape, args: dict) -> Shape:
        """The per-sample shape after this kind; ShapeError if it cannot take `shape`."""
        if self.images and (shape.rank != 3 or shape.dtype != "float"):
            raise ShapeError(
                "E402", f"{self.name} takes images (C, H, W) of floats, not {shape}", help="augment image data only"
            )
        return shape


@AUGMENTS.register
class RandomHorizontalFlip(Augmentation):
    """Left and right swapped, in a fraction `p` of images."""

    name, torch_class, params = "RandomHorizontalFlip", "kornia.augmentation.RandomHorizontalFlip", (_P,)


@AUGMENTS.register
class RandomVerticalFlip(Augmentation):
    """Top and bottom swapped, in a fraction `p` of images."""

    name, torch_class, params = "RandomVerticalFlip", "kornia.augmentation.RandomVerticalFlip", (_P,)


class _Sized(Augmentation):
    """A kind whose `size` (an int for a square) is the size of every output image."""

    def constructor(self, args: dict) -> tuple[list, dict]:
        positional, keywords = super().constructor(args)
        return [tuple(expand(positional[0], 2)), *positional[1:]], keywords

    def infer_shape(self, shape: Shape, args: dict) -> Shape:
        shape = super().infer_shape(shape, args)
        return shape.with_dims((shape.dims[0], *expand(args["size"], 2)))


@AUGMENTS.register
class RandomResizedCrop(_Sized):
    """A crop of random area and aspect ratio, resized to `size` (bilinear)."""

    name, torch_class = "RandomResizedCrop", "kornia.augmentation.RandomResizedCrop"
    params = (Param("size", int_or_tuple(2)), _SCALE, _RATIO)


@AUGMENTS.register
class RandomCrop(_Sized):
    """A crop of `size` at a random place, after `padding` (zeros) on every side."""

    name, torch_class = "RandomCrop", "kornia.augmentation.RandomCrop"
    params = (Param("size", int_or_tuple(2)), Param("padding", Optional(int_or_tuple(2, lo=0)), None))

    def infer_shape(self, shape: Shape, args: dict) -> Shape:
        out = super().infer_shape(shape, args)
        pad = expand(args["padding"] or 0, 2)
        room = [d + 2 * p for d, p in zip(shape.dims[1:], pad)]
        if any(isinstance(r, int) and s > r for s, r in zip(out.dims[1:], room)):
            raise ShapeError("E403", f"RandomCrop of {out.dims[1:]} from images of {tuple(room)} (padded)", arg="size")
        return out


@AUGMENTS.register
class RandomRotation(Augmentation):
    """A rotation by an angle drawn from [-degrees, degrees] (or [min, max]), the corners filled with 0."""

    name, torch_class = "RandomRotation", "kornia.augmentation.RandomRotation"
    params = (Param("degrees", OneOf((Float(0), Seq(Float(), 2)))),)
    fixed = {"p": 1.0}  # torchvision rotates every image; kornia's default is half of them


@AUGMENTS.register
class ColorJitter(Augmentation):
    """Brightness, contrast, saturation and hue changed by random factors (hue in -0.5..0.5)."""

    name, torch_class = "ColorJitter", "kornia.augmentation.ColorJitter"
    params = tuple(Param(n, _JITTER, 0.0) for n in ("brightness", "contrast", "saturation", "hue"))

    def infer_shape(self, shape: Shape, args: dict) -> Shape:
        shape = super().infer_shape(shape, args)
        colour = [n for n in ("saturation", "hue") if args[n] not in (0, 0.0)]
        if colour and shape.dims[0] != 3:
            raise ShapeError("E402", f"ColorJitter's {colour[0]} needs RGB images, not {shape}", arg=colour[0])
        return shape


@AUGMENTS.register
class RandomErasing(Augmentation):
    """A rectangle of random area and aspect ratio set to `value`, in a fraction `p` of images."""

    name, torch_class = "RandomErasing", "kornia.augmentation.RandomErasing"
    params = (
        _P,
        Param("scale", Seq(Float(0, 1), 2), [0.02, 0.33]),
        Param("ratio", Seq(Float(0, lo_open=True), 2), [0.3, 3.3]),
        Param("value", Float(), 0.0),
    )


@AUGMENTS.register
class GaussianNoise(Augmentation):
    """Noise of `mean` and deviation `sigma` added to every value: images, tables, sequences.

    `clip` keeps values in [0, 1] as torchvision's does for images; it is off by default here,
    since features of a table or sequence are not pixels."""

    name, torch_class, images = "GaussianNoise", "AddNoise", False
    params = (Param("mean", Float(), 0.0), Param("sigma", Float(0), 0.1), Param("clip", Bool(), False))

    def infer_shape(self, shape: Shape, args: dict) -> Shape:
        if shape.dtype != "float":
            raise ShapeError("E405", f"GaussianNoise adds to float values, not {shape.dtype} ones")
        return shape
