"""Assignment 4: SNIP itself, Section 4 of the paper, and masked training."""
from ..catalog import Assignment, Task

ASSIGNMENT = Assignment(
    number=4, name="snip", title="SNIP: connection sensitivity, top-kappa, masked SGD",
    introduction="""\
Lee, Ajanthan & Torr (ICLR 2019) prune a network once, at initialization: every prunable
layer computes with `c * w`, where `c` is a mask of ones (Eq. 3); the sensitivity of
connection j is g_j = dL/dc_j at c = 1 (Eq. 5), normalized as s_j = |g_j| / sum_k |g_k|
(Eq. 6); the kappa largest are kept (Eq. 7), and the sparse network is trained as usual
(Algorithm 1). Read Section 4 of the paper, `minisnip/snip.py` (its docstring maps the
equations to functions), `minisnip/masks.py` (the helpers you will use) and lessons 03-04.

You write Eq. 5-6 (4.1), Eq. 7 (4.2), the masked SGD update that keeps pruned weights at 0
(4.3) and Algorithm 1 from the pieces (4.4).
""",
    tasks=(
        Task(
            id="4.1", title="Connection sensitivity (Eq. 5-6)", points=25, minutes=60,
            functions=("snip.py:connection_sensitivity",),
            statement="""\
Return a `Sensitivity(names, g, s, losses)`: per prunable layer, in `model.named_masks()`
order, g = dL/dc at c = 1 (Eq. 5) and s = |g| / sum|g| over **all** layers (Eq. 6), and the
loss of each scored batch.

The helpers do the bookkeeping, so that your function reads like the paper:
* `with scoring(model) as layers:` sets every mask to 1, makes it require grad (and nothing
  else), puts the model in eval mode, and restores all of it afterwards; `layers` is
  `[(name, c), ...]`;
* `_scoring_batches(inputs, targets, batches)` yields the checked `(x, y)` batches (one, or
  several when `batches=` is given: then the signed g is **summed** over them);
* `_check_scores(names, g, losses)` raises for a non-finite g.

One forward-backward per batch: `loss = loss_fn(model(Tensor(x)), y)` (`loss_fn` defaults
to `F.cross_entropy`), `loss.backward()`, and `c.grad` **is** g (copy it before the scoring
state is undone; a mask the loss does not depend on has no `.grad`: its g is zeros).
Normalize by the total in float64; if the total is 0 every s is 0.""",
        ),
        Task(
            id="4.2", title="Top-kappa with ties (Eq. 7)", points=20, minutes=40,
            functions=("snip.py:top_kappa",),
            statement="""\
Return one boolean mask per layer keeping **exactly kappa** connections over all layers: the
kappa largest scores. Ties: the connection with the lower global index wins, the global index
running over the layers in order, row-major within each; so all-equal scores keep the first
kappa. `_flat_scores(scores, kappa)` checks the arguments and gives `(scores, flat)`: the
list of per-layer arrays and all of them in one float64 vector.

*Hint*: a **stable** sort of `-flat` puts equal scores in index order (`np.argsort(...,
kind="stable")`); do not compare with a threshold (ties at the threshold would keep too many
or too few). Split the flat keep-vector back into the layers' shapes.""",
        ),
        Task(
            id="4.3", title="Masked SGD: pruned stays pruned", points=20, minutes=45,
            functions=("kernels/optim.py:sgd_step",),
            statement="""\
`sgd_step(w, g, buf, mask, lr, momentum, dampening, weight_decay, nesterov, first)` updates
the flat arrays `w` (weights) and `buf` (momentum buffer) **in place**, entry by entry, with
PyTorch's SGD (see `torch.optim.SGD`'s documentation):

    d = g + weight_decay * w
    b = d  on the first step, else  momentum * b + (1 - dampening) * d     (if momentum != 0)
    d = d + momentum * b  if nesterov, else  b                             (if momentum != 0)
    w = w - lr * d

`mask` is the layer's mask c flattened (0 or 1 per entry), or an empty array for a parameter
that is not prunable. A pruned entry (c = 0) is set to weight 0 and momentum 0, whatever it
held: its gradient, weight decay or old momentum must never bring it back (DESIGN principle
5). It is a Numba kernel (`@njit`): write a plain loop over `range(w.size)`.""",
        ),
        Task(
            id="4.4", title="Algorithm 1", points=15, minutes=30,
            functions=("snip.py:prune",),
            depends=("4.1", "4.2"),
            statement="""\
Compose the paper's Algorithm 1 from the pieces: if `include_bias`, register the bias masks
(`add_bias_masks`); kappa from the number m of connections (`count(model)`) and the
sparsity (or `kappa`) with `kappa_from`; s from your `connection_sensitivity` on the one
mini-batch; the keep-masks from your `top_kappa`; write them into the masks and zero the
pruned weights (`apply(model, keep)`); return `prune_report(model, "snip", keep)`. Five or
six lines: the point is that they read like the paper.""",
        ),
    ),
)
