"""Parameter audit: MiT sizes, trainable counts, EMA teacher excluded, CLI output."""
import copy
import json
import re
import os.path as osp
import sys

import pytest
import torch.nn as nn
from mmcv import Config

from mmseg_ext.apis.param_count import (count_from_config, count_parameters,
                                        human_format, param_json, param_table)


@pytest.mark.parametrize('num,text', [(512, '512'), (3_700_000, '3.700M'),
                                      (512_000, '512.000K'), (1_500, '1.500K'),
                                      (1_000_000, '1.000M'), (13_151_424, '13.151M'),
                                      (44_072_000, '44.072M'), (81_443_008, '81.443M'),
                                      (2_500_000_000, '2.500B')])
def test_human_format(num, text):
    assert human_format(num) == text


@pytest.mark.parametrize('size,encoder', [('b0', 3_319_392), ('b5', 81_443_008)])
def test_mit_encoder_sizes(repo_root, size, encoder):
    counts = count_from_config(osp.join(repo_root,
                                        f'configs/_base_/models/segformer_mit-{size}.py'))
    rows = {name: n for name, n, _ in counts['rows']}
    assert rows['backbone'] == encoder  # SegFormer paper: 3.3M (B0), 81.4M (B5)
    assert round(encoder / 1e6, 1) == {'b0': 3.3, 'b5': 81.4}[size]
    assert counts['total'] == counts['trainable'] == encoder + rows['decode_head']


class Decorator(nn.Module):
    """A UDA decorator's shape: a student ``model`` and an EMA teacher."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.ema_model = copy.deepcopy(model)


def test_teacher_excluded_and_trainable_only():
    student = nn.ModuleDict(dict(backbone=nn.Linear(10, 10), decode_head=nn.Linear(10, 2)))
    student.backbone.requires_grad_(False)
    counts = count_parameters(Decorator(student))
    assert counts['total'] == 110 + 22 and counts['trainable'] == 22
    assert counts['excluded'] == {'ema_model': 132}
    table = param_table(counts, trainable_only=True)
    assert [[c.strip() for c in row] for row in table.rows] == [
        ['decode_head', '22'], ['total trainable', '22']]
    untrained = param_json(counts, 'x.py')
    trained = param_json(counts, 'x.py', trainable_only=True)
    assert untrained['total'] == 132 and 'total' not in trained
    assert [m['module'] for m in untrained['modules']] == ['backbone', 'decode_head']
    assert trained['modules'] == [dict(module='decode_head', trainable=22)]


def test_shared_parameters_counted_once():
    lin = nn.Linear(4, 4)
    model = nn.ModuleDict(dict(backbone=lin, adapters=nn.ModuleList([lin])))
    assert count_parameters(model)['total'] == 20


def test_command_line_json(repo_root, capsys, tmp_path):
    cfg = Config.fromfile(osp.join(repo_root, 'configs/_base_/models/segformer_mit-b0.py'))
    cfg.model.backbone.frozen_modules = [1, 2, 3, 4]
    path = str(tmp_path / 'frozen_b0.py')
    cfg.dump(path)
    sys.path.insert(0, osp.join(repo_root, 'tools'))
    try:
        import get_param_count
    finally:
        sys.path.pop(0)
    get_param_count.main([path, '--json', '--trainable-only'])
    out = json.loads(capsys.readouterr().out)
    assert 'total' not in out and out['trainable_only'] is True
    assert out['trainable'] == 400_659  # decode head of B0 only
    assert {m['module'] for m in out['modules']} == {
        'decode_head', 'decode_head.conv_seg', 'decode_head.convs',
        'decode_head.fusion_conv'}
    assert all(set(m) == {'module', 'trainable'} for m in out['modules'])
    get_param_count.main([path, '--json'])
    full = json.loads(capsys.readouterr().out)
    assert full['total'] == 3_319_392 + 400_659 and full['trainable'] == 400_659
    assert {m['module'] for m in full['modules']} > {'backbone', 'backbone.blocks'}
    # several configs in one call: a JSON list in argument order, and tables with
    # exact totals plus a comparison table
    b1 = osp.join(repo_root, 'configs/_base_/models/segformer_mit-b1.py')
    get_param_count.main([path, b1, '--json'])
    both = json.loads(capsys.readouterr().out)
    assert [o['config'] for o in both] == [path, b1]
    assert both[0] == full
    assert [r['params'] for r in both[1]['modules'] if r['module'] == 'backbone'] == [
        13_151_424]
    get_param_count.main([path, b1])
    text = capsys.readouterr().out
    assert 'exact: total 3,720,051, trainable 400,659' in text
    assert re.search(r'\| backbone +\| +13\.151M +\|', text)
    assert text.count(b1) == 2  # its table's title and its summary row
    with pytest.raises(SystemExit):
        get_param_count.main([path, b1, '--checkpoint', 'x.pth'])
    assert '--checkpoint loads one model: give one config, got 2' in capsys.readouterr().err
    with pytest.raises(ValueError, match='depth must be at least 1, got 0'):
        count_parameters(nn.Linear(2, 2), depth=0)


def test_peft_modules_summed_by_kind():
    from mmseg_ext.models.utils import PEFTModule

    class Adapter(PEFTModule):
        def __init__(self):
            super().__init__()
            self.down = nn.Linear(8, 2)  # 18 parameters

    class Prompt(PEFTModule):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Parameter(nn.init.zeros_(nn.Linear(5, 1).weight))  # 5

    blocks = nn.ModuleList([nn.ModuleDict(dict(fc=nn.Linear(8, 8), adapter=Adapter()))
                            for _ in range(3)])
    model = nn.ModuleDict(dict(backbone=nn.ModuleDict(dict(blocks=blocks,
                                                           prompt=Prompt())),
                               decode_head=nn.Linear(8, 2)))
    model.backbone.blocks.requires_grad_(False)
    counts = count_parameters(model)
    assert counts['peft'] == {'Adapter': (54, 0), 'Prompt': (5, 5)}
    rows = [[c.strip() for c in r] for r in param_table(counts).rows]
    assert ['[all Adapter modules]', '54', '0'] in rows
