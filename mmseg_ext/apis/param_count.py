"""Parameter audit of a model config: totals, trainable counts, a table by module.

The counts cover the network that is deployed and trained: for an adaptation
method (a UDA decorator) that is its student ``model``; EMA teachers, frozen
references and anchors are reported apart as excluded. Parameters shared by two
modules are counted once.
"""
import torch.nn as nn
from prettytable import PrettyTable

__all__ = ['human_format', 'count_parameters', 'param_table', 'param_json',
           'count_from_config']


def human_format(num, digits=3):
    """A count in short form with ``digits`` decimals, so that published counts can
    be compared to the thousand: 13_151_424 -> '13.151M', 400_659 -> '400.659K',
    512 -> '512'.

    Args:
        num (int): a count.
        digits (int): decimals after the unit. Default: 3.
    """
    for unit, scale in (('B', 1e9), ('M', 1e6), ('K', 1e3)):
        if abs(num) >= scale:
            return f'{num / scale:.{digits}f}{unit}'
    return str(int(num))


def _count(params, seen):
    total = trainable = 0
    for p in params:
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return total, trainable


def count_parameters(model, depth=2):
    """Counts the parameters of a segmentor or of a UDA decorator's student.

    Args:
        model (nn.Module): a segmentor, or a decorator whose student is ``model.model``.
        depth (int): how many levels of submodules get their own row (1: top-level
            modules such as ``backbone``/``decode_head``; 2: also their children,
            e.g. ``backbone.blocks``, ``backbone.adapters``). Default: 2.

    Returns:
        dict: ``total``, ``trainable``, ``rows`` (list of ``(name, total,
        trainable)``, parents before children), ``excluded`` (``{name: total}``
        of the decorator's other networks: EMA teacher, references) and ``peft``
        (``{kind: (total, trainable)}`` of the adapters, injectors, prompts, ...).
    """
    if depth < 1:
        raise ValueError(f'depth must be at least 1, got {depth}')
    student = getattr(model, 'model', None)
    excluded = {}
    if isinstance(student, nn.Module) and student is not model:
        seen = {id(p) for p in student.parameters()}
        for name, child in model.named_children():
            if child is not student:
                n = _count(child.parameters(), set(seen))[0]
                if n:
                    excluded[name] = n
    else:
        student = model
    total, trainable = _count(student.parameters(), set())
    rows = []

    def visit(module, prefix, level):
        for name, child in module.named_children():
            full = f'{prefix}.{name}' if prefix else name
            n, t = _count(child.parameters(), set())
            if n == 0:
                continue
            rows.append((full, n, t))
            if level < depth:
                visit(child, full, level + 1)

    visit(student, '', 1)
    own = _count(student.parameters(recurse=False), set())
    if own[0]:
        rows.insert(0, ('(own parameters)', *own))
    return dict(total=total, trainable=trainable, rows=rows, excluded=excluded,
                peft=_peft_counts(student))


def _peft_counts(model):
    """``{class name: (total, trainable)}`` of the parameter-efficient modules.

    Adapters sit inside the backbone's blocks, so the module rows hide them; this
    sums the outermost :class:`~mmseg_ext.models.utils.PEFTModule` s by kind.
    """
    from ..models.utils import PEFTModule
    kinds, seen, inside = {}, set(), set()
    for name, module in model.named_modules():
        if not isinstance(module, PEFTModule) or any(
                name.startswith(p + '.') for p in inside):
            continue
        inside.add(name)
        n, t = _count(module.parameters(), seen)
        total, trainable = kinds.get(type(module).__name__, (0, 0))
        kinds[type(module).__name__] = (total + n, trainable + t)
    return kinds


def param_table(counts, trainable_only=False):
    """A PrettyTable of :func:`count_parameters`' rows (children indented).

    Args:
        counts (dict): output of :func:`count_parameters`.
        trainable_only (bool): only rows with trainable parameters, one count
            column. Default: False.
    """
    fields = ['module', 'trainable'] if trainable_only else ['module', 'params',
                                                              'trainable']
    table = PrettyTable(fields)
    table.align['module'] = 'l'
    for name, n, t in counts['rows']:
        if trainable_only and t == 0:
            continue
        label = '  ' * name.count('.') + name
        table.add_row([label, human_format(t)] if trainable_only
                      else [label, human_format(n), human_format(t)])
    for kind, (n, t) in sorted(counts.get('peft', {}).items()):
        if trainable_only and t == 0:
            continue
        label = f'[all {kind} modules]'
        table.add_row([label, human_format(t)] if trainable_only
                      else [label, human_format(n), human_format(t)])
    if trainable_only:
        table.add_row(['total trainable', human_format(counts['trainable'])])
    else:
        table.add_row(['total', human_format(counts['total']),
                       human_format(counts['trainable'])])
    return table


def param_json(counts, config, trainable_only=False):
    """The JSON-ready form of :func:`count_parameters`' result for ``config``.

    Args:
        counts (dict): output of :func:`count_parameters`.
        config (str): the config the counts are of (recorded as ``config``).
        trainable_only (bool): only trainable counts: ``trainable`` (no ``total``),
            module rows with trainable parameters and their ``trainable`` count
            only, PEFT kinds with trainable parameters. Default: False.

    Returns:
        dict: ``config``, ``trainable_only``, ``total`` (unless trainable-only),
        ``trainable``, ``modules``, ``peft``, ``excluded``; every count exact.
    """
    if trainable_only:
        modules = [dict(module=n, trainable=t) for n, _, t in counts['rows'] if t]
        peft = {k: dict(trainable=t) for k, (_, t) in counts['peft'].items() if t}
        out = dict(config=config, trainable_only=True, trainable=counts['trainable'])
    else:
        modules = [dict(module=n, params=p, trainable=t) for n, p, t in counts['rows']]
        peft = {k: dict(params=n, trainable=t) for k, (n, t) in counts['peft'].items()}
        out = dict(config=config, trainable_only=False, total=counts['total'],
                   trainable=counts['trainable'])
    out.update(modules=modules, peft=peft, excluded=counts['excluded'])
    return out


def count_from_config(config, checkpoint=None, depth=2, trusted=False):
    """Builds what ``config`` trains (``build_train_model``) and counts it.

    Args:
        config (str | mmcv.Config): the config.
        checkpoint (str, optional): weights to load first. Default: None.
        depth (int): see :func:`count_parameters`. Default: 2.
        trusted (bool): fully unpickle the checkpoint. Default: False.
    """
    from mmcv import Config

    from ..core import load_checkpoint
    from ..models import build_train_model
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model = build_train_model(cfg, train_cfg=cfg.get('train_cfg'),
                              test_cfg=cfg.get('test_cfg'))
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, trusted=trusted)
    return count_parameters(model, depth)
