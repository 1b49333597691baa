"""Modular training policies: how deep the backward pass goes at each step.

HAMLET's Hardware-Aware Modular Least Expensive Training (MAD, Colomer et al.,
ICCV 2023, arXiv:2307.15063, Sec. 3.2): the encoder is split into
``total_modules`` modules; a step that starts training at module ``k`` updates
modules ``k..total_modules`` and the head only, so earlier modules need no
backward pass. MAD keeps a histogram of the gain obtained by each choice (decayed
by ``alpha`` at every update) and, when ``time_update`` is on, divides it by the
measured cost of the choice, then samples ``k`` from a softmax with
``temperature``. The 'fixed' and 'random' policies are the baselines.
Modules are numbered 1..total_modules (1 = train everything).
"""
import numpy as np

__all__ = ['FixedPolicy', 'RandomPolicy', 'MADPolicy', 'build_training_policy',
           'TRAINING_POLICIES']


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

    def update(self, module, gain, seconds):
        """Nothing to learn."""

    def histogram(self):
        """list[float]: one-hot on the fixed module."""
        return [float(m == self.module) for m in range(1, self.total_modules + 1)]

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


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


class MADPolicy(RandomPolicy):
    """HAMLET's gain-histogram policy with time-aware weighting.

    Args:
        total_modules (int): number of encoder modules. Default: 4.
        alpha (float): decay of the gain histogram at every update (0..1).
            Default: 0.1.
        temperature (float): softmax temperature over the scores. Default: 1.0.
        time_update (bool): divide each gain by the measured step time of its
            module (least expensive training). Default: True.
        seed (int): seed of the policy's own generator. Default: 0.
    """

    def __init__(self, total_modules=4, alpha=0.1, temperature=1.0, time_update=True,
                 seed=0, **kwargs):
        super().__init__(total_modules=total_modules, seed=seed)
        if not 0.0 <= float(alpha) < 1.0:
            raise ValueError(f'MAD policy: alpha must be in [0, 1), got {alpha}')
        if float(temperature) <= 0:
            raise ValueError(f'MAD policy: temperature must be > 0, got {temperature}')
        self.alpha = float(alpha)
        self.temperature = float(temperature)
        self.time_update = bool(time_update)
        self.gains = np.zeros(self.total_modules)
        self.times = np.zeros(self.total_modules)

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

    def update(self, module, gain, seconds):
        """Adds the gain (and time) observed after training from ``module``."""
        i = int(module) - 1
        self.gains *= self.alpha
        self.gains[i] += float(gain)
        if self.times[i] == 0:
            self.times[i] = float(seconds)
        else:
            self.times[i] = 0.9 * self.times[i] + 0.1 * float(seconds)

    def histogram(self):
        return [float(g) for g in self.gains]

    def state_dict(self):
        return dict(rng=self.rng.bit_generator.state, gains=self.gains.tolist(),
                    times=self.times.tolist())

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state['rng']
        self.gains = np.asarray(state['gains'], dtype=float)
        self.times = np.asarray(state['times'], dtype=float)


TRAINING_POLICIES = dict(fixed=FixedPolicy, random=RandomPolicy, mad=MADPolicy)


def build_training_policy(training_policy='mad', **kwargs):
    """Builds a policy by name ('fixed', 'random', 'mad')."""
    if training_policy not in TRAINING_POLICIES:
        raise ValueError(f'unknown training_policy {training_policy!r}; expected one '
                         f'of {sorted(TRAINING_POLICIES)}')
    return TRAINING_POLICIES[training_policy](**kwargs)
