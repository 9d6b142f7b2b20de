"""Stateful goals on BFCL's file system (``gorilla_file_system``): a random small file tree, and chains that find,
list and read files, then move, copy, write or remove them. Every name comes from the tree (or is new where
the user creates something); the folders to ``cd`` into come from ``find``'s result, the file to open from
``ls``'s."""

from __future__ import annotations

import json
import random
from typing import Any

from .base import Draft, Infeasible, chain, quoted
from .pools import (
    CODE_LINES,
    CSV_ROWS,
    EXTENSIONS,
    FILE_STEMS,
    FOLDERS,
    HOMES,
    LOG_LINES,
    SENTENCES,
    WORDS,
    pick,
)

ENV = "gorilla_file_system"
READERS = ("cat", "tail", "wc", "grep", "sort")


def initial_state(rng: random.Random) -> dict[str, Any]:
    """A home folder with a few files and two to four folders, some with a folder inside (at most two levels)."""
    return {"root": {rng.choice(HOMES): {"type": "directory", "contents": _folder(rng, 0)}}}


def _folder(rng: random.Random, depth: int) -> dict[str, Any]:
    contents: dict[str, Any] = {}
    for _ in range(rng.randint(1, 3) if depth == 0 else rng.randint(0, 4)):
        name = rng.choice(FILE_STEMS) + rng.choice(EXTENSIONS)
        contents.setdefault(name, {"type": "file", "content": _content(rng, name)})
    if depth < 2:
        for name in pick(rng, FOLDERS, rng.randint(2, 4) if depth == 0 else rng.choice((0, 0, 1, 1, 2))):
            empty = rng.random() < 0.15
            contents.setdefault(name, {"type": "directory", "contents": {} if empty else _folder(rng, depth + 1)})
    return contents


def _content(rng: random.Random, name: str) -> str:
    extension = name[name.rindex("."):]
    if extension == ".json":
        return json.dumps({"name": rng.choice(FILE_STEMS), "version": rng.randint(1, 9), "tags": pick(rng, WORDS, 2)})
    pool = {".csv": CSV_ROWS, ".log": LOG_LINES, ".py": CODE_LINES}.get(extension, SENTENCES)
    if extension == ".csv":
        return "\n".join([pool[0], *pick(rng, pool[1:], rng.randint(2, 5))])
    return "\n".join(pick(rng, pool, rng.randint(2, 6)))


# --- the tree as the user knows it ---------------------------------------------------------------------------

def _is_folder(item: Any) -> bool:
    return hasattr(item, "contents")


def _items(d: Draft) -> list[tuple[tuple[str, ...], Any]]:
    """(path from the home folder, item) of everything in the tree, folders before what they hold."""
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(folder: Any, parts: tuple[str, ...]) -> None:
        for name, item in folder.contents.items():
            found.append(((*parts, name), item))
            if _is_folder(item):
                walk(item, (*parts, name))

    walk(d.world.state()["root"], ())
    return found


def _folder_at(d: Draft, parts: tuple[str, ...]) -> Any:
    folder = d.world.state()["root"]
    for part in parts:
        folder = folder.contents[part]
    return folder


def _unique_files(d: Draft, depth: int) -> list[tuple[tuple[str, ...], Any]]:
    """Files at least ``depth`` folders down whose name no other item's name contains (``find`` finds one)."""
    items = _items(d)
    names = [parts[-1] for parts, _ in items]
    return [(parts, item) for parts, item in items if not _is_folder(item) and len(parts) > depth
            and sum(parts[-1] in other for other in names) == 1]


def _new_name(d: Draft, taken: Any, pool: tuple[str, ...], suffix: str = "") -> str:
    free = [name + suffix for name in pool if name + suffix not in taken]
    if not free:
        raise Infeasible("no free name")
    return d.rng.choice(free)


def _go(d: Draft, parts: tuple[str, ...], linked: bool) -> None:
    """``cd`` one folder at a time (BFCL's ``cd`` takes one level)."""
    for part in parts:
        d.call("cd", uses=("folder",) if linked else (), folder=part)


