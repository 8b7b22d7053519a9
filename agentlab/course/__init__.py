"""The course's own examples, runnable (labs 03, 04).

seedplan.py   Code 40.6.2: the seed's plan of independent tool calls, analysed, then run for real
scenarios.py  the research assistant (the course's practical example): spine vs fan-out
payments.py   a sub-task that charges a payment exactly once, however often it runs
"""

__all__: list[str] = []
