"""One module per task: a frozen Config, the input pipeline, build_model, train, evaluate and run."""
