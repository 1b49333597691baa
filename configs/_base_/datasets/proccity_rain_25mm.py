# ProcCity with physically rendered rain at 25 mm/h (tools/data/weather.py), as a
# validation/test domain; labels shared with the clear set.
_base_ = ['./proccity_clear.py']
_domain = dict(type='ProcCityDataset', weather='rain', rain_rate=25, name='25mm', domain=25)
data = dict(
    train=dict(_domain, subset='train'),
    val=dict(_domain, subset='val'),
    test=dict(_domain, subset='val'))
