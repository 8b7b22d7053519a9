"""Breaking it on purpose: a deterministic simulator of the fleet, a nemesis, checkers, replay (lab 07).

One seed decides every choice a run depends on — how long each sub-task takes and so the order results
arrive in, what the planner plans and how the reducer rewords a re-plan, and which faults strike where.
The run itself is the real thing, in one process on a fake clock: the supervisor, its rounds, the
runners' ReAct loops, the tools' RPC contracts, the SQLite journal, the shared budget.

    world.py     the seed and the faults it draws (keyed, so a re-execution meets the same ones)
    model.py     the fleet's model: plans payments, pays, rewords re-plans, gives up, writes long replies
    fleet.py     one simulated run: the dispatcher that loses work, the journal that dies, the resume
    history.py   what happened, in order, as plain records: hashed, saved, loaded, drawn
    checkers.py  the promises, each a pure function over a history
    explore.py   many seeds at once, the pass^k table, shrinking a failing schedule, replaying a seed

`agentlab sim explore --seeds 2000` and `agentlab sim replay SEED` run it from the command line.

The same for shared memory: K agents on one blackboard (a real `BoardStore` on SQLite), interleaved
message by message, under server crashes, paused lease holders and duplicated writes:

    board.py           one simulated run of the board, and `explore_board` over many seeds
    board_clients.py   the agents' operations: increment by compare-and-set, a CAS register, a fenced write
    board_checkers.py  linearizable (Wing & Gong's search), fenced, durable

And grading with it: a learner's component attacked on k seeds, pass^k, the first failure shrunk:

    passk.py           attack(component, decide): k seeds, every checker; shrink and replay a failure
    components.py      what labs 02, 04 and 05 ask a learner to write, plugged into the real code
"""

__all__: list[str] = []
