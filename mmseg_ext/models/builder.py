"""Registry of UDA/online-adaptation decorators and the train-model builder."""
from mmcv.utils import Registry
from mmseg.models import build_segmentor

UDA = Registry('uda')


def build_train_model(cfg, train_cfg=None, test_cfg=None):
    """Builds what a run trains from its config.

    With a ``cfg.uda`` section, the adaptation method (a decorator registered in
    :data:`UDA`) wrapping the segmentor of ``cfg.model``; otherwise the plain
    segmentor of ``cfg.model`` (source training).
    """
    if cfg.get('uda') is not None:
        uda_cfg = dict(cfg.uda)
        uda_cfg['model'] = cfg.model
        return UDA.build(uda_cfg)
    return build_segmentor(cfg.model, train_cfg=train_cfg, test_cfg=test_cfg)
