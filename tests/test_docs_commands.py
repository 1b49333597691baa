"""Every command of the docs' shell blocks (docs/*.md, ```bash/sh/shell) runs as
written, in a copy of the repository, with ``ONDA_TINY=1`` (the tools render, train
and stream a few images only: ``mmseg_ext/apis/tiny.py``), as
``tests/test_readme_usage.py`` runs the README's Usage block.

Each command line is expanded by bash (quotes, braces, comments, continuations)
and its Python script run with ``runpy`` (``sys.argv`` as written) inside one Python
process started in the copy, whose modules are the copy's: a fresh interpreter per
command costs 4-10 s of imports on the 2-core CI machine. A command's exit code is
its ``SystemExit`` code, or 1 with the exception's type and message printed.

:data:`STEPS` lists every documented command, in the order they run, with what it
must print or write; a command the docs gain fails the test until it is listed.
Documented placeholders (``CONFIG``, ``CKPT``, ``<name>``, ``...``) are filled in
with what an earlier step made. Commands that cannot run here as written (real data
sets absent, multi-hour runs) carry their reason (``not_run``): they must fail fast
with their documented error (on tiny trees in the real data sets' published layouts,
the preparation tools do their work and list the published counts they miss), and
every flag they use must be in their script's ``--help``.
"""
import contextlib
import glob
import io
import json
import logging
import os
import os.path as osp
import re
import runpy
import subprocess
import sys
import traceback

import pytest

from fixtures.real_layouts import build_all
from test_readme_usage import REPO, _copy_repo

DOCS = sorted(glob.glob(osp.join(REPO, 'docs', '*.md')))
SOURCE_CKPT = 'pretrained/proccity_segformer_mit-b0_source.pth'


def doc_commands(path):
    """list[str]: the commands of a markdown file's bash/sh/shell blocks, one per
    command (continuation lines joined, comments and spacing kept out)."""
    with open(path) as f:
        text = f.read()
    commands = []
    for block in re.findall(r'^```(?:bash|sh|shell)\n(.*?)^```', text, re.S | re.M):
        for line in re.sub(r'\\\n\s*', ' ', block).splitlines():
            line = line.split(' #')[0].strip()
            if line and not line.startswith('#'):
                commands.append(' '.join(line.split()))
    return commands


def shell_words(command, env):
    """list[str]: ``command``'s argv as bash expands it (nothing is run)."""
    out = subprocess.run(['bash', '-c', f"printf '%s\\0' {command}"], env=env,
                         capture_output=True, text=True, check=True).stdout
    return out.split('\0')[:-1]


def run(root, command, env, monkeypatch):
    """(exit code, stdout + stderr + the exception) of ``command`` run in ``root``."""
    argv = shell_words(command, env)
    assert argv[0] in ('python', '.venv/bin/python'), command
    out = io.StringIO()
    # loggers made by an earlier command print here too, as a fresh process's would
    handlers = [h for lg in [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values()
        if isinstance(lg, logging.Logger)] for h in lg.handlers
        if type(h) is logging.StreamHandler]
    with monkeypatch.context() as m:
        for h in handlers:
            m.setattr(h, 'stream', out)
        m.chdir(root)
        m.setattr(sys, 'argv', argv[1:])
        m.setattr(sys, 'path', list(sys.path))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                runpy.run_path(argv[1], run_name='__main__')
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
                if isinstance(e.code, str):
                    print(e.code)
            except Exception as e:  # what the interpreter would print, exit status 1
                traceback.print_exc()
                print(f'{type(e).__name__}: {e}')
                code = 1
    return code, out.getvalue()


def help_flags(root, command, env, monkeypatch):
    """The ``--flags`` of ``command`` its script's ``--help`` does not list."""
    script = shell_words(command, env)[1]
    code, text = run(root, f'python {script} --help', env, monkeypatch)
    assert code == 0, text
    used = re.findall(r'(?<!\S)(--[a-z][\w-]*)', command)
    return [f for f in used if not re.search(rf'{re.escape(f)}\b', text)]


