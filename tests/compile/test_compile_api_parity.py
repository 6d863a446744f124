"""The surface of ``chainrule.compile``, ``chainrule.compiler`` and ``chainrule._dynamo`` against
PyTorch's: what course code written for ``torch.compile`` sees (the wrapper's names, attributes,
state dicts, hooks, decorator forms, argument checks, the compiler controls).

Each test does the same thing with both libraries and compares. Torch-compiled functions are only
ever called with ``backend="eager"`` (dynamo traces, no C compiler is needed); wrapping alone is
lazy in torch, so argument checks compare ``torch.compile`` as course code would call it.
Where chainrule differed in a way course code would notice, it was made to match.
"""
import importlib
import inspect
import math
import warnings

import pytest
import torch

import chainrule

LIBRARIES = pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])


# ----------------------------------------------------------------- helpers
def compiled(lib, obj=None, **kwargs):
    """``lib.compile(obj, **kwargs)``; torch gets its eager backend (no compiler) unless one is given."""
    if lib is torch:
        kwargs.setdefault("backend", "eager")
    return lib.compile(**kwargs) if obj is None else lib.compile(obj, **kwargs)


def on_both(build):
    """``build(lib)`` for chainrule and for torch: ``(ours, theirs)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # chainrule's "runs eagerly" notes, torch's dynamo notes
        return build(chainrule), build(torch)


def dynamo(lib):
    return importlib.import_module(f"{lib.__name__}._dynamo")


def raised(call):
    """The exception ``call()`` raises, or None."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 (any is a result to compare)
        return error
    return None


def builtin_type(error):
    """The first built-in class among the error's bases (torch's InvalidBackend is a RuntimeError)."""
    return next(cls for cls in type(error).__mro__ if cls.__module__ == "builtins")


def assert_same_failure(build, gist):
    """``build(lib)`` raises for both libraries, an exception of torch's built-in kind, whose message
    contains ``gist``."""
    ours, theirs = on_both(lambda lib: raised(lambda: build(lib)))
    assert theirs is not None and gist in str(theirs), f"torch: {theirs!r}"  # the oracle, as probed
    assert isinstance(ours, builtin_type(theirs)), f"chainrule: {ours!r}, torch: {theirs!r}"
    assert gist in str(ours), f"chainrule: {ours!r}, torch: {theirs!r}"


def names(named):
    return [name for name, _ in named]


def sequential(lib):
    return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3), lib.nn.ReLU())


def net_class(lib):
    """A small model with a plain attribute and a replaceable head, as transfer-learning code has."""

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = lib.nn.Linear(4, 8)
            self.fc = lib.nn.Linear(8, 10)
            self.scale = 1.0

        def forward(self, x):
            return self.fc(self.body(x)) * self.scale

    return Net


@pytest.fixture(autouse=True)
def _clean_compile_state():
    """Each test starts and ends with no recordings, the default stance and default limits."""
    limits = {lib: dynamo(lib).config.cache_size_limit for lib in (chainrule, torch)}
    yield
    for lib in (chainrule, torch):
        lib.compiler.set_stance("default")
        dynamo(lib).config.cache_size_limit = limits[lib]
        lib.compiler.reset()


# ----------------------------------------------------------------- the compiled module
def test_a_compiled_module_is_an_optimized_module_holding_the_original():
    def build(lib):
        model = sequential(lib)
        wrapper = lib.compile(model)
        return (type(wrapper).__name__, isinstance(wrapper, lib.nn.Module), isinstance(wrapper, lib.nn.Sequential),
                wrapper._orig_mod is model, type(wrapper) is dynamo(lib).OptimizedModule)

    ours, theirs = on_both(build)
    assert ours == theirs == ("OptimizedModule", True, False, True, True)


def test_repr_shows_the_original_under_orig_mod():
    ours, theirs = on_both(lambda lib: repr(lib.compile(sequential(lib))))
    assert ours == theirs


