"""Fixtures of the tools' tests: a throwaway PostgreSQL server on loopback.

`make test` runs ``scripts/test_services.sh`` first, which installs Debian's
``postgresql`` package when it is missing. The fixture below starts a private
cluster in a temp dir (``initdb`` + ``pg_ctl`` on 127.0.0.1, a free port, trust
auth), creates one database and yields its URL; the cluster is stopped and
deleted afterwards. PostgreSQL refuses to run as root, so as root the server
runs as the ``postgres`` (or ``nobody``) user through ``runuser``. The test is
skipped, with the reason printed, only when no server can be started.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import pytest


def _pg_bin_dir():
    """Directory with ``initdb`` and ``pg_ctl``, or None."""
    found = shutil.which('initdb')
    if found and shutil.which('pg_ctl'):
        return os.path.dirname(found)
    for d in sorted(glob.glob('/usr/lib/postgresql/*/bin'), reverse=True):
        if os.path.exists(os.path.join(d, 'initdb')):
            return d
    return None


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _server_user():
    """(user name or None, uid, gid) the server runs as."""
    if os.geteuid() != 0:
        return None, os.getuid(), os.getgid()
    for name in ('postgres', 'nobody'):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return name, pw.pw_uid, pw.pw_gid
    return None, None, None


def _start_cluster(bin_dir, root):
    """Starts a cluster under ``root``; returns (url, stop callable)."""
    user, uid, gid = _server_user()
    if uid is None:
        raise RuntimeError('running as root and neither a "postgres" nor a '
                           '"nobody" user exists to run the server as')
    runuser = shutil.which('runuser')
    if user is not None and runuser is None:
        raise RuntimeError('running as root and no runuser to drop privileges')
    prefix = [runuser, '-u', user, '--'] if user is not None else []
    data = os.path.join(root, 'data')
    os.chmod(root, 0o755)
    os.chown(root, uid, gid)
    port = _free_port()
    log = os.path.join(root, 'server.log')

    def run(*args, timeout=120):
        proc = subprocess.run(prefix + list(args), capture_output=True,
                              text=True, timeout=timeout, cwd=root)
        if proc.returncode != 0:
            raise RuntimeError(f'{os.path.basename(args[0])} failed: '
                               f'{proc.stderr.strip() or proc.stdout.strip()}')

    run(os.path.join(bin_dir, 'initdb'), '-D', data, '-U', 'postgres',
        '--auth=trust', '-E', 'UTF8', '--no-sync')
    opts = f'-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off'
    run(os.path.join(bin_dir, 'pg_ctl'), '-D', data, '-l', log, '-o', opts,
        '-w', '-t', '60', 'start')

    def stop():
        subprocess.run(prefix + [os.path.join(bin_dir, 'pg_ctl'), '-D', data,
                                 '-m', 'immediate', '-w', 'stop'],
                       capture_output=True, timeout=60, cwd=root)

    return port, stop


@pytest.fixture(scope='session')
def postgres_url():
    """URL of a fresh database on a private PostgreSQL server (skips with the
    reason when no server can be started)."""
    try:
        import psycopg2
    except ImportError as err:
        pytest.skip(f'PostgreSQL test skipped: psycopg2 is not installed ({err})')
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        pytest.skip('PostgreSQL test skipped: no initdb/pg_ctl on PATH or in '
                    '/usr/lib/postgresql/*/bin (scripts/test_services.sh installs '
                    'them as root with apt-get)')
    root = tempfile.mkdtemp(prefix='pg-optuna-')
    stop = None
    try:
        try:
            port, stop = _start_cluster(bin_dir, root)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as err:
            log = os.path.join(root, 'server.log')
            tail = open(log).read()[-500:] if os.path.exists(log) else ''
            pytest.skip(f'PostgreSQL test skipped: could not start a server '
                        f'with {bin_dir}: {err} {tail}')
        conn = psycopg2.connect(host='127.0.0.1', port=port, user='postgres',
                                dbname='postgres')
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute('CREATE DATABASE optuna_test')
        conn.close()
        yield f'postgresql://postgres@127.0.0.1:{port}/optuna_test'
    finally:
        if stop is not None:
            stop()
        shutil.rmtree(root, ignore_errors=True)
