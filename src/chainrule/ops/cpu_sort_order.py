"""The order PyTorch's CPU kernels leave equal elements in, for ``sort(stable=False)``, ``topk``
and ``kthvalue``.

PyTorch sorts (value, position) pairs with libstdc++'s ``std::sort`` (introsort, then insertion
sorts), picks ``topk`` with ``std::partial_sort`` (a heap, for k * 64 <= n) or
``std::nth_element`` followed by ``std::sort`` of the k - 1 before it, and ``kthvalue`` with its
own quickselect (``quick_select_template``: a median-of-three pivot, Hoare's partition). Among distinct values every
correct algorithm gives one answer; among equal ones (labels, a symmetric distance matrix, the zero
weights of ``multinomial``) the answer is the algorithm's. These functions replay those algorithms
step by step on a list of (key, position) pairs, comparing keys with ``<`` as PyTorch's comparators
do: the caller makes the keys (ranks, negated for a descending order, nan one rank of its own).

Plain Python, so the callers use them only for rows that hold equal values.
"""

#: Below this many elements std::sort is one insertion sort (stable); above, introsort's cut-off.
_THRESHOLD = 16


def sort_order(keys):
    """The positions ``std::sort`` leaves ``keys`` (a list of ints) in, sorted by ``<``."""
    pairs = [(key, position) for position, key in enumerate(keys)]
    _sort(pairs, 0, len(pairs))
    return [position for _, position in pairs]


def top_order(keys, k):
    """The positions of PyTorch's ``topk``: the k smallest ``keys`` by ``<``, in its order."""
    pairs = [(key, position) for position, key in enumerate(keys)]
    if k * 64 <= len(pairs):
        _partial_sort(pairs, 0, k, len(pairs))
    elif k:
        _nth_element(pairs, 0, k - 1, len(pairs))
        _sort(pairs, 0, k - 1)
    return [position for _, position in pairs[:k]]


def kth_position(keys, k):
    """The position PyTorch's ``kthvalue`` reports for the ``k``-th smallest of ``keys`` (k from 0)."""
    values, positions = list(keys), list(range(len(keys)))

    def swap(i, j):
        values[i], values[j] = values[j], values[i]
        positions[i], positions[j] = positions[j], positions[i]

    low, high = 0, len(values) - 1
    while high > low:
        if high == low + 1:
            if values[low] > values[high]:
                swap(low, high)
            break
        swap(low + (high - low) // 2, low + 1)  # the median of three to values[low]
        if values[low + 1] > values[high]:
            swap(low + 1, high)
        if values[low] > values[high]:
            swap(low, high)
        if values[low + 1] > values[low]:
            swap(low + 1, low)
        i, j, pivot = low + 1, high, values[low]
        while True:
            i += 1
            while pivot > values[i]:
                i += 1
            j -= 1
            while values[j] > pivot:
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(low, j)
        if j <= k:
            low = i
        if j >= k:
            high = j - 1
    return positions[k]


# ----------------------------------------------------------------------------- std::sort
def _sort(a, first, last):
    if last - first > 1:
        _introsort_loop(a, first, last, 2 * ((last - first).bit_length() - 1))
        _final_insertion_sort(a, first, last)


def _introsort_loop(a, first, last, depth):
    while last - first > _THRESHOLD:
        if depth == 0:
            _partial_sort(a, first, last, last)
            return
        depth -= 1
        cut = _partition_around_median(a, first, last)
        _introsort_loop(a, cut, last, depth)
        last = cut


def _final_insertion_sort(a, first, last):
    if last - first > _THRESHOLD:
        _insertion_sort(a, first, first + _THRESHOLD)
        for position in range(first + _THRESHOLD, last):
            _linear_insert(a, position)
    else:
        _insertion_sort(a, first, last)


def _insertion_sort(a, first, last):
    for position in range(first + 1, last):
        value = a[position]
        if value[0] < a[first][0]:
            a[first + 1 : position + 1] = a[first:position]
            a[first] = value
        else:
            _linear_insert(a, position)


def _linear_insert(a, last):
    """Move a[last] down past the larger elements before it (a smaller one stops it: unguarded)."""
    value = a[last]
    before = last - 1
    while value[0] < a[before][0]:
        a[last] = a[before]
        last, before = before, before - 1
    a[last] = value


def _partition_around_median(a, first, last):
    """libstdc++'s ``__unguarded_partition_pivot``: the median of a[first + 1], the middle and the
    last moved to a[first], the rest split around it; returns where the upper part starts."""
    middle = first + (last - first) // 2
    x, y, z = a[first + 1][0], a[middle][0], a[last - 1][0]
    if x < y:
        median = middle if y < z else last - 1 if x < z else first + 1
    else:
        median = first + 1 if x < z else last - 1 if y < z else middle
    a[first], a[median] = a[median], a[first]
    pivot, low, high = a[first][0], first + 1, last
    while True:
        while a[low][0] < pivot:
            low += 1
        high -= 1
        while pivot < a[high][0]:
            high -= 1
        if not low < high:
            return low
        a[low], a[high] = a[high], a[low]
        low += 1


# ----------------------------------------------------------------------------- heaps: std::partial_sort
def _partial_sort(a, first, middle, last):
    _heap_select(a, first, middle, last)
    while middle - first > 1:  # std::sort_heap
        middle -= 1
        _pop_heap(a, first, middle, middle)


def _heap_select(a, first, middle, last):
    length = middle - first
    if length >= 2:  # std::make_heap
        for parent in range((length - 2) // 2, -1, -1):
            _adjust_heap(a, first, parent, length, a[first + parent])
    for position in range(middle, last):
        if a[position][0] < a[first][0]:
            _pop_heap(a, first, middle, position)


def _pop_heap(a, first, last, result):
    value = a[result]
    a[result] = a[first]
    _adjust_heap(a, first, 0, last - first, value)


def _adjust_heap(a, first, hole, length, value):
    top = child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if a[first + child][0] < a[first + child - 1][0]:
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2  # std::__push_heap
    while hole > top and a[first + parent][0] < value[0]:
        a[first + hole] = a[first + parent]
        hole, parent = parent, (parent - 1) // 2
    a[first + hole] = value


# ----------------------------------------------------------------------------- std::nth_element
def _nth_element(a, first, nth, last):
    depth = 2 * ((last - first).bit_length() - 1)
    while last - first > 3:
        if depth == 0:
            _heap_select(a, first, nth + 1, last)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _partition_around_median(a, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last)