def test_state_dict_and_names_are_prefixed_with_orig_mod():
    def build(lib):
        wrapper = lib.compile(sequential(lib))
        return {
            "state_dict": list(wrapper.state_dict()),
            "parameters": names(wrapper.named_parameters()),
            "buffers": names(wrapper.named_buffers()),
            "modules": names(wrapper.named_modules()),
            "children": names(wrapper.named_children()),
            "module types": [type(module).__name__ for module in wrapper.modules()],
            "original's state_dict": list(wrapper._orig_mod.state_dict()),
            "parameters count": len(list(wrapper.parameters())),
        }

    ours, theirs = on_both(build)
    assert ours == theirs


@pytest.mark.parametrize("source, target, strict", [
    ("compiled", "compiled", True),
    ("plain", "original", True),  # wrapper._orig_mod.load_state_dict(plain.state_dict())
    ("compiled", "plain", True),
    ("plain", "compiled", True),
    ("compiled", "plain", False),
    ("plain", "compiled", False),
])
def test_load_state_dict_between_compiled_and_plain_models(source, target, strict):
    def build(lib):
        plain, wrapper = sequential(lib), lib.compile(sequential(lib))
        state = {"compiled": lib.compile(sequential(lib)), "plain": sequential(lib)}[source].state_dict()
        receiver = {"compiled": wrapper, "plain": plain, "original": wrapper._orig_mod}[target]
        try:
            result = receiver.load_state_dict(state, strict=strict)
        except RuntimeError as error:
            first_line = str(error).splitlines()[0]
            return "RuntimeError", first_line.split(" for ")[1].split()[0].rstrip(":"), str(error).count('"')
        return "loaded", sorted(result.missing_keys), sorted(result.unexpected_keys)

    ours, theirs = on_both(build)
    assert ours == theirs


def test_train_and_eval_return_the_wrapper_and_reach_every_submodule():
    def build(lib):
        model = sequential(lib)
        wrapper = lib.compile(model)
        seen = [wrapper.eval() is wrapper, wrapper.training, model.training, model[1].training]
        seen += [wrapper.train() is wrapper, wrapper.training, model.training, model[1].training]
        seen += [wrapper.train(False) is wrapper, model.training, model[1].training]
        return seen

    ours, theirs = on_both(build)
    assert ours == theirs


def test_training_flag_mirrors_the_original():
    def build(lib):
        model = sequential(lib)
        wrapper = lib.compile(model)
        model.eval()
        after_original_eval = wrapper.training
        model.train()
        wrapper.training = False
        return after_original_eval, model.training

    ours, theirs = on_both(build)
    assert ours == theirs == (False, False)


def test_reading_an_attribute_reaches_the_original():
    def build(lib):
        model = net_class(lib)()
        wrapper = lib.compile(model)
        model.added_later = 7
        return (wrapper.scale, wrapper.added_later, wrapper.fc is model.fc, wrapper.body.weight is model.body.weight,
                wrapper.fc.out_features, wrapper.get_parameter("_orig_mod.body.weight") is model.body.weight)

    ours, theirs = on_both(build)
    assert ours == theirs


def test_a_missing_attribute_raises_attribute_error_naming_it():
    def build(lib):
        error = raised(lambda: lib.compile(lib.nn.Linear(2, 3)).no_such_attribute)
        return type(error), "'no_such_attribute'" in str(error)

    ours, theirs = on_both(build)
    assert ours == theirs == (AttributeError, True)


def test_setting_and_deleting_an_attribute_reaches_the_original():
    def build(lib):
        model = net_class(lib)()
        wrapper = compiled(lib, model)
        x = lib.ones(2, 4)
        wrapper(x)
        wrapper.scale = 0.0
        output = float(wrapper(x).abs().sum())
        wrapper.flag = True
        seen = (model.scale, output, getattr(model, "flag", None))
        del wrapper.flag
        return seen + (hasattr(model, "flag"),)

    ours, theirs = on_both(build)
    assert ours == theirs == (0.0, 0.0, True, False)


