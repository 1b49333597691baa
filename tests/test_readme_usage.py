"""The README's "Usage" block runs top to bottom, verbatim, in a copy of the
repository (sizes shrunk by ``ONDA_TINY=1``, which the tools honour)."""
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def usage_commands(readme=osp.join(REPO, 'README.md')):
    """list[str]: the lines of the first bash block under ``## Usage``."""
    with open(readme) as f:
        text = f.read()
    section = text[text.index('\n## Usage'):]
    block = re.search(r'```bash\n(.*?)```', section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def _copy_repo(dst):
    """The files a fresh clone has (tracked and new, not git-ignored), and the venv."""
    files = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in files.splitlines():
        if osp.isfile(osp.join(REPO, name)):
            os.makedirs(osp.dirname(osp.join(dst, name)), exist_ok=True)
            shutil.copy2(osp.join(REPO, name), osp.join(dst, name))
    os.symlink(osp.realpath(osp.join(REPO, '.venv')), osp.join(dst, '.venv'))


def test_readme_usage_block_runs_verbatim(tmp_path):
    commands = usage_commands()
    assert commands[0].startswith('.venv/bin/python tools/data/proccity.py') and any(
        'run_experiments.py' in c for c in commands)
    root = str(tmp_path / 'repo')
    _copy_repo(root)
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(ONDA_TINY='1', OMP_NUM_THREADS='1')
    outputs = []
    for command in commands:
        proc = subprocess.run(['bash', '-c', command], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f'{command}\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}'
        outputs.append(proc.stdout)
    # what the block promises: held-out stream scenes, the source model the online
    # configs load, two finished online runs compared, the sweep's configs
    assert glob.glob(f'{root}/data/proccity/leftImg8bit/test/*/*.png')
    assert osp.isfile(f'{root}/pretrained/proccity_segformer_mit-b0_source.pth')
    for run in ('source-only', 'dacs'):
        with open(f'{root}/work_dirs/proccity_mit-b0_{run}/summary.json') as f:
            summary = json.load(f)
        assert summary['frames'] == 2  # ONDA_TINY: 2 visits of 1 frame
        assert all(0 <= a['mIoU'] <= 100 for a in summary['stream_accuracy'].values())
    report = outputs[6]
    assert '| proccity_mit-b0_source-only |' in report
    assert '| proccity_mit-b0_dacs |' in report
    assert len(glob.glob(f'{root}/configs/generated/1/*.py')) == 7
