# Tries to lift its own limits, then spins.
# style: check
# expect: timeout
import resource
def f(x):
    for r in (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NPROC):
        try:
            resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        except (ValueError, OSError):
            pass
    while True:
        pass
