"""Modular training policies: how deep the backward pass goes at each step.

HAMLET's Hardware-Aware Modular Least Expensive Training (MAD, Colomer et al.,
ICCV 2023, arXiv:2307.15063, Sec. 3.2): the encoder is split into
``total_modules`` modules; a step that starts training at module ``k`` updates
modules ``k..total_modules`` and the head only, so earlier modules need no
backward pass. ``'mad'`` is MAD as HAMLET's public code implements it (the argmax
of a time-weighted histogram of loss-trend gains, :class:`MADPolicy`);
``'mad_sampled'`` is the project's variant (softmax draws over gains divided by
measured step times, :class:`SampledMADPolicy`). The 'fixed' and 'random'
policies are the baselines. Every policy gets ``update(module, loss, seconds)``
after each trained frame.
Modules are numbered 1..total_modules (1 = train everything).
"""
import numpy as np

from .builder import MODULE_POLICIES, build_part

__all__ = ['FixedPolicy', 'RandomPolicy', 'MADPolicy', 'SampledMADPolicy',
           'build_training_policy', 'POLICY_ARGUMENTS']

# The keyword arguments every policy is built with (by
# online_src.controller.build_module_policy from runner.controller.module_policy);
# a policy takes the ones it uses and **kwargs for the rest.
POLICY_ARGUMENTS = ('total_modules', 'module', 'alpha', 'temperature', 'time_update',
                    'module_speeds', 'seed')


@MODULE_POLICIES.register_module(name='fixed')
class FixedPolicy:
    """Always trains from the same module.

    Args:
        total_modules (int): number of encoder modules. Default: 4.
        module (int): the module training starts from. Default: 1.
    """

    def __init__(self, total_modules=4, module=1, **kwargs):
        if not 1 <= int(module) <= int(total_modules):
            raise ValueError(f'fixed training policy: module must be in '
                             f'1..{total_modules}, got {module}')
        self.total_modules = int(total_modules)
        self.module = int(module)

    def choose(self):
        """int: the module the next step trains from."""
        return self.module

    def update(self, module, loss, seconds):
        """Nothing to learn."""

    def histogram(self):
        """list[float]: one-hot on the fixed module."""
        return [float(m == self.module) for m in range(1, self.total_modules + 1)]

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


@MODULE_POLICIES.register_module(name='random')
class RandomPolicy(FixedPolicy):
    """Draws the module uniformly at every step.

    Args:
        total_modules (int): number of encoder modules. Default: 4.
        seed (int): seed of the policy's own generator. Default: 0.
    """

    def __init__(self, total_modules=4, seed=0, **kwargs):
        super().__init__(total_modules=total_modules, module=1)
        self.rng = np.random.default_rng(seed)

    def choose(self):
        return int(self.rng.integers(1, self.total_modules + 1))

    def histogram(self):
        return [1.0 / self.total_modules] * self.total_modules

    def state_dict(self):
        return dict(rng=self.rng.bit_generator.state)

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state['rng']


@MODULE_POLICIES.register_module(name='mad')
class MADPolicy(FixedPolicy):
    """HAMLET's MAD policy: argmax of a time-weighted gain histogram.

    As ``ModularEncoderDecoder.update_mad_histogram`` / ``select_module_to_train``
    of HAMLET's public code (MarcBotet/hamlet,
    ``mmseg/models/segmentors/modular_encoder_decoder.py``): after each trained
    frame with loss ``L[t]`` the gain of the module trained at the *previous*
    frame is the loss drop beyond the linear trend,
    ``g = (2 L[t-1] - L[t-2]) - L[t]`` (0 at the first update); the histogram keeps
    ``1 - alpha`` of its history and adds ``alpha * w_k * g`` to that module,
    ``w = softmax(module_speeds / temperature)`` when ``time_update`` (fixed
    per-module weights, larger for the cheaper late modules). The next frame
    trains from ``argmax`` of the histogram (ties: the earliest module, so the
    first frame trains everything).

    Args:
        total_modules (int): number of encoder modules. Default: 4.
        alpha (float): weight of a new gain; the history keeps ``1 - alpha``
            (0 < alpha <= 1). Default: 0.1.
        temperature (float): temperature of the softmax over ``module_speeds``.
            Default: 1.75.
        time_update (bool): weigh each gain by its module's weight. Default: True.
        module_speeds (Sequence[float]): one score per module, softmaxed into the
            gain weights; HAMLET's code hard-codes ``(4.21, 4.83, 5.11, 5.73)``
            for MiT-B1's four modules. Default: (4.21, 4.83, 5.11, 5.73).
    """

    def __init__(self, total_modules=4, alpha=0.1, temperature=1.75, time_update=True,
                 module_speeds=(4.21, 4.83, 5.11, 5.73), **kwargs):
        super().__init__(total_modules=total_modules, module=1)
        _check_mad_args(alpha, temperature)
        if len(module_speeds) != self.total_modules:
            raise ValueError(f'MAD policy: module_speeds needs one value per module '
                             f'({self.total_modules}), got {list(module_speeds)}')
        self.alpha = float(alpha)
        self.time_update = bool(time_update)
        speeds = np.asarray(module_speeds, dtype=float) / float(temperature)
        self.weights = np.exp(speeds - speeds.max()) / np.exp(speeds - speeds.max()).sum()
        self.gains = np.zeros(self.total_modules)
        self.times_selected = [0] * self.total_modules
        self.losses = []  # L[t-1], L[t-2] once seen
        self.previous_module = None

    def choose(self):
        module = int(np.argmax(self.gains)) + 1
        self.times_selected[module - 1] += 1
        return module

    def update(self, module, loss, seconds=None):
        """Credits the loss drop of this frame to the module trained before it.

        Args:
            module (int): the module this frame trained from.
            loss (float): this frame's loss (HAMLET: the mixed-image decode loss,
                computed before this frame's update).
            seconds (float | None): unused (the weights are fixed).
        """
        loss = float(loss)
        if self.previous_module is None:
            self.losses = [loss, loss]
            self.previous_module = int(module)
        gain = (2 * self.losses[0] - self.losses[1]) - loss
        self.losses = [loss, self.losses[0]]
        self.gains *= 1.0 - self.alpha
        if self.time_update:
            gain *= self.weights[self.previous_module - 1]
        self.gains[self.previous_module - 1] += self.alpha * gain
        self.previous_module = int(module)

    def histogram(self):
        return [float(g) for g in self.gains]

    def state_dict(self):
        return dict(gains=self.gains.tolist(), losses=list(self.losses),
                    previous_module=self.previous_module,
                    times_selected=list(self.times_selected))

    def load_state_dict(self, state):
        self.gains = np.asarray(state['gains'], dtype=float)
        self.losses = [float(v) for v in state['losses']]
        self.previous_module = state['previous_module']
        self.times_selected = [int(v) for v in state['times_selected']]


