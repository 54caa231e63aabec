#include "ringlet/tls/certificate.hpp"

#include "ringlet/tls/san.hpp"

#include "ringlet/base/ascii.hpp"
#include "ringlet/tls/wolfssl.hpp"

#include <wolfssl/wolfcrypt/asn_public.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace ringlet::tls {

namespace {

std::int64_t to_unix(const WOLFSSL_ASN1_TIME* t) {
    struct tm tm {};
    if (!t || wolfSSL_ASN1_TIME_to_tm(t, &tm) != WOLFSSL_SUCCESS) return 0;
    return static_cast<std::int64_t>(timegm(&tm));
}

// The subjectAltName entries (san.hpp): wolfSSL's compatibility layer in this build reports
// dNSName entries but drops iPAddress ones.
void collect_names(const std::vector<unsigned char>& der, certificate& c) {
    alt_names names;
    read_alt_names(der, names);
    for (const std::string& d : names.dns) c.dns_names.push_back(ascii_lower(d));
    for (const auto& a : names.ip) {
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(a.size() == 4 ? AF_INET : AF_INET6, a.data(), text, sizeof text);
        c.ip_names.emplace_back(text);
    }
}

// Splits a PEM bundle into DER certificates, in order, keeping a clean PEM copy (no comments
// or other blocks between them).
bool split_pem_chain(std::string_view pem, std::vector<std::vector<unsigned char>>& out,
                     std::string& pem_out) {
    static constexpr std::string_view begin = "-----BEGIN CERTIFICATE-----";
    static constexpr std::string_view end = "-----END CERTIFICATE-----";
    std::size_t pos = 0;
    while ((pos = pem.find(begin, pos)) != std::string_view::npos) {
        std::size_t stop = pem.find(end, pos);
        if (stop == std::string_view::npos) return false;
        stop += end.size();
        std::string_view block = pem.substr(pos, stop - pos);
        std::vector<unsigned char> der(block.size());
        int n = wc_CertPemToDer(reinterpret_cast<const unsigned char*>(block.data()),
                                static_cast<int>(block.size()), der.data(),
                                static_cast<int>(der.size()), CERT_TYPE);
        if (n <= 0) return false;
        der.resize(static_cast<std::size_t>(n));
        out.push_back(std::move(der));
        pem_out.append(block).push_back('\n');
        pos = stop;
    }
    return true;
}

bool read_file(const std::string& path, std::string& out, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

} // namespace

result<certificate> parse_certificate(std::string_view cert_pem, std::string_view key_pem,
                                      std::int64_t now, std::string_view cert_label,
                                      std::string_view key_label, std::string& error) {
    init_library();
    std::string cl(cert_label), kl(key_label);
    certificate c;
    if (!split_pem_chain(cert_pem, c.chain_der, c.chain_pem)) {
        return fail_msg(errno_code(EINVAL), error, cl + ": malformed PEM certificate block");
    }
    if (c.chain_der.empty())
        return fail_msg(errno_code(EINVAL), error, cl + ": no certificate found (expected PEM)");

    std::vector<x509_ptr> chain;
    for (auto& der : c.chain_der) {
        chain.emplace_back(wolfSSL_X509_load_certificate_buffer(
            der.data(), static_cast<int>(der.size()), WOLFSSL_FILETYPE_ASN1));
        if (!chain.back()) {
            return fail_msg(errno_code(EINVAL), error,
                            cl + ": certificate " + std::to_string(chain.size()) +
                                " does not parse");
        }
    }
    WOLFSSL_X509* leaf = chain.front().get();
    if (char* s = wolfSSL_X509_NAME_oneline(wolfSSL_X509_get_subject_name(leaf), nullptr, 0)) {
        c.subject = s;
        XFREE(s, nullptr, DYNAMIC_TYPE_OPENSSL);
    }
    c.not_before = to_unix(wolfSSL_X509_get_notBefore(leaf));
    c.not_after = to_unix(wolfSSL_X509_get_notAfter(leaf));
    collect_names(c.chain_der.front(), c);

    // Ordered chain: each certificate is signed by the next one.
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        WOLFSSL_X509* child = chain[i].get();
        WOLFSSL_X509* parent = chain[i + 1].get();
        bool names_match = wolfSSL_X509_NAME_cmp(wolfSSL_X509_get_issuer_name(child),
                                                 wolfSSL_X509_get_subject_name(parent)) == 0;
        WOLFSSL_EVP_PKEY* pk = wolfSSL_X509_get_pubkey(parent);
        bool sig_ok = pk && wolfSSL_X509_verify(child, pk) == WOLFSSL_SUCCESS;
        if (pk) wolfSSL_EVP_PKEY_free(pk);
        if (!names_match || !sig_ok) {
            return fail_msg(errno_code(EINVAL), error,
                            cl + ": chain out of order: certificate " + std::to_string(i + 1) +
                                " is not issued by certificate " + std::to_string(i + 2) +
                                " (list the leaf first, then each issuer)");
        }
    }

