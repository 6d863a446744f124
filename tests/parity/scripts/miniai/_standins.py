"""Minimal stand-ins for what miniai imports from fastcore (as `fc`), torcheval and fastprogress
(not dependencies of the tests): same names, only the behaviour miniai uses; the progress table is
printed as text, the loss graph as numbers."""
import inspect,torch

class fc:
    IN_NOTEBOOK = False
    @staticmethod
    def store_attr():
        frame = inspect.currentframe().f_back
        args = inspect.getargvalues(frame)
        for k in args.args[1:]: setattr(args.locals[args.args[0]], k, args.locals[k])
    class L(list):
        def __init__(self, x=None): super().__init__([] if x is None else x if isinstance(x, (list,tuple)) else [x])
        @classmethod
        def range(cls, a): return cls(list(range(a if isinstance(a, int) else len(a))))
        def map(self, f): return type(self)([f(o) for o in self])
    @staticmethod
    def noop(x=None, *args, **kwargs): return x
    @staticmethod
    def filter_ex(iterable, f=None): return [o for o in iterable if (f or fc.noop)(o)]
    @staticmethod
    def risinstance(types): return lambda o: isinstance(o, types)
    @staticmethod
    def patch(f):
        cls = next(iter(f.__annotations__.values()))
        setattr(f.__globals__[cls] if isinstance(cls, str) else cls, f.__name__, f)
        return f

# torcheval.metrics (micro MulticlassAccuracy and Mean, torcheval's arithmetic)
class MulticlassAccuracy:
    def __init__(self): self.reset()
    def reset(self): self.num_correct,self.num_total = torch.tensor(0.0),torch.tensor(0.0)
    @torch.inference_mode()
    def update(self, input, target):
        if input.ndim == 2: input = torch.argmax(input, dim=1)
        self.num_correct += (input == target).long().sum()
        self.num_total += torch.tensor(target.shape[0])
        return self
    @torch.inference_mode()
    def compute(self): return self.num_correct / self.num_total

class Mean:
    def __init__(self): self.reset()
    def reset(self):
        self.weighted_sum = torch.tensor(0.0, dtype=torch.float64)
        self.weights = torch.tensor(0.0, dtype=torch.float64)
    @torch.inference_mode()
    def update(self, input, *, weight=1.0):
        self.weighted_sum += weight * torch.sum(input)
        self.weights += torch.tensor(float(weight) * torch.numel(input))
        return self
    @torch.inference_mode()
    def compute(self):
        if not torch.is_nonzero(self.weights): return torch.tensor(0.0, dtype=torch.float64)
        return self.weighted_sum / self.weights

# fastprogress: the table rows and the loss graph as text
class master_bar:
    def __init__(self, gen): self.gen = gen
    def __iter__(self): return iter(self.gen)
    def write(self, line, table=False): print(' '.join(str(o) for o in line))
    def update_graph(self, graphs): print('graph:', ' '.join(f'{float(v):.3f}' for v in graphs[-1][1]))
class progress_bar:
    def __init__(self, gen, leave=True, parent=None): self.gen,self.comment = gen,''
    def __iter__(self): return iter(self.gen)
    def __len__(self): return len(self.gen)