@MODULE_POLICIES.register_module(name='mad_sampled')
class SampledMADPolicy(RandomPolicy):
    """The project's MAD variant: sampled choice, measured step times.

    Differs from :class:`MADPolicy` (HAMLET) in three ways: the gain of a frame
    is the drop of its loss below a running mean of the losses (EMA 0.9) and is
    credited to the module trained at this frame; the histogram is divided by
    the measured step time of each module (normalised to mean 1) instead of
    fixed weights; and the module is drawn from a softmax over the histogram
    (scaled to max |h| = 1) with ``temperature`` instead of the argmax, every
    module being tried once first. The histogram keeps ``1 - alpha`` of its
    history, as HAMLET's.

    Args:
        total_modules (int): number of encoder modules. Default: 4.
        alpha (float): weight of a new gain (0 < alpha <= 1). Default: 0.1.
        temperature (float): softmax temperature of the draw. Default: 1.0.
        time_update (bool): divide by the measured step times. Default: True.
        seed (int): seed of the policy's own generator. Default: 0.
    """

    def __init__(self, total_modules=4, alpha=0.1, temperature=1.0, time_update=True,
                 seed=0, **kwargs):
        super().__init__(total_modules=total_modules, seed=seed)
        _check_mad_args(alpha, temperature)
        self.alpha = float(alpha)
        self.temperature = float(temperature)
        self.time_update = bool(time_update)
        self.gains = np.zeros(self.total_modules)
        self.times = np.zeros(self.total_modules)
        self.loss_ema = None

    def probabilities(self):
        """np.ndarray: sampling probability of modules 1..total_modules."""
        scores = self.gains.copy()
        if self.time_update and np.all(self.times > 0):
            scores = scores / (self.times / self.times.mean())
        scale = max(np.abs(scores).max(), 1e-12)
        logits = scores / scale / self.temperature
        p = np.exp(logits - logits.max())
        return p / p.sum()

    def choose(self):
        untried = np.flatnonzero(self.times == 0)
        if len(untried):  # measure every module once first
            return int(untried[0]) + 1
        return int(self.rng.choice(self.total_modules, p=self.probabilities())) + 1

    def update(self, module, loss, seconds):
        """Adds the gain (and time) observed after training from ``module``."""
        loss = float(loss)
        gain = 0.0 if self.loss_ema is None else self.loss_ema - loss
        self.loss_ema = loss if self.loss_ema is None else 0.9 * self.loss_ema + 0.1 * loss
        i = int(module) - 1
        self.gains *= 1.0 - self.alpha
        self.gains[i] += self.alpha * gain
        if self.times[i] == 0:
            self.times[i] = float(seconds)
        else:
            self.times[i] = 0.9 * self.times[i] + 0.1 * float(seconds)

    def histogram(self):
        return [float(g) for g in self.gains]

    def state_dict(self):
        return dict(rng=self.rng.bit_generator.state, gains=self.gains.tolist(),
                    times=self.times.tolist(), loss_ema=self.loss_ema)

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state['rng']
        self.gains = np.asarray(state['gains'], dtype=float)
        self.times = np.asarray(state['times'], dtype=float)
        self.loss_ema = state['loss_ema']


def _check_mad_args(alpha, temperature):
    if not 0.0 < float(alpha) <= 1.0:
        raise ValueError(f'MAD policy: alpha must be in (0, 1], got {alpha}')
    if float(temperature) <= 0:
        raise ValueError(f'MAD policy: temperature must be > 0, got {temperature}')


def build_training_policy(training_policy='mad', **kwargs):
    """Builds the policy registered as ``training_policy`` in
    :data:`~online_src.builder.MODULE_POLICIES` ('fixed', 'random', 'mad',
    'mad_sampled' or one of your own) from :data:`POLICY_ARGUMENTS`."""
    return build_part(MODULE_POLICIES, 'module_policy', dict(kwargs, type=training_policy),
                      'mad')
