"""Installs the two packages of the project: ``mmseg_ext`` (models, datasets,
adaptation methods, library functions registered into mmseg/mmcv) and
``online_src`` (the online runner and the run-level functions).

The dependencies are read from ``requirements/`` so that the pins live in one
place: ``runtime.txt`` (every pin with its reason) and ``openmmlab.txt``.
torch and mmcv-full are not declared: ``scripts/install.sh`` pins torch and
builds or fetches mmcv-full with its compiled ops (pip cannot resolve it for
torch 2.14). The optional back-ends are extras, named in :data:`EXTRAS`;
``import mmseg_ext`` needs none of them.
"""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
# extra -> the distributions of requirements/runtime.txt it installs (normalised
# names: lower case, `-` for `_`)
EXTRAS = {
    'search': ['optuna', 'sqlalchemy', 'psycopg2-binary'],  # tools/search.py
    'profile': ['line-profiler'],  # tools/profile_step.py
    'notebooks': ['jupyterlab', 'nbclient', 'nbformat', 'ipykernel'],  # notebooks/
    'tests': ['pytest'],
}


def read_requirements(name):
    """list[str]: the requirement lines of ``requirements/<name>`` (no comments)."""
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def dist_name(requirement):
    """str: the normalised distribution name of a requirement line."""
    return re.split(r'[<>=!~;\[ ]', requirement, maxsplit=1)[0].lower().replace('_', '-')


def split_requirements():
    """(install_requires, extras_require) from the requirement files.

    Raises:
        ValueError: an extra names a distribution runtime.txt does not pin.
    """
    runtime = {dist_name(r): r for r in read_requirements('runtime.txt')}
    extras = {}
    for extra, names in EXTRAS.items():
        missing = [n for n in names if n not in runtime]
        if missing:
            raise ValueError(f'setup.py EXTRAS[{extra!r}] names {missing}, which '
                             f'requirements/runtime.txt does not pin')
        extras[extra] = [runtime[n] for n in names]
    in_extras = {n for names in EXTRAS.values() for n in names}
    install = [r for n, r in runtime.items() if n not in in_extras]
    return install + read_requirements('openmmlab.txt'), extras


INSTALL_REQUIRES, EXTRAS_REQUIRE = split_requirements()

if __name__ == '__main__':
    setup(
        name='onda-seg',
        version='0.1.0',
        description='Online domain adaptation of semantic segmentation on mmseg 0.30',
        packages=find_packages(include=['mmseg_ext', 'mmseg_ext.*', 'online_src',
                                        'online_src.*']),
        python_requires='>=3.10',
        install_requires=INSTALL_REQUIRES,
        extras_require=EXTRAS_REQUIRE,
    )
