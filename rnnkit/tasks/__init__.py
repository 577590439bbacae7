"""One module per task, in the manner of a flax example: a frozen ``Config`` holding every
hyper-parameter that changes a result, the task's input pipeline, and ``run(config, seed, data)``,
the entry point that :func:`rnnkit.experiments.run_grid` calls."""
