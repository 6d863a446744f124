"""chainrule's operations, one family per file; each is a Function with forward and backward side by side."""
