"""ringlet where io_uring is blocked (seccomp, as under Docker's default profile): it must exit 1
with a one-line explanation, not crash. Uses NO_URING_BIN (tests/integration/no_uring.c)."""

import errno
import os
import subprocess
import sys
import tempfile
import unittest

from support import no_uring_bin, run_ringlet

PROBE = (
    "import ctypes\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "params = ctypes.create_string_buffer(120)\n"
    "fd = libc.syscall(425, 4, params)\n"
    "print(fd, ctypes.get_errno())\n"
)


class UringBlockedTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.helper = no_uring_bin()
        if cls.helper is None:
            raise unittest.SkipTest("NO_URING_BIN not set (built by tests/integration/CMakeLists.txt)")
        tmp = tempfile.TemporaryDirectory(prefix="ringlet-it-nouring-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.root = os.path.join(tmp.name, "root")
        os.makedirs(cls.root)
        with open(os.path.join(cls.root, "index.html"), "w") as f:
            f.write("hi\n")

    def run_blocked(self, errno_name=None, extra=()):
        prefix = [self.helper] + ([f"--errno={errno_name}"] if errno_name else [])
        pidfile = os.path.join(self.tmp, "p.pid")
        p = run_ringlet(["serve", "--root", self.root, "--http-listen", "127.0.0.1:0",
                         "--no-tls", "--workers", "2", "--pidfile", pidfile, *extra],
                        prefix=prefix)
        return p, pidfile

    def assert_clean_failure(self, p):
        self.assertGreaterEqual(p.returncode, 0, f"killed by signal {-p.returncode}: {p.stderr}")
        self.assertEqual(p.returncode, 1, p.stderr)
        for word in ("Aborted", "Segmentation", "terminate called", "core dumped", "Assertion"):
            self.assertNotIn(word, p.stderr)
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        self.assertEqual(len(lines), 1, f"want one line, got:\n{p.stderr}")
        self.assertIn("io_uring", lines[0])
        self.assertNotIn("listening", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_helper_blocks_io_uring_setup(self):
        # The filter itself works: io_uring_setup fails with EPERM under the helper only.
        blocked = subprocess.run([self.helper, sys.executable, "-c", PROBE],
                                 capture_output=True, text=True, timeout=20)
        self.assertEqual(blocked.returncode, 0, blocked.stderr)
        fd, err = map(int, blocked.stdout.split())
        self.assertEqual((fd, err), (-1, errno.EPERM))
        free = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                              timeout=20)
        fd, err = map(int, free.stdout.split())
        self.assertGreaterEqual(fd, 0, f"io_uring_setup fails even without the filter ({err})")

    def test_eperm_exits_1_with_message(self):
        p, pidfile = self.run_blocked()
        self.assert_clean_failure(p)
        self.assertIn("not permitted", p.stderr.lower())
        self.assertFalse(os.path.exists(pidfile), "pidfile left behind")

    def test_enosys_exits_1_with_message(self):
        p, _ = self.run_blocked("ENOSYS")
        self.assert_clean_failure(p)

    def test_enomem_exits_1_with_message(self):
        p, _ = self.run_blocked("ENOMEM")
        self.assert_clean_failure(p)

    def test_demo_site_also_fails_cleanly(self):
        # No --root: the built-in demo site path must fail the same way.
        p = run_ringlet(["serve", "--http-listen", "127.0.0.1:0", "--no-tls"],
                        prefix=[self.helper])
        self.assert_clean_failure(p)

    def test_version_needs_no_io_uring(self):
        p = run_ringlet(["version"], prefix=[self.helper])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("ringlet", p.stdout)


if __name__ == "__main__":
    unittest.main()
