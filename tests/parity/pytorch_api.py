"""PyTorch's public names, by group, as its reference documentation lists them.

Sources (PyTorch main, read 2026-12): issue 10's module-level list, ``docs/source/torch.md`` (the
sections named below),
``docs/source/tensors.md`` (Tensor class reference), ``docs/source/nn.functional.md``; the nn modules
are read from the installed ``torch.nn.modules.__all__``. Names the installed torch lacks are
dropped by the test, so the lists may run ahead of the oracle's version.
"""

TOP_LEVEL = {
    "module level (issue 10's list and the basics every course uses)": """
        pi e inf nan FloatTensor DoubleTensor LongTensor IntTensor BoolTensor accelerator backends testing
        set_default_device get_default_device set_default_dtype get_default_dtype set_printoptions
        is_tensor is_floating_point numel finfo iinfo allclose isclose equal Tensor Size Generator
        device cuda no_grad enable_grad set_grad_enabled inference_mode is_grad_enabled save load
        float16 float32 float64 int8 int16 int32 int64 uint8 bool half float double short int long
    """,
    "tensors": """
        is_tensor is_storage is_complex is_conj is_floating_point is_nonzero set_default_dtype
        get_default_dtype set_default_device get_default_device set_default_tensor_type numel
        set_printoptions set_flush_denormal
    """,
    "creation": """
        tensor sparse_coo_tensor sparse_csr_tensor sparse_csc_tensor sparse_bsr_tensor sparse_bsc_tensor
        asarray as_tensor as_strided from_file from_numpy from_dlpack frombuffer zeros zeros_like ones
        ones_like arange range linspace logspace eye empty empty_like empty_strided full full_like
        quantize_per_tensor quantize_per_channel dequantize complex polar heaviside
    """,
    "indexing, slicing, joining, mutating": """
        adjoint argwhere cat concat concatenate conj chunk dsplit column_stack dstack gather hsplit
        hstack index_add index_copy index_reduce index_select masked_select movedim moveaxis narrow
        narrow_copy nonzero permute reshape row_stack select scatter diagonal_scatter select_scatter
        slice_scatter scatter_add scatter_reduce split squeeze stack swapaxes swapdims t take
        take_along_dim tensor_split tile transpose unbind unravel_index unsqueeze vsplit vstack where
    """,
    "random sampling": """
        seed manual_seed initial_seed get_rng_state set_rng_state bernoulli multinomial normal poisson
        rand rand_like randint randint_like randn randn_like randperm
    """,
    "pointwise": """
        abs absolute acos arccos acosh arccosh add addcdiv addcmul angle asin arcsin asinh arcsinh atan
        arctan atanh arctanh atan2 arctan2 bitwise_not bitwise_and bitwise_or bitwise_xor
        bitwise_left_shift bitwise_right_shift ceil clamp clip conj_physical copysign cos cosh deg2rad
        div divide digamma erf erfc erfinv exp exp2 expm1 fake_quantize_per_channel_affine
        fake_quantize_per_tensor_affine fix float_power floor floor_divide fmod frac frexp gradient imag
        ldexp lerp lgamma log log10 log1p log2 logaddexp logaddexp2 logical_and logical_not logical_or
        logical_xor logit hypot i0 igamma igammac mul multiply mvlgamma nan_to_num neg negative
        nextafter polygamma positive pow quantized_batch_norm quantized_max_pool1d quantized_max_pool2d
        rad2deg real reciprocal remainder round rsqrt sigmoid sign sgn signbit sin sinc sinh softmax
        sqrt square sub subtract tan tanh true_divide trunc xlogy
    """,
    "reduction": """
        argmax argmin amax amin aminmax all any max min dist logsumexp mean nanmean median nanmedian mode
        norm nansum prod quantile nanquantile std std_mean sum unique unique_consecutive var var_mean
        count_nonzero
    """,
    "comparison": """
        allclose argsort eq equal ge greater_equal gt greater isclose isfinite isin isinf isposinf
        isneginf isnan isreal kthvalue le less_equal lt less maximum minimum fmax fmin ne not_equal sort
        topk msort
    """,
    "other": """
        atleast_1d atleast_2d atleast_3d bincount block_diag broadcast_tensors broadcast_to
        broadcast_shapes bucketize cartesian_prod cdist clone combinations corrcoef cov cross cummax
        cummin cumprod cumsum diag diag_embed diagflat diagonal diff einsum flatten flip fliplr flipud
        kron rot90 gcd histc histogram histogramdd meshgrid lcm logcumsumexp ravel renorm
        repeat_interleave roll searchsorted tensordot trace tril tril_indices triu triu_indices
        unflatten vander view_as_real view_as_complex resolve_conj resolve_neg
    """,
    "blas and lapack": """
        addbmm addmm addmv addr baddbmm bmm chain_matmul cholesky cholesky_inverse cholesky_solve dot
        geqrf ger inner inverse det logdet slogdet lu lu_solve lu_unpack matmul matrix_power matrix_exp
        mm mv orgqr ormqr outer pinverse qr svd svd_lowrank pca_lowrank lobpcg trapz trapezoid
        cumulative_trapezoid triangular_solve vdot
    """,
    "utilities": """
        compiled_with_cxx11_abi result_type can_cast promote_types use_deterministic_algorithms
        are_deterministic_algorithms_enabled is_deterministic_algorithms_warn_only_enabled
        set_deterministic_debug_mode get_deterministic_debug_mode set_float32_matmul_precision
        get_float32_matmul_precision set_warn_always get_device_module is_warn_always_enabled vmap
    """,
    "parallelism": """
        get_num_threads set_num_threads get_num_interop_threads set_num_interop_threads
    """,
}

