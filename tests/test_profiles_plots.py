import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnkit import plots, resolve_profile  # noqa: E402


def test_resolve_profile_is_the_parameter_and_ignores_the_environment(monkeypatch):
    monkeypatch.setenv("RNNKIT_PROFILE", "quick")  # the old override: no longer read
    assert resolve_profile("full") == "full"
    assert resolve_profile("quick") == "quick"
    with pytest.raises(ValueError, match="PROFILE must be one of"):
        resolve_profile("fast")


def test_plot_curves_and_heatmap():
    ax = plots.plot_curves({"train": [3, 2, 1], "val": [3, 2.5, 2]}, logy=True)
    assert [line.get_label() for line in ax.get_lines()] == ["train", "val"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    assert ax.get_yscale() == "log"
    ax = plots.plot_heatmap(np.eye(2), xticklabels=["a", "b"], yticklabels=["c", "d"], xlabel="x", ylabel="y")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    with pytest.raises(ValueError, match="does not match the labels"):
        plots.plot_heatmap(np.eye(3), xticklabels=["a"], yticklabels=["b"], xlabel="x", ylabel="y")


def test_plain_log_ticks_and_seed_band():
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    ax.loglog([25, 50, 100], [1, 2, 4])
    plots.plain_log_ticks(ax, [100, 25, 50, 50])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["25", "50", "100"]
    ax.set_yscale("log")
    ax.set_ylim(0.06, 0.5)
    plots.plain_log_ticks(ax, axis="y")
    ax.figure.canvas.draw()
    shown = [t.get_text() for t in ax.get_yticklabels() if 0.06 <= t.get_position()[1] <= 0.5]
    assert shown == ["0.1", "0.2", "0.5"]
    with pytest.raises(ValueError, match="axis must be 'x' or 'y'"):
        plots.plain_log_ticks(ax, [1], axis="z")
    ax = plots.plot_seed_band({"gru": np.array([[0.1, 0.5], [0.3, 0.7]])}, ylabel="accuracy")
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.6])
    assert line.get_label() == "gru (mean of 2)"
    assert len(ax.collections) == 1  # the min-max band
    plt.close("all")
