"""What the cycle collector's garbage holds, named as leakbench's model names it.

The walk mirrors the model's (harness/runtime/retention.cpp): from each
retained exception (a garbage exception that no other garbage exception
holds as an attribute, ``__cause__`` or ``__context__``), breadth first over
the named references, restricted to the garbage plus the payload blocks,
each object counted once where it is first reached; then down every branch
holding a quarter or more of the exception's payload bytes, to a block or to
the object that spreads its bytes over smaller ones.  The steps are spelled
as the model spells them:

- ``.name``: an attribute (an exception's ``__dict__``, ``.args``,
  ``.__cause__``, ``.__context__``; an object's ``__dict__``; a coroutine's
  or generator's frame),
- ``.__traceback__ -> frame NAME()``: an entry of the exception's traceback;
  every frame of the ``tb_next`` chain is one step from the exception,
- `` local 'name'``: a frame's local, in the frame's order of locals,
- ``[i]``: a list or tuple item (``['key']`` for a dict's).
"""

import gc
import sys
import types

from leakbench_payload import Payload

_ATTRIBUTE, _LOCAL, _ITEM, _TRACEBACK = range(4)

# The frame each kind of coroutine or generator runs in, while it has one.
_FRAME_ATTRIBUTE = {
    types.CoroutineType: "cr_frame",
    types.GeneratorType: "gi_frame",
    types.AsyncGeneratorType: "ag_frame",
}


def _referents(obj):
    """The named references ``obj`` holds: ``(kind, name, target)``, in order.

    Exceptions list them as the model does (attributes, ``__cause__``,
    ``__context__``, then the traceback's frames, outermost first), so that
    the breadth-first walk reaches each block by the model's path; ``args``
    comes after the attributes (the model has none: a block passed as
    ``raise E(data)`` would read ``exc.args[0]``).
    """
    if isinstance(obj, BaseException):
        for name, value in vars(obj).items():
            yield _ATTRIBUTE, name, value
        yield _ATTRIBUTE, "args", obj.args
        yield _ATTRIBUTE, "__cause__", obj.__cause__
        yield _ATTRIBUTE, "__context__", obj.__context__
        tb = obj.__traceback__
        while tb is not None:
            yield _TRACEBACK, tb.tb_frame.f_code.co_name, tb.tb_frame
            tb = tb.tb_next
    elif isinstance(obj, types.FrameType):
        for name, value in obj.f_locals.items():
            yield _LOCAL, name, value
    elif isinstance(obj, (list, tuple)):
        for index, item in enumerate(obj):
            yield _ITEM, index, item
    elif isinstance(obj, dict):
        for key, value in list(obj.items()):
            yield _ITEM, repr(key), value
    elif type(obj) in _FRAME_ATTRIBUTE:
        name = _FRAME_ATTRIBUTE[type(obj)]
        yield _ATTRIBUTE, name, getattr(obj, name)
    elif not isinstance(obj, (type, types.ModuleType, Payload)):
        attributes = getattr(obj, "__dict__", None)
        if isinstance(attributes, dict):
            for name, value in list(attributes.items()):
                yield _ATTRIBUTE, name, value


def _step(kind, name):
    if kind == _ATTRIBUTE:
        return f".{name}"
    if kind == _LOCAL:
        return f" local '{name}'"
    if kind == _ITEM:
        return f"[{name}]"
    return f".__traceback__ -> frame {name}()"


class _Node:
    __slots__ = ("obj", "parent", "step", "size", "children")

    def __init__(self, obj, parent, step, size):
        self.obj = obj
        self.parent = parent
        self.step = step
        self.size = size  # a block's bytes, else 0; then, bottom-up, the subtree's
        self.children = []


def _is_block(obj, garbage):
    # A block that something alive still holds is not this cycle's to retain.
    return isinstance(obj, Payload) and (id(obj) in garbage or not gc.is_tracked(obj))


