"""Names from a spec made safe as Python identifiers in generated code.

A spec may call a node `class`, `len`, `training` or `self`; generated code must neither break
nor change meaning. Such names get a trailing underscore, the same way everywhere.
"""

from __future__ import annotations

import builtins
import functools
import keyword
import re

# Public attributes of torch.nn.Module (torch 2.13); tests/test_names.py keeps this list current.
MODULE_ATTRIBUTES = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children
    named_modules named_parameters parameters register_backward_hook register_buffer
    register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter
    register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
    set_submodule share_memory state_dict to to_empty train training type xpu zero_grad""".split()
)
_TAKEN = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


@functools.lru_cache(maxsize=1)
def program_names() -> frozenset[str]:
    """What a generated program defines or imports at its top (derived from the library and the
    template): a spec's model, block and input names must not take them."""
    from nnspec.compiler.codegen.linker import defined_names
    from nnspec.compiler.codegen.program import EXTRA_IMPORTS, TEMPLATE_NAMES

    return defined_names() | TEMPLATE_NAMES | frozenset(EXTRA_IMPORTS) | {"self"}


_DUNDER = re.compile(r"n*__")  # `__x` (Python mangles it in a class) and the names `n__x` it becomes


def safe_variable(name: str) -> str:
    """A local variable, function parameter or class name that cannot clash.

    One-to-one, so distinct spec names stay distinct (`class` and `class_`): a name that is taken,
    ends with `_` or starts with `__` gets a trailing `_`, and one starting with `__` (or `n__`,
    `nn__` ...) also a leading `n`. Every other name is kept as it is."""
    dunder = _DUNDER.match(name) is not None
    if not (dunder or name in _TAKEN or name in program_names() or name.endswith("_")):
        return name
    return ("n" + name if dunder else name) + "_"


def safe_attribute(name: str) -> str:
    """A module attribute (and state_dict prefix) that cannot clash with nn.Module's own."""
    if name.startswith("_"):  # nn.Module keeps its internals in _parameters, _modules ...
        name = "n" + name
    while name in _TAKEN or name in MODULE_ATTRIBUTES:
        name += "_"
    return name


def stored_attribute(parameter: str) -> str:
    """Where a block class keeps a constructor parameter its forward reads (a Concat dim ...):
    never nn.Module's own attribute (`train`, `modules`) nor a layer's (those never start with `_`)."""
    return f"_arg_{parameter}"
