"""tools/train.py's config loading: command-line overrides reach every dataset."""
import importlib.util
import os.path as osp

import pytest


def _tool(repo_root):
    spec = importlib.util.spec_from_file_location('train_tool',
                                                  osp.join(repo_root, 'tools', 'train.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_data_root_override_reaches_nested_datasets(repo_root):
    tool = _tool(repo_root)
    cfg_file = osp.join(repo_root, 'configs', 'online', 'proccity_mit-b0_dacs.py')
    args = tool.parse_args([cfg_file, '--cfg-options', 'data_root=/elsewhere/pc'])
    cfg = tool.load_config(args)
    roots = []

    def collect(node):
        if isinstance(node, dict):
            if 'data_root' in node:
                roots.append(node['data_root'])
            for k, v in node.items():
                if k != 'data_root':
                    collect(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                collect(v)

    collect(cfg.data)
    assert len(roots) >= 10  # source + 4 target conditions + 5 val domains (+ wrappers)
    assert set(roots) == {'/elsewhere/pc'}
    assert cfg.work_dir == osp.join('work_dirs', 'proccity_mit-b0_dacs')


def test_online_run_refuses_a_multi_process_launcher(repo_root):
    tool = _tool(repo_root)
    cfg_file = osp.join(repo_root, 'configs', 'online', 'proccity_mit-b0_dacs.py')
    with pytest.raises(ValueError, match=r'online run \(runner OnlineRunner\).*--launcher slurm'):
        tool.main([cfg_file, '--launcher', 'slurm'])
