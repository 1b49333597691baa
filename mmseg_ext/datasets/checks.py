"""Cheap checks of a dataset's files when it is built (headers only, no pixels).

A label of another size than its image used to crash mid-stream with an unnamed
shape error (48x128 for 64x128), or, with the same aspect ratio (a half-size
label), was silently rescaled by the resize of the pipeline and used. Reading
the PNG/JPEG header (``PIL.Image.open(...).size``) decodes no pixel, so every
pair is checked when the dataset is built.
"""
from PIL import Image

__all__ = ['image_size', 'check_label_size']


def image_size(path):
    """tuple[int, int]: ``(width, height)`` of an image file, from its header only.

    Raises:
        IOError: the file is not a readable image (naming it).
    """
    try:
        with Image.open(path) as im:
            return im.size
    except Exception as err:
        raise IOError(f'unreadable image {path}: {err}') from None


def check_label_size(img_path, seg_path, owner=''):
    """Raises when the label ``seg_path`` is not the size of the image ``img_path``.

    Args:
        img_path (str): the image file.
        seg_path (str): its label file.
        owner (str): prefix of the error (e.g. the dataset and domain).

    Raises:
        ValueError: naming both files and both sizes (height x width).
    """
    (iw, ih), (lw, lh) = image_size(img_path), image_size(seg_path)
    if (iw, ih) != (lw, lh):
        raise ValueError(f'{owner}label {seg_path} is {lh}x{lw} (HxW) but its image '
                         f'{img_path} is {ih}x{iw}; labels must have the size of their '
                         f'image (a resized or wrong label file?)')
