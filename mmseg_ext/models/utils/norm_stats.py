"""One key for where BatchNorm statistics come from: ``uda.norm_stats``.

A dict with five fields (a method's defaults are its class attribute
``NORM_STATS``; its ``_base_/uda`` file lists them; a config sets only the fields
it changes, mmcv merges the rest):

- ``student``: how the student's BatchNorm layers normalise during adaptation
  steps. ``'batch'``: train mode, each batch's own statistics, folded into the
  running ones. ``'running'``: eval mode, the running (source) statistics, never
  updated (for CoTTA the whole student runs in eval mode, dropout and drop-path
  off, as in its reference).
- ``predict``: what the student's predictions (stream and evaluation) normalise
  with. ``'running'``: the running statistics. ``'batch'`` (TENT's reference):
  the statistics of the batch predicted, and no running statistic is tracked.
- ``source_pass``: the supervised source pass folds its batch statistics into the
  student's running ones (DACS; None where a method has no source pass).
- ``target_pass``: one gradient-free train-mode forward of the student on each
  target frame, so the running statistics follow the target (online AdaBN).
- ``teacher``: the EMA teacher's statistics (None without a teacher).
  ``'batch'``: each target frame's own (DAFormer's and HAMLET's teacher runs in
  train mode; the EMA averages parameters only). ``'source'``: its own running
  statistics, the source ones, never updated (CoTTA's reference).
  ``'student_running'``: the student's running statistics, copied in at every
  EMA update.

The keys this replaces are accepted as deprecated aliases (with a warning) through
:data:`DEPRECATED_KEYS`, the one table mapping them.
"""
import warnings

__all__ = ['NORM_STATS_FIELDS', 'DEPRECATED_KEYS', 'translate_deprecated',
           'resolve_norm_stats']

NORM_STATS_FIELDS = ('student', 'predict', 'source_pass', 'target_pass', 'teacher')

#: Old key -> (its default, the ``norm_stats`` field, {old value: field value}).
#: An old key at its default changes nothing (the new defaults are the old ones).
DEPRECATED_KEYS = {
    'norm_eval': (False, 'student', {True: 'running'}),
    'use_batch_stats': (True, 'student', {False: 'running'}),  # TENT
    'student_train_mode': (False, 'student', {True: 'batch'}),  # CoTTA
    'predict_batch_stats': (True, 'predict', {False: 'running'}),  # TENT
    'source_norm_stats': (True, 'source_pass', {False: False}),  # DACS
    'target_norm_stats': (False, 'target_pass', {True: True}),
    'teacher_norm': ('batch', 'teacher', {'student_running': 'student_running'}),  # DACS
    'teacher_copy_norm_stats': (False, 'teacher', {True: 'student_running'}),  # CoTTA
}


def translate_deprecated(uda_cfg):
    """Moves the deprecated keys of ``uda_cfg`` into its ``norm_stats``, warning.

    Args:
        uda_cfg (dict): ``cfg.uda``; not modified.

    Returns:
        dict: a copy without the old keys, ``norm_stats`` holding their meaning.

    Raises:
        ValueError: an old key has a value it never took, or two old keys (or an
            old key and ``norm_stats``) set one field differently.
    """
    old = [k for k in uda_cfg if k in DEPRECATED_KEYS]
    if not old:
        return uda_cfg
    out = {k: v for k, v in uda_cfg.items() if k not in DEPRECATED_KEYS}
    given = dict(out.get('norm_stats') or {})
    norm_stats, source = dict(given), {f: 'norm_stats' for f in given}
    for key in old:
        default, field, mapping = DEPRECATED_KEYS[key]
        value = uda_cfg[key]
        if value != default and value not in mapping:
            raise ValueError(f'uda.{key}={value!r} is not a value it took (default '
                             f'{default!r}, or {sorted(mapping, key=str)}); use '
                             f'uda.norm_stats.{field}')
        if value == default:
            continue
        new = mapping[value]
        if field in norm_stats and norm_stats[field] != new:
            raise ValueError(f'uda.{key}={value!r} means norm_stats.{field}={new!r}, '
                             f'but {source[field]} sets {norm_stats[field]!r}')
        norm_stats[field], source[field] = new, f'uda.{key}'
    warnings.warn(f'uda keys {old} are deprecated: they are read as uda.norm_stats='
                  f'{norm_stats} (mmseg_ext/models/utils/norm_stats.py)', FutureWarning,
                  stacklevel=2)
    out['norm_stats'] = norm_stats
    return out


def resolve_norm_stats(method, norm_stats, defaults, choices):
    """The method's defaults updated by ``norm_stats``, checked field by field.

    Args:
        method (str): the method's name, for errors.
        norm_stats (dict | None): the config's fields (None: the defaults).
        defaults (dict): the method's ``NORM_STATS``.
        choices (dict): field -> tuple of the values the method supports.

    Returns:
        dict: every field of :data:`NORM_STATS_FIELDS`.

    Raises:
        ValueError: an unknown field, or a value the method does not support.
    """
    norm_stats = dict(norm_stats or {})
    unknown = sorted(set(norm_stats) - set(NORM_STATS_FIELDS))
    if unknown:
        raise ValueError(f'{method}: norm_stats has no field {unknown}; fields: '
                       f'{list(NORM_STATS_FIELDS)}')
    out = dict(defaults, **norm_stats)
    for field in NORM_STATS_FIELDS:
        if out[field] not in choices[field]:
            raise ValueError(f'{method}: norm_stats.{field} must be one of '
                             f'{list(choices[field])}, got {out[field]!r}')
    if out['target_pass'] and out['student'] == 'running':
        raise ValueError(f"{method}: norm_stats.target_pass=True updates BatchNorm "
                         f"running statistics in train mode, student='running' keeps "
                         f"them fixed; choose one")
    return out