    if (now < c.not_before)
        return fail_msg(errno_code(EINVAL), error, cl + ": certificate is not valid yet");
    if (now >= c.not_after)
        return fail_msg(errno_code(EINVAL), error, cl + ": certificate has expired");

    // The private key: EC or RSA, PEM (traditional or PKCS#8).
    std::vector<unsigned char> key(key_pem.size() + 1);
    int n = wc_KeyPemToDer(reinterpret_cast<const unsigned char*>(key_pem.data()),
                           static_cast<int>(key_pem.size()), key.data(),
                           static_cast<int>(key.size()), nullptr);
    if (n <= 0)
        return fail_msg(errno_code(EINVAL), error, kl + ": no private key found (expected PEM)");
    key.resize(static_cast<std::size_t>(n));
    c.key_der = std::move(key);
    c.key_is_rsa = wolfSSL_X509_get_pubkey_type(leaf) == RSAk;

    // The key matches the leaf: let a scratch context check the pair.
    ctx_ptr ctx(wolfSSL_CTX_new(wolfSSLv23_server_method()));
    bool ok = ctx &&
              wolfSSL_CTX_use_certificate_buffer(ctx.get(), c.chain_der[0].data(),
                                                 static_cast<long>(c.chain_der[0].size()),
                                                 WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS &&
              wolfSSL_CTX_use_PrivateKey_buffer(ctx.get(), c.key_der.data(),
                                                static_cast<long>(c.key_der.size()),
                                                WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS &&
              wolfSSL_CTX_check_private_key(ctx.get()) == WOLFSSL_SUCCESS;
    if (!ok)
        return fail_msg(errno_code(EINVAL), error,
                        kl + ": private key does not match the certificate in " + cl);
    return c;
}

result<certificate> load_certificate_files(const std::string& cert_path,
                                           const std::string& key_path, std::int64_t now,
                                           std::string& error) {
    std::string cert_pem, key_pem;
    if (!read_file(cert_path, cert_pem, error) || !read_file(key_path, key_pem, error)) {
        return fail_errno(ENOENT);
    }
    return parse_certificate(cert_pem, key_pem, now, cert_path, key_path, error);
}

bool covers(const certificate& c, std::string_view host) {
    for (const std::string& name : c.dns_names) {
        if (name == host) return true;
        if (name.size() > 2 && name[0] == '*' && name[1] == '.') {
            std::size_t dot = host.find('.');
            if (dot != std::string_view::npos && dot > 0 &&
                host.substr(dot + 1) == std::string_view(name).substr(2)) {
                return true;
            }
        }
    }
    for (const std::string& ip : c.ip_names) {
        if (ip == host) return true;
    }
    return false;
}

std::vector<std::string> uncovered_hosts(const certificate& c, std::span<const std::string> hosts) {
    std::vector<std::string> out;
    for (const std::string& h : hosts) {
        if (!covers(c, h)) out.push_back(h);
    }
    return out;
}

} // namespace ringlet::tls
