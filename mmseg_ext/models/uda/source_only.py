"""The no-adaptation baseline of the comparison tables."""
from ..builder import UDA
from .uda_decorator import UDADecorator

__all__ = ['SourceOnly']


@UDA.register_module()
class SourceOnly(UDADecorator):
    """The source model deployed as is: a step computes no loss and changes no weight.

    Stream accuracy and per-domain mIoU of a run with this method are the
    reference the adaptation methods are compared with. With
    ``target_norm_stats=True`` (and the runner adapting) a step only re-estimates
    the BatchNorm running statistics on the target frame: online AdaBN.

    Args:
        **kwargs: :class:`UDADecorator` arguments.
    """

    def adapt(self, data_batch, log_vars, **step_kwargs):
        """No loss, no gradient."""
        return log_vars
