"""Where the time of one LSTM training step goes, in plain JAX, at the IMDB shape (h 64, batch 64,
T=200, input width 64): the recurrent matmuls or the per-step overhead of ``lax.scan``?

    python bench/profile_step.py              # every core
    python bench/profile_step.py --threads 1  # one core, single-threaded XLA (a --jobs worker)
    python bench/profile_step.py --quick      # tiny shapes: only checks that it runs

The model is Keras' LSTM written out: a ``lax.scan`` whose step computes ``x_t W + h U + b`` (the
input projection inside the step, as Keras' cell does), the gates, then the mean of the states
over time, a sigmoid head, binary cross-entropy and a plain SGD update (no Adam; the token
embedding is left out: the inputs are float vectors). Reported:

(i)   XLA's ``cost_analysis()`` of the compiled step (FLOPs, bytes accessed) next to the analytic
      count (training = 3 x forward multiply-adds x 2). XLA may count a loop body once rather
      than once per iteration: compare the two.
(ii)  the measured time of the step (median of ``--repeats``);
(iii) the same ``lax.scan`` (forward + backward) with only the recurrent matmul ``h U``, with both
      per-step matmuls (``x_t W`` and ``h U``), and with an empty body (loop overhead): their
      times as shares of the full step give the split between the recurrent matmuls, the other
      per-step work (gates, elementwise) and the cost of looping itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# XLA on one thread, as run_grid's workers (rnnkit.experiments imports no JAX)
from rnnkit.experiments import SINGLE_THREAD_XLA_FLAG


def _timed(fn, args, repeats: int) -> float:
    """Median seconds of ``fn(*args)`` after one compiling call (blocks on the result)."""
    import jax

    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cost(fn, args) -> dict:
    analysis = fn.lower(*args).compile().cost_analysis()
    if isinstance(analysis, (list, tuple)):  # older JAX: one dict per computation
        analysis = analysis[0] if analysis else {}
    analysis = analysis or {}
    return {"flops": float(analysis.get("flops", float("nan"))),
            "bytes": float(analysis.get("bytes accessed", float("nan")))}


def profile(units: int, batch: int, steps: int, width: int, repeats: int) -> list[dict]:
    import jax
    import jax.numpy as jnp

    key = jax.random.split(jax.random.PRNGKey(0), 6)
    params = {"W": jax.random.normal(key[0], (width, 4 * units)) / jnp.sqrt(width),
              "U": jax.random.normal(key[1], (units, 4 * units)) / jnp.sqrt(units),
              "b": jnp.zeros(4 * units), "head": jax.random.normal(key[2], (units, 1)) / jnp.sqrt(units),
              "head_b": jnp.zeros(1)}
    x = jax.random.normal(key[3], (steps, batch, width))  # time-major, as scan reads it
    y = (jax.random.uniform(key[4], (batch, 1)) > 0.5).astype(jnp.float32)
    h0 = jnp.zeros((batch, units))

    def loss_fn(p, x, y):
        def cell(carry, x_t):
            h, c = carry
            z = x_t @ p["W"] + h @ p["U"] + p["b"]
            i, f, g, o = jnp.split(z, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), h

        _, states = jax.lax.scan(cell, (h0, h0), x)
        logits = states.mean(axis=0) @ p["head"] + p["head_b"]
        return jnp.mean(jnp.maximum(logits, 0) - logits * y + jnp.log1p(jnp.exp(-jnp.abs(logits))))

    @jax.jit
    def train_step(p, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        return jax.tree.map(lambda w, g: w - 0.01 * g, p, grads), loss

    # (iii) the same scan, forward and backward, with less in its body
    def matmul_loss(U, W, x, with_input: bool):
        def body(h, x_t):
            z = h @ U + (x_t @ W if with_input else 0.0)
            return z[:, :units], None  # keeps the state bounded: U / sqrt(units) has norm ~1

        h, _ = jax.lax.scan(body, h0 + 1.0, x)
        return h.sum()

    recurrent_only = jax.jit(jax.grad(lambda U, W, x: matmul_loss(U, W, x, False)))
    both_matmuls = jax.jit(jax.grad(lambda U, W, x: matmul_loss(U, W, x, True), argnums=(0, 1)))

    def empty_loss(scale, x):
        carry, _ = jax.lax.scan(lambda c, _: (c * scale, None), jnp.ones(()), x)
        return carry

    empty = jax.jit(jax.grad(empty_loss))

    per_step_matmul = 2 * batch * units * 4 * units  # one (batch, units) @ (units, 4 units)
    analytic = 3 * steps * 2 * batch * (width + units) * 4 * units
    cost = _cost(train_step, (params, x, y))
    full = _timed(train_step, (params, x, y), repeats)
    rows = [{"what": "full LSTM train step", "seconds": full, "gflop": analytic / 1e9,
             "xla_gflop": cost["flops"] / 1e9, "xla_mbytes": cost["bytes"] / 1e6}]
    for what, fn, args, flops in [
        ("scan: h U only (fwd+bwd)", recurrent_only, (params["U"], params["W"], x), 3 * steps * per_step_matmul),
        ("scan: x_t W + h U (fwd+bwd)", both_matmuls, (params["U"], params["W"], x),
         3 * steps * 2 * batch * (width + units) * 4 * units),
        ("scan: empty body (fwd+bwd)", empty, (jnp.float32(0.999), x), 0),
    ]:
        rows.append({"what": what, "seconds": _timed(fn, args, repeats), "gflop": flops / 1e9})
    for row in rows:
        row["share"] = row["seconds"] / full
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200, help="time steps T")
    parser.add_argument("--width", type=int, default=64, help="input (embedding) width")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, choices=(0, 1), default=0,
                        help="1: pin to one core with single-threaded XLA; 0 (default): every core")
    parser.add_argument("--quick", action="store_true", help="tiny shapes and 2 repeats (a smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.units, args.batch, args.steps, args.width, args.repeats = 8, 4, 10, 8, 2
    if args.threads == 1:  # before JAX starts its thread pools
        if "jax" in sys.modules:
            parser.error("--threads 1 must be set before JAX is imported (run it as a script)")
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {SINGLE_THREAD_XLA_FLAG}".strip()
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import jax

    print(f"jax {jax.__version__}; LSTM h={args.units}, batch {args.batch}, T={args.steps}, input {args.width}; "
          f"{'one core, single-threaded XLA' if args.threads == 1 else 'every core'}; "
          f"median of {args.repeats}")
    rows = profile(args.units, args.batch, args.steps, args.width, args.repeats)
    full = rows[0]
    print(f"\nXLA cost_analysis of the train step: {full['xla_gflop']:.4f} GFLOP, {full['xla_mbytes']:.1f} MB "
          f"accessed; analytic {full['gflop']:.4f} GFLOP (ratio {full['xla_gflop'] / full['gflop']:.3f}; "
          f"about 1/T = {1 / args.steps:.3f} would mean the loop body was counted once)\n")
    print("| what | ms | share of the step | GFLOP (analytic) | GFLOP/s |")
    print("|---|---|---|---|---|")
    for row in rows:
        rate = f"{row['gflop'] / row['seconds']:.1f}" if row["gflop"] else "—"
        print(f"| {row['what']} | {1e3 * row['seconds']:.2f} | {100 * row['share']:.0f}% | "
              f"{row['gflop']:.4f} | {rate} |")
    recurrent, matmuls, overhead = (rows[k]["share"] for k in (1, 2, 3))
    print(f"\nshares of the step: recurrent matmul h U {100 * max(0.0, recurrent - overhead):.0f}%, "
          f"both per-step matmuls {100 * max(0.0, matmuls - overhead):.0f}%, loop overhead "
          f"{100 * overhead:.0f}%, the rest (gates, elementwise, head) {100 * max(0.0, 1 - matmuls):.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
