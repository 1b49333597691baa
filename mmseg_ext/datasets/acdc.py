"""ACDC: adverse-condition driving images with Cityscapes classes (Sakaridis et al., ICCV 2021)."""
from mmseg.datasets import DATASETS

from .cityscapes_domain import CityscapesDomainDataset
from .rain_cityscapes import derived_dirs_guard

#: ACDC conditions and the numeric ``domain`` each one gets by default.
ACDC_CONDITIONS = {'fog': 1, 'night': 2, 'rain': 3, 'snow': 4}


@DATASETS.register_module()
class ACDCDataset(CityscapesDomainDataset):
    """One ACDC condition: ``rgb_anon/<cond>/<subset>/<seq>/<name>_rgb_anon.png`` with
    ``gt/<cond>/<subset>/<seq>/<name>_gt_labelTrainIds.png``.

    Args:
        condition (str): 'fog', 'night', 'rain' or 'snow'. Default: 'fog'.
        subset (str): 'train', 'val' (or 'test', without labels). Default: 'train'.
        name (str | None): Domain name; ``'acdc_<cond>'`` when None. Default: None.
        domain (float | None): Domain value; 1..4 in the order of
            ``ACDC_CONDITIONS`` when None. Default: None.
        **kwargs: :class:`CityscapesDomainDataset` arguments.
    """

    def __init__(self, condition='fog', subset='train', name=None, domain=None, **kwargs):
        if condition not in ACDC_CONDITIONS:
            raise ValueError(f'ACDCDataset: condition must be one of '
                             f'{sorted(ACDC_CONDITIONS)}, got {condition!r}')
        derived_dirs_guard(type(self).__name__, kwargs)
        self.condition = condition
        self.subset = subset
        super().__init__(
            name=f'acdc_{condition}' if name is None else name,
            domain=ACDC_CONDITIONS[condition] if domain is None else domain,
            img_dir=f'rgb_anon/{condition}/{subset}', img_suffix='_rgb_anon.png',
            ann_dir=None if subset == 'test' else f'gt/{condition}/{subset}',
            seg_map_suffix='_gt_labelTrainIds.png', **kwargs)
