"""``torch.func.stack_module_state``: the parameters and buffers of several same-shaped models,
stacked along a new first dimension, for ``vmap`` over ``functional_call`` (model ensembling)."""
from chainrule.ops.join import stack


def stack_module_state(models):
    """``(params, buffers)``: dicts from each name to the models' tensors stacked (model first).

    The stacked parameters are new leaves (requiring grad as the models' do: they must agree), not
    views of the models' own tensors.
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(model.training for model in models) or not any(model.training for model in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first_type = type(models[0])
    if not all(type(model) is first_type for model in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    parameter_lists = [dict(model.named_parameters()) for model in models]
    buffer_lists = [dict(model.named_buffers()) for model in models]
    for name, parameter in parameter_lists[0].items():
        if any(parameters[name].requires_grad != parameter.requires_grad for parameters in parameter_lists):
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    params = {
        name: stack([parameters[name].detach() for parameters in parameter_lists]).requires_grad_(parameter.requires_grad)
        for name, parameter in parameter_lists[0].items()
    }
    buffers = {name: stack([buffers[name] for buffers in buffer_lists]) for name in buffer_lists[0]}
    return params, buffers
