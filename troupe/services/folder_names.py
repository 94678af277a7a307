"""What a folder or a file may be called. Agents' file tools and prompt name each file
`folder/file`, so neither name may hold a '/': a folder "a/b" holding "c.md" and a folder
"a" holding "b/c.md" would both show an agent "a/b/c.md"."""

from pathlib import PurePath

from troupe.errors import InvalidInput

SEPARATOR = "/"
IMPORTED_FOLDER_SEPARATOR = "-"  # what stands for '/' in a folder name read from an Agent File


def check_folder_name(name: str) -> str:
    """The name, if a folder may be given it (at creation, or renamed); else a 422."""
    if SEPARATOR in name:
        raise InvalidInput(
            f"folder name {name!r} cannot be used: a folder's name must not hold '/', since "
            "agents name each file `folder/file` and a '/' in the folder's name would make "
            "those names ambiguous"
        )
    return name


def imported_folder_name(name: str) -> str:
    """A folder name read from an Agent File, each '/' replaced: Letta accepted such names,
    and a file made by it should still import."""
    return name.replace(SEPARATOR, IMPORTED_FOLDER_SEPARATOR)


def file_name_of(path: str) -> str:
    """The name a file is stored under: the last part of the path it was given (an upload's
    file name, or Letta's `folder/file` name in an Agent File), without directories."""
    return PurePath(path.replace("\\", SEPARATOR)).name.strip()
