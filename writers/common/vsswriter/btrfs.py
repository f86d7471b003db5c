"""Where vssd puts its snapshots, as far as a writer needs to know."""

import os

# docs/design.md §5: the snapshots of a subvolume lie in this subvolume,
# created at the subvolume's root (root-owned, mode 0700)
SNAPSHOT_DIR = '.vss-snapshots'

# btrfs numbers the root directory of every subvolume 256
# (BTRFS_FIRST_FREE_OBJECTID), and gives each subvolume a device of its own
_SUBVOLUME_ROOT_INODE = 256


def is_subvolume_root(path):
    """Whether path is the root of a btrfs subvolume, where vssd will create
    SNAPSHOT_DIR at the first snapshot: an application that reads every
    entry of such a directory then meets a directory it may not open."""
    try:
        st = os.stat(path)
        parent = os.stat(os.path.join(path, '..'))
    except OSError:
        return False
    return st.st_ino == _SUBVOLUME_ROOT_INODE and (st.st_dev != parent.st_dev
                                                   or st.st_ino == parent.st_ino)