def walk(root, garbage):
    """Names what exception ``root`` holds among ``garbage`` (a set of ids).

    Returns ``(path, total, path_bytes, blocks)``: the paths joined with
    " and " ("" when it holds no block), its payload bytes, the bytes the
    paths' ends hold, and the ids of the blocks it reached.
    """
    tree = [_Node(root, None, "", 0)]
    blocks = set()
    seen = {id(root)}
    i = 0
    while i < len(tree):  # the tree grows as it is walked: breadth first
        if not isinstance(tree[i].obj, Payload):  # a block is a leaf
            for kind, name, target in _referents(tree[i].obj):
                if target is None or id(target) in seen:
                    continue
                seen.add(id(target))
                if _is_block(target, garbage):
                    blocks.add(id(target))
                    size = len(target)
                elif id(target) in garbage:
                    size = 0
                else:
                    continue  # survives the collection: not held by this cycle
                tree.append(_Node(target, i, _step(kind, name), size))
                tree[i].children.append(len(tree) - 1)
        i += 1
    for node in reversed(tree[1:]):
        tree[node.parent].size += node.size
    total = tree[0].size
    if total == 0:
        return "", 0, 0, blocks

    # Down every branch holding a quarter or more of the bytes, to a block or
    # to what spreads its bytes over smaller ones (a list of chunks).
    paths = []
    path_bytes = 0

    def explain(at, path):
        nonlocal path_bytes
        split = False
        for kid in tree[at].children:
            if 4 * tree[kid].size >= total:
                split = True
                explain(kid, path + tree[kid].step)
        if not split:
            paths.append(path)
            path_bytes += tree[at].size

    explain(0, "exc")
    return " and ".join(paths), total, path_bytes, blocks


def _bytes_held(garbage_objects):
    """The bytes of the garbage and of the untracked objects it holds (its buffers, strings,
    numbers: the collector does not list them), each counted once."""
    seen = set()
    total = 0
    for o in garbage_objects:
        for obj in (o, *(r for r in gc.get_referents(o) if not gc.is_tracked(r))):
            if id(obj) not in seen:
                seen.add(id(obj))
                total += sys.getsizeof(obj)
    return total


def _retained_exceptions(garbage_objects):
    """Garbage exceptions that no other garbage exception holds."""
    exceptions = [o for o in garbage_objects if isinstance(o, BaseException)]
    held = set()
    for exc in exceptions:
        for kind, _, target in _referents(exc):
            if kind == _ATTRIBUTE and isinstance(target, BaseException):
                held.add(id(target))
    return [e for e in exceptions if id(e) not in held]


class Retention:
    """What the collections named, by path, since the worker started.

    Like the model's collector, each collection made through :meth:`collect`
    names its garbage before freeing it, and the totals add up over the
    collections; CPython's own automatic collections free theirs unnamed.
    """

    def __init__(self):
        self._paths = {}  # path -> entry; insertion order breaks ties
        self._unreached = [0, 0]  # garbage blocks no retained exception reached
        self._garbage = [0, 0]  # every garbage object found, and its bytes (sys.getsizeof)

    def collect(self):
        """Collects, naming the garbage first; returns the unreachable objects found."""
        enabled = gc.isenabled()
        gc.disable()  # no automatic collection while the garbage is walked
        gc.set_debug(gc.DEBUG_SAVEALL)  # the garbage lands in gc.garbage, unfreed
        try:
            found = gc.collect()
            self._name(list(gc.garbage))
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            if enabled:
                gc.enable()
        gc.collect()  # now frees it
        return found

    def report(self):
        """The entries, most exceptions first: the ``paths`` reply's fields."""
        entries = sorted(self._paths.values(), key=lambda e: -e["exceptions"])
        return {
            "retained": entries,
            "unreached": {"blocks": self._unreached[0], "bytes": self._unreached[1]},
            "garbage": {"objects": self._garbage[0], "bytes": self._garbage[1]},
        }

    def _name(self, garbage_objects):
        garbage = {id(o) for o in garbage_objects}
        self._garbage[0] += len(garbage_objects)
        self._garbage[1] += _bytes_held(garbage_objects)
        reached = set()
        for exc in _retained_exceptions(garbage_objects):
            path, total, path_bytes, blocks = walk(exc, garbage)
            reached |= blocks
            entry = self._paths.setdefault(
                path, {"path": path, "exceptions": 0, "bytes": 0, "path_bytes": 0, "types": {}}
            )
            entry["exceptions"] += 1
            entry["bytes"] += total
            entry["path_bytes"] += path_bytes
            name = type(exc).__qualname__
            entry["types"][name] = entry["types"].get(name, 0) + 1
        for o in garbage_objects:
            if isinstance(o, Payload) and id(o) not in reached:
                self._unreached[0] += 1
                self._unreached[1] += len(o)
