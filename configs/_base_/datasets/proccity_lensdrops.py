# ProcCity under refracting water drops on the lens cover, out of focus,
# rendered by `python tools/data/weather.py data/proccity --lensdrops 1 2 3 4 5` (models and
# severity scale: docs/proccity.md). Labels are shared with the clear set.
# severity: 1 (mild) .. 5 (hardest), 3 here; another level overrides the three keys,
# e.g. --cfg-options data.val.severity=5 data.val.name=lensdrops5 data.val.domain=5
# (with name=None, domain=None the dataset derives them from the severity).
_base_ = ['./proccity_clear.py']
_domain = dict(type='ProcCityDataset', weather='lensdrops', severity=3, name='lensdrops3',
               domain=3)
data = dict(
    train=dict(_domain, subset='train'),
    val=dict(_domain, subset='val'),
    test=dict(_domain, subset='val'))
