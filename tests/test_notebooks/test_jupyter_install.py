"""Jupyter comes with the project's venv: `.venv/bin/jupyter lab` opens notebooks/
with a kernel that runs the venv's Python (where mmseg_ext is importable)."""
import json
import os.path as osp
import subprocess
import sys

BIN = osp.dirname(sys.executable)


def test_jupyter_lab_and_kernel_in_the_venv():
    out = subprocess.run([osp.join(BIN, 'jupyter'), 'lab', '--version'],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out.split('.')[0] == '4'
    specs = json.loads(subprocess.run(
        [osp.join(BIN, 'jupyter'), 'kernelspec', 'list', '--json'],
        capture_output=True, text=True, check=True).stdout)['kernelspecs']
    argv = specs['python3']['spec']['argv']
    # the kernel's interpreter is this venv's (or the bare name resolved in it)
    assert argv[0] in (sys.executable, 'python', osp.join(BIN, 'python'))