# ---------------------------------------------------------------------------------
# What each documented command must do, in the order they run. A placeholder of the
# docs (CONFIG, CKPT, <name>, ...) is filled in with what an earlier step made.

def _read(root, path):
    with open(osp.join(root, path)) as f:
        return f.read()


def _files(root, pattern):
    return sorted(glob.glob(osp.join(root, pattern)))


def _expect(out, text):
    assert text in out, out[-3000:]


def _count(root, pattern, n):
    found = _files(root, pattern)
    assert len(found) == n, (pattern, found)


def _weather(root, out):
    """Every condition and level of the command on every split (ONDA_TINY: 4 train
    images, 2 val, 2 test)."""
    dirs = [d for d in os.listdir(osp.join(root, 'data/proccity'))
            if d.startswith('leftImg8bit')]
    assert len(dirs) == 1 + 6, dirs  # clear (rain inside), fog, night, wet, snow, ...
    for split, n in (('train', 4), ('val', 2), ('test', 2)):
        for rate in (25, 50, 75, 100, 200):
            _count(root, f'data/proccity/leftImg8bit/{split}/rain/{rate}mm/rainy_image/*/*.png',
                   n)
        _count(root, f'data/proccity/leftImg8bit_foggy/{split}/*/*.png', 4 * n)
        for cond in ('night', 'wet', 'snow', 'lensdrops', 'motionblur'):
            for level in range(1, 6):
                _count(root, f'data/proccity/leftImg8bit_{cond}/{split}/s{level}/*/*.png', n)


def _sheets(root, out):
    written = out.split()
    assert written[-1] == 'docs/proccity/cities.png' and len(written) >= 8, out
    for path in written:
        assert osp.getmtime(osp.join(root, path)) > osp.getmtime(
            osp.join(root, 'README.md')), path


def _sbatch(root, out):
    scripts = _files(root, 'configs/generated/5/*.sbatch')
    assert len(scripts) == len(_files(root, 'configs/generated/5/*.py')) > 0
    text = _read(root, scripts[0])
    for line in ('#SBATCH --partition=gpu', '#SBATCH --time=12:00:00'):
        assert line in text, text
    assert _read(root, 'configs/generated/5/submit_all.sh').count('sbatch ') == len(scripts)


def _metric(out, name):
    return float(re.search(rf"'{name}': ([\d.]+)", out).group(1))


def _miou(root, out):
    assert 0 < _metric(out, 'mIoU') <= 1, out[-2000:]


def _official(root, out):
    """mmseg's mIoU equals cityscapesscripts' averageScoreClasses (docs/datasets.md)."""
    assert _metric(out, 'averageScoreClasses') == pytest.approx(_metric(out, 'mIoU'),
                                                                abs=1e-4), out[-2000:]


def _submission(root, out):
    """Cityscapes label ids (not train ids), one palette PNG per test image."""
    import numpy as np
    from cityscapesscripts.helpers.labels import trainId2label
    from PIL import Image
    pngs = _files(root, 'work_dirs/submit/frankfurt_*_leftImg8bit.png')
    assert len(pngs) == 2, pngs
    ids = {trainId2label[t].id for t in range(19)}
    for png in pngs:
        assert set(np.unique(np.asarray(Image.open(png))).tolist()) <= ids, png


def _finished(root, work_dir, frames):
    summary = json.loads(_read(root, osp.join(work_dir, 'summary.json')))
    assert summary['frames'] == frames, summary['frames']
    assert all(0 <= a['mIoU'] <= 100 for a in summary['stream_accuracy'].values())


def _missing_source(root, out):
    _expect(out, f'FileNotFoundError: load_from: the source checkpoint {SOURCE_CKPT} '
                 'does not exist')


def _prepared(what, root_key, made=None):
    """A prep tool on a tiny tree in the published layout: it does its work, then
    lists the published counts it misses and the root option (exit 1, documented)."""
    def check(root, out):
        _expect(out, f'MISSING {what} images: ')
        _expect(out, f'INCOMPLETE; use --cfg-options {root_key}=data/')
        if made:
            assert _files(root, made), made
    return check


