// cert_table: one immutable generation of everything a reactor needs to pick and serve a
// certificate: the certificates, their per-reactor WOLFSSL_CTXs, the names they answer to, and
// the session ticket keys. The control thread builds a complete table and publishes it (RCU);
// reactors only read it. Later issues add OCSP staples and ACME challenge entries per entry.
//
// Lookup by SNI (already lower-cased or not: find() folds case): the exact name, then a
// one-label wildcard ("a.example.com" -> "*.example.com"), then the default entry (the first
// certificate) unless the table is strict, in which case null and the caller sends the
// unrecognized_name alert.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/tls/certificate.hpp"
#include "ringlet/tls/ticket_keys.hpp"
#include "ringlet/tls/wolfssl.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ringlet::tls {

struct cert_entry {
    certificate cert;
    ticket_context tickets;        // what this entry's contexts seal tickets with
    std::vector<ctx_ptr> contexts; // index: reactor
};

struct cert_source {
    certificate cert;
    std::vector<std::string> names; // the hosts this certificate answers (exact or "*.x")
};

class cert_table {
public:
    // Builds contexts for `reactors` reactors. Entries keep their order; the first is the default.
    static result<std::shared_ptr<const cert_table>>
    build(std::vector<cert_source> sources, unsigned reactors,
          std::shared_ptr<const ticket_keys> keys, bool strict_sni, std::uint64_t generation,
          std::string& error);

    const cert_entry* find(std::string_view server_name) const noexcept;
    WOLFSSL_CTX* context(const cert_entry& e, unsigned reactor) const noexcept {
        return e.contexts[reactor].get();
    }

    std::uint64_t generation() const noexcept { return generation_; }
    const std::vector<std::unique_ptr<cert_entry>>& entries() const noexcept { return entries_; }
    const std::shared_ptr<const ticket_keys>& keys() const noexcept { return keys_; }

private:
    struct sv_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    using name_map = std::unordered_map<std::string, const cert_entry*, sv_hash, std::equal_to<>>;

    std::vector<std::unique_ptr<cert_entry>> entries_;
    name_map exact_,
        wildcard_; // wildcard_ is keyed by the parent: "example.com" for "*.example.com"
    std::shared_ptr<const ticket_keys> keys_;
    bool strict_ = false;
    std::uint64_t generation_ = 0;
};

} // namespace ringlet::tls
