"""``torch.fx.passes``: analyses and rewrites run over a traced graph (``shape_prop.ShapeProp``,
``split_module.split_module``)."""
