"""The base of our own Rasa components that have no configuration and learn nothing: built the same way at training
and at inference."""
from __future__ import annotations

from typing import Any, Dict, Text, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

Component = TypeVar("Component", bound="StatelessComponent")


class StatelessComponent(GraphComponent):
    """`create` is the component's constructor without arguments; registering it stays with each subclass."""

    @classmethod
    def create(
        cls: type[Component],
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Component:
        """No configuration, nothing to train."""
        return cls()
