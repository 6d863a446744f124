"""Names third-party libraries read when they are imported (PyG's typing and utils modules): the
compressed sparse layouts, torch.__config__, torch.jit._overload; and the ones pyro, gpytorch,
fastai and Lightning stopped at (each compared with PyTorch's where it can run)."""
import importlib
import typing
import warnings

import pytest
import torch

import chainrule


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_compressed_sparse_layouts_are_named(lib):
    layouts = [lib.sparse_csr, lib.sparse_csc, lib.sparse_bsr, lib.sparse_bsc]
    assert len(set(map(id, layouts))) == 4 and all(isinstance(each, lib.layout) for each in layouts)
    assert lib.arange(3).layout != lib.sparse_csr and repr(lib.sparse_csr).endswith(".sparse_csr")


def test_no_compressed_sparse_tensor_is_made_silently_dense():
    for make in (chainrule.zeros, chainrule.empty):
        assert make(2, 3, layout=chainrule.sparse_csr).layout is chainrule.sparse_csr
    with pytest.raises(RuntimeError, match="no sparse_csr tensor filled"):
        chainrule.ones(2, 3, layout=chainrule.sparse_csr)
    with pytest.raises(RuntimeError, match="no sparse_bsc tensor filled"):
        chainrule.full((2,), 1.0, layout=chainrule.sparse_bsc)


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_config_reports_the_build_as_text(lib):
    shown = lib.__config__.show()
    assert isinstance(shown, str) and ("USE_MKL=ON" in shown) != ("USE_MKL=OFF" in shown)
    assert "get_num_threads() : " in lib.__config__.parallel_info()


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_jit_overload_declarations_return_the_declaration(lib):
    def scale(x: int) -> int: ...

    assert lib.jit._overload(scale) is scale and lib.jit._overload_method(scale) is scale


BOTH = pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])


@BOTH
def test_distribution_constraints_as_pyro_reads_them(lib):
    constraints = lib.distributions.constraints
    assert all(hasattr(constraints, name) for name in constraints.__all__) and "greater_than" in constraints.__all__
    assert type(constraints.positive)(lower_bound=0.5).lower_bound == 0.5  # pyro's subclasses call __init__ so
    assert constraints.less_than(upper_bound=2.0).upper_bound == 2.0 and constraints.greater_than_eq(lower_bound=1).lower_bound == 1
    assert constraints.integer_interval(lower_bound=0, upper_bound=3).check(lib.tensor([0, 4])).tolist() == [True, False]
    utils = importlib.import_module(f"{lib.__name__}.distributions.utils")
    assert utils._sum_rightmost(lib.ones(2, 3), 1).tolist() == [3.0, 3.0] and tuple(utils._standard_normal((2,), lib.float64, "cpu").shape) == (2,)


@BOTH
def test_a_distribution_subclass_expands_into_its_own_instance(lib):
    class Shifted(lib.distributions.Normal):
        def expand(self, batch_shape, _instance=None):
            new = self._get_checked_instance(Shifted, _instance)
            return super().expand(batch_shape, _instance=new)

    expanded = Shifted(lib.zeros(2), 1.0).expand((3, 2))
    assert type(expanded) is Shifted and tuple(expanded.batch_shape) == (3, 2) and tuple(expanded.loc.shape) == (3, 2)

    class OwnInit(lib.distributions.Normal):
        def __init__(self):
            super().__init__(0.0, 1.0)

    with pytest.raises(NotImplementedError, match="must also define a custom .expand"):
        OwnInit()._get_checked_instance(lib.distributions.Normal)


@BOTH
def test_a_transform_that_is_a_module_and_members_named_by_a_function(lib):
    class Flow(lib.distributions.Transform, lib.nn.Module):  # pyro's TransformModule
        __hash__ = lib.nn.Module.__hash__

    flow = Flow()
    flow.layer = lib.nn.Linear(1, 2)
    assert [name for name, _ in flow.named_parameters()] == ["layer.weight", "layer.bias"]
    named = flow._named_members(lambda module: module._parameters.items(), prefix="flow")
    assert [name for name, _ in named] == ["flow.layer.weight", "flow.layer.bias"]


