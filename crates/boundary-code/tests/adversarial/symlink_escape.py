# Plants links in its directory, hoping the cleanup follows them.
# style: check
# expect: failed
import os
def f(x):
    os.symlink("/", "root_link")
    os.symlink("/tmp", "tmp_link")
    os.mkdir("locked")
    os.symlink("/etc", "locked/etc")
    os.chmod("locked", 0)
    return None
