"""Assignment 6: beyond SNIP: a data-free criterion (SynFlow), its schedule, and the sanity
checks that ask whether a mask carries information."""
from ..catalog import Assignment, Task

ASSIGNMENT = Assignment(
    number=6, name="beyond", title="Beyond SNIP: SynFlow and the sanity checks",
    introduction="""\
After SNIP came other criteria for pruning at initialization, and a doubt: do their masks
matter, or only how many connections each layer keeps? Read `minisnip/pruners.py` (one
interface for every method: a scorer returns one score per connection, larger = keep, and
`snip.top_kappa` selects), `minisnip/pai/synflow.py` and `minisnip/pai/iterative.py`
(their docstrings explain the papers' choices), and lesson 08 (`lessons/08_beyond_snip.py`).

You write SynFlow's score (Tanaka et al., NeurIPS 2020: no data at all) (6.1), the
exponential schedule of its rounds (6.2), and two of the sanity checks of Frankle et al.
(ICLR 2021): shuffling a mask within each layer and re-initializing the kept weights (6.3).
""",
    tasks=(
        Task(
            id="6.1", title="The synaptic flow and its scores", points=25, minutes=60,
            functions=("pai/synflow.py:synaptic_flow", "pai/synflow.py:synflow_scores"),
            statement="""\
The synaptic flow R = 1^T (prod_l |W_l|) 1 is the network with every weight replaced by its
absolute value (`linearize`), fed one all-ones input, its outputs summed: the sum over all
paths from an input to an output of the product of the |weights| on the path. The SynFlow
score of a connection is S_j = theta_j dR/dtheta_j: the flow through it.

`synaptic_flow(model, keep, input_shape)` returns `(R, [dR/dc per layer])` for the network
pruned by `keep`: make a float64 copy (`float64_copy`: in float32 the product of many layers
overflows), linearize it, and inside `with scoring(twin, at=keep) as layers:` (masks at
`keep`, requiring grad, eval mode) compute R on `np.ones((1,) + input_shape)` and
backpropagate; read `c.grad` (zeros for a mask without a gradient). Refuse a non-finite R
with a ValueError.

`synflow_scores(model, batch, rng, loss_fn, keep)`: only the shape of `batch[0]` is read
(refuse a missing one); with theta = c * |w|, S_j = c_j dR/dc_j, so the scores are
`keep * dR/dc`, layer by layer: a pruned connection scores 0.""",
        ),
        Task(
            id="6.2", title="The exponential schedule", points=10, minutes=20,
            functions=("pai/iterative.py:exponential_schedule",),
            statement="""\
Iterative methods (SynFlow, iterative SNIP, FORCE) prune from m connections down to kappa in
T rounds, removing the same *fraction* of what is left each round: after round t,

    k_t = m (kappa / m)^(t / T),  rounded to the nearest integer, for t = 1 .. T - 1,

and k_T = kappa exactly. Return the list [k_1, ..., k_T]. Check the arguments first
(`check_rounds(rounds)`; kappa in [0, m], a ValueError naming kappa otherwise). kappa = 0
gives 0 from the first round on.""",
        ),
        Task(
            id="6.3", title="Sanity checks: shuffle and re-initialize", points=15, minutes=30,
            functions=("pruners.py:shuffle_within_layers", "pruners.py:reinitialize_kept"),
            statement="""\
If a method's mask carries information, these should hurt the trained network (Frankle et
al., "Pruning neural networks at initialization: why are we missing the mark?"):

* `shuffle_within_layers(keep, rng)`: each layer keeps as many connections as the method
  gave it, at positions drawn uniformly at random (a random permutation of the layer's mask,
  drawn with `rng`, layer by layer in order). Return new arrays of the same shapes.
* `reinitialize_kept(model, scheme, rng)`: keep the mask, draw the weights afresh: every
  prunable weight with 2 or more dimensions gets `nn.init.sample(scheme, w.shape, rng,
  gates)` (`gates` is the module's `_gates`, 1 if it has none), then `w := c * w` so that
  pruned weights stay 0. Visit the modules in `model.named_modules()` order and their masked
  parameters in `module._masks` order; leave biases as they are.""",
        ),
    ),
)