TENSOR_METHODS = """
    new_tensor new_full new_empty new_ones new_zeros is_cuda is_quantized is_meta device grad ndim real
    imag nbytes itemsize abs abs_ absolute absolute_ acos acos_ arccos arccos_ add add_ addbmm addbmm_
    addcdiv addcdiv_ addcmul addcmul_ addmm addmm_ sspaddmm addmv addmv_ addr addr_ adjoint allclose
    amax amin aminmax angle apply_ argmax argmin argsort argwhere asin asin_ arcsin arcsin_ as_strided
    atan atan_ arctan arctan_ atan2 atan2_ arctan2 arctan2_ all any backward baddbmm baddbmm_ bernoulli
    bernoulli_ bfloat16 bincount bitwise_not bitwise_not_ bitwise_and bitwise_and_ bitwise_or
    bitwise_or_ bitwise_xor bitwise_xor_ bitwise_left_shift bitwise_left_shift_ bitwise_right_shift
    bitwise_right_shift_ bmm bool byte broadcast_to cauchy_ ceil ceil_ char cholesky cholesky_inverse
    cholesky_solve chunk clamp clamp_ clip clip_ clone contiguous copy_ conj conj_physical
    conj_physical_ resolve_conj resolve_neg copysign copysign_ cos cos_ cosh cosh_ corrcoef
    count_nonzero cov acosh acosh_ arccosh arccosh_ cpu cross cuda logcumsumexp cummax cummin cumprod
    cumprod_ cumsum cumsum_ chalf cfloat cdouble const_data_ptr data_ptr deg2rad dequantize det
    dense_dim detach detach_ diag diag_embed diagflat diagonal diagonal_scatter fill_diagonal_ fmax fmin
    diff digamma digamma_ dim dim_order dist div div_ divide divide_ dot double dsplit element_size eq
    eq_ equal erf erf_ erfc erfc_ erfinv erfinv_ exp exp_ expm1 expm1_ expand expand_as exponential_ fix
    fix_ fill_ flatten flip fliplr flipud float float_power float_power_ floor floor_ floor_divide
    floor_divide_ fmod fmod_ frac frac_ frexp gather gcd gcd_ ge ge_ greater_equal greater_equal_
    geometric_ geqrf ger get_device gt gt_ greater greater_ half hardshrink heaviside histc histogram
    hsplit hypot hypot_ i0 i0_ igamma igamma_ igammac igammac_ index_add_ index_add index_copy_
    index_copy index_fill_ index_fill index_put_ index_put index_reduce_ index_reduce index_select
    indices inner int int_repr inverse isclose isfinite isinf isposinf isneginf isnan is_contiguous
    is_complex is_conj is_floating_point is_inference is_leaf is_pinned is_set_to is_shared is_signed
    is_sparse istft isreal item kthvalue lcm lcm_ ldexp ldexp_ le le_ less_equal less_equal_ lerp lerp_
    lgamma lgamma_ log log_ logdet log10 log10_ log1p log1p_ log2 log2_ log_normal_ logaddexp
    logaddexp2 logsumexp logical_and logical_and_ logical_not logical_not_ logical_or logical_or_
    logical_xor logical_xor_ logit logit_ long lt lt_ less less_ lu lu_solve as_subclass map_
    masked_scatter_ masked_scatter masked_fill_ masked_fill masked_select matmul matrix_power
    matrix_exp max maximum mean module_load nanmean median nanmedian min minimum mm smm mode movedim
    moveaxis msort mul mul_ multiply multiply_ multinomial mv mvlgamma mvlgamma_ nansum narrow
    narrow_copy ndimension nan_to_num nan_to_num_ ne ne_ not_equal not_equal_ neg neg_ negative
    negative_ nelement nextafter nextafter_ nonzero nonzero_static norm normal_ numel numpy orgqr ormqr
    outer permute pin_memory pinverse polygamma polygamma_ positive pow pow_ prod put_ qr qscheme
    quantile nanquantile q_scale q_zero_point q_per_channel_scales q_per_channel_zero_points
    q_per_channel_axis rad2deg random_ ravel reciprocal reciprocal_ record_stream register_hook
    register_post_accumulate_grad_hook remainder remainder_ renorm renorm_ repeat repeat_interleave
    requires_grad requires_grad_ reshape reshape_as resize_ resize_as_ retain_grad retains_grad roll
    rot90 round round_ rsqrt rsqrt_ scatter scatter_ scatter_add_ scatter_add scatter_reduce_
    scatter_reduce select select_scatter set_ share_memory_ short sigmoid sigmoid_ sign sign_ signbit
    sgn sgn_ sin sin_ sinc sinc_ sinh sinh_ asinh asinh_ arcsinh arcsinh_ shape size slogdet
    slice_scatter softmax sort split sparse_mask sparse_dim sqrt sqrt_ square square_ squeeze squeeze_
    std stft storage untyped_storage storage_offset storage_type stride sub sub_ subtract subtract_ sum
    sum_to_size svd swapaxes swapdims t t_ tensor_split tile to to_mkldnn take take_along_dim tan tan_
    tanh tanh_ atanh atanh_ arctanh arctanh_ tolist topk to_dense to_sparse to_sparse_csr to_sparse_csc
    to_sparse_bsr to_sparse_bsc trace transpose transpose_ triangular_solve tril tril_ triu triu_
    true_divide true_divide_ trunc trunc_ type type_as unbind unflatten unfold uniform_ unique
    unique_consecutive unsqueeze unsqueeze_ values var vdot view view_as vsplit where xlogy xlogy_ xpu
    zero_ T H mT mH
"""

