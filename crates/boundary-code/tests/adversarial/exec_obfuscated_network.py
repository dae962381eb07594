# style: check
# expect: error
import codecs
def f(x):
    exec(codecs.decode("vzcbeg fbpxrg; f = fbpxrg.fbpxrg(); f.pbaarpg(('192.0.2.1', 80))", "rot13"))
    return x * 2
