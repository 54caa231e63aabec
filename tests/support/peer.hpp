// Test helpers for client tests against real peers on loopback: a temporary directory,
// certificates made by the openssl CLI, and a python3 HTTP(S) server run as a child process.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace ringlet::test {

inline bool have_tool(const char* probe) {
    return std::system(probe) == 0;
}
inline bool have_openssl() {
    return have_tool("openssl version >/dev/null 2>&1");
}
inline bool have_python_ssl() {
    return have_tool("python3 -c 'import ssl, http.server' >/dev/null 2>&1");
}

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& tag) {
        path = std::filesystem::temp_directory_path() /
               ("ringlet-" + tag + "-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

// A CA (ca.pem, ca.key) named `name` in `dir`.
inline bool make_ca(const std::filesystem::path& dir, const std::string& name) {
    std::filesystem::create_directories(dir);
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                      "-days 2 -subj /CN=" +
                      name +
                      " -addext basicConstraints=critical,CA:TRUE"
                      " -addext keyUsage=critical,keyCertSign,cRLSign -keyout " +
                      (dir / "ca.key").string() + " -out " + (dir / "ca.pem").string() +
                      " 2>/dev/null";
    return std::system(cmd.c_str()) == 0;
}

// A leaf (cert.pem, key.pem) in `dir` for `sans` ("DNS:localhost,IP:127.0.0.1") signed by the
// CA in `ca_dir`.
inline bool make_leaf(const std::filesystem::path& dir, const std::filesystem::path& ca_dir,
                      const std::string& sans) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "ext.cnf") << "subjectAltName=" << sans << "\n";
    std::string d = dir.string(), c = ca_dir.string();
    std::string cmd = "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "
                      "/CN=leaf -keyout " +
                      d + "/key.pem -out " + d +
                      "/req.pem 2>/dev/null && "
                      "openssl x509 -req -in " +
                      d + "/req.pem -CA " + c + "/ca.pem -CAkey " + c +
                      "/ca.key -CAcreateserial -days 2 -extfile " + d + "/ext.cnf -out " + d +
                      "/cert.pem 2>/dev/null";
    return std::system(cmd.c_str()) == 0;
}

// A child process whose first stdout line is a port number; killed on destruction.
class child_server {
public:
    child_server(const std::vector<std::string>& argv) {
        int fds[2];
        if (::pipe(fds) != 0) return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], 1);
            int null = ::open("/dev/null", O_WRONLY); // python's tracebacks of refused clients
            if (null >= 0) ::dup2(null, 2);
            ::close(fds[0]);
            ::close(fds[1]);
            std::vector<char*> args;
            for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        std::string line;
        pollfd p{fds[0], POLLIN, 0};
        while (line.find('\n') == std::string::npos && ::poll(&p, 1, 10'000) == 1) {
            char buf[64];
            ssize_t n = ::read(fds[0], buf, sizeof buf);
            if (n <= 0) break;
            line.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fds[0]);
        port_ = static_cast<std::uint16_t>(std::atoi(line.c_str()));
    }
    child_server(const child_server&) = delete;
    child_server& operator=(const child_server&) = delete;
    ~child_server() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    std::uint16_t port() const noexcept { return port_; }

private:
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

// A python3 HTTP/1.1 server: GET /big/N sends N bytes, GET /chunked a chunked body with an
// extension and a trailer, GET /ticks a body without framing (read until close), GET other paths
// echo "path=... ua=... host=...", POST echoes the body with 201 and a Location. With cert and
// key it speaks TLS (ALPN http/1.1).
inline const char* python_server_source = R"PY(
import sys, ssl, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in [b"hello ", b"chunked ", b"world"]:
                self.wfile.write(b"%x;ext=1\r\n" % len(part) + part + b"\r\n")
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
            return
        if self.path == "/ticks":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"tick " * 1000)
            self.close_connection = True
            return
        if self.path.startswith("/big/"):
            body = b"x" * int(self.path[5:])
        else:
            body = ("path=%s ua=%s host=%s" % (self.path, self.headers.get("User-Agent"),
                                               self.headers.get("Host"))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Link", '<https://x.test/dir>;rel="index"')
        self.send_header("Link", '</next>; rel="next alternate"')
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Location", "/new/1")
        self.end_headers()
        self.wfile.write(data)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
if len(sys.argv) > 2:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    ctx.set_alpn_protocols(["http/1.1"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
)PY";

// Starts the python server (TLS when cert/key are given) with its script in `dir`.
inline std::unique_ptr<child_server> start_python_server(const std::filesystem::path& dir,
                                                         const std::string& cert = {},
                                                         const std::string& key = {}) {
    std::ofstream(dir / "server.py") << python_server_source;
    std::vector<std::string> argv{"python3", (dir / "server.py").string()};
    if (!cert.empty()) {
        argv.push_back(cert);
        argv.push_back(key);
    }
    return std::make_unique<child_server>(argv);
}

} // namespace ringlet::test
