"""Labels that make the run figures readable on their own: human domain names and
short run names for legends."""
import math
import re

__all__ = ['domain_label', 'short_names', 'nan_note']

_ACDC = dict(fog='fog', night='night', rain='rain', snow='snow')


def domain_label(name):
    """A domain name as a reader says it.

    ``'25mm'`` -> ``'rain 25 mm/h'``, ``'fog150m'`` -> ``'fog 150 m'`` (visibility),
    ``'acdc_night'`` -> ``'ACDC night'``, ``'night3'`` -> ``'night 3'`` (a severity),
    ``'init'`` -> ``'before the stream'``; other names unchanged.

    Args:
        name (str): a dataset ``name`` (``data.val[*].name``) or ``'init'``.
    """
    name = str(name)
    if name == 'init':
        return 'before the stream'
    m = re.fullmatch(r'(\d+(?:\.\d+)?)mm', name)
    if m:
        return f'rain {m.group(1)} mm/h'
    m = re.fullmatch(r'fog(\d+(?:\.\d+)?)m', name)
    if m:
        return f'fog {m.group(1)} m'
    m = re.fullmatch(r'acdc_([a-z]+)', name)
    if m:
        return f'ACDC {_ACDC.get(m.group(1), m.group(1))}'
    m = re.fullmatch(r'([a-z]+)(\d+)', name)
    if m:
        return f'{m.group(1)} {m.group(2)}'
    return name


def short_names(names, sep='_'):
    """Legend labels of several runs: the ``sep``-separated parts of their names
    that not every name shares (a sweep's names differ in a part or two, e.g.
    ``261129_1200_proccity2storm_dacs_..._s0_ab12c`` -> ``dacs_ab12c``). A name
    left empty, or two names made equal, keep the full names.

    Args:
        names (Sequence[str]): the run names (folder names).
        sep (str): the separator of name parts. Default: '_'.
    """
    names = [str(n) for n in names]
    if len(names) < 2:
        return names
    parts = [n.split(sep) for n in names]
    common = set(parts[0]).intersection(*parts[1:])
    short = [sep.join(p for p in ps if p not in common) for ps in parts]
    if any(not s for s in short) or len(set(short)) < len(short):
        return names
    return short


def nan_note(values):
    """'' when every value is a number, else what the reader sees instead:
    ``' (no value)'`` when none is, ``' (gaps: no value)'`` when some are not."""
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in values]
    if all(missing):
        return ' (no value)'
    return ' (gaps: no value)' if any(missing) else ''
