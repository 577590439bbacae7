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
