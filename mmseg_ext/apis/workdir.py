"""One run per work dir: lock, state checks, ``--overwrite`` and ``status.json``.

:class:`RunGuard` wraps a run (online or source):

* a lock (``fcntl.flock`` on ``<work_dir>/.lock``, which holds the pid, host and
  command): a second run into a busy work dir is refused naming the other
  process; the kernel drops the lock when its process dies, so a stale lock
  file is simply taken over;
* the work dir's state is checked under the lock (a finished or an unfinished
  run is refused with the commands that continue or replace it);
* ``overwrite`` moves the old run aside to ``<work_dir>.old-<stamp>``; it is
  removed when the new run has started cleanly (:meth:`RunGuard.started`) and
  put back when the new run fails before that;
* ``.tmp-*`` files of a writer killed mid-write are removed;
* ``status.json`` says ``running`` / ``finished`` / ``failed`` (exception type
  and message), with timestamps and pid; a failure's traceback goes to the
  run's log file.

Also the resume guard :func:`check_resume_config`, which names the config keys
that differ from the checkpoint's.
"""
import datetime
import errno
import fcntl
import json
import logging
import os
import os.path as osp
import shlex
import shutil
import socket
import sys
import time

from ..core.evaluation.results import atomic_write_json
from ..core.fileio import remove_stale_tmp

__all__ = ['RunGuard', 'run_logger', 'check_unfinished', 'WorkDirBusyError',
           'UnfinishedRunError', 'LOCK_FILE', 'STATUS_FILE', 'flat_config',
           'check_resume_config', 'DATA_LOCATION_KEYS']

LOCK_FILE = '.lock'
STATUS_FILE = 'status.json'
# config keys that only say where the data lives (--force-resume may change them)
DATA_LOCATION_KEYS = ('data_root', 'img_dir', 'ann_dir', 'split')


class WorkDirBusyError(RuntimeError):
    """Another live process runs in this work dir."""


class UnfinishedRunError(FileExistsError):
    """The work dir holds a run that did not finish (resume it or overwrite it)."""


def _now():
    return datetime.datetime.now().isoformat(timespec='seconds')


def _command():
    return ' '.join(shlex.quote(a) for a in [osp.basename(sys.executable)] + sys.argv)


class _Lock:
    """An exclusive ``flock`` on ``path`` holding who owns it."""

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.previous = None

    def acquire(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                raise
            holder = self._read(fd)
            os.close(fd)
            who = (f"pid {holder.get('pid')} on {holder.get('host')}, started "
                   f"{holder.get('started')}: {holder.get('command')}") if holder \
                else 'another process'
            raise WorkDirBusyError(
                f'{osp.dirname(self.path)} is in use by {who}; wait for it to end or '
                f'choose another --work-dir') from None
        self.previous = self._read(fd) or None  # a dead process's record: taken over
        info = dict(pid=os.getpid(), host=socket.gethostname(), command=_command(),
                    started=_now())
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self.fd = fd
        return self

    @staticmethod
    def _read(fd):
        try:
            size = os.fstat(fd).st_size
            return json.loads(os.pread(fd, size, 0).decode()) if size else {}
        except (OSError, ValueError):
            return {}

    def release(self):
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)  # free: no owner recorded
        except OSError:
            pass
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


def run_logger(log_file, level):
    """mmseg's logger with a file handler for this run only (several runs of one
    process each get their own text log; mmcv attaches a file only the first time).

    Returns:
        tuple: ``(logger, handler)``; remove and close the handler after the run.
    """
    from mmseg.utils import get_root_logger
    logger = get_root_logger(log_level=level)
    handler = logging.FileHandler(log_file, 'w')
    handler.setFormatter(logging.Formatter(
        '%(asctime)s - %(name)s - %(levelname)s - %(message)s'))
    handler.setLevel(level)
    logger.addHandler(handler)
    return logger, handler


