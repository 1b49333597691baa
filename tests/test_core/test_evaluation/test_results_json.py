"""JSON outputs are strict: NaN and infinity become null."""
import json

import numpy as np

from mmseg_ext.core.evaluation import ResultsTable
from mmseg_ext.core.evaluation.results import atomic_write_json, strict_json


def test_nan_and_inf_are_written_as_null(tmp_path):
    obj = {'a': float('nan'), 'b': np.float32('inf'), 'c': [1.5, np.nan, np.int64(3)],
           'd': np.array([0.5, -np.inf]), 'e': {'f': (2, float('-inf'))}}
    path = str(tmp_path / 'x.json')
    atomic_write_json(obj, path)
    text = open(path).read()
    assert 'NaN' not in text and 'Infinity' not in text
    back = json.loads(text, parse_constant=lambda c: 1 / 0)
    assert back == {'a': None, 'b': None, 'c': [1.5, None, 3], 'd': [0.5, None],
                    'e': {'f': [2, None]}}
    assert strict_json(np.float64(2.5)) == 2.5 and type(strict_json(np.float64(2.5))) \
        is float


def test_results_table_rows_with_nan(tmp_path):
    table = ResultsTable(str(tmp_path))
    table.append({'after': 'init', 'clear.mIoU': float('nan'), 'x.mIoU': 12.5})
    assert json.load(open(tmp_path / 'results.json')) == [
        {'after': 'init', 'clear.mIoU': None, 'x.mIoU': 12.5}]
