"""Elastic weight consolidation (Kirkpatrick et al., PNAS 2017,
https://arxiv.org/abs/1612.00796) as a regulariser of online adaptation."""
import os.path as osp

import torch
import torch.nn as nn
from torch._utils import _flatten_dense_tensors

from ...core.checkpoint import atomic_save

__all__ = ['EWCPenalty']


class EWCPenalty(nn.Module):
    """``lambda / 2 * sum_i F_i (theta_i - theta_src_i)^2`` on the given parameters.

    ``F`` is the diagonal (empirical) Fisher information of the source model on
    source data: the mean over ``num_batches`` source batches of the squared
    gradient of the supervised loss (per sample with the batch size 1 of the
    online source loader). ``F`` and ``theta_src`` are buffers (flat vectors) so
    they resume with the model's ``state_dict``; they are cached in
    ``cache_file`` to be computed once per source model. The regularised
    parameters of a model are looked up by name once and kept (again after a
    move of the method, ``.to()``/``.cuda()``); the per-step flattening is one
    call (``torch.cat`` of their flat views, in C++).

    Args:
        named_params (list[tuple[str, Parameter]]): the regularised parameters
            (the student's trainable ones), by name.
        lambda_ (float): penalty weight lambda. Default: 1.0.
        num_batches (int): source batches of the estimate. Default: 8.
        cache_file (str | None): where the Fisher information is saved/loaded.
            Default: None (not cached).
    """

    def __init__(self, named_params, lambda_=1.0, num_batches=8, cache_file=None):
        super().__init__()
        if not named_params:
            raise ValueError('EWC: no trainable parameter to regularise')
        if not isinstance(num_batches, int) or num_batches < 1:
            raise ValueError(f'EWC: ewc_fisher_batches must be an int >= 1, '
                             f'got {num_batches!r}')
        self.names = [n for n, _ in named_params]
        self.lambda_ = float(lambda_)
        self.num_batches = num_batches
        self.cache_file = cache_file
        numel = sum(p.numel() for _, p in named_params)
        device = named_params[0][1].device
        self.register_buffer('fisher', torch.zeros(numel, device=device))
        self.register_buffer('theta_src', torch.zeros(numel, device=device))
        self.register_buffer('ready', torch.zeros((), dtype=torch.bool, device=device))
        self._param_cache = None  # (model, its parameters named by `names`)

    def _params(self, model):
        cache = self._param_cache
        if cache is None or cache[0] is not model:
            named = dict(model.named_parameters())
            missing = [n for n in self.names if n not in named]
            if missing:
                raise KeyError(f'EWC: model has no parameter {missing[:3]}')
            cache = self._param_cache = (model, [named[n] for n in self.names])
        return cache[1]

    def _apply(self, fn, *args, **kwargs):
        self._param_cache = None  # a move may replace the parameter objects
        return super()._apply(fn, *args, **kwargs)

    @staticmethod
    def _flat(tensors):
        """``torch.cat([t.reshape(-1) for t in tensors])``, without the Python loop."""
        return _flatten_dense_tensors(list(tensors))

    def estimate(self, model, loss_fn, batches):
        """Estimates ``F`` and stores ``theta_src`` from ``model`` as it is now.

        Args:
            model (nn.Module): the source model (the student before the stream).
            loss_fn (callable): ``batch -> scalar supervised loss`` of ``model``.
            batches (Iterable[dict]): source batches; the first
                ``num_batches`` are used.
        """
        model_params = self._params(model)
        fisher = None
        count = 0
        for batch in batches:
            if count == self.num_batches:
                break
            loss = loss_fn(batch)
            grads = torch.autograd.grad(loss, model_params, allow_unused=True)
            sq = self._flat([torch.zeros_like(p) if g is None else g.detach() ** 2
                             for g, p in zip(grads, model_params)])
            fisher = sq if fisher is None else fisher + sq
            count += 1
        if count < self.num_batches:
            raise ValueError(f'EWC: needs {self.num_batches} source batches '
                             f'(ewc_fisher_batches), the source gave {count}')
        self.fisher.copy_(fisher / count)
        self.theta_src.copy_(self._flat([p.detach() for p in model_params]))
        self.ready.fill_(True)

    def forward(self, model):
        """The penalty for ``model``'s current parameters."""
        theta = self._flat(self._params(model))
        return 0.5 * self.lambda_ * (self.fisher * (theta - self.theta_src) ** 2).sum()

    def save_cache(self):
        """Writes ``F``, ``theta_src`` and the parameter names to ``cache_file``."""
        if self.cache_file is None:
            return
        atomic_save(dict(names=list(self.names), fisher=self.fisher.cpu(),
                         theta_src=self.theta_src.cpu(),
                         num_batches=self.num_batches), self.cache_file)

    def load_cache(self, model):
        """Loads ``cache_file`` when it exists. Returns whether it did.

        Args:
            model (nn.Module): the source model; the cache must have been
                computed at its current parameters.
        """
        if self.cache_file is None or not osp.isfile(self.cache_file):
            return False
        cache = torch.load(self.cache_file, map_location='cpu', weights_only=True)
        if list(cache.get('names', [])) != self.names \
                or cache['fisher'].numel() != self.fisher.numel():
            raise ValueError(
                f'EWC: Fisher cache {self.cache_file} was computed for other '
                f'parameters (another model or freezing); delete it or set '
                f'ewc_fisher_file to a new path')
        theta = self._flat([p.detach() for p in self._params(model)]).cpu()
        if not torch.allclose(theta, cache['theta_src'], atol=1e-6):
            raise ValueError(
                f'EWC: Fisher cache {self.cache_file} was computed for another '
                f'source model (parameters differ); delete it or set '
                f'ewc_fisher_file to a new path')
        self.fisher.copy_(cache['fisher'])
        self.theta_src.copy_(cache['theta_src'])
        self.ready.fill_(True)
        return True
