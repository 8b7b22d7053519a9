"""The graded checks of the §40.6 exercises, one pytest module per exercise (see agentlab.grading.testkit)."""

__all__: list[str] = []
