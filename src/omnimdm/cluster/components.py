"""Connected components of the linked pairs, vectorised over numpy arrays.

Splink's ``cluster_pairwise_predictions_at_threshold`` finds them with repeated SQL joins
(1.1-1.7 s at 1M records, 0.57M links). Here each record starts as its own label and
every round (1) gives both ends of each link the smaller of their labels and (2) lets
every label take its own label's label (pointer jumping), until nothing changes: a few
rounds of whole-array operations, about 0.1 s at 1M records. A component's label is its
smallest record id, so the result depends only on the links, not on their order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]


def component_labels(ids: Ids, left: Ids, right: Ids) -> Ids:
    """The smallest record id of each record's component.

    ``ids``: every record id, sorted ascending and distinct; ``left``/``right``: the links
    (record ids found in ``ids``). Returns one label per element of ``ids``.
    """
    if len(ids) and np.any(ids[1:] <= ids[:-1]):
        raise ValueError("ids must be sorted and distinct")
    lo = np.searchsorted(ids, left)
    hi = np.searchsorted(ids, right)
    if len(lo) and (
        lo.max(initial=0) >= len(ids)
        or hi.max(initial=0) >= len(ids)
        or np.any(ids[lo] != left)
        or np.any(ids[hi] != right)
    ):
        raise ValueError("a link names a record id that is not in ids")
    # positions in the sorted ids: the smallest position is the smallest id
    label = np.arange(len(ids), dtype=np.int64)
    while True:
        smaller = np.minimum(label[lo], label[hi])
        before = label.copy()
        np.minimum.at(label, lo, smaller)
        np.minimum.at(label, hi, smaller)
        # pointer jumping: a label's own label is smaller or equal, and also in reach
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(label, before):
            return ids[label]