@BOTH
def test_private_names_of_pyro_gpytorch_and_lightning(lib):
    assert lib._C._get_tracing_state() is None and lib._C._TensorMeta is type(lib.Tensor)
    assert issubclass(lib.jit.TracerWarning, Warning) and lib.ScriptModule is not None
    tensor = lib.ones(2)
    assert isinstance(tensor._cdata, int) and tensor._cdata == tensor._cdata and tensor._cdata != lib.ones(2)._cdata
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's note, once a process, that sparse invariants go unchecked)
        sparse = lib.sparse_coo_tensor(lib.tensor([[0, 1], [1, 0]]), lib.tensor([1.0, 2.0]), (2, 2))
    assert lib.dsmm(sparse, lib.ones(2, 2)).tolist() == [[1.0, 1.0], [2.0, 2.0]]
    assert "str" in str(importlib.import_module(f"{lib.__name__}.serialization").MAP_LOCATION)
    assert lib.cuda.get_rng_state_all() == [] and lib.cuda.set_rng_state_all([]) is None
    assert [state.value for state in importlib.import_module(f"{lib.__name__}.amp.grad_scaler").OptState] == [0, 1, 2]
    assert isinstance(lib.compile(lib.nn.Linear(2, 2)), lib._dynamo.eval_frame.OptimizedModule)


@BOTH
def test_names_transformers_reads_at_import(lib):
    """The private and device names transformers 5 reads when its modules load or a model is loaded."""
    from collections import OrderedDict, defaultdict, deque, namedtuple

    pytree = importlib.import_module(f"{lib.__name__}.utils._pytree")
    pair = namedtuple("pair", "first second")
    flattened = [pytree._dict_flatten_with_keys({"a": 1}), pytree._list_flatten_with_keys([1, 2]),
                 pytree._tuple_flatten_with_keys((1,)), pytree._ordereddict_flatten_with_keys(OrderedDict(a=1)),
                 pytree._defaultdict_flatten_with_keys(defaultdict(list, a=1)), pytree._deque_flatten_with_keys(deque([1], maxlen=3)),
                 pytree._namedtuple_flatten_with_keys(pair(1, 2))]
    assert repr(flattened) == (
        "[([(MappingKey(key='a'), 1)], ['a']), ([(SequenceKey(idx=0), 1), (SequenceKey(idx=1), 2)], None), "
        "([(SequenceKey(idx=0), 1)], None), ([(MappingKey(key='a'), 1)], ['a']), "
        "([(MappingKey(key='a'), 1)], [<class 'list'>, ['a']]), ([(SequenceKey(idx=0), 1)], 3), "
        "([(GetAttrKey(name='first'), 1), (GetAttrKey(name='second'), 2)], <class "
        "'tests.test_library_import_names.pair'>)]"
    )
    assert importlib.import_module(f"{lib.__name__}.nn.modules.module")._EXTRA_STATE_KEY_SUFFIX == "_extra_state"
    assert lib._dynamo.mark_static_address(lib.zeros(2)) is None
    with pytest.raises(TypeError, match="mark_static_address expects a tensor"):
        lib._dynamo.mark_static_address(3)
    transform = importlib.import_module(f"{lib.__name__}._dynamo._trace_wrapped_higher_order_op").TransformGetItemToIndex
    x = lib.arange(12.0).reshape(3, 4)
    with transform():  # integer and tensor indices gather, under vmap too (transformers' mask functions)
        assert lib.vmap(lambda i, j: x[i, j])(lib.tensor([0, 2]), lib.tensor([1, 3])).tolist() == [1.0, 11.0]
        assert lib.vmap(lambda i: x[i, 2])(lib.tensor([0, 2])).tolist() == [2.0, 10.0]
        assert x[lib.tensor(1), 2].tolist() == 6.0 and x[1:, 0].tolist() == [4.0, 8.0]
    assert (lib.xpu.is_available(), lib.xpu.device_count(), lib.xpu.is_initialized(), lib.xpu.memory_allocated()) == (False, 0, False, 0)
    assert lib.xpu.manual_seed(0) is None and lib.xpu.empty_cache() is None and lib.xpu.get_rng_state_all() == []
    with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
        lib.xpu.current_device()
    assert lib.jit.script_if_tracing(lambda x: x + 1)(1) == 2 and "script_if_tracing" in lib.jit.__all__  # (ViTDet)
    assert isinstance(lib._C.Graph, type)  # SEW-D annotates an ONNX symbolic with Graph and Value
    for part in (lib._C.Value, lib._C.Node):
        with pytest.raises(TypeError, match="No constructor defined"):
            part()


