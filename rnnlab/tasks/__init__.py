"""The tasks, one module each: load the data, build the model, fit, evaluate beside baselines, write the report.

The CLI (:mod:`rnnlab.commands`) calls these; the shared engine (``train``, ``checkpoint``, ``evaluation``, ...) and
the models they build live at the top of the package and never import a task.
"""
