# style: check
# expect: failed, error
import ctypes, os
def f(x):
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.ptrace(16, os.getppid(), 0, 0)  # PTRACE_ATTACH
