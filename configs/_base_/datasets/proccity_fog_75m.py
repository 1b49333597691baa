# ProcCity with fog of visibility 75 m (Koschmieder, beta = 2.996 / V), as a
# validation/test domain; labels shared with the clear set.
_base_ = ['./proccity_clear.py']
_domain = dict(type='ProcCityDataset', weather='fog', visibility=75, name='fog75m',
               domain=75)
data = dict(
    train=dict(_domain, subset='train'),
    val=dict(_domain, subset='val'),
    test=dict(_domain, subset='val'))
