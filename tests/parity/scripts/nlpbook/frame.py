# A few lines standing in for the pandas DataFrame operations that the book's Dataset and Vectorizer classes
# use (df[df.split == 'train'], df.surname, df.iloc[i], df.iterrows(), row.surname / row["surname"],
# df.nationality.value_counts().to_dict(),
# df.category.unique(), df.title[df.category == cat].tolist()): pandas is not a test dependency. Rows are dicts.
from collections import Counter


class Row(dict):
    __getattr__ = dict.__getitem__


class Counts(Counter):
    def to_dict(self):
        return dict(self)


class Column(list):
    def __eq__(self, other):
        return [value == other for value in self]

    def __getitem__(self, mask):
        if isinstance(mask, list):
            return Column(value for value, keep in zip(self, mask) if keep)
        return list.__getitem__(self, mask)

    def value_counts(self):
        return Counts(self)

    def unique(self):
        return list(dict.fromkeys(self))

    def tolist(self):
        return list(self)


class DataFrame:
    def __init__(self, rows):
        self._rows = [Row(row) for row in rows]

    def __len__(self):
        return len(self._rows)

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        return Column(row[name] for row in self._rows)

    def __getitem__(self, mask):
        return DataFrame([row for row, keep in zip(self._rows, mask) if keep])

    @property
    def iloc(self):
        return self._rows

    def iterrows(self):
        return enumerate(self._rows)
