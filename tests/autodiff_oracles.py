"""Oracles that use the engine itself: the hand-written backward through time of the LSTM/GRU
kernels against the same equations written with minisnip's elementary ops and differentiated
by the graph walk (each op is gradient-checked in test_gradcheck.py). They are not in
``minisnip/kernels/reference.py`` (kernels and their oracles know nothing of Tensors); the
course's recurrent assignment grades with the same function, so it lives in
``minisnip/course/testing.py``."""
from minisnip.course.testing import recurrent_backward_by_autodiff  # noqa: F401