class RunGuard:
    """Lock, state check, overwrite-aside, stale-temp cleanup and status of a run.

    Use as a context manager around the run; call :meth:`started` once the run
    has done its first unit of work (the old run of ``overwrite`` is removed
    then) and :meth:`open_log` for the run's log file (a failure's traceback is
    written there; the file is closed on exit).

    Args:
        work_dir (str): the run's folder (created).
        overwrite (bool): move an existing run aside (see the module doc).
            Default: False.
        check (callable | None): called with ``work_dir`` under the lock before
            anything is changed; raises to refuse the work dir. Default: None.
        extra_dirs (Sequence[str]): more folders the run writes into (e.g. a
            checkpoint ``out_dir``) whose ``.tmp-*`` files are removed too.
            Default: ().
    """

    def __init__(self, work_dir, overwrite=False, check=None, extra_dirs=()):
        self.work_dir = osp.abspath(work_dir)
        self.overwrite = overwrite
        self.check = check
        self.extra_dirs = [osp.abspath(d) for d in extra_dirs]
        self.aside = None
        self.lock = None
        self.handler = None
        self.status = {}
        self.logger = logging.getLogger('mmseg')

    # ------------------------------------------------------------ entering
    def __enter__(self):
        os.makedirs(self.work_dir, exist_ok=True)
        self.lock = _Lock(osp.join(self.work_dir, LOCK_FILE)).acquire()
        try:
            if self.check is not None:
                self.check(self.work_dir)
            if self.overwrite and self._holds_a_run():
                self._move_aside()
            for folder in [self.work_dir] + self.extra_dirs:
                for path in remove_stale_tmp(folder) if osp.isdir(folder) else []:
                    self.logger.info(f'removed {path}, left by a run killed mid-write')
            if self.lock.previous and self.lock.previous.get('pid'):
                prev = self.lock.previous
                self.logger.info(f"took over the stale lock of pid {prev['pid']} on "
                                 f"{prev.get('host')} (that process has ended)")
            self.status = dict(status='running', pid=os.getpid(),
                               host=socket.gethostname(), command=_command(),
                               started=_now())
            self._write_status()
        except BaseException:
            self._restore()
            self.lock.release()
            raise
        return self

    def _holds_a_run(self):
        return any(n != LOCK_FILE for n in os.listdir(self.work_dir))

    def _move_aside(self):
        stamp = time.strftime('%Y%m%d_%H%M%S')
        aside = f'{self.work_dir}.old-{stamp}'
        n = 1
        while osp.exists(aside):
            aside = f'{self.work_dir}.old-{stamp}-{n}'
            n += 1
        os.rename(self.work_dir, aside)
        old_lock = self.lock
        os.makedirs(self.work_dir)
        self.lock = _Lock(osp.join(self.work_dir, LOCK_FILE)).acquire()
        old_lock.release()
        self.aside = aside
        self.logger.info(f'--overwrite: the previous run is kept in {aside} until '
                         f'this one has started')

    # -------------------------------------------------------------- running
    def open_log(self, log_file, level='INFO'):
        """The run's logger, with ``log_file`` attached until the guard exits.

        Returns:
            logging.Logger: mmseg's root logger.
        """
        self.logger, self.handler = run_logger(log_file, level)
        return self.logger

    def started(self):
        """The run has started cleanly: the previous run moved aside is deleted."""
        if self.aside is not None:
            shutil.rmtree(self.aside, ignore_errors=True)
            self.logger.info(f'--overwrite: removed the previous run {self.aside}')
            self.aside = None

    def _write_status(self):
        self.status['updated'] = _now()
        atomic_write_json(self.status, osp.join(self.work_dir, STATUS_FILE))

    def _restore(self):
        """Puts the run moved aside back (the new run failed before starting)."""
        if self.aside is None:
            return
        failed = f'{self.work_dir}.failed-{time.strftime("%Y%m%d_%H%M%S")}'
        os.rename(self.work_dir, failed)
        os.rename(self.aside, self.work_dir)
        shutil.rmtree(failed, ignore_errors=True)
        self.logger.error(f'--overwrite: the new run failed before it started; the '
                          f'previous run is back in {self.work_dir}')
        self.aside = None

    # -------------------------------------------------------------- leaving
    def __exit__(self, exc_type, exc, tb):
        try:
            return self._exit(exc_type, exc, tb)
        finally:
            if self.handler is not None:
                self.logger.removeHandler(self.handler)
                self.handler.close()
            self.lock.release()

    def _exit(self, exc_type, exc, tb):
        if exc is None:
            self.status.update(status='finished', finished=_now())
            self._write_status()
            self.started()
            return False
        self.status.update(status='failed', failed=_now(),
                           error=dict(type=exc_type.__name__, message=str(exc)))
        if self.handler is not None:  # the traceback to the file only (not twice
            # on the console, where Python prints it)
            self.handler.handle(logging.LogRecord(
                self.logger.name, logging.ERROR, __file__, 0,
                f'run failed: {exc_type.__name__}: {exc}', None, (exc_type, exc, tb)))
        try:
            self._write_status()
        except OSError as err:  # e.g. the disk is full: keep the run's error
            self.logger.error(f'could not write {STATUS_FILE}: {err}')
        self._restore()
        return False


