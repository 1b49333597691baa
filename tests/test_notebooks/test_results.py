"""notebooks/results.ipynb on two tiny runs written by the project's result writer."""
import base64
import json
import math
import re
import os.path as osp

import pytest

from mmseg_ext.core.evaluation import ResultsTable, load_rows, stream_curve

from nb_utils import outputs_of, run_notebook, stdout_of

ORDER = ('clear', '25mm', 'clear')


def _write_run(work_dir, mious, fps):
    """An OnlineEvalHook-like results.csv/json (init + one row per visit)."""
    table = ResultsTable(str(work_dir))
    table.append({'eval': 0, 'after': 'init', 'visit': -1, 'frames': 0,
                  'clear.mIoU': 61.0, '25mm.mIoU': 35.0})
    for visit, (d, m) in enumerate(zip(ORDER, mious)):
        other = '25mm' if d == 'clear' else 'clear'
        table.append({'eval': visit + 1, 'after': d, 'visit': visit, 'frames': 4 * visit + 4,
                      f'{d}.mIoU': m, f'{other}.mIoU': m - 10.0, 'stream.mIoU': m - 2.0})
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(dict(domain_order=list(ORDER), domain_values={'clear': 0, '25mm': 25},
                       timing=dict(fps=fps, adapt_fps=fps, inference_fps=2 * fps),
                       stream_accuracy={}), f)


def test_results_reader_and_stream_curve(tmp_path):
    _write_run(tmp_path, (60.0, 40.0, 55.0), 3.0)
    rows = load_rows(str(tmp_path))
    assert [r['after'] for r in rows] == ['init', 'clear', '25mm', 'clear']
    assert stream_curve(rows) == (['clear', '25mm', 'clear'], [60.0, 40.0, 55.0])
    with pytest.raises(FileNotFoundError, match='has no results.json'):
        load_rows(str(tmp_path / 'missing'))
    # a NaN mIoU is written as JSON null and read back as a gap of the curve
    table = ResultsTable(str(tmp_path / 'nan'))
    table.append({'eval': 1, 'after': 'clear', 'visit': 0, 'clear.mIoU': float('nan')})
    names, values = stream_curve(load_rows(str(tmp_path / 'nan')))
    assert names == ['clear'] and math.isnan(values[0])
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'results.json').write_text('[{"eval": 0}]')
    with pytest.raises(ValueError, match='not written by OnlineEvalHook'):
        load_rows(str(tmp_path / 'bad'))


def test_results_notebook(tmp_path):
    dirs = []
    for name, mious, fps in (('dacs', (60.0, 40.0, 55.0), 3.0),
                             ('source', (61.0, 30.0, 61.0), 9.0)):
        (tmp_path / name).mkdir()
        _write_run(tmp_path / name, mious, fps)
        dirs.append(str(tmp_path / name))
    nb = run_notebook('results.ipynb', dict(RUN_DIRS=dirs))
    out = stdout_of(nb)
    assert 'dacs: 4 evaluations' in out
    assert 'dacs: mean stream mIoU 51.67' in out
    assert 'source: mean stream mIoU 50.67' in out
    pngs = outputs_of(nb, 'image/png')
    assert len(pngs) == 3
    assert all(base64.b64decode(p)[:4] == b'\x89PNG' for p in pngs)
    (table, ) = outputs_of(nb, 'text/markdown')
    assert '| dacs | 51.67 | 40.00 |' in table  # mIoU stream, mIoU rain (25mm)
    # the per-domain panels share one y range (20.0, source's 'clear' after its
    # 25mm visit, to 61.0, plus margins) and name the domains in words
    shared = re.search(r'per-domain panels share the y range \(([\d.]+), ([\d.]+)\)', out)
    low, high = float(shared.group(1)), float(shared.group(2))
    assert 15.0 < low < 20.0 and 61.0 < high < 65.0
    assert "[['clear', 'rain 25 mm/h'], ['clear', 'rain 25 mm/h']]" in out
