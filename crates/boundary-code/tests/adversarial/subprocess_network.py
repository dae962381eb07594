# style: check
# expect: failed, error
import subprocess
def f(x):
    subprocess.run(["python3", "-c", "import urllib.request; urllib.request.urlopen('http://192.0.2.1/', timeout=2)"], timeout=10)
    return None
