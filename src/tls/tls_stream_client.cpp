// tls_stream's client side: handshake, name checks, session and ALPN accessors. Kept apart from
// tls_stream.cpp so the server path can change without touching this.
#include "ringlet/tls/tls_stream.hpp"

#include "ringlet/runtime/reactor.hpp"
#include "ringlet/tls/client_context.hpp"
#include "ringlet/tls/san.hpp"

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace ringlet::tls {

namespace {

std::int64_t remaining(std::int64_t deadline) {
    std::int64_t left = deadline - rt::this_reactor().now();
    return left > 0 ? left : 1;
}

// The address bytes of an IPv4/IPv6 literal (brackets allowed), or 0 if `host` is a name.
std::size_t ip_bytes(std::string_view host, unsigned char (&out)[16]) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    std::string h(host);
    if (inet_pton(AF_INET, h.c_str(), out) == 1) return 4;
    if (inet_pton(AF_INET6, h.c_str(), out) == 1) return 16;
    return 0;
}

bool peer_has_ip(WOLFSSL* ssl, const unsigned char* ip, std::size_t ip_len) {
    x509_ptr cert(wolfSSL_get_peer_certificate(ssl));
    if (!cert) return false;
    int size = 0;
    const unsigned char* der = wolfSSL_X509_get_der(cert.get(), &size);
    alt_names names;
    if (!der || size <= 0 || !read_alt_names({der, static_cast<std::size_t>(size)}, names)) {
        return false;
    }
    return std::any_of(names.ip.begin(), names.ip.end(), [&](const auto& a) {
        return a.size() == ip_len && std::memcmp(a.data(), ip, ip_len) == 0;
    });
}

bool is_verify_error(int err) {
    switch (err) {
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
    case ASN_AFTER_DATE_E:
    case ASN_BEFORE_DATE_E:
    case ASN_SIG_CONFIRM_E:
    case ASN_PATHLEN_INV_E:
    case ASN_PATHLEN_SIZE_E:
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
    case VERIFY_CERT_ERROR:
        return true;
    default:
        return false;
    }
}

} // namespace

rt::task<result<void>> tls_stream::async_connect(WOLFSSL_CTX* ctx, std::string_view server_name,
                                                 std::int64_t deadline, WOLFSSL_SESSION* resume) {
    tls_error_ = 0;
    bool verify = verifies_peer(ctx);
    if (server_name.size() > 1 && server_name.back() == '.') server_name.remove_suffix(1);
    if (verify && server_name.empty()) co_return fail_errno(EINVAL);
    ssl_.reset(wolfSSL_new(ctx));
    if (!ssl_) co_return fail_errno(ENOMEM);
    WOLFSSL* s = ssl_.get();
    wolfSSL_SetIOReadCtx(s, this);
    wolfSSL_SetIOWriteCtx(s, this);

    unsigned char ip[16];
    std::size_t ip_len = ip_bytes(server_name, ip);
    std::string name(server_name); // NUL-terminated for wolfSSL
    if (ip_len == 0 && !name.empty()) {
        if (wolfSSL_UseSNI(s, WOLFSSL_SNI_HOST_NAME, name.data(),
                           static_cast<unsigned short>(name.size())) != WOLFSSL_SUCCESS) {
            co_return fail_errno(ENOMEM);
        }
        if (verify && wolfSSL_check_domain_name(s, name.c_str()) != WOLFSSL_SUCCESS) {
            co_return fail_errno(ENOMEM);
        }
    }
    // A session the server no longer knows just means a full handshake.
    if (resume) (void)wolfSSL_set_session(s, resume);

    for (;;) {
        int rc = wolfSSL_connect(s);
        int err = rc == WOLFSSL_SUCCESS ? 0 : wolfSSL_get_error(s, rc);
        auto sent = co_await flush(remaining(deadline)); // our flight, or an alert
        if (rc == WOLFSSL_SUCCESS) {
            if (!sent) co_return sent;
            break;
        }
        if (err != WOLFSSL_ERROR_WANT_READ) {
            tls_error_ = err;
            co_return fail_errno(EPROTO);
        }
        if (!sent) co_return sent;
        if (peer_eof_) co_return fail_errno(ECONNRESET);
        auto got = co_await fill(deadline);
        if (!got) co_return got;
    }
    if (verify && ip_len != 0 && !peer_has_ip(s, ip, ip_len)) {
        // No public call sends a bad_certificate alert; the caller's close sends close_notify.
        tls_error_ = IPADDR_MISMATCH;
        co_return fail_errno(EPROTO);
    }
    co_return result<void>{};
}

session_ptr tls_stream::get_session() const {
    if (!ssl_) return nullptr;
    session_ptr s(wolfSSL_get1_session(ssl_.get()));
    if (s && !wolfSSL_SESSION_is_resumable(s.get())) s.reset();
    return s;
}

std::string_view tls_stream::alpn_selected() const noexcept {
    char* name = nullptr;
    unsigned short size = 0;
    if (!ssl_ || wolfSSL_ALPN_GetProtocol(ssl_.get(), &name, &size) != WOLFSSL_SUCCESS || !name) {
        return {};
    }
    return {name, size};
}

std::string tls_stream::error_description() const {
    if (tls_error_ == 0) return "no TLS error";
    if (tls_error_ == IPADDR_MISMATCH) {
        return "certificate verify failed (the certificate does not name this IP address)";
    }
    long vr = ssl_ ? wolfSSL_get_verify_result(ssl_.get()) : 0;
    if (is_verify_error(tls_error_) || vr != 0) {
        std::string out = "certificate verify failed (" + error_text(tls_error_);
        if (vr != 0) out.append("; ").append(wolfSSL_X509_verify_cert_error_string(vr));
        return out + ")";
    }
    return error_text(tls_error_);
}

} // namespace ringlet::tls
