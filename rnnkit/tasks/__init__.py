"""One module per task: its frozen Config, input pipeline, model, train, evaluate and run (the grid entry point)."""
