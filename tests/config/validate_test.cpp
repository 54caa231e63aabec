#include "ringlet/config/config.hpp"
#include "ringlet/config/validate.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace ringlet;
namespace fs = std::filesystem;

namespace {

bool have_openssl() {
    return std::system("openssl version >/dev/null 2>&1") == 0;
}

// A self-signed ECDSA P-256 certificate valid for two days, by the openssl CLI.
bool make_cert(const fs::path& cert, const fs::path& key, const std::string& sans) {
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                      "-days 2 -subj /CN=test -addext subjectAltName=" +
                      sans + " -keyout " + key.string() + " -out " + cert.string() + " 2>/dev/null";
    return std::system(cmd.c_str()) == 0;
}

struct environment : ::testing::Test {
    fs::path dir;

    void SetUp() override {
        static int n = 0;
        dir = fs::temp_directory_path() /
              ("ringlet-config-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
        fs::create_directories(dir / "www");
        ::chmod(dir.c_str(), 0755);
    }
    void TearDown() override { fs::remove_all(dir); }

    std::string file() const { return (dir / "ringlet.json").string(); }

    void write(const fs::path& p, const std::string& text) {
        std::ofstream out(p, std::ios::binary);
        out << text;
    }

    // Writes the config next to the test folder, parses it (it must parse) and checks it.
    std::vector<std::string> check(const std::string& json, bool ports = false,
                                   std::int64_t now = -1) {
        write(file(), json);
        std::vector<config::config_error> errors;
        auto parsed = config::parse_config(json, file(), errors);
        EXPECT_TRUE(parsed) << (errors.empty() ? "" : errors[0].to_string());
        if (!parsed) return {"<parse failed>"};
        config::environment_checks checks;
        checks.ports = ports;
        checks.now = now;
        std::vector<std::string> out;
        for (const auto& e : config::check_environment(*parsed, file(), checks)) {
            out.push_back(e.to_string());
        }
        return out;
    }

    static std::string site(const std::string& extra) {
        return R"({ "listen": { "http": "off" }, "sites": [ { "hosts": ["a.test"], "root": "www")" +
               extra + " } ] }";
    }
};

// A listening socket on 127.0.0.1 and an ephemeral port.
struct held_port {
    int fd = -1;
    int port = 0;
    held_port() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 8) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            return;
        }
        port = ntohs(a.sin_port);
    }
    ~held_port() { ::close(fd); }
};

// Runs validate_command and captures what it printed.
struct command_output {
    int code;
    std::string out, err;
};

command_output run_validate(std::vector<std::string_view> args) {
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    int code = config::validate_command(args);
    std::string out = ::testing::internal::GetCapturedStdout();
    std::string err = ::testing::internal::GetCapturedStderr();
    return {code, out, err};
}

} // namespace

TEST_F(environment, a_good_site_passes) {
    EXPECT_EQ(check(site("")), std::vector<std::string>{});
}

TEST_F(environment, missing_root_and_root_that_is_a_file) {
    write(dir / "file", "x");
    std::string json = "{\n  \"listen\": { \"http\": \"off\" },\n  \"sites\": [\n"
                       "    { \"hosts\": [\"a.test\"], \"root\": \"missing\" },\n"
                       "    { \"hosts\": [\"b.test\"], \"root\": \"file\" }\n  ]\n}";
    EXPECT_EQ(check(json),
              (std::vector<std::string>{
                  file() + ":4:36: sites[0].root: " + (dir / "missing").string() +
                      ": No such file or directory",
                  file() + ":5:36: sites[1].root: " + (dir / "file").string() + ": not a folder"}));
}

TEST_F(environment, missing_certificate_files) {
    EXPECT_EQ(check(site(R"(, "tls": { "cert": "none.crt", "key": "none.key" })")),
              (std::vector<std::string>{
                  file() + ":1:98: sites[0].tls.cert: " + (dir / "none.crt").string() +
                      ": No such file or directory",
                  file() + ":1:117: sites[0].tls.key: " + (dir / "none.key").string() +
                      ": No such file or directory"}));
}

