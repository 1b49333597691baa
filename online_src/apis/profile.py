"""Per-phase profile of the online adaptation step, under ``line_profiler``.

A method's step is written as commented phases (DAFormer's style, see
:class:`~mmseg_ext.models.uda.DACS`): ``# Update the EMA teacher`` ->
``# Train on source images`` -> ``# Pseudo-label the target ...`` ->
``# ClassMix ...`` -> ``# Train on the mixed images`` ... . This module times
every line of the method's ``train_step`` and ``adapt`` with ``line_profiler``
and sums the lines per phase, where a line's phase is the last phase comment
above it at the function's top indentation, except:

- lines calling ``backward`` (``loss.backward``, ``self.backward``,
  ``parse_and_backward``) form the **backward** phase, so that the
  ``Train on ...`` phases hold their forward passes only;
- ``optimizer.step()`` is **optimizer step**, ``zero_grad`` **zero grad**,
  ``after_step()`` **after step** (e.g. CoTTA's teacher update);
- the ``adapt(...)`` call of ``train_step`` is replaced by ``adapt``'s own lines.

It reports per phase the time per hit, the hits and the share of the step, for
one or several configs side by side (e.g. full fine-tuning vs. a frozen backbone
with adapters), as a table and as JSON.
"""
import ast
import inspect
import os.path as osp
import textwrap
import time

from line_profiler import LineProfiler
from tqdm import tqdm

__all__ = ['phase_of_lines', 'profile_steps', 'profile_config', 'build_step_inputs',
           'format_profiles']

RULES = (('optimizer.step(', 'optimizer step'), ('zero_grad(', 'zero grad'),
         ('backward(', 'backward'), ('after_step(', 'after step'))
ADAPT_CALL = '.adapt('
DEFAULT_PHASE = 'other'


def _phase_name(comment):
    """'# Update the EMA teacher (initialised ...).' -> 'Update the EMA teacher'."""
    text = comment.lstrip('#').strip()
    for sep in (' (', '. ', ': ', '; '):
        text = text.split(sep)[0]
    return text.rstrip('.').strip() or DEFAULT_PHASE


def phase_of_lines(func, default=DEFAULT_PHASE):
    """Maps each source line of ``func`` to its phase.

    Args:
        func (callable): a function written in commented phases.
        default (str): phase of the lines before the first phase comment.
            Default: 'other'.

    Returns:
        dict: ``{line number: phase name}``; the ``adapt(...)`` call lines map to
        None (expanded by the caller).
    """
    lines, start = inspect.getsourcelines(func)
    tree = ast.parse(textwrap.dedent(''.join(lines)))
    body = tree.body[0].body
    skip = set()
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first, 'value', None),
                                                  ast.Constant) \
            and isinstance(first.value.value, str):
        skip = set(range(first.lineno - 1, first.end_lineno))  # the docstring
    head = first.lineno - 1
    body_indent = len(lines[head]) - len(lines[head].lstrip())
    phase = default
    mapping = {}
    for offset in range(head, len(lines)):
        text = lines[offset]
        code = text.strip()
        if not code or offset in skip:
            continue
        if code.startswith('#'):
            if len(text) - len(text.lstrip()) == body_indent:
                phase = _phase_name(code)
            continue
        lineno = start + offset
        if ADAPT_CALL in code:
            mapping[lineno] = None
            continue
        for needle, name in RULES:
            if needle in code:
                mapping[lineno] = name
                break
        else:
            mapping[lineno] = phase
    return mapping


def _method_of(model):
    from mmcv.parallel import is_module_wrapper
    return model.module if is_module_wrapper(model) else model


def _profiled_functions(method):
    cls = type(method)
    funcs = [cls.train_step]
    adapt = getattr(cls, 'adapt', None)
    if adapt is not None and not getattr(adapt, '__isabstractmethod__', False):
        funcs.append(adapt)
    return [inspect.unwrap(f) for f in funcs]


def _phases(func):
    """:func:`phase_of_lines` of ``train_step`` ('other' before any comment) or of
    ``adapt`` ('adapt' for a step written without phase comments)."""
    return phase_of_lines(func, DEFAULT_PHASE if func.__name__ == 'train_step'
                          else func.__name__)