def _param_tables(root, out):
    """A table per MiT size (brace expansion), totals growing from B0 to B5."""
    for size in ('b0', 'b1', 'b2', 'b3', 'b4', 'b5'):
        assert f'segformer_mit-{size}.py' in out, size
    totals = [int(n.replace(',', '')) for n in re.findall(r'total ([\d,]+)', out)]
    assert len(totals) == 6 and totals == sorted(totals) and 3.5e6 < totals[0] < 4e6, out


def _param_json(root, out):
    counts = json.loads(out[out.index('{'):])
    assert counts['config'].endswith('segformer_mit-b1_adapter-half.py')
    assert 'total' not in json.dumps(counts) and counts['trainable'] > 0


class Step:
    """One documented command (or a set-up step of the README's, ``doc=False``).

    Args:
        command (str): as the docs write it (continuations joined).
        check (callable): ``check(root, output)`` asserts what it made.
        code (int): expected exit code.
        fill (dict): placeholder -> value (a callable of ``root``).
        not_run (str | None): why it cannot run here as written; then ``check``
            asserts its fail-fast error and its flags are checked against ``--help``.
        doc (bool): a command of docs/*.md.
    """

    def __init__(self, command, check, code=0, fill=None, not_run=None, doc=True):
        self.command, self.check, self.code = command, check, code
        self.fill, self.not_run, self.doc = fill or {}, not_run, doc


def assert_any(found):
    assert found


# the placeholders of tools/test.py: the tiny source model (MiT-B0, 19 classes) on
# the Cityscapes config, whose data.test is the tiny Cityscapes tree prepared above
TEST_FILL = {'CONFIG': lambda root: 'configs/source/segformer_mit-b0_cityscapes.py',
             'CKPT': lambda root: SOURCE_CKPT}


