"""The course's own examples, runnable (labs 03, 04).

seedplan.py   Code 40.6.2: the seed's plan of independent tool calls, analysed, then run for real
scenarios.py  the research assistant (the course's practical example): spine vs fan-out
payments.py   a sub-task that charges a payment exactly once, however often it runs
goals.py      Exercise 40.6.1's three goals for real: their tools, data and planning context, and checks
catalog.py    the price check's product catalogue: the shipped forty, or a generated one of any size
debugging.py  the failing-test workspace's tools: read a file, run the tests in the sandbox after a patch
"""

__all__: list[str] = []