@BOTH
def test_parse_to_reads_tensor_to_arguments(lib):
    parse = lib._C._nn._parse_to
    cpu = lib.device("cpu")
    assert parse(device=None) == (None, None, False, None) and parse("cpu") == (cpu, None, False, None)
    assert parse(lib.float64) == (None, lib.float64, False, None) and parse("cpu", lib.float16, True) == (cpu, lib.float16, True, None)
    assert parse(lib.ones(2, dtype=lib.int32)) == (cpu, lib.int32, False, None)
    assert parse(memory_format=lib.channels_last) == (None, None, False, lib.channels_last)


@BOTH
def test_flattening_dense_tensors_as_fastai_and_apex_do(lib):
    utils = importlib.import_module(f"{lib.__name__}._utils")
    a, b = lib.ones(2, 3), lib.arange(4.0).reshape(2, 2).t()
    flat = utils._flatten_dense_tensors([a, b])
    assert flat.tolist() == [1.0] * 6 + [0.0, 2.0, 1.0, 3.0]
    unpacked = utils._unflatten_dense_tensors(flat, [a, b])
    assert type(unpacked) is tuple and unpacked[1].tolist() == b.tolist() and unpacked[1]._base is flat
    alone = utils._flatten_dense_tensors([a])
    assert tuple(alone.shape) == (6,) and alone.data_ptr() == a.data_ptr()