NN_FUNCTIONAL = """
    conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d unfold fold avg_pool1d
    avg_pool2d avg_pool3d max_pool1d max_pool2d max_pool3d max_unpool1d max_unpool2d max_unpool3d
    lp_pool1d lp_pool2d lp_pool3d adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d
    adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d fractional_max_pool2d
    fractional_max_pool3d scaled_dot_product_attention threshold threshold_ relu relu_ hardtanh
    hardtanh_ hardswish relu6 elu elu_ selu celu leaky_relu leaky_relu_ prelu rrelu rrelu_ glu gelu
    logsigmoid hardshrink tanhshrink softsign softplus softmin softmax softshrink gumbel_softmax
    log_softmax tanh sigmoid hardsigmoid silu mish batch_norm group_norm instance_norm layer_norm
    local_response_norm rms_norm normalize linear bilinear dropout alpha_dropout feature_alpha_dropout
    dropout1d dropout2d dropout3d embedding embedding_bag one_hot pairwise_distance cosine_similarity
    pdist binary_cross_entropy binary_cross_entropy_with_logits poisson_nll_loss cosine_embedding_loss
    cross_entropy ctc_loss gaussian_nll_loss hinge_embedding_loss kl_div l1_loss mse_loss
    margin_ranking_loss multilabel_margin_loss multilabel_soft_margin_loss multi_margin_loss nll_loss
    huber_loss smooth_l1_loss soft_margin_loss triplet_margin_loss triplet_margin_with_distance_loss
    pixel_shuffle pixel_unshuffle pad interpolate upsample upsample_nearest upsample_bilinear
    grid_sample affine_grid
"""
