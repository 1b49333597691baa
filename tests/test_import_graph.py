"""The layers point one way: scripts -> ``online_src.apis`` (run level) ->
``online_src`` (runner and its parts) -> ``mmseg_ext`` (models, datasets, core).

The project's own imports are read from the source with :mod:`ast` (top-level and
function-level alike: a lazy import is still a dependency), and ``import
mmseg_ext`` is checked in a fresh interpreter for the optional back-ends it must
not load.
"""
import ast
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGES = ('mmseg_ext', 'online_src')


def _module_name(path):
    rel = osp.relpath(path, ROOT)[:-3].replace(os.sep, '.')
    return rel[:-len('.__init__')] if rel.endswith('.__init__') else rel


def project_modules():
    """dict: module name -> (file path, is_package)."""
    mods = {}
    for pkg in PACKAGES:
        for dirpath, _, files in os.walk(osp.join(ROOT, pkg)):
            for f in files:
                if f.endswith('.py'):
                    path = osp.join(dirpath, f)
                    mods[_module_name(path)] = (path, f == '__init__.py')
    return mods


def import_edges(mods):
    """list of (importer, imported, lazy): project-internal imports, resolved to
    the deepest project module named (``from pkg import sub`` -> ``pkg.sub``)."""
    edges = []
    for name, (path, is_pkg) in mods.items():
        tree = ast.parse(open(path).read(), path)
        lazy = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lazy.update(id(n) for n in ast.walk(node)
                            if isinstance(n, (ast.Import, ast.ImportFrom)))
        package = name if is_pkg else name.rpartition('.')[0]
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ''
                if node.level:
                    parts = package.split('.')
                    parts = parts[:len(parts) - node.level + 1]
                    base = '.'.join(parts + ([base] if base else []))
                targets = [f'{base}.{a.name}' if f'{base}.{a.name}' in mods else base
                           for a in node.names]
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition('.')[0]
                if t and t != name:
                    edges.append((name, t, id(node) in lazy))
    return edges


def layer(module):
    """The layer of a module: a sub-package (``mmseg_ext.core``) or top module."""
    parts = module.split('.')
    return '.'.join(parts[:2])


def find_cycle(graph):
    """A cycle of ``graph`` (dict node -> set of nodes) as a list, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


@pytest.fixture(scope='module')
def edges():
    return import_edges(project_modules())


def test_the_graph_is_read(edges):
    pairs = {(a, b) for a, b, _ in edges}
    # known edges of each kind: relative, absolute, lazy, across packages
    assert ('mmseg_ext.core.atomic_runner', 'mmseg_ext.core.checkpoint') in pairs
    assert ('online_src.apis.online', 'mmseg_ext.models.builder') in pairs
    assert ('online_src.apis.profile', 'online_src.apis.online') in pairs
    assert ('online_src.apis.sweep', 'online_src.apis.online') in pairs
    assert ('online_src', 'mmseg_ext') in pairs


def test_no_cycle_between_layers(edges):
    graph = {}
    for a, b, _ in edges:
        if layer(a) != layer(b) \
                and not b.startswith(layer(a) + '.'):
            graph.setdefault(layer(a), set()).add(layer(b))
    assert find_cycle(graph) is None, f'import cycle between layers: {find_cycle(graph)}'


def test_no_cycle_between_modules(edges):
    graph = {}
    for a, b, lazy in edges:
        # a package's __init__ re-exports its modules: an edge into the package
        # from its own sub-module is the usual `from . import x`, not a cycle
        if not lazy and not a.startswith(b + '.'):
            graph.setdefault(a, set()).add(b)
    assert find_cycle(graph) is None, f'module-level import cycle: {find_cycle(graph)}'


@pytest.mark.parametrize('lower, upper', [
    ('mmseg_ext', 'online_src'),
    ('mmseg_ext.core', 'mmseg_ext.models'),
    ('mmseg_ext.core', 'mmseg_ext.apis'),
    ('mmseg_ext.models', 'mmseg_ext.apis'),
    ('mmseg_ext.datasets', 'mmseg_ext.apis'),
    ('online_src', 'online_src.apis'),
])
def test_lower_layer_never_imports_upper(edges, lower, upper):
    def inside(module, pkg):
        return module == pkg or module.startswith(pkg + '.')

    bad = sorted({(a, b) for a, b, _ in edges
                  if inside(a, lower) and inside(b, upper) and not inside(a, upper)
                  and a != lower})
    if lower == 'online_src':
        bad = [(a, b) for a, b in bad if a != 'online_src']
    assert not bad, f'{lower} must not import {upper}: {bad}'


def test_import_mmseg_ext_loads_no_optional_backend():
    code = ('import json, sys, mmseg_ext; print(json.dumps(sorted(m for m in '
            '("optuna", "sqlalchemy", "line_profiler", "online_src") '
            'if m in sys.modules)))')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env=dict(os.environ, PYTHONPATH=ROOT))
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
