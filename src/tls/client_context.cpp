#include "ringlet/tls/client_context.hpp"

#include "ringlet/tls/tls_stream.hpp"

namespace ringlet::tls {

namespace {

constexpr char cipher_list[] = "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:"
                               "TLS13-CHACHA20-POLY1305-SHA256:"
                               "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                               "ECDHE-ECDSA-CHACHA20-POLY1305:"
                               "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                               "ECDHE-RSA-CHACHA20-POLY1305";

// wolfSSL 5.7.2 built without OPENSSL_ALL has no wolfSSL_CTX_get_verify_mode and no CTX ex_data,
// so an insecure context is marked through the one user pointer a client context never uses
// otherwise: the password-callback data (client contexts load no encrypted keys).
char insecure_marker;

result<ctx_ptr> fail(std::string& error, std::string msg) {
    error = std::move(msg);
    return fail_errno(EINVAL);
}

} // namespace

result<ctx_ptr> make_client_context(const client_options& o, std::string& error) {
    init_library();
    ctx_ptr ctx(wolfSSL_CTX_new(wolfSSLv23_client_method()));
    if (!ctx) return fail(error, "cannot create a TLS context (out of memory)");
    WOLFSSL_CTX* c = ctx.get();
    if (wolfSSL_CTX_SetMinVersion(c, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
        return fail(error, "cannot restrict TLS versions");
    }
    int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1};
    if (wolfSSL_CTX_set_groups(c, groups, 3) != WOLFSSL_SUCCESS) {
        return fail(error, "cannot set key exchange groups");
    }
    if (wolfSSL_CTX_set_cipher_list(c, cipher_list) != WOLFSSL_SUCCESS) {
        return fail(error, "cannot set the cipher list");
    }

    if (o.insecure) {
        wolfSSL_CTX_set_verify(c, WOLFSSL_VERIFY_NONE, nullptr);
        wolfSSL_CTX_set_default_passwd_cb_userdata(c, &insecure_marker);
    } else {
        wolfSSL_CTX_set_verify(c, WOLFSSL_VERIFY_PEER, nullptr);
        if (!o.ca_file.empty()) {
            int rc = wolfSSL_CTX_load_verify_locations(c, o.ca_file.c_str(), nullptr);
            if (rc != WOLFSSL_SUCCESS) {
                return fail(error, "cannot load CA file " + o.ca_file + ": " + error_text(rc));
            }
        }
        if (!o.ca_pem.empty()) {
            int rc = wolfSSL_CTX_load_verify_buffer(
                c, reinterpret_cast<const unsigned char*>(o.ca_pem.data()),
                static_cast<long>(o.ca_pem.size()), WOLFSSL_FILETYPE_PEM);
            if (rc != WOLFSSL_SUCCESS) {
                return fail(error, "cannot load CA certificates: " + error_text(rc));
            }
        }
        if (o.ca_file.empty() && o.ca_pem.empty() &&
            wolfSSL_CTX_load_system_CA_certs(c) != WOLFSSL_SUCCESS) {
            return fail(error, "no system CA certificates found (give a CA file)");
        }
    }

    if (!o.alpn.empty()) {
        // Wire format: length-prefixed names, copied into the context.
        std::string wire;
        for (const std::string& p : o.alpn) {
            if (p.empty() || p.size() > 255) return fail(error, "invalid ALPN protocol name");
            wire.push_back(static_cast<char>(p.size()));
            wire.append(p);
        }
        // 5.7.2 returns WOLFSSL_SUCCESS here (OpenSSL's SSL_CTX_set_alpn_protos returns 0);
        // the test of ALPN negotiation catches a change of convention.
        if (wolfSSL_CTX_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(wire.data()),
                                        static_cast<unsigned>(wire.size())) != WOLFSSL_SUCCESS) {
            return fail(error, "cannot set ALPN protocols");
        }
    }
    if (o.session_tickets && wolfSSL_CTX_UseSessionTicket(c) != WOLFSSL_SUCCESS) {
        return fail(error, "cannot enable session tickets");
    }
    if (!o.session_tickets) wolfSSL_CTX_no_ticket_TLSv13(c);
    wolfSSL_CTX_SetIORecv(c, tls_stream::io_recv);
    wolfSSL_CTX_SetIOSend(c, tls_stream::io_send);
    return ctx;
}

bool verifies_peer(WOLFSSL_CTX* client_ctx) noexcept {
    return wolfSSL_CTX_get_default_passwd_cb_userdata(client_ctx) != &insecure_marker;
}

} // namespace ringlet::tls