def _step_order(funcs):
    """Phase names in execution order: the driver's lines, with the adapt call
    replaced by the phases of ``adapt``."""
    inner = [] if len(funcs) < 2 else \
        [p for _, p in sorted(_phases(funcs[1]).items())]
    order = []
    for _, phase in sorted(_phases(funcs[0]).items()):
        for p in (inner if phase is None else [phase]):
            if p is not None and p not in order:
                order.append(p)
    return order


def profile_steps(model, optimizer, batches, steps=10, warmup=2, step_kwargs=None,
                  name=None, progress=False):
    """Runs ``warmup`` then ``steps`` adaptation steps, profiling the latter.

    Args:
        model (nn.Module): the method (``train_step``), possibly inside mmcv's
            data-parallel wrapper (as the runner calls it).
        optimizer (Optimizer): the method's optimizer.
        batches (Iterator[dict]): data batches as the runner passes them.
        steps (int): profiled steps. Default: 10.
        warmup (int): unprofiled steps first (the first step copies the teacher
            and reference models). Default: 2.
        step_kwargs (dict | None): extra ``train_step`` arguments
            (``train_from_module``, ``mix_ratio``). Default: None.
        name (str | None): label of the profile. Default: the method's class.
        progress (bool): show a progress bar (stderr). Default: False.

    Returns:
        dict: ``name``, ``method``, ``steps``, ``step_ms`` (mean wall time of a
        profiled step), ``phases`` (list of ``phase``, ``ms_per_hit``, ``hits``,
        ``ms_per_step``, ``share``; in step order) and ``lines`` (per profiled
        line: ``file``, ``line``, ``code``, ``phase``, ``hits``, ``ms``).
    """
    if int(steps) < 1:
        raise ValueError(f'profile_steps: steps must be >= 1, got {steps}')
    if int(warmup) < 0:
        raise ValueError(f'profile_steps: warmup must be >= 0, got {warmup}')
    method = _method_of(model)
    step_kwargs = dict(step_kwargs or {})
    bar = tqdm(total=int(warmup) + int(steps), desc=name or type(method).__name__,
               unit='step', disable=not progress)
    for _ in range(int(warmup)):
        model.train_step(next(batches), optimizer, **step_kwargs)
        bar.update()
    funcs = _profiled_functions(method)
    profiler = LineProfiler(*funcs)
    wall = 0.0
    for _ in range(int(steps)):
        bar.update()
        batch = next(batches)
        t0 = time.perf_counter()
        profiler.enable_by_count()
        try:
            model.train_step(batch, optimizer, **step_kwargs)
        finally:
            profiler.disable_by_count()
        wall += time.perf_counter() - t0
    bar.close()
    stats = profiler.get_stats()
    phase_maps = {}
    for f in funcs:
        code = f.__code__
        phase_maps[(code.co_filename, code.co_firstlineno)] = \
            (_phases(f), inspect.getsourcelines(f))
    to_ms = stats.unit * 1e3
    phases, lines = {}, []
    for key, timings in stats.timings.items():
        mapping, (src, start) = phase_maps.get(key[:2], ({}, ([], 0)))
        for lineno, hits, total in timings:
            phase = mapping.get(lineno, DEFAULT_PHASE)
            code = src[lineno - start].strip() if 0 <= lineno - start < len(src) else ''
            lines.append(dict(file=osp.basename(key[0]), line=lineno, code=code,
                              phase=phase, hits=int(hits), ms=total * to_ms))
            if phase is None:
                continue
            entry = phases.setdefault(phase, dict(ms=0.0, hits=0))
            entry['ms'] += total * to_ms
            # times the phase ran: the fewest hits of its executed lines (a
            # statement spread over several lines can count a hit per line)
            if hits and (entry['hits'] == 0 or hits < entry['hits']):
                entry['hits'] = int(hits)
    total_ms = sum(p['ms'] for p in phases.values()) or float('nan')
    order = [p for p in _step_order(funcs) if p in phases]
    order += [p for p in phases if p not in order]
    rows = [dict(phase=p, ms_per_hit=phases[p]['ms'] / max(phases[p]['hits'], 1),
                 hits=phases[p]['hits'], ms_per_step=phases[p]['ms'] / int(steps),
                 share=phases[p]['ms'] / total_ms) for p in order]
    return dict(name=name or type(method).__name__, method=type(method).__name__,
                steps=int(steps), step_ms=wall * 1e3 / int(steps), phases=rows,
                lines=lines)