def _find(d: Draft, depth: int) -> tuple[tuple[str, ...], Any]:
    """Turn: the user asks where a file is; ``find`` answers. Returns the file's path and item."""
    files = _unique_files(d, depth)
    if not files:
        raise Infeasible("no file with a unique name")
    parts, item = d.rng.choice(files)
    d.turn("find the file named {f}", "where is {f}? Find it for me", "look for {f} somewhere in my files",
           "locate {f} for me", "search my folders for {f}", f=quoted(d.rng, parts[-1]))
    found = d.call("find", name=parts[-1])
    if found["matches"] != ["./" + "/".join(parts)]:
        raise Infeasible(f"find gave {found['matches']}")
    return parts, item


# --- reading a file ------------------------------------------------------------------------------------------

def _read(d: Draft, op: str, name: str, content: str) -> tuple[list[str], dict[str, Any]]:
    """(ways to ask, arguments) for reading file ``name`` with ``op``; ``{it}`` stands for the file."""
    if op == "cat":
        return ["open {it} and show me what it says", "show me the contents of {it}", "print out what's in {it}",
                "read {it} to me"], {}
    if op == "tail":
        lines = d.rng.randint(1, 5)
        word = "line" if lines == 1 else f"{lines} lines"
        return [f"show me the last {word} of {{it}}", f"what are the last {word} of {{it}}?"], {"lines": lines}
    if op == "wc":
        mode, unit = d.rng.choice((("l", "lines"), ("w", "words"), ("c", "characters")))
        return [f"count the {unit} in {{it}}", f"how many {unit} does {{it}} have?"], {"mode": mode}
    if op == "grep":
        words = sorted({w.strip(".,:;!?()'\"") for w in content.split()} - {""})
        words = [w for w in words if len(w) >= 4 and w.isalpha()]
        if not words:
            raise Infeasible("nothing to search for")
        pattern = d.rng.choice(words)
        return [f"search {{it}} for lines containing '{pattern}'", f"which lines of {{it}} mention {pattern}?",
                f"grep {{it}} for \"{pattern}\""], {"pattern": pattern}
    return ["sort the lines of {it} and show me the result", "show me {it} with its lines sorted"], {}


@chain("find", "cd", options=READERS)
def find_and_read(d: Draft) -> None:
    """find a file, then go to its folder and read it (cat, tail, wc, grep or sort)."""
    parts, item = _find(d, 1)
    op = d.choose(READERS)
    asks, arguments = _read(d, op, parts[-1], item.content)
    lead = d.rng.choice(("go to its folder and ", "go there and ", "", ""))
    d.turn(lead + d.rng.choice(asks).format(it="it"))
    _go(d, parts[:-1], linked=True)
    d.call(op, file_name=parts[-1], **arguments)


@chain("find", "cd", "mv")
def find_and_move(d: Draft) -> None:
    """find a file, then go to its folder and move it into a folder next to it, or rename it."""
    parts, _ = _find(d, 1)
    name, folder = parts[-1], _folder_at(d, parts[:-1])
    targets = [n for n, item in folder.contents.items() if _is_folder(item) and name not in item.contents]
    if targets and d.rng.random() < 0.6:
        destination = d.rng.choice(targets)
        d.turn("go to the folder it is in and move it into {t}", "move it into the {t} folder next to it",
               "put it in the {t} folder that sits beside it", t=quoted(d.rng, destination))
    else:
        stem, extension = name.rsplit(".", 1)
        destination = _new_name(d, folder.contents, (f"{stem}_old", f"{stem}_v2", f"old_{stem}", f"{stem}_final"),
                                "." + extension)
        d.turn("rename it to {t}", "go there and rename it {t}", "change its name to {t}", t=quoted(d.rng, destination))
    _go(d, parts[:-1], linked=True)
    d.call("mv", source=name, destination=destination)