TEST_F(environment, unreadable_key) {
    if (!have_openssl()) GTEST_SKIP() << "no openssl CLI";
    ASSERT_TRUE(make_cert(dir / "a.crt", dir / "a.key", "DNS:a.test"));
    ::chmod((dir / "a.crt").c_str(), 0644);
    ::chmod((dir / "a.key").c_str(), 0);
    std::string json = site(R"(, "tls": { "cert": "a.crt", "key": "a.key" })");
    std::string expected =
        file() + ":1:114: sites[0].tls.key: " + (dir / "a.key").string() + ": Permission denied";
    if (::geteuid() != 0) {
        EXPECT_EQ(check(json), std::vector<std::string>{expected});
        return;
    }
    // Root reads anything: check as nobody, in a child.
    write(file(), json);
    ::chmod(file().c_str(), 0644);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
        std::vector<config::config_error> errors;
        auto parsed = config::parse_config(json, file(), errors);
        if (!parsed) ::_exit(4);
        config::environment_checks checks;
        checks.ports = false;
        std::string text;
        for (const auto& e : config::check_environment(*parsed, file(), checks)) {
            text += e.to_string() + "\n";
        }
        if (::write(fds[1], text.data(), text.size()) < 0) ::_exit(5);
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, n);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "cannot become nobody";
    ASSERT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(got, expected + "\n");
}

TEST_F(environment, key_that_does_not_match) {
    if (!have_openssl()) GTEST_SKIP() << "no openssl CLI";
    ASSERT_TRUE(make_cert(dir / "a.crt", dir / "a.key", "DNS:a.test"));
    ASSERT_TRUE(make_cert(dir / "b.crt", dir / "b.key", "DNS:a.test"));
    EXPECT_EQ(check(site(R"(, "tls": { "cert": "a.crt", "key": "b.key" })")),
              (std::vector<std::string>{
                  file() + ":1:114: sites[0].tls.key: " + (dir / "b.key").string() +
                  ": private key does not match the certificate in " + (dir / "a.crt").string()}));
}

TEST_F(environment, certificate_that_misses_a_host_or_has_expired) {
    if (!have_openssl()) GTEST_SKIP() << "no openssl CLI";
    ASSERT_TRUE(make_cert(dir / "a.crt", dir / "a.key", "DNS:a.test,DNS:*.b.test,IP:::1"));
    std::string json =
        R"({ "listen": { "http": "off" }, "sites": [ { "hosts": ["a.test", "x.b.test", "[::1]", "c.test"], "root": "www", "tls": { "cert": "a.crt", "key": "a.key" } } ] })";
    EXPECT_EQ(check(json), (std::vector<std::string>{
                               file() + ":1:129: sites[0].tls.cert: " + (dir / "a.crt").string() +
                               ": the certificate does not cover c.test (it names a.test, "
                               "*.b.test, ::1)"}));
    std::int64_t in_a_week = static_cast<std::int64_t>(::time(nullptr)) + 7 * 86400;
    EXPECT_EQ(check(json, false, in_a_week),
              (std::vector<std::string>{file() + ":1:129: sites[0].tls.cert: " +
                                        (dir / "a.crt").string() + ": certificate has expired"}));
}

TEST_F(environment, a_matching_certificate_passes) {
    if (!have_openssl()) GTEST_SKIP() << "no openssl CLI";
    ASSERT_TRUE(make_cert(dir / "a.crt", dir / "a.key", "DNS:a.test"));
    EXPECT_EQ(check(site(R"(, "tls": { "cert": "a.crt", "key": "a.key" })")),
              std::vector<std::string>{});
}

