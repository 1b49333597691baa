"""Rainy Cityscapes at one rain rate (weather-augmented Cityscapes of OnDA / HAMLET)."""
import os.path as osp

from mmseg.datasets import DATASETS

from .cityscapes_domain import CityscapesDomainDataset
from .synth.writers import rain_dir


def derived_dirs_guard(cls_name, kwargs):
    """Refuses ``img_dir``/``ann_dir`` for classes that derive them from their domain."""
    given = [k for k in ('img_dir', 'ann_dir', 'img_suffix', 'seg_map_suffix') if k in kwargs]
    if given:
        raise TypeError(f'{cls_name} derives {given} from its domain arguments and '
                        f'`subset`; use CityscapesDomainDataset for custom directories')


def labels_dir(label_root, subset):
    """``gtFine/{subset}``, under ``label_root`` when the images live in another tree
    (absolute, so that mmseg does not join it to ``data_root``)."""
    rel = f'gtFine/{subset}'
    return rel if label_root is None else osp.abspath(osp.join(label_root, rel))


@DATASETS.register_module()
class RainCityscapesDataset(CityscapesDomainDataset):
    """Cityscapes with physically rendered rain (Halder et al., ICCV 2019) at one rate.

    Layout of the download (its own tree, no labels; ``data_root``):
    ``leftImg8bit/{subset}/rain/{R}mm/rainy_image/<city>/<name>_leftImg8bit.png``;
    the clear labels ``gtFine/{subset}/<city>/<name>_gtFine_labelTrainIds.png`` are
    read from ``label_root`` (the Cityscapes root).

    Args:
        rain_rate (float): Rain rate in mm/h (25, 50, 75, 100, 200). Default: 25.
        subset (str): 'train' or 'val' folder. Default: 'train'.
        name (str | None): Domain name; ``'{R}mm'`` when None. Default: None.
        domain (float | None): Domain value; the rain rate when None. Default: None.
        label_root (str | None): Root holding ``gtFine/`` (Cityscapes); None reads
            the labels from ``data_root`` (a tree with the rain linked in). Default: None.
        **kwargs: :class:`CityscapesDomainDataset` arguments.
    """

    def __init__(self, rain_rate=25, subset='train', name=None, domain=None, label_root=None,
                 **kwargs):
        if isinstance(rain_rate, bool) or not isinstance(rain_rate, (int, float)) \
                or rain_rate <= 0:
            raise ValueError(f'RainCityscapesDataset: rain_rate must be a number > 0 mm/h, '
                             f'got {rain_rate!r}')
        derived_dirs_guard(type(self).__name__, kwargs)
        self.rain_rate = rain_rate
        self.subset = subset
        self.label_root = label_root
        super().__init__(
            name=f'{rain_rate:g}mm' if name is None else name,
            domain=rain_rate if domain is None else domain,
            img_dir=rain_dir(subset, rain_rate), ann_dir=labels_dir(label_root, subset),
            **kwargs)