@chain("cd", "ls", options=(*READERS, "rm"))
def list_and_open(d: Draft) -> None:
    """go into a folder and list it, then read (or delete) the file whose extension is the only one of its kind."""
    choices = []
    for parts, item in _items(d):
        if len(parts) == 1 and _is_folder(item):
            files = [n for n, f in item.contents.items() if not _is_folder(f) and not n.startswith(".")]
            kinds = [n[n.rindex("."):] for n in files]
            choices += [(parts, n, item.contents[n]) for n, k in zip(files, kinds, strict=True) if kinds.count(k) == 1
                        and len(files) > 1]
    if not choices:
        raise Infeasible("no folder with a file of a unique kind")
    parts, name, file = d.rng.choice(choices)
    d.turn("go into {f} and list what's in there", "what's in my {f} folder?", "show me the files in {f}",
           "open the {f} folder and tell me what it holds", f=quoted(d.rng, parts[0]))
    d.call("cd", folder=parts[0])
    d.call("ls")
    op = d.choose((*READERS, "rm"))
    it = f"the {name[name.rindex('.'):]} file"
    if op == "rm":
        asks, arguments = ["delete {it}", "remove {it}, I don't need it", "get rid of {it}"], {}
    else:
        asks, arguments = _read(d, op, name, file.content)
    d.turn(d.rng.choice(asks).format(it=it))
    d.call(op, uses=("file_name",), file_name=name, **arguments)


def _place(d: Draft, need_file: bool) -> tuple[tuple[str, ...], Any]:
    """The home folder or one of its folders (when ``cd`` is offered), holding a file when ``need_file``."""
    places = [((), d.world.state()["root"])]
    if d.has("cd"):
        places += [(parts, item) for parts, item in _items(d) if len(parts) == 1 and _is_folder(item)]
    if need_file:
        places = [(p, f) for p, f in places if any(not _is_folder(i) for i in f.contents.values())]
    if not places:
        raise Infeasible("no folder with a file")
    return d.rng.choice(places)


def _where(d: Draft, parts: tuple[str, ...]) -> str:
    return f" in {quoted(d.rng, parts[0])}" if parts else d.rng.choice(("", " here", " in my home folder"))


@chain("mkdir", options=("cp", "mv"), extras=("cd",))
def make_folder_and_file_it(d: Draft) -> None:
    """make a folder, then copy or move a file of the same folder into it."""
    parts, folder = _place(d, need_file=True)
    new = _new_name(d, folder.contents, FOLDERS)
    file = d.rng.choice([n for n, i in folder.contents.items() if not _is_folder(i)])
    d.turn("create a folder called {n}{w}", "make a new folder {n}{w}", "set up a folder named {n}{w}",
           n=quoted(d.rng, new), w=_where(d, parts))
    _go(d, parts, linked=False)
    d.call("mkdir", dir_name=new)
    op = d.choose(("cp", "mv"))
    verb = "copy" if op == "cp" else "move"
    d.turn(f"{verb} {{f}} into it", f"now {verb} {{f}} into that folder", f"{verb} {{f}} in there",
           f=quoted(d.rng, file))
    d.call(op, source=file, destination=new)


@chain("touch", "echo", options=("cat", "wc", "tail"), extras=("cd",))
def write_note(d: Draft) -> None:
    """create a file and write a line into it, then read it back (cat, wc or tail)."""
    parts, folder = _place(d, need_file=False)
    stem = d.rng.choice(("memo", "reminder", "note", "todo_today", "ideas_new", "call_notes", "draft_reply"))
    name = _new_name(d, folder.contents, (stem,), d.rng.choice((".txt", ".md")))
    text = d.rng.choice(SENTENCES)
    d.turn("create a file called {n}{w} and write '{t}' in it", "make a new file {n}{w} containing: {t}",
           "add a file {n}{w} with the text \"{t}\"", n=quoted(d.rng, name), w=_where(d, parts), t=text)
    _go(d, parts, linked=False)
    d.call("touch", file_name=name)
    d.call("echo", content=text, file_name=name)
    op = d.choose(("cat", "wc", "tail"))
    asks, arguments = _read(d, op, name, text)
    d.turn(d.rng.choice(asks).format(it=d.rng.choice(("it", "the new file", "that file"))))
    d.call(op, file_name=name, **arguments)


