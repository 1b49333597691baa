"""scripts/test_services.sh (run by `make test`): finds or installs PostgreSQL and
never fails the test run, saying why when it cannot."""
import os
import os.path as osp
import subprocess

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'scripts', 'test_services.sh')
TOOLS = ('dirname', 'ls', 'sort', 'mkdir', 'tail', 'sed', 'cat')


def _run(tmp_path, uid, extra=(), pg_root=None):
    """Runs the script with a PATH holding only basic tools, a fake `id` and
    ``extra`` fake commands, and PG_LIB_ROOT ``pg_root`` (default: empty)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for tool in TOOLS:
        path = subprocess.run(['bash', '-c', f'command -v {tool}'], capture_output=True,
                              text=True).stdout.strip()
        os.symlink(path, bin_dir / tool)
    for name, body in (('id', f'echo {uid}'), ) + tuple(extra):
        (bin_dir / name).write_text(f'#!/bin/sh\n{body}\n')
        (bin_dir / name).chmod(0o755)
    env = dict(PATH=str(bin_dir), PG_LIB_ROOT=str(pg_root or tmp_path / 'no-postgresql'),
               HOME=str(tmp_path))
    bash = subprocess.run(['bash', '-c', 'command -v bash'], capture_output=True,
                          text=True).stdout.strip()
    return subprocess.run([bash, SCRIPT], env=env, capture_output=True, text=True,
                          timeout=60)


def test_found_binaries_are_reported(tmp_path):
    for version in ('13', '15'):
        for tool in ('initdb', 'pg_ctl'):
            fake = tmp_path / 'pg' / version / 'bin' / tool
            fake.parent.mkdir(parents=True, exist_ok=True)
            fake.write_text('#!/bin/sh\n')
            fake.chmod(0o755)
    proc = _run(tmp_path, uid=1000, pg_root=tmp_path / 'pg')
    assert proc.returncode == 0
    # the newest version wins
    assert f'server binaries found in {tmp_path}/pg/15/bin' in proc.stdout


def test_not_root_skips_with_reason(tmp_path):
    proc = _run(tmp_path, uid=1000)
    assert proc.returncode == 0
    assert 'not installed and we are not root' in proc.stdout
    assert 'will be skipped' in proc.stdout


def test_root_without_apt_skips_with_reason(tmp_path):
    proc = _run(tmp_path, uid=0)
    assert proc.returncode == 0
    assert 'apt-get is not available on this machine' in proc.stdout


@pytest.mark.parametrize('apt_body', ['echo "E: Unable to locate package" >&2; exit 100'])
def test_failed_apt_install_does_not_fail(tmp_path, apt_body):
    proc = _run(tmp_path, uid=0, extra=(('apt-get', apt_body), ))
    assert proc.returncode == 0
    assert 'apt-get install postgresql failed' in proc.stdout
    assert 'E: Unable to locate package' in proc.stdout  # the log's last lines