def test_replacing_a_submodule_through_the_wrapper_replaces_the_original():
    def build(lib):
        model = net_class(lib)()
        wrapper = compiled(lib, model)
        x = lib.ones(2, 4)
        wrapper(x)
        wrapper.fc = lib.nn.Linear(8, 3)
        return tuple(wrapper(x).shape), model.fc.out_features, sorted(wrapper.state_dict())

    ours, theirs = on_both(build)
    assert ours == theirs
    assert ours[:2] == ((2, 3), 3)


def test_len_forwards_to_a_container_but_indexing_and_iterating_do_not():
    def build(lib):
        wrapper = lib.compile(sequential(lib))
        return (len(wrapper),
                type(raised(lambda: wrapper[0])),
                type(raised(lambda: list(wrapper))),
                type(raised(lambda: len(lib.compile(lib.nn.Linear(2, 3))))))

    ours, theirs = on_both(build)
    assert ours == theirs == (3, TypeError, TypeError, TypeError)


def test_module_methods_chain_on_the_wrapper():
    def build(lib):
        model = net_class(lib)()
        wrapper = lib.compile(model)
        return (wrapper.double() is wrapper, wrapper.float() is wrapper, wrapper.to(lib.float64) is wrapper,
                str(model.body.weight.dtype).split(".")[1], wrapper.apply(lambda module: None) is wrapper,
                wrapper.requires_grad_(False) is wrapper, model.fc.weight.requires_grad, wrapper.zero_grad())

    ours, theirs = on_both(build)
    assert ours == theirs


def test_hooks_on_the_original_its_children_and_the_wrapper_fire_in_the_same_order():
    def build(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU())
        wrapper = compiled(lib, model)
        calls = []
        handles = [
            model.register_forward_pre_hook(lambda module, args: calls.append("original pre")),
            model.register_forward_hook(lambda module, args, output: calls.append("original")),
            model[0].register_forward_hook(lambda module, args, output: calls.append("child")),
        ]
        wrapper_handle = wrapper.register_forward_hook(lambda module, args, output: calls.append("wrapper"))
        x = lib.ones(4, 2)
        for _ in range(3):
            wrapper(x)
        for handle in handles:
            handle.remove()
        wrapper(x)
        wrapper_handle.remove()
        wrapper(x)
        return calls

    ours, theirs = on_both(build)
    assert ours == theirs


def test_module_compile_compiles_in_place():
    def build(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3))
        calls = []
        model.register_forward_hook(lambda module, args, output: calls.append("hook"))
        returned = model.compile(**({"backend": "eager"} if lib is torch else {}))
        shapes = [tuple(model(lib.ones(4, 2)).shape) for _ in range(2)]
        return (returned, type(model).__name__, list(model.state_dict()), repr(model).splitlines()[0], shapes, calls,
                lib.nn.Linear(2, 2).compile(mode="reduce-overhead", fullgraph=True, dynamic=False),
                type(raised(lambda: lib.nn.Linear(2, 2).compile(True))))

    ours, theirs = on_both(build)
    assert ours == theirs


def test_a_compiled_models_state_dict_saves_and_loads(tmp_path):
    def build(lib):
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save(lib.compile(net_class(lib)()).state_dict(), path)
        loaded = lib.load(path)
        into_compiled = lib.compile(net_class(lib)()).load_state_dict(loaded)
        into_plain = net_class(lib)().load_state_dict({key.removeprefix("_orig_mod."): value for key, value in loaded.items()})
        return type(loaded).__name__, list(loaded), str(into_compiled), str(into_plain)

    ours, theirs = on_both(build)
    assert ours == theirs


def _picklable_net(lib):
    """``net_class(lib)`` under a module-level name, so that pickle finds it (as a course's model class)."""
    cls = net_class(lib)
    cls.__name__ = cls.__qualname__ = f"PicklableNet_{lib.__name__}"
    cls.__module__ = __name__
    globals()[cls.__name__] = cls
    return cls