@BOTH
def test_a_method_another_library_set_on_tensor_is_not_handed_to_torch_function(lib):
    """fastai patches Tensor.set_meta before its TensorBase subclass exists; PyTorch never hands
    such a method to ``__torch_function__`` (chainrule did, once a subclass armed the methods, and
    two sibling subclasses then failed to dispatch it)."""
    seen = []

    def tag(self, other):
        return "plain call"

    lib.Tensor.tag = tag
    try:
        class Base(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                seen.append(getattr(func, "__name__", ""))
                return super().__torch_function__(func, types, args, kwargs or {})

        class Left(Base):
            pass

        class Right(Base):
            pass

        left, right = lib.ones(2).as_subclass(Left), lib.ones(2).as_subclass(Right)
        assert left.tag(right) == "plain call" and "tag" not in seen
        assert type(left.add(1)) is Left and "add" in seen
    finally:
        del lib.Tensor.tag


def test_fx_graph_module_is_named_and_a_module():
    assert not isinstance(chainrule.nn.Linear(1, 1), chainrule.fx.GraphModule)
    assert issubclass(chainrule.fx.GraphModule, chainrule.nn.Module)


def test_a_compiled_module_compiles_functions_as_it_was_compiled():
    compiled = chainrule.compile(chainrule.nn.Linear(2, 2), fullgraph=True)
    doubled = compiled.dynamo_ctx(lambda x: x * 2)
    assert doubled.fullgraph is True and doubled(chainrule.ones(2)).tolist() == [2.0, 2.0]


@BOTH
def test_a_list_given_as_a_products_operand_is_refused_in_pytorchs_words(lib):
    with pytest.raises(TypeError) as refused:
        lib.nn.functional.linear([1.0, 2.0], lib.ones(2, 2))
    assert str(refused.value) == "linear(): argument 'input' (position 1) must be Tensor, not list"


# ----------------------------------------------------------------------------- kornia, diffusers and MONAI at import
PYTORCH_DTYPES_WITHOUT_ARRAYS = [
    "bfloat16", "complex32", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu",
    "float4_e2m1fn_x2", "bit", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16", "qint8", "quint8", "qint32", "quint4x2",
    "quint2x4", *(f"{sign}int{bits}" for sign in ("", "u") for bits in range(1, 8)),
]


@pytest.mark.parametrize("name", PYTORCH_DTYPES_WITHOUT_ARRAYS)
def test_dtypes_numpy_lacks_are_named_and_described_as_pytorchs(name):
    """diffusers names ``torch.float8_e4m3fn`` as a default argument of every model class."""
    import pickle

    ours, theirs = getattr(chainrule, name), getattr(torch, name)
    assert repr(ours).rpartition(".")[2] == repr(theirs).rpartition(".")[2] and ours.itemsize == theirs.itemsize
    assert (ours.is_floating_point, ours.is_complex) == (theirs.is_floating_point, theirs.is_complex)
    try:
        signed = theirs.is_signed
    except RuntimeError:
        with pytest.raises(RuntimeError):
            ours.is_signed
    else:
        assert ours.is_signed == signed
    for info in ("finfo", "iinfo"):
        try:
            limits = getattr(torch, info)(theirs)
            expected = {key: getattr(limits, key) for key in ("bits", "min", "max", "eps", "smallest_normal", "tiny", "resolution") if hasattr(limits, key)}
            if name[0] != "q":  # PyTorch's iinfo of a quantized dtype cannot name it
                expected["dtype"] = limits.dtype
        except (TypeError, NotImplementedError) as error:
            expected = type(error)
        try:
            got = getattr(chainrule, info)(ours)
            got = {key: getattr(got, key) for key in expected} if isinstance(expected, dict) else got
        except (TypeError, NotImplementedError) as error:
            got = type(error)
        if name != "float4_e2m1fn_x2":  # PyTorch makes its finfo, whose attributes then raise
            assert got == expected, info
    assert pickle.loads(pickle.dumps(ours)) is ours and ours == ours and ours != chainrule.float32
    if name not in ("bfloat16", "complex32"):
        with pytest.raises(TypeError, match=f"{repr(ours).rpartition('.')[2]} is not supported"):
            chainrule.zeros(2, dtype=ours)


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_symbolic_size_helpers_answer_for_plain_numbers_as_pytorchs(lib):
    assert not isinstance(3, (lib.SymInt, lib.SymFloat, lib.SymBool))
    assert (lib.sym_max(2, 3), lib.sym_max(2, 3.0), lib.sym_min(4, 3), lib.sym_sum([1, 2, 3]), lib.sym_sum(1, 2)) == (3, 3.0, 3, 6, 3)
    assert type(lib.sym_max(2, 3.0)) is float and lib.sym_int(2.7) == 2 and lib.sym_float(2) == 2.0 and lib.sym_not(True) is False
    assert lib.sym_ite(True, 1, 2) == 1 and lib.sym_sqrt(4) == 2.0
    with pytest.raises(AssertionError):
        lib.sym_max("a", 1)
    from importlib import import_module

    shapes = import_module(f"{lib.__name__}.fx.experimental.symbolic_shapes")
    assert shapes.guard_or_false(2 == 2) and shapes.statically_known_true(True) and shapes.is_concrete_int(3)
    assert shapes.sym_eq([1, 2], (1, 2)) and not shapes.sym_eq([1], [1, 2])
    assert import_module(f"{lib.__name__}.fx.experimental.proxy_tensor").get_proxy_mode() is None
    assert import_module(f"{lib.__name__}._subclasses.fake_tensor").is_fake(lib.ones(1)) is False
    assert lib._shape_as_tensor(lib.ones(2, 3)).tolist() == [2, 3] and lib._shape_as_tensor(lib.ones(2, 3)).dtype == lib.int64


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_check_raises_the_error_type_with_the_message_as_pytorchs(lib):
    lib._check(True, lambda: "never computed")
    for check, error in ((lib._check, RuntimeError), (lib._check_index, IndexError), (lib._check_value, ValueError),
                         (lib._check_type, TypeError), (lib._check_not_implemented, NotImplementedError)):
        with pytest.raises(error, match="^n must be positive, got -1$"):
            check(False, lambda: "n must be positive, got -1")
    with pytest.raises(RuntimeError, match="Expected cond to be True, but got False"):
        lib._check(1 > 2)
    with pytest.raises(TypeError, match="cond must be a bool, but got a Tensor"):
        lib._check(lib.tensor(True))
    with pytest.raises(RuntimeError), pytest.warns(FutureWarning, match="_check_is_size will be removed"):
        lib._check_is_size(5, max=4)
    with pytest.raises(ValueError, match="all"):
        lib._check_tensor_all_with(ValueError, lib.tensor([True, False]), lambda: "all")


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_cpu_streams_and_events_as_pytorchs(lib):
    stream, event = lib.Stream(), lib.Event(enable_timing=True)
    assert stream == lib.Stream() and stream.query() and stream.synchronize() is None and stream.device == lib.device("cpu")
    assert (stream.device_index, stream.stream_id, event.query(), event.event_id) == (-1, 0, True, 0)
    for refused in (stream.record_event, event.record, lambda: stream.wait_stream(lib.Stream())):
        with pytest.raises(RuntimeError, match="cpu backend doesn't support events"):
            refused()
    with pytest.raises(ValueError, match="enable_timing=True"):
        lib.Event().elapsed_time(event)
    with pytest.raises(RuntimeError, match="not linked with support for cuda devices"):
        lib.Stream("cuda")


def test_backend_settings_kornia_and_monai_read():
    with chainrule.backends.__allow_nonbracketed_mutation():
        chainrule.backends.cudnn.deterministic = chainrule.backends.cudnn.deterministic
    assert not chainrule.backends.flags_frozen()
    for lib in (torch, chainrule):  # as PyTorch's CPU build answers: libraries choose their paths by these
        backends = lib.backends
        assert (backends.mkldnn.is_available(), backends.mkl.is_available(), backends.openmp.is_available()) == (True, True, True)
        assert (backends.opt_einsum.is_available(), backends.opt_einsum.enabled, backends.opt_einsum.get_opt_einsum()) == (False, False, None)
        assert backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")
    assert chainrule.backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()
    with chainrule.backends.mkldnn.flags(enabled=False):
        assert chainrule.backends.mkldnn.enabled is False
    assert chainrule.backends.mkldnn.enabled is torch.backends.mkldnn.enabled is True
    for lib in (torch, chainrule):
        assert lib._C._are_functorch_transforms_active() is False
        assert lib.func.vmap(lambda x: x * lib._C._are_functorch_transforms_active())(lib.ones(2)).tolist() == [1.0, 1.0]
        assert lib._C._functorch.is_legacy_batchedtensor(lib.ones(1)) is False


def test_collate_and_meshgrid_names_monai_reads():
    from torch.utils.data._utils.collate import np_str_obj_array_pattern as theirs

    from chainrule.utils.data._utils.collate import np_str_obj_array_pattern as ours

    assert ours.pattern == theirs.pattern
    assert chainrule.meshgrid.__kwdefaults__ == torch.meshgrid.__kwdefaults__ == {"indexing": None}


@BOTH
def test_names_timm_and_pyg_import_from_hub_jit_rpc_and_tensor_str(lib):
    """timm's _hub (torch.hub.urlparse), densenet (torch.jit.annotations.List), torchvision's datasets
    (torch.utils.model_zoo.tqdm), PyG's io.off (torch._tensor_str) and distributed.rpc (rpc.api's
    guard, applied when the module is imported)."""
    hub = importlib.import_module(f"{lib.__name__}.hub")
    assert hub.urlparse("https://host/path/file.pth").path == "/path/file.pth"
    assert importlib.import_module(f"{lib.__name__}.utils.model_zoo").tqdm is hub.tqdm
    annotations = importlib.import_module(f"{lib.__name__}.jit.annotations")
    assert annotations.List is typing.List and annotations.Optional is typing.Optional
    tensor_str = importlib.import_module(f"{lib.__name__}._tensor_str")
    assert tensor_str._tensor_str(lib.tensor([[1.0, 2.0], [3.0, 4.5]]), 0) == "[[1.0000, 2.0000],\n [3.0000, 4.5000]]"
    assert tensor_str._tensor_str(lib.tensor([[1, 2], [3, 4]]), 4) == "[[1, 2],\n     [3, 4]]"
    assert tensor_str._tensor_str(lib.tensor([]), 0) == "[]"
    assert tensor_str._str(lib.tensor([1.0]), tensor_contents="X") == "tensor(X)"
    assert (tensor_str.PRINT_OPTS.precision, tensor_str.PRINT_OPTS.threshold, tensor_str.PRINT_OPTS.linewidth) == (4, 1000, 80)

    def remote_call(value):
        return value

    guarded = importlib.import_module(f"{lib.__name__}.distributed.rpc.api")._require_initialized(remote_call)
    assert guarded.__name__ == "remote_call"
    with pytest.raises(RuntimeError, match="RPC has not been initialized"):
        guarded(1)


@BOTH
def test_load_library_raises_oserror_for_a_library_it_cannot_load(lib, tmp_path):
    """torchvision and pyg-lib load their compiled operators in a try that catches OSError; chainrule
    never loads one (its operators are libtorch's), so it always raises that."""
    not_a_library = tmp_path / "libops.so"
    not_a_library.write_bytes(b"not an ELF file")
    with pytest.raises(OSError, match="Could not load this library"):
        lib.ops.load_library(str(not_a_library))
    with pytest.raises(OSError, match="Could not load this library: .*chainrule cannot load"):
        chainrule.ops.load_library(torch._C.__file__)  # a real one, built against libtorch
