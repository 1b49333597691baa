"""setup.py declares the pinned runtime dependencies of requirements/ and the
optional back-ends as extras."""
import importlib.util
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_setup():
    spec = importlib.util.spec_from_file_location('project_setup', osp.join(ROOT, 'setup.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # `setup()` runs only as a script
    return module


def test_every_runtime_pin_is_declared_once_with_its_specifier():
    setup = load_setup()
    declared = setup.INSTALL_REQUIRES + [r for rs in setup.EXTRAS_REQUIRE.values() for r in rs]
    runtime = setup.read_requirements('runtime.txt')
    openmmlab = setup.read_requirements('openmmlab.txt')
    assert sorted(declared) == sorted(runtime + openmmlab)
    assert len(set(map(setup.dist_name, declared))) == len(declared)
    assert 'mmsegmentation==0.30.0' in setup.INSTALL_REQUIRES
    assert 'cityscapesscripts==2.3.0' in setup.INSTALL_REQUIRES


def test_optional_back_ends_are_extras_and_torch_mmcv_are_left_to_install_sh():
    setup = load_setup()
    names = {setup.dist_name(r) for r in setup.INSTALL_REQUIRES}
    assert names.isdisjoint({'optuna', 'sqlalchemy', 'psycopg2-binary', 'line-profiler',
                             'jupyterlab', 'nbclient', 'ipykernel', 'pytest'})
    assert names.isdisjoint({'torch', 'torchvision', 'mmcv-full', 'mmcv'})
    extras = {k: sorted(map(setup.dist_name, v)) for k, v in setup.EXTRAS_REQUIRE.items()}
    assert extras == {'search': ['optuna', 'psycopg2-binary', 'sqlalchemy'],
                      'profile': ['line-profiler'],
                      'notebooks': ['ipykernel', 'jupyterlab', 'nbclient', 'nbformat'],
                      'tests': ['pytest']}


def test_an_extra_naming_an_unpinned_distribution_is_an_error(monkeypatch):
    setup = load_setup()
    monkeypatch.setitem(setup.EXTRAS, 'search', ['optuna', 'ray'])
    try:
        setup.split_requirements()
    except ValueError as e:
        assert "EXTRAS['search'] names ['ray']" in str(e)
    else:
        raise AssertionError('no error for an unpinned extra')
