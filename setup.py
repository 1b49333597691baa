"""Installs the two packages of the project: ``mmseg_ext`` (models, datasets,
adaptation methods, APIs registered into mmseg/mmcv) and ``online_src`` (the
online runner). The pinned stack is installed by ``scripts/install.sh``."""
from setuptools import find_packages, setup

setup(
    name='onda-seg',
    version='0.1.0',
    description='Online domain adaptation of semantic segmentation on mmseg 0.30',
    packages=find_packages(include=['mmseg_ext', 'mmseg_ext.*', 'online_src',
                                    'online_src.*']),
    python_requires='>=3.10',
)