TEST_F(environment, port_in_use) {
    held_port held;
    ASSERT_GT(held.port, 0);
    std::string address = "127.0.0.1:" + std::to_string(held.port);
    std::string json =
        R"({ "listen": { "https": ")" + address +
        R"(", "http": "off" }, "sites": [ { "hosts": ["a.test"], "root": "www" } ] })";
    EXPECT_EQ(
        check(json, true),
        (std::vector<std::string>{file() + ":1:24: listen.https: " + address + ": port in use"}));
    // Not asked to: no error.
    EXPECT_EQ(check(json, false), std::vector<std::string>{});
}

TEST_F(environment, free_ports_pass_and_stay_free) {
    int port = 0;
    {
        held_port probe; // find a free port, then release it
        port = probe.port;
    }
    ASSERT_GT(port, 0);
    std::string address = "127.0.0.1:" + std::to_string(port);
    std::string json =
        R"({ "listen": { "https": ")" + address +
        R"(", "http": "127.0.0.1:0" }, "sites": [ { "hosts": ["a.test"], "root": "www" } ] })";
    EXPECT_EQ(check(json, true), std::vector<std::string>{});
    held_port again; // the check released what it bound
    EXPECT_GT(again.port, 0);
}

TEST_F(environment, folders_for_pidfile_and_access_log) {
    std::string json = R"({ "listen": { "http": "off" }, "pidfile": "run/ringlet.pid",
        "log": { "access": "./logs/access.log" },
        "sites": [ { "hosts": ["a.test"], "root": "www" } ] })";
    EXPECT_EQ(check(json),
              (std::vector<std::string>{
                  file() + ":1:43: pidfile: " + (dir / "run/ringlet.pid").string() + ": folder " +
                      (dir / "run").string() + ": No such file or directory",
                  file() + ":2:28: log.access: " + (dir / "./logs/access.log").string() +
                      ": folder " + (dir / "./logs").string() + ": No such file or directory"}));
    fs::create_directories(dir / "run");
    fs::create_directories(dir / "logs");
    EXPECT_EQ(check(json), std::vector<std::string>{});
}

TEST_F(environment, validate_command_ok) {
    write(file(), site(""));
    std::string f = file();
    command_output r = run_validate({"--config", f, "--skip-ports"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "config OK\n");
    EXPECT_EQ(r.err, "");
}

TEST_F(environment, validate_command_prints_every_error) {
    write(file(),
          "{\n  \"wokers\": 1,\n  \"sites\": [ { \"hosts\": [], \"root\": \"www\" } ]\n}\n");
    std::string f = file();
    command_output r = run_validate({"--config", f});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, f +
                         ":2:3: unknown key \"wokers\" at the top level (did you mean "
                         "\"workers\"?)\n" +
                         f +
                         ":3:25: sites[0].hosts: expected an array of host names, like "
                         "[\"example.com\"], found an empty array\n");
}

TEST_F(environment, validate_command_environment_errors_and_warnings) {
    std::string json = R"({ "listen": { "http": "off" }, "sites": [
        { "hosts": ["a.test"], "root": "nowhere", "tls": { "issuer": "acme" } } ] })";
    write(file(), json);
    std::string f = file();
    command_output r = run_validate({"--skip-ports", "--config", f});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "warning: " + f +
                         ":1:23: listen.http: \"off\": sites[0] can answer only the tls-alpn-01 "
                         "challenge (http-01 needs the plain listener)\n" +
                         f + ":2:40: sites[0].root: " + (dir / "nowhere").string() +
                         ": No such file or directory\n");
}

TEST(validate_command, usage) {
    command_output r = run_validate({"--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, config::validate_usage_text());

    r = run_validate({});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "ringlet validate: --config FILE is required (see ringlet validate --help)\n");

    r = run_validate({"--config"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "ringlet validate: option --config needs a value (see ringlet validate "
                     "--help)\n");

    r = run_validate({"--bogus"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "ringlet validate: unknown option '--bogus' (see ringlet validate --help)\n");

    r = run_validate({"--config", "/nonexistent/ringlet.json"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err, "/nonexistent/ringlet.json: No such file or directory\n");
}