def build_step_inputs(cfg, domain=None, device=None):
    """Builds what the online runner would: method, optimizer, data batches.

    The method and its optimizer come from
    :func:`~online_src.apis.online.build_online_model`, as in
    :func:`~online_src.apis.online.train_online`.

    Args:
        cfg (mmcv.Config): an online config (``data.train = [source, targets...]``,
            ``uda``, ``model``, ``optimizer``; ``load_from`` is loaded into the
            student).
        domain (str | None): the target domain streamed. Default: None (the
            first of ``runner.domain_order``).
        device (str | None): 'cuda' or 'cpu'. Default: None (CUDA when there).

    Returns:
        tuple: ``(model, optimizer, batches)`` with ``batches`` an endless
        iterator of data batches (target frames of ``domain`` paired with
        source batches when the method needs them).
    """
    from mmcv.parallel import collate
    from mmseg.datasets import build_dataset

    from .. import STORM_ORDER, SourceStream
    from .online import build_online_model

    train = cfg.data.get('train')
    if not isinstance(train, (list, tuple)) or len(train) < 2:
        raise ValueError('profile_step needs an online config: data.train = '
                         '[source_cfg, target_cfg, ...]')
    domain = domain or cfg.get('runner', {}).get('domain_order', STORM_ORDER)[0]
    names = [t.get('name') for t in train[1:]]
    if domain not in names:
        raise ValueError(f'profile_step: domain {domain!r} is not one of the target '
                         f'datasets {names}')
    source = build_dataset(train[0])
    target = build_dataset(train[1 + names.index(domain)])
    # mmcv's init report stays on, as the profiler always printed it
    model, optimizer = build_online_model(cfg, device, load_from=cfg.get('load_from'),
                                          quiet_init=False)
    method = _method_of(model)
    batch_size = int(cfg.data.get('samples_per_gpu', 1))
    stream = SourceStream(source, batch_size, True, cfg.get('seed', 0))
    needs_source = bool(getattr(method, 'needs_source', True))

    def batches():
        i = 0
        while True:
            idx = [(i + k) % len(target) for k in range(batch_size)]
            frame = collate([target[j] for j in idx], samples_per_gpu=batch_size)
            data_batch = {f'target_{k}': v for k, v in frame.items()}
            if needs_source:
                data_batch.update(stream.next())
            yield data_batch
            i += batch_size

    return model, optimizer, batches()


def profile_config(cfg, steps=10, warmup=2, domain=None, device=None, name=None,
                   progress=False):
    """:func:`profile_steps` on the method, data and optimizer of a config."""
    model, optimizer, batches = build_step_inputs(cfg, domain, device)
    return profile_steps(model, optimizer, batches, steps, warmup, name=name,
                         progress=progress)


def format_profiles(profiles):
    """Side-by-side table of several :func:`profile_steps` results.

    Columns per profile: ms per hit, hits, share of the step (%); rows are the
    phases in step order (the union over profiles), then the whole step.
    """
    from prettytable import PrettyTable
    phases = []
    for prof in profiles:
        for row in prof['phases']:
            if row['phase'] not in phases:
                phases.append(row['phase'])
    header = ['phase']
    for prof in profiles:
        header += [f'{prof["name"]} ms/hit', f'{prof["name"]} hits',
                   f'{prof["name"]} share %']
    table = PrettyTable(header)
    table.align['phase'] = 'l'
    for phase in phases:
        row = [phase]
        for prof in profiles:
            rec = next((r for r in prof['phases'] if r['phase'] == phase), None)
            row += (['-', '-', '-'] if rec is None else
                    [f'{rec["ms_per_hit"]:.2f}', rec['hits'], f'{100 * rec["share"]:.1f}'])
        table.add_row(row)
    row = ['whole step (wall)']
    for prof in profiles:
        row += [f'{prof["step_ms"]:.2f}', prof['steps'], '100.0']
    table.add_row(row)
    return table.get_string()
