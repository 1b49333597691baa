"""Foggy Cityscapes at one attenuation coefficient (Sakaridis et al., IJCV 2018)."""
from mmseg.datasets import DATASETS

from .cityscapes_domain import CityscapesDomainDataset
from .rain_cityscapes import derived_dirs_guard, labels_dir
from .synth.weather import MOR_CONTRAST


@DATASETS.register_module()
class FoggyCityscapesDataset(CityscapesDomainDataset):
    """Foggy Cityscapes: ``leftImg8bit_foggy/{subset}/<city>/<name>_leftImg8bit_foggy_beta_{b}.png``
    (the download's own tree, ``data_root``) with the clear labels ``gtFine/{subset}/...``
    of ``label_root`` (the Cityscapes root); ``beta = 2.996 / V``.

    Args:
        beta (float): Attenuation coefficient (1/m) in the file names: 0.005, 0.01,
            0.02 for the published set (visibility 600, 300, 150 m). Default: 0.02.
        subset (str): 'train' or 'val' folder. Default: 'train'.
        name (str | None): Domain name; ``'fog{V}m'`` when None. Default: None.
        domain (float | None): Domain value; the visibility ``round(2.996 / beta)``
            in metres when None. Default: None.
        label_root (str | None): Root holding ``gtFine/`` (Cityscapes); None reads
            the labels from ``data_root``. Default: None.
        **kwargs: :class:`CityscapesDomainDataset` arguments.
    """

    def __init__(self, beta=0.02, subset='train', name=None, domain=None, label_root=None,
                 **kwargs):
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta <= 0:
            raise ValueError(f'FoggyCityscapesDataset: beta must be a number > 0 (1/m), '
                             f'got {beta!r}')
        derived_dirs_guard(type(self).__name__, kwargs)
        self.beta = beta
        self.subset = subset
        self.label_root = label_root
        visibility = round(MOR_CONTRAST / beta)
        super().__init__(
            name=f'fog{visibility:g}m' if name is None else name,
            domain=visibility if domain is None else domain,
            img_dir=f'leftImg8bit_foggy/{subset}',
            img_suffix=f'_leftImg8bit_foggy_beta_{beta:g}.png',
            ann_dir=labels_dir(label_root, subset), **kwargs)
