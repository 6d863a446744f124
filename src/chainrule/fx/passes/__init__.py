"""``torch.fx.passes``: analyses run over a traced graph (``shape_prop.ShapeProp``)."""