STEPS = [
    # -- fail fast in a fresh clone, before anything is rendered or trained --------------
    Step('python run_experiments.py --exp 2', _missing_source, code=1,
         not_run='trains 4 DACS runs over the full ProcCity storm (hours on CPU); '
                 'run_experiments.py does not read ONDA_TINY'),
    Step('python run_experiments.py --exp 100 --custom 1', _missing_source, code=1,
         not_run="trains the demo's 6 runs at full size (minutes each on CPU)"),
    Step('python run_experiments.py --config configs/online/proccity_mit-b0_dacs.py',
         _missing_source, code=1,
         not_run="streams the config's 180 DACS frames even on tiny data (97 s "
                 "measured): run_experiments.py does not read ONDA_TINY"),
    Step('.venv/bin/python bench/proccity_benchmark.py', None, code=None,
         not_run='the full benchmark: renders thousands of images, trains the source '
                 'model 3000 steps, runs every method on every protocol (hours); it '
                 'starts rendering at once, so only its arguments are checked'),
    Step('.venv/bin/python bench/proccity_goals.py work_dirs/proccity_benchmark',
         lambda root, out: _expect(out, 'FileNotFoundError: goals: work_dirs/'
                                        'proccity_benchmark is neither a report.json '
                                        'nor a folder'), code=1,
         not_run="reads the finished benchmark's reports (bench/proccity_benchmark.py)"),
    Step('python tools/report.py work_dirs/demo/acdc/source_only work_dirs/demo/acdc/dacs '
         '--out-dir work_dirs/demo/cmp',
         lambda root, out: _expect(out, 'FileNotFoundError: work_dirs/demo/acdc/source_only'
                                        ' has no results.json'), code=1,
         not_run='compares two runs of `make demo` (30 min); tools/report.py on tiny '
                 'runs: tests/test_readme_usage.py'),
    # -- real data sets: the tiny trees of tests/fixtures/real_layouts.py ----------------
    Step(lambda root: build_all(osp.join(root, 'data')), None, doc=False),
    Step('python tools/data/cityscapes.py data/cityscapes --workers 8',
         _prepared('cityscapes train', 'cityscapes_root',
                   'data/cityscapes/gtFine/train/*/*_gtFine_labelTrainIds.png'), code=1,
         not_run='Cityscapes is not here: on a tiny tree in its published layout the '
                 'command makes the train ids and lists the published counts it misses'),
    Step('python tools/data/rain_cityscapes.py data/rain_cityscapes --cityscapes '
         'data/cityscapes', _prepared('rain 25mm train', 'rain_cityscapes_root'), code=1,
         not_run='the rainy Cityscapes is not here (a tiny tree, as above)'),
    Step('python tools/data/foggy_cityscapes.py data/foggy_cityscapes --cityscapes '
         'data/cityscapes', _prepared('foggy beta 0.005 train', 'foggy_cityscapes_root'),
         code=1, not_run='Foggy Cityscapes is not here (a tiny tree, as above)'),
    Step('python tools/data/acdc.py data/acdc', _prepared('acdc fog train', 'acdc_root'),
         code=1, not_run='ACDC is not here (a tiny tree, as above)'),
    # -- ProcCity --------------------------------------------------------------------
    Step('python tools/data/proccity.py data/proccity --train 500 --val 30 --test 60',
         lambda root, out: _count(root, 'data/proccity/leftImg8bit/test/*/*.png', 2)),
    Step('python tools/data/proccity.py data/proccity_target --style target --train 0 '
         '--val 100',
         lambda root, out: _count(root, 'data/proccity_target/leftImg8bit/val/*/*.png', 2)),
    Step('python tools/data/weather.py data/proccity --rain 25 50 75 100 200 --fog 750 375 '
         '150 75 --night 1 2 3 4 5 --wet 1 2 3 4 5 --snow 1 2 3 4 5 --lensdrops 1 2 3 4 5 '
         '--motionblur 1 2 3 4 5', _weather),
    Step('python tools/data/contact_sheet.py docs/proccity', _sheets),
    # -- the source model the online configs load (README, Usage) --------------------
    Step('python tools/train.py configs/online/proccity_source_mit-b0.py --work-dir '
         'work_dirs/src', lambda root, out: _count(root, 'work_dirs/src/latest.pth', 1),
         doc=False),
    Step(f'cp work_dirs/src/latest.pth {SOURCE_CKPT}', lambda root, out: None, doc=False),
    # -- experiments and runs --------------------------------------------------------
    Step('python run_experiments.py --exp 1 --dry-run',
         lambda root, out: _count(root, 'configs/generated/1/*.py', 7)),
    Step('python tools/train.py configs/generated/1/<name>.py',
         lambda root, out: _finished(root, osp.relpath(osp.dirname(_files(
             root, 'work_dirs/1/*/summary.json')[0]), root), 2),
         fill={'<name>': lambda root: osp.splitext(osp.basename(_files(
             root, 'configs/generated/1/*.py')[0]))[0]}),
    Step('python run_experiments.py --exp 1 --cfg-options data_root=/data/proccity '
         'runner.frames_per_domain=5',
         lambda root, out: _expect(out, 'data_root: /data/proccity does not exist'), code=1,
         not_run='trains the 7 runs of experiment 1 on a full ProcCity at /data/proccity '
                 '(not here; hours)'),
    Step('python run_experiments.py --exp 5 --launcher slurm --partition gpu --gpus 1 '
         '--time 12:00:00', _sbatch),
    # an interrupted run: a tiny one (README, Usage) whose summary is not written yet
    Step('python tools/train.py configs/online/proccity_mit-b0_dacs.py',
         lambda root, out: _finished(root, 'work_dirs/proccity_mit-b0_dacs', 2),
         doc=False),
    Step('rm work_dirs/proccity_mit-b0_dacs/summary.json', lambda root, out: None,
         doc=False),
    Step('python tools/train.py configs/online/proccity_mit-b0_dacs.py --resume-from '
         'work_dirs/.../latest.pth',
         lambda root, out: (_expect(out, 'resumed from work_dirs/proccity_mit-b0_dacs/'
                                         'latest.pth'),
                            _finished(root, 'work_dirs/proccity_mit-b0_dacs', 2)),
         fill={'work_dirs/...': lambda root: 'work_dirs/proccity_mit-b0_dacs'}),
    # the Cityscapes -> ACDC roots: a config of experiment 6 with a source model in place
    Step('python run_experiments.py --exp 6 --dry-run',
         lambda root, out: assert_any(_files(root, 'configs/generated/6/*.py')), doc=False),
    Step(f'cp {SOURCE_CKPT} pretrained/segformer_mit-b0_cityscapes.pth',
         lambda root, out: None, doc=False),
    Step('python tools/train.py configs/... --cfg-options cityscapes_root=/data/cs '
         'acdc_root=/data/acdc',
         lambda root, out: _expect(out, 'data_root: /data/cs does not exist'), code=1,
         fill={'configs/...': lambda root: osp.relpath(_files(
             root, 'configs/generated/6/*_dacs_*.py')[0], root)},
         not_run='a Cityscapes -> ACDC run needs the real data at /data/cs and /data/acdc '
                 '(configs/...: a config of experiment 6)'),
    # -- testing a checkpoint (docs/datasets.md) ---------------------------------------
    Step('python tools/test.py CONFIG CKPT --eval mIoU', _miou, fill=TEST_FILL),
    Step('python tools/test.py CONFIG CKPT --eval mIoU cityscapes', _official,
         fill=TEST_FILL),
    Step('python tools/test.py CONFIG CKPT --format-only --eval-options '
         'imgfile_prefix=work_dirs/submit',
         _submission, fill=TEST_FILL),
    # -- parameter audit (docs/tools.md) --------------------------------------------
    Step('python tools/get_param_count.py configs/_base_/models/segformer_mit-b{0,1,2,3,4,5}'
         '.py --depth 1', _param_tables),
    Step('python tools/get_param_count.py configs/_base_/models/segformer_mit-b1_adapter-'
         'half.py --json --trainable-only', _param_json),
]


