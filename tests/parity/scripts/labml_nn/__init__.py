# labml.ai's labml_nn package (https://github.com/labmlai/annotated_deep_learning_paper_implementations), the parts the labml_* scripts share.
