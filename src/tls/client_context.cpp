#include "ringlet/tls/client_context.hpp"

#include "ringlet/tls/tls_stream.hpp"

namespace ringlet::tls {

namespace {

// wolfSSL 5.7.2 built without OPENSSL_ALL has no wolfSSL_CTX_get_verify_mode and no CTX ex_data,
// so an insecure context is marked through the one user pointer a client context never uses
// otherwise: the password-callback data (client contexts load no encrypted keys).
char insecure_marker;

} // namespace

result<ctx_ptr> make_client_context(const client_options& o, std::string& error) {
    int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1};
    auto ctx = new_context(wolfSSLv23_client_method(), groups, error);
    if (!ctx) return unexpected{ctx.error()};
    WOLFSSL_CTX* c = ctx->get();

    if (o.insecure) {
        wolfSSL_CTX_set_verify(c, WOLFSSL_VERIFY_NONE, nullptr);
        wolfSSL_CTX_set_default_passwd_cb_userdata(c, &insecure_marker);
    } else {
        wolfSSL_CTX_set_verify(c, WOLFSSL_VERIFY_PEER, nullptr);
        if (!o.ca_file.empty()) {
            int rc = wolfSSL_CTX_load_verify_locations(c, o.ca_file.c_str(), nullptr);
            if (rc != WOLFSSL_SUCCESS) {
                return fail_msg(errno_code(EINVAL), error,
                                "cannot load CA file " + o.ca_file + ": " + error_text(rc));
            }
        }
        if (!o.ca_pem.empty()) {
            int rc = wolfSSL_CTX_load_verify_buffer(
                c, reinterpret_cast<const unsigned char*>(o.ca_pem.data()),
                static_cast<long>(o.ca_pem.size()), WOLFSSL_FILETYPE_PEM);
            if (rc != WOLFSSL_SUCCESS) {
                return fail_msg(errno_code(EINVAL), error,
                                "cannot load CA certificates: " + error_text(rc));
            }
        }
        if (o.ca_file.empty() && o.ca_pem.empty() &&
            wolfSSL_CTX_load_system_CA_certs(c) != WOLFSSL_SUCCESS) {
            return fail_msg(errno_code(EINVAL), error,
                            "no system CA certificates found (give a CA file)");
        }
    }

    if (!o.alpn.empty()) {
        // Wire format: length-prefixed names, copied into the context.
        std::string wire;
        for (const std::string& p : o.alpn) {
            if (p.empty() || p.size() > 255)
                return fail_msg(errno_code(EINVAL), error, "invalid ALPN protocol name");
            wire.push_back(static_cast<char>(p.size()));
            wire.append(p);
        }
        // 5.7.2 returns WOLFSSL_SUCCESS here (OpenSSL's SSL_CTX_set_alpn_protos returns 0);
        // the test of ALPN negotiation catches a change of convention.
        if (wolfSSL_CTX_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(wire.data()),
                                        static_cast<unsigned>(wire.size())) != WOLFSSL_SUCCESS) {
            return fail_msg(errno_code(EINVAL), error, "cannot set ALPN protocols");
        }
    }
    if (o.session_tickets && wolfSSL_CTX_UseSessionTicket(c) != WOLFSSL_SUCCESS) {
        return fail_msg(errno_code(EINVAL), error, "cannot enable session tickets");
    }
    if (!o.session_tickets) wolfSSL_CTX_no_ticket_TLSv13(c);
    wolfSSL_CTX_SetIORecv(c, tls_stream::io_recv);
    wolfSSL_CTX_SetIOSend(c, tls_stream::io_send);
    return std::move(*ctx);
}

bool verifies_peer(WOLFSSL_CTX* client_ctx) noexcept {
    return wolfSSL_CTX_get_default_passwd_cb_userdata(client_ctx) != &insecure_marker;
}

} // namespace ringlet::tls