def _run_step(root, step, env):
    """dict: the step's command, exit code, seconds and error (None: as expected)."""
    import time
    from _pytest.monkeypatch import MonkeyPatch
    start, code, out = time.time(), None, ''
    if callable(step.command):
        step.command(root)
        return dict(command='(set-up)', code=0, seconds=time.time() - start, error=None)
    command = step.command
    for key, value in step.fill.items():
        command = command.replace(key, value(root))
    try:
        if step.not_run:
            unknown = help_flags(root, command, env, MonkeyPatch())
            assert not unknown, f'flags not in --help: {unknown}'
        if step.code is not None:
            if command.split()[0] in ('python', '.venv/bin/python'):
                code, out = run(root, command, env, MonkeyPatch())
            else:
                proc = subprocess.run(['bash', '-c', command], cwd=root, env=env,
                                      capture_output=True, text=True)
                code, out = proc.returncode, proc.stdout + proc.stderr
            assert code == step.code, f'exit {code}, expected {step.code}'
            step.check(root, out)
        error = None
    except AssertionError as e:
        error = f'{e}\n{out[-3000:]}'
    return dict(command=step.command, code=code, seconds=time.time() - start, error=error)


def drive(root, results):
    """Runs :data:`STEPS` in ``root`` (this interpreter's modules are the copy's) and
    writes what each did to ``results`` (JSON)."""
    out = [_run_step(root, step, dict(os.environ)) for step in STEPS]
    with open(results, 'w') as f:
        json.dump(out, f, indent=1)


def test_every_docs_command_is_listed():
    documented = [c for doc in DOCS for c in doc_commands(doc)]
    assert len(documented) == len(set(documented)) >= 25
    assert sorted(documented) == sorted(s.command for s in STEPS if s.doc)
    assert {s.command for s in STEPS if s.not_run} <= set(documented)


def test_docs_commands_run_as_written(tmp_path):
    root = str(tmp_path / 'repo')
    _copy_repo(root)
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(ONDA_TINY='1', OMP_NUM_THREADS='1')
    results = str(tmp_path / 'results.json')
    driver = ('import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]; '
              'from test_docs_commands import drive; drive(*sys.argv[1:])')
    proc = subprocess.run([sys.executable, '-c', driver, root, results], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-5000:]
    with open(results) as f:
        done = json.load(f)
    assert len(done) == len(STEPS)
    failed = [f"{r['command']}: {r['error']}" for r in done if r['error']]
    assert not failed, '\n\n'.join(failed)
