# The project's budgeted adaptation (hamlet_budget.py) with HAMLET's MAD modular
# training (mad.py keys) inside the budget.
_base_ = ['hamlet_budget.py']
runner = dict(controller=dict(module_policy=dict(
    enabled=True, type='mad', total_modules=4, decay=0.1, temperature=1.75,
    time_update=True, loss='mix.decode.loss_ce')))
