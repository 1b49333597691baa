"""ProcCity clear / rain / fog sets (procedural scenes of :mod:`mmseg_ext.datasets.synth`)."""
from mmseg.datasets import DATASETS

from .cityscapes_domain import CityscapesDomainDataset
from .rain_cityscapes import derived_dirs_guard
from .synth.layout import rain_dir
from .synth.weather import beta_tag

_WEATHERS = ('clear', 'rain', 'fog')


@DATASETS.register_module()
class ProcCityDataset(CityscapesDomainDataset):
    """ProcCity in the layouts of Cityscapes, rainy Cityscapes and Foggy Cityscapes.

    ``tools/data/proccity.py`` writes the clear set, ``tools/data/weather.py`` the
    rain and fog sets next to it (see :mod:`mmseg_ext.datasets.synth.layout`).

    Args:
        weather (str): 'clear', 'rain' or 'fog'. Default: 'clear'.
        rain_rate (float | None): Rain rate in mm/h, required for 'rain'. Default: None.
        visibility (float | None): Fog visibility in metres, required for 'fog'.
            Default: None.
        subset (str): 'train' or 'val' folder. Default: 'train'.
        name (str | None): Domain name; 'clear', ``'{R}mm'`` or ``'fog{V}m'`` when
            None. Default: None.
        domain (float | None): Domain value; 0, the rain rate or the visibility when
            None. Default: None.
        **kwargs: :class:`CityscapesDomainDataset` arguments.
    """

    def __init__(self, weather='clear', rain_rate=None, visibility=None, subset='train',
                 name=None, domain=None, **kwargs):
        if weather not in _WEATHERS:
            raise ValueError(f'ProcCityDataset: weather must be one of {_WEATHERS}, '
                             f'got {weather!r}')
        derived_dirs_guard(type(self).__name__, kwargs)
        dirs = dict(ann_dir=f'gtFine/{subset}')
        if weather == 'clear':
            default_name, default_domain = 'clear', 0
            dirs['img_dir'] = f'leftImg8bit/{subset}'
        elif weather == 'rain':
            if rain_rate is None or rain_rate <= 0:
                raise ValueError(f'ProcCityDataset: weather=rain needs rain_rate > 0 '
                                 f'(mm/h), got {rain_rate!r}')
            default_name, default_domain = f'{rain_rate:g}mm', rain_rate
            dirs['img_dir'] = rain_dir(subset, rain_rate)
        else:
            if visibility is None or visibility <= 0:
                raise ValueError(f'ProcCityDataset: weather=fog needs visibility > 0 (m), '
                                 f'got {visibility!r}')
            default_name, default_domain = f'fog{visibility:g}m', visibility
            dirs['img_dir'] = f'leftImg8bit_foggy/{subset}'
            dirs['img_suffix'] = f'_leftImg8bit_foggy_beta_{beta_tag(visibility)}.png'
        self.weather = weather
        self.rain_rate = rain_rate
        self.visibility = visibility
        self.subset = subset
        super().__init__(name=default_name if name is None else name,
                         domain=default_domain if domain is None else domain,
                         **dirs, **kwargs)
