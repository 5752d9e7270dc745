"""What both pyfunc wrappers share: one Candor model, read from one artifact folder at load
time, and taken back out of a loaded pyfunc model by serving (which calls its fast path)."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from mlflow.pyfunc import PyFuncModel, PythonModel

ModelT = TypeVar("ModelT")

# the keys of a logged model's ``model_config``: where its results say they come from (the
# registered version is assigned after the model's files are written, so it is not among them)
CONFIG_NAME, CONFIG_RUN_ID = "registered_name", "run_id"


class ArtifactModel(PythonModel, Generic[ModelT]):
    """A pyfunc wrapper of the model that ``read`` loads from the ``ARTIFACT`` folder; each
    subclass writes its own ``predict`` (MLflow wraps the one a class defines)."""

    ARTIFACT: ClassVar[str]
    model: ModelT

    @staticmethod
    def read(directory: str) -> Any:
        raise NotImplementedError

    def load_context(self, context: Any) -> None:
        self.model = self.read(context.artifacts[self.ARTIFACT])


WrapperT = TypeVar("WrapperT", bound=ArtifactModel[Any])


def unwrap(model: PyFuncModel, wrapper_type: type[WrapperT]) -> WrapperT:
    """The wrapper inside a loaded pyfunc model; TypeError when it is another kind."""
    wrapper = model.unwrap_python_model()
    if not isinstance(wrapper, wrapper_type):
        raise TypeError(f"expected a {wrapper_type.__name__}, got {type(wrapper).__name__}")
    return wrapper