def check_unfinished(work_dir, command=None, finished_file='summary.json',
                     run_files=()):
    """Refuses a work dir holding a run without ``finished_file``.

    Args:
        work_dir (str): the folder.
        command (str | None): the command line of this run, to print the exact
            commands that resume or replace the old run. Default: None.
        finished_file (str): written only by a run that finished.
        run_files (Sequence[str]): files a started run writes.

    Raises:
        UnfinishedRunError: naming ``--resume-from <latest>`` and ``--overwrite``.
    """
    if osp.isfile(osp.join(work_dir, finished_file)):
        return
    ckpts = sorted(n for n in os.listdir(work_dir) if n.endswith('.pth'))
    left = [n for n in run_files if osp.isfile(osp.join(work_dir, n))]
    if not ckpts and not left:
        return
    base = command or f'python tools/train.py CONFIG --work-dir {work_dir}'
    latest = osp.join(work_dir, 'latest.pth' if 'latest.pth' in ckpts else ckpts[-1]) \
        if ckpts else None
    lines = [f'{work_dir} holds a run that did not finish (no {finished_file}; found '
             f'{", ".join((ckpts + left)[:6])})']
    if latest:
        lines.append(f'  continue it:  {base} --resume-from {latest}')
    lines.append(f'  start over:   {base} --overwrite')
    raise UnfinishedRunError('\n'.join(lines))


# ------------------------------------------------------------ resume guard
def flat_config(cfg, ignored=()):
    """dict[str, str]: every leaf of ``cfg`` as ``dotted.key -> repr`` (lists by index).

    Args:
        cfg (mmcv.Config | dict): the resolved config.
        ignored (Sequence[str]): top-level keys left out.
    """
    d = cfg._cfg_dict.to_dict() if hasattr(cfg, '_cfg_dict') else dict(cfg)
    out = {}

    def walk(prefix, v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f'{prefix}.{k}' if prefix else str(k), x)
        elif isinstance(v, (list, tuple)) and any(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                walk(f'{prefix}.{i}', x)
        else:
            out[prefix] = repr(v)

    walk('', {k: v for k, v in d.items() if k not in ignored})
    return out


def check_resume_config(checkpoint, meta, mine_hash, mine_flat, force=False,
                        logger=None):
    """Refuses a checkpoint of another config, naming the keys that differ.

    Args:
        checkpoint (str): its path (named in the error).
        meta (dict): the checkpoint's ``meta`` (``config_hash``, ``config_flat``).
        mine_hash (str): this run's config hash.
        mine_flat (dict): this run's :func:`flat_config`.
        force (bool): allow changes of data locations only
            (:data:`DATA_LOCATION_KEYS`, e.g. the data moved). Default: False.
        logger (logging.Logger | None): gets the warning of a forced resume.

    Raises:
        ValueError: the configs differ (and ``force`` does not cover it).
    """
    theirs = meta.get('config_hash')
    if theirs is None or theirs == mine_hash:
        return
    head = (f'cannot resume from {checkpoint}: it was written by another config '
            f'(config_hash {theirs} != {mine_hash})')
    flat = meta.get('config_flat')
    if not isinstance(flat, dict):
        raise ValueError(f'{head}; the checkpoint does not store its config keys '
                         f'(written by an older version), so they cannot be compared')
    keys = sorted(k for k in set(flat) | set(mine_flat) if flat.get(k) != mine_flat.get(k))
    listed = '\n'.join(f'  {k}: {flat.get(k, "<absent>")} -> {mine_flat.get(k, "<absent>")}'
                       for k in keys[:20])
    more = f'\n  ... and {len(keys) - 20} more' if len(keys) > 20 else ''
    data_only = all(k.split('.')[-1] in DATA_LOCATION_KEYS for k in keys)
    if force and data_only:
        if logger is not None:
            logger.warning(f'--force-resume: resuming {checkpoint} although the data '
                           f'location changed:\n{listed}')
        return
    hint = ('; pass --force-resume if only the data moved' if data_only else
            f'; --force-resume allows only changes of {", ".join(DATA_LOCATION_KEYS)}')
    raise ValueError(f'{head}; keys that differ (checkpoint -> this run):\n{listed}'
                     f'{more}\n{hint.lstrip("; ")}')