PICKLABLE_NETS = {lib: _picklable_net(lib) for lib in (chainrule, torch)}


def test_a_compiled_model_pickles_whole(tmp_path):
    def build(lib):
        path = tmp_path / f"{lib.__name__}-model.pt"
        lib.save(compiled(lib, PICKLABLE_NETS[lib]()), path)
        loaded = lib.load(path, weights_only=False)
        return (type(loaded).__name__, type(loaded._orig_mod).__name__.split("_")[0], list(loaded.state_dict()),
                tuple(loaded(lib.ones(2, 4)).shape))

    ours, theirs = on_both(build)
    assert ours == theirs


# ----------------------------------------------------------------- compiling functions
def function_to_compile(x, y=2):
    """Doc of the function."""
    return x * y


function_to_compile.custom_attribute = 42


def test_decorator_forms_all_give_a_working_function():
    def build(lib):
        extra = {"backend": "eager"} if lib is torch else {}

        @lib.compile(**extra)
        def plain(x):
            return x + 1

        @lib.compile(fullgraph=True, **extra)
        def full(x):
            return x * 2

        bare = compiled(lib)(function_to_compile)
        x = lib.ones(3)
        return (plain.__name__, full.__name__, bare.__name__, plain(x).tolist(), full(x).tolist(), bare(x, 3).tolist(),
                callable(lib.compile()))

    ours, theirs = on_both(build)
    assert ours == theirs


def test_bare_decorator_without_parentheses():
    # wrapping only: torch's default backend would need a compiler to call
    ours, theirs = on_both(lambda lib: lib.compile(function_to_compile).__name__)
    assert ours == theirs == "function_to_compile"


@pytest.mark.parametrize("attribute", [
    "__name__", "__doc__", "__wrapped__",
    pytest.param("__qualname__"),
    pytest.param("__module__"),
    pytest.param("custom_attribute"),
])
def test_the_compiled_function_carries_the_functions_attributes(attribute):
    ours, theirs = on_both(lambda lib: getattr(lib.compile(function_to_compile), attribute, "missing"))
    expected = function_to_compile if attribute == "__wrapped__" else getattr(function_to_compile, attribute)
    assert theirs == expected
    assert ours == theirs


def test_the_compiled_function_has_the_functions_signature():
    ours, theirs = on_both(lambda lib: str(inspect.signature(lib.compile(function_to_compile))))
    assert ours == theirs == "(x, y=2)"


def test_compile_has_torchs_parameters():
    ours = inspect.signature(chainrule.compile).parameters
    theirs = inspect.signature(torch.compile).parameters
    for name in ("model", "fullgraph", "dynamic", "backend", "mode", "options", "disable"):
        assert ours[name].kind == theirs[name].kind, name
        assert ours[name].default == theirs[name].default or name == "backend", name  # torch's is "inductor"


def test_disable_true_returns_the_function_itself():
    ours, theirs = on_both(lambda lib: (lib.compile(function_to_compile, disable=True) is function_to_compile,
                                        lib.compile(disable=True)(function_to_compile) is function_to_compile))
    assert ours == theirs == (True, True)


@pytest.mark.parametrize("arguments", [
    {"mode": "default"}, {"mode": "reduce-overhead"}, {"mode": "max-autotune"}, {"mode": "max-autotune-no-cudagraphs"},
    {"mode": None, "options": None}, {"backend": "eager"}, {"backend": "aot_eager"}, {"backend": "inductor"},
    {"backend": lambda graph_module, example_inputs: graph_module.forward}, {"options": {"trace.enabled": False}},
    {"dynamic": True}, {"dynamic": False}, {"dynamic": None}, {"fullgraph": True},
], ids=lambda arguments: ", ".join(f"{key}={'a callable' if callable(value) else repr(value)}" for key, value in arguments.items()))
def test_accepted_arguments(arguments):
    ours, theirs = on_both(lambda lib: callable(lib.compile(function_to_compile, **arguments)))
    assert ours == theirs == True  # noqa: E712


