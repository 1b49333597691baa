# HAMLET: budgeted adaptation (detector + budget + adaptive lr) with MAD modular
# training inside the budget.
_base_ = ['hamlet_budget.py']
runner = dict(modular_training=True, training_policy='mad', total_modules=4, alpha=0.1,
              temperature=1.0, mad_time_update=True)
