"""A terminal progress bar over a run's iterations (stream frames or source steps)."""
from mmcv.runner import HOOKS, Hook

__all__ = ['ProgressBarHook']


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """tqdm bar from ``before_run`` to ``after_run``, one tick per iteration.

    Works with any mmcv runner that knows ``max_iters`` (the online runner, the
    iteration-based source runner). On a resumed run the bar starts at
    ``runner.iter``.

    Args:
        desc (str): label of the bar. Default: 'run'.
        postfix_keys (Sequence[str]): ``log_buffer`` keys shown next to the bar
            (latest value). Default: ().
    """

    def __init__(self, desc='run', postfix_keys=()):
        self.desc = desc
        self.postfix_keys = tuple(postfix_keys)
        self.bar = None

    def before_run(self, runner):
        from tqdm import tqdm
        self.bar = tqdm(total=runner.max_iters, initial=runner.iter, desc=self.desc,
                        dynamic_ncols=True, leave=True)

    def after_train_iter(self, runner):
        if self.bar is None:
            return
        self.bar.update(1)
        if self.postfix_keys:
            hist = runner.log_buffer.val_history
            shown = {k: f'{hist[k][-1]:.3g}' for k in self.postfix_keys if hist.get(k)}
            if shown:
                self.bar.set_postfix(shown, refresh=False)

    def after_run(self, runner):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
