"""Run-level functions: what a script calls to run an experiment end to end.

They sit above both packages (scripts -> ``online_src.apis`` -> ``online_src``
runner and parts -> ``mmseg_ext``): :mod:`.online` (``train_online``,
``run_online``), :mod:`.sweep` (``run_experiments.py``: generated configs, run
names, training them one after another), :mod:`.launch` (a sweep's SLURM
scripts), :mod:`.demo` (``make demo``), :mod:`.search` (the genetic search, needs
optuna) and :mod:`.profile` (the step profiler, needs line_profiler). Import the
module you need; this package imports none of them, so the optional back-ends load
only with the tool that uses them.
"""
