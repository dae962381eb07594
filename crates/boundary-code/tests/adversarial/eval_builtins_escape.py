# The classic restricted-Python escape: reach Popen through object subclasses.
# style: check
# expect: failed, error
def f(x):
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "Popen":
            cls(["/bin/sh", "-c", "echo escaped > /tmp/boundary-adv-escape-popen"]).wait()
    return None
