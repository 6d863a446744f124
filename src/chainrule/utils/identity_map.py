"""``IdentityMap``: a dict keyed by objects' identity that forgets an object when it is collected.

``weakref.WeakKeyDictionary`` compares keys with ``==``, which tensors answer elementwise, so it
can't hold tensors; this map compares by ``is``.
"""
import weakref

_MISSING = object()


class IdentityMap:
    """``{object: value}`` by identity, holding each object weakly."""

    def __init__(self):
        self._entries = {}  # id(object) -> (weak reference to it, value)

    def __bool__(self):
        return bool(self._entries)

    def __len__(self):
        return len(self._entries)

    def get(self, key, default=None):
        entry = self._entries.get(id(key))
        return default if entry is None or entry[0]() is not key else entry[1]

    def __contains__(self, key):
        return self.get(key, _MISSING) is not _MISSING

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        number = id(key)
        entries = self._entries
        self._entries[number] = (weakref.ref(key, lambda _, number=number: entries.pop(number, None)), value)

    def pop(self, key, default=None):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            return default
        del self._entries[id(key)]
        return value
