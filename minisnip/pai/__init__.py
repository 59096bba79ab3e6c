"""Pruning at initialization beyond SNIP: the methods that came after it, one module each.

``minisnip.pruners`` is the entry point (``prune``, ``SCORERS``, ``ITERATIVE``, ``methods``);
this package holds what does not fit on its screen:

- :mod:`.iterative`: the exponential sparsity schedule and the round-by-round loop shared by
  every iterative method (exactly k_t kept at every round, revival allowed or not);
- :mod:`.grasp`: GraSP (Wang, Zhang & Grosse, ICLR 2020), single-shot, through a
  Hessian-gradient product;
- :mod:`.synflow`: SynFlow (Tanaka et al., NeurIPS 2020), data-free and iterative;
- :mod:`.force`: iterative SNIP and FORCE (de Jorge et al., ICLR 2021);
- :mod:`.float64`: the scratch float64 copy of a model that GraSP and SynFlow compute on.
"""
