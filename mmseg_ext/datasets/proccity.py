"""ProcCity clear / rain / fog / graded-condition sets (procedural scenes of
:mod:`mmseg_ext.datasets.synth`)."""
from mmseg.datasets import DATASETS

from .cityscapes_domain import CityscapesDomainDataset
from .rain_cityscapes import derived_dirs_guard
from .synth.conditions import CONDITIONS
from .synth.writers import condition_dir, rain_dir
from .synth.lens import check_severity
from .synth.weather import beta_tag

_WEATHERS = ('clear', 'rain', 'fog') + CONDITIONS


@DATASETS.register_module()
class ProcCityDataset(CityscapesDomainDataset):
    """ProcCity in the layouts of Cityscapes, rainy Cityscapes and Foggy Cityscapes.

    ``tools/data/proccity.py`` writes the clear set, ``tools/data/weather.py`` the
    rain, fog and graded-condition sets next to it (see
    :mod:`mmseg_ext.datasets.synth.writers`; the conditions are in ``docs/proccity.md``).

    Args:
        weather (str): 'clear', 'rain', 'fog', or a graded condition: 'night',
            'wet', 'snow', 'lensdrops', 'motionblur'. Default: 'clear'.
        rain_rate (float | None): Rain rate in mm/h, required for 'rain'. Default: None.
        visibility (float | None): Fog visibility in metres, required for 'fog'.
            Default: None.
        severity (int | None): Severity 1..5, required for a graded condition.
            Default: None.
        subset (str): 'train', 'val' or 'test' folder. Default: 'train'.
        name (str | None): Domain name; 'clear', ``'{R}mm'``, ``'fog{V}m'`` or
            ``'{weather}{severity}'`` (e.g. 'night3') when None. Default: None.
        domain (float | None): Domain value; 0, the rain rate, the visibility or the
            severity when None. Default: None.
        **kwargs: :class:`CityscapesDomainDataset` arguments.
    """

    def __init__(self, weather='clear', rain_rate=None, visibility=None, severity=None,
                 subset='train', name=None, domain=None, **kwargs):
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
        elif weather in CONDITIONS:
            try:
                severity = check_severity(severity)
            except (TypeError, ValueError):
                raise ValueError(f'ProcCityDataset: weather={weather} needs severity in '
                                 f'1..5, got {severity!r}') from None
            default_name, default_domain = f'{weather}{severity}', severity
            dirs['img_dir'] = condition_dir(subset, weather, severity)
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
        self.severity = severity
        self.subset = subset
        super().__init__(name=default_name if name is None else name,
                         domain=default_domain if domain is None else domain,
                         **dirs, **kwargs)
