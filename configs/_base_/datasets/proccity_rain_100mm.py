# ProcCity with physically rendered rain at 100 mm/h (tools/data/weather.py), as a
# validation/test domain; labels shared with the clear set.
_base_ = ['./proccity_clear.py']
_domain = dict(type='ProcCityDataset', weather='rain', rain_rate=100, name='100mm', domain=100)
data = dict(
    train=dict(_domain, subset='train'),
    val=dict(_domain, subset='val'),
    test=dict(_domain, subset='val'))
