# The project's budgeted adaptation (hamlet_budget.py) with HAMLET's MAD modular
# training (mad.py keys) inside the budget.
_base_ = ['hamlet_budget.py']
runner = dict(modular_training=True, training_policy='mad', total_modules=4, alpha=0.1,
              temperature=1.75, mad_time_update=True, mad_loss='mix.decode.loss_ce')