@pytest.mark.parametrize("arguments, gist", [
    pytest.param({"bogus_keyword": 1}, "unexpected keyword argument 'bogus_keyword'", id="unknown keyword"),
    pytest.param({"mode": "bogus"}, "Unrecognized mode=bogus", id="unknown mode"),
    pytest.param({"mode": "default", "options": {"a": 1}}, "Either mode or options can be specified",
                 id="mode and options"),
    pytest.param({"backend": "nonexistent_backend"}, "Invalid backend: 'nonexistent_backend'", id="unknown backend"),
])
def test_rejected_arguments(arguments, gist):
    assert_same_failure(lambda lib: lib.compile(function_to_compile, **arguments), gist)


def test_a_second_positional_argument_is_a_type_error():
    assert_same_failure(lambda lib: lib.compile(function_to_compile, True), "positional argument")


@pytest.mark.parametrize("not_callable", [5, "abc"])
def test_compiling_something_not_callable_fails_at_once(not_callable):
    assert_same_failure(lambda lib: lib.compile(not_callable), "A callable function is expected")


class Tripler:
    def add_one(self, x):
        """Doc of the method."""
        return x + 1

    def __call__(self, x):
        return x * 3


@pytest.mark.parametrize("what", ["bound method", "lambda", "callable instance", "builtin", "library function"])
def test_compiling_other_callables_gives_the_same_results(what):
    def build(lib):
        target = {
            "bound method": Tripler().add_one,
            "lambda": lambda x: x - 1,
            "callable instance": Tripler(),
            "builtin": math.sqrt,
            "library function": lib.nn.functional.relu,
        }[what]
        argument = 4.0 if what == "builtin" else lib.tensor([[-1.0, 2.0]])
        function = compiled(lib, target)
        result = [function(argument) for _ in range(2)]
        result = result if what == "builtin" else [value.tolist() for value in result]
        return result, getattr(function, "__name__", None) if what != "callable instance" else None

    ours, theirs = on_both(build)
    assert ours == theirs


def test_a_compiled_method_binds_to_each_instance():
    def build(lib):
        class Scaler:
            def __init__(self, factor):
                self.factor = factor

            @compiled(lib)
            def step(self, x):
                return x * self.factor

        x = lib.ones(2)
        return Scaler.step.__name__, Scaler(2).step(x).tolist(), Scaler(3).step(x).tolist(), Scaler(2).step(x).tolist()

    ours, theirs = on_both(build)
    assert ours == theirs


# ----------------------------------------------------------------- chainrule.compiler, chainrule._dynamo
COMPILER_NAMES = ["reset", "is_compiling", "is_dynamo_compiling", "is_exporting", "disable", "set_stance",
                  "allow_in_graph", "assume_constant_result", "list_backends", "substitute_in_graph"]
DYNAMO_NAMES = ["reset", "is_compiling", "disable", "allow_in_graph", "assume_constant_result", "list_backends",
                "mark_dynamic", "maybe_mark_dynamic", "mark_static", "config", "OptimizedModule", "optimize"]


@pytest.mark.parametrize("name", COMPILER_NAMES + [
    pytest.param("cudagraph_mark_step_begin"),
])
def test_compiler_has_torchs_functions_with_torchs_parameters(name):
    assert hasattr(torch.compiler, name)
    assert hasattr(chainrule.compiler, name)
    if callable(getattr(torch.compiler, name)):
        ours = list(inspect.signature(getattr(chainrule.compiler, name)).parameters)
        assert ours == list(inspect.signature(getattr(torch.compiler, name)).parameters)


