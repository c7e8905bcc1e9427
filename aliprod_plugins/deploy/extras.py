"""Optional packages of the ``[deploy]`` extra, imported on use with a one-line hint."""
import importlib
from types import ModuleType

INSTALL_HINT = "pip install -e '.[deploy]'"


class MissingExtraError(ImportError):
    """An optional package is not installed; the message is one line naming the extra."""


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` saying how to install it.

    Args:
        module (str): Module name (``'onnx'``, ``'onnxruntime'``, ``'onnxscript'``,
            ``'tensorboard'``).
        purpose (str): What needs it, for the message (``'tools/export_onnx.py'``).

    Returns:
        ModuleType: The imported module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtraError(f'{purpose} needs the {module!r} package, which is not '
                                f'installed ({err}): {INSTALL_HINT}') from None
