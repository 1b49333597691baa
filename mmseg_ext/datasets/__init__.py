from .acdc import ACDCDataset
from .cityscapes_domain import CityscapesDomainDataset
from .data_root import replace_roots, set_data_root
from .foggy_cityscapes import FoggyCityscapesDataset
from .pipelines import *  # noqa: F401,F403
from .proccity import ProcCityDataset
from .rain_cityscapes import RainCityscapesDataset
from .source_dataset import SourceDataset

__all__ = [
    'ACDCDataset', 'CityscapesDomainDataset', 'FoggyCityscapesDataset', 'ProcCityDataset',
    'RainCityscapesDataset', 'SourceDataset', 'replace_roots', 'set_data_root',
]