@pytest.mark.parametrize("name", DYNAMO_NAMES + [
    pytest.param("explain"),
    pytest.param("graph_break"),
])
def test_dynamo_has_torchs_functions_with_torchs_parameters(name):
    assert hasattr(torch._dynamo, name)
    assert hasattr(chainrule._dynamo, name)
    if inspect.isfunction(getattr(torch._dynamo, name)):
        ours = list(inspect.signature(getattr(chainrule._dynamo, name)).parameters)
        theirs = inspect.signature(getattr(torch._dynamo, name)).parameters
        assert ours == [parameter for parameter in theirs if parameter != "wrapping"]  # torch's own flag for its wrappers


def test_dynamo_optimize_decorates_functions_and_modules_and_is_no_context_manager():
    def build(lib):
        def step(x):
            return (x * 2 + 1).sum()

        function = dynamo(lib).optimize("eager")(step)
        values = [function(lib.ones(3) * k).item() for k in range(3)]
        module = dynamo(lib).optimize("eager", nopython=True)(lib.nn.Linear(2, 2))
        disabled = dynamo(lib).optimize("eager", disable=True)(step)
        return values, type(module).__name__, hasattr(module, "_orig_mod"), disabled is step

    ours, theirs = on_both(build)
    assert ours == theirs
    assert_same_failure(lambda lib: dynamo(lib).optimize("no-such-backend"), "Invalid backend")

    def entered(lib):
        with dynamo(lib).optimize("eager"):
            pass

    assert_same_failure(entered, "used with a context manager")


def test_dynamo_optimize_nopython_refuses_what_must_run_eagerly():
    def build(lib):
        def step(x):
            if x.sum().item() > 0:  # a value deciding control flow
                return x * 2
            return x

        return raised(lambda: dynamo(lib).optimize("eager", nopython=True)(step)(lib.ones(2)))

    ours, theirs = on_both(build)
    assert theirs is not None  # torch: a UserError about the data-dependent branch
    assert type(ours).__name__ == "Unsupported" and "item" in str(ours)


def test_reset_returns_none():
    ours, theirs = on_both(lambda lib: (lib.compiler.reset(), dynamo(lib).reset()))
    assert ours == theirs == (None, None)


def test_is_compiling_inside_and_outside_a_compiled_function():
    def build(lib):
        def probe(x):
            return x + 1, lib.compiler.is_compiling(), lib.compiler.is_dynamo_compiling(), dynamo(lib).is_compiling()

        function = compiled(lib, probe)
        x = lib.ones(2)
        inside = [function(x)[1:] for _ in range(3)] + [function(lib.ones(3, 3))[1:]]
        with lib.compiler.set_stance("force_eager"):
            forced = function(x)[1:]
        return inside, probe(x)[1:], forced, lib.compiler.is_compiling(), lib.compiler.is_exporting()

    ours, theirs = on_both(build)
    assert ours == theirs


def test_disable_keeps_the_functions_name_and_runs_it_outside_the_compiled_region():
    def build(lib):
        def helper(x):
            """Doc of helper."""
            return x * 2, lib.compiler.is_compiling()

        disabled = lib.compiler.disable(helper)

        @lib.compiler.disable(recursive=False)
        def second(x):
            return x - 1

        with_reason = lib.compiler.disable(helper, reason="prints")

        def step(x):
            doubled, compiling_inside = disabled(x)
            return second(doubled) + 1, compiling_inside

        function = compiled(lib, step)
        x = lib.ones(2)
        runs = [(value.tolist(), inside) for value, inside in (function(x) for _ in range(3))]
        return (disabled.__name__, disabled.__doc__, disabled.__wrapped__ is helper, second.__name__,
                with_reason.__name__, runs)

    ours, theirs = on_both(build)
    assert ours == theirs


