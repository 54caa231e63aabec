#include "ringlet/tls/server_context.hpp"

#include "ringlet/tls/tls_stream.hpp"

namespace ringlet::tls {

result<ctx_ptr> make_server_context(const certificate& cert, const ticket_context* tickets,
                                    std::string& error) {
    int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1};
    auto ctx = new_context(wolfSSLv23_server_method(), groups, error);
    if (!ctx) return unexpected{ctx.error()};
    WOLFSSL_CTX* c = ctx->get();
    if (wolfSSL_CTX_use_certificate_chain_buffer(
            c, reinterpret_cast<const unsigned char*>(cert.chain_pem.data()),
            static_cast<long>(cert.chain_pem.size())) != WOLFSSL_SUCCESS) {
        return fail_msg(errno_code(EINVAL), error,
                        "cannot load the certificate chain of " + cert.subject);
    }
    if (wolfSSL_CTX_use_PrivateKey_buffer(c, cert.key_der.data(),
                                          static_cast<long>(cert.key_der.size()),
                                          WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS) {
        return fail_msg(errno_code(EINVAL), error,
                        "cannot load the private key of " + cert.subject);
    }
    wolfSSL_CTX_set_verify(c, WOLFSSL_VERIFY_NONE, nullptr);
    wolfSSL_CTX_set_session_cache_mode(c, WOLFSSL_SESS_CACHE_OFF);
    if (tickets && tickets->keys) {
        wolfSSL_CTX_set_TicketEncCb(c, ticket_callback);
        wolfSSL_CTX_set_TicketEncCtx(c, const_cast<ticket_context*>(tickets));
        wolfSSL_CTX_set_TicketHint(c, static_cast<int>(ticket_keys::rotation_seconds));
    } else {
        wolfSSL_CTX_NoTicketTLSv12(c);
        wolfSSL_CTX_no_ticket_TLSv13(c);
    }
    wolfSSL_CTX_SetIORecv(c, tls_stream::io_recv);
    wolfSSL_CTX_SetIOSend(c, tls_stream::io_send);
    return std::move(*ctx);
}

} // namespace ringlet::tls
