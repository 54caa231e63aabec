// Shared by the TLS micro-benchmarks: a certificate from the internal CA, the server context
// policy ringlet serves with, and a client/server WOLFSSL pair in one process that exchange
// bytes through two in-memory queues (wolfSSL I/O callbacks, no sockets), so a benchmark sees
// only TLS and crypto cost.
//
// The certificate is issued once per process into a temporary storage folder that is removed
// straight away (the CA keeps what it needs in memory).
#pragma once

#include "ringlet/certs/internal_ca.hpp"
#include "ringlet/tls/certificate.hpp"
#include "ringlet/tls/server_context.hpp"
#include "ringlet/tls/ticket_keys.hpp"
#include "ringlet/tls/wolfssl.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <time.h>

namespace ringlet::bench {

inline double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// An ECDSA P-256 leaf (+ intermediate) for `names` and the root that verifies it.
struct issued {
    tls::certificate cert;
    std::string root_pem;
};

inline std::optional<issued> issue_certificate(std::vector<std::string> names, std::string& err) {
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::temp_directory_path() / ("ringlet-bench-ca-" + std::to_string(::getpid()));
    const std::int64_t now = ::time(nullptr);
    std::optional<issued> out;
    {
        auto ca = certs::internal_ca::open(dir.string(), now, err);
        if (ca) {
            auto leaf = ca->issue(names, now, 86400, err);
            if (leaf) {
                auto c = tls::parse_certificate(leaf->chain_pem, leaf->key_pem, now, "leaf",
                                                "leaf key", err);
                if (c) out = issued{std::move(*c), ca->root_pem()};
            }
        }
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    return out;
}

// One direction of the connection: bytes written by one peer, not yet read by the other.
struct byte_queue {
    std::string data;
    std::size_t off = 0;

    static int recv(WOLFSSL*, char* buf, int sz, void* ctx) {
        auto* q = static_cast<byte_queue*>(ctx);
        const std::size_t avail = q->data.size() - q->off;
        if (avail == 0) return WOLFSSL_CBIO_ERR_WANT_READ;
        const std::size_t n = std::min(avail, static_cast<std::size_t>(sz));
        std::memcpy(buf, q->data.data() + q->off, n);
        q->off += n;
        if (q->off == q->data.size()) q->clear();
        return static_cast<int>(n);
    }
    static int send(WOLFSSL*, char* buf, int sz, void* ctx) {
        static_cast<byte_queue*>(ctx)->data.append(buf, static_cast<std::size_t>(sz));
        return sz;
    }
    void clear() {
        data.clear(); // keeps capacity: no allocation per record once warm
        off = 0;
    }
};

// Process-wide: the certificate, ticket keys and contexts. Server contexts come from
// make_server_context (ringlet's policy: groups X25519 then P-256, AES-GCM first, tickets).
struct tls_fixture {
    issued cert;
    tls::ticket_keys keys;
    tls::ticket_context tickets;
    tls::ctx_ptr server_tickets;    // as served: issues session tickets
    tls::ctx_ptr server_no_tickets; // for record benchmarks: no NewSessionTicket to consume
    std::string error;

    // Null (and `error` set) if anything failed.
    static const tls_fixture* get() {
        static tls_fixture f;
        static const bool ok = f.init();
        return ok ? &f : nullptr;
    }

    // A TLS 1.3 client context trusting the internal root; `groups` in preference order (the
    // first gets the key share); `ciphers` null for wolfSSL's default list.
    tls::ctx_ptr client(std::vector<int> groups, const char* ciphers) const {
        tls::ctx_ptr c(wolfSSL_CTX_new(wolfTLSv1_3_client_method()));
        if (!c) return c;
        const auto* root = reinterpret_cast<const unsigned char*>(cert.root_pem.data());
        if (wolfSSL_CTX_load_verify_buffer(c.get(), root, long(cert.root_pem.size()),
                                           WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
            wolfSSL_CTX_set_groups(c.get(), groups.data(), int(groups.size())) != WOLFSSL_SUCCESS ||
            (ciphers && wolfSSL_CTX_set_cipher_list(c.get(), ciphers) != WOLFSSL_SUCCESS)) {
            c.reset();
            return c;
        }
        wolfSSL_CTX_set_verify(c.get(), WOLFSSL_VERIFY_PEER, nullptr);
        return c;
    }

private:
    bool init() {
        tls::init_library();
        auto c = issue_certificate({"localhost"}, error);
        if (!c) return false;
        cert = std::move(*c);
        keys = tls::ticket_keys::generate(::time(nullptr));
        tickets.keys = &keys;
        const std::string name = "localhost";
        tickets.scope = tls::ticket_scope(std::span(&name, 1));
        auto with = tls::make_server_context(cert.cert, &tickets, error);
        if (!with) return false;
        server_tickets = std::move(*with);
        auto without = tls::make_server_context(cert.cert, nullptr, error);
        if (!without) return false;
        server_no_tickets = std::move(*without);
        return true;
    }
};

// A client and a server WOLFSSL joined by two byte queues.
class memory_pair {
public:
    memory_pair(WOLFSSL_CTX* server_ctx, WOLFSSL_CTX* client_ctx) {
        server_.reset(wolfSSL_new(server_ctx));
        client_.reset(wolfSSL_new(client_ctx));
        if (!server_ || !client_) return;
        wire(server_.get(), c2s_, s2c_);
        wire(client_.get(), s2c_, c2s_);
        wolfSSL_UseSNI(client_.get(), WOLFSSL_SNI_HOST_NAME, "localhost", 9);
        wolfSSL_check_domain_name(client_.get(), "localhost");
    }

    WOLFSSL* client() const { return client_.get(); }
    WOLFSSL* server() const { return server_.get(); }
    byte_queue& to_client() { return s2c_; }
    byte_queue& to_server() { return c2s_; }

    // Runs both sides to completion. `server_cpu_ns` (if set) accumulates the calling thread's
    // CPU time spent inside the server's wolfSSL_accept calls only. Empty string on success.
    std::string handshake(double* server_cpu_ns) {
        if (!server_ || !client_) return "wolfSSL_new failed";
        bool cdone = false, sdone = false;
        for (int round = 0; round < 8 && !(cdone && sdone); ++round) {
            if (!cdone) {
                const int r = wolfSSL_connect(client_.get());
                if (r == WOLFSSL_SUCCESS) {
                    cdone = true;
                } else if (int e = wolfSSL_get_error(client_.get(), r);
                           e != WOLFSSL_ERROR_WANT_READ) {
                    return "client: " + tls::error_text(e);
                }
            }
            if (!sdone) {
                const double t0 = server_cpu_ns ? thread_cpu_ns() : 0;
                const int r = wolfSSL_accept(server_.get());
                if (server_cpu_ns) *server_cpu_ns += thread_cpu_ns() - t0;
                if (r == WOLFSSL_SUCCESS) {
                    sdone = true;
                } else if (int e = wolfSSL_get_error(server_.get(), r);
                           e != WOLFSSL_ERROR_WANT_READ) {
                    return "server: " + tls::error_text(e);
                }
            }
        }
        return cdone && sdone ? std::string() : std::string("handshake did not finish");
    }

    // Lets the client process what the server sent after the handshake (TLS 1.3
    // NewSessionTicket). True if nothing but that was pending.
    bool client_drain() {
        char buf[64];
        const int r = wolfSSL_read(client_.get(), buf, sizeof buf);
        return r < 0 && wolfSSL_get_error(client_.get(), r) == WOLFSSL_ERROR_WANT_READ;
    }

private:
    static void wire(WOLFSSL* ssl, byte_queue& in, byte_queue& out) {
        wolfSSL_SSLSetIORecv(ssl, byte_queue::recv);
        wolfSSL_SSLSetIOSend(ssl, byte_queue::send);
        wolfSSL_SetIOReadCtx(ssl, &in);
        wolfSSL_SetIOWriteCtx(ssl, &out);
    }

    byte_queue c2s_, s2c_; // declared before the WOLFSSLs, which may flush into them when freed
    tls::ssl_ptr server_, client_;
};

} // namespace ringlet::bench