def test_set_stance_as_statement_context_manager_and_decorator():
    def build(lib):
        function = compiled(lib, lambda x: (x.sum() + 1, lib.compiler.is_compiling()), dynamic=False)
        x = lib.ones(2)
        lib.compiler.set_stance("force_eager")
        statement = function(x)[1]
        lib.compiler.set_stance("default")
        after = function(x)[1]

        @lib.compiler.set_stance("force_eager")
        def eager_step(x):
            return function(x)[1]

        decorated = eager_step(x), function(x)[1]
        with lib.compiler.set_stance("fail_on_recompile"):
            refused = raised(lambda: function(lib.ones(3)))
        with lib.compiler.set_stance("eager_on_recompile"):
            skipped = function(lib.ones(4))[0].item()
        return (statement, after, decorated, type(refused), "Detected recompile" in str(refused), skipped,
                type(lib.compiler.set_stance("default")).__name__)

    ours, theirs = on_both(build)
    assert ours == theirs


def test_allow_in_graph_returns_the_function_itself():
    ours, theirs = on_both(lambda lib: (lib.compiler.allow_in_graph(function_to_compile) is function_to_compile,
                                        dynamo(lib).allow_in_graph(function_to_compile) is function_to_compile,
                                        lib.compiler.assume_constant_result(function_to_compile) is function_to_compile))
    assert ours == theirs == (True, True, True)


def test_list_backends_is_a_list_of_names():
    ours, theirs = on_both(lambda lib: [type(lib.compiler.list_backends()), {type(name) for name in lib.compiler.list_backends()}])
    assert ours == theirs == [list, {str}]


@pytest.mark.parametrize("name", [
    "cache_size_limit", "recompile_limit", "suppress_errors", "verbose", "capture_scalar_outputs",
    "automatic_dynamic_shapes", "assume_static_by_default",
    pytest.param("accumulated_cache_size_limit"),
    pytest.param("optimize_ddp"),
])
def test_dynamo_config_settings_have_torchs_defaults_and_can_be_set(name):
    def build(lib):
        config = dynamo(lib).config
        default = getattr(config, name)
        setattr(config, name, default)
        return default

    ours, theirs = on_both(build)
    assert ours == theirs


def test_cache_size_limit_and_recompile_limit_are_one_setting():
    def build(lib):
        config = dynamo(lib).config
        config.cache_size_limit = 3
        first = (config.cache_size_limit, config.recompile_limit)
        config.recompile_limit = 5
        return first, (config.cache_size_limit, config.recompile_limit)

    ours, theirs = on_both(build)
    assert ours == theirs == ((3, 3), (5, 5))


def test_an_unknown_config_setting_raises_attribute_error():
    def build(lib):
        config = dynamo(lib).config
        return [(type(error), "does not exist" in str(error)) for error in
                (raised(lambda: config.no_such_setting), raised(lambda: setattr(config, "no_such_setting", 1)))]

    ours, theirs = on_both(build)
    assert ours == theirs == [(AttributeError, True)] * 2


def test_mark_dynamic_and_kin_accept_torchs_arguments():
    def build(lib):
        module = dynamo(lib)
        tensor = lib.ones(3, 4)
        return (module.mark_dynamic(tensor, 0), module.mark_dynamic(tensor, 1, min=2, max=8),
                module.maybe_mark_dynamic(tensor, 0), module.mark_static(tensor), module.mark_static(tensor, 1))

    ours, theirs = on_both(build)
    assert ours == theirs == (None,) * 5


def test_explain_shows_the_program_or_why_the_call_runs_eagerly():
    net = chainrule.nn.Linear(3, 2)

    def branching(x):
        y = net(x)
        return y * 2 if y.sum() > 0 else y

    recorded = chainrule._dynamo.explain(lambda x: net(x).tanh())(chainrule.randn(4, 3))
    assert (recorded.graph_count, recorded.graph_break_count, recorded.break_reasons) == (1, 0, [])
    assert "xp.tanh" in recorded.graphs[0] and recorded.op_count >= 3
    eager = chainrule._dynamo.explain(branching, chainrule.randn(4, 3))  # the older form calls at once
    assert (eager.graph_count, eager.graph_break_count) == (0, 1)
    assert "reads a tensor's value into Python" in eager.break_reasons[0] and "Graph Break Count: 1" in str(eager)