@chain("diff", extras=("cd", "rm"))
def compare_files(d: Draft) -> None:
    """compare two files of a folder, then (sometimes) delete the second."""
    places = [(p, f) for p, f in [((), d.world.state()["root"])] + (
        [(parts, item) for parts, item in _items(d) if len(parts) == 1 and _is_folder(item)] if d.has("cd") else [])
        if sum(not _is_folder(i) for i in f.contents.values()) >= 2]
    if not places:
        raise Infeasible("no folder with two files")
    parts, folder = d.rng.choice(places)
    first, second = d.rng.sample([n for n, i in folder.contents.items() if not _is_folder(i)], 2)
    d.turn("compare {a} and {b}{w}", "show me how {a} differs from {b}{w}", "diff {a} against {b}{w}",
           a=quoted(d.rng, first), b=quoted(d.rng, second), w=_where(d, parts))
    _go(d, parts, linked=False)
    d.call("diff", file_name1=first, file_name2=second)
    if d.has("rm") and (d.target == "rm" or d.rng.random() < 0.4):
        d.turn("then delete {b}", "okay, remove {b} now", "I don't need {b} anymore, delete it",
               b=quoted(d.rng, second))
        d.call("rm", file_name=second)


@chain("ls", options=("rm", "rmdir"), extras=("cd",))
def tidy_up(d: Draft) -> None:
    """list a folder, then delete one of the files or empty folders the listing shows."""
    op = d.choose(("rm", "rmdir"))
    depth = 2 if d.has("cd") else 1
    wanted = [(parts, item) for parts, item in _items(d) if len(parts) <= depth
              and (_is_folder(item) and not item.contents if op == "rmdir" else not _is_folder(item))]
    if not wanted:
        raise Infeasible("nothing to remove")
    parts, _ = d.rng.choice(wanted)
    where = "/".join(parts[:-1])
    if where:
        d.turn("show me what's in {f}", "go to {f} and list everything", "list the contents of {f}",
               f=quoted(d.rng, where))
    else:
        d.turn("list what's in my home folder", "show me everything in the current folder",
               "what files do I have here?")
    _go(d, parts[:-1], linked=False)
    d.call("ls")
    if op == "rmdir":
        d.turn("remove the empty folder {n}", "delete the {n} folder, it's empty", n=quoted(d.rng, parts[-1]))
        d.call("rmdir", uses=("dir_name",), dir_name=parts[-1])
    else:
        d.turn("delete {n}", "remove {n} from there", "get rid of {n}", n=quoted(d.rng, parts[-1]))
        d.call("rm", uses=("file_name",), file_name=parts[-1])


@chain("cd", options=("pwd", "du"))
def where_am_i(d: Draft) -> None:
    """go down one or two folders, then ask where that is (pwd) or how much space it takes (du)."""
    folders = [parts for parts, item in _items(d) if _is_folder(item)]
    parts = d.rng.choice(folders)
    if len(parts) == 1:
        d.turn("go into {a}", "change into the {a} folder", "open the {a} directory", a=quoted(d.rng, parts[0]))
    else:
        d.turn("go into {a} and then into {b}", "navigate to {a}/{b}", "move into the {b} folder inside {a}",
               a=quoted(d.rng, parts[0]), b=quoted(d.rng, parts[1]))
    _go(d, parts, linked=False)
    op = d.choose(("pwd", "du"))
    if op == "pwd":
        d.turn("where am I now? Give me the full path", "what's the current directory?", "print the working directory")
        d.call("pwd")
    elif d.rng.random() < 0.6:
        d.turn("how much disk space does this folder use, in a human-readable form?",
               "show me the disk usage here in KB or MB")
        d.call("du", human_readable=True)
    else:
        d.turn("how many bytes does this folder take up?", "check the disk usage of this folder")
        d.call("du")


CHAINS = (find_and_read, find_and_move, list_and_open, make_folder_and_file_it, write_note, compare_files, tidy_up,
          where_am_i)
