"""Runs the notebooks of ``notebooks/`` top to bottom with nbclient.

A notebook's cell tagged ``parameters`` holds its defaults (as papermill does); the
tests inject a cell right after it with tiny-data values, execute the notebook in
``notebooks/`` and inspect the outputs.
"""
import os.path as osp

import nbformat
from nbclient import NotebookClient

NB_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                  'notebooks')


def run_notebook(name, params, timeout=120):
    """Executes ``notebooks/<name>`` with ``params`` injected; returns the notebook."""
    nb = nbformat.read(osp.join(NB_DIR, name), as_version=4)
    idx = [i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', [])]
    assert len(idx) == 1, f'{name} needs exactly one cell tagged "parameters"'
    source = '\n'.join(f'{k} = {v!r}' for k, v in params.items())
    nb.cells.insert(idx[0] + 1, nbformat.v4.new_code_cell(
        '# injected by the tests\n' + source, metadata={'tags': ['injected-parameters']}))
    NotebookClient(nb, timeout=timeout, kernel_name='python3',
                   resources={'metadata': {'path': NB_DIR}}).execute()
    return nb


def stdout_of(nb):
    """All the text the notebook printed."""
    return ''.join(o.get('text', '') for c in nb.cells if c.cell_type == 'code'
                   for o in c.outputs if o.get('name') == 'stdout')


def outputs_of(nb, mime):
    """Every display output of ``mime`` type (e.g. 'image/png', 'text/markdown')."""
    return [o['data'][mime] for c in nb.cells if c.cell_type == 'code'
            for o in c.outputs if mime in o.get('data', {})]
